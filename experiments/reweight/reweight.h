/* System `reweight`: dynamic loss-based sample reweighting (Sow et al.,
 * "Dynamic Loss-Based Sample Reweighting for Improved LLM Pretraining",
 * ICLR 2025) on linear regression (the theory check) and on a character-level
 * GPT trained on a mixture of real text, duplicates and noise.
 * The weight pipeline itself is the engine module include/dynlab/reweight.h. */
#ifndef DYNLAB_EXP_REWEIGHT_H
#define DYNLAB_EXP_REWEIGHT_H

#include <stddef.h>
#include <stdint.h>
#include "dynlab/config.h"
#include "dynlab/reweight.h"
#include "dynlab/run.h"

typedef struct rw_cfg {
    /* language model */
    char fortunes[DL_STR_MAX], man_dir[DL_STR_MAX];
    int man_pages;
    double val_frac, manual_frac, dup_frac, noise_frac;
    int dup_pool;
    int seq_len, d_model, heads, layers, mlp_mult;
    int steps, batch, warmup;
    double lr, min_lr, weight_decay, clip;
    char strategies[DL_STR_MAX];
    double r, delta, warmup_r;
    int rw_warmup, seeds;
    int eval_every, eval_windows, log_every, hist_bins;
    int lm_enable;
    /* linear regression */
    int lr_enable, lr_dim, lr_ntrain, lr_ntest, lr_batch, lr_steps, lr_log_every, lr_mc;
    double lr_lr, lr_r, lr_noise, lr_fit_floor;
    char lr_strategies[DL_STR_MAX];
} rw_cfg;

/* Parse "uniform,linupper" into out[] (at most max); -1 with a message naming
 * `key` on an unknown or repeated name or an empty list. */
int rw_parse_strategies(const char *list, const char *key, dl_rw_strategy *out, int max, int *n,
                        char *err, size_t errlen);

/* ---- linear regression (theory check) ---- */
int rw_linreg_run(const rw_cfg *cfg, dl_run *run, int untrained);
/* The theory's progress factor of a strategy: kappa = E[sum_i w_i l_i] / E[mean_i l_i]
 * for the squared losses of a noise-free linear model with Gaussian inputs
 * (l_i proportional to z_i^2, z_i ~ N(0,1)), by Monte Carlo over `m` batches. */
double rw_linreg_kappa(dl_rw_strategy s, double delta, double r, int batch, int m, uint64_t seed);

/* ---- roff manual pages as plain text ---- */
/* Plain text of a man page's roff source: requests dropped, the text of font
 * and heading macros kept, escapes resolved, non-ASCII dropped; one '\n'
 * ends every output line and a blank line separates paragraphs.
 * Returns the malloc'ed text (length in *out_len). */
char *rw_roff_to_text(const char *src, size_t n, size_t *out_len);
/* Read a gzip (or plain) file whole: malloc'ed, NULL with err on failure. */
char *rw_read_gz(const char *path, size_t *len, char *err, size_t errlen);

/* ---- the mixture corpus ---- */
enum { RW_SRC_PROSE = 0, RW_SRC_MANUAL, RW_SRC_DUP, RW_SRC_NOISE, RW_N_SRC };
typedef struct rw_corpus {
    int vocab;
    unsigned char byte_of[256];
    int id_of[256];
    int *train[2], *val[2];    /* token ids: prose (fortunes), manual pages */
    int64_t n_train[2], n_val[2];
    int n_docs[2], n_files[2];
} rw_corpus;
int rw_corpus_load(rw_corpus *c, const rw_cfg *cfg, int min_len, char *err, size_t errlen);
void rw_corpus_free(rw_corpus *c);

/* ---- language model ---- */
int rw_lm_run(const rw_cfg *cfg, dl_run *run, int untrained);

int rw_run(const void *cfg, dl_run *run);

#endif
