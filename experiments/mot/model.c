/* Forward/backward of the three models in double precision: our reconstruction, docs/papers/mot.md.
 * The block is an experiment-specific fused op (attention read at the
 * identifier query + linear neuron); its hand-derived gradient is checked by
 * finite differences in tests/test_mot_model.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "mot/mot.h"

int mot_model_init(mot_model *m, int kind, int n_blocks, int d, double init_std, uint64_t seed,
                   uint64_t stream)
{
    memset(m, 0, sizeof *m);
    m->kind = kind; m->n_blocks = n_blocks; m->d = d;
    m->attn = kind != MOT_KIND_MOE;
    m->gated = kind != MOT_KIND_SINGLE;
    m->n_params = n_blocks * mot_block_size(d) + (m->gated ? (int64_t)n_blocks * d : 0);
    m->p = calloc((size_t)m->n_params, sizeof(double));
    if (!m->p) return -1;
    /* init (docs/papers/mot.md): W_KQ = 0 (uniform attention), w ~ N(0, init_std^2), theta = 0 */
    dl_rng r;
    dl_rng_init(&r, seed, stream);
    for (int b = 0; b < n_blocks; b++) {
        double *w = mot_block_w(m, b);
        for (int j = 0; j < d; j++) w[j] = init_std * dl_rng_normal(&r);
    }
    return 0;
}

void mot_model_free(mot_model *m) { free(m->p); memset(m, 0, sizeof *m); }

double mot_block_forward(const double *W, const double *w, const float *X, int L, int d, int attn,
                         double *a, double *z)
{
    if (attn) {
        /* t = W^T q, s_l = t . x_l */
        double t[d];
        memset(t, 0, sizeof t);
        for (int i = 0; i < d; i++) {
            double qi = X[i];
            if (qi == 0.0) continue;
            const double *Wi = W + (size_t)i * d;
            for (int j = 0; j < d; j++) t[j] += qi * Wi[j];
        }
        double mx = -INFINITY;
        for (int l = 0; l < L; l++) {
            const float *x = X + (size_t)l * d;
            double s = 0;
            for (int j = 0; j < d; j++) s += t[j] * x[j];
            a[l] = s;
            if (s > mx) mx = s;
        }
        double sum = 0;
        for (int l = 0; l < L; l++) { a[l] = exp(a[l] - mx); sum += a[l]; }
        for (int l = 0; l < L; l++) a[l] /= sum;
    } else {
        for (int l = 0; l < L; l++) a[l] = 1.0 / L;
    }
    memset(z, 0, sizeof(double) * (size_t)d);
    for (int l = 0; l < L; l++) {
        const float *x = X + (size_t)l * d;
        for (int j = 0; j < d; j++) z[j] += a[l] * x[j];
    }
    double f = 0;
    for (int j = 0; j < d; j++) f += w[j] * z[j];
    return f;
}

void mot_block_backward(const double *W, const double *w, const float *X, int L, int d, int attn,
                        const double *a, const double *z, double g, double *gW, double *gw)
{
    (void)W;
    if (gw)
        for (int j = 0; j < d; j++) gw[j] += g * z[j];
    if (!attn || !gW) return;
    /* da_l = g * w . x_l ; ds_l = a_l (da_l - sum_k a_k da_k) ; dW = q (sum_l ds_l x_l)^T */
    double da[L], dot = 0;
    for (int l = 0; l < L; l++) {
        const float *x = X + (size_t)l * d;
        double s = 0;
        for (int j = 0; j < d; j++) s += w[j] * x[j];
        da[l] = g * s;
        dot += a[l] * da[l];
    }
    double dt[d];
    memset(dt, 0, sizeof dt);
    for (int l = 0; l < L; l++) {
        double ds = a[l] * (da[l] - dot);
        const float *x = X + (size_t)l * d;
        for (int j = 0; j < d; j++) dt[j] += ds * x[j];
    }
    for (int i = 0; i < d; i++) {
        double qi = X[i];
        if (qi == 0.0) continue;
        double *gWi = gW + (size_t)i * d;
        for (int j = 0; j < d; j++) gWi[j] += qi * dt[j];
    }
}

int mot_route(const mot_model *m, const float *X, int L, const double *noise, double *h, double *pi)
{
    const int d = m->d, M = m->n_blocks;
    const double *th = mot_gate(m);
    double g[d];
    memset(g, 0, sizeof g);
    for (int l = 0; l < (m->gate_all_tokens ? L : 1); l++)
        for (int j = 0; j < d; j++) g[j] += X[(size_t)l * d + j];
    double mx = -INFINITY;
    int best = 0;
    double bestv = -INFINITY;
    for (int k = 0; k < M; k++) {
        double s = 0;
        for (int j = 0; j < d; j++) s += th[(size_t)k * d + j] * g[j];
        h[k] = s;
        if (s > mx) mx = s;
        double v = s + (noise ? noise[k] : 0.0);
        if (v > bestv) { bestv = v; best = k; }
    }
    double sum = 0;
    for (int k = 0; k < M; k++) { pi[k] = exp(h[k] - mx); sum += pi[k]; }
    for (int k = 0; k < M; k++) pi[k] /= sum;
    return best;
}

double mot_loss_value(int loss_kind, double F, double y, double *dF)
{
    if (loss_kind == MOT_LOSS_LOGISTIC) {
        double m = y * F;
        /* log(1 + e^{-m}) stably; d/dF = -y sigmoid(-m) */
        double l = m > 0 ? log1p(exp(-m)) : -m + log1p(exp(m));
        if (dF) *dF = -y / (1.0 + exp(m));
        return l;
    }
    double r = F - y;
    if (dF) *dF = 2.0 * r;
    return r * r;
}

double mot_pass(const mot_model *m, const mot_data *D, const int *idx, int n, int loss_kind,
                const int *routes, double *grad, mot_stats *st)
{
    const int d = D->d, L = D->L, M = m->n_blocks;
    if (!idx) n = D->n;
    double a[L], z[d], h[M], pi[M];
    double a2[L], z2[d];
    double loss = 0, err = 0, attn = 0, gv = 0;
    const double inv = n > 0 ? 1.0 / n : 0;
    for (int ii = 0; ii < n; ii++) {
        int i = idx ? idx[ii] : ii;
        const float *X = D->x + (size_t)i * L * d;
        const double y = D->y[i];
        double F, dF;
        if (m->kind == MOT_KIND_SINGLE) {
            double f1 = mot_block_forward(mot_block_W(m, 0), mot_block_w(m, 0), X, L, d, 1, a, z);
            double f2 = mot_block_forward(mot_block_W(m, 1), mot_block_w(m, 1), X, L, d, 1, a2, z2);
            F = f1 + f2;
            loss += mot_loss_value(loss_kind, F, y, &dF);
            if (D->sig_pos[i] >= 0) attn += 0.5 * (a[D->sig_pos[i]] + a2[D->sig_pos[i]]);
            if (grad) {
                for (int b = 0; b < 2; b++) {
                    double *gb = grad + b * mot_block_size(d);
                    mot_block_backward(mot_block_W(m, b), mot_block_w(m, b), X, L, d, 1,
                                       b ? a2 : a, b ? z2 : z, dF * inv, gb, gb + (size_t)d * d);
                }
            }
        } else {
            int ms;
            if (routes && m->pi_cache) {
                ms = routes[i];
                memcpy(pi, m->pi_cache + (size_t)i * M, sizeof(double) * (size_t)M);
            } else {
                ms = mot_route(m, X, L, NULL, h, pi);
                if (routes) ms = routes[i];
            }
            double f = mot_block_forward(mot_block_W(m, ms), mot_block_w(m, ms), X, L, d, m->attn,
                                         a, z);
            F = pi[ms] * f;
            loss += mot_loss_value(loss_kind, F, y, &dF);
            gv += pi[ms];
            if (m->attn && D->sig_pos[i] >= 0) attn += a[D->sig_pos[i]];
            if (st && st->route) st->route[ms * st->n_classes + D->cls[i]]++;
            if (grad) {
                double g = dF * inv;
                double *gb = grad + ms * mot_block_size(d);
                mot_block_backward(mot_block_W(m, ms), mot_block_w(m, ms), X, L, d, m->attn, a, z,
                                   g * pi[ms], m->attn ? gb : NULL, gb + (size_t)d * d);
                /* gate: dF/dh_k = f pi_{m*} (delta_{k m*} - pi_k), dh_k/dtheta_k = sum_l x_l */
                double *gth = grad + M * mot_block_size(d);
                double gs[d];
                memset(gs, 0, sizeof gs);
                for (int l = 0; l < (m->gate_all_tokens ? L : 1); l++)
                    for (int j = 0; j < d; j++) gs[j] += X[(size_t)l * d + j];
                for (int k = 0; k < M; k++) {
                    double c = g * f * pi[ms] * ((k == ms) - pi[k]);
                    if (c == 0.0) continue;
                    for (int j = 0; j < d; j++) gth[(size_t)k * d + j] += c * gs[j];
                }
            }
        }
        err += (F * y <= 0);
    }
    if (st) {
        st->loss = loss * inv; st->err = err * inv; st->attn_signal = attn * inv;
        st->gate_value = gv * inv; st->n = n;
    }
    return loss * inv;
}

void mot_route_all(const mot_model *m, const mot_data *D, dl_rng *rng, double route_noise,
                   int *routes, double *frac, double *pis)
{
    const int M = m->n_blocks;
    double h[M], pi[M], noise[M];
    for (int k = 0; k < M; k++) frac[k] = 0;
    for (int i = 0; i < D->n; i++) {
        for (int k = 0; k < M; k++) noise[k] = route_noise * dl_rng_uniform(rng);
        routes[i] = mot_route(m, D->x + (size_t)i * D->L * D->d, D->L, noise, h, pi);
        frac[routes[i]] += 1.0 / D->n;
        if (pis) memcpy(pis + (size_t)i * M, pi, sizeof(double) * (size_t)M);
    }
}

double mot_balance(const mot_model *m, const mot_data *D, const double *frac, double coef,
                   double *grad)
{
    const int M = m->n_blocks, d = m->d, L = D->L;
    double h[M], pi[M], P[M], gs[d];
    for (int k = 0; k < M; k++) P[k] = 0;
    double *gth = grad ? grad + M * mot_block_size(d) : NULL;
    const double inv = 1.0 / D->n;
    for (int i = 0; i < D->n; i++) {
        const float *X = D->x + (size_t)i * L * d;
        if (m->pi_cache) memcpy(pi, m->pi_cache + (size_t)i * M, sizeof(double) * (size_t)M);
        else mot_route(m, X, L, NULL, h, pi);
        for (int k = 0; k < M; k++) P[k] += pi[k] * inv;
        if (!gth) continue;
        /* d/dh_k sum_m f_m pi_m = pi_k (f_k - sum_m f_m pi_m) */
        double fp = 0;
        for (int k = 0; k < M; k++) fp += frac[k] * pi[k];
        memset(gs, 0, sizeof gs);
        for (int l = 0; l < (m->gate_all_tokens ? L : 1); l++)
            for (int j = 0; j < d; j++) gs[j] += X[(size_t)l * d + j];
        for (int k = 0; k < M; k++) {
            double c = coef * M * inv * pi[k] * (frac[k] - fp);
            for (int j = 0; j < d; j++) gth[(size_t)k * d + j] += c * gs[j];
        }
    }
    double v = 0;
    for (int k = 0; k < M; k++) v += frac[k] * P[k];
    return coef * M * v;
}
