/* SGD (momentum, weight decay), Adam and AdamW over a dl_params store.
 *
 * Update rules follow PyTorch's torch.optim (1.13, single-tensor path), so a
 * run can be checked against it number for number:
 *   SGD:   g += wd*p;  buf = mom*buf + g (buf = g on the first step);  p -= lr*buf
 *   Adam:  g += wd*p;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
 *          p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)        (Kingma & Ba, Alg. 1)
 *   AdamW: p *= 1 - lr*wd, then the Adam step without the L2 term    (Loshchilov & Hutter, Alg. 2)
 * Frozen parameters (requires_grad == 0) and parameters without a gradient
 * buffer are skipped. Scalar factors are computed once per step in double.
 * The Adam loop is element-wise: AVX-512 / AVX2 versions (chosen from CPUID;
 * gcc -O2 keeps sqrtf scalar because of errno) and a split over threads for
 * large tensors. Every element goes through the same IEEE operations (mul,
 * add, sqrt, div: no FMA contraction) in every version, so results do not
 * depend on the CPU's vector width or the thread count. */
#include <math.h>
#include <omp.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <stdlib.h>
#include <string.h>
#include "core/internal.h"
#include "dynlab/optim.h"

void dl_optim_init(dl_optim *o, dl_params *ps, dl_opt_kind kind, float lr) {
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->lr = lr;
    o->momentum = 0.0f;
    o->weight_decay = kind == DL_OPT_ADAMW ? 0.01f : 0.0f;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->eps = 1e-8f;
    o->ps = ps;
}

void dl_optim_free(dl_optim *o) {
    for (int i = 0; i < o->n_state; i++) {
        if (o->m) free(o->m[i]);
        if (o->v) free(o->v[i]);
    }
    free(o->m);
    free(o->v);
    o->m = o->v = NULL;
    o->n_state = 0;
}

/* Grow the per-parameter state tables to the store's size (new slots NULL). */
static void ensure_tables(dl_optim *o) {
    int n = o->ps->n;
    if (n <= o->n_state) return;
    float **m = realloc(o->m, (size_t)n * sizeof *m);
    float **v = m ? realloc(o->v, (size_t)n * sizeof *v) : NULL;
    if (!m || !v) abort(); /* out of memory: nothing sensible to continue with */
    for (int i = o->n_state; i < n; i++) m[i] = v[i] = NULL;
    o->m = m;
    o->v = v;
    o->n_state = n;
}

static float *zeroed(int64_t n) {
    const size_t bytes = (size_t)(n > 0 ? n : 1) * sizeof(float);
    float *p = dl_alloc_big(bytes); /* huge pages from 2 MB on (core/bigalloc.c) */
    if (!p) abort();
    memset(p, 0, bytes);
    return p;
}

/* Elements [lo, hi) of one parameter; b: the momentum buffer (NULL without momentum). */
static void sgd_range(dl_tensor *t, float *restrict b, float lr, float mom, float wd, int64_t lo, int64_t hi) {
    float *restrict p = t->data;
    const float *restrict g = t->grad;
    if (mom == 0.0f) {
        for (int64_t j = lo; j < hi; j++) p[j] -= lr * (g[j] + wd * p[j]);
        return;
    }
    for (int64_t j = lo; j < hi; j++) {
        float gj = g[j] + wd * p[j];
        b[j] = mom * b[j] + gj;
        p[j] -= lr * b[j];
    }
}

typedef struct {
    float l2, decay_mul, b1, b2, c1, c2, step_size, sqrt_bc2, eps;
} adam_coef;

/* One element, the reference the vector versions reproduce operation by operation. */
static inline void adam_elem(float *p, const float *g, float *m, float *v, const adam_coef *k,
                             int64_t j) {
    float pj = p[j] * k->decay_mul;     /* AdamW decoupled decay (1 for Adam) */
    float gj = g[j] + k->l2 * p[j];     /* Adam L2 term (0 for AdamW) */
    float mj = k->b1 * m[j] + k->c1 * gj;
    float vj = k->b2 * v[j] + k->c2 * gj * gj;
    m[j] = mj;
    v[j] = vj;
    p[j] = pj - k->step_size * (mj / (sqrtf(vj) / k->sqrt_bc2 + k->eps));
}

#if defined(__x86_64__)
#define ADAM_VEC(NAME, TARGET, W, V, LOAD, STORE, SET1, ADD, SUB, MUL, DIV, SQRT)           \
    __attribute__((target(TARGET))) static void NAME(float *p, const float *g, float *m,     \
                                                    float *v, const adam_coef *k, int64_t lo, \
                                                    int64_t hi) {                             \
        const V dm = SET1(k->decay_mul), l2 = SET1(k->l2), b1 = SET1(k->b1), b2 = SET1(k->b2); \
        const V c1 = SET1(k->c1), c2 = SET1(k->c2), ss = SET1(k->step_size);                 \
        const V sb = SET1(k->sqrt_bc2), eps = SET1(k->eps);                                  \
        int64_t j = lo;                                                                       \
        for (; j + W <= hi; j += W) {                                                         \
            V pv = LOAD(p + j), gv = LOAD(g + j);                                             \
            V pj = MUL(pv, dm), gj = ADD(gv, MUL(l2, pv));                                   \
            V mj = ADD(MUL(b1, LOAD(m + j)), MUL(c1, gj));                                   \
            V vj = ADD(MUL(b2, LOAD(v + j)), MUL(MUL(c2, gj), gj));                          \
            STORE(m + j, mj);                                                                 \
            STORE(v + j, vj);                                                                 \
            STORE(p + j, SUB(pj, MUL(ss, DIV(mj, ADD(DIV(SQRT(vj), sb), eps)))));            \
        }                                                                                     \
        for (; j < hi; j++) adam_elem(p, g, m, v, k, j);                                      \
    }
ADAM_VEC(adam_avx512, "avx512f", 16, __m512, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps,
         _mm512_add_ps, _mm512_sub_ps, _mm512_mul_ps, _mm512_div_ps, _mm512_sqrt_ps)
ADAM_VEC(adam_avx2, "avx2", 8, __m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps,
         _mm256_add_ps, _mm256_sub_ps, _mm256_mul_ps, _mm256_div_ps, _mm256_sqrt_ps)
#endif

static void adam_range(float *p, const float *g, float *m, float *v, const adam_coef *k,
                       int64_t lo, int64_t hi) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) {
        adam_avx512(p, g, m, v, k, lo, hi);
        return;
    }
    if (__builtin_cpu_supports("avx2")) {
        adam_avx2(p, g, m, v, k, lo, hi);
        return;
    }
#endif
    for (int64_t j = lo; j < hi; j++) adam_elem(p, g, m, v, k, j);
}

static void adam_update(float *p, const float *g, float *m, float *v, int64_t n,
                        const adam_coef *k) {
    if (n <= 65536 || omp_in_parallel() || omp_get_max_threads() == 1) {
        adam_range(p, g, m, v, k, 0, n);
        return;
    }
#pragma omp parallel
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        int64_t lo = n * t / nt / 16 * 16, hi = t == nt - 1 ? n : n * (t + 1) / nt / 16 * 16;
        adam_range(p, g, m, v, k, lo, hi);
    }
}

/* The step's factors (dl_optim_begin), computed once in double as PyTorch does. */
static adam_coef step_coef(const dl_optim *o) {
    const dl_optim_coef *c = &o->coef;
    return (adam_coef){c->l2, c->decay_mul, o->beta1, o->beta2, 1.0f - o->beta1, 1.0f - o->beta2,
                       c->step_size, c->sqrt_bc2, o->eps};
}

static int updates(const dl_tensor *t) { return t->requires_grad && t->grad; }

void dl_optim_begin(dl_optim *o, float lr) {
    dl_params *ps = o->ps;
    ensure_tables(o);
    o->step++;
    dl_optim_coef *c = &o->coef;
    c->lr = lr;
    for (int i = 0; i < ps->n; i++) { /* state buffers: allocated here, never inside a parallel update */
        if (!updates(ps->items[i])) continue;
        const int64_t n = ps->items[i]->size;
        if (o->kind == DL_OPT_SGD) {
            if (o->momentum != 0.0f && !o->m[i]) o->m[i] = zeroed(n); /* mom*0 + g == PyTorch's first-step clone */
            continue;
        }
        if (!o->m[i]) o->m[i] = zeroed(n);
        if (!o->v[i]) o->v[i] = zeroed(n);
    }
    if (o->kind == DL_OPT_SGD) return;
    const double t = (double)o->step;
    const double bc1 = 1.0 - pow((double)o->beta1, t);
    const double bc2 = 1.0 - pow((double)o->beta2, t);
    c->step_size = (float)(lr / bc1);
    c->sqrt_bc2 = (float)sqrt(bc2);
    const int decoupled = o->kind == DL_OPT_ADAMW;
    c->l2 = decoupled ? 0.0f : o->weight_decay;
    c->decay_mul = decoupled ? (float)(1.0 - (double)lr * o->weight_decay) : 1.0f;
}

void dl_optim_update_range(const dl_optim *o, int i, int64_t lo, int64_t hi) {
    dl_tensor *p = o->ps->items[i];
    if (!updates(p)) return;
    if (o->kind == DL_OPT_SGD) {
        sgd_range(p, o->m[i], o->coef.lr, o->momentum, o->weight_decay, lo, hi);
        return;
    }
    const adam_coef k = step_coef(o);
    adam_range(p->data, p->grad, o->m[i], o->v[i], &k, lo, hi);
}

void dl_optim_step(dl_optim *o, float lr) {
    dl_optim_begin(o, lr);
    dl_params *ps = o->ps;
    for (int i = 0; i < ps->n; i++) {
        dl_tensor *p = ps->items[i];
        if (!updates(p)) continue;
        if (o->kind == DL_OPT_SGD) {
            sgd_range(p, o->m[i], lr, o->momentum, o->weight_decay, 0, p->size);
            continue;
        }
        const adam_coef k = step_coef(o);
        adam_update(p->data, p->grad, o->m[i], o->v[i], p->size, &k);
    }
}

/* dl_replicas_step_each's chunk callback: the optimizer on the chunk just summed. */
static void update_chunk(void *ctx, int param, int64_t lo, int64_t hi) {
    dl_optim_update_range(ctx, param, lo, hi);
}

float dl_replicas_step_update(dl_replicas *rp, dl_replica_fn body, void *ctx, float grad_scale, dl_optim *o,
                              float lr) {
    /* begin before the step: it allocates state, which must not happen inside the
     * step's parallel region, and the chunks need the step's factors */
    dl_optim_begin(o, lr);
    return dl_replicas_step_each(rp, body, ctx, grad_scale, update_chunk, o);
}

/* Sum of squares in double, in a fixed order: independent of the thread count. */
double dl_grad_norm(const dl_params *ps) {
    double total = 0.0;
    for (int i = 0; i < ps->n; i++) {
        const dl_tensor *t = ps->items[i];
        if (!t->requires_grad || !t->grad) continue;
        const float *g = t->grad;
        double s = 0.0;
        for (int64_t j = 0; j < t->size; j++) s += (double)g[j] * g[j];
        total += s;
    }
    return sqrt(total);
}

/* As torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when
 * that factor is below 1. */
double dl_clip_grad_norm(dl_params *ps, double max_norm) {
    double norm = dl_grad_norm(ps);
    double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) {
        const float c = (float)coef;
        for (int i = 0; i < ps->n; i++) {
            dl_tensor *t = ps->items[i];
            if (!t->requires_grad || !t->grad) continue;
            float *restrict g = t->grad;
            for (int64_t j = 0; j < t->size; j++) g[j] *= c;
        }
    }
    return norm;
}
