/* The CNN + GRU model (arXiv 2412.10199) and its three baselines.
 *
 *   cnn_gru     word embeddings -> conv1d widths 3, 4, 5 + ReLU, max over
 *               each post's tokens -> mean over the day's posts -> GRU over
 *               the window of days -> heads (risk, next-day sentiment)
 *   cnn_only    the same text encoder on the last day only -> MLP -> heads
 *   gru_only    mean word embedding of each day (embedding bag) -> GRU -> heads
 *   bow_logreg  logistic regression on the bag of words of the last day and
 *               of the whole window (two embedding bags with one column) */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/losses.h"
#include "dynlab/nn.h"
#include "dynlab/rnn.h"
#include "sentiment/model.h"

static const int widths[3] = {3, 4, 5};

const char *sent_kind_name(int kind) {
    static const char *const names[] = {"cnn_gru", "cnn_only", "gru_only", "bow_logreg"};
    return kind >= 0 && kind < SENT_N_MODELS ? names[kind] : "?";
}

void sent_model_init(sent_model *m, dl_params *ps, const sent_cfg *cfg, int vocab, int kind,
                     dl_rng *r) {
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->E = cfg->embed;
    m->F = cfg->filters;
    m->H = cfg->hidden;
    const int feat = 3 * m->F;
    if (kind == SENT_BOW_LOGREG) {
        int shape[2] = {vocab, 1};
        m->bow_day = dl_param_new(ps, "bow.day", 2, shape);
        m->bow_window = dl_param_new(ps, "bow.window", 2, shape);
        int s1[1] = {2};
        m->bow_bias = dl_param_new(ps, "bow.bias", 1, s1); /* risk, sentiment */
        for (int i = 0; i < vocab; i++) m->bow_day->data[i] = m->bow_window->data[i] = 0;
        m->bow_sent_day = dl_param_new(ps, "bow.sent_day", 2, shape);
        for (int i = 0; i < vocab; i++) m->bow_sent_day->data[i] = 0;
        return;
    }
    int es[2] = {vocab, m->E};
    m->embed = dl_param_new(ps, "embed", 2, es);
    for (long i = 0; i < (long)vocab * m->E; i++) m->embed->data[i] = (float)dl_rng_normal(r);
    if (kind != SENT_GRU_ONLY)
        for (int k = 0; k < 3; k++) {
            char name[32];
            snprintf(name, sizeof name, "conv%d", widths[k]);
            dl_conv1d_init(&m->conv[k], ps, name, m->E, m->F, widths[k], 0, 1, 1, r);
        }
    if (kind == SENT_CNN_ONLY) {
        dl_linear_init(&m->mlp, ps, "mlp", feat, m->H, 1, r);
    } else {
        dl_gru_init(&m->gru, ps, "gru", kind == SENT_GRU_ONLY ? m->E : feat, m->H, r);
    }
    dl_linear_init(&m->head, ps, "head", m->H, 2, 1, r); /* risk, sentiment */
}

/* Day vectors of `n_days` days [n_days, 3F] from their M x L tokens. */
static dl_tensor *text_encoder(dl_graph *g, const sent_model *m, const int *tokens, int n_days,
                               int M, int L) {
    int shape[2] = {n_days * M, L};
    dl_tensor *x = dl_embedding(g, m->embed, tokens, 2, shape); /* [posts, L, E] */
    dl_tensor *pooled[3];
    for (int k = 0; k < 3; k++) /* max over time of ReLU = ReLU of the max (ReLU is monotone) */
        pooled[k] = dl_relu(g, dl_conv1d_max(g, x, m->conv[k].weight, m->conv[k].bias, 0, 1));
    dl_tensor *post = dl_concat(g, pooled, 3, 1);              /* [posts, 3F] */
    int s3[3] = {n_days, M, 3 * m->F};
    return dl_mean(g, dl_reshape(g, post, 3, s3), 1, 0);       /* [n_days, 3F] */
}

dl_tensor *sent_model_fwd(dl_graph *g, const sent_model *m, const sent_batch *b, float dropout) {
    const int B = b->B, W = b->W, M = b->M, L = b->L;
    if (m->kind == SENT_BOW_LOGREG) {
        /* logit_risk = mean_day(w_day) + mean_window(w_window) + b; the
         * sentiment logit reads the last day's words with its own weights. */
        dl_tensor *day = dl_embedding_bag(g, m->bow_day, b->bag_day_ids, b->n_day_ids,
                                          b->bag_day_off, B, 1);
        dl_tensor *win = dl_embedding_bag(g, m->bow_window, b->bag_win_ids, b->n_win_ids,
                                          b->bag_win_off, B, 1);
        dl_tensor *sday = dl_embedding_bag(g, m->bow_sent_day, b->bag_day_ids, b->n_day_ids,
                                           b->bag_day_off, B, 1);
        dl_tensor *risk = dl_add(g, day, win);                    /* [B, 1] */
        dl_tensor *both[2] = {risk, sday};
        dl_tensor *logits = dl_concat(g, both, 2, 1);             /* [B, 2] */
        int s2[2] = {1, 2};
        return dl_add(g, logits, dl_reshape(g, m->bow_bias, 2, s2));
    }
    if (m->kind == SENT_CNN_ONLY) {
        dl_tensor *v = text_encoder(g, m, b->last_day_tokens, B, M, L); /* [B, 3F] */
        v = dl_dropout(g, v, dropout);
        dl_tensor *h = dl_relu(g, dl_linear_fwd(g, &m->mlp, v));
        return dl_linear_fwd(g, &m->head, h); /* [B, 2]: risk, sentiment */
    }
    dl_tensor *days = m->kind == SENT_CNN_GRU
                          ? text_encoder(g, m, b->tokens, B * W, M, L) /* [B W, 3F] */
                          : dl_embedding_bag(g, m->embed, b->bag_dayw_ids, b->n_dayw_ids,
                                             b->bag_dayw_off, B * W, 1); /* [B W, E] */
    days = dl_dropout(g, days, dropout);
    int s3[3] = {B, W, days->shape[1]};
    return sent_model_from_days(g, m, dl_reshape(g, days, 3, s3));
}

int sent_model_day_dim(const sent_model *m) { return m->kind == SENT_GRU_ONLY ? m->E : 3 * m->F; }

dl_tensor *sent_model_day_features(dl_graph *g, const sent_model *m, const int *tokens, int n_days,
                                   int M, int L) {
    if (m->kind == SENT_CNN_GRU) return text_encoder(g, m, tokens, n_days, M, L);
    /* GRU only: the mean embedding of each day's non-padding words. */
    /* In the graph's arena: the op may keep the ids for its backward. */
    int *ids = dl_graph_alloc(g, (size_t)n_days * M * L * sizeof *ids);
    int *off = dl_graph_alloc(g, (size_t)n_days * sizeof *off);
    int n = 0;
    for (int d = 0; d < n_days; d++) {
        off[d] = n;
        for (int t = 0; t < M * L; t++)
            if (tokens[(size_t)d * M * L + t] != SENT_PAD) ids[n++] = tokens[(size_t)d * M * L + t];
    }
    return dl_embedding_bag(g, m->embed, ids, n, off, n_days, 1);
}

dl_tensor *sent_model_from_days(dl_graph *g, const sent_model *m, dl_tensor *days) {
    dl_tensor *seq = dl_gru_fwd(g, &m->gru, days, NULL);
    return dl_linear_fwd(g, &m->head, dl_last_step(g, seq)); /* [B, 2]: risk, sentiment */
}


/* ---- batches ---------------------------------------------------------------- */

int sent_batch_alloc(sent_batch *b, int B, int W, int M, int L) {
    memset(b, 0, sizeof *b);
    b->B = B;
    b->W = W;
    b->M = M;
    b->L = L;
    size_t per_day = (size_t)M * L;
    b->tokens = malloc((size_t)B * W * per_day * sizeof *b->tokens);
    b->last_day_tokens = malloc((size_t)B * per_day * sizeof *b->last_day_tokens);
    b->bag_day_ids = malloc((size_t)B * per_day * sizeof(int));
    b->bag_win_ids = malloc((size_t)B * W * per_day * sizeof(int));
    b->bag_dayw_ids = malloc((size_t)B * W * per_day * sizeof(int));
    b->bag_day_off = malloc((size_t)B * sizeof(int));
    b->bag_win_off = malloc((size_t)B * sizeof(int));
    b->bag_dayw_off = malloc((size_t)B * W * sizeof(int));
    b->risk = malloc((size_t)B * sizeof(float));
    b->sent = malloc((size_t)B * sizeof(float));
    b->sent_w = malloc((size_t)B * sizeof(float));
    return b->tokens && b->last_day_tokens && b->bag_day_ids && b->bag_win_ids && b->bag_dayw_ids &&
                   b->bag_day_off && b->bag_win_off && b->bag_dayw_off && b->risk && b->sent &&
                   b->sent_w
               ? 0
               : -1;
}

void sent_batch_fill(sent_batch *b, const sent_market *mk, const int *ends, int n) {
    const int W = b->W, per_day = b->M * b->L;
    b->B = n;
    b->n_day_ids = b->n_win_ids = b->n_dayw_ids = 0;
    for (int i = 0; i < n; i++) {
        const int end = ends[i];
        b->bag_win_off[i] = b->n_win_ids;
        for (int w = 0; w < W; w++) {
            const int d = end - W + 1 + w;
            const int *src = mk->tokens + (size_t)d * per_day;
            memcpy(b->tokens + ((size_t)i * W + w) * per_day, src, (size_t)per_day * sizeof *src);
            b->bag_dayw_off[i * W + w] = b->n_dayw_ids;
            for (int t = 0; t < per_day; t++)
                if (src[t] != SENT_PAD) {
                    b->bag_dayw_ids[b->n_dayw_ids++] = src[t];
                    b->bag_win_ids[b->n_win_ids++] = src[t];
                }
        }
        const int *last = mk->tokens + (size_t)end * per_day;
        memcpy(b->last_day_tokens + (size_t)i * per_day, last, (size_t)per_day * sizeof *last);
        b->bag_day_off[i] = b->n_day_ids;
        for (int t = 0; t < per_day; t++)
            if (last[t] != SENT_PAD) b->bag_day_ids[b->n_day_ids++] = last[t];
        b->risk[i] = mk->risk[end] > 0;
        b->sent[i] = mk->sent_next[end] > 0;
        b->sent_w[i] = mk->sent_next[end] >= 0;
    }
}

void sent_batch_free(sent_batch *b) {
    free(b->tokens);
    free(b->last_day_tokens);
    free(b->bag_day_ids);
    free(b->bag_win_ids);
    free(b->bag_dayw_ids);
    free(b->bag_day_off);
    free(b->bag_win_off);
    free(b->bag_dayw_off);
    free(b->risk);
    free(b->sent);
    free(b->sent_w);
    memset(b, 0, sizeof *b);
}
