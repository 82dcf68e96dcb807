/* Finite-difference gradient checks for the image ops (include/dynlab/conv.h),
 * with the shared harness of tests/fdcheck.h.
 *
 * For an op f with inputs x_1..x_n (parameters, so they carry grads) and a random
 * weight tensor w, L = sum(w * f(x)). The analytic gradient comes from dl_backward
 * on the tape; the numeric one from central differences in float:
 *   dL/dx_e ~ (L(x + h e) - L(x - h e)) / 2h,  h = 1e-2 (1e-3 for sharp ops),
 * with L summed in double. The check fails when
 *   max_e |numeric - analytic| / max(max_e |numeric|, 1e-2) > tol,  tol = 2e-3
 * (observed errors are below 3e-4; a wrong backward shows up at 5e-2 and above).
 * Inputs are drawn away from kinks (relu, abs, max, hinge) so the function is
 * smooth within h (max pooling gets distinct values; grid-sampling points are kept
 * off pixel centres). A perturbed analytic entry must be detected (self-check). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fdcheck.h"
#include "testutil.h"
#include "dynlab/core.h"
#include "dynlab/conv.h"
#include "core/internal.h"
#include "dynlab/checkpoint.h"
#include "dynlab/nn.h"
#include "dynlab/optim.h"

#define T4G(gen, a, b, c, d) {4, {a, b, c, d}, gen}
#define T3G(gen, a, b, c) {3, {a, b, c}, gen}

/* ---- conv2d ------------------------------------------------------------------ */
typedef struct conv_ctx {
    int stride, pad, dil, groups, bias;
} conv_ctx;

static dl_tensor *b_conv(dl_graph *g, dl_tensor **in, const void *c) {
    const conv_ctx *k = c;
    return dl_conv2d(g, in[0], in[1], k->bias ? in[2] : NULL, k->stride, k->pad, k->dil, k->groups);
}

static void conv_cases(void) {
    const conv_ctx c3 = {1, 1, 1, 1, 1}, s2 = {2, 1, 1, 1, 0}, d2 = {1, 2, 2, 1, 1}, g2 = {1, 1, 1, 2, 1};
    const conv_ctx one = {1, 0, 1, 1, 1}, one_s2 = {2, 0, 1, 1, 0}, dw = {2, 1, 1, 4, 1}, big = {3, 2, 1, 1, 1};
    CHECK("conv2d 3x3 pad 1 + bias", b_conv, &c3, 3, T4(2, 3, 5, 6), T4(4, 3, 3, 3), T1(4));
    CHECK("conv2d 3x3 stride 2 no bias", b_conv, &s2, 2, T4(2, 3, 7, 6), T4(4, 3, 3, 3));
    CHECK("conv2d dilation 2 pad 2", b_conv, &d2, 3, T4(1, 2, 7, 7), T4(3, 2, 3, 3), T1(3));
    CHECK("conv2d groups 2", b_conv, &g2, 3, T4(2, 4, 5, 5), T4(6, 2, 3, 3), T1(6));
    CHECK("conv2d depthwise stride 2", b_conv, &dw, 3, T4(2, 4, 6, 5), T4(4, 1, 3, 3), T1(4));
    CHECK("conv2d 1x1", b_conv, &one, 3, T4(2, 3, 4, 5), T4(5, 3, 1, 1), T1(5));
    CHECK("conv2d 1x1 stride 2", b_conv, &one_s2, 2, T4(2, 3, 5, 5), T4(4, 3, 1, 1));
    CHECK("conv2d 5x4 stride 3 pad 2", b_conv, &big, 3, T4(2, 2, 9, 8), T4(3, 2, 5, 4), T1(3));
}

static void test_conv2d(void **state) {
    (void)state;
    conv_cases(); /* default blocks: runs of whole images */
    dl_conv2d_set_block_floats(40); /* slices of a few pixels inside one image */
    conv_cases();
    dl_conv2d_set_block_floats(0);
    /* The portable stride-2 im2col / col2im rows, on draws of their own stream
     * (the shared stream is restored after: later checks keep their inputs). */
    const dl_rng saved = g_rng;
    dl_rng_init(&g_rng, 20261206, 2);
    dl_conv2d_force_generic(1);
    conv_cases();
    dl_conv2d_force_generic(0);
    g_rng = saved;
}

/* The same checks through Winograd F(4x4, 3x3) and F(2x2, 3x3) (dl_conv2d_set_algo): every 3x3
 * stride-1 case above, plus cases chosen for its tiling: output sizes that are
 * not multiples of the 4x4 tile, padding 0, 1 and 2, batches of 2-3, channel
 * counts below and past one 16-lane vector, and (with tiny tile blocks) several
 * blocks and several tiles per thread. */
static void winograd_cases(void) {
    const conv_ctx p1 = {1, 1, 1, 1, 1}, p0 = {1, 0, 1, 1, 0}, p2 = {1, 2, 1, 1, 1};
    conv_cases();
    CHECK("winograd pad 1, 5x6 output", b_conv, &p1, 3, T4(2, 3, 5, 6), T4(4, 3, 3, 3), T1(4));
    CHECK("winograd pad 0, 7x9 output", b_conv, &p0, 2, T4(3, 5, 9, 11), T4(6, 5, 3, 3));
    CHECK("winograd pad 2, 17 in 18 out channels", b_conv, &p2, 3, T4(2, 17, 4, 5), T4(18, 17, 3, 3), T1(18));
    CHECK("winograd pad 1, one pixel", b_conv, &p1, 3, T4(2, 2, 1, 1), T4(3, 2, 3, 3), T1(3));
}

static void test_conv2d_winograd(void **state) {
    (void)state;
    dl_conv2d_set_algo(DL_CONV_WINOGRAD);
    winograd_cases();
    dl_conv2d_set_winograd_block_floats(1); /* one row of tiles per block */
    winograd_cases();
    dl_conv2d_set_winograd_block_floats(0);
    dl_conv2d_set_algo(DL_CONV_WINOGRAD2); /* F(2x2, 3x3) */
    winograd_cases();
    dl_conv2d_set_winograd_block_floats(1);
    winograd_cases();
    dl_conv2d_set_winograd_block_floats(0);
    dl_conv2d_set_algo(DL_CONV_AUTO);
}

/* Direct check of values on a hand-made case: 3x3 ones kernel, padding 1, on a
 * 3x3 input of 1..9: the centre sums all nine (45), the corner 1+2+4+5 = 12. */
static void test_conv2d_values(void **state) {
    (void)state;
    dl_graph *g = dl_graph_new();
    int sx[4] = {1, 1, 3, 3}, sw[4] = {1, 1, 3, 3};
    dl_tensor *x = dl_tensor_new(g, 4, sx), *w = dl_tensor_new(g, 4, sw);
    for (int i = 0; i < 9; i++) x->data[i] = (float)(i + 1), w->data[i] = 1.0f;
    dl_tensor *y = dl_conv2d(g, x, w, NULL, 1, 1, 1, 1);
    assert_int_equal(y->shape[2], 3);
    assert_float_equal(y->data[4], 45.0f, 0);
    assert_float_equal(y->data[0], 12.0f, 0);
    assert_float_equal(y->data[8], 5 + 6 + 8 + 9, 0);
    dl_tensor *y2 = dl_conv2d(g, x, w, NULL, 2, 1, 1, 1); /* 2x2 output: corners of the padded grid */
    assert_int_equal(y2->shape[2], 2);
    assert_float_equal(y2->data[3], 5 + 6 + 8 + 9, 0);
    dl_graph_free(g);
}

/* ---- pooling ------------------------------------------------------------------ */
typedef struct pool_ctx {
    int kind, k, s, p; /* kind 0 max, 1 avg, 2 global */
} pool_ctx;

static dl_tensor *b_pool(dl_graph *g, dl_tensor **in, const void *c) {
    const pool_ctx *k = c;
    if (k->kind == 0) return dl_max_pool2d(g, in[0], k->k, k->s, k->p);
    if (k->kind == 1) return dl_avg_pool2d(g, in[0], k->k, k->s, k->p);
    return dl_global_avg_pool2d(g, in[0]);
}

static void test_pool(void **state) {
    (void)state;
    const pool_ctx m22 = {0, 2, 2, 0}, m31 = {0, 3, 2, 1}, m3s1 = {0, 3, 1, 1};
    const pool_ctx a22 = {1, 2, 2, 0}, a31 = {1, 3, 2, 1}, gap = {2, 0, 0, 0};
    CHECK("max_pool2d 2x2", b_pool, &m22, 1, T4G(GEN_DISTINCT, 2, 3, 4, 6));
    CHECK("max_pool2d 3x3 stride 2 pad 1", b_pool, &m31, 1, T4G(GEN_DISTINCT, 2, 2, 7, 6));
    CHECK("max_pool2d 3x3 stride 1 pad 1 (overlapping)", b_pool, &m3s1, 1, T4G(GEN_DISTINCT, 1, 2, 5, 5));
    CHECK("avg_pool2d 2x2", b_pool, &a22, 1, T4(2, 3, 4, 6));
    CHECK("avg_pool2d 3x3 stride 2 pad 1", b_pool, &a31, 1, T4(2, 2, 7, 6));
    CHECK("global_avg_pool2d", b_pool, &gap, 1, T4(2, 3, 4, 5));
    /* The AVX-512 2x2 kernel against the portable loop: odd sizes, more than one
     * vector per row, a NaN (which wins, as in PyTorch), ties (first in scan order). */
    dl_graph *g = dl_graph_new();
    int sh[4] = {2, 3, 10, 41};
    dl_tensor *x = dl_tensor_new(g, 4, sh);
    for (int64_t i = 0; i < x->size; i++) x->data[i] = (float)(int)(4 * dl_rng_normal(&g_rng)) * 0.25f;
    x->data[77] = NAN;
    x->requires_grad = 1; /* so the argmax is kept */
    dl_tensor *a = dl_max_pool2d(g, x, 2, 2, 0);
    dl_pool_force_generic(1);
    dl_tensor *b = dl_max_pool2d(g, x, 2, 2, 0);
    dl_pool_force_generic(0);
    assert_int_equal(a->shape[3], 20);
    assert_memory_equal(a->data, b->data, (size_t)a->size * sizeof(float)); /* NaN bits too */
    assert_true(isnan(a->data[(77 / 41 / 2) * 20 + (77 % 41) / 2]));
    dl_graph_free(g);
    dl_pool_force_generic(1);
    CHECK("max_pool2d 2x2 portable loop", b_pool, &m22, 1, T4G(GEN_DISTINCT, 2, 3, 4, 6));
    CHECK("max_pool2d 3x3 stride 2 pad 1 portable loop", b_pool, &m31, 1, T4G(GEN_DISTINCT, 2, 2, 7, 6));
    dl_pool_force_generic(0);
    /* The AVX-512 3x3/2 kernel (inner windows) against the portable loop: values and
     * the chosen positions (through the gradient), with ties, a NaN, rows of 23
     * outputs (two vectors) and an odd height. */
    for (int pad = 0; pad <= 1; pad++) {
        int sh3[4] = {2, 3, 21, 45};
        const int64_t nx = 2 * 3 * 21 * 45;
        float *buf = malloc((size_t)nx * sizeof(float)), *vals[2] = {0}, *grads[2] = {0};
        for (int64_t i = 0; i < nx; i++) buf[i] = (float)(int)(4 * dl_rng_normal(&g_rng)) * 0.25f;
        buf[5 * 45 + 20] = NAN;
        int64_t ny = 0;
        for (int v = 0; v < 2; v++) {
            dl_graph *g3 = dl_graph_new();
            dl_tensor *x3 = dl_tensor_wrap(g3, buf, 4, sh3);
            x3->requires_grad = 1;
            if (v) dl_pool_force_generic(1);
            dl_tensor *y3 = dl_max_pool2d(g3, x3, 3, 2, pad);
            dl_pool_force_generic(0);
            dl_tensor *ws = dl_tensor_like(g3, y3);
            for (int64_t i = 0; i < ws->size; i++) ws->data[i] = (float)(i % 7) + 1.0f;
            dl_backward(g3, dl_sum_all(g3, dl_mul(g3, y3, ws)));
            ny = y3->size;
            vals[v] = malloc((size_t)ny * sizeof(float));
            grads[v] = malloc((size_t)nx * sizeof(float));
            memcpy(vals[v], y3->data, (size_t)ny * sizeof(float));
            memcpy(grads[v], x3->grad, (size_t)nx * sizeof(float));
            dl_graph_free(g3);
        }
        assert_memory_equal(vals[0], vals[1], (size_t)ny * sizeof(float)); /* NaN bits too */
        assert_memory_equal(grads[0], grads[1], (size_t)nx * sizeof(float));
        free(vals[0]), free(vals[1]), free(grads[0]), free(grads[1]), free(buf);
    }
}

/* ---- batch norm ------------------------------------------------------------------ */
typedef struct bn_ctx {
    int train, affine;
    float *rm, *rv; /* running statistics [C] */
    int relu;       /* dl_batchnorm_relu */
} bn_ctx;

static dl_tensor *b_bn(dl_graph *g, dl_tensor **in, const void *c) {
    const bn_ctx *k = c;
    const int C = in[0]->shape[1];
    int s[1] = {C};
    dl_tensor *rm = k->rm ? dl_tensor_wrap(g, k->rm, 1, s) : NULL, *rv = k->rv ? dl_tensor_wrap(g, k->rv, 1, s) : NULL;
    dl_graph_set_training(g, k->train);
    dl_tensor *y = (k->relu ? dl_batchnorm_relu : dl_batchnorm)(g, in[0], k->affine ? in[1] : NULL,
                                                               k->affine ? in[2] : NULL, rm, rv, 0.1f, 1e-5f);
    dl_graph_set_training(g, 1);
    return y;
}

static void test_batchnorm(void **state) {
    (void)state;
    float rm[4] = {0.3f, -0.2f, 0.1f, 0.5f}, rv[4] = {1.5f, 0.7f, 2.0f, 0.9f};
    const bn_ctx tr = {1, 1, rm, rv, 0}, tr_plain = {1, 0, NULL, NULL, 0}, ev = {0, 1, rm, rv, 0};
    CHECK("batchnorm train 4-D", b_bn, &tr, 3, T4(3, 4, 3, 2), T1(4), T1(4));
    CHECK("batchnorm train 2-D, no affine", b_bn, &tr_plain, 1, T2(5, 4));
    CHECK("batchnorm train 3-D", b_bn, &tr, 3, T3(2, 4, 5), T1(4), T1(4));
    CHECK("batchnorm eval", b_bn, &ev, 3, T4(2, 4, 3, 3), T1(4), T1(4));
    /* fused batch norm + ReLU; h = 1e-3 keeps the differences off the ReLU's kink */
    const bn_ctx trr = {1, 1, rm, rv, 1}, evr = {0, 1, rm, rv, 1};
    CHECK_H("batchnorm+relu train", b_bn, &trr, 1e-3, 3, T4(3, 4, 3, 2), T1(4), T1(4));
    CHECK_H("batchnorm+relu eval", b_bn, &evr, 1e-3, 3, T4(2, 4, 3, 3), T1(4), T1(4));
    /* Running statistics: after one training forward on a known batch. */
    dl_graph *g = dl_graph_new();
    dl_graph_set_training(g, 1);
    int sx[2] = {4, 1}, s1[1] = {1};
    dl_tensor *x = dl_tensor_new(g, 2, sx);
    x->data[0] = 1, x->data[1] = 2, x->data[2] = 3, x->data[3] = 6; /* mean 3, unbiased var 14/3 */
    float m0 = 1.0f, v0 = 2.0f;
    dl_tensor *y = dl_batchnorm(g, x, NULL, NULL, dl_tensor_wrap(g, &m0, 1, s1), dl_tensor_wrap(g, &v0, 1, s1), 0.1f, 0.0f);
    assert_float_equal(m0, 0.9f * 1.0f + 0.1f * 3.0f, 1e-6);
    assert_float_equal(v0, 0.9f * 2.0f + 0.1f * 14.0f / 3.0f, 1e-6);
    assert_float_equal(y->data[3], 3.0f / sqrtf(3.5f), 1e-6); /* biased var 14/4 */
    dl_graph_free(g);
}

/* ---- SiLU ---------------------------------------------------------------------- */
static dl_tensor *b_silu(dl_graph *g, dl_tensor **in, const void *c) {
    (void)c;
    return dl_silu(g, in[0]);
}

static void test_silu(void **state) {
    (void)state;
    CHECK("silu", b_silu, NULL, 1, T3(2, 3, 700)); /* > one vector block and a tail */
    dl_graph *g = dl_graph_new();
    int s[1] = {3};
    dl_tensor *x = dl_tensor_new(g, 1, s);
    x->data[0] = 0, x->data[1] = 2, x->data[2] = -3;
    dl_tensor *y = dl_silu(g, x);
    assert_float_equal(y->data[0], 0.0f, 0);
    assert_float_equal(y->data[1], 2.0 / (1.0 + exp(-2.0)), 1e-6);
    assert_float_equal(y->data[2], -3.0 / (1.0 + exp(3.0)), 1e-6);
    dl_graph_free(g);
}

/* ---- the checker detects a wrong backward ------------------------------------------ */
static void test_selfcheck(void **state) {
    (void)state;
    const conv_ctx c3 = {1, 1, 1, 1, 1};
    const gc_input spec[] = {T4(1, 2, 4, 4), T4(2, 2, 3, 3), T1(2)};
    assert_true(grad_check("conv2d, perturbed", b_conv, &c3, 3, spec, 1e-2, 1) > TOL);
    const bn_ctx tr = {1, 1, NULL, NULL, 0};
    const gc_input bs[] = {T4(2, 3, 2, 2), T1(3), T1(3)};
    assert_true(grad_check("batchnorm, perturbed", b_bn, &tr, 3, bs, 1e-2, 1) > TOL);
}

/* ---- upsampling and grid sampling ------------------------------------------------- */
typedef struct up_ctx {
    int oh, ow, mode;
} up_ctx;

static dl_tensor *b_up(dl_graph *g, dl_tensor **in, const void *c) {
    const up_ctx *k = c;
    return dl_upsample2d(g, in[0], k->oh, k->ow, k->mode);
}

static dl_tensor *b_grid(dl_graph *g, dl_tensor **in, const void *c) {
    (void)c;
    return dl_grid_sample(g, in[0], in[1]);
}

static void test_sample(void **state) {
    (void)state;
    const up_ctx n2 = {6, 8, DL_UPSAMPLE_NEAREST}, n3 = {7, 5, DL_UPSAMPLE_NEAREST};
    const up_ctx b2 = {6, 8, DL_UPSAMPLE_BILINEAR}, b3 = {7, 5, DL_UPSAMPLE_BILINEAR}, bd = {2, 3, DL_UPSAMPLE_BILINEAR};
    CHECK("upsample nearest x2", b_up, &n2, 1, T4(2, 2, 3, 4));
    CHECK("upsample nearest 7x5", b_up, &n3, 1, T4(1, 2, 3, 4));
    CHECK("upsample bilinear x2", b_up, &b2, 1, T4(2, 2, 3, 4));
    CHECK("upsample bilinear 7x5", b_up, &b3, 1, T4(1, 2, 3, 4));
    CHECK("upsample bilinear down 2x3", b_up, &bd, 1, T4(1, 2, 5, 7));
    /* Grid sampling at points off the kinks, some outside the map (zeros padding). */
    CHECK_H("grid_sample", b_grid, NULL, 1e-3, 2, T4(2, 3, PT_H, PT_W), T3G(GEN_POINTS, 2, 7, 2));
}

/* ---- modules: running statistics in the store and in checkpoints; thread counts ---- */
typedef struct small_cnn {
    dl_conv2d_m conv;
    dl_batchnorm_m bn;
    const float *x;
} small_cnn;

static float cnn_step(dl_graph *g, int r, int n, void *ctx) {
    const small_cnn *m = ctx;
    int sh[4] = {4 / n, 2, 6, 6};
    dl_graph_set_training(g, 1);
    dl_tensor *x = dl_tensor_wrap(g, (float *)m->x + (long)r * (4 / n) * 72, 4, sh);
    dl_tensor *y = dl_relu(g, dl_batchnorm_fwd(g, &m->bn, dl_conv2d_fwd(g, &m->conv, x)));
    dl_tensor *loss = dl_mean_all(g, dl_square(g, dl_max_pool2d(g, y, 2, 2, 0)));
    dl_backward(g, loss);
    return loss->data[0];
}

/* Three AdamW steps of conv + BN + ReLU + pool on 1 or 2 threads; returns the
 * parameter store's floats (running statistics included) in out. */
static void train_small(int threads, int replicas, float *out, int64_t *n_out, const char *ckpt) {
    dl_set_threads(threads);
    dl_rng r;
    dl_rng_init(&r, 5, 0);
    dl_params ps;
    dl_params_init(&ps);
    small_cnn m;
    dl_conv2d_init(&m.conv, &ps, "conv", 2, 8, 3, 1, 1, 1, 1, 1, &r);
    dl_batchnorm_init(&m.bn, &ps, "bn", 8);
    float x[4 * 72];
    for (int i = 0; i < 4 * 72; i++) x[i] = (float)dl_rng_normal(&r);
    m.x = x;
    dl_conv2d_set_block_floats(100); /* several column blocks per image */
    dl_optim opt;
    dl_optim_init(&opt, &ps, DL_OPT_ADAMW, 1e-2f);
    dl_replicas *rp = dl_replicas_new(&ps, replicas);
    for (int s = 0; s < 3; s++) {
        dl_replicas_step(rp, cnn_step, &m, 1.0f / (float)replicas);
        dl_optim_step(&opt, opt.lr);
    }
    dl_conv2d_set_block_floats(0);
    /* the running statistics moved away from (0, 1) and are not trainable */
    assert_false(m.bn.running_mean->requires_grad);
    dl_params_set_trainable(&ps, "", 1);
    assert_false(m.bn.running_var->requires_grad);
    assert_true(fabsf(m.bn.running_var->data[0] - 1.0f) > 1e-4f);
    int64_t k = 0;
    for (int i = 0; i < ps.n; i++)
        for (int64_t j = 0; j < ps.items[i]->size; j++) out[k++] = ps.items[i]->data[j];
    *n_out = k;
    if (ckpt) { /* save, clobber, load: the running statistics come back */
        char err[256];
        assert_int_equal(dl_checkpoint_save(ckpt, &ps, &opt, 3, NULL, 0, err, sizeof err), 0);
        const float rv0 = m.bn.running_var->data[3], rm0 = m.bn.running_mean->data[5];
        m.bn.running_var->data[3] = 7.0f, m.bn.running_mean->data[5] = -7.0f;
        int64_t step = 0;
        assert_int_equal(dl_checkpoint_load(ckpt, &ps, &opt, &step, NULL, 0, err, sizeof err), 0);
        assert_float_equal(m.bn.running_var->data[3], rv0, 0);
        assert_float_equal(m.bn.running_mean->data[5], rm0, 0);
    }
    dl_replicas_free(rp);
    dl_optim_free(&opt);
    dl_params_free(&ps);
    dl_set_threads(1);
}

static void test_modules_threads_checkpoint(void **state) {
    (void)state;
    static float a[4096], b[4096];
    int64_t na, nb;
    char ckpt[600];
    snprintf(ckpt, sizeof ckpt, "%s/bn.safetensors", tu_tmpdir("convckpt"));
    train_small(1, 1, a, &na, ckpt);
    train_small(2, 1, b, &nb, NULL); /* every op threaded: same bits */
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, (size_t)na * sizeof(float));
    train_small(1, 2, a, &na, NULL); /* two replicas, run in turn or side by side: same bits */
    train_small(2, 2, b, &nb, NULL);
    assert_memory_equal(a, b, (size_t)na * sizeof(float));
}

int main(void) {
    dl_rng_init(&g_rng, 20261206, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d),    cmocka_unit_test(test_conv2d_winograd), cmocka_unit_test(test_conv2d_values), cmocka_unit_test(test_pool),
        cmocka_unit_test(test_batchnorm), cmocka_unit_test(test_silu),          cmocka_unit_test(test_sample),
        cmocka_unit_test(test_selfcheck), cmocka_unit_test(test_modules_threads_checkpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
