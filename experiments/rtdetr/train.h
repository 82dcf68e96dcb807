/* Training and evaluation of one detector on in-memory data. */
#ifndef RTDETR_TRAIN_H
#define RTDETR_TRAIN_H

#include "dynlab/run.h"
#include "rtdetr/coco.h"
#include "rtdetr/cocoeval.h"
#include "rtdetr/model.h"
#include "rtdetr/rtdetr.h"

/* Images as model inputs and their targets (normalised cxcywh, class index). */
typedef struct {
    int n, S;
    float *inputs;       /* [n, 3, S, S] */
    int *off, *cnt;      /* per image rows of box / cls */
    float *box;
    int *cls;
    coco_dataset ds;     /* the same data in COCO form (pixels) */
} det_data;

/* From generated images (rgb: n * S * S * 3 bytes); takes ownership of ds. */
int det_data_from_coco(det_data *d, const coco_dataset *ds, const uint8_t *rgb, int S);
/* From a COCO folder (dir/annotations.json, images relative to dir, any size,
 * resized to S). Boxes are clipped to their image for training; the
 * evaluation uses the annotations as written (as `dynlab eval` does). Zero
 * images, a box with no area inside its image, more than RTDETR_MAX_CLASSES
 * categories, or a missing or unreadable file is an error (err, -1). */
int det_data_load_folder(det_data *d, const char *dir, int S, char *err, size_t errlen);
/* val must have the same categories (ids and names) as tr; val's category
 * list is then put in tr's order so class indices agree. */
int det_data_match_categories(det_data *val, const det_data *tr, const char *val_name, const char *tr_name, char *err,
                              size_t errlen);
void det_data_free(det_data *d);

typedef struct {
    double stats[12], precision, recall;
} eval_result;

/* Evaluate m on d: COCO stats and precision/recall at IoU 0.5 and score_thr.
 * dets_out (optional) receives the detections (caller frees). */
int rtdetr_evaluate(rtdetr_model *m, const det_data *d, double score_thr, eval_result *r, coco_det **dets_out,
                    int *nd_out);

#define TRAIN_MAX_LOG 4096
typedef struct {
    int n_loss, n_eval;
    double loss_step[TRAIN_MAX_LOG], loss[TRAIN_MAX_LOG];
    double eval_step[TRAIN_MAX_LOG], ap[TRAIN_MAX_LOG], ap50[TRAIN_MAX_LOG];
    double first_loss, last_loss, wall_s;
} train_log;

/* Train with AdamW on batches drawn by (seed, stream 7) (the same sequence for
 * every detector); untrained: forward and loss only, no update. Returns 0, or
 * -1 when the loss is not finite (the run has logged the error). */
int rtdetr_train(rtdetr_model *m, const char *label, const det_data *tr, const det_data *val, const rtdetr_cfg *c,
                 dl_run *run, int untrained, train_log *log);

#endif
