/* The authors' exam release layout (arXiv 2510.05016, their LLM-IOAA
 * repository): data/<year>/{Theory,Data Analysis}/<problem>.tex, one LaTeX
 * file per problem, figures under images/. As the authors' preproc.py does,
 * a problem is the text between \begin{document} and \end{document}, and
 * every \includegraphics{name} maps to images/<name>, with ".jpg" added
 * unless the name ends in ".png". Point values are read from the statement. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "ioaa/ioaa.h"
#include "ioaa/util.h"

#define MAX_TEX_BYTES (4 << 20)

static const char *find_str(const char *s, const char *end, const char *needle) {
    size_t n = strlen(needle);
    for (const char *p = s; p + n <= end; p++)
        if (memcmp(p, needle, n) == 0) return p;
    return NULL;
}

double ioaa_points_of(const char *body) {
    /* "(10 points)", "(10 pts)", "(10 marks)": the problem total. */
    double total = -1;
    for (const char *p = body; (p = strchr(p, '(')); p++) {
        char *end;
        double v = strtod(p + 1, &end);
        if (end == p + 1 || !(v > 0) || v > 1e6) continue;
        while (*end == ' ' || *end == '~') end++;
        if (!strncmp(end, "points)", 7) || !strncmp(end, "pts)", 4) || !strncmp(end, "marks)", 6) ||
            !strncmp(end, "point)", 6))
            if (v > total) total = v;
    }
    if (total > 0) return total;
    /* Otherwise the sum of bracketed sub-part marks "[2]", "[1.5]", "[3 pts]". */
    double sum = 0;
    for (const char *p = body; (p = strchr(p, '[')); p++) {
        if (p > body && p[-1] == '\\') continue; /* \[ display math */
        char *end;
        double v = strtod(p + 1, &end);
        if (end == p + 1 || !(v > 0) || v > 1e4) continue;
        while (*end == ' ') end++;
        if (!strncmp(end, "pts", 3)) end += 3;
        else if (!strncmp(end, "points", 6)) end += 6;
        while (*end == ' ') end++;
        if (*end == ']') sum += v;
    }
    return sum;
}

int ioaa_problem_parse(ioaa_problem *pr, const char *text, size_t len, char *err, size_t errlen) {
    const char *end = text + len;
    const char *b = find_str(text, end, "\\begin{document}");
    if (!b) {
        snprintf(err, errlen, "no \\begin{document}");
        return -1;
    }
    b += strlen("\\begin{document}");
    const char *e = find_str(b, end, "\\end{document}");
    if (!e) {
        snprintf(err, errlen, "\\begin{document} without \\end{document}");
        return -1;
    }
    size_t n = (size_t)(e - b);
    pr->body = malloc(n + 1);
    if (!pr->body) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(pr->body, b, n);
    pr->body[n] = 0;
    if (memchr(pr->body, 0, n)) {
        snprintf(err, errlen, "NUL byte inside the document");
        free(pr->body);
        pr->body = NULL;
        return -1;
    }
    pr->n_figures = 0;
    for (const char *p = pr->body; (p = strstr(p, "\\includegraphics"));) {
        p += strlen("\\includegraphics");
        if (*p == '[') { /* options */
            const char *q = strchr(p, ']');
            if (!q) break;
            p = q + 1;
        }
        if (*p != '{') continue;
        const char *q = strchr(p, '}');
        if (!q) {
            snprintf(err, errlen, "unterminated \\includegraphics{");
            free(pr->body);
            pr->body = NULL;
            return -1;
        }
        size_t m = (size_t)(q - p - 1);
        if (pr->n_figures < IOAA_MAX_FIGS && m > 0 && m < 100) {
            char name[112];
            memcpy(name, p + 1, m);
            name[m] = 0;
            const char *ext = (m >= 4 && !strcmp(name + m - 4, ".png")) ? "" : ".jpg";
            if (m >= 4 && !strcmp(name + m - 4, ".jpg")) ext = "";
            snprintf(pr->figures[pr->n_figures++], sizeof pr->figures[0], "images/%s%s", name, ext);
        }
        p = q + 1;
    }
    pr->max_points = ioaa_points_of(pr->body);
    return 0;
}

static int part_of(const char *folder, char *out, size_t n) {
    char low[64];
    size_t i = 0;
    for (; folder[i] && i + 1 < sizeof low; i++) low[i] = (char)tolower((unsigned char)folder[i]);
    low[i] = 0;
    if (!strcmp(low, "theory")) snprintf(out, n, "theory");
    else if (!strcmp(low, "data analysis") || !strcmp(low, "data_analysis"))
        snprintf(out, n, "data_analysis");
    else
        return -1;
    return 0;
}

static int cmp_problem(const void *a, const void *b) {
    const ioaa_problem *x = a, *y = b;
    int c = strcmp(x->year, y->year);
    if (c) return c;
    if ((c = strcmp(x->part, y->part))) return c;
    return ioaa_natural_cmp(x->id, y->id);
}

static int add_problem(ioaa_exam *ex, const char *path, const char *year, const char *part,
                       const char *stem, char *err, size_t errlen) {
    size_t len;
    char sub[256];
    char *text = ioaa_read_file(path, MAX_TEX_BYTES, &len, sub, sizeof sub);
    if (!text) {
        snprintf(err, errlen, "%s", sub);
        return -1;
    }
    ioaa_problem *grown = realloc(ex->p, (size_t)(ex->n + 1) * sizeof *ex->p);
    if (!grown) {
        free(text);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    ex->p = grown;
    ioaa_problem *pr = &ex->p[ex->n];
    memset(pr, 0, sizeof *pr);
    snprintf(pr->year, sizeof pr->year, "%.15s", year);
    snprintf(pr->part, sizeof pr->part, "%.31s", part);
    snprintf(pr->id, sizeof pr->id, "%.63s", stem);
    int rc = ioaa_problem_parse(pr, text, len, sub, sizeof sub);
    free(text);
    if (rc) {
        snprintf(err, errlen, "%s: %s", path, sub);
        return -1;
    }
    if (!(pr->max_points > 0)) {
        snprintf(err, errlen, "%s: no point value found (expected \"(N points)\" or \"[n]\" marks)",
                 path);
        free(pr->body);
        return -1;
    }
    ex->n++;
    return 0;
}

int ioaa_exam_load_dir(ioaa_exam *ex, const char *dir, char *err, size_t errlen) {
    memset(ex, 0, sizeof *ex);
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "exam directory '%s': %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *y;
    int rc = 0;
    while (!rc && (y = readdir(d))) {
        if (y->d_name[0] == '.' || strlen(y->d_name) >= 16) continue;
        char ypath[1100];
        snprintf(ypath, sizeof ypath, "%.800s/%.200s", dir, y->d_name);
        struct stat st;
        if (stat(ypath, &st) || !S_ISDIR(st.st_mode)) continue;
        DIR *yd = opendir(ypath);
        if (!yd) continue;
        struct dirent *pt;
        while (!rc && (pt = readdir(yd))) {
            char part[32];
            if (pt->d_name[0] == '.' || part_of(pt->d_name, part, sizeof part)) continue;
            char ppath[1400];
            snprintf(ppath, sizeof ppath, "%s/%.200s", ypath, pt->d_name);
            DIR *pd = opendir(ppath);
            if (!pd) continue;
            struct dirent *f;
            while (!rc && (f = readdir(pd))) {
                size_t m = strlen(f->d_name);
                if (m < 5 || m >= 64 || strcmp(f->d_name + m - 4, ".tex")) continue;
                char stem[64], fpath[1700];
                memcpy(stem, f->d_name, m - 4);
                stem[m - 4] = 0;
                snprintf(fpath, sizeof fpath, "%s/%s", ppath, f->d_name);
                rc = add_problem(ex, fpath, y->d_name, part, stem, err, errlen);
            }
            closedir(pd);
        }
        closedir(yd);
    }
    closedir(d);
    if (!rc && ex->n == 0) {
        snprintf(err, errlen,
                 "exam directory '%s' holds no problems (expected <year>/Theory/*.tex or "
                 "<year>/Data Analysis/*.tex)",
                 dir);
        rc = -1;
    }
    if (rc) {
        ioaa_exam_free(ex);
        return -1;
    }
    qsort(ex->p, (size_t)ex->n, sizeof *ex->p, cmp_problem);
    return 0;
}

void ioaa_exam_free(ioaa_exam *ex) {
    for (int i = 0; i < ex->n; i++) free(ex->p[i].body);
    free(ex->p);
    ex->p = NULL;
    ex->n = 0;
}
