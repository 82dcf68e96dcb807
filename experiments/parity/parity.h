/* System `parity` (arXiv 2505.00926, Huang, Liang, Yang, ICML 2025): a one-layer
 * transformer (attention read at the last position + linear layer) learns
 * "even pairs" directly and "parity check" through chain of thought (CoT).
 * Reconstructed choices and their reasons: docs/papers/parity.md. */
#ifndef PARITY_PARITY_H
#define PARITY_PARITY_H

#include <stdint.h>

#include "dynlab/core.h"
#include "dynlab/run.h"

#define PA_MAX_LEN 256  /* longest sequence any set may hold (CoT steps add one token) */

/* ---- data.c ------------------------------------------------------------- */
enum { PA_TASK_EVEN_PAIRS = 0, PA_TASK_PARITY = 1 };
enum { PA_POS_ONEHOT = 0, PA_POS_FIRST = 1 };

/* A set of binary sequences (symbols 0 = 'a', 1 = 'b') with labels +-1. */
typedef struct pa_set {
    int n, max_len;
    int *len;      /* [n] */
    uint8_t *sym;  /* [n * max_len], row i holds len[i] symbols */
    float *y;      /* [n] */
} pa_set;

/* Number of "ab" and "ba" substrings. */
int pa_count_pairs(const uint8_t *s, int len);
/* Even pairs: +1 when the number of ab/ba substrings is even (<=> s[0] == s[len-1]). */
float pa_label_even_pairs(const uint8_t *s, int len);
/* Parity check: +1 when the number of 1s ('b') is even. */
float pa_label_parity(const uint8_t *s, int len);

/* n sequences, lengths uniform in [lo, hi], symbols uniform. With `complement`
 * every drawn sequence is followed by its a<->b complement (n rounded up to even),
 * which makes the set symmetric under the swap like the population. */
int pa_set_random(pa_set *s, int n, int lo, int hi, int task, int complement, dl_rng *r);
int pa_set_alloc(pa_set *s, int n, int max_len);
void pa_set_free(pa_set *s);

/* CoT examples (docs/papers/parity.md "CoT"): for a sequence w_1..w_n and the
 * running parity state z_0 = 'a', z_k = z_{k-1} XOR w_k, step k reads
 * (z_{k-1}, w_1, ..., w_k) and its label is +1 when z_k = 'a' (= even pairs of that
 * sequence). `form` 0 = prefix form above, 1 = pair form (z_{k-1}, w_k). Step k = 0
 * is the initial state alone, (z_0) = ('a'), label +1 (the chain's base case). */
enum { PA_COT_PREFIX = 0, PA_COT_PAIR = 1 };
int pa_cot_len(int k, int form);
void pa_cot_step(const uint8_t *w, int k, uint8_t z_prev, int form, uint8_t *out);
/* Training set of every CoT step k = 0..n of every sequence in `base` (teacher-forced
 * states). With `alt_start`, sequence i starts from z_0 = i % 2 (odd rows from 'b'):
 * with a complemented base set this keeps the CoT set a<->b symmetric. */
int pa_set_cot(pa_set *out, const pa_set *base, int form, int alt_start);

/* ---- model.c ------------------------------------------------------------ */
typedef struct pa_model_cfg {
    int pos;          /* PA_POS_* */
    int max_pos;      /* positions with an embedding (>= longest sequence) */
    double init_std;  /* N(0, std^2) init of W and u (0 = zero init) */
    int layernorm;    /* layernorm on the attention output before the readout */
    int mlp_hidden;   /* 0 = none; else a ReLU MLP of this width before the readout */
} pa_model_cfg;

typedef struct pa_model {
    pa_model_cfg c;
    int d;            /* embedding dimension: 2 token dims + position dims */
    int feat;         /* dimension the linear layer reads */
    dl_params ps;
    dl_tensor *W;     /* [d, d] merged key-query matrix ("attn.W") */
    dl_tensor *u;     /* [feat, 1] linear layer ("linear.u") */
    dl_tensor *A, *b; /* MLP (optional) */
} pa_model;

int pa_model_init(pa_model *m, const pa_model_cfg *c, uint64_t seed, uint64_t stream);
void pa_model_free(pa_model *m);
/* Embedding x = e_token + p_position (fixed, not trained) into out[d]. */
void pa_embed(const pa_model *m, int sym, int pos, float *out);

/* A batch: embedded sequences padded to T, plus labels. Constant memory. */
#define PA_NZ 2 /* non-zeros per embedding row: one token dim + one position dim */
typedef struct pa_batch {
    int n, T, d;
    int *len;
    int *nzi;   /* [n, T, PA_NZ] indices of the non-zero embedding entries */
    float *nzv; /* [n, T, PA_NZ] their values (0 = unused slot) */
    const float *y;
} pa_batch;
int pa_batch_build(pa_batch *b, const pa_model *m, const pa_set *s);
void pa_batch_free(pa_batch *b);

/* Fused op (dl_tape_custom): o[n] = sum_l softmax_l(x_{n,L}^T W x_{n,l}) x_{n,l}, the
 * attention output read at the last position (query = last token). out [n, d].
 * If `phi` is non-NULL it receives the weights [n, T] (0 beyond each length). */
dl_tensor *pa_attn_op(dl_graph *g, dl_tensor *W, const pa_batch *b, float *phi);
/* Features read by the linear layer (attention output, then optional LN / MLP). */
dl_tensor *pa_features(dl_graph *g, const pa_model *m, const pa_batch *b);
/* Logits f [n, 1]. */
dl_tensor *pa_logits(dl_graph *g, const pa_model *m, const pa_batch *b);
/* Forward without the tape: logits into f[n] (and features into feat[n*m->feat]). */
void pa_predict(const pa_model *m, const pa_batch *b, float *f, double *feat);
/* Accuracy and mean logistic loss of the model on a set. */
void pa_eval(const pa_model *m, const pa_set *s, double *acc, double *loss);

/* ---- svm.c -------------------------------------------------------------- */
/* Hard-margin SVM without bias, min ||w||^2/2 s.t. y_i w.x_i >= 1, by coordinate
 * ascent on the dual (double precision) over the distinct (x, y) pairs. x [n, d].
 * Returns 0 with w[d] when the KKT violation reached tol, 1 when the sweep budget
 * ran out first but w separates every point (w approximate), -1 when the data are
 * not separable (dual unbounded, or a point no w can separate). margin = 1/||w||. */
int pa_svm_hard_margin(const double *x, const double *y, int n, int d, double *w,
                       double tol, int max_sweeps, double *margin);

/* ---- train.c ------------------------------------------------------------ */
enum { PA_H_STEP, PA_H_LOSS, PA_H_ACC, PA_H_NORM_W, PA_H_NORM_U, PA_H_TLOSS, PA_H_COS,
       PA_H_COS_NOW, PA_H_NCOL };
typedef struct pa_history {
    int n, cap;
    double *col[PA_H_NCOL];
} pa_history;
void pa_history_free(pa_history *h);

typedef struct pa_train_cfg {
    const char *name;   /* metrics key prefix: "ep", "cot", "nocot" */
    int steps;
    double lr_attn, lr_linear;
    int phase1_steps;   /* end of phase one: W frozen copy for the SVM (0 = no SVM) */
    int freeze_attn_phase2;
    int log_points;     /* metrics rows, spaced evenly in log t */
    int svm_sweeps;
    double svm_tol;
} pa_train_cfg;

typedef struct pa_train_out {
    pa_history h;
    int separable;      /* attention outputs at the end of phase one are separable */
    double svm_margin;
    double cos_final;   /* cos(u, w_svm) at the last step */
    double cos_now;     /* cos(u, SVM on the final features) */
    double seconds;
} pa_train_out;

/* Full-batch gradient descent on the mean logistic loss. Returns 0 or -1 (NaN). */
int pa_train(const pa_train_cfg *tc, pa_model *m, const pa_set *train, dl_run *run,
             pa_train_out *out);

/* ---- cot.c -------------------------------------------------------------- */
/* Parity through CoT with a model that classifies even pairs: z_0 = 'a', each
 * step feeds the CoT sequence to the model and takes z_k = 'a' when its logit > 0.
 * Returns the accuracy of the final state against the parity label, per length
 * into acc_len[len] (NAN where absent) when non-NULL. */
double pa_cot_infer_acc(const pa_model *m, const pa_set *test, int form, double *acc_len);
/* Accuracy per length of a direct classifier (no CoT) on a set. */
double pa_direct_acc(const pa_model *m, const pa_set *test, double *acc_len);

#endif

/* ---- experiment results (claims.c, plots.c) ------------------------------ */
typedef struct pa_results {
    pa_train_out ep, cot, nocot;
    int phase1_steps, train_max_len, test_min_len, test_max_len;
    int pos_first;             /* model.pos=first (the first-position flag) */
    double ep_test_acc;        /* even pairs, held-out lengths */
    double cot_infer_acc;      /* parity, CoT at inference with the even-pairs model */
    double cot_train_acc;      /* parity, CoT-trained model */
    double nocot_test_acc;     /* parity, no CoT, held-out lengths */
    double nocot_train_acc;
    double acc_len[4][PA_MAX_LEN + 1]; /* ep, cot-infer, cot-train, nocot */
} pa_results;
enum { PA_CURVE_EP, PA_CURVE_COT_INFER, PA_CURVE_COT_TRAIN, PA_CURVE_NOCOT };

/* Least-squares fit y = a + b x; returns b, sets R^2. */
double pa_linfit(const double *x, const double *y, int n, double *a, double *r2);
void pa_claims(dl_run *run, const pa_results *r);
void pa_plots(dl_run *run, const pa_results *r);
