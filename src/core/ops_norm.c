/* Fused LayerNorm over the last axis (Ba, Kiros & Hinton 2016):
 * y = (x - mean) / sqrt(var + eps) * gamma + beta, biased variance as in PyTorch.
 * The forward keeps mean and 1/std per row for the backward. */
#include <math.h>
#include "core/internal.h"

/* One pass over x and dy: dx per row, and the gamma/beta gradients as per-chunk sums
 * (chunks of whole rows of a fixed size, rows in order inside a chunk) added up in
 * chunk order afterwards: the same bits for any thread count. */
static void layernorm_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *x = r->in[0], *gamma = r->in[1], *beta = r->in[2], *out = r->out;
    const int64_t D = x->shape[x->ndim - 1], rows = D ? x->size / D : 0;
    if (rows == 0) return;
    const float *stats = r->saved; /* mean, rstd per row */
    const float *xv = x->data, *dy = out->grad, *gv = gamma ? gamma->data : NULL;
    int fresh = 1;
    float *gx = x->requires_grad ? dl_grad_out(g, x, &fresh) : NULL;
    const int want_gg = gamma && gamma->requires_grad, want_gb = beta && beta->requires_grad;
    const int64_t per = DL_CHUNK / D > 0 ? DL_CHUNK / D : 1, nc = (rows + per - 1) / per;
    float *part = want_gg || want_gb ? dl_graph_alloc(g, (size_t)(nc * 2 * D) * sizeof(float)) : NULL;
#pragma omp parallel for schedule(static) if (rows * D > DL_PAR_MIN)
    for (int64_t c = 0; c < nc; c++) {
        const int64_t lo = c * per, hi = lo + per < rows ? lo + per : rows;
        dl_k_layernorm_bwd(xv + lo * D, dy + lo * D, gv, gx ? gx + lo * D : NULL, !fresh,
                           want_gg ? part + c * 2 * D : NULL, want_gb ? part + c * 2 * D + D : NULL, hi - lo, D,
                           stats + 2 * lo);
    }
    float *gg = want_gg ? dl_tensor_grad(g, gamma) : NULL, *gb = want_gb ? dl_tensor_grad(g, beta) : NULL;
    for (int64_t c = 0; c < nc; c++) {
        if (gg) dl_k_acc(part + c * 2 * D, gg, D);
        if (gb) dl_k_acc(part + c * 2 * D + D, gb, D);
    }
}

dl_tensor *dl_layernorm(dl_graph *g, dl_tensor *x, dl_tensor *gamma, dl_tensor *beta, float eps) {
    if (x->ndim < 1) dl_fatal("dl_layernorm: input must have at least one dim");
    const int64_t D = x->shape[x->ndim - 1], rows = D ? x->size / D : 0;
    if ((gamma && gamma->size != D) || (beta && beta->size != D))
        dl_fatal("dl_layernorm: gamma/beta must have %lld elements (the last dim)", (long long)D);
    dl_tensor *out = dl_tensor_like(g, x);
    const int rec = dl_needs_grad(g, x, gamma, beta);
    float *stats = rec ? dl_graph_alloc(g, (size_t)(2 * rows) * sizeof(float)) : NULL;
    const float *xv = x->data, *gv = gamma ? gamma->data : NULL, *bv = beta ? beta->data : NULL;
    float *y = out->data;
    DL_FOR_ROWS(rows, D, lo, hi,
                dl_k_layernorm_rows(xv + lo * D, gv, bv, y + lo * D, hi - lo, D, eps,
                                    stats ? stats + 2 * lo : NULL));
    dl_rec *r = dl_record(g, layernorm_bwd, out, x, gamma, beta);
    if (r) r->saved = stats;
    return out;
}
