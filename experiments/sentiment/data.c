/* Reading a market: date,text posts and date,close prices (CSV with header
 * lines), the vocabulary of the training period, day tensors of M posts x L
 * tokens, risk labels and the chronological split. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dynlab/data.h"
#include "sentiment/sentiment.h"

#define MAX_CSV_BYTES ((size_t)256 << 20)

/* Whole regular file (a FIFO or device is refused, not waited on). */
static char *read_csv(const char *path, char *err, size_t errlen) {
    return dl_read_file_max(path, (int64_t)MAX_CSV_BYTES, NULL, err, errlen);
}

static int valid_date(const char *s) {
    for (int i = 0; i < 10; i++)
        if ((i == 4 || i == 7) ? s[i] != '-' : !isdigit((unsigned char)s[i])) return 0;
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* Next line (NUL-terminated in place); NULL at the end. */
static char *next_line(char **cur) {
    char *line = *cur;
    if (!line || !*line) return NULL;
    char *nl = strchr(line, '\n');
    if (nl) {
        *nl = 0;
        *cur = nl + 1;
    } else {
        *cur = line + strlen(line);
    }
    size_t n = strlen(line);
    if (n && line[n - 1] == '\r') line[n - 1] = 0;
    return line;
}

typedef struct post {
    int day;
    char *text;
} post;

/* Word-hash table for the vocabulary. */
typedef struct wcount {
    char w[24];
    long count;
    int id;
} wcount;

static uint64_t hash_word(const char *w) {
    uint64_t h = 1469598103934665603ULL;
    for (; *w; w++) h = (h ^ (unsigned char)*w) * 1099511628211ULL;
    return h;
}

static wcount *table_find(wcount *t, size_t cap, const char *w, int insert) {
    size_t i = hash_word(w) & (cap - 1);
    while (t[i].w[0]) {
        if (!strcmp(t[i].w, w)) return &t[i];
        i = (i + 1) & (cap - 1);
    }
    if (!insert) return NULL;
    snprintf(t[i].w, sizeof t[i].w, "%s", w);
    t[i].id = SENT_UNK;
    return &t[i];
}

/* Next lowercase word of at most 23 characters ([a-z0-9']); 0 at the end. */
static int next_word(const char **p, char w[24]) {
    const unsigned char *s = (const unsigned char *)*p;
    while (*s && !(isalnum(*s) || *s == '\'')) s++;
    if (!*s) return 0;
    int n = 0;
    while (*s && (isalnum(*s) || *s == '\'')) {
        if (n < 23) w[n++] = (char)tolower(*s);
        s++;
    }
    w[n] = 0;
    *p = (const char *)s;
    return 1;
}

static int cmp_count(const void *a, const void *b) {
    const wcount *x = *(const wcount *const *)a, *y = *(const wcount *const *)b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->w, y->w);
}

int sent_market_load(sent_market *mk, const char *texts_csv, const char *prices_csv, int M, int L,
                     int vocab, double train_frac, int horizon, double drawdown, char *err,
                     size_t errlen) {
    memset(mk, 0, sizeof *mk);
    char sub[600];
    char *ptxt = read_csv(prices_csv, sub, sizeof sub), *ttxt = NULL;
    post *posts = NULL;
    wcount *table = NULL;
    wcount **order = NULL;
    int n_posts = 0, rc = -1;
    if (!ptxt) {
        snprintf(err, errlen, "prices: %s", sub);
        return -1;
    }
    /* Prices: date,close with strictly increasing dates. */
    char *cur = ptxt, *line = next_line(&cur);
    if (!line || strcmp(line, "date,close")) {
        snprintf(err, errlen, "%s: line 1 must be the header 'date,close'", prices_csv);
        goto out;
    }
    int cap_days = 1024, lineno = 1;
    mk->close = malloc((size_t)cap_days * sizeof *mk->close);
    mk->date = malloc((size_t)cap_days * sizeof *mk->date);
    while ((line = next_line(&cur))) {
        lineno++;
        if (!line[0]) continue;
        char *comma = strchr(line, ',');
        char *end = NULL;
        double c = comma ? strtod(comma + 1, &end) : NAN;
        if (!comma || comma - line != 10 || !valid_date(line) || end == comma + 1 || *end ||
            !(c > 0) || !isfinite(c)) {
            snprintf(err, errlen, "%s: line %d: expected YYYY-MM-DD,<positive close>, got '%.60s'",
                     prices_csv, lineno, line);
            goto out;
        }
        if (mk->n_days && strncmp(line, mk->date[mk->n_days - 1], 10) <= 0) {
            snprintf(err, errlen, "%s: line %d: dates must increase (%.10s after %s)", prices_csv,
                     lineno, line, mk->date[mk->n_days - 1]);
            goto out;
        }
        if (mk->n_days == cap_days) {
            cap_days *= 2;
            double *c2 = realloc(mk->close, (size_t)cap_days * sizeof *c2);
            char(*d2)[11] = realloc(mk->date, (size_t)cap_days * sizeof *d2);
            if (c2) mk->close = c2;
            if (d2) mk->date = d2;
            if (!c2 || !d2) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
        }
        memcpy(mk->date[mk->n_days], line, 10);
        mk->date[mk->n_days][10] = 0;
        mk->close[mk->n_days++] = c;
    }
    if (mk->n_days < 2) {
        snprintf(err, errlen, "%s: fewer than 2 days of prices", prices_csv);
        goto out;
    }
    /* Posts: date,text; a post belongs to the first trading day on or after its date. */
    ttxt = read_csv(texts_csv, sub, sizeof sub);
    if (!ttxt) {
        snprintf(err, errlen, "texts: %s", sub);
        goto out;
    }
    cur = ttxt;
    line = next_line(&cur);
    if (!line || strcmp(line, "date,text")) {
        snprintf(err, errlen, "%s: line 1 must be the header 'date,text'", texts_csv);
        goto out;
    }
    int cap_posts = 4096;
    posts = malloc((size_t)cap_posts * sizeof *posts);
    lineno = 1;
    while (posts && (line = next_line(&cur))) {
        lineno++;
        if (!line[0]) continue;
        if (strlen(line) < 11 || line[10] != ',' || !valid_date(line)) {
            snprintf(err, errlen, "%s: line %d: expected YYYY-MM-DD,<text>, got '%.60s'", texts_csv,
                     lineno, line);
            goto out;
        }
        int lo = 0, hi = mk->n_days; /* first day with date >= post date */
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (strncmp(mk->date[mid], line, 10) < 0) lo = mid + 1;
            else hi = mid;
        }
        if (lo == mk->n_days) continue; /* after the last price */
        if (n_posts == cap_posts) {
            cap_posts *= 2;
            post *p2 = realloc(posts, (size_t)cap_posts * sizeof *p2);
            if (!p2) break;
            posts = p2;
        }
        posts[n_posts].day = lo;
        posts[n_posts++].text = line + 11;
    }
    if (!posts) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    /* Vocabulary: the most frequent words of the training period. */
    const int train_end = (int)(train_frac * mk->n_days);
    size_t cap = 1 << 16;
    table = calloc(cap, sizeof *table);
    if (!table) goto out;
    size_t n_words = 0;
    for (int i = 0; i < n_posts; i++) {
        if (posts[i].day >= train_end) continue;
        const char *p = posts[i].text;
        char w[24];
        while (next_word(&p, w)) {
            wcount *e = table_find(table, cap, w, 0);
            if (!e) {
                if (n_words * 2 >= cap) continue; /* table full: rarer words map to UNK */
                e = table_find(table, cap, w, 1);
                n_words++;
            }
            e->count++;
        }
    }
    order = malloc((n_words ? n_words : 1) * sizeof *order);
    if (!order) goto out;
    size_t k = 0;
    for (size_t i = 0; i < cap; i++)
        if (table[i].w[0]) order[k++] = &table[i];
    qsort(order, k, sizeof *order, cmp_count);
    int V = (int)k + 2 < vocab ? (int)k + 2 : vocab;
    mk->vocab = V;
    mk->words = calloc((size_t)V, sizeof *mk->words);
    if (!mk->words) goto out;
    snprintf(mk->words[SENT_PAD], sizeof mk->words[0], "<pad>");
    snprintf(mk->words[SENT_UNK], sizeof mk->words[0], "<unk>");
    for (int i = 2; i < V; i++) {
        order[i - 2]->id = i;
        snprintf(mk->words[i], sizeof mk->words[0], "%s", order[i - 2]->w);
    }
    /* Day tensors: the first M posts of each day, L tokens each. */
    mk->M = M;
    mk->L = L;
    mk->tokens = calloc((size_t)mk->n_days * M * L, sizeof *mk->tokens);
    int *used = calloc((size_t)mk->n_days, sizeof *used);
    if (!mk->tokens || !used) {
        free(used);
        goto out;
    }
    for (int i = 0; i < n_posts; i++) {
        int d = posts[i].day;
        if (used[d] >= M) continue;
        int *tok = mk->tokens + ((size_t)d * M + used[d]++) * L;
        const char *p = posts[i].text;
        char w[24];
        for (int t = 0; t < L && next_word(&p, w); t++) {
            wcount *e = table_find(table, cap, w, 0);
            tok[t] = e ? e->id : SENT_UNK;
        }
    }
    free(used);
    /* Labels: risk = a close below (1 - drawdown) x today's within the horizon;
     * next-day sentiment = the sign of the next day's return. */
    mk->risk = malloc((size_t)mk->n_days);
    mk->sent_next = malloc((size_t)mk->n_days);
    mk->crash_day = malloc((size_t)mk->n_days * sizeof *mk->crash_day);
    if (!mk->risk || !mk->sent_next || !mk->crash_day) goto out;
    for (int d = 0; d < mk->n_days; d++) {
        mk->sent_next[d] = d + 1 < mk->n_days ? mk->close[d + 1] > mk->close[d] : -1;
        if (d + horizon >= mk->n_days) {
            mk->risk[d] = -1;
            continue;
        }
        int r = 0;
        for (int j = 1; j <= horizon; j++) r |= mk->close[d + j] < (1 - drawdown) * mk->close[d];
        mk->risk[d] = (signed char)r;
    }
    /* Crash onsets: the first day c at which the close is below (1 - drawdown)
     * times a close of the previous `horizon` days, after a calm day. */
    int calm = 1;
    for (int c = 1; c < mk->n_days; c++) {
        int crash = 0;
        for (int j = 1; j <= horizon && c - j >= 0; j++)
            crash |= mk->close[c] < (1 - drawdown) * mk->close[c - j];
        if (crash && calm) mk->crash_day[mk->n_crash++] = c;
        calm = !crash;
    }
    rc = 0;
out:
    free(ptxt);
    free(ttxt);
    free(posts);
    free(table);
    free(order);
    if (rc) sent_market_free(mk);
    return rc;
}

void sent_market_free(sent_market *mk) {
    free(mk->words);
    free(mk->tokens);
    free(mk->close);
    free(mk->date);
    free(mk->risk);
    free(mk->sent_next);
    free(mk->crash_day);
    memset(mk, 0, sizeof *mk);
}

int sent_split_make(const sent_market *mk, int window, int horizon, double train_frac,
                    double val_frac, sent_split *sp, char *err, size_t errlen) {
    memset(sp, 0, sizeof *sp);
    /* Usable window ends: window-1 .. last day with a risk label. */
    int first = window - 1, last = mk->n_days - 1;
    while (last >= 0 && mk->risk[last] < 0) last--;
    int n = last - first + 1, gap = horizon + window;
    int n_train = (int)(train_frac * n), n_val = (int)(val_frac * n);
    int n_test = n - n_train - n_val - 2 * gap;
    if (n_train < 8 || n_val < 8 || n_test < 8) {
        snprintf(err, errlen,
                 "%d days are too few for a chronological split with window %d and horizon %d "
                 "(train %d, validation %d, test %d days)",
                 mk->n_days, window, horizon, n_train, n_val, n_test);
        return -1;
    }
    sp->train = malloc((size_t)n_train * sizeof *sp->train);
    sp->val = malloc((size_t)n_val * sizeof *sp->val);
    sp->test = malloc((size_t)n_test * sizeof *sp->test);
    if (!sp->train || !sp->val || !sp->test) {
        sent_split_free(sp);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int d = first;
    for (int i = 0; i < n_train; i++) sp->train[i] = d++;
    d += gap;
    for (int i = 0; i < n_val; i++) sp->val[i] = d++;
    d += gap;
    for (int i = 0; i < n_test; i++) sp->test[i] = d++;
    sp->n_train = n_train;
    sp->n_val = n_val;
    sp->n_test = n_test;
    return 0;
}

void sent_split_free(sent_split *sp) {
    free(sp->train);
    free(sp->val);
    free(sp->test);
    memset(sp, 0, sizeof *sp);
}
