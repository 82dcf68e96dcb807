/* The deep part of the run for one task family: `seeds` independent inner
 * seeds (data subset, initial weights and batch order each keyed by
 * (run seed, stream)), every strategy on the same draws. Seeds run in parallel
 * (OpenMP); each seed's result depends only on its keys, and the summaries are
 * taken in seed order, so the numbers do not depend on the thread count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/data.h"
#include "dynlab/run.h"
#include "rehearsal/rehearsal.h"

void rh_deep_summary_free(rh_deep_summary *D)
{
    free(D->ACC); free(D->FGT);
    D->ACC = D->FGT = NULL;
}

int rh_deep_phase(const rh_cfg *c, dl_run *run, const char *family, const dl_mnist *tr, const dl_mnist *te,
                  rh_deep_summary *D)
{
    memset(D, 0, sizeof *D);
    const int rotated = strcmp(family, "rotated") == 0, ns = c->seeds;
    snprintf(D->family, sizeof D->family, "%s", family);
    D->seeds = ns;
    D->ACC = calloc((size_t)ns * RH_DEEP_NSTRAT, sizeof(double));
    D->FGT = calloc((size_t)ns * RH_DEEP_NSTRAT, sizeof(double));
    rh_deep_result *res = calloc((size_t)ns, sizeof(rh_deep_result));
    int *T = calloc((size_t)ns, sizeof(int)), *C = calloc((size_t)ns, sizeof(int));
    if (!D->ACC || !D->FGT || !res || !T || !C) {
        free(res); free(T); free(C);
        dl_log(run, "error: rehearsal: out of memory");
        return -1;
    }
    rh_deep_opts o = {.hidden = c->hidden, .epochs = c->epochs, .batch = c->batch, .memory = c->memory,
                      .lr = c->lr, .untrained = dl_run_untrained(run)};
    const uint64_t fam_stream = rotated ? 0x200000 : 0x100000;
    const double t0 = dl_now();
    int fail = 0, done = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(| : fail)
    for (int k = 0; k < ns; k++) {
        rh_task_set S;
        int rc = rotated ? rh_rotated_fmnist(tr, te, c->n_train, c->n_test, run->seed, fam_stream + 16 * (uint64_t)k, &S)
                         : rh_split_fmnist(tr, te, c->n_train, c->n_test, run->seed, fam_stream + 16 * (uint64_t)k, &S);
        if (rc) { fail |= 1; continue; }
        T[k] = S.T; C[k] = S.C;
        if (rh_deep_run(&S, &o, run->seed, fam_stream + 16 * (uint64_t)k + 2, &res[k]) || res[k].nonfinite) fail |= 2;
        rh_task_set_free(&S);
#pragma omp critical(rh_progress)
        {
            done++;
            dl_progress(run, family, done, ns, NULL);
        }
    }
    D->wall = dl_now() - t0;
    if (fail & 1) {
        dl_log(run, "error: rehearsal: the %s Fashion-MNIST tasks need more images than were read "
                    "(data.subset too small for deep.n_train / deep.n_test)", family);
        free(res); free(T); free(C);
        return -1;
    }
    if (fail & 2) {
        dl_log(run, "error: rehearsal: %s: training loss is not finite (or out of memory)", family);
        free(res); free(T); free(C);
        return -1;
    }
    D->T = T[0]; D->C = C[0];
    for (int k = 0; k < ns; k++)
        for (int s = 0; s < RH_DEEP_NSTRAT; s++) {
            D->ACC[(size_t)k * RH_DEEP_NSTRAT + s] = res[k].ACC[s];
            D->FGT[(size_t)k * RH_DEEP_NSTRAT + s] = res[k].FGT[s];
            D->seconds[s] += res[k].seconds[s] / ns;
            D->replay_steps[s] += (double)res[k].replay_steps[s] / ns;
            for (int t = 0; t < D->T; t++)
                for (int i = 0; i < D->T; i++) D->acc_mean[s][t][i] += res[k].acc[s][t][i] / ns;
            dl_metrics_begin(run, k);
            dl_metrics_add_str(run, "part", "deep");
            dl_metrics_add_str(run, "family", family);
            dl_metrics_add(run, "inner_seed", k);
            dl_metrics_add_str(run, "strategy", rh_deep_name[s]);
            dl_metrics_add(run, "ACC", res[k].ACC[s]);
            dl_metrics_add(run, "FGT", res[k].FGT[s]);
            dl_metrics_add(run, "seconds", res[k].seconds[s]);
            dl_metrics_add(run, "replay_steps", (double)res[k].replay_steps[s]);
            dl_metrics_end(run);
        }
    free(res); free(T); free(C);
    /* summary per strategy: mean and standard error over seeds */
    char key[96];
    for (int s = 0; s < RH_DEEP_NSTRAT; s++) {
        double m = 0, m2 = 0, f = 0;
        for (int k = 0; k < ns; k++) { m += D->ACC[(size_t)k * RH_DEEP_NSTRAT + s]; f += D->FGT[(size_t)k * RH_DEEP_NSTRAT + s]; }
        m /= ns; f /= ns;
        for (int k = 0; k < ns; k++) {
            double u = D->ACC[(size_t)k * RH_DEEP_NSTRAT + s] - m;
            m2 += u * u;
        }
        double se = ns > 1 ? sqrt(m2 / (ns - 1) / ns) : 0;
        const char *nm = s == RH_D_HRDATA ? "hr_data" : s == RH_D_HR ? "hr_family" : s == RH_D_SR ? "sr" : s == RH_D_CR ? "cr" : "none";
        snprintf(key, sizeof key, "%s_ACC_%s", family, nm); dl_final(run, key, m);
        snprintf(key, sizeof key, "%s_ACC_%s_se", family, nm); dl_final(run, key, se);
        snprintf(key, sizeof key, "%s_FGT_%s", family, nm); dl_final(run, key, f);
        snprintf(key, sizeof key, "%s_seconds_per_run_%s", family, nm); dl_final(run, key, D->seconds[s]);
        snprintf(key, sizeof key, "%s_replay_steps_%s", family, nm); dl_final(run, key, D->replay_steps[s]);
        dl_log(run, "%s %-8s ACC %.4f (se %.4f)  FGT %.4f  %.2f s/run  %.0f replay steps", family, rh_deep_name[s], m, se,
               f, D->seconds[s], D->replay_steps[s]);
    }
    snprintf(key, sizeof key, "%s_wall_seconds", family);
    dl_final(run, key, D->wall);
    return 0;
}
