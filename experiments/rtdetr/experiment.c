/* Registration of `rtdetr`: RT-DETR for diabetic-retinopathy lesion detection
 * (arXiv 2501.16469) built on the original RT-DETR (arXiv 2304.08069), against
 * vanilla DETR and a dense anchor-free detector. docs/papers/rtdetr.md
 * explains every reconstructed choice. */
#include <stddef.h>
#include <stdio.h>
#include "dynlab/experiment.h"
#include "rtdetr/rtdetr.h"

int dl_check_rtdetr(const void *cfgv, char *err, size_t errlen)
{
    const rtdetr_cfg *c = cfgv;
    if (c->size % 16) {
        snprintf(err, errlen, "data.size must be a multiple of 16 (three feature scales at strides 4, 8, 16)");
        return -1;
    }
    if (c->d % c->heads || c->d % 4) {
        snprintf(err, errlen, "model.d must be divisible by model.heads and by 4 (sine-cosine embedding)");
        return -1;
    }
    if (!c->train_dir[0] != !c->val_dir[0]) {
        snprintf(err, errlen, "data.train_dir and data.val_dir must be given together (or neither, for the generator)");
        return -1;
    }
    if (c->max_lesions > c->queries) {
        snprintf(err, errlen, "data.max_lesions must not exceed model.queries (one query per lesion)");
        return -1;
    }
    return 0;
}

static const dl_field fields[] = {
    DL_FIELD_INT(rtdetr_cfg, size, "data.size", 64, 32, 1024, "generated image side and model input size (pixels)"),
    DL_FIELD_STRING(rtdetr_cfg, train_dir, "data.train_dir", "",
                    "COCO folder to train on (DIR/annotations.json, images resized to data.size); empty: generated data"),
    DL_FIELD_STRING(rtdetr_cfg, val_dir, "data.val_dir", "", "COCO folder to validate on, with data.train_dir"),
    DL_FIELD_INT(rtdetr_cfg, n_train, "data.n_train", 256, 8, 1000000, "generated training images"),
    DL_FIELD_INT(rtdetr_cfg, n_val, "data.n_val", 64, 4, 100000, "generated validation images"),
    DL_FIELD_INT(rtdetr_cfg, max_lesions, "data.max_lesions", 12, 0, 1000, "lesions per image at most"),
    DL_FIELD_DOUBLE(rtdetr_cfg, cluster_p, "data.cluster_p", 0.5, 0, 1, "probability of dense lesion clusters in an image"),
    DL_FIELD_DOUBLE(rtdetr_cfg, noise, "data.noise", 0.02, 0, 1, "pixel noise std"),
    DL_FIELD_INT(rtdetr_cfg, width, "model.width", 16, 4, 256, "backbone stem channels (x2, x4, x8 at the three scales)"),
    DL_FIELD_INT(rtdetr_cfg, d, "model.d", 32, 8, 1024, "hidden dimension of encoder and decoder"),
    DL_FIELD_INT(rtdetr_cfg, heads, "model.heads", 4, 1, 64, "attention heads"),
    DL_FIELD_INT(rtdetr_cfg, ffn, "model.ffn", 64, 8, 8192, "feed-forward width"),
    DL_FIELD_INT(rtdetr_cfg, queries, "model.queries", 30, 1, 1000, "object queries (top-K selected tokens)"),
    DL_FIELD_INT(rtdetr_cfg, dec_layers, "model.dec_layers", 2, 1, 6, "decoder layers (each with its own loss)"),
    DL_FIELD_INT(rtdetr_cfg, steps, "train.steps", 200, 1, 10000000, "training steps per detector (same for all three)"),
    DL_FIELD_INT(rtdetr_cfg, batch, "train.batch", 8, 1, 1024, "images per step"),
    DL_FIELD_INT(rtdetr_cfg, eval_every, "train.eval_every", 50, 1, 10000000, "steps between validation AP evaluations"),
    DL_FIELD_DOUBLE(rtdetr_cfg, lr, "train.lr", 1e-3, 0, 10, "AdamW learning rate"),
    DL_FIELD_DOUBLE(rtdetr_cfg, weight_decay, "train.weight_decay", 1e-4, 0, 10, "AdamW weight decay"),
    DL_FIELD_DOUBLE(rtdetr_cfg, clip, "train.clip", 1.0, 0, 1000, "gradient-norm clip (0 = off)"),
    DL_FIELD_DOUBLE(rtdetr_cfg, score_thr, "claims.score_thr", 0.3, 0, 1, "score threshold of precision and recall"),
    DL_FIELD_DOUBLE(rtdetr_cfg, ap_floor, "claims.ap_floor", 0.05, 0, 1, "RT-DETR's AP50 must reach this for a comparison to count"),
};

static const dl_config_schema schema = {fields, (int)(sizeof fields / sizeof fields[0]), sizeof(rtdetr_cfg)};

static const dl_preset presets[] = {
    {"quick", "{}"},
    {"paper", "{\"data\": {\"size\": 128, \"n_train\": 1000, \"n_val\": 200, \"max_lesions\": 24},"
              " \"model\": {\"width\": 16, \"d\": 64, \"heads\": 8, \"ffn\": 256, \"queries\": 60, \"dec_layers\": 3},"
              " \"train\": {\"steps\": 2000, \"eval_every\": 250}}"},
    {NULL, NULL},
};

const dl_experiment dl_exp_rtdetr = {
    .name = "rtdetr",
    .title = "Object Detection for Medical Image Analysis: Insights from the RT-DETR Model",
    .arxiv = "2501.16469",
    .summary = "RT-DETR (a CNN backbone, an efficient hybrid encoder, IoU-aware query selection and a "
               "transformer decoder trained with Hungarian matching, no NMS) detects diabetic-retinopathy "
               "lesions in fundus images and beats YOLO-style dense detectors and DETR on precision, recall, "
               "mAP50 and mAP50-95, especially on small and densely packed lesions.",
    .schema = &schema,
    .presets = presets,
    .run = rtdetr_run,
};
