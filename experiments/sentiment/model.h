/* Models and batches of the sentiment system (model.c). */
#ifndef DYNLAB_EXP_SENTIMENT_MODEL_H
#define DYNLAB_EXP_SENTIMENT_MODEL_H

#include "dynlab/core.h"
#include "dynlab/nn.h"
#include "dynlab/rnn.h"
#include "sentiment/sentiment.h"

typedef struct sent_model {
    int kind, E, F, H;
    dl_tensor *embed;
    dl_conv1d_m conv[3];
    dl_gru_m gru;
    dl_linear mlp, head;
    dl_tensor *bow_day, *bow_window, *bow_sent_day, *bow_bias;
} sent_model;

/* A batch of windows: B windows of W days, M posts of L tokens per day, and
 * the bags (non-padding token ids) the bag-of-words models read. */
typedef struct sent_batch {
    int B, W, M, L;
    int *tokens;            /* [B, W, M, L] */
    int *last_day_tokens;   /* [B, M, L] */
    int *bag_day_ids, *bag_day_off, n_day_ids;    /* last day, one bag per window */
    int *bag_win_ids, *bag_win_off, n_win_ids;    /* whole window, one bag per window */
    int *bag_dayw_ids, *bag_dayw_off, n_dayw_ids; /* one bag per (window, day) */
    float *risk, *sent, *sent_w;                  /* targets; sentiment weight 0 when unknown */
} sent_batch;

void sent_model_init(sent_model *m, dl_params *ps, const sent_cfg *cfg, int vocab, int kind,
                     dl_rng *r);
/* Logits [B, 2]: risk, next-day sentiment. */
dl_tensor *sent_model_fwd(dl_graph *g, const sent_model *m, const sent_batch *b, float dropout);

/* The recurrent models (cnn_gru, gru_only) split into per-day features and
 * the GRU + heads over a window of them, so scoring encodes each day once. */
int sent_model_day_dim(const sent_model *m);
dl_tensor *sent_model_day_features(dl_graph *g, const sent_model *m, const int *tokens, int n_days,
                                   int M, int L);                   /* [n_days, dim] */
dl_tensor *sent_model_from_days(dl_graph *g, const sent_model *m, dl_tensor *days); /* [B, W, dim] -> [B, 2] */

int sent_batch_alloc(sent_batch *b, int B, int W, int M, int L);
void sent_batch_fill(sent_batch *b, const sent_market *mk, const int *ends, int n);
void sent_batch_free(sent_batch *b);

#endif
