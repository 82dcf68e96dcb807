/* The training phase of the linear model (section 2 of docs/papers/rehearsal.md,
 * after Lin et al. 2023): gradient descent on the squared loss started at w and
 * run until the training loss is zero ends at the interpolating solution
 * closest to w,
 *     Train(w; A, y) = w + A^T (A A^T)^{-1} (y - A w),
 * computed here in closed form (Cholesky of the K x K Gram matrix, double
 * precision, LAPACK) rather than by gradient descent. */
#include <cblas.h>
#include <lapacke.h>
#include "rehearsal/rehearsal.h"

int rh_minnorm_update(double *w, const double *A, const double *y, int K, int p, double *work)
{
    if (K <= 0) return 0;
    double *G = work, *r = work + (size_t)K * K;
    /* G = A A^T (upper triangle) */
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, K, p, 1.0, A, p, 0.0, G, K);
    /* r = y - A w */
    for (int k = 0; k < K; k++) r[k] = y[k];
    cblas_dgemv(CblasRowMajor, CblasNoTrans, K, p, -1.0, A, p, w, 1, 1.0, r, 1);
    /* the row-major upper triangle is the column-major lower one: no transposed copies */
    lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', K, G, K);
    if (info != 0) return (int)info;
    info = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'L', K, 1, G, K, r, K);
    if (info != 0) return (int)info;
    /* w += A^T r */
    cblas_dgemv(CblasRowMajor, CblasTrans, K, p, 1.0, A, p, r, 1, 1.0, w, 1);
    return 0;
}

int rh_minnorm_update_gram(double *w, const double *const *rows, const double *y, int K, int p, double *G, double *r)
{
    if (K <= 0) return 0;
    for (int k = 0; k < K; k++) r[k] = y[k] - cblas_ddot(p, rows[k], 1, w, 1);
    lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', K, G, K);
    if (info != 0) return (int)info;
    info = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'L', K, 1, G, K, r, K);
    if (info != 0) return (int)info;
    for (int k = 0; k < K; k++) cblas_daxpy(p, r[k], rows[k], 1, w, 1);
    return 0;
}
