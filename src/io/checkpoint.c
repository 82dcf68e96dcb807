/* Training checkpoints on top of safetensors.
 *
 * Layout (all tensors little-endian):
 *   "<param>"            F32, the parameter's shape      (every parameter, store order)
 *   "<param>.adam_m/v"   F32, Adam/AdamW moments          (when allocated)
 *   "<param>.momentum"   F32, SGD momentum buffer         (when allocated)
 *   "step"               I64[1], training step to resume at
 *   "optim.step"         I64[1], optimizer step count (Adam bias correction)
 *   "rng_state"          I64[n], caller's RNG words (uint64 bit patterns)
 *   __metadata__: format=dynlab-checkpoint-2, optimizer=sgd|adam|adamw,
 *                 dynlab_crc32=<CRC-32 of the data section> (src/io/safetensors.c)
 * Every optimizer state tensor is written, zeros for a buffer not yet
 * allocated (the optimizers start from zero buffers, so this resumes
 * bitwise-identically), and loading requires every one of them: a missing
 * tensor is an error, never a silent zero. Loading validates everything
 * (checksum, names, shapes, no unexpected tensor, optimizer kind, 0 <=
 * optim.step <= step, RNG length, finite values) before it changes any
 * parameter, so a bad file leaves the model as it was. Non-finite parameters or optimizer state are refused both
 * ways: saving them would overwrite the last good checkpoint with a diverged
 * model, and resuming from them can only produce NaN losses. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/checkpoint.h"

#define CKPT_FORMAT "dynlab-checkpoint-2" /* -1 had no checksum and optional state */

static const char *kind_name(dl_opt_kind k) {
    return k == DL_OPT_SGD ? "sgd" : k == DL_OPT_ADAM ? "adam" : "adamw";
}

static void state_names(const dl_optim *o, const char **s1, const char **s2) {
    if (o->kind == DL_OPT_SGD) {
        *s1 = "momentum";
        *s2 = NULL;
    } else {
        *s1 = "adam_m";
        *s2 = "adam_v";
    }
}

/* Index of the first NaN/inf among n floats, or -1. */
static int64_t first_non_finite(const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return -1;
}

/* "<path>: <what> '<name>' holds nan at element 12<tail>" when x has a NaN/inf. */
static int check_finite_tensor(const char *path, const char *what, const char *name, const float *x,
                               int64_t n, const char *tail, char *err, size_t errlen) {
    int64_t i = first_non_finite(x, n);
    if (i < 0) return 0;
    snprintf(err, errlen, "%s: %s '%s' holds %s at element %lld%s", path, what, name,
             isnan(x[i]) ? "NaN" : x[i] > 0 ? "+inf" : "-inf", (long long)i, tail);
    return -1;
}

int dl_checkpoint_save(const char *path, const dl_params *ps, const dl_optim *o, int64_t step,
                       const uint64_t *rng_state, int n_rng, char *err, size_t errlen) {
    char name[512];
    static const char not_written[] = "; checkpoint not written, the previous one is kept";
    for (int i = 0; i < ps->n; i++) {
        const dl_tensor *t = ps->items[i];
        if (check_finite_tensor(path, "parameter", t->name, t->data, t->size, not_written, err, errlen))
            return -1;
    }
    if (o) {
        const char *s1, *s2;
        state_names(o, &s1, &s2);
        for (int i = 0; i < ps->n && i < o->n_state; i++) {
            const dl_tensor *t = ps->items[i];
            for (int j = 0; j < 2; j++) {
                const float *x = j ? (s2 && o->v ? o->v[i] : NULL) : (o->m ? o->m[i] : NULL);
                if (!x) continue;
                snprintf(name, sizeof name, "%s.%s", t->name, j ? s2 : s1);
                if (check_finite_tensor(path, "optimizer state", name, x, t->size, not_written, err,
                                        errlen))
                    return -1;
            }
        }
    }
    dl_st_writer *w = dl_st_writer_new();
    dl_st_add_meta(w, "format", CKPT_FORMAT);
    if (o) dl_st_add_meta(w, "optimizer", kind_name(o->kind));
    for (int i = 0; i < ps->n; i++) {
        const dl_tensor *t = ps->items[i];
        dl_st_add_f32(w, t->name, t->data, t->ndim, t->shape);
    }
    if (o) {
        const char *s1, *s2;
        state_names(o, &s1, &s2);
        float *zeros = NULL; /* stands for buffers not allocated yet */
        for (int i = 0; i < ps->n; i++) {
            const dl_tensor *t = ps->items[i];
            for (int j = 0; j < 2; j++) {
                const char *sfx = j ? s2 : s1;
                if (!sfx) continue;
                float **tab = j ? o->v : o->m;
                const float *x = tab && i < o->n_state ? tab[i] : NULL;
                if (!x) {
                    free(zeros);
                    zeros = calloc((size_t)(t->size > 0 ? t->size : 1), sizeof(float));
                    if (!zeros) abort();
                    x = zeros;
                }
                snprintf(name, sizeof name, "%s.%s", t->name, sfx);
                dl_st_add_f32(w, name, x, t->ndim, t->shape);
            }
        }
        free(zeros);
        int64_t os = o->step;
        dl_st_add_i64(w, "optim.step", &os, 1);
    }
    dl_st_add_i64(w, "step", &step, 1);
    if (n_rng > 0) {
        int64_t *r = malloc((size_t)n_rng * sizeof *r);
        if (!r) abort();
        memcpy(r, rng_state, (size_t)n_rng * sizeof *r);
        dl_st_add_i64(w, "rng_state", r, n_rng);
        free(r);
    }
    int rc = dl_st_write(w, path, err, errlen);
    dl_st_writer_free(w);
    return rc;
}

static int same_shape(const dl_tensor *t, int ndim, const int *shape) {
    if (ndim != t->ndim) return 0;
    for (int d = 0; d < ndim; d++)
        if (shape[d] != t->shape[d]) return 0;
    return 1;
}

static void shape_str(char *buf, size_t n, int ndim, const int *shape) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < ndim && k < n; d++) k += (size_t)snprintf(buf + k, n - k, d ? ",%d" : "%d", shape[d]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

int dl_checkpoint_load(const char *path, dl_params *ps, dl_optim *o, int64_t *step,
                       uint64_t *rng_state, int n_rng, char *err, size_t errlen) {
    dl_st_file *f = dl_st_open(path, err, errlen);
    if (!f) return -1;
    const char *fmt = dl_st_meta(f, "format");
    int ndim, shape[DL_MAX_DIMS];
    char name[512], a[64], b[64];
    int rc = -1;
    if (fmt && strcmp(fmt, "dynlab-checkpoint-1") == 0) {
        snprintf(err, errlen, "%s: checkpoint format dynlab-checkpoint-1 (written by an older dynlab, "
                 "without a checksum) cannot be resumed; start a fresh run", path);
        goto out;
    }
    if (!fmt || strcmp(fmt, CKPT_FORMAT) != 0) {
        snprintf(err, errlen, "%s: not a dynlab checkpoint (metadata format missing)", path);
        goto out;
    }
    if (!dl_st_has_checksum(f)) {
        snprintf(err, errlen, "%s: checkpoint has no content checksum (metadata dynlab_crc32)", path);
        goto out;
    }
    /* Every tensor must be one this model and optimizer expect. */
    for (int k = 0; k < dl_st_count(f); k++) {
        const char *nm = dl_st_name(f, k);
        int known = !strcmp(nm, "step") || !strcmp(nm, "optim.step") || !strcmp(nm, "rng_state");
        for (int i = 0; i < ps->n && !known; i++) {
            const char *pn = ps->items[i]->name;
            size_t pl = strlen(pn);
            if (strncmp(nm, pn, pl) != 0) continue;
            if (nm[pl] == 0) known = 1;
            else if (nm[pl] == '.')
                known = !strcmp(nm + pl + 1, "adam_m") || !strcmp(nm + pl + 1, "adam_v") ||
                        !strcmp(nm + pl + 1, "momentum");
        }
        if (!known) {
            snprintf(err, errlen, "%s: unexpected tensor '%.200s' (not a parameter of this model "
                     "or its optimizer state)", path, nm);
            goto out;
        }
    }
    /* Pass 1: validate. */
    for (int i = 0; i < ps->n; i++) {
        const dl_tensor *t = ps->items[i];
        const float *x = dl_st_get_f32(f, t->name, &ndim, shape);
        if (!x) {
            snprintf(err, errlen, "%s: parameter '%s' missing (or not F32)", path, t->name);
            goto out;
        }
        if (!same_shape(t, ndim, shape)) {
            shape_str(a, sizeof a, ndim, shape);
            shape_str(b, sizeof b, t->ndim, t->shape);
            snprintf(err, errlen, "%s: parameter '%s' has shape %s in the file, %s in the model",
                     path, t->name, a, b);
            goto out;
        }
        if (check_finite_tensor(path, "parameter", t->name, x, t->size, " (corrupted or diverged)",
                                err, errlen))
            goto out;
    }
    const char *s1 = NULL, *s2 = NULL;
    if (o) {
        const char *k = dl_st_meta(f, "optimizer");
        if (!k || strcmp(k, kind_name(o->kind)) != 0) {
            snprintf(err, errlen, "%s: optimizer '%s' in the file, '%s' in the run", path,
                     k ? k : "(none)", kind_name(o->kind));
            goto out;
        }
        int64_t n;
        const int64_t *os = dl_st_get_i64(f, "optim.step", &n);
        const int64_t *sp = dl_st_get_i64(f, "step", NULL);
        if (!os || n != 1) {
            snprintf(err, errlen, "%s: 'optim.step' missing", path);
            goto out;
        }
        /* At most one optimizer update per training step; a negative count
         * would turn Adam's bias correction around. */
        if (os[0] < 0 || (sp && os[0] > sp[0])) {
            snprintf(err, errlen, "%s: 'optim.step' is %lld, outside [0, step = %lld]", path,
                     (long long)os[0], sp ? (long long)sp[0] : 0LL);
            goto out;
        }
        state_names(o, &s1, &s2);
        for (int i = 0; i < ps->n; i++) {
            const dl_tensor *t = ps->items[i];
            for (int j = 0; j < 2; j++) {
                const char *sfx = j ? s2 : s1;
                if (!sfx) continue;
                snprintf(name, sizeof name, "%s.%s", t->name, sfx);
                const float *x = dl_st_get_f32(f, name, &ndim, shape);
                if (!x) {
                    snprintf(err, errlen, "%s: optimizer state '%s' missing (or not F32)", path, name);
                    goto out;
                }
                if (!same_shape(t, ndim, shape)) {
                    snprintf(err, errlen, "%s: optimizer state '%s' has the wrong shape", path, name);
                    goto out;
                }
                if (check_finite_tensor(path, "optimizer state", name, x, t->size,
                                             " (corrupted or diverged)", err, errlen))
                    goto out;
            }
        }
    }
    int64_t n;
    const int64_t *st = dl_st_get_i64(f, "step", &n);
    if (!st || n != 1 || st[0] < 0 || st[0] > ((int64_t)1 << 53)) {
        snprintf(err, errlen, "%s: 'step' missing or invalid", path);
        goto out;
    }
    const int64_t *rs = NULL;
    if (n_rng > 0) {
        rs = dl_st_get_i64(f, "rng_state", &n);
        if (!rs || n != n_rng) {
            snprintf(err, errlen, "%s: 'rng_state' missing or of length %lld (expected %d)", path,
                     rs ? (long long)n : 0LL, n_rng);
            goto out;
        }
    }
    /* Pass 2: copy. */
    for (int i = 0; i < ps->n; i++) {
        dl_tensor *t = ps->items[i];
        memcpy(t->data, dl_st_get_f32(f, t->name, NULL, NULL), (size_t)t->size * sizeof(float));
    }
    if (o) {
        o->step = dl_st_get_i64(f, "optim.step", NULL)[0];
        /* Make sure the state tables cover the store (as dl_optim_step does). */
        if (o->n_state < ps->n) {
            float **m = realloc(o->m, (size_t)ps->n * sizeof *m);
            float **v = m ? realloc(o->v, (size_t)ps->n * sizeof *v) : NULL;
            if (!m || !v) abort();
            for (int i = o->n_state; i < ps->n; i++) m[i] = v[i] = NULL;
            o->m = m;
            o->v = v;
            o->n_state = ps->n;
        }
        for (int i = 0; i < ps->n; i++) {
            dl_tensor *t = ps->items[i];
            for (int j = 0; j < 2; j++) {
                const char *sfx = j ? s2 : s1;
                if (!sfx) continue;
                float **slot = j ? &o->v[i] : &o->m[i];
                snprintf(name, sizeof name, "%s.%s", t->name, sfx);
                const float *src = dl_st_get_f32(f, name, NULL, NULL); /* checked above */
                if (!*slot) {
                    *slot = malloc((size_t)(t->size > 0 ? t->size : 1) * sizeof(float));
                    if (!*slot) abort();
                }
                memcpy(*slot, src, (size_t)t->size * sizeof(float));
            }
        }
    }
    if (step) *step = st[0];
    if (rs) memcpy(rng_state, rs, (size_t)n_rng * sizeof *rng_state);
    rc = 0;
out:
    dl_st_close(f);
    /* Names in the message come from the file: keep it one line. */
    for (char *p = err; rc && err && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    return rc;
}
