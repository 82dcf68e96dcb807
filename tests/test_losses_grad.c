/* Finite-difference gradient checks of the losses (include/dynlab/losses.h):
 * BCE with logits (with and without weights, large logits), sigmoid focal loss
 * (gamma 0, 2, 1.5; alpha on/off), varifocal loss, L1 (both arguments), GIoU (both
 * box formats, overlapping and disjoint pairs, gradient to both boxes), NT-Xent
 * and the Gaussian KL. The checker is tests/fdcheck.h. Plus values: closed forms
 * for a few cases, and bad input ends the program with one line naming the op. */
#include "fdcheck.h"
#include "dynlab/losses.h"

#define N_EL 12
static float Y01[N_EL], YSOFT[N_EL], WTS[N_EL], LABEL[N_EL], SCORE[N_EL];

#define CHECK(name, fn, ctx, n, ...)                                                       \
    do {                                                                                   \
        const gc_input spec_[] = {__VA_ARGS__};                                            \
        double e_ = grad_check(name, fn, ctx, n, spec_, 1e-2, 0);                          \
        if (e_ > TOL) fail_msg("%s: gradient error %.3g > %.3g", name, e_, TOL);           \
    } while (0)
#define T2(a, b) {2, {a, b}, GEN_NORMAL}

static dl_tensor *b_bce(dl_graph *g, dl_tensor **in, const void *c) {
    const int k = *(const int *)c;
    return dl_bce_logits(g, in[0], k & 1 ? YSOFT : Y01, k & 2 ? WTS : NULL);
}
static dl_tensor *b_bce_big(dl_graph *g, dl_tensor **in, const void *c) {
    (void)c;
    return dl_bce_logits(g, dl_scale(g, in[0], 30.0f), Y01, NULL); /* logits up to ~100 */
}

typedef struct {
    float alpha, gamma;
} focal_ctx;
static dl_tensor *b_focal(dl_graph *g, dl_tensor **in, const void *c) {
    const focal_ctx *f = c;
    return dl_sigmoid_focal_loss(g, in[0], Y01, f->alpha, f->gamma, 3.0f);
}
static dl_tensor *b_vfl(dl_graph *g, dl_tensor **in, const void *c) {
    const focal_ctx *f = c;
    return dl_varifocal_loss(g, in[0], LABEL, SCORE, f->alpha, f->gamma, 3.0f);
}
static dl_tensor *b_l1(dl_graph *g, dl_tensor **in, const void *c) {
    (void)c;
    return dl_l1_loss(g, in[0], in[1], 2.0f);
}
static dl_tensor *b_kl(dl_graph *g, dl_tensor **in, const void *c) {
    (void)c;
    return dl_gaussian_kl(g, in[0], in[1]);
}
static dl_tensor *b_ntx(dl_graph *g, dl_tensor **in, const void *c) {
    return dl_nt_xent(g, in[0], *(const float *)c);
}

static void test_classification_losses(void **state) {
    (void)state;
    for (int k = 0; k < 4; k++) {
        char nm[64];
        snprintf(nm, sizeof nm, "bce soft=%d weights=%d", k & 1, k >> 1);
        CHECK(nm, b_bce, &k, 1, T2(3, 4));
    }
    const gc_input small[] = {{2, {3, 4}, GEN_SMALL}};
    double e = grad_check("bce large logits", b_bce_big, NULL, 1, small, 1e-3, 0);
    if (e > TOL) fail_msg("bce large logits: %.3g", e);
    const focal_ctx fc[] = {{0.25f, 2.0f}, {-1.0f, 0.0f}, {0.75f, 1.5f}};
    for (size_t i = 0; i < 3; i++) {
        char nm[64];
        snprintf(nm, sizeof nm, "focal alpha=%g gamma=%g", fc[i].alpha, fc[i].gamma);
        CHECK(nm, b_focal, &fc[i], 1, T2(3, 4));
    }
}

/* The varifocal weight is a constant (RT-DETR detaches it), so its gradient is not the
 * finite difference of the loss: it must equal BCE with logits (itself checked above)
 * weighted by the weights frozen at the current logits, sum / norm = mean * n / norm. */
static void test_varifocal(void **state) {
    (void)state;
    const focal_ctx fc[] = {{0.75f, 2.0f}, {0.25f, 1.5f}};
    for (int k = 0; k < 2; k++) {
        dl_params ps;
        dl_params_init(&ps);
        int s[2] = {3, 4};
        dl_tensor *x = dl_param_new(&ps, "x", 2, s);
        for (int i = 0; i < N_EL; i++) x->data[i] = (float)dl_rng_normal(&g_rng);
        float w[N_EL], ga[N_EL];
        for (int i = 0; i < N_EL; i++) {
            const double p = 1.0 / (1.0 + exp(-(double)x->data[i]));
            w[i] = (float)(fc[k].alpha * pow(p, fc[k].gamma) * (1 - LABEL[i]) + SCORE[i]);
        }
        dl_graph *g = dl_graph_new();
        dl_params_zero_grad(&ps);
        dl_tensor *in[8] = {x};
        dl_tensor *l1 = b_vfl(g, in, &fc[k]);
        dl_backward(g, l1);
        memcpy(ga, x->grad, sizeof ga);
        const float v1 = l1->data[0]; /* arena memory: gone after the reset */
        dl_graph_reset(g);
        dl_params_zero_grad(&ps);
        dl_tensor *l2 = dl_scale(g, dl_bce_logits(g, x, SCORE, w), (float)N_EL / 3.0f);
        dl_backward(g, l2);
        if (!(fabsf(v1 - l2->data[0]) <= 1e-5f * fabsf(l2->data[0])))
            fail_msg("varifocal %g vs weighted bce %g", v1, l2->data[0]);
        assert_true(tu_max_rel_err(ga, x->grad, N_EL) < 1e-5);
        dl_graph_free(g);
        dl_params_free(&ps);
    }
}

static void test_regression_losses(void **state) {
    (void)state;
    const gc_input l1[] = {{2, {3, 4}, GEN_NORMAL}, {2, {3, 4}, GEN_NORMAL}};
    double e = grad_check("l1", b_l1, NULL, 2, l1, 1e-3, 0);
    if (e > TOL) fail_msg("l1: %.3g", e);
    CHECK("gaussian kl", b_kl, NULL, 2, T2(3, 4), {2, {3, 4}, GEN_SMALL});
    const float taus[] = {0.5f, 0.1f};
    for (int i = 0; i < 2; i++) {
        char nm[64];
        snprintf(nm, sizeof nm, "nt_xent tau=%g", taus[i]);
        CHECK(nm, b_ntx, &taus[i], 1, T2(6, 5));
    }
    CHECK("nt_xent N=1", b_ntx, &taus[0], 1, T2(2, 3));
}

/* ---- GIoU: fixed boxes (kept valid and away from min/max ties under +-h) ---- */
static const float BOX_P_XYXY[] = {0.0f, 0.0f, 2.0f, 2.0f,   1.0f, 1.5f, 4.0f, 3.0f,  0.0f, 0.0f, 1.0f, 1.0f,
                                   0.5f, 0.2f, 1.7f, 3.1f};
static const float BOX_T_XYXY[] = {1.0f, 0.5f, 3.0f, 2.5f,   0.3f, 0.1f, 2.2f, 2.4f,  2.0f, 3.0f, 3.5f, 4.0f,
                                   0.1f, 0.6f, 2.3f, 2.0f};
static dl_tensor *b_giou(dl_graph *g, dl_tensor **in, const void *c) {
    return dl_giou_loss(g, in[0], in[1], *(const int *)c, 4.0f);
}

static void giou_check(int format) {
    {
        dl_params ps;
        dl_params_init(&ps);
        int s[2] = {4, 4};
        dl_tensor *p = dl_param_new(&ps, "p", 2, s), *t = dl_param_new(&ps, "t", 2, s);
        for (int i = 0; i < 4; i++) {
            const float *a = BOX_P_XYXY + 4 * i, *b = BOX_T_XYXY + 4 * i;
            for (int pass = 0; pass < 2; pass++) {
                const float *src = pass ? b : a;
                float *dst = (pass ? t : p)->data + 4 * i;
                if (format == DL_BOX_XYXY)
                    memcpy(dst, src, 4 * sizeof(float));
                else
                    dst[0] = 0.5f * (src[0] + src[2]), dst[1] = 0.5f * (src[1] + src[3]), dst[2] = src[2] - src[0],
                    dst[3] = src[3] - src[1];
            }
        }
        dl_graph *g = dl_graph_new();
        dl_tensor *in[8] = {p, t};
        dl_params_zero_grad(&ps);
        dl_tensor *loss = b_giou(g, in, &format);
        dl_backward(g, loss);
        const double h = 1e-3;
        double maxd = 0, maxn = 1e-2;
        dl_graph_set_grad_enabled(g, 0);
        for (int k = 0; k < 2; k++)
            for (int e = 0; e < 16; e++) {
                float *v = in[k]->data + e;
                const float x0 = *v;
                *v = x0 + (float)h;
                dl_graph_reset(g);
                const double lp = b_giou(g, in, &format)->data[0];
                *v = x0 - (float)h;
                dl_graph_reset(g);
                const double lm = b_giou(g, in, &format)->data[0];
                *v = x0;
                const double num = (lp - lm) / (2 * h);
                maxd = fmax(maxd, fabs(num - in[k]->grad[e]));
                maxn = fmax(maxn, fabs(num));
            }
        if (maxd / maxn > 5e-3) fail_msg("giou format %d: gradient error %.3g", format, maxd / maxn);
        dl_graph_free(g);
        dl_params_free(&ps);
    }
}

static void test_giou(void **state) {
    (void)state;
    giou_check(DL_BOX_XYXY);
    giou_check(DL_BOX_CXCYWH);
    /* Closed forms: identical boxes GIoU 1; [0,0,2,2] vs [1,0,3,2]: I = 2, U = 6, C = 6 -> 1/3;
     * disjoint [0,0,1,1] vs [2,0,3,1]: I = 0, U = 2, C = 3 -> -1/3. */
    const float p[12] = {0, 0, 2, 2, 0, 0, 2, 2, 0, 0, 1, 1}, t[12] = {0, 0, 2, 2, 1, 0, 3, 2, 2, 0, 3, 1};
    float v[3];
    dl_giou_values(p, t, 3, DL_BOX_XYXY, v);
    assert_true(fabsf(v[0] - 1.0f) < 1e-6f && fabsf(v[1] - 1.0f / 3) < 1e-6f && fabsf(v[2] + 1.0f / 3) < 1e-6f);
}

static void test_values(void **state) {
    (void)state;
    dl_graph *g = dl_graph_new();
    int s[1] = {3};
    dl_tensor *x = dl_tensor_new(g, 1, s);
    x->data[0] = 0.0f, x->data[1] = 200.0f, x->data[2] = -200.0f;
    const float y[3] = {1, 0, 0};
    /* log 2, 200 (no overflow), ~0 */
    dl_tensor *l = dl_bce_logits(g, x, y, NULL);
    assert_true(fabs(l->data[0] - (log(2.0) + 200.0) / 3) < 1e-4);
    /* KL of N(0, 1) is 0; of mu = 1, logvar = 0: 0.5 per dim. */
    int s2[2] = {1, 2};
    dl_tensor *mu = dl_tensor_zeros(g, 2, s2), *lv = dl_tensor_zeros(g, 2, s2);
    assert_true(dl_gaussian_kl(g, mu, lv)->data[0] == 0.0f);
    mu->data[0] = mu->data[1] = 1.0f;
    assert_true(fabsf(dl_gaussian_kl(g, mu, lv)->data[0] - 1.0f) < 1e-6f);
    /* NT-Xent with both views equal and orthogonal examples: positives score 1/tau,
     * negatives 0: -1/tau + log(exp(1/tau) + 2) for 2N = 4. */
    int s3[2] = {4, 2};
    dl_tensor *z = dl_tensor_zeros(g, 2, s3);
    z->data[0] = 1, z->data[3] = 2, z->data[4] = 3, z->data[7] = 0.5f;
    const double want = -2.0 + log(exp(2.0) + 2.0);
    assert_true(fabs(dl_nt_xent(g, z, 0.5f)->data[0] - want) < 1e-5);
    dl_graph_free(g);
}

static void bad_giou_box(dl_graph *g) {
    dl_tensor *p = dl_tensor_zeros(g, 2, (int[2]){1, 4}), *t = dl_tensor_zeros(g, 2, (int[2]){1, 4});
    p->data[2] = p->data[3] = t->data[2] = t->data[3] = 1.0f; /* cxcywh: p fine, t fine */
    p->data[2] = 0.0f;                                        /* p has zero width */
    dl_giou_loss(g, p, t, DL_BOX_CXCYWH, 1.0f);
}
static void bad_ntx_rows(dl_graph *g) { dl_nt_xent(g, dl_tensor_zeros(g, 2, (int[2]){3, 4}), 0.5f); }
static void bad_focal_norm(dl_graph *g) {
    dl_sigmoid_focal_loss(g, dl_tensor_zeros(g, 1, (int[1]){2}), Y01, 0.25f, 2.0f, 0.0f);
}
static void bad_kl_shapes(dl_graph *g) {
    dl_gaussian_kl(g, dl_tensor_zeros(g, 2, (int[2]){2, 3}), dl_tensor_zeros(g, 2, (int[2]){2, 4}));
}

static void test_bad_input(void **state) {
    (void)state;
    const struct {
        bad_fn fn;
        const char *op;
    } cases[] = {{bad_giou_box, "dl_giou_loss"}, {bad_ntx_rows, "dl_nt_xent"}, {bad_focal_norm, "dl_sigmoid_focal_loss"},
                 {bad_kl_shapes, "dl_gaussian_kl"}};
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
    dl_rng_init(&g_rng, 20261206, 15);
    for (int i = 0; i < N_EL; i++) {
        Y01[i] = (float)(dl_rng_uniform(&g_rng) < 0.4);
        YSOFT[i] = (float)dl_rng_uniform(&g_rng);
        WTS[i] = (float)(0.2 + dl_rng_uniform(&g_rng));
        LABEL[i] = (float)(i % 4 == 1);
        SCORE[i] = LABEL[i] * (float)(0.3 + 0.6 * dl_rng_uniform(&g_rng));
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classification_losses),
        cmocka_unit_test(test_varifocal),
        cmocka_unit_test(test_regression_losses),
        cmocka_unit_test(test_giou),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
