/* PSGD learning variant of greedy (spec C §3.7 [R]; the abstract [V] fixes only
 * "projected SGD", "learning variant of greedy", "unknown transition
 * probabilities" and "cheaper than OPT").
 *
 * Parameter: a row-stochastic estimate Phat, initialised uniform. Each query
 * yields a triple (i, k, j): last queried state i, gap k, observed state j.
 * Loss: the Brier score of the k-step predictive row,
 *   f(Phat; i, k, j) = ||e_i^T Phat^k - e_j^T||^2,
 * gradient 2 sum_{m<k} u_m^T w_m with u_m = e_i^T Phat^m and
 * w_m = Phat^{k-1-m} r^T, r = e_i^T Phat^k - e_j^T (cost O(k n^2)).
 * Update: Phat <- Proj(Phat - eta0/sqrt(t) grad), Proj = row-wise Euclidean
 * projection onto the simplex (Duchi et al. 2008). Decisions: greedy with
 * Phat (or the running average of the iterates) in place of P, plus a safety
 * query after k_cap slots so learning never stalls. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/optim.h"
#include "dynlab/run.h" /* dl_now */
#include "monitor/monitor.h"

/* y = x P (row vector times matrix). */
static void row_times(const double *x, const double *P, int n, double *y) {
    for (int b = 0; b < n; b++) y[b] = 0.0;
    for (int a = 0; a < n; a++) {
        double xa = x[a];
        if (xa == 0.0) continue;
        const double *row = P + (size_t)a * (size_t)n;
        for (int b = 0; b < n; b++) y[b] += xa * row[b];
    }
}

double mon_brier_grad(int n, const double *Phat, int i, int k, int j, double *grad, double *work) {
    double *u = work;                        /* u_0 .. u_k: (k+1) n */
    double *w = work + (size_t)(k + 1) * n;  /* w_m */
    double *w2 = w + n;
    memset(u, 0, (size_t)n * sizeof(double));
    u[i] = 1.0;
    for (int m = 1; m <= k; m++) row_times(u + (size_t)(m - 1) * n, Phat, n, u + (size_t)m * n);
    double f = 0.0;
    for (int b = 0; b < n; b++) {
        w[b] = u[(size_t)k * n + b] - (b == j ? 1.0 : 0.0);
        f += w[b] * w[b];
    }
    memset(grad, 0, (size_t)n * (size_t)n * sizeof(double));
    for (int m = k - 1; m >= 0; m--) {
        const double *um = u + (size_t)m * n;
        for (int a = 0; a < n; a++) {
            if (um[a] == 0.0) continue;
            double s = 2.0 * um[a];
            for (int b = 0; b < n; b++) grad[(size_t)a * n + b] += s * w[b];
        }
        if (m > 0) { /* w_{m-1} = Phat w_m */
            for (int a = 0; a < n; a++) {
                double acc = 0.0;
                for (int b = 0; b < n; b++) acc += Phat[(size_t)a * n + b] * w[b];
                w2[a] = acc;
            }
            memcpy(w, w2, (size_t)n * sizeof(double));
        }
    }
    return f;
}

void mon_project_rows(double *P, int n) {
    for (int i = 0; i < n; i++) dl_project_simplex(P + (size_t)i * (size_t)n, n);
}

void mon_psgd_free(mon_psgd_result *r) {
    free(r->t);
    free(r->cost_cum);
    free(r->cost_win);
    memset(r, 0, sizeof *r);
}

/* Greedy thresholds of an estimate, capped at k_cap (what the learner would
 * do from now on if it stopped learning). */
static void estimate_thresholds(const mon_chain *ch, const double *Phat, double c, int k_cap,
                                int *tau, double *b, double *b2) {
    int n = ch->n;
    for (int i = 0; i < n; i++) {
        memset(b, 0, (size_t)n * sizeof(double));
        b[i] = 1.0;
        tau[i] = k_cap;
        for (int k = 1; k < k_cap; k++) {
            row_times(b, Phat, n, b2);
            memcpy(b, b2, (size_t)n * sizeof(double));
            double pred;
            if (mon_expected_loss(ch, b, &pred) >= c) {
                tau[i] = k;
                break;
            }
        }
    }
}

void mon_psgd_prior_thresholds(const mon_chain *ch, double c, int k_cap, int *tau) {
    int n = ch->n;
    double *P = malloc((size_t)n * (size_t)n * sizeof(double)), *b = malloc(2 * (size_t)n * sizeof(double));
    if (!P || !b) {
        for (int i = 0; i < n; i++) tau[i] = 1;
    } else {
        for (size_t s = 0; s < (size_t)n * (size_t)n; s++) P[s] = 1.0 / n;
        estimate_thresholds(ch, P, c, k_cap, tau, b, b + n);
    }
    free(P);
    free(b);
}

int mon_psgd_run(const mon_chain *ch, const mon_model *m, const mon_psgd_params *p, dl_rng *r,
                 mon_psgd_result *out) {
    memset(out, 0, sizeof *out);
    int n = ch->n, kc = p->k_cap;
    size_t nn = (size_t)n * (size_t)n;
    int64_t T = p->slots;
    double *Phat = malloc(nn * sizeof(double)), *Pavg = malloc(nn * sizeof(double));
    double *grad = malloc(nn * sizeof(double));
    double *work = malloc((size_t)(kc + 4) * (size_t)n * sizeof(double));
    double *b = malloc((size_t)n * sizeof(double)), *b2 = malloc((size_t)n * sizeof(double));
    double *cost = malloc((size_t)T * sizeof(double));
    int *tau = malloc((size_t)n * sizeof(int));
    int np = p->log_points < 2 ? 2 : p->log_points;
    out->t = malloc((size_t)np * sizeof(double));
    out->cost_cum = malloc((size_t)np * sizeof(double));
    out->cost_win = malloc((size_t)np * sizeof(double));
    int rc = -1;
    if (!Phat || !Pavg || !grad || !work || !b || !b2 || !cost || !tau || !out->t ||
        !out->cost_cum || !out->cost_win)
        goto done;
    for (size_t s = 0; s < nn; s++) Phat[s] = Pavg[s] = 1.0 / n;

    double t0 = dl_now();
    int x = p->seq ? p->seq[0] : mon_sample_dist(ch->pi, n, r);
    int i = x, k = 1;
    int64_t queries = 1;
    cost[0] = p->c;
    memset(b, 0, (size_t)n * sizeof(double));
    b[i] = 1.0;
    const double *Pdec = p->average ? Pavg : Phat;
    double cum = cost[0], win = cost[0];
    /* trace points log-spaced from T/1000 to T, so early learning shows */
    double t_first = (double)T / 1000.0 > 10.0 ? (double)T / 1000.0 : 10.0;
    int64_t next_log = (int64_t)t_first, win_start = 0;
    int pt = 0;
    for (int64_t t = 1; t < T; t++) {
        x = p->seq ? p->seq[t] : mon_chain_step(ch, x, r);
        row_times(b, Pdec, n, b2); /* belief e_i Pdec^k, one O(n^2) step per slot */
        memcpy(b, b2, (size_t)n * sizeof(double));
        double pred, lhat = mon_expected_loss(ch, b, &pred);
        if (lhat >= p->c || k >= kc) {
            cost[t] = p->c;
            /* one projected stochastic gradient step on the Brier loss */
            mon_brier_grad(n, Phat, i, k, x, grad, work);
            double eta = p->eta0 / sqrt((double)queries);
            for (size_t s = 0; s < nn; s++) Phat[s] -= eta * grad[s];
            mon_project_rows(Phat, n);
            queries++;
            for (size_t s = 0; s < nn; s++) Pavg[s] += (Phat[s] - Pavg[s]) / (double)queries;
            i = x;
            k = 1;
            memset(b, 0, (size_t)n * sizeof(double));
            b[i] = 1.0;
        } else {
            cost[t] = mon_realised_loss(ch, pred, x);
            k++;
        }
        cum += cost[t];
        win += cost[t];
        if (t + 1 >= next_log && pt < np) {
            out->t[pt] = (double)(t + 1);
            out->cost_cum[pt] = cum / (double)(t + 1);
            out->cost_win[pt] = win / (double)(t + 1 - win_start);
            pt++;
            win = 0.0;
            win_start = t + 1;
            next_log = (int64_t)(t_first * pow((double)T / t_first, (double)pt / (np - 1)));
            if (next_log <= t + 1) next_log = t + 2;
        }
    }
    out->seconds = dl_now() - t0;
    out->per_slot_seconds = out->seconds / (double)T;
    out->n_points = pt;
    out->queries = queries;
    out->query_rate = (double)queries / (double)T;
    out->total_cost = cum / (double)T;
    int64_t w0 = (int64_t)((1.0 - p->window_frac) * (double)T);
    if (w0 < 0) w0 = 0;
    if (w0 > T - 2) w0 = T - 2;
    mon_batch_means(cost + w0, T - w0, 20, &out->window_cost, &out->window_se);
    out->p_err = 0.0;
    for (size_t s = 0; s < nn; s++) {
        double e = fabs(Pdec[s] - ch->P[s]);
        if (e > out->p_err) out->p_err = e;
    }
    estimate_thresholds(ch, Pdec, p->c, kc, tau, b, b2);
    int ok = 1;
    for (int s = 0; s < n; s++)
        if (tau[s] > m->K) ok = 0;
    out->exact_final = ok ? mon_eval_thresholds(m, p->c, tau, NULL) : NAN;
    rc = 0;
done:
    free(Phat);
    free(Pavg);
    free(grad);
    free(work);
    free(b);
    free(b2);
    free(cost);
    free(tau);
    return rc;
}
