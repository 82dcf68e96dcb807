/* The detectors' modules and forward passes (see model.h). Section numbers
 * refer to RT-DETR, arXiv 2304.08069; the settings of rtdetr_pytorch that we
 * scale down are listed in docs/papers/rtdetr.md. */
#include "rtdetr/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void lin_init(dl_linear *m, dl_params *ps, const char *pre, const char *name, int in, int out, dl_rng *r)
{
    char buf[160];
    snprintf(buf, sizeof buf, "%s.%s", pre, name);
    dl_linear_init(m, ps, buf, in, out, 1, r);
    float b = sqrtf(6.0f / (float)(in + out)); /* xavier_uniform, as torch's transformer layers */
    dl_init_uniform(m->weight, r, -b, b);
}

static void cbn_init(convbn *m, dl_params *ps, const char *pre, const char *name, int in, int out, int k, int s,
                     dl_rng *r)
{
    char buf[160];
    snprintf(buf, sizeof buf, "%s.%s.conv", pre, name);
    dl_conv2d_init(&m->conv, ps, buf, in, out, k, s, k / 2, 1, 1, 0, r);
    snprintf(buf, sizeof buf, "%s.%s.bn", pre, name);
    dl_batchnorm_init(&m->bn, ps, buf, out);
}

enum { ACT_NONE = 0, ACT_RELU = 1, ACT_SILU = 2 };
static dl_tensor *cbn(dl_graph *g, const convbn *m, dl_tensor *x, int act)
{
    dl_tensor *y = dl_batchnorm_fwd(g, &m->bn, dl_conv2d_fwd(g, &m->conv, x));
    return act == ACT_RELU ? dl_relu(g, y) : act == ACT_SILU ? dl_silu(g, y) : y;
}

static dl_tensor *lin(dl_graph *g, const dl_linear *m, dl_tensor *x) { return dl_linear_fwd(g, m, x); }

/* [B, C, H, W] -> [B, H*W, C] */
static dl_tensor *to_tokens(dl_graph *g, dl_tensor *x)
{
    int sh[3] = {x->shape[0], x->shape[1], x->shape[2] * x->shape[3]};
    return dl_transpose(g, dl_reshape(g, x, 3, sh), 1, 2);
}
/* [B, H*W, C] -> [B, C, H, W] */
static dl_tensor *to_map(dl_graph *g, dl_tensor *t, int h)
{
    int sh[4] = {t->shape[0], t->shape[2], h, h};
    return dl_reshape(g, dl_transpose(g, t, 1, 2), 4, sh);
}

void rtdetr_sincos_embed(const float *xs, const float *ys, int n, int d, float *out)
{
    int pd = d / 4;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < pd; k++) {
            double w = 1.0 / pow(10000.0, (double)k / pd);
            out[(size_t)i * d + k] = (float)sin(xs[i] * w);
            out[(size_t)i * d + pd + k] = (float)cos(xs[i] * w);
            out[(size_t)i * d + 2 * pd + k] = (float)sin(ys[i] * w);
            out[(size_t)i * d + 3 * pd + k] = (float)cos(ys[i] * w);
        }
}

static void enc_layer_init(enc_layer *e, dl_params *ps, const char *pre, int d, int ffn, dl_rng *r)
{
    lin_init(&e->q, ps, pre, "q", d, d, r);
    lin_init(&e->k, ps, pre, "k", d, d, r);
    lin_init(&e->v, ps, pre, "v", d, d, r);
    lin_init(&e->o, ps, pre, "o", d, d, r);
    lin_init(&e->f1, ps, pre, "ffn1", d, ffn, r);
    lin_init(&e->f2, ps, pre, "ffn2", ffn, d, r);
    char buf[160];
    snprintf(buf, sizeof buf, "%s.norm1", pre);
    dl_layernorm_init(&e->n1, ps, buf, d);
    snprintf(buf, sizeof buf, "%s.norm2", pre);
    dl_layernorm_init(&e->n2, ps, buf, d);
}

/* AIFI (Sec. 4.2): one post-norm transformer encoder layer; the position
 * embedding is added to queries and keys only. t [B, n, d], pos [n, d]. */
static dl_tensor *enc_layer_fwd(dl_graph *g, const enc_layer *e, dl_tensor *t, dl_tensor *pos, int heads)
{
    dl_tensor *qk = dl_add(g, t, pos);
    float sc = 1.0f / sqrtf((float)(t->shape[2] / heads));
    dl_tensor *a = dl_attention_heads(g, lin(g, &e->q, qk), lin(g, &e->k, qk), lin(g, &e->v, t), heads, sc, 0, NULL);
    t = dl_layernorm_fwd(g, &e->n1, dl_add(g, t, lin(g, &e->o, a)));
    dl_tensor *f = lin(g, &e->f2, dl_gelu(g, lin(g, &e->f1, t)));
    return dl_layernorm_fwd(g, &e->n2, dl_add(g, t, f));
}

static void csp_init(csp_rep *c, dl_params *ps, const char *pre, int in, int out, dl_rng *r)
{
    cbn_init(&c->c1, ps, pre, "conv1", in, out, 1, 1, r);
    cbn_init(&c->c2, ps, pre, "conv2", in, out, 1, 1, r);
    cbn_init(&c->rep3, ps, pre, "rep.conv3", out, out, 3, 1, r);
    cbn_init(&c->rep1, ps, pre, "rep.conv1", out, out, 1, 1, r);
}
/* CSPRepLayer (Sec. 4.2, CCFF fusion block) with one RepVGG block:
 * silu(bn(conv3x3 a) + bn(conv1x1 a)) + conv2(x), a = conv1(x). */
static dl_tensor *csp_fwd(dl_graph *g, const csp_rep *c, dl_tensor *x)
{
    dl_tensor *a = cbn(g, &c->c1, x, ACT_SILU), *b = cbn(g, &c->c2, x, ACT_SILU);
    a = dl_silu(g, dl_add(g, cbn(g, &c->rep3, a, ACT_NONE), cbn(g, &c->rep1, a, ACT_NONE)));
    return dl_add(g, a, b);
}

static void dec_layer_init(dec_layer *l, dl_params *ps, const char *pre, int d, int ffn, int C, dl_rng *r)
{
    lin_init(&l->sq, ps, pre, "self.q", d, d, r);
    lin_init(&l->sk, ps, pre, "self.k", d, d, r);
    lin_init(&l->sv, ps, pre, "self.v", d, d, r);
    lin_init(&l->so, ps, pre, "self.o", d, d, r);
    lin_init(&l->cq, ps, pre, "cross.q", d, d, r);
    lin_init(&l->ck, ps, pre, "cross.k", d, d, r);
    lin_init(&l->cv, ps, pre, "cross.v", d, d, r);
    lin_init(&l->co, ps, pre, "cross.o", d, d, r);
    lin_init(&l->f1, ps, pre, "ffn1", d, ffn, r);
    lin_init(&l->f2, ps, pre, "ffn2", ffn, d, r);
    lin_init(&l->cls, ps, pre, "cls", d, C, r);
    lin_init(&l->box1, ps, pre, "box1", d, d, r);
    lin_init(&l->box2, ps, pre, "box2", d, d, r);
    lin_init(&l->box3, ps, pre, "box3", d, 4, r);
    dl_init_const(l->box3.weight, 0); /* last box layer zero-initialised (RT-DETR decoder) */
    dl_init_const(l->cls.bias, -logf((1 - 0.01f) / 0.01f)); /* focal-style prior 0.01 */
    char buf[160];
    for (int k = 0; k < 3; k++) {
        snprintf(buf, sizeof buf, "%s.norm%d", pre, k + 1);
        dl_layernorm_init(k == 0 ? &l->n1 : k == 1 ? &l->n2 : &l->n3, ps, buf, d);
    }
}

int rtdetr_model_init(rtdetr_model *m, int kind, int size, int width, int d, int heads, int ffn, int n_classes,
                      int queries, int dec_layers, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    if (size % 16 || size < 32 || d % 4 || d % heads || dec_layers < 1 || dec_layers > RTDETR_MAX_DEC) return -1;
    m->kind = kind; m->size = size; m->width = width; m->d = d; m->heads = heads; m->ffn = ffn;
    m->n_classes = n_classes; m->queries = queries; m->dec_layers = dec_layers;
    for (int l = 0; l < RTDETR_LEVELS; l++) m->hw[l] = size / (4 << l);
    dl_params_init(&m->ps);
    dl_rng r;
    dl_rng_init(&r, seed, 0x5eed0000ULL + (uint64_t)kind);
    dl_params *ps = &m->ps;
    int w = width;
    cbn_init(&m->stem, ps, "backbone", "stem", 3, w, 3, 2, &r);
    for (int b = 0; b < 3; b++) {
        char pre[64];
        int in = w << b, out = w << (b + 1);
        snprintf(pre, sizeof pre, "backbone.block%d", b);
        cbn_init(&m->blocks[b].a, ps, pre, "a", in, out, 3, 2, &r);
        cbn_init(&m->blocks[b].b, ps, pre, "b", out, out, 3, 1, &r);
        cbn_init(&m->blocks[b].sc, ps, pre, "shortcut", in, out, 1, 2, &r);
    }
    for (int l = 0; l < RTDETR_LEVELS; l++) {
        if (kind == RTDETR_DETR && l < 2) continue;
        char nm[32];
        snprintf(nm, sizeof nm, "proj%d", l);
        cbn_init(&m->proj[l], ps, "encoder", nm, w << (l + 1), d, 1, 1, &r);
    }
    if (kind != RTDETR_DENSE) enc_layer_init(&m->aifi, ps, "encoder.aifi", d, ffn, &r);
    if (kind != RTDETR_DETR) {
        for (int k = 0; k < 2; k++) {
            char nm[32];
            snprintf(nm, sizeof nm, "lateral%d", k);
            cbn_init(&m->lateral[k], ps, "encoder", nm, d, d, 1, 1, &r);
            snprintf(nm, sizeof nm, "down%d", k);
            cbn_init(&m->down[k], ps, "encoder", nm, d, d, 3, 2, &r);
            snprintf(nm, sizeof nm, "encoder.fpn%d", k);
            csp_init(&m->fpn[k], ps, nm, 2 * d, d, &r);
            snprintf(nm, sizeof nm, "encoder.pan%d", k);
            csp_init(&m->pan[k], ps, nm, 2 * d, d, &r);
        }
    }
    /* token geometry: anchors, validity, memory position embedding */
    int lo = kind == RTDETR_DETR ? 2 : 0;
    m->tokens = 0;
    for (int l = lo; l < RTDETR_LEVELS; l++) m->tokens += m->hw[l] * m->hw[l];
    int T = m->tokens, ht = m->hw[2];
    m->mem_pos = malloc(sizeof(float) * (size_t)T * d);
    m->aifi_pos = malloc(sizeof(float) * (size_t)ht * ht * d);
    m->anchors = malloc(sizeof(float) * (size_t)T * 4);
    m->valid = malloc(sizeof(float) * (size_t)T * d);
    float *xs = malloc(sizeof(float) * (size_t)T), *ys = malloc(sizeof(float) * (size_t)T);
    if (!m->mem_pos || !m->aifi_pos || !m->anchors || !m->valid || !xs || !ys) { free(xs); free(ys); return -1; }
    for (int i = 0, t = 0; i < ht; i++)
        for (int j = 0; j < ht; j++, t++) { xs[t] = (float)j; ys[t] = (float)i; }
    rtdetr_sincos_embed(xs, ys, ht * ht, d, m->aifi_pos);
    int t = 0;
    for (int l = lo; l < RTDETR_LEVELS; l++) {
        int h = m->hw[l];
        float scale = (float)m->hw[0] / (float)h;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < h; j++, t++) {
                float a[4] = {(j + 0.5f) / h, (i + 0.5f) / h, 0.05f * (float)(1 << (l - lo)), 0.05f * (float)(1 << (l - lo))};
                int ok = 1;
                for (int k = 0; k < 4; k++) ok &= a[k] > 0.01f && a[k] < 0.99f;
                for (int k = 0; k < 4; k++) m->anchors[t * 4 + k] = ok ? logf(a[k] / (1 - a[k])) : 1e4f;
                for (int k = 0; k < d; k++) m->valid[(size_t)t * d + k] = (float)ok;
                xs[t] = (j + 0.5f) * scale;
                ys[t] = (i + 0.5f) * scale;
            }
    }
    if (kind == RTDETR_DETR) memcpy(m->mem_pos, m->aifi_pos, sizeof(float) * (size_t)T * d);
    else rtdetr_sincos_embed(xs, ys, T, d, m->mem_pos);
    free(xs);
    free(ys);
    if (kind == RTDETR_DENSE) {
        for (int l = 0; l < RTDETR_LEVELS; l++) {
            char nm[64];
            snprintf(nm, sizeof nm, "stem%d", l);
            cbn_init(&m->dense_stem[l], ps, "head", nm, d, d, 3, 1, &r);
            snprintf(nm, sizeof nm, "head.cls%d", l);
            dl_conv2d_init(&m->dense_cls[l], ps, nm, d, n_classes, 1, 1, 0, 1, 1, 1, &r);
            dl_init_const(m->dense_cls[l].bias, -logf((1 - 0.01f) / 0.01f));
            snprintf(nm, sizeof nm, "head.box%d", l);
            dl_conv2d_init(&m->dense_box[l], ps, nm, d, 4, 1, 1, 0, 1, 1, 1, &r);
            dl_init_const(m->dense_box[l].weight, 0);
        }
        return 0;
    }
    if (kind == RTDETR_FULL) {
        for (int l = 0; l < RTDETR_LEVELS; l++) {
            char nm[32];
            snprintf(nm, sizeof nm, "proj%d", l);
            cbn_init(&m->dec_proj[l], ps, "decoder.input", nm, d, d, 1, 1, &r);
        }
        lin_init(&m->enc_out, ps, "decoder", "enc_output", d, d, &r);
        dl_layernorm_init(&m->enc_norm, ps, "decoder.enc_output_norm", d);
        lin_init(&m->enc_cls, ps, "decoder", "enc_score_head", d, n_classes, &r);
        dl_init_const(m->enc_cls.bias, -logf((1 - 0.01f) / 0.01f));
        lin_init(&m->enc_box1, ps, "decoder", "enc_bbox_head1", d, d, &r);
        lin_init(&m->enc_box2, ps, "decoder", "enc_bbox_head2", d, d, &r);
        lin_init(&m->enc_box3, ps, "decoder", "enc_bbox_head3", d, 4, &r);
        dl_init_const(m->enc_box3.weight, 0);
        lin_init(&m->qpos1, ps, "decoder", "query_pos_head1", 4, 2 * d, &r);
        lin_init(&m->qpos2, ps, "decoder", "query_pos_head2", 2 * d, d, &r);
    } else {
        int sh[2] = {queries, d};
        m->query_embed = dl_param_new(ps, "decoder.query_embed", 2, sh);
        dl_init_normal(m->query_embed, &r, 1.0f);
    }
    for (int l = 0; l < dec_layers; l++) {
        char pre[64];
        snprintf(pre, sizeof pre, "decoder.layer%d", l);
        dec_layer_init(&m->dec[l], ps, pre, d, ffn, n_classes, &r);
    }
    return 0;
}

void rtdetr_model_free(rtdetr_model *m)
{
    dl_params_free(&m->ps);
    free(m->mem_pos); free(m->aifi_pos); free(m->anchors); free(m->valid);
    memset(m, 0, sizeof *m);
}

static dl_tensor *backbone_level(dl_graph *g, const basic_block *b, dl_tensor *x)
{
    dl_tensor *y = cbn(g, &b->b, cbn(g, &b->a, x, ACT_RELU), ACT_NONE);
    return dl_relu(g, dl_add(g, y, cbn(g, &b->sc, x, ACT_NONE)));
}

static dl_tensor *attn(dl_graph *g, dl_tensor *q, dl_tensor *k, dl_tensor *v, int heads)
{
    float sc = 1.0f / sqrtf((float)(q->shape[2] / heads));
    return dl_attention_heads(g, q, k, v, heads, sc, 0, NULL);
}

static dl_tensor *box_mlp(dl_graph *g, const dl_linear *a, const dl_linear *b, const dl_linear *c, dl_tensor *x)
{
    return lin(g, c, dl_relu(g, lin(g, b, dl_relu(g, lin(g, a, x)))));
}

static dl_tensor *const_copy(dl_graph *g, const float *src, int ndim, const int *shape)
{
    dl_tensor *t = dl_tensor_new(g, ndim, shape);
    memcpy(t->data, src, sizeof(float) * (size_t)t->size);
    return t;
}

void rtdetr_forward(dl_graph *g, rtdetr_model *m, dl_tensor *x, rtdetr_out *out)
{
    const int B = x->shape[0], d = m->d, C = m->n_classes, T = m->tokens;
    memset(out, 0, sizeof *out);
    out->B = B;
    out->C = C;
    dl_tensor *c[RTDETR_LEVELS];
    dl_tensor *h = cbn(g, &m->stem, x, ACT_RELU);
    for (int l = 0; l < RTDETR_LEVELS; l++) h = c[l] = backbone_level(g, &m->blocks[l], h);
    int tsh[2] = {T, d}, psh2[2] = {m->hw[2] * m->hw[2], d};
    dl_tensor *mem_pos = dl_tensor_wrap(g, m->mem_pos, 2, tsh);
    dl_tensor *memory;
    if (m->kind == RTDETR_DETR) {
        /* vanilla DETR: one encoder layer over the single top map */
        dl_tensor *p2 = cbn(g, &m->proj[2], c[2], ACT_NONE);
        memory = enc_layer_fwd(g, &m->aifi, to_tokens(g, p2), dl_tensor_wrap(g, m->aifi_pos, 2, psh2), m->heads);
    } else {
        dl_tensor *p[RTDETR_LEVELS];
        for (int l = 0; l < RTDETR_LEVELS; l++) p[l] = cbn(g, &m->proj[l], c[l], ACT_NONE);
        dl_tensor *f2 = p[2];
        if (m->kind == RTDETR_FULL) /* AIFI on the top map only (Sec. 4.2) */
            f2 = to_map(g, enc_layer_fwd(g, &m->aifi, to_tokens(g, p[2]), dl_tensor_wrap(g, m->aifi_pos, 2, psh2),
                                         m->heads), m->hw[2]);
        /* CCFF: top-down then bottom-up fusion (PAN) */
        dl_tensor *lat0 = cbn(g, &m->lateral[0], f2, ACT_SILU);
        dl_tensor *cat[2] = {dl_upsample2d(g, lat0, m->hw[1], m->hw[1], DL_UPSAMPLE_NEAREST), p[1]};
        dl_tensor *t1 = csp_fwd(g, &m->fpn[0], dl_concat(g, cat, 2, 1));
        dl_tensor *lat1 = cbn(g, &m->lateral[1], t1, ACT_SILU);
        cat[0] = dl_upsample2d(g, lat1, m->hw[0], m->hw[0], DL_UPSAMPLE_NEAREST);
        cat[1] = p[0];
        dl_tensor *o[3];
        o[0] = csp_fwd(g, &m->fpn[1], dl_concat(g, cat, 2, 1));
        cat[0] = cbn(g, &m->down[0], o[0], ACT_SILU);
        cat[1] = lat1;
        o[1] = csp_fwd(g, &m->pan[0], dl_concat(g, cat, 2, 1));
        cat[0] = cbn(g, &m->down[1], o[1], ACT_SILU);
        cat[1] = lat0;
        o[2] = csp_fwd(g, &m->pan[1], dl_concat(g, cat, 2, 1));
        if (m->kind == RTDETR_DENSE) {
            dl_tensor *cl[3], *bx[3];
            for (int l = 0; l < RTDETR_LEVELS; l++) {
                dl_tensor *s = cbn(g, &m->dense_stem[l], o[l], ACT_SILU);
                cl[l] = to_tokens(g, dl_conv2d_fwd(g, &m->dense_cls[l], s));
                bx[l] = to_tokens(g, dl_conv2d_fwd(g, &m->dense_box[l], s));
            }
            int ash[2] = {T, 4};
            out->K = T;
            out->n_layers = 1;
            out->logits[0] = dl_concat(g, cl, 3, 1);
            out->boxes[0] = dl_sigmoid(g, dl_add(g, dl_concat(g, bx, 3, 1), dl_tensor_wrap(g, m->anchors, 2, ash)));
            return;
        }
        dl_tensor *mt[3];
        for (int l = 0; l < RTDETR_LEVELS; l++) mt[l] = to_tokens(g, cbn(g, &m->dec_proj[l], o[l], ACT_NONE));
        memory = dl_mul(g, dl_concat(g, mt, 3, 1), dl_tensor_wrap(g, m->valid, 2, tsh));
    }
    const int K = m->queries;
    out->K = K;
    out->n_layers = m->dec_layers;
    int bkd[3] = {B, K, d}, bk4[3] = {B, K, 4};
    dl_tensor *tgt, *ref_un = NULL, *pos = NULL;
    float *refbuf = dl_graph_alloc(g, sizeof(float) * (size_t)B * K * 4);
    if (m->kind == RTDETR_FULL) {
        /* IoU-aware query selection (Sec. 4.3): top-K tokens by class score */
        dl_tensor *eo = dl_layernorm_fwd(g, &m->enc_norm, lin(g, &m->enc_out, memory));
        dl_tensor *ecls = lin(g, &m->enc_cls, eo);
        int ash[2] = {T, 4};
        dl_tensor *ebox = dl_add(g, box_mlp(g, &m->enc_box1, &m->enc_box2, &m->enc_box3, eo),
                                 dl_tensor_wrap(g, m->anchors, 2, ash));
        int *ids = dl_graph_alloc(g, sizeof(int) * (size_t)B * K);
        float *best = dl_graph_alloc(g, sizeof(float) * (size_t)T);
        int *ord = dl_graph_alloc(g, sizeof(int) * (size_t)T);
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                const float *row = ecls->data + ((size_t)b * T + t) * C;
                float v = row[0];
                for (int k = 1; k < C; k++) v = row[k] > v ? row[k] : v;
                best[t] = m->valid[(size_t)t * d] > 0 ? v : -INFINITY;
                ord[t] = t;
            }
            /* partial selection sort of the K best (ties: lower index first) */
            for (int k = 0; k < K && k < T; k++) {
                int bi = k;
                for (int t = k + 1; t < T; t++)
                    if (best[ord[t]] > best[ord[bi]]) bi = t;
                int tmp = ord[k]; ord[k] = ord[bi]; ord[bi] = tmp;
                ids[b * K + k] = b * T + ord[k];
            }
        }
        int flat_c[2] = {B * T, C}, flat_4[2] = {B * T, 4}, flat_d[2] = {B * T, d}, bk[2] = {B, K};
        dl_tensor *etl = dl_embedding(g, dl_reshape(g, ecls, 2, flat_c), ids, 2, bk);
        dl_tensor *etb = dl_embedding(g, dl_reshape(g, ebox, 2, flat_4), ids, 2, bk);
        out->logits[m->dec_layers] = etl;
        out->boxes[m->dec_layers] = dl_sigmoid(g, etb);
        out->has_enc = 1;
        /* detached initial reference boxes and content queries */
        memcpy(refbuf, etb->data, sizeof(float) * (size_t)B * K * 4);
        dl_tensor *eg = dl_embedding(g, dl_reshape(g, eo, 2, flat_d), ids, 2, bk);
        tgt = const_copy(g, eg->data, 3, bkd);
    } else {
        tgt = dl_tensor_zeros(g, 3, bkd);
        pos = m->query_embed;
    }
    for (int l = 0; l < m->dec_layers; l++) {
        const dec_layer *L = &m->dec[l];
        if (m->kind == RTDETR_FULL) {
            for (int i = 0; i < B * K * 4; i++) refbuf[i] = fminf(fmaxf(refbuf[i], -11.5f), 11.5f);
            ref_un = const_copy(g, refbuf, 3, bk4);
            pos = lin(g, &m->qpos2, dl_relu(g, lin(g, &m->qpos1, dl_sigmoid(g, ref_un))));
        }
        dl_tensor *q = dl_add(g, tgt, pos);
        tgt = dl_layernorm_fwd(g, &L->n1, dl_add(g, tgt, lin(g, &L->so, attn(g, lin(g, &L->sq, q), lin(g, &L->sk, q),
                                                                            lin(g, &L->sv, tgt), m->heads))));
        q = dl_add(g, tgt, pos);
        dl_tensor *kk = dl_add(g, memory, mem_pos);
        tgt = dl_layernorm_fwd(g, &L->n2, dl_add(g, tgt, lin(g, &L->co, attn(g, lin(g, &L->cq, q), lin(g, &L->ck, kk),
                                                                            lin(g, &L->cv, memory), m->heads))));
        tgt = dl_layernorm_fwd(g, &L->n3, dl_add(g, tgt, lin(g, &L->f2, dl_relu(g, lin(g, &L->f1, tgt)))));
        dl_tensor *bd = box_mlp(g, &L->box1, &L->box2, &L->box3, tgt);
        if (m->kind == RTDETR_FULL) bd = dl_add(g, bd, ref_un); /* iterative refinement */
        out->boxes[l] = dl_sigmoid(g, bd);
        out->logits[l] = lin(g, &L->cls, tgt);
        if (m->kind == RTDETR_FULL) memcpy(refbuf, bd->data, sizeof(float) * (size_t)B * K * 4);
    }
}
