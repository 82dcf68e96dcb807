/* The paper's claims as checks on this run's measurements
 * (docs/papers/dag.md, "Claims"). C1, C2, C4 and C5 are `learned` (they fail
 * under `--control untrained`); C3 and C6 hold by the symmetry of the
 * construction and are `structural`. C1, C2 and C4 are checked with the
 * heads handed the true marginal kernels (model.kernels = given); the run
 * also trains with learned kernels and reports that setting's recovery. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dag/exp.h"

void dag_fit_line(const double *x, const double *y, int n, double *slope, double *r2) {
    double mx = 0, my = 0;
    for (int i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
    mx /= n; my /= n;
    double sxx = 0, sxy = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        sxx += (x[i] - mx) * (x[i] - mx);
        sxy += (x[i] - mx) * (y[i] - my);
        syy += (y[i] - my) * (y[i] - my);
    }
    *slope = sxx > 0 ? sxy / sxx : 0;
    *r2 = sxx > 0 && syy > 0 ? sxy * sxy / (sxx * syy) : 1;
}

/* The KL run: the main run when objective.f = kl, else the comparison run. */
static const dag_train_result *kl_run(const dag_outcome *o) {
    if (o->f == DAG_F_KL) return &o->main;
    return o->have_other[DAG_F_KL] ? &o->other[DAG_F_KL] : NULL;
}

/* Largest decrease of the evaluation objective between consecutive trace points. */
static double max_drop(const dag_trace *t) {
    double d = 0;
    for (int i = 1; i < t->n; i++) d = fmax(d, t->objective[i - 1] - t->objective[i]);
    return d;
}

void dag_claims(dl_run *run, const dag_cfg *c, const dag_outcome *o) {
    char txt[96];
    const dag_train_result *kl = kl_run(o);
    const char *nokl = "no f = KL run (set objective.f=kl or compare_f=true)";
    const char *kern = strcmp(c->kernels, "learned") == 0 ? " (learned kernels)" : " (heads given the true kernels)";
    char stmt[256];

    /* C1: exact recovery under KL (abstract; docs/papers/dag.md). */
    if (kl) {
        const dag_metrics *m = &kl->final;
        snprintf(txt, sizeof txt, "exact %s, min parent mass %.4f (P %.2f R %.2f)", m->exact ? "yes" : "no",
                 m->min_parent_mass, m->precision, m->recall);
        snprintf(stmt, sizeof stmt, "f = KL: recovered adjacency (per-head argmax) equals the true DAG and the minimum "
                 "attention mass on a true parent exceeds 0.95%s", kern);
        dl_claim_check(run, DL_CLAIM_LEARNED, "C1", stmt,
                     "abstract (with KL the attention scores equal the ground-truth adjacency); docs/papers/dag.md",
                     "exact and min mass > 0.95", m->min_parent_mass, txt,
                     m->exact && m->min_parent_mass > 0.95);
    } else {
        dl_claim_check(run, DL_CLAIM_LEARNED, "C1", "f = KL recovers the DAG exactly", "abstract; docs/papers/dag.md",
                     "exact and min mass > 0.95", NAN, nokl, 0);
    }

    /* C2: heads specialise on different parents (abstract; docs/papers/dag.md). */
    if (kl) {
        const dag_metrics *m = &kl->final;
        snprintf(txt, sizeof txt, "%.0f%% of non-root nodes have K distinct head argmaxes",
                 100 * m->heads_distinct);
        snprintf(stmt, sizeof stmt, "different heads settle on different parents of the same node (K kernel-heads have "
                 "pairwise distinct argmax at every non-root node)%s", kern);
        dl_claim_check(run, DL_CLAIM_LEARNED, "C2", stmt,
                     "abstract (each head with a distinct marginal kernel); docs/papers/dag.md",
                     "fraction = 1", m->heads_distinct, txt, m->heads_distinct >= 1.0);
    } else {
        dl_claim_check(run, DL_CLAIM_LEARNED, "C2", "heads settle on different parents", "abstract; docs/papers/dag.md", "fraction = 1",
                     NAN, nokl, 0);
    }

    /* C3: balanced attention on root rows (arxivlens key results; docs/papers/dag.md). */
    {
        const dag_metrics *m = &o->main.final;
        int have_rows = c->roots >= 3;
        snprintf(txt, sizeof txt, have_rows ? "min normalized entropy %.4f over root rows 2..%d"
                                            : "no root row with >= 2 keys (set data.roots >= 3)",
                 m->root_entropy_min, c->roots - 1);
        dl_claim_check(run, DL_CLAIM_STRUCTURAL, "C3",
                     "root rows keep near-uniform attention (normalized entropy >= 0.9): a root has no parent, so "
                     "its row starts uniform and its gradient is symmetric across keys",
                     "paper summary (root nodes keep balanced attention); docs/papers/dag.md",
                     ">= 0.9", m->root_entropy_min, txt, have_rows && m->root_entropy_min >= 0.9);
    }

    /* C4: monotone ascent to the one-hot-on-parents value (docs/papers/dag.md).
     * "Up to minibatch noise": no drop between trace points larger than 3
     * standard errors of the minibatch objective; "to the value": the final
     * objective closes at least 95% of the gap from init to J(one-hot). */
    {
        const dag_train_result *r = &o->main;
        double drop = max_drop(&r->trace);
        double tol = c->estimate[0] == 'e' ? 1e-9 * fmax(1, fabs(r->J_star)) : 3 * r->batch_se;
        double gain = r->J_star - r->J_init;
        double closed = gain > 0 ? (r->J_final - r->J_init) / gain : 0;
        snprintf(txt, sizeof txt, "max drop %.4f (tol %.4f); J %.4f -> %.4f, J* %.4f (%.1f%% of gap)", drop, tol,
                 r->J_init, r->J_final, r->J_star, 100 * closed);
        dl_claim_check(run, DL_CLAIM_LEARNED, "C4",
                     "the objective increases monotonically (up to minibatch noise) to the value of the "
                     "one-hot-on-parents configuration",
                     "abstract (training converges to the global optimum); docs/papers/dag.md",
                     "max drop <= 3 SE(batch); >= 95% of gap to J* closed", closed, txt,
                     r->trace.n >= 2 && drop <= tol && closed >= 0.95);
    }

    /* C5: polynomial iterations to recovery in T, S, K (abstract). A
     * polynomial x^p keeps one log-log exponent over the sweep; an
     * exponential's local exponent grows in proportion to x. Polynomial =
     * every point recovered within the budget and the exponent over the
     * upper half of each sweep at most 1 above the lower half's (the
     * exponents' noise, from sweep.target_se, is ~0.1). */
    if (o->have_sweep) {
        char buf[96] = "";
        int pass = 1;
        double worst = -INFINITY;
        for (int v = 0; v < 3; v++) {
            const dag_sweep *s = &o->sweep[v];
            char part[40];
            snprintf(part, sizeof part, "%s%s^%.2f->%.2f%s", v ? "; " : "", s->var, s->exp_lo, s->exp_hi,
                     s->all_recovered ? "" : " (unrecovered)");
            strncat(buf, part, sizeof buf - strlen(buf) - 1);
            /* growth exponents: a stretch where iterations fall (exponent < 0)
             * is bounded by a constant and counts as 0 */
            double rise = fmax(s->exp_hi, 0) - fmax(s->exp_lo, 0);
            pass &= s->all_recovered && s->n >= 3 && rise <= 1.0;
            worst = fmax(worst, rise);
        }
        dl_claim_check(run, DL_CLAIM_LEARNED, "C5",
                       "iterations to recovery grow polynomially in T, S and K: every sweep point recovers within the "
                       "budget and the log-log growth exponent (0 where iterations fall) does not rise by more than 1 "
                       "from the lower to the upper half of each sweep",
                       "abstract (global optimum in polynomial time); docs/papers/dag.md",
                       "exponent rise <= 1", worst, buf, pass);
    } else {
        dl_claim_check(run, DL_CLAIM_LEARNED, "C5", "iterations to recovery grow polynomially",
                       "abstract; docs/papers/dag.md", "exponent rise <= 1", NAN, "sweep disabled (sweep=false)", 0);
    }

    /* C6: the ablation without kernel guidance (every head the pooled kernel,
     * zero init): the heads are identical at every step by symmetry, so they
     * collapse onto one parent. That is an identity of the construction, not
     * a finding; the same ablation from random logits (symmetry broken) is
     * reported beside it. */
    if (o->have_ablation) {
        const dag_metrics *m = &o->ablation.final;
        if (o->have_ablation_broken)
            snprintf(txt, sizeof txt, "%.0f%% collapsed, exact %s; random init: %.0f%% collapsed, exact %s",
                     100 * m->heads_collapsed, m->exact ? "yes" : "no", 100 * o->ablation_broken.final.heads_collapsed,
                     o->ablation_broken.final.exact ? "yes" : "no");
        else
            snprintf(txt, sizeof txt, "%.0f%% rows collapsed, exact %s", 100 * m->heads_collapsed, m->exact ? "yes" : "no");
        dl_claim_check(run, DL_CLAIM_STRUCTURAL, "C6",
                       "without kernel guidance and from the symmetric zero init, heads stay identical (one shared "
                       "kernel, equal gradients) and collapse onto the same parent, so recovery fails",
                       "abstract (the difficulty the kernels solve); docs/papers/dag.md",
                       "collapsed rows >= 90% and not exact", m->heads_collapsed, txt,
                       m->heads_collapsed >= 0.9 && !m->exact);
    } else {
        dl_claim_check(run, DL_CLAIM_STRUCTURAL, "C6", "no kernel guidance collapses", "docs/papers/dag.md",
                       "collapsed >= 90%", NAN, "ablation disabled (ablation=false)", 0);
    }
}
