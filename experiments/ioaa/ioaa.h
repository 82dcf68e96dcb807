/* ioaa: language models on olympiad astronomy exams (arXiv 2510.05016).
 *
 * The pipeline: exams (the authors' LaTeX release layout, or our JSON format)
 * -> prompts -> an OpenAI-compatible chat-completions server (any, or
 * `dynlab serve gpt`) through a cached, retrying client -> grading against
 * an answer key (numeric with units, judge model, manual grades) -> scores
 * per exam and part, rank and medal among human participants, points lost by
 * error category. docs/papers/ioaa.md describes every reconstructed choice. */
#ifndef DYNLAB_EXP_IOAA_H
#define DYNLAB_EXP_IOAA_H

#include <stddef.h>
#include <stdint.h>
#include "dynlab/config.h"
#include "dynlab/run.h"

#define IOAA_MAX_FIGS 16
#define IOAA_MAX_ITEMS 16

/* ---- exams ---------------------------------------------------------------- */

typedef struct ioaa_problem {
    char year[16];          /* release folder name: "2022", or "sample" */
    char part[32];          /* "theory" or "data_analysis" */
    char id[64];            /* file stem: "Q1", "T3", "D1" */
    char *body;             /* text between \begin{document} and \end{document} */
    char figures[IOAA_MAX_FIGS][128]; /* "images/<name>" as the authors' preproc.py maps them */
    int n_figures;
    double max_points;      /* "(N points)" in the statement, else the sum of "[n]" marks */
} ioaa_problem;

typedef struct ioaa_exam {
    ioaa_problem *p;
    int n;
} ioaa_exam;

/* Load DIR/<year>/<Theory|Data Analysis>/<*.tex> (the authors' release
 * layout), problems sorted by (year, part, id). -1 with one line in err. */
int ioaa_exam_load_dir(ioaa_exam *ex, const char *dir, char *err, size_t errlen);
/* Parse one LaTeX problem file's text (exposed for tests and fuzzing). */
int ioaa_problem_parse(ioaa_problem *pr, const char *text, size_t len, char *err, size_t errlen);
/* Point value of a statement: "(N points)" or "(N pts)" when present (the
 * largest, as a problem total), else the sum of bracketed marks "[n]". */
double ioaa_points_of(const char *body);
void ioaa_exam_free(ioaa_exam *ex);

/* ---- answer key (our JSON format; docs/papers/ioaa.md) -------------------- */

typedef enum { IOAA_NUMERIC, IOAA_EXPRESSION, IOAA_TEXT } ioaa_answer_type;

typedef struct ioaa_item {
    char id[32];
    double points;
    int type;               /* ioaa_answer_type */
    double value;           /* numeric: reference value in `unit` */
    char unit[32];          /* numeric: "km", "pc", "K", "" (dimensionless) */
    double rel_tol;         /* numeric: accepted relative error */
    char answer[256];       /* expression: reference expression; text: model answer summary */
    char rubric[512];       /* what earns the points (judge and manual graders) */
    char category[32];      /* error category charged when the points are lost */
} ioaa_item;

typedef struct ioaa_key_problem {
    char year[16], part[32], id[64];
    ioaa_item items[IOAA_MAX_ITEMS];
    int n_items;
} ioaa_key_problem;

typedef struct ioaa_key {
    ioaa_key_problem *p;
    int n;
} ioaa_key;

int ioaa_key_parse(ioaa_key *k, const char *json, char *err, size_t errlen);
int ioaa_key_load(ioaa_key *k, const char *path, char *err, size_t errlen);
const ioaa_key_problem *ioaa_key_find(const ioaa_key *k, const char *year, const char *part,
                                      const char *id);
void ioaa_key_free(ioaa_key *k);
/* Every exam problem has a key entry whose item points sum to its max points. */
int ioaa_key_check(const ioaa_key *k, const ioaa_exam *ex, char *err, size_t errlen);

/* ---- units and numeric answers ------------------------------------------- */

/* SI factor and dimension code of a unit name ("km", "AU", "pc", "ly", "yr",
 * "K", "kg", "M_sun", ...). -1 when unknown. */
int ioaa_unit(const char *name, double *factor, char *dim, size_t dimlen);
/* The answer of item `item_id` in a response: the last "item_id: <number>
 * <unit>" (or "\boxed{...}" when the problem has one item) line. 0 on success. */
int ioaa_extract_numeric(const char *response, const char *item_id, int only_item, double *value,
                         char *unit, size_t unitlen);
/* Numeric grade: 1 when value (in unit) equals ref (in ref_unit) within the
 * relative tolerance after conversion to SI and the dimensions agree. */
int ioaa_numeric_match(double value, const char *unit, double ref, const char *ref_unit,
                       double rel_tol);

/* ---- grading --------------------------------------------------------------- */

typedef enum { IOAA_SRC_AUTO, IOAA_SRC_JUDGE, IOAA_SRC_MANUAL, IOAA_SRC_NONE } ioaa_source;

typedef struct ioaa_item_grade {
    double awarded;
    int source;             /* ioaa_source */
    char category[32];      /* where the lost points are charged ("" when none lost) */
} ioaa_item_grade;

typedef struct ioaa_manual_grade {
    char model[64], year[16], part[32], problem[64], item[32];
    double points;
    char category[32];
} ioaa_manual_grade;

typedef struct ioaa_manual {
    ioaa_manual_grade *g;
    int n;
} ioaa_manual;

/* Grades CSV: model,year,part,problem,item,points[,category] with a header
 * line. -1 with one line naming the row on a malformed file. */
int ioaa_manual_load(ioaa_manual *m, const char *path, char *err, size_t errlen);
int ioaa_manual_parse(ioaa_manual *m, const char *text, char *err, size_t errlen);
void ioaa_manual_free(ioaa_manual *m);
const ioaa_manual_grade *ioaa_manual_find(const ioaa_manual *m, const char *model,
                                          const char *year, const char *part,
                                          const char *problem, const char *item);

/* ---- scores, ranks, medals ------------------------------------------------ */

typedef struct ioaa_medal_rule {
    double gold, silver, bronze; /* multiples of the human median (1.6, 1.3, 1.0) */
} ioaa_medal_rule;

/* Rank of score s among n human scores: 1 + #{h > s} (ties share the rank). */
int ioaa_rank(const double *human, int n, double s);
/* Percentile: 100 * #{h <= s} / n (the share of participants at or below). */
double ioaa_percentile(const double *human, int n, double s);
double ioaa_median(const double *x, int n);
/* 3 gold, 2 silver, 1 bronze, 0 none. */
int ioaa_medal(const double *human, int n, double s, const ioaa_medal_rule *rule);
const char *ioaa_medal_name(int medal);
/* Mean of per-year percentages (the paper's "average over years"). */
double ioaa_mean(const double *x, int n);

/* Human scores CSV: year,part,score (header line), scores as percentages of
 * the part's maximum. -1 with one line on a malformed row. */
typedef struct ioaa_humans {
    char (*year)[16];
    char (*part)[32];
    double *score;
    int n;
} ioaa_humans;
int ioaa_humans_parse(ioaa_humans *h, const char *text, char *err, size_t errlen);
void ioaa_humans_free(ioaa_humans *h);
/* Scores of one (year, part) into out (caller frees). Returns the count. */
int ioaa_humans_select(const ioaa_humans *h, const char *year, const char *part, double **out);

/* ---- prompts, client, cache, server -------------------------------------- */

/* The chat-completions request body (JSON) for a problem: a system message
 * and a user message with the instructions, the problem text with blank-line
 * runs collapsed and the constants sheet (caller frees). */
char *ioaa_request_json(const char *model, const ioaa_problem *p, double temperature,
                        int max_tokens, uint64_t seed);

typedef struct ioaa_client {
    char base_url[512];     /* "http://127.0.0.1:8080/v1" */
    char api_key[256];
    char cache_dir[1024];   /* "" = no cache */
    double timeout_s;
    int retries;            /* extra attempts on 429, 5xx and connection errors */
    double backoff_s;       /* first wait; doubles each retry */
    /* counters (atomic enough: updated under the client's mutex) */
    int n_http, n_cached, n_failed;
} ioaa_client;

/* One completion: the cache first (keyed by a hash of base URL-independent
 * request JSON), else POST base_url/chat/completions with retries; the
 * answer text (caller frees) or NULL with one line in err. */
char *ioaa_complete(ioaa_client *c, const char *request_json, char *err, size_t errlen);
/* Cache file path of a request. */
void ioaa_cache_path(const ioaa_client *c, const char *request_json, char *out, size_t n);

/* The OpenAI-compatible server for a trained `gpt` run directory. */
typedef struct ioaa_server ioaa_server;
/* Load the model from run_dir (config.json + checkpoint.safetensors, or the
 * given checkpoint path), bind host:port (port 0 = ephemeral). */
ioaa_server *ioaa_server_open(const char *checkpoint, const char *host, int port, int max_tokens,
                              char *err, size_t errlen);
int ioaa_server_port(const ioaa_server *s);
const char *ioaa_server_model(const ioaa_server *s);
/* Serve until ioaa_server_stop (from another thread) or, with max_requests
 * > 0, until that many completions were answered (then the listener closes,
 * as a killed server would). */
int ioaa_server_serve(ioaa_server *s, int max_requests);
void ioaa_server_stop(ioaa_server *s);
int ioaa_server_completions(const ioaa_server *s);
void ioaa_server_close(ioaa_server *s);

/* ---- the sample exam written for this project ----------------------------- */

/* Write the sample exam (release layout), its answer key, the scripted
 * transcripts, the hand-computed totals and a human-score CSV under dir. */
int ioaa_sample_write(const char *dir, char *err, size_t errlen);

#endif

/* ---- grading one response (grade.c) --------------------------------------- */

typedef struct ioaa_judge {
    ioaa_client *client;    /* NULL: no judge; expression/text items need manual grades */
    char model[128];
    int n_unparsed;         /* judge replies without a usable "SCORE:" line (graded 0) */
} ioaa_judge;

/* Grade every rubric item of `kp` for `model`'s response: a manual grade when
 * the grades file has one, else numeric items automatically, else the judge.
 * Returns the points awarded (sum of out[]), or -1 on a client error (err). */
double ioaa_grade_problem(const ioaa_key_problem *kp, const char *model, const char *response,
                          const ioaa_manual *manual, ioaa_judge *judge, ioaa_item_grade *out,
                          char *err, size_t errlen);
/* The judge request body for one item (exposed for tests). */
char *ioaa_judge_request(const char *judge_model, const ioaa_item *it, const char *response);
/* Points from a judge reply: the last "SCORE: x" clamped to [0, max]; -1 if none. */
double ioaa_judge_parse(const char *reply, double max_points);
