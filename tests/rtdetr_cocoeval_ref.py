#!/usr/bin/env python3
"""Independent reference for experiments/rtdetr/cocoeval.c: a transcription of
pycocotools' COCOeval (evaluate -> evaluateImg -> accumulate -> summarize, iouType
'bbox', default Params) with numpy, step by step, and hand-made cases.

pycocotools is not packaged for Debian 12; this file follows
cocoapi/PythonAPI/pycocotools/cocoeval.py and maskApi.c (bbIou) line by line.

usage:
  rtdetr_cocoeval_ref.py cases OUTDIR        write every case as OUTDIR/<name>/{annotations,results,expected}.json
  rtdetr_cocoeval_ref.py compare OUTDIR      compare OUTDIR/<name>/dynlab.json (12 stats) to expected, 1e-6
  rtdetr_cocoeval_ref.py ctable FILE         write the cases and expected stats as a C table
"""
import json, os, sys
import numpy as np

IOU_THRS = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
REC_THRS = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
MAX_DETS = [1, 10, 100]
AREA_RNG = [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]


def bb_iou(d, g, crowd):
    """maskApi.c bbIou: dt x gt matrix."""
    o = np.zeros((len(d), len(g)))
    for gi, G in enumerate(g):
        ga = G[2] * G[3]
        for di, D in enumerate(d):
            da = D[2] * D[3]
            w = min(D[2] + D[0], G[2] + G[0]) - max(D[0], G[0])
            if w <= 0:
                continue
            h = min(D[3] + D[1], G[3] + G[1]) - max(D[1], G[1])
            if h <= 0:
                continue
            i = w * h
            u = da if crowd[gi] else da + ga - i
            o[di, gi] = i / u
    return o


def coco_eval(gt_json, results):
    img_ids = sorted(im['id'] for im in gt_json['images'])
    cat_ids = sorted(c['id'] for c in gt_json['categories'])
    gts = [dict(a) for a in gt_json['annotations']]
    for g in gts:
        g.setdefault('iscrowd', 0)
        g.setdefault('area', g['bbox'][2] * g['bbox'][3])
        g['ignore'] = 1 if g['iscrowd'] else 0  # _prepare
    dts = []
    for i, r in enumerate(results):  # loadRes
        d = dict(r)
        d['area'] = d['bbox'][2] * d['bbox'][3]
        d['id'] = i + 1
        d['iscrowd'] = 0
        dts.append(d)
    G, D = {}, {}
    for g in gts:
        G.setdefault((g['image_id'], g['category_id']), []).append(g)
    for d in dts:
        D.setdefault((d['image_id'], d['category_id']), []).append(d)

    def compute_iou(i, c):
        gt, dt = G.get((i, c), []), D.get((i, c), [])
        if len(gt) == 0 and len(dt) == 0:
            return []
        inds = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[j] for j in inds]
        dt = dt[:MAX_DETS[-1]]
        return bb_iou([d['bbox'] for d in dt], [g['bbox'] for g in gt], [int(o['iscrowd']) for o in gt])

    ious = {(i, c): compute_iou(i, c) for i in img_ids for c in cat_ids}

    def evaluate_img(i, c, a_rng, max_det):
        gt, dt = G.get((i, c), []), D.get((i, c), [])
        if len(gt) == 0 and len(dt) == 0:
            return None
        for g in gt:
            g['_ignore'] = 1 if (g['ignore'] or (g['area'] < a_rng[0] or g['area'] > a_rng[1])) else 0
        gtind = np.argsort([g['_ignore'] for g in gt], kind='mergesort')
        gt = [gt[j] for j in gtind]
        dtind = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[j] for j in dtind[0:max_det]]
        iscrowd = [int(o['iscrowd']) for o in gt]
        iou = ious[i, c][:, gtind] if len(ious[i, c]) > 0 else ious[i, c]
        T, Gn, Dn = len(IOU_THRS), len(gt), len(dt)
        gtm = np.zeros((T, Gn)); dtm = np.zeros((T, Dn))
        gt_ig = np.array([g['_ignore'] for g in gt]); dt_ig = np.zeros((T, Dn))
        if not len(iou) == 0:
            for tind, t in enumerate(IOU_THRS):
                for dind, d in enumerate(dt):
                    best = min([t, 1 - 1e-10]); m = -1
                    for gind, g in enumerate(gt):
                        if gtm[tind, gind] > 0 and not iscrowd[gind]:
                            continue
                        if m > -1 and gt_ig[m] == 0 and gt_ig[gind] == 1:
                            break
                        if iou[dind, gind] < best:
                            continue
                        best = iou[dind, gind]; m = gind
                    if m == -1:
                        continue
                    dt_ig[tind, dind] = gt_ig[m]
                    dtm[tind, dind] = gt[m]['id']
                    gtm[tind, m] = d['id']
        a = np.array([d['area'] < a_rng[0] or d['area'] > a_rng[1] for d in dt]).reshape((1, len(dt)))
        dt_ig = np.logical_or(dt_ig, np.logical_and(dtm == 0, np.repeat(a, T, 0)))
        return {'dtMatches': dtm, 'dtScores': [d['score'] for d in dt], 'gtIgnore': gt_ig, 'dtIgnore': dt_ig}

    eval_imgs = [evaluate_img(i, c, a, MAX_DETS[-1]) for c in cat_ids for a in AREA_RNG for i in img_ids]
    T, R, K, A, M = len(IOU_THRS), len(REC_THRS), len(cat_ids), len(AREA_RNG), len(MAX_DETS)
    precision = -np.ones((T, R, K, A, M)); recall = -np.ones((T, K, A, M))
    I0 = len(img_ids)
    for k in range(K):
        Nk = k * A * I0
        for a in range(A):
            Na = a * I0
            for m, max_det in enumerate(MAX_DETS):
                E = [eval_imgs[Nk + Na + i] for i in range(I0)]
                E = [e for e in E if e is not None]
                if len(E) == 0:
                    continue
                dt_scores = np.concatenate([e['dtScores'][0:max_det] for e in E])
                inds = np.argsort(-dt_scores, kind='mergesort')
                dtm = np.concatenate([e['dtMatches'][:, 0:max_det] for e in E], axis=1)[:, inds]
                dt_ig = np.concatenate([e['dtIgnore'][:, 0:max_det] for e in E], axis=1)[:, inds]
                gt_ig = np.concatenate([e['gtIgnore'] for e in E])
                npig = np.count_nonzero(gt_ig == 0)
                if npig == 0:
                    continue
                tps = np.logical_and(dtm, np.logical_not(dt_ig))
                fps = np.logical_and(np.logical_not(dtm), np.logical_not(dt_ig))
                tp_sum = np.cumsum(tps, axis=1).astype(dtype=float)
                fp_sum = np.cumsum(fps, axis=1).astype(dtype=float)
                for t, (tp, fp) in enumerate(zip(tp_sum, fp_sum)):
                    tp = np.array(tp); fp = np.array(fp); nd = len(tp)
                    rc = tp / npig
                    pr = tp / (fp + tp + np.spacing(1))
                    q = np.zeros((R,))
                    recall[t, k, a, m] = rc[-1] if nd else 0
                    pr = pr.tolist(); q = q.tolist()
                    for i in range(nd - 1, 0, -1):
                        if pr[i] > pr[i - 1]:
                            pr[i - 1] = pr[i]
                    inds = np.searchsorted(rc, REC_THRS, side='left')
                    try:
                        for ri, pi in enumerate(inds):
                            q[ri] = pr[pi]
                    except IndexError:
                        pass
                    precision[t, :, k, a, m] = np.array(q)

    def summ(ap, iou_thr=None, area='all', max_det=100):
        aind = ['all', 'small', 'medium', 'large'].index(area)
        mind = MAX_DETS.index(max_det)
        s = precision if ap else recall
        if iou_thr is not None:
            t = np.where(np.isclose(iou_thr, IOU_THRS))[0]
            s = s[t]
        s = s[:, :, :, aind, mind] if ap else s[:, :, aind, mind]
        return -1.0 if len(s[s > -1]) == 0 else float(np.mean(s[s > -1]))

    return [summ(1), summ(1, .5), summ(1, .75), summ(1, area='small'), summ(1, area='medium'),
            summ(1, area='large'), summ(0, max_det=1), summ(0, max_det=10), summ(0),
            summ(0, area='small'), summ(0, area='medium'), summ(0, area='large')]


def dataset(images, cats, anns):
    out = {'images': [{'id': i, 'file_name': 'img%d.png' % i, 'width': 640, 'height': 640} for i in images],
           'categories': [{'id': c, 'name': 'c%d' % c} for c in cats], 'annotations': []}
    for n, a in enumerate(anns):
        d = {'id': n + 1, 'image_id': a[0], 'category_id': a[1], 'bbox': list(a[2])}
        if len(a) > 3 and a[3] is not None:
            d['area'] = a[3]
        if len(a) > 4:
            d['iscrowd'] = a[4]
        out['annotations'].append(d)
    return out


def det(i, c, b, s):
    return {'image_id': i, 'category_id': c, 'bbox': list(b), 'score': s}


def cases():
    """Hand-made cases: name -> (gt json, results)."""
    C = {}
    # perfect detections, one box per area range -> every AP 1
    g = [(1, 1, (10, 10, 20, 20)), (1, 1, (100, 100, 50, 50)), (2, 1, (0, 0, 200, 150))]
    C['perfect'] = (dataset([1, 2], [1], g), [det(a[0], a[1], a[2], 0.9) for a in g])
    # one false positive above every true positive
    C['fp_on_top'] = (dataset([1], [1], g[:2]), [det(1, 1, (300, 300, 20, 20), 0.99)] +
                      [det(1, 1, a[2], 0.5) for a in g[:2]])
    # tied scores: a false and a true positive at the same score (stable order decides)
    C['ties'] = (dataset([1, 2], [1, 2], [(1, 1, (10, 10, 40, 40)), (2, 1, (50, 50, 40, 40)), (2, 2, (5, 5, 8, 8))]),
                 [det(1, 1, (200, 200, 40, 40), 0.7), det(1, 1, (10, 10, 40, 40), 0.7),
                  det(2, 1, (52, 50, 40, 40), 0.7), det(2, 2, (5, 6, 8, 8), 0.7), det(2, 2, (5, 5, 8, 8), 0.7)])
    # duplicates of one object: the second is a false positive at every threshold
    C['duplicates'] = (dataset([1], [1], [(1, 1, (20, 20, 30, 30))]),
                       [det(1, 1, (20, 20, 30, 30), 0.9), det(1, 1, (21, 21, 30, 30), 0.8),
                        det(1, 1, (20, 20, 30, 30), 0.7)])
    # empty images: one without GT but with detections, one with GT and no detections
    C['empty_images'] = (dataset([1, 2, 3], [1], [(1, 1, (0, 0, 10, 10)), (3, 1, (40, 40, 100, 100))]),
                         [det(1, 1, (0, 0, 10, 10), 0.6), det(2, 1, (5, 5, 10, 10), 0.95)])
    # IoU sweeps: one GT per image, detections shifted so IoU crosses the 10 thresholds
    anns, res = [], []
    for k in range(10):
        anns.append((k + 1, 1, (0, 0, 100, 100)))
        res.append(det(k + 1, 1, (float(k) * 3.3, 0, 100, 100), 1.0 - 0.05 * k))
    C['iou_sweep'] = (dataset(list(range(1, 11)), [1], anns), res)
    # every area range, boundary areas (exactly 32^2 and 96^2), explicit areas differing from w*h
    C['area_ranges'] = (dataset([1], [1, 2], [(1, 1, (0, 0, 32, 32)), (1, 1, (100, 0, 96, 96)),
                                              (1, 1, (300, 300, 5, 5), 500.0), (1, 2, (0, 200, 120, 120)),
                                              (1, 2, (400, 0, 40, 40), 2000.0)]),
                        [det(1, 1, (0, 0, 32, 32), 0.9), det(1, 1, (100, 0, 96, 96), 0.3),
                         det(1, 1, (301, 300, 5, 5), 0.8), det(1, 2, (0, 200, 120, 110), 0.6),
                         det(1, 2, (400, 0, 40, 40), 0.95), det(1, 2, (500, 500, 10, 10), 0.99),
                         det(1, 1, (600, 600, 60, 60), 0.5)])
    # crowd regions: a detection inside the crowd is ignored, many can match it
    C['crowd'] = (dataset([1], [1], [(1, 1, (0, 0, 200, 200), None, 1), (1, 1, (300, 300, 40, 40))]),
                  [det(1, 1, (10, 10, 50, 50), 0.9), det(1, 1, (60, 60, 50, 50), 0.85),
                   det(1, 1, (300, 300, 40, 40), 0.5), det(1, 1, (450, 450, 30, 30), 0.4)])
    # more than 100 detections on one image (maxDets cut) and AR@1/10
    anns = [(1, 1, (float(10 * (k % 20)), float(10 * (k // 20)), 8, 8)) for k in range(30)]
    res = [det(1, 1, (float(10 * (k % 20)), float(10 * (k // 20)), 8, 8), 0.001 * (k % 37) + 0.5) for k in range(120)]
    C['max_dets'] = (dataset([1], [1], anns), res)
    # a category without GT (excluded from the mean) and one without detections (AP 0)
    C['missing_class'] = (dataset([1], [1, 2, 3], [(1, 1, (0, 0, 50, 50)), (1, 3, (100, 100, 50, 50))]),
                          [det(1, 1, (0, 0, 50, 50), 0.9), det(1, 2, (200, 200, 20, 20), 0.8)])
    # a random, dense case (seeded): many small objects, jittered detections
    rng = np.random.RandomState(7)
    anns, res = [], []
    for im in range(1, 6):
        for _ in range(rng.randint(0, 25)):
            x, y = rng.uniform(0, 600, 2); w, h = rng.uniform(2, 140, 2); c = int(rng.randint(1, 4))
            anns.append((im, c, (round(x, 2), round(y, 2), round(w, 2), round(h, 2))))
            if rng.rand() < 0.8:
                j = rng.normal(0, 0.08, 4) * [w, h, w, h]
                res.append(det(im, c, (round(x + j[0], 2), round(y + j[1], 2), round(max(w + j[2], 1), 2),
                                       round(max(h + j[3], 1), 2)), round(float(rng.rand()), 3)))
        for _ in range(rng.randint(0, 10)):
            res.append(det(im, int(rng.randint(1, 4)), tuple(round(float(v), 2) for v in rng.uniform(1, 300, 4)),
                           round(float(rng.rand()), 3)))
    C['random_dense'] = (dataset([1, 2, 3, 4, 5], [1, 2, 3], anns), res)
    return C


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ('cases', 'compare', 'ctable'):
        print(__doc__, file=sys.stderr)
        return 2
    C = cases()
    if sys.argv[1] == 'cases':
        for name, (gt, res) in C.items():
            d = os.path.join(sys.argv[2], name)
            os.makedirs(d, exist_ok=True)
            json.dump(gt, open(os.path.join(d, 'annotations.json'), 'w'))
            json.dump(res, open(os.path.join(d, 'results.json'), 'w'))
            json.dump(coco_eval(gt, res), open(os.path.join(d, 'expected.json'), 'w'))
        return 0
    if sys.argv[1] == 'compare':
        bad = 0
        for name in C:
            d = os.path.join(sys.argv[2], name)
            exp = json.load(open(os.path.join(d, 'expected.json')))
            got = json.load(open(os.path.join(d, 'dynlab.json')))['stats']
            diff = max(abs(a - b) for a, b in zip(exp, got))
            print('%-14s max |diff| %.3g' % (name, diff))
            if diff > 1e-6 or len(got) != 12:
                print('  expected', exp, '\n  got     ', got)
                bad += 1
        return 1 if bad else 0
    # ctable: cases and expected stats as C data for the run's structural claim
    with open(sys.argv[2], 'w') as f:
        f.write('/* generated by tests/rtdetr_cocoeval_ref.py ctable: the hand-made evaluation cases and\n'
                ' * the stats the independent pycocotools transcription gives for them. */\n')
        f.write('#include "rtdetr/coco_cases.h"\n\n')
        for ci, (name, (gt, res)) in enumerate(C.items()):
            f.write('static const coco_gt gt%d[] = {\n' % ci)
            for a in gt['annotations']:
                f.write('    {%d, %d, %d, {%r, %r, %r, %r}, %r, %d},\n' % (
                    a['id'], a['image_id'], a['category_id'], *[float(v) for v in a['bbox']],
                    float(a.get('area', a['bbox'][2] * a['bbox'][3])), a.get('iscrowd', 0)))
            f.write('    {0, 0, 0, {0, 0, 0, 0}, 0, 0}};\n')
            f.write('static const coco_det dt%d[] = {\n' % ci)
            for r in res:
                f.write('    {%d, %d, {%r, %r, %r, %r}, %r},\n' % (r['image_id'], r['category_id'],
                                                                 *[float(v) for v in r['bbox']], float(r['score'])))
            f.write('    {0, 0, {0, 0, 0, 0}, 0}};\n')
            f.write('static const long img%d[] = {%s};\n' % (ci, ', '.join(str(i['id']) for i in gt['images'])))
            f.write('static const long cat%d[] = {%s};\n\n' % (ci, ', '.join(str(c['id']) for c in gt['categories'])))
        f.write('const coco_case coco_cases[] = {\n')
        for ci, (name, (gt, res)) in enumerate(C.items()):
            st = coco_eval(gt, res)
            f.write('    {"%s", gt%d, %d, dt%d, %d, img%d, %d, cat%d, %d,\n     {%s}},\n' % (
                name, ci, len(gt['annotations']), ci, len(res), ci, len(gt['images']), ci,
                len(gt['categories']), ', '.join('%.17g' % v for v in st)))
        f.write('};\nconst int coco_n_cases = %d;\n' % len(C))
    return 0


if __name__ == '__main__':
    sys.exit(main())
