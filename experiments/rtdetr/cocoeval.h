/* COCO detection evaluation exactly as pycocotools' COCOeval (iouType "bbox")
 * defines it: IoU thresholds 0.50:0.05:0.95, 101 recall points, maxDets
 * 1/10/100, area ranges all/small/medium/large, crowd handling, greedy
 * matching by score (docs/papers/rtdetr.md, "Evaluation"). */
#ifndef RTDETR_COCOEVAL_H
#define RTDETR_COCOEVAL_H

typedef struct {
    long id;            /* annotation id, > 0 */
    long image_id;
    long category_id;
    double bbox[4];     /* x, y, w, h in pixels */
    double area;        /* the annotation's "area" (w*h when the file has none) */
    int iscrowd;
} coco_gt;

typedef struct {
    long image_id;
    long category_id;
    double bbox[4];     /* x, y, w, h */
    double score;
} coco_det;

/* stats[] in pycocotools' summarize() order:
 * 0 AP, 1 AP50, 2 AP75, 3 APs, 4 APm, 5 APl, 6 AR1, 7 AR10, 8 AR100,
 * 9 ARs, 10 ARm, 11 ARl. -1 where pycocotools prints -1 (nothing to average). */
typedef struct {
    double stats[12];
} coco_stats;

/* Evaluate detections against ground truth over the given image ids and
 * category ids (each any order; evaluated sorted, as pycocotools does).
 * Returns 0, or -1 on allocation failure. */
int coco_evaluate(const coco_gt *gt, int ngt, const coco_det *dt, int ndt, const long *img_ids,
                  int nimg, const long *cat_ids, int ncat, coco_stats *out);

/* AP@[.50:.95] (maxDets 100) with one area range [lo, hi] in place of
 * "all" (same rules: GTs outside are ignored, as are unmatched detections
 * outside). -1 when no GT falls in the range. */
double coco_ap_area(const coco_gt *gt, int ngt, const coco_det *dt, int ndt, const long *img_ids, int nimg,
                    const long *cat_ids, int ncat, double lo, double hi);

/* Precision and recall at one IoU threshold and one score threshold:
 * detections with score >= score_thr (top 100 per image and class), matched
 * greedily by score as above over all classes pooled (crowd GTs and their
 * matches ignored). precision = TP / (TP + FP), recall = TP / #non-crowd GT
 * (0 when the denominator is 0). */
void coco_precision_recall(const coco_gt *gt, int ngt, const coco_det *dt, int ndt, double iou_thr,
                           double score_thr, double *precision, double *recall);

/* pycocotools' bbox IoU (maskApi.c bbIou): for a crowd GT the union is the
 * detection's area. */
double coco_bbox_iou(const double d[4], const double g[4], int crowd);

#endif
