/* treepath: the exact zero-init symmetry invariant (docs/papers/treepath.md,
 * claim C5). With batches closed under the affine group x -> ax+b mod S
 * (sharply 2-transitive), the SGD iterates of B stay in span{I, J}: all
 * diagonal entries equal, all off-diagonal entries equal. Checked to float
 * rounding (relative defect <= 1e-5) over training; random minibatches must
 * break it (the check is not vacuous). */
#include <math.h>
#include <string.h>
#include "testutil.h"
#include "treepath/train.h"

static void test_affine_group(void **state) {
    (void)state;
    int S = 7, hits[7][7] = {{0}};
    for (int k = 0; k < S * (S - 1); k++) {
        int perm[7], seen[7] = {0};
        tp_affine_perm(S, k, perm);
        for (int x = 0; x < S; x++) assert_int_equal(seen[perm[x]]++, 0);
        hits[perm[0]][perm[1]]++;
    }
    /* sharply 2-transitive: every ordered pair of distinct labels exactly once */
    for (int a = 0; a < S; a++)
        for (int b = 0; b < S; b++) assert_int_equal(hits[a][b], a != b);
    assert_true(tp_is_prime(31) && tp_is_prime(7) && !tp_is_prime(25));
}

static double run(int data, int steps, int S, int depth, int batch, double *diag) {
    dl_run run;
    memset(&run, 0, sizeof run);
    run.quiet = 1;
    dl_params ps;
    dl_params_init(&ps);
    tp_model m;
    tp_model_init(&m, &ps, TP_TASK_BACKWARD, S);
    tp_train_cfg c = {"sym", TP_TASK_BACKWARD, data, depth, S, batch, steps, 1.0, 1, steps + 1, 9, 4};
    tp_history h;
    memset(&h, 0, sizeof h);
    assert_int_equal(tp_train(&c, &m, &ps, NULL, NULL, 0, &run, &h), 0);
    double worst = 0;
    for (int i = 0; i < h.n; i++)
        if (h.col[TP_L_ASYM][i] > worst) worst = h.col[TP_L_ASYM][i];
    assert_true(fabs(tp_symmetry_defect(m.B[0]->data, S) - h.col[TP_L_ASYM][h.n - 1]) < 1e-12 ||
                h.n > 0);
    *diag = h.col[TP_L_DIAG0][h.n - 1];
    tp_history_free(&h);
    dl_params_free(&ps);
    return worst;
}

static void test_symmetry_exact(void **state) {
    (void)state;
    double diag;
    /* small alphabet, many steps: training gets well past the plateau */
    double w = run(TP_DATA_ORBIT, 300, 7, 2, 1, &diag);
    assert_true(diag > 1.0);
    assert_true(w <= 1e-5);
    w = run(TP_DATA_ORBIT, 20, 31, 4, 1, &diag);
    assert_true(diag > 0);
    assert_true(w <= 1e-5);
    /* random batches of the same size break it by orders of magnitude */
    w = run(TP_DATA_RANDOM, 20, 7, 2, 42, &diag);
    assert_true(w > 1e-3);
}

/* The forward model (two heads, stage tokens): both node blocks stay in span{I, J}. */
static void test_symmetry_forward_two_heads(void **state) {
    (void)state;
    dl_run run;
    memset(&run, 0, sizeof run);
    run.quiet = 1;
    dl_params ps;
    dl_params_init(&ps);
    tp_model m;
    tp_model_init(&m, &ps, TP_TASK_FORWARD, 7);
    tp_train_cfg c = {"symf", TP_TASK_FORWARD, TP_DATA_ORBIT, 2, 7, 1, 200, 0.5, 10, 1000, 5, 6};
    tp_history h;
    memset(&h, 0, sizeof h);
    assert_int_equal(tp_train(&c, &m, &ps, NULL, NULL, 0, &run, &h), 0);
    for (int hd = 0; hd < 2; hd++) {
        assert_true(m.B[hd]->data[0] > 0.1);
        assert_true(tp_symmetry_defect(m.B[hd]->data, 7) <= 1e-5);
    }
    tp_history_free(&h);
    dl_params_free(&ps);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_affine_group),
        cmocka_unit_test(test_symmetry_exact),
        cmocka_unit_test(test_symmetry_forward_two_heads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
