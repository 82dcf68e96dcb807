/* Tensor helpers shared by the ops: shapes, error reporting, broadcasting,
 * deterministic reductions. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/internal.h"

int64_t dl_shape_size(int ndim, const int *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    return n;
}

void dl_fatal(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("dynlab: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

const char *dl_shape_str(const dl_tensor *t, char *buf, size_t n) {
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "[");
    for (int i = 0; i < t->ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? ", %d" : "%d", t->shape[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
    return buf;
}

int dl_norm_axis(const char *op, const dl_tensor *x, int axis) {
    int a = axis < 0 ? axis + x->ndim : axis;
    if (a < 0 || a >= x->ndim) {
        char s[64];
        dl_fatal("%s: axis %d out of range for shape %s", op, axis, dl_shape_str(x, s, sizeof s));
    }
    return a;
}

void dl_broadcast_check(const char *op, const dl_tensor *a, const dl_tensor *b, int64_t *outer,
                        int64_t *inner) {
    if (b->size == 1) {
        *outer = a->size;
        *inner = 1;
        return;
    }
    /* Leading size-1 dims of b are ignored ([1, D] broadcasts like [D]). */
    int bs = 0;
    while (bs < b->ndim && b->shape[bs] == 1) bs++;
    int nb = b->ndim - bs;
    int ok = nb <= a->ndim;
    for (int i = 0; ok && i < nb; i++) ok = b->shape[bs + i] == a->shape[a->ndim - nb + i];
    if (!ok) {
        char sa[64], sb[64];
        dl_fatal("%s: shape %s does not broadcast onto %s (b must be a trailing suffix of a, or a scalar)",
                 op, dl_shape_str(b, sb, sizeof sb), dl_shape_str(a, sa, sizeof sa));
    }
    *inner = b->size;
    *outer = a->size / b->size;
}

#define DL_SUM_BLOCK 4096

double dl_sum_det(const float *x, int64_t n) {
    if (n <= DL_SUM_BLOCK) {
        double s = 0;
        for (int64_t i = 0; i < n; i++) s += x[i];
        return s;
    }
    /* Fixed blocks summed in parallel, then block sums in order: same bits for any
     * thread count. */
    int64_t nb = (n + DL_SUM_BLOCK - 1) / DL_SUM_BLOCK;
    double stack_part[4096]; /* up to 16.7M elements without touching the heap */
    double *part = nb <= 4096 ? stack_part : malloc((size_t)nb * sizeof(double));
    if (!part) dl_fatal("out of memory in a reduction");
#pragma omp parallel for schedule(static) if (n > DL_PAR_MIN)
    for (int64_t b = 0; b < nb; b++) {
        int64_t lo = b * DL_SUM_BLOCK, hi = lo + DL_SUM_BLOCK < n ? lo + DL_SUM_BLOCK : n;
        double s = 0;
        for (int64_t i = lo; i < hi; i += 64) /* float partials of 64, summed in double */
            s += dl_k_sum(x + i, hi - i < 64 ? hi - i : 64);
        part[b] = s;
    }
    double s = 0;
    for (int64_t b = 0; b < nb; b++) s += part[b];
    if (part != stack_part) free(part);
    return s;
}

/* Same dispatch as vmath.c's kernels (gcc: AVX-512 / AVX2 / baseline clones). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(DL_NO_CLONES)
#define SUM_ROWS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SUM_ROWS_CLONES
#endif

/* acc[0..w) += rows [0, rows) of x (row stride ld), w <= 64, rows added in order:
 * the running sums stay in a 64-float block across rows instead of a call per row
 * (bias and layernorm gradients sum thousands of 32-wide rows). */
SUM_ROWS_CLONES static void sum_rows_block(float *restrict acc, const float *restrict x, int64_t rows,
                                           int64_t ld, int w) {
    float loc[64];
    for (int j = 0; j < w; j++) loc[j] = acc[j];
    if (w == 64) {
        for (int64_t o = 0; o < rows; o++)
#pragma omp simd
            for (int j = 0; j < 64; j++) loc[j] += x[o * ld + j];
    } else if (w == 32) {
        for (int64_t o = 0; o < rows; o++)
#pragma omp simd
            for (int j = 0; j < 32; j++) loc[j] += x[o * ld + j];
    } else {
        for (int64_t o = 0; o < rows; o++)
            for (int j = 0; j < w; j++) loc[j] += x[o * ld + j];
    }
    for (int j = 0; j < w; j++) acc[j] = loc[j];
}

void dl_sum_rows_into(float *acc, const float *x, int64_t outer, int64_t inner) {
    /* Columns in blocks of 64 (split across threads when large); each column is
     * summed in row order, so the result is the same for any thread count. */
    const int64_t nblk = (inner + 63) / 64;
#pragma omp parallel for schedule(static) if (nblk > 1 && outer * inner > DL_PAR_MIN)
    for (int64_t b = 0; b < nblk; b++) {
        const int64_t j0 = b * 64;
        sum_rows_block(acc + j0, x + j0, outer, inner, (int)(inner - j0 < 64 ? inner - j0 : 64));
    }
}
