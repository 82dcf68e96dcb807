/* Registration of the `diffusion` system: discrete diffusion with uniform and
 * absorbing rate matrices (arXiv 2509.16756 and 2506.02318). */
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include "dynlab/experiment.h"
#include "diffusion/exp.h"

static const dl_field dd_fields[] = {
    DL_FIELD_INT(dd_cfg, S, "exact.S", 4, 2, 64, "vocabulary size of the exact-score targets (absorbing adds MASK)"),
    DL_FIELD_INT(dd_cfg, d, "exact.d", 3, 1, 6, "sequence length d of the exact-score targets ((S+1)^d <= 4096 keeps a run short)"),
    DL_FIELD_DOUBLE(dd_cfg, T, "exact.T", 12, 0.1, 50, "time horizon T of the forward process"),
    DL_FIELD_DOUBLE(dd_cfg, delta, "exact.delta", 1e-3, 1e-8, 1, "early-stopping time delta (> 0 here; the no-early-stopping study uses 0)"),
    DL_FIELD_DOUBLE(dd_cfg, alpha, "exact.alpha", 0.5, 0.01, 100, "Dirichlet concentration of the Markov-chain rows and table targets"),
    DL_FIELD_ENUM(dd_cfg, schedule, "exact.schedule", "geometric", "constant|geometric|loglinear",
                  "step schedule of the convergence study (C2, C3, KL vs d)"),
    DL_FIELD_ENUM(dd_cfg, multi_jump, "exact.multi_jump", "keep", "keep|first",
                  "tau-leaping with several Poisson jumps in one token: keep the token, or take one jump"),
    DL_FIELD_LIST(dd_cfg, steps, "exact.steps", "8,16,32,64,128", 1, 100000, "step counts N of the convergence studies"),
    DL_FIELD_LIST(dd_cfg, forward_T, "exact.forward_T", "1,2,4,8,12", 0.01, 50, "horizons T of the forward-bound check (C1)"),
    DL_FIELD_LIST(dd_cfg, scan_S, "scan.S", "4,8,16,32,64", 2, 64, "vocabulary sizes of the S study (C3)"),
    DL_FIELD_INT(dd_cfg, scan_S_d, "scan.S_d", 2, 1, 4, "sequence length of the S study"),
    DL_FIELD_INT(dd_cfg, scan_S_steps, "scan.S_steps", 16, 1, 100000, "steps of the S study"),
    DL_FIELD_LIST(dd_cfg, scan_d, "scan.d", "1,2,3,4,5", 1, 8, "sequence lengths of the d study"),
    DL_FIELD_INT(dd_cfg, scan_d_S, "scan.d_S", 3, 2, 16, "vocabulary size of the d study"),
    DL_FIELD_INT(dd_cfg, scan_d_steps, "scan.d_steps", 32, 1, 100000, "steps of the d study"),
    DL_FIELD_DOUBLE(dd_cfg, nostop_T, "nostop.T", 8, 0.1, 50, "horizon of the no-early-stopping study (C5)"),
    DL_FIELD_INT(dd_cfg, nostop_S, "nostop.S", 3, 2, 16, "data symbols of the no-early-stopping study (MASK is one more)"),
    DL_FIELD_INT(dd_cfg, nostop_d, "nostop.d", 3, 1, 5, "sequence length of the no-early-stopping study"),
    DL_FIELD_INT(dd_cfg, unif_S, "uniformization.S", 3, 2, 16, "vocabulary size of the uniformization check (C4)"),
    DL_FIELD_INT(dd_cfg, unif_d, "uniformization.d", 2, 1, 4, "sequence length of the uniformization check"),
    DL_FIELD_INT(dd_cfg, unif_samples, "uniformization.samples", 20000, 100, 100000000, "Monte Carlo samples per rate matrix"),
    DL_FIELD_DOUBLE(dd_cfg, unif_T, "uniformization.T", 8, 0.1, 50, "horizon of the uniformization check"),
    DL_FIELD_DOUBLE(dd_cfg, unif_delta, "uniformization.delta", 1e-3, 1e-8, 1, "early stopping of the uniformization check"),
    DL_FIELD_BOOL(dd_cfg, learn, "learn.enable", 1, "run the learned-score part (denoisers trained on text)"),
    DL_FIELD_STRING(dd_cfg, data_path, "learn.data", "/usr/share/games/fortunes",
                    "text corpus of the gpt system: a directory of fortune files or one text file"),
    DL_FIELD_ENUM(dd_cfg, alphabet, "learn.alphabet", "letters", "letters|bytes",
                  "letters: fold the text to a-z and space (27 symbols); bytes: every byte of the corpus"),
    DL_FIELD_INT(dd_cfg, seq_len, "learn.seq_len", 16, 2, 1024, "characters per sequence d"),
    DL_FIELD_INT(dd_cfg, d_model, "learn.d_model", 32, 4, 1024, "denoiser width"),
    DL_FIELD_INT(dd_cfg, heads, "learn.heads", 2, 1, 64, "attention heads (denoisers and evaluator)"),
    DL_FIELD_INT(dd_cfg, layers, "learn.layers", 2, 1, 24, "denoiser transformer blocks"),
    DL_FIELD_INT(dd_cfg, train_steps, "learn.steps", 1000, 1, 10000000, "AdamW steps per denoiser"),
    DL_FIELD_INT(dd_cfg, batch, "learn.batch", 32, 1, 4096, "sequences per training batch"),
    DL_FIELD_DOUBLE(dd_cfg, lr, "learn.lr", 3e-3, 0, 10, "peak learning rate (cosine decay to a tenth)"),
    DL_FIELD_DOUBLE(dd_cfg, t_min, "learn.t_min", 1e-3, 1e-8, 1, "smallest forward time drawn in training"),
    DL_FIELD_DOUBLE(dd_cfg, learn_T, "learn.T", 8, 0.1, 50, "horizon T of training and sampling"),
    DL_FIELD_DOUBLE(dd_cfg, learn_delta, "learn.delta", 1e-3, 1e-8, 1, "early stopping of the learned samplers"),
    DL_FIELD_ENUM(dd_cfg, learn_schedule, "learn.schedule", "loglinear", "constant|geometric|loglinear",
                  "step schedule of the learned samplers"),
    DL_FIELD_LIST(dd_cfg, sample_steps, "learn.sample_steps", "4,16,64", 1, 100000,
                  "step counts of the learned samplers (C6 compares the first and the last)"),
    DL_FIELD_INT(dd_cfg, n_samples, "learn.samples", 128, 2, 100000, "samples per sampler and step count"),
    DL_FIELD_INT(dd_cfg, gpt_steps, "learn.gpt_steps", 500, 1, 10000000, "AdamW steps of the GPT evaluator"),
    DL_FIELD_INT(dd_cfg, gpt_d_model, "learn.gpt_d_model", 32, 4, 1024, "GPT evaluator width"),
    DL_FIELD_INT(dd_cfg, gpt_layers, "learn.gpt_layers", 2, 1, 24, "GPT evaluator blocks"),
};

static const dl_config_schema dd_schema = {dd_fields, sizeof dd_fields / sizeof dd_fields[0], sizeof(dd_cfg)};

static const dl_preset dd_presets[] = {
    {"quick", "{}"},
    {"paper", "{\"exact\": {\"steps\": [8, 16, 32, 64, 128, 256]}, \"scan\": {\"d\": [1, 2, 3, 4, 5, 6]},"
              " \"uniformization\": {\"samples\": 200000},"
              " \"learn\": {\"seq_len\": 32, \"d_model\": 64, \"layers\": 2, \"steps\": 6000, \"gpt_steps\": 3000,"
              " \"gpt_d_model\": 64, \"samples\": 256, \"sample_steps\": [4, 8, 16, 32, 64, 128]}}"},
    {NULL, NULL},
};

static int dd_run(const void *vcfg, dl_run *run) {
    const dd_cfg *cfg = vcfg;
    if (dd_sched_parse(cfg->schedule) < 0) {
        dl_log(run, "error: exact.schedule: unknown schedule '%s'", cfg->schedule);
        return 1;
    }
    /* every exact computation holds whole laws on [K]^d: keep them enumerable */
    double maxS = 0, maxd = 0;
    for (int i = 0; i < cfg->scan_S.n; i++) maxS = cfg->scan_S.v[i] > maxS ? cfg->scan_S.v[i] : maxS;
    for (int i = 0; i < cfg->scan_d.n; i++) maxd = cfg->scan_d.v[i] > maxd ? cfg->scan_d.v[i] : maxd;
    const struct { const char *what; double states; } sz[] = {
        {"exact.S and exact.d", (double)dd_ipow(cfg->S + 1, cfg->d)},
        {"scan.S and scan.S_d", pow(maxS, cfg->scan_S_d)},
        {"scan.d_S and scan.d", pow(cfg->scan_d_S + 1, maxd)},
        {"nostop.S and nostop.d", (double)dd_ipow(cfg->nostop_S + 1, cfg->nostop_d)},
        {"uniformization.S and uniformization.d", (double)dd_ipow(cfg->unif_S + 1, cfg->unif_d)},
    };
    for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++)
        if (sz[i].states > 16384) {
            dl_log(run, "error: %s: %.0f states per law exceed 16384 (the exact part enumerates [S+1]^d)", sz[i].what,
                   sz[i].states);
            return 1;
        }
    if (cfg->learn && (cfg->d_model % cfg->heads || cfg->gpt_d_model % cfg->heads)) {
        dl_log(run, "error: learn.d_model (%d) and learn.gpt_d_model (%d) must be divisible by learn.heads (%d)",
               cfg->d_model, cfg->gpt_d_model, cfg->heads);
        return 1;
    }
    if (cfg->learn && access(cfg->data_path, R_OK) != 0) { /* fail before the exact part runs */
        dl_log(run, "error: learn.data: cannot read %s", cfg->data_path);
        return 1;
    }
    const double t0 = dl_now();
    if (dd_exact_part(cfg, run)) return 1;
    dl_final(run, "exact_seconds", dl_now() - t0);
    if (cfg->learn) {
        const double t1 = dl_now();
        if (dd_learned_part(cfg, run)) return 1;
        dl_final(run, "learned_seconds", dl_now() - t1);
    } else {
        dl_run_untrained(run); /* nothing is learned without the learned part */
    }
    return 0;
}

const dl_experiment dl_exp_diffusion = {
    .name = "diffusion",
    .title = "Discrete diffusion with uniform and absorbing rate matrices: tau-leaping, Euler, Tweedie "
             "tau-leaping and uniformization (Discrete Diffusion Models: Novel Analysis and New Sampler "
             "Guarantees; Absorb and Converge)",
    .arxiv = "2509.16756, 2506.02318",
    .summary = "For uniform rate matrices, tau-leaping converges in KL with a bound linear in the vocabulary "
               "size and without restrictive regularity assumptions, and the Euler method and Tweedie "
               "tau-leaping get their first guarantees (2509.16756). For absorbing (masking) rate matrices, "
               "the forward process is within d e^-T log S of a surrogate initialization, tau-leaping and "
               "uniformization converge with better rates than for uniform rates, and guarantees hold "
               "without early stopping when the data put mass on the mask (2506.02318).",
    .schema = &dd_schema,
    .presets = dd_presets,
    .run = dd_run,
};
