#define _XOPEN_SOURCE 700 /* nftw */
#include "testutil.h"
#include <ftw.h>
#include <sys/stat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

/* Directories made by tu_tmpdir, removed with what they hold when the test
 * program exits (DYNLAB_KEEP_TMP=1 keeps them for a look after a failure). */
#define TU_MAX_TMPDIRS 64
static char tu_dirs[TU_MAX_TMPDIRS][512];
static int tu_n_dirs = 0;

static int tu_remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void tu_remove_tmpdirs(void) {
    const char *keep = getenv("DYNLAB_KEEP_TMP");
    if (keep && !strcmp(keep, "1")) return;
    for (int i = 0; i < tu_n_dirs; i++) nftw(tu_dirs[i], tu_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *tu_tmpdir(const char *tag) {
    static char buf[8][512];
    static int k = 0;
    char *b = buf[k++ % 8];
    const char *t = getenv("TMPDIR");
    snprintf(b, 512, "%s/dynlab-%s-XXXXXX", t && *t ? t : "/tmp", tag);
    if (!mkdtemp(b)) return NULL;
    if (tu_n_dirs < TU_MAX_TMPDIRS) {
        if (!tu_n_dirs) atexit(tu_remove_tmpdirs);
        snprintf(tu_dirs[tu_n_dirs++], sizeof tu_dirs[0], "%s", b);
    }
    return b;
}

int tu_system(const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    if (st == -1) return -1;
    return (st >> 8) & 0xff;
}

const char *tu_dynlab(void) {
    const char *p = getenv("DYNLAB");
    return p ? p : "./dynlab";
}

const char *tu_source_dir(void) {
    const char *p = getenv("DYNLAB_SOURCE_DIR");
    return p ? p : "..";
}

int tu_sanitized(void) {
#if defined(__SANITIZE_ADDRESS__)
    return 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return 1;
#endif
#endif
    return 0;
}

double tu_max_rel_err(const float *a, const float *b, long n) {
    double md = 0, mb = 1e-6;
    for (long i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > md) md = d;
        if (fabs(b[i]) > mb) mb = fabs(b[i]);
    }
    return md / mb;
}

/* Rewrite the "dynlab_crc32" metadata of a safetensors file to match its data
 * section: tests that patch bytes on purpose (to reach a later check) keep
 * the file's checksum valid. 0 on success. */
#include <zlib.h>
int tu_st_fix_crc(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n || n < 8) {
        fclose(f);
        free(b);
        return -1;
    }
    fclose(f);
    uint64_t hl = 0;
    for (int i = 0; i < 8; i++) hl |= (uint64_t)b[i] << (8 * i);
    b[n] = 0;
    char *key = strstr((char *)b + 8, "\"dynlab_crc32\":\"");
    int rc = -1;
    if (key && (unsigned char *)key < b + 8 + hl) {
        uLong crc = crc32(0L, b + 8 + hl, (uInt)((uint64_t)n - 8 - hl));
        char hex[9];
        snprintf(hex, sizeof hex, "%08lx", crc & 0xffffffffUL);
        memcpy(key + strlen("\"dynlab_crc32\":\""), hex, 8);
        f = fopen(path, "wb");
        if (f && fwrite(b, 1, (size_t)n, f) == (size_t)n) rc = 0;
        if (f) fclose(f);
    }
    free(b);
    return rc;
}
