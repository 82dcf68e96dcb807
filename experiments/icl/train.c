/* Gradient descent on the query loss with a fresh batch of prompts (each with
 * its own new function) every step, from W = 0 (uniform attention, the
 * initialisation of Huang, Cheng, Liang 2024); evaluation on fixed held-out
 * prompts of the training family and of an unseen family. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "icl/icl.h"

void icl_evaluate(const float *W, const icl_batch *b, int K, icl_eval *e) {
    const int B = b->B, N = b->N;
    memset(e, 0, sizeof *e);
    double *attn = malloc(sizeof(double) * (size_t)B * N), *yhat = malloc(sizeof(double) * (size_t)B);
    if (!attn || !yhat) { free(attn); free(yhat); e->loss = e->nloss = NAN; return; }
    e->loss = icl_forward_ref(W, b, attn, yhat);
    double se = 0, su = 0;
    int cnt[ICL_MAX_K] = {0};
    for (int bi = 0; bi < B; bi++) {
        const int *ft = b->feat + (size_t)bi * (N + 1);
        const int kq = ft[N];
        double mass[ICL_MAX_K] = {0}, ybar = 0;
        for (int i = 0; i < N; i++) {
            mass[ft[i]] += attn[(size_t)bi * N + i];
            ybar += b->Y[(size_t)bi * N + i];
        }
        ybar /= N;
        e->rel_mass += mass[kq];
        e->irr_total += 1 - mass[kq];
        for (int j = 0; j < K; j++)
            if (j != kq) { e->irr_mass[j] += mass[j]; cnt[j]++; }
        se += (yhat[bi] - b->Yq[bi]) * (yhat[bi] - b->Yq[bi]);
        su += (ybar - b->Yq[bi]) * (ybar - b->Yq[bi]);
    }
    e->rel_mass /= B;
    e->irr_total /= B;
    for (int j = 0; j < K; j++) e->irr_mass[j] = cnt[j] ? e->irr_mass[j] / cnt[j] : NAN;
    e->rmse = sqrt(se / B);
    e->rmse_uniform = sqrt(su / B);
    e->nloss = su > 0 ? se / su : NAN;
    free(attn);
    free(yhat);
}

static int trace_alloc(icl_trace *t, int cap, int steps, int K) {
    memset(t, 0, sizeof *t);
    t->cap = cap;
    t->step = calloc((size_t)cap, sizeof(double));
    t->nloss = calloc((size_t)cap, sizeof(double));
    t->nloss_unseen = calloc((size_t)cap, sizeof(double));
    t->rel_mass = calloc((size_t)cap, sizeof(double));
    t->irr_total = calloc((size_t)cap, sizeof(double));
    t->irr_mass = calloc((size_t)cap * K, sizeof(double));
    t->A = calloc((size_t)steps + 1, sizeof(double));
    t->Bl = calloc(((size_t)steps + 1) * K, sizeof(double));
    t->Wk = calloc(((size_t)steps + 1) * K * K, sizeof(double));
    return t->step && t->nloss && t->nloss_unseen && t->rel_mass && t->irr_total && t->irr_mass && t->A && t->Bl && t->Wk
               ? 0 : -1;
}

void icl_result_free(icl_result *r) {
    icl_trace *t = &r->tr;
    free(t->step); free(t->nloss); free(t->nloss_unseen); free(t->rel_mass); free(t->irr_total);
    free(t->irr_mass); free(t->A); free(t->Bl); free(t->Wk);
    memset(t, 0, sizeof *t);
}

/* Logits of the feature block: A = mean_k W[k][k], B_j = mean_{k != j} W[j][k]. */
static void record_logits(icl_trace *t, const float *W, int d, int K) {
    double A = 0;
    for (int k = 0; k < K; k++) A += W[k * d + k];
    t->A[t->ns] = A / K;
    for (int j = 0; j < K; j++) {
        double s = 0;
        for (int k = 0; k < K; k++)
            if (k != j) s += W[j * d + k];
        t->Bl[(size_t)t->ns * K + j] = s / (K - 1);
        for (int k = 0; k < K; k++) t->Wk[((size_t)t->ns * K + j) * K + k] = W[j * d + k];
    }
    t->ns++;
}

static void record_eval(icl_trace *t, int step, const float *W, int K, const icl_batch *es, const icl_batch *eu) {
    if (t->n >= t->cap) return;
    icl_eval e;
    icl_evaluate(W, es, K, &e);
    int i = t->n++;
    t->step[i] = step;
    t->nloss[i] = e.nloss;
    t->rel_mass[i] = e.rel_mass;
    t->irr_total[i] = e.irr_total;
    for (int j = 0; j < K; j++) t->irr_mass[(size_t)i * K + j] = e.irr_mass[j];
    if (eu) {
        icl_evaluate(W, eu, K, &e);
        t->nloss_unseen[i] = e.nloss;
    } else {
        t->nloss_unseen[i] = NAN;
    }
}

int icl_train(const icl_data_opts *o, const icl_train_opts *t, const icl_batch *es, const icl_batch *eu,
              uint64_t seed, uint64_t stream, icl_result *res, char *err, size_t n) {
    memset(res, 0, sizeof *res);
    const double t0 = dl_now();
    const int d = o->d, K = o->K, le = t->log_every > 0 ? t->log_every : t->steps;
    const int cap = t->steps / le + 3 + 32;
    if (trace_alloc(&res->tr, cap, t->steps, K)) { icl_result_free(res); snprintf(err, n, "out of memory"); return -1; }
    dl_params ps;
    dl_params_init(&ps);
    int sw[2] = {d, d};
    dl_tensor *W = dl_param_new(&ps, "kq", 2, sw);
    dl_rng r;
    dl_rng_init(&r, seed, stream);
    if (t->init_std > 0)
        for (int i = 0; i < d * d; i++) W->data[i] = (float)(t->init_std * dl_rng_normal(&r));
    icl_batch b;
    dl_graph *g = dl_graph_new();
    const int fixed = t->n_train > 0;
    if (!g || icl_batch_alloc(&b, fixed ? t->n_train : t->batch, o->N, d)) {
        if (g) dl_graph_free(g);
        dl_params_free(&ps);
        icl_result_free(res);
        snprintf(err, n, "out of memory");
        return -1;
    }
    res->hit = -1;
    record_logits(&res->tr, W->data, d, K);
    record_eval(&res->tr, 0, W->data, K, es, eu);
    if (fixed) icl_batch_draw(&b, o, &r);
    int step = 0;
    /* With a zero step size W never moves: a run that stops at the target
     * and has not reached it at step 0 never will (the untrained control's
     * sweep), so the remaining steps are skipped. */
    int frozen = t->lr == 0 && t->stop_at_target;
    if (frozen) {
        icl_eval e;
        icl_evaluate(W->data, es, K, &e);
        if (t->target > 0 && e.nloss <= t->target) res->hit = 0;
    }
    for (step = 1; step <= (frozen ? 0 : t->steps); step++) {
        if (!fixed) icl_batch_draw(&b, o, &r);
        dl_tensor *loss = icl_forward(g, W, &b, NULL, NULL);
        if (!isfinite(loss->data[0])) {
            snprintf(err, n, "query loss is not finite at step %d (lower train.lr)", step);
            dl_graph_free(g); icl_batch_free(&b); dl_params_free(&ps);
            return -1;
        }
        dl_backward(g, loss);
        for (int i = 0; i < d * d; i++) W->data[i] -= (float)(t->lr * W->grad[i]);
        dl_params_zero_grad(&ps);
        dl_graph_reset(g);
        record_logits(&res->tr, W->data, d, K);
        int last = step == t->steps;
        /* evaluation points: every log_every steps, plus powers of two before
         * the first one (resolution on the log step axis) */
        int log_pt = step % le == 0 || last || (step < le && (step & (step - 1)) == 0);
        if (log_pt || t->stop_at_target) {
            if (log_pt && t->log_every > 0) record_eval(&res->tr, step, W->data, K, es, eu);
            if (res->hit < 0 && t->target > 0) {
                icl_eval e;
                icl_evaluate(W->data, es, K, &e);
                if (e.nloss <= t->target) res->hit = step;
            }
            if (res->hit >= 0 && t->stop_at_target) break;
        }
    }
    res->steps_done = frozen ? 0 : step > t->steps ? t->steps : step;
    if (res->tr.n == 0 || res->tr.step[res->tr.n - 1] != res->steps_done)
        record_eval(&res->tr, res->steps_done, W->data, K, es, eu);
    memcpy(res->W, W->data, sizeof(float) * (size_t)d * d);
    icl_evaluate(W->data, es, K, &res->seen);
    if (eu) icl_evaluate(W->data, eu, K, &res->unseen);
    res->seconds = dl_now() - t0;
    dl_graph_free(g);
    icl_batch_free(&b);
    dl_params_free(&ps);
    return 0;
}
