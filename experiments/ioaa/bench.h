/* Benchmark passes and result tables of the ioaa system (bench.c). */
#ifndef DYNLAB_EXP_IOAA_BENCH_H
#define DYNLAB_EXP_IOAA_BENCH_H

#include "ioaa/ioaa.h"

#define IOAA_N_CATEGORIES 7

typedef struct ioaa_result {
    int done;               /* answered and graded */
    double points;
    ioaa_item_grade items[IOAA_MAX_ITEMS];
    int n_items;
} ioaa_result;

typedef struct ioaa_part_score {
    char year[16], part[32];
    double points, max_points, pct;
    int n_humans, rank, medal;
    double percentile, median;
} ioaa_part_score;

/* Ask `model` every problem through the client (cache first), grade each
 * answer. 0, or -1 with the first failure in err (results of the problems
 * that were answered stay in res and in the cache). */
int ioaa_bench_model(const ioaa_exam *ex, const ioaa_key *key, const ioaa_manual *manual,
                     ioaa_client *client, ioaa_judge *judge, const char *model, double temperature,
                     int max_tokens, uint64_t seed, int concurrency, ioaa_result *res, char *err,
                     size_t errlen);
/* Grade scripted answers dir/<model>/<year>/<part>/<id>.txt. */
int ioaa_bench_transcripts(const ioaa_exam *ex, const ioaa_key *key, const ioaa_manual *manual,
                           const char *dir, const char *model, ioaa_result *res, char *err,
                           size_t errlen);
/* Same points, item by item, and the same sources. */
int ioaa_results_equal(const ioaa_result *a, const ioaa_result *b, int n);
/* Per (year, part): points, percentage, rank, percentile and medal among the
 * humans of that (year, part). Returns the number of rows. */
int ioaa_summarise(const ioaa_exam *ex, const ioaa_result *res, const ioaa_humans *humans,
                   const ioaa_medal_rule *rule, ioaa_part_score *out, int max_out);
void ioaa_lost_by_category(const ioaa_exam *ex, const ioaa_key *key, const ioaa_result *res,
                           double *lost);
const char *ioaa_category_name(int c);
int ioaa_category_index(const char *name);

#endif
