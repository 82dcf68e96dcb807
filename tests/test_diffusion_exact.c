/* diffusion: the closed-form transition probabilities against a matrix
 * exponential (scaling and squaring of a Taylor series), the exact output law
 * of every sampler against Monte Carlo simulation of the same sampler on a
 * tiny case, Tweedie tau-leaping's exactness on product targets, the exact
 * reverse law, the schedules and the absorbing initialization identity. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "diffusion/diffusion.h"

/* exp(tQ) for a K x K matrix: scale by 2^-s so that |tQ|/2^s < 0.5, Taylor to
 * order 20, square s times. */
static void expm(const double *Q, double t, int K, double *E) {
    double norm = 0;
    for (int a = 0; a < K; a++) {
        double r = 0;
        for (int b = 0; b < K; b++) r += fabs(Q[a * K + b]);
        norm = fmax(norm, r * t);
    }
    int s = 0;
    while (norm / ldexp(1.0, s) > 0.5) s++;
    const double h = t / ldexp(1.0, s);
    double *term = malloc(sizeof(double) * K * K), *tmp = malloc(sizeof(double) * K * K);
    for (int i = 0; i < K * K; i++) E[i] = term[i] = (i / K == i % K);
    for (int n = 1; n <= 20; n++) {
        for (int a = 0; a < K; a++)
            for (int b = 0; b < K; b++) {
                double acc = 0;
                for (int c = 0; c < K; c++) acc += term[a * K + c] * Q[c * K + b] * h / n;
                tmp[a * K + b] = acc;
            }
        memcpy(term, tmp, sizeof(double) * K * K);
        for (int i = 0; i < K * K; i++) E[i] += term[i];
    }
    for (int k = 0; k < s; k++) {
        for (int a = 0; a < K; a++)
            for (int b = 0; b < K; b++) {
                double acc = 0;
                for (int c = 0; c < K; c++) acc += E[a * K + c] * E[c * K + b];
                tmp[a * K + b] = acc;
            }
        memcpy(E, tmp, sizeof(double) * K * K);
    }
    free(term), free(tmp);
}

static void test_transition_matches_expm(void **state) {
    (void)state;
    const double ts[4] = {1e-3, 0.3, 2.0, 9.0};
    for (int rate = 0; rate < 2; rate++) {
        dd_proc p;
        dd_proc_init(&p, rate, 5);
        const int K = p.K;
        double Q[36], P[36], E[36];
        dd_qtok(&p, Q);
        for (int a = 0; a < K; a++) {
            double row = 0;
            for (int b = 0; b < K; b++) row += Q[a * K + b];
            assert_true(fabs(row) < 1e-15);
        }
        for (int j = 0; j < 4; j++) {
            dd_ptrans(&p, ts[j], P);
            expm(Q, ts[j], K, E);
            double err = 0;
            for (int i = 0; i < K * K; i++) err = fmax(err, fabs(P[i] - E[i]));
            assert_true(err < 1e-12);
        }
    }
}

/* The law of x after the N steps, by simulating the sampler one sample at a
 * time with the same token kernels. */
static void simulate(const dd_proc *p, const double *q0, int d, int smp, const double *grid, int N, const double *init,
                     int64_t M, dl_rng *r, double *counts) {
    const int K = p->K;
    const int64_t n = dd_ipow(K, d);
    double Q[64], *qt = malloc(sizeof(double) * n), *tmp = malloc(sizeof(double) * n), sc[64], k[8];
    int64_t *xs_all = malloc(sizeof(int64_t) * M);
    int xs[8];
    dd_qtok(p, Q);
    for (int64_t m = 0; m < M; m++) { /* draw from init */
        double u = dl_rng_uniform(r), acc = 0;
        int64_t x = n - 1;
        for (int64_t j = 0; j < n; j++) {
            acc += init[j];
            if (u < acc) {
                x = j;
                break;
            }
        }
        xs_all[m] = x;
    }
    for (int st = 0; st < N; st++) {
        dd_marginal(p, q0, d, grid[st], qt, tmp);
        for (int64_t m = 0; m < M; m++) {
            int64_t x = xs_all[m], rem = x;
            for (int i = d - 1; i >= 0; i--) xs[i] = (int)(rem % K), rem /= K;
            dd_table_scores(qt, K, d, x, xs, sc);
            int ys[8];
            for (int i = 0; i < d; i++) {
                dd_token_kernel(p, smp, DD_JUMP_KEEP, Q, xs[i], sc + i * K, grid[st], grid[st] - grid[st + 1], k);
                double u = dl_rng_uniform(r), acc = 0;
                ys[i] = K - 1;
                for (int b = 0; b < K; b++) {
                    acc += k[b];
                    if (u < acc) {
                        ys[i] = b;
                        break;
                    }
                }
            }
            int64_t y = 0;
            for (int i = 0; i < d; i++) y = y * K + ys[i];
            xs_all[m] = y;
        }
    }
    memset(counts, 0, sizeof(double) * n);
    for (int64_t m = 0; m < M; m++) counts[xs_all[m]] += 1;
    free(qt), free(tmp), free(xs_all);
}

static void test_exact_law_matches_monte_carlo(void **state) {
    (void)state;
    const int d = 2, N = 3;
    const int64_t M = tu_sanitized() ? 20000 : 100000;
    dl_rng r;
    dl_rng_init(&r, 7, 1);
    for (int rate = 0; rate < 2; rate++)
        for (int smp = 0; smp < DD_N_SAMPLERS; smp++) {
            dd_proc p;
            dd_proc_init(&p, rate, 3);
            const int64_t n = dd_ipow(p.K, d);
            double q0[16], init[16], out[16], counts[16], grid[N + 1];
            dd_target_make(DD_TGT_TABLE, 3, p.K, d, 1.0, &r, q0);
            dd_init_law(&p, d, 2.0, init);
            assert_int_equal(dd_grid(DD_SCHED_GEOMETRIC, 2.0, 0.05, N, grid), 0);
            assert_int_equal(dd_run_exact(&p, q0, d, smp, DD_JUMP_KEEP, grid, N, init, out), 0);
            double tot = 0;
            for (int64_t j = 0; j < n; j++) tot += out[j];
            assert_true(fabs(tot - 1) < 1e-12);
            simulate(&p, q0, d, smp, grid, N, init, M, &r, counts);
            int df;
            const double x2 = dd_chi2(counts, out, n, (double)M, &df);
            /* 99.99% quantile: a correct propagation fails 1 time in 10^4 */
            assert_true(x2 < dd_chi2_quantile(df, 3.719));
        }
}

static void test_tweedie_exact_on_product(void **state) {
    (void)state;
    dl_rng r;
    dl_rng_init(&r, 3, 1);
    dd_proc p;
    dd_proc_init(&p, DD_UNIFORM, 4);
    const int d = 3;
    const int64_t n = dd_ipow(4, d);
    double q0[64], init[64], out[64], qd[64], tmp[64], grid[9];
    dd_target_make(DD_TGT_PRODUCT, 4, 4, d, 1.0, &r, q0);
    dd_init_law(&p, d, 10.0, init);
    dd_grid(DD_SCHED_CONSTANT, 10.0, 0.01, 8, grid);
    dd_run_exact(&p, q0, d, DD_TWEEDIE, DD_JUMP_KEEP, grid, 8, init, out);
    dd_marginal(&p, q0, d, 0.01, qd, tmp);
    /* only the initialization error remains: KL(q_delta || out) <= KL(q_T || uniform) */
    double qT[64];
    dd_marginal(&p, q0, d, 10.0, qT, tmp);
    assert_true(dd_kl(qd, out, n) <= dd_kl(qT, init, n) + 1e-13);
    /* tau-leaping is not exact: the check can fail */
    dd_run_exact(&p, q0, d, DD_TAU, DD_JUMP_KEEP, grid, 8, init, out);
    assert_true(dd_kl(qd, out, n) > 1e-3);
}

static void test_reverse_law_from_true_marginal(void **state) {
    (void)state;
    dl_rng r;
    dl_rng_init(&r, 5, 1);
    for (int rate = 0; rate < 2; rate++) {
        dd_proc p;
        dd_proc_init(&p, rate, 3);
        const int d = 2;
        const int64_t n = dd_ipow(p.K, d);
        double q0[16], qT[16], qd[16], out[16], tmp[16];
        dd_target_make(DD_TGT_MARKOV, 3, p.K, d, 0.5, &r, q0);
        dd_marginal(&p, q0, d, 3.0, qT, tmp);
        dd_marginal(&p, q0, d, 0.1, qd, tmp);
        dd_reverse_law(&p, q0, d, 3.0, 0.1, qT, out);
        for (int64_t j = 0; j < n; j++) assert_true(fabs(out[j] - qd[j]) < 1e-12);
    }
}

static void test_schedules_and_bounds(void **state) {
    (void)state;
    double g[17];
    for (int k = 0; k < 3; k++) {
        assert_int_equal(dd_grid(k, 12.0, 1e-3, 16, g), 0);
        assert_true(g[0] == 12.0 && g[16] == 1e-3);
        for (int j = 0; j < 16; j++) assert_true(g[j] > g[j + 1]);
    }
    assert_int_equal(dd_grid(DD_SCHED_GEOMETRIC, 12.0, 0.0, 16, g), -1);
    assert_int_equal(dd_grid(DD_SCHED_LOGLINEAR, 12.0, 0.0, 16, g), 0);
    assert_true(g[16] == 0.0);
    /* absorbing, one token, x0 = a != MASK: KL(P_T(a, .) || surrogate) = e^-T log(K-1) (Thm 1) */
    dd_proc p;
    dd_proc_init(&p, DD_ABSORBING, 6);
    double q0[7] = {0, 0, 1, 0, 0, 0, 0}, qT[7], init[7], tmp[7];
    dd_marginal(&p, q0, 1, 4.0, qT, tmp);
    dd_init_law(&p, 1, 4.0, init);
    assert_true(fabs(dd_kl(qT, init, 7) - exp(-4.0) * log(6.0)) < 1e-14);
    assert_true(dd_kl(qT, init, 7) <= dd_init_bound(&p, 1, 4.0));
    /* KL with zero output mass where the target has mass is infinite */
    double a[2] = {0.5, 0.5}, b[2] = {1, 0};
    assert_true(isinf(dd_kl(a, b, 2)));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transition_matches_expm),
        cmocka_unit_test(test_exact_law_matches_monte_carlo),
        cmocka_unit_test(test_tweedie_exact_on_product),
        cmocka_unit_test(test_reverse_law_from_true_marginal),
        cmocka_unit_test(test_schedules_and_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
