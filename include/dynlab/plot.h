/* Plots rendered by gnuplot (run as a program on a generated script + data
 * file; PNG via pngcairo, SVG alongside). The data file is always written, so
 * a run without gnuplot still keeps its numbers; the first skipped plot
 * prints one notice. All functions take the run (for paths and registering
 * the plot in summary.json) and a file stem ("loss_vs_step" -> plots/loss_vs_step.png). */
#ifndef DYNLAB_PLOT_H
#define DYNLAB_PLOT_H

#include "dynlab/run.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { DL_PLOT_LOGX = 1, DL_PLOT_LOGY = 2, DL_PLOT_POINTS = 4, DL_PLOT_LINESPOINTS = 8,
       /* Legend: by default in the first corner no curve passes through (else
        * below the plot); these force a place. */
       DL_PLOT_KEY_BELOW = 16, DL_PLOT_KEY_OUTSIDE = 32, DL_PLOT_KEY_TOPLEFT = 64, DL_PLOT_NOKEY = 128 };

typedef struct dl_series {
    const char *name;
    const double *x, *y;
    int n;
    const double *ystd; /* optional: mean ± std band */
    int dashed;         /* reference lines (fits, slopes) */
} dl_series;

typedef struct dl_plot_opts {
    const char *title, *xlabel, *ylabel;
    int flags;                 /* DL_PLOT_* */
    const double *vlines;      /* optional vertical markers (stage boundaries, thresholds) */
    int n_vlines;
    const char *vline_label;
    double xmin, xmax, ymin, ymax; /* fixed axis range when min < max (default: fit the data) */
} dl_plot_opts;

/* Line plot of several series. Returns 0 on success or when gnuplot is
 * missing (data written), -1 on I/O error. */
int dl_plot_lines(dl_run *run, const char *stem, const char *caption, const dl_plot_opts *o,
                  const dl_series *series, int n_series);

/* Heatmap of a rows x cols matrix (row-major) with a colour bar. Labels are
 * optional (NULL = indices). */
int dl_plot_heatmap(dl_run *run, const char *stem, const char *caption, const char *title,
                    const char *xlabel, const char *ylabel, const double *m, int rows, int cols,
                    const char *const *row_labels, const char *const *col_labels);

/* Several heatmaps side by side in one figure (e.g. per-head attention beside
 * the true adjacency). */
int dl_plot_heatmaps(dl_run *run, const char *stem, const char *caption, const char *const *titles,
                     const double *const *ms, int n, int rows, int cols);

/* Heatmap options (all optional; zero-initialise and set what you need). */
typedef struct dl_heatmap_opts {
    const char *title;                /* heatmaps: one title over all panels */
    const char *xlabel, *ylabel;
    const char *const *row_labels, *const *col_labels; /* NULL = indices */
    double vmin, vmax;                /* fixed colour range when vmin < vmax (e.g. 0..1 for attention) */
    int shared_range;                 /* heatmaps: one colour range for every panel */
    int annotate;                     /* print each cell's value (matrices up to 400 cells) */
    const char *palette;              /* NULL: viridis; "diverging": blue-white-red centred on 0; "gray" */
} dl_heatmap_opts;

int dl_plot_heatmap_ex(dl_run *run, const char *stem, const char *caption, const dl_heatmap_opts *o,
                       const double *m, int rows, int cols);
int dl_plot_heatmaps_ex(dl_run *run, const char *stem, const char *caption, const dl_heatmap_opts *o,
                        const char *const *titles, const double *const *ms, int n, int rows, int cols);

/* Bar chart (ablations): one group per label, one bar per series. */
int dl_plot_bars(dl_run *run, const char *stem, const char *caption, const char *title,
                 const char *ylabel, const char *const *labels, int n_labels,
                 const char *const *series_names, const double *values /* [n_series][n_labels] */,
                 int n_series);
/* The same with an error bar of half-length err[s][i] on each bar (e.g. one
 * standard error over seeds); err NULL draws none. */
int dl_plot_bars_err(dl_run *run, const char *stem, const char *caption, const char *title,
                     const char *ylabel, const char *const *labels, int n_labels,
                     const char *const *series_names, const double *values, const double *err,
                     int n_series);

/* Grid of grayscale images in [0,1] (h x w each), with optional boxes
 * (x0, y0, x1, y1 in pixels, per image, n_boxes[i] each). */
int dl_plot_image_grid(dl_run *run, const char *stem, const char *caption, const double *images,
                       int n, int h, int w, int cols, const double *boxes, const int *n_boxes);

#ifdef __cplusplus
}
#endif
#endif
