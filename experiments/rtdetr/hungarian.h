/* Exact minimum-cost assignment (Hungarian method with potentials, O(n^2 m)). */
#ifndef RTDETR_HUNGARIAN_H
#define RTDETR_HUNGARIAN_H

#include <stddef.h>

/* cost: n x m row-major, n <= m. On return row_to_col[i] is the column given
 * to row i (all distinct) minimising the summed cost. Returns the minimum
 * cost, or NAN when n > m or memory runs out. */
double hungarian_assign(const double *cost, int n, int m, int *row_to_col);

/* The same without allocating: work holds hungarian_work_bytes(n, m) bytes
 * (the training step takes it from the graph arena). */
size_t hungarian_work_bytes(int n, int m);
double hungarian_assign_work(const double *cost, int n, int m, int *row_to_col, void *work);

#endif
