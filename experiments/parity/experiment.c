/* System `parity`: a one-layer transformer learns even pairs directly and parity
 * check through chain of thought (arXiv 2505.00926, Huang, Liang, Yang, ICML 2025;
 * reconstruction: docs/papers/parity.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynlab/experiment.h"
#include "parity/parity.h"

typedef struct pa_cfg {
    int train_min, train_max, test_min, test_max, train_n, test_per_len, complement;
    char pos[DL_STR_MAX];
    int max_pos, layernorm, mlp_hidden;
    double init_std;
    int steps, phase1_steps, freeze2, log_points;
    double lr_attn, lr_linear;
    int svm_sweeps;
    double svm_tol;
    char cot_form[DL_STR_MAX];
    int cot_train_n, cot_steps, nocot_train_n, nocot_steps;
} pa_cfg;

static const dl_field pa_fields[] = {
    DL_FIELD_INT(pa_cfg, train_min, "data.train_min_len", 1, 1, PA_MAX_LEN - 1,
                 "shortest training sequence (length 1: zero pairs, label +1)"),
    DL_FIELD_INT(pa_cfg, train_max, "data.train_max_len", 10, 1, PA_MAX_LEN - 1,
                 "longest training sequence"),
    DL_FIELD_INT(pa_cfg, test_min, "data.test_min_len", 11, 1, PA_MAX_LEN - 1,
                 "shortest held-out test length (claims use lengths test_min..test_max)"),
    DL_FIELD_INT(pa_cfg, test_max, "data.test_max_len", 20, 1, PA_MAX_LEN - 1,
                 "longest held-out test length"),
    DL_FIELD_INT(pa_cfg, train_n, "data.train_n", 256, 2, 1000000,
                 "training sequences (even pairs; full batch)"),
    DL_FIELD_INT(pa_cfg, test_per_len, "data.test_per_len", 100, 1, 100000,
                 "test sequences per length 1..test_max (accuracy-vs-length curve)"),
    DL_FIELD_BOOL(pa_cfg, complement, "data.complement", 1,
                  "add the a<->b complement of every training sequence (swap-symmetric set)"),
    DL_FIELD_ENUM(pa_cfg, pos, "model.pos", "first", "onehot|first",
                  "position embedding: one-hot per position, or only a first-position flag"),
    DL_FIELD_INT(pa_cfg, max_pos, "model.max_pos", 0, 0, PA_MAX_LEN,
                 "positions with an embedding (0 = longest sequence used)"),
    DL_FIELD_DOUBLE(pa_cfg, init_std, "model.init_std", 0, 0, 10,
                    "std of the Gaussian init of W and u (0 = zero init)"),
    DL_FIELD_BOOL(pa_cfg, layernorm, "model.layernorm", 0,
                  "layernorm on the attention output (not in the paper's model)"),
    DL_FIELD_INT(pa_cfg, mlp_hidden, "model.mlp_hidden", 0, 0, 4096,
                 "ReLU MLP width before the readout (0 = none, as in the paper)"),
    DL_FIELD_INT(pa_cfg, steps, "train.steps", 20000, 1, 100000000, "GD steps (even pairs)"),
    DL_FIELD_DOUBLE(pa_cfg, lr_attn, "train.lr_attn", 1, 0, 1e6, "constant step size of W"),
    DL_FIELD_DOUBLE(pa_cfg, lr_linear, "train.lr_linear", 4, 0, 1e6, "constant step size of u"),
    DL_FIELD_INT(pa_cfg, phase1_steps, "train.phase1_steps", 2000, 1, 100000000,
                 "end of phase one: attention outputs frozen here for the SVM; phase two after"),
    DL_FIELD_BOOL(pa_cfg, freeze2, "train.freeze_attn_phase2", 0,
                  "stop training W in phase two (default: joint training throughout)"),
    DL_FIELD_INT(pa_cfg, log_points, "log.points", 80, 2, 100000,
                 "metrics rows, evenly spaced in log t"),
    DL_FIELD_INT(pa_cfg, svm_sweeps, "svm.sweeps", 20000, 1, 100000000,
                 "dual coordinate-ascent sweeps of the SVM solver"),
    DL_FIELD_DOUBLE(pa_cfg, svm_tol, "svm.tol", 1e-7, 0, 1, "KKT tolerance of the SVM solver"),
    DL_FIELD_ENUM(pa_cfg, cot_form, "cot.form", "prefix", "prefix|pair",
                  "CoT step sequence: (z_{k-1}, w_1..w_k) or (z_{k-1}, w_k)"),
    DL_FIELD_INT(pa_cfg, cot_train_n, "cot.train_n", 64, 1, 1000000,
                 "base sequences of the CoT-trained model (every step is an example)"),
    DL_FIELD_INT(pa_cfg, cot_steps, "cot.steps", 3000, 1, 100000000,
                 "GD steps of the CoT-trained model"),
    DL_FIELD_INT(pa_cfg, nocot_train_n, "nocot.train_n", 256, 2, 1000000,
                 "training sequences of the no-CoT parity baseline"),
    DL_FIELD_INT(pa_cfg, nocot_steps, "nocot.steps", 3000, 1, 100000000,
                 "GD steps of the no-CoT parity baseline"),
};
static const dl_config_schema pa_schema = {pa_fields, sizeof pa_fields / sizeof pa_fields[0],
                                           sizeof(pa_cfg)};

static const dl_preset pa_presets[] = {
    {"quick", "{}"},
    {"paper", "{\"data\": {\"train_max_len\": 16, \"test_min_len\": 17, \"test_max_len\": 32,"
              " \"train_n\": 1024}, \"train\": {\"steps\": 100000, \"phase1_steps\": 2000},"
              " \"cot\": {\"train_n\": 256, \"steps\": 10000}, \"nocot\": {\"train_n\": 1024,"
              " \"steps\": 10000}, \"log\": {\"points\": 120}}"},
    {NULL, NULL}};

/* Constraints between knobs: a configuration error (exit 2) before the run. */
int dl_check_parity(const void *vc, char *err, size_t errlen) {
    const pa_cfg *c = vc;
    if (c->train_min > c->train_max)
        snprintf(err, errlen, "data.train_min_len=%d exceeds data.train_max_len=%d", c->train_min,
                 c->train_max);
    else if (c->test_min > c->test_max)
        snprintf(err, errlen, "data.test_min_len=%d exceeds data.test_max_len=%d", c->test_min,
                 c->test_max);
    else if (c->phase1_steps >= c->steps)
        snprintf(err, errlen, "train.phase1_steps=%d must be below train.steps=%d", c->phase1_steps,
                 c->steps);
    else
        return 0;
    return -1;
}

static int check_cfg(const pa_cfg *c, dl_run *run) {
    char err[256];
    if (dl_check_parity(c, err, sizeof err)) {
        dl_log(run, "error: %s", err);
        return -1;
    }
    if (c->test_min <= c->train_max)
        dl_log(run, "warning: held-out lengths start at %d, not beyond the training lengths (<= %d)",
               c->test_min, c->train_max);
    int need = c->test_max + 1;
    if (c->max_pos && strcmp(c->pos, "onehot") == 0 && c->max_pos < need)
        dl_log(run, "note: model.max_pos=%d < %d: later positions get no position embedding",
               c->max_pos, need);
    return 0;
}

/* Test sequences: test_per_len per length 1..test_max, labelled for `task`. */
static int make_test(pa_set *s, const pa_cfg *c, int task, uint64_t seed) {
    dl_rng r;
    dl_rng_init(&r, seed, 50);
    if (pa_set_alloc(s, c->test_per_len * c->test_max, c->test_max)) return -1;
    int i = 0;
    for (int L = 1; L <= c->test_max; L++)
        for (int j = 0; j < c->test_per_len; j++, i++) {
            uint8_t *row = s->sym + (size_t)i * c->test_max;
            s->len[i] = L;
            for (int t = 0; t < L; t++) row[t] = (uint8_t)dl_rng_below(&r, 2);
            s->y[i] = task == PA_TASK_EVEN_PAIRS ? pa_label_even_pairs(row, L)
                                                 : pa_label_parity(row, L);
        }
    return 0;
}

/* Mean of per-length accuracies over the held-out lengths. */
static double heldout(const double *acc_len, const pa_cfg *c) {
    double s = 0;
    int n = 0;
    for (int L = c->test_min; L <= c->test_max; L++)
        if (!isnan(acc_len[L])) {
            s += acc_len[L];
            n++;
        }
    return n ? s / n : NAN;
}

static void log_train(dl_run *run, const char *name, const pa_train_out *o) {
    const pa_history *h = &o->h;
    if (!h->n) return;
    dl_log(run, "%s: %d logged steps in %.2f s; final loss %.4g, train acc %.4f, |W| %.4g, |u| %.4g",
           name, (int)h->col[PA_H_STEP][h->n - 1], o->seconds, h->col[PA_H_LOSS][h->n - 1],
           h->col[PA_H_ACC][h->n - 1], h->col[PA_H_NORM_W][h->n - 1], h->col[PA_H_NORM_U][h->n - 1]);
}

static int pa_run(const void *vcfg, dl_run *run) {
    const pa_cfg *c = vcfg;
    if (check_cfg(c, run)) return 1;
    int rc = 1, form = strcmp(c->cot_form, "pair") == 0 ? PA_COT_PAIR : PA_COT_PREFIX;
    pa_results *res = calloc(1, sizeof *res);
    pa_set tr_ep = {0}, tr_base = {0}, tr_cot = {0}, tr_par = {0}, te_ep = {0}, te_par = {0};
    pa_model mep = {0}, mcot = {0}, mnc = {0};
    if (!res) return 1;
    res->phase1_steps = c->phase1_steps;
    res->train_max_len = c->train_max;
    res->test_min_len = c->test_min;
    res->test_max_len = c->test_max;
    pa_model_cfg mc = {strcmp(c->pos, "first") == 0 ? PA_POS_FIRST : PA_POS_ONEHOT,
                       c->max_pos ? c->max_pos : c->test_max + 1, c->init_std, c->layernorm,
                       c->mlp_hidden};
    dl_rng r;
    dl_rng_init(&r, run->seed, 1);
    if (pa_set_random(&tr_ep, c->train_n, c->train_min, c->train_max, PA_TASK_EVEN_PAIRS,
                      c->complement, &r))
        goto oom;
    dl_rng_init(&r, run->seed, 2);
    if (pa_set_random(&tr_base, c->cot_train_n, c->train_min, c->train_max, PA_TASK_PARITY,
                      c->complement, &r) ||
        pa_set_cot(&tr_cot, &tr_base, form, c->complement))
        goto oom;
    dl_rng_init(&r, run->seed, 3);
    if (pa_set_random(&tr_par, c->nocot_train_n, c->train_min, c->train_max, PA_TASK_PARITY,
                      c->complement, &r))
        goto oom;
    if (make_test(&te_ep, c, PA_TASK_EVEN_PAIRS, run->seed) ||
        make_test(&te_par, c, PA_TASK_PARITY, run->seed))
        goto oom;
    double t0 = dl_now();
    /* The untrained control: both step sizes zero in every training run. */
    const int untrained = dl_run_untrained(run);
    const double lr_attn = untrained ? 0 : c->lr_attn, lr_linear = untrained ? 0 : c->lr_linear;
    res->pos_first = mc.pos == PA_POS_FIRST;

    /* 1. Even pairs, with the two-phase / max-margin measurements. */
    if (pa_model_init(&mep, &mc, run->seed, 10)) goto oom;
    pa_train_cfg tc = {"even_pairs", c->steps, lr_attn, lr_linear, c->phase1_steps,
                       c->freeze2, c->log_points, c->svm_sweeps, c->svm_tol};
    if (pa_train(&tc, &mep, &tr_ep, run, &res->ep)) goto done;
    log_train(run, "even_pairs", &res->ep);
    pa_direct_acc(&mep, &te_ep, res->acc_len[PA_CURVE_EP]);
    res->ep_test_acc = heldout(res->acc_len[PA_CURVE_EP], c);

    /* 2. Parity via CoT at inference with the even-pairs model. */
    pa_cot_infer_acc(&mep, &te_par, form, res->acc_len[PA_CURVE_COT_INFER]);
    res->cot_infer_acc = heldout(res->acc_len[PA_CURVE_COT_INFER], c);

    /* 3. Parity via CoT in training. */
    if (pa_model_init(&mcot, &mc, run->seed, 11)) goto oom;
    pa_train_cfg tcc = {"cot_trained", c->cot_steps, lr_attn, lr_linear, 0, 0,
                        c->log_points, c->svm_sweeps, c->svm_tol};
    if (pa_train(&tcc, &mcot, &tr_cot, run, &res->cot)) goto done;
    log_train(run, "cot_trained", &res->cot);
    pa_cot_infer_acc(&mcot, &te_par, form, res->acc_len[PA_CURVE_COT_TRAIN]);
    res->cot_train_acc = heldout(res->acc_len[PA_CURVE_COT_TRAIN], c);

    /* 4. Parity without CoT: the same model trained on the parity label directly. */
    if (pa_model_init(&mnc, &mc, run->seed, 12)) goto oom;
    pa_train_cfg tcn = {"no_cot", c->nocot_steps, lr_attn, lr_linear, 0, 0, c->log_points,
                        c->svm_sweeps, c->svm_tol};
    if (pa_train(&tcn, &mnc, &tr_par, run, &res->nocot)) goto done;
    log_train(run, "no_cot", &res->nocot);
    pa_direct_acc(&mnc, &te_par, res->acc_len[PA_CURVE_NOCOT]);
    res->nocot_test_acc = heldout(res->acc_len[PA_CURVE_NOCOT], c);
    res->nocot_train_acc = res->nocot.h.n ? res->nocot.h.col[PA_H_ACC][res->nocot.h.n - 1] : NAN;
    dl_final(run, "seconds_train", dl_now() - t0);

    dl_log(run, "held-out lengths %d..%d: even pairs %.4f | parity: CoT-infer %.4f, CoT-trained "
           "%.4f, no-CoT %.4f", c->test_min, c->test_max, res->ep_test_acc, res->cot_infer_acc,
           res->cot_train_acc, res->nocot_test_acc);
    dl_final(run, "even_pairs.test_acc_heldout", res->ep_test_acc);
    dl_final(run, "parity.cot_infer_acc_heldout", res->cot_infer_acc);
    dl_final(run, "parity.cot_trained_acc_heldout", res->cot_train_acc);
    dl_final(run, "parity.nocot_acc_heldout", res->nocot_test_acc);
    dl_final(run, "parity.nocot_train_acc", res->nocot_train_acc);
    dl_final(run, "even_pairs.cos_svm_phase1", res->ep.cos_final);
    dl_final(run, "even_pairs.cos_svm_final_features", res->ep.cos_now);
    dl_final(run, "even_pairs.svm_margin", res->ep.svm_margin);
    dl_final(run, "even_pairs.norm_W", mep.W ? res->ep.h.col[PA_H_NORM_W][res->ep.h.n - 1] : NAN);
    dl_final(run, "even_pairs.norm_u", res->ep.h.col[PA_H_NORM_U][res->ep.h.n - 1]);
    dl_final(run, "even_pairs.t_loss", res->ep.h.col[PA_H_TLOSS][res->ep.h.n - 1]);
    pa_claims(run, res);
    pa_plots(run, res);
    rc = 0;
    goto done;
oom:
    dl_log(run, "error: out of memory building the data sets");
done:
    pa_history_free(&res->ep.h);
    pa_history_free(&res->cot.h);
    pa_history_free(&res->nocot.h);
    pa_model_free(&mep);
    pa_model_free(&mcot);
    pa_model_free(&mnc);
    pa_set_free(&tr_ep);
    pa_set_free(&tr_base);
    pa_set_free(&tr_cot);
    pa_set_free(&tr_par);
    pa_set_free(&te_ep);
    pa_set_free(&te_par);
    free(res);
    return rc;
}

const dl_experiment dl_exp_parity = {
    "parity",
    "How Transformers Learn Regular Language Recognition: A Theoretical Study on Training "
    "Dynamics and Implicit Bias",
    "2505.00926",
    "A one-layer transformer (attention + linear layer) trained by gradient descent solves "
    "'even pairs' directly, and 'parity check' through chain of thought, either at inference "
    "with the even-pairs model or in training. Joint training has two phases: the attention "
    "grows fast and makes the sequences separable, then it stabilises while the linear layer "
    "grows like log t toward the max-margin direction and the loss falls as O(1/t).",
    &pa_schema,
    pa_presets,
    pa_run,
};
