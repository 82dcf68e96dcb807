/* Kernel-guided mutual information (KG-MI), reconstruction of arXiv
 * 2510.25542 §II (our reconstruction; the derivation is in docs/papers/dag.md).
 *
 * The f-mutual information between the next token x_i and its context is
 *   I_f = D_f(P_{x_i, ctx} || mu (x) P_ctx)
 *       = sup_T E_P[T] - E_{mu (x) P_ctx}[f*(T)]      (variational form).
 * KG-MI evaluates this bound at the critic T = f'(r), where r is the density
 * ratio the heads predict by applying their marginal transition kernels to the
 * tokens they attend to:
 *   r_i(y) = 1 + sum_h w_h (S sum_{j<i} a^h_{ij} pi_h(y | x_j) - 1).
 * With f*(f'(t)) = t f'(t) - f(t) =: g(t) and mu = Unif[S]:
 *   KG-MI_i = E[ f'(r_i(x_i)) ] - E[ (1/S) sum_y g(r_i(y)) ].
 * It is <= I_f with equality exactly when r is the true ratio, which for the
 * mixture generator happens when head k attends one-hot to parent p_k(i). For
 * f = KL it is log S - cross-entropy of the prediction (Nichani et al. 2024). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dag/dag.h"

const char *const dag_f_names[DAG_F_COUNT] = {"kl", "chi2", "hellinger", "tv", "rkl"};

int dag_f_parse(const char *s) {
    for (int f = 0; f < DAG_F_COUNT; f++)
        if (strcmp(s, dag_f_names[f]) == 0) return f;
    return -1;
}

dag_fvals dag_f_eval(int f, double t, double tv_beta) {
    dag_fvals v;
    switch (f) {
    case DAG_F_KL: /* f = t log t */
        v.fp = 1 + log(t); v.fpp = 1 / t; v.g = t; v.gp = 1;
        break;
    case DAG_F_CHI2: /* f = (t-1)^2 */
        v.fp = 2 * (t - 1); v.fpp = 2; v.g = t * t - 1; v.gp = 2 * t;
        break;
    case DAG_F_HELLINGER: { /* f = (sqrt t - 1)^2 */
        double s = sqrt(t);
        v.fp = 1 - 1 / s; v.fpp = 0.5 / (t * s); v.g = s - 1; v.gp = 0.5 / s;
        break;
    }
    case DAG_F_TV: { /* f = |t-1|/2 smoothed: (sqrt((t-1)^2 + b^2) - b)/2 */
        double b = tv_beta, rho = sqrt((t - 1) * (t - 1) + b * b);
        double fv = 0.5 * (rho - b);
        v.fp = 0.5 * (t - 1) / rho;
        v.fpp = 0.5 * b * b / (rho * rho * rho);
        v.g = t * v.fp - fv;
        v.gp = t * v.fpp;
        break;
    }
    default: /* DAG_F_RKL: f = -log t */
        v.fp = -1 / t; v.fpp = 1 / (t * t); v.g = log(t) - 1; v.gp = 1 / t;
        break;
    }
    return v;
}

/* g(t) and g'(t) only (no f'), for the non-target terms (KL needs no log there). */
static inline void g_eval(int f, double t, double tv_beta, double *g, double *gp) {
    switch (f) {
    case DAG_F_KL: *g = t; *gp = 1; return;
    case DAG_F_CHI2: *g = t * t - 1; *gp = 2 * t; return;
    case DAG_F_HELLINGER: { double s = sqrt(t); *g = s - 1; *gp = 0.5 / s; return; }
    case DAG_F_RKL: *g = log(t) - 1; *gp = 1 / t; return;
    default: { dag_fvals v = dag_f_eval(f, t, tv_beta); *g = v.g; *gp = v.gp; return; }
    }
}

double dag_kgmi_batch(const dag_kgmi_spec *sp, const double *A, const double *Pi, int64_t pi_stride,
                      int n, const int *X, const double *wt, double *gA, double *gPi) {
    const int T = sp->T, S = sp->S, H = sp->H, L = T - 1;
    /* R[y] = 1 + sum_h w_h (S sum_c m_h[c] Pi_h[c][y] - 1), with m_h[c] the
     * attention mass head h puts on earlier positions holding token c. */
    double R[256], dR[256], mass[DAG_MAX_H][256], v[256], total = 0;
    for (int b = 0; b < n; b++) {
        const int *x = X + (size_t)b * T;
        const double *Pb = Pi + (size_t)b * pi_stride;
        double *gPb = gPi ? gPi + (size_t)b * pi_stride : NULL;
        const double wb = wt ? wt[b] : 1.0 / n;
        for (int r = 0; r < L; r++) {
            const int target = x[r + 1];
            double base = 1;
            for (int h = 0; h < H; h++) base -= sp->w[h];
            for (int y = 0; y < S; y++) R[y] = base;
            for (int h = 0; h < H; h++) {
                const double *a = A + ((size_t)h * L + r) * L;
                const double *Ph = Pb + (size_t)h * S * S;
                double *m = mass[h];
                for (int c = 0; c < S; c++) m[c] = 0;
                for (int j = 0; j <= r; j++) m[x[j]] += a[j];
                const double scale = sp->w[h] * S;
                for (int c = 0; c < S; c++) {
                    if (m[c] == 0) continue;
                    const double mc = scale * m[c];
                    const double *row = Ph + (size_t)c * S;
                    for (int y = 0; y < S; y++) R[y] += mc * row[y];
                }
            }
            double val = 0;
            for (int y = 0; y < S; y++) {
                const double t = R[y] > sp->ratio_floor ? R[y] : sp->ratio_floor;
                double g, gp;
                g_eval(sp->f, t, sp->tv_beta, &g, &gp);
                val -= g / S;
                dR[y] = -gp / S;
            }
            {
                const double t = R[target] > sp->ratio_floor ? R[target] : sp->ratio_floor;
                dag_fvals fv = dag_f_eval(sp->f, t, sp->tv_beta);
                val += fv.fp;
                dR[target] += fv.fpp;
            }
            total += wb * val;
            if (!gA && !gPb) continue;
            for (int h = 0; h < H; h++) {
                const double *Ph = Pb + (size_t)h * S * S;
                const double scale = wb * sp->w[h] * S;
                if (gA) { /* dJ/da_j = scale * (Pi_h dR)[x_j] */
                    for (int c = 0; c < S; c++) {
                        const double *row = Ph + (size_t)c * S;
                        double s = 0;
                        for (int y = 0; y < S; y++) s += row[y] * dR[y];
                        v[c] = scale * s;
                    }
                    double *ga = gA + ((size_t)h * L + r) * L;
                    for (int j = 0; j <= r; j++) ga[j] += v[x[j]];
                }
                if (gPb) { /* dJ/dPi_h[c][y] = scale * m_h[c] * dR[y] */
                    const double *m = mass[h];
                    for (int c = 0; c < S; c++) {
                        if (m[c] == 0) continue;
                        double *grow = gPb + (size_t)h * S * S + (size_t)c * S;
                        const double mc = scale * m[c];
                        for (int y = 0; y < S; y++) grow[y] += mc * dR[y];
                    }
                }
            }
        }
    }
    return total;
}

int64_t dag_enum_count(int S, int T) {
    int64_t n = 1;
    for (int i = 0; i < T; i++) {
        n *= S;
        if (n > ((int64_t)1 << 22)) return -1;
    }
    return n;
}

double dag_kgmi_exact(const dag_kgmi_spec *sp, const dag_graph *g, const double *A,
                      const double *Pi, double *gA, double *gPi) {
    const int T = g->T, S = g->S;
    const int64_t total = dag_enum_count(S, T);
    if (total < 0) return NAN;
    enum { CHUNK = 2048 };
    int *X = malloc(sizeof(int) * (size_t)CHUNK * T);
    double *wt = malloc(sizeof(double) * CHUNK);
    int x[DAG_MAX_T] = {0};
    double J = 0;
    int64_t done = 0;
    while (X && wt && done < total) {
        int m = 0;
        for (; m < CHUNK && done < total; m++, done++) {
            memcpy(X + (size_t)m * T, x, sizeof(int) * T);
            wt[m] = dag_seq_prob(g, g->P, x);
            for (int i = T - 1; i >= 0; i--) { /* odometer */
                if (++x[i] < S) break;
                x[i] = 0;
            }
        }
        J += dag_kgmi_batch(sp, A, Pi, 0, m, X, wt, gA, gPi);
    }
    if (!X || !wt) J = NAN;
    free(X);
    free(wt);
    return J;
}
