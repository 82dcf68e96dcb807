/* icl data invariants: feature frequencies, token geometry, the Lipschitz
 * constant of every function class measured on random pairs (<= L), the
 * bounded amplitude of input scaling, determinism. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "icl/icl.h"

static icl_data_opts opts(double L, icl_scaling sc) {
    icl_data_opts o;
    memset(&o, 0, sizeof o);
    o.d = 8; o.K = 4; o.N = 24; o.dominant_p = 0.4; o.noise = 0.02;
    o.L = L; o.amp = 1; o.scaling = sc; o.hidden = 16;
    for (int i = 0; i < ICL_F_COUNT; i++) o.kinds[i] = 1;
    return o;
}

/* Largest |f(x) - f(x')| / |x - x'| over random pairs near the data and
 * close pairs along random directions (where the slope is steepest). */
static double measured_lipschitz(const icl_func *f, int d, dl_rng *r) {
    double best = 0, x[ICL_MAX_D], y[ICL_MAX_D];
    for (int t = 0; t < 4000; t++) {
        double scale = t % 2 ? 1.0 : 1e-3, dist = 0;
        for (int i = 0; i < d; i++) {
            x[i] = dl_rng_normal(r);
            y[i] = x[i] + scale * dl_rng_normal(r);
            dist += (x[i] - y[i]) * (x[i] - y[i]);
        }
        dist = sqrt(dist);
        if (dist > 0) best = fmax(best, fabs(icl_func_eval(f, x) - icl_func_eval(f, y)) / dist);
    }
    return best;
}

static void test_lipschitz(void **state) {
    (void)state;
    const double Ls[] = {0.3, 1, 2.8, 11};
    for (int sc = 0; sc < 2; sc++)
        for (int li = 0; li < 4; li++)
            for (int kind = 0; kind < ICL_F_COUNT; kind++) {
                icl_data_opts o = opts(Ls[li], (icl_scaling)sc);
                dl_rng r;
                dl_rng_init(&r, 7 + li, 100 + kind);
                for (int rep = 0; rep < 5; rep++) {
                    icl_func f;
                    icl_func_draw(&f, &o, kind, &r);
                    double bound = icl_func_lipschitz_bound(&f);
                    assert_true(bound <= Ls[li] * (1 + 1e-9));
                    double meas = measured_lipschitz(&f, o.d, &r);
                    assert_true(meas <= Ls[li] * (1 + 1e-6));
                    if (kind == ICL_F_SIN) { /* sin attains its bound along w */
                        double x[ICL_MAX_D], y[ICL_MAX_D], best = 0;
                        for (int t = 0; t < 200; t++) {
                            for (int i = 0; i < o.d; i++) { /* near the zero of the phase, where |cos| = 1 */
                                x[i] = 0.01 * t * dl_rng_normal(&r) - f.phase / f.kappa * f.w[i];
                                y[i] = x[i] + 1e-5 * f.w[i];
                            }
                            best = fmax(best, fabs(icl_func_eval(&f, x) - icl_func_eval(&f, y)) / 1e-5);
                        }
                        if (!(best >= 0.95 * Ls[li] && best <= Ls[li] * (1 + 1e-3))) print_message("sc %d L %g best %g\n", sc, Ls[li], best);
                        assert_true(best >= 0.95 * Ls[li] && best <= Ls[li] * (1 + 1e-3));
                    }
                    if (sc == ICL_SCALE_INPUT) { /* bounded by amp whatever L */
                        double x[ICL_MAX_D];
                        for (int t = 0; t < 200; t++) {
                            for (int i = 0; i < o.d; i++) x[i] = 3 * dl_rng_normal(&r);
                            assert_true(fabs(icl_func_eval(&f, x)) <= o.amp * (1 + 1e-9));
                        }
                    }
                }
            }
}

static void test_batch(void **state) {
    (void)state;
    icl_data_opts o = opts(2, ICL_SCALE_INPUT);
    icl_batch b, b2;
    assert_int_equal(icl_batch_alloc(&b, 2000, o.N, o.d), 0);
    assert_int_equal(icl_batch_alloc(&b2, 2000, o.N, o.d), 0);
    dl_rng r;
    dl_rng_init(&r, 3, 1);
    icl_batch_draw(&b, &o, &r);
    dl_rng_init(&r, 3, 1);
    icl_batch_draw(&b2, &o, &r);
    assert_memory_equal(b.X, b2.X, sizeof(float) * (size_t)b.B * b.N * b.d); /* deterministic */
    assert_memory_equal(b.Y, b2.Y, sizeof(float) * (size_t)b.B * b.N);
    double cnt[ICL_MAX_K] = {0}, noise2 = 0;
    const int tot = b.B * (b.N + 1);
    for (int bi = 0; bi < b.B; bi++)
        for (int i = 0; i <= b.N; i++) {
            int k = b.feat[(size_t)bi * (b.N + 1) + i];
            assert_true(k >= 0 && k < o.K);
            cnt[k]++;
            const float *x = i < b.N ? b.X + ((size_t)bi * b.N + i) * b.d : b.Xq + (size_t)bi * b.d;
            for (int j = 0; j < b.d; j++) {
                double e = x[j] - (j == k ? 1.0 : 0.0);
                noise2 += e * e;
            }
        }
    double p[ICL_MAX_K];
    icl_feature_probs(&o, p);
    for (int k = 0; k < o.K; k++) assert_true(fabs(cnt[k] / tot - p[k]) < 0.01); /* imbalanced frequencies */
    assert_true(fabs(sqrt(noise2 / tot) - o.noise) < 0.1 * o.noise);             /* ||xi|| ~ noise */
    /* labels bounded by amp (input scaling) and not constant within a prompt */
    for (int bi = 0; bi < 20; bi++) {
        double mn = 1e9, mx = -1e9;
        for (int i = 0; i < b.N; i++) {
            double y = b.Y[(size_t)bi * b.N + i];
            assert_true(fabs(y) <= 1.0 + 1e-6);
            mn = fmin(mn, y); mx = fmax(mx, y);
        }
        assert_true(mx > mn);
    }
    icl_batch_free(&b);
    icl_batch_free(&b2);
}

static void test_bad_options(void **state) {
    (void)state;
    char err[128];
    icl_data_opts o = opts(1, ICL_SCALE_INPUT);
    o.K = 9;
    assert_int_equal(icl_data_check(&o, err, sizeof err), -1); /* K > d */
    assert_non_null(strstr(err, "data.K"));
    o = opts(1, ICL_SCALE_INPUT);
    memset(o.kinds, 0, sizeof o.kinds);
    assert_int_equal(icl_data_check(&o, err, sizeof err), -1);
}

static void test_analysis(void **state) {
    (void)state;
    double x[] = {0, 1, 2, 1.5, 1.6, 1.4, 3};
    assert_int_equal(icl_sign_changes(x, 7, 0), 4);
    assert_int_equal(icl_sign_changes(x, 7, 0.15), 2); /* +0.1 and -0.2 ... the 0.1 step is ignored */
    /* turns with hysteresis: up to 2, back to 1.4 (a turn), up to 3 (a turn);
     * with hysteresis 0.7 the dip of 0.6 does not count */
    assert_int_equal(icl_turns(x, 7, 0.15), 2);
    assert_int_equal(icl_turns(x, 7, 0.7), 0);
    double mono[] = {3, 2, 1.999999, 2.0000001, 1, 0};
    assert_int_equal(icl_turns(mono, 6, 0.01), 0); /* a rounding-level wiggle is no turn */
    double h[] = {0, 0.2, 0.6, 0.9, 1.0};
    assert_int_equal(icl_half_way(h, 5), 2);
    /* broken line: slope -2 below log 3, 0 above */
    double lx[10], ly[10];
    for (int i = 0; i < 10; i++) { lx[i] = 0.3 * i; ly[i] = lx[i] < 1.2 ? 5 - 2 * lx[i] : 5 - 2 * 1.2; }
    icl_break_fit f;
    icl_fit_break(lx, ly, 10, &f);
    assert_true(fabs(f.slope_lo + 2) < 0.05 && fabs(f.slope_hi) < 0.05 && fabs(f.x_break - 1.2) < 0.05);
    assert_true(f.sse2 < 1e-4 * f.sse1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lipschitz),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_analysis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
