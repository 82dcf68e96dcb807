/* Registration of the `reweight` system: dynamic loss-based sample
 * reweighting (Sow et al., ICLR 2025) on linear regression (the convergence
 * theory) and on a character-level GPT trained on a mixture of fortunes prose,
 * manual-page text, exact duplicates and noise lines. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "dynlab/experiment.h"
#include "reweight/reweight.h"

static const dl_field rw_fields[] = {
    DL_FIELD_STRING(rw_cfg, fortunes, "data.fortunes", "/usr/share/games/fortunes",
                    "prose source: a directory of fortune files (Debian package fortunes) or one text file"),
    DL_FIELD_STRING(rw_cfg, man_dir, "data.man", "/usr/share/man/man1",
                    "technical-text source: a directory of gzipped roff manual pages, converted to "
                    "plain text in C"),
    DL_FIELD_INT(rw_cfg, man_pages, "data.man_pages", 300, 1, 100000,
                 "manual pages read, spread evenly over the directory's sorted *.gz files (symbolic links skipped)"),
    DL_FIELD_DOUBLE(rw_cfg, val_frac, "data.val_frac", 0.1, 0.01, 0.5,
                    "fraction of documents of each clean source held out for validation"),
    DL_FIELD_DOUBLE(rw_cfg, manual_frac, "data.manual_frac", 0.5, 0, 1,
                    "fraction of clean training sequences (and of validation) drawn from manual pages"),
    DL_FIELD_DOUBLE(rw_cfg, dup_frac, "data.dup_frac", 0.25, 0, 0.9,
                    "fraction of training sequences that are exact duplicates (redundant samples)"),
    DL_FIELD_INT(rw_cfg, dup_pool, "data.dup_pool", 8, 1, 100000,
                 "number of distinct sequences the duplicates repeat"),
    DL_FIELD_DOUBLE(rw_cfg, noise_frac, "data.noise_frac", 0.1, 0, 0.9,
                    "fraction of training sequences that are noise lines (uniformly random characters)"),
    DL_FIELD_INT(rw_cfg, seq_len, "model.seq_len", 32, 2, 4096, "sequence length (characters)"),
    DL_FIELD_INT(rw_cfg, d_model, "model.d_model", 64, 4, 4096, "residual width"),
    DL_FIELD_INT(rw_cfg, heads, "model.heads", 4, 1, 64, "attention heads (divide d_model)"),
    DL_FIELD_INT(rw_cfg, layers, "model.layers", 2, 1, 48, "transformer blocks"),
    DL_FIELD_INT(rw_cfg, mlp_mult, "model.mlp_mult", 4, 1, 16, "MLP hidden width / d_model"),
    DL_FIELD_INT(rw_cfg, steps, "train.steps", 600, 1, 10000000, "optimizer steps per strategy and seed"),
    DL_FIELD_INT(rw_cfg, batch, "train.batch", 32, 2, 4096, "sequences per (global) batch"),
    DL_FIELD_DOUBLE(rw_cfg, lr, "train.lr", 3e-3, 0, 10, "peak learning rate (AdamW)"),
    DL_FIELD_DOUBLE(rw_cfg, min_lr, "train.min_lr", 3e-4, 0, 10, "final learning rate (cosine)"),
    DL_FIELD_INT(rw_cfg, warmup, "train.warmup", 20, 0, 1000000, "learning-rate warmup steps"),
    DL_FIELD_DOUBLE(rw_cfg, weight_decay, "train.weight_decay", 0.01, 0, 10, "AdamW weight decay"),
    DL_FIELD_DOUBLE(rw_cfg, clip, "train.clip", 1.0, 0, 1e6, "gradient-norm clip (0 = off)"),
    DL_FIELD_STRING(rw_cfg, strategies, "reweight.strategies", "uniform,linupper",
                    "comma-separated weighting strategies trained side by side, each of "
                    "uniform|linupper|quadratic|extremes|linear (the claims need uniform and linupper)"),
    DL_FIELD_DOUBLE(rw_cfg, r, "reweight.r", 0.4, 1e-3, 1e6,
                    "temperature of the KL-regularised weights (paper's GPT-2 runs: 0.4 or 1)"),
    DL_FIELD_DOUBLE(rw_cfg, delta, "reweight.delta", 1.0, 1e-3, 100,
                    "half-width of the normalised loss range (1 in the paper's code)"),
    DL_FIELD_INT(rw_cfg, rw_warmup, "reweight.warmup", 100, 0, 10000000,
                 "burn-out steps with uniform weights before reweighting starts"),
    DL_FIELD_DOUBLE(rw_cfg, warmup_r, "reweight.warmup_r", 0, 0, 1e6,
                    "0: uniform weights during the burn-out; > 0: this temperature instead"),
    DL_FIELD_INT(rw_cfg, seeds, "lm.seeds", 4, 2, 64,
                 "training seeds per strategy (model init and data draw; standard errors over them)"),
    DL_FIELD_BOOL(rw_cfg, lm_enable, "lm.enable", 1, "train the language models (claims C1, C2)"),
    DL_FIELD_INT(rw_cfg, eval_every, "eval.every", 50, 1, 10000000, "validation loss every N steps"),
    DL_FIELD_INT(rw_cfg, eval_windows, "eval.windows", 128, 1, 1000000,
                 "held-out clean validation sequences (fixed per run)"),
    DL_FIELD_INT(rw_cfg, log_every, "log.every", 10, 1, 10000000, "metrics row every N steps"),
    DL_FIELD_INT(rw_cfg, hist_bins, "log.hist_bins", 20, 2, 200, "bins of the weight histograms"),
    DL_FIELD_BOOL(rw_cfg, lr_enable, "linreg.enable", 1, "run the linear-regression theory check (C3)"),
    DL_FIELD_INT(rw_cfg, lr_dim, "linreg.dim", 50, 1, 100000, "input dimension d"),
    DL_FIELD_INT(rw_cfg, lr_ntrain, "linreg.n_train", 10000, 2, 10000000, "training samples"),
    DL_FIELD_INT(rw_cfg, lr_ntest, "linreg.n_test", 2000, 1, 10000000, "test samples"),
    DL_FIELD_INT(rw_cfg, lr_batch, "linreg.batch", 128, 2, 100000, "SGD batch"),
    DL_FIELD_DOUBLE(rw_cfg, lr_lr, "linreg.lr", 0.01, 0, 10, "SGD learning rate"),
    DL_FIELD_INT(rw_cfg, lr_steps, "linreg.steps", 2000, 1, 10000000, "SGD steps"),
    DL_FIELD_DOUBLE(rw_cfg, lr_r, "linreg.r", 1.0, 1e-3, 1e6, "temperature of the weights"),
    DL_FIELD_DOUBLE(rw_cfg, lr_noise, "linreg.noise", 0.0, 0, 100,
                    "label-noise standard deviation (0 = interpolation, the theory's setting)"),
    DL_FIELD_STRING(rw_cfg, lr_strategies, "linreg.strategies", "uniform,linupper,quadratic,extremes",
                    "comma-separated strategies compared on linear regression"),
    DL_FIELD_INT(rw_cfg, lr_log_every, "linreg.log_every", 20, 1, 1000000, "test error every N steps"),
    DL_FIELD_DOUBLE(rw_cfg, lr_fit_floor, "linreg.fit_floor", 1e-5, 0, 1,
                    "convergence rates are fitted on test errors above this (below ~1e-6 losses the "
                    "normalisation's 1e-6 range floor makes every strategy uniform)"),
    DL_FIELD_INT(rw_cfg, lr_mc, "linreg.mc_batches", 4000, 10, 10000000,
                 "Monte Carlo batches for the theory's progress factor kappa"),
};

static const dl_config_schema rw_schema = {rw_fields, sizeof rw_fields / sizeof rw_fields[0],
                                           sizeof(rw_cfg)};

int rw_parse_strategies(const char *list, const char *key, dl_rw_strategy *out, int max, int *n,
                        char *err, size_t errlen) {
    *n = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char name[32];
        while (len && *p == ' ') p++, len--;
        while (len && p[len - 1] == ' ') len--;
        if (len == 0 || len >= sizeof name) {
            snprintf(err, errlen, "%s: empty or overlong strategy name in '%s'", key, list);
            return -1;
        }
        memcpy(name, p, len);
        name[len] = 0;
        int s = dl_rw_parse(name);
        if (s < 0) {
            snprintf(err, errlen, "%s: unknown strategy '%s' (choose from %s)", key, name, dl_rw_names());
            return -1;
        }
        for (int i = 0; i < *n; i++)
            if ((int)out[i] == s) {
                snprintf(err, errlen, "%s: strategy '%s' listed twice", key, name);
                return -1;
            }
        if (*n >= max) {
            snprintf(err, errlen, "%s: too many strategies", key);
            return -1;
        }
        out[(*n)++] = (dl_rw_strategy)s;
        if (!e) break;
        p = e + 1;
    }
    if (*n == 0) {
        snprintf(err, errlen, "%s: no strategy given", key);
        return -1;
    }
    return 0;
}

int rw_run(const void *vcfg, dl_run *run) {
    const rw_cfg *cfg = vcfg;
    const int untrained = dl_run_untrained(run);
    if (untrained) dl_log(run, "control untrained: learning rates are zero, everything else as configured");
    /* Configuration checks first, so a bad value stops the run before any work. */
    dl_rw_strategy tmp[DL_RW_COUNT];
    int n = 0;
    char err[256];
    if (rw_parse_strategies(cfg->strategies, "reweight.strategies", tmp, DL_RW_COUNT, &n, err, sizeof err) ||
        rw_parse_strategies(cfg->lr_strategies, "linreg.strategies", tmp, DL_RW_COUNT, &n, err, sizeof err)) {
        dl_log(run, "error: %s", err);
        return 1;
    }
    if (cfg->d_model % cfg->heads != 0) {
        dl_log(run, "error: model.d_model (%d) must be divisible by model.heads (%d)", cfg->d_model, cfg->heads);
        return 1;
    }
    if (cfg->dup_frac + cfg->noise_frac >= 1) {
        dl_log(run, "error: data.dup_frac + data.noise_frac (%g) must be below 1", cfg->dup_frac + cfg->noise_frac);
        return 1;
    }
    if (!cfg->lr_enable && !cfg->lm_enable) {
        dl_log(run, "error: linreg.enable and lm.enable are both false: nothing to run");
        return 1;
    }
    int rc = 0;
    if (cfg->lr_enable) rc = rw_linreg_run(cfg, run, untrained);
    if (rc == 0 && cfg->lm_enable) rc = rw_lm_run(cfg, run, untrained);
    return rc;
}

static const dl_preset rw_presets[] = {
    {"quick", "{}"},
    {"paper", "{\"model\": {\"seq_len\": 64, \"d_model\": 128, \"heads\": 4, \"layers\": 4},"
              " \"train\": {\"steps\": 1000, \"lr\": 1e-3, \"min_lr\": 1e-4, \"warmup\": 50},"
              " \"lm\": {\"seeds\": 3}, \"eval\": {\"every\": 100, \"windows\": 256},"
              " \"data\": {\"man_pages\": 1000}}"},
    {NULL, NULL},
};

const dl_experiment dl_exp_reweight = {
    .name = "reweight",
    .title = "Dynamic Loss-Based Sample Reweighting for Improved LLM Pretraining",
    .arxiv = "2502.06733",
    .summary = "Each sample of a minibatch is weighted online by a function of its current loss "
               "(normalised to the batch's range, then a softmax at temperature r of a strategy "
               "score: LinUpper, Quadratic or Extremes). Strategies that deprioritise redundant, "
               "low-loss samples speed up and improve language-model pretraining, and a "
               "convergence analysis of gradient methods under loss-based weights explains why.",
    .schema = &rw_schema,
    .presets = rw_presets,
    .run = rw_run,
};
