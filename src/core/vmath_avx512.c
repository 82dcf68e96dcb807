/* AVX-512 versions of the short-row kernels (attention and softmax rows, cross-entropy
 * rows). Rows here are often shorter than a few vectors (T = 16, vocab 8), where
 * compiler-vectorised loops spend their time in scalar remainders; these use masked
 * loads and stores for the tail instead. Chosen at run time by vmath.c when the CPU
 * has AVX-512F. The exp is the same algorithm as vexpf in vmath.c (Cody-Waite
 * reduction, Cephes polynomial), with 2^n applied by vscalefps. */
#include <math.h>
#include "core/internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "core/vmath_avx512.h"

T512 static inline float max512(const float *x, int64_t n) {
    __m512 m = _mm512_set1_ps(-INFINITY);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask(n - i);
        m = _mm512_mask_max_ps(m, k, m, _mm512_maskz_loadu_ps(k, x + i));
    }
    return _mm512_reduce_max_ps(m);
}

/* y = exp(x - m), returns sum(y). */
T512 static inline float expshift512(const float *x, float m, float *y, int64_t n) {
    const __m512 mv = _mm512_set1_ps(m);
    __m512 s = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask(n - i);
        __m512 e = _mm512_maskz_mov_ps(k, exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), mv)));
        _mm512_mask_storeu_ps(y + i, k, e);
        s = _mm512_add_ps(s, e);
    }
    return _mm512_reduce_add_ps(s);
}

T512 static inline float sumexp512(const float *x, float m, int64_t n) {
    const __m512 mv = _mm512_set1_ps(m);
    __m512 s = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask(n - i);
        s = _mm512_add_ps(s, _mm512_maskz_mov_ps(k, exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), mv))));
    }
    return _mm512_reduce_add_ps(s);
}

T512 static inline void scale512(float *y, float c, int64_t n) {
    const __m512 cv = _mm512_set1_ps(c);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, y + i), cv));
    }
}

T512 static inline void zero512(float *y, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) _mm512_mask_storeu_ps(y + i, tail_mask(n - i), _mm512_setzero_ps());
}

T512 float dl_avx512_max(const float *x, int64_t n) { return max512(x, n); }
T512 float dl_avx512_exp_shift(const float *x, float m, float *y, int64_t n) { return expshift512(x, m, y, n); }
T512 float dl_avx512_sumexp(const float *x, float m, int64_t n) { return sumexp512(x, m, n); }
T512 void dl_avx512_scale(float *y, float c, int64_t n) { scale512(y, c, n); }

T512 void dl_avx512_softmax_block(float *P, int rows, int ld, int lim0, int causal) {
    for (int r = 0; r < rows; r++) {
        float *p = P + (int64_t)r * ld;
        int lim = causal ? lim0 + r : ld;
        lim = lim > ld ? ld : (lim < 0 ? 0 : lim);
        if (lim > 0) {
            const float m = max512(p, lim);
            scale512(p, 1.0f / expshift512(p, m, p, lim), lim);
        }
        if (lim < ld) zero512(p + lim, ld - lim);
    }
}

/* dS = P * (dP - rowsum(dP * P)) in place over `cols` columns of stride ld. */
T512 void dl_avx512_softmax_bwd_block(const float *P, float *dP, int rows, int cols, int ld) {
    for (int i = 0; i < rows; i++) {
        const float *p = P + (int64_t)i * ld;
        float *d = dP + (int64_t)i * ld;
        __m512 s = _mm512_setzero_ps();
        for (int64_t j = 0; j < cols; j += 16) {
            const __mmask16 k = tail_mask(cols - j);
            s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, d + j), _mm512_maskz_loadu_ps(k, p + j), s);
        }
        const __m512 sv = _mm512_set1_ps(_mm512_reduce_add_ps(s));
        for (int64_t j = 0; j < cols; j += 16) {
            const __mmask16 k = tail_mask(cols - j);
            const __m512 pv = _mm512_maskz_loadu_ps(k, p + j);
            _mm512_mask_storeu_ps(d + j, k, _mm512_mul_ps(pv, _mm512_sub_ps(_mm512_maskz_loadu_ps(k, d + j), sv)));
        }
    }
}

T512 void dl_avx512_ce_rows(const float *x, const int *targets, int ignore, float *lse, float *per_row,
                            int64_t rows, int64_t C) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * C;
        const float m = max512(xr, C);
        const float l = m + logf(sumexp512(xr, m, C));
        lse[r] = l;
        per_row[r] = targets[r] == ignore ? 0.0f : l - xr[targets[r]];
    }
}

T512 void dl_avx512_ce_bwd_rows(const float *x, const int *targets, int ignore, const float *lse,
                                const float *coef, float *g, int64_t rows, int64_t C) {
    for (int64_t r = 0; r < rows; r++) {
        if (targets[r] == ignore || coef[r] == 0.0f) continue;
        const __m512 cv = _mm512_set1_ps(coef[r]), lv = _mm512_set1_ps(lse[r]);
        const float *xr = x + r * C;
        float *gr = g + r * C;
        for (int64_t j = 0; j < C; j += 16) {
            const __mmask16 k = tail_mask(C - j);
            const __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, xr + j), lv));
            _mm512_mask_storeu_ps(gr + j, k, _mm512_fmadd_ps(cv, e, _mm512_maskz_loadu_ps(k, gr + j)));
        }
        gr[targets[r]] -= coef[r];
    }
}

/* GELU, tanh form (Hendrycks & Gimpel 2016; PyTorch approximate='tanh'):
 * 0.5 x (1 + tanh(u)) = x * sigmoid(2u), u = k (x + c x^3), so one exp and one
 * reciprocal per element: s = 1 / (1 + exp(-2u)) by rcp14 and a Newton step (about
 * 1 ulp). dGELU/dx = s + x * s (1 - s) * 2k (1 + 3c x^2). */
#define GELU_2K 1.5957691216057308f /* 2 sqrt(2/pi) */
#define GELU_C 0.044715f

T512 static inline __m512 recip512(__m512 d) {
    const __m512 r = _mm512_rcp14_ps(d);
    return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(1.0f)), r); /* r (2 - d r) */
}

/* s = sigmoid(2u) for the GELU input v; v2 = v * v. */
T512 static inline __m512 gelu_sig512(__m512 v, __m512 v2) {
    const __m512 m2u = _mm512_mul_ps(_mm512_mul_ps(v, _mm512_set1_ps(-GELU_2K)),
                                     _mm512_fmadd_ps(v2, _mm512_set1_ps(GELU_C), _mm512_set1_ps(1.0f)));
    return recip512(_mm512_add_ps(exp512_clamped(m2u), _mm512_set1_ps(1.0f)));
}

T512 void dl_avx512_gelu(const float *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        _mm512_storeu_ps(y + i, _mm512_mul_ps(v, gelu_sig512(v, _mm512_mul_ps(v, v))));
    }
    if (i < n) {
        const __mmask16 k = tail_mask(n - i);
        const __m512 v = _mm512_maskz_loadu_ps(k, x + i);
        _mm512_mask_storeu_ps(y + i, k, _mm512_mul_ps(v, gelu_sig512(v, _mm512_mul_ps(v, v))));
    }
}

T512 static inline __m512 gelu_grad512(__m512 v, __m512 d) {
    const __m512 v2 = _mm512_mul_ps(v, v), s = gelu_sig512(v, v2);
    const __m512 du = _mm512_fmadd_ps(v2, _mm512_set1_ps(3.0f * GELU_2K * GELU_C), _mm512_set1_ps(GELU_2K));
    const __m512 ss = _mm512_fnmadd_ps(s, s, s); /* s (1 - s) */
    return _mm512_mul_ps(d, _mm512_fmadd_ps(_mm512_mul_ps(v, ss), du, s));
}

/* gx (+)= dy * GELU'(x): acc = 0 overwrites gx. */
T512 void dl_avx512_gelu_bwd(const float *x, const float *dy, float *gx, int64_t n, int acc) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 g = gelu_grad512(_mm512_loadu_ps(x + i), _mm512_loadu_ps(dy + i));
        if (acc) g = _mm512_add_ps(g, _mm512_loadu_ps(gx + i));
        _mm512_storeu_ps(gx + i, g);
    }
    if (i < n) {
        const __mmask16 k = tail_mask(n - i);
        __m512 g = gelu_grad512(_mm512_maskz_loadu_ps(k, x + i), _mm512_maskz_loadu_ps(k, dy + i));
        if (acc) g = _mm512_add_ps(g, _mm512_maskz_loadu_ps(k, gx + i));
        _mm512_mask_storeu_ps(gx + i, k, g);
    }
}

/* ---- LayerNorm rows of D <= 64 floats (NV <= 4 vectors, kept in registers) ---------------- *
 * Same formulas as ln_row / ln_bwd_row in vmath.c. Per row two horizontal sums; the
 * parameter gradients (gg += dy xh, gb += dy) stay in registers across the rows. */
#define LN_MAXV 4

T512 static inline __attribute__((always_inline)) void ln_fwd_nv(const float *x, const float *gamma,
                                                                 const float *beta, float *y, int64_t rows,
                                                                 int64_t D, float eps, float *stats, int NV) {
    __mmask16 k[LN_MAXV];
    __m512 gv[LN_MAXV], bv[LN_MAXV];
    for (int v = 0; v < NV; v++) {
        k[v] = tail_mask(D - 16 * v);
        gv[v] = gamma ? _mm512_maskz_loadu_ps(k[v], gamma + 16 * v) : _mm512_set1_ps(1.0f);
        bv[v] = beta ? _mm512_maskz_loadu_ps(k[v], beta + 16 * v) : _mm512_setzero_ps();
    }
    const float inv_d = 1.0f / (float)D;
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * D;
        __m512 xv[LN_MAXV], s = _mm512_setzero_ps();
        for (int v = 0; v < NV; v++) {
            xv[v] = _mm512_maskz_loadu_ps(k[v], xr + 16 * v);
            s = _mm512_add_ps(s, xv[v]);
        }
        const float mean = _mm512_reduce_add_ps(s) * inv_d;
        const __m512 mv = _mm512_set1_ps(mean);
        __m512 q = _mm512_setzero_ps();
        for (int v = 0; v < NV; v++) {
            xv[v] = _mm512_maskz_sub_ps(k[v], xv[v], mv);
            q = _mm512_fmadd_ps(xv[v], xv[v], q);
        }
        const float rstd = 1.0f / sqrtf(_mm512_reduce_add_ps(q) * inv_d + eps);
        const __m512 rv = _mm512_set1_ps(rstd);
        for (int v = 0; v < NV; v++)
            _mm512_mask_storeu_ps(y + r * D + 16 * v, k[v],
                                  _mm512_fmadd_ps(_mm512_mul_ps(xv[v], rv), gv[v], bv[v]));
        if (stats) {
            stats[2 * r] = mean;
            stats[2 * r + 1] = rstd;
        }
    }
}

/* Returns 0 when D is not a short row (the caller runs the generic kernel). */
T512 int dl_avx512_layernorm_rows(const float *x, const float *gamma, const float *beta, float *y, int64_t rows,
                                  int64_t D, float eps, float *stats) {
    switch ((D + 15) / 16) {
    case 1: ln_fwd_nv(x, gamma, beta, y, rows, D, eps, stats, 1); return 1;
    case 2: ln_fwd_nv(x, gamma, beta, y, rows, D, eps, stats, 2); return 1;
    case 3: ln_fwd_nv(x, gamma, beta, y, rows, D, eps, stats, 3); return 1;
    case 4: ln_fwd_nv(x, gamma, beta, y, rows, D, eps, stats, 4); return 1;
    default: return 0;
    }
}

T512 static inline __attribute__((always_inline)) void ln_bwd_nv(const float *x, const float *dy,
                                                                 const float *gamma, float *gx, int acc,
                                                                 float *gg, float *gb, int64_t rows, int64_t D,
                                                                 const float *stats, int NV) {
    __mmask16 k[LN_MAXV];
    __m512 gv[LN_MAXV], agg[LN_MAXV], agb[LN_MAXV];
    for (int v = 0; v < NV; v++) {
        k[v] = tail_mask(D - 16 * v);
        gv[v] = gamma ? _mm512_maskz_loadu_ps(k[v], gamma + 16 * v) : _mm512_set1_ps(1.0f);
        agg[v] = agb[v] = _mm512_setzero_ps();
    }
    const float inv_d = 1.0f / (float)D;
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * D, *dr = dy + r * D;
        const __m512 mv = _mm512_set1_ps(stats[2 * r]), rv = _mm512_set1_ps(stats[2 * r + 1]);
        __m512 xh[LN_MAXV], d[LN_MAXV], sa = _mm512_setzero_ps(), sb = _mm512_setzero_ps();
        for (int v = 0; v < NV; v++) {
            d[v] = _mm512_maskz_loadu_ps(k[v], dr + 16 * v);
            xh[v] = _mm512_mul_ps(_mm512_maskz_sub_ps(k[v], _mm512_maskz_loadu_ps(k[v], xr + 16 * v), mv), rv);
            agb[v] = _mm512_add_ps(agb[v], d[v]);
            agg[v] = _mm512_fmadd_ps(d[v], xh[v], agg[v]);
            const __m512 g = _mm512_mul_ps(d[v], gv[v]);
            sa = _mm512_add_ps(sa, g);
            sb = _mm512_fmadd_ps(g, xh[v], sb);
            d[v] = g;
        }
        if (!gx) continue;
        const __m512 sav = _mm512_set1_ps(_mm512_reduce_add_ps(sa) * inv_d);
        const __m512 sbv = _mm512_set1_ps(_mm512_reduce_add_ps(sb) * inv_d);
        for (int v = 0; v < NV; v++) {
            /* gx = rstd (g - mean(g) - xh mean(g xh)) */
            __m512 o = _mm512_mul_ps(rv, _mm512_fnmadd_ps(xh[v], sbv, _mm512_sub_ps(d[v], sav)));
            if (acc) o = _mm512_add_ps(o, _mm512_maskz_loadu_ps(k[v], gx + r * D + 16 * v));
            _mm512_mask_storeu_ps(gx + r * D + 16 * v, k[v], o);
        }
    }
    for (int v = 0; v < NV; v++) {
        if (gg) _mm512_mask_storeu_ps(gg + 16 * v, k[v], agg[v]);
        if (gb) _mm512_mask_storeu_ps(gb + 16 * v, k[v], agb[v]);
    }
}

T512 int dl_avx512_layernorm_bwd(const float *x, const float *dy, const float *gamma, float *gx, int acc,
                                 float *gg, float *gb, int64_t rows, int64_t D, const float *stats) {
    switch ((D + 15) / 16) {
    case 1: ln_bwd_nv(x, dy, gamma, gx, acc, gg, gb, rows, D, stats, 1); return 1;
    case 2: ln_bwd_nv(x, dy, gamma, gx, acc, gg, gb, rows, D, stats, 2); return 1;
    case 3: ln_bwd_nv(x, dy, gamma, gx, acc, gg, gb, rows, D, stats, 3); return 1;
    case 4: ln_bwd_nv(x, dy, gamma, gx, acc, gg, gb, rows, D, stats, 4); return 1;
    default: return 0;
    }
}

/* ---- short rows: copies and accumulations with masked tails --------------------------------- */
/* y += x */
T512 void dl_avx512_acc(const float *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(y + i), _mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 k = tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, k, _mm512_add_ps(_mm512_maskz_loadu_ps(k, y + i), _mm512_maskz_loadu_ps(k, x + i)));
    }
}

/* dst row r = src row r (sld = 0: one row repeated, kept in registers when n <= 64). */
T512 void dl_avx512_copy_rows(float *dst, int64_t dld, const float *src, int64_t sld, int64_t rows, int64_t n) {
    if (sld == 0 && n <= 64) {
        __mmask16 k[4];
        __m512 v[4];
        for (int j = 0; j < 4; j++) {
            k[j] = n > 16 * j ? tail_mask(n - 16 * j) : 0;
            v[j] = _mm512_maskz_loadu_ps(k[j], src + 16 * j);
        }
        for (int64_t r = 0; r < rows; r++)
            for (int j = 0; j < 4; j++)
                if (k[j]) _mm512_mask_storeu_ps(dst + r * dld + 16 * j, k[j], v[j]);
        return;
    }
    for (int64_t r = 0; r < rows; r++) {
        float *d = dst + r * dld;
        const float *s = src + r * sld;
        for (int64_t j = 0; j < n; j += 16) {
            const __mmask16 k = tail_mask(n - j);
            _mm512_mask_storeu_ps(d + j, k, _mm512_maskz_loadu_ps(k, s + j));
        }
    }
}

/* dst row i = table row ids[i] (embedding forward). */
T512 void dl_avx512_gather_rows(float *dst, const float *table, const int *ids, int64_t n, int64_t D) {
    for (int64_t i = 0; i < n; i++) {
        const float *s = table + (int64_t)ids[i] * D;
        float *d = dst + i * D;
        for (int64_t j = 0; j < D; j += 16) {
            const __mmask16 k = tail_mask(D - j);
            _mm512_mask_storeu_ps(d + j, k, _mm512_maskz_loadu_ps(k, s + j));
        }
    }
}

/* g row ids[i] += dy row i for the ids in [lo, hi), i in order (embedding backward). */
T512 void dl_avx512_scatter_add_rows(float *g, const float *dy, const int *ids, int64_t n, int64_t D, int64_t lo,
                                     int64_t hi) {
    for (int64_t i = 0; i < n; i++) {
        if (ids[i] < lo || ids[i] >= hi) continue;
        float *d = g + (int64_t)ids[i] * D;
        const float *s = dy + i * D;
        for (int64_t j = 0; j < D; j += 16) {
            const __mmask16 k = tail_mask(D - j);
            _mm512_mask_storeu_ps(d + j, k, _mm512_add_ps(_mm512_maskz_loadu_ps(k, d + j), _mm512_maskz_loadu_ps(k, s + j)));
        }
    }
}

int dl_have_avx512(void) { return __builtin_cpu_supports("avx512f"); }

#else
int dl_have_avx512(void) { return 0; }
#endif
