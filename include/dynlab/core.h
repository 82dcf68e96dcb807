/* dynlab core: float32 tensors, the per-step arena, the autograd tape and the ops.
 *
 * Execution is eager: every op computes its output at once and, when any input
 * needs a gradient, appends one record to the graph's tape. dl_backward() walks
 * the tape in reverse. Activations (and their gradients) live in the graph's
 * arena, which dl_graph_reset() rewinds after the optimizer step, so a training
 * step performs no heap allocation once the arena has grown on the first step.
 *
 * Parameters live in a dl_params store (persistent data + gradient buffers,
 * stable names for checkpoints). Freezing a parameter = clearing requires_grad.
 */
#ifndef DYNLAB_CORE_H
#define DYNLAB_CORE_H

#include <stddef.h>
#include <stdint.h>
#include "dynlab/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DL_MAX_DIMS 4

typedef struct dl_tensor {
    float *data;        /* row-major, contiguous, `size` floats */
    float *grad;        /* same shape as data; NULL until needed */
    int64_t size;       /* product of shape */
    int ndim;           /* 0 (scalar) .. DL_MAX_DIMS */
    int shape[DL_MAX_DIMS];
    int requires_grad;  /* parameter: trainable; activation: depends on one */
    int is_param;       /* owned by a dl_params store (grad persists across steps) */
    int index;          /* parameters: position in their store (replica gradient slot) */
    int is_buffer;      /* a non-trainable state tensor (batch-norm running statistics) */
    const char *name;   /* parameters only */
} dl_tensor;

/* ---- parameter store ---------------------------------------------------- */
typedef struct dl_params {
    dl_tensor **items;
    int n, cap;
} dl_params;

void dl_params_init(dl_params *ps);
void dl_params_free(dl_params *ps);
/* New zero-filled trainable parameter; `name` is copied (e.g. "blocks.0.attn.wq"). */
dl_tensor *dl_param_new(dl_params *ps, const char *name, int ndim, const int *shape);
/* A non-trainable state tensor of the store (zero-filled, requires_grad = 0, never
 * made trainable by dl_params_set_trainable): saved in checkpoints, skipped by
 * optimizers (as PyTorch's registered buffers). */
dl_tensor *dl_buffer_new(dl_params *ps, const char *name, int ndim, const int *shape);
dl_tensor *dl_params_find(const dl_params *ps, const char *name);
void dl_params_zero_grad(dl_params *ps);
int64_t dl_params_count(const dl_params *ps); /* total floats */
/* Freeze / unfreeze every parameter whose name starts with `prefix` ("" = all). */
void dl_params_set_trainable(dl_params *ps, const char *prefix, int trainable);

/* ---- graph: arena + tape + step-local state ----------------------------- */
typedef struct dl_graph dl_graph;

dl_graph *dl_graph_new(void);
void dl_graph_free(dl_graph *g);
/* Drop all activations and tape records (call after the optimizer step). */
void dl_graph_reset(dl_graph *g);
/* Training mode enables dropout; gradient recording is on by default. */
void dl_graph_set_training(dl_graph *g, int training);
void dl_graph_set_grad_enabled(dl_graph *g, int enabled);
/* RNG used by stochastic ops (dropout); keyed by (seed, stream). */
void dl_graph_set_rng(dl_graph *g, uint64_t seed, uint64_t stream);
dl_rng *dl_graph_rng(dl_graph *g);
/* Heap allocations made by the arena/tape so far (constant after step 1). */
int64_t dl_graph_heap_allocs(const dl_graph *g);
size_t dl_graph_arena_bytes(const dl_graph *g); /* high-water mark */

/* Scratch memory from the arena (valid until dl_graph_reset). 64-byte aligned. */
void *dl_graph_alloc(dl_graph *g, size_t bytes);

/* New activation tensor in the arena (uninitialised / zeroed), no grad. */
dl_tensor *dl_tensor_new(dl_graph *g, int ndim, const int *shape);
dl_tensor *dl_tensor_zeros(dl_graph *g, int ndim, const int *shape);
/* Wrap caller-owned memory as a constant (no grad) tensor; data is not copied. */
dl_tensor *dl_tensor_wrap(dl_graph *g, float *data, int ndim, const int *shape);
/* Convenience shape helpers. */
int64_t dl_shape_size(int ndim, const int *shape);

/* Backward from a scalar loss: d loss/d loss = 1, accumulates into the .grad of
 * every parameter the loss depends on (call dl_params_zero_grad before the step).
 * Activation gradients are arena scratch: each is recycled once its producing op
 * has run, so after dl_backward an activation's .grad is NULL (read activation
 * gradients inside a dl_tape_custom backward instead). Calling dl_backward on
 * several losses of one graph adds their parameter gradients. */
void dl_backward(dl_graph *g, dl_tensor *loss);

/* Custom op hook for experiment-specific fused ops: `out` was computed by the
 * caller; `backward(g, rec_ctx)` must add into the inputs' grads (allocate
 * with dl_tensor_grad). ctx is copied into the arena (ctx_bytes). */
typedef void (*dl_backward_fn)(dl_graph *g, dl_tensor *out, dl_tensor **inputs, int n_inputs,
                               void *ctx);
void dl_tape_custom(dl_graph *g, dl_tensor *out, dl_tensor **inputs, int n_inputs,
                    dl_backward_fn backward, const void *ctx, size_t ctx_bytes);
/* The grad buffer of t, allocated zeroed in the arena on first use. */
float *dl_tensor_grad(dl_graph *g, dl_tensor *t);

/* ---- ops ----------------------------------------------------------------
 * Broadcasting: in binary ops, b's shape must equal a trailing suffix of a's
 * shape (b is repeated over a's leading dims), or b is a scalar (size 1). */
dl_tensor *dl_add(dl_graph *g, dl_tensor *a, dl_tensor *b);
dl_tensor *dl_sub(dl_graph *g, dl_tensor *a, dl_tensor *b);
dl_tensor *dl_mul(dl_graph *g, dl_tensor *a, dl_tensor *b);
dl_tensor *dl_div(dl_graph *g, dl_tensor *a, dl_tensor *b);
dl_tensor *dl_scale(dl_graph *g, dl_tensor *x, float alpha);      /* alpha*x */
dl_tensor *dl_add_scalar(dl_graph *g, dl_tensor *x, float c);     /* x+c */

/* C = op(A) @ op(B). A: [..., M, K] (or [..., K, M] if trans_a); B: [K, N]
 * (or [N, K] if trans_b), shared over A's leading dims, or batched with the
 * same leading dims as A. */
dl_tensor *dl_matmul(dl_graph *g, dl_tensor *a, dl_tensor *b, int trans_a, int trans_b);

/* Fused linear layer: x @ op(w) + bias, i.e. dl_add(dl_matmul(x, w, 0, trans_w), bias)
 * in one op: x [..., K]; w [K, N] (or [N, K], PyTorch's Linear layout, with trans_w);
 * bias [N] or NULL. Saves the separate add's pass and its activation. */
dl_tensor *dl_matmul_bias(dl_graph *g, dl_tensor *x, dl_tensor *w, dl_tensor *bias, int trans_w);

/* Reductions over one axis (negative axis counts from the end). */
dl_tensor *dl_sum(dl_graph *g, dl_tensor *x, int axis, int keepdim);
dl_tensor *dl_mean(dl_graph *g, dl_tensor *x, int axis, int keepdim);
dl_tensor *dl_max(dl_graph *g, dl_tensor *x, int axis, int keepdim);
dl_tensor *dl_sum_all(dl_graph *g, dl_tensor *x);   /* scalar */
dl_tensor *dl_mean_all(dl_graph *g, dl_tensor *x);  /* scalar */

/* Elementwise. */
dl_tensor *dl_exp(dl_graph *g, dl_tensor *x);
/* Natural log (named dl_ln because dl_log is the run logger in run.h). */
dl_tensor *dl_ln(dl_graph *g, dl_tensor *x);
dl_tensor *dl_sqrt(dl_graph *g, dl_tensor *x);
dl_tensor *dl_tanh(dl_graph *g, dl_tensor *x);
dl_tensor *dl_sigmoid(dl_graph *g, dl_tensor *x);
dl_tensor *dl_relu(dl_graph *g, dl_tensor *x);
dl_tensor *dl_gelu(dl_graph *g, dl_tensor *x);      /* tanh approximation, as GPT-2 */
dl_tensor *dl_square(dl_graph *g, dl_tensor *x);
dl_tensor *dl_abs(dl_graph *g, dl_tensor *x);

/* Softmax over the last axis. `mask` (optional) is additive and broadcast like
 * a binary-op b; `causal` masks key j > query i + (Tk - Tq) over the last two
 * dims. */
dl_tensor *dl_softmax(dl_graph *g, dl_tensor *x, dl_tensor *mask, int causal);
dl_tensor *dl_log_softmax(dl_graph *g, dl_tensor *x, dl_tensor *mask, int causal);

/* LayerNorm over the last axis; gamma/beta [D] may be NULL. */
dl_tensor *dl_layernorm(dl_graph *g, dl_tensor *x, dl_tensor *gamma, dl_tensor *beta, float eps);

/* Rows of `table` [V, D] at ids; output shape = (ndim, shape) + [D]. */
dl_tensor *dl_embedding(dl_graph *g, dl_tensor *table, const int *ids, int ndim, const int *shape);

/* Shape ops. */
dl_tensor *dl_concat(dl_graph *g, dl_tensor **xs, int n, int axis);
dl_tensor *dl_slice(dl_graph *g, dl_tensor *x, int axis, int start, int len);
dl_tensor *dl_reshape(dl_graph *g, dl_tensor *x, int ndim, const int *shape);
dl_tensor *dl_permute(dl_graph *g, dl_tensor *x, const int *perm);
dl_tensor *dl_transpose(dl_graph *g, dl_tensor *x, int axis0, int axis1);

/* Inverted dropout (identity when not training or p == 0). */
dl_tensor *dl_dropout(dl_graph *g, dl_tensor *x, float p);

/* Losses. logits [N, C]; targets[i] in [0, C) or == ignore_index; weights
 * (optional, per example) scale each term. Mean = sum_i w_i*l_i / (number of
 * non-ignored examples). */
dl_tensor *dl_cross_entropy(dl_graph *g, dl_tensor *logits, const int *targets,
                            const float *weights, int ignore_index);
/* Per-example cross-entropy: a vector [N] (0 at ignored positions). */
dl_tensor *dl_cross_entropy_each(dl_graph *g, dl_tensor *logits, const int *targets,
                                 int ignore_index);
dl_tensor *dl_mse(dl_graph *g, dl_tensor *pred, dl_tensor *target);   /* mean (p-t)^2 */
/* mean log(1 + exp(-y f)), y in {-1,+1}, f and y of equal size. */
dl_tensor *dl_logistic_loss(dl_graph *g, dl_tensor *f, const float *y);
/* mean max(0, 1 - y f). */
dl_tensor *dl_hinge_loss(dl_graph *g, dl_tensor *f, const float *y);

/* Fused causal multi-head attention core used by the transformer block:
 * q, k, v: [B, H, T, Dh] -> out [B, H, T, Dh]; softmax(q k^T * scale + causal).
 * If `keep_weights` is non-NULL it receives the attention weights
 * [B, H, T, T] (arena memory, valid until reset). */
dl_tensor *dl_attention(dl_graph *g, dl_tensor *q, dl_tensor *k, dl_tensor *v, float scale,
                        int causal, float **keep_weights);

/* The same with the heads packed in the last dim, as the Q/K/V projections produce
 * them: q [B, T, H*Dh], k [B, S, H*Dh], v [B, S, H*Dv] -> out [B, T, H*Dv], head h
 * using columns h*Dh .. (h+1)*Dh-1. Equal to splitting the heads with
 * reshape + permute, calling dl_attention and merging them back, without the four
 * copies (and their backward). `causal` hides key j from query i when
 * j > i + (S - T). keep_weights receives [B, H, T, S]. */
dl_tensor *dl_attention_heads(dl_graph *g, dl_tensor *q, dl_tensor *k, dl_tensor *v, int heads,
                              float scale, int causal, float **keep_weights);

/* ---- threads -------------------------------------------------------------- */
void dl_set_threads(int n);  /* n <= 0: all cores */
int dl_get_threads(void);

/* ---- replicas: data parallelism over threads inside one step --------------
 * The papers' models are too small for one matrix product to keep two cores
 * busy, so the fastest way to use them is to split the batch: n micro-batches
 * run forward and backward at the same time, one per thread, each on its own
 * graph, with every op inside single-threaded (no fork/join per op). The
 * parameters are shared read-only; replica r writes its parameter gradients to
 * its own buffers (replica 0 to the parameters' .grad), and the step ends with
 *   param.grad = grad_scale * (grad_0 + grad_1 + ... + grad_{n-1})
 * summed in replica order, so results depend on n, not on the thread count:
 * with fewer threads than replicas the micro-batches run in turn. Parameter
 * gradients are overwritten (no dl_params_zero_grad needed); a trainable
 * parameter no replica touched gets a zero gradient. */
typedef struct dl_replicas dl_replicas;
/* Builds replica r's micro-batch loss on g (already reset), calls dl_backward,
 * and returns a number (the loss, say) that dl_replicas_step averages. */
typedef float (*dl_replica_fn)(dl_graph *g, int replica, int n_replicas, void *ctx);

/* Create after the model's parameters: parameters added to ps later are not routed. */
dl_replicas *dl_replicas_new(dl_params *ps, int n);
void dl_replicas_free(dl_replicas *rp);
int dl_replicas_count(const dl_replicas *rp);
/* Replica r's graph (to set training mode or a dropout RNG stream). */
dl_graph *dl_replicas_graph(dl_replicas *rp, int r);
/* One step of every replica, then the gradient sum; returns the mean of the
 * bodies' results. Graphs are reset at the start, so activations stay readable
 * until the next step. grad_scale = 1/n for equal micro-batches of a mean loss. */
float dl_replicas_step(dl_replicas *rp, dl_replica_fn body, void *ctx, float grad_scale);
/* The same, calling done(done_ctx, i, lo, hi) once for every chunk [lo, hi) of
 * each trainable parameter i as soon as that chunk's sum is in param.grad (on the
 * thread that summed it; chunks are disjoint and run in parallel). With done
 * NULL this is dl_replicas_step. (dl_replicas_step_update in dynlab/optim.h
 * applies the optimizer this way.) */
typedef void (*dl_grad_chunk_fn)(void *done_ctx, int param, int64_t lo, int64_t hi);
float dl_replicas_step_each(dl_replicas *rp, dl_replica_fn body, void *ctx, float grad_scale, dl_grad_chunk_fn done,
                            void *done_ctx);
/* Drop the last step's activations now (dl_graph_reset of every replica). */
void dl_replicas_reset(dl_replicas *rp);
/* Arena high-water marks and heap allocations, summed over the replicas. */
size_t dl_replicas_arena_bytes(const dl_replicas *rp);
int64_t dl_replicas_heap_allocs(const dl_replicas *rp);

#ifdef __cplusplus
}
#endif
#endif
