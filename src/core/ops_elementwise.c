/* Unary elementwise ops: exp, ln, sqrt, tanh, sigmoid, relu, gelu, square, abs.
 * exp, sigmoid and gelu run the vectorised kernels of vmath.c; the others are
 * simple loops the compiler vectorises. */
#include <math.h>
#include "core/internal.h"

enum { U_EXP, U_LOG, U_SQRT, U_TANH, U_SIGMOID, U_RELU, U_GELU, U_SQUARE, U_ABS };

static void unary_bwd_span(int kind, const float *xv, const float *y, const float *dy, float *gx,
                           int64_t lo, int64_t hi) {
    switch (kind) {
    case U_EXP: dl_k_acc_mul(dy + lo, y + lo, gx + lo, hi - lo); break;
    case U_LOG:
#pragma omp simd
        for (int64_t i = lo; i < hi; i++) gx[i] += dy[i] / xv[i];
        break;
    case U_SQRT:
#pragma omp simd
        for (int64_t i = lo; i < hi; i++) gx[i] += dy[i] * 0.5f / y[i];
        break;
    case U_TANH:
#pragma omp simd
        for (int64_t i = lo; i < hi; i++) gx[i] += dy[i] * (1.0f - y[i] * y[i]);
        break;
    case U_SIGMOID:
#pragma omp simd
        for (int64_t i = lo; i < hi; i++) gx[i] += dy[i] * y[i] * (1.0f - y[i]);
        break;
    case U_RELU: /* simd: a compare-and-branch per element mispredicts on random signs */
#pragma omp simd
        for (int64_t i = lo; i < hi; i++) {
            const float d = dy[i]; /* loaded unconditionally: a select, not a branch */
            gx[i] += xv[i] > 0 ? d : 0.0f;
        }
        break;
    case U_GELU: break; /* unary_bwd */
    case U_SQUARE:
#pragma omp simd
        for (int64_t i = lo; i < hi; i++) gx[i] += dy[i] * 2.0f * xv[i];
        break;
    case U_ABS:
        for (int64_t i = lo; i < hi; i++) gx[i] += xv[i] > 0 ? dy[i] : (xv[i] < 0 ? -dy[i] : 0.0f);
        break;
    }
}

static void unary_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *x = r->in[0], *out = r->out;
    const int kind = r->arg.i[0];
    const float *xv = x->data, *y = out->data, *dy = out->grad;
    if (kind == U_GELU) { /* a fresh gradient is written, not zeroed and accumulated */
        int fresh;
        float *gx = dl_grad_out(g, x, &fresh);
        DL_FOR_CHUNKS(x->size, lo, hi, dl_k_gelu_grad(xv + lo, dy + lo, gx + lo, hi - lo, !fresh));
        return;
    }
    float *gx = dl_tensor_grad(g, x);
    DL_FOR_CHUNKS(x->size, lo, hi, unary_bwd_span(kind, xv, y, dy, gx, lo, hi));
}

static void unary_span(int kind, const float *xv, float *y, int64_t lo, int64_t hi) {
    switch (kind) {
    case U_EXP: dl_k_exp(xv + lo, y + lo, hi - lo); break;
    case U_LOG:
        for (int64_t i = lo; i < hi; i++) y[i] = logf(xv[i]);
        break;
    case U_SQRT: /* no simd pragma: sqrtf may set errno, clang refuses to vectorise it */
        for (int64_t i = lo; i < hi; i++) y[i] = sqrtf(xv[i]);
        break;
    case U_TANH:
        for (int64_t i = lo; i < hi; i++) y[i] = tanhf(xv[i]);
        break;
    case U_SIGMOID: dl_k_sigmoid(xv + lo, y + lo, hi - lo); break;
    case U_RELU:
#pragma omp simd
        for (int64_t i = lo; i < hi; i++) y[i] = xv[i] > 0 ? xv[i] : 0.0f;
        break;
    case U_GELU: dl_k_gelu(xv + lo, y + lo, hi - lo); break;
    case U_SQUARE:
#pragma omp simd
        for (int64_t i = lo; i < hi; i++) y[i] = xv[i] * xv[i];
        break;
    case U_ABS:
        for (int64_t i = lo; i < hi; i++) y[i] = fabsf(xv[i]);
        break;
    }
}

static dl_tensor *unary(dl_graph *g, dl_tensor *x, int kind) {
    dl_tensor *out = dl_tensor_like(g, x);
    const float *xv = x->data;
    float *y = out->data;
    DL_FOR_CHUNKS(x->size, lo, hi, unary_span(kind, xv, y, lo, hi));
    dl_rec *r = dl_record(g, unary_bwd, out, x, NULL, NULL);
    if (r) r->arg.i[0] = kind;
    return out;
}

dl_tensor *dl_exp(dl_graph *g, dl_tensor *x) { return unary(g, x, U_EXP); }
dl_tensor *dl_ln(dl_graph *g, dl_tensor *x) { return unary(g, x, U_LOG); }
dl_tensor *dl_sqrt(dl_graph *g, dl_tensor *x) { return unary(g, x, U_SQRT); }
dl_tensor *dl_tanh(dl_graph *g, dl_tensor *x) { return unary(g, x, U_TANH); }
dl_tensor *dl_sigmoid(dl_graph *g, dl_tensor *x) { return unary(g, x, U_SIGMOID); }
dl_tensor *dl_relu(dl_graph *g, dl_tensor *x) { return unary(g, x, U_RELU); }
dl_tensor *dl_gelu(dl_graph *g, dl_tensor *x) { return unary(g, x, U_GELU); }
dl_tensor *dl_square(dl_graph *g, dl_tensor *x) { return unary(g, x, U_SQUARE); }
dl_tensor *dl_abs(dl_graph *g, dl_tensor *x) { return unary(g, x, U_ABS); }
