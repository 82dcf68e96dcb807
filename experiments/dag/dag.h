/* dag: multi-head positional attention learns a K-parent DAG by gradient
 * ascent on the kernel-guided mutual information (KG-MI), arXiv 2510.25542.
 * Everything here is our reconstruction (docs/papers/dag.md) (the paper's text
 * past the abstract is not available); docs/papers/dag.md explains each choice.
 *
 * Layout conventions shared by every file of this experiment:
 *   positions 0..T-1 in topological order; positions < roots are roots;
 *   attention has L = T-1 query rows: row r is position r+1, it may attend
 *   key positions c <= r (every earlier position), i.e. a causal [L, L] matrix
 *   per head, exactly what dl_softmax(causal = 1) produces. */
#ifndef DYNLAB_EXP_DAG_H
#define DYNLAB_EXP_DAG_H

#include <stdint.h>
#include "dynlab/core.h"
#include "dynlab/rng.h"

#define DAG_MAX_K 8
#define DAG_MAX_H 16

/* ---- generator (dag_gen.c), our reconstruction, docs/papers/dag.md --------------------------- */
typedef enum { DAG_KERNEL_PERM = 0, DAG_KERNEL_DIRICHLET = 1 } dag_kernel_kind;

typedef struct dag_gen_opts {
    int T, S, K, roots;     /* roots >= K: the first `roots` positions have no parents */
    int window;             /* parents from [i-window, i-1]; 0 = all earlier positions */
    dag_kernel_kind kernel; /* per-parent transition kernel P_k */
    double noise;           /* PERM: P_k = (1-noise) permutation + noise/S */
    double alpha;           /* DIRICHLET: rows ~ Dir(alpha), then Sinkhorn to doubly stochastic */
    int n_lambda;           /* 0 = equal mixture weights 1/K */
    double lambda[DAG_MAX_K];
} dag_gen_opts;

#define DAG_MAX_T 64

typedef struct dag_graph {
    int T, S, K, roots;
    int parents[DAG_MAX_T * DAG_MAX_K]; /* [T][K], sorted ascending; -1 on roots */
    double lambda[DAG_MAX_K];    /* child ~ sum_k lambda_k P_k(. | x_{p_k}) */
    double *P;                   /* [K][S][S] component kernels, row = parent token */
} dag_graph;

/* Check options; returns 0 or -1 with a one-line reason in err. */
int dag_gen_check(const dag_gen_opts *o, char *err, size_t errlen);
/* Draw the fixed graph and kernels (rng consumed in a fixed order). */
int dag_graph_make(dag_graph *g, const dag_gen_opts *o, dl_rng *rng);
void dag_graph_free(dag_graph *g);
/* Draw K kernels [K][S][S] into P (used once per dataset, or per sequence in context). */
void dag_kernels_draw(const dag_gen_opts *o, dl_rng *rng, double *P);
/* One sequence x[T] under kernels P ([K][S][S]; g->P for the fixed-kernel dataset). */
void dag_sample(const dag_graph *g, const double *P, dl_rng *rng, int *x);
/* Probability of x under the generator with kernels P. */
double dag_seq_prob(const dag_graph *g, const double *P, const int *x);
/* Marginal transition kernel of parent slot k (docs/papers/dag.md):
 * pi_k(x'|x) = lambda_k P_k(x'|x) + (1 - lambda_k)/S, out [K][S][S]. */
void dag_marginal_kernels(const dag_graph *g, const double *P, double *pi);
int dag_is_parent(const dag_graph *g, int pos, int j);

/* ---- KG-MI objective (kgmi.c), reconstruction of the paper's §II ------------ */
typedef enum { DAG_F_KL = 0, DAG_F_CHI2, DAG_F_HELLINGER, DAG_F_TV, DAG_F_RKL, DAG_F_COUNT } dag_f;
extern const char *const dag_f_names[DAG_F_COUNT]; /* "kl", "chi2", "hellinger", "tv", "rkl" */
int dag_f_parse(const char *s);                   /* -1 when unknown */

/* f'(t), f''(t), g(t) = f*(f'(t)) = t f'(t) - f(t), g'(t) = t f''(t). */
typedef struct dag_fvals { double fp, fpp, g, gp; } dag_fvals;
dag_fvals dag_f_eval(int f, double t, double tv_beta);

typedef struct dag_kgmi_spec {
    int T, S, H;
    int f;
    double tv_beta;        /* smoothing of |t-1| for TV (TV's f' is a step) */
    double w[DAG_MAX_H];   /* head weights in the ratio sum (1 / heads sharing a kernel) */
    double ratio_floor;    /* numerical guard on the density ratio (1e-12) */
    /* dag_kgmi_op with a kernel tensor: when kernel_lambda[h] > 0 the tensor
     * holds component kernels P_h and head h uses lam_h P_h + (1 - lam_h)/S. */
    double kernel_lambda[DAG_MAX_H];
} dag_kgmi_spec;

/* KG-MI of a batch (our reconstruction, docs/papers/dag.md §KG-MI):
 *   r_i(y) = 1 + sum_h w_h (S * sum_{j<i} a^h_{ij} Pi_h(y | x_j) - 1)
 *   J = sum_b wt_b sum_{i>=1} [ f'(r_i(x_i)) - (1/S) sum_y g(r_i(y)) ]
 * A: [H][L][L] causal attention; Pi: [H][S][S] head kernels, with
 * pi_stride = 0 (shared by all sequences) or H*S*S (in-context: per sequence).
 * X: [n][T]; wt: [n] sequence weights (NULL = 1/n). gA ([H][L][L]) and gPi
 * (like Pi) are ACCUMULATED when non-NULL. Returns J. */
double dag_kgmi_batch(const dag_kgmi_spec *sp, const double *A, const double *Pi, int64_t pi_stride,
                      int n, const int *X, const double *wt, double *gA, double *gPi);
/* Exact population value by enumerating all S^T sequences of the generator
 * (fixed kernels only; S^T <= 2^22). Same outputs as dag_kgmi_batch. */
double dag_kgmi_exact(const dag_kgmi_spec *sp, const dag_graph *g, const double *A,
                      const double *Pi, double *gA, double *gPi);
int64_t dag_enum_count(int S, int T); /* S^T or -1 when above 2^22 */

/* ---- model (model.c), our reconstruction, docs/papers/dag.md ----------------------------------- */
/* Row softmax of causal logits theta [H][L][L] (double reference of dl_softmax). */
void dag_attention_ref(int H, int L, const double *theta, double *A);
/* dJ/dtheta from dJ/dA through the row softmax (reference). */
void dag_attention_backward_ref(int H, int L, const double *A, const double *gA, double *gtheta);
/* Kernel of head h: given -> pi_{h mod K}; shared (ablation) -> mean_k pi_k. */
void dag_head_kernels(int H, int K, int S, const double *pi, int shared, double *Pi);
void dag_head_weights(int H, int K, int shared, double *w);
/* The reference configuration: head h one-hot on parent p_{h mod K} at every
 * non-root row, uniform on root rows. */
void dag_attention_onehot(const dag_graph *g, int H, double *A);

/* Tape op: scalar KG-MI of a batch as a dl_tensor, differentiable in A
 * ([H][L][L]) and, when Pi_t != NULL requires grad, in the head kernels. The
 * kernels come from Pi_t ([H][S][S]) or, when Pi_t == NULL, from Pi_const with
 * pi_stride (in-context). X, wt must stay alive until dl_graph_reset. */
dl_tensor *dag_kgmi_op(dl_graph *gr, const dag_kgmi_spec *sp, dl_tensor *A, dl_tensor *Pi_t,
                       const double *Pi_const, int64_t pi_stride, int n, const int *X,
                       const double *wt);

/* Recovery metrics from attention A [H][L][L]. */
typedef struct dag_metrics {
    double min_parent_mass, mean_parent_mass;
    double precision, recall;
    int exact;                 /* recovered adjacency == truth on non-root rows */
    double heads_distinct;     /* fraction of non-root rows whose K kernel-heads have distinct argmax */
    double heads_collapsed;    /* fraction of non-root rows where all heads share one argmax */
    double root_entropy_min;   /* min normalized entropy over root rows with >= 2 keys (1 if none) */
} dag_metrics;
void dag_measure(const dag_graph *g, int H, const double *A, dag_metrics *m);
/* Recovered adjacency [T][T]: 1 where some head's row argmax points (non-root rows). */
void dag_recovered_adjacency(const dag_graph *g, int H, const double *A, double *adj);
void dag_true_adjacency(const dag_graph *g, double *adj);

#endif
