/* Winograd F(4x4, 3x3) and F(2x2, 3x3) convolution (src/core/ops_conv_winograd.c;
 * every test runs both variants, DL_CONV_WINOGRAD and DL_CONV_WINOGRAD2) against the
 * im2col path on realistic channel counts, its thread-count invariance and its
 * allocation behaviour. Finite-difference checks of the Winograd backward are in
 * tests/test_conv_grad.c, PyTorch parity in tests/test_conv_torch.c.
 *
 * Each case runs loss = sum(R * conv2d(x, w, b)) forward and backward with both
 * algorithms and compares y, dL/dx, dL/dw, dL/db by max|a - b| / max|b|. The limit
 * is 1e-4, that of the PyTorch parity tests; F(4x4, 3x3) in float measures about
 * 1e-6 to 1e-5 here (its transforms scale rounding errors by up to ~10x). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "core/internal.h"
#include "dynlab/conv.h"
#include "dynlab/core.h"

typedef struct wcase {
    int N, C, H, W, Co, pad, bias;
} wcase;

typedef struct wrun {
    float *y, *gx, *gw, *gb;
    int64_t ny, nx, nw;
    int64_t allocs_first, allocs_later;
} wrun;

static void fill(dl_tensor *t, dl_rng *r, float s) {
    for (int64_t i = 0; i < t->size; i++) t->data[i] = s * (float)dl_rng_normal(r);
}

static float *dup(const float *p, int64_t n) {
    float *q = malloc((size_t)n * sizeof(float));
    assert_non_null(q);
    memcpy(q, p, (size_t)n * sizeof(float));
    return q;
}

/* Three forward+backward passes on one graph (reset between), the last kept.
 * bound: the gradients go to a separate store bound to the graph, as a replica's do,
 * starting each step untouched and filled with NaN, so that the first gradient
 * into each buffer is written rather than added (dl_grad_out's fresh flag). */
static wrun run_case_bound(const wcase *c, int algo, int threads, int64_t block_floats, int bound) {
    dl_set_threads(threads);
    dl_conv2d_set_algo(algo);
    dl_conv2d_set_winograd_block_floats(block_floats);
    dl_rng r;
    dl_rng_init(&r, 11, 0);
    dl_params ps;
    dl_params_init(&ps);
    int xs[4] = {c->N, c->C, c->H, c->W}, ws[4] = {c->Co, c->C, 3, 3}, bs[1] = {c->Co};
    dl_tensor *x = dl_param_new(&ps, "x", 4, xs), *w = dl_param_new(&ps, "w", 4, ws);
    dl_tensor *b = c->bias ? dl_param_new(&ps, "b", 1, bs) : NULL;
    fill(x, &r, 1.0f);
    fill(w, &r, 1.0f / sqrtf(9.0f * c->C));
    if (b) fill(b, &r, 0.1f);
    const int oh = c->H + 2 * c->pad - 2, ow = c->W + 2 * c->pad - 2;
    int rs[4] = {c->N, c->Co, oh, ow};
    dl_tensor *R = dl_param_new(&ps, "R", 4, rs);
    R->requires_grad = 0;
    fill(R, &r, 1.0f);
    dl_graph *g = dl_graph_new();
    wrun out = {0};
    float *grads[4] = {0};
    unsigned char touched[4] = {0};
    for (int i = 0; bound && i < ps.n; i++) {
        grads[i] = malloc((size_t)ps.items[i]->size * sizeof(float));
        assert_non_null(grads[i]);
    }
    if (bound) dl_graph_bind_params(g, &ps, ps.n, grads, touched);
    for (int step = 0; step < 3; step++) {
        dl_params_zero_grad(&ps);
        memset(touched, 0, sizeof touched);
        for (int i = 0; bound && i < ps.n; i++)
            for (int64_t j = 0; j < ps.items[i]->size; j++) grads[i][j] = NAN;
        dl_tensor *y = dl_conv2d(g, x, w, b, 1, c->pad, 1, 1);
        dl_backward(g, dl_sum_all(g, dl_mul(g, y, R)));
        if (step == 0) out.allocs_first = dl_graph_heap_allocs(g);
        if (step == 2) {
            out.allocs_later = dl_graph_heap_allocs(g);
            out.ny = y->size, out.nx = x->size, out.nw = w->size;
            out.y = dup(y->data, y->size);
            out.gx = dup(bound ? grads[x->index] : x->grad, x->size);
            out.gw = dup(bound ? grads[w->index] : w->grad, w->size);
            out.gb = b ? dup(bound ? grads[b->index] : b->grad, b->size) : NULL;
        }
        dl_graph_reset(g);
    }
    dl_graph_free(g);
    for (int i = 0; i < 4; i++) free(grads[i]);
    dl_params_free(&ps);
    dl_conv2d_set_winograd_block_floats(0);
    dl_conv2d_set_algo(DL_CONV_AUTO);
    dl_set_threads(1);
    return out;
}

static wrun run_case(const wcase *c, int algo, int threads, int64_t block_floats) {
    return run_case_bound(c, algo, threads, block_floats, 0);
}

static void free_run(wrun *a) { free(a->y), free(a->gx), free(a->gw), free(a->gb); }

static double rel_err(const float *a, const float *b, int64_t n) {
    double md = 0, mb = 1e-30;
    for (int64_t i = 0; i < n; i++) {
        md = fmax(md, fabs((double)a[i] - b[i]));
        mb = fmax(mb, fabs((double)b[i]));
    }
    return md / mb;
}

static const wcase cases[] = {
    {3, 40, 13, 11, 48, 1, 1}, /* odd sizes, channels past 2 vectors, batch 3 */
    {2, 64, 16, 16, 64, 1, 0}, /* resnet-like */
    {2, 33, 9, 10, 20, 0, 1},  /* padding 0 */
    {2, 128, 8, 8, 128, 1, 0}, /* 128 channels: the longest sums here */
};
#define N_CASES ((int)(sizeof cases / sizeof *cases))

/* the two Winograd variants and their names in the messages */
static const int algos[2] = {DL_CONV_WINOGRAD, DL_CONV_WINOGRAD2};
static const char *algo_name(int a) { return a == DL_CONV_WINOGRAD ? "F(4x4,3x3)" : "F(2x2,3x3)"; }
#define FOR_ALGOS for (int ai = 0, wa = algos[0]; ai < 2; ai++, wa = ai < 2 ? algos[ai] : 0)

static void test_matches_im2col(void **state) {
    (void)state;
    FOR_ALGOS {
    double worst = 0;
    for (int i = 0; i < N_CASES; i++) {
        const wcase *c = &cases[i];
        wrun a = run_case(c, wa, 1, 0), b = run_case(c, DL_CONV_IM2COL, 1, 0);
        const double ey = rel_err(a.y, b.y, a.ny), ex = rel_err(a.gx, b.gx, a.nx), ew = rel_err(a.gw, b.gw, a.nw);
        const double eb = c->bias ? rel_err(a.gb, b.gb, c->Co) : 0.0;
        print_message("[%d, %d, %d, %d] -> %d pad %d: %s vs im2col y %.2e dx %.2e dw %.2e db %.2e\n", c->N, c->C,
                      c->H, c->W, c->Co, c->pad, algo_name(wa), ey, ex, ew, eb);
        worst = fmax(worst, fmax(fmax(ey, ex), fmax(ew, eb)));
        if (!(ey < 1e-4 && ex < 1e-4 && ew < 1e-4 && eb < 1e-4)) fail_msg("case %d: Winograd differs from im2col", i);
        free_run(&a), free_run(&b);
    }
    print_message("%s: worst relative difference %.2e (limit 1e-4)\n", algo_name(wa), worst);
    }
}

/* The portable transforms (what a CPU without AVX-512 runs; here on 2 threads with
 * one row of tiles per block, so the weight gradient also sums in another order)
 * against the AVX-512 ones and against im2col. */
static void test_generic_transforms(void **state) {
    (void)state;
    FOR_ALGOS
    for (int i = 0; i < N_CASES; i++) {
        wrun a = run_case(&cases[i], wa, 1, 0);
        dl_conv2d_winograd_force_generic(1);
        wrun b = run_case(&cases[i], wa, 2, 1);
        wrun c = run_case(&cases[i], DL_CONV_IM2COL, 1, 0);
        dl_conv2d_winograd_force_generic(0);
        const double e = fmax(fmax(rel_err(b.y, a.y, a.ny), rel_err(b.gx, a.gx, a.nx)), rel_err(b.gw, a.gw, a.nw));
        const double ec = fmax(fmax(rel_err(b.y, c.y, a.ny), rel_err(b.gx, c.gx, a.nx)), rel_err(b.gw, c.gw, a.nw));
        print_message("%s case %d: portable vs AVX-512 transforms %.2e, portable vs im2col %.2e\n", algo_name(wa), i,
                      e, ec);
        if (!(e < 5e-5 && ec < 1e-4)) fail_msg("case %d: portable Winograd transforms differ", i);
        free_run(&a), free_run(&b), free_run(&c);
    }
}

/* Tiny tile blocks: several blocks per convolution and several tiles per thread. */
static void test_same_bits_any_threads(void **state) {
    (void)state;
    FOR_ALGOS
    for (int i = 0; i < N_CASES; i++) {
        for (int64_t bf = 0; bf <= 1; bf++) {
            wrun a = run_case(&cases[i], wa, 1, bf), b = run_case(&cases[i], wa, 2, bf);
            assert_memory_equal(a.y, b.y, (size_t)a.ny * sizeof(float));
            assert_memory_equal(a.gx, b.gx, (size_t)a.nx * sizeof(float));
            assert_memory_equal(a.gw, b.gw, (size_t)a.nw * sizeof(float));
            free_run(&a), free_run(&b);
        }
    }
}

/* A replica's gradients (a bound store, written fresh each step) are the same bits as
 * gradients added into zeroed buffers: for im2col (with its transposed small-K
 * weight gradient) and both Winograd variants, one block of tiles (the per-strip and
 * per-16-channel paths) and several. */
static void test_fresh_gradients_same_bits(void **state) {
    (void)state;
    const int algos3[3] = {DL_CONV_IM2COL, DL_CONV_WINOGRAD, DL_CONV_WINOGRAD2};
    const wcase one_channel = {2, 1, 12, 12, 16, 1, 1}; /* im2col's transposed small-K weight gradient */
    for (int k = 0; k <= N_CASES; k++)
        for (int a = 0; a < 3; a++)
            for (int blocks = 0; blocks < 2; blocks++) {
                const wcase *c = k < N_CASES ? &cases[k] : &one_channel;
                const int64_t bf = blocks ? 4096 : 0;
                wrun plain = run_case_bound(c, algos3[a], 2, bf, 0);
                wrun fresh = run_case_bound(c, algos3[a], 2, bf, 1);
                if (memcmp(plain.gw, fresh.gw, (size_t)plain.nw * sizeof(float)) ||
                    memcmp(plain.gx, fresh.gx, (size_t)plain.nx * sizeof(float)))
                    fail_msg("case %d algo %d blocks %d: fresh gradients differ from accumulated ones", k, algos3[a],
                             blocks);
                free_run(&plain);
                free_run(&fresh);
            }
}

static void test_no_allocation_after_first_step(void **state) {
    (void)state;
    FOR_ALGOS {
        wrun a = run_case(&cases[0], wa, 2, 0);
        assert_int_equal(a.allocs_later, a.allocs_first);
        free_run(&a);
    }
}

static void test_algo_names(void **state) {
    (void)state;
    assert_int_equal(dl_conv2d_algo_parse("auto"), DL_CONV_AUTO);
    assert_int_equal(dl_conv2d_algo_parse("im2col"), DL_CONV_IM2COL);
    assert_int_equal(dl_conv2d_algo_parse("winograd"), DL_CONV_WINOGRAD);
    assert_int_equal(dl_conv2d_algo_parse("winograd2"), DL_CONV_WINOGRAD2);
    assert_int_equal(dl_conv2d_algo_parse("fft"), -1);
    dl_conv2d_set_algo(DL_CONV_IM2COL);
    assert_int_equal(dl_conv2d_get_algo(), DL_CONV_IM2COL);
    dl_conv2d_set_algo(DL_CONV_AUTO);
}

/* auto's choice on resnet-det's 3x3 stride-1 shapes: F(4x4, 3x3) on the 64x64 to
 * 16x16 maps; on the 8x8 maps of 512 channels F(4x4, 3x3) at batch 4 and 2 (16 and 8
 * tiles) and F(2x2, 3x3) at batch 1 (4 F(4x4) tiles, 16 F(2x2) tiles); F(2x2, 3x3)
 * where F(4x4)'s tiles would be half padding (6x6 maps); im2col below 16 F(2x2)
 * tiles, for one input channel and for stride 2. */
static void test_auto_choice(void **state) {
    (void)state;
    dl_conv2d_set_algo(DL_CONV_AUTO);
    dl_graph *g = dl_graph_new();
    int xs[4] = {4, 256, 16, 16}, ws[4] = {256, 256, 3, 3}, x8[4] = {4, 512, 8, 8}, w8[4] = {512, 512, 3, 3};
    int x1[4] = {4, 1, 28, 28}, w1[4] = {32, 1, 3, 3}, x6[4] = {2, 256, 6, 6};
    dl_tensor *x = dl_tensor_new(g, 4, xs), *w = dl_tensor_new(g, 4, ws);
    assert_int_equal(dl_conv2d_uses_winograd(x, w, 1, 1, 1, 1), 4);
    assert_int_equal(dl_conv2d_uses_winograd(x, w, 2, 1, 1, 1), 0);
    x = dl_tensor_new(g, 4, x6);
    assert_int_equal(dl_conv2d_uses_winograd(x, w, 1, 1, 1, 1), 2);
    x = dl_tensor_new(g, 4, x8), w = dl_tensor_new(g, 4, w8);
    assert_int_equal(dl_conv2d_uses_winograd(x, w, 1, 1, 1, 1), 4);
    x8[0] = 2; /* 8 F(4x4) tiles: enough with the filters built per strip */
    x = dl_tensor_new(g, 4, x8);
    assert_int_equal(dl_conv2d_uses_winograd(x, w, 1, 1, 1, 1), 4);
    x8[0] = 1; /* 4 F(4x4) tiles: F(2x2)'s 16 */
    x = dl_tensor_new(g, 4, x8);
    assert_int_equal(dl_conv2d_uses_winograd(x, w, 1, 1, 1, 1), 2);
    x8[2] = x8[3] = 4; /* 4 F(2x2) tiles: im2col */
    x = dl_tensor_new(g, 4, x8);
    assert_int_equal(dl_conv2d_uses_winograd(x, w, 1, 1, 1, 1), 0);
    x = dl_tensor_new(g, 4, x1), w = dl_tensor_new(g, 4, w1);
    assert_int_equal(dl_conv2d_uses_winograd(x, w, 1, 1, 1, 1), 0);
    dl_graph_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_im2col),
        cmocka_unit_test(test_same_bits_any_threads),
        cmocka_unit_test(test_generic_transforms),
        cmocka_unit_test(test_no_allocation_after_first_step),
        cmocka_unit_test(test_fresh_gradients_same_bits),
        cmocka_unit_test(test_algo_names),
        cmocka_unit_test(test_auto_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
