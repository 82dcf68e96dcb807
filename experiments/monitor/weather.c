/* The real node: Seattle's daily weather category, 2012-2015.
 *
 * The abstract's monitor tracks real nodes with time-series forecasters; our
 * real state sequence is the `weather` column of seattle-weather.csv shipped
 * by Debian's python3-vega-datasets (1461 days, 5 categories: drizzle, fog,
 * rain, snow, sun). Reading it, estimating the chain from it and replaying a
 * policy along it are here; the phase that uses them is real.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "monitor/monitor.h"

/* Split a CSV line (no quoting in this file) in place; returns the number of fields. */
static int split_csv(char *line, char **field, int max) {
    int n = 0;
    char *p = line;
    while (n < max) {
        field[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma) break;
        *comma = 0;
        p = comma + 1;
    }
    return n;
}

static void chomp(char *s) {
    size_t l = strlen(s);
    while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == '\r' || s[l - 1] == ' ')) s[--l] = 0;
}

int mon_weather_load(const char *path, int **seq_out, char names[16][24], int *n_states, char *err, int errlen) {
    *seq_out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, (size_t)errlen, "cannot open the weather data '%s' (Debian package python3-vega-datasets)", path);
        return -1;
    }
    char line[512], *fld[16];
    if (!fgets(line, sizeof line, f)) {
        snprintf(err, (size_t)errlen, "%s is empty", path);
        fclose(f);
        return -1;
    }
    chomp(line);
    int nh = split_csv(line, fld, 16), col = -1, dcol = -1;
    for (int k = 0; k < nh; k++) {
        if (!strcmp(fld[k], "weather")) col = k;
        if (!strcmp(fld[k], "date")) dcol = k;
    }
    if (col < 0 || dcol < 0) {
        snprintf(err, (size_t)errlen, "%s: header has no 'date' and 'weather' columns", path);
        fclose(f);
        return -1;
    }
    int cap = 2048, len = 0, nn = 0;
    int *seq = malloc(sizeof(int) * (size_t)cap);
    char prev_date[32] = "";
    int rc = 0, lineno = 1;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, (size_t)errlen, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        chomp(line);
        if (!line[0]) continue;
        int nf = split_csv(line, fld, 16);
        if (nf != nh || !fld[col][0]) {
            snprintf(err, (size_t)errlen, "%s:%d: expected %d fields with a weather value", path, lineno, nh);
            rc = -1;
            break;
        }
        /* days in order (the chain is estimated from consecutive days) */
        if (strcmp(fld[dcol], prev_date) <= 0) {
            snprintf(err, (size_t)errlen, "%s:%d: date '%s' does not follow '%s'", path, lineno, fld[dcol], prev_date);
            rc = -1;
            break;
        }
        snprintf(prev_date, sizeof prev_date, "%s", fld[dcol]);
        int k = 0;
        while (k < nn && strcmp(names[k], fld[col])) k++;
        if (k == nn) {
            if (nn == 16 || strlen(fld[col]) >= 24) {
                snprintf(err, (size_t)errlen, "%s:%d: too many or too long weather categories", path, lineno);
                rc = -1;
                break;
            }
            snprintf(names[nn++], 24, "%s", fld[col]);
        }
        if (len == cap) {
            cap *= 2;
            int *s2 = realloc(seq, sizeof(int) * (size_t)cap);
            if (!s2) {
                rc = -1;
                snprintf(err, (size_t)errlen, "out of memory reading %s", path);
                break;
            }
            seq = s2;
        }
        seq[len++] = k;
    }
    fclose(f);
    if (rc == 0 && (len < 2 || nn < 2)) {
        snprintf(err, (size_t)errlen, "%s: need at least 2 days and 2 weather categories (got %d, %d)", path, len, nn);
        rc = -1;
    }
    if (rc) {
        free(seq);
        return -1;
    }
    /* number the categories alphabetically, whatever order they appear in */
    int order[16], rank[16];
    for (int k = 0; k < nn; k++) order[k] = k;
    for (int a = 1; a < nn; a++)
        for (int b = a; b > 0 && strcmp(names[order[b - 1]], names[order[b]]) > 0; b--) {
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    char sorted[16][24];
    for (int k = 0; k < nn; k++) {
        rank[order[k]] = k;
        memcpy(sorted[k], names[order[k]], 24);
    }
    memcpy(names, sorted, sizeof sorted[0] * (size_t)nn);
    for (int t = 0; t < len; t++) seq[t] = rank[seq[t]];
    *n_states = nn;
    *seq_out = seq;
    return len;
}

void mon_estimate_chain(const int *seq, int len, int n, double smooth, double *P) {
    for (int s = 0; s < n * n; s++) P[s] = smooth;
    for (int t = 0; t + 1 < len; t++) P[seq[t] * n + seq[t + 1]] += 1.0;
    for (int i = 0; i < n; i++) {
        double z = 0.0;
        for (int j = 0; j < n; j++) z += P[i * n + j];
        for (int j = 0; j < n; j++) P[i * n + j] = z > 0 ? P[i * n + j] / z : 1.0 / n;
    }
}

double mon_replay_thresholds(const mon_chain *ch, const mon_model *m, double c, const int *tau, const int *seq,
                             int len, double *qrate) {
    int n = ch->n, i = seq[0], k = 1;
    double total = c;
    int queries = 1;
    for (int t = 1; t < len; t++) {
        if (k >= tau[i]) {
            total += c;
            queries++;
            i = seq[t];
            k = 1;
        } else {
            double pred = k <= m->K ? m->pred[(size_t)(k - 1) * (size_t)n + (size_t)i] : m->pred_inf;
            total += mon_realised_loss(ch, pred, seq[t]);
            if (k < MON_TAU_INF) k++;
        }
    }
    if (qrate) *qrate = (double)queries / len;
    return total / len;
}
