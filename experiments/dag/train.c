/* Gradient ascent on KG-MI (our reconstruction, docs/papers/dag.md: "maximize by gradient ascent").
 *
 * One step: theta [H][L][L] (parameter) -> dl_softmax(causal) -> A ->
 * dag_kgmi_op on a fresh minibatch (or the exact enumeration) -> J;
 * dl_backward(J); theta += lr * dJ/dtheta (and, with learned kernels,
 * W += kernel_lr * dJ/dW with Pi = softmax(W) row-wise). Recovery is checked
 * on the attention after every step; a fixed evaluation set (or the exact
 * population) gives the objective trace. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dag/train.h"
#include "dynlab/run.h"

int64_t dag_enumerate(const dag_graph *g, int **Xo, double **wto) {
    const int T = g->T, S = g->S;
    int64_t n = dag_enum_count(S, T);
    *Xo = NULL;
    *wto = NULL;
    if (n < 0) return -1;
    int *X = malloc(sizeof(int) * (size_t)n * T);
    double *wt = malloc(sizeof(double) * (size_t)n);
    if (!X || !wt) { free(X); free(wt); return -1; }
    int x[DAG_MAX_T] = {0};
    for (int64_t b = 0; b < n; b++) {
        memcpy(X + b * T, x, sizeof(int) * T);
        wt[b] = dag_seq_prob(g, g->P, x);
        for (int i = T - 1; i >= 0; i--) {
            if (++x[i] < S) break;
            x[i] = 0;
        }
    }
    *Xo = X;
    *wto = wt;
    return n;
}

static void trace_push(dag_trace *t, double step, double obj, double bobj, const dag_metrics *m) {
    if (t->n == t->cap) return;
    t->step[t->n] = step;
    t->objective[t->n] = obj;
    t->batch_objective[t->n] = bobj;
    t->min_mass[t->n] = m->min_parent_mass;
    t->mean_mass[t->n] = m->mean_parent_mass;
    t->n++;
}

void dag_train_result_free(dag_train_result *r) {
    free(r->A);
    free(r->trace.step);
    free(r->trace.objective);
    free(r->trace.batch_objective);
    free(r->trace.min_mass);
    free(r->trace.mean_mass);
    memset(r, 0, sizeof *r);
}

/* Sequences and (in context) their head kernels. */
typedef struct seqset {
    int n;
    int *X;        /* [n][T] */
    double *wt;    /* [n] or NULL (= 1/n) */
    double *Pi;    /* in context: [n][H][S][S]; else NULL */
} seqset;

static void draw_set(seqset *s, const dag_graph *g, const dag_gen_opts *gen, const dag_train_opts *o,
                     dl_rng *rng, double *scratch /* K*S*S*2 */) {
    const int T = g->T, S = g->S, K = g->K, H = o->heads;
    const size_t SS = (size_t)S * S;
    for (int b = 0; b < s->n; b++) {
        const double *P = g->P;
        if (o->in_context) {
            double *Pb = scratch, *pib = scratch + K * SS;
            dag_kernels_draw(gen, rng, Pb);
            dag_marginal_kernels(g, Pb, pib);
            dag_head_kernels(H, K, S, pib, o->shared_kernel, s->Pi + (size_t)b * H * SS);
            P = Pb;
        }
        dag_sample(g, P, rng, s->X + (size_t)b * T);
    }
}

static int alloc_set(seqset *s, int n, const dag_graph *g, const dag_train_opts *o) {
    memset(s, 0, sizeof *s);
    s->n = n;
    s->X = malloc(sizeof(int) * (size_t)n * g->T);
    if (o->in_context) s->Pi = malloc(sizeof(double) * (size_t)n * o->heads * g->S * g->S);
    return s->X && (!o->in_context || s->Pi) ? 0 : -1;
}

static void free_set(seqset *s) {
    free(s->X);
    free(s->wt);
    free(s->Pi);
}

/* Learned kernels: head h's marginal kernel is lam_h softmax(W_h) + (1 - lam_h)/S
 * (the form of a marginal kernel), so the heads' ratio stays >= 0. */
static void kernel_softmax(int H, int S, const float *W, const double *lam, double *Pi) {
    for (int r = 0; r < H * S; r++) {
        const float *z = W + (size_t)r * S;
        const double l = lam[r / S];
        double m = z[0], s = 0;
        for (int y = 1; y < S; y++) m = fmax(m, z[y]);
        for (int y = 0; y < S; y++) s += (Pi[(size_t)r * S + y] = exp(z[y] - m));
        for (int y = 0; y < S; y++) Pi[(size_t)r * S + y] = l * Pi[(size_t)r * S + y] / s + (1 - l) / S;
    }
}

int dag_train(const dag_graph *g, const dag_gen_opts *gen, const dag_train_opts *o, uint64_t seed,
              uint64_t stream_base, dag_train_result *res, char *err, size_t errlen) {
    const int T = g->T, S = g->S, K = g->K, H = o->heads, L = T - 1;
    const size_t nA = (size_t)H * L * L, SS = (size_t)S * S;
    memset(res, 0, sizeof *res);
    res->hit = -1;
    err[0] = 0;
    if (H < K || H > DAG_MAX_H) {
        snprintf(err, errlen, "model.heads (%d) must be in [data.K = %d, %d]", H, K, DAG_MAX_H);
        return -1;
    }
    double t0 = dl_now();
    dag_kgmi_spec sp = {T, S, H, o->f, o->tv_beta, {0}, 1e-12, {0}};
    dag_head_weights(H, K, o->shared_kernel, sp.w);

    /* fixed head kernels (given, or the init of learned ones) */
    double *pi = malloc(sizeof(double) * K * SS), *Pi = malloc(sizeof(double) * H * SS);
    double *scratch = malloc(sizeof(double) * 2 * K * SS);
    double *A = calloc(nA, sizeof(double)), *Astar = malloc(sizeof(double) * nA);
    dag_marginal_kernels(g, g->P, pi);
    dag_head_kernels(H, K, S, pi, o->shared_kernel, Pi);

    dl_rng data_rng, eval_rng, init_rng;
    dl_rng_init(&data_rng, seed, stream_base + 1);
    dl_rng_init(&eval_rng, seed, stream_base + 2);
    dl_rng_init(&init_rng, seed, stream_base + 3);

    seqset batch = {0}, eval = {0};
    int ok = pi && Pi && scratch && A && Astar;
    if (o->exact) {
        int64_t n = dag_enumerate(g, &batch.X, &batch.wt);
        if (n < 0) {
            snprintf(err, errlen, "objective.estimate=exact needs data.S^data.T <= 2^22 (S=%d, T=%d)", S, T);
            ok = 0;
        }
        batch.n = (int)n;
        eval = batch; /* the exact population is its own evaluation set */
    } else if (ok) {
        ok = !alloc_set(&batch, o->batch, g, o) && !alloc_set(&eval, o->eval_size, g, o);
        if (ok) draw_set(&eval, g, gen, o, &eval_rng, scratch);
    }
    if (ok && o->log_every > 0) {
        dag_trace *t = &res->trace;
        t->cap = o->iters / o->log_every + 2;
        t->step = malloc(sizeof(double) * t->cap);
        t->objective = malloc(sizeof(double) * t->cap);
        t->batch_objective = malloc(sizeof(double) * t->cap);
        t->min_mass = malloc(sizeof(double) * t->cap);
        t->mean_mass = malloc(sizeof(double) * t->cap);
        ok = t->step && t->objective && t->batch_objective && t->min_mass && t->mean_mass;
    }
    if (!ok) {
        if (!err[0]) snprintf(err, errlen, "out of memory setting up dag training");
        free(pi); free(Pi); free(scratch); free(A); free(Astar);
        if (!o->exact) free_set(&eval);
        free_set(&batch);
        dag_train_result_free(res);
        return -1;
    }

    dl_params ps;
    dl_params_init(&ps);
    const int th_shape[3] = {H, L, L}, w_shape[3] = {H, S, S};
    dl_tensor *theta = dl_param_new(&ps, "attn.logits", 3, th_shape);
    for (size_t i = 0; i < nA; i++) theta->data[i] = (float)(o->init_std * dl_rng_normal(&init_rng));
    dl_tensor *W = NULL;
    if (o->learned_kernels) {
        /* lam_h: the head's parent weight (pooled mean for the shared ablation);
         * W init = log of the component kernel (pi - (1-lam)/S)/lam, plus noise. */
        for (int h = 0; h < H; h++) {
            double l = 0;
            for (int k = 0; k < K; k++) l += g->lambda[k] / K;
            sp.kernel_lambda[h] = o->shared_kernel ? l : g->lambda[h % K];
        }
        W = dl_param_new(&ps, "kernels.logits", 3, w_shape);
        for (size_t i = 0; i < H * SS; i++) {
            const double l = sp.kernel_lambda[i / SS], comp = (Pi[i] - (1 - l) / S) / l;
            W->data[i] = (float)(log(fmax(comp, 1e-9)) + o->kernel_init_noise * dl_rng_normal(&init_rng));
        }
        kernel_softmax(H, S, W->data, sp.kernel_lambda, Pi);
    }
    dl_graph *gr = dl_graph_new();
    double *th_d = malloc(sizeof(double) * nA);

    const double *eval_Pi = o->in_context ? eval.Pi : Pi;
    const int64_t eval_stride = o->in_context ? (int64_t)(H * SS) : 0;
    dag_attention_onehot(g, H, Astar);

    double J_batch = 0;
    dag_metrics m;
    int it = 0;
    for (;; it++) {
        /* attention of the current logits (double, for metrics and the trace) */
        for (size_t i = 0; i < nA; i++) th_d[i] = theta->data[i];
        dag_attention_ref(H, L, th_d, A);
        dag_measure(g, H, A, &m);
        if (res->hit < 0 && m.exact && m.min_parent_mass >= 1 - o->delta) res->hit = it;
        const int last = it == o->iters || (o->stop_at_recovery && res->hit >= 0);
        if (o->log_every > 0 && (it % o->log_every == 0 || last)) {
            double Je = dag_kgmi_batch(&sp, A, eval_Pi, eval_stride, eval.n, eval.X, eval.wt, NULL, NULL);
            if (it == 0) res->J_init = Je;
            trace_push(&res->trace, it, Je, it ? J_batch : Je, &m);
        }
        if (last) break;

        if (!o->exact) draw_set(&batch, g, gen, o, &data_rng, scratch);
        dl_graph_reset(gr);
        dl_params_zero_grad(&ps);
        dl_tensor *At = dl_softmax(gr, theta, NULL, 1);
        dl_tensor *Pt = W ? dl_softmax(gr, W, NULL, 0) : NULL;
        dl_tensor *J = dag_kgmi_op(gr, &sp, At, Pt, o->in_context ? batch.Pi : Pi,
                                   o->in_context ? (int64_t)(H * SS) : 0, batch.n, batch.X, batch.wt);
        J_batch = J->data[0];
        dl_backward(gr, J);
        /* gradient ASCENT */
        for (size_t i = 0; i < nA; i++) theta->data[i] += (float)o->lr * theta->grad[i];
        if (W) {
            for (size_t i = 0; i < H * SS; i++) W->data[i] += (float)o->kernel_lr * W->grad[i];
            kernel_softmax(H, S, W->data, sp.kernel_lambda, Pi);
        }
    }
    res->iters_done = it;
    res->final = m;
    res->J_final = dag_kgmi_batch(&sp, A, eval_Pi, eval_stride, eval.n, eval.X, eval.wt, NULL, NULL);
    res->J_star = dag_kgmi_batch(&sp, Astar, eval_Pi, eval_stride, eval.n, eval.X, eval.wt, NULL, NULL);
    if (!o->exact) { /* minibatch noise: std of per-sequence values / sqrt(batch) */
        double s1 = 0, s2 = 0;
        for (int b = 0; b < eval.n; b++) {
            double v = dag_kgmi_batch(&sp, A, eval_Pi + (size_t)b * eval_stride, 0, 1,
                                      eval.X + (size_t)b * T, NULL, NULL, NULL);
            s1 += v;
            s2 += v * v;
        }
        double mean = s1 / eval.n, var = fmax(0, s2 / eval.n - mean * mean);
        res->batch_se = sqrt(var / o->batch);
    }
    res->A = A;
    res->seconds = dl_now() - t0;
    dl_graph_free(gr);
    dl_params_free(&ps);
    free(th_d); free(pi); free(Pi); free(scratch); free(Astar);
    if (!o->exact) free_set(&eval);
    free_set(&batch);
    return 0;
}
