/* Binary elementwise ops with suffix broadcasting (b repeated over a's leading
 * dims, or a scalar b), and the scalar affine ops scale / add_scalar. */
#include <string.h>
#include "core/internal.h"

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV };
static const char *const op_names[] = {"dl_add", "dl_sub", "dl_mul", "dl_div"};

/* Give `t` the gradient buffer `g` when t has none yet and may share it: the
 * output gradient is final when its record runs, so an input of identical
 * layout can take the buffer over instead of a copy (residual adds, reshapes). */
int dl_grad_take(dl_tensor *t, dl_tensor *out) {
    if (t->grad || t->is_param || !t->requires_grad || t->size != out->size) return 0;
    t->grad = out->grad;
    return 1;
}

/* gb += sum over rows of f(row), rows in order (deterministic), for the
 * non-add cases (add uses dl_sum_rows_into, which also splits the columns). */
static void bgrad_rows(int kind, const float *dy, const float *av, const float *y, const float *bv,
                       float *gb, int64_t outer, int64_t inner) {
    for (int64_t o = 0; o < outer; o++) {
        const float *d = dy + o * inner;
        if (kind == OP_SUB) {
            dl_k_axpy(-1.0f, d, gb, inner);
        } else if (kind == OP_MUL) {
            dl_k_acc_mul(d, av + o * inner, gb, inner);
        } else {
            const float *yr = y + o * inner;
#pragma omp simd
            for (int64_t j = 0; j < inner; j++) gb[j] -= d[j] * yr[j] / bv[j];
        }
    }
}

static void agrad_span(int kind, const float *dy, const float *bv, float *ga, int64_t lo, int64_t hi,
                       int64_t inner) {
    if (kind == OP_ADD || kind == OP_SUB) {
        dl_k_acc(dy + lo, ga + lo, hi - lo);
        return;
    }
    /* lo, hi are row indices here */
    for (int64_t o = lo; o < hi; o++) {
        const float *d = dy + o * inner;
        float *gr = ga + o * inner;
        if (kind == OP_MUL) {
            dl_k_acc_mul(d, bv, gr, inner);
        } else {
#pragma omp simd
            for (int64_t j = 0; j < inner; j++) gr[j] += d[j] / bv[j];
        }
    }
}

static void binary_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *a = r->in[0], *b = r->in[1], *out = r->out;
    const int kind = r->arg.i[0];
    const int64_t outer = r->arg.u[1], inner = r->arg.u[2];
    const int64_t n = out->size;
    const float *dy = out->grad, *av = a->data, *bv = b->data;
    /* Input b first: `a` may take over dy's buffer below. */
    if (b->requires_grad && kind == OP_ADD && outer == 1 && b->size > 1) {
        /* Same shapes (residual adds): a fresh gradient of b is a copy of dy, not a
         * zero fill plus an accumulation (a takes dy's buffer itself below). */
        int fresh;
        float *gb = dl_grad_out(g, b, &fresh);
        if (fresh) DL_FOR_CHUNKS(n, lo, hi, memcpy(gb + lo, dy + lo, (size_t)(hi - lo) * sizeof(float)));
        else DL_FOR_CHUNKS(n, lo, hi, dl_k_acc(dy + lo, gb + lo, hi - lo));
    } else if (b->requires_grad) {
        float *gb = dl_tensor_grad(g, b);
        if (b->size == 1) {
            double s = 0;
            switch (kind) {
            case OP_ADD: s = dl_sum_det(dy, n); break;
            case OP_SUB: s = -dl_sum_det(dy, n); break;
            case OP_MUL:
                for (int64_t i = 0; i < n; i++) s += (double)dy[i] * av[i];
                break;
            case OP_DIV:
                for (int64_t i = 0; i < n; i++) s += (double)dy[i] * out->data[i];
                s = -s / bv[0];
                break;
            }
            gb[0] += (float)s;
        } else if (kind == OP_ADD) {
            dl_sum_rows_into(gb, dy, outer, inner);
        } else {
            bgrad_rows(kind, dy, av, out->data, bv, gb, outer, inner);
        }
    }
    if (a->requires_grad) {
        if (kind == OP_ADD && a != b && dl_grad_take(a, out)) return;
        float *ga = dl_tensor_grad(g, a);
        if (kind == OP_ADD || kind == OP_SUB) {
            DL_FOR_CHUNKS(n, lo, hi, agrad_span(kind, dy, bv, ga, lo, hi, inner));
        } else if (b->size == 1) {
            const float c = kind == OP_MUL ? bv[0] : 1.0f / bv[0];
            DL_FOR_CHUNKS(n, lo, hi, dl_k_axpy(c, dy + lo, ga + lo, hi - lo));
        } else {
#pragma omp parallel for schedule(static) if (n > DL_PAR_MIN)
            for (int64_t o = 0; o < outer; o++) agrad_span(kind, dy, bv, ga, o, o + 1, inner);
        }
    }
}

static dl_tensor *binary(dl_graph *g, dl_tensor *a, dl_tensor *b, int kind) {
    int64_t outer, inner;
    dl_broadcast_check(op_names[kind], a, b, &outer, &inner);
    dl_tensor *out = dl_tensor_like(g, a);
    const float *av = a->data, *bv = b->data;
    float *y = out->data;
    const int64_t n = a->size;
    if (b->size == 1) {
        DL_FOR_CHUNKS(n, lo, hi, dl_k_binary(kind, av + lo, bv, y + lo, hi - lo, 1));
    } else if (outer == 1) {
        DL_FOR_CHUNKS(n, lo, hi, dl_k_binary(kind, av + lo, bv + lo, y + lo, hi - lo, 0));
    } else {
#pragma omp parallel for schedule(static) if (n > DL_PAR_MIN)
        for (int64_t o = 0; o < outer; o++)
            dl_k_binary(kind, av + o * inner, bv, y + o * inner, inner, 0);
    }
    dl_rec *r = dl_record(g, binary_bwd, out, a, b, NULL);
    if (r) {
        r->arg.i[0] = kind;
        r->arg.u[1] = (uint64_t)outer;
        r->arg.u[2] = (uint64_t)inner;
    }
    return out;
}

dl_tensor *dl_add(dl_graph *g, dl_tensor *a, dl_tensor *b) { return binary(g, a, b, OP_ADD); }
dl_tensor *dl_sub(dl_graph *g, dl_tensor *a, dl_tensor *b) { return binary(g, a, b, OP_SUB); }
dl_tensor *dl_mul(dl_graph *g, dl_tensor *a, dl_tensor *b) { return binary(g, a, b, OP_MUL); }
dl_tensor *dl_div(dl_graph *g, dl_tensor *a, dl_tensor *b) { return binary(g, a, b, OP_DIV); }

/* ---- y = alpha * x + c ------------------------------------------------------ */
static void affine_bwd(dl_graph *g, const dl_rec *r) {
    dl_tensor *x = r->in[0], *out = r->out;
    const float alpha = r->arg.f[0];
    const int64_t n = x->size;
    const float *dy = out->grad;
    if (alpha == 1.0f && dl_grad_take(x, out)) return;
    float *gx = dl_tensor_grad(g, x);
    DL_FOR_CHUNKS(n, lo, hi, dl_k_axpy(alpha, dy + lo, gx + lo, hi - lo));
}

static dl_tensor *affine(dl_graph *g, dl_tensor *x, float alpha, float c) {
    dl_tensor *out = dl_tensor_like(g, x);
    const int64_t n = x->size;
    const float *xv = x->data;
    float *y = out->data;
    DL_FOR_CHUNKS(n, lo, hi, dl_k_affine(xv + lo, alpha, c, y + lo, hi - lo));
    dl_rec *r = dl_record(g, affine_bwd, out, x, NULL, NULL);
    if (r) r->arg.f[0] = alpha;
    return out;
}

dl_tensor *dl_scale(dl_graph *g, dl_tensor *x, float alpha) { return affine(g, x, alpha, 0.0f); }
dl_tensor *dl_add_scalar(dl_graph *g, dl_tensor *x, float c) { return affine(g, x, 1.0f, c); }
