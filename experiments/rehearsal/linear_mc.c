/* Monte-Carlo over draws for one grid point: every strategy runs on the same
 * draws (paired differences), draws are spread over OpenMP threads but each
 * draw's randomness is keyed by (seed, stream + draw) and the sums are taken
 * in draw order afterwards, so the numbers do not depend on the thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "rehearsal/rehearsal.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* mean and standard error of the mean of v[0..n) (stride st) */
static void mean_se(const double *v, int n, int st, double *mean, double *se)
{
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) s += v[(size_t)i * st];
    double m = s / n;
    for (int i = 0; i < n; i++) s2 += (v[(size_t)i * st] - m) * (v[(size_t)i * st] - m);
    *mean = m;
    *se = n > 1 ? sqrt(s2 / (n - 1) / n) : 0;
}

int rh_lin_point(const rh_lin_problem *P, const double *dvals, int nd, int reps, int sr_reverse, int untrained,
                 uint64_t seed, uint64_t stream, rh_point *out)
{
    rh_draw *d = calloc((size_t)reps * nd, sizeof(rh_draw));
    double *tmp = malloc(sizeof(double) * (size_t)reps * 2);
    if (!d || !tmp) { free(d); free(tmp); return -1; }
    int fail = 0;
#pragma omp parallel reduction(| : fail)
    {
        rh_lin_work *wk = rh_lin_work_new(P);
        if (!wk) fail = 1;
#pragma omp for schedule(dynamic, 2)
        for (int r = 0; r < reps; r++)
            if (wk && rh_lin_draw(P, dvals, nd, sr_reverse, untrained, seed, stream + (uint64_t)r, wk, &d[(size_t)r * nd]))
                fail = 1;
        rh_lin_work_free(wk);
    }
    if (fail) { free(d); free(tmp); return -1; }
    const int st = (int)(sizeof(rh_draw) / sizeof(double)) * nd;
    for (int q = 0; q < nd; q++) {
        rh_point *o = &out[q];
        const rh_draw *dq = d + q;
#define AT(r) dq[(size_t)(r) * nd]
        for (int s = 0; s < RH_NSTRAT; s++) {
            mean_se(&dq[0].F[s], reps, st, &o->F[s], &o->seF[s]);
            mean_se(&dq[0].G[s], reps, st, &o->G[s], &o->seG[s]);
            double se;
            mean_se(&dq[0].thF[s], reps, st, &o->thF[s], &se);
            mean_se(&dq[0].thG[s], reps, st, &o->thG[s], &se);
            for (int r = 0; r < reps; r++) {
                tmp[r] = AT(r).G[s] - AT(r).G[RH_CR];
                tmp[reps + r] = AT(r).F[s] - AT(r).F[RH_CR];
            }
            mean_se(tmp, reps, 1, &o->dG[s], &o->sedG[s]);
            mean_se(tmp + reps, reps, 1, &o->dF[s], &o->sedF[s]);
        }
        for (int r = 0; r < reps; r++) tmp[r] = AT(r).G[RH_CR];
        o->medG_cr = median(tmp, reps);
        for (int r = 0; r < reps; r++) tmp[r] = AT(r).G[RH_SR];
        o->medG_sr = median(tmp, reps);
#undef AT
    }
    free(tmp);
    free(d);
    return 0;
}
