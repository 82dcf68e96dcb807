/* The persistent parameter store: named tensors with their own gradient buffers. */
#include <stdlib.h>
#include <string.h>
#include "core/internal.h"

static void *zalloc64(size_t bytes) {
    size_t n = (bytes + 63) / 64 * 64;
    void *p = dl_alloc_big(n); /* huge pages from 2 MB on (bigalloc.c) */
    if (!p) dl_fatal("out of memory allocating a parameter (%zu bytes)", bytes);
    memset(p, 0, n ? n : 64);
    return p;
}

void dl_params_init(dl_params *ps) { memset(ps, 0, sizeof *ps); }

void dl_params_free(dl_params *ps) {
    for (int i = 0; i < ps->n; i++) {
        dl_tensor *t = ps->items[i];
        free(t->data);
        free(t->grad);
        free((char *)t->name);
        free(t);
    }
    free(ps->items);
    memset(ps, 0, sizeof *ps);
}

dl_tensor *dl_param_new(dl_params *ps, const char *name, int ndim, const int *shape) {
    if (ndim < 0 || ndim > DL_MAX_DIMS) dl_fatal("parameter %s: rank %d outside 0..%d", name, ndim, DL_MAX_DIMS);
    for (int i = 0; i < ndim; i++)
        if (shape[i] <= 0) dl_fatal("parameter %s: dimension %d is %d", name, i, shape[i]);
    if (dl_params_find(ps, name)) dl_fatal("parameter %s defined twice", name);
    if (ps->n == ps->cap) {
        int nc = ps->cap ? 2 * ps->cap : 32;
        dl_tensor **it = realloc(ps->items, (size_t)nc * sizeof *it);
        if (!it) dl_fatal("out of memory growing the parameter store");
        ps->items = it;
        ps->cap = nc;
    }
    dl_tensor *t = calloc(1, sizeof *t);
    char *nm = malloc(strlen(name) + 1);
    if (!t || !nm) dl_fatal("out of memory allocating parameter %s", name);
    strcpy(nm, name);
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->size = dl_shape_size(ndim, shape);
    t->data = zalloc64((size_t)t->size * sizeof(float));
    t->grad = zalloc64((size_t)t->size * sizeof(float));
    t->requires_grad = 1;
    t->is_param = 1;
    t->index = ps->n;
    t->name = nm;
    ps->items[ps->n++] = t;
    return t;
}

dl_tensor *dl_buffer_new(dl_params *ps, const char *name, int ndim, const int *shape) {
    dl_tensor *t = dl_param_new(ps, name, ndim, shape);
    t->requires_grad = 0;
    t->is_buffer = 1;
    return t;
}

dl_tensor *dl_params_find(const dl_params *ps, const char *name) {
    for (int i = 0; i < ps->n; i++)
        if (strcmp(ps->items[i]->name, name) == 0) return ps->items[i];
    return NULL;
}

void dl_params_zero_grad(dl_params *ps) {
    for (int i = 0; i < ps->n; i++)
        memset(ps->items[i]->grad, 0, (size_t)ps->items[i]->size * sizeof(float));
}

int64_t dl_params_count(const dl_params *ps) {
    int64_t n = 0;
    for (int i = 0; i < ps->n; i++) n += ps->items[i]->size;
    return n;
}

void dl_params_set_trainable(dl_params *ps, const char *prefix, int trainable) {
    size_t k = strlen(prefix);
    for (int i = 0; i < ps->n; i++)
        if (strncmp(ps->items[i]->name, prefix, k) == 0 && !ps->items[i]->is_buffer)
            ps->items[i]->requires_grad = trainable != 0;
}
