/* The linear probe: multinomial logistic regression on frozen, standardised
 * features (mean and std of the probe's training rows), full-batch gradient
 * descent with a small L2 penalty; and the distribution shifts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ssl/ssl.h"

void ssl_probe_fit(ssl_probe *p, const float *f, const int *y, int n, int d, int k, int iters)
{
    p->d = d; p->k = k;
    p->w = calloc((size_t)k * (d + 1), sizeof(double));
    p->mean = calloc((size_t)d, sizeof(double));
    p->std = calloc((size_t)d, sizeof(double));
    for (int j = 0; j < d; j++) {
        double m = 0, v = 0;
        for (int i = 0; i < n; i++) m += f[(size_t)i * d + j];
        m /= n;
        for (int i = 0; i < n; i++) v += (f[(size_t)i * d + j] - m) * (f[(size_t)i * d + j] - m);
        p->mean[j] = m;
        p->std[j] = sqrt(v / n) + 1e-6;
    }
    double *x = malloc(sizeof(double) * (size_t)n * (d + 1));
    double *gr = malloc(sizeof(double) * (size_t)k * (d + 1)), *pr = malloc(sizeof(double) * (size_t)k);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < d; j++) x[(size_t)i * (d + 1) + j] = (f[(size_t)i * d + j] - p->mean[j]) / p->std[j];
        x[(size_t)i * (d + 1) + d] = 1.0;
    }
    const double lr = 0.5, l2 = 1e-3;
    for (int it = 0; it < iters; it++) {
        memset(gr, 0, sizeof(double) * (size_t)k * (d + 1));
        for (int i = 0; i < n; i++) {
            const double *xi = x + (size_t)i * (d + 1);
            double mx = -INFINITY, s = 0;
            for (int c = 0; c < k; c++) {
                double z = 0;
                for (int j = 0; j <= d; j++) z += p->w[(size_t)c * (d + 1) + j] * xi[j];
                pr[c] = z;
                if (z > mx) mx = z;
            }
            for (int c = 0; c < k; c++) s += (pr[c] = exp(pr[c] - mx));
            for (int c = 0; c < k; c++) {
                double e = pr[c] / s - (c == y[i]);
                for (int j = 0; j <= d; j++) gr[(size_t)c * (d + 1) + j] += e * xi[j];
            }
        }
        for (int q = 0; q < k * (d + 1); q++) p->w[q] -= lr * (gr[q] / n + l2 * p->w[q]);
    }
    free(x); free(gr); free(pr);
}

double ssl_probe_accuracy(const ssl_probe *p, const float *f, const int *y, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++) {
        int best = 0;
        double bz = -INFINITY;
        for (int c = 0; c < p->k; c++) {
            double z = p->w[(size_t)c * (p->d + 1) + p->d];
            for (int j = 0; j < p->d; j++)
                z += p->w[(size_t)c * (p->d + 1) + j] * (f[(size_t)i * p->d + j] - p->mean[j]) / p->std[j];
            if (z > bz) { bz = z; best = c; }
        }
        ok += best == y[i];
    }
    return n ? (double)ok / n : NAN;
}

void ssl_probe_free(ssl_probe *p)
{
    free(p->w); free(p->mean); free(p->std);
    memset(p, 0, sizeof *p);
}

/* Covariate shifts of the test inputs: additive Gaussian noise (sigma in input
 * units: pixels in [0, 1], standardised table features), a brightness offset
 * (images, clamped to [0, 1]) and a feature scaling (every input times s). */
void ssl_apply_shift(const ssl_data *D, const float *in, float *out, int n, int shift, const ssl_cfg *c, dl_rng *r)
{
    const size_t m = (size_t)n * D->d;
    for (size_t i = 0; i < m; i++) {
        float v = in[i];
        if (shift == SSL_SHIFT_NOISE) v += (float)(c->shift_noise * dl_rng_normal(r));
        else if (shift == SSL_SHIFT_BRIGHTNESS) v = fminf(1.f, v + (float)c->shift_brightness);
        else v *= (float)c->shift_scale;
        out[i] = v;
    }
}
