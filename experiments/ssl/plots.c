/* Figures: pretraining loss (train and validation), the ablation with error
 * bars, and a 2-D PCA of the test features coloured by class. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/plot.h"
#include "ssl/run.h"

/* Top two principal directions of f [n, d] by power iteration with deflation. */
static void pca2(const float *f, int n, int d, double *out /* [n][2] */)
{
    double *mean = calloc((size_t)d, sizeof(double)), *C = calloc((size_t)d * d, sizeof(double));
    double *v = malloc(sizeof(double) * (size_t)d * 2), *t = malloc(sizeof(double) * (size_t)d);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) mean[j] += f[(size_t)i * d + j] / n;
    for (int i = 0; i < n; i++)
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++)
                C[a * d + b] += (f[(size_t)i * d + a] - mean[a]) * (f[(size_t)i * d + b] - mean[b]);
    for (int k = 0; k < 2; k++) {
        double *u = v + k * d;
        for (int j = 0; j < d; j++) u[j] = 1.0 + 0.1 * j;
        for (int it = 0; it < 200; it++) {
            for (int a = 0; a < d; a++) {
                t[a] = 0;
                for (int b = 0; b < d; b++) t[a] += C[a * d + b] * u[b];
            }
            if (k == 1) {
                double pr = 0;
                for (int j = 0; j < d; j++) pr += t[j] * v[j];
                for (int j = 0; j < d; j++) t[j] -= pr * v[j];
            }
            double nr = 0;
            for (int j = 0; j < d; j++) nr += t[j] * t[j];
            nr = sqrt(nr) + 1e-30;
            for (int j = 0; j < d; j++) u[j] = t[j] / nr;
        }
    }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 2; k++) {
            double s = 0;
            for (int j = 0; j < d; j++) s += (f[(size_t)i * d + j] - mean[j]) * v[k * d + j];
            out[i * 2 + k] = s;
        }
    free(mean); free(C); free(v); free(t);
}

static void pca_plot(const ssl_cfg *c, dl_run *run, const ssl_result *R, const char *stem, const char *name)
{
    const int n = R->S.n_test, K = R->D.n_classes;
    double *pc = malloc(sizeof(double) * (size_t)n * 2), *xs = malloc(sizeof(double) * (size_t)n),
           *ys = malloc(sizeof(double) * (size_t)n);
    pca2(R->feat, n, R->feat_dim, pc);
    dl_series *s = calloc((size_t)K, sizeof(dl_series));
    char (*names)[24] = calloc((size_t)K, 24);
    int off = 0;
    for (int k = 0; k < K; k++) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (R->D.y[R->S.test[i]] == k) { xs[off + m] = pc[2 * i]; ys[off + m] = pc[2 * i + 1]; m++; }
        snprintf(names[k], 24, "class %d", k);
        s[k] = (dl_series){names[k], xs + off, ys + off, m, NULL, 0};
        off += m;
    }
    char cap[160];
    snprintf(cap, sizeof cap, "2-D PCA of the pretrained features %s of the %s test rows, coloured by class",
             !strcmp(c->features, "mu") ? "mu(h)" : !strcmp(c->features, "trunk") && !strcmp(name, "Fashion-MNIST") ? "(pooled conv maps)" : "h", name);
    dl_plot_opts o = {.title = cap, .xlabel = "PC 1", .ylabel = "PC 2", .flags = DL_PLOT_POINTS | DL_PLOT_KEY_OUTSIDE};
    dl_plot_lines(run, stem, cap, &o, s, K);
    free(pc); free(xs); free(ys); free(s); free(names);
}

void ssl_plots(const ssl_cfg *c, dl_run *run, const ssl_result *F, const ssl_result *T, const double *acc,
               const double *rob)
{
    const ssl_result *R = F ? F : T;
    dl_series ls[2] = {{"train", R->log.step, R->log.train, R->log.n, NULL, 0},
                       {"validation", R->log.step, R->log.val, R->log.n, NULL, 0}};
    dl_plot_opts o = {.title = "Pretraining loss", .xlabel = "step", .ylabel = "total loss",
                      .flags = DL_PLOT_LINESPOINTS};
    dl_plot_lines(run, "pretrain_loss", "Pretraining loss of the full model on fixed training and validation "
                  "views (evaluation mode)", &o, ls, 2);
    /* ablation: mean +- standard error over initialisations, as points with a band */
    const int S = c->ablation_seeds;
    double x[SSL_N_VARIANTS], ma[SSL_N_VARIANTS], sa[SSL_N_VARIANTS], mr[SSL_N_VARIANTS], sr[SSL_N_VARIANTS];
    for (int v = 0; v < SSL_N_VARIANTS; v++) {
        double s1 = 0, s2 = 0, r1 = 0, r2 = 0;
        for (int i = 0; i < S; i++) { s1 += acc[v * S + i]; r1 += rob[v * S + i]; }
        s1 /= S; r1 /= S;
        for (int i = 0; i < S; i++) {
            s2 += (acc[v * S + i] - s1) * (acc[v * S + i] - s1);
            r2 += (rob[v * S + i] - r1) * (rob[v * S + i] - r1);
        }
        x[v] = v; ma[v] = s1; mr[v] = r1;
        sa[v] = sqrt(s2 / (S - 1) / S); sr[v] = sqrt(r2 / (S - 1) / S);
    }
    dl_series as[2] = {{"probe accuracy", x, ma, SSL_N_VARIANTS, sa, 0},
                       {"accuracy under shift", x, mr, SSL_N_VARIANTS, sr, 0}};
    dl_plot_opts ao = {.title = "Ablation (0 full, 1 no contrastive, 2 no variational, 3 no augmentation)",
                       .xlabel = "variant", .ylabel = "accuracy (mean +- SE)", .flags = DL_PLOT_LINESPOINTS};
    dl_plot_lines(run, "ablation", "Ablation on the table: mean probe accuracy and accuracy under shift "
                  "over initialisations, band = one standard error", &ao, as, 2);
    dl_plot_bars_err(run, "ablation_bars", "Ablation on the table: mean probe accuracy and mean accuracy under "
                     "shift per variant, error bars one standard error over initialisations",
                     "Ablation (mean +- SE)", "accuracy", ssl_variant_names, SSL_N_VARIANTS,
                     (const char *const[]){"probe accuracy", "under shift"},
                     (const double[]){ma[0], ma[1], ma[2], ma[3], mr[0], mr[1], mr[2], mr[3]},
                     (const double[]){sa[0], sa[1], sa[2], sa[3], sr[0], sr[1], sr[2], sr[3]}, 2);
    if (c->sweep_steps > 0) {
        const ssl_result *ds[2] = {F, T};
        const char *stems[2] = {"sweep_fmnist", "sweep_table"}, *names[2] = {"Fashion-MNIST", "table"};
        const char *lrs[5] = {"1e-4", "5e-4", "1e-3", "2e-3", "5e-3"};
        const char *opts[3] = {"SGD (momentum 0.9)", "Adam", "AdamW"};
        for (int k = 0; k < 2; k++) {
            if (!ds[k]) continue;
            char cap[256], title[128];
            snprintf(cap, sizeof cap, "Probe accuracy on %s after %d pretraining steps per optimizer and peak "
                     "learning rate (the abstract's winner: AdamW at 0.002)", names[k], c->sweep_steps);
            int bo = 0, bl = 0; /* the winner, shown beside the abstract's AdamW at 0.002 */
            for (int oi = 0; oi < 3; oi++)
                for (int li = 0; li < 5; li++)
                    if (ds[k]->sweep[oi][li] > ds[k]->sweep[bo][bl]) bo = oi, bl = li;
            snprintf(title, sizeof title, "%s probe accuracy: best %s at %s (%.3f), AdamW at 2e-3 %.3f", names[k],
                     opts[bo], lrs[bl], ds[k]->sweep[bo][bl], ds[k]->sweep[2][3]);
            dl_heatmap_opts ho = {.title = title, .xlabel = "peak learning rate", .ylabel = "optimizer",
                                  .row_labels = opts, .col_labels = lrs, .annotate = 1};
            dl_plot_heatmap_ex(run, stems[k], cap, &ho, &ds[k]->sweep[0][0], 3, 5);
        }
    }
    /* the probe on every choice of features, beside the one the claims use (eval.features) */
    {
        const char *labels[5] = {"FMNIST trunk", "FMNIST h", "FMNIST mu", "table h", "table mu"};
        const ssl_result *src[5] = {F, F, F, T, T};
        const int feat[5] = {SSL_FEAT_TRUNK, SSL_FEAT_H, SSL_FEAT_MU, SSL_FEAT_H, SSL_FEAT_MU};
        const int first = F ? 0 : 3, n = 5 - first; /* without Fashion-MNIST only the table's two bars */
        double w[3 * 5]; /* [series][label]: pretrained, random encoder, raw inputs */
        for (int i = 0; i < n; i++) {
            const ssl_result *Ri = src[first + i];
            w[0 * n + i] = Ri->acc_by_feat[feat[first + i]][0];
            w[1 * n + i] = Ri->acc_by_feat[feat[first + i]][1];
            w[2 * n + i] = Ri->acc_raw;
        }
        char cap[384];
        snprintf(cap, sizeof cap, "Linear-probe accuracy on each choice of frozen features (trunk: the CNN's pooled "
                 "conv maps; h; mu(h)) for the pretrained and the random encoder, raw inputs for reference; the "
                 "claims use eval.features=%s", c->features);
        dl_plot_bars(run, "probe_by_features", cap, "Probe accuracy by features", "accuracy", labels + first, n,
                     (const char *const[]){"pretrained", "random encoder", "raw inputs"}, w, 3);
    }
    if (F) pca_plot(c, run, F, "pca_fmnist", "Fashion-MNIST");
    pca_plot(c, run, T, "pca_table", "table");
}
