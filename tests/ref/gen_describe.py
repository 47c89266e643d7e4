#!/usr/bin/python3
"""Golden data for tests/test_describe.c (describe_matches_numpy_scipy_sklearn),
computed with numpy, scipy 1.10 and scikit-learn 1.2 (Debian's python3-scipy
and python3-sklearn), independently of the C code:

    /usr/bin/python3 tests/ref/gen_describe.py > tests/ref/describe_golden.h

The corpus: DG_S subjects, DG_C channels at 1000 Hz (device "band": channel
index distance), gestures 1..6 of which 5 and 6 are held out in the
vocabulary, 10 repetitions of 400 samples each (NinaPro-like repetition
stream, no rest), a 2-joint pose stream. Every sample comes from one integer
LCG and double arithmetic that the C test repeats operation for operation
(gen() below and dg_write() there), then float32 as stored, so both sides
describe the same bytes.

What is computed here, each with the library a user would reach for:
  rms, kurtosis   numpy sqrt(mean(x^2)); scipy.stats.kurtosis(fisher=False)
  mnf, mdf        scipy.signal.welch(fs, nperseg=256) (Hann, half overlap,
                  constant detrend, one-sided density); mean = sum f P / sum P,
                  median = first f whose cumulated P reaches half
  corr            numpy corrcoef, mean of the pairs |i - j| = d
  LDA             200 ms windows every 50 ms inside each (gesture, repetition)
                  segment, label at the window's end; TD4 (MAV, ZC, SSC, WL;
                  zero thresholds, strict tests: docs/FEATURES.md) by numpy;
                  StandardScaler fitted on training windows; sklearn
                  LinearDiscriminantAnalysis(solver='lsqr', shrinkage='auto');
                  balanced_accuracy_score. within: repetitions 2, 5, 7 test,
                  the others train (NinaPro rule); LOSO: one fold per subject
  ridge           sklearn Ridge(alpha=1) on the standardised TD4 -> the pose at
                  the window's last sample; r2_score(multioutput=
                  'variance_weighted'); within and LOSO as above; unseen: the
                  subject's gestures 1..4 train, its 5 and 6 test
"""
import math
import numpy as np
from scipy.signal import welch
from scipy.stats import kurtosis
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import Ridge
from sklearn.metrics import balanced_accuracy_score, r2_score
from sklearn.preprocessing import StandardScaler

S, C, J, G, REPS, SEG, RATE = 3, 4, 2, 6, 10, 400, 1000.0
W, STRIDE = 200, 50
POSE = [(0, 0), (1, 0), (0, 1), (1, 1), (0.5, 0), (0, 0.5), (1, 0.5)]   # by gesture id
MIX = [(1.0, 0.2), (0.1, 1.0), (0.6, 0.6), (0.3, 0.9)]
FREQ = [60.0, 100.0, 140.0, 180.0]


def gen(s):
    """EMG [T x C], labels, reps, pose [T x J] of subject s (float32)."""
    st = [12345 + 1000 * s]

    def u():
        st[0] = (st[0] * 1664525 + 1013904223) % 4294967296
        return (st[0] >> 8) / 16777216.0

    T = REPS * G * SEG
    x = np.zeros((T, C), np.float32)
    p = np.zeros((T, J), np.float32)
    lab = np.zeros(T, np.int32)
    rep = np.zeros(T, np.int32)
    n = 0
    for k in range(1, REPS + 1):
        for g in range(1, G + 1):
            inten = 0.6 + 0.8 * u()
            for t in range(SEG):
                common = u() + u() + u() + u() - 2.0
                for ch in range(C):
                    amp = 0.2 + inten * (0.5 + MIX[ch][0] * POSE[g][0] + MIX[ch][1] * POSE[g][1])
                    amp = amp * (1.0 + 0.25 * s * ((ch + g) % 3))
                    noise = u() + u() + u() + u() - 2.0
                    tone = math.sin(2.0 * math.pi * FREQ[ch] * n / RATE)
                    x[n, ch] = np.float32(amp * (noise + 0.5 * common + 0.5 * tone))
                for j in range(J):
                    p[n, j] = np.float32(inten * POSE[g][j] + 0.05 * (u() + u() + u() + u() - 2.0))
                lab[n] = g
                rep[n] = k
                n += 1
    return x, lab, rep, p


def td4(w):
    """MAV, ZC, SSC, WL of each channel of a window [N x C] (float64)."""
    d = np.diff(w, axis=0)
    mav = np.mean(np.abs(w), axis=0)
    zc = np.sum((w[:-1] * w[1:] < 0), axis=0)
    ssc = np.sum((w[1:-1] - w[:-2]) * (w[1:-1] - w[2:]) > 0, axis=0)
    wl = np.sum(np.abs(d), axis=0)
    return np.concatenate([mav, zc, ssc, wl])


subjects = [gen(s) for s in range(S)]
# windows: every segment is SEG samples long and starts at a multiple of STRIDE
F, Y, P, R, SUBJ = [], [], [], [], []
for s, (x, lab, rep, p) in enumerate(subjects):
    xd = x.astype(np.float64)
    for a in range(0, len(lab) - W + 1, STRIDE):
        b = a + W
        if lab[a] != lab[b - 1] or rep[a] != rep[b - 1]:
            continue
        F.append(td4(xd[a:b]))
        Y.append(lab[b - 1])
        R.append(rep[b - 1])
        P.append(p[b - 1].astype(np.float64))
        SUBJ.append(s)
F, Y, P, R, SUBJ = map(np.array, (F, Y, P, R, SUBJ))

margin = [np.inf]


def lda_bacc(tr, te):
    sc = StandardScaler().fit(F[tr])
    m = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(sc.transform(F[tr]), Y[tr])
    dec = np.sort(m.decision_function(sc.transform(F[te])), axis=1)
    margin[0] = min(margin[0], float(np.min(dec[:, -1] - dec[:, -2])))
    return balanced_accuracy_score(Y[te], m.predict(sc.transform(F[te])))


def ridge_r2(tr, te):
    sc = StandardScaler().fit(F[tr])
    m = Ridge(alpha=1.0).fit(sc.transform(F[tr]), P[tr])
    return r2_score(P[te], m.predict(sc.transform(F[te])), multioutput="variance_weighted")


out = {k: [] for k in ("rms", "kurt", "mnf", "mdf", "corr", "within", "loso", "r2w", "r2l", "r2u")}
for s, (x, lab, rep, p) in enumerate(subjects):
    xd = x.astype(np.float64)
    out["rms"].append(np.sqrt(np.mean(xd ** 2, axis=0)))
    out["kurt"].append(kurtosis(xd, axis=0, fisher=False, bias=True))
    f, Pxx = welch(xd, fs=RATE, nperseg=256, axis=0)
    mnf = (f[:, None] * Pxx).sum(0) / Pxx.sum(0)
    cum = np.cumsum(Pxx, axis=0)
    mdf = np.array([f[np.argmax(cum[:, c] >= 0.5 * cum[-1, c])] for c in range(C)])
    out["mnf"].append(mnf)
    out["mdf"].append(mdf)
    r = np.corrcoef(xd.T)
    out["corr"].append([np.mean([r[i, i + d] for i in range(C - d)]) for d in range(1, C)])
    mine = SUBJ == s
    test_rep = np.isin(R, (2, 5, 7))
    out["within"].append(lda_bacc(mine & ~test_rep, mine & test_rep))
    out["loso"].append(lda_bacc(~mine, mine))
    out["r2w"].append(ridge_r2(mine & ~test_rep, mine & test_rep))
    out["r2l"].append(ridge_r2(~mine, mine))
    unseen = np.isin(Y, (5, 6))
    out["r2u"].append(ridge_r2(mine & ~unseen, mine & unseen))


def arr(name, v):
    v = np.atleast_1d(np.asarray(v, np.float64))
    shape = "".join(f"[{n}]" for n in v.shape)
    if v.ndim == 1:
        body = ", ".join(repr(float(a)) for a in v)
    else:
        body = ",\n    ".join("{ " + ", ".join(repr(float(a)) for a in row) + " }" for row in v)
    return f"static const double dg_{name}{shape} = {{\n    {body}\n}};"


print("/* generated by tests/ref/gen_describe.py (numpy %s, sklearn 1.2): do not edit */" % np.__version__)
print(f"/* smallest gap between the two best LDA decision values over every test window: {margin[0]:.3g}")
print(" * (float32 features on the C side move decision values by about 1e-5 of their size) */")
print(f"#define DG_S {S}\n#define DG_C {C}\n#define DG_J {J}\n#define DG_G {G}\n#define DG_REPS {REPS}\n#define DG_SEG {SEG}")
for k, v in out.items():
    print(arr(k, v))
