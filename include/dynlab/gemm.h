/* The one GEMM entry point. Row-major:
 *   C[M,N] = alpha * op(A) @ op(B) + beta * C
 * op(A) is A [M,K] (lda >= K), or A^T when trans_a with A stored [K,M] (lda >= M);
 * op(B) is B [K,N] (ldb >= N), or B^T when trans_b with B stored [N,K] (ldb >= K).
 * Every shape runs the in-house register-blocked AVX-512 / AVX2 / portable
 * kernels (chosen at run time from CPUID); no measured training shape favoured
 * OpenBLAS, so it is not called (docs/benchmarks.md). beta == 0 never reads C.
 * Safe to call from several threads at once (replicas). */
#ifndef DYNLAB_GEMM_H
#define DYNLAB_GEMM_H

#ifdef __cplusplus
extern "C" {
#endif

void dl_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* A linear layer's product with its bias: C[M,N] = alpha * op(A) @ op(B) + bias,
 * bias[N] added to every row (C's old contents are not read). Each C tile starts
 * as the bias rows while it sits in L1, instead of a separate pass over C. */
void dl_sgemm_bias(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                   int lda, const float *B, int ldb, const float *bias, float *C, int ldc);

/* The same product with op(B) [K, N] already packed by the caller into the
 * strips the kernels read (no packing pass inside the call): a caller that
 * produces B itself (Winograd's filter transform) writes element (k, j) at
 * dl_sgemm_bpack_offset(&L, k, j) of a buffer of dl_sgemm_packed_b_floats(N, K)
 * floats, L from dl_sgemm_packed_b_layout(N, K, &L). Columns j .. j+15 of a row
 * are contiguous when j is a multiple of 16, also past N up to the next multiple
 * of 16 (the strips are at least 16 wide), and 64-byte aligned when the buffer is. The layout depends on the active kernel and the GEMM_KC tuning: pack and
 * multiply with the same settings. Results are the same bits as dl_sgemm. */
typedef struct dl_sgemm_bpack {
    int K, kc, nr; /* K blocks of kc rows; strips of nr columns */
    long npad;     /* N rounded up to nr */
} dl_sgemm_bpack;
void dl_sgemm_packed_b_layout(int N, int K, dl_sgemm_bpack *L);
long dl_sgemm_packed_b_floats(int N, int K);
/* Block p0 of kc rows at p0 npad; in it strip s at s kc nr, row p at p nr. */
static inline long dl_sgemm_bpack_offset(const dl_sgemm_bpack *L, int k, int j)
{
    const int p0 = k / L->kc * L->kc, kc = L->K - p0 < L->kc ? L->K - p0 : L->kc;
    return (long)p0 * L->npad + (long)(j / L->nr) * kc * L->nr + (long)(k - p0) * L->nr + j % L->nr;
}
void dl_sgemm_packed_b(int trans_a, int M, int N, int K, float alpha, const float *A, int lda,
                       const float *Bp, float beta, float *C, int ldc);

/* Which kernel the CPU got: "avx512", "avx2" or "generic". */
const char *dl_gemm_isa(void);

/* Tests and benchmarks only: use the kernel of `isa` ("avx512", "avx2",
 * "generic"), or the best one the CPU has when isa is NULL. Returns 0, or -1
 * (kernel unchanged) when this CPU cannot run it. Not thread-safe against
 * concurrent dl_sgemm calls. */
int dl_gemm_force_isa(const char *isa);

#ifdef __cplusplus
}
#endif
#endif
