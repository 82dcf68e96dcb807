/* Direct attention for short key sequences (S <= 16: one zmm holds a row of scores),
 * one (batch, head) per call, used by ops_attention.c instead of its GEMM path when
 * the CPU has AVX-512F (Vaswani et al. 2017, eq. 1):
 *   forward   P = softmax(scale q k^T [+ causal]), o = P v
 *   backward  dP = dO v^T, dS = P * (dP - rowsum(dP * P)),
 *             dq = scale dS k, dk = scale dS^T q, dv = P^T dO.
 * With tiny heads (T = S = Dh = 16) the GEMM path spends its time in per-call
 * overhead (4 dl_sgemm calls per head each way); here k and v are transposed once
 * into a [D][16] block in registers-sized strips and every product is a run of
 * broadcast FMAs, rows four at a time (four independent FMA chains).
 * Layout: q/k rows of stride ldq, v/o/dO rows of stride ldv, P [T][S] dense;
 * causal: key j is hidden from query i when j > i + (S - T). */
#include <math.h>
#include "core/internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "core/vmath_avx512.h"

#define AT_R 4 /* query rows per step */
/* gcc -O2 does not fully unroll these short constant loops on its own; unrolled, the
 * per-row accumulators and the transposed rows live in registers. */
#define UNROLL _Pragma("GCC unroll 16")

/* dst[c * 16 + r] = src[r * lds + c] for r < rows, c < cols (rows, cols <= 16);
 * dst rows c < 16 are all written, with zeros for r >= rows or c >= cols. */
T512 static void transpose_block16(const float *src, long lds, int rows, int cols, float *dst) {
    __m512 r[16];
    const __mmask16 kc = tail_mask(cols);
    UNROLL for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_maskz_loadu_ps(kc, src + i * lds) : _mm512_setzero_ps();
    transpose16_regs(r);
    UNROLL for (int c = 0; c < 16; c++) _mm512_store_ps(dst + c * 16, r[c]);
}

/* xt[d * 16 + j] = x[j * ld + d] for j < S, d < D (zeros for j >= S); xt holds
 * round_up(D, 16) rows of 16. */
T512 static void transpose_keys(const float *x, int ld, int S, int D, float *xt) {
    for (int d0 = 0; d0 < D; d0 += 16) transpose_block16(x + d0, ld, S, D - d0 < 16 ? D - d0 : 16, xt + d0 * 16);
}

/* Horizontal sums (maxima) of four vectors at once: lanes 4r..4r+3 of the result all
 * hold the sum (max) over the lanes of the r-th argument. */
T512 static inline __m512 hsum4(__m512 a, __m512 b, __m512 c, __m512 d) {
    const __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
    const __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xEE));
    __m512 x = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xDD));
    x = _mm512_add_ps(x, _mm512_permute_ps(x, 0x4E));
    return _mm512_add_ps(x, _mm512_permute_ps(x, 0xB1));
}
T512 static inline __m512 hmax4(__m512 a, __m512 b, __m512 c, __m512 d) {
    const __m512 ab = _mm512_max_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
    const __m512 cd = _mm512_max_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xEE));
    __m512 x = _mm512_max_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xDD));
    x = _mm512_max_ps(x, _mm512_permute_ps(x, 0x4E));
    return _mm512_max_ps(x, _mm512_permute_ps(x, 0xB1));
}
/* All lanes = lane 4r of x (row r of a hsum4 / hmax4 result). */
T512 static inline __m512 row_bcast(__m512 x, int r) { return _mm512_permutexvar_ps(_mm512_set1_epi32(4 * r), x); }

/* Visible keys of query row i. */
static inline int attn_lim(int i, int T, int S, int causal) {
    if (!causal) return S;
    const int l = i + S - T + 1;
    return l < 0 ? 0 : (l > S ? S : l);
}

T512 void dl_avx512_attn_fwd(const float *q, const float *k, const float *v, int ldq, int ldv, int T, int S,
                             int Dh, int Dv, float scale, int causal, float *P, float *o) {
    float kt[DL_ATTN_DIRECT_MAXD * 16] __attribute__((aligned(64)));
    float pl[AT_R][16] __attribute__((aligned(64)));
    transpose_keys(k, ldq, S, Dh, kt);
    const __mmask16 ks = tail_mask(S);
    const __m512 sc = _mm512_set1_ps(scale);
    for (int i0 = 0; i0 < T; i0 += AT_R) {
        const int nr = T - i0 < AT_R ? T - i0 : AT_R;
        const float *qr[AT_R];
        int lim[AT_R];
        __m512 acc[AT_R];
        UNROLL for (int r = 0; r < AT_R; r++) {
            const int i = i0 + (r < nr ? r : nr - 1); /* tail rows repeat the last row */
            qr[r] = q + (long)i * ldq;
            lim[r] = attn_lim(i, T, S, causal);
            acc[r] = _mm512_setzero_ps();
        }
        for (int d = 0; d < Dh; d++) {
            const __m512 kd = _mm512_load_ps(kt + d * 16);
            UNROLL for (int r = 0; r < AT_R; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(qr[r][d]), kd, acc[r]);
        }
        /* Softmax of the four rows, their max and sum reduced together (hidden keys
         * masked; a row with none visible gets P = 0). */
        int jmax = 0;
        __mmask16 kv[AT_R];
        __m512 s[AT_R], e[AT_R];
        UNROLL for (int r = 0; r < AT_R; r++) {
            kv[r] = tail_mask(lim[r]);
            s[r] = _mm512_mask_mul_ps(_mm512_set1_ps(-INFINITY), kv[r], acc[r], sc);
            jmax = lim[r] > jmax ? lim[r] : jmax;
        }
        const __m512 mx4 = hmax4(s[0], s[1], s[2], s[3]);
        UNROLL for (int r = 0; r < AT_R; r++)
            e[r] = _mm512_maskz_mov_ps(kv[r], exp512(_mm512_sub_ps(s[r], row_bcast(mx4, r))));
        const __m512 inv4 = _mm512_div_ps(_mm512_set1_ps(1.0f), hsum4(e[0], e[1], e[2], e[3]));
        UNROLL for (int r = 0; r < AT_R; r++) {
            const __m512 p = _mm512_maskz_mul_ps(kv[r], e[r], row_bcast(inv4, r));
            _mm512_store_ps(pl[r], p);
            if (r < nr) _mm512_mask_storeu_ps(P + (long)(i0 + r) * S, ks, p);
        }
        for (int e0 = 0; e0 < Dv; e0 += 16) {
            const __mmask16 ke = tail_mask(Dv - e0);
            __m512 out[AT_R];
            UNROLL for (int r = 0; r < AT_R; r++) out[r] = _mm512_setzero_ps();
            for (int j = 0; j < jmax; j++) {
                const __m512 vj = _mm512_maskz_loadu_ps(ke, v + (long)j * ldv + e0);
                UNROLL for (int r = 0; r < AT_R; r++) out[r] = _mm512_fmadd_ps(_mm512_set1_ps(pl[r][j]), vj, out[r]);
            }
            UNROLL for (int r = 0; r < AT_R; r++)
                if (r < nr) _mm512_mask_storeu_ps(o + (long)(i0 + r) * ldv + e0, ke, out[r]);
        }
    }
}

/* g = beta * g + c * acc over the masked lanes (beta is 0 or 1; beta 0 never reads g). */
T512 static inline void store_grad(float *g, __mmask16 k, float beta, __m512 c, __m512 acc) {
    __m512 x = _mm512_mul_ps(c, acc);
    if (beta != 0.0f) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(k, g));
    _mm512_mask_storeu_ps(g, k, x);
}

/* dst[j] (+)= c * sum_i w[i * 16 + j] x[i] for j < S, over rows i < T of x (stride ldx,
 * D columns): dk from dS and q, dv from P and dO. Keys eight at a time. */
T512 static void keys_grad(const float *w, const float *x, int ldx, int T, int S, int D, float c, float beta,
                           float *dst, int ldd) {
    const __m512 cv = _mm512_set1_ps(c);
    for (int j0 = 0; j0 < S; j0 += 8) {
        for (int e0 = 0; e0 < D; e0 += 16) {
            const __mmask16 ke = tail_mask(D - e0);
            __m512 acc[8];
            UNROLL for (int jj = 0; jj < 8; jj++) acc[jj] = _mm512_setzero_ps();
            for (int i = 0; i < T; i++) {
                const __m512 xi = _mm512_maskz_loadu_ps(ke, x + (long)i * ldx + e0);
                const float *wi = w + i * 16 + j0;
                UNROLL for (int jj = 0; jj < 8; jj++) acc[jj] = _mm512_fmadd_ps(_mm512_set1_ps(wi[jj]), xi, acc[jj]);
            }
            UNROLL for (int jj = 0; jj < 8; jj++)
                if (j0 + jj < S) store_grad(dst + (long)(j0 + jj) * ldd + e0, ke, beta, cv, acc[jj]);
        }
    }
}

T512 void dl_avx512_attn_bwd(const float *q, const float *k, const float *v, int ldq, int ldv, int T, int S,
                             int Dh, int Dv, float scale, const float *P, const float *dO, float *gq, float *gk,
                             float *gv, float bq, float bk, float bv, float *scratch) {
    float vt[DL_ATTN_DIRECT_MAXD * 16] __attribute__((aligned(64)));
    float *pp = scratch, *ds = scratch + (long)T * 16; /* P and dS rows padded to 16 */
    transpose_keys(v, ldv, S, Dv, vt);
    const __mmask16 ks = tail_mask(S);
    const __m512 sc = _mm512_set1_ps(scale);
    for (int i0 = 0; i0 < T; i0 += AT_R) {
        const int nr = T - i0 < AT_R ? T - i0 : AT_R;
        const float *dor[AT_R];
        __m512 acc[AT_R];
        UNROLL for (int r = 0; r < AT_R; r++) {
            dor[r] = dO + (long)(i0 + (r < nr ? r : nr - 1)) * ldv;
            acc[r] = _mm512_setzero_ps();
        }
        for (int e = 0; e < Dv; e++) { /* dP rows = dO v^T */
            const __m512 ve = _mm512_load_ps(vt + e * 16);
            UNROLL for (int r = 0; r < AT_R; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(dor[r][e]), ve, acc[r]);
        }
        __m512 p[AT_R], pd[AT_R]; /* dS = P * (dP - rowsum(dP * P)), the four row sums reduced together */
        UNROLL for (int r = 0; r < AT_R; r++) {
            p[r] = _mm512_maskz_loadu_ps(ks, P + (long)(i0 + (r < nr ? r : nr - 1)) * S);
            pd[r] = _mm512_mul_ps(p[r], acc[r]);
        }
        const __m512 t4 = hsum4(pd[0], pd[1], pd[2], pd[3]);
        UNROLL for (int r = 0; r < AT_R; r++) {
            if (r >= nr) break;
            const long i = i0 + r;
            _mm512_store_ps(pp + i * 16, p[r]);
            _mm512_store_ps(ds + i * 16, _mm512_mul_ps(p[r], _mm512_sub_ps(acc[r], row_bcast(t4, r))));
        }
        if (!gq) continue;
        for (int e0 = 0; e0 < Dh; e0 += 16) { /* dq rows = scale dS k */
            const __mmask16 ke = tail_mask(Dh - e0);
            __m512 out[AT_R];
            const float *dsr[AT_R];
            UNROLL for (int r = 0; r < AT_R; r++) {
                out[r] = _mm512_setzero_ps();
                dsr[r] = ds + (long)(i0 + (r < nr ? r : nr - 1)) * 16;
            }
            for (int j = 0; j < S; j++) {
                const __m512 kj = _mm512_maskz_loadu_ps(ke, k + (long)j * ldq + e0);
                UNROLL for (int r = 0; r < AT_R; r++) out[r] = _mm512_fmadd_ps(_mm512_set1_ps(dsr[r][j]), kj, out[r]);
            }
            UNROLL for (int r = 0; r < AT_R; r++)
                if (r < nr) store_grad(gq + (long)(i0 + r) * ldq + e0, ke, bq, sc, out[r]);
        }
    }
    if (gk) keys_grad(ds, q, ldq, T, S, Dh, scale, bk, gk, ldq);
    if (gv) keys_grad(pp, dO, ldv, T, S, Dv, 1.0f, bv, gv, ldv);
}

#endif
