/* rehearsal, linear part: the minimum-norm update against a direct
 * least-squares solve (LAPACK dgelsd), forgetting and generalization error on
 * a hand-computed two-task case, the section-2.1 one-step closed form against
 * Monte-Carlo and against the values of docs/papers/rehearsal.md, and the
 * negative control (no memory: rehearsal cannot reduce forgetting). */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "dynlab/rng.h"
#include "rehearsal/rehearsal.h"

/* w + argmin ||delta|| s.t. A (w + delta) = y, by dgelsd (SVD) */
static void lstsq_update(const double *A, const double *y, const double *w, int K, int p, double *out)
{
    double *a = malloc(sizeof(double) * (size_t)K * p), *b = malloc(sizeof(double) * (size_t)p), *sv = malloc(sizeof(double) * K);
    memcpy(a, A, sizeof(double) * (size_t)K * p);
    memset(b, 0, sizeof(double) * (size_t)p);
    for (int k = 0; k < K; k++) {
        double r = y[k];
        for (int j = 0; j < p; j++) r -= A[(size_t)k * p + j] * w[j];
        b[k] = r;
    }
    lapack_int rank;
    assert_int_equal(LAPACKE_dgelsd(LAPACK_ROW_MAJOR, K, p, 1, a, p, b, 1, sv, -1.0, &rank), 0);
    assert_int_equal(rank, K);
    for (int j = 0; j < p; j++) out[j] = w[j] + b[j];
    free(a); free(b); free(sv);
}

static void test_minnorm_vs_lstsq(void **state)
{
    (void)state;
    const int p = 40, K = 17;
    dl_rng r;
    dl_rng_init(&r, 7, 1);
    double *A = malloc(sizeof(double) * K * p), *y = malloc(sizeof(double) * K), w[40], ref[40], w2[40];
    for (int i = 0; i < K * p; i++) A[i] = dl_rng_normal(&r);
    for (int i = 0; i < K; i++) y[i] = dl_rng_normal(&r);
    for (int j = 0; j < p; j++) w[j] = w2[j] = dl_rng_normal(&r);
    lstsq_update(A, y, w, K, p, ref);
    double *work = malloc(sizeof(double) * (K * K + K));
    assert_int_equal(rh_minnorm_update(w, A, y, K, p, work), 0);
    for (int j = 0; j < p; j++) assert_true(fabs(w[j] - ref[j]) < 1e-10);
    /* it interpolates */
    for (int k = 0; k < K; k++) {
        double f = 0;
        for (int j = 0; j < p; j++) f += A[k * p + j] * w[j];
        assert_true(fabs(f - y[k]) < 1e-10);
    }
    /* the Gram-matrix form gives the same update */
    const double *rows[17];
    double *G = malloc(sizeof(double) * K * K), rr[17];
    for (int a = 0; a < K; a++) {
        rows[a] = A + (size_t)a * p;
        for (int b = 0; b < K; b++) {
            double g = 0;
            for (int j = 0; j < p; j++) g += A[a * p + j] * A[b * p + j];
            G[a * K + b] = g;
        }
    }
    assert_int_equal(rh_minnorm_update_gram(w2, rows, y, K, p, G, rr), 0);
    for (int j = 0; j < p; j++) assert_true(fabs(w2[j] - ref[j]) < 1e-10);
    free(A); free(y); free(work); free(G);
}

/* p = 4, T = 2, one sample per task (n = M = 1), noise 0:
 *   x_1 = e_0, w*_1 = e_0 (y_1 = 1); x_2 = e_0 + e_1, w*_2 = 2 e_1 (y_2 = 2).
 * Task 1: w_1 = e_0 for every strategy (L_1(w_1) = 0).
 * none: w_2 = w_1 + x_2 (2 - 1)/2 = (1.5, .5): L_1 = .5, L_2 = 4.5 -> F = .5, G = 2.5
 * CR:   interpolate both: w_2 = (1, 1): L_1 = 1, L_2 = 2              -> F = 1,  G = 1.5
 * SR:   (1.5, .5), then revisit x_1: (1, .5): L_1 = .25, L_2 = 3.25   -> F = .25, G = 1.75 */
static void test_hand_case(void **state)
{
    (void)state;
    rh_lin_problem P = {.p = 4, .n = 1, .M = 1, .T = 2, .s = 0, .family = RH_FAM_U};
    double X[8] = {1, 0, 0, 0, 1, 1, 0, 0}, y[2] = {1, 2}, ws[8] = {1, 0, 0, 0, 0, 2, 0, 0};
    rh_lin_work *k = rh_lin_work_new(&P);
    rh_draw d;
    assert_int_equal(rh_lin_given(&P, X, y, ws, 0, k, &d), 0);
    assert_true(fabs(d.F[RH_NONE] - 0.5) < 1e-12 && fabs(d.G[RH_NONE] - 2.5) < 1e-12);
    assert_true(fabs(d.F[RH_CR] - 1.0) < 1e-12 && fabs(d.G[RH_CR] - 1.5) < 1e-12);
    assert_true(fabs(d.F[RH_SR] - 0.25) < 1e-12 && fabs(d.G[RH_SR] - 1.75) < 1e-12);
    /* one past task: both revisit orders coincide */
    assert_true(fabs(d.G[RH_SRREV] - d.G[RH_SR]) < 1e-12);
    /* label noise s adds s^2 to G and nothing to F */
    P.s = 0.5;
    assert_int_equal(rh_lin_given(&P, X, y, ws, 0, k, &d), 0);
    assert_true(fabs(d.G[RH_SR] - 2.0) < 1e-12 && fabs(d.F[RH_SR] - 0.25) < 1e-12);
    rh_lin_work_free(k);
}

/* One update on fresh Gaussian rows from two blocks with different targets and
 * label noise: the mean of ||w+ - v||^2 over draws against the closed form. */
static void test_single_step_closed_form(void **state)
{
    (void)state;
    const int p = 30, nb = 2, nk[2] = {4, 3}, K = 7, R = tu_sanitized() ? 6000 : 20000;
    const double s = 0.3;
    dl_rng r;
    dl_rng_init(&r, 3, 9);
    double w0[30], v[30], t0[30], t1[30];
    for (int j = 0; j < p; j++) {
        w0[j] = dl_rng_normal(&r) / sqrt(p);
        v[j] = dl_rng_normal(&r) / sqrt(p);
        t0[j] = dl_rng_normal(&r) / sqrt(p);
        t1[j] = t0[j] + 0.8 * dl_rng_normal(&r) / sqrt(p);
    }
    const double *wt[2] = {t0, t1};
    double e0 = 0;
    for (int j = 0; j < p; j++) e0 += (w0[j] - v[j]) * (w0[j] - v[j]);
    double th = rh_closed_step(e0, p, nb, nk, wt, v, s);
    double A[7 * 30], y[7], w[30], work[7 * 7 + 7], sum = 0, sum2 = 0;
    for (int it = 0; it < R; it++) {
        int row = 0;
        for (int b = 0; b < nb; b++)
            for (int i = 0; i < nk[b]; i++, row++) {
                double dot = 0;
                for (int j = 0; j < p; j++) { A[row * p + j] = dl_rng_normal(&r); dot += A[row * p + j] * wt[b][j]; }
                y[row] = dot + s * dl_rng_normal(&r);
            }
        memcpy(w, w0, sizeof w);
        assert_int_equal(rh_minnorm_update(w, A, y, K, p, work), 0);
        double e = 0;
        for (int j = 0; j < p; j++) e += (w[j] - v[j]) * (w[j] - v[j]);
        sum += e; sum2 += e * e;
    }
    double m = sum / R, se = sqrt((sum2 / R - m * m) / R);
    print_message("single step: Monte-Carlo %.5f +- %.5f, closed form %.5f\n", m, se, th);
    assert_true(fabs(m - th) < 4 * se);
}

/* The values of docs/papers/rehearsal.md for family E (p=100, n=20, M=5,
 * T=5), fresh buffers: closed form, and Monte-Carlo within 4 standard errors. */
static void test_closed_form_table(void **state)
{
    (void)state;
    rh_lin_problem P = {.p = 100, .n = 20, .M = 5, .T = 5, .s = 0, .family = RH_FAM_E, .d = 1, .fresh = 1, .theory = 1};
    double ws[5 * 100];
    rh_ground_truths(&P, ws, NULL);
    static const double want1[3][2] = {{0.1638, 1.7311}, {0.3007, 1.9551}, {0.0505, 1.6785}};
    static const double want2[3][2] = {{-0.1412, 0.9167}, {-0.1360, 0.9049}, {-0.2095, 0.8169}};
    const int strat[3] = {RH_NONE, RH_CR, RH_SR};
    for (int i = 0; i < 3; i++) {
        double F, G;
        rh_closed_fg(&P, ws, strat[i], 0, &F, &G);
        assert_true(fabs(F - want1[i][0]) < 6e-4 && fabs(G - want1[i][1]) < 6e-4);
    }
    rh_lin_problem Q = P;
    Q.d = 0.3; Q.s = 0.5;
    double wq[5 * 100];
    rh_ground_truths(&Q, wq, NULL);
    for (int i = 0; i < 3; i++) {
        double F, G;
        rh_closed_fg(&Q, wq, strat[i], 0, &F, &G);
        assert_true(fabs(F - want2[i][0]) < 6e-4 && fabs(G - want2[i][1]) < 6e-4);
    }
    /* Monte-Carlo with fresh buffers agrees with the closed form */
    rh_point pt;
    double d1 = 1;
    assert_int_equal(rh_lin_point(&P, &d1, 1, tu_sanitized() ? 300 : 1500, 0, 0, 5, 77, &pt), 0);
    for (int i = 0; i < 3; i++) {
        int s = strat[i];
        print_message("%s: F %.4f +- %.4f (closed %.4f), G %.4f +- %.4f (closed %.4f)\n", rh_strat_name[s], pt.F[s],
                      pt.seF[s], pt.thF[s], pt.G[s], pt.seG[s], pt.thG[s]);
        assert_true(fabs(pt.F[s] - pt.thF[s]) < 4 * pt.seF[s]);
        assert_true(fabs(pt.G[s] - pt.thG[s]) < 4 * pt.seG[s]);
    }
}

/* With no memory (M = 0) every rehearsal strategy is plain fine-tuning: it
 * cannot reduce forgetting, on any draw. */
static void test_zero_memory_control(void **state)
{
    (void)state;
    rh_lin_problem P = {.p = 100, .n = 20, .M = 0, .T = 6, .s = 0.1, .family = RH_FAM_C, .spread = 0.1, .tau_factor = 0.5};
    double dv[2] = {0.5, 2};
    rh_point pt[2];
    assert_int_equal(rh_lin_point(&P, dv, 2, 40, 0, 0, 11, 1, pt), 0);
    for (int q = 0; q < 2; q++)
        for (int s = RH_CR; s < RH_NSTRAT; s++) {
            assert_true(pt[q].F[s] >= pt[q].F[RH_NONE] - 1e-9);
            assert_true(fabs(pt[q].F[s] - pt[q].F[RH_NONE]) < 1e-9);
        }
    /* and with memory it does reduce it on dissimilar clusters (the check can fail) */
    P.M = 5;
    assert_int_equal(rh_lin_point(&P, dv, 2, 40, 0, 0, 11, 1, pt), 0);
    assert_true(pt[1].F[RH_SR] < pt[1].F[RH_NONE]);
}

static void test_rotation(void **state)
{
    (void)state;
    float img[28 * 28], out[28 * 28], back[28 * 28];
    for (int i = 0; i < 28 * 28; i++) img[i] = (float)((i * 37) % 101) / 100.f;
    rh_rotate_image(img, out, 28, 28, 0);
    for (int i = 0; i < 28 * 28; i++) assert_true(fabsf(out[i] - img[i]) < 1e-6f);
    /* 90 degrees four times is the identity on the exact pixel grid */
    memcpy(back, img, sizeof img);
    for (int k = 0; k < 4; k++) { rh_rotate_image(back, out, 28, 28, 90); memcpy(back, out, sizeof out); }
    for (int i = 0; i < 28 * 28; i++) assert_true(fabsf(back[i] - img[i]) < 1e-4f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minnorm_vs_lstsq),
        cmocka_unit_test(test_hand_case),
        cmocka_unit_test(test_single_step_closed_form),
        cmocka_unit_test(test_closed_form_table),
        cmocka_unit_test(test_zero_memory_control),
        cmocka_unit_test(test_rotation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
