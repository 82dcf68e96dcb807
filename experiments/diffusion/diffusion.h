/* Discrete diffusion on [S]^d with uniform and absorbing (masking) rate
 * matrices: forward CTMC in closed form, exact scores on enumerable targets,
 * fixed-grid samplers whose output law is propagated exactly, uniformization
 * by Monte Carlo, and a learned transformer denoiser on text.
 *
 * Papers: arXiv 2509.16756 (uniform rates: tau-leaping, Euler, Tweedie
 * tau-leaping) and arXiv 2506.02318 (absorbing rates: tau-leaping,
 * uniformization, no early stopping). docs/papers/diffusion.md. */
#ifndef DYNLAB_EXP_DIFFUSION_H
#define DYNLAB_EXP_DIFFUSION_H

#include <stdint.h>
#include "dynlab/config.h"
#include "dynlab/rng.h"
#include "dynlab/run.h"

/* ---- forward process (ctmc.c) ------------------------------------------- */

typedef enum { DD_UNIFORM = 0, DD_ABSORBING = 1 } dd_rate;

/* Per-token process. Uniform: K = S symbols, Q = (1/S) 1 1^T - I
 * (2509.16756 setting, §1.3 of our doc). Absorbing: K = S + 1 symbols, MASK =
 * K - 1, Q(a, MASK) = 1, Q(a, a) = -1 for a != MASK, row MASK zero
 * (2506.02318 §2). */
typedef struct dd_proc {
    dd_rate rate;
    int S;    /* data symbols */
    int K;    /* symbols per token (S, or S + 1 with MASK) */
    int mask; /* K - 1 for absorbing, -1 for uniform */
} dd_proc;

void dd_proc_init(dd_proc *p, dd_rate rate, int S);
/* Token rate matrix Q[a*K + b] (rate a -> b; rows sum to 0). */
void dd_qtok(const dd_proc *p, double *Q);
/* Closed-form transition matrix P_t = exp(t Q), P[a*K + b] (Prop. 1 of
 * 2506.02318 for absorbing; e^{-t} I + (1 - e^{-t})/S 1 1^T for uniform). */
void dd_ptrans(const dd_proc *p, double t, double *P);

/* Laws on [K]^d as tables of K^d doubles, x = sum_i x^i K^{d-1-i}. */
int64_t dd_ipow(int K, int d);
/* out[y] = sum_x in[x] prod_i P[x^i, y^i] (transpose = 0) or
 * out[x] = sum_y P[x^i, y^i] in[y] (transpose = 1). tmp: K^d doubles. */
void dd_apply_tok(const double *in, double *out, const double *P, int K, int d, int transpose,
                  double *tmp);
/* q_t = q_0 P_t^{(x)d}. tmp: K^d doubles. */
void dd_marginal(const dd_proc *p, const double *q0, int d, double t, double *qt, double *tmp);
/* KL(q || p) = sum_{q>0} q log(q/p); +inf when p = 0 somewhere q > 0. */
double dd_kl(const double *q, const double *p, int64_t n);
double dd_tv(const double *q, const double *p, int64_t n);
/* Initial law of the reverse process: uniform on [S]^d, or the absorbing
 * surrogate prod_i [(1 - e^{-T}) delta_MASK + e^{-T}/(K-1) sum_{a != MASK} delta_a]
 * (2506.02318 Eq. 3 with eps_T = e^{-T}). */
void dd_init_law(const dd_proc *p, int d, double T, double *law);
/* The papers' initialization bounds: uniform d e^{-T} log S (2509.16756 as
 * restated by later work); absorbing d max{e^{-T} log(K-1), -log(1-e^{-T})}
 * (2506.02318 Thm 1). */
double dd_init_bound(const dd_proc *p, int d, double T);
/* Early-stopping TV bound by coupling: d (1 - e^{-delta}) (S-1)/S uniform,
 * d (1 - e^{-delta}) absorbing (2506.02318 Lemma 4). */
double dd_stop_bound(const dd_proc *p, int d, double delta);

/* ---- step schedules (ctmc.c) -------------------------------------------- */

typedef enum { DD_SCHED_CONSTANT = 0, DD_SCHED_GEOMETRIC = 1, DD_SCHED_LOGLINEAR = 2 } dd_sched;
/* Forward times s_0 = T > s_1 > ... > s_N = delta (N + 1 values).
 * constant: equal steps; geometric: equal steps in u(s) = s for s >= 1 and
 * 1 + log s below 1 (steps c min(1, s), 2506.02318 Thm 2); loglinear: equal
 * steps in 1 - e^{-s}. Returns -1 (geometric with delta = 0) else 0. */
int dd_grid(dd_sched k, double T, double delta, int N, double *s);
int dd_sched_parse(const char *name);
const char *dd_sched_name(int k);

/* ---- targets (targets.c) ------------------------------------------------- */

typedef enum { DD_TGT_PRODUCT = 0, DD_TGT_MARKOV = 1, DD_TGT_TABLE = 2, DD_TGT_MASKED = 3 } dd_target;
/* A law on [S]^d (product of Dirichlet(1) marginals; Markov chain with
 * Dirichlet(1) initial law and Dirichlet(alpha) rows; a Dirichlet(alpha)
 * table) written into a [K]^d table (zero where a token is MASK). MASKED: a
 * full-support Dirichlet(1) table over [K]^d, MASK included (needs K = S+1;
 * it meets Assumption 4 of 2506.02318). */
void dd_target_make(dd_target kind, int S, int K, int d, double alpha, dl_rng *r, double *law);
const char *dd_target_name(int k);
/* gamma of Assumption 4: min over i, x^{-i}, a != MASK of
 * q0(x^{-i}, MASK) / q0(x^{-i}, a) (0 when the data has no MASK). */
double dd_gamma(const double *q0, int K, int d);

/* ---- samplers (samplers.c) ----------------------------------------------- */

typedef enum { DD_TAU = 0, DD_EULER = 1, DD_TWEEDIE = 2 } dd_sampler;
#define DD_N_SAMPLERS 3
const char *dd_sampler_name(int s);
typedef enum { DD_JUMP_KEEP = 0, DD_JUMP_FIRST = 1 } dd_multi_jump;

/* One coordinate's next-token law for one reverse step from forward time s
 * to s - dt, given the score ratios r[b] = s(x^{i->b}, x) (r[x^i] = 1) at s:
 * writes k[K] (a probability vector). Q is the token rate matrix. §1.4 of
 * our doc: tau-leaping (keep or first-jump rule for several jumps), Euler
 * (clamped), Tweedie tau-leaping (SEDD's analytic step). */
void dd_token_kernel(const dd_proc *p, dd_sampler smp, int multi_jump, const double *Q, int a,
                     const double *r, double s, double dt, double *k);

/* Exact output law of a fixed-grid sampler with exact scores: start from
 * `init`, run the N steps of `grid`, write the law of the result to `out`.
 * Returns 0, or -1 on allocation failure. */
int dd_run_exact(const dd_proc *p, const double *q0, int d, dd_sampler smp, int multi_jump,
                 const double *grid, int N, const double *init, double *out);
/* Score ratios at state x from a table q_t: r[i*K + b] = q_t(x^{i->b})/q_t(x)
 * (0 when q_t(x) = 0; r[i*K + x^i] = 1). xs: the d tokens of x. */
void dd_table_scores(const double *qt, int K, int d, int64_t x, const int *xs, double *r);

/* ---- uniformization (uniformization.c) ---------------------------------- */

/* Exact law of the reverse CTMC with exact scores started from `init` at T,
 * read at forward time delta: r(y) = q_delta(y) sum_x init(x) P_{T-delta}(y,x)/q_T(x). */
void dd_reverse_law(const dd_proc *p, const double *q0, int d, double T, double delta,
                    const double *init, double *out);
/* Intensity bound lambda(s) on the total reverse exit rate at forward time s:
 * absorbing d/(e^s - 1) (2506.02318 Lemma 5), uniform d(1/(1-e^{-s}) - 1/S). */
double dd_unif_intensity(const dd_proc *p, int d, double s);
/* Integral of the intensity over [delta, T] (the expected number of events). */
double dd_unif_mass(const dd_proc *p, int d, double delta, double T);
typedef struct dd_unif_result {
    double *counts;     /* K^d histogram of outputs */
    double mean_events, mean_jumps, mass;
    int64_t violations; /* events whose exact exit rate exceeded the bound */
} dd_unif_result;
/* M samples of uniformization (time-inhomogeneous Poisson events of rate
 * lambda(s), thinned by exit rate / lambda). counts must hold K^d doubles. */
int dd_uniformization(const dd_proc *p, const double *q0, int d, double T, double delta,
                      int64_t M, dl_rng *r, dd_unif_result *res);
/* Chi-square goodness of fit of counts (M samples) against law: statistic and
 * degrees of freedom (cells with law > 0, minus 1). */
double dd_chi2(const double *counts, const double *law, int64_t n, double M, int *df);
/* Upper quantile of chi-square(df) at standard-normal z (Wilson-Hilferty). */
double dd_chi2_quantile(int df, double z);

#endif
