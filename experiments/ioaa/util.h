/* Small helpers of the ioaa system: bounded file reads, natural ordering,
 * hashing. */
#ifndef DYNLAB_EXP_IOAA_UTIL_H
#define DYNLAB_EXP_IOAA_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Whole regular file, NUL-terminated, at most max_bytes (the error names the
 * limit); NULL with one line in err. */
char *ioaa_read_file(const char *path, size_t max_bytes, size_t *len, char *err, size_t errlen);
/* "Q2" < "Q10": digit runs compare by value. */
int ioaa_natural_cmp(const char *a, const char *b);
/* FNV-1a 64-bit. */
uint64_t ioaa_fnv1a(const void *data, size_t n);
/* mkdir -p. 0 or -1. */
int ioaa_mkdirs(const char *path);
/* Write a file atomically (temp + rename). 0 or -1. */
int ioaa_write_text(const char *path, const char *text);

#endif
