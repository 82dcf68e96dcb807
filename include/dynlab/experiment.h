/* The experiment registry: one entry per paper system.
 *
 * Each system lives in experiments/<name>/ and defines exactly one
 *   const dl_experiment dl_exp_<name> = { ... };
 * CMake discovers experiments/<name>/ folders and generates the registry, so
 * adding a system never touches shared files. */
#ifndef DYNLAB_EXPERIMENT_H
#define DYNLAB_EXPERIMENT_H

#include "dynlab/config.h"
#include "dynlab/run.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dl_preset {
    const char *name;  /* "quick", "paper", ... */
    const char *json;  /* overrides applied on top of the schema defaults */
} dl_preset;

typedef struct dl_experiment {
    const char *name;      /* "gpt", "mot", ... (CLI name, run folder) */
    const char *title;     /* paper title */
    const char *arxiv;     /* "2510.27004" or "" */
    const char *summary;   /* what the paper claims, two or three sentences (report) */
    const dl_config_schema *schema;
    const dl_preset *presets; /* NULL-terminated by name == NULL; first is "quick" */
    /* Run with a fully resolved config. Returns 0 when the run completed
     * (whatever its claims say), non-zero on failure after logging one clear
     * error line with dl_log. */
    int (*run)(const void *cfg, dl_run *run);
} dl_experiment;

/* Optional constraints that involve several knobs (a phase's steps below the
 * total, d_model divisible by heads...): a system defines
 *   int dl_check_<name>(const void *cfg, char *err, size_t errlen);
 * in its experiment.c (found by the generated registry, no struct field to
 * fill). It gets the resolved config before any run starts and returns 0, or
 * -1 with one line in err; the CLI then exits 2 (a configuration error) and
 * creates nothing. Single-knob ranges belong in the schema. */
typedef int (*dl_config_check_fn)(const void *cfg, char *err, size_t errlen);
dl_config_check_fn dl_experiment_check(const dl_experiment *e); /* NULL: none */

int dl_experiment_count(void);
const dl_experiment *dl_experiment_at(int i);
const dl_experiment *dl_experiment_find(const char *name);
const dl_preset *dl_experiment_preset(const dl_experiment *e, const char *name);

#ifdef __cplusplus
}
#endif
#endif
