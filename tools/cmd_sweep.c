/* `dynlab sweep`: seeds x knob grids as a job list, run over the ranks of
 * `mpirun -np N` (or by one process), summarised in DIR/sweep.json
 * (docs/scale-out.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dist/dist.h"
#include "dist/sweep.h"
#include "dynlab/run.h"

#define MAX_SETS 64

typedef struct {
    dl_run_request base; /* experiment, preset, config file, fixed --set, threads */
} sweep_ctx;

static int run_job(const dl_sweep_job *job, const char *run_dir, void *vctx) {
    sweep_ctx *ctx = vctx;
    dl_run_request req = ctx->base;
    const char *sets[MAX_SETS + DL_SWEEP_MAX_AXES];
    for (int i = 0; i < ctx->base.n_sets; i++) sets[i] = ctx->base.sets[i];
    for (int i = 0; i < job->n_sets; i++) sets[ctx->base.n_sets + i] = job->sets[i];
    req.sets = sets;
    req.n_sets = ctx->base.n_sets + job->n_sets;
    req.seed = job->seed;
    req.out_dir = run_dir;
    int failed = 0;
    return dl_cli_run(&req, &failed, NULL, 0);
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: dynlab sweep EXP [options]\n"
            "       mpirun -np N dynlab sweep EXP [options]\n"
            "\n"
            "  --seeds LIST        seeds, e.g. 1-5 or 1,3,7 or 1-3,10 (default 1)\n"
            "  --grid KEY=V1,V2    one knob's values (repeatable; jobs = seeds x every grid)\n"
            "  --quick | --paper | --preset NAME   configuration preset (default: quick)\n"
            "  --config FILE       JSON object of knobs applied after the preset\n"
            "  --set KEY=VALUE     fixed override for every job (repeatable)\n"
            "  -o, --out DIR       output directory (default sweeps/EXP): runs go to\n"
            "                      DIR/EXP/PRESET[-KEY=V...]-sSEED, the summary to DIR/sweep.json\n"
            "  --threads N         OpenMP threads per job (default: all cores for one process,\n"
            "                      1 per rank under mpirun)\n"
            "  --strict            exit 1 also when a job's claim fails\n"
            "  --quiet             no per-job progress lines\n"
            "\n"
            "Jobs are scheduled statically: job j runs on rank j mod N (N = 1 without mpirun).\n"
            "Rank 0 writes sweep.json (one row per job: knobs, seed, exit, claims passed/total,\n"
            "failed claim ids, final metrics) and prints a table. Exit status 0 when every run\n"
            "completed, 1 when a run failed (or, with --strict, a claim failed), 2 on a usage or\n"
            "configuration error.\n"
            "\n"
            "this binary: %s\n",
            dl_dist_describe());
}

int dl_cmd_sweep(int argc, char **argv) {
    sweep_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    const char *sets[MAX_SETS];
    ctx.base.preset = "quick";
    ctx.base.sets = sets;
    ctx.base.quiet = 1;
    ctx.base.no_table = 1;
    const char *exp_name = NULL, *out = NULL, *seed_spec = "1";
    dl_sweep_axis *axes = calloc(DL_SWEEP_MAX_AXES, sizeof *axes);
    int n_axes = 0, threads = -1, strict = 0, verbose = 1;
    char err[600];
    if (!axes) return DL_EXIT_FAIL;
    int rc = DL_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            free(axes);
            return DL_EXIT_OK;
        } else if (!strcmp(argv[i], "--quick")) {
            ctx.base.preset = "quick";
        } else if (!strcmp(argv[i], "--paper")) {
            ctx.base.preset = "paper";
        } else if ((v = dl_cli_opt(argc, argv, &i, "--preset"))) {
            ctx.base.preset = v;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--config"))) {
            ctx.base.config_file = v;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--set"))) {
            if (ctx.base.n_sets >= MAX_SETS) {
                fprintf(stderr, "dynlab sweep: too many --set options (max %d)\n", MAX_SETS);
                goto out;
            }
            sets[ctx.base.n_sets++] = v;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--seeds"))) {
            seed_spec = v;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--grid"))) {
            if (n_axes >= DL_SWEEP_MAX_AXES) {
                fprintf(stderr, "dynlab sweep: too many --grid options (max %d)\n", DL_SWEEP_MAX_AXES);
                goto out;
            }
            if (dl_sweep_parse_axis(v, &axes[n_axes], err, sizeof err)) {
                fprintf(stderr, "dynlab sweep: %s\n", err);
                goto out;
            }
            n_axes++;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--out")) || (v = dl_cli_opt(argc, argv, &i, "-o"))) {
            out = v;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--threads"))) {
            uint64_t t;
            if (dl_cli_parse_u64(v, &t) || t > 1024) {
                fprintf(stderr, "dynlab sweep: --threads expects an integer in [0, 1024], got '%s'\n", v);
                goto out;
            }
            threads = (int)t;
        } else if (!strcmp(argv[i], "--strict")) {
            strict = 1;
        } else if (!strcmp(argv[i], "--quiet")) {
            verbose = 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "dynlab sweep: unknown option '%s' (see dynlab sweep --help)\n", argv[i]);
            goto out;
        } else if (!exp_name) {
            exp_name = argv[i];
        } else {
            fprintf(stderr, "dynlab sweep: unexpected argument '%s'\n", argv[i]);
            goto out;
        }
    }
    if (!exp_name) {
        usage(stderr);
        goto out;
    }
    ctx.base.exp = dl_experiment_find(exp_name);
    if (!ctx.base.exp) {
        fprintf(stderr, "dynlab: unknown system '%s' (see dynlab list)\n", exp_name);
        goto out;
    }
    uint64_t *seeds = NULL;
    int n_seeds = 0, n_jobs = 0;
    if (dl_sweep_parse_seeds(seed_spec, &seeds, &n_seeds, err, sizeof err)) {
        fprintf(stderr, "dynlab sweep: %s\n", err);
        goto out;
    }
    if (dl_sweep_count_jobs(n_seeds, axes, n_axes, err, sizeof err) < 0) {
        fprintf(stderr, "dynlab sweep: %s\n", err);
        free(seeds);
        goto out;
    }
    dl_sweep_job *jobs = dl_sweep_jobs(ctx.base.preset, seeds, n_seeds, axes, n_axes, &n_jobs);
    free(seeds);
    if (!jobs) {
        fprintf(stderr, "dynlab sweep: out of memory for %d jobs\n", n_jobs);
        rc = DL_EXIT_FAIL;
        goto out;
    }
    char def_out[256];
    snprintf(def_out, sizeof def_out, "sweeps/%s", ctx.base.exp->name);
    if (!out) out = def_out;
    if (dl_cli_check_out("--out", out, err, sizeof err)) {
        fprintf(stderr, "dynlab sweep: %s\n", err);
        free(jobs);
        goto out;
    }
    if (dl_sweep_check_names(jobs, n_jobs, err, sizeof err)) {
        fprintf(stderr, "dynlab sweep: %s\n", err);
        free(jobs);
        goto out;
    }
    /* Every job's run directory DIR/EXP/JOB must fit (no silent truncation). */
    for (int j = 0; j < n_jobs; j++) {
        size_t len = strlen(out) + 1 + strlen(ctx.base.exp->name) + 1 + strlen(jobs[j].name);
        if (len > DL_RUN_DIR_MAX || strlen(jobs[j].name) + 1 >= sizeof jobs[j].name) {
            fprintf(stderr, "dynlab sweep: run directory of job %s would be %zu bytes long, more "
                    "than the %d bytes dynlab supports (shorten --out)\n", jobs[j].name, len,
                    DL_RUN_DIR_MAX);
            free(jobs);
            goto out;
        }
    }
    /* Every job's configuration is checked before anything runs (same result
     * on every rank, so all ranks stop together on a bad knob). */
    for (int j = 0; j < n_jobs; j++) {
        dl_run_request req = ctx.base;
        const char *all[MAX_SETS + DL_SWEEP_MAX_AXES];
        for (int i = 0; i < ctx.base.n_sets; i++) all[i] = sets[i];
        for (int i = 0; i < jobs[j].n_sets; i++) all[ctx.base.n_sets + i] = jobs[j].sets[i];
        req.sets = all;
        req.n_sets = ctx.base.n_sets + jobs[j].n_sets;
        if (dl_cli_check_config(&req, err, sizeof err)) {
            fprintf(stderr, "dynlab sweep: job %s: %s\n", jobs[j].name, err);
            free(jobs);
            goto out;
        }
    }
    if (dl_dist_init(NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "dynlab sweep: %s\n", err);
        free(jobs);
        rc = DL_EXIT_FAIL;
        goto out;
    }
    const int rank = dl_dist_rank(), size = dl_dist_size();
    ctx.base.threads = threads >= 0 ? threads : size > 1 ? 1 : 0;
    if (rank == 0 && verbose)
        fprintf(stderr, "sweep: %s, preset %s: %d jobs on %d rank%s (static round-robin) -> %s\n",
                ctx.base.exp->name, ctx.base.preset, n_jobs, size, size == 1 ? "" : "s", out);
    double t0 = dl_now();
    char **rows = NULL;
    dl_sweep_execute(ctx.base.exp->name, out, jobs, n_jobs, run_job, &ctx, verbose, &rows);
    if (rank == 0) {
        int bad_claims = 0;
        int failed = dl_sweep_report(ctx.base.exp->name, ctx.base.preset, out, size, dl_now() - t0,
                                     jobs, n_jobs, rows, &bad_claims);
        rc = failed != 0 || (strict && bad_claims > 0) ? DL_EXIT_FAIL : DL_EXIT_OK;
        if (failed > 0) fprintf(stderr, "dynlab sweep: %d job(s) failed (see %s/sweep.json)\n", failed, out);
        dl_sweep_rows_free(rows, n_jobs);
    } else {
        rc = DL_EXIT_OK;
    }
    free(jobs);
    /* Rank 0's exit status decides; make the others agree before leaving. */
    dl_dist_bcast_int(&rc);
    dl_dist_finalize();
out:
    free(axes);
    return rc;
}
