/* The five claims, each computed from this run's measurements. Every
 * threshold is stated in the claim and in docs/papers/icl.md, fixed from the
 * abstract's sentence (the paper's text past the abstract is not available)
 * before the seeds were looked at. All five are learned: each fails under
 * `--control untrained`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "icl/icl.h"

#define ICL_REL_THRESHOLD 0.95  /* claim 1: "highly relevant" attention at convergence */
#define ICL_UNSEEN_TOL 0.05     /* claim 5: normalised query MSE on unseen functions */
#define ICL_EARLY_FRAC 0.10     /* claim 2: "the early phase" = the first 10% of training */
#define ICL_OSC_TURNS 2         /* claim 3: two reversals = one full swing (one turn is a single bump) */

void icl_oscillation(const icl_trace *t, int K, icl_osc *o) {
    o->total = 0; o->pairs = 0; o->best = 0; o->best_j = 1; o->best_k = 0;
    double *x = malloc(sizeof(double) * (size_t)(t->ns > 0 ? t->ns : 1));
    if (!x) return;
    for (int j = 0; j < K; j++)
        for (int k = 0; k < K; k++) {
            if (j == k) continue;
            double lo = INFINITY, hi = -INFINITY;
            for (int i = 0; i < t->ns; i++) {
                x[i] = t->Wk[((size_t)i * K + j) * K + k];
                lo = fmin(lo, x[i]);
                hi = fmax(hi, x[i]);
            }
            int s = icl_turns(x, t->ns, ICL_OSC_REL * (hi - lo));
            o->total += s;
            o->pairs += s > 0;
            if (s > o->best) { o->best = s; o->best_j = j; o->best_k = k; }
        }
    free(x);
}

void icl_stagewise(const icl_trace *t, int steps, icl_stages *s) {
    s->rise = s->frac_half = s->late_gain = NAN;
    if (t->n < 2 || steps < 1) return;
    const double m0 = t->rel_mass[0], mT = t->rel_mass[t->n - 1];
    s->rise = mT - m0;
    for (int i = 0; i < t->n; i++)
        if (s->rise > 0 && t->rel_mass[i] - m0 >= 0.5 * s->rise) { s->frac_half = t->step[i] / steps; break; }
    /* relevant mass at the evaluation point nearest to half the run */
    int h = 0;
    for (int i = 0; i < t->n; i++)
        if (fabs(t->step[i] - 0.5 * steps) < fabs(t->step[h] - 0.5 * steps)) h = i;
    s->late_gain = mT - t->rel_mass[h];
}

void icl_claims(dl_run *run, const icl_cfg *c, const icl_outcome *o) {
    const icl_result *m = &o->main;
    char txt[256];

    /* C1: relevant attention > 0.95 at convergence, seen and unseen functions. */
    snprintf(txt, sizeof txt, "seen %.4f, unseen (%s) %.4f at step %d", m->seen.rel_mass, c->unseen_family,
             m->unseen.rel_mass, m->steps_done);
    dl_claim_check(run, DL_CLAIM_LEARNED, "C1",
                   "at convergence the query's attention mass on prompt tokens with its own (relevant) feature "
                   "exceeds 0.95, for new functions of the training family and of an unseen family",
                   "abstract: query tokens consistently attend to prompt tokens with highly relevant features at "
                   "convergence, for unseen functions; docs/papers/icl.md",
                   "> 0.95 (both)", fmin(m->seen.rel_mass, m->unseen.rel_mass), txt,
                   m->seen.rel_mass > ICL_REL_THRESHOLD && m->unseen.rel_mass > ICL_REL_THRESHOLD);

    /* C2: stage-wise dynamics over the whole trajectory (not the first
     * gradient): the relevant mass covers half of its rise in the first
     * ICL_EARLY_FRAC of the run and still gains over the second half. The
     * abstract's "irrelevant attention decays more slowly" is not a separate
     * check: the softmax is unchanged by a shift of a query's logits, the
     * gradient of each column of W sums to ~0 over the features, so the mean
     * irrelevant logit is -A/(K-1) at every step (docs/papers/icl.md). */
    {
        icl_stages st;
        icl_stagewise(&m->tr, m->steps_done, &st);
        snprintf(txt, sizeof txt, "half of the rise %.3f by %.1f%% of %d steps, %+.4f over the second half",
                 st.rise, 100 * st.frac_half, m->steps_done, st.late_gain);
        int pass = st.rise > 0 && st.frac_half <= ICL_EARLY_FRAC && st.late_gain > 0;
        dl_claim_check(run, DL_CLAIM_LEARNED, "C2",
                       "stage-wise attention: the relevant attention mass covers half of its total rise within "
                       "the first 10% of training (rapid early phase) and still rises over the second half "
                       "(gradual convergence to one)",
                       "abstract: attention scores between a query token and its target features grow rapidly in "
                       "the early phase, then gradually converge to one; docs/papers/icl.md",
                       "half rise by <= 10% of steps, late gain > 0", st.frac_half, txt, pass);
    }

    /* C3: oscillation: one irrelevant logit reverses direction at least twice. */
    {
        icl_osc os;
        icl_oscillation(&m->tr, c->K, &os);
        snprintf(txt, sizeof txt, "most turns %d (W[%d][%d]); %d turns over %d of %d irrelevant logits", os.best,
                 os.best_j + 1, os.best_k + 1, os.total, os.pairs, c->K * (c->K - 1));
        dl_claim_check(run, DL_CLAIM_LEARNED, "C3",
                       "the irrelevant attention oscillates: some irrelevant logit B_{k,j} = W[j][k] reverses "
                       "direction at least twice (a full swing), each reversal retracing at least 1% of that "
                       "logit's range over the run",
                       "abstract: attention to irrelevant features decays more slowly and exhibits oscillatory "
                       "behavior; docs/papers/icl.md",
                       ">= 2 turns in one logit", os.best, txt, os.best >= ICL_OSC_TURNS);
    }

    /* C4: regime change of steps to convergence with L, with the knee where
     * the construction predicts it (docs/papers/icl.md, "The threshold"). */
    if (o->have_sweep) {
        const icl_sweep *s = &o->sweep;
        int conv = 0;
        for (int i = 0; i < s->n; i++) conv += s->hit[i] >= 0;
        double Lb = exp(s->fit.x_break), gain = s->fit.sse2 > 0 ? s->fit.sse1 / s->fit.sse2 : INFINITY;
        double ratio = Lb / s->L_pred;
        snprintf(txt, sizeof txt,
                 "break %.2f = %.2f L* (L*=%.2f); slopes %.2f/%.2f; SSE %.3f vs %.3f; %d/%d conv",
                 Lb, ratio, s->L_pred, s->fit.slope_lo, s->fit.slope_hi, s->fit.sse2, s->fit.sse1, conv, s->n);
        int pass = conv == s->n && s->n >= 5 && fabs(s->fit.slope_hi - s->fit.slope_lo) >= 1 && gain >= 4 &&
                   ratio >= 0.5 && ratio <= 2 && s->fit.slope_lo >= -3 && s->fit.slope_lo <= -1;
        dl_claim_check(run, DL_CLAIM_LEARNED, "C4",
                       "steps to convergence change regime at the predicted threshold L* = amp sqrt(d): the "
                       "two-segment fit of log steps vs log L breaks within [L*/2, 2 L*], its slopes differ by "
                       ">= 1, the slope below is -2 +- 1 (predicted -2), 4x less squared error than one line",
                       "abstract: two distinct regimes depending on whether L is below or above a threshold, with "
                       "different time bounds; L* of our construction in docs/papers/icl.md",
                       "break/L* in [0.5, 2], slope below in [-3, -1], slope change >= 1, SSE ratio >= 4", ratio,
                       txt, pass);
    } else {
        dl_claim_check(run, DL_CLAIM_LEARNED, "C4", "steps to convergence change regime at the predicted threshold L*",
                       "abstract: two regimes of L below or above a threshold; docs/papers/icl.md",
                       "break/L* in [0.5, 2]", NAN, "sweep disabled (sweep.enabled=false)", 0);
    }

    /* C5: prediction error on unseen functions. */
    snprintf(txt, sizeof txt, "normalised MSE %.4f (RMSE %.4f vs %.4f for uniform attention)", m->unseen.nloss,
             m->unseen.rmse, m->unseen.rmse_uniform);
    dl_claim_check(run, DL_CLAIM_LEARNED, "C5",
                   "the query prediction error on functions of the unseen family falls below the tolerance: MSE "
                   "at most 0.05 of the MSE of uniform attention (the untrained model)",
                   "abstract: near-zero prediction error, ICL capability for unseen functions; docs/papers/icl.md",
                   "normalised MSE <= 0.05", m->unseen.nloss, txt, m->unseen.nloss <= ICL_UNSEEN_TOL);
}
