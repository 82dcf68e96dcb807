/* The five claims of arXiv 2508.08222, checked on the run's own measurements. */
#ifndef TREEPATH_CLAIMS_H
#define TREEPATH_CLAIMS_H

#include "treepath/train.h"

typedef struct tp_results {
    int S_bw, S_fw;
    tp_history hb, hf, hn, hs;      /* backward, forward, no-CoT, symmetric-data runs */
    tp_eval evb, evf, evn;          /* final test evaluations */
    double bw_offdiag_absmax;       /* max_{i != j} |B_ij| of the final backward model */
    double bw_diag_min;             /* min_i B_ii */
    double phase_step[4];           /* forward: first step each component falls below half */
    int sym_ran;
    int shared_values;              /* forward.head_values=shared */
} tp_results;

/* Thresholds (sources in claims.c and docs/papers/treepath.md). */
#define TP_NEAR_ZERO_FRAC 0.01   /* final train loss <= 1% of the loss at zero init */
#define TP_ACC_MIN 0.99          /* exact-path accuracy on unseen trees (docs/papers/treepath.md) */
#define TP_OFFDIAG_FRAC 0.1      /* off-diagonal <= 10% of the diagonal */
#define TP_PHASE_RATIO 4.0       /* latest / earliest component half-time */
#define TP_ATTN_MIN 0.9          /* traversal head mass on the path token (docs/papers/treepath.md) */
#define TP_NOCOT_MAX 0.5         /* no-CoT "fails": exact accuracy at most 0.5 */
#define TP_SYM_TOL 1e-5          /* relative symmetry defect, float32 */

/* Fill phase_step from hf (NAN when a component never halves). */
void tp_phase_times(const tp_history *hf, double *phase_step);

void tp_claims(dl_run *run, const tp_results *res);

#endif
