/* safetensors I/O and checkpoints: round trip, strict validation (truncated,
 * corrupt, bad offsets, unknown dtype: an error message, never a crash),
 * atomic replace, checkpoint save/load with optimizer state. The PyTorch side
 * (a C-written file read by Python) is covered in test_nn_torch. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "tiny_model.h"
#include "dynlab/checkpoint.h"

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spit(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void write_sample(const char *path) {
    float a[6] = {1, 2, 3, 4, 5, 6.5f}, b[3] = {-1, 0.25f, 1e-30f};
    int64_t c[2] = {7, -((int64_t)1 << 40)};
    int sa[2] = {2, 3}, sb[1] = {3};
    dl_st_writer *w = dl_st_writer_new();
    dl_st_add_meta(w, "note", "quote\" backslash\\ ok");
    dl_st_add_f32(w, "layer.weight", a, 2, sa);
    dl_st_add_f32(w, "odd \"name\"", b, 1, sb);
    dl_st_add_i64(w, "counter", c, 2);
    char err[256];
    assert_int_equal(dl_st_write(w, path, err, sizeof err), 0);
    dl_st_writer_free(w);
}

static void test_round_trip(void **st) {
    (void)st;
    char path[600];
    snprintf(path, sizeof path, "%s/a.safetensors", tu_tmpdir("st"));
    write_sample(path);
    char err[256] = "";
    dl_st_file *f = dl_st_open(path, err, sizeof err);
    if (!f) fail_msg("%s", err);
    assert_int_equal(dl_st_count(f), 3);
    int nd, sh[4];
    const float *a = dl_st_get_f32(f, "layer.weight", &nd, sh);
    assert_non_null(a);
    assert_int_equal(nd, 2);
    assert_int_equal(sh[0], 2);
    assert_int_equal(sh[1], 3);
    assert_true(a[5] == 6.5f && a[0] == 1.0f);
    const float *b = dl_st_get_f32(f, "odd \"name\"", &nd, sh);
    assert_non_null(b);
    assert_true(b[2] == 1e-30f);
    int64_t n;
    const int64_t *c = dl_st_get_i64(f, "counter", &n);
    assert_non_null(c);
    assert_int_equal(n, 2);
    assert_true(c[1] == -((int64_t)1 << 40));
    assert_null(dl_st_get_f32(f, "counter", &nd, sh)); /* wrong dtype */
    assert_null(dl_st_get_f32(f, "absent", &nd, sh));
    assert_string_equal(dl_st_meta(f, "note"), "quote\" backslash\\ ok");
    assert_null(dl_st_meta(f, "absent"));
    dl_st_close(f);
    /* Header is padded so the data starts 8-aligned. */
    size_t len;
    char *raw = slurp(path, &len);
    uint64_t hl;
    memcpy(&hl, raw, 8);
    assert_int_equal((8 + hl) % 8, 0);
    free(raw);
}

static void expect_error(const char *path, const char *want_substring) {
    char err[512] = "";
    dl_st_file *f = dl_st_open(path, err, sizeof err);
    if (f) {
        dl_st_close(f);
        fail_msg("%s: opened although corrupt", path);
    }
    assert_non_null(strstr(err, path));
    assert_null(strchr(err, '\n'));
    if (want_substring && !strstr(err, want_substring))
        fail_msg("error '%s' lacks '%s'", err, want_substring);
}

static void test_truncated_every_length(void **st) {
    (void)st;
    const char *dir = tu_tmpdir("st");
    char path[600], bad[600];
    snprintf(path, sizeof path, "%s/a.safetensors", dir);
    snprintf(bad, sizeof bad, "%s/t.safetensors", dir);
    write_sample(path);
    size_t len;
    char *raw = slurp(path, &len);
    for (size_t k = 0; k < len; k++) {
        spit(bad, raw, k);
        expect_error(bad, NULL);
    }
    spit(bad, raw, 3);
    expect_error(bad, "truncated");
    spit(bad, raw, len - 1);
    expect_error(bad, NULL);
    free(raw);
}

static void test_corrupt_headers(void **st) {
    (void)st;
    const char *dir = tu_tmpdir("st");
    char path[600];
    snprintf(path, sizeof path, "%s/c.safetensors", dir);
    struct { const char *json; size_t data; const char *want; } cases[] = {
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8, "truncated"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "bytes for"},
        {"{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "bad shape"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "outside"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "lacks"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "overlap"},
        {"[1,2,3]", 0, "not a JSON object"},
        {"{\"a\":", 0, "not a JSON object"},
        {"{\"__metadata__\":{\"k\":3}}", 0, "not a string"},
        /* a second __metadata__ (here a key with an embedded NUL, found by the fuzzer) */
        {"{\"__metadata__\":{\"k\":\"v\"},\"__metadata__\\u0000x\":{\"k\":3}}", 0, "duplicate __metadata__"},
        {"{\"__metadata__\":{\"k\":\"v\"},\"__metadata__\":{\"j\":\"w\"}}", 0, "duplicate __metadata__"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t hl = strlen(cases[i].json);
        size_t len = 8 + hl + cases[i].data;
        unsigned char *buf = calloc(1, len);
        for (int b = 0; b < 8; b++) buf[b] = (unsigned char)((uint64_t)hl >> (8 * b));
        memcpy(buf + 8, cases[i].json, hl);
        spit(path, buf, len);
        expect_error(path, cases[i].want);
        free(buf);
    }
    /* Header length beyond the file. */
    unsigned char big[16] = {0xff, 0xff, 0, 0, 0, 0, 0, 0, '{', '}'};
    spit(path, big, sizeof big);
    expect_error(path, "beyond the file size");
    expect_error("/nonexistent/dir/x.safetensors", "cannot open");
}

/* Random byte flips: each result either opens (flip in a float) or fails with
 * an error; never a crash (ASan build checks memory safety). */
static void test_random_corruption(void **st) {
    (void)st;
    const char *dir = tu_tmpdir("st");
    char path[600], bad[600];
    snprintf(path, sizeof path, "%s/a.safetensors", dir);
    snprintf(bad, sizeof bad, "%s/r.safetensors", dir);
    write_sample(path);
    size_t len;
    char *raw = slurp(path, &len);
    unsigned s = 99;
    for (int trial = 0; trial < 400; trial++) {
        char *c = malloc(len);
        memcpy(c, raw, len);
        for (int k = 0; k < 1 + trial % 3; k++) {
            s = s * 1664525u + 1013904223u;
            c[(s >> 8) % len] ^= (char)(1u << ((s >> 4) % 8));
        }
        spit(bad, c, len);
        char err[512];
        dl_st_file *f = dl_st_open(bad, err, sizeof err);
        if (f) dl_st_close(f);
        free(c);
    }
    free(raw);
}

static void test_atomic_failure_keeps_old(void **st) {
    (void)st;
    char err[256] = "";
    float x[1] = {1};
    int s1[1] = {1};
    dl_st_writer *w = dl_st_writer_new();
    dl_st_add_f32(w, "x", x, 1, s1);
    assert_int_not_equal(dl_st_write(w, "/nonexistent/dir/x.safetensors", err, sizeof err), 0);
    assert_non_null(strstr(err, "/nonexistent/dir/x.safetensors"));
    dl_st_writer_free(w);
}

/* ---- checkpoints -------------------------------------------------------- */

/* model, model_init, train_steps: tests/tiny_model.h */

static void test_checkpoint_resume_exact(void **st) {
    (void)st;
    char path[600];
    snprintf(path, sizeof path, "%s/ckpt.safetensors", tu_tmpdir("ck"));
    char err[512] = "";
    /* Uninterrupted: 10 steps. */
    model full;
    model_init(&full, 1.0f);
    dl_optim of;
    dl_optim_init(&of, &full.ps, DL_OPT_ADAMW, 0.01f);
    train_steps(&full, &of, 10);
    /* Interrupted: 4 steps, save, load into a fresh model, 6 more. */
    model a;
    model_init(&a, 1.0f);
    dl_optim oa;
    dl_optim_init(&oa, &a.ps, DL_OPT_ADAMW, 0.01f);
    train_steps(&a, &oa, 4);
    uint64_t rng[3] = {1, 0xffffffffffffffffull, 42};
    if (dl_checkpoint_save(path, &a.ps, &oa, 4, rng, 3, err, sizeof err)) fail_msg("%s", err);
    model b;
    model_init(&b, -7.0f);
    dl_optim ob;
    dl_optim_init(&ob, &b.ps, DL_OPT_ADAMW, 0.01f);
    int64_t step = -1;
    uint64_t rng2[3] = {0};
    if (dl_checkpoint_load(path, &b.ps, &ob, &step, rng2, 3, err, sizeof err)) fail_msg("%s", err);
    assert_int_equal(step, 4);
    assert_int_equal(ob.step, 4);
    assert_memory_equal(rng, rng2, sizeof rng);
    train_steps(&b, &ob, 6);
    assert_memory_equal(full.w, b.w, sizeof full.w);
    assert_memory_equal(full.b, b.b, sizeof full.b);
    dl_optim_free(&of);
    dl_optim_free(&oa);
    dl_optim_free(&ob);
}

static void test_checkpoint_mismatch(void **st) {
    (void)st;
    char path[600];
    const char *dir = tu_tmpdir("ck");
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
    char err[512] = "";
    model a;
    model_init(&a, 1.0f);
    dl_optim oa;
    dl_optim_init(&oa, &a.ps, DL_OPT_SGD, 0.01f);
    oa.momentum = 0.9f;
    train_steps(&a, &oa, 2);
    uint64_t rng[1] = {5};
    if (dl_checkpoint_save(path, &a.ps, &oa, 2, rng, 1, err, sizeof err)) fail_msg("%s", err);

    /* Wrong optimizer kind. */
    model b;
    model_init(&b, 3.0f);
    dl_optim ob;
    dl_optim_init(&ob, &b.ps, DL_OPT_ADAM, 0.01f);
    int64_t step;
    assert_int_not_equal(dl_checkpoint_load(path, &b.ps, &ob, &step, rng, 1, err, sizeof err), 0);
    assert_non_null(strstr(err, "optimizer"));
    assert_true(b.w[0] == 3.0f); /* untouched */
    /* Wrong shape. */
    b.tw.shape[0] = 3;
    b.tw.shape[1] = 2;
    dl_optim_free(&ob);
    dl_optim_init(&ob, &b.ps, DL_OPT_SGD, 0.01f);
    assert_int_not_equal(dl_checkpoint_load(path, &b.ps, &ob, &step, rng, 1, err, sizeof err), 0);
    assert_non_null(strstr(err, "shape"));
    assert_true(b.w[0] == 3.0f);
    b.tw.shape[0] = 2;
    b.tw.shape[1] = 3;
    /* Wrong rng length. */
    uint64_t r2[2];
    assert_int_not_equal(dl_checkpoint_load(path, &b.ps, &ob, &step, r2, 2, err, sizeof err), 0);
    assert_non_null(strstr(err, "rng_state"));
    /* Truncated checkpoint: error, nothing loaded. */
    size_t len;
    char *raw = slurp(path, &len);
    spit(path, raw, len / 2);
    assert_int_not_equal(dl_checkpoint_load(path, &b.ps, &ob, &step, rng, 1, err, sizeof err), 0);
    assert_true(b.w[0] == 3.0f);
    /* Correct file loads, including the momentum buffers. */
    spit(path, raw, len);
    if (dl_checkpoint_load(path, &b.ps, &ob, &step, rng, 1, err, sizeof err)) fail_msg("%s", err);
    assert_memory_equal(a.w, b.w, sizeof a.w);
    assert_memory_equal(oa.m[0], ob.m[0], sizeof a.w);
    free(raw);
    dl_optim_free(&oa);
    dl_optim_free(&ob);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_corrupt_headers),
        cmocka_unit_test(test_random_corruption),
        cmocka_unit_test(test_atomic_failure_keeps_old),
        cmocka_unit_test(test_checkpoint_resume_exact),
        cmocka_unit_test(test_checkpoint_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
