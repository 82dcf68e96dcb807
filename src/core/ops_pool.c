/* 2-D pooling on NCHW: max (F.max_pool2d, padding = -inf), average
 * (F.avg_pool2d, count_include_pad=True) and global average. Each (image,
 * channel) plane is independent, so the planes split over threads and the
 * result is the same for any thread count. */
#include <stdlib.h>
#include <string.h>
#include "core/internal.h"
#include "dynlab/conv.h"

/* Tests run the portable 2x2 and 3x3/2 loops to compare them with the AVX-512 kernels. */
static int pool_force_generic = 0;
void dl_pool_force_generic(int on) { pool_force_generic = on ? 1 : 0; }

static void pool_geom(const char *op, const dl_tensor *x, int k, int s, int p, int *OH, int *OW) {
    char b[64];
    if (x->ndim != 4) dl_fatal("%s: input %s must be [N, C, H, W]", op, dl_shape_str(x, b, sizeof b));
    if (k < 1 || s < 1 || p < 0 || 2 * p > k)
        dl_fatal("%s: kernel %d, stride %d, padding %d out of range (padding <= kernel/2)", op, k, s, p);
    const int H = x->shape[2], W = x->shape[3];
    if (H + 2 * p < k || W + 2 * p < k) dl_fatal("%s: kernel %d larger than the padded input %s", op, k, dl_shape_str(x, b, sizeof b));
    *OH = (H + 2 * p - k) / s + 1;
    *OW = (W + 2 * p - k) / s + 1;
}

/* ---- max pooling: the forward keeps the argmax (index inside the plane) ---- */
static void maxpool_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *x = r->in[0], *out = r->out;
    const int32_t *arg = r->saved;
    const int64_t planes = (int64_t)x->shape[0] * x->shape[1], HW = (int64_t)x->shape[2] * x->shape[3];
    const int64_t OHW = (int64_t)out->shape[2] * out->shape[3];
    /* A fresh dX is zeroed plane by plane inside the loop, by the thread that then
     * scatters into the plane (one serial 17 MB memset before it, on resnet-det's stem) */
    int fresh;
    float *gx = dl_grad_out(g, x, &fresh);
    const float *dy = out->grad;
#pragma omp parallel for schedule(static) if (out->size > DL_PAR_MIN)
    for (int64_t pl = 0; pl < planes; pl++) {
        float *gp = gx + pl * HW;
        if (fresh) memset(gp, 0, (size_t)HW * sizeof(float));
        for (int64_t o = 0; o < OHW; o++) gp[arg[pl * OHW + o]] += dy[pl * OHW + o];
    }
}

dl_tensor *dl_max_pool2d(dl_graph *g, dl_tensor *x, int kernel, int stride, int padding) {
    int OH, OW;
    pool_geom("dl_max_pool2d", x, kernel, stride, padding, &OH, &OW);
    const int H = x->shape[2], W = x->shape[3];
    int shape[4] = {x->shape[0], x->shape[1], OH, OW};
    dl_tensor *out = dl_tensor_new(g, 4, shape);
    const int rec = dl_needs_grad(g, x, NULL, NULL);
    int32_t *arg = rec ? dl_graph_alloc(g, (size_t)out->size * sizeof(int32_t)) : NULL;
    const int64_t planes = (int64_t)shape[0] * shape[1];
    const float *xv = x->data;
    float *y = out->data;
    static int have = -1; /* the CPU's answer never changes: a benign race */
    if (have < 0) have = dl_have_avx512();
    const int avx512 = have && !pool_force_generic;
#pragma omp parallel for schedule(static) if (x->size > DL_PAR_MIN)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = xv + pl * H * W;
        float *yp = y + pl * OH * OW;
        int32_t *ap = arg ? arg + pl * OH * OW : NULL;
        if (kernel == 2 && stride == 2 && padding == 0 && avx512) {
            for (int oh = 0; oh < OH; oh++)
                dl_avx512_maxpool2x2_row(xp + 2 * oh * W, xp + 2 * oh * W + W, OW, 2 * oh * W, W, yp + oh * OW,
                                         ap ? ap + oh * OW : NULL);
            continue;
        }
        if (kernel == 2 && stride == 2 && padding == 0) { /* the common 2x2 pool, branch-free */
            for (int oh = 0; oh < OH; oh++) {
                const float *r0 = xp + 2 * oh * W, *r1 = r0 + W;
                const int base = 2 * oh * W;
#pragma omp simd
                for (int ow = 0; ow < OW; ow++) {
                    float best = r0[2 * ow];
                    int bi = base + 2 * ow;
                    const float v1 = r0[2 * ow + 1], v2 = r1[2 * ow], v3 = r1[2 * ow + 1];
                    int t = (v1 > best) | (v1 != v1);
                    best = t ? v1 : best, bi = t ? base + 2 * ow + 1 : bi;
                    t = (v2 > best) | (v2 != v2);
                    best = t ? v2 : best, bi = t ? base + W + 2 * ow : bi;
                    t = (v3 > best) | (v3 != v3);
                    best = t ? v3 : best, bi = t ? base + W + 2 * ow + 1 : bi;
                    yp[oh * OW + ow] = best;
                    if (ap) ap[oh * OW + ow] = bi;
                }
            }
            continue;
        }
        /* Windows wholly inside the plane (all but the border rows and columns of a
         * padded pool): fixed kernel^2 compares in scan order, vectorised over ow
         * with the same first-maximum / NaN rule as the general loop below. */
        int ow_lo = (padding + stride - 1) / stride, ow_hi = (W - kernel + padding) / stride + 1;
        int oh_lo = (padding + stride - 1) / stride, oh_hi = (H - kernel + padding) / stride + 1;
        if (ow_hi > OW) ow_hi = OW;
        if (oh_hi > OH) oh_hi = OH;
        if (kernel == 3 && stride == 2 && avx512 && ow_hi > ow_lo) {
            for (int oh = oh_lo; oh < oh_hi; oh++)
                dl_avx512_maxpool3x3s2_row(xp, W, oh * 2 - padding, padding, ow_lo, ow_hi, yp + oh * OW,
                                           ap ? ap + oh * OW : NULL);
        } else if (kernel == 3 && ow_hi > ow_lo) {
            for (int oh = oh_lo; oh < oh_hi; oh++) {
                const int h0 = oh * stride - padding;
#pragma omp simd
                for (int ow = ow_lo; ow < ow_hi; ow++) {
                    const int w0 = ow * stride - padding;
                    float best = xp[h0 * W + w0];
                    int bi = h0 * W + w0;
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 3; j++) {
                            const int q = (h0 + i) * W + w0 + j;
                            const float v = xp[q];
                            const int t = (v > best) | ((v != v) & (best == best));
                            best = t ? v : best, bi = t ? q : bi;
                        }
                    yp[oh * OW + ow] = best;
                    if (ap) ap[oh * OW + ow] = bi;
                }
            }
        } else {
            oh_lo = oh_hi = ow_lo = ow_hi = 0;
        }
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                if (oh >= oh_lo && oh < oh_hi && ow >= ow_lo && ow < ow_hi) {
                    ow = ow_hi - 1; /* done above */
                    continue;
                }
                const int h0 = oh * stride - padding, w0 = ow * stride - padding;
                const int i0 = h0 < 0 ? 0 : h0, j0 = w0 < 0 ? 0 : w0;
                float best = xp[i0 * W + j0];
                int bi = i0 * W + j0;
                /* first maximum in scan order, as PyTorch; a NaN wins and stays */
                for (int i = i0; i < h0 + kernel && i < H; i++)
                    for (int j = j0; j < w0 + kernel && j < W; j++) {
                        const float v = xp[i * W + j];
                        const int t = (v > best) | ((v != v) & (best == best));
                        best = t ? v : best, bi = t ? i * W + j : bi;
                    }
                yp[oh * OW + ow] = best;
                if (ap) ap[oh * OW + ow] = bi;
            }
    }
    dl_rec *r = dl_record(g, maxpool_bwd, out, x, NULL, NULL);
    if (r) r->saved = arg;
    return out;
}

/* ---- average pooling: every window divides by kernel^2 (padding counts) ---- */
static void avgpool_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *x = r->in[0], *out = r->out;
    const int k = r->arg.i[0], s = r->arg.i[1], p = r->arg.i[2];
    const int H = x->shape[2], W = x->shape[3], OH = out->shape[2], OW = out->shape[3];
    const int64_t planes = (int64_t)x->shape[0] * x->shape[1];
    const float inv = 1.0f / (float)(k * k);
    int fresh; /* zeroed per plane, as in maxpool_bwd */
    float *gx = dl_grad_out(g, x, &fresh);
    const float *dy = out->grad;
#pragma omp parallel for schedule(static) if (x->size > DL_PAR_MIN)
    for (int64_t pl = 0; pl < planes; pl++) {
        float *gp = gx + pl * H * W;
        if (fresh) memset(gp, 0, (size_t)H * W * sizeof(float));
        const float *dp = dy + pl * OH * OW;
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                const int h0 = oh * s - p, w0 = ow * s - p;
                const float v = dp[oh * OW + ow] * inv;
                for (int i = h0 < 0 ? 0 : h0; i < h0 + k && i < H; i++)
                    for (int j = w0 < 0 ? 0 : w0; j < w0 + k && j < W; j++) gp[i * W + j] += v;
            }
    }
}

dl_tensor *dl_avg_pool2d(dl_graph *g, dl_tensor *x, int kernel, int stride, int padding) {
    int OH, OW;
    pool_geom("dl_avg_pool2d", x, kernel, stride, padding, &OH, &OW);
    const int H = x->shape[2], W = x->shape[3];
    int shape[4] = {x->shape[0], x->shape[1], OH, OW};
    dl_tensor *out = dl_tensor_new(g, 4, shape);
    const int64_t planes = (int64_t)shape[0] * shape[1];
    const float inv = 1.0f / (float)(kernel * kernel);
    const float *xv = x->data;
    float *y = out->data;
#pragma omp parallel for schedule(static) if (x->size > DL_PAR_MIN)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = xv + pl * H * W;
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                const int h0 = oh * stride - padding, w0 = ow * stride - padding;
                float acc = 0.0f;
                for (int i = h0 < 0 ? 0 : h0; i < h0 + kernel && i < H; i++)
                    for (int j = w0 < 0 ? 0 : w0; j < w0 + kernel && j < W; j++) acc += xp[i * W + j];
                y[(pl * OH + oh) * OW + ow] = acc * inv;
            }
    }
    dl_rec *r = dl_record(g, avgpool_bwd, out, x, NULL, NULL);
    if (r) r->arg.i[0] = kernel, r->arg.i[1] = stride, r->arg.i[2] = padding;
    return out;
}

/* ---- global average pooling ---------------------------------------------- */
static void gap_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *x = r->in[0], *out = r->out;
    const int64_t planes = out->size, HW = (int64_t)x->shape[2] * x->shape[3];
    const float inv = 1.0f / (float)HW;
    int fresh;
    float *gx = dl_grad_out(g, x, &fresh);
    const float *dy = out->grad;
#pragma omp parallel for schedule(static) if (x->size > DL_PAR_MIN)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float v = dy[pl] * inv;
        float *gp = gx + pl * HW;
        if (fresh)
            for (int64_t i = 0; i < HW; i++) gp[i] = v;
        else
            for (int64_t i = 0; i < HW; i++) gp[i] += v;
    }
}

dl_tensor *dl_global_avg_pool2d(dl_graph *g, dl_tensor *x) {
    char b[64];
    if (x->ndim != 4) dl_fatal("dl_global_avg_pool2d: input %s must be [N, C, H, W]", dl_shape_str(x, b, sizeof b));
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3];
    if (HW == 0) dl_fatal("dl_global_avg_pool2d: empty feature map %s", dl_shape_str(x, b, sizeof b));
    int shape[2] = {x->shape[0], x->shape[1]};
    dl_tensor *out = dl_tensor_new(g, 2, shape);
    const float *xv = x->data;
    float *y = out->data;
#pragma omp parallel for schedule(static) if (x->size > DL_PAR_MIN)
    for (int64_t pl = 0; pl < out->size; pl++) y[pl] = (float)(dl_sum_det(xv + pl * HW, HW) / (double)HW);
    dl_record(g, gap_bwd, out, x, NULL, NULL);
    return out;
}
