/* The clean text of the reweighting system: two real sources of different
 * style, read from Debian packages.
 *   prose:   the fortunes (package fortunes), loaded and split into
 *            train/validation by the gpt system's corpus code (gpt/corpus.c:
 *            one document per fortune, split by a hash of its index);
 *   manual:  manual pages (package man-db's /usr/share/man, whatever the
 *            installed packages put there), gzipped roff converted to text by
 *            roff.c, one document per paragraph, split the same way.
 * Tokens are characters over a fixed vocabulary of '\n' and printable ASCII
 * (96 ids), so the noise lines of the training mixture can use every printable
 * character and both sources share one embedding table. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "gpt/gpt.h"
#include "reweight/reweight.h"

typedef struct { int *ids; int64_t n, cap; } ibuf;

static void ib_put(ibuf *b, int id) {
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 1 << 16;
        int *nb = realloc(b->ids, (size_t)b->cap * sizeof *nb);
        if (!nb) abort();
        b->ids = nb;
    }
    b->ids[b->n++] = id;
}

/* Bytes -> ids of the fixed vocabulary; other bytes dropped (tab -> space). */
static void put_bytes(ibuf *b, const rw_corpus *c, const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int ch = s[i] == '\t' ? ' ' : s[i];
        if (c->id_of[ch] >= 0) ib_put(b, c->id_of[ch]);
    }
}

typedef struct {
    rw_corpus *c;
    ibuf *train, *val;
    uint64_t index;
    double val_frac;
    int n_docs;
} doc_ctx;

static void emit_doc(const char *doc, size_t n, void *vctx) {
    doc_ctx *d = vctx;
    ibuf *b = gpt_is_val_doc(d->index++, d->val_frac) ? d->val : d->train;
    put_bytes(b, d->c, (const unsigned char *)doc, n);
    put_bytes(b, d->c, (const unsigned char *)"\n\n", 2);
    d->n_docs++;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* N manual pages spread evenly over the sorted regular *.gz files of dir
 * (symbolic links are aliases of other pages and are skipped). */
static int load_manual(rw_corpus *c, const rw_cfg *cfg, ibuf *train, ibuf *val, char *err,
                       size_t errlen) {
    DIR *dir = opendir(cfg->man_dir);
    if (!dir) {
        snprintf(err, errlen, "data.man: cannot open directory '%s': %s", cfg->man_dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    int n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        size_t L = strlen(e->d_name);
        if (L < 4 || strcmp(e->d_name + L - 3, ".gz")) continue;
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", cfg->man_dir, e->d_name);
        if (lstat(path, &st) || !S_ISREG(st.st_mode)) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            char **nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn) abort();
            names = nn;
        }
        names[n] = strdup(e->d_name);
        if (!names[n]) abort();
        n++;
    }
    closedir(dir);
    if (n == 0) {
        snprintf(err, errlen, "data.man: no gzipped manual pages (*.gz) in '%s'", cfg->man_dir);
        free(names);
        return -1;
    }
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    const int want = cfg->man_pages < n ? cfg->man_pages : n;
    doc_ctx d = {c, train, val, 0, cfg->val_frac, 0};
    int rc = 0, used = 0;
    for (int k = 0; k < want && rc == 0; k++) {
        const int i = (int)((int64_t)k * n / want);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", cfg->man_dir, names[i]);
        size_t len, tl;
        char *src = rw_read_gz(path, &len, err, errlen);
        if (!src) {
            rc = -1;
            break;
        }
        char *txt = rw_roff_to_text(src, len, &tl);
        if (tl > 0) used++;
        gpt_split_docs(txt, tl, emit_doc, &d);
        free(src);
        free(txt);
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    c->n_docs[RW_SRC_MANUAL] = d.n_docs;
    c->n_files[RW_SRC_MANUAL] = used;
    return rc;
}

int rw_corpus_load(rw_corpus *c, const rw_cfg *cfg, int min_len, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    for (int i = 0; i < 256; i++) c->id_of[i] = -1;
    c->id_of['\n'] = 0;
    c->byte_of[0] = '\n';
    c->vocab = 1;
    for (int ch = 32; ch < 127; ch++) {
        c->id_of[ch] = c->vocab;
        c->byte_of[c->vocab++] = (unsigned char)ch;
    }
    ibuf tr[2] = {{0}}, va[2] = {{0}};
    /* prose: the gpt system's fortunes loader and split, then re-mapped */
    gpt_corpus gc;
    if (gpt_corpus_load(&gc, cfg->fortunes, cfg->val_frac, min_len, err, errlen)) {
        /* the gpt loader names its own key (data.path): say data.fortunes instead */
        char e2[1024];
        size_t o = 0;
        for (const char *q = err; *q && o + 16 < sizeof e2;) {
            if (!strncmp(q, "data.path", 9)) {
                memcpy(e2 + o, "data.fortunes", 13);
                o += 13;
                q += 9;
            } else {
                e2[o++] = *q++;
            }
        }
        e2[o] = 0;
        snprintf(err, errlen, "%s", e2);
        return -1;
    }
    for (int64_t i = 0; i < gc.n_train; i++) {
        unsigned char ch = gc.byte_of[gc.train[i]];
        put_bytes(&tr[RW_SRC_PROSE], c, &ch, 1);
    }
    for (int64_t i = 0; i < gc.n_val; i++) {
        unsigned char ch = gc.byte_of[gc.val[i]];
        put_bytes(&va[RW_SRC_PROSE], c, &ch, 1);
    }
    c->n_docs[RW_SRC_PROSE] = gc.n_docs;
    c->n_files[RW_SRC_PROSE] = gc.n_files;
    gpt_corpus_free(&gc);
    int rc = load_manual(c, cfg, &tr[RW_SRC_MANUAL], &va[RW_SRC_MANUAL], err, errlen);
    for (int s = 0; s < 2 && rc == 0; s++) {
        if (tr[s].n < min_len + 1 || va[s].n < min_len + 1) {
            snprintf(err, errlen, "%s: too little text (%lld training, %lld validation characters; need > %d each)",
                     s ? "data.man" : "data.fortunes", (long long)tr[s].n, (long long)va[s].n, min_len);
            rc = -1;
        }
    }
    for (int s = 0; s < 2; s++) {
        c->train[s] = tr[s].ids;
        c->n_train[s] = tr[s].n;
        c->val[s] = va[s].ids;
        c->n_val[s] = va[s].n;
    }
    if (rc) rw_corpus_free(c);
    return rc;
}

void rw_corpus_free(rw_corpus *c) {
    for (int s = 0; s < 2; s++) {
        free(c->train[s]);
        free(c->val[s]);
        c->train[s] = c->val[s] = NULL;
    }
}
