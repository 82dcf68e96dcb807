/* The three transformer training-step workloads (docs/benchmarks.md):
 * token embedding + learned positions, pre-LN blocks (causal multi-head
 * attention, GELU MLP of width 4d), final layernorm, linear head without
 * bias, mean cross-entropy over all positions, AdamW (lr 1e-3), fixed random
 * tokens. bench/torch_ref.py builds the same models in PyTorch. */
#ifndef DYNLAB_BENCH_WORKLOADS_H
#define DYNLAB_BENCH_WORKLOADS_H
#include <stdint.h>

typedef struct {
    const char *name;
    int vocab, seq, d_model, heads, layers, batch;
} bench_workload;

extern const bench_workload bench_workloads[];
extern const int bench_n_workloads;
const bench_workload *bench_workload_find(const char *name);

typedef struct {
    double ms_median, ms_min, ms_max; /* per warm step */
    double cpu_ms_median;             /* process CPU time per warm step (all threads) */
    double gflops;                    /* train FLOPs / median step time */
    double first_loss, last_loss;
    int64_t params;                   /* trainable floats */
    int replicas;                     /* micro-batches run side by side (core.h) */
    double state_mb;                  /* params + grads (one per replica) + AdamW m, v */
    double arena_mb;                  /* activation arena high-water mark */
    double peak_rss_mb;               /* process peak resident set during the run */
    double heap_allocs_per_step;      /* arena/tape heap allocations after step 1 */
} bench_result;

/* Builds the model, runs `warmup` untimed steps and `steps` timed steps on
 * the current thread count, the batch split into `replicas` micro-batches that
 * run on the threads side by side (0: one per thread when the batch divides,
 * else 1; 1: every op threaded on its own). Returns 0, or -1 with a message on
 * stderr. */
int bench_run_workload(const bench_workload *w, int warmup, int steps, uint64_t seed,
                       int replicas, bench_result *out);
/* gru-text (bench/workload_gru_text.c): text CNN per day + GRU over days, BCE. */
int bench_run_gru_text(const bench_workload *w, int warmup, int steps, uint64_t seed, int replicas,
                       bench_result *out);
double bench_gru_text_train_flops(int B);
#endif
