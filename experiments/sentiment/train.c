/* Training one model (AdamW, gradient clipping, early stopping on the
 * validation AUROC) and scoring the validation and test days. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/losses.h"
#include "dynlab/optim.h"
#include "dynlab/rng.h"
#include "sentiment/model.h"

enum { STREAM_INIT = 11, STREAM_BATCH = 12, STREAM_DROPOUT = 13 };

static void write_probs(const dl_tensor *logits, int k, float *risk, float *sent) {
    for (int j = 0; j < k; j++) {
        if (risk) risk[j] = 1.0f / (1.0f + expf(-logits->data[2 * j]));
        if (sent) sent[j] = 1.0f / (1.0f + expf(-logits->data[2 * j + 1]));
    }
}

/* Recurrent models: every day of the window ends' range is encoded once,
 * then the GRU runs over the windows (days[] consecutive and increasing). */
static void score_recurrent(dl_graph *g, const sent_model *m, const sent_market *mk, const int *days,
                            int n, int B, int W, float *risk, float *sent) {
    const int first = days[0] - W + 1, n_days = days[n - 1] - first + 1, dim = sent_model_day_dim(m);
    const int per_day = mk->M * mk->L, chunk = 128;
    float *feat = malloc((size_t)n_days * dim * sizeof *feat);
    if (!feat) abort();
    for (int d = 0; d < n_days; d += chunk) {
        int k = n_days - d < chunk ? n_days - d : chunk;
        dl_tensor *f = sent_model_day_features(g, m, mk->tokens + (size_t)(first + d) * per_day, k,
                                               mk->M, mk->L);
        memcpy(feat + (size_t)d * dim, f->data, (size_t)k * dim * sizeof *feat);
        dl_graph_reset(g);
    }
    for (int i = 0; i < n; i += B) {
        int k = n - i < B ? n - i : B;
        int shape[3] = {k, W, dim};
        dl_tensor *x = dl_tensor_new(g, 3, shape);
        for (int j = 0; j < k; j++)
            memcpy(x->data + (size_t)j * W * dim, feat + (size_t)(days[i + j] - W + 1 - first) * dim,
                   (size_t)W * dim * sizeof *feat);
        write_probs(sent_model_from_days(g, m, x), k, risk ? risk + i : NULL, sent ? sent + i : NULL);
        dl_graph_reset(g);
    }
    free(feat);
}

/* Probabilities (risk, sentiment) for `n` window ends, no gradient. */
static void score_days(dl_graph *g, const sent_model *m, const sent_market *mk, sent_batch *b,
                       const int *days, int n, int B, float *risk, float *sent) {
    dl_graph_set_training(g, 0);
    dl_graph_set_grad_enabled(g, 0);
    if (m->kind == SENT_CNN_GRU || m->kind == SENT_GRU_ONLY) {
        score_recurrent(g, m, mk, days, n, B, b->W, risk, sent);
        n = 0;
    }
    for (int i = 0; i < n; i += B) {
        int k = n - i < B ? n - i : B;
        sent_batch_fill(b, mk, days + i, k);
        write_probs(sent_model_fwd(g, m, b, 0), k, risk ? risk + i : NULL, sent ? sent + i : NULL);
        dl_graph_reset(g);
    }
    dl_graph_set_training(g, 1);
    dl_graph_set_grad_enabled(g, 1);
}

static void snapshot(const dl_params *ps, float *buf, int save) {
    size_t off = 0;
    for (int i = 0; i < ps->n; i++) {
        dl_tensor *t = ps->items[i];
        if (save) memcpy(buf + off, t->data, (size_t)t->size * sizeof(float));
        else memcpy(t->data, buf + off, (size_t)t->size * sizeof(float));
        off += (size_t)t->size;
    }
}

int sent_train_model(const sent_cfg *cfg, const sent_market *mk, const sent_split *sp, int kind,
                     uint64_t seed, int untrained, sent_scores *out, dl_run *run, char *err,
                     size_t errlen) {
    memset(out, 0, sizeof *out);
    const int B = cfg->batch;
    dl_params ps;
    dl_params_init(&ps);
    dl_rng r;
    dl_rng_init(&r, seed, STREAM_INIT + 16 * (uint64_t)kind);
    sent_model m;
    sent_model_init(&m, &ps, cfg, mk->vocab, kind, &r);
    dl_optim opt;
    dl_optim_init(&opt, &ps, DL_OPT_ADAMW, (float)cfg->lr);
    opt.weight_decay = 0;
    sent_batch b;
    int *ends = malloc((size_t)B * sizeof *ends);
    float *val = malloc((size_t)sp->n_val * sizeof *val);
    float *best = malloc((size_t)dl_params_count(&ps) * sizeof *best);
    signed char *val_label = malloc((size_t)sp->n_val);
    out->val_risk = malloc((size_t)sp->n_val * sizeof(float));
    out->test_risk = malloc((size_t)sp->n_test * sizeof(float));
    out->test_sent = malloc((size_t)sp->n_test * sizeof(float));
    dl_graph *g = dl_graph_new();
    int rc = -1;
    if (sent_batch_alloc(&b, B, cfg->window, mk->M, mk->L) || !ends || !val || !best ||
        !val_label || !out->val_risk || !out->test_risk || !out->test_sent || !g) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; i < sp->n_val; i++) val_label[i] = mk->risk[sp->val[i]];
    dl_rng br;
    dl_rng_init(&br, seed, STREAM_BATCH + 16 * (uint64_t)kind);
    dl_graph_set_rng(g, seed, STREAM_DROPOUT + 16 * (uint64_t)kind);
    const int steps = untrained ? 0 : cfg->steps;
    const int eval_every = steps / 5 > 0 ? steps / 5 : 1;
    double best_auc = -1, loss_ema = NAN;
    snapshot(&ps, best, 1);
    const double t0 = dl_now();
    for (int step = 1; step <= steps; step++) {
        for (int i = 0; i < B; i++) ends[i] = sp->train[dl_rng_below(&br, (uint32_t)sp->n_train)];
        sent_batch_fill(&b, mk, ends, B);
        dl_tensor *logits = sent_model_fwd(g, &m, &b, (float)cfg->dropout);
        dl_tensor *lr_risk = dl_slice(g, logits, 1, 0, 1), *lr_sent = dl_slice(g, logits, 1, 1, 1);
        dl_tensor *loss = dl_add(g, dl_bce_logits(g, lr_risk, b.risk, NULL),
                                 dl_scale(g, dl_bce_logits(g, lr_sent, b.sent, b.sent_w),
                                          (float)cfg->sent_weight));
        double l = loss->data[0];
        if (dl_check_finite(run, "training loss", l, step)) {
            snprintf(err, errlen, "%s: training loss is not finite at step %d", sent_kind_name(kind), step);
            goto done;
        }
        loss_ema = isnan(loss_ema) ? l : 0.95 * loss_ema + 0.05 * l;
        dl_backward(g, loss);
        if (cfg->clip > 0) dl_clip_grad_norm(&ps, cfg->clip);
        dl_optim_step(&opt, (float)cfg->lr);
        dl_params_zero_grad(&ps);
        dl_graph_reset(g);
        if (step % eval_every == 0 || step == steps) {
            score_days(g, &m, mk, &b, sp->val, sp->n_val, B, val, NULL);
            double auc = sent_auroc(val, val_label, sp->n_val);
            if (auc > best_auc) {
                best_auc = auc;
                snapshot(&ps, best, 1);
            }
        }
    }
    snapshot(&ps, best, 0); /* early stopping: the best validation AUROC's parameters */
    out->train_seconds = dl_now() - t0;
    out->final_loss = loss_ema;
    score_days(g, &m, mk, &b, sp->val, sp->n_val, B, out->val_risk, NULL);
    score_days(g, &m, mk, &b, sp->test, sp->n_test, B, out->test_risk, out->test_sent);
    rc = 0;
done:
    if (g) dl_graph_free(g);
    sent_batch_free(&b);
    free(ends);
    free(val);
    free(best);
    free(val_label);
    dl_optim_free(&opt);
    dl_params_free(&ps);
    if (rc) sent_scores_free(out);
    return rc;
}

void sent_scores_free(sent_scores *s) {
    free(s->val_risk);
    free(s->test_risk);
    free(s->test_sent);
    memset(s, 0, sizeof *s);
}
