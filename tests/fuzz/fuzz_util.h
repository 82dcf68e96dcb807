/* Shared by the libFuzzer harnesses: the input as a file. The readers take
 * paths (and refuse anything but regular files), so each input goes into one
 * memfd, a regular file in memory, reached as /proc/self/fd/N: no disk I/O
 * per execution. */
#ifndef DYNLAB_FUZZ_UTIL_H
#define DYNLAB_FUZZ_UTIL_H
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Path of a file holding exactly data[0..size). */
__attribute__((unused)) static const char *fuzz_file(const uint8_t *data, size_t size) {
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("dynlab-fuzz", MFD_CLOEXEC);
        if (fd < 0) abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0) abort();
    for (size_t o = 0; o < size;) {
        ssize_t k = pwrite(fd, data + o, size - o, (off_t)o);
        if (k <= 0) abort();
        o += (size_t)k;
    }
    return path;
}

/* The input as a NUL-terminated string (malloc). */
__attribute__((unused)) static char *fuzz_text(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) abort();
    memcpy(s, data, size);
    s[size] = 0;
    return s;
}

/* An error message must be one line, non-empty. */
__attribute__((unused)) static void fuzz_check_err(const char *err) {
    if (!err[0] || strchr(err, '\n')) {
        fprintf(stderr, "bad error message: '%s'\n", err);
        abort();
    }
}
#endif
