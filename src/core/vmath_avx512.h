/* Inline AVX-512 helpers shared by the AVX-512 kernel files (vmath_avx512.c,
 * vmath_attn_avx512.c, gemm.c): the 16x16 register transpose, the vector exp (same algorithm as vexpf in vmath.c: Cody-Waite
 * reduction, Cephes polynomial, 2^n by vscalefps) and the tail mask. Include only
 * inside `#if defined(__x86_64__) && defined(__GNUC__)`. */
#ifndef DYNLAB_CORE_VMATH_AVX512_H
#define DYNLAB_CORE_VMATH_AVX512_H

#include <immintrin.h>
#include <stdint.h>

#define T512 __attribute__((target("avx512f")))

T512 static inline __m512 exp512(__m512 x) {
    const __m512 lo = _mm512_set1_ps(-87.0f), hi = _mm512_set1_ps(88.0f);
    __m512 xc = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), xc);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-6f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    __m512 y = _mm512_scalef_ps(p, n);
    y = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, lo, _CMP_NLT_UQ), y); /* x < -87 -> 0 */
    return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x); /* NaN stays */
}

/* exp for GELU's sigmoid: the clamp to [-87, 88] stays (result in [1.6e-38, 1.6e38]),
 * the NaN and underflow fix-ups go (a NaN input still reaches GELU's output through
 * the factor x), and e^r is a degree-5 polynomial 1 + r + r^2 q(r) fitted for
 * relative error on |r| <= ln2/2 (max 1.6e-7 in float, against 6.7e-8 for the
 * degree-7 Cephes form of exp512: below GELU's other rounding). */
T512 static inline __m512 exp512_clamped(__m512 x) {
    const __m512 xc = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), xc);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-6f), r);
    __m512 q = _mm512_set1_ps(8.312501013278961e-3f);
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(4.189011827111244e-2f));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.6667114198207855e-1f));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(4.99992311000824e-1f));
    const __m512 p = _mm512_fmadd_ps(_mm512_mul_ps(q, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

/* In-register 16x16 transpose: on return r[c] holds column c of the 16 input rows
 * r[0..15] (32-bit, then 64-bit interleaves, then 128-bit lane shuffles; the loops
 * are unrolled so everything stays in registers). Used to
 * pack B^T in gemm.c and to transpose keys and values in vmath_attn_avx512.c. */
/* always_inline: called out of line (gcc chose to, in the Winograd store and band
 * loops), the 16 vectors went through memory both ways: 1.5% of resnet-det's step. */
T512 static inline __attribute__((always_inline)) void transpose16_regs(__m512 r[16]) {
    __m512 t[16];
    _Pragma("GCC unroll 16") for (int i = 0; i < 8; i++) { /* 32-bit interleave of row pairs */
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    _Pragma("GCC unroll 16") for (int i = 0; i < 4; i++) { /* 64-bit: r[4i+x] = column 4L+x of rows 4i..4i+3 */
        __m512d a0 = _mm512_castps_pd(t[4 * i]), a1 = _mm512_castps_pd(t[4 * i + 1]);
        __m512d a2 = _mm512_castps_pd(t[4 * i + 2]), a3 = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
    }
    _Pragma("GCC unroll 16") for (int x = 0; x < 4; x++) { /* 128-bit lanes: column 4L+x gathers lane L */
        __m512 a = _mm512_shuffle_f32x4(r[x], r[4 + x], 0x88);
        __m512 b = _mm512_shuffle_f32x4(r[x], r[4 + x], 0xdd);
        __m512 c = _mm512_shuffle_f32x4(r[8 + x], r[12 + x], 0x88);
        __m512 d = _mm512_shuffle_f32x4(r[8 + x], r[12 + x], 0xdd);
        t[0 + x] = _mm512_shuffle_f32x4(a, c, 0x88);
        t[8 + x] = _mm512_shuffle_f32x4(a, c, 0xdd);
        t[4 + x] = _mm512_shuffle_f32x4(b, d, 0x88);
        t[12 + x] = _mm512_shuffle_f32x4(b, d, 0xdd);
    }
    _Pragma("GCC unroll 16") for (int i = 0; i < 16; i++) r[i] = t[i];
}

T512 static inline __mmask16 tail_mask(int64_t rem) {
    return rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1u);
}

#endif
