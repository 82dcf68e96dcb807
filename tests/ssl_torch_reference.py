#!/usr/bin/python3
"""PyTorch reference of `dynlab run ssl` on Fashion-MNIST (developer tool, not run by ctest).

Reproduces the image part of experiments/ssl as exactly as practical, to decide whether
"pretrained features probe below the random encoder" is a bug of our C implementation or a
property of the setup (docs/papers/ssl.md, Findings):
  * data: the first n_unlabelled + 512 images of Debian's train IDX file (the first
    n_unlabelled are the unlabelled pool, as experiments/ssl/run.c load_fmnist), the first
    n_test images of the test file, pixels / 255; the labelled probe rows are the first
    labels_per_class of each class among the unlabelled pool (run.c pick_labels);
  * encoder: conv3x3(1->c1)-BN-ReLU-maxpool2, conv3x3(c1->c2)-BN-ReLU-maxpool2,
    linear(c2*7*7 -> hidden)+ReLU = h; mu linear(hidden -> zdim); projection head
    linear(zdim -> proj)-ReLU-linear(proj -> proj) (experiments/ssl/model.c), torch defaults;
  * augmentation: experiments/ssl/augment.c (resized crop, shift, flip, brightness/contrast
    jitter, noise, erasing), the same distributions (numpy RNG, not dl_rng);
  * loss: NT-Xent (SimCLR) on the projection of mu (the no_variational variant), tau 0.5;
  * AdamW lr 0.002 wd 0.01, cosine to 0, gradient-norm clip 5, batch 128 (256 views),
    epoch-wise reshuffled sampling without replacement (experiments/ssl/train.c);
  * probe: features h in eval mode, standardised with the labelled rows' mean and std,
    multinomial logistic regression by full-batch gradient descent (lr 0.5, L2 1e-3,
    300 iterations, zero init; experiments/ssl/probe.c); k-NN: cosine, k = 5, votes 1 + sim
    (experiments/ssl/knn.c).
Prints probe and k-NN accuracy of the pretrained encoder, the same initial draw untrained,
and raw pixels, on h and on the pooled conv2 maps below h (dynlab's eval.features=encoder and
trunk), and the number of
units of h that are zero on every labelled row.

  /usr/bin/python3 tests/ssl_torch_reference.py --seed 1 --labels-per-class 200 --steps 400
"""
import argparse
import gzip
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)


def load(n_unl, n_test, per_class):
    xtr = read_idx(f"{DIR}/train-images-idx3-ubyte.gz")[: n_unl + 512].astype(np.float32) / 255.0
    ytr = read_idx(f"{DIR}/train-labels-idx1-ubyte.gz")[: n_unl + 512].astype(np.int64)
    xte = read_idx(f"{DIR}/t10k-images-idx3-ubyte.gz")[:n_test].astype(np.float32) / 255.0
    yte = read_idx(f"{DIR}/t10k-labels-idx1-ubyte.gz")[:n_test].astype(np.int64)
    unl = xtr[:n_unl]
    cnt = np.zeros(10, int)
    lab = []
    for i in range(n_unl):
        if cnt[ytr[i]] < per_class:
            cnt[ytr[i]] += 1
            lab.append(i)
    lab = np.array(lab)
    return unl, xtr[lab], ytr[lab], xte, yte


# ---- augmentation (experiments/ssl/augment.c) ----
def crop_resize(img, y0, x0, ch, cw):
    h, w = img.shape
    sy = np.clip(y0 + (np.arange(h) + 0.5) * ch / h - 0.5, y0, y0 + ch - 1)
    sx = np.clip(x0 + (np.arange(w) + 0.5) * cw / w - 0.5, x0, x0 + cw - 1)
    a = sy.astype(int); b = sx.astype(int)
    a1 = np.where(a + 1 < y0 + ch, a + 1, a); b1 = np.where(b + 1 < x0 + cw, b + 1, b)
    fy = (sy - a)[:, None]; fx = (sx - b)[None, :]
    return ((1 - fy) * ((1 - fx) * img[a][:, b] + fx * img[a][:, b1]) +
            fy * ((1 - fx) * img[a1][:, b] + fx * img[a1][:, b1])).astype(np.float32)


def augment(img, a, r):
    h, w = img.shape
    if a.crop_lo > 0:
        box = (0, 0, h, w)
        for _ in range(10):
            area = h * w * (a.crop_lo + (1 - a.crop_lo) * r.random())
            ar = math.exp(math.log(3 / 4) + (math.log(4 / 3) - math.log(3 / 4)) * r.random())
            cw, ch = int(round(math.sqrt(area * ar))), int(round(math.sqrt(area / ar)))
            if 1 <= cw <= w and 1 <= ch <= h:
                box = (r.integers(h - ch + 1), r.integers(w - cw + 1), ch, cw)
                break
        img = crop_resize(img, *box)
    k = a.shift
    dy, dx = (r.integers(2 * k + 1) - k, r.integers(2 * k + 1) - k) if k > 0 else (0, 0)
    out = np.zeros_like(img)
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = img[ys, xs]
    if r.random() < a.flip:
        out = out[:, ::-1].copy()
    if a.jitter_p > 0 and r.random() < a.jitter_p:
        bf = 1 + a.brightness * (2 * r.random() - 1)
        ct = 1 + a.contrast * (2 * r.random() - 1)
        out = np.clip(out * bf, 0, 1)
        out = np.clip(ct * out + (1 - ct) * out.mean(), 0, 1)
    if a.noise > 0:
        out = out + a.noise * r.standard_normal(out.shape).astype(np.float32)
    if r.random() < a.erase:
        eh, ew = 4 + r.integers(h // 3), 4 + r.integers(w // 3)
        y0, x0 = r.integers(h - eh + 1), r.integers(w - ew + 1)
        out[y0:y0 + eh, x0:x0 + ew] = 0
    return out.astype(np.float32)


# ---- model (experiments/ssl/model.c) ----
class Encoder(nn.Module):
    def __init__(self, c1, c2, hidden, zdim, proj):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, c1, 3, padding=1), nn.BatchNorm2d(c1)
        self.conv2, self.bn2 = nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2)
        self.fc = nn.Linear(c2 * 49, hidden)
        self.mu = nn.Linear(hidden, zdim)
        self.proj1, self.proj2 = nn.Linear(zdim, proj), nn.Linear(proj, proj)

    def conv(self, x):
        t = F.max_pool2d(F.relu(self.bn1(self.conv1(x.view(-1, 1, 28, 28)))), 2)
        return F.max_pool2d(F.relu(self.bn2(self.conv2(t))), 2).flatten(1)

    def h(self, x):
        return F.relu(self.fc(self.conv(x)))

    def forward(self, x):
        return self.proj2(F.relu(self.proj1(self.mu(self.h(x)))))


def nt_xent(p, tau):
    z = F.normalize(p, dim=1)
    n = z.shape[0] // 2
    s = z @ z.t() / tau
    s.fill_diagonal_(-float("inf"))
    tgt = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(s, tgt)


def pretrain(m, unl, a, seed):
    r = np.random.default_rng(seed)
    opt = torch.optim.AdamW(m.parameters(), lr=a.lr, weight_decay=a.wd)
    n, B = len(unl), a.batch
    perm, pos = np.arange(n), n
    losses = []
    m.train()
    for step in range(a.steps):
        rows = []
        for _ in range(B):
            if pos >= n:
                r.shuffle(perm); pos = 0
            rows.append(perm[pos]); pos += 1
        X = np.stack([augment(unl[i], a, r) for v in range(2) for i in rows])
        for g in opt.param_groups:
            g["lr"] = 0.5 * a.lr * (1 + math.cos(math.pi * step / a.steps))
        loss = nt_xent(m(torch.from_numpy(X)), a.tau)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(m.parameters(), 5.0)
        opt.step()
        losses.append(loss.item())
        if step % 50 == 0 or step == a.steps - 1:
            print(f"  step {step:4d} loss {loss.item():.4f}", flush=True)
    return losses


@torch.no_grad()
def feats(m, x, layer="h"):
    m.eval()
    return getattr(m, layer)(torch.from_numpy(x)).numpy()


def probe(fl, yl, ft, yt, iters=300):
    fl = torch.from_numpy(fl.reshape(len(fl), -1)).double(); ft = torch.from_numpy(ft.reshape(len(ft), -1)).double()
    mean, std = fl.mean(0), fl.std(0, unbiased=False) + 1e-6
    X = torch.cat([(fl - mean) / std, torch.ones(len(fl), 1, dtype=torch.double)], 1)
    Xt = torch.cat([(ft - mean) / std, torch.ones(len(ft), 1, dtype=torch.double)], 1)
    W = torch.zeros(X.shape[1], 10, dtype=torch.double)
    Y = F.one_hot(torch.from_numpy(yl), 10).double()
    for _ in range(iters):
        g = X.t() @ (torch.softmax(X @ W, 1) - Y) / len(X)
        W -= 0.5 * (g + 1e-3 * W)
    return ((Xt @ W).argmax(1).numpy() == yt).mean()


def knn(fl, yl, ft, yt, k=5):
    fl = fl.reshape(len(fl), -1); ft = ft.reshape(len(ft), -1)
    R = fl / np.maximum(np.linalg.norm(fl, axis=1, keepdims=True), 1e-30)
    Q = ft / np.maximum(np.linalg.norm(ft, axis=1, keepdims=True), 1e-30)
    S = Q @ R.T
    idx = np.argsort(-S, axis=1)[:, :k]
    ok = 0
    for i in range(len(Q)):
        vote = np.zeros(10)
        for j in idx[i]:
            vote[yl[j]] += 1 + S[i, j]
        ok += vote.argmax() == yt[i]
    return ok / len(Q)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--labels-per-class", type=int, default=20)
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--n-unlabelled", type=int, default=2000)
    p.add_argument("--n-test", type=int, default=1000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.002)
    p.add_argument("--wd", type=float, default=0.01)
    p.add_argument("--tau", type=float, default=0.5)
    p.add_argument("--c1", type=int, default=8)
    p.add_argument("--c2", type=int, default=16)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--zdim", type=int, default=32)
    p.add_argument("--proj", type=int, default=64)
    p.add_argument("--crop-lo", dest="crop_lo", type=float, default=0.2)
    p.add_argument("--shift", type=int, default=3)
    p.add_argument("--flip", type=float, default=0.5)
    p.add_argument("--jitter-p", dest="jitter_p", type=float, default=0.8)
    p.add_argument("--brightness", type=float, default=0.4)
    p.add_argument("--contrast", type=float, default=0.4)
    p.add_argument("--noise", type=float, default=0.1)
    p.add_argument("--erase", type=float, default=0.5)
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    unl, xl, yl, xt, yt = load(a.n_unlabelled, a.n_test, a.labels_per_class)
    print(f"unlabelled {len(unl)}  labelled {len(xl)}  test {len(xt)}")
    m = Encoder(a.c1, a.c2, a.hidden, a.zdim, a.proj)
    mr = Encoder(a.c1, a.c2, a.hidden, a.zdim, a.proj)
    mr.load_state_dict(m.state_dict())  # the same initial draw, never trained
    t0 = time.time()
    pretrain(m, unl, a, a.seed)
    print(f"pretraining {time.time() - t0:.1f} s")
    res = {}
    for name, fl, ft in [("pretrained", feats(m, xl), feats(m, xt)), ("random", feats(mr, xl), feats(mr, xt)),
                         ("raw", xl, xt),
                         # the pooled conv2 maps below h (c2*7*7 features; eval.features=trunk, the default)
                         ("pre. conv", feats(m, xl, "conv"), feats(m, xt, "conv")),
                         ("rand. conv", feats(mr, xl, "conv"), feats(mr, xt, "conv"))]:
        res[name] = (probe(fl, yl, ft, yt), knn(fl, yl, ft, yt))
        dead = "" if name == "raw" or "conv" in name else f"  dead h units {int((fl.max(0) <= 0).sum())}/{fl.shape[1]}"
        print(f"{name:10s} probe {res[name][0]:.3f}  k-NN {res[name][1]:.3f}{dead}")


if __name__ == "__main__":
    main()
