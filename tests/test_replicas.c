/* Replicas (core.h): splitting a batch into micro-batches that run side by side
 * must give the full-batch gradient (up to float rounding), the same bits for any
 * thread count, overwrite whatever the gradient buffers held before, leave frozen
 * parameters alone, zero trainable parameters no replica used, and allocate
 * nothing on the heap after the first step. dl_replicas_step_update (the
 * optimizer fused into the gradient sum) must give the bits of the step
 * followed by dl_optim_step. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "dynlab/core.h"
#include "dynlab/nn.h"
#include "dynlab/optim.h"

enum { VOCAB = 32, T = 16, B = 8 };

typedef struct fixture {
    dl_params ps;
    dl_gpt model;
    int tokens[B * T], targets[B * T];
    dl_tensor *unused; /* trainable, never touched by the loss */
    dl_tensor *big;    /* NULL, or a parameter of several gradient-sum chunks in the loss */
} fixture;

static void fixture_init(fixture *f) {
    dl_gpt_config cfg = {.vocab = VOCAB, .seq_len = T, .d_model = 32, .heads = 2, .layers = 2,
                         .mlp_mult = 4, .dropout = 0.0f};
    dl_rng rng;
    dl_rng_init(&rng, 7, 0);
    dl_params_init(&f->ps);
    dl_gpt_init(&f->model, &f->ps, &cfg, &rng);
    const int sh[1] = {5};
    f->unused = dl_param_new(&f->ps, "unused", 1, sh);
    f->big = NULL;
    for (int i = 0; i < B * T; i++) {
        f->tokens[i] = (int)dl_rng_below(&rng, VOCAB);
        f->targets[i] = (int)dl_rng_below(&rng, VOCAB);
    }
}

static void fixture_free(fixture *f) {
    dl_gpt_free(&f->model);
    dl_params_free(&f->ps);
}

static float replica_body(dl_graph *g, int r, int n, void *ctx) {
    fixture *f = ctx;
    const int b0 = B * r / n, b1 = B * (r + 1) / n;
    dl_tensor *loss = dl_gpt_loss(g, &f->model, f->tokens + b0 * T, f->targets + b0 * T, b1 - b0, T);
    if (f->big) loss = dl_add(g, loss, dl_mean_all(g, dl_square(g, f->big)));
    dl_backward(g, loss);
    return loss->data[0];
}

/* Every parameter gradient, concatenated. */
static float *grads_copy(const dl_params *ps) {
    int64_t n = dl_params_count(ps), off = 0;
    float *out = malloc((size_t)n * sizeof(float));
    assert_non_null(out);
    for (int i = 0; i < ps->n; i++) {
        memcpy(out + off, ps->items[i]->grad, (size_t)ps->items[i]->size * sizeof(float));
        off += ps->items[i]->size;
    }
    return out;
}

static void fill_grads(dl_params *ps, float v) {
    for (int i = 0; i < ps->n; i++)
        for (int64_t j = 0; j < ps->items[i]->size; j++) ps->items[i]->grad[j] = v;
}

/* The reference: one graph, the whole batch. */
static float full_batch(fixture *f, float **grads) {
    dl_graph *g = dl_graph_new();
    dl_params_zero_grad(&f->ps);
    dl_tensor *loss = dl_gpt_loss(g, &f->model, f->tokens, f->targets, B, T);
    float lv = loss->data[0];
    dl_backward(g, loss);
    *grads = grads_copy(&f->ps);
    dl_graph_free(g);
    return lv;
}

static float replicated(fixture *f, int n, int threads, float **grads) {
    const int saved = dl_get_threads();
    dl_set_threads(threads);
    dl_replicas *rp = dl_replicas_new(&f->ps, n);
    fill_grads(&f->ps, 123.0f); /* stale values must not leak into the result */
    float lv = dl_replicas_step(rp, replica_body, f, 1.0f / (float)n);
    *grads = grads_copy(&f->ps);
    dl_replicas_free(rp);
    dl_set_threads(saved);
    return lv;
}

static void test_matches_full_batch(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f);
    float *ref, *got;
    const float l_ref = full_batch(&f, &ref);
    const int64_t n = dl_params_count(&f.ps);
    for (int reps = 1; reps <= 4; reps *= 2) {
        const float l = replicated(&f, reps, 2, &got);
        assert_true(fabsf(l - l_ref) <= 1e-5f * fabsf(l_ref));
        const double err = tu_max_rel_err(got, ref, (long)n);
        if (err > 1e-5) fail_msg("%d replicas: gradient differs from the full batch by %.3g", reps, err);
        free(got);
    }
    free(ref);
    fixture_free(&f);
}

static void test_same_bits_any_thread_count(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f);
    float *one, *two;
    const float l1 = replicated(&f, 2, 1, &one), l2 = replicated(&f, 2, 2, &two);
    assert_memory_equal(&l1, &l2, sizeof l1);
    assert_memory_equal(one, two, (size_t)dl_params_count(&f.ps) * sizeof(float));
    free(one);
    free(two);
    fixture_free(&f);
}

static void test_frozen_and_unused(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f);
    dl_params_set_trainable(&f.ps, "blocks.0.", 0);
    int frozen = 0;
    float *g;
    replicated(&f, 2, 2, &g);
    for (int i = 0; i < f.ps.n; i++) {
        const dl_tensor *t = f.ps.items[i];
        const float want_frozen = 123.0f;
        for (int64_t j = 0; j < t->size; j++) {
            if (!t->requires_grad) {
                assert_true(t->grad[j] == want_frozen); /* frozen: buffer left as it was */
            } else if (t == f.unused) {
                assert_true(t->grad[j] == 0.0f);
            }
        }
        frozen += !t->requires_grad;
    }
    assert_true(frozen > 0);
    free(g);
    fixture_free(&f);
}

static void test_no_heap_allocations_after_first_step(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f);
    dl_replicas *rp = dl_replicas_new(&f.ps, 2);
    assert_int_equal(dl_replicas_count(rp), 2);
    dl_replicas_step(rp, replica_body, &f, 0.5f);
    dl_replicas_reset(rp);
    const int64_t after_first = dl_replicas_heap_allocs(rp);
    for (int s = 0; s < 3; s++) {
        dl_replicas_step(rp, replica_body, &f, 0.5f);
        dl_replicas_reset(rp);
    }
    assert_int_equal(dl_replicas_heap_allocs(rp), after_first);
    assert_true(dl_replicas_arena_bytes(rp) > 0);
    dl_replicas_free(rp);
    fixture_free(&f);
}


/* Every parameter, gradient and optimizer moment of a run, concatenated. */
static float *state_copy(const fixture *f, const dl_optim *o, int64_t *len) {
    int64_t n = 0;
    for (int i = 0; i < f->ps.n; i++) n += 4 * f->ps.items[i]->size;
    float *out = calloc((size_t)n, sizeof(float)), *d = out;
    assert_non_null(out);
    for (int i = 0; i < f->ps.n; i++) {
        const dl_tensor *t = f->ps.items[i];
        const size_t bytes = (size_t)t->size * sizeof(float);
        memcpy(d, t->data, bytes), d += t->size;
        if (t->grad) memcpy(d, t->grad, bytes);
        d += t->size;
        if (i < o->n_state && o->m[i]) memcpy(d, o->m[i], bytes);
        d += t->size;
        if (i < o->n_state && o->v[i]) memcpy(d, o->v[i], bytes);
        d += t->size;
    }
    *len = n;
    return out;
}

/* Three steps of n replicas on `threads` threads with optimizer `kind`, the
 * update separate (fused = 0) or fused into the gradient sum (fused = 1). */
static float *train_three(dl_opt_kind kind, int n, int threads, int fused, int64_t *len) {
    fixture f;
    fixture_init(&f);
    const int big_shape[1] = {40000}; /* three chunks of the gradient sum */
    f.big = dl_param_new(&f.ps, "big", 1, big_shape);
    dl_rng rng;
    dl_rng_init(&rng, 11, 0);
    dl_init_normal(f.big, &rng, 1.0f);
    dl_params_set_trainable(&f.ps, "blocks.0.", 0); /* a frozen block: never updated */
    dl_optim o;
    dl_optim_init(&o, &f.ps, kind, 1e-2f);
    o.momentum = kind == DL_OPT_SGD ? 0.9f : 0.0f;
    o.weight_decay = 0.05f;
    dl_replicas *rp = dl_replicas_new(&f.ps, n);
    const int saved_threads = omp_get_max_threads();
    omp_set_num_threads(threads);
    for (int s = 0; s < 3; s++) {
        const float lr = 1e-2f * (float)(s + 1); /* a schedule: the factors must follow it */
        if (fused) {
            dl_replicas_step_update(rp, replica_body, &f, 1.0f / (float)n, &o, lr);
        } else {
            dl_replicas_step(rp, replica_body, &f, 1.0f / (float)n);
            dl_optim_step(&o, lr);
        }
    }
    omp_set_num_threads(saved_threads);
    assert_int_equal(o.step, 3);
    float *out = state_copy(&f, &o, len);
    dl_replicas_free(rp);
    dl_optim_free(&o);
    fixture_free(&f);
    return out;
}

static void test_fused_update_same_bits(void **state) {
    (void)state;
    const dl_opt_kind kinds[3] = {DL_OPT_SGD, DL_OPT_ADAM, DL_OPT_ADAMW};
    for (int k = 0; k < 3; k++)
        for (int n = 1; n <= 2; n++)
            for (int threads = 1; threads <= 2; threads++) {
                int64_t la, lb;
                float *a = train_three(kinds[k], n, threads, 0, &la);
                float *b = train_three(kinds[k], n, threads, 1, &lb);
                assert_int_equal(la, lb);
                if (memcmp(a, b, (size_t)la * sizeof(float)))
                    fail_msg("optimizer %d, %d replicas, %d threads: the fused update differs", k, n, threads);
                free(a);
                free(b);
            }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_full_batch),
        cmocka_unit_test(test_same_bits_any_thread_count),
        cmocka_unit_test(test_frozen_and_unused),
        cmocka_unit_test(test_no_heap_allocations_after_first_step),
        cmocka_unit_test(test_fused_update_same_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
