/* Internal helpers of the HTML report (src/io/report.c): HTML escaping,
 * URL-safe file references, file reading and copying. */
#ifndef DYNLAB_REPORT_UTIL_H
#define DYNLAB_REPORT_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <cjson/cJSON.h>

/* Text as HTML (&, <, >, ", ' escaped). NULL writes nothing. */
void html_text(FILE *f, const char *s);
/* A relative URL: path characters other than [A-Za-z0-9._/-] percent-encoded,
 * then HTML-escaped (safe inside a quoted attribute). */
void html_url(FILE *f, const char *path);

/* The path to read for a run directory's file: <path>.prev when it exists
 * (the complete run's file, kept while a later run was interrupted). */
const char *rep_run_file(const char *path, char *buf, size_t n);
/* summary.json's "seed" as a string of its exact digits (the number parsed
 * by cJSON is a double, inexact above 2^53). */
void rep_exact_seed(cJSON *summary, const char *text);
/* Whole file (its .prev when there is one: rep_run_file) as a NUL-terminated
 * string (malloc), or NULL; regular files only. */
char *rep_read_file(const char *path, size_t *len);
/* Copy src to dst (overwriting). 0 or -1. */
int rep_copy_file(const char *src, const char *dst);
/* mkdir -p. 0 or -1. */
int rep_mkdir_p(const char *path);
/* Whether a regular file exists. */
int rep_is_file(const char *path);
/* A file name safe to copy and link: non-empty, no '/', not starting with
 * '.', only [A-Za-z0-9._+-]. */
int rep_safe_name(const char *name);

#endif
