/* Grading against the marking scheme (arXiv 2510.05016 grades by hand
 * against the official IOAA schemes with partial credit per sub-part). Here
 * each rubric item gets its points from, in order: a manual grade (the
 * editable grades file), automatic numeric grading (value and unit within the
 * item's relative tolerance), or a judge model through the same client. The
 * source of every point is recorded; lost points are charged to the item's
 * error category (or the manual grade's). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ioaa/ioaa.h"
#include "ioaa/util.h"

int ioaa_manual_load(ioaa_manual *m, const char *path, char *err, size_t errlen) {
    char sub[400];
    char *text = ioaa_read_file(path, 16u << 20, NULL, sub, sizeof sub);
    if (!text) {
        memset(m, 0, sizeof *m);
        snprintf(err, errlen, "grades file: %s", sub);
        return -1;
    }
    int rc = ioaa_manual_parse(m, text, sub, sizeof sub);
    free(text);
    if (rc) snprintf(err, errlen, "grades file %s: %s", path, sub);
    return rc;
}

char *ioaa_judge_request(const char *judge_model, const ioaa_item *it, const char *response) {
    char user[2048];
    snprintf(user, sizeof user,
             "Marking scheme item '%s' (%g points).\nReference answer: %s\nWhat earns the points: %s\n"
             "Grade the solution below against this item only. Reply with one final line "
             "\"SCORE: <points>\" between 0 and %g.\n\nSolution:\n",
             it->id, it->points, it->answer, it->rubric, it->points);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", judge_model);
    cJSON *msgs = cJSON_AddArrayToObject(root, "messages");
    cJSON *sys = cJSON_CreateObject();
    cJSON_AddStringToObject(sys, "role", "system");
    cJSON_AddStringToObject(sys, "content",
                            "You are a strict grader of astronomy olympiad solutions. Follow the "
                            "marking scheme; award partial credit only where it says so.");
    cJSON_AddItemToArray(msgs, sys);
    size_t n = strlen(user) + strlen(response) + 1;
    char *full = malloc(n);
    if (!full) {
        cJSON_Delete(root);
        return NULL;
    }
    snprintf(full, n, "%s%s", user, response);
    cJSON *usr = cJSON_CreateObject();
    cJSON_AddStringToObject(usr, "role", "user");
    cJSON_AddStringToObject(usr, "content", full);
    cJSON_AddItemToArray(msgs, usr);
    free(full);
    cJSON_AddNumberToObject(root, "temperature", 0);
    cJSON_AddNumberToObject(root, "max_tokens", 64);
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return out;
}

double ioaa_judge_parse(const char *reply, double max_points) {
    const char *hit = NULL;
    for (const char *p = reply; (p = strstr(p, "SCORE:")); p += 6) hit = p;
    if (!hit) return -1;
    char *end;
    double v = strtod(hit + 6, &end);
    if (end == hit + 6 || !isfinite(v)) return -1;
    return v < 0 ? 0 : v > max_points ? max_points : v;
}

double ioaa_grade_problem(const ioaa_key_problem *kp, const char *model, const char *response,
                          const ioaa_manual *manual, ioaa_judge *judge, ioaa_item_grade *out,
                          char *err, size_t errlen) {
    double total = 0;
    for (int i = 0; i < kp->n_items; i++) {
        const ioaa_item *it = &kp->items[i];
        ioaa_item_grade *g = &out[i];
        memset(g, 0, sizeof *g);
        const ioaa_manual_grade *mg =
            manual ? ioaa_manual_find(manual, model, kp->year, kp->part, kp->id, it->id) : NULL;
        if (mg) {
            g->awarded = mg->points > it->points ? it->points : mg->points;
            g->source = IOAA_SRC_MANUAL;
            if (mg->category[0]) snprintf(g->category, sizeof g->category, "%s", mg->category);
        } else if (it->type == IOAA_NUMERIC) {
            double v;
            char unit[32];
            int ok = ioaa_extract_numeric(response, it->id, kp->n_items == 1, &v, unit, sizeof unit) == 0 &&
                     ioaa_numeric_match(v, unit, it->value, it->unit, it->rel_tol);
            g->awarded = ok ? it->points : 0;
            g->source = IOAA_SRC_AUTO;
        } else if (judge && judge->client) {
            char *rq = ioaa_judge_request(judge->model, it, response);
            char *reply = rq ? ioaa_complete(judge->client, rq, err, errlen) : NULL;
            free(rq);
            if (!reply) return -1;
            double v = ioaa_judge_parse(reply, it->points);
            free(reply);
            if (v < 0) judge->n_unparsed++;
            g->awarded = v < 0 ? 0 : v;
            g->source = IOAA_SRC_JUDGE;
        } else {
            g->awarded = 0;
            g->source = IOAA_SRC_NONE;
        }
        if (g->awarded < it->points && !g->category[0])
            snprintf(g->category, sizeof g->category, "%s", it->category);
        total += g->awarded;
    }
    return total;
}
