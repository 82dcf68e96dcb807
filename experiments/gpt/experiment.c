#include <stdio.h>
/* Registration of the `gpt` system: a character-level GPT trained with AdamW
 * on the Debian `fortunes` corpus (the foundation issue's end-to-end check). */
#include <stddef.h>
#include "dynlab/experiment.h"
#include "gpt/gpt.h"

static const dl_field gpt_fields[] = {
    DL_FIELD_STRING(gpt_cfg, data_path, "data.path", "/usr/share/games/fortunes",
                    "text corpus: a directory of fortune files (strfile '%' separators; .dat/.u8 "
                    "skipped) or one text file"),
    DL_FIELD_DOUBLE(gpt_cfg, val_frac, "data.val_frac", 0.1, 0.01, 0.5,
                    "fraction of documents (fortunes) held out for validation, chosen by a hash "
                    "of the document index"),
    DL_FIELD_INT(gpt_cfg, seq_len, "model.seq_len", 64, 2, 4096, "context length (characters)"),
    DL_FIELD_INT(gpt_cfg, d_model, "model.d_model", 64, 4, 4096, "residual width"),
    DL_FIELD_INT(gpt_cfg, heads, "model.heads", 4, 1, 64, "attention heads (divide d_model)"),
    DL_FIELD_INT(gpt_cfg, layers, "model.layers", 2, 1, 48, "transformer blocks"),
    DL_FIELD_INT(gpt_cfg, mlp_mult, "model.mlp_mult", 4, 1, 16, "MLP hidden width / d_model"),
    DL_FIELD_DOUBLE(gpt_cfg, dropout, "model.dropout", 0.0, 0.0, 0.9, "dropout probability"),
    DL_FIELD_INT(gpt_cfg, steps, "train.steps", 2000, 1, 10000000, "optimizer steps"),
    DL_FIELD_INT(gpt_cfg, batch, "train.batch", 32, 1, 4096, "sequences per batch"),
    DL_FIELD_INT(gpt_cfg, replicas, "train.replicas", 1, 1, 64,
                 "split each batch into this many micro-batches that run forward and backward side "
                 "by side, one per thread (results depend on this, not on --threads; 2 on a "
                 "2-core machine is about 1.5-1.9x faster, docs/benchmarks.md)"),
    DL_FIELD_DOUBLE(gpt_cfg, lr, "train.lr", 1e-3, 0, 10, "peak learning rate (AdamW)"),
    DL_FIELD_DOUBLE(gpt_cfg, min_lr, "train.min_lr", 1e-4, 0, 10, "final learning rate (cosine)"),
    DL_FIELD_ENUM(gpt_cfg, schedule, "train.schedule", "cosine", "constant|linear|cosine",
                  "learning-rate schedule after warmup"),
    DL_FIELD_INT(gpt_cfg, warmup, "train.warmup", 100, 0, 1000000, "linear warmup steps"),
    DL_FIELD_DOUBLE(gpt_cfg, weight_decay, "train.weight_decay", 0.01, 0, 10,
                    "AdamW decoupled weight decay"),
    DL_FIELD_DOUBLE(gpt_cfg, beta1, "train.beta1", 0.9, 0, 0.999999, "AdamW beta1"),
    DL_FIELD_DOUBLE(gpt_cfg, beta2, "train.beta2", 0.99, 0, 0.999999, "AdamW beta2"),
    DL_FIELD_DOUBLE(gpt_cfg, clip, "train.clip", 1.0, 0, 1e6,
                    "clip the global gradient norm to this (0 = off)"),
    DL_FIELD_INT(gpt_cfg, stop_after, "train.stop_after", 0, 0, 10000000,
                 "stop after this many steps as if killed (checkpoint written; 0 = run to "
                 "train.steps); continue with --resume"),
    DL_FIELD_INT(gpt_cfg, eval_every, "eval.every", 200, 1, 10000000,
                 "validation loss every N steps (and at the end)"),
    DL_FIELD_INT(gpt_cfg, eval_windows, "eval.windows", 256, 1, 1000000,
                 "validation windows of model.seq_len characters (fixed per seed)"),
    DL_FIELD_INT(gpt_cfg, log_every, "log.every", 10, 1, 10000000, "metrics row every N steps"),
    DL_FIELD_INT(gpt_cfg, ckpt_every, "ckpt.every", 500, 0, 10000000,
                 "write checkpoint.safetensors every N steps (0 = only at the end)"),
    DL_FIELD_INT(gpt_cfg, sample_tokens, "sample.tokens", 0, 0, 1000000,
                 "after training, print a sample of this many characters to stdout"),
    DL_FIELD_DOUBLE(gpt_cfg, sample_temperature, "sample.temperature", 0.8, 0.01, 10,
                    "sampling temperature"),
    DL_FIELD_STRING(gpt_cfg, sample_prompt, "sample.prompt", "", "text the sample continues"),
    DL_FIELD_DOUBLE(gpt_cfg, claim_margin, "claims.margin", 0.5, 0, 10,
                    "C1: validation loss must be below the unigram entropy minus this (nats/char)"),
    DL_FIELD_BOOL(gpt_cfg, claim_bigram, "claims.bigram", 1,
                  "C3: also require validation loss below the bigram model's"),
};

static const dl_config_schema gpt_schema = {gpt_fields, sizeof gpt_fields / sizeof gpt_fields[0],
                                            sizeof(gpt_cfg)};

static const dl_preset gpt_presets[] = {
    {"quick", "{\"model\": {\"seq_len\": 32, \"d_model\": 64, \"heads\": 4, \"layers\": 2},"
              " \"train\": {\"steps\": 300, \"batch\": 32, \"replicas\": 2, \"lr\": 3e-3, \"min_lr\": 3e-4,"
              " \"warmup\": 20}, \"eval\": {\"every\": 50, \"windows\": 128},"
              " \"log\": {\"every\": 10}, \"ckpt\": {\"every\": 100}, \"claims\": {\"bigram\": true}}"},
    {"paper", "{\"model\": {\"seq_len\": 64, \"d_model\": 128, \"heads\": 4, \"layers\": 4},"
              " \"train\": {\"steps\": 1500, \"batch\": 32, \"replicas\": 2, \"lr\": 1e-3, \"min_lr\": 1e-4,"
              " \"warmup\": 100}, \"eval\": {\"every\": 250, \"windows\": 256},"
              " \"log\": {\"every\": 25}, \"ckpt\": {\"every\": 250}}"},
    {NULL, NULL},
};

/* Constraints between knobs (configuration errors, exit 2); gpt_run repeats
 * them, with the data-parallel split, for callers that bypass the CLI. */
int dl_check_gpt(const void *cfgv, char *err, size_t errlen) {
    const gpt_cfg *c = cfgv;
    if (c->d_model % c->heads != 0)
        snprintf(err, errlen, "model.d_model (%d) must be divisible by model.heads (%d)", c->d_model,
                 c->heads);
    else if (c->batch % c->replicas != 0)
        snprintf(err, errlen, "train.replicas (%d) must divide train.batch (%d)", c->replicas, c->batch);
    else
        return 0;
    return -1;
}

const dl_experiment dl_exp_gpt = {
    .name = "gpt",
    .title = "Language Models are Unsupervised Multitask Learners (GPT-2), as a character-level model",
    .arxiv = "",
    .summary = "A decoder-only transformer (token + learned position embeddings, pre-LN blocks of "
               "masked multi-head self-attention and GELU MLPs, final LayerNorm, linear head) "
               "trained by next-token prediction learns the statistics of natural text. At the "
               "character level this shows as a cross-entropy far below the letter-frequency "
               "(unigram) entropy: the model uses context, as Shannon's n-gram estimates of "
               "English predict.",
    .schema = &gpt_schema,
    .presets = gpt_presets,
    .run = gpt_run,
};
