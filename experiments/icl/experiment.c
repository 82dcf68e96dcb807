/* System `icl`: "Provable In-Context Learning of Nonlinear Regression with
 * Transformers" (Li, Duan, Liang, arXiv 2507.20443). Registration, config,
 * the main training run and the sweep over the Lipschitz constant L. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/experiment.h"
#include "icl/icl.h"

#define F(type, m, key, ...) DL_FIELD_##type(icl_cfg, m, key, __VA_ARGS__)
static const dl_field icl_fields[] = {
    F(INT, d, "data.d", 8, 2, ICL_MAX_D, "token dimension (features are e_1..e_K of R^d)"),
    F(INT, K, "data.K", 4, 2, ICL_MAX_K, "number of orthonormal feature directions"),
    F(INT, N, "data.N", 24, 2, ICL_MAX_N, "prompt length (pairs before the query)"),
    F(DOUBLE, dominant_p, "data.dominant_p", 0.4, 0.01, 0.99,
      "frequency of feature 1; the others share the rest equally (1/K = balanced)"),
    F(DOUBLE, noise, "data.noise", 0.02, 0, 10, "feature noise: x = v_k + xi, xi ~ N(0, noise^2/d I)"),
    F(DOUBLE, L, "func.L", 2.0, 1e-4, 1e4, "Lipschitz constant of the task functions (main run)"),
    F(DOUBLE, amp, "func.amp", 1.0, 1e-4, 1e4, "amplitude bound of the functions (scaling=input)"),
    F(ENUM, scaling, "func.scaling", "input", "input|output",
      "Lipschitz L by input scaling f = amp h(L x / amp) (bounded, saturates) or output scaling f = L h(x)"),
    F(INT, hidden, "func.hidden", 16, 1, ICL_MAX_HIDDEN, "hidden units of the random ReLU/tanh networks"),
    F(STRING, train_family, "func.train", "sin+relu", "training family: classes joined by + (sin, relu, tanh)"),
    F(STRING, unseen_family, "func.unseen", "tanh", "held-out family for the unseen-function check"),
    F(DOUBLE, init_std, "model.init_std", 0, 0, 10, "key-query init N(0, s^2) (0 = zero, uniform attention)"),
    F(DOUBLE, lr, "train.lr", 8.0, 1e-6, 1e4, "gradient-descent step size"),
    F(INT, steps, "train.steps", 2000, 1, 10000000, "gradient steps of the main run"),
    F(INT, batch, "train.batch", 64, 1, 1 << 20, "prompts per step (fresh prompts, each its own function)"),
    F(INT, n_train, "train.n_train", 128, 0, 1 << 20,
      "fixed training set of this many prompts (each its own function), full-batch GD; 0 = fresh batches (SGD)"),
    F(INT, log_every, "train.log_every", 10, 1, 10000000, "steps between evaluations (metrics rows)"),
    F(INT, eval_size, "eval.size", 512, 8, 1 << 20, "prompts of each fixed evaluation set"),
    F(DOUBLE, target, "eval.target", 0.05, 1e-6, 1,
      "convergence: normalised query loss (MSE / MSE of uniform attention) at most this"),
    F(BOOL, sweep, "sweep.enabled", 1, "sweep L for steps to convergence (claim 4)"),
    F(LIST, sweep_L, "sweep.L", "0.5,0.7,1,1.4,2,2.8,4,5.6,8,11", 1e-4, 1e4, "Lipschitz constants of the sweep"),
    F(INT, sweep_steps, "sweep.max_steps", 20000, 1, 10000000, "step budget per sweep run"),
    F(INT, sweep_batch, "sweep.batch", 32, 1, 1 << 20, "prompts per step in the sweep runs when train.n_train = 0"),
    F(INT, sweep_eval_size, "sweep.eval_size", 256, 8, 1 << 20,
      "prompts of each sweep run's evaluation set (checked every step for the target)"),
};
#undef F
static const dl_config_schema icl_schema = {icl_fields, (int)(sizeof icl_fields / sizeof icl_fields[0]),
                                            sizeof(icl_cfg)};

static const dl_preset icl_presets[] = {
    {"quick", "{}"},
    {"paper", "{\"data\": {\"d\": 16, \"K\": 8, \"N\": 64}, \"train\": {\"steps\": 10000, \"n_train\": 512,"
              " \"log_every\": 50}, \"eval\": {\"size\": 1024},"
              " \"sweep\": {\"L\": [1, 1.4, 2, 2.8, 4, 5.6, 8, 11, 16, 22], \"max_steps\": 50000}}"},
    {NULL, NULL}};

static int parse_family(const char *s, int *kinds, const char *key, char *err, size_t n) {
    memset(kinds, 0, sizeof(int) * ICL_F_COUNT);
    char buf[DL_STR_MAX];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, "+"); tok; tok = strtok(NULL, "+")) {
        int k = -1;
        for (int i = 0; i < ICL_F_COUNT; i++)
            if (strcmp(tok, icl_fkind_names[i]) == 0) k = i;
        if (k < 0) { snprintf(err, n, "%s: unknown function class '%s' (sin, relu, tanh)", key, tok); return -1; }
        kinds[k] = 1;
    }
    int any = 0;
    for (int i = 0; i < ICL_F_COUNT; i++) any |= kinds[i];
    if (!any) { snprintf(err, n, "%s is empty", key); return -1; }
    return 0;
}

static int data_opts(const icl_cfg *c, double L, int unseen, icl_data_opts *o, char *err, size_t n) {
    memset(o, 0, sizeof *o);
    o->d = c->d; o->K = c->K; o->N = c->N;
    o->dominant_p = c->dominant_p; o->noise = c->noise;
    o->L = L; o->amp = c->amp; o->hidden = c->hidden;
    o->scaling = strcmp(c->scaling, "output") == 0 ? ICL_SCALE_OUTPUT : ICL_SCALE_INPUT;
    if (parse_family(unseen ? c->unseen_family : c->train_family, o->kinds, unseen ? "func.unseen" : "func.train",
                     err, n))
        return -1;
    return icl_data_check(o, err, n);
}

/* The untrained control (`--control untrained`) keeps every option and sets
 * the step size to zero. */
static void train_opts(const icl_cfg *c, dl_run *run, icl_train_opts *t) {
    memset(t, 0, sizeof *t);
    t->steps = c->steps; t->batch = c->batch; t->log_every = c->log_every;
    t->n_train = c->n_train; t->lr = dl_run_untrained(run) ? 0 : c->lr; t->init_std = c->init_std; t->eval_size = c->eval_size; t->target = c->target;
}

static int run_sweep(dl_run *run, const icl_cfg *c, icl_sweep *s, char *err, size_t n) {
    memset(s, 0, sizeof *s);
    s->n = c->sweep_L.n;
    double lx[ICL_MAX_SWEEP], ly[ICL_MAX_SWEEP];
    int m = 0;
    for (int i = 0; i < s->n; i++) {
        icl_data_opts o;
        if (data_opts(c, c->sweep_L.v[i], 0, &o, err, n)) return -1;
        icl_batch es;
        if (icl_batch_alloc(&es, c->sweep_eval_size, c->N, c->d)) {
            snprintf(err, n, "out of memory");
            return -1;
        }
        dl_rng r;
        dl_rng_init(&r, run->seed, 300); /* common random numbers: only L changes */
        icl_batch_draw(&es, &o, &r);
        icl_train_opts t;
        train_opts(c, run, &t);
        t.steps = c->sweep_steps;
        t.batch = c->sweep_batch;
        t.log_every = 0;
        t.stop_at_target = 1;
        icl_result res;
        int rc = icl_train(&o, &t, &es, NULL, run->seed, 400, &res, err, n);
        icl_batch_free(&es);
        if (rc) return -1;
        s->L[i] = c->sweep_L.v[i];
        s->hit[i] = res.hit;
        s->steps[i] = res.hit > 0 ? res.hit : res.hit == 0 ? 1 : NAN;
        dl_log(run, "sweep L=%g: %s %d steps (normalised loss %.4f, relevant mass %.3f, %.2fs)", s->L[i],
               res.hit >= 0 ? "converged in" : "NOT converged within", res.hit >= 0 ? res.hit : c->sweep_steps,
               res.seen.nloss, res.seen.rel_mass, res.seconds);
        icl_result_free(&res);
        if (res.hit >= 0) { lx[m] = log(s->L[i]); ly[m] = log(s->steps[i]); m++; }
        dl_progress(run, "icl sweep", i + 1, s->n, NULL);
    }
    icl_fit_break(lx, ly, m, &s->fit);
    s->L_pred = c->amp * sqrt((double)c->d);
    return 0;
}

static void metrics_rows(dl_run *run, const icl_cfg *c, const icl_result *r) {
    const icl_trace *t = &r->tr;
    char k[64];
    for (int i = 0; i < t->n; i++) {
        int s = (int)t->step[i];
        dl_metrics_begin(run, s);
        dl_metrics_add(run, "nloss", t->nloss[i]);
        dl_metrics_add(run, "nloss_unseen", t->nloss_unseen[i]);
        dl_metrics_add(run, "relevant_mass", t->rel_mass[i]);
        dl_metrics_add(run, "irrelevant_mass", t->irr_total[i]);
        for (int j = 0; j < c->K; j++) {
            snprintf(k, sizeof k, "irrelevant_mass.f%d", j + 1);
            dl_metrics_add(run, k, t->irr_mass[(size_t)i * c->K + j]);
        }
        if (s < t->ns) {
            dl_metrics_add(run, "relevant_logit", t->A[s]);
            for (int j = 0; j < c->K; j++) {
                snprintf(k, sizeof k, "irrelevant_logit.f%d", j + 1);
                dl_metrics_add(run, k, t->Bl[(size_t)s * c->K + j]);
            }
        }
        dl_metrics_end(run);
    }
}

static int icl_run(const void *vcfg, dl_run *run) {
    const icl_cfg *c = vcfg;
    char err[256] = "";
    icl_data_opts o, ou;
    if (data_opts(c, c->L, 0, &o, err, sizeof err) || data_opts(c, c->L, 1, &ou, err, sizeof err)) {
        dl_log(run, "error: %s", err);
        return 1;
    }
    icl_outcome *oc = calloc(1, sizeof *oc);
    icl_batch es = {0}, eu = {0};
    int rc = 1;
    if (!oc || icl_batch_alloc(&es, c->eval_size, c->N, c->d) || icl_batch_alloc(&eu, c->eval_size, c->N, c->d)) {
        dl_log(run, "error: out of memory");
        goto done;
    }
    dl_rng r;
    dl_rng_init(&r, run->seed, 1);
    icl_batch_draw(&es, &o, &r);
    dl_rng_init(&r, run->seed, 2);
    icl_batch_draw(&eu, &ou, &r);
    icl_train_opts t;
    train_opts(c, run, &t);
    if (icl_train(&o, &t, &es, &eu, run->seed, 10, &oc->main, err, sizeof err)) {
        dl_log(run, "error: %s", err);
        goto done;
    }
    const icl_result *m = &oc->main;
    if (dl_check_finite(run, "query loss", m->seen.loss, m->steps_done)) goto done;
    dl_log(run, "main L=%g: %d steps, normalised loss %.4f (unseen %.4f), relevant mass %.4f (unseen %.4f), "
                "converged at step %d, %.2fs",
           c->L, m->steps_done, m->seen.nloss, m->unseen.nloss, m->seen.rel_mass, m->unseen.rel_mass, m->hit,
           m->seconds);
    dl_progress(run, "icl", 1, 1, "main");
    if (c->sweep) {
        if (run_sweep(run, c, &oc->sweep, err, sizeof err)) { dl_log(run, "error: %s", err); goto done; }
        oc->have_sweep = 1;
    }
    oc->K = c->K;
    metrics_rows(run, c, m);
    dl_final(run, "main.steps_to_target", m->hit);
    dl_final(run, "main.nloss", m->seen.nloss);
    dl_final(run, "main.nloss_unseen", m->unseen.nloss);
    dl_final(run, "main.rmse_unseen", m->unseen.rmse);
    dl_final(run, "main.rmse_uniform_unseen", m->unseen.rmse_uniform);
    dl_final(run, "main.relevant_mass", m->seen.rel_mass);
    dl_final(run, "main.relevant_mass_unseen", m->unseen.rel_mass);
    dl_final(run, "main.seconds", m->seconds);
    if (oc->have_sweep) {
        const icl_sweep *s = &oc->sweep;
        char k[64];
        for (int i = 0; i < s->n; i++) {
            snprintf(k, sizeof k, "sweep.L=%g.steps", s->L[i]);
            dl_final(run, k, s->steps[i]);
        }
        dl_final(run, "sweep.slope_below", s->fit.slope_lo);
        dl_final(run, "sweep.slope_above", s->fit.slope_hi);
        dl_final(run, "sweep.L_break", exp(s->fit.x_break));
        dl_final(run, "sweep.L_predicted", s->L_pred);
        dl_final(run, "sweep.sse_two_segments", s->fit.sse2);
        dl_final(run, "sweep.sse_one_line", s->fit.sse1);
    }
    icl_plots(run, c, oc);
    icl_claims(run, c, oc);
    rc = 0;
done:
    if (oc) icl_result_free(&oc->main);
    free(oc);
    icl_batch_free(&es);
    icl_batch_free(&eu);
    return rc;
}

const dl_experiment dl_exp_icl = {
    .name = "icl",
    .title = "Provable In-Context Learning of Nonlinear Regression with Transformers",
    .arxiv = "2507.20443",
    .summary = "A one-layer softmax-attention transformer trained by gradient descent on prompts of (x, f(x)) pairs "
               "learns to predict unseen L-Lipschitz nonlinear functions in context. Attention from the query to "
               "tokens sharing its feature rises fast and converges to one while attention to irrelevant "
               "features decays more slowly and oscillates; the Lipschitz constant L governs the convergence "
               "time, with different bounds below and above a threshold.",
    .schema = &icl_schema,
    .presets = icl_presets,
    .run = icl_run,
};
