/* rehearsal: concurrent, sequential and hybrid rehearsal in continual learning
 * (Deng, Wu, Ju, Lin, Liang, Shroff, ICML 2025, arXiv 2506.00205).
 *
 * Two parts (docs/papers/rehearsal.md):
 *   linear  overparameterized linear regression, every training phase run to
 *           the minimum-norm solution closest to the previous weights (closed
 *           form, LAPACK), forgetting and generalization error exact per draw,
 *           Monte-Carlo over many draws;
 *   deep    task-incremental Split-Fashion-MNIST (and rotated Fashion-MNIST)
 *           with a one-hidden-layer MLP, one head per task, plain SGD. */
#ifndef REHEARSAL_H
#define REHEARSAL_H

#include <stdint.h>
#include "dynlab/config.h"
#include "dynlab/run.h"

/* ---- configuration ---------------------------------------------------------------- */
#define RH_MAX_CONFIGS 8
#define RH_MAX_T 16

typedef struct rh_cfg {
    /* linear */
    int lin_enable;
    dl_dlist lin_p, lin_n, lin_M, lin_T;  /* the problem-size configurations, one entry each */
    int reps;                             /* Monte-Carlo draws per grid point */
    double noise;                         /* label noise s of the gated runs */
    double noise_report;                  /* s of the reported (ungated) noisy run at d = 0 */
    dl_dlist d_grid;                      /* similarity knob d of family U (sweep) */
    dl_dlist d_hybrid;                    /* d of family C (hybrid) */
    double cluster_spread;                /* within-cluster spread of family C */
    double tau_factor;                    /* oracle similarity: ||dw*||^2 < tau_factor d^2 */
    char sr_order[DL_STR_MAX];            /* old_to_new | new_to_old */
    char buffer[DL_STR_MAX];              /* reused | fresh (fresh-per-revisit: the closed form's case) */
    /* deep */
    int deep_enable;
    char family[DL_STR_MAX];              /* split | rotated | both */
    int seeds;                            /* inner seeds of the deep comparison */
    int n_train, n_test;                  /* images per task */
    int hidden;
    int epochs;
    int batch;
    double lr;
    int memory;                           /* M, buffer per past task */
    char grouping[DL_STR_MAX];            /* family | data: the hybrid grouping the claim uses */
    int data_subset;                      /* Fashion-MNIST images read (0 = all) */
} rh_cfg;

/* ---- linear setting ----------------------------------------------------------------- */
/* Minimum-norm change of w that interpolates (A, y): A is K x p row-major (one
 * sample per row), w <- w + A^T (A A^T)^{-1} (y - A w). Cholesky of the K x K
 * Gram matrix in double precision (LAPACKE_dpotrf/dpotrs). work: K*K + K
 * doubles. Returns 0, or the LAPACK info when A A^T is not positive definite. */
int rh_minnorm_update(double *w, const double *A, const double *y, int K, int p, double *work);
/* The same update when the K x K Gram matrix G of the rows is already known
 * (assembled from a Gram matrix computed once per draw); G is overwritten by
 * its Cholesky factor, r (K doubles) is scratch. */
int rh_minnorm_update_gram(double *w, const double *const *rows, const double *y, int K, int p, double *G, double *r);

enum { RH_FAM_U = 0, RH_FAM_C = 1, RH_FAM_E = 2 };
enum { RH_NONE = 0, RH_CR, RH_SR, RH_HR, RH_SRREV, RH_NSTRAT };
extern const char *const rh_strat_name[RH_NSTRAT];

typedef struct rh_lin_problem {
    int p, n, M, T;
    double s;          /* label noise */
    int family;        /* RH_FAM_* */
    double d;          /* similarity knob */
    double spread;     /* family C within-cluster spread */
    double tau;        /* oracle similarity threshold */
    double tau_factor; /* rh_lin_draw / rh_lin_point set tau = tau_factor d^2 for each d */
    int fresh;         /* 1: every revisit draws fresh buffer samples */
    int theory;        /* 1: also evaluate the section-2.1 closed form per draw */
} rh_lin_problem;

/* Ground truths w*_t (T x p) of one draw (families U and C draw from r; E is fixed). */
void rh_ground_truths(const rh_lin_problem *P, double *wstar, void *rng);
/* Oracle similarity of tasks i and t (||w*_i - w*_t||^2 < tau). */
int rh_similar(const rh_lin_problem *P, const double *wstar, int i, int t);

/* Forgetting F_T and generalization error G_T of one draw for every strategy
 * (NAN where a strategy is not run); theory_F/G: the section-2.1 closed form
 * (fresh-per-revisit) conditional on this draw's ground truths. Untrained:
 * every update is skipped (weights stay at 0). Returns 0, -1 on a solver failure. */
typedef struct rh_draw {
    double F[RH_NSTRAT], G[RH_NSTRAT];
    double thF[RH_NSTRAT], thG[RH_NSTRAT];
} rh_draw;
typedef struct rh_lin_work rh_lin_work;
rh_lin_work *rh_lin_work_new(const rh_lin_problem *P);
void rh_lin_work_free(rh_lin_work *w);
/* Draws shared by all d values in dvals (common random numbers): out[nd]. */
int rh_lin_draw(const rh_lin_problem *P, const double *dvals, int nd, int sr_reverse, int untrained, uint64_t seed,
                uint64_t stream, rh_lin_work *wk, rh_draw *out);

/* Every strategy on given data (X [T][n][p], y [T][n], ground truths [T][p]): unit tests. */
int rh_lin_given(const rh_lin_problem *P, const double *X, const double *y, const double *wstar, int sr_reverse,
                 rh_lin_work *wk, rh_draw *out);

/* Section 2.1 closed form: expected ||w - v||^2 after one minimum-norm update on
 * K = sum n_k fresh Gaussian rows, block k labelled by target wt_k (+ noise s). */
double rh_closed_step(double e_prev, int p, int nblocks, const int *nk, const double *const *wt,
                      const double *v, double s);
/* Expected F_T and G_T of a strategy in the fresh-per-revisit case, given the
 * ground truths (T x p) and the oracle grouping (for the hybrid). */
void rh_closed_fg(const rh_lin_problem *P, const double *wstar, int strat, int sr_reverse, double *F,
                  double *G);

/* Monte-Carlo summary of one grid point: mean and standard error over draws,
 * paired differences against concurrent rehearsal. */
typedef struct rh_point {
    double F[RH_NSTRAT], G[RH_NSTRAT], seF[RH_NSTRAT], seG[RH_NSTRAT];
    double thF[RH_NSTRAT], thG[RH_NSTRAT];
    double dG[RH_NSTRAT], dF[RH_NSTRAT], sedG[RH_NSTRAT], sedF[RH_NSTRAT]; /* strategy - CR */
    double medG_cr, medG_sr;
} rh_point;
int rh_lin_point(const rh_lin_problem *P, const double *dvals, int nd, int reps, int sr_reverse, int untrained,
                 uint64_t seed, uint64_t stream, rh_point *out);

/* ---- deep setting -------------------------------------------------------------------- */
#define RH_DEEP_NSTRAT 5  /* none, CR, SR, HR (class-family grouping), HR (data similarity) */
enum { RH_D_NONE = 0, RH_D_CR, RH_D_SR, RH_D_HR, RH_D_HRDATA };
extern const char *const rh_deep_name[RH_DEEP_NSTRAT];

typedef struct rh_task_set {
    int T, C;          /* tasks, classes per task (head width) */
    int n_train, n_test, dim;
    float *xtr, *xte;  /* [T][n][dim] */
    int *ytr, *yte;    /* [T][n], labels in [0, C) */
    int group[RH_MAX_T]; /* class-family grouping of the hybrid */
    char name[32];
} rh_task_set;
void rh_task_set_free(rh_task_set *s);
struct dl_mnist;
/* Split Fashion-MNIST: class pairs (0,6) (5,7) (2,4) (9,8) (1,3); groups clothing / footwear+bag. */
int rh_split_fmnist(const struct dl_mnist *tr, const struct dl_mnist *te, int n_train, int n_test,
                    uint64_t seed, uint64_t stream, rh_task_set *out);
/* Rotated Fashion-MNIST: all 10 classes, rotations 0, 90, 15, 105, 30 degrees; groups |dAngle| < 45. */
int rh_rotated_fmnist(const struct dl_mnist *tr, const struct dl_mnist *te, int n_train, int n_test,
                      uint64_t seed, uint64_t stream, rh_task_set *out);
/* Rotate a 28x28 image by deg degrees about its centre (bilinear, zero outside). */
void rh_rotate_image(const float *in, float *out, int h, int w, double deg);

typedef struct rh_deep_result {
    double acc[RH_DEEP_NSTRAT][RH_MAX_T][RH_MAX_T]; /* a_{t,i}: test accuracy on task i after task t */
    double ACC[RH_DEEP_NSTRAT], FGT[RH_DEEP_NSTRAT], seconds[RH_DEEP_NSTRAT];
    int64_t replay_steps[RH_DEEP_NSTRAT];
    int nonfinite;
} rh_deep_result;
typedef struct rh_deep_opts {
    int hidden, epochs, batch, memory;
    double lr;
    int untrained;
} rh_deep_opts;
int rh_deep_run(const rh_task_set *S, const rh_deep_opts *o, uint64_t seed, uint64_t stream,
                rh_deep_result *r);

/* ---- run parts ------------------------------------------------------------------------ */
typedef struct rh_lin_results {
    int nconf;
    int p[RH_MAX_CONFIGS], n[RH_MAX_CONFIGS], M[RH_MAX_CONFIGS], T[RH_MAX_CONFIGS], TC[RH_MAX_CONFIGS];
    int nd, nh;
    double d[DL_LIST_MAX], dh[DL_LIST_MAX];
    rh_point U[RH_MAX_CONFIGS][DL_LIST_MAX];  /* family U sweep */
    rh_point C[RH_MAX_CONFIGS][DL_LIST_MAX];  /* family C (hybrid) */
    rh_point noisy;                           /* config 0, d = 0, s = noise_report */
    rh_point fresh_check;                     /* config 0, family E, d = 1, fresh buffers */
    double seconds;
} rh_lin_results;
int rh_linear_phase(const rh_cfg *c, dl_run *run, rh_lin_results *L);
void rh_linear_claims(const rh_cfg *c, dl_run *run, const rh_lin_results *L);
/* Crossover d* of G_SR - G_CR on configuration k's sweep (NAN when none);
 * returns 1 when the sign changes + to - exactly once with d* in [0.05, 0.5]. */
int rh_crossover(const rh_lin_results *L, int k, double *dstar);
void rh_linear_plots(const rh_cfg *c, dl_run *run, const rh_lin_results *L);

typedef struct rh_deep_summary {
    int seeds, T, C;
    char family[32];
    double *ACC;   /* [seeds][RH_DEEP_NSTRAT] */
    double *FGT;
    double acc_mean[RH_DEEP_NSTRAT][RH_MAX_T][RH_MAX_T];
    double seconds[RH_DEEP_NSTRAT];       /* mean wall time of one run */
    double replay_steps[RH_DEEP_NSTRAT];  /* mean SGD steps that touched the memory */
    double wall;                          /* the whole family, all seeds */
} rh_deep_summary;
int rh_deep_phase(const rh_cfg *c, dl_run *run, const char *family, const struct dl_mnist *tr,
                  const struct dl_mnist *te, rh_deep_summary *D);
void rh_deep_summary_free(rh_deep_summary *D);
void rh_deep_claims(const rh_cfg *c, dl_run *run, const rh_deep_summary *split);
void rh_deep_report_rotated(dl_run *run, const rh_deep_summary *D);
void rh_deep_plots(dl_run *run, const rh_deep_summary *D, int n_fam);

#endif
