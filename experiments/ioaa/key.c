/* The answer key: our JSON format for marking schemes (docs/papers/ioaa.md).
 *
 *   {"problems": [{"year": "2022", "part": "theory", "id": "Q1",
 *                  "items": [{"id": "a", "points": 4, "type": "numeric",
 *                             "value": 1.5e11, "unit": "m", "rel_tol": 0.05,
 *                             "rubric": "...", "category": "calculation"}, ...]}]}
 *
 * type is numeric (value + unit + rel_tol, graded automatically), expression
 * or text (graded by a judge model or by hand: "answer" and "rubric"). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ioaa/ioaa.h"
#include "ioaa/util.h"

static const char *const categories[] = {"conceptual", "geometric_spatial", "calculation",
                                         "approximation", "plotting", "plot_or_image_reading",
                                         "other", NULL};

static int valid_category(const char *c) {
    for (int i = 0; categories[i]; i++)
        if (!strcmp(c, categories[i])) return 1;
    return 0;
}

static int get_str(const cJSON *o, const char *key, char *out, size_t n, int required,
                   const char *where, char *err, size_t errlen) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        if (required) snprintf(err, errlen, "%s: missing \"%s\"", where, key);
        out[0] = 0;
        return required ? -1 : 0;
    }
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= n) {
        snprintf(err, errlen, "%s: \"%s\" must be a string of at most %zu characters", where, key,
                 n - 1);
        return -1;
    }
    snprintf(out, n, "%s", v->valuestring);
    return 0;
}

static int get_num(const cJSON *o, const char *key, double *out, int required, double lo,
                   double hi, const char *where, char *err, size_t errlen) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        if (required) snprintf(err, errlen, "%s: missing \"%s\"", where, key);
        return required ? -1 : 0;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi)) {
        snprintf(err, errlen, "%s: \"%s\" must be a number in [%g, %g]", where, key, lo, hi);
        return -1;
    }
    *out = v->valuedouble;
    return 0;
}

static int parse_item(ioaa_item *it, const cJSON *o, const char *where, char *err, size_t errlen) {
    char type[16];
    if (!cJSON_IsObject(o)) {
        snprintf(err, errlen, "%s: an item must be an object", where);
        return -1;
    }
    if (get_str(o, "id", it->id, sizeof it->id, 1, where, err, errlen) ||
        get_num(o, "points", &it->points, 1, 0, 1e4, where, err, errlen) ||
        get_str(o, "type", type, sizeof type, 1, where, err, errlen) ||
        get_str(o, "rubric", it->rubric, sizeof it->rubric, 0, where, err, errlen) ||
        get_str(o, "answer", it->answer, sizeof it->answer, 0, where, err, errlen) ||
        get_str(o, "category", it->category, sizeof it->category, 0, where, err, errlen))
        return -1;
    if (!it->category[0]) snprintf(it->category, sizeof it->category, "other");
    if (!valid_category(it->category)) {
        snprintf(err, errlen,
                 "%s: unknown category '%s' (conceptual, geometric_spatial, calculation, "
                 "approximation, plotting, plot_or_image_reading, other)",
                 where, it->category);
        return -1;
    }
    if (!strcmp(type, "numeric")) {
        it->type = IOAA_NUMERIC;
        it->rel_tol = 0.05;
        if (get_num(o, "value", &it->value, 1, -1e300, 1e300, where, err, errlen) ||
            get_str(o, "unit", it->unit, sizeof it->unit, 0, where, err, errlen) ||
            get_num(o, "rel_tol", &it->rel_tol, 0, 0, 10, where, err, errlen))
            return -1;
        double f;
        char dim[32];
        if (it->unit[0] && ioaa_unit(it->unit, &f, dim, sizeof dim)) {
            snprintf(err, errlen, "%s: unknown unit '%s'", where, it->unit);
            return -1;
        }
    } else if (!strcmp(type, "expression")) {
        it->type = IOAA_EXPRESSION;
    } else if (!strcmp(type, "text")) {
        it->type = IOAA_TEXT;
    } else {
        snprintf(err, errlen, "%s: \"type\" must be numeric, expression or text, got '%s'", where,
                 type);
        return -1;
    }
    return 0;
}

int ioaa_key_parse(ioaa_key *k, const char *json, char *err, size_t errlen) {
    memset(k, 0, sizeof *k);
    cJSON *root = cJSON_Parse(json);
    if (!root) {
        snprintf(err, errlen, "answer key is not valid JSON");
        return -1;
    }
    const cJSON *probs = cJSON_GetObjectItemCaseSensitive(root, "problems");
    int rc = -1;
    if (!cJSON_IsArray(probs)) {
        snprintf(err, errlen, "answer key: \"problems\" must be an array");
        goto out;
    }
    int n = cJSON_GetArraySize(probs);
    k->p = calloc((size_t)(n ? n : 1), sizeof *k->p);
    if (!k->p) goto out;
    const cJSON *po;
    cJSON_ArrayForEach(po, probs) {
        ioaa_key_problem *kp = &k->p[k->n];
        char where[160];
        snprintf(where, sizeof where, "answer key problem %d", k->n + 1);
        if (!cJSON_IsObject(po)) {
            snprintf(err, errlen, "%s: must be an object", where);
            goto out;
        }
        if (get_str(po, "year", kp->year, sizeof kp->year, 1, where, err, errlen) ||
            get_str(po, "part", kp->part, sizeof kp->part, 1, where, err, errlen) ||
            get_str(po, "id", kp->id, sizeof kp->id, 1, where, err, errlen))
            goto out;
        if (strcmp(kp->part, "theory") && strcmp(kp->part, "data_analysis")) {
            snprintf(err, errlen, "%s: \"part\" must be theory or data_analysis", where);
            goto out;
        }
        snprintf(where, sizeof where, "answer key %s/%s/%s", kp->year, kp->part, kp->id);
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(po, "items");
        if (!cJSON_IsArray(items) || cJSON_GetArraySize(items) < 1 ||
            cJSON_GetArraySize(items) > IOAA_MAX_ITEMS) {
            snprintf(err, errlen, "%s: \"items\" must be an array of 1 to %d items", where,
                     IOAA_MAX_ITEMS);
            goto out;
        }
        const cJSON *io;
        cJSON_ArrayForEach(io, items) {
            char w2[200];
            snprintf(w2, sizeof w2, "%s item %d", where, kp->n_items + 1);
            if (parse_item(&kp->items[kp->n_items], io, w2, err, errlen)) goto out;
            kp->n_items++;
        }
        if (ioaa_key_find(k, kp->year, kp->part, kp->id)) {
            snprintf(err, errlen, "%s: listed twice", where);
            goto out;
        }
        k->n++;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc) ioaa_key_free(k);
    return rc;
}

int ioaa_key_load(ioaa_key *k, const char *path, char *err, size_t errlen) {
    char sub[400];
    char *text = ioaa_read_file(path, 16u << 20, NULL, sub, sizeof sub);
    if (!text) {
        memset(k, 0, sizeof *k);
        snprintf(err, errlen, "answer key: %s", sub);
        return -1;
    }
    int rc = ioaa_key_parse(k, text, sub, sizeof sub);
    free(text);
    if (rc) snprintf(err, errlen, "%s: %s", path, sub);
    return rc;
}

const ioaa_key_problem *ioaa_key_find(const ioaa_key *k, const char *year, const char *part,
                                      const char *id) {
    for (int i = 0; i < k->n; i++)
        if (!strcmp(k->p[i].year, year) && !strcmp(k->p[i].part, part) && !strcmp(k->p[i].id, id))
            return &k->p[i];
    return NULL;
}

int ioaa_key_check(const ioaa_key *k, const ioaa_exam *ex, char *err, size_t errlen) {
    for (int i = 0; i < ex->n; i++) {
        const ioaa_problem *p = &ex->p[i];
        const ioaa_key_problem *kp = ioaa_key_find(k, p->year, p->part, p->id);
        if (!kp) {
            snprintf(err, errlen, "answer key has no entry for %s/%s/%s", p->year, p->part, p->id);
            return -1;
        }
        double sum = 0;
        for (int j = 0; j < kp->n_items; j++) sum += kp->items[j].points;
        if (sum < p->max_points - 1e-9 || sum > p->max_points + 1e-9) {
            snprintf(err, errlen,
                     "answer key %s/%s/%s: items sum to %g points, the statement gives %g", p->year,
                     p->part, p->id, sum, p->max_points);
            return -1;
        }
    }
    return 0;
}

void ioaa_key_free(ioaa_key *k) {
    free(k->p);
    k->p = NULL;
    k->n = 0;
}
