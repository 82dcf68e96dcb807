/* Figures of the treepath run (docs/papers/treepath.md, "Figures"). */
#ifndef TREEPATH_PLOTS_H
#define TREEPATH_PLOTS_H

#include "treepath/claims.h"

/* Loss, parameter-trajectory, symmetry and accuracy-by-depth figures. */
void tp_plots_curves(dl_run *run, const tp_results *r);

/* Attention heatmaps of one greedy-decoded test example: per head, one figure
 * per stage (backward model: one figure). */
void tp_plots_attention(dl_run *run, const tp_model *m, const tp_tree *t, int task,
                        uint64_t seed, const char *prefix);

#endif
