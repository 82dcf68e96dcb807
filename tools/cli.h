/* Shared pieces of the dynlab program's subcommands. */
#ifndef DYNLAB_CLI_H
#define DYNLAB_CLI_H

#include "dynlab/experiment.h"

/* Exit codes of every subcommand. */
enum { DL_EXIT_OK = 0, DL_EXIT_FAIL = 1, DL_EXIT_USAGE = 2 };

typedef struct dl_run_request {
    const dl_experiment *exp;
    const char *preset;       /* "quick", "paper", ... */
    const char *config_file;  /* optional JSON file applied after the preset */
    const char **sets;        /* "key=value" overrides, applied last */
    int n_sets;
    const char *out_dir;      /* NULL: runs/<exp>/<preset>-s<seed> */
    uint64_t seed;
    int threads;
    int resume;
    int quiet;
    /* Added for the MPI scale-out (zero = the old behaviour). */
    int no_table;             /* do not print the claims table (sweep jobs) */
    int dp;                   /* data parallel over the MPI ranks (run --dp) */
    int control;              /* dl_control: DL_CONTROL_UNTRAINED runs with learning disabled */
} dl_run_request;

/* Resolve the config, create the run directory, run, write summary.json and
 * print the claims table. Returns DL_EXIT_* ; *failed_claims (optional)
 * receives the number of failed claims; run_dir (optional) the directory. */
int dl_cli_run(const dl_run_request *req, int *failed_claims, char *run_dir, size_t run_dir_len);

/* Resolve the config of req (defaults, preset, file, sets) without running:
 * 0, or -1 with one line in err. */
int dl_cli_check_config(const dl_run_request *req, char *err, size_t errlen);

/* Option parsing helpers: "--name value" or "--name=value". */
const char *dl_cli_opt(int argc, char **argv, int *i, const char *name);
int dl_cli_parse_u64(const char *s, uint64_t *out);

int dl_cmd_run(int argc, char **argv);
int dl_cmd_list(int argc, char **argv);
int dl_cmd_reproduce(int argc, char **argv);
int dl_cmd_config(int argc, char **argv);
int dl_cmd_sweep(int argc, char **argv);
int dl_cmd_serve(int argc, char **argv);
/* Provided by their own files (report: the plot/report code; bench: bench/). */
int dl_cmd_report(int argc, char **argv);
int dl_cmd_bench(int argc, char **argv);

#endif
