/* Teacher-forced minibatch SGD with the squared loss from zero init
 * (docs/papers/treepath.md: "gradient descent from zero initialization", squared
 * loss; §3.3 [S]: batch 256, lr 1 / 0.2). */
#ifndef TREEPATH_TRAIN_H
#define TREEPATH_TRAIN_H

#include "dynlab/run.h"
#include "treepath/infer.h"

/* Which data a step draws. */
enum { TP_DATA_RANDOM = 0,   /* fresh perfect binary trees, fresh labels each step */
       TP_DATA_ORBIT = 1 };  /* the orbit of random base trees under AGL(1, S) (claim 5) */

/* Columns of the per-step log. */
enum {
    TP_L_LOSS = 0,   /* train loss: mean over trees of the sum over steps */
    TP_L_NODE_B,     /* node loss per query, backward stage (before the root) */
    TP_L_NODE_ROOT,  /* node loss at the root query (forward) */
    TP_L_NODE_F,     /* node loss per query, forward stage */
    TP_L_STAGE,      /* stage-signal loss per query (forward) */
    TP_L_DIAG0, TP_L_OFF0, TP_L_H11_0, TP_L_H12_0,  /* head 1: mean diag/offdiag of B, B[0,0], B[0,1] */
    TP_L_DIAG1, TP_L_OFF1, TP_L_H11_1, TP_L_H12_1,  /* head 2 */
    TP_L_ASYM,       /* symmetry defect of B (head 1), see tp_symmetry_defect */
    TP_L_T0,         /* T_1[query type, key type], TP_NTYPES^2 entries */
    TP_L_T1 = TP_L_T0 + TP_NTYPES * TP_NTYPES,
    TP_L_COLS = TP_L_T1 + TP_NTYPES * TP_NTYPES
};

typedef struct tp_train_cfg {
    const char *name;  /* "backward", "forward", "nocot", "symmetry" (metrics prefix) */
    int task, data;
    int depth, S, batch, steps;
    double lr;
    int log_every, eval_every;
    uint64_t seed, stream;
} tp_train_cfg;

typedef struct tp_history {
    int n, cap;
    double *step;
    double *col[TP_L_COLS];
    int n_eval, cap_eval;
    double *eval_step, *test_loss, *test_acc;
} tp_history;

void tp_history_free(tp_history *h);

/* A zero-initialised model for the task: backward one head (node value),
 * forward/nocot two heads (traversal: node value, control: stage value). */
void tp_model_init(tp_model *m, dl_params *ps, int task, int S);
/* The `forward.head_values=shared` setting: every head reads node and stage
 * through one value map, so no head is given a role by construction (with
 * zero init the heads then receive identical gradients and stay identical). */
void tp_model_share_values(tp_model *m);

/* Train in place; evaluates on (trees, ex) every eval_every steps and at the
 * end when trees != NULL. Returns 0, or -1 if the loss stopped being finite. */
int tp_train(const tp_train_cfg *c, tp_model *m, dl_params *ps, const tp_tree *trees,
             const tp_example *ex, int n_test, dl_run *run, tp_history *hist);

/* Symmetry defect of a square S x S block: max(max_i |B_ii - mean diag|,
 * max_{i != j} |B_ij - mean offdiag|) / max_ij |B_ij| (0 for B == 0). */
double tp_symmetry_defect(const float *B, int S);

/* The k-th element (0 <= k < S(S-1)) of the affine group x -> a x + b mod S
 * (S prime), written as a permutation perm[x]. */
void tp_affine_perm(int S, int k, int *perm);
int tp_is_prime(int n);

#endif
