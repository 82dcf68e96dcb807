/* Figures: log-loss vs step with stage boundaries, routing heatmaps after each
 * stage, iterations-to-eps vs log(1/eps) with fitted lines, Fashion-MNIST test
 * error and routing histograms. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "dynlab/plot.h"
#include "mot/report.h"

void mot_plots(const mot_cfg *c, dl_run *run, const mot_synth_result *r, const mot_fm_result *easy,
               const mot_fm_result *hard)
{
    const int T = r->T, N = c->n_classes, M = c->n_experts;
    /* 1. training loss per step (log scale), stage boundaries */
    double *xs = malloc(sizeof(double) * (size_t)(T + 1));
    if (!xs) return;
    for (int s = 0; s <= T; s++) xs[s] = s;
    dl_series ls[4] = {
        {"MoT (three stages)", xs, r->train_trace[0], T + 1, NULL, 0},
        {"single 2-head transformer", xs, r->train_trace[1], T + 1, NULL, 0},
        {"attention-free MoE", xs, r->train_trace[2], T + 1, NULL, 0},
        {c->gate_all_tokens ? "MoT, gate reads the task identifier" : "MoT, gate over all tokens", xs, r->other_trace,
         T + 1, NULL, 1},
    };
    double vl[2] = {c->t1, c->t1 + c->t2};
    dl_plot_opts o = {.title = "Training loss (full batch) per step", .xlabel = "step",
                      .ylabel = "loss", .flags = DL_PLOT_LOGY, .vlines = vl, .n_vlines = 2,
                      .vline_label = "stage boundary"};
    dl_plot_lines(run, "loss_vs_step_three_models", r->other_done ? "Log training loss of MoT, the single transformer and the attention-free MoE, and (dashed) MoT with the other gate setting (model.gate_all_tokens); vertical lines mark the ends of stages I and II" : "Log training loss of MoT, the single transformer and the attention-free MoE; vertical lines mark the ends of stages I and II", &o, ls, r->other_done ? 4 : 3);

    /* 2. routing heatmaps after each stage */
    double *ms[3];
    for (int k = 0; k < 3; k++) {
        ms[k] = malloc(sizeof(double) * (size_t)M * N);
        if (!ms[k]) { for (int j = 0; j < k; j++) free(ms[j]); free(xs); return; }
        for (int i = 0; i < M * N; i++) ms[k][i] = r->route_stage[k][i];
    }
    const char *titles[3] = {"after stage I", "after stage II", "after stage III"};
    const double *cms[3] = {ms[0], ms[1], ms[2]};
    dl_plot_heatmaps(run, "routing_heatmap_per_stage", "MoT routing matrix (experts x classes, test samples) after each stage", titles, cms, 3, M, N);
    for (int k = 0; k < 3; k++) free(ms[k]);

    /* 3. iterations to eps vs log(1/eps) with fitted lines */
    double ex[64], ey[64], fx[64], fy[64], sx[64], sy[64], sfy[64];
    int nm = 0, ns = 0;
    for (double e = 1e-1; e >= c->eps_lo * (1 - 1e-9) && nm < 64; e /= pow(10.0, 0.25)) {
        int t = mot_first_below(r->train_trace[0], T + 1, e);
        if (t >= 0 && e <= c->eps_hi * (1 + 1e-9)) { ex[nm] = log(1 / e); ey[nm] = t; nm++; }
        int ts = mot_first_below(r->train_trace[1], T + 1, e);
        if (ts > 0) { sx[ns] = log(1 / e); sy[ns] = ts; ns++; }
    }
    dl_series is[4];
    int ni = 0;
    if (nm >= 2) {
        double a, b;
        mot_fit_line(ex, ey, nm, &a, &b);
        for (int i = 0; i < nm; i++) { fx[i] = ex[i]; fy[i] = a + b * ex[i]; }
        is[ni++] = (dl_series){"MoT", ex, ey, nm, NULL, 0};
        is[ni++] = (dl_series){"MoT fit a + b log(1/eps)", fx, fy, nm, NULL, 1};
    }
    if (ns >= 2) {
        double lx[64], lyv[64], a, b;
        for (int i = 0; i < ns; i++) { lx[i] = sx[i]; lyv[i] = log(sy[i]); }
        mot_fit_line(lx, lyv, ns, &a, &b);
        for (int i = 0; i < ns; i++) sfy[i] = exp(a + b * sx[i]);
        is[ni++] = (dl_series){"single transformer", sx, sy, ns, NULL, 0};
        is[ni++] = (dl_series){"single fit C (1/eps)^b", sx, sfy, ns, NULL, 1};
    }
    if (ni > 0) {
        dl_plot_opts oi = {.title = "Iterations to reach training loss eps",
                           .xlabel = "log(1/eps)", .ylabel = "iterations",
                           .flags = DL_PLOT_LINESPOINTS};
        dl_plot_lines(run, "iterations_to_eps_vs_log_inv_eps", "Iterations to reach loss eps against log(1/eps): linear for MoT (O(log 1/eps)), power law for the single transformer", &oi, is, ni);
    }
    free(xs);

    /* 4. Fashion-MNIST test error and routing histograms */
    if (easy && hard) {
        dl_series fs[6] = {
            {"MoT (hard)", hard->step, hard->err[0], hard->n, NULL, 0},
            {"single (hard)", hard->step, hard->err[1], hard->n, NULL, 0},
            {"MoE (hard)", hard->step, hard->err[2], hard->n, NULL, 0},
            {"MoT (easy)", easy->step, easy->err[0], easy->n, NULL, 1},
            {"single (easy)", easy->step, easy->err[1], easy->n, NULL, 1},
            {"MoE (easy)", easy->step, easy->err[2], easy->n, NULL, 1},
        };
        double fv[2] = {c->fm_t1, c->fm_t1 + c->fm_t2};
        dl_plot_opts of = {.title = "Fashion-MNIST task mixture: test error", .xlabel = "step",
                           .ylabel = "test error", .vlines = fv, .n_vlines = 2,
                           .vline_label = "stage boundary"};
        dl_plot_lines(run, "fmnist_test_error_vs_step", "Fashion-MNIST test error of the three models on the hard (conflicting) and easy groupings", &of, fs, 6);
        int Mf = hard->M;
        double *vals = malloc(sizeof(double) * 2 * (size_t)Mf);
        char (*lab)[24] = malloc(sizeof(*lab) * (size_t)Mf);
        const char **labp = malloc(sizeof(char *) * (size_t)Mf);
        if (vals && lab && labp) {
            double te = 0, th = 0;
            for (int m = 0; m < Mf; m++) { te += easy->hist[m]; th += hard->hist[m]; }
            for (int m = 0; m < Mf; m++) {
                vals[m] = te > 0 ? easy->hist[m] / te : 0;
                vals[Mf + m] = th > 0 ? hard->hist[m] / th : 0;
                snprintf(lab[m], sizeof lab[m], "expert %d", m);
                labp[m] = lab[m];
            }
            const char *sn[2] = {"easy grouping", "hard grouping"};
            dl_plot_bars(run, "fmnist_routing_histogram_easy_vs_hard", "Share of Fashion-MNIST test samples routed to each MoT expert, easy vs hard grouping", "MoT routing histogram", "share of samples", labp, Mf, sn, vals, 2);
        }
        free(vals); free(lab); free(labp);
    }
}
