#!/usr/bin/python3
"""PyTorch reference for dynlab's sequence ops and losses (tests/test_rnn_torch.c).

usage: torch_rnn.py IN.safetensors OUT.safetensors

IN holds the C test's inputs and weights as "<case>.<name>" (float32; integer
ids/offsets as int64) and the cases' settings in __metadata__["config"]. Every
case is recomputed in float64 and "<case>.out" and "<case>.grad.<name>" are
written for every input that gets a gradient. Array outputs are reduced to a
scalar as sum(out * R) with the case's random R, so every output element's
gradient is checked.

The references are PyTorch's own modules where they exist (nn.GRU, nn.GRUCell,
nn.LSTM with the C weights copied in, F.conv1d, F.embedding_bag,
F.binary_cross_entropy_with_logits) and, where PyTorch has none (Debian's
torch ships no torchvision), the published formulas written out in torch ops:
sigmoid focal loss as torchvision.ops.sigmoid_focal_loss, varifocal loss as
RT-DETR's loss_labels_vfl, GIoU as Rezatofighi et al. (2019), NT-Xent as
SimCLR (normalize, similarity / tau, diagonal masked, cross-entropy against
the other view), the Gaussian KL as Kingma & Welling (2014), appendix B.
Channels-last layouts: dynlab's conv1d input is [N, L, C] and its weight
[O, K, C]; PyTorch's are [N, C, L] and [O, C, K] (permute(0, 2, 1) both).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_modules import Params, grads, read_safetensors, write_safetensors  # noqa: E402


def conv1d(P, cfg):
    y = F.conv1d(P["x"].permute(0, 2, 1), P["w"].permute(0, 2, 1), P.get("b"),
                 padding=cfg["pad"], dilation=cfg["dil"])
    return y.permute(0, 2, 1)


def rnn_module(cls, P, name, inp, hidden):
    m = cls(inp, hidden, batch_first=True).double()
    with torch.no_grad():
        m.weight_ih_l0.copy_(P[name + ".weight_ih"])
        m.weight_hh_l0.copy_(P[name + ".weight_hh"])
        m.bias_ih_l0.copy_(P[name + ".bias_ih"])
        m.bias_hh_l0.copy_(P[name + ".bias_hh"])
    return m


def module_grads(out, prefix, name, m):
    for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        out[f"{prefix}.grad.{name}.{k}"] = getattr(m, k + "_l0").grad.numpy()


def xyxy(b, fmt):
    if fmt == "xyxy":
        return b
    cx, cy, w, h = b.unbind(-1)
    return torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], -1)


def giou(p, t):
    """GIoU of row-matched boxes (x1, y1, x2, y2): Rezatofighi et al. 2019, Algorithm 1."""
    ap = (p[:, 2] - p[:, 0]) * (p[:, 3] - p[:, 1])
    at = (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])
    lt = torch.max(p[:, :2], t[:, :2])
    rb = torch.min(p[:, 2:], t[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[:, 0] * wh[:, 1]
    union = ap + at - inter
    iou = inter / union
    clt = torch.min(p[:, :2], t[:, :2])
    crb = torch.max(p[:, 2:], t[:, 2:])
    cwh = crb - clt
    area_c = cwh[:, 0] * cwh[:, 1]
    return iou - (area_c - union) / area_c


def main():
    arrays, meta = read_safetensors(sys.argv[1])
    cfg = json.loads(meta["config"])
    out = {}

    def finish(prefix, P, y):
        """Scalar outputs are the loss; arrays go through sum(y * R)."""
        if y.dim() == 0:
            y.backward()
        else:
            (y * P["R"]).sum().backward()
        out[prefix + ".out"] = y.detach().numpy().reshape(-1) if y.dim() == 0 else y.detach().numpy()
        grads(out, prefix, P)

    for prefix in ("conv", "conv0"):
        P = Params(arrays, prefix)
        finish(prefix, P, conv1d(P, cfg[prefix]))

    P = Params(arrays, "convmax")
    finish("convmax", P, conv1d(P, cfg["convmax"]).max(dim=1).values)

    P = Params(arrays, "maxt")
    finish("maxt", P, P["x"].max(dim=1).values)

    for prefix, mode in (("bagsum", "sum"), ("bagmean", "mean")):
        P = Params(arrays, prefix)
        ids = torch.tensor(arrays[prefix + ".ids"])
        offs = torch.tensor(arrays[prefix + ".offsets"])
        finish(prefix, P, F.embedding_bag(ids, P["table"], offs, mode=mode))

    P = Params(arrays, "gru")
    H = cfg["gru"]["hidden"]
    m = rnn_module(torch.nn.GRU, P, "gru", P["x"].shape[2], H)
    y, _ = m(P["x"], P["h0"].unsqueeze(0))
    finish("gru", P, y)
    module_grads(out, "gru", "gru", m)

    P = Params(arrays, "cell")
    c = torch.nn.GRUCell(P["x"].shape[1], H).double()
    with torch.no_grad():
        c.weight_ih.copy_(P["cell.weight_ih"])
        c.weight_hh.copy_(P["cell.weight_hh"])
        c.bias_ih.copy_(P["cell.bias_ih"])
        c.bias_hh.copy_(P["cell.bias_hh"])
    finish("cell", P, c(P["x"], P["h"]))
    for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        out[f"cell.grad.cell.{k}"] = getattr(c, k).grad.numpy()

    P = Params(arrays, "lstm")
    m = rnn_module(torch.nn.LSTM, P, "lstm", P["x"].shape[2], H)
    y, _ = m(P["x"], (P["h0"].unsqueeze(0), P["c0"].unsqueeze(0)))
    finish("lstm", P, y)
    module_grads(out, "lstm", "lstm", m)

    # ---- losses (constants are float arrays without gradients: detached here) ----
    P = Params(arrays, "bce")
    finish("bce", P, F.binary_cross_entropy_with_logits(P["x"], P["y"].detach(), weight=P["w"].detach()))

    P = Params(arrays, "focal")
    fc = cfg["focal"]
    x, yt = P["x"], P["y"].detach()
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, yt, reduction="none")
    p_t = p * yt + (1 - p) * (1 - yt)
    loss = ce * ((1 - p_t) ** fc["gamma"])
    loss = (fc["alpha"] * yt + (1 - fc["alpha"]) * (1 - yt)) * loss
    finish("focal", P, loss.sum() / fc["norm"])

    P = Params(arrays, "vfl")
    vc = cfg["vfl"]
    x, label, score = P["x"], P["label"].detach(), P["score"].detach()
    weight = vc["alpha"] * torch.sigmoid(x).detach().pow(vc["gamma"]) * (1 - label) + score
    loss = F.binary_cross_entropy_with_logits(x, score, weight=weight, reduction="none")
    finish("vfl", P, loss.sum() / vc["norm"])

    P = Params(arrays, "l1")
    finish("l1", P, (P["p"] - P["t"]).abs().sum() / cfg["l1"]["norm"])

    for prefix in ("giou", "giouxy"):
        P = Params(arrays, prefix)
        gc = cfg[prefix]
        g = giou(xyxy(P["p"], gc["format"]), xyxy(P["t"], gc["format"]))
        finish(prefix, P, (1 - g).sum() / gc["norm"])

    P = Params(arrays, "ntx")
    z = F.normalize(P["z"], dim=1)
    sim = z @ z.t() / cfg["ntx"]["tau"]
    M = sim.shape[0]
    sim = sim.masked_fill(torch.eye(M, dtype=torch.bool), float("-inf"))
    labels = (torch.arange(M) + M // 2) % M
    finish("ntx", P, F.cross_entropy(sim, labels))

    P = Params(arrays, "kl")
    mu, lv = P["mu"], P["logvar"]
    finish("kl", P, -0.5 * torch.sum(1 + lv - mu ** 2 - lv.exp()) / mu.shape[0])

    write_safetensors(sys.argv[2], out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
