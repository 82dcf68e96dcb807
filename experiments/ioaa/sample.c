/* The sample exam written for this project (original problems, in the
 * authors' release layout), its answer key, two scripted answer sets with
 * manual grades, and human-score tables. The hand-computed totals, ranks,
 * percentiles and medals that the run checks against are in
 * docs/papers/ioaa.md ("The sample exam by hand") and in sample_expect.h. */
#include <stdio.h>
#include <string.h>
#include "ioaa/ioaa.h"
#include "ioaa/util.h"

typedef struct sample_file {
    const char *path, *text;
} sample_file;

static const sample_file files[] = {
    {"exam/sample/Theory/Q1.tex",
     "\\documentclass{article}\n\\begin{document}\n"
     "\\section*{Q1. A planet around a heavier star (10 points)}\n"
     "A planet moves on a bound orbit around a main-sequence star of mass $2\\,M_\\odot$. Its\n"
     "orbital period is 3.00 years and its mass is negligible.\n\n\n"
     "(a) Find the semi-major axis of the orbit in astronomical units.\n"
     "\\end{document}\n"},
    {"exam/sample/Theory/Q2.tex",
     "\\documentclass{article}\n\\begin{document}\n"
     "\\section*{Q2. Distances}\n"
     "A star has apparent magnitude $m = 10.0$ and absolute magnitude $M = 0.0$.\n"
     "\\begin{enumerate}\n"
     "\\item[(a)] Ignoring extinction, find its distance in parsecs. [3]\n"
     "\\item[(b)] Find its trigonometric parallax in arcseconds. [2]\n"
     "\\item[(c)] Interstellar dust dims the star. Explain whether the true distance is larger\n"
     "or smaller than your answer to (a). [2]\n"
     "\\end{enumerate}\n\\end{document}\n"},
    {"exam/sample/Theory/Q3.tex",
     "\\documentclass{article}\n\\begin{document}\n"
     "\\section*{Q3. A solar twin, inflated (20 points)}\n"
     "A star has the effective temperature of the Sun, 5772 K, and twice its radius.\n"
     "(a) Find the wavelength at which its black-body spectrum peaks, in metres.\n"
     "(b) Find its luminosity in solar luminosities.\n"
     "(c) Write the luminosity as a formula in the radius $R$ and temperature $T$.\n"
     "\\end{document}\n"},
    {"exam/sample/Data Analysis/D1.tex",
     "\\documentclass{article}\n\\begin{document}\n"
     "\\section*{D1. The expansion rate (15 points)}\n"
     "Four galaxies have distances 10, 20, 40 and 80 Mpc and recession velocities 700, 1400,\n"
     "2800 and 5600 km/s (figure \\ref{fig:h}).\n"
     "\\includegraphics[width=0.5\\textwidth]{hubble_plot}\n"
     "(a) Fit the Hubble constant in km/s/Mpc.\n"
     "(b) Estimate the Hubble time $1/H_0$ in Gyr.\n"
     "\\end{document}\n"},
    {"key.json",
     "{\"problems\": [\n"
     " {\"year\": \"sample\", \"part\": \"theory\", \"id\": \"Q1\", \"items\": [\n"
     "  {\"id\": \"a\", \"points\": 10, \"type\": \"numeric\", \"value\": 2.6207, \"unit\": \"AU\","
     " \"rel_tol\": 0.02, \"rubric\": \"a^3 = M P^2 in solar units\", \"category\": \"calculation\"}]},\n"
     " {\"year\": \"sample\", \"part\": \"theory\", \"id\": \"Q2\", \"items\": [\n"
     "  {\"id\": \"a\", \"points\": 3, \"type\": \"numeric\", \"value\": 1000, \"unit\": \"pc\","
     " \"rel_tol\": 0.02, \"category\": \"calculation\"},\n"
     "  {\"id\": \"b\", \"points\": 2, \"type\": \"numeric\", \"value\": 0.001, \"unit\": \"arcsec\","
     " \"rel_tol\": 0.02, \"category\": \"conceptual\"},\n"
     "  {\"id\": \"c\", \"points\": 2, \"type\": \"text\", \"answer\": \"smaller\","
     " \"rubric\": \"extinction makes the star look fainter, so the uncorrected distance is too "
     "large: the true distance is smaller (1 point the direction, 1 point the reason)\","
     " \"category\": \"conceptual\"}]},\n"
     " {\"year\": \"sample\", \"part\": \"theory\", \"id\": \"Q3\", \"items\": [\n"
     "  {\"id\": \"a\", \"points\": 8, \"type\": \"numeric\", \"value\": 5.021e-7, \"unit\": \"m\","
     " \"rel_tol\": 0.02, \"rubric\": \"Wien: b / T\", \"category\": \"calculation\"},\n"
     "  {\"id\": \"b\", \"points\": 6, \"type\": \"numeric\", \"value\": 4, \"unit\": \"L_sun\","
     " \"rel_tol\": 0.02, \"rubric\": \"L scales as R^2 T^4\", \"category\": \"conceptual\"},\n"
     "  {\"id\": \"c\", \"points\": 6, \"type\": \"expression\", \"answer\": \"L = 4 pi R^2 sigma T^4\","
     " \"rubric\": \"Stefan-Boltzmann law for a sphere\", \"category\": \"conceptual\"}]},\n"
     " {\"year\": \"sample\", \"part\": \"data_analysis\", \"id\": \"D1\", \"items\": [\n"
     "  {\"id\": \"a\", \"points\": 10, \"type\": \"numeric\", \"value\": 70, \"unit\": \"km/s/Mpc\","
     " \"rel_tol\": 0.03, \"category\": \"plot_or_image_reading\"},\n"
     "  {\"id\": \"b\", \"points\": 5, \"type\": \"numeric\", \"value\": 13.97, \"unit\": \"Gyr\","
     " \"rel_tol\": 0.05, \"category\": \"calculation\"}]}\n"
     "]}\n"},
    /* Scripted answer sets: "oracle" answers everything correctly, "partial"
     * makes the mistakes listed in docs/papers/ioaa.md. */
    {"transcripts/oracle/sample/theory/Q1.txt",
     "\\begin{document}Kepler's third law in solar units: $a^3 = M P^2 = 18$.\n"
     "ANSWER a: 2.621 AU\n\\end{document}\n"},
    {"transcripts/oracle/sample/theory/Q2.txt",
     "\\begin{document}$d = 10^{(m-M+5)/5}$ pc.\nANSWER a: 1000 pc\nANSWER b: 0.001 arcsec\n"
     "(c) Dust makes the star fainter, so the true distance is smaller.\n\\end{document}\n"},
    {"transcripts/oracle/sample/theory/Q3.txt",
     "\\begin{document}ANSWER a: 5.02 \\times 10^{-7} m\nANSWER b: 4 L_sun\n"
     "(c) $L = 4\\pi R^2 \\sigma T^4$\n\\end{document}\n"},
    {"transcripts/oracle/sample/data_analysis/D1.txt",
     "\\begin{document}The slope is 70.\nANSWER a: 70 km/s/Mpc\nANSWER b: 13.97 Gyr\n\\end{document}\n"},
    {"transcripts/partial/sample/theory/Q1.txt",
     "\\begin{document}\\[ a = (2 \\cdot 3^2)^{1/3} \\]\n\\boxed{2.62 \\mathrm{AU}}\n\\end{document}\n"},
    {"transcripts/partial/sample/theory/Q2.txt",
     "\\begin{document}ANSWER a: 1.0e3 pc\nANSWER b: 0.01 arcsec\n"
     "(c) The true distance is smaller.\n\\end{document}\n"},
    {"transcripts/partial/sample/theory/Q3.txt",
     "\\begin{document}ANSWER a: 502 nm\nANSWER b: 8 L_sun\n(c) $L \\propto R^2 T^4$\n\\end{document}\n"},
    {"transcripts/partial/sample/data_analysis/D1.txt",
     "\\begin{document}ANSWER a: 70.0 km/s/Mpc\nANSWER b: 12 Gyr\n\\end{document}\n"},
    {"grades.csv",
     "model,year,part,problem,item,points,category\n"
     "oracle,sample,theory,Q2,c,2\n"
     "oracle,sample,theory,Q3,c,6\n"
     "partial,sample,theory,Q2,c,1,conceptual\n"
     "partial,sample,theory,Q3,c,3,conceptual\n"},
    /* Participants' scores (percent of the part's maximum). The theory row
     * 67.567567567567565 is 2500/37 to the last digit: a tie with "partial". */
    {"humans.csv",
     "year,part,score\n"
     "sample,theory,12\nsample,theory,20\nsample,theory,28\nsample,theory,35\n"
     "sample,theory,40\nsample,theory,42\nsample,theory,48\nsample,theory,55\n"
     "sample,theory,67.567567567567565\nsample,theory,80\nsample,theory,95\n"
     "sample,data_analysis,30\nsample,data_analysis,50\nsample,data_analysis,50\n"
     "sample,data_analysis,60\nsample,data_analysis,75\nsample,data_analysis,100\n"},
};

int ioaa_sample_write(const char *dir, char *err, size_t errlen) {
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1400], parent[1400];
        snprintf(path, sizeof path, "%s/%s", dir, files[i].path);
        snprintf(parent, sizeof parent, "%s", path);
        char *slash = strrchr(parent, '/');
        if (slash) *slash = 0;
        if (ioaa_mkdirs(parent) || ioaa_write_text(path, files[i].text)) {
            snprintf(err, errlen, "cannot write the sample exam file %s", path);
            return -1;
        }
    }
    return 0;
}
