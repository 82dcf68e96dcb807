/* The image ops against PyTorch: conv2d (stride, padding, dilation, groups,
 * with and without bias, 1x1 and 7x7), max/average/global pooling, batch norm
 * in training mode (output, gradients and the updated running statistics) and
 * in evaluation mode, fused batch norm + ReLU, SiLU, nearest and bilinear upsampling and grid sampling.
 *
 * Each case's inputs and the loss weights R are drawn here and written to a
 * safetensors file; tests/torch_conv.py (Debian python3-torch) evaluates the
 * same ops of torch.nn.functional in float64 with loss sum(R * op(...)) and
 * writes outputs and gradients back. Every output, gradient and running
 * statistic must match with relative error max|got - want| / max|want| below
 * 1e-4, the limit of tests/test_nn_torch.c. Both the single-block and the
 * sliced im2col paths of dl_conv2d are compared, and the Winograd F(4x4, 3x3)
 * path (dl_conv2d_set_algo) with one and with many tile blocks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "torch_compare.h"
#include "core/internal.h"
#include "dynlab/checkpoint.h"
#include "dynlab/conv.h"

#define TOL 1e-4
#define MAX_IN 5

enum { OP_CONV, OP_MAXPOOL, OP_AVGPOOL, OP_GAP, OP_BN, OP_SILU, OP_UP, OP_GRID, OP_BNRELU };
enum { G_NORMAL, G_POINTS, G_POS };

typedef struct in_spec {
    const char *name;
    int ndim, shape[4], gen;
} in_spec;

typedef struct tcase {
    const char *name;
    int op, a[5]; /* conv: stride pad dil groups; pool: k s p; bn: train; up: oh ow mode */
    in_spec in[MAX_IN];
} tcase;

/* Per case: its input tensors, loss weights and output (set at run time). */
typedef struct tstate {
    dl_tensor *t[MAX_IN], *R, *out;
} tstate;

#define IN4(n, a, b, c, d) {n, 4, {a, b, c, d}, G_NORMAL}
#define IN1(n, a) {n, 1, {a}, G_NORMAL}

static tcase cases[] = {
    {"conv_a", OP_CONV, {1, 1, 1, 1}, {IN4("x", 2, 3, 9, 8), IN4("w", 4, 3, 3, 3), IN1("b", 4)}},
    {"conv_b", OP_CONV, {2, 1, 1, 1}, {IN4("x", 2, 4, 9, 9), IN4("w", 6, 4, 3, 3)}},
    {"conv_c", OP_CONV, {1, 2, 2, 2}, {IN4("x", 2, 4, 8, 7), IN4("w", 6, 2, 3, 3), IN1("b", 6)}},
    {"conv_d", OP_CONV, {2, 0, 1, 1}, {IN4("x", 2, 4, 7, 7), IN4("w", 5, 4, 1, 1), IN1("b", 5)}},
    {"conv_e", OP_CONV, {2, 3, 1, 1}, {IN4("x", 2, 3, 16, 14), IN4("w", 4, 3, 7, 7), IN1("b", 4)}},
    {"conv_f", OP_CONV, {1, 0, 1, 1}, {IN4("x", 3, 6, 5, 6), IN4("w", 4, 6, 1, 1)}},
    {"conv_g", OP_CONV, {1, 1, 1, 4}, {IN4("x", 2, 4, 6, 6), IN4("w", 8, 1, 3, 3), IN1("b", 8)}},
    /* 3x3 stride 1 for the Winograd rounds: odd sizes, padding 0 / 1 / 2, batch 3,
     * channel counts off the 16-lane vectors, and 64 channels */
    {"conv_w1", OP_CONV, {1, 1, 1, 1}, {IN4("x", 3, 20, 11, 9), IN4("w", 24, 20, 3, 3), IN1("b", 24)}},
    {"conv_w0", OP_CONV, {1, 0, 1, 1}, {IN4("x", 2, 17, 10, 13), IN4("w", 18, 17, 3, 3)}},
    {"conv_w2", OP_CONV, {1, 2, 1, 1}, {IN4("x", 2, 16, 6, 7), IN4("w", 33, 16, 3, 3), IN1("b", 33)}},
    {"conv_w64", OP_CONV, {1, 1, 1, 1}, {IN4("x", 2, 64, 12, 12), IN4("w", 64, 64, 3, 3)}},
    {"maxpool_a", OP_MAXPOOL, {3, 2, 1}, {IN4("x", 2, 3, 9, 8)}},
    {"maxpool_b", OP_MAXPOOL, {2, 2, 0}, {IN4("x", 2, 3, 8, 6)}},
    {"avgpool_a", OP_AVGPOOL, {3, 2, 1}, {IN4("x", 2, 3, 9, 8)}},
    {"avgpool_b", OP_AVGPOOL, {2, 2, 0}, {IN4("x", 2, 3, 7, 6)}},
    {"gap", OP_GAP, {0}, {IN4("x", 3, 4, 5, 6)}},
    {"bn_train", OP_BN, {1}, {IN4("x", 4, 3, 5, 6), IN1("gamma", 3), IN1("beta", 3), {"rm", 1, {3}, G_NORMAL}, {"rv", 1, {3}, G_POS}}},
    {"bn_train2d", OP_BN, {1}, {{"x", 2, {6, 5}, G_NORMAL}, IN1("gamma", 5), IN1("beta", 5), {"rm", 1, {5}, G_NORMAL}, {"rv", 1, {5}, G_POS}}},
    {"bn_eval", OP_BN, {0}, {IN4("x", 2, 3, 4, 5), IN1("gamma", 3), IN1("beta", 3), {"rm", 1, {3}, G_NORMAL}, {"rv", 1, {3}, G_POS}}},
    {"silu", OP_SILU, {0}, {IN4("x", 2, 3, 4, 5)}},
    {"up_nearest2", OP_UP, {10, 12, DL_UPSAMPLE_NEAREST}, {IN4("x", 2, 3, 5, 6)}},
    {"up_nearest", OP_UP, {7, 11, DL_UPSAMPLE_NEAREST}, {IN4("x", 2, 3, 5, 6)}},
    {"up_bilinear2", OP_UP, {10, 12, DL_UPSAMPLE_BILINEAR}, {IN4("x", 2, 3, 5, 6)}},
    {"up_bilinear", OP_UP, {7, 11, DL_UPSAMPLE_BILINEAR}, {IN4("x", 2, 3, 5, 6)}},
    {"up_bilinear_down", OP_UP, {3, 4, DL_UPSAMPLE_BILINEAR}, {IN4("x", 1, 2, 7, 9)}},
    {"grid", OP_GRID, {0}, {IN4("map", 2, 3, 5, 6), {"points", 3, {2, 9, 2}, G_POINTS}}},
    {"bnrelu_train", OP_BNRELU, {1}, {IN4("x", 4, 3, 5, 6), IN1("gamma", 3), IN1("beta", 3), {"rm", 1, {3}, G_NORMAL}, {"rv", 1, {3}, G_POS}}},
    {"bnrelu_eval", OP_BNRELU, {0}, {IN4("x", 2, 3, 4, 5), IN1("gamma", 3), IN1("beta", 3), {"rm", 1, {3}, G_NORMAL}, {"rv", 1, {3}, G_POS}}},
};
#define N_CASES ((int)(sizeof cases / sizeof *cases))
static tstate states[N_CASES];
#define ST(c) (&states[(c) - cases])

static int n_inputs(const tcase *c) {
    int n = 0;
    while (n < MAX_IN && c->in[n].name) n++;
    return n;
}

static dl_tensor *find_in(tcase *c, const char *name) {
    for (int i = 0; i < n_inputs(c); i++)
        if (!strcmp(c->in[i].name, name)) return ST(c)->t[i];
    return NULL;
}

static dl_tensor *run_op(dl_graph *g, tcase *c) {
    switch (c->op) {
    case OP_CONV:
        return dl_conv2d(g, find_in(c, "x"), find_in(c, "w"), find_in(c, "b"), c->a[0], c->a[1], c->a[2], c->a[3]);
    case OP_MAXPOOL: return dl_max_pool2d(g, ST(c)->t[0], c->a[0], c->a[1], c->a[2]);
    case OP_AVGPOOL: return dl_avg_pool2d(g, ST(c)->t[0], c->a[0], c->a[1], c->a[2]);
    case OP_GAP: return dl_global_avg_pool2d(g, ST(c)->t[0]);
    case OP_BN:
    case OP_BNRELU:
        dl_graph_set_training(g, c->a[0]);
        return (c->op == OP_BN ? dl_batchnorm : dl_batchnorm_relu)(g, ST(c)->t[0], ST(c)->t[1], ST(c)->t[2],
                                                                   ST(c)->t[3], ST(c)->t[4], 0.1f, 1e-5f);
    case OP_SILU: return dl_silu(g, ST(c)->t[0]);
    case OP_UP: return dl_upsample2d(g, ST(c)->t[0], c->a[0], c->a[1], c->a[2]);
    default: return dl_grid_sample(g, ST(c)->t[0], ST(c)->t[1]);
    }
}

static tc_worst g_worst;

static void compare(const dl_st_file *f, const char *key, const float *got, int64_t n) {
    tc_compare(f, key, got, n, 1e-6, TOL, &g_worst);
}

/* One full round: draw, write, run C and PyTorch, compare. */
static void round_trip(const char *tag, uint64_t seed) {
    g_worst = (tc_worst){0};
    const char *dir = tu_tmpdir(tag);
    assert_non_null(dir);
    char in_path[600], out_path[600], err[512], key[160];
    snprintf(in_path, sizeof in_path, "%s/in.safetensors", dir);
    snprintf(out_path, sizeof out_path, "%s/out.safetensors", dir);
    dl_rng r;
    dl_rng_init(&r, seed, 3);
    dl_params ps;
    dl_params_init(&ps);
    dl_st_writer *w = dl_st_writer_new();
    char meta[8192];
    size_t mo = (size_t)snprintf(meta, sizeof meta, "[");
    static const char *ops[] = {"conv2d", "max_pool2d", "avg_pool2d", "global_avg_pool2d",
                                "batchnorm", "silu", "upsample", "grid_sample", "batchnorm_relu"};
    for (int ci = 0; ci < N_CASES; ci++) {
        tcase *c = &cases[ci];
        for (int i = 0; i < n_inputs(c); i++) {
            const in_spec *s = &c->in[i];
            snprintf(key, sizeof key, "%s.%s", c->name, s->name);
            dl_tensor *t = dl_param_new(&ps, key, s->ndim, s->shape);
            for (int64_t j = 0; j < t->size; j++) {
                if (s->gen == G_POS)
                    t->data[j] = (float)(0.5 + dl_rng_uniform(&r));
                else if (s->gen == G_POINTS)
                    t->data[j] = (float)(-1.2 + 2.4 * dl_rng_uniform(&r));
                else
                    t->data[j] = (float)dl_rng_normal(&r);
            }
            if (!strcmp(s->name, "rm") || !strcmp(s->name, "rv")) t->requires_grad = 0;
            ST(c)->t[i] = t;
            dl_st_add_f32(w, key, t->data, t->ndim, t->shape);
        }
        mo += (size_t)snprintf(meta + mo, sizeof meta - mo,
                               "%s{\"name\":\"%s\",\"op\":\"%s\",\"stride\":%d,\"pad\":%d,\"dil\":%d,\"groups\":%d,"
                               "\"k\":%d,\"s\":%d,\"p\":%d,\"train\":%d,\"oh\":%d,\"ow\":%d,\"mode\":\"%s\"}",
                               ci ? "," : "", c->name, ops[c->op], c->a[0], c->a[1], c->a[2], c->a[3], c->a[0],
                               c->a[1], c->a[2], c->a[0], c->a[0], c->a[1],
                               c->a[2] == DL_UPSAMPLE_BILINEAR ? "bilinear" : "nearest");
    }
    snprintf(meta + mo, sizeof meta - mo, "]");
    /* R (loss weights) need the output shape: run the forward once without grad. */
    dl_graph *g0 = dl_graph_new();
    dl_graph_set_grad_enabled(g0, 0);
    for (int ci = 0; ci < N_CASES; ci++) {
        tcase *c = &cases[ci];
        float keep[2][8];
        dl_tensor *rm = find_in(c, "rm"), *rv = find_in(c, "rv");
        if (rm) memcpy(keep[0], rm->data, (size_t)rm->size * sizeof(float)), memcpy(keep[1], rv->data, (size_t)rv->size * sizeof(float));
        dl_tensor *o = run_op(g0, c);
        if (rm) memcpy(rm->data, keep[0], (size_t)rm->size * sizeof(float)), memcpy(rv->data, keep[1], (size_t)rv->size * sizeof(float));
        snprintf(key, sizeof key, "%s.R", c->name);
        ST(c)->R = dl_param_new(&ps, key, o->ndim, o->shape);
        ST(c)->R->requires_grad = 0;
        for (int64_t j = 0; j < ST(c)->R->size; j++) ST(c)->R->data[j] = (float)dl_rng_normal(&r);
        dl_st_add_f32(w, key, ST(c)->R->data, ST(c)->R->ndim, ST(c)->R->shape);
        dl_graph_reset(g0);
    }
    dl_graph_free(g0);
    dl_st_add_meta(w, "cases", meta);
    if (dl_st_write(w, in_path, err, sizeof err)) fail_msg("%s", err);
    dl_st_writer_free(w);
    int rc = tu_system("/usr/bin/python3 %s/tests/torch_conv.py %s %s", tu_source_dir(), in_path, out_path);
    if (rc != 0) fail_msg("tests/torch_conv.py failed (exit %d): needs Debian's python3-torch", rc);
    dl_st_file *f = dl_st_open(out_path, err, sizeof err);
    if (!f) fail_msg("%s", err);
    int compared = 0;
    for (int ci = 0; ci < N_CASES; ci++) {
        tcase *c = &cases[ci];
        dl_graph *g = dl_graph_new();
        dl_params_zero_grad(&ps);
        ST(c)->out = run_op(g, c);
        dl_backward(g, dl_sum_all(g, dl_mul(g, ST(c)->out, ST(c)->R)));
        snprintf(key, sizeof key, "%s.out", c->name);
        compare(f, key, ST(c)->out->data, ST(c)->out->size);
        for (int i = 0; i < n_inputs(c); i++) {
            dl_tensor *t = ST(c)->t[i];
            const char *nm = c->in[i].name;
            if (!strcmp(nm, "rm") || !strcmp(nm, "rv")) {
                if (!c->a[0]) continue; /* eval mode leaves them */
                snprintf(key, sizeof key, "%s.%s", c->name, nm);
            } else {
                snprintf(key, sizeof key, "%s.grad.%s", c->name, nm);
            }
            compare(f, key, strstr(key, ".grad.") ? t->grad : t->data, t->size);
            compared++;
        }
        dl_graph_free(g);
    }
    print_message("%s: %d cases, %d gradients/statistics; worst relative error %.2e (%s), limit %g\n", tag, N_CASES,
                  compared, g_worst.err, g_worst.key, TOL);
    dl_st_close(f);
    dl_params_free(&ps);
}

static void test_ops_match_torch(void **st) {
    (void)st;
    round_trip("convtorch", 2026);
    dl_conv2d_set_block_floats(50); /* convolutions in slices of a few pixels */
    round_trip("convtorch_sliced", 2027);
    dl_conv2d_set_block_floats(0);
    /* every 3x3 stride-1 case through Winograd F(4x4, 3x3), then with one row of
     * tiles per block (several blocks per convolution) */
    dl_conv2d_set_algo(DL_CONV_WINOGRAD);
    round_trip("convtorch_winograd", 2028);
    dl_conv2d_set_winograd_block_floats(1);
    round_trip("convtorch_winograd_blocks", 2029);
    dl_conv2d_set_winograd_block_floats(0);
    dl_conv2d_set_algo(DL_CONV_WINOGRAD2); /* the same through F(2x2, 3x3) */
    round_trip("convtorch_winograd2", 2030);
    dl_conv2d_set_winograd_block_floats(1);
    round_trip("convtorch_winograd2_blocks", 2031);
    dl_conv2d_set_winograd_block_floats(0);
    dl_conv2d_set_algo(DL_CONV_AUTO);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_ops_match_torch)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
