/* Task sequences built from Fashion-MNIST (Debian's dataset-fashion-mnist, read
 * by dl_fashion_mnist_load in src/io/data.c):
 *   split    task-incremental Split-Fashion-MNIST, five two-class tasks with
 *            their own heads (the paper's protocol on Split-CIFAR: multi-head,
 *            task id given); grouping by class family: clothing / footwear+bag;
 *   rotated  all ten classes under rotations 0, 90, 15, 105, 30 degrees, one
 *            ten-way head per task; grouping by |angle difference| < 45. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/data.h"
#include "dynlab/rng.h"
#include "rehearsal/rehearsal.h"

void rh_task_set_free(rh_task_set *s)
{
    free(s->xtr); free(s->xte); free(s->ytr); free(s->yte);
    memset(s, 0, sizeof *s);
}

static int alloc_set(rh_task_set *s, int T, int C, int ntr, int nte, int dim)
{
    memset(s, 0, sizeof *s);
    s->T = T; s->C = C; s->n_train = ntr; s->n_test = nte; s->dim = dim;
    s->xtr = malloc(sizeof(float) * (size_t)T * ntr * dim);
    s->xte = malloc(sizeof(float) * (size_t)T * nte * dim);
    s->ytr = malloc(sizeof(int) * (size_t)T * ntr);
    s->yte = malloc(sizeof(int) * (size_t)T * nte);
    if (!s->xtr || !s->xte || !s->ytr || !s->yte) { rh_task_set_free(s); return -1; }
    return 0;
}

static int *shuffled(int n, dl_rng *r)
{
    int *idx = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!idx) return NULL;
    for (int i = 0; i < n; i++) idx[i] = i;
    dl_rng_shuffle_int(r, idx, n);
    return idx;
}

/* Take the first `want` images (in shuffled order) whose label is a or b. */
static int take_pair(const dl_mnist *m, const int *order, int a, int b, int want, float *x, int *y)
{
    const int dim = m->h * m->w;
    int got = 0;
    for (int k = 0; k < m->n && got < want; k++) {
        int i = order[k], l = m->labels[i];
        if (l != a && l != b) continue;
        memcpy(x + (size_t)got * dim, m->images + (size_t)i * dim, sizeof(float) * (size_t)dim);
        y[got++] = l == a ? 0 : 1;
    }
    return got == want ? 0 : -1;
}

int rh_split_fmnist(const dl_mnist *tr, const dl_mnist *te, int n_train, int n_test, uint64_t seed,
                    uint64_t stream, rh_task_set *out)
{
    static const int pairs[5][2] = {{0, 6}, {5, 7}, {2, 4}, {9, 8}, {1, 3}};
    static const int group[5] = {0, 1, 0, 1, 0}; /* clothing: T1, T3, T5; footwear and bag: T2, T4 */
    const int dim = tr->h * tr->w;
    if (alloc_set(out, 5, 2, n_train, n_test, dim)) return -1;
    dl_rng r;
    dl_rng_init(&r, seed, stream);
    int *otr = shuffled(tr->n, &r), *ote = shuffled(te->n, &r);
    int rc = (!otr || !ote) ? -1 : 0;
    for (int t = 0; t < 5 && !rc; t++) {
        rc |= take_pair(tr, otr, pairs[t][0], pairs[t][1], n_train, out->xtr + (size_t)t * n_train * dim,
                        out->ytr + (size_t)t * n_train);
        rc |= take_pair(te, ote, pairs[t][0], pairs[t][1], n_test, out->xte + (size_t)t * n_test * dim,
                        out->yte + (size_t)t * n_test);
        out->group[t] = group[t];
    }
    free(otr); free(ote);
    if (rc) { rh_task_set_free(out); return -1; }
    strcpy(out->name, "split");
    return 0;
}

void rh_rotate_image(const float *in, float *out, int h, int w, double deg)
{
    const double a = deg * 3.14159265358979323846 / 180.0, ca = cos(a), sa = sin(a);
    const double cy = (h - 1) / 2.0, cx = (w - 1) / 2.0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            /* inverse map: the source pixel that lands on (x, y) */
            double dx = x - cx, dy = y - cy;
            double sx = ca * dx + sa * dy + cx, sy = -sa * dx + ca * dy + cy;
            int x0 = (int)floor(sx), y0 = (int)floor(sy);
            double fx = sx - x0, fy = sy - y0, v = 0;
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < 2; i++) {
                    int xx = x0 + i, yy = y0 + j;
                    if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
                    v += (i ? fx : 1 - fx) * (j ? fy : 1 - fy) * in[yy * w + xx];
                }
            out[y * w + x] = (float)v;
        }
}

int rh_rotated_fmnist(const dl_mnist *tr, const dl_mnist *te, int n_train, int n_test, uint64_t seed,
                      uint64_t stream, rh_task_set *out)
{
    static const double angle[5] = {0, 90, 15, 105, 30};
    const int dim = tr->h * tr->w, T = 5;
    if (tr->n < T * n_train || te->n < T * n_test) return -1;
    if (alloc_set(out, T, 10, n_train, n_test, dim)) return -1;
    dl_rng r;
    dl_rng_init(&r, seed, stream);
    int *otr = shuffled(tr->n, &r), *ote = shuffled(te->n, &r);
    if (!otr || !ote) { free(otr); free(ote); rh_task_set_free(out); return -1; }
    for (int t = 0; t < T; t++) {
        /* each task its own images (a disjoint chunk of the shuffle), rotated */
        for (int k = 0; k < n_train; k++) {
            int i = otr[t * n_train + k];
            rh_rotate_image(tr->images + (size_t)i * dim, out->xtr + ((size_t)t * n_train + k) * dim, tr->h, tr->w, angle[t]);
            out->ytr[(size_t)t * n_train + k] = tr->labels[i];
        }
        for (int k = 0; k < n_test; k++) {
            int i = ote[t * n_test + k];
            rh_rotate_image(te->images + (size_t)i * dim, out->xte + ((size_t)t * n_test + k) * dim, te->h, te->w, angle[t]);
            out->yte[(size_t)t * n_test + k] = te->labels[i];
        }
        out->group[t] = angle[t] < 45 ? 0 : 1;
    }
    free(otr); free(ote);
    strcpy(out->name, "rotated");
    return 0;
}
