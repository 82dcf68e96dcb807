/* Hungarian method with row/column potentials and shortest augmenting paths
 * (Kuhn-Munkres in the Jonker-Volgenant form): exact, O(n^2 m). DETR-style
 * set prediction matches the n ground-truth boxes of an image to m >= n
 * queries with it (RT-DETR, arXiv 2304.08069, Sec. 4, HungarianMatcher). */
#include "rtdetr/hungarian.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t hungarian_work_bytes(int n, int m)
{
    return sizeof(double) * ((size_t)n + 1 + 2 * ((size_t)m + 1)) + sizeof(int) * 2 * ((size_t)m + 1) + (size_t)m + 1;
}

double hungarian_assign_work(const double *cost, int n, int m, int *row_to_col, void *work)
{
    if (n > m) return NAN;
    if (n == 0) return 0;
    /* 1-based arrays, column 0 is the virtual start */
    double *u = work, *v = u + n + 1, *minv = v + m + 1;
    int *p = (int *)(minv + m + 1), *way = p + m + 1;
    char *used = (char *)(way + m + 1);
    memset(u, 0, sizeof(double) * ((size_t)n + 1));
    memset(v, 0, sizeof(double) * ((size_t)m + 1));
    memset(p, 0, sizeof(int) * ((size_t)m + 1));
    memset(way, 0, sizeof(int) * ((size_t)m + 1));
    double total;
    for (int i = 1; i <= n; i++) {
        p[0] = i;
        int j0 = 0;
        for (int j = 0; j <= m; j++) { minv[j] = INFINITY; used[j] = 0; }
        do {
            used[j0] = 1;
            int i0 = p[j0], j1 = 0;
            double delta = INFINITY;
            for (int j = 1; j <= m; j++)
                if (!used[j]) {
                    double cur = cost[(size_t)(i0 - 1) * (size_t)m + (size_t)(j - 1)] - u[i0] - v[j];
                    if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
                    if (minv[j] < delta) { delta = minv[j]; j1 = j; }
                }
            for (int j = 0; j <= m; j++)
                if (used[j]) { u[p[j]] += delta; v[j] -= delta; }
                else minv[j] -= delta;
            j0 = j1;
        } while (p[j0] != 0);
        do {
            int j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0);
    }
    total = 0;
    for (int j = 1; j <= m; j++)
        if (p[j]) {
            row_to_col[p[j] - 1] = j - 1;
            total += cost[(size_t)(p[j] - 1) * (size_t)m + (size_t)(j - 1)];
        }
    return total;
}

double hungarian_assign(const double *cost, int n, int m, int *row_to_col)
{
    if (n > m) return NAN;
    void *w = malloc(hungarian_work_bytes(n, m));
    if (!w) return NAN;
    double t = hungarian_assign_work(cost, n, m, row_to_col, w);
    free(w);
    return t;
}
