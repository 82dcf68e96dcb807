/* Exact minimum-cost assignment (Hungarian method with potentials, O(n^2 m)). */
#ifndef RTDETR_HUNGARIAN_H
#define RTDETR_HUNGARIAN_H

/* cost: n x m row-major, n <= m. On return row_to_col[i] is the column given
 * to row i (all distinct) minimising the summed cost. Returns the minimum
 * cost, or NAN when n > m or memory runs out. */
double hungarian_assign(const double *cost, int n, int m, int *row_to_col);

#endif
