/* Plots: losses vs step, tracked KQ entries vs step (diagonal vs
 * off-diagonal), symmetry defect, accuracy by depth, attention heatmaps. */
#include "treepath/plots.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynlab/plot.h"

static dl_series col_series(const tp_history *h, int col, const char *name) {
    return (dl_series){name, h->step, h->col[col], h->n, NULL, 0};
}

static double *abs_copy(const tp_history *h, int col) {
    double *v = malloc(sizeof(double) * (size_t)(h->n ? h->n : 1));
    for (int i = 0; i < h->n; i++) v[i] = fabs(h->col[col][i]);
    return v;
}

void tp_plots_curves(dl_run *run, const tp_results *r) {
    /* Losses. */
    {
        dl_series s[2] = {col_series(&r->hb, TP_L_LOSS, "train loss (batch)"),
                          {"test loss (1,024 random trees)", r->hb.eval_step, r->hb.test_loss,
                           r->hb.n_eval, NULL, 0}};
        dl_plot_opts o = {.title = "Backward reasoning: squared loss",
                          .xlabel = "SGD step",
                          .ylabel = "loss per tree",
                          .flags = DL_PLOT_LOGY,
                          .vlines = NULL,
                          .n_vlines = 0,
                          .vline_label = NULL};
        dl_plot_lines(run, "loss_vs_step_backward", "Backward task: train and test loss vs step",
                      &o, s, 2);
    }
    {
        double v[4];
        int nv = 0;
        for (int k = 0; k < 4; k++)
            if (!isnan(r->phase_step[k])) v[nv++] = r->phase_step[k];
        dl_series s[6] = {col_series(&r->hf, TP_L_LOSS, "train loss (batch, per tree)"),
                          {"test loss (per tree)", r->hf.eval_step, r->hf.test_loss, r->hf.n_eval,
                           NULL, 0},
                          col_series(&r->hf, TP_L_STAGE, "stage-signal loss (per query)"),
                          col_series(&r->hf, TP_L_NODE_F, "node loss, forward stage"),
                          col_series(&r->hf, TP_L_NODE_B, "node loss, backward stage"),
                          col_series(&r->hf, TP_L_NODE_ROOT, "node loss at the root (switch)")};
        dl_plot_opts o = {.title = "Forward reasoning: loss and its phases",
                          .xlabel = "SGD step",
                          .ylabel = "loss",
                          .flags = DL_PLOT_LOGY,
                          .vlines = v,
                          .n_vlines = nv,
                          .vline_label = "component halves"};
        dl_plot_lines(run, "loss_vs_step_forward_phases",
                      "Forward task: train/test loss and per-component losses; markers where "
                      "each component first halves (distinct phases, claim 2)",
                      &o, s, 6);
    }
    {
        dl_series s[2] = {col_series(&r->hn, TP_L_LOSS, "no-CoT train loss"),
                          {"no-CoT test loss", r->hn.eval_step, r->hn.test_loss, r->hn.n_eval,
                           NULL, 0}};
        dl_plot_opts o = {.title = "No chain of thought: first root->goal step directly",
                          .xlabel = "SGD step",
                          .ylabel = "loss",
                          .flags = DL_PLOT_LOGY,
                          .vlines = NULL,
                          .n_vlines = 0,
                          .vline_label = NULL};
        dl_plot_lines(run, "loss_vs_step_nocot", "No-CoT baseline: loss stays high (claim 4)", &o,
                      s, 2);
    }
    /* Tracked parameter entries. */
    {
        dl_series s[4] = {col_series(&r->hb, TP_L_H11_0, "H_{1,1} = B[0,0]"),
                          col_series(&r->hb, TP_L_H12_0, "H_{1,2} = B[0,1]"),
                          col_series(&r->hb, TP_L_DIAG0, "mean diagonal"),
                          col_series(&r->hb, TP_L_OFF0, "mean off-diagonal")};
        dl_plot_opts o = {.title = "Backward: entries of H = A^T B A (one-hot A)",
                          .xlabel = "SGD step",
                          .ylabel = "value",
                          .flags = 0,
                          .vlines = NULL,
                          .n_vlines = 0,
                          .vline_label = NULL};
        dl_plot_lines(run, "H_entries_vs_step_backward",
                      "Backward: diagonal entry grows, off-diagonal stays small (claim 1)", &o, s,
                      4);
    }
    {
        int TE = TP_NTYPES;
        dl_series s[8] = {
            col_series(&r->hf, TP_L_DIAG0, "head 1 node block: mean diag"),
            col_series(&r->hf, TP_L_OFF0, "head 1 node block: mean off-diag"),
            col_series(&r->hf, TP_L_DIAG1, "head 2 node block: mean diag"),
            col_series(&r->hf, TP_L_OFF1, "head 2 node block: mean off-diag"),
            col_series(&r->hf, TP_L_T0 + TP_T_OUTB * TE + TP_T_EDGE, "head 1 type: stage b -> edge"),
            col_series(&r->hf, TP_L_T0 + TP_T_OUTF * TE + TP_T_OUTB, "head 1 type: stage f -> b-CoT"),
            col_series(&r->hf, TP_L_T1 + TP_T_OUTB * TE + TP_T_ROOT, "head 2 type: stage b -> root"),
            col_series(&r->hf, TP_L_T1 + TP_T_OUTF * TE + TP_T_OUTF, "head 2 type: stage f -> f-CoT")};
        dl_plot_opts o = {.title = "Forward: key-query entries per head",
                          .xlabel = "SGD step",
                          .ylabel = "value",
                          .flags = 0,
                          .vlines = NULL,
                          .n_vlines = 0,
                          .vline_label = NULL};
        dl_plot_lines(run, "kq_entries_vs_step_forward",
                      "Forward: node-block diagonal/off-diagonal and type-block entries of both "
                      "heads vs step",
                      &o, s, 8);
    }
    {
        dl_series s[2] = {col_series(&r->hs, TP_L_ASYM, "orbit (permutation-symmetric) batches"),
                          col_series(&r->hb, TP_L_ASYM, "random batches (backward run)")};
        dl_plot_opts o = {.title = "Symmetry defect of B",
                          .xlabel = "SGD step",
                          .ylabel = "max |B_ij - class mean| / max |B|",
                          .flags = DL_PLOT_LOGY,
                          .vlines = NULL,
                          .n_vlines = 0,
                          .vline_label = NULL};
        dl_plot_lines(run, "symmetry_defect_vs_step",
                      "Zero-init symmetry: defect stays at float rounding with symmetric data "
                      "(claim 5), grows with random minibatches",
                      &o, s, 2);
    }
    {
        double *hd = abs_copy(&r->hs, TP_L_DIAG0), *ho = abs_copy(&r->hs, TP_L_OFF0);
        dl_series s[2] = {{"mean diagonal", r->hs.step, hd, r->hs.n, NULL, 0},
                          {"|mean off-diagonal|", r->hs.step, ho, r->hs.n, NULL, 0}};
        dl_plot_opts o = {.title = "Symmetric-data run: B = a I + b (J - I)",
                          .xlabel = "SGD step",
                          .ylabel = "value",
                          .flags = DL_PLOT_LOGY,
                          .vlines = NULL,
                          .n_vlines = 0,
                          .vline_label = NULL};
        dl_plot_lines(run, "H_entries_vs_step_symmetric",
                      "Symmetric-data run: the two values of B vs step", &o, s, 2);
        free(hd);
        free(ho);
    }
    /* Accuracy by goal depth. */
    {
        int maxd = 1;
        for (int d = 1; d < TP_DEPTH_BINS; d++)
            if (r->evb.by_depth_n[d] + r->evf.by_depth_n[d] > 0) maxd = d;
        char lab[TP_DEPTH_BINS][16];
        const char *labels[TP_DEPTH_BINS];
        double vals[3 * TP_DEPTH_BINS];
        for (int d = 1; d <= maxd; d++) {
            snprintf(lab[d - 1], sizeof lab[0], "%d%s", d, d == TP_DEPTH_BINS - 1 ? "+" : "");
            labels[d - 1] = lab[d - 1];
            /* no bar (NaN) where a test set has no tree of that depth */
            vals[d - 1] = r->evb.by_depth_n[d] ? r->evb.by_depth_acc[d] : NAN;
            vals[maxd + d - 1] = r->evf.by_depth_n[d] ? r->evf.by_depth_acc[d] : NAN;
            vals[2 * maxd + d - 1] = r->evn.by_depth_n[d] ? r->evn.by_depth_acc[d] : NAN;
        }
        const char *names[3] = {"backward (CoT)", "forward (CoT)", "no CoT"};
        dl_plot_bars(run, "accuracy_by_depth", "Exact-path accuracy on unseen random trees by goal "
                     "depth (CoT vs no CoT)",
                     "Exact accuracy by goal depth", "accuracy", labels, maxd, names, vals, 3);
    }
}

static void token_label(const tp_token *z, char *buf, size_t n) {
    switch (z->type) {
        case TP_T_EDGE: snprintf(buf, n, "%d<%d", z->x, z->y); break;
        case TP_T_ROOT: snprintf(buf, n, "R%d", z->x); break;
        case TP_T_OUTB: snprintf(buf, n, z->y < 0 ? "G%d" : "b%d<%d", z->x, z->y); break;
        default: snprintf(buf, n, "f%d<%d", z->x, z->y); break;
    }
}

void tp_plots_attention(dl_run *run, const tp_model *m, const tp_tree *t, int task,
                        uint64_t seed, const char *prefix) {
    dl_rng r;
    dl_rng_init(&r, seed, 0x4ea7);
    int L = t->depth[t->goal];
    int n_max = task == TP_TASK_FORWARD ? 2 * L : L;
    float *attn = calloc((size_t)m->n_heads * n_max * TP_MAX_SEQ, sizeof(float));
    tp_token ctx[TP_MAX_SEQ];
    int pn[TP_MAX_STEPS], ps[TP_MAX_STEPS], n_ctx = 0;
    int n_out = tp_decode(m, t, task, &r, pn, ps, attn, ctx, &n_ctx);
    char (*clab)[16] = malloc(sizeof(*clab) * (size_t)n_ctx);
    const char **cl = malloc(sizeof(char *) * (size_t)n_ctx);
    for (int j = 0; j < n_ctx; j++) {
        token_label(&ctx[j], clab[j], sizeof clab[0]);
        cl[j] = clab[j];
    }
    int n_input = n_ctx - (n_out - 1);
    /* Stage split: backward-stage queries are 0..L-1 plus the root query L
     * (where the switch happens); forward-stage queries L+1..2L-1. */
    int ranges[2][2] = {{0, task == TP_TASK_FORWARD ? L + 1 : n_out}, {L + 1, n_out}};
    int n_stage = task == TP_TASK_FORWARD ? 2 : 1;
    for (int st = 0; st < n_stage; st++) {
        int k0 = ranges[st][0], k1 = ranges[st][1];
        if (k1 <= k0) continue;
        int rows = k1 - k0;
        double *mat = calloc((size_t)rows * n_ctx, sizeof(double));
        char (*rlab)[24] = malloc(sizeof(*rlab) * (size_t)rows);
        const char **rl = malloc(sizeof(char *) * (size_t)rows);
        for (int h = 0; h < m->n_heads; h++) {
            for (int k = k0; k < k1; k++) {
                const tp_token *q = &ctx[n_input + k - 1];
                snprintf(rlab[k - k0], sizeof rlab[0], "q%d->%d", q->x, pn[k]);
                rl[k - k0] = rlab[k - k0];
                int nk = n_input + k;
                for (int j = 0; j < n_ctx; j++)
                    mat[(size_t)(k - k0) * n_ctx + j] =
                        j < nk ? attn[((size_t)h * n_out + k) * TP_MAX_SEQ + j] : 0.0;
            }
            char stem[96], cap[256], title[160];
            const char *stage = task == TP_TASK_FORWARD ? (st == 0 ? "stage_b" : "stage_f") : "";
            const char *role = m->value[h] == TP_V_NODE ? "traversal" : m->value[h] == TP_V_STAGE ? "stage control" : "shared value";
            snprintf(stem, sizeof stem, "%s_attention_head%d%s%s", prefix, h + 1, *stage ? "_" : "",
                     stage);
            snprintf(title, sizeof title, "%s head %d (%s)%s%s, goal depth %d", prefix, h + 1, role,
                     *stage ? ", " : "", *stage ? (st == 0 ? "stage b + root" : "stage f") : "",
                     L);
            snprintf(cap, sizeof cap,
                     "Attention of %s head %d over the context for one unseen test tree%s "
                     "(c<p = edge child<parent, R = root, G = goal, b/f = CoT tokens new<prev)",
                     prefix, h + 1, *stage ? (st == 0 ? ", backward stage" : ", forward stage") : "");
            dl_plot_heatmap(run, stem, cap, title, "context token", "query -> output", mat, rows,
                            n_ctx, rl, cl);
        }
        free(mat);
        free(rlab);
        free(rl);
    }
    free(clab);
    free(cl);
    free(attn);
}
