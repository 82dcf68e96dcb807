/* icl: one-layer softmax attention learns nonlinear regression in context
 * (Li, Duan, Liang, arXiv 2507.20443). Only the abstract is available; the
 * data model and the model are the standard construction of the line of work
 * the paper extends (Huang, Cheng, Liang, "In-context convergence of
 * transformers", ICML 2024), with the task y = <w, x> replaced by L-Lipschitz
 * nonlinear functions. docs/papers/icl.md gives every reconstructed choice.
 *
 * Conventions shared by every file of this experiment:
 *   features v_k = e_k (k < K) in R^d; a token x = v_k + xi, xi ~ N(0, noise^2/d I);
 *   a prompt is N pairs (x_i, f(x_i)) and a query x_q whose label is f(x_q);
 *   the prediction is y_hat = sum_i softmax_i(x_i^T W x_q) y_i (value reads y);
 *   the attention logit of feature j for a query of feature k is W[j][k]
 *   (Huang et al.'s A_k = W[k][k], B_{k,j} = W[j][k]). */
#ifndef DYNLAB_EXP_ICL_H
#define DYNLAB_EXP_ICL_H

#include <stddef.h>
#include <stdint.h>
#include "dynlab/core.h"
#include "dynlab/rng.h"
#include "dynlab/config.h"
#include "dynlab/run.h"

#define ICL_MAX_D 64
#define ICL_MAX_K 16
#define ICL_MAX_HIDDEN 64
#define ICL_MAX_N 256
#define ICL_MAX_SWEEP 32

/* ---- function classes (data.c) ------------------------------------------ */
typedef enum { ICL_F_SIN = 0, ICL_F_RELU, ICL_F_TANH, ICL_F_COUNT } icl_fkind;
extern const char *const icl_fkind_names[ICL_F_COUNT]; /* "sin", "relu", "tanh" */

/* Lipschitz scaling: INPUT: f(x) = amp * h((L/amp) x), bounded by amp, its
 * spread over the features saturates once L/amp ~ sqrt(d) (the threshold of
 * this construction); OUTPUT: f(x) = L * h(x), spread grows like L forever.
 * h is 1-Lipschitz with |h| <= 1 in both cases. */
typedef enum { ICL_SCALE_INPUT = 0, ICL_SCALE_OUTPUT } icl_scaling;

typedef struct icl_func {
    int kind, d, hidden;
    double amp, kappa;          /* f(x) = amp * h(kappa * x) */
    double phase;               /* sin: h(z) = sin(<w, z> + phase) */
    double w[ICL_MAX_D];        /* sin direction, unit norm */
    double u[ICL_MAX_HIDDEN][ICL_MAX_D]; /* nets: unit-norm hidden weights */
    double b[ICL_MAX_HIDDEN], a[ICL_MAX_HIDDEN]; /* biases; output weights, sum |a| = 1 */
} icl_func;

typedef struct icl_data_opts {
    int d, K, N;
    double dominant_p;          /* P(feature 0); the others share 1 - dominant_p equally */
    double noise;               /* feature noise: ||xi|| ~ noise */
    double L, amp;
    icl_scaling scaling;
    int hidden;
    int kinds[ICL_F_COUNT];     /* kinds[i] != 0: class i is in the family */
} icl_data_opts;

/* Check options; 0 or -1 with one line in err. */
int icl_data_check(const icl_data_opts *o, char *err, size_t n);
/* The Lipschitz bound the construction guarantees (= L). */
double icl_func_lipschitz_bound(const icl_func *f);
void icl_func_draw(icl_func *f, const icl_data_opts *o, int kind, dl_rng *r);
double icl_func_eval(const icl_func *f, const double *x);
/* Feature probabilities p[K]. */
void icl_feature_probs(const icl_data_opts *o, double *p);

/* A batch of B prompts: X [B][N][d], Y [B][N], Xq [B][d], Yq [B], feat [B][N+1]
 * (feature index of each token, query last). Floats for the tape. */
typedef struct icl_batch {
    int B, N, d;
    float *X, *Y, *Xq, *Yq;
    int *feat;
} icl_batch;
int icl_batch_alloc(icl_batch *b, int B, int N, int d);
void icl_batch_free(icl_batch *b);
/* Draw every prompt with its own new function from the family o->kinds. */
void icl_batch_draw(icl_batch *b, const icl_data_opts *o, dl_rng *r);

/* ---- model (model.c) ----------------------------------------------------- */
/* Loss 1/2 mean_b (y_hat_b - y_q,b)^2 on the tape; attn (optional) receives
 * the [B][N] attention of the query (pointer into the arena). Built from core
 * ops: z = W x_q, s_i = <x_i, z>, softmax over i, y_hat = sum_i a_i y_i. */
dl_tensor *icl_forward(dl_graph *g, dl_tensor *W, const icl_batch *b, dl_tensor **attn, dl_tensor **yhat);
/* The same in double precision without the tape (reference for the tests). */
double icl_forward_ref(const float *W, const icl_batch *b, double *attn, double *yhat);

/* ---- training and measurement (train.c) ----------------------------------- */
typedef struct icl_train_opts {
    int steps, batch, log_every;
    int n_train;                /* > 0: fixed training set of n_train prompts, full-batch GD */
    double lr, init_std;
    int eval_size;
    double target;              /* normalised loss target (steps to convergence) */
    int stop_at_target;         /* sweep runs stop there */
} icl_train_opts;

/* Measurements of the model on a fixed evaluation set. */
typedef struct icl_eval {
    double loss;                /* 1/2 mean (y_hat - y_q)^2 */
    double nloss;               /* loss / loss of uniform attention (the W = 0 model) */
    double rel_mass;            /* mean attention mass on tokens of the query's feature */
    double irr_mass[ICL_MAX_K]; /* per feature j: mean mass on j over prompts whose query is not j */
    double irr_total;           /* mean mass on all other features */
    double rmse;                /* sqrt mean (y_hat - y_q)^2 */
    double rmse_uniform;        /* the same for uniform attention (prompt mean) */
} icl_eval;

typedef struct icl_trace {
    /* evaluation points (every log_every steps and the last step) */
    int n, cap;
    double *step;
    double *nloss, *nloss_unseen, *rel_mass, *irr_total;
    double *irr_mass;           /* [n][K] */
    /* every step 0..steps_done: the attention logits read off W */
    int ns;
    double *A;                  /* [ns] mean over k of W[k][k] (relevant logit) */
    double *Bl;                 /* [ns][K]: mean over k != j of W[j][k] (irrelevant logit of feature j) */
    double *Wk;                 /* [ns][K][K]: the feature block W[j][k] */
} icl_trace;

typedef struct icl_result {
    icl_trace tr;
    int steps_done;
    int hit;                    /* first step with nloss <= target, -1 if never */
    icl_eval seen, unseen;      /* at the end */
    float W[ICL_MAX_D * ICL_MAX_D];
    double seconds;
} icl_result;

/* Train from W = init; eval on `eval_seen` (training family, new functions)
 * and `eval_unseen` (held-out family) when given. seed/stream key the
 * training batches. */
int icl_train(const icl_data_opts *o, const icl_train_opts *t, const icl_batch *eval_seen,
              const icl_batch *eval_unseen, uint64_t seed, uint64_t stream, icl_result *res, char *err,
              size_t n);
void icl_result_free(icl_result *r);
void icl_evaluate(const float *W, const icl_batch *b, int K, icl_eval *e);

/* ---- analysis (claims.c) ---------------------------------------------------- */
/* First index where series x crosses half-way from x[0] to x[n-1]. */
int icl_half_way(const double *x, int n);
/* Sign changes of the step-to-step difference, ignoring |diff| <= tol. */
int icl_sign_changes(const double *x, int n, double tol);
/* Direction reversals of x with hysteresis h: a turn counts once the series
 * has moved back by at least h from its extreme since the last turn (so
 * rounding-level wiggles never count). */
int icl_turns(const double *x, int n, double h);
/* Two-segment fit of y against x (continuous at the break, break searched on
 * a grid between the 2nd and the (n-1)th point): slopes, break x, SSE of the
 * fit and of the single line. */
typedef struct icl_break_fit {
    double slope_lo, slope_hi, x_break, y_break, sse2, sse1, slope1, icept1;
} icl_break_fit;
void icl_fit_break(const double *x, const double *y, int n, icl_break_fit *f);

typedef struct icl_sweep {
    int n;
    double L[ICL_MAX_SWEEP], steps[ICL_MAX_SWEEP];
    int hit[ICL_MAX_SWEEP];
    icl_break_fit fit;          /* log steps vs log L */
    double L_pred;              /* threshold predicted by the construction (amp sqrt(d)) */
} icl_sweep;

typedef struct icl_outcome {
    icl_result main;
    icl_sweep sweep;
    int have_sweep;
    int K, irr_show;            /* irr_show: feature whose irrelevant logit is shown in the close-up */
    double unseen_tol, rel_thr;
} icl_outcome;

typedef struct icl_osc { int total, pairs, best, best_j, best_k; } icl_osc;
/* Turns of every irrelevant logit W[j][k] (j != k) over the steps, each with
 * hysteresis ICL_OSC_REL of that logit's own range: total turns, logits with
 * at least one turn, the most turns of one logit and which. */
#define ICL_OSC_REL 0.01
void icl_oscillation(const icl_trace *t, int K, icl_osc *o);
/* Stage-wise dynamics of the main run (claim 2):
 *   rise       relevant mass at the end minus at step 0;
 *   frac_half  first evaluation step where the relevant mass has covered half
 *              of its total rise, as a fraction of the run's steps;
 *   late_gain  relevant mass gained over the second half of the run. */
typedef struct icl_stages { double rise, frac_half, late_gain; } icl_stages;
void icl_stagewise(const icl_trace *t, int steps, icl_stages *s);
struct icl_cfg;
void icl_claims(dl_run *run, const struct icl_cfg *c, const icl_outcome *o);
void icl_plots(dl_run *run, const struct icl_cfg *c, const icl_outcome *o);

/* The config (experiment.c). */
typedef struct icl_cfg {
    int d, K, N, hidden;
    double dominant_p, noise, L, amp;
    char scaling[DL_STR_MAX], train_family[DL_STR_MAX], unseen_family[DL_STR_MAX];
    double init_std, lr;
    int steps, batch, log_every, eval_size, n_train;
    double target;
    int sweep;
    dl_dlist sweep_L;
    int sweep_steps, sweep_batch, sweep_eval_size;
} icl_cfg;

#endif
