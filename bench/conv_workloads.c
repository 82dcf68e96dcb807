/* Convolutional training-step workloads for `dynlab bench` (one step =
 * forward, backward, AdamW lr 1e-3 on fixed random inputs), with
 * bench/torch_ref.py building the same models in PyTorch:
 *   cnn-fmnist  input [128, 1, 28, 28]; three conv3x3 (padding 1, no bias) +
 *               batch norm + ReLU with 32, 64, 128 channels, 2x2 max-pool after
 *               the first two; global average pool; linear 128 -> 10; cross-entropy.
 *   resnet-det  input [4, 3, 256, 256]; the ResNet-18 trunk (He et al. 2016,
 *               Table 1: conv7x7/2 64 + BN + ReLU, 3x3/2 max-pool, four stages of
 *               two basic blocks, 64..512 channels, stride 2 and a 1x1 conv + BN
 *               shortcut at the start of stages 2-4); loss = sum over the outputs
 *               of stages 2, 3, 4 of mean(x^2).
 * Convolutions carry no bias (batch norm follows each one, as in torchvision).
 * Also the conv2d microbenchmark (`dynlab bench --conv`): forward + backward of
 * every distinct resnet-det convolution shape against the measured FMA peak.
 * Compiled into tools/cmd_bench.c's translation unit after workloads.c. */

#include "dynlab/conv.h"

typedef struct {
    const char *name;
    int batch;
} bench_conv_workload;

static const bench_conv_workload bench_conv_workloads[] = {
    {"cnn-fmnist", 128},
    {"resnet-det", 4},
};
static const int bench_n_conv_workloads = (int)(sizeof bench_conv_workloads / sizeof *bench_conv_workloads);

static const bench_conv_workload *bench_conv_find(const char *name)
{
    for (int i = 0; i < bench_n_conv_workloads; i++)
        if (!strcmp(bench_conv_workloads[i].name, name)) return &bench_conv_workloads[i];
    return NULL;
}

/* conv (no bias) + batch norm, the unit both models are made of */
typedef struct {
    dl_conv2d_m conv;
    dl_batchnorm_m bn;
} conv_bn;

static void conv_bn_init(conv_bn *m, dl_params *ps, const char *name, int in, int out, int k, int stride,
                         int pad, dl_rng *r)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s.conv", name);
    dl_conv2d_init(&m->conv, ps, buf, in, out, k, stride, pad, 1, 1, 0, r);
    snprintf(buf, sizeof buf, "%s.bn", name);
    dl_batchnorm_init(&m->bn, ps, buf, out);
}

static double g_conv_flops; /* forward conv FLOPs counted during one forward */

static dl_tensor *conv_bn_fwd(dl_graph *g, const conv_bn *m, dl_tensor *x, int relu)
{
    g_conv_flops += dl_conv2d_flops(x, m->conv.weight, m->conv.stride, m->conv.padding, 1, 1);
    dl_tensor *y = dl_conv2d_fwd(g, &m->conv, x);
    const dl_batchnorm_m *b = &m->bn;
    /* batch norm + ReLU as one op (dl_batchnorm_relu): one pass less each way */
    return (relu ? dl_batchnorm_relu : dl_batchnorm)(g, y, b->weight, b->bias, b->running_mean, b->running_var,
                                                     b->momentum, b->eps);
}

/* ResNet basic block: relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut(x)) */
typedef struct {
    conv_bn c1, c2, down;
    int has_down;
} basic_block;

typedef struct {
    conv_bn layers[3]; /* cnn-fmnist */
    dl_linear head;
    conv_bn stem;      /* resnet-det */
    basic_block blocks[8];
    int resnet;
} conv_model;

static void conv_model_init(conv_model *m, dl_params *ps, int resnet, dl_rng *r)
{
    memset(m, 0, sizeof *m);
    m->resnet = resnet;
    char name[64];
    if (!resnet) {
        const int ch[4] = {1, 32, 64, 128};
        for (int l = 0; l < 3; l++) {
            snprintf(name, sizeof name, "layers.%d", l);
            conv_bn_init(&m->layers[l], ps, name, ch[l], ch[l + 1], 3, 1, 1, r);
        }
        dl_linear_init(&m->head, ps, "head", 128, 10, 1, r);
        return;
    }
    conv_bn_init(&m->stem, ps, "stem", 3, 64, 7, 2, 3, r);
    int in = 64;
    for (int s = 0; s < 4; s++) {
        const int out = 64 << s;
        for (int b = 0; b < 2; b++) {
            basic_block *k = &m->blocks[2 * s + b];
            const int stride = s > 0 && b == 0 ? 2 : 1;
            snprintf(name, sizeof name, "layer%d.%d.c1", s + 1, b);
            conv_bn_init(&k->c1, ps, name, in, out, 3, stride, 1, r);
            snprintf(name, sizeof name, "layer%d.%d.c2", s + 1, b);
            conv_bn_init(&k->c2, ps, name, out, out, 3, 1, 1, r);
            k->has_down = stride != 1 || in != out;
            if (k->has_down) {
                snprintf(name, sizeof name, "layer%d.%d.down", s + 1, b);
                conv_bn_init(&k->down, ps, name, in, out, 1, stride, 0, r);
            }
            in = out;
        }
    }
}

static dl_tensor *conv_model_loss(dl_graph *g, const conv_model *m, dl_tensor *x, const int *labels)
{
    if (!m->resnet) {
        dl_tensor *h = x;
        for (int l = 0; l < 3; l++) {
            h = conv_bn_fwd(g, &m->layers[l], h, 1);
            if (l < 2) h = dl_max_pool2d(g, h, 2, 2, 0);
        }
        return dl_cross_entropy(g, dl_linear_fwd(g, &m->head, dl_global_avg_pool2d(g, h)), labels, NULL, -1);
    }
    dl_tensor *h = dl_max_pool2d(g, conv_bn_fwd(g, &m->stem, x, 1), 3, 2, 1);
    dl_tensor *loss = NULL;
    for (int s = 0; s < 4; s++) {
        for (int b = 0; b < 2; b++) {
            const basic_block *k = &m->blocks[2 * s + b];
            dl_tensor *y = conv_bn_fwd(g, &k->c2, conv_bn_fwd(g, &k->c1, h, 1), 0);
            h = dl_relu(g, dl_add(g, y, k->has_down ? conv_bn_fwd(g, &k->down, h, 0) : h));
        }
        if (s > 0) {
            dl_tensor *t = dl_mean_all(g, dl_square(g, h));
            loss = loss ? dl_add(g, loss, t) : t;
        }
    }
    return loss;
}

typedef struct {
    const conv_model *model;
    const float *x;
    const int *labels;
    int B, C, H, W;
} conv_step_ctx;

static float conv_replica_step(dl_graph *g, int r, int n, void *ctx)
{
    const conv_step_ctx *c = ctx;
    const int b0 = c->B * r / n, b1 = c->B * (r + 1) / n;
    int shape[4] = {b1 - b0, c->C, c->H, c->W};
    dl_graph_set_training(g, 1);
    dl_tensor *x = dl_tensor_wrap(g, (float *)c->x + (long)b0 * c->C * c->H * c->W, 4, shape);
    dl_tensor *loss = conv_model_loss(g, c->model, x, c->labels + b0);
    dl_backward(g, loss);
    return loss->data[0];
}

static int bench_run_conv_workload(const bench_conv_workload *w, int warmup, int steps, uint64_t seed,
                                   int replicas, bench_result *out)
{
    memset(out, 0, sizeof *out);
    reset_peak_rss();
    const int resnet = !strcmp(w->name, "resnet-det");
    const int B = w->batch, C = resnet ? 3 : 1, H = resnet ? 256 : 28, W = H;
    dl_rng rng;
    dl_rng_init(&rng, seed, 0);
    dl_params ps;
    dl_params_init(&ps);
    conv_model model;
    conv_model_init(&model, &ps, resnet, &rng);
    dl_optim opt;
    dl_optim_init(&opt, &ps, DL_OPT_ADAMW, 1e-3f);
    const int threads = dl_get_threads();
    if (replicas <= 0) replicas = B % threads == 0 ? threads : 1;
    if (B % replicas) {
        fprintf(stderr, "bench: batch %d of %s does not split into %d equal micro-batches\n", B, w->name,
                replicas);
        dl_optim_free(&opt);
        dl_params_free(&ps);
        return -1;
    }
    dl_replicas *rp = dl_replicas_new(&ps, replicas);
    const long nx = (long)B * C * H * W;
    float *x = malloc(sizeof(float) * nx);
    int *labels = malloc(sizeof(int) * B);
    double *times = malloc(sizeof(double) * (steps > 0 ? steps : 1));
    double *cpu = malloc(sizeof(double) * (steps > 0 ? steps : 1));
    if (!x || !labels || !times || !cpu) {
        fprintf(stderr, "bench: out of memory\n");
        free(x), free(labels), free(times), free(cpu);
        dl_replicas_free(rp);
        dl_optim_free(&opt);
        dl_params_free(&ps);
        return -1;
    }
    dl_rng data_rng;
    dl_rng_init(&data_rng, seed, 1);
    for (long i = 0; i < nx; i++) x[i] = (float)dl_rng_normal(&data_rng);
    for (int i = 0; i < B; i++) labels[i] = (int)dl_rng_below(&data_rng, 10);
    conv_step_ctx ctx = {&model, x, labels, B, C, H, W};
    int64_t allocs_after_first = 0;
    double conv_flops = 0;
    for (int s = 0; s < warmup + steps; s++) {
        g_conv_flops = 0;
        double t0 = now_s(), c0 = cpu_s();
        /* the mean loss of equal micro-batches: the gradient is their mean (resnet-det's
         * sum of means likewise) */
        float lv = dl_replicas_step_update(rp, conv_replica_step, &ctx, 1.0f / (float)replicas, &opt, opt.lr);
        dl_replicas_reset(rp);
        double t = now_s() - t0, c = cpu_s() - c0;
        if (s >= warmup) cpu[s - warmup] = c;
        if (s == 0) {
            out->first_loss = lv;
            allocs_after_first = dl_replicas_heap_allocs(rp);
            conv_flops = g_conv_flops; /* summed over the replicas' micro-batches */
        }
        out->last_loss = lv;
        if (s >= warmup) times[s - warmup] = t;
    }
    int64_t allocs_end = dl_replicas_heap_allocs(rp);
    int nsteps = warmup + steps;
    out->heap_allocs_per_step = nsteps > 1 ? (double)(allocs_end - allocs_after_first) / (nsteps - 1) : 0.0;
    if (steps > 0) {
        qsort(times, (size_t)steps, sizeof *times, cmp_double);
        out->ms_median = 1e3 * (steps % 2 ? times[steps / 2] : 0.5 * (times[steps / 2 - 1] + times[steps / 2]));
        out->ms_min = 1e3 * times[0];
        out->ms_max = 1e3 * times[steps - 1];
        qsort(cpu, (size_t)steps, sizeof *cpu, cmp_double);
        out->cpu_ms_median = 1e3 * (steps % 2 ? cpu[steps / 2] : 0.5 * (cpu[steps / 2 - 1] + cpu[steps / 2]));
        /* training FLOPs: each convolution's forward, input-gradient and weight-gradient
         * products (3x its forward); the rest is under 1% here */
        out->gflops = 3.0 * conv_flops / (out->ms_median * 1e-3) * 1e-9;
    }
    out->params = dl_params_count(&ps);
    out->replicas = replicas;
    out->state_mb = (3.0 + replicas) * (double)out->params * sizeof(float) / (1024.0 * 1024.0);
    out->arena_mb = (double)dl_replicas_arena_bytes(rp) / (1024.0 * 1024.0);
    out->peak_rss_mb = peak_rss_mb();
    free(x);
    free(labels);
    free(times);
    free(cpu);
    dl_replicas_free(rp);
    dl_optim_free(&opt);
    dl_params_free(&ps);
    return 0;
}

/* ---- conv2d microbenchmark on resnet-det's shapes ------------------------------ */
typedef struct {
    const char *what;
    int N, C, H, Cout, k, stride, pad, count; /* count: how often resnet-det runs it */
    int x_grad;                               /* 0: the image input (no input gradient) */
} conv_shape;

static const conv_shape resnet_conv_shapes[] = {
    {"stem 7x7/2", 4, 3, 256, 64, 7, 2, 3, 1, 0},
    {"layer1 3x3", 4, 64, 64, 64, 3, 1, 1, 4, 1},
    {"layer2 3x3/2", 4, 64, 64, 128, 3, 2, 1, 1, 1},
    {"layer2 3x3", 4, 128, 32, 128, 3, 1, 1, 3, 1},
    {"layer2 down 1x1/2", 4, 64, 64, 128, 1, 2, 0, 1, 1},
    {"layer3 3x3/2", 4, 128, 32, 256, 3, 2, 1, 1, 1},
    {"layer3 3x3", 4, 256, 16, 256, 3, 1, 1, 3, 1},
    {"layer3 down 1x1/2", 4, 128, 32, 256, 1, 2, 0, 1, 1},
    {"layer4 3x3/2", 4, 256, 16, 512, 3, 2, 1, 1, 1},
    {"layer4 3x3", 4, 512, 8, 512, 3, 1, 1, 3, 1},
    {"layer4 down 1x1/2", 4, 256, 16, 512, 1, 2, 0, 1, 1},
};

/* Forward + backward of one shape under the current algorithm setting: the best
 * wall and per-thread CPU time of `reps` runs after a first untimed one, and the
 * FLOPs they count (3x the forward's, 2x without an input gradient). Returns
 * dl_conv2d_uses_winograd's answer for the shape. */
static int time_conv_shape(const conv_shape *s, int threads, int reps, dl_rng *r, double *best, double *best_cpu,
                           double *flops)
{
    dl_params ps;
    dl_params_init(&ps);
    int xs[4] = {s->N, s->C, s->H, s->H}, ws[4] = {s->Cout, s->C, s->k, s->k};
    dl_tensor *x = dl_param_new(&ps, "x", 4, xs), *w = dl_param_new(&ps, "w", 4, ws);
    dl_init_normal(x, r, 1.0f);
    dl_init_normal(w, r, 0.05f);
    x->requires_grad = s->x_grad;
    dl_graph *g = dl_graph_new();
    *flops = (s->x_grad ? 3.0 : 2.0) * dl_conv2d_flops(x, w, s->stride, s->pad, 1, 1);
    *best = *best_cpu = 1e30;
    for (int rep = 0; rep <= reps; rep++) {
        double t0 = now_s(), c0 = cpu_s();
        dl_tensor *y = dl_conv2d(g, x, w, NULL, s->stride, s->pad, 1, 1);
        dl_backward(g, dl_sum_all(g, y));
        double t = now_s() - t0, c = (cpu_s() - c0) / threads;
        if (rep > 0 && t < *best) *best = t;
        if (rep > 0 && c < *best_cpu) *best_cpu = c;
        dl_graph_reset(g);
    }
    const int wino = dl_conv2d_uses_winograd(x, w, s->stride, s->pad, 1, 1);
    dl_graph_free(g);
    dl_params_free(&ps);
    return wino;
}

/* Forward + backward (input and weight gradients; the stem's image input needs
 * none) of each shape on the current threads, best of repeats; GFLOP/s = 3 (2 for
 * the stem) x forward FLOPs / time. The last row is
 * resnet-det's whole convolution work (each shape weighted by its count). */
static void bench_conv_table(FILE *f, int threads, int json, double peak)
{
    const int n = (int)(sizeof resnet_conv_shapes / sizeof *resnet_conv_shapes);
    double tot_flops = 0, tot_time = 0, tot_cpu = 0;
    if (!json)
        fprintf(f, "conv2d forward+backward on resnet-det shapes, %d thread(s), FMA peak %.1f GFLOP/s\n"
                   "(wall: best wall time; cpu: best process CPU time / threads, which a busy shared\n"
                   " machine's preemptions do not inflate -- the FMA peak is measured the same way;\n"
                   " GFLOP/s = direct-convolution FLOPs / time: an effective rate for Winograd rows,\n"
                   " which do fewer multiplies, so they can exceed the peak)\n"
                   "%-18s %-17s %-8s %9s %9s %7s %9s %7s\n",
                threads, peak, "shape", "x -> out", "algo", "wall ms", "GFLOP/s", "% peak", "cpu GF/s", "% peak");
    dl_rng r;
    dl_rng_init(&r, 7, 0);
    for (int i = 0; i < n; i++) {
        const conv_shape *s = &resnet_conv_shapes[i];
        double best, best_cpu, flops;
        const int wino = time_conv_shape(s, threads, 6, &r, &best, &best_cpu, &flops);
        const int oh = (s->H + 2 * s->pad - s->k) / s->stride + 1;
        const double gf = flops / best * 1e-9, gfc = flops / best_cpu * 1e-9;
        tot_flops += s->count * flops, tot_time += s->count * best, tot_cpu += s->count * best_cpu;
        if (json)
            fprintf(f, "{\"conv\": \"%s\", \"threads\": %d, \"algo\": \"%s\", \"ms\": %.4f, \"gflops\": %.2f, "
                       "\"peak_frac\": %.3f, \"cpu_gflops\": %.2f, \"cpu_peak_frac\": %.3f}\n",
                    s->what, threads, wino == 4 ? "winograd" : wino == 2 ? "winograd2" : "im2col", best * 1e3, gf, peak > 0 ? gf / peak : 0.0, gfc,
                    peak > 0 ? gfc / peak : 0.0);
        else
            fprintf(f, "%-18s %3dx%-3d->%3dx%-3d %-9s %9.3f %9.1f %6.1f%% %9.1f %6.1f%%\n", s->what, s->C, s->H, s->Cout,
                    oh, wino == 4 ? "winograd" : wino == 2 ? "winograd2" : "im2col", best * 1e3, gf, peak > 0 ? 100 * gf / peak : 0.0, gfc,
                    peak > 0 ? 100 * gfc / peak : 0.0);
    }
    const double gf = tot_flops / tot_time * 1e-9, gfc = tot_flops / tot_cpu * 1e-9;
    if (json)
        fprintf(f, "{\"conv\": \"resnet-det all\", \"threads\": %d, \"ms\": %.4f, \"gflops\": %.2f, \"peak_frac\": %.3f, "
                   "\"cpu_gflops\": %.2f, \"cpu_peak_frac\": %.3f}\n",
                threads, tot_time * 1e3, gf, peak > 0 ? gf / peak : 0.0, gfc, peak > 0 ? gfc / peak : 0.0);
    else
        fprintf(f, "%-18s %-17s %-9s %9.3f %9.1f %6.1f%% %9.1f %6.1f%%\n", "resnet-det all", "(weighted)", "", tot_time * 1e3, gf,
                peak > 0 ? 100 * gf / peak : 0.0, gfc, peak > 0 ? 100 * gfc / peak : 0.0);
}

/* ---- the automatic convolution algorithm against the three it chooses from ----
 * 3x3 stride-1 convolutions (padding 1, input gradient included) around the
 * thresholds of dl_wino_use (src/core/ops_conv_winograd.c): each shape is timed with
 * im2col, F(4x4, 3x3) and F(2x2, 3x3), and the row says which one auto takes and
 * whether that was the fastest here. The figures behind auto's cost model
 * (docs/benchmarks.md, "Fourth round") come from this table; rerun it to refit
 * the model on another CPU. */
static const conv_shape choice_shapes[] = {
    {"", 4, 512, 8, 512, 3, 1, 1, 1, 1},  {"", 2, 512, 8, 512, 3, 1, 1, 1, 1},  {"", 1, 512, 8, 512, 3, 1, 1, 1, 1},
    {"", 2, 512, 4, 512, 3, 1, 1, 1, 1},  {"", 4, 512, 4, 512, 3, 1, 1, 1, 1},  {"", 1, 512, 12, 512, 3, 1, 1, 1, 1},
    {"", 1, 256, 16, 256, 3, 1, 1, 1, 1}, {"", 2, 256, 8, 256, 3, 1, 1, 1, 1},  {"", 1, 256, 8, 256, 3, 1, 1, 1, 1},
    {"", 2, 256, 6, 256, 3, 1, 1, 1, 1},  {"", 4, 256, 5, 256, 3, 1, 1, 1, 1},  {"", 2, 256, 10, 256, 3, 1, 1, 1, 1},
    {"", 2, 64, 8, 64, 3, 1, 1, 1, 1},    {"", 2, 16, 8, 16, 3, 1, 1, 1, 1},
};

static const char *algo_name(int wino) { return wino == 4 ? "winograd" : wino == 2 ? "winograd2" : "im2col"; }

static void bench_conv_choice(FILE *f, int threads, int json)
{
    const int n = (int)(sizeof choice_shapes / sizeof *choice_shapes);
    const int algos[3] = {DL_CONV_IM2COL, DL_CONV_WINOGRAD, DL_CONV_WINOGRAD2}, tiles[3] = {0, 4, 2};
    const int saved = dl_conv2d_get_algo();
    if (!json)
        fprintf(f, "3x3 stride-1 conv2d forward+backward, %d thread(s): best wall ms of each algorithm and auto's choice\n"
                   "%-20s %7s %7s %9s %9s %-10s %s\n",
                threads, "batch, channels, map", "tiles", "im2col", "winograd", "winograd2", "auto", "fastest?");
    dl_rng r;
    dl_rng_init(&r, 7, 0);
    for (int i = 0; i < n; i++) {
        const conv_shape *s = &choice_shapes[i];
        double ms[3], cpu, flops;
        int fastest = 0;
        for (int a = 0; a < 3; a++) {
            dl_conv2d_set_algo(algos[a]);
            time_conv_shape(s, threads, 10, &r, &ms[a], &cpu, &flops);
            ms[a] *= 1e3;
            if (ms[a] < ms[fastest]) fastest = a;
        }
        dl_conv2d_set_algo(DL_CONV_AUTO);
        double unused;
        const int pick = time_conv_shape(s, threads, 0, &r, &unused, &cpu, &flops);
        const int picked = pick == 4 ? 1 : pick == 2 ? 2 : 0;
        const int t4 = s->N * ((s->H + 3) / 4) * ((s->H + 3) / 4), t2 = s->N * ((s->H + 1) / 2) * ((s->H + 1) / 2);
        if (json)
            fprintf(f, "{\"choice\": [%d, %d, %d], \"threads\": %d, \"tiles4\": %d, \"tiles2\": %d, \"im2col_ms\": %.4f, "
                       "\"winograd_ms\": %.4f, \"winograd2_ms\": %.4f, \"auto\": \"%s\", \"fastest\": \"%s\"}\n",
                    s->N, s->C, s->H, threads, t4, t2, ms[0], ms[1], ms[2], algo_name(pick), algo_name(tiles[fastest]));
        else
            fprintf(f, "%4d %4d %3dx%-3d      %3d/%-3d %7.3f %9.3f %9.3f %-10s %s\n", s->N, s->C, s->H, s->H, t4, t2, ms[0],
                    ms[1], ms[2], algo_name(pick), picked == fastest ? "yes" : "no");
    }
    dl_conv2d_set_algo(saved);
}
