/* Replicas: data parallelism over threads inside one training step (core.h).
 *
 * Why: on the papers' model sizes one matrix product is a few microseconds of
 * work, so splitting every op over two threads pays a fork/join per op and
 * leaves the second core idle in the many small ops. Splitting the batch
 * instead keeps each core on its own micro-batch for the whole forward and
 * backward (one fork/join per step), the same trade data-parallel training
 * makes across machines (docs/scale-out.md), here across cores. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "core/internal.h"

/* The gradient sum runs over fixed chunks so that threads split it evenly
 * and every element is added in the same order whatever the thread count. */
#define REDUCE_CHUNK 16384

typedef struct reduce_chunk {
    int param;
    int64_t lo, hi;
} reduce_chunk;

struct dl_replicas {
    dl_params *ps;
    int n, n_params; /* replicas; parameters of ps when created */
    dl_graph **graphs;
    float ***grads;           /* [replica][param]; replica 0 points at the params' .grad */
    unsigned char **touched;  /* [replica][param] */
    reduce_chunk *chunks;
    int n_chunks;
    float *results; /* [replica]: what each body returned this step */
};

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p) dl_fatal("out of memory creating replicas");
    return p;
}

dl_replicas *dl_replicas_new(dl_params *ps, int n) {
    if (n < 1) dl_fatal("dl_replicas_new: %d replicas (need at least 1)", n);
    dl_replicas *rp = xcalloc(1, sizeof *rp);
    rp->ps = ps;
    rp->n = n;
    rp->n_params = ps->n;
    rp->graphs = xcalloc((size_t)n, sizeof *rp->graphs);
    rp->grads = xcalloc((size_t)n, sizeof *rp->grads);
    rp->touched = xcalloc((size_t)n, sizeof *rp->touched);
    rp->results = xcalloc((size_t)n, sizeof *rp->results);
    for (int r = 0; r < n; r++) {
        rp->graphs[r] = dl_graph_new();
        rp->graphs[r]->replica = r;
        dl_graph_set_rng(rp->graphs[r], 0, (uint64_t)r);
        rp->grads[r] = xcalloc((size_t)ps->n, sizeof **rp->grads);
        rp->touched[r] = xcalloc((size_t)ps->n, 1);
        for (int i = 0; i < ps->n; i++) {
            const dl_tensor *t = ps->items[i];
            if (r == 0) {
                rp->grads[r][i] = t->grad;
                continue;
            }
            size_t bytes = ((size_t)t->size * sizeof(float) + 63) / 64 * 64;
            rp->grads[r][i] = dl_alloc_big(bytes);
            if (!rp->grads[r][i]) dl_fatal("out of memory allocating replica gradients");
        }
        dl_graph_bind_params(rp->graphs[r], ps, ps->n, rp->grads[r], rp->touched[r]);
    }
    for (int pass = 0; pass < 2; pass++) { /* count, then fill */
        int c = 0;
        for (int i = 0; i < ps->n; i++)
            for (int64_t lo = 0; lo < ps->items[i]->size; lo += REDUCE_CHUNK, c++)
                if (pass) {
                    int64_t hi = lo + REDUCE_CHUNK;
                    rp->chunks[c] = (reduce_chunk){i, lo, hi < ps->items[i]->size ? hi : ps->items[i]->size};
                }
        if (!pass) rp->chunks = xcalloc((size_t)c, sizeof *rp->chunks);
        rp->n_chunks = c;
    }
    return rp;
}

void dl_replicas_free(dl_replicas *rp) {
    if (!rp) return;
    for (int r = 0; r < rp->n; r++) {
        dl_graph_free(rp->graphs[r]);
        if (r > 0)
            for (int i = 0; i < rp->n_params; i++) free(rp->grads[r][i]);
        free(rp->grads[r]);
        free(rp->touched[r]);
    }
    free(rp->graphs);
    free(rp->grads);
    free(rp->touched);
    free(rp->chunks);
    free(rp->results);
    free(rp);
}

int dl_replicas_count(const dl_replicas *rp) { return rp->n; }

dl_graph *dl_replicas_graph(dl_replicas *rp, int r) {
    if (r < 0 || r >= rp->n) dl_fatal("dl_replicas_graph: replica %d of %d", r, rp->n);
    return rp->graphs[r];
}

size_t dl_replicas_arena_bytes(const dl_replicas *rp) {
    size_t s = 0;
    for (int r = 0; r < rp->n; r++) s += dl_graph_arena_bytes(rp->graphs[r]);
    return s;
}

int64_t dl_replicas_heap_allocs(const dl_replicas *rp) {
    int64_t s = 0;
    for (int r = 0; r < rp->n; r++) s += dl_graph_heap_allocs(rp->graphs[r]);
    return s;
}

/* param.grad[lo, hi) = scale * sum over the replicas that wrote it. */
static void reduce_chunk_run(const dl_replicas *rp, const reduce_chunk *c, float scale) {
    const dl_tensor *t = rp->ps->items[c->param];
    float *restrict dst = t->grad + c->lo;
    const int64_t len = c->hi - c->lo;
    int last = -1, count = 0;
    for (int r = 0; r < rp->n; r++)
        if (rp->touched[r][c->param]) last = r, count++;
    if (!count) {
        memset(dst, 0, (size_t)len * sizeof(float));
        return;
    }
    /* dst = scale * (g_0 + ... + g_last), left to right; the last add applies the
     * scale in the same pass. dst may itself be g_0 (replica 0's buffer). */
    int first = 1;
    for (int r = 0; r <= last; r++) {
        if (!rp->touched[r][c->param]) continue;
        const float *src = rp->grads[r][c->param] + c->lo;
        const float k = r == last ? scale : 1.0f;
        if (first) {
            if (src != dst || k != 1.0f)
                for (int64_t i = 0; i < len; i++) dst[i] = k * src[i];
        }
        else
            for (int64_t i = 0; i < len; i++) dst[i] = k * (dst[i] + src[i]);
        first = 0;
    }
}

static int replica_threads(const dl_replicas *rp) {
    int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
    return nt < rp->n ? nt : rp->n;
}

void dl_replicas_reset(dl_replicas *rp) {
    for (int r = 0; r < rp->n; r++) dl_graph_reset(rp->graphs[r]);
}

/* The sum (and the caller's update) of chunk c. */
static void finish_chunk(const dl_replicas *rp, int c, float scale, dl_grad_chunk_fn done, void *done_ctx) {
    const reduce_chunk *k = &rp->chunks[c];
    if (!rp->ps->items[k->param]->requires_grad) return; /* frozen: its buffers stay as they are */
    reduce_chunk_run(rp, k, scale);
    if (done) done(done_ctx, k->param, k->lo, k->hi);
}

float dl_replicas_step_each(dl_replicas *rp, dl_replica_fn body, void *ctx, float grad_scale, dl_grad_chunk_fn done,
                            void *done_ctx) {
    const int n = rp->n, nt = replica_threads(rp);
    dl_replicas_reset(rp);
    for (int r = 0; r < n; r++) memset(rp->touched[r], 0, (size_t)rp->n_params);
    float *results = rp->results;
    if (nt <= 1) {
        /* One thread per replica at most: each op may still use the team (intra-op
         * threading); then the chunks split over the team. */
        for (int r = 0; r < n; r++) results[r] = body(rp->graphs[r], r, n, ctx);
        const int team = omp_in_parallel() ? 1 : omp_get_max_threads();
#pragma omp parallel for schedule(static) if (team > 1)
        for (int c = 0; c < rp->n_chunks; c++) finish_chunk(rp, c, grad_scale, done, done_ctx);
    } else {
        /* One parallel region per step: the replicas, a barrier, then the gradient
         * sum (and the caller's update) shared out in fixed chunks. */
#pragma omp parallel num_threads(nt)
        {
#pragma omp for schedule(static, 1)
            for (int r = 0; r < n; r++) results[r] = body(rp->graphs[r], r, n, ctx);
#pragma omp for schedule(static)
            for (int c = 0; c < rp->n_chunks; c++) finish_chunk(rp, c, grad_scale, done, done_ctx);
        }
    }
    double sum = 0.0;
    for (int r = 0; r < n; r++) sum += results[r];
    return (float)(sum / n);
}

float dl_replicas_step(dl_replicas *rp, dl_replica_fn body, void *ctx, float grad_scale) {
    return dl_replicas_step_each(rp, body, ctx, grad_scale, NULL, NULL);
}
