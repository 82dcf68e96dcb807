/* Deep continual learning with rehearsal (docs/papers/rehearsal.md, "Deep
 * setting"; the paper's protocol is task-incremental with one head per task):
 * an MLP 784 -> hidden (ReLU) -> one C-way head per task, Xavier-uniform init,
 * plain SGD, a memory of M samples per past task (the first M of the task's
 * shuffled training set).
 *   none  E epochs on D_t
 *   CR    every step: a batch of D_t plus an equal batch drawn uniformly from the
 *         union of past buffers (standard experience replay), one SGD step on
 *         the mean loss, each sample through its own task's head
 *   SR    E epochs on D_t, then one epoch on each B_i, i = 1..t-1, in turn
 *   HR    buffers of tasks similar to t are replayed concurrently (as CR), the
 *         others revisited one epoch each afterwards (Algorithm 1 as
 *         reconstructed); similar = same class family (oracle grouping) or, for
 *         HR-data, cosine of mean hidden activations on D_t and B_i above the
 *         median of those cosines.
 * The heads are one output layer of T*C units; a sample's logits outside its
 * task's head are masked by -1e9 before the softmax, which is exactly a
 * separate softmax per head (masked units get zero gradient). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/core.h"
#include "dynlab/nn.h"
#include "dynlab/optim.h"
#include "dynlab/run.h"
#include "rehearsal/rehearsal.h"

const char *const rh_deep_name[RH_DEEP_NSTRAT] = {"none", "CR", "SR", "HR", "HR-data"};

typedef struct {
    const rh_task_set *S;
    const rh_deep_opts *o;
    dl_params ps;
    dl_optim opt;
    dl_linear l1, l2;
    dl_graph *g;
    float *xb, *mask;  /* [2B][dim], [2B][T*C] */
    int *tgt;
    float *hid;        /* [n][hidden] scratch for the data-driven similarity */
    dl_rng r;
    int64_t replay_steps;
    int nonfinite;
} deep_ctx;

typedef struct { int task, idx; } sample_ref; /* idx into the task's training set */

static void xavier(dl_tensor *w, int fan_in, int fan_out, dl_rng *r)
{
    float a = (float)sqrt(6.0 / (fan_in + fan_out));
    dl_init_uniform(w, r, -a, a);
}

static int ctx_init(deep_ctx *c, const rh_task_set *S, const rh_deep_opts *o, uint64_t seed, uint64_t stream)
{
    memset(c, 0, sizeof *c);
    c->S = S; c->o = o;
    const int H = o->hidden, out = S->T * S->C, B2 = 2 * o->batch;
    dl_rng ir;
    dl_rng_init(&ir, seed, stream);
    dl_params_init(&c->ps);
    dl_linear_init(&c->l1, &c->ps, "trunk", S->dim, H, 1, &ir);
    dl_linear_init(&c->l2, &c->ps, "heads", H, out, 1, &ir);
    xavier(c->l1.weight, S->dim, H, &ir);
    /* each head is its own C x H layer: Xavier bounds of one head */
    xavier(c->l2.weight, H, S->C, &ir);
    dl_optim_init(&c->opt, &c->ps, DL_OPT_SGD, (float)o->lr);
    dl_rng_init(&c->r, seed, stream + 1);
    c->g = dl_graph_new();
    c->xb = malloc(sizeof(float) * (size_t)B2 * S->dim);
    c->mask = malloc(sizeof(float) * (size_t)B2 * out);
    c->tgt = malloc(sizeof(int) * (size_t)B2);
    int nmax = S->n_train > S->n_test ? S->n_train : S->n_test;
    c->hid = malloc(sizeof(float) * (size_t)nmax * H);
    return c->g && c->xb && c->mask && c->tgt && c->hid ? 0 : -1;
}

static void ctx_free(deep_ctx *c)
{
    if (c->g) dl_graph_free(c->g);
    dl_optim_free(&c->opt);
    dl_params_free(&c->ps);
    free(c->xb); free(c->mask); free(c->tgt); free(c->hid);
}

/* One SGD step on the mean cross-entropy over the samples refs[0..n). */
static void sgd_step(deep_ctx *c, const sample_ref *refs, int n, int replay)
{
    const rh_task_set *S = c->S;
    const int dim = S->dim, out = S->T * S->C;
    for (int k = 0; k < n; k++) {
        int t = refs[k].task, i = refs[k].idx;
        memcpy(c->xb + (size_t)k * dim, S->xtr + ((size_t)t * S->n_train + i) * dim, sizeof(float) * (size_t)dim);
        float *m = c->mask + (size_t)k * out;
        for (int j = 0; j < out; j++) m[j] = (j / S->C == t) ? 0.f : -1e9f;
        c->tgt[k] = t * S->C + S->ytr[(size_t)t * S->n_train + i];
    }
    if (c->o->untrained) return; /* control: no learning step at all */
    int sx[2] = {n, dim}, sm[2] = {n, out};
    dl_tensor *x = dl_tensor_wrap(c->g, c->xb, 2, sx);
    dl_tensor *mk = dl_tensor_wrap(c->g, c->mask, 2, sm);
    dl_tensor *h = dl_relu(c->g, dl_linear_fwd(c->g, &c->l1, x));
    dl_tensor *lg = dl_add(c->g, dl_linear_fwd(c->g, &c->l2, h), mk);
    dl_tensor *loss = dl_cross_entropy(c->g, lg, c->tgt, NULL, -1);
    if (!isfinite(loss->data[0])) c->nonfinite = 1;
    dl_backward(c->g, loss);
    dl_optim_step(&c->opt, c->opt.lr); /* plain SGD: no momentum, no weight decay */
    dl_params_zero_grad(&c->ps);
    dl_graph_reset(c->g);
    c->replay_steps += replay;
}

/* Hidden activations of n rows of x into c->hid; returns it. */
static const float *hidden_of(deep_ctx *c, const float *x, int n)
{
    const int H = c->o->hidden, dim = c->S->dim;
    dl_graph_set_grad_enabled(c->g, 0);
    for (int k0 = 0; k0 < n; k0 += 256) {
        int nb = n - k0 < 256 ? n - k0 : 256, sx[2] = {nb, dim};
        dl_tensor *xt = dl_tensor_wrap(c->g, (float *)(x + (size_t)k0 * dim), 2, sx);
        dl_tensor *h = dl_relu(c->g, dl_linear_fwd(c->g, &c->l1, xt));
        memcpy(c->hid + (size_t)k0 * H, h->data, sizeof(float) * (size_t)nb * H);
        dl_graph_reset(c->g);
    }
    dl_graph_set_grad_enabled(c->g, 1);
    return c->hid;
}

/* Test accuracy on task i (its own head). */
static double accuracy(deep_ctx *c, int i)
{
    const rh_task_set *S = c->S;
    const int H = c->o->hidden, C = S->C, n = S->n_test;
    const float *h = hidden_of(c, S->xte + (size_t)i * n * S->dim, n);
    const float *W = c->l2.weight->data + (size_t)i * C * H, *b = c->l2.bias->data + (size_t)i * C;
    int correct = 0;
    for (int k = 0; k < n; k++) {
        int best = 0;
        double bv = -INFINITY;
        for (int j = 0; j < C; j++) {
            double v = b[j];
            for (int u = 0; u < H; u++) v += (double)W[(size_t)j * H + u] * h[(size_t)k * H + u];
            if (v > bv) { bv = v; best = j; }
        }
        correct += best == S->yte[(size_t)i * n + k];
    }
    return (double)correct / n;
}

static void mean_hidden(deep_ctx *c, int task, int n, double *mu)
{
    const int H = c->o->hidden;
    const float *h = hidden_of(c, c->S->xtr + (size_t)task * c->S->n_train * c->S->dim, n);
    for (int u = 0; u < H; u++) mu[u] = 0;
    for (int k = 0; k < n; k++)
        for (int u = 0; u < H; u++) mu[u] += h[(size_t)k * H + u] / n;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Which past tasks i < t are replayed concurrently (1) rather than revisited (0). */
static void grouping(deep_ctx *c, int strat, int t, int *conc)
{
    const rh_task_set *S = c->S;
    for (int i = 0; i < t; i++) conc[i] = strat == RH_D_CR ? 1 : strat == RH_D_HR ? S->group[i] == S->group[t] : 0;
    if (strat != RH_D_HRDATA || t == 0) return;
    const int H = c->o->hidden, M = c->o->memory;
    double *mt = malloc(sizeof(double) * (size_t)H * 2), cs[RH_MAX_T], sorted[RH_MAX_T];
    if (!mt) return;
    double *mi = mt + H;
    mean_hidden(c, t, S->n_train, mt);
    for (int i = 0; i < t; i++) {
        mean_hidden(c, i, M, mi);
        double ab = 0, aa = 0, bb = 0;
        for (int u = 0; u < H; u++) { ab += mt[u] * mi[u]; aa += mt[u] * mt[u]; bb += mi[u] * mi[u]; }
        cs[i] = aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
        sorted[i] = cs[i];
    }
    qsort(sorted, (size_t)t, sizeof(double), cmp_d);
    double med = t % 2 ? sorted[t / 2] : 0.5 * (sorted[t / 2 - 1] + sorted[t / 2]);
    for (int i = 0; i < t; i++) conc[i] = cs[i] > med;
    free(mt);
}

int rh_deep_run(const rh_task_set *S, const rh_deep_opts *o, uint64_t seed, uint64_t stream, rh_deep_result *res)
{
    memset(res, 0, sizeof *res);
    const int T = S->T, B = o->batch, M = o->memory < S->n_train ? o->memory : S->n_train;
    sample_ref *refs = malloc(sizeof(sample_ref) * (size_t)2 * B);
    int *perm = malloc(sizeof(int) * (size_t)S->n_train), *pool = malloc(sizeof(int) * (size_t)T * 2);
    if (!refs || !perm || !pool) { free(refs); free(perm); free(pool); return -1; }
    for (int strat = 0; strat < RH_DEEP_NSTRAT; strat++) {
        deep_ctx c;
        /* same initial weights and batch order for every strategy (paired comparison) */
        if (ctx_init(&c, S, o, seed, stream)) { ctx_free(&c); free(refs); free(perm); free(pool); return -1; }
        double t0 = dl_now();
        for (int t = 0; t < T; t++) {
            int conc[RH_MAX_T] = {0}, np = 0;
            grouping(&c, strat, t, conc);
            for (int i = 0; i < t; i++)
                if (conc[i]) pool[np++] = i; /* tasks whose buffers join the current batches */
            for (int e = 0; e < o->epochs; e++) {
                for (int i = 0; i < S->n_train; i++) perm[i] = i;
                dl_rng_shuffle_int(&c.r, perm, S->n_train);
                for (int k0 = 0; k0 < S->n_train; k0 += B) {
                    int n = S->n_train - k0 < B ? S->n_train - k0 : B, m = n;
                    for (int k = 0; k < n; k++) refs[k] = (sample_ref){t, perm[k0 + k]};
                    if (np > 0 && M > 0) {
                        /* as many replayed samples, uniform over the union of the pooled buffers */
                        for (int k = 0; k < B; k++) {
                            uint32_t u = dl_rng_below(&c.r, (uint32_t)(np * M));
                            refs[m++] = (sample_ref){pool[u / (uint32_t)M], (int)(u % (uint32_t)M)};
                        }
                    }
                    sgd_step(&c, refs, m, m > n);
                }
            }
            /* sequential revisits: one epoch on each remaining buffer, oldest first */
            if (strat != RH_D_NONE && M > 0)
                for (int i = 0; i < t; i++) {
                    if (conc[i]) continue;
                    for (int k = 0; k < M; k++) perm[k] = k;
                    dl_rng_shuffle_int(&c.r, perm, M);
                    for (int k0 = 0; k0 < M; k0 += B) {
                        int n = M - k0 < B ? M - k0 : B;
                        for (int k = 0; k < n; k++) refs[k] = (sample_ref){i, perm[k0 + k]};
                        sgd_step(&c, refs, n, 1);
                    }
                }
            for (int i = 0; i < T; i++) res->acc[strat][t][i] = accuracy(&c, i);
        }
        res->seconds[strat] = dl_now() - t0;
        res->replay_steps[strat] = c.replay_steps;
        res->nonfinite |= c.nonfinite;
        double acc = 0, fgt = 0;
        for (int i = 0; i < T; i++) acc += res->acc[strat][T - 1][i];
        for (int i = 0; i + 1 < T; i++) fgt += res->acc[strat][i][i] - res->acc[strat][T - 1][i];
        res->ACC[strat] = acc / T;
        res->FGT[strat] = T > 1 ? fgt / (T - 1) : 0;
        ctx_free(&c);
    }
    free(refs); free(perm); free(pool);
    return 0;
}
