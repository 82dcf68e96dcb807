/* dl_sgemm (and dl_sgemm_bias) against a double-precision reference: every transpose, padded
 * leading dimensions, alpha/beta (beta == 0 must never read C: C starts as NaN),
 * edge shapes (1xN, Mx1, sizes around the micro-tile), shapes large enough to
 * take the packed and threaded paths, and every kernel the CPU can run
 * (the default kernel first). The tolerance is the float accumulation bound
 * 2*K*eps * sum|alpha a b| + |beta c|; a self-test checks that it catches a
 * single wrong element. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "dynlab/gemm.h"
#include "testutil.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int below(int n) { return (int)(next_u64() % (uint64_t)n); }
static float unif(void) { return (float)((next_u64() >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f; }

typedef struct {
    int ta, tb, M, N, K, lda, ldb, ldc;
    float alpha, beta;
    int bias; /* dl_sgemm_bias: C = alpha op(A) op(B) + bias row (C never read) */
} gemm_case;

/* Runs one case; returns the worst error / tolerance ratio (> 1 = failure).
 * `corrupt` flips one output element first (self-test of the checker). */
static double run_case(const gemm_case *c, int corrupt)
{
    int arows = c->ta ? c->K : c->M, brows = c->tb ? c->N : c->K;
    size_t asz = (size_t)arows * c->lda, bsz = (size_t)brows * c->ldb;
    size_t csz = (size_t)c->M * c->ldc;
    float *A = malloc((asz + 1) * sizeof *A), *B = malloc((bsz + 1) * sizeof *B);
    float *C = malloc((csz + 1) * sizeof *C), *C0 = malloc((csz + 1) * sizeof *C0);
    float *bias = malloc(((size_t)c->N + 1) * sizeof *bias);
    assert_non_null(bias);
    for (int j = 0; j < c->N; j++) bias[j] = 4.0f * unif();
    assert_non_null(A);
    assert_non_null(B);
    assert_non_null(C);
    assert_non_null(C0);
    for (size_t i = 0; i < asz; i++) A[i] = unif();
    for (size_t i = 0; i < bsz; i++) B[i] = unif();
    for (size_t i = 0; i < csz; i++) C0[i] = c->beta == 0.0f || c->bias ? NAN : unif();
    /* Padding columns of C (j >= N) are sentinels that must stay untouched. */
    for (int i = 0; i < c->M; i++)
        for (int j = c->N; j < c->ldc; j++) C0[(size_t)i * c->ldc + j] = 12345.0f;
    memcpy(C, C0, csz * sizeof *C);

    if (c->bias)
        dl_sgemm_bias(c->ta, c->tb, c->M, c->N, c->K, c->alpha, A, c->lda, B, c->ldb, bias, C, c->ldc);
    else
        dl_sgemm(c->ta, c->tb, c->M, c->N, c->K, c->alpha, A, c->lda, B, c->ldb, c->beta, C, c->ldc);
    if (corrupt) C[(size_t)below(c->M) * c->ldc + below(c->N)] += 1e-3f;

    double worst = 0.0;
    const double eps = 5.96e-8;
    for (int i = 0; i < c->M; i++) {
        for (int j = 0; j < c->N; j++) {
            double s = 0.0, sabs = 0.0;
            for (int p = 0; p < c->K; p++) {
                double a = c->ta ? A[(size_t)p * c->lda + i] : A[(size_t)i * c->lda + p];
                double b = c->tb ? B[(size_t)j * c->ldb + p] : B[(size_t)p * c->ldb + j];
                s += a * b;
                sabs += fabs(a * b);
            }
            double c0 = c->beta == 0.0f || c->bias ? 0.0 : C0[(size_t)i * c->ldc + j];
            double ref = c->alpha * s + c->beta * c0 + (c->bias ? bias[j] : 0.0);
            if (c->bias) c0 = bias[j] / c->beta; /* the bias enters the bound like beta*c0 */
            double tol = 2.0 * (c->K + 2) * eps * (fabs(c->alpha) * sabs + fabs(c->beta * c0)) + 1e-30;
            double got = C[(size_t)i * c->ldc + j];
            double r = isfinite(got) ? fabs(got - ref) / tol : INFINITY;
            if (r > worst) worst = r;
        }
        for (int j = c->N; j < c->ldc; j++)
            if (C[(size_t)i * c->ldc + j] != 12345.0f) worst = INFINITY;
    }
    free(A);
    free(B);
    free(C);
    free(C0);
    free(bias);
    return worst;
}

static void make_case(gemm_case *c, int ta, int tb, int M, int N, int K, float alpha, float beta,
                      int pad)
{
    c->ta = ta;
    c->tb = tb;
    c->M = M;
    c->N = N;
    c->K = K;
    c->lda = (ta ? M : K) + (pad ? below(5) : 0);
    c->ldb = (tb ? K : N) + (pad ? below(5) : 0);
    c->ldc = N + (pad ? below(5) : 0);
    c->alpha = alpha;
    c->beta = beta;
    c->bias = 0;
}

static void expect_ok(const gemm_case *c)
{
    double r = run_case(c, 0);
    if (!(r <= 1.0)) {
        fprintf(stderr, "FAIL isa=%s ta=%d tb=%d M=%d N=%d K=%d lda=%d ldb=%d ldc=%d alpha=%g beta=%g: err/tol=%g\n",
                dl_gemm_isa(), c->ta, c->tb, c->M, c->N, c->K, c->lda, c->ldb, c->ldc, c->alpha,
                c->beta, r);
        fail();
    }
}

static const char *const isas[] = {NULL, "avx512", "avx2", "generic"};

static void each_isa(void (*body)(void))
{
    for (size_t i = 0; i < sizeof isas / sizeof *isas; i++) {
        if (dl_gemm_force_isa(isas[i]) != 0) continue;
        body();
    }
    dl_gemm_force_isa(NULL);
}

/* Every (transpose, alpha, beta) on edge shapes around the micro-tiles. */
static void edge_shapes_body(void)
{
    static const int dims[] = {1, 2, 5, 6, 7, 11, 12, 13, 16, 17, 31, 32, 33, 48};
    static const float alphas[] = {1.0f, -0.5f};
    static const float betas[] = {0.0f, 1.0f, 0.7f};
    int nd = (int)(sizeof dims / sizeof *dims);
    for (int t = 0; t < 4; t++)
        for (int ai = 0; ai < 2; ai++)
            for (int bi = 0; bi < 3; bi++)
                for (int rep = 0; rep < 12; rep++) {
                    gemm_case c;
                    make_case(&c, t & 1, t >> 1, dims[below(nd)], dims[below(nd)], dims[below(nd)],
                              alphas[ai], betas[bi], rep & 1);
                    expect_ok(&c);
                }
}
static void test_edge_shapes(void **state) { (void)state; each_isa(edge_shapes_body); }

/* 1xN, Mx1, Kx1 outer products and vectors. */
static void vector_shapes_body(void)
{
    for (int t = 0; t < 4; t++) {
        gemm_case c;
        int n = 1 + below(300);
        make_case(&c, t & 1, t >> 1, 1, n, 1 + below(70), 1.0f, 0.0f, 1);
        expect_ok(&c);
        make_case(&c, t & 1, t >> 1, n, 1, 1 + below(70), 2.0f, 1.0f, 1);
        expect_ok(&c);
        make_case(&c, t & 1, t >> 1, 1 + below(40), 1 + below(40), 1, 1.0f, 0.3f, 1);
        expect_ok(&c);
        make_case(&c, t & 1, t >> 1, 1, 1, 1 + below(500), -1.0f, 0.0f, 0);
        expect_ok(&c);
    }
}
static void test_vector_shapes(void **state) { (void)state; each_isa(vector_shapes_body); }

/* Random shapes up to a few hundred: K > KC (several K blocks, beta on the
 * first only), the packed path and the threaded path. */
static void random_shapes_body(void)
{
    int reps = tu_sanitized() ? 6 : 24;
    for (int rep = 0; rep < reps; rep++) {
        gemm_case c;
        float beta = rep % 3 == 0 ? 0.0f : (rep % 3 == 1 ? 1.0f : -1.5f);
        make_case(&c, below(2), below(2), 1 + below(200), 1 + below(200), 1 + below(600),
                  0.25f + (float)below(4), beta, below(2));
        expect_ok(&c);
    }
    gemm_case big;
    make_case(&big, 0, 0, 256, 256, 300, 1.0f, 0.0f, 0);
    expect_ok(&big);
    make_case(&big, 1, 1, 130, 270, 520, 1.0f, 1.0f, 1);
    expect_ok(&big);
    make_case(&big, 0, 1, 4, 2100, 70, 1.0f, 0.5f, 1); /* N > NC */
    expect_ok(&big);
    /* B rows 1 KB apart with K * N under the packing threshold: packed anyway */
    make_case(&big, 1, 0, 100, 200, 64, 1.0f, 1.0f, 0);
    big.ldb = 256;
    expect_ok(&big);
}
static void test_random_shapes(void **state) { (void)state; each_isa(random_shapes_body); }

/* dl_sgemm_bias on edge shapes, K > KC (the bias enters once, before the first K
 * block), the packed and the threaded paths, and K == 0 (C = the bias rows). */
static void bias_shapes_body(void)
{
    static const int dims[] = {1, 5, 6, 7, 12, 16, 17, 32, 33, 48};
    const int nd = (int)(sizeof dims / sizeof *dims), reps = tu_sanitized() ? 16 : 48;
    for (int rep = 0; rep < reps; rep++) {
        gemm_case c;
        make_case(&c, rep & 1, (rep >> 1) & 1, dims[below(nd)], dims[below(nd)], dims[below(nd)],
                  rep % 3 ? 1.0f : -0.5f, 1.0f, rep & 4);
        c.bias = 1;
        expect_ok(&c);
    }
    static const int big[][3] = {{300, 130, 520}, {4096, 32, 32}, {1024, 128, 512}, {96, 2100, 40}};
    for (int i = 0; i < 4; i++) {
        gemm_case c;
        make_case(&c, 0, i & 1, big[i][0], big[i][1], big[i][2], 1.0f, 1.0f, i & 1);
        c.bias = 1;
        expect_ok(&c);
    }
    gemm_case k0;
    make_case(&k0, 0, 1, 9, 21, 0, 1.0f, 1.0f, 1);
    k0.bias = 1;
    expect_ok(&k0);
}
static void test_bias_shapes(void **state) { (void)state; each_isa(bias_shapes_body); }

/* M, N or K == 0 and alpha == 0: C = beta*C, and beta == 0 writes zeros. */
static void test_degenerate(void **state)
{
    (void)state;
    float A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8}, C[4];
    for (int i = 0; i < 4; i++) C[i] = NAN;
    dl_sgemm(0, 0, 2, 2, 0, 1.0f, A, 1, B, 2, 0.0f, C, 2);
    for (int i = 0; i < 4; i++) assert_true(C[i] == 0.0f);
    for (int i = 0; i < 4; i++) C[i] = 1.0f;
    dl_sgemm(0, 0, 2, 2, 2, 0.0f, A, 2, B, 2, 3.0f, C, 2);
    for (int i = 0; i < 4; i++) assert_true(C[i] == 3.0f);
    dl_sgemm(0, 0, 0, 2, 2, 1.0f, A, 2, B, 2, 0.0f, NULL, 2); /* nothing touched */
    dl_sgemm(0, 0, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    assert_true(C[0] == 19.0f && C[1] == 22.0f && C[2] == 43.0f && C[3] == 50.0f);
}

/* The checker is not vacuous: one perturbed element is caught. */
static void test_checker_catches_errors(void **state)
{
    (void)state;
    gemm_case c;
    make_case(&c, 0, 1, 17, 33, 40, 1.0f, 0.0f, 1);
    assert_true(run_case(&c, 1) > 1.0);
    assert_true(run_case(&c, 0) <= 1.0);
}

static void test_isa_names(void **state)
{
    (void)state;
    const char *isa = dl_gemm_isa();
    assert_true(!strcmp(isa, "avx512") || !strcmp(isa, "avx2") || !strcmp(isa, "generic"));
    assert_int_equal(dl_gemm_force_isa("generic"), 0);
    assert_string_equal(dl_gemm_isa(), "generic");
    assert_int_equal(dl_gemm_force_isa("no-such-isa"), -1);
    assert_string_equal(dl_gemm_isa(), "generic");
    assert_int_equal(dl_gemm_force_isa(NULL), 0);
    assert_string_equal(dl_gemm_isa(), isa);
}

/* dl_sgemm_packed_b: B written element by element at dl_sgemm_bpack_offset
 * must give the same bits as dl_sgemm on the plain B (K across several K blocks,
 * N with a partial strip, both transposes of A, beta 0 and 1, 1 and 2 threads). */
static void packed_b_body(void)
{
    static const int shapes[][3] = {{64, 512, 512}, {13, 48, 300}, {70, 100, 17}, {1, 16, 1}, {200, 64, 600}, {20, 6, 40}};
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++)
        for (int ta = 0; ta < 2; ta++)
            for (int threads = 1; threads <= 2; threads++) {
                const int M = shapes[si][0], N = shapes[si][1], K = shapes[si][2];
                const long pf = dl_sgemm_packed_b_floats(N, K);
                assert_true(pf >= (long)N * K);
                float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
                float *Bp = calloc((size_t)pf, sizeof(float));
                float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
                dl_sgemm_bpack L;
                dl_sgemm_packed_b_layout(N, K, &L);
                for (long i = 0; i < (long)M * K; i++) A[i] = unif();
                for (int k = 0; k < K; k++)
                    for (int j = 0; j < N; j++) {
                        B[(long)k * N + j] = unif();
                        const long off = dl_sgemm_bpack_offset(&L, k, j);
                        assert_true(off >= 0 && off < pf);
                        Bp[off] = B[(long)k * N + j];
                        /* the promise the Winograd transforms rely on: 16 columns from a
                         * multiple of 16 are consecutive (past N too, up to 16-aligned) */
                        if (j % 16 == 0)
                            for (int q = 1; q < 16; q++)
                                assert_int_equal(dl_sgemm_bpack_offset(&L, k, j + q), off + q);
                    }
                for (long i = 0; i < (long)M * N; i++) C1[i] = C2[i] = unif();
                omp_set_num_threads(threads);
                const float beta = (float)(si % 2);
                const int lda = ta ? M : K;
                dl_sgemm(ta, 0, M, N, K, 0.5f, A, lda, B, N, beta, C1, N);
                dl_sgemm_packed_b(ta, M, N, K, 0.5f, A, lda, Bp, beta, C2, N);
                omp_set_num_threads(1);
                assert_memory_equal(C1, C2, sizeof(float) * M * N);
                free(A), free(B), free(Bp), free(C1), free(C2);
            }
}
static void test_packed_b(void **state) { (void)state; each_isa(packed_b_body); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa_names),      cmocka_unit_test(test_degenerate),
        cmocka_unit_test(test_checker_catches_errors), cmocka_unit_test(test_edge_shapes),
        cmocka_unit_test(test_vector_shapes), cmocka_unit_test(test_random_shapes),
        cmocka_unit_test(test_bias_shapes), cmocka_unit_test(test_packed_b),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
