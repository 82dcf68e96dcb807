/* The four claims of the abstract, each computed from this run's measurements
 * with thresholds fixed in the config before any seed was run
 * (docs/papers/ssl.md, "Claims"). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dynlab/experiment.h"
#include "ssl/run.h"

static const char *SRC_ABS = "arXiv 2504.04032, abstract";

static void mean_se(const double *x, int n, double *m, double *se)
{
    double s = 0, v = 0;
    for (int i = 0; i < n; i++) s += x[i];
    *m = s / n;
    for (int i = 0; i < n; i++) v += (x[i] - *m) * (x[i] - *m);
    *se = n > 1 ? sqrt(v / (n - 1) / n) : 0;
}

/* (full - ablated) in standard errors of the difference; 0 when both are identical. */
static double se_units(double diff, double se)
{
    if (se > 0) return diff / se;
    return diff > 0 ? 1e9 : 0.0;
}

/* Measured findings beside the claims: k-NN accuracy, held-out-class anomaly
 * AUROC, the optimizer x learning-rate grid's winner against AdamW at 0.002,
 * and the wall time of each phase. */
static void ssl_findings(const ssl_cfg *c, dl_run *run, const ssl_result *R, const char *ds)
{
    char key[96], txt[96];
#define FIN(name, v) (snprintf(key, sizeof key, "%s_%s", ds, name), dl_final(run, key, v))
    FIN("knn_acc", R->knn_ssl);
    FIN("random_knn_acc", R->knn_rand);
    FIN("raw_knn_acc", R->knn_raw);
    FIN("supervised_knn_acc", R->knn_sup);
    FIN("supervised_acc", R->acc_sup);
    FIN("feature_dim", R->feat_dim);
    FIN("dead_features", R->dead_ssl);
    FIN("random_dead_features", R->dead_rand);
    FIN("pretrain_s", R->pretrain_s);
    if (c->anomaly) {
        FIN("anomaly_auroc", R->auroc_ssl);
        FIN("random_anomaly_auroc", R->auroc_rand);
        FIN("raw_anomaly_auroc", R->auroc_raw);
        FIN("anomaly_s", R->anomaly_s);
        dl_log(run, "%s: held-out class %d anomaly AUROC %.3f (random encoder %.3f, raw inputs %.3f)", ds,
               c->anomaly_class, R->auroc_ssl, R->auroc_rand, R->auroc_raw);
    }
    dl_log(run, "%s: k-NN (k=%d) accuracy %.3f (random encoder %.3f, raw %.3f, supervised %.3f); probe %.3f / %.3f / "
           "%.3f / %.3f", ds, c->knn_k, R->knn_ssl, R->knn_rand, R->knn_raw, R->knn_sup, R->acc_ssl, R->acc_rand,
           R->acc_raw, R->acc_sup);
    /* the probe on every choice of features (eval.features picks the one the claims use) */
    static const char *const feat_names[3] = {"trunk", "encoder", "mu"};
    for (int f = 0; f < 3; f++) {
        char name[48];
        snprintf(name, sizeof name, "probe_acc_%s", feat_names[f]);
        FIN(name, R->acc_by_feat[f][0]);
        snprintf(name, sizeof name, "random_acc_%s", feat_names[f]);
        FIN(name, R->acc_by_feat[f][1]);
    }
    dl_log(run, "%s: probe on pretrained / random encoder by features: trunk %.3f / %.3f, h %.3f / %.3f, mu %.3f / %.3f "
           "(claims use %s)", ds, R->acc_by_feat[0][0], R->acc_by_feat[0][1], R->acc_by_feat[1][0],
           R->acc_by_feat[1][1], R->acc_by_feat[2][0], R->acc_by_feat[2][1], c->features);
    if (c->sweep_steps > 0) {
        int bo = 0, bl = 0;
        for (int o = 0; o < 3; o++)
            for (int l = 0; l < 5; l++)
                if (R->sweep[o][l] > R->sweep[bo][bl]) bo = o, bl = l;
        snprintf(txt, sizeof txt, "%s@%g", ssl_sweep_opts[bo], ssl_sweep_lrs[bl]);
        snprintf(key, sizeof key, "%s_sweep_winner", ds);
        dl_final_str(run, key, txt);
        FIN("sweep_winner_acc", R->sweep[bo][bl]);
        FIN("sweep_adamw_0.002_acc", R->sweep[2][3]);
        FIN("sweep_s", R->sweep_s);
        dl_log(run, "%s: optimizer x learning rate (%d steps each): best %s %.3f, AdamW at 0.002 %.3f", ds,
               c->sweep_steps, txt, R->sweep[bo][bl], R->sweep[2][3]);
    }
#undef FIN
}

void ssl_claims(const ssl_cfg *c, dl_run *run, const ssl_result *F, const ssl_result *T, const double *acc,
                const double *rob)
{
    if (F) ssl_findings(c, run, F, "fmnist");
    ssl_findings(c, run, T, "table");
    char txt[1024], st[512], th[64];
    const ssl_result *ds[2] = {F, T};
    const char *dn[2] = {"Fashion-MNIST", "table"};

    /* C1: probe accuracy beats a random encoder and raw inputs */
    double worst = INFINITY;
    int n = 0;
    char *p = txt;
    for (int k = 0; k < 2; k++) {
        if (!ds[k]) continue;
        const ssl_result *R = ds[k];
        double m = fmin(R->acc_ssl - R->acc_rand, R->acc_ssl - R->acc_raw);
        worst = fmin(worst, m);
        p += snprintf(p, sizeof txt - (size_t)(p - txt), "%s%s: %.3f vs random %.3f, raw %.3f", n ? "; " : "", dn[k],
                      R->acc_ssl, R->acc_rand, R->acc_raw);
        n++;
        dl_final(run, k == 0 ? "fmnist_probe_acc" : "table_probe_acc", R->acc_ssl);
        dl_final(run, k == 0 ? "fmnist_random_acc" : "table_random_acc", R->acc_rand);
        dl_final(run, k == 0 ? "fmnist_raw_acc" : "table_raw_acc", R->acc_raw);
    }
    snprintf(st, sizeof st, "The linear probe on pretrained features (%s) beats a randomly initialised encoder and raw "
                            "inputs by at least %.2f accuracy on Fashion-MNIST and on a real table",
             !strcmp(c->features, "trunk") ? "the CNN's pooled conv maps, h on the table"
             : !strcmp(c->features, "mu") ? "the variational mean mu(h)" : "h, the encoder's last layer",
             c->margin);
    snprintf(th, sizeof th, "margin >= %.2f", c->margin);
    dl_claim_check(run, DL_CLAIM_LEARNED, "C1", st,
                   "arXiv 2504.04032, abstract: the model extracts features from unlabeled data and improves "
                   "classification accuracy", th, worst, txt, worst >= c->margin);

    /* C2: each module matters (table ablation over initialisations) */
    const int S = c->ablation_seeds;
    double mf, sf, rf, rsf, worst_se = INFINITY;
    mean_se(acc, S, &mf, &sf);
    mean_se(rob, S, &rf, &rsf);
    p = txt;
    p += snprintf(p, sizeof txt, "full %.3f/%.3f", mf, rf);
    for (int v = 1; v < SSL_N_VARIANTS; v++) {
        double ma, sa, mr, sr;
        mean_se(acc + v * S, S, &ma, &sa);
        mean_se(rob + v * S, S, &mr, &sr);
        double ua = se_units(mf - ma, sqrt(sf * sf + sa * sa)), ur = se_units(rf - mr, sqrt(rsf * rsf + sr * sr));
        double u = fmax(ua, ur);
        worst_se = fmin(worst_se, u);
        p += snprintf(p, sizeof txt - (size_t)(p - txt), "; %s %.3f/%.3f (%.1f SE)", ssl_variant_names[v], ma, mr, u);
    }
    dl_claim_check(run, DL_CLAIM_LEARNED, "C2",
                   "Removing contrastive learning, the variational module or augmentation lowers the mean probe "
                   "accuracy or the mean accuracy under shift by more than one standard error of the difference "
                   "(table, accuracy/shifted accuracy over initialisations)",
                   "arXiv 2504.04032, abstract: ablation experiments show each module matters for "
                   "generalization and robustness", "> 1 SE for each module", worst_se, txt, worst_se > 1.0);

    /* C3: stable convergence without serious overfitting */
    int pass = 1;
    double worst_ratio = 0;
    p = txt;
    for (int k = 0; k < 2; k++) {
        if (!ds[k]) continue;
        const ssl_train_log *L = &ds[k]->log;
        int q = (3 * (L->n - 1)) / 4;
        double ratio = L->val[L->n - 1] / L->train[L->n - 1];
        int ok = ratio <= c->gap_ratio && L->val[L->n - 1] <= 1.02 * L->val[q] &&
                 L->train[L->n - 1] <= 0.9 * L->train[0];
        pass &= ok;
        worst_ratio = fmax(worst_ratio, ratio);
        p += snprintf(p, sizeof txt - (size_t)(p - txt), "%s%s: train %.3f -> %.3f, val %.3f at 3/4 -> %.3f (ratio %.3f)",
                      p == txt ? "" : "; ", dn[k], L->train[0], L->train[L->n - 1], L->val[q], L->val[L->n - 1], ratio);
    }
    snprintf(st, sizeof st, "Pretraining converges without serious overfitting: the final training loss is at most "
                            "0.9 of the initial, the final validation/training loss ratio is at most %.2f and the "
                            "validation loss rises by at most 2%% over the last quarter", c->gap_ratio);
    snprintf(th, sizeof th, "val/train <= %.2f", c->gap_ratio);
    dl_claim_check(run, DL_CLAIM_LEARNED, "C3", st,
                   "arXiv 2504.04032, abstract: loss convergence curves show stable convergence without serious "
                   "overfitting", th, worst_ratio, txt, pass);

    /* C4: accuracy kept under distribution shift, more than a supervised encoder */
    pass = 1;
    double worst_keep = INFINITY;
    p = txt;
    for (int k = 0; k < 2; k++) {
        if (!ds[k]) continue;
        const ssl_result *R = ds[k];
        for (int s = 0; s < 2; s++) {
            double ks = R->shift_ssl[s] / R->acc_ssl, kp = R->shift_sup[s] / R->acc_sup;
            int ok = ks >= c->keep_frac && ks > kp && R->shift_ssl[s] > R->shift_rand[s];
            pass &= ok;
            worst_keep = fmin(worst_keep, ks);
            const char *sn = s == 0 ? "noise" : k == 0 ? "brightness" : "scaling";
            p += snprintf(p, sizeof txt - (size_t)(p - txt), "%s%s %s: keeps %.3f (supervised %.3f; %.3f vs random %.3f)",
                          p == txt ? "" : "; ", dn[k], sn, ks, kp, R->shift_ssl[s], R->shift_rand[s]);
        }
    }
    snprintf(st, sizeof st, "Under each shift (noise; brightness on images, feature scaling on tables) the probe "
                            "keeps at least %.2f of its unshifted accuracy, more than a supervised encoder trained "
                            "on the same labels keeps, and beats a random encoder under the same shift", c->keep_frac);
    snprintf(th, sizeof th, "kept fraction >= %.2f", c->keep_frac);
    dl_claim_check(run, DL_CLAIM_LEARNED, "C4", st,
                   "arXiv 2504.04032, abstract: the model keeps high detection accuracy under different data "
                   "distributions", th, worst_keep, txt, pass);
    (void)SRC_ABS;
}
