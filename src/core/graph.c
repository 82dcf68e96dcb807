/* The graph: per-step arena, autograd tape, step-local flags and RNG; dl_backward. */
#include <stdlib.h>
#include <string.h>
#include "core/internal.h"

dl_graph *dl_graph_new(void) {
    dl_graph *g = calloc(1, sizeof *g);
    if (!g) dl_fatal("out of memory creating a graph");
    dl_arena_init(&g->arena);
    g->grad_enabled = 1;
    g->training = 0;
    dl_rng_init(&g->rng, 0, 0);
    return g;
}

void dl_graph_free(dl_graph *g) {
    if (!g) return;
    dl_arena_free(&g->arena);
    free(g->tape);
    free(g->scratch);
    free(g);
}

void dl_graph_reset(dl_graph *g) {
    dl_arena_reset(&g->arena);
    g->n_rec = 0;
    g->free_grads = NULL;
}

void dl_graph_set_training(dl_graph *g, int training) { g->training = training != 0; }
void dl_graph_set_grad_enabled(dl_graph *g, int enabled) { g->grad_enabled = enabled != 0; }
void dl_graph_set_rng(dl_graph *g, uint64_t seed, uint64_t stream) {
    dl_rng_init(&g->rng, seed, stream);
}
dl_rng *dl_graph_rng(dl_graph *g) { return &g->rng; }
int64_t dl_graph_heap_allocs(const dl_graph *g) {
    return g->arena.heap_allocs + g->tape_allocs + g->scratch_allocs;
}

void *dl_graph_scratch(dl_graph *g, size_t bytes) {
    if (bytes > g->scratch_cap) {
        size_t cap = (bytes + 63) / 64 * 64;
        free(g->scratch);
        g->scratch = dl_alloc_big(cap);
        if (!g->scratch) dl_fatal("out of memory allocating %zu bytes of op scratch", bytes);
        g->scratch_cap = cap;
        g->scratch_allocs++;
    }
    return g->scratch;
}
size_t dl_graph_arena_bytes(const dl_graph *g) { return g->arena.high; }

void *dl_graph_alloc(dl_graph *g, size_t bytes) { return dl_arena_alloc(&g->arena, bytes); }

void *dl_graph_copy(dl_graph *g, const void *src, size_t bytes) {
    void *p = dl_arena_alloc(&g->arena, bytes);
    if (bytes) memcpy(p, src, bytes);
    return p;
}

static dl_tensor *tensor_header(dl_graph *g, int ndim, const int *shape) {
    if (ndim < 0 || ndim > DL_MAX_DIMS) dl_fatal("tensor rank %d outside 0..%d", ndim, DL_MAX_DIMS);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0) dl_fatal("negative tensor dimension %d (axis %d)", shape[i], i);
    dl_tensor *t = dl_arena_alloc(&g->arena, sizeof *t);
    memset(t, 0, sizeof *t);
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->size = dl_shape_size(ndim, shape);
    return t;
}

dl_tensor *dl_tensor_new(dl_graph *g, int ndim, const int *shape) {
    dl_tensor *t = tensor_header(g, ndim, shape);
    t->data = dl_arena_alloc(&g->arena, (size_t)t->size * sizeof(float));
    return t;
}

dl_tensor *dl_tensor_zeros(dl_graph *g, int ndim, const int *shape) {
    dl_tensor *t = dl_tensor_new(g, ndim, shape);
    memset(t->data, 0, (size_t)t->size * sizeof(float));
    return t;
}

dl_tensor *dl_tensor_wrap(dl_graph *g, float *data, int ndim, const int *shape) {
    dl_tensor *t = tensor_header(g, ndim, shape);
    t->data = data;
    return t;
}

dl_tensor *dl_tensor_like(dl_graph *g, const dl_tensor *like) {
    return dl_tensor_new(g, like->ndim, like->shape);
}

static size_t grad_bytes(const dl_tensor *t) { return ((size_t)t->size * sizeof(float) + 63) / 64 * 64; }

/* An activation gradient buffer: a recycled one of the same size, else new arena memory. */
static float *grad_alloc(dl_graph *g, const dl_tensor *t) {
    const size_t bytes = grad_bytes(t);
    for (dl_free_grad **p = &g->free_grads; *p; p = &(*p)->next)
        if ((*p)->bytes == bytes) {
            dl_free_grad *f = *p;
            *p = f->next;
            return (float *)(void *)f;
        }
    return dl_arena_alloc(&g->arena, bytes);
}

void dl_graph_bind_params(dl_graph *g, const dl_params *ps, int n_params, float **grads,
                          unsigned char *touched) {
    g->bound = ps;
    g->bound_n = n_params;
    g->bound_grads = grads;
    g->bound_touched = touched;
}

/* A parameter of the bound store: its replica buffer. The first use in a step
 * either zeroes it (fresh == NULL: the caller accumulates) or tells the caller to
 * overwrite it (*fresh = 1). NULL when t is not a parameter of the bound store. */
static float *bound_grad(dl_graph *g, const dl_tensor *t, int *fresh) {
    const dl_params *ps = g->bound;
    if (!ps || !t->is_param || t->index < 0 || t->index >= g->bound_n || ps->items[t->index] != t) return NULL;
    float *gr = g->bound_grads[t->index];
    if (!g->bound_touched[t->index]) {
        g->bound_touched[t->index] = 1;
        if (fresh)
            *fresh = 1;
        else
            memset(gr, 0, (size_t)t->size * sizeof(float));
    }
    return gr;
}

float *dl_tensor_grad(dl_graph *g, dl_tensor *t) {
    if (g->bound && t->is_param) {
        float *gr = bound_grad(g, t, NULL);
        if (gr) return gr;
    }
    if (!t->grad) {
        if (t->is_param) dl_fatal("parameter %s has no gradient buffer", t->name ? t->name : "?");
        t->grad = grad_alloc(g, t);
        memset(t->grad, 0, (size_t)t->size * sizeof(float));
    }
    return t->grad;
}

float *dl_grad_out(dl_graph *g, dl_tensor *t, int *fresh) {
    *fresh = 0;
    if (g->bound && t->is_param) {
        float *gr = bound_grad(g, t, fresh);
        if (gr) return gr;
    }
    if (!t->grad) {
        if (t->is_param) dl_fatal("parameter %s has no gradient buffer", t->name ? t->name : "?");
        t->grad = grad_alloc(g, t);
        *fresh = 1;
    }
    return t->grad;
}

static dl_rec *push_record(dl_graph *g) {
    if (g->n_rec == g->cap_rec) {
        /* Grows during the first step only: reset keeps the capacity. */
        int nc = g->cap_rec ? 2 * g->cap_rec : 256;
        dl_rec *t = realloc(g->tape, (size_t)nc * sizeof *t);
        if (!t) dl_fatal("out of memory growing the tape");
        g->tape = t;
        g->cap_rec = nc;
        g->tape_allocs++;
    }
    return &g->tape[g->n_rec++];
}

dl_rec *dl_record(dl_graph *g, dl_bwd_kernel bwd, dl_tensor *out, dl_tensor *a, dl_tensor *b,
                  dl_tensor *c) {
    if (!dl_needs_grad(g, a, b, c)) {
        out->requires_grad = 0;
        return NULL;
    }
    out->requires_grad = 1;
    dl_rec *r = push_record(g);
    r->bwd = bwd;
    r->out = out;
    r->in[0] = a;
    r->in[1] = b;
    r->in[2] = c;
    r->saved = NULL;
    memset(&r->arg, 0, sizeof r->arg);
    return r;
}

dl_rec *dl_record_any(dl_graph *g, dl_bwd_kernel bwd, dl_tensor *out, int any_requires_grad) {
    if (!g->grad_enabled || !any_requires_grad) {
        out->requires_grad = 0;
        return NULL;
    }
    out->requires_grad = 1;
    dl_rec *r = push_record(g);
    memset(r, 0, sizeof *r);
    r->bwd = bwd;
    r->out = out;
    return r;
}

/* ---- custom ops ------------------------------------------------------------ */
typedef struct custom_saved {
    dl_backward_fn fn;
    dl_tensor **inputs;
    int n_inputs;
    void *ctx;
} custom_saved;

static void custom_bwd(dl_graph *g, const dl_rec *r) {
    const custom_saved *s = r->saved;
    s->fn(g, r->out, s->inputs, s->n_inputs, s->ctx);
}

void dl_tape_custom(dl_graph *g, dl_tensor *out, dl_tensor **inputs, int n_inputs,
                    dl_backward_fn backward, const void *ctx, size_t ctx_bytes) {
    int any = 0;
    for (int i = 0; i < n_inputs; i++) any |= inputs[i] && inputs[i]->requires_grad;
    if (!g->grad_enabled || !any) {
        out->requires_grad = 0;
        return;
    }
    dl_rec *r = push_record(g);
    memset(r, 0, sizeof *r);
    r->bwd = custom_bwd;
    r->out = out;
    out->requires_grad = 1;
    custom_saved *s = dl_arena_alloc(&g->arena, sizeof *s);
    s->fn = backward;
    s->n_inputs = n_inputs;
    s->inputs = dl_graph_copy(g, inputs, (size_t)n_inputs * sizeof *inputs);
    s->ctx = ctx_bytes ? dl_graph_copy(g, ctx, ctx_bytes) : NULL;
    r->saved = s;
}

/* ---- backward ---------------------------------------------------------------- */
static int shares_grad(const dl_rec *r, const float *gr) {
    for (int i = 0; i < 3; i++)
        if (r->in[i] && r->in[i]->grad == gr) return 1;
    if (r->bwd == custom_bwd) {
        const custom_saved *s = r->saved;
        for (int i = 0; i < s->n_inputs; i++)
            if (s->inputs[i] && s->inputs[i]->grad == gr) return 1;
    }
    return 0;
}

/* After its record ran, an activation's gradient is dead (every consumer came later
 * on the tape and has already run): recycle the buffer unless an input took it over.
 * This keeps the backward's peak memory near one layer of gradients instead of all. */
static void release_grad(dl_graph *g, const dl_rec *r) {
    dl_tensor *o = r->out;
    if (o->is_param || !o->grad || shares_grad(r, o->grad)) return;
    dl_free_grad *f = (dl_free_grad *)(void *)o->grad;
    f->bytes = grad_bytes(o);
    f->next = g->free_grads;
    g->free_grads = f;
    o->grad = NULL;
}

void dl_backward(dl_graph *g, dl_tensor *loss) {
    if (!loss) dl_fatal("dl_backward: loss is NULL");
    if (!loss->requires_grad) return; /* nothing on the tape depends on a parameter */
    float *dl = dl_tensor_grad(g, loss);
    for (int64_t i = 0; i < loss->size; i++) dl[i] += 1.0f;
    /* Records are in execution order, so a record's output gradient is complete
     * when the walk reaches it. Records whose output got no gradient are skipped. */
    for (int i = g->n_rec - 1; i >= 0; i--) {
        const dl_rec *r = &g->tape[i];
        if (!r->out->grad) continue;
        r->bwd(g, r);
        release_grad(g, r);
    }
}
