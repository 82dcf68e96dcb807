/* Resampling of NCHW feature maps: F.interpolate (nearest, bilinear with
 * align_corners=False) and bilinear sampling at normalised points
 * (F.grid_sample, zeros padding, align_corners=False), the point-sampled
 * cross-attention's read of a feature map (Zhu et al. 2021, Deformable DETR,
 * Eq. 2; the RT-DETR decoder samples the same way). Index arithmetic follows
 * PyTorch's CPU kernels in float so the sampled positions agree bit for bit. */
#include <math.h>
#include "core/internal.h"
#include "dynlab/conv.h"

/* Source index / weights of one output coordinate. */
typedef struct tap {
    int i0, i1;
    float w0, w1;
} tap;

static tap nearest_tap(int dst, int in, int out) {
    tap t;
    const float scale = (float)in / (float)out;
    int s = (int)floorf((float)dst * scale);
    if (s > in - 1) s = in - 1;
    t.i0 = t.i1 = s, t.w0 = 1.0f, t.w1 = 0.0f;
    return t;
}

static tap bilinear_tap(int dst, int in, int out) {
    tap t;
    const float scale = (float)in / (float)out;
    float src = scale * ((float)dst + 0.5f) - 0.5f;
    if (src < 0) src = 0;
    t.i0 = (int)src;
    t.i1 = t.i0 < in - 1 ? t.i0 + 1 : t.i0;
    t.w1 = src - (float)t.i0;
    t.w0 = 1.0f - t.w1;
    return t;
}

typedef struct up_saved {
    tap *th, *tw;
} up_saved;

static void upsample_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *x = r->in[0], *out = r->out;
    const up_saved *sv = r->saved;
    const int H = x->shape[2], W = x->shape[3], OH = out->shape[2], OW = out->shape[3];
    const int64_t planes = (int64_t)x->shape[0] * x->shape[1];
    float *gx = dl_tensor_grad(g, x);
    const float *dy = out->grad;
#pragma omp parallel for schedule(static) if (out->size > DL_PAR_MIN)
    for (int64_t pl = 0; pl < planes; pl++) {
        float *gp = gx + pl * H * W;
        const float *dp = dy + pl * OH * OW;
        for (int oh = 0; oh < OH; oh++) {
            const tap a = sv->th[oh];
            for (int ow = 0; ow < OW; ow++) {
                const tap b = sv->tw[ow];
                const float d = dp[oh * OW + ow];
                gp[a.i0 * W + b.i0] += a.w0 * b.w0 * d;
                gp[a.i0 * W + b.i1] += a.w0 * b.w1 * d;
                gp[a.i1 * W + b.i0] += a.w1 * b.w0 * d;
                gp[a.i1 * W + b.i1] += a.w1 * b.w1 * d;
            }
        }
    }
}

dl_tensor *dl_upsample2d(dl_graph *g, dl_tensor *x, int out_h, int out_w, int mode) {
    char b[64];
    if (x->ndim != 4) dl_fatal("dl_upsample2d: input %s must be [N, C, H, W]", dl_shape_str(x, b, sizeof b));
    if (out_h < 1 || out_w < 1 || (mode != DL_UPSAMPLE_NEAREST && mode != DL_UPSAMPLE_BILINEAR))
        dl_fatal("dl_upsample2d: output %dx%d / mode %d invalid", out_h, out_w, mode);
    const int H = x->shape[2], W = x->shape[3];
    if (H < 1 || W < 1) dl_fatal("dl_upsample2d: empty input %s", dl_shape_str(x, b, sizeof b));
    int shape[4] = {x->shape[0], x->shape[1], out_h, out_w};
    dl_tensor *out = dl_tensor_new(g, 4, shape);
    tap *th = dl_graph_alloc(g, (size_t)(out_h + out_w) * sizeof(tap)), *tw = th + out_h;
    for (int i = 0; i < out_h; i++) th[i] = mode ? bilinear_tap(i, H, out_h) : nearest_tap(i, H, out_h);
    for (int i = 0; i < out_w; i++) tw[i] = mode ? bilinear_tap(i, W, out_w) : nearest_tap(i, W, out_w);
    const int64_t planes = (int64_t)shape[0] * shape[1];
    const float *xv = x->data;
    float *y = out->data;
#pragma omp parallel for schedule(static) if (out->size > DL_PAR_MIN)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = xv + pl * H * W;
        float *yp = y + pl * out_h * out_w;
        for (int oh = 0; oh < out_h; oh++) {
            const tap a = th[oh];
            const float *r0 = xp + a.i0 * W, *r1 = xp + a.i1 * W;
            for (int ow = 0; ow < out_w; ow++) {
                const tap c = tw[ow];
                yp[oh * out_w + ow] = a.w0 * (c.w0 * r0[c.i0] + c.w1 * r0[c.i1]) + a.w1 * (c.w0 * r1[c.i0] + c.w1 * r1[c.i1]);
            }
        }
    }
    dl_rec *r = dl_record(g, upsample_bwd, out, x, NULL, NULL);
    if (r) {
        up_saved *sv = dl_graph_alloc(g, sizeof *sv);
        sv->th = th, sv->tw = tw;
        r->saved = sv;
    }
    return out;
}

/* ---- grid sampling ---------------------------------------------------------- */
/* Corner geometry of one point: unnormalise (align_corners=False):
 * ix = ((x + 1) W - 1) / 2, then the four neighbours and their weights. */
typedef struct corners {
    int x0, y0;
    float ix, iy, fx, fy; /* fx = ix - x0 */
} corners;

static corners point_corners(const float *pt, int H, int W) {
    corners c;
    c.ix = ((pt[0] + 1.0f) * (float)W - 1.0f) / 2.0f;
    c.iy = ((pt[1] + 1.0f) * (float)H - 1.0f) / 2.0f;
    const float fx0 = floorf(c.ix), fy0 = floorf(c.iy);
    /* clamp far-away points before the int conversion (they read only zeros) */
    c.x0 = fx0 < -2.0f ? -2 : fx0 > (float)W + 1 ? W + 1 : (int)fx0;
    c.y0 = fy0 < -2.0f ? -2 : fy0 > (float)H + 1 ? H + 1 : (int)fy0;
    c.fx = c.ix - fx0, c.fy = c.iy - fy0;
    return c;
}

static void grid_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *map = r->in[0], *pts = r->in[1], *out = r->out;
    const int N = map->shape[0], C = map->shape[1], H = map->shape[2], W = map->shape[3], P = pts->shape[1];
    const int64_t HW = (int64_t)H * W;
    float *gm = map->requires_grad ? dl_tensor_grad(g, map) : NULL;
    float *gpts = pts->requires_grad ? dl_tensor_grad(g, pts) : NULL;
    const float *dy = out->grad, *mv = map->data;
#pragma omp parallel for schedule(static) if (out->size > DL_PAR_MIN)
    for (int n = 0; n < N; n++)
        for (int p = 0; p < P; p++) {
            const corners c = point_corners(pts->data + ((int64_t)n * P + p) * 2, H, W);
            const float wx[2] = {1.0f - c.fx, c.fx}, wy[2] = {1.0f - c.fy, c.fy};
            const float *d = dy + ((int64_t)n * P + p) * C;
            float gx = 0.0f, gy = 0.0f;
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 2; b++) {
                    const int yy = c.y0 + a, xx = c.x0 + b;
                    if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                    const int64_t off = (int64_t)n * C * HW + (int64_t)yy * W + xx;
                    const float w = wy[a] * wx[b];
                    /* d w / d ix = wy (b ? 1 : -1), d w / d iy = wx (a ? 1 : -1) */
                    const float sx = b ? wy[a] : -wy[a], sy = a ? wx[b] : -wx[b];
                    float dot = 0.0f;
                    for (int ch = 0; ch < C; ch++) {
                        dot += d[ch] * mv[off + ch * HW];
                        if (gm) gm[off + ch * HW] += w * d[ch];
                    }
                    gx += sx * dot, gy += sy * dot;
                }
            if (gpts) {
                gpts[((int64_t)n * P + p) * 2] += gx * (float)W / 2.0f;
                gpts[((int64_t)n * P + p) * 2 + 1] += gy * (float)H / 2.0f;
            }
        }
}

dl_tensor *dl_grid_sample(dl_graph *g, dl_tensor *map, dl_tensor *points) {
    char b1[64], b2[64];
    if (map->ndim != 4 || points->ndim != 3 || points->shape[2] != 2 || points->shape[0] != map->shape[0])
        dl_fatal("dl_grid_sample: map %s must be [N, C, H, W] and points %s [N, P, 2]",
                 dl_shape_str(map, b1, sizeof b1), dl_shape_str(points, b2, sizeof b2));
    const int N = map->shape[0], C = map->shape[1], H = map->shape[2], W = map->shape[3], P = points->shape[1];
    const int64_t HW = (int64_t)H * W;
    int shape[3] = {N, P, C};
    dl_tensor *out = dl_tensor_new(g, 3, shape);
    const float *mv = map->data;
    /* forward: every (image, point) writes its own output row, so they split freely */
#pragma omp parallel for schedule(static) if (out->size > DL_PAR_MIN)
    for (int64_t np = 0; np < (int64_t)N * P; np++) {
        const int n = (int)(np / P);
        const corners c = point_corners(points->data + np * 2, H, W);
        const float wx[2] = {1.0f - c.fx, c.fx}, wy[2] = {1.0f - c.fy, c.fy};
        float *y = out->data + np * C;
        for (int ch = 0; ch < C; ch++) y[ch] = 0.0f;
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++) {
                const int yy = c.y0 + a, xx = c.x0 + b;
                if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                const float w = wy[a] * wx[b];
                const float *src = mv + (int64_t)n * C * HW + (int64_t)yy * W + xx;
                for (int ch = 0; ch < C; ch++) y[ch] += w * src[ch * HW];
            }
    }
    dl_record(g, grid_bwd, out, map, points, NULL);
    return out;
}
