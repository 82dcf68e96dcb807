/* The real node (weather.c): Seattle's daily weather category. The chain is
 * estimated from the first real.train_days days (add-`real.smoothing`
 * counts); OPT and greedy are computed on that estimate and replayed along
 * the held-out days; PSGD-greedy learns online from day one (uniform start,
 * no estimate given) and is scored on the held-out days; the transformer
 * forecaster is trained on windows of the training days and drives greedy
 * along the held-out days. Always-query costs c; never-query predicts the
 * estimate's stationary MAP state on every held-out day. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "monitor/exp.h"

enum { S_REAL_PSGD = 700 };

int mon_real_run(const mon_cfg *cfg, dl_run *run, mon_results *res) {
    char err[512];
    int *seq = NULL, n = 0;
    int days = mon_weather_load(cfg->real_path, &seq, res->real_names, &n, err, (int)sizeof err);
    if (days < 0) {
        dl_log(run, "error: %s", err);
        return -1;
    }
    int ntr = cfg->real_train_days;
    if (ntr >= days - 1) {
        dl_log(run, "error: real.train_days (%d) must leave held-out days (the file has %d days)", ntr, days);
        free(seq);
        return -1;
    }
    double *P = malloc(sizeof(double) * (size_t)n * (size_t)n);
    int *tau = malloc(sizeof(int) * (size_t)n);
    mon_chain ch;
    mon_model m;
    memset(&ch, 0, sizeof ch);
    memset(&m, 0, sizeof m);
    int rc = -1;
    if (!P || !tau) goto out;
    mon_estimate_chain(seq, ntr, n, cfg->real_smoothing, P);
    if (mon_chain_from_matrix(&ch, n, P, MON_LOSS_01)) {
        dl_log(run, "error: the estimated weather chain has no stationary law");
        goto out;
    }
    int kmin = cfg->dp_k_min > cfg->psgd_k_cap ? cfg->dp_k_min : cfg->psgd_k_cap;
    if (mon_model_build(&m, &ch, cfg->dp_trunc_tv, kmin, cfg->dp_k_max)) goto out;
    res->real_n = n;
    res->real_days = days;
    res->real_train = ntr;
    res->real_L_inf = m.L_inf;
    dl_log(run, "real node: %s, %d days (%d to estimate/train, %d held out), %d categories, L_inf %.4f",
           cfg->real_path, days, ntr, days - ntr, n, m.L_inf);
    for (int i = 0; i < n; i++) {
        char row[256];
        int p = 0;
        for (int j = 0; j < n && p < (int)sizeof row - 12; j++) p += snprintf(row + p, sizeof row - (size_t)p, " %.3f", P[i * n + j]);
        dl_log(run, "  P[%s] =%s  (pi %.3f)", res->real_names[i], row, ch.pi[i]);
    }
    const int *test = seq + ntr;
    int ntest = days - ntr;
    /* never-query on the held-out days: the stationary MAP every day */
    for (int i = 0; i < n; i++) tau[i] = MON_TAU_INF;
    mon_opt_params op = {cfg->dp_beta, cfg->dp_tol, cfg->dp_max_iter, cfg->dp_tie_tol};
    res->n_real_c = cfg->real_c.n;
    for (int a = 0; a < cfg->real_c.n; a++) {
        double c = cfg->real_c.v[a];
        res->real_c[a] = c;
        res->real_always[a] = c;
        int best = 0;
        for (int j = 1; j < n; j++)
            if (ch.pi[j] > ch.pi[best]) best = j;
        int miss = 0;
        for (int t = 1; t < ntest; t++) miss += test[t] != best;
        res->real_never[a] = (c + miss) / (double)ntest; /* the first held-out day is queried */
        mon_opt o;
        if (mon_opt_solve(&m, c, &op, &o)) goto out;
        res->real_opt_model[a] = o.g;
        res->real_opt_replay[a] = mon_replay_thresholds(&ch, &m, c, o.tau, test, ntest, NULL);
        mon_opt_free(&o);
        mon_greedy_thresholds(&m, c, tau);
        res->real_greedy_model[a] = mon_eval_thresholds(&m, c, tau, NULL);
        res->real_greedy_replay[a] = mon_replay_thresholds(&ch, &m, c, tau, test, ntest, NULL);
        /* PSGD: online over every day from a uniform estimate, scored on the held-out days */
        mon_psgd_params pp = {c, cfg->psgd_eta0, cfg->psgd_k_cap, cfg->psgd_average, days, 10,
                              (double)ntest / days, seq};
        mon_psgd_result pr;
        dl_rng r;
        dl_rng_init(&r, run->seed, S_REAL_PSGD + (uint64_t)a);
        if (mon_psgd_run(&ch, &m, &pp, &r, &pr)) goto out;
        res->real_psgd[a] = pr.window_cost;
        mon_psgd_free(&pr);
        res->real_fc[a] = res->real_fc_qrate[a] = NAN;
    }
    if (cfg->fc_enabled &&
        mon_forecaster_real(cfg, seq, ntr, days, &ch, res->real_c, res->n_real_c, run, res->real_fc, res->real_fc_qrate))
        goto out;
    for (int a = 0; a < res->n_real_c; a++) {
        dl_metrics_begin(run, 200000 + a);
        dl_metrics_add_str(run, "phase", "real_weather");
        dl_metrics_add(run, "c", res->real_c[a]);
        dl_metrics_add(run, "opt_model", res->real_opt_model[a]);
        dl_metrics_add(run, "greedy_model", res->real_greedy_model[a]);
        dl_metrics_add(run, "opt_heldout", res->real_opt_replay[a]);
        dl_metrics_add(run, "greedy_heldout", res->real_greedy_replay[a]);
        dl_metrics_add(run, "psgd_heldout", res->real_psgd[a]);
        if (!isnan(res->real_fc[a])) {
            dl_metrics_add(run, "forecaster_heldout", res->real_fc[a]);
            dl_metrics_add(run, "forecaster_query_rate", res->real_fc_qrate[a]);
        }
        dl_metrics_add(run, "always", res->real_always[a]);
        dl_metrics_add(run, "never_heldout", res->real_never[a]);
        dl_metrics_end(run);
        dl_log(run, "real c=%g: held-out days: OPT %.4f greedy %.4f PSGD %.4f forecaster %.4f always %.3g never %.4f "
               "(on the estimated chain: OPT %.4f greedy %.4f)", res->real_c[a], res->real_opt_replay[a],
               res->real_greedy_replay[a], res->real_psgd[a], res->real_fc[a], res->real_c[a], res->real_never[a],
               res->real_opt_model[a], res->real_greedy_model[a]);
    }
    res->real_done = 1;
    rc = 0;
out:
    mon_model_free(&m);
    mon_chain_free(&ch);
    free(P);
    free(tau);
    free(seq);
    return rc;
}
