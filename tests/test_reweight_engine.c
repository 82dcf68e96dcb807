/* The loss-based reweighting engine (include/dynlab/reweight.h): weights of
 * every strategy on hand-computed loss vectors, the properties the paper's
 * Algorithm 1 implies (normalisation maps min -> -delta and max -> +delta,
 * weights sum to 1, r -> infinity gives uniform weights, the max/min weight
 * ratio is exp((max f - min f)/r)), warm-up, the weighted loss's gradient by
 * finite differences, and equality with plain training under equal weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "dynlab/nn.h"
#include "dynlab/optim.h"
#include "dynlab/reweight.h"

static const float L4[4] = {1, 2, 3, 5}; /* normalised: -1, -0.5, 0, 1 */

static void test_normalise(void **st) {
    (void)st;
    double x[4];
    dl_rw_normalise(L4, 4, 1.0, x);
    const double want[4] = {-1, -0.5, 0, 1};
    for (int i = 0; i < 4; i++) assert_true(fabs(x[i] - want[i]) < 1e-12);
    dl_rw_normalise(L4, 4, 2.0, x); /* delta scales the range */
    assert_true(fabs(x[0] + 2) < 1e-12 && fabs(x[3] - 2) < 1e-12);
    const float same[3] = {0.7f, 0.7f, 0.7f};
    dl_rw_normalise(same, 3, 1.0, x); /* span floored at 1e-6: all at the centre */
    for (int i = 0; i < 3; i++) assert_true(fabs(x[i]) < 1e-12);
}

/* w_i = exp(f_i - max f) / sum at r = 1 with f written out by hand. */
static void expect_weights(dl_rw_strategy s, const double f[4], double r) {
    double mx = -1e9, z = 0, want[4];
    for (int i = 0; i < 4; i++) mx = fmax(mx, f[i]);
    for (int i = 0; i < 4; i++) z += want[i] = exp((f[i] - mx) / r);
    float w[4];
    dl_rw_weights_r(s, 1.0, r, L4, 4, w);
    for (int i = 0; i < 4; i++) {
        if (fabs(w[i] - want[i] / z) > 1e-7) {
            fprintf(stderr, "%s r=%g: w[%d] = %.8f, want %.8f\n", dl_rw_name(s), r, i, w[i], want[i] / z);
            fail();
        }
    }
}

static void test_hand_weights(void **st) {
    (void)st;
    /* x = -1, -0.5, 0, 1 */
    const double linupper[4] = {0, 0.5, 1, 1};   /* min(x + 1, 1) */
    const double quadratic[4] = {0, 0.75, 1, 0}; /* 1 - x^2 */
    const double extremes[4] = {1, 0.5, 0, 1};   /* |x| */
    const double linear[4] = {0, 0.25, 0.5, 1};  /* 0.5 x + 0.5 */
    for (int k = 0; k < 3; k++) {
        double r = k == 0 ? 1.0 : k == 1 ? 0.4 : 5.0;
        expect_weights(DL_RW_LINUPPER, linupper, r);
        expect_weights(DL_RW_QUADRATIC, quadratic, r);
        expect_weights(DL_RW_EXTREMES, extremes, r);
        expect_weights(DL_RW_LINEAR, linear, r);
    }
    /* The numbers themselves, LinUpper at r = 1: e^-1, e^-0.5, 1, 1 over 2.974412 = 0.1236815, 0.2039163, 0.3362011. */
    float w[4];
    dl_rw_weights_r(DL_RW_LINUPPER, 1.0, 1.0, L4, 4, w);
    assert_true(fabs(w[0] - 0.1236815) < 1e-6 && fabs(w[1] - 0.2039163) < 1e-6);
    assert_true(fabs(w[2] - 0.3362011) < 1e-6 && w[2] == w[3]);
    /* Uniform: exactly 1/n whatever the losses and r. */
    dl_rw_weights_r(DL_RW_UNIFORM, 1.0, 0.1, L4, 4, w);
    for (int i = 0; i < 4; i++) assert_true(w[i] == 0.25f);
}

static void test_properties(void **st) {
    (void)st;
    enum { N = 128 };
    float loss[N], w[N];
    dl_rng r;
    dl_rng_init(&r, 3, 1);
    for (int i = 0; i < N; i++) loss[i] = (float)dl_rng_uniform(&r); /* the paper's Figure 1 batch */
    for (int s = DL_RW_LINUPPER; s < DL_RW_COUNT; s++) {
        double x[N], fmn = 1e9, fmx = -1e9;
        dl_rw_normalise(loss, N, 1.0, x);
        for (int i = 0; i < N; i++) {
            double f = dl_rw_strategy_f((dl_rw_strategy)s, x[i], 1.0);
            fmn = fmin(fmn, f);
            fmx = fmax(fmx, f);
        }
        for (int k = 0; k < 3; k++) {
            double temp = k == 0 ? 0.4 : k == 1 ? 1.0 : 3.0;
            dl_rw_weights_r((dl_rw_strategy)s, 1.0, temp, loss, N, w);
            double sum = 0, wmn = 1, wmx = 0;
            for (int i = 0; i < N; i++) {
                assert_true(w[i] > 0);
                sum += w[i];
                wmn = fmin(wmn, w[i]);
                wmx = fmax(wmx, w[i]);
            }
            assert_true(fabs(sum - 1) < 1e-5);
            assert_true(fabs(wmx / wmn / exp((fmx - fmn) / temp) - 1) < 1e-5);
        }
        /* r -> infinity: uniform */
        dl_rw_weights_r((dl_rw_strategy)s, 1.0, 1e7, loss, N, w);
        for (int i = 0; i < N; i++) assert_true(fabs(w[i] * N - 1) < 1e-5);
    }
    /* LinUpper is monotone in the loss and flat from mid-range up. */
    const float l5[5] = {0, 1, 2, 3, 4};
    float w5[5];
    dl_rw_weights_r(DL_RW_LINUPPER, 1.0, 0.4, l5, 5, w5);
    assert_true(w5[0] < w5[1] && w5[1] < w5[2] && w5[2] == w5[3] && w5[3] == w5[4]);
    assert_true(fabs(w5[0] / w5[4] - exp(-1 / 0.4)) < 1e-6); /* 0.08x at r = 0.4 */
    assert_int_equal(dl_rw_parse("linupper"), DL_RW_LINUPPER);
    assert_int_equal(dl_rw_parse("upper"), -1);
    assert_string_equal(dl_rw_name(DL_RW_EXTREMES), "extremes");
}

static void test_warmup(void **st) {
    (void)st;
    float w[4];
    dl_reweight rw = {.strategy = DL_RW_LINUPPER, .delta = 1, .r = 1, .warmup = 10, .warmup_r = 0};
    dl_rw_weights(&rw, 9, L4, 4, w);
    for (int i = 0; i < 4; i++) assert_true(w[i] == 0.25f);
    assert_true(dl_rw_in_warmup(&rw, 9) && !dl_rw_in_warmup(&rw, 10));
    dl_rw_weights(&rw, 10, L4, 4, w);
    assert_true(fabs(w[0] - 0.1236815) < 1e-6);
    rw.warmup_r = 100; /* fms-fsdp style: a large temperature during warm-up */
    dl_rw_weights(&rw, 0, L4, 4, w);
    float want[4];
    dl_rw_weights_r(DL_RW_LINUPPER, 1, 100, L4, 4, want);
    for (int i = 0; i < 4; i++) assert_true(w[i] == want[i] && fabs(w[i] - 0.25) < 0.01);
}

/* L(z) = sum_i w_i * mean_t CE(z[i, t, :], y[i, t]) with w from the losses at
 * the current z (held constant): the analytic gradient from the tape against
 * central differences with the weights frozen, as the training step uses them. */
static void test_weighted_loss_grad(void **st) {
    (void)st;
    enum { NS = 6, T = 3, C = 5 };
    dl_params ps;
    dl_params_init(&ps);
    int shape[2] = {NS * T, C};
    dl_tensor *z = dl_param_new(&ps, "z", 2, shape);
    dl_rng r;
    dl_rng_init(&r, 11, 2);
    for (int i = 0; i < NS * T * C; i++) z->data[i] = (float)dl_rng_normal(&r);
    int y[NS * T];
    for (int i = 0; i < NS * T; i++) y[i] = (int)dl_rng_below(&r, C);
    dl_graph *g = dl_graph_new();
    for (int s = 0; s < DL_RW_COUNT; s++) {
        float w[NS];
        dl_params_zero_grad(&ps);
        int s3[2] = {NS, T};
        dl_tensor *each = dl_reshape(g, dl_cross_entropy_each(g, z, y, -1), 2, s3);
        dl_tensor *per = dl_mean(g, each, 1, 0);
        dl_rw_weights_r((dl_rw_strategy)s, 1.0, 0.4, per->data, NS, w);
        dl_tensor *L = dl_rw_weighted_loss(g, per, w);
        dl_backward(g, L);
        float *an = malloc(sizeof(float) * NS * T * C);
        memcpy(an, z->grad, sizeof(float) * NS * T * C);
        dl_graph_reset(g);
        double maxnum = 1e-2, maxdiff = 0;
        dl_graph_set_grad_enabled(g, 0);
        for (int e = 0; e < NS * T * C; e++) {
            const float h = 1e-2f, keep = z->data[e];
            double Lp[2];
            for (int k = 0; k < 2; k++) {
                z->data[e] = keep + (k ? -h : h);
                dl_tensor *ea = dl_cross_entropy_each(g, z, y, -1);
                double tot = 0;
                for (int i = 0; i < NS; i++) {
                    double m = 0;
                    for (int t = 0; t < T; t++) m += ea->data[i * T + t];
                    tot += w[i] * (m / T);
                }
                Lp[k] = tot;
                dl_graph_reset(g);
            }
            z->data[e] = keep;
            double num = (Lp[0] - Lp[1]) / (2 * h);
            maxnum = fmax(maxnum, fabs(num));
            maxdiff = fmax(maxdiff, fabs(num - an[e]));
        }
        dl_graph_set_grad_enabled(g, 1);
        if (maxdiff / maxnum > 2e-3) {
            fprintf(stderr, "%s: gradient error %.3g\n", dl_rw_name((dl_rw_strategy)s), maxdiff / maxnum);
            fail();
        }
        free(an);
    }
    dl_graph_free(g);
    dl_params_free(&ps);
}

/* Uniform weights through dl_rw_weighted_loss train a GPT exactly as the plain
 * mean loss does: gradients within 1e-6 (relative) and the same parameters
 * after three AdamW steps. */
static void test_equal_weights_is_plain_training(void **st) {
    (void)st;
    enum { B = 4, T = 8, V = 11 };
    dl_gpt_config mc = {.vocab = V, .seq_len = T, .d_model = 16, .heads = 2, .layers = 2, .mlp_mult = 4};
    dl_params pa, pb;
    dl_params_init(&pa);
    dl_params_init(&pb);
    dl_gpt ma, mb;
    dl_rng ra, rb;
    dl_rng_init(&ra, 5, 1);
    dl_rng_init(&rb, 5, 1);
    dl_gpt_init(&ma, &pa, &mc, &ra);
    dl_gpt_init(&mb, &pb, &mc, &rb);
    dl_optim oa, ob;
    dl_optim_init(&oa, &pa, DL_OPT_ADAMW, 1e-2f);
    dl_optim_init(&ob, &pb, DL_OPT_ADAMW, 1e-2f);
    int tok[B * T], tgt[B * T];
    dl_rng d;
    dl_rng_init(&d, 9, 3);
    dl_graph *g = dl_graph_new();
    double worst = 0;
    for (int step = 0; step < 3; step++) {
        for (int i = 0; i < B * T; i++) tok[i] = (int)dl_rng_below(&d, V), tgt[i] = (int)dl_rng_below(&d, V);
        dl_params_zero_grad(&pa);
        dl_backward(g, dl_gpt_loss(g, &ma, tok, tgt, B, T));
        dl_graph_reset(g);
        dl_params_zero_grad(&pb);
        dl_tensor *logits = dl_gpt_fwd(g, &mb, tok, B, T);
        int s2[2] = {B * T, V}, s3[2] = {B, T};
        dl_tensor *each = dl_reshape(g, dl_cross_entropy_each(g, dl_reshape(g, logits, 2, s2), tgt, -1), 2, s3);
        dl_tensor *per = dl_mean(g, each, 1, 0);
        float w[B];
        dl_reweight rw = {.strategy = DL_RW_LINUPPER, .delta = 1, .r = 0.4, .warmup = 100};
        dl_rw_weights(&rw, step, per->data, B, w); /* in warm-up: 1/B */
        dl_backward(g, dl_rw_weighted_loss(g, per, w));
        dl_graph_reset(g);
        for (int k = 0; k < pa.n; k++) {
            double e = tu_max_rel_err(pb.items[k]->grad, pa.items[k]->grad, pa.items[k]->size);
            worst = fmax(worst, e);
        }
        dl_optim_step(&oa, oa.lr);
        dl_optim_step(&ob, ob.lr);
    }
    fprintf(stderr, "equal weights vs plain mean: worst relative gradient error %.3g\n", worst);
    assert_true(worst < 1e-6);
    for (int k = 0; k < pa.n; k++)
        assert_true(tu_max_rel_err(pb.items[k]->data, pa.items[k]->data, pa.items[k]->size) < 1e-5);
    dl_graph_free(g);
    dl_optim_free(&oa);
    dl_optim_free(&ob);
    dl_gpt_free(&ma);
    dl_gpt_free(&mb);
    dl_params_free(&pa);
    dl_params_free(&pb);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalise),        cmocka_unit_test(test_hand_weights),
        cmocka_unit_test(test_properties),       cmocka_unit_test(test_warmup),
        cmocka_unit_test(test_weighted_loss_grad),
        cmocka_unit_test(test_equal_weights_is_plain_training),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
