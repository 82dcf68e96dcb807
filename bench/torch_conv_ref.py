"""The convolutional workloads of `dynlab bench` in PyTorch (imported by
bench/torch_ref.py): the same models as bench/conv_workloads.c.

  cnn-fmnist  input [128, 1, 28, 28]; three conv3x3 (padding 1, no bias) + batch
              norm + ReLU with 32, 64, 128 channels, 2x2 max-pool after the first
              two; global average pool; linear 128 -> 10; cross-entropy.
  resnet-det  input [4, 3, 256, 256]; the ResNet-18 trunk (conv7x7/2 + BN + ReLU,
              3x3/2 max-pool, four stages of two basic blocks with 64..512
              channels, stride 2 and a 1x1 conv + BN shortcut at the start of
              stages 2-4); loss = sum over stages 2, 3, 4 of mean(x^2).
One step = forward, backward, AdamW(lr=1e-3), fixed random inputs.
"""
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CONV_WORKLOADS = {"cnn-fmnist": (128, 1, 28), "resnet-det": (4, 3, 256)}  # batch, channels, size


def conv_bn(cin, cout, k, stride, pad):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, pad, bias=False), nn.BatchNorm2d(cout))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([conv_bn(1, 32, 3, 1, 1), conv_bn(32, 64, 3, 1, 1), conv_bn(64, 128, 3, 1, 1)])
        self.head = nn.Linear(128, 10)

    def forward(self, x, labels):
        for i, l in enumerate(self.layers):
            x = F.relu(l(x))
            if i < 2:
                x = F.max_pool2d(x, 2, 2)
        return F.cross_entropy(self.head(x.mean(dim=(2, 3))), labels)


class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = conv_bn(cin, cout, 3, stride, 1)
        self.c2 = conv_bn(cout, cout, 3, 1, 1)
        self.down = conv_bn(cin, cout, 1, stride, 0) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.c2(F.relu(self.c1(x)))
        return F.relu(y + (self.down(x) if self.down is not None else x))


class ResNetDet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 64, 7, 2, 3)
        blocks, cin = [], 64
        for s in range(4):
            cout = 64 << s
            blocks.append(nn.Sequential(Basic(cin, cout, 2 if s > 0 else 1), Basic(cout, cout, 1)))
            cin = cout
        self.stages = nn.ModuleList(blocks)

    def forward(self, x, labels):
        x = F.max_pool2d(F.relu(self.stem(x)), 3, 2, 1)
        loss = 0
        for s, st in enumerate(self.stages):
            x = st(x)
            if s > 0:
                loss = loss + x.square().mean()
        return loss


def conv_train_flops(model, x):
    """3x the forward multiply-adds x2 of every convolution, as bench/conv_workloads.c."""
    total = []

    def hook(m, inp, out):
        k = m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3]
        total.append(2.0 * out.numel() * k)

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model(x, torch.zeros(x.shape[0], dtype=torch.long))
    for h in hs:
        h.remove()
    return 3.0 * sum(total)


def run_conv(name, steps, warmup, seed):
    B, C, S = CONV_WORKLOADS[name]
    torch.manual_seed(seed)
    model = CNN() if name == "cnn-fmnist" else ResNetDet()
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(B, C, S, S, generator=g)
    labels = torch.randint(0, 10, (B,), generator=g)
    flops = conv_train_flops(model, x)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    times, cpu, first, last = [], [], None, None
    for s in range(warmup + steps):
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = model(x, labels)
        loss.backward()
        opt.step()
        lv = loss.item()
        t, c = time.perf_counter() - t0, time.process_time() - c0
        first = lv if first is None else first
        last = lv
        if s >= warmup:
            times.append(t)
            cpu.append(c)
    med = statistics.median(times) * 1e3
    return {
        "workload": name,
        "threads": torch.get_num_threads(),
        "ms_per_step": round(med, 4),
        "gflops": round(flops / (med * 1e-3) * 1e-9, 2),
        "ms_min": round(min(times) * 1e3, 4),
        "cpu_ms_per_step": round(statistics.median(cpu) * 1e3, 4),
        "steps": steps,
        "first_loss": round(first, 5),
        "last_loss": round(last, 5),
        "torch": torch.__version__,
        "mkldnn": torch.backends.mkldnn.is_available(),
    }
