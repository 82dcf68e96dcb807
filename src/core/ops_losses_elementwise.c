/* Elementwise losses (include/dynlab/losses.h): binary cross-entropy with logits,
 * sigmoid focal, varifocal, L1 and the Gaussian KL term. Each forward keeps the
 * per-element derivative d loss_i / d x_i (already divided by the reduction), so
 * the backward is one scaled add. Sums are taken in dl_sum_det's fixed order. */
#include <math.h>
#include <string.h>
#include "core/internal.h"
#include "dynlab/losses.h"

/* log(1 + exp(-|x|)) + max(x, 0) - x y: BCE(sigmoid(x), y) without overflow. */
static inline double bce_term(double x, double y) {
    return (x > 0 ? x : 0) - x * y + log1p(exp(-fabs(x)));
}
static inline double sigmoid_d(double x) { return 1.0 / (1.0 + exp(-x)); }

/* grad_in (+)= out_grad * deriv, for every input with a gradient; in[1] gets sign1 * deriv. */
static void deriv_bwd(dl_graph *g, const dl_rec *r) {
    const float *d = r->saved, s = r->out->grad[0];
    for (int k = 0; k < 2; k++) {
        dl_tensor *t = r->in[k];
        if (!t || !t->requires_grad) continue;
        const float sk = k ? r->arg.f[0] * s : s;
        const float *dk = d + (k ? t->size * r->arg.i[4] : 0); /* arg.i[4]: second block present */
        int fresh;
        float *gt = dl_grad_out(g, t, &fresh);
        if (fresh) memset(gt, 0, (size_t)t->size * sizeof(float));
        dl_k_axpy(sk, dk, gt, t->size);
    }
}

/* Scalar output from per-element values, and a record keeping deriv (n floats, or
 * 2n when the second input has its own derivative block). */
static dl_tensor *finish(dl_graph *g, const double *vals, int64_t n, double scale, float *deriv, dl_tensor *a,
                         dl_tensor *b, float b_sign, int b_block) {
    dl_tensor *out = dl_tensor_new(g, 0, NULL);
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += vals[i];
    out->data[0] = (float)(s * scale);
    dl_rec *r = dl_record(g, deriv_bwd, out, a, b, NULL);
    if (r) {
        r->saved = deriv;
        r->arg.f[0] = b_sign;
        r->arg.i[4] = b_block;
    }
    return out;
}

static void check_norm(const char *op, float norm) {
    if (!(norm > 0)) dl_fatal("%s: norm %g must be > 0", op, (double)norm);
}

dl_tensor *dl_bce_logits(dl_graph *g, dl_tensor *logits, const float *targets, const float *weights) {
    const int64_t n = logits->size;
    double *v = dl_graph_alloc(g, (size_t)(n ? n : 1) * sizeof(double));
    float *d = dl_graph_alloc(g, (size_t)(n ? n : 1) * sizeof(float));
    const double inv = n ? 1.0 / (double)n : 0.0;
    for (int64_t i = 0; i < n; i++) {
        const double x = logits->data[i], y = targets[i], w = weights ? weights[i] : 1.0;
        v[i] = w * bce_term(x, y);
        d[i] = (float)(w * (sigmoid_d(x) - y) * inv);
    }
    return finish(g, v, n, inv, d, logits, NULL, 0, 0);
}

dl_tensor *dl_sigmoid_focal_loss(dl_graph *g, dl_tensor *logits, const float *targets, float alpha, float gamma,
                                 float norm) {
    check_norm("dl_sigmoid_focal_loss", norm);
    const int64_t n = logits->size;
    double *v = dl_graph_alloc(g, (size_t)(n ? n : 1) * sizeof(double));
    float *d = dl_graph_alloc(g, (size_t)(n ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) {
        const double x = logits->data[i], y = targets[i], p = sigmoid_d(x), ce = bce_term(x, y);
        const double pt = p * y + (1 - p) * (1 - y), base = 1 - pt;
        const double at = alpha >= 0 ? alpha * y + (1 - alpha) * (1 - y) : 1.0;
        const double mod = gamma == 0 ? 1.0 : pow(base, gamma);
        /* d mod / dx = -gamma (1 - p_t)^(gamma - 1) (2y - 1) p (1 - p) */
        const double dmod = gamma == 0 || base <= 0 ? 0.0 : -gamma * pow(base, gamma - 1) * (2 * y - 1) * p * (1 - p);
        v[i] = at * ce * mod;
        d[i] = (float)(at * ((p - y) * mod + ce * dmod) / norm);
    }
    return finish(g, v, n, 1.0 / norm, d, logits, NULL, 0, 0);
}

dl_tensor *dl_varifocal_loss(dl_graph *g, dl_tensor *logits, const float *label, const float *score, float alpha,
                             float gamma, float norm) {
    check_norm("dl_varifocal_loss", norm);
    const int64_t n = logits->size;
    double *v = dl_graph_alloc(g, (size_t)(n ? n : 1) * sizeof(double));
    float *d = dl_graph_alloc(g, (size_t)(n ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) {
        const double x = logits->data[i], q = score[i], p = sigmoid_d(x);
        const double w = alpha * pow(p, gamma) * (1 - label[i]) + q; /* detached weight */
        v[i] = w * bce_term(x, q);
        d[i] = (float)(w * (p - q) / norm);
    }
    return finish(g, v, n, 1.0 / norm, d, logits, NULL, 0, 0);
}

dl_tensor *dl_l1_loss(dl_graph *g, dl_tensor *pred, dl_tensor *target, float norm) {
    check_norm("dl_l1_loss", norm);
    if (pred->size != target->size) dl_fatal("dl_l1_loss: pred and target sizes differ");
    const int64_t n = pred->size;
    double *v = dl_graph_alloc(g, (size_t)(n ? n : 1) * sizeof(double));
    float *d = dl_graph_alloc(g, (size_t)(n ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) {
        const double e = (double)pred->data[i] - target->data[i];
        v[i] = fabs(e);
        d[i] = (float)((e > 0) - (e < 0)) / norm;
    }
    return finish(g, v, n, 1.0 / norm, d, pred, target, -1.0f, 0);
}

dl_tensor *dl_gaussian_kl(dl_graph *g, dl_tensor *mu, dl_tensor *logvar) {
    if (mu->ndim != 2 || logvar->size != mu->size) dl_fatal("dl_gaussian_kl: mu and logvar must both be [N, D]");
    const int64_t n = mu->size;
    const double inv = mu->shape[0] ? 1.0 / mu->shape[0] : 0.0;
    double *v = dl_graph_alloc(g, (size_t)(n ? n : 1) * sizeof(double));
    float *d = dl_graph_alloc(g, (size_t)(n > 0 ? 2 * n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) {
        const double m = mu->data[i], lv = logvar->data[i], e = exp(lv);
        v[i] = -0.5 * (1 + lv - m * m - e);
        d[i] = (float)(m * inv);
        d[n + i] = (float)(0.5 * (e - 1) * inv);
    }
    return finish(g, v, n, inv, d, mu, logvar, 1.0f, 1);
}
