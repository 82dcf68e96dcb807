/* Rank, percentile and medal among the human participants, and the two CSV
 * inputs (human scores, manual grades).
 *
 * Medal rule (IOAA statutes, as the paper applies them to each exam part):
 * gold at >= 160% of the participants' median, silver >= 130%, bronze >= 100%
 * (multiples are knobs). Rank = 1 + #{participants scoring strictly more}, so
 * ties share a rank. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ioaa/ioaa.h"

int ioaa_rank(const double *human, int n, double s) {
    int above = 0;
    for (int i = 0; i < n; i++) above += human[i] > s;
    return 1 + above;
}

double ioaa_percentile(const double *human, int n, double s) {
    if (n <= 0) return NAN;
    int at_or_below = 0;
    for (int i = 0; i < n; i++) at_or_below += human[i] <= s;
    return 100.0 * at_or_below / n;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double ioaa_median(const double *x, int n) {
    if (n <= 0) return NAN;
    double *s = malloc((size_t)n * sizeof *s);
    if (!s) return NAN;
    memcpy(s, x, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double m = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
    return m;
}

int ioaa_medal(const double *human, int n, double s, const ioaa_medal_rule *rule) {
    double m = ioaa_median(human, n);
    if (!isfinite(m)) return 0;
    if (s >= rule->gold * m) return 3;
    if (s >= rule->silver * m) return 2;
    if (s >= rule->bronze * m) return 1;
    return 0;
}

const char *ioaa_medal_name(int medal) {
    static const char *const names[] = {"none", "bronze", "silver", "gold"};
    return medal >= 0 && medal <= 3 ? names[medal] : "none";
}

double ioaa_mean(const double *x, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return n > 0 ? s / n : NAN;
}

/* ---- CSV ------------------------------------------------------------------ */

/* Split one line at commas into at most max fields (no quoting: the formats
 * have no field that needs it). Returns the field count. */
static int split_csv(char *line, char **f, int max) {
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p; p++)
        if (*p == ',') {
            *p = 0;
            if (n == max) return max + 1;
            f[n++] = p + 1;
        }
    for (int i = 0; i < n; i++) { /* trim */
        while (*f[i] == ' ') f[i]++;
        size_t m = strlen(f[i]);
        while (m && (f[i][m - 1] == ' ' || f[i][m - 1] == '\r')) f[i][--m] = 0;
    }
    return n;
}

static int parse_num(const char *s, double *v) {
    char *e;
    *v = strtod(s, &e);
    return (e == s || *e || !isfinite(*v)) ? -1 : 0;
}

/* Calls row(fields, n, lineno, ctx) for each data line after the header. */
static int each_row(const char *text, const char *header, int min_fields, int max_fields,
                    int (*row)(char **f, int n, int line, void *ctx, char *err, size_t errlen),
                    void *ctx, char *err, size_t errlen) {
    char *copy = strdup(text);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int lineno = 0, rc = 0;
    char *save = NULL;
    for (char *line = copy; line && !rc; line = save) {
        save = strchr(line, '\n');
        if (save) *save++ = 0;
        lineno++;
        if (lineno == 1) {
            size_t hn = strlen(header);
            if (strncmp(line, header, hn)) {
                snprintf(err, errlen, "line 1: expected the header '%s'", header);
                rc = -1;
            }
            continue;
        }
        if (!line[0] || (line[0] == '\r' && !line[1])) continue;
        char *f[16];
        int n = split_csv(line, f, max_fields);
        if (n < min_fields || n > max_fields) {
            snprintf(err, errlen, "line %d: expected %d to %d comma-separated fields, got %d", lineno,
                     min_fields, max_fields, n > max_fields ? max_fields + 1 : n);
            rc = -1;
            break;
        }
        rc = row(f, n, lineno, ctx, err, errlen);
    }
    if (!rc && lineno == 0) {
        snprintf(err, errlen, "empty file");
        rc = -1;
    }
    free(copy);
    return rc;
}

static int human_row(char **f, int n, int line, void *ctx, char *err, size_t errlen) {
    ioaa_humans *h = ctx;
    double v;
    if (parse_num(f[2], &v) || v < 0 || v > 100) {
        snprintf(err, errlen, "line %d: score '%s' is not a percentage in [0, 100]", line, f[2]);
        return -1;
    }
    if (strcmp(f[1], "theory") && strcmp(f[1], "data_analysis")) {
        snprintf(err, errlen, "line %d: part '%s' is not theory or data_analysis", line, f[1]);
        return -1;
    }
    if (!f[0][0] || strlen(f[0]) >= 16) {
        snprintf(err, errlen, "line %d: year must be 1 to 15 characters", line);
        return -1;
    }
    void *a = realloc(h->year, (size_t)(h->n + 1) * sizeof *h->year);
    if (a) h->year = a;
    void *b = realloc(h->part, (size_t)(h->n + 1) * sizeof *h->part);
    if (b) h->part = b;
    void *c = realloc(h->score, (size_t)(h->n + 1) * sizeof *h->score);
    if (c) h->score = c;
    if (!a || !b || !c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(h->year[h->n], sizeof h->year[0], "%s", f[0]);
    snprintf(h->part[h->n], sizeof h->part[0], "%s", f[1]);
    h->score[h->n++] = v;
    (void)n;
    return 0;
}

int ioaa_humans_parse(ioaa_humans *h, const char *text, char *err, size_t errlen) {
    memset(h, 0, sizeof *h);
    int rc = each_row(text, "year,part,score", 3, 3, human_row, h, err, errlen);
    if (rc) ioaa_humans_free(h);
    return rc;
}

void ioaa_humans_free(ioaa_humans *h) {
    free(h->year);
    free(h->part);
    free(h->score);
    memset(h, 0, sizeof *h);
}

int ioaa_humans_select(const ioaa_humans *h, const char *year, const char *part, double **out) {
    *out = malloc((size_t)(h->n ? h->n : 1) * sizeof **out);
    int k = 0;
    if (!*out) return 0;
    for (int i = 0; i < h->n; i++)
        if (!strcmp(h->year[i], year) && !strcmp(h->part[i], part)) (*out)[k++] = h->score[i];
    return k;
}

static int manual_row(char **f, int n, int line, void *ctx, char *err, size_t errlen) {
    ioaa_manual *m = ctx;
    double v;
    if (parse_num(f[5], &v) || v < 0) {
        snprintf(err, errlen, "line %d: points '%s' is not a non-negative number", line, f[5]);
        return -1;
    }
    ioaa_manual_grade *g = realloc(m->g, (size_t)(m->n + 1) * sizeof *m->g);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    m->g = g;
    ioaa_manual_grade *x = &m->g[m->n];
    memset(x, 0, sizeof *x);
    const size_t lim[5] = {sizeof x->model, sizeof x->year, sizeof x->part, sizeof x->problem,
                           sizeof x->item};
    char *dst[5] = {x->model, x->year, x->part, x->problem, x->item};
    for (int i = 0; i < 5; i++) {
        if (!f[i][0] || strlen(f[i]) >= lim[i]) {
            snprintf(err, errlen, "line %d: field %d is empty or too long", line, i + 1);
            return -1;
        }
        snprintf(dst[i], lim[i], "%s", f[i]);
    }
    x->points = v;
    if (n > 6) snprintf(x->category, sizeof x->category, "%s", f[6]);
    m->n++;
    return 0;
}

int ioaa_manual_parse(ioaa_manual *m, const char *text, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    int rc = each_row(text, "model,year,part,problem,item,points", 6, 7, manual_row, m, err, errlen);
    if (rc) ioaa_manual_free(m);
    return rc;
}

void ioaa_manual_free(ioaa_manual *m) {
    free(m->g);
    m->g = NULL;
    m->n = 0;
}

const ioaa_manual_grade *ioaa_manual_find(const ioaa_manual *m, const char *model,
                                          const char *year, const char *part,
                                          const char *problem, const char *item) {
    const ioaa_manual_grade *hit = NULL; /* the last row wins: a later correction */
    for (int i = 0; i < m->n; i++) {
        const ioaa_manual_grade *g = &m->g[i];
        if (!strcmp(g->model, model) && !strcmp(g->year, year) && !strcmp(g->part, part) &&
            !strcmp(g->problem, problem) && !strcmp(g->item, item))
            hit = g;
    }
    return hit;
}
