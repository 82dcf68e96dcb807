/* monitor: run-level configuration and results shared by experiment.c,
 * claims.c, plots.c and forecaster.c. */
#ifndef DYNLAB_EXP_MONITOR_EXP_H
#define DYNLAB_EXP_MONITOR_EXP_H

#include "dynlab/config.h"
#include "dynlab/run.h"
#include "monitor/monitor.h"

typedef struct mon_cfg {
    /* main chain: cost versus c for every policy (claim 1) */
    char family[DL_STR_MAX];
    int n;
    double alpha, stay_lo, stay_hi;
    char loss[DL_STR_MAX];
    dl_dlist c_list;
    double thresholds_c;
    /* DP */
    double dp_trunc_tv, dp_beta, dp_tol, dp_tie_tol;
    int dp_k_min, dp_k_max, dp_max_iter;
    /* Monte Carlo */
    int sim_slots, sim_batches;
    /* adversarial family (claim 2) */
    double adv_c;
    dl_dlist adv_eps;
    /* identically distributed rows (claim 3) */
    int iid_chains, iid_n;
    double iid_alpha;
    dl_dlist iid_c;
    /* PSGD (claim 4) */
    double psgd_c, psgd_eta0, psgd_window;
    int psgd_k_cap, psgd_average, psgd_slots, psgd_points, psgd_sweep_slots, psgd_timing_reps;
    dl_dlist psgd_fam_c;   /* PSGD on every chain family at these c (claim 4) */
    int psgd_fam_slots;
    /* transformer forecaster (claim 5) */
    int fc_enabled, fc_ctx, fc_d_model, fc_heads, fc_layers, fc_steps, fc_batch;
    double fc_lr, fc_p_obs_lo, fc_p_obs_hi;
    int fc_replicas, fc_slots, fc_threads;
    dl_dlist fc_c;
    /* the real node: Seattle daily weather (real.c) */
    int real_enabled, real_train_days;
    char real_path[DL_STR_MAX];
    double real_smoothing;
    dl_dlist real_c;
} mon_cfg;

#define MON_MAX_C DL_LIST_MAX
/* Chain families of the per-family PSGD check: sticky, random, iid_rows, identical. */
#define MON_FAMS 4
extern const char *const mon_fam_names[MON_FAMS];
/* Claim 4: a (family, c) pair is informative when greedy with the true P
 * beats greedy with the learner's uniform starting estimate by more than the
 * 5 % tolerance: elsewhere nothing needs to be learnt. */
static inline int mon_fam_informative(double greedy_known, double prior) { return greedy_known * 1.05 < prior; }

typedef struct mon_results {
    /* main sweep */
    int n_c;
    double c[MON_MAX_C], opt[MON_MAX_C], greedy[MON_MAX_C], always[MON_MAX_C], never_[MON_MAX_C];
    double opt_sim[MON_MAX_C], opt_se[MON_MAX_C], greedy_sim[MON_MAX_C], greedy_se[MON_MAX_C];
    double opt_renewal[MON_MAX_C], opt_trunc[MON_MAX_C], opt_qrate[MON_MAX_C];
    double psgd_sweep[MON_MAX_C];
    int opt_violations[MON_MAX_C], opt_converged[MON_MAX_C];
    double opt_seconds[MON_MAX_C];
    int n_states;
    double L_inf;
    int K;
    /* thresholds per state at thresholds_c */
    int tau_opt[64], tau_greedy[64];
    double theta_opt[64];
    int thresholds_violations;
    /* adversarial */
    int n_eps;
    double eps[MON_MAX_C], adv_ratio[MON_MAX_C], adv_bound[MON_MAX_C], adv_opt[MON_MAX_C];
    double adv_greedy[MON_MAX_C];
    int adv_violations[MON_MAX_C], adv_tau[MON_MAX_C];
    /* identically distributed rows */
    int n_iid_c;
    double iid_c[MON_MAX_C];
    double ident_max[MON_MAX_C], iidrows_mean[MON_MAX_C], iidrows_max[MON_MAX_C];
    double ident_max_all, iidrows_mean_all, iidrows_p95, iidrows_max_all;
    int iid_solves;
    /* PSGD */
    mon_psgd_result psgd;
    double psgd_greedy_exact, psgd_opt_exact, opt_solve_seconds;
    double psgd_per_query_seconds;
    /* PSGD per chain family x c (claim 4): exact greedy with the true P, exact
     * greedy with the learner's starting estimate (uniform: what an untrained
     * learner does), and PSGD's final-window cost */
    int n_fam_c;
    double fam_c[MON_MAX_C];
    double fam_greedy[MON_FAMS][MON_MAX_C], fam_prior[MON_FAMS][MON_MAX_C], fam_psgd[MON_FAMS][MON_MAX_C];
    double fam_psgd_se[MON_FAMS][MON_MAX_C], fam_L_inf[MON_FAMS];
    double fam_greedy_uncapped[MON_FAMS][MON_MAX_C]; /* fam_greedy is greedy-known with PSGD's k_cap */
    /* forecaster */
    int fc_done, n_fc;
    double fc_c[MON_MAX_C], fc_cost[MON_MAX_C], fc_se[MON_MAX_C], fc_qrate[MON_MAX_C];
    double fc_greedy_exact[MON_MAX_C], fc_never[MON_MAX_C], fc_always[MON_MAX_C];
    double fc_train_loss, fc_bayes_loss, fc_tv; /* final CE, Bayes CE, mean TV to the true rows */
    double fc_seconds;
    /* the real node (real.c): chain estimated from the training days;
     * model = exact renewal cost on the estimated chain, replay = the policy
     * run along the held-out days of the real sequence */
    int real_done, real_n, real_days, real_train, n_real_c;
    char real_names[16][24];
    double real_c[MON_MAX_C], real_opt_model[MON_MAX_C], real_greedy_model[MON_MAX_C];
    double real_opt_replay[MON_MAX_C], real_greedy_replay[MON_MAX_C], real_psgd[MON_MAX_C], real_fc[MON_MAX_C];
    double real_always[MON_MAX_C], real_never[MON_MAX_C], real_fc_qrate[MON_MAX_C];
    double real_L_inf;
} mon_results;

/* forecaster.c: train the transformer on chain trajectories and run greedy
 * on its predictive distribution at every c in cfg->fc_c. Returns 0, or -1
 * after logging the problem. */
int mon_forecaster_run(const mon_cfg *cfg, const mon_chain *ch, const mon_model *m, dl_run *run,
                       mon_results *res);

/* real.c: the real node (weather.c): chain estimated from the first
 * real.train_days days; OPT, greedy, PSGD-greedy and the forecaster with
 * greedy replayed along the held-out days. 0, or -1 after logging. */
int mon_real_run(const mon_cfg *cfg, dl_run *run, mon_results *res);
int mon_forecaster_real(const mon_cfg *cfg, const int *seq, int n_train, int n_total, const mon_chain *ch,
                        const double *cs, int nc, dl_run *run, double *cost, double *qrate);

/* claims.c */
void mon_claims(const mon_cfg *cfg, const mon_results *res, dl_run *run);
/* plots.c */
void mon_plots(const mon_cfg *cfg, const mon_results *res, dl_run *run);

#endif
