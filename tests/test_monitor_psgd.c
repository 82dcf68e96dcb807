/* monitor: simplex projection, the Brier-loss gradient (finite differences)
 * and the PSGD learner's convergence (spec C §3.7 [R]). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "dynlab/optim.h"
#include "monitor/monitor.h"

/* The projection p of y is optimal iff (y - p).(z - p) <= 0 for every z in the
 * simplex; checking the vertices z = e_j suffices (the simplex is their hull). */
static void test_simplex_projection(void **state) {
    (void)state;
    dl_rng r;
    dl_rng_init(&r, 3, 0);
    for (int trial = 0; trial < 200; trial++) {
        int n = 1 + (int)dl_rng_below(&r, 8);
        double y[8], p[8];
        for (int j = 0; j < n; j++) y[j] = p[j] = 3.0 * dl_rng_normal(&r);
        dl_project_simplex(p, n);
        double sum = 0.0;
        for (int j = 0; j < n; j++) {
            assert_true(p[j] >= 0.0);
            sum += p[j];
        }
        assert_true(fabs(sum - 1.0) < 1e-12);
        for (int v = 0; v < n; v++) {
            double dot = 0.0;
            for (int j = 0; j < n; j++) dot += (y[j] - p[j]) * ((j == v ? 1.0 : 0.0) - p[j]);
            assert_true(dot <= 1e-12);
        }
        double q[8]; /* idempotent */
        memcpy(q, p, sizeof q);
        dl_project_simplex(q, n);
        for (int j = 0; j < n; j++) assert_true(fabs(q[j] - p[j]) < 1e-14);
    }
    /* row-wise on a matrix */
    double M[9] = {0.5, 0.5, 0.5, -1.0, 2.0, 0.0, 0.2, 0.3, 0.5};
    mon_project_rows(M, 3);
    assert_true(fabs(M[0] - 1.0 / 3) < 1e-15 && fabs(M[2] - 1.0 / 3) < 1e-15);
    assert_true(M[3] == 0.0 && fabs(M[4] - 1.0) < 1e-15 && M[5] == 0.0);
    assert_true(fabs(M[6] - 0.2) < 1e-15 && fabs(M[8] - 0.5) < 1e-15);
}

static void test_brier_gradient_fd(void **state) {
    (void)state;
    dl_rng r;
    dl_rng_init(&r, 5, 0);
    int n = 4;
    double P[16], G[16], work[(12 + 3) * 4];
    for (int i = 0; i < n; i++) dl_rng_dirichlet(&r, 1.0, n, P + i * n);
    int ks[] = {1, 2, 5, 12};
    for (int a = 0; a < 4; a++) {
        int k = ks[a], i = a % n, j = (a + 1) % n;
        mon_brier_grad(n, P, i, k, j, G, work);
        double scratch[16];
        for (int e = 0; e < n * n; e++) {
            double h = 1e-6, save = P[e];
            P[e] = save + h;
            double fp = mon_brier_grad(n, P, i, k, j, scratch, work);
            P[e] = save - h;
            double fm = mon_brier_grad(n, P, i, k, j, scratch, work);
            P[e] = save;
            assert_true(fabs(G[e] - (fp - fm) / (2 * h)) < 1e-7);
        }
    }
}

/* Learning on a small sticky chain: the averaged estimate approaches P and the
 * final-window cost approaches greedy with the known P. */
static void test_psgd_converges(void **state) {
    (void)state;
    mon_chain_spec s = {MON_FAM_STICKY, 3, 1.0, 0.8, 0.95, 0, MON_LOSS_01};
    dl_rng r;
    dl_rng_init(&r, 2, 1);
    char err[128];
    mon_chain ch;
    assert_int_equal(mon_chain_make(&ch, &s, &r, err, sizeof err), 0);
    mon_model m;
    assert_int_equal(mon_model_build(&m, &ch, 1e-9, 200, 100000), 0);
    double c = 0.1;
    int tg[3];
    mon_greedy_thresholds(&m, c, tg);
    double Jg = mon_eval_thresholds(&m, c, tg, NULL);
    mon_psgd_params p = {c, 0.1, 200, 1, tu_sanitized() ? 60000 : 150000, 20, 0.25, NULL};
    mon_psgd_result res;
    assert_int_equal(mon_psgd_run(&ch, &m, &p, &r, &res), 0);
    assert_true(res.p_err < 0.1);
    assert_true(fabs(res.window_cost / Jg - 1.0) < 0.08);
    assert_true(res.n_points == 20);
    assert_true(res.queries > 1000);
    mon_psgd_free(&res);
    mon_model_free(&m);
    mon_chain_free(&ch);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simplex_projection),
        cmocka_unit_test(test_brier_gradient_fd),
        cmocka_unit_test(test_psgd_converges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
