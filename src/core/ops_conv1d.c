/* 1-D convolution over channels-last sequences (x [N, L, C], w [O, K, C]) through
 * the GEMM, and max-over-time pooling (Kim 2014's sentence CNN: convolution
 * widths over word vectors, max over positions).
 *
 * The N sequences (zero-padded when padding > 0) are stacked into one [N*Lp, C]
 * matrix X. Output row r of the stacked result is sum_k X[r + k d] @ W_k^T, with
 * W_k = w[:, k, :] ([O, C]). With dilation 1 the K taps of row r are the K*C
 * consecutive floats starting at X[r], so the forward is ONE GEMM whose A is X
 * read with row stride C (overlapping rows, no im2col copy) against w as [O, K*C].
 * Rows near a sequence end mix two sequences; they are computed (a few percent of
 * the rows: (K-1)/Lp) and dropped, which keeps the whole batch in one product.
 * With dilation > 1 the product is K GEMMs, one per tap, each over the strided X.
 * Backward: dW = dY^T X (the same view, one GEMM with dilation 1), dX = K GEMMs
 * dY @ W_k added at row offsets k d, with the dropped rows' dY set to zero. */
#include <omp.h>
#include <string.h>
#include "core/internal.h"
#include "dynlab/gemm.h"
#include "dynlab/rnn.h"

/* y [rows, O] = sum_k X[r + k d] @ W_k^T (+ bias) over the stacked input a with
 * row stride C: one GEMM over the overlapping K*C-float rows when d = 1, else
 * one per tap (see above). */
static void conv1d_rows_gemm(int rows, int O, int C, int K, int dilation, const float *a, const float *w,
                             const float *bias, float *y) {
    const int KC = K * C;
    if (dilation == 1) {
        if (bias)
            dl_sgemm_bias(0, 1, rows, O, KC, 1.0f, a, C, w, KC, bias, y, O);
        else
            dl_sgemm(0, 1, rows, O, KC, 1.0f, a, C, w, KC, 0.0f, y, O);
        return;
    }
    for (int k = 0; k < K; k++) {
        const float *ak = a + (int64_t)k * dilation * C, *wk = w + (int64_t)k * C;
        if (k == 0 && bias)
            dl_sgemm_bias(0, 1, rows, O, C, 1.0f, ak, C, wk, KC, bias, y, O);
        else
            dl_sgemm(0, 1, rows, O, C, 1.0f, ak, C, wk, KC, k ? 1.0f : 0.0f, y, O);
    }
}

typedef struct conv1d_saved {
    const float *xp; /* stacked padded input [N*Lp, C] (x itself when padding == 0) */
    int N, L, C, O, K, P, D, Lp, Lout, rows;
} conv1d_saved;

static void conv1d_bwd(dl_graph *g, const dl_rec *r) {
    const conv1d_saved *s = r->saved;
    dl_tensor *x = r->in[0], *w = r->in[1], *b = r->in[2];
    const int N = s->N, C = s->C, O = s->O, K = s->K, D = s->D, Lp = s->Lp, Lout = s->Lout, rows = s->rows;
    const int64_t KC = (int64_t)K * C;
    const float *dy = r->out->grad;
    /* dY on the stacked rows: the dropped rows (t >= Lout) are zero. */
    float *dyp = dl_graph_alloc(g, (size_t)rows * O * sizeof(float));
    for (int n = 0; n < N; n++) {
        const int64_t r0 = (int64_t)n * Lp;
        const int valid = Lout, total = (int)(r0 + Lp <= rows ? Lp : rows - r0);
        memcpy(dyp + r0 * O, dy + (int64_t)n * Lout * O, (size_t)valid * O * sizeof(float));
        if (total > valid) memset(dyp + (r0 + valid) * O, 0, (size_t)(total - valid) * O * sizeof(float));
    }
    if (w->requires_grad) {
        int fresh;
        float *gw = dl_grad_out(g, w, &fresh);
        if (D == 1) {
            dl_sgemm(1, 0, O, (int)KC, rows, 1.0f, dyp, O, s->xp, C, fresh ? 0.0f : 1.0f, gw, (int)KC);
        } else {
            for (int k = 0; k < K; k++)
                dl_sgemm(1, 0, O, C, rows, 1.0f, dyp, O, s->xp + (int64_t)k * D * C, C, fresh ? 0.0f : 1.0f,
                         gw + (int64_t)k * C, (int)KC);
        }
    }
    if (b && b->requires_grad) {
        int fresh;
        float *gb = dl_grad_out(g, b, &fresh);
        if (fresh) memset(gb, 0, (size_t)O * sizeof(float));
        dl_sum_rows_into(gb, dy, (int64_t)N * Lout, O);
    }
    if (x->requires_grad) {
        int fresh;
        float *gx = dl_grad_out(g, x, &fresh);
        const int64_t total = (int64_t)N * Lp;
        /* Write straight into x's gradient when it is fresh and unpadded. */
        float *dxp = (fresh && s->P == 0) ? gx : dl_graph_alloc(g, (size_t)total * C * sizeof(float));
        for (int k = 0; k < K; k++) {
            dl_sgemm(0, 0, rows, C, O, 1.0f, dyp, O, w->data + (int64_t)k * C, (int)KC, k ? 1.0f : 0.0f,
                     dxp + (int64_t)k * D * C, C);
            if (k == 0 && total > rows) memset(dxp + (int64_t)rows * C, 0, (size_t)(total - rows) * C * sizeof(float));
        }
        if (dxp != gx) {
            const int L = s->L, P = s->P;
            for (int n = 0; n < N; n++) {
                const float *src = dxp + ((int64_t)n * Lp + P) * C;
                float *dst = gx + (int64_t)n * L * C;
                if (fresh)
                    memcpy(dst, src, (size_t)L * C * sizeof(float));
                else
                    dl_k_acc(src, dst, (int64_t)L * C);
            }
        }
    }
}

dl_tensor *dl_conv1d(dl_graph *g, dl_tensor *x, dl_tensor *w, dl_tensor *bias, int padding, int dilation) {
    char b1[64], b2[64];
    if (x->ndim != 3 || w->ndim != 3 || w->shape[2] != x->shape[2])
        dl_fatal("dl_conv1d: x %s must be [N, L, C] and w %s [O, K, C]", dl_shape_str(x, b1, sizeof b1),
                 dl_shape_str(w, b2, sizeof b2));
    const int N = x->shape[0], L = x->shape[1], C = x->shape[2], O = w->shape[0], K = w->shape[1];
    if (bias && (bias->ndim != 1 || bias->shape[0] != O))
        dl_fatal("dl_conv1d: bias must be [%d]", O);
    if (padding < 0 || dilation < 1) dl_fatal("dl_conv1d: padding %d must be >= 0, dilation %d >= 1", padding, dilation);
    const int Lp = L + 2 * padding, Lout = Lp - dilation * (K - 1);
    if (Lout < 1 || K < 1)
        dl_fatal("dl_conv1d: length %d (padded %d) shorter than the kernel's span %d", L, Lp, dilation * (K - 1) + 1);
    int os[3] = {N, Lout, O};
    dl_tensor *out = dl_tensor_new(g, 3, os);
    if (N == 0 || O == 0) return out; /* empty: nothing to record */
    const int64_t total = (int64_t)N * Lp;
    const int rows = (int)(total - (int64_t)dilation * (K - 1));
    const float *xp = x->data;
    if (padding > 0) {
        float *p = dl_graph_alloc(g, (size_t)total * C * sizeof(float));
        for (int n = 0; n < N; n++) {
            float *dst = p + (int64_t)n * Lp * C;
            memset(dst, 0, (size_t)padding * C * sizeof(float));
            memcpy(dst + (int64_t)padding * C, x->data + (int64_t)n * L * C, (size_t)L * C * sizeof(float));
            memset(dst + (int64_t)(padding + L) * C, 0, (size_t)padding * C * sizeof(float));
        }
        xp = p;
    }
    /* Stacked result [rows, O]; when no row is dropped it is the output itself. */
    float *y = rows == N * Lout ? out->data : dl_graph_alloc(g, (size_t)rows * O * sizeof(float));
    const float *bv = bias ? bias->data : NULL;
    conv1d_rows_gemm(rows, O, C, K, dilation, xp, w->data, bv, y);
    if (y != out->data)
        for (int n = 0; n < N; n++)
            memcpy(out->data + (int64_t)n * Lout * O, y + (int64_t)n * Lp * O, (size_t)Lout * O * sizeof(float));
    dl_rec *r = dl_record(g, conv1d_bwd, out, x, w, bias);
    if (r) {
        conv1d_saved *s = dl_graph_alloc(g, sizeof *s);
        *s = (conv1d_saved){xp, N, L, C, O, K, padding, dilation, Lp, Lout, rows};
        r->saved = s;
    }
    return out;
}

/* ---- max over time ------------------------------------------------------------ */
static void max_time_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *x = r->in[0];
    const int *arg = r->saved; /* [N, C]: position of the max */
    const int N = x->shape[0], L = x->shape[1], C = x->shape[2];
    int fresh;
    float *gx = dl_grad_out(g, x, &fresh);
    if (fresh) memset(gx, 0, (size_t)x->size * sizeof(float));
    const float *dy = r->out->grad;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            const int64_t i = (int64_t)n * C + c;
            gx[((int64_t)n * L + arg[i]) * C + c] += dy[i];
        }
}

dl_tensor *dl_max_over_time(dl_graph *g, dl_tensor *x) {
    char b1[64];
    if (x->ndim != 3 || x->shape[1] < 1)
        dl_fatal("dl_max_over_time: x %s must be [N, L, C] with L >= 1", dl_shape_str(x, b1, sizeof b1));
    const int N = x->shape[0], L = x->shape[1], C = x->shape[2];
    int os[2] = {N, C};
    dl_tensor *out = dl_tensor_new(g, 2, os);
    const int rec = dl_needs_grad(g, x, NULL, NULL);
    int *arg = rec ? dl_graph_alloc(g, (size_t)N * C * sizeof(int)) : NULL;
    for (int n = 0; n < N; n++) {
        const float *xn = x->data + (int64_t)n * L * C;
        float *m = out->data + (int64_t)n * C;
        memcpy(m, xn, (size_t)C * sizeof(float));
        if (arg) memset(arg + (int64_t)n * C, 0, (size_t)C * sizeof(int));
        /* Rows in order, strict '>' keeps the first maximum (torch.max's choice). */
        for (int t = 1; t < L; t++) {
            const float *row = xn + (int64_t)t * C;
            if (arg) {
                int *a = arg + (int64_t)n * C;
                for (int c = 0; c < C; c++)
                    if (row[c] > m[c]) m[c] = row[c], a[c] = t;
            } else {
                for (int c = 0; c < C; c++) m[c] = row[c] > m[c] ? row[c] : m[c];
            }
        }
    }
    dl_rec *r = dl_record(g, max_time_bwd, out, x, NULL, NULL);
    if (r) r->saved = arg;
    return out;
}

/* ---- fused conv1d + max over time ---------------------------------------------- */

/* Function clones as vmath.c's (gcc; the same exclusions): the scan below is the
 * only loop here that the baseline -O2 build would leave to SSE2. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(DL_NO_CLONES)
#define CONV_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CONV_CLONES
#endif

/* m[o] = max_t y[t, o], an[o] = its first position (an may be NULL); branch-free, so it
 * vectorises over the filters. */
CONV_CLONES static void max_rows(const float *y, int rows, int O, float *m, int *an) {
    memcpy(m, y, (size_t)O * sizeof(float));
    if (an) memset(an, 0, (size_t)O * sizeof(int));
    for (int t = 1; t < rows; t++) {
        const float *row = y + (int64_t)t * O;
        if (an) {
#pragma omp simd
            for (int o = 0; o < O; o++) {
                const int gt = row[o] > m[o]; /* strict: the first maximum wins */
                m[o] = gt ? row[o] : m[o];
                an[o] = gt ? t : an[o];
            }
        } else {
#pragma omp simd
            for (int o = 0; o < O; o++) m[o] = row[o] > m[o] ? row[o] : m[o];
        }
    }
}

/* Sequences per forward chunk: the chunk's GEMM output (rows x O floats) stays in L2. */
#define CONVMAX_CHUNK 16

typedef struct convmax_saved {
    const float *xp; /* padded stacked input [N*Lp, C] */
    int *arg;        /* [N, O] position of the maximum */
    int N, L, C, O, K, P, D, Lp;
} convmax_saved;

static void convmax_bwd(dl_graph *g, const dl_rec *r) {
    const convmax_saved *s = r->saved;
    dl_tensor *x = r->in[0], *w = r->in[1], *b = r->in[2];
    const int N = s->N, L = s->L, C = s->C, O = s->O, K = s->K, P = s->P, D = s->D, Lp = s->Lp;
    const int64_t KC = (int64_t)K * C;
    const float *dy = r->out->grad;
    const int *arg = s->arg;
    if (b && b->requires_grad) {
        int fresh;
        float *gb = dl_grad_out(g, b, &fresh);
        if (fresh) memset(gb, 0, (size_t)O * sizeof(float));
        dl_sum_rows_into(gb, dy, N, O);
    }
    /* dW[o] += dy[n, o] * window(n, arg[n, o]). Each thread owns one block of filters
     * (their dW rows stay in L2) and walks the sequences in order: the input streams
     * from memory once per thread, and every dW entry sums over n in the same order
     * whatever the blocking, so the bits do not depend on the thread count. */
    if (w->requires_grad) {
        int fresh;
        float *gw = dl_grad_out(g, w, &fresh);
        if (fresh) memset(gw, 0, (size_t)O * KC * sizeof(float));
        const int par = (int64_t)N * O * KC > 4 * DL_PAR_MIN && !omp_in_parallel();
        const int nblocks = par ? (omp_get_max_threads() < O ? omp_get_max_threads() : O) : 1;
        const int ob = (O + nblocks - 1) / nblocks;
#pragma omp parallel for schedule(static) if (par && nblocks > 1)
        for (int blk = 0; blk < nblocks; blk++) {
            const int o0 = blk * ob, o1 = o0 + ob < O ? o0 + ob : O;
            for (int n = 0; n < N; n++) {
                const float *xn = s->xp + (int64_t)n * Lp * C;
                for (int o = o0; o < o1; o++) {
                    const float d = dy[(int64_t)n * O + o];
                    if (d == 0.0f) continue;
                    const float *win = xn + (int64_t)arg[(int64_t)n * O + o] * C;
                    float *go = gw + (int64_t)o * KC;
                    if (D == 1)
                        dl_k_axpy(d, win, go, KC);
                    else
                        for (int k = 0; k < K; k++) dl_k_axpy(d, win + (int64_t)k * D * C, go + (int64_t)k * C, C);
                }
            }
        }
    }
    /* dx[n, t + k D - P] += dy[n, o] * w[o, k]: sequence n by one thread, o in order. */
    if (x->requires_grad) {
        int fresh;
        float *gx = dl_grad_out(g, x, &fresh);
        if (fresh) memset(gx, 0, (size_t)x->size * sizeof(float));
#pragma omp parallel for schedule(static) if ((int64_t)N * O * KC > 4 * DL_PAR_MIN)
        for (int n = 0; n < N; n++) {
            float *gn = gx + (int64_t)n * L * C;
            for (int o = 0; o < O; o++) {
                const float d = dy[(int64_t)n * O + o];
                if (d == 0.0f) continue;
                const int t = arg[(int64_t)n * O + o];
                const float *wo = w->data + (int64_t)o * KC;
                if (D == 1 && P == 0) {
                    dl_k_axpy(d, wo, gn + (int64_t)t * C, KC);
                    continue;
                }
                for (int k = 0; k < K; k++) {
                    const int p = t + k * D - P;
                    if (p >= 0 && p < L) dl_k_axpy(d, wo + (int64_t)k * C, gn + (int64_t)p * C, C);
                }
            }
        }
    }
}

dl_tensor *dl_conv1d_max(dl_graph *g, dl_tensor *x, dl_tensor *w, dl_tensor *bias, int padding, int dilation) {
    char b1[64], b2[64];
    if (x->ndim != 3 || w->ndim != 3 || w->shape[2] != x->shape[2])
        dl_fatal("dl_conv1d_max: x %s must be [N, L, C] and w %s [O, K, C]", dl_shape_str(x, b1, sizeof b1),
                 dl_shape_str(w, b2, sizeof b2));
    const int N = x->shape[0], L = x->shape[1], C = x->shape[2], O = w->shape[0], K = w->shape[1];
    if (bias && (bias->ndim != 1 || bias->shape[0] != O)) dl_fatal("dl_conv1d_max: bias must be [%d]", O);
    if (padding < 0 || dilation < 1)
        dl_fatal("dl_conv1d_max: padding %d must be >= 0, dilation %d >= 1", padding, dilation);
    const int Lp = L + 2 * padding, Lout = Lp - dilation * (K - 1);
    if (Lout < 1 || K < 1)
        dl_fatal("dl_conv1d_max: length %d (padded %d) shorter than the kernel's span %d", L, Lp,
                 dilation * (K - 1) + 1);
    int os[2] = {N, O};
    dl_tensor *out = dl_tensor_new(g, 2, os);
    const int rec = dl_needs_grad(g, x, w, bias);
    int *arg = rec ? dl_graph_alloc(g, (size_t)N * O * sizeof(int) + 1) : NULL;
    const int64_t KC = (int64_t)K * C, total = (int64_t)N * Lp;
    const float *xp = x->data;
    if (padding > 0 && N > 0) {
        float *p = dl_graph_alloc(g, (size_t)total * C * sizeof(float));
        for (int n = 0; n < N; n++) {
            float *dst = p + (int64_t)n * Lp * C;
            memset(dst, 0, (size_t)padding * C * sizeof(float));
            memcpy(dst + (int64_t)padding * C, x->data + (int64_t)n * L * C, (size_t)L * C * sizeof(float));
            memset(dst + (int64_t)(padding + L) * C, 0, (size_t)padding * C * sizeof(float));
        }
        xp = p;
    }
    const int nchunks = (N + CONVMAX_CHUNK - 1) / CONVMAX_CHUNK, nth = omp_get_max_threads();
    const int64_t scratch = ((int64_t)CONVMAX_CHUNK * Lp * O + 15) / 16 * 16;
    float *buf = N > 0 && O > 0 ? dl_graph_alloc(g, (size_t)(nth * scratch) * sizeof(float)) : NULL;
    const float *bv = bias ? bias->data : NULL;
    /* Chunks are independent (each writes its own sequences' maxima): any thread split
     * gives the same bits. Inside, the GEMM runs single-threaded. */
#pragma omp parallel for schedule(static) if (nchunks > 1 && (int64_t)N * Lout * O * KC > 8 * DL_PAR_MIN)
    for (int ch = 0; ch < nchunks; ch++) {
        const int n0 = ch * CONVMAX_CHUNK, n1 = n0 + CONVMAX_CHUNK < N ? n0 + CONVMAX_CHUNK : N;
        const int rows = (n1 - n0) * Lp - dilation * (K - 1);
        float *y = buf + omp_get_thread_num() * scratch;
        const float *a = xp + (int64_t)n0 * Lp * C;
        conv1d_rows_gemm(rows, O, C, K, dilation, a, w->data, bv, y);
        for (int n = n0; n < n1; n++) {
            const float *yn = y + (int64_t)(n - n0) * Lp * O;
            float *m = out->data + (int64_t)n * O;
            int *an = arg ? arg + (int64_t)n * O : NULL;
            max_rows(yn, Lout, O, m, an);
        }
    }
    dl_rec *r = dl_record(g, convmax_bwd, out, x, w, bias);
    if (r) {
        convmax_saved *s = dl_graph_alloc(g, sizeof *s);
        *s = (convmax_saved){xp, arg, N, L, C, O, K, padding, dilation, Lp};
        r->saved = s;
    }
    return out;
}
