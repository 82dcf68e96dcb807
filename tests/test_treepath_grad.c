/* treepath: the fused merged-KQ attention op (attn.c) against central finite
 * differences, through the autograd tape with the training loss. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "treepath/train.h"

/* Training loss (mean over trees of sum over steps of 1/2||out-y||^2), in double. */
static double loss_of(const tp_model *m, const tp_batch *b) {
    size_t no = (size_t)b->n_q * m->out_dim;
    float *out = malloc(sizeof(float) * no), *tg = malloc(sizeof(float) * no);
    tp_attn_forward(m, b, out, NULL);
    tp_targets(m, b, tg);
    double l = tp_batch_loss(m, b, out, tg);
    free(out);
    free(tg);
    return l;
}

static void check_task(int task, int S, int depth, int shared) {
    dl_params ps;
    dl_params_init(&ps);
    tp_model m;
    tp_model_init(&m, &ps, task, S);
    if (shared) tp_model_share_values(&m); /* forward.head_values=shared */
    dl_rng r;
    dl_rng_init(&r, 11, (uint64_t)task);
    /* random weights of order 1 so every softmax is far from uniform */
    for (int h = 0; h < m.n_heads; h++) {
        for (int i = 0; i < S * S; i++) m.B[h]->data[i] = (float)(dl_rng_normal(&r) * 0.7);
        for (int i = 0; i < TP_NTYPES * TP_NTYPES; i++)
            m.T[h]->data[i] = (float)(dl_rng_normal(&r) * 0.7);
    }
    int n_ex = 6;
    tp_example *ex = malloc(sizeof(tp_example) * n_ex);
    for (int i = 0; i < n_ex; i++) {
        tp_tree t;
        if (i % 2) tp_tree_perfect(&t, depth, S, &r);
        else tp_tree_random(&t, S, 3, 2, 0, &r);
        tp_example_build(&ex[i], &t, task, &r);
    }
    tp_batch b;
    tp_batch_init(&b, ex, n_ex);
    /* analytic gradient through the tape, exactly as train.c builds it */
    dl_graph *g = dl_graph_new();
    size_t no = (size_t)b.n_q * m.out_dim;
    float *tg = malloc(sizeof(float) * no);
    tp_targets(&m, &b, tg);
    dl_tensor *out = tp_attn_op(g, &m, &b, NULL);
    int shape[2] = {b.n_q, m.out_dim};
    dl_tensor *loss = dl_scale(g, dl_mse(g, out, dl_tensor_wrap(g, tg, 2, shape)),
                               (float)(0.5 * (double)no / n_ex));
    assert_true(fabs(loss->data[0] - loss_of(&m, &b)) < 1e-4 * (1 + fabs(loss->data[0])));
    dl_params_zero_grad(&ps);
    dl_backward(g, loss);
    /* central differences on every entry touched by the batch plus a few others */
    double worst = 0, scale = 0;
    for (int p = 0; p < ps.n; p++) {
        dl_tensor *t = ps.items[p];
        for (int64_t i = 0; i < t->size; i++) {
            if (t->grad[i] == 0 && i % 7) continue;
            float keep = t->data[i];
            const float eps = 1e-2f;
            t->data[i] = keep + eps;
            double lp = loss_of(&m, &b);
            t->data[i] = keep - eps;
            double lm = loss_of(&m, &b);
            t->data[i] = keep;
            double fd = (lp - lm) / (2 * eps);
            double err = fabs(fd - t->grad[i]);
            if (err > worst) worst = err;
            if (fabs(fd) > scale) scale = fabs(fd);
        }
    }
    /* float32 forward: FD noise ~1e-7/eps, truncation ~eps^2 */
    assert_true(scale > 1e-3);
    assert_true(worst <= 2e-3 * scale);
    dl_graph_free(g);
    free(tg);
    tp_batch_free(&b);
    free(ex);
    dl_params_free(&ps);
}

static void test_grad_backward(void **state) { (void)state; check_task(TP_TASK_BACKWARD, 31, 3, 0); }
static void test_grad_forward(void **state) { (void)state; check_task(TP_TASK_FORWARD, 25, 3, 0); }
static void test_grad_nocot(void **state) { (void)state; check_task(TP_TASK_NOCOT, 25, 2, 0); }
static void test_grad_forward_shared(void **state) { (void)state; check_task(TP_TASK_FORWARD, 25, 3, 1); }

/* At zero init the attention is uniform over the context and the backward
 * gradient of B has the closed form sum_q sum_j (1/n)(g_j - gbar) e_{x_q} e_{x_j}^T. */
static void test_zero_init_uniform(void **state) {
    (void)state;
    dl_params ps;
    dl_params_init(&ps);
    tp_model m;
    tp_model_init(&m, &ps, TP_TASK_FORWARD, 25);
    dl_rng r;
    dl_rng_init(&r, 4, 4);
    tp_tree t;
    tp_tree_perfect(&t, 3, 25, &r);
    tp_example *e = malloc(sizeof *e);
    tp_example_build(e, &t, TP_TASK_FORWARD, &r);
    for (int k = 0; k < e->n_steps; k++) {
        float a[TP_MAX_SEQ];
        for (int h = 0; h < 2; h++) {
            tp_head_attend(&m, h, e->tok, e->ctx_len[k], a);
            for (int j = 0; j < e->ctx_len[k]; j++)
                assert_true(fabs(a[j] - 1.0 / e->ctx_len[k]) < 1e-7);
        }
    }
    free(e);
    dl_params_free(&ps);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_backward),
        cmocka_unit_test(test_grad_forward),
        cmocka_unit_test(test_grad_forward_shared),
        cmocka_unit_test(test_grad_nocot),
        cmocka_unit_test(test_zero_init_uniform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
