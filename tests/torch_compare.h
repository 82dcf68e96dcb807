/* The comparison shared by the PyTorch parity tests (test_nn_torch.c,
 * test_conv_torch.c, test_rnn_torch.c): a C result against the float64
 * reference tensor `key` of a safetensors file written by tests/torch_*.py.
 * Error = max |got - want| / max(max |want|, floor); the worst error and its key
 * are kept for the test's closing line, and an error of tol or more fails the
 * test. */
#ifndef TESTS_TORCH_COMPARE_H
#define TESTS_TORCH_COMPARE_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include "testutil.h"
#include "dynlab/checkpoint.h"

typedef struct tc_worst {
    double err;
    char key[256];
} tc_worst;

static inline void tc_compare(const dl_st_file *f, const char *key, const float *got, int64_t n, double floor,
                              double tol, tc_worst *worst)
{
    int nd, sh[4];
    const float *want = dl_st_get_f32(f, key, &nd, sh);
    if (!want) fail_msg("reference output '%s' missing", key);
    int64_t m = 1;
    for (int d = 0; d < nd; d++) m *= sh[d];
    if (m != n) fail_msg("'%s': %lld elements in the reference, %lld here", key, (long long)m, (long long)n);
    double md = 0, mw = floor;
    for (int64_t i = 0; i < n; i++) {
        md = fmax(md, fabs((double)got[i] - want[i]));
        mw = fmax(mw, fabs((double)want[i]));
    }
    const double e = md / mw;
    if (e > worst->err) {
        worst->err = e;
        snprintf(worst->key, sizeof worst->key, "%s", key);
    }
    if (!(e < tol)) fail_msg("'%s': relative error %.3g >= %g", key, e, tol);
}

#endif
