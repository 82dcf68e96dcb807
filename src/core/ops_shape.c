/* Shape ops: embedding gather, concat, slice, reshape (shares data), permute, transpose. */
#include <omp.h>
#include <string.h>
#include "core/internal.h"

/* ---- embedding ----------------------------------------------------------------- */
static void embedding_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *table = r->in[0], *out = r->out;
    const int *ids = r->saved;
    const int64_t D = table->shape[1], n = out->size / (D ? D : 1);
    float *gt = dl_tensor_grad(g, table);
    const float *dy = out->grad;
    /* Each thread owns a range of table rows and scans the ids in order, so a
     * repeated id accumulates in the same order for any thread count. */
    const int64_t V = table->shape[0];
#pragma omp parallel if (n * D > DL_PAR_MIN)
    {
        const int nt = omp_get_num_threads(), t = omp_get_thread_num();
        const int64_t lo = V * t / nt, hi = V * (t + 1) / nt;
        dl_k_scatter_add_rows(gt, dy, ids, n, D, lo, hi);
    }
}

dl_tensor *dl_embedding(dl_graph *g, dl_tensor *table, const int *ids, int ndim, const int *shape) {
    if (table->ndim != 2) dl_fatal("dl_embedding: table must be [V, D]");
    if (ndim < 0 || ndim + 1 > DL_MAX_DIMS) dl_fatal("dl_embedding: ids rank %d too large", ndim);
    const int V = table->shape[0], D = table->shape[1];
    int oshape[DL_MAX_DIMS];
    for (int i = 0; i < ndim; i++) oshape[i] = shape[i];
    oshape[ndim] = D;
    dl_tensor *out = dl_tensor_new(g, ndim + 1, oshape);
    const int64_t n = dl_shape_size(ndim, shape);
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= V)
            dl_fatal("dl_embedding: id %d at position %lld outside [0, %d)", ids[i], (long long)i, V);
    const float *tv = table->data;
    float *y = out->data;
    DL_FOR_ROWS(n, D, lo, hi, dl_k_gather_rows(y + lo * D, tv, ids + lo, hi - lo, D));
    dl_rec *r = dl_record(g, embedding_bwd, out, table, NULL, NULL);
    if (r) r->saved = dl_graph_copy(g, ids, (size_t)n * sizeof(int));
    return out;
}

/* ---- concat ---------------------------------------------------------------------- */
typedef struct concat_saved {
    dl_tensor **xs;
    int n;
    int64_t outer;
} concat_saved;

static void concat_bwd(dl_graph *g, const dl_rec *r) {
    const concat_saved *s = r->saved;
    const int64_t orow = r->out->size / (s->outer ? s->outer : 1);
    int64_t off = 0;
    for (int k = 0; k < s->n; k++) {
        dl_tensor *x = s->xs[k];
        const int64_t in = x->size / (s->outer ? s->outer : 1);
        if (x->requires_grad) {
            float *gx = dl_tensor_grad(g, x);
            for (int64_t o = 0; o < s->outer; o++) {
                const float *d = r->out->grad + o * orow + off;
                float *gr = gx + o * in;
                for (int64_t j = 0; j < in; j++) gr[j] += d[j];
            }
        }
        off += in;
    }
}

dl_tensor *dl_concat(dl_graph *g, dl_tensor **xs, int n, int axis) {
    if (n < 1) dl_fatal("dl_concat: no inputs");
    const int ax = dl_norm_axis("dl_concat", xs[0], axis);
    int shape[DL_MAX_DIMS];
    for (int i = 0; i < xs[0]->ndim; i++) shape[i] = xs[0]->shape[i];
    shape[ax] = 0;
    int any = 0;
    for (int k = 0; k < n; k++) {
        int ok = xs[k]->ndim == xs[0]->ndim;
        for (int i = 0; ok && i < xs[0]->ndim; i++) ok = i == ax || xs[k]->shape[i] == xs[0]->shape[i];
        if (!ok) {
            char a[64], b[64];
            dl_fatal("dl_concat: input %d has shape %s, incompatible with %s along axis %d", k,
                     dl_shape_str(xs[k], a, sizeof a), dl_shape_str(xs[0], b, sizeof b), axis);
        }
        shape[ax] += xs[k]->shape[ax];
        any |= xs[k]->requires_grad;
    }
    dl_tensor *out = dl_tensor_new(g, xs[0]->ndim, shape);
    int64_t outer = 1;
    for (int i = 0; i < ax; i++) outer *= shape[i];
    const int64_t orow = outer ? out->size / outer : 0;
    int64_t off = 0;
    for (int k = 0; k < n; k++) {
        const int64_t in = outer ? xs[k]->size / outer : 0;
        dl_k_copy_rows(out->data + off, orow, xs[k]->data, in, outer, in);
        off += in;
    }
    dl_rec *r = dl_record_any(g, concat_bwd, out, any);
    if (r) {
        concat_saved *s = dl_graph_alloc(g, sizeof *s);
        s->xs = dl_graph_copy(g, xs, (size_t)n * sizeof *xs);
        s->n = n;
        s->outer = outer;
        r->saved = s;
    }
    return out;
}

/* ---- slice ------------------------------------------------------------------------- */
static void slice_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *x = r->in[0], *out = r->out;
    const int64_t outer = (int64_t)r->arg.u[0], xrow = (int64_t)r->arg.u[1], off = (int64_t)r->arg.u[2];
    const int64_t orow = outer ? out->size / outer : 0;
    float *gx = dl_tensor_grad(g, x);
    DL_FOR_ROWS(outer, orow, lo, hi,
                for (int64_t o = lo; o < hi; o++) dl_k_acc(out->grad + o * orow, gx + o * xrow + off, orow));
}

dl_tensor *dl_slice(dl_graph *g, dl_tensor *x, int axis, int start, int len) {
    const int ax = dl_norm_axis("dl_slice", x, axis);
    if (start < 0 || len < 0 || start + len > x->shape[ax]) {
        char s[64];
        dl_fatal("dl_slice: [%d, %d) outside axis %d of shape %s", start, start + len, axis,
                 dl_shape_str(x, s, sizeof s));
    }
    int shape[DL_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) shape[i] = x->shape[i];
    shape[ax] = len;
    dl_tensor *out = dl_tensor_new(g, x->ndim, shape);
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < ax; i++) outer *= x->shape[i];
    for (int i = ax + 1; i < x->ndim; i++) inner *= x->shape[i];
    const int64_t xrow = (int64_t)x->shape[ax] * inner, orow = (int64_t)len * inner, off = (int64_t)start * inner;
    DL_FOR_ROWS(outer, orow, lo, hi,
                dl_k_copy_rows(out->data + lo * orow, orow, x->data + lo * xrow + off, xrow, hi - lo, orow));
    dl_rec *r = dl_record(g, slice_bwd, out, x, NULL, NULL);
    if (r) {
        r->arg.u[0] = (uint64_t)outer;
        r->arg.u[1] = (uint64_t)xrow;
        r->arg.u[2] = (uint64_t)off;
    }
    return out;
}

/* ---- reshape: a view on the same data ------------------------------------------------- */
static void reshape_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *x = r->in[0], *out = r->out;
    if (dl_grad_take(x, out)) return;
    float *gx = dl_tensor_grad(g, x);
    const int64_t n = x->size;
#pragma omp parallel for schedule(static) if (n > DL_PAR_MIN)
    for (int64_t i = 0; i < n; i++) gx[i] += out->grad[i];
}

dl_tensor *dl_reshape(dl_graph *g, dl_tensor *x, int ndim, const int *shape) {
    if (ndim < 0 || ndim > DL_MAX_DIMS) dl_fatal("dl_reshape: rank %d outside 0..%d", ndim, DL_MAX_DIMS);
    int sh[DL_MAX_DIMS], infer = -1;
    int64_t known = 1;
    for (int i = 0; i < ndim; i++) {
        sh[i] = shape[i];
        if (shape[i] == -1) {
            if (infer >= 0) dl_fatal("dl_reshape: more than one -1 in the shape");
            infer = i;
        } else {
            known *= shape[i];
        }
    }
    if (infer >= 0 && known > 0) sh[infer] = (int)(x->size / known);
    if (dl_shape_size(ndim, sh) != x->size) {
        char s[64];
        dl_fatal("dl_reshape: cannot view %s (%lld elements) with %lld elements",
                 dl_shape_str(x, s, sizeof s), (long long)x->size, (long long)dl_shape_size(ndim, sh));
    }
    dl_tensor *out = dl_tensor_wrap(g, x->data, ndim, sh);
    dl_record(g, reshape_bwd, out, x, NULL, NULL);
    return out;
}

/* ---- permute ---------------------------------------------------------------------------- */
/* Strides of x (padded to 4 dims) read in the order of out's axes. */
static void permute_geom(const dl_tensor *x, const int *perm, int oshape[4], int64_t istride[4]) {
    int64_t xs[DL_MAX_DIMS];
    int64_t s = 1;
    for (int i = x->ndim - 1; i >= 0; i--) {
        xs[i] = s;
        s *= x->shape[i];
    }
    const int pad = 4 - x->ndim;
    for (int i = 0; i < 4; i++) {
        if (i < pad) {
            oshape[i] = 1;
            istride[i] = 0;
        } else {
            oshape[i] = x->shape[perm[i - pad]];
            istride[i] = xs[perm[i - pad]];
        }
    }
}

/* acc == 0: out[o] = x[i]; acc == 1: x[i] += out[o]; acc == 2: x[i] = out[o] (backward). */
static void permute_copy(float *dst, const float *src, const int os[4], const int64_t is[4], int acc) {
    const int64_t n01 = (int64_t)os[0] * os[1];
    const int64_t total = n01 * os[2] * os[3];
#pragma omp parallel for schedule(static) if (total > DL_PAR_MIN)
    for (int64_t ab = 0; ab < n01; ab++) {
        const int64_t i0 = ab / os[1], i1 = ab % os[1];
        int64_t o = ab * os[2] * os[3];
        for (int64_t i2 = 0; i2 < os[2]; i2++) {
            const int64_t base = i0 * is[0] + i1 * is[1] + i2 * is[2];
            if (!acc)
                for (int64_t i3 = 0; i3 < os[3]; i3++) dst[o + i3] = src[base + i3 * is[3]];
            else if (acc == 1)
                for (int64_t i3 = 0; i3 < os[3]; i3++) dst[base + i3 * is[3]] += src[o + i3];
            else
                for (int64_t i3 = 0; i3 < os[3]; i3++) dst[base + i3 * is[3]] = src[o + i3];
            o += os[3];
        }
    }
}

static void permute_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *x = r->in[0];
    int os[4];
    int64_t is[4];
    permute_geom(x, r->arg.i, os, is);
    int fresh;
    float *gx = dl_grad_out(g, x, &fresh);
    permute_copy(gx, r->out->grad, os, is, fresh ? 2 : 1);
}

dl_tensor *dl_permute(dl_graph *g, dl_tensor *x, const int *perm) {
    int seen[DL_MAX_DIMS] = {0};
    for (int i = 0; i < x->ndim; i++) {
        if (perm[i] < 0 || perm[i] >= x->ndim || seen[perm[i]])
            dl_fatal("dl_permute: not a permutation of %d axes", x->ndim);
        seen[perm[i]] = 1;
    }
    int shape[DL_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) shape[i] = x->shape[perm[i]];
    dl_tensor *out = dl_tensor_new(g, x->ndim, shape);
    int os[4];
    int64_t is[4];
    permute_geom(x, perm, os, is);
    permute_copy(out->data, x->data, os, is, 0);
    dl_rec *r = dl_record(g, permute_bwd, out, x, NULL, NULL);
    if (r)
        for (int i = 0; i < x->ndim; i++) r->arg.i[i] = perm[i];
    return out;
}

dl_tensor *dl_transpose(dl_graph *g, dl_tensor *x, int axis0, int axis1) {
    const int a0 = dl_norm_axis("dl_transpose", x, axis0), a1 = dl_norm_axis("dl_transpose", x, axis1);
    int perm[DL_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) perm[i] = i;
    perm[a0] = a1;
    perm[a1] = a0;
    return dl_permute(g, x, perm);
}
