/* Bidirectional transformer denoiser and the score-entropy loss. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "diffusion/denoiser.h"

void dd_denoiser_init(dd_denoiser *m, dl_params *ps, int vin, int vout, int seq_len, int d_model,
                      int heads, int layers, dl_rng *r) {
    char buf[64];
    memset(m, 0, sizeof *m);
    m->vin = vin, m->vout = vout, m->seq_len = seq_len, m->d_model = d_model, m->heads = heads;
    m->layers = layers;
    int se[2] = {vin, d_model}, sp[2] = {seq_len, d_model};
    m->wte = dl_param_new(ps, "wte.weight", 2, se);
    dl_init_normal(m->wte, r, 0.02f);
    m->wpe = dl_param_new(ps, "wpe.weight", 2, sp);
    dl_init_normal(m->wpe, r, 0.02f);
    int sn[2] = {vin + 1, d_model}; /* + a border symbol */
    m->wleft = dl_param_new(ps, "wleft.weight", 2, sn);
    dl_init_normal(m->wleft, r, 0.02f);
    m->wright = dl_param_new(ps, "wright.weight", 2, sn);
    dl_init_normal(m->wright, r, 0.02f);
    dl_linear_init(&m->time, ps, "time", DD_TFEAT, d_model, 1, r);
    m->blocks = calloc((size_t)layers, sizeof *m->blocks);
    if (!m->blocks) abort();
    for (int l = 0; l < layers; l++) {
        snprintf(buf, sizeof buf, "blocks.%d", l);
        dl_block_init(&m->blocks[l], ps, buf, d_model, heads, 4 * d_model, 0 /* bidirectional */, 0.0f, r);
    }
    dl_layernorm_init(&m->ln_f, ps, "ln_f", d_model);
    dl_linear_init(&m->head, ps, "head", d_model, vout, 1, r);
}

void dd_time_features(double t, float *f) {
    const double u = -expm1(-t);
    f[0] = (float)u;
    f[1] = (float)(u * u);
    f[2] = (float)sqrt(u);
    f[3] = (float)(log(t > 1e-12 ? t : 1e-12) / 8.0);
    f[4] = (float)sin(3.14159265358979323846 * u);
    f[5] = (float)cos(3.14159265358979323846 * u);
}

dl_tensor *dd_denoiser_fwd(dl_graph *g, dd_denoiser *m, const int *tokens, const float *tfeat, int B, int L) {
    int bt[2] = {B, L}, t1[1] = {L}, sf[3] = {B, L, DD_TFEAT};
    int *pos = dl_graph_alloc(g, (size_t)L * sizeof *pos);
    for (int t = 0; t < L; t++) pos[t] = t;
    dl_tensor *tf = dl_tensor_new(g, 3, sf);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < L; t++) memcpy(tf->data + ((size_t)b * L + t) * DD_TFEAT, tfeat + (size_t)b * DD_TFEAT,
                                           DD_TFEAT * sizeof(float));
    dl_tensor *x = dl_add(g, dl_embedding(g, m->wte, tokens, 2, bt), dl_embedding(g, m->wpe, pos, 1, t1));
    /* neighbour embeddings (a width-3 convolution over the tokens): local
     * context from the first step, which attention over learned absolute
     * positions needs thousands of steps to find */
    int *nl = dl_graph_alloc(g, (size_t)B * L * sizeof *nl), *nr = dl_graph_alloc(g, (size_t)B * L * sizeof *nr);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < L; t++) {
            nl[b * L + t] = t > 0 ? tokens[b * L + t - 1] : m->vin;
            nr[b * L + t] = t + 1 < L ? tokens[b * L + t + 1] : m->vin;
        }
    x = dl_add(g, x, dl_add(g, dl_embedding(g, m->wleft, nl, 2, bt), dl_embedding(g, m->wright, nr, 2, bt)));
    x = dl_add(g, x, dl_linear_fwd(g, &m->time, tf));
    for (int l = 0; l < m->layers; l++) x = dl_block_fwd(g, &m->blocks[l], x);
    return dl_linear_fwd(g, &m->head, dl_layernorm_fwd(g, &m->ln_f, x));
}

void dd_denoiser_free(dd_denoiser *m) {
    if (m->blocks)
        for (int l = 0; l < m->layers; l++) dl_block_free(&m->blocks[l]);
    free(m->blocks);
    m->blocks = NULL;
}

/* r_b for b != a: P_t(c, b) / P_t(c, a), P_t = e^{-t} I + (1 - e^{-t})/V. */
static double ratio(double al, double be, int a, int c, int b) {
    const double pa = (a == c ? al : 0.0) + be, pb = (b == c ? al : 0.0) + be;
    return pb / pa;
}

dl_tensor *dd_dse_loss(dl_graph *g, dl_tensor *logits, const int *xt, const int *x0, const double *t,
                       const float *w, int B, int L, int V) {
    int sh[3] = {B, L, V};
    dl_tensor *w1 = dl_tensor_new(g, 3, sh), *w2 = dl_tensor_new(g, 3, sh);
    double cst = 0;
    for (int b = 0; b < B; b++) {
        const double al = exp(-t[b]), be = -expm1(-t[b]) / V;
        for (int i = 0; i < L; i++) {
            const size_t p = (size_t)b * L + i;
            const int a = xt[p], c = x0[p];
            for (int v = 0; v < V; v++) {
                if (v == a) {
                    w1->data[p * V + v] = w2->data[p * V + v] = 0;
                    continue;
                }
                const double r = ratio(al, be, a, c, v), m = w[b] / (double)V;
                w1->data[p * V + v] = (float)m;
                w2->data[p * V + v] = (float)(m * r);
                cst += m * r * (log(r) - 1);
            }
        }
    }
    const float inv = 1.0f / (float)(B * L);
    dl_tensor *pos = dl_sum_all(g, dl_mul(g, w1, dl_exp(g, logits)));
    dl_tensor *neg = dl_sum_all(g, dl_mul(g, w2, logits));
    return dl_add_scalar(g, dl_scale(g, dl_sub(g, pos, neg), inv), (float)(cst * inv));
}

double dd_dse_loss_ref(const float *logits, const int *xt, const int *x0, const double *t, const float *w,
                       int B, int L, int V) {
    double tot = 0;
    for (int b = 0; b < B; b++) {
        const double al = exp(-t[b]), be = -expm1(-t[b]) / V;
        for (int i = 0; i < L; i++) {
            const size_t p = (size_t)b * L + i;
            for (int v = 0; v < V; v++) {
                if (v == xt[p]) continue;
                const double r = ratio(al, be, xt[p], x0[p], v), o = logits[p * V + v];
                tot += (double)w[b] / V * (exp(o) - r * o + r * (log(r) - 1));
            }
        }
    }
    return tot / (B * L);
}
