/* Enumerable targets on [S]^d (exact scores come from their tables). */
#include <math.h>
#include <stdlib.h>
#include "diffusion/diffusion.h"

const char *dd_target_name(int k) {
    static const char *n[] = {"product", "markov", "table", "masked"};
    return n[k];
}

/* tokens of x (first coordinate most significant) */
static void digits(int64_t x, int K, int d, int *xs) {
    for (int i = d - 1; i >= 0; i--) {
        xs[i] = (int)(x % K);
        x /= K;
    }
}

void dd_target_make(dd_target kind, int S, int K, int d, double alpha, dl_rng *r, double *law) {
    const int64_t n = dd_ipow(K, d);
    int xs[16];
    double *marg = malloc((size_t)d * K * sizeof *marg), *trans = malloc((size_t)K * K * sizeof *trans);
    if (!marg || !trans) abort();
    if (kind == DD_TGT_PRODUCT) {
        for (int i = 0; i < d; i++) dl_rng_dirichlet(r, 1.0, S, marg + i * K);
    } else if (kind == DD_TGT_MARKOV) {
        dl_rng_dirichlet(r, 1.0, S, marg);
        for (int a = 0; a < S; a++) dl_rng_dirichlet(r, alpha, S, trans + a * K);
    }
    double *tab = NULL;
    if (kind == DD_TGT_TABLE || kind == DD_TGT_MASKED) {
        const int V = kind == DD_TGT_MASKED ? K : S;
        const int64_t m = dd_ipow(V, d);
        tab = malloc((size_t)m * sizeof *tab);
        if (!tab) abort();
        dl_rng_dirichlet(r, kind == DD_TGT_MASKED ? 1.0 : alpha, (int)m, tab);
        /* dl_rng_dirichlet can underflow to exact zeros at small alpha: keep
         * the support full so that every target is a law with q_t > 0. */
        double z = 0;
        for (int64_t j = 0; j < m; j++) z += tab[j] = fmax(tab[j], 1e-12);
        for (int64_t j = 0; j < m; j++) tab[j] /= z;
    }
    for (int64_t x = 0; x < n; x++) {
        digits(x, K, d, xs);
        double v = 0;
        int ok = 1;
        for (int i = 0; i < d; i++)
            if (xs[i] >= S && kind != DD_TGT_MASKED) ok = 0;
        if (ok) {
            if (kind == DD_TGT_PRODUCT) {
                v = 1;
                for (int i = 0; i < d; i++) v *= marg[i * K + xs[i]];
            } else if (kind == DD_TGT_MARKOV) {
                v = marg[xs[0]];
                for (int i = 1; i < d; i++) v *= trans[xs[i - 1] * K + xs[i]];
            } else {
                const int V = kind == DD_TGT_MASKED ? K : S;
                int64_t j = 0;
                for (int i = 0; i < d; i++) j = j * V + xs[i];
                v = tab[j];
            }
        }
        law[x] = v;
    }
    free(tab);
    free(marg);
    free(trans);
}

double dd_gamma(const double *q0, int K, int d) {
    const int64_t n = dd_ipow(K, d);
    const int mask = K - 1;
    double g = INFINITY;
    int xs[16];
    for (int64_t x = 0; x < n; x++) {
        digits(x, K, d, xs);
        for (int i = 0; i < d; i++) {
            if (xs[i] != mask || q0[x] < 0) continue;
            const int64_t stride = dd_ipow(K, d - 1 - i);
            for (int a = 0; a < mask; a++) {
                const double qa = q0[x + (int64_t)(a - mask) * stride];
                if (qa > 0) g = fmin(g, q0[x] / qa);
            }
        }
    }
    return isfinite(g) ? g : 0.0;
}
