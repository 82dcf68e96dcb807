/* COCO-format detection datasets: the annotation JSON (images, categories,
 * annotations with bbox [x, y, w, h], area, iscrowd) and the results JSON (a
 * list of {image_id, category_id, bbox, score}), read with one clear error
 * line for every malformed part, and written back. */
#ifndef RTDETR_COCO_H
#define RTDETR_COCO_H

#include <stddef.h>
#include "rtdetr/cocoeval.h"

typedef struct {
    long id;
    char file_name[256];
    int width, height;
} coco_image;

typedef struct {
    long id;
    char name[64];
} coco_category;

typedef struct {
    coco_image *images;
    int n_images;
    coco_category *cats;
    int n_cats;
    coco_gt *anns;
    int n_anns;
} coco_dataset;

/* Largest annotation / results file accepted (bytes). */
#define COCO_MAX_JSON_BYTES (512LL << 20)

int coco_read(const char *path, coco_dataset *ds, char *err, size_t errlen);
int coco_write(const char *path, const coco_dataset *ds, char *err, size_t errlen);
void coco_free(coco_dataset *ds);
/* Index of the image / category with this id, or -1. */
int coco_image_index(const coco_dataset *ds, long id);
int coco_category_index(const coco_dataset *ds, long id);

/* Results: every entry's image_id and category_id must exist in ds. */
int coco_read_results(const char *path, const coco_dataset *ds, coco_det **dets, int *n, char *err,
                      size_t errlen);
int coco_write_results(const char *path, const coco_det *dets, int n, char *err, size_t errlen);

#endif
