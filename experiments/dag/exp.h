/* The dag experiment's config and the results one run collects (experiment.c,
 * claims.c, plots.c). */
#ifndef DYNLAB_EXP_DAG_EXP_H
#define DYNLAB_EXP_DAG_EXP_H

#include "dynlab/config.h"
#include "dynlab/run.h"
#include "dag/train.h"

typedef struct dag_cfg {
    /* data: our reconstruction, docs/papers/dag.md */
    int T, S, K, roots, window;
    char kernel[DL_STR_MAX];
    double noise, alpha;
    dl_dlist lambda;
    int in_context;
    /* model: our reconstruction, docs/papers/dag.md */
    int heads;
    char kernels[DL_STR_MAX];
    double kernel_lr, kernel_init_noise, init_std;
    /* objective: our reconstruction, docs/papers/dag.md */
    char f[DL_STR_MAX];
    char estimate[DL_STR_MAX];
    double tv_beta;
    int batch, eval_size;
    /* training */
    double lr, delta;
    int iters, log_every;
    /* what else the run does */
    int compare_f, ablation, sweep;
    double ablation_init_std;   /* the symmetry-broken ablation's logit init (claim 6's other setting) */
    int compare_kernels;        /* also train with the other model.kernels setting */
    dl_dlist sweep_T, sweep_S, sweep_K;
    int sweep_seeds, sweep_max_seeds, sweep_max_iters, sweep_K_T, sweep_K_S, sweep_batch;
    double sweep_target_se;
} dag_cfg;

#define DAG_SWEEP_MAX DL_LIST_MAX

typedef struct dag_sweep {
    const char *var;          /* "T", "S", "K" */
    int n;
    double value[DAG_SWEEP_MAX];
    double iters[DAG_SWEEP_MAX];   /* mean iterations to recovery over the sweep seeds */
    double iters_sd[DAG_SWEEP_MAX];
    int graphs[DAG_SWEEP_MAX];     /* graphs drawn for the point */
    int all_recovered;        /* every seed of every point recovered within the budget */
    double pow_exponent, pow_r2, exp_rate, exp_r2;
    double exp_lo, exp_hi;    /* log-log slope over the lower / upper half of the points */
} dag_sweep;

typedef struct dag_outcome {
    dag_graph g;
    int H, f;
    dag_train_result main;
    dag_train_result other[DAG_F_COUNT];
    int have_other[DAG_F_COUNT];
    dag_train_result ablation;
    int have_ablation;
    dag_train_result ablation_broken;   /* shared kernel, random init (symmetry broken) */
    int have_ablation_broken;
    dag_train_result other_kernels;     /* model.kernels flipped (given <-> learned) */
    int have_other_kernels;
    dag_sweep sweep[3];
    int have_sweep;
    double seconds;
} dag_outcome;

void dag_claims(dl_run *run, const dag_cfg *c, const dag_outcome *out);
void dag_plots(dl_run *run, const dag_cfg *c, const dag_outcome *out);
/* Least squares y = a + b x; returns b and R^2. */
void dag_fit_line(const double *x, const double *y, int n, double *slope, double *r2);

#endif
