/* Shared helpers for the C tests. */
#ifndef DYNLAB_TESTUTIL_H
#define DYNLAB_TESTUTIL_H
#include <stddef.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

/* A fresh empty temporary directory (mkdtemp under $TMPDIR or /tmp). */
const char *tu_tmpdir(const char *tag);
/* Run a shell command, return its exit status (0..255) or -1. */
int tu_system(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Path of the dynlab program (env DYNLAB) and the source tree. */
const char *tu_dynlab(void);
const char *tu_source_dir(void);
/* 1 when built with sanitizers (tests may shrink their seed lists). */
int tu_sanitized(void);
/* Max relative error between two float arrays: max|a-b| / max(1e-6, max|b|). */
double tu_max_rel_err(const float *a, const float *b, long n);
/* Recompute the "dynlab_crc32" checksum of a safetensors file after a test
 * patched its bytes on purpose. 0 on success. */
int tu_st_fix_crc(const char *path);
#endif
