/* libFuzzer harness: `dynlab sweep` arguments (src/dist/sweep.c). The first
 * line is a --seeds list, every further line one --grid KEY=V1,V2,...
 * Invariants: no crash or undefined behaviour (the job count is computed
 * without overflow); one-line errors; the job list has seeds x product of
 * the grid sizes entries, each with a distinct directory name. */
#include "fuzz_util.h"
#include "dist/sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 14) return 0;
    char *text = fuzz_text(data, size), err[700] = "";
    char *nl = strchr(text, '\n');
    if (nl) *nl++ = 0;
    uint64_t *seeds = NULL;
    int n_seeds = 0, n_axes = 0;
    static dl_sweep_axis axes[DL_SWEEP_MAX_AXES];
    if (dl_sweep_parse_seeds(text, &seeds, &n_seeds, err, sizeof err) != 0) {
        fuzz_check_err(err);
        free(text);
        return 0;
    }
    for (char *line = nl, *next; line && n_axes < DL_SWEEP_MAX_AXES; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        if (dl_sweep_parse_axis(line, &axes[n_axes], err, sizeof err) != 0) {
            fuzz_check_err(err);
            continue;
        }
        n_axes++;
    }
    int n = dl_sweep_count_jobs(n_seeds, axes, n_axes, err, sizeof err);
    if (n < 0) {
        fuzz_check_err(err);
    } else if (n <= 512) {
        int n_jobs = -1;
        dl_sweep_job *jobs = dl_sweep_jobs("quick", seeds, n_seeds, axes, n_axes, &n_jobs);
        if (!jobs || n_jobs != n) abort();
        for (int j = 0; j < n_jobs; j++)
            if (jobs[j].index != j || jobs[j].n_sets != n_axes) abort();
        if (dl_sweep_check_names(jobs, n_jobs, err, sizeof err) != 0) {
            fuzz_check_err(err);
        } else { /* accepted: every run directory distinct */
            for (int j = 0; j < n_jobs; j++)
                for (int k = j + 1; k < n_jobs; k++)
                    if (!strcmp(jobs[j].name, jobs[k].name)) abort();
        }
        free(jobs);
    }
    free(seeds);
    free(text);
    return 0;
}
