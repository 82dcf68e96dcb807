/* gnuplot plumbing for the plots (see plot_gp.h). gnuplot is run as a
 * program (posix_spawn of the resolved path, no shell), with plots/ as its
 * working directory, stdout to /dev/null and stderr to a scratch file that
 * is kept only to quote gnuplot's complaint when it fails. posix_spawn (not
 * fork) so that a training process holding gigabytes does not copy its page
 * tables for every figure. */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np (glibc >= 2.29) */
#include "plot_gp.h"

#include <spawn.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

void gp_quote(FILE *f, const char *s) {
    fputc('\'', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\'') fputs("''", f);
        else if (c < 0x20 || c == 0x7f) fputc(' ', f);
        else fputc(c, f);
    }
    fputc('\'', f);
}

void gp_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.9g", v);
    else fputs("NaN", f);
}

void gp_style(FILE *f) {
    /* Okabe-Ito colours (readable with colour-vision deficiency). */
    static const char *const colours[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                          "#e69f00", "#56b4e9", "#000000", "#f0e442"};
    for (int i = 0; i < 8; i++) fprintf(f, "set linetype %d lc rgb '%s' lw 2 pt 7\n", i + 1, colours[i]);
    fputs("set linetype cycle 8\n"
          "set grid lc rgb '#dddddd' lw 1\n"
          "set border lc rgb '#555555'\n"
          "set tics nomirror out\n"
          "set key noautotitle\n"
          "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')\n",
          f);
}

static int valid_stem(const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= PLOT_STEM_MAX - 4) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (i == 0 && !alnum) return 0;
        if (!alnum && c != '_' && c != '-' && c != '.') return 0;
    }
    return 1;
}

static int mkdir_p(const char *path) {
    char tmp[1200];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST) return -1;
    return 0;
}

int plot_begin(dl_run *run, const char *stem, plot_files *pf) {
    memset(pf, 0, sizeof *pf);
    if (!run || !run->dir[0]) {
        fprintf(stderr, "dynlab: plot %s: no run directory\n", stem ? stem : "(null)");
        return -1;
    }
    if (!valid_stem(stem)) {
        fprintf(stderr, "dynlab: plot name '%s' is invalid (use letters, digits, '_', '-', '.')\n",
                stem ? stem : "(null)");
        return -1;
    }
    snprintf(pf->stem, sizeof pf->stem, "%s", stem);
    snprintf(pf->dat_name, sizeof pf->dat_name, "%s.dat", stem);
    if (snprintf(pf->dir, sizeof pf->dir, "%s/plots", run->dir) >= (int)sizeof pf->dir ||
        mkdir_p(pf->dir) != 0) {
        fprintf(stderr, "dynlab: plot %s: cannot create %s/plots: %s\n", stem, run->dir, strerror(errno));
        return -1;
    }
    snprintf(pf->dat, sizeof pf->dat, "%s/%s", pf->dir, pf->dat_name);
    pf->body = open_memstream(&pf->body_buf, &pf->body_len);
    if (!pf->body) {
        fprintf(stderr, "dynlab: plot %s: out of memory\n", stem);
        return -1;
    }
    return 0;
}

void plot_abort(plot_files *pf) {
    if (pf->body) fclose(pf->body);
    free(pf->body_buf);
    pf->body = NULL;
    pf->body_buf = NULL;
}

int plot_gnuplot_available(char *path, size_t n) {
    const char *off = getenv("DYNLAB_NO_GNUPLOT");
    if (off && *off && strcmp(off, "0") != 0) return 0;
    const char *explicit_path = getenv("DYNLAB_GNUPLOT");
    if (explicit_path && *explicit_path) {
        snprintf(path, n, "%s", explicit_path);
        return access(path, X_OK) == 0;
    }
    const char *p = getenv("PATH");
    if (!p || !*p) p = "/usr/local/bin:/usr/bin:/bin";
    while (*p) {
        const char *e = strchr(p, ':');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > 0 && (size_t)snprintf(path, n, "%.*s/gnuplot", (int)len, p) < n && access(path, X_OK) == 0)
            return 1;
        p += len + (e ? 1 : 0);
    }
    return 0;
}

/* gnuplot's complaint: its first `"script" line N: message` line, else the
 * last non-empty line of its stderr. */
static void first_complaint(const char *err_path, char *out, size_t n) {
    out[0] = 0;
    FILE *f = fopen(err_path, "r");
    if (!f) return;
    char line[512], last[512] = "";
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '"' && strstr(line, " line ")) {
            snprintf(last, sizeof last, "%s", line);
            break;
        }
        if (line[0]) snprintf(last, sizeof last, "%s", line);
    }
    snprintf(out, n, "%.300s", last);
    fclose(f);
}

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 29))
static int run_gnuplot(const char *exe, const char *dir, const char *script, const char *err_name) {
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) return -1;
    int ok = posix_spawn_file_actions_addchdir_np(&fa, dir) == 0 &&
             posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) == 0 &&
             posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) == 0 &&
             posix_spawn_file_actions_addopen(&fa, 2, err_name, O_WRONLY | O_CREAT | O_TRUNC, 0644) == 0;
    char *const argv[] = {(char *)"gnuplot", (char *)script, NULL};
    pid_t pid;
    int rc = ok ? posix_spawn(&pid, exe, &fa, NULL, argv, environ) : -1;
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return rc == ENOENT || rc == EACCES ? 127 : -1;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}
#else
static int run_gnuplot(const char *exe, const char *dir, const char *script, const char *err_name) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) { /* child: async-signal-safe calls only */
        if (chdir(dir) != 0) _exit(126);
        int devnull = open("/dev/null", O_RDWR);
        int err = open(err_name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); }
        if (err >= 0) dup2(err, 2);
        char *const argv[] = {(char *)"gnuplot", (char *)script, NULL};
        execve(exe, argv, environ);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}
#endif

/* gnuplot's SVG embeds heatmaps as small bitmaps that browsers smooth when
 * scaling up; mark them pixelated so cells stay crisp, as in the PNG. */
static void svg_pixelate(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        fclose(f);
        return;
    }
    char chunk[1 << 15];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, n, mem);
    fclose(f);
    fclose(mem);
    static const char tag[] = "<image x=";
    if (!buf || !strstr(buf, tag)) {
        free(buf);
        return;
    }
    char tmp[1500];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = fopen(tmp, "wb");
    if (out) {
        const char *p = buf, *hit;
        while ((hit = strstr(p, tag))) {
            fwrite(p, 1, (size_t)(hit - p), out);
            fputs("<image style='image-rendering:pixelated' x=", out);
            p = hit + strlen(tag);
        }
        fputs(p, out);
        if (fclose(out) == 0) rename(tmp, path);
        else remove(tmp);
    }
    free(buf);
}

static atomic_int g_notice_printed;

int plot_finish(dl_run *run, plot_files *pf, const char *caption, int width, int height) {
    if (fclose(pf->body) != 0) {
        fprintf(stderr, "dynlab: plot %s: cannot write its data: %s\n", pf->stem, strerror(errno));
        pf->body = NULL;
        plot_abort(pf);
        return -1;
    }
    pf->body = NULL;
    char gp_name[PLOT_STEM_MAX + 8], png_name[PLOT_STEM_MAX + 8], svg_name[PLOT_STEM_MAX + 8];
    char err_name[PLOT_STEM_MAX + 16], path[1400];
    snprintf(gp_name, sizeof gp_name, "%s.gp", pf->stem);
    snprintf(png_name, sizeof png_name, "%s.png", pf->stem);
    snprintf(svg_name, sizeof svg_name, "%s.svg", pf->stem);
    snprintf(err_name, sizeof err_name, ".%s.err", pf->stem);

    snprintf(path, sizeof path, "%s/%s", pf->dir, gp_name);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "dynlab: plot %s: cannot write %s: %s\n", pf->stem, path, strerror(errno));
        plot_abort(pf);
        return -1;
    }
    fputs("# dynlab figure: ", f);
    for (const char *c = caption ? caption : ""; *c; c++) fputc((unsigned char)*c < 0x20 ? ' ' : *c, f);
    fputs("\n# Regenerate: cd into this folder, then run: gnuplot ", f);
    fprintf(f, "%s\n", gp_name);
    /* noenhanced: labels are literal text ('_' and '^' are not markup). */
    fprintf(f, "set terminal pngcairo noenhanced size %d,%d font ',10'\nset output ", width, height);
    gp_quote(f, png_name);
    fprintf(f, "\n%s\nunset output\n", pf->body_buf);
    fprintf(f, "set terminal svg noenhanced size %d,%d dynamic font 'sans,10' background '#ffffff'\n"
               "reset\nset output ", width, height);
    gp_quote(f, svg_name);
    fprintf(f, "\n%s\nunset output\n", pf->body_buf);
    plot_abort(pf);
    if (fclose(f) != 0) {
        fprintf(stderr, "dynlab: plot %s: cannot write %s: %s\n", pf->stem, path, strerror(errno));
        return -1;
    }

    char exe[1024];
    if (!plot_gnuplot_available(exe, sizeof exe)) {
        if (atomic_exchange(&g_notice_printed, 1) == 0)
            fprintf(stderr, "dynlab: plots skipped: gnuplot not found (data and scripts are in %s)\n",
                    pf->dir);
        return 0;
    }
    int rc = run_gnuplot(exe, pf->dir, gp_name, err_name);
    snprintf(path, sizeof path, "%s/%s", pf->dir, err_name);
    if (rc == 127 || rc == 126) {
        remove(path);
        if (atomic_exchange(&g_notice_printed, 1) == 0)
            fprintf(stderr, "dynlab: plots skipped: gnuplot not found (could not run %s)\n", exe);
        return 0;
    }
    if (rc != 0) {
        char msg[600];
        first_complaint(path, msg, sizeof msg);
        remove(path);
        fprintf(stderr, "dynlab: plot %s: gnuplot failed (status %d): %s\n", pf->stem, rc, msg);
        return -1;
    }
    remove(path);
    snprintf(path, sizeof path, "%s/%s", pf->dir, svg_name);
    svg_pixelate(path);
    dl_plot_register(run, png_name, caption ? caption : ""); /* re-plotting a stem keeps one entry */
    return 0;
}
