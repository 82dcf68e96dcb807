/* 2-D convolution (F.conv2d: NCHW, stride, padding, dilation, groups, bias) as
 * GEMMs over im2col columns.
 *
 * The output columns of all images form one index space (image, output pixel).
 * It is cut into column blocks of about 2^20 / (C/groups * KH * KW)
 * columns: a block is either a run of whole images (maps under 512 pixels, so
 * the GEMM sees a wide N; Y and dY are copied between NCHW and the block's
 * [Cout_g, cols] matrix) or an equal slice of one image's pixels (larger maps:
 * Y and dY are used in place). Per block and group:
 *   forward  Y[Cout_g, cols]  = W_g[Cout_g, K] @ col[K, cols]   (+ bias)
 *   backward dW_g[Cout_g, K] += dY[Cout_g, cols] @ col^T
 *            dcol[K, cols]    = W_g^T @ dY, scattered back into dX (col2im)
 * The columns live in the graph's scratch buffer (rebuilt in the backward rather
 * than kept), so a convolution adds nothing to the arena beyond its output.
 * A 1x1 stride-1 unpadded convolution reads x (and writes dX) directly.
 * A weight gradient with K < 16 runs as the transposed product (see conv_bwd).
 * Blocks run in a fixed order, each GEMM is deterministic, im2col splits over
 * column rows and col2im over input channels (each writes its own memory): the
 * same bits for any thread count. */
#include <string.h>
#include "core/conv_winograd.h"
#include "core/internal.h"
#include "dynlab/conv.h"
#include "dynlab/gemm.h"

/* Target floats of one im2col block (4 MB); tests shrink it to reach every path. */
static int64_t col_floats = 1 << 20;
void dl_conv2d_set_block_floats(int64_t n) { col_floats = n > 0 ? n : 1 << 20; }
#define PER_IMAGE_MIN 512

/* Stride-2 rows through the AVX-512 gather / scatter-add (vmath_pool_avx512.c). */
static int im2col_force_generic = 0;
void dl_conv2d_force_generic(int on) { im2col_force_generic = on ? 1 : 0; }
static int s2_avx512(void) {
    static int have = -1; /* the CPU's answer never changes: a benign race */
    if (have < 0) have = dl_have_avx512();
    return have && !im2col_force_generic;
}

typedef struct conv_geom {
    int N, C, H, W, Cout, KH, KW, OH, OW, s, p, d, groups, Cg, Coutg, K;
    int64_t HW, OHW;
    int per_image;  /* 1: blocks are pixel slices of one image; 0: runs of whole images */
    int64_t cols;   /* columns per block (per_image: pixels; else images * OHW) */
    int imgs;       /* images per block when !per_image */
    int direct;     /* 1x1, stride 1, no padding: x is its own im2col */
} conv_geom;

static void geom_init(conv_geom *G, const dl_tensor *x, const dl_tensor *w, int stride, int padding,
                      int dilation, int groups) {
    char b1[64], b2[64];
    if (x->ndim != 4 || w->ndim != 4)
        dl_fatal("dl_conv2d: x %s and w %s must be [N, C, H, W] and [Cout, C/groups, KH, KW]",
                 dl_shape_str(x, b1, sizeof b1), dl_shape_str(w, b2, sizeof b2));
    if (stride < 1 || padding < 0 || dilation < 1 || groups < 1)
        dl_fatal("dl_conv2d: stride %d, padding %d, dilation %d, groups %d out of range", stride, padding,
                 dilation, groups);
    G->N = x->shape[0], G->C = x->shape[1], G->H = x->shape[2], G->W = x->shape[3];
    G->Cout = w->shape[0], G->KH = w->shape[2], G->KW = w->shape[3];
    G->s = stride, G->p = padding, G->d = dilation, G->groups = groups;
    if (G->C % groups || G->Cout % groups || w->shape[1] != G->C / groups)
        dl_fatal("dl_conv2d: x %s, w %s do not match %d groups", dl_shape_str(x, b1, sizeof b1),
                 dl_shape_str(w, b2, sizeof b2), groups);
    G->Cg = G->C / groups, G->Coutg = G->Cout / groups;
    const int eh = G->H + 2 * padding - dilation * (G->KH - 1) - 1;
    const int ew = G->W + 2 * padding - dilation * (G->KW - 1) - 1;
    if (eh < 0 || ew < 0)
        dl_fatal("dl_conv2d: kernel %dx%d (dilation %d) larger than the padded input %s", G->KH, G->KW, dilation,
                 dl_shape_str(x, b1, sizeof b1));
    G->OH = eh / stride + 1, G->OW = ew / stride + 1;
    G->K = G->Cg * G->KH * G->KW;
    G->HW = (int64_t)G->H * G->W, G->OHW = (int64_t)G->OH * G->OW;
    G->direct = G->KH == 1 && G->KW == 1 && stride == 1 && padding == 0;
    int64_t want = col_floats / G->K;
    if (want < 1) want = 1;
    /* Maps of at least PER_IMAGE_MIN pixels are wide enough for the GEMM on their
     * own: their blocks stay inside one image, so Y and dY are used in place
     * instead of being gathered into and scattered out of a [Cout, cols] matrix. */
    if (G->OHW >= want || G->OHW >= PER_IMAGE_MIN) {
        G->per_image = 1, G->imgs = 1;
        /* equal slices (a multiple of 16 columns) rather than full ones and a stub */
        const int64_t nblk = (G->OHW + want - 1) / want, per = (G->OHW + nblk - 1) / nblk;
        G->cols = per >= 16 && nblk > 1 ? (per + 15) / 16 * 16 : per;
        if (G->cols > G->OHW) G->cols = G->OHW;
    } else {
        G->per_image = 0;
        G->imgs = (int)(want / (G->OHW ? G->OHW : 1));
        if (G->imgs > G->N) G->imgs = G->N;
        if (G->imgs < 1) G->imgs = 1;
        G->cols = (int64_t)G->imgs * G->OHW;
    }
}

double dl_conv2d_flops(const dl_tensor *x, const dl_tensor *w, int stride, int padding, int dilation,
                       int groups) {
    conv_geom G;
    geom_init(&G, x, w, stride, padding, dilation, groups);
    return 2.0 * G.N * G.OHW * (double)G.Cout * G.K;
}

int dl_conv2d_uses_winograd(const dl_tensor *x, const dl_tensor *w, int stride, int padding, int dilation,
                            int groups) {
    conv_geom G;
    geom_init(&G, x, w, stride, padding, dilation, groups);
    return dl_wino_use(G.N, G.C, G.H, G.W, G.Cout, G.KH, G.KW, stride, padding, dilation, groups);
}

/* Column block b: images [n0, n0 + nimg) and, for a per-image block, pixels [p0, p0 + len). */
typedef struct blk {
    int n0, nimg;
    int64_t p0, len, ncols;
} blk;

static int64_t n_blocks(const conv_geom *G) {
    if (G->per_image) return (int64_t)G->N * ((G->OHW + G->cols - 1) / G->cols);
    return (G->N + G->imgs - 1) / G->imgs;
}

static blk block_at(const conv_geom *G, int64_t b) {
    blk k;
    if (G->per_image) {
        const int64_t per = (G->OHW + G->cols - 1) / G->cols;
        k.n0 = (int)(b / per), k.nimg = 1;
        k.p0 = (b % per) * G->cols;
        k.len = G->OHW - k.p0 < G->cols ? G->OHW - k.p0 : G->cols;
        k.ncols = k.len;
    } else {
        k.n0 = (int)(b * G->imgs);
        k.nimg = G->N - k.n0 < G->imgs ? G->N - k.n0 : G->imgs;
        k.p0 = 0, k.len = G->OHW;
        k.ncols = (int64_t)k.nimg * G->OHW;
    }
    return k;
}

/* One im2col row segment: out[ow] for output row oh, pixels [ow0, ow1), of input
 * plane xp at kernel offset (kh, kw). Positions in the padding read 0. */
static void im2col_row(const conv_geom *G, const float *xp, int kh, int kw, int oh, int ow0, int ow1, float *out) {
    const int ih = oh * G->s - G->p + kh * G->d;
    if (ih < 0 || ih >= G->H) {
        memset(out, 0, (size_t)(ow1 - ow0) * sizeof(float));
        return;
    }
    const float *row = xp + (int64_t)ih * G->W;
    const int off = kw * G->d - G->p;
    if (G->s == 1) {
        /* iw = ow + off inside [0, W) for ow in [lo, hi) */
        int lo = -off > ow0 ? -off : ow0, hi = G->W - off < ow1 ? G->W - off : ow1;
        if (hi < lo) hi = lo;
        for (int ow = ow0; ow < lo && ow < ow1; ow++) out[ow - ow0] = 0.0f;
        if (hi > lo) memcpy(out + (lo - ow0), row + lo + off, (size_t)(hi - lo) * sizeof(float));
        for (int ow = hi > lo ? hi : lo; ow < ow1; ow++) out[ow - ow0] = 0.0f;
        return;
    }
    /* strided: iw = ow s + off inside [0, W) for ow in [lo, hi); no test per element */
    int lo = off >= 0 ? 0 : (-off + G->s - 1) / G->s, hi = G->W - off > 0 ? (G->W - off + G->s - 1) / G->s : 0;
    if (lo < ow0) lo = ow0;
    if (hi > ow1) hi = ow1;
    if (hi < lo) hi = lo;
    for (int ow = ow0; ow < lo; ow++) out[ow - ow0] = 0.0f;
    if (G->s == 2 && hi > lo && s2_avx512())
        dl_avx512_gather_s2(row + lo * 2 + off, hi - lo, out + (lo - ow0));
    else
        for (int ow = lo; ow < hi; ow++) out[ow - ow0] = row[ow * G->s + off];
    for (int ow = hi; ow < ow1; ow++) out[ow - ow0] = 0.0f;
}

/* The same scattered back: dx plane += the segment (col2im). */
static void col2im_row(const conv_geom *G, float *gp, int kh, int kw, int oh, int ow0, int ow1, const float *in) {
    const int ih = oh * G->s - G->p + kh * G->d;
    if (ih < 0 || ih >= G->H) return;
    float *row = gp + (int64_t)ih * G->W;
    const int off = kw * G->d - G->p;
    if (G->s == 1) { /* a contiguous run: vectorisable */
        const int lo = -off > ow0 ? -off : ow0, hi = G->W - off < ow1 ? G->W - off : ow1;
#pragma omp simd
        for (int ow = lo; ow < hi; ow++) row[ow + off] += in[ow - ow0];
        return;
    }
    int lo = off >= 0 ? 0 : (-off + G->s - 1) / G->s, hi = G->W - off > 0 ? (G->W - off + G->s - 1) / G->s : 0;
    if (lo < ow0) lo = ow0;
    if (hi > ow1) hi = ow1;
    if (G->s == 2 && hi > lo && s2_avx512()) {
        dl_avx512_scatter_add_s2(in + (lo - ow0), hi - lo, row + lo * 2 + off);
        return;
    }
    for (int ow = lo; ow < hi; ow++) row[ow * G->s + off] += in[ow - ow0];
}

/* Pixels [p0, p0 + len) of one image in output-row segments. */
#define FOR_SEGMENTS(G, p0, len, oh, ow0, ow1, at, body)                                        \
    do {                                                                                        \
        int64_t q_ = (p0);                                                                      \
        const int64_t e_ = (p0) + (len);                                                        \
        while (q_ < e_) {                                                                       \
            const int oh = (int)(q_ / (G)->OW), ow0 = (int)(q_ % (G)->OW);                      \
            const int ow1 = (int)((e_ - (int64_t)oh * (G)->OW) < (G)->OW ? e_ - (int64_t)oh * (G)->OW \
                                                                           : (G)->OW);          \
            const int64_t at = q_ - (p0);                                                       \
            body;                                                                               \
            q_ += ow1 - ow0;                                                                    \
        }                                                                                       \
    } while (0)

/* col[K, ncols] (row stride ncols) of group gr for block k. */
static void im2col(const conv_geom *G, const float *x, int gr, const blk *k, float *col) {
    const int KK = G->KH * G->KW;
#pragma omp parallel for schedule(static) if ((int64_t)G->K * k->ncols > DL_PAR_MIN)
    for (int r = 0; r < G->K; r++) {
        const int c = r / KK, kh = (r % KK) / G->KW, kw = r % G->KW;
        for (int i = 0; i < k->nimg; i++) {
            const float *xp = x + ((int64_t)(k->n0 + i) * G->C + (int64_t)gr * G->Cg + c) * G->HW;
            float *out = col + (int64_t)r * k->ncols + (int64_t)i * G->OHW;
            FOR_SEGMENTS(G, k->p0, k->len, oh, ow0, ow1, at, im2col_row(G, xp, kh, kw, oh, ow0, ow1, out + at));
        }
    }
}

/* dx += col2im(dcol) of group gr for block k; split over input channels, each
 * channel's kernel rows added in a fixed order. */
static void col2im(const conv_geom *G, float *gx, int gr, const blk *k, const float *dcol) {
    const int KK = G->KH * G->KW;
#pragma omp parallel for schedule(static) if ((int64_t)G->K * k->ncols > DL_PAR_MIN)
    for (int c = 0; c < G->Cg; c++)
        for (int i = 0; i < k->nimg; i++) {
            float *gp = gx + ((int64_t)(k->n0 + i) * G->C + (int64_t)gr * G->Cg + c) * G->HW;
            for (int t = 0; t < KK; t++) {
                const int r = c * KK + t, kh = t / G->KW, kw = t % G->KW;
                const float *in = dcol + (int64_t)r * k->ncols + (int64_t)i * G->OHW;
                FOR_SEGMENTS(G, k->p0, k->len, oh, ow0, ow1, at, col2im_row(G, gp, kh, kw, oh, ow0, ow1, in + at));
            }
        }
}

/* Copies between NCHW rows of a group (Coutg channels of each image of the block)
 * and a [Coutg, ncols] matrix; to_mat = 1 gathers, 0 scatters. */
static void gather_group(const conv_geom *G, float *nchw, int gr, const blk *k, float *mat, int to_mat) {
    for (int co = 0; co < G->Coutg; co++)
        for (int i = 0; i < k->nimg; i++) {
            float *t = nchw + ((int64_t)(k->n0 + i) * G->Cout + (int64_t)gr * G->Coutg + co) * G->OHW + k->p0;
            float *m = mat + (int64_t)co * k->ncols + (int64_t)i * G->OHW;
            if (to_mat)
                memcpy(m, t, (size_t)k->len * sizeof(float));
            else
                memcpy(t, m, (size_t)k->len * sizeof(float));
        }
}

static void conv_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *x = r->in[0], *w = r->in[1], *bias = r->in[2], *out = r->out;
    conv_geom G;
    geom_init(&G, x, w, r->arg.i[0], r->arg.i[1], r->arg.i[2], r->arg.i[3]);
    const float *dy = out->grad;
    if (bias && bias->requires_grad) {
        float *gb = dl_tensor_grad(g, bias);
        for (int n = 0; n < G.N; n++)
            for (int co = 0; co < G.Cout; co++)
                gb[co] += (float)dl_sum_det(dy + ((int64_t)n * G.Cout + co) * G.OHW, G.OHW);
    }
    /* a fresh dW (the step's first gradient into a replica's buffer) is written, not
     * zeroed and added to: the same bits without a pass over the weights' size */
    int gw_fresh = 0;
    float *gw = w->requires_grad ? dl_grad_out(g, w, &gw_fresh) : NULL;
    if (gw && gw_fresh && (int64_t)G.N * G.OHW == 0) { /* no output: nothing below writes dW */
        memset(gw, 0, (size_t)w->size * sizeof(float));
        gw_fresh = 0;
    }
    float *gx = NULL;
    int fresh = 0;
    if (x->requires_grad) gx = dl_grad_out(g, x, &fresh);
    if (r->arg.i[4]) { /* recorded as Winograd by the forward; it writes every pixel of a fresh dX */
        if (gw || gx) dl_wino_backward(g, r->arg.i[4], x->data, w->data, dy, G.N, G.C, G.H, G.W, G.Cout, G.p, gw, gw_fresh, gx,
                                         fresh);
        return;
    }
    if (gx && fresh) memset(gx, 0, (size_t)x->size * sizeof(float));
    if (!gw && !gx) return;
    const int64_t nb = n_blocks(&G);
    /* Columns (im2col, or x's channels gathered for whole-image blocks of a 1x1
     * convolution) unless x serves as its own columns; dY gathered for whole-image blocks. */
    const size_t colf = G.direct && G.per_image ? 0 : (size_t)G.K * G.cols;
    const size_t dyf = G.per_image ? 0 : (size_t)G.Coutg * G.cols;
    /* A weight gradient with few columns (K = C/groups KH KW, e.g. 9 for a 3x3 kernel
     * on one input channel) runs transposed, dW^T[K, Cout_g] = col dY^T, so the
     * GEMM's wide register tile spans the output channels instead of K. So does
     * one whose columns outnumber the output channels by enough that packing
     * dY^T (Cout_g rows) instead of col^T (K rows) saves more than the K x Cout_g
     * transposed add costs: resnet-det's 7x7/2 stem (K = 147, 64 channels: the
     * col^T pack was a second pass over 38 MB of columns) and its 3x3/2 layers
     * with 128 and 256 channels (K = 576, 1152). */
    const int small_k = (G.K < 16 && G.Coutg > G.K) ||
                        (G.K > G.Coutg && (int64_t)G.K * G.Coutg < G.cols * (int64_t)(G.K - G.Coutg));
    const size_t wtf = small_k ? (size_t)G.K * G.Coutg : 0;
    float *scr = colf + dyf + wtf ? dl_graph_scratch(g, (colf + dyf + wtf) * sizeof(float)) : NULL;
    float *col = scr, *dym = scr + colf, *wt = scr + colf + dyf;
    float *dcol = col; /* the columns are dead once dW is done */
    for (int64_t b = 0; b < nb; b++) {
        const blk k = block_at(&G, b);
        for (int gr = 0; gr < G.groups; gr++) {
            const float *wg = w->data + (int64_t)gr * G.Coutg * G.K;
            const float *dmat;
            int64_t ldd;
            if (G.per_image) {
                dmat = dy + ((int64_t)k.n0 * G.Cout + (int64_t)gr * G.Coutg) * G.OHW + k.p0;
                ldd = G.OHW;
            } else {
                gather_group(&G, (float *)dy, gr, &k, dym, 1);
                dmat = dym, ldd = k.ncols;
            }
            const float *cm;
            int64_t ldc;
            if (G.direct && G.per_image) {
                cm = x->data + ((int64_t)k.n0 * G.C + (int64_t)gr * G.Cg) * G.HW + k.p0, ldc = G.HW;
            } else if (G.direct) { /* whole images: gather their channels of the group */
                for (int c = 0; c < G.Cg; c++)
                    for (int i = 0; i < k.nimg; i++)
                        memcpy(col + (int64_t)c * k.ncols + (int64_t)i * G.OHW,
                               x->data + ((int64_t)(k.n0 + i) * G.C + (int64_t)gr * G.Cg + c) * G.HW,
                               (size_t)G.OHW * sizeof(float));
                cm = col, ldc = k.ncols;
            } else {
                im2col(&G, x->data, gr, &k, col);
                cm = col, ldc = k.ncols;
            }
            const int wfirst = gw_fresh && b == 0; /* this group's rows of dW not yet written */
            if (gw && small_k) {
                dl_sgemm(0, 1, G.K, G.Coutg, (int)k.ncols, 1.0f, cm, (int)ldc, dmat, (int)ldd, 0.0f, wt, G.Coutg);
                float *gwg = gw + (int64_t)gr * G.Coutg * G.K;
                for (int co = 0; co < G.Coutg; co++)
                    for (int q = 0; q < G.K; q++)
                        gwg[co * G.K + q] = wfirst ? wt[q * G.Coutg + co] : gwg[co * G.K + q] + wt[q * G.Coutg + co];
            } else if (gw) {
                dl_sgemm(0, 1, G.Coutg, G.K, (int)k.ncols, 1.0f, dmat, (int)ldd, cm, (int)ldc, wfirst ? 0.0f : 1.0f,
                         gw + (int64_t)gr * G.Coutg * G.K, G.K);
            }
            if (!gx) continue;
            if (G.direct && G.per_image) { /* dX slice += W^T dY directly */
                float *gxs = gx + ((int64_t)k.n0 * G.C + (int64_t)gr * G.Cg) * G.HW + k.p0;
                dl_sgemm(1, 0, G.K, (int)k.ncols, G.Coutg, 1.0f, wg, G.K, dmat, (int)ldd, 1.0f, gxs, (int)G.HW);
                continue;
            }
            dl_sgemm(1, 0, G.K, (int)k.ncols, G.Coutg, 1.0f, wg, G.K, dmat, (int)ldd, 0.0f, dcol, (int)k.ncols);
            if (G.direct) {
                for (int c = 0; c < G.Cg; c++)
                    for (int i = 0; i < k.nimg; i++)
                        dl_k_acc(dcol + (int64_t)c * k.ncols + (int64_t)i * G.OHW,
                                 gx + ((int64_t)(k.n0 + i) * G.C + (int64_t)gr * G.Cg + c) * G.HW, G.OHW);
            } else {
                col2im(&G, gx, gr, &k, dcol);
            }
        }
    }
}

dl_tensor *dl_conv2d(dl_graph *g, dl_tensor *x, dl_tensor *w, dl_tensor *bias, int stride, int padding,
                     int dilation, int groups) {
    conv_geom G;
    geom_init(&G, x, w, stride, padding, dilation, groups);
    if (bias && bias->size != G.Cout) dl_fatal("dl_conv2d: bias has %lld elements, expected %d", (long long)bias->size, G.Cout);
    int shape[4] = {G.N, G.Cout, G.OH, G.OW};
    dl_tensor *out = dl_tensor_new(g, 4, shape);
    const int wino = dl_wino_use(G.N, G.C, G.H, G.W, G.Cout, G.KH, G.KW, stride, padding, dilation, groups);
    if (wino) {
        dl_wino_forward(g, wino, x->data, w->data, bias ? bias->data : NULL, G.N, G.C, G.H, G.W, G.Cout, padding,
                        out->data);
        goto record;
    }
    const int64_t nb = n_blocks(&G);
    const size_t colf = G.direct && G.per_image ? 0 : (size_t)G.K * G.cols;
    const size_t ym = G.per_image ? 0 : (size_t)G.Coutg * G.cols;
    float *scr = colf + ym ? dl_graph_scratch(g, (colf + ym) * sizeof(float)) : NULL;
    float *col = scr, *ymat = scr + colf;
    for (int64_t b = 0; b < nb; b++) {
        const blk k = block_at(&G, b);
        for (int gr = 0; gr < G.groups; gr++) {
            const float *wg = w->data + (int64_t)gr * G.Coutg * G.K;
            const float *bg = bias ? bias->data + (int64_t)gr * G.Coutg : NULL;
            const float *cm;
            int64_t ldc;
            if (G.direct && G.per_image) {
                cm = x->data + ((int64_t)k.n0 * G.C + (int64_t)gr * G.Cg) * G.HW + k.p0, ldc = G.HW;
            } else if (G.direct) {
                for (int c = 0; c < G.Cg; c++)
                    for (int i = 0; i < k.nimg; i++)
                        memcpy(col + (int64_t)c * k.ncols + (int64_t)i * G.OHW,
                               x->data + ((int64_t)(k.n0 + i) * G.C + (int64_t)gr * G.Cg + c) * G.HW,
                               (size_t)G.OHW * sizeof(float));
                cm = col, ldc = k.ncols;
            } else {
                im2col(&G, x->data, gr, &k, col);
                cm = col, ldc = k.ncols;
            }
            float *ydst;
            int64_t ldy;
            if (G.per_image)
                ydst = out->data + ((int64_t)k.n0 * G.Cout + (int64_t)gr * G.Coutg) * G.OHW + k.p0, ldy = G.OHW;
            else
                ydst = ymat, ldy = k.ncols;
            /* Y^T = col^T W^T would put the bias on rows; here it is per output channel
             * (a row of Y), so the product runs plain and the bias is added below. */
            dl_sgemm(0, 0, G.Coutg, (int)k.ncols, G.K, 1.0f, wg, G.K, cm, (int)ldc, 0.0f, ydst, (int)ldy);
            if (bg)
                for (int co = 0; co < G.Coutg; co++) {
                    float *yr = ydst + (int64_t)co * ldy;
                    const float bv = bg[co];
                    for (int64_t j = 0; j < k.ncols; j++) yr[j] += bv;
                }
            if (!G.per_image) gather_group(&G, out->data, gr, &k, ymat, 0);
        }
    }
record:;
    dl_rec *r = dl_record(g, conv_bwd, out, x, w, bias);
    if (r) {
        r->arg.i[0] = stride, r->arg.i[1] = padding, r->arg.i[2] = dilation, r->arg.i[3] = groups;
        r->arg.i[4] = wino;
    }
    return out;
}
