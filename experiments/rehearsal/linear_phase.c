/* The linear part of the run: for every problem-size configuration, the
 * similarity sweep of family U (uniform similarity) and the mixed-cluster
 * family C (hybrid), plus one noisy point and one fresh-buffer check of the
 * closed form. One metrics row per grid point. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dynlab/run.h"
#include "rehearsal/rehearsal.h"

static uint64_t stream_of(int conf, int fam) { return (uint64_t)(conf * 8 + fam + 1) << 32; }

static void log_point(dl_run *run, int64_t row, const char *fam, int conf, const rh_lin_problem *P,
                      const rh_point *pt)
{
    dl_metrics_begin(run, row);
    dl_metrics_add_str(run, "part", "linear");
    dl_metrics_add_str(run, "family", fam);
    dl_metrics_add(run, "config", conf);
    dl_metrics_add(run, "p", P->p);
    dl_metrics_add(run, "n", P->n);
    dl_metrics_add(run, "M", P->M);
    dl_metrics_add(run, "T", P->T);
    dl_metrics_add(run, "s", P->s);
    dl_metrics_add(run, "d", P->d);
    static const char *key[RH_NSTRAT] = {"none", "cr", "sr", "hr", "sr_rev"};
    char k[64];
    for (int s = 0; s < RH_NSTRAT; s++) {
        if (isnan(pt->G[s])) continue;
        snprintf(k, sizeof k, "G_%s", key[s]); dl_metrics_add(run, k, pt->G[s]);
        snprintf(k, sizeof k, "F_%s", key[s]); dl_metrics_add(run, k, pt->F[s]);
        snprintf(k, sizeof k, "G_%s_theory_fresh", key[s]); dl_metrics_add(run, k, pt->thG[s]);
        snprintf(k, sizeof k, "F_%s_theory_fresh", key[s]); dl_metrics_add(run, k, pt->thF[s]);
        if (s != RH_CR) {
            snprintf(k, sizeof k, "dG_%s_minus_cr", key[s]); dl_metrics_add(run, k, pt->dG[s]);
            snprintf(k, sizeof k, "dG_%s_minus_cr_se", key[s]); dl_metrics_add(run, k, pt->sedG[s]);
            snprintf(k, sizeof k, "dF_%s_minus_cr", key[s]); dl_metrics_add(run, k, pt->dF[s]);
            snprintf(k, sizeof k, "dF_%s_minus_cr_se", key[s]); dl_metrics_add(run, k, pt->sedF[s]);
        }
    }
    dl_metrics_add(run, "median_G_cr", pt->medG_cr);
    dl_metrics_add(run, "median_G_sr", pt->medG_sr);
    dl_metrics_end(run);
}

int rh_linear_phase(const rh_cfg *c, dl_run *run, rh_lin_results *L)
{
    memset(L, 0, sizeof *L);
    const int nconf = c->lin_p.n;
    if (nconf < 1 || nconf > RH_MAX_CONFIGS || c->lin_n.n != nconf || c->lin_M.n != nconf || c->lin_T.n != nconf) {
        dl_log(run, "error: rehearsal: linear.p, linear.n, linear.M and linear.T must list the same number "
                    "(1..%d) of configurations", RH_MAX_CONFIGS);
        return -1;
    }
    const int untrained = dl_run_untrained(run);
    const int sr_rev = strcmp(c->sr_order, "new_to_old") == 0;
    const int fresh = strcmp(c->buffer, "fresh") == 0;
    L->nconf = nconf;
    L->nd = c->d_grid.n;
    L->nh = c->d_hybrid.n;
    for (int i = 0; i < L->nd; i++) L->d[i] = c->d_grid.v[i];
    for (int i = 0; i < L->nh; i++) L->dh[i] = c->d_hybrid.v[i];
    for (int k = 0; k < nconf; k++) {
        L->p[k] = (int)c->lin_p.v[k]; L->n[k] = (int)c->lin_n.v[k];
        L->M[k] = (int)c->lin_M.v[k]; L->T[k] = (int)c->lin_T.v[k];
        L->TC[k] = L->T[k] < 6 ? 6 : L->T[k]; /* family C alternates two clusters over at least six tasks */
        int Kmax = L->n[k] + (L->TC[k] - 1) * L->M[k];
        if (L->T[k] < 2 || L->TC[k] > RH_MAX_T || L->M[k] > L->n[k] || L->n[k] < 1 || L->p[k] < Kmax + 2) {
            dl_log(run, "error: rehearsal: linear configuration %d (p=%d n=%d M=%d T=%d) needs 2 <= T, "
                        "max(T,6) <= %d, M <= n and p >= n + (max(T,6)-1) M + 2 (overparameterized)",
                   k + 1, L->p[k], L->n[k], L->M[k], L->T[k], RH_MAX_T);
            return -1;
        }
    }
    /* the draws run in parallel (OpenMP); OpenBLAS itself stays on one thread per draw */
    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    const double t0 = dl_now();
    const int64_t total = (int64_t)nconf * 2 + 2;
    int64_t done = 0, row = 0;
    int rc = 0;
    for (int k = 0; k < nconf && !rc; k++) {
        rh_lin_problem P = {.p = L->p[k], .n = L->n[k], .M = L->M[k], .T = L->T[k], .s = c->noise,
                            .family = RH_FAM_U, .spread = c->cluster_spread, .tau_factor = c->tau_factor,
                            .fresh = fresh, .theory = k == 0};
        if (rh_lin_point(&P, L->d, L->nd, c->reps, sr_rev, untrained, run->seed, stream_of(k, 0), L->U[k])) rc = -1;
        for (int i = 0; i < L->nd && !rc; i++) {
            P.d = L->d[i];
            log_point(run, row++, "U", k + 1, &P, &L->U[k][i]);
        }
        dl_progress(run, "linear", ++done, total, NULL);
        P.family = RH_FAM_C;
        P.T = L->TC[k];
        if (!rc && rh_lin_point(&P, L->dh, L->nh, c->reps, sr_rev, untrained, run->seed, stream_of(k, 1), L->C[k])) rc = -1;
        for (int i = 0; i < L->nh && !rc; i++) {
            P.d = L->dh[i];
            log_point(run, row++, "C", k + 1, &P, &L->C[k][i]);
        }
        dl_progress(run, "linear", ++done, total, NULL);
    }
    if (!rc) {
        /* noisy identical tasks (reported, not gated: the ordering flips with noise) */
        rh_lin_problem P = {.p = L->p[0], .n = L->n[0], .M = L->M[0], .T = L->T[0], .s = c->noise_report,
                            .family = RH_FAM_U, .d = 0, .spread = c->cluster_spread, .fresh = fresh};
        double d0 = 0;
        if (rh_lin_point(&P, &d0, 1, c->reps, sr_rev, untrained, run->seed, stream_of(0, 2), &L->noisy)) rc = -1;
        else log_point(run, row++, "U_noisy", 1, &P, &L->noisy);
        dl_progress(run, "linear", ++done, total, NULL);
    }
    if (!rc) {
        /* the closed form's own case: deterministic ground truths, fresh buffer samples */
        rh_lin_problem P = {.p = L->p[0], .n = L->n[0], .M = L->M[0], .T = L->T[0], .s = 0,
                            .family = RH_FAM_E, .d = 1, .fresh = 1, .theory = 1};
        double d1 = 1;
        if (rh_lin_point(&P, &d1, 1, c->reps, sr_rev, untrained, run->seed, stream_of(0, 3), &L->fresh_check)) rc = -1;
        else log_point(run, row++, "E_fresh", 1, &P, &L->fresh_check);
        dl_progress(run, "linear", ++done, total, NULL);
    }
    openblas_set_num_threads(blas_threads);
    L->seconds = dl_now() - t0;
    if (rc) {
        dl_log(run, "error: rehearsal: a minimum-norm update failed (Gram matrix not positive definite)");
        return -1;
    }
    dl_final(run, "linear_seconds", L->seconds);
    return 0;
}
