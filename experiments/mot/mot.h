/* mot: Mixture-of-Transformers with a continuously trained gate and the
 * three-stage algorithm (arXiv 2510.27004). Internal interfaces of the
 * experiment; see docs/papers/mot.md for every reconstructed choice. */
#ifndef DYNLAB_EXP_MOT_H
#define DYNLAB_EXP_MOT_H

#include <stdint.h>
#include "dynlab/rng.h"

/* ---- configuration (every constant is a knob, see experiment.c) --------- */
typedef struct mot_cfg {
    /* synthetic N-mixture data, our reconstruction, docs/papers/mot.md */
    int d, n_classes, seq_len, n_train, n_test, n_conflict;
    double alpha, alpha_marker, beta, gamma, sigma_p;
    /* models, our reconstruction, docs/papers/mot.md */
    int n_experts;
    double init_std, route_noise;
    int gate_in_output;      /* F = pi_{m*} f_{m*} (Chen et al.) or F = f_{m*} */
    char loss[128];          /* "squared" | "logistic" */
    /* three-stage algorithm, docs/papers/mot.md */
    int t1, t2, t3;
    double lr_w1, lr_kq, lr_w3, lr_gate1, lr_gate, bal_coef;
    int gate_normalized, kq_normalized, w1_normalized;
    /* baselines */
    double lr_single, lr_moe;
    /* claims / metrics */
    int log_every;
    double eps_hi, eps_lo;   /* claim 5 epsilon range */
    /* Fashion-MNIST phase (claim 7) */
    int fm_enable, fm_train, fm_test, fm_experts, fm_t1, fm_t2, fm_t3, fm_log_every;
    double fm_beta, fm_lr_w1, fm_lr_w, fm_lr_kq, fm_lr_gate, fm_lr_single, fm_bal_coef;
    int gate_all_tokens;
    int compare_gate;        /* also train MoT with the other gate setting (the report shows it) */
} mot_cfg;

/* ---- data ----------------------------------------------------------------- */
typedef struct mot_data {
    int n, L, d;
    float *x;        /* [n][L][d] tokens */
    float *y;        /* [n] labels in {-1,+1} */
    int *cls;        /* [n] class (task) index */
    int *sig_pos;    /* [n] position of the classification-signal token (-1: unknown) */
} mot_data;

/* Synthetic N-mixture generator, stream-keyed by (seed, stream). */
int mot_data_synth(mot_data *D, const mot_cfg *c, int n, uint64_t seed, uint64_t stream);
void mot_data_free(mot_data *D);
/* Structured directions (standard basis): identifier c_n, marker u_n, label v_n. */
int mot_dir_id(const mot_cfg *c, int n);
int mot_dir_marker(const mot_cfg *c, int n);
int mot_dir_label(const mot_cfg *c, int n, int *sign);


/* ---- models, our reconstruction, docs/papers/mot.md ----------------------------------------------
 * All three models share one block: merged key-query attention read at the
 * class-identifier token (query q = x_0), identity value, one linear neuron:
 *   s_l = q^T W x_l,  a = softmax(s),  z = sum_l a_l x_l,  f = w^T z.
 * MoT: M such blocks + gate theta (M x d): h = theta (sum_l x_l), pi = softmax(h),
 *      top-1 route m* = argmax(h + r), r_m ~ U[0, route_noise]; F = pi_{m*} f_{m*}.
 * single: two attention heads, F = f_1 + f_2 (no gate).
 * MoE: MoT without attention (a = 1/L, W unused).
 * Parameters are one flat double vector: block b at b*(d*d+d) (W then w),
 * gate after the blocks. */
enum { MOT_KIND_MOT = 0, MOT_KIND_SINGLE = 1, MOT_KIND_MOE = 2 };
enum { MOT_LOSS_SQUARED = 0, MOT_LOSS_LOGISTIC = 1 };

typedef struct mot_model {
    int kind, n_blocks, d, attn, gated;
    int gate_all_tokens;  /* gate reads sum of all tokens (1) or the identifier token x_0 (0) */
    const double *pi_cache; /* [n][M] gate probabilities of the current step (trainer), or NULL */
    int64_t n_params;
    double *p;            /* parameters */
} mot_model;

int mot_model_init(mot_model *m, int kind, int n_blocks, int d, double init_std, uint64_t seed,
                   uint64_t stream);
void mot_model_free(mot_model *m);
static inline int64_t mot_block_size(int d) { return (int64_t)d * d + d; }
static inline double *mot_block_W(const mot_model *m, int b) { return m->p + b * mot_block_size(m->d); }
static inline double *mot_block_w(const mot_model *m, int b) { return mot_block_W(m, b) + (int64_t)m->d * m->d; }
static inline double *mot_gate(const mot_model *m) { return m->p + m->n_blocks * mot_block_size(m->d); }

/* Statistics of one pass over samples. */
typedef struct mot_stats {
    double loss, err;       /* mean loss, error rate */
    double attn_signal;     /* mean attention mass on the signal token (routed block / heads) */
    double gate_value;      /* mean pi_{m*} */
    int n;
    int *route;             /* optional [n_blocks][n_classes] counts (caller-owned, zeroed) */
    int n_classes;
} mot_stats;

/* One block on one sample: returns f, fills a[L] and z[d]. */
double mot_block_forward(const double *W, const double *w, const float *X, int L, int d, int attn,
                         double *a, double *z);
/* Backward of f = w^T z through the block given dF/df = g: adds to gW (may be
 * NULL: attention frozen / absent) and gw (may be NULL). */
void mot_block_backward(const double *W, const double *w, const float *X, int L, int d, int attn,
                        const double *a, const double *z, double g, double *gW, double *gw);

/* Route one sample: gate scores h (M), softmax pi, chosen block. noise may be NULL. */
int mot_route(const mot_model *m, const float *X, int L, const double *noise, double *h, double *pi);

/* Mean loss over samples idx[0..n) (all samples when idx == NULL); when grad
 * != NULL adds the mean gradient (n_params) into it. Routing: routes[i] for
 * sample i when routes != NULL (training, noisy routes from mot_route_all),
 * argmax of the gate otherwise. */
double mot_pass(const mot_model *m, const mot_data *D, const int *idx, int n, int loss_kind,
                const int *routes, double *grad, mot_stats *st);
/* Load-balancing term of the gate (Li et al. 2024):
 * coef * M * sum_m f_m P_m, f_m = fraction of samples routed to m (constant),
 * P_m = mean pi_m; adds its gradient into the gate part of grad, returns its value. */
double mot_balance(const mot_model *m, const mot_data *D, const double *frac, double coef,
                   double *grad);
/* Routes of all samples with fresh routing noise (training): fills routes[n]
 * and frac[M]. */
void mot_route_all(const mot_model *m, const mot_data *D, dl_rng *rng, double route_noise,
                   int *routes, double *frac, double *pis /* [n][M] or NULL */);

double mot_loss_value(int loss_kind, double F, double y, double *dF);

/* ---- training, docs/papers/mot.md ------------------------------------------------ */
/* Which parameter groups a step updates. */
enum { MOT_UPD_W = 1, MOT_UPD_KQ = 2, MOT_UPD_GATE = 4 };

typedef struct mot_trainer {
    mot_model *m;
    double *grad;      /* n_params */
    int *routes;       /* per training sample, this step */
    double *pis;       /* gate probabilities per training sample, this step */
    double *frac;      /* routed fraction per block */
    double bal_coef;   /* load-balancing coefficient (0 = off) */
    dl_rng rng;        /* routing noise */
} mot_trainer;

int mot_trainer_init(mot_trainer *t, mot_model *m, uint64_t seed, uint64_t stream);
void mot_trainer_free(mot_trainer *t);
/* One full-batch gradient step; returns the training loss before the step. */
double mot_train_step(mot_trainer *t, const mot_data *D, int loss_kind, double route_noise,
                      int upd, double lr_w, double lr_kq, double lr_gate, int kq_normalized,
                      int gate_normalized);
/* Same, with normalized per-block FFN steps when w_normalized. */
double mot_train_step_ex(mot_trainer *t, const mot_data *D, int loss_kind, double route_noise,
                         int upd, double lr_w, double lr_kq, double lr_gate, int w_normalized,
                         int kq_normalized, int gate_normalized);
/* Stage of MoT at step s (0-based): 1, 2 or 3. */
int mot_stage_at(const mot_cfg *c, int s);

/* ---- analysis helpers (claims.c) ------------------------------------------ */
/* Expert -> class map by majority over route[M][N] (-1: expert unused), and
 * the fraction of samples routed to an expert mapped to their class. */
double mot_routing_accuracy(const int *route, int M, int N, const int *map);
void mot_routing_map(const int *route, int M, int N, int *map);
/* Least-squares line y = a + b x; returns R^2. */
double mot_fit_line(const double *x, const double *y, int n, double *a, double *b);
/* First step at which trace[0..n) <= eps, or -1. */
int mot_first_below(const double *trace, int n, double eps);
/* exp(entropy) of a histogram: the effective number of experts used. */
double mot_effective_count(const int *hist, int n);
double mot_cosine(const double *a, const double *b, int64_t n);

/* ---- Fashion-MNIST variant (fmnist.c) ---------------------------------- */
/* Build a task-mixture data set: tasks[t] = {positive class, negative class};
 * each image becomes an identifier token (beta * e_{P+t}) and 4 patch tokens
 * of 7x7 pixels of the image average-pooled 2x to 14x14 (tokens are
 * [patch pixels - 0.5 | zeros], P = 49). */
struct dl_mnist;
int mot_fmnist_build(mot_data *D, const struct dl_mnist *src, const int (*tasks)[2], int n_tasks,
                     double beta, int max_n, uint64_t seed, uint64_t stream);

#endif
