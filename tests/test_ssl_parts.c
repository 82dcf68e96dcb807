#define _POSIX_C_SOURCE 200809L
/* ssl (arXiv 2504.04032): each augmentation on a hand-made input, the table
 * reader on good and malformed CSV files, the linear probe on separable data,
 * and the NT-Xent / KL terms at closed-form points. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "dynlab/losses.h"
#include "ssl/ssl.h"

static void test_image_augmentations(void **st)
{
    (void)st;
    float in[12], out[12];
    for (int i = 0; i < 12; i++) in[i] = (float)(i + 1); /* 3 x 4 image: rows 1..4, 5..8, 9..12 */
    ssl_aug_shift(in, out, 3, 4, 1, -1);                 /* down one, left one */
    const float shifted[12] = {0, 0, 0, 0, 2, 3, 4, 0, 6, 7, 8, 0};
    for (int i = 0; i < 12; i++) assert_true(out[i] == shifted[i]);
    ssl_aug_flip(in, out, 3, 4);
    const float flipped[12] = {4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9};
    for (int i = 0; i < 12; i++) assert_true(out[i] == flipped[i]);
    memcpy(out, in, sizeof in);
    ssl_aug_erase(out, 3, 4, 1, 1, 2, 2);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++)
            assert_true(out[y * 4 + x] == ((y >= 1 && x >= 1 && x <= 2) ? 0.f : in[y * 4 + x]));
    /* noise: zero mean, the requested std over many pixels */
    static float z[20000];
    dl_rng r;
    dl_rng_init(&r, 1, 2);
    ssl_aug_noise(z, 20000, 0.5f, &r);
    double m = 0, v = 0;
    for (int i = 0; i < 20000; i++) m += z[i] / 20000.0;
    for (int i = 0; i < 20000; i++) v += (z[i] - m) * (z[i] - m) / 20000.0;
    assert_true(fabs(m) < 0.02 && fabs(sqrt(v) - 0.5) < 0.02);
}

/* SimCLR's crop-and-resize and colour distortion on hand-made images. */
static void test_crop_and_color(void **st)
{
    (void)st;
    float in[16], out[16];
    for (int i = 0; i < 16; i++) in[i] = (float)i; /* 4 x 4 ramp: in(y, x) = 4y + x */
    ssl_aug_crop_resize(in, out, 4, 4, 0, 0, 4, 4); /* the whole image: identity */
    for (int i = 0; i < 16; i++) assert_true(fabsf(out[i] - in[i]) < 1e-6f);
    /* the 2 x 2 box at (1, 1) resized to 4 x 4: source centres 0.75 + 0.5 k clamped to [1, 2] */
    ssl_aug_crop_resize(in, out, 4, 4, 1, 1, 2, 2);
    const float src[4] = {1, 1.25f, 1.75f, 2};
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) assert_true(fabsf(out[y * 4 + x] - (4 * src[y] + src[x])) < 1e-5f);
    /* a 1 x 1 box: every output pixel is that pixel */
    ssl_aug_crop_resize(in, out, 4, 4, 2, 3, 1, 1);
    for (int i = 0; i < 16; i++) assert_true(out[i] == in[2 * 4 + 3]);
    /* colour: brightness multiplies, contrast blends with the mean, clamped to [0, 1] */
    float px[4] = {0, 0.2f, 0.4f, 0.6f};
    ssl_aug_color(px, 4, 1.5f, 1.f);
    const float b[4] = {0, 0.3f, 0.6f, 0.9f};
    for (int i = 0; i < 4; i++) assert_true(fabsf(px[i] - b[i]) < 1e-6f);
    ssl_aug_color(px, 4, 1.f, 0.5f); /* mean 0.45 */
    const float ct[4] = {0.225f, 0.375f, 0.525f, 0.675f};
    for (int i = 0; i < 4; i++) assert_true(fabsf(px[i] - ct[i]) < 1e-6f);
    float hi[2] = {0.8f, 0.9f};
    ssl_aug_color(hi, 2, 2.f, 1.f);
    assert_true(hi[0] == 1.f && hi[1] == 1.f);
    /* the full image pipeline keeps pixels in range when noise and erasing are off */
    ssl_cfg c;
    memset(&c, 0, sizeof c);
    c.img_crop_lo = 0.2; c.img_jitter_p = 1; c.img_brightness = 0.4; c.img_contrast = 0.4; c.img_flip = 0.5;
    float im[28 * 28], o2[28 * 28];
    for (int i = 0; i < 28 * 28; i++) im[i] = (float)((i * 37) % 101) / 100.f;
    dl_rng r;
    dl_rng_init(&r, 9, 9);
    for (int t = 0; t < 50; t++) {
        ssl_aug_image(&c, im, o2, 28, 28, &r);
        for (int i = 0; i < 28 * 28; i++) assert_true(o2[i] >= 0.f && o2[i] <= 1.f);
    }
}

/* k-NN accuracy, the k-NN anomaly score and the AUROC on hand-made features. */
static void test_knn_auroc(void **st)
{
    (void)st;
    /* labelled rows along three directions (scale must not matter: cosine) */
    const float tr[6 * 2] = {1, 0, 5, 0.1f, 0, 1, 0.1f, 3, -1, 0, -2, 0.2f};
    const int ytr[6] = {0, 0, 1, 1, 2, 2};
    const float te[3 * 2] = {7, 1, 0.2f, 9, -3, -0.1f};
    int yte[3] = {0, 1, 2};
    assert_true(ssl_knn_accuracy(tr, ytr, 6, te, yte, 3, 2, 3, 2) == 1.0);
    yte[2] = 0;
    assert_true(fabs(ssl_knn_accuracy(tr, ytr, 6, te, yte, 3, 2, 3, 1) - 2.0 / 3) < 1e-12);
    /* k larger than the labelled set: all 6 vote; the similarity weight breaks the 2-2-2 tie */
    yte[2] = 2;
    assert_true(ssl_knn_accuracy(tr, ytr, 6, te, yte, 3, 2, 3, 100) == 1.0);
    /* anomaly score: 1 - mean cosine of the k nearest references */
    const float ref[2 * 2] = {1, 0, 0, 1};
    const float q[2 * 2] = {2, 0, -1, 0};
    double sc[2];
    ssl_knn_score(ref, 2, q, 2, 2, 1, sc);
    assert_true(fabs(sc[0] - 0.0) < 1e-6 && fabs(sc[1] - 1.0) < 1e-6);
    ssl_knn_score(ref, 2, q, 2, 2, 2, sc);
    assert_true(fabs(sc[0] - 0.5) < 1e-6 && fabs(sc[1] - 1.5) < 1e-6);
    /* AUROC: perfect, reversed, a tie counted half, and undefined with one class */
    const double s1[4] = {0.1, 0.2, 0.8, 0.9};
    const int p1[4] = {0, 0, 1, 1}, p2[4] = {1, 1, 0, 0}, p3[4] = {0, 1, 0, 1};
    assert_true(ssl_auroc(s1, p1, 4) == 1.0);
    assert_true(ssl_auroc(s1, p2, 4) == 0.0);
    assert_true(fabs(ssl_auroc(s1, p3, 4) - 0.75) < 1e-12);
    const double s2[4] = {0.5, 0.5, 0.5, 0.9};
    assert_true(fabs(ssl_auroc(s2, p3, 4) - 0.75) < 1e-12); /* pos {0.5, 0.9} vs neg {0.5, 0.5}: (0.5 + 0.5 + 1 + 1) / 4 */
    const int none[4] = {0, 0, 0, 0};
    assert_true(isnan(ssl_auroc(s1, none, 4)));
}

static void test_table_augmentations(void **st)
{
    (void)st;
    float x[4] = {1, 2, 3, 4}, o[4] = {5, 6, 7, 8};
    ssl_aug_mix(x, o, 4, 0.75f);
    for (int j = 0; j < 4; j++) assert_true(fabsf(x[j] - (0.75f * (float)(j + 1) + 0.25f * (float)(j + 5))) < 1e-6f);
    static float big[10000];
    for (int j = 0; j < 10000; j++) big[j] = 1.f;
    dl_rng r;
    dl_rng_init(&r, 3, 4);
    ssl_aug_mask(big, 10000, 0.2f, &r);
    int zeros = 0;
    for (int j = 0; j < 10000; j++) {
        assert_true(big[j] == 0.f || big[j] == 1.f);
        zeros += big[j] == 0.f;
    }
    assert_true(zeros > 1800 && zeros < 2200);
    float y[2] = {0, 0}, sd[2] = {0, 10};
    ssl_aug_table_noise(y, sd, 2, 0.1f, &r);
    assert_true(y[0] == 0.f && y[1] != 0.f); /* jitter scales with each feature's std */
}

static int parse(const char *text, ssl_data *D, char *err)
{
    return ssl_csv_parse("t.csv", text, D, err, 256);
}

static void test_csv(void **st)
{
    (void)st;
    ssl_data D;
    char err[256];
    assert_int_equal(parse("3,2,a,b\n1.5,2,0\n-3,4e1,1\n0,0,1\n", &D, err), 0);
    assert_int_equal(D.n, 3);
    assert_int_equal(D.d, 2);
    assert_int_equal(D.n_classes, 2);
    assert_true(D.x[2] == -3.f && D.x[3] == 40.f && D.y[1] == 1);
    ssl_data_free(&D);
    assert_int_equal(parse("2,2\r\n1,2,0\r\n3,4,1\r\n", &D, err), 0); /* CRLF */
    ssl_data_free(&D);
    const char *bad[][2] = {
        {"", "line 1"},
        {"x,2\n1,2,0\n", "line 1"},
        {"3,2\n1,2,0\n3,4,1\n", "truncated"},
        {"2,2\n1,2,0\n3,x,1\n", "line 3: field 2"},
        {"2,2\n1,2,0\n3,1\n", "line 3"},
        {"2,2\n1,2,0\n3,4,1,5\n", "line 3"},
        {"2,2\n1,2,0\n3,4,0.5\n", "integer class label"},
        {"2,2\n1,2,0\n3,4,-1\n", "integer class label"},
        {"2,2\n1,nan,0\n3,4,1\n", "line 2"},
        {"2,2\n1,2,0\n3,4,1\n5,6,1\n", "more rows"},
        {"2,2\n1,2,0\n3,4,0\n", "two classes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        assert_int_equal(parse(bad[i][0], &D, err), -1);
        if (!strstr(err, bad[i][1])) fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i][1]);
        assert_null(D.x);
    }
    assert_int_equal(ssl_csv_read("/nonexistent/t.csv", &D, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/t.csv"));
    assert_int_equal(ssl_csv_read("/tmp", &D, err, sizeof err), -1);
    /* the real tables the system reads */
    const char *path = "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv";
    if (access(path, R_OK) == 0) {
        assert_int_equal(ssl_csv_read(path, &D, err, sizeof err), 0);
        assert_int_equal(D.n, 569);
        assert_int_equal(D.d, 30);
        assert_int_equal(D.n_classes, 2);
        ssl_data_free(&D);
    }
}

static void test_probe(void **st)
{
    (void)st;
    /* three separable clusters in 2-D */
    float f[60 * 2];
    int y[60];
    dl_rng r;
    dl_rng_init(&r, 5, 6);
    for (int i = 0; i < 60; i++) {
        y[i] = i % 3;
        f[2 * i] = (float)(3 * (y[i] == 1) + 0.3 * dl_rng_normal(&r));
        f[2 * i + 1] = (float)(3 * (y[i] == 2) + 0.3 * dl_rng_normal(&r));
    }
    ssl_probe p;
    ssl_probe_fit(&p, f, y, 60, 2, 3, 300);
    assert_true(ssl_probe_accuracy(&p, f, y, 60) > 0.98);
    ssl_probe_free(&p);
}

/* The loss terms the run combines, at points with closed forms. */
static void test_loss_terms(void **st)
{
    (void)st;
    dl_graph *g = dl_graph_new();
    /* NT-Xent with 2 pairs: views equal, pairs orthogonal: s_pos = 1/tau, others 0 */
    float zv[4 * 2] = {1, 0, 0, 1, 2, 0, 0, 3};
    int s[2] = {4, 2};
    const float tau = 0.5f;
    dl_tensor *nt = dl_nt_xent(g, dl_tensor_wrap(g, zv, 2, s), tau);
    double want = -log(exp(1 / tau) / (exp(1 / tau) + 2.0));
    assert_true(fabs(nt->data[0] - want) < 1e-5);
    /* KL(N(mu, e^lv) || N(0, 1)) = 0.5 sum (mu^2 + e^lv - 1 - lv) / N */
    float mu[4] = {0, 1, 2, 0}, lv[4] = {0, 0, 0, 1};
    int ks[2] = {2, 2};
    dl_tensor *kl = dl_gaussian_kl(g, dl_tensor_wrap(g, mu, 2, ks), dl_tensor_wrap(g, lv, 2, ks));
    double kw = 0.5 * ((1 + 4) + (exp(1.0) - 1 - 1)) / 2;
    assert_true(fabs(kl->data[0] - kw) < 1e-5);
    dl_graph_free(g);
}

static void test_variants(void **st)
{
    (void)st;
    assert_int_equal(ssl_variant_parse("full"), SSL_FULL);
    assert_int_equal(ssl_variant_parse("no_augmentation"), SSL_NO_AUGMENT);
    assert_int_equal(ssl_variant_parse("none"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_augmentations), cmocka_unit_test(test_table_augmentations),
        cmocka_unit_test(test_csv), cmocka_unit_test(test_probe), cmocka_unit_test(test_loss_terms),
        cmocka_unit_test(test_variants), cmocka_unit_test(test_crop_and_color),
        cmocka_unit_test(test_knn_auroc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
