/* Finite-difference gradient checks for every core op.
 *
 * For an op f with inputs x_1..x_n (parameters, so they carry grads) and a random
 * weight tensor w, L = sum(w * f(x)). The analytic gradient comes from dl_backward
 * on the tape; the numeric one from central differences in float:
 *   dL/dx_e ~ (L(x + h e) - L(x - h e)) / 2h,  h = 1e-2 (1e-3 for sharp ops),
 * with L summed in double. The check fails when
 *   max_e |numeric - analytic| / max(max_e |numeric|, 1e-2) > tol,  tol = 2e-3
 * (observed errors are below 3e-4; a wrong backward shows up at 5e-2 and above).
 * Inputs are drawn away from kinks (relu, abs, max, hinge) so the function is
 * smooth within h. The checker's own sanity is tested by perturbing one analytic
 * entry and by a custom op with a wrong backward: both must be detected. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fdcheck.h"

/* ---- builders ---------------------------------------------------------------------- */
static dl_tensor *b_add(dl_graph *g, dl_tensor **in, const void *c) { (void)c; return dl_add(g, in[0], in[1]); }
static dl_tensor *b_sub(dl_graph *g, dl_tensor **in, const void *c) { (void)c; return dl_sub(g, in[0], in[1]); }
static dl_tensor *b_mul(dl_graph *g, dl_tensor **in, const void *c) { (void)c; return dl_mul(g, in[0], in[1]); }
static dl_tensor *b_div(dl_graph *g, dl_tensor **in, const void *c) { (void)c; return dl_div(g, in[0], in[1]); }
static dl_tensor *b_add_self(dl_graph *g, dl_tensor **in, const void *c) { (void)c; return dl_add(g, in[0], in[0]); }
static dl_tensor *b_mul_self(dl_graph *g, dl_tensor **in, const void *c) { (void)c; return dl_mul(g, in[0], in[0]); }
/* Residual chain: an activation used twice, sharing grad buffers through add. */
static dl_tensor *b_residual(dl_graph *g, dl_tensor **in, const void *c) {
    (void)c;
    dl_tensor *h = dl_tanh(g, in[0]);
    dl_tensor *r = dl_add(g, h, dl_mul(g, h, in[1]));
    return dl_add(g, dl_scale(g, r, 1.0f), dl_sigmoid(g, h));
}

static void test_binary(void **state) {
    (void)state;
    const build_fn fns[] = {b_add, b_sub, b_mul, b_div};
    const char *names[] = {"add", "sub", "mul", "div"};
    for (int k = 0; k < 4; k++) {
        const int bg = k == 3 ? GEN_POS : GEN_NORMAL;
        char nm[64];
        snprintf(nm, sizeof nm, "%s same shape", names[k]);
        CHECK(nm, fns[k], NULL, 2, T2(3, 4), G2(bg, 3, 4));
        snprintf(nm, sizeof nm, "%s suffix [4]", names[k]);
        CHECK(nm, fns[k], NULL, 2, T3(2, 3, 4), G1(bg, 4));
        snprintf(nm, sizeof nm, "%s suffix [3,4]", names[k]);
        CHECK(nm, fns[k], NULL, 2, T3(2, 3, 4), G2(bg, 3, 4));
        snprintf(nm, sizeof nm, "%s leading-one [1,4]", names[k]);
        CHECK(nm, fns[k], NULL, 2, T3(2, 3, 4), G2(bg, 1, 4));
        snprintf(nm, sizeof nm, "%s scalar", names[k]);
        CHECK(nm, fns[k], NULL, 2, T3(2, 3, 4), G1(bg, 1));
    }
    CHECK("add x+x", b_add_self, NULL, 1, T2(3, 4));
    CHECK("mul x*x", b_mul_self, NULL, 1, T2(3, 4));
    CHECK("residual chain", b_residual, NULL, 2, T2(3, 4), T1(4));
}

static dl_tensor *b_scale(dl_graph *g, dl_tensor **in, const void *c) { (void)c; return dl_scale(g, in[0], -1.7f); }
static dl_tensor *b_add_scalar(dl_graph *g, dl_tensor **in, const void *c) {
    (void)c;
    return dl_mul(g, dl_add_scalar(g, in[0], 0.3f), in[0]); /* non-linear so both paths count */
}
static dl_tensor *b_unary(dl_graph *g, dl_tensor **in, const void *c) {
    dl_tensor *(*f)(dl_graph *, dl_tensor *) = *(dl_tensor * (*const *)(dl_graph *, dl_tensor *)) c;
    return f(g, in[0]);
}

static void test_elementwise(void **state) {
    (void)state;
    CHECK("scale", b_scale, NULL, 1, T3(2, 3, 4));
    CHECK("add_scalar", b_add_scalar, NULL, 1, T3(2, 3, 4));
    struct {
        const char *name;
        dl_tensor *(*f)(dl_graph *, dl_tensor *);
        int gen;
    } u[] = {{"exp", dl_exp, GEN_SMALL},      {"ln", dl_ln, GEN_POS},         {"sqrt", dl_sqrt, GEN_POS},
             {"tanh", dl_tanh, GEN_NORMAL},   {"sigmoid", dl_sigmoid, GEN_NORMAL}, {"relu", dl_relu, GEN_AWAY},
             {"gelu", dl_gelu, GEN_NORMAL},   {"square", dl_square, GEN_NORMAL}, {"abs", dl_abs, GEN_AWAY}};
    for (size_t k = 0; k < sizeof u / sizeof u[0]; k++) {
        const gc_input spec[] = {{3, {2, 3, 5}, u[k].gen}};
        double e = grad_check(u[k].name, b_unary, &u[k].f, 1, spec, 1e-2, 0);
        if (e > TOL) fail_msg("%s: gradient error %.3g", u[k].name, e);
    }
}

/* ---- matmul --------------------------------------------------------------------------- */
typedef struct mm_ctx {
    int ta, tb;
} mm_ctx;
static dl_tensor *b_matmul(dl_graph *g, dl_tensor **in, const void *c) {
    const mm_ctx *m = c;
    return dl_matmul(g, in[0], in[1], m->ta, m->tb);
}

static dl_tensor *b_matmul_self(dl_graph *g, dl_tensor **in, const void *c) {
    const mm_ctx *m = c;
    return dl_matmul(g, in[0], in[0], m->ta, m->tb);
}

static dl_tensor *b_matmul_bias(dl_graph *g, dl_tensor **in, const void *c) {
    const mm_ctx *m = c;
    return dl_matmul_bias(g, in[0], in[1], m->ta ? in[2] : NULL, m->tb); /* ta: with bias */
}

static void test_matmul_bias(void **state) {
    (void)state;
    for (int tb = 0; tb < 2; tb++)
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            mm_ctx c = {with_bias, tb};
            char nm[64];
            const int wr = tb ? 5 : 4, wc = tb ? 4 : 5;
            snprintf(nm, sizeof nm, "matmul_bias 3d tw=%d bias=%d", tb, with_bias);
            CHECK(nm, b_matmul_bias, &c, 3, T3(2, 3, 4), T2(wr, wc), T1(5));
            snprintf(nm, sizeof nm, "matmul_bias 2d tw=%d bias=%d", tb, with_bias);
            CHECK(nm, b_matmul_bias, &c, 3, T2(3, 4), T2(wr, wc), T1(5));
        }
    /* Values: equal to matmul + add. */
    dl_graph *g = dl_graph_new();
    int xs[3] = {2, 7, 9}, ws[2] = {11, 9}, bs[1] = {11};
    dl_tensor *x = dl_tensor_new(g, 3, xs), *w = dl_tensor_new(g, 2, ws), *b = dl_tensor_new(g, 1, bs);
    dl_tensor *all[3] = {x, w, b};
    for (int i = 0; i < 3; i++)
        for (int64_t j = 0; j < all[i]->size; j++) all[i]->data[j] = (float)dl_rng_normal(&g_rng);
    dl_tensor *y1 = dl_matmul_bias(g, x, w, b, 1), *y2 = dl_add(g, dl_matmul(g, x, w, 0, 1), b);
    assert_int_equal(y1->ndim, 3);
    assert_int_equal(y1->shape[2], 11);
    assert_true(tu_max_rel_err(y1->data, y2->data, y1->size) < 1e-6);
    dl_graph_free(g);
}

static void test_matmul(void **state) {
    (void)state;
    const int M = 3, K = 4, N = 5;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            mm_ctx c = {ta, tb};
            const int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
            char nm[64];
            snprintf(nm, sizeof nm, "matmul 2d ta=%d tb=%d", ta, tb);
            CHECK(nm, b_matmul, &c, 2, T2(ar, ac), T2(br, bc));
            snprintf(nm, sizeof nm, "matmul shared-B 3d ta=%d tb=%d", ta, tb);
            CHECK(nm, b_matmul, &c, 2, T3(2, ar, ac), T2(br, bc));
            snprintf(nm, sizeof nm, "matmul batched 3d ta=%d tb=%d", ta, tb);
            CHECK(nm, b_matmul, &c, 2, T3(2, ar, ac), T3(2, br, bc));
            snprintf(nm, sizeof nm, "matmul batched 4d ta=%d tb=%d", ta, tb);
            CHECK(nm, b_matmul, &c, 2, T4(2, 2, ar, ac), T4(2, 2, br, bc));
            snprintf(nm, sizeof nm, "matmul shared-B 4d ta=%d tb=%d", ta, tb);
            CHECK(nm, b_matmul, &c, 2, T4(2, 2, ar, ac), T2(br, bc));
            if (ta != tb) {
                snprintf(nm, sizeof nm, "matmul X X ta=%d tb=%d", ta, tb);
                CHECK(nm, b_matmul_self, &c, 1, T2(4, 3));
                snprintf(nm, sizeof nm, "matmul batched X X ta=%d tb=%d", ta, tb);
                CHECK(nm, b_matmul_self, &c, 1, T3(2, 4, 3));
            }
        }
}

/* Forward values against a naive triple loop (the grad check only proves consistency). */
static void test_matmul_values(void **state) {
    (void)state;
    dl_graph *g = dl_graph_new();
    const int B = 3, M = 7, K = 9, N = 11;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int shared = 0; shared < 2; shared++) {
                dl_graph_reset(g);
                int as[3] = {B, ta ? K : M, ta ? M : K};
                int bs3[3] = {B, tb ? N : K, tb ? K : N};
                dl_tensor *a = dl_tensor_new(g, 3, as);
                dl_tensor *b = shared ? dl_tensor_new(g, 2, bs3 + 1) : dl_tensor_new(g, 3, bs3);
                for (int64_t i = 0; i < a->size; i++) a->data[i] = (float)dl_rng_normal(&g_rng);
                for (int64_t i = 0; i < b->size; i++) b->data[i] = (float)dl_rng_normal(&g_rng);
                dl_tensor *c = dl_matmul(g, a, b, ta, tb);
                assert_int_equal(c->ndim, 3);
                assert_int_equal(c->shape[1], M);
                assert_int_equal(c->shape[2], N);
                double md = 0;
                for (int bb = 0; bb < B; bb++)
                    for (int i = 0; i < M; i++)
                        for (int j = 0; j < N; j++) {
                            double s = 0;
                            const float *A = a->data + bb * M * K, *Bm = b->data + (shared ? 0 : bb * K * N);
                            for (int p = 0; p < K; p++)
                                s += (double)(ta ? A[p * M + i] : A[i * K + p]) * (tb ? Bm[j * K + p] : Bm[p * N + j]);
                            md = fmax(md, fabs(s - c->data[(bb * M + i) * N + j]));
                        }
                assert_true(md < 1e-4);
            }
    dl_graph_free(g);
}

/* ---- reductions ------------------------------------------------------------------------ */
typedef struct red_ctx {
    int kind, axis, keep;
} red_ctx;
static dl_tensor *b_reduce(dl_graph *g, dl_tensor **in, const void *c) {
    const red_ctx *r = c;
    switch (r->kind) {
    case 0: return dl_sum(g, in[0], r->axis, r->keep);
    case 1: return dl_mean(g, in[0], r->axis, r->keep);
    case 2: return dl_max(g, in[0], r->axis, r->keep);
    case 3: return dl_sum_all(g, in[0]);
    default: return dl_mean_all(g, in[0]);
    }
}

static void test_reduce(void **state) {
    (void)state;
    const char *names[] = {"sum", "mean", "max", "sum_all", "mean_all"};
    for (int kind = 0; kind < 5; kind++) {
        const int axes[] = {0, 1, 2, -1, -2};
        for (int ai = 0; ai < (kind < 3 ? 5 : 1); ai++)
            for (int keep = 0; keep < (kind < 3 ? 2 : 1); keep++) {
                red_ctx c = {kind, axes[ai], keep};
                char nm[64];
                snprintf(nm, sizeof nm, "%s axis=%d keep=%d", names[kind], axes[ai], keep);
                const gc_input spec[] = {{3, {2, 3, 4}, kind == 2 ? GEN_DISTINCT : GEN_NORMAL}};
                double e = grad_check(nm, b_reduce, &c, 1, spec, kind == 2 ? 1e-3 : 1e-2, 0);
                if (e > TOL) fail_msg("%s: gradient error %.3g", nm, e);
            }
    }
}

/* ---- softmax ------------------------------------------------------------------------------ */
typedef struct sm_ctx {
    int log, causal, mask; /* mask: 0 none, 1 = in[1] (trainable), 2 = constant with -inf */
} sm_ctx;
static dl_tensor *b_softmax(dl_graph *g, dl_tensor **in, const void *c) {
    const sm_ctx *s = c;
    dl_tensor *mask = NULL;
    if (s->mask == 1) mask = in[1];
    if (s->mask == 2) {
        const int tk = in[0]->shape[in[0]->ndim - 1];
        int sh[1] = {tk};
        mask = dl_tensor_zeros(g, 1, sh);
        mask->data[tk - 1] = -INFINITY; /* padding key */
        mask->data[0] = -0.5f;
    }
    return s->log ? dl_log_softmax(g, in[0], mask, s->causal) : dl_softmax(g, in[0], mask, s->causal);
}

static void test_softmax(void **state) {
    (void)state;
    for (int lg = 0; lg < 2; lg++) {
        const char *op = lg ? "log_softmax" : "softmax";
        char nm[96];
        sm_ctx c = {lg, 0, 0};
        snprintf(nm, sizeof nm, "%s plain", op);
        CHECK(nm, b_softmax, &c, 1, T3(2, 3, 5));
        c.causal = 1;
        snprintf(nm, sizeof nm, "%s causal T=S", op);
        CHECK(nm, b_softmax, &c, 1, T3(2, 4, 4));
        snprintf(nm, sizeof nm, "%s causal T<S", op);
        CHECK(nm, b_softmax, &c, 1, T4(2, 2, 3, 5));
        snprintf(nm, sizeof nm, "%s causal T>S (fully masked rows)", op);
        CHECK(nm, b_softmax, &c, 1, T3(2, 5, 3));
        c.mask = 1;
        snprintf(nm, sizeof nm, "%s causal + trainable mask [T,S]", op);
        CHECK(nm, b_softmax, &c, 2, T3(2, 4, 4), T2(4, 4));
        c.causal = 0;
        snprintf(nm, sizeof nm, "%s trainable mask [S]", op);
        CHECK(nm, b_softmax, &c, 2, T3(2, 3, 5), T1(5));
        snprintf(nm, sizeof nm, "%s trainable scalar mask", op);
        CHECK(nm, b_softmax, &c, 2, T3(2, 3, 5), T1(1));
        c.mask = 2;
        snprintf(nm, sizeof nm, "%s constant mask with -inf", op);
        CHECK(nm, b_softmax, &c, 1, T3(2, 3, 5));
    }
}

static void test_softmax_values(void **state) {
    (void)state;
    dl_graph *g = dl_graph_new();
    int sh[2] = {3, 4};
    dl_tensor *x = dl_tensor_new(g, 2, sh);
    for (int i = 0; i < 12; i++) x->data[i] = (float)(0.3 * i - 1);
    dl_tensor *y = dl_softmax(g, x, NULL, 1);
    dl_tensor *ly = dl_log_softmax(g, x, NULL, 1);
    /* Tq = 3, Tk = 4: row i sees keys j <= i + 1. */
    for (int i = 0; i < 3; i++) {
        double s = 0;
        for (int j = 0; j < 4; j++) {
            if (j > i + 1) {
                assert_true(y->data[i * 4 + j] == 0.0f);
                assert_true(isinf(ly->data[i * 4 + j]) && ly->data[i * 4 + j] < 0);
            } else {
                assert_true(fabs(log(y->data[i * 4 + j]) - ly->data[i * 4 + j]) < 1e-5);
            }
            s += y->data[i * 4 + j];
        }
        assert_true(fabs(s - 1) < 1e-6);
    }
    dl_graph_free(g);
}

/* ---- layernorm -------------------------------------------------------------------------- */
static dl_tensor *b_layernorm(dl_graph *g, dl_tensor **in, const void *c) {
    const int mode = *(const int *)c; /* 0: gamma+beta, 1: none, 2: gamma only, 3: beta only */
    dl_tensor *ga = mode == 0 || mode == 2 ? in[1] : NULL;
    dl_tensor *be = mode == 0 ? in[2] : mode == 3 ? in[1] : NULL;
    return dl_layernorm(g, in[0], ga, be, 1e-5f);
}

static void test_layernorm(void **state) {
    (void)state;
    int m0 = 0, m1 = 1, m2 = 2, m3 = 3;
    CHECK("layernorm gamma+beta", b_layernorm, &m0, 3, T3(2, 3, 6), T1(6), T1(6));
    CHECK("layernorm plain", b_layernorm, &m1, 1, T3(2, 3, 6));
    CHECK("layernorm gamma", b_layernorm, &m2, 2, T2(4, 5), T1(5));
    CHECK("layernorm beta", b_layernorm, &m3, 2, T2(4, 5), T1(5));
    /* Values: zero mean, unit variance rows. */
    dl_graph *g = dl_graph_new();
    int sh[2] = {4, 16};
    dl_tensor *x = dl_tensor_new(g, 2, sh);
    for (int i = 0; i < 64; i++) x->data[i] = (float)(3 + 2 * dl_rng_normal(&g_rng));
    dl_tensor *y = dl_layernorm(g, x, NULL, NULL, 0.0f);
    for (int r = 0; r < 4; r++) {
        double s = 0, s2 = 0;
        for (int j = 0; j < 16; j++) s += y->data[r * 16 + j], s2 += y->data[r * 16 + j] * y->data[r * 16 + j];
        assert_true(fabs(s / 16) < 1e-5 && fabs(s2 / 16 - 1) < 1e-4);
    }
    dl_graph_free(g);
}

/* ---- embedding, concat, slice, reshape, permute --------------------------------------------- */
static dl_tensor *b_embedding(dl_graph *g, dl_tensor **in, const void *c) {
    (void)c;
    const int ids[6] = {4, 0, 4, 2, 1, 4}; /* repeats accumulate */
    const int sh[2] = {2, 3};
    return dl_embedding(g, in[0], ids, 2, sh);
}
typedef struct cat_ctx {
    int n, axis;
} cat_ctx;
static dl_tensor *b_concat(dl_graph *g, dl_tensor **in, const void *c) {
    const cat_ctx *k = c;
    return dl_concat(g, in, k->n, k->axis);
}
typedef struct slice_ctx {
    int axis, start, len;
} slice_ctx;
static dl_tensor *b_slice(dl_graph *g, dl_tensor **in, const void *c) {
    const slice_ctx *s = c;
    return dl_slice(g, in[0], s->axis, s->start, s->len);
}
static dl_tensor *b_reshape(dl_graph *g, dl_tensor **in, const void *c) {
    (void)c;
    const int sh[2] = {-1, 4};
    dl_tensor *r = dl_reshape(g, dl_tanh(g, in[0]), 2, sh); /* activation input: shares grad */
    dl_tensor *p = dl_reshape(g, in[1], 2, sh);            /* parameter input: accumulates */
    return dl_mul(g, r, p);
}
static dl_tensor *b_permute(dl_graph *g, dl_tensor **in, const void *c) { return dl_permute(g, in[0], c); }
static dl_tensor *b_transpose(dl_graph *g, dl_tensor **in, const void *c) {
    const int *ax = c;
    return dl_transpose(g, in[0], ax[0], ax[1]);
}

static void test_shape_ops(void **state) {
    (void)state;
    CHECK("embedding", b_embedding, NULL, 1, T2(5, 3));
    cat_ctx c0 = {3, 0}, c1 = {3, 1}, c2 = {2, -1};
    CHECK("concat axis 0", b_concat, &c0, 3, T3(2, 3, 2), T3(1, 3, 2), T3(3, 3, 2));
    CHECK("concat axis 1", b_concat, &c1, 3, T3(2, 1, 2), T3(2, 3, 2), T3(2, 2, 2));
    CHECK("concat axis -1", b_concat, &c2, 2, T3(2, 3, 2), T3(2, 3, 4));
    slice_ctx s0 = {1, 1, 2}, s1 = {-1, 2, 3}, s2 = {0, 1, 1};
    CHECK("slice axis 1", b_slice, &s0, 1, T3(2, 4, 3));
    CHECK("slice axis -1", b_slice, &s1, 1, T3(2, 3, 6));
    CHECK("slice axis 0", b_slice, &s2, 1, T3(3, 2, 2));
    CHECK("reshape", b_reshape, NULL, 2, T3(2, 3, 4), T3(2, 3, 4));
    const int p3[3] = {2, 0, 1}, p4[4] = {0, 2, 1, 3}, p4b[4] = {3, 1, 0, 2};
    CHECK("permute 3d", b_permute, p3, 1, T3(2, 3, 4));
    CHECK("permute 4d heads", b_permute, p4, 1, T4(2, 3, 4, 2));
    CHECK("permute 4d", b_permute, p4b, 1, T4(2, 3, 4, 2));
    const int t0[2] = {0, -1};
    CHECK("transpose", b_transpose, t0, 1, T3(2, 3, 4));
}

static void test_shape_values(void **state) {
    (void)state;
    dl_graph *g = dl_graph_new();
    int sh[3] = {2, 3, 4};
    dl_tensor *x = dl_tensor_new(g, 3, sh);
    for (int i = 0; i < 24; i++) x->data[i] = (float)i;
    const int perm[3] = {2, 0, 1};
    dl_tensor *p = dl_permute(g, x, perm); /* p[k][i][j] = x[i][j][k] */
    assert_int_equal(p->shape[0], 4);
    assert_int_equal(p->shape[1], 2);
    assert_int_equal(p->shape[2], 3);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) assert_true(p->data[(k * 2 + i) * 3 + j] == x->data[(i * 3 + j) * 4 + k]);
    dl_tensor *s = dl_slice(g, x, 1, 1, 2);
    assert_true(s->data[0] == 4.0f && s->data[8] == 16.0f);
    const int rs[2] = {6, -1};
    dl_tensor *r = dl_reshape(g, x, 2, rs);
    assert_true(r->data == x->data && r->shape[1] == 4);
    dl_tensor *xs[2] = {x, x};
    dl_tensor *c = dl_concat(g, xs, 2, 1);
    assert_int_equal(c->shape[1], 6);
    assert_true(c->data[12] == 0.0f && c->data[24] == 12.0f);
    dl_graph_free(g);
}

/* ---- dropout ----------------------------------------------------------------------------- */
static dl_tensor *b_dropout(dl_graph *g, dl_tensor **in, const void *c) {
    (void)c;
    return dl_dropout(g, in[0], 0.3f);
}

static void test_dropout(void **state) {
    (void)state;
    CHECK("dropout p=0.3", b_dropout, NULL, 1, T2(8, 16));
    dl_graph *g = dl_graph_new();
    int sh[1] = {100000};
    dl_tensor *x = dl_tensor_new(g, 1, sh);
    for (int i = 0; i < sh[0]; i++) x->data[i] = 1.0f;
    assert_true(dl_dropout(g, x, 0.5f) == x); /* eval mode: identity */
    dl_graph_set_training(g, 1);
    dl_tensor *y = dl_dropout(g, x, 0.25f);
    int64_t kept = 0;
    for (int i = 0; i < sh[0]; i++) {
        assert_true(y->data[i] == 0.0f || fabsf(y->data[i] - 1.0f / 0.75f) < 1e-6f);
        kept += y->data[i] != 0.0f;
    }
    assert_true(fabs((double)kept / sh[0] - 0.75) < 0.01);
    dl_tensor *y2 = dl_dropout(g, x, 0.25f); /* a fresh mask per call */
    assert_true(memcmp(y->data, y2->data, sizeof(float) * (size_t)sh[0]) != 0);
    dl_graph_free(g);
}

/* ---- losses ------------------------------------------------------------------------------ */
typedef struct ce_ctx {
    const int *targets;
    const float *weights;
    int ignore, each;
} ce_ctx;
static dl_tensor *b_ce(dl_graph *g, dl_tensor **in, const void *c) {
    const ce_ctx *k = c;
    if (k->each) return dl_cross_entropy_each(g, in[0], k->targets, k->ignore);
    return dl_cross_entropy(g, in[0], k->targets, k->weights, k->ignore);
}
static dl_tensor *b_mse(dl_graph *g, dl_tensor **in, const void *c) { (void)c; return dl_mse(g, in[0], in[1]); }
static const float ylab[7] = {1, -1, -1, 1, 1, -1, 1};
static dl_tensor *b_logistic(dl_graph *g, dl_tensor **in, const void *c) { (void)c; return dl_logistic_loss(g, in[0], ylab); }
static dl_tensor *b_hinge(dl_graph *g, dl_tensor **in, const void *c) { (void)c; return dl_hinge_loss(g, in[0], ylab); }

static void test_losses(void **state) {
    (void)state;
    const int t6[6] = {0, 4, -1, 2, 2, 1};
    const float w6[6] = {1.0f, 0.5f, 3.0f, 2.0f, 0.0f, 1.5f};
    ce_ctx c = {t6, NULL, -1, 0};
    CHECK("cross_entropy", b_ce, &c, 1, T2(6, 5));
    c.weights = w6;
    CHECK("cross_entropy weighted + ignore", b_ce, &c, 1, T2(6, 5));
    CHECK("cross_entropy 3d logits", b_ce, &c, 1, T3(2, 3, 5));
    c.each = 1;
    CHECK("cross_entropy_each", b_ce, &c, 1, T2(6, 5));
    const int all_ignored[3] = {7, 7, 7};
    ce_ctx ci = {all_ignored, NULL, 7, 0};
    CHECK("cross_entropy all ignored", b_ce, &ci, 1, T2(3, 4));
    CHECK("mse", b_mse, NULL, 2, T2(3, 4), T2(3, 4));
    CHECK("logistic", b_logistic, NULL, 1, T1(7));
    CHECK("hinge", b_hinge, NULL, 1, G1(GEN_HINGE, 7));

    /* Values: CE against a direct log-sum-exp, weighted mean over non-ignored rows. */
    dl_graph *g = dl_graph_new();
    int sh[2] = {6, 5};
    dl_tensor *x = dl_tensor_new(g, 2, sh);
    for (int i = 0; i < 30; i++) x->data[i] = (float)dl_rng_normal(&g_rng);
    double ref = 0;
    for (int i = 0; i < 6; i++) {
        if (t6[i] < 0) continue;
        double m = -1e30, s = 0;
        for (int j = 0; j < 5; j++) m = fmax(m, x->data[i * 5 + j]);
        for (int j = 0; j < 5; j++) s += exp(x->data[i * 5 + j] - m);
        ref += w6[i] * (m + log(s) - x->data[i * 5 + t6[i]]);
    }
    ref /= 5;
    dl_tensor *l = dl_cross_entropy(g, x, t6, w6, -1);
    assert_true(fabs(l->data[0] - ref) < 1e-5);
    dl_tensor *le = dl_cross_entropy_each(g, x, t6, -1);
    assert_int_equal(le->ndim, 1);
    assert_true(le->data[2] == 0.0f);
    dl_tensor *ll = dl_ln(g, dl_add_scalar(g, dl_exp(g, dl_scale(g, x, -1.0f)), 1.0f));
    (void)ll;
    dl_graph_free(g);
}

/* ---- attention ---------------------------------------------------------------------------- */
typedef struct at_ctx {
    int causal;
    float scale;
} at_ctx;
static dl_tensor *b_attention(dl_graph *g, dl_tensor **in, const void *c) {
    const at_ctx *a = c;
    return dl_attention(g, in[0], in[1], in[2], a->scale, a->causal, NULL);
}
/* The same computation from separate ops: the reference for values and gradients. */
static dl_tensor *b_attention_composed(dl_graph *g, dl_tensor **in, const void *c) {
    const at_ctx *a = c;
    dl_tensor *s = dl_scale(g, dl_matmul(g, in[0], in[1], 0, 1), a->scale);
    return dl_matmul(g, dl_softmax(g, s, NULL, a->causal), in[2], 0, 0);
}

static dl_tensor *b_attention_qkv_same(dl_graph *g, dl_tensor **in, const void *c) {
    const at_ctx *a = c;
    return dl_attention(g, in[0], in[0], in[0], a->scale, a->causal, NULL);
}
static dl_tensor *b_attention_qk_same(dl_graph *g, dl_tensor **in, const void *c) {
    const at_ctx *a = c;
    return dl_attention(g, in[0], in[0], in[1], a->scale, a->causal, NULL);
}
static dl_tensor *b_attention_kv_same(dl_graph *g, dl_tensor **in, const void *c) {
    const at_ctx *a = c;
    return dl_attention(g, in[0], in[1], in[1], a->scale, a->causal, NULL);
}

static dl_tensor *b_attention_heads(dl_graph *g, dl_tensor **in, const void *c) {
    const at_ctx *a = c;
    return dl_attention_heads(g, in[0], in[1], in[2], 2, a->scale, a->causal, NULL);
}
static dl_tensor *b_attention_heads_same(dl_graph *g, dl_tensor **in, const void *c) {
    const at_ctx *a = c;
    return dl_attention_heads(g, in[0], in[0], in[0], 3, a->scale, a->causal, NULL);
}

/* [B, T, H*D] -> [B, H, T, D] and back, for the reference of dl_attention_heads. */
static dl_tensor *split_heads(dl_graph *g, dl_tensor *x, int H) {
    const int s4[4] = {x->shape[0], x->shape[1], H, x->shape[2] / H}, perm[4] = {0, 2, 1, 3};
    return dl_permute(g, dl_reshape(g, x, 4, s4), perm);
}
static dl_tensor *merge_heads(dl_graph *g, dl_tensor *x) {
    const int perm[4] = {0, 2, 1, 3}, s3[3] = {x->shape[0], x->shape[2], x->shape[1] * x->shape[3]};
    return dl_reshape(g, dl_permute(g, x, perm), 3, s3);
}

static void test_attention_heads_values(void **state) {
    (void)state;
    dl_graph *g = dl_graph_new();
    const int B = 2, H = 3, T = 67, S = 70, Dh = 8, Dv = 5;
    int qs[3] = {B, T, H * Dh}, ks[3] = {B, S, H * Dh}, vs[3] = {B, S, H * Dv};
    dl_tensor *q = dl_tensor_new(g, 3, qs), *k = dl_tensor_new(g, 3, ks), *v = dl_tensor_new(g, 3, vs);
    dl_tensor *in[3] = {q, k, v};
    for (int i = 0; i < 3; i++)
        for (int64_t j = 0; j < in[i]->size; j++) in[i]->data[j] = (float)dl_rng_normal(&g_rng);
    for (int causal = 0; causal < 2; causal++) {
        float *w1 = NULL, *w2 = NULL;
        dl_tensor *o1 = dl_attention_heads(g, q, k, v, H, 0.3f, causal, &w1);
        dl_tensor *o2 = merge_heads(g, dl_attention(g, split_heads(g, q, H), split_heads(g, k, H),
                                                    split_heads(g, v, H), 0.3f, causal, &w2));
        assert_int_equal(o1->size, o2->size);
        assert_true(tu_max_rel_err(o1->data, o2->data, o1->size) < 1e-5);
        assert_true(tu_max_rel_err(w1, w2, (long)B * H * T * S) < 1e-5);
        if (causal) /* row 0 sees keys 0..S-T only */
            for (int j = S - T + 1; j < S; j++) assert_true(w1[j] == 0.0f);
    }
    dl_graph_free(g);
}

static void test_attention(void **state) {
    (void)state;
    at_ctx c = {1, 0.5f}, nc = {0, 0.7f};
    CHECK("attention causal", b_attention, &c, 3, T4(2, 2, 4, 3), T4(2, 2, 4, 3), T4(2, 2, 4, 3));
    CHECK("attention full", b_attention, &nc, 3, T4(2, 2, 4, 3), T4(2, 2, 4, 3), T4(2, 2, 4, 3));
    CHECK("attention causal S>T, Dv!=Dh", b_attention, &c, 3, T3(2, 3, 3), T3(2, 5, 3), T3(2, 5, 2));
    CHECK("attention causal S<T", b_attention, &c, 3, T3(2, 4, 3), T3(2, 3, 3), T3(2, 3, 2));
    CHECK("attention causal T=S=64 (row blocks)", b_attention, &c, 3, T3(1, 64, 2), T3(1, 64, 2), T3(1, 64, 2));
    CHECK("attention causal T=70 S=66 (blocks, hidden rows)", b_attention, &c, 3, T3(1, 70, 2), T3(1, 66, 2),
          T3(1, 66, 1));
    CHECK("attention causal T=66 S=75 (blocks)", b_attention, &c, 3, T3(1, 66, 1), T3(1, 75, 1), T3(1, 75, 2));
    CHECK("attention_heads causal", b_attention_heads, &c, 3, T3(2, 5, 6), T3(2, 5, 6), T3(2, 5, 4));
    CHECK("attention_heads full S!=T", b_attention_heads, &nc, 3, T3(2, 4, 6), T3(2, 5, 6), T3(2, 5, 2));
    CHECK("attention_heads causal T=64 (row blocks)", b_attention_heads, &c, 3, T3(1, 64, 4), T3(1, 64, 4),
          T3(1, 64, 2));
    /* Short key sequences (S <= 16) take the direct kernels on AVX-512 CPUs: the onelayer
     * head shape, two 16-float chunks of Dh and Dv, T not a multiple of the 4-row step,
     * hidden rows (causal, T > S), S = 16 exactly and S = 1. */
    CHECK("attention_heads causal T=S=16 Dh=16", b_attention_heads, &c, 3, T3(1, 16, 32), T3(1, 16, 32),
          T3(1, 16, 32));
    CHECK("attention_heads full T=S=16 Dh=16", b_attention_heads, &nc, 3, T3(1, 16, 32), T3(1, 16, 32),
          T3(1, 16, 32));
    CHECK("attention full T=7 S=16 Dh=20 Dv=18", b_attention, &nc, 3, T3(1, 7, 20), T3(1, 16, 20), T3(1, 16, 18));
    CHECK("attention causal T=7 S=13 Dh=20 Dv=18", b_attention, &c, 3, T3(1, 7, 20), T3(1, 13, 20), T3(1, 13, 18));
    CHECK("attention causal T=21 S=13 (hidden rows)", b_attention, &c, 3, T3(1, 21, 3), T3(1, 13, 3),
          T3(1, 13, 2));
    CHECK("attention full S=1", b_attention, &nc, 3, T3(2, 5, 3), T3(2, 1, 3), T3(2, 1, 4));
    CHECK("attention q=k=v", b_attention_qkv_same, &c, 1, T4(2, 2, 4, 3));
    CHECK("attention_heads q=k=v", b_attention_heads_same, &c, 1, T3(2, 5, 6));
    CHECK("attention q=k", b_attention_qk_same, &nc, 2, T3(2, 4, 3), T3(2, 4, 3));
    CHECK("attention k=v", b_attention_kv_same, &c, 2, T3(2, 4, 3), T3(2, 4, 3));

    /* Fused == composed (values and weights) on short key sequences (direct kernels on
     * AVX-512 CPUs), causal and not, S < T and S > T, several 16-float chunks of Dh/Dv. */
    {
        const int shapes[][5] = {{21, 13, 20, 17, 2}, {5, 16, 40, 33, 3}, {16, 16, 16, 16, 4}, {3, 9, 7, 5, 1}};
        for (int t = 0; t < 4; t++) {
            const int T = shapes[t][0], S = shapes[t][1], Dh = shapes[t][2], Dv = shapes[t][3], Bt = shapes[t][4];
            for (int causal = 0; causal < 2; causal++) {
                dl_graph *g = dl_graph_new();
                int qs[3] = {Bt, T, Dh}, ks[3] = {Bt, S, Dh}, vs[3] = {Bt, S, Dv};
                dl_tensor *in[3] = {dl_tensor_new(g, 3, qs), dl_tensor_new(g, 3, ks), dl_tensor_new(g, 3, vs)};
                for (int k = 0; k < 3; k++)
                    for (int64_t i = 0; i < in[k]->size; i++) in[k]->data[i] = (float)dl_rng_normal(&g_rng);
                float *w = NULL;
                dl_tensor *o1 = dl_attention(g, in[0], in[1], in[2], 0.3f, causal, &w);
                at_ctx cc = {causal, 0.3f};
                dl_tensor *o2 = b_attention_composed(g, in, &cc);
                assert_true(tu_max_rel_err(o1->data, o2->data, o1->size) < 1e-5);
                dl_tensor *sm = dl_softmax(g, dl_scale(g, dl_matmul(g, in[0], in[1], 0, 1), 0.3f), NULL, causal);
                assert_true(tu_max_rel_err(w, sm->data, sm->size) < 1e-5);
                dl_graph_free(g);
            }
        }
    }

    /* Fused == composed (values and weights), on a shape that takes the parallel path. */
    dl_graph *g = dl_graph_new();
    int sh[4] = {2, 4, 96, 16};
    dl_tensor *in[3];
    for (int k = 0; k < 3; k++) {
        in[k] = dl_tensor_new(g, 4, sh);
        for (int64_t i = 0; i < in[k]->size; i++) in[k]->data[i] = (float)dl_rng_normal(&g_rng);
    }
    float *w = NULL;
    dl_tensor *o1 = dl_attention(g, in[0], in[1], in[2], 0.25f, 1, &w);
    at_ctx c2 = {1, 0.25f};
    dl_tensor *o2 = b_attention_composed(g, in, &c2);
    assert_true(tu_max_rel_err(o1->data, o2->data, o1->size) < 1e-5);
    dl_tensor *s = dl_softmax(g, dl_scale(g, dl_matmul(g, in[0], in[1], 0, 1), 0.25f), NULL, 1);
    assert_non_null(w);
    assert_true(tu_max_rel_err(w, s->data, s->size) < 1e-5);
    dl_graph_free(g);
}

/* ---- custom ops and the checker's self-test --------------------------------------------------- */
static void cube_bwd(dl_graph *g, dl_tensor *out, dl_tensor **inputs, int n, void *ctx) {
    (void)n;
    const float k = *(const float *)ctx; /* 3 = correct; anything else = wrong */
    float *gx = dl_tensor_grad(g, inputs[0]);
    for (int64_t i = 0; i < out->size; i++) gx[i] += k * inputs[0]->data[i] * inputs[0]->data[i] * out->grad[i];
}
static dl_tensor *b_cube(dl_graph *g, dl_tensor **in, const void *c) {
    dl_tensor *out = dl_tensor_new(g, in[0]->ndim, in[0]->shape);
    for (int64_t i = 0; i < out->size; i++) out->data[i] = in[0]->data[i] * in[0]->data[i] * in[0]->data[i];
    dl_tape_custom(g, out, in, 1, cube_bwd, c, sizeof(float));
    return out;
}

static void test_custom_and_selfcheck(void **state) {
    (void)state;
    const float right = 3.0f, wrong = 3.3f;
    CHECK("custom cube", b_cube, &right, 1, T2(3, 4));
    const gc_input spec[] = {T2(3, 4)};
    assert_true(grad_check("custom cube, wrong backward", b_cube, &wrong, 1, spec, 1e-2, 0) > TOL);
    /* One corrupted analytic entry must be detected for a few representative ops. */
    const gc_input sm[] = {T3(2, 3, 5)};
    sm_ctx sc = {0, 1, 0};
    assert_true(grad_check("softmax, perturbed", b_softmax, &sc, 1, sm, 1e-2, 1) > TOL);
    mm_ctx mc = {0, 1};
    const gc_input mm[] = {T3(2, 3, 4), T2(5, 4)};
    assert_true(grad_check("matmul, perturbed", b_matmul, &mc, 2, mm, 1e-2, 1) > TOL);
}

int main(void) {
    dl_rng_init(&g_rng, 20240601, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary),       cmocka_unit_test(test_elementwise),
        cmocka_unit_test(test_matmul),       cmocka_unit_test(test_matmul_values),
        cmocka_unit_test(test_matmul_bias),
        cmocka_unit_test(test_reduce),       cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_softmax_values), cmocka_unit_test(test_layernorm),
        cmocka_unit_test(test_shape_ops),    cmocka_unit_test(test_shape_values),
        cmocka_unit_test(test_dropout),      cmocka_unit_test(test_losses),
        cmocka_unit_test(test_attention),    cmocka_unit_test(test_attention_heads_values),
        cmocka_unit_test(test_custom_and_selfcheck),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
