/* Greedy autoregressive decoding and test metrics (docs/papers/treepath.md). */
#ifndef TREEPATH_INFER_H
#define TREEPATH_INFER_H

#include "treepath/attn.h"

#define TP_DEPTH_BINS 16

typedef struct tp_eval {
    int n;                        /* test trees */
    double path_acc;              /* exact match of the whole generated chain */
    double answer_acc;            /* backward: goal->root path; forward: root->goal part */
    double step_acc;              /* per-output node accuracy */
    double switch_acc;            /* forward: stage sequence exactly right (switch at root) */
    double switch_step_acc;       /* forward: per-output stage accuracy */
    double test_loss;             /* teacher-forced, same normalisation as training */
    int by_depth_n[TP_DEPTH_BINS];
    double by_depth_acc[TP_DEPTH_BINS];  /* exact-path accuracy by goal depth */
    /* Teacher-forced attention (test set): mass of each head on each token type,
     * per phase of the query: 0 = backward stage (before the root), 1 = at the
     * root, 2 = forward stage. */
    double attn_type[TP_MAX_HEADS][3][TP_NTYPES];
    double attn_path[3];          /* traversal head: mass on the token holding the answer */
    int phase_n[3];
} tp_eval;

/* Decode one tree greedily; writes predicted labels/stages (n outputs) and
 * returns the number of outputs. The number of outputs is given by the goal's
 * depth (the chain length is known, as in the paper). If attn is non-NULL it
 * receives per-head weights of every step over the final context
 * [n_heads][n_out][*ctx_len] (row stride TP_MAX_SEQ); ctx gets the tokens. */
int tp_decode(const tp_model *m, const tp_tree *t, int task, dl_rng *r, int *pred_node,
              int *pred_sig, float *attn, tp_token *ctx, int *ctx_len);

/* Full evaluation on a fixed list of examples (built from `trees`). */
void tp_evaluate(const tp_model *m, const tp_tree *trees, const tp_example *ex, int n, int task,
                 uint64_t seed, tp_eval *out);

/* Phase of query k of an example (0 backward stage, 1 root, 2 forward stage). */
int tp_query_phase(const tp_example *ex, int k, int task);

/* Loss of a batch normalised as in training: mean over examples of the sum
 * over its steps of 1/2 ||out - target||^2. */
double tp_batch_loss(const tp_model *m, const tp_batch *b, const float *out, const float *target);

#endif
