/* Batch normalisation over axis 1 (Ioffe & Szegedy 2015, Algorithm 1; PyTorch's
 * BatchNorm1d/2d semantics), and SiLU.
 *
 * x is viewed as [N, C, S] (S = product of the dims after C). Training mode:
 *   mean_c = E[x], var_c = E[(x - mean_c)^2] (biased), y = (x - mean) rstd gamma + beta,
 * statistics summed in double in a fixed order per channel; the running buffers
 * get the unbiased variance, as PyTorch. Backward (Algorithm 1's chain rule):
 *   dx = gamma rstd (dy - mean(dy) - xhat mean(dy xhat)),
 *   dgamma = sum dy xhat, dbeta = sum dy.
 * Eval mode is an affine map with the running statistics. Channels split over
 * threads: the same bits for any thread count.
 * dl_batchnorm_relu is max(0, batchnorm(x)) in one op: the ReLU is applied as the
 * output is written and its gradient (dy where y > 0) folded into the backward's
 * two passes, which saves the ReLU's own pass over the activations in each
 * direction and its output tensor (the conv + BN + ReLU blocks of the CNNs). */
#if defined(__GNUC__) && !defined(__clang__)
/* Lets gcc if-convert the ReLU's float compares into blends (as vmath.c); a
 * branch per element mispredicts on half of the activations. */
#pragma GCC optimize("no-trapping-math")
#endif
#include <math.h>
#include "core/internal.h"
#include "dynlab/conv.h"

typedef struct bn_saved {
    float *mean, *rstd; /* [C] */
    int train, relu;    /* relu: the output is max(0, bn(x)) (dl_batchnorm_relu) */
} bn_saved;

/* Sum of one row: float vector partials of 64 summed in double, in a fixed order
 * (dl_sum_det's short-row case adds one double at a time, a serial chain that cost
 * 5% of the cnn-fmnist step). */
static inline float bn_affine(float x, float k, float o) { return x * k + o; }

/* The per-row loops (one image's plane of one channel), compiled for AVX-512,
 * AVX2 and the SSE2 baseline and picked from CPUID at load time, as vmath.c's
 * kernels are (the release build has no -march: inside the ops' OpenMP loops
 * these ran as 4-wide SSE, 4% of resnet-det's step and about a fifth of
 * cnn-fmnist's). The same machine always runs the same clone, so results stay
 * identical across thread counts. gcc only, as in vmath.c. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(DL_NO_CLONES)
#define BN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define BN_CLONES
#endif

/* sum x: float partials of 64 values added in double (a serial double chain
 * was 5% of cnn-fmnist; one dl_k_sum call per 64 values, 4%) */
BN_CLONES static double bn_row_sum(const float *x, int64_t S) {
    double s = 0;
    for (int64_t i0 = 0; i0 < S; i0 += 64) {
        const int64_t n = S - i0 < 64 ? S - i0 : 64;
        float a = 0;
#pragma omp simd reduction(+ : a)
        for (int64_t i = 0; i < n; i++) a += x[i0 + i];
        s += a;
    }
    return s;
}

/* sum (x - mu)^2 */
BN_CLONES static float bn_row_sqdev(const float *xp, float mu, int64_t S) {
    float a = 0;
#pragma omp simd reduction(+ : a)
    for (int64_t i = 0; i < S; i++) a += (xp[i] - mu) * (xp[i] - mu);
    return a;
}

/* y = x k + o, or max(0, x k + o) */
BN_CLONES static void bn_row_apply(const float *xp, float k, float o, float *yp, int64_t S, int relu) {
    if (relu) {
#pragma omp simd
        for (int64_t i = 0; i < S; i++) {
            const float v = bn_affine(xp[i], k, o);
            yp[i] = v > 0.0f ? v : 0.0f;
        }
    } else {
#pragma omp simd
        for (int64_t i = 0; i < S; i++) yp[i] = xp[i] * k + o;
    }
}

/* s[0] = sum dz, s[1] = sum dz (x - mu); dz = dy, or dy where the forward's
 * x fk + fo > 0 (the ReLU's gradient folded in) */
BN_CLONES static void bn_row_sums(const float *xp, const float *dp, float mu, float fk, float fo, int relu, int64_t S,
                                  float *s) {
    float a = 0, b = 0;
    if (relu) {
#pragma omp simd reduction(+ : a, b)
        for (int64_t i = 0; i < S; i++) {
            const float d = dp[i]; /* loaded unconditionally: a select, not a branch */
            const float dz = bn_affine(xp[i], fk, fo) > 0.0f ? d : 0.0f;
            a += dz;
            b += dz * (xp[i] - mu);
        }
    } else {
#pragma omp simd reduction(+ : a, b)
        for (int64_t i = 0; i < S; i++) {
            a += dp[i];
            b += dp[i] * (xp[i] - mu);
        }
    }
    s[0] = a, s[1] = b;
}

/* gx (=, or += unless fresh) k dz - k0 - (x - mu) kx (training-mode input gradient) */
BN_CLONES static void bn_row_dx(const float *xp, const float *dp, float *gp, float k, float k0, float kx, float mu,
                                float fk, float fo, int relu, int fresh, int64_t S) {
    if (relu && fresh) {
#pragma omp simd
        for (int64_t i = 0; i < S; i++) {
            const float d = dp[i];
            gp[i] = k * (bn_affine(xp[i], fk, fo) > 0.0f ? d : 0.0f) - k0 - (xp[i] - mu) * kx;
        }
    } else if (relu) {
#pragma omp simd
        for (int64_t i = 0; i < S; i++) {
            const float d = dp[i];
            gp[i] += k * (bn_affine(xp[i], fk, fo) > 0.0f ? d : 0.0f) - k0 - (xp[i] - mu) * kx;
        }
    } else if (fresh) {
#pragma omp simd
        for (int64_t i = 0; i < S; i++) gp[i] = k * dp[i] - k0 - (xp[i] - mu) * kx;
    } else {
#pragma omp simd
        for (int64_t i = 0; i < S; i++) gp[i] += k * dp[i] - k0 - (xp[i] - mu) * kx;
    }
}

static void bn_dims(const dl_tensor *x, int64_t *N, int64_t *C, int64_t *S) {
    *N = x->shape[0], *C = x->shape[1], *S = 1;
    for (int d = 2; d < x->ndim; d++) *S *= x->shape[d];
}

static void bn_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *x = r->in[0], *gamma = r->in[1], *beta = r->in[2], *out = r->out;
    const bn_saved *sv = r->saved;
    int64_t N, C, S;
    bn_dims(x, &N, &C, &S);
    const double M = (double)(N * S);
    const float *xv = x->data, *dy = out->grad;
    const int relu = sv->relu;
    float *gg = gamma && gamma->requires_grad ? dl_tensor_grad(g, gamma) : NULL;
    float *gb = beta && beta->requires_grad ? dl_tensor_grad(g, beta) : NULL;
    float *gx = NULL;
    int fresh = 0;
    if (x->requires_grad) gx = dl_grad_out(g, x, &fresh);
#pragma omp parallel for schedule(static) if (x->size > DL_PAR_MIN)
    for (int64_t c = 0; c < C; c++) {
        const float mu = sv->mean[c], rs = sv->rstd[c];
        /* the forward's scale and shift (for the ReLU mask), computed as it did */
        const float fk = (gamma ? gamma->data[c] : 1.0f) * rs, fo = (beta ? beta->data[c] : 0.0f) - mu * fk;
        double sdy = 0, sdyx = 0;
        for (int64_t n = 0; n < N; n++) {
            float ab[2];
            bn_row_sums(xv + (n * C + c) * S, dy + (n * C + c) * S, mu, fk, fo, relu, S, ab);
            sdy += ab[0], sdyx += ab[1];
        }
        sdyx *= rs; /* sum dy * xhat */
        if (gg) gg[c] += (float)sdyx;
        if (gb) gb[c] += (float)sdy;
        if (!gx) continue;
        const float gm = gamma ? gamma->data[c] : 1.0f, k = gm * rs;
        if (sv->train) {
            const float mdy = (float)(sdy / M), mdyx = (float)(sdyx / M);
            const float kx = k * rs * mdyx, k0 = k * mdy;
            for (int64_t n = 0; n < N; n++)
                bn_row_dx(xv + (n * C + c) * S, dy + (n * C + c) * S, gx + (n * C + c) * S, k, k0, kx, mu, fk, fo,
                          relu, fresh, S);
        } else {
            for (int64_t n = 0; n < N; n++) {
                const float *xp = xv + (n * C + c) * S, *dp = dy + (n * C + c) * S;
                float *gp = gx + (n * C + c) * S;
                for (int64_t i = 0; i < S; i++) {
                    const float d = dp[i];
                    const float dz = !relu || bn_affine(xp[i], fk, fo) > 0.0f ? d : 0.0f;
                    gp[i] = fresh ? k * dz : gp[i] + k * dz;
                }
            }
        }
    }
}

static dl_tensor *bn_impl(dl_graph *g, dl_tensor *x, dl_tensor *gamma, dl_tensor *beta, dl_tensor *running_mean,
                          dl_tensor *running_var, float momentum, float eps, int relu) {
    char b[64];
    if (x->ndim < 2) dl_fatal("dl_batchnorm: input %s needs a channel axis (axis 1)", dl_shape_str(x, b, sizeof b));
    int64_t N, C, S;
    bn_dims(x, &N, &C, &S);
    if ((gamma && gamma->size != C) || (beta && beta->size != C) || (running_mean && running_mean->size != C) ||
        (running_var && running_var->size != C))
        dl_fatal("dl_batchnorm: gamma, beta and running statistics must have %lld elements (axis 1 of %s)",
                 (long long)C, dl_shape_str(x, b, sizeof b));
    const int train = g->training;
    if (!train && (!running_mean || !running_var))
        dl_fatal("dl_batchnorm: evaluation mode needs running statistics");
    if (train && N * S < 2)
        dl_fatal("dl_batchnorm: training mode needs more than one value per channel, got %s",
                 dl_shape_str(x, b, sizeof b));
    dl_tensor *out = dl_tensor_like(g, x);
    float *mean = dl_graph_alloc(g, (size_t)(2 * C) * sizeof(float)), *rstd = mean + C;
    const int update = train && running_mean && running_var && g->replica == 0;
    const float *xv = x->data;
    float *y = out->data;
    const double M = (double)(N * S);
#pragma omp parallel for schedule(static) if (x->size > DL_PAR_MIN)
    for (int64_t c = 0; c < C; c++) {
        float mu, var;
        if (train) {
            double s = 0;
            for (int64_t n = 0; n < N; n++) s += bn_row_sum(xv + (n * C + c) * S, S);
            mu = (float)(s / M);
            double q = 0;
            for (int64_t n = 0; n < N; n++) q += bn_row_sqdev(xv + (n * C + c) * S, mu, S);
            var = (float)(q / M);
            if (update) {
                running_mean->data[c] = (1.0f - momentum) * running_mean->data[c] + momentum * mu;
                running_var->data[c] =
                    (1.0f - momentum) * running_var->data[c] + momentum * (float)(q / (M - 1.0));
            }
        } else {
            mu = running_mean->data[c], var = running_var->data[c];
        }
        const float rs = 1.0f / sqrtf(var + eps);
        mean[c] = mu, rstd[c] = rs;
        const float gm = gamma ? gamma->data[c] : 1.0f, bt = beta ? beta->data[c] : 0.0f;
        const float k = gm * rs, o = bt - mu * k;
        for (int64_t n = 0; n < N; n++) bn_row_apply(xv + (n * C + c) * S, k, o, y + (n * C + c) * S, S, relu);
    }
    dl_rec *r = dl_record(g, bn_bwd, out, x, gamma, beta);
    if (r) {
        bn_saved *sv = dl_graph_alloc(g, sizeof *sv);
        sv->mean = mean, sv->rstd = rstd, sv->train = train, sv->relu = relu;
        r->saved = sv;
    }
    return out;
}

dl_tensor *dl_batchnorm(dl_graph *g, dl_tensor *x, dl_tensor *gamma, dl_tensor *beta, dl_tensor *running_mean,
                        dl_tensor *running_var, float momentum, float eps) {
    return bn_impl(g, x, gamma, beta, running_mean, running_var, momentum, eps, 0);
}

dl_tensor *dl_batchnorm_relu(dl_graph *g, dl_tensor *x, dl_tensor *gamma, dl_tensor *beta, dl_tensor *running_mean,
                             dl_tensor *running_var, float momentum, float eps) {
    return bn_impl(g, x, gamma, beta, running_mean, running_var, momentum, eps, 1);
}

/* ---- SiLU: y = x sigmoid(x), dy/dx = s (1 + x (1 - s)) ------------------------ */
static void silu_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *x = r->in[0], *out = r->out;
    const float *xv = x->data, *dy = out->grad;
    int fresh;
    float *gx = dl_grad_out(g, x, &fresh);
    DL_FOR_CHUNKS(x->size, lo, hi, {
        float s[256];
        for (int64_t i = lo; i < hi; i += 256) {
            const int64_t m = hi - i < 256 ? hi - i : 256;
            dl_k_sigmoid(xv + i, s, m);
            for (int64_t j = 0; j < m; j++) {
                const float v = dy[i + j] * s[j] * (1.0f + xv[i + j] * (1.0f - s[j]));
                gx[i + j] = fresh ? v : gx[i + j] + v;
            }
        }
    });
}

dl_tensor *dl_silu(dl_graph *g, dl_tensor *x) {
    dl_tensor *out = dl_tensor_like(g, x);
    const float *xv = x->data;
    float *y = out->data;
    DL_FOR_CHUNKS(x->size, lo, hi, {
        dl_k_sigmoid(xv + lo, y + lo, hi - lo);
        for (int64_t i = lo; i < hi; i++) y[i] *= xv[i];
    });
    dl_record(g, silu_bwd, out, x, NULL, NULL);
    return out;
}
