/* The three-stage algorithm (docs/papers/mot.md; [V] structure: I trains FFNs with
 * attention frozen, II trains attention with FFNs frozen, III fine-tunes the
 * FFNs; the gate is trained in every stage) and the baselines' plain
 * full-batch gradient descent. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "mot/mot.h"

int mot_trainer_init(mot_trainer *t, mot_model *m, uint64_t seed, uint64_t stream)
{
    t->m = m;
    t->grad = calloc((size_t)m->n_params, sizeof(double));
    t->routes = NULL;
    t->pis = NULL;
    t->frac = calloc((size_t)m->n_blocks, sizeof(double));
    t->bal_coef = 0;
    dl_rng_init(&t->rng, seed, stream);
    return t->grad && t->frac ? 0 : -1;
}

void mot_trainer_free(mot_trainer *t)
{
    free(t->grad); free(t->routes); free(t->frac); free(t->pis);
    t->grad = NULL; t->routes = NULL; t->frac = NULL; t->pis = NULL;
}

int mot_stage_at(const mot_cfg *c, int s)
{
    if (s < c->t1) return 1;
    if (s < c->t1 + c->t2) return 2;
    return 3;
}

static double norm2(const double *g, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += g[i] * g[i];
    return sqrt(s);
}

double mot_train_step(mot_trainer *t, const mot_data *D, int loss_kind, double route_noise,
                      int upd, double lr_w, double lr_kq, double lr_gate, int kq_normalized,
                      int gate_normalized)
{
    return mot_train_step_ex(t, D, loss_kind, route_noise, upd, lr_w, lr_kq, lr_gate, 0,
                             kq_normalized, gate_normalized);
}

double mot_train_step_ex(mot_trainer *t, const mot_data *D, int loss_kind, double route_noise,
                         int upd, double lr_w, double lr_kq, double lr_gate, int w_normalized,
                         int kq_normalized, int gate_normalized)
{
    mot_model *m = t->m;
    const int d = m->d, B = m->n_blocks;
    const int64_t bs = mot_block_size(d), dd = (int64_t)d * d;
    memset(t->grad, 0, sizeof(double) * (size_t)m->n_params);
    const int *routes = NULL;
    if (m->gated) {
        if (!t->routes) t->routes = malloc(sizeof(int) * (size_t)D->n);
        if (!t->pis) t->pis = malloc(sizeof(double) * (size_t)D->n * B);
        if (!t->routes || !t->pis) return NAN;
        mot_route_all(m, D, &t->rng, route_noise, t->routes, t->frac, t->pis);
        routes = t->routes;
        m->pi_cache = t->pis; /* the gate is unchanged until the update below */
    }
    double loss = mot_pass(m, D, NULL, D->n, loss_kind, routes, t->grad, NULL);
    if (m->gated && t->bal_coef > 0 && (upd & MOT_UPD_GATE))
        mot_balance(m, D, t->frac, t->bal_coef, t->grad);
    m->pi_cache = NULL;
    if ((upd & MOT_UPD_KQ) && m->attn) {
        /* normalized steps are taken per block: every expert (or head) is its own
         * transformer and moves by lr_kq whatever the share of samples it serves */
        for (int b = 0; b < B; b++) {
            double nb = norm2(t->grad + b * bs, dd);
            double scale = kq_normalized ? (nb > 0 ? lr_kq / nb : 0) : lr_kq;
            for (int64_t i = 0; i < dd; i++) m->p[b * bs + i] -= scale * t->grad[b * bs + i];
        }
    }
    if (upd & MOT_UPD_W)
        for (int b = 0; b < B; b++) {
            /* normalized per-block steps (stage I): every expert's neuron turns at the
             * same rate whatever its gate value and share of samples, and its scale
             * stays bounded by lr_w * steps (our reconstruction, docs/papers/mot.md) */
            double nb = w_normalized ? norm2(t->grad + b * bs + dd, d) : 0;
            double scale = w_normalized ? (nb > 0 ? lr_w / nb : 0) : lr_w;
            for (int64_t i = dd; i < bs; i++) m->p[b * bs + i] -= scale * t->grad[b * bs + i];
        }
    if ((upd & MOT_UPD_GATE) && m->gated) {
        double *th = mot_gate(m), *g = t->grad + B * bs;
        int64_t n = (int64_t)B * d;
        double scale = lr_gate;
        if (gate_normalized) {
            double s = norm2(g, n);
            scale = s > 0 ? lr_gate / s : 0;
        }
        for (int64_t i = 0; i < n; i++) th[i] -= scale * g[i];
    }
    return loss;
}
