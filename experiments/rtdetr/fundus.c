/* The fundus generator. Appearance follows colour fundus photographs:
 * microaneurysms are the smallest dark-red dots, haemorrhages larger dark-red
 * blots, hard exudates small bright yellow specks that gather in clusters,
 * soft exudates (cotton-wool spots) pale fuzzy patches. Sizes are in units of
 * size/64 so a larger image keeps the same anatomy at finer detail. */
#define _POSIX_C_SOURCE 200809L
#include "rtdetr/fundus.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "dynlab/rng.h"
#include "rtdetr/image_io.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

const char *const fundus_class_names[FUNDUS_N_CLASSES] = {"microaneurysm", "haemorrhage", "hard_exudate",
                                                          "soft_exudate"};

static double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

/* Blend colour c into pixel (x, y) with opacity a. */
static void blend(double *img, int S, int x, int y, const double c[3], double a)
{
    if (x < 0 || y < 0 || x >= S || y >= S || a <= 0) return;
    double *p = img + ((size_t)y * S + x) * 3;
    for (int k = 0; k < 3; k++) p[k] = p[k] * (1 - a) + c[k] * a;
}

/* Filled ellipse with a one-pixel soft edge; fuzz > 0 makes the edge a Gaussian fall-off. */
static void ellipse(double *img, int S, double cx, double cy, double rx, double ry, const double c[3], double alpha,
                    double fuzz)
{
    int x0 = (int)floor(cx - rx - 2), x1 = (int)ceil(cx + rx + 2), y0 = (int)floor(cy - ry - 2), y1 = (int)ceil(cy + ry + 2);
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            double dx = (x + 0.5 - cx) / rx, dy = (y + 0.5 - cy) / ry, d = sqrt(dx * dx + dy * dy);
            double r = fmin(rx, ry), a;
            if (fuzz > 0) a = exp(-d * d * 1.5) * (d < 1.2);
            else a = clamp01((1 - d) * r + 0.5);
            blend(img, S, x, y, c, a * alpha);
        }
}

static void add_box(coco_dataset *ds, long img, int cls, double cx, double cy, double rx, double ry, int S)
{
    double x0 = fmax(0, cx - rx), y0 = fmax(0, cy - ry), x1 = fmin(S, cx + rx), y1 = fmin(S, cy + ry);
    if (x1 - x0 < 1 || y1 - y0 < 1) return;
    coco_gt *a = &ds->anns[ds->n_anns];
    a->id = ds->n_anns + 1;
    a->image_id = img;
    a->category_id = cls;
    a->bbox[0] = x0; a->bbox[1] = y0; a->bbox[2] = x1 - x0; a->bbox[3] = y1 - y0;
    a->area = a->bbox[2] * a->bbox[3];
    a->iscrowd = 0;
    ds->n_anns++;
}

static void draw_lesion(double *img, int S, double u, dl_rng *r, int cls, double cx, double cy, coco_dataset *ds,
                        long id)
{
    static const double ma_c[3] = {0.45, 0.05, 0.03}, he_c[3] = {0.40, 0.04, 0.02};
    static const double ex_c[3] = {0.98, 0.88, 0.35}, se_c[3] = {0.93, 0.86, 0.72};
    double rx, ry;
    switch (cls) {
    case FUNDUS_MA:
        rx = ry = u * (0.9 + 0.7 * dl_rng_uniform(r));
        ellipse(img, S, cx, cy, rx, ry, ma_c, 0.9, 0);
        break;
    case FUNDUS_HE:
        rx = u * (2.0 + 2.5 * dl_rng_uniform(r));
        ry = rx * (0.6 + 0.4 * dl_rng_uniform(r));
        if (dl_rng_uniform(r) < 0.5) { double t = rx; rx = ry; ry = t; }
        ellipse(img, S, cx, cy, rx, ry, he_c, 0.85, 0);
        break;
    case FUNDUS_EX:
        rx = u * (0.8 + 1.4 * dl_rng_uniform(r));
        ry = rx * (0.7 + 0.3 * dl_rng_uniform(r));
        ellipse(img, S, cx, cy, rx, ry, ex_c, 0.9, 0);
        break;
    default:
        rx = u * (2.5 + 3.0 * dl_rng_uniform(r));
        ry = rx * (0.6 + 0.4 * dl_rng_uniform(r));
        ellipse(img, S, cx, cy, rx, ry, se_c, 0.75, 1);
        break;
    }
    add_box(ds, id, cls, cx, cy, rx, ry, S);
}

int fundus_generate(const fundus_opts *o, int n, uint64_t seed, uint64_t stream, uint8_t **rgb_out, coco_dataset *ds)
{
    const int S = o->size;
    const double u = S / 64.0;
    memset(ds, 0, sizeof *ds);
    *rgb_out = NULL;
    ds->images = calloc((size_t)n + 1, sizeof(coco_image));
    ds->cats = calloc(FUNDUS_N_CLASSES, sizeof(coco_category));
    ds->anns = calloc((size_t)n * (size_t)o->max_lesions + 1, sizeof(coco_gt));
    uint8_t *rgb = malloc((size_t)n * S * S * 3 + 1);
    double *img = malloc(sizeof(double) * (size_t)S * S * 3);
    if (!ds->images || !ds->cats || !ds->anns || !rgb || !img) {
        coco_free(ds); free(rgb); free(img);
        return -1;
    }
    ds->n_cats = FUNDUS_N_CLASSES;
    for (int c = 0; c < FUNDUS_N_CLASSES; c++) {
        ds->cats[c].id = c + 1;
        snprintf(ds->cats[c].name, sizeof ds->cats[c].name, "%s", fundus_class_names[c]);
    }
    for (int i = 0; i < n; i++) {
        dl_rng r;
        dl_rng_init(&r, seed, stream * 1000003ULL + (uint64_t)i);
        coco_image *im = &ds->images[i];
        im->id = i + 1;
        im->width = im->height = S;
        snprintf(im->file_name, sizeof im->file_name, "images/%05d.png", i + 1);
        /* retina: orange-red with low-frequency texture and vignetting, black outside */
        double base[3] = {0.72 + 0.1 * dl_rng_uniform(&r), 0.30 + 0.08 * dl_rng_uniform(&r), 0.12 + 0.05 * dl_rng_uniform(&r)};
        double fq[4][4];
        for (int k = 0; k < 4; k++) {
            fq[k][0] = (1 + 3 * dl_rng_uniform(&r)) * 2 * M_PI / S;
            fq[k][1] = (1 + 3 * dl_rng_uniform(&r)) * 2 * M_PI / S;
            fq[k][2] = 2 * M_PI * dl_rng_uniform(&r);
            fq[k][3] = 0.03 * dl_rng_uniform(&r);
        }
        double R = 0.47 * S;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                double dx = x + 0.5 - S / 2.0, dy = y + 0.5 - S / 2.0, rr = sqrt(dx * dx + dy * dy) / R;
                double tex = 0;
                for (int k = 0; k < 4; k++) tex += fq[k][3] * sin(fq[k][0] * x + fq[k][1] * y + fq[k][2]);
                double vig = 1 - 0.35 * rr * rr, inside = clamp01((1 - rr) * R + 0.5);
                for (int c = 0; c < 3; c++) img[((size_t)y * S + x) * 3 + c] = inside * clamp01(base[c] * vig + tex);
            }
        /* macula: a darker patch near the centre */
        double mx = S / 2.0 + (dl_rng_uniform(&r) - 0.5) * 4 * u, my = S / 2.0 + (dl_rng_uniform(&r) - 0.5) * 4 * u;
        static const double mac_c[3] = {0.45, 0.15, 0.06};
        ellipse(img, S, mx, my, 5 * u, 5 * u, mac_c, 0.35, 1);
        /* optic disc, left or right of the macula */
        int side = dl_rng_uniform(&r) < 0.5 ? -1 : 1;
        double ox = S / 2.0 + side * (0.26 + 0.04 * dl_rng_uniform(&r)) * S, oy = S / 2.0 + (dl_rng_uniform(&r) - 0.5) * 0.1 * S;
        double orad = (0.075 + 0.015 * dl_rng_uniform(&r)) * S;
        /* vessels: random walks out of the disc, thinning */
        static const double ves_c[3] = {0.50, 0.08, 0.05};
        int nv = 5 + (int)dl_rng_below(&r, 4);
        for (int v = 0; v < nv; v++) {
            double ang = 2 * M_PI * v / nv + 0.4 * dl_rng_normal(&r), px = ox, py = oy, w = (1.1 + 0.5 * dl_rng_uniform(&r)) * u;
            for (int s = 0; s < (int)(0.9 * S); s++) {
                ang += 0.12 * dl_rng_normal(&r);
                px += cos(ang) * 0.8;
                py += sin(ang) * 0.8;
                double dx = px - S / 2.0, dy = py - S / 2.0;
                if (sqrt(dx * dx + dy * dy) > R) break;
                ellipse(img, S, px, py, w * 0.5 + 0.3, w * 0.5 + 0.3, ves_c, 0.5, 0);
                w *= 0.995;
            }
        }
        static const double disc_c[3] = {0.98, 0.85, 0.55};
        ellipse(img, S, ox, oy, orad, orad * 1.1, disc_c, 0.95, 1);
        /* lesions: scattered, and in dense clusters in some images */
        int nl = (int)dl_rng_below(&r, (uint32_t)o->max_lesions + 1);
        int nclust = dl_rng_uniform(&r) < o->cluster_p ? 1 + (int)dl_rng_below(&r, 2) : 0;
        double ccx[2] = {0}, ccy[2] = {0};
        for (int k = 0; k < nclust; k++) {
            double a = 2 * M_PI * dl_rng_uniform(&r), d = (0.1 + 0.25 * dl_rng_uniform(&r)) * S;
            ccx[k] = S / 2.0 + d * cos(a);
            ccy[k] = S / 2.0 + d * sin(a);
        }
        for (int l = 0; l < nl; l++) {
            int cls = 1 + (int)dl_rng_below(&r, FUNDUS_N_CLASSES);
            double cx, cy;
            int in_cluster = nclust && (cls == FUNDUS_MA || cls == FUNDUS_EX) && dl_rng_uniform(&r) < 0.7;
            for (int tries = 0;; tries++) {
                if (in_cluster) {
                    int k = (int)dl_rng_below(&r, (uint32_t)nclust);
                    cx = ccx[k] + 4 * u * dl_rng_normal(&r);
                    cy = ccy[k] + 4 * u * dl_rng_normal(&r);
                } else {
                    double a = 2 * M_PI * dl_rng_uniform(&r), d = sqrt(dl_rng_uniform(&r)) * (R - 4 * u);
                    cx = S / 2.0 + d * cos(a);
                    cy = S / 2.0 + d * sin(a);
                }
                double dx = cx - ox, dy = cy - oy, ex = cx - S / 2.0, ey = cy - S / 2.0;
                /* not on the optic disc, inside the retina */
                if ((sqrt(dx * dx + dy * dy) > orad + 3 * u && sqrt(ex * ex + ey * ey) < R - 3 * u) || tries > 20) break;
            }
            draw_lesion(img, S, u, &r, cls, cx, cy, ds, im->id);
        }
        uint8_t *out = rgb + (size_t)i * S * S * 3;
        for (size_t p = 0; p < (size_t)S * S * 3; p++)
            out[p] = (uint8_t)lrint(255 * clamp01(img[p] + o->noise * dl_rng_normal(&r)));
    }
    ds->n_images = n;
    free(img);
    *rgb_out = rgb;
    return 0;
}

int fundus_write_folder(const char *dir, const coco_dataset *ds, const uint8_t *rgb, int size, char *err,
                        size_t errlen)
{
    char path[1400];
    if (mkdir(dir, 0777) && errno != EEXIST) { snprintf(err, errlen, "cannot create %s", dir); return -1; }
    snprintf(path, sizeof path, "%s/images", dir);
    if (mkdir(path, 0777) && errno != EEXIST) { snprintf(err, errlen, "cannot create %s", path); return -1; }
    for (int i = 0; i < ds->n_images; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, ds->images[i].file_name);
        if (image_write_png(path, rgb + (size_t)i * size * size * 3, size, size, err, errlen)) return -1;
    }
    snprintf(path, sizeof path, "%s/annotations.json", dir);
    return coco_write(path, ds, err, errlen);
}
