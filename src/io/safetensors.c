/* safetensors reader and writer.
 *
 * Format (huggingface/safetensors, "Format" section of its README):
 *   u64 little-endian N | N bytes of UTF-8 JSON | raw little-endian data
 * The JSON maps tensor names to {"dtype", "shape", "data_offsets": [begin, end]}
 * (offsets relative to the start of the data section) plus an optional
 * "__metadata__" object of string -> string. As in the reference
 * implementation, the reader requires the tensors to tile the data section
 * exactly (sorted by offset: no gap, no overlap, ending at the file's end) and
 * each byte range to match dtype size x number of elements. The writer pads
 * the header with spaces to a multiple of 8 so the data is aligned.
 * dynlab only runs on little-endian hosts (x86-64, aarch64), so data is
 * copied without byte swapping. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "dynlab/checkpoint.h"
#include "dynlab/data.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "dynlab's safetensors I/O assumes a little-endian host"
#endif

#define ST_MAX_HEADER (100u << 20) /* the reference implementation's limit */
#define ST_MAX_NUMEL ((int64_t)1 << 40) /* elements per tensor: far above any model here */
#define ST_CRC_KEY "dynlab_crc32"        /* __metadata__ key of the data checksum */

/* CRC-32 (zlib's polynomial) of n bytes, continuing from crc. zlib takes
 * uInt lengths, so large buffers go in 1 GiB pieces. */
static uint32_t crc_update(uint32_t crc, const unsigned char *p, uint64_t n) {
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, p, k);
        p += k;
        n -= k;
    }
    return crc;
}

typedef struct st_entry {
    char *name;
    char dtype[8];
    int ndim;
    int64_t shape[8];
    int64_t begin, end;
    void *data;      /* writer: owned copy; reader: pointer into the data section or an aligned copy */
    int owns_data;
} st_entry;

struct dl_st_writer {
    st_entry *e;
    int n, cap;
    char **meta_k, **meta_v;
    int n_meta, cap_meta;
};

struct dl_st_file {
    st_entry *e;
    int n;
    char **meta_k, **meta_v;
    int n_meta;
    unsigned char *blob; /* data section */
};

static void seterr(char *err, size_t errlen, const char *fmt, const char *a, const char *b) {
    if (!err || !errlen) return;
    snprintf(err, errlen, fmt, a, b);
    /* Tensor names come from the file: a newline in one must not split the
     * one error line (found by fuzz_safetensors). */
    for (char *p = err; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "dynlab: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

static int dtype_size(const char *dt) {
    static const struct { const char *name; int size; } table[] = {
        {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2},
        {"I8", 1},  {"U64", 8}, {"U32", 4}, {"U16", 2},  {"U8", 1},  {"BOOL", 1}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(dt, table[i].name) == 0) return table[i].size;
    return 0;
}

/* Atomic replace: write a temp file in the same directory, fsync it, rename it
 * over `path`, fsync the directory. A crash leaves either the old or the new
 * file, never a torn one; on error the old file is untouched. */
static int atomic_write_file(const char *path, const void *data, size_t len, char *err,
                             size_t errlen) {
    size_t pl = strlen(path);
    char *tmp = xmalloc(pl + 16);
    snprintf(tmp, pl + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        seterr(err, errlen, "%s: cannot create temp file: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    const unsigned char *p = data;
    size_t left = len;
    while (left) {
        ssize_t k = write(fd, p, left);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            seterr(err, errlen, "%s: write failed: %s", path, strerror(errno));
            close(fd);
            unlink(tmp);
            free(tmp);
            return -1;
        }
        p += k;
        left -= (size_t)k;
    }
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0 || close(fd) != 0) {
        seterr(err, errlen, "%s: fsync/close failed: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        seterr(err, errlen, "%s: rename failed: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    /* fsync the directory so the rename itself is durable. */
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = 0;
    else if (slash) *slash = 0;
    else strcpy(dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
    return 0;
}

/* ---- writer ------------------------------------------------------------- */

dl_st_writer *dl_st_writer_new(void) {
    dl_st_writer *w = xmalloc(sizeof *w);
    memset(w, 0, sizeof *w);
    return w;
}

static st_entry *writer_push(dl_st_writer *w, const char *name, const char *dtype, int ndim,
                             const int64_t *shape, const void *data, size_t bytes) {
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 16;
        st_entry *ne = realloc(w->e, (size_t)w->cap * sizeof *ne);
        if (!ne) abort();
        w->e = ne;
    }
    st_entry *e = &w->e[w->n++];
    memset(e, 0, sizeof *e);
    e->name = xstrdup(name);
    snprintf(e->dtype, sizeof e->dtype, "%s", dtype);
    e->ndim = ndim;
    for (int i = 0; i < ndim; i++) e->shape[i] = shape[i];
    e->data = xmalloc(bytes);
    if (bytes) memcpy(e->data, data, bytes);
    e->owns_data = 1;
    e->end = (int64_t)bytes; /* byte length until offsets are assigned */
    return e;
}

void dl_st_add_f32(dl_st_writer *w, const char *name, const float *data, int ndim, const int *shape) {
    int64_t sh[8], n = 1;
    if (ndim > 8) ndim = 8;
    for (int i = 0; i < ndim; i++) {
        sh[i] = shape[i];
        n *= shape[i];
    }
    writer_push(w, name, "F32", ndim, sh, data, (size_t)n * sizeof(float));
}

void dl_st_add_i64(dl_st_writer *w, const char *name, const int64_t *data, int64_t n) {
    writer_push(w, name, "I64", 1, &n, data, (size_t)n * sizeof(int64_t));
}

void dl_st_add_meta(dl_st_writer *w, const char *key, const char *value) {
    if (w->n_meta == w->cap_meta) {
        w->cap_meta = w->cap_meta ? 2 * w->cap_meta : 8;
        char **k = realloc(w->meta_k, (size_t)w->cap_meta * sizeof *k);
        if (!k) abort();
        w->meta_k = k;
        char **v = realloc(w->meta_v, (size_t)w->cap_meta * sizeof *v);
        if (!v) abort();
        w->meta_v = v;
    }
    w->meta_k[w->n_meta] = xstrdup(key);
    w->meta_v[w->n_meta] = xstrdup(value);
    w->n_meta++;
}

void dl_st_writer_free(dl_st_writer *w) {
    if (!w) return;
    for (int i = 0; i < w->n; i++) {
        free(w->e[i].name);
        free(w->e[i].data);
    }
    for (int i = 0; i < w->n_meta; i++) {
        free(w->meta_k[i]);
        free(w->meta_v[i]);
    }
    free(w->e);
    free(w->meta_k);
    free(w->meta_v);
    free(w);
}

/* Growable string buffer for the JSON header. */
typedef struct { char *s; size_t n, cap; } sbuf;

static void sb_putn(sbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        while (b->n + n + 1 > b->cap) b->cap = b->cap ? 2 * b->cap : 1024;
        char *ns = realloc(b->s, b->cap);
        if (!ns) abort();
        b->s = ns;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}
static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }
static void sb_printf_i64(sbuf *b, long long v) {
    char t[32];
    snprintf(t, sizeof t, "%lld", v);
    sb_puts(b, t);
}
/* JSON string literal with the escapes RFC 8259 requires. */
static void sb_json_str(sbuf *b, const char *s) {
    sb_putn(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char t[2] = {'\\', (char)*p};
            sb_putn(b, t, 2);
        } else if (*p < 0x20) {
            char t[8];
            snprintf(t, sizeof t, "\\u%04x", *p);
            sb_puts(b, t);
        } else {
            sb_putn(b, (const char *)p, 1);
        }
    }
    sb_putn(b, "\"", 1);
}

int dl_st_write(dl_st_writer *w, const char *path, char *err, size_t errlen) {
    sbuf h = {0};
    int64_t off = 0;
    /* The data section is the tensors in order; its CRC-32 goes into the
     * metadata (a string, as the format requires) and is checked on load. */
    uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0);
    for (int i = 0; i < w->n; i++)
        crc = crc_update(crc, w->e[i].data, (uint64_t)(w->e[i].end - w->e[i].begin));
    char crc_text[16];
    snprintf(crc_text, sizeof crc_text, "%08x", (unsigned)crc);
    sb_puts(&h, "{\"__metadata__\":{");
    for (int i = 0; i < w->n_meta; i++) {
        if (strcmp(w->meta_k[i], ST_CRC_KEY) == 0) continue;
        sb_json_str(&h, w->meta_k[i]);
        sb_puts(&h, ":");
        sb_json_str(&h, w->meta_v[i]);
        sb_puts(&h, ",");
    }
    sb_json_str(&h, ST_CRC_KEY);
    sb_puts(&h, ":");
    sb_json_str(&h, crc_text);
    sb_puts(&h, "}");
    for (int i = 0; i < w->n; i++) {
        st_entry *e = &w->e[i];
        int64_t bytes = e->end - e->begin;
        e->begin = off;
        e->end = off + bytes;
        off = e->end;
        sb_puts(&h, ",");
        sb_json_str(&h, e->name);
        sb_puts(&h, ":{\"dtype\":\"");
        sb_puts(&h, e->dtype);
        sb_puts(&h, "\",\"shape\":[");
        for (int d = 0; d < e->ndim; d++) {
            if (d) sb_puts(&h, ",");
            sb_printf_i64(&h, e->shape[d]);
        }
        sb_puts(&h, "],\"data_offsets\":[");
        sb_printf_i64(&h, e->begin);
        sb_puts(&h, ",");
        sb_printf_i64(&h, e->end);
        sb_puts(&h, "]}");
    }
    sb_puts(&h, "}");
    while ((8 + h.n) % 8) sb_puts(&h, " ");

    size_t total = 8 + h.n + (size_t)off;
    unsigned char *buf = xmalloc(total);
    uint64_t hl = h.n;
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(hl >> (8 * i));
    memcpy(buf + 8, h.s, h.n);
    for (int i = 0; i < w->n; i++) {
        st_entry *e = &w->e[i];
        if (e->end > e->begin) memcpy(buf + 8 + h.n + e->begin, e->data, (size_t)(e->end - e->begin));
        e->end -= e->begin; /* back to lengths so a second write works */
        e->begin = 0;
    }
    free(h.s);
    int rc = atomic_write_file(path, buf, total, err, errlen);
    free(buf);
    return rc;
}

/* ---- reader ------------------------------------------------------------- */

void dl_st_close(dl_st_file *f) {
    if (!f) return;
    for (int i = 0; i < f->n; i++) {
        free(f->e[i].name);
        if (f->e[i].owns_data) free(f->e[i].data);
    }
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_k[i]);
        free(f->meta_v[i]);
    }
    free(f->e);
    free(f->meta_k);
    free(f->meta_v);
    free(f->blob);
    free(f);
}

static int cmp_begin(const void *a, const void *b) {
    const st_entry *x = a, *y = b;
    return (x->begin > y->begin) - (x->begin < y->begin);
}

/* A JSON number that is a non-negative integer below 2^53. */
static int json_uint(const cJSON *j, int64_t *out) {
    if (!cJSON_IsNumber(j)) return 0;
    double v = j->valuedouble;
    if (!(v >= 0 && v < 9007199254740992.0) || v != (double)(int64_t)v) return 0;
    *out = (int64_t)v;
    return 1;
}

static int parse_header(dl_st_file *f, const char *path, const char *json, size_t len,
                        uint64_t data_len, char *err, size_t errlen) {
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        seterr(err, errlen, "%s: corrupt safetensors header (not a JSON object)%s", path, "");
        cJSON_Delete(root);
        return -1;
    }
    int count = cJSON_GetArraySize(root);
    f->e = xmalloc((size_t)(count > 0 ? count : 1) * sizeof *f->e);
    memset(f->e, 0, (size_t)(count > 0 ? count : 1) * sizeof *f->e);
    f->n = 0;
    char msg[512];
    msg[0] = 0;
    for (cJSON *it = root->child; it; it = it->next) {
        if (strcmp(it->string, "__metadata__") == 0) {
            if (!cJSON_IsObject(it)) {
                snprintf(msg, sizeof msg, "__metadata__ is not an object");
                goto fail;
            }
            if (f->meta_k) { /* a second copy would replace the first's arrays mid-count */
                snprintf(msg, sizeof msg, "duplicate __metadata__");
                goto fail;
            }
            int nm = cJSON_GetArraySize(it);
            f->meta_k = xmalloc((size_t)(nm > 0 ? nm : 1) * sizeof(char *));
            f->meta_v = xmalloc((size_t)(nm > 0 ? nm : 1) * sizeof(char *));
            for (cJSON *m = it->child; m; m = m->next) {
                if (!cJSON_IsString(m)) {
                    snprintf(msg, sizeof msg, "__metadata__ value of '%.100s' is not a string", m->string);
                    goto fail;
                }
                f->meta_k[f->n_meta] = xstrdup(m->string);
                f->meta_v[f->n_meta] = xstrdup(m->valuestring);
                f->n_meta++;
            }
            continue;
        }
        st_entry *e = &f->e[f->n];
        memset(e, 0, sizeof *e);
        e->name = xstrdup(it->string);
        f->n++;
        cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
        cJSON *sh = cJSON_GetObjectItemCaseSensitive(it, "shape");
        cJSON *of = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
        if (!cJSON_IsObject(it) || !cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of)) {
            snprintf(msg, sizeof msg, "tensor '%.100s' lacks dtype/shape/data_offsets", e->name);
            goto fail;
        }
        int dsz = dtype_size(dt->valuestring);
        if (!dsz) {
            snprintf(msg, sizeof msg, "tensor '%.100s' has unknown dtype '%.16s'", e->name, dt->valuestring);
            goto fail;
        }
        snprintf(e->dtype, sizeof e->dtype, "%s", dt->valuestring);
        e->ndim = cJSON_GetArraySize(sh);
        if (e->ndim > 8) {
            snprintf(msg, sizeof msg, "tensor '%.100s' has %d dims (at most 8)", e->name, e->ndim);
            goto fail;
        }
        int64_t numel = 1;
        int d = 0;
        for (cJSON *s = sh->child; s; s = s->next, d++) {
            if (!json_uint(s, &e->shape[d])) {
                snprintf(msg, sizeof msg, "tensor '%.100s' has a bad shape", e->name);
                goto fail;
            }
            /* Checked before multiplying: numel * shape[d] must stay <= 2^40
             * (a product of two huge dimensions would overflow int64). */
            if (e->shape[d] > 0 && numel > ST_MAX_NUMEL / e->shape[d]) {
                snprintf(msg, sizeof msg, "tensor '%.100s' has more than 2^40 elements", e->name);
                goto fail;
            }
            numel *= e->shape[d];
        }
        if (cJSON_GetArraySize(of) == 2 && json_uint(of->child, &e->begin) &&
            json_uint(of->child->next, &e->end) && e->end >= e->begin &&
            (uint64_t)e->end > data_len) {
            cJSON_Delete(root);
            char what[300];
            snprintf(what, sizeof what, "tensor '%.100s' ends at data byte %lld, the file has %llu",
                     e->name, (long long)e->end, (unsigned long long)data_len);
            seterr(err, errlen, "%s: truncated safetensors file (%s)", path, what);
            return -1;
        }
        if (cJSON_GetArraySize(of) != 2 || !json_uint(of->child, &e->begin) ||
            !json_uint(of->child->next, &e->end) || e->end < e->begin) {
            snprintf(msg, sizeof msg, "tensor '%.100s' has data_offsets outside the data (%llu bytes)",
                     e->name, (unsigned long long)data_len);
            goto fail;
        }
        if (e->end - e->begin != numel * dsz) {
            snprintf(msg, sizeof msg, "tensor '%.100s': %lld bytes for %lld x %s", e->name,
                     (long long)(e->end - e->begin), (long long)numel, e->dtype);
            goto fail;
        }
    }
    cJSON_Delete(root);
    /* The tensors must tile the data section exactly. */
    {
        st_entry *sorted = xmalloc((size_t)(f->n > 0 ? f->n : 1) * sizeof *sorted);
        if (f->n) memcpy(sorted, f->e, (size_t)f->n * sizeof *sorted);
        qsort(sorted, (size_t)f->n, sizeof *sorted, cmp_begin);
        int64_t pos = 0;
        int ok = 1;
        for (int i = 0; i < f->n && ok; i++) {
            if (sorted[i].begin != pos) ok = 0;
            pos = sorted[i].end;
        }
        if (ok && (uint64_t)pos != data_len) ok = 0;
        free(sorted);
        if (!ok) {
            seterr(err, errlen, "%s: corrupt safetensors file (tensor data offsets overlap, leave gaps or do not end at the file's end)%s", path, "");
            return -1;
        }
    }
    return 0;
fail:
    cJSON_Delete(root);
    seterr(err, errlen, "%s: corrupt safetensors header: %s", path, msg);
    return -1;
}

dl_st_file *dl_st_open(const char *path, char *err, size_t errlen) {
    int64_t size = 0;
    int fd = dl_open_regular(path, 0, &size, err, errlen);
    if (fd < 0) return NULL;
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        seterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    uint64_t fsize = (uint64_t)size;
    unsigned char lenb[8];
    if (fsize < 8 || fread(lenb, 1, 8, fp) != 8) {
        seterr(err, errlen, "%s: truncated safetensors file (shorter than its 8-byte header length)%s", path, "");
        fclose(fp);
        return NULL;
    }
    uint64_t hl = 0;
    for (int i = 0; i < 8; i++) hl |= (uint64_t)lenb[i] << (8 * i);
    if (hl > fsize - 8) {
        char a[160];
        snprintf(a, sizeof a, "header length %llu beyond the file size %llu", (unsigned long long)hl,
                 (unsigned long long)fsize);
        seterr(err, errlen, "%s: truncated or corrupt safetensors file (%s)", path, a);
        fclose(fp);
        return NULL;
    }
    if (hl < 2 || hl > ST_MAX_HEADER) {
        seterr(err, errlen, "%s: corrupt safetensors file (implausible header length)%s", path, "");
        fclose(fp);
        return NULL;
    }
    char *hdr = xmalloc((size_t)hl + 1);
    uint64_t data_len = fsize - 8 - hl;
    dl_st_file *f = xmalloc(sizeof *f);
    memset(f, 0, sizeof *f);
    f->blob = xmalloc((size_t)data_len); /* malloc alignment (16) covers every dtype at aligned offsets */
    if (fread(hdr, 1, (size_t)hl, fp) != hl || fread(f->blob, 1, (size_t)data_len, fp) != data_len) {
        seterr(err, errlen, "%s: read error (file changed while reading?)%s", path, "");
        free(hdr);
        fclose(fp);
        dl_st_close(f);
        return NULL;
    }
    fclose(fp);
    hdr[hl] = 0;
    if (parse_header(f, path, hdr, (size_t)hl, data_len, err, errlen) != 0) {
        free(hdr);
        dl_st_close(f);
        return NULL;
    }
    free(hdr);
    /* Content checksum (written by dl_st_write; files from other tools have
     * none): a flipped bit in the data section is an error, not a model. */
    const char *want = dl_st_meta(f, ST_CRC_KEY);
    if (want) {
        uint32_t crc = crc_update((uint32_t)crc32(0L, Z_NULL, 0), f->blob, data_len);
        char got[16];
        snprintf(got, sizeof got, "%08x", (unsigned)crc);
        if (strcmp(got, want) != 0) {
            char what[120];
            snprintf(what, sizeof what, "the data section's CRC-32 is %s, the header records %.16s",
                     got, want);
            seterr(err, errlen, "%s: corrupt safetensors file (%s)", path, what);
            dl_st_close(f);
            return NULL;
        }
    }
    for (int i = 0; i < f->n; i++) {
        st_entry *e = &f->e[i];
        int dsz = dtype_size(e->dtype);
        if (e->begin % dsz == 0) {
            e->data = f->blob + e->begin;
        } else { /* unaligned (written by another tool): private aligned copy */
            e->data = xmalloc((size_t)(e->end - e->begin));
            memcpy(e->data, f->blob + e->begin, (size_t)(e->end - e->begin));
            e->owns_data = 1;
        }
    }
    return f;
}

int dl_st_count(const dl_st_file *f) { return f->n; }
int dl_st_has_checksum(const dl_st_file *f) { return dl_st_meta(f, ST_CRC_KEY) != NULL; }
const char *dl_st_name(const dl_st_file *f, int i) { return i >= 0 && i < f->n ? f->e[i].name : NULL; }

static const st_entry *find(const dl_st_file *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->e[i].name, name) == 0) return &f->e[i];
    return NULL;
}

const float *dl_st_get_f32(const dl_st_file *f, const char *name, int *ndim, int *shape) {
    const st_entry *e = find(f, name);
    if (!e || strcmp(e->dtype, "F32") != 0 || e->ndim > DL_MAX_DIMS) return NULL;
    if (ndim) *ndim = e->ndim;
    if (shape)
        for (int d = 0; d < e->ndim; d++) shape[d] = (int)e->shape[d];
    return e->data;
}

const int64_t *dl_st_get_i64(const dl_st_file *f, const char *name, int64_t *n) {
    const st_entry *e = find(f, name);
    if (!e || strcmp(e->dtype, "I64") != 0) return NULL;
    if (n) *n = (e->end - e->begin) / 8;
    return e->data;
}

const char *dl_st_meta(const dl_st_file *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_k[i], key) == 0) return f->meta_v[i];
    return NULL;
}
