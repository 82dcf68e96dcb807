/* K-parent DAG sequence generator, our reconstruction, docs/papers/dag.md.
 *
 * Positions are in topological order; the first `roots` are roots drawn from
 * mu = Unif[S]. Every other position i has K distinct parents p_1 < ... < p_K
 * drawn uniformly from the earlier positions (or a window of them), and
 *   x_i ~ sum_k lambda_k P_k(. | x_{p_k})          (mixture over parents).
 * Every P_k is doubly stochastic, so every position is marginally uniform and
 * the marginal kernel of parent k has the closed form
 *   pi_k(x'|x) = lambda_k P_k(x'|x) + (1 - lambda_k)/S. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dag/dag.h"

int dag_gen_check(const dag_gen_opts *o, char *err, size_t errlen) {
#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)
    if (o->K < 1 || o->K > DAG_MAX_K) BAD("data.K must be in [1, %d] (got %d)", DAG_MAX_K, o->K);
    if (o->T < 2 || o->T > DAG_MAX_T) BAD("data.T must be in [2, %d] (got %d)", DAG_MAX_T, o->T);
    if (o->S < 2 || o->S > 256) BAD("data.S must be in [2, 256] (got %d)", o->S);
    if (o->roots < o->K) BAD("data.roots (%d) must be >= data.K (%d)", o->roots, o->K);
    if (o->roots >= o->T) BAD("data.roots (%d) must be < data.T (%d)", o->roots, o->T);
    if (o->window != 0 && o->window < o->K)
        BAD("data.window (%d) must be 0 (all earlier positions) or >= data.K (%d)", o->window, o->K);
    if (o->kernel == DAG_KERNEL_PERM && o->K > o->S)
        BAD("data.kernel=perm needs data.K (%d) <= data.S (%d)", o->K, o->S);
    if (o->n_lambda != 0) {
        if (o->n_lambda != o->K)
            BAD("data.lambda has %d entries; it needs data.K = %d (or none for equal weights)",
                o->n_lambda, o->K);
        double s = 0;
        for (int k = 0; k < o->K; k++) {
            if (!(o->lambda[k] > 0)) BAD("data.lambda entries must be > 0");
            s += o->lambda[k];
        }
        if (fabs(s - 1) > 1e-6) BAD("data.lambda must sum to 1 (sums to %g)", s);
    }
    return 0;
#undef BAD
}

/* Sinkhorn scaling to a doubly stochastic matrix (rows and columns sum to 1). */
static void sinkhorn(double *M, int S) {
    for (int it = 0; it < 500; it++) {
        double dev = 0;
        for (int c = 0; c < S; c++) {
            double s = 0;
            for (int r = 0; r < S; r++) s += M[r * S + c];
            for (int r = 0; r < S; r++) M[r * S + c] /= s;
        }
        for (int r = 0; r < S; r++) {
            double s = 0;
            for (int c = 0; c < S; c++) s += M[r * S + c];
            dev = fmax(dev, fabs(s - 1));
            for (int c = 0; c < S; c++) M[r * S + c] /= s;
        }
        if (dev < 1e-13) break;
    }
}

void dag_kernels_draw(const dag_gen_opts *o, dl_rng *rng, double *P) {
    const int S = o->S, K = o->K;
    if (o->kernel == DAG_KERNEL_PERM) {
        /* Rows of a random Latin square: sigma_k(c) = tau[(rho[c] + s_k) mod S]
         * with distinct shifts s_k, so two parents' kernels disagree on every
         * token (kernel guidance is informative for every parent pair). */
        int tau[256], rho[256], shift[256];
        for (int c = 0; c < S; c++) tau[c] = rho[c] = shift[c] = c;
        dl_rng_shuffle_int(rng, tau, S);
        dl_rng_shuffle_int(rng, rho, S);
        dl_rng_shuffle_int(rng, shift, S);
        for (int k = 0; k < K; k++) {
            double *Pk = P + (size_t)k * S * S;
            for (int i = 0; i < S * S; i++) Pk[i] = o->noise / S;
            for (int c = 0; c < S; c++) Pk[c * S + tau[(rho[c] + shift[k]) % S]] += 1 - o->noise;
        }
    } else {
        for (int k = 0; k < K; k++) {
            double *Pk = P + (size_t)k * S * S;
            for (int c = 0; c < S; c++) dl_rng_dirichlet(rng, o->alpha, S, Pk + c * S);
            for (int i = 0; i < S * S; i++) Pk[i] = fmax(Pk[i], 1e-12);
            sinkhorn(Pk, S);
        }
    }
}

int dag_graph_make(dag_graph *g, const dag_gen_opts *o, dl_rng *rng) {
    memset(g, 0, sizeof *g);
    g->T = o->T; g->S = o->S; g->K = o->K; g->roots = o->roots;
    for (int k = 0; k < o->K; k++) g->lambda[k] = o->n_lambda ? o->lambda[k] : 1.0 / o->K;
    for (int i = 0; i < o->T * o->K; i++) g->parents[i] = -1;
    int cand[DAG_MAX_T];
    for (int i = o->roots; i < o->T; i++) {
        int lo = o->window ? (i - o->window > 0 ? i - o->window : 0) : 0;
        int n = 0;
        for (int j = lo; j < i; j++) cand[n++] = j;
        dl_rng_shuffle_int(rng, cand, n);
        int *p = g->parents + i * o->K;
        for (int k = 0; k < o->K; k++) p[k] = cand[k];
        for (int a = 1; a < o->K; a++) /* sort ascending: p_1 < ... < p_K */
            for (int b = a; b > 0 && p[b - 1] > p[b]; b--) { int t = p[b]; p[b] = p[b - 1]; p[b - 1] = t; }
    }
    g->P = malloc(sizeof(double) * (size_t)o->K * o->S * o->S);
    if (!g->P) return -1;
    dag_kernels_draw(o, rng, g->P);
    return 0;
}

void dag_graph_free(dag_graph *g) {
    free(g->P);
    g->P = NULL;
}

static int draw_categorical(dl_rng *rng, const double *p, int n) {
    double u = dl_rng_uniform(rng), c = 0;
    for (int s = 0; s < n - 1; s++) {
        c += p[s];
        if (u < c) return s;
    }
    return n - 1;
}

void dag_sample(const dag_graph *g, const double *P, dl_rng *rng, int *x) {
    const int S = g->S, K = g->K;
    for (int i = 0; i < g->roots; i++) x[i] = (int)dl_rng_below(rng, (uint32_t)S);
    for (int i = g->roots; i < g->T; i++) {
        int k = draw_categorical(rng, g->lambda, K);
        int parent_tok = x[g->parents[i * K + k]];
        x[i] = draw_categorical(rng, P + ((size_t)k * S + parent_tok) * S, S);
    }
}

double dag_seq_prob(const dag_graph *g, const double *P, const int *x) {
    const int S = g->S, K = g->K;
    double p = pow(1.0 / S, g->roots);
    for (int i = g->roots; i < g->T; i++) {
        double q = 0;
        for (int k = 0; k < K; k++)
            q += g->lambda[k] * P[((size_t)k * S + x[g->parents[i * K + k]]) * S + x[i]];
        p *= q;
    }
    return p;
}

void dag_marginal_kernels(const dag_graph *g, const double *P, double *pi) {
    const int S = g->S;
    for (int k = 0; k < g->K; k++)
        for (int i = 0; i < S * S; i++)
            pi[(size_t)k * S * S + i] = g->lambda[k] * P[(size_t)k * S * S + i] + (1 - g->lambda[k]) / S;
}

int dag_is_parent(const dag_graph *g, int pos, int j) {
    if (pos < g->roots) return 0;
    for (int k = 0; k < g->K; k++)
        if (g->parents[pos * g->K + k] == j) return 1;
    return 0;
}
