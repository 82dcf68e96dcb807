/* rtdetr parts: the Hungarian matcher against brute force, box IoU/GIoU and
 * the matching cost against hand computation, the 2-D sine-cosine embedding,
 * the COCO reader on malformed files, the generator's boxes, the evaluator on
 * closed-form cases. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "dynlab/core.h"
#include "rtdetr/coco.h"
#include "rtdetr/cocoeval.h"
#include "rtdetr/fundus.h"
#include "rtdetr/hungarian.h"
#include "rtdetr/loss.h"
#include "rtdetr/model.h"

static double brute(const double *c, int n, int m, int row, unsigned used)
{
    if (row == n) return 0;
    double best = INFINITY;
    for (int j = 0; j < m; j++)
        if (!(used >> j & 1)) best = fmin(best, c[row * m + j] + brute(c, n, m, row + 1, used | 1u << j));
    return best;
}

static void test_hungarian(void **state)
{
    (void)state;
    dl_rng r;
    dl_rng_init(&r, 3, 0);
    double c[64];
    int a[8];
    for (int t = 0; t < 400; t++) {
        int n = 1 + (int)dl_rng_below(&r, 6), m = n + (int)dl_rng_below(&r, 3);
        for (int i = 0; i < n * m; i++) /* integer costs: many ties */
            c[i] = t % 2 ? (double)dl_rng_below(&r, 4) : dl_rng_normal(&r);
        double h = hungarian_assign(c, n, m, a);
        double s = 0;
        unsigned used = 0;
        for (int i = 0; i < n; i++) {
            assert_true(a[i] >= 0 && a[i] < m);
            assert_false(used >> a[i] & 1);
            used |= 1u << a[i];
            s += c[i * m + a[i]];
        }
        assert_true(fabs(s - h) < 1e-12);
        assert_true(fabs(h - brute(c, n, m, 0, 0)) < 1e-9);
    }
    assert_true(isnan(hungarian_assign(c, 3, 2, a)));
    assert_true(hungarian_assign(c, 0, 4, a) == 0);
}

static void test_boxes_and_cost(void **state)
{
    (void)state;
    float a[4] = {0.5f, 0.5f, 0.2f, 0.2f}, b[4] = {0.6f, 0.5f, 0.2f, 0.2f}, far[4] = {0.9f, 0.9f, 0.1f, 0.1f};
    /* overlap 0.1 x 0.2 = 0.02, union 0.06, enclosing 0.3 x 0.2 = 0.06 */
    assert_true(fabs(box_iou_cxcywh(a, b) - 1.0 / 3) < 1e-6);
    assert_true(fabs(box_giou_cxcywh(a, b) - 1.0 / 3) < 1e-6);
    /* disjoint: IoU 0, GIoU = -(enclosing - union) / enclosing, enclosing 0.55^2 */
    double enc = 0.55 * 0.55, uni = 0.04 + 0.01;
    assert_true(box_iou_cxcywh(a, far) == 0);
    assert_true(fabs(box_giou_cxcywh(a, far) + (enc - uni) / enc) < 1e-6);
    /* focal cost at p = sigmoid(0) = 0.5: 0.25*0.25*log 2 - 0.75*0.25*log 2 */
    float lg[2] = {0, 0};
    double cls = 0.25 * 0.25 * log(2.0) - 0.75 * 0.25 * log(2.0);
    double want = 2 * cls + 5 * 0.1 - 2 * (1.0 / 3);
    assert_true(fabs(rtdetr_match_cost(lg, 1, a, b) - want) < 1e-6);
}

static void test_sincos(void **state)
{
    (void)state;
    float xs[2] = {0, 3}, ys[2] = {0, 2}, out[2 * 16];
    rtdetr_sincos_embed(xs, ys, 2, 16, out);
    for (int k = 0; k < 4; k++) {
        double w = 1 / pow(10000.0, k / 4.0);
        assert_true(fabs(out[16 + k] - sin(3 * w)) < 1e-6);
        assert_true(fabs(out[16 + 4 + k] - cos(3 * w)) < 1e-6);
        assert_true(fabs(out[16 + 8 + k] - sin(2 * w)) < 1e-6);
        assert_true(fabs(out[16 + 12 + k] - cos(2 * w)) < 1e-6);
        assert_true(out[4 + k] == 1 && out[k] == 0);
    }
}

static int read_text(const char *dir, const char *text, char *err, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/a.json", dir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    coco_dataset ds;
    int rc = coco_read(path, &ds, err, n);
    if (rc == 0) coco_free(&ds);
    return rc;
}

static void test_coco_reader(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("rtdetr_coco");
    char err[1024];
    const char *ok = "{\"images\":[{\"id\":1,\"file_name\":\"a.png\",\"width\":10,\"height\":10}],"
                     "\"categories\":[{\"id\":3,\"name\":\"x\"}],"
                     "\"annotations\":[{\"id\":1,\"image_id\":1,\"category_id\":3,\"bbox\":[1,2,3,4]}]}";
    assert_int_equal(read_text(dir, ok, err, sizeof err), 0);
    static const struct { const char *text, *needle; } bad[] = {
        {"{\"images\": [", "not valid JSON"},
        {"[]", "top level"},
        {"{\"categories\":[],\"annotations\":[]}", "images"},
        {"{\"images\":[],\"categories\":[],\"annotations\":[]}", "no categories"},
        {"{\"images\":[{\"id\":1,\"file_name\":\"a.png\",\"width\":0,\"height\":10}],\"categories\":[{\"id\":1,\"name\":\"x\"}],\"annotations\":[]}", "width/height"},
        {"{\"images\":[{\"id\":1,\"file_name\":\"../a.png\",\"width\":5,\"height\":10}],\"categories\":[{\"id\":1,\"name\":\"x\"}],\"annotations\":[]}", "file_name"},
        {"{\"images\":[{\"id\":1,\"file_name\":\"a\",\"width\":5,\"height\":5},{\"id\":1,\"file_name\":\"b\",\"width\":5,\"height\":5}],\"categories\":[{\"id\":1,\"name\":\"x\"}],\"annotations\":[]}", "duplicate image id"},
        {"{\"images\":[{\"id\":1,\"file_name\":\"a\",\"width\":5,\"height\":5}],\"categories\":[{\"id\":1,\"name\":\"x\"}],\"annotations\":[{\"id\":1,\"image_id\":2,\"category_id\":1,\"bbox\":[0,0,1,1]}]}", "image_id"},
        {"{\"images\":[{\"id\":1,\"file_name\":\"a\",\"width\":5,\"height\":5}],\"categories\":[{\"id\":1,\"name\":\"x\"}],\"annotations\":[{\"id\":1,\"image_id\":1,\"category_id\":9,\"bbox\":[0,0,1,1]}]}", "category_id"},
        {"{\"images\":[{\"id\":1,\"file_name\":\"a\",\"width\":5,\"height\":5}],\"categories\":[{\"id\":1,\"name\":\"x\"}],\"annotations\":[{\"id\":1,\"image_id\":1,\"category_id\":1,\"bbox\":[0,0,-1,1]}]}", "bbox"},
        {"{\"images\":[{\"id\":1,\"file_name\":\"a\",\"width\":5,\"height\":5}],\"categories\":[{\"id\":1,\"name\":\"x\"}],\"annotations\":[{\"id\":1,\"image_id\":1,\"category_id\":1,\"bbox\":[0,0,1]}]}", "bbox"},
        {"{\"images\":[{\"id\":1,\"file_name\":\"a\",\"width\":5,\"height\":5}],\"categories\":[{\"id\":1,\"name\":\"x\"}],\"annotations\":[{\"id\":1,\"image_id\":1,\"category_id\":1,\"bbox\":[0,0,1,1],\"iscrowd\":2}]}", "iscrowd"},
        {"{\"images\":[{\"id\":1,\"file_name\":\"a\",\"width\":5,\"height\":5}],\"categories\":[{\"id\":1,\"name\":\"x\"}],\"annotations\":[{\"id\":0,\"image_id\":1,\"category_id\":1,\"bbox\":[0,0,1,1]}]}", "positive"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        assert_int_equal(read_text(dir, bad[i].text, err, sizeof err), -1);
        if (!strstr(err, bad[i].needle)) fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].needle);
        assert_null(strchr(err, '\n'));
    }
    coco_dataset ds;
    char path[512];
    snprintf(path, sizeof path, "%s/missing.json", dir);
    assert_int_equal(coco_read(path, &ds, err, sizeof err), -1);
    assert_non_null(strstr(err, "missing.json"));
    tu_system("rm -rf '%s'", dir);
}

static void test_generator(void **state)
{
    (void)state;
    fundus_opts o = {64, 12, 1.0, 0.02};
    uint8_t *a, *b;
    coco_dataset da, db;
    assert_int_equal(fundus_generate(&o, 6, 5, 1, &a, &da), 0);
    assert_int_equal(fundus_generate(&o, 6, 5, 1, &b, &db), 0);
    assert_memory_equal(a, b, 6 * 64 * 64 * 3); /* deterministic in (seed, stream) */
    assert_int_equal(da.n_anns, db.n_anns);
    int small = 0;
    for (int i = 0; i < da.n_anns; i++) {
        const coco_gt *g = &da.anns[i];
        assert_true(g->bbox[0] >= 0 && g->bbox[1] >= 0 && g->bbox[0] + g->bbox[2] <= 64 && g->bbox[1] + g->bbox[3] <= 64);
        assert_true(g->category_id >= 1 && g->category_id <= FUNDUS_N_CLASSES);
        small += g->bbox[2] <= 4 && g->bbox[3] <= 4;
    }
    assert_true(small > 0); /* lesions of a few pixels exist */
    free(a); free(b);
    coco_free(&da); coco_free(&db);
}

static void test_evaluator_closed_forms(void **state)
{
    (void)state;
    coco_gt g[2] = {{1, 1, 1, {0, 0, 10, 10}, 100, 0}, {2, 1, 1, {20, 20, 10, 10}, 100, 0}};
    coco_det d[3] = {{1, 1, {50, 50, 10, 10}, 0.9}, {1, 1, {0, 0, 10, 10}, 0.8}, {1, 1, {20, 20, 10, 10}, 0.7}};
    long img = 1, cat = 1;
    coco_stats st;
    /* perfect detections: AP 1 */
    assert_int_equal(coco_evaluate(g, 2, d + 1, 2, &img, 1, &cat, 1, &st), 0);
    assert_true(fabs(st.stats[0] - 1) < 1e-12 && fabs(st.stats[1] - 1) < 1e-12);
    /* one FP above both TPs: precision 1/2 at recall 1/2, 2/3 at recall 1 -> every
     * recall threshold reads 2/3 after the monotone envelope */
    assert_int_equal(coco_evaluate(g, 2, d, 3, &img, 1, &cat, 1, &st), 0);
    assert_true(fabs(st.stats[1] - 2.0 / 3) < 1e-12);
    double p, r;
    coco_precision_recall(g, 2, d, 3, 0.5, 0.75, &p, &r);
    assert_true(fabs(p - 0.5) < 1e-12 && fabs(r - 0.5) < 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hungarian),       cmocka_unit_test(test_boxes_and_cost),
        cmocka_unit_test(test_sincos),          cmocka_unit_test(test_coco_reader),
        cmocka_unit_test(test_generator),       cmocka_unit_test(test_evaluator_closed_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
