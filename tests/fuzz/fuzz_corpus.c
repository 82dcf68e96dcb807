/* libFuzzer harness: the text corpus reader of the gpt system
 * (experiments/gpt/corpus.c: fortune-file document splitting, train and
 * validation split, byte vocabulary, n-gram references). Invariants: no
 * crash or undefined behaviour; one-line errors; an accepted corpus has
 * token ids inside its vocabulary and finite references. */
#include "fuzz_util.h"
#include <math.h>
#include "gpt/gpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 16) return 0;
    const char *path = fuzz_file(data, size);
    char err[512] = "";
    gpt_corpus c;
    if (gpt_corpus_load(&c, path, 0.2, 4, err, sizeof err) != 0) {
        fuzz_check_err(err);
        return 0;
    }
    for (int64_t i = 0; i < c.n_train; i++)
        if (c.train[i] < 0 || c.train[i] >= c.vocab) abort();
    for (int64_t i = 0; i < c.n_val; i++)
        if (c.val[i] < 0 || c.val[i] >= c.vocab) abort();
    if (!isfinite(c.h_unigram) || !isfinite(c.bigram_val_xent)) abort();
    gpt_corpus_free(&c);
    return 0;
}
