/* The sample exam by hand (docs/papers/ioaa.md). Every figure below was
 * computed on paper from sample.c's key, transcripts, grades and humans.csv,
 * not by the program.
 *
 * oracle:  theory 10 + 7 + 20 = 37 of 37 (100%), data analysis 15 of 15 (100%).
 * partial: Q1 10 (boxed 2.62 AU), Q2 3 + 0 (0.01 arcsec is 10x off) + 1 (manual),
 *          Q3 8 (502 nm = 5.02e-7 m) + 0 (8 L_sun) + 3 (manual) -> 25 of 37
 *          = 67.5676%; D1 10 + 0 (12 Gyr is 14% off) = 10 of 15 = 66.667%.
 * Humans, theory (11): median 42 -> gold >= 67.2, silver >= 54.6, bronze >= 42.
 *   oracle 100: rank 1, percentile 100, gold.
 *   partial 67.5676: 80 and 95 above (rank 3), 9 of 11 at or below (81.818%),
 *   gold (one participant ties it exactly and shares rank 3).
 * Humans, data analysis (6): median (50 + 60) / 2 = 55 -> gold >= 88,
 *   silver >= 71.5, bronze >= 55.
 *   oracle 100: nobody above (rank 1, shared with the participant at 100),
 *   6 of 6 at or below (100%), gold.
 *   partial 66.667: 75 and 100 above (rank 3), 4 of 6 (66.667%), bronze.
 * Points lost by category, partial: conceptual 2 (Q2b) + 6 (Q3b) + 1 (Q2c)
 *   + 3 (Q3c) = 12; calculation 5 (D1b); total lost 17 = 52 - 35. */
#ifndef DYNLAB_EXP_IOAA_SAMPLE_EXPECT_H
#define DYNLAB_EXP_IOAA_SAMPLE_EXPECT_H

typedef struct ioaa_expect {
    const char *model, *part;
    double points, max_points, pct;
    int rank;
    double percentile;
    const char *medal;
} ioaa_expect;

static const ioaa_expect ioaa_sample_expect[] = {
    {"oracle", "theory", 37, 37, 100.0, 1, 100.0, "gold"},
    {"oracle", "data_analysis", 15, 15, 100.0, 1, 100.0, "gold"},
    {"partial", "theory", 25, 37, 2500.0 / 37.0, 3, 900.0 / 11.0, "gold"},
    {"partial", "data_analysis", 10, 15, 200.0 / 3.0, 3, 400.0 / 6.0, "bronze"},
};
enum { IOAA_N_EXPECT = 4 };
/* partial's lost points: conceptual 12, calculation 5. */
static const double ioaa_sample_partial_lost_conceptual = 12, ioaa_sample_partial_lost_calculation = 5;

#endif
