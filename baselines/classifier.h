/* baselines/classifier.h - the classical classifiers every EMG paper
 * compares against, behind one interface: fit on labelled feature rows,
 * predict class probabilities, free. docs/BASELINES.md documents each
 * model, its parameters and defaults.
 *
 *     const struct base_classifier *k = &base_lda;   // or base_classifier_find("lda")
 *     struct base_model *m;
 *     if (base_fit_text(&m, k, X, y, n, D, K, "shrinkage=0.2", seed)) ...   // X [n x D], y [n] in [0, K)
 *     k->predict_proba(P, m, Xt, nt);                             // P [nt x K]
 *     k->free(m);
 *
 * Rules every classifier keeps:
 *  - deterministic for (inputs, params, seed), whatever the OpenMP or BLAS
 *    thread count the caller runs with (the harness pins BLAS to one thread
 *    per job; a classifier never starts threads of its own);
 *  - a class with no training row gets probability 0 (never NaN);
 *  - parameters are declared in a typed table (core/params.h) over the
 *    classifier's own struct; fit takes the parsed struct, so text is
 *    parsed (and an unknown key or bad value refused, naming it) once;
 *  - fit copies what it needs: X and y may be freed after fit returns.
 */
#ifndef MB_BASELINES_CLASSIFIER_H
#define MB_BASELINES_CLASSIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/params.h"

struct base_model;            /* a fitted classifier, private to its file */

struct base_classifier {
    const char *name;         /* "lda", "qda", "knn", "logreg", "svm-linear", "svm-rbf" */
    const char *summary;      /* one line for `myobench methods` */
    const struct mb_param *params;   /* typed parameter table over the classifier's own struct */
    size_t hp_size;                  /* sizeof that struct */
    /* hp: parsed by mb_params_parse over 'params' */
    int  (*fit)(struct base_model **out, const float *X, const int32_t *y, size_t n, size_t D,
                size_t K, const void *hp, uint64_t seed) MB_MUST_CHECK;
    int  (*predict_proba)(float *P, const struct base_model *m, const float *X, size_t n) MB_MUST_CHECK;
    void (*free)(struct base_model *m);
};

/* Each classifier's parameters: its struct and its table (docs/BASELINES.md). */
struct base_lda_hp { double shrinkage; };            /* NAN = auto (Ledoit-Wolf) */
struct base_qda_hp { double reg; };
struct base_knn_hp { long k; };
struct base_logreg_hp { double C; long max_iter; double tol; };
struct base_svm_hp { double C, gamma, tol, cache; }; /* gamma: RBF only (NAN = scale) */
extern const struct mb_param base_lda_params[], base_qda_params[], base_knn_params[], base_logreg_params[],
    base_svm_linear_params[], base_svm_rbf_params[];

/* The registry: one line per classifier (baselines/<name>.c defines
 * base_<name>), in listing order. Code that needs one refers to it by its
 * symbol (&base_logreg), so a misspelt classifier is a link error. */
#define BASE_CLASSIFIERS(X) X(lda) X(qda) X(knn) X(logreg) X(svm_linear) X(svm_rbf)
#define BASE_X_EXTERN(n) extern const struct base_classifier base_##n;
BASE_CLASSIFIERS(BASE_X_EXTERN)
#undef BASE_X_EXTERN

extern const struct base_classifier *const base_classifiers[];   /* NULL-terminated */
const struct base_classifier *base_classifier_find(const char *name);   /* NULL if unknown */

/* Parses the parameter text (NULL or "" = defaults) and fits: for callers
 * that hold text, not a parsed struct (the probe's C, a method's head). */
int base_fit_text(struct base_model **out, const struct base_classifier *k, const float *X, const int32_t *y,
                  size_t n, size_t D, size_t K, const char *params, uint64_t seed) MB_MUST_CHECK;

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
