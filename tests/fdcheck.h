/* The finite-difference gradient checker shared by the op tests
 * (test_ops_grad.c, test_conv_grad.c, test_rnn_grad.c, test_losses_grad.c).
 * Same method and tolerance: L = sum(w * f(x)) with random w, central differences
 * in float with L summed in double, both with the inputs as parameters and as
 * activations (x + 0), error max|num - ana| / max(max|num|, 1e-2) <= 2e-3. */
#ifndef DYNLAB_TEST_FDCHECK_H
#define DYNLAB_TEST_FDCHECK_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "testutil.h"
#include "dynlab/core.h"

enum { GEN_NORMAL, GEN_POS, GEN_AWAY, GEN_DISTINCT, GEN_HINGE, GEN_SMALL, GEN_POINTS };
/* GEN_POINTS: (x, y) pairs for a PT_H x PT_W map whose pixel coordinates
 * ((x + 1) W - 1) / 2 lie 0.1 .. 0.9 past an integer (off the bilinear kinks),
 * from 1.5 pixels outside the map to 1.5 past it (grid sampling, test_conv_grad.c). */
#define PT_H 4
#define PT_W 5

typedef dl_tensor *(*build_fn)(dl_graph *g, dl_tensor **in, const void *ctx);

typedef struct gc_input {
    int ndim;
    int shape[4];
    int gen;
} gc_input;

#define TOL 2e-3
static dl_rng g_rng;

static void fill(dl_tensor *t, int gen) {
    for (int64_t i = 0; i < t->size; i++) {
        double u = dl_rng_uniform(&g_rng), s = dl_rng_uniform(&g_rng) < 0.5 ? -1 : 1;
        switch (gen) {
        case GEN_NORMAL: t->data[i] = (float)dl_rng_normal(&g_rng); break;
        case GEN_SMALL: t->data[i] = (float)(0.5 * dl_rng_normal(&g_rng)); break;
        case GEN_POS: t->data[i] = (float)(0.5 + 1.5 * u); break;
        case GEN_AWAY: t->data[i] = (float)(s * (0.2 + 1.3 * u)); break;
        case GEN_HINGE: t->data[i] = (float)(s * (u < 0.5 ? 0.2 + 1.2 * u : 1.2 + 1.6 * (u - 0.5))); break;
        case GEN_DISTINCT: t->data[i] = (float)(0.1 * (double)i); break;
        case GEN_POINTS: {
            const int size = i % 2 ? PT_H : PT_W;
            const double pix = floor(-2.0 + (size + 3.0) * u) + 0.1 + 0.8 * dl_rng_uniform(&g_rng);
            t->data[i] = (float)((2.0 * pix + 1.0) / size - 1.0);
            break;
        }
        }
    }
    if (gen == GEN_DISTINCT) { /* a shuffled grid with spacing 0.1: the max is unique */
        for (int64_t i = t->size - 1; i > 0; i--) {
            int64_t j = dl_rng_below(&g_rng, (uint32_t)i + 1);
            float tmp = t->data[i];
            t->data[i] = t->data[j];
            t->data[j] = tmp;
        }
    }
}

/* via_activation: feed the op activations (x + 0) instead of the parameters, so the
 * backward kernels' "first write into a fresh gradient buffer" paths run too
 * (parameters always accumulate). */
static int via_activation;

static dl_tensor *forward(dl_graph *g, build_fn fn, dl_tensor **in, const void *ctx) {
    dl_graph_reset(g);
    dl_graph_set_rng(g, 1234, 5); /* same dropout mask on every evaluation */
    if (!via_activation) return fn(g, in, ctx);
    dl_tensor *act[8];
    for (int i = 0; i < 8 && in[i]; i++) act[i] = dl_add_scalar(g, in[i], 0.0f);
    return fn(g, act, ctx);
}

static double weighted_sum(const dl_tensor *out, const float *w) {
    double s = 0;
    for (int64_t i = 0; i < out->size; i++)
        if (isfinite(out->data[i])) s += (double)w[i] * out->data[i];
    return s;
}

/* Returns the worst normalised error over all inputs. perturb: corrupt one analytic
 * entry first (self-check). */
static double grad_check_mode(const char *name, build_fn fn, const void *ctx, int n_in,
                              const gc_input *spec, double h, int perturb) {
    dl_params ps;
    dl_params_init(&ps);
    dl_tensor *in[8] = {0};
    for (int i = 0; i < n_in; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "in%d", i);
        in[i] = dl_param_new(&ps, nm, spec[i].ndim, spec[i].shape);
        fill(in[i], spec[i].gen);
    }
    dl_graph *g = dl_graph_new();
    dl_graph_set_training(g, 1);
    dl_tensor *out = forward(g, fn, in, ctx);
    float *w = malloc((size_t)out->size * sizeof(float));
    for (int64_t i = 0; i < out->size; i++)
        w[i] = isfinite(out->data[i]) ? (float)dl_rng_normal(&g_rng) : 0.0f;
    dl_tensor *wt = dl_tensor_wrap(g, w, out->ndim, out->shape);
    dl_tensor *loss = dl_sum_all(g, dl_mul(g, out, wt));
    dl_params_zero_grad(&ps);
    dl_backward(g, loss);
    float *ana[8];
    for (int i = 0; i < n_in; i++) {
        ana[i] = malloc((size_t)in[i]->size * sizeof(float));
        memcpy(ana[i], in[i]->grad, (size_t)in[i]->size * sizeof(float));
    }
    if (perturb) {
        float mx = 0;
        for (int64_t e = 0; e < in[0]->size; e++) mx = fmaxf(mx, fabsf(ana[0][e]));
        ana[0][in[0]->size / 2] += 0.05f * mx + 0.05f;
    }
    dl_graph_set_grad_enabled(g, 0);
    double worst = 0;
    for (int i = 0; i < n_in; i++) {
        double maxd = 0, maxn = 1e-2;
        for (int64_t e = 0; e < in[i]->size; e++) {
            const float x0 = in[i]->data[e];
            in[i]->data[e] = x0 + (float)h;
            double lp = weighted_sum(forward(g, fn, in, ctx), w);
            in[i]->data[e] = x0 - (float)h;
            double lm = weighted_sum(forward(g, fn, in, ctx), w);
            in[i]->data[e] = x0;
            const double num = (lp - lm) / (2 * h);
            maxd = fmax(maxd, fabs(num - ana[i][e]));
            maxn = fmax(maxn, fabs(num));
        }
        const double err = maxd / maxn;
        if (err > worst) worst = err;
        if (getenv("GC_VERBOSE")) fprintf(stderr, "%-45s in%d err %.2e maxg %.2e\n", name, i, err, maxn);
        if (err > TOL && !perturb)
            fprintf(stderr, "grad check %s: input %d error %.3g (max |grad| %.3g)\n", name, i, err, maxn);
        free(ana[i]);
    }
    free(w);
    dl_graph_free(g);
    dl_params_free(&ps);
    return worst;
}

/* Both modes (parameters as inputs, activations as inputs); the worse error. */
static double grad_check(const char *name, build_fn fn, const void *ctx, int n_in, const gc_input *spec,
                         double h, int perturb) {
    via_activation = 0;
    double e0 = grad_check_mode(name, fn, ctx, n_in, spec, h, perturb);
    via_activation = 1;
    double e1 = grad_check_mode(name, fn, ctx, n_in, spec, h, perturb);
    via_activation = 0;
    return e0 > e1 ? e0 : e1;
}

#define CHECK(name, fn, ctx, n, ...)                                                       \
    do {                                                                                   \
        const gc_input spec_[] = {__VA_ARGS__};                                            \
        double e_ = grad_check(name, fn, ctx, n, spec_, 1e-2, 0);                          \
        if (e_ > TOL) fail_msg("%s: gradient error %.3g > %.3g", name, e_, TOL);           \
    } while (0)
#define CHECK_H(name, fn, ctx, h, n, ...)                                                  \
    do {                                                                                   \
        const gc_input spec_[] = {__VA_ARGS__};                                            \
        double e_ = grad_check(name, fn, ctx, n, spec_, h, 0);                             \
        if (e_ > TOL) fail_msg("%s: gradient error %.3g > %.3g", name, e_, TOL);           \
    } while (0)
#define T1(a) {1, {a}, GEN_NORMAL}
#define T2(a, b) {2, {a, b}, GEN_NORMAL}
#define T3(a, b, c) {3, {a, b, c}, GEN_NORMAL}
#define T4(a, b, c, d) {4, {a, b, c, d}, GEN_NORMAL}
#define G1(gen, a) {1, {a}, gen}
#define G2(gen, a, b) {2, {a, b}, gen}
#define G3(gen, a, b, c) {3, {a, b, c}, gen}

/* ---- bad input: run an op in a child process (dl_fatal exits) ---- */
typedef void (*bad_fn)(dl_graph *g);
/* Runs fn in a child; returns its exit status and its stderr in buf. */
static inline int run_child(bad_fn fn, char *buf, size_t n) {
    int fd[2];
    if (pipe(fd)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        dl_graph *g = dl_graph_new();
        fn(g);
        _exit(0);
    }
    close(fd[1]);
    size_t got = 0;
    ssize_t k;
    while (got + 1 < n && (k = read(fd[0], buf + got, n - 1 - got)) > 0) got += (size_t)k;
    buf[got] = 0;
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
