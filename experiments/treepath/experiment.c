/* System `treepath`: one-layer transformers learn backward and forward
 * path-finding in trees with chain of thought (arXiv 2508.08222; docs/papers/treepath.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynlab/experiment.h"
#include "treepath/claims.h"
#include "treepath/plots.h"

typedef struct tp_cfg {
    int bw_depth, bw_labels, bw_batch, bw_steps;
    double bw_lr;
    int fw_depth, fw_labels, fw_batch, fw_steps;
    double fw_lr;
    int nc_steps;
    char head_values[DL_STR_MAX];
    int test_trees, test_max_children, test_min_nodes, test_max_depth;
    int sym_steps, sym_base_trees, sym_depth, sym_labels;
    int log_every, eval_every;
} tp_cfg;

static const dl_field tp_fields[] = {
    DL_FIELD_INT(tp_cfg, bw_depth, "backward.depth", 4, 1, 6,
                 "training trees: perfect binary of this depth (paper: 4)"),
    DL_FIELD_INT(tp_cfg, bw_labels, "backward.labels", 31, 2, TP_MAX_LABELS,
                 "label alphabet |S| (paper: 31)"),
    DL_FIELD_INT(tp_cfg, bw_batch, "backward.batch", 256, 1, 65536, "trees per SGD step (paper: 256)"),
    DL_FIELD_INT(tp_cfg, bw_steps, "backward.steps", 1500, 1, 10000000, "SGD steps"),
    DL_FIELD_DOUBLE(tp_cfg, bw_lr, "backward.lr", 1.0, 0, 1000, "learning rate (paper: 1)"),
    DL_FIELD_INT(tp_cfg, fw_depth, "forward.depth", 3, 1, 6,
                 "training trees: perfect binary of this depth (paper: 3)"),
    DL_FIELD_INT(tp_cfg, fw_labels, "forward.labels", 25, 2, TP_MAX_LABELS,
                 "label alphabet |S| (paper: 25)"),
    DL_FIELD_INT(tp_cfg, fw_batch, "forward.batch", 256, 1, 65536, "trees per SGD step (paper: 256)"),
    DL_FIELD_INT(tp_cfg, fw_steps, "forward.steps", 6000, 1, 10000000, "SGD steps"),
    DL_FIELD_DOUBLE(tp_cfg, fw_lr, "forward.lr", 0.2, 0, 1000, "learning rate (paper: 0.2)"),
    DL_FIELD_ENUM(tp_cfg, head_values, "forward.head_values", "roles", "roles|shared",
                  "two-head models' fixed value maps: roles = head 1 reads the node, head 2 the stage "
                  "signal (our construction, the heads' roles given by it); shared = both heads read both"),
    DL_FIELD_INT(tp_cfg, nc_steps, "nocot.steps", 1000, 1, 10000000,
                 "SGD steps of the no-CoT baseline (forward trees, batch and lr)"),
    DL_FIELD_INT(tp_cfg, test_trees, "test.trees", 1024, 1, 1000000,
                 "unseen random test trees per task (paper: 1,024)"),
    DL_FIELD_INT(tp_cfg, test_max_children, "test.max_children", 3, 1, 8,
                 "test trees: each node has 0..max_children children (paper: 3)"),
    DL_FIELD_INT(tp_cfg, test_min_nodes, "test.min_nodes", 2, 2, TP_MAX_NODES,
                 "test trees: node budget drawn uniformly in [min_nodes, labels]"),
    DL_FIELD_INT(tp_cfg, test_max_depth, "test.max_depth", 0, 0, TP_MAX_NODES,
                 "test trees: largest goal depth (0 = no limit)"),
    DL_FIELD_INT(tp_cfg, sym_steps, "symmetry.steps", 600, 0, 1000000,
                 "SGD steps of the symmetric-data run (claim 5; 0 = skip, claim fails)"),
    DL_FIELD_INT(tp_cfg, sym_depth, "symmetry.depth", 3, 1, 6,
                 "symmetric-data run (backward model): perfect binary depth"),
    DL_FIELD_INT(tp_cfg, sym_labels, "symmetry.labels", 17, 3, TP_MAX_LABELS,
                 "symmetric-data run: label alphabet, a prime (orbit size labels*(labels-1))"),
    DL_FIELD_INT(tp_cfg, sym_base_trees, "symmetry.base_trees", 1, 1, 64,
                 "base trees per step; the batch is their orbit under x -> ax+b mod S"),
    DL_FIELD_INT(tp_cfg, log_every, "log.every", 25, 1, 1000000, "metrics row every N steps"),
    DL_FIELD_INT(tp_cfg, eval_every, "eval.every", 250, 1, 1000000,
                 "test-set evaluation every N steps"),
};
static const dl_config_schema tp_schema = {tp_fields, sizeof tp_fields / sizeof tp_fields[0],
                                           sizeof(tp_cfg)};

static const dl_preset tp_presets[] = {
    {"quick", "{}"},
    {"paper", "{\"backward\": {\"steps\": 5000}, \"forward\": {\"steps\": 30000},"
              " \"nocot\": {\"steps\": 5000}, \"symmetry\": {\"steps\": 1500, \"depth\": 4, \"labels\": 31},"
              " \"log\": {\"every\": 50}, \"eval\": {\"every\": 1000}}"},
    {NULL, NULL}};

/* Constraints between knobs: configuration errors (exit 2) before the run. */
int dl_check_treepath(const void *cv, char *err, size_t errlen) {
    const tp_cfg *c = cv;
    int nb = (1 << (c->bw_depth + 1)) - 1, nf = (1 << (c->fw_depth + 1)) - 1;
    if (nb > c->bw_labels)
        snprintf(err, errlen, "backward.labels=%d is smaller than the %d nodes of a depth-%d tree",
                 c->bw_labels, nb, c->bw_depth);
    else if (nf > c->fw_labels)
        snprintf(err, errlen, "forward.labels=%d is smaller than the %d nodes of a depth-%d tree",
                 c->fw_labels, nf, c->fw_depth);
    else if (c->sym_steps > 0 && !tp_is_prime(c->sym_labels))
        snprintf(err, errlen, "symmetry.labels=%d is not prime (the AGL(1,p) orbit needs a prime)",
                 c->sym_labels);
    else if (c->sym_steps > 0 && (1 << (c->sym_depth + 1)) - 1 > c->sym_labels)
        snprintf(err, errlen, "symmetry.labels=%d is smaller than a depth-%d tree", c->sym_labels,
                 c->sym_depth);
    else
        return 0;
    return -1;
}

static int check_cfg(const tp_cfg *c, dl_run *run) {
    char err[256];
    if (dl_check_treepath(c, err, sizeof err)) {
        dl_log(run, "error: %s", err);
        return -1;
    }
    return 0;
}

static void make_test_set(const tp_cfg *c, int S, int task, uint64_t seed, uint64_t stream,
                          tp_tree *trees, tp_example *ex, int build_trees) {
    dl_rng r;
    dl_rng_init(&r, seed, stream);
    for (int i = 0; i < c->test_trees; i++) {
        if (build_trees)
            tp_tree_random(&trees[i], S, c->test_max_children, c->test_min_nodes,
                           c->test_max_depth, &r);
        tp_example_build(&ex[i], &trees[i], task, &r);
    }
}

static void final_eval(dl_run *run, const char *p, const tp_eval *ev, int task) {
    char key[96];
#define F(name, v) (snprintf(key, sizeof key, "%s.%s", p, name), dl_final(run, key, v))
    F("test_path_acc", ev->path_acc);
    F("test_answer_acc", ev->answer_acc);
    F("test_step_acc", ev->step_acc);
    F("test_loss", ev->test_loss);
    if (task == TP_TASK_FORWARD) {
        F("test_switch_acc", ev->switch_acc);
        F("test_switch_step_acc", ev->switch_step_acc);
        static const char *ph[3] = {"stage_b", "root", "stage_f"};
        static const char *tn[TP_NTYPES] = {"edge", "root", "outb", "outf"};
        for (int k = 0; k < 3; k++) {
            char name[64];
            snprintf(name, sizeof name, "h1_path_mass_%s", ph[k]);
            F(name, ev->attn_path[k]);
            for (int h = 0; h < 2; h++)
                for (int t = 0; t < TP_NTYPES; t++) {
                    snprintf(name, sizeof name, "h%d_mass_%s_on_%s", h + 1, ph[k], tn[t]);
                    F(name, ev->attn_type[h][k][t]);
                }
        }
    } else {
        F("h1_path_mass", ev->attn_path[0]);
    }
    for (int d = 1; d < TP_DEPTH_BINS; d++) {
        if (!ev->by_depth_n[d]) continue;
        char name[64];
        snprintf(name, sizeof name, "test_path_acc_depth%d", d);
        F(name, ev->by_depth_acc[d]);
    }
#undef F
}

static int run_task(dl_run *run, const tp_train_cfg *tc, tp_model *m, dl_params *ps,
                    const tp_tree *trees, const tp_example *ex, int n_test, tp_history *h,
                    tp_eval *ev) {
    double t0 = dl_now();
    if (tp_train(tc, m, ps, trees, ex, n_test, run, h) != 0) return -1;
    if (trees) tp_evaluate(m, trees, ex, n_test, tc->task, tc->seed, ev);
    char key[96];
    snprintf(key, sizeof key, "%s.seconds", tc->name);
    dl_final(run, key, dl_now() - t0);
    dl_log(run, "%s: %d steps in %.2f s, train loss %.4g -> %.4g", tc->name, tc->steps,
           dl_now() - t0, h->n ? h->col[TP_L_LOSS][0] : NAN,
           h->n ? h->col[TP_L_LOSS][h->n - 1] : NAN);
    if (trees && tc->task == TP_TASK_FORWARD)
        dl_log(run, "%s: test exact-path acc %.4f (root->goal %.4f, switch %.4f), test loss %.4g",
               tc->name, ev->path_acc, ev->answer_acc, ev->switch_acc, ev->test_loss);
    else if (trees)
        dl_log(run, "%s: test exact-path acc %.4f, test loss %.4g", tc->name, ev->path_acc,
               ev->test_loss);
    return 0;
}

static double offdiag_absmax(const float *B, int S, double *diag_min) {
    double mx = 0, dmin = INFINITY;
    for (int i = 0; i < S; i++)
        for (int j = 0; j < S; j++) {
            double v = B[(size_t)i * S + j];
            if (i == j) { if (v < dmin) dmin = v; }
            else if (fabs(v) > mx) mx = fabs(v);
        }
    *diag_min = dmin;
    return mx;
}

static int tp_run(const void *vcfg, dl_run *run) {
    const tp_cfg *c = vcfg;
    if (check_cfg(c, run)) return 1;
    int rc = 1;
    tp_results res;
    memset(&res, 0, sizeof res);
    res.S_bw = c->bw_labels;
    res.S_fw = c->fw_labels;
    int nt = c->test_trees;
    tp_tree *tb = malloc(sizeof(tp_tree) * (size_t)nt), *tf = malloc(sizeof(tp_tree) * (size_t)nt);
    tp_example *eb = malloc(sizeof(tp_example) * (size_t)nt);
    tp_example *ef = malloc(sizeof(tp_example) * (size_t)nt);
    tp_example *en = malloc(sizeof(tp_example) * (size_t)nt);
    tp_model mb, mf, mn, ms;
    dl_params pb, pf, pn, pss;
    dl_params_init(&pb);
    dl_params_init(&pf);
    dl_params_init(&pn);
    dl_params_init(&pss);
    if (!tb || !tf || !eb || !ef || !en) {
        dl_log(run, "error: out of memory for %d test trees", nt);
        goto done;
    }
    /* Test sets: unseen random trees (0..3 children), one per alphabet. The
     * no-CoT baseline uses exactly the forward task's trees. */
    make_test_set(c, c->bw_labels, TP_TASK_BACKWARD, run->seed, 101, tb, eb, 1);
    make_test_set(c, c->fw_labels, TP_TASK_FORWARD, run->seed, 102, tf, ef, 1);
    make_test_set(c, c->fw_labels, TP_TASK_NOCOT, run->seed, 103, tf, en, 0);
    double t0 = dl_now();
    /* The untrained control: every learning rate zero, all else identical. */
    const int untrained = dl_run_untrained(run);
    const double bw_lr = untrained ? 0 : c->bw_lr, fw_lr = untrained ? 0 : c->fw_lr;
    const int shared = strcmp(c->head_values, "shared") == 0;
    res.shared_values = shared;

    tp_train_cfg tcb = {"backward", TP_TASK_BACKWARD, TP_DATA_RANDOM, c->bw_depth, c->bw_labels,
                        c->bw_batch, c->bw_steps, bw_lr, c->log_every, c->eval_every,
                        run->seed, 1};
    tp_model_init(&mb, &pb, TP_TASK_BACKWARD, c->bw_labels);
    if (run_task(run, &tcb, &mb, &pb, tb, eb, nt, &res.hb, &res.evb)) goto done;

    tp_train_cfg tcf = {"forward", TP_TASK_FORWARD, TP_DATA_RANDOM, c->fw_depth, c->fw_labels,
                        c->fw_batch, c->fw_steps, fw_lr, c->log_every, c->eval_every,
                        run->seed, 2};
    tp_model_init(&mf, &pf, TP_TASK_FORWARD, c->fw_labels);
    if (shared) tp_model_share_values(&mf);
    if (run_task(run, &tcf, &mf, &pf, tf, ef, nt, &res.hf, &res.evf)) goto done;

    tp_train_cfg tcn = {"nocot", TP_TASK_NOCOT, TP_DATA_RANDOM, c->fw_depth, c->fw_labels,
                        c->fw_batch, c->nc_steps, fw_lr, c->log_every, c->eval_every,
                        run->seed, 3};
    tp_model_init(&mn, &pn, TP_TASK_NOCOT, c->fw_labels);
    if (shared) tp_model_share_values(&mn);
    if (run_task(run, &tcn, &mn, &pn, tf, en, nt, &res.hn, &res.evn)) goto done;

    if (c->sym_steps > 0) {
        tp_train_cfg tcs = {"symmetry", TP_TASK_BACKWARD, TP_DATA_ORBIT, c->sym_depth, c->sym_labels,
                            c->sym_base_trees, c->sym_steps, bw_lr, 1, c->sym_steps + 1,
                            run->seed, 4};
        tp_model_init(&ms, &pss, TP_TASK_BACKWARD, c->sym_labels);
        if (run_task(run, &tcs, &ms, &pss, NULL, NULL, 0, &res.hs, NULL)) goto done;
        res.sym_ran = 1;
    }
    dl_final(run, "seconds_total", dl_now() - t0);

    res.bw_offdiag_absmax = offdiag_absmax(mb.B[0]->data, mb.S, &res.bw_diag_min);
    tp_phase_times(&res.hf, res.phase_step);
    final_eval(run, "backward", &res.evb, TP_TASK_BACKWARD);
    final_eval(run, "forward", &res.evf, TP_TASK_FORWARD);
    final_eval(run, "nocot", &res.evn, TP_TASK_NOCOT);
    dl_final(run, "backward.H11", mb.B[0]->data[0]);
    dl_final(run, "backward.H12", mb.B[0]->data[1]);
    dl_final(run, "backward.offdiag_absmax", res.bw_offdiag_absmax);
    dl_final(run, "backward.diag_min", res.bw_diag_min);
    static const char *pn_names[4] = {"stage", "node_f", "node_b", "node_root"};
    for (int k = 0; k < 4; k++) {
        char key[64];
        snprintf(key, sizeof key, "forward.half_step_%s", pn_names[k]);
        dl_final(run, key, res.phase_step[k]);
    }

    tp_claims(run, &res);
    tp_plots_curves(run, &res);
    /* Heatmaps on the first unseen test tree whose goal is at depth >= 3. */
    int ib = 0, iff = 0;
    for (int i = 0; i < nt; i++)
        if (tb[i].depth[tb[i].goal] >= 3) { ib = i; break; }
    for (int i = 0; i < nt; i++)
        if (tf[i].depth[tf[i].goal] >= 3) { iff = i; break; }
    tp_plots_attention(run, &mb, &tb[ib], TP_TASK_BACKWARD, run->seed, "backward");
    tp_plots_attention(run, &mf, &tf[iff], TP_TASK_FORWARD, run->seed, "forward");
    rc = 0;
done:
    tp_history_free(&res.hb);
    tp_history_free(&res.hf);
    tp_history_free(&res.hn);
    tp_history_free(&res.hs);
    dl_params_free(&pb);
    dl_params_free(&pf);
    dl_params_free(&pn);
    dl_params_free(&pss);
    free(tb);
    free(tf);
    free(eb);
    free(ef);
    free(en);
    return rc;
}

const dl_experiment dl_exp_treepath = {
    "treepath",
    "Multi-head Transformers Provably Learn Symbolic Multi-step Reasoning via Gradient Descent",
    "2508.08222",
    "A one-layer transformer trained by gradient descent from zero init learns backward "
    "reasoning (the path goal->root in a tree) and, with two heads, forward reasoning "
    "(goal->root then reversed to root->goal in one autoregressive pass) with chain of thought. "
    "The heads specialise autonomously (one traverses, one switches stage at the root) and the "
    "trained models generalise to unseen trees.",
    &tp_schema,
    tp_presets,
    tp_run,
};
