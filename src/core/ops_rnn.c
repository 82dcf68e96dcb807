/* GRU (Cho et al. 2014) and LSTM (Hochreiter & Schmidhuber 1997) layers with
 * PyTorch's equations, weight layouts and gate orders (torch.nn.GRU: r, z, n;
 * torch.nn.LSTM: i, f, g, o), batch first.
 *
 * Forward: the input projections of all B*T positions are one GEMM
 * (x [B*T, I] @ w_ih^T + b_ih); each time step is one GEMM h_{t-1} @ w_hh^T + b_hh
 * ([B, H] x [H, G*H], h_{t-1} read in place from the output with row stride T*H)
 * and the gate nonlinearities. The gate activations are kept for the backward in
 * the projection buffer itself.
 * Backward through time: one pass t = T-1 .. 0 computing the pre-activation
 * gradients of every step and the carried dh (one GEMM per step), then the
 * weight gradients as three whole-sequence GEMMs (dG^T x, dG^T H_prev) and
 * column sums for the biases. Single-threaded element loops and the GEMM's fixed
 * summation order: the same bits for any thread count. */
#include <math.h>
#include <string.h>
#include "core/internal.h"
#include "dynlab/gemm.h"
#include "dynlab/rnn.h"

enum { RNN_GRU, RNN_LSTM };
/* Positions of the inputs in the custom record. */
enum { IN_X, IN_H0, IN_C0, IN_WIH, IN_WHH, IN_BIH, IN_BHH, IN_N };

typedef struct rnn_ctx {
    int kind, B, T, I, H, G; /* G gates: 3 (GRU) or 4 (LSTM) */
    float *act;   /* [B*T, G*H] gate activations (GRU: r, z, n; LSTM: i, f, g, o) */
    float *aux;   /* GRU: W_hn h + b_hn [B*T, H]; LSTM: cell states c_t [B*T, H] */
    float *h0, *c0; /* initial states [B, H] (zeros when not given) */
} rnn_ctx;

static inline float sigm(float v) { return 1.0f / (1.0f + expf(-v)); }

/* Previous hidden state of step t for batch row b. */
static inline const float *h_prev(const rnn_ctx *c, const float *out, int b, int t) {
    return t ? out + ((int64_t)b * c->T + t - 1) * c->H : c->h0 + (int64_t)b * c->H;
}

static void add_bias_grad(dl_graph *g, dl_tensor *bias, const float *dG, int64_t rows, int64_t width) {
    if (!bias || !bias->requires_grad) return;
    int fresh;
    float *gb = dl_grad_out(g, bias, &fresh);
    if (fresh) memset(gb, 0, (size_t)width * sizeof(float));
    dl_sum_rows_into(gb, dG, rows, width);
}

static void rnn_bwd(dl_graph *g, dl_tensor *out, dl_tensor **in, int n_in, void *vctx) {
    (void)n_in;
    const rnn_ctx *c = vctx;
    const int B = c->B, T = c->T, I = c->I, H = c->H, GH = c->G * H;
    const int64_t BT = (int64_t)B * T;
    const float *dout = out->grad, *y = out->data;
    /* dGi: gradients of the input-projection pre-activations; for the GRU the
     * hidden projection's differ in the n block (dGh), for the LSTM they are equal. */
    float *dGi = dl_graph_alloc(g, (size_t)(BT * GH) * sizeof(float));
    float *dGh = c->kind == RNN_GRU ? dl_graph_alloc(g, (size_t)(BT * GH) * sizeof(float)) : dGi;
    float *dh = dl_graph_alloc(g, (size_t)B * H * sizeof(float));
    float *dc = dl_graph_alloc(g, (size_t)B * H * sizeof(float));
    memset(dh, 0, (size_t)B * H * sizeof(float));
    memset(dc, 0, (size_t)B * H * sizeof(float));
    const float *whh = in[IN_WHH]->data;
    for (int t = T - 1; t >= 0; t--) {
        for (int b = 0; b < B; b++) {
            const int64_t row = (int64_t)b * T + t;
            const float *a = c->act + row * GH, *hp = h_prev(c, y, b, t), *dy = dout + row * H;
            float *gi = dGi + row * GH, *gh = dGh + row * GH, *dhb = dh + (int64_t)b * H;
            if (c->kind == RNN_GRU) {
                const float *hn = c->aux + row * H;
                for (int j = 0; j < H; j++) {
                    const float r = a[j], z = a[H + j], n = a[2 * H + j], d = dy[j] + dhb[j];
                    const float dnp = d * (1.0f - z) * (1.0f - n * n);
                    const float drp = dnp * hn[j] * r * (1.0f - r);
                    const float dzp = d * (hp[j] - n) * z * (1.0f - z);
                    gi[j] = gh[j] = drp;
                    gi[H + j] = gh[H + j] = dzp;
                    gi[2 * H + j] = dnp;
                    gh[2 * H + j] = dnp * r;
                    dhb[j] = d * z;
                }
            } else {
                const float *cs = c->aux + row * H;
                const float *cp = t ? c->aux + (row - 1) * H : c->c0 + (int64_t)b * H;
                float *dcb = dc + (int64_t)b * H;
                for (int j = 0; j < H; j++) {
                    const float i_ = a[j], f = a[H + j], gg = a[2 * H + j], o = a[3 * H + j];
                    const float d = dy[j] + dhb[j], tc = tanhf(cs[j]);
                    const float dct = dcb[j] + d * o * (1.0f - tc * tc);
                    gi[j] = dct * gg * i_ * (1.0f - i_);
                    gi[H + j] = dct * cp[j] * f * (1.0f - f);
                    gi[2 * H + j] = dct * i_ * (1.0f - gg * gg);
                    gi[3 * H + j] = d * tc * o * (1.0f - o);
                    dcb[j] = dct * f;
                }
            }
        }
        /* dh_{t-1} = (direct part, GRU only) + dGh_t @ w_hh. */
        dl_sgemm(0, 0, B, H, GH, 1.0f, dGh + (int64_t)t * GH, T * GH, whh, H,
                 c->kind == RNN_GRU ? 1.0f : 0.0f, dh, H);
    }
    dl_tensor *x = in[IN_X], *h0 = in[IN_H0], *c0 = in[IN_C0];
    if (h0 && h0->requires_grad) {
        int fresh;
        float *g0 = dl_grad_out(g, h0, &fresh);
        if (fresh) memcpy(g0, dh, (size_t)B * H * sizeof(float));
        else dl_k_acc(dh, g0, (int64_t)B * H);
    }
    if (c0 && c0->requires_grad) {
        int fresh;
        float *g0 = dl_grad_out(g, c0, &fresh);
        if (fresh) memcpy(g0, dc, (size_t)B * H * sizeof(float));
        else dl_k_acc(dc, g0, (int64_t)B * H);
    }
    if (x->requires_grad) {
        int fresh;
        float *gx = dl_grad_out(g, x, &fresh);
        dl_sgemm(0, 0, (int)BT, I, GH, 1.0f, dGi, GH, in[IN_WIH]->data, I, fresh ? 0.0f : 1.0f, gx, I);
    }
    if (in[IN_WIH]->requires_grad) {
        int fresh;
        float *gw = dl_grad_out(g, in[IN_WIH], &fresh);
        dl_sgemm(1, 0, GH, I, (int)BT, 1.0f, dGi, GH, x->data, I, fresh ? 0.0f : 1.0f, gw, I);
    }
    if (in[IN_WHH]->requires_grad) {
        /* H_prev [B*T, H]: row (b, t) = h_{t-1} of batch row b. */
        float *hp = dl_graph_alloc(g, (size_t)(BT * H) * sizeof(float));
        for (int b = 0; b < B; b++) {
            memcpy(hp + (int64_t)b * T * H, c->h0 + (int64_t)b * H, (size_t)H * sizeof(float));
            if (T > 1)
                memcpy(hp + ((int64_t)b * T + 1) * H, y + (int64_t)b * T * H, (size_t)(T - 1) * H * sizeof(float));
        }
        int fresh;
        float *gw = dl_grad_out(g, in[IN_WHH], &fresh);
        dl_sgemm(1, 0, GH, H, (int)BT, 1.0f, dGh, GH, hp, H, fresh ? 0.0f : 1.0f, gw, H);
    }
    add_bias_grad(g, in[IN_BIH], dGi, BT, GH);
    add_bias_grad(g, in[IN_BHH], dGh, BT, GH);
}

static void check_vec(const char *op, const char *what, const dl_tensor *t, int n) {
    if (t && (t->ndim != 1 || t->shape[0] != n)) dl_fatal("%s: %s must be [%d]", op, what, n);
}
static void check_mat(const char *op, const char *what, const dl_tensor *t, int r, int cols) {
    char b[64];
    if (t && (t->ndim != 2 || t->shape[0] != r || t->shape[1] != cols))
        dl_fatal("%s: %s is %s, expected [%d, %d]", op, what, dl_shape_str(t, b, sizeof b), r, cols);
}

static dl_tensor *rnn_forward(dl_graph *g, int kind, dl_tensor *x, dl_tensor *h0, dl_tensor *c0, dl_tensor *w_ih,
                              dl_tensor *w_hh, dl_tensor *b_ih, dl_tensor *b_hh) {
    const char *op = kind == RNN_GRU ? "dl_gru" : "dl_lstm";
    const int G = kind == RNN_GRU ? 3 : 4;
    char b1[64];
    if (x->ndim != 3) dl_fatal("%s: x %s must be [B, T, I]", op, dl_shape_str(x, b1, sizeof b1));
    if (w_hh->ndim != 2 || w_hh->shape[0] % G || w_hh->shape[0] / G != w_hh->shape[1])
        dl_fatal("%s: w_hh %s must be [%dH, H]", op, dl_shape_str(w_hh, b1, sizeof b1), G);
    const int B = x->shape[0], T = x->shape[1], I = x->shape[2], H = w_hh->shape[1], GH = G * H;
    check_mat(op, "w_ih", w_ih, GH, I);
    check_vec(op, "b_ih", b_ih, GH);
    check_vec(op, "b_hh", b_hh, GH);
    check_mat(op, "h0", h0, B, H);
    check_mat(op, "c0", c0, B, H);
    int os[3] = {B, T, H};
    dl_tensor *out = dl_tensor_new(g, 3, os);
    const int64_t BT = (int64_t)B * T;
    rnn_ctx c = {kind, B, T, I, H, G, NULL, NULL, NULL, NULL};
    c.act = dl_graph_alloc(g, (size_t)(BT * GH) * sizeof(float));
    c.aux = dl_graph_alloc(g, (size_t)(BT * H) * sizeof(float));
    c.h0 = h0 ? h0->data : memset(dl_graph_alloc(g, (size_t)B * H * sizeof(float)), 0, (size_t)B * H * sizeof(float));
    c.c0 = kind == RNN_GRU ? NULL
           : c0            ? c0->data
                           : memset(dl_graph_alloc(g, (size_t)B * H * sizeof(float)), 0, (size_t)B * H * sizeof(float));
    if (BT > 0) {
        if (b_ih)
            dl_sgemm_bias(0, 1, (int)BT, GH, I, 1.0f, x->data, I, w_ih->data, I, b_ih->data, c.act, GH);
        else
            dl_sgemm(0, 1, (int)BT, GH, I, 1.0f, x->data, I, w_ih->data, I, 0.0f, c.act, GH);
    }
    float *gh = dl_graph_alloc(g, (size_t)B * GH * sizeof(float));
    float *y = out->data;
    for (int t = 0; t < T; t++) {
        const float *hp = t ? y + (int64_t)(t - 1) * H : c.h0;
        const int ldh = t ? T * H : H;
        if (b_hh)
            dl_sgemm_bias(0, 1, B, GH, H, 1.0f, hp, ldh, w_hh->data, H, b_hh->data, gh, GH);
        else
            dl_sgemm(0, 1, B, GH, H, 1.0f, hp, ldh, w_hh->data, H, 0.0f, gh, GH);
        for (int b = 0; b < B; b++) {
            const int64_t row = (int64_t)b * T + t;
            float *a = c.act + row * GH, *aux = c.aux + row * H, *h = y + row * H;
            const float *ghb = gh + (int64_t)b * GH, *hpb = hp + (int64_t)b * ldh;
            if (kind == RNN_GRU) {
                for (int j = 0; j < 2 * H; j++) a[j] = sigm(a[j] + ghb[j]);
                for (int j = 0; j < H; j++) {
                    const float r = a[j], z = a[H + j], hn = ghb[2 * H + j];
                    const float n = tanhf(a[2 * H + j] + r * hn);
                    aux[j] = hn;
                    a[2 * H + j] = n;
                    h[j] = (1.0f - z) * n + z * hpb[j];
                }
            } else {
                const float *cp = t ? c.aux + (row - 1) * H : c.c0 + (int64_t)b * H;
                for (int j = 0; j < GH; j++) {
                    const float v = a[j] + ghb[j];
                    a[j] = (j >= 2 * H && j < 3 * H) ? tanhf(v) : sigm(v);
                }
                for (int j = 0; j < H; j++) {
                    const float cn = a[H + j] * cp[j] + a[j] * a[2 * H + j];
                    aux[j] = cn;
                    h[j] = a[3 * H + j] * tanhf(cn);
                }
            }
        }
    }
    dl_tensor *ins[IN_N] = {x, h0, c0, w_ih, w_hh, b_ih, b_hh};
    dl_tape_custom(g, out, ins, IN_N, rnn_bwd, &c, sizeof c);
    return out;
}

dl_tensor *dl_gru(dl_graph *g, dl_tensor *x, dl_tensor *h0, dl_tensor *w_ih, dl_tensor *w_hh, dl_tensor *b_ih,
                  dl_tensor *b_hh) {
    return rnn_forward(g, RNN_GRU, x, h0, NULL, w_ih, w_hh, b_ih, b_hh);
}

dl_tensor *dl_lstm(dl_graph *g, dl_tensor *x, dl_tensor *h0, dl_tensor *c0, dl_tensor *w_ih, dl_tensor *w_hh,
                   dl_tensor *b_ih, dl_tensor *b_hh) {
    return rnn_forward(g, RNN_LSTM, x, h0, c0, w_ih, w_hh, b_ih, b_hh);
}

dl_tensor *dl_gru_cell(dl_graph *g, dl_tensor *x, dl_tensor *h, dl_tensor *w_ih, dl_tensor *w_hh, dl_tensor *b_ih,
                       dl_tensor *b_hh) {
    if (x->ndim != 2) dl_fatal("dl_gru_cell: x must be [B, I]");
    int s3[3] = {x->shape[0], 1, x->shape[1]};
    dl_tensor *seq = dl_gru(g, dl_reshape(g, x, 3, s3), h, w_ih, w_hh, b_ih, b_hh);
    int s2[2] = {seq->shape[0], seq->shape[2]};
    return dl_reshape(g, seq, 2, s2);
}

dl_tensor *dl_last_step(dl_graph *g, dl_tensor *seq) {
    if (seq->ndim != 3 || seq->shape[1] < 1) dl_fatal("dl_last_step: sequence must be [B, T, H] with T >= 1");
    dl_tensor *s = dl_slice(g, seq, 1, seq->shape[1] - 1, 1);
    int s2[2] = {seq->shape[0], seq->shape[2]};
    return dl_reshape(g, s, 2, s2);
}
