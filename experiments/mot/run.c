/* The run: synthetic N-mixture phase (claims 1-6) and Fashion-MNIST phase
 * (claim 7). Metrics, claims and plots come from this run's own measurements. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/data.h"
#include "dynlab/experiment.h"
#include "dynlab/plot.h"
#include "mot/mot.h"
#include "mot/report.h"

static int loss_kind(const mot_cfg *c) { return strcmp(c->loss, "logistic") ? MOT_LOSS_SQUARED : MOT_LOSS_LOGISTIC; }

/* Gradient conflict between classes (claim 6): the mean gradient of each
 * class's training samples, restricted to the blocks' parameters (the gate,
 * which only MoT has, is left out so that MoT and the single transformer are
 * compared on the same kind of parameters); returns the mean over class pairs
 * of max(0, -cos) and the smallest cosine in *cmin. A MoT whose experts
 * serve one class each has per-class gradients on disjoint experts (cos 0):
 * no conflict; a shared model trained on conflicting classes has cos < 0. */
static double class_conflict(const mot_model *m, const mot_data *tr, int N, int lk, double *cmin)
{
    int64_t nb = (int64_t)m->n_blocks * mot_block_size(m->d);
    double *g = calloc((size_t)m->n_params * (size_t)N, sizeof(double));
    int *idx = malloc(sizeof(int) * (size_t)tr->n);
    double conflict = NAN;
    *cmin = NAN;
    if (!g || !idx) goto done;
    for (int n = 0; n < N; n++) {
        int na = 0;
        for (int i = 0; i < tr->n; i++)
            if (tr->cls[i] == n) idx[na++] = i;
        if (na) mot_pass(m, tr, idx, na, lk, NULL, g + (size_t)n * (size_t)m->n_params, NULL);
    }
    double sum = 0, mn = 2;
    int pairs = 0;
    for (int a = 0; a < N; a++)
        for (int b = a + 1; b < N; b++) {
            double cs = mot_cosine(g + (size_t)a * (size_t)m->n_params, g + (size_t)b * (size_t)m->n_params, nb);
            if (cs < mn) mn = cs;
            sum += cs < 0 ? -cs : 0;
            pairs++;
        }
    conflict = pairs ? sum / pairs : NAN;
    *cmin = pairs ? mn : NAN;
done:
    free(g); free(idx);
    return conflict;
}

static int synth_phase(const mot_cfg *c, dl_run *run, mot_synth_result *res)
{
    const int N = c->n_classes, M = c->n_experts, lk = loss_kind(c);
    const int T = c->t1 + c->t2 + c->t3;
    const uint64_t seed = run->seed;
    mot_data tr, te;
    if (mot_data_synth(&tr, c, c->n_train, seed, 1) || mot_data_synth(&te, c, c->n_test, seed, 2)) {
        dl_log(run, "mot: cannot build the synthetic data (need d >= 2.5 N, seq_len >= 2 + n_conflict, n_conflict <= N-1)");
        return -1;
    }
    mot_model mo, si, me;
    mot_model_init(&mo, MOT_KIND_MOT, M, c->d, c->init_std, seed, 3);
    mot_model_init(&si, MOT_KIND_SINGLE, 2, c->d, c->init_std, seed, 4);
    mot_model_init(&me, MOT_KIND_MOE, M, c->d, c->init_std, seed, 5);
    mo.gate_all_tokens = me.gate_all_tokens = c->gate_all_tokens;
    mot_trainer to, ts, tm;
    mot_trainer_init(&to, &mo, seed, 6);
    mot_trainer_init(&ts, &si, seed, 7);
    mot_trainer_init(&tm, &me, seed, 8);
    /* the other gate setting: same initialisation and routing noise as mo */
    mot_model mo2;
    mot_trainer to2;
    memset(&mo2, 0, sizeof mo2);
    memset(&to2, 0, sizeof to2);
    if (c->compare_gate) {
        mot_model_init(&mo2, MOT_KIND_MOT, M, c->d, c->init_std, seed, 3);
        mo2.gate_all_tokens = !c->gate_all_tokens;
        mot_trainer_init(&to2, &mo2, seed, 6);
        res->other_trace = calloc((size_t)T + 1, sizeof(double));
    }
    res->T = T;
    for (int k = 0; k < 3; k++) res->train_trace[k] = calloc((size_t)T + 1, sizeof(double));
    int max_logs = T / c->log_every + 8;
    res->log_step = calloc((size_t)max_logs, sizeof(double));
    for (int k = 0; k < 3; k++) res->log_test[k] = calloc((size_t)max_logs, sizeof(double));
    for (int k = 0; k < 3; k++) res->route_stage[k] = calloc((size_t)M * N, sizeof(int));
    res->map = calloc((size_t)M, sizeof(int));
    int *R = calloc((size_t)M * N, sizeof(int)), *Re = calloc((size_t)M * N, sizeof(int));
    int *R2 = calloc((size_t)M * N, sizeof(int));
    double *conf_single = calloc((size_t)max_logs, sizeof(double)), *cmin_single = calloc((size_t)max_logs, sizeof(double));
    int fail = 0;
    res->min_route_acc_after = 1.0;
    for (int s = 0; s <= T; s++) {
        int boundary = (s == c->t1 || s == c->t1 + c->t2 || s == T);
        if (s % c->log_every == 0 || boundary) {
            mot_stats a = {0}, b = {0}, e = {0};
            memset(R, 0, sizeof(int) * (size_t)M * N);
            memset(Re, 0, sizeof(int) * (size_t)M * N);
            a.route = R; a.n_classes = N; e.route = Re; e.n_classes = N;
            mot_pass(&mo, &te, NULL, te.n, lk, NULL, NULL, &a);
            mot_pass(&si, &te, NULL, te.n, lk, NULL, NULL, &b);
            mot_pass(&me, &te, NULL, te.n, lk, NULL, NULL, &e);
            int map[M], mape[M];
            mot_routing_map(R, M, N, map);
            mot_routing_map(Re, M, N, mape);
            double acc = mot_routing_accuracy(R, M, N, s > c->t1 && c->t1 > 0 ? res->map : map);
            if (s > c->t1) { if (acc < res->min_route_acc_after) res->min_route_acc_after = acc; }
            if (res->n_logs < max_logs)
                conf_single[res->n_logs] = class_conflict(&si, &tr, N, lk, &cmin_single[res->n_logs]);
            if (s == c->t1) {
                memcpy(res->route_stage[0], R, sizeof(int) * (size_t)M * N);
                memcpy(res->map, map, sizeof(int) * (size_t)M);
                res->route_acc_I = mot_routing_accuracy(R, M, N, map);
                res->attn_I = a.attn_signal; res->loss_I = a.loss;
                res->conflict_mot_I = class_conflict(&mo, &tr, N, lk, &res->cos_mot_min_I);
                if (c->compare_gate) {
                    mot_stats a2 = {0};
                    int map2[M];
                    memset(R2, 0, sizeof(int) * (size_t)M * N);
                    a2.route = R2; a2.n_classes = N;
                    mot_pass(&mo2, &te, NULL, te.n, lk, NULL, NULL, &a2);
                    mot_routing_map(R2, M, N, map2);
                    res->other_route_acc_I = mot_routing_accuracy(R2, M, N, map2);
                }
            }
            if (s == c->t1 + c->t2) {
                memcpy(res->route_stage[1], R, sizeof(int) * (size_t)M * N);
                res->attn_II = a.attn_signal; res->loss_II = a.loss;
            }
            if (s == T && c->compare_gate) {
                mot_stats a2 = {0};
                mot_pass(&mo2, &te, NULL, te.n, lk, NULL, NULL, &a2);
                res->other_final_test = a2.loss;
                res->other_final_err = a2.err;
            }
            if (s == T) {
                memcpy(res->route_stage[2], R, sizeof(int) * (size_t)M * N);
                res->final_test[0] = a.loss; res->final_test[1] = b.loss; res->final_test[2] = e.loss;
                res->final_err[0] = a.err; res->final_err[1] = b.err; res->final_err[2] = e.err;
            }
            if (res->n_logs < max_logs) {
                res->log_step[res->n_logs] = s;
                res->log_test[0][res->n_logs] = a.loss;
                res->log_test[1][res->n_logs] = b.loss;
                res->log_test[2][res->n_logs] = e.loss;
                res->n_logs++;
            }
            dl_metrics_begin(run, s);
            dl_metrics_add(run, "stage", mot_stage_at(c, s));
            if (s > 0) {
                dl_metrics_add(run, "mot_train_loss", res->train_trace[0][s - 1]);
                dl_metrics_add(run, "single_train_loss", res->train_trace[1][s - 1]);
                dl_metrics_add(run, "moe_train_loss", res->train_trace[2][s - 1]);
            }
            dl_metrics_add(run, "mot_test_loss", a.loss);
            dl_metrics_add(run, "mot_test_err", a.err);
            dl_metrics_add(run, "single_test_loss", b.loss);
            dl_metrics_add(run, "single_test_err", b.err);
            dl_metrics_add(run, "moe_test_loss", e.loss);
            dl_metrics_add(run, "moe_test_err", e.err);
            dl_metrics_add(run, "mot_route_acc", acc);
            dl_metrics_add(run, "moe_route_acc", mot_routing_accuracy(Re, M, N, mape));
            dl_metrics_add(run, "mot_attn_signal", a.attn_signal);
            dl_metrics_add(run, "single_attn_signal", b.attn_signal);
            dl_metrics_add(run, "mot_gate_value", a.gate_value);
            char rm[1024];
            int p = 0;
            for (int i = 0; i < M * N && p < (int)sizeof rm - 16; i++)
                p += snprintf(rm + p, sizeof rm - (size_t)p, "%s%d", i ? "," : "", R[i]);
            dl_metrics_add_str(run, "mot_routing_matrix", rm);
            if (res->n_logs > 0) dl_metrics_add(run, "single_grad_conflict", conf_single[res->n_logs - 1]);
            if (s == c->t1) dl_metrics_add(run, "mot_grad_conflict", res->conflict_mot_I);
            dl_metrics_end(run);
            char extra[160];
            snprintf(extra, sizeof extra, "stage %d  MoT %.2e  single %.2e  MoE %.2e", mot_stage_at(c, s), a.loss, b.loss, e.loss);
            dl_progress(run, "synthetic", s, T, extra);
        }
        if (s == T) break;
        int st = mot_stage_at(c, s);
        int upd = st == 2 ? (MOT_UPD_KQ | MOT_UPD_GATE) : (MOT_UPD_W | MOT_UPD_GATE);
        to.bal_coef = tm.bal_coef = st == 1 ? c->bal_coef : 0.0;
        double lg = st == 1 ? c->lr_gate1 : c->lr_gate;
        int gn = st == 1 && c->gate_normalized;
        int wn = st == 1 && c->w1_normalized;
        res->train_trace[0][s] = mot_train_step_ex(&to, &tr, lk, c->route_noise, upd,
                                                   st == 1 ? c->lr_w1 : c->lr_w3, c->lr_kq, lg, wn,
                                                   c->kq_normalized, gn);
        res->train_trace[1][s] = mot_train_step(&ts, &tr, lk, 0, MOT_UPD_W | MOT_UPD_KQ,
                                                c->lr_single, c->lr_single, 0, 0, 0);
        res->train_trace[2][s] = mot_train_step_ex(&tm, &tr, lk, c->route_noise, MOT_UPD_W | MOT_UPD_GATE,
                                                   st == 1 ? c->lr_w1 : c->lr_moe, 0, lg, wn, 0, gn);
        if (c->compare_gate) {
            to2.bal_coef = to.bal_coef;
            res->other_trace[s] = mot_train_step_ex(&to2, &tr, lk, c->route_noise, upd, st == 1 ? c->lr_w1 : c->lr_w3,
                                                    c->lr_kq, lg, wn, c->kq_normalized, gn);
        }
        for (int k = 0; k < 3; k++)
            if (dl_check_finite(run, k == 0 ? "mot train loss" : k == 1 ? "single train loss" : "moe train loss",
                                 res->train_trace[k][s], s)) { fail = 1; break; }
        if (fail) break;
    }
    if (!fail) {
        /* training loss after the last step closes the traces */
        res->train_trace[0][T] = mot_pass(&mo, &tr, NULL, tr.n, lk, NULL, NULL, NULL);
        res->train_trace[1][T] = mot_pass(&si, &tr, NULL, tr.n, lk, NULL, NULL, NULL);
        res->train_trace[2][T] = mot_pass(&me, &tr, NULL, tr.n, lk, NULL, NULL, NULL);
        if (c->compare_gate) {
            res->other_trace[T] = mot_pass(&mo2, &tr, NULL, tr.n, lk, NULL, NULL, NULL);
            res->other_steps_1e3 = mot_first_below(res->other_trace, T + 1, 1e-3);
            res->other_done = 1;
        }
        /* the single transformer's conflict at equal training loss: the first
         * evaluation where its training loss reaches MoT's after stage I */
        double target = res->train_trace[0][c->t1];
        int at = -1;
        for (int i = 0; i < res->n_logs && at < 0; i++)
            if (res->train_trace[1][(int)res->log_step[i]] <= target) at = i;
        int use = at >= 0 ? at : res->n_logs - 1;
        res->conflict_single_step = at >= 0 ? (int)res->log_step[at] : -1;
        res->conflict_single_eq = use >= 0 ? conf_single[use] : NAN;
        res->cos_single_min_eq = use >= 0 ? cmin_single[use] : NAN;
        res->conflict_single_init = res->n_logs ? conf_single[0] : NAN;
    }
    free(R); free(Re); free(R2); free(conf_single); free(cmin_single);
    if (c->compare_gate) { mot_trainer_free(&to2); mot_model_free(&mo2); }
    mot_trainer_free(&to); mot_trainer_free(&ts); mot_trainer_free(&tm);
    mot_model_free(&mo); mot_model_free(&si); mot_model_free(&me);
    mot_data_free(&tr); mot_data_free(&te);
    return fail ? -1 : 0;
}

/* One Fashion-MNIST grouping: three models, three stages; test error trace and
 * MoT routing histogram. */
static int fmnist_grouping(const mot_cfg *c, dl_run *run, const dl_mnist *trs, const dl_mnist *tes,
                           const int (*tasks)[2], int n_tasks, uint64_t stream, mot_fm_result *fr)
{
    const uint64_t seed = run->seed;
    const int M = c->fm_experts, lk = loss_kind(c);
    const int T = c->fm_t1 + c->fm_t2 + c->fm_t3;
    mot_cfg fc = *c;
    fc.t1 = c->fm_t1; fc.t2 = c->fm_t2; fc.t3 = c->fm_t3;
    mot_data tr, te;
    if (mot_fmnist_build(&tr, trs, tasks, n_tasks, c->fm_beta, c->fm_train, seed, stream) ||
        mot_fmnist_build(&te, tes, tasks, n_tasks, c->fm_beta, c->fm_test, seed, stream + 1)) {
        dl_log(run, "mot: Fashion-MNIST: cannot build the task mixture");
        return -1;
    }
    mot_model mo, si, me;
    mot_model_init(&mo, MOT_KIND_MOT, M, tr.d, c->init_std, seed, stream + 2);
    mot_model_init(&si, MOT_KIND_SINGLE, 2, tr.d, c->init_std, seed, stream + 3);
    mot_model_init(&me, MOT_KIND_MOE, M, tr.d, c->init_std, seed, stream + 4);
    mot_trainer to, ts, tm;
    mot_trainer_init(&to, &mo, seed, stream + 5);
    mot_trainer_init(&ts, &si, seed, stream + 6);
    mot_trainer_init(&tm, &me, seed, stream + 7);
    int maxl = T / c->fm_log_every + 4;
    fr->step = calloc((size_t)maxl, sizeof(double));
    for (int k = 0; k < 3; k++) fr->err[k] = calloc((size_t)maxl, sizeof(double));
    fr->hist = calloc((size_t)M, sizeof(int));
    fr->M = M;
    int *R = calloc((size_t)M * n_tasks, sizeof(int));
    for (int s = 0; s <= T; s++) {
        if (s % c->fm_log_every == 0 || s == T) {
            mot_stats a = {0}, b = {0}, e = {0};
            memset(R, 0, sizeof(int) * (size_t)M * n_tasks);
            a.route = R; a.n_classes = n_tasks;
            mot_pass(&mo, &te, NULL, te.n, lk, NULL, NULL, &a);
            mot_pass(&si, &te, NULL, te.n, lk, NULL, NULL, &b);
            mot_pass(&me, &te, NULL, te.n, lk, NULL, NULL, &e);
            if (fr->n < maxl) {
                fr->step[fr->n] = s;
                fr->err[0][fr->n] = a.err; fr->err[1][fr->n] = b.err; fr->err[2][fr->n] = e.err;
                fr->n++;
            }
            if (s == T) {
                for (int m = 0; m < M; m++) {
                    fr->hist[m] = 0;
                    for (int t = 0; t < n_tasks; t++) fr->hist[m] += R[m * n_tasks + t];
                }
            }
        }
        if (s == T) break;
        int st = mot_stage_at(&fc, s);
        int upd = st == 2 ? (MOT_UPD_KQ | MOT_UPD_GATE) : (MOT_UPD_W | MOT_UPD_GATE);
        to.bal_coef = tm.bal_coef = st == 1 ? c->fm_bal_coef : 0.0;
        int wn = st == 1 && c->w1_normalized;
        mot_train_step_ex(&to, &tr, lk, c->route_noise, upd, st == 1 && wn ? c->fm_lr_w1 : c->fm_lr_w,
                          c->fm_lr_kq, c->fm_lr_gate, wn, 1, st == 1);
        mot_train_step(&ts, &tr, lk, 0, MOT_UPD_W | MOT_UPD_KQ, c->fm_lr_single, c->fm_lr_single, 0, 0, 0);
        mot_train_step_ex(&tm, &tr, lk, c->route_noise, MOT_UPD_W | MOT_UPD_GATE,
                          st == 1 && wn ? c->fm_lr_w1 : c->fm_lr_w, 0, c->fm_lr_gate, wn, 0, st == 1);
        dl_progress(run, "fashion-mnist", s, T, NULL);
    }
    double sum[3] = {0, 0, 0};
    for (int i = 0; i < fr->n; i++)
        for (int k = 0; k < 3; k++) sum[k] += fr->err[k][i];
    for (int k = 0; k < 3; k++) fr->mean_err[k] = fr->n ? sum[k] / fr->n : NAN;
    for (int k = 0; k < 3; k++) fr->final_err[k] = fr->n ? fr->err[k][fr->n - 1] : NAN;
    fr->eff_experts = mot_effective_count(fr->hist, M);
    fr->n_test = te.n;
    free(R);
    mot_trainer_free(&to); mot_trainer_free(&ts); mot_trainer_free(&tm);
    mot_model_free(&mo); mot_model_free(&si); mot_model_free(&me);
    mot_data_free(&tr); mot_data_free(&te);
    return 0;
}

/* Fashion-MNIST (our reconstruction, docs/papers/mot.md). Like CIFAR-10 vs CIFAR-100 in the paper, the
 * easy grouping has few tasks and the hard one many: easy = two unrelated
 * binary tasks (trouser vs bag, sneaker vs dress); hard = five tasks on
 * confusable classes, two pairs of them conflicting (the same classes with
 * opposite labels): T-shirt/shirt, shirt/T-shirt, pullover/coat, coat/pullover,
 * sandal/ankle boot. */
static int fmnist_phase(const mot_cfg *c, dl_run *run, mot_fm_result *easy, mot_fm_result *hard,
                        char *why, size_t whylen)
{
    static const int easy_tasks[2][2] = {{1, 8}, {7, 3}};
    static const int hard_tasks[5][2] = {{0, 6}, {6, 0}, {2, 4}, {4, 2}, {5, 9}};
    dl_mnist trs, tes;
    char err[512];
    if (dl_fashion_mnist_load("train", 20000, &trs, err, sizeof err)) {
        dl_log(run, "mot: %s", err);
        snprintf(why, whylen, "%s", err);
        return -1;
    }
    if (dl_fashion_mnist_load("test", 10000, &tes, err, sizeof err)) {
        dl_log(run, "mot: %s", err);
        snprintf(why, whylen, "%s", err);
        dl_mnist_free(&trs);
        return -1;
    }
    int rc = fmnist_grouping(c, run, &trs, &tes, easy_tasks, 2, 100, easy);
    if (!rc) rc = fmnist_grouping(c, run, &trs, &tes, hard_tasks, 5, 200, hard);
    if (rc) snprintf(why, whylen, "could not build the Fashion-MNIST task mixture");
    dl_mnist_free(&trs); dl_mnist_free(&tes);
    return rc;
}

static void fm_free(mot_fm_result *f)
{
    free(f->step); free(f->hist);
    for (int k = 0; k < 3; k++) free(f->err[k]);
}

int mot_run(const void *cfgv, dl_run *run)
{
    /* The untrained control (`--control untrained`): every learning rate 0
     * (normalized steps scale with their rate too), everything else equal. */
    mot_cfg cl = *(const mot_cfg *)cfgv;
    if (dl_run_untrained(run)) {
        cl.lr_w1 = cl.lr_kq = cl.lr_w3 = cl.lr_gate1 = cl.lr_gate = cl.lr_single = cl.lr_moe = 0;
        cl.fm_lr_w1 = cl.fm_lr_w = cl.fm_lr_kq = cl.fm_lr_gate = cl.fm_lr_single = 0;
    }
    const mot_cfg *c = &cl;
    if (c->n_conflict > c->n_classes - 1 || c->seq_len < 2 + c->n_conflict ||
        c->d < 2 * c->n_classes + (c->n_classes + 1) / 2) {
        dl_log(run, "mot: invalid data shape: need data.n_conflict <= data.n_classes-1, "
                    "data.seq_len >= 2 + data.n_conflict, data.d >= 2.5 * data.n_classes");
        return 1;
    }
    if (!(c->eps_lo < c->eps_hi)) {
        dl_log(run, "mot: claims.eps_lo must be smaller than claims.eps_hi");
        return 1;
    }
    double t0 = dl_now();
    mot_synth_result res;
    memset(&res, 0, sizeof res);
    int rc = synth_phase(c, run, &res);
    double t_synth = dl_now() - t0;
    mot_fm_result easy, hard;
    memset(&easy, 0, sizeof easy);
    memset(&hard, 0, sizeof hard);
    char why[600] = "";
    int fm_ok = 0;
    if (!rc && c->fm_enable) fm_ok = fmnist_phase(c, run, &easy, &hard, why, sizeof why) == 0;
    if (!rc) {
        mot_claims(c, run, &res, c->fm_enable ? (fm_ok ? &easy : NULL) : NULL,
                   c->fm_enable ? (fm_ok ? &hard : NULL) : NULL, c->fm_enable, why);
        mot_plots(c, run, &res, fm_ok ? &easy : NULL, fm_ok ? &hard : NULL);
        dl_final(run, "time_synthetic_s", t_synth);
        dl_final(run, "time_total_s", dl_now() - t0);
    }
    for (int k = 0; k < 3; k++) { free(res.train_trace[k]); free(res.log_test[k]); free(res.route_stage[k]); }
    free(res.other_trace);
    free(res.log_step); free(res.map);
    fm_free(&easy); fm_free(&hard);
    return rc ? 1 : 0;
}
