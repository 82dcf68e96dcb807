/* Training-step workloads for `dynlab bench` (docs/benchmarks.md). Compiled into
 * the dynlab program through tools/cmd_bench.c. */

#include "workloads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dynlab/core.h"
#include "dynlab/nn.h"
#include "dynlab/optim.h"

/* name, vocab, seq T, d_model, heads, layers, batch */
const bench_workload bench_workloads[] = {
    {"onelayer", 8, 16, 32, 2, 1, 256},
    {"gpt-tiny", 256, 64, 128, 4, 2, 16},
    {"gpt-small", 512, 128, 256, 8, 4, 8},
    /* not a GPT: bench/workload_gru_text.c (vocab, days, embedding width; batch 32) */
    {"gru-text", 5000, 20, 128, 0, 0, 32},
};
const int bench_n_workloads = (int)(sizeof bench_workloads / sizeof *bench_workloads);

const bench_workload *bench_workload_find(const char *name)
{
    for (int i = 0; i < bench_n_workloads; i++)
        if (!strcmp(bench_workloads[i].name, name)) return &bench_workloads[i];
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Peak resident set: VmHWM from /proc/self/status (kB), reset through
 * /proc/self/clear_refs so each workload gets its own peak. */
static void reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return;
    fputs("5", f);
    fclose(f);
}

static double peak_rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0.0;
    char line[256];
    double kb = 0.0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = atof(line + 6);
    fclose(f);
    return kb / 1024.0;
}

/* Process CPU time (all threads): on a shared machine, preemption does not count. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One replica's share of the step: its micro-batch's loss and backward. */
typedef struct {
    dl_gpt *model;
    const int *tokens, *targets;
    int B, T;
} bench_step_ctx;

static float bench_replica_step(dl_graph *g, int r, int n, void *ctx)
{
    const bench_step_ctx *c = ctx;
    int b0 = c->B * r / n, b1 = c->B * (r + 1) / n;
    dl_tensor *loss = dl_gpt_loss(g, c->model, c->tokens + (long)b0 * c->T,
                                  c->targets + (long)b0 * c->T, b1 - b0, c->T);
    dl_backward(g, loss);
    return loss->data[0];
}

int bench_run_workload(const bench_workload *w, int warmup, int steps, uint64_t seed,
                       int replicas, bench_result *out)
{
    if (!strcmp(w->name, "gru-text")) return bench_run_gru_text(w, warmup, steps, seed, replicas, out);
    memset(out, 0, sizeof *out);
    reset_peak_rss();
    dl_gpt_config cfg = {.vocab = w->vocab, .seq_len = w->seq, .d_model = w->d_model,
                         .heads = w->heads, .layers = w->layers, .mlp_mult = 4, .dropout = 0.0f};
    dl_rng rng;
    dl_rng_init(&rng, seed, 0);
    dl_params ps;
    dl_params_init(&ps);
    dl_gpt model;
    dl_gpt_init(&model, &ps, &cfg, &rng);
    dl_optim opt;
    dl_optim_init(&opt, &ps, DL_OPT_ADAMW, 1e-3f);
    int B = w->batch, T = w->seq, n = B * T;
    int threads = dl_get_threads();
    if (replicas <= 0) replicas = B % threads == 0 ? threads : 1;
    if (B % replicas) {
        fprintf(stderr, "bench: batch %d of %s does not split into %d equal micro-batches\n", B,
                w->name, replicas);
        dl_optim_free(&opt);
        dl_gpt_free(&model);
        dl_params_free(&ps);
        return -1;
    }
    dl_replicas *rp = dl_replicas_new(&ps, replicas);
    int *tokens = malloc(sizeof(int) * n), *targets = malloc(sizeof(int) * n);
    double *times = malloc(sizeof(double) * (steps > 0 ? steps : 1));
    double *cpu = malloc(sizeof(double) * (steps > 0 ? steps : 1));
    if (!tokens || !targets || !times || !cpu) {
        fprintf(stderr, "bench: out of memory\n");
        free(tokens), free(targets), free(times), free(cpu);
        dl_replicas_free(rp);
        dl_optim_free(&opt);
        dl_gpt_free(&model);
        dl_params_free(&ps);
        return -1;
    }
    dl_rng data_rng;
    dl_rng_init(&data_rng, seed, 1);
    for (int i = 0; i < n; i++) tokens[i] = (int)dl_rng_below(&data_rng, (uint32_t)w->vocab);
    for (int i = 0; i < n; i++) targets[i] = (int)dl_rng_below(&data_rng, (uint32_t)w->vocab);

    /* Equal micro-batches of a mean loss: the full-batch gradient is their mean. */
    bench_step_ctx ctx = {&model, tokens, targets, B, T};
    int64_t allocs_after_first = 0;
    for (int s = 0; s < warmup + steps; s++) {
        double t0 = now_s(), c0 = cpu_s();
        float lv = dl_replicas_step_update(rp, bench_replica_step, &ctx, 1.0f / (float)replicas, &opt, opt.lr);
        dl_replicas_reset(rp);
        double t = now_s() - t0, c = cpu_s() - c0;
        if (s >= warmup) cpu[s - warmup] = c;
        if (s == 0) {
            out->first_loss = lv;
            allocs_after_first = dl_replicas_heap_allocs(rp);
        }
        out->last_loss = lv;
        if (s >= warmup) times[s - warmup] = t;
    }
    int64_t allocs_end = dl_replicas_heap_allocs(rp);
    int nsteps = warmup + steps;
    out->heap_allocs_per_step =
        nsteps > 1 ? (double)(allocs_end - allocs_after_first) / (nsteps - 1) : 0.0;

    if (steps > 0) {
        qsort(times, (size_t)steps, sizeof *times, cmp_double);
        out->ms_median = 1e3 * (steps % 2 ? times[steps / 2]
                                          : 0.5 * (times[steps / 2 - 1] + times[steps / 2]));
        out->ms_min = 1e3 * times[0];
        out->ms_max = 1e3 * times[steps - 1];
        qsort(cpu, (size_t)steps, sizeof *cpu, cmp_double);
        out->cpu_ms_median = 1e3 * (steps % 2 ? cpu[steps / 2] : 0.5 * (cpu[steps / 2 - 1] + cpu[steps / 2]));
        out->gflops = dl_gpt_train_flops(&cfg, B, T) / (out->ms_median * 1e-3) * 1e-9;
    }
    out->params = dl_params_count(&ps);
    out->replicas = replicas;
    out->state_mb = (3.0 + replicas) * (double)out->params * sizeof(float) / (1024.0 * 1024.0);
    out->arena_mb = (double)dl_replicas_arena_bytes(rp) / (1024.0 * 1024.0);
    out->peak_rss_mb = peak_rss_mb();

    free(tokens);
    free(targets);
    free(times);
    free(cpu);
    dl_replicas_free(rp);
    dl_optim_free(&opt);
    dl_gpt_free(&model);
    dl_params_free(&ps);
    return 0;
}
