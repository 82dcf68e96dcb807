/* ioaa: language models on olympiad astronomy exams (arXiv 2510.05016).
 * Registration, knobs and presets; the run is in run.c. */
#include "dynlab/experiment.h"
#include "ioaa/run.h"

#define F_INT(m, key, def, lo, hi, help) DL_FIELD_INT(ioaa_cfg, m, key, def, lo, hi, help)
#define F_DBL(m, key, def, lo, hi, help) DL_FIELD_DOUBLE(ioaa_cfg, m, key, def, lo, hi, help)
#define F_STR(m, key, def, help) DL_FIELD_STRING(ioaa_cfg, m, key, def, help)

static const dl_field ioaa_fields[] = {
    F_STR(exam_dir, "exam.dir", "",
          "exams in the authors' release layout (<year>/Theory/*.tex, <year>/Data Analysis/*.tex); "
          "empty: the sample exam written for dynlab"),
    F_STR(key_path, "exam.key", "", "answer key JSON (docs/papers/ioaa.md); empty: the sample's"),
    F_STR(grades_path, "grades.file", "",
          "manual grades CSV (model,year,part,problem,item,points[,category]); empty: the sample's"),
    F_STR(humans_path, "humans.csv", "",
          "participants' scores CSV (year,part,score in percent); empty: the sample's"),
    F_STR(base_url, "client.base_url", "",
          "OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1; empty: train a small gpt and "
          "serve it on loopback (dynlab serve)"),
    F_STR(model, "client.model", "dynlab-gpt", "model name sent to the server"),
    F_STR(api_key_env, "client.api_key_env", "OPENAI_API_KEY",
          "environment variable holding the API key (may be unset for local servers)"),
    F_DBL(timeout_s, "client.timeout", 900, 0.1, 86400, "seconds per request (the authors use 900)"),
    F_INT(retries, "client.retries", 4, 0, 100, "extra attempts on 429, 5xx and connection errors"),
    F_DBL(backoff_s, "client.backoff", 1.0, 0, 600, "first retry wait in seconds (doubles each time)"),
    F_INT(concurrency, "client.concurrency", 2, 1, 64, "requests in flight (the authors use 2)"),
    F_STR(cache_dir, "client.cache", "",
          "response cache directory; empty: <run>/cache (an interrupted run resumes from it)"),
    F_DBL(temperature, "gen.temperature", 1.0, 0, 2, "sampling temperature (the authors use 1.0)"),
    F_INT(max_tokens, "gen.max_tokens", 64000, 1, 1000000, "max_tokens of each request"),
    DL_FIELD_BOOL(ioaa_cfg, judge, "judge.enabled", 1,
                  "grade expression and text items with a judge model through the same client"),
    F_STR(judge_model, "judge.model", "", "judge model name; empty: client.model"),
    F_DBL(gold, "medal.gold", 1.6, 0, 10, "gold threshold as a multiple of the participants' median"),
    F_DBL(silver, "medal.silver", 1.3, 0, 10, "silver threshold (multiple of the median)"),
    F_DBL(bronze, "medal.bronze", 1.0, 0, 10, "bronze threshold (multiple of the median)"),
    F_INT(served_steps, "served.steps", 150, 1, 1000000,
          "training steps of the gpt served on loopback (when client.base_url is empty)"),
    F_INT(served_tokens, "served.max_tokens", 120, 1, 100000,
          "the served gpt answers at most this many characters"),
    F_DBL(kill_frac, "resume.kill_after", 0.5, 0.01, 0.99,
          "interruption check: the served model is killed after this fraction of the requests"),
};

static const dl_config_schema ioaa_schema = {ioaa_fields, sizeof ioaa_fields / sizeof ioaa_fields[0],
                                             sizeof(ioaa_cfg)};

static const dl_preset ioaa_presets[] = {
    {"quick", "{\"client\": {\"timeout\": 20, \"retries\": 2, \"backoff\": 0.05},"
              " \"served\": {\"steps\": 40, \"max_tokens\": 120}}"},
    {"paper", "{\"client\": {\"timeout\": 60, \"retries\": 3, \"backoff\": 0.1},"
              " \"served\": {\"steps\": 1500, \"max_tokens\": 400}}"},
    {NULL, NULL},
};

const dl_experiment dl_exp_ioaa = {
    .name = "ioaa",
    .title = "Large Language Models Achieve Gold Medal Performance at the International Olympiad "
             "on Astronomy & Astrophysics (IOAA)",
    .arxiv = "2510.05016",
    .summary = "Five LLMs sit the IOAA theory and data-analysis exams of 2022-2025; answers are "
               "graded against the official marking schemes, the models are ranked among the "
               "human participants and placed against the medal thresholds, and their lost points "
               "are classified by error type. Theory scores reach gold level (averages 85.6% and "
               "84.2% for the top two) while data-analysis results diverge (GPT-5 88.5%, others "
               "48-76%). dynlab runs the benchmark pipeline end to end against any "
               "OpenAI-compatible server and checks its scoring, ranking, aggregation and resume "
               "logic; offline it serves a small dynlab gpt.",
    .schema = &ioaa_schema,
    .presets = ioaa_presets,
    .run = ioaa_run,
};
