/* A run: its directory, log, metrics stream, final values, plots and claims.
 *
 * runs/<exp>/<name>/ holds config.json, metrics.jsonl (one JSON object per
 * logged step), summary.json (final metrics, claims, plots), log.txt,
 * plots/ (PNG + SVG) and, for resumable systems, checkpoint.safetensors. */
#ifndef DYNLAB_RUN_H
#define DYNLAB_RUN_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DL_MAX_CLAIMS 32
#define DL_MAX_PLOTS 48
#define DL_MAX_FINAL 128
/* Longest run directory path: leaves room in the fixed path buffers for
 * every file name below it ("plots/<name>.png", "<file>.prev", temp files). */
#define DL_RUN_DIR_MAX 900

/* What a claim certifies (DESIGN.md, "Experiments"):
 *   LEARNED     a property training must produce; it must FAIL under
 *               `--control untrained` (the same run with learning disabled);
 *   STRUCTURAL  an exact identity, a closed form, a solver's optimality or a
 *               property that holds by architecture; it may pass untrained.
 * UNSPECIFIED is how the report shows a summary.json without a kind (runs
 * written before claims declared one). */
typedef enum { DL_CLAIM_UNSPECIFIED = 0, DL_CLAIM_LEARNED = 1, DL_CLAIM_STRUCTURAL = 2 } dl_claim_kind;

/* The run's control setting (`dynlab run EXP --control untrained`). */
typedef enum { DL_CONTROL_NONE = 0, DL_CONTROL_UNTRAINED = 1 } dl_control;

typedef struct dl_claim {
    char id[16];           /* "C1" */
    int kind;              /* dl_claim_kind */
    char statement[512];   /* the paper's claim as a check */
    char source[256];      /* where the paper states it (abstract, Prop. 1, Fig. 2 ...) */
    char threshold[128];   /* human-readable threshold, e.g. ">= 0.95" */
    double measured;
    char measured_text[640];/* optional richer text (one value per dataset or case); empty = print `measured` */
    int pass;
} dl_claim;

typedef struct dl_run {
    char exp[64];
    char dir[1024];        /* run directory */
    uint64_t seed;
    int threads;
    int resume;
    int quick;             /* 1 when the quick preset is in use */
    int quiet;             /* suppress progress output (error lines still print) */
    int failed;            /* set before dl_run_close on failure: summary.json is left as it was */
    FILE *log, *metrics;
    int metrics_open_row;  /* inside metrics_begin/end */
    int metrics_first_key;
    struct { char key[64]; double value; char text[128]; int is_text; } final[DL_MAX_FINAL];
    int n_final;
    dl_claim claims[DL_MAX_CLAIMS];
    int n_claims;
    struct { char file[128]; char caption[256]; } plots[DL_MAX_PLOTS];
    int n_plots;
    /* Set by the CLI for summary.json and the report. */
    const char *title, *arxiv, *paper_summary;
    char preset[32];
    double t_start;
    int progress_tty;
    double progress_last;
    /* Data parallel over MPI ranks (`dynlab run EXP --dp` under mpirun): set
     * by the CLI; a system that supports it all-reduces its gradients
     * (src/dist/dist.h). Only rank 0's run directory is the real one. */
    int dp;
    /* Control run: set by the CLI before run(); a system reads it through
     * dl_run_untrained(), which also records that the system honoured it
     * (the CLI refuses to report a control run the system ignored). */
    int control;           /* dl_control */
    int control_applied;
    /* Internal to src/io/run.c: the run directory's lock (descriptor + 1, 0
     * when none) and whether dl_run_close found metrics.jsonl unwritable. */
    int lock_fd;
    int close_failed;
} dl_run;

/* Create dir (and plots/), take the directory's lock (a second run into the
 * same directory fails with one line naming the holder's pid), open log.txt
 * and metrics.jsonl (append on resume). */
int dl_run_open(dl_run *run, const char *exp, const char *dir, uint64_t seed, int threads,
                int resume, char *err, size_t errlen);
/* Write summary.json atomically (unless run->failed), close files, release
 * the lock. -1 when summary.json or metrics.jsonl could not be written (for
 * metrics.jsonl the error line is logged here and run->failed is set). */
int dl_run_close(dl_run *run);

/* Log line: to stderr (unless quiet; lines starting with "error" always) and
 * log.txt. printf-style. */
void dl_log(dl_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Metrics row: begin(step), add(key, value)..., end() -> one JSONL line. */
void dl_metrics_begin(dl_run *run, int64_t step);
void dl_metrics_add(dl_run *run, const char *key, double value);
void dl_metrics_add_str(dl_run *run, const char *key, const char *value);
void dl_metrics_end(dl_run *run);

/* Final values for summary.json ("final": {...}). */
void dl_final(dl_run *run, const char *key, double value);
void dl_final_str(dl_run *run, const char *key, const char *value);

/* Record a claim check of the given kind (dl_claim_kind). measured_text may
 * be NULL. Returns `pass`. */
int dl_claim_check(dl_run *run, int kind, const char *id, const char *statement, const char *source,
                   const char *threshold, double measured, const char *measured_text, int pass);
const char *dl_claim_kind_name(int kind);      /* "learned", "structural", "unspecified" */
const char *dl_control_name(int control);      /* "none", "untrained" */
/* Parse "none" / "untrained"; -1 when unknown. */
int dl_control_parse(const char *s);

/* 1 when this run is the untrained control: the system must then disable
 * every learning step (learning rates zero, or training skipped) and keep
 * everything else identical. Calling it marks the control as honoured. */
int dl_run_untrained(dl_run *run);
/* Print the claims table to stdout. Returns the number of failed claims. */
int dl_claims_print(const dl_run *run);

/* Register a plot written under <dir>/plots/ (file name only) with a caption. */
void dl_plot_register(dl_run *run, const char *file, const char *caption);
/* Full path for a file in the run directory ("plots/x.png" etc.) */
const char *dl_run_path(const dl_run *run, const char *rel, char *buf, size_t n);

/* Progress bar on a terminal, a plain line every few seconds otherwise. */
void dl_progress(dl_run *run, const char *label, int64_t done, int64_t total, const char *extra);

/* NaN/inf guard for training loops: logs "error: <what> is <v> at step N"
 * and returns -1 when v is not finite, else 0. The caller stops the run and
 * returns non-zero (files already written stay intact). */
int dl_check_finite(dl_run *run, const char *what, double v, int64_t step);

double dl_now(void); /* monotonic seconds */

/* Write `data` to `path` atomically (temp file, fsync, rename). */
int dl_write_atomic(const char *path, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
