/* Helpers of the HTML report: escaping and files (see report_util.h). */
#define _POSIX_C_SOURCE 200809L
#include "report_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "dynlab/data.h"

void html_text(FILE *f, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

void html_url(FILE *f, const char *path) {
    for (const unsigned char *p = (const unsigned char *)path; p && *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                    *p == '.' || *p == '_' || *p == '-' || *p == '/';
        if (plain) fputc(*p, f);
        else fprintf(f, "%%%02X", *p);
    }
}

/* A run directory holding <file>.prev was interrupted by a later run: the
 * .prev files belong to the complete run that summary.json describes
 * (src/io/run.c), so the report reads them, never a mix of the two runs. */
const char *rep_run_file(const char *path, char *buf, size_t n) {
    snprintf(buf, n, "%s.prev", path);
    return rep_is_file(buf) ? buf : path;
}

char *rep_read_file(const char *path, size_t *len) {
    char prev[1600], err[64];
    /* Regular files only, at most 1 GiB (a FIFO in a run directory would block). */
    return dl_read_file_max(rep_run_file(path, prev, sizeof prev), (int64_t)1 << 30, len, err,
                            sizeof err);
}

void rep_exact_seed(cJSON *summary, const char *text) {
    /* cJSON keeps numbers as doubles: seeds above 2^53 would print rounded.
     * summary.json writes "seed" as an integer literal; take its digits. */
    const char *k = strstr(text, "\"seed\":");
    if (!k || !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(summary, "seed"))) return;
    k += 7;
    while (*k == ' ' || *k == '\t') k++;
    char digits[24];
    size_t n = 0;
    while (k[n] >= '0' && k[n] <= '9' && n + 1 < sizeof digits) {
        digits[n] = k[n];
        n++;
    }
    digits[n] = 0;
    if (n) cJSON_ReplaceItemInObjectCaseSensitive(summary, "seed", cJSON_CreateString(digits));
}

int rep_copy_file(const char *src, const char *dst) {
    char prev[1600];
    if (!rep_is_file(src)) return -1;
    FILE *in = fopen(rep_run_file(src, prev, sizeof prev), "rb");
    if (!in) return -1;
    FILE *out = fopen(dst, "wb");
    if (!out) {
        fclose(in);
        return -1;
    }
    char buf[1 << 16];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) {
            rc = -1;
            break;
        }
    if (ferror(in)) rc = -1;
    fclose(in);
    if (fclose(out) != 0) rc = -1;
    return rc;
}

int rep_mkdir_p(const char *path) {
    char tmp[2048];
    if (!path || !*path || snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST) return -1;
    struct stat st;
    return stat(tmp, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

int rep_is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int rep_safe_name(const char *name) {
    if (!name || !*name || name[0] == '.' || strlen(name) > 200) return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '_' || c == '-' || c == '+';
        if (!ok) return 0;
    }
    return 1;
}
