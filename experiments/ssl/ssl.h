/* ssl: self-supervised feature learning with contrastive learning, a
 * variational module and data augmentation (arXiv 2504.04032). Shared types of
 * the system's files; docs/papers/ssl.md explains every reconstructed choice. */
#ifndef SSL_SSL_H
#define SSL_SSL_H

#include <stddef.h>
#include <stdint.h>
#include "dynlab/config.h"
#include "dynlab/conv.h"
#include "dynlab/nn.h"
#include "dynlab/rng.h"
#include "dynlab/run.h"

typedef struct ssl_cfg {
    /* Fashion-MNIST */
    int fm_enable, fm_unlabelled, fm_labels_per_class, fm_test, fm_steps;
    int c1, c2;
    /* table */
    char table[DL_STR_MAX];
    int tab_labels_per_class, tab_steps, tab_hidden;
    double tab_test_frac;
    /* model */
    int hidden, zdim, proj_dim;
    /* training */
    int batch;
    char optimizer[DL_STR_MAX];
    double lr, weight_decay, temperature, beta, kl_warmup;
    char variant[DL_STR_MAX];
    /* augmentation */
    double img_shift, img_flip, img_noise, img_erase, tab_mask, tab_noise, tab_mix_lo;
    double img_crop_lo, img_jitter_p, img_brightness, img_contrast; /* SimCLR's crop and colour distortion */
    /* evaluation */
    int probe_iters, sup_steps, ablation_seeds, log_every;
    int knn_k, anomaly, anomaly_class, anomaly_ref, sweep_steps;
    char features[DL_STR_MAX]; /* "trunk": the CNN's pooled conv maps; "encoder": h; "mu": the variational mean */
    double shift_noise, shift_brightness, shift_scale;
    /* claim thresholds (fixed before any seed was looked at) */
    double margin, gap_ratio, keep_frac;
} ssl_cfg;

/* A labelled dataset of n rows of d floats (images: d = h * w, one channel). */
typedef struct ssl_data {
    int n, d, h, w, n_classes;
    int is_image;
    float *x;
    int *y;
} ssl_data;
void ssl_data_free(ssl_data *D);

/* Table in scikit-learn's CSV layout (sklearn/datasets/data/NAME.csv): first line
 * "n_samples,n_features[,class names...]", then n_samples rows of n_features
 * numbers and an integer class label >= 0. A missing, truncated or malformed
 * file gives -1 and one line in err naming the file, the line and the problem. */
int ssl_csv_read(const char *path, ssl_data *out, char *err, size_t errlen);
int ssl_csv_parse(const char *name, const char *text, ssl_data *out, char *err, size_t errlen);

/* Augmentations (section 3 of docs/papers/ssl.md). All randomness from r. */
void ssl_aug_shift(const float *in, float *out, int h, int w, int dy, int dx);
void ssl_aug_flip(const float *in, float *out, int h, int w);
void ssl_aug_noise(float *x, int n, float sigma, dl_rng *r);
void ssl_aug_erase(float *x, int h, int w, int y0, int x0, int eh, int ew);
/* Crop the box (y0, x0, ch, cw) of in and resize it bilinearly to h x w (the
 * resize of SimCLR's random resized crop; pixel centres aligned as
 * torchvision's antialias-free bilinear). */
void ssl_aug_crop_resize(const float *in, float *out, int h, int w, int y0, int x0, int ch, int cw);
/* torchvision's ColorJitter on one grayscale image: brightness x * b, then
 * contrast c x + (1 - c) mean(x), clamped to [0, 1]. */
void ssl_aug_color(float *x, int n, float b, float c);
void ssl_aug_image(const ssl_cfg *c, const float *in, float *out, int h, int w, dl_rng *r);
void ssl_aug_mask(float *x, int d, float p, dl_rng *r);
void ssl_aug_table_noise(float *x, const float *std, int d, float sigma, dl_rng *r);
void ssl_aug_mix(float *x, const float *other, int d, float lambda);
void ssl_aug_table(const ssl_cfg *c, const float *in, const float *other, const float *std, float *out, int d,
                   dl_rng *r);

enum { SSL_FULL = 0, SSL_NO_CONTRASTIVE, SSL_NO_VARIATIONAL, SSL_NO_AUGMENT, SSL_N_VARIANTS };
int ssl_variant_parse(const char *s);
extern const char *const ssl_variant_names[SSL_N_VARIANTS];

enum { SSL_FEAT_TRUNK = 0, SSL_FEAT_H, SSL_FEAT_MU };

/* Encoder g (small CNN or MLP), variational head (mu, logvar), projection head
 * p(z) and decoder d(z). */
typedef struct ssl_model {
    int is_image, d, h, w, hidden, zdim, n_classes;
    dl_params ps;
    dl_conv2d_m conv1, conv2;
    dl_batchnorm_m bn1, bn2;
    dl_linear fc_in, fc2, fc_h;
    dl_layernorm_m ln1, ln2;
    dl_linear mu, logvar, proj1, proj2, dec1, dec2, cls;
    int trunk_dim;      /* width of the CNN's flattened pooled conv maps */
    int feat, feat_dim; /* evaluation features (SSL_FEAT_*) and their width */
} ssl_model;
void ssl_model_init(ssl_model *m, const ssl_data *D, const ssl_cfg *c, int n_classes, uint64_t seed);
void ssl_model_free(ssl_model *m);
/* Choose the evaluated features (SSL_FEAT_*; on the MLP, TRUNK means h). */
void ssl_model_set_features(ssl_model *m, int feat);
dl_tensor *ssl_encode(dl_graph *g, ssl_model *m, dl_tensor *x); /* [N, d] -> h [N, hidden] */
/* Frozen features of n rows (evaluation mode): trunk, h or mu(h), feat_dim wide. */
void ssl_features(ssl_model *m, const float *x, int n, float *feat);

typedef struct ssl_train_log {
    int n;
    double *step, *train, *val; /* pretraining loss per logged step */
} ssl_train_log;
void ssl_train_log_free(ssl_train_log *L);

/* Pretrain on unlabelled rows (labels unused). lr 0 trains nothing. */
int ssl_pretrain(ssl_model *m, const ssl_data *D, const int *idx, int n, const int *val_idx, int n_val,
                 const ssl_cfg *c, int variant, const char *optimizer, double lr, int steps, uint64_t seed,
                 dl_run *run, const char *tag, ssl_train_log *log);
/* Supervised encoder: same architecture, cross-entropy on the labelled rows. */
int ssl_supervised(ssl_model *m, const ssl_data *D, const int *idx, int n, const ssl_cfg *c, double lr,
                   int steps, uint64_t seed, dl_run *run);

/* Multinomial logistic regression (the linear probe) on standardised features. */
typedef struct ssl_probe {
    int d, k;
    double *w, *mean, *std; /* w [k][d + 1] */
} ssl_probe;
void ssl_probe_fit(ssl_probe *p, const float *f, const int *y, int n, int d, int k, int iters);
double ssl_probe_accuracy(const ssl_probe *p, const float *f, const int *y, int n);
void ssl_probe_free(ssl_probe *p);

/* k-NN on frozen features (knn.c), cosine similarity: accuracy of a
 * similarity-weighted vote of the k nearest labelled rows; anomaly score of
 * each query row = 1 - mean similarity of its k nearest reference rows; and
 * the AUROC of a score for the positive (anomalous) rows. */
double ssl_knn_accuracy(const float *ftr, const int *ytr, int ntr, const float *fte, const int *yte, int nte, int d,
                        int n_classes, int k);
void ssl_knn_score(const float *fref, int nref, const float *fq, int nq, int d, int k, double *score);
double ssl_auroc(const double *score, const int *positive, int n);

/* Distribution shifts of the evaluation inputs. */
enum { SSL_SHIFT_NOISE = 0, SSL_SHIFT_BRIGHTNESS, SSL_SHIFT_SCALE };
void ssl_apply_shift(const ssl_data *D, const float *in, float *out, int n, int shift, const ssl_cfg *c,
                     dl_rng *r);

#endif
