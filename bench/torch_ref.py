#!/usr/bin/python3
"""PyTorch reference for `dynlab bench`: the same training-step workloads: three
GPT workloads with the same model as src/nn (GPT-2 style pre-LN decoder: token +
learned position embeddings, blocks with separate q/k/v/o linears with bias,
causal softmax attention, GELU(tanh) MLP of width 4d, final LayerNorm, linear
head without bias), mean cross-entropy over all positions, AdamW(lr=1e-3),
fixed random tokens; and gru-text (class GruText). Times warm steps and prints
the median ms/step.

Run with Debian's python3 (python3-torch 1.13). Debian's torch calls OpenBLAS,
whose own thread pool torch.set_num_threads does not bound: set
OMP_NUM_THREADS and OPENBLAS_NUM_THREADS in the environment (bench/compare.sh
does). Usage:
  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_ref.py --threads 2 --json
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_conv_ref import CONV_WORKLOADS, run_conv

WORKLOADS = {
    # name: vocab, seq T, d_model, heads, layers, batch   (docs/benchmarks.md)
    "onelayer": (8, 16, 32, 2, 1, 256),
    "gpt-tiny": (256, 64, 128, 4, 2, 16),
    "gpt-small": (512, 128, 256, 8, 4, 8),
}


class Block(nn.Module):
    def __init__(self, d, heads, seq):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.proj = nn.Linear(4 * d, d)
        mask = torch.triu(torch.ones(seq, seq, dtype=torch.bool), diagonal=1)
        self.register_buffer("mask", mask)

    def forward(self, x):
        B, T, C = x.shape
        H = self.heads
        h = self.ln1(x)
        q = self.q(h).view(B, T, H, C // H).transpose(1, 2)
        k = self.k(h).view(B, T, H, C // H).transpose(1, 2)
        v = self.v(h).view(B, T, H, C // H).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // H))
        att = att.masked_fill(self.mask[:T, :T], float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.o(y)
        return x + self.proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, vocab, seq, d, heads, layers):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(seq, d)
        self.blocks = nn.ModuleList([Block(d, heads, seq) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        for name, p in self.named_parameters():  # GPT-2 init, as src/nn
            if p.dim() == 2:
                std = 0.02
                if name.endswith("o.weight") or name.endswith("proj.weight"):
                    std = 0.02 / math.sqrt(2 * layers)
                nn.init.normal_(p, 0.0, std)
        self.register_buffer("pos", torch.arange(seq))

    def forward(self, idx, targets):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(self.pos[:T])
        for b in self.blocks:
            x = b(x)
        logits = self.head(self.ln_f(x))
        return F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))


def train_flops(vocab, T, d, layers, B):
    """Same count as dl_gpt_train_flops (src/nn)."""
    bt, h = B * T, 4 * d
    per_layer = 2.0 * bt * (4 * d * d + 2 * d * h) + 2.0 * 2.0 * bt * T * d
    return 3.0 * (layers * per_layer + 2.0 * bt * d * vocab)


class GruText(nn.Module):
    """gru-text (bench/workload_gru_text.c): embeddings of each day's 32 tokens,
    Conv1d widths 3, 4, 5 x 100 filters + ReLU, max over tokens, concatenated to
    300 per day; GRU 300 -> 128 over the 20 days; linear 128 -> 1 on the last state."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(5000, 128)
        self.convs = nn.ModuleList([nn.Conv1d(128, 100, k) for k in (3, 4, 5)])
        self.gru = nn.GRU(300, 128, batch_first=True)
        self.head = nn.Linear(128, 1)

    def forward(self, ids, labels):
        B, D, L = ids.shape
        e = self.emb(ids.view(B * D, L)).transpose(1, 2)  # [B*D, 128, L]
        feats = [F.relu(c(e)).max(dim=2).values for c in self.convs]
        h, _ = self.gru(torch.cat(feats, 1).view(B, D, 300))
        logit = self.head(h[:, -1]).squeeze(1)
        return F.binary_cross_entropy_with_logits(logit, labels)


def gru_text_flops(B=32, days=20, tokens=32):
    """Same count as bench_gru_text_train_flops (dense convolutions, GRU projections)."""
    seqs = B * days
    f = sum(2.0 * seqs * (tokens - k + 1) * 100 * k * 128 for k in (3, 4, 5))
    f += 2.0 * seqs * 3 * 128 * (300 + 128) + 2.0 * B * 128
    return 3.0 * f


def run(name, steps, warmup, seed):
    if name == "gru-text":
        torch.manual_seed(seed)
        model = GruText()
        g = torch.Generator().manual_seed(seed + 1)
        inputs = (torch.randint(0, 5000, (32, 20, 32), generator=g),
                  torch.randint(0, 2, (32,), generator=g).float())
        flops = gru_text_flops()
    else:
        vocab, T, d, heads, layers, B = WORKLOADS[name]
        torch.manual_seed(seed)
        model = GPT(vocab, T, d, heads, layers)
        g = torch.Generator().manual_seed(seed + 1)
        inputs = (torch.randint(0, vocab, (B, T), generator=g),
                  torch.randint(0, vocab, (B, T), generator=g))
        flops = train_flops(vocab, T, d, layers, B)
    return timed(name, model, inputs, flops, steps, warmup)


def timed(name, model, inputs, flops, steps, warmup):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    times, cpu, first, last = [], [], None, None
    for s in range(warmup + steps):
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = model(*inputs)
        loss.backward()
        opt.step()
        lv = loss.item()
        t, c = time.perf_counter() - t0, time.process_time() - c0
        if first is None:
            first = lv
        last = lv
        if s >= warmup:
            times.append(t)
            cpu.append(c)
    med = statistics.median(times) * 1e3
    return {
        "workload": name,
        "cpu_ms_per_step": round(statistics.median(cpu) * 1e3, 4),
        "threads": torch.get_num_threads(),
        "ms_per_step": round(med, 4),
        "gflops": round(flops / (med * 1e-3) * 1e-9, 2),
        "ms_min": round(min(times) * 1e3, 4),
        "steps": steps,
        "first_loss": round(first, 5),
        "last_loss": round(last, 5),
        "torch": torch.__version__,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: default)")
    ap.add_argument("--steps", type=int, default=20, help="timed steps per workload")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    ap.add_argument("--workload", choices=sorted(WORKLOADS) + ["gru-text"] + sorted(CONV_WORKLOADS), action="append",
                    help="only this workload (repeatable)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    a = ap.parse_args()
    if a.steps < 1 or a.warmup < 0 or a.threads < 0:
        ap.error("--steps must be >= 1, --warmup and --threads >= 0")
    if a.threads:
        torch.set_num_threads(a.threads)
    names = a.workload or list(WORKLOADS) + ["gru-text"] + list(CONV_WORKLOADS)
    if not a.json:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
        print(f"{'workload':10s} {'ms/step':>9s} {'min ms':>9s} {'GFLOP/s':>8s}")
    for n in names:
        r = (run_conv if n in CONV_WORKLOADS else run)(n, a.steps, a.warmup, a.seed)
        if a.json:
            print(json.dumps(r))
        else:
            print(f"{n:10s} {r['ms_per_step']:9.3f} {r['ms_min']:9.3f} {r['gflops']:8.1f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
