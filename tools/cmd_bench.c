/* `dynlab bench`: time warm training steps of the benchmark workloads, and the
 * sgemm microbenchmark (--sgemm). See docs/benchmarks.md for the figures and
 * bench/compare.sh for the side-by-side run against PyTorch. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dynlab/core.h"
#include "dynlab/gemm.h"
#include "dynlab/nn.h"

/* The benchmark logic lives in bench/ (on this program's include path) and is
 * compiled here as part of this one translation unit. */
#include "sgemm_bench.c"
#include "workloads.c"
#include "workload_gru_text.c"
#include "conv_workloads.c"

static void bench_usage(FILE *f)
{
    fprintf(f,
            "usage: dynlab bench [--threads N] [--replicas N] [--steps N] [--warmup N]\n"
            "                    [--json] [--workload NAME] [--sgemm] [--seed S]\n"
            "\n"
            "Times warm training steps (forward, backward, AdamW) of the benchmark workloads:\n"
            "  onelayer   vocab 8,   T 16,  d 32,  2 heads, 1 layer,  batch 256\n"
            "  gpt-tiny   vocab 256, T 64,  d 128, 4 heads, 2 layers, batch 16\n"
            "  gpt-small  vocab 512, T 128, d 256, 8 heads, 4 layers, batch 8\n"
            "  gru-text   ids [32 batch, 20 days, 32 tokens], vocab 5000, 128-d embeddings,\n"
            "             conv1d widths 3/4/5 x 100 filters + ReLU + max over tokens, GRU 300->128\n"
            "             over days, linear 128->1, BCE with logits\n"
            "  cnn-fmnist [128,1,28,28], conv3x3+BN+ReLU 32/64/128, max-pools, global pool, linear\n"
            "  resnet-det [4,3,256,256], ResNet-18 trunk, loss = mean squares of stages 2-4\n"
            "and prints the median ms/step, GFLOP/s, peak resident memory against the sum of\n"
            "parameters, gradients, AdamW state and activations, and heap allocations per step.\n"
            "\n"
            "  --threads N     threads (default: all cores)\n"
            "  --replicas N    split each batch into N micro-batches that run forward and\n"
            "                  backward side by side, one per thread, each op single-threaded\n"
            "                  (default: one per thread when the batch divides; 1 = every op\n"
            "                  spread over the threads instead)\n"
            "  --steps N       timed steps per workload (default 20)\n"
            "  --warmup N      untimed steps first (default 3)\n"
            "  --workload NAME only this workload (onelayer, gpt-tiny, gpt-small, gru-text,\n"
            "                  cnn-fmnist, resnet-det); repeatable\n"
            "  --sgemm         instead: the sgemm microbenchmark (dynlab vs OpenBLAS, square\n"
            "                  64..1024 and the workloads' shapes) against the measured fp32 peak\n"
            "  --conv          instead: conv2d forward+backward on resnet-det's shapes against\n"
            "                  the measured fp32 peak\n"
            "  --conv-choice   instead: 3x3 convolutions around auto's thresholds, each timed\n"
            "                  with im2col, winograd and winograd2, and the one auto takes\n"
            "  --conv-algo A   convolution algorithm: auto (default; DYNLAB_CONV_ALGO when\n"
            "                  set), im2col, winograd (F(4x4,3x3) for every 3x3 stride-1\n"
            "                  convolution) or winograd2 (F(2x2,3x3)); GFLOP/s stay\n"
            "                  direct-convolution FLOPs / time\n"
            "  --json          one JSON object per line\n"
            "  --seed S        model and token seed (default 1)\n"
            "\n"
            "exit status: 0 success, 1 failure, 2 usage error\n");
}

static int parse_int(const char *opt, const char *v, int lo, int hi, int *out)
{
    uint64_t x;
    if (dl_cli_parse_u64(v, &x) || x < (uint64_t)lo || x > (uint64_t)hi) {
        fprintf(stderr, "dynlab bench: %s expects an integer in [%d, %d], got '%s'\n", opt, lo, hi,
                v);
        return -1;
    }
    *out = (int)x;
    return 0;
}

static void bench_print_row(const char *name, int threads, int steps, int json, const bench_result *rr)
{
    const bench_result r = *rr;
    double sum_mb = r.state_mb + r.arena_mb;
    if (json)
        printf("{\"workload\": \"%s\", \"threads\": %d, \"replicas\": %d, \"ms_per_step\": %.4f, "
               "\"gflops\": %.2f, \"ms_min\": %.4f, \"ms_max\": %.4f, \"steps\": %d, "
               "\"first_loss\": %.5f, \"last_loss\": %.5f, \"params\": %lld, "
               "\"state_mb\": %.2f, \"activations_mb\": %.2f, \"memory_sum_mb\": %.2f, "
               "\"peak_rss_mb\": %.2f, \"heap_allocs_per_step\": %.3f, \"cpu_ms_per_step\": %.4f}\n",
               name, threads, r.replicas, r.ms_median, r.gflops, r.ms_min, r.ms_max, steps,
               r.first_loss, r.last_loss, (long long)r.params, r.state_mb, r.arena_mb, sum_mb,
               r.peak_rss_mb, r.heap_allocs_per_step, r.cpu_ms_median);
    else
        printf("%-10s %4d %9.3f %9.3f %8.1f %7.3f>%-7.3f %7.1fMB %8.1fMB %7.2f %12.2f\n", name,
               r.replicas, r.ms_median, r.ms_min, r.gflops, r.first_loss, r.last_loss, r.peak_rss_mb,
               sum_mb, sum_mb > 0 ? r.peak_rss_mb / sum_mb : 0.0, r.heap_allocs_per_step);
    fflush(stdout);
}

int dl_cmd_bench(int argc, char **argv)
{
    int threads = 0, replicas = 0, steps = 20, warmup = 3, json = 0, sgemm = 0, conv = 0, conv_choice = 0;
    uint64_t seed = 1;
    int selected[8] = {0}, conv_selected[8] = {0}, any_selected = 0; /* --workload may repeat */
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            bench_usage(stdout);
            return DL_EXIT_OK;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--threads"))) {
            if (parse_int("--threads", v, 0, 1024, &threads)) return DL_EXIT_USAGE;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--replicas"))) {
            if (parse_int("--replicas", v, 1, 1024, &replicas)) return DL_EXIT_USAGE;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--steps"))) {
            if (parse_int("--steps", v, 1, 1000000, &steps)) return DL_EXIT_USAGE;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--warmup"))) {
            if (parse_int("--warmup", v, 0, 1000000, &warmup)) return DL_EXIT_USAGE;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--workload"))) {
            const bench_workload *w = bench_workload_find(v);
            const bench_conv_workload *cw = bench_conv_find(v);
            if (cw) {
                conv_selected[cw - bench_conv_workloads] = any_selected = 1;
                continue;
            }
            if (!w) {
                fprintf(stderr,
                        "dynlab bench: unknown workload '%s' (onelayer, gpt-tiny, gpt-small, "
                        "gru-text, cnn-fmnist, resnet-det)\n",
                        v);
                return DL_EXIT_USAGE;
            }
            selected[w - bench_workloads] = any_selected = 1;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--seed"))) {
            if (dl_cli_parse_u64(v, &seed)) {
                fprintf(stderr, "dynlab bench: --seed expects a non-negative integer, got '%s'\n", v);
                return DL_EXIT_USAGE;
            }
        } else if ((v = dl_cli_opt(argc, argv, &i, "--conv-algo"))) {
            const int a = dl_conv2d_algo_parse(v);
            if (a < 0) {
                fprintf(stderr, "dynlab bench: --conv-algo expects auto, im2col, winograd or winograd2, got '%s'\n", v);
                return DL_EXIT_USAGE;
            }
            dl_conv2d_set_algo(a);
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--sgemm")) {
            sgemm = 1;
        } else if (!strcmp(argv[i], "--conv")) {
            conv = 1;
        } else if (!strcmp(argv[i], "--conv-choice")) {
            conv_choice = 1;
        } else {
            fprintf(stderr, "dynlab bench: unknown argument '%s' (see dynlab bench --help)\n",
                    argv[i]);
            return DL_EXIT_USAGE;
        }
    }
    for (int i = 0; replicas > 0 && !sgemm && i < bench_n_workloads; i++)
        if ((!any_selected || selected[i]) && bench_workloads[i].batch % replicas) {
            fprintf(stderr,
                    "dynlab bench: --replicas %d does not split %s's batch of %d into equal "
                    "micro-batches\n",
                    replicas, bench_workloads[i].name, bench_workloads[i].batch);
            return DL_EXIT_USAGE;
        }
    const char *env_algo = getenv("DYNLAB_CONV_ALGO");
    if (env_algo && *env_algo && dl_conv2d_algo_parse(env_algo) < 0) {
        fprintf(stderr, "dynlab bench: DYNLAB_CONV_ALGO='%s': expected auto, im2col, winograd or winograd2\n", env_algo);
        return DL_EXIT_USAGE;
    }
    dl_set_threads(threads);
    threads = dl_get_threads();

    if (conv_choice) {
        bench_conv_choice(stdout, threads, json);
        return DL_EXIT_OK;
    }
    if (conv) {
        double peak = bench_fma_peak(threads);
        bench_conv_table(stdout, threads, json, peak);
        return DL_EXIT_OK;
    }
    if (sgemm) {
        double peak = bench_fma_peak(threads);
        if (json)
            printf("{\"fma_peak_gflops\": %.2f, \"threads\": %d, \"isa\": \"%s\"}\n", peak,
                   threads, dl_gemm_isa());
        bench_sgemm_table(stdout, threads, json, peak);
        return DL_EXIT_OK;
    }

    if (!json) {
        printf("dynlab bench: %d thread(s), gemm kernel %s, %d warm-up + %d timed steps\n",
               threads, dl_gemm_isa(), warmup, steps);
        printf("%-10s %4s %9s %9s %8s %15s %9s %10s %7s %12s\n", "workload", "repl", "ms/step",
               "min ms", "GFLOP/s", "loss first>last", "peak RSS", "state+act", "ratio", "allocs/step");
    }
    for (int i = 0; i < bench_n_workloads; i++) {
        const bench_workload *w = &bench_workloads[i];
        if (any_selected && !selected[i]) continue;
        bench_result r;
        if (bench_run_workload(w, warmup, steps, seed, replicas, &r)) return DL_EXIT_FAIL;
        bench_print_row(w->name, threads, steps, json, &r);
    }
    for (int i = 0; i < bench_n_conv_workloads; i++) {
        const bench_conv_workload *w = &bench_conv_workloads[i];
        if (any_selected && !conv_selected[i]) continue;
        if (replicas > 0 && w->batch % replicas) {
            fprintf(stderr, "dynlab bench: --replicas %d does not split %s's batch of %d into equal micro-batches\n",
                    replicas, w->name, w->batch);
            return DL_EXIT_USAGE;
        }
        bench_result r;
        if (bench_run_conv_workload(w, warmup, steps, seed, replicas, &r)) return DL_EXIT_FAIL;
        bench_print_row(w->name, threads, steps, json, &r);
    }
    if (!json)
        printf("repl = micro-batches side by side; state+act = params + grads (one per replica)"
               " + AdamW m,v + activation arena; "
               "ratio = peak RSS / state+act\n");
    return DL_EXIT_OK;
}
