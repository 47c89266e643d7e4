#!/usr/bin/python3
"""Writes the seed corpus of fuzz_ninapro_mat: tiny NinaPro-like MAT v5
files made here (never copies of real data). Run with /usr/bin/python3
(numpy + scipy):  /usr/bin/python3 tests/fuzz/make_seeds_ninapro.py tests/fuzz/corpus_ninapro_mat
"""
import os
import sys

import numpy as np
import scipy.io as sio

out = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus_ninapro_mat"
os.makedirs(out, exist_ok=True)
n = 40
lab = np.array([(1 + (i // 10) // 2) if (i // 10) % 2 else 0 for i in range(n)], dtype=np.uint8).reshape(n, 1)
rep = np.array([1 if (i // 10) % 2 else 0 for i in range(n)], dtype=np.uint8).reshape(n, 1)
emg = (np.arange(n * 10).reshape(n, 10) % 7) * 0.0024
glove = (np.arange(n * 3).reshape(n, 3) % 255).astype(float)

def save(name, d, compress=True):
    sio.savemat(os.path.join(out, name), d, do_compression=compress, oned_as="column")

db1 = {"emg": emg, "stimulus": lab, "glove": glove, "subject": np.uint8(1), "exercise": np.uint8(1),
       "repetition": rep, "restimulus": lab, "rerepetition": rep}
save("db1_compressed.mat", db1)
save("db1_plain.mat", db1, compress=False)
db5 = {"emg": emg[:, :8].astype(np.float32).repeat(2, axis=1), "acc": glove.astype(np.float32),
       "stimulus": lab.astype(np.int8), "restimulus": lab.astype(np.int8), "repetition": rep.astype(np.int8),
       "rerepetition": rep.astype(np.int8), "frequency": np.uint8(200), "exercise": np.uint8(3),
       "gender": "m", "sensor": "Double Myo"}
save("db5_like.mat", db5)
save("length_mismatch.mat", {"emg": emg, "restimulus": lab[:30], "rerepetition": rep[:35]})
save("stimulus_only.mat", {"emg": emg, "stimulus": lab, "repetition": rep, "forcecal": np.ones((2, 6))})
save("nonfinite.mat", {"emg": np.where(emg > 0.01, np.nan, emg), "restimulus": lab})
