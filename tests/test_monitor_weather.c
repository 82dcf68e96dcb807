/* monitor's real node (experiments/monitor/weather.c): the CSV reader on
 * written files (categories numbered alphabetically, bad input as one error
 * naming the file), the chain estimate against hand counts, the replay of a
 * threshold policy, and the shipped seattle-weather.csv when present. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "monitor/monitor.h"

static const char *write_file(const char *dir, const char *name, const char *text) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_reader(void **state) {
    (void)state;
    const char *dir = tu_tmpdir("weather");
    assert_non_null(dir);
    char names[16][24], err[512];
    int *seq = NULL, n = 0;
    /* columns in another order, CRLF line ends: sun, rain, sun, fog */
    const char *ok = write_file(dir, "ok.csv",
                                "weather,date,wind\r\nsun,2012/01/01,1\r\nrain,2012/01/02,2\r\nsun,2012/01/03,3\r\n"
                                "fog,2012/01/04,4\r\n");
    int len = mon_weather_load(ok, &seq, names, &n, err, (int)sizeof err);
    assert_int_equal(len, 4);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "fog");
    assert_string_equal(names[1], "rain");
    assert_string_equal(names[2], "sun");
    int want[4] = {2, 1, 2, 0};
    for (int t = 0; t < 4; t++) assert_int_equal(seq[t], want[t]);
    /* counts: sun->rain, rain->sun, sun->fog; add-one smoothing over 3 states */
    double P[9];
    mon_estimate_chain(seq, len, n, 1.0, P);
    assert_true(fabs(P[2 * 3 + 1] - 2.0 / 5.0) < 1e-12); /* sun -> rain: (1+1)/(2+3) */
    assert_true(fabs(P[2 * 3 + 2] - 1.0 / 5.0) < 1e-12);
    assert_true(fabs(P[0 * 3 + 0] - 1.0 / 3.0) < 1e-12); /* fog: no transition seen */
    free(seq);

    struct { const char *name, *text, *needle; } bad[] = {
        {"nocol.csv", "date,temp\n2012/01/01,3\n", "no 'date' and 'weather' columns"},
        {"short.csv", "date,weather\n2012/01/01,sun\n2012/01/02\n", ":3: expected 2 fields"},
        {"order.csv", "date,weather\n2012/01/02,sun\n2012/01/01,rain\n", "does not follow"},
        {"empty.csv", "", "is empty"},
        {"one.csv", "date,weather\n2012/01/01,sun\n", "need at least 2 days"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        const char *p = write_file(dir, bad[k].name, bad[k].text);
        assert_int_equal(mon_weather_load(p, &seq, names, &n, err, (int)sizeof err), -1);
        assert_null(seq);
        if (!strstr(err, bad[k].needle) || !strstr(err, bad[k].name)) fail_msg("%s: '%s'", bad[k].name, err);
        assert_null(strchr(err, '\n'));
    }
    char missing[1100];
    snprintf(missing, sizeof missing, "%s/missing.csv", dir);
    assert_int_equal(mon_weather_load(missing, &seq, names, &n, err, (int)sizeof err), -1);
    assert_non_null(strstr(err, "missing.csv"));
    assert_non_null(strstr(err, "python3-vega-datasets"));
    tu_system("rm -rf '%s'", dir);
}

/* Replaying "query every slot" costs c; "never query again" costs c on day
 * one plus the 0-1 losses of the model's predictions, counted by hand. */
static void test_replay(void **state) {
    (void)state;
    double P[4] = {0.9, 0.1, 0.2, 0.8};
    mon_chain ch;
    mon_model m;
    assert_int_equal(mon_chain_from_matrix(&ch, 2, P, MON_LOSS_01), 0);
    assert_int_equal(mon_model_build(&m, &ch, 1e-9, 2, 10000), 0);
    int seq[8] = {0, 0, 1, 1, 0, 0, 0, 1};
    int every[2] = {1, 1}, never[2] = {MON_TAU_INF, MON_TAU_INF};
    double q;
    assert_true(fabs(mon_replay_thresholds(&ch, &m, 0.3, every, seq, 8, &q) - 0.3) < 1e-12);
    assert_true(fabs(q - 1.0) < 1e-12);
    /* from state 0 the MAP prediction stays 0 (pi = (2/3, 1/3)): misses at t = 2, 3, 7 */
    assert_true(fabs(mon_replay_thresholds(&ch, &m, 0.3, never, seq, 8, &q) - (0.3 + 3.0) / 8.0) < 1e-12);
    assert_true(fabs(q - 1.0 / 8.0) < 1e-12);
    mon_model_free(&m);
    mon_chain_free(&ch);
}

/* The shipped file (python3-vega-datasets): 1461 days, five categories. */
static void test_seattle(void **state) {
    (void)state;
    const char *path = "/usr/lib/python3/dist-packages/vega_datasets/_data/seattle-weather.csv";
    FILE *f = fopen(path, "r");
    if (!f) skip();
    fclose(f);
    char names[16][24], err[512];
    int *seq = NULL, n = 0;
    assert_int_equal(mon_weather_load(path, &seq, names, &n, err, (int)sizeof err), 1461);
    assert_int_equal(n, 5);
    const char *want[5] = {"drizzle", "fog", "rain", "snow", "sun"};
    for (int k = 0; k < 5; k++) assert_string_equal(names[k], want[k]);
    int sun = 0;
    for (int t = 0; t < 1461; t++) sun += seq[t] == 4;
    assert_int_equal(sun, 714);
    free(seq);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_seattle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
