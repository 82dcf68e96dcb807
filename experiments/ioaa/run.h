/* The ioaa system's configuration and run (run.c). */
#ifndef DYNLAB_EXP_IOAA_RUN_H
#define DYNLAB_EXP_IOAA_RUN_H

#include "dynlab/config.h"
#include "dynlab/run.h"

typedef struct ioaa_cfg {
    char exam_dir[DL_STR_MAX], key_path[DL_STR_MAX], grades_path[DL_STR_MAX],
        humans_path[DL_STR_MAX];
    char base_url[DL_STR_MAX], model[DL_STR_MAX], api_key_env[DL_STR_MAX], cache_dir[DL_STR_MAX];
    double timeout_s, backoff_s;
    int retries, concurrency;
    double temperature;
    int max_tokens;
    int judge;
    char judge_model[DL_STR_MAX];
    double gold, silver, bronze;
    int served_steps, served_tokens;
    double kill_frac;
} ioaa_cfg;

int ioaa_run(const void *cfg, dl_run *run);

#endif
