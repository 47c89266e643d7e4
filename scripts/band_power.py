#!/usr/bin/python3
"""Where the EMG power of a unified corpus lies: the share of each frequency band
in the Welch spectrum (scipy's defaults but 256-sample segments at 200 Hz, 1024
above), summed over every recording and channel, in percent.

    scripts/band_power.py CORPUS.h5 [CORPUS.h5 ...]

`myobench describe` gives the mean and median frequency; this shows which part of
the band makes them, which is what a generator's sampling chain or MUAP shape
changes (docs/SYNTH.md, "Model v2, sampling pass"). The bands are cut at the
Nyquist frequency of the first file's rate.

A diagnostic for docs/SYNTH.md, not part of the build or of make test; needs
Debian's python3-h5py, python3-numpy and python3-scipy.
"""
import sys

import h5py
import numpy as np
from scipy.signal import welch

EDGES = [0, 10, 20, 40, 60, 80, 100, 160, 200, 300, 500, 1000, 1e9]


def shares(path):
    with h5py.File(path, "r") as f:
        total, fs = None, None
        for name in f["recordings"]:
            rec = f["recordings"][name]
            rate = float(rec.attrs["rate_hz"])
            x = rec["emg"][...].astype(float)
            if x.shape[0] < x.shape[1]:
                x = x.T
            freq, p = welch(x, fs=rate, axis=0, nperseg=256 if rate <= 250 else 1024)
            p = p.sum(axis=1)
            total, fs = (p, rate) if total is None else (total + p, fs)
    return freq, total / total.sum(), fs


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    rows = [(p,) + shares(p) for p in sys.argv[1:]]
    nyq = rows[0][3] / 2
    bands = [(a, b) for a, b in zip(EDGES, EDGES[1:]) if a < nyq]
    print("| file | " + " | ".join(f"{a:g}-{min(b, nyq):g} Hz" for a, b in bands) + " |")
    print("|---|" + "---|" * len(bands))
    for path, freq, share, _ in rows:
        cells = [100 * share[(freq >= a) & (freq < b if b < nyq else freq <= nyq)].sum() for a, b in bands]
        print(f"| {path} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
