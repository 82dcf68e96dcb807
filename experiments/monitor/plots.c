/* monitor: figures. cost_vs_query_cost (all policies against c),
 * competitive_ratio_vs_eps (the counterexample, the central claim 2),
 * psgd_cost_over_time (learning toward greedy-with-known-P),
 * thresholds_per_state, greedy_over_opt_iid (claim 3). */
#include "dynlab/plot.h"
#include "monitor/exp.h"
#include <math.h>
#include <stdio.h>

static void plot_costs(const mon_results *r, dl_run *run) {
    dl_series s[6];
    int ns = 0;
    s[ns++] = (dl_series){.name = "OPT (RVI)", .x = r->c, .y = r->opt, .n = r->n_c};
    s[ns++] = (dl_series){.name = "greedy", .x = r->c, .y = r->greedy, .n = r->n_c};
    s[ns++] = (dl_series){.name = "always query (c)", .x = r->c, .y = r->always, .n = r->n_c, .dashed = 1};
    s[ns++] = (dl_series){.name = "never query (L_inf)", .x = r->c, .y = r->never_, .n = r->n_c, .dashed = 1};
    if (r->n_c && !isnan(r->psgd_sweep[0]))
        s[ns++] = (dl_series){.name = "PSGD-greedy (unknown P)", .x = r->c, .y = r->psgd_sweep, .n = r->n_c};
    if (r->fc_done)
        s[ns++] = (dl_series){.name = "transformer forecaster + greedy",
                              .x = r->fc_c,
                              .y = r->fc_cost,
                              .n = r->n_fc,
                              .ystd = r->fc_se,
                              .dashed = 0};
    dl_plot_opts o = {.title = "Time-averaged cost vs query cost (main chain)",
                      .xlabel = "query cost c",
                      .ylabel = "average cost per slot",
                      .flags = DL_PLOT_LINESPOINTS};
    dl_plot_lines(run, "cost_vs_query_cost",
                  "Average cost per slot of OPT (relative value iteration), "
                  "greedy, always-query, never-query, "
                  "PSGD-greedy and the transformer forecaster with greedy, "
                  "against the query cost c.",
                  &o, s, ns);
}

static void plot_ratio(const mon_results *r, dl_run *run) {
    double x[MON_MAX_C];
    for (int a = 0; a < r->n_eps; a++)
        x[a] = 1.0 / r->eps[a];
    dl_series s[2] = {{.name = "greedy / OPT (exact)", .x = x, .y = r->adv_ratio, .n = r->n_eps},
                      {.name = "closed-form lower bound 0.5/min_tau(c/tau+eps(tau-1)/2)",
                       .x = x,
                       .y = r->adv_bound,
                       .n = r->n_eps,
                       .dashed = 1}};
    dl_plot_opts o = {.title = "Competitive ratio on the two-state counterexample (c = 0.6)",
                      .xlabel = "1 / eps (flip probability)",
                      .ylabel = "greedy / OPT",
                      .flags = DL_PLOT_LOGX | DL_PLOT_LOGY | DL_PLOT_LINESPOINTS};
    dl_plot_lines(run, "competitive_ratio_vs_eps",
                  "Greedy never queries once c > 1/2 and pays 1/2 per slot, "
                  "while OPT's cost falls like "
                  "sqrt(2 c eps): the ratio grows without bound as eps -> 0 "
                  "(central claim 2).",
                  &o, s, 2);
}

static void plot_psgd(const mon_results *r, dl_run *run) {
    const mon_psgd_result *p = &r->psgd;
    if (p->n_points < 2)
        return;
    double tx[2] = {p->t[0], p->t[p->n_points - 1]};
    double gy[2] = {r->psgd_greedy_exact, r->psgd_greedy_exact};
    double oy[2] = {r->psgd_opt_exact, r->psgd_opt_exact};
    dl_series s[4] = {{.name = "PSGD-greedy, running average", .x = p->t, .y = p->cost_cum, .n = p->n_points},
                      {.name = "PSGD-greedy, per interval", .x = p->t, .y = p->cost_win, .n = p->n_points},
                      {.name = "greedy with known P (exact)", .x = tx, .y = gy, .n = 2, .dashed = 1},
                      {.name = "OPT (exact)", .x = tx, .y = oy, .n = 2, .dashed = 1}};
    dl_plot_opts o = {.title = "PSGD learning of the transitions, greedy decisions",
                      .xlabel = "slot",
                      .ylabel = "average cost per slot",
                      .flags = DL_PLOT_LOGX};
    dl_plot_lines(run, "psgd_cost_over_time",
                  "Cost of greedy driven by the projected-SGD estimate of P "
                  "(unknown transitions) over time, "
                  "converging toward greedy with the known P; OPT for reference.",
                  &o, s, 4);
}

static void plot_thresholds(const mon_cfg *cfg, const mon_results *r, dl_run *run) {
    double xo[64], yo[64], xg[64], yg[64];
    int no = 0, ng = 0;
    for (int i = 0; i < r->n_states && i < 64; i++) {
        if (r->tau_opt[i] < MON_TAU_INF)
            xo[no] = i, yo[no++] = r->tau_opt[i];
        if (r->tau_greedy[i] < MON_TAU_INF)
            xg[ng] = i, yg[ng++] = r->tau_greedy[i];
    }
    dl_series s[2] = {{.name = "OPT tau_i* (query when k >= tau_i*)", .x = xo, .y = yo, .n = no},
                      {.name = "greedy tau_i (first k with L_i(k) >= c)", .x = xg, .y = yg, .n = ng}};
    char title[128];
    snprintf(title, sizeof title, "Query thresholds per state (c = %g; missing greedy point = never)",
             cfg->thresholds_c);
    dl_plot_opts o = {.title = title,
                      .xlabel = "last observed state i",
                      .ylabel = "slots since query at which to query",
                      .flags = DL_PLOT_LINESPOINTS};
    dl_plot_lines(run, "thresholds_per_state",
                  "OPT's state-dependent thresholds in steps since the last "
                  "query against greedy's, on the main "
                  "chain.",
                  &o, s, 2);
}

static void plot_iid(const mon_results *r, dl_run *run) {
    dl_series s[3] = {
        {.name = "identical rows: max over chains", .x = r->iid_c, .y = r->ident_max, .n = r->n_iid_c},
        {.name = "rows i.i.d. Dirichlet: mean over chains",
         .x = r->iid_c,
         .y = r->iidrows_mean,
         .n = r->n_iid_c},
        {.name = "rows i.i.d. Dirichlet: max over chains",
         .x = r->iid_c,
         .y = r->iidrows_max,
         .n = r->n_iid_c,
         .dashed = 1}};
    dl_plot_opts o = {.title = "greedy / OPT with identically distributed transition rows",
                      .xlabel = "query cost c",
                      .ylabel = "greedy / OPT",
                      .flags = DL_PLOT_LINESPOINTS};
    dl_plot_lines(run, "greedy_over_opt_iid",
                  "Greedy's cost over OPT's when every row is the same law "
                  "(exactly 1) and when rows are drawn "
                  "i.i.d. from one Dirichlet law (mean and worst chain).",
                  &o, s, 3);
}

/* The real node: every policy's cost on the held-out days of Seattle's weather. */
static void plot_real(const mon_results *r, dl_run *run) {
    if (!r->real_done) return;
    dl_series s[7];
    int ns = 0;
    s[ns++] = (dl_series){.name = "OPT (on the estimated chain)", .x = r->real_c, .y = r->real_opt_replay, .n = r->n_real_c};
    s[ns++] = (dl_series){.name = "greedy (on the estimated chain)", .x = r->real_c, .y = r->real_greedy_replay,
                          .n = r->n_real_c};
    s[ns++] = (dl_series){.name = "PSGD-greedy (learns online, no estimate)", .x = r->real_c, .y = r->real_psgd,
                          .n = r->n_real_c};
    if (r->n_real_c && !isnan(r->real_fc[0]))
        s[ns++] = (dl_series){.name = "transformer forecaster + greedy", .x = r->real_c, .y = r->real_fc, .n = r->n_real_c};
    s[ns++] = (dl_series){.name = "always query (c)", .x = r->real_c, .y = r->real_always, .n = r->n_real_c, .dashed = 1};
    s[ns++] = (dl_series){.name = "never query (stationary MAP)", .x = r->real_c, .y = r->real_never, .n = r->n_real_c,
                          .dashed = 1};
    dl_plot_opts o = {.title = "Seattle daily weather, held-out year: cost per day",
                      .xlabel = "query cost c",
                      .ylabel = "average cost per day",
                      .flags = DL_PLOT_LINESPOINTS};
    char cap[256];
    snprintf(cap, sizeof cap,
             "Real node: Seattle's daily weather category (%d categories, python3-vega-datasets). Chain and "
             "forecaster from the first %d days; costs on the %d held-out days.",
             r->real_n, r->real_train, r->real_days - r->real_train);
    dl_plot_lines(run, "real_weather_costs", cap, &o, s, ns);
}

void mon_plots(const mon_cfg *cfg, const mon_results *res, dl_run *run) {
    plot_real(res, run);
    plot_costs(res, run);
    plot_ratio(res, run);
    plot_psgd(res, run);
    plot_thresholds(cfg, res, run);
    plot_iid(res, run);
}
