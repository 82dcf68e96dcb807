/* Hand-made COCO evaluation cases (ties, duplicates, empty images, every area
 * range, crowd, maxDets) with the stats of the independent Python
 * transcription of pycocotools (tests/rtdetr_cocoeval_ref.py). */
#ifndef RTDETR_COCO_CASES_H
#define RTDETR_COCO_CASES_H

#include "rtdetr/cocoeval.h"

typedef struct {
    const char *name;
    const coco_gt *gt;
    int ngt;
    const coco_det *dt;
    int ndt;
    const long *img_ids;
    int nimg;
    const long *cat_ids;
    int ncat;
    double expected[12];
} coco_case;

extern const coco_case coco_cases[];
extern const int coco_n_cases;

#endif
