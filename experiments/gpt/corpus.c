/* The text corpus: Debian's `fortunes` package (strfile text files under
 * /usr/share/games/fortunes, one fortune between '%' lines), or any text file
 * or directory given by data.path.
 *
 * Split: document i goes to validation when splitmix64(i) / 2^64 < val_frac,
 * a deterministic split that does not depend on the seed and keeps whole
 * fortunes on one side (no leakage of a fortune's first half into training).
 * Tokens are bytes, mapped to a dense vocabulary of the bytes that occur.
 * Each document is followed by one '\n', so fortunes are separated by a blank
 * line in the token stream. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "dynlab/data.h"
#include "gpt/gpt.h"

static uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

int gpt_is_val_doc(uint64_t index, double val_frac) {
    return (double)(splitmix64(index) >> 11) * 0x1.0p-53 < val_frac;
}

static int only_space(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\n' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

/* A line [b, e) (without its '\n') that is a strfile separator. */
static int is_sep(const char *b, const char *e) {
    return (e - b == 1 && b[0] == '%') || (e - b == 2 && b[0] == '%' && b[1] == '\r');
}

static int is_blank(const char *b, const char *e) { return only_space(b, (size_t)(e - b)); }

void gpt_split_docs(const char *text, size_t len,
                    void (*emit)(const char *doc, size_t n, void *ctx), void *ctx) {
    const char *end = text + len;
    int have_sep = 0;
    for (const char *p = text; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (is_sep(p, le)) {
            have_sep = 1;
            break;
        }
        p = nl ? nl + 1 : end;
    }
    int (*boundary)(const char *, const char *) = have_sep ? is_sep : is_blank;
    const char *doc = text;
    for (const char *p = text; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        if (boundary(p, le)) {
            if (p > doc && !only_space(doc, (size_t)(p - doc))) emit(doc, (size_t)(p - doc), ctx);
            doc = next;
        }
        p = next;
    }
    if (end > doc && !only_space(doc, (size_t)(end - doc))) emit(doc, (size_t)(end - doc), ctx);
}

/* ---- loading -------------------------------------------------------------- */

typedef struct {
    unsigned char *train, *val;
    size_t n_train, cap_train, n_val, cap_val;
    uint64_t doc_index;
    int n_docs_train, n_docs_val;
    double val_frac;
} collect_ctx;

static void append(unsigned char **buf, size_t *n, size_t *cap, const char *s, size_t k) {
    if (*n + k + 1 > *cap) {
        size_t nc = *cap ? *cap : 1 << 16;
        while (*n + k + 1 > nc) nc *= 2;
        unsigned char *b = realloc(*buf, nc);
        if (!b) abort();
        *buf = b;
        *cap = nc;
    }
    memcpy(*buf + *n, s, k);
    *n += k;
}

static void collect(const char *doc, size_t n, void *vctx) {
    collect_ctx *c = vctx;
    if (gpt_is_val_doc(c->doc_index++, c->val_frac)) {
        append(&c->val, &c->n_val, &c->cap_val, doc, n);
        append(&c->val, &c->n_val, &c->cap_val, "\n", 1);
        c->n_docs_val++;
    } else {
        append(&c->train, &c->n_train, &c->cap_train, doc, n);
        append(&c->train, &c->n_train, &c->cap_train, "\n", 1);
        c->n_docs_train++;
    }
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A character-level corpus this size is far beyond what the CPU presets
 * train on; the bound keeps a wrong data.path (a disk image, /dev/zero) from
 * exhausting memory. */
#define GPT_CORPUS_MAX ((int64_t)256 << 20)

/* One file of the corpus: a regular file of at most GPT_CORPUS_MAX bytes. */
static char *read_all(const char *path, size_t *len, char *err, size_t errlen) {
    char sub[900];
    char *b = dl_read_file_max(path, GPT_CORPUS_MAX, len, sub, sizeof sub);
    if (!b) snprintf(err, errlen, "data.path: %s", sub);
    return b;
}

/* Files of the corpus: `path` itself, or the regular files of the directory
 * without strfile's index (.dat) and UTF-8 alias (.u8) files, sorted by name. */
static char **list_files(const char *path, int *count, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen,
                 "data.path: cannot read '%s': %s (install the Debian package 'fortunes' or "
                 "point data.path at a text file or directory)",
                 path, strerror(errno));
        return NULL;
    }
    char **files = NULL;
    int n = 0, cap = 0;
    if (!S_ISDIR(st.st_mode)) {
        files = malloc(sizeof *files);
        if (!files) abort();
        files[0] = strdup(path);
        *count = 1;
        return files;
    }
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, errlen, "data.path: cannot open directory '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || ends_with(e->d_name, ".dat") || ends_with(e->d_name, ".u8"))
            continue;
        size_t L = strlen(path) + strlen(e->d_name) + 2;
        char *full = malloc(L);
        if (!full) abort();
        snprintf(full, L, "%s/%s", path, e->d_name);
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(full);
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nf = realloc(files, (size_t)cap * sizeof *nf);
            if (!nf) abort();
            files = nf;
        }
        files[n++] = full;
    }
    closedir(d);
    if (n == 0) {
        free(files);
        snprintf(err, errlen, "data.path: no text files in directory '%s'", path);
        return NULL;
    }
    qsort(files, (size_t)n, sizeof *files, cmp_str);
    *count = n;
    return files;
}

/* n-gram references in nats per character. */
static void ngram_stats(gpt_corpus *c) {
    const int V = c->vocab;
    double *uni = calloc((size_t)V, sizeof *uni), *all = calloc((size_t)V, sizeof *all);
    double *bi = calloc((size_t)V * V, sizeof *bi), *ctx = calloc((size_t)V, sizeof *ctx);
    if (!uni || !all || !bi || !ctx) abort();
    for (int64_t i = 0; i < c->n_train; i++) {
        uni[c->train[i]] += 1;
        all[c->train[i]] += 1;
        if (i > 0) {
            bi[c->train[i - 1] * V + c->train[i]] += 1;
            ctx[c->train[i - 1]] += 1;
        }
    }
    for (int64_t i = 0; i < c->n_val; i++) all[c->val[i]] += 1;
    /* Corpus unigram entropy H = -sum_c p(c) ln p(c) over train + validation. */
    double n_all = (double)(c->n_train + c->n_val), h = 0;
    for (int v = 0; v < V; v++)
        if (all[v] > 0) h -= all[v] / n_all * log(all[v] / n_all);
    c->h_unigram = h;
    /* Plug-in conditional entropy H(X_t | X_{t-1}) on train. */
    double hc = 0, npairs = (double)(c->n_train - 1);
    for (int a = 0; a < V; a++)
        for (int b = 0; b < V; b++) {
            double k = bi[a * V + b];
            if (k > 0) hc -= k / npairs * log(k / ctx[a]);
        }
    c->bigram_train_hcond = hc;
    /* Smoothed (add-1/2) unigram and bigram models fitted on train, scored on validation. */
    const double alpha = 0.5;
    double xu = 0, xb = 0;
    for (int64_t i = 0; i < c->n_val; i++) {
        int b = c->val[i];
        double pu = (uni[b] + alpha) / ((double)c->n_train + alpha * V);
        xu -= log(pu);
        if (i == 0) {
            xb -= log(pu);
        } else {
            int a = c->val[i - 1];
            xb -= log((bi[a * V + b] + alpha) / (ctx[a] + alpha * V));
        }
    }
    c->unigram_val_xent = xu / (double)c->n_val;
    c->bigram_val_xent = xb / (double)c->n_val;
    free(uni);
    free(all);
    free(bi);
    free(ctx);
}

int gpt_corpus_load(gpt_corpus *c, const char *path, double val_frac, int min_len, char *err,
                    size_t errlen) {
    memset(c, 0, sizeof *c);
    int n_files = 0;
    char **files = list_files(path, &n_files, err, errlen);
    if (!files) return -1;
    collect_ctx cc = {0};
    cc.val_frac = val_frac;
    int rc = 0;
    int64_t total = 0;
    for (int i = 0; i < n_files && rc == 0; i++) {
        size_t len;
        char *text = read_all(files[i], &len, err, errlen);
        if (!text) {
            rc = -1;
            break;
        }
        total += (int64_t)len;
        if (total > GPT_CORPUS_MAX) {
            free(text);
            snprintf(err, errlen, "data.path: corpus '%s' is larger than the 256 MiB limit", path);
            rc = -1;
            break;
        }
        gpt_split_docs(text, len, collect, &cc);
        free(text);
    }
    for (int i = 0; i < n_files; i++) free(files[i]);
    free(files);
    if (rc == 0 && (cc.n_train < (size_t)min_len + 1 || cc.n_val < (size_t)min_len + 1)) {
        snprintf(err, errlen,
                 "data.path: corpus '%s' too small: %zu train and %zu validation characters, "
                 "each needs more than model.seq_len = %d (adjust data.val_frac or the corpus)",
                 path, cc.n_train, cc.n_val, min_len);
        rc = -1;
    }
    if (rc) {
        free(cc.train);
        free(cc.val);
        return -1;
    }
    int seen[256] = {0};
    for (size_t i = 0; i < cc.n_train; i++) seen[cc.train[i]] = 1;
    for (size_t i = 0; i < cc.n_val; i++) seen[cc.val[i]] = 1;
    for (int b = 0; b < 256; b++) {
        c->id_of[b] = -1;
        if (seen[b]) {
            c->id_of[b] = c->vocab;
            c->byte_of[c->vocab++] = (unsigned char)b;
        }
    }
    c->n_train = (int64_t)cc.n_train;
    c->n_val = (int64_t)cc.n_val;
    c->train = malloc((size_t)c->n_train * sizeof *c->train);
    c->val = malloc((size_t)c->n_val * sizeof *c->val);
    if (!c->train || !c->val) abort();
    for (int64_t i = 0; i < c->n_train; i++) c->train[i] = c->id_of[cc.train[i]];
    for (int64_t i = 0; i < c->n_val; i++) c->val[i] = c->id_of[cc.val[i]];
    free(cc.train);
    free(cc.val);
    c->n_docs_train = cc.n_docs_train;
    c->n_docs_val = cc.n_docs_val;
    c->n_docs = cc.n_docs_train + cc.n_docs_val;
    c->n_files = n_files;
    ngram_stats(c);
    return 0;
}

void gpt_corpus_free(gpt_corpus *c) {
    free(c->train);
    free(c->val);
    c->train = c->val = NULL;
}
