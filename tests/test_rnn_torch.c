/* Sequence ops and losses against PyTorch on the same weights and inputs:
 * conv1d (padding + dilation with bias; plain without), conv1d + max over time as
 * one op (dl_conv1d_max against F.conv1d then max), max-over-time, embedding
 * bag (sum, mean, with an empty bag), the GRU layer (torch.nn.GRU), GRU cell
 * (torch.nn.GRUCell), LSTM layer (torch.nn.LSTM), and every loss: BCE with logits
 * (weighted), sigmoid focal, varifocal, L1, GIoU (centre and corner boxes),
 * NT-Xent and the Gaussian KL.
 *
 * As tests/test_nn_torch.c: random inputs go to a safetensors file,
 * tests/torch_rnn.py recomputes every case in float64 (its docstring says which
 * reference each uses), and every output and every input/parameter gradient
 * must agree to a relative error below 1e-4 (max abs difference / max abs
 * reference value). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "torch_compare.h"
#include "dynlab/checkpoint.h"
#include "dynlab/losses.h"
#include "dynlab/nn.h"
#include "dynlab/rnn.h"

#define TOL 1e-4
enum { B = 3, T = 5, I = 4, H = 6 };

typedef struct {
    const char *prefix;
    dl_params ps;
    dl_graph *g;
    dl_tensor *out;
} tcase;

static dl_rng g_r;
static tc_worst g_worst;

/* A case input "<prefix>.<name>" filled with scale * N(0, 1) (trainable or constant). */
static dl_tensor *tin(tcase *c, const char *name, int ndim, const int *shape, float scale, int trainable) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s.%s", c->prefix, name);
    dl_tensor *t = dl_param_new(&c->ps, buf, ndim, shape);
    for (int64_t i = 0; i < t->size; i++) t->data[i] = scale * (float)dl_rng_normal(&g_r);
    t->requires_grad = trainable;
    return t;
}

static void tbegin(tcase *c, const char *prefix) {
    c->prefix = prefix;
    dl_params_init(&c->ps);
    c->g = dl_graph_new();
}

/* Array outputs are reduced with sum(out * R), R a constant input. */
static void tfinish(tcase *c, dl_tensor *y) {
    c->out = y;
    dl_tensor *loss = y;
    if (y->ndim > 0) {
        dl_tensor *R = tin(c, "R", y->ndim, y->shape, 1.0f, 0);
        loss = dl_sum_all(c->g, dl_mul(c->g, y, R));
    }
    dl_params_zero_grad(&c->ps);
    dl_backward(c->g, loss);
}

static void compare(const dl_st_file *f, const char *key, const float *got, int64_t n) {
    tc_compare(f, key, got, n, 1e-6, TOL, &g_worst);
}

/* Output and the gradient of every trainable input of the case; returns the count. */
static int check_case(const dl_st_file *f, tcase *c) {
    char key[256];
    snprintf(key, sizeof key, "%s.out", c->prefix);
    compare(f, key, c->out->data, c->out->size);
    int n = 1;
    const size_t pl = strlen(c->prefix);
    for (int i = 0; i < c->ps.n; i++) {
        const dl_tensor *t = c->ps.items[i];
        if (!t->requires_grad) continue;
        snprintf(key, sizeof key, "%s.grad.%s", c->prefix, t->name + pl + 1);
        compare(f, key, t->grad, t->size);
        n++;
    }
    return n;
}

static void free_case(tcase *c) {
    dl_graph_free(c->g);
    dl_params_free(&c->ps);
}

enum { N_CASES = 18 };

static void test_match_torch(void **st) {
    (void)st;
    const char *dir = tu_tmpdir("rnntorch");
    assert_non_null(dir);
    char in_path[600], out_path[600], err[512];
    snprintf(in_path, sizeof in_path, "%s/in.safetensors", dir);
    snprintf(out_path, sizeof out_path, "%s/out.safetensors", dir);
    dl_rng_init(&g_r, 2026, 14);
    tcase cs[N_CASES];
    int nc = 0;
    dl_st_writer *w = dl_st_writer_new();

    /* conv1d: padding 1, dilation 2, bias; and padding 0, dilation 1, no bias. */
    for (int k = 0; k < 2; k++) {
        tcase *c = &cs[nc++];
        tbegin(c, k ? "conv0" : "conv");
        dl_tensor *x = tin(c, "x", 3, (int[3]){2, 9, 4}, 1.0f, 1);
        dl_tensor *wt = tin(c, "w", 3, (int[3]){5, k ? 4 : 3, 4}, 0.5f, 1);
        dl_tensor *b = k ? NULL : tin(c, "b", 1, (int[1]){5}, 0.5f, 1);
        tfinish(c, dl_conv1d(c->g, x, wt, b, k ? 0 : 1, k ? 1 : 2));
    }
    {
        tcase *c = &cs[nc++];
        tbegin(c, "convmax");
        dl_tensor *x = tin(c, "x", 3, (int[3]){20, 9, 4}, 1.0f, 1);
        dl_tensor *wt = tin(c, "w", 3, (int[3]){5, 3, 4}, 0.5f, 1), *b = tin(c, "b", 1, (int[1]){5}, 0.5f, 1);
        tfinish(c, dl_conv1d_max(c->g, x, wt, b, 1, 2));
    }
    {
        tcase *c = &cs[nc++];
        tbegin(c, "maxt");
        dl_tensor *x = tin(c, "x", 3, (int[3]){2, 6, 5}, 1.0f, 1);
        tfinish(c, dl_max_over_time(c->g, x));
    }
    static const int ids[9] = {3, 1, 1, 4, 0, 2, 6, 6, 5}, offs[4] = {0, 3, 3, 5};
    int64_t ids64[9], offs64[4];
    for (int i = 0; i < 9; i++) ids64[i] = ids[i];
    for (int i = 0; i < 4; i++) offs64[i] = offs[i];
    for (int mean = 0; mean < 2; mean++) {
        tcase *c = &cs[nc++];
        tbegin(c, mean ? "bagmean" : "bagsum");
        dl_tensor *t = tin(c, "table", 2, (int[2]){7, 3}, 1.0f, 1);
        tfinish(c, dl_embedding_bag(c->g, t, ids, 9, offs, 4, mean));
        char k1[64], k2[64];
        snprintf(k1, sizeof k1, "%s.ids", c->prefix);
        snprintf(k2, sizeof k2, "%s.offsets", c->prefix);
        dl_st_add_i64(w, k1, ids64, 9);
        dl_st_add_i64(w, k2, offs64, 4);
    }
    {
        tcase *c = &cs[nc++];
        tbegin(c, "gru");
        dl_gru_m m;
        dl_gru_init(&m, &c->ps, "gru.gru", I, H, &g_r);
        dl_tensor *x = tin(c, "x", 3, (int[3]){B, T, I}, 1.0f, 1), *h0 = tin(c, "h0", 2, (int[2]){B, H}, 0.5f, 1);
        tfinish(c, dl_gru_fwd(c->g, &m, x, h0));
    }
    {
        tcase *c = &cs[nc++];
        tbegin(c, "cell");
        dl_gru_m m;
        dl_gru_init(&m, &c->ps, "cell.cell", I, H, &g_r);
        dl_tensor *x = tin(c, "x", 2, (int[2]){B, I}, 1.0f, 1), *h = tin(c, "h", 2, (int[2]){B, H}, 0.5f, 1);
        tfinish(c, dl_gru_cell(c->g, x, h, m.w_ih, m.w_hh, m.b_ih, m.b_hh));
    }
    {
        tcase *c = &cs[nc++];
        tbegin(c, "lstm");
        dl_lstm_m m;
        dl_lstm_init(&m, &c->ps, "lstm.lstm", I, H, &g_r);
        dl_tensor *x = tin(c, "x", 3, (int[3]){B, T, I}, 1.0f, 1), *h0 = tin(c, "h0", 2, (int[2]){B, H}, 0.5f, 1);
        dl_tensor *c0 = tin(c, "c0", 2, (int[2]){B, H}, 0.5f, 1);
        tfinish(c, dl_lstm_fwd(c->g, &m, x, h0, c0));
    }
    /* ---- losses ---- */
    const int ls[2] = {4, 5};
    {
        tcase *c = &cs[nc++];
        tbegin(c, "bce");
        dl_tensor *x = tin(c, "x", 2, ls, 3.0f, 1), *y = tin(c, "y", 2, ls, 1.0f, 0), *wt = tin(c, "w", 2, ls, 1.0f, 0);
        for (int i = 0; i < 20; i++) y->data[i] = (float)dl_rng_uniform(&g_r), wt->data[i] = 0.2f + fabsf(wt->data[i]);
        tfinish(c, dl_bce_logits(c->g, x, y->data, wt->data));
    }
    {
        tcase *c = &cs[nc++];
        tbegin(c, "focal");
        dl_tensor *x = tin(c, "x", 2, ls, 2.0f, 1), *y = tin(c, "y", 2, ls, 1.0f, 0);
        for (int i = 0; i < 20; i++) y->data[i] = (float)(dl_rng_uniform(&g_r) < 0.3);
        tfinish(c, dl_sigmoid_focal_loss(c->g, x, y->data, 0.25f, 2.0f, 3.0f));
    }
    {
        tcase *c = &cs[nc++];
        tbegin(c, "vfl");
        dl_tensor *x = tin(c, "x", 2, ls, 2.0f, 1), *lab = tin(c, "label", 2, ls, 1.0f, 0);
        dl_tensor *sc = tin(c, "score", 2, ls, 1.0f, 0);
        for (int i = 0; i < 20; i++) {
            lab->data[i] = (float)(i % 5 == 2);
            sc->data[i] = lab->data[i] * (float)dl_rng_uniform(&g_r);
        }
        tfinish(c, dl_varifocal_loss(c->g, x, lab->data, sc->data, 0.75f, 2.0f, 3.0f));
    }
    {
        tcase *c = &cs[nc++];
        tbegin(c, "l1");
        dl_tensor *p = tin(c, "p", 2, ls, 1.0f, 1), *t = tin(c, "t", 2, ls, 1.0f, 1);
        tfinish(c, dl_l1_loss(c->g, p, t, 2.0f));
    }
    for (int k = 0; k < 2; k++) {
        tcase *c = &cs[nc++];
        tbegin(c, k ? "giouxy" : "giou");
        dl_tensor *p = tin(c, "p", 2, (int[2]){6, 4}, 1.0f, 1), *t = tin(c, "t", 2, (int[2]){6, 4}, 1.0f, 1);
        /* centres in [0, 1], sizes in [0.1, 0.6]; xyxy = the same boxes as corners */
        for (int pass = 0; pass < 2; pass++) {
            float *v = (pass ? t : p)->data;
            for (int i = 0; i < 6; i++) {
                float cx = (float)dl_rng_uniform(&g_r), cy = (float)dl_rng_uniform(&g_r);
                float bw = 0.1f + 0.5f * (float)dl_rng_uniform(&g_r), bh = 0.1f + 0.5f * (float)dl_rng_uniform(&g_r);
                if (pass && i < 4) cx = p->data[4 * i] * 0.9f + 0.05f, cy = p->data[4 * i + 1] * 0.9f + 0.05f;
                if (k) v[4 * i] = cx - bw / 2, v[4 * i + 1] = cy - bh / 2, v[4 * i + 2] = cx + bw / 2, v[4 * i + 3] = cy + bh / 2;
                else v[4 * i] = cx, v[4 * i + 1] = cy, v[4 * i + 2] = bw, v[4 * i + 3] = bh;
            }
        }
        tfinish(c, dl_giou_loss(c->g, p, t, k ? DL_BOX_XYXY : DL_BOX_CXCYWH, 6.0f));
    }
    {
        tcase *c = &cs[nc++];
        tbegin(c, "ntx");
        dl_tensor *z = tin(c, "z", 2, (int[2]){8, 6}, 1.0f, 1);
        tfinish(c, dl_nt_xent(c->g, z, 0.2f));
    }
    {
        tcase *c = &cs[nc++];
        tbegin(c, "kl");
        dl_tensor *mu = tin(c, "mu", 2, (int[2]){3, 4}, 1.0f, 1), *lv = tin(c, "logvar", 2, (int[2]){3, 4}, 0.5f, 1);
        tfinish(c, dl_gaussian_kl(c->g, mu, lv));
    }
    assert_true(nc <= N_CASES);
    for (int k = 0; k < nc; k++)
        for (int i = 0; i < cs[k].ps.n; i++)
            dl_st_add_f32(w, cs[k].ps.items[i]->name, cs[k].ps.items[i]->data, cs[k].ps.items[i]->ndim,
                          cs[k].ps.items[i]->shape);
    dl_st_add_meta(w, "config",
                   "{\"conv\":{\"pad\":1,\"dil\":2},\"convmax\":{\"pad\":1,\"dil\":2},\"conv0\":{\"pad\":0,\"dil\":1},\"gru\":{\"hidden\":6},"
                   "\"focal\":{\"alpha\":0.25,\"gamma\":2.0,\"norm\":3.0},"
                   "\"vfl\":{\"alpha\":0.75,\"gamma\":2.0,\"norm\":3.0},\"l1\":{\"norm\":2.0},"
                   "\"giou\":{\"format\":\"cxcywh\",\"norm\":6.0},\"giouxy\":{\"format\":\"xyxy\",\"norm\":6.0},"
                   "\"ntx\":{\"tau\":0.2}}");
    if (dl_st_write(w, in_path, err, sizeof err)) fail_msg("%s", err);
    dl_st_writer_free(w);

    int rc = tu_system("/usr/bin/python3 %s/tests/torch_rnn.py %s %s", tu_source_dir(), in_path, out_path);
    if (rc != 0) fail_msg("tests/torch_rnn.py failed (exit %d): needs Debian's python3-torch", rc);
    dl_st_file *f = dl_st_open(out_path, err, sizeof err);
    if (!f) fail_msg("%s", err);
    int n = 0;
    for (int k = 0; k < nc; k++) n += check_case(f, &cs[k]);
    /* every case: its output plus at least one gradient */
    assert_true(n >= 2 * nc);
    print_message("compared %d outputs and gradients of %d cases; worst relative error %.2e (%s), limit %g\n", n,
                  nc, g_worst.err, g_worst.key, TOL);
    dl_st_close(f);
    for (int k = 0; k < nc; k++) free_case(&cs[k]);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_match_torch)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
