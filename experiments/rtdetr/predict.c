/* Inference and checkpoints (see predict.h). */
#include "rtdetr/predict.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/checkpoint.h"
#include "rtdetr/loss.h"

typedef struct { float score; int q, c; } cand;
static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->q != y->q ? x->q - y->q : x->c - y->c;
}

static int push(coco_det **dets, int *nd, int *cap, const coco_det *d)
{
    if (*nd == *cap) {
        int nc = *cap ? *cap * 2 : 1024;
        coco_det *p = realloc(*dets, sizeof(coco_det) * (size_t)nc);
        if (!p) return -1;
        *dets = p;
        *cap = nc;
    }
    (*dets)[(*nd)++] = *d;
    return 0;
}

int rtdetr_predict(rtdetr_model *m, const float *inputs, int n, const int *img_w, const int *img_h,
                   const long *img_ids, const long *cat_ids, coco_det **dets, int *nd)
{
    const int S = m->size, BS = 16;
    int cap = *nd; /* caller's array is exactly *nd long (or NULL) */
    dl_graph *g = dl_graph_new();
    dl_graph_set_training(g, 0);
    dl_graph_set_grad_enabled(g, 0);
    int rc = 0;
    for (int s = 0; s < n && !rc; s += BS) {
        int B = n - s < BS ? n - s : BS, sh[4] = {B, 3, S, S};
        dl_tensor *x = dl_tensor_new(g, 4, sh);
        memcpy(x->data, inputs + (size_t)s * 3 * S * S, sizeof(float) * (size_t)x->size);
        rtdetr_out o;
        rtdetr_forward(g, m, x, &o);
        int last = o.n_layers - 1, K = o.K, C = o.C;
        cand *cs = malloc(sizeof(cand) * (size_t)K * C);
        if (!cs) { rc = -1; break; }
        for (int b = 0; b < B && !rc; b++) {
            const float *lg = o.logits[last]->data + (size_t)b * K * C, *bx = o.boxes[last]->data + (size_t)b * K * 4;
            int nc = 0;
            for (int q = 0; q < K; q++)
                for (int c = 0; c < C; c++) {
                    float sc = 1.0f / (1.0f + expf(-lg[q * C + c]));
                    if (m->kind == RTDETR_DENSE && sc < 0.01f) continue;
                    cs[nc].score = sc; cs[nc].q = q; cs[nc].c = c; nc++;
                }
            qsort(cs, (size_t)nc, sizeof(cand), cmp_cand);
            int kept = 0, lim = m->kind == RTDETR_DENSE ? (nc < 1000 ? nc : 1000) : nc;
            cand *keep = malloc(sizeof(cand) * 100);
            if (!keep) { rc = -1; break; }
            for (int i = 0; i < lim && kept < 100; i++) {
                if (m->kind == RTDETR_DENSE) { /* class-wise NMS, IoU 0.6 */
                    int sup = 0;
                    for (int j = 0; j < kept && !sup; j++)
                        sup = keep[j].c == cs[i].c && box_iou_cxcywh(bx + cs[i].q * 4, bx + keep[j].q * 4) > 0.6;
                    if (sup) continue;
                }
                keep[kept++] = cs[i];
            }
            int W = img_w[s + b], H = img_h[s + b];
            for (int i = 0; i < kept && !rc; i++) {
                const float *p = bx + keep[i].q * 4;
                coco_det d;
                d.image_id = img_ids[s + b];
                d.category_id = cat_ids[keep[i].c];
                d.bbox[0] = (p[0] - p[2] / 2) * W;
                d.bbox[1] = (p[1] - p[3] / 2) * H;
                d.bbox[2] = p[2] * W;
                d.bbox[3] = p[3] * H;
                d.score = keep[i].score;
                rc = push(dets, nd, &cap, &d);
            }
            free(keep);
        }
        free(cs);
        dl_graph_reset(g);
    }
    dl_graph_free(g);
    return rc;
}

int rtdetr_save(const rtdetr_model *m, const char *path, const char *const *class_names, char *err, size_t errlen)
{
    dl_st_writer *w = dl_st_writer_new();
    for (int i = 0; i < m->ps.n; i++) {
        const dl_tensor *t = m->ps.items[i];
        dl_st_add_f32(w, t->name, t->data, t->ndim, t->shape);
    }
    cJSON *o = cJSON_CreateObject(), *names = cJSON_AddArrayToObject(o, "classes");
    cJSON_AddNumberToObject(o, "kind", m->kind);
    cJSON_AddNumberToObject(o, "size", m->size);
    cJSON_AddNumberToObject(o, "width", m->width);
    cJSON_AddNumberToObject(o, "d", m->d);
    cJSON_AddNumberToObject(o, "heads", m->heads);
    cJSON_AddNumberToObject(o, "ffn", m->ffn);
    cJSON_AddNumberToObject(o, "queries", m->queries);
    cJSON_AddNumberToObject(o, "dec_layers", m->dec_layers);
    for (int c = 0; c < m->n_classes; c++) cJSON_AddItemToArray(names, cJSON_CreateString(class_names[c]));
    char *txt = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    dl_st_add_meta(w, "rtdetr", txt ? txt : "{}");
    cJSON_free(txt);
    int rc = dl_st_write(w, path, err, errlen);
    dl_st_writer_free(w);
    return rc;
}

static int meta_int(const cJSON *o, const char *k, int lo, int hi, int *v)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(x) || x->valuedouble < lo || x->valuedouble > hi) return -1;
    *v = (int)x->valuedouble;
    return 0;
}

int rtdetr_load(rtdetr_model *m, const char *path, char names[][64], int max_names, char *err, size_t errlen)
{
    dl_st_file *f = dl_st_open(path, err, errlen);
    if (!f) return -1;
    const char *meta = dl_st_meta(f, "rtdetr");
    cJSON *o = meta ? cJSON_Parse(meta) : NULL;
    int kind, size, width, d, heads, ffn, queries, layers, rc = -1;
    const cJSON *cl = o ? cJSON_GetObjectItemCaseSensitive(o, "classes") : NULL;
    if (!o || meta_int(o, "kind", 0, 2, &kind) || meta_int(o, "size", 32, 4096, &size) ||
        meta_int(o, "width", 1, 1024, &width) || meta_int(o, "d", 4, 4096, &d) || meta_int(o, "heads", 1, 64, &heads) ||
        meta_int(o, "ffn", 1, 65536, &ffn) || meta_int(o, "queries", 1, 10000, &queries) ||
        meta_int(o, "dec_layers", 1, RTDETR_MAX_DEC, &layers) || !cJSON_IsArray(cl) || cJSON_GetArraySize(cl) < 1 ||
        cJSON_GetArraySize(cl) > RTDETR_MAX_CLASSES) {
        snprintf(err, errlen, "%s: not an rtdetr checkpoint (its metadata has no valid model shape)", path);
        goto out;
    }
    int C = cJSON_GetArraySize(cl);
    for (int c = 0; c < C && c < max_names; c++) {
        const cJSON *s = cJSON_GetArrayItem(cl, c);
        snprintf(names[c], 64, "%s", cJSON_IsString(s) ? s->valuestring : "?");
    }
    if (rtdetr_model_init(m, kind, size, width, d, heads, ffn, C, queries, layers, 0)) {
        snprintf(err, errlen, "%s: invalid model shape in the metadata", path);
        goto out;
    }
    for (int i = 0; i < m->ps.n; i++) {
        dl_tensor *t = m->ps.items[i];
        int nd, sh[DL_MAX_DIMS];
        const float *src = dl_st_get_f32(f, t->name, &nd, sh);
        int ok = src && nd == t->ndim;
        for (int k = 0; ok && k < nd; k++) ok = sh[k] == t->shape[k];
        if (!ok) {
            snprintf(err, errlen, "%s: tensor '%s' missing or of the wrong shape", path, t->name);
            rtdetr_model_free(m);
            goto out;
        }
        memcpy(t->data, src, sizeof(float) * (size_t)t->size);
    }
    rc = 0;
out:
    cJSON_Delete(o);
    dl_st_close(f);
    return rc;
}
