/* Sequence ops and modules: 1-D convolution over token sequences, max-over-time
 * pooling, embedding bags, and the GRU and LSTM recurrences with PyTorch's gate
 * equations and weight layouts (so state dicts map one to one).
 *
 * Layout: sequences are channels-last, x [N, L, C] (what dl_embedding produces).
 * A stride-1 convolution then reads, for output position t, the K*C consecutive
 * floats x[t .. t+K-1][:] — a strided view of x that the GEMM takes directly
 * (lda = C), with no im2col copy. Its weight is stored [O, K, C], which is
 * PyTorch's Conv1d weight [O, C, K] permuted (0, 2, 1); tests/torch_rnn.py
 * checks the equivalence. */
#ifndef DYNLAB_RNN_H
#define DYNLAB_RNN_H

#include "dynlab/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- ops ------------------------------------------------------------------ */

/* 1-D convolution, stride 1: x [N, L, C], w [O, K, C], bias [O] or NULL;
 * zero padding `padding` on both ends, dilation >= 1. Output [N, Lout, O] with
 * Lout = L + 2 padding - dilation (K - 1) (must be >= 1):
 *   out[n, t, o] = bias[o] + sum_{k, c} w[o, k, c] x[n, t + k dilation - padding, c]. */
dl_tensor *dl_conv1d(dl_graph *g, dl_tensor *x, dl_tensor *w, dl_tensor *bias, int padding,
                     int dilation);

/* dl_max_over_time(dl_conv1d(x, w, bias, padding, dilation)) as one op: [N, O].
 * The forward runs the convolution's GEMM over chunks of sequences into a small
 * buffer and keeps only each (sequence, filter) maximum and its position, so the
 * [N, Lout, O] map is never stored; the backward is exact and sparse: only the
 * arg-max window of each (n, o) has a gradient, so dW and dx are N*O window updates
 * (K*C multiply-adds each) instead of two GEMMs over every position. Same values
 * and gradients as the two ops (the first maximum wins ties, as torch.max).
 * A ReLU after it equals max-over-time of the ReLU (ReLU is monotone). */
dl_tensor *dl_conv1d_max(dl_graph *g, dl_tensor *x, dl_tensor *w, dl_tensor *bias, int padding,
                         int dilation);

/* Max over the length axis: x [N, L, C] -> [N, C]; the gradient goes to the
 * first position holding the maximum (as torch.max). */
dl_tensor *dl_max_over_time(dl_graph *g, dl_tensor *x);

/* Embedding bag (torch.nn.functional.embedding_bag, include_last_offset=False):
 * bag b holds ids[offsets[b] .. offsets[b+1]) (the last bag ends at n_ids);
 * output [n_bags, D] = the sum (mean = 0) or mean (mean = 1) of those rows of
 * table [V, D]. An empty bag gives zeros. offsets[0] must be 0 and offsets
 * non-decreasing. */
dl_tensor *dl_embedding_bag(dl_graph *g, dl_tensor *table, const int *ids, int n_ids,
                            const int *offsets, int n_bags, int mean);

/* GRU over a sequence (Cho et al. 2014, PyTorch's torch.nn.GRU equations):
 *   r = sigmoid(W_ir x_t + b_ir + W_hr h + b_hr)
 *   z = sigmoid(W_iz x_t + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x_t + b_in + r * (W_hn h + b_hn))
 *   h' = (1 - z) * n + z * h
 * x [B, T, I] (batch first); h0 [B, H] or NULL (zeros); w_ih [3H, I], w_hh [3H, H],
 * b_ih, b_hh [3H] (each may be NULL), gate rows in the order r, z, n.
 * Returns every hidden state, [B, T, H]. The input projections of all T steps
 * are one GEMM; each step is one [B, H] x [H, 3H] GEMM and the gates. */
dl_tensor *dl_gru(dl_graph *g, dl_tensor *x, dl_tensor *h0, dl_tensor *w_ih, dl_tensor *w_hh,
                  dl_tensor *b_ih, dl_tensor *b_hh);
/* One GRU step: x [B, I], h [B, H] -> h' [B, H] (torch.nn.GRUCell). */
dl_tensor *dl_gru_cell(dl_graph *g, dl_tensor *x, dl_tensor *h, dl_tensor *w_ih, dl_tensor *w_hh,
                       dl_tensor *b_ih, dl_tensor *b_hh);

/* LSTM over a sequence (Hochreiter & Schmidhuber 1997, torch.nn.LSTM equations):
 *   i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (W_ih x_t + b_ih + W_hh h + b_hh)
 *   c' = f * c + i * g,  h' = o * tanh(c')
 * w_ih [4H, I], w_hh [4H, H], b_ih, b_hh [4H] (may be NULL), gate order i, f, g, o;
 * h0, c0 [B, H] or NULL. Returns every hidden state [B, T, H]. */
dl_tensor *dl_lstm(dl_graph *g, dl_tensor *x, dl_tensor *h0, dl_tensor *c0, dl_tensor *w_ih,
                   dl_tensor *w_hh, dl_tensor *b_ih, dl_tensor *b_hh);

/* ---- modules ---------------------------------------------------------------
 * Initialised as PyTorch does: every weight and bias uniform(-1/sqrt(fan), 1/sqrt(fan))
 * with fan = H for the recurrent layers and C*K for the convolution. */
typedef struct dl_conv1d_m {
    dl_tensor *weight; /* [out, K, in] (see the layout note above) */
    dl_tensor *bias;   /* [out] or NULL */
    int in, out, k, padding, dilation;
} dl_conv1d_m;
void dl_conv1d_init(dl_conv1d_m *m, dl_params *ps, const char *name, int in, int out, int k,
                    int padding, int dilation, int bias, dl_rng *r);
dl_tensor *dl_conv1d_fwd(dl_graph *g, const dl_conv1d_m *m, dl_tensor *x); /* [N, L, in] -> [N, Lout, out] */
/* The module followed by max over time, fused (dl_conv1d_max): [N, L, in] -> [N, out]. */
dl_tensor *dl_conv1d_max_fwd(dl_graph *g, const dl_conv1d_m *m, dl_tensor *x);

typedef struct dl_gru_m {
    dl_tensor *w_ih, *w_hh, *b_ih, *b_hh; /* names weight_ih, weight_hh, bias_ih, bias_hh */
    int in, hidden;
} dl_gru_m;
void dl_gru_init(dl_gru_m *m, dl_params *ps, const char *name, int in, int hidden, dl_rng *r);
dl_tensor *dl_gru_fwd(dl_graph *g, const dl_gru_m *m, dl_tensor *x, dl_tensor *h0); /* [B, T, H] */

typedef struct dl_lstm_m {
    dl_tensor *w_ih, *w_hh, *b_ih, *b_hh;
    int in, hidden;
} dl_lstm_m;
void dl_lstm_init(dl_lstm_m *m, dl_params *ps, const char *name, int in, int hidden, dl_rng *r);
dl_tensor *dl_lstm_fwd(dl_graph *g, const dl_lstm_m *m, dl_tensor *x, dl_tensor *h0, dl_tensor *c0);

/* The last time step of a [B, T, H] sequence: [B, H] (a slice, with gradient). */
dl_tensor *dl_last_step(dl_graph *g, dl_tensor *seq);

#ifdef __cplusplus
}
#endif
#endif
