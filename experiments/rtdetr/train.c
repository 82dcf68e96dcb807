/* Training loop: AdamW (RT-DETR's optimizer, with the learning rate raised
 * for the short budget), gradient clipping, random horizontal flips, AP on the
 * validation images at regular steps. */
#define _POSIX_C_SOURCE 200809L
#include "rtdetr/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "dynlab/optim.h"
#include "rtdetr/infer.h"
#include "rtdetr/loss.h"
#include "rtdetr/predict.h"

/* Targets of every image: normalised cxcywh of the box clipped to the image
 * (a no-op for generated boxes, which are clipped when drawn), class = the
 * category's position in ds->cats; crowd boxes are not trained on. */
static void build_targets(det_data *d, const coco_dataset *ds)
{
    int row = 0;
    for (int i = 0; i < d->n; i++) {
        const coco_image *im = &ds->images[i];
        d->off[i] = row;
        for (int a = 0; a < ds->n_anns; a++) {
            const coco_gt *g = &ds->anns[a];
            if (g->image_id != im->id || g->iscrowd) continue;
            /* only a box that crosses the border is changed (bit for bit the same otherwise) */
            double x = g->bbox[0], y = g->bbox[1], w = g->bbox[2], h = g->bbox[3];
            if (x < 0) { w += x; x = 0; }
            if (y < 0) { h += y; y = 0; }
            if (x + w > im->width) w = im->width - x;
            if (y + h > im->height) h = im->height - y;
            float *b = d->box + (size_t)row * 4;
            b[0] = (float)((x + w / 2) / im->width);
            b[1] = (float)((y + h / 2) / im->height);
            b[2] = (float)(w / im->width);
            b[3] = (float)(h / im->height);
            d->cls[row] = coco_category_index(ds, g->category_id);
            row++;
        }
        d->cnt[i] = row - d->off[i];
    }
}

static int det_data_alloc(det_data *d, const coco_dataset *ds, int S)
{
    memset(d, 0, sizeof *d);
    d->n = ds->n_images;
    d->S = S;
    d->inputs = malloc(sizeof(float) * (size_t)(d->n ? d->n : 1) * 3 * S * S);
    d->off = calloc((size_t)d->n + 1, sizeof(int));
    d->cnt = calloc((size_t)d->n + 1, sizeof(int));
    d->box = malloc(sizeof(float) * 4 * (size_t)(ds->n_anns + 1));
    d->cls = malloc(sizeof(int) * (size_t)(ds->n_anns + 1));
    if (!d->inputs || !d->off || !d->cnt || !d->box || !d->cls) {
        free(d->inputs); free(d->off); free(d->cnt); free(d->box); free(d->cls);
        memset(d, 0, sizeof *d);
        return -1;
    }
    return 0;
}

int det_data_from_coco(det_data *d, const coco_dataset *ds, const uint8_t *rgb, int S)
{
    if (det_data_alloc(d, ds, S)) return -1;
    d->ds = *ds;
    for (int i = 0; i < d->n; i++)
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < S * S; p++)
                d->inputs[((size_t)i * 3 + c) * S * S + p] = rgb[((size_t)i * S * S + p) * 3 + c] / 255.0f;
    build_targets(d, ds);
    return 0;
}

int det_data_load_folder(det_data *d, const char *dir, int S, char *err, size_t errlen)
{
    char path[1200];
    struct stat st;
    memset(d, 0, sizeof *d);
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: no such folder (a COCO folder holds annotations.json and its images)", dir);
        return -1;
    }
    snprintf(path, sizeof path, "%s/annotations.json", dir);
    coco_dataset ds;
    if (coco_read(path, &ds, err, errlen)) return -1;
    if (ds.n_images == 0) {
        snprintf(err, errlen, "%s: no images", path);
        coco_free(&ds);
        return -1;
    }
    if (ds.n_cats > RTDETR_MAX_CLASSES) {
        snprintf(err, errlen, "%s: %d categories, at most %d are supported", path, ds.n_cats, RTDETR_MAX_CLASSES);
        coco_free(&ds);
        return -1;
    }
    /* a box is clipped to its image for training; one with no area inside it is an error */
    for (int a = 0; a < ds.n_anns; a++) {
        const coco_gt *g = &ds.anns[a];
        const coco_image *im = &ds.images[coco_image_index(&ds, g->image_id)];
        if (g->bbox[0] >= im->width || g->bbox[1] >= im->height || g->bbox[0] + g->bbox[2] <= 0 ||
            g->bbox[1] + g->bbox[3] <= 0 || g->bbox[2] <= 0 || g->bbox[3] <= 0) {
            snprintf(err, errlen, "%s: annotations[%d].bbox: [%g, %g, %g, %g] has no area inside its %dx%d image", path,
                     a, g->bbox[0], g->bbox[1], g->bbox[2], g->bbox[3], im->width, im->height);
            coco_free(&ds);
            return -1;
        }
    }
    if (det_data_alloc(d, &ds, S)) {
        snprintf(err, errlen, "%s: out of memory", path);
        coco_free(&ds);
        return -1;
    }
    d->ds = ds;
    if (rtdetr_load_dataset_inputs(dir, &ds, S, d->inputs, err, errlen)) {
        det_data_free(d);
        return -1;
    }
    build_targets(d, &ds);
    return 0;
}

int det_data_match_categories(det_data *val, const det_data *tr, const char *val_name, const char *tr_name, char *err,
                              size_t errlen)
{
    coco_dataset *v = &val->ds;
    const coco_dataset *t = &tr->ds;
    int ok = v->n_cats == t->n_cats;
    for (int c = 0; ok && c < t->n_cats; c++) {
        int k = coco_category_index(v, t->cats[c].id);
        ok = k >= 0 && !strcmp(v->cats[k].name, t->cats[c].name);
    }
    if (!ok) {
        snprintf(err, errlen, "%s and %s have different categories (ids and names must be the same)", tr_name, val_name);
        return -1;
    }
    /* the class index is the position in the training folder's list */
    for (int c = 0; c < t->n_cats; c++) v->cats[c] = t->cats[c];
    build_targets(val, v);
    return 0;
}

void det_data_free(det_data *d)
{
    free(d->inputs); free(d->off); free(d->cnt); free(d->box); free(d->cls);
    coco_free(&d->ds);
    memset(d, 0, sizeof *d);
}

int rtdetr_evaluate(rtdetr_model *m, const det_data *d, double score_thr, eval_result *r, coco_det **dets_out,
                    int *nd_out)
{
    const coco_dataset *ds = &d->ds;
    int n = ds->n_images, nd = 0;
    int *w = malloc(sizeof(int) * (size_t)(n + 1)), *h = malloc(sizeof(int) * (size_t)(n + 1));
    long *ids = malloc(sizeof(long) * (size_t)(n + 1)), *cats = malloc(sizeof(long) * (size_t)ds->n_cats);
    coco_det *dets = NULL;
    int rc = -1;
    if (!w || !h || !ids || !cats) goto out;
    for (int i = 0; i < n; i++) { w[i] = ds->images[i].width; h[i] = ds->images[i].height; ids[i] = ds->images[i].id; }
    for (int c = 0; c < ds->n_cats; c++) cats[c] = ds->cats[c].id;
    if (rtdetr_predict(m, d->inputs, n, w, h, ids, cats, &dets, &nd)) goto out;
    coco_stats st;
    if (coco_evaluate(ds->anns, ds->n_anns, dets, nd, ids, n, cats, ds->n_cats, &st)) goto out;
    memcpy(r->stats, st.stats, sizeof st.stats);
    coco_precision_recall(ds->anns, ds->n_anns, dets, nd, 0.5, score_thr, &r->precision, &r->recall);
    rc = 0;
out:
    if (dets_out && rc == 0) { *dets_out = dets; *nd_out = nd; }
    else free(dets);
    free(w); free(h); free(ids); free(cats);
    return rc;
}

int rtdetr_train(rtdetr_model *m, const char *label, const det_data *tr, const det_data *val, const rtdetr_cfg *c,
                 dl_run *run, int untrained, train_log *log)
{
    const int S = tr->S, B = c->batch;
    memset(log, 0, sizeof *log);
    dl_optim opt;
    dl_optim_init(&opt, &m->ps, DL_OPT_ADAMW, (float)c->lr);
    opt.weight_decay = (float)c->weight_decay;
    dl_graph *g = dl_graph_new();
    dl_rng r;
    dl_rng_init(&r, run->seed, 7);
    int *off = malloc(sizeof(int) * (size_t)B), *cnt = malloc(sizeof(int) * (size_t)B);
    int maxrows = 0;
    for (int i = 0; i < tr->n; i++) maxrows = tr->cnt[i] > maxrows ? tr->cnt[i] : maxrows;
    float *box = malloc(sizeof(float) * 4 * (size_t)(B * maxrows + 1));
    int *cls = malloc(sizeof(int) * (size_t)(B * maxrows + 1));
    double t0 = dl_now(), acc = 0;
    int acc_n = 0, rc = 0;
    const int log_every = c->steps < 50 ? 1 : c->steps / 50;
    for (int step = 0; step <= c->steps; step++) {
        if (step % c->eval_every == 0 || step == c->steps) {
            eval_result er;
            if (rtdetr_evaluate(m, val, c->score_thr, &er, NULL, NULL) == 0 && log->n_eval < TRAIN_MAX_LOG) {
                log->eval_step[log->n_eval] = step;
                log->ap[log->n_eval] = er.stats[0];
                log->ap50[log->n_eval] = er.stats[1];
                log->n_eval++;
                dl_metrics_begin(run, step);
                dl_metrics_add_str(run, "model", label);
                dl_metrics_add(run, "val_ap", er.stats[0]);
                dl_metrics_add(run, "val_ap50", er.stats[1]);
                dl_metrics_end(run);
            }
        }
        if (step == c->steps) break;
        /* batch: B images drawn with replacement, each flipped with probability 1/2 */
        int sh[4] = {B, 3, S, S}, rows = 0;
        dl_graph_set_training(g, !untrained);
        dl_tensor *x = dl_tensor_new(g, 4, sh);
        for (int b = 0; b < B; b++) {
            int i = (int)dl_rng_below(&r, (uint32_t)tr->n), flip = dl_rng_uniform(&r) < 0.5;
            const float *src = tr->inputs + (size_t)i * 3 * S * S;
            float *dst = x->data + (size_t)b * 3 * S * S;
            for (int ch = 0; ch < 3; ch++)
                for (int y = 0; y < S; y++)
                    for (int xx = 0; xx < S; xx++)
                        dst[((size_t)ch * S + y) * S + xx] = src[((size_t)ch * S + y) * S + (flip ? S - 1 - xx : xx)];
            off[b] = rows;
            cnt[b] = tr->cnt[i];
            for (int k = 0; k < tr->cnt[i]; k++, rows++) {
                memcpy(box + rows * 4, tr->box + (size_t)(tr->off[i] + k) * 4, sizeof(float) * 4);
                if (flip) box[rows * 4] = 1 - box[rows * 4];
                cls[rows] = tr->cls[tr->off[i] + k];
            }
        }
        det_targets t = {B, off, cnt, box, cls};
        rtdetr_out o;
        rtdetr_forward(g, m, x, &o);
        dl_tensor *loss = m->kind == RTDETR_DENSE ? rtdetr_dense_loss(g, m, &o, &t, NULL) : rtdetr_total_loss(g, &o, &t, NULL);
        double lv = loss->data[0];
        if (dl_check_finite(run, label, lv, step)) { rc = -1; break; }
        if (!untrained) {
            dl_params_zero_grad(&m->ps);
            dl_backward(g, loss);
            if (c->clip > 0) dl_clip_grad_norm(&m->ps, c->clip);
            dl_optim_step(&opt, (float)c->lr);
        }
        dl_graph_reset(g);
        acc += lv;
        acc_n++;
        if (step == 0) log->first_loss = lv;
        if ((step + 1) % log_every == 0 || step + 1 == c->steps) {
            double mean = acc / acc_n;
            if (log->n_loss < TRAIN_MAX_LOG) {
                log->loss_step[log->n_loss] = step + 1;
                log->loss[log->n_loss] = mean;
                log->n_loss++;
            }
            log->last_loss = mean;
            dl_metrics_begin(run, step + 1);
            dl_metrics_add_str(run, "model", label);
            dl_metrics_add(run, "loss", mean);
            dl_metrics_end(run);
            char extra[96];
            snprintf(extra, sizeof extra, "%s loss %.3f", label, mean);
            dl_progress(run, label, step + 1, c->steps, extra);
            acc = 0;
            acc_n = 0;
        }
    }
    log->wall_s = dl_now() - t0;
    free(off); free(cnt); free(box); free(cls);
    dl_graph_free(g);
    dl_optim_free(&opt);
    return rc;
}
