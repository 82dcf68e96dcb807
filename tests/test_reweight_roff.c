/* Manual pages as text for the reweight system (experiments/reweight/roff.c):
 * a roff snippet with man(7) macros, escapes, a macro definition, no-fill
 * text and comments converts to the expected plain text; gzip input is read
 * through zlib; a missing or corrupt file gives one error naming it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "testutil.h"
#include "reweight/reweight.h"

static const char *ROFF =
    ".\\\" a comment line\n"
    ".TH LS 1 \"2022\" \"GNU\"\n"
    ".de XX\n"
    "defined text that must not appear\n"
    "..\n"
    ".SH NAME\n"
    "ls \\- list directory contents\n"
    ".SH \"SEE ALSO\"\n"
    ".PP\n"
    "Sort by \\fBname\\fR unless\n"
    ".B \\-\\-sort\n"
    "is given\\(emsee\n"
    ".BR info (1).\n"
    "\\*(lqQuoted\\*(rq \\s-1SMALL\\s0 caf\\(e' \\e end \\\" trailing comment\n"
    "\n"
    ".TP\n"
    ".I file\n"
    "the file\n"
    ".nf\n"
    "line one\n"
    "line two\n"
    ".fi\n"
    "tab\there \xc3\xa9t\xc3\xa9\n";

static const char *WANT =
    "NAME\n"
    "ls - list directory contents\n"
    "\n"
    "SEE ALSO\n"
    "\n"
    "Sort by name unless --sort is given-see info(1). Quoted SMALL caf \\ end\n"
    "\n"
    "file the file\n"
    "line one\n"
    "line two\n"
    "tab here t\n";

static void test_roff(void **st) {
    (void)st;
    size_t n;
    char *t = rw_roff_to_text(ROFF, strlen(ROFF), &n);
    if (strcmp(t, WANT)) {
        fprintf(stderr, "got:\n[%s]\nwant:\n[%s]\n", t, WANT);
        fail();
    }
    assert_int_equal(n, strlen(WANT));
    free(t);
    t = rw_roff_to_text("", 0, &n);
    assert_int_equal(n, 0);
    free(t);
}

static void test_gz(void **st) {
    (void)st;
    const char *dir = tu_tmpdir("rwroff");
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/page.1.gz", dir);
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    gzwrite(f, ROFF, (unsigned)strlen(ROFF));
    gzclose(f);
    size_t n;
    char *s = rw_read_gz(path, &n, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(n, strlen(ROFF));
    assert_memory_equal(s, ROFF, n);
    free(s);
    /* truncated gzip: an error naming the file */
    FILE *fp = fopen(path, "rb");
    unsigned char buf[4096];
    size_t k = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    fp = fopen(path, "wb");
    fwrite(buf, 1, k / 2, fp);
    fclose(fp);
    s = rw_read_gz(path, &n, err, sizeof err);
    assert_null(s);
    assert_non_null(strstr(err, "page.1.gz"));
    s = rw_read_gz("/nonexistent/x.1.gz", &n, err, sizeof err);
    assert_null(s);
    assert_non_null(strstr(err, "/nonexistent/x.1.gz"));
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_roff), cmocka_unit_test(test_gz)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
