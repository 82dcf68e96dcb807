/* The `gru-text` training-step workload of `dynlab bench` (compiled into the
 * dynlab program through tools/cmd_bench.c, like workloads.c): a sentence CNN
 * per day feeding a GRU over days, the sentiment system's shape.
 *   token ids [32, 20, 32] (batch, days, tokens), vocabulary 5000
 *   embeddings 128-d; conv1d widths 3, 4, 5 with 100 filters each (no padding)
 *   + ReLU, max over tokens, concatenated to 300 per day
 *   GRU 300 -> 128 over the 20 days; linear 128 -> 1 on the last state
 *   binary cross-entropy with logits against random 0/1 labels; AdamW (lr 1e-3)
 * bench/torch_ref.py builds the same model in PyTorch (nn.Conv1d on the
 * transposed embeddings, nn.GRU, nn.Linear). Included after workloads.c, whose
 * timing and peak-memory helpers it uses. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynlab/core.h"
#include "dynlab/losses.h"
#include "dynlab/nn.h"
#include "dynlab/optim.h"
#include "dynlab/rnn.h"
#include "workloads.h"

enum { GT_BATCH = 32, GT_DAYS = 20, GT_TOKENS = 32, GT_VOCAB = 5000, GT_EMB = 128, GT_FILTERS = 100,
       GT_HIDDEN = 128 };
static const int gt_widths[3] = {3, 4, 5};

typedef struct {
    dl_params ps;
    dl_tensor *emb;
    dl_conv1d_m conv[3];
    dl_gru_m gru;
    dl_linear head;
} gt_model;

/* Forward FLOPs (2 per multiply-add) of the convolutions, the GRU's input and
 * hidden projections and the head; a training step counts three times that. */
double bench_gru_text_train_flops(int B)
{
    const double seqs = (double)B * GT_DAYS;
    double f = 0;
    for (int k = 0; k < 3; k++)
        f += 2.0 * seqs * (GT_TOKENS - gt_widths[k] + 1) * GT_FILTERS * gt_widths[k] * GT_EMB;
    f += 2.0 * seqs * 3 * GT_HIDDEN * (3 * GT_FILTERS + GT_HIDDEN) + 2.0 * B * GT_HIDDEN;
    return 3.0 * f;
}

typedef struct {
    gt_model *m;
    const int *ids;
    const float *labels;
} gt_ctx;

static float gt_replica_step(dl_graph *g, int r, int n, void *vctx)
{
    const gt_ctx *c = vctx;
    const gt_model *m = c->m;
    const int b0 = GT_BATCH * r / n, b1 = GT_BATCH * (r + 1) / n, nb = b1 - b0;
    const int seqs = nb * GT_DAYS;
    dl_tensor *e = dl_embedding(g, m->emb, c->ids + (long)b0 * GT_DAYS * GT_TOKENS, 2,
                                (int[2]){seqs, GT_TOKENS}); /* [seqs, tokens, 128] */
    dl_tensor *feat[3];
    /* ReLU after the max over tokens: ReLU is monotone, so relu(max(conv)) equals
     * max(relu(conv)) in value and gradient; the max comes from the fused op. */
    for (int k = 0; k < 3; k++) feat[k] = dl_relu(g, dl_conv1d_max_fwd(g, &m->conv[k], e));
    dl_tensor *days = dl_reshape(g, dl_concat(g, feat, 3, 1), 3, (int[3]){nb, GT_DAYS, 3 * GT_FILTERS});
    dl_tensor *h = dl_last_step(g, dl_gru_fwd(g, &m->gru, days, NULL));
    dl_tensor *logit = dl_reshape(g, dl_linear_fwd(g, &m->head, h), 1, (int[1]){nb});
    dl_tensor *loss = dl_bce_logits(g, logit, c->labels + b0, NULL);
    dl_backward(g, loss);
    return loss->data[0];
}

int bench_run_gru_text(const bench_workload *w, int warmup, int steps, uint64_t seed, int replicas,
                       bench_result *out)
{
    memset(out, 0, sizeof *out);
    reset_peak_rss();
    dl_rng rng;
    dl_rng_init(&rng, seed, 0);
    gt_model m;
    dl_params_init(&m.ps);
    m.emb = dl_param_new(&m.ps, "embedding.weight", 2, (int[2]){GT_VOCAB, GT_EMB});
    dl_init_normal(m.emb, &rng, 1.0f); /* torch.nn.Embedding: N(0, 1) */
    for (int k = 0; k < 3; k++) {
        char name[32];
        snprintf(name, sizeof name, "convs.%d", k);
        dl_conv1d_init(&m.conv[k], &m.ps, name, GT_EMB, GT_FILTERS, gt_widths[k], 0, 1, 1, &rng);
    }
    dl_gru_init(&m.gru, &m.ps, "gru", 3 * GT_FILTERS, GT_HIDDEN, &rng);
    dl_linear_init(&m.head, &m.ps, "head", GT_HIDDEN, 1, 1, &rng);
    dl_optim opt;
    dl_optim_init(&opt, &m.ps, DL_OPT_ADAMW, 1e-3f);
    const int threads = dl_get_threads();
    if (replicas <= 0) replicas = GT_BATCH % threads == 0 ? threads : 1;
    if (GT_BATCH % replicas) {
        fprintf(stderr, "bench: batch %d of %s does not split into %d equal micro-batches\n", GT_BATCH, w->name,
                replicas);
        dl_optim_free(&opt);
        dl_params_free(&m.ps);
        return -1;
    }
    dl_replicas *rp = dl_replicas_new(&m.ps, replicas);
    const int n_ids = GT_BATCH * GT_DAYS * GT_TOKENS;
    int *ids = malloc(sizeof(int) * n_ids);
    float *labels = malloc(sizeof(float) * GT_BATCH);
    double *times = malloc(sizeof(double) * (steps > 0 ? steps : 1));
    double *cpu = malloc(sizeof(double) * (steps > 0 ? steps : 1)); /* process CPU seconds per step */
    if (!ids || !labels || !times || !cpu) {
        fprintf(stderr, "bench: out of memory\n");
        free(ids), free(labels), free(times), free(cpu);
        dl_replicas_free(rp);
        dl_optim_free(&opt);
        dl_params_free(&m.ps);
        return -1;
    }
    dl_rng data_rng;
    dl_rng_init(&data_rng, seed, 1);
    for (int i = 0; i < n_ids; i++) ids[i] = (int)dl_rng_below(&data_rng, GT_VOCAB);
    for (int i = 0; i < GT_BATCH; i++) labels[i] = (float)dl_rng_below(&data_rng, 2);

    gt_ctx ctx = {&m, ids, labels};
    int64_t allocs_after_first = 0;
    for (int s = 0; s < warmup + steps; s++) {
        double t0 = now_s(), c0 = cpu_s();
        float lv = dl_replicas_step_update(rp, gt_replica_step, &ctx, 1.0f / (float)replicas, &opt, opt.lr);
        dl_replicas_reset(rp);
        double t = now_s() - t0, c = cpu_s() - c0;
        if (s >= warmup) cpu[s - warmup] = c;
        if (s == 0) {
            out->first_loss = lv;
            allocs_after_first = dl_replicas_heap_allocs(rp);
        }
        out->last_loss = lv;
        if (s >= warmup) times[s - warmup] = t;
    }
    const int nsteps = warmup + steps;
    out->heap_allocs_per_step =
        nsteps > 1 ? (double)(dl_replicas_heap_allocs(rp) - allocs_after_first) / (nsteps - 1) : 0.0;
    if (steps > 0) {
        qsort(times, (size_t)steps, sizeof *times, cmp_double);
        out->ms_median = 1e3 * (steps % 2 ? times[steps / 2] : 0.5 * (times[steps / 2 - 1] + times[steps / 2]));
        out->ms_min = 1e3 * times[0];
        out->ms_max = 1e3 * times[steps - 1];
        qsort(cpu, (size_t)steps, sizeof *cpu, cmp_double);
        out->cpu_ms_median = 1e3 * (steps % 2 ? cpu[steps / 2] : 0.5 * (cpu[steps / 2 - 1] + cpu[steps / 2]));
        out->gflops = bench_gru_text_train_flops(GT_BATCH) / (out->ms_median * 1e-3) * 1e-9;
    }
    out->params = dl_params_count(&m.ps);
    out->replicas = replicas;
    out->state_mb = (3.0 + replicas) * (double)out->params * sizeof(float) / (1024.0 * 1024.0);
    out->arena_mb = (double)dl_replicas_arena_bytes(rp) / (1024.0 * 1024.0);
    out->peak_rss_mb = peak_rss_mb();

    free(ids);
    free(labels);
    free(times);
    free(cpu);
    dl_replicas_free(rp);
    dl_optim_free(&opt);
    dl_params_free(&m.ps);
    return 0;
}
