/* Losses of the detection, contrastive, generative and classification systems:
 * binary cross-entropy with logits, sigmoid focal and varifocal losses, L1 and
 * GIoU box losses, NT-Xent, and the Gaussian KL term of a VAE. Each is one fused
 * op with a hand-written backward (finite-difference tested in
 * tests/test_losses_grad.c, against PyTorch in tests/test_rnn_torch.c).
 *
 * Reductions: dl_bce_logits is a mean over elements (torch's default);
 * the detection losses return sum / norm, where norm is what DETR-style
 * detectors divide by (the number of target boxes) — pass the element count
 * for a mean. Targets, weights and IoU scores are constants (float arrays of
 * the logits' size, copied at the call). */
#ifndef DYNLAB_LOSSES_H
#define DYNLAB_LOSSES_H

#include "dynlab/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* mean_i w_i [max(x_i, 0) - x_i y_i + log(1 + exp(-|x_i|))] = mean w * BCE(sigmoid(x), y),
 * stable for any x (torch.nn.functional.binary_cross_entropy_with_logits);
 * targets y in [0, 1]; weights NULL = all 1. */
dl_tensor *dl_bce_logits(dl_graph *g, dl_tensor *logits, const float *targets, const float *weights);

/* Sigmoid focal loss (Lin et al. 2017, eq. 5; torchvision.ops.sigmoid_focal_loss):
 * sum_i a_t (1 - p_t)^gamma BCE(x_i, y_i) / norm with p = sigmoid(x),
 * p_t = p y + (1 - p)(1 - y), a_t = alpha y + (1 - alpha)(1 - y) (alpha < 0: a_t = 1). */
dl_tensor *dl_sigmoid_focal_loss(dl_graph *g, dl_tensor *logits, const float *targets, float alpha, float gamma,
                                 float norm);

/* Varifocal loss (Zhang et al. 2021, VarifocalNet eq. 2, in RT-DETR's form):
 * sum_i w_i BCE(x_i, q_i) / norm with q = score (the IoU of the matched box at the
 * target class, 0 elsewhere), label the one-hot class target and the constant weight
 * w = alpha sigmoid(x)^gamma (1 - label) + q (no gradient through w). */
dl_tensor *dl_varifocal_loss(dl_graph *g, dl_tensor *logits, const float *label, const float *score, float alpha,
                             float gamma, float norm);

/* sum |pred - target| / norm; target may carry a gradient (sign(0) = 0, as torch). */
dl_tensor *dl_l1_loss(dl_graph *g, dl_tensor *pred, dl_tensor *target, float norm);

/* Generalised IoU loss (Rezatofighi et al. 2019, Algorithm 1): boxes [N, 4], matched
 * row by row; sum_i (1 - GIoU(pred_i, target_i)) / norm. Format DL_BOX_CXCYWH
 * (centre x, centre y, width, height: DETR's predictions) or DL_BOX_XYXY (corners
 * x1 < x2, y1 < y2). */
enum { DL_BOX_CXCYWH = 0, DL_BOX_XYXY = 1 };
dl_tensor *dl_giou_loss(dl_graph *g, dl_tensor *pred, dl_tensor *target, int format, float norm);
/* GIoU of each row pair (no gradient): out[N]; for reports and matching costs. */
void dl_giou_values(const float *pred, const float *target, int n, int format, float *out);

/* NT-Xent (SimCLR, Chen et al. 2020, eq. 1): z [2N, D] holds two views, rows i and
 * i + N of the same example. With u = z / |z| and s_ij = u_i . u_j / temperature,
 * mean over the 2N rows of -log( exp(s_{i,p(i)}) / sum_{j != i} exp(s_ij) ). */
dl_tensor *dl_nt_xent(dl_graph *g, dl_tensor *z, float temperature);

/* KL(N(mu, exp(logvar)) || N(0, I)) of a VAE (Kingma & Welling 2014, appendix B):
 * mu, logvar [N, D]; -0.5 sum (1 + logvar - mu^2 - exp(logvar)) / N (summed over the
 * latent dims, averaged over the batch). */
dl_tensor *dl_gaussian_kl(dl_graph *g, dl_tensor *mu, dl_tensor *logvar);

#ifdef __cplusplus
}
#endif
#endif
