/* `dynlab run`, `dynlab list`, `dynlab config` and the shared runner. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "dist/dist.h"
#include <omp.h>
#include "dynlab/data.h"
#include "dynlab/run.h"

#define MAX_SETS 64

const char *dl_cli_opt(int argc, char **argv, int *i, const char *name) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return NULL;
    if (a[n] == '=') return a + n + 1;
    if (a[n] != 0) return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "dynlab: option %s needs a value\n", name);
        exit(DL_EXIT_USAGE);
    }
    return argv[++*i];
}

int dl_cli_parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    /* strtoull skips leading space and accepts a sign (" -1" would be 2^64-1):
     * the text must be decimal digits only. */
    if (s[0] < '0' || s[0] > '9') return -1;
    if (errno || end == s || *end) return -1;
    *out = v;
    return 0;
}

/* Config files are small; the bound keeps a wrong path (a FIFO, a device,
 * a large binary) from hanging the program or exhausting memory. */
#define CONFIG_FILE_MAX ((int64_t)16 << 20)

static char *read_text_file(const char *path, char *err, size_t errlen) {
    char sub[900];
    char *buf = dl_read_file_max(path, CONFIG_FILE_MAX, NULL, sub, sizeof sub);
    if (!buf) {
        /* sub is "<path>: <problem>"; say which file it is. */
        size_t pl = strlen(path);
        const char *why = !strncmp(sub, path, pl) && !strncmp(sub + pl, ": ", 2) ? sub + pl + 2 : sub;
        if (!strncmp(why, "cannot open: ", 13))
            snprintf(err, errlen, "cannot open config file '%s': %s", path, why + 13);
        else
            snprintf(err, errlen, "config file '%s': %s", path, why);
    }
    return buf;
}

int dl_cli_check_out(const char *opt, const char *dir, char *err, size_t errlen) {
    struct stat st;
    if (!dir[0]) {
        snprintf(err, errlen, "%s must not be empty (it would name the filesystem root)", opt);
        return -1;
    }
    if (strlen(dir) > DL_RUN_DIR_MAX) {
        snprintf(err, errlen, "%s: a path of %zu bytes is longer than the %d bytes dynlab supports",
                 opt, strlen(dir), DL_RUN_DIR_MAX);
        return -1;
    }
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s '%.200s' exists and is not a directory", opt, dir);
        return -1;
    }
    return 0;
}

/* defaults -> preset -> --config file -> --set overrides */
static int resolve_config(const dl_run_request *req, void *cfg, char *err, size_t errlen) {
    const dl_experiment *e = req->exp;
    dl_config_defaults(e->schema, cfg);
    const dl_preset *p = dl_experiment_preset(e, req->preset);
    if (!p) {
        snprintf(err, errlen, "system '%s' has no preset '%s'", e->name, req->preset);
        return -1;
    }
    char sub[400];
    if (p->json && dl_config_apply_json(e->schema, cfg, p->json, sub, sizeof sub)) {
        snprintf(err, errlen, "built-in preset '%s' of '%s': %s", p->name, e->name, sub);
        return -1;
    }
    if (req->config_file) {
        char *txt = read_text_file(req->config_file, err, errlen);
        if (!txt) return -1;
        int rc = dl_config_apply_json(e->schema, cfg, txt, sub, sizeof sub);
        free(txt);
        if (rc) {
            snprintf(err, errlen, "%s: %s", req->config_file, sub);
            return -1;
        }
    }
    for (int i = 0; i < req->n_sets; i++)
        if (dl_config_apply_set(e->schema, cfg, req->sets[i], err, errlen)) return -1;
    dl_config_check_fn check = dl_experiment_check(e);
    if (check && check(cfg, sub, sizeof sub)) {
        snprintf(err, errlen, "configuration of '%s': %s", e->name, sub);
        return -1;
    }
    return 0;
}

int dl_cli_check_config(const dl_run_request *req, char *err, size_t errlen) {
    void *cfg = calloc(1, req->exp->schema->struct_size);
    if (!cfg) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = resolve_config(req, cfg, err, errlen);
    free(cfg);
    return rc;
}

/* Remove a scratch directory tree (data-parallel ranks other than 0). */
static void remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            char sub[1400];
            struct stat st;
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(sub);
            else
                unlink(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

static int run_in_dir(const dl_run_request *req, const char *dir, int *failed_claims);

int dl_cli_run(const dl_run_request *req, int *failed_claims, char *run_dir, size_t run_dir_len) {
    char dir[1024];
    if (req->out_dir) {
        char err[400];
        if (dl_cli_check_out("--out", req->out_dir, err, sizeof err)) {
            fprintf(stderr, "dynlab: %s\n", err);
            return DL_EXIT_USAGE;
        }
        snprintf(dir, sizeof dir, "%s", req->out_dir);
    } else
        snprintf(dir, sizeof dir, "runs/%s/%s-s%llu%s", req->exp->name, req->preset,
                 (unsigned long long)req->seed,
                 req->control == DL_CONTROL_UNTRAINED ? "-untrained" : "");
    if (run_dir) snprintf(run_dir, run_dir_len, "%s", dir);
    if (!req->dp || dl_dist_rank() == 0) return run_in_dir(req, dir, failed_claims);
    /* Data parallel, rank > 0: the same run in a private scratch directory
     * that is removed afterwards; only rank 0 writes the real run directory. */
    char scratch[64];
    snprintf(scratch, sizeof scratch, "/tmp/dynlab-dp-rank%d-XXXXXX", dl_dist_rank());
    if (!mkdtemp(scratch)) {
        fprintf(stderr, "dynlab: rank %d: cannot create a scratch directory in /tmp\n",
                dl_dist_rank());
        return DL_EXIT_FAIL;
    }
    dl_run_request r = *req;
    r.quiet = 1;
    r.no_table = 1;
    int rc = run_in_dir(&r, scratch, failed_claims);
    remove_tree(scratch);
    return rc;
}

static int run_in_dir(const dl_run_request *req, const char *dir, int *failed_claims) {
    const dl_experiment *e = req->exp;
    char err[512];
    void *cfg = calloc(1, e->schema->struct_size);
    if (!cfg) return DL_EXIT_FAIL;
    if (resolve_config(req, cfg, err, sizeof err)) {
        fprintf(stderr, "dynlab: %s\n", err);
        free(cfg);
        return DL_EXIT_USAGE;
    }
    dl_run run;
    memset(&run, 0, sizeof run);
    run.quiet = req->quiet;
    if (dl_run_open(&run, e->name, dir, req->seed, req->threads, req->resume, err, sizeof err)) {
        fprintf(stderr, "dynlab: %s\n", err);
        free(cfg);
        return DL_EXIT_FAIL;
    }
    run.dp = req->dp; /* after dl_run_open, which clears the struct */
    run.control = req->control;
    run.title = e->title;
    run.arxiv = e->arxiv;
    run.paper_summary = e->summary;
    run.quick = !strcmp(req->preset, "quick");
    snprintf(run.preset, sizeof run.preset, "%s", req->preset);

    char *json = dl_config_to_json(e->schema, cfg);
    char path[1200];
    if (!json || dl_write_atomic(dl_run_path(&run, "config.json", path, sizeof path), json,
                                 strlen(json))) {
        fprintf(stderr, "dynlab: cannot write %s\n", path);
        free(json);
        free(cfg);
        run.failed = 1;
        dl_run_close(&run);
        return DL_EXIT_FAIL;
    }
    free(json);

    /* Threads are set here, once per run (OpenMP at kernel level). */
    if (req->threads > 0) omp_set_num_threads(req->threads);
    dl_log(&run, "%s: preset %s, seed %llu, %d threads -> %s", e->name, req->preset,
           (unsigned long long)req->seed, omp_get_max_threads(), dir);
    int rc = e->run(cfg, &run);
    free(cfg);
    if (rc != 0) {
        /* The system has printed its one error line; this goes to log.txt only. */
        if (run.log) fprintf(run.log, "[%8.2fs] %s: run failed\n", dl_now() - run.t_start, e->name);
        run.failed = 1;
        dl_run_close(&run);
        return DL_EXIT_FAIL;
    }
    if (run.control != DL_CONTROL_NONE && !run.control_applied) {
        /* A system that ignored the control trained normally: its claims
         * would be reported as the control's. Refuse rather than mislead. */
        dl_log(&run, "error: system '%s' does not implement --control %s", e->name,
               dl_control_name(run.control));
        run.failed = 1;
        dl_run_close(&run);
        return DL_EXIT_FAIL;
    }
    dl_log(&run, "%s: finished in %.1f s", e->name, dl_now() - run.t_start);
    int failed = 0;
    if (req->no_table) {
        for (int i = 0; i < run.n_claims; i++) failed += !run.claims[i].pass;
    } else {
        failed = dl_claims_print(&run);
    }
    if (failed_claims) *failed_claims = failed;
    if (dl_run_close(&run)) {
        if (!run.failed) fprintf(stderr, "dynlab: cannot write %s/summary.json\n", dir);
        return DL_EXIT_FAIL;
    }
    return DL_EXIT_OK;
}

static void run_usage(FILE *f) {
    fprintf(f,
            "usage: dynlab run EXP [options]\n"
            "\n"
            "  --quick | --paper | --preset NAME   configuration preset (default: quick)\n"
            "  --config FILE      JSON object of knobs applied after the preset\n"
            "  --set KEY=VALUE    override one knob (repeatable), e.g. --set train.lr=0.01\n"
            "  --out DIR          run directory (default runs/EXP/PRESET-sSEED)\n"
            "  --seed N           random seed (default 1)\n"
            "  --threads N        OpenMP threads (default: all cores)\n"
            "  --resume           continue from DIR/checkpoint.safetensors (systems that checkpoint)\n"
            "  --quiet            no progress output\n"
            "  --control untrained  the same run with learning disabled (learning rates zero or\n"
            "                     training skipped): every claim of kind `learned` should FAIL;\n"
            "                     default DIR gets the suffix -untrained\n"
            "  --dp               data parallel under `mpirun -np N` (gpt): the batch is split\n"
            "                     over the ranks, gradients averaged by one MPI_Allreduce per step\n"
            "                     (docs/scale-out.md); needs a binary built with MPI\n"
            "\n"
            "Writes DIR/config.json, metrics.jsonl, summary.json, log.txt, plots/ and prints the\n"
            "claims table. Exit status 0 when the run completed (whatever its claims say), 1 when\n"
            "it failed, 2 on a usage or configuration error. `dynlab config EXP` lists the knobs.\n");
}

/* Systems whose training loop all-reduces gradients when run->dp is set. */
static const char *const dp_systems[] = {"gpt", "reweight"};

static int run_data_parallel(dl_run_request *req) {
    if (!dl_dist_have_mpi()) {
        fprintf(stderr, "dynlab run: --dp: this binary was built without MPI (install "
                        "libopenmpi-dev and rebuild)\n");
        return DL_EXIT_FAIL;
    }
    int supported = 0;
    for (size_t i = 0; i < sizeof dp_systems / sizeof dp_systems[0]; i++)
        supported |= !strcmp(dp_systems[i], req->exp->name);
    if (!supported) {
        fprintf(stderr, "dynlab run: --dp: system '%s' has no data-parallel training (supported: gpt, reweight)\n",
                req->exp->name);
        return DL_EXIT_USAGE;
    }
    if (req->resume) {
        fprintf(stderr, "dynlab run: --dp cannot be combined with --resume\n");
        return DL_EXIT_USAGE;
    }
    char err[400];
    if (dl_dist_init(NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "dynlab run: %s\n", err);
        return DL_EXIT_FAIL;
    }
    int rc = dl_cli_run(req, NULL, NULL, 0);
    /* A rank whose run failed cannot leave the others waiting in a
     * collective: it aborts the whole group (mpirun then exits non-zero). */
    if (rc != DL_EXIT_OK && dl_dist_active()) {
        fprintf(stderr, "dynlab run: rank %d failed (exit %d); aborting all ranks\n", dl_dist_rank(), rc);
        dl_dist_abort(rc);
    }
    dl_dist_finalize();
    return rc;
}

int dl_cmd_run(int argc, char **argv) {
    dl_run_request req = {0};
    const char *sets[MAX_SETS];
    req.preset = "quick";
    req.seed = 1;
    req.sets = sets;
    const char *exp_name = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            run_usage(stdout);
            if (exp_name && dl_experiment_find(exp_name)) {
                const dl_experiment *e = dl_experiment_find(exp_name);
                void *cfg = calloc(1, e->schema->struct_size);
                dl_config_defaults(e->schema, cfg);
                printf("\nknobs of %s (defaults):\n", e->name);
                dl_config_print_help(e->schema, cfg, stdout);
                free(cfg);
            }
            return DL_EXIT_OK;
        } else if (!strcmp(argv[i], "--quick")) {
            req.preset = "quick";
        } else if (!strcmp(argv[i], "--paper")) {
            req.preset = "paper";
        } else if ((v = dl_cli_opt(argc, argv, &i, "--preset"))) {
            req.preset = v;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--config"))) {
            req.config_file = v;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--set"))) {
            if (req.n_sets >= MAX_SETS) {
                fprintf(stderr, "dynlab: too many --set options (max %d)\n", MAX_SETS);
                return DL_EXIT_USAGE;
            }
            sets[req.n_sets++] = v;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--out"))) {
            req.out_dir = v;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--seed"))) {
            if (dl_cli_parse_u64(v, &req.seed)) {
                fprintf(stderr, "dynlab: --seed expects a non-negative integer, got '%s'\n", v);
                return DL_EXIT_USAGE;
            }
        } else if ((v = dl_cli_opt(argc, argv, &i, "--threads"))) {
            uint64_t t;
            if (dl_cli_parse_u64(v, &t) || t > 1024) {
                fprintf(stderr, "dynlab: --threads expects an integer in [0, 1024], got '%s'\n", v);
                return DL_EXIT_USAGE;
            }
            req.threads = (int)t;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--control"))) {
            req.control = dl_control_parse(v);
            if (req.control < 0) {
                fprintf(stderr, "dynlab run: --control expects 'none' or 'untrained', got '%s'\n", v);
                return DL_EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "--resume")) {
            req.resume = 1;
        } else if (!strcmp(argv[i], "--quiet")) {
            req.quiet = 1;
        } else if (!strcmp(argv[i], "--dp")) {
            req.dp = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "dynlab run: unknown option '%s' (see dynlab run --help)\n", argv[i]);
            return DL_EXIT_USAGE;
        } else if (!exp_name) {
            exp_name = argv[i];
        } else {
            fprintf(stderr, "dynlab run: unexpected argument '%s'\n", argv[i]);
            return DL_EXIT_USAGE;
        }
    }
    if (!exp_name) {
        run_usage(stderr);
        return DL_EXIT_USAGE;
    }
    req.exp = dl_experiment_find(exp_name);
    if (!req.exp) {
        fprintf(stderr, "dynlab: unknown system '%s' (see dynlab list)\n", exp_name);
        return DL_EXIT_USAGE;
    }
    if (req.dp) return run_data_parallel(&req);
    return dl_cli_run(&req, NULL, NULL, 0);
}

int dl_cmd_list(int argc, char **argv) {
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: dynlab list\n\nOne line per registered system: name, arXiv id, paper title.\n");
        return DL_EXIT_OK;
    }
    for (int i = 0; i < dl_experiment_count(); i++) {
        const dl_experiment *e = dl_experiment_at(i);
        printf("%-10s %-12s %s\n", e->name, e->arxiv && e->arxiv[0] ? e->arxiv : "-", e->title);
    }
    return DL_EXIT_OK;
}

int dl_cmd_config(int argc, char **argv) {
    const char *exp_name = NULL, *preset = "quick";
    int as_json = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: dynlab config EXP [--preset NAME] [--json]\n\n"
                   "Print every knob of a system with its value under the preset (default quick)\n"
                   "and its help text; --json prints the resolved config as JSON (a starting\n"
                   "point for --config FILE).\n");
            return DL_EXIT_OK;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--preset"))) {
            preset = v;
        } else if (!strcmp(argv[i], "--json")) {
            as_json = 1;
        } else if (argv[i][0] != '-' && !exp_name) {
            exp_name = argv[i];
        } else {
            fprintf(stderr, "dynlab config: unexpected argument '%s'\n", argv[i]);
            return DL_EXIT_USAGE;
        }
    }
    const dl_experiment *e = exp_name ? dl_experiment_find(exp_name) : NULL;
    if (!e) {
        fprintf(stderr, "dynlab config: %s (see dynlab list)\n",
                exp_name ? "unknown system" : "name a system");
        return DL_EXIT_USAGE;
    }
    const dl_preset *p = dl_experiment_preset(e, preset);
    if (!p) {
        fprintf(stderr, "dynlab config: system '%s' has no preset '%s'\n", e->name, preset);
        return DL_EXIT_USAGE;
    }
    void *cfg = calloc(1, e->schema->struct_size);
    char err[400];
    dl_config_defaults(e->schema, cfg);
    if (p->json && dl_config_apply_json(e->schema, cfg, p->json, err, sizeof err)) {
        fprintf(stderr, "dynlab config: preset '%s': %s\n", preset, err);
        free(cfg);
        return DL_EXIT_FAIL;
    }
    if (as_json) {
        char *j = dl_config_to_json(e->schema, cfg);
        printf("%s\n", j);
        free(j);
    } else {
        printf("%s (%s), preset %s:\n", e->name, e->title, preset);
        dl_config_print_help(e->schema, cfg, stdout);
    }
    free(cfg);
    return DL_EXIT_OK;
}
