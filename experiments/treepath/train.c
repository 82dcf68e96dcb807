/* Training loop: teacher forcing on the ground-truth chain, fused attention
 * op on the autograd tape, squared loss, plain SGD from zero. */
#include "treepath/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynlab/optim.h"

void tp_model_init(tp_model *m, dl_params *ps, int task, int S) {
    memset(m, 0, sizeof *m);
    m->S = S;
    m->n_heads = task == TP_TASK_BACKWARD ? 1 : 2;
    m->value[0] = TP_V_NODE;
    m->value[1] = TP_V_STAGE;
    m->out_dim = m->n_heads == 2 ? S + 2 : S;
    for (int h = 0; h < m->n_heads; h++) {
        char name[64];
        int sb[2] = {S, S}, st[2] = {TP_NTYPES, TP_NTYPES};
        snprintf(name, sizeof name, "head%d.kq_node", h + 1);
        m->B[h] = dl_param_new(ps, name, 2, sb);  /* zero init (docs/papers/treepath.md) */
        snprintf(name, sizeof name, "head%d.kq_type", h + 1);
        m->T[h] = dl_param_new(ps, name, 2, st);
    }
}

void tp_model_share_values(tp_model *m) {
    for (int h = 0; h < m->n_heads; h++) m->value[h] = TP_V_BOTH;
}

int tp_is_prime(int n) {
    if (n < 2) return 0;
    for (int d = 2; d * d <= n; d++)
        if (n % d == 0) return 0;
    return 1;
}

void tp_affine_perm(int S, int k, int *perm) {
    /* AGL(1, S) is sharply 2-transitive on Z_S: its orbit of a tree makes the
     * batch exactly invariant under relabelling, so the batch gradient
     * commutes with the group and B stays in span{I, J} (docs/papers/treepath.md). */
    int a = 1 + k / S, b = k % S;
    for (int x = 0; x < S; x++) perm[x] = (a * x + b) % S;
}

double tp_symmetry_defect(const float *B, int S) {
    double sd = 0, so = 0, mx = 0;
    for (int i = 0; i < S; i++)
        for (int j = 0; j < S; j++) {
            double v = B[(size_t)i * S + j];
            if (i == j) sd += v; else so += v;
            if (fabs(v) > mx) mx = fabs(v);
        }
    if (mx == 0) return 0;
    double md = sd / S, mo = S > 1 ? so / ((double)S * (S - 1)) : 0, dev = 0;
    for (int i = 0; i < S; i++)
        for (int j = 0; j < S; j++) {
            double d = fabs(B[(size_t)i * S + j] - (i == j ? md : mo));
            if (d > dev) dev = d;
        }
    return dev / mx;
}

static void relabel_example(tp_example *ex, const int *perm) {
    for (int j = 0; j < ex->n_tok; j++) {
        if (ex->tok[j].x >= 0) ex->tok[j].x = (short)perm[ex->tok[j].x];
        if (ex->tok[j].y >= 0) ex->tok[j].y = (short)perm[ex->tok[j].y];
    }
    for (int k = 0; k < ex->n_steps; k++) ex->target_node[k] = perm[ex->target_node[k]];
}

/* Fill ex[0..n) with this step's training examples; returns n. */
static int draw_batch(const tp_train_cfg *c, dl_rng *r, tp_example *ex) {
    tp_tree t;
    if (c->data == TP_DATA_RANDOM) {
        for (int i = 0; i < c->batch; i++) {
            tp_tree_perfect(&t, c->depth, c->S, r);
            tp_example_build(&ex[i], &t, c->task, r);
        }
        return c->batch;
    }
    int orbit = c->S * (c->S - 1), n = 0, perm[TP_MAX_LABELS];
    for (int i = 0; i < c->batch; i++) {
        tp_tree_perfect(&t, c->depth, c->S, r);
        tp_example base;
        tp_example_build(&base, &t, c->task, r);
        for (int k = 0; k < orbit; k++) {
            ex[n] = base;
            tp_affine_perm(c->S, k, perm);
            relabel_example(&ex[n++], perm);
        }
    }
    return n;
}

static void block_stats(const float *B, int S, double *diag, double *off) {
    double sd = 0, so = 0;
    for (int i = 0; i < S; i++)
        for (int j = 0; j < S; j++) {
            if (i == j) sd += B[(size_t)i * S + j]; else so += B[(size_t)i * S + j];
        }
    *diag = sd / S;
    *off = S > 1 ? so / ((double)S * (S - 1)) : 0;
}

static void hist_push(tp_history *h, double step, const double *row) {
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 256;
        h->step = realloc(h->step, sizeof(double) * h->cap);
        for (int c = 0; c < TP_L_COLS; c++) h->col[c] = realloc(h->col[c], sizeof(double) * h->cap);
    }
    h->step[h->n] = step;
    for (int c = 0; c < TP_L_COLS; c++) h->col[c][h->n] = row[c];
    h->n++;
}

static void hist_push_eval(tp_history *h, double step, double loss, double acc) {
    if (h->n_eval == h->cap_eval) {
        h->cap_eval = h->cap_eval ? 2 * h->cap_eval : 64;
        h->eval_step = realloc(h->eval_step, sizeof(double) * h->cap_eval);
        h->test_loss = realloc(h->test_loss, sizeof(double) * h->cap_eval);
        h->test_acc = realloc(h->test_acc, sizeof(double) * h->cap_eval);
    }
    h->eval_step[h->n_eval] = step;
    h->test_loss[h->n_eval] = loss;
    h->test_acc[h->n_eval] = acc;
    h->n_eval++;
}

void tp_history_free(tp_history *h) {
    free(h->step);
    for (int c = 0; c < TP_L_COLS; c++) free(h->col[c]);
    free(h->eval_step);
    free(h->test_loss);
    free(h->test_acc);
    memset(h, 0, sizeof *h);
}

/* Per-component losses of one batch (per query, 1/2 squared error). */
static void component_losses(const tp_model *m, const tp_batch *b, const float *out,
                             const float *tg, int task, double *row) {
    double s[4] = {0};
    int n[4] = {0};
    int D = m->out_dim;
    for (int q = 0; q < b->n_q; q++) {
        const tp_example *e = &b->ex[b->q_ex[q]];
        int ph = tp_query_phase(e, b->q_step[q], task);
        const float *o = out + (size_t)q * D, *t = tg + (size_t)q * D;
        double a = 0, st = 0;
        for (int i = 0; i < m->S; i++) a += (double)(o[i] - t[i]) * (o[i] - t[i]);
        for (int i = m->S; i < D; i++) st += (double)(o[i] - t[i]) * (o[i] - t[i]);
        s[ph] += 0.5 * a;
        n[ph]++;
        s[3] += 0.5 * st;
        n[3]++;
    }
    for (int k = 0; k < 4; k++) row[TP_L_NODE_B + k] = n[k] ? s[k] / n[k] : NAN;
    if (D == m->S) row[TP_L_STAGE] = NAN;
}

static void param_row(const tp_model *m, double *row) {
    for (int h = 0; h < TP_MAX_HEADS; h++) {
        int base = h == 0 ? TP_L_DIAG0 : TP_L_DIAG1;
        if (h >= m->n_heads) {
            for (int k = 0; k < 4; k++) row[base + k] = NAN;
            for (int k = 0; k < TP_NTYPES * TP_NTYPES; k++) row[TP_L_T1 + k] = NAN;
            continue;
        }
        const float *B = m->B[h]->data;
        block_stats(B, m->S, &row[base], &row[base + 1]);
        row[base + 2] = B[0];
        row[base + 3] = B[1];
        for (int k = 0; k < TP_NTYPES * TP_NTYPES; k++)
            row[(h == 0 ? TP_L_T0 : TP_L_T1) + k] = m->T[h]->data[k];
    }
    row[TP_L_ASYM] = tp_symmetry_defect(m->B[0]->data, m->S);
}

static void log_row(dl_run *run, const tp_train_cfg *c, int64_t step, const double *row,
                    const tp_model *m) {
    static const char *names[TP_L_T0] = {"loss", "loss_node_b", "loss_node_root", "loss_node_f",
                                         "loss_stage", "h1_diag", "h1_offdiag", "h1_H11",
                                         "h1_H12", "h2_diag", "h2_offdiag", "h2_H11", "h2_H12",
                                         "h1_sym_defect"};
    dl_metrics_begin(run, step);
    dl_metrics_add_str(run, "task", c->name);
    for (int k = 0; k < TP_L_T0; k++) {
        if (isnan(row[k])) continue;
        char key[96];
        snprintf(key, sizeof key, "%s.%s", c->name, names[k]);
        dl_metrics_add(run, key, row[k]);
    }
    static const char *tn[TP_NTYPES] = {"edge", "root", "outb", "outf"};
    for (int h = 0; h < m->n_heads; h++)
        for (int a = 0; a < TP_NTYPES; a++)
            for (int b = 0; b < TP_NTYPES; b++) {
                char key[96];
                snprintf(key, sizeof key, "%s.h%d_T_%s_%s", c->name, h + 1, tn[a], tn[b]);
                dl_metrics_add(run, key, row[(h == 0 ? TP_L_T0 : TP_L_T1) + a * TP_NTYPES + b]);
            }
    dl_metrics_end(run);
}

int tp_train(const tp_train_cfg *c, tp_model *m, dl_params *ps, const tp_tree *trees,
             const tp_example *test_ex, int n_test, dl_run *run, tp_history *hist) {
    int max_ex = c->data == TP_DATA_ORBIT ? c->batch * c->S * (c->S - 1) : c->batch;
    tp_example *ex = malloc(sizeof(tp_example) * (size_t)max_ex);
    dl_rng r;
    dl_rng_init(&r, c->seed, c->stream);
    dl_graph *g = dl_graph_new();
    dl_optim opt;
    dl_optim_init(&opt, ps, DL_OPT_SGD, (float)c->lr);
    float *tg = NULL;
    size_t tg_cap = 0;
    int rc = 0;
    double row[TP_L_COLS];
    for (int step = 0; step <= c->steps; step++) {
        int do_log = step % c->log_every == 0 || step == c->steps;
        if (trees && (step % c->eval_every == 0 || step == c->steps)) {
            tp_eval ev;
            tp_evaluate(m, trees, test_ex, n_test, c->task, c->seed, &ev);
            hist_push_eval(hist, step, ev.test_loss, ev.path_acc);
            dl_metrics_begin(run, step);
            dl_metrics_add_str(run, "task", c->name);
            char key[96];
            snprintf(key, sizeof key, "%s.test_loss", c->name);
            dl_metrics_add(run, key, ev.test_loss);
            snprintf(key, sizeof key, "%s.test_path_acc", c->name);
            dl_metrics_add(run, key, ev.path_acc);
            if (c->task == TP_TASK_FORWARD) {
                snprintf(key, sizeof key, "%s.test_switch_acc", c->name);
                dl_metrics_add(run, key, ev.switch_acc);
            }
            dl_metrics_end(run);
        }
        int n_ex = draw_batch(c, &r, ex);
        tp_batch b;
        tp_batch_init(&b, ex, n_ex);
        size_t no = (size_t)b.n_q * (size_t)m->out_dim;
        if (no > tg_cap) {
            free(tg);
            tg = malloc(sizeof(float) * no);
            tg_cap = no;
        }
        tp_targets(m, &b, tg);
        dl_tensor *out = tp_attn_op(g, m, &b, NULL);
        int shape[2] = {b.n_q, m->out_dim};
        dl_tensor *target = dl_tensor_wrap(g, tg, 2, shape);
        /* dl_mse = mean of squared entries; rescale to the per-tree loss
         * sum_steps 1/2 ||out - y||^2 averaged over the trees of the batch. */
        dl_tensor *mse = dl_mse(g, out, target);
        dl_tensor *loss = dl_scale(g, mse, (float)(0.5 * (double)no / n_ex));
        double lv = loss->data[0];
        if (dl_check_finite(run, c->name, lv, step)) {
            rc = -1;
            tp_batch_free(&b);
            break;
        }
        if (do_log) {
            row[TP_L_LOSS] = lv;
            component_losses(m, &b, out->data, tg, c->task, row);
            param_row(m, row);
            hist_push(hist, step, row);
            log_row(run, c, step, row, m);
        }
        if (step < c->steps) {
            dl_params_zero_grad(ps);
            dl_backward(g, loss);
            dl_optim_step(&opt, (float)c->lr);
        }
        dl_graph_reset(g);
        tp_batch_free(&b);
        if (step % 50 == 0) dl_progress(run, c->name, step, c->steps, NULL);
    }
    dl_progress(run, c->name, c->steps, c->steps, NULL);
    free(tg);
    free(ex);
    dl_optim_free(&opt);
    dl_graph_free(g);
    return rc;
}
