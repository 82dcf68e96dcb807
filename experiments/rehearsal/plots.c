/* Figures: linear forgetting and generalization error against the similarity
 * knob (Monte-Carlo with standard-error bands, the section-2.1 closed form for
 * fresh buffers dashed, the crossover marked), the crossover on every
 * configuration, the hybrid on mixed clusters; deep accuracy matrices and the
 * final accuracy per strategy with standard-error bars. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dynlab/plot.h"
#include "rehearsal/rehearsal.h"

static void col(const rh_point *pts, int n, int strat, int what, double *out)
{
    for (int i = 0; i < n; i++) {
        const rh_point *q = &pts[i];
        switch (what) {
        case 0: out[i] = q->G[strat]; break;
        case 1: out[i] = q->seG[strat]; break;
        case 2: out[i] = q->thG[strat]; break;
        case 3: out[i] = q->F[strat]; break;
        case 4: out[i] = q->seF[strat]; break;
        case 5: out[i] = q->thF[strat]; break;
        case 6: out[i] = q->dG[strat]; break;
        default: out[i] = q->sedG[strat]; break;
        }
    }
}

void rh_linear_plots(const rh_cfg *c, dl_run *run, const rh_lin_results *L)
{
    const int nd = L->nd;
    double v[12][DL_LIST_MAX];
    double dstar = NAN;
    rh_crossover(L, 0, &dstar);
    double vl[RH_MAX_CONFIGS];
    int nvl = isfinite(dstar) ? 1 : 0;
    vl[0] = dstar;
    char title[160], cap[256];
    for (int f = 0; f < 2; f++) {
        const int m = f ? 3 : 0; /* G or F columns */
        col(L->U[0], nd, RH_NONE, m, v[0]);
        col(L->U[0], nd, RH_NONE, m + 1, v[1]);
        col(L->U[0], nd, RH_CR, m, v[2]);
        col(L->U[0], nd, RH_CR, m + 1, v[3]);
        col(L->U[0], nd, RH_SR, m, v[4]);
        col(L->U[0], nd, RH_SR, m + 1, v[5]);
        col(L->U[0], nd, RH_CR, m + 2, v[6]);
        col(L->U[0], nd, RH_SR, m + 2, v[7]);
        col(L->U[0], nd, RH_NONE, m + 2, v[8]);
        dl_series s[6] = {
            {"no rehearsal", L->d, v[0], nd, v[1], 0},
            {"concurrent (CR)", L->d, v[2], nd, v[3], 0},
            {"sequential (SR)", L->d, v[4], nd, v[5], 0},
            {"CR, closed form (fresh buffers)", L->d, v[6], nd, NULL, 1},
            {"SR, closed form (fresh buffers)", L->d, v[7], nd, NULL, 1},
            {"none, closed form", L->d, v[8], nd, NULL, 1},
        };
        snprintf(title, sizeof title, "%s, p=%d n=%d M=%d T=%d, s=%.2g, %d draws", f ? "Forgetting F_T" : "Generalization error G_T",
                 L->p[0], L->n[0], L->M[0], L->T[0], c->noise, c->reps);
        dl_plot_opts o = {.title = title, .xlabel = "task dissimilarity d (w*_t = c + d u_t)",
                          .ylabel = f ? "forgetting" : "generalization error", .flags = DL_PLOT_LINESPOINTS,
                          .vlines = vl, .n_vlines = nvl, .vline_label = "crossover d*"};
        snprintf(cap, sizeof cap, "%s of the three strategies against task dissimilarity (mean and one standard error over "
                 "draws; dashed: the closed form for fresh buffer samples; vertical line: where SR starts to beat CR)",
                 f ? "Forgetting" : "Generalization error");
        dl_plot_lines(run, f ? "linear_forgetting_vs_similarity" : "linear_generalization_vs_similarity", cap, &o, s, 6);
    }
    /* G_SR - G_CR on every configuration */
    {
        dl_series s[RH_MAX_CONFIGS + 1];
        static char names[RH_MAX_CONFIGS][64];
        double zero[DL_LIST_MAX] = {0};
        int ns = 0;
        nvl = 0;
        static double dv[RH_MAX_CONFIGS][2][DL_LIST_MAX];
        for (int k = 0; k < L->nconf; k++) {
            col(L->U[k], nd, RH_SR, 6, dv[k][0]);
            col(L->U[k], nd, RH_SR, 7, dv[k][1]);
            snprintf(names[k], sizeof names[k], "p=%d n=%d M=%d T=%d", L->p[k], L->n[k], L->M[k], L->T[k]);
            s[ns++] = (dl_series){names[k], L->d, dv[k][0], nd, dv[k][1], 0};
            double ds;
            rh_crossover(L, k, &ds);
            if (isfinite(ds)) vl[nvl++] = ds;
        }
        s[ns++] = (dl_series){"0", L->d, zero, nd, NULL, 1};
        dl_plot_opts o = {.title = "G_SR - G_CR against dissimilarity, every configuration", .xlabel = "task dissimilarity d",
                          .ylabel = "G_SR - G_CR", .flags = DL_PLOT_LINESPOINTS, .vlines = vl, .n_vlines = nvl,
                          .vline_label = "crossovers d*"};
        dl_plot_lines(run, "linear_crossover_all_configs",
                      "Paired difference of generalization error, sequential minus concurrent rehearsal (one standard "
                      "error band), on each problem size; negative: sequential is better", &o, s, ns);
    }
    /* hybrid on two alternating clusters (first configuration) */
    {
        const int nh = L->nh;
        col(L->C[0], nh, RH_CR, 0, v[0]); col(L->C[0], nh, RH_CR, 1, v[1]);
        col(L->C[0], nh, RH_SR, 0, v[2]); col(L->C[0], nh, RH_SR, 1, v[3]);
        col(L->C[0], nh, RH_HR, 0, v[4]); col(L->C[0], nh, RH_HR, 1, v[5]);
        col(L->C[0], nh, RH_NONE, 0, v[6]); col(L->C[0], nh, RH_NONE, 1, v[7]);
        col(L->C[0], nh, RH_HR, 2, v[8]);
        dl_series s[5] = {
            {"concurrent (CR)", L->dh, v[0], nh, v[1], 0},
            {"sequential (SR)", L->dh, v[2], nh, v[3], 0},
            {"hybrid (HR, oracle grouping)", L->dh, v[4], nh, v[5], 0},
            {"no rehearsal", L->dh, v[6], nh, v[7], 0},
            {"HR, closed form (fresh buffers)", L->dh, v[8], nh, NULL, 1},
        };
        snprintf(title, sizeof title, "Two alternating clusters, p=%d n=%d M=%d T=%d", L->p[0], L->n[0], L->M[0], L->TC[0]);
        dl_plot_opts o = {.title = title, .xlabel = "cluster separation d", .ylabel = "generalization error",
                          .flags = DL_PLOT_LINESPOINTS};
        dl_plot_lines(run, "linear_hybrid_vs_separation",
                      "Generalization error of the hybrid (similar tasks concurrently, dissimilar ones sequentially) "
                      "against CR and SR on two alternating task clusters", &o, s, 5);
    }
}

void rh_deep_plots(dl_run *run, const rh_deep_summary *D, int n_fam)
{
    char stem[96], cap[256], title[128];
    static const char *const titles[RH_DEEP_NSTRAT] = {"none", "CR", "SR", "HR (class family)", "HR (data similarity)"};
    for (int f = 0; f < n_fam; f++) {
        const rh_deep_summary *d = &D[f];
        const int T = d->T;
        double m[RH_DEEP_NSTRAT][RH_MAX_T * RH_MAX_T];
        const double *ms[RH_DEEP_NSTRAT];
        for (int s = 0; s < RH_DEEP_NSTRAT; s++) {
            for (int t = 0; t < T; t++)
                for (int i = 0; i < T; i++) m[s][t * T + i] = d->acc_mean[s][t][i];
            ms[s] = m[s];
        }
        snprintf(stem, sizeof stem, "deep_%s_accuracy_matrices", d->family);
        snprintf(title, sizeof title, "%s Fashion-MNIST: test accuracy on task i (column) after task t (row), mean of %d seeds",
                 d->family, d->seeds);
        snprintf(cap, sizeof cap, "Accuracy matrices of the %s Fashion-MNIST task sequence, one per strategy", d->family);
        dl_heatmap_opts ho = {.title = title, .xlabel = "evaluated task i", .ylabel = "after training task t",
                              .vmin = 0, .vmax = 1, .shared_range = 1, .annotate = 1};
        dl_plot_heatmaps_ex(run, stem, cap, &ho, titles, ms, RH_DEEP_NSTRAT, T, T);
    }
    /* final average accuracy per strategy, mean +- one standard error over seeds */
    double x[2][RH_DEEP_NSTRAT], y[2][RH_DEEP_NSTRAT], bx[2][3 * RH_DEEP_NSTRAT], by[2][3 * RH_DEEP_NSTRAT];
    dl_series s[4];
    static char names[2][2][64];
    int ns = 0;
    for (int f = 0; f < n_fam && f < 2; f++) {
        const rh_deep_summary *d = &D[f];
        for (int k = 0; k < RH_DEEP_NSTRAT; k++) {
            double mm = 0, m2 = 0;
            for (int q = 0; q < d->seeds; q++) mm += d->ACC[(size_t)q * RH_DEEP_NSTRAT + k];
            mm /= d->seeds;
            for (int q = 0; q < d->seeds; q++) {
                double u = d->ACC[(size_t)q * RH_DEEP_NSTRAT + k] - mm;
                m2 += u * u;
            }
            double se = d->seeds > 1 ? sqrt(m2 / (d->seeds - 1) / d->seeds) : 0;
            x[f][k] = k + 0.1 * f; y[f][k] = mm;
            /* an error bar: a vertical segment, NaN breaks the line between bars */
            bx[f][3 * k] = bx[f][3 * k + 1] = x[f][k]; bx[f][3 * k + 2] = NAN;
            by[f][3 * k] = mm - se; by[f][3 * k + 1] = mm + se; by[f][3 * k + 2] = NAN;
        }
        snprintf(names[f][0], sizeof names[f][0], "%s: mean final accuracy", d->family);
        snprintf(names[f][1], sizeof names[f][1], "%s: +- 1 standard error", d->family);
        s[ns++] = (dl_series){names[f][0], x[f], y[f], RH_DEEP_NSTRAT, NULL, 0};
        s[ns++] = (dl_series){names[f][1], bx[f], by[f], 3 * RH_DEEP_NSTRAT, NULL, 0};
    }
    dl_plot_opts o = {.title = "Final average accuracy: 0 none, 1 CR, 2 SR, 3 HR (class family), 4 HR (data similarity)",
                      .xlabel = "strategy", .ylabel = "final average test accuracy", .flags = DL_PLOT_LINESPOINTS,
                      .xmin = -0.5, .xmax = RH_DEEP_NSTRAT - 0.5};
    dl_plot_lines(run, "deep_final_accuracy_per_strategy",
                  "Final average accuracy per strategy (x: 0 none, 1 CR, 2 SR, 3 HR by class family, 4 HR by data "
                  "similarity) with one-standard-error bars over seeds, per task family", &o, s, ns);
}
