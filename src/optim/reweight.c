/* Loss-based sample reweighting: the weight pipeline of Algorithm 1 in Sow et
 * al. (ICLR 2025), read from the authors' code (normalisation with the batch
 * extremes and delta = 1, the strategy shapes of their Figure 1, the
 * KL-regularised softmax of their Eq. (4), warm-up with plain averaging).
 * See include/dynlab/reweight.h and docs/papers/reweight.md. */
#include <math.h>
#include <string.h>
#include "dynlab/reweight.h"

static const char *const rw_names[DL_RW_COUNT] = {"uniform", "linupper", "quadratic", "extremes",
                                                  "linear"};

const char *dl_rw_name(dl_rw_strategy s) {
    return (s >= 0 && s < DL_RW_COUNT) ? rw_names[s] : "?";
}

int dl_rw_parse(const char *name) {
    for (int i = 0; i < DL_RW_COUNT; i++)
        if (!strcmp(name, rw_names[i])) return i;
    return -1;
}

const char *dl_rw_names(void) { return "uniform|linupper|quadratic|extremes|linear"; }

/* x_i = delta (2 l_i - l_max - l_min) / max(l_max - l_min, 1e-6): the batch
 * minimum maps to -delta, the maximum to +delta (a batch of equal losses to 0). */
void dl_rw_normalise(const float *loss, int n, double delta, double *x) {
    if (n <= 0) return;
    double lo = loss[0], hi = loss[0];
    for (int i = 1; i < n; i++) {
        lo = fmin(lo, (double)loss[i]);
        hi = fmax(hi, (double)loss[i]);
    }
    const double span = fmax(hi - lo, 1e-6);
    for (int i = 0; i < n; i++) x[i] = delta * (2.0 * loss[i] - hi - lo) / span;
}

double dl_rw_strategy_f(dl_rw_strategy s, double x, double delta) {
    switch (s) {
    case DL_RW_LINUPPER: return fmin(x + delta, delta);   /* low losses down, cap from mid-range */
    case DL_RW_QUADRATIC: return 1.0 - x * x / (delta * delta); /* mid-range favoured */
    case DL_RW_EXTREMES: return fabs(x);                  /* both extremes favoured */
    case DL_RW_LINEAR: return 0.5 * x + 0.5 * delta;      /* monotone, uncapped */
    default: return 0.0;                                  /* uniform */
    }
}

/* Two passes over the batch (max f, then the softmax), recomputing the
 * normalised loss on the fly so no scratch memory is needed. */
void dl_rw_weights_r(dl_rw_strategy s, double delta, double r, const float *loss, int n, float *w) {
    if (n <= 0) return;
    if (s == DL_RW_UNIFORM || !(r > 0)) {
        for (int i = 0; i < n; i++) w[i] = 1.0f / (float)n;
        return;
    }
    double lo = loss[0], hi = loss[0];
    for (int i = 1; i < n; i++) {
        lo = fmin(lo, (double)loss[i]);
        hi = fmax(hi, (double)loss[i]);
    }
    const double span = fmax(hi - lo, 1e-6);
    double fmax_ = -INFINITY;
    for (int i = 0; i < n; i++) {
        double x = delta * (2.0 * loss[i] - hi - lo) / span;
        fmax_ = fmax(fmax_, dl_rw_strategy_f(s, x, delta));
    }
    double z = 0;
    for (int i = 0; i < n; i++) {
        double x = delta * (2.0 * loss[i] - hi - lo) / span;
        z += exp((dl_rw_strategy_f(s, x, delta) - fmax_) / r);
    }
    for (int i = 0; i < n; i++) {
        double x = delta * (2.0 * loss[i] - hi - lo) / span;
        w[i] = (float)(exp((dl_rw_strategy_f(s, x, delta) - fmax_) / r) / z);
    }
}

int dl_rw_in_warmup(const dl_reweight *rw, int64_t step) { return step < rw->warmup; }

void dl_rw_weights(const dl_reweight *rw, int64_t step, const float *loss, int n, float *w) {
    if (dl_rw_in_warmup(rw, step)) {
        /* GPT-2 code: plain mean for the burn-out steps; fms-fsdp: a large r. */
        dl_rw_weights_r(rw->warmup_r > 0 ? rw->strategy : DL_RW_UNIFORM, rw->delta, rw->warmup_r,
                        loss, n, w);
        return;
    }
    dl_rw_weights_r(rw->strategy, rw->delta, rw->r, loss, n, w);
}

dl_tensor *dl_rw_weighted_loss(dl_graph *g, dl_tensor *losses, const float *w) {
    int shape[1] = {(int)losses->size};
    dl_tensor *wt = dl_tensor_new(g, 1, shape); /* arena, requires_grad 0: a stop-gradient */
    memcpy(wt->data, w, (size_t)losses->size * sizeof *w);
    return dl_sum_all(g, dl_mul(g, losses, wt));
}
