#!/usr/bin/python3
"""Golden job key of tests/test_harness.c (job_key_is_stable_and_covers_every_field):
the SHA-256 of the canonical job text of harness/run.c for the record key_rec, at
software version 0.1.0 with the made-up source hash 5ca1ab1e. Run: /usr/bin/python3 tests/ref/gen_harness_key.py"""
import hashlib

text = ("myobench-job/1\n"
        "corpus c0ffee\n"
        "protocol fake-loso\n"
        "settings folds=0,official=0,shots=0,percent=0,episodes=0,unseen_fraction=0\n"
        "fold fake-loso/s01\n"
        "manifest abc123\n"
        "method fake-centroid\n"
        "params sleep_ms=0\n"
        "seed 1\n"
        "view rate_hz=200,window_ms=20,stride_ms=10,majority=0\n"
        "version 0.1.0\n"
        "source 5ca1ab1e\n")
print(hashlib.sha256(text.encode()).hexdigest())
