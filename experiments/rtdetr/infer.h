/* Inference entry points of a trained rtdetr checkpoint, for `dynlab eval` and
 * `dynlab detect` (tools/cmd_eval.c, tools/cmd_detect.c). */
#ifndef RTDETR_INFER_H
#define RTDETR_INFER_H

#include <stddef.h>
#include <stdint.h>
#include "rtdetr/coco.h"

/* Reads every image of ds (file names relative to data_dir; PNG or JPEG of
 * any size, which must match annotations.json's width and height) resized to
 * the model input: inputs [n_images, 3, S, S]. */
int rtdetr_load_dataset_inputs(const char *data_dir, const coco_dataset *ds, int S, float *inputs, char *err,
                               size_t errlen);

/* Detections of the checkpoint's model on every image of ds (image files
 * resolved relative to data_dir), as COCO results in image pixels. The
 * checkpoint's classes are mapped to ds's categories by name (by position
 * when a name is missing from ds or not unique there). */
int rtdetr_predict_dataset(const char *checkpoint, const char *data_dir, const coco_dataset *ds,
                           coco_det **dets, int *n, char *err, size_t errlen);

/* Detect on image files and write <out_dir>/<name>.png with the boxes drawn
 * and <out_dir>/detections.json. */
/* Colour of class c (any c >= 0) in `dynlab detect`'s drawings. */
void rtdetr_class_colour(int c, uint8_t rgb[3]);

/* Draw a box outline of colour col on an RGB image. */
void rtdetr_draw_box(uint8_t *rgb, int w, int h, const double b[4], const uint8_t col[3]);

int rtdetr_detect_files(const char *checkpoint, char **images, int n_images, const char *out_dir,
                        double score_thr, char *err, size_t errlen);

#endif
