/* The run: pretrain on unlabelled Fashion-MNIST images and on a real table,
 * evaluate frozen features with a few-label linear probe against a randomly
 * initialised encoder, raw inputs and a supervised encoder, under distribution
 * shift, and the ablation of each module (docs/papers/ssl.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/data.h"
#include "dynlab/experiment.h"
#include "ssl/run.h"

static void shuffle(int *a, int n, uint64_t seed, uint64_t stream)
{
    dl_rng r;
    dl_rng_init(&r, seed, stream);
    dl_rng_shuffle_int(&r, a, n);
}

/* Fashion-MNIST: n_unl + val training images, then n_test test images, in one table. */
static int load_fmnist(const ssl_cfg *c, ssl_data *D, ssl_split *S, char *err, size_t errlen)
{
    dl_mnist tr, te;
    const int n_val = 512;
    if (dl_fashion_mnist_load("train", c->fm_unlabelled + n_val, &tr, err, errlen)) return -1;
    if (dl_fashion_mnist_load("test", c->fm_test, &te, err, errlen)) { dl_mnist_free(&tr); return -1; }
    memset(D, 0, sizeof *D);
    D->is_image = 1; D->h = tr.h; D->w = tr.w; D->d = tr.h * tr.w; D->n = tr.n + te.n; D->n_classes = 10;
    D->x = malloc(sizeof(float) * (size_t)D->n * D->d);
    D->y = malloc(sizeof(int) * (size_t)D->n);
    memcpy(D->x, tr.images, sizeof(float) * (size_t)tr.n * D->d);
    memcpy(D->x + (size_t)tr.n * D->d, te.images, sizeof(float) * (size_t)te.n * D->d);
    for (int i = 0; i < tr.n; i++) D->y[i] = tr.labels[i];
    for (int i = 0; i < te.n; i++) D->y[tr.n + i] = te.labels[i];
    int n_unl = tr.n - n_val;
    S->n_unl = n_unl; S->n_val = n_val; S->n_test = te.n;
    S->unl = malloc(sizeof(int) * (size_t)n_unl);
    S->val = malloc(sizeof(int) * (size_t)n_val);
    S->test = malloc(sizeof(int) * (size_t)te.n);
    for (int i = 0; i < n_unl; i++) S->unl[i] = i;
    for (int i = 0; i < n_val; i++) S->val[i] = n_unl + i;
    for (int i = 0; i < te.n; i++) S->test[i] = tr.n + i;
    dl_mnist_free(&tr);
    dl_mnist_free(&te);
    return 0;
}

/* A table: random test split, the rest unlabelled training rows (a fifth of
 * them held out for the validation loss), standardised with the training statistics. */
static int load_table(const ssl_cfg *c, uint64_t seed, ssl_data *D, ssl_split *S, char *err, size_t errlen)
{
    if (ssl_csv_read(c->table, D, err, errlen)) return -1;
    int *all = malloc(sizeof(int) * (size_t)D->n);
    for (int i = 0; i < D->n; i++) all[i] = i;
    shuffle(all, D->n, seed, 0x55b);
    int n_test = (int)(c->tab_test_frac * D->n), n_tr = D->n - n_test, n_val = n_tr / 5;
    if (n_test < 10 || n_tr - n_val < 2 * c->batch / 4) {
        snprintf(err, errlen, "%s: %d rows are too few for a test split of %g", c->table, D->n, c->tab_test_frac);
        free(all);
        return -1;
    }
    S->n_test = n_test; S->n_val = n_val; S->n_unl = n_tr - n_val;
    S->test = malloc(sizeof(int) * (size_t)n_test);
    S->val = malloc(sizeof(int) * (size_t)n_val);
    S->unl = malloc(sizeof(int) * (size_t)S->n_unl);
    memcpy(S->test, all, sizeof(int) * (size_t)n_test);
    memcpy(S->val, all + n_test, sizeof(int) * (size_t)n_val);
    memcpy(S->unl, all + n_test + n_val, sizeof(int) * (size_t)S->n_unl);
    for (int j = 0; j < D->d; j++) {
        double m = 0, v = 0;
        for (int i = 0; i < S->n_unl; i++) m += D->x[(size_t)S->unl[i] * D->d + j];
        m /= S->n_unl;
        for (int i = 0; i < S->n_unl; i++) {
            double e = D->x[(size_t)S->unl[i] * D->d + j] - m;
            v += e * e;
        }
        double sd = sqrt(v / S->n_unl) + 1e-8;
        for (int i = 0; i < D->n; i++) D->x[(size_t)i * D->d + j] = (float)((D->x[(size_t)i * D->d + j] - m) / sd);
    }
    free(all);
    return 0;
}

void ssl_split_free(ssl_split *S)
{
    free(S->unl); free(S->val); free(S->test); free(S->lab);
    memset(S, 0, sizeof *S);
}

/* The few labelled rows: the first k of each class among the unlabelled rows. */
static void pick_labels(const ssl_data *D, ssl_split *S, int per_class)
{
    S->lab = malloc(sizeof(int) * (size_t)per_class * D->n_classes);
    S->n_lab = 0;
    int *cnt = calloc((size_t)D->n_classes, sizeof(int));
    for (int i = 0; i < S->n_unl; i++) {
        int y = D->y[S->unl[i]];
        if (cnt[y] < per_class) { cnt[y]++; S->lab[S->n_lab++] = S->unl[i]; }
    }
    free(cnt);
}

static void gather(const ssl_data *D, const int *idx, int n, float *x, int *y)
{
    for (int i = 0; i < n; i++) {
        memcpy(x + (size_t)i * D->d, D->x + (size_t)idx[i] * D->d, sizeof(float) * (size_t)D->d);
        if (y) y[i] = D->y[idx[i]];
    }
}

/* Features that are zero (ReLU off) on every one of the n rows: units of h a probe cannot use. */
static int dead_units(const float *f, int n, int d)
{
    int dead = 0;
    for (int j = 0; j < d; j++) {
        int on = 0;
        for (int i = 0; i < n && !on; i++) on = f[(size_t)i * d + j] > 0.f;
        dead += !on;
    }
    return dead;
}

/* Probe accuracy of an encoder (NULL: raw inputs) on the clean test set and
 * under each shift; feat_out (optional) receives the clean test features,
 * dead (optional) the number of features zero on every labelled row. */
static void probe_eval(ssl_model *m, const ssl_data *D, const ssl_split *S, const ssl_cfg *c, uint64_t seed,
                       double *acc, double *acc_shift, double *knn, float *feat_out, double *dead)
{
    const int fd = m ? m->feat_dim : D->d;
    float *xl = malloc(sizeof(float) * (size_t)S->n_lab * D->d), *xt = malloc(sizeof(float) * (size_t)S->n_test * D->d);
    float *xs = malloc(sizeof(float) * (size_t)S->n_test * D->d);
    float *fl = malloc(sizeof(float) * (size_t)S->n_lab * fd), *ft = malloc(sizeof(float) * (size_t)S->n_test * fd);
    int *yl = malloc(sizeof(int) * (size_t)S->n_lab), *yt = malloc(sizeof(int) * (size_t)S->n_test);
    gather(D, S->lab, S->n_lab, xl, yl);
    gather(D, S->test, S->n_test, xt, yt);
    if (m) { ssl_features(m, xl, S->n_lab, fl); ssl_features(m, xt, S->n_test, ft); }
    else { memcpy(fl, xl, sizeof(float) * (size_t)S->n_lab * fd); memcpy(ft, xt, sizeof(float) * (size_t)S->n_test * fd); }
    ssl_probe p;
    ssl_probe_fit(&p, fl, yl, S->n_lab, fd, D->n_classes, c->probe_iters);
    *acc = ssl_probe_accuracy(&p, ft, yt, S->n_test);
    if (knn) *knn = ssl_knn_accuracy(fl, yl, S->n_lab, ft, yt, S->n_test, fd, D->n_classes, c->knn_k);
    if (feat_out) memcpy(feat_out, ft, sizeof(float) * (size_t)S->n_test * fd);
    if (dead) *dead = dead_units(fl, S->n_lab, fd);
    for (int k = 0; k < 2; k++) {
        int shift = k == 0 ? SSL_SHIFT_NOISE : D->is_image ? SSL_SHIFT_BRIGHTNESS : SSL_SHIFT_SCALE;
        dl_rng r;
        dl_rng_init(&r, seed, 0x55c + (uint64_t)k);
        ssl_apply_shift(D, xt, xs, S->n_test, shift, c, &r);
        if (m) ssl_features(m, xs, S->n_test, ft);
        else memcpy(ft, xs, sizeof(float) * (size_t)S->n_test * fd);
        acc_shift[k] = ssl_probe_accuracy(&p, ft, yt, S->n_test);
    }
    ssl_probe_free(&p);
    free(xl); free(xt); free(xs); free(fl); free(ft); free(yl); free(yt);
}

/* Clean-test probe accuracy of m on another choice of features (the report shows
 * every choice beside the configured one). */
static double probe_with_features(ssl_model *m, int feat, const ssl_data *D, const ssl_split *S, const ssl_cfg *c,
                                  uint64_t seed)
{
    const int keep = m->feat;
    ssl_model_set_features(m, feat);
    double acc, shifted[2];
    probe_eval(m, D, S, c, seed, &acc, shifted, NULL, NULL, NULL);
    ssl_model_set_features(m, keep);
    return acc;
}

int ssl_eval_dataset(const ssl_cfg *c, dl_run *run, int image, ssl_result *R)
{
    memset(R, 0, sizeof *R);
    char err[512];
    int rc = image ? load_fmnist(c, &R->D, &R->S, err, sizeof err)
                   : load_table(c, run->seed, &R->D, &R->S, err, sizeof err);
    if (rc) { dl_log(run, "error: %s", err); return -1; }
    pick_labels(&R->D, &R->S, image ? c->fm_labels_per_class : c->tab_labels_per_class);
    if (c->anomaly && c->anomaly_class >= R->D.n_classes) { /* refused before any training */
        dl_log(run, "error: eval.anomaly_class=%d but the %s has only %d classes", c->anomaly_class,
               image ? "Fashion-MNIST data" : "table", R->D.n_classes);
        return -1;
    }
    const int untrained = dl_run_untrained(run);
    const double lr = untrained ? 0.0 : c->lr;
    const int steps = image ? c->fm_steps : c->tab_steps;
    const uint64_t init_seed = run->seed * 1000 + (uint64_t)image;
    const char *tag = image ? "fmnist" : "table";
    ssl_model ms, mr, mp;
    ssl_model_init(&ms, &R->D, c, R->D.n_classes, init_seed);
    ssl_model_init(&mr, &R->D, c, R->D.n_classes, init_seed); /* the same draw, never trained */
    ssl_model_init(&mp, &R->D, c, R->D.n_classes, init_seed);
    double t0 = dl_now();
    rc = ssl_pretrain(&ms, &R->D, R->S.unl, R->S.n_unl, R->S.val, R->S.n_val, c, ssl_variant_parse(c->variant),
                      c->optimizer, lr, steps, run->seed * 7 + (uint64_t)image, run, tag, &R->log);
    R->pretrain_s = dl_now() - t0;
    if (!rc) rc = ssl_supervised(&mp, &R->D, R->S.lab, R->S.n_lab, c, lr, c->sup_steps, run->seed * 11, run);
    if (!rc) {
        R->feat_dim = ms.feat_dim;
        R->feat = malloc(sizeof(float) * (size_t)R->S.n_test * ms.feat_dim);
        probe_eval(&ms, &R->D, &R->S, c, run->seed, &R->acc_ssl, R->shift_ssl, &R->knn_ssl, R->feat, &R->dead_ssl);
        probe_eval(&mr, &R->D, &R->S, c, run->seed, &R->acc_rand, R->shift_rand, &R->knn_rand, NULL, &R->dead_rand);
        probe_eval(&mp, &R->D, &R->S, c, run->seed, &R->acc_sup, R->shift_sup, &R->knn_sup, NULL, NULL);
        probe_eval(NULL, &R->D, &R->S, c, run->seed, &R->acc_raw, R->shift_raw, &R->knn_raw, NULL, NULL);
        for (int f = 0; f < 3; f++) { /* the MLP has no trunk below h: its trunk row repeats h */
            int feat = f == SSL_FEAT_TRUNK && !image ? SSL_FEAT_H : f;
            R->acc_by_feat[f][0] = feat == ms.feat ? R->acc_ssl : probe_with_features(&ms, feat, &R->D, &R->S, c, run->seed);
            R->acc_by_feat[f][1] = feat == mr.feat ? R->acc_rand : probe_with_features(&mr, feat, &R->D, &R->S, c, run->seed);
        }
    }
    ssl_model_free(&ms); ssl_model_free(&mr); ssl_model_free(&mp);
    R->auroc_ssl = R->auroc_rand = R->auroc_raw = NAN;
    for (int o = 0; o < 3; o++)
        for (int l = 0; l < 5; l++) R->sweep[o][l] = NAN;
    if (!rc && c->anomaly) {
        t0 = dl_now();
        rc = ssl_anomaly(c, run, image, R);
        R->anomaly_s = dl_now() - t0;
    }
    if (!rc && c->sweep_steps > 0) {
        t0 = dl_now();
        rc = ssl_sweep(c, run, image, R);
        R->sweep_s = dl_now() - t0;
    }
    return rc;
}

/* Anomaly detection with a held-out class: pretrain on the unlabelled rows of
 * every other class, score each test row by its k-NN distance to (up to
 * anomaly_ref of) those training rows' features, AUROC with the held-out
 * class as positive; the same for the untrained encoder (same draw) and raw
 * inputs. */
int ssl_anomaly(const ssl_cfg *c, dl_run *run, int image, ssl_result *R)
{
    const ssl_data *D = &R->D;
    const ssl_split *S = &R->S;
    const int a = c->anomaly_class; /* < n_classes: checked by ssl_eval_dataset */
    int *in = malloc(sizeof(int) * (size_t)S->n_unl), n_in = 0;
    for (int i = 0; i < S->n_unl; i++)
        if (D->y[S->unl[i]] != a) in[n_in++] = S->unl[i];
    int *vin = malloc(sizeof(int) * (size_t)(S->n_val + 1)), n_vin = 0;
    for (int i = 0; i < S->n_val; i++)
        if (D->y[S->val[i]] != a) vin[n_vin++] = S->val[i];
    const int n_ref = n_in < c->anomaly_ref ? n_in : c->anomaly_ref;
    const int steps = image ? c->fm_steps : c->tab_steps;
    const uint64_t init_seed = run->seed * 1000 + 500 + (uint64_t)image;
    ssl_model m, mr;
    ssl_model_init(&m, D, c, D->n_classes, init_seed);
    ssl_model_init(&mr, D, c, D->n_classes, init_seed);
    int rc = ssl_pretrain(&m, D, in, n_in, vin, n_vin, c, ssl_variant_parse(c->variant), c->optimizer,
                          dl_run_untrained(run) ? 0.0 : c->lr, steps, run->seed * 13 + (uint64_t)image, run, NULL,
                          NULL);
    if (!rc) {
        float *xr = malloc(sizeof(float) * (size_t)n_ref * D->d), *xt = malloc(sizeof(float) * (size_t)S->n_test * D->d);
        int *pos = malloc(sizeof(int) * (size_t)S->n_test);
        double *score = malloc(sizeof(double) * (size_t)S->n_test);
        gather(D, in, n_ref, xr, NULL);
        gather(D, S->test, S->n_test, xt, pos);
        for (int i = 0; i < S->n_test; i++) pos[i] = pos[i] == a;
        ssl_model *ms[3] = {&m, &mr, NULL};
        double *out[3] = {&R->auroc_ssl, &R->auroc_rand, &R->auroc_raw};
        for (int k = 0; k < 3; k++) {
            const int fd = ms[k] ? ms[k]->feat_dim : D->d;
            float *fr = xr, *ft = xt;
            if (ms[k]) {
                fr = malloc(sizeof(float) * (size_t)n_ref * fd);
                ft = malloc(sizeof(float) * (size_t)S->n_test * fd);
                ssl_features(ms[k], xr, n_ref, fr);
                ssl_features(ms[k], xt, S->n_test, ft);
            }
            ssl_knn_score(fr, n_ref, ft, S->n_test, fd, c->knn_k, score);
            *out[k] = ssl_auroc(score, pos, S->n_test);
            if (ms[k]) { free(fr); free(ft); }
        }
        free(xr); free(xt); free(pos); free(score);
    }
    ssl_model_free(&m); ssl_model_free(&mr);
    free(in); free(vin);
    return rc;
}

void ssl_result_free(ssl_result *R)
{
    ssl_data_free(&R->D);
    ssl_split_free(&R->S);
    ssl_train_log_free(&R->log);
    free(R->feat);
    memset(R, 0, sizeof *R);
}

const double ssl_sweep_lrs[5] = {1e-4, 5e-4, 1e-3, 2e-3, 5e-3};
const char *const ssl_sweep_opts[3] = {"sgd", "adam", "adamw"};

/* The abstract's optimizer x learning-rate comparison, in-process: each
 * cell pretrains the full model from the same initial draw for sweep_steps
 * steps and reports the probe accuracy of its features. */
int ssl_sweep(const ssl_cfg *c, dl_run *run, int image, ssl_result *R)
{
    const uint64_t init_seed = run->seed * 1000 + (uint64_t)image;
    for (int o = 0; o < 3; o++)
        for (int l = 0; l < 5; l++) {
            ssl_model m;
            ssl_model_init(&m, &R->D, c, R->D.n_classes, init_seed);
            if (ssl_pretrain(&m, &R->D, R->S.unl, R->S.n_unl, R->S.val, R->S.n_val, c, ssl_variant_parse(c->variant),
                             ssl_sweep_opts[o], dl_run_untrained(run) ? 0.0 : ssl_sweep_lrs[l], c->sweep_steps,
                             run->seed * 7 + (uint64_t)image, run, NULL, NULL)) {
                ssl_model_free(&m);
                return -1;
            }
            double sh[2];
            probe_eval(&m, &R->D, &R->S, c, run->seed, &R->sweep[o][l], sh, NULL, NULL, NULL);
            ssl_model_free(&m);
            dl_progress(run, image ? "sweep fmnist" : "sweep table", o * 5 + l + 1, 15, NULL);
        }
    return 0;
}

/* The ablation on the table: each variant pretrained from ablation_seeds
 * initialisations; probe accuracy and mean shifted accuracy per run. */
int ssl_ablation(const ssl_cfg *c, dl_run *run, const ssl_result *T, double *acc, double *rob)
{
    const int untrained = dl_run_untrained(run);
    ssl_split S = T->S;
    for (int v = 0; v < SSL_N_VARIANTS; v++)
        for (int s = 0; s < c->ablation_seeds; s++) {
            ssl_model m;
            uint64_t sd = run->seed * 100 + (uint64_t)s;
            ssl_model_init(&m, &T->D, c, T->D.n_classes, sd);
            if (ssl_pretrain(&m, &T->D, S.unl, S.n_unl, S.val, S.n_val, c, v, c->optimizer, untrained ? 0 : c->lr,
                             c->tab_steps, sd, run, NULL, NULL)) { ssl_model_free(&m); return -1; }
            double a, sh[2];
            probe_eval(&m, &T->D, &S, c, run->seed, &a, sh, NULL, NULL, NULL);
            acc[v * c->ablation_seeds + s] = a;
            rob[v * c->ablation_seeds + s] = 0.5 * (sh[0] + sh[1]);
            ssl_model_free(&m);
            dl_progress(run, "ablation", v * c->ablation_seeds + s + 1, SSL_N_VARIANTS * c->ablation_seeds, NULL);
        }
    return 0;
}
