/* `dynlab reproduce`: run systems on a preset, then write the HTML report. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dynlab/run.h"

/* From src/io/report.c (linked weakly so the program builds without it). */
int dl_report_write(const char *const *run_dirs, int n, const char *out_dir, char *err,
                    size_t errlen) __attribute__((weak));

static void usage(FILE *f) {
    fprintf(f,
            "usage: dynlab reproduce [EXP...] [--quick|--paper] [-o DIR] [--seed N] [--threads N]\n"
            "                        [--control untrained]\n"
            "\n"
            "Runs each named system (default: every registered system) on the preset (default\n"
            "quick) into DIR/runs/EXP, prints each claims table, then writes the HTML report\n"
            "DIR/index.html (default DIR: report). Exit status 1 when any run fails or any\n"
            "claim fails, so it doubles as an acceptance test.\n"
            "\n"
            "--control untrained also runs each system's untrained control (the same run with\n"
            "learning disabled) into DIR/runs/EXP-untrained; the report shows the control's\n"
            "measured values beside the trained run's. Exit status 1 as well when a claim of\n"
            "kind `learned` PASSES under the control (it would certify nothing about learning);\n"
            "structural claims may pass there.\n");
}

/* Learned claims that pass in a finished control run (its summary.json);
 * prints each. -1 when the summary cannot be read. */
static int learned_passing(const char *dir, const char *exp) {
    char path[1200];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char *txt = NULL;
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        txt = malloc((size_t)len + 1);
        if (txt && fread(txt, 1, (size_t)len, f) == (size_t)len) txt[len] = 0;
        else free(txt), txt = NULL;
    }
    fclose(f);
    cJSON *s = txt ? cJSON_Parse(txt) : NULL;
    free(txt);
    if (!s) return -1;
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(s, "claims")) {
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(c, "kind");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
        if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "learned") ||
            !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "pass")))
            continue;
        fprintf(stderr, "dynlab reproduce: %s: learned claim %s passes under the untrained control\n", exp,
                cJSON_IsString(id) ? id->valuestring : "?");
        n++;
    }
    cJSON_Delete(s);
    return n;
}

int dl_cmd_reproduce(int argc, char **argv) {
    const char *out = "report", *preset = "quick";
    const char *names[64];
    int n_names = 0, threads = 0, quiet = 0, control = DL_CONTROL_NONE;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return DL_EXIT_OK;
        } else if (!strcmp(argv[i], "--quick")) {
            preset = "quick";
        } else if (!strcmp(argv[i], "--paper")) {
            preset = "paper";
        } else if ((v = dl_cli_opt(argc, argv, &i, "-o")) || (v = dl_cli_opt(argc, argv, &i, "--out"))) {
            out = v;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--seed"))) {
            if (dl_cli_parse_u64(v, &seed)) {
                fprintf(stderr, "dynlab reproduce: --seed expects a non-negative integer\n");
                return DL_EXIT_USAGE;
            }
        } else if ((v = dl_cli_opt(argc, argv, &i, "--threads"))) {
            uint64_t t; /* as `run --threads` */
            if (dl_cli_parse_u64(v, &t) || t > 1024) {
                fprintf(stderr, "dynlab reproduce: --threads expects an integer in [0, 1024], got '%s'\n", v);
                return DL_EXIT_USAGE;
            }
            threads = (int)t;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--control"))) {
            control = dl_control_parse(v);
            if (control < 0) {
                fprintf(stderr, "dynlab reproduce: --control expects 'none' or 'untrained', got '%s'\n", v);
                return DL_EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "dynlab reproduce: unknown option '%s'\n", argv[i]);
            return DL_EXIT_USAGE;
        } else {
            if (!dl_experiment_find(argv[i])) {
                fprintf(stderr, "dynlab reproduce: unknown system '%s' (see dynlab list)\n", argv[i]);
                return DL_EXIT_USAGE;
            }
            if (n_names < 64) names[n_names++] = argv[i];
        }
    }
    char out_err[400];
    if (dl_cli_check_out("-o", out, out_err, sizeof out_err)) {
        fprintf(stderr, "dynlab reproduce: %s\n", out_err);
        return DL_EXIT_USAGE;
    }
    if (n_names == 0)
        for (int i = 0; i < dl_experiment_count() && i < 64; i++)
            names[n_names++] = dl_experiment_at(i)->name;

    static char dirs[128][1024];
    const char *dir_ptrs[128];
    int n_dirs = 0, runs_failed = 0, claims_failed = 0, control_passed = 0;
    double t0 = dl_now();
    for (int k = 0; k < n_names; k++) {
        dl_run_request req = {0};
        req.exp = dl_experiment_find(names[k]);
        req.preset = preset;
        req.seed = seed;
        req.threads = threads;
        req.quiet = quiet;
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/runs/%s", out, names[k]);
        req.out_dir = dir;
        if (!dl_experiment_preset(req.exp, preset)) {
            fprintf(stderr, "dynlab reproduce: %s has no '%s' preset, skipped\n", names[k], preset);
            runs_failed++;
            continue;
        }
        fprintf(stderr, "== [%d/%d] %s (%s) ==\n", k + 1, n_names, names[k], preset);
        int failed = 0;
        int rc = dl_cli_run(&req, &failed, NULL, 0);
        if (rc != DL_EXIT_OK) {
            runs_failed++;
            if (rc == DL_EXIT_USAGE) continue;
        }
        claims_failed += failed;
        snprintf(dirs[n_dirs], sizeof dirs[0], "%s", dir);
        dir_ptrs[n_dirs] = dirs[n_dirs];
        n_dirs++;
        if (control == DL_CONTROL_NONE) continue;
        /* The untrained control: same request, learning disabled. Its failed
         * claims are expected; a learned claim that passes is the failure. */
        char cdir[1024];
        snprintf(cdir, sizeof cdir, "%s/runs/%s-untrained", out, names[k]);
        req.out_dir = cdir;
        req.control = control;
        fprintf(stderr, "== [%d/%d] %s (%s, control: %s) ==\n", k + 1, n_names, names[k], preset,
                dl_control_name(control));
        int cfailed = 0;
        rc = dl_cli_run(&req, &cfailed, NULL, 0);
        if (rc != DL_EXIT_OK) {
            runs_failed++;
            continue;
        }
        int lp = learned_passing(cdir, names[k]);
        if (lp < 0) {
            fprintf(stderr, "dynlab reproduce: %s: cannot read %s/summary.json\n", names[k], cdir);
            runs_failed++;
            continue;
        }
        control_passed += lp;
        snprintf(dirs[n_dirs], sizeof dirs[0], "%s", cdir);
        dir_ptrs[n_dirs] = dirs[n_dirs];
        n_dirs++;
    }
    int report_ok = 0;
    if (dl_report_write && n_dirs > 0) {
        char err[512];
        if (dl_report_write(dir_ptrs, n_dirs, out, err, sizeof err)) {
            fprintf(stderr, "dynlab reproduce: report: %s\n", err);
        } else {
            report_ok = 1;
        }
    } else if (!dl_report_write) {
        fprintf(stderr, "dynlab reproduce: report writer not built into this binary\n");
    }
    char ctl[96] = "";
    if (control != DL_CONTROL_NONE)
        snprintf(ctl, sizeof ctl, ", %d learned claim(s) passing under the %s control", control_passed,
                 dl_control_name(control));
    printf("\nreproduce: %d system(s) in %.1f s, %d run failure(s), %d failed claim(s)%s%s%s%s\n",
           n_names, dl_now() - t0, runs_failed, claims_failed, ctl, report_ok ? "; report: " : "",
           report_ok ? out : "", report_ok ? "/index.html" : "");
    return (runs_failed || claims_failed || control_passed || !report_ok) ? DL_EXIT_FAIL : DL_EXIT_OK;
}
