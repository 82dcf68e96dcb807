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
    float *feat; /* [n_test, zdim] pretrained features of the test rows */
    double acc_ssl, acc_rand, acc_raw, acc_sup;
    double shift_ssl[2], shift_rand[2], shift_raw[2], shift_sup[2]; /* noise, then brightness (images) or scaling (tables) */
    double pretrain_s;
} ssl_result;

int ssl_eval_dataset(const ssl_cfg *c, dl_run *run, int image, ssl_result *R);
void ssl_result_free(ssl_result *R);
int ssl_ablation(const ssl_cfg *c, dl_run *run, const ssl_result *T, double *acc, double *rob);
void ssl_claims(const ssl_cfg *c, dl_run *run, const ssl_result *F, const ssl_result *T, const double *abl_acc,
                const double *abl_rob);
void ssl_plots(const ssl_cfg *c, dl_run *run, const ssl_result *F, const ssl_result *T, const double *abl_acc,
               const double *abl_rob);

#endif
