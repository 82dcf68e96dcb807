/* libFuzzer harness: IDX files, plain or gzip-compressed (src/io/data.c).
 * Invariants: no crash or undefined behaviour; memory follows the bytes
 * present, not the header's claim (libFuzzer's malloc limit catches a huge
 * allocation); an accepted file holds exactly product(dims) bytes. */
#include "fuzz_util.h"
#include "dynlab/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(data, size);
    char err[512] = "";
    dl_idx x;
    if (dl_idx_read(path, &x, err, sizeof err) != 0) {
        fuzz_check_err(err);
        return 0;
    }
    int64_t n = 1;
    for (int d = 0; d < x.ndim; d++) n *= x.dims[d];
    if (n != x.count) abort();
    volatile unsigned sum = 0;
    for (int64_t i = 0; i < x.count; i++) sum += x.data[i];
    if (sum == 0xffffffffu) fputs("", stderr); /* keep the reads */
    dl_idx_free(&x);
    return 0;
}
