/* Alert metrics: AUROC (Mann-Whitney, ties count half), the alert threshold
 * chosen on validation, precision/recall/F1 of the risk days, hit rate and
 * false-alarm rate, and the lead time of alerts before crash onsets. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sentiment/sentiment.h"

typedef struct scored {
    float s;
    signed char y;
} scored;

static int cmp_scored(const void *a, const void *b) {
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x > y) - (x < y);
}

/* Labelled entries sorted by score ascending; returns the count. */
static int sorted_labelled(const float *score, const signed char *label, int n, scored **out) {
    scored *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    int k = 0;
    if (!v) return -1;
    for (int i = 0; i < n; i++)
        if (label[i] >= 0) v[k++] = (scored){score[i], label[i]};
    qsort(v, (size_t)k, sizeof *v, cmp_scored);
    *out = v;
    return k;
}

double sent_auroc(const float *score, const signed char *label, int n) {
    scored *v;
    int k = sorted_labelled(score, label, n, &v);
    if (k < 0) return NAN;
    double rank_sum = 0;
    long pos = 0, neg = 0;
    for (int i = 0; i < k;) {
        int j = i;
        while (j < k && v[j].s == v[i].s) j++;
        double mid = 0.5 * (i + 1 + j); /* average rank of the tie block (1-based) */
        for (int t = i; t < j; t++)
            if (v[t].y) rank_sum += mid;
        i = j;
    }
    for (int i = 0; i < k; i++) v[i].y ? pos++ : neg++;
    free(v);
    if (!pos || !neg) return NAN;
    return (rank_sum - 0.5 * (double)pos * (pos + 1)) / ((double)pos * neg);
}

int sent_roc(const float *score, const signed char *label, int n, double *fpr, double *tpr) {
    scored *v;
    int k = sorted_labelled(score, label, n, &v);
    if (k <= 0) return 0;
    long pos = 0, neg = 0;
    for (int i = 0; i < k; i++) v[i].y ? pos++ : neg++;
    long tp = pos, fp = neg;
    int m = 0;
    fpr[m] = neg ? (double)fp / neg : 0;
    tpr[m++] = pos ? (double)tp / pos : 0;
    for (int i = 0; i < k;) { /* raise the threshold past each distinct score */
        int j = i;
        while (j < k && v[j].s == v[i].s) {
            v[j].y ? tp-- : fp--;
            j++;
        }
        fpr[m] = neg ? (double)fp / neg : 0;
        tpr[m++] = pos ? (double)tp / pos : 0;
        i = j;
    }
    free(v);
    return m;
}

double sent_choose_threshold(const float *score, const signed char *label, int n, int by_recall,
                             double target_recall) {
    scored *v;
    int k = sorted_labelled(score, label, n, &v);
    if (k <= 0) return 0.5;
    long pos = 0;
    for (int i = 0; i < k; i++) pos += v[i].y;
    /* Alert when score >= threshold; candidate thresholds are the scores. */
    long tp = pos, fp = k - pos;
    double best = -1, thr = v[0].s;
    for (int i = 0; i < k;) {
        double t = v[i].s;
        double prec = tp + fp ? (double)tp / (tp + fp) : 0, rec = pos ? (double)tp / pos : 0;
        double f1 = prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
        if (by_recall) {
            if (rec >= target_recall) thr = t; /* the highest threshold still reaching it */
        } else if (f1 > best) {
            best = f1;
            thr = t;
        }
        int j = i;
        while (j < k && v[j].s == v[i].s) {
            v[j].y ? tp-- : fp--;
            j++;
        }
        i = j;
    }
    free(v);
    return thr;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void sent_alert_metrics(const sent_market *mk, const int *days, const float *score, int n,
                        double threshold, int horizon, sent_alerts *out) {
    memset(out, 0, sizeof *out);
    out->threshold = threshold;
    long tp = 0, fp = 0, fn = 0, tn = 0;
    for (int i = 0; i < n; i++) {
        int y = mk->risk[days[i]], a = score[i] >= threshold;
        if (y < 0) continue;
        if (y && a) tp++;
        else if (!y && a) fp++;
        else if (y) fn++;
        else tn++;
    }
    out->precision = tp + fp ? (double)tp / (tp + fp) : 0;
    out->recall = tp + fn ? (double)tp / (tp + fn) : 0;
    out->f1 = out->precision + out->recall > 0
                  ? 2 * out->precision * out->recall / (out->precision + out->recall)
                  : 0;
    out->false_alarm_rate = fp + tn ? (double)fp / (fp + tn) : 0;
    out->n_negative_days = (double)(fp + tn);
    out->n_positive_days = (double)(tp + fn);
    out->hit_rate = out->recall; /* risk days with an alert */
    /* Events: crash onsets c whose whole look-back [c - horizon, c - 1] lies in
     * the scored days. Detected when an alert fires on one of those days; the
     * lead time is c minus the first such alert. */
    const int first = n ? days[0] : 0, last = n ? days[n - 1] : -1;
    out->leads = malloc((size_t)(mk->n_crash ? mk->n_crash : 1) * sizeof *out->leads);
    int events = 0;
    for (int e = 0; e < mk->n_crash; e++) {
        int c = mk->crash_day[e];
        if (c - horizon < first || c - 1 > last) continue;
        events++;
        for (int d = c - horizon; d <= c - 1; d++) {
            int i = d - first; /* days are consecutive within a split part */
            if (i >= 0 && i < n && days[i] == d && score[i] >= threshold) {
                if (out->leads) out->leads[out->n_detected] = c - d;
                out->n_detected++;
                break;
            }
        }
    }
    out->n_events = events;
    out->event_hit_rate = events ? (double)out->n_detected / events : 0;
    if (out->n_detected > 0 && out->leads) {
        double *tmp = malloc((size_t)out->n_detected * sizeof *tmp);
        if (tmp) {
            memcpy(tmp, out->leads, (size_t)out->n_detected * sizeof *tmp);
            qsort(tmp, (size_t)out->n_detected, sizeof *tmp, cmp_double);
            int k = out->n_detected;
            out->median_lead = k % 2 ? tmp[k / 2] : 0.5 * (tmp[k / 2 - 1] + tmp[k / 2]);
            free(tmp);
        }
    } else {
        out->median_lead = NAN;
    }
}
