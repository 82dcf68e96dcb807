/* COCO JSON reader and writer (cJSON). The reader checks every field it uses
 * and names the first bad one: "<file>: annotations[3].bbox: expected 4
 * numbers" (docs/papers/rtdetr.md, "Data"). */
#include "rtdetr/coco.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/data.h"

static int fail(char *err, size_t errlen, const char *path, const char *msg, const char *what, int i)
{
    if (i >= 0) snprintf(err, errlen, "%s: %s[%d]: %s", path, what, i, msg);
    else snprintf(err, errlen, "%s: %s: %s", path, what, msg);
    return -1;
}

static int get_id(const cJSON *o, const char *key, long *v)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble) || x->valuedouble != floor(x->valuedouble) ||
        fabs(x->valuedouble) > 9e15)
        return -1;
    *v = (long)x->valuedouble;
    return 0;
}

static int get_bbox(const cJSON *o, double b[4])
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "bbox");
    if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) != 4) return -1;
    for (int k = 0; k < 4; k++) {
        const cJSON *e = cJSON_GetArrayItem(x, k);
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble)) return -1;
        b[k] = e->valuedouble;
    }
    return b[2] >= 0 && b[3] >= 0 ? 0 : -1;
}

static cJSON *parse_file(const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char *txt = dl_read_file_max(path, COCO_MAX_JSON_BYTES, &len, err, errlen);
    if (!txt) return NULL;
    cJSON *root = cJSON_ParseWithLength(txt, len);
    free(txt);
    if (!root) snprintf(err, errlen, "%s: not valid JSON", path);
    return root;
}

int coco_image_index(const coco_dataset *ds, long id)
{
    for (int i = 0; i < ds->n_images; i++)
        if (ds->images[i].id == id) return i;
    return -1;
}

int coco_category_index(const coco_dataset *ds, long id)
{
    for (int i = 0; i < ds->n_cats; i++)
        if (ds->cats[i].id == id) return i;
    return -1;
}

void coco_free(coco_dataset *ds)
{
    free(ds->images);
    free(ds->cats);
    free(ds->anns);
    memset(ds, 0, sizeof *ds);
}

int coco_read(const char *path, coco_dataset *ds, char *err, size_t errlen)
{
    memset(ds, 0, sizeof *ds);
    cJSON *root = parse_file(path, err, errlen);
    if (!root) return -1;
    int rc = -1;
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(root, "images");
    const cJSON *cats = cJSON_GetObjectItemCaseSensitive(root, "categories");
    const cJSON *anns = cJSON_GetObjectItemCaseSensitive(root, "annotations");
    if (!cJSON_IsObject(root)) { fail(err, errlen, path, "expected a JSON object", "top level", -1); goto out; }
    if (!cJSON_IsArray(imgs)) { fail(err, errlen, path, "missing or not a list", "images", -1); goto out; }
    if (!cJSON_IsArray(cats)) { fail(err, errlen, path, "missing or not a list", "categories", -1); goto out; }
    if (!cJSON_IsArray(anns)) { fail(err, errlen, path, "missing or not a list", "annotations", -1); goto out; }
    ds->n_images = cJSON_GetArraySize(imgs);
    ds->n_cats = cJSON_GetArraySize(cats);
    ds->n_anns = cJSON_GetArraySize(anns);
    if (ds->n_cats == 0) { fail(err, errlen, path, "no categories", "categories", -1); goto out; }
    ds->images = calloc((size_t)ds->n_images + 1, sizeof(coco_image));
    ds->cats = calloc((size_t)ds->n_cats + 1, sizeof(coco_category));
    ds->anns = calloc((size_t)ds->n_anns + 1, sizeof(coco_gt));
    if (!ds->images || !ds->cats || !ds->anns) { snprintf(err, errlen, "%s: out of memory", path); goto out; }
    int i = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, imgs) {
        coco_image *im = &ds->images[i];
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(o, "file_name");
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "width"), *h = cJSON_GetObjectItemCaseSensitive(o, "height");
        if (get_id(o, "id", &im->id)) { fail(err, errlen, path, "id: expected an integer", "images", i); goto out; }
        if (!cJSON_IsString(fn) || !fn->valuestring[0] || strlen(fn->valuestring) >= sizeof im->file_name ||
            strstr(fn->valuestring, "..")) {
            fail(err, errlen, path, "file_name: expected a relative path (< 256 characters, no '..')", "images", i);
            goto out;
        }
        snprintf(im->file_name, sizeof im->file_name, "%s", fn->valuestring);
        if (!cJSON_IsNumber(w) || !cJSON_IsNumber(h) || w->valuedouble < 1 || h->valuedouble < 1 ||
            w->valuedouble > 65535 || h->valuedouble > 65535) {
            fail(err, errlen, path, "width/height: expected integers in [1, 65535]", "images", i);
            goto out;
        }
        im->width = (int)w->valuedouble;
        im->height = (int)h->valuedouble;
        if (coco_image_index(ds, im->id) >= 0 && coco_image_index(ds, im->id) < i) {
            fail(err, errlen, path, "duplicate image id", "images", i); goto out;
        }
        i++;
    }
    i = 0;
    cJSON_ArrayForEach(o, cats) {
        coco_category *c = &ds->cats[i];
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(o, "name");
        if (get_id(o, "id", &c->id)) { fail(err, errlen, path, "id: expected an integer", "categories", i); goto out; }
        if (!cJSON_IsString(nm)) { fail(err, errlen, path, "name: expected a string", "categories", i); goto out; }
        snprintf(c->name, sizeof c->name, "%s", nm->valuestring);
        if (coco_category_index(ds, c->id) < i) { fail(err, errlen, path, "duplicate category id", "categories", i); goto out; }
        i++;
    }
    i = 0;
    cJSON_ArrayForEach(o, anns) {
        coco_gt *a = &ds->anns[i];
        if (get_id(o, "id", &a->id) || a->id <= 0) {
            fail(err, errlen, path, "id: expected a positive integer", "annotations", i); goto out;
        }
        if (get_id(o, "image_id", &a->image_id) || coco_image_index(ds, a->image_id) < 0) {
            fail(err, errlen, path, "image_id: not the id of an image", "annotations", i); goto out;
        }
        if (get_id(o, "category_id", &a->category_id) || coco_category_index(ds, a->category_id) < 0) {
            fail(err, errlen, path, "category_id: not the id of a category", "annotations", i); goto out;
        }
        if (get_bbox(o, a->bbox)) {
            fail(err, errlen, path, "bbox: expected 4 finite numbers [x, y, w, h], w, h >= 0", "annotations", i); goto out;
        }
        const cJSON *ar = cJSON_GetObjectItemCaseSensitive(o, "area"), *cr = cJSON_GetObjectItemCaseSensitive(o, "iscrowd");
        if (ar && (!cJSON_IsNumber(ar) || !isfinite(ar->valuedouble) || ar->valuedouble < 0)) {
            fail(err, errlen, path, "area: expected a number >= 0", "annotations", i); goto out;
        }
        a->area = ar ? ar->valuedouble : a->bbox[2] * a->bbox[3];
        if (cr && !(cJSON_IsNumber(cr) && (cr->valuedouble == 0 || cr->valuedouble == 1)) && !cJSON_IsBool(cr)) {
            fail(err, errlen, path, "iscrowd: expected 0 or 1", "annotations", i); goto out;
        }
        a->iscrowd = cr ? (cJSON_IsBool(cr) ? cJSON_IsTrue(cr) : (int)cr->valuedouble) : 0;
        i++;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc) coco_free(ds);
    return rc;
}

int coco_read_results(const char *path, const coco_dataset *ds, coco_det **dets, int *n, char *err,
                      size_t errlen)
{
    *dets = NULL;
    *n = 0;
    cJSON *root = parse_file(path, err, errlen);
    if (!root) return -1;
    int rc = -1, i = 0;
    coco_det *d = NULL;
    if (!cJSON_IsArray(root)) { fail(err, errlen, path, "expected a list of detections", "top level", -1); goto out; }
    d = calloc((size_t)cJSON_GetArraySize(root) + 1, sizeof(coco_det));
    if (!d) { snprintf(err, errlen, "%s: out of memory", path); goto out; }
    const cJSON *o;
    cJSON_ArrayForEach(o, root) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "score");
        if (get_id(o, "image_id", &d[i].image_id) || coco_image_index(ds, d[i].image_id) < 0) {
            fail(err, errlen, path, "image_id: not the id of an image of the dataset", "results", i); goto out;
        }
        if (get_id(o, "category_id", &d[i].category_id) || coco_category_index(ds, d[i].category_id) < 0) {
            fail(err, errlen, path, "category_id: not the id of a category of the dataset", "results", i); goto out;
        }
        if (get_bbox(o, d[i].bbox)) {
            fail(err, errlen, path, "bbox: expected 4 finite numbers [x, y, w, h], w, h >= 0", "results", i); goto out;
        }
        if (!cJSON_IsNumber(s) || !isfinite(s->valuedouble)) {
            fail(err, errlen, path, "score: expected a finite number", "results", i); goto out;
        }
        d[i].score = s->valuedouble;
        i++;
    }
    rc = 0;
    *dets = d;
    *n = i;
    d = NULL;
out:
    free(d);
    cJSON_Delete(root);
    return rc;
}

static int write_text(const char *path, const char *txt, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f) { snprintf(err, errlen, "cannot write %s", path); return -1; }
    int ok = fputs(txt, f) >= 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok) { snprintf(err, errlen, "cannot write %s", path); return -1; }
    return 0;
}

static cJSON *bbox_json(const double b[4])
{
    return cJSON_CreateDoubleArray(b, 4);
}

int coco_write(const char *path, const coco_dataset *ds, char *err, size_t errlen)
{
    cJSON *root = cJSON_CreateObject(), *imgs = cJSON_AddArrayToObject(root, "images");
    cJSON *cats = cJSON_AddArrayToObject(root, "categories"), *anns = cJSON_AddArrayToObject(root, "annotations");
    for (int i = 0; i < ds->n_images; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)ds->images[i].id);
        cJSON_AddStringToObject(o, "file_name", ds->images[i].file_name);
        cJSON_AddNumberToObject(o, "width", ds->images[i].width);
        cJSON_AddNumberToObject(o, "height", ds->images[i].height);
        cJSON_AddItemToArray(imgs, o);
    }
    for (int i = 0; i < ds->n_cats; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)ds->cats[i].id);
        cJSON_AddStringToObject(o, "name", ds->cats[i].name);
        cJSON_AddItemToArray(cats, o);
    }
    for (int i = 0; i < ds->n_anns; i++) {
        const coco_gt *a = &ds->anns[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)a->id);
        cJSON_AddNumberToObject(o, "image_id", (double)a->image_id);
        cJSON_AddNumberToObject(o, "category_id", (double)a->category_id);
        cJSON_AddItemToObject(o, "bbox", bbox_json(a->bbox));
        cJSON_AddNumberToObject(o, "area", a->area);
        cJSON_AddNumberToObject(o, "iscrowd", a->iscrowd);
        cJSON_AddItemToArray(anns, o);
    }
    char *txt = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!txt) { snprintf(err, errlen, "%s: out of memory", path); return -1; }
    int rc = write_text(path, txt, err, errlen);
    cJSON_free(txt);
    return rc;
}

int coco_write_results(const char *path, const coco_det *dets, int n, char *err, size_t errlen)
{
    cJSON *root = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "image_id", (double)dets[i].image_id);
        cJSON_AddNumberToObject(o, "category_id", (double)dets[i].category_id);
        cJSON_AddItemToObject(o, "bbox", bbox_json(dets[i].bbox));
        cJSON_AddNumberToObject(o, "score", dets[i].score);
        cJSON_AddItemToArray(root, o);
    }
    char *txt = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!txt) { snprintf(err, errlen, "%s: out of memory", path); return -1; }
    int rc = write_text(path, txt, err, errlen);
    cJSON_free(txt);
    return rc;
}
