/* Finite-difference gradient checks of the sequence ops (include/dynlab/rnn.h):
 * conv1d (padding, dilation, bias, width 1), the fused conv1d + max over time (equal to
 * the two ops, and by finite differences), max-over-time, embedding bag (sum and
 * mean, repeated ids, an empty bag), the GRU layer and cell and the LSTM layer
 * (with and without initial states and biases); the checker is tests/fdcheck.h.
 * Also: conv1d's values against a direct loop, the same bits for 1 and 2 threads,
 * no heap allocation after the first step of a GRU/conv training step, and bad
 * shapes, ids and offsets end the program with one line naming the op. */
#include "fdcheck.h"
#include "dynlab/nn.h"
#include "dynlab/rnn.h"

#define CHECK(name, fn, ctx, n, ...)                                                       \
    do {                                                                                   \
        const gc_input spec_[] = {__VA_ARGS__};                                            \
        double e_ = grad_check(name, fn, ctx, n, spec_, 1e-2, 0);                          \
        if (e_ > TOL) fail_msg("%s: gradient error %.3g > %.3g", name, e_, TOL);           \
    } while (0)
#define T1(a) {1, {a}, GEN_NORMAL}
#define T2(a, b) {2, {a, b}, GEN_NORMAL}
#define T3(a, b, c) {3, {a, b, c}, GEN_NORMAL}
#define S1(a) {1, {a}, GEN_SMALL}
#define S2(a, b) {2, {a, b}, GEN_SMALL}
#define S3(a, b, c) {3, {a, b, c}, GEN_SMALL}

/* ---- conv1d ------------------------------------------------------------------ */
typedef struct {
    int pad, dil, bias;
} conv_ctx;
static dl_tensor *b_conv(dl_graph *g, dl_tensor **in, const void *c) {
    const conv_ctx *k = c;
    return dl_conv1d(g, in[0], in[1], k->bias ? in[2] : NULL, k->pad, k->dil);
}

static void test_conv1d(void **state) {
    (void)state;
    const conv_ctx cases[] = {{0, 1, 1}, {1, 1, 1}, {0, 2, 1}, {2, 2, 0}, {0, 1, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char nm[80];
        snprintf(nm, sizeof nm, "conv1d pad=%d dil=%d bias=%d", cases[i].pad, cases[i].dil, cases[i].bias);
        CHECK(nm, b_conv, &cases[i], 3, T3(3, 7, 4), T3(5, 3, 4), T1(5));
    }
    const conv_ctx k1 = {0, 1, 1};
    CHECK("conv1d width 1", b_conv, &k1, 3, T3(2, 5, 3), T3(4, 1, 3), T1(4));
    CHECK("conv1d output length 1", b_conv, &k1, 3, T3(2, 4, 3), T3(2, 4, 3), T1(2));
}

/* Forward values against the definition, loop by loop. */
static void test_conv1d_values(void **state) {
    (void)state;
    dl_graph *g = dl_graph_new();
    const int N = 3, L = 9, C = 5, O = 6, K = 3;
    const conv_ctx cases[] = {{0, 1, 1}, {2, 1, 1}, {1, 3, 0}};
    for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++) {
        const conv_ctx *k = &cases[ci];
        dl_graph_reset(g);
        int xs[3] = {N, L, C}, ws[3] = {O, K, C}, bs[1] = {O};
        dl_tensor *x = dl_tensor_new(g, 3, xs), *w = dl_tensor_new(g, 3, ws), *b = dl_tensor_new(g, 1, bs);
        dl_tensor *all[3] = {x, w, b};
        for (int i = 0; i < 3; i++)
            for (int64_t j = 0; j < all[i]->size; j++) all[i]->data[j] = (float)dl_rng_normal(&g_rng);
        dl_tensor *y = dl_conv1d(g, x, w, k->bias ? b : NULL, k->pad, k->dil);
        const int Lout = L + 2 * k->pad - k->dil * (K - 1);
        assert_int_equal(y->shape[1], Lout);
        double md = 0;
        for (int n = 0; n < N; n++)
            for (int t = 0; t < Lout; t++)
                for (int o = 0; o < O; o++) {
                    double s = k->bias ? b->data[o] : 0;
                    for (int kk = 0; kk < K; kk++) {
                        const int p = t + kk * k->dil - k->pad;
                        if (p < 0 || p >= L) continue;
                        for (int c = 0; c < C; c++)
                            s += (double)w->data[(o * K + kk) * C + c] * x->data[(n * L + p) * C + c];
                    }
                    md = fmax(md, fabs(s - y->data[(n * Lout + t) * O + o]));
                }
        assert_true(md < 1e-5);
    }
    dl_graph_free(g);
}

/* ---- fused conv1d + max over time ------------------------------------------------- */
static dl_tensor *b_convmax(dl_graph *g, dl_tensor **in, const void *c) {
    const conv_ctx *k = c;
    return dl_conv1d_max(g, in[0], in[1], k->bias ? in[2] : NULL, k->pad, k->dil);
}

/* Same values and gradients as max_over_time(conv1d) (both checked on their own), for
 * every padding/dilation/bias case and a batch of more than one forward chunk. */
static void test_conv1d_max(void **state) {
    (void)state;
    const conv_ctx cases[] = {{0, 1, 1}, {1, 1, 1}, {0, 2, 1}, {2, 2, 0}};
    for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++) {
        const conv_ctx *k = &cases[ci];
        dl_params ps;
        dl_params_init(&ps);
        dl_tensor *x = dl_param_new(&ps, "x", 3, (int[3]){37, 8, 5});
        dl_tensor *w = dl_param_new(&ps, "w", 3, (int[3]){6, 3, 5});
        dl_tensor *b = dl_param_new(&ps, "b", 1, (int[1]){6});
        dl_tensor *all[3] = {x, w, b};
        for (int i = 0; i < 3; i++)
            for (int64_t j = 0; j < all[i]->size; j++) all[i]->data[j] = (float)dl_rng_normal(&g_rng);
        float *grads[2][3], vals[2][37 * 6], Rv[37 * 6];
        for (int j = 0; j < 37 * 6; j++) Rv[j] = (float)dl_rng_normal(&g_rng);
        for (int fused = 0; fused < 2; fused++) {
            dl_graph *g = dl_graph_new();
            dl_params_zero_grad(&ps);
            dl_tensor *y = fused ? dl_conv1d_max(g, x, w, k->bias ? b : NULL, k->pad, k->dil)
                                 : dl_max_over_time(g, dl_conv1d(g, x, w, k->bias ? b : NULL, k->pad, k->dil));
            assert_int_equal(y->size, 37 * 6);
            memcpy(vals[fused], y->data, sizeof vals[fused]);
            dl_tensor *R = dl_tensor_wrap(g, Rv, 2, y->shape);
            dl_backward(g, dl_sum_all(g, dl_mul(g, dl_relu(g, y), R)));
            for (int i = 0; i < 3; i++) {
                grads[fused][i] = malloc((size_t)all[i]->size * sizeof(float));
                memcpy(grads[fused][i], all[i]->grad, (size_t)all[i]->size * sizeof(float));
            }
            dl_graph_free(g);
        }
        assert_true(tu_max_rel_err(vals[1], vals[0], 37 * 6) < 1e-6);
        for (int i = 0; i < 3; i++) {
            if (i == 2 && !k->bias) {
                free(grads[0][i]), free(grads[1][i]);
                continue;
            }
            const double e = tu_max_rel_err(grads[1][i], grads[0][i], all[i]->size);
            if (e > 1e-5) fail_msg("conv1d_max case %zu input %d: gradient differs from the composed ops by %.3g", ci, i, e);
            free(grads[0][i]), free(grads[1][i]);
        }
        dl_params_free(&ps);
    }
    /* And finite differences directly (small h: the arg-max must not move). */
    const conv_ctx k1 = {1, 2, 1};
    const gc_input spec[] = {T3(3, 7, 4), T3(5, 2, 4), T1(5)};
    const double e = grad_check("conv1d_max", b_convmax, &k1, 3, spec, 1e-3, 0);
    if (e > TOL) fail_msg("conv1d_max: gradient error %.3g", e);
}

/* ---- max over time ------------------------------------------------------------ */
static dl_tensor *b_maxt(dl_graph *g, dl_tensor **in, const void *c) {
    (void)c;
    return dl_max_over_time(g, in[0]);
}

static void test_max_over_time(void **state) {
    (void)state;
    const gc_input spec[] = {{3, {3, 6, 4}, GEN_DISTINCT}};
    double e = grad_check("max_over_time", b_maxt, NULL, 1, spec, 1e-2, 0);
    if (e > TOL) fail_msg("max_over_time: gradient error %.3g", e);
    /* Ties: the first position gets the gradient (torch.max). */
    dl_params ps;
    dl_params_init(&ps);
    int s[3] = {1, 3, 2};
    dl_tensor *x = dl_param_new(&ps, "x", 3, s);
    const float v[6] = {1, 5, 2, 5, 2, -1};
    memcpy(x->data, v, sizeof v);
    dl_graph *g = dl_graph_new();
    dl_tensor *y = dl_max_over_time(g, x);
    assert_true(y->data[0] == 2.0f && y->data[1] == 5.0f);
    dl_params_zero_grad(&ps);
    dl_backward(g, dl_sum_all(g, y));
    const float want[6] = {0, 1, 1, 0, 0, 0};
    assert_memory_equal(x->grad, want, sizeof want);
    dl_graph_free(g);
    dl_params_free(&ps);
}

/* ---- embedding bag -------------------------------------------------------------- */
static const int BAG_IDS[] = {3, 1, 1, 4, 0, 2, 3, 3, 5};
static const int BAG_OFF[] = {0, 3, 3, 5}; /* bags: 3 ids, empty, 2 ids, 4 ids */
static dl_tensor *b_bag(dl_graph *g, dl_tensor **in, const void *c) {
    return dl_embedding_bag(g, in[0], BAG_IDS, 9, BAG_OFF, 4, *(const int *)c);
}

static void test_embedding_bag(void **state) {
    (void)state;
    const int sum = 0, mean = 1;
    CHECK("embedding_bag sum", b_bag, &sum, 1, T2(6, 5));
    CHECK("embedding_bag mean", b_bag, &mean, 1, T2(6, 5));
    dl_graph *g = dl_graph_new();
    int s[2] = {6, 2};
    dl_tensor *t = dl_tensor_new(g, 2, s);
    for (int i = 0; i < 12; i++) t->data[i] = (float)i;
    dl_tensor *y = dl_embedding_bag(g, t, BAG_IDS, 9, BAG_OFF, 4, 1);
    /* bag 0 = mean of rows 3, 1, 1 = ((6,7) + 2 (2,3)) / 3; bag 1 empty = 0. */
    assert_true(fabsf(y->data[0] - 10.0f / 3) < 1e-6f && fabsf(y->data[1] - 13.0f / 3) < 1e-6f);
    assert_true(y->data[2] == 0.0f && y->data[3] == 0.0f);
    dl_graph_free(g);
}

/* ---- GRU / LSTM ----------------------------------------------------------------- */
typedef struct {
    int h0, bias;
} rnn_ctx_t;
static dl_tensor *b_gru(dl_graph *g, dl_tensor **in, const void *c) {
    const rnn_ctx_t *k = c;
    return dl_gru(g, in[0], k->h0 ? in[5] : NULL, in[1], in[2], k->bias ? in[3] : NULL, k->bias ? in[4] : NULL);
}
static dl_tensor *b_gru_cell(dl_graph *g, dl_tensor **in, const void *c) {
    (void)c;
    return dl_gru_cell(g, in[0], in[5], in[1], in[2], in[3], in[4]);
}
static dl_tensor *b_lstm(dl_graph *g, dl_tensor **in, const void *c) {
    const rnn_ctx_t *k = c;
    return dl_lstm(g, in[0], k->h0 ? in[5] : NULL, k->h0 ? in[6] : NULL, in[1], in[2], k->bias ? in[3] : NULL,
                   k->bias ? in[4] : NULL);
}
/* The last state only: the gradient flows through every step's recurrence. */
static dl_tensor *b_gru_last(dl_graph *g, dl_tensor **in, const void *c) {
    return dl_last_step(g, b_gru(g, in, c));
}

static void test_gru(void **state) {
    (void)state;
    enum { B = 3, T = 5, I = 4, H = 3 };
    const rnn_ctx_t cases[] = {{1, 1}, {0, 1}, {0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char nm[64];
        snprintf(nm, sizeof nm, "gru h0=%d bias=%d", cases[i].h0, cases[i].bias);
        CHECK(nm, b_gru, &cases[i], 6, T3(B, T, I), S2(3 * H, I), S2(3 * H, H), S1(3 * H), S1(3 * H), T2(B, H));
    }
    CHECK("gru last step", b_gru_last, &cases[0], 6, T3(B, T, I), S2(3 * H, I), S2(3 * H, H), S1(3 * H), S1(3 * H),
          T2(B, H));
    CHECK("gru cell", b_gru_cell, NULL, 6, T2(B, I), S2(3 * H, I), S2(3 * H, H), S1(3 * H), S1(3 * H), T2(B, H));
}

static void test_lstm(void **state) {
    (void)state;
    enum { B = 2, T = 4, I = 3, H = 3 };
    const rnn_ctx_t cases[] = {{1, 1}, {0, 1}, {0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char nm[64];
        snprintf(nm, sizeof nm, "lstm h0,c0=%d bias=%d", cases[i].h0, cases[i].bias);
        CHECK(nm, b_lstm, &cases[i], 7, T3(B, T, I), S2(4 * H, I), S2(4 * H, H), S1(4 * H), S1(4 * H), T2(B, H),
              T2(B, H));
    }
}

/* GRU cell = one step of the layer; the layer's step t = the cell on step t-1's state. */
static void test_gru_cell_matches_layer(void **state) {
    (void)state;
    dl_params ps;
    dl_params_init(&ps);
    dl_rng r;
    dl_rng_init(&r, 3, 3);
    dl_gru_m m;
    dl_gru_init(&m, &ps, "gru", 4, 5, &r);
    dl_graph *g = dl_graph_new();
    int xs[3] = {2, 3, 4};
    dl_tensor *x = dl_tensor_new(g, 3, xs);
    for (int64_t i = 0; i < x->size; i++) x->data[i] = (float)dl_rng_normal(&r);
    dl_tensor *seq = dl_gru_fwd(g, &m, x, NULL);
    int hs[2] = {2, 5};
    dl_tensor *h = dl_tensor_zeros(g, 2, hs);
    for (int t = 0; t < 3; t++) {
        dl_tensor *xt = dl_reshape(g, dl_slice(g, x, 1, t, 1), 2, (int[2]){2, 4});
        h = dl_gru_cell(g, xt, h, m.w_ih, m.w_hh, m.b_ih, m.b_hh);
        for (int b = 0; b < 2; b++)
            for (int j = 0; j < 5; j++) assert_true(fabsf(h->data[b * 5 + j] - seq->data[(b * 3 + t) * 5 + j]) < 1e-6f);
    }
    dl_graph_free(g);
    dl_params_free(&ps);
}

/* ---- a small text model step: determinism over threads, no heap after step 1 ----
 * Sizes large enough that the GEMMs and the fused conv1d_max split over threads. */
enum { TM_B = 8, TM_DAYS = 8, TM_TOK = 12, TM_V = 50, TM_E = 16, TM_F = 64, TM_H = 24 };
typedef struct {
    dl_params ps;
    dl_tensor *emb;
    dl_conv1d_m conv, conv2;
    dl_gru_m gru;
    dl_lstm_m lstm;
} tiny_model;

static void tiny_step(tiny_model *m, dl_graph *g, const int *ids) {
    dl_graph_reset(g);
    dl_params_zero_grad(&m->ps);
    dl_tensor *e = dl_embedding(g, m->emb, ids, 2, (int[2]){TM_B * TM_DAYS, TM_TOK});
    dl_tensor *c1 = dl_relu(g, dl_conv1d_max(g, e, m->conv.weight, m->conv.bias, 0, 1));
    dl_tensor *c2 = dl_max_over_time(g, dl_relu(g, dl_conv1d_fwd(g, &m->conv2, e)));
    dl_tensor *c = dl_concat(g, (dl_tensor *[2]){c1, c2}, 2, 1);
    dl_tensor *seq = dl_reshape(g, c, 3, (int[3]){TM_B, TM_DAYS, 2 * TM_F});
    dl_tensor *h = dl_gru_fwd(g, &m->gru, seq, NULL);
    dl_tensor *h2 = dl_lstm_fwd(g, &m->lstm, h, NULL, NULL);
    dl_tensor *loss = dl_mean_all(g, dl_square(g, dl_last_step(g, h2)));
    dl_backward(g, loss);
}

static void test_threads_and_allocs(void **state) {
    (void)state;
    float *grads[2] = {0};
    int64_t total = 0;
    for (int th = 1; th <= 2; th++) {
        dl_set_threads(th);
        tiny_model m;
        dl_params_init(&m.ps);
        dl_rng r;
        dl_rng_init(&r, 11, 0);
        m.emb = dl_param_new(&m.ps, "emb", 2, (int[2]){TM_V, TM_E});
        dl_init_normal(m.emb, &r, 1.0f);
        dl_conv1d_init(&m.conv, &m.ps, "conv", TM_E, TM_F, 3, 0, 1, 1, &r);
        dl_conv1d_init(&m.conv2, &m.ps, "conv2", TM_E, TM_F, 4, 1, 2, 1, &r);
        dl_gru_init(&m.gru, &m.ps, "gru", 2 * TM_F, TM_H, &r);
        dl_lstm_init(&m.lstm, &m.ps, "lstm", TM_H, 8, &r);
        int ids[TM_B * TM_DAYS * TM_TOK];
        for (int i = 0; i < TM_B * TM_DAYS * TM_TOK; i++) ids[i] = (int)dl_rng_below(&r, TM_V);
        dl_graph *g = dl_graph_new();
        tiny_step(&m, g, ids);
        dl_graph_reset(g); /* the first reset coalesces the arena's chunks: part of step 1 */
        const int64_t after_first = dl_graph_heap_allocs(g);
        for (int s = 0; s < 3; s++) tiny_step(&m, g, ids);
        assert_int_equal(dl_graph_heap_allocs(g), after_first);
        total = dl_params_count(&m.ps);
        grads[th - 1] = malloc((size_t)total * sizeof(float));
        int64_t off = 0;
        for (int i = 0; i < m.ps.n; i++) {
            memcpy(grads[th - 1] + off, m.ps.items[i]->grad, (size_t)m.ps.items[i]->size * sizeof(float));
            off += m.ps.items[i]->size;
        }
        dl_graph_free(g);
        dl_params_free(&m.ps);
    }
    assert_memory_equal(grads[0], grads[1], (size_t)total * sizeof(float));
    free(grads[0]);
    free(grads[1]);
    dl_set_threads(1);
}

/* ---- bad input: one line naming the op, exit status 1 ------------------------------ */
static void bad_conv_channels(dl_graph *g) {
    dl_conv1d(g, dl_tensor_zeros(g, 3, (int[3]){2, 5, 4}), dl_tensor_zeros(g, 3, (int[3]){3, 2, 5}), NULL, 0, 1);
}
static void bad_conv_short(dl_graph *g) {
    dl_conv1d_max(g, dl_tensor_zeros(g, 3, (int[3]){2, 2, 4}), dl_tensor_zeros(g, 3, (int[3]){3, 3, 4}), NULL, 0, 1);
}
static void bad_gru_weights(dl_graph *g) {
    dl_gru(g, dl_tensor_zeros(g, 3, (int[3]){2, 3, 4}), NULL, dl_tensor_zeros(g, 2, (int[2]){9, 5}),
           dl_tensor_zeros(g, 2, (int[2]){9, 3}), NULL, NULL);
}
static void bad_bag_offsets(dl_graph *g) {
    const int ids[3] = {0, 1, 2}, offs[2] = {0, 4};
    dl_embedding_bag(g, dl_tensor_zeros(g, 2, (int[2]){3, 2}), ids, 3, offs, 2, 0);
}
static void bad_bag_id(dl_graph *g) {
    const int ids[2] = {0, 7}, offs[1] = {0};
    dl_embedding_bag(g, dl_tensor_zeros(g, 2, (int[2]){3, 2}), ids, 2, offs, 1, 1);
}

static void test_bad_input(void **state) {
    (void)state;
    const struct {
        bad_fn fn;
        const char *op;
    } cases[] = {{bad_conv_channels, "dl_conv1d"}, {bad_conv_short, "dl_conv1d_max"}, {bad_gru_weights, "dl_gru"},
                 {bad_bag_offsets, "dl_embedding_bag"}, {bad_bag_id, "dl_embedding_bag"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char err[512];
        const int rc = run_child(cases[i].fn, err, sizeof err);
        if (rc != 1) fail_msg("%s: exit status %d, expected 1 (stderr: %s)", cases[i].op, rc, err);
        const char *nl = strchr(err, '\n');
        if (!strstr(err, cases[i].op) || !nl || nl[1] != 0)
            fail_msg("%s: expected one line naming the op, got '%s'", cases[i].op, err);
    }
}

int main(void) {
    dl_rng_init(&g_rng, 20261206, 14);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv1d),         cmocka_unit_test(test_conv1d_values),
        cmocka_unit_test(test_conv1d_max),     cmocka_unit_test(test_max_over_time),  cmocka_unit_test(test_embedding_bag),
        cmocka_unit_test(test_gru),            cmocka_unit_test(test_lstm),
        cmocka_unit_test(test_gru_cell_matches_layer), cmocka_unit_test(test_threads_and_allocs),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
