/* The graph machinery: arena reuse (zero heap allocations after the first step),
 * 64-byte alignment, grad recording switches, frozen parameters, and bitwise
 * determinism of a small transformer-like training run across thread counts. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "core/internal.h"
#include "dynlab/core.h"

/* B*T*D = 40960 floats: above the parallel threshold, and T = 64 takes the causal row-block path. */
enum { V = 16, B = 8, T = 64, D = 80, H = 4, DH = D / H };

typedef struct model {
    dl_params ps;
    dl_tensor *wte, *wpe, *ln_g, *ln_b, *wqkv, *wo, *w1, *b1, *w2, *head;
} model;

static dl_tensor *param(model *m, const char *name, int r, int c, dl_rng *rng, float std) {
    int sh[2] = {r, c};
    dl_tensor *t = dl_param_new(&m->ps, name, c ? 2 : 1, sh);
    for (int64_t i = 0; i < t->size; i++) t->data[i] = std > 0 ? (float)(std * dl_rng_normal(rng)) : 1.0f;
    return t;
}

static void model_init(model *m) {
    dl_rng rng;
    dl_rng_init(&rng, 3, 0);
    dl_params_init(&m->ps);
    m->wte = param(m, "wte", V, D, &rng, 0.1f);
    m->wpe = param(m, "wpe", T, D, &rng, 0.1f);
    m->ln_g = param(m, "ln.g", D, 0, &rng, 0);
    m->ln_b = param(m, "ln.b", D, 0, &rng, 0.01f);
    m->wqkv = param(m, "wqkv", D, 3 * D, &rng, 0.1f);
    m->wo = param(m, "wo", D, D, &rng, 0.1f);
    m->w1 = param(m, "w1", 4 * D, D, &rng, 0.1f); /* [out, in], used transposed */
    m->b1 = param(m, "b1", 4 * D, 0, &rng, 0.01f);
    m->w2 = param(m, "w2", 4 * D, D, &rng, 0.05f);
    m->head = param(m, "head", V, D, &rng, 0.1f);
}

static dl_tensor *heads(dl_graph *g, dl_tensor *qkv, int which) {
    const int sh4[4] = {B, T, H, DH}, perm[4] = {0, 2, 1, 3};
    dl_tensor *s = dl_slice(g, qkv, 2, which * D, D);
    return dl_permute(g, dl_reshape(g, s, 4, sh4), perm);
}

/* One forward: embeddings, pre-LN attention block with GELU MLP, CE loss. The
 * attention runs twice, through dl_attention (heads split by permutes) and through
 * dl_attention_heads (heads in place), and the two are averaged. */
static dl_tensor *model_loss(dl_graph *g, model *m, const int *tok, const int *tgt) {
    const int sh2[2] = {B, T}, perm[4] = {0, 2, 1, 3}, sh3[3] = {B, T, D};
    dl_tensor *x = dl_add(g, dl_embedding(g, m->wte, tok, 2, sh2), m->wpe);
    dl_tensor *h = dl_layernorm(g, x, m->ln_g, m->ln_b, 1e-5f);
    dl_tensor *qkv = dl_matmul(g, h, m->wqkv, 0, 0);
    dl_tensor *a = dl_attention(g, heads(g, qkv, 0), heads(g, qkv, 1), heads(g, qkv, 2),
                                1.0f / sqrtf((float)DH), 1, NULL);
    a = dl_reshape(g, dl_permute(g, a, perm), 3, sh3);
    dl_tensor *a2 = dl_attention_heads(g, dl_slice(g, qkv, 2, 0, D), dl_slice(g, qkv, 2, D, D),
                                       dl_slice(g, qkv, 2, 2 * D, D), H, 1.0f / sqrtf((float)DH), 1, NULL);
    a = dl_scale(g, dl_add(g, a, a2), 0.5f);
    x = dl_add(g, x, dl_dropout(g, dl_matmul(g, a, m->wo, 0, 0), 0.1f));
    dl_tensor *f = dl_gelu(g, dl_matmul_bias(g, dl_layernorm(g, x, NULL, NULL, 1e-5f), m->w1, m->b1, 1));
    x = dl_add(g, x, dl_matmul(g, f, m->w2, 0, 0));
    dl_tensor *logits = dl_matmul(g, x, m->head, 0, 1);
    return dl_cross_entropy(g, logits, tgt, NULL, -1);
}

static void sgd(model *m, float lr) {
    for (int i = 0; i < m->ps.n; i++) {
        dl_tensor *p = m->ps.items[i];
        if (!p->requires_grad) continue;
        for (int64_t j = 0; j < p->size; j++) p->data[j] -= lr * p->grad[j];
    }
}

/* Train `steps` steps; losses[] gets each step's loss; returns a checksum-free copy of
 * all parameters in `params_out` (malloc'ed). Reports heap allocs/arena bytes per step. */
static void train(int threads, int steps, float *losses, float **params_out, int64_t *allocs,
                  size_t *bytes) {
    dl_set_threads(threads);
    model m;
    model_init(&m);
    dl_graph *g = dl_graph_new();
    dl_graph_set_training(g, 1);
    dl_graph_set_rng(g, 77, 1);
    int tok[B * T], tgt[B * T];
    dl_rng data;
    dl_rng_init(&data, 9, 0);
    for (int i = 0; i < B * T; i++) tok[i] = (int)dl_rng_below(&data, V);
    for (int i = 0; i < B * T; i++) tgt[i] = tok[(i / T) * T + (i % T + 1) % T]; /* next token */
    for (int s = 0; s < steps; s++) {
        dl_params_zero_grad(&m.ps);
        dl_tensor *loss = model_loss(g, &m, tok, tgt);
        dl_backward(g, loss);
        losses[s] = loss->data[0];
        sgd(&m, 0.5f);
        dl_graph_reset(g);
        allocs[s] = dl_graph_heap_allocs(g);
        bytes[s] = dl_graph_arena_bytes(g);
    }
    int64_t n = dl_params_count(&m.ps), k = 0;
    *params_out = malloc((size_t)n * sizeof(float));
    for (int i = 0; i < m.ps.n; i++) {
        memcpy(*params_out + k, m.ps.items[i]->data, (size_t)m.ps.items[i]->size * sizeof(float));
        k += m.ps.items[i]->size;
    }
    dl_graph_free(g);
    dl_params_free(&m.ps);
}

enum { STEPS = 6 };

static void test_no_allocs_after_first_step_and_learning(void **state) {
    (void)state;
    float losses[STEPS], *p;
    int64_t allocs[STEPS];
    size_t bytes[STEPS];
    train(2, STEPS, losses, &p, allocs, bytes);
    free(p);
    for (int s = 1; s < STEPS; s++) {
        if (allocs[s] != allocs[0]) fail_msg("step %d: %lld heap allocations after step 1 (%lld)", s,
                                             (long long)allocs[s], (long long)allocs[0]);
        assert_true(bytes[s] == bytes[0]);
    }
    assert_true(losses[STEPS - 1] < losses[0]); /* the gradients point downhill */
    assert_true(fabs(losses[0] - log(V)) < 0.5);
}

static void test_determinism_across_threads(void **state) {
    (void)state;
    float l1[STEPS], l2[STEPS], l1b[STEPS], *p1, *p2, *p1b;
    int64_t a[STEPS];
    size_t b[STEPS];
    train(1, STEPS, l1, &p1, a, b);
    train(1, STEPS, l1b, &p1b, a, b);
    train(2, STEPS, l2, &p2, a, b);
    assert_memory_equal(l1, l1b, sizeof l1);
    assert_memory_equal(l1, l2, sizeof l1);
    model m;
    model_init(&m);
    const int64_t n = dl_params_count(&m.ps);
    dl_params_free(&m.ps);
    assert_memory_equal(p1, p1b, (size_t)n * sizeof(float));
    assert_memory_equal(p1, p2, (size_t)n * sizeof(float));
    free(p1);
    free(p1b);
    free(p2);
    dl_set_threads(0);
}

static void test_arena_alignment_and_growth(void **state) {
    (void)state;
    dl_graph *g = dl_graph_new();
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 200; i++) {
            void *q = dl_graph_alloc(g, (size_t)(i * 37 + 1) * (i % 5 == 0 ? 4096 : 1));
            assert_true(((uintptr_t)q & 63) == 0);
            memset(q, 1, (size_t)(i * 37 + 1) * (i % 5 == 0 ? 4096 : 1));
        }
        int64_t before = dl_graph_heap_allocs(g);
        dl_graph_reset(g);
        if (round > 0) assert_true(dl_graph_heap_allocs(g) == before); /* same pattern: reused */
    }
    int sh[2] = {3, 5};
    dl_tensor *z = dl_tensor_zeros(g, 2, sh);
    for (int i = 0; i < 15; i++) assert_true(z->data[i] == 0.0f);
    assert_true(((uintptr_t)z->data & 63) == 0);
    dl_graph_free(g);
}

/* Large buffers (parameters, arena chunks, scratch, optimizer state): 2 MB-aligned
 * from 2 MB on, so that their whole huge pages can be advised; every byte usable. */
static void test_big_alloc(void **state) {
    (void)state;
    const size_t mb2 = (size_t)2 << 20, sizes[] = {0, 1, 63, 4096, mb2 - 1, mb2, mb2 + 1, 5 * mb2 + 17};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        unsigned char *p = dl_alloc_big(sizes[i]);
        assert_non_null(p);
        assert_true(((uintptr_t)p & 63) == 0);
        if (sizes[i] >= mb2 && dl_hugepages_on()) assert_true(((uintptr_t)p & (mb2 - 1)) == 0);
        memset(p, 0xA5, sizes[i]);
        if (sizes[i]) assert_true(p[sizes[i] - 1] == 0xA5);
        free(p);
    }
}

static void test_grad_switches_and_frozen(void **state) {
    (void)state;
    dl_params ps;
    dl_params_init(&ps);
    int sh[1] = {4};
    dl_tensor *w = dl_param_new(&ps, "layer.w", 1, sh), *u = dl_param_new(&ps, "other.u", 1, sh);
    assert_ptr_equal(dl_params_find(&ps, "other.u"), u);
    assert_null(dl_params_find(&ps, "nope"));
    assert_int_equal(dl_params_count(&ps), 8);
    for (int i = 0; i < 4; i++) w->data[i] = u->data[i] = (float)i;
    dl_graph *g = dl_graph_new();
    /* Grad disabled: nothing is recorded, outputs need no grad. */
    dl_graph_set_grad_enabled(g, 0);
    dl_tensor *y = dl_sum_all(g, dl_mul(g, w, u));
    assert_false(y->requires_grad);
    dl_backward(g, y);
    for (int i = 0; i < 4; i++) assert_true(w->grad[i] == 0.0f);
    dl_graph_set_grad_enabled(g, 1);
    /* Frozen parameter: no gradient, the other still gets one. */
    dl_params_set_trainable(&ps, "layer.", 0);
    y = dl_sum_all(g, dl_mul(g, w, u));
    assert_true(y->requires_grad);
    dl_backward(g, y);
    for (int i = 0; i < 4; i++) {
        assert_true(w->grad[i] == 0.0f);
        assert_true(u->grad[i] == (float)i);
    }
    /* Constants only: no record. */
    dl_graph_reset(g);
    dl_tensor *c = dl_tensor_zeros(g, 1, sh);
    assert_false(dl_exp(g, c)->requires_grad);
    dl_params_set_trainable(&ps, "", 1);
    assert_true(w->requires_grad);
    dl_params_zero_grad(&ps);
    assert_true(u->grad[3] == 0.0f);
    dl_graph_free(g);
    dl_params_free(&ps);
}

/* Activation gradients are recycled during backward (NULL afterwards); two backward
 * calls on one graph add their parameter gradients. */
static void test_grad_recycling_and_two_losses(void **state) {
    (void)state;
    dl_params ps;
    dl_params_init(&ps);
    int sh[2] = {3, 4};
    dl_tensor *w = dl_param_new(&ps, "w", 2, sh);
    for (int i = 0; i < 12; i++) w->data[i] = 0.1f * (float)i - 0.5f;
    dl_graph *g = dl_graph_new();
    dl_tensor *h = dl_tanh(g, w);
    dl_tensor *l1 = dl_sum_all(g, dl_square(g, h));
    dl_tensor *l2 = dl_mean_all(g, dl_exp(g, h));
    dl_backward(g, l1);
    assert_null(h->grad);
    float g1[12];
    for (int i = 0; i < 12; i++) {
        const float t = tanhf(w->data[i]);
        g1[i] = 2.0f * t * (1.0f - t * t);
        assert_true(fabsf(w->grad[i] - g1[i]) < 1e-5f);
    }
    dl_backward(g, l2); /* adds d l2 / dw; h's gradient starts from zero again */
    for (int i = 0; i < 12; i++) {
        const float t = tanhf(w->data[i]);
        const float g2 = expf(t) * (1.0f - t * t) / 12.0f;
        assert_true(fabsf(w->grad[i] - (g1[i] + g2)) < 1e-5f);
    }
    dl_graph_free(g);
    dl_params_free(&ps);
}

static void test_threads_api(void **state) {
    (void)state;
    dl_set_threads(1);
    assert_int_equal(dl_get_threads(), 1);
    dl_set_threads(2);
    assert_int_equal(dl_get_threads(), 2);
    dl_set_threads(0);
    assert_true(dl_get_threads() >= 1);
}

int main(void) {
    /* the huge-page path runs here even where the suite turns it off (scripts/test.sh) */
    setenv("DYNLAB_HUGEPAGES", "1", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_allocs_after_first_step_and_learning),
        cmocka_unit_test(test_determinism_across_threads),
        cmocka_unit_test(test_arena_alignment_and_growth),
        cmocka_unit_test(test_big_alloc),
        cmocka_unit_test(test_grad_switches_and_frozen),
        cmocka_unit_test(test_grad_recycling_and_two_losses),
        cmocka_unit_test(test_threads_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
