/* Fused one-query merged-KQ attention (docs/papers/treepath.md): forward, analytic
 * backward, and its autograd tape record. */
#include "treepath/attn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tp_batch_init(tp_batch *b, const tp_example *ex, int n_ex) {
    int n_q = 0;
    for (int e = 0; e < n_ex; e++) n_q += ex[e].n_steps;
    b->ex = ex;
    b->n_ex = n_ex;
    b->n_q = n_q;
    b->q_ex = malloc(sizeof(int) * (size_t)(n_q > 0 ? n_q : 1));
    b->q_step = malloc(sizeof(int) * (size_t)(n_q > 0 ? n_q : 1));
    b->a_off = malloc(sizeof(int) * (size_t)(n_q + 1));
    int q = 0, off = 0;
    for (int e = 0; e < n_ex; e++)
        for (int k = 0; k < ex[e].n_steps; k++) {
            b->q_ex[q] = e;
            b->q_step[q] = k;
            b->a_off[q++] = off;
            off += ex[e].ctx_len[k];
        }
    b->a_off[n_q] = off;
}

void tp_batch_free(tp_batch *b) {
    free(b->q_ex);
    free(b->q_step);
    free(b->a_off);
    memset(b, 0, sizeof *b);
}

void tp_head_attend(const tp_model *m, int h, const tp_token *ctx, int n, float *alpha) {
    const tp_token *q = &ctx[n - 1];
    const float *Brow = q->x >= 0 ? m->B[h]->data + (size_t)q->x * (size_t)m->S : NULL;
    const float *Trow = m->T[h]->data + (size_t)q->type * TP_NTYPES;
    float smax = -INFINITY;
    for (int j = 0; j < n; j++) {
        float s = Trow[ctx[j].type];
        if (Brow && ctx[j].x >= 0) s += Brow[ctx[j].x];
        alpha[j] = s;
        if (s > smax) smax = s;
    }
    double z = 0;
    for (int j = 0; j < n; j++) {
        float e = expf(alpha[j] - smax);
        alpha[j] = e;
        z += e;
    }
    float inv = (float)(1.0 / z);
    for (int j = 0; j < n; j++) alpha[j] *= inv;
}

static const tp_example *query_ctx(const tp_batch *b, int q, const tp_token **ctx, int *n) {
    const tp_example *ex = &b->ex[b->q_ex[q]];
    *ctx = ex->tok;
    *n = ex->ctx_len[b->q_step[q]];
    return ex;
}

void tp_attn_forward(const tp_model *m, const tp_batch *b, float *out, float **alpha) {
    int D = m->out_dim;
    float *scratch = NULL;
    if (!alpha) scratch = malloc(sizeof(float) * TP_MAX_SEQ);
    memset(out, 0, sizeof(float) * (size_t)b->n_q * (size_t)D);
    for (int q = 0; q < b->n_q; q++) {
        const tp_token *ctx;
        int n;
        query_ctx(b, q, &ctx, &n);
        float *o = out + (size_t)q * (size_t)D;
        for (int h = 0; h < m->n_heads; h++) {
            float *a = alpha ? alpha[h] + b->a_off[q] : scratch;
            tp_head_attend(m, h, ctx, n, a);
            for (int j = 0; j < n; j++) tp_value_add(m, h, &ctx[j], a[j], o);
        }
    }
    free(scratch);
}

void tp_attn_backward(const tp_model *m, const tp_batch *b, float *const *alpha,
                      const float *dout, float **dB, float **dT) {
    int S = m->S, D = m->out_dim;
    float gj[TP_MAX_SEQ];
    for (int q = 0; q < b->n_q; q++) {
        const tp_token *ctx;
        int n;
        query_ctx(b, q, &ctx, &n);
        const tp_token *qt = &ctx[n - 1];
        const float *go = dout + (size_t)q * (size_t)D;
        for (int h = 0; h < m->n_heads; h++) {
            const float *a = alpha[h] + b->a_off[q];
            /* g_j = <dL/dout, V z_j>;  dL/ds_j = alpha_j (g_j - sum_i alpha_i g_i). */
            double gbar = 0;
            for (int j = 0; j < n; j++) {
                float g = tp_value_dot(m, h, &ctx[j], go);
                gj[j] = g;
                gbar += (double)a[j] * g;
            }
            float *dBrow = dB && dB[h] && qt->x >= 0 ? dB[h] + (size_t)qt->x * (size_t)S : NULL;
            float *dTrow = dT && dT[h] ? dT[h] + (size_t)qt->type * TP_NTYPES : NULL;
            for (int j = 0; j < n; j++) {
                float ds = a[j] * (float)(gj[j] - gbar);
                if (dBrow && ctx[j].x >= 0) dBrow[ctx[j].x] += ds;
                if (dTrow) dTrow[ctx[j].type] += ds;
            }
        }
    }
}

void tp_targets(const tp_model *m, const tp_batch *b, float *target) {
    int D = m->out_dim;
    memset(target, 0, sizeof(float) * (size_t)b->n_q * (size_t)D);
    for (int q = 0; q < b->n_q; q++) {
        const tp_example *ex = &b->ex[b->q_ex[q]];
        int k = b->q_step[q];
        target[(size_t)q * D + ex->target_node[k]] = 1.0f;
        if (D > m->S) target[(size_t)q * D + m->S + ex->target_sig[k]] = 1.0f;
    }
}

double tp_sq_loss(const tp_model *m, const tp_batch *b, const float *out, const float *target) {
    double s = 0;
    size_t n = (size_t)b->n_q * (size_t)m->out_dim;
    for (size_t i = 0; i < n; i++) {
        double d = (double)out[i] - target[i];
        s += d * d;
    }
    return b->n_q ? 0.5 * s / b->n_q : 0.0;
}

/* ---- tape record --------------------------------------------------------- */
typedef struct op_ctx {
    const tp_model *m;
    const tp_batch *b;
    float *alpha[TP_MAX_HEADS];
} op_ctx;

static void attn_op_backward(dl_graph *g, dl_tensor *out, dl_tensor **inputs, int n_inputs,
                             void *vctx) {
    op_ctx *c = vctx;
    if (!out->grad) return;
    float *dB[TP_MAX_HEADS] = {0}, *dT[TP_MAX_HEADS] = {0};
    for (int h = 0; h < c->m->n_heads; h++) {
        if (inputs[2 * h]->requires_grad) dB[h] = dl_tensor_grad(g, inputs[2 * h]);
        if (inputs[2 * h + 1]->requires_grad) dT[h] = dl_tensor_grad(g, inputs[2 * h + 1]);
    }
    tp_attn_backward(c->m, c->b, c->alpha, out->grad, dB, dT);
}

dl_tensor *tp_attn_op(dl_graph *g, const tp_model *m, const tp_batch *b, float **alpha_out) {
    int shape[2] = {b->n_q, m->out_dim};
    dl_tensor *out = dl_tensor_new(g, 2, shape);
    op_ctx c = {m, b, {0}};
    for (int h = 0; h < m->n_heads; h++) {
        c.alpha[h] = dl_graph_alloc(g, sizeof(float) * (size_t)(b->a_off[b->n_q] + 1));
        if (alpha_out) alpha_out[h] = c.alpha[h];
    }
    tp_attn_forward(m, b, out->data, c.alpha);
    dl_tensor *inputs[2 * TP_MAX_HEADS];
    int any = 0;
    for (int h = 0; h < m->n_heads; h++) {
        inputs[2 * h] = m->B[h];
        inputs[2 * h + 1] = m->T[h];
        any |= m->B[h]->requires_grad | m->T[h]->requires_grad;
    }
    if (any) {
        out->requires_grad = 1;
        dl_tape_custom(g, out, inputs, 2 * m->n_heads, attn_op_backward, &c, sizeof c);
    }
    return out;
}
