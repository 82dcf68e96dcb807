/* Registration of `rehearsal`: concurrent, sequential and hybrid rehearsal in
 * continual learning (arXiv 2506.00205). Every reconstructed constant is a
 * knob; docs/papers/rehearsal.md explains each choice. */
#include <stddef.h>
#include <stdio.h>
#include "dynlab/experiment.h"
#include "rehearsal/rehearsal.h"

int rh_run(const void *cfg, dl_run *run);

static const dl_field fields[] = {
    DL_FIELD_BOOL(rh_cfg, lin_enable, "linear.enable", 1, "run the linear part (claims C1-C4)"),
    DL_FIELD_LIST(rh_cfg, lin_p, "linear.p", "100,200,300,200", 4, 100000, "features p of each problem-size configuration"),
    DL_FIELD_LIST(rh_cfg, lin_n, "linear.n", "20,20,30,40", 1, 100000, "samples n per task, per configuration"),
    DL_FIELD_LIST(rh_cfg, lin_M, "linear.M", "5,10,20,5", 0, 100000, "memory M per past task (first M samples of the task), per configuration"),
    DL_FIELD_LIST(rh_cfg, lin_T, "linear.T", "5,5,5,10", 2, 16, "tasks T per configuration (the two-cluster family uses max(T, 6))"),
    DL_FIELD_INT(rh_cfg, reps, "linear.reps", 300, 2, 10000000, "Monte-Carlo draws per grid point (paired over strategies)"),
    DL_FIELD_DOUBLE(rh_cfg, noise, "linear.noise", 0.0, 0, 100, "label noise s of the checked runs (the claims need s <= 0.1)"),
    DL_FIELD_DOUBLE(rh_cfg, noise_report, "linear.noise_report", 0.3, 0, 100, "label noise of the reported identical-task run"),
    DL_FIELD_LIST(rh_cfg, d_grid, "linear.d_grid", "0,0.1,0.2,0.3,0.5,1,2", 0, 100, "dissimilarity d of the uniform family w*_t = c + d u_t"),
    DL_FIELD_LIST(rh_cfg, d_hybrid, "linear.d_hybrid", "0.5,1,2", 0, 100, "cluster separation d of the two-cluster family"),
    DL_FIELD_DOUBLE(rh_cfg, cluster_spread, "linear.cluster_spread", 0.1, 0, 100, "within-cluster spread of the two-cluster family"),
    DL_FIELD_DOUBLE(rh_cfg, tau_factor, "linear.tau_factor", 0.5, 0, 100, "oracle similarity: ||w*_i - w*_t||^2 < tau_factor d^2"),
    DL_FIELD_ENUM(rh_cfg, sr_order, "linear.sr_order", "old_to_new", "old_to_new|new_to_old", "order of the sequential revisits"),
    DL_FIELD_ENUM(rh_cfg, buffer, "linear.buffer", "reused", "reused|fresh", "memory: stored once and reused, or fresh samples at every revisit"),
    DL_FIELD_BOOL(rh_cfg, deep_enable, "deep.enable", 1, "run the deep part (claim C5)"),
    DL_FIELD_ENUM(rh_cfg, family, "deep.family", "both", "split|rotated|both", "Fashion-MNIST task families"),
    DL_FIELD_INT(rh_cfg, seeds, "deep.seeds", 10, 1, 1000, "inner seeds (data subset, init, batch order) per strategy"),
    DL_FIELD_INT(rh_cfg, n_train, "deep.n_train", 500, 1, 12000, "training images per task"),
    DL_FIELD_INT(rh_cfg, n_test, "deep.n_test", 500, 1, 2000, "test images per task"),
    DL_FIELD_INT(rh_cfg, hidden, "deep.hidden", 128, 1, 65536, "hidden ReLU units of the MLP"),
    DL_FIELD_INT(rh_cfg, epochs, "deep.epochs", 2, 1, 1000, "epochs per task"),
    DL_FIELD_INT(rh_cfg, batch, "deep.batch", 32, 1, 4096, "batch size (CR adds as many replayed samples)"),
    DL_FIELD_DOUBLE(rh_cfg, lr, "deep.lr", 0.05, 0, 100, "SGD learning rate (no momentum, no weight decay)"),
    DL_FIELD_INT(rh_cfg, memory, "deep.memory", 50, 0, 12000, "memory per past task (first images of its shuffled training set)"),
    DL_FIELD_ENUM(rh_cfg, grouping, "deep.grouping", "family", "family|data", "hybrid grouping the claim uses (both are reported)"),
    DL_FIELD_INT(rh_cfg, data_subset, "deep.data_subset", 0, 0, 60000, "Fashion-MNIST images read per split (0 = all)"),
};

static const dl_config_schema schema = {fields, (int)(sizeof fields / sizeof fields[0]), sizeof(rh_cfg)};

/* Constraints across knobs, checked before anything is created (the CLI exits 2). */
int dl_check_rehearsal(const void *cfgv, char *err, size_t errlen)
{
    const rh_cfg *c = cfgv;
    if (!c->lin_enable && !c->deep_enable) {
        snprintf(err, errlen, "linear.enable and deep.enable are both false: nothing to run");
        return -1;
    }
    if (!c->lin_enable) return 0;
    const int nconf = c->lin_p.n;
    if (nconf < 1 || nconf > RH_MAX_CONFIGS || c->lin_n.n != nconf || c->lin_M.n != nconf || c->lin_T.n != nconf) {
        snprintf(err, errlen, "linear.p, linear.n, linear.M and linear.T must list the same number (1..%d) of "
                              "configurations", RH_MAX_CONFIGS);
        return -1;
    }
    for (int k = 0; k < nconf; k++) {
        const double p = c->lin_p.v[k], n = c->lin_n.v[k], M = c->lin_M.v[k], T = c->lin_T.v[k];
        const double TC = T < 6 ? 6 : T; /* the two-cluster family alternates over at least six tasks */
        if (T < 2 || TC > RH_MAX_T || M > n || n < 1 || p < n + (TC - 1) * M + 2) {
            snprintf(err, errlen, "linear configuration %d (p=%g n=%g M=%g T=%g) needs 2 <= T, max(T,6) <= %d, "
                                  "M <= n and p >= n + (max(T,6)-1) M + 2 (overparameterized)",
                     k + 1, p, n, M, T, RH_MAX_T);
            return -1;
        }
    }
    return 0;
}

static const dl_preset presets[] = {
    {"quick", "{}"},
    {"paper", "{\"linear\": {\"reps\": 1000}, \"deep\": {\"seeds\": 20, \"n_train\": 2000, \"n_test\": 1000,"
              " \"hidden\": 256}}"},
    {NULL, NULL},
};

const dl_experiment dl_exp_rehearsal = {
    .name = "rehearsal",
    .title = "Unlocking the Power of Rehearsal in Continual Learning: A Theoretical Perspective",
    .arxiv = "2506.00205",
    .summary = "Concurrent rehearsal trains on new data and stored past data together; sequential rehearsal "
               "trains on the new task first and then revisits past tasks one after another. For "
               "overparameterized linear models the paper characterizes forgetting and generalization error of "
               "both and shows that sequential rehearsal performs better when tasks are less similar; a hybrid "
               "(similar tasks concurrently, dissimilar tasks sequentially) outperforms standard concurrent "
               "rehearsal in experiments with deep neural networks.",
    .schema = &schema,
    .presets = presets,
    .run = rh_run,
};
