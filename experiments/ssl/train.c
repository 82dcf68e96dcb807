/* Self-supervised pretraining (docs/papers/ssl.md, "Loss"): for a batch of B
 * examples, two augmented views (2B rows) go through the shared encoder;
 *   L = NT-Xent(p(z), tau) + beta (L_rec + w_t KL(q(z|x) || N(0, I))),
 * L_rec the squared reconstruction error summed over features, z = mu + sigma * eps (reparameterisation, Kingma & Welling 2014), w_t the KL
 * weight annealed linearly from 0 over the first kl_warmup of the steps.
 * Ablations drop one module: no contrastive (beta (L_rec + w KL) only), no
 * variational (z = mu, no decoder, no KL), no augmentation (identical views
 * with input dropout 0.1 as the only noise). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/losses.h"
#include "dynlab/optim.h"
#include "ssl/ssl.h"

const char *const ssl_variant_names[SSL_N_VARIANTS] = {"full", "no_contrastive", "no_variational",
                                                       "no_augmentation"};

int ssl_variant_parse(const char *s)
{
    for (int i = 0; i < SSL_N_VARIANTS; i++)
        if (!strcmp(s, ssl_variant_names[i])) return i;
    return -1;
}

void ssl_train_log_free(ssl_train_log *L)
{
    free(L->step); free(L->train); free(L->val);
    memset(L, 0, sizeof *L);
}

static dl_opt_kind opt_kind(const char *s)
{
    return !strcmp(s, "sgd") ? DL_OPT_SGD : !strcmp(s, "adam") ? DL_OPT_ADAM : DL_OPT_ADAMW;
}

/* Per-feature std of the training rows (the tabular jitter scale). */
static float *feature_std(const ssl_data *D, const int *idx, int n)
{
    float *s = calloc((size_t)D->d, sizeof(float));
    for (int j = 0; j < D->d; j++) {
        double m = 0, v = 0;
        for (int i = 0; i < n; i++) m += D->x[(size_t)idx[i] * D->d + j];
        m /= n;
        for (int i = 0; i < n; i++) {
            double e = D->x[(size_t)idx[i] * D->d + j] - m;
            v += e * e;
        }
        s[j] = (float)sqrt(v / n);
    }
    return s;
}

/* Rows i and i + B of X are the two views of example rows[i]. */
static void make_views(const ssl_data *D, const int *rows, int B, const int *pool, int n_pool, const float *fstd,
                       const ssl_cfg *c, int variant, float *X, dl_rng *r)
{
    const int d = D->d;
    for (int v = 0; v < 2; v++)
        for (int i = 0; i < B; i++) {
            const float *in = D->x + (size_t)rows[i] * d;
            float *out = X + ((size_t)v * B + i) * d;
            if (variant == SSL_NO_AUGMENT) memcpy(out, in, sizeof(float) * (size_t)d);
            else if (D->is_image) ssl_aug_image(c, in, out, D->h, D->w, r);
            else {
                const float *other = D->x + (size_t)pool[dl_rng_below(r, (uint32_t)n_pool)] * d;
                ssl_aug_table(c, in, other, fstd, out, d, r);
            }
        }
}

static dl_tensor *ssl_loss(dl_graph *g, ssl_model *m, float *X, int N, float *eps, const ssl_cfg *c, int variant,
                           double klw)
{
    int sx[2] = {N, m->d}, se[2] = {N, m->zdim};
    dl_tensor *x = dl_tensor_wrap(g, X, 2, sx);
    dl_tensor *xin = variant == SSL_NO_AUGMENT ? dl_dropout(g, x, 0.1f) : x;
    dl_tensor *h = ssl_encode(g, m, xin);
    dl_tensor *mu = dl_linear_fwd(g, &m->mu, h), *z = mu, *loss = NULL;
    if (variant != SSL_NO_VARIATIONAL) {
        dl_tensor *lv = dl_linear_fwd(g, &m->logvar, h);
        dl_tensor *sd = dl_exp(g, dl_scale(g, lv, 0.5f));
        z = dl_add(g, mu, dl_mul(g, sd, dl_tensor_wrap(g, eps, 2, se)));
        dl_tensor *rec = dl_linear_fwd(g, &m->dec2, dl_relu(g, dl_linear_fwd(g, &m->dec1, z)));
        /* Gaussian decoder: squared error summed over the input features and averaged over
         * the batch, the same reduction as the KL (sum over latent dims), as in the ELBO */
        dl_tensor *vae = dl_add(g, dl_scale(g, dl_mse(g, rec, x), (float)m->d), dl_scale(g, dl_gaussian_kl(g, mu, lv), (float)klw));
        loss = dl_scale(g, vae, (float)c->beta);
    }
    if (variant != SSL_NO_CONTRASTIVE) {
        dl_tensor *p = dl_linear_fwd(g, &m->proj2, dl_relu(g, dl_linear_fwd(g, &m->proj1, z)));
        dl_tensor *nt = dl_nt_xent(g, p, (float)c->temperature);
        loss = loss ? dl_add(g, loss, nt) : nt;
    }
    return loss;
}

/* The pretraining loss of a fixed set of rows: fixed views and noise (stream
 * key), evaluation mode, averaged over batches of B. */
static double eval_loss(dl_graph *g, ssl_model *m, const ssl_data *D, const int *idx, int n, const int *pool,
                        int n_pool, const float *fstd, const ssl_cfg *c, int variant, int B, float *X, float *eps,
                        uint64_t seed)
{
    dl_rng r;
    dl_rng_init(&r, seed, 0x55e);
    if (B > n) B = n; /* a small validation split: one batch of all its rows */
    dl_graph_set_training(g, 0);
    dl_graph_set_grad_enabled(g, 0);
    double s = 0;
    int nb = 0;
    for (int i0 = 0; i0 + B <= n; i0 += B) {
        make_views(D, idx + i0, B, pool, n_pool, fstd, c, variant, X, &r);
        for (int i = 0; i < 2 * B * m->zdim; i++) eps[i] = (float)dl_rng_normal(&r);
        s += ssl_loss(g, m, X, 2 * B, eps, c, variant, 1.0)->data[0];
        nb++;
        dl_graph_reset(g);
    }
    dl_graph_set_grad_enabled(g, 1);
    return nb ? s / nb : NAN;
}

int ssl_pretrain(ssl_model *m, const ssl_data *D, const int *idx, int n, const int *val_idx, int n_val,
                 const ssl_cfg *c, int variant, const char *optimizer, double lr, int steps, uint64_t seed,
                 dl_run *run, const char *tag, ssl_train_log *log)
{
    const int B = c->batch < n ? c->batch : n;
    float *X = malloc(sizeof(float) * (size_t)2 * B * D->d);
    float *eps = malloc(sizeof(float) * (size_t)2 * B * m->zdim);
    int *rows = malloc(sizeof(int) * (size_t)B), *perm = malloc(sizeof(int) * (size_t)n);
    float *fstd = feature_std(D, idx, n);
    int n_log = steps / c->log_every + 2;
    if (log) {
        memset(log, 0, sizeof *log);
        log->step = calloc((size_t)n_log, sizeof(double));
        log->train = calloc((size_t)n_log, sizeof(double));
        log->val = calloc((size_t)n_log, sizeof(double));
    }
    dl_graph *g = dl_graph_new();
    dl_graph_set_rng(g, seed, 0x55d);
    dl_rng r;
    dl_rng_init(&r, seed, 0x55a + (uint64_t)variant);
    dl_optim opt;
    dl_optim_init(&opt, &m->ps, opt_kind(optimizer), (float)lr);
    if (!strcmp(optimizer, "sgd")) opt.momentum = 0.9f;
    if (!strcmp(optimizer, "adamw")) opt.weight_decay = (float)c->weight_decay;
    dl_params_set_trainable(&m->ps, "cls", 0);
    for (int i = 0; i < n; i++) perm[i] = idx[i];
    int pos = n, rc = 0;
    const int n_eval_tr = n < 2 * B ? n : 2 * B, n_eval_va = n_val < 2 * B ? n_val : 2 * B;
    for (int step = 0; step <= steps; step++) {
        if (log && (step % c->log_every == 0 || step == steps)) {
            double tr = eval_loss(g, m, D, idx, n_eval_tr, idx, n, fstd, c, variant, B, X, eps, seed + 1);
            double va = eval_loss(g, m, D, val_idx, n_eval_va, idx, n, fstd, c, variant, B, X, eps, seed + 2);
            log->step[log->n] = step; log->train[log->n] = tr; log->val[log->n] = va;
            log->n++;
            if (run && tag) {
                dl_metrics_begin(run, step);
                dl_metrics_add_str(run, "phase", tag);
                dl_metrics_add(run, "train_loss", tr);
                dl_metrics_add(run, "val_loss", va);
                dl_metrics_end(run);
            }
        }
        if (step == steps) break;
        for (int i = 0; i < B; i++) {
            if (pos >= n) { dl_rng_shuffle_int(&r, perm, n); pos = 0; }
            rows[i] = perm[pos++];
        }
        make_views(D, rows, B, idx, n, fstd, c, variant, X, &r);
        for (int i = 0; i < 2 * B * m->zdim; i++) eps[i] = (float)dl_rng_normal(&r);
        double klw = c->kl_warmup > 0 ? fmin(1.0, step / (c->kl_warmup * steps)) : 1.0;
        /* learning rate 0 (the untrained control): nothing is updated, batch-norm statistics included */
        dl_graph_set_training(g, lr > 0);
        dl_params_zero_grad(&m->ps);
        dl_tensor *loss = ssl_loss(g, m, X, 2 * B, eps, c, variant, klw);
        double lv = loss->data[0];
        if (run && dl_check_finite(run, tag ? tag : "pretraining loss", lv, step)) { rc = -1; dl_graph_reset(g); break; }
        if (lr > 0) {
            dl_backward(g, loss);
            dl_clip_grad_norm(&m->ps, 5.0);
            dl_optim_step(&opt, dl_lr_at(DL_SCHED_COSINE, (float)lr, 0.f, step, 0, steps));
        }
        dl_graph_reset(g);
        if (run && tag && step % c->log_every == 0) dl_progress(run, tag, step, steps, NULL);
    }
    dl_params_set_trainable(&m->ps, "cls", 1);
    dl_optim_free(&opt);
    dl_graph_free(g);
    free(X); free(eps); free(rows); free(perm); free(fstd);
    return rc;
}

/* The supervised reference: same encoder and mu head, a linear classifier on
 * mu, cross-entropy on the labelled rows only (no augmentation). */
int ssl_supervised(ssl_model *m, const ssl_data *D, const int *idx, int n, const ssl_cfg *c, double lr,
                   int steps, uint64_t seed, dl_run *run)
{
    const int B = c->batch < n ? c->batch : n;
    float *X = malloc(sizeof(float) * (size_t)B * D->d);
    int *y = malloc(sizeof(int) * (size_t)B), *perm = malloc(sizeof(int) * (size_t)n);
    dl_graph *g = dl_graph_new();
    dl_rng r;
    dl_rng_init(&r, seed, 0x55f);
    dl_optim opt;
    dl_optim_init(&opt, &m->ps, DL_OPT_ADAMW, (float)lr);
    opt.weight_decay = (float)c->weight_decay;
    for (int i = 0; i < n; i++) perm[i] = idx[i];
    int pos = n, rc = 0;
    for (int step = 0; step < steps; step++) {
        for (int i = 0; i < B; i++) {
            if (pos >= n) { dl_rng_shuffle_int(&r, perm, n); pos = 0; }
            memcpy(X + (size_t)i * D->d, D->x + (size_t)perm[pos] * D->d, sizeof(float) * (size_t)D->d);
            y[i] = D->y[perm[pos++]];
        }
        dl_graph_set_training(g, lr > 0);
        dl_params_zero_grad(&m->ps);
        int s[2] = {B, D->d};
        dl_tensor *x = dl_tensor_wrap(g, X, 2, s);
        dl_tensor *logits = dl_linear_fwd(g, &m->cls, dl_linear_fwd(g, &m->mu, ssl_encode(g, m, x)));
        dl_tensor *loss = dl_cross_entropy(g, logits, y, NULL, -1);
        if (run && dl_check_finite(run, "supervised loss", loss->data[0], step)) { rc = -1; dl_graph_reset(g); break; }
        if (lr > 0) {
            dl_backward(g, loss);
            dl_clip_grad_norm(&m->ps, 5.0);
            dl_optim_step(&opt, dl_lr_at(DL_SCHED_COSINE, (float)lr, 0.f, step, 0, steps));
        }
        dl_graph_reset(g);
    }
    dl_optim_free(&opt);
    dl_graph_free(g);
    free(X); free(y); free(perm);
    return rc;
}
