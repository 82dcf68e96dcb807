/* Generalised IoU loss (Rezatofighi et al. 2019, Algorithm 1) with its gradient
 * written out per box pair, in double:
 *   I = max(0, min(px2,tx2) - max(px1,tx1)) * max(0, min(py2,ty2) - max(py1,ty1))
 *   U = Ap + At - I,  C = (max(px2,tx2) - min(px1,tx1)) * (max(py2,ty2) - min(py1,ty1))
 *   GIoU = I/U - (C - U)/C = I/U + U/C - 1
 * so dGIoU/dI = 1/U + I/U^2 - 1/C, dGIoU/dA = -I/U^2 + 1/C (each area), dGIoU/dC = -U/C^2,
 * and each min/max passes its gradient to the box that attains it (the prediction
 * on ties). Centre boxes go through x1 = cx - w/2, x2 = cx + w/2 (and y). */
#include <math.h>
#include <string.h>
#include "core/internal.h"
#include "dynlab/losses.h"

static void to_xyxy(const float *b, int format, double *o) {
    if (format == DL_BOX_XYXY) {
        for (int k = 0; k < 4; k++) o[k] = b[k];
    } else {
        o[0] = b[0] - 0.5 * b[2], o[1] = b[1] - 0.5 * b[3];
        o[2] = b[0] + 0.5 * b[2], o[3] = b[1] + 0.5 * b[3];
    }
}

/* d(.)/d(x1, y1, x2, y2) -> d(.)/d(box in `format`). */
static void from_xyxy_grad(const double *gx, int format, double *o) {
    if (format == DL_BOX_XYXY) {
        for (int k = 0; k < 4; k++) o[k] = gx[k];
    } else {
        o[0] = gx[0] + gx[2], o[1] = gx[1] + gx[3];
        o[2] = 0.5 * (gx[2] - gx[0]), o[3] = 0.5 * (gx[3] - gx[1]);
    }
}

/* GIoU of one pair; with gp/gt non-NULL also its gradient wrt both boxes (xyxy). */
static double giou_pair(const double *p, const double *t, double *gp, double *gt) {
    const double pw = p[2] - p[0], ph = p[3] - p[1], tw = t[2] - t[0], th = t[3] - t[1];
    const double Ap = pw * ph, At = tw * th;
    const int px2min = p[2] <= t[2], px1max = p[0] >= t[0], py2min = p[3] <= t[3], py1max = p[1] >= t[1];
    const double iw = (px2min ? p[2] : t[2]) - (px1max ? p[0] : t[0]);
    const double ih = (py2min ? p[3] : t[3]) - (py1max ? p[1] : t[1]);
    const double iwp = iw > 0 ? iw : 0, ihp = ih > 0 ? ih : 0, I = iwp * ihp;
    const double U = Ap + At - I;
    const int px2max = p[2] >= t[2], px1min = p[0] <= t[0], py2max = p[3] >= t[3], py1min = p[1] <= t[1];
    const double cw = (px2max ? p[2] : t[2]) - (px1min ? p[0] : t[0]);
    const double ch = (py2max ? p[3] : t[3]) - (py1min ? p[1] : t[1]);
    const double C = cw * ch;
    const double giou = I / U + U / C - 1.0;
    if (!gp) return giou;
    const double gI = 1.0 / U + I / (U * U) - 1.0 / C, gA = -I / (U * U) + 1.0 / C, gC = -U / (C * C);
    for (int k = 0; k < 4; k++) gp[k] = gt[k] = 0;
    /* areas */
    gp[0] -= gA * ph, gp[2] += gA * ph, gp[1] -= gA * pw, gp[3] += gA * pw;
    gt[0] -= gA * th, gt[2] += gA * th, gt[1] -= gA * tw, gt[3] += gA * tw;
    /* intersection: I = iw+ ih+ */
    const double dIw = iw > 0 ? gI * ihp : 0, dIh = ih > 0 ? gI * iwp : 0;
    (px2min ? gp : gt)[2] += dIw, (px1max ? gp : gt)[0] -= dIw;
    (py2min ? gp : gt)[3] += dIh, (py1max ? gp : gt)[1] -= dIh;
    /* enclosing box */
    const double dCw = gC * ch, dCh = gC * cw;
    (px2max ? gp : gt)[2] += dCw, (px1min ? gp : gt)[0] -= dCw;
    (py2max ? gp : gt)[3] += dCh, (py1min ? gp : gt)[1] -= dCh;
    return giou;
}

void dl_giou_values(const float *pred, const float *target, int n, int format, float *out) {
    for (int i = 0; i < n; i++) {
        double p[4], t[4];
        to_xyxy(pred + 4 * i, format, p);
        to_xyxy(target + 4 * i, format, t);
        out[i] = (float)giou_pair(p, t, NULL, NULL);
    }
}

/* saved: [N, 8] = d loss / d pred row, d loss / d target row (already / norm). */
static void giou_bwd(dl_graph *g, const dl_rec *r) {
    const float *d = r->saved, s = r->out->grad[0];
    for (int k = 0; k < 2; k++) {
        dl_tensor *t = r->in[k];
        if (!t || !t->requires_grad) continue;
        const int64_t n = t->size / 4;
        int fresh;
        float *gt = dl_grad_out(g, t, &fresh);
        for (int64_t i = 0; i < n; i++)
            for (int c = 0; c < 4; c++) {
                const float v = s * d[i * 8 + 4 * k + c];
                gt[i * 4 + c] = fresh ? v : gt[i * 4 + c] + v;
            }
    }
}

dl_tensor *dl_giou_loss(dl_graph *g, dl_tensor *pred, dl_tensor *target, int format, float norm) {
    if (pred->ndim != 2 || pred->shape[1] != 4 || target->size != pred->size)
        dl_fatal("dl_giou_loss: pred and target must both be [N, 4]");
    if (format != DL_BOX_CXCYWH && format != DL_BOX_XYXY) dl_fatal("dl_giou_loss: unknown box format %d", format);
    if (!(norm > 0)) dl_fatal("dl_giou_loss: norm %g must be > 0", (double)norm);
    const int n = pred->shape[0];
    float *d = dl_graph_alloc(g, (size_t)(n ? n : 1) * 8 * sizeof(float));
    double sum = 0;
    for (int i = 0; i < n; i++) {
        double p[4], t[4], gpx[4], gtx[4], gp[4], gt[4];
        to_xyxy(pred->data + 4 * i, format, p);
        to_xyxy(target->data + 4 * i, format, t);
        if (!(p[2] > p[0] && p[3] > p[1] && t[2] > t[0] && t[3] > t[1]))
            dl_fatal("dl_giou_loss: box %d has zero or negative width/height", i);
        sum += 1.0 - giou_pair(p, t, gpx, gtx);
        from_xyxy_grad(gpx, format, gp);
        from_xyxy_grad(gtx, format, gt);
        for (int c = 0; c < 4; c++) {
            d[i * 8 + c] = (float)(-gp[c] / norm);
            d[i * 8 + 4 + c] = (float)(-gt[c] / norm);
        }
    }
    dl_tensor *out = dl_tensor_new(g, 0, NULL);
    out->data[0] = (float)(sum / norm);
    dl_rec *r = dl_record(g, giou_bwd, out, pred, target, NULL);
    if (r) r->saved = d;
    return out;
}
