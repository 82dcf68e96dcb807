/* Registration of `ssl`: self-supervised feature learning with contrastive
 * learning, a variational module and data augmentation (arXiv 2504.04032).
 * Every constant is a knob; docs/papers/ssl.md explains each reconstructed choice. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/experiment.h"
#include "ssl/run.h"

int dl_check_ssl(const void *cfgv, char *err, size_t errlen)
{
    const ssl_cfg *c = cfgv;
    if (c->batch > c->fm_unlabelled && c->fm_enable) {
        snprintf(err, errlen, "train.batch must not exceed fmnist.n_unlabelled");
        return -1;
    }
    return 0;
}

static int ssl_run(const void *cfgv, dl_run *run)
{
    const ssl_cfg *c = cfgv;
    ssl_result F, T;
    memset(&F, 0, sizeof F);
    memset(&T, 0, sizeof T);
    double *acc = calloc((size_t)SSL_N_VARIANTS * c->ablation_seeds, sizeof(double));
    double *rob = calloc((size_t)SSL_N_VARIANTS * c->ablation_seeds, sizeof(double));
    int rc = 0;
    if (c->fm_enable && ssl_eval_dataset(c, run, 1, &F)) rc = 1;
    if (!rc && ssl_eval_dataset(c, run, 0, &T)) rc = 1;
    if (!rc && ssl_ablation(c, run, &T, acc, rob)) rc = 1;
    if (!rc) {
        ssl_claims(c, run, c->fm_enable ? &F : NULL, &T, acc, rob);
        ssl_plots(c, run, c->fm_enable ? &F : NULL, &T, acc, rob);
    }
    ssl_result_free(&F);
    ssl_result_free(&T);
    free(acc);
    free(rob);
    return rc;
}

#define SKL "/usr/lib/python3/dist-packages/sklearn/datasets/data/"
static const dl_field fields[] = {
    DL_FIELD_BOOL(ssl_cfg, fm_enable, "fmnist.enable", 1, "run the Fashion-MNIST part"),
    DL_FIELD_INT(ssl_cfg, fm_unlabelled, "fmnist.n_unlabelled", 3000, 64, 59000, "unlabelled training images"),
    DL_FIELD_INT(ssl_cfg, fm_labels_per_class, "fmnist.labels_per_class", 20, 1, 1000, "labelled images per class for the probe"),
    DL_FIELD_INT(ssl_cfg, fm_test, "fmnist.n_test", 1000, 100, 10000, "test images"),
    DL_FIELD_INT(ssl_cfg, fm_steps, "fmnist.steps", 300, 0, 1000000, "pretraining steps on images"),
    DL_FIELD_INT(ssl_cfg, c1, "model.c1", 8, 1, 256, "channels of the first convolution"),
    DL_FIELD_INT(ssl_cfg, c2, "model.c2", 16, 1, 256, "channels of the second convolution"),
    DL_FIELD_STRING(ssl_cfg, table, "table.path", SKL "breast_cancer.csv", "table in scikit-learn's CSV layout (first line n,d,...; rows of d numbers and a class label)"),
    DL_FIELD_INT(ssl_cfg, tab_labels_per_class, "table.labels_per_class", 10, 1, 10000, "labelled rows per class for the probe"),
    DL_FIELD_INT(ssl_cfg, tab_steps, "table.steps", 300, 0, 1000000, "pretraining steps on the table"),
    DL_FIELD_INT(ssl_cfg, tab_hidden, "table.hidden", 64, 2, 4096, "width of the table MLP encoder"),
    DL_FIELD_DOUBLE(ssl_cfg, tab_test_frac, "table.test_frac", 0.3, 0.05, 0.9, "fraction of rows held out for the test"),
    DL_FIELD_INT(ssl_cfg, hidden, "model.hidden", 128, 2, 4096, "CNN encoder output width h"),
    DL_FIELD_INT(ssl_cfg, zdim, "model.zdim", 32, 2, 1024, "latent dimension of mu, log sigma^2 and z"),
    DL_FIELD_INT(ssl_cfg, proj_dim, "model.proj_dim", 64, 2, 1024, "projection head width"),
    DL_FIELD_INT(ssl_cfg, batch, "train.batch", 128, 4, 4096, "examples per batch (2x views)"),
    DL_FIELD_ENUM(ssl_cfg, optimizer, "train.optimizer", "adamw", "sgd|adam|adamw", "optimizer (sgd with momentum 0.9)"),
    DL_FIELD_DOUBLE(ssl_cfg, lr, "train.lr", 0.002, 0, 10, "peak learning rate (cosine decay)"),
    DL_FIELD_DOUBLE(ssl_cfg, weight_decay, "train.weight_decay", 0.01, 0, 10, "AdamW weight decay"),
    DL_FIELD_DOUBLE(ssl_cfg, temperature, "train.temperature", 0.5, 0.01, 10, "NT-Xent temperature tau"),
    DL_FIELD_DOUBLE(ssl_cfg, beta, "train.beta", 0.1, 0, 100, "weight beta of reconstruction + KL"),
    DL_FIELD_DOUBLE(ssl_cfg, kl_warmup, "train.kl_warmup", 0.1, 0, 1, "fraction of steps over which the KL weight rises 0 -> 1"),
    DL_FIELD_ENUM(ssl_cfg, variant, "train.variant", "full", "full|no_contrastive|no_variational|no_augmentation", "model of the main runs (ablation)"),
    DL_FIELD_DOUBLE(ssl_cfg, img_shift, "augment.shift", 3, 0, 8, "largest random shift in pixels (crop of the padded image)"),
    DL_FIELD_DOUBLE(ssl_cfg, img_flip, "augment.flip", 0.5, 0, 1, "probability of a horizontal flip"),
    DL_FIELD_DOUBLE(ssl_cfg, img_noise, "augment.noise", 0.1, 0, 1, "pixel noise std"),
    DL_FIELD_DOUBLE(ssl_cfg, img_crop_lo, "augment.crop_scale", 0.2, 0, 1, "random resized crop: smallest area fraction (0: no resized crop)"),
    DL_FIELD_DOUBLE(ssl_cfg, img_jitter_p, "augment.jitter_p", 0.8, 0, 1, "probability of the brightness/contrast jitter"),
    DL_FIELD_DOUBLE(ssl_cfg, img_brightness, "augment.brightness", 0.4, 0, 1, "brightness jitter: factor U(1-b, 1+b)"),
    DL_FIELD_DOUBLE(ssl_cfg, img_contrast, "augment.contrast", 0.4, 0, 1, "contrast jitter: factor U(1-c, 1+c)"),
    DL_FIELD_DOUBLE(ssl_cfg, img_erase, "augment.erase", 0.5, 0, 1, "probability of random erasing"),
    DL_FIELD_DOUBLE(ssl_cfg, tab_mask, "augment.mask", 0.2, 0, 1, "feature masking probability"),
    DL_FIELD_DOUBLE(ssl_cfg, tab_noise, "augment.jitter", 0.1, 0, 10, "Gaussian jitter in feature stds"),
    DL_FIELD_DOUBLE(ssl_cfg, tab_mix_lo, "augment.mix_lo", 0.8, 0, 1, "mix-up lambda ~ U(mix_lo, 1)"),
    DL_FIELD_ENUM(ssl_cfg, features, "eval.features", "trunk", "trunk|encoder|mu", "probed features: the CNN's pooled conv maps (trunk; on tables h), h, or the variational mean mu(h)"),
    DL_FIELD_INT(ssl_cfg, knn_k, "eval.knn_k", 5, 1, 1000, "neighbours of the k-NN accuracy and anomaly score (cosine)"),
    DL_FIELD_BOOL(ssl_cfg, anomaly, "eval.anomaly", 1, "held-out-class anomaly detection (one more pretraining per dataset)"),
    DL_FIELD_INT(ssl_cfg, anomaly_class, "eval.anomaly_class", 0, 0, 1000, "class left out of pretraining and scored as the anomaly"),
    DL_FIELD_INT(ssl_cfg, anomaly_ref, "eval.anomaly_ref", 2000, 1, 1000000, "largest number of training rows the anomaly score compares with"),
    DL_FIELD_INT(ssl_cfg, sweep_steps, "eval.sweep_steps", 0, 0, 1000000, "steps per cell of the in-process optimizer x learning-rate grid (0: not run)"),
    DL_FIELD_INT(ssl_cfg, probe_iters, "eval.probe_iters", 300, 1, 100000, "gradient steps of the logistic probe"),
    DL_FIELD_INT(ssl_cfg, sup_steps, "eval.sup_steps", 150, 0, 1000000, "steps of the supervised reference encoder"),
    DL_FIELD_INT(ssl_cfg, ablation_seeds, "eval.ablation_seeds", 3, 2, 100, "initialisations per ablation variant"),
    DL_FIELD_DOUBLE(ssl_cfg, shift_noise, "eval.shift_noise", 0.2, 0, 10, "test-time Gaussian noise std (input units)"),
    DL_FIELD_DOUBLE(ssl_cfg, shift_brightness, "eval.shift_brightness", 0.2, -1, 1, "test-time brightness offset (images)"),
    DL_FIELD_DOUBLE(ssl_cfg, shift_scale, "eval.shift_scale", 1.3, 0, 10, "test-time feature scaling (tables)"),
    DL_FIELD_INT(ssl_cfg, log_every, "log.every", 25, 1, 1000000, "steps between loss evaluations"),
    DL_FIELD_DOUBLE(ssl_cfg, margin, "claims.margin", 0.02, 0, 1, "claim 1: accuracy margin over random encoder and raw inputs"),
    DL_FIELD_DOUBLE(ssl_cfg, gap_ratio, "claims.gap_ratio", 1.2, 1, 10, "claim 3: largest final val/train loss ratio"),
    DL_FIELD_DOUBLE(ssl_cfg, keep_frac, "claims.keep_frac", 0.8, 0, 1, "claim 4: fraction of accuracy kept under each shift"),
};

static const dl_config_schema schema = {fields, (int)(sizeof fields / sizeof fields[0]), sizeof(ssl_cfg)};

static const dl_preset presets[] = {
    /* quick: the test budget (about 10 s of CPU); the defaults are the one-run setup */
    {"quick", "{\"fmnist\": {\"n_unlabelled\": 2000, \"steps\": 150}, \"table\": {\"steps\": 150},"
              " \"eval\": {\"sup_steps\": 80}, \"log\": {\"every\": 25}}"},
    /* paper: the full sweep and ablation within about 20 CPU-minutes (docs/papers/ssl.md) */
    {"paper", "{\"fmnist\": {\"n_unlabelled\": 20000, \"n_test\": 5000, \"steps\": 1200},"
              " \"table\": {\"steps\": 500, \"hidden\": 256}, \"train\": {\"batch\": 256},"
              " \"eval\": {\"ablation_seeds\": 5, \"sup_steps\": 500, \"sweep_steps\": 100},"
              " \"log\": {\"every\": 100}}"},
    {NULL, NULL},
};

const dl_experiment dl_exp_ssl = {
    .name = "ssl",
    .title = "Contrastive and Variational Approaches in Self-Supervised Learning for Complex Data Mining",
    .arxiv = "2504.04032",
    .summary = "An encoder pretrained without labels by a contrastive loss over two augmented views plus a "
               "variational (VAE) branch gives features on which a linear probe with few labels beats a "
               "random encoder and raw inputs; each module matters, training does not overfit, and the "
               "features keep their accuracy under distribution shift.",
    .schema = &schema,
    .presets = presets,
    .run = ssl_run,
};
