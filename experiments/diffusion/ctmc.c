/* Forward CTMC per token in closed form, laws on [K]^d as tables, KL/TV,
 * the papers' initialization and early-stopping bounds, step schedules. */
#include <math.h>
#include <string.h>
#include "diffusion/diffusion.h"

void dd_proc_init(dd_proc *p, dd_rate rate, int S) {
    p->rate = rate;
    p->S = S;
    p->K = rate == DD_ABSORBING ? S + 1 : S;
    p->mask = rate == DD_ABSORBING ? S : -1;
}

void dd_qtok(const dd_proc *p, double *Q) {
    const int K = p->K;
    for (int a = 0; a < K; a++)
        for (int b = 0; b < K; b++) {
            double v;
            if (p->rate == DD_UNIFORM) v = 1.0 / p->S - (a == b);
            else if (a == p->mask) v = 0.0;
            else v = (b == p->mask) ? 1.0 : (a == b ? -1.0 : 0.0);
            Q[a * K + b] = v;
        }
}

void dd_ptrans(const dd_proc *p, double t, double *P) {
    const int K = p->K;
    const double stay = exp(-t), moved = -expm1(-t); /* e^{-t}, 1 - e^{-t} */
    for (int a = 0; a < K; a++)
        for (int b = 0; b < K; b++) {
            double v;
            if (p->rate == DD_UNIFORM) v = (a == b ? stay : 0.0) + moved / p->S;
            else if (a == p->mask) v = (b == p->mask);
            else v = b == a ? stay : (b == p->mask ? moved : 0.0);
            P[a * K + b] = v;
        }
}

int64_t dd_ipow(int K, int d) {
    int64_t n = 1;
    for (int i = 0; i < d; i++) n *= K;
    return n;
}

/* One axis at a time: axis i has stride K^{d-1-i}; the rest of the index
 * splits into `outer` blocks of `stride * K` entries. */
void dd_apply_tok(const double *in, double *out, const double *P, int K, int d, int transpose,
                  double *tmp) {
    const int64_t n = dd_ipow(K, d);
    memcpy(out, in, (size_t)n * sizeof *out);
    for (int i = 0; i < d; i++) {
        const int64_t stride = dd_ipow(K, d - 1 - i), outer = n / (stride * K);
        memcpy(tmp, out, (size_t)n * sizeof *tmp);
        for (int64_t o = 0; o < outer; o++)
            for (int64_t s = 0; s < stride; s++) {
                const double *src = tmp + o * stride * K + s;
                double *dst = out + o * stride * K + s;
                for (int y = 0; y < K; y++) {
                    double acc = 0;
                    for (int x = 0; x < K; x++)
                        acc += src[x * stride] * (transpose ? P[y * K + x] : P[x * K + y]);
                    dst[y * stride] = acc;
                }
            }
    }
}

void dd_marginal(const dd_proc *p, const double *q0, int d, double t, double *qt, double *tmp) {
    double P[65 * 65]; /* K <= 65 (config limits S <= 64) */
    dd_ptrans(p, t, P);
    dd_apply_tok(q0, qt, P, p->K, d, 0, tmp);
}

double dd_kl(const double *q, const double *p, int64_t n) {
    double kl = 0;
    for (int64_t i = 0; i < n; i++) {
        if (q[i] <= 0) continue;
        if (p[i] <= 0) return INFINITY;
        kl += q[i] * log(q[i] / p[i]);
    }
    return kl > 0 ? kl : 0.0; /* rounding can leave -1e-17 */
}

double dd_tv(const double *q, const double *p, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += fabs(q[i] - p[i]);
    return 0.5 * s;
}

void dd_init_law(const dd_proc *p, int d, double T, double *law) {
    const int K = p->K;
    const int64_t n = dd_ipow(K, d);
    double tok[65];
    if (p->rate == DD_UNIFORM) {
        for (int a = 0; a < K; a++) tok[a] = 1.0 / K;
    } else {
        const double eps = exp(-T);
        for (int a = 0; a < K; a++) tok[a] = a == p->mask ? 1.0 - eps : eps / (K - 1);
    }
    for (int64_t x = 0; x < n; x++) {
        double v = 1;
        int64_t r = x;
        for (int i = 0; i < d; i++) {
            v *= tok[r % K];
            r /= K;
        }
        law[x] = v;
    }
}

double dd_init_bound(const dd_proc *p, int d, double T) {
    if (p->rate == DD_UNIFORM) return d * exp(-T) * log((double)p->S);
    const double a = exp(-T) * log((double)(p->K - 1)), b = -log1p(-exp(-T));
    return d * (a > b ? a : b);
}

double dd_stop_bound(const dd_proc *p, int d, double delta) {
    const double moved = -expm1(-delta);
    return p->rate == DD_UNIFORM ? d * moved * (p->S - 1) / p->S : d * moved;
}

/* ---- schedules ---- */

static double geo_u(double s) { return s >= 1 ? s : 1 + log(s); }
static double geo_s(double u) { return u >= 1 ? u : exp(u - 1); }

int dd_grid(dd_sched k, double T, double delta, int N, double *s) {
    if (k == DD_SCHED_GEOMETRIC && delta <= 0) return -1;
    for (int j = 0; j <= N; j++) {
        const double f = (double)j / N;
        double v;
        if (k == DD_SCHED_CONSTANT) {
            v = T - f * (T - delta);
        } else if (k == DD_SCHED_GEOMETRIC) {
            v = geo_s(geo_u(T) + f * (geo_u(delta) - geo_u(T)));
        } else {
            const double g0 = -expm1(-T), g1 = -expm1(-delta);
            v = -log1p(-(g0 + f * (g1 - g0)));
        }
        s[j] = v;
    }
    s[0] = T;
    s[N] = delta;
    return 0;
}

int dd_sched_parse(const char *name) {
    if (!strcmp(name, "constant")) return DD_SCHED_CONSTANT;
    if (!strcmp(name, "geometric")) return DD_SCHED_GEOMETRIC;
    if (!strcmp(name, "loglinear")) return DD_SCHED_LOGLINEAR;
    return -1;
}

const char *dd_sched_name(int k) {
    return k == DD_SCHED_CONSTANT ? "constant" : k == DD_SCHED_GEOMETRIC ? "geometric" : "loglinear";
}
