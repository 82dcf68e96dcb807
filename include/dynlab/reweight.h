/* Dynamic loss-based sample reweighting (Sow et al., "Dynamic Loss-Based
 * Sample Reweighting for Improved LLM Pretraining", ICLR 2025, Algorithm 1),
 * over a vector of per-sample losses of one (global) minibatch:
 *
 *   1. normalise to [-delta, delta] with the batch extremes:
 *        x_i = delta (2 l_i - l_max - l_min) / max(l_max - l_min, 1e-6)
 *   2. a strategy f(x):  LinUpper  min(x + delta, delta)
 *                        Quadratic 1 - x^2 / delta^2
 *                        Extremes  |x|
 *                        Linear    0.5 x + 0.5 delta (uncapped, monotone)
 *   3. KL-regularised weights on the simplex (temperature r):
 *        w_i = exp((f_i - max f) / r) / sum_k exp((f_k - max f) / r)
 *      the maximiser of sum_i w_i f_i - r KL(w || uniform);
 *   4. the training loss sum_i w_i l_i with w held constant (no gradient).
 *
 * Uniform is reweighting switched off: w_i = 1/n, the plain mean loss. During
 * the warm-up steps (the losses of a fresh model say little) the weights are
 * uniform, or, when warmup_r > 0, computed at that temperature instead.
 * All functions allocate nothing. */
#ifndef DYNLAB_REWEIGHT_H
#define DYNLAB_REWEIGHT_H

#include <stdint.h>
#include "dynlab/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    DL_RW_UNIFORM = 0,
    DL_RW_LINUPPER,
    DL_RW_QUADRATIC,
    DL_RW_EXTREMES,
    DL_RW_LINEAR,
    DL_RW_COUNT
} dl_rw_strategy;

typedef struct dl_reweight {
    dl_rw_strategy strategy;
    double delta;    /* half-width of the normalised range (1 in the paper's code) */
    double r;        /* temperature (KL regulariser); larger = closer to uniform */
    int64_t warmup;  /* steps with warm-up weights before reweighting starts */
    double warmup_r; /* 0: uniform during warm-up; > 0: this temperature instead */
} dl_reweight;

/* "uniform", "linupper", "quadratic", "extremes", "linear". */
const char *dl_rw_name(dl_rw_strategy s);
/* Strategy of a name, -1 when unknown. */
int dl_rw_parse(const char *name);
/* The list of names for help texts: "uniform|linupper|quadratic|extremes|linear". */
const char *dl_rw_names(void);

/* Step 1: x[i] in [-delta, delta]. */
void dl_rw_normalise(const float *loss, int n, double delta, double *x);
/* Step 2 for one normalised loss. */
double dl_rw_strategy_f(dl_rw_strategy s, double x, double delta);
/* Steps 1-3 at temperature r: w sums to 1. Uniform gives 1/n exactly. */
void dl_rw_weights_r(dl_rw_strategy s, double delta, double r, const float *loss, int n, float *w);
/* The weights a training step uses (warm-up included). */
void dl_rw_weights(const dl_reweight *rw, int64_t step, const float *loss, int n, float *w);
/* 1 when step is still in the warm-up. */
int dl_rw_in_warmup(const dl_reweight *rw, int64_t step);

/* Step 4 on a graph: scalar sum_i w[i] * losses[i] over a vector [n] of
 * per-sample losses; `w` is copied into the graph's arena and gets no
 * gradient, so d/d losses[i] = w[i]. With w = 1/n this is the mean. */
dl_tensor *dl_rw_weighted_loss(dl_graph *g, dl_tensor *losses, const float *w);

#ifdef __cplusplus
}
#endif
#endif
