/* monitor: the abstract's statements as checks on this run's measurements
 * (docs/papers/monitor.md, "Claims and their thresholds"). Each claim
 * declares its kind: C1-C3b are properties of the exact policies (solver
 * optimality, closed forms, identities) and hold without any learning; C4
 * (PSGD) and C5 (forecaster) must be produced by learning and fail under
 * `--control untrained`. The statistical tolerances are stated next to each
 * check. */
#include <math.h>
#include <stdio.h>
#include "monitor/exp.h"

/* Simulation agreement: |sim - g| <= Z_SIM standard errors. 3.5 keeps the
 * family-wise false-alarm rate of ~10 comparisons per run below 0.5 %. */
#define Z_SIM 3.5
/* Renewal evaluation of OPT's thresholds agrees with the DP value. */
#define RENEWAL_TOL 1e-6
/* Claim 3: with identical rows greedy is exactly OPT (a closed form); the
 * tolerance is numerical. */
#define IDENT_TOL 1e-6
/* Claim 3b: "close to OPT" read as greedy/OPT <= 1.05, at every c. */
#define IID_RATIO_MAX 1.05
/* Claim 4: PSGD costs at most 5 % more than greedy with known transitions
 * (one-sided: ending below greedy-known is a favourable trade-off). */
#define PSGD_REL_TOL 0.05
/* Claim 4, "far below": at least two orders of magnitude (our reading of
 * "improved computational efficiency compared to OPT", abstract). */
#define PSGD_MIN_SPEEDUP 100.0
/* Claim 2: the ratio must grow like a power of 1/eps; theory (spec C §3.5)
 * gives ratio >= 1/(2 sqrt(2 c eps)), slope 1/2 in log-log. */
#define ADV_MIN_SLOPE 0.4

static void claim1(const mon_results *r, dl_run *run) {
    int viol = 0, solves = 0, ok = 0, unconv = 0;
    double zmax = 0.0, rdiff = 0.0;
    for (int a = 0; a < r->n_c; a++) {
        viol += r->opt_violations[a];
        ok += r->opt_violations[a] == 0;
        unconv += !r->opt_converged[a];
        solves++;
        /* a policy that queries every slot has a deterministic cost: SE = 0 */
        double dev = fabs(r->opt_sim[a] - r->opt[a]);
        double z = r->opt_se[a] > 1e-12 ? dev / r->opt_se[a] : (dev <= 1e-9 ? 0.0 : INFINITY);
        if (!(z <= zmax)) zmax = z;
        double d = fabs(r->opt_renewal[a] - r->opt[a]) - r->opt_trunc[a];
        if (!(d <= rdiff)) rdiff = d;
    }
    for (int a = 0; a < r->n_eps; a++) {
        viol += r->adv_violations[a];
        ok += r->adv_violations[a] == 0;
        solves++;
    }
    viol += r->thresholds_violations;
    ok += r->thresholds_violations == 0;
    solves++;
    int pass = viol == 0 && unconv == 0 && zmax <= Z_SIM && rdiff <= RENEWAL_TOL;
    char text[96];
    snprintf(text, sizeof text, "%d/%d solves threshold-shaped; |J(tau*)-g| ok:%s; max|z|=%.2f", ok, solves,
             rdiff <= RENEWAL_TOL ? "yes" : "no", zmax);
    dl_claim_check(run, DL_CLAIM_STRUCTURAL, "C1",
                 "OPT (RVI over (state, steps since query)) queries iff k >= tau_i in every state; its simulated "
                 "cost matches its DP value",
                 "abstract ('OPT is a state-dependent threshold policy'); docs/papers/monitor.md",
                 "0 violations; |J-g|<=1e-6; |z|<=3.5", zmax, text, pass);
}

static void claim2(const mon_results *r, dl_run *run) {
    int n = r->n_eps, mono = 1, above = 1;
    /* eps sorted decreasing in the config; check in order of decreasing eps */
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int a = 0; a < n; a++) {
        if (r->adv_ratio[a] < r->adv_bound[a] * (1.0 - 1e-9)) above = 0;
        if (a > 0 && r->eps[a] < r->eps[a - 1] && !(r->adv_ratio[a] > r->adv_ratio[a - 1])) mono = 0;
        if (a > 0 && r->eps[a] >= r->eps[a - 1]) mono = 0; /* the sweep must go down in eps */
        double x = log(1.0 / r->eps[a]), y = log(r->adv_ratio[a]);
        sx += x, sy += y, sxx += x * x, sxy += x * y;
    }
    double slope = n >= 2 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : NAN;
    int pass = n >= 3 && mono && above && slope >= ADV_MIN_SLOPE;
    char text[96];
    snprintf(text, sizeof text, "ratio %.2f -> %.2f (eps %.0e->%.0e), slope %.2f, >=bound:%s", n ? r->adv_ratio[0] : NAN,
             n ? r->adv_ratio[n - 1] : NAN, n ? r->eps[0] : NAN, n ? r->eps[n - 1] : NAN, slope, above ? "yes" : "no");
    dl_claim_check(run, DL_CLAIM_STRUCTURAL, "C2",
                 "two-state counterexample (c > 1/2): greedy/OPT increases without bound as eps -> 0, above "
                 "the closed-form bound 0.5/min_tau(c/tau + eps(tau-1)/2)",
                 "abstract ('unbounded competitive ratio'); docs/papers/monitor.md (counterexample)",
                 "increasing, >= bound, log-log slope >= 0.4", n ? r->adv_ratio[n - 1] : NAN, text, pass);
}

static void claim3(const mon_cfg *cfg, const mon_results *r, dl_run *run) {
    char text[96];
    double dev = fabs(r->ident_max_all - 1.0);
    snprintf(text, sizeof text, "max greedy/OPT %.9f over %d chains x %d c", r->ident_max_all, cfg->iid_chains,
             r->n_iid_c);
    dl_claim_check(run, DL_CLAIM_STRUCTURAL, "C3",
                   "identical transition rows (X_t i.i.d.): greedy is exactly OPT, J = min(c, L_inf), on every "
                   "sampled chain at every c (an identity: a query tells nothing about later slots)",
                   "abstract ('close to OPT ... identically distributed transition probabilities'); "
                   "docs/papers/monitor.md (reading 1)",
                   "|greedy/OPT - 1| <= 1e-6", dev, text, dev <= IDENT_TOL);
    /* per c: the mean over chains at each c, not one average over c that
     * would hide the c where greedy falls behind */
    int worst = 0;
    for (int a = 1; a < r->n_iid_c; a++)
        if (r->iidrows_mean[a] > r->iidrows_mean[worst]) worst = a;
    double wmean = r->n_iid_c ? r->iidrows_mean[worst] : NAN;
    int over = 0;
    for (int a = 0; a < r->n_iid_c; a++) over += !(r->iidrows_mean[a] <= IID_RATIO_MAX);
    snprintf(text, sizeof text, "worst c=%.2g: mean %.4f; %d/%d c over 1.05; p95 %.3f, max %.3f",
             r->n_iid_c ? r->iid_c[worst] : NAN, wmean, over, r->n_iid_c, r->iidrows_p95, r->iidrows_max_all);
    dl_claim_check(run, DL_CLAIM_STRUCTURAL, "C3b",
                   "rows drawn i.i.d. from one Dirichlet law: at every c of the sweep the mean greedy/OPT over the "
                   "sampled chains is <= 1.05",
                   "abstract ('close to OPT ... identically distributed transition probabilities'); "
                   "docs/papers/monitor.md (reading 2)",
                   "max over c of mean ratio <= 1.05", wmean, text, over == 0 && r->n_iid_c > 0);
}

static void claim4(const mon_results *r, dl_run *run) {
    double speed = r->opt_solve_seconds / r->psgd_per_query_seconds;
    double worst = 0.0;
    int informative = 0, wf = -1, wa = -1, over = 0;
    for (int f = 0; f < MON_FAMS; f++)
        for (int a = 0; a < r->n_fam_c; a++) {
            if (!mon_fam_informative(r->fam_greedy[f][a], r->fam_prior[f][a])) continue;
            informative++;
            /* simulated cost against an exact one: the simulation's error
             * counts in PSGD's favour up to Z_SIM standard errors, as in C1
             * and C5 (on near-absorbing chains the window cost is a few
             * excursions) */
            double q = (r->fam_psgd[f][a] - Z_SIM * r->fam_psgd_se[f][a]) / r->fam_greedy[f][a];
            if (!(q <= 1.0 + PSGD_REL_TOL)) over++;
            if (wf < 0 || !(q <= worst)) worst = q, wf = f, wa = a;
        }
    int pass = informative > 0 && over == 0 && speed >= PSGD_MIN_SPEEDUP;
    char text[96];
    if (wf >= 0)
        snprintf(text, sizeof text, "worst %.4f (%s, c=%g; raw %.3f); %d/%d pairs learnable; compute %.0fx", worst,
                 mon_fam_names[wf], r->fam_c[wa], r->fam_psgd[wf][wa] / r->fam_greedy[wf][wa], informative,
                 MON_FAMS * r->n_fam_c, speed);
    else
        snprintf(text, sizeof text, "no (family, c) pair where learning matters; compute %.0fx", speed);
    dl_claim_check(run, DL_CLAIM_LEARNED, "C4",
                   "PSGD-greedy (unknown P), on every chain family (sticky, random, i.i.d. rows, identical rows) and "
                   "every c where knowing P matters: final-window cost (less 3.5 standard errors) at most 5% above greedy with known P (same safety query "
                   "after k_cap slots); "
                   "computation per update far below one OPT solve",
                   "abstract ('PSGD-based learning variant ... favorable predict-query tradeoff with improved "
                   "computational efficiency compared to OPT'); docs/papers/monitor.md",
                   "max ratio <= 1.05", wf >= 0 ? worst : NAN, text, pass);
}

static void claim5(const mon_results *r, dl_run *run) {
    if (!r->fc_done) return;
    int pass = r->n_fc > 0;
    double worst = 0.0;
    for (int a = 0; a < r->n_fc; a++) {
        double base = fmin(r->fc_always[a], r->fc_never[a]);
        double upper = r->fc_cost[a] + Z_SIM * r->fc_se[a];
        if (!(upper < base)) pass = 0;
        if (!(r->fc_cost[a] / base <= worst)) worst = r->fc_cost[a] / base;
    }
    char text[96];
    snprintf(text, sizeof text, "worst cost/min(always,never) %.3f over %d c; CE %.3f vs Bayes %.3f", worst, r->n_fc,
             r->fc_train_loss, r->fc_bayes_loss);
    dl_claim_check(run, DL_CLAIM_LEARNED, "C5",
                 "greedy on a transformer forecaster's predictive distribution costs less than never-query and "
                 "always-query at every c tried",
                 "abstract (forecasting incl. TSFMs feeding the query rule); docs/papers/monitor.md",
                 "cost + 3.5 se < min(c, L_inf)", worst, text, pass);
}

void mon_claims(const mon_cfg *cfg, const mon_results *res, dl_run *run) {
    claim1(res, run);
    claim2(res, run);
    claim3(cfg, res, run);
    claim4(res, run);
    claim5(res, run);
}
