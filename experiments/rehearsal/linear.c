/* One Monte-Carlo draw of the linear continual-learning problem and the four
 * strategies on it (docs/papers/rehearsal.md, "Linear setting"):
 *   none  w_t = Train(w_{t-1}; D_t)
 *   CR    w_t = Train(w_{t-1}; D_t + B_1..B_{t-1})               (one joint interpolation)
 *   SR    u = Train(w_{t-1}; D_t), then u = Train(u; B_i), i = 1..t-1
 *   HR    u = Train(w_{t-1}; D_t + B_i for similar i), then Train(u; B_i) for the others
 * B_i = the first M samples of D_i, stored once and reused at every revisit
 * (or, with buffer = fresh, M fresh samples of task i at every revisit: the
 * case of the section-2.1 closed form). Forgetting and generalization error
 * are exact per draw because the loss of isotropic Gaussian inputs is
 * L_i(w) = ||w - w*_i||^2 + s^2. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/rng.h"
#include "rehearsal/rehearsal.h"

const char *const rh_strat_name[RH_NSTRAT] = {"none", "CR", "SR", "HR", "SR new-to-old"};

struct rh_lin_work {
    int p, n, M, T, Kmax;
    double *X, *y;       /* [T][n][p], [T][n] */
    double *A, *yA;      /* gathered rows of one training phase */
    double *fresh;       /* fresh buffer rows [M][p] */
    double *work;        /* Gram + residual */
    double *w, *wstar, *Li;
    double *base, *noise; /* draws shared by every d: c, c2, u_1..u_T ([T+2][p]); label noise [T][n] */
    unsigned char *sim;  /* [T][T] */
    double *gram;        /* [T n][T n]: Gram matrix of every sample of the draw (shared by all d) */
    const double **rows; /* rows of one training phase */
    int *idx;
};

rh_lin_work *rh_lin_work_new(const rh_lin_problem *P)
{
    rh_lin_work *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    k->p = P->p; k->n = P->n; k->M = P->M; k->T = P->T;
    k->Kmax = P->n + (P->T - 1) * P->M;
    size_t p = (size_t)P->p, T = (size_t)P->T, K = (size_t)k->Kmax;
    k->X = malloc(sizeof(double) * T * P->n * p);
    k->y = malloc(sizeof(double) * T * P->n);
    k->A = malloc(sizeof(double) * K * p);
    k->yA = malloc(sizeof(double) * K);
    k->fresh = malloc(sizeof(double) * (size_t)(P->M > 0 ? P->M : 1) * (p + 1));
    k->work = malloc(sizeof(double) * (K * K + K));
    k->w = malloc(sizeof(double) * p);
    k->wstar = malloc(sizeof(double) * T * p);
    k->Li = malloc(sizeof(double) * T);
    k->sim = malloc(T * T);
    k->base = malloc(sizeof(double) * (T + 2) * p);
    k->noise = malloc(sizeof(double) * T * P->n);
    k->gram = malloc(sizeof(double) * T * P->n * T * P->n);
    k->rows = malloc(sizeof(double *) * K);
    k->idx = malloc(sizeof(int) * K);
    if (!k->gram || !k->rows || !k->idx || !k->base || !k->noise || !k->X || !k->y || !k->A || !k->yA || !k->fresh || !k->work || !k->w || !k->wstar || !k->Li || !k->sim) {
        rh_lin_work_free(k);
        return NULL;
    }
    return k;
}

void rh_lin_work_free(rh_lin_work *k)
{
    if (!k) return;
    free(k->X); free(k->y); free(k->A); free(k->yA); free(k->fresh); free(k->work);
    free(k->w); free(k->wstar); free(k->Li); free(k->sim); free(k->base); free(k->noise);
    free(k->gram); free(k->rows); free(k->idx);
    free(k);
}

/* The random directions behind the ground truths: c, c2, u_1..u_T, each N(0, I_p / p). */
static void draw_base(const rh_lin_problem *P, double *base, dl_rng *r)
{
    const double sc = 1.0 / sqrt((double)P->p);
    for (size_t j = 0; j < (size_t)(P->T + 2) * P->p; j++) base[j] = sc * dl_rng_normal(r);
}

/* w*_t from the directions for the problem's family and d. */
static void assemble(const rh_lin_problem *P, const double *base, double *ws)
{
    const int p = P->p, T = P->T;
    const double *c = base, *c2 = base + p, *u = base + 2 * (size_t)p;
    memset(ws, 0, sizeof(double) * (size_t)T * p);
    for (int t = 0; t < T; t++) {
        double *wt = ws + (size_t)t * p;
        const double *ut = u + (size_t)t * p;
        if (P->family == RH_FAM_E) {
            /* w*_t = e_0 + d e_{2+t} (t = 1..T) */
            wt[0] = 1.0;
            wt[3 + t] = P->d;
        } else if (P->family == RH_FAM_U) {
            /* w*_t = c + d u_t */
            for (int j = 0; j < p; j++) wt[j] = c[j] + P->d * ut[j];
        } else {
            /* two clusters alternating A, B, A, ...: c_A + 0.1 u_t and c_A + d c_B + 0.1 u_t */
            double off = (t % 2) ? P->d : 0.0;
            for (int j = 0; j < p; j++) wt[j] = c[j] + off * c2[j] + P->spread * ut[j];
        }
    }
}

void rh_ground_truths(const rh_lin_problem *P, double *ws, void *rng)
{
    double *base = malloc(sizeof(double) * (size_t)(P->T + 2) * P->p);
    if (!base) return;
    if (P->family == RH_FAM_E) memset(base, 0, sizeof(double) * (size_t)(P->T + 2) * P->p); /* deterministic */
    else draw_base(P, base, rng);
    assemble(P, base, ws);
    free(base);
}

static double dist2(const double *a, const double *b, int p)
{
    double s = 0;
    for (int j = 0; j < p; j++) s += (a[j] - b[j]) * (a[j] - b[j]);
    return s;
}

int rh_similar(const rh_lin_problem *P, const double *ws, int i, int t)
{
    return dist2(ws + (size_t)i * P->p, ws + (size_t)t * P->p, P->p) < P->tau;
}

/* ---- training plans: the phases of task t for a strategy ------------------------------ */
typedef struct { int task, buffer; } rh_block;
typedef struct { int nb; rh_block b[RH_MAX_T]; } rh_phase;

/* Fills ph[] with the phases of task t; returns their number. */
static int plan_task(int strat, int sr_reverse, int t, const unsigned char *sim, int T, rh_phase *ph)
{
    int np = 0;
    ph[0].nb = 1;
    ph[0].b[0] = (rh_block){t, 0};
    np = 1;
    switch (strat) {
    case RH_NONE: break;
    case RH_CR:
        for (int i = 0; i < t; i++) ph[0].b[ph[0].nb++] = (rh_block){i, 1};
        break;
    case RH_SR:
    case RH_SRREV: {
        int rev = (strat == RH_SRREV) ? !sr_reverse : sr_reverse;
        for (int k = 0; k < t; k++) {
            int i = rev ? t - 1 - k : k;
            ph[np].nb = 1; ph[np].b[0] = (rh_block){i, 1}; np++;
        }
        break;
    }
    case RH_HR:
        for (int i = 0; i < t; i++)
            if (sim[(size_t)i * T + t]) ph[0].b[ph[0].nb++] = (rh_block){i, 1};
        for (int i = 0; i < t; i++)
            if (!sim[(size_t)i * T + t]) { ph[np].nb = 1; ph[np].b[0] = (rh_block){i, 1}; np++; }
        break;
    }
    return np;
}

static void fill_sim(const rh_lin_problem *P, const double *ws, unsigned char *sim)
{
    for (int i = 0; i < P->T; i++)
        for (int t = 0; t < P->T; t++) sim[(size_t)i * P->T + t] = (unsigned char)rh_similar(P, ws, i, t);
}

/* ---- section 2.1 closed form ------------------------------------------------------------ */
double rh_closed_step(double e_prev, int p, int nblocks, const int *nk, const double *const *wt,
                      const double *v, double s)
{
    int K = 0;
    for (int k = 0; k < nblocks; k++) K += nk[k];
    if (K <= 0) return e_prev;
    double bb2 = 0, disp = 0;
    double *bbar = calloc((size_t)p, sizeof(double));
    if (!bbar) return NAN;
    for (int k = 0; k < nblocks; k++)
        for (int j = 0; j < p; j++) bbar[j] += nk[k] * (wt[k][j] - v[j]) / K;
    for (int j = 0; j < p; j++) bb2 += bbar[j] * bbar[j];
    for (int k = 0; k < nblocks; k++) {
        double d2 = 0;
        for (int j = 0; j < p; j++) {
            double u = wt[k][j] - v[j] - bbar[j];
            d2 += u * u;
        }
        disp += nk[k] * d2;
    }
    free(bbar);
    const double pk1 = (double)(p - K - 1);
    return (1.0 - (double)K / p) * e_prev + ((double)K / p) * bb2 + (p - 1.0) / (p * pk1) * disp +
           K * s * s / pk1;
}

static void closed_fg_sim(const rh_lin_problem *P, const double *ws, const unsigned char *sim, int strat,
                          int sr_reverse, double *F, double *G)
{
    const int T = P->T, p = P->p;
    double e[RH_MAX_T], eii[RH_MAX_T];
    for (int j = 0; j < T; j++) { /* w_0 = 0: e_j = ||w*_j||^2 */
        double s = 0;
        for (int q = 0; q < p; q++) s += ws[(size_t)j * p + q] * ws[(size_t)j * p + q];
        e[j] = s;
    }
    rh_phase ph[RH_MAX_T + 1];
    for (int t = 0; t < T; t++) {
        int np = plan_task(strat, sr_reverse, t, sim, T, ph);
        for (int q = 0; q < np; q++) {
            int nk[RH_MAX_T];
            const double *wt[RH_MAX_T];
            for (int b = 0; b < ph[q].nb; b++) {
                nk[b] = ph[q].b[b].buffer ? P->M : P->n;
                wt[b] = ws + (size_t)ph[q].b[b].task * p;
            }
            for (int j = 0; j < T; j++) e[j] = rh_closed_step(e[j], p, ph[q].nb, nk, wt, ws + (size_t)j * p, P->s);
        }
        eii[t] = e[t];
    }
    double f = 0, g = 0;
    for (int i = 0; i < T; i++) g += e[i] + P->s * P->s;
    for (int i = 0; i + 1 < T; i++) f += e[i] - eii[i];
    *F = T > 1 ? f / (T - 1) : 0;
    *G = g / T;
}

void rh_closed_fg(const rh_lin_problem *P, const double *ws, int strat, int sr_reverse, double *F, double *G)
{
    unsigned char sim[RH_MAX_T * RH_MAX_T];
    fill_sim(P, ws, sim);
    closed_fg_sim(P, ws, sim, strat, sr_reverse, F, G);
}

/* ---- one draw ------------------------------------------------------------------------------ */
/* Every strategy on the problem P (ground truths already in k->wstar, labels in k->y). */
static int strategies(const rh_lin_problem *P, int sr_reverse, int untrained, uint64_t seed, uint64_t stream,
                      rh_lin_work *k, rh_draw *out)
{
    const int p = P->p, n = P->n, M = P->M, T = P->T;
    fill_sim(P, k->wstar, k->sim);
    for (int s = 0; s < RH_NSTRAT; s++) out->F[s] = out->G[s] = out->thF[s] = out->thG[s] = NAN;
    for (int s = 0; s < RH_NSTRAT; s++) {
        if (s == RH_HR && P->family != RH_FAM_C) continue; /* the hybrid needs mixed similarity */
        /* fresh buffer samples come from their own stream: same samples for every strategy */
        dl_rng fr;
        dl_rng_init(&fr, seed, stream ^ 0x4000000000000000ull);
        memset(k->w, 0, sizeof(double) * (size_t)p);
        rh_phase ph[RH_MAX_T + 1];
        for (int t = 0; t < T; t++) {
            int np = plan_task(s, sr_reverse, t, k->sim, T, ph);
            for (int q = 0; q < np; q++) {
                int K = 0, gathered = 0;
                for (int b = 0; b < ph[q].nb; b++) {
                    int ti = ph[q].b[b].task, cnt = ph[q].b[b].buffer ? M : n;
                    if (ph[q].b[b].buffer && P->fresh) {
                        gathered = 1;
                        for (int i = 0; i < cnt; i++) {
                            double *x = k->A + (size_t)(K + i) * p, dot = 0;
                            for (int j = 0; j < p; j++) { x[j] = dl_rng_normal(&fr); dot += x[j] * k->wstar[(size_t)ti * p + j]; }
                            k->yA[K + i] = dot + P->s * dl_rng_normal(&fr);
                            k->idx[K + i] = -1;
                        }
                    } else {
                        memcpy(k->yA + K, k->y + (size_t)ti * n, sizeof(double) * (size_t)cnt);
                        for (int i = 0; i < cnt; i++) k->idx[K + i] = ti * n + i;
                    }
                    K += cnt;
                }
                if (untrained) continue;
                int rc;
                if (gathered) {
                    for (int i = 0; i < K; i++)
                        if (k->idx[i] >= 0) memcpy(k->A + (size_t)i * p, k->X + (size_t)k->idx[i] * p, sizeof(double) * (size_t)p);
                    rc = rh_minnorm_update(k->w, k->A, k->yA, K, p, k->work);
                } else {
                    /* the phase's Gram matrix is a submatrix of the draw's */
                    const int N = T * n;
                    for (int a = 0; a < K; a++) {
                        k->rows[a] = k->X + (size_t)k->idx[a] * p;
                        for (int b = a; b < K; b++) {
                            int ia = k->idx[a], ib = k->idx[b];
                            double g = ia <= ib ? k->gram[(size_t)ia * N + ib] : k->gram[(size_t)ib * N + ia];
                            k->work[(size_t)a * K + b] = k->work[(size_t)b * K + a] = g;
                        }
                    }
                    rc = rh_minnorm_update_gram(k->w, k->rows, k->yA, K, p, k->work, k->work + (size_t)K * K);
                }
                if (rc) return -1;
            }
            k->Li[t] = dist2(k->w, k->wstar + (size_t)t * p, p);
        }
        double f = 0, g = 0;
        for (int i = 0; i < T; i++) {
            double li = dist2(k->w, k->wstar + (size_t)i * p, p);
            g += li + P->s * P->s;
            if (i + 1 < T) f += li - k->Li[i];
        }
        out->F[s] = T > 1 ? f / (T - 1) : 0;
        out->G[s] = g / T;
        if (!P->theory) continue;
        if (untrained) {
            out->thF[s] = out->F[s]; out->thG[s] = out->G[s]; /* no update: the closed form is the identity */
        } else {
            closed_fg_sim(P, k->wstar, k->sim, s, sr_reverse, &out->thF[s], &out->thG[s]);
        }
    }
    return 0;
}

int rh_lin_draw(const rh_lin_problem *P, const double *dvals, int nd, int sr_reverse, int untrained, uint64_t seed,
                uint64_t stream, rh_lin_work *k, rh_draw *out)
{
    const int p = P->p, n = P->n, T = P->T;
    dl_rng r;
    dl_rng_init(&r, seed, stream);
    /* common random numbers: the directions, inputs and noise are shared by every d */
    draw_base(P, k->base, &r);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < n; i++) {
            double *x = k->X + ((size_t)t * n + i) * p;
            for (int j = 0; j < p; j++) x[j] = dl_rng_normal(&r);
            k->noise[(size_t)t * n + i] = dl_rng_normal(&r);
        }
    /* Gram matrix of all T n samples (upper triangle), once for every d and strategy */
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, T * n, p, 1.0, k->X, p, 0.0, k->gram, T * n);
    for (int q = 0; q < nd; q++) {
        rh_lin_problem Pd = *P;
        Pd.d = dvals[q];
        Pd.tau = P->tau_factor * Pd.d * Pd.d;
        assemble(&Pd, k->base, k->wstar);
        /* y = x^T w*_t + s e */
        for (int t = 0; t < T; t++)
            for (int i = 0; i < n; i++) {
                const double *x = k->X + ((size_t)t * n + i) * p, *wt = k->wstar + (size_t)t * p;
                double dot = 0;
                for (int j = 0; j < p; j++) dot += x[j] * wt[j];
                k->y[(size_t)t * n + i] = dot + P->s * k->noise[(size_t)t * n + i];
            }
        if (strategies(&Pd, sr_reverse, untrained, seed, stream, k, &out[q])) return -1;
    }
    return 0;
}

int rh_lin_given(const rh_lin_problem *P, const double *X, const double *y, const double *wstar, int sr_reverse,
                 rh_lin_work *k, rh_draw *out)
{
    const int p = P->p, n = P->n, T = P->T;
    memcpy(k->X, X, sizeof(double) * (size_t)T * n * p);
    memcpy(k->y, y, sizeof(double) * (size_t)T * n);
    memcpy(k->wstar, wstar, sizeof(double) * (size_t)T * p);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, T * n, p, 1.0, k->X, p, 0.0, k->gram, T * n);
    return strategies(P, sr_reverse, 0, 0, 0, k, out);
}
