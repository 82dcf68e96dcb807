/* Dataset readers: IDX files (MNIST format, optionally gzip-compressed, read
 * through zlib's gz* API which passes plain files through unchanged), the
 * Fashion-MNIST loader for Debian's dataset-fashion-mnist, and whole-file
 * reads. Every error is one line naming the file and the problem. */
#define _POSIX_C_SOURCE 200809L
#include "dynlab/data.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void set_err(char *err, size_t n, const char *fmt, const char *a, const char *b)
{
    if (err && n) snprintf(err, n, fmt, a, b);
}

/* Read exactly n bytes; 0 on success. */
static int gz_read_all(gzFile f, void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int r = gzread(f, p, chunk);
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

void dl_idx_free(dl_idx *x)
{
    if (!x) return;
    free(x->data);
    memset(x, 0, sizeof *x);
}

int dl_idx_read(const char *path, dl_idx *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int fd = dl_open_regular(path, 0, NULL, err, errlen);
    if (fd < 0) return -1;
    gzFile f = gzdopen(fd, "rb");
    if (!f) {
        close(fd);
        set_err(err, errlen, "%s: %s", path, "out of memory");
        return -1;
    }
    unsigned char hdr[4];
    if (gz_read_all(f, hdr, 4)) {
        set_err(err, errlen, "%s: %s", path, "truncated IDX header");
        gzclose(f);
        return -1;
    }
    /* magic: 0, 0, type (0x08 = unsigned byte), ndim */
    if (hdr[0] != 0 || hdr[1] != 0 || hdr[2] != 0x08 || hdr[3] < 1 || hdr[3] > 4) {
        set_err(err, errlen, "%s: %s", path,
                "not an unsigned-byte IDX file (bad magic number or more than 4 dimensions)");
        gzclose(f);
        return -1;
    }
    int ndim = hdr[3];
    int64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        unsigned char b[4];
        if (gz_read_all(f, b, 4)) {
            set_err(err, errlen, "%s: %s", path, "truncated IDX header (dimensions)");
            gzclose(f);
            return -1;
        }
        uint32_t v = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
        if (v == 0 || v > (1u << 28)) {
            set_err(err, errlen, "%s: %s", path, "implausible IDX dimension");
            gzclose(f);
            return -1;
        }
        out->dims[i] = (int)v;
        count *= v;
        if (count > ((int64_t)1 << 34)) {
            set_err(err, errlen, "%s: %s", path, "IDX file too large");
            gzclose(f);
            return -1;
        }
    }
    out->ndim = ndim;
    out->count = count;
    /* The header's size is a claim: memory grows with the bytes that really
     * arrive (a 20-byte file claiming 2^34 bytes fails as truncated, without
     * a 16 GiB allocation first). */
    size_t cap = count < (1 << 20) ? (size_t)count : (size_t)1 << 20, got = 0;
    out->data = malloc(cap);
    while (out->data) {
        size_t want = cap - got;
        if (want > 0 && gz_read_all(f, out->data + got, want)) {
            int zerr = 0;
            const char *zmsg = gzerror(f, &zerr);
            char msg[160];
            snprintf(msg, sizeof msg, "truncated or corrupt IDX data (expected %lld bytes%s%s)",
                     (long long)count, zerr < 0 ? "; zlib: " : "", zerr < 0 ? zmsg : "");
            set_err(err, errlen, "%s: %s", path, msg);
            gzclose(f);
            dl_idx_free(out);
            return -1;
        }
        got = cap;
        if ((int64_t)got == count) break;
        size_t ncap = cap * 2 > (size_t)count ? (size_t)count : cap * 2;
        uint8_t *nd = realloc(out->data, ncap);
        if (!nd) {
            free(out->data);
            out->data = NULL;
            break;
        }
        out->data = nd;
        cap = ncap;
    }
    if (!out->data) {
        set_err(err, errlen, "%s: %s", path, "out of memory");
        gzclose(f);
        memset(out, 0, sizeof *out);
        return -1;
    }
    /* A gzip stream must end cleanly; trailing garbage or a bad CRC is an error. */
    unsigned char extra;
    int r = gzread(f, &extra, 1);
    int zerr = 0;
    gzerror(f, &zerr);
    if (r != 0 || zerr < 0) {
        set_err(err, errlen, "%s: %s", path,
                r > 0 ? "trailing bytes after IDX data" : "corrupt gzip stream (CRC or length)");
        gzclose(f);
        dl_idx_free(out);
        return -1;
    }
    if (gzclose(f) != Z_OK) {
        set_err(err, errlen, "%s: %s", path, "corrupt gzip stream");
        dl_idx_free(out);
        return -1;
    }
    return 0;
}

void dl_mnist_free(dl_mnist *m)
{
    if (!m) return;
    free(m->images);
    free(m->labels);
    memset(m, 0, sizeof *m);
}

/* Find <dir>/<stem>-idxN-ubyte[.gz]. */
static int find_idx(const char *dir, const char *stem, char *path, size_t n)
{
    const char *sfx[2] = {".gz", ""};
    for (int i = 0; i < 2; i++) {
        snprintf(path, n, "%s/%s%s", dir, stem, sfx[i]);
        FILE *f = fopen(path, "rb");
        if (f) { fclose(f); return 0; }
    }
    snprintf(path, n, "%s/%s.gz", dir, stem);
    return -1;
}

int dl_fashion_mnist_load(const char *split, int max_n, dl_mnist *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *pre;
    if (split && strcmp(split, "train") == 0) pre = "train";
    else if (split && strcmp(split, "test") == 0) pre = "t10k";
    else {
        set_err(err, errlen, "fashion-mnist: unknown split '%s'%s (use train or test)",
                split ? split : "(null)", "");
        return -1;
    }
    const char *dir = getenv("DYNLAB_FASHION_MNIST");
    if (!dir || !*dir) dir = "/usr/share/datasets/fashion-mnist";
    char ipath[1024], lpath[1024], stem[64];
    snprintf(stem, sizeof stem, "%s-images-idx3-ubyte", pre);
    if (find_idx(dir, stem, ipath, sizeof ipath)) {
        set_err(err, errlen,
                "%s: not found (install Debian package dataset-fashion-mnist or set "
                "DYNLAB_FASHION_MNIST to the directory%s)", ipath, "");
        return -1;
    }
    snprintf(stem, sizeof stem, "%s-labels-idx1-ubyte", pre);
    if (find_idx(dir, stem, lpath, sizeof lpath)) {
        set_err(err, errlen,
                "%s: not found (install Debian package dataset-fashion-mnist or set "
                "DYNLAB_FASHION_MNIST to the directory%s)", lpath, "");
        return -1;
    }
    dl_idx im, lb;
    if (dl_idx_read(ipath, &im, err, errlen)) return -1;
    if (dl_idx_read(lpath, &lb, err, errlen)) { dl_idx_free(&im); return -1; }
    if (im.ndim != 3 || lb.ndim != 1 || im.dims[0] != lb.dims[0]) {
        set_err(err, errlen, "%s: shape does not match labels file %s", ipath, lpath);
        dl_idx_free(&im); dl_idx_free(&lb);
        return -1;
    }
    int n = im.dims[0];
    if (max_n > 0 && max_n < n) n = max_n;
    out->n = n; out->h = im.dims[1]; out->w = im.dims[2];
    size_t px = (size_t)out->h * out->w;
    out->images = malloc(sizeof(float) * px * (size_t)n);
    out->labels = malloc((size_t)n);
    if (!out->images || !out->labels) {
        set_err(err, errlen, "%s: %s", ipath, "out of memory");
        dl_idx_free(&im); dl_idx_free(&lb); dl_mnist_free(out);
        return -1;
    }
    for (size_t i = 0; i < px * (size_t)n; i++) out->images[i] = im.data[i] / 255.0f;
    memcpy(out->labels, lb.data, (size_t)n);
    dl_idx_free(&im); dl_idx_free(&lb);
    return 0;
}

void dl_format_bytes(int64_t n, char *buf, size_t len)
{
    if (n >= ((int64_t)1 << 30) && n % ((int64_t)1 << 30) == 0)
        snprintf(buf, len, "%lld GiB", (long long)(n >> 30));
    else if (n >= ((int64_t)1 << 20) && n % ((int64_t)1 << 20) == 0)
        snprintf(buf, len, "%lld MiB", (long long)(n >> 20));
    else if (n >= ((int64_t)1 << 20))
        snprintf(buf, len, "%.1f MiB", (double)n / (double)(1 << 20));
    else
        snprintf(buf, len, "%lld bytes", (long long)n);
}

static const char *file_kind(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a plain file";
}

int dl_open_regular(const char *path, int64_t max_bytes, int64_t *size, char *err, size_t errlen)
{
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        char what[96];
        snprintf(what, sizeof what, "not a regular file (%s)", file_kind(st.st_mode));
        set_err(err, errlen, "%s: %s", path, what);
        close(fd);
        return -1;
    }
    if (max_bytes > 0 && (int64_t)st.st_size > max_bytes) {
        char have[32], lim[32], msg[96];
        dl_format_bytes((int64_t)st.st_size, have, sizeof have);
        dl_format_bytes(max_bytes, lim, sizeof lim);
        snprintf(msg, sizeof msg, "%s, more than the %s limit", have, lim);
        set_err(err, errlen, "%s: %s", path, msg);
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (size) *size = (int64_t)st.st_size;
    return fd;
}

char *dl_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    return dl_read_file_max(path, DL_READ_FILE_MAX, len, err, errlen);
}

char *dl_read_file_max(const char *path, int64_t max_bytes, size_t *len, char *err, size_t errlen)
{
    int64_t size = 0;
    int fd = dl_open_regular(path, max_bytes, &size, err, errlen);
    if (fd < 0) return NULL;
    /* Read at most max_bytes + 1: a file that grows past the limit while it
     * is read is refused too. */
    size_t cap = (size_t)size + 1, n = 0;
    char *buf = malloc(cap + 1);
    int bad = 0;
    while (buf) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { bad = 1; break; }
        if (r == 0) break;
        n += (size_t)r;
        if ((int64_t)n > max_bytes) { bad = 2; break; }
        if (n == cap) {
            size_t nc = cap * 2 > (size_t)max_bytes + 1 ? (size_t)max_bytes + 1 : cap * 2;
            char *nb = realloc(buf, nc + 1);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb; cap = nc;
        }
    }
    close(fd);
    if (!buf || bad) {
        free(buf);
        char lim[32], msg[96];
        dl_format_bytes(max_bytes, lim, sizeof lim);
        snprintf(msg, sizeof msg, "grew beyond the %s limit while being read", lim);
        set_err(err, errlen, "%s: %s", path, bad == 2 ? msg : bad ? "read error" : "out of memory");
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}
