/* A two-parameter model (lin.weight [2, 3], lin.bias [3]) with its gradients
 * in fixed arrays, and a deterministic "training" that feeds the optimizer the
 * gradients of a quadratic: the checkpoint tests (test_safetensors.c,
 * test_checkpoint_integrity.c) save, damage and restore it. */
#ifndef TESTS_TINY_MODEL_H
#define TESTS_TINY_MODEL_H

#include <string.h>
#include "dynlab/core.h"
#include "dynlab/optim.h"

typedef struct {
    float w[6], wg[6], b[3], bg[3];
    dl_tensor tw, tb;
    dl_tensor *items[2];
    dl_params ps;
} model;

static inline void model_init(model *m, float base) {
    memset(m, 0, sizeof *m);
    for (int i = 0; i < 6; i++) m->w[i] = base + (float)i;
    for (int i = 0; i < 3; i++) m->b[i] = base - (float)i;
    m->tw = (dl_tensor){.data = m->w, .grad = m->wg, .size = 6, .ndim = 2, .shape = {2, 3},
                        .requires_grad = 1, .is_param = 1, .name = "lin.weight"};
    m->tb = (dl_tensor){.data = m->b, .grad = m->bg, .size = 3, .ndim = 1, .shape = {3},
                        .requires_grad = 1, .is_param = 1, .name = "lin.bias"};
    m->items[0] = &m->tw;
    m->items[1] = &m->tb;
    m->ps = (dl_params){.items = m->items, .n = 2, .cap = 2};
}

/* k optimizer steps with the gradient of sum (w - 0.5 i)^2 / 2 + sum b^2. */
static inline void train_steps(model *m, dl_optim *o, int k) {
    for (int s = 0; s < k; s++) {
        for (int i = 0; i < 6; i++) m->wg[i] = m->w[i] - 0.5f * (float)i;
        for (int i = 0; i < 3; i++) m->bg[i] = 2.0f * m->b[i];
        dl_optim_step(o, 0.01f);
    }
}

#endif
