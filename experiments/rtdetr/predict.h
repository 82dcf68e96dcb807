/* Inference: batched forward in evaluation mode, post-processing to COCO
 * detections (RT-DETR: top-100 (query, class) scores, no NMS; dense
 * detector: class-wise NMS), and the model checkpoint. */
#ifndef RTDETR_PREDICT_H
#define RTDETR_PREDICT_H

#include <stddef.h>
#include "rtdetr/coco.h"
#include "rtdetr/model.h"

/* inputs: n images [3, size, size] (the model's size); img_w/img_h the
 * original sizes boxes are scaled to; ids for the results. Appends to
 * *dets (realloc'ed). Returns 0 or -1 (out of memory). */
int rtdetr_predict(rtdetr_model *m, const float *inputs, int n, const int *img_w, const int *img_h,
                   const long *img_ids, const long *cat_ids, coco_det **dets, int *nd);

/* Most classes a model (and a checkpoint) may have. */
#define RTDETR_MAX_CLASSES 100

/* Checkpoint: every parameter and batch-norm statistic, with the model's
 * shape and class names in the metadata. */
int rtdetr_save(const rtdetr_model *m, const char *path, const char *const *class_names, char *err, size_t errlen);
/* Loads a checkpoint written by rtdetr_save; class_names (optional) receives
 * up to max_names names of 64 bytes. */
int rtdetr_load(rtdetr_model *m, const char *path, char names[][64], int max_names, char *err, size_t errlen);

#endif
