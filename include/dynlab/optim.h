/* Optimizers over a dl_params store; frozen parameters (requires_grad == 0)
 * are skipped. State is kept per parameter, in the store's order, so it can be
 * checkpointed by name ("<param>.m", "<param>.v", "<param>.mom"). */
#ifndef DYNLAB_OPTIM_H
#define DYNLAB_OPTIM_H

#include "dynlab/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { DL_OPT_SGD = 0, DL_OPT_ADAM, DL_OPT_ADAMW } dl_opt_kind;

/* The current step's factors, set by dl_optim_begin (not settings: read only). */
typedef struct dl_optim_coef {
    float lr, l2, decay_mul, step_size, sqrt_bc2;
} dl_optim_coef;

typedef struct dl_optim {
    dl_opt_kind kind;
    float lr, momentum, weight_decay, beta1, beta2, eps;
    int64_t step;     /* number of steps taken */
    dl_params *ps;
    float **m, **v;   /* per parameter (NULL where unused) */
    int n_state;      /* length of m and v (grows with the store) */
    dl_optim_coef coef;
} dl_optim;

/* Defaults as PyTorch: momentum 0, beta1 0.9, beta2 0.999, eps 1e-8,
 * weight_decay 0 (SGD, Adam) or 0.01 (AdamW). Set fields after init to change.
 * State buffers are allocated on the first step that needs them. */
void dl_optim_init(dl_optim *o, dl_params *ps, dl_opt_kind kind, float lr);
void dl_optim_free(dl_optim *o);
/* One update with learning rate `lr` (pass o->lr for a constant rate). */
void dl_optim_step(dl_optim *o, float lr);
/* The same update in pieces, for callers that apply it as gradients become
 * ready: dl_optim_begin counts the step, computes its factors and allocates any
 * missing state; dl_optim_update_range then updates elements [lo, hi) of
 * parameter i of the store (frozen ones are skipped). Disjoint ranges may run on
 * different threads at once. begin + every range == dl_optim_step, bit for bit. */
void dl_optim_begin(dl_optim *o, float lr);
void dl_optim_update_range(const dl_optim *o, int i, int64_t lo, int64_t hi);
/* dl_replicas_step followed by dl_optim_step, fused: each chunk of the summed
 * gradient is updated while it is still in cache, in the same parallel pass,
 * instead of the optimizer reading every gradient, weight and moment back from
 * memory afterwards. The same bits as the two calls. No use with gradient
 * clipping, which needs the whole gradient first. */
float dl_replicas_step_update(dl_replicas *rp, dl_replica_fn body, void *ctx, float grad_scale, dl_optim *o,
                              float lr);
/* Scales all gradients so their global L2 norm is at most max_norm; returns
 * the norm before clipping. */
double dl_clip_grad_norm(dl_params *ps, double max_norm);
double dl_grad_norm(const dl_params *ps);

typedef enum { DL_SCHED_CONSTANT = 0, DL_SCHED_WARMUP_LINEAR, DL_SCHED_COSINE } dl_sched_kind;
/* Learning rate at `step` (0-based): linear warmup over `warmup` steps, then
 * constant, linear decay to 0, or cosine decay to min_lr at `total`. */
float dl_lr_at(dl_sched_kind kind, float base_lr, float min_lr, int64_t step, int64_t warmup,
               int64_t total);

/* Projections used by constrained methods (projected SGD). */
void dl_project_simplex(double *x, int n); /* Euclidean projection onto the simplex */

#ifdef __cplusplus
}
#endif
#endif
