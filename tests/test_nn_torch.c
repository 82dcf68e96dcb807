/* Modules against PyTorch: causal self-attention, cross-attention (plain and
 * causal), the pre-LN transformer block and the full GPT decoder.
 *
 * The test builds each module with random weights, writes weights and inputs
 * to a safetensors file, runs tests/torch_modules.py (Debian python3-torch,
 * float64 reference built from plain torch ops), reads its outputs and
 * gradients back, and requires for every output, kept attention-weight array
 * and parameter/input gradient a relative error below 1e-4 (max abs
 * difference / max abs reference value). The Python side reads the C-written
 * file with a strict safetensors reader, so this also checks the format. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "torch_compare.h"
#include "dynlab/checkpoint.h"
#include "dynlab/nn.h"

#define D 8
#define HEADS 2
#define B 2
#define T 5
#define S 7
#define TOL 1e-4

static const dl_gpt_config GPT_CFG = {.vocab = 11, .seq_len = 6, .d_model = D, .heads = HEADS,
                                      .layers = 2, .mlp_mult = 4, .dropout = 0.0f};
enum { GPT_B = 2, GPT_T = 6 };

typedef struct {
    dl_params ps;
    dl_mha attn;
    dl_block blk;
    dl_gpt gpt;
    dl_tensor *x, *kv, *R;
    dl_tensor *out;
    int64_t tokens[GPT_B * GPT_T], targets[GPT_B * GPT_T];
} case_t;

/* Random weights large enough that attention is far from uniform. */
static void randomize(dl_params *ps, dl_rng *r) {
    for (int i = 0; i < ps->n; i++) {
        dl_tensor *t = ps->items[i];
        const char *n = t->name;
        size_t L = strlen(n);
        int is_ln = strstr(n, ".ln") && L > 7 && strcmp(n + L - 7, ".weight") == 0;
        if (strstr(n, "ln_f.weight")) is_ln = 1;
        for (int64_t j = 0; j < t->size; j++)
            t->data[j] = is_ln ? 1.0f + 0.2f * (float)dl_rng_normal(r) : 0.5f * (float)dl_rng_normal(r);
    }
}

static dl_tensor *input(dl_params *ps, const char *name, int ndim, const int *shape, int trainable) {
    dl_tensor *t = dl_param_new(ps, name, ndim, shape);
    if (!trainable) t->requires_grad = 0;
    return t;
}

static void add_all(dl_st_writer *w, const dl_params *ps) {
    for (int i = 0; i < ps->n; i++) dl_st_add_f32(w, ps->items[i]->name, ps->items[i]->data, ps->items[i]->ndim, ps->items[i]->shape);
}

/* Relative error max|got - want| / max(max|want|, floor). The floor matters
 * only for gradients that vanish in exact arithmetic: the key bias (softmax is
 * invariant to adding q.b_k to every score of a query) leaves pure rounding
 * noise (~1e-8 in float32, ~1e-17 in the float64 reference): its error is
 * measured against the largest gradient of the same case; every other tensor
 * against its own largest value, floored at 1e-3 of that. */
static double g_floor = 1e-6;
static tc_worst g_worst;

static void compare(const dl_st_file *f, const char *key, const float *got, int64_t n) {
    /* The key bias's gradient is exactly zero: compare against the case's scale. */
    size_t kl = strlen(key);
    int zero_grad = kl > 7 && strcmp(key + kl - 7, ".k.bias") == 0;
    tc_compare(f, key, got, n, zero_grad ? g_floor * 1e3 : g_floor, TOL, &g_worst);
}

/* Largest |reference gradient| under "<prefix>.grad." (sets the floor above). */
static void set_floor(const dl_st_file *f, const char *prefix) {
    char pre[64];
    snprintf(pre, sizeof pre, "%s.grad.", prefix);
    double mx = 0;
    for (int i = 0; i < dl_st_count(f); i++) {
        const char *name = dl_st_name(f, i);
        if (strncmp(name, pre, strlen(pre)) != 0) continue;
        int nd, sh[4];
        const float *w = dl_st_get_f32(f, name, &nd, sh);
        int64_t n = 1;
        for (int d = 0; d < nd; d++) n *= sh[d];
        for (int64_t j = 0; j < n; j++) mx = fmax(mx, fabs((double)w[j]));
    }
    g_floor = fmax(1e-6, 1e-3 * mx);
}

/* Every trainable parameter of ps (named "<prefix>.<rest>") against "<prefix>.grad.<rest>". */
static int compare_grads(const dl_st_file *f, const dl_params *ps, const char *prefix) {
    char key[300];
    int n = 0;
    size_t pl = strlen(prefix);
    for (int i = 0; i < ps->n; i++) {
        const dl_tensor *t = ps->items[i];
        if (!t->requires_grad) continue;
        assert_non_null(t->grad);
        snprintf(key, sizeof key, "%s.grad.%s", prefix, t->name + pl + 1);
        compare(f, key, t->grad, t->size);
        n++;
    }
    return n;
}

static void test_modules_match_torch(void **st) {
    (void)st;
    const char *dir = tu_tmpdir("nntorch");
    assert_non_null(dir);
    char in_path[600], out_path[600], err[512];
    snprintf(in_path, sizeof in_path, "%s/in.safetensors", dir);
    snprintf(out_path, sizeof out_path, "%s/out.safetensors", dir);

    dl_rng r;
    dl_rng_init(&r, 2024, 7);
    dl_graph *g = dl_graph_new();
    dl_st_writer *w = dl_st_writer_new();
    int sx[3] = {B, T, D}, skv[3] = {B, S, D};

    /* Attention: self (causal), cross, causal cross. */
    const char *attn_prefix[3] = {"self", "cross", "xcausal"};
    case_t att[3];
    for (int c = 0; c < 3; c++) {
        case_t *k = &att[c];
        char name[64];
        dl_params_init(&k->ps);
        snprintf(name, sizeof name, "%s.attn", attn_prefix[c]);
        dl_mha_init(&k->attn, &k->ps, name, D, HEADS, c != 1, &r);
        k->attn.keep_weights = 1;
        snprintf(name, sizeof name, "%s.x", attn_prefix[c]);
        k->x = input(&k->ps, name, 3, sx, 1);
        k->kv = NULL;
        if (c > 0) {
            snprintf(name, sizeof name, "%s.kv", attn_prefix[c]);
            k->kv = input(&k->ps, name, 3, skv, 1);
        }
        snprintf(name, sizeof name, "%s.R", attn_prefix[c]);
        k->R = input(&k->ps, name, 3, sx, 0);
        randomize(&k->ps, &r);
        add_all(w, &k->ps);
    }
    /* Transformer block. */
    case_t blk;
    dl_params_init(&blk.ps);
    dl_block_init(&blk.blk, &blk.ps, "block.blk", D, HEADS, 4 * D, 1, 0.0f, &r);
    blk.x = input(&blk.ps, "block.x", 3, sx, 1);
    blk.R = input(&blk.ps, "block.R", 3, sx, 0);
    randomize(&blk.ps, &r);
    add_all(w, &blk.ps);
    /* GPT: parameter names get a "gpt." prefix in the exchange file only. */
    case_t gp;
    dl_params_init(&gp.ps);
    dl_gpt_init(&gp.gpt, &gp.ps, &GPT_CFG, &r);
    randomize(&gp.ps, &r);
    for (int i = 0; i < gp.ps.n; i++) {
        char name[300];
        snprintf(name, sizeof name, "gpt.%s", gp.ps.items[i]->name);
        dl_st_add_f32(w, name, gp.ps.items[i]->data, gp.ps.items[i]->ndim, gp.ps.items[i]->shape);
    }
    int tok[GPT_B * GPT_T], tgt[GPT_B * GPT_T];
    for (int i = 0; i < GPT_B * GPT_T; i++) {
        tok[i] = (int)dl_rng_below(&r, (uint32_t)GPT_CFG.vocab);
        tgt[i] = (int)dl_rng_below(&r, (uint32_t)GPT_CFG.vocab);
        gp.tokens[i] = tok[i];
        gp.targets[i] = tgt[i];
    }
    dl_st_add_i64(w, "gpt.tokens", gp.tokens, GPT_B * GPT_T);
    dl_st_add_i64(w, "gpt.targets", gp.targets, GPT_B * GPT_T);
    char cfg[256];
    snprintf(cfg, sizeof cfg,
             "{\"heads\":%d,\"layers\":%d,\"gpt_B\":%d,\"gpt_T\":%d}", HEADS, GPT_CFG.layers, GPT_B, GPT_T);
    dl_st_add_meta(w, "config", cfg);
    if (dl_st_write(w, in_path, err, sizeof err)) fail_msg("%s", err);
    dl_st_writer_free(w);

    /* C forward + backward, one graph per case (a backward walks its whole tape). */
    dl_graph *ga[5];
    for (int c = 0; c < 3; c++) {
        case_t *k = &att[c];
        ga[c] = dl_graph_new();
        dl_params_zero_grad(&k->ps);
        k->out = dl_mha_fwd(ga[c], &k->attn, k->x, k->kv);
        dl_backward(ga[c], dl_sum_all(ga[c], dl_mul(ga[c], k->out, k->R)));
    }
    ga[3] = dl_graph_new();
    dl_params_zero_grad(&blk.ps);
    blk.out = dl_block_fwd(ga[3], &blk.blk, blk.x);
    dl_backward(ga[3], dl_sum_all(ga[3], dl_mul(ga[3], blk.out, blk.R)));
    ga[4] = dl_graph_new();
    dl_params_zero_grad(&gp.ps);
    gp.out = dl_gpt_fwd(ga[4], &gp.gpt, tok, GPT_B, GPT_T);
    int s2[2] = {GPT_B * GPT_T, GPT_CFG.vocab};
    dl_tensor *loss = dl_cross_entropy(ga[4], dl_reshape(ga[4], gp.out, 2, s2), tgt, NULL, -1);
    dl_backward(ga[4], loss);
    /* dl_gpt_loss is the same computation (no grad recorded here). */
    dl_graph_set_grad_enabled(g, 0);
    dl_tensor *loss2 = dl_gpt_loss(g, &gp.gpt, tok, tgt, GPT_B, GPT_T);
    assert_true(fabsf(loss2->data[0] - loss->data[0]) <= 1e-6f * fabsf(loss->data[0]));

    /* PyTorch reference. */
    int rc = tu_system("/usr/bin/python3 %s/tests/torch_modules.py %s %s", tu_source_dir(), in_path, out_path);
    if (rc != 0) fail_msg("tests/torch_modules.py failed (exit %d): needs Debian's python3-torch", rc);
    dl_st_file *f = dl_st_open(out_path, err, sizeof err);
    if (!f) fail_msg("%s", err);

    int n_grads = 0;
    char key[128];
    for (int c = 0; c < 3; c++) {
        case_t *k = &att[c];
        snprintf(key, sizeof key, "%s.out", attn_prefix[c]);
        compare(f, key, k->out->data, k->out->size);
        snprintf(key, sizeof key, "%s.weights", attn_prefix[c]);
        int s_len = c == 0 ? T : S;
        assert_int_equal(k->attn.w_b, B);
        assert_int_equal(k->attn.w_t, T);
        assert_int_equal(k->attn.w_s, s_len);
        compare(f, key, k->attn.weights, (int64_t)B * HEADS * T * s_len);
        set_floor(f, attn_prefix[c]);
        n_grads += compare_grads(f, &k->ps, attn_prefix[c]);
        g_floor = 1e-6;
    }
    compare(f, "block.out", blk.out->data, blk.out->size);
    set_floor(f, "block");
    n_grads += compare_grads(f, &blk.ps, "block");
    g_floor = 1e-6;
    compare(f, "gpt.out", gp.out->data, gp.out->size);
    compare(f, "gpt.loss", loss->data, 1);
    /* GPT parameters carry no prefix in C: compare by name directly. */
    set_floor(f, "gpt");
    for (int i = 0; i < gp.ps.n; i++) {
        const dl_tensor *t = gp.ps.items[i];
        snprintf(key, sizeof key, "gpt.grad.%s", t->name);
        compare(f, key, t->grad, t->size);
        n_grads++;
    }
    /* 3 attention cases (8 weights + inputs), block (16 + x), GPT (all). */
    assert_true(n_grads >= 3 * 9 + 17 + gp.ps.n);
    print_message("compared %d gradients and 8 outputs; worst relative error %.2e (%s), limit %g\n",
                  n_grads, g_worst.err, g_worst.key, TOL);
    dl_st_close(f);

    for (int c = 0; c < 3; c++) {
        dl_mha_free(&att[c].attn);
        dl_params_free(&att[c].ps);
    }
    dl_block_free(&blk.blk);
    dl_params_free(&blk.ps);
    dl_gpt_free(&gp.gpt);
    dl_params_free(&gp.ps);
    for (int c = 0; c < 5; c++) dl_graph_free(ga[c]);
    dl_graph_free(g);
}

/* GPT-2 initialisation statistics and determinism (same seed => same weights). */
static void test_gpt_init(void **st) {
    (void)st;
    dl_gpt_config cfg = {.vocab = 50, .seq_len = 32, .d_model = 64, .heads = 4, .layers = 4, .mlp_mult = 4};
    dl_params a, b;
    dl_params_init(&a);
    dl_params_init(&b);
    dl_gpt ga, gb;
    dl_rng r1, r2;
    dl_rng_init(&r1, 5, 0);
    dl_rng_init(&r2, 5, 0);
    dl_gpt_init(&ga, &a, &cfg, &r1);
    dl_gpt_init(&gb, &b, &cfg, &r2);
    assert_int_equal(a.n, b.n);
    for (int i = 0; i < a.n; i++) {
        assert_string_equal(a.items[i]->name, b.items[i]->name);
        assert_memory_equal(a.items[i]->data, b.items[i]->data, (size_t)a.items[i]->size * sizeof(float));
    }
    /* Count: embeddings + per layer (2 LN + 4 linear w/b + MLP) + ln_f + head. */
    int64_t d = 64, h = 256;
    int64_t per_layer = 4 * d + 4 * (d * d + d) + (d * h + h) + (h * d + d);
    assert_int_equal(dl_params_count(&a), 50 * d + 32 * d + 4 * per_layer + 2 * d + 50 * d);
    /* Residual projections use std 0.02/sqrt(2L) = 0.00707. */
    dl_tensor *p = dl_params_find(&a, "blocks.2.mlp.proj.weight");
    assert_non_null(p);
    double ss = 0;
    for (int64_t i = 0; i < p->size; i++) ss += (double)p->data[i] * p->data[i];
    double sd = sqrt(ss / (double)p->size);
    assert_true(fabs(sd - 0.02 / sqrt(8.0)) < 0.0007);
    assert_non_null(dl_params_find(&a, "head.weight"));
    assert_null(dl_params_find(&a, "head.bias"));
    assert_true(dl_gpt_train_flops(&cfg, 8, 32) > 6.0 * (double)dl_params_count(&a) * 8 * 32 * 0.5);
    dl_gpt_free(&ga);
    dl_gpt_free(&gb);
    dl_params_free(&a);
    dl_params_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modules_match_torch),
        cmocka_unit_test(test_gpt_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
