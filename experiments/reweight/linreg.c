/* Linear regression under loss-based reweighting: the setting of the paper's
 * convergence analysis (convex, smooth per-sample losses with a common
 * minimiser: noise-free "interpolation") and of its toy-regression figure.
 *
 * Data: x ~ N(0, I_d), y = x^T theta* (+ eps, eps ~ N(0, noise^2)), theta* ~ N(0, I/d).
 * Model: l_i(theta) = 1/2 (x_i^T theta - y_i)^2, mini-batch SGD from theta = 0,
 *   theta <- theta - lr * sum_i w_i grad l_i(theta),  w from the engine.
 * Every strategy sees the same batches (stream DATA + step).
 *
 * Theory (interpolation): with e = theta - theta*, the step changes |e|^2 by
 *   -2 lr sum_i w_i (x_i^T e)^2 + O(lr^2) = -4 lr sum_i w_i l_i + O(lr^2),
 * so the progress of a step scales with sum_i w_i l_i (the paper's bound for
 * loss-based weights; the max weight enters the O(lr^2) term). Since
 * x_i^T e / |e| ~ N(0, 1) whatever e is, and the weights depend only on the
 * normalised losses, kappa = E[sum_i w_i z_i^2] / E[mean z_i^2] is a constant
 * of the strategy: the test error contracts by about (1 - 2 lr kappa) per
 * step, and the strategies' convergence rates are predicted to be ordered as
 * their kappas. kappa is computed by Monte Carlo from the engine alone, before
 * and independently of training. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/plot.h"
#include "dynlab/rng.h"
#include "reweight/reweight.h"

enum { STREAM_LR_DATA = 100, STREAM_LR_KAPPA = 101, STREAM_LR_SHAPES = 102 };
#define STREAM_LR_BATCH ((uint64_t)3 << 40) /* + step */

double rw_linreg_kappa(dl_rw_strategy s, double delta, double r, int batch, int m, uint64_t seed) {
    dl_rng rng;
    dl_rng_init(&rng, seed, STREAM_LR_KAPPA);
    float *loss = malloc((size_t)batch * sizeof *loss), *w = malloc((size_t)batch * sizeof *w);
    if (!loss || !w) abort();
    double num = 0, den = 0;
    for (int k = 0; k < m; k++) {
        double mean = 0;
        for (int i = 0; i < batch; i++) {
            double z = dl_rng_normal(&rng);
            loss[i] = (float)(0.5 * z * z);
            mean += loss[i];
        }
        dl_rw_weights_r(s, delta, r, loss, batch, w);
        for (int i = 0; i < batch; i++) num += (double)w[i] * loss[i];
        den += mean / batch;
    }
    free(loss);
    free(w);
    return num / den;
}

/* Least-squares slope of ln(err) against step, over the points above `floor`. */
static double log_slope(const double *step, const double *err, int n, double floor) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!(err[i] > floor)) continue;
        double y = log(err[i]);
        sx += step[i];
        sy += y;
        sxx += step[i] * step[i];
        sxy += step[i] * y;
        k++;
    }
    if (k < 2) return 0;
    double d = k * sxx - sx * sx;
    return d > 0 ? (k * sxy - sx * sy) / d : 0;
}

int rw_linreg_run(const rw_cfg *cfg, dl_run *run, int untrained) {
    dl_rw_strategy strat[DL_RW_COUNT];
    int ns = 0;
    char err[256];
    if (rw_parse_strategies(cfg->lr_strategies, "linreg.strategies", strat, DL_RW_COUNT, &ns, err,
                            sizeof err)) {
        dl_log(run, "error: %s", err);
        return 1;
    }
    const int d = cfg->lr_dim, n = cfg->lr_ntrain, nt = cfg->lr_ntest, B = cfg->lr_batch;
    double *X = malloc(sizeof(double) * (size_t)n * d), *y = malloc(sizeof(double) * (size_t)n);
    double *Xt = malloc(sizeof(double) * (size_t)nt * d), *ts = malloc(sizeof(double) * (size_t)d);
    double *th = malloc(sizeof(double) * (size_t)d), *gr = malloc(sizeof(double) * (size_t)d);
    double *res = malloc(sizeof(double) * (size_t)B);
    float *loss = malloc(sizeof(float) * (size_t)B), *w = malloc(sizeof(float) * (size_t)B);
    int *idx = malloc(sizeof(int) * (size_t)B);
    const int n_log = cfg->lr_steps / cfg->lr_log_every + 2;
    double *xs = malloc(sizeof(double) * (size_t)n_log);
    double *errs = malloc(sizeof(double) * (size_t)n_log * ns);
    if (!X || !y || !Xt || !ts || !th || !gr || !res || !loss || !w || !idx || !xs || !errs) abort();
    dl_rng rng;
    dl_rng_init(&rng, run->seed, STREAM_LR_DATA);
    for (int j = 0; j < d; j++) ts[j] = dl_rng_normal(&rng) / sqrt((double)d);
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < d; j++) s += (X[(size_t)i * d + j] = dl_rng_normal(&rng)) * ts[j];
        y[i] = s + cfg->lr_noise * dl_rng_normal(&rng);
    }
    for (int i = 0; i < nt * d; i++) Xt[i] = dl_rng_normal(&rng);
    const double lr = untrained ? 0.0 : cfg->lr_lr;
    dl_log(run,
           "linear regression: d %d, %d train / %d test samples, noise %.3g; SGD batch %d, lr %g, %d "
           "steps, r %g",
           d, n, nt, cfg->lr_noise, B, lr, cfg->lr_steps, cfg->lr_r);

    /* excess test error (1/nt) sum_t (x_t^T (theta - theta*))^2 */
#define TEST_ERR(out)                                                                              \
    do {                                                                                           \
        double acc_ = 0;                                                                           \
        for (int t_ = 0; t_ < nt; t_++) {                                                          \
            double s_ = 0;                                                                         \
            for (int j_ = 0; j_ < d; j_++) s_ += Xt[(size_t)t_ * d + j_] * (th[j_] - ts[j_]);       \
            acc_ += s_ * s_;                                                                       \
        }                                                                                          \
        (out) = acc_ / nt;                                                                         \
    } while (0)

    int nl = 0;
    double kappa[DL_RW_COUNT], rate[DL_RW_COUNT], pred[DL_RW_COUNT], final_err[DL_RW_COUNT];
    for (int k = 0; k < ns; k++) {
        memset(th, 0, sizeof(double) * (size_t)d);
        nl = 0;
        for (int step = 0; step <= cfg->lr_steps; step++) {
            if (step % cfg->lr_log_every == 0 || step == cfg->lr_steps) {
                xs[nl] = step;
                TEST_ERR(errs[(size_t)k * n_log + nl]);
                nl++;
            }
            if (step == cfg->lr_steps) break;
            dl_rng br;
            dl_rng_init(&br, run->seed, STREAM_LR_BATCH + (uint64_t)step);
            for (int b = 0; b < B; b++) {
                idx[b] = (int)dl_rng_below(&br, (uint32_t)n);
                const double *x = X + (size_t)idx[b] * d;
                double s = -y[idx[b]];
                for (int j = 0; j < d; j++) s += x[j] * th[j];
                res[b] = s;
                loss[b] = (float)(0.5 * s * s);
            }
            dl_rw_weights_r(strat[k], 1.0, cfg->lr_r, loss, B, w);
            memset(gr, 0, sizeof(double) * (size_t)d);
            for (int b = 0; b < B; b++) {
                const double *x = X + (size_t)idx[b] * d;
                const double c = (double)w[b] * res[b];
                for (int j = 0; j < d; j++) gr[j] += c * x[j];
            }
            for (int j = 0; j < d; j++) th[j] -= lr * gr[j];
        }
        const double *e = errs + (size_t)k * n_log;
        final_err[k] = e[nl - 1];
        /* Rate over the points with test error above linreg.fit_floor: the
         * normalisation floors the batch's loss range at 1e-6 (the authors'
         * code), so once every loss is below ~1e-6 the weights fall back to
         * uniform and the strategies stop differing. */
        rate[k] = -log_slope(xs, e, nl, cfg->lr_fit_floor);
        kappa[k] = rw_linreg_kappa(strat[k], 1.0, cfg->lr_r, B, cfg->lr_mc, run->seed);
        pred[k] = -log(1 - 2 * cfg->lr_lr * kappa[k]);
        if (untrained) pred[k] = 0;
        char key[96];
        dl_log(run, "linreg %-9s kappa %.4f: predicted rate %.5f/step, measured %.5f/step; final excess test error %.3e",
               dl_rw_name(strat[k]), kappa[k], pred[k], rate[k], final_err[k]);
        snprintf(key, sizeof key, "linreg_kappa_%s", dl_rw_name(strat[k]));
        dl_final(run, key, kappa[k]);
        snprintf(key, sizeof key, "linreg_rate_%s", dl_rw_name(strat[k]));
        dl_final(run, key, rate[k]);
        snprintf(key, sizeof key, "linreg_rate_predicted_%s", dl_rw_name(strat[k]));
        dl_final(run, key, pred[k]);
        snprintf(key, sizeof key, "linreg_rate_measured_over_predicted_%s", dl_rw_name(strat[k]));
        dl_final(run, key, pred[k] > 0 ? rate[k] / pred[k] : 0);
        snprintf(key, sizeof key, "linreg_final_error_%s", dl_rw_name(strat[k]));
        dl_final(run, key, final_err[k]);
    }
    for (int i = 0; i < nl; i++) {
        dl_metrics_begin(run, (int64_t)xs[i]);
        dl_metrics_add_str(run, "part", "linreg");
        for (int k = 0; k < ns; k++) {
            char key[64];
            snprintf(key, sizeof key, "linreg_err_%s", dl_rw_name(strat[k]));
            dl_metrics_add(run, key, errs[(size_t)k * n_log + i]);
        }
        dl_metrics_end(run);
    }

    /* Claim: the measured ordering equals the predicted one. Kendall's tau
     * over all pairs; a tie in the measured rates counts as a disagreement
     * (a run that did not train has all rates equal). */
    int agree = 0, pairs = 0;
    for (int a = 0; a < ns; a++)
        for (int b = a + 1; b < ns; b++) {
            pairs++;
            double dp = kappa[a] - kappa[b], dm = rate[a] - rate[b];
            if (dm != 0 && (dp > 0) == (dm > 0) && fabs(dm) > 1e-9) agree++;
        }
    double tau = pairs ? (2.0 * agree - pairs) / pairs : 0;
    char pord[256] = "", mord[256] = "", meas[96];
    int ordp[DL_RW_COUNT], ordm[DL_RW_COUNT];
    for (int k = 0; k < ns; k++) ordp[k] = ordm[k] = k;
    for (int a = 0; a < ns; a++)
        for (int b = a + 1; b < ns; b++) {
            if (kappa[ordp[b]] > kappa[ordp[a]]) { int t = ordp[a]; ordp[a] = ordp[b]; ordp[b] = t; }
            if (rate[ordm[b]] > rate[ordm[a]]) { int t = ordm[a]; ordm[a] = ordm[b]; ordm[b] = t; }
        }
    for (int k = 0; k < ns; k++) {
        strncat(pord, dl_rw_name(strat[ordp[k]]), sizeof pord - strlen(pord) - 3);
        strncat(mord, dl_rw_name(strat[ordm[k]]), sizeof mord - strlen(mord) - 3);
        if (k + 1 < ns) { strcat(pord, " > "); strcat(mord, " > "); }
    }
    dl_log(run, "linreg: predicted order (kappa) %s; measured order (rate) %s; Kendall tau %.3f", pord,
           mord, tau);
    dl_final_str(run, "linreg_order_predicted", pord);
    dl_final_str(run, "linreg_order_measured", mord);
    dl_final(run, "linreg_kendall_tau", tau);
    snprintf(meas, sizeof meas, "tau %.2f (%d/%d pairs)", tau, agree, pairs);
    char thr[96];
    snprintf(thr, sizeof thr, "tau = 1 (%.60s)", pord);
    dl_claim_check(run, DL_CLAIM_LEARNED, "C3",
                   "on linear regression the strategies' measured convergence rates are ordered as "
                   "the theory's progress factor E[sum w_i l_i]/E[mean l_i] predicts",
                   "Sow et al. ICLR 2025, convergence analysis of loss-based reweighting (convex, "
                   "interpolation) and the linear-regression figure",
                   thr, tau, meas, ns >= 2 && agree == pairs);

    /* Plots: error vs step (log scale); the strategy shapes. */
    dl_series ser[DL_RW_COUNT];
    for (int k = 0; k < ns; k++)
        ser[k] = (dl_series){.name = dl_rw_name(strat[k]), .x = xs, .y = errs + (size_t)k * n_log, .n = nl};
    dl_plot_opts po = {.title = "linear regression: excess test error", .xlabel = "SGD step",
                       .ylabel = "excess test MSE", .flags = DL_PLOT_LOGY};
    dl_plot_lines(run, "linreg_error_vs_step",
                  "Linear regression (noise-free unless linreg.noise > 0): excess test error vs SGD "
                  "step per weighting strategy (C3; the paper's toy-regression figure)",
                  &po, ser, ns);
    {
        enum { NP = 101 };
        double xv[NP], fv[DL_RW_COUNT][NP];
        dl_series sh[DL_RW_COUNT];
        for (int i = 0; i < NP; i++) xv[i] = -1 + 2.0 * i / (NP - 1);
        for (int s = 0; s < DL_RW_COUNT; s++) {
            for (int i = 0; i < NP; i++) fv[s][i] = dl_rw_strategy_f((dl_rw_strategy)s, xv[i], 1.0);
            sh[s] = (dl_series){.name = dl_rw_name((dl_rw_strategy)s), .x = xv, .y = fv[s], .n = NP};
        }
        dl_plot_opts so = {.title = "strategy shapes", .xlabel = "normalised loss x",
                           .ylabel = "f(x)"};
        dl_plot_lines(run, "strategy_shapes",
                      "The strategies' score f of the normalised loss (delta = 1), as in the paper's "
                      "Figure 1; weights are softmax(f / r) over the batch",
                      &so, sh, DL_RW_COUNT);
    }
#undef TEST_ERR
    free(X); free(y); free(Xt); free(ts); free(th); free(gr); free(res); free(loss); free(w);
    free(idx); free(xs); free(errs);
    return 0;
}
