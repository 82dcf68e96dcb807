/* The sentiment run: for each repetition, a market (synthetic, or the
 * user's CSVs), the chronological split, the four models trained and scored;
 * the same on the null market; claims over the repetitions; plots. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "dynlab/plot.h"
#include "sentiment/sentiment.h"

#define TRAIN_FRAC 0.7
#define VAL_FRAC 0.15

typedef struct rep_result {
    double auroc[SENT_N_MODELS], f1[SENT_N_MODELS], hit[SENT_N_MODELS], far[SENT_N_MODELS];
    double median_lead[SENT_N_MODELS], sent_acc[SENT_N_MODELS];
    double n_pos, n_tp, n_neg, n_fa; /* cnn_gru's risk days, alerted ones, calm days, false alarms */
    double null_auroc[SENT_N_MODELS], null_se;
} rep_result;

static double mean_of(const double *x, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return s / n;
}

static double se_of(const double *x, int n) {
    double m = mean_of(x, n), s = 0;
    for (int i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return n > 1 ? sqrt(s / (n - 1) / n) : NAN;
}

/* Null standard error of an AUROC (Hanley & McNeil 1982 under H0) with
 * n1 positives and n0 negatives, inflated for labels that come in runs of
 * about `horizon` days (an effective sample of n / horizon). */
static double null_auroc_se(double n1, double n0, int horizon) {
    if (n1 < 1 || n0 < 1) return NAN;
    return sqrt((n1 + n0 + 1) / (12.0 * n1 * n0)) * sqrt((double)horizon);
}

/* Prepare the market of one repetition into dir: the synthetic generator
 * (null or not), or the user's CSVs (the null market circularly shifts the
 * text by half the series, so that it is aligned with other days' prices). */
static int load_market(const sent_cfg *cfg, uint64_t seed, int null, const char *dir,
                       sent_market *mk, char *err, size_t errlen) {
    char texts[1400], prices[1400];
    if (!cfg->texts_path[0]) {
        if (mkdir(dir, 0755) && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s", dir);
            return -1;
        }
        if (sent_market_generate(cfg, seed, null, dir, err, errlen)) return -1;
        snprintf(texts, sizeof texts, "%.1300s/texts.csv", dir);
        snprintf(prices, sizeof prices, "%.1300s/prices.csv", dir);
    } else {
        snprintf(texts, sizeof texts, "%s", cfg->texts_path);
        snprintf(prices, sizeof prices, "%s", cfg->prices_path);
    }
    if (sent_market_load(mk, texts, prices, cfg->posts_per_day, cfg->tokens_per_post, cfg->vocab,
                         TRAIN_FRAC, cfg->horizon, cfg->drawdown, err, errlen))
        return -1;
    if (null && cfg->texts_path[0]) { /* user data: shift the text against the prices */
        const int n = mk->n_days, per = mk->M * mk->L, shift = n / 2;
        int *t = malloc((size_t)n * per * sizeof *t);
        if (!t) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (int d = 0; d < n; d++)
            memcpy(t + (size_t)d * per, mk->tokens + (size_t)((d + shift) % n) * per,
                   (size_t)per * sizeof *t);
        free(mk->tokens);
        mk->tokens = t;
    }
    return 0;
}

int sent_run(const void *vcfg, dl_run *run) {
    const sent_cfg *cfg = vcfg;
    const int untrained = dl_run_untrained(run);
    char err[1400] = "";
    if (!!cfg->texts_path[0] != !!cfg->prices_path[0]) {
        dl_log(run, "error: data.texts and data.prices go together (one of them is empty)");
        return 1;
    }
    const int S = cfg->seeds;
    rep_result *rr = calloc((size_t)S, sizeof *rr);
    double *lead_all = NULL;
    int n_lead = 0;
    if (!rr) return 1;
    int rc = 1;
    /* For the plots: the first repetition's test scores and market. */
    sent_market keep = {0};
    sent_split keep_sp = {0};
    float *keep_scores[SENT_N_MODELS] = {0};
    double keep_thr = 0.5; /* the first repetition's CNN+GRU alert threshold */

    for (int s = 0; s < S; s++) {
        const uint64_t seed = run->seed * 1000003ULL + (uint64_t)s;
        for (int null = 0; null <= 1; null++) {
            if (null && s > 0) break; /* the null market: the first repetition */
            char dir[1300];
            char name[64];
            snprintf(name, sizeof name, "market%s-r%d", null ? "-null" : "", s + 1);
            dl_run_path(run, name, dir, sizeof dir);
            sent_market mk;
            sent_split sp;
            if (load_market(cfg, seed, null, dir, &mk, err, sizeof err)) goto fail;
            if (sent_split_make(&mk, cfg->window, cfg->horizon, TRAIN_FRAC, VAL_FRAC, &sp, err,
                                sizeof err)) {
                sent_market_free(&mk);
                goto fail;
            }
            if (s == 0 && !null) {
                long pos = 0, lab = 0;
                for (int d = 0; d < mk.n_days; d++)
                    if (mk.risk[d] >= 0) pos += mk.risk[d], lab++;
                dl_log(run, "market: %d days, %d posts x %d tokens a day, vocabulary %d, %ld of %ld "
                            "days at risk (%.1f%%), %d crash onsets; split %d / %d / %d windows",
                       mk.n_days, mk.M, mk.L, mk.vocab, pos, lab, 100.0 * pos / (lab ? lab : 1),
                       mk.n_crash, sp.n_train, sp.n_val, sp.n_test);
            }
            signed char *test_label = malloc((size_t)sp.n_test), *val_label = malloc((size_t)sp.n_val);
            signed char *sent_label = malloc((size_t)sp.n_test);
            if (!test_label || !val_label || !sent_label) abort();
            for (int i = 0; i < sp.n_test; i++) {
                test_label[i] = mk.risk[sp.test[i]];
                sent_label[i] = mk.sent_next[sp.test[i]];
            }
            for (int i = 0; i < sp.n_val; i++) val_label[i] = mk.risk[sp.val[i]];
            for (int k = 0; k < SENT_N_MODELS; k++) {
                sent_scores sc;
                if (sent_train_model(cfg, &mk, &sp, k, seed, untrained, &sc, run, err, sizeof err)) {
                    free(test_label), free(val_label), free(sent_label);
                    sent_split_free(&sp);
                    sent_market_free(&mk);
                    goto fail;
                }
                double auc = sent_auroc(sc.test_risk, test_label, sp.n_test);
                char prog[96];
                snprintf(prog, sizeof prog, "%s%s AUROC %.3f", sent_kind_name(k), null ? " (null)" : "", auc);
                dl_progress(run, "models", (int64_t)s * SENT_N_MODELS + k + 1,
                            (int64_t)S * SENT_N_MODELS, prog);
                if (null) {
                    rr[0].null_auroc[k] = auc;
                    long n1 = 0, n0 = 0;
                    for (int i = 0; i < sp.n_test; i++)
                        if (test_label[i] >= 0) test_label[i] ? n1++ : n0++;
                    rr[0].null_se = null_auroc_se((double)n1, (double)n0, cfg->horizon);
                } else {
                    double thr = sent_choose_threshold(sc.val_risk, val_label, sp.n_val,
                                                       !strcmp(cfg->alert_rule, "recall"),
                                                       cfg->target_recall);
                    sent_alerts al;
                    sent_alert_metrics(&mk, sp.test, sc.test_risk, sp.n_test, thr, cfg->horizon, &al);
                    long right = 0, known = 0;
                    for (int i = 0; i < sp.n_test; i++)
                        if (sent_label[i] >= 0) {
                            known++;
                            right += (sc.test_sent[i] >= 0.5f) == (sent_label[i] == 1);
                        }
                    rep_result *r = &rr[s];
                    r->auroc[k] = auc;
                    r->f1[k] = al.f1;
                    r->hit[k] = al.hit_rate;
                    r->far[k] = al.false_alarm_rate;
                    r->median_lead[k] = al.median_lead;
                    r->sent_acc[k] = known ? (double)right / known : NAN;
                    if (k == SENT_CNN_GRU) {
                        r->n_pos = al.n_positive_days;
                        r->n_tp = al.recall * al.n_positive_days;
                        r->n_neg = al.n_negative_days;
                        r->n_fa = al.false_alarm_rate * al.n_negative_days;
                        double *g2 = realloc(lead_all, (size_t)(n_lead + al.n_detected + 1) * sizeof *g2);
                        if (g2) {
                            lead_all = g2;
                            for (int i = 0; i < al.n_detected; i++) lead_all[n_lead++] = al.leads[i];
                        }
                    }
                    free(al.leads);
                    dl_metrics_begin(run, (int64_t)s * SENT_N_MODELS + k);
                    dl_metrics_add_str(run, "model", sent_kind_name(k));
                    dl_metrics_add(run, "repetition", s + 1);
                    dl_metrics_add(run, "test_auroc", auc);
                    dl_metrics_add(run, "test_f1", al.f1);
                    dl_metrics_add(run, "hit_rate", al.hit_rate);
                    dl_metrics_add(run, "false_alarm_rate", al.false_alarm_rate);
                    dl_metrics_add(run, "event_hit_rate", al.event_hit_rate);
                    dl_metrics_add(run, "median_lead_days", al.median_lead);
                    dl_metrics_add(run, "sentiment_accuracy", r->sent_acc[k]);
                    dl_metrics_add(run, "train_loss", sc.final_loss);
                    dl_metrics_add(run, "train_seconds", sc.train_seconds);
                    dl_metrics_end(run);
                    if (s == 0) {
                        if (k == SENT_CNN_GRU) keep_thr = thr;
                        keep_scores[k] = sc.test_risk;
                        sc.test_risk = NULL;
                    }
                }
                sent_scores_free(&sc);
            }
            free(test_label), free(val_label), free(sent_label);
            if (s == 0 && !null) {
                keep = mk;
                keep_sp = sp;
            } else {
                sent_split_free(&sp);
                sent_market_free(&mk);
            }
        }
    }

    /* Summary over repetitions. */
    double x[SENT_N_MODELS][1024];
    const int SS = S < 1024 ? S : 1024;
    for (int k = 0; k < SENT_N_MODELS; k++) {
        for (int s = 0; s < SS; s++) x[k][s] = rr[s].auroc[k];
        double f1s[1024];
        for (int s = 0; s < SS; s++) f1s[s] = rr[s].f1[k];
        char key[96];
        snprintf(key, sizeof key, "%s.test_auroc", sent_kind_name(k));
        dl_final(run, key, mean_of(x[k], SS));
        snprintf(key, sizeof key, "%s.test_f1", sent_kind_name(k));
        dl_final(run, key, mean_of(f1s, SS));
        snprintf(key, sizeof key, "%s.null_auroc", sent_kind_name(k));
        dl_final(run, key, rr[0].null_auroc[k]);
        dl_log(run, "%-10s test AUROC %.3f +- %.3f, F1 %.3f +- %.3f; null-market AUROC %.3f",
               sent_kind_name(k), mean_of(x[k], SS), se_of(x[k], SS), mean_of(f1s, SS),
               se_of(f1s, SS), rr[0].null_auroc[k]);
    }
    const double band = cfg->null_band_se * rr[0].null_se;
    const double cg_auc = mean_of(x[SENT_CNN_GRU], SS), cg_se = se_of(x[SENT_CNN_GRU], SS);
    /* Above chance: the mean AUROC over repetitions exceeds 0.5 by more than
     * 2 standard errors (an untrained network's AUROC scatters around 0.5
     * from one initialisation to the next). */
    const int above_chance = cg_auc - 0.5 > 2 * cg_se;

    /* C1: CNN+GRU beats each baseline on F1 and AUROC (paired over
     * repetitions, mean difference above its standard error) and is above
     * chance (its AUROC beyond the null band). */
    {
        double worst = INFINITY;
        char worst_txt[96] = "";
        for (int b = 1; b < SENT_N_MODELS; b++)
            for (int metric = 0; metric < 2; metric++) {
                double d[1024];
                for (int s = 0; s < SS; s++)
                    d[s] = metric ? rr[s].auroc[0] - rr[s].auroc[b] : rr[s].f1[0] - rr[s].f1[b];
                double m = mean_of(d, SS), se = se_of(d, SS), ratio = se > 0 ? m / se : (m > 0 ? INFINITY : -INFINITY);
                if (ratio < worst) {
                    worst = ratio;
                    snprintf(worst_txt, sizeof worst_txt, "worst: %s vs %s %+.3f = %.2f SE",
                             metric ? "AUROC" : "F1", sent_kind_name(b), m, ratio);
                }
            }
        char t[160];
        snprintf(t, sizeof t, "%s; AUROC %.3f +- %.3f", worst_txt, cg_auc, cg_se);
        dl_claim_check(run, DL_CLAIM_LEARNED, "C1",
                       "CNN+GRU beats each baseline (bag-of-words logistic regression, CNN without "
                       "GRU, GRU without CNN) on alert F1 and AUROC, mean paired difference over "
                       "repetitions beyond its standard error, and is above chance",
                       "arXiv 2412.10199 abstract (CNN features + GRU over time for risk alerts); "
                       "docs/papers/sentiment.md",
                       "every diff > 1 SE; AUROC > 0.5 + 2 SE", worst, t, worst > 1 && above_chance);
    }
    /* C2: alerts precede risk events. Hit rate = the share of risk days with
     * an alert, false-alarm rate = the share of calm days with one (the
     * early-warning definitions; an alerter that ignores the text has equal
     * rates in expectation). Pooled over repetitions; the binomial standard
     * error is inflated by sqrt(horizon) because risk days come in runs. */
    {
        double pos = 0, tp = 0, neg = 0, fa = 0, leads_med = NAN;
        for (int s = 0; s < SS; s++) {
            pos += rr[s].n_pos;
            tp += rr[s].n_tp;
            neg += rr[s].n_neg;
            fa += rr[s].n_fa;
        }
        if (n_lead > 0) {
            double *tmp = malloc((size_t)n_lead * sizeof *tmp);
            if (tmp) {
                memcpy(tmp, lead_all, (size_t)n_lead * sizeof *tmp);
                for (int i = 1; i < n_lead; i++)
                    for (int j = i; j > 0 && tmp[j - 1] > tmp[j]; j--) {
                        double t = tmp[j];
                        tmp[j] = tmp[j - 1];
                        tmp[j - 1] = t;
                    }
                leads_med = n_lead % 2 ? tmp[n_lead / 2] : 0.5 * (tmp[n_lead / 2 - 1] + tmp[n_lead / 2]);
                free(tmp);
            }
        }
        double h = pos > 0 ? tp / pos : 0, f = neg > 0 ? fa / neg : 0;
        double se = sqrt(((pos > 0 ? h * (1 - h) / pos : 0) + (neg > 0 ? f * (1 - f) / neg : 0)) *
                         cfg->horizon);
        double z = se > 0 ? (h - f) / se : 0;
        char t[160];
        snprintf(t, sizeof t, "hit %.3f vs false alarms %.3f: %.2f SE; %d events detected, median lead %.1f d",
                 h, f, z, n_lead, leads_med);
        dl_final(run, "cnn_gru.hit_rate", h);
        dl_final(run, "cnn_gru.false_alarm_rate", f);
        dl_final(run, "cnn_gru.median_lead_days", leads_med);
        dl_claim_check(run, DL_CLAIM_LEARNED, "C2",
                       "Alerts precede risk events: the hit rate (risk days with an alert) exceeds "
                       "the false-alarm rate (calm days with an alert) beyond 2 standard errors, "
                       "and the median lead time of the detected crash onsets is positive",
                       "arXiv 2412.10199 abstract (early warnings of future risk); "
                       "docs/papers/sentiment.md",
                       "hit - FAR > 2 SE; lead >= 1 day", z, t,
                       isfinite(leads_med) && leads_med >= 1 && z > 2);
    }
    /* C3: removing the GRU lowers AUROC. */
    {
        double d[1024];
        for (int s = 0; s < SS; s++) d[s] = rr[s].auroc[SENT_CNN_GRU] - rr[s].auroc[SENT_CNN_ONLY];
        double m = mean_of(d, SS), se = se_of(d, SS), ratio = se > 0 ? m / se : (m > 0 ? INFINITY : -INFINITY);
        char t[128];
        snprintf(t, sizeof t, "AUROC drop %+.3f = %.2f SE; CNN+GRU %.3f +- %.3f", m, ratio, cg_auc,
                 cg_se);
        dl_claim_check(run, DL_CLAIM_LEARNED, "C3",
                       "Removing the GRU (the last day's CNN features only, no temporal modelling) "
                       "lowers the test AUROC, mean paired drop beyond its standard error, for an "
                       "above-chance CNN+GRU",
                       "arXiv 2412.10199 abstract (the GRU models how sentiment evolves over time); "
                       "docs/papers/sentiment.md",
                       "drop > 1 SE; AUROC > 0.5 + 2 SE", ratio, t, ratio > 1 && above_chance);
    }
    /* C4: the null market. */
    {
        double worst = 0;
        int wk = 0;
        for (int k = 0; k < SENT_N_MODELS; k++)
            if (fabs(rr[0].null_auroc[k] - 0.5) > worst) worst = fabs(rr[0].null_auroc[k] - 0.5), wk = k;
        char t[128];
        snprintf(t, sizeof t, "worst %s: AUROC %.3f, |AUROC - 0.5| %.3f vs band %.3f",
                 sent_kind_name(wk), rr[0].null_auroc[wk], worst, band);
        dl_claim_check(run, DL_CLAIM_STRUCTURAL, "C4",
                       "On the null market (text independent of prices) every model's test AUROC "
                       "stays within 0.5 +- the null band: the pipeline does not leak the future",
                       "docs/papers/sentiment.md (null control; AUROC standard error of Hanley and "
                       "McNeil 1982, effective sample n / horizon)",
                       "|AUROC - 0.5| <= band", worst, t, isfinite(worst) && worst <= band);
    }

    /* Plots: the first repetition. */
    if (keep.n_days) {
        const int n = keep_sp.n_test;
        double *xd = malloc((size_t)n * sizeof *xd), *price = malloc((size_t)n * sizeof *price);
        double *ax = malloc((size_t)n * sizeof *ax), *ay = malloc((size_t)n * sizeof *ay);
        double *vl = malloc((size_t)(keep.n_crash + 1) * sizeof *vl);
        signed char *lab = malloc((size_t)n);
        if (xd && price && ax && ay && vl && lab) {
            int na = 0, nv = 0;
            const double thr = keep_thr;
            for (int i = 0; i < n; i++) {
                int d = keep_sp.test[i];
                xd[i] = d;
                price[i] = keep.close[d];
                lab[i] = keep.risk[d];
                if (keep_scores[0][i] >= thr) {
                    ax[na] = d;
                    ay[na++] = keep.close[d];
                }
            }
            for (int e = 0; e < keep.n_crash; e++)
                if (keep.crash_day[e] >= keep_sp.test[0] && keep.crash_day[e] <= keep_sp.test[n - 1])
                    vl[nv++] = keep.crash_day[e];
            dl_series ser[2] = {{.name = "close", .x = xd, .y = price, .n = n},
                                {.name = "CNN+GRU alert", .x = ax, .y = ay, .n = na}};
            dl_plot_opts o = {.title = "Test period: price, alerts and crash onsets",
                              .xlabel = "trading day", .ylabel = "close", .flags = 0,
                              .vlines = vl, .n_vlines = nv, .vline_label = "crash onset"};
            dl_plot_lines(run, "alerts_on_price",
                          "Closing price over the test period of the first repetition, the days "
                          "the CNN+GRU raises an alert (its risk probability at or above the "
                          "threshold chosen on validation) and the crash onsets (vertical lines).",
                          &o, ser, na > 0 ? 2 : 1);
            /* ROC curves. */
            double *fpr[SENT_N_MODELS], *tpr[SENT_N_MODELS];
            dl_series rs[SENT_N_MODELS + 1];
            int nr = 0;
            for (int k = 0; k < SENT_N_MODELS; k++) {
                fpr[k] = malloc((size_t)(n + 2) * sizeof(double));
                tpr[k] = malloc((size_t)(n + 2) * sizeof(double));
                if (!fpr[k] || !tpr[k] || !keep_scores[k]) continue;
                int m = sent_roc(keep_scores[k], lab, n, fpr[k], tpr[k]);
                rs[nr++] = (dl_series){.name = sent_kind_name(k), .x = fpr[k], .y = tpr[k], .n = m};
            }
            double diag[2] = {0, 1};
            rs[nr++] = (dl_series){.name = "chance", .x = diag, .y = diag, .n = 2, .dashed = 1};
            dl_plot_opts ro = {.title = "ROC of the risk alerts (test, first repetition)",
                               .xlabel = "false-alarm rate", .ylabel = "recall (hit rate of risk days)",
                               .xmin = 0, .xmax = 1, .ymin = 0, .ymax = 1};
            dl_plot_lines(run, "roc", "ROC curves of the CNN+GRU and the three baselines on the "
                                      "test days of the first repetition.",
                          &ro, rs, nr);
            for (int k = 0; k < SENT_N_MODELS; k++) free(fpr[k]), free(tpr[k]);
        }
        free(xd), free(price), free(ax), free(ay), free(vl), free(lab);
    }
    if (n_lead > 0) {
        const int H = cfg->horizon < 64 ? cfg->horizon : 64;
        double counts[64] = {0};
        char labels[64][12];
        const char *lp[64];
        for (int i = 0; i < n_lead; i++) {
            int l = (int)lead_all[i];
            if (l >= 1 && l <= H) counts[l - 1]++;
        }
        for (int i = 0; i < H; i++) {
            snprintf(labels[i], sizeof labels[i], "%d", i + 1);
            lp[i] = labels[i];
        }
        const char *sn[1] = {"detected events"};
        dl_plot_bars(run, "lead_time_histogram",
                     "Days between the first alert and the crash onset, over the detected events "
                     "of every repetition (CNN+GRU).",
                     "Lead time of alerts", "events", lp, H, sn, counts, 1);
    }
    rc = 0;
    goto done;
fail:
    dl_log(run, "error: %s", err);
done:
    for (int k = 0; k < SENT_N_MODELS; k++) free(keep_scores[k]);
    sent_split_free(&keep_sp);
    sent_market_free(&keep);
    free(lead_all);
    free(rr);
    return rc;
}
