/* Sweeps: the cartesian product of seeds and knob grids as a job list, run
 * on the ranks of an MPI group (or by one process), gathered into
 * sweep.json by rank 0. See docs/scale-out.md. */
#ifndef DYNLAB_DIST_SWEEP_H
#define DYNLAB_DIST_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#define DL_SWEEP_MAX_AXES 8
#define DL_SWEEP_MAX_VALUES 64
#define DL_SWEEP_MAX_SEEDS 4096
#define DL_SWEEP_MAX_JOBS 10000 /* each job is a run directory; far above any real sweep */

typedef struct dl_sweep_axis {
    char key[128];
    char values[DL_SWEEP_MAX_VALUES][96];
    int n;
} dl_sweep_axis;

typedef struct dl_sweep_job {
    int index;                               /* 0 .. n_jobs-1 */
    uint64_t seed;
    int n_sets;
    char sets[DL_SWEEP_MAX_AXES][232];       /* "key=value" overrides of this job */
    char name[512];                          /* directory name: PRESET[-key=value...]-sSEED */
} dl_sweep_job;

/* "1-5", "3", "1,4,9", "1-3,10-12" -> seeds (malloc'd). -1 + err on bad input. */
int dl_sweep_parse_seeds(const char *spec, uint64_t **seeds, int *n, char *err, size_t errlen);
/* "train.lr=0.01,0.03" -> axis. -1 + err on bad input. */
int dl_sweep_parse_axis(const char *spec, dl_sweep_axis *ax, char *err, size_t errlen);
/* Number of jobs (seeds x every axis's values), or -1 + err when it is zero
 * or above DL_SWEEP_MAX_JOBS (computed without overflow). */
int dl_sweep_count_jobs(int n_seeds, const dl_sweep_axis *axes, int n_axes, char *err,
                        size_t errlen);
/* Jobs in order: grid combinations (first axis slowest), seeds fastest.
 * NULL when dl_sweep_count_jobs refuses the sweep or memory runs out. */
dl_sweep_job *dl_sweep_jobs(const char *preset, const uint64_t *seeds, int n_seeds,
                            const dl_sweep_axis *axes, int n_axes, int *n_jobs);

/* -1 + err when two jobs would write the same run directory (names are
 * cleaned to [A-Za-z0-9._=+-], and seeds or values may repeat). */
int dl_sweep_check_names(const dl_sweep_job *jobs, int n_jobs, char *err, size_t errlen);

/* Static round-robin schedule: job j runs on rank j mod size. */
static inline int dl_sweep_owner(int job, int size) { return size > 0 ? job % size : 0; }

/* Runs one job into run_dir; returns the CLI exit status (0 ok). */
typedef int (*dl_sweep_run_fn)(const dl_sweep_job *job, const char *run_dir, void *ctx);

/* Run this rank's jobs (DIR/<exp>/<job.name>), build one JSON row per job from its
 * summary.json and gather the rows on rank 0. On rank 0, *rows_out receives
 * n_jobs malloc'd JSON strings (free with dl_sweep_rows_free); elsewhere NULL. */
int dl_sweep_execute(const char *exp, const char *out_dir, const dl_sweep_job *jobs, int n_jobs,
                     dl_sweep_run_fn fn, void *ctx, int verbose, char ***rows_out);
void dl_sweep_rows_free(char **rows, int n);

/* Rank 0: write out_dir/sweep.json and print the table to stdout. Returns the
 * number of failed runs (exit != 0); *failed_claims receives the number of
 * jobs with at least one failed claim. -1 when sweep.json cannot be written. */
int dl_sweep_report(const char *exp, const char *preset, const char *out_dir, int ranks,
                    double wall_seconds, const dl_sweep_job *jobs, int n_jobs, char **rows,
                    int *failed_claims);

#endif
