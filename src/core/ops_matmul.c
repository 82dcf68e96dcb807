/* dl_matmul: C = op(A) @ op(B) on top of dl_sgemm, batched over A's leading dims.
 * A shared 2-D B with an untransposed A collapses the batch into one big GEMM. */
#include "core/internal.h"
#include "dynlab/gemm.h"

typedef struct mm_dims {
    int batch, M, N, K, ta, tb, shared;
} mm_dims;

/* Run body(b) for b < batch, in parallel when there are several small products
 * (each dl_sgemm then runs single-threaded inside the team). */
#define MM_FOR_BATCH(d, body)                                                          \
    do {                                                                               \
        const double flops_ = 2.0 * (d).M * (double)(d).N * (d).K * (d).batch;         \
        _Pragma("omp parallel for schedule(static) if ((d).batch > 1 && flops_ > 2e5)") \
        for (int b = 0; b < (d).batch; b++) { body; }                                  \
    } while (0)

static void matmul_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *a = r->in[0], *bt = r->in[1], *bias = r->in[2], *out = r->out;
    const mm_dims d = {r->arg.i[0], r->arg.i[1], r->arg.i[2], r->arg.i[3],
                       r->arg.i[4], r->arg.i[5], r->arg.i[6]};
    const int lda = d.ta ? d.M : d.K, ldb = d.tb ? d.K : d.N;
    const int64_t sa = (int64_t)d.M * d.K, sb = d.shared ? 0 : (int64_t)d.K * d.N,
                  sc = (int64_t)d.M * d.N;
    const float *A = a->data, *B = bt->data, *dC = out->grad;
    if (bias && bias->requires_grad) /* dl_matmul_bias: column sums of dC, rows in order */
        dl_sum_rows_into(dl_tensor_grad(g, bias), dC, (int64_t)d.batch * d.M, d.N);
    /* A gradient buffer allocated here is written, not accumulated (beta = 0). */
    if (a->requires_grad) {
        int fresh;
        float *dA = dl_grad_out(g, a, &fresh);
        const float beta = fresh ? 0.0f : 1.0f;
        if (d.shared && !d.ta) {
            dl_sgemm(0, !d.tb, d.batch * d.M, d.K, d.N, 1.0f, dC, d.N, B, ldb, beta, dA, d.K);
        } else if (d.ta) {
            MM_FOR_BATCH(d, dl_sgemm(d.tb, 1, d.K, d.M, d.N, 1.0f, B + b * sb, ldb, dC + b * sc, d.N,
                                     beta, dA + b * sa, d.M));
        } else {
            MM_FOR_BATCH(d, dl_sgemm(0, !d.tb, d.M, d.K, d.N, 1.0f, dC + b * sc, d.N, B + b * sb, ldb,
                                     beta, dA + b * sa, d.K));
        }
    }
    if (bt->requires_grad) {
        int fresh;
        float *dB = dl_grad_out(g, bt, &fresh);
        const float beta = fresh ? 0.0f : 1.0f;
        if (d.shared && !d.ta) {
            if (!d.tb)
                dl_sgemm(1, 0, d.K, d.N, d.batch * d.M, 1.0f, A, d.K, dC, d.N, beta, dB, d.N);
            else
                dl_sgemm(1, 0, d.N, d.K, d.batch * d.M, 1.0f, dC, d.N, A, d.K, beta, dB, d.K);
        } else if (d.shared) {
            /* trans_a with a shared B: accumulate the batch in order (deterministic). */
            for (int b = 0; b < d.batch; b++) {
                const float bb = b == 0 ? beta : 1.0f;
                if (!d.tb)
                    dl_sgemm(0, 0, d.K, d.N, d.M, 1.0f, A + b * sa, lda, dC + b * sc, d.N, bb, dB, d.N);
                else
                    dl_sgemm(1, 1, d.N, d.K, d.M, 1.0f, dC + b * sc, d.N, A + b * sa, lda, bb, dB, d.K);
            }
        } else if (!d.tb) {
            MM_FOR_BATCH(d, dl_sgemm(!d.ta, 0, d.K, d.N, d.M, 1.0f, A + b * sa, lda, dC + b * sc, d.N,
                                     beta, dB + b * sb, d.N));
        } else {
            MM_FOR_BATCH(d, dl_sgemm(1, d.ta, d.N, d.K, d.M, 1.0f, dC + b * sc, d.N, A + b * sa, lda,
                                     beta, dB + b * sb, d.K));
        }
    }
}

static dl_tensor *matmul_impl(dl_graph *g, dl_tensor *a, dl_tensor *bm, dl_tensor *bias, int trans_a,
                              int trans_b) {
    char sa_[64], sb_[64];
    if (a->ndim < 2 || bm->ndim < 2)
        dl_fatal("dl_matmul: operands need at least 2 dims, got %s and %s",
                 dl_shape_str(a, sa_, sizeof sa_), dl_shape_str(bm, sb_, sizeof sb_));
    mm_dims d;
    d.ta = trans_a != 0;
    d.tb = trans_b != 0;
    const int ar = a->shape[a->ndim - 2], ac = a->shape[a->ndim - 1];
    const int br = bm->shape[bm->ndim - 2], bc = bm->shape[bm->ndim - 1];
    d.M = d.ta ? ac : ar;
    d.K = d.ta ? ar : ac;
    d.N = d.tb ? br : bc;
    const int kb = d.tb ? bc : br;
    d.batch = 1;
    for (int i = 0; i < a->ndim - 2; i++) d.batch *= a->shape[i];
    d.shared = bm->ndim == 2;
    int ok = kb == d.K;
    if (!d.shared) {
        ok = ok && bm->ndim == a->ndim;
        for (int i = 0; ok && i < a->ndim - 2; i++) ok = a->shape[i] == bm->shape[i];
    }
    if (!ok)
        dl_fatal("dl_matmul: shapes %s%s and %s%s do not match (inner dims or batch dims)",
                 dl_shape_str(a, sa_, sizeof sa_), d.ta ? "^T" : "", dl_shape_str(bm, sb_, sizeof sb_),
                 d.tb ? "^T" : "");
    int shape[DL_MAX_DIMS];
    for (int i = 0; i < a->ndim - 2; i++) shape[i] = a->shape[i];
    shape[a->ndim - 2] = d.M;
    shape[a->ndim - 1] = d.N;
    dl_tensor *out = dl_tensor_new(g, a->ndim, shape);
    const int lda = d.ta ? d.M : d.K, ldb = d.tb ? d.K : d.N;
    const int64_t sa = (int64_t)d.M * d.K, sb = d.shared ? 0 : (int64_t)d.K * d.N,
                  sc = (int64_t)d.M * d.N;
    const float *A = a->data, *B = bm->data;
    float *C = out->data;
    if (bias && bias->size != d.N) {
        char s_[64];
        dl_fatal("dl_matmul_bias: bias %s must have %d elements", dl_shape_str(bias, s_, sizeof s_), d.N);
    }
    if (d.shared && !d.ta) {
        /* One GEMM over all rows; a bias is fused into its tiles (the usual linear layer). */
        if (bias)
            dl_sgemm_bias(0, d.tb, d.batch * d.M, d.N, d.K, 1.0f, A, d.K, B, ldb, bias->data, C, d.N);
        else
            dl_sgemm(0, d.tb, d.batch * d.M, d.N, d.K, 1.0f, A, d.K, B, ldb, 0.0f, C, d.N);
    } else {
        float beta = 0.0f;
        if (bias) { /* C starts as the bias rows; the GEMMs add the products (beta = 1) */
            const int64_t rows = (int64_t)d.batch * d.M;
            DL_FOR_ROWS(rows, d.N, lo, hi, dl_k_copy_rows(C + lo * d.N, d.N, bias->data, 0, hi - lo, d.N));
            beta = 1.0f;
        }
        MM_FOR_BATCH(d, dl_sgemm(d.ta, d.tb, d.M, d.N, d.K, 1.0f, A + b * sa, lda, B + b * sb, ldb,
                                 beta, C + b * sc, d.N));
    }
    dl_rec *r = dl_record(g, matmul_bwd, out, a, bm, bias);
    if (r) {
        r->arg.i[0] = d.batch;
        r->arg.i[1] = d.M;
        r->arg.i[2] = d.N;
        r->arg.i[3] = d.K;
        r->arg.i[4] = d.ta;
        r->arg.i[5] = d.tb;
        r->arg.i[6] = d.shared;
    }
    return out;
}

dl_tensor *dl_matmul(dl_graph *g, dl_tensor *a, dl_tensor *b, int trans_a, int trans_b) {
    return matmul_impl(g, a, b, NULL, trans_a, trans_b);
}

dl_tensor *dl_matmul_bias(dl_graph *g, dl_tensor *x, dl_tensor *w, dl_tensor *bias, int trans_w) {
    return matmul_impl(g, x, w, bias, 0, trans_w);
}
