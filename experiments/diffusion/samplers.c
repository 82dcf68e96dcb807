/* Fixed-grid reverse samplers with exact scores and the exact law of their
 * output (the whole distribution is propagated; no sampling noise).
 *
 * Reverse rates (2509.16756 / 2506.02318 §2): Q<-(x, x^{i->b}) = Q(b, x^i) s(x^{i->b}, x)
 * with the score frozen at the step's larger forward time s_k. Every sampler
 * updates the d coordinates independently given x, so one step's kernel is
 * prod_i k_i(x'^i | x) and the law update is p'(x') = sum_x p(x) prod_i k_i. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "diffusion/diffusion.h"

const char *dd_sampler_name(int s) {
    static const char *n[] = {"tau-leaping", "euler", "tweedie"};
    return n[s];
}

void dd_token_kernel(const dd_proc *p, dd_sampler smp, int multi_jump, const double *Q, int a,
                     const double *r, double s, double dt, double *k) {
    const int K = p->K;
    if (smp == DD_TWEEDIE) {
        if (p->rate == DD_ABSORBING) {
            /* Exact ancestral step for a masked token (doc §2.5):
             * P(b) = s(x^{j->b}, x) (e^dt - 1), P(MASK) = the rest. */
            for (int b = 0; b < K; b++) k[b] = 0;
            if (a != p->mask) {
                k[a] = 1;
                return;
            }
            const double f = expm1(dt);
            double z = 0;
            for (int b = 0; b < K - 1; b++) z += k[b] = fmax(0.0, r[b] * f);
            if (z > 1) {
                for (int b = 0; b < K - 1; b++) k[b] /= z;
                z = 1;
            }
            k[p->mask] = 1 - z;
            return;
        }
        /* Uniform (SEDD analytic step): w = r P_dt^{-1}, P(b) ~ max(0, w_b P_dt(b, a)),
         * with P_dt^{-1} = e^dt I + (1 - e^dt)/S 1 1^T and P_dt symmetric. */
        double sum_r = 0;
        for (int c = 0; c < K; c++) sum_r += r[c];
        const double e = exp(dt), off = -expm1(dt) / p->S; /* (1 - e^dt)/S */
        const double st = exp(-dt), mv = -expm1(-dt) / p->S;
        double z = 0;
        for (int b = 0; b < K; b++) {
            const double w = e * r[b] + off * sum_r;
            const double pb = (b == a ? st : 0.0) + mv;
            z += k[b] = fmax(0.0, w * pb);
        }
        if (z > 0) {
            for (int b = 0; b < K; b++) k[b] /= z;
        } else {
            for (int b = 0; b < K; b++) k[b] = b == a;
        }
        return;
    }
    (void)s;
    double lam = 0;
    for (int b = 0; b < K; b++) {
        k[b] = b == a ? 0.0 : dt * Q[b * K + a] * r[b];
        if (k[b] < 0) k[b] = 0;
        lam += k[b];
    }
    if (smp == DD_EULER) { /* P(b) = lambda_b, stay 1 - Lambda, clamped (§1.4 b) */
        if (lam > 1) {
            for (int b = 0; b < K; b++) k[b] /= lam;
            k[a] = 0;
        } else {
            k[a] = 1 - lam;
        }
        return;
    }
    /* tau-leaping: independent Poisson(lambda_b) jump counts (§1.4 a). keep:
     * exactly one jump moves, zero or several leave the token; first: any jump
     * moves to b with probability lambda_b / Lambda. */
    if (lam <= 0) {
        k[a] = 1;
        return;
    }
    const double e = exp(-lam);
    double moved = 0;
    for (int b = 0; b < K; b++) {
        if (b == a) continue;
        k[b] = multi_jump == DD_JUMP_FIRST ? -expm1(-lam) * k[b] / lam : k[b] * e;
        moved += k[b];
    }
    k[a] = 1 - moved;
}

void dd_table_scores(const double *qt, int K, int d, int64_t x, const int *xs, double *r) {
    const double qx = qt[x];
    for (int i = 0; i < d; i++) {
        const int64_t stride = dd_ipow(K, d - 1 - i);
        for (int b = 0; b < K; b++) {
            if (b == xs[i]) {
                r[i * K + b] = 1;
                continue;
            }
            r[i * K + b] = qx > 0 ? qt[x + (int64_t)(b - xs[i]) * stride] / qx : 0.0;
        }
    }
}

int dd_run_exact(const dd_proc *p, const double *q0, int d, dd_sampler smp, int multi_jump,
                 const double *grid, int N, const double *init, double *out) {
    const int K = p->K;
    const int64_t n = dd_ipow(K, d);
    double *cur = malloc((size_t)n * sizeof *cur), *nxt = malloc((size_t)n * sizeof *nxt);
    double *qt = malloc((size_t)n * sizeof *qt), *tmp = malloc((size_t)n * sizeof *tmp);
    double *outer = malloc((size_t)n * sizeof *outer), *r = malloc((size_t)d * K * sizeof *r);
    double *kern = malloc((size_t)d * K * sizeof *kern), Q[65 * 65];
    int xs[16];
    if (!cur || !nxt || !qt || !tmp || !outer || !r || !kern) {
        free(cur), free(nxt), free(qt), free(tmp), free(outer), free(r), free(kern);
        return -1;
    }
    dd_qtok(p, Q);
    memcpy(cur, init, (size_t)n * sizeof *cur);
    for (int k = 0; k < N; k++) {
        const double s = grid[k], dt = grid[k] - grid[k + 1];
        dd_marginal(p, q0, d, s, qt, tmp);
        memset(nxt, 0, (size_t)n * sizeof *nxt);
        for (int64_t x = 0; x < n; x++) {
            if (cur[x] <= 0) continue;
            int64_t rem = x;
            for (int i = d - 1; i >= 0; i--) {
                xs[i] = (int)(rem % K);
                rem /= K;
            }
            dd_table_scores(qt, K, d, x, xs, r);
            for (int i = 0; i < d; i++)
                dd_token_kernel(p, smp, multi_jump, Q, xs[i], r + i * K, s, dt, kern + i * K);
            /* p(x) * outer product of the d kernels, coordinate 0 most significant */
            int64_t len = 1;
            outer[0] = cur[x];
            for (int i = 0; i < d; i++) {
                for (int64_t j = len - 1; j >= 0; j--) {
                    const double v = outer[j];
                    for (int b = K - 1; b >= 0; b--) outer[j * K + b] = v * kern[i * K + b];
                }
                len *= K;
            }
            for (int64_t y = 0; y < n; y++) nxt[y] += outer[y];
        }
        double *t = cur;
        cur = nxt;
        nxt = t;
    }
    memcpy(out, cur, (size_t)n * sizeof *out);
    free(cur), free(nxt), free(qt), free(tmp), free(outer), free(r), free(kern);
    return 0;
}
