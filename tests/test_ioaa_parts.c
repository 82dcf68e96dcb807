#define _POSIX_C_SOURCE 200809L
/* ioaa (arXiv 2510.05016): the LaTeX exam loader on good and malformed
 * files, point parsing, numeric answers with units, ranks/percentiles/medals
 * with ties, the CSV readers on malformed rows, the answer key's validation,
 * the judge-reply parser, and the client's cache and failure handling
 * against an unreachable server. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testutil.h"
#include "ioaa/ioaa.h"
#include "ioaa/util.h"
#include <curl/curl.h>

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_points(void **st) {
    (void)st;
    assert_true(ioaa_points_of("Q1 (10 points) text") == 10);
    assert_true(ioaa_points_of("(a) [2] (b) [1.5] (c) [3 pts] \\[ x \\]") == 6.5);
    assert_true(ioaa_points_of("(20 pts) ... (a) [5]") == 20); /* the total wins */
    assert_true(ioaa_points_of("no marks here") == 0);
}

static void test_problem_parse(void **st) {
    (void)st;
    ioaa_problem p;
    char err[256];
    const char *ok = "\\documentclass{x}\\begin{document}A (5 points)"
                     "\\includegraphics[width=1cm]{sky}\\includegraphics{map.png}\\end{document}";
    memset(&p, 0, sizeof p);
    assert_int_equal(ioaa_problem_parse(&p, ok, strlen(ok), err, sizeof err), 0);
    assert_int_equal(p.n_figures, 2);
    assert_string_equal(p.figures[0], "images/sky.jpg");
    assert_string_equal(p.figures[1], "images/map.png");
    assert_true(p.max_points == 5);
    free(p.body);
    const char *bad[] = {"no document here", "\\begin{document} never ends",
                         "\\begin{document}\\includegraphics{open\\end{document}"};
    for (int i = 0; i < 3; i++) {
        memset(&p, 0, sizeof p);
        assert_int_equal(ioaa_problem_parse(&p, bad[i], strlen(bad[i]), err, sizeof err), -1);
        assert_true(strlen(err) > 0);
    }
}

static void test_exam_dir(void **st) {
    (void)st;
    const char *d = tu_tmpdir("ioaa_exam");
    char p[512], err[512];
    snprintf(p, sizeof p, "%s/2022/Theory", d);
    assert_int_equal(ioaa_mkdirs(p), 0);
    snprintf(p, sizeof p, "%s/2022/Data Analysis", d);
    assert_int_equal(ioaa_mkdirs(p), 0);
    snprintf(p, sizeof p, "%s/2022/Theory/Q10.tex", d);
    write_file(p, "\\begin{document}ten (20 points)\\end{document}");
    snprintf(p, sizeof p, "%s/2022/Theory/Q2.tex", d);
    write_file(p, "\\begin{document}two (10 points)\\end{document}");
    snprintf(p, sizeof p, "%s/2022/Data Analysis/D1.tex", d);
    write_file(p, "\\begin{document}(a) [40] (b) [5]\\end{document}");
    ioaa_exam ex;
    assert_int_equal(ioaa_exam_load_dir(&ex, d, err, sizeof err), 0);
    assert_int_equal(ex.n, 3);
    assert_string_equal(ex.p[0].part, "data_analysis");
    assert_true(ex.p[0].max_points == 45);
    assert_string_equal(ex.p[1].id, "Q2"); /* natural order: Q2 before Q10 */
    assert_string_equal(ex.p[2].id, "Q10");
    ioaa_exam_free(&ex);
    /* A problem without point values, and one truncated mid-document. */
    snprintf(p, sizeof p, "%s/2022/Theory/Q3.tex", d);
    write_file(p, "\\begin{document}no points\\end{document}");
    assert_int_equal(ioaa_exam_load_dir(&ex, d, err, sizeof err), -1);
    assert_non_null(strstr(err, "Q3.tex"));
    assert_non_null(strstr(err, "no point value"));
    write_file(p, "\\begin{document}cut off (5 points)");
    assert_int_equal(ioaa_exam_load_dir(&ex, d, err, sizeof err), -1);
    assert_non_null(strstr(err, "end{document}"));
    /* A FIFO is refused instead of hanging. */
    unlink(p);
    assert_int_equal(mkfifo(p, 0600), 0);
    assert_int_equal(ioaa_exam_load_dir(&ex, d, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a regular file"));
    unlink(p);
    assert_int_equal(ioaa_exam_load_dir(&ex, "/nonexistent/exams", err, sizeof err), -1);
    tu_system("rm -rf '%s'", d);
}

static void test_numeric(void **st) {
    (void)st;
    double v;
    char unit[32];
    assert_int_equal(ioaa_extract_numeric("x\nANSWER a: 1 m\nANSWER a: 1.5 \\times 10^{11} m\n", "a", 0,
                                          &v, unit, sizeof unit), 0);
    assert_true(fabs(v - 1.5e11) < 1);
    assert_string_equal(unit, "m");
    assert_int_equal(ioaa_extract_numeric("\\boxed{2.62 \\mathrm{AU}}", "a", 1, &v, unit, sizeof unit), 0);
    assert_string_equal(unit, "AU");
    assert_int_equal(ioaa_extract_numeric("\\boxed{2.62 AU}", "a", 0, &v, unit, sizeof unit), -1);
    assert_int_equal(ioaa_extract_numeric("ANSWER b: none", "b", 0, &v, unit, sizeof unit), -1);
    assert_true(ioaa_numeric_match(1, "AU", 1.495978707e11, "m", 1e-6));
    assert_true(ioaa_numeric_match(502, "nm", 5.021e-7, "m", 0.02));
    assert_false(ioaa_numeric_match(1, "pc", 1, "s", 0.5));     /* dimensions differ */
    assert_false(ioaa_numeric_match(1, "furlong", 1, "m", 0.5)); /* unknown unit */
    assert_false(ioaa_numeric_match(0.01, "arcsec", 0.001, "arcsec", 0.02));
}

static void test_rank_medal(void **st) {
    (void)st;
    const double h[] = {12, 20, 28, 35, 40, 42, 48, 55, 2500.0 / 37, 80, 95};
    ioaa_medal_rule r = {1.6, 1.3, 1.0};
    assert_true(ioaa_median(h, 11) == 42);
    assert_int_equal(ioaa_rank(h, 11, 2500.0 / 37), 3); /* tie shares the rank */
    assert_int_equal(ioaa_rank(h, 11, 100), 1);
    assert_int_equal(ioaa_rank(h, 11, 0), 12);
    assert_true(fabs(ioaa_percentile(h, 11, 2500.0 / 37) - 900.0 / 11) < 1e-12);
    assert_int_equal(ioaa_medal(h, 11, 67.2, &r), 3);   /* exactly 1.6 x median: gold */
    assert_int_equal(ioaa_medal(h, 11, 67.19, &r), 2);
    assert_int_equal(ioaa_medal(h, 11, 42, &r), 1);
    assert_int_equal(ioaa_medal(h, 11, 41.9, &r), 0);
    const double e[] = {30, 50, 50, 60, 75, 100};
    assert_true(ioaa_median(e, 6) == 55);
    assert_true(ioaa_mean(e, 6) == 365.0 / 6);
}

static void test_csv(void **st) {
    (void)st;
    char err[256];
    ioaa_humans h;
    assert_int_equal(ioaa_humans_parse(&h, "year,part,score\n2022,theory,50\n2022,data_analysis,7.5\n",
                                       err, sizeof err), 0);
    assert_int_equal(h.n, 2);
    double *s;
    assert_int_equal(ioaa_humans_select(&h, "2022", "theory", &s), 1);
    free(s);
    ioaa_humans_free(&h);
    const char *bad[] = {"", "name,score\n", "year,part,score\n2022,theory,abc\n",
                         "year,part,score\n2022,theory,150\n", "year,part,score\n2022,exam,5\n",
                         "year,part,score\n2022,theory\n", "year,part,score\n2022,theory,5,6\n"};
    for (int i = 0; i < 7; i++) {
        err[0] = 0;
        assert_int_equal(ioaa_humans_parse(&h, bad[i], err, sizeof err), -1);
        assert_true(strlen(err) > 0);
    }
    ioaa_manual m;
    assert_int_equal(ioaa_manual_parse(&m, "model,year,part,problem,item,points,category\n"
                                           "a,2022,theory,Q1,b,2\na,2022,theory,Q1,b,3,conceptual\n",
                                       err, sizeof err), 0);
    const ioaa_manual_grade *g = ioaa_manual_find(&m, "a", "2022", "theory", "Q1", "b");
    assert_non_null(g);
    assert_true(g->points == 3); /* the later row corrects the earlier */
    ioaa_manual_free(&m);
    assert_int_equal(ioaa_manual_parse(&m, "model,year,part,problem,item,points\na,2022,theory,Q1,b,-1\n",
                                       err, sizeof err), -1);
    assert_non_null(strstr(err, "line 2"));
}

static void test_key(void **st) {
    (void)st;
    char err[256];
    ioaa_key k;
    const char *ok = "{\"problems\":[{\"year\":\"y\",\"part\":\"theory\",\"id\":\"Q1\",\"items\":["
                     "{\"id\":\"a\",\"points\":4,\"type\":\"numeric\",\"value\":2,\"unit\":\"pc\"},"
                     "{\"id\":\"b\",\"points\":1,\"type\":\"text\",\"rubric\":\"r\"}]}]}";
    assert_int_equal(ioaa_key_parse(&k, ok, err, sizeof err), 0);
    assert_int_equal(k.p[0].n_items, 2);
    assert_true(k.p[0].items[0].rel_tol == 0.05);
    ioaa_exam ex = {0};
    ioaa_problem pr = {.year = "y", .part = "theory", .id = "Q1", .max_points = 6};
    ex.p = &pr;
    ex.n = 1;
    assert_int_equal(ioaa_key_check(&k, &ex, err, sizeof err), -1); /* 5 != 6 points */
    assert_non_null(strstr(err, "sum to 5"));
    ioaa_key_free(&k);
    const char *bad[] = {"{", "{\"problems\":3}",
                         "{\"problems\":[{\"year\":\"y\",\"part\":\"lab\",\"id\":\"Q\",\"items\":[]}]}",
                         "{\"problems\":[{\"year\":\"y\",\"part\":\"theory\",\"id\":\"Q\",\"items\":["
                         "{\"id\":\"a\",\"points\":1,\"type\":\"numeric\",\"value\":1,\"unit\":\"furlong\"}]}]}",
                         "{\"problems\":[{\"year\":\"y\",\"part\":\"theory\",\"id\":\"Q\",\"items\":["
                         "{\"id\":\"a\",\"points\":1,\"type\":\"essay\"}]}]}"};
    for (int i = 0; i < 5; i++) {
        err[0] = 0;
        assert_int_equal(ioaa_key_parse(&k, bad[i], err, sizeof err), -1);
        assert_true(strlen(err) > 0);
    }
}

static void test_judge_parse(void **st) {
    (void)st;
    assert_true(ioaa_judge_parse("ok\nSCORE: 1\nSCORE: 2.5", 6) == 2.5);
    assert_true(ioaa_judge_parse("SCORE: 99", 6) == 6);
    assert_true(ioaa_judge_parse("SCORE: -3", 6) == 0);
    assert_true(ioaa_judge_parse("no score", 6) == -1);
}

/* The cache answers a request seen before without contacting the server;
 * an unreachable server fails with one message after the retries. */
static void test_client_cache(void **st) {
    (void)st;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *d = tu_tmpdir("ioaa_cache");
    ioaa_client c = {0};
    snprintf(c.base_url, sizeof c.base_url, "http://127.0.0.1:9/v1"); /* discard port: refused */
    snprintf(c.cache_dir, sizeof c.cache_dir, "%s", d);
    c.timeout_s = 2;
    c.retries = 2;
    c.backoff_s = 0.01;
    char err[512] = "";
    const char *rq = "{\"model\":\"m\",\"messages\":[]}";
    assert_null(ioaa_complete(&c, rq, err, sizeof err));
    assert_non_null(strstr(err, "after 3 attempt"));
    assert_int_equal(c.n_http, 3);
    char path[1200];
    ioaa_cache_path(&c, rq, path, sizeof path);
    write_file(path, "{\"request\": \"{\\\"model\\\":\\\"m\\\",\\\"messages\\\":[]}\", \"content\": \"cached!\"}");
    char *a = ioaa_complete(&c, rq, err, sizeof err);
    assert_non_null(a);
    assert_string_equal(a, "cached!");
    free(a);
    assert_int_equal(c.n_http, 3); /* no new request */
    assert_int_equal(c.n_cached, 1);
    /* A cache entry for another request under the same name is not used. */
    write_file(path, "{\"request\": \"other\", \"content\": \"wrong\"}");
    assert_null(ioaa_complete(&c, rq, err, sizeof err));
    tu_system("rm -rf '%s'", d);
    curl_global_cleanup();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_points),      cmocka_unit_test(test_problem_parse),
        cmocka_unit_test(test_exam_dir),    cmocka_unit_test(test_numeric),
        cmocka_unit_test(test_rank_medal),  cmocka_unit_test(test_csv),
        cmocka_unit_test(test_key),         cmocka_unit_test(test_judge_parse),
        cmocka_unit_test(test_client_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
