/* diffusion system: configuration and the two parts of a run. */
#ifndef DYNLAB_EXP_DIFFUSION_EXP_H
#define DYNLAB_EXP_DIFFUSION_EXP_H

#include "diffusion/diffusion.h"

typedef struct dd_cfg {
    /* exact part */
    int S, d;
    double T, delta, alpha;
    char schedule[DL_STR_MAX], multi_jump[DL_STR_MAX];
    dl_dlist steps, forward_T;
    dl_dlist scan_S;
    int scan_S_d, scan_S_steps;
    dl_dlist scan_d;
    int scan_d_S, scan_d_steps;
    double nostop_T;
    int nostop_S, nostop_d;
    int unif_S, unif_d, unif_samples;
    double unif_T, unif_delta;
    /* learned part */
    int learn;
    char data_path[DL_STR_MAX];
    int seq_len, d_model, heads, layers;
    int train_steps, batch;
    double lr;
    double t_min, learn_T, learn_delta;
    char learn_schedule[DL_STR_MAX], alphabet[DL_STR_MAX];
    dl_dlist sample_steps;
    int n_samples;
    int gpt_steps, gpt_d_model, gpt_layers;
} dd_cfg;

int dd_exact_part(const dd_cfg *cfg, dl_run *run);
int dd_learned_part(const dd_cfg *cfg, dl_run *run);

/* least-squares slope of log y on log x over the points with y > 0 finite */
double dd_loglog_slope(const double *x, const double *y, int n);

#endif
