/* Plots (src/io/plot.c): one figure of each kind is rendered by gnuplot into
 * a temporary run directory; each PNG must be a valid, decodable, non-blank
 * image. With DYNLAB_NO_GNUPLOT=1 the data and script files are still
 * written and the call succeeds. Bad file stems are refused. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dynlab/plot.h"
#include "testutil.h"

#include "io/plot_gp.h"

static dl_run *new_run(void) {
    dl_run *run = calloc(1, sizeof *run);
    const char *dir = tu_tmpdir("plot");
    assert_non_null(dir);
    snprintf(run->dir, sizeof run->dir, "%s", dir);
    snprintf(run->exp, sizeof run->exp, "plot-test");
    return run;
}

/* DYNLAB_PLOT_TEST_KEEP=1 keeps the figures for a look. */
static void free_run(dl_run *run) {
    const char *keep = getenv("DYNLAB_PLOT_TEST_KEEP");
    if (keep && strcmp(keep, "1") == 0) print_message("kept %s/plots\n", run->dir);
    else tu_system("rm -rf '%s'", run->dir);
    free(run);
}

static int file_exists(const dl_run *run, const char *name) {
    char p[1400];
    snprintf(p, sizeof p, "%s/plots/%s", run->dir, name);
    struct stat st;
    return stat(p, &st) == 0 && st.st_size > 0;
}

/* PNG signature, IHDR with a non-zero size, decodes with libpng, and the
 * pixels are not all the same (something was drawn). */
static void check_png(const dl_run *run, const char *name) {
    char p[1400];
    snprintf(p, sizeof p, "%s/plots/%s", run->dir, name);
    FILE *f = fopen(p, "rb");
    if (!f) fail_msg("missing %s", p);
    unsigned char head[24];
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    assert_int_equal(got, sizeof head);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assert_memory_equal(head, sig, 8);
    assert_memory_equal(head + 12, "IHDR", 4);
    unsigned w = (unsigned)head[16] << 24 | head[17] << 16 | head[18] << 8 | head[19];
    unsigned h = (unsigned)head[20] << 24 | head[21] << 16 | head[22] << 8 | head[23];
    assert_true(w > 0 && h > 0);

    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, p)) fail_msg("libpng cannot read %s: %s", p, img.message);
    img.format = PNG_FORMAT_GRAY;
    size_t bytes = PNG_IMAGE_SIZE(img);
    unsigned char *px = malloc(bytes);
    assert_non_null(px);
    if (!png_image_finish_read(&img, NULL, px, 0, NULL)) fail_msg("libpng cannot decode %s: %s", p, img.message);
    assert_int_equal(img.width, w);
    assert_int_equal(img.height, h);
    unsigned char lo = 255, hi = 0;
    size_t dark = 0;
    for (size_t i = 0; i < bytes; i++) {
        if (px[i] < lo) lo = px[i];
        if (px[i] > hi) hi = px[i];
        dark += px[i] < 128;
    }
    free(px);
    if (hi - lo < 64 || dark == 0 || dark == bytes) fail_msg("%s looks blank (min %d, max %d)", name, lo, hi);
}

static int have_gnuplot(void) {
    char path[1024];
    return plot_gnuplot_available(path, sizeof path);
}

#define REQUIRE_GNUPLOT()                                                        \
    do {                                                                         \
        if (!have_gnuplot()) {                                                   \
            print_message("gnuplot not found: rendering not checked\n");         \
            skip();                                                              \
        }                                                                        \
    } while (0)

static void test_lines_all_options(void **state) {
    (void)state;
    REQUIRE_GNUPLOT();
    dl_run *run = new_run();
    enum { N = 60 };
    double x[N], a[N], b[N], sd[N], ref[N];
    for (int i = 0; i < N; i++) {
        x[i] = i + 1;
        a[i] = 2.0 / (i + 1) + 0.01;
        b[i] = exp(-0.05 * i);
        sd[i] = 0.2 * b[i];
        ref[i] = 1.0 / (i + 1);
    }
    a[7] = NAN;      /* a gap */
    a[9] = INFINITY; /* never drawn */
    b[3] = -1.0;     /* invalid on a log axis: skipped */
    dl_series s[] = {
        {.name = "model A (it's \"quoted\")", .x = x, .y = a, .n = N},
        {.name = "model_B^2 mean ± std", .x = x, .y = b, .n = N, .ystd = sd},
        {.name = "slope -1", .x = x, .y = ref, .n = N, .dashed = 1},
        {.name = "empty", .x = x, .y = a, .n = 0},
    };
    double stages[] = {20, 40, NAN};
    dl_plot_opts o = {.title = "Loss vs step\nsecond line ignored",
                      .xlabel = "step",
                      .ylabel = "loss",
                      .flags = DL_PLOT_LOGX | DL_PLOT_LOGY,
                      .vlines = stages,
                      .n_vlines = 3,
                      .vline_label = "stage boundary"};
    assert_int_equal(dl_plot_lines(run, "loss_vs_step", "Loss on log axes", &o, s, 4), 0);
    check_png(run, "loss_vs_step.png");
    assert_true(file_exists(run, "loss_vs_step.svg"));
    assert_true(file_exists(run, "loss_vs_step.dat"));
    assert_true(file_exists(run, "loss_vs_step.gp"));
    assert_int_equal(run->n_plots, 1);
    assert_string_equal(run->plots[0].file, "loss_vs_step.png");
    assert_string_equal(run->plots[0].caption, "Loss on log axes");

    /* Points and linespoints, x defaulting to indices; re-plotting the same
     * stem keeps one registration. */
    dl_series p[] = {{.name = "points", .y = b, .n = N}};
    dl_plot_opts op = {.title = "points", .flags = DL_PLOT_POINTS, .ymin = 0, .ymax = 1.5};
    assert_int_equal(dl_plot_lines(run, "scatter", "points", &op, p, 1), 0);
    check_png(run, "scatter.png");
    op.flags = DL_PLOT_LINESPOINTS;
    assert_int_equal(dl_plot_lines(run, "scatter", "linespoints", &op, p, 1), 0);
    check_png(run, "scatter.png");
    assert_int_equal(run->n_plots, 2);
    assert_string_equal(run->plots[1].caption, "linespoints");

    /* Nothing finite at all still gives a (labelled) figure, not an error. */
    double nan[3] = {NAN, NAN, NAN};
    dl_series z[] = {{.name = "all NaN", .y = nan, .n = 3}};
    assert_int_equal(dl_plot_lines(run, "all_nan", "no data", NULL, z, 1), 0);
    check_png(run, "all_nan.png");
    free_run(run);
}

static void test_heatmaps(void **state) {
    (void)state;
    REQUIRE_GNUPLOT();
    dl_run *run = new_run();
    enum { R = 6, C = 9 };
    double m[R * C], adj[R * C];
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) {
            m[r * C + c] = sin(0.7 * r) * cos(0.4 * c);
            adj[r * C + c] = (c == r + 1);
        }
    m[5] = NAN;
    const char *rows[R] = {"q0", "q1", "it's", "q_3", "q4", "q5"};
    const char *cols[C] = {"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"};
    assert_int_equal(dl_plot_heatmap(run, "attention_layer0", "Attention of layer 0", "Attention",
                                     "key position", "query position", m, R, C, rows, cols),
                     0);
    check_png(run, "attention_layer0.png");
    assert_int_equal(dl_plot_heatmap(run, "plain", "No labels", NULL, NULL, NULL, adj, R, C, NULL, NULL), 0);
    check_png(run, "plain.png");

    const double *ms[] = {m, adj, m};
    const char *titles[] = {"head 0", "true adjacency", "head 1"};
    assert_int_equal(dl_plot_heatmaps(run, "heads_vs_adjacency", "Per-head attention beside the graph",
                                      titles, ms, 3, R, C),
                     0);
    check_png(run, "heads_vs_adjacency.png");
    assert_true(file_exists(run, "heads_vs_adjacency.svg"));
    assert_int_equal(tu_system("test $(grep -o 'image-rendering:pixelated' '%s/plots/heads_vs_adjacency.svg' | wc -l) -eq 3",
                               run->dir),
                     0); /* crisp cells in the SVG too */
    /* Options: fixed range, cell values, diverging palette, shared range. */
    dl_heatmap_opts ho = {.title = "routing", .xlabel = "expert", .ylabel = "token type", .vmin = 0, .vmax = 1,
                          .annotate = 1, .col_labels = cols};
    assert_int_equal(dl_plot_heatmap_ex(run, "routing", "Routing with values", &ho, adj, R, C), 0);
    check_png(run, "routing.png");
    dl_heatmap_opts dv = {.palette = "diverging", .annotate = 1};
    assert_int_equal(dl_plot_heatmap_ex(run, "signed_weights", "Diverging", &dv, m, R, C), 0);
    check_png(run, "signed_weights.png");
    dl_heatmap_opts sh = {.title = "shared colour range", .shared_range = 1, .palette = "gray"};
    assert_int_equal(dl_plot_heatmaps_ex(run, "shared", "Shared range", &sh, titles, ms, 3, R, C), 0);
    check_png(run, "shared.png");
    char gp[1400];
    snprintf(gp, sizeof gp, "%s/plots/shared.gp", run->dir);
    assert_int_equal(tu_system("test $(grep -c 'set cbrange \\[-0.9' '%s') -eq 6", gp), 0); /* 3 panels x 2 terminals */
    /* A constant matrix must not break the colour range. */
    double k[4] = {1, 1, 1, 1};
    const double *ks[] = {k, k, k, k, k};
    assert_int_equal(dl_plot_heatmaps(run, "constant", "constant", NULL, ks, 5, 2, 2), 0);
    check_png(run, "constant.png");
    free_run(run);
}

static void test_bars(void **state) {
    (void)state;
    REQUIRE_GNUPLOT();
    dl_run *run = new_run();
    const char *labels[] = {"full", "no MLP", "no attention", "frozen V"};
    const char *series[] = {"seed mean", "best"};
    double v[] = {0.91, 0.55, 0.12, NAN, 0.95, 0.60, 0.20, 0.7};
    assert_int_equal(dl_plot_bars(run, "ablation_accuracy", "Ablations", "Accuracy by ablation", "accuracy",
                                  labels, 4, series, v, 2),
                     0);
    check_png(run, "ablation_accuracy.png");
    double neg[] = {-1, 2, -3};
    assert_int_equal(dl_plot_bars(run, "signed", "signed", NULL, NULL, NULL, 3, NULL, neg, 1), 0);
    check_png(run, "signed.png");
    /* error bars: a fourth data column and a yerrorbars layer per series */
    double e[] = {0.02, 0.05, 0.01, 0.0, 0.03, 0.04, 0.02, 0.1};
    assert_int_equal(dl_plot_bars_err(run, "ablation_err", "Ablations +- SE", "with error bars", "accuracy", labels, 4,
                                      series, v, e, 2),
                     0);
    check_png(run, "ablation_err.png");
    char p[1400];
    snprintf(p, sizeof p, "%s/plots/ablation_err", run->dir);
    assert_int_equal(tu_system("grep -q 'yerrorbars' '%s.gp' && grep -q ' 1 0.05$' '%s.dat'", p, p), 0);
    free_run(run);
}

static void test_image_grid(void **state) {
    (void)state;
    REQUIRE_GNUPLOT();
    dl_run *run = new_run();
    enum { N = 6, H = 28, W = 28 };
    double *img = malloc(sizeof(double) * N * H * W);
    for (int i = 0; i < N; i++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                double dx = x - 14 + i, dy = y - 14;
                img[(i * H + y) * W + x] = exp(-(dx * dx + dy * dy) / (20.0 + 10 * i));
            }
    img[5] = NAN;
    double boxes[] = {4, 4, 20, 20, 0, 0, 28, 28, 10, 2, 18, 9};
    int nb[N] = {1, 0, 2, 0, 0, 0};
    assert_int_equal(dl_plot_image_grid(run, "samples", "Samples with detections", img, N, H, W, 3, boxes, nb),
                     0);
    check_png(run, "samples.png");
    assert_int_equal(dl_plot_image_grid(run, "samples_auto_cols", "auto", img, N, H, W, 0, NULL, NULL), 0);
    check_png(run, "samples_auto_cols.png");
    free(img);
    free_run(run);
}

static void test_without_gnuplot(void **state) {
    (void)state;
    dl_run *run = new_run();
    setenv("DYNLAB_NO_GNUPLOT", "1", 1);
    double y[] = {3, 2, 1};
    dl_series s[] = {{.name = "y", .y = y, .n = 3}};
    assert_int_equal(dl_plot_lines(run, "curve", "curve", NULL, s, 1), 0);
    double m[] = {1, 2, 3, 4};
    assert_int_equal(dl_plot_heatmap(run, "map", "map", NULL, NULL, NULL, m, 2, 2, NULL, NULL), 0);
    const double *ms[] = {m, m};
    assert_int_equal(dl_plot_heatmaps(run, "maps", "maps", NULL, ms, 2, 2, 2), 0);
    assert_int_equal(dl_plot_bars(run, "bars", "bars", NULL, NULL, NULL, 4, NULL, m, 1), 0);
    assert_int_equal(dl_plot_image_grid(run, "grid", "grid", m, 1, 2, 2, 1, NULL, NULL), 0);
    const char *stems[] = {"curve", "map", "maps", "bars", "grid"};
    for (int i = 0; i < 5; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.dat", stems[i]);
        assert_true(file_exists(run, name));
        snprintf(name, sizeof name, "%s.gp", stems[i]);
        assert_true(file_exists(run, name));
        snprintf(name, sizeof name, "%s.png", stems[i]);
        assert_false(file_exists(run, name));
    }
    assert_int_equal(run->n_plots, 0); /* nothing rendered, nothing listed */
    unsetenv("DYNLAB_NO_GNUPLOT");
    free_run(run);
}

/* A gnuplot that fails makes the call fail (-1) with its complaint; one
 * that cannot be found counts as missing (0). */
static void test_gnuplot_failure_reported(void **state) {
    (void)state;
    dl_run *run = new_run();
    char fake[1200];
    snprintf(fake, sizeof fake, "%s/fake-gnuplot", run->dir);
    assert_int_equal(tu_system("printf '#!/bin/sh\\necho \\\"x.gp\\\" line 3: boom >&2\\nexit 1\\n' > '%s' && chmod +x '%s'",
                               fake, fake), 0);
    setenv("DYNLAB_GNUPLOT", fake, 1);
    double y[] = {1, 2};
    dl_series s[] = {{.name = "y", .y = y, .n = 2}};
    assert_int_equal(dl_plot_lines(run, "fails", "c", NULL, s, 1), -1);
    assert_int_equal(run->n_plots, 0);
    setenv("DYNLAB_GNUPLOT", "/nonexistent/gnuplot", 1);
    assert_int_equal(dl_plot_lines(run, "missing", "c", NULL, s, 1), 0);
    assert_true(file_exists(run, "missing.dat"));
    unsetenv("DYNLAB_GNUPLOT");
    free_run(run);
}

static void test_bad_stems_refused(void **state) {
    (void)state;
    dl_run *run = new_run();
    double y[] = {1, 2};
    dl_series s[] = {{.name = "y", .y = y, .n = 2}};
    const char *bad[] = {"", "../escape", "a b", "x';system('touch pwned')'", ".hidden", "-dash", "a/b", NULL};
    for (int i = 0; bad[i]; i++) assert_int_equal(dl_plot_lines(run, bad[i], "c", NULL, s, 1), -1);
    assert_int_equal(dl_plot_lines(run, NULL, "c", NULL, s, 1), -1);
    assert_int_equal(dl_plot_heatmap(run, "m", "c", NULL, NULL, NULL, NULL, 2, 2, NULL, NULL), -1);
    assert_int_equal(tu_system("test -e '%s/../escape.dat' || test -e pwned", run->dir), 1);
    free_run(run);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_all_options), cmocka_unit_test(test_heatmaps),
        cmocka_unit_test(test_bars),              cmocka_unit_test(test_image_grid),
        cmocka_unit_test(test_without_gnuplot),   cmocka_unit_test(test_bad_stems_refused),
        cmocka_unit_test(test_gnuplot_failure_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
