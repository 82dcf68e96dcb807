/* Fused scaled dot-product attention (Vaswani et al. 2017, eq. 1):
 * out = softmax(q k^T * scale + causal) v for each (batch, head).
 * Two layouts share one kernel:
 *   dl_attention:       q [..., T, Dh], k [..., S, Dh], v [..., S, Dv] -> [..., T, Dv]
 *   dl_attention_heads: q [B, T, H*Dh], k [B, S, H*Dh], v [B, S, H*Dv] -> [B, T, H*Dv],
 *                       head h reading columns h*Dh..(h+1)*Dh-1 (no head split/merge copies:
 *                       the GEMMs read and write the strided blocks in place).
 * With `causal`, key j is hidden from query i when j > i + (S - T); causal rows are
 * processed in blocks that only touch the visible keys.
 * The forward keeps the weights P [B, H, T, S] in the arena; the backward uses
 *   dP = dO v^T, dv += P^T dO, dS = P * (dP - rowsum(dP * P)),
 *   dq += scale dS k, dk += scale dS^T q. */
#include <math.h>
#include <omp.h>
#include "core/internal.h"
#include "dynlab/gemm.h"

typedef struct attn_dims {
    int batch, heads, T, S, Dh, Dv, causal, merged; /* merged: [B, T, H*D] layout */
    float scale;
} attn_dims;

/* Offset and row stride of the (batch*heads index bh) block of a tensor with
 * `rows` rows of `dim` floats per head. */
static inline int64_t blk_off(const attn_dims *d, int bh, int rows, int dim) {
    if (!d->merged) return (int64_t)bh * rows * dim;
    const int b = bh / d->heads, h = bh % d->heads;
    return (int64_t)b * rows * d->heads * dim + (int64_t)h * dim;
}
static inline int blk_ld(const attn_dims *d, int dim) { return d->merged ? d->heads * dim : dim; }

static double attn_flops(const attn_dims *d) {
    return 2.0 * d->batch * (double)d->T * d->S * (d->Dh + d->Dv);
}

/* Causal row blocks: rows [r0, r1) see keys [0, kend). */
#define ATTN_ROW_BLOCK 32
static inline int attn_nblocks(const attn_dims *d) {
    return d->causal && d->T >= 2 * ATTN_ROW_BLOCK ? (d->T + ATTN_ROW_BLOCK - 1) / ATTN_ROW_BLOCK : 1;
}
static inline void attn_block(const attn_dims *d, int blk, int nblk, int *r0, int *r1, int *kend) {
    *r0 = nblk == 1 ? 0 : blk * ATTN_ROW_BLOCK;
    *r1 = nblk == 1 ? d->T : (*r0 + ATTN_ROW_BLOCK < d->T ? *r0 + ATTN_ROW_BLOCK : d->T);
    int k = d->causal ? *r1 + (d->S - d->T) : d->S;
    *kend = k > d->S ? d->S : (k < 0 ? 0 : k);
}

/* Short key sequences (S <= 16 keys, one vector of scores per row) take the direct
 * AVX-512 kernels of vmath_attn_avx512.c: with tiny heads the GEMM path below is
 * dominated by per-call overhead. Decided once per op, so forward and backward agree. */
static int attn_direct(const attn_dims *d) {
    static int have = -1;
    if (have < 0) have = dl_have_avx512();
    return have > 0 && d->S <= DL_ATTN_DIRECT_MAXS && d->Dh <= DL_ATTN_DIRECT_MAXD &&
           d->Dv <= DL_ATTN_DIRECT_MAXD;
}

/* Start the cache lines of `rows` rows of `width` floats (stride ld) on their way: the
 * direct kernels touch each (batch, head) block once, so the next block's q/k/v are
 * requested while this one computes. */
static void prefetch_block(const float *p, int rows, int ld, int width) {
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < width; c += 16) __builtin_prefetch(p + (int64_t)r * ld + c, 0, 3);
}

static void attn_forward_one(const attn_dims *d, int bh, const float *q, const float *k, const float *v,
                             float *P, float *out) {
    const int ldq = blk_ld(d, d->Dh), ldv = blk_ld(d, d->Dv);
    const float *qb = q + blk_off(d, bh, d->T, d->Dh), *kb = k + blk_off(d, bh, d->S, d->Dh);
    const float *vb = v + blk_off(d, bh, d->S, d->Dv);
    float *ob = out + blk_off(d, bh, d->T, d->Dv), *Pb = P + (int64_t)bh * d->T * d->S;
    if (attn_direct(d)) {
        if (bh + 1 < d->batch) {
            prefetch_block(q + blk_off(d, bh + 1, d->T, d->Dh), d->T, ldq, d->Dh);
            prefetch_block(k + blk_off(d, bh + 1, d->S, d->Dh), d->S, ldq, d->Dh);
            prefetch_block(v + blk_off(d, bh + 1, d->S, d->Dv), d->S, ldv, d->Dv);
        }
        dl_avx512_attn_fwd(qb, kb, vb, ldq, ldv, d->T, d->S, d->Dh, d->Dv, d->scale, d->causal, Pb, ob);
        return;
    }
    const int nblk = attn_nblocks(d);
    for (int blk = 0; blk < nblk; blk++) {
        int r0, r1, kend;
        attn_block(d, blk, nblk, &r0, &r1, &kend);
        float *Pr = Pb + (int64_t)r0 * d->S;
        if (kend > 0)
            dl_sgemm(0, 1, r1 - r0, kend, d->Dh, d->scale, qb + (int64_t)r0 * ldq, ldq, kb, ldq, 0.0f, Pr,
                     d->S);
        /* Row i of the block sees keys j < i + S - T + 1 (all S when not causal). */
        dl_k_softmax_block(Pr, r1 - r0, d->S, r0 + (d->S - d->T) + 1, d->causal);
        if (kend > 0)
            dl_sgemm(0, 0, r1 - r0, d->Dv, kend, 1.0f, Pr, d->S, vb, ldv, 0.0f, ob + (int64_t)r0 * ldv, ldv);
        else
            for (int i = r0; i < r1; i++)
                for (int j = 0; j < d->Dv; j++) ob[(int64_t)i * ldv + j] = 0.0f;
    }
}

/* Backward of one (batch, head). Row blocks run last to first: the last block sees
 * every key, so its dk/dv GEMM initialises fresh buffers (beta = 0) and the
 * earlier blocks accumulate. dq rows are disjoint per block. */
static void attn_backward_one(const attn_dims *d, int bh, const dl_tensor *q, const dl_tensor *k,
                              const dl_tensor *v, const float *P, const float *dO, float *gq, float *gk,
                              float *gv, float bq, float bk, float bv, float *dP) {
    const int ldq = blk_ld(d, d->Dh), ldv = blk_ld(d, d->Dv);
    const float *qb = q->data + blk_off(d, bh, d->T, d->Dh), *kb = k->data + blk_off(d, bh, d->S, d->Dh);
    const float *vb = v->data + blk_off(d, bh, d->S, d->Dv), *dOb = dO + blk_off(d, bh, d->T, d->Dv);
    const float *Pb = P + (int64_t)bh * d->T * d->S;
    float *gqb = gq ? gq + blk_off(d, bh, d->T, d->Dh) : NULL;
    float *gkb = gk ? gk + blk_off(d, bh, d->S, d->Dh) : NULL;
    float *gvb = gv ? gv + blk_off(d, bh, d->S, d->Dv) : NULL;
    if (attn_direct(d)) {
        if (bh + 1 < d->batch) {
            prefetch_block(q->data + blk_off(d, bh + 1, d->T, d->Dh), d->T, ldq, d->Dh);
            prefetch_block(k->data + blk_off(d, bh + 1, d->S, d->Dh), d->S, ldq, d->Dh);
            prefetch_block(v->data + blk_off(d, bh + 1, d->S, d->Dv), d->S, ldv, d->Dv);
            prefetch_block(dO + blk_off(d, bh + 1, d->T, d->Dv), d->T, ldv, d->Dv);
        }
        dl_avx512_attn_bwd(qb, kb, vb, ldq, ldv, d->T, d->S, d->Dh, d->Dv, d->scale, Pb, dOb, gqb, gkb, gvb, bq, bk,
                           bv, dP);
        return;
    }
    const int nblk = attn_nblocks(d);
    for (int blk = nblk - 1; blk >= 0; blk--) {
        int r0, r1, kend;
        attn_block(d, blk, nblk, &r0, &r1, &kend);
        const int rows = r1 - r0;
        const float beta_kv_v = blk == nblk - 1 ? bv : 1.0f, beta_kv_k = blk == nblk - 1 ? bk : 1.0f;
        const float *Pr = Pb + (int64_t)r0 * d->S;
        if (kend == 0) { /* fully hidden rows: no gradient; a fresh dq still needs zeros */
            if (gqb && bq == 0.0f)
                for (int i = r0; i < r1; i++)
                    for (int j = 0; j < d->Dh; j++) gqb[(int64_t)i * ldq + j] = 0.0f;
            continue;
        }
        if (gvb)
            dl_sgemm(1, 0, kend, d->Dv, rows, 1.0f, Pr, d->S, dOb + (int64_t)r0 * ldv, ldv, beta_kv_v, gvb, ldv);
        if (!gqb && !gkb) continue;
        dl_sgemm(0, 1, rows, kend, d->Dv, 1.0f, dOb + (int64_t)r0 * ldv, ldv, vb, ldv, 0.0f, dP, d->S);
        dl_k_softmax_bwd_block(Pr, dP, rows, kend, d->S); /* dS = P * (dP - rowsum(dP * P)) */
        if (gqb)
            dl_sgemm(0, 0, rows, d->Dh, kend, d->scale, dP, d->S, kb, ldq, bq, gqb + (int64_t)r0 * ldq, ldq);
        if (gkb)
            dl_sgemm(1, 0, kend, d->Dh, rows, d->scale, dP, d->S, qb + (int64_t)r0 * ldq, ldq, beta_kv_k, gkb,
                     ldq);
    }
}

static void attention_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *q = r->in[0], *k = r->in[1], *v = r->in[2], *out = r->out;
    const attn_dims *d = r->saved;
    const float *P = (const float *)((const char *)d + 64);
    /* A gradient buffer allocated here is fully written (beta = 0 first). When inputs
     * are shared (self-attention on one tensor) accumulate into zeroed buffers. */
    int fq = 0, fk = 0, fv = 0;
    if (q == k || q == v || k == v) {
        if (q->requires_grad) dl_tensor_grad(g, q);
        if (k->requires_grad) dl_tensor_grad(g, k);
        if (v->requires_grad) dl_tensor_grad(g, v);
    }
    float *gq = q->requires_grad ? dl_grad_out(g, q, &fq) : NULL;
    float *gk = k->requires_grad ? dl_grad_out(g, k, &fk) : NULL;
    float *gv = v->requires_grad ? dl_grad_out(g, v, &fv) : NULL;
    const float bq = fq ? 0.0f : 1.0f, bk = fk ? 0.0f : 1.0f, bv = fv ? 0.0f : 1.0f;
    const int nth = omp_get_max_threads();
    /* Per-thread scratch: dP [T, S] for the GEMM path, P and dS rows padded to 16 for the
     * direct one; a multiple of 16 floats so every thread's part stays 64-byte aligned. */
    int64_t ts = attn_direct(d) ? (int64_t)d->T * 32 : (int64_t)d->T * d->S;
    ts = (ts + 15) / 16 * 16;
    float *scratch = dl_graph_alloc(g, (size_t)(nth * ts) * sizeof(float));
    const float *dO = out->grad;
#pragma omp parallel for schedule(static) if (d->batch > 1 && attn_flops(d) > 4e5)
    for (int bh = 0; bh < d->batch; bh++)
        attn_backward_one(d, bh, q, k, v, P, dO, gq, gk, gv, bq, bk, bv, scratch + omp_get_thread_num() * ts);
}

static dl_tensor *attention_impl(dl_graph *g, dl_tensor *q, dl_tensor *k, dl_tensor *v, attn_dims dd,
                                 float **keep_weights, const int *out_shape, int out_ndim) {
    /* The dims and the weights live in one arena block: the record points at it. */
    attn_dims *d = dl_graph_alloc(g, 64 + (size_t)((int64_t)dd.batch * dd.T * dd.S) * sizeof(float));
    _Static_assert(sizeof(attn_dims) <= 64, "attn_dims fits the 64-byte header");
    *d = dd;
    float *P = (float *)((char *)d + 64);
    dl_tensor *out = dl_tensor_new(g, out_ndim, out_shape);
#pragma omp parallel for schedule(static) if (d->batch > 1 && attn_flops(d) > 4e5)
    for (int bh = 0; bh < d->batch; bh++) attn_forward_one(d, bh, q->data, k->data, v->data, P, out->data);
    if (keep_weights) *keep_weights = P;
    dl_rec *r = dl_record(g, attention_bwd, out, q, k, v);
    if (r) r->saved = d;
    return out;
}

dl_tensor *dl_attention(dl_graph *g, dl_tensor *q, dl_tensor *k, dl_tensor *v, float scale,
                        int causal, float **keep_weights) {
    char a[64], b_[64], c[64];
    int ok = q->ndim >= 2 && k->ndim == q->ndim && v->ndim == q->ndim;
    for (int i = 0; ok && i < q->ndim - 2; i++) ok = q->shape[i] == k->shape[i] && q->shape[i] == v->shape[i];
    ok = ok && q->shape[q->ndim - 1] == k->shape[k->ndim - 1] && k->shape[k->ndim - 2] == v->shape[v->ndim - 2];
    if (!ok)
        dl_fatal("dl_attention: q %s, k %s, v %s do not fit [.., T, Dh], [.., S, Dh], [.., S, Dv]",
                 dl_shape_str(q, a, sizeof a), dl_shape_str(k, b_, sizeof b_), dl_shape_str(v, c, sizeof c));
    const int nd = q->ndim;
    attn_dims d = {0};
    const int64_t per = (int64_t)q->shape[nd - 2] * q->shape[nd - 1];
    d.batch = (int)(per ? q->size / per : 0);
    d.heads = 1;
    d.T = q->shape[nd - 2];
    d.S = k->shape[nd - 2];
    d.Dh = q->shape[nd - 1];
    d.Dv = v->shape[nd - 1];
    d.causal = causal != 0;
    d.merged = 0;
    d.scale = scale;
    int shape[DL_MAX_DIMS];
    for (int i = 0; i < nd; i++) shape[i] = q->shape[i];
    shape[nd - 1] = d.Dv;
    return attention_impl(g, q, k, v, d, keep_weights, shape, nd);
}

dl_tensor *dl_attention_heads(dl_graph *g, dl_tensor *q, dl_tensor *k, dl_tensor *v, int heads,
                              float scale, int causal, float **keep_weights) {
    char a[64], b_[64], c[64];
    int ok = heads > 0 && q->ndim == 3 && k->ndim == 3 && v->ndim == 3 && q->shape[0] == k->shape[0] &&
             q->shape[0] == v->shape[0] && k->shape[1] == v->shape[1] && q->shape[2] == k->shape[2] &&
             q->shape[2] % heads == 0 && v->shape[2] % heads == 0;
    if (!ok)
        dl_fatal("dl_attention_heads: q %s, k %s, v %s with %d heads do not fit [B, T, H*Dh], [B, S, H*Dh], "
                 "[B, S, H*Dv]",
                 dl_shape_str(q, a, sizeof a), dl_shape_str(k, b_, sizeof b_), dl_shape_str(v, c, sizeof c), heads);
    attn_dims d = {0};
    d.heads = heads;
    d.batch = q->shape[0] * heads;
    d.T = q->shape[1];
    d.S = k->shape[1];
    d.Dh = q->shape[2] / heads;
    d.Dv = v->shape[2] / heads;
    d.causal = causal != 0;
    d.merged = 1;
    d.scale = scale;
    const int shape[3] = {q->shape[0], d.T, v->shape[2]};
    return attention_impl(g, q, k, v, d, keep_weights, shape, 3);
}
