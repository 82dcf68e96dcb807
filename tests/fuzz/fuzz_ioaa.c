/* libFuzzer harness: the ioaa system's readers (experiments/ioaa): a LaTeX
 * problem file, the answer-key JSON, the participants' and manual-grades
 * CSVs, and numeric-answer extraction, all fed the same bytes. Invariants:
 * no crash or undefined behaviour; a refusal comes with one error line; an
 * accepted problem has a finite, non-negative point value. */
#include "fuzz_util.h"
#include <math.h>
#include "ioaa/ioaa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    char err[512] = "";
    ioaa_problem p;
    memset(&p, 0, sizeof p);
    if (ioaa_problem_parse(&p, text, size, err, sizeof err) == 0) {
        if (!(p.max_points >= 0) || !isfinite(p.max_points)) abort();
        free(p.body);
    } else {
        fuzz_check_err(err);
    }
    ioaa_key k;
    err[0] = 0;
    if (ioaa_key_parse(&k, text, err, sizeof err) == 0) ioaa_key_free(&k);
    else fuzz_check_err(err);
    ioaa_humans h;
    err[0] = 0;
    if (ioaa_humans_parse(&h, text, err, sizeof err) == 0) ioaa_humans_free(&h);
    else fuzz_check_err(err);
    ioaa_manual m;
    err[0] = 0;
    if (ioaa_manual_parse(&m, text, err, sizeof err) == 0) ioaa_manual_free(&m);
    else fuzz_check_err(err);
    double v;
    char unit[32];
    if (ioaa_extract_numeric(text, "a", 1, &v, unit, sizeof unit) == 0 && !isfinite(v)) abort();
    free(text);
    return 0;
}
