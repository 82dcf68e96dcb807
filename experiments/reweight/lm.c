/* Language modelling under loss-based sample reweighting: the gpt system's
 * decoder (src/nn: dl_gpt) trained on a mixture of
 *   prose     clean windows of the fortunes,
 *   manual    clean windows of manual-page text,
 *   duplicate exact copies of a small pool of clean windows (redundant samples),
 *   noise     lines of uniformly random printable characters (uninformative),
 * with the per-sequence losses of each batch reweighted by the engine
 * (include/dynlab/reweight.h) and validation on held-out clean text only.
 *
 * Each strategy is trained from the same initialisation on the same batches
 * for every training seed j (paired comparison): init stream INIT + j, batch of
 * step s stream DATA + (j << 32) + s. The (strategy, seed) trainings are
 * independent jobs, run side by side on the available threads (each job's ops
 * single-threaded), so the results do not depend on the thread count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/nn.h"
#include "dynlab/optim.h"
#include "dynlab/plot.h"
#include "dynlab/reweight.h"
#include "reweight/reweight.h"
#include "dist/dist.h"

enum { STREAM_INIT = 1000, STREAM_EVAL = 999, STREAM_DUP = 2000 };
#define STREAM_DATA ((uint64_t)5 << 40) /* + (seed << 32) + step */
#define HIST_MAX 3.0                    /* histograms of n*w over [0, 3] (top bin open) */

static const char *const src_name[RW_N_SRC] = {"prose", "manual", "duplicate", "noise"};

typedef struct lm_job {
    int strat, seed;
    double *val;        /* [n_eval] validation loss at the eval points */
    double *wsrc, *lsrc;/* [n_log][RW_N_SRC] mean n*w and mean loss per source over the log interval */
    double *hist;       /* [2 (early, late)][RW_N_SRC][bins] counts of n*w */
    double wpost[RW_N_SRC], npost[RW_N_SRC]; /* sum of n*w and count after warm-up */
    double seconds;
    int rc, params_identical;
    char err[160];
} lm_job;

typedef struct lm_ctx {
    const rw_cfg *cfg;
    const rw_corpus *c;
    uint64_t seed;
    int untrained, n_eval, n_log, bins;
    const int64_t *eval_start; /* [eval_windows] */
    const int *eval_src;       /* [eval_windows] RW_SRC_PROSE or RW_SRC_MANUAL */
    const dl_rw_strategy *strat;
    int64_t hist_len;          /* steps in each histogram window */
    int dp_size, dp_rank;      /* data parallel over MPI ranks (1, 0 without --dp) */
} lm_ctx;

static double evaluate(dl_graph *g, dl_gpt *m, const lm_ctx *x, int *tok, int *tgt) {
    const rw_cfg *cfg = x->cfg;
    const int T = cfg->seq_len, B = cfg->batch, V = x->c->vocab;
    dl_graph_set_training(g, 0);
    dl_graph_set_grad_enabled(g, 0);
    double sum = 0;
    for (int w0 = 0; w0 < cfg->eval_windows; w0 += B) {
        int nb = cfg->eval_windows - w0 < B ? cfg->eval_windows - w0 : B;
        for (int b = 0; b < nb; b++) {
            const int *w = x->c->val[x->eval_src[w0 + b]] + x->eval_start[w0 + b];
            memcpy(tok + (size_t)b * T, w, (size_t)T * sizeof *tok);
            memcpy(tgt + (size_t)b * T, w + 1, (size_t)T * sizeof *tgt);
        }
        dl_tensor *logits = dl_gpt_fwd(g, m, tok, nb, T);
        int s2[2] = {nb * T, V};
        dl_tensor *each = dl_cross_entropy_each(g, dl_reshape(g, logits, 2, s2), tgt, -1);
        for (int i = 0; i < nb * T; i++) sum += each->data[i];
        dl_graph_reset(g);
    }
    dl_graph_set_grad_enabled(g, 1);
    dl_graph_set_training(g, 1);
    return sum / ((double)cfg->eval_windows * T);
}

static void run_job(const lm_ctx *x, lm_job *jb) {
    const rw_cfg *cfg = x->cfg;
    const rw_corpus *c = x->c;
    const int B = cfg->batch, T = cfg->seq_len, V = c->vocab;
    const double t0 = dl_now();
    dl_gpt_config mc = {.vocab = V, .seq_len = T, .d_model = cfg->d_model, .heads = cfg->heads,
                        .layers = cfg->layers, .mlp_mult = cfg->mlp_mult, .dropout = 0};
    dl_params ps;
    dl_params_init(&ps);
    dl_rng ir;
    dl_rng_init(&ir, x->seed, STREAM_INIT + (uint64_t)jb->seed);
    dl_gpt model;
    dl_gpt_init(&model, &ps, &mc, &ir);
    dl_optim opt;
    dl_optim_init(&opt, &ps, DL_OPT_ADAMW, (float)cfg->lr);
    opt.weight_decay = (float)cfg->weight_decay;
    opt.beta2 = 0.99f;
    dl_reweight rw = {.strategy = x->strat[jb->strat], .delta = cfg->delta, .r = cfg->r,
                      .warmup = cfg->rw_warmup, .warmup_r = cfg->warmup_r};
    int *tok = malloc(sizeof(int) * (size_t)B * T), *tgt = malloc(sizeof(int) * (size_t)B * T);
    int *src = malloc(sizeof(int) * (size_t)B), *dup = malloc(sizeof(int) * (size_t)cfg->dup_pool * (T + 1));
    int *seq = malloc(sizeof(int) * (size_t)(T + 1));
    float *w = malloc(sizeof(float) * (size_t)B), *lall = malloc(sizeof(float) * (size_t)B);
    if (!tok || !tgt || !src || !dup || !seq || !w || !lall) abort();
    /* Data parallel: every rank draws the same global batch and trains on its
     * rows [row0, row0 + Bl); the per-sequence losses are all-gathered so the
     * weights are computed over the whole global batch (Algorithm 1, step 2),
     * each rank back-propagates P * sum_{i in rank} w_i l_i, and the mean of
     * the ranks' gradients is the gradient of sum_i w_i l_i. */
    const int P = x->dp_size, Bl = B / P, row0 = x->dp_rank * Bl;
    /* the duplicate pool: clean training windows, fixed for this training seed */
    dl_rng dr;
    dl_rng_init(&dr, x->seed, STREAM_DUP + (uint64_t)jb->seed);
    for (int k = 0; k < cfg->dup_pool; k++) {
        int s = dl_rng_uniform(&dr) < cfg->manual_frac ? RW_SRC_MANUAL : RW_SRC_PROSE;
        int64_t st = (int64_t)dl_rng_below(&dr, (uint32_t)(c->n_train[s] - T - 1));
        memcpy(dup + (size_t)k * (T + 1), c->train[s] + st, sizeof(int) * (size_t)(T + 1));
    }
    dl_graph *g = dl_graph_new();
    double wsum[RW_N_SRC] = {0}, lsum[RW_N_SRC] = {0}, cnt[RW_N_SRC] = {0};
    int ie = 0, il = 0;
    const int64_t h_early = cfg->rw_warmup, h_late = cfg->steps - x->hist_len;
    for (int64_t step = 0; step < cfg->steps; step++) {
        if (step % cfg->eval_every == 0) jb->val[ie++] = evaluate(g, &model, x, tok, tgt);
        dl_rng r;
        dl_rng_init(&r, x->seed, STREAM_DATA + ((uint64_t)jb->seed << 32) + (uint64_t)step);
        for (int b = 0; b < B; b++) {
            double u = dl_rng_uniform(&r);
            if (u < cfg->noise_frac) {
                src[b] = RW_SRC_NOISE;
                for (int t = 0; t <= T; t++) seq[t] = 1 + (int)dl_rng_below(&r, (uint32_t)(V - 1));
            } else if (u < cfg->noise_frac + cfg->dup_frac) {
                src[b] = RW_SRC_DUP;
                memcpy(seq, dup + (size_t)dl_rng_below(&r, (uint32_t)cfg->dup_pool) * (T + 1),
                       sizeof(int) * (size_t)(T + 1));
            } else {
                int s = dl_rng_uniform(&r) < cfg->manual_frac ? RW_SRC_MANUAL : RW_SRC_PROSE;
                int64_t st = (int64_t)dl_rng_below(&r, (uint32_t)(c->n_train[s] - T - 1));
                src[b] = s;
                memcpy(seq, c->train[s] + st, sizeof(int) * (size_t)(T + 1));
            }
            memcpy(tok + (size_t)b * T, seq, sizeof(int) * (size_t)T);
            memcpy(tgt + (size_t)b * T, seq + 1, sizeof(int) * (size_t)T);
        }
        /* per-sequence mean next-token cross-entropy (Algorithm 1, step 1) */
        dl_tensor *logits = dl_gpt_fwd(g, &model, tok + (size_t)row0 * T, Bl, T);
        int s2[2] = {Bl * T, V}, s3[2] = {Bl, T};
        dl_tensor *each = dl_reshape(
            g, dl_cross_entropy_each(g, dl_reshape(g, logits, 2, s2), tgt + (size_t)row0 * T, -1), 2, s3);
        dl_tensor *per = dl_mean(g, each, 1, 0);
        if (P == 1) {
            memcpy(lall, per->data, sizeof(float) * (size_t)B);
        } else if (dl_dist_allgather_floats(per->data, Bl, lall)) {
            jb->rc = 1;
            snprintf(jb->err, sizeof jb->err, "--dp: loss all-gather failed at step %lld", (long long)step);
            dl_graph_reset(g);
            break;
        }
        dl_rw_weights(&rw, step, lall, B, w); /* steps 2-5, no gradient */
        dl_tensor *loss = dl_rw_weighted_loss(g, per, w + row0);
        if (P > 1) loss = dl_scale(g, loss, (float)P);
        double total = 0; /* the global weighted loss, the same on every rank */
        for (int b = 0; b < B; b++) total += (double)w[b] * lall[b];
        if (!isfinite(total)) {
            jb->rc = 1;
            snprintf(jb->err, sizeof jb->err, "training loss of %s (seed %d) is %g at step %lld",
                     dl_rw_name(rw.strategy), jb->seed, total, (long long)step);
            dl_graph_reset(g);
            break;
        }
        dl_backward(g, loss);
        if (P > 1 && dl_dist_allreduce_grads(&ps)) {
            jb->rc = 1;
            snprintf(jb->err, sizeof jb->err, "--dp: gradient all-reduce failed at step %lld", (long long)step);
            dl_graph_reset(g);
            break;
        }
        if (cfg->clip > 0) dl_clip_grad_norm(&ps, cfg->clip);
        float lr = x->untrained ? 0.0f
                                : dl_lr_at(DL_SCHED_COSINE, (float)cfg->lr, (float)cfg->min_lr, step,
                                           cfg->warmup, cfg->steps);
        dl_optim_step(&opt, lr);
        /* weight statistics: n*w (1 = uniform) */
        const int post = !dl_rw_in_warmup(&rw, step);
        for (int b = 0; b < B; b++) {
            const double nw = (double)B * w[b];
            wsum[src[b]] += nw;
            lsum[src[b]] += lall[b];
            cnt[src[b]] += 1;
            if (post) {
                jb->wpost[src[b]] += nw;
                jb->npost[src[b]] += 1;
            }
            int h = step >= h_early && step < h_early + x->hist_len ? 0 : step >= h_late ? 1 : -1;
            if (h >= 0) {
                int bin = (int)(nw / HIST_MAX * x->bins);
                if (bin >= x->bins) bin = x->bins - 1;
                jb->hist[((size_t)h * RW_N_SRC + src[b]) * x->bins + bin] += 1;
            }
        }
        dl_graph_reset(g);
        if ((step + 1) % cfg->log_every == 0 || step + 1 == cfg->steps) {
            for (int s = 0; s < RW_N_SRC; s++) {
                jb->wsrc[(size_t)il * RW_N_SRC + s] = cnt[s] > 0 ? wsum[s] / cnt[s] : NAN;
                jb->lsrc[(size_t)il * RW_N_SRC + s] = cnt[s] > 0 ? lsum[s] / cnt[s] : NAN;
                wsum[s] = lsum[s] = cnt[s] = 0;
            }
            il++;
        }
    }
    if (jb->rc == 0) jb->val[ie++] = evaluate(g, &model, x, tok, tgt);
    jb->seconds = dl_now() - t0;
    jb->params_identical = 1;
    if (P > 1) { /* every rank applied the same updates: bitwise equal weights */
        char msg[256];
        jb->params_identical = dl_dist_params_identical(&ps, msg, sizeof msg);
    }
    dl_graph_free(g);
    free(tok); free(tgt); free(src); free(dup); free(seq); free(w); free(lall);
    dl_optim_free(&opt);
    dl_gpt_free(&model);
    dl_params_free(&ps);
}

/* First step (linear interpolation between eval points) at which curve y
 * reaches `target`; -1 when it never does. */
static double steps_to(const double *xs, const double *y, int n, double target) {
    if (n > 0 && y[0] <= target) return xs[0];
    for (int i = 1; i < n; i++)
        if (y[i] <= target) return xs[i - 1] + (xs[i] - xs[i - 1]) * (y[i - 1] - target) / (y[i - 1] - y[i]);
    return -1;
}

int rw_lm_run(const rw_cfg *cfg, dl_run *run, int untrained) {
    dl_rw_strategy strat[DL_RW_COUNT];
    int ns = 0;
    char err[1024];
    if (rw_parse_strategies(cfg->strategies, "reweight.strategies", strat, DL_RW_COUNT, &ns, err, sizeof err)) {
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
    rw_corpus corpus;
    if (rw_corpus_load(&corpus, cfg, cfg->seq_len + 1, err, sizeof err)) {
        dl_log(run, "error: %s", err);
        return 1;
    }
    dl_log(run,
           "corpus: prose %d fortunes from %d files (%lld train / %lld validation characters); manual "
           "%d paragraphs from %d pages (%lld / %lld); vocabulary %d",
           corpus.n_docs[0], corpus.n_files[0], (long long)corpus.n_train[0], (long long)corpus.n_val[0],
           corpus.n_docs[1], corpus.n_files[1], (long long)corpus.n_train[1], (long long)corpus.n_val[1],
           corpus.vocab);
    dl_log(run,
           "mixture: %.0f%% duplicates of %d sequences, %.0f%% noise lines, the rest clean (%.0f%% of it "
           "manual pages); strategies %s at r %g after %d burn-out steps; %d training seeds",
           100 * cfg->dup_frac, cfg->dup_pool, 100 * cfg->noise_frac, 100 * cfg->manual_frac,
           cfg->strategies, cfg->r, cfg->rw_warmup, cfg->seeds);
    const int T = cfg->seq_len, W = cfg->eval_windows;
    int64_t *eval_start = malloc(sizeof(int64_t) * (size_t)W);
    int *eval_src = malloc(sizeof(int) * (size_t)W);
    if (!eval_start || !eval_src) abort();
    {
        dl_rng r;
        dl_rng_init(&r, run->seed, STREAM_EVAL);
        const int wm = (int)lround(cfg->manual_frac * W);
        for (int i = 0; i < W; i++) {
            eval_src[i] = i < wm ? RW_SRC_MANUAL : RW_SRC_PROSE;
            eval_start[i] = (int64_t)dl_rng_below(&r, (uint32_t)(corpus.n_val[eval_src[i]] - T - 1));
        }
    }
    const int n_eval = (cfg->steps - 1) / cfg->eval_every + 2; /* eval points + final */
    const int n_log = (cfg->steps + cfg->log_every - 1) / cfg->log_every;
    const int bins = cfg->hist_bins, nj = ns * cfg->seeds;
    int64_t hist_len = (cfg->steps - cfg->rw_warmup) / 10;
    if (hist_len < 1) hist_len = 1;
    const int dp_size = run->dp ? dl_dist_size() : 1, dp_rank = run->dp ? dl_dist_rank() : 0;
    if (cfg->batch % dp_size != 0) {
        dl_log(run, "error: --dp: train.batch (%d) must be divisible by the number of ranks (%d)", cfg->batch, dp_size);
        free(eval_start);
        free(eval_src);
        rw_corpus_free(&corpus);
        return 1;
    }
    if (run->dp)
        dl_log(run, "dp: rank %d of %d trains on rows %d..%d of each global batch of %d; trainings run one after another",
               dp_rank, dp_size, dp_rank * (cfg->batch / dp_size), (dp_rank + 1) * (cfg->batch / dp_size) - 1, cfg->batch);
    lm_ctx x = {cfg, &corpus, run->seed, untrained, n_eval, n_log, bins, eval_start, eval_src, strat, hist_len,
                dp_size, dp_rank};
    lm_job *jobs = calloc((size_t)nj, sizeof *jobs);
    if (!jobs) abort();
    for (int j = 0; j < nj; j++) {
        jobs[j].strat = j / cfg->seeds;
        jobs[j].seed = j % cfg->seeds;
        jobs[j].val = calloc((size_t)n_eval, sizeof(double));
        jobs[j].wsrc = calloc((size_t)n_log * RW_N_SRC, sizeof(double));
        jobs[j].lsrc = calloc((size_t)n_log * RW_N_SRC, sizeof(double));
        jobs[j].hist = calloc((size_t)2 * RW_N_SRC * bins, sizeof(double));
        if (!jobs[j].val || !jobs[j].wsrc || !jobs[j].lsrc || !jobs[j].hist) abort();
    }
    const double t0 = dl_now();
    int done = 0;
    dl_progress(run, "lm", 0, nj, NULL);
    /* Under --dp the trainings run one after another: every MPI call stays on
     * the main thread, in the same order on every rank. */
#pragma omp parallel for schedule(dynamic, 1) if (!run->dp)
    for (int j = 0; j < nj; j++) {
        run_job(&x, &jobs[j]);
#pragma omp critical(rw_progress)
        {
            char extra[96];
            snprintf(extra, sizeof extra, "%s seed %d: val %.3f", dl_rw_name(strat[jobs[j].strat]),
                     jobs[j].seed, jobs[j].val[n_eval - 1]);
            dl_progress(run, "lm", ++done, nj, extra);
        }
    }
    const double wall = dl_now() - t0;
    int rc = 0;
    for (int j = 0; j < nj; j++)
        if (jobs[j].rc) {
            dl_log(run, "error: %s", jobs[j].err);
            rc = 1;
            break;
        }
    double *xs = malloc(sizeof(double) * (size_t)n_eval), *xt = malloc(sizeof(double) * (size_t)n_eval);
    double *vm = calloc((size_t)ns * n_eval, sizeof(double)), *vs = calloc((size_t)ns * n_eval, sizeof(double));
    double *xl = malloc(sizeof(double) * (size_t)n_log);
    double *wm = calloc((size_t)ns * RW_N_SRC * n_log, sizeof(double));
    if (!xs || !xt || !vm || !vs || !xl || !wm) abort();
    for (int i = 0; i < n_eval; i++) {
        xs[i] = i < n_eval - 1 ? (double)i * cfg->eval_every : cfg->steps;
        xt[i] = xs[i] * cfg->batch * T;
    }
    for (int i = 0; i < n_log; i++) xl[i] = (i + 1) * cfg->log_every < cfg->steps ? (i + 1) * cfg->log_every : cfg->steps;
    if (rc == 0 && run->dp) {
        int same = 1;
        for (int j = 0; j < nj; j++) same &= jobs[j].params_identical;
        dl_log(run, "dp: %d ranks, parameters of all %d trainings %s", dp_size, nj,
               same ? "identical on every rank" : "DIFFERENT");
        dl_final(run, "dp_ranks", dp_size);
        dl_final(run, "dp_params_identical", same);
        if (!same) rc = 1;
    }
    if (rc) goto out;
    /* mean and standard deviation over seeds */
    const int K = cfg->seeds;
    for (int s = 0; s < ns; s++)
        for (int i = 0; i < n_eval; i++) {
            double m = 0, q = 0;
            for (int k = 0; k < K; k++) m += jobs[s * K + k].val[i];
            m /= K;
            for (int k = 0; k < K; k++) q += pow(jobs[s * K + k].val[i] - m, 2);
            vm[s * n_eval + i] = m;
            vs[s * n_eval + i] = sqrt(q / (K - 1));
        }
    for (int s = 0; s < ns; s++)
        for (int i = 0; i < n_log; i++)
            for (int q = 0; q < RW_N_SRC; q++) {
                double m = 0;
                for (int k = 0; k < K; k++) m += jobs[s * K + k].wsrc[(size_t)i * RW_N_SRC + q];
                wm[((size_t)s * RW_N_SRC + q) * n_log + i] = m / K;
            }
    /* metrics rows: the eval points (validation per strategy, mean over seeds)
     * and the log points (mean n*w per source per strategy) */
    for (int i = 0, l = 0; i < n_eval || l < n_log;) {
        double st_e = i < n_eval ? xs[i] : INFINITY, st_l = l < n_log ? xl[l] : INFINITY;
        double st = fmin(st_e, st_l);
        dl_metrics_begin(run, (int64_t)st);
        dl_metrics_add_str(run, "part", "lm");
        dl_metrics_add(run, "tokens", st * cfg->batch * T);
        char key[96];
        if (st_e == st) {
            for (int s = 0; s < ns; s++) {
                snprintf(key, sizeof key, "val_loss_%s", dl_rw_name(strat[s]));
                dl_metrics_add(run, key, vm[s * n_eval + i]);
                snprintf(key, sizeof key, "val_loss_se_%s", dl_rw_name(strat[s]));
                dl_metrics_add(run, key, vs[s * n_eval + i] / sqrt((double)K));
            }
            i++;
        }
        if (st_l == st) {
            for (int s = 0; s < ns; s++)
                for (int q = 0; q < RW_N_SRC; q++) {
                    double v = wm[((size_t)s * RW_N_SRC + q) * n_log + l];
                    if (!isfinite(v)) continue;
                    snprintf(key, sizeof key, "weight_%s_%s", dl_rw_name(strat[s]), src_name[q]);
                    dl_metrics_add(run, key, v);
                }
            l++;
        }
        dl_metrics_end(run);
    }
    for (int s = 0; s < ns; s++) {
        char key[96];
        snprintf(key, sizeof key, "val_loss_%s", dl_rw_name(strat[s]));
        dl_final(run, key, vm[s * n_eval + n_eval - 1]);
        snprintf(key, sizeof key, "val_loss_sd_%s", dl_rw_name(strat[s]));
        dl_final(run, key, vs[s * n_eval + n_eval - 1]);
        double wp[RW_N_SRC] = {0}, np_[RW_N_SRC] = {0};
        for (int k = 0; k < K; k++)
            for (int q = 0; q < RW_N_SRC; q++) {
                wp[q] += jobs[s * K + k].wpost[q];
                np_[q] += jobs[s * K + k].npost[q];
            }
        for (int q = 0; q < RW_N_SRC; q++) {
            snprintf(key, sizeof key, "weight_after_warmup_%s_%s", dl_rw_name(strat[s]), src_name[q]);
            if (np_[q] > 0) dl_final(run, key, wp[q] / np_[q]);
        }
        dl_log(run, "lm %-9s validation %.4f +- %.4f (sd over %d seeds); n*w after burn-out: prose %.3f manual %.3f duplicate %.3f noise %.3f",
               dl_rw_name(strat[s]), vm[s * n_eval + n_eval - 1], vs[s * n_eval + n_eval - 1], K,
               np_[0] ? wp[0] / np_[0] : NAN, np_[1] ? wp[1] / np_[1] : NAN, np_[2] ? wp[2] / np_[2] : NAN,
               np_[3] ? wp[3] / np_[3] : NAN);
    }
    double job_s = 0;
    for (int j = 0; j < nj; j++) job_s += jobs[j].seconds;
    dl_final(run, "lm_seconds", wall);
    dl_final(run, "lm_train_seconds_per_job", job_s / nj);
    dl_log(run, "lm: %d trainings of %d steps in %.1f s (%.1f s each)", nj, cfg->steps, wall, job_s / nj);

    /* ---- claims ---- */
    int iu = -1, il = -1;
    for (int s = 0; s < ns; s++) {
        if (strat[s] == DL_RW_UNIFORM) iu = s;
        if (strat[s] == DL_RW_LINUPPER) il = s;
    }
    if (iu < 0 || il < 0) {
        dl_log(run, "claims C1 and C2 compare linupper with uniform: reweight.strategies lists %s, so they are not checked",
               cfg->strategies);
    } else {
        /* C1: paired differences over the training seeds */
        double d[64], dm = 0, dq = 0;
        for (int k = 0; k < K; k++) {
            d[k] = jobs[iu * K + k].val[n_eval - 1] - jobs[il * K + k].val[n_eval - 1];
            dm += d[k];
        }
        dm /= K;
        for (int k = 0; k < K; k++) dq += (d[k] - dm) * (d[k] - dm);
        const double se = sqrt(dq / (K - 1) / K);
        const double target = vm[iu * n_eval + n_eval - 1];
        const double reach = steps_to(xs, vm + il * n_eval, n_eval, target);
        const double saving = reach >= 0 ? 100.0 * (1.0 - reach / cfg->steps) : -INFINITY;
        dl_final(run, "c1_val_gain", dm);
        dl_final(run, "c1_val_gain_se", se);
        dl_final(run, "c1_steps_to_uniform_final", reach);
        dl_final(run, "c1_step_saving_percent", isfinite(saving) ? saving : -100);
        char meas[96], thr[96];
        if (reach >= 0)
            snprintf(meas, sizeof meas, "gain %.4f (SE %.4f); %.0f%% fewer steps", dm, se, saving);
        else
            snprintf(meas, sizeof meas, "gain %.4f (SE %.4f); uniform's final loss not reached", dm, se);
        snprintf(thr, sizeof thr, "gain > SE over %d seeds; saving > 0%%", K);
        dl_claim_check(run, DL_CLAIM_LEARNED, "C1",
                       "LinUpper reweighting ends with a lower clean validation loss than uniform "
                       "weighting (by more than the standard error over seeds) and reaches uniform's "
                       "final loss in fewer steps",
                       "Sow et al. ICLR 2025, abstract (faster convergence, improved performance) and "
                       "the GPT-2 pretraining results",
                       thr, dm, meas, dm > 0 && dm > se && reach >= 0 && saving > 0);
        /* C2: duplicates vs clean, LinUpper, after the burn-out */
        double wc = 0, nc = 0, wd = 0, nd = 0;
        for (int k = 0; k < K; k++) {
            const lm_job *jb = &jobs[il * K + k];
            wc += jb->wpost[RW_SRC_PROSE] + jb->wpost[RW_SRC_MANUAL];
            nc += jb->npost[RW_SRC_PROSE] + jb->npost[RW_SRC_MANUAL];
            wd += jb->wpost[RW_SRC_DUP];
            nd += jb->npost[RW_SRC_DUP];
        }
        const double ratio = (nd > 0 && nc > 0 && wc > 0) ? (wd / nd) / (wc / nc) : NAN;
        dl_final(run, "c2_dup_over_clean_weight", ratio);
        snprintf(meas, sizeof meas, "%.3f (duplicate %.3f, clean %.3f)", ratio, nd ? wd / nd : NAN, nc ? wc / nc : NAN);
        dl_claim_check(run, DL_CLAIM_LEARNED, "C2",
                       "after the burn-out, LinUpper gives duplicated (redundant) sequences a lower mean "
                       "weight than clean text: at most half of it",
                       "Sow et al. ICLR 2025, abstract (deprioritise redundant or uninformative samples); "
                       "LinUpper's weight at the batch minimum is exp(-delta/r)",
                       "< 0.5", ratio, meas, ratio < 0.5);
    }

    /* ---- plots ---- */
    {
        dl_series sv[DL_RW_COUNT], st[DL_RW_COUNT];
        for (int s = 0; s < ns; s++) {
            sv[s] = (dl_series){.name = dl_rw_name(strat[s]), .x = xs, .y = vm + s * n_eval, .n = n_eval,
                                .ystd = vs + s * n_eval};
            st[s] = sv[s];
            st[s].x = xt;
        }
        dl_plot_opts po = {.title = "clean validation loss (mean and sd over seeds)", .xlabel = "step",
                           .ylabel = "cross-entropy (nats/char)"};
        dl_plot_lines(run, "lm_val_loss_vs_step",
                      "Clean validation loss vs step per weighting strategy, mean and standard deviation "
                      "over training seeds (C1)", &po, sv, ns);
        po.xlabel = "training tokens (characters)";
        dl_plot_lines(run, "lm_val_loss_vs_tokens",
                      "Clean validation loss vs training tokens per weighting strategy (C1)", &po, st, ns);
        dl_series sw[DL_RW_COUNT * RW_N_SRC];
        char names[DL_RW_COUNT * RW_N_SRC][48];
        int nw = 0;
        for (int s = 0; s < ns; s++) {
            if (strat[s] == DL_RW_UNIFORM) continue;
            for (int q = 0; q < RW_N_SRC; q++) {
                snprintf(names[nw], sizeof names[nw], "%s: %s", dl_rw_name(strat[s]), src_name[q]);
                sw[nw] = (dl_series){.name = names[nw], .x = xl, .y = wm + ((size_t)s * RW_N_SRC + q) * n_log,
                                     .n = n_log};
                nw++;
            }
        }
        double vline = cfg->rw_warmup;
        dl_plot_opts pw = {.title = "mean weight per source (n w; 1 = uniform)", .xlabel = "step",
                           .ylabel = "mean n*w", .vlines = &vline, .n_vlines = 1, .vline_label = "burn-out ends"};
        if (nw > 0)
            dl_plot_lines(run, "weight_per_source_vs_step",
                          "Mean weight (n w, 1 = uniform) per data source over training, mean over seeds; "
                          "the vertical line ends the burn-out (C2)", &pw, sw, nw);
        if (il >= 0) {
            double *hx = malloc(sizeof(double) * (size_t)bins);
            double *hy = calloc((size_t)2 * 3 * bins, sizeof(double));
            if (!hx || !hy) abort();
            for (int b = 0; b < bins; b++) hx[b] = (b + 0.5) * HIST_MAX / bins;
            static const char *const hn[6] = {"clean, early", "duplicate, early", "noise, early",
                                              "clean, late", "duplicate, late", "noise, late"};
            dl_series sh[6];
            for (int h = 0; h < 2; h++)
                for (int g3 = 0; g3 < 3; g3++) {
                    double *y = hy + ((size_t)h * 3 + g3) * bins, tot = 0;
                    for (int k = 0; k < K; k++) {
                        const double *hh = jobs[il * K + k].hist + (size_t)h * RW_N_SRC * bins;
                        for (int b = 0; b < bins; b++) {
                            double v = g3 == 0 ? hh[RW_SRC_PROSE * bins + b] + hh[RW_SRC_MANUAL * bins + b]
                                     : g3 == 1 ? hh[RW_SRC_DUP * bins + b] : hh[RW_SRC_NOISE * bins + b];
                            y[b] += v;
                            tot += v;
                        }
                    }
                    for (int b = 0; b < bins; b++) y[b] = tot > 0 ? y[b] / tot : 0;
                    sh[h * 3 + g3] = (dl_series){.name = hn[h * 3 + g3], .x = hx, .y = y, .n = bins,
                                                 .dashed = h == 0};
                }
            dl_plot_opts ph = {.title = "LinUpper weight histograms", .xlabel = "n*w (last bin open)",
                               .ylabel = "fraction of the source's sequences", .flags = DL_PLOT_LINESPOINTS};
            dl_plot_lines(run, "weight_histograms",
                          "Histograms of LinUpper's weights (n w) per source, early (the first tenth of "
                          "training after the burn-out, dashed) and late (the last tenth)", &ph, sh, 6);
            free(hx);
            free(hy);
        }
    }
out:
    for (int j = 0; j < nj; j++) {
        free(jobs[j].val); free(jobs[j].wsrc); free(jobs[j].lsrc); free(jobs[j].hist);
    }
    free(jobs);
    free(xs); free(xt); free(vm); free(vs); free(xl); free(wm);
    free(eval_start);
    free(eval_src);
    rw_corpus_free(&corpus);
    return rc;
}
