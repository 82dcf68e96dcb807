/* libFuzzer harness: safetensors files and training checkpoints
 * (src/io/safetensors.c, src/io/checkpoint.c). Every input is opened; an
 * accepted file has every tensor read in full (ASan checks the bounds), then
 * it is loaded as a checkpoint of a two-parameter model with AdamW. Invariants:
 * no crash or undefined behaviour, one-line errors, and a refused checkpoint
 * leaves the model and optimizer untouched. */
#include "fuzz_util.h"
#include "dynlab/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(data, size);
    char err[768] = "";
    dl_st_file *f = dl_st_open(path, err, sizeof err);
    if (!f) {
        fuzz_check_err(err);
    } else {
        volatile double sum = 0;
        for (int i = 0; i < dl_st_count(f); i++) {
            const char *name = dl_st_name(f, i);
            int nd, sh[DL_MAX_DIMS];
            const float *x = dl_st_get_f32(f, name, &nd, sh);
            if (x) {
                int64_t n = 1;
                for (int d = 0; d < nd; d++) n *= sh[d];
                for (int64_t k = 0; k < n; k++) sum += x[k];
            }
            int64_t m;
            const int64_t *y = dl_st_get_i64(f, name, &m);
            for (int64_t k = 0; y && k < m; k++) sum += (double)y[k];
        }
        if (sum != sum) fputs("", stderr); /* keep the reads */
        dl_st_close(f);
    }
    /* As a checkpoint: params "a" [2,3] and "b" [3], AdamW, 2 RNG words. */
    float a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {7, 8, 9}, ga[6] = {0}, gb[3] = {0};
    dl_tensor ta = {.data = a, .grad = ga, .size = 6, .ndim = 2, .shape = {2, 3},
                    .requires_grad = 1, .is_param = 1, .name = "a"};
    dl_tensor tb = {.data = b, .grad = gb, .size = 3, .ndim = 1, .shape = {3},
                    .requires_grad = 1, .is_param = 1, .name = "b"};
    dl_tensor *items[2] = {&ta, &tb};
    dl_params ps = {.items = items, .n = 2, .cap = 2};
    /* (fields set by hand: the optimizer's code needs OpenMP, not linked here) */
    dl_optim o = {.kind = DL_OPT_ADAMW, .lr = 0.01f, .ps = &ps};
    int64_t step = -1;
    uint64_t rng[2] = {0, 0};
    if (dl_checkpoint_load(path, &ps, &o, &step, rng, 2, err, sizeof err) != 0) {
        fuzz_check_err(err);
        if (a[0] != 1 || b[2] != 9 || step != -1 || rng[0] || o.step) {
            fprintf(stderr, "a refused checkpoint changed the model\n");
            abort();
        }
    } else if (step < 0 || o.step < 0 || o.step > step) {
        fprintf(stderr, "accepted checkpoint with step %lld, optim.step %lld\n", (long long)step,
                (long long)o.step);
        abort();
    }
    for (int i = 0; i < o.n_state; i++) {
        free(o.m[i]);
        free(o.v[i]);
    }
    free(o.m);
    free(o.v);
    return 0;
}
