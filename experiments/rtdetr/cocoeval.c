/* COCO evaluation, a line-by-line port of pycocotools' COCOeval
 * (evaluate / evaluateImg / accumulate / summarize) for bbox results. The
 * order of every sort and every comparison follows the original so that the
 * numbers agree to rounding (tests/rtdetr_cocoeval_ref.py is the independent
 * Python transcription the tests compare against). */
#include "rtdetr/cocoeval.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define T_N 10
#define R_N 101
#define A_N 4
#define M_N 3

static const int max_dets[M_N] = {1, 10, 100};
static const double coco_area_rng[A_N][2] = {
    {0, 1e10}, {0, 1024.0}, {1024.0, 9216.0}, {9216.0, 1e10}};

/* np.linspace(.5, .95, 10) and np.linspace(0, 1, 101): start + i*step, last = stop. */
static void iou_thresholds(double *t)
{
    double step = (0.95 - 0.5) / 9.0;
    for (int i = 0; i < T_N; i++) t[i] = i * step + 0.5;
    t[T_N - 1] = 0.95;
}
static void recall_thresholds(double *r)
{
    double step = 1.0 / 100.0;
    for (int i = 0; i < R_N; i++) r[i] = i * step;
    r[R_N - 1] = 1.0;
}

double coco_bbox_iou(const double d[4], const double g[4], int crowd)
{
    double ga = g[2] * g[3], da = d[2] * d[3];
    double w = fmin(d[2] + d[0], g[2] + g[0]) - fmax(d[0], g[0]);
    if (w <= 0) return 0;
    double h = fmin(d[3] + d[1], g[3] + g[1]) - fmax(d[1], g[1]);
    if (h <= 0) return 0;
    double i = w * h, u = crowd ? da : da + ga - i;
    return i / u;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Stable sort of indices by descending score (np.argsort(-s, kind='mergesort')). */
typedef struct { double key; int idx; } keyed;
static int cmp_keyed_desc(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key > y->key) return -1;
    if (x->key < y->key) return 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* One evaluateImg result (for one image, category and area range, maxDet 100). */
typedef struct {
    int present;
    int nd, ng;
    double *dt_scores;  /* nd, sorted descending */
    int *dtm;           /* T_N x nd: 1 when matched */
    int *dt_ig;         /* T_N x nd */
    int *gt_ig;         /* ng */
} img_eval;

static long find_index(const long *ids, int n, long id)
{
    const long *p = bsearch(&id, ids, (size_t)n, sizeof(long), cmp_long);
    return p ? (long)(p - ids) : -1;
}

static int evaluate_ranges(const coco_gt *gt, int ngt, const coco_det *dt, int ndt, const long *img_ids_in,
                           int nimg, const long *cat_ids_in, int ncat, const double area_rng[A_N][2], coco_stats *out)
{
    double thr[T_N], rthr[R_N];
    iou_thresholds(thr);
    recall_thresholds(rthr);
    for (int s = 0; s < 12; s++) out->stats[s] = -1;
    long *img_ids = malloc(sizeof(long) * (size_t)(nimg > 0 ? nimg : 1));
    long *cat_ids = malloc(sizeof(long) * (size_t)(ncat > 0 ? ncat : 1));
    int ncell = nimg * ncat;
    /* buckets: per (cat, img) lists of gt and dt indices */
    int *g_cnt = calloc((size_t)ncell + 1, sizeof(int)), *d_cnt = calloc((size_t)ncell + 1, sizeof(int));
    int *g_idx = malloc(sizeof(int) * (size_t)(ngt + 1)), *d_idx = malloc(sizeof(int) * (size_t)(ndt + 1));
    int *g_start = calloc((size_t)ncell + 1, sizeof(int)), *d_start = calloc((size_t)ncell + 1, sizeof(int));
    img_eval *ev = calloc((size_t)ncell * A_N + 1, sizeof(img_eval));
    double *precision = malloc(sizeof(double) * (size_t)(T_N * R_N * (ncat ? ncat : 1) * A_N * M_N));
    double *recall = malloc(sizeof(double) * (size_t)(T_N * (ncat ? ncat : 1) * A_N * M_N));
    int rc = 0;
    if (!img_ids || !cat_ids || !g_cnt || !d_cnt || !g_idx || !d_idx || !g_start || !d_start || !ev ||
        !precision || !recall) {
        rc = -1;
        goto done;
    }
    memcpy(img_ids, img_ids_in, sizeof(long) * (size_t)nimg);
    memcpy(cat_ids, cat_ids_in, sizeof(long) * (size_t)ncat);
    qsort(img_ids, (size_t)nimg, sizeof(long), cmp_long);
    qsort(cat_ids, (size_t)ncat, sizeof(long), cmp_long);
    /* _prepare: group annotations by (image, category), in file order */
#define CELL(k, i) ((k) * nimg + (i))
    for (int pass = 0; pass < 2; pass++) {
        for (int j = 0; j < ngt; j++) {
            long i = find_index(img_ids, nimg, gt[j].image_id), k = find_index(cat_ids, ncat, gt[j].category_id);
            if (i < 0 || k < 0) continue;
            int c = CELL((int)k, (int)i);
            if (pass == 0) g_cnt[c]++;
            else g_idx[g_start[c] + g_cnt[c]++] = j;
        }
        for (int j = 0; j < ndt; j++) {
            long i = find_index(img_ids, nimg, dt[j].image_id), k = find_index(cat_ids, ncat, dt[j].category_id);
            if (i < 0 || k < 0) continue;
            int c = CELL((int)k, (int)i);
            if (pass == 0) d_cnt[c]++;
            else d_idx[d_start[c] + d_cnt[c]++] = j;
        }
        if (pass == 0) {
            int gs = 0, ds = 0;
            for (int c = 0; c < ncell; c++) {
                g_start[c] = gs; gs += g_cnt[c]; g_cnt[c] = 0;
                d_start[c] = ds; ds += d_cnt[c]; d_cnt[c] = 0;
            }
        }
    }
    /* evaluate(): evaluateImg for every category, area range, image */
    for (int k = 0; k < ncat; k++)
        for (int i = 0; i < nimg; i++) {
            int c = CELL(k, i), ng = g_cnt[c], nd0 = d_cnt[c];
            if (ng == 0 && nd0 == 0) continue;
            /* dt sorted by score (stable), cut to maxDets[-1] */
            keyed *ks = malloc(sizeof(keyed) * (size_t)(nd0 + 1));
            int nd = nd0 < 100 ? nd0 : 100;
            double *ious = malloc(sizeof(double) * (size_t)(nd * ng + 1));
            keyed *gk = malloc(sizeof(keyed) * (size_t)(ng + 1));
            if (!ks || !ious || !gk) { free(ks); free(ious); free(gk); rc = -1; goto done; }
            for (int j = 0; j < nd0; j++) { ks[j].key = dt[d_idx[d_start[c] + j]].score; ks[j].idx = j; }
            qsort(ks, (size_t)nd0, sizeof(keyed), cmp_keyed_desc);
            for (int a = 0; a < A_N; a++) {
                img_eval *e = &ev[(size_t)c * A_N + a];
                /* gt ignore flags; sort gt so non-ignored come first (stable) */
                for (int g = 0; g < ng; g++) {
                    const coco_gt *G = &gt[g_idx[g_start[c] + g]];
                    int ig = G->iscrowd || G->area < area_rng[a][0] || G->area > area_rng[a][1];
                    gk[g].key = -(double)ig; /* descending of -ig == ascending ig */
                    gk[g].idx = g;
                }
                qsort(gk, (size_t)ng, sizeof(keyed), cmp_keyed_desc);
                e->present = 1;
                e->nd = nd;
                e->ng = ng;
                e->dt_scores = malloc(sizeof(double) * (size_t)(nd + 1));
                e->dtm = calloc((size_t)(T_N * nd + 1), sizeof(int));
                e->dt_ig = calloc((size_t)(T_N * nd + 1), sizeof(int));
                e->gt_ig = malloc(sizeof(int) * (size_t)(ng + 1));
                int *gtm = calloc((size_t)(T_N * ng + 1), sizeof(int));
                if (!e->dt_scores || !e->dtm || !e->dt_ig || !e->gt_ig || !gtm) {
                    free(gtm); free(ks); free(ious); free(gk); rc = -1; goto done;
                }
                for (int g = 0; g < ng; g++) e->gt_ig[g] = gk[g].key != 0;
                for (int d = 0; d < nd; d++) {
                    const coco_det *D = &dt[d_idx[d_start[c] + ks[d].idx]];
                    e->dt_scores[d] = D->score;
                    for (int g = 0; g < ng; g++) {
                        const coco_gt *G = &gt[g_idx[g_start[c] + gk[g].idx]];
                        ious[d * ng + g] = coco_bbox_iou(D->bbox, G->bbox, G->iscrowd);
                    }
                }
                for (int t = 0; t < T_N; t++)
                    for (int d = 0; d < nd; d++) {
                        double iou = fmin(thr[t], 1 - 1e-10);
                        int m = -1;
                        for (int g = 0; g < ng; g++) {
                            int crowd = gt[g_idx[g_start[c] + gk[g].idx]].iscrowd;
                            if (gtm[t * ng + g] > 0 && !crowd) continue;
                            if (m > -1 && e->gt_ig[m] == 0 && e->gt_ig[g] == 1) break;
                            if (ious[d * ng + g] < iou) continue;
                            iou = ious[d * ng + g];
                            m = g;
                        }
                        if (m == -1) continue;
                        e->dt_ig[t * nd + d] = e->gt_ig[m];
                        e->dtm[t * nd + d] = 1;
                        gtm[t * ng + m] = 1;
                    }
                /* unmatched detections outside the area range are ignored */
                for (int d = 0; d < nd; d++) {
                    const double *b = dt[d_idx[d_start[c] + ks[d].idx]].bbox;
                    double ar = b[2] * b[3];
                    int out_rng = ar < area_rng[a][0] || ar > area_rng[a][1];
                    for (int t = 0; t < T_N; t++)
                        if (!e->dtm[t * nd + d] && out_rng) e->dt_ig[t * nd + d] = 1;
                }
                free(gtm);
            }
            free(ks);
            free(ious);
            free(gk);
        }
    /* accumulate() */
    for (int x = 0; x < T_N * R_N * ncat * A_N * M_N; x++) precision[x] = -1;
    for (int x = 0; x < T_N * ncat * A_N * M_N; x++) recall[x] = -1;
    for (int k = 0; k < ncat; k++)
        for (int a = 0; a < A_N; a++)
            for (int mi = 0; mi < M_N; mi++) {
                int maxd = max_dets[mi], ntot = 0, npig = 0, any = 0;
                for (int i = 0; i < nimg; i++) {
                    img_eval *e = &ev[(size_t)CELL(k, i) * A_N + a];
                    if (!e->present) continue;
                    any = 1;
                    ntot += e->nd < maxd ? e->nd : maxd;
                    for (int g = 0; g < e->ng; g++) npig += e->gt_ig[g] == 0;
                }
                if (!any || npig == 0) continue;
                keyed *ks = malloc(sizeof(keyed) * (size_t)(ntot + 1));
                int *src_e = malloc(sizeof(int) * (size_t)(ntot + 1)), *src_d = malloc(sizeof(int) * (size_t)(ntot + 1));
                double *tp = malloc(sizeof(double) * (size_t)(ntot + 1)), *pr = malloc(sizeof(double) * (size_t)(ntot + 1));
                if (!ks || !src_e || !src_d || !tp || !pr) {
                    free(ks); free(src_e); free(src_d); free(tp); free(pr); rc = -1; goto done;
                }
                int n = 0;
                for (int i = 0; i < nimg; i++) {
                    img_eval *e = &ev[(size_t)CELL(k, i) * A_N + a];
                    if (!e->present) continue;
                    int lim = e->nd < maxd ? e->nd : maxd;
                    for (int d = 0; d < lim; d++) {
                        ks[n].key = e->dt_scores[d]; ks[n].idx = n;
                        src_e[n] = CELL(k, i) * A_N + a; src_d[n] = d; n++;
                    }
                }
                qsort(ks, (size_t)n, sizeof(keyed), cmp_keyed_desc);
                for (int t = 0; t < T_N; t++) {
                    double tps = 0, fps = 0;
                    int nd = 0;
                    for (int j = 0; j < n; j++) {
                        int o = ks[j].idx;
                        img_eval *e = &ev[src_e[o]];
                        int m = e->dtm[t * e->nd + src_d[o]], ig = e->dt_ig[t * e->nd + src_d[o]];
                        /* ignored detections still occupy a position (cumsum of zeros) */
                        if (m && !ig) tps += 1;
                        if (!m && !ig) fps += 1;
                        tp[nd] = tps;
                        pr[nd] = tps / (fps + tps + DBL_EPSILON);
                        nd++;
                    }
                    size_t ri = (size_t)((t * ncat + k) * A_N + a) * M_N + (size_t)mi;
                    recall[ri] = nd ? tp[nd - 1] / npig : 0;
                    for (int j = nd - 1; j > 0; j--)
                        if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];
                    int pi = 0;
                    for (int r = 0; r < R_N; r++) {
                        double q = 0;
                        while (pi < nd && tp[pi] / npig < rthr[r]) pi++;
                        if (pi < nd) q = pr[pi];
                        else {
                            for (; r < R_N; r++)
                                precision[(((size_t)t * R_N + (size_t)r) * (size_t)ncat + (size_t)k) * A_N * M_N + (size_t)a * M_N + (size_t)mi] = 0;
                            break;
                        }
                        precision[(((size_t)t * R_N + (size_t)r) * (size_t)ncat + (size_t)k) * A_N * M_N + (size_t)a * M_N + (size_t)mi] = q;
                    }
                }
                free(ks); free(src_e); free(src_d); free(tp); free(pr);
            }
    /* summarize(): mean over entries > -1 */
    {
        static const struct { int ap, t, a, m; } spec[12] = {
            {1, -1, 0, 2}, {1, 0, 0, 2}, {1, 5, 0, 2}, {1, -1, 1, 2}, {1, -1, 2, 2}, {1, -1, 3, 2},
            {0, -1, 0, 0}, {0, -1, 0, 1}, {0, -1, 0, 2}, {0, -1, 1, 2}, {0, -1, 2, 2}, {0, -1, 3, 2}};
        for (int s = 0; s < 12; s++) {
            double sum = 0;
            long cnt = 0;
            for (int t = 0; t < T_N; t++) {
                if (spec[s].t >= 0 && t != spec[s].t) continue;
                for (int k = 0; k < ncat; k++) {
                    if (spec[s].ap) {
                        for (int r = 0; r < R_N; r++) {
                            double v = precision[(((size_t)t * R_N + (size_t)r) * (size_t)ncat + (size_t)k) * A_N * M_N +
                                                 (size_t)spec[s].a * M_N + (size_t)spec[s].m];
                            if (v > -1) { sum += v; cnt++; }
                        }
                    } else {
                        double v = recall[(size_t)((t * ncat + k) * A_N + spec[s].a) * M_N + (size_t)spec[s].m];
                        if (v > -1) { sum += v; cnt++; }
                    }
                }
            }
            out->stats[s] = cnt ? sum / (double)cnt : -1;
        }
    }
done:
    if (ev)
        for (int x = 0; x < ncell * A_N; x++) {
            free(ev[x].dt_scores); free(ev[x].dtm); free(ev[x].dt_ig); free(ev[x].gt_ig);
        }
    free(ev); free(img_ids); free(cat_ids); free(g_cnt); free(d_cnt); free(g_idx); free(d_idx);
    free(g_start); free(d_start); free(precision); free(recall);
    return rc;
#undef CELL
}

int coco_evaluate(const coco_gt *gt, int ngt, const coco_det *dt, int ndt, const long *img_ids, int nimg,
                  const long *cat_ids, int ncat, coco_stats *out)
{
    return evaluate_ranges(gt, ngt, dt, ndt, img_ids, nimg, cat_ids, ncat, coco_area_rng, out);
}

double coco_ap_area(const coco_gt *gt, int ngt, const coco_det *dt, int ndt, const long *img_ids, int nimg,
                    const long *cat_ids, int ncat, double lo, double hi)
{
    const double rng[A_N][2] = {{lo, hi}, {lo, hi}, {lo, hi}, {lo, hi}};
    coco_stats st;
    if (evaluate_ranges(gt, ngt, dt, ndt, img_ids, nimg, cat_ids, ncat, rng, &st)) return -1;
    return st.stats[0];
}

typedef struct { long img, cat; double score; int idx; } dt_key;
static int cmp_dt_key(const void *a, const void *b)
{
    const dt_key *x = a, *y = b;
    if (x->img != y->img) return x->img < y->img ? -1 : 1;
    if (x->cat != y->cat) return x->cat < y->cat ? -1 : 1;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

void coco_precision_recall(const coco_gt *gt, int ngt, const coco_det *dt, int ndt, double iou_thr,
                           double score_thr, double *precision, double *recall)
{
    long tp = 0, fp = 0, npos = 0;
    for (int g = 0; g < ngt; g++) npos += !gt[g].iscrowd;
    dt_key *ks = malloc(sizeof(dt_key) * (size_t)(ndt + 1));
    int *gl = malloc(sizeof(int) * (size_t)(ngt + 1)), *used = malloc(sizeof(int) * (size_t)(ngt + 1));
    int n = 0;
    if (!ks || !gl || !used) goto out;
    for (int d = 0; d < ndt; d++)
        if (dt[d].score >= score_thr) {
            ks[n].img = dt[d].image_id; ks[n].cat = dt[d].category_id;
            ks[n].score = dt[d].score; ks[n].idx = d; n++;
        }
    qsort(ks, (size_t)n, sizeof(dt_key), cmp_dt_key);
    for (int s = 0; s < n;) {
        int e = s;
        while (e < n && ks[e].img == ks[s].img && ks[e].cat == ks[s].cat) e++;
        int ng = 0;
        for (int crowd = 0; crowd < 2; crowd++) /* non-crowd GTs first, as COCOeval sorts them */
            for (int g = 0; g < ngt; g++)
                if (gt[g].image_id == ks[s].img && gt[g].category_id == ks[s].cat && gt[g].iscrowd == crowd)
                    gl[ng++] = g;
        for (int g = 0; g < ng; g++) used[g] = 0;
        int lim = e - s < 100 ? e - s : 100;
        for (int j = s; j < s + lim; j++) {
            double best = fmin(iou_thr, 1 - 1e-10);
            int m = -1;
            for (int g = 0; g < ng; g++) {
                const coco_gt *G = &gt[gl[g]];
                if (used[g] && !G->iscrowd) continue;
                if (m > -1 && !gt[gl[m]].iscrowd && G->iscrowd) break;
                double v = coco_bbox_iou(dt[ks[j].idx].bbox, G->bbox, G->iscrowd);
                if (v < best) continue;
                best = v;
                m = g;
            }
            if (m == -1) fp++;
            else if (!gt[gl[m]].iscrowd) { tp++; used[m] = 1; }
        }
        s = e;
    }
out:
    *precision = tp + fp ? (double)tp / (double)(tp + fp) : 0;
    *recall = npos ? (double)tp / (double)npos : 0;
    free(ks); free(gl); free(used);
}
