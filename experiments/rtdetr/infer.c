/* `dynlab eval` / `dynlab detect` on a saved checkpoint (see infer.h). */
#define _POSIX_C_SOURCE 200809L
#include "rtdetr/infer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "rtdetr/image_io.h"
#include "rtdetr/predict.h"

/* Reads one image file and resizes it to the model's input. */
static int load_input(const char *path, int S, float *input, int *w, int *h, char *err, size_t errlen)
{
    uint8_t *rgb;
    if (image_read_rgb(path, &rgb, w, h, err, errlen)) return -1;
    image_to_input(rgb, *w, *h, S, input);
    free(rgb);
    return 0;
}

int rtdetr_load_dataset_inputs(const char *data_dir, const coco_dataset *ds, int S, float *inputs, char *err,
                               size_t errlen)
{
    for (int i = 0; i < ds->n_images; i++) {
        char path[1400];
        int w, h;
        snprintf(path, sizeof path, "%s/%s", data_dir, ds->images[i].file_name);
        if (load_input(path, S, inputs + (size_t)i * 3 * S * S, &w, &h, err, errlen)) return -1;
        if (w != ds->images[i].width || h != ds->images[i].height) {
            snprintf(err, errlen, "%s is %dx%d, annotations.json says %dx%d", path, w, h, ds->images[i].width,
                     ds->images[i].height);
            return -1;
        }
    }
    return 0;
}

int rtdetr_predict_dataset(const char *checkpoint, const char *data_dir, const coco_dataset *ds, coco_det **dets,
                           int *n, char *err, size_t errlen)
{
    rtdetr_model m;
    char names[RTDETR_MAX_CLASSES][64];
    *dets = NULL;
    *n = 0;
    if (rtdetr_load(&m, checkpoint, names, RTDETR_MAX_CLASSES, err, errlen)) return -1;
    if (m.n_classes != ds->n_cats) {
        snprintf(err, errlen, "%s has %d classes, the dataset %d", checkpoint, m.n_classes, ds->n_cats);
        rtdetr_model_free(&m);
        return -1;
    }
    const int S = m.size, N = ds->n_images;
    float *inputs = malloc(sizeof(float) * (size_t)(N ? N : 1) * 3 * S * S);
    int *w = malloc(sizeof(int) * (size_t)(N + 1)), *h = malloc(sizeof(int) * (size_t)(N + 1));
    long *ids = malloc(sizeof(long) * (size_t)(N + 1)), cats[RTDETR_MAX_CLASSES];
    int rc = -1;
    if (!inputs || !w || !h || !ids) { snprintf(err, errlen, "out of memory"); goto out; }
    for (int i = 0; i < N; i++) { w[i] = ds->images[i].width; h[i] = ds->images[i].height; ids[i] = ds->images[i].id; }
    /* class c is the category named names[c] when every name is found in ds, else ds's c-th category */
    int by_name = 1;
    for (int c = 0; c < ds->n_cats; c++) { /* n_cats == m.n_classes <= RTDETR_MAX_CLASSES */
        cats[c] = ds->cats[c].id;
        int found = 0;
        for (int k = 0; k < ds->n_cats; k++) found += !strcmp(ds->cats[k].name, names[c]);
        by_name &= found == 1;
    }
    for (int c = 0; by_name && c < ds->n_cats; c++)
        for (int k = 0; k < ds->n_cats; k++)
            if (!strcmp(ds->cats[k].name, names[c])) cats[c] = ds->cats[k].id;
    if (rtdetr_load_dataset_inputs(data_dir, ds, S, inputs, err, errlen)) goto out;
    if (rtdetr_predict(&m, inputs, N, w, h, ids, cats, dets, n)) { snprintf(err, errlen, "out of memory"); goto out; }
    rc = 0;
out:
    free(inputs); free(w); free(h); free(ids);
    rtdetr_model_free(&m);
    return rc;
}

void rtdetr_class_colour(int c, uint8_t rgb[3])
{
    static const uint8_t first[6][3] = {{0, 255, 255}, {255, 255, 0}, {0, 255, 0}, {255, 0, 255}, {255, 128, 0}, {0, 128, 255}};
    if (c >= 0 && c < 6) { memcpy(rgb, first[c], 3); return; }
    /* further classes: hues spaced by the golden angle, full saturation */
    double hue = fmod(c * 0.618033988749895, 1.0) * 6;
    int sector = (int)hue;
    double f = hue - sector;
    uint8_t up = (uint8_t)(255 * f), down = (uint8_t)(255 * (1 - f));
    const uint8_t tab[6][3] = {{255, up, 0}, {down, 255, 0}, {0, 255, up}, {0, down, 255}, {up, 0, 255}, {255, 0, down}};
    memcpy(rgb, tab[sector % 6], 3);
}

void rtdetr_draw_box(uint8_t *rgb, int w, int h, const double b[4], const uint8_t col[3])
{
    int x0 = (int)b[0], y0 = (int)b[1], x1 = (int)(b[0] + b[2]), y1 = (int)(b[1] + b[3]);
    for (int x = x0; x <= x1; x++)
        for (int k = 0; k < 2; k++) {
            int y = k ? y1 : y0;
            if (x >= 0 && x < w && y >= 0 && y < h) memcpy(rgb + ((size_t)y * w + x) * 3, col, 3);
        }
    for (int y = y0; y <= y1; y++)
        for (int k = 0; k < 2; k++) {
            int x = k ? x1 : x0;
            if (x >= 0 && x < w && y >= 0 && y < h) memcpy(rgb + ((size_t)y * w + x) * 3, col, 3);
        }
}

int rtdetr_detect_files(const char *checkpoint, char **images, int n_images, const char *out_dir, double score_thr,
                        char *err, size_t errlen)
{
    rtdetr_model m;
    char names[RTDETR_MAX_CLASSES][64];
    if (rtdetr_load(&m, checkpoint, names, RTDETR_MAX_CLASSES, err, errlen)) return -1;
    if (mkdir(out_dir, 0777) && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s", out_dir);
        rtdetr_model_free(&m);
        return -1;
    }
    const int S = m.size;
    float *in = malloc(sizeof(float) * 3 * (size_t)S * S);
    long cats[RTDETR_MAX_CLASSES];
    for (int c = 0; c < RTDETR_MAX_CLASSES; c++) cats[c] = c + 1;
    FILE *js = NULL;
    char path[1400];
    snprintf(path, sizeof path, "%s/detections.json", out_dir);
    js = fopen(path, "w");
    int rc = -1;
    if (!in || !js) { snprintf(err, errlen, "cannot write %s", path); goto out; }
    fprintf(js, "[");
    int first = 1;
    for (int i = 0; i < n_images; i++) {
        uint8_t *rgb;
        int w, h;
        if (image_read_rgb(images[i], &rgb, &w, &h, err, errlen)) goto out;
        image_to_input(rgb, w, h, S, in); /* rgb is kept to draw on; load_input would free it */
        coco_det *d = NULL;
        int nd = 0;
        long id = i + 1;
        if (rtdetr_predict(&m, in, 1, &w, &h, &id, cats, &d, &nd)) { free(rgb); snprintf(err, errlen, "out of memory"); goto out; }
        for (int k = 0; k < nd; k++) {
            if (d[k].score < score_thr) continue;
            int c = (int)d[k].category_id - 1; /* < m.n_classes <= RTDETR_MAX_CLASSES */
            uint8_t col[3];
            rtdetr_class_colour(c, col);
            rtdetr_draw_box(rgb, w, h, d[k].bbox, col);
            fprintf(js, "%s\n {\"image\": \"%s\", \"label\": \"%s\", \"score\": %.4f, \"bbox\": [%.2f, %.2f, %.2f, %.2f]}",
                    first ? "" : ",", images[i], names[c], d[k].score, d[k].bbox[0], d[k].bbox[1],
                    d[k].bbox[2], d[k].bbox[3]);
            first = 0;
        }
        free(d);
        const char *base = strrchr(images[i], '/');
        base = base ? base + 1 : images[i];
        snprintf(path, sizeof path, "%s/%.200s.png", out_dir, base);
        int wr = image_write_png(path, rgb, w, h, err, errlen);
        free(rgb);
        if (wr) goto out;
    }
    fprintf(js, "\n]\n");
    rc = 0;
out:
    if (js && fclose(js) && !rc) { snprintf(err, errlen, "cannot write %s/detections.json", out_dir); rc = -1; }
    free(in);
    rtdetr_model_free(&m);
    return rc;
}
