/* libFuzzer harness: the sentiment system's CSV readers (experiments/
 * sentiment/data.c). The input is split at its first NUL byte into a prices
 * file and a texts file. Invariants: no crash or undefined behaviour; a
 * refusal comes with one error line; an accepted market has increasing dates,
 * positive closes, labels in {-1, 0, 1} and token ids inside the vocabulary. */
#include "fuzz_util.h"
#include <fcntl.h>
#include "sentiment/sentiment.h"

static const char *write_tmp(int *fd, const char *name, const uint8_t *d, size_t n) {
    static char paths[2][64];
    int k = name[0] == 't';
    if (*fd < 0) {
        *fd = memfd_create(name, MFD_CLOEXEC);
        if (*fd < 0) abort();
        snprintf(paths[k], sizeof paths[k], "/proc/self/fd/%d", *fd);
    }
    if (ftruncate(*fd, 0) != 0) abort();
    if (n && pwrite(*fd, d, n, 0) != (ssize_t)n) abort();
    return paths[k];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int fp = -1, ft = -1;
    const uint8_t *nul = memchr(data, 0, size);
    size_t np = nul ? (size_t)(nul - data) : size;
    const char *prices = write_tmp(&fp, "prices", data, np);
    const char *texts = write_tmp(&ft, "texts", nul ? nul + 1 : data, nul ? size - np - 1 : 0);
    sent_market mk;
    char err[512] = "";
    if (sent_market_load(&mk, texts, prices, 3, 5, 40, 0.7, 2, 0.05, err, sizeof err) != 0) {
        fuzz_check_err(err);
        return 0;
    }
    for (int d = 0; d < mk.n_days; d++) {
        if (!(mk.close[d] > 0)) abort();
        if (d && strcmp(mk.date[d - 1], mk.date[d]) >= 0) abort();
        if (mk.risk[d] < -1 || mk.risk[d] > 1) abort();
    }
    for (long i = 0; i < (long)mk.n_days * 15; i++)
        if (mk.tokens[i] < 0 || mk.tokens[i] >= mk.vocab) abort();
    sent_market_free(&mk);
    return 0;
}
