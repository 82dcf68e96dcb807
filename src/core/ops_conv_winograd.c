/* 3x3 stride-1 convolution by Winograd's minimal filtering F(4x4, 3x3) (Lavin &
 * Gray 2016, "Fast Algorithms for Convolutional Neural Networks", section 4):
 * each 4x4 output tile of each channel pair costs 36 multiplies instead of 144.
 * The same code runs F(2x2, 3x3) (m = 2 below: 4x4 input tiles, 16 products per
 * 2x2 output tile instead of 36) for small maps, where F(4x4, 3x3) makes too few
 * tiles; the formulas below then read 16 for 36 and m for 4.
 *
 * Forward, for tiles t (image n, tile row ty, tile column tx) of the output:
 *   V[xi][t][c]   = (B^T d_{t,c} B)[xi]          input transform, d = 6x6 patch
 *   U[xi][c][co]  = (G w[co][c] G^T)[xi]         filter transform
 *   M[xi][t][co]  = sum_c V[xi][t][c] U[xi][c][co]   36 GEMMs [tiles x C] @ [C x Cout]
 *   y tile        = A^T M[.][t][co] A
 * Backward data is the same algorithm on dY with the filters rotated by 180
 * degrees and their channel axes swapped (padding 2 - p, output H x W, added to dX).
 * Backward weights: Z[xi][t][co] = (A dY_t A^T)[xi], dU[xi] = Z[xi]^T V[xi] (36
 * GEMMs [Cout x tiles] @ [tiles x C], accumulated over tile blocks in a fixed
 * order), dW += G^T dU G.
 *
 * Layout: x (or dY) is first copied into a zero-padded NHWC buffer whose channel
 * count is rounded up to 16, so every transform reads and writes 16 contiguous
 * channels (one AVX-512 vector; conv_winograd_kernels.h) and needs no bounds test;
 * tiles past the output edge read zeros and their outputs are not stored. Tiles
 * are processed in blocks so the block's V and M stay near the caches.
 * Every buffer lives in the graph's scratch (no allocation per step after the
 * first). The transforms split over tiles (each writes its own memory), the 36
 * GEMMs over xi, and each GEMM is deterministic: the same bits for any thread count.
 *
 * Accuracy: the F(4x4, 3x3) transforms multiply rounding errors by up to ~10x
 * against the direct sum (the matrices hold 8 and 1/24); F(2x2, 3x3) (entries
 * 1 and 1/2) stays at im2col's error; docs/benchmarks.md gives the measured
 * error against float64 PyTorch. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "core/conv_winograd.h"
#include "dynlab/conv.h"
#include "dynlab/gemm.h"

#define WK_ATTR
#define WK(name) name##_generic
#include "core/conv_winograd_kernels.h"
#undef WK_ATTR
#undef WK
#if defined(__x86_64__) && defined(__GNUC__)
#define WK_ATTR __attribute__((target("avx512f")))
#define WK(name) name##_avx512
#include "core/conv_winograd_kernels.h"
#undef WK_ATTR
#undef WK
#define HAVE_WK512 1
#include "core/vmath_avx512.h"

/* nrows consecutive image rows of NCHW x (channel stride cs, W pixels per row,
 * C channels; the rows contiguous in each plane) -> NHWC dst[r drow + w Cp + c],
 * by 16x16 register transposes over the rows' pixels taken as one run (narrow
 * maps such as 7 or 14 pixels then fill the vectors); lanes past C are written 0. */
T512 static void nhwc_rows_avx512(const float *src, int64_t cs, int C, int W, int nrows, int64_t drow, int Cp,
                                  float *dst) {
    const int total = W * nrows;
    for (int c0 = 0; c0 < C; c0 += 16) {
        const int nc = C - c0 < 16 ? C - c0 : 16;
        for (int j0 = 0; j0 < total; j0 += 16) {
            const int nj = total - j0 < 16 ? total - j0 : 16;
            const __mmask16 m = tail_mask(nj);
            __m512 r[16];
            for (int i = 0; i < 16; i++)
                r[i] = i < nc ? _mm512_maskz_loadu_ps(m, src + (int64_t)(c0 + i) * cs + j0) : _mm512_setzero_ps();
            transpose16_regs(r);
            int row = j0 / W, w = j0 % W;
            for (int j = 0; j < nj; j++) {
                _mm512_storeu_ps(dst + row * drow + (int64_t)w * Cp + c0, r[j]);
                if (++w == W) w = 0, row++;
            }
        }
    }
}

/* y[(a 4 + b) 16 + l] (4x4 outputs of 16 channels) -> dst + l cs + a OW + b for
 * l < lanes, a < ra, b < rb; plus bias[l], or added to dst when accumulate. */
T512 static void store_tile_avx512(const float *y, float *dst, int64_t cs, int OW, int lanes, int ra, int rb,
                                   const float *bias, int accumulate) {
    __m512 r[16];
    for (int i = 0; i < 16; i++) r[i] = _mm512_load_ps(y + i * 16);
    transpose16_regs(r); /* r[l]: the 16 outputs of channel l, row-major */
    for (int l = 0; l < lanes; l++) {
        __m512 v = bias ? _mm512_add_ps(r[l], _mm512_set1_ps(bias[l])) : r[l];
        __m128 q[4] = {_mm512_extractf32x4_ps(v, 0), _mm512_extractf32x4_ps(v, 1), _mm512_extractf32x4_ps(v, 2),
                       _mm512_extractf32x4_ps(v, 3)};
        float *d = dst + l * cs;
        for (int a = 0; a < ra; a++, d += OW) {
            if (rb == 4) {
                _mm_storeu_ps(d, accumulate ? _mm_add_ps(_mm_loadu_ps(d), q[a]) : q[a]);
            } else {
                float tmp[4];
                _mm_storeu_ps(tmp, q[a]);
                for (int b = 0; b < rb; b++) d[b] = accumulate ? d[b] + tmp[b] : tmp[b];
            }
        }
    }
}

/* d[l 9 + k] += dg[k 16 + l] for k < 9, l < lanes: the 9 weight-gradient taps
 * of 16 input channels of one output channel, 9 lanes consecutive floats of dW,
 * added as 9 full vectors gathered from dg in that order (the same adds, same
 * bits as the scalar loop; per-channel masked 9-float stores, each overlapping
 * the next one's load, ran at a fraction of this). */
T512 static void add_filter_grad_avx512(const float *dg, float *d, int lanes, int fresh) {
    static const int32_t idx[144] __attribute__((aligned(64))) = {
#define I9(l) (l), 16 + (l), 32 + (l), 48 + (l), 64 + (l), 80 + (l), 96 + (l), 112 + (l), 128 + (l)
        I9(0), I9(1), I9(2),  I9(3),  I9(4),  I9(5),  I9(6),  I9(7),
        I9(8), I9(9), I9(10), I9(11), I9(12), I9(13), I9(14), I9(15)
#undef I9
    };
    const int n = 9 * lanes;
    for (int j = 0; 16 * j < n; j++) {
        const __mmask16 m = tail_mask(n - 16 * j);
        const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, _mm512_load_si512(idx + 16 * j), dg, 4);
        _mm512_mask_storeu_ps(d + 16 * j, m, fresh ? v : _mm512_add_ps(_mm512_maskz_loadu_ps(m, d + 16 * j), v));
    }
}
#else
#define HAVE_WK512 0
#endif

/* ---- algorithm setting ----------------------------------------------------- */
static int conv_algo = -1; /* -1: not yet read from DYNLAB_CONV_ALGO */

int dl_conv2d_algo_parse(const char *s) {
    if (!s) return -1;
    if (!strcmp(s, "auto")) return DL_CONV_AUTO;
    if (!strcmp(s, "im2col")) return DL_CONV_IM2COL;
    if (!strcmp(s, "winograd")) return DL_CONV_WINOGRAD;
    if (!strcmp(s, "winograd2")) return DL_CONV_WINOGRAD2;
    return -1;
}

void dl_conv2d_set_algo(int algo) { conv_algo = algo; }

int dl_conv2d_get_algo(void) {
    if (conv_algo < 0) {
        const char *e = getenv("DYNLAB_CONV_ALGO");
        const int a = e && *e ? dl_conv2d_algo_parse(e) : DL_CONV_AUTO;
        if (a < 0) dl_fatal("DYNLAB_CONV_ALGO='%s': expected auto, im2col, winograd or winograd2", e);
        conv_algo = a;
    }
    return conv_algo;
}

/* Tests shrink the tile blocks to reach several blocks per convolution. */
static int64_t block_floats_override = 0;
void dl_conv2d_set_winograd_block_floats(int64_t n) { block_floats_override = n > 0 ? n : 0; }

static int force_generic = 0;
void dl_conv2d_winograd_force_generic(int on) { force_generic = on; }

static int use_avx512(void) {
#if HAVE_WK512
    static int v = -1; /* the CPU's answer never changes: a benign race */
    if (v < 0) v = __builtin_cpu_supports("avx512f") ? 1 : 0;
    return v && !force_generic;
#else
    return 0;
#endif
}

/* auto's choice among im2col, F(2x2, 3x3) and F(4x4, 3x3) for 3x3 stride-1
 * convolutions with at least 16 channels on both sides (fewer give the GEMMs no
 * depth), from sweeps of batch 1-8, 16-512 channels and 4x4-16x16 maps, forward and
 * both gradients, after the one-block convolutions got their filters per strip
 * (docs/benchmarks.md, "Fourth round"):
 *  - im2col below 16 F(2x2) tiles (512 channels on 4x4 maps at batch 2: 6.2 ms
 *    against F(2x2)'s 7.3);
 *  - otherwise the variant with the smaller cost tiles x products + ALPHA x products,
 *    where products is 36 or 16 per tile and channel pair and ALPHA (in tiles) prices
 *    the filter transforms and the weight gradient's back-transform, which scale
 *    with the products, not with the tiles. ALPHA = 6.5 separates every measured
 *    pair: 512 channels on 8x8 maps take F(4x4) from batch 2 (8 tiles: 12.5-13.2
 *    against 13.7-14.2 ms) and F(2x2) at batch 1 (4 tiles: 9.4-9.7 against
 *    9.5-10.1 ms, and im2col's 10.3-10.4); 256 channels on 6x6 and 5x5 maps, whose
 *    4x4 tiles are half padding, take F(2x2); 10x10 to 16x16 maps take F(4x4).
 * Before the strips, F(4x4) needed 32 tiles and F(2x2) 32 on 512 x 512 channels.
 * `dynlab bench --conv-choice` times these shapes with each algorithm (to refit). */
#define WINO_MIN_TILES2 16
#define WINO_ALPHA_X2 13 /* 2 x ALPHA */

/* ---- geometry ------------------------------------------------------------ */
typedef struct wplan {
    int N, C, H, W, Co, pad; /* the convolution run: x [N, C, H, W] -> [N, Co, OH, OW] */
    int m, a, nx;            /* output tile m x m (4 or 2), input tile a x a (a = m + 2), nx = a^2 products */
    int OH, OW, th, tw, Hp, Wp, Cp, Cop;
    int64_t T, TB; /* tiles in all, tiles per block */
} wplan;

static int up16(int n) { return (n + 15) / 16 * 16; }
static size_t fl16(int64_t n) { return (size_t)((n + 15) / 16 * 16); } /* 64-byte multiples */
/* Distance between the 36 matrices of a block: one cache line more than the
 * block, so the 36 streams a tile transform reads or writes fall in different L1
 * sets (a multiple of 4 KB would put them all in one). */
static int64_t xi_stride(int64_t tb, int cp) { return tb * cp / 1024 * 1024 + 1024 + 16; }

/* Distance between the transformed filter matrices U[xi] [K x N] (K = C, N = Co
 * forward; K = Co, N = C for the input gradient). The filter transform writes
 * them straight into dl_sgemm's packed-B layout (dl_sgemm_packed_b), so the
 * GEMMs read contiguous strips with no packing pass of their own: at M = 64
 * tiles per GEMM, packing U inside each call cost as much as it saved, and
 * reading it in place (rows 2 KB apart on 512 channels) ran the kernels 30%
 * slower (perf of resnet-det's layer 4, docs/benchmarks.md). Same spacing
 * trick as xi_stride. */
static int64_t u_stride(int K, int N) { return dl_sgemm_packed_b_floats(N, K) / 1024 * 1024 + 1024 + 16; }

static void plan(wplan *P, int m, int N, int C, int H, int W, int Co, int pad) {
    P->N = N, P->C = C, P->H = H, P->W = W, P->Co = Co, P->pad = pad;
    P->m = m, P->a = m + 2, P->nx = (m + 2) * (m + 2);
    P->OH = H + 2 * pad - 2, P->OW = W + 2 * pad - 2;
    P->th = (P->OH + m - 1) / m, P->tw = (P->OW + m - 1) / m;
    P->Hp = m * P->th + 2, P->Wp = m * P->tw + 2;
    P->Cp = up16(C), P->Cop = up16(Co);
    P->T = (int64_t)N * P->th * P->tw;
    /* V and M of a block take nx TB (Cp + Cop) floats; about 1 MB, but at least 64
     * tiles so the GEMMs keep enough rows per packed filter matrix. */
    const int64_t per = P->nx * (int64_t)(P->Cp + P->Cop);
    int64_t tb = block_floats_override ? block_floats_override / per : (1 << 18) / per;
    if (!block_floats_override && tb < 64) tb = 64;
    /* whole rows of tiles per block (each row's band is built once) */
    int64_t rows = tb / P->tw;
    if (rows < 1) rows = 1;
    if (rows > (int64_t)N * P->th) rows = (int64_t)N * P->th;
    P->TB = rows * P->tw;
}

int dl_wino_use(int N, int C, int H, int W, int Cout, int KH, int KW, int stride, int pad, int dil, int groups) {
    if (KH != 3 || KW != 3 || stride != 1 || dil != 1 || groups != 1 || pad > 2) return 0;
    if (H + 2 * pad < 3 || W + 2 * pad < 3) return 0;
    const int a = dl_conv2d_get_algo();
    if (a == DL_CONV_IM2COL) return 0;
    if (a == DL_CONV_WINOGRAD) return 4;
    if (a == DL_CONV_WINOGRAD2) return 2;
    /* auto (the rule and its measurements above WINO_MIN_TILES2) */
    if (C < 16 || Cout < 16) return 0;
    const int64_t tiles4 = (int64_t)N * ((H + 2 * pad - 2 + 3) / 4) * ((W + 2 * pad - 2 + 3) / 4);
    const int64_t tiles2 = (int64_t)N * ((H + 2 * pad - 2 + 1) / 2) * ((W + 2 * pad - 2 + 1) / 2);
    if (tiles2 < WINO_MIN_TILES2) return 0;
    return 36 * (2 * tiles4 + WINO_ALPHA_X2) < 16 * (2 * tiles2 + WINO_ALPHA_X2) ? 4 : 2;
}

/* dst[r drow + w Cp + c] = src[c cs + r W + w] for c < C, w < W, r < nrows;
 * lanes [C, Cp) of each dst pixel zero. */
static void to_lanes(const float *src, int64_t cs, int C, int W, int nrows, int64_t drow, int Cp, float *dst) {
#if HAVE_WK512
    if (use_avx512()) {
        nhwc_rows_avx512(src, cs, C, W, nrows, drow, Cp, dst);
        return;
    }
#endif
    for (int r = 0; r < nrows; r++)
        for (int w = 0; w < W; w++) {
            float *d = dst + r * drow + (int64_t)w * Cp;
            for (int c = 0; c < C; c++) d[c] = src[(int64_t)c * cs + (int64_t)r * W + w];
            for (int c = C; c < Cp; c++) d[c] = 0.0f;
        }
}

/* Rows [r0, r0 + nr) of image n in padded coordinates (x [N, C, H, W] placed at
 * row and column offset off, zeros around, Wp columns) -> band [nr][Wp][Cp], NHWC
 * with the channels past C zero. A band holds what one row of tiles reads, so it
 * is built just before its transforms and read from L1/L2. */
static void band_rows(const float *x, int n, int C, int H, int W, int r0, int nr, int Wp, int Cp, int off,
                      float *band) {
    const int64_t drow = (int64_t)Wp * Cp;
    int lo = -1, hi = -1; /* band rows holding image rows */
    for (int k = 0; k < nr; k++) {
        const int h = r0 + k - off;
        float *dst = band + k * drow;
        if (h < 0 || h >= H) {
            memset(dst, 0, (size_t)drow * sizeof(float));
            continue;
        }
        if (lo < 0) lo = k;
        hi = k + 1;
        memset(dst, 0, (size_t)off * Cp * sizeof(float));
        memset(dst + (int64_t)(off + W) * Cp, 0, (size_t)(Wp - off - W) * Cp * sizeof(float));
    }
    if (lo >= 0)
        to_lanes(x + ((int64_t)n * C * H + (r0 + lo - off)) * W, (int64_t)H * W, C, W, hi - lo, drow, Cp,
                 band + lo * drow + (int64_t)off * Cp);
}

/* The (m + 2)-row band of tile row ty of image n (m: output tile size). When the
 * band holds tile row ty - 1 of the same image (rolled), its last two rows are the
 * new first two: they move up and only m rows are converted. */
static void band_next(const float *x, int m, int n, int C, int H, int W, int ty, int Wp, int Cp, int off,
                      float *band, int rolled) {
    const int64_t drow = (int64_t)Wp * Cp;
    if (rolled && ty > 0) {
        memmove(band, band + m * drow, (size_t)(2 * drow) * sizeof(float));
        band_rows(x, n, C, H, W, m * ty + 2, m, Wp, Cp, off, band + 2 * drow);
    } else {
        band_rows(x, n, C, H, W, m * ty, m + 2, Wp, Cp, off, band);
    }
}

/* The transforms of F(m x m, 3x3), m = 4 or 2, AVX-512 or portable. */
#if HAVE_WK512
#define WK_CALL(m, name, ...)                                                                                  \
    (use_avx512() ? ((m) == 4 ? wk_##name##_avx512(__VA_ARGS__) : wk2_##name##_avx512(__VA_ARGS__))             \
                  : ((m) == 4 ? wk_##name##_generic(__VA_ARGS__) : wk2_##name##_generic(__VA_ARGS__)))
#else
#define WK_CALL(m, name, ...) ((m) == 4 ? wk_##name##_generic(__VA_ARGS__) : wk2_##name##_generic(__VA_ARGS__))
#endif

static void input_tile(int m, const float *src, int64_t row_stride, int cp, float *V, int64_t vs) {
    WK_CALL(m, input_tile, src, row_stride, cp, V, vs);
}

static void output_tile(int m, const float *M, int64_t ms, int c0, float *y) { WK_CALL(m, output_tile, M, ms, c0, y); }

static void filter_tile(int m, const float *g, int64_t gs, int rot, float *U, int64_t us) {
    WK_CALL(m, filter_tile, g, gs, rot, U, us);
}

/* Input channels per transposed chunk of the forward filter transform. */
#define FWD_CB 16

/* Forward filters: U[xi][c][co] (packed B of [C x Co]) from w [Co][C][3][3] (w
 * points at w[o0][k0], rows ws floats apart), per
 * block of 32 output channels (one packed strip of the 6x32 kernel: each store of
 * the two 16-lane halves then fills whole cache lines, and the rows of a strip are
 * written in order), via [9 FWD_CB][32] register transposes of FWD_CB input
 * channels at a time (tmp: 9 FWD_CB 32 floats per thread, in L1): 32 sequential
 * streams of w in, one strip out. (Chunks of input channels over all output
 * channels wrote U all over its strips; a whole transposed copy of w first was a
 * 2 x |w| memory pass more.) */
static void filter_strip_fwd(int m, const float *w, int64_t ws, int Co, int Cop, int o0, int k0, int k1, float *t,
                             float *U, int64_t us, const dl_sgemm_bpack *L, int j0) {
    const int rows = Co - o0 < 32 ? Co - o0 : 32;
    for (int c0 = k0; c0 < k1; c0 += FWD_CB) {
        const int n = k1 - c0 < FWD_CB ? k1 - c0 : FWD_CB;
        to_lanes(w + (int64_t)(c0 - k0) * 9, ws, rows, 9 * n, 1, 0, 32, t);
        for (int c = 0; c < n; c++)
            for (int h = 0; h < 32 && o0 + h < Cop; h += 16)
                filter_tile(m, t + (int64_t)c * 9 * 32 + h, 32, 0, U + dl_sgemm_bpack_offset(L, c0 - k0 + c, j0 + h),
                            us);
    }
}

/* The whole of U: strip o0 at columns o0 of the [C x Co] packed B. */
static void filter_transform_fwd(int m, const float *w, int Co, int C, int Cop, float *tmp, float *U) {
    const int64_t us = u_stride(C, Co);
    const int nblk = (Co + 31) / 32;
    dl_sgemm_bpack L;
    dl_sgemm_packed_b_layout(Co, C, &L);
#pragma omp parallel for schedule(static) if ((int64_t)C * Cop * 36 > DL_PAR_MIN)
    for (int b = 0; b < nblk; b++)
        filter_strip_fwd(m, w + (int64_t)32 * b * C * 9, (int64_t)C * 9, Co, Cop, 32 * b, 0, C, tmp + (int64_t)omp_get_thread_num() * 9 * FWD_CB * 32, U, us, &L,
                         32 * b);
}

/* Input-gradient filters: U[xi][co][c] (packed B of [Co x C]) from w [Co][C][3][3]
 * rotated by 180 degrees, per 32-channel packed strip of c as the forward (rows
 * co of the strip written in order, each store filling whole lines): per output
 * channel, its 32 x 9 taps of the strip's input channels (contiguous in w) are
 * register-transposed into tmp [9][32] (9 32 floats per thread). (One transpose
 * of all C channels per output channel, then the strips, wrote U all over.) */
static void filter_strip_bwd(int m, const float *w, int Co, int C, int Cp, int c0, int k0, int k1, float *t,
                             float *U, int64_t us, const dl_sgemm_bpack *L, int j0) {
    const int n = C - c0 < 32 ? C - c0 : 32;
    for (int co = k0; co < k1; co++) {
        if (co + 1 < k1) /* the next output channel's taps, 9 C floats on (prefetched: 1.3x faster) */
            for (int q = 0; q < 9 * n; q += 16) __builtin_prefetch(w + ((int64_t)(co + 1) * C + c0) * 9 + q);
        to_lanes(w + ((int64_t)co * C + c0) * 9, 9, n, 9, 1, 0, 32, t);
        for (int h = 0; h < 32 && c0 + h < Cp; h += 16)
            filter_tile(m, t + h, 32, 1, U + dl_sgemm_bpack_offset(L, co - k0, j0 + h), us);
    }
}

static void filter_transform_bwd(int m, const float *w, int Co, int C, int Cp, float *tmp, float *U) {
    const int64_t us = u_stride(Co, C);
    const int nblk = (C + 31) / 32;
    dl_sgemm_bpack L;
    dl_sgemm_packed_b_layout(C, Co, &L);
#pragma omp parallel for schedule(static) if ((int64_t)Co * Cp * 36 > DL_PAR_MIN)
    for (int b = 0; b < nblk; b++)
        filter_strip_bwd(m, w, Co, C, Cp, 32 * b, 0, Co, tmp + (int64_t)omp_get_thread_num() * 9 * 32, U, us, &L, 32 * b);
}

/* Tile rows [r0, r0 + nr) of block storage V (input transforms): each row's band is
 * built in `band` (rolled on from the previous row when this caller built that one). */
static void block_inputs(const wplan *P, const float *x, int64_t r0, int k0, int k1, float *V, int64_t vs,
                         float *band) {
    int64_t prev = -1; /* tile row the band holds */
    for (int k = k0; k < k1; k++) {
        const int n = (int)((r0 + k) / P->th), ty = (int)((r0 + k) % P->th);
        band_next(x, P->m, n, P->C, P->H, P->W, ty, P->Wp, P->Cp, P->pad, band, prev == r0 + k - 1);
        prev = r0 + k;
        for (int tx = 0; tx < P->tw; tx++)
            input_tile(P->m, band + (int64_t)P->m * tx * P->Cp, (int64_t)P->Wp * P->Cp, P->Cp,
                       V + (int64_t)(k * P->tw + tx) * P->Cp, vs);
    }
}

/* Output transforms of the block's tiles [i0, i1) (tile t0 + i), stored into out. */
static void block_outputs(const wplan *P, const float *M, int64_t ms, int64_t t0, int i0, int i1, const float *bias,
                          float *out, int accumulate) {
    const int m = P->m;
    const int64_t per = (int64_t)P->th * P->tw;
    for (int i = i0; i < i1; i++) {
        const int64_t t = t0 + i;
        const int n = (int)(t / per), ty = (int)(t % per / P->tw), tx = (int)(t % P->tw);
        const int ra = P->OH - m * ty < m ? P->OH - m * ty : m, rb = P->OW - m * tx < m ? P->OW - m * tx : m;
        float y[16 * 16] __attribute__((aligned(64)));
        if (m != 4) memset(y, 0, sizeof y); /* F(2x2): rows the transform leaves, transposed but not stored */
        for (int c0 = 0; c0 < P->Co; c0 += 16) {
            output_tile(m, M + (int64_t)i * P->Cop, ms, c0, y);
            const int lanes = P->Co - c0 < 16 ? P->Co - c0 : 16;
#if HAVE_WK512
            if (use_avx512()) {
                store_tile_avx512(y, out + (((int64_t)n * P->Co + c0) * P->OH + m * ty) * P->OW + m * tx,
                                  (int64_t)P->OH * P->OW, P->OW, lanes, ra, rb, bias ? bias + c0 : NULL, accumulate);
                continue;
            }
#endif
            for (int l = 0; l < lanes; l++) {
                const int co = c0 + l;
                const float bv = bias ? bias[co] : 0.0f;
                float *dst = out + (((int64_t)n * P->Co + co) * P->OH + m * ty) * P->OW + m * tx;
                for (int a = 0; a < ra; a++)
                    for (int b = 0; b < rb; b++) {
                        const float v = y[(a * 4 + b) * 16 + l];
                        if (accumulate)
                            dst[(int64_t)a * P->OW + b] += v;
                        else
                            dst[(int64_t)a * P->OW + b] = v + bv;
                    }
            }
        }
    }
}

/* Scratch of wino_conv: per block in flight its V and M, and one band per thread. */
static int64_t block_floats(const wplan *P) { return P->nx * (xi_stride(P->TB, P->Cp) + xi_stride(P->TB, P->Cop)); }

/* out [N, Co, OH, OW] = (or +=) conv of x with pre-transformed filters U
 * [36] x packed [C x Co] (+ bias); scr holds one band per thread and V and M of
 * one block (`own`: one block per thread).
 * With at least as many blocks as threads each thread runs whole blocks on its
 * own (`own`): transforms, 36 GEMMs and output transforms, so V and M never
 * leave its core's caches. Otherwise the threads share each block: its tiles
 * split for the transforms, its 36 GEMMs split over xi. Every output pixel
 * comes from the same GEMM call either way: the same bits. */
static void wino_conv(const wplan *P, const float *x, const float *U, const float *bias, float *out, int accumulate,
                      float *scr, int own) {
    const int64_t vs = xi_stride(P->TB, P->Cp), ms = xi_stride(P->TB, P->Cop);
    const int64_t bandf = fl16(P->a * (int64_t)P->Wp * P->Cp), us = u_stride(P->C, P->Co);
    const int64_t rows = (int64_t)P->N * P->th, rpb = P->TB / P->tw; /* tile rows: all, per block */
    const int64_t nblocks = (rows + rpb - 1) / rpb;
    const int nt = own ? omp_get_max_threads() : 1;
    float *bands = scr + nt * block_floats(P);
    if (own) {
#pragma omp parallel if (nt > 1)
        {
            const int me = omp_get_thread_num();
            float *V = scr + me * block_floats(P), *M = V + P->nx * vs, *band = bands + me * bandf;
#pragma omp for schedule(static)
            for (int64_t b = 0; b < nblocks; b++) {
                const int64_t r0 = b * rpb;
                const int nr = (int)(rows - r0 < rpb ? rows - r0 : rpb), nb = nr * P->tw;
                block_inputs(P, x, r0, 0, nr, V, vs, band);
                for (int xi = 0; xi < P->nx; xi++)
                    dl_sgemm_packed_b(0, nb, P->Co, P->C, 1.0f, V + xi * vs, P->Cp, U + xi * us, 0.0f, M + xi * ms,
                                      P->Cop);
                block_outputs(P, M, ms, r0 * P->tw, 0, nb, bias, out, accumulate);
            }
        }
        return;
    }
    float *V = scr, *M = V + P->nx * vs;
    for (int64_t r0 = 0; r0 < rows; r0 += rpb) {
        const int nr = (int)(rows - r0 < rpb ? rows - r0 : rpb), nb = nr * P->tw;
#pragma omp parallel if ((int64_t)nb * 36 * P->Cp > DL_PAR_MIN)
        {
            const int me = omp_get_thread_num(), nth = omp_get_num_threads();
            /* contiguous tile rows per thread, so each rolls its own band */
            block_inputs(P, x, r0, (int)((int64_t)nr * me / nth), (int)((int64_t)nr * (me + 1) / nth), V, vs,
                         bands + me * bandf);
        }
#pragma omp parallel for schedule(static) if ((int64_t)nb * P->Cp * P->Cop * 36 > DL_PAR_MIN)
        for (int xi = 0; xi < P->nx; xi++)
            dl_sgemm_packed_b(0, nb, P->Co, P->C, 1.0f, V + xi * vs, P->Cp, U + xi * us, 0.0f, M + xi * ms, P->Cop);
#pragma omp parallel if ((int64_t)nb * 36 * P->Cop > DL_PAR_MIN)
        {
            const int me = omp_get_thread_num(), nth = omp_get_num_threads();
            block_outputs(P, M, ms, r0 * P->tw, (int)((int64_t)nb * me / nth), (int)((int64_t)nb * (me + 1) / nth),
                          bias, out, accumulate);
        }
    }
}

/* A convolution whose tiles make one block (the deep, weight-heavy layers of a
 * small batch: resnet-det's 16x16 and 8x8 maps) never materialises U: its 16.8 MB
 * (512 channels) were written by the filter transform and read back by the GEMMs,
 * both from memory. Instead, per packed strip of 32 output columns, the strip's
 * transformed filters for every xi (nx K x 32 floats, L2-sized) are built and
 * multiplied at once; the strips split over the threads. The same products as
 * wino_conv's (each GEMM's columns are independent): the same bits.
 * rot = 0: the forward (w [Co][C][3][3], K = C); rot = 1: the input gradient
 * (the plan's C and Co are w's Co and C). */
static int64_t strip_stride(int K) { return dl_sgemm_packed_b_floats(32, K) / 1024 * 1024 + 1024 + 16; }
/* Row stride of the forward's copy of a strip's weights for one K block: a line
 * more than the row, so the 32 rows' same columns fall in different L1 sets. */
static int64_t wcopy_stride(int kc) { return (int64_t)9 * kc + 16; }
static size_t strip_floats(const wplan *P) {
    dl_sgemm_bpack Lk;
    dl_sgemm_packed_b_layout(32, P->C, &Lk);
    const int kc = P->C < Lk.kc ? P->C : Lk.kc;
    /* the strip, the transpose buffer, the forward's weight copy */
    return (size_t)P->nx * strip_stride(P->C) + (size_t)9 * FWD_CB * 32 + (size_t)32 * wcopy_stride(kc);
}

static void wino_conv_strips(const wplan *P, const float *x, const float *w, int rot, const float *bias, float *out,
                             int accumulate, float *scr) {
    const int64_t vs = xi_stride(P->TB, P->Cp), ms = xi_stride(P->TB, P->Cop), ss = strip_stride(P->C);
    const int64_t bandf = fl16(P->a * (int64_t)P->Wp * P->Cp);
    const int nb = (int)P->T, nstrips = (P->Co + 31) / 32;
    dl_sgemm_bpack Lk;
    dl_sgemm_packed_b_layout(32, P->C, &Lk);
    const int kc = Lk.kc;
    float *V = scr, *M = V + P->nx * vs, *bands = M + P->nx * ms, *strips = bands + omp_get_max_threads() * bandf;
#pragma omp parallel if ((int64_t)nb * 36 * P->Cp > DL_PAR_MIN)
    {
        const int me = omp_get_thread_num(), nth = omp_get_num_threads();
        block_inputs(P, x, 0, (int)((int64_t)(nb / P->tw) * me / nth), (int)((int64_t)(nb / P->tw) * (me + 1) / nth),
                     V, vs, bands + me * bandf);
    }
#pragma omp parallel if ((int64_t)nb * P->Cp * P->Cop * 36 > DL_PAR_MIN)
    {
        float *U = strips + (int64_t)omp_get_thread_num() * strip_floats(P), *t = U + P->nx * ss;
        float *wc = t + 9 * FWD_CB * 32;
#pragma omp for schedule(static)
        for (int s = 0; s < nstrips; s++) {
            const int o0 = 32 * s, ncol = P->Co - o0 < 32 ? P->Co - o0 : 32;
            /* one GEMM K block (kc rows) at a time: the strip's rows for all xi stay
             * in L2 (16 x 512 x 32 floats, 1 MB, did not); the GEMM splits K at the
             * same rows, so the products are the same bits */
            for (int k0 = 0; k0 < P->C; k0 += kc) {
                const int k1 = P->C - k0 < kc ? P->C : k0 + kc;
                dl_sgemm_bpack L;
                dl_sgemm_packed_b_layout(ncol, k1 - k0, &L);
                if (rot)
                    filter_strip_bwd(P->m, w, P->C, P->Co, P->Cop, o0, k0, k1, t, U, ss, &L, 0);
                else {
                    /* The 32 rows' taps of this K block, copied row after row first: read
                     * in place, 32 interleaved runs of 576 bytes, the prefetchers did not
                     * follow them and the transposes waited on memory (the 512-channel
                     * layer's forward: 1.5 of its 4.9 ms); sequential runs stream. */
                    const int64_t wcs = wcopy_stride(k1 - k0);
                    for (int o = 0; o < ncol; o++)
                        memcpy(wc + o * wcs, w + ((int64_t)(o0 + o) * P->C + k0) * 9, (size_t)9 * (k1 - k0) * sizeof(float));
                    filter_strip_fwd(P->m, wc, wcs, P->Co, P->Cop, o0, k0, k1, t, U, ss, &L, 0);
                }
                for (int xi = 0; xi < P->nx; xi++)
                    dl_sgemm_packed_b(0, nb, ncol, k1 - k0, 1.0f, V + xi * vs + k0, P->Cp, U + xi * ss, k0 ? 1.0f : 0.0f,
                                      M + xi * ms + o0, P->Cop);
            }
        }
    }
#pragma omp parallel if ((int64_t)nb * 36 * P->Cop > DL_PAR_MIN)
    {
        const int me = omp_get_thread_num(), nth = omp_get_num_threads();
        block_outputs(P, M, ms, 0, (int)((int64_t)nb * me / nth), (int)((int64_t)nb * (me + 1) / nth), bias, out,
                      accumulate);
    }
}

/* Whether the convolution's tiles make a single block (wino_conv_strips). */
static int one_block(const wplan *P) { return P->T <= P->TB; }

static size_t strips_scratch_floats(const wplan *P) {
    return (size_t)block_floats(P) + (size_t)omp_get_max_threads() * (fl16(P->a * (int64_t)P->Wp * P->Cp) + strip_floats(P));
}

/* Whether wino_conv runs whole blocks per thread (enough blocks for every thread). */
static int own_blocks(const wplan *P) {
    const int64_t rows = (int64_t)P->N * P->th, rpb = P->TB / P->tw;
    const int nt = omp_get_max_threads();
    return nt > 1 && (rows + rpb - 1) / rpb >= nt;
}

static size_t conv_scratch_floats(const wplan *P) {
    return (size_t)(own_blocks(P) ? omp_get_max_threads() : 1) * block_floats(P) +
           (size_t)omp_get_max_threads() * fl16(P->a * (int64_t)P->Wp * P->Cp);
}

void dl_wino_forward(dl_graph *g, int m, const float *x, const float *w, const float *bias, int N, int C, int H, int W,
                     int Co, int pad, float *y) {
    wplan P;
    plan(&P, m, N, C, H, W, Co, pad);
    if (one_block(&P)) {
        wino_conv_strips(&P, x, w, 0, bias, y, 0, dl_graph_scratch(g, strips_scratch_floats(&P) * sizeof(float)));
        return;
    }
    const size_t uf = P.nx * (size_t)u_stride(C, Co), cf = conv_scratch_floats(&P);
    const size_t tf = (size_t)omp_get_max_threads() * 9 * FWD_CB * 32;
    float *U = dl_graph_scratch(g, (uf + (cf > tf ? cf : tf)) * sizeof(float));
    filter_transform_fwd(m, w, Co, C, P.Cop, U + uf, U); /* the transpose's space is reused by wino_conv */
    wino_conv(&P, x, U, bias, y, 0, U + uf, own_blocks(&P));
}

/* dw[co][c] += (= when fresh) G^T dU[.][co][c] G, dU [nx][Co][Cp] (the transposed weight-gradient
 * product, so that 16 lanes are 16 input channels of one output channel: their
 * 16 x 9 taps are 144 consecutive floats of dW, added in one sequential run; with
 * lanes over output channels every tile wrote 16 lines 9 C floats apart). */
/* dw[co][c] += (= when fresh) G^T du[.][c] G for one output channel's row du (xi stride ds). */
static void filter_grad_row(int m, const float *du, int64_t ds, int C, float *gw_co, int fresh) {
    float dg[9 * 16] __attribute__((aligned(64)));
    for (int c0 = 0; c0 < C; c0 += 16) {
        const float *src = du + c0;
        const int lanes = C - c0 < 16 ? C - c0 : 16;
        float *d = gw_co + (int64_t)c0 * 9;
#if HAVE_WK512
        if (use_avx512()) {
            m == 4 ? wk_filter_grad_tile_avx512(src, ds, dg) : wk2_filter_grad_tile_avx512(src, ds, dg);
            add_filter_grad_avx512(dg, d, lanes, fresh);
            continue;
        }
#endif
        m == 4 ? wk_filter_grad_tile_generic(src, ds, dg) : wk2_filter_grad_tile_generic(src, ds, dg);
        for (int l = 0; l < lanes; l++)
            for (int k = 0; k < 9; k++) d[l * 9 + k] = fresh ? dg[k * 16 + l] : d[l * 9 + k] + dg[k * 16 + l];
    }
}

static void filter_grad(int m, const float *dU, int C, int Co, int Cp, float *gw, int fresh) {
    const int64_t ds = xi_stride(Co, Cp);
#pragma omp parallel for schedule(static) if ((int64_t)Co * Cp * 36 > DL_PAR_MIN)
    for (int co = 0; co < Co; co++)
        filter_grad_row(m, dU + (int64_t)co * Cp, ds, C, gw + (int64_t)co * C * 9, fresh);
}

/* Output channels per block of the one-block weight gradient (below). */
#define GW_ROWS 16

void dl_wino_backward(dl_graph *g, int m, const float *x, const float *w, const float *dy, int N, int C, int H, int W,
                      int Co, int pad, float *gw, int gw_fresh, float *gx, int gx_fresh) {
    if (gw) {
        /* Tiles of the forward convolution: V from x, Z from dY (bands of 6 rows of x
         * and 4 rows of dY, zero-padded to 4 tw columns, per row of tiles). */
        wplan P;
        plan(&P, m, N, C, H, W, Co, pad);
        const int OH = P.OH, OW = P.OW, Dw = m * P.tw;
        const int64_t vs = xi_stride(P.TB, P.Cp), zs = xi_stride(P.TB, P.Cop);
        const int64_t bandf = fl16(P.a * (int64_t)P.Wp * P.Cp) + fl16(m * (int64_t)Dw * P.Cop);
        /* One tile block (the deep layers of a small batch): dU is made GW_ROWS output
         * channels at a time and back-transformed while in L2, instead of all of it
         * (16.8 MB at 512 channels) going to memory and back; each row of dU is the
         * same product either way. */
        const int single = one_block(&P);
        const int64_t bs = xi_stride(GW_ROWS, P.Cp);
        const size_t vf = P.nx * (size_t)vs, zf = P.nx * (size_t)zs,
                     duf = single ? (size_t)omp_get_max_threads() * P.nx * bs : P.nx * (size_t)xi_stride(Co, P.Cp);
        float *V = dl_graph_scratch(g, (vf + zf + duf + (size_t)omp_get_max_threads() * bandf) * sizeof(float));
        float *Z = V + vf, *dU = Z + zf, *bands = dU + duf;
        const int64_t rows = (int64_t)N * P.th, rpb = P.TB / P.tw;
        for (int64_t r0 = 0; r0 < rows; r0 += rpb) {
            const int nr = (int)(rows - r0 < rpb ? rows - r0 : rpb), nb = nr * P.tw;
#pragma omp parallel if ((int64_t)nb * 36 * (P.Cp + P.Cop) > DL_PAR_MIN)
            {
            float *xb = bands + omp_get_thread_num() * bandf, *db = xb + fl16(P.a * (int64_t)P.Wp * P.Cp);
            int64_t prev = -1;
#pragma omp for schedule(static)
            for (int k = 0; k < nr; k++) {
                const int n = (int)((r0 + k) / P.th), ty = (int)((r0 + k) % P.th);
                band_next(x, m, n, C, H, W, ty, P.Wp, P.Cp, pad, xb, prev == r0 + k - 1);
                prev = r0 + k;
                band_rows(dy, n, Co, OH, OW, m * ty, m, Dw, P.Cop, 0, db);
                for (int tx = 0; tx < P.tw; tx++) {
                    const int64_t i = (int64_t)k * P.tw + tx;
                    input_tile(m, xb + (int64_t)m * tx * P.Cp, (int64_t)P.Wp * P.Cp, P.Cp, V + i * P.Cp, vs);
                    WK_CALL(m, grad_tile, db + (int64_t)m * tx * P.Cop, (int64_t)Dw * P.Cop, P.Cop, Z + i * P.Cop, zs);
                }
            }
            }
            if (single) {
#pragma omp parallel for schedule(static) if ((int64_t)nb * P.Cp * P.Cop * 36 > DL_PAR_MIN)
                for (int co0 = 0; co0 < Co; co0 += GW_ROWS) {
                    const int R = Co - co0 < GW_ROWS ? Co - co0 : GW_ROWS;
                    float *D = dU + (int64_t)omp_get_thread_num() * P.nx * bs;
                    for (int xi = 0; xi < P.nx; xi++)
                        dl_sgemm(1, 0, R, C, nb, 1.0f, Z + xi * zs + co0, P.Cop, V + xi * vs, P.Cp, 0.0f, D + xi * bs,
                                 P.Cp);
                    for (int r = 0; r < R; r++)
                        filter_grad_row(m, D + (int64_t)r * P.Cp, bs, C, gw + (int64_t)(co0 + r) * C * 9, gw_fresh);
                }
                break;
            }
            /* dU[xi] (+)= Z[xi]^T V[xi] ([Co x C]): blocks in order, so the sum order is fixed */
#pragma omp parallel for schedule(static) if ((int64_t)nb * P.Cp * P.Cop * 36 > DL_PAR_MIN)
            for (int xi = 0; xi < P.nx; xi++)
                dl_sgemm(1, 0, Co, C, nb, 1.0f, Z + xi * zs, P.Cop, V + xi * vs, P.Cp, r0 ? 1.0f : 0.0f,
                         dU + xi * xi_stride(Co, P.Cp), P.Cp);
        }
        if (!single) filter_grad(m, dU, C, Co, P.Cp, gw, gw_fresh);
    }
    if (gx) {
        /* dX = conv(dY, w rotated 180 degrees with in/out channels swapped, padding 2 - pad) */
        wplan Q;
        plan(&Q, m, N, Co, H + 2 * pad - 2, W + 2 * pad - 2, C, 2 - pad);
        if (one_block(&Q)) {
            wino_conv_strips(&Q, dy, w, 1, NULL, gx, !gx_fresh,
                             dl_graph_scratch(g, strips_scratch_floats(&Q) * sizeof(float)));
            return;
        }
        const size_t uf = Q.nx * (size_t)u_stride(Co, C), cf = conv_scratch_floats(&Q);
        const size_t tf = (size_t)omp_get_max_threads() * 9 * 32;
        float *U = dl_graph_scratch(g, (uf + (cf > tf ? cf : tf)) * sizeof(float));
        filter_transform_bwd(m, w, Co, C, Q.Cop, U + uf, U);
        wino_conv(&Q, dy, U, NULL, gx, !gx_fresh, U + uf, own_blocks(&Q));
    }
}
