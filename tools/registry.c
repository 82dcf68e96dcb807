/* Registry lookup over the CMake-generated table (registry_table.c). */
#include <string.h>
#include "dynlab/experiment.h"

extern const dl_experiment *const dl_registry[];
extern dl_config_check_fn const dl_registry_check[]; /* parallel to dl_registry */

int dl_experiment_count(void) {
    int n = 0;
    while (dl_registry[n]) n++;
    return n;
}

const dl_experiment *dl_experiment_at(int i) {
    return (i >= 0 && i < dl_experiment_count()) ? dl_registry[i] : NULL;
}

const dl_experiment *dl_experiment_find(const char *name) {
    for (int i = 0; dl_registry[i]; i++)
        if (strcmp(dl_registry[i]->name, name) == 0) return dl_registry[i];
    return NULL;
}

const dl_preset *dl_experiment_preset(const dl_experiment *e, const char *name) {
    if (!e->presets) return NULL;
    for (const dl_preset *p = e->presets; p->name; p++)
        if (strcmp(p->name, name) == 0) return p;
    return NULL;
}

dl_config_check_fn dl_experiment_check(const dl_experiment *e) {
    for (int i = 0; dl_registry[i]; i++)
        if (dl_registry[i] == e) return dl_registry_check[i];
    return NULL;
}
