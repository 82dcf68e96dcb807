/* Fashion-MNIST task mixture (our reconstruction, docs/papers/mot.md, after ref. [9]'s MNIST trick):
 * N binary sub-tasks built from pairs of classes; each sample is a
 * task-identifier token followed by patch tokens of its image. */
#include <stdlib.h>
#include <string.h>
#include "dynlab/data.h"
#include "mot/mot.h"

enum { FM_SIDE = 14, FM_PATCH = 7, FM_NPATCH = 4, FM_P = FM_PATCH * FM_PATCH };

int mot_fmnist_build(mot_data *D, const struct dl_mnist *src, const int (*tasks)[2], int n_tasks,
                     double beta, int max_n, uint64_t seed, uint64_t stream)
{
    memset(D, 0, sizeof *D);
    const int L = 1 + FM_NPATCH, d = FM_P + n_tasks;
    /* pick the images of each task's two classes; a class may serve several tasks */
    int *pick = malloc(sizeof(int) * (size_t)src->n * n_tasks);
    int *ptask = malloc(sizeof(int) * (size_t)src->n * n_tasks);
    if (!pick || !ptask) { free(pick); free(ptask); return -1; }
    int np = 0;
    for (int i = 0; i < src->n; i++)
        for (int t = 0; t < n_tasks; t++)
            if (src->labels[i] == tasks[t][0] || src->labels[i] == tasks[t][1]) {
                pick[np] = i; ptask[np] = t; np++;
            }
    /* shuffle (deterministic) and keep max_n */
    dl_rng r;
    dl_rng_init(&r, seed, stream);
    for (int i = np - 1; i > 0; i--) {
        int j = (int)dl_rng_below(&r, (uint32_t)(i + 1));
        int a = pick[i]; pick[i] = pick[j]; pick[j] = a;
        a = ptask[i]; ptask[i] = ptask[j]; ptask[j] = a;
    }
    int n = np < max_n ? np : max_n;
    D->n = n; D->L = L; D->d = d;
    D->x = calloc((size_t)n * L * d, sizeof(float));
    D->y = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    D->cls = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    D->sig_pos = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!D->x || !D->y || !D->cls || !D->sig_pos || n == 0) {
        free(pick); free(ptask); mot_data_free(D); return -1;
    }
    for (int s = 0; s < n; s++) {
        const float *img = src->images + (size_t)pick[s] * src->h * src->w;
        int t = ptask[s];
        float *X = D->x + (size_t)s * L * d;
        X[FM_P + t] = (float)beta;
        for (int p = 0; p < FM_NPATCH; p++) {
            int py = (p / 2) * FM_PATCH, px = (p % 2) * FM_PATCH;
            float *tok = X + (size_t)(1 + p) * d;
            for (int yy = 0; yy < FM_PATCH; yy++)
                for (int xx = 0; xx < FM_PATCH; xx++) {
                    /* 2x2 average pooling 28x28 -> 14x14 */
                    int sy = 2 * (py + yy), sx = 2 * (px + xx);
                    float v = 0.25f * (img[sy * src->w + sx] + img[sy * src->w + sx + 1] +
                                       img[(sy + 1) * src->w + sx] + img[(sy + 1) * src->w + sx + 1]);
                    tok[yy * FM_PATCH + xx] = v - 0.5f;
                }
        }
        D->y[s] = src->labels[pick[s]] == tasks[t][0] ? 1.f : -1.f;
        D->cls[s] = t;
        D->sig_pos[s] = -1;
    }
    free(pick); free(ptask);
    return 0;
}
