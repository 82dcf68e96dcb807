/* Checkpoints refuse non-finite values both ways: saving a parameter or
 * optimizer state holding NaN/inf fails naming the tensor and leaves the
 * previous checkpoint byte-identical (a diverged model never replaces the last
 * good one); loading such a file fails naming the tensor and changes nothing.
 * The end-to-end CLI side (gpt --resume) is in test_nan.sh. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "dynlab/checkpoint.h"

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

typedef struct {
    float w[6], wg[6];
    dl_tensor tw;
    dl_tensor *items[1];
    dl_params ps;
} model;

static void model_init(model *m, float base) {
    memset(m, 0, sizeof *m);
    for (int i = 0; i < 6; i++) m->w[i] = base + (float)i;
    m->tw = (dl_tensor){.data = m->w, .grad = m->wg, .size = 6, .ndim = 2, .shape = {2, 3},
                        .requires_grad = 1, .is_param = 1, .name = "lin.weight"};
    m->items[0] = &m->tw;
    m->ps = (dl_params){.items = m->items, .n = 1, .cap = 1};
}

static void one_step(model *m, dl_optim *o) {
    for (int i = 0; i < 6; i++) m->wg[i] = m->w[i];
    dl_optim_step(o, 0.01f);
}

static void test_save_refuses_non_finite(void **st) {
    (void)st;
    char path[600], err[512] = "";
    snprintf(path, sizeof path, "%s/ckpt.safetensors", tu_tmpdir("ckfin"));
    model a;
    model_init(&a, 1.0f);
    dl_optim o;
    dl_optim_init(&o, &a.ps, DL_OPT_ADAMW, 0.01f);
    one_step(&a, &o);
    uint64_t rng[1] = {7};
    if (dl_checkpoint_save(path, &a.ps, &o, 1, rng, 1, err, sizeof err)) fail_msg("%s", err);
    size_t n0, n1;
    char *good = slurp(path, &n0);
    assert_non_null(good);

    float keep = a.w[4];
    a.w[4] = NAN;
    assert_int_not_equal(dl_checkpoint_save(path, &a.ps, &o, 2, rng, 1, err, sizeof err), 0);
    assert_non_null(strstr(err, "parameter 'lin.weight' holds NaN at element 4"));
    assert_non_null(strstr(err, "previous one is kept"));
    a.w[4] = keep;
    o.v[0][2] = INFINITY;
    assert_int_not_equal(dl_checkpoint_save(path, &a.ps, &o, 2, rng, 1, err, sizeof err), 0);
    assert_non_null(strstr(err, "optimizer state 'lin.weight.adam_v' holds +inf at element 2"));

    char *now = slurp(path, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(good, now, n0);
    free(good);
    free(now);
    dl_optim_free(&o);
}

static void test_load_refuses_non_finite(void **st) {
    (void)st;
    char path[600], err[512] = "";
    snprintf(path, sizeof path, "%s/ckpt.safetensors", tu_tmpdir("ckfin"));
    model a;
    model_init(&a, 1.0f);
    dl_optim o;
    dl_optim_init(&o, &a.ps, DL_OPT_ADAMW, 0.01f);
    one_step(&a, &o);
    uint64_t rng[1] = {7};
    /* Write a file with a NaN in it (as disk corruption would): save finite
     * weights, then patch the raw bytes of element 3 of lin.weight. */
    if (dl_checkpoint_save(path, &a.ps, &o, 1, rng, 1, err, sizeof err)) fail_msg("%s", err);
    size_t n;
    char *raw = slurp(path, &n);
    assert_non_null(raw);
    float want = a.w[3], nan = -NAN;
    char *hit = NULL;
    for (size_t i = 0; i + 4 <= n && !hit; i++)
        if (!memcmp(raw + i, &want, 4)) hit = raw + i;
    assert_non_null(hit);
    memcpy(hit, &nan, 4);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(raw, 1, n, f), n);
    fclose(f);
    free(raw);
    /* Valid checksum on purpose: this test is about the finiteness check
     * behind it (test_checkpoint_integrity covers the checksum). */
    assert_int_equal(tu_st_fix_crc(path), 0);

    model b;
    model_init(&b, -5.0f);
    dl_optim ob;
    dl_optim_init(&ob, &b.ps, DL_OPT_ADAMW, 0.01f);
    int64_t step = -1;
    uint64_t rng2[1] = {0};
    assert_int_not_equal(dl_checkpoint_load(path, &b.ps, &ob, &step, rng2, 1, err, sizeof err), 0);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "'lin.weight' holds NaN"));
    assert_true(b.w[0] == -5.0f && step == -1 && rng2[0] == 0); /* nothing loaded */
    dl_optim_free(&o);
    dl_optim_free(&ob);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_refuses_non_finite),
        cmocka_unit_test(test_load_refuses_non_finite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
