#!/usr/bin/python3
"""How much of the pose does the EMG of a unified corpus determine, and does that
carry over to gestures and subjects a map never saw? The question behind every
pose-anchored zero-shot method (cpep): it names an unseen gesture by the pose its
EMG implies, so it cannot do better than a regressor from EMG to pose would.

    scripts/pose_info.py CORPUS.h5 [--window-ms 400] [--stride-ms 200]

Reads the unified file directly (docs/FORMAT.md, h5py), cuts windows at the native
rate, and uses per-channel log-RMS and log-waveform-length as features and the joint
angles at a window's end as the target (windows inside one labelled segment, valid
pose only). Reports R^2 of a ridge and of an extra-trees regressor (a non-linear
bound) for: within each subject (time split: last third of each recording held
out), within each subject from its seen to its unseen gestures (the source's
held-out flags), from the first half of the subjects to the second, and from the
first half's seen gestures to the second half's unseen gestures (the zero-shot
setting). Then the 10-NN naming of unseen gestures by reference poses, with the
true pose (the ceiling) and with the predicted pose.

A diagnostic for docs/METHODS.md, not part of the build or of make test; needs
Debian's python3-h5py, python3-numpy and python3-sklearn.
"""
import argparse

import h5py
import numpy as np
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsClassifier


def load(path, window_ms, stride_ms):
    X, Y, subj, lab, part = [], [], [], [], []
    with h5py.File(path, "r") as f:
        if f.attrs["schema"] != "myobench-unified":
            raise SystemExit(f"{path}: not a myobench unified file")
        unseen = {int(i) for i, h in zip(f["gestures/id"][:], f["gestures/held_out"][:]) if h == 1}
        for name in f["recordings"]:
            r = f["recordings/" + name]
            if "streams/joint_angles" not in r:
                raise SystemExit(f"{path}: recording {name} has no joint_angles stream")
            ps = r["streams/joint_angles"]
            if ps.attrs["rate_hz"] != r.attrs["rate_hz"]:
                raise SystemExit(f"{path}: recording {name}: pose and EMG rates differ")
            rate = r.attrs["rate_hz"]
            W, S = int(round(window_ms * rate / 1000)), int(round(stride_ms * rate / 1000))
            emg = r["emg"][:].astype(np.float64)
            labels = r["labels"][:]
            pose = ps["data"][:]
            valid = ps["valid"][:] if "valid" in ps else np.ones(len(pose), np.uint8)
            starts = range(0, len(emg) - W + 1, S)
            for k, s0 in enumerate(starts):
                e = s0 + W
                g = labels[e - 1]
                if g < 0 or labels[s0] != g or not valid[e - 1]:
                    continue
                x = emg[s0:e]
                X.append(np.concatenate([np.log(np.sqrt((x ** 2).mean(0)) + 1e-9),
                                         np.log(np.abs(np.diff(x, axis=0)).sum(0) + 1e-9)]))
                Y.append(pose[e - 1])
                subj.append(r.attrs["subject"])
                lab.append(g)
                part.append(0 if k < 2 * len(starts) / 3 else 1)
    return (*map(np.asarray, (X, Y, subj, lab, part)), unseen)


def r2(yt, yp):
    return 1 - ((yt - yp) ** 2).sum() / ((yt - yt.mean(0)) ** 2).sum()


def name_by_pose(ref_pose, ref_lab, query_pose, query_lab):
    knn = KNeighborsClassifier(10).fit(ref_pose, ref_lab)
    return (knn.predict(query_pose) == query_lab).mean()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("--window-ms", type=float, default=400)
    ap.add_argument("--stride-ms", type=float, default=200)
    a = ap.parse_args()
    X, Y, subj, lab, part, unseen = load(a.corpus, a.window_ms, a.stride_ms)
    seen = ~np.isin(lab, sorted(unseen))
    subjects = np.unique(subj)
    A = np.isin(subj, subjects[: len(subjects) // 2])
    print(f"{a.corpus}: {len(X)} windows, {len(subjects)} subjects, {Y.shape[1]} joints, "
          f"unseen gestures {sorted(unseen)} (chance {1 / max(len(unseen), 1):.3f})")
    models = [("ridge", lambda: Ridge(alpha=1.0)),
              ("extra-trees", lambda: ExtraTreesRegressor(200, min_samples_leaf=3, n_jobs=2, random_state=0))]
    for mname, model in models:
        print(mname)
        within, w_unseen, n_true, n_pred = [], [], [], []
        for s in subjects:
            tr, te = (subj == s) & (part == 0), (subj == s) & (part == 1)
            within.append(r2(Y[te], model().fit(X[tr], Y[tr]).predict(X[te])))
            if unseen:
                m = model().fit(X[(subj == s) & seen], Y[(subj == s) & seen])
                te = (subj == s) & ~seen
                w_unseen.append(r2(Y[te], m.predict(X[te])))
                refs, q = te & (part == 0), te & (part == 1)
                n_true.append(name_by_pose(Y[refs], lab[refs], Y[q], lab[q]))
                n_pred.append(name_by_pose(Y[refs], lab[refs], m.predict(X[q]), lab[q]))
        print(f"  R2 within subject, all gestures (time split)          {np.mean(within):7.3f}")
        m = model().fit(X[A], Y[A])
        print(f"  R2 first half of the subjects -> second half          {r2(Y[~A], m.predict(X[~A])):7.3f}")
        if not unseen:
            continue
        print(f"  R2 within subject, seen -> unseen gestures            {np.mean(w_unseen):7.3f}")
        print(f"  naming unseen gestures within subject: true pose {np.mean(n_true):.3f}, predicted {np.mean(n_pred):.3f}")
        m = model().fit(X[A & seen], Y[A & seen])
        te = ~A & ~seen
        print(f"  R2 seen of first half -> unseen of second half        {r2(Y[te], m.predict(X[te])):7.3f}")
        refs = A & ~seen
        print(f"  naming them by the first half's poses: true pose {name_by_pose(Y[refs], lab[refs], Y[te], lab[te]):.3f}, "
              f"predicted {name_by_pose(Y[refs], lab[refs], m.predict(X[te]), lab[te]):.3f}")


if __name__ == "__main__":
    main()
