/* sentiment: CNN + GRU market-sentiment model with early risk alerts
 * (arXiv 2412.10199). A Kim-style convolutional text encoder turns each
 * day's posts into a feature vector, a GRU models how that vector evolves
 * over a window of days, and two heads give next-day sentiment and the
 * probability of a risk event (a drawdown within the next k days).
 * docs/papers/sentiment.md lists every reconstructed choice. */
#ifndef DYNLAB_EXP_SENTIMENT_H
#define DYNLAB_EXP_SENTIMENT_H

#include <stddef.h>
#include <stdint.h>
#include "dynlab/config.h"
#include "dynlab/run.h"

typedef struct sent_cfg {
    /* data */
    char texts_path[DL_STR_MAX], prices_path[DL_STR_MAX];
    int days, posts_per_day, tokens_per_post, vocab;
    double ar_phi, ar_sigma, momentum, sent_rate, negation_rate, kappa;
    double drift, beta, vol, vol_beta;
    int horizon;
    double drawdown;
    /* model */
    int window, embed, filters, hidden;
    double dropout, sent_weight;
    /* training */
    int steps, batch, seeds;
    double lr, clip;
    char alert_rule[DL_STR_MAX];
    double target_recall;
    double null_band_se;
} sent_cfg;

int sent_run(const void *cfg, dl_run *run);

/* ---- market data ----------------------------------------------------------- */

#define SENT_PAD 0
#define SENT_UNK 1

typedef struct sent_market {
    int n_days, M, L;           /* days, posts per day, tokens per post */
    int vocab;                  /* ids 0 = PAD, 1 = UNK, 2.. words */
    char (*words)[24];          /* id -> word */
    int *tokens;                /* [n_days][M][L] */
    double *close;              /* [n_days] */
    char (*date)[11];           /* [n_days] "YYYY-MM-DD" */
    signed char *risk;          /* [n_days]: 1 drawdown within the horizon, 0 none, -1 unknown */
    signed char *sent_next;     /* [n_days]: next day's sentiment (1 positive), -1 unknown */
    int *crash_day;             /* event onsets (first day of each crash) */
    int n_crash;
} sent_market;

/* Synthetic market (docs/papers/sentiment.md): latent daily sentiment
 * s_d = phi s_{d-1} + sigma e_d; posts whose sentiment words (with negation)
 * follow s_d; returns whose drift and volatility follow a slow momentum
 * m_d = (1 - momentum) s_d + momentum m_{d-1} of past sentiment. With
 * null = 1 the text follows an independent sentiment process (no signal).
 * Writes texts.csv (date,text) and prices.csv (date,close) into dir. */
int sent_market_generate(const sent_cfg *cfg, uint64_t seed, int null, const char *dir, char *err,
                         size_t errlen);

/* Read date,text and date,close CSVs (header lines), build the vocabulary
 * from the training period (the first train_frac of the days; the most
 * frequent vocab - 2 words), tokenise up to M posts of L tokens per day,
 * label risk days (a close below (1 - drawdown) x today's within the next
 * horizon days) and next-day sentiment (the next day's return sign; the
 * synthetic generator's latent sentiment is not read). -1 with one line. */
int sent_market_load(sent_market *mk, const char *texts_csv, const char *prices_csv, int M, int L,
                     int vocab, double train_frac, int horizon, double drawdown, char *err,
                     size_t errlen);
void sent_market_free(sent_market *mk);

/* Chronological split of the days usable as window ends (window-1 .. last
 * labelled day): train, validation, test in order, with a gap of
 * horizon + window days between consecutive parts so that no training
 * window or label horizon overlaps a later part. */
typedef struct sent_split {
    int *train, *val, *test;
    int n_train, n_val, n_test;
} sent_split;
int sent_split_make(const sent_market *mk, int window, int horizon, double train_frac,
                    double val_frac, sent_split *sp, char *err, size_t errlen);
void sent_split_free(sent_split *sp);

/* ---- models ---------------------------------------------------------------- */

typedef enum { SENT_CNN_GRU, SENT_CNN_ONLY, SENT_GRU_ONLY, SENT_BOW_LOGREG, SENT_N_MODELS } sent_kind;
const char *sent_kind_name(int kind);

/* Train `kind` on the split's training days and score every day of val and
 * test (probability of a risk event; next-day sentiment probability). */
typedef struct sent_scores {
    float *val_risk, *test_risk, *test_sent;
    double train_seconds, final_loss;
} sent_scores;
int sent_train_model(const sent_cfg *cfg, const sent_market *mk, const sent_split *sp, int kind,
                     uint64_t seed, int untrained, sent_scores *out, dl_run *run, char *err,
                     size_t errlen);
void sent_scores_free(sent_scores *s);

/* ---- metrics ---------------------------------------------------------------- */

/* AUROC by the rank statistic (ties count half). NAN without both classes. */
double sent_auroc(const float *score, const signed char *label, int n);
typedef struct sent_alerts {
    double threshold, precision, recall, f1;
    double hit_rate, false_alarm_rate, n_events, n_negative_days, n_positive_days;
    double event_hit_rate; /* crash onsets with an alert in the `horizon` days before */
    double median_lead;   /* days between the first alert and the crash, over detected events */
    int n_detected;
    double *leads;        /* [n_detected] */
} sent_alerts;
/* Threshold on validation: the highest-F1 threshold ("f1") or the highest
 * threshold reaching the target recall ("recall"). */
double sent_choose_threshold(const float *score, const signed char *label, int n, int by_recall,
                             double target_recall);
/* Alert metrics on the test days (days[i] is the day of score[i]). */
void sent_alert_metrics(const sent_market *mk, const int *days, const float *score, int n,
                        double threshold, int horizon, sent_alerts *out);
/* ROC curve points (fpr, tpr), n+1 points at most; returns the count. */
int sent_roc(const float *score, const signed char *label, int n, double *fpr, double *tpr);

#endif
