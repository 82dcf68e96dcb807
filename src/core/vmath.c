/* Vectorised inner kernels shared by the ops: a fast exp, GELU, row softmax and
 * log-sum-exp pieces, layernorm rows, axpy-style updates.
 *
 * The release build is plain -O2 (no -march), so each kernel is compiled three
 * times (AVX-512, AVX2, baseline SSE2) with target_clones and picked at load time
 * from CPUID; `omp simd` makes the compiler vectorise the loops whatever its cost
 * model. The ops call these on rows or on whole arrays from inside their OpenMP
 * loops. The same machine always runs the same clone, so results stay identical
 * across thread counts. */
#if defined(__GNUC__) && !defined(__clang__)
/* Lets gcc if-convert the float compares in the loops below (clamps, masks) into
 * blends; we never rely on FP exception flags. */
#pragma GCC optimize("no-trapping-math")
#endif
#include <math.h>
#include <string.h>
#include "core/internal.h"

/* exp(x) in float, about 2 ulp: Cody-Waite range reduction x = n ln2 + r and the
 * Cephes degree-6 polynomial for e^r, then scaling by 2^n through the exponent
 * bits. Inputs below -87 give 0 (so -inf from masks gives 0), above 88 are clamped
 * (about 1.6e38), NaN stays NaN. Branch-free so it vectorises. */
static inline __attribute__((always_inline)) float vexpf(float x) {
    float xc = x > -87.0f ? x : -87.0f;
    xc = xc < 88.0f ? xc : 88.0f;
    const float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
    float r = xc - n * 0.693145751953125f;
    r = r - n * 1.428606765330187e-6f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const int32_t bits = ((int32_t)n + 127) * (1 << 23);
    float s;
    memcpy(&s, &bits, sizeof s);
    float y = p * s;
    y = x < -87.0f ? 0.0f : y;
    return x != x ? x : y;
}

/* gcc only: clang 14 does not emit the resolver of a target_clones function that is
 * called from another file (undefined symbol at link time), so a clang build runs the
 * baseline clones (plus the AVX-512 short-row kernels, which dispatch by hand). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(DL_NO_CLONES)
#define DL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DL_CLONES
#endif

float dl_vexpf(float x) { return vexpf(x); }

/* ---- row helpers, inlined into each clone below ------------------------------ */
static inline __attribute__((always_inline)) float row_max(const float *x, int64_t n) {
    float m = -INFINITY;
#if !defined(__clang__) /* clang will not vectorise a float max without no-NaNs */
#pragma omp simd reduction(max : m)
#endif
    for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

static inline __attribute__((always_inline)) float row_exp_shift(const float *x, float m, float *y, int64_t n) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; i++) {
        y[i] = vexpf(x[i] - m);
        s += y[i];
    }
    return s;
}

static inline __attribute__((always_inline)) float row_sumexp(const float *x, float m, int64_t n) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; i++) s += vexpf(x[i] - m);
    return s;
}

static inline __attribute__((always_inline)) void row_scale(float *y, float c, int64_t n) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] *= c;
}

static inline __attribute__((always_inline)) void row_softmax_bwd(const float *y, const float *dy, float *dx, int64_t n, int acc) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; i++) s += dy[i] * y[i];
    if (acc) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) dx[i] += y[i] * (dy[i] - s);
    } else {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) dx[i] = y[i] * (dy[i] - s);
    }
}

DL_CLONES void dl_k_exp(const float *x, float *y, int64_t n) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] = vexpf(x[i]);
}

DL_CLONES void dl_k_sigmoid(const float *x, float *y, int64_t n) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + vexpf(-x[i]));
}

/* GELU, tanh form (Hendrycks & Gimpel 2016, as GPT-2; PyTorch approximate='tanh'):
 * 0.5 x (1 + tanh(u)) = x * sigmoid(2u), u = k (x + c x^3); the derivative is
 * s + x s (1 - s) 2k (1 + 3c x^2) with s = sigmoid(2u). Same formulas as the AVX-512
 * kernels (vmath_avx512.c), which run instead on CPUs that have it. */
#define GELU_2K 1.5957691216057308f /* 2 sqrt(2/pi) */
#define GELU_C 0.044715f

DL_CLONES static void gen_gelu(const float *x, float *y, int64_t n) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i];
        y[i] = v / (1.0f + vexpf(-GELU_2K * v * (1.0f + GELU_C * v * v)));
    }
}

DL_CLONES static void gen_gelu_bwd(const float *x, const float *dy, float *gx, int64_t n, int acc) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i], v2 = v * v;
        const float s = 1.0f / (1.0f + vexpf(-GELU_2K * v * (1.0f + GELU_C * v2)));
        const float g = dy[i] * (s + v * s * (1.0f - s) * GELU_2K * (1.0f + 3.0f * GELU_C * v2));
        gx[i] = acc ? gx[i] + g : g;
    }
}

DL_CLONES static float gen_max(const float *x, int64_t n) { return row_max(x, n); }

/* y = exp(x + mask - m) (mask may be NULL), returns the sum of y. */
DL_CLONES static float gen_exp_shift(const float *x, const float *mask, float m, float *y, int64_t n) {
    float s = 0.0f;
    if (mask) {
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < n; i++) {
            y[i] = vexpf(x[i] + mask[i] - m);
            s += y[i];
        }
    } else {
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < n; i++) {
            y[i] = vexpf(x[i] - m);
            s += y[i];
        }
    }
    return s;
}

/* sum exp(x - m) without storing. */
DL_CLONES static float gen_sumexp(const float *x, float m, int64_t n) { return row_sumexp(x, m, n); }

/* g += c * exp(x - l)  (softmax-times-scale for cross-entropy / log-softmax). */
DL_CLONES void dl_k_add_scaled_exp(float c, const float *x, float l, float *g, int64_t n) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) g[i] += c * vexpf(x[i] - l);
}

DL_CLONES float dl_k_dot(const float *a, const float *b, int64_t n) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

DL_CLONES float dl_k_sum(const float *a, int64_t n) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; i++) s += a[i];
    return s;
}

DL_CLONES static void gen_scale(float *y, float s, int64_t n) { row_scale(y, s, n); }

/* y += a * x */
DL_CLONES void dl_k_axpy(float a, const float *x, float *y, int64_t n) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

/* y += x */
DL_CLONES static void gen_acc(const float *x, float *y, int64_t n) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] += x[i];
}

/* y += x * b */
DL_CLONES void dl_k_acc_mul(const float *x, const float *b, float *y, int64_t n) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] += x[i] * b[i];
}

/* Softmax backward for one row: dx (+)= y * (dy - <dy, y>). */
DL_CLONES void dl_k_softmax_bwd_row(const float *y, const float *dy, float *dx, int64_t n, int acc) {
    row_softmax_bwd(y, dy, dx, n, acc);
}

/* LayerNorm forward of one row; returns mean and 1/std. */
static inline __attribute__((always_inline)) void ln_row(const float *x, const float *gamma, const float *beta, float *y,
                          int64_t n, float eps, float *mean_out, float *rstd_out) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; i++) s += x[i];
    const float mean = s / (float)n;
    float v = 0.0f;
#pragma omp simd reduction(+ : v)
    for (int64_t i = 0; i < n; i++) v += (x[i] - mean) * (x[i] - mean);
    const float rstd = 1.0f / sqrtf(v / (float)n + eps);
    if (gamma && beta) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) y[i] = (x[i] - mean) * rstd * gamma[i] + beta[i];
    } else if (gamma) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) y[i] = (x[i] - mean) * rstd * gamma[i];
    } else if (beta) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) y[i] = (x[i] - mean) * rstd + beta[i];
    } else {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) y[i] = (x[i] - mean) * rstd;
    }
    *mean_out = mean;
    *rstd_out = rstd;
}

/* LayerNorm backward of one row into gx (+=):
 * g = dy * gamma, xh = (x - mean) rstd, dx = rstd (g - mean(g) - xh mean(g xh)). */
static inline __attribute__((always_inline)) void ln_bwd_row(const float *x, const float *dy, const float *gamma, float *gx,
                              int64_t n, float mean, float rstd, int acc) {
    float sa = 0.0f, sb = 0.0f;
    if (gamma) {
#pragma omp simd reduction(+ : sa, sb)
        for (int64_t i = 0; i < n; i++) {
            const float gj = dy[i] * gamma[i];
            sa += gj;
            sb += gj * (x[i] - mean);
        }
    } else {
#pragma omp simd reduction(+ : sa, sb)
        for (int64_t i = 0; i < n; i++) {
            sa += dy[i];
            sb += dy[i] * (x[i] - mean);
        }
    }
    sa /= (float)n;
    sb = sb * rstd / (float)n;
    if (gamma) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++)
            gx[i] = (acc ? gx[i] : 0.0f) + rstd * (dy[i] * gamma[i] - sa - (x[i] - mean) * rstd * sb);
    } else {
#pragma omp simd
        for (int64_t i = 0; i < n; i++)
            gx[i] = (acc ? gx[i] : 0.0f) + rstd * (dy[i] - sa - (x[i] - mean) * rstd * sb);
    }
}

/* gg += dy * (x - mean) * rstd for one row (layernorm gain gradient). */
DL_CLONES void dl_k_layernorm_gain_row(const float *x, const float *dy, float *gg, int64_t n, float mean,
                                       float rstd) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) gg[i] += dy[i] * (x[i] - mean) * rstd;
}

/* Log-softmax backward of one row: dx (+)= dy - exp(y) * sum(dy) over visible
 * entries; hidden entries (y = -inf) get 0. */
DL_CLONES void dl_k_logsoftmax_bwd_row(const float *y, const float *dy, float *dx, int64_t n, int acc) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; i++) s += y[i] == -INFINITY ? 0.0f : dy[i];
    if (acc) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) dx[i] += y[i] == -INFINITY ? 0.0f : dy[i] - vexpf(y[i]) * s;
    } else {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) dx[i] = y[i] == -INFINITY ? 0.0f : dy[i] - vexpf(y[i]) * s;
    }
}

/* y = a op b elementwise (op: 0 add, 1 sub, 2 mul, 3 div); b_scalar: b[0] for all. */
DL_CLONES void dl_k_binary(int op, const float *a, const float *b, float *y, int64_t n, int b_scalar) {
    if (b_scalar) {
        const float c = b[0];
        switch (op) {
        case 0:
#pragma omp simd
            for (int64_t i = 0; i < n; i++) y[i] = a[i] + c;
            break;
        case 1:
#pragma omp simd
            for (int64_t i = 0; i < n; i++) y[i] = a[i] - c;
            break;
        case 2:
#pragma omp simd
            for (int64_t i = 0; i < n; i++) y[i] = a[i] * c;
            break;
        default:
#pragma omp simd
            for (int64_t i = 0; i < n; i++) y[i] = a[i] / c;
            break;
        }
        return;
    }
    switch (op) {
    case 0:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
        break;
    case 1:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) y[i] = a[i] - b[i];
        break;
    case 2:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) y[i] = a[i] * b[i];
        break;
    default:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) y[i] = a[i] / b[i];
        break;
    }
}

/* y = alpha * x + c */
DL_CLONES void dl_k_affine(const float *x, float alpha, float c, float *y, int64_t n) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] = alpha * x[i] + c;
}

/* ---- whole blocks of rows: one call per head / per chunk of rows -------------- */

/* LayerNorm forward of rows [0, rows); stats (may be NULL) gets mean, 1/std per row. */
DL_CLONES static void gen_layernorm_rows(const float *x, const float *gamma, const float *beta, float *y,
                                         int64_t rows, int64_t D, float eps, float *stats) {
    for (int64_t r = 0; r < rows; r++) {
        float mean, rstd;
        ln_row(x + r * D, gamma, beta, y + r * D, D, eps, &mean, &rstd);
        if (stats) {
            stats[2 * r] = mean;
            stats[2 * r + 1] = rstd;
        }
    }
}

/* LayerNorm backward of rows [0, rows): gx (+)= dx when gx is not NULL, and the sums over
 * these rows (in row order) gg_part = sum dy * xh and gb_part = sum dy when not NULL
 * (written, not accumulated). */
DL_CLONES static void gen_layernorm_bwd(const float *x, const float *dy, const float *gamma, float *gx, int acc,
                                        float *gg_part, float *gb_part, int64_t rows, int64_t D,
                                        const float *stats) {
    if (gg_part) memset(gg_part, 0, (size_t)D * sizeof(float));
    if (gb_part) memset(gb_part, 0, (size_t)D * sizeof(float));
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * D, *dr = dy + r * D;
        if (gx) ln_bwd_row(xr, dr, gamma, gx + r * D, D, stats[2 * r], stats[2 * r + 1], acc);
        if (gg_part) {
            const float mean = stats[2 * r], rstd = stats[2 * r + 1];
#pragma omp simd
            for (int64_t i = 0; i < D; i++) gg_part[i] += dr[i] * ((xr[i] - mean) * rstd);
        }
        if (gb_part) {
#pragma omp simd
            for (int64_t i = 0; i < D; i++) gb_part[i] += dr[i];
        }
    }
}

/* Row softmax in place of `rows` rows of stride ld: row r uses columns
 * [0, lim_r) with lim_r = lim0 + r when causal (clamped to [0, ld]), all ld columns
 * otherwise; the hidden columns [lim_r, ld) become 0 (all of them for lim_r <= 0). */
DL_CLONES static void gen_softmax_block(float *P, int rows, int ld, int lim0, int causal) {
    for (int r = 0; r < rows; r++) {
        float *p = P + (int64_t)r * ld;
        int lim = causal ? lim0 + r : ld;
        lim = lim > ld ? ld : (lim < 0 ? 0 : lim);
        if (lim > 0) {
            const float m = row_max(p, lim);
            row_scale(p, 1.0f / row_exp_shift(p, m, p, lim), lim);
        }
        for (int j = lim; j < ld; j++) p[j] = 0.0f;
    }
}

/* dP -> dS = P * (dP - rowsum(dP * P)) in place over `cols` columns, both of stride ld. */
DL_CLONES static void gen_softmax_bwd_block(const float *P, float *dP, int rows, int cols, int ld) {
    for (int r = 0; r < rows; r++)
        row_softmax_bwd(P + (int64_t)r * ld, dP + (int64_t)r * ld, dP + (int64_t)r * ld, cols, 0);
}

/* Cross-entropy rows [0, rows): lse[r] = logsumexp(x_r), per_row[r] = lse - x_r[t_r]
 * (0 when t_r == ignore). */
DL_CLONES static void gen_ce_rows(const float *x, const int *targets, int ignore, float *lse, float *per_row,
                            int64_t rows, int64_t C) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * C;
        const float m = row_max(xr, C);
        const float l = m + logf(row_sumexp(xr, m, C));
        lse[r] = l;
        per_row[r] = targets[r] == ignore ? 0.0f : l - xr[targets[r]];
    }
}

/* g_r += coef_r * (softmax(x_r) - onehot(t_r)) for non-ignored rows. */
DL_CLONES static void gen_ce_bwd_rows(const float *x, const int *targets, int ignore, const float *lse,
                                const float *coef, float *g, int64_t rows, int64_t C) {
    for (int64_t r = 0; r < rows; r++) {
        if (targets[r] == ignore || coef[r] == 0.0f) continue;
        const float c = coef[r], l = lse[r];
        const float *xr = x + r * C;
        float *gr = g + r * C;
#pragma omp simd
        for (int64_t j = 0; j < C; j++) gr[j] += c * vexpf(xr[j] - l);
        gr[targets[r]] -= c;
    }
}

/* ---- dispatch: AVX-512 masked-tail kernels when the CPU has them ------------------ */
static int use_avx512 = -1;
__attribute__((constructor)) static void pick_isa(void) { use_avx512 = dl_have_avx512(); }

float dl_k_max(const float *x, int64_t n) { return use_avx512 > 0 ? dl_avx512_max(x, n) : gen_max(x, n); }
float dl_k_sumexp(const float *x, float m, int64_t n) {
    return use_avx512 > 0 ? dl_avx512_sumexp(x, m, n) : gen_sumexp(x, m, n);
}
void dl_k_scale(float *y, float s, int64_t n) {
    if (use_avx512 > 0) dl_avx512_scale(y, s, n);
    else gen_scale(y, s, n);
}
float dl_k_exp_shift(const float *x, const float *mask, float m, float *y, int64_t n) {
    if (use_avx512 > 0 && !mask) return dl_avx512_exp_shift(x, m, y, n);
    return gen_exp_shift(x, mask, m, y, n);
}
void dl_k_gelu(const float *x, float *y, int64_t n) {
    if (use_avx512 > 0) dl_avx512_gelu(x, y, n);
    else gen_gelu(x, y, n);
}
void dl_k_gelu_grad(const float *x, const float *dy, float *gx, int64_t n, int acc) {
    if (use_avx512 > 0) dl_avx512_gelu_bwd(x, dy, gx, n, acc);
    else gen_gelu_bwd(x, dy, gx, n, acc);
}
void dl_k_gelu_bwd(const float *x, const float *dy, float *gx, int64_t n) { dl_k_gelu_grad(x, dy, gx, n, 1); }
void dl_k_layernorm_rows(const float *x, const float *gamma, const float *beta, float *y, int64_t rows, int64_t D,
                         float eps, float *stats) {
    if (use_avx512 > 0 && dl_avx512_layernorm_rows(x, gamma, beta, y, rows, D, eps, stats)) return;
    gen_layernorm_rows(x, gamma, beta, y, rows, D, eps, stats);
}
void dl_k_layernorm_bwd(const float *x, const float *dy, const float *gamma, float *gx, int acc, float *gg_part,
                        float *gb_part, int64_t rows, int64_t D, const float *stats) {
    if (use_avx512 > 0 && dl_avx512_layernorm_bwd(x, dy, gamma, gx, acc, gg_part, gb_part, rows, D, stats)) return;
    gen_layernorm_bwd(x, dy, gamma, gx, acc, gg_part, gb_part, rows, D, stats);
}
void dl_k_layernorm_bwd_rows(const float *x, const float *dy, const float *gamma, float *gx, int64_t rows,
                             int64_t D, const float *stats, int acc) {
    dl_k_layernorm_bwd(x, dy, gamma, gx, acc, NULL, NULL, rows, D, stats);
}
void dl_k_acc(const float *x, float *y, int64_t n) {
    if (use_avx512 > 0) dl_avx512_acc(x, y, n);
    else gen_acc(x, y, n);
}
void dl_k_softmax_block(float *P, int rows, int ld, int lim0, int causal) {
    if (use_avx512 > 0) dl_avx512_softmax_block(P, rows, ld, lim0, causal);
    else gen_softmax_block(P, rows, ld, lim0, causal);
}
void dl_k_softmax_bwd_block(const float *P, float *dP, int rows, int cols, int ld) {
    if (use_avx512 > 0) dl_avx512_softmax_bwd_block(P, dP, rows, cols, ld);
    else gen_softmax_bwd_block(P, dP, rows, cols, ld);
}
void dl_k_ce_rows(const float *x, const int *targets, int ignore, float *lse, float *per_row, int64_t rows,
                  int64_t C) {
    if (use_avx512 > 0) dl_avx512_ce_rows(x, targets, ignore, lse, per_row, rows, C);
    else gen_ce_rows(x, targets, ignore, lse, per_row, rows, C);
}
void dl_k_ce_bwd_rows(const float *x, const int *targets, int ignore, const float *lse, const float *coef,
                      float *g, int64_t rows, int64_t C) {
    if (use_avx512 > 0) dl_avx512_ce_bwd_rows(x, targets, ignore, lse, coef, g, rows, C);
    else gen_ce_bwd_rows(x, targets, ignore, lse, coef, g, rows, C);
}

/* dst[r * dld + j] = src[r * sld + j] for r < rows, j < n (sld = 0 repeats one row:
 * bias rows of dl_matmul_bias). Short rows make memcpy's per-call cost dominate. */
DL_CLONES static void gen_copy_rows(float *dst, int64_t dld, const float *src, int64_t sld, int64_t rows,
                                    int64_t n) {
    for (int64_t r = 0; r < rows; r++) {
        float *d = dst + r * dld;
        const float *s = src + r * sld;
#pragma omp simd
        for (int64_t j = 0; j < n; j++) d[j] = s[j];
    }
}
void dl_k_copy_rows(float *dst, int64_t dld, const float *src, int64_t sld, int64_t rows, int64_t n) {
    if (use_avx512 > 0) dl_avx512_copy_rows(dst, dld, src, sld, rows, n);
    else gen_copy_rows(dst, dld, src, sld, rows, n);
}

/* Embedding rows: dst row i = table row ids[i]; g row ids[i] += dy row i for ids in [lo, hi),
 * rows in order. */
void dl_k_gather_rows(float *dst, const float *table, const int *ids, int64_t n, int64_t D) {
    if (use_avx512 > 0) {
        dl_avx512_gather_rows(dst, table, ids, n, D);
        return;
    }
    for (int64_t i = 0; i < n; i++) memcpy(dst + i * D, table + (int64_t)ids[i] * D, (size_t)D * sizeof(float));
}
void dl_k_scatter_add_rows(float *g, const float *dy, const int *ids, int64_t n, int64_t D, int64_t lo, int64_t hi) {
    if (use_avx512 > 0) {
        dl_avx512_scatter_add_rows(g, dy, ids, n, D, lo, hi);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        if (ids[i] >= lo && ids[i] < hi) gen_acc(dy + i * D, g + (int64_t)ids[i] * D, D);
}
