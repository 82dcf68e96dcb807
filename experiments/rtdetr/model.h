/* The three detectors on one small ResNet-style backbone (three scales):
 *   RTDETR_FULL  RT-DETR: hybrid encoder (AIFI on the top map + CCFF fusion),
 *                IoU-aware top-K query selection, decoder with iterative box
 *                refinement and a loss at every layer (arXiv 2304.08069, Sec. 4);
 *   RTDETR_DETR  vanilla DETR: one encoder layer over the top map only, learned
 *                object queries, no refinement (Carion et al. 2020);
 *   RTDETR_DENSE a dense anchor-free single-stage detector (the YOLO family's
 *                design): the CNN fusion neck, a class and box prediction at
 *                every location, one-to-many assignment and NMS. */
#ifndef RTDETR_MODEL_H
#define RTDETR_MODEL_H

#include "dynlab/conv.h"
#include "dynlab/core.h"
#include "dynlab/nn.h"

enum { RTDETR_FULL = 0, RTDETR_DETR = 1, RTDETR_DENSE = 2 };
#define RTDETR_LEVELS 3
#define RTDETR_MAX_DEC 6

typedef struct { dl_conv2d_m conv; dl_batchnorm_m bn; } convbn;
typedef struct { convbn a, b, sc; } basic_block;
typedef struct { convbn c1, c2, rep3, rep1; } csp_rep; /* one RepVGG block inside */
typedef struct { dl_linear q, k, v, o, f1, f2; dl_layernorm_m n1, n2; } enc_layer;
typedef struct {
    dl_linear sq, sk, sv, so, cq, ck, cv, co, f1, f2;
    dl_layernorm_m n1, n2, n3;
    dl_linear cls, box1, box2, box3;
} dec_layer;

typedef struct {
    int kind, size, width, d, heads, ffn, n_classes, queries, dec_layers;
    int hw[RTDETR_LEVELS];     /* map side per level (strides 4, 8, 16) */
    int tokens;                /* sum of hw^2 (one level for DETR) */
    dl_params ps;
    convbn stem;
    basic_block blocks[3];
    convbn proj[RTDETR_LEVELS];
    enc_layer aifi;
    convbn lateral[2], down[2];
    csp_rep fpn[2], pan[2];
    convbn dec_proj[RTDETR_LEVELS];
    dl_linear enc_out; dl_layernorm_m enc_norm;
    dl_linear enc_cls, enc_box1, enc_box2, enc_box3;
    dl_linear qpos1, qpos2;    /* MLP(4 -> 2d -> d) of the reference box */
    dl_tensor *query_embed;    /* DETR: learned query positions [K, d] */
    dec_layer dec[RTDETR_MAX_DEC];
    convbn dense_stem[RTDETR_LEVELS];
    dl_conv2d_m dense_cls[RTDETR_LEVELS], dense_box[RTDETR_LEVELS];
    float *mem_pos;            /* [tokens, d] fixed sine-cosine embedding of the memory */
    float *aifi_pos;           /* [hw_top^2, d] */
    float *anchors;            /* [tokens, 4] logit-space anchors (+inf when masked) */
    float *valid;              /* [tokens] 1 / 0 */
} rtdetr_model;

/* Outputs of one forward. Boxes are normalised cxcywh in (0, 1). */
typedef struct {
    int B, K, C, n_layers;
    dl_tensor *logits[RTDETR_MAX_DEC + 1]; /* [B, K, C]: decoder layers, then the encoder top-K (last) */
    dl_tensor *boxes[RTDETR_MAX_DEC + 1];  /* [B, K, 4] */
    int has_enc;                           /* RT-DETR: entry n_layers is the encoder top-K */
} rtdetr_out;

int rtdetr_model_init(rtdetr_model *m, int kind, int size, int width, int d, int heads, int ffn, int n_classes,
                      int queries, int dec_layers, uint64_t seed);
void rtdetr_model_free(rtdetr_model *m);
/* x: [B, 3, size, size]. For the dense detector K = tokens. */
void rtdetr_forward(dl_graph *g, rtdetr_model *m, dl_tensor *x, rtdetr_out *out);

/* 2-D sine-cosine position embedding (arXiv 2304.08069, AIFI): for token
 * (x, y), d/4 frequencies w_k = 1/10000^(k/(d/4)), [sin(x w), cos(x w),
 * sin(y w), cos(y w)]. out [n, d] for coordinates xs, ys. */
void rtdetr_sincos_embed(const float *xs, const float *ys, int n, int d, float *out);

#endif
