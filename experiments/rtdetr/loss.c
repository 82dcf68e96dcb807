/* Matching and losses (see loss.h). */
#include "rtdetr/loss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/losses.h"
#include "rtdetr/hungarian.h"

static void to_xyxy(const float a[4], double o[4])
{
    o[0] = a[0] - a[2] / 2; o[1] = a[1] - a[3] / 2; o[2] = a[0] + a[2] / 2; o[3] = a[1] + a[3] / 2;
}

static void iou_giou(const float a[4], const float b[4], double *iou, double *giou)
{
    double p[4], q[4];
    to_xyxy(a, p);
    to_xyxy(b, q);
    double iw = fmax(0, fmin(p[2], q[2]) - fmax(p[0], q[0])), ih = fmax(0, fmin(p[3], q[3]) - fmax(p[1], q[1]));
    double inter = iw * ih, uni = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter;
    double cw = fmax(p[2], q[2]) - fmin(p[0], q[0]), ch = fmax(p[3], q[3]) - fmin(p[1], q[1]);
    double enc = cw * ch;
    *iou = uni > 0 ? inter / uni : 0;
    *giou = *iou - (enc > 0 ? (enc - uni) / enc : 0);
}
double box_iou_cxcywh(const float a[4], const float b[4]) { double i, gi; iou_giou(a, b, &i, &gi); return i; }
double box_giou_cxcywh(const float a[4], const float b[4]) { double i, gi; iou_giou(a, b, &i, &gi); return gi; }

double rtdetr_match_cost(const float *logits, int gt_cls, const float pbox[4], const float gbox[4])
{
    const double alpha = 0.25, gamma = 2;
    double p = 1 / (1 + exp(-(double)logits[gt_cls]));
    double neg = (1 - alpha) * pow(p, gamma) * -log(1 - p + 1e-8);
    double pos = alpha * pow(1 - p, gamma) * -log(p + 1e-8);
    double l1 = 0;
    for (int k = 0; k < 4; k++) l1 += fabs((double)pbox[k] - gbox[k]);
    return 2 * (pos - neg) + 5 * l1 - 2 * box_giou_cxcywh(pbox, gbox);
}

/* VFL + 5 L1 + 2 GIoU given an assignment: pred row ids (into [B*K]) -> GT rows. */
static dl_tensor *assigned_loss(dl_graph *g, dl_tensor *logits, dl_tensor *boxes, const det_targets *t, const int *pid,
                                const int *gid, int M, float norm, loss_parts *parts)
{
    const int C = logits->shape[2], N = logits->shape[0] * logits->shape[1];
    float *label = dl_graph_alloc(g, sizeof(float) * (size_t)N * C), *score = dl_graph_alloc(g, sizeof(float) * (size_t)N * C);
    memset(label, 0, sizeof(float) * (size_t)N * C);
    memset(score, 0, sizeof(float) * (size_t)N * C);
    for (int i = 0; i < M; i++) {
        const float *pb = boxes->data + (size_t)pid[i] * 4, *gb = t->box + (size_t)gid[i] * 4;
        label[(size_t)pid[i] * C + t->cls[gid[i]]] = 1;
        score[(size_t)pid[i] * C + t->cls[gid[i]]] = (float)box_iou_cxcywh(pb, gb);
    }
    int fl[2] = {N, C};
    dl_tensor *loss = dl_varifocal_loss(g, dl_reshape(g, logits, 2, fl), label, score, 0.75f, 2.0f, norm);
    if (parts) parts->vfl = loss->data[0];
    if (M > 0) {
        int f4[2] = {N, 4}, m4[2] = {M, 4};
        dl_tensor *pb = dl_embedding(g, dl_reshape(g, boxes, 2, f4), pid, 1, &M);
        dl_tensor *gb = dl_tensor_new(g, 2, m4);
        for (int i = 0; i < M; i++) memcpy(gb->data + i * 4, t->box + (size_t)gid[i] * 4, sizeof(float) * 4);
        dl_tensor *l1 = dl_l1_loss(g, pb, gb, norm), *gi = dl_giou_loss(g, pb, gb, DL_BOX_CXCYWH, norm);
        if (parts) { parts->l1 = l1->data[0]; parts->giou = gi->data[0]; }
        loss = dl_add(g, loss, dl_add(g, dl_scale(g, l1, 5.0f), dl_scale(g, gi, 2.0f)));
    } else if (parts) {
        parts->l1 = parts->giou = 0;
    }
    return loss;
}

dl_tensor *rtdetr_set_loss(dl_graph *g, dl_tensor *logits, dl_tensor *boxes, const det_targets *t, loss_parts *parts)
{
    const int B = logits->shape[0], K = logits->shape[1], C = logits->shape[2];
    int total = 0;
    for (int b = 0; b < B; b++) total += t->n[b] < K ? t->n[b] : K;
    int *pid = dl_graph_alloc(g, sizeof(int) * (size_t)(total + 1)), *gid = dl_graph_alloc(g, sizeof(int) * (size_t)(total + 1));
    double *cost = dl_graph_alloc(g, sizeof(double) * (size_t)K * K);
    int *asg = dl_graph_alloc(g, sizeof(int) * (size_t)K);
    void *work = dl_graph_alloc(g, hungarian_work_bytes(K, K));
    int M = 0;
    for (int b = 0; b < B; b++) {
        int n = t->n[b] < K ? t->n[b] : K; /* more GT than queries: the first K are matched */
        for (int i = 0; i < n; i++)
            for (int q = 0; q < K; q++) {
                size_t pq = (size_t)b * K + q;
                cost[(size_t)i * K + q] = rtdetr_match_cost(logits->data + pq * C, t->cls[t->off[b] + i],
                                                            boxes->data + pq * 4, t->box + (size_t)(t->off[b] + i) * 4);
            }
        hungarian_assign_work(cost, n, K, asg, work);
        for (int i = 0; i < n; i++) { pid[M] = b * K + asg[i]; gid[M] = t->off[b] + i; M++; }
    }
    return assigned_loss(g, logits, boxes, t, pid, gid, M, (float)(total > 1 ? total : 1), parts);
}

dl_tensor *rtdetr_total_loss(dl_graph *g, const rtdetr_out *o, const det_targets *t, loss_parts *last)
{
    int n = o->n_layers + o->has_enc;
    dl_tensor *sum = NULL;
    for (int l = 0; l < n; l++) {
        loss_parts p;
        dl_tensor *x = rtdetr_set_loss(g, o->logits[l], o->boxes[l], t, &p);
        if (l == o->n_layers - 1 && last) *last = p;
        sum = sum ? dl_add(g, sum, x) : x;
    }
    return sum;
}

typedef struct { double key; int idx; } kv;
static int cmp_kv_desc(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    if (x->key != y->key) return x->key > y->key ? -1 : 1;
    return x->idx - y->idx;
}

dl_tensor *rtdetr_dense_loss(dl_graph *g, const rtdetr_model *m, const rtdetr_out *o, const det_targets *t,
                             loss_parts *parts)
{
    const int B = o->B, T = o->K, C = o->C, topq = 10;
    dl_tensor *logits = o->logits[0], *boxes = o->boxes[0];
    int *owner = dl_graph_alloc(g, sizeof(int) * (size_t)B * T);
    double *own_iou = dl_graph_alloc(g, sizeof(double) * (size_t)B * T);
    kv *cand = dl_graph_alloc(g, sizeof(kv) * (size_t)T);
    float *cell = dl_graph_alloc(g, sizeof(float) * (size_t)T);
    for (int l = 0, tt = 0; l < RTDETR_LEVELS; l++)
        for (int i = 0; i < m->hw[l] * m->hw[l]; i++) cell[tt++] = 1.0f / (float)m->hw[l];
    for (int i = 0; i < B * T; i++) { owner[i] = -1; own_iou[i] = -1; }
    for (int b = 0; b < B; b++)
        for (int j = 0; j < t->n[b]; j++) {
            int gi = t->off[b] + j;
            const float *gb = t->box + (size_t)gi * 4;
            int nc = 0;
            for (int q = 0; q < T; q++) {
                float cx = 1 / (1 + expf(-m->anchors[q * 4])), cy = 1 / (1 + expf(-m->anchors[q * 4 + 1]));
                float rx = fmaxf(gb[2] / 2, cell[q]), ry = fmaxf(gb[3] / 2, cell[q]);
                if (fabsf(cx - gb[0]) >= rx || fabsf(cy - gb[1]) >= ry) continue;
                size_t pq = (size_t)b * T + q;
                double s = 1 / (1 + exp(-(double)logits->data[pq * C + t->cls[gi]]));
                double iou = box_iou_cxcywh(boxes->data + pq * 4, gb);
                double dist = fabs(cx - gb[0]) + fabs(cy - gb[1]);
                cand[nc].key = sqrt(s) * pow(iou, 6) - 1e-9 * dist; /* ties by distance to the centre */
                cand[nc].idx = q;
                nc++;
            }
            qsort(cand, (size_t)nc, sizeof(kv), cmp_kv_desc);
            for (int k = 0; k < nc && k < topq; k++) {
                size_t pq = (size_t)b * T + cand[k].idx;
                double iou = box_iou_cxcywh(boxes->data + pq * 4, gb);
                if (iou > own_iou[pq]) { own_iou[pq] = iou; owner[pq] = gi; }
            }
        }
    int M = 0;
    for (int i = 0; i < B * T; i++) M += owner[i] >= 0;
    int *pid = dl_graph_alloc(g, sizeof(int) * (size_t)(M + 1)), *gid = dl_graph_alloc(g, sizeof(int) * (size_t)(M + 1));
    M = 0;
    for (int i = 0; i < B * T; i++)
        if (owner[i] >= 0) { pid[M] = i; gid[M] = owner[i]; M++; }
    return assigned_loss(g, logits, boxes, t, pid, gid, M, (float)(M > 1 ? M : 1), parts);
}
