/* rtdetr: RT-DETR (arXiv 2304.08069) for diabetic-retinopathy lesion
 * detection (arXiv 2501.16469), against vanilla DETR and a dense anchor-free
 * detector with NMS, on COCO-format data with COCO-exact evaluation. */
#ifndef RTDETR_RTDETR_H
#define RTDETR_RTDETR_H

#include "dynlab/config.h"
#include "dynlab/run.h"

typedef struct {
    int size, n_train, n_val, max_lesions;
    double cluster_p, noise;
    int width, d, heads, ffn, queries, dec_layers;
    int steps, batch, eval_every;
    double lr, weight_decay, clip;
    double score_thr, ap_floor;
    char train_dir[DL_STR_MAX], val_dir[DL_STR_MAX]; /* COCO folders; empty: the generator */
} rtdetr_cfg;

int rtdetr_run(const void *cfg, dl_run *run);

#endif
