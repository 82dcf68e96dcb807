/* NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR (Chen et al.
 * 2020, eq. 1), as one op. Rows are L2-normalised (u = z / max(|z|, 1e-12), as
 * torch.nn.functional.normalize), S = U U^T / tau, the diagonal is excluded, and
 * row i's positive is row i + N (mod 2N):
 *   L = 1/2N sum_i [ -S_{i,p(i)} + log sum_{j != i} exp(S_ij) ].
 * Backward: G = dL/dS = (softmax_j!=i(S_i) - onehot(p(i))) / 2N, dU = (G + G^T) U / tau,
 * dz_i = (du_i - u_i (u_i . du_i)) / |z_i| (zero through the clamp). */
#include <math.h>
#include <string.h>
#include "core/internal.h"
#include "dynlab/gemm.h"
#include "dynlab/losses.h"

typedef struct ntx_saved {
    float *u, *norm, *P; /* normalised rows [M, D], |z_i|, softmax rows [M, M] */
    float tau;
} ntx_saved;

static void ntx_bwd(dl_graph *g, const dl_rec *r) {
    const ntx_saved *s = r->saved;
    dl_tensor *z = r->in[0];
    const int M = z->shape[0], D = z->shape[1], N = M / 2;
    const float scale = r->out->grad[0] / (float)M;
    /* Gs = G + G^T (times the output gradient). */
    float *G = dl_graph_alloc(g, (size_t)M * M * sizeof(float));
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            const int pi = (i + N) % M, pj = (j + N) % M;
            const float gij = s->P[(int64_t)i * M + j] - (j == pi), gji = s->P[(int64_t)j * M + i] - (i == pj);
            G[(int64_t)i * M + j] = scale * (gij + gji);
        }
    float *dU = dl_graph_alloc(g, (size_t)M * D * sizeof(float));
    dl_sgemm(0, 0, M, D, M, 1.0f / s->tau, G, M, s->u, D, 0.0f, dU, D);
    int fresh;
    float *gz = dl_grad_out(g, z, &fresh);
    for (int i = 0; i < M; i++) {
        const float *u = s->u + (int64_t)i * D, *du = dU + (int64_t)i * D;
        float *gi = gz + (int64_t)i * D;
        const int clamped = s->norm[i] <= 1e-12f;
        double dot = 0;
        for (int k = 0; k < D; k++) dot += (double)u[k] * du[k];
        const float inv = 1.0f / (clamped ? 1e-12f : s->norm[i]);
        for (int k = 0; k < D; k++) {
            const float v = clamped ? du[k] * inv : (du[k] - u[k] * (float)dot) * inv;
            gi[k] = fresh ? v : gi[k] + v;
        }
    }
}

dl_tensor *dl_nt_xent(dl_graph *g, dl_tensor *z, float temperature) {
    if (z->ndim != 2 || z->shape[0] < 2 || z->shape[0] % 2)
        dl_fatal("dl_nt_xent: z must be [2N, D] with N >= 1 (two views stacked)");
    if (!(temperature > 0)) dl_fatal("dl_nt_xent: temperature %g must be > 0", (double)temperature);
    const int M = z->shape[0], D = z->shape[1], N = M / 2;
    ntx_saved s;
    s.tau = temperature;
    s.u = dl_graph_alloc(g, (size_t)M * D * sizeof(float));
    s.norm = dl_graph_alloc(g, (size_t)M * sizeof(float));
    s.P = dl_graph_alloc(g, (size_t)M * M * sizeof(float));
    for (int i = 0; i < M; i++) {
        const float *zi = z->data + (int64_t)i * D;
        double ss = 0;
        for (int k = 0; k < D; k++) ss += (double)zi[k] * zi[k];
        s.norm[i] = (float)sqrt(ss);
        const float inv = 1.0f / (s.norm[i] > 1e-12f ? s.norm[i] : 1e-12f);
        for (int k = 0; k < D; k++) s.u[(int64_t)i * D + k] = zi[k] * inv;
    }
    dl_sgemm(0, 1, M, M, D, 1.0f / temperature, s.u, D, s.u, D, 0.0f, s.P, M);
    double total = 0;
    for (int i = 0; i < M; i++) {
        float *row = s.P + (int64_t)i * M;
        const float pos = row[(i + N) % M];
        float m = -INFINITY;
        for (int j = 0; j < M; j++)
            if (j != i && row[j] > m) m = row[j];
        double sum = 0;
        for (int j = 0; j < M; j++) sum += j == i ? 0.0 : exp((double)row[j] - m);
        const double lse = m + log(sum);
        total += lse - pos;
        for (int j = 0; j < M; j++) row[j] = j == i ? 0.0f : (float)exp((double)row[j] - lse);
    }
    dl_tensor *out = dl_tensor_new(g, 0, NULL);
    out->data[0] = (float)(total / M);
    dl_rec *r = dl_record(g, ntx_bwd, out, z, NULL, NULL);
    if (r) {
        ntx_saved *sv = dl_graph_alloc(g, sizeof *sv);
        *sv = s;
        r->saved = sv;
    }
    return out;
}
