/* The one GEMM entry point (include/dynlab/gemm.h):
 *   C[M,N] = alpha * op(A) @ op(B) + beta * C   (row-major)
 *
 * Structure (GotoBLAS/BLIS style, adapted to row-major and small shapes):
 *   - a micro-kernel computes an MR x NR tile of C, holding it in vector
 *     registers: per k it loads one row of op(B) (NR floats, contiguous) and
 *     broadcasts MR elements of op(A) (any strides, so A is never copied);
 *   - op(B) must have contiguous rows: B^T (trans_b) is always packed into
 *     NR-wide strips; a plain B is packed only for large shapes, where strips
 *     that stay in cache pay for the copy (measured, docs/benchmarks.md);
 *   - K is split in KC blocks (beta applies to the first one only), M in MC
 *     blocks; large shapes run the tiles on OpenMP threads.
 * Kernels: AVX-512 (6x32 and 12x16), AVX2+FMA (6x16 and 12x8), portable C;
 * chosen once from CPUID. Each is compiled with a target attribute so the
 * library runs on CPUs without AVX-512. */
#include "dynlab/gemm.h"

#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include "core/vmath_avx512.h" /* transpose16_regs */
#define DL_GEMM_X86 1
#endif

/* op(A)[i][k] = a[i*rsa + k*csa]; op(B)[k][j] = b[k*ldb + j]. m <= MR, n <= NR.
 * c = alpha * a b + beta * c (+ bias[j] on every row when bias is not NULL). */
typedef void (*ukernel_fn)(int m, int n, int k, const float *a, long rsa, long csa,
                           const float *b, long ldb, float *c, long ldc, float alpha, float beta,
                           const float *bias);

/* dst[p*ldd + q] = src[q*lds + p] for p, q < tb (a tb x tb block transpose). */
typedef void (*transpose_fn)(const float *src, long lds, float *dst, long ldd);

typedef struct {
    int mr, nr;
    ukernel_fn fn;
} gemm_level;

/* A kernel family: levels by increasing tile width; a call uses the first
 * level whose nr >= N (narrow C gets more rows per tile), else the last. */
typedef struct {
    const char *name;
    int nlevels;
    gemm_level level[3];
    int tb;               /* block of the vectorised B^T packing (0: scalar) */
    transpose_fn transpose;
} gemm_kernel;

/* ---- portable C kernel ----------------------------------------------------- */
#define GEN_MR 4
#define GEN_NR 16

static void ukernel_generic(int m, int n, int k, const float *a, long rsa, long csa,
                            const float *b, long ldb, float *c, long ldc, float alpha,
                            float beta, const float *bias)
{
    float acc[GEN_MR][GEN_NR];
    memset(acc, 0, sizeof acc);
    for (int p = 0; p < k; p++) {
        const float *bp = b + (long)p * ldb;
        for (int i = 0; i < m; i++) {
            float av = a[i * rsa + (long)p * csa];
            for (int j = 0; j < n; j++) acc[i][j] += av * bp[j];
        }
    }
    for (int i = 0; i < m; i++) {
        float *ci = c + i * ldc;
        if (beta == 0.0f)
            for (int j = 0; j < n; j++) ci[j] = alpha * acc[i][j];
        else
            for (int j = 0; j < n; j++) ci[j] = alpha * acc[i][j] + beta * ci[j];
        if (bias)
            for (int j = 0; j < n; j++) ci[j] += bias[j];
    }
}

#ifdef DL_GEMM_X86
/* Register blocking needs the MR x NV loops fully unrolled so the accumulators
 * live in registers; gcc -O2 does not do that on its own. */
#define UNROLL _Pragma("GCC unroll 16")

/* ---- AVX-512 kernels ------------------------------------------------------- *
 * MR rows x NV vectors of 16 floats. Column edges use masked loads/stores
 * (masked-off lanes are never touched, so reading past B's or C's end is safe). */
#define AVX512_BODY(MR, NV, FULL)                                                           \
    do {                                                                                    \
        __m512 acc[MR][NV];                                                                 \
        UNROLL for (int i = 0; i < MR; i++)                                                 \
            UNROLL for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();            \
        __mmask16 mask[NV];                                                                 \
        UNROLL for (int v = 0; v < NV; v++) {                                               \
            int rem = n - 16 * v;                                                           \
            mask[v] = rem >= 16 ? (__mmask16)0xFFFF                                         \
                                : (rem <= 0 ? 0 : (__mmask16)((1u << rem) - 1));            \
        }                                                                                   \
        for (int p = 0; p < k; p++) {                                                       \
            __m512 bv[NV];                                                                  \
            UNROLL for (int v = 0; v < NV; v++)                                             \
                bv[v] = FULL ? _mm512_loadu_ps(b + 16 * v)                                  \
                             : _mm512_maskz_loadu_ps(mask[v], b + 16 * v);                  \
            UNROLL for (int i = 0; i < MR; i++) {                                           \
                __m512 av = _mm512_set1_ps(a[i * rsa]);                                     \
                UNROLL for (int v = 0; v < NV; v++)                                         \
                    acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);                      \
            }                                                                               \
            a += csa;                                                                       \
            b += ldb;                                                                       \
        }                                                                                   \
        __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta), bias_v[NV];           \
        UNROLL for (int v = 0; v < NV; v++)                                                 \
            bias_v[v] = bias ? _mm512_maskz_loadu_ps(mask[v], bias + 16 * v)                \
                             : _mm512_setzero_ps();                                         \
        UNROLL for (int i = 0; i < MR; i++)                                                 \
            UNROLL for (int v = 0; v < NV; v++) {                                           \
                float *cp = c + i * ldc + 16 * v;                                           \
                __m512 r = alpha == 1.0f ? acc[i][v] : _mm512_mul_ps(acc[i][v], va);        \
                if (bias) r = _mm512_add_ps(r, bias_v[v]);                                  \
                if (FULL) {                                                                 \
                    if (beta == 1.0f)                                                       \
                        r = _mm512_add_ps(r, _mm512_loadu_ps(cp));                          \
                    else if (beta != 0.0f)                                                  \
                        r = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cp), r);                    \
                    _mm512_storeu_ps(cp, r);                                                \
                } else {                                                                    \
                    if (beta != 0.0f)                                                       \
                        r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask[v], cp), r);     \
                    _mm512_mask_storeu_ps(cp, mask[v], r);                                  \
                }                                                                           \
            }                                                                               \
    } while (0)

#define DEFINE_AVX512(MR, NV)                                                               \
    __attribute__((target("avx512f"))) static void avx512_##MR##x##NV(                     \
        int n, int k, const float *a, long rsa, long csa, const float *b, long ldb,        \
        float *c, long ldc, float alpha, float beta, const float *bias)                     \
    {                                                                                       \
        if (n == 16 * NV)                                                                   \
            AVX512_BODY(MR, NV, 1);                                                         \
        else                                                                                \
            AVX512_BODY(MR, NV, 0);                                                         \
    }

DEFINE_AVX512(1, 2) DEFINE_AVX512(2, 2) DEFINE_AVX512(3, 2)
DEFINE_AVX512(4, 2) DEFINE_AVX512(5, 2) DEFINE_AVX512(6, 2)
DEFINE_AVX512(1, 1) DEFINE_AVX512(2, 1) DEFINE_AVX512(3, 1) DEFINE_AVX512(4, 1)
DEFINE_AVX512(5, 1) DEFINE_AVX512(6, 1) DEFINE_AVX512(7, 1) DEFINE_AVX512(8, 1)
DEFINE_AVX512(9, 1) DEFINE_AVX512(10, 1) DEFINE_AVX512(11, 1) DEFINE_AVX512(12, 1)

typedef void (*rows_fn)(int n, int k, const float *a, long rsa, long csa, const float *b,
                        long ldb, float *c, long ldc, float alpha, float beta, const float *bias);

static const rows_fn avx512_wide_rows[7] = {0, avx512_1x2, avx512_2x2, avx512_3x2,
                                            avx512_4x2, avx512_5x2, avx512_6x2};
static const rows_fn avx512_narrow_rows[13] = {
    0,          avx512_1x1, avx512_2x1, avx512_3x1,  avx512_4x1,  avx512_5x1, avx512_6x1,
    avx512_7x1, avx512_8x1, avx512_9x1, avx512_10x1, avx512_11x1, avx512_12x1};

static void ukernel_avx512_wide(int m, int n, int k, const float *a, long rsa, long csa,
                                const float *b, long ldb, float *c, long ldc, float alpha,
                                float beta, const float *bias)
{
    /* n <= 16 in a wide tile (last strip): one vector suffices. */
    if (n <= 16)
        avx512_narrow_rows[m](n, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, bias);
    else
        avx512_wide_rows[m](n, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, bias);
}

static void ukernel_avx512_narrow(int m, int n, int k, const float *a, long rsa, long csa,
                                  const float *b, long ldb, float *c, long ldc, float alpha,
                                  float beta, const float *bias)
{
    avx512_narrow_rows[m](n, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, bias);
}

/* ---- AVX2 + FMA kernels ---------------------------------------------------- *
 * MR rows x NV vectors of 8 floats. Partial column tiles use maskload/maskstore. */
__attribute__((target("avx2,fma"))) static inline __m256i avx2_mask(int rem)
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(rem), idx);
}

#define AVX2_BODY(MR, NV, FULL)                                                             \
    do {                                                                                    \
        __m256 acc[MR][NV];                                                                 \
        UNROLL for (int i = 0; i < MR; i++)                                                        \
            UNROLL for (int v = 0; v < NV; v++) acc[i][v] = _mm256_setzero_ps();                   \
        __m256i mask[NV];                                                                   \
        UNROLL for (int v = 0; v < NV; v++) mask[v] = avx2_mask(n - 8 * v);                        \
        for (int p = 0; p < k; p++) {                                                       \
            __m256 bv[NV];                                                                  \
            UNROLL for (int v = 0; v < NV; v++)                                                    \
                bv[v] = FULL ? _mm256_loadu_ps(b + 8 * v)                                   \
                             : _mm256_maskload_ps(b + 8 * v, mask[v]);                      \
            UNROLL for (int i = 0; i < MR; i++) {                                                  \
                __m256 av = _mm256_broadcast_ss(a + i * rsa);                               \
                UNROLL for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(av, bv[v], acc[i][v]); \
            }                                                                               \
            a += csa;                                                                       \
            b += ldb;                                                                       \
        }                                                                                   \
        __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta), bias_v[NV];           \
        UNROLL for (int v = 0; v < NV; v++)                                                 \
            bias_v[v] = bias ? _mm256_maskload_ps(bias + 8 * v, mask[v]) : _mm256_setzero_ps(); \
        UNROLL for (int i = 0; i < MR; i++)                                                        \
            UNROLL for (int v = 0; v < NV; v++) {                                                  \
                float *cp = c + i * ldc + 8 * v;                                            \
                __m256 r = _mm256_mul_ps(acc[i][v], va);                                    \
                if (bias) r = _mm256_add_ps(r, bias_v[v]);                                  \
                if (FULL) {                                                                 \
                    if (beta != 0.0f) r = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cp), r);      \
                    _mm256_storeu_ps(cp, r);                                                \
                } else {                                                                    \
                    if (beta != 0.0f)                                                       \
                        r = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cp, mask[v]), r);        \
                    _mm256_maskstore_ps(cp, mask[v], r);                                    \
                }                                                                           \
            }                                                                               \
    } while (0)

#define DEFINE_AVX2(MR, NV)                                                                 \
    __attribute__((target("avx2,fma"))) static void avx2_##MR##x##NV(                      \
        int n, int k, const float *a, long rsa, long csa, const float *b, long ldb,        \
        float *c, long ldc, float alpha, float beta, const float *bias)                     \
    {                                                                                       \
        if (n == 8 * NV)                                                                    \
            AVX2_BODY(MR, NV, 1);                                                           \
        else                                                                                \
            AVX2_BODY(MR, NV, 0);                                                           \
    }

DEFINE_AVX2(1, 2) DEFINE_AVX2(2, 2) DEFINE_AVX2(3, 2)
DEFINE_AVX2(4, 2) DEFINE_AVX2(5, 2) DEFINE_AVX2(6, 2)
DEFINE_AVX2(1, 1) DEFINE_AVX2(2, 1) DEFINE_AVX2(3, 1) DEFINE_AVX2(4, 1)
DEFINE_AVX2(5, 1) DEFINE_AVX2(6, 1) DEFINE_AVX2(7, 1) DEFINE_AVX2(8, 1)
DEFINE_AVX2(9, 1) DEFINE_AVX2(10, 1) DEFINE_AVX2(11, 1) DEFINE_AVX2(12, 1)

static const rows_fn avx2_wide_rows[7] = {0, avx2_1x2, avx2_2x2, avx2_3x2,
                                          avx2_4x2, avx2_5x2, avx2_6x2};
static const rows_fn avx2_narrow_rows[13] = {
    0,        avx2_1x1, avx2_2x1, avx2_3x1,  avx2_4x1,  avx2_5x1, avx2_6x1,
    avx2_7x1, avx2_8x1, avx2_9x1, avx2_10x1, avx2_11x1, avx2_12x1};

static void ukernel_avx2_wide(int m, int n, int k, const float *a, long rsa, long csa,
                              const float *b, long ldb, float *c, long ldc, float alpha,
                              float beta, const float *bias)
{
    if (n <= 8)
        avx2_narrow_rows[m](n, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, bias);
    else
        avx2_wide_rows[m](n, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, bias);
}

static void ukernel_avx2_narrow(int m, int n, int k, const float *a, long rsa, long csa,
                                const float *b, long ldb, float *c, long ldc, float alpha,
                                float beta, const float *bias)
{
    avx2_narrow_rows[m](n, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, bias);
}
/* ---- vectorised block transposes for packing B^T --------------------------- */
__attribute__((target("avx512f"))) static void transpose16_avx512(const float *src, long lds,
                                                                  float *dst, long ldd)
{
    __m512 r[16];
    UNROLL for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + i * lds);
    transpose16_regs(r);
    UNROLL for (int c = 0; c < 16; c++) _mm512_storeu_ps(dst + c * ldd, r[c]);
}

__attribute__((target("avx2,fma"))) static void transpose8_avx2(const float *src, long lds,
                                                               float *dst, long ldd)
{
    __m256 r[8], t[8], s[8];
    UNROLL for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * lds);
    UNROLL for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    UNROLL for (int i = 0; i < 2; i++) {
        s[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        s[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        s[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        s[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    UNROLL for (int x = 0; x < 4; x++) {
        _mm256_storeu_ps(dst + x * ldd, _mm256_permute2f128_ps(s[x], s[4 + x], 0x20));
        _mm256_storeu_ps(dst + (4 + x) * ldd, _mm256_permute2f128_ps(s[x], s[4 + x], 0x31));
    }
}
#endif /* DL_GEMM_X86 */

static const gemm_kernel kernel_generic = {
    "generic", 1, {{GEN_MR, GEN_NR, ukernel_generic}}, 0, NULL};
#ifdef DL_GEMM_X86
/* N <= 8 runs the 8-wide AVX2 kernel on AVX-512 CPUs: half-empty 16-lane
 * vectors would waste half the FMAs. */
static const gemm_kernel kernel_avx512 = {
    "avx512", 3,
    {{12, 8, ukernel_avx2_narrow}, {12, 16, ukernel_avx512_narrow}, {6, 32, ukernel_avx512_wide}},
    16, transpose16_avx512};
static const gemm_kernel kernel_avx2 = {
    "avx2", 2, {{12, 8, ukernel_avx2_narrow}, {6, 16, ukernel_avx2_wide}}, 8, transpose8_avx2};
#endif

/* ---- kernel selection (once, from CPUID) ------------------------------------ */
static const gemm_kernel *detect_kernel(void)
{
#ifdef DL_GEMM_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return &kernel_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &kernel_avx2;
#endif
    return &kernel_generic;
}

static const gemm_kernel *_Atomic active_kernel;

static const gemm_kernel *kernel(void)
{
    const gemm_kernel *k = active_kernel;
    if (!k) {
        k = detect_kernel();
        active_kernel = k;
    }
    return k;
}

const char *dl_gemm_isa(void) { return kernel()->name; }

int dl_gemm_force_isa(const char *isa)
{
    const gemm_kernel *best = detect_kernel();
    if (!isa) {
        active_kernel = best;
        return 0;
    }
    if (!strcmp(isa, "generic")) {
        active_kernel = &kernel_generic;
        return 0;
    }
#ifdef DL_GEMM_X86
    if (!strcmp(isa, "avx2") && (best == &kernel_avx2 || best == &kernel_avx512)) {
        active_kernel = &kernel_avx2;
        return 0;
    }
    if (!strcmp(isa, "avx512") && best == &kernel_avx512) {
        active_kernel = &kernel_avx512;
        return 0;
    }
#endif
    return -1;
}

/* ---- packing buffer: one per calling thread, grown once, never shrunk ------- */
static _Thread_local float *pack_buf;
static _Thread_local size_t pack_cap; /* floats */

static float *pack_buffer(size_t floats)
{
    if (floats > pack_cap) {
        free(pack_buf);
        size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63;
        pack_buf = aligned_alloc(64, bytes);
        if (!pack_buf) {
            pack_cap = 0;
            return NULL;
        }
        pack_cap = bytes / sizeof(float);
    }
    return pack_buf;
}

/* Pack op(B)[p0:p0+kc, j0:j0+nc] into NR-wide strips, strip s at dst + s*kc*nr,
 * row p of the strip contiguous (nr floats, zero padded past nc). B^T is
 * transposed in tb x tb register blocks where the kernel family has them. */
static void pack_b_strips(const gemm_kernel *kr, int trans_b, const float *B, long ldb, int p0,
                          int kc, int j0, int nc, int nr, float *dst)
{
    int strips = (nc + nr - 1) / nr, tb = kr->tb;
    for (int s = 0; s < strips; s++) {
        int j = j0 + s * nr, w = nc - s * nr < nr ? nc - s * nr : nr;
        float *d = dst + (long)s * kc * nr;
        if (!trans_b) {
            for (int p = 0; p < kc; p++) {
                const float *src = B + (long)(p0 + p) * ldb + j;
                memcpy(d + (long)p * nr, src, (size_t)w * sizeof(float));
                for (int q = w; q < nr; q++) d[(long)p * nr + q] = 0.0f;
            }
            continue;
        }
        /* op(B)[p][j] = B[j][p]: full tb x tb blocks vectorised, edges scalar. */
        int qv = tb ? w / tb * tb : 0, pv = tb ? kc / tb * tb : 0;
        for (int q = 0; q < qv; q += tb)
            for (int p = 0; p < pv; p += tb)
                kr->transpose(B + (long)(j + q) * ldb + p0 + p, ldb, d + (long)p * nr + q, nr);
        for (int q = 0; q < w; q++) {
            const float *src = B + (long)(j + q) * ldb + p0;
            for (int p = q < qv ? pv : 0; p < kc; p++) d[(long)p * nr + q] = src[p];
        }
        for (int q = w; q < nr; q++)
            for (int p = 0; p < kc; p++) d[(long)p * nr + q] = 0.0f;
    }
}

static void scale_c(int M, int N, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        float *ci = C + (long)i * ldc;
        if (beta == 0.0f)
            memset(ci, 0, (size_t)N * sizeof(float));
        else if (beta != 1.0f)
            for (int j = 0; j < N; j++) ci[j] *= beta;
    }
}

/* Tuning constants (docs/benchmarks.md): K block, M block, N block, and the
 * work (M*N*K) above which threads pay, and the size of a plain B (K*N floats)
 * above which packing it pays. */
static int gemm_kc = 256, gemm_mc = 96, gemm_nc = 2048;
static long gemm_par_work = 64L * 64 * 64, gemm_pack_b = 32768, gemm_pack_min_m = 64;

typedef struct {
    const gemm_kernel *kr;
    ukernel_fn fn;
    int mr, nr;
    int trans_a, trans_b;
    int M, N, K;
    float alpha, beta;
    const float *A;
    long lda;
    const float *B;
    long ldb;
    float *C;
    long ldc;
    const float *bias; /* dl_sgemm_bias: row added to C before the first K block */
    int pack; /* op(B) goes through NR-wide strips */
    const float *bpre; /* dl_sgemm_packed_b: op(B) already in strips (npad columns) */
    long npad;
} gemm_job;

/* C rows = bias (dl_sgemm_bias with nothing to multiply). */
static void fill_bias_rows(float *c, long ldc, const float *bias, int m, int n)
{
    for (int r = 0; r < m; r++) memcpy(c + r * ldc, bias, (size_t)n * sizeof(float));
}

/* Rows [m0,m1) x columns j0 + [0,nc) of one K block [p0, p0+kc). */
static void run_tiles(const gemm_job *J, int p0, int kc, int j0, int nc, const float *bpack,
                      int m0, int m1)
{
    long rsa = J->trans_a ? 1 : J->lda, csa = J->trans_a ? J->lda : 1;
    /* beta and the bias apply in the first K block only. */
    const float beta = p0 == 0 ? J->beta : 1.0f, *bias = p0 == 0 ? J->bias : NULL;
    int strips = (nc + J->nr - 1) / J->nr;
    for (int ic = m0; ic < m1; ic += gemm_mc) {
        int mc_end = ic + gemm_mc < m1 ? ic + gemm_mc : m1;
        for (int s = 0; s < strips; s++) {
            int j = j0 + s * J->nr, n = nc - s * J->nr < J->nr ? nc - s * J->nr : J->nr;
            const float *b;
            long ldb;
            if (J->pack) {
                b = bpack + (long)s * kc * J->nr;
                ldb = J->nr;
            } else {
                b = J->B + (long)p0 * J->ldb + j;
                ldb = J->ldb;
            }
            /* Rows split evenly over the tiles (16 rows as 8+8, not 12+4:
             * a 4-row tile has too few accumulators to hide FMA latency). */
            int len = mc_end - ic, ntiles = (len + J->mr - 1) / J->mr;
            int base = len / ntiles, extra = len % ntiles;
            for (int t = 0, i = ic; t < ntiles; t++) {
                int m = base + (t < extra);
                const float *a = J->A + i * rsa + p0 * csa;
                J->fn(m, n, kc, a, rsa, csa, b, ldb, J->C + (long)i * J->ldc + j, J->ldc,
                      J->alpha, beta, bias ? bias + j : NULL);
                i += m;
            }
        }
    }
}

/* One thread's share of C: rows [m0,m1) x columns [n0,n1). The thread packs
 * the B strips it needs into its own buffer, so threads never wait on each
 * other inside a call. */
static void run_share(const gemm_job *J, int m0, int m1, int n0, int n1)
{
    if (m0 >= m1 || n0 >= n1) return;
    /* Small packed panels (attention's per-head products) live on the stack:
     * no thread-local lookup on the many-tiny-calls path. */
    float local[4096] __attribute__((aligned(64)));
    float *bpack = NULL;
    int pack = J->pack;
    if (J->bpre) {
        for (int j0 = n0; j0 < n1; j0 += gemm_nc) {
            int nc = n1 - j0 < gemm_nc ? n1 - j0 : gemm_nc;
            for (int p0 = 0; p0 < J->K; p0 += gemm_kc) {
                int kc = J->K - p0 < gemm_kc ? J->K - p0 : gemm_kc;
                run_tiles(J, p0, kc, j0, nc, J->bpre + (long)p0 * J->npad + (long)(j0 / J->nr) * kc * J->nr, m0, m1);
            }
        }
        return;
    }
    if (pack) {
        int kc = J->K < gemm_kc ? J->K : gemm_kc, nc = n1 - n0 < gemm_nc ? n1 - n0 : gemm_nc;
        size_t need = (size_t)((nc + J->nr - 1) / J->nr) * kc * J->nr;
        bpack = need <= sizeof local / sizeof *local ? local : pack_buffer(need);
        if (!bpack) abort(); /* out of memory for a few MB: nothing sensible to do */
    }
    for (int j0 = n0; j0 < n1; j0 += gemm_nc) {
        int nc = n1 - j0 < gemm_nc ? n1 - j0 : gemm_nc;
        for (int p0 = 0; p0 < J->K; p0 += gemm_kc) {
            int kc = J->K - p0 < gemm_kc ? J->K - p0 : gemm_kc;
            if (pack) pack_b_strips(J->kr, J->trans_b, J->B, J->ldb, p0, kc, j0, nc, J->nr, bpack);
            run_tiles(J, p0, kc, j0, nc, bpack, m0, m1);
        }
    }
}

static void tune_from_env(void)
{
    const char *e;
    if ((e = getenv("DL_GEMM_KC"))) gemm_kc = atoi(e);
    if ((e = getenv("DL_GEMM_MC"))) gemm_mc = atoi(e);
    if ((e = getenv("DL_GEMM_NC"))) gemm_nc = atoi(e);
    if ((e = getenv("DL_GEMM_PAR"))) gemm_par_work = atol(e);
    if ((e = getenv("DL_GEMM_PACK"))) gemm_pack_b = atol(e);
    if ((e = getenv("DL_GEMM_PACK_M"))) gemm_pack_min_m = atol(e);
}

/* Replicas call dl_sgemm from several threads at once: read the environment once. */
static void gemm_init(void)
{
    static pthread_once_t tuned = PTHREAD_ONCE_INIT;
    pthread_once(&tuned, tune_from_env);
}

/* The register tile a product with N columns runs on. */
static const gemm_level *level_for(const gemm_kernel *kr, int N)
{
    for (int l = 0; l < kr->nlevels - 1; l++)
        if (N <= kr->level[l].nr) return &kr->level[l];
    return &kr->level[kr->nlevels - 1];
}

/* Rows [0, M) split over the threads (whole strips of columns or whole
 * micro-tiles of rows); each thread packs what it uses. */
static void run_job(const gemm_job *Jp)
{
    const gemm_job J = *Jp;
    const int M = J.M, N = J.N;
    long work = (long)M * N * J.K;
    int nthreads = 1;
    if (work >= gemm_par_work && !omp_in_parallel()) nthreads = omp_get_max_threads();
    if (nthreads <= 1) {
        run_share(&J, 0, M, 0, N);
        return;
    }
    /* Split columns (whole strips) when there are enough strips to balance,
     * else rows (whole micro-tiles). */
    int strips = (N + J.nr - 1) / J.nr, mtiles = (M + J.mr - 1) / J.mr;
    int split_n = strips >= 4 * nthreads || (strips % nthreads == 0 && strips >= mtiles);
#pragma omp parallel num_threads(nthreads)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        if (split_n) {
            int lo = (int)((long)strips * t / nt) * J.nr, hi = (int)((long)strips * (t + 1) / nt) * J.nr;
            run_share(&J, 0, M, lo, hi < N ? hi : N);
        } else {
            int lo = (int)((long)mtiles * t / nt) * J.mr, hi = (int)((long)mtiles * (t + 1) / nt) * J.mr;
            run_share(&J, lo, hi < M ? hi : M, 0, N);
        }
    }
}

static void sgemm_impl(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                       int lda, const float *B, int ldb, float beta, const float *bias, float *C,
                       int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0.0f) {
        if (bias)
            fill_bias_rows(C, ldc, bias, M, N);
        else
            scale_c(M, N, beta, C, ldc);
        return;
    }
    gemm_init();
    const gemm_kernel *kr = kernel();
    gemm_job J = {.kr = kr, .trans_a = trans_a, .trans_b = trans_b, .M = M, .N = N, .K = K,
                  .alpha = alpha, .beta = beta, .A = A, .lda = lda, .B = B, .ldb = ldb,
                  .C = C, .ldc = ldc, .bias = bias};
    const gemm_level *lv = level_for(kr, N);
    J.fn = lv->fn;
    J.mr = lv->mr;
    J.nr = lv->nr;
    /* A plain B is read in place while it is small enough to stay in L1/L2
     * (measured: unpacked wins up to 128x128, packing from 512x128 on), when
     * so few rows use it that a copy cannot pay for itself (M <= 64: onelayer's
     * weight gradient of the MLP projection, 32 x 128 x 4096, streams B once
     * per 6 rows, and copying 2 MB to save that measured slower), or when it is one
     * strip (N <= NR): its rows are then already what the kernel loads, and
     * the copy only adds a pass over B (the weight-gradient GEMMs of narrow
     * layers, B = x [tokens, 32]). But a B whose row stride is a multiple of
     * 1 KB is packed whenever enough rows reuse it: its strip's rows then fall in
     * 4 or fewer L1 sets and the strip is evicted between micro-tiles (the
     * Winograd weight gradients' dU = Z^T V with 256 and 512 channels, K = 64
     * tiles: 81 -> 103 GFLOP/s at 512, 86 -> 106 at 256; docs/benchmarks.md). */
    const int l1_aliased = ldb % 256 == 0 && K > 16;
    J.pack = trans_b || (M > gemm_pack_min_m && N > J.nr && ((long)K * N > gemm_pack_b || l1_aliased));
    run_job(&J);
}

void dl_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    sgemm_impl(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, NULL, C, ldc);
}

void dl_sgemm_bias(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                   int lda, const float *B, int ldb, const float *bias, float *C, int ldc)
{
    sgemm_impl(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, 0.0f, bias, C, ldc);
}

/* ---- B packed by the caller ------------------------------------------------ *
 * Layout (the one run_share packs into): K blocks of gemm_kc rows one after
 * the other, block p0 at p0 * npad (npad: N rounded up to the strip width NR);
 * inside a block of kc rows, strip s at s * kc * NR, row p of the strip at p * NR. */
/* The register tile of a packed-B product: never narrower than 16 columns, so that
 * 16 consecutive columns from a multiple of 16 always lie in one strip (the 8-wide
 * AVX2 tile of N <= 8 would split them; its 16-wide neighbour masks the extra columns). */
static const gemm_level *packed_level(const gemm_kernel *kr, int N)
{
    return level_for(kr, N < 16 ? 16 : N);
}

static long packed_npad(const gemm_kernel *kr, int N)
{
    const int nr = packed_level(kr, N)->nr;
    return (long)(N + nr - 1) / nr * nr;
}

long dl_sgemm_packed_b_floats(int N, int K)
{
    gemm_init();
    return packed_npad(kernel(), N) * (K > 0 ? K : 0);
}

void dl_sgemm_packed_b_layout(int N, int K, dl_sgemm_bpack *L)
{
    gemm_init();
    const gemm_kernel *kr = kernel();
    L->K = K, L->kc = gemm_kc, L->nr = packed_level(kr, N)->nr, L->npad = packed_npad(kr, N);
}

void dl_sgemm_packed_b(int trans_a, int M, int N, int K, float alpha, const float *A, int lda,
                       const float *Bp, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0.0f) {
        scale_c(M, N, beta, C, ldc);
        return;
    }
    gemm_init();
    const gemm_kernel *kr = kernel();
    const gemm_level *lv = packed_level(kr, N);
    gemm_job J = {.kr = kr, .fn = lv->fn, .mr = lv->mr, .nr = lv->nr, .trans_a = trans_a,
                  .M = M, .N = N, .K = K, .alpha = alpha, .beta = beta, .A = A, .lda = lda,
                  .C = C, .ldc = ldc, .pack = 1, .bpre = Bp, .npad = packed_npad(kr, N)};
    run_job(&J);
}
