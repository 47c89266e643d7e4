#!/usr/bin/python3
"""Golden feature values for tests/test_features.c, computed with numpy
(Debian's python3-numpy) from the definitions in docs/FEATURES.md (the
wavelet features with PyWavelets' own wavedec, Debian's python3-pywt, and
scipy.stats.entropy), written
independently of the C code (other algorithms where one exists: L-scale from
pairwise differences, cepstrum from the FFT of log|1/A|, phasors as complex
numbers, entropies by broadcasting).

    /usr/bin/python3 tests/ref/gen_features.py > tests/ref/features_golden.h

The header holds a fixed pseudo-random float32 signal of three channels
(amplitude-modulated noise; noise on a DC offset; Myo-like integer counts
with exact zeros and flat runs), the windowing and parameters, and every
feature's expected values per window in the extractor's column layout
(channel by channel, each channel's outputs together). The C tests never
need Python.
"""
import math
import warnings

import numpy as np
import pywt
import scipy
import scipy.stats

T, C, FS, W, S = 700, 3, 1000.0, 200, 150
ZC_THR, SSC_THR, WAMP_THR = 0.05, 0.05, 0.1     # signal units (KERN_THR_SIGNAL)
AR_ORDER = CC_ORDER = 4
MAVSLP_SEG, TM_ORDER = 3, 3
SAMPEN_DIM, SAMPEN_TOL = 2, 0.3
FUZZY_DIM, FUZZY_TOL, FUZZY_N = 2, 0.3, 2
EPS = np.spacing(1.0)
WAV_LEVEL = math.floor(np.log(FS / 2) / np.log(2) - 1)   # LibEMG's rule: 7 at 1000 Hz
SYM8 = pywt.Wavelet("sym8")
# the C code states dec_hi as the quadrature mirror of dec_lo: check it is pywt's
assert np.array_equal(np.array(SYM8.dec_hi),
                      np.array([(-1) ** (k + 1) * SYM8.dec_lo[15 - k] for k in range(16)]))

rng = np.random.default_rng(4242)
t = np.arange(T)
x = np.empty((T, C))
x[:, 0] = rng.standard_normal(T) * (0.3 + np.abs(np.sin(2 * np.pi * t / 400.0)))
x[:, 1] = 3.0 + 0.5 * rng.standard_normal(T)
x[:, 2] = np.clip(np.round(4.0 * rng.standard_normal(T)), -127, 127)
x = x.astype(np.float32)
starts = list(range(0, T - W + 1, S))


def nextpow2(n):
    p = 1
    while p < n:
        p *= 2
    return p


def power(v):
    nfft = nextpow2(len(v))
    spec = np.fft.fft(v, nfft) / len(v)
    K = nfft // 2
    P = np.abs(spec[:K]) ** 2
    f = np.arange(K) * FS / nfft
    return P, f


def burg(v, p):
    f = v.copy()
    b = v.copy()
    a = np.array([1.0])
    N = len(v)
    for k in range(p):
        ff = f[k + 1:].copy()
        bb = b[:N - k - 1].copy()
        mu = -2.0 * np.dot(ff, bb) / (np.dot(ff, ff) + np.dot(bb, bb))
        a = np.concatenate([a, [0.0]])
        a = a + mu * a[::-1]
        f[k + 1:] = ff + mu * bb
        b[:N - k - 1] = bb + mu * ff
    return a


def cepstrum(a, p):
    n = 1 << 14
    A = np.fft.fft(a, n)
    creal = np.fft.ifft(-np.log(np.abs(A))).real
    return 2.0 * creal[1:p + 1]


def tdpsd(v, which):
    def closure(w):
        N = len(w)
        d1 = np.diff(w)
        d2 = np.diff(d1)
        m0 = (np.sqrt(np.sum(w ** 2)) / (N - 1)) ** 0.1 / 0.1
        m2 = np.sqrt(np.sum(d1 ** 2) / (N - 1)) ** 0.1 / 0.1
        m4 = np.sqrt(np.sum(d2 ** 2) / (N - 1)) ** 0.1 / 0.1
        return {
            "M0": np.log(abs(m0)),
            "M2": np.log(abs(m0 - m2)),
            "M4": np.log(abs(m0 - m4)),
            "SPARSI": np.log(abs(np.sqrt(abs((m0 - m2) * (m0 - m4))) / m0)),
            "IRF": np.log(abs(m2 / np.sqrt(m0 * m4))),
            "WLF": np.log(abs(np.sqrt(np.sum(np.abs(d1)) / np.sum(np.abs(d2))))),
        }[which]
    ebp = closure(v)
    efp = closure(np.log(v ** 2 + EPS))
    return -2 * efp * ebp / (efp ** 2 + ebp ** 2)


def sampen(v):
    N, m = len(v), SAMPEN_DIM
    r = SAMPEN_TOL * np.std(v)
    M = N - m
    X = np.stack([v[q:q + M] for q in range(m + 1)], axis=1)   # [M x m+1]
    Dm = np.max(np.abs(X[:, None, :m] - X[None, :, :m]), axis=2)
    Dm1 = np.max(np.abs(X[:, None, :] - X[None, :, :]), axis=2)
    off = ~np.eye(M, dtype=bool)
    P = M * (M - 1)
    B = np.sum((Dm <= r) & off) / P
    A = np.sum((Dm1 <= r) & off) / P
    return np.log(B + EPS) - np.log(A + EPS)


def fuzzyen(v):
    N, m = len(v), FUZZY_DIM
    r = FUZZY_TOL * np.std(v)
    M = N - m

    def phi(L):
        X = np.stack([v[q:q + M] for q in range(L)], axis=1)
        X = X - X.mean(axis=1, keepdims=True)
        D = np.max(np.abs(X[:, None, :] - X[None, :, :]), axis=2)
        S_ = np.exp(-(D / r) ** FUZZY_N)
        off = ~np.eye(M, dtype=bool)
        return S_[off].mean()
    return np.log(phi(m)) - np.log(phi(m + 1))


def wavelet(v):
    """LibEMG's MSWT features per band of pywt.wavedec (mode 'symmetric');
    pywt warns that level 7 is too deep for 200 samples and computes anyway,
    as LibEMG (which silences the warning) and the C code do."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bands = pywt.wavedec(v, "sym8", mode="symmetric", level=WAV_LEVEL)
    e = [c ** 2 for c in bands]
    return {
        "WENG": [np.log(np.sum(q) + 1e-10) for q in e],
        "WV": [np.log(np.var(q) + 1e-10) for q in e],
        "WWL": [np.log(np.sum(np.abs(np.diff(q))) + 1e-10) for q in e],
        # scipy normalises and takes 0 ln 0 = 0 (LibEMG's code gives NaN there)
        "WENT": [scipy.stats.entropy(q) for q in e],
    }


def per_channel(v):
    N = len(v)
    d = np.diff(v)
    d2 = np.diff(d)
    P, f = power(v)
    a_ar = burg(v, AR_ORDER)
    cum = np.cumsum(P)
    srt = np.sort(v)
    pair = np.abs(v[:, None] - v[None, :])
    bands = [(20, 92), (92, 163), (163, 235), (235, 305), (305, 378), (378, 450)]
    bands = [b for b in bands if b[1] < FS / 2]
    segs = [(j * N // MAVSLP_SEG, (j + 1) * N // MAVSLP_SEG) for j in range(MAVSLP_SEG)]
    mavs = [np.mean(np.abs(v[a:b])) for a, b in segs]
    m0h, m2h, m4h = np.mean(v ** 2), np.sum(d ** 2) / N, np.sum(d2 ** 2) / N
    pos, neg = v[v >= 0], v[v < 0]
    F = {
        "MAV": np.mean(np.abs(v)),
        "MEAN": np.mean(v),
        "RMS": np.sqrt(np.mean(v ** 2)),
        "IAV": np.sum(np.abs(v)),
        "ISD": np.sum(v ** 2),
        "VAR": np.var(v),
        "WL": np.sum(np.abs(d)),
        "DASDV": np.sqrt(np.mean(d ** 2)),
        "MAVFD": np.mean(np.abs(d)),
        "MAVSD": np.mean(np.abs(v[2:] - v[:-2])),
        "ZC": np.sum((v[:-1] * v[1:] < 0) & (np.abs(d) >= ZC_THR)),
        "SSC": np.sum((v[1:-1] - v[:-2]) * (v[1:-1] - v[2:]) > SSC_THR ** 2),
        "WAMP": np.sum(np.abs(d) > WAMP_THR),
        "LOG": 0.0 if np.any(v == 0) else np.exp(np.mean(np.log(np.abs(v)))),
        "LD": np.exp(np.mean(np.log(np.abs(v) + 1))),
        "MSR": np.abs(np.sum(np.sqrt(pos)) + 1j * np.sum(np.sqrt(-neg))) / N,
        "TM": abs(np.mean(v ** TM_ORDER)),
        "MPK": np.max(v),
        "SKEW": np.mean((v - v.mean()) ** 3) / np.var(v) ** 1.5,
        "KURT": np.mean((v - v.mean()) ** 4) / np.var(v) ** 2 - 3,
        "ACT": m0h,
        "MOB": np.sqrt(m2h / m0h),
        "COMP": np.sqrt(np.sum(d2 ** 2) / np.sum(d ** 2)) / np.sqrt(np.sum(d ** 2) / np.sum(v ** 2)),
        "AR": list(a_ar[1:]),
        "CC": list(cepstrum(burg(v, CC_ORDER), CC_ORDER)),
        "MAVSLP": [mavs[j + 1] - mavs[j] for j in range(MAVSLP_SEG - 1)],
        "LS": np.sum(np.triu(pair, 1)) / (N * (N - 1)),
        "MFL": np.log10(np.sqrt(np.sum(d ** 2))),
        "PAP": np.sqrt(np.sum(v ** 2)) / (np.sqrt(np.sum(d2 ** 2)) / np.sqrt(np.sum(d ** 2))),
        "M0": tdpsd(v, "M0"), "M2": tdpsd(v, "M2"), "M4": tdpsd(v, "M4"),
        "SPARSI": tdpsd(v, "SPARSI"), "IRF": tdpsd(v, "IRF"), "WLF": tdpsd(v, "WLF"),
        "SAMPEN": sampen(v),
        "FUZZYEN": fuzzyen(v),
        "COR": (np.sum(d ** 2) / N) / ((np.sum(d2 ** 2) / N) * np.sum(v ** 2)),
        "MDIFF": np.sum(d ** 2) / N,
        "MLK": np.log(np.sum(np.abs(v)) + EPS) / N,
        "MNF": np.sum(P * f) / np.sum(P),
        "MDF": f[np.argmax(cum > cum[-1] / 2)],
        "MNP": np.mean(P),
        "TTP": np.sum(P),
        "PKF": f[np.argmax(P)],
        "SM0": np.sum(P),
        "SM1": np.sum(P * f),
        "SM2": np.sum(P * f ** 2),
        "DFTR": [np.mean(np.sqrt(P[(f > lo) & (f < hi)])) ** (2.0 / 3.0) for lo, hi in bands],
    }
    F.update(wavelet(v))
    return F


def phasors(win, wl):
    Cn = win.shape[1]
    if wl:
        amp = np.sum(np.abs(np.diff(win, axis=0)), axis=0)
        de = np.sum(np.abs(np.diff(win, n=2, axis=0)), axis=0)
    else:
        amp = np.sqrt(np.mean(win ** 2, axis=0))
        de = np.sqrt(np.mean(np.diff(win, axis=0) ** 2, axis=0))
    ang = np.exp(1j * 2 * np.pi * np.arange(Cn) / Cn)
    za, zd = amp * ang, de * ang
    D, R = [], []
    for i in range(Cn):
        for j in range(i + 1, Cn):
            D.append(np.log(abs(za[i] - za[j])))
            R.append(np.log(abs(za[i] - za[j]) / abs(zd[i] - zd[j])))
    return D + R


names = None
values = {}
for s in starts:
    win = x[s:s + W].astype(np.float64)
    chans = [per_channel(win[:, c]) for c in range(C)]
    if names is None:
        names = list(chans[0].keys()) + ["RMSPHASOR", "WLPHASOR"]
        for n in names:
            values[n] = []
    for n in names:
        if n == "RMSPHASOR":
            values[n].extend(phasors(win, False))
        elif n == "WLPHASOR":
            values[n].extend(phasors(win, True))
        else:
            for c in range(C):
                v = chans[c][n]
                values[n].extend(v if isinstance(v, list) else [v])

out = []
out.append("/* tests/ref/features_golden.h - generated by tests/ref/gen_features.py (numpy %s, scipy %s, "
           "pywt %s); do not edit. */" % (np.__version__, scipy.__version__, pywt.__version__))
out.append("#define FX_T %d" % T)
out.append("#define FX_C %d" % C)
out.append("#define FX_FS %.17g" % FS)
out.append("#define FX_W %d" % W)
out.append("#define FX_S %d" % S)
out.append("#define FX_NWIN %d" % len(starts))
out.append("#define FX_ZC_THR %.17g" % ZC_THR)
out.append("#define FX_SSC_THR %.17g" % SSC_THR)
out.append("#define FX_WAMP_THR %.17g" % WAMP_THR)
out.append("#define FX_AR_ORDER %d" % AR_ORDER)
out.append("#define FX_CC_ORDER %d" % CC_ORDER)
out.append("#define FX_MAVSLP_SEG %d" % MAVSLP_SEG)
out.append("#define FX_TM_ORDER %d" % TM_ORDER)
out.append("#define FX_WAV_LEVEL %d" % WAV_LEVEL)
out.append("static const double fx_sym8_lo[16] = { %s };" % ", ".join("%.17g" % q for q in SYM8.dec_lo))
out.append("static const double fx_sym8_hi[16] = { %s };" % ", ".join("%.17g" % q for q in SYM8.dec_hi))
out.append("static const float fx_x[FX_T * FX_C] = { %s };"
           % ", ".join("%.9g" % float(v) for v in x.ravel()))
out.append("struct fx_golden { const char *name; size_t n; const double *v; };")
rows = []
for i, n in enumerate(names):
    v = values[n]
    out.append("static const double fx_v%d[%d] = { %s };" % (i, len(v), ", ".join("%.17g" % float(q) for q in v)))
    rows.append('    { "%s", %d, fx_v%d },' % (n, len(v), i))
out.append("static const struct fx_golden fx_golden[] = {")
out.extend(rows)
out.append("    { NULL, 0, NULL },")
out.append("};")
print("\n".join(out))
