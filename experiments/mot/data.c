/* Synthetic N-mixture classification data, our reconstruction, docs/papers/mot.md (after Chen et al.
 * 2022's data model: class-identifier patch, feature signal, feature noise
 * from another cluster, Gaussian noise patches).
 *
 * A sample of class n with label y is L tokens in R^d:
 *   token 0          beta * c_n                        (class identifier, read by the gate)
 *   token l* (rand)  alpha_m * u_n + alpha * y * v_n   (classification signal)
 *   n_conflict tokens alpha_m * u_n' + gamma * eps * v_n' (conflicting signals of distinct
 *                    classes n' != n, random signs eps; default all N-1 other classes)
 *   other tokens     N(0, sigma_p^2) outside span{c, u}
 * c_n, u_n are orthonormal basis vectors. Label directions are shared by
 * class pairs with opposite signs, v_{2k} = e_k, v_{2k+1} = -e_k: one shared
 * predictor cannot serve both classes of a pair (the "gradient conflict"),
 * while an expert that serves only one class has a convex, realizable
 * sub-problem. The marker u_n lets attention find the signal token without
 * depending on the sign of y (a linear key score on alpha*y*v_n would flip
 * with y). See docs/papers/mot.md. */
#include <stdlib.h>
#include <string.h>
#include "mot/mot.h"

int mot_dir_id(const mot_cfg *c, int n) { return n; }
int mot_dir_marker(const mot_cfg *c, int n) { return c->n_classes + n; }
int mot_dir_label(const mot_cfg *c, int n, int *sign)
{
    if (sign) *sign = (n % 2 == 0) ? 1 : -1;
    return 2 * c->n_classes + n / 2;
}

void mot_data_free(mot_data *D)
{
    free(D->x); free(D->y); free(D->cls); free(D->sig_pos);
    memset(D, 0, sizeof *D);
}

int mot_data_synth(mot_data *D, const mot_cfg *c, int n, uint64_t seed, uint64_t stream)
{
    const int d = c->d, L = c->seq_len, N = c->n_classes;
    memset(D, 0, sizeof *D);
    if (N < 2 || d < 2 * N + (N + 1) / 2 || n < 1 || c->n_conflict < 0 ||
        c->n_conflict > N - 1 || L < 2 + c->n_conflict)
        return -1;
    D->n = n; D->L = L; D->d = d;
    D->x = calloc((size_t)n * L * d, sizeof(float));
    D->y = malloc((size_t)n * sizeof(float));
    D->cls = malloc((size_t)n * sizeof(int));
    D->sig_pos = malloc((size_t)n * sizeof(int));
    if (!D->x || !D->y || !D->cls || !D->sig_pos) { mot_data_free(D); return -1; }
    dl_rng r;
    dl_rng_init(&r, seed, stream);
    int pos[L], others[N];
    for (int i = 0; i < n; i++) {
        int k = (int)dl_rng_below(&r, (uint32_t)N);
        float y = dl_rng_below(&r, 2) ? 1.f : -1.f;
        /* random positions 1..L-1: first the signal, then the conflict tokens */
        for (int l = 0; l < L - 1; l++) pos[l] = l + 1;
        dl_rng_shuffle_int(&r, pos, L - 1);
        int no = 0;
        for (int k2 = 0; k2 < N; k2++)
            if (k2 != k) others[no++] = k2;
        dl_rng_shuffle_int(&r, others, no);
        float *X = D->x + (size_t)i * L * d;
        int s1, s2;
        X[mot_dir_id(c, k)] = (float)c->beta;
        int ls = pos[0];
        float *xs = X + (size_t)ls * d;
        xs[mot_dir_marker(c, k)] = (float)c->alpha_marker;
        int vl = mot_dir_label(c, k, &s1);
        xs[vl] = (float)(c->alpha * y * s1);
        for (int j = 0; j < c->n_conflict; j++) {
            /* conflicting signal of another class: its marker, its label direction, random sign */
            int k2 = others[j];
            float eps = dl_rng_below(&r, 2) ? 1.f : -1.f;
            float *xc = X + (size_t)pos[1 + j] * d;
            xc[mot_dir_marker(c, k2)] = (float)c->alpha_marker;
            int vl2 = mot_dir_label(c, k2, &s2);
            xc[vl2] = (float)(c->gamma * eps * s2);
        }
        for (int j = 1 + c->n_conflict; j < L - 1; j++) {
            float *xn = X + (size_t)pos[j] * d;
            for (int q = 2 * N; q < d; q++) xn[q] = (float)(c->sigma_p * dl_rng_normal(&r));
        }
        D->y[i] = y; D->cls[i] = k; D->sig_pos[i] = ls;
    }
    return 0;
}
