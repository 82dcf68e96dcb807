/* The synthetic market (docs/papers/sentiment.md, "The synthetic market"):
 * the paper gives no data set, so a generator with a known mechanism stands
 * in for one, written as the same CSV files a user would supply.
 *
 *   latent sentiment   s_d = phi s_{d-1} + sigma e_d
 *   posts              each token is, with probability sent_rate, a
 *                      sentiment word whose polarity is positive with
 *                      probability sigmoid(kappa s_d); with probability
 *                      negation_rate that polarity is written as "not" +
 *                      a word of the opposite polarity; otherwise a neutral
 *                      word
 *   momentum           m_d = momentum m_{d-1} + (1 - momentum) s_d
 *   returns            r_d = drift + beta m_{d-1} + vol exp(-vol_beta m_{d-1}) eta_d
 *
 * So future risk depends on the sentiment of several past days (through the
 * momentum), and reading one day's sentiment needs local word order (the
 * negations). With null = 1 the posts follow an independent copy of the
 * sentiment process: the text says nothing about future prices. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/rng.h"
#include "dynlab/run.h"
#include "sentiment/sentiment.h"

static const char *const positive[] = {
    "gain", "surge", "bullish", "strong", "beat", "upgrade", "rally", "record", "growth", "profit",
    "rebound", "outperform", "boom", "soar", "optimism", "buy", "upbeat", "recovery", "expand",
    "dividend"};
static const char *const negative[] = {
    "loss", "plunge", "bearish", "weak", "miss", "downgrade", "selloff", "default", "fraud",
    "layoffs", "slump", "underperform", "crash", "sink", "fear", "sell", "gloomy", "recession",
    "shrink", "lawsuit"};
static const char *const neutral[] = {
    "the", "market", "shares", "company", "today", "report", "analyst", "quarter", "stock", "price",
    "trading", "investors", "index", "fund", "sector", "week", "bank", "board", "says", "expects",
    "data", "rate", "earnings", "guidance", "volume", "session", "chief", "plan", "deal", "update",
    "firm", "filing", "outlook", "bond", "yield", "energy", "tech", "retail", "oil", "gold",
    "euro", "dollar", "asia", "europe", "futures", "options", "margin", "capital", "cash", "debt"};
#define NPOS (int)(sizeof positive / sizeof positive[0])
#define NNEG (int)(sizeof negative / sizeof negative[0])
#define NNEU (int)(sizeof neutral / sizeof neutral[0])

enum { STREAM_SENT = 101, STREAM_NULL_SENT = 102, STREAM_POSTS = 103, STREAM_RETURNS = 104 };

/* Civil date of day n after 2020-01-01 (Howard Hinnant's days-to-civil). */
static void date_of(int n, char out[11]) {
    long z = 18262 + n + 719468; /* 18262 = days from 1970-01-01 to 2020-01-01 */
    long era = z / 146097, doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    unsigned yy = (unsigned)((y + (m <= 2)) % 10000), mm = (unsigned)m % 100u, dd = (unsigned)d % 100u;
    out[0] = (char)('0' + yy / 1000), out[1] = (char)('0' + yy / 100 % 10);
    out[2] = (char)('0' + yy / 10 % 10), out[3] = (char)('0' + yy % 10), out[4] = '-';
    out[5] = (char)('0' + mm / 10), out[6] = (char)('0' + mm % 10), out[7] = '-';
    out[8] = (char)('0' + dd / 10), out[9] = (char)('0' + dd % 10), out[10] = 0;
}

static void ar1(double *s, int n, double phi, double sigma, uint64_t seed, uint64_t stream) {
    dl_rng r;
    dl_rng_init(&r, seed, stream);
    double sd0 = sigma / sqrt(1 - phi * phi);
    s[0] = sd0 * dl_rng_normal(&r);
    for (int d = 1; d < n; d++) s[d] = phi * s[d - 1] + sigma * dl_rng_normal(&r);
}

int sent_market_generate(const sent_cfg *cfg, uint64_t seed, int null, const char *dir, char *err,
                         size_t errlen) {
    const int D = cfg->days;
    if (errlen) err[0] = 0;
    double *s = malloc((size_t)D * sizeof *s), *text_s = malloc((size_t)D * sizeof *text_s);
    char path[1200];
    FILE *ft = NULL, *fp = NULL;
    int rc = -1;
    if (!s || !text_s) goto out;
    ar1(s, D, cfg->ar_phi, cfg->ar_sigma, seed, STREAM_SENT);
    if (null) ar1(text_s, D, cfg->ar_phi, cfg->ar_sigma, seed, STREAM_NULL_SENT);
    else memcpy(text_s, s, (size_t)D * sizeof *s);

    snprintf(path, sizeof path, "%s/texts.csv", dir);
    ft = fopen(path, "w");
    snprintf(path, sizeof path, "%s/prices.csv", dir);
    fp = fopen(path, "w");
    if (!ft || !fp) {
        snprintf(err, errlen, "cannot write the synthetic market into %s", dir);
        goto out;
    }
    fprintf(ft, "date,text\n");
    fprintf(fp, "date,close\n");
    dl_rng rp, rr;
    dl_rng_init(&rp, seed, STREAM_POSTS);
    dl_rng_init(&rr, seed, STREAM_RETURNS);
    double m = 0, close = 100.0;
    const int words = cfg->tokens_per_post;
    for (int d = 0; d < D; d++) {
        char date[11];
        date_of(d, date);
        double p_pos = 1.0 / (1.0 + exp(-cfg->kappa * text_s[d]));
        for (int k = 0; k < cfg->posts_per_day; k++) {
            fprintf(ft, "%s,", date);
            for (int w = 0; w < words; w++) {
                const char *sep = w ? " " : "";
                if (dl_rng_uniform(&rp) < cfg->sent_rate) {
                    int pos = dl_rng_uniform(&rp) < p_pos;
                    if (dl_rng_uniform(&rp) < cfg->negation_rate) { /* "not" + the opposite word */
                        fprintf(ft, "%snot", sep);
                        sep = " ";
                        w++;
                        pos = !pos;
                    }
                    fprintf(ft, "%s%s", sep, pos ? positive[dl_rng_below(&rp, NPOS)]
                                                 : negative[dl_rng_below(&rp, NNEG)]);
                } else {
                    fprintf(ft, "%s%s", sep, neutral[dl_rng_below(&rp, NNEU)]);
                }
            }
            fputc('\n', ft);
        }
        /* The return of day d responds to the momentum up to day d-1. */
        if (d > 0) {
            double r = cfg->drift + cfg->beta * m +
                       cfg->vol * exp(-cfg->vol_beta * m) * dl_rng_normal(&rr);
            close *= exp(r);
        }
        m = cfg->momentum * m + (1 - cfg->momentum) * s[d];
        fprintf(fp, "%s,%.6f\n", date, close);
    }
    rc = 0;
out:
    if (ft && fclose(ft)) rc = -1;
    if (fp && fclose(fp)) rc = -1;
    if (rc && !err[0]) snprintf(err, errlen, "cannot write the synthetic market into %s", dir);
    free(s);
    free(text_s);
    return rc;
}
