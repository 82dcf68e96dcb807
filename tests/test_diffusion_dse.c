/* diffusion: the denoising score-entropy loss (uniform rate matrix) against a
 * double-precision reference, its gradient by central finite differences, and
 * its minimiser (the transition ratios) where it is zero with zero gradient;
 * the denoiser's forward shape. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "dynlab/core.h"
#include "diffusion/denoiser.h"

enum { B = 3, L = 4, V = 5 };

static void setup(int *xt, int *x0, double *t, float *w, dl_rng *r) {
    for (int i = 0; i < B * L; i++) {
        x0[i] = (int)dl_rng_below(r, V);
        xt[i] = (i % 3 == 0) ? x0[i] : (int)dl_rng_below(r, V);
    }
    for (int b = 0; b < B; b++) {
        t[b] = 0.05 + 1.5 * b;
        w[b] = 0.5f + 0.25f * (float)b;
    }
}

static void test_dse_value_and_gradient(void **state) {
    (void)state;
    dl_rng r;
    dl_rng_init(&r, 11, 1);
    int xt[B * L], x0[B * L];
    double t[B];
    float w[B];
    setup(xt, x0, t, w, &r);
    dl_params ps;
    dl_params_init(&ps);
    int sh[3] = {B, L, V};
    dl_tensor *o = dl_param_new(&ps, "logits", 3, sh);
    for (int i = 0; i < B * L * V; i++) o->data[i] = (float)(0.8 * dl_rng_normal(&r));
    dl_graph *g = dl_graph_new();
    dl_tensor *loss = dd_dse_loss(g, o, xt, x0, t, w, B, L, V);
    const double ref = dd_dse_loss_ref(o->data, xt, x0, t, w, B, L, V);
    assert_true(fabs(loss->data[0] - ref) < 1e-4 * fmax(1.0, fabs(ref)));
    assert_true(ref > 0);
    dl_backward(g, loss);
    double err = 0, gmax = 0;
    for (int i = 0; i < B * L * V; i++) {
        const float keep = o->data[i];
        const double h = 1e-2;
        o->data[i] = keep + (float)h;
        const double lp = dd_dse_loss_ref(o->data, xt, x0, t, w, B, L, V);
        o->data[i] = keep - (float)h;
        const double lm = dd_dse_loss_ref(o->data, xt, x0, t, w, B, L, V);
        o->data[i] = keep;
        const double fd = (lp - lm) / (2 * h);
        err = fmax(err, fabs(fd - o->grad[i]));
        gmax = fmax(gmax, fabs(fd));
    }
    assert_true(gmax > 1e-3);
    assert_true(err < 2e-3 * fmax(1.0, gmax));
    dl_graph_free(g);
    dl_params_free(&ps);
}

/* At o_b = log r_b (the true ratios P_t(x0, b)/P_t(x0, a)) the loss is 0 and
 * its gradient vanishes: the denoising score entropy is minimised by the
 * conditional score. */
static void test_dse_minimiser(void **state) {
    (void)state;
    dl_rng r;
    dl_rng_init(&r, 12, 1);
    int xt[B * L], x0[B * L];
    double t[B];
    float w[B];
    setup(xt, x0, t, w, &r);
    dl_params ps;
    dl_params_init(&ps);
    int sh[3] = {B, L, V};
    dl_tensor *o = dl_param_new(&ps, "logits", 3, sh);
    for (int b = 0; b < B; b++) {
        const double al = exp(-t[b]), be = -expm1(-t[b]) / V;
        for (int i = 0; i < L; i++) {
            const int p = b * L + i, a = xt[p], c = x0[p];
            for (int v = 0; v < V; v++) {
                const double pa = (a == c ? al : 0) + be, pv = (v == c ? al : 0) + be;
                o->data[p * V + v] = v == a ? 0.0f : (float)log(pv / pa);
            }
        }
    }
    dl_graph *g = dl_graph_new();
    dl_tensor *loss = dd_dse_loss(g, o, xt, x0, t, w, B, L, V);
    dl_backward(g, loss);
    assert_true(fabs(loss->data[0]) < 1e-4);
    for (int i = 0; i < B * L * V; i++) assert_true(fabs(o->grad[i]) < 1e-4);
    dl_graph_free(g);
    dl_params_free(&ps);
}

static void test_denoiser_shape_and_context(void **state) {
    (void)state;
    dl_params ps;
    dl_params_init(&ps);
    dl_rng r;
    dl_rng_init(&r, 13, 1);
    dd_denoiser m;
    dd_denoiser_init(&m, &ps, V + 1, V, L, 8, 2, 1, &r);
    dl_graph *g = dl_graph_new();
    int tok[2 * L] = {0, 1, 2, 3, 0, 1, 4, 3};
    float tf[2 * DD_TFEAT];
    dd_time_features(0.5, tf);
    dd_time_features(0.5, tf + DD_TFEAT);
    dl_tensor *o = dd_denoiser_fwd(g, &m, tok, tf, 2, L);
    assert_int_equal(o->ndim, 3);
    assert_int_equal(o->shape[0], 2);
    assert_int_equal(o->shape[2], V);
    /* bidirectional: changing token 2 changes the output at position 0 */
    double diff = 0;
    for (int v = 0; v < V; v++) diff += fabs(o->data[v] - o->data[L * V + v]);
    assert_true(diff > 0);
    dd_denoiser_free(&m);
    dl_graph_free(g);
    dl_params_free(&ps);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dse_value_and_gradient),
        cmocka_unit_test(test_dse_minimiser),
        cmocka_unit_test(test_denoiser_shape_and_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
