/* Checkpoint and file-reader integrity (docs/reliability.md):
 *  - a safetensors shape whose element count overflows int64 is refused by
 *    name, not multiplied (UBSan would abort on the overflow);
 *  - the data section's CRC-32 in __metadata__ catches random bytes;
 *  - a checkpoint must hold every tensor (optimizer state included), nothing
 *    else, and an optim.step in [0, step];
 *  - an optimizer saved before its buffers exist resumes bitwise-identically
 *    (the zero buffers written for it are what the optimizer starts from);
 *  - FIFOs and devices are refused by every reader instead of blocking or
 *    reading forever (alarm() turns a hang into a failure). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testutil.h"
#include "tiny_model.h"
#include "dynlab/checkpoint.h"
#include "dynlab/data.h"

static void spit(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* A safetensors file from a header text and n data bytes (header padded). */
static void write_raw(const char *path, const char *header, size_t n_data) {
    size_t hl = strlen(header);
    size_t pad = (8 - hl % 8) % 8;
    size_t total = 8 + hl + pad + n_data;
    unsigned char *b = calloc(total, 1);
    uint64_t L = hl + pad;
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(L >> (8 * i));
    memcpy(b + 8, header, hl);
    memset(b + 8 + hl, ' ', pad);
    spit(path, b, total);
    free(b);
}

static void expect_open_error(const char *path, const char *needle) {
    char err[512] = "";
    dl_st_file *f = dl_st_open(path, err, sizeof err);
    if (f) {
        dl_st_close(f);
        fail_msg("%s opened; expected an error containing '%s'", path, needle);
    }
    if (!strstr(err, needle)) fail_msg("error '%s' lacks '%s'", err, needle);
}

static void test_shape_overflow(void **st) {
    (void)st;
    char path[600];
    snprintf(path, sizeof path, "%s/o.safetensors", tu_tmpdir("ckint"));
    /* 2^40 x 2^40 elements: the product is 2^80. */
    write_raw(path,
              "{\"x\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],"
              "\"data_offsets\":[0,29184]}}",
              29184);
    expect_open_error(path, "more than 2^40 elements");
    /* 2^21 x 2^21 x 2^21 (each dimension small, product 2^63). */
    write_raw(path,
              "{\"x\":{\"dtype\":\"F32\",\"shape\":[2097152,2097152,2097152],\"data_offsets\":[0,4]}}",
              4);
    expect_open_error(path, "more than 2^40 elements");
    /* A tensor name with a newline: the error stays one line (fuzz_safetensors). */
    write_raw(path, "{\"x\\ny\":{\"dtype\":\"Q9\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
    {
        char e2[512] = "";
        dl_st_file *g = dl_st_open(path, e2, sizeof e2);
        assert_null(g);
        assert_non_null(strstr(e2, "unknown dtype"));
        assert_null(strchr(e2, '\n'));
    }
    /* A zero dimension first keeps the count at zero: a valid empty tensor. */
    write_raw(path, "{\"x\":{\"dtype\":\"F32\",\"shape\":[0,1099511627776,1099511627776],"
                    "\"data_offsets\":[0,0]}}", 0);
    char err[512] = "";
    dl_st_file *f = dl_st_open(path, err, sizeof err);
    if (!f) fail_msg("%s", err);
    dl_st_close(f);
}

/* ---- a two-parameter model with AdamW ----------------------------------- */

/* model, model_init, train_steps: tests/tiny_model.h */

/* A hand-built checkpoint: `skip` names a tensor to leave out, `extra` one to
 * add, optim_step the optimizer count. */
static void write_ckpt(const char *path, const model *m, int64_t step, int64_t optim_step,
                       const char *skip, const char *extra) {
    dl_st_writer *w = dl_st_writer_new();
    dl_st_add_meta(w, "format", "dynlab-checkpoint-2");
    dl_st_add_meta(w, "optimizer", "adamw");
    static const char *const names[] = {"lin.weight", "lin.bias", "lin.weight.adam_m",
                                        "lin.weight.adam_v", "lin.bias.adam_m", "lin.bias.adam_v"};
    int s6[2] = {2, 3}, s3[1] = {3};
    for (int i = 0; i < 6; i++) {
        if (skip && !strcmp(skip, names[i])) continue;
        int is_w = strncmp(names[i], "lin.weight", 10) == 0;
        dl_st_add_f32(w, names[i], is_w ? m->w : m->b, is_w ? 2 : 1, is_w ? s6 : s3);
    }
    if (extra) dl_st_add_f32(w, extra, m->b, 1, s3);
    dl_st_add_i64(w, "optim.step", &optim_step, 1);
    dl_st_add_i64(w, "step", &step, 1);
    int64_t r = 9;
    dl_st_add_i64(w, "rng_state", &r, 1);
    char err[256];
    if (dl_st_write(w, path, err, sizeof err)) fail_msg("%s", err);
    dl_st_writer_free(w);
}

static void expect_load_error(const char *path, const char *needle) {
    model b;
    model_init(&b, -3.0f);
    dl_optim o;
    dl_optim_init(&o, &b.ps, DL_OPT_ADAMW, 0.01f);
    int64_t step = -1;
    uint64_t rng[1] = {0};
    char err[512] = "";
    int rc = dl_checkpoint_load(path, &b.ps, &o, &step, rng, 1, err, sizeof err);
    if (rc == 0) fail_msg("%s loaded; expected an error containing '%s'", path, needle);
    if (!strstr(err, needle)) fail_msg("error '%s' lacks '%s'", err, needle);
    assert_true(b.w[0] == -3.0f && step == -1 && rng[0] == 0 && o.step == 0); /* untouched */
    dl_optim_free(&o);
}

static void test_checkpoint_fields(void **st) {
    (void)st;
    char path[600];
    snprintf(path, sizeof path, "%s/c.safetensors", tu_tmpdir("ckint"));
    model a;
    model_init(&a, 1.0f);
    /* The hand-built file itself is valid. */
    write_ckpt(path, &a, 5, 5, NULL, NULL);
    {
        model b;
        model_init(&b, 0.0f);
        dl_optim o;
        dl_optim_init(&o, &b.ps, DL_OPT_ADAMW, 0.01f);
        int64_t step;
        uint64_t rng[1];
        char err[512];
        if (dl_checkpoint_load(path, &b.ps, &o, &step, rng, 1, err, sizeof err)) fail_msg("%s", err);
        assert_int_equal(o.step, 5);
        dl_optim_free(&o);
    }
    write_ckpt(path, &a, 5, -5, NULL, NULL);
    expect_load_error(path, "'optim.step' is -5, outside [0, step = 5]");
    write_ckpt(path, &a, 5, (int64_t)1 << 62, NULL, NULL);
    expect_load_error(path, "'optim.step' is 4611686018427387904");
    write_ckpt(path, &a, 5, 5, "lin.bias.adam_v", NULL);
    expect_load_error(path, "optimizer state 'lin.bias.adam_v' missing");
    write_ckpt(path, &a, 5, 5, "lin.weight.adam_m", NULL);
    expect_load_error(path, "optimizer state 'lin.weight.adam_m' missing");
    write_ckpt(path, &a, 5, 5, NULL, "lin.extra");
    expect_load_error(path, "unexpected tensor 'lin.extra'");
    write_ckpt(path, &a, -1, 0, NULL, NULL);
    expect_load_error(path, "step = -1");
}

static void test_checksum(void **st) {
    (void)st;
    char path[600];
    snprintf(path, sizeof path, "%s/c.safetensors", tu_tmpdir("ckint"));
    model a;
    model_init(&a, 1.0f);
    dl_optim o;
    dl_optim_init(&o, &a.ps, DL_OPT_ADAMW, 0.01f);
    train_steps(&a, &o, 3);
    uint64_t rng[1] = {4};
    char err[512];
    if (dl_checkpoint_save(path, &a.ps, &o, 3, rng, 1, err, sizeof err)) fail_msg("%s", err);
    size_t n;
    char *raw = slurp(path, &n);
    uint64_t hl = 0;
    for (int i = 0; i < 8; i++) hl |= (uint64_t)(unsigned char)raw[i] << (8 * i);
    assert_non_null(strstr(raw + 8, "\"dynlab_crc32\":\""));
    /* Random bytes over the data section (finite floats or not): refused. */
    char *bad = malloc(n);
    unsigned s = 7;
    for (int trial = 0; trial < 50; trial++) {
        memcpy(bad, raw, n);
        size_t at = 8 + hl + (size_t)(trial * 13) % (n - 8 - hl);
        s = s * 1664525u + 1013904223u;
        bad[at] ^= (char)(1 + (s >> 24) % 255);
        spit(path, bad, n);
        expect_load_error(path, "CRC-32");
    }
    /* The checksum itself missing: refused (the key renamed in place). */
    memcpy(bad, raw, n);
    memcpy(strstr(bad + 8, "\"dynlab_crc32\""), "\"dynlab_crcXX\"", 14);
    spit(path, bad, n);
    expect_load_error(path, "no content checksum");
    /* A file of the older format (no checksum): a clear message. */
    memcpy(bad, raw, n);
    memcpy(strstr(bad + 8, "dynlab-checkpoint-2"), "dynlab-checkpoint-1", 19);
    spit(path, bad, n);
    expect_load_error(path, "older dynlab");
    /* The original loads. */
    spit(path, raw, n);
    model b;
    model_init(&b, 0.0f);
    dl_optim ob;
    dl_optim_init(&ob, &b.ps, DL_OPT_ADAMW, 0.01f);
    int64_t step;
    if (dl_checkpoint_load(path, &b.ps, &ob, &step, rng, 1, err, sizeof err)) fail_msg("%s", err);
    assert_memory_equal(a.w, b.w, sizeof a.w);
    free(bad);
    free(raw);
    dl_optim_free(&o);
    dl_optim_free(&ob);
}

/* Saved before the first step (no buffers yet): the file holds zero state
 * for every parameter, and resuming from it matches an uninterrupted run. */
static void test_resume_before_first_step(void **st) {
    (void)st;
    char path[600], err[512];
    snprintf(path, sizeof path, "%s/c.safetensors", tu_tmpdir("ckint"));
    model full, a, b;
    model_init(&full, 1.0f);
    model_init(&a, 1.0f);
    model_init(&b, -9.0f);
    dl_optim of, oa, ob;
    dl_optim_init(&of, &full.ps, DL_OPT_ADAMW, 0.01f);
    dl_optim_init(&oa, &a.ps, DL_OPT_ADAMW, 0.01f);
    dl_optim_init(&ob, &b.ps, DL_OPT_ADAMW, 0.01f);
    train_steps(&full, &of, 5);
    uint64_t rng[1] = {1};
    if (dl_checkpoint_save(path, &a.ps, &oa, 0, rng, 1, err, sizeof err)) fail_msg("%s", err);
    int64_t step;
    if (dl_checkpoint_load(path, &b.ps, &ob, &step, rng, 1, err, sizeof err)) fail_msg("%s", err);
    train_steps(&b, &ob, 5);
    assert_memory_equal(full.w, b.w, sizeof full.w);
    assert_memory_equal(full.b, b.b, sizeof full.b);
    dl_optim_free(&of);
    dl_optim_free(&oa);
    dl_optim_free(&ob);
}

/* Readers refuse FIFOs and devices at once (before the fix: blocked forever
 * on the FIFO, read /dev/zero until memory ran out). */
static void test_non_regular_files(void **st) {
    (void)st;
    char fifo[600], err[512];
    snprintf(fifo, sizeof fifo, "%s/fifo", tu_tmpdir("ckint"));
    assert_int_equal(mkfifo(fifo, 0600), 0);
    alarm(20);
    expect_open_error(fifo, "not a regular file (a FIFO)");
    expect_open_error("/dev/zero", "not a regular file (a character device)");
    dl_idx x;
    assert_int_not_equal(dl_idx_read(fifo, &x, err, sizeof err), 0);
    assert_non_null(strstr(err, "not a regular file"));
    size_t n;
    assert_null(dl_read_file(fifo, &n, err, sizeof err));
    assert_non_null(strstr(err, "not a regular file (a FIFO)"));
    assert_null(dl_read_file("/dev/zero", &n, err, sizeof err));
    assert_non_null(strstr(err, "character device"));
    alarm(0);
    /* A size limit is named in the error. */
    char big[600];
    snprintf(big, sizeof big, "%s/big", tu_tmpdir("ckint"));
    FILE *f = fopen(big, "wb");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), (3 << 20) + 1), 0);
    fclose(f);
    assert_null(dl_read_file_max(big, 3 << 20, &n, err, sizeof err));
    assert_non_null(strstr(err, "more than the 3 MiB limit"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_overflow),
        cmocka_unit_test(test_checkpoint_fields),
        cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_resume_before_first_step),
        cmocka_unit_test(test_non_regular_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
