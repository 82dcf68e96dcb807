/* Set-prediction losses (RT-DETR, arXiv 2304.08069, Sec. 4 and its
 * HungarianMatcher / RTDETRCriterion) and the dense detector's one-to-many
 * assignment, plus box helpers. */
#ifndef RTDETR_LOSS_H
#define RTDETR_LOSS_H

#include "dynlab/core.h"
#include "rtdetr/model.h"

/* Ground truth of a batch: image b owns rows off[b] .. off[b]+n[b]-1 of box
 * (normalised cxcywh) and cls (0-based). */
typedef struct {
    int B;
    const int *off, *n;
    const float *box;
    const int *cls;
} det_targets;

typedef struct { double vfl, l1, giou; } loss_parts;

/* Matching cost of RT-DETR's HungarianMatcher for one prediction and one GT:
 * 2 * focal class cost (alpha 0.25, gamma 2) + 5 * L1(cxcywh) - 2 * GIoU. */
double rtdetr_match_cost(const float *logits, int gt_cls, const float pbox[4], const float gbox[4]);

/* Hungarian-matched loss of one prediction set [B, K, C] / [B, K, 4]:
 * varifocal (alpha 0.75, gamma 2) + 5 L1 + 2 GIoU, each over the number of
 * GT boxes. */
dl_tensor *rtdetr_set_loss(dl_graph *g, dl_tensor *logits, dl_tensor *boxes, const det_targets *t, loss_parts *parts);
/* Sum of the set loss over every decoder layer (and the encoder top-K). */
dl_tensor *rtdetr_total_loss(dl_graph *g, const rtdetr_out *o, const det_targets *t, loss_parts *last);
/* Dense detector: every location inside a GT's centre region is a candidate;
 * the top 10 by the task-alignment metric score^0.5 IoU^6 become positives
 * (one GT per location: the highest IoU); varifocal + 5 L1 + 2 GIoU over the
 * number of positives. */
dl_tensor *rtdetr_dense_loss(dl_graph *g, const rtdetr_model *m, const rtdetr_out *o, const det_targets *t,
                             loss_parts *parts);

/* IoU and GIoU of two normalised cxcywh boxes. */
double box_iou_cxcywh(const float a[4], const float b[4]);
double box_giou_cxcywh(const float a[4], const float b[4]);

#endif
