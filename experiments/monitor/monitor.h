/* monitor: predict-or-query monitoring of a Markov node (arXiv 2510.22327).
 *
 * Everything except the transformer forecaster is plain double-precision
 * numerics. The model, the greedy rule, the OPT formulation, the
 * counterexample and the PSGD learner are the reconstruction of spec C §3
 * ([R] marks in the comments): the paper's full text is not available, only
 * its abstract and first intro paragraph ([V]).
 *
 * Slot model (spec C §3.2 [R]): in slot t the monitor either queries (cost c,
 * observes X_t exactly, loss 0) or predicts (Bayes prediction from the belief,
 * realised loss l(Xhat, X_t)). The information state is (i, k): i = the state
 * seen at the last query, k >= 1 = slots since that query; the belief on X_t is
 * the row e_i^T P^k. */
#ifndef DYNLAB_EXP_MONITOR_H
#define DYNLAB_EXP_MONITOR_H

#include <stdint.h>
#include "dynlab/rng.h"

typedef enum { MON_LOSS_01 = 0, MON_LOSS_SQ = 1 } mon_loss_kind;

/* ---- chain.c: node models ------------------------------------------------ */
typedef enum {
    MON_FAM_STICKY = 0,  /* stay prob s_i spread over [stay_lo, stay_hi], rest Dirichlet */
    MON_FAM_RANDOM,      /* heterogeneous: row i = s_i e_i + (1-s_i) Dir(alpha), s_i ~ U(0,1) */
    MON_FAM_IID_ROWS,    /* rows drawn i.i.d. Dirichlet(alpha) (spec §3.6 reading 2) */
    MON_FAM_IDENTICAL,   /* every row the same pi ~ Dirichlet(alpha): X_t i.i.d. (reading 1) */
    MON_FAM_ADVERSARIAL  /* two-state symmetric flip eps (spec §3.5) */
} mon_family;

typedef struct mon_chain {
    int n;
    double *P;     /* n*n, row-stochastic */
    double *v;     /* n real values of the states (squared loss) */
    double *pi;    /* stationary law */
    mon_loss_kind loss;
} mon_chain;

typedef struct mon_chain_spec {
    mon_family family;
    int n;
    double alpha;            /* Dirichlet concentration */
    double stay_lo, stay_hi; /* sticky family */
    double eps;              /* adversarial flip probability */
    mon_loss_kind loss;
} mon_chain_spec;

/* Build a chain (random draws from r). Returns 0, or -1 with a message. */
int mon_chain_make(mon_chain *ch, const mon_chain_spec *s, dl_rng *r, char *err, int errlen);
void mon_chain_free(mon_chain *ch);
int mon_chain_from_matrix(mon_chain *ch, int n, const double *P, mon_loss_kind loss);
/* Stationary law by a direct solve (LAPACKE_dgesv). Returns 0 or -1. */
int mon_stationary(int n, const double *P, double *pi);
/* Span of the loss function: 1 for 0-1, (max v - min v)^2 for squared. */
double mon_loss_span(const mon_chain *ch);
/* Bayes prediction from a belief b: returns the expected loss and writes the
 * prediction (state index for 0-1 loss, a real value for squared loss). */
double mon_expected_loss(const mon_chain *ch, const double *b, double *pred);
/* Realised loss of prediction `pred` when the state is x. */
double mon_realised_loss(const mon_chain *ch, double pred, int x);
/* Sample the next state from row `i` (inverse CDF over the row). */
int mon_chain_step(const mon_chain *ch, int i, dl_rng *r);
int mon_sample_dist(const double *p, int n, dl_rng *r);

/* ---- the (i, k) model: powers of P, expected losses, truncation --------- */
typedef struct mon_model {
    int n, K;          /* k = 1..K are stored */
    double *Pk;        /* K*n*n: Pk[(k-1)*n*n + i*n + j] = (P^k)_{ij} */
    double *L;         /* K*n:   L[(k-1)*n + i] = L_i(k) */
    double *pred;      /* K*n:   Bayes prediction at (i, k) */
    double *pi;        /* n: stationary law (copy) */
    double L_inf;      /* min_x sum_j pi_j l(x, j) */
    double pred_inf;
    double tv_K;       /* max_i TV(e_i P^K, pi) */
    double loss_span;
} mon_model;

/* Powers up to the first K with max_i TV(P^K_i, pi) <= trunc_tv (at least
 * k_min, at most k_max). Returns 0 or -1 (allocation). */
int mon_model_build(mon_model *m, const mon_chain *ch, double trunc_tv, int k_min, int k_max);
void mon_model_free(mon_model *m);
static inline double mon_L(const mon_model *m, int i, int k) {
    return m->L[(size_t)(k > m->K ? m->K - 1 : k - 1) * (size_t)m->n + (size_t)i];
}

/* A threshold policy: query at (i, k) iff k >= tau[i]; MON_TAU_INF = never. */
#define MON_TAU_INF 0x3fffffff

/* ---- policy_greedy.c ---------------------------------------------------- */
/* Greedy (spec §3.3): query iff L_i(k) >= c; tau_i = first such k <= K, else
 * MON_TAU_INF (L_i stays within 2 TV_K * span of L_inf beyond K). */
void mon_greedy_thresholds(const mon_model *m, double c, int *tau);
/* Exact average cost of a threshold vector by renewal-reward (spec §3.4):
 * J = sum_i mu_i (c + sum_{k<tau_i} L_i(k)) / sum_i mu_i tau_i, mu stationary
 * for M_ij = (P^{tau_i})_ij. Any tau_i = MON_TAU_INF gives L_inf (see
 * policy_greedy.c for why). tau_i must be <= K or infinite. Also returns the
 * query rate (queries per slot) when qrate != NULL. NAN on failure. */
double mon_eval_thresholds(const mon_model *m, double c, const int *tau, double *qrate);

/* ---- policy_opt.c: relative value iteration ----------------------------- */
typedef struct mon_opt {
    double g;            /* optimal average cost of the truncated MDP */
    double g_lo, g_hi;   /* Bellman bounds min/max (Th - h) at the last sweep */
    double trunc_bound;  /* |g* - g_K| <= 2 TV_K (span l + span h) */
    int iters, converged;
    double seconds;      /* wall time of the solve (powers excluded) */
    int *tau;            /* n: first k whose DP action is query (MON_TAU_INF if none) */
    double *theta;       /* n: loss threshold L_i(tau_i) (NAN if never) */
    int threshold_ok;    /* query set upward closed in k, every state */
    int n_violations;    /* (i, k1 < k2) with query strictly better at k1, predict at k2 */
    double *h;           /* n*K relative values */
} mon_opt;

typedef struct mon_opt_params {
    double beta;    /* aperiodicity transform (damping), 0 < beta <= 1 */
    double tol;     /* stop when span(Th - h) < tol */
    int max_iter;
    double tie_tol; /* |Q_query - Q_predict| below this is a tie in the structure check */
} mon_opt_params;

int mon_opt_solve(const mon_model *m, double c, const mon_opt_params *p, mon_opt *out);
void mon_opt_free(mon_opt *o);

/* ---- simulate.c --------------------------------------------------------- */
typedef struct mon_sim {
    double mean, se;       /* time-averaged cost and its batch-means standard error */
    double query_rate, pred_loss; /* queries per slot; mean loss per slot */
    int64_t slots;
} mon_sim;

/* Simulate a threshold policy for `slots` slots (X_0 ~ pi queried at slot 0),
 * `batches` batch means. */
void mon_simulate_thresholds(const mon_chain *ch, const mon_model *m, double c, const int *tau,
                             int64_t slots, int batches, dl_rng *r, mon_sim *out);
/* Batch-means summary of a per-slot cost series. */
void mon_batch_means(const double *cost, int64_t slots, int batches, double *mean, double *se);

/* ---- psgd.c ------------------------------------------------------------- */
typedef struct mon_psgd_params {
    double c, eta0;
    int k_cap;          /* force a query after k_cap slots */
    int average;        /* decide with the running average of the iterates */
    int64_t slots;
    int log_points;     /* number of time points in the cost-over-time trace */
    double window_frac; /* final window for the converged cost */
    const int *seq;     /* optional recorded state sequence of `slots` states (the real node): replayed
                           instead of sampling the chain (then ch only supplies the loss) */
} mon_psgd_params;

typedef struct mon_psgd_result {
    double window_cost, window_se;   /* cost over the final window */
    double total_cost;               /* time average over the whole run */
    double exact_final;              /* renewal cost of greedy with the final estimate */
    double query_rate;
    double p_err;                    /* max_ij |Phat - P| at the end */
    double seconds, per_slot_seconds;
    int64_t queries;
    int n_points;                    /* trace */
    double *t, *cost_cum, *cost_win; /* time, running average, windowed average */
} mon_psgd_result;

int mon_psgd_run(const mon_chain *ch, const mon_model *m, const mon_psgd_params *p, dl_rng *r,
                 mon_psgd_result *out);
void mon_psgd_free(mon_psgd_result *r);
/* Greedy thresholds (capped at k_cap) that the learner uses before any
 * update: those of its uniform starting estimate 1/n. */
void mon_psgd_prior_thresholds(const mon_chain *ch, double c, int k_cap, int *tau);
/* Brier loss f(Phat; i, k, j) = ||e_i^T Phat^k - e_j^T||^2 and its gradient
 * (spec §3.7 [R]); grad is n*n, work needs (k + 2) * n doubles. */
double mon_brier_grad(int n, const double *Phat, int i, int k, int j, double *grad, double *work);
/* Row-wise Euclidean projection onto the simplex (uses dl_project_simplex). */
void mon_project_rows(double *P, int n);

/* ---- weather.c: the real node ------------------------------------------- */
/* Read the `weather` column of seattle-weather.csv (python3-vega-datasets):
 * one state per day, categories numbered in alphabetical order of their
 * names (names[k], up to 16 categories). Returns the number of days (>= 2),
 * or -1 with one line in err (missing file, no such column, short row, ...).
 * *seq is malloc'ed. */
int mon_weather_load(const char *path, int **seq, char names[16][24], int *n_states, char *err, int errlen);
/* Transition matrix estimated from seq[0..len) with add-`smooth` counts. */
void mon_estimate_chain(const int *seq, int len, int n, double smooth, double *P);
/* Average cost of a threshold policy replayed along a recorded sequence
 * (first slot a query; predictions from the model m). */
double mon_replay_thresholds(const mon_chain *ch, const mon_model *m, double c, const int *tau, const int *seq,
                             int len, double *qrate);

#endif
