/* Private core-engine declarations: arena, tape records, helpers shared by the op files.
 * Nothing here is part of the public API. */
#ifndef DYNLAB_CORE_INTERNAL_H
#define DYNLAB_CORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "dynlab/core.h"

/* Work (in floats or flops) below which a loop stays single-threaded: forking an
 * OpenMP team costs a few microseconds, more than small kernels take. */
#define DL_PAR_MIN 32768

/* ---- arena: chunked bump allocator, 64-byte aligned --------------------- */
typedef struct dl_chunk {
    char *base;
    size_t cap;
} dl_chunk;

typedef struct dl_arena {
    dl_chunk *chunks;
    int n_chunks, cap_chunks;
    int cur;          /* chunk being filled */
    size_t off;       /* offset inside chunks[cur] */
    size_t used;      /* bytes handed out since the last reset (incl. padding) */
    size_t high;      /* high-water mark of `used` */
    int64_t heap_allocs;
} dl_arena;

void dl_arena_init(dl_arena *a);
void dl_arena_free(dl_arena *a);
void *dl_arena_alloc(dl_arena *a, size_t bytes);
/* Large buffers on transparent huge pages (bigalloc.c); release with free().
 * dl_hugepages_on: 0 when DYNLAB_HUGEPAGES=0 turned them off. */
void *dl_alloc_big(size_t bytes);
int dl_hugepages_on(void);
void dl_arena_reset(dl_arena *a);

/* ---- tape ----------------------------------------------------------------- */
typedef struct dl_rec dl_rec;
typedef void (*dl_bwd_kernel)(dl_graph *g, const dl_rec *r);

/* One fixed-size tape record per recorded op. `saved` points at op-specific
 * arena data (statistics, indices, ...); `arg` holds small scalar arguments. */
struct dl_rec {
    dl_bwd_kernel bwd;
    dl_tensor *out;
    dl_tensor *in[3];
    void *saved;
    union {
        float f[4];
        int i[8];
        uint64_t u[4];
    } arg;
};

/* A dead activation gradient buffer, kept for reuse by a later gradient of the same
 * size (the node lives in the buffer itself). */
typedef struct dl_free_grad {
    struct dl_free_grad *next;
    size_t bytes;
} dl_free_grad;

struct dl_graph {
    dl_arena arena;
    dl_free_grad *free_grads;
    dl_rec *tape;
    int n_rec, cap_rec;
    int training;
    int grad_enabled;
    int replica; /* index in its dl_replicas (0 for a plain graph) */
    /* Per-op working memory reused by every op of the graph (im2col columns):
     * grows on first use, freed with the graph, so it costs no arena space per op. */
    void *scratch;
    size_t scratch_cap;
    int64_t scratch_allocs;
    dl_rng rng;
    int64_t tape_allocs;
    /* Replica binding (replicas.c): parameter i of `bound` keeps its gradient in
     * bound_grads[i]; bound_touched[i] says whether this step wrote it yet. */
    const dl_params *bound;
    int bound_n; /* parameters bound (the store may grow later) */
    float **bound_grads;
    unsigned char *bound_touched;
};

/* Route the parameter gradients of `ps` on graph g to grads[i] (replicas.c);
 * touched[] is cleared by the owner at the start of each step. */
void dl_graph_bind_params(dl_graph *g, const dl_params *ps, int n_params, float **grads,
                          unsigned char *touched);

/* Append a record if grad recording is on and any input requires grad; sets
 * out->requires_grad accordingly. Returns the record (to fill saved/arg) or NULL. */
dl_rec *dl_record(dl_graph *g, dl_bwd_kernel bwd, dl_tensor *out, dl_tensor *a, dl_tensor *b,
                  dl_tensor *c);
/* Same for ops with a variable number of inputs (concat): the caller says whether
 * any input requires grad and keeps its inputs in r->saved. */
dl_rec *dl_record_any(dl_graph *g, dl_bwd_kernel bwd, dl_tensor *out, int any_requires_grad);
/* 1 when an op on these inputs will be recorded. */
static inline int dl_needs_grad(const dl_graph *g, const dl_tensor *a, const dl_tensor *b,
                                const dl_tensor *c) {
    return g->grad_enabled && ((a && a->requires_grad) || (b && b->requires_grad) ||
                               (c && c->requires_grad));
}
/* For a backward kernel that overwrites all of t's gradient: if t has no gradient
 * buffer yet, allocate one WITHOUT zeroing and set *fresh = 1 (write, don't add);
 * otherwise return the existing buffer with *fresh = 0 (accumulate). */
float *dl_grad_out(dl_graph *g, dl_tensor *t, int *fresh);
/* The grad buffer of an input inside a backward kernel, or NULL if it needs none. */
static inline float *dl_in_grad(dl_graph *g, dl_tensor *t) {
    return (t && t->requires_grad) ? dl_tensor_grad(g, t) : NULL;
}

/* Working memory valid only inside the calling op (forward or backward kernel),
 * 64-byte aligned; the next call may reuse it. Heap-allocated only when it grows. */
void *dl_graph_scratch(dl_graph *g, size_t bytes);

/* Tests only: floats per im2col block of dl_conv2d (<= 0: the default), so small
 * shapes reach the blocked paths. Not thread-safe against running convolutions. */
void dl_conv2d_set_block_floats(int64_t n);

/* New activation with the shape of `like`. */
dl_tensor *dl_tensor_like(dl_graph *g, const dl_tensor *like);
/* Arena copy of caller memory (ids, targets, weights) so backward sees the values of
 * the forward even if the caller reuses its buffer. */
void *dl_graph_copy(dl_graph *g, const void *src, size_t bytes);

/* Bad input: one clear line on stderr and exit status 1 (never a crash). */
void dl_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* "[2, 3, 4]" into buf (for error messages). */
const char *dl_shape_str(const dl_tensor *t, char *buf, size_t n);
int dl_norm_axis(const char *op, const dl_tensor *x, int axis);

/* Broadcasting of a binary op's b onto a: a = [outer, inner], b = [inner]
 * (inner = b->size; 1 for a scalar b). Exits with an error on a mismatch. */
void dl_broadcast_check(const char *op, const dl_tensor *a, const dl_tensor *b, int64_t *outer,
                        int64_t *inner);

/* Sum of n floats in a fixed blocked order (independent of the thread count), in double. */
double dl_sum_det(const float *x, int64_t n);
/* acc[j] += sum_o x[o*inner + j] over o < outer, in a fixed order (deterministic). */
void dl_sum_rows_into(float *acc, const float *x, int64_t outer, int64_t inner);

/* Let input t share out's (final) gradient buffer instead of accumulating into
 * a fresh one; returns 1 if it did (ops_binary.c). */
int dl_grad_take(dl_tensor *t, dl_tensor *out);

/* ---- vectorised kernels (vmath.c) ------------------------------------------ */
float dl_vexpf(float x);
void dl_k_exp(const float *x, float *y, int64_t n);
void dl_k_sigmoid(const float *x, float *y, int64_t n);
void dl_k_gelu(const float *x, float *y, int64_t n);
void dl_k_gelu_bwd(const float *x, const float *dy, float *gx, int64_t n);
/* gx = dy * GELU'(x) (acc = 0) or gx += it (acc = 1). */
void dl_k_gelu_grad(const float *x, const float *dy, float *gx, int64_t n, int acc);
float dl_k_max(const float *x, int64_t n);
float dl_k_exp_shift(const float *x, const float *mask, float m, float *y, int64_t n);
float dl_k_sumexp(const float *x, float m, int64_t n);
void dl_k_add_scaled_exp(float c, const float *x, float l, float *g, int64_t n);
float dl_k_dot(const float *a, const float *b, int64_t n);
float dl_k_sum(const float *a, int64_t n);
void dl_k_scale(float *y, float s, int64_t n);
void dl_k_axpy(float a, const float *x, float *y, int64_t n);
void dl_k_acc(const float *x, float *y, int64_t n);
void dl_k_acc_mul(const float *x, const float *b, float *y, int64_t n);
void dl_k_softmax_bwd_row(const float *y, const float *dy, float *dx, int64_t n, int acc);
void dl_k_layernorm_rows(const float *x, const float *gamma, const float *beta, float *y, int64_t rows,
                         int64_t D, float eps, float *stats);
void dl_k_layernorm_bwd_rows(const float *x, const float *dy, const float *gamma, float *gx, int64_t rows,
                             int64_t D, const float *stats, int acc);
/* LayerNorm backward of `rows` rows: gx (+= when acc) unless NULL, and the parameter-gradient
 * sums over these rows in row order, gg_part = sum dy * xhat, gb_part = sum dy (written;
 * each may be NULL). */
void dl_k_layernorm_bwd(const float *x, const float *dy, const float *gamma, float *gx, int acc, float *gg_part,
                        float *gb_part, int64_t rows, int64_t D, const float *stats);
void dl_k_softmax_block(float *P, int rows, int ld, int lim0, int causal);
void dl_k_softmax_bwd_block(const float *P, float *dP, int rows, int cols, int ld);
void dl_k_ce_rows(const float *x, const int *targets, int ignore, float *lse, float *per_row, int64_t rows,
                  int64_t C);
void dl_k_ce_bwd_rows(const float *x, const int *targets, int ignore, const float *lse, const float *coef,
                      float *g, int64_t rows, int64_t C);
void dl_k_layernorm_gain_row(const float *x, const float *dy, float *gg, int64_t n, float mean,
                             float rstd);
void dl_k_logsoftmax_bwd_row(const float *y, const float *dy, float *dx, int64_t n, int acc);
void dl_k_binary(int op, const float *a, const float *b, float *y, int64_t n, int b_scalar);
void dl_k_affine(const float *x, float alpha, float c, float *y, int64_t n);
void dl_k_copy_rows(float *dst, int64_t dld, const float *src, int64_t sld, int64_t rows, int64_t n);
/* Embedding rows: dst row i = table row ids[i]; g row ids[i] += dy row i for the ids in
 * [lo, hi), i in order. */
void dl_k_gather_rows(float *dst, const float *table, const int *ids, int64_t n, int64_t D);
void dl_k_scatter_add_rows(float *g, const float *dy, const int *ids, int64_t n, int64_t D, int64_t lo, int64_t hi);

/* AVX-512 short-row kernels (vmath_avx512.c), used through the dl_k_* dispatchers. */
int dl_have_avx512(void);
float dl_avx512_max(const float *x, int64_t n);
float dl_avx512_exp_shift(const float *x, float m, float *y, int64_t n);
float dl_avx512_sumexp(const float *x, float m, int64_t n);
void dl_avx512_scale(float *y, float c, int64_t n);
void dl_avx512_softmax_block(float *P, int rows, int ld, int lim0, int causal);
void dl_avx512_softmax_bwd_block(const float *P, float *dP, int rows, int cols, int ld);
void dl_avx512_ce_rows(const float *x, const int *targets, int ignore, float *lse, float *per_row,
                       int64_t rows, int64_t C);
void dl_avx512_gelu(const float *x, float *y, int64_t n);
void dl_avx512_gelu_bwd(const float *x, const float *dy, float *gx, int64_t n, int acc);
int dl_avx512_layernorm_rows(const float *x, const float *gamma, const float *beta, float *y, int64_t rows,
                             int64_t D, float eps, float *stats);
int dl_avx512_layernorm_bwd(const float *x, const float *dy, const float *gamma, float *gx, int acc, float *gg,
                            float *gb, int64_t rows, int64_t D, const float *stats);
/* Direct attention of one (batch, head) for short key sequences (vmath_attn_avx512.c):
 * S <= DL_ATTN_DIRECT_MAXS, Dh and Dv <= DL_ATTN_DIRECT_MAXD. q, k rows of stride ldq;
 * v, o, dO rows of stride ldv; P [T][S]. Backward: g = beta g + grad (beta 0 or 1; NULL
 * = not needed), scratch 32*T floats, 64-byte aligned. */
#define DL_ATTN_DIRECT_MAXS 16
#define DL_ATTN_DIRECT_MAXD 128
void dl_avx512_attn_fwd(const float *q, const float *k, const float *v, int ldq, int ldv, int T, int S, int Dh,
                        int Dv, float scale, int causal, float *P, float *o);
void dl_avx512_attn_bwd(const float *q, const float *k, const float *v, int ldq, int ldv, int T, int S, int Dh,
                        int Dv, float scale, const float *P, const float *dO, float *gq, float *gk, float *gv,
                        float bq, float bk, float bv, float *scratch);
void dl_avx512_acc(const float *x, float *y, int64_t n);
/* One output row of a 2x2 stride-2 max pool (vmath_pool_avx512.c). */
void dl_avx512_maxpool2x2_row(const float *r0, const float *r1, int OW, int base, int W, float *y, int32_t *arg);
void dl_avx512_maxpool3x3s2_row(const float *xp, int W, int h0, int pad, int ow_lo, int ow_hi, float *y,
                                int32_t *arg);
/* dst[i] = src[2 i] / dst[2 i] += src[i], i < n (stride-2 im2col / col2im rows). */
void dl_avx512_gather_s2(const float *src, int n, float *dst);
void dl_avx512_scatter_add_s2(const float *src, int n, float *dst);
void dl_avx512_copy_rows(float *dst, int64_t dld, const float *src, int64_t sld, int64_t rows, int64_t n);
void dl_avx512_gather_rows(float *dst, const float *table, const int *ids, int64_t n, int64_t D);
void dl_avx512_scatter_add_rows(float *g, const float *dy, const int *ids, int64_t n, int64_t D, int64_t lo,
                                int64_t hi);
void dl_avx512_ce_bwd_rows(const float *x, const int *targets, int ignore, const float *lse,
                           const float *coef, float *g, int64_t rows, int64_t C);

/* Run `body` over [lo, hi) chunks of [0, n) (fixed chunk size, so the split does
 * not depend on the thread count), in parallel when n is large. */
#define DL_CHUNK 8192
#define DL_FOR_CHUNKS(n, lo, hi, body)                                                   \
    do {                                                                                 \
        const int64_t n_ = (n), nc_ = (n_ + DL_CHUNK - 1) / DL_CHUNK;                    \
        _Pragma("omp parallel for schedule(static) if (n_ > DL_PAR_MIN)")                 \
        for (int64_t c_ = 0; c_ < nc_; c_++) {                                           \
            const int64_t lo = c_ * DL_CHUNK, hi = lo + DL_CHUNK < n_ ? lo + DL_CHUNK : n_; \
            body;                                                                        \
        }                                                                                \
    } while (0)

/* Same over rows of `width` floats: chunks of about DL_CHUNK floats of whole rows. */
#define DL_FOR_ROWS(rows, width, lo, hi, body)                                            \
    do {                                                                                  \
        const int64_t r_ = (rows), w_ = (width) > 0 ? (width) : 1;                        \
        const int64_t per_ = DL_CHUNK / w_ > 0 ? DL_CHUNK / w_ : 1;                       \
        const int64_t nc_ = (r_ + per_ - 1) / per_;                                       \
        _Pragma("omp parallel for schedule(static) if (r_ * w_ > DL_PAR_MIN)")             \
        for (int64_t c_ = 0; c_ < nc_; c_++) {                                            \
            const int64_t lo = c_ * per_, hi = lo + per_ < r_ ? lo + per_ : r_;           \
            body;                                                                         \
        }                                                                                 \
    } while (0)

/* Philox4x32-10 block function (rng.c); exposed for the known-answer test. */
void dl_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

#endif
