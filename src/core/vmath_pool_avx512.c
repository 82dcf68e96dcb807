/* AVX-512 2x2 stride-2 max pooling of one output row (ops_pool.c's common case):
 * the compiler keeps the portable loop scalar with a branch per compare, and the
 * pair loads are strided; here 16 outputs at a time, the pairs split with one
 * permute each, the first maximum in scan order (a NaN wins) chosen by masks. */
#include "core/internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "core/vmath_avx512.h"

/* Rows r0, r1 (2*OW inputs each; r1 = r0 + W in the plane); y[ow] and, if arg is not
 * NULL, arg[ow] = index in the plane of the chosen input (base = index of r0[0]). */
T512 void dl_avx512_maxpool2x2_row(const float *r0, const float *r1, int OW, int base, int W, float *y,
                                   int32_t *arg) {
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
    for (int ow = 0; ow < OW; ow += 16) {
        const int n = OW - ow < 16 ? OW - ow : 16;
        const __mmask16 klo = (__mmask16)(2 * n >= 16 ? 0xFFFF : (1u << (2 * n)) - 1);
        const __mmask16 khi = (__mmask16)(2 * n - 16 >= 16 ? 0xFFFF : 2 * n > 16 ? (1u << (2 * n - 16)) - 1 : 0);
        const __mmask16 kout = (__mmask16)(n == 16 ? 0xFFFF : (1u << n) - 1);
        const __m512 a0 = _mm512_maskz_loadu_ps(klo, r0 + 2 * ow), a1 = _mm512_maskz_loadu_ps(khi, r0 + 2 * ow + 16);
        const __m512 b0 = _mm512_maskz_loadu_ps(klo, r1 + 2 * ow), b1 = _mm512_maskz_loadu_ps(khi, r1 + 2 * ow + 16);
        const __m512 v[4] = {_mm512_permutex2var_ps(a0, ev, a1), _mm512_permutex2var_ps(a0, od, a1),
                             _mm512_permutex2var_ps(b0, ev, b1), _mm512_permutex2var_ps(b0, od, b1)};
        const __m512i i0 = _mm512_add_epi32(_mm512_set1_epi32(base + 2 * ow), _mm512_slli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 1));
        const int off[4] = {0, 1, W, W + 1};
        __m512 best = v[0];
        __m512i bi = i0;
        for (int q = 1; q < 4; q++) {
            const __mmask16 t = _mm512_cmp_ps_mask(v[q], best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v[q], v[q], _CMP_UNORD_Q);
            best = _mm512_mask_mov_ps(best, t, v[q]);
            bi = _mm512_mask_mov_epi32(bi, t, _mm512_add_epi32(i0, _mm512_set1_epi32(off[q])));
        }
        _mm512_mask_storeu_ps(y + ow, kout, best);
        if (arg) _mm512_mask_storeu_epi32(arg + ow, kout, bi);
    }
}

/* 3x3 stride-2 max pooling of output row pixels [ow_lo, ow_hi) whose windows lie
 * inside the plane (resnet's stem pool): window of output ow starts at input
 * (h0, 2 ow - pad). 16 outputs at a time; each window row's three taps are split
 * from two pairs of loads by permutes; the first maximum in scan order wins, a
 * NaN wins over a number and stays (the rule of ops_pool.c's scalar loop). */
T512 void dl_avx512_maxpool3x3s2_row(const float *xp, int W, int h0, int pad, int ow_lo, int ow_hi, float *y,
                                     int32_t *arg) {
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
    for (int ow = ow_lo; ow < ow_hi; ow += 16) {
        const int n = ow_hi - ow < 16 ? ow_hi - ow : 16;
        const int w0 = 2 * ow - pad;
        const __mmask16 kout = tail_mask(n);
        __m512 best = _mm512_setzero_ps();
        __m512i bi = _mm512_setzero_si512();
        for (int i = 0; i < 3; i++) {
            const float *row = xp + (int64_t)(h0 + i) * W + w0;
            /* taps 2k and 2k + 1 from row[0, 2n); tap 2k + 2 from row[2, 2n + 1) */
            const __m512 a0 = _mm512_maskz_loadu_ps(tail_mask(2 * n), row);
            const __m512 a1 = _mm512_maskz_loadu_ps(tail_mask(2 * n - 16 > 0 ? 2 * n - 16 : 0), row + 16);
            const __m512 c0 = _mm512_maskz_loadu_ps(tail_mask(2 * n - 1), row + 2);
            const __m512 c1 = _mm512_maskz_loadu_ps(tail_mask(2 * n - 17 > 0 ? 2 * n - 17 : 0), row + 18);
            const __m512 v[3] = {_mm512_permutex2var_ps(a0, ev, a1), _mm512_permutex2var_ps(a0, od, a1),
                                 _mm512_permutex2var_ps(c0, ev, c1)};
            for (int j = 0; j < 3; j++) {
                const __m512i idx = _mm512_add_epi32(_mm512_set1_epi32((h0 + i) * W + w0 + j), ev);
                if (i == 0 && j == 0) {
                    best = v[0], bi = idx;
                    continue;
                }
                const __mmask16 t = _mm512_cmp_ps_mask(v[j], best, _CMP_GT_OQ) |
                                    (_mm512_cmp_ps_mask(v[j], v[j], _CMP_UNORD_Q) &
                                     _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q));
                best = _mm512_mask_mov_ps(best, t, v[j]);
                bi = _mm512_mask_mov_epi32(bi, t, idx);
            }
        }
        _mm512_mask_storeu_ps(y + ow, kout, best);
        if (arg) _mm512_mask_storeu_epi32(arg + ow, kout, bi);
    }
}

/* Stride-2 rows of im2col / col2im (ops_conv.c: the stride-2 convolutions of
 * resnet-det): dst[i] = src[2 i], and dst[2 i] += src[i], for i < n, 16 at a
 * time with one two-source permute; masked, so nothing past src[2 n - 2] (or
 * dst[2 n - 2]) is read or written. Same values and adds as the scalar loops. */
T512 void dl_avx512_gather_s2(const float *src, int n, float *dst) {
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (int i = 0; i < n; i += 16) {
        const int k = n - i < 16 ? n - i : 16, used = 2 * k - 1; /* src elements spanned */
        const __mmask16 klo = (__mmask16)(used >= 16 ? 0xFFFF : (1u << used) - 1);
        const __mmask16 khi = (__mmask16)(used > 16 ? (1u << (used - 16)) - 1 : 0);
        const __m512 a0 = _mm512_maskz_loadu_ps(klo, src + 2 * i), a1 = _mm512_maskz_loadu_ps(khi, src + 2 * i + 16);
        _mm512_mask_storeu_ps(dst + i, (__mmask16)(k == 16 ? 0xFFFF : (1u << k) - 1), _mm512_permutex2var_ps(a0, ev, a1));
    }
}

T512 void dl_avx512_scatter_add_s2(const float *src, int n, float *dst) {
    /* lane 2j of the low half takes src[j], of the high half src[8 + j] */
    const __m512i lo = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
    for (int i = 0; i < n; i += 16) {
        const int k = n - i < 16 ? n - i : 16, used = 2 * k - 1;
        const __mmask16 even = 0x5555;
        const __mmask16 klo = (__mmask16)(even & (used >= 16 ? 0xFFFF : (1u << used) - 1));
        const __mmask16 khi = (__mmask16)(even & (used > 16 ? (1u << (used - 16)) - 1 : 0));
        const __m512 v = _mm512_maskz_loadu_ps((__mmask16)(k == 16 ? 0xFFFF : (1u << k) - 1), src + i);
        float *d = dst + 2 * i;
        _mm512_mask_storeu_ps(d, klo, _mm512_add_ps(_mm512_maskz_loadu_ps(klo, d), _mm512_permutexvar_ps(lo, v)));
        _mm512_mask_storeu_ps(d + 16, khi,
                              _mm512_add_ps(_mm512_maskz_loadu_ps(khi, d + 16), _mm512_permutexvar_ps(hi, v)));
    }
}
#else
void dl_avx512_gather_s2(const float *src, int n, float *dst) { (void)src, (void)n, (void)dst; }
void dl_avx512_scatter_add_s2(const float *src, int n, float *dst) { (void)src, (void)n, (void)dst; }
void dl_avx512_maxpool3x3s2_row(const float *xp, int W, int h0, int pad, int ow_lo, int ow_hi, float *y,
                                int32_t *arg) {
    (void)xp, (void)W, (void)h0, (void)pad, (void)ow_lo, (void)ow_hi, (void)y, (void)arg;
}
void dl_avx512_maxpool2x2_row(const float *r0, const float *r1, int OW, int base, int W, float *y, int32_t *arg) {
    (void)r0, (void)r1, (void)OW, (void)base, (void)W, (void)y, (void)arg;
}
#endif
