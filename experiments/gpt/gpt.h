/* Character-level GPT on the Debian `fortunes` corpus: shared declarations. */
#ifndef DYNLAB_EXP_GPT_H
#define DYNLAB_EXP_GPT_H

#include <stddef.h>
#include <stdint.h>
#include "dynlab/config.h"
#include "dynlab/run.h"

typedef struct gpt_cfg {
    char data_path[DL_STR_MAX];
    double val_frac;
    int seq_len, d_model, heads, layers, mlp_mult;
    double dropout;
    int steps, batch, replicas, warmup, stop_after;
    double lr, min_lr, weight_decay, beta1, beta2, clip;
    char schedule[DL_STR_MAX];
    int eval_every, eval_windows, log_every, ckpt_every;
    int sample_tokens;
    double sample_temperature;
    char sample_prompt[DL_STR_MAX];
    double claim_margin;
    int claim_bigram;
} gpt_cfg;

/* The corpus as token ids (bytes mapped to a dense vocabulary). */
typedef struct gpt_corpus {
    int vocab;
    unsigned char byte_of[256]; /* token id -> byte */
    int id_of[256];             /* byte -> token id (-1 if absent) */
    int *train, *val;           /* token ids */
    int64_t n_train, n_val;
    int n_docs, n_docs_train, n_docs_val, n_files;
    double h_unigram;           /* entropy of the corpus's byte distribution, nats/char */
    double unigram_val_xent;    /* unigram model fitted on train, cross-entropy on val */
    double bigram_val_xent;     /* bigram model (add-1/2) fitted on train, on val */
    double bigram_train_hcond;  /* plug-in H(X_t | X_{t-1}) on train */
} gpt_corpus;

/* Load `path` (a directory of fortune files or one text file), split the
 * documents into train/validation by a hash of their index, build the
 * vocabulary and the n-gram references. -1 with one line in err on failure. */
int gpt_corpus_load(gpt_corpus *c, const char *path, double val_frac, int min_len, char *err,
                    size_t errlen);
void gpt_corpus_free(gpt_corpus *c);

/* Documents of a fortune file: text between lines holding a single '%'
 * (strfile format); a file without such lines is split at blank lines.
 * Calls `emit(doc, len, ctx)` for each non-empty document. Exposed for tests. */
void gpt_split_docs(const char *text, size_t len,
                    void (*emit)(const char *doc, size_t n, void *ctx), void *ctx);
/* 1 when document `index` belongs to the validation split. */
int gpt_is_val_doc(uint64_t index, double val_frac);

int gpt_run(const void *cfg, dl_run *run);

#endif
