/* Transformer time-series forecaster feeding the greedy rule (spec C §3.8:
 * the abstract [V] names forecasting "including time-series foundation
 * models"; which TSFM the paper used is unknown, so this is a small stand-in
 * trained with the dynlab engine [R]).
 *
 * Input: the monitor's own history over the last `ctx` slots, one token per
 * slot: the observed state (a query happened) or MASK (the slot was predicted,
 * nothing was seen). Output at the last position: the distribution of the
 * state in the next slot. Training: next-token cross-entropy on chain
 * trajectories under random observation masks (per-sequence observation
 * probability ~ U(p_obs_lo, p_obs_hi)), so the model meets every gap length it
 * will see when greedy decides when to query. The Bayes answer is the row
 * e_i P^k of the last observed state i at gap k (pi when the window holds no
 * observation); the run reports the CE gap and mean TV to it.
 *
 * Deployment: `replicas` independent monitors run in lockstep, one batched
 * forward per slot; greedy queries iff the forecaster's expected loss
 * (1 - max prob, or the predictive variance for squared loss) reaches c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/core.h"
#include "dynlab/nn.h"
#include "dynlab/optim.h"
#include "monitor/exp.h"

enum { S_FC_INIT = 300, S_FC_DATA = 301, S_FC_VAL = 302, S_FC_SIM = 400, S_FC_REAL_INIT = 310, S_FC_REAL_DATA = 311 };

/* Where training sequences come from: trajectories of a chain, or windows
 * of a recorded state sequence (the real node: seq[0..seq_len)). */
typedef struct fc_source {
    const mon_chain *ch; /* NULL when seq is used */
    const int *seq;
    int seq_len, n;
} fc_source;

/* One training/validation batch: tokens [B, T] (state or MASK = n), targets
 * [B, T] (true next state), and for the Bayes reference the (last observed
 * state, gap) behind every target (-1 = none in the window). */
static void make_batch(const fc_source *src, const mon_cfg *cfg, dl_rng *r, int B, int T, int *tok, int *tgt,
                       int *last, int *gap) {
    int n = src->n;
    for (int b = 0; b < B; b++) {
        double p_obs = cfg->fc_p_obs_lo + (cfg->fc_p_obs_hi - cfg->fc_p_obs_lo) * dl_rng_uniform(r);
        int off = 0;
        if (!src->ch) off = (int)(dl_rng_uniform(r) * (double)(src->seq_len - T));
        int x = src->ch ? mon_sample_dist(src->ch->pi, n, r) : src->seq[off];
        int li = -1, lk = 0;
        for (int t = 0; t < T; t++) {
            int obs = dl_rng_uniform(r) < p_obs;
            tok[b * T + t] = obs ? x : n;
            if (obs) li = x, lk = 0;
            int nx = src->ch ? mon_chain_step(src->ch, x, r) : src->seq[off + t + 1];
            tgt[b * T + t] = nx;
            lk++;
            if (last) last[b * T + t] = li, gap[b * T + t] = lk;
            x = nx;
        }
    }
}

/* Softmax of the logits at position `pos` of row b into p (double). */
static void last_probs(const dl_tensor *logits, int b, int pos, int T, int V, double *p) {
    const float *z = logits->data + ((size_t)b * T + pos) * V;
    double mx = z[0], s = 0.0;
    for (int v = 1; v < V; v++)
        if (z[v] > mx) mx = z[v];
    for (int v = 0; v < V; v++) s += (p[v] = exp((double)z[v] - mx));
    for (int v = 0; v < V; v++) p[v] /= s;
}

/* Bayes predictive row for (last observed i, gap k): e_i P^k, or pi. */
static const double *bayes_row(const mon_chain *ch, const mon_model *m, int i, int k) {
    if (i < 0) return ch->pi;
    if (k > m->K) return ch->pi;
    return m->Pk + (size_t)(k - 1) * ch->n * ch->n + (size_t)i * ch->n;
}

static double validate(dl_graph *g, dl_gpt *gpt, const mon_chain *ch, const mon_model *m, const mon_cfg *cfg,
                       uint64_t seed, double *bayes_ce, double *tv) {
    int B = 64, T = cfg->fc_ctx, n = ch->n, V = n + 1;
    int *tok = malloc(sizeof(int) * B * T * 4);
    if (!tok) return NAN;
    int *tgt = tok + B * T, *last = tgt + B * T, *gap = last + B * T;
    dl_rng r;
    dl_rng_init(&r, seed, S_FC_VAL);
    fc_source src = {ch, NULL, 0, n};
    make_batch(&src, cfg, &r, B, T, tok, tgt, last, gap);
    dl_graph_set_training(g, 0);
    dl_graph_set_grad_enabled(g, 0);
    dl_tensor *logits = dl_gpt_fwd(g, gpt, tok, B, T);
    double ce = 0.0, bce = 0.0, tvs = 0.0, p[65];
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            last_probs(logits, b, t, T, V, p);
            const double *q = bayes_row(ch, m, last[b * T + t], gap[b * T + t]);
            int y = tgt[b * T + t];
            ce -= log(p[y] > 1e-300 ? p[y] : 1e-300);
            bce -= log(q[y]);
            double d = p[n]; /* mass on MASK counts as error */
            for (int j = 0; j < n; j++) d += fabs(p[j] - q[j]);
            tvs += 0.5 * d;
        }
    dl_graph_reset(g);
    dl_graph_set_grad_enabled(g, 1);
    dl_graph_set_training(g, 1);
    free(tok);
    *bayes_ce = bce / (B * T);
    *tv = tvs / (B * T);
    return ce / (B * T);
}

/* Greedy driven by the forecaster, R replicas in lockstep for `slots` slots.
 * Cost per replica = its time average; mean and SE over the replicas. */
static int simulate(dl_graph *g, dl_gpt *gpt, const mon_chain *ch, const mon_cfg *cfg, double c, uint64_t seed,
                    uint64_t stream, double *mean, double *se, double *qrate) {
    int R = cfg->fc_replicas, T = cfg->fc_ctx, n = ch->n, V = n + 1, S = cfg->fc_slots;
    int *hist = malloc(sizeof(int) * R * T), *x = malloc(sizeof(int) * R);
    double *cost = calloc((size_t)R, sizeof(double));
    if (!hist || !x || !cost) {
        free(hist), free(x), free(cost);
        return -1;
    }
    dl_rng r;
    dl_rng_init(&r, seed, stream);
    int64_t queries = 0;
    for (int b = 0; b < R; b++) {
        for (int t = 0; t < T; t++) hist[b * T + t] = n;
        x[b] = mon_sample_dist(ch->pi, n, &r);
        hist[b * T + T - 1] = x[b]; /* slot 0: the initial query */
        cost[b] = c;
        queries++;
    }
    dl_graph_set_training(g, 0);
    dl_graph_set_grad_enabled(g, 0);
    double p[65];
    for (int s = 1; s < S; s++) {
        dl_tensor *logits = dl_gpt_fwd(g, gpt, hist, R, T);
        for (int b = 0; b < R; b++) {
            last_probs(logits, b, T - 1, T, V, p);
            x[b] = mon_chain_step(ch, x[b], &r);
            /* the forecaster's belief over the n states (MASK mass dropped) */
            double z = 0.0;
            for (int j = 0; j < n; j++) z += p[j];
            for (int j = 0; j < n; j++) p[j] /= z;
            double pred, lhat = mon_expected_loss(ch, p, &pred);
            int token;
            if (lhat >= c) {
                cost[b] += c;
                queries++;
                token = x[b];
            } else {
                cost[b] += mon_realised_loss(ch, pred, x[b]);
                token = n;
            }
            memmove(hist + b * T, hist + b * T + 1, sizeof(int) * (size_t)(T - 1));
            hist[b * T + T - 1] = token;
        }
        dl_graph_reset(g);
    }
    dl_graph_set_grad_enabled(g, 1);
    dl_graph_set_training(g, 1);
    double s1 = 0.0, s2 = 0.0;
    for (int b = 0; b < R; b++) {
        double v = cost[b] / S;
        s1 += v, s2 += v * v;
    }
    *mean = s1 / R;
    double var = R > 1 ? (s2 - R * (*mean) * (*mean)) / (R - 1) : 0.0;
    *se = sqrt(var > 0 ? var / R : 0.0);
    *qrate = (double)queries / ((double)R * S);
    free(hist), free(x), free(cost);
    return 0;
}

/* AdamW with cosine decay on next-token cross-entropy over batches from
 * src (fc_steps steps). 0, or -1 on a non-finite loss. */
static int fc_train(const mon_cfg *cfg, const fc_source *src, dl_run *run, dl_params *ps, dl_gpt *gpt, dl_optim *opt,
                    dl_graph *g, dl_rng *data, int *tok, int *tgt, const char *phase) {
    int T = cfg->fc_ctx, B = cfg->fc_batch;
    int log_every = cfg->fc_steps / 10 > 0 ? cfg->fc_steps / 10 : 1;
    for (int step = 0; step < cfg->fc_steps; step++) {
        make_batch(src, cfg, data, B, T, tok, tgt, NULL, NULL);
        float lr = dl_lr_at(DL_SCHED_COSINE, (float)cfg->fc_lr, (float)(0.1 * cfg->fc_lr), step, cfg->fc_steps / 20,
                            cfg->fc_steps);
        dl_params_zero_grad(ps);
        dl_tensor *loss = dl_gpt_loss(g, gpt, tok, tgt, B, T);
        double lv = loss->data[0];
        if (dl_check_finite(run, "forecaster loss", lv, step)) return -1;
        dl_backward(g, loss);
        dl_clip_grad_norm(ps, 1.0);
        dl_optim_step(opt, lr);
        dl_graph_reset(g);
        if ((step + 1) % log_every == 0 || step + 1 == cfg->fc_steps) {
            dl_metrics_begin(run, step);
            dl_metrics_add_str(run, "phase", phase);
            dl_metrics_add(run, "fc_step", step + 1);
            dl_metrics_add(run, "fc_loss", lv);
            dl_metrics_add(run, "fc_lr", lr);
            dl_metrics_end(run);
        }
    }
    return 0;
}

/* Check the knobs the forecaster needs (n states). 0 or -1 after logging. */
static int fc_validate(const mon_cfg *cfg, int n, dl_run *run) {
    if (n > 64) {
        dl_log(run, "error: forecaster supports chain.n <= 64 (got %d)", n);
        return -1;
    }
    if (cfg->fc_p_obs_lo > cfg->fc_p_obs_hi) {
        dl_log(run, "error: forecaster.p_obs_lo (%g) must not exceed forecaster.p_obs_hi (%g)", cfg->fc_p_obs_lo,
               cfg->fc_p_obs_hi);
        return -1;
    }
    if (cfg->fc_d_model % cfg->fc_heads) {
        dl_log(run, "error: forecaster.d_model (%d) must be a multiple of forecaster.heads (%d)", cfg->fc_d_model,
               cfg->fc_heads);
        return -1;
    }
    return 0;
}

int mon_forecaster_run(const mon_cfg *cfg, const mon_chain *ch, const mon_model *m, dl_run *run,
                       mon_results *res) {
    double t0 = dl_now();
    int n = ch->n, T = cfg->fc_ctx, B = cfg->fc_batch;
    int threads_before = dl_get_threads();
    if (fc_validate(cfg, n, run)) return -1;
    if (cfg->fc_threads > 0) dl_set_threads(cfg->fc_threads);
    dl_gpt_config gc = {.vocab = n + 1, .seq_len = T, .d_model = cfg->fc_d_model, .heads = cfg->fc_heads,
                        .layers = cfg->fc_layers, .mlp_mult = 4, .dropout = 0.0f};
    dl_params ps;
    dl_params_init(&ps);
    dl_rng init;
    dl_rng_init(&init, run->seed, S_FC_INIT);
    dl_gpt gpt;
    dl_gpt_init(&gpt, &ps, &gc, &init);
    dl_optim opt;
    dl_optim_init(&opt, &ps, DL_OPT_ADAMW, (float)cfg->fc_lr);
    dl_graph *g = dl_graph_new();
    int *tok = malloc(sizeof(int) * B * T * 2);
    int rc = -1;
    if (!g || !tok) goto out;
    int *tgt = tok + B * T;
    dl_rng data;
    dl_rng_init(&data, run->seed, S_FC_DATA);
    dl_log(run, "forecaster: GPT vocab %d (states + MASK), ctx %d, d %d, %d layer(s), %d heads, %lld params", n + 1,
           T, cfg->fc_d_model, cfg->fc_layers, cfg->fc_heads, (long long)dl_params_count(&ps));
    fc_source src = {ch, NULL, 0, n};
    if (fc_train(cfg, &src, run, &ps, &gpt, &opt, g, &data, tok, tgt, "forecaster_train")) goto out;
    res->fc_train_loss = validate(g, &gpt, ch, m, cfg, run->seed, &res->fc_bayes_loss, &res->fc_tv);
    dl_log(run, "forecaster: validation CE %.4f vs Bayes %.4f (mean TV to the true belief %.3f)", res->fc_train_loss,
           res->fc_bayes_loss, res->fc_tv);
    res->n_fc = cfg->fc_c.n;
    int *tg = malloc(sizeof(int) * n);
    if (!tg) goto out;
    for (int a = 0; a < cfg->fc_c.n; a++) {
        double c = cfg->fc_c.v[a], qrate;
        if (simulate(g, &gpt, ch, cfg, c, run->seed, S_FC_SIM + (uint64_t)a, &res->fc_cost[a], &res->fc_se[a],
                     &qrate)) {
            free(tg);
            goto out;
        }
        mon_greedy_thresholds(m, c, tg);
        res->fc_c[a] = c;
        res->fc_qrate[a] = qrate;
        res->fc_greedy_exact[a] = mon_eval_thresholds(m, c, tg, NULL);
        res->fc_always[a] = c;
        res->fc_never[a] = m->L_inf;
        dl_metrics_begin(run, 100000 + a);
        dl_metrics_add_str(run, "phase", "forecaster");
        dl_metrics_add(run, "c", c);
        dl_metrics_add(run, "fc_greedy_cost", res->fc_cost[a]);
        dl_metrics_add(run, "fc_greedy_se", res->fc_se[a]);
        dl_metrics_add(run, "fc_query_rate", qrate);
        dl_metrics_add(run, "greedy_known_exact", res->fc_greedy_exact[a]);
        dl_metrics_add(run, "always", c);
        dl_metrics_add(run, "never", m->L_inf);
        dl_metrics_end(run);
        dl_log(run, "forecaster+greedy c=%g: cost %.4f +- %.4f (query rate %.3f); greedy with P %.4f, always %.3g, "
               "never %.4f", c, res->fc_cost[a], res->fc_se[a], qrate, res->fc_greedy_exact[a], c, m->L_inf);
    }
    free(tg);
    res->fc_done = 1;
    res->fc_seconds = dl_now() - t0;
    rc = 0;
out:
    if (rc) dl_log(run, "error: forecaster failed");
    dl_set_threads(threads_before);
    free(tok);
    if (g) dl_graph_free(g);
    dl_optim_free(&opt);
    dl_gpt_free(&gpt);
    dl_params_free(&ps);
    return rc;
}

/* The real node (weather.c): the same forecaster trained on windows of the
 * first n_train days of seq, then one monitor walks the remaining days with
 * greedy on the forecaster's predictive distribution at every c. */
int mon_forecaster_real(const mon_cfg *cfg, const int *seq, int n_train, int n_total, const mon_chain *ch,
                        const double *cs, int nc, dl_run *run, double *cost, double *qrate) {
    int n = ch->n, T = cfg->fc_ctx, B = cfg->fc_batch, V = n + 1;
    if (fc_validate(cfg, n, run)) return -1;
    if (n_train < T + 2 || n_total <= n_train) {
        dl_log(run, "error: real data: %d training days is too few for forecaster.ctx %d", n_train, T);
        return -1;
    }
    int threads_before = dl_get_threads();
    if (cfg->fc_threads > 0) dl_set_threads(cfg->fc_threads);
    dl_gpt_config gc = {.vocab = n + 1, .seq_len = T, .d_model = cfg->fc_d_model, .heads = cfg->fc_heads,
                        .layers = cfg->fc_layers, .mlp_mult = 4, .dropout = 0.0f};
    dl_params ps;
    dl_params_init(&ps);
    dl_rng init, data;
    dl_rng_init(&init, run->seed, S_FC_REAL_INIT);
    dl_rng_init(&data, run->seed, S_FC_REAL_DATA);
    dl_gpt gpt;
    dl_gpt_init(&gpt, &ps, &gc, &init);
    dl_optim opt;
    dl_optim_init(&opt, &ps, DL_OPT_ADAMW, (float)cfg->fc_lr);
    dl_graph *g = dl_graph_new();
    int *tok = malloc(sizeof(int) * (size_t)(B * T * 2 + T));
    int rc = -1;
    if (!g || !tok) goto out;
    int *tgt = tok + B * T, *hist = tgt + B * T;
    fc_source src = {NULL, seq, n_train, n};
    if (fc_train(cfg, &src, run, &ps, &gpt, &opt, g, &data, tok, tgt, "forecaster_real_train")) goto out;
    dl_graph_set_training(g, 0);
    dl_graph_set_grad_enabled(g, 0);
    double p[65];
    for (int a = 0; a < nc; a++) {
        double c = cs[a], total = c;
        int64_t queries = 1;
        for (int t = 0; t < T; t++) hist[t] = n;
        hist[T - 1] = seq[n_train]; /* first test day: the initial query */
        for (int s = n_train + 1; s < n_total; s++) {
            dl_tensor *logits = dl_gpt_fwd(g, &gpt, hist, 1, T);
            last_probs(logits, 0, T - 1, T, V, p);
            dl_graph_reset(g);
            double z = 0.0;
            for (int j = 0; j < n; j++) z += p[j];
            for (int j = 0; j < n; j++) p[j] /= z;
            double pred, lhat = mon_expected_loss(ch, p, &pred);
            int token = n;
            if (lhat >= c) {
                total += c;
                queries++;
                token = seq[s];
            } else {
                total += mon_realised_loss(ch, pred, seq[s]);
            }
            memmove(hist, hist + 1, sizeof(int) * (size_t)(T - 1));
            hist[T - 1] = token;
        }
        cost[a] = total / (double)(n_total - n_train);
        qrate[a] = (double)queries / (double)(n_total - n_train);
    }
    dl_graph_set_grad_enabled(g, 1);
    dl_graph_set_training(g, 1);
    rc = 0;
out:
    if (rc) dl_log(run, "error: forecaster on the real sequence failed");
    dl_set_threads(threads_before);
    free(tok);
    if (g) dl_graph_free(g);
    dl_optim_free(&opt);
    dl_gpt_free(&gpt);
    dl_params_free(&ps);
    return rc;
}
