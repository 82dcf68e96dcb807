/* Procedural fundus photographs with diabetic-retinopathy lesions and their
 * COCO boxes: a dark surround, the retinal disc with low-frequency texture and
 * vignetting, the optic disc, a vessel tree, the macula, and four lesion
 * classes from a few pixels up, partly in dense clusters
 * (docs/papers/rtdetr.md, "Data"). */
#ifndef RTDETR_FUNDUS_H
#define RTDETR_FUNDUS_H

#include <stdint.h>
#include "rtdetr/coco.h"

enum { FUNDUS_MA = 1, FUNDUS_HE = 2, FUNDUS_EX = 3, FUNDUS_SE = 4, FUNDUS_N_CLASSES = 4 };
extern const char *const fundus_class_names[FUNDUS_N_CLASSES];

typedef struct {
    int size;          /* image side, pixels */
    int max_lesions;   /* lesions per image at most */
    double cluster_p;  /* probability that an image has dense clusters */
    double noise;      /* pixel noise std (0..1 scale) */
} fundus_opts;

/* n images; rgb: n * size * size * 3 bytes (malloc'ed); ds: images with ids
 * 1..n (file_name "images/NNNNN.png") and annotations. Deterministic in
 * (seed, stream). */
int fundus_generate(const fundus_opts *o, int n, uint64_t seed, uint64_t stream, uint8_t **rgb, coco_dataset *ds);

/* Write ds and the images to dir (dir/annotations.json, dir/images/). */
int fundus_write_folder(const char *dir, const coco_dataset *ds, const uint8_t *rgb, int size, char *err,
                        size_t errlen);

#endif
