/* dynlab: implement, train and check the systems of recent ML papers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dynlab/conv.h"

#ifndef DYNLAB_VERSION
#define DYNLAB_VERSION "dev"
#endif

/* Subcommands that live in files landed separately are linked weakly, so the
 * program builds (and says so) while one is missing. */
int dl_cmd_report(int argc, char **argv) __attribute__((weak));
int dl_cmd_bench(int argc, char **argv) __attribute__((weak));
int dl_cmd_eval(int argc, char **argv);
int dl_cmd_detect(int argc, char **argv);

static void usage(FILE *f) {
    fprintf(f,
            "usage: dynlab <command> [options]\n"
            "\n"
            "commands:\n"
            "  list                      the registered paper systems, one line each\n"
            "  run EXP [options]         train/evaluate one system, check its claims\n"
            "  reproduce [EXP...]        run systems (default: all, quick preset) and write the HTML report\n"
            "  report RUN_DIR... -o DIR  build the HTML report from run directories\n"
            "  config EXP [--preset P]   print every knob of a system with its value and help\n"
            "  sweep EXP [options]       seeds x --grid KEY=V1,V2,... runs, spread over mpirun's ranks\n"
            "  bench [options]           time training steps and sgemm (see docs/benchmarks.md)\n"
            "  serve gpt --checkpoint F  OpenAI-compatible chat-completions server for a trained gpt\n"
            "  eval rtdetr --data DIR    COCO evaluation (pycocotools' definitions) of a checkpoint or results file\n"
            "  detect rtdetr --checkpoint F IMAGE... -o DIR   draw an rtdetr checkpoint's detections\n"
            "\n"
            "  dynlab <command> --help   options of one command\n"
            "  dynlab --version\n"
            "\n"
            "exit status: 0 success, 1 run failure (or a failed claim in reproduce), 2 usage/config error\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return DL_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return DL_EXIT_OK;
    }
    if (!strcmp(cmd, "--version")) {
        printf("dynlab %s\n", DYNLAB_VERSION);
        return DL_EXIT_OK;
    }
    /* The convolution algorithm comes from the environment: a bad value is a
     * usage error before any command starts, not a failure in the middle of a run. */
    const char *algo = getenv("DYNLAB_CONV_ALGO");
    if (algo && *algo && dl_conv2d_algo_parse(algo) < 0) {
        fprintf(stderr, "dynlab: DYNLAB_CONV_ALGO='%s': expected auto, im2col, winograd or winograd2\n", algo);
        return DL_EXIT_USAGE;
    }
    /* Likewise the huge-page switch (src/core/bigalloc.c): unset, 0 or 1. */
    const char *huge = getenv("DYNLAB_HUGEPAGES");
    if (huge && *huge && strcmp(huge, "0") && strcmp(huge, "1")) {
        fprintf(stderr, "dynlab: DYNLAB_HUGEPAGES='%s': expected 0 (off) or 1 (on, the default)\n", huge);
        return DL_EXIT_USAGE;
    }
    if (!strcmp(cmd, "list")) return dl_cmd_list(argc - 1, argv + 1);
    if (!strcmp(cmd, "run")) return dl_cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "reproduce")) return dl_cmd_reproduce(argc - 1, argv + 1);
    if (!strcmp(cmd, "config")) return dl_cmd_config(argc - 1, argv + 1);
    if (!strcmp(cmd, "sweep")) return dl_cmd_sweep(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve")) return dl_cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "eval")) return dl_cmd_eval(argc - 1, argv + 1);
    if (!strcmp(cmd, "detect")) return dl_cmd_detect(argc - 1, argv + 1);
    if (!strcmp(cmd, "report") || !strcmp(cmd, "bench")) {
        int (*fn)(int, char **) = !strcmp(cmd, "report") ? dl_cmd_report : dl_cmd_bench;
        if (!fn) {
            fprintf(stderr, "dynlab: '%s' is not built into this binary\n", cmd);
            return DL_EXIT_FAIL;
        }
        return fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "dynlab: unknown command '%s' (see dynlab --help)\n", cmd);
    return DL_EXIT_USAGE;
}
