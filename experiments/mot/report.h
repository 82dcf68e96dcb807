/* What the run measured, handed to the claims and the plots. */
#ifndef DYNLAB_EXP_MOT_REPORT_H
#define DYNLAB_EXP_MOT_REPORT_H
#include "dynlab/run.h"
#include "mot/mot.h"

typedef struct mot_synth_result {
    int T;
    double *train_trace[3];   /* [T+1] full-batch training loss before step s (MoT, single, MoE) */
    int n_logs;
    double *log_step, *log_test[3];
    int *route_stage[3];      /* [M][N] test routing after stages I, II, III */
    int *map;                 /* expert -> class after stage I */
    double route_acc_I, min_route_acc_after;
    double attn_I, attn_II, loss_I, loss_II;
    double final_test[3], final_err[3];
    /* gradient conflict (claim 6): mean over class pairs of max(0, -cos) of the
     * per-class mean gradients on the blocks' parameters (the gate excluded) */
    double conflict_mot_I;        /* MoT after stage I */
    double conflict_single_eq;    /* single transformer at the evaluation where its training
                                     loss first reaches MoT's after stage I (else the end) */
    int conflict_single_step;     /* that evaluation's step (-1: never reached, end used) */
    double conflict_single_init;  /* single at step 0 */
    double cos_single_min_eq, cos_mot_min_I;
    /* the other gate setting (model.gate_all_tokens flipped; model.compare_gate) */
    int other_done;
    double other_route_acc_I, other_final_test, other_final_err;
    int other_steps_1e3;
    double *other_trace;          /* [T+1] its training loss */
} mot_synth_result;

typedef struct mot_fm_result {
    int n, M;
    double *step, *err[3];    /* test error trace (MoT, single, MoE) */
    int *hist;                /* MoT routing histogram over experts (test) */
    double mean_err[3], final_err[3], eff_experts;
    int n_test;
} mot_fm_result;

void mot_claims(const mot_cfg *c, dl_run *run, const mot_synth_result *r, const mot_fm_result *easy,
                const mot_fm_result *hard, int fm_enabled, const char *fm_why);
void mot_plots(const mot_cfg *c, dl_run *run, const mot_synth_result *r, const mot_fm_result *easy,
               const mot_fm_result *hard);
#endif
