/* k-nearest-neighbour evaluation of frozen features (cosine similarity, as
 * the k-NN monitor of Wu et al. 2018 and of SimCLR-style evaluations):
 * few-label classification by a similarity-weighted vote of the k most
 * similar labelled rows, and an anomaly score (one minus the mean similarity
 * of the k most similar reference rows) with its AUROC. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ssl/ssl.h"

/* Rows of f [n, d] scaled to unit length (a zero row stays zero). */
static float *unit_rows(const float *f, int n, int d)
{
    float *u = malloc(sizeof(float) * (size_t)n * d);
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < d; j++) s += (double)f[(size_t)i * d + j] * f[(size_t)i * d + j];
        float inv = s > 0 ? (float)(1.0 / sqrt(s)) : 0.f;
        for (int j = 0; j < d; j++) u[(size_t)i * d + j] = f[(size_t)i * d + j] * inv;
    }
    return u;
}

/* The k largest similarities of query q against the n unit rows of R, in
 * decreasing order (sim, idx of length k; k <= n). */
static void top_k(const float *q, const float *R, int n, int d, int k, float *sim, int *idx)
{
    for (int t = 0; t < k; t++) { sim[t] = -INFINITY; idx[t] = -1; }
    for (int i = 0; i < n; i++) {
        float s = 0;
        for (int j = 0; j < d; j++) s += q[j] * R[(size_t)i * d + j];
        if (s <= sim[k - 1]) continue;
        int t = k - 1;
        while (t > 0 && sim[t - 1] < s) { sim[t] = sim[t - 1]; idx[t] = idx[t - 1]; t--; }
        sim[t] = s; idx[t] = i;
    }
}

double ssl_knn_accuracy(const float *ftr, const int *ytr, int ntr, const float *fte, const int *yte, int nte, int d,
                        int n_classes, int k)
{
    if (k > ntr) k = ntr;
    float *R = unit_rows(ftr, ntr, d), *Q = unit_rows(fte, nte, d);
    float *sim = malloc(sizeof(float) * (size_t)k);
    int *idx = malloc(sizeof(int) * (size_t)k);
    double *vote = malloc(sizeof(double) * (size_t)n_classes);
    int ok = 0;
    for (int i = 0; i < nte; i++) {
        top_k(Q + (size_t)i * d, R, ntr, d, k, sim, idx);
        memset(vote, 0, sizeof(double) * (size_t)n_classes);
        /* weight 1 + sim (>= 0) so that a tie in counts goes to the more similar class */
        for (int t = 0; t < k; t++) vote[ytr[idx[t]]] += 1.0 + sim[t];
        int best = 0;
        for (int c = 1; c < n_classes; c++)
            if (vote[c] > vote[best]) best = c;
        ok += best == yte[i];
    }
    free(R); free(Q); free(sim); free(idx); free(vote);
    return nte ? (double)ok / nte : NAN;
}

void ssl_knn_score(const float *fref, int nref, const float *fq, int nq, int d, int k, double *score)
{
    if (k > nref) k = nref;
    float *R = unit_rows(fref, nref, d), *Q = unit_rows(fq, nq, d);
    float *sim = malloc(sizeof(float) * (size_t)k);
    int *idx = malloc(sizeof(int) * (size_t)k);
    for (int i = 0; i < nq; i++) {
        top_k(Q + (size_t)i * d, R, nref, d, k, sim, idx);
        double s = 0;
        for (int t = 0; t < k; t++) s += sim[t];
        score[i] = 1.0 - s / k;
    }
    free(R); free(Q); free(sim); free(idx);
}

/* Mann-Whitney: P(score of a positive > score of a negative), ties count 1/2. */
static int cmp_pair(const void *a, const void *b)
{
    const double *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

double ssl_auroc(const double *score, const int *positive, int n)
{
    double *p = malloc(sizeof(double) * 2 * (size_t)n);
    for (int i = 0; i < n; i++) { p[2 * i] = score[i]; p[2 * i + 1] = positive[i] ? 1 : 0; }
    qsort(p, (size_t)n, 2 * sizeof(double), cmp_pair);
    double rank_sum = 0;
    long npos = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && p[2 * j] == p[2 * i]) j++;
        double r = 0.5 * (i + 1 + j); /* mean rank of the tie block (1-based) */
        for (int t = i; t < j; t++)
            if (p[2 * t + 1] > 0) { rank_sum += r; npos++; }
        i = j;
    }
    free(p);
    long nneg = n - npos;
    if (!npos || !nneg) return NAN;
    return (rank_sum - (double)npos * (npos + 1) / 2) / ((double)npos * nneg);
}
