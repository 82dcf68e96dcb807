/* `dynlab eval` / `dynlab detect` on a saved checkpoint (see infer.h). */
#define _POSIX_C_SOURCE 200809L
#include "rtdetr/infer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "rtdetr/image_io.h"
#include "rtdetr/predict.h"

/* Loads every image of ds resized to the model's input. */
static int load_inputs(const rtdetr_model *m, const char *dir, char **files, int n, float *inputs, int *w, int *h,
                       char *err, size_t errlen)
{
    const int S = m->size;
    for (int i = 0; i < n; i++) {
        char path[1400];
        if (dir) snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        else snprintf(path, sizeof path, "%s", files[i]);
        uint8_t *rgb;
        if (image_read_rgb(path, &rgb, &w[i], &h[i], err, errlen)) return -1;
        image_to_input(rgb, w[i], h[i], S, inputs + (size_t)i * 3 * S * S);
        free(rgb);
    }
    return 0;
}

int rtdetr_predict_dataset(const char *checkpoint, const char *data_dir, const coco_dataset *ds, coco_det **dets,
                           int *n, char *err, size_t errlen)
{
    rtdetr_model m;
    char names[16][64];
    *dets = NULL;
    *n = 0;
    if (rtdetr_load(&m, checkpoint, names, 16, err, errlen)) return -1;
    if (m.n_classes != ds->n_cats) {
        snprintf(err, errlen, "%s has %d classes, the dataset %d", checkpoint, m.n_classes, ds->n_cats);
        rtdetr_model_free(&m);
        return -1;
    }
    const int S = m.size, N = ds->n_images;
    float *inputs = malloc(sizeof(float) * (size_t)(N ? N : 1) * 3 * S * S);
    int *w = malloc(sizeof(int) * (size_t)(N + 1)), *h = malloc(sizeof(int) * (size_t)(N + 1));
    long *ids = malloc(sizeof(long) * (size_t)(N + 1)), cats[1000];
    char **files = malloc(sizeof(char *) * (size_t)(N + 1));
    int rc = -1;
    if (!inputs || !w || !h || !ids || !files) { snprintf(err, errlen, "out of memory"); goto out; }
    for (int i = 0; i < N; i++) { files[i] = ds->images[i].file_name; ids[i] = ds->images[i].id; }
    for (int c = 0; c < ds->n_cats && c < 1000; c++) cats[c] = ds->cats[c].id;
    if (load_inputs(&m, data_dir, files, N, inputs, w, h, err, errlen)) goto out;
    for (int i = 0; i < N; i++)
        if (w[i] != ds->images[i].width || h[i] != ds->images[i].height) {
            snprintf(err, errlen, "%s/%s is %dx%d, annotations.json says %dx%d", data_dir, files[i], w[i], h[i],
                     ds->images[i].width, ds->images[i].height);
            goto out;
        }
    if (rtdetr_predict(&m, inputs, N, w, h, ids, cats, dets, n)) { snprintf(err, errlen, "out of memory"); goto out; }
    rc = 0;
out:
    free(inputs); free(w); free(h); free(ids); free(files);
    rtdetr_model_free(&m);
    return rc;
}

static const uint8_t class_rgb[6][3] = {{0, 255, 255}, {255, 255, 0}, {0, 255, 0}, {255, 0, 255}, {255, 128, 0}, {0, 128, 255}};

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
    char names[16][64];
    if (rtdetr_load(&m, checkpoint, names, 16, err, errlen)) return -1;
    if (mkdir(out_dir, 0777) && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s", out_dir);
        rtdetr_model_free(&m);
        return -1;
    }
    const int S = m.size;
    float *in = malloc(sizeof(float) * 3 * (size_t)S * S);
    long cats[16];
    for (int c = 0; c < 16; c++) cats[c] = c + 1;
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
        image_to_input(rgb, w, h, S, in);
        coco_det *d = NULL;
        int nd = 0;
        long id = i + 1;
        if (rtdetr_predict(&m, in, 1, &w, &h, &id, cats, &d, &nd)) { free(rgb); snprintf(err, errlen, "out of memory"); goto out; }
        for (int k = 0; k < nd; k++) {
            if (d[k].score < score_thr) continue;
            int c = (int)d[k].category_id - 1;
            rtdetr_draw_box(rgb, w, h, d[k].bbox, class_rgb[c % 6]);
            fprintf(js, "%s\n {\"image\": \"%s\", \"label\": \"%s\", \"score\": %.4f, \"bbox\": [%.2f, %.2f, %.2f, %.2f]}",
                    first ? "" : ",", images[i], c < 16 ? names[c] : "?", d[k].score, d[k].bbox[0], d[k].bbox[1],
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
