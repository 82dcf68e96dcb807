/* sentiment: CNN + GRU market sentiment with early risk alerts
 * (arXiv 2412.10199). Registration, knobs and presets; the run is run.c. */
#include "dynlab/experiment.h"
#include "sentiment/sentiment.h"

#define F_INT(m, key, def, lo, hi, help) DL_FIELD_INT(sent_cfg, m, key, def, lo, hi, help)
#define F_DBL(m, key, def, lo, hi, help) DL_FIELD_DOUBLE(sent_cfg, m, key, def, lo, hi, help)

static const dl_field sent_fields[] = {
    DL_FIELD_STRING(sent_cfg, texts_path, "data.texts", "",
                    "CSV of posts (header date,text; dates YYYY-MM-DD); empty: the synthetic market"),
    DL_FIELD_STRING(sent_cfg, prices_path, "data.prices", "",
                    "CSV of daily closes (header date,close); required with data.texts"),
    F_INT(days, "market.days", 1500, 100, 1000000, "synthetic market: trading days"),
    F_INT(posts_per_day, "market.posts", 16, 1, 1024, "posts per day (read: at most this many)"),
    F_INT(tokens_per_post, "market.tokens", 24, 5, 1024, "tokens per post (read: the first this many)"),
    F_INT(vocab, "market.vocab", 2000, 8, 1000000, "vocabulary size incl. <pad> and <unk>"),
    F_DBL(ar_phi, "market.phi", 0.9, 0, 0.999, "latent sentiment AR(1) coefficient"),
    F_DBL(ar_sigma, "market.sigma", 0.45, 0, 10, "latent sentiment AR(1) innovation s.d."),
    F_DBL(momentum, "market.momentum", 0.85, 0, 0.999,
          "momentum of past sentiment that drives returns: m_d = momentum m_{d-1} + (1-momentum) s_d"),
    F_DBL(sent_rate, "market.sentiment_words", 0.3, 0, 1, "share of tokens that are sentiment words"),
    F_DBL(negation_rate, "market.negation", 0.5, 0, 1,
          "share of sentiment words written as 'not' + a word of the opposite polarity (0.5: "
          "single words carry no polarity, only word order does)"),
    F_DBL(kappa, "market.kappa", 1.5, 0, 100, "polarity: P(positive word) = sigmoid(kappa s_d)"),
    F_DBL(drift, "market.drift", 0.0005, -1, 1, "daily log-return drift"),
    F_DBL(beta, "market.beta", 0.004, -1, 1, "return drift per unit of sentiment momentum"),
    F_DBL(vol, "market.vol", 0.012, 0, 1, "daily volatility at zero momentum"),
    F_DBL(vol_beta, "market.vol_beta", 0.5, -10, 10, "volatility multiplier exp(-vol_beta m)"),
    F_INT(horizon, "risk.horizon", 5, 1, 250, "a risk event: a drawdown within the next k days"),
    F_DBL(drawdown, "risk.drawdown", 0.03, 0.001, 0.99, "the drawdown that makes a risk event"),
    F_INT(window, "model.window", 20, 1, 1000, "days in the GRU's window"),
    F_INT(embed, "model.embed", 128, 2, 4096, "word embedding size"),
    F_INT(filters, "model.filters", 100, 1, 4096, "filters per convolution width (3, 4, 5)"),
    F_INT(hidden, "model.hidden", 128, 1, 4096, "GRU (and MLP) hidden size"),
    F_DBL(dropout, "model.dropout", 0.5, 0, 0.95, "dropout on the day vectors"),
    F_DBL(sent_weight, "model.sentiment_weight", 0.5, 0, 100,
          "weight of the next-day sentiment loss beside the risk loss"),
    F_INT(steps, "train.steps", 1500, 1, 10000000, "AdamW steps per model"),
    F_INT(batch, "train.batch", 64, 1, 100000, "windows per step"),
    F_INT(seeds, "train.seeds", 10, 2, 1000,
          "independent repetitions (market and model seeds) for the means and standard errors"),
    F_DBL(lr, "train.lr", 1e-3, 0, 10, "AdamW learning rate"),
    F_DBL(clip, "train.clip", 5, 0, 1e6, "gradient norm clip (0 = none)"),
    DL_FIELD_ENUM(sent_cfg, alert_rule, "alert.rule", "f1", "f1|recall",
                  "alert threshold chosen on validation: best F1, or the highest reaching alert.recall"),
    F_DBL(target_recall, "alert.recall", 0.8, 0.01, 1, "target recall for alert.rule=recall"),
    F_DBL(null_band_se, "claims.null_band", 3, 0.5, 100,
          "null control: AUROC must stay within 0.5 +- this many standard errors"),
};

static const dl_config_schema sent_schema = {sent_fields, sizeof sent_fields / sizeof sent_fields[0],
                                             sizeof(sent_cfg)};

static const dl_preset sent_presets[] = {
    {"quick", "{\"market\": {\"days\": 2000, \"posts\": 4, \"tokens\": 12, \"vocab\": 200},"
              " \"model\": {\"window\": 6, \"embed\": 16, \"filters\": 16, \"hidden\": 16, \"dropout\": 0.2},"
              " \"train\": {\"steps\": 800, \"batch\": 32, \"seeds\": 5, \"lr\": 3e-3}}"},
    {"paper", "{\"market\": {\"days\": 3000, \"posts\": 8, \"tokens\": 16, \"vocab\": 500},"
              " \"model\": {\"window\": 10, \"embed\": 32, \"filters\": 24, \"hidden\": 32, \"dropout\": 0.3},"
              " \"train\": {\"steps\": 1000, \"batch\": 32, \"seeds\": 5, \"lr\": 2e-3}}"},
    {NULL, NULL},
};

const dl_experiment dl_exp_sentiment = {
    .name = "sentiment",
    .title = "Integrative Analysis of Financial Market Sentiment Using CNN and GRU for Risk "
             "Prediction and Alert Systems",
    .arxiv = "2412.10199",
    .summary = "A convolutional network extracts local features and patterns from large volumes "
               "of market-related online text; the sequence of extracted features feeds a GRU "
               "that models how sentiment evolves over time and its effect on future market "
               "sentiment and risk, giving early risk alerts. The paper gives no data set or "
               "numbers: dynlab checks the qualitative claims on a synthetic market with a known "
               "mechanism and a null market where text carries no signal.",
    .schema = &sent_schema,
    .presets = sent_presets,
    .run = sent_run,
};
