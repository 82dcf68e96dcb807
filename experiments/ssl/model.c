/* Encoder g, variational head (mu, log sigma^2), projection head p(z) and
 * decoder d(z) (docs/papers/ssl.md, "What we built"). The CNN encoder is two
 * conv-BN-ReLU-maxpool stages and a linear layer; the table encoder an MLP with
 * LayerNorm. Weights are drawn as PyTorch's defaults. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ssl/ssl.h"

/* torch.nn.Linear's default: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias. */
static void lin(ssl_model *m, dl_linear *l, const char *name, int in, int out, dl_rng *r)
{
    dl_linear_init(l, &m->ps, name, in, out, 1, r);
    float b = 1.f / sqrtf((float)in);
    dl_init_uniform(l->weight, r, -b, b);
    dl_init_uniform(l->bias, r, -b, b);
}

void ssl_model_init(ssl_model *m, const ssl_data *D, const ssl_cfg *c, int n_classes, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    dl_params_init(&m->ps);
    dl_rng r;
    dl_rng_init(&r, seed, 0x55100);
    m->is_image = D->is_image;
    m->d = D->d; m->h = D->h; m->w = D->w;
    m->zdim = c->zdim;
    m->n_classes = n_classes;
    if (D->is_image) {
        m->hidden = c->hidden;
        dl_conv2d_init(&m->conv1, &m->ps, "enc.conv1", 1, c->c1, 3, 1, 1, 1, 1, 1, &r);
        dl_batchnorm_init(&m->bn1, &m->ps, "enc.bn1", c->c1);
        dl_conv2d_init(&m->conv2, &m->ps, "enc.conv2", c->c1, c->c2, 3, 1, 1, 1, 1, 1, &r);
        dl_batchnorm_init(&m->bn2, &m->ps, "enc.bn2", c->c2);
        lin(m, &m->fc_h, "enc.fc", c->c2 * (D->h / 4) * (D->w / 4), c->hidden, &r);
    } else {
        m->hidden = c->tab_hidden;
        lin(m, &m->fc_in, "enc.fc1", D->d, c->tab_hidden, &r);
        dl_layernorm_init(&m->ln1, &m->ps, "enc.ln1", c->tab_hidden);
        lin(m, &m->fc2, "enc.fc2", c->tab_hidden, c->tab_hidden, &r);
        dl_layernorm_init(&m->ln2, &m->ps, "enc.ln2", c->tab_hidden);
    }
    lin(m, &m->mu, "var.mu", m->hidden, c->zdim, &r);
    lin(m, &m->logvar, "var.logvar", m->hidden, c->zdim, &r);
    lin(m, &m->proj1, "proj.fc1", c->zdim, c->proj_dim, &r);
    lin(m, &m->proj2, "proj.fc2", c->proj_dim, c->proj_dim, &r);
    lin(m, &m->dec1, "dec.fc1", c->zdim, m->hidden, &r);
    lin(m, &m->dec2, "dec.fc2", m->hidden, D->d, &r);
    lin(m, &m->cls, "cls", c->zdim, n_classes, &r);
    m->trunk_dim = D->is_image ? c->c2 * (D->h / 4) * (D->w / 4) : m->hidden;
    ssl_model_set_features(m, !strcmp(c->features, "mu") ? SSL_FEAT_MU : !strcmp(c->features, "trunk") ? SSL_FEAT_TRUNK
                                                                                                     : SSL_FEAT_H);
}

void ssl_model_set_features(ssl_model *m, int feat)
{
    if (feat == SSL_FEAT_TRUNK && !m->is_image) feat = SSL_FEAT_H; /* the MLP has no trunk below h */
    m->feat = feat;
    m->feat_dim = feat == SSL_FEAT_MU ? m->zdim : feat == SSL_FEAT_H ? m->hidden : m->trunk_dim;
}

void ssl_model_free(ssl_model *m) { dl_params_free(&m->ps); }

/* The CNN's convolutional trunk: two conv-BN-ReLU-maxpool stages, flattened to [N, c2 * h/4 * w/4]. */
static dl_tensor *encode_trunk(dl_graph *g, ssl_model *m, dl_tensor *x)
{
    const int N = x->shape[0];
    int s4[4] = {N, 1, m->h, m->w};
    dl_tensor *t = dl_reshape(g, x, 4, s4);
    t = dl_max_pool2d(g, dl_relu(g, dl_batchnorm_fwd(g, &m->bn1, dl_conv2d_fwd(g, &m->conv1, t))), 2, 2, 0);
    t = dl_max_pool2d(g, dl_relu(g, dl_batchnorm_fwd(g, &m->bn2, dl_conv2d_fwd(g, &m->conv2, t))), 2, 2, 0);
    int s2[2] = {N, t->shape[1] * t->shape[2] * t->shape[3]};
    return dl_reshape(g, t, 2, s2);
}

static dl_tensor *encode_h_from_trunk(dl_graph *g, ssl_model *m, dl_tensor *trunk)
{
    return dl_relu(g, dl_linear_fwd(g, &m->fc_h, trunk));
}

dl_tensor *ssl_encode(dl_graph *g, ssl_model *m, dl_tensor *x)
{
    if (m->is_image) return encode_h_from_trunk(g, m, encode_trunk(g, m, x));
    dl_tensor *t = dl_relu(g, dl_layernorm_fwd(g, &m->ln1, dl_linear_fwd(g, &m->fc_in, x)));
    return dl_relu(g, dl_layernorm_fwd(g, &m->ln2, dl_linear_fwd(g, &m->fc2, t)));
}

void ssl_features(ssl_model *m, const float *x, int n, float *feat)
{
    dl_graph *g = dl_graph_new();
    dl_graph_set_training(g, 0);
    dl_graph_set_grad_enabled(g, 0);
    const int B = 256;
    for (int i0 = 0; i0 < n; i0 += B) {
        int nb = n - i0 < B ? n - i0 : B;
        int s[2] = {nb, m->d};
        dl_tensor *xt = dl_tensor_wrap(g, (float *)(x + (size_t)i0 * m->d), 2, s);
        /* SimCLR (Chen et al. 2020, sections 2.1 and 4.2) probes the representation below every
         * layer of the MLP head: "trunk" is the CNN's pooled conv maps (below h's linear + ReLU),
         * "encoder" is h, "mu" the 32-d variational mean mu(h) (docs/papers/ssl.md). */
        dl_tensor *f = m->feat == SSL_FEAT_TRUNK ? encode_trunk(g, m, xt) : ssl_encode(g, m, xt);
        if (m->feat == SSL_FEAT_MU) f = dl_linear_fwd(g, &m->mu, f);
        memcpy(feat + (size_t)i0 * m->feat_dim, f->data, sizeof(float) * (size_t)nb * m->feat_dim);
        dl_graph_reset(g);
    }
    dl_graph_free(g);
}
