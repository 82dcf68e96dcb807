#!/usr/bin/python3
"""PyTorch reference for dynlab's image ops (used by tests/test_conv_torch.c).

usage: torch_conv.py IN.safetensors OUT.safetensors

IN holds, per case "<case>.", the op's inputs ("x", "w", "b", "gamma", "beta",
"map", "points", running statistics "rm"/"rv") and "R", the weights of the
scalar loss sum(R * op(...)); __metadata__["cases"] is a JSON list of
{"name", "op", ...arguments}. The ops run in float64 through
torch.nn.functional; OUT gets "<case>.out", "<case>.grad.<input>" for every
input that is not R or a running statistic, and for batch norm in training
mode the updated "<case>.rm" / "<case>.rv". The safetensors reader/writer is
the one of tests/torch_modules.py.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_modules import read_safetensors, write_safetensors  # noqa: E402


def run_case(c, T):
    op = c["op"]
    if op == "conv2d":
        return F.conv2d(T["x"], T["w"], T.get("b"), stride=c["stride"], padding=c["pad"],
                        dilation=c["dil"], groups=c["groups"])
    if op == "max_pool2d":
        return F.max_pool2d(T["x"], c["k"], c["s"], c["p"])
    if op == "avg_pool2d":
        return F.avg_pool2d(T["x"], c["k"], c["s"], c["p"])  # count_include_pad=True
    if op == "global_avg_pool2d":
        return F.adaptive_avg_pool2d(T["x"], 1).flatten(1)
    if op == "batchnorm":
        return F.batch_norm(T["x"], T["rm"], T["rv"], T.get("gamma"), T.get("beta"),
                            training=bool(c["train"]), momentum=0.1, eps=1e-5)
    if op == "batchnorm_relu":
        return F.relu(F.batch_norm(T["x"], T["rm"], T["rv"], T.get("gamma"), T.get("beta"),
                                   training=bool(c["train"]), momentum=0.1, eps=1e-5))
    if op == "silu":
        return F.silu(T["x"])
    if op == "upsample":
        mode = c["mode"]
        kw = {"align_corners": False} if mode == "bilinear" else {}
        return F.interpolate(T["x"], size=(c["oh"], c["ow"]), mode=mode, **kw)
    if op == "grid_sample":
        N, P, _ = T["points"].shape
        y = F.grid_sample(T["map"], T["points"].view(N, 1, P, 2), mode="bilinear",
                          padding_mode="zeros", align_corners=False)
        return y[:, :, 0, :].permute(0, 2, 1)  # [N, P, C]
    raise ValueError(f"unknown op {op}")


def main():
    arrays, meta = read_safetensors(sys.argv[1])
    cases = json.loads(meta["cases"])
    out = {}
    for c in cases:
        pre = c["name"] + "."
        T = {}
        for k, v in arrays.items():
            if k.startswith(pre):
                key = k[len(pre):]
                grad = key not in ("R", "rm", "rv")
                T[key] = torch.tensor(v, dtype=torch.float64, requires_grad=grad)
        y = run_case(c, T)
        (y * T["R"]).sum().backward()
        out[pre + "out"] = y.detach().numpy()
        for k, t in T.items():
            if t.grad is not None:
                out[pre + "grad." + k] = t.grad.numpy()
        if c["op"] in ("batchnorm", "batchnorm_relu") and c["train"]:
            out[pre + "rm"] = T["rm"].numpy()
            out[pre + "rv"] = T["rv"].numpy()
    write_safetensors(sys.argv[2], out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
