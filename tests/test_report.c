/* HTML report (src/io/report.c, tools/cmd_report.c): run directories made
 * with the real run API (dl_run_open ... dl_run_close, plots, claims) become
 * index.html + one page per run; every string is escaped, every local link
 * and image resolves inside the (moved) report folder, and bad input gives
 * one error line.
 *
 * `test_report --fabricate DIR` only writes two such run directories,
 * DIR/alpha and DIR/beta (used by tests/test_report_browser.sh when no system
 * is registered). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dynlab/plot.h"
#include "dynlab/report.h"
#include "dynlab/run.h"
#include "testutil.h"

#include "io/report_util.h"

static const char *EVIL = "<script>alert('x')</script> & \"quotes\"";

/* A finished run: metrics, final values, two figures, claims (one failing
 * when `fail_one`), config.json. Returns 0. */
static int fabricate(const char *dir, const char *exp, int fail_one) {
    static dl_run run; /* large */
    char err[256];
    memset(&run, 0, sizeof run);
    run.quiet = 1;
    if (dl_run_open(&run, exp, dir, 7, 1, 0, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    run.title = "A paper title with <angle> brackets & ampersands";
    run.arxiv = "2501.00001";
    run.paper_summary = EVIL;
    snprintf(run.preset, sizeof run.preset, "quick");
    enum { N = 40 };
    double x[N], loss[N], ref[N];
    for (int i = 0; i < N; i++) {
        x[i] = i + 1;
        loss[i] = 3.0 / (i + 1) + 0.05;
        ref[i] = 3.0 / (i + 1);
        dl_metrics_begin(&run, i);
        dl_metrics_add(&run, "loss", loss[i]);
        dl_metrics_end(&run);
    }
    dl_log(&run, "trained %d steps", N);
    dl_final(&run, "loss", loss[N - 1]);
    dl_final(&run, "not_a_number", NAN);
    dl_final_str(&run, "note", "<b>bold?</b>");
    dl_series s[] = {{.name = "loss", .x = x, .y = loss, .n = N}, {.name = "1/t", .x = x, .y = ref, .n = N, .dashed = 1}};
    dl_plot_opts o = {.title = "Loss", .xlabel = "step", .ylabel = "loss", .flags = DL_PLOT_LOGX | DL_PLOT_LOGY};
    if (dl_plot_lines(&run, "loss_vs_step", "Loss versus step <log axes>", &o, s, 2) != 0) return -1;
    double m[9] = {1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5};
    if (dl_plot_heatmap(&run, "attention", "Attention & parents", "attention", "key", "query", m, 3, 3, NULL,
                        NULL) != 0)
        return -1;
    dl_claim_check(&run, DL_CLAIM_LEARNED, "C1", "loss falls below 0.2", "Fig. 2 <b>", "< 0.2", loss[N - 1], NULL, loss[N - 1] < 0.2);
    dl_claim_check(&run, DL_CLAIM_STRUCTURAL, "C2", "attention concentrates", "Thm. 1", ">= 0.9", 0.5, "0.50 (mass)", !fail_one);
    if (dl_run_close(&run) != 0) return -1;
    char p[1200];
    snprintf(p, sizeof p, "%s/config.json", dir);
    FILE *f = fopen(p, "w");
    if (!f) return -1;
    fputs("{\"steps\": 40, \"lr\": 0.001, \"model\": {\"d\": 16, \"heads\": 2, \"name\": \"<tiny>\"}, "
          "\"sizes\": [1, 2, 3], \"flag\": true}\n",
          f);
    return fclose(f);
}

/* A run with claims of declared kinds: C1 learned, C2 structural, C3 learned.
 * `control` marks it as an untrained control; `c3_pass` decides C3. */
static int fabricate_kinds(const char *dir, const char *exp, int control, int c1_pass, int c3_pass) {
    static dl_run run;
    char err[256];
    memset(&run, 0, sizeof run);
    run.quiet = 1;
    if (dl_run_open(&run, exp, dir, 3, 1, 0, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    run.control = control ? DL_CONTROL_UNTRAINED : DL_CONTROL_NONE;
    run.title = "Kinds";
    snprintf(run.preset, sizeof run.preset, "quick");
    dl_claim_check(&run, DL_CLAIM_LEARNED, "C1", "loss falls", "Sec. 3", "< 0.5", c1_pass ? 0.1 : 2.3,
                   c1_pass ? "0.1 (trained)" : "2.3 (flat)", c1_pass);
    dl_claim_check(&run, DL_CLAIM_STRUCTURAL, "C2", "greedy equals OPT on identical rows", "Thm. 2", "= 0", 0, NULL, 1);
    dl_claim_check(&run, DL_CLAIM_LEARNED, "C3", "gradients agree", "Sec. 4", "> 0", c3_pass ? 0.7 : -0.2,
                   c3_pass ? "0.70 (agree)" : "-0.20", c3_pass);
    return dl_run_close(&run);
}

static char *slurp(const char *dir, const char *name) {
    char p[1400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    char *s = rep_read_file(p, NULL);
    if (!s) fail_msg("cannot read %s", p);
    return s;
}

/* Every src="..." / href="..." that is not an absolute URL or a fragment must
 * name a file inside `dir`. Returns the number of local references. */
static int check_local_refs(const char *dir, const char *page) {
    char *html = slurp(dir, page);
    int refs = 0;
    const char *attrs[] = {"src=\"", "href=\""};
    for (int a = 0; a < 2; a++) {
        for (const char *p = strstr(html, attrs[a]); p; p = strstr(p + 1, attrs[a])) {
            const char *v = p + strlen(attrs[a]), *end = strchr(v, '"');
            assert_non_null(end);
            char ref[600];
            snprintf(ref, sizeof ref, "%.*s", (int)(end - v), v);
            if (!strncmp(ref, "https://", 8) || ref[0] == '#') continue;
            char *hash = strchr(ref, '#');
            if (hash) *hash = 0;
            assert_null(strstr(ref, ".."));
            assert_true(ref[0] != '/');
            char path[1400];
            snprintf(path, sizeof path, "%s/%s", dir, ref);
            if (!rep_is_file(path)) fail_msg("%s: broken reference %s", page, ref);
            refs++;
        }
    }
    free(html);
    return refs;
}

static int have_gnuplot(void) { return tu_system("command -v gnuplot >/dev/null 2>&1") == 0; }

static void test_report_pages(void **state) {
    (void)state;
    const char *tmp = tu_tmpdir("report");
    assert_non_null(tmp);
    char a[600], b[600], c[600], out[600], moved[600];
    snprintf(a, sizeof a, "%s/runs/alpha", tmp);
    snprintf(b, sizeof b, "%s/runs/beta", tmp);
    snprintf(c, sizeof c, "%s/runs/alpha-again", tmp);
    snprintf(out, sizeof out, "%s/out", tmp);
    snprintf(moved, sizeof moved, "%s/moved", tmp);
    assert_int_equal(fabricate(a, "alpha", 0), 0);
    assert_int_equal(fabricate(b, "beta", 1), 0);
    assert_int_equal(fabricate(c, "alpha", 0), 0); /* same system twice: two pages */
    const char *dirs[] = {a, b, c};
    char err[512];
    assert_int_equal(dl_report_write(dirs, 3, out, err, sizeof err), 0);
    /* The folder is self-contained: move it, then check every link. */
    assert_int_equal(rename(out, moved), 0);

    char *index = slurp(moved, "index.html");
    assert_non_null(strstr(index, "id=\"systems-table\""));
    assert_non_null(strstr(index, "href=\"alpha.html\""));
    assert_non_null(strstr(index, "href=\"alpha-2.html\""));
    assert_non_null(strstr(index, "href=\"beta.html\""));
    assert_non_null(strstr(index, "5 of 6 claims pass"));
    assert_non_null(strstr(index, "1 / 2 pass</span><br><span class=\"muted\">failed: C2</span>"));
    assert_null(strstr(index, "<script"));
    assert_null(strstr(index, "<angle>"));
    assert_non_null(strstr(index, "&lt;angle&gt;"));
    if (have_gnuplot()) assert_non_null(strstr(index, "class=\"thumb\" src=\"assets/alpha/plots/loss_vs_step.png\""));
    free(index);

    char *page = slurp(moved, "beta.html");
    assert_non_null(strstr(page, "id=\"claims-table\""));
    assert_non_null(strstr(page, "<td class=\"pass\">PASS</td>"));
    assert_non_null(strstr(page, "<td class=\"fail\">FAIL</td>"));
    assert_non_null(strstr(page, "0.50 (mass)"));
    assert_non_null(strstr(page, "<code>dynlab run beta --config config.json --seed 7 --threads 1</code>"));
    assert_non_null(strstr(page, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"));
    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "<b>"));
    assert_non_null(strstr(page, "<code>model.heads</code></td><td>2</td>"));
    assert_non_null(strstr(page, "<code>lr</code></td><td>0.001</td>"));
    assert_non_null(strstr(page, "&lt;tiny&gt;"));
    assert_non_null(strstr(page, "assets/beta/metrics.jsonl"));
    assert_non_null(strstr(page, "assets/beta/config.json"));
    assert_non_null(strstr(page, "assets/beta/log.txt"));
    if (have_gnuplot()) {
        assert_non_null(strstr(page, "<img src=\"assets/beta/plots/attention.png\""));
        assert_non_null(strstr(page, "Loss versus step &lt;log axes&gt;"));
        assert_non_null(strstr(page, "assets/beta/plots/loss_vs_step.svg"));
    }
    free(page);
    assert_true(check_local_refs(moved, "index.html") >= 3);
    assert_true(check_local_refs(moved, "alpha.html") >= 4);
    assert_true(check_local_refs(moved, "alpha-2.html") >= 4);
    assert_true(check_local_refs(moved, "beta.html") >= 4);
    tu_system("rm -rf '%s'", tmp);
}

/* A trained run beside its untrained control: kinds shown, the control's
 * values beside the trained ones, a learned claim passing untrained flagged;
 * the control is not counted as a system of its own. */
static void test_report_control(void **state) {
    (void)state;
    const char *tmp = tu_tmpdir("report-control");
    assert_non_null(tmp);
    char t[600], u[600], lone[600], out[600];
    snprintf(t, sizeof t, "%s/runs/kinds", tmp);
    snprintf(u, sizeof u, "%s/runs/kinds-untrained", tmp);
    snprintf(lone, sizeof lone, "%s/runs/other-untrained", tmp);
    snprintf(out, sizeof out, "%s/out", tmp);
    assert_int_equal(fabricate_kinds(t, "kinds", 0, 1, 1), 0);
    assert_int_equal(fabricate_kinds(u, "kinds", 1, 0, 1), 0); /* C3 passes untrained: flagged */
    assert_int_equal(fabricate_kinds(lone, "other", 1, 0, 0), 0);
    const char *dirs[] = {u, t, lone}; /* control given first: pairing does not depend on order */
    char err[512];
    assert_int_equal(dl_report_write(dirs, 3, out, err, sizeof err), 0);

    char *index = slurp(out, "index.html");
    assert_non_null(strstr(index, "<th>Untrained control</th>"));
    assert_non_null(strstr(index, "2 untrained controls"));
    assert_non_null(strstr(index, "3 of 4 learned claims fail untrained"));
    assert_non_null(strstr(index, "3 of 3 claims pass")); /* trained runs only */
    assert_non_null(strstr(index, "href=\"kinds.html\""));
    assert_non_null(strstr(index, "href=\"kinds-untrained.html\""));
    assert_non_null(strstr(index, "1 / 2 learned fail untrained</span><br><span class=\"muted\">pass untrained: C3"));
    assert_non_null(strstr(index, "href=\"other-untrained.html\"")); /* unpaired control: own row */
    assert_non_null(strstr(index, "untrained control, quick"));
    free(index);

    char *page = slurp(out, "kinds.html");
    assert_non_null(strstr(page, "<th>Kind</th>"));
    assert_non_null(strstr(page, "<th>Untrained control: measured</th>"));
    assert_non_null(strstr(page, "<td class=\"kind\">learned</td>"));
    assert_non_null(strstr(page, "<td class=\"kind\">structural</td>"));
    assert_non_null(strstr(page, "2.3 (flat)")); /* control's C1 beside the trained 0.1 */
    assert_non_null(strstr(page, "0.1 (trained)"));
    assert_non_null(strstr(page, "<td class=\"flag\">PASS<br>(learned claim passes untrained)</td>"));
    /* exactly one flag: C2 is structural and may pass untrained */
    const char *fl = strstr(page, "class=\"flag\"");
    assert_non_null(fl);
    assert_null(strstr(fl + 1, "class=\"flag\""));
    free(page);

    page = slurp(out, "kinds-untrained.html");
    assert_non_null(strstr(page, "<strong>Untrained control</strong>"));
    assert_non_null(strstr(page, "--control untrained</code>"));
    assert_non_null(strstr(page, "href=\"kinds.html\">the trained run</a>"));
    assert_non_null(strstr(page, "<td class=\"flag\">PASS<br>(learned claim passes untrained)</td>"));
    free(page);
    assert_true(check_local_refs(out, "index.html") >= 3);
    assert_true(check_local_refs(out, "kinds.html") >= 2);
    assert_true(check_local_refs(out, "kinds-untrained.html") >= 2);

    /* summary.json carries the control and each claim's kind */
    char *js = slurp(u, "summary.json");
    assert_non_null(strstr(js, "\"untrained\""));
    assert_non_null(strstr(js, "\"learned\""));
    assert_non_null(strstr(js, "structural"));
    free(js);
    tu_system("rm -rf '%s'", tmp);
}

/* A claim's long statement and measured text (one value per dataset or case, as
 * several systems write them) reach summary.json and the report whole. */
static void test_report_long_claim_text(void **state) {
    (void)state;
    const char *tmp = tu_tmpdir("report-long");
    assert_non_null(tmp);
    char dir[600], out[600];
    snprintf(dir, sizeof dir, "%s/runs/long", tmp);
    snprintf(out, sizeof out, "%s/out", tmp);
    static dl_run run;
    char err[512];
    memset(&run, 0, sizeof run);
    run.quiet = 1;
    assert_int_equal(dl_run_open(&run, "long", dir, 1, 1, 0, err, sizeof err), 0);
    snprintf(run.preset, sizeof run.preset, "quick");
    char statement[420], measured[560];
    memset(statement, 's', sizeof statement - 1);
    statement[sizeof statement - 1] = 0;
    memcpy(statement + sizeof statement - 14, "END-STATEMENT", 14);
    memset(measured, 'm', sizeof measured - 1);
    measured[sizeof measured - 1] = 0;
    memcpy(measured + sizeof measured - 13, "END-MEASURED", 13);
    dl_claim_check(&run, DL_CLAIM_LEARNED, "C1", statement, "abstract", ">= 0.8", 0.5, measured, 0);
    assert_int_equal(dl_run_close(&run), 0);
    char *summary = slurp(dir, "summary.json");
    assert_non_null(strstr(summary, statement));
    assert_non_null(strstr(summary, measured));
    free(summary);
    const char *dirs[] = {dir};
    assert_int_equal(dl_report_write(dirs, 1, out, err, sizeof err), 0);
    char *page = slurp(out, "long.html");
    assert_non_null(strstr(page, "END-STATEMENT"));
    assert_non_null(strstr(page, "END-MEASURED"));
    free(page);
}

static void test_report_bad_input(void **state) {
    (void)state;
    const char *tmp = tu_tmpdir("report-bad");
    assert_non_null(tmp);
    char empty[600], broken[600], out[600], p[700];
    snprintf(empty, sizeof empty, "%s/empty", tmp);
    snprintf(broken, sizeof broken, "%s/broken", tmp);
    snprintf(out, sizeof out, "%s/out", tmp);
    assert_int_equal(rep_mkdir_p(empty), 0);
    assert_int_equal(rep_mkdir_p(broken), 0);
    snprintf(p, sizeof p, "%s/summary.json", broken);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("{\"experiment\": ", f);
    fclose(f);

    char err[512];
    const char *d1[] = {empty};
    assert_int_equal(dl_report_write(d1, 1, out, err, sizeof err), -1);
    assert_non_null(strstr(err, "has no summary.json"));
    assert_non_null(strstr(err, empty));
    const char *d2[] = {broken};
    assert_int_equal(dl_report_write(d2, 1, out, err, sizeof err), -1);
    assert_non_null(strstr(err, "summary.json"));
    assert_int_equal(dl_report_write(d1, 0, out, err, sizeof err), -1);
    assert_int_equal(dl_report_write(d1, 1, "", err, sizeof err), -1);

    /* The command: exit 2 on usage errors, 1 with one line naming the dir. */
    const char *exe = tu_dynlab();
    assert_int_equal(tu_system("'%s' report --help >/dev/null", exe), 0);
    assert_int_equal(tu_system("'%s' report >/dev/null 2>&1", exe), 2);
    assert_int_equal(tu_system("'%s' report '%s' >/dev/null 2>&1", exe, empty), 2);
    assert_int_equal(tu_system("'%s' report '%s' --bogus -o '%s' >/dev/null 2>&1", exe, empty, out), 2);
    assert_int_equal(tu_system("'%s' report '%s' -o '%s' 2>'%s/err.txt'", exe, empty, out, tmp), 1);
    char *msg = slurp(tmp, "err.txt");
    assert_non_null(strstr(msg, "has no summary.json"));
    assert_non_null(strstr(msg, empty));
    assert_null(strchr(msg, '\n') ? strchr(strchr(msg, '\n') + 1, '\n') : NULL); /* one line */
    free(msg);
    tu_system("rm -rf '%s'", tmp);
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--fabricate")) {
        char a[1024], b[1024];
        snprintf(a, sizeof a, "%s/alpha", argv[2]);
        snprintf(b, sizeof b, "%s/beta", argv[2]);
        return fabricate(a, "alpha", 0) || fabricate(b, "beta", 1) ? 1 : 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_pages),
        cmocka_unit_test(test_report_control),
        cmocka_unit_test(test_report_long_claim_text),
        cmocka_unit_test(test_report_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
