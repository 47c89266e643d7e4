#!/usr/bin/python3
"""Golden data for tests/test_baselines.c, computed with scikit-learn 1.2
(Debian's python3-sklearn) and numpy, independently of the C code.

    /usr/bin/python3 tests/ref/gen_baselines.py > tests/ref/baselines_golden.h

Data: overlapping Gaussian blobs, K = 4 classes of unequal sizes and
covariances in D = 5 features, float32. For each classifier the expected
probabilities of the test rows:
  lda      LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto" / 0.3 / None)
  qda      QuadraticDiscriminantAnalysis(reg_param=0.1) (every class has n_k > D,
           the case where sklearn's convention and ours coincide)
  knn      KNeighborsClassifier(5) (vote shares; no distance ties in these data)
  logreg   the minimiser of LogisticRegression(C=1, multinomial)'s objective
           (mean cross-entropy + |W|^2 / (2 C n), intercept free), solved by
           scipy's L-BFGS-B to |grad| < 1e-12; sklearn's own lbfgs stops at
           scipy's default ftol, 1e-5 away in probability, which is checked
  svm      SVC(C=1, gamma="scale", probability=True): sklearn's predict labels
           and probabilities; Platt scaling's internal folds are random, so
           the C test compares these loosely
Ridge: numpy lstsq on the augmented system [Xc; sqrt(lambda) I] W = [Yc; 0]
(a different route from the C code's normal equations). The C tests never
need Python.
"""
import numpy as np
from scipy.optimize import minimize
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.neighbors import KNeighborsClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

rng = np.random.default_rng(20241124)
K, D = 4, 5
sizes = [50, 70, 60, 60]
means = np.array([[0, 0, 0, 0, 0], [1.5, 0.5, 0, -0.5, 0], [0, 1.5, 1, 0, 0.5], [1, 1, -1, 1, -0.5]])
covs = []
for k in range(K):
    A = rng.normal(size=(D, D)) * 0.4
    covs.append(A @ A.T + np.diag(rng.uniform(0.3, 1.0, D)))


def draw(counts):
    X, y = [], []
    for k, m in enumerate(counts):
        X.append(rng.multivariate_normal(means[k], covs[k], size=m))
        y += [k] * m
    X = np.vstack(X).astype(np.float32)
    y = np.array(y, dtype=np.int32)
    p = rng.permutation(len(y))
    return X[p], y[p]


Xtr, ytr = draw(sizes)
Xte, yte = draw([20, 20, 20, 20])
A, B = Xtr.astype(np.float64), Xte.astype(np.float64)

golden = {}
for name, sh in (("lda_auto", "auto"), ("lda_03", 0.3), ("lda_none", None)):
    golden[name] = LinearDiscriminantAnalysis(solver="lsqr", shrinkage=sh).fit(A, ytr).predict_proba(B)
golden["qda"] = QuadraticDiscriminantAnalysis(reg_param=0.1).fit(A, ytr).predict_proba(B)
golden["knn"] = KNeighborsClassifier(5).fit(A, ytr).predict_proba(B)
sk_logreg = LogisticRegression(C=1.0, multi_class="multinomial", solver="lbfgs", tol=1e-10,
                               max_iter=100000).fit(A, ytr).predict_proba(B)


def logreg_objective(th, C=1.0):
    n = len(ytr)
    Y = np.eye(K)[ytr]
    W, b = th[:D * K].reshape(D, K), th[D * K:]
    Z = A @ W + b
    mx = Z.max(1, keepdims=True)
    E = np.exp(Z - mx)
    s = E.sum(1, keepdims=True)
    f = (mx[:, 0] + np.log(s[:, 0]) - (Z * Y).sum(1)).mean() + 0.5 * (W ** 2).sum() / (C * n)
    R = (E / s - Y) / n
    return f, np.concatenate([(A.T @ R + W / (C * n)).ravel(), R.sum(0)])


res = minimize(logreg_objective, np.zeros(D * K + K), jac=True, method="L-BFGS-B",
               options=dict(ftol=1e-16, gtol=1e-12, maxiter=100000))
Wl, bl = res.x[:D * K].reshape(D, K), res.x[D * K:]
Zl = B @ Wl + bl
Pl = np.exp(Zl - Zl.max(1, keepdims=True))
golden["logreg"] = Pl / Pl.sum(1, keepdims=True)
assert np.abs(golden["logreg"] - sk_logreg).max() < 1e-4, "sklearn's logistic regression disagrees"
svm_lab = {}
for kern in ("linear", "rbf"):
    s = SVC(kernel=kern, C=1.0, gamma="scale", probability=True, random_state=0).fit(A, ytr)
    golden["svm_" + kern] = s.predict_proba(B)
    svm_lab[kern] = s.predict(B)

# kNN: make sure the golden rows have no near-tie at the k-th neighbour.
d = ((B[:, None, :] - A[None, :, :]) ** 2).sum(-1)
ds = np.sort(d, axis=1)
assert (ds[:, 5] - ds[:, 4]).min() > 1e-4, "kNN golden has a near tie"

# Ridge
n_r, D_r, J_r, lam = 90, 6, 3, 2.0
Xr = rng.normal(size=(n_r, D_r)).astype(np.float32) + np.float32(3.0)
Wt = rng.normal(size=(D_r, J_r))
Yr = (Xr.astype(np.float64) @ Wt + rng.normal(size=(n_r, J_r)) * 0.3 + 5.0).astype(np.float32)
Xrt = rng.normal(size=(10, D_r)).astype(np.float32) + np.float32(3.0)
xm, ym = Xr.astype(np.float64).mean(0), Yr.astype(np.float64).mean(0)
Xc, Yc = Xr - xm, Yr - ym
Aug = np.vstack([Xc, np.sqrt(lam) * np.eye(D_r)])
Baug = np.vstack([Yc, np.zeros((D_r, J_r))])
W = np.linalg.lstsq(Aug, Baug, rcond=None)[0]
Yrt = (Xrt.astype(np.float64) - xm) @ W + ym


def num(v):
    return repr(float(v))


def arr(name, vals, ctype="float"):
    vals = np.asarray(vals).ravel()
    f = (lambda v: str(int(v))) if ctype.startswith("int") else num
    return "static const %s %s[] = { %s };" % (ctype, name, ", ".join(f(v) for v in vals))


out = ["/* tests/ref/baselines_golden.h - generated by tests/ref/gen_baselines.py; do not edit. */",
       "#ifndef MB_TESTS_REF_BASELINES_GOLDEN_H", "#define MB_TESTS_REF_BASELINES_GOLDEN_H", "#include <stdint.h>", ""]
out.append("#define G_K %d\n#define G_D %d\n#define G_NTR %d\n#define G_NTE %d" % (K, D, len(ytr), len(yte)))
out.append(arr("g_xtr", Xtr))
out.append(arr("g_ytr", ytr, "int32_t"))
out.append(arr("g_xte", Xte))
out.append(arr("g_yte", yte, "int32_t"))
for k, v in golden.items():
    out.append(arr("g_p_" + k, v, "double"))
for k, v in svm_lab.items():
    out.append(arr("g_lab_svm_" + k, v, "int32_t"))
out.append("")
out.append("#define G_RN %d\n#define G_RD %d\n#define G_RJ %d\n#define G_RLAMBDA %s\n#define G_RNT %d" % (n_r, D_r, J_r, num(lam), 10))
out.append(arr("g_rx", Xr))
out.append(arr("g_ry", Yr))
out.append(arr("g_rxt", Xrt))
out.append(arr("g_ryt", Yrt, "double"))
out.append("\n#endif")
print("\n".join(out))
