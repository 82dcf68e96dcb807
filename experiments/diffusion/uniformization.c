/* Uniformization (2506.02318 §3.2 / Thm 3; Chen & Ying 2024 for uniform
 * rates): simulate the reverse CTMC exactly by proposing events of a Poisson
 * process whose intensity lambda(s) bounds the total reverse exit rate, and
 * at each event at forward time sigma jumping to x^{i->b} with probability
 * Q<-_sigma(x, x^{i->b}) / lambda(sigma). We use the time-dependent bound
 * itself as the intensity (thinning), so the expected number of events is
 * exactly its integral, d log((1-e^{-T})/(1-e^{-delta})) for absorbing rates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "diffusion/diffusion.h"

void dd_reverse_law(const dd_proc *p, const double *q0, int d, double T, double delta,
                    const double *init, double *out) {
    const int64_t n = dd_ipow(p->K, d);
    double *qT = malloc((size_t)n * sizeof *qT), *qd = malloc((size_t)n * sizeof *qd);
    double *w = malloc((size_t)n * sizeof *w), *tmp = malloc((size_t)n * sizeof *tmp);
    double P[65 * 65];
    if (!qT || !qd || !w || !tmp) abort();
    dd_marginal(p, q0, d, T, qT, tmp);
    dd_marginal(p, q0, d, delta, qd, tmp);
    for (int64_t x = 0; x < n; x++) w[x] = qT[x] > 0 ? init[x] / qT[x] : 0.0;
    dd_ptrans(p, T - delta, P);
    dd_apply_tok(w, out, P, p->K, d, 1, tmp); /* out[y] = sum_x P(y, x) w(x) */
    for (int64_t y = 0; y < n; y++) out[y] *= qd[y];
    free(qT), free(qd), free(w), free(tmp);
}

double dd_unif_intensity(const dd_proc *p, int d, double s) {
    if (p->rate == DD_ABSORBING) return d / expm1(s);
    return d * (1.0 / -expm1(-s) - 1.0 / p->S);
}

/* Cumulative intensity from 0 (absorbing: d log(1 - e^{-s}) + const;
 * uniform: d (log(e^s - 1) - s/S)); differences give the mass. */
static double cum(const dd_proc *p, int d, double s) {
    if (p->rate == DD_ABSORBING) return d * log(-expm1(-s));
    return d * (log(expm1(s)) - s / p->S);
}

double dd_unif_mass(const dd_proc *p, int d, double delta, double T) {
    return cum(p, d, T) - cum(p, d, delta);
}

/* forward time s in [delta, T] with cum(s) = c (cum is increasing): bisection */
static double cum_inverse(const dd_proc *p, int d, double c, double delta, double T) {
    double lo = delta, hi = T;
    for (int it = 0; it < 80; it++) {
        const double mid = 0.5 * (lo + hi);
        if (cum(p, d, mid) < c) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* q_sigma at one state y (sum over the support of q0). */
static double q_at(const double *q0, int64_t n0, int K, int d, const double *P, const int *ys) {
    double tot = 0;
    int xs[16];
    for (int64_t x = 0; x < n0; x++) {
        if (q0[x] <= 0) continue;
        int64_t rem = x;
        for (int i = d - 1; i >= 0; i--) {
            xs[i] = (int)(rem % K);
            rem /= K;
        }
        double v = q0[x];
        for (int i = 0; i < d && v > 0; i++) v *= P[xs[i] * K + ys[i]];
        tot += v;
    }
    return tot;
}

static void sample_init(const dd_proc *p, int d, double T, dl_rng *r, int *x) {
    for (int i = 0; i < d; i++) {
        if (p->rate == DD_UNIFORM) {
            x[i] = (int)dl_rng_below(r, (uint32_t)p->K);
        } else {
            const double eps = exp(-T);
            x[i] = dl_rng_uniform(r) < eps ? (int)dl_rng_below(r, (uint32_t)(p->K - 1)) : p->mask;
        }
    }
}

int dd_uniformization(const dd_proc *p, const double *q0, int d, double T, double delta,
                      int64_t M, dl_rng *r, dd_unif_result *res) {
    const int K = p->K;
    const int64_t n = dd_ipow(K, d);
    double P[65 * 65], Q[65 * 65], *rates = malloc((size_t)d * K * sizeof *rates);
    int x[16], y[16];
    if (!rates) return -1;
    dd_qtok(p, Q);
    memset(res->counts, 0, (size_t)n * sizeof *res->counts);
    res->mass = dd_unif_mass(p, d, delta, T);
    res->violations = 0;
    double events = 0, jumps = 0;
    const double cT = cum(p, d, T);
    for (int64_t m = 0; m < M; m++) {
        sample_init(p, d, T, r, x);
        /* events in decreasing forward time: cumulative intensity measured
         * down from T by exponential gaps */
        double c = cT;
        for (;;) {
            c -= -log(1.0 - dl_rng_uniform(r));
            if (c <= cT - res->mass) break;
            const double sigma = cum_inverse(p, d, c, delta, T);
            events++;
            dd_ptrans(p, sigma, P);
            const double qx = q_at(q0, n, K, d, P, x);
            double tot = 0;
            for (int i = 0; i < d; i++)
                for (int b = 0; b < K; b++) {
                    double v = 0;
                    if (b != x[i] && Q[b * K + x[i]] > 0 && qx > 0) {
                        memcpy(y, x, (size_t)d * sizeof *y);
                        y[i] = b;
                        v = Q[b * K + x[i]] * q_at(q0, n, K, d, P, y) / qx;
                    }
                    tot += rates[i * K + b] = v;
                }
            const double lam = dd_unif_intensity(p, d, sigma);
            if (tot > lam * (1 + 1e-9)) res->violations++;
            double u = dl_rng_uniform(r) * (tot > lam ? tot : lam);
            for (int j = 0; j < d * K; j++) {
                if (u < rates[j]) {
                    x[j / K] = j % K;
                    jumps++;
                    break;
                }
                u -= rates[j];
            }
        }
        int64_t idx = 0;
        for (int i = 0; i < d; i++) idx = idx * K + x[i];
        res->counts[idx] += 1;
    }
    res->mean_events = events / (double)M;
    res->mean_jumps = jumps / (double)M;
    free(rates);
    return 0;
}

double dd_chi2(const double *counts, const double *law, int64_t n, double M, int *df) {
    double x2 = 0;
    int cells = 0;
    for (int64_t i = 0; i < n; i++) {
        if (law[i] <= 0) {
            if (counts[i] > 0) return INFINITY;
            continue;
        }
        const double e = M * law[i];
        x2 += (counts[i] - e) * (counts[i] - e) / e;
        cells++;
    }
    *df = cells - 1;
    return x2;
}

double dd_chi2_quantile(int df, double z) {
    const double k = df > 0 ? df : 1, h = 2.0 / (9.0 * k);
    const double c = 1 - h + z * sqrt(h);
    return k * c * c * c;
}
