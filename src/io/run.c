/* Run directory, log, metrics stream, final values, plots, claims, progress. */
#define _POSIX_C_SOURCE 200809L
#include "dynlab/run.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double dl_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int mkdir_p(const char *path) {
    char buf[1200];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0755) && errno != EEXIST) return -1;
            *p = '/';
        }
    }
    if (mkdir(buf, 0755) && errno != EEXIST) return -1;
    return 0;
}

const char *dl_run_path(const dl_run *run, const char *rel, char *buf, size_t n) {
    snprintf(buf, n, "%s/%s", run->dir, rel);
    return buf;
}

int dl_write_atomic(const char *path, const void *data, size_t len) {
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            close(fd);
            unlink(tmp);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) || close(fd)) {
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    /* fsync the directory so the rename itself is durable */
    char dir[1200];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        int dfd = open(dir[0] ? dir : "/", O_RDONLY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    return 0;
}

/* A fresh run into a directory that holds an earlier run replaces these
 * files; summary.json is only ever replaced by a completed run. Until the new
 * run completes, each earlier file is kept as <file>.prev; a failed run puts
 * them back and leaves its own as <file>.failed (its log and metrics show
 * how it failed), so the directory again describes the earlier, complete run.
 * A .prev left by an interrupted run belongs to the run summary.json
 * describes and is kept as it is (the report reads it). A completed run
 * removes the .prev files.
 * A resumed run continues the directory's log, metrics and checkpoint (the
 * system keeps the rows before its checkpoint), so it first drops .prev files
 * an interrupted run left (it adopts that run), then keeps config.json,
 * metrics.jsonl and checkpoint.safetensors as .prev (copies for the two it
 * rewrites in place or replaces) before it changes anything. A failed resume
 * puts all three back: nothing a finished run or step wrote is lost, and the
 * resume can be retried. Only log.txt keeps the failed attempt's lines. */
static const char *const replaced_files[] = {"config.json", "metrics.jsonl", "log.txt",
                                             "checkpoint.safetensors"};
#define N_REPLACED ((int)(sizeof replaced_files / sizeof replaced_files[0]))

/* Whether replaced_files[i] is kept and restored by this run. */
static int handled(const dl_run *run, int i) {
    return !run->resume || strcmp(replaced_files[i], "log.txt") != 0;
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* dst = a durable copy of src (hard link when possible: the files copied
 * are only ever replaced by rename, or rewritten after the copy). */
static int copy_file(const char *src, const char *dst, int may_link) {
    if (may_link && link(src, dst) == 0) return 0;
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        close(in);
        return -1;
    }
    char buf[1 << 16];
    int rc = 0;
    for (;;) {
        ssize_t k = read(in, buf, sizeof buf);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            rc = k < 0 ? -1 : 0;
            break;
        }
        for (ssize_t o = 0; o < k;) {
            ssize_t w = write(out, buf + o, (size_t)(k - o));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                rc = -1;
                break;
            }
            o += w;
        }
        if (rc) break;
    }
    int e = errno;
    if (fsync(out) != 0 && !rc) rc = -1, e = errno;
    if (close(out) != 0 && !rc) rc = -1, e = errno;
    close(in);
    if (rc) {
        unlink(dst);
        errno = e;
    }
    return rc;
}

static int keep_earlier_files(const dl_run *run, char *err, size_t errlen) {
    char cur[1200], prev[1300];
    for (int i = 0; run->resume && i < N_REPLACED; i++) {
        snprintf(prev, sizeof prev, "%s.prev", dl_run_path(run, replaced_files[i], cur, sizeof cur));
        unlink(prev);
    }
    for (int i = 0; i < N_REPLACED; i++) {
        if (!handled(run, i)) continue;
        dl_run_path(run, replaced_files[i], cur, sizeof cur);
        snprintf(prev, sizeof prev, "%s.prev", cur);
        if (!exists(cur) || exists(prev)) continue;
        /* A resume keeps working on metrics.jsonl and the checkpoint: copies. */
        int copy = run->resume && strcmp(replaced_files[i], "config.json") != 0;
        int bad = copy ? copy_file(cur, prev, !strcmp(replaced_files[i], "checkpoint.safetensors"))
                       : rename(cur, prev);
        if (bad) {
            snprintf(err, errlen, "cannot keep '%s' as '%s'%s: %s", cur, prev,
                     run->resume ? " before resuming" : "", strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* restore = 1: a failed run puts the earlier files back (its own become .failed);
 * restore = 0: a completed run drops them. */
static void settle_earlier_files(const dl_run *run, int restore) {
    char cur[1200], prev[1300], failed[1300];
    for (int i = 0; i < N_REPLACED; i++) {
        if (!handled(run, i)) continue;
        dl_run_path(run, replaced_files[i], cur, sizeof cur);
        snprintf(prev, sizeof prev, "%s.prev", cur);
        if (!exists(prev)) continue;
        if (!restore) {
            unlink(prev);
            continue;
        }
        snprintf(failed, sizeof failed, "%s.failed", cur);
        if (exists(cur)) rename(cur, failed);
        rename(prev, cur);
    }
}

/* One writer per run directory: an exclusive flock on <dir>/.lock, held from
 * dl_run_open to dl_run_close (the kernel drops it when the process dies, so
 * a killed run never leaves a stale lock). The file holds the owner's pid
 * for the message the second writer prints. The file itself stays: removing
 * it would let a third run lock a new file while the second still waits on
 * the old one. */
static int lock_run_dir(dl_run *run, const char *dir, char *err, size_t errlen) {
    char p[1200];
    snprintf(p, sizeof p, "%s/.lock", dir);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create lock file '%s': %s", p, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t k = pread(fd, pid, sizeof pid - 1, 0);
        pid[k > 0 ? k : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        close(fd);
        if (e == EWOULDBLOCK)
            snprintf(err, errlen, "run directory '%s' is in use by another dynlab run (pid %s); "
                     "wait for it to finish or choose another --out", dir, pid[0] ? pid : "unknown");
        else
            snprintf(err, errlen, "cannot lock '%s': %s", p, strerror(e));
        return -1;
    }
    char txt[32];
    int n = snprintf(txt, sizeof txt, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, txt, (size_t)n, 0) != n) {
        /* the lock holds without the pid; only the message would lack it */
    }
    run->lock_fd = fd + 1;
    return 0;
}

static void unlock_run_dir(dl_run *run) {
    if (run->lock_fd > 0) close(run->lock_fd - 1); /* releases the flock */
    run->lock_fd = 0;
}

/* Temp files of atomic writes ("<file>.tmp.<suffix>") that a killed run
 * left behind; removed under the lock, so no live writer owns them. */
static void remove_stale_temp_files(const char *dir) {
    static const char *const owners[] = {"checkpoint.safetensors", "summary.json", "config.json",
                                         "metrics.jsonl"};
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    char p[1400];
    while ((de = readdir(d))) {
        for (size_t i = 0; i < sizeof owners / sizeof owners[0]; i++) {
            size_t n = strlen(owners[i]);
            if (strncmp(de->d_name, owners[i], n) == 0 && strncmp(de->d_name + n, ".tmp.", 5) == 0) {
                snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
                unlink(p);
            }
        }
    }
    closedir(d);
}

int dl_run_open(dl_run *run, const char *exp, const char *dir, uint64_t seed, int threads,
                int resume, char *err, size_t errlen) {
    if (strlen(dir) > DL_RUN_DIR_MAX || !dir[0]) {
        snprintf(err, errlen, "run directory path '%.60s...' is empty or longer than %d bytes", dir,
                 DL_RUN_DIR_MAX);
        return -1;
    }
    int quiet = run->quiet;
    memset(run, 0, sizeof *run);
    run->quiet = quiet;
    snprintf(run->exp, sizeof run->exp, "%s", exp);
    snprintf(run->dir, sizeof run->dir, "%s", dir);
    run->seed = seed;
    run->threads = threads;
    run->resume = resume;
    run->t_start = dl_now();
    run->progress_tty = isatty(STDERR_FILENO) && !getenv("DYNLAB_NO_PROGRESS");
    char p[1200];
    snprintf(p, sizeof p, "%s/plots", dir);
    if (mkdir_p(p)) {
        snprintf(err, errlen, "cannot create run directory '%s': %s", dir, strerror(errno));
        return -1;
    }
    if (lock_run_dir(run, dir, err, errlen)) return -1;
    remove_stale_temp_files(dir);
    if (keep_earlier_files(run, err, errlen)) {
        settle_earlier_files(run, 1);
        unlock_run_dir(run);
        return -1;
    }
    const char *mode = resume ? "a" : "w";
    run->log = fopen(dl_run_path(run, "log.txt", p, sizeof p), mode);
    if (!run->log) {
        snprintf(err, errlen, "cannot open '%s': %s", p, strerror(errno));
        settle_earlier_files(run, 1);
        unlock_run_dir(run);
        return -1;
    }
    run->metrics = fopen(dl_run_path(run, "metrics.jsonl", p, sizeof p), mode);
    if (!run->metrics) {
        snprintf(err, errlen, "cannot open '%s': %s", p, strerror(errno));
        fclose(run->log);
        run->log = NULL;
        settle_earlier_files(run, 1);
        unlock_run_dir(run);
        return -1;
    }
    return 0;
}

void dl_log(dl_run *run, const char *fmt, ...) {
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n') line[--n] = 0;
    if (run && run->progress_tty && run->progress_last > 0) fputs("\r\033[K", stderr);
    if (!run || !run->quiet || strncmp(line, "error", 5) == 0) fprintf(stderr, "%s\n", line);
    if (run && run->log) {
        fprintf(run->log, "[%8.2fs] %s\n", dl_now() - run->t_start, line);
        fflush(run->log);
    }
}

/* JSON number or null for non-finite values (JSONL stays valid for pandas). */
static void put_number(FILE *f, double v) {
    if (!isfinite(v)) {
        fputs("null", f);
        return;
    }
    /* 9 significant digits hold any float exactly; a double that needs more
     * gets 17, so a value read back (a resume rebuilds its history from
     * these rows) is the value written. */
    char t[40];
    snprintf(t, sizeof t, "%.9g", v);
    if (strtod(t, NULL) != v) snprintf(t, sizeof t, "%.17g", v);
    fputs(t, f);
}

static void put_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void dl_metrics_begin(dl_run *run, int64_t step) {
    if (!run->metrics) return;
    fprintf(run->metrics, "{\"step\":%lld", (long long)step);
    run->metrics_open_row = 1;
}

void dl_metrics_add(dl_run *run, const char *key, double value) {
    if (!run->metrics || !run->metrics_open_row) return;
    fputc(',', run->metrics);
    put_string(run->metrics, key);
    fputc(':', run->metrics);
    put_number(run->metrics, value);
}

void dl_metrics_add_str(dl_run *run, const char *key, const char *value) {
    if (!run->metrics || !run->metrics_open_row) return;
    fputc(',', run->metrics);
    put_string(run->metrics, key);
    fputc(':', run->metrics);
    put_string(run->metrics, value);
}

void dl_metrics_end(dl_run *run) {
    if (!run->metrics || !run->metrics_open_row) return;
    fputs("}\n", run->metrics);
    run->metrics_open_row = 0;
}

static int final_slot(dl_run *run, const char *key) {
    for (int i = 0; i < run->n_final; i++)
        if (strcmp(run->final[i].key, key) == 0) return i;
    if (run->n_final >= DL_MAX_FINAL) return -1;
    return run->n_final++;
}

void dl_final(dl_run *run, const char *key, double value) {
    int i = final_slot(run, key);
    if (i < 0) return;
    snprintf(run->final[i].key, sizeof run->final[i].key, "%s", key);
    run->final[i].value = value;
    run->final[i].is_text = 0;
}

void dl_final_str(dl_run *run, const char *key, const char *value) {
    int i = final_slot(run, key);
    if (i < 0) return;
    snprintf(run->final[i].key, sizeof run->final[i].key, "%s", key);
    snprintf(run->final[i].text, sizeof run->final[i].text, "%s", value);
    run->final[i].is_text = 1;
}

const char *dl_claim_kind_name(int kind) {
    return kind == DL_CLAIM_LEARNED ? "learned" : kind == DL_CLAIM_STRUCTURAL ? "structural" : "unspecified";
}

const char *dl_control_name(int control) {
    return control == DL_CONTROL_UNTRAINED ? "untrained" : "none";
}

int dl_control_parse(const char *s) {
    if (!strcmp(s, "none")) return DL_CONTROL_NONE;
    if (!strcmp(s, "untrained")) return DL_CONTROL_UNTRAINED;
    return -1;
}

int dl_run_untrained(dl_run *run) {
    if (run->control != DL_CONTROL_UNTRAINED) return 0;
    run->control_applied = 1;
    return 1;
}

int dl_claim_check(dl_run *run, int kind, const char *id, const char *statement, const char *source,
                   const char *threshold, double measured, const char *measured_text, int pass) {
    if (run->n_claims >= DL_MAX_CLAIMS) return pass;
    dl_claim *c = &run->claims[run->n_claims++];
    c->kind = kind;
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->statement, sizeof c->statement, "%s", statement);
    snprintf(c->source, sizeof c->source, "%s", source);
    snprintf(c->threshold, sizeof c->threshold, "%s", threshold);
    c->measured = measured;
    snprintf(c->measured_text, sizeof c->measured_text, "%s", measured_text ? measured_text : "");
    c->pass = pass ? 1 : 0;
    if (measured_text && measured_text[0])
        dl_log(run, "claim %s %s: %s (threshold %s, measured %s)", id, pass ? "PASS" : "FAIL",
               statement, threshold, measured_text);
    else
        dl_log(run, "claim %s %s: %s (threshold %s, measured %.4g)", id, pass ? "PASS" : "FAIL",
               statement, threshold, measured);
    return c->pass;
}

/* Next line of at most `width` characters of text, broken at a space. */
static int wrap_line(const char *text, int width) {
    int n = (int)strlen(text);
    if (n <= width) return n;
    for (int i = width; i > width / 2; i--)
        if (text[i] == ' ') return i;
    return width;
}

int dl_claims_print(const dl_run *run) {
    enum { W = 60 };
    int failed = 0;
    if (run->control == DL_CONTROL_UNTRAINED)
        printf("\n%s: claims (control: untrained; every `learned` claim should FAIL)\n", run->exp);
    else
        printf("\n%s: claims\n", run->exp);
    printf("  %-4s %-6s %-*s %-20s %s\n", "id", "result", W, "claim", "threshold", "measured");
    for (int i = 0; i < run->n_claims; i++) {
        const dl_claim *c = &run->claims[i];
        char meas[sizeof c->measured_text];
        if (c->measured_text[0])
            snprintf(meas, sizeof meas, "%s", c->measured_text);
        else
            snprintf(meas, sizeof meas, "%.4g", c->measured);
        const char *st = c->statement;
        int len = wrap_line(st, W);
        printf("  %-4s %-6s %-*.*s %-20s %s\n", c->id, c->pass ? "PASS" : "FAIL", W, len, st,
               c->threshold, meas);
        for (st += len; *st == ' '; st++) {}
        while (*st) {
            len = wrap_line(st, W);
            printf("  %-11s %.*s\n", "", len, st);
            for (st += len; *st == ' '; st++) {}
        }
        printf("  %-11s source: %s; kind: %s\n", "", c->source, dl_claim_kind_name(c->kind));
        failed += !c->pass;
    }
    printf("  %d/%d claims passed\n", run->n_claims - failed, run->n_claims);
    fflush(stdout);
    return failed;
}

int dl_check_finite(dl_run *run, const char *what, double v, int64_t step) {
    if (isfinite(v)) return 0;
    dl_log(run, "error: %s is %g at step %lld; stopping the run", what, v, (long long)step);
    return -1;
}

void dl_plot_register(dl_run *run, const char *file, const char *caption) {
    for (int i = 0; i < run->n_plots; i++)
        if (strcmp(run->plots[i].file, file) == 0) {
            snprintf(run->plots[i].caption, sizeof run->plots[i].caption, "%s", caption);
            return;
        }
    if (run->n_plots >= DL_MAX_PLOTS) return;
    snprintf(run->plots[run->n_plots].file, sizeof run->plots[0].file, "%s", file);
    snprintf(run->plots[run->n_plots].caption, sizeof run->plots[0].caption, "%s", caption);
    run->n_plots++;
}

void dl_progress(dl_run *run, const char *label, int64_t done, int64_t total, const char *extra) {
    if (run->quiet) return;
    double now = dl_now();
    int last = done >= total;
    if (run->progress_tty) {
        if (!last && now - run->progress_last < 0.1) return;
        run->progress_last = now;
        int width = 30, fill = total > 0 ? (int)(width * (double)done / (double)total) : width;
        char bar[64];
        for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
        bar[width] = 0;
        fprintf(stderr, "\r\033[K%-10s [%s] %lld/%lld %s", label, bar, (long long)done,
                (long long)total, extra ? extra : "");
        if (last) {
            fputc('\n', stderr);
            run->progress_last = 0;
        }
    } else {
        if (!last && now - run->progress_last < 5.0) return;
        run->progress_last = now;
        fprintf(stderr, "%s %lld/%lld %s\n", label, (long long)done, (long long)total,
                extra ? extra : "");
    }
}

/* summary.json: everything the report and tests read about a finished run. */
int dl_run_close(dl_run *run) {
    if (run->metrics) {
        /* A full disk shows here (rows are buffered): a run whose metrics.jsonl
         * is incomplete did not complete, and says so in its own line. */
        int bad = fflush(run->metrics) != 0 || ferror(run->metrics);
        int e = errno;
        if (fclose(run->metrics) != 0 && !bad) bad = 1, e = errno;
        run->metrics = NULL;
        if (bad && !run->failed) {
            char p[1200];
            dl_log(run, "error: cannot write %s: %s; the run is incomplete",
                   dl_run_path(run, "metrics.jsonl", p, sizeof p), strerror(e));
            run->failed = 1;
            run->close_failed = 1;
        }
    }
    if (run->failed) { /* keep the summary of an earlier, complete run intact */
        if (run->log) fclose(run->log);
        run->log = NULL;
        settle_earlier_files(run, 1);
        unlock_run_dir(run);
        return run->close_failed ? -1 : 0;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "experiment", run->exp);
    if (run->title) cJSON_AddStringToObject(root, "title", run->title);
    if (run->arxiv) cJSON_AddStringToObject(root, "arxiv", run->arxiv);
    if (run->paper_summary) cJSON_AddStringToObject(root, "summary", run->paper_summary);
    cJSON_AddStringToObject(root, "preset", run->preset);
    cJSON_AddStringToObject(root, "control", dl_control_name(run->control));
    /* An integer literal, not a double: seeds above 2^53 round-trip exactly. */
    char seed_text[24];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)run->seed);
    cJSON_AddRawToObject(root, "seed", seed_text);
    cJSON_AddNumberToObject(root, "threads", run->threads);
    cJSON_AddNumberToObject(root, "wall_seconds", dl_now() - run->t_start);
    cJSON *fin = cJSON_AddObjectToObject(root, "final");
    for (int i = 0; i < run->n_final; i++) {
        if (run->final[i].is_text)
            cJSON_AddStringToObject(fin, run->final[i].key, run->final[i].text);
        else if (isfinite(run->final[i].value))
            cJSON_AddNumberToObject(fin, run->final[i].key, run->final[i].value);
        else
            cJSON_AddNullToObject(fin, run->final[i].key);
    }
    cJSON *cl = cJSON_AddArrayToObject(root, "claims");
    int passed = 0;
    for (int i = 0; i < run->n_claims; i++) {
        const dl_claim *c = &run->claims[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", c->id);
        cJSON_AddStringToObject(o, "kind", dl_claim_kind_name(c->kind));
        cJSON_AddStringToObject(o, "statement", c->statement);
        cJSON_AddStringToObject(o, "source", c->source);
        cJSON_AddStringToObject(o, "threshold", c->threshold);
        if (isfinite(c->measured))
            cJSON_AddNumberToObject(o, "measured", c->measured);
        else
            cJSON_AddNullToObject(o, "measured");
        cJSON_AddStringToObject(o, "measured_text", c->measured_text);
        cJSON_AddBoolToObject(o, "pass", c->pass);
        cJSON_AddItemToArray(cl, o);
        passed += c->pass;
    }
    cJSON_AddNumberToObject(root, "claims_passed", passed);
    cJSON_AddNumberToObject(root, "claims_total", run->n_claims);
    cJSON *pl = cJSON_AddArrayToObject(root, "plots");
    for (int i = 0; i < run->n_plots; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", run->plots[i].file);
        cJSON_AddStringToObject(o, "caption", run->plots[i].caption);
        cJSON_AddItemToArray(pl, o);
    }
    char *txt = cJSON_Print(root);
    cJSON_Delete(root);
    char p[1200];
    int rc = dl_write_atomic(dl_run_path(run, "summary.json", p, sizeof p), txt, strlen(txt));
    free(txt);
    if (run->log) fclose(run->log);
    run->log = NULL;
    settle_earlier_files(run, rc != 0); /* without its summary.json a run did not complete */
    unlock_run_dir(run);
    return rc;
}
