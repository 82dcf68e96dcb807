/* Figures of include/dynlab/plot.h: line plots (several series, log axes,
 * points, dashed references, mean ± std bands, vertical markers), heatmaps
 * (single and side by side), clustered bar charts and image grids. Each
 * function writes <stem>.dat and a gnuplot body; plot_gp.c renders it.
 *
 * Non-finite values are written as NaN (gnuplot skips undefined points);
 * non-positive values on a log axis are written as NaN too. */
#define _POSIX_C_SOURCE 200809L
#include "dynlab/plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot_gp.h"

static int bad_args(const char *stem, const char *what) {
    fprintf(stderr, "dynlab: plot %s: %s\n", stem ? stem : "(null)", what);
    return -1;
}

static FILE *open_dat(plot_files *pf, const char *caption) {
    FILE *d = fopen(pf->dat, "w");
    if (!d) {
        fprintf(stderr, "dynlab: plot %s: cannot write %s\n", pf->stem, pf->dat);
        plot_abort(pf);
        return NULL;
    }
    fputs("# dynlab figure data: ", d);
    for (const char *c = caption ? caption : ""; *c; c++) fputc((unsigned char)*c < 0x20 ? ' ' : *c, d);
    fputc('\n', d);
    return d;
}

static int close_dat(plot_files *pf, FILE *d) {
    if (fclose(d) != 0) {
        fprintf(stderr, "dynlab: plot %s: write error on %s\n", pf->stem, pf->dat);
        plot_abort(pf);
        return -1;
    }
    return 0;
}

static void gp_set_text(FILE *b, const char *what, const char *text) {
    if (!text || !*text) return;
    fprintf(b, "set %s ", what);
    gp_quote(b, text);
    fputc('\n', b);
}

/* ---- line plots ------------------------------------------------------- */

/* Legend placement. Explicit DL_PLOT_KEY_* flags win; otherwise the first
 * corner (top right, top left, bottom right, bottom left) that no curve
 * passes through, estimated on the data's own range, and below the plot when
 * every corner is used. */
static void gp_key(FILE *b, const dl_plot_opts *o, const dl_series *series, int n_series, const int *plottable,
                   int vline_entry) {
    int entries = vline_entry, longest = vline_entry ? (int)strlen(o->vline_label) : 0;
    for (int k = 0; k < n_series; k++)
        if (plottable[k] && series[k].name && series[k].name[0]) {
            entries++;
            if ((int)strlen(series[k].name) > longest) longest = (int)strlen(series[k].name);
        }
    const char *inside = " opaque box lc rgb '#cccccc'\n";
    if ((o->flags & DL_PLOT_NOKEY) || entries == 0) {
        fputs("unset key\n", b);
        return;
    }
    if (o->flags & DL_PLOT_KEY_BELOW) {
        fputs("set key below\n", b);
        return;
    }
    if (o->flags & DL_PLOT_KEY_OUTSIDE) {
        fputs("set key outside right top\n", b);
        return;
    }
    if (o->flags & DL_PLOT_KEY_TOPLEFT) {
        fprintf(b, "set key top left%s", inside);
        return;
    }
    const int logx = (o->flags & DL_PLOT_LOGX) != 0, logy = (o->flags & DL_PLOT_LOGY) != 0;
#define TX(v) (logx ? log10(v) : (v))
#define TY(v) (logy ? log10(v) : (v))
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int k = 0; k < n_series; k++)
        for (int i = 0; plottable[k] && i < series[k].n; i++) {
            double x = series[k].x ? series[k].x[i] : i, y = series[k].y[i];
            if (!isfinite(x) || !isfinite(y) || (logx && !(x > 0)) || (logy && !(y > 0))) continue;
            x0 = fmin(x0, TX(x)), x1 = fmax(x1, TX(x)), y0 = fmin(y0, TY(y)), y1 = fmax(y1, TY(y));
        }
    /* The axes as gnuplot will draw them: x fits the data (autoscale xfix),
     * a log y axis extends to whole decades. */
    if (logy) y0 = floor(y0), y1 = ceil(y1);
    if (o->xmin < o->xmax && !(logx && o->xmin <= 0)) x0 = TX(o->xmin), x1 = TX(o->xmax);
    if (o->ymin < o->ymax && !(logy && o->ymin <= 0)) y0 = TY(o->ymin), y1 = TY(o->ymax);
    if (!(x0 < x1) || !(y0 < y1)) {
        fprintf(b, "set key top right%s", inside);
        return;
    }
    /* The key's share of the plot area (about 780 x 440 px, 7 px per
     * character, 16 px per entry). */
    double kw = fmin(0.9, (longest * 7.0 + 70) / 780), kh = fmin(0.9, (entries * 16.0 + 24) / 440);
    int used[4] = {0, 0, 0, 0}; /* top right, top left, bottom right, bottom left */
    for (int k = 0; k < n_series; k++) {
        double px = NAN, py = NAN;
        for (int i = 0; plottable[k] && i < series[k].n; i++) {
            double x = series[k].x ? series[k].x[i] : i, y = series[k].y[i];
            if (!isfinite(x) || !isfinite(y) || (logx && !(x > 0)) || (logy && !(y > 0))) {
                px = NAN;
                continue;
            }
            double u = (TX(x) - x0) / (x1 - x0), v = (TY(y) - y0) / (y1 - y0);
            /* Sample the segment from the previous point, so lines count too. */
            int steps = isfinite(px) ? 8 : 1;
            for (int j = 1; j <= steps; j++) {
                double t = (double)j / steps;
                double su = isfinite(px) ? px + t * (u - px) : u, sv = isfinite(py) ? py + t * (v - py) : v;
                int right = su >= 1 - kw, left = su <= kw, top = sv >= 1 - kh, bottom = sv <= kh;
                used[0] |= top && right, used[1] |= top && left, used[2] |= bottom && right;
                used[3] |= bottom && left;
            }
            px = u, py = v;
        }
    }
#undef TX
#undef TY
    static const char *const corners[4] = {"top right", "top left", "bottom right", "bottom left"};
    for (int c = 0; c < 4; c++)
        if (!used[c]) {
            fprintf(b, "set key %s%s", corners[c], inside);
            return;
        }
    fputs("set key below\n", b);
}

int dl_plot_lines(dl_run *run, const char *stem, const char *caption, const dl_plot_opts *o,
                  const dl_series *series, int n_series) {
    static const dl_plot_opts no_opts;
    if (!o) o = &no_opts;
    if (n_series < 0 || (n_series > 0 && !series)) return bad_args(stem, "no series");
    for (int k = 0; k < n_series; k++)
        if (series[k].n < 0 || (series[k].n > 0 && !series[k].y))
            return bad_args(stem, "series without y values");
    plot_files pf;
    if (plot_begin(run, stem, &pf) != 0) return -1;
    const int logx = (o->flags & DL_PLOT_LOGX) != 0, logy = (o->flags & DL_PLOT_LOGY) != 0;

    FILE *d = open_dat(&pf, caption);
    if (!d) return -1;
    fputs("# one block per series (gnuplot index k): x y [y-std y+std]\n", d);
    int *plottable = calloc((size_t)n_series + 1, sizeof *plottable);
    if (!plottable) {
        fclose(d);
        plot_abort(&pf);
        return -1;
    }
    int any = 0;
    for (int k = 0; k < n_series; k++) {
        const dl_series *s = &series[k];
        fprintf(d, "%s# series %d: %s\n", k ? "\n\n" : "", k, s->name ? s->name : "");
        for (int i = 0; i < s->n; i++) {
            double x = s->x ? s->x[i] : (double)i, y = s->y[i];
            if (logx && !(x > 0)) x = NAN;
            if (logy && !(y > 0)) y = NAN;
            gp_num(d, x);
            fputc(' ', d);
            gp_num(d, y);
            if (s->ystd) {
                double lo = y - s->ystd[i], hi = y + s->ystd[i];
                if (logy && !(lo > 0)) lo = y * 0.1; /* band through 0: clip one decade below the mean (log axis) */
                fputc(' ', d);
                gp_num(d, lo);
                fputc(' ', d);
                gp_num(d, hi);
            }
            fputc('\n', d);
            if (isfinite(x) && isfinite(y)) plottable[k] = 1;
        }
        if (s->n == 0) fputs("NaN NaN\n", d); /* keep the block so indices line up */
        any |= plottable[k];
    }
    if (close_dat(&pf, d) != 0) {
        free(plottable);
        return -1;
    }

    FILE *b = pf.body;
    gp_style(b);
    gp_set_text(b, "title", o->title);
    gp_set_text(b, "xlabel", o->xlabel);
    gp_set_text(b, "ylabel", o->ylabel);
    if (!any) {
        fputs("set label 'no finite data' at graph 0.5,0.5 center\n"
              "set xrange [0:1]\nset yrange [0:1]\nplot 2 notitle\n", b);
        free(plottable);
        return plot_finish(run, &pf, caption, 900, 560);
    }
    fputs("set autoscale xfix\n", b); /* x axis spans the data (training steps), not the next tick */
    if (o->xmin < o->xmax) fprintf(b, "set xrange [%.9g:%.9g]\n", o->xmin, o->xmax);
    if (o->ymin < o->ymax) fprintf(b, "set yrange [%.9g:%.9g]\n", o->ymin, o->ymax);
    /* %g: "0.001" and "1e-06" rather than gnuplot's fixed "0.0000010". */
    if (logx) fputs("set logscale x\nset mxtics 10\nset format x '%g'\n", b);
    if (logy) fputs("set logscale y\nset mytics 10\nset format y '%g'\n", b);
    int n_vl = 0;
    for (int i = 0; o->vlines && i < o->n_vlines; i++) {
        double v = o->vlines[i];
        if (!isfinite(v) || (logx && !(v > 0))) continue;
        fputs("set arrow from ", b);
        gp_num(b, v);
        fputs(", graph 0 to ", b);
        gp_num(b, v);
        fputs(", graph 1 nohead back lc rgb '#888888' dt 3 lw 1.5\n", b);
        n_vl++;
    }
    gp_key(b, o, series, n_series, plottable, n_vl > 0 && o->vline_label && o->vline_label[0]);

    const char *style = (o->flags & DL_PLOT_POINTS)       ? "points ps 0.7"
                        : (o->flags & DL_PLOT_LINESPOINTS) ? "linespoints ps 0.6"
                                                           : "lines";
    fputs("plot ", b);
    int first = 1;
    for (int k = 0; k < n_series; k++) {
        if (!plottable[k] || !series[k].ystd) continue; /* bands first, under every line */
        fputs(first ? "" : ", \\\n     ", b);
        gp_quote(b, pf.dat_name);
        fprintf(b, " index %d using 1:3:4 with filledcurves fs transparent solid 0.2 noborder lc %d notitle",
                k, k + 1);
        first = 0;
    }
    for (int k = 0; k < n_series; k++) {
        if (!plottable[k]) continue;
        fputs(first ? "" : ", \\\n     ", b);
        gp_quote(b, pf.dat_name);
        fprintf(b, " index %d using 1:2 with %s lc %d%s", k, series[k].dashed ? "lines" : style, k + 1,
                series[k].dashed ? " dt 2" : "");
        if (series[k].name && series[k].name[0]) {
            fputs(" title ", b);
            gp_quote(b, series[k].name);
        }
        first = 0;
    }
    if (n_vl > 0 && o->vline_label && o->vline_label[0]) {
        fputs(", \\\n     keyentry with lines lc rgb '#888888' dt 3 lw 1.5 title ", b);
        gp_quote(b, o->vline_label);
    }
    fputc('\n', b);
    free(plottable);
    return plot_finish(run, &pf, caption, 900, 560);
}

/* ---- heatmaps --------------------------------------------------------- */

static void write_matrix(FILE *d, const double *m, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            if (c) fputc(' ', d);
            gp_num(d, m[(size_t)r * cols + c]);
        }
        fputc('\n', d);
    }
}

/* Tic labels for one axis: names when given (thinned when many; x labels
 * rotated when they would not fit the axis_px pixels of the axis), indices
 * otherwise. */
static void gp_axis_tics(FILE *b, const char *axis, int n, const char *const *labels, int axis_px) {
    if (labels) {
        int step = n > 40 ? (n + 39) / 40 : 1, longest = 0;
        for (int i = 0; i < n; i++)
            if (labels[i] && (int)strlen(labels[i]) > longest) longest = (int)strlen(labels[i]);
        fprintf(b, "set %stics (", axis);
        for (int i = 0, first = 1; i < n; i += step, first = 0) {
            fputs(first ? "" : ", ", b);
            gp_quote(b, labels[i] ? labels[i] : "");
            fprintf(b, " %d", i);
        }
        fputs(")", b);
        int shown = (n + step - 1) / step;
        if (axis[0] == 'x' && longest * 7.5 + 10 > (double)axis_px / shown) fputs(" rotate by 45 right", b);
        fputc('\n', b);
    } else if (n <= 16) {
        fprintf(b, "set %stics 1\n", axis);
    }
}

/* Colour range of one or more matrices over their finite entries; a fixed
 * range from the options wins, a diverging palette is centred on 0. */
static void colour_range(const dl_heatmap_opts *o, const double *const *ms, int n, size_t count, double *lo,
                         double *hi) {
    if (o->vmin < o->vmax) {
        *lo = o->vmin, *hi = o->vmax;
        return;
    }
    *lo = INFINITY, *hi = -INFINITY;
    for (int k = 0; k < n; k++)
        for (size_t i = 0; i < count; i++)
            if (isfinite(ms[k][i])) {
                if (ms[k][i] < *lo) *lo = ms[k][i];
                if (ms[k][i] > *hi) *hi = ms[k][i];
            }
    if (!(*lo <= *hi)) *lo = 0, *hi = 1;
    if (o->palette && !strcmp(o->palette, "diverging")) {
        double a = fmax(fabs(*lo), fabs(*hi));
        *lo = -a, *hi = a;
    }
    if (*lo == *hi) *lo -= 0.5, *hi += 0.5;
}

static void gp_palette(FILE *b, const char *palette) {
    if (palette && !strcmp(palette, "diverging"))
        fputs("set palette defined (0 '#2166ac', 0.25 '#92c5de', 0.5 '#f7f7f7', 0.75 '#f4a582', 1 '#b2182b')\n", b);
    else if (palette && !strcmp(palette, "gray"))
        fputs("set palette gray\n", b);
    else
        fputs("set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')\n", b);
}

static void heatmap_panel(FILE *b, const char *dat_name, int index, const char *title, const dl_heatmap_opts *o,
                          int rows, int cols, double lo, double hi, int axis_px) {
    gp_set_text(b, "title", title);
    gp_set_text(b, "xlabel", o->xlabel);
    gp_set_text(b, "ylabel", o->ylabel);
    gp_palette(b, o->palette);
    fputs("unset grid\nset tics scale 0.5\nset xtics norotate\nunset xtics\nunset ytics\n", b);
    fputs("set xtics out nomirror\nset ytics out nomirror\n", b);
    gp_axis_tics(b, "x", cols, o->col_labels, axis_px);
    gp_axis_tics(b, "y", rows, o->row_labels, axis_px);
    double aspect = (double)rows / cols;
    if (aspect >= 0.25 && aspect <= 4) fputs("set size ratio -1\n", b);
    else fputs("set size noratio\n", b);
    fprintf(b, "set xrange [-0.5:%g]\nset yrange [%g:-0.5]\n", cols - 0.5, rows - 0.5);
    fputs("set cbrange [", b);
    gp_num(b, lo);
    fputc(':', b);
    gp_num(b, hi);
    fputs("]\nset colorbox\nplot ", b);
    gp_quote(b, dat_name);
    fprintf(b, " matrix index %d with image notitle", index);
    if (o->annotate && rows * cols <= 400) {
        /* Cell values, white on dark cells and black on light ones. */
        int diverging = o->palette && !strcmp(o->palette, "diverging");
        char t[64];
        snprintf(t, sizeof t, "(($3-(%.9g))/(%.9g))", lo, hi - lo); /* position in the colour range, 0..1 */
        const char *dark = diverging ? "abs(%s-0.5) > 0.3" : "%s < 0.55";
        char cond[160];
        snprintf(cond, sizeof cond, dark, t);
        int fs = rows * cols <= 64 ? 9 : 7;
        for (int white = 1; white >= 0; white--) {
            fputs(", \\\n     ", b);
            gp_quote(b, dat_name);
            fprintf(b, " matrix index %d using 1:2:(($3 == $3) %s (%s) ? sprintf('%%.2g', $3 + 0.0) : '') with labels "
                       "font ',%d' tc rgb '%s' notitle",
                    index, white ? "&&" : "&& !", cond, fs, white ? "#ffffff" : "#000000");
        }
    }
    fputc('\n', b);
}

int dl_plot_heatmap_ex(dl_run *run, const char *stem, const char *caption, const dl_heatmap_opts *o,
                       const double *m, int rows, int cols) {
    static const dl_heatmap_opts no_opts;
    if (!o) o = &no_opts;
    if (!m || rows <= 0 || cols <= 0) return bad_args(stem, "empty matrix");
    plot_files pf;
    if (plot_begin(run, stem, &pf) != 0) return -1;
    FILE *d = open_dat(&pf, caption);
    if (!d) return -1;
    fprintf(d, "# %d x %d matrix (gnuplot: matrix), row 0 first\n", rows, cols);
    write_matrix(d, m, rows, cols);
    if (close_dat(&pf, d) != 0) return -1;
    double lo, hi;
    colour_range(o, &m, 1, (size_t)rows * cols, &lo, &hi);
    /* Canvas shaped like the matrix (cells stay square up to 1:4). */
    double a = (double)rows / cols;
    a = a < 0.25 ? 0.25 : a > 4 ? 4 : a;
    int w = a <= 1 ? 720 : (int)(540 / a) + 220, h = a <= 1 ? (int)(540 * a) + 150 : 700;
    if (o->row_labels) w += 60;
    gp_style(pf.body);
    heatmap_panel(pf.body, pf.dat_name, 0, o->title, o, rows, cols, lo, hi, a <= 1 ? 540 : (int)(540 / a));
    return plot_finish(run, &pf, caption, w, h);
}

int dl_plot_heatmap(dl_run *run, const char *stem, const char *caption, const char *title,
                    const char *xlabel, const char *ylabel, const double *m, int rows, int cols,
                    const char *const *row_labels, const char *const *col_labels) {
    dl_heatmap_opts o = {.title = title, .xlabel = xlabel, .ylabel = ylabel, .row_labels = row_labels,
                         .col_labels = col_labels};
    return dl_plot_heatmap_ex(run, stem, caption, &o, m, rows, cols);
}

int dl_plot_heatmaps_ex(dl_run *run, const char *stem, const char *caption, const dl_heatmap_opts *o,
                        const char *const *titles, const double *const *ms, int n, int rows, int cols) {
    static const dl_heatmap_opts no_opts;
    if (!o) o = &no_opts;
    if (!ms || n <= 0 || rows <= 0 || cols <= 0) return bad_args(stem, "no matrices");
    for (int k = 0; k < n; k++)
        if (!ms[k]) return bad_args(stem, "a matrix is NULL");
    plot_files pf;
    if (plot_begin(run, stem, &pf) != 0) return -1;
    FILE *d = open_dat(&pf, caption);
    if (!d) return -1;
    for (int k = 0; k < n; k++) {
        fprintf(d, "%s# panel %d: %s (%d x %d matrix)\n", k ? "\n\n" : "", k,
                titles && titles[k] ? titles[k] : "", rows, cols);
        write_matrix(d, ms[k], rows, cols);
    }
    if (close_dat(&pf, d) != 0) return -1;
    double shared_lo = 0, shared_hi = 1;
    if (o->shared_range) colour_range(o, ms, n, (size_t)rows * cols, &shared_lo, &shared_hi);
    int per_row = n < 4 ? n : 4, n_rows = (n + per_row - 1) / per_row;
    gp_style(pf.body);
    fprintf(pf.body, "set multiplot layout %d,%d", n_rows, per_row);
    if (o->title && o->title[0]) {
        fputs(" title ", pf.body);
        gp_quote(pf.body, o->title);
    }
    fputc('\n', pf.body);
    for (int k = 0; k < n; k++) {
        double lo = shared_lo, hi = shared_hi;
        if (!o->shared_range) colour_range(o, &ms[k], 1, (size_t)rows * cols, &lo, &hi);
        heatmap_panel(pf.body, pf.dat_name, k, titles ? titles[k] : NULL, o, rows, cols, lo, hi, 250);
    }
    fputs("unset multiplot\n", pf.body);
    double aspect = (double)rows / cols, panel_h = 300 * (aspect < 0.4 ? 0.4 : aspect > 2 ? 2 : aspect) + 100;
    int title_h = o->title && o->title[0] ? 30 : 0;
    return plot_finish(run, &pf, caption, 40 + 380 * per_row, 20 + title_h + (int)panel_h * n_rows);
}

int dl_plot_heatmaps(dl_run *run, const char *stem, const char *caption, const char *const *titles,
                     const double *const *ms, int n, int rows, int cols) {
    return dl_plot_heatmaps_ex(run, stem, caption, NULL, titles, ms, n, rows, cols);
}

/* ---- bar charts --------------------------------------------------------- */

int dl_plot_bars(dl_run *run, const char *stem, const char *caption, const char *title,
                 const char *ylabel, const char *const *labels, int n_labels,
                 const char *const *series_names, const double *values, int n_series) {
    return dl_plot_bars_err(run, stem, caption, title, ylabel, labels, n_labels, series_names, values, NULL,
                            n_series);
}

int dl_plot_bars_err(dl_run *run, const char *stem, const char *caption, const char *title,
                     const char *ylabel, const char *const *labels, int n_labels,
                     const char *const *series_names, const double *values, const double *err,
                     int n_series) {
    if (!values || n_labels <= 0 || n_series <= 0) return bad_args(stem, "no bars");
    plot_files pf;
    if (plot_begin(run, stem, &pf) != 0) return -1;
    FILE *d = open_dat(&pf, caption);
    if (!d) return -1;
    /* Clustered bars: group i centred at x = i, series s offset inside it. */
    const double group_width = 0.8, bw = group_width / n_series;
    int any_pos = 0, any_neg = 0, any = 0;
    fputs(err ? "# one block per series (gnuplot index s): x value group error\n"
              : "# one block per series (gnuplot index s): x value group\n", d);
    for (int s = 0; s < n_series; s++) {
        fprintf(d, "%s# series %d: %s\n", s ? "\n\n" : "", s,
                series_names && series_names[s] ? series_names[s] : "");
        for (int i = 0; i < n_labels; i++) {
            double v = values[(size_t)s * n_labels + i];
            gp_num(d, i - group_width / 2 + (s + 0.5) * bw);
            fputc(' ', d);
            gp_num(d, v);
            fprintf(d, " %d", i);
            /* the bar's extent includes its error bar, so the axis range below covers it */
            double e = err ? fabs(err[(size_t)s * n_labels + i]) : 0;
            if (err) fputc(' ', d), gp_num(d, e);
            fputc('\n', d);
            if (isfinite(v)) any = 1, any_pos |= v + (isfinite(e) ? e : 0) > 0, any_neg |= v - (isfinite(e) ? e : 0) < 0;
        }
    }
    if (close_dat(&pf, d) != 0) return -1;

    FILE *b = pf.body;
    gp_style(b);
    gp_set_text(b, "title", title);
    gp_set_text(b, "ylabel", ylabel);
    fputs("set grid noxtics ytics\n", b);
    int w = n_labels * n_series > 30 ? 1200 : 900;
    gp_axis_tics(b, "x", n_labels, labels, w - 120);
    if (!labels) fputs("set xtics 1\n", b);
    fprintf(b, "set xrange [-0.6:%g]\n", n_labels - 0.4);
    if (!any) fputs("set yrange [0:1]\nset label 'no finite data' at graph 0.5,0.5 center\n", b);
    else if (!any_neg) fputs("set yrange [0:*]\nset offsets 0,0,graph 0.08,0\n", b);
    else if (!any_pos) fputs("set yrange [*:0]\nset offsets 0,0,0,graph 0.08\n", b);
    else fputs("set xzeroaxis lt -1\nset offsets 0,0,graph 0.08,graph 0.08\n", b);
    fprintf(b, "set boxwidth %g absolute\nset style fill solid 0.85 border rgb '#333333'\n", bw * 0.95);
    if (n_series > 1) {
        /* Legend over the lower of the outermost groups, below the plot when both are tall. */
        double top = -INFINITY, bottom = INFINITY, first = -INFINITY, last = -INFINITY;
        for (int s = 0; s < n_series; s++)
            for (int i = 0; i < n_labels; i++) {
                double v = values[(size_t)s * n_labels + i];
                if (!isfinite(v)) continue;
                top = fmax(top, fmax(v, 0)), bottom = fmin(bottom, fmin(v, 0));
                if (i == 0) first = fmax(first, v);
                if (i == n_labels - 1) last = fmax(last, v);
            }
        double span = top - bottom, fr = (last - bottom) / span, fl = (first - bottom) / span;
        if (!(span > 0) || fr <= 0.7) fputs("set key top right opaque box lc rgb '#cccccc'\n", b);
        else if (fl <= 0.7) fputs("set key top left opaque box lc rgb '#cccccc'\n", b);
        else fputs("set key below\n", b);
    } else {
        fputs("unset key\n", b);
    }
    fputs("plot ", b);
    if (!any) fputs("2 notitle", b);
    for (int s = 0; any && s < n_series; s++) {
        fputs(s ? ", \\\n     " : "", b);
        gp_quote(b, pf.dat_name);
        fprintf(b, " index %d using 1:2 with boxes lc %d", s, s + 1);
        if (series_names && series_names[s] && series_names[s][0]) {
            fputs(" title ", b);
            gp_quote(b, series_names[s]);
        }
        if (err) {
            fputs(", \\\n     ", b);
            gp_quote(b, pf.dat_name);
            fprintf(b, " index %d using 1:2:4 with yerrorbars lc rgb '#222222' pt 0 lw 1.5 notitle", s);
        }
    }
    /* Values printed on the bars while they stay readable. */
    if (any && n_labels * n_series <= 40) {
        fputs(", \\\n     ", b);
        gp_quote(b, pf.dat_name);
        /* above the error bar when there is one */
        fputs(err ? " using 1:($2 >= 0 ? $2 + $4 : $2 - $4):(sprintf('%.3g', $2)) with labels offset 0,0.6 font ',8' notitle"
                  : " using 1:2:(sprintf('%.3g', $2)) with labels offset 0,0.6 font ',8' notitle", b);
    }
    fputc('\n', b);
    return plot_finish(run, &pf, caption, w, 560);
}

/* ---- image grids ------------------------------------------------------------ */

int dl_plot_image_grid(dl_run *run, const char *stem, const char *caption, const double *images,
                       int n, int h, int w, int cols, const double *boxes, const int *n_boxes) {
    if (!images || n <= 0 || h <= 0 || w <= 0) return bad_args(stem, "no images");
    if (cols <= 0) cols = (int)ceil(sqrt((double)n));
    if (cols > n) cols = n;
    const int rows = (n + cols - 1) / cols, gap = h >= 14 ? h / 14 : 1;
    const int W = cols * w + (cols - 1) * gap, H = rows * h + (rows - 1) * gap;
    plot_files pf;
    if (plot_begin(run, stem, &pf) != 0) return -1;
    FILE *d = open_dat(&pf, caption);
    if (!d) return -1;
    /* One composite matrix: pixels clamped to [0,1], separators -1. */
    fprintf(d, "# %d images of %d x %d in a %d x %d grid; separators are -1 (gnuplot: matrix)\n", n, h, w,
            rows, cols);
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            int gr = y / (h + gap), gc = x / (w + gap), py = y % (h + gap), px = x % (w + gap);
            int idx = gr * cols + gc;
            double v = -1;
            if (py < h && px < w && idx < n) {
                v = images[((size_t)idx * h + py) * w + px];
                v = !isfinite(v) ? -1 : v < 0 ? 0 : v > 1 ? 1 : v;
            }
            if (x) fputc(' ', d);
            fprintf(d, "%.4g", v);
        }
        fputc('\n', d);
    }
    if (close_dat(&pf, d) != 0) return -1;

    double scale = 900.0 / W;
    if (scale > 12) scale = 12;
    if (H * scale > 1400) scale = 1400.0 / H;
    if (scale < 1) scale = 1;
    const int cw = (int)(W * scale) + 20, ch = (int)(H * scale) + 20;
    FILE *b = pf.body;
    fputs("unset border\nunset xtics\nunset ytics\nunset colorbox\nunset key\nset size ratio -1\n", b);
    fprintf(b, "set lmargin at screen %g\nset rmargin at screen %g\n", 10.0 / cw, 1 - 10.0 / cw);
    fprintf(b, "set bmargin at screen %g\nset tmargin at screen %g\n", 10.0 / ch, 1 - 10.0 / ch);
    fputs("set palette defined (-1 '#dde3ec', -0.001 '#dde3ec', 0 'black', 1 'white')\n"
          "set cbrange [-1:1]\n", b);
    fprintf(b, "set xrange [-0.5:%g]\nset yrange [%g:-0.5]\n", W - 0.5, H - 0.5);
    /* Boxes: (x0, y0, x1, y1) in the image's pixel coordinates, where pixel
     * (r, c) covers [c, c+1) x [r, r+1). */
    if (boxes && n_boxes) {
        const double *bx = boxes;
        for (int i = 0; i < n; i++) {
            double ox = (i % cols) * (w + gap) - 0.5, oy = (i / cols) * (h + gap) - 0.5;
            for (int j = 0; j < n_boxes[i]; j++, bx += 4) {
                if (!(isfinite(bx[0]) && isfinite(bx[1]) && isfinite(bx[2]) && isfinite(bx[3]))) continue;
                fprintf(b, "set object rect from %g,%g to %g,%g front fs empty border lc rgb '#ff3b30' lw 2\n",
                        ox + bx[0], oy + bx[1], ox + bx[2], oy + bx[3]);
            }
        }
    }
    fputs("plot ", b);
    gp_quote(b, pf.dat_name);
    fputs(" matrix with image notitle\n", b);
    return plot_finish(run, &pf, caption, cw, ch);
}
