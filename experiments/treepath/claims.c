/* Claims of arXiv 2508.08222 (docs/papers/treepath.md), each a check on this
 * run's metrics. C1-C4 are learned (each fails under `--control untrained`);
 * C5 is structural: the symmetry is exact by the group invariance of the
 * batch, whatever the learning rate. */
#include "treepath/claims.h"

#include <math.h>
#include <stdio.h>

void tp_phase_times(const tp_history *h, double *phase) {
    static const int cols[4] = {TP_L_STAGE, TP_L_NODE_F, TP_L_NODE_B, TP_L_NODE_ROOT};
    for (int k = 0; k < 4; k++) {
        phase[k] = NAN;
        if (h->n == 0) continue;
        double v0 = h->col[cols[k]][0];
        if (!(v0 > 0)) continue;
        for (int i = 1; i < h->n; i++)
            if (h->col[cols[k]][i] <= 0.5 * v0) {
                phase[k] = h->step[i];
                break;
            }
    }
}

static double last(const tp_history *h, int col) { return h->n ? h->col[col][h->n - 1] : NAN; }
static double first(const tp_history *h, int col) { return h->n ? h->col[col][0] : NAN; }

void tp_claims(dl_run *run, const tp_results *r) {
    char txt[512];

    /* C1: backward. */
    {
        double l0 = first(&r->hb, TP_L_LOSS), l1 = last(&r->hb, TP_L_LOSS);
        double d = last(&r->hb, TP_L_DIAG0);
        double off = r->bw_offdiag_absmax;
        double acc = r->evb.path_acc;
        /* "grows": the mean diagonal never decreases between logged steps */
        int mono = r->hb.n > 1;
        for (int i = 1; i < r->hb.n; i++)
            if (r->hb.col[TP_L_DIAG0][i] < r->hb.col[TP_L_DIAG0][i - 1]) mono = 0;
        int pass = mono && l1 <= TP_NEAR_ZERO_FRAC * l0 && d > 0 && r->bw_diag_min > 0 &&
                   off <= TP_OFFDIAG_FRAC * d && acc >= TP_ACC_MIN;
        snprintf(txt, sizeof txt, "loss %.2g->%.2g, diag %.3g%s, max|off| %.3g, acc %.4f", l0, l1,
                 d, mono ? " (monotone)" : " (NOT monotone)", off, acc);
        dl_claim_check(run, DL_CLAIM_LEARNED, "C1",
                     "Backward (1 head): train loss -> ~0, diagonal of H=A^T B A grows while the "
                     "off-diagonal stays small, exact goal->root path on unseen random trees",
                     "abstract: a one-layer transformer provably learns backward reasoning and "
                     "generalises to unseen trees (Thm 3-4); docs/papers/treepath.md",
                     "loss<=1% of init, diag up, min diag>0, max|off|<=0.1*diag, acc>=0.99",
                     l0 > 0 ? l1 / l0 : NAN, txt, pass); /* measured: final/initial loss */
    }
    /* C2: forward. */
    {
        double l0 = first(&r->hf, TP_L_LOSS), l1 = last(&r->hf, TP_L_LOSS);
        double lo = INFINITY, hi = -INFINITY;
        int all = 1;
        for (int k = 0; k < 4; k++) {
            if (isnan(r->phase_step[k])) { all = 0; continue; }
            if (r->phase_step[k] < lo) lo = r->phase_step[k];
            if (r->phase_step[k] > hi) hi = r->phase_step[k];
        }
        double ratio = all && lo > 0 ? hi / lo : (all ? INFINITY : NAN);
        double acc = r->evf.answer_acc;
        int pass = l1 <= TP_NEAR_ZERO_FRAC * l0 && all && ratio >= TP_PHASE_RATIO &&
                   acc >= TP_ACC_MIN;
        /* where the 1% bound is first met, to show its margin within the budget */
        double hit = NAN;
        for (int i = 0; i < r->hf.n; i++)
            if (r->hf.col[TP_L_LOSS][i] <= TP_NEAR_ZERO_FRAC * l0) { hit = r->hf.step[i]; break; }
        double last_step = r->hf.n ? r->hf.step[r->hf.n - 1] : NAN;
        snprintf(txt, sizeof txt, "loss %.2g->%.2g (1%% at step %g of %g), half-steps %g/%g/%g/%g, acc %.4f", l0,
                 l1, hit, last_step, r->phase_step[0], r->phase_step[1], r->phase_step[2], r->phase_step[3], acc);
        dl_claim_check(run, DL_CLAIM_LEARNED, "C2",
                     "Forward (2 heads): train loss -> ~0 in distinct phases (stage signal, "
                     "forward traversal, backward traversal, root switch halve at separate "
                     "times), exact root->goal path on unseen random trees",
                     "abstract: forward reasoning with multi-phase training dynamics, generalising to "
                     "unseen trees (Thm 5-6); docs/papers/treepath.md",
                     "loss<=1% of init, latest/earliest half-step>=4, acc>=0.99", l0 > 0 ? l1 / l0 : NAN,
                     txt, pass); /* measured: final/initial loss, the tightest of the three */
    }
    /* C3: specialisation. Traversal-head mass on the answer token, pooled over all
     * teacher-forced test queries; stage switch under greedy decoding. */
    {
        double num = 0, den = 0;
        for (int ph = 0; ph < 3; ph++) {
            num += r->evf.attn_path[ph] * r->evf.phase_n[ph];
            den += r->evf.phase_n[ph];
        }
        double mass = den > 0 ? num / den : 0;
        /* head 2 at the root query: mass on the ROOT token, whose signal is s_f */
        double h2root = r->evf.attn_type[1][1][TP_T_ROOT];
        double sw = r->evf.switch_acc;
        int pass = mass >= TP_ATTN_MIN && h2root >= TP_ATTN_MIN && sw >= TP_ACC_MIN;
        snprintf(txt, sizeof txt, "h1 path %.3f (b %.3f, root %.3f, f %.3f); h2 root->R %.3f; switch %.4f",
                 mass, r->evf.attn_path[0], r->evf.attn_path[1], r->evf.attn_path[2], h2root, sw);
        dl_claim_check(run, DL_CLAIM_LEARNED, "C3",
                     r->shared_values
                         ? "Heads specialise with one shared value map (forward.head_values=shared): "
                           "head 1 attends to the path edge it traverses, head 2 to the root token at "
                           "the root, and the stage switches exactly there"
                         : "Heads specialise, their roles given by our fixed value maps "
                           "(forward.head_values=roles: head 1 reads nodes, head 2 the stage signal): "
                           "head 1 attends to the path edge it traverses, head 2 to the root token at "
                           "the root, and the stage switches exactly there",
                     "abstract: the two heads specialise autonomously, one traversing, one switching "
                     "stage at the root; >90% attention as in docs/papers/treepath.md",
                     "h1 path mass>=0.9, h2 root mass>=0.9, switch acc>=0.99", fmin(mass, h2root), txt,
                     pass); /* measured: the smaller attention mass */
    }
    /* C4: no chain of thought. */
    {
        double acc = r->evn.path_acc;
        int pass = acc <= TP_NOCOT_MAX && r->evf.answer_acc >= TP_ACC_MIN;
        /* depth-1 goals are unanswerable for this model (the goal is the answer and no
         * token's y slot holds it), so also show the accuracy without them */
        double ok = 0, n = 0;
        for (int d = 2; d < TP_DEPTH_BINS; d++) {
            ok += r->evn.by_depth_acc[d] * r->evn.by_depth_n[d];
            n += r->evn.by_depth_n[d];
        }
        snprintf(txt, sizeof txt, "no-CoT %.4f (depth>=2: %.4f) vs CoT %.4f, same %d trees", acc,
                 n > 0 ? ok / n : NAN, r->evf.answer_acc, r->evn.n);
        dl_claim_check(run, DL_CLAIM_LEARNED, "C4",
                     "Without chain of thought (answer the first root->goal step directly) the "
                     "same one-layer model fails on the same unseen trees",
                     "abstract: with intermediate chain-of-thought steps shallow multi-head "
                     "transformers solve what would otherwise need depth; docs/papers/treepath.md",
                     "no-CoT acc<=0.5 while CoT acc>=0.99", acc, txt, pass);
    }
    /* C5: exact symmetry under zero init and permutation-symmetric data. */
    {
        double worst = 0;
        for (int i = 1; i < r->hs.n; i++)
            if (r->hs.col[TP_L_ASYM][i] > worst || isnan(r->hs.col[TP_L_ASYM][i]))
                worst = r->hs.col[TP_L_ASYM][i];
        double grew = last(&r->hs, TP_L_DIAG0);
        double s0 = first(&r->hs, TP_L_LOSS), s1 = last(&r->hs, TP_L_LOSS);
        /* "through training": the symmetric run itself learns (loss down 10x) */
        int pass = r->sym_ran && r->hs.n > 1 && worst <= TP_SYM_TOL && grew > 0 && s1 <= 0.1 * s0;
        snprintf(txt, sizeof txt, "max defect %.2g over %d steps (loss %.2g->%.2g); random %.2g",
                 worst, r->hs.n ? (int)r->hs.step[r->hs.n - 1] : 0, s0, s1,
                 last(&r->hb, TP_L_ASYM));
        dl_claim_check(run, DL_CLAIM_STRUCTURAL, "C5",
                     "Zero init + permutation-symmetric data (AGL(1,S) orbit batches): all "
                     "diagonal entries of B stay equal and all off-diagonal entries stay equal",
                     "abstract: training from zero initialisation; the exact invariance of the "
                     "orbit batch, docs/papers/treepath.md",
                     "max_t max|B_ij - class mean|/max|B| <= 1e-5, loss down 10x", worst, txt, pass);
    }
}
