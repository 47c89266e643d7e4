#!/usr/bin/python3
"""Reference losses for tests/test_nn.c's tiny end-to-end model, computed in
PyTorch (Debian's python3-torch 1.13) independently of the C engine.

    /usr/bin/python3 tests/ref/gen_nn_ref.py > tests/ref/nn_golden.h

The model: patch embedding (x [B x T x C] -> B x T/P patches of P*C values,
time-major) -> learned positional embedding -> 2 pre-norm transformer layers
(width 32, 4 heads, FFN 64, GELU tanh) -> final layer norm -> mean over patches
-> linear -> cross-entropy. 10 steps of AdamW (decay on matrices only) with a
linear warm-up + cosine schedule and global-norm clipping at 1.0, on one fixed
batch.

Weights and data are not random draws: every value is a 32-bit integer hash of
(tensor index, element index) mapped to a multiple of 2^-23 in [-1, 1), scaled
in float32, so the C test computes bit-identical initial weights from the same
formula without any file. The tensor order, names and shapes below are the C
parameter table's. Writes the per-step losses (before each update) and the
gradient norms (before clipping) as a C header.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

B, T, C, P = 8, 20, 3, 5
NP = T // P
D, H, FF, L, K = 32, 4, 64, 2, 5
STEPS, WARMUP, LR_MAX, LR_MIN = 10, 3, 1e-2, 1e-3
BETAS, EPS, WD, CLIP = (0.9, 0.999), 1e-8, 0.05, 1.0

M32 = 0xFFFFFFFF


def uhash(e, i):
    """Same as tiny_u() in tests/test_nn.c."""
    h = (e * 0x9E3779B1 + i * 0x85EBCA77 + 0x1234567) & M32
    h ^= h >> 15
    h = (h * 0x2C1B3C6D) & M32
    h ^= h >> 12
    h = (h * 0x297A2D39) & M32
    h ^= h >> 15
    return np.float32((h >> 8) * 2.0 ** -23 - 1.0)


def tensor_values(e, name, shape):
    n = int(np.prod(shape))
    u = np.array([uhash(e, i) for i in range(n)], dtype=np.float32)
    if len(shape) == 2:
        v = u * (np.float32(1.0) / np.sqrt(np.float32(shape[1])))
    elif name.endswith("ln1.w") or name.endswith("ln2.w") or name == "ln_f.w":
        v = np.float32(1.0) + np.float32(0.1) * u
    else:
        v = np.float32(0.1) * u
    return v.astype(np.float32).reshape(shape)


def layout():
    t = [("embed.w", (D, P * C), 1), ("embed.b", (D,), 0), ("pos", (NP, D), 0)]
    for l in range(L):
        p = "enc.%d." % l
        t += [(p + "ln1.w", (D,), 0), (p + "ln1.b", (D,), 0),
              (p + "attn.wq", (D, D), 1), (p + "attn.bq", (D,), 0),
              (p + "attn.wk", (D, D), 1), (p + "attn.bk", (D,), 0),
              (p + "attn.wv", (D, D), 1), (p + "attn.bv", (D,), 0),
              (p + "attn.wo", (D, D), 1), (p + "attn.bo", (D,), 0),
              (p + "ln2.w", (D,), 0), (p + "ln2.b", (D,), 0),
              (p + "ffn.w1", (FF, D), 1), (p + "ffn.b1", (FF,), 0),
              (p + "ffn.w2", (D, FF), 1), (p + "ffn.b2", (D,), 0)]
    t += [("ln_f.w", (D,), 0), ("ln_f.b", (D,), 0), ("head.w", (K, D), 1), ("head.b", (K,), 0)]
    return t


def lr_at(step):
    if step < WARMUP:
        return LR_MAX * (step + 1) / WARMUP
    prog = min(1.0, (step - WARMUP) / (STEPS - 1 - WARMUP))
    return LR_MIN + 0.5 * (LR_MAX - LR_MIN) * (1 + math.cos(math.pi * prog))


def attention(x, p, w):
    b, t, d = x.shape
    dh = d // H
    q = F.linear(x, w[p + "attn.wq"], w[p + "attn.bq"]).view(b, t, H, dh).transpose(1, 2)
    k = F.linear(x, w[p + "attn.wk"], w[p + "attn.bk"]).view(b, t, H, dh).transpose(1, 2)
    v = F.linear(x, w[p + "attn.wv"], w[p + "attn.bv"]).view(b, t, H, dh).transpose(1, 2)
    att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), dim=-1)
    ctx = (att @ v).transpose(1, 2).reshape(b, t, d)
    return F.linear(ctx, w[p + "attn.wo"], w[p + "attn.bo"])


def forward(x, y, w):
    h = F.linear(x.reshape(B, NP, P * C), w["embed.w"], w["embed.b"]) + w["pos"]
    for l in range(L):
        p = "enc.%d." % l
        h = h + attention(F.layer_norm(h, (D,), w[p + "ln1.w"], w[p + "ln1.b"], 1e-5), p, w)
        z = F.layer_norm(h, (D,), w[p + "ln2.w"], w[p + "ln2.b"], 1e-5)
        z = F.linear(F.gelu(F.linear(z, w[p + "ffn.w1"], w[p + "ffn.b1"]), approximate="tanh"),
                     w[p + "ffn.w2"], w[p + "ffn.b2"])
        h = h + z
    h = F.layer_norm(h, (D,), w["ln_f.w"], w["ln_f.b"], 1e-5).mean(dim=1)
    return F.cross_entropy(F.linear(h, w["head.w"], w["head.b"]), y)


def main():
    torch.set_num_threads(1)
    w, decay, nodecay = {}, [], []
    for e, (name, shape, dec) in enumerate(layout()):
        w[name] = torch.tensor(tensor_values(e, name, shape), requires_grad=True)
        (decay if dec else nodecay).append(w[name])
    x = torch.tensor(np.array([uhash(1000, i) for i in range(B * T * C)],
                              dtype=np.float32).reshape(B, T, C))
    y = torch.tensor([(3 * i + 1) % K for i in range(B)], dtype=torch.long)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=LR_MAX, betas=BETAS, eps=EPS, foreach=False)
    losses, norms = [], []
    for step in range(STEPS):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        opt.zero_grad()
        loss = forward(x, y, w)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(decay + nodecay, CLIP)
        opt.step()
        losses.append(loss.item())
        norms.append(norm.item())
    print("/* tests/ref/nn_golden.h - generated by tests/ref/gen_nn_ref.py (torch %s); do not edit. */"
          % torch.__version__)
    print("#define NN_REF_STEPS %d" % STEPS)
    print("static const double nn_ref_loss[NN_REF_STEPS] = { %s };" % ", ".join("%.9g" % v for v in losses))
    print("static const double nn_ref_gnorm[NN_REF_STEPS] = { %s };" % ", ".join("%.9g" % v for v in norms))


if __name__ == "__main__":
    main()
