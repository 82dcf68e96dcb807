/* Training run of the character-level GPT: AdamW with warmup + cosine decay,
 * gradient clipping, periodic validation, checkpoints with exact resume,
 * claims, the loss plot and an optional sample.
 *
 * Determinism and resume: every random draw is keyed by (seed, stream) with
 * the stream derived from what it is for and the step it belongs to
 * (batch of step s: stream DATA + s), never from a stateful stream, so a run
 * resumed from the checkpoint written after step s draws exactly what an
 * uninterrupted run draws and its metrics are bitwise identical. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "dynlab/checkpoint.h"
#include "dynlab/nn.h"
#include "dynlab/optim.h"
#include "dynlab/plot.h"
#include "gpt/gpt.h"
#include "dist/dist.h"

enum { STREAM_INIT = 1, STREAM_EVAL = 2, STREAM_SAMPLE = 3 };
#define STREAM_DATA ((uint64_t)1 << 40)    /* + step */
#define STREAM_DROPOUT ((uint64_t)2 << 40) /* + step */
#define N_RNG_WORDS 3                      /* checkpoint "rng_state": seed, n_train, vocab */

typedef struct { double *x, *y; int n, cap; } series_buf;

static void sb_push(series_buf *s, double x, double y) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        double *nx = realloc(s->x, (size_t)s->cap * sizeof *nx);
        double *ny = nx ? realloc(s->y, (size_t)s->cap * sizeof *ny) : NULL;
        if (!nx || !ny) abort();
        s->x = nx;
        s->y = ny;
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->n++;
}

static void sb_free(series_buf *s) {
    free(s->x);
    free(s->y);
}

/* One replica's share of a training step (core.h replicas): its rows of the
 * batch, its own dropout stream, loss and backward. Replica 0 of a single
 * process draws the stream the code always drew. */
typedef struct train_step_ctx {
    dl_gpt *model;
    const int *tok, *tgt;
    int B, T;
    uint64_t seed, dropout_stream;
} train_step_ctx;

static float train_replica(dl_graph *g, int r, int n, void *ctx) {
    const train_step_ctx *c = ctx;
    const int b0 = c->B * r / n, b1 = c->B * (r + 1) / n;
    dl_graph_set_training(g, 1);
    dl_graph_set_rng(g, c->seed, c->dropout_stream + ((uint64_t)r << 56));
    dl_tensor *loss = dl_gpt_loss(g, c->model, c->tok + (int64_t)b0 * c->T, c->tgt + (int64_t)b0 * c->T,
                                  b1 - b0, c->T);
    const float l = loss->data[0];
    if (isfinite(l)) dl_backward(g, loss); /* a NaN stops the run after the step */
    return l;
}

/* B windows of T+1 tokens starting at starts[] -> inputs and next-token targets. */
static void fill_batch(const int *text, const int64_t *starts, int B, int T, int *tok, int *tgt) {
    for (int b = 0; b < B; b++) {
        const int *w = text + starts[b];
        memcpy(tok + (size_t)b * T, w, (size_t)T * sizeof *tok);
        memcpy(tgt + (size_t)b * T, w + 1, (size_t)T * sizeof *tgt);
    }
}

/* Mean validation cross-entropy over the fixed windows (nats/char), and the
 * standard error of that mean across windows. */
static double evaluate(dl_graph *g, dl_gpt *m, const gpt_corpus *c, const int64_t *starts,
                       int n_windows, int B, int T, int *tok, int *tgt, double *se) {
    dl_graph_set_training(g, 0);
    dl_graph_set_grad_enabled(g, 0);
    double sum = 0, sum2 = 0;
    for (int w0 = 0; w0 < n_windows; w0 += B) {
        int nb = n_windows - w0 < B ? n_windows - w0 : B;
        fill_batch(c->val, starts + w0, nb, T, tok, tgt);
        dl_tensor *logits = dl_gpt_fwd(g, m, tok, nb, T);
        int s2[2] = {nb * T, c->vocab};
        dl_tensor *each = dl_cross_entropy_each(g, dl_reshape(g, logits, 2, s2), tgt, -1);
        for (int b = 0; b < nb; b++) {
            double l = 0;
            for (int t = 0; t < T; t++) l += each->data[b * T + t];
            l /= T;
            sum += l;
            sum2 += l * l;
        }
        dl_graph_reset(g);
    }
    dl_graph_set_grad_enabled(g, 1);
    dl_graph_set_training(g, 1);
    double mean = sum / n_windows;
    double var = n_windows > 1 ? (sum2 - n_windows * mean * mean) / (n_windows - 1) : 0;
    *se = sqrt(var > 0 ? var / n_windows : 0);
    return mean;
}

/* On resume: keep the metrics rows of steps before the checkpoint (later rows
 * are regenerated), rebuild the loss history from them. */
static int trim_metrics(dl_run *run, int64_t resume_step, series_buf *train, series_buf *val,
                        double *val0) {
    char path[1200];
    dl_run_path(run, "metrics.jsonl", path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap), *kept = NULL;
    if (!buf) abort();
    for (size_t k; (k = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += k;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) abort();
            buf = nb;
        }
    }
    fclose(f);
    kept = malloc(n + 1);
    if (!kept) abort();
    size_t nk = 0;
    for (size_t p = 0; p < n;) {
        char *nl = memchr(buf + p, '\n', n - p);
        size_t e = nl ? (size_t)(nl - buf) : n;
        cJSON *row = cJSON_ParseWithLength(buf + p, e - p);
        cJSON *st = row ? cJSON_GetObjectItemCaseSensitive(row, "step") : NULL;
        if (cJSON_IsNumber(st) && st->valuedouble < (double)resume_step && nl) {
            memcpy(kept + nk, buf + p, e - p + 1);
            nk += e - p + 1;
            cJSON *tl = cJSON_GetObjectItemCaseSensitive(row, "train_loss");
            cJSON *vl = cJSON_GetObjectItemCaseSensitive(row, "val_loss");
            if (cJSON_IsNumber(tl)) sb_push(train, st->valuedouble, tl->valuedouble);
            if (cJSON_IsNumber(vl)) {
                sb_push(val, st->valuedouble, vl->valuedouble);
                if (st->valuedouble == 0) *val0 = vl->valuedouble;
            }
        }
        cJSON_Delete(row);
        p = e + 1;
    }
    free(buf);
    fflush(run->metrics);
    int rc = 0;
    if (ftruncate(fileno(run->metrics), 0) != 0 || fwrite(kept, 1, nk, run->metrics) != nk ||
        fflush(run->metrics) != 0) {
        dl_log(run, "error: cannot rewrite %s", path);
        rc = -1;
    }
    free(kept);
    return rc;
}

/* Autoregressive sample (temperature softmax over the last position). */
static void print_sample(dl_graph *g, dl_gpt *m, const gpt_corpus *c, const gpt_cfg *cfg,
                         dl_run *run) {
    int n_prompt = (int)strlen(cfg->sample_prompt);
    int total = n_prompt + cfg->sample_tokens + 1;
    int *seq = malloc((size_t)total * sizeof *seq);
    double *p = malloc((size_t)c->vocab * sizeof *p);
    char *text = malloc((size_t)total + 1);
    if (!seq || !p || !text) abort();
    int n = 0;
    for (int i = 0; i < n_prompt; i++) {
        int id = c->id_of[(unsigned char)cfg->sample_prompt[i]];
        if (id >= 0) seq[n++] = id;
    }
    if (n == 0) seq[n++] = c->id_of['\n'] >= 0 ? c->id_of['\n'] : 0;
    const int start = n;
    dl_rng r;
    dl_rng_init(&r, run->seed, STREAM_SAMPLE);
    dl_graph_set_training(g, 0);
    dl_graph_set_grad_enabled(g, 0);
    const int T = cfg->seq_len;
    for (int k = 0; k < cfg->sample_tokens; k++) {
        int ctx = n < T ? n : T;
        dl_tensor *logits = dl_gpt_fwd(g, m, seq + n - ctx, 1, ctx);
        const float *last = logits->data + (size_t)(ctx - 1) * c->vocab;
        double mx = -INFINITY, z = 0;
        for (int v = 0; v < c->vocab; v++) mx = fmax(mx, last[v] / cfg->sample_temperature);
        for (int v = 0; v < c->vocab; v++) z += p[v] = exp(last[v] / cfg->sample_temperature - mx);
        double u = dl_rng_uniform(&r) * z, acc = 0;
        int pick = c->vocab - 1;
        for (int v = 0; v < c->vocab; v++) {
            acc += p[v];
            if (u < acc) {
                pick = v;
                break;
            }
        }
        seq[n++] = pick;
        dl_graph_reset(g);
    }
    int L = 0;
    for (int i = (n_prompt ? 0 : start); i < n; i++) text[L++] = (char)c->byte_of[seq[i]];
    text[L] = 0;
    printf("---- sample (%d characters, temperature %.2f) ----\n%s\n---- end of sample ----\n",
           cfg->sample_tokens, cfg->sample_temperature, text);
    fflush(stdout);
    char path[1200];
    FILE *f = fopen(dl_run_path(run, "sample.txt", path, sizeof path), "wb");
    if (f) {
        fwrite(text, 1, (size_t)L, f);
        fclose(f);
    }
    free(seq);
    free(p);
    free(text);
}

static dl_sched_kind sched_of(const char *s) {
    if (!strcmp(s, "constant")) return DL_SCHED_CONSTANT;
    if (!strcmp(s, "linear")) return DL_SCHED_WARMUP_LINEAR;
    return DL_SCHED_COSINE;
}

int gpt_run(const void *vcfg, dl_run *run) {
    const gpt_cfg *cfg = vcfg;
    char err[1024];
    if (cfg->d_model % cfg->heads != 0) {
        dl_log(run, "error: model.d_model (%d) must be divisible by model.heads (%d)", cfg->d_model,
               cfg->heads);
        return 1;
    }
    gpt_corpus corpus;
    if (gpt_corpus_load(&corpus, cfg->data_path, cfg->val_frac, cfg->seq_len, err, sizeof err)) {
        dl_log(run, "error: %s", err);
        return 1;
    }
    const int B = cfg->batch, T = cfg->seq_len;
    dl_log(run,
           "corpus %s: %d files, %d documents (%d train / %d validation), %lld + %lld characters, "
           "vocabulary %d",
           cfg->data_path, corpus.n_files, corpus.n_docs, corpus.n_docs_train, corpus.n_docs_val,
           (long long)corpus.n_train, (long long)corpus.n_val, corpus.vocab);
    dl_log(run,
           "references (nats/char): unigram entropy %.4f, unigram model on validation %.4f, "
           "bigram model on validation %.4f",
           corpus.h_unigram, corpus.unigram_val_xent, corpus.bigram_val_xent);

    dl_gpt_config mc = {.vocab = corpus.vocab, .seq_len = T, .d_model = cfg->d_model,
                        .heads = cfg->heads, .layers = cfg->layers, .mlp_mult = cfg->mlp_mult,
                        .dropout = (float)cfg->dropout};
    dl_params ps;
    dl_params_init(&ps);
    dl_rng init_rng;
    dl_rng_init(&init_rng, run->seed, STREAM_INIT);
    dl_gpt model;
    dl_gpt_init(&model, &ps, &mc, &init_rng);
    dl_optim opt;
    dl_optim_init(&opt, &ps, DL_OPT_ADAMW, (float)cfg->lr);
    opt.weight_decay = (float)cfg->weight_decay;
    opt.beta1 = (float)cfg->beta1;
    opt.beta2 = (float)cfg->beta2;
    dl_log(run, "model: %d layers, d_model %d, %d heads, context %d: %lld parameters", cfg->layers,
           cfg->d_model, cfg->heads, T, (long long)dl_params_count(&ps));

    /* Fixed validation windows for this seed. */
    int64_t *eval_starts = malloc((size_t)cfg->eval_windows * sizeof *eval_starts);
    int64_t *starts = malloc((size_t)B * sizeof *starts);
    int *tok = malloc((size_t)B * T * sizeof *tok), *tgt = malloc((size_t)B * T * sizeof *tgt);
    if (!eval_starts || !starts || !tok || !tgt) abort();
    {
        dl_rng r;
        dl_rng_init(&r, run->seed, STREAM_EVAL);
        for (int i = 0; i < cfg->eval_windows; i++)
            eval_starts[i] = (int64_t)(dl_rng_uniform(&r) * (double)(corpus.n_val - T - 1));
    }

    series_buf h_train = {0}, h_val = {0};
    double val0 = NAN, val_se = 0;
    int64_t step = 0;
    int rc = 0;
    char ckpt[1200];
    dl_run_path(run, "checkpoint.safetensors", ckpt, sizeof ckpt);
    const uint64_t rng_words[N_RNG_WORDS] = {run->seed, (uint64_t)corpus.n_train,
                                             (uint64_t)corpus.vocab};
    if (run->resume) {
        uint64_t got[N_RNG_WORDS];
        if (access(ckpt, F_OK) != 0) {
            dl_log(run, "error: --resume: no checkpoint at %s", ckpt);
            rc = 1;
            goto done;
        }
        if (dl_checkpoint_load(ckpt, &ps, &opt, &step, got, N_RNG_WORDS, err, sizeof err)) {
            dl_log(run, "error: --resume: %s", err);
            rc = 1;
            goto done;
        }
        if (got[0] != rng_words[0] || got[1] != rng_words[1] || got[2] != rng_words[2]) {
            dl_log(run,
                   "error: --resume: %s was written with seed %llu on a corpus of %llu training "
                   "characters (vocabulary %llu); this run has seed %llu, %llu, %llu",
                   ckpt, (unsigned long long)got[0], (unsigned long long)got[1],
                   (unsigned long long)got[2], (unsigned long long)rng_words[0],
                   (unsigned long long)rng_words[1], (unsigned long long)rng_words[2]);
            rc = 1;
            goto done;
        }
        if (step > cfg->steps) {
            dl_log(run, "error: --resume: checkpoint is at step %lld, beyond train.steps = %d",
                   (long long)step, cfg->steps);
            rc = 1;
            goto done;
        }
        if (trim_metrics(run, step, &h_train, &h_val, &val0)) {
            rc = 1;
            goto done;
        }
        dl_log(run, "resumed from %s at step %lld", ckpt, (long long)step);
    }

    /* Data parallel (run->dp, docs/scale-out.md): every rank draws the same
     * global batch of B windows (stream DATA + step, as a single process does)
     * and trains on its rows [rank*B/P, (rank+1)*B/P); the union over ranks is
     * exactly the single-process batch. The mean of the ranks' gradients
     * (one all-reduce) is then the gradient of the global mean loss. */
    const int dp_size = run->dp ? dl_dist_size() : 1, dp_rank = run->dp ? dl_dist_rank() : 0;
    if (B % dp_size != 0) {
        dl_log(run, "error: --dp: train.batch (%d) must be divisible by the number of ranks (%d)", B,
               dp_size);
        rc = 1;
        goto done;
    }
    const int B_local = B / dp_size, row0 = dp_rank * B_local;
    if (B_local % cfg->replicas != 0) {
        dl_log(run, "error: train.replicas (%d) must divide the batch of %d sequences%s", cfg->replicas,
               B_local, run->dp ? " per rank" : "");
        rc = 1;
        goto done;
    }
    dl_replicas *reps = dl_replicas_new(&ps, cfg->replicas);
    if (cfg->replicas > 1)
        dl_log(run, "replicas: %d micro-batches of %d sequences side by side on %d thread(s)", cfg->replicas,
               B_local / cfg->replicas, dl_get_threads());
    if (run->dp)
        dl_log(run, "dp: rank %d of %d trains on rows %d..%d of each global batch of %d", dp_rank,
               dp_size, row0, row0 + B_local - 1, B);

    dl_graph *g = dl_graph_new();
    const dl_sched_kind sk = sched_of(cfg->schedule);
    const int untrained = dl_run_untrained(run);
    const double t0 = dl_now();
    const int64_t first_step = step;
    int stopped = 0;
    for (; step < cfg->steps; step++) {
        if (cfg->stop_after > 0 && step >= cfg->stop_after) {
            stopped = 1;
            break;
        }
        int do_eval = step % cfg->eval_every == 0, do_log = do_eval || step % cfg->log_every == 0;
        double vl = 0;
        if (do_eval) {
            vl = evaluate(g, &model, &corpus, eval_starts, cfg->eval_windows, B, T, tok, tgt, &val_se);
            if (step == 0) val0 = vl;
            sb_push(&h_val, (double)step, vl);
        }
        dl_rng r;
        dl_rng_init(&r, run->seed, STREAM_DATA + (uint64_t)step);
        for (int b = 0; b < B; b++) starts[b] = (int64_t)dl_rng_below(&r, (uint32_t)(corpus.n_train - T - 1));
        fill_batch(corpus.train, starts + row0, B_local, T, tok, tgt);
        /* The untrained control runs every step with learning rate zero. */
        float lr = untrained ? 0.0f : dl_lr_at(sk, (float)cfg->lr, (float)cfg->min_lr, step, cfg->warmup, cfg->steps);
        /* dropout masks keyed by (seed, step, rank, replica); rank 0 = single process.
         * Equal micro-batches of a mean loss: the batch gradient is their mean. */
        train_step_ctx sc = {&model, tok, tgt, B_local, T, run->seed,
                             STREAM_DROPOUT + (uint64_t)step + ((uint64_t)dp_rank << 32)};
        double l = dl_replicas_step(reps, train_replica, &sc, 1.0f / (float)cfg->replicas);
        if (dl_check_finite(run, "training loss", l, step)) {
            rc = 1;
            break;
        }
        if (run->dp) { /* mean gradient and mean loss over the ranks: one MPI_Allreduce */
            float lf = (float)l;
            if (dl_dist_allreduce_grads_extra(&ps, &lf, 1)) {
                dl_log(run, "error: --dp: gradient all-reduce failed at step %lld", (long long)step);
                rc = 1;
                break;
            }
            l = lf;
        }
        double gn = cfg->clip > 0 ? dl_clip_grad_norm(&ps, cfg->clip) : dl_grad_norm(&ps);
        dl_optim_step(&opt, lr);
        dl_replicas_reset(reps);
        if (do_log) {
            sb_push(&h_train, (double)step, l);
            dl_metrics_begin(run, step);
            dl_metrics_add(run, "train_loss", l);
            if (do_eval) dl_metrics_add(run, "val_loss", vl);
            dl_metrics_add(run, "lr", lr);
            dl_metrics_add(run, "grad_norm", gn);
            dl_metrics_end(run);
        }
        char extra[96];
        snprintf(extra, sizeof extra, "loss %.3f", l);
        dl_progress(run, "train", step + 1, cfg->steps, extra);
        /* Metrics rows before a checkpoint reach the file before it does, so
         * a kill after the checkpoint loses no row that resume keeps. */
        if (cfg->ckpt_every > 0 && (step + 1) % cfg->ckpt_every == 0 && run->metrics)
            fflush(run->metrics);
        if (cfg->ckpt_every > 0 && (step + 1) % cfg->ckpt_every == 0 &&
            dl_checkpoint_save(ckpt, &ps, &opt, step + 1, rng_words, N_RNG_WORDS, err, sizeof err)) {
            dl_log(run, "error: %s", err);
            rc = 1;
            break;
        }
    }
    const double train_s = dl_now() - t0;
    if (run->metrics) fflush(run->metrics);
    if (rc == 0 && run->dp) { /* every rank applied the same steps: weights must be bitwise equal */
        char msg[512];
        int same = dl_dist_params_identical(&ps, msg, sizeof msg);
        dl_log(run, "dp: %d ranks, parameter hash %s: %s", dp_size, msg,
               same ? "identical on every rank" : "DIFFERENT");
        dl_final(run, "dp_ranks", dp_size);
        dl_final(run, "dp_params_identical", same);
        if (!same) rc = 1;
    }
    if (rc == 0 && dl_checkpoint_save(ckpt, &ps, &opt, step, rng_words, N_RNG_WORDS, err, sizeof err)) {
        dl_log(run, "error: %s", err);
        rc = 1;
    }
    if (rc == 0 && stopped) {
        dl_log(run, "stopped after step %lld (train.stop_after); continue with --resume", (long long)step);
    } else if (rc == 0) {
        /* Final validation at the end of training. */
        double vl = evaluate(g, &model, &corpus, eval_starts, cfg->eval_windows, B, T, tok, tgt, &val_se);
        sb_push(&h_val, (double)step, vl);
        dl_metrics_begin(run, step);
        dl_metrics_add(run, "val_loss", vl);
        dl_metrics_end(run);
        int64_t steps_run = step - first_step;
        double flops = dl_gpt_train_flops(&mc, B, T) * (double)steps_run;
        dl_log(run, "validation loss %.4f nats/char (step 0: %.4f); %lld steps in %.1f s (%.2f GFLOP/s)",
               vl, val0, (long long)steps_run, train_s, train_s > 0 ? flops / train_s * 1e-9 : 0.0);

        dl_final(run, "val_loss", vl);
        dl_final(run, "val_loss_se", val_se);
        dl_final(run, "val_loss_step0", val0);
        dl_final(run, "val_bits_per_char", vl / log(2.0));
        dl_final(run, "unigram_entropy", corpus.h_unigram);
        dl_final(run, "unigram_val_xent", corpus.unigram_val_xent);
        dl_final(run, "bigram_val_xent", corpus.bigram_val_xent);
        dl_final(run, "bigram_train_hcond", corpus.bigram_train_hcond);
        dl_final(run, "vocab", corpus.vocab);
        dl_final(run, "params", (double)dl_params_count(&ps));
        dl_final(run, "train_chars", (double)corpus.n_train);
        dl_final(run, "val_chars", (double)corpus.n_val);
        dl_final(run, "train_seconds", train_s);
        if (steps_run > 0) dl_final(run, "steps_per_second", (double)steps_run / train_s);

        /* C1: context use. A model without context cannot beat the letter
         * entropy; the margin (claims.margin, default 0.5 nats) is ~15% of it
         * and >10x the standard error of the validation estimate. */
        char thr[96], meas[96], stmt[256];
        double bound = corpus.h_unigram - cfg->claim_margin;
        snprintf(thr, sizeof thr, "< %.3f (H1 %.3f - %.2f)", bound, corpus.h_unigram, cfg->claim_margin);
        snprintf(meas, sizeof meas, "%.3f +- %.3f nats/char", vl, val_se);
        snprintf(stmt, sizeof stmt,
                 "validation cross-entropy is clearly below the corpus's unigram (letter-frequency) entropy");
        dl_claim_check(run, DL_CLAIM_LEARNED, "C1", stmt,
                     "Shannon 1951, 'Prediction and Entropy of Printed English' (F_N decreasing in "
                     "N); GPT-2 section 2; docs/papers/gpt.md",
                     thr, vl, meas, vl < bound);
        snprintf(thr, sizeof thr, "< %.3f (step 0)", val0);
        dl_claim_check(run, DL_CLAIM_LEARNED, "C2",
                       "training lowers the validation loss below the untrained model's",
                       "GPT-2 section 2 (language modelling on real text); docs/papers/gpt.md", thr, vl,
                       NULL, vl < val0);
        if (cfg->claim_bigram) {
            snprintf(thr, sizeof thr, "< %.3f (bigram model)", corpus.bigram_val_xent);
            dl_claim_check(run, DL_CLAIM_LEARNED, "C3",
                         "validation cross-entropy is below a bigram model's (uses more than one "
                         "character of context)",
                         "Shannon 1951, F_2 > F_N for N > 2; GPT-2 section 3 (language modelling); "
                         "docs/papers/gpt.md", thr, vl,
                         NULL, vl < corpus.bigram_val_xent);
        }

        /* Plot: train/val loss with the n-gram references. */
        double rx[2] = {0, (double)cfg->steps}, ru[2] = {corpus.h_unigram, corpus.h_unigram},
               rb[2] = {corpus.bigram_val_xent, corpus.bigram_val_xent};
        dl_series s[4] = {
            {.name = "train loss (batch)", .x = h_train.x, .y = h_train.y, .n = h_train.n},
            {.name = "validation loss", .x = h_val.x, .y = h_val.y, .n = h_val.n},
            {.name = "unigram entropy H1", .x = rx, .y = ru, .n = 2, .dashed = 1},
            {.name = "bigram model (validation)", .x = rx, .y = rb, .n = 2, .dashed = 1},
        };
        dl_plot_opts po = {.title = "character-level GPT on fortunes", .xlabel = "step",
                           .ylabel = "cross-entropy (nats/char)"};
        dl_plot_lines(run, "loss_vs_step",
                      "Training and validation cross-entropy vs step, with the corpus's unigram "
                      "entropy and the bigram model's validation cross-entropy as references (C1, C3)",
                      &po, s, 4);
        if (cfg->sample_tokens > 0) print_sample(g, &model, &corpus, cfg, run);
    }
    dl_graph_free(g);
    dl_replicas_free(reps);
done:
    sb_free(&h_train);
    sb_free(&h_val);
    free(eval_starts);
    free(starts);
    free(tok);
    free(tgt);
    dl_optim_free(&opt);
    dl_gpt_free(&model);
    dl_params_free(&ps);
    gpt_corpus_free(&corpus);
    return rc;
}
