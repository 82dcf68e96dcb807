/* Reader of scikit-learn's bundled CSV tables (breast_cancer.csv, wine_data.csv,
 * iris.csv) and of a user's own table in the same layout:
 *   line 1: n_samples,n_features[,class names...]
 *   then n_samples rows: n_features numbers, then an integer class label >= 0.
 * Every error is one line naming the file, the line and what is wrong. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/data.h"
#include "ssl/ssl.h"

void ssl_data_free(ssl_data *D)
{
    free(D->x);
    free(D->y);
    memset(D, 0, sizeof *D);
}

/* Parses one comma-separated field as a double; *p advances past the comma. */
static int field_double(const char **p, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(*p, &end);
    if (end == *p || errno == ERANGE || !isfinite(*v)) return -1;
    while (*end == ' ' || *end == '\r') end++;
    if (*end == ',') end++;
    else if (*end != '\n' && *end != '\0') return -1;
    *p = end;
    return 0;
}

int ssl_csv_parse(const char *name, const char *text, ssl_data *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *p = text;
    long n, d;
    char *end;
    n = strtol(p, &end, 10);
    if (end == p || *end != ',' || n < 2 || n > 10000000) {
        snprintf(err, errlen, "%s: line 1: expected \"n_samples,n_features,...\" with n_samples >= 2", name);
        return -1;
    }
    p = end + 1;
    d = strtol(p, &end, 10);
    if (end == p || (*end != ',' && *end != '\n' && *end != '\r') || d < 1 || d > 100000) {
        snprintf(err, errlen, "%s: line 1: expected \"n_samples,n_features,...\" with 1 <= n_features <= 100000",
                 name);
        return -1;
    }
    p = strchr(end, '\n');
    if (!p) {
        snprintf(err, errlen, "%s: truncated after line 1 (expected %ld rows)", name, n);
        return -1;
    }
    p++;
    out->n = (int)n;
    out->d = (int)d;
    out->h = 1;
    out->w = (int)d;
    out->x = malloc(sizeof(float) * (size_t)n * (size_t)d);
    out->y = malloc(sizeof(int) * (size_t)n);
    if (!out->x || !out->y) {
        snprintf(err, errlen, "%s: out of memory for %ld x %ld", name, n, d);
        ssl_data_free(out);
        return -1;
    }
    int kmax = -1;
    for (long i = 0; i < n; i++) {
        long line = i + 2;
        if (*p == '\0') {
            snprintf(err, errlen, "%s: truncated: %ld of %ld rows", name, i, n);
            ssl_data_free(out);
            return -1;
        }
        for (long j = 0; j < d; j++) {
            double v;
            if (field_double(&p, &v) || (*(p - 1) != ',' )) {
                snprintf(err, errlen, "%s: line %ld: field %ld is not a finite number or the row has fewer than "
                                      "%ld fields", name, line, j + 1, d + 1);
                ssl_data_free(out);
                return -1;
            }
            out->x[i * d + j] = (float)v;
        }
        double lab;
        if (field_double(&p, &lab) || *(p - 1) == ',' || lab != floor(lab) || lab < 0 || lab > 1000) {
            snprintf(err, errlen, "%s: line %ld: the last field must be an integer class label in 0..1000 "
                                  "(or the row has more than %ld fields)", name, line, d + 1);
            ssl_data_free(out);
            return -1;
        }
        if (*p == '\n') p++;
        out->y[i] = (int)lab;
        if (out->y[i] > kmax) kmax = out->y[i];
    }
    while (*p == '\n' || *p == '\r' || *p == ' ') p++;
    if (*p != '\0') {
        snprintf(err, errlen, "%s: more rows than the %ld announced on line 1", name, n);
        ssl_data_free(out);
        return -1;
    }
    out->n_classes = kmax + 1;
    if (out->n_classes < 2) {
        snprintf(err, errlen, "%s: needs at least two classes", name);
        ssl_data_free(out);
        return -1;
    }
    return 0;
}

int ssl_csv_read(const char *path, ssl_data *out, char *err, size_t errlen)
{
    size_t len;
    char *text = dl_read_file_max(path, (int64_t)256 << 20, &len, err, errlen);
    if (!text) return -1;
    if (strlen(text) != len) {
        snprintf(err, errlen, "%s: contains a NUL byte (not a CSV text file)", path);
        free(text);
        return -1;
    }
    int rc = ssl_csv_parse(path, text, out, err, errlen);
    free(text);
    return rc;
}
