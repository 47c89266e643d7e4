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

--model embridge: EMBridge's stage-2 step instead (methods/embridge.c,
docs/METHODS.md "qformer and embridge"), timed the same way on one random
batch. The EMG encoder (trained): |x| standardised per channel, T/P patches
of P*C values, linear embedding + learned position, a CLS token in front,
L pre-norm encoder layers as above, final layer norm: the memory. The
Q-Former: M learned queries through L pre-norm blocks whose block 0 (and
every even one) has a cross-attention sub-layer LN + MHA(kdim = vdim = the
EMG width) to the memory between self-attention and feed-forward, then a
final layer norm. Best-query InfoNCE: the query output closest (cosine) to
the window's pose embedding, cosine logits times exp(logit scale) (learnt,
clamped to [0, ln 100] after each step) against the batch's pose
embeddings, cross-entropy; + alpha CASCLe: the same logits against soft
targets from the pose embeddings' top-k_c affinities to N_c unit centroids
(diagonal removed); + lambda MPRL: a second pass through the same blocks
without cross-attention over [Q' (before the final norm); pose tokens]
(the frozen pose patch embedding + position, masked tokens replaced by a
learned mask token), queries barred from the pose tokens by the attention
mask, a layer norm + linear decoder reconstructing the masked standardised
pose patches (MSE). The pose embeddings and the frozen pose encoder are
fixed inputs (random here; the C side embeds its random pose windows once,
untimed). Gradient-norm clipping of the EMG encoder and of the bridge
separately, then AdamW (weight decay on matrices only), as align() does.
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
    ap.add_argument("--model", choices=("encoder", "embridge"), default="encoder")
    # embridge only (the EMG window is --time x --channels, --patch samples a patch)
    ap.add_argument("--queries", type=int, default=16)
    ap.add_argument("--pose-frames", type=int, default=20)
    ap.add_argument("--joints", type=int, default=20)
    ap.add_argument("--pose-patch", type=int, default=5)
    ap.add_argument("--pose-mask", type=float, default=0.5)
    ap.add_argument("--n-c", type=int, default=16)
    ap.add_argument("--k-c", type=int, default=3)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--lambda", dest="lam", type=float, default=1.0)
    ap.add_argument("--tau-s", type=float, default=0.1)
    ap.add_argument("--temp", type=float, default=0.07)
    ap.add_argument("--lr-warmup", type=int, default=5)
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
    if a.model == "embridge":
        return embridge(a, torch, nn, F)
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


def embridge(a, torch, nn, F):
    """EMBridge's stage-2 training step (see the module comment)."""
    B, M, D, H, L, Fw = a.batch, a.queries, a.width, a.heads, a.layers, a.ff
    npatch = a.time // a.patch
    tp = a.pose_frames // a.pose_patch
    pc = a.pose_patch * a.joints
    nm = min(tp, max(1, int(math.floor(a.pose_mask * tp + 0.5))))
    gelu = lambda z: F.gelu(z, approximate="tanh")

    class EmgEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(a.patch * a.channels, D)
            self.pos = nn.Parameter(torch.randn(npatch, D) * 0.02)
            self.cls = nn.Parameter(torch.randn(D) * 0.02)
            self.enc = nn.ModuleList(
                nn.TransformerEncoderLayer(D, H, Fw, dropout=0.0, activation=gelu, batch_first=True,
                                           norm_first=True) for _ in range(L))
            self.ln_f = nn.LayerNorm(D)

        def forward(self, x):
            h = self.embed(x.reshape(x.shape[0], npatch, a.patch * a.channels)) + self.pos
            h = torch.cat([self.cls.expand(x.shape[0], 1, D), h], dim=1)
            for layer in self.enc:
                h = layer(h)
            return self.ln_f(h)

    class QBlock(nn.Module):
        """Pre-norm block; with cross: LN + MHA to the memory between SA and FFN."""
        def __init__(self, cross):
            super().__init__()
            self.ln1 = nn.LayerNorm(D)
            self.sa = nn.MultiheadAttention(D, H, batch_first=True)
            self.cross = cross
            if cross:
                self.lnc = nn.LayerNorm(D)
                self.ca = nn.MultiheadAttention(D, H, kdim=D, vdim=D, batch_first=True)
            self.ln2 = nn.LayerNorm(D)
            self.w1 = nn.Linear(D, Fw)
            self.w2 = nn.Linear(Fw, D)

        def forward(self, x, mem=None, mask=None):
            y = self.ln1(x)
            x = x + self.sa(y, y, y, attn_mask=mask, need_weights=False)[0]
            if self.cross and mem is not None:
                y = self.lnc(x)
                x = x + self.ca(y, mem, mem, need_weights=False)[0]
            return x + self.w2(gelu(self.w1(self.ln2(x))))

    class Bridge(nn.Module):
        def __init__(self):
            super().__init__()
            self.queries = nn.Parameter(torch.randn(M, D) * 0.02)
            self.blocks = nn.ModuleList(QBlock(l % 2 == 0) for l in range(L))
            self.ln_f = nn.LayerNorm(D)
            self.logit_scale = nn.Parameter(torch.tensor([math.log(1.0 / a.temp)]))
            self.mask_token = nn.Parameter(torch.randn(D) * 0.02)
            self.dec_ln = nn.LayerNorm(D)
            self.dec = nn.Linear(D, pc)

    emg = EmgEncoder()
    qf = Bridge()
    # the frozen pose encoder's patch embedding and position (MPRL's pose tokens)
    pose_embed = nn.Linear(pc, D).requires_grad_(False)
    pose_pos = (torch.randn(tp, D) * 0.02)
    params = sum(p.numel() for p in emg.parameters()) + sum(p.numel() for p in qf.parameters())
    nodecay_ids = {id(emg.pos)}   # the queries decay, as the C table (and LAVIS) has them
    allp = list(emg.parameters()) + list(qf.parameters())
    decay = [p for p in allp if p.dim() >= 2 and id(p) not in nodecay_ids]
    nodecay = [p for p in allp if p.dim() < 2 or id(p) in nodecay_ids]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.wd},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=a.lr_max, betas=(a.beta1, a.beta2), eps=a.eps)

    xe = torch.randn(B, a.time, a.channels)
    xp = torch.randn(B, a.pose_frames, a.joints)
    emean, estd = xe.abs().mean(dim=(0, 1)), xe.abs().std(dim=(0, 1))
    pmean, pstd = xp.mean(dim=(0, 1)), xp.std(dim=(0, 1))
    v = F.normalize(torch.randn(B, D), dim=1)          # the batch's frozen pose embeddings
    cent = F.normalize(torch.randn(a.n_c, D), dim=1)   # CASCLe's centroids
    labels = torch.arange(B)
    amask = torch.zeros(M + tp, M + tp)
    amask[:M, M:] = float("-inf")                      # queries never see the pose tokens
    ln100 = math.log(100.0)
    total = a.warmup + a.steps
    gen = torch.Generator().manual_seed(4)

    def cascle_targets():
        with torch.no_grad():
            A = v @ cent.t()
            top = A.topk(min(a.k_c, a.n_c), dim=1)
            A = torch.zeros_like(A).scatter_(1, top.indices, top.values)
            A = F.normalize(A, dim=1)
            S = (A @ A.t()) / a.tau_s
            S.fill_diagonal_(float("-inf"))
            return torch.softmax(S, dim=1)

    def step(s):
        for g in opt.param_groups:
            g["lr"] = lr_at(s, a.lr_warmup, total, a.lr_max, a.lr_max * 0.05)
        opt.zero_grad()
        # pass 1: EMG encoder, Q-Former with cross-attention
        mem = emg((xe.abs() - emean) / estd)
        h = qf.queries.expand(B, M, D)
        for blk in qf.blocks:
            h = blk(h, mem)
        u = qf.ln_f(h)
        with torch.no_grad():
            idx = (F.normalize(u, dim=2) @ v.unsqueeze(2)).squeeze(2).argmax(dim=1)
        ub = u[labels, idx]
        logits = qf.logit_scale.exp() * F.normalize(ub, dim=1) @ v.t()
        loss = F.cross_entropy(logits, labels)
        loss = loss - a.alpha * (cascle_targets() * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
        # pass 2 (MPRL)
        pstdz = ((xp - pmean) / pstd).reshape(B, tp, pc)
        tok = pose_embed(pstdz)
        masked = torch.rand(B, tp, generator=gen).argsort(dim=1)[:, :nm]
        pm = torch.zeros(B, tp, dtype=torch.bool).scatter_(1, masked, True)
        tok = torch.where(pm.unsqueeze(2), qf.mask_token.expand(B, tp, D), tok) + pose_pos
        h2 = torch.cat([h, tok], dim=1)
        for blk in qf.blocks:
            h2 = blk(h2, None, amask)
        pred = qf.dec(qf.dec_ln(h2[:, M:]))
        lm = ((pred - pstdz) ** 2).mean(dim=2)[pm].mean()
        loss = loss + a.lam * lm
        loss.backward()
        torch.nn.utils.clip_grad_norm_(emg.parameters(), a.clip)
        torch.nn.utils.clip_grad_norm_(qf.parameters(), a.clip)
        opt.step()
        with torch.no_grad():
            qf.logit_scale.clamp_(0.0, ln100)
        return loss.item()

    for s in range(a.warmup):
        step(s)
    t0 = time.perf_counter()
    losses = [step(a.warmup + s) for s in range(a.steps)]
    dt = time.perf_counter() - t0
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(), "model": "embridge", "params": params,
        "steps": a.steps, "seconds": dt, "steps_per_s": a.steps / dt,
        "loss_first": losses[0], "loss_last": losses[-1],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
