/* One benchmark pass: every problem of the exam sent to a model through the
 * cached client (up to `concurrency` requests in flight), every response
 * graded, the results table filled. Scripted answer sets (transcripts on
 * disk) are graded the same way without a client. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ioaa/bench.h"
#include "ioaa/util.h"

typedef struct job_ctx {
    const ioaa_exam *ex;
    const ioaa_key *key;
    const ioaa_manual *manual;
    ioaa_client *client;
    ioaa_judge *judge;
    const char *model;
    double temperature;
    int max_tokens;
    uint64_t seed;
    ioaa_result *res; /* [ex->n] */
    pthread_mutex_t lock;
    int next, failed;
    char err[512];
} job_ctx;

static void *worker(void *arg) {
    job_ctx *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        int i = c->failed ? c->ex->n : c->next++;
        pthread_mutex_unlock(&c->lock);
        if (i >= c->ex->n) return NULL;
        const ioaa_problem *p = &c->ex->p[i];
        char err[512] = "";
        char *rq = ioaa_request_json(c->model, p, c->temperature, c->max_tokens, c->seed);
        char *answer = rq ? ioaa_complete(c->client, rq, err, sizeof err) : NULL;
        free(rq);
        ioaa_result *r = &c->res[i];
        double pts = -1;
        if (answer) {
            const ioaa_key_problem *kp = ioaa_key_find(c->key, p->year, p->part, p->id);
            /* The judge shares the client (and its cache); its counters are
             * per pass, so the judge is used under the lock. */
            pthread_mutex_lock(&c->lock);
            pts = ioaa_grade_problem(kp, c->model, answer, c->manual, c->judge, r->items, err,
                                     sizeof err);
            pthread_mutex_unlock(&c->lock);
            r->n_items = kp->n_items;
        }
        free(answer);
        pthread_mutex_lock(&c->lock);
        if (pts < 0) {
            if (!c->failed) snprintf(c->err, sizeof c->err, "%.15s/%.31s/%.63s: %.380s", p->year, p->part, p->id, err);
            c->failed = 1;
        } else {
            r->points = pts;
            r->done = 1;
        }
        pthread_mutex_unlock(&c->lock);
    }
}

int ioaa_bench_model(const ioaa_exam *ex, const ioaa_key *key, const ioaa_manual *manual,
                     ioaa_client *client, ioaa_judge *judge, const char *model, double temperature,
                     int max_tokens, uint64_t seed, int concurrency, ioaa_result *res, char *err,
                     size_t errlen) {
    job_ctx c = {.ex = ex, .key = key, .manual = manual, .client = client, .judge = judge,
                 .model = model, .temperature = temperature, .max_tokens = max_tokens,
                 .seed = seed, .res = res};
    pthread_mutex_init(&c.lock, NULL);
    memset(res, 0, (size_t)ex->n * sizeof *res);
    if (concurrency < 1) concurrency = 1;
    if (concurrency > 64) concurrency = 64;
    pthread_t th[64];
    int started = 0;
    for (int t = 0; t < concurrency; t++)
        if (pthread_create(&th[t], NULL, worker, &c) == 0) started++;
    if (started == 0) worker(&c);
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    pthread_mutex_destroy(&c.lock);
    if (c.failed) {
        snprintf(err, errlen, "%s", c.err);
        return -1;
    }
    return 0;
}

int ioaa_bench_transcripts(const ioaa_exam *ex, const ioaa_key *key, const ioaa_manual *manual,
                           const char *dir, const char *model, ioaa_result *res, char *err,
                           size_t errlen) {
    memset(res, 0, (size_t)ex->n * sizeof *res);
    for (int i = 0; i < ex->n; i++) {
        const ioaa_problem *p = &ex->p[i];
        char path[1400], sub[400];
        snprintf(path, sizeof path, "%s/%s/%s/%s/%s.txt", dir, model, p->year, p->part, p->id);
        char *answer = ioaa_read_file(path, 16u << 20, NULL, sub, sizeof sub);
        if (!answer) {
            snprintf(err, errlen, "transcript of %s: %s", model, sub);
            return -1;
        }
        const ioaa_key_problem *kp = ioaa_key_find(key, p->year, p->part, p->id);
        res[i].points = ioaa_grade_problem(kp, model, answer, manual, NULL, res[i].items, sub,
                                           sizeof sub);
        res[i].n_items = kp->n_items;
        res[i].done = 1;
        free(answer);
    }
    return 0;
}

int ioaa_results_equal(const ioaa_result *a, const ioaa_result *b, int n) {
    for (int i = 0; i < n; i++) {
        if (a[i].done != b[i].done || a[i].points != b[i].points || a[i].n_items != b[i].n_items)
            return 0;
        for (int j = 0; j < a[i].n_items; j++)
            if (a[i].items[j].awarded != b[i].items[j].awarded ||
                a[i].items[j].source != b[i].items[j].source)
                return 0;
    }
    return 1;
}

int ioaa_summarise(const ioaa_exam *ex, const ioaa_result *res, const ioaa_humans *humans,
                   const ioaa_medal_rule *rule, ioaa_part_score *out, int max_out) {
    int n = 0;
    for (int i = 0; i < ex->n; i++) {
        const ioaa_problem *p = &ex->p[i];
        int k;
        for (k = 0; k < n; k++)
            if (!strcmp(out[k].year, p->year) && !strcmp(out[k].part, p->part)) break;
        if (k == n) {
            if (n == max_out) continue;
            memset(&out[n], 0, sizeof out[n]);
            snprintf(out[n].year, sizeof out[n].year, "%s", p->year);
            snprintf(out[n].part, sizeof out[n].part, "%s", p->part);
            n++;
        }
        out[k].max_points += p->max_points;
        out[k].points += res[i].done ? res[i].points : 0;
    }
    for (int k = 0; k < n; k++) {
        ioaa_part_score *s = &out[k];
        s->pct = 100.0 * s->points / s->max_points;
        double *h = NULL;
        int m = humans ? ioaa_humans_select(humans, s->year, s->part, &h) : 0;
        s->n_humans = m;
        if (m > 0) {
            s->rank = ioaa_rank(h, m, s->pct);
            s->percentile = ioaa_percentile(h, m, s->pct);
            s->medal = ioaa_medal(h, m, s->pct, rule);
            s->median = ioaa_median(h, m);
        }
        free(h);
    }
    return n;
}

void ioaa_lost_by_category(const ioaa_exam *ex, const ioaa_key *key, const ioaa_result *res,
                           double *lost /* [IOAA_N_CATEGORIES] */) {
    for (int c = 0; c < IOAA_N_CATEGORIES; c++) lost[c] = 0;
    for (int i = 0; i < ex->n; i++) {
        const ioaa_key_problem *kp = ioaa_key_find(key, ex->p[i].year, ex->p[i].part, ex->p[i].id);
        for (int j = 0; j < kp->n_items && j < res[i].n_items; j++) {
            double l = kp->items[j].points - res[i].items[j].awarded;
            if (l <= 0) continue;
            int c = ioaa_category_index(res[i].items[j].category);
            lost[c < 0 ? IOAA_N_CATEGORIES - 1 : c] += l;
        }
    }
}

static const char *const category_names[IOAA_N_CATEGORIES] = {
    "conceptual", "geometric_spatial", "calculation", "approximation",
    "plotting", "plot_or_image_reading", "other"};

const char *ioaa_category_name(int c) {
    return c >= 0 && c < IOAA_N_CATEGORIES ? category_names[c] : "other";
}

int ioaa_category_index(const char *name) {
    for (int c = 0; c < IOAA_N_CATEGORIES; c++)
        if (!strcmp(name, category_names[c])) return c;
    return -1;
}
