#!/usr/bin/python3
"""PyTorch side of `run_bench nn-torch` (bench/bench_nn.c): trains the same
small transformer as the C engine's benchmark on the CPU and prints ONE line
of JSON on stdout, which the C benchmark parses (jansson).

    /usr/bin/python3 bench/nn_torch.py --threads 2 --steps 50 --warmup 5

Model (the C side's "method" size, docs/NN.md): x [B x T x C] reshaped to
B x T/P patches of P*C values (time-major, no copy) -> linear patch
embedding -> learned positional embedding -> L pre-norm encoder layers
(nn.TransformerEncoderLayer(norm_first=True, GELU tanh, dropout 0), width
D, H heads, FF F) -> final layer norm -> mean over patches -> linear head
-> cross-entropy. Training step: zero_grad, forward, backward,
clip_grad_norm_, the warm-up + cosine learning rate, AdamW (weight decay on
matrices only). Parameters are counted without padding, as the C side
counts them, so the two sides can check they built the same model.

Timing: 'warmup' untimed steps (allocator, thread pool, first touch), then
'steps' timed ones; the schedule runs over warmup + steps as on the C side.
If torch cannot be imported the line is {"skipped": "<why>"} and the exit
status 0: the C side reports the skip and still prints its own figures.
"""
import argparse
import json
import math
import sys
import time


def parse():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--time", type=int, default=1000)          # samples per window
    ap.add_argument("--channels", type=int, default=16)
    ap.add_argument("--patch", type=int, default=100)          # samples per patch
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ff", type=int, default=256)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--lr-max", type=float, default=1e-3)
    ap.add_argument("--lr-min", type=float, default=1e-4)
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.999)
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--clip", type=float, default=1.0)
    return ap.parse_args()


def lr_at(step, warmup, total, lr_max, lr_min):
    """nn_lr_cosine of kernels/nn/nn_param.h (0-based step)."""
    if step < warmup:
        return lr_max * (step + 1) / warmup
    span = total - 1 - warmup
    prog = min(1.0, (step - warmup) / span) if span > 0 else 1.0
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * prog))


def main():
    a = parse()
    try:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
    except Exception as e:   # any failure to load torch is a skip, not an error
        print(json.dumps({"skipped": "import torch failed: %s" % e}))
        return 0

    torch.set_num_threads(a.threads)
    torch.manual_seed(7)
    npatch = a.time // a.patch

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(a.patch * a.channels, a.width)
            self.pos = nn.Parameter(torch.empty(npatch, a.width).uniform_(-0.1, 0.1))
            self.enc = nn.ModuleList(
                nn.TransformerEncoderLayer(a.width, a.heads, a.ff, dropout=0.0,
                                           activation=lambda z: F.gelu(z, approximate="tanh"),
                                           batch_first=True, norm_first=True)
                for _ in range(a.layers))
            self.ln_f = nn.LayerNorm(a.width)
            self.head = nn.Linear(a.width, a.classes)

        def forward(self, x):
            h = self.embed(x.reshape(x.shape[0], npatch, a.patch * a.channels)) + self.pos
            for layer in self.enc:
                h = layer(h)
            return self.head(self.ln_f(h).mean(dim=1))

    model = Model()
    params = sum(p.numel() for p in model.parameters())
    # weight decay on matrices only, as the C parameter table marks them
    decay = [p for p in model.parameters() if p.dim() >= 2 and p is not model.pos]
    nodecay = [p for p in model.parameters() if p.dim() < 2 or p is model.pos]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.wd},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=a.lr_max, betas=(a.beta1, a.beta2), eps=a.eps)
    x = torch.randn(a.batch, a.time, a.channels)
    y = torch.arange(a.batch) % a.classes
    total = a.warmup + a.steps

    def step(s):
        for g in opt.param_groups:
            g["lr"] = lr_at(s, a.warmup, total, a.lr_max, a.lr_min)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        return loss.item()   # item() also waits for the step to finish

    for s in range(a.warmup):
        step(s)
    t0 = time.perf_counter()
    losses = [step(a.warmup + s) for s in range(a.steps)]
    dt = time.perf_counter() - t0
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(), "params": params,
        "steps": a.steps, "seconds": dt, "steps_per_s": a.steps / dt,
        "loss_first": losses[0], "loss_last": losses[-1],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
