/* Registration of `mot`: Mixture-of-Transformers with a continuously trained
 * gate and three-stage training (arXiv 2510.27004). Every constant is a knob;
 * docs/papers/mot.md explains each reconstructed choice. */
#include <stddef.h>
#include <stdio.h>
#include "dynlab/experiment.h"
#include "mot/mot.h"

int mot_run(const void *cfg, dl_run *run);

/* Constraints between knobs (configuration errors, exit 2); mot_run repeats
 * them for callers that bypass the CLI. */
int dl_check_mot(const void *cfgv, char *err, size_t errlen)
{
    const mot_cfg *c = cfgv;
    if (c->n_conflict > c->n_classes - 1 || c->seq_len < 2 + c->n_conflict ||
        c->d < 2 * c->n_classes + (c->n_classes + 1) / 2) {
        snprintf(err, errlen, "invalid data shape: need data.n_conflict <= data.n_classes-1, "
                              "data.seq_len >= 2 + data.n_conflict, data.d >= 2.5 * data.n_classes");
        return -1;
    }
    if (!(c->eps_lo < c->eps_hi)) {
        snprintf(err, errlen, "claims.eps_lo must be smaller than claims.eps_hi");
        return -1;
    }
    return 0;
}

static const dl_field fields[] = {
    DL_FIELD_INT(mot_cfg, d, "data.d", 32, 8, 4096, "token dimension (>= 2.5 N: identifier, marker, label directions)"),
    DL_FIELD_INT(mot_cfg, n_classes, "data.n_classes", 8, 2, 64, "N, classes of tasks in the mixture"),
    DL_FIELD_INT(mot_cfg, seq_len, "data.seq_len", 8, 3, 256, "L, tokens per sample"),
    DL_FIELD_INT(mot_cfg, n_conflict, "data.n_conflict", 3, 0, 63, "conflicting-signal tokens per sample (<= N-1)"),
    DL_FIELD_INT(mot_cfg, n_train, "data.n_train", 1200, 16, 10000000, "training samples (full-batch GD)"),
    DL_FIELD_INT(mot_cfg, n_test, "data.n_test", 1200, 16, 10000000, "test samples"),
    DL_FIELD_DOUBLE(mot_cfg, alpha, "data.alpha", 1.0, 0, 100, "classification-signal strength (alpha y v_n)"),
    DL_FIELD_DOUBLE(mot_cfg, alpha_marker, "data.alpha_marker", 1.0, 0, 100, "signal-token marker strength (u_n)"),
    DL_FIELD_DOUBLE(mot_cfg, beta, "data.beta", 3.0, 0, 100, "class-identifier strength (beta c_n)"),
    DL_FIELD_DOUBLE(mot_cfg, gamma, "data.gamma", 1.0, 0, 100, "conflicting-signal strength (gamma eps v_n')"),
    DL_FIELD_DOUBLE(mot_cfg, sigma_p, "data.sigma_p", 0.4, 0, 100, "noise-token standard deviation"),
    DL_FIELD_INT(mot_cfg, n_experts, "model.n_experts", 16, 1, 1024, "M, transformer experts"),
    DL_FIELD_DOUBLE(mot_cfg, init_std, "model.init_std", 0.1, 0, 10, "std of the FFN neuron at init"),
    DL_FIELD_DOUBLE(mot_cfg, route_noise, "model.route_noise", 0.5, 0, 100, "noisy top-1 routing: r_m ~ U[0, route_noise] in training"),
    DL_FIELD_BOOL(mot_cfg, gate_all_tokens, "model.gate_all_tokens", 0, "gate reads the sum of all tokens instead of the task-identifier token (the construction C1-C5 rely on; docs/papers/mot.md)"),
    DL_FIELD_BOOL(mot_cfg, compare_gate, "model.compare_gate", 1, "also train a MoT with the other gate setting and report its routing and loss"),
    DL_FIELD_ENUM(mot_cfg, loss, "train.loss", "squared", "squared|logistic", "per-sample loss"),
    DL_FIELD_INT(mot_cfg, t1, "train.t1", 60, 0, 10000000, "stage I steps (FFNs + gate, attention frozen)"),
    DL_FIELD_INT(mot_cfg, t2, "train.t2", 30, 0, 10000000, "stage II steps (attention + gate, FFNs frozen)"),
    DL_FIELD_INT(mot_cfg, t3, "train.t3", 500, 1, 10000000, "stage III steps (FFNs + gate)"),
    DL_FIELD_DOUBLE(mot_cfg, lr_w1, "train.lr_w1", 0.008, 0, 1000, "stage I FFN step (norm of each expert's step when normalized)"),
    DL_FIELD_BOOL(mot_cfg, w1_normalized, "train.w1_normalized", 1, "stage I FFNs: normalized gradient steps per expert"),
    DL_FIELD_DOUBLE(mot_cfg, lr_kq, "train.lr_kq", 0.5, 0, 1000, "stage II attention learning rate"),
    DL_FIELD_DOUBLE(mot_cfg, lr_w3, "train.lr_w3", 0.5, 0, 1000, "stage III FFN learning rate"),
    DL_FIELD_DOUBLE(mot_cfg, lr_gate1, "train.lr_gate1", 0.3, 0, 1000, "stage I gate learning rate"),
    DL_FIELD_DOUBLE(mot_cfg, lr_gate, "train.lr_gate", 0.5, 0, 1000, "stage II/III gate learning rate"),
    DL_FIELD_DOUBLE(mot_cfg, bal_coef, "train.bal_coef", 0.03, 0, 100, "stage I load-balancing coefficient"),
    DL_FIELD_BOOL(mot_cfg, gate_normalized, "train.gate_normalized", 1, "stage I gate: normalized gradient steps"),
    DL_FIELD_BOOL(mot_cfg, kq_normalized, "train.kq_normalized", 1, "stage II attention: normalized gradient steps"),
    DL_FIELD_DOUBLE(mot_cfg, lr_single, "train.lr_single", 0.3, 0, 1000, "single transformer learning rate (all parameters)"),
    DL_FIELD_DOUBLE(mot_cfg, lr_moe, "train.lr_moe", 0.5, 0, 1000, "attention-free MoE FFN learning rate after stage I"),
    DL_FIELD_INT(mot_cfg, log_every, "log.every", 10, 1, 1000000, "steps between metric rows"),
    DL_FIELD_DOUBLE(mot_cfg, eps_hi, "claims.eps_hi", 1e-2, 1e-12, 1, "largest epsilon of the rate fit (claim 5)"),
    DL_FIELD_DOUBLE(mot_cfg, eps_lo, "claims.eps_lo", 1e-5, 1e-12, 1, "smallest epsilon of the rate fit (claim 5)"),
    DL_FIELD_BOOL(mot_cfg, fm_enable, "fmnist.enable", 1, "run the Fashion-MNIST phase (claim 7)"),
    DL_FIELD_INT(mot_cfg, fm_train, "fmnist.n_train", 1000, 16, 120000, "Fashion-MNIST training samples per grouping"),
    DL_FIELD_INT(mot_cfg, fm_test, "fmnist.n_test", 600, 16, 20000, "Fashion-MNIST test samples per grouping"),
    DL_FIELD_INT(mot_cfg, fm_experts, "fmnist.n_experts", 6, 1, 256, "experts in the Fashion-MNIST phase"),
    DL_FIELD_INT(mot_cfg, fm_t1, "fmnist.t1", 30, 0, 1000000, "Fashion-MNIST stage I steps"),
    DL_FIELD_INT(mot_cfg, fm_t2, "fmnist.t2", 30, 0, 1000000, "Fashion-MNIST stage II steps"),
    DL_FIELD_INT(mot_cfg, fm_t3, "fmnist.t3", 60, 1, 1000000, "Fashion-MNIST stage III steps"),
    DL_FIELD_INT(mot_cfg, fm_log_every, "fmnist.log_every", 5, 1, 1000000, "Fashion-MNIST steps between evaluations"),
    DL_FIELD_DOUBLE(mot_cfg, fm_beta, "fmnist.beta", 3.0, 0, 100, "task-identifier token strength"),
    DL_FIELD_DOUBLE(mot_cfg, fm_lr_w1, "fmnist.lr_w1", 0.05, 0, 1000, "Fashion-MNIST stage I FFN step (normalized)"),
    DL_FIELD_DOUBLE(mot_cfg, fm_lr_w, "fmnist.lr_w", 0.3, 0, 1000, "Fashion-MNIST FFN learning rate (all models)"),
    DL_FIELD_DOUBLE(mot_cfg, fm_lr_kq, "fmnist.lr_kq", 0.5, 0, 1000, "Fashion-MNIST stage II attention step (normalized)"),
    DL_FIELD_DOUBLE(mot_cfg, fm_lr_gate, "fmnist.lr_gate", 0.3, 0, 1000, "Fashion-MNIST gate learning rate"),
    DL_FIELD_DOUBLE(mot_cfg, fm_lr_single, "fmnist.lr_single", 0.1, 0, 1000, "Fashion-MNIST single transformer learning rate"),
    DL_FIELD_DOUBLE(mot_cfg, fm_bal_coef, "fmnist.bal_coef", 0.0, 0, 100, "Fashion-MNIST stage I load balancing"),
};

static const dl_config_schema schema = {fields, (int)(sizeof fields / sizeof fields[0]),
                                        sizeof(mot_cfg)};

static const dl_preset presets[] = {
    {"quick", "{}"},
    {"paper", "{\"data\": {\"d\": 64, \"n_train\": 4000, \"n_test\": 4000},"
              " \"model\": {\"n_experts\": 32}, \"train\": {\"t3\": 1000},"
              " \"fmnist\": {\"n_train\": 4000, \"n_test\": 2000, \"t3\": 200}}"},
    {NULL, NULL},
};

const dl_experiment dl_exp_mot = {
    .name = "mot",
    .title = "Mixture-of-Transformers Learn Faster: A Theoretical Study on Classification Problems",
    .arxiv = "2510.27004",
    .summary = "Each transformer block is an expert and a continuously trained gate routes whole "
               "samples. A three-stage algorithm (FFNs, then attention, then FFNs again) makes each "
               "expert specialize in one class of tasks, removes gradient conflicts and drives the "
               "loss to epsilon in O(log 1/epsilon) steps, against O(1/epsilon) for one transformer.",
    .schema = &schema,
    .presets = presets,
    .run = mot_run,
};
