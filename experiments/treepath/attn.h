/* One-layer attention with a merged key-query matrix read at the last token
 * (docs/papers/treepath.md: "softmax attention with merged W_KQ").
 *
 * With one-hot node and type embeddings the bilinear score of head h between
 * the query token q and a context token z_j is a table lookup:
 *     s_j = B_h[x_q, x_j] + T_h[type_q, type_j]        (x_j = -1 adds 0)
 * B_h is the node block of W_KQ (H = A^T B A with A = I for one-hot, so B is
 * the paper's H), T_h the stage/type block. alpha = softmax_j(s). Values are
 * fixed per head (not trained):
 *     TP_V_NODE   reads the y slot:  out[0:S]     += sum_j alpha_j e_{y_j}
 *     TP_V_STAGE  reads the signal:  out[S:S+2]   += sum_j alpha_j e_{sig_j}
 *     TP_V_BOTH   reads both (the `forward.head_values=shared` knob: the two
 *                 heads share one value map, so no role is given to either)
 * The loss is 1/2 ||out - target||^2 averaged over the queries of the batch.
 * tp_attn_op() runs this as one fused op on the autograd tape. */
#ifndef TREEPATH_ATTN_H
#define TREEPATH_ATTN_H

#include "dynlab/core.h"
#include "treepath/tokens.h"

enum { TP_V_NODE = 0, TP_V_STAGE = 1, TP_V_BOTH = 2 };
#define TP_MAX_HEADS 2

typedef struct tp_model {
    int S;                      /* label alphabet */
    int n_heads;
    int value[TP_MAX_HEADS];    /* TP_V_* per head */
    int out_dim;                /* S, or S + 2 when a head writes the stage */
    dl_tensor *B[TP_MAX_HEADS]; /* [S, S] node block of W_KQ */
    dl_tensor *T[TP_MAX_HEADS]; /* [TP_NTYPES, TP_NTYPES] type block */
} tp_model;

/* Add head h's value of token z, weighted by a, to out (tp_value_dot is the
 * inner product of that value with a vector g of out's shape). */
static inline void tp_value_add(const tp_model *m, int h, const tp_token *z, float a, float *out) {
    if (m->value[h] != TP_V_STAGE && z->y >= 0) out[z->y] += a;
    if (m->value[h] != TP_V_NODE) out[m->S + z->sig] += a;
}
static inline float tp_value_dot(const tp_model *m, int h, const tp_token *z, const float *g) {
    float v = 0;
    if (m->value[h] != TP_V_STAGE && z->y >= 0) v += g[z->y];
    if (m->value[h] != TP_V_NODE) v += g[m->S + z->sig];
    return v;
}

/* A batch of queries: query q is step k of example e with context length n. */
typedef struct tp_batch {
    const tp_example *ex;
    int n_ex;
    int n_q;
    int *q_ex, *q_step;   /* [n_q] */
    int *a_off;           /* [n_q + 1] offsets into per-head attention arrays */
} tp_batch;

/* Index the queries of ex[0..n_ex-1] (heap arrays; free with tp_batch_free). */
void tp_batch_init(tp_batch *b, const tp_example *ex, int n_ex);
void tp_batch_free(tp_batch *b);

/* Attention weights of head h for one query over ctx[0..n-1] (query = ctx[n-1]). */
void tp_head_attend(const tp_model *m, int h, const tp_token *ctx, int n, float *alpha);

/* Forward for all queries: out [n_q, out_dim]; alpha [n_heads][a_off[n_q]]
 * (may be NULL). Double accumulation for the softmax sums. */
void tp_attn_forward(const tp_model *m, const tp_batch *b, float *out, float **alpha);

/* Given dL/dout, accumulate dL/dB_h and dL/dT_h (arrays of the params'
 * shapes; NULL entries skipped). alpha from tp_attn_forward. */
void tp_attn_backward(const tp_model *m, const tp_batch *b, float *const *alpha,
                      const float *dout, float **dB, float **dT);

/* Targets [n_q, out_dim]: one-hot next node, plus one-hot next stage when
 * out_dim > S. */
void tp_targets(const tp_model *m, const tp_batch *b, float *target);

/* Mean over queries of 1/2 ||out - target||^2 (double). */
double tp_sq_loss(const tp_model *m, const tp_batch *b, const float *out, const float *target);

/* The fused op on the tape: returns out [n_q, out_dim] (arena); gradients to
 * the B/T parameters flow through dl_backward. alpha_out (optional) receives
 * arena pointers to the per-head attention weights. */
dl_tensor *tp_attn_op(dl_graph *g, const tp_model *m, const tp_batch *b, float **alpha_out);

#endif
