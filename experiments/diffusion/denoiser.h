/* The learned denoiser: a bidirectional transformer from the engine's blocks
 * with a time embedding, and its two training losses. */
#ifndef DYNLAB_EXP_DIFFUSION_DENOISER_H
#define DYNLAB_EXP_DIFFUSION_DENOISER_H

#include "dynlab/nn.h"

#define DD_TFEAT 6 /* time features per sequence */

typedef struct dd_denoiser {
    int vin, vout, seq_len, d_model, heads, layers;
    dl_tensor *wte, *wpe; /* [vin, d], [seq_len, d] */
    dl_tensor *wleft, *wright; /* [vin + 1, d]: embeddings of the left/right neighbour */
    dl_linear time;       /* DD_TFEAT -> d */
    dl_block *blocks;     /* non-causal pre-LN blocks */
    dl_layernorm_m ln_f;
    dl_linear head;       /* d -> vout */
} dd_denoiser;

void dd_denoiser_init(dd_denoiser *m, dl_params *ps, int vin, int vout, int seq_len, int d_model,
                      int heads, int layers, dl_rng *r);
/* tokens [B*L]; tfeat [B*DD_TFEAT]. Returns [B, L, vout]. */
dl_tensor *dd_denoiser_fwd(dl_graph *g, dd_denoiser *m, const int *tokens, const float *tfeat, int B, int L);
void dd_denoiser_free(dd_denoiser *m);
/* Features of forward time t: u = 1 - e^{-t} and smooth functions of it. */
void dd_time_features(double t, float *f);

/* Denoising score entropy for the uniform rate matrix Q = (1/V) 1 1^T - I
 * (SEDD, Lou et al. 2024, Eq. 7 with the transition ratios of P_t), mean over
 * the B*L positions of
 *   w_seq * sum_{b != a} (1/V) [ e^{o_b} - r_b o_b + r_b (log r_b - 1) ],
 * o = logits (log-scores), a = x_t, r_b = P_t(x_0, b) / P_t(x_0, a).
 * It is >= 0 and 0 exactly at o_b = log r_b. t[B], w[B] per sequence. */
dl_tensor *dd_dse_loss(dl_graph *g, dl_tensor *logits, const int *xt, const int *x0, const double *t,
                       const float *w, int B, int L, int V);
/* The same loss in double precision without the tape (for tests). */
double dd_dse_loss_ref(const float *logits, const int *xt, const int *x0, const double *t, const float *w,
                       int B, int L, int V);

#endif
