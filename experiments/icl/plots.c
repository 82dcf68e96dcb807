/* Plots of the icl experiment: attention on relevant vs irrelevant features
 * (log step axis), the oscillation close-up, the logits, steps to convergence
 * vs L with the threshold, and the prediction error on unseen functions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "dynlab/plot.h"
#include "icl/icl.h"

static void attention_plot(dl_run *run, const icl_cfg *c, const icl_trace *t) {
    dl_series s[ICL_MAX_K + 1];
    char names[ICL_MAX_K][48];
    double *irr = malloc(sizeof(double) * (size_t)t->n * c->K);
    if (!irr) return;
    s[0] = (dl_series){"relevant feature (query's own)", t->step, t->rel_mass, t->n, NULL, 0};
    for (int j = 0; j < c->K; j++) {
        for (int i = 0; i < t->n; i++) irr[(size_t)j * t->n + i] = t->irr_mass[(size_t)i * c->K + j];
        snprintf(names[j], sizeof names[j], "irrelevant feature %d%s", j + 1, j == 0 ? " (dominant)" : "");
        s[j + 1] = (dl_series){names[j], t->step, irr + (size_t)j * t->n, t->n, NULL, 0};
    }
    dl_plot_opts o = {.title = "Query attention mass per feature", .xlabel = "gradient step",
                      .ylabel = "attention mass", .flags = DL_PLOT_LOGX, .ymin = 0, .ymax = 1};
    char cap[256];
    snprintf(cap, sizeof cap,
             "Attention mass of the query on tokens of its own feature versus each irrelevant feature over "
             "training (log step axis; L=%g, K=%d, N=%d, dominant p=%.2f)",
             c->L, c->K, c->N, c->dominant_p);
    dl_plot_lines(run, "attention_relevant_vs_irrelevant", cap, &o, s, c->K + 1);
    free(irr);
}

static void logits_plot(dl_run *run, const icl_cfg *c, const icl_trace *t) {
    double *x = malloc(sizeof(double) * (size_t)t->ns), *b = malloc(sizeof(double) * (size_t)t->ns);
    if (!x || !b) { free(x); free(b); return; }
    for (int i = 0; i < t->ns; i++) {
        x[i] = i;
        double s = 0;
        for (int j = 0; j < c->K; j++) s += t->Bl[(size_t)i * c->K + j];
        b[i] = -s / c->K;
    }
    dl_series s[2] = {{"relevant logit A (mean W[k][k])", x, t->A, t->ns, NULL, 0},
                      {"minus irrelevant logit -B (mean W[j][k], j != k)", x, b, t->ns, NULL, 0}};
    dl_plot_opts o = {.title = "Attention logits", .xlabel = "gradient step", .ylabel = "logit",
                      .flags = DL_PLOT_LOGX};
    dl_plot_lines(run, "logits_relevant_vs_irrelevant",
                  "Relevant logit rise versus irrelevant logit fall (sign flipped) per step: the relevant one "
                  "moves K-1 times faster: the mean irrelevant logit is -A/(K-1), a softmax shift invariance",
                  &o, s, 2);
    free(x);
    free(b);
}

static void oscillation_plot(dl_run *run, const icl_cfg *c, const icl_trace *t) {
    icl_osc os;
    icl_oscillation(t, c->K, &os);
    const int j = os.best_j, k = os.best_k, K = c->K;
    double *x = malloc(sizeof(double) * (size_t)t->ns), *y = malloc(sizeof(double) * (size_t)t->ns);
    if (!x || !y) { free(x); free(y); return; }
    /* window: around the steps where the difference changes sign */
    int first = -1, last = -1, lastsign = 0;
    for (int i = 1; i < t->ns; i++) {
        double df = t->Wk[((size_t)i * K + j) * K + k] - t->Wk[((size_t)(i - 1) * K + j) * K + k];
        if (fabs(df) <= 1e-6) continue;
        int sg = df > 0 ? 1 : -1;
        if (lastsign && sg != lastsign) { if (first < 0) first = i; last = i; }
        lastsign = sg;
    }
    int lo = 0, hi = t->ns - 1;
    if (first >= 0) {
        int w = (last - first) / 2 + 20;
        lo = first - w * 4 > 0 ? first - w * 4 : 0;
        hi = last + w * 4 < t->ns - 1 ? last + w * 4 : t->ns - 1;
    }
    int n = 0;
    for (int i = lo; i <= hi; i++) { x[n] = i; y[n] = t->Wk[((size_t)i * K + j) * K + k]; n++; }
    char name[160], title[128], cap[256];
    snprintf(name, sizeof name, "irrelevant logit W[%d][%d] (feature %d seen from a feature-%d query)", j + 1, k + 1,
             j + 1, k + 1);
    snprintf(title, sizeof title, "Oscillation close-up: %d sign changes of the step difference", os.best);
    dl_series s = {name, x, y, n, NULL, 0};
    dl_plot_opts o = {.title = title, .xlabel = "gradient step", .ylabel = "logit", .flags = DL_PLOT_KEY_BELOW};
    snprintf(cap, sizeof cap,
             "Close-up of the irrelevant logit with the most sign changes of its step-to-step difference "
             "(%d over all %d irrelevant pairs)",
             os.total, K * (K - 1));
    dl_plot_lines(run, "irrelevant_logit_oscillation_closeup", cap, &o, &s, 1);
    free(x);
    free(y);
}

static void sweep_plot(dl_run *run, const icl_cfg *c, const icl_sweep *s) {
    double L[ICL_MAX_SWEEP], st[ICL_MAX_SWEEP], fit[ICL_MAX_SWEEP];
    int n = 0;
    for (int i = 0; i < s->n; i++)
        if (s->hit[i] >= 0) {
            L[n] = s->L[i];
            st[n] = s->steps[i];
            double lx = log(L[n]);
            fit[n] = exp(s->fit.y_break + (lx < s->fit.x_break ? s->fit.slope_lo : s->fit.slope_hi) *
                                              (lx - s->fit.x_break));
            n++;
        }
    double vl[2] = {exp(s->fit.x_break), s->L_pred};
    char fname[96], title[128], cap[320];
    snprintf(fname, sizeof fname, "two-segment fit: slopes %.2f / %.2f", s->fit.slope_lo, s->fit.slope_hi);
    dl_series ser[2] = {{"steps to normalised loss <= target", L, st, n, NULL, 0}, {fname, L, fit, n, NULL, 1}};
    snprintf(title, sizeof title, "Steps to convergence vs L (break at L=%.2f, construction predicts %.2f)", vl[0],
             vl[1]);
    dl_plot_opts o = {.title = title, .xlabel = "Lipschitz constant L", .ylabel = "gradient steps",
                      .flags = DL_PLOT_LOGX | DL_PLOT_LOGY | DL_PLOT_LINESPOINTS, .vlines = vl, .n_vlines = 2,
                      .vline_label = "measured break, predicted amp*sqrt(d)"};
    snprintf(cap, sizeof cap,
             "Gradient steps until the normalised query loss reaches %g versus the Lipschitz constant L (log-log), "
             "with the two-segment fit and the threshold (dotted: measured break and the construction's "
             "amp*sqrt(d))",
             c->target);
    dl_plot_lines(run, "steps_to_convergence_vs_L", cap, &o, ser, 2);
}

static void unseen_plot(dl_run *run, const icl_cfg *c, const icl_trace *t) {
    double *tol = malloc(sizeof(double) * (size_t)t->n);
    if (!tol) return;
    for (int i = 0; i < t->n; i++) tol[i] = 0.05;
    char nm[160];
    snprintf(nm, sizeof nm, "unseen family (%s)", c->unseen_family);
    char ns[200];
    snprintf(ns, sizeof ns, "training family (%s), new functions", c->train_family);
    dl_series s[3] = {{ns, t->step, t->nloss, t->n, NULL, 0},
                      {nm, t->step, t->nloss_unseen, t->n, NULL, 0},
                      {"tolerance 0.05 (claim 5)", t->step, tol, t->n, NULL, 1}};
    dl_plot_opts o = {.title = "Query prediction error on held-out prompts", .xlabel = "gradient step",
                      .ylabel = "MSE / MSE of uniform attention", .flags = DL_PLOT_LOGX | DL_PLOT_LOGY};
    dl_plot_lines(run, "prediction_error_unseen_functions",
                  "Normalised query prediction error on new functions of the training family and of the unseen "
                  "family versus step",
                  &o, s, 3);
    free(tol);
}

void icl_plots(dl_run *run, const icl_cfg *c, const icl_outcome *o) {
    attention_plot(run, c, &o->main.tr);
    oscillation_plot(run, c, &o->main.tr);
    if (o->have_sweep) sweep_plot(run, c, &o->sweep);
    unseen_plot(run, c, &o->main.tr);
    logits_plot(run, c, &o->main.tr);
}
