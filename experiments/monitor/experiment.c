/* monitor: predict or query (arXiv 2510.22327). Registration, knobs, presets
 * and the run: main-chain sweep over c (OPT / greedy / always / never /
 * PSGD), the adversarial family, the identically-distributed-rows families,
 * the PSGD learner, the transformer forecaster, then claims and plots. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/experiment.h"
#include "dynlab/rng.h"
#include "monitor/exp.h"

#define F_INT(m, key, def, lo, hi, help) DL_FIELD_INT(mon_cfg, m, key, def, lo, hi, help)
#define F_DBL(m, key, def, lo, hi, help) DL_FIELD_DOUBLE(mon_cfg, m, key, def, lo, hi, help)
#define F_LIST(m, key, def, lo, hi, help) DL_FIELD_LIST(mon_cfg, m, key, def, lo, hi, help)

static const dl_field mon_fields[] = {
    DL_FIELD_ENUM(mon_cfg, family, "chain.family", "sticky", "sticky|random|iid_rows|identical",
                  "main chain: sticky (stay prob spread over [stay_lo, stay_hi]), random "
                  "(row i = s_i e_i + (1-s_i) Dir(alpha)), iid_rows (rows i.i.d. Dir(alpha)), "
                  "identical (every row the same pi)"),
    F_INT(n, "chain.n", 5, 2, 64, "number of node states"),
    F_DBL(alpha, "chain.alpha", 1.0, 1e-3, 1e3, "Dirichlet concentration of the random rows"),
    F_DBL(stay_lo, "chain.stay_lo", 0.8, 0.0, 0.999, "sticky family: smallest stay probability"),
    F_DBL(stay_hi, "chain.stay_hi", 0.97, 0.0, 0.999, "sticky family: largest stay probability"),
    DL_FIELD_ENUM(mon_cfg, loss, "chain.loss", "01", "01|sq",
                  "prediction loss: 01 (MAP, 1{xhat != x}) or sq (state values j/(n-1), "
                  "posterior mean, squared error)"),
    F_LIST(c_list, "sweep.c", "0.05,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9", 1e-6, 1e6,
           "query costs c of the main sweep"),
    F_DBL(thresholds_c, "sweep.thresholds_c", 0.3, 1e-6, 1e6, "c of the thresholds-per-state plot"),
    F_DBL(dp_trunc_tv, "dp.trunc_tv", 1e-9, 0.0, 0.5,
          "truncation horizon K: first k with max_i TV(e_i P^k, pi) <= this"),
    F_INT(dp_k_min, "dp.k_min", 2, 2, 1000000, "smallest horizon K"),
    F_INT(dp_k_max, "dp.k_max", 200000, 2, 10000000, "largest horizon K"),
    F_DBL(dp_beta, "dp.beta", 0.5, 0.01, 1.0, "RVI aperiodicity transform (damping)"),
    F_DBL(dp_tol, "dp.tol", 1e-10, 1e-14, 1e-2, "RVI stops when span(Th - h) < tol"),
    F_INT(dp_max_iter, "dp.max_iter", 1000000, 1, 100000000, "RVI sweep limit"),
    F_DBL(dp_tie_tol, "dp.tie_tol", 1e-7, 0.0, 1.0,
          "|Q_query - Q_predict| below this is a tie in the threshold-structure check"),
    F_INT(sim_slots, "sim.slots", 200000, 1000, 100000000, "Monte Carlo slots per policy"),
    F_INT(sim_batches, "sim.batches", 40, 2, 10000, "batches for batch-means standard errors"),
    F_DBL(adv_c, "adversarial.c", 0.6, 0.5, 1.0, "query cost of the two-state counterexample (>1/2)"),
    F_LIST(adv_eps, "adversarial.eps", "0.1,0.03,0.01,0.003,0.001", 1e-6, 0.5,
           "flip probabilities eps of the two-state counterexample"),
    F_INT(iid_chains, "iid.chains", 30, 1, 100000, "random chains per identically-distributed family"),
    F_INT(iid_n, "iid.n", 5, 2, 64, "states of the identically-distributed chains"),
    F_DBL(iid_alpha, "iid.alpha", 1.0, 1e-3, 1e3, "Dirichlet concentration of their rows"),
    F_LIST(iid_c, "iid.c", "0.05,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8", 1e-6, 1e6,
           "query costs of the identically-distributed sweep"),
    F_DBL(psgd_c, "psgd.c", 0.1, 1e-6, 1e6, "query cost of the PSGD run"),
    F_DBL(psgd_eta0, "psgd.eta0", 0.1, 1e-6, 1e3, "PSGD step size eta0/sqrt(queries)"),
    F_INT(psgd_k_cap, "psgd.k_cap", 200, 1, 100000, "PSGD safety query after k_cap slots"),
    DL_FIELD_BOOL(mon_cfg, psgd_average, "psgd.average", 1,
                  "decide with the running (Polyak) average of the PSGD iterates"),
    F_INT(psgd_slots, "psgd.slots", 400000, 1000, 100000000, "PSGD slots"),
    F_INT(psgd_points, "psgd.points", 50, 2, 10000, "points of the PSGD cost-over-time trace"),
    F_DBL(psgd_window, "psgd.window", 0.25, 0.01, 1.0, "final fraction of the slots for the converged cost"),
    F_INT(psgd_sweep_slots, "psgd.sweep_slots", 100000, 0, 100000000,
          "PSGD slots at every c of the main sweep (0 = skip)"),
    F_INT(psgd_timing_reps, "psgd.timing_reps", 3, 1, 1000, "OPT solves timed (median) for the ratio"),
    F_LIST(psgd_fam_c, "psgd.family_c", "0.1,0.3,0.5,0.7", 1e-6, 1e6,
           "query costs of the PSGD run on every chain family (sticky, random, iid_rows, identical)"),
    F_INT(psgd_fam_slots, "psgd.family_slots", 200000, 1000, 100000000, "PSGD slots per (family, c)"),
    DL_FIELD_BOOL(mon_cfg, fc_enabled, "forecaster.enabled", 1, "train and run the transformer forecaster"),
    F_INT(fc_ctx, "forecaster.ctx", 16, 2, 1024, "context window (slots) of the forecaster"),
    F_INT(fc_d_model, "forecaster.d_model", 32, 4, 1024, "transformer width"),
    F_INT(fc_heads, "forecaster.heads", 2, 1, 64, "attention heads"),
    F_INT(fc_layers, "forecaster.layers", 1, 1, 64, "transformer blocks"),
    F_INT(fc_steps, "forecaster.steps", 400, 1, 10000000, "training steps"),
    F_INT(fc_batch, "forecaster.batch", 64, 1, 4096, "training sequences per step"),
    F_DBL(fc_lr, "forecaster.lr", 3e-3, 1e-6, 1.0, "AdamW learning rate (cosine decay)"),
    F_DBL(fc_p_obs_lo, "forecaster.p_obs_lo", 0.03, 0.0, 1.0,
          "training masks: per-sequence observation probability, lowest"),
    F_DBL(fc_p_obs_hi, "forecaster.p_obs_hi", 0.6, 0.0, 1.0, "... highest"),
    F_INT(fc_replicas, "forecaster.replicas", 32, 1, 4096, "monitors simulated in parallel (batch)"),
    F_INT(fc_slots, "forecaster.slots", 512, 8, 10000000, "slots per replica"),
    F_LIST(fc_c, "forecaster.c", "0.15,0.25,0.35", 1e-6, 1e6,
           "query costs of the forecaster runs (interior: below L_inf, where greedy itself beats never-query)"),
    F_INT(fc_threads, "forecaster.threads", 1, 0, 1024,
          "OpenMP threads for the forecaster (0 = the run's setting; its shapes are too small to gain)"),
    DL_FIELD_BOOL(mon_cfg, real_enabled, "real.enabled", 1,
                  "run the real node: Seattle's daily weather categories 2012-2015 (python3-vega-datasets)"),
    DL_FIELD_STRING(mon_cfg, real_path, "real.path",
                    "/usr/lib/python3/dist-packages/vega_datasets/_data/seattle-weather.csv",
                    "seattle-weather.csv (column 'weather': one category per day)"),
    F_INT(real_train_days, "real.train_days", 1096,
          2, 100000, "days used to estimate the chain and train the forecaster (1096 = 2012-2014); the rest is held out"),
    F_DBL(real_smoothing, "real.smoothing", 1.0, 0.0, 1e6, "add-this transition counts (Laplace) of the estimate"),
    F_LIST(real_c, "real.c", "0.1,0.2,0.3,0.4,0.45,0.5", 1e-6, 1e6, "query costs on the real node"),
};

static const dl_config_schema mon_schema = {mon_fields, (int)(sizeof mon_fields / sizeof mon_fields[0]),
                                            sizeof(mon_cfg)};

static const dl_preset mon_presets[] = {
    {"quick", "{}"},
    {"paper", "{\"sim\": {\"slots\": 1000000}, \"iid\": {\"chains\": 200},"
              " \"adversarial\": {\"eps\": [0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001]},"
              " \"psgd\": {\"slots\": 1000000, \"sweep_slots\": 400000, \"family_slots\": 1000000},"
              " \"forecaster\": {\"steps\": 1500, \"slots\": 2000, \"c\": [0.1, 0.15, 0.2, 0.25, 0.3, 0.35]}}"},
    {NULL, NULL},
};

static mon_loss_kind loss_of(const mon_cfg *c) { return strcmp(c->loss, "sq") == 0 ? MON_LOSS_SQ : MON_LOSS_01; }

static mon_family family_of(const char *s) {
    if (!strcmp(s, "random")) return MON_FAM_RANDOM;
    if (!strcmp(s, "iid_rows")) return MON_FAM_IID_ROWS;
    if (!strcmp(s, "identical")) return MON_FAM_IDENTICAL;
    return MON_FAM_STICKY;
}

static mon_opt_params opt_params(const mon_cfg *c) {
    mon_opt_params p = {c->dp_beta, c->dp_tol, c->dp_max_iter, c->dp_tie_tol};
    return p;
}

static int64_t g_step; /* metrics row counter across the phases of one run */

/* RNG streams (seed = run->seed): one per purpose so that phases never
 * perturb each other's draws. */
enum { S_MAIN = 1, S_ADV = 2, S_IID = 3, S_PSGD = 4, S_SIM = 100, S_PSGD_SWEEP = 200, S_FAM = 500 };

const char *const mon_fam_names[MON_FAMS] = {"sticky", "random", "iid_rows", "identical"};

static int phase_main(const mon_cfg *cfg, dl_run *run, mon_chain *ch, mon_model *m, mon_results *res) {
    char err[256];
    dl_rng r;
    dl_rng_init(&r, run->seed, S_MAIN);
    mon_chain_spec spec = {family_of(cfg->family), cfg->n, cfg->alpha, cfg->stay_lo, cfg->stay_hi, 0.0,
                           loss_of(cfg)};
    if (mon_chain_make(ch, &spec, &r, err, (int)sizeof err)) {
        dl_log(run, "error: %s", err);
        return -1;
    }
    int kmin = cfg->dp_k_min > cfg->psgd_k_cap ? cfg->dp_k_min : cfg->psgd_k_cap;
    if (mon_model_build(m, ch, cfg->dp_trunc_tv, kmin, cfg->dp_k_max)) {
        dl_log(run, "error: out of memory building the (i, k) model");
        return -1;
    }
    res->n_states = ch->n;
    res->L_inf = m->L_inf;
    res->K = m->K;
    dl_log(run, "main chain: %s, n=%d, loss %s, K=%d (TV_K=%.2e), L_inf=%.4f", cfg->family, ch->n,
           cfg->loss, m->K, m->tv_K, m->L_inf);
    mon_opt_params op = opt_params(cfg);
    res->n_c = cfg->c_list.n;
    int *tg = malloc((size_t)ch->n * sizeof(int));
    if (!tg) return -1;
    for (int a = 0; a < cfg->c_list.n; a++) {
        double c = cfg->c_list.v[a];
        mon_opt o;
        if (mon_opt_solve(m, c, &op, &o)) {
            free(tg);
            return -1;
        }
        mon_greedy_thresholds(m, c, tg);
        res->c[a] = c;
        res->opt[a] = o.g;
        res->opt_trunc[a] = o.trunc_bound + 0.5 * (o.g_hi - o.g_lo);
        res->opt_renewal[a] = mon_eval_thresholds(m, c, o.tau, &res->opt_qrate[a]);
        res->opt_violations[a] = o.n_violations;
        res->opt_converged[a] = o.converged;
        res->opt_seconds[a] = o.seconds;
        res->greedy[a] = mon_eval_thresholds(m, c, tg, NULL);
        res->always[a] = c;
        res->never_[a] = m->L_inf;
        mon_sim so, sg;
        dl_rng rs;
        dl_rng_init(&rs, run->seed, S_SIM + (uint64_t)(2 * a));
        mon_simulate_thresholds(ch, m, c, o.tau, cfg->sim_slots, cfg->sim_batches, &rs, &so);
        dl_rng_init(&rs, run->seed, S_SIM + (uint64_t)(2 * a + 1));
        mon_simulate_thresholds(ch, m, c, tg, cfg->sim_slots, cfg->sim_batches, &rs, &sg);
        res->opt_sim[a] = so.mean;
        res->opt_se[a] = so.se;
        res->greedy_sim[a] = sg.mean;
        res->greedy_se[a] = sg.se;
        res->psgd_sweep[a] = NAN;
        if (cfg->psgd_sweep_slots > 0) {
            mon_psgd_params pp = {c, cfg->psgd_eta0, cfg->psgd_k_cap, cfg->psgd_average,
                                  cfg->psgd_sweep_slots, 10, cfg->psgd_window, NULL};
            mon_psgd_result pr;
            dl_rng_init(&rs, run->seed, S_PSGD_SWEEP + (uint64_t)a);
            if (mon_psgd_run(ch, m, &pp, &rs, &pr) == 0) res->psgd_sweep[a] = pr.window_cost;
            mon_psgd_free(&pr);
        }
        dl_metrics_begin(run, g_step++);
        dl_metrics_add_str(run, "phase", "sweep");
        dl_metrics_add(run, "c", c);
        dl_metrics_add(run, "opt", o.g);
        dl_metrics_add(run, "opt_renewal", res->opt_renewal[a]);
        dl_metrics_add(run, "opt_sim", so.mean);
        dl_metrics_add(run, "opt_sim_se", so.se);
        dl_metrics_add(run, "opt_query_rate", res->opt_qrate[a]);
        dl_metrics_add(run, "opt_rvi_iters", o.iters);
        dl_metrics_add(run, "opt_trunc_bound", o.trunc_bound);
        dl_metrics_add(run, "opt_structure_violations", o.n_violations);
        dl_metrics_add(run, "greedy", res->greedy[a]);
        dl_metrics_add(run, "greedy_sim", sg.mean);
        dl_metrics_add(run, "greedy_sim_se", sg.se);
        dl_metrics_add(run, "greedy_over_opt", res->greedy[a] / o.g);
        dl_metrics_add(run, "always", c);
        dl_metrics_add(run, "never", m->L_inf);
        if (!isnan(res->psgd_sweep[a])) dl_metrics_add(run, "psgd", res->psgd_sweep[a]);
        dl_metrics_end(run);
        dl_log(run, "c=%.3g: OPT %.5f (sim %.5f +- %.5f, %d sweeps) greedy %.5f (ratio %.3f) always %.3g never %.4f",
               c, o.g, so.mean, so.se, o.iters, res->greedy[a], res->greedy[a] / o.g, c, m->L_inf);
        mon_opt_free(&o);
        if (dl_check_finite(run, "OPT average cost", res->opt[a], g_step)) {
            free(tg);
            return -1;
        }
    }
    /* thresholds per state at thresholds_c */
    mon_opt o;
    if (mon_opt_solve(m, cfg->thresholds_c, &op, &o)) {
        free(tg);
        return -1;
    }
    mon_greedy_thresholds(m, cfg->thresholds_c, tg);
    for (int i = 0; i < ch->n && i < 64; i++) {
        res->tau_opt[i] = o.tau[i];
        res->tau_greedy[i] = tg[i];
        res->theta_opt[i] = o.theta[i];
    }
    res->thresholds_violations = o.n_violations;
    mon_opt_free(&o);
    free(tg);
    return 0;
}

/* Two-state flip chain (spec C §3.5): greedy never queries when c > 1/2. */
static int phase_adversarial(const mon_cfg *cfg, dl_run *run, mon_results *res) {
    mon_opt_params op = opt_params(cfg);
    res->n_eps = cfg->adv_eps.n;
    double c = cfg->adv_c;
    for (int a = 0; a < cfg->adv_eps.n; a++) {
        double eps = cfg->adv_eps.v[a];
        char err[256];
        mon_chain_spec spec = {MON_FAM_ADVERSARIAL, 2, 1.0, 0, 0, eps, MON_LOSS_01};
        mon_chain ch;
        mon_model m;
        if (mon_chain_make(&ch, &spec, NULL, err, (int)sizeof err) ||
            mon_model_build(&m, &ch, cfg->dp_trunc_tv, cfg->dp_k_min, cfg->dp_k_max)) {
            dl_log(run, "error: adversarial chain eps=%g: %s", eps, err);
            return -1;
        }
        mon_opt o;
        if (mon_opt_solve(&m, c, &op, &o)) return -1;
        int tg[2];
        mon_greedy_thresholds(&m, c, tg);
        double Jg = mon_eval_thresholds(&m, c, tg, NULL);
        /* closed-form lower bound on the ratio: J_greedy = 1/2 and
         * J_OPT <= min_tau (c/tau + eps (tau-1)/2) since L(k) <= eps k */
        double ub = INFINITY;
        for (int t = 1; t < 10000000; t++) {
            double v = c / t + eps * (t - 1) / 2.0;
            if (v < ub) ub = v;
            else if (t > 2.0 * sqrt(2.0 * c / eps) + 2) break;
        }
        res->eps[a] = eps;
        res->adv_opt[a] = o.g;
        res->adv_greedy[a] = Jg;
        res->adv_ratio[a] = Jg / o.g;
        res->adv_bound[a] = 0.5 / ub;
        res->adv_violations[a] = o.n_violations;
        res->adv_tau[a] = o.tau[0];
        dl_metrics_begin(run, g_step++);
        dl_metrics_add_str(run, "phase", "adversarial");
        dl_metrics_add(run, "eps", eps);
        dl_metrics_add(run, "c", c);
        dl_metrics_add(run, "opt", o.g);
        dl_metrics_add(run, "greedy", Jg);
        dl_metrics_add(run, "ratio", Jg / o.g);
        dl_metrics_add(run, "ratio_lower_bound", 0.5 / ub);
        dl_metrics_add(run, "opt_tau", o.tau[0]);
        dl_metrics_add(run, "K", m.K);
        dl_metrics_add(run, "opt_rvi_iters", o.iters);
        dl_metrics_end(run);
        dl_log(run, "adversarial eps=%g: OPT %.5f (tau*=%d, K=%d) greedy %.4f ratio %.3f >= bound %.3f", eps, o.g,
               o.tau[0], m.K, Jg, Jg / o.g, 0.5 / ub);
        mon_opt_free(&o);
        mon_model_free(&m);
        mon_chain_free(&ch);
    }
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Identically distributed rows (spec C §3.6): reading 1 (identical rows) and
 * reading 2 (rows i.i.d. Dirichlet(alpha)). */
static int phase_iid(const mon_cfg *cfg, dl_run *run, mon_results *res) {
    mon_opt_params op = opt_params(cfg);
    int nc = cfg->iid_c.n, N = cfg->iid_chains;
    res->n_iid_c = nc;
    double *all = malloc((size_t)nc * (size_t)N * sizeof(double));
    int *tg = malloc((size_t)cfg->iid_n * sizeof(int));
    if (!all || !tg) {
        free(all);
        free(tg);
        return -1;
    }
    for (int a = 0; a < nc; a++) {
        res->iid_c[a] = cfg->iid_c.v[a];
        res->ident_max[a] = 0.0;
        res->iidrows_mean[a] = 0.0;
        res->iidrows_max[a] = 0.0;
    }
    res->iid_solves = 0;
    dl_rng r;
    dl_rng_init(&r, run->seed, S_IID);
    for (int fam = 0; fam < 2; fam++)
        for (int ci = 0; ci < N; ci++) {
            char err[256];
            mon_chain_spec spec = {fam == 0 ? MON_FAM_IDENTICAL : MON_FAM_IID_ROWS, cfg->iid_n, cfg->iid_alpha, 0, 0,
                                   0, MON_LOSS_01};
            mon_chain ch;
            mon_model m;
            if (mon_chain_make(&ch, &spec, &r, err, (int)sizeof err) ||
                mon_model_build(&m, &ch, cfg->dp_trunc_tv, cfg->dp_k_min, cfg->dp_k_max)) {
                dl_log(run, "error: identically-distributed chain: %s", err);
                free(all);
                free(tg);
                return -1;
            }
            for (int a = 0; a < nc; a++) {
                double c = cfg->iid_c.v[a];
                mon_opt o;
                if (mon_opt_solve(&m, c, &op, &o)) {
                    free(all);
                    free(tg);
                    return -1;
                }
                mon_greedy_thresholds(&m, c, tg);
                double ratio = mon_eval_thresholds(&m, c, tg, NULL) / o.g;
                res->iid_solves++;
                if (fam == 0) {
                    if (ratio > res->ident_max[a]) res->ident_max[a] = ratio;
                } else {
                    res->iidrows_mean[a] += ratio / N;
                    if (ratio > res->iidrows_max[a]) res->iidrows_max[a] = ratio;
                    all[(size_t)ci * nc + a] = ratio;
                }
                mon_opt_free(&o);
            }
            mon_model_free(&m);
            mon_chain_free(&ch);
        }
    res->ident_max_all = res->iidrows_max_all = res->iidrows_mean_all = 0.0;
    for (int a = 0; a < nc; a++) {
        if (res->ident_max[a] > res->ident_max_all) res->ident_max_all = res->ident_max[a];
        if (res->iidrows_max[a] > res->iidrows_max_all) res->iidrows_max_all = res->iidrows_max[a];
        res->iidrows_mean_all += res->iidrows_mean[a] / nc;
        dl_metrics_begin(run, g_step++);
        dl_metrics_add_str(run, "phase", "iid");
        dl_metrics_add(run, "c", res->iid_c[a]);
        dl_metrics_add(run, "identical_rows_max_ratio", res->ident_max[a]);
        dl_metrics_add(run, "iid_rows_mean_ratio", res->iidrows_mean[a]);
        dl_metrics_add(run, "iid_rows_max_ratio", res->iidrows_max[a]);
        dl_metrics_end(run);
    }
    qsort(all, (size_t)nc * (size_t)N, sizeof(double), cmp_double);
    res->iidrows_p95 = all[(size_t)floor(0.95 * (double)(nc * N - 1))];
    dl_log(run, "identical rows: max greedy/OPT %.6f; rows i.i.d. Dir(%g): mean %.4f p95 %.4f max %.4f (%d chains x %d c)",
           res->ident_max_all, cfg->iid_alpha, res->iidrows_mean_all, res->iidrows_p95, res->iidrows_max_all, N, nc);
    free(all);
    free(tg);
    return 0;
}

static int cmp_double_up(const void *a, const void *b) { return cmp_double(a, b); }

static int phase_psgd(const mon_cfg *cfg, dl_run *run, const mon_chain *ch, const mon_model *m, mon_results *res) {
    double c = cfg->psgd_c;
    int *tg = malloc((size_t)ch->n * sizeof(int));
    if (!tg) return -1;
    mon_greedy_thresholds(m, c, tg);
    res->psgd_greedy_exact = mon_eval_thresholds(m, c, tg, NULL);
    free(tg);
    /* OPT's computation: the RVI solve a plug-in learner would redo after
     * every update of its estimate (median of timing_reps solves) */
    mon_opt_params op = opt_params(cfg);
    double times[64];
    int reps = cfg->psgd_timing_reps < 64 ? cfg->psgd_timing_reps : 64;
    for (int k = 0; k < reps; k++) {
        mon_opt o;
        if (mon_opt_solve(m, c, &op, &o)) return -1;
        times[k] = o.seconds;
        res->psgd_opt_exact = o.g;
        mon_opt_free(&o);
    }
    qsort(times, (size_t)reps, sizeof(double), cmp_double_up);
    res->opt_solve_seconds = times[reps / 2];
    mon_psgd_params pp = {c, cfg->psgd_eta0, cfg->psgd_k_cap, cfg->psgd_average, cfg->psgd_slots,
                          cfg->psgd_points, cfg->psgd_window, NULL};
    dl_rng r;
    dl_rng_init(&r, run->seed, S_PSGD);
    if (mon_psgd_run(ch, m, &pp, &r, &res->psgd)) {
        dl_log(run, "error: PSGD run failed (out of memory)");
        return -1;
    }
    mon_psgd_result *p = &res->psgd;
    res->psgd_per_query_seconds = p->seconds / (double)p->queries;
    for (int k = 0; k < p->n_points; k++) {
        dl_metrics_begin(run, g_step++);
        dl_metrics_add_str(run, "phase", "psgd");
        dl_metrics_add(run, "slot", p->t[k]);
        dl_metrics_add(run, "psgd_cost_running", p->cost_cum[k]);
        dl_metrics_add(run, "psgd_cost_window", p->cost_win[k]);
        /* cumulative regret against OPT and against greedy with known P */
        dl_metrics_add(run, "psgd_regret_vs_opt", p->t[k] * (p->cost_cum[k] - res->psgd_opt_exact));
        dl_metrics_add(run, "psgd_regret_vs_greedy", p->t[k] * (p->cost_cum[k] - res->psgd_greedy_exact));
        dl_metrics_add(run, "greedy_known", res->psgd_greedy_exact);
        dl_metrics_add(run, "opt", res->psgd_opt_exact);
        dl_metrics_end(run);
    }
    dl_log(run, "PSGD c=%g eta0=%g: final-window cost %.5f +- %.5f vs greedy-known %.5f (ratio %.4f), OPT %.5f; "
           "greedy with the final estimate %.5f; max|Phat-P| %.3f; %.2e s/slot, %.2e s/query vs OPT solve %.2e s",
           c, cfg->psgd_eta0, p->window_cost, p->window_se, res->psgd_greedy_exact,
           p->window_cost / res->psgd_greedy_exact, res->psgd_opt_exact, p->exact_final, p->p_err,
           p->per_slot_seconds, res->psgd_per_query_seconds, res->opt_solve_seconds);
    return 0;
}

/* PSGD on one chain of every family at every c of psgd.family_c (claim 4 per
 * family, not on the sticky main chain alone). */
static int phase_psgd_families(const mon_cfg *cfg, dl_run *run, mon_results *res) {
    static const mon_family fams[MON_FAMS] = {MON_FAM_STICKY, MON_FAM_RANDOM, MON_FAM_IID_ROWS, MON_FAM_IDENTICAL};
    int kmin = cfg->dp_k_min > cfg->psgd_k_cap ? cfg->dp_k_min : cfg->psgd_k_cap;
    res->n_fam_c = cfg->psgd_fam_c.n;
    for (int f = 0; f < MON_FAMS; f++) {
        char err[256];
        dl_rng r;
        dl_rng_init(&r, run->seed, S_FAM + 16 * (uint64_t)f);
        mon_chain_spec spec = {fams[f], cfg->n, cfg->alpha, cfg->stay_lo, cfg->stay_hi, 0.0, loss_of(cfg)};
        mon_chain ch;
        mon_model m;
        if (mon_chain_make(&ch, &spec, &r, err, (int)sizeof err)) {
            dl_log(run, "error: %s chain: %s", mon_fam_names[f], err);
            return -1;
        }
        if (mon_model_build(&m, &ch, cfg->dp_trunc_tv, kmin, cfg->dp_k_max)) {
            mon_chain_free(&ch);
            dl_log(run, "error: out of memory building the %s model", mon_fam_names[f]);
            return -1;
        }
        res->fam_L_inf[f] = m.L_inf;
        int *tg = malloc((size_t)ch.n * sizeof(int));
        int rc = tg ? 0 : -1;
        for (int a = 0; a < cfg->psgd_fam_c.n && rc == 0; a++) {
            double c = cfg->psgd_fam_c.v[a];
            res->fam_c[a] = c;
            mon_greedy_thresholds(&m, c, tg);
            res->fam_greedy_uncapped[f][a] = mon_eval_thresholds(&m, c, tg, NULL);
            /* like with like: the learner queries at the latest after k_cap
             * slots (so learning never stalls); the known-P reference gets
             * the same safety cap */
            for (int i = 0; i < ch.n; i++)
                if (tg[i] > cfg->psgd_k_cap) tg[i] = cfg->psgd_k_cap;
            res->fam_greedy[f][a] = mon_eval_thresholds(&m, c, tg, NULL);
            mon_psgd_prior_thresholds(&ch, c, cfg->psgd_k_cap, tg);
            res->fam_prior[f][a] = mon_eval_thresholds(&m, c, tg, NULL);
            mon_psgd_params pp = {c, cfg->psgd_eta0, cfg->psgd_k_cap, cfg->psgd_average, cfg->psgd_fam_slots, 10,
                                  cfg->psgd_window, NULL};
            mon_psgd_result pr;
            dl_rng rp;
            dl_rng_init(&rp, run->seed, S_FAM + 16 * (uint64_t)f + 1 + (uint64_t)a);
            if (mon_psgd_run(&ch, &m, &pp, &rp, &pr)) {
                dl_log(run, "error: PSGD run failed (out of memory)");
                rc = -1;
                break;
            }
            res->fam_psgd[f][a] = pr.window_cost;
            res->fam_psgd_se[f][a] = pr.window_se;
            mon_psgd_free(&pr);
            dl_metrics_begin(run, g_step++);
            dl_metrics_add_str(run, "phase", "psgd_family");
            dl_metrics_add_str(run, "family", mon_fam_names[f]);
            dl_metrics_add(run, "c", c);
            dl_metrics_add(run, "L_inf", m.L_inf);
            dl_metrics_add(run, "greedy_known", res->fam_greedy_uncapped[f][a]);
            dl_metrics_add(run, "greedy_known_capped", res->fam_greedy[f][a]);
            dl_metrics_add(run, "greedy_uniform_estimate", res->fam_prior[f][a]);
            dl_metrics_add(run, "psgd_window_cost", res->fam_psgd[f][a]);
            dl_metrics_add(run, "psgd_over_greedy", res->fam_psgd[f][a] / res->fam_greedy[f][a]);
            dl_metrics_add(run, "informative", mon_fam_informative(res->fam_greedy[f][a], res->fam_prior[f][a]));
            dl_metrics_end(run);
            dl_log(run, "PSGD %s c=%g: %.5f vs greedy-known %.5f with the same k_cap (ratio %.4f; uncapped %.5f); "
                   "uniform estimate %.5f%s", mon_fam_names[f],
                   c, res->fam_psgd[f][a], res->fam_greedy[f][a], res->fam_psgd[f][a] / res->fam_greedy[f][a],
                   res->fam_greedy_uncapped[f][a],
                   res->fam_prior[f][a],
                   mon_fam_informative(res->fam_greedy[f][a], res->fam_prior[f][a]) ? "" : " (nothing to learn)");
        }
        free(tg);
        mon_model_free(&m);
        mon_chain_free(&ch);
        if (rc) return -1;
    }
    return 0;
}

static void finals(const mon_cfg *cfg, const mon_results *res, dl_run *run) {
    dl_final(run, "main_L_inf", res->L_inf);
    dl_final(run, "main_K", res->K);
    double worst = 0.0;
    for (int a = 0; a < res->n_c; a++)
        if (res->greedy[a] / res->opt[a] > worst) worst = res->greedy[a] / res->opt[a];
    dl_final(run, "main_max_greedy_over_opt", worst);
    dl_final(run, "adversarial_max_ratio", res->n_eps ? res->adv_ratio[res->n_eps - 1] : NAN);
    dl_final(run, "identical_rows_max_ratio", res->ident_max_all);
    dl_final(run, "iid_rows_mean_ratio", res->iidrows_mean_all);
    dl_final(run, "iid_rows_p95_ratio", res->iidrows_p95);
    dl_final(run, "iid_rows_max_ratio", res->iidrows_max_all);
    dl_final(run, "psgd_window_cost", res->psgd.window_cost);
    dl_final(run, "psgd_greedy_known", res->psgd_greedy_exact);
    dl_final(run, "psgd_over_greedy", res->psgd.window_cost / res->psgd_greedy_exact);
    dl_final(run, "psgd_final_estimate_exact_cost", res->psgd.exact_final);
    dl_final(run, "psgd_regret_vs_opt", res->psgd.total_cost * cfg->psgd_slots - res->psgd_opt_exact * cfg->psgd_slots);
    dl_final(run, "psgd_regret_vs_opt_per_slot", res->psgd.total_cost - res->psgd_opt_exact);
    dl_final(run, "psgd_seconds_per_slot", res->psgd.per_slot_seconds);
    dl_final(run, "psgd_seconds_per_query", res->psgd_per_query_seconds);
    dl_final(run, "opt_solve_seconds", res->opt_solve_seconds);
    dl_final(run, "opt_over_psgd_compute", res->opt_solve_seconds / res->psgd_per_query_seconds);
    if (res->real_done) {
        dl_final(run, "real_days", res->real_days);
        dl_final(run, "real_heldout_days", res->real_days - res->real_train);
        dl_final(run, "real_L_inf", res->real_L_inf);
        for (int a = 0; a < res->n_real_c; a++) {
            char key[64];
            const char *what[] = {"opt", "greedy", "psgd", "forecaster", "never"};
            const double v[] = {res->real_opt_replay[a], res->real_greedy_replay[a], res->real_psgd[a], res->real_fc[a],
                                res->real_never[a]};
            for (int k = 0; k < 5; k++) {
                snprintf(key, sizeof key, "real_c%g_%s", res->real_c[a], what[k]);
                dl_final(run, key, v[k]);
            }
        }
    }
    if (res->fc_done)
        for (int a = 0; a < res->n_fc; a++) {
            char key[64];
            snprintf(key, sizeof key, "forecaster_cost_c%g", res->fc_c[a]);
            dl_final(run, key, res->fc_cost[a]);
        }
}

/* Knob combinations the field ranges cannot express. */
static int validate(const mon_cfg *cfg, dl_run *run) {
    const char *bad = NULL;
    if (cfg->c_list.n < 1) bad = "sweep.c must list at least one query cost";
    else if (cfg->iid_c.n < 1) bad = "iid.c must list at least one query cost";
    else if (cfg->adv_eps.n < 3) bad = "adversarial.eps must list at least three flip probabilities";
    else if (cfg->real_enabled && cfg->real_c.n < 1) bad = "real.c must list at least one query cost";
    else if (cfg->psgd_fam_c.n < 1) bad = "psgd.family_c must list at least one query cost";
    else if (cfg->fc_enabled && cfg->fc_c.n < 1) bad = "forecaster.c must list at least one query cost";
    else if (cfg->stay_lo > cfg->stay_hi) bad = "chain.stay_lo must not exceed chain.stay_hi";
    else if (cfg->psgd_k_cap > cfg->dp_k_max) bad = "psgd.k_cap must not exceed dp.k_max";
    else if (cfg->dp_k_min > cfg->dp_k_max) bad = "dp.k_min must not exceed dp.k_max";
    if (bad) dl_log(run, "error: %s", bad);
    return bad ? -1 : 0;
}

static int monitor_run(const void *vcfg, dl_run *run) {
    /* The untrained control (`--control untrained`): the PSGD learner and the
     * forecaster get learning rate 0 (the learner keeps its uniform estimate,
     * the forecaster its initial weights); everything else is identical. */
    mon_cfg cfg_local = *(const mon_cfg *)vcfg;
    if (dl_run_untrained(run)) {
        cfg_local.psgd_eta0 = 0.0;
        cfg_local.fc_lr = 0.0;
    }
    const mon_cfg *cfg = &cfg_local;
    if (validate(cfg, run)) return 1;
    mon_results *res = calloc(1, sizeof *res);
    if (!res) return -1;
    g_step = 0;
    mon_chain ch;
    mon_model m;
    memset(&ch, 0, sizeof ch);
    memset(&m, 0, sizeof m);
    int rc = -1;
    double t0 = dl_now();
    if (phase_main(cfg, run, &ch, &m, res)) goto out;
    dl_progress(run, "monitor", 1, 5, "sweep");
    if (phase_adversarial(cfg, run, res)) goto out;
    dl_progress(run, "monitor", 2, 5, "adversarial");
    if (phase_iid(cfg, run, res)) goto out;
    dl_progress(run, "monitor", 3, 5, "iid");
    if (phase_psgd(cfg, run, &ch, &m, res)) goto out;
    if (phase_psgd_families(cfg, run, res)) goto out;
    dl_progress(run, "monitor", 4, 5, "psgd");
    if (cfg->fc_enabled && mon_forecaster_run(cfg, &ch, &m, run, res)) goto out;
    if (cfg->real_enabled && mon_real_run(cfg, run, res)) goto out;
    dl_progress(run, "monitor", 5, 5, "forecaster");
    finals(cfg, res, run);
    dl_final(run, "wall_seconds", dl_now() - t0);
    mon_claims(cfg, res, run);
    mon_plots(cfg, res, run);
    rc = 0;
out:
    mon_psgd_free(&res->psgd);
    mon_model_free(&m);
    mon_chain_free(&ch);
    free(res);
    return rc;
}

/* Constraints between knobs: configuration errors (exit 2) before the run;
 * the forecaster repeats them for callers that bypass the CLI. */
int dl_check_monitor(const void *cfgv, char *err, size_t errlen) {
    const mon_cfg *c = cfgv;
    if (!c->fc_enabled) return 0;
    if (c->n > 64)
        snprintf(err, errlen, "the forecaster supports chain.n <= 64 (got %d)", c->n);
    else if (c->fc_p_obs_lo > c->fc_p_obs_hi)
        snprintf(err, errlen, "forecaster.p_obs_lo (%g) must not exceed forecaster.p_obs_hi (%g)",
                 c->fc_p_obs_lo, c->fc_p_obs_hi);
    else if (c->fc_d_model % c->fc_heads)
        snprintf(err, errlen, "forecaster.d_model (%d) must be a multiple of forecaster.heads (%d)",
                 c->fc_d_model, c->fc_heads);
    else
        return 0;
    return -1;
}

const dl_experiment dl_exp_monitor = {
    "monitor",
    "Monitoring State Transitions in Markovian Systems with Sampling Cost",
    "2510.22327",
    "A monitor tracks a Markov node: each slot it queries the state at a fixed cost or predicts it and "
    "pays a prediction loss. The greedy policy (query iff the expected prediction loss reaches the query "
    "cost) can be arbitrarily worse than OPT, a state-dependent threshold policy, but is close to OPT "
    "under conditions such as identically distributed transition probabilities; a projected-SGD learning "
    "variant of greedy handles unknown transitions at far lower computation than OPT.",
    &mon_schema,
    mon_presets,
    monitor_run,
};
