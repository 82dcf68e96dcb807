/* Single-layer multi-head positional attention with per-head kernels,
 * our reconstruction (docs/papers/dag.md, "Model").
 *
 * Head h has causal positional logits theta_h [L][L] (a merged W_KQ on
 * one-hot positions), a_h = softmax over earlier positions, zero init (uniform
 * attention). Its kernel pi_h (the marginal transition kernel of parent slot
 * h mod K) turns the attended tokens into a prediction; the heads' density
 * ratios add up (kgmi.c). The training graph is
 *   theta --dl_softmax(causal)--> A --dag_kgmi_op (fused, FD-tested)--> J. */
#include <math.h>
#include <string.h>
#include "dag/dag.h"

void dag_attention_ref(int H, int L, const double *theta, double *A) {
    for (int h = 0; h < H; h++)
        for (int r = 0; r < L; r++) {
            const double *z = theta + ((size_t)h * L + r) * L;
            double *a = A + ((size_t)h * L + r) * L;
            double m = z[0], s = 0;
            for (int j = 1; j <= r; j++) m = fmax(m, z[j]);
            for (int j = 0; j <= r; j++) s += (a[j] = exp(z[j] - m));
            for (int j = 0; j <= r; j++) a[j] /= s;
            for (int j = r + 1; j < L; j++) a[j] = 0;
        }
}

void dag_attention_backward_ref(int H, int L, const double *A, const double *gA, double *gtheta) {
    for (int h = 0; h < H; h++)
        for (int r = 0; r < L; r++) {
            const size_t o = ((size_t)h * L + r) * L;
            double dot = 0;
            for (int j = 0; j <= r; j++) dot += A[o + j] * gA[o + j];
            for (int j = 0; j < L; j++) gtheta[o + j] = j <= r ? A[o + j] * (gA[o + j] - dot) : 0;
        }
}

void dag_head_kernels(int H, int K, int S, const double *pi, int shared, double *Pi) {
    const size_t SS = (size_t)S * S;
    for (int h = 0; h < H; h++) {
        double *d = Pi + h * SS;
        if (!shared) {
            memcpy(d, pi + (size_t)(h % K) * SS, sizeof(double) * SS);
            continue;
        }
        /* Ablation "no kernel guidance": every head carries the pooled kernel. */
        for (size_t i = 0; i < SS; i++) {
            double s = 0;
            for (int k = 0; k < K; k++) s += pi[k * SS + i];
            d[i] = s / K;
        }
    }
}

void dag_head_weights(int H, int K, int shared, double *w) {
    for (int h = 0; h < H; h++) {
        if (shared) { w[h] = (double)K / H; continue; }
        int m = 0; /* heads sharing kernel h mod K */
        for (int u = 0; u < H; u++) m += (u % K) == (h % K);
        w[h] = 1.0 / m;
    }
}

void dag_attention_onehot(const dag_graph *g, int H, double *A) {
    const int L = g->T - 1, K = g->K;
    memset(A, 0, sizeof(double) * (size_t)H * L * L);
    for (int h = 0; h < H; h++)
        for (int r = 0; r < L; r++) {
            double *a = A + ((size_t)h * L + r) * L;
            const int pos = r + 1;
            if (pos >= g->roots) a[g->parents[pos * K + h % K]] = 1;
            else for (int j = 0; j <= r; j++) a[j] = 1.0 / (r + 1);
        }
}

static int row_argmax(const double *a, int n) {
    int best = 0;
    for (int j = 1; j < n; j++) if (a[j] > a[best]) best = j;
    return best;
}

void dag_true_adjacency(const dag_graph *g, double *adj) {
    const int T = g->T;
    memset(adj, 0, sizeof(double) * (size_t)T * T);
    for (int i = g->roots; i < T; i++)
        for (int k = 0; k < g->K; k++) adj[(size_t)i * T + g->parents[i * g->K + k]] = 1;
}

void dag_recovered_adjacency(const dag_graph *g, int H, const double *A, double *adj) {
    const int T = g->T, L = T - 1;
    memset(adj, 0, sizeof(double) * (size_t)T * T);
    for (int i = g->roots; i < T; i++)
        for (int h = 0; h < H; h++)
            adj[(size_t)i * T + row_argmax(A + ((size_t)h * L + i - 1) * L, i)] = 1;
}

void dag_measure(const dag_graph *g, int H, const double *A, dag_metrics *m) {
    const int T = g->T, L = T - 1, K = g->K;
    memset(m, 0, sizeof *m);
    m->min_parent_mass = 1;
    int n_mass = 0, n_rows = 0, tp = 0, n_rec = 0, n_true = 0, exact = 1;
    for (int i = g->roots; i < T; i++) {
        int am[DAG_MAX_H];
        for (int h = 0; h < H; h++) {
            const double *a = A + ((size_t)h * L + i - 1) * L;
            double pm = a[g->parents[i * K + h % K]];
            m->min_parent_mass = fmin(m->min_parent_mass, pm);
            m->mean_parent_mass += pm;
            n_mass++;
            am[h] = row_argmax(a, i);
        }
        /* recovered row: the set of head argmaxes */
        int rec[DAG_MAX_T] = {0};
        for (int h = 0; h < H; h++) rec[am[h]] = 1;
        for (int j = 0; j < i; j++) {
            int t = dag_is_parent(g, i, j);
            n_rec += rec[j];
            n_true += t;
            tp += rec[j] && t;
            if (rec[j] != t) exact = 0;
        }
        int distinct = 1, collapsed = 1;
        for (int u = 0; u < K && u < H; u++)
            for (int v = u + 1; v < K && v < H; v++) distinct &= am[u] != am[v];
        for (int h = 1; h < H; h++) collapsed &= am[h] == am[0];
        m->heads_distinct += distinct;
        m->heads_collapsed += collapsed;
        n_rows++;
    }
    m->mean_parent_mass /= n_mass ? n_mass : 1;
    m->heads_distinct /= n_rows ? n_rows : 1;
    m->heads_collapsed /= n_rows ? n_rows : 1;
    m->precision = n_rec ? (double)tp / n_rec : 0;
    m->recall = n_true ? (double)tp / n_true : 0;
    m->exact = exact;
    m->root_entropy_min = 1;
    for (int i = 2; i < g->roots; i++) /* root positions with >= 2 keys */
        for (int h = 0; h < H; h++) {
            const double *a = A + ((size_t)h * L + i - 1) * L;
            double e = 0;
            for (int j = 0; j < i; j++) if (a[j] > 0) e -= a[j] * log(a[j]);
            m->root_entropy_min = fmin(m->root_entropy_min, e / log(i));
        }
}

/* ---- the fused KG-MI tape op ----------------------------------------------- */
typedef struct kgmi_ctx {
    int H, L, S;
    const double *gA, *gPi; /* d J / d A and d J / d Pi (arena), computed in forward */
} kgmi_ctx;

static void kgmi_backward(dl_graph *gr, dl_tensor *out, dl_tensor **in, int n_in, void *vctx) {
    const kgmi_ctx *c = vctx;
    const double go = out->grad[0];
    if (in[0]->requires_grad) {
        float *g = dl_tensor_grad(gr, in[0]);
        for (int64_t i = 0; i < in[0]->size; i++) g[i] += (float)(go * c->gA[i]);
    }
    if (n_in > 1 && in[1]->requires_grad && c->gPi) {
        float *g = dl_tensor_grad(gr, in[1]);
        for (int64_t i = 0; i < in[1]->size; i++) g[i] += (float)(go * c->gPi[i]);
    }
}

dl_tensor *dag_kgmi_op(dl_graph *gr, const dag_kgmi_spec *sp, dl_tensor *A, dl_tensor *Pi_t,
                       const double *Pi_const, int64_t pi_stride, int n, const int *X,
                       const double *wt) {
    const int H = sp->H, L = sp->T - 1, S = sp->S;
    const size_t nA = (size_t)H * L * L, nP = (size_t)H * S * S;
    double *Ad = dl_graph_alloc(gr, sizeof(double) * nA);
    for (size_t i = 0; i < nA; i++) Ad[i] = A->data[i];
    const double *Pd = Pi_const;
    if (Pi_t) {
        double *p = dl_graph_alloc(gr, sizeof(double) * nP);
        for (size_t i = 0; i < nP; i++) {
            const double l = sp->kernel_lambda[i / ((size_t)S * S)];
            p[i] = l > 0 ? l * Pi_t->data[i] + (1 - l) / S : Pi_t->data[i];
        }
        Pd = p;
        pi_stride = 0;
    }
    const int want_A = A->requires_grad, want_P = Pi_t && Pi_t->requires_grad;
    double *gA = NULL, *gPi = NULL;
    if (want_A) { gA = dl_graph_alloc(gr, sizeof(double) * nA); memset(gA, 0, sizeof(double) * nA); }
    if (want_P) { gPi = dl_graph_alloc(gr, sizeof(double) * nP); memset(gPi, 0, sizeof(double) * nP); }
    double J = dag_kgmi_batch(sp, Ad, Pd, pi_stride, n, X, wt, gA, gPi);
    if (gPi) /* chain through the affine map of component kernels */
        for (size_t i = 0; i < nP; i++) {
            const double l = sp->kernel_lambda[i / ((size_t)S * S)];
            if (l > 0) gPi[i] *= l;
        }
    dl_tensor *out = dl_tensor_new(gr, 0, NULL);
    out->data[0] = (float)J;
    kgmi_ctx c = {H, L, S, gA, gPi};
    dl_tensor *ins[2] = {A, Pi_t};
    dl_tape_custom(gr, out, ins, Pi_t ? 2 : 1, kgmi_backward, &c, sizeof c);
    return out;
}
