/* baselines/classifier.h - the classical classifiers every EMG paper
 * compares against, behind one interface: fit on labelled feature rows,
 * predict class probabilities, free. docs/BASELINES.md documents each
 * model, its parameters and defaults.
 *
 *     const struct base_classifier *k = base_classifier_find("lda");
 *     struct base_model *m;
 *     if (k->fit(&m, X, y, n, D, K, "shrinkage=auto", seed)) ...   // X [n x D], y [n] in [0, K)
 *     k->predict_proba(P, m, Xt, nt);                             // P [nt x K]
 *     k->free(m);
 *
 * Rules every classifier keeps:
 *  - deterministic for (inputs, params, seed), whatever the OpenMP or BLAS
 *    thread count the caller runs with (the harness pins BLAS to one thread
 *    per job; a classifier never starts threads of its own);
 *  - a class with no training row gets probability 0 (never NaN);
 *  - params is "key=value,key=value" (NULL or "" = defaults); an unknown
 *    key or a bad value is MB_EINVAL with a message naming the key;
 *  - fit copies what it needs: X and y may be freed after fit returns.
 */
#ifndef MB_BASELINES_CLASSIFIER_H
#define MB_BASELINES_CLASSIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct base_model;            /* a fitted classifier, private to its file */

struct base_classifier {
    const char *name;         /* "lda", "qda", "knn", "logreg", "svm-linear", "svm-rbf" */
    const char *summary;      /* one line for `myobench methods` */
    const char *defaults;     /* default params, e.g. "shrinkage=auto" */
    /* Parses params as fit would, without data: MB_EINVAL naming the key. */
    int  (*check_params)(const char *params) MB_MUST_CHECK;
    int  (*fit)(struct base_model **out, const float *X, const int32_t *y, size_t n, size_t D,
                size_t K, const char *params, uint64_t seed) MB_MUST_CHECK;
    int  (*predict_proba)(float *P, const struct base_model *m, const float *X, size_t n) MB_MUST_CHECK;
    void (*free)(struct base_model *m);
};

extern const struct base_classifier *const base_classifiers[];   /* NULL-terminated */
const struct base_classifier *base_classifier_find(const char *name);   /* NULL if unknown */

/* Per-column standardisation fitted on training rows only:
 * mean [D], inverse std [D] (1 for a constant column). */
struct base_scaler {
    size_t D;
    double *mean;             /* [D] */
    double *inv_std;          /* [D] */
};
int  base_scaler_fit(struct base_scaler *s, const float *X, size_t n, size_t D) MB_MUST_CHECK;
void base_scaler_apply(float *Y, const struct base_scaler *s, const float *X, size_t n);   /* Y may be X */
void base_scaler_free(struct base_scaler *s);

#endif
