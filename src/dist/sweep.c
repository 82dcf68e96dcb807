/* Sweep job list, static round-robin schedule over the MPI ranks, rows
 * gathered on rank 0, sweep.json and the table (docs/scale-out.md).
 *
 * Why a static schedule (job j on rank j mod P) and not a dispatcher: the
 * jobs of one sweep are the same system and preset, so they cost about the
 * same; every rank (rank 0 included) computes instead of one waiting to hand
 * out indices; no message is exchanged while jobs run; and which rank ran
 * which job is known in advance and reproducible. Results do not depend on
 * the schedule: each job is an ordinary run keyed by its own seed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>

#include "dist/dist.h"
#include "dist/sweep.h"
#include "dynlab/run.h"

int dl_sweep_parse_seeds(const char *spec, uint64_t **seeds, int *n, char *err, size_t errlen) {
    *seeds = NULL;
    *n = 0;
    uint64_t *out = malloc(DL_SWEEP_MAX_SEEDS * sizeof *out);
    if (!out) return -1;
    int k = 0;
    const char *p = spec;
    while (*p) {
        char *end;
        errno = 0;
        if (*p < '0' || *p > '9') goto bad;
        unsigned long long a = strtoull(p, &end, 10), b = a;
        if (errno) goto bad;
        p = end;
        if (*p == '-') {
            p++;
            if (*p < '0' || *p > '9') goto bad;
            b = strtoull(p, &end, 10);
            if (errno || b < a) goto bad;
            p = end;
        }
        if (b - a >= (unsigned long long)(DL_SWEEP_MAX_SEEDS - k)) {
            snprintf(err, errlen, "--seeds '%s': more than %d seeds", spec, DL_SWEEP_MAX_SEEDS);
            free(out);
            return -1;
        }
        for (unsigned long long s = a; s <= b; s++) out[k++] = s;
        if (*p == ',') {
            p++;
            if (!*p) goto bad;
        } else if (*p) {
            goto bad;
        }
    }
    if (k == 0) goto bad;
    *seeds = out;
    *n = k;
    return 0;
bad:
    snprintf(err, errlen, "--seeds expects a list like 1-5 or 1,3,7 or 1-3,10, got '%s'", spec);
    free(out);
    return -1;
}

int dl_sweep_parse_axis(const char *spec, dl_sweep_axis *ax, char *err, size_t errlen) {
    memset(ax, 0, sizeof *ax);
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1] || (size_t)(eq - spec) >= sizeof ax->key) {
        snprintf(err, errlen, "--grid expects KEY=V1,V2,..., got '%s'", spec);
        return -1;
    }
    memcpy(ax->key, spec, (size_t)(eq - spec));
    const char *p = eq + 1;
    while (1) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == 0 || len >= sizeof ax->values[0]) {
            snprintf(err, errlen, "--grid '%s': empty or too long value", spec);
            return -1;
        }
        if (ax->n >= DL_SWEEP_MAX_VALUES) {
            snprintf(err, errlen, "--grid '%s': more than %d values", spec, DL_SWEEP_MAX_VALUES);
            return -1;
        }
        memcpy(ax->values[ax->n], p, len);
        ax->values[ax->n][len] = 0;
        ax->n++;
        if (!c) break;
        p = c + 1;
    }
    return 0;
}

/* Keep a directory name portable: [A-Za-z0-9._=+-], anything else -> '_'. */
static void append_clean(char *dst, size_t cap, const char *s) {
    size_t n = strlen(dst);
    for (; *s && n + 1 < cap; s++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '=' || c == '+' || c == '-';
        dst[n++] = ok ? c : '_';
    }
    dst[n] = 0;
}

int dl_sweep_count_jobs(int n_seeds, const dl_sweep_axis *axes, int n_axes, char *err,
                        size_t errlen) {
    /* Multiplied in 64 bits and compared after each factor: 8 grids of 64
     * values (2^48 combinations) times 4096 seeds must not wrap. */
    int64_t total = n_seeds > 0 ? n_seeds : 0;
    for (int a = 0; a < n_axes && total <= DL_SWEEP_MAX_JOBS; a++) total *= axes[a].n;
    if (total > DL_SWEEP_MAX_JOBS) {
        snprintf(err, errlen, "the sweep has more than %d jobs (seeds x the values of every grid), "
                 "the limit of one sweep", DL_SWEEP_MAX_JOBS);
        return -1;
    }
    if (total <= 0) {
        snprintf(err, errlen, "the sweep has no jobs");
        return -1;
    }
    return (int)total;
}

dl_sweep_job *dl_sweep_jobs(const char *preset, const uint64_t *seeds, int n_seeds,
                            const dl_sweep_axis *axes, int n_axes, int *n_jobs) {
    char err[200];
    *n_jobs = 0;
    if (dl_sweep_count_jobs(n_seeds, axes, n_axes, err, sizeof err) < 0) return NULL;
    int combos = 1;
    for (int a = 0; a < n_axes; a++) combos *= axes[a].n;
    int total = combos * n_seeds;
    dl_sweep_job *jobs = calloc((size_t)(total > 0 ? total : 1), sizeof *jobs);
    if (!jobs) return NULL;
    for (int c = 0; c < combos; c++) {
        for (int s = 0; s < n_seeds; s++) {
            dl_sweep_job *j = &jobs[c * n_seeds + s];
            j->index = c * n_seeds + s;
            j->seed = seeds[s];
            j->n_sets = n_axes;
            snprintf(j->name, sizeof j->name, "%s", preset);
            int rem = c;
            /* mixed radix, last axis fastest */
            int idx[DL_SWEEP_MAX_AXES];
            for (int a = n_axes - 1; a >= 0; a--) {
                idx[a] = rem % axes[a].n;
                rem /= axes[a].n;
            }
            for (int a = 0; a < n_axes; a++) {
                snprintf(j->sets[a], sizeof j->sets[a], "%s=%s", axes[a].key, axes[a].values[idx[a]]);
                append_clean(j->name, sizeof j->name, "-");
                append_clean(j->name, sizeof j->name, j->sets[a]);
            }
            char sfx[32];
            snprintf(sfx, sizeof sfx, "-s%llu", (unsigned long long)j->seed);
            append_clean(j->name, sizeof j->name, sfx);
        }
    }
    *n_jobs = total;
    return jobs;
}

static int cmp_name(const void *a, const void *b) {
    const dl_sweep_job *x = *(const dl_sweep_job *const *)a, *y = *(const dl_sweep_job *const *)b;
    return strcmp(x->name, y->name);
}

int dl_sweep_check_names(const dl_sweep_job *jobs, int n_jobs, char *err, size_t errlen) {
    const dl_sweep_job **by = malloc((size_t)(n_jobs > 0 ? n_jobs : 1) * sizeof *by);
    if (!by) return -1;
    for (int j = 0; j < n_jobs; j++) by[j] = &jobs[j];
    qsort(by, (size_t)n_jobs, sizeof *by, cmp_name);
    int rc = 0;
    for (int j = 1; j < n_jobs && !rc; j++)
        if (!strcmp(by[j - 1]->name, by[j]->name)) {
            snprintf(err, errlen, "jobs %d and %d would share the run directory '%.200s' (a seed or "
                     "grid value repeated, or values that differ only in characters replaced by '_')",
                     by[j - 1]->index + 1, by[j]->index + 1, by[j]->name);
            rc = -1;
        }
    free(by);
    return rc;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 14, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t k; buf && (k = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += k;
        if (n == cap) {
            char *nb = realloc(buf, (cap *= 2) + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    if (buf) buf[n] = 0;
    return buf;
}

/* A knob value as JSON: number, bool, or string. */
static cJSON *knob_value(const char *v) {
    char *end;
    double d = strtod(v, &end);
    if (end != v && !*end) return cJSON_CreateNumber(d);
    if (!strcmp(v, "true")) return cJSON_CreateTrue();
    if (!strcmp(v, "false")) return cJSON_CreateFalse();
    return cJSON_CreateString(v);
}

/* One sweep.json row from the job and its run directory's summary.json. */
static char *job_row(const dl_sweep_job *j, const char *run_dir, int rc, double wall, int rank) {
    cJSON *row = cJSON_CreateObject();
    cJSON_AddStringToObject(row, "job", j->name);
    cJSON_AddNumberToObject(row, "index", j->index);
    char seed_text[24]; /* an integer literal: exact above 2^53 */
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)j->seed);
    cJSON_AddRawToObject(row, "seed", seed_text);
    cJSON *knobs = cJSON_AddObjectToObject(row, "knobs");
    for (int s = 0; s < j->n_sets; s++) {
        char key[232];
        snprintf(key, sizeof key, "%s", j->sets[s]);
        char *eq = strchr(key, '=');
        if (!eq) continue;
        *eq = 0;
        cJSON_AddItemToObject(knobs, key, knob_value(eq + 1));
    }
    cJSON_AddStringToObject(row, "run_dir", run_dir);
    cJSON_AddNumberToObject(row, "rank", rank);
    cJSON_AddNumberToObject(row, "exit", rc);
    cJSON_AddNumberToObject(row, "wall_seconds", wall);
    int passed = 0, total = 0;
    cJSON *failed = cJSON_AddArrayToObject(row, "claims_failed");
    char path[1400];
    snprintf(path, sizeof path, "%s/summary.json", run_dir);
    char *txt = rc == 0 ? slurp(path) : NULL;
    cJSON *sum = txt ? cJSON_Parse(txt) : NULL;
    free(txt);
    cJSON *claims = sum ? cJSON_GetObjectItemCaseSensitive(sum, "claims") : NULL;
    cJSON *c;
    cJSON_ArrayForEach(c, claims) {
        total++;
        cJSON *ok = cJSON_GetObjectItemCaseSensitive(c, "pass");
        cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
        if (cJSON_IsTrue(ok))
            passed++;
        else if (cJSON_IsString(id))
            cJSON_AddItemToArray(failed, cJSON_CreateString(id->valuestring));
    }
    cJSON_AddNumberToObject(row, "claims_passed", passed);
    cJSON_AddNumberToObject(row, "claims_total", total);
    cJSON_AddStringToObject(row, "status", rc != 0 ? "failed" : !sum ? "no-summary"
                                           : passed == total ? "ok" : "claims-failed");
    cJSON *fin = sum ? cJSON_DetachItemFromObjectCaseSensitive(sum, "final") : NULL;
    cJSON_AddItemToObject(row, "final", fin ? fin : cJSON_CreateObject());
    cJSON_Delete(sum);
    char *s = cJSON_PrintUnformatted(row);
    cJSON_Delete(row);
    return s;
}

int dl_sweep_execute(const char *exp, const char *out_dir, const dl_sweep_job *jobs, int n_jobs,
                     dl_sweep_run_fn fn, void *ctx, int verbose, char ***rows_out) {
    const int rank = dl_dist_rank(), size = dl_dist_size();
    char **mine = calloc((size_t)(n_jobs > 0 ? n_jobs : 1), sizeof *mine);
    if (!mine) return -1;
    for (int j = 0; j < n_jobs; j++) {
        if (dl_sweep_owner(j, size) != rank) continue;
        char dir[1024];
        if ((size_t)snprintf(dir, sizeof dir, "%s/%s/%s", out_dir, exp, jobs[j].name) >= sizeof dir)
            dir[sizeof dir - 1] = 0;
        double t0 = dl_now();
        int rc = fn(&jobs[j], dir, ctx);
        double wall = dl_now() - t0;
        mine[j] = job_row(&jobs[j], dir, rc, wall, rank);
        if (verbose) {
            fprintf(stderr, "sweep: rank %d/%d: job %d/%d %s: %s (%.1f s)\n", rank, size, j + 1,
                    n_jobs, jobs[j].name, rc == 0 ? "done" : "FAILED", wall);
            fflush(stderr);
        }
    }
    /* Gather: every rank sends its rows once all of its jobs are done (so a
     * large row never blocks a rank while rank 0 is still computing). */
    char **rows = NULL;
    if (rank == 0) rows = calloc((size_t)(n_jobs > 0 ? n_jobs : 1), sizeof *rows);
    for (int j = 0; j < n_jobs; j++) {
        int owner = dl_sweep_owner(j, size);
        if (rank == 0 && owner == 0) {
            rows[j] = mine[j];
            mine[j] = NULL;
        } else if (rank == 0 || rank == owner) {
            char *got = dl_dist_send_string_to_root(rank == owner ? mine[j] : "", owner, j);
            if (rank == 0) rows[j] = got;
        }
    }
    dl_sweep_rows_free(mine, n_jobs);
    *rows_out = rows;
    return 0;
}

void dl_sweep_rows_free(char **rows, int n) {
    if (!rows) return;
    for (int i = 0; i < n; i++) free(rows[i]);
    free(rows);
}

static int mkdir_p(const char *path) {
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(tmp, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

int dl_sweep_report(const char *exp, const char *preset, const char *out_dir, int ranks,
                    double wall_seconds, const dl_sweep_job *jobs, int n_jobs, char **rows,
                    int *failed_claims) {
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "experiment", exp);
    cJSON_AddStringToObject(doc, "preset", preset);
    cJSON_AddNumberToObject(doc, "ranks", ranks);
    cJSON_AddStringToObject(doc, "schedule", "static round-robin: job j on rank j mod ranks");
    cJSON_AddNumberToObject(doc, "wall_seconds", wall_seconds);
    cJSON_AddNumberToObject(doc, "jobs_total", n_jobs);
    cJSON *arr = cJSON_AddArrayToObject(doc, "jobs");
    int failed_runs = 0, bad_claims = 0;
    printf("%-40s %4s %4s %8s %8s  %s\n", "job", "rank", "exit", "claims", "wall s", "failed claims");
    for (int j = 0; j < n_jobs; j++) {
        cJSON *row = rows && rows[j] ? cJSON_Parse(rows[j]) : NULL;
        if (row) { /* the seed as its exact integer (cJSON parsed it as a double) */
            char seed_text[24];
            snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)jobs[j].seed);
            cJSON_ReplaceItemInObjectCaseSensitive(row, "seed", cJSON_CreateRaw(seed_text));
        }
        if (!row) {
            row = cJSON_CreateObject();
            cJSON_AddStringToObject(row, "job", jobs[j].name);
            cJSON_AddNumberToObject(row, "index", j);
            cJSON_AddNumberToObject(row, "exit", 1);
            cJSON_AddStringToObject(row, "status", "lost");
        }
        double ex = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(row, "exit"));
        double cp = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(row, "claims_passed"));
        double ct = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(row, "claims_total"));
        double rk = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(row, "rank"));
        double ws = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(row, "wall_seconds"));
        if (ex != 0) failed_runs++;
        else if (cp != ct) bad_claims++;
        char claims[32] = "-", fl[160] = "";
        if (ex == 0) snprintf(claims, sizeof claims, "%d/%d", (int)cp, (int)ct);
        cJSON *f, *fa = cJSON_GetObjectItemCaseSensitive(row, "claims_failed");
        cJSON_ArrayForEach(f, fa) {
            size_t u = strlen(fl);
            if (cJSON_IsString(f) && u + 20 < sizeof fl)
                snprintf(fl + u, sizeof fl - u, "%s%s", u ? "," : "", f->valuestring);
        }
        printf("%-40s %4.0f %4.0f %8s %8.1f  %s\n", jobs[j].name, rk != rk ? -1.0 : rk, ex, claims,
               ws != ws ? 0.0 : ws, ex != 0 ? "(run failed)" : fl);
        cJSON_AddItemToArray(arr, row);
    }
    cJSON_AddNumberToObject(doc, "jobs_failed", failed_runs);
    cJSON_AddNumberToObject(doc, "jobs_with_failed_claims", bad_claims);
    printf("%d jobs on %d rank%s in %.1f s: %d run(s) failed, %d with failed claims\n", n_jobs,
           ranks, ranks == 1 ? "" : "s", wall_seconds, failed_runs, bad_claims);
    fflush(stdout);
    char *txt = cJSON_Print(doc);
    cJSON_Delete(doc);
    char path[1400];
    snprintf(path, sizeof path, "%s/sweep.json", out_dir);
    int rc = txt && mkdir_p(out_dir) == 0 ? dl_write_atomic(path, txt, strlen(txt)) : -1;
    free(txt);
    if (rc) {
        fprintf(stderr, "dynlab sweep: cannot write %s\n", path);
        return -1;
    }
    if (failed_claims) *failed_claims = bad_claims;
    return failed_runs;
}
