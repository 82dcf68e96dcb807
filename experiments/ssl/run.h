/* The run's phases and results (run.c), claims (claims.c) and plots (plots.c). */
#ifndef SSL_RUN_H
#define SSL_RUN_H

#include "ssl/ssl.h"

typedef struct ssl_split {
    int *unl, *val, *test, *lab; /* row indices: unlabelled pretraining, validation loss, test, few labels */
    int n_unl, n_val, n_test, n_lab;
} ssl_split;
void ssl_split_free(ssl_split *S);

typedef struct ssl_result {
    ssl_data D;
    ssl_split S;
    ssl_train_log log;
    float *feat; /* [n_test, feat_dim] pretrained features of the test rows */
    int feat_dim;
    double acc_ssl, acc_rand, acc_raw, acc_sup;
    double shift_ssl[2], shift_rand[2], shift_raw[2], shift_sup[2]; /* noise, then brightness (images) or scaling (tables) */
    double knn_ssl, knn_rand, knn_raw, knn_sup;       /* k-NN accuracy on the same features */
    double dead_ssl, dead_rand; /* probed features zero on every labelled row (pretrained, random encoder) */
    double acc_by_feat[3][2]; /* probe accuracy per feature choice (SSL_FEAT_*): pretrained, random encoder */
    double auroc_ssl, auroc_rand, auroc_raw;          /* held-out-class anomaly detection (NAN: not run) */
    double sweep[3][5];                               /* probe accuracy per optimizer x lr (NAN: not run) */
    double pretrain_s, anomaly_s, sweep_s; /* wall seconds */
} ssl_result;

int ssl_eval_dataset(const ssl_cfg *c, dl_run *run, int image, ssl_result *R);
void ssl_result_free(ssl_result *R);
int ssl_anomaly(const ssl_cfg *c, dl_run *run, int image, ssl_result *R);
/* The optimizer {sgd, adam, adamw} x learning-rate grid of probe accuracy, sweep_steps steps each. */
extern const double ssl_sweep_lrs[5];
extern const char *const ssl_sweep_opts[3];
int ssl_sweep(const ssl_cfg *c, dl_run *run, int image, ssl_result *R);
int ssl_ablation(const ssl_cfg *c, dl_run *run, const ssl_result *T, double *acc, double *rob);
void ssl_claims(const ssl_cfg *c, dl_run *run, const ssl_result *F, const ssl_result *T, const double *abl_acc,
                const double *abl_rob);
void ssl_plots(const ssl_cfg *c, dl_run *run, const ssl_result *F, const ssl_result *T, const double *abl_acc,
               const double *abl_rob);

#endif
