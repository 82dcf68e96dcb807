#define _POSIX_C_SOURCE 200809L
/* sentiment (arXiv 2412.10199): the CSV readers on good and malformed
 * input, risk labels and crash onsets on a hand-made price series, the
 * chronological split (no training window or label horizon reaches a later
 * part), AUROC with ties, the alert threshold, and the alert metrics. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testutil.h"
#include "sentiment/sentiment.h"

static char dir[512];

static void write_file(const char *name, const char *text) {
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int load(sent_market *mk, char *err) {
    char t[700], p[700];
    snprintf(t, sizeof t, "%s/t.csv", dir);
    snprintf(p, sizeof p, "%s/p.csv", dir);
    return sent_market_load(mk, t, p, 2, 3, 50, 0.7, 2, 0.1, err, 256);
}

static void test_readers(void **st) {
    (void)st;
    snprintf(dir, sizeof dir, "%s", tu_tmpdir("sentiment_data"));
    /* Prices fall 20% on day 3: days 1 and 2 (horizon 2) are at risk. */
    write_file("p.csv", "date,close\n2024-01-01,100\n2024-01-02,100\n2024-01-03,100\n"
                        "2024-01-04,80\n2024-01-05,80\n2024-01-06,81\n2024-01-07,82\n");
    write_file("t.csv", "date,text\n2023-12-31,Stocks RALLY today\n2024-01-01,not good\n"
                        "2024-01-01,a b c d e\n2024-01-01,dropped third post\n"
                        "2024-01-03,plunge plunge\n2024-02-01,after the last price\n");
    sent_market mk;
    char err[256] = "";
    assert_int_equal(load(&mk, err), 0);
    assert_int_equal(mk.n_days, 7);
    /* Posts before the first trading day belong to it; at most M = 2 a day. */
    assert_string_equal(mk.words[mk.tokens[0]], "stocks");
    assert_string_equal(mk.words[mk.tokens[3]], "not");
    assert_int_equal(mk.tokens[2 * 3 * 1], SENT_PAD); /* day 1 has no posts */
    assert_int_equal(mk.risk[0], 0);
    assert_int_equal(mk.risk[1], 1);
    assert_int_equal(mk.risk[2], 1);
    assert_int_equal(mk.risk[3], 0);
    assert_int_equal(mk.risk[5], -1); /* horizon runs past the data */
    assert_int_equal(mk.n_crash, 1);
    assert_int_equal(mk.crash_day[0], 3);
    assert_int_equal(mk.sent_next[0], 0); /* flat: not positive */
    assert_int_equal(mk.sent_next[4], 1);
    sent_market_free(&mk);

    const char *bad_prices[] = {"", "day,close\n2024-01-01,1\n", "date,close\n2024-01-01,abc\n2024-01-02,1\n",
                                "date,close\n2024-01-01,-5\n2024-01-02,1\n",
                                "date,close\n2024-01-02,1\n2024-01-01,1\n", "date,close\n2024-13-01,1\n",
                                "date,close\n2024-01-01,1\n"};
    for (int i = 0; i < 7; i++) {
        write_file("p.csv", bad_prices[i]);
        err[0] = 0;
        assert_int_equal(load(&mk, err), -1);
        assert_true(strlen(err) > 0);
    }
    write_file("p.csv", "date,close\n2024-01-01,100\n2024-01-02,100\n");
    write_file("t.csv", "date,text\n2024/01/01,bad date\n");
    assert_int_equal(load(&mk, err), -1);
    assert_non_null(strstr(err, "line 2"));
    write_file("t.csv", "when,what\n");
    assert_int_equal(load(&mk, err), -1);
    assert_non_null(strstr(err, "header"));
    char p[700];
    snprintf(p, sizeof p, "%s/t.csv", dir);
    unlink(p);
    assert_int_equal(mkfifo(p, 0600), 0); /* refused, not waited on */
    assert_int_equal(load(&mk, err), -1);
    tu_system("rm -rf '%s'", dir);
}

static void test_split(void **st) {
    (void)st;
    sent_market mk = {0};
    mk.n_days = 400;
    mk.risk = malloc(400);
    for (int d = 0; d < 400; d++) mk.risk[d] = d < 395 ? d % 3 == 0 : -1;
    sent_split sp;
    char err[256];
    const int W = 10, H = 5;
    assert_int_equal(sent_split_make(&mk, W, H, 0.7, 0.15, &sp, err, sizeof err), 0);
    /* Chronological, and the last training window's label horizon ends before
     * the first validation window begins (same for validation -> test). */
    for (int i = 1; i < sp.n_train; i++) assert_true(sp.train[i] > sp.train[i - 1]);
    assert_true(sp.train[0] >= W - 1);
    assert_true(sp.train[sp.n_train - 1] + H < sp.val[0] - W + 1);
    assert_true(sp.val[sp.n_val - 1] + H < sp.test[0] - W + 1);
    assert_true(sp.test[sp.n_test - 1] <= 394);
    sent_split_free(&sp);
    mk.n_days = 40;
    assert_int_equal(sent_split_make(&mk, W, H, 0.7, 0.15, &sp, err, sizeof err), -1);
    assert_non_null(strstr(err, "too few"));
    free(mk.risk);
}

static void test_metrics(void **st) {
    (void)st;
    const float s[6] = {0.9f, 0.8f, 0.8f, 0.3f, 0.2f, 0.1f};
    const signed char y[6] = {1, 1, 0, 1, 0, -1};
    /* positives 0.9, 0.8, 0.3; negatives 0.8, 0.2: pairs won 2 + 1.5 + 1 + ... */
    /* (0.9>0.8,0.9>0.2)=2, (0.8=0.8 half, 0.8>0.2)=1.5, (0.3<0.8, 0.3>0.2)=1 -> 4.5 / 6 */
    assert_true(fabs(sent_auroc(s, y, 6) - 0.75) < 1e-12);
    const signed char all1[3] = {1, 1, 1};
    assert_true(isnan(sent_auroc(s, all1, 3)));
    double fpr[8], tpr[8];
    int m = sent_roc(s, y, 6, fpr, tpr);
    assert_true(fpr[0] == 1 && tpr[0] == 1 && fpr[m - 1] == 0 && tpr[m - 1] == 0);
    /* Best F1 on these: alert at >= 0.3 gives P 3/4, R 1 -> F1 6/7. */
    assert_true(fabs(sent_choose_threshold(s, y, 6, 0, 0) - 0.3) < 1e-7);
    assert_true(fabs(sent_choose_threshold(s, y, 6, 1, 0.6) - 0.8) < 1e-7);

    /* Alerts: crash at day 10, horizon 3: days 7..9 can detect it. */
    sent_market mk = {0};
    mk.n_days = 20;
    mk.risk = calloc(20, 1);
    for (int d = 7; d <= 9; d++) mk.risk[d] = 1;
    int crash = 10;
    mk.crash_day = &crash;
    mk.n_crash = 1;
    int days[14];
    float sc[14];
    for (int i = 0; i < 14; i++) days[i] = 3 + i, sc[i] = 0.1f;
    sc[8 - 3] = 0.9f;  /* alert on day 8: lead 2 */
    sc[12 - 3] = 0.9f; /* a false alarm on day 12 */
    sent_alerts a;
    sent_alert_metrics(&mk, days, sc, 14, 0.5, 3, &a);
    assert_int_equal(a.n_detected, 1);
    assert_true(a.n_events == 1 && a.event_hit_rate == 1 && a.median_lead == 2);
    assert_true(fabs(a.hit_rate - 1.0 / 3) < 1e-12); /* 1 of the 3 risk days alerted */
    assert_true(fabs(a.precision - 0.5) < 1e-12 && fabs(a.recall - 1.0 / 3) < 1e-12);
    assert_true(fabs(a.false_alarm_rate - 1.0 / 11) < 1e-12);
    free(a.leads);
    free(mk.risk);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_readers), cmocka_unit_test(test_split),
                                       cmocka_unit_test(test_metrics)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
