/* tests/test_baselines.c - the classical classifiers (baselines/classifier.h),
 * ridge and pose prototypes (baselines/ridge.h) and the params parser,
 * against the scikit-learn / numpy golden values of
 * tests/ref/gen_baselines.py, plus properties golden values cannot show:
 * separable data, absent classes, bad parameters, seeds, thread counts. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "baselines/classifier.h"
#include "baselines/ridge.h"
#include "core/err.h"
#include "core/rng.h"
#include "tests/ref/baselines_golden.h"

#define NELEM(a) (sizeof (a) / sizeof (a)[0])

static const struct base_classifier *need(const char *name)
{
    const struct base_classifier *c = base_classifier_find(name);
    cr_assert_not_null(c, "classifier '%s' not registered", name);
    return c;
}

/* Fits 'name' and predicts nt rows; returns P [nt x K] (malloc'ed). */
static float *fit_predict(const char *name, const char *params, const float *X, const int32_t *y, size_t n,
                          size_t D, size_t K, const float *Xt, size_t nt, uint64_t seed)
{
    const struct base_classifier *c = need(name);
    struct base_model *m = NULL;
    int err = base_fit_text(&m, c, X, y, n, D, K, params, seed);
    cr_assert_eq(err, MB_OK, "%s fit: %s", name, mb_last_error());
    float *P = malloc(nt * K * sizeof *P);
    cr_assert_not_null(P);
    err = c->predict_proba(P, m, Xt, nt);
    cr_assert_eq(err, MB_OK, "%s predict: %s", name, mb_last_error());
    c->free(m);
    return P;
}

static void rows_sum_to_one(const float *P, size_t n, size_t K, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t k = 0; k < K; k++) {
            cr_assert(P[i * K + k] >= 0 && P[i * K + k] <= 1.0f + 1e-6f, "%s: P[%zu][%zu] = %g", what, i, k,
                      (double)P[i * K + k]);
            s += P[i * K + k];
        }
        cr_assert(fabs(s - 1) < 1e-5, "%s: row %zu sums to %.9g", what, i, s);
    }
}

static size_t argmax(const float *p, size_t K)
{
    size_t a = 0;
    for (size_t k = 1; k < K; k++) if (p[k] > p[a]) a = k;
    return a;
}

/* Well-separated isotropic blobs: class means 8 apart on a diagonal. */
static void blobs(float *X, int32_t *y, size_t n, size_t D, size_t K, uint64_t stream)
{
    struct mb_rng r;
    mb_rng_seed(&r, 99, stream);
    for (size_t i = 0; i < n; i++) {
        y[i] = (int32_t)(i % K);
        for (size_t j = 0; j < D; j++)
            X[i * D + j] = (float)(mb_rng_normal(&r) + 8.0 * (double)((size_t)y[i] == j % K));
    }
}

static const char *const all_names[] = { "lda", "qda", "knn", "logreg", "svm-linear", "svm-rbf" };

/* ---- registry ----------------------------------------------------------------- */

Test(baselines, registry_lists_every_classifier_once_with_all_fields)
{
    size_t n = 0;
    for (const struct base_classifier *const *c = base_classifiers; *c; c++, n++) {
        cr_assert((*c)->name && (*c)->summary && (*c)->params && (*c)->hp_size && (*c)->fit && (*c)->predict_proba &&
                  (*c)->free, "entry %zu incomplete", n);
        for (const struct base_classifier *const *d = base_classifiers; d != c; d++)
            cr_assert_str_neq((*c)->name, (*d)->name, "name '%s' twice", (*c)->name);
        cr_assert_eq(base_classifier_find((*c)->name), *c);
    }
    cr_assert_eq(n, NELEM(all_names));
    for (size_t i = 0; i < NELEM(all_names); i++) need(all_names[i]);
    cr_assert_null(base_classifier_find("nope"));
    cr_assert_null(base_classifier_find(NULL));
}

/* The canonical text of the defaults reads back to the defaults. */
Test(baselines, defaults_text_is_accepted_by_each_fit)
{
    for (size_t i = 0; i < NELEM(all_names); i++) {
        const struct base_classifier *c = need(all_names[i]);
        double hp[32];   /* any parameter struct fits, aligned */
        char text[512];
        cr_assert_leq(c->hp_size, sizeof hp);
        mb_params_defaults(hp, c->params);
        mb_params_text(text, sizeof text, c->params, hp);
        float *P = fit_predict(c->name, text, g_xtr, g_ytr, G_NTR, G_D, G_K, g_xte, 3, 1);
        rows_sum_to_one(P, 3, G_K, c->name);
        free(P);
    }
}

/* ---- separable data ----------------------------------------------------------- */

Test(baselines, every_classifier_is_near_perfect_on_separable_blobs, .timeout = 60)
{
    enum { N = 300, NT = 200, D = 4, K = 3 };
    static float X[N * D], Xt[NT * D];
    static int32_t y[N], yt[NT];
    blobs(X, y, N, D, K, 1);
    blobs(Xt, yt, NT, D, K, 2);
    for (size_t c = 0; c < NELEM(all_names); c++) {
        float *P = fit_predict(all_names[c], NULL, X, y, N, D, K, Xt, NT, 3);
        rows_sum_to_one(P, NT, K, all_names[c]);
        size_t ok = 0;
        for (size_t i = 0; i < NT; i++) ok += argmax(P + i * K, K) == (size_t)yt[i];
        cr_assert(ok >= NT * 99 / 100, "%s: accuracy %zu / %d on separable blobs", all_names[c], ok, NT);
        free(P);
    }
}

/* ---- golden values (scikit-learn) ------------------------------------------------ */

static void match_golden(const char *name, const char *params, const double *want, double tol)
{
    float *P = fit_predict(name, params, g_xtr, g_ytr, G_NTR, G_D, G_K, g_xte, G_NTE, 0);
    rows_sum_to_one(P, G_NTE, G_K, name);
    double worst = 0;
    size_t at = 0;
    for (size_t t = 0; t < G_NTE * G_K; t++) {
        double e = fabs(P[t] - want[t]);
        if (e > worst) { worst = e; at = t; }
    }
    cr_log_info("%s (%s): max |P - golden| = %.3g", name, params ? params : "defaults", worst);
    cr_assert(worst <= tol, "%s (%s): P[%zu][%zu] = %.9g, golden %.9g (tol %g)", name, params, at / G_K,
              at % G_K, (double)P[at], want[at], tol);
    free(P);
}

Test(baselines, lda_matches_sklearn_lsqr_with_ledoit_wolf_fixed_and_no_shrinkage)
{
    match_golden("lda", NULL, g_p_lda_auto, 1e-5);
    match_golden("lda", "shrinkage=auto", g_p_lda_auto, 1e-5);
    match_golden("lda", "shrinkage=0.3", g_p_lda_03, 1e-5);
    match_golden("lda", "shrinkage=0", g_p_lda_none, 1e-5);
}

Test(baselines, qda_matches_sklearn_reg_param)
{
    match_golden("qda", "reg=0.1", g_p_qda, 1e-5);
}

Test(baselines, knn_matches_sklearn_vote_shares)
{
    match_golden("knn", "k=5", g_p_knn, 1e-6);
}

Test(baselines, logreg_matches_sklearn_multinomial_lbfgs)
{
    match_golden("logreg", "C=1,tol=1e-9", g_p_logreg, 1e-6);
    match_golden("logreg", NULL, g_p_logreg, 1e-4);
}

/* Platt scaling draws random folds (libsvm's rand() here, sklearn's own
 * generator there), so probabilities agree only roughly; the labels of the
 * pairwise-vote decision and of the highest probability agree on nearly all
 * rows. */
static void svm_close(const char *name, const double *want, const int32_t *lab)
{
    float *P = fit_predict(name, NULL, g_xtr, g_ytr, G_NTR, G_D, G_K, g_xte, G_NTE, 0);
    rows_sum_to_one(P, G_NTE, G_K, name);
    double mad = 0;
    size_t agree = 0, agree_p = 0;
    for (size_t i = 0; i < G_NTE; i++) {
        size_t a = argmax(P + i * G_K, G_K);
        agree += a == (size_t)lab[i];
        double best = -1;
        size_t b = 0;
        for (size_t k = 0; k < G_K; k++) {
            mad += fabs(P[i * G_K + k] - want[i * G_K + k]);
            if (want[i * G_K + k] > best) { best = want[i * G_K + k]; b = k; }
        }
        agree_p += a == b;
    }
    mad /= G_NTE * G_K;
    cr_log_info("%s: %zu/%d labels as sklearn's predict, %zu/%d as its probabilities, mean |dP| %.3g", name,
                agree, G_NTE, agree_p, G_NTE, mad);
    cr_assert(agree >= G_NTE * 9 / 10, "%s: only %zu of %d labels as sklearn", name, agree, G_NTE);
    cr_assert(agree_p >= G_NTE * 9 / 10, "%s: only %zu of %d argmax as sklearn's", name, agree_p, G_NTE);
    cr_assert(mad < 0.03, "%s: mean |P - sklearn| = %.3g", name, mad);
    free(P);
}

Test(baselines, svm_linear_and_rbf_agree_with_sklearn_svc, .timeout = 60)
{
    svm_close("svm-linear", g_p_svm_linear, g_lab_svm_linear);
    svm_close("svm-rbf", g_p_svm_rbf, g_lab_svm_rbf);
}

/* ---- absent classes, bad input -------------------------------------------------- */

Test(baselines, a_class_without_training_rows_gets_probability_zero)
{
    /* Labels 0..3 become 0, 1, 3, 4 of K = 5: class 2 has no row. */
    int32_t y5[G_NTR];
    for (size_t i = 0; i < G_NTR; i++) y5[i] = g_ytr[i] >= 2 ? g_ytr[i] + 1 : g_ytr[i];
    for (size_t c = 0; c < NELEM(all_names); c++) {
        float *P4 = fit_predict(all_names[c], NULL, g_xtr, g_ytr, G_NTR, G_D, 4, g_xte, G_NTE, 5);
        float *P5 = fit_predict(all_names[c], NULL, g_xtr, y5, G_NTR, G_D, 5, g_xte, G_NTE, 5);
        rows_sum_to_one(P5, G_NTE, 5, all_names[c]);
        for (size_t i = 0; i < G_NTE; i++) {
            cr_assert_eq(P5[i * 5 + 2], 0.0f, "%s: absent class got %g", all_names[c], (double)P5[i * 5 + 2]);
            for (size_t k = 0; k < 4; k++) {
                float a = P4[i * 4 + k], b = P5[i * 5 + (k >= 2 ? k + 1 : k)];
                cr_assert(fabsf(a - b) <= 1e-6f, "%s: row %zu class %zu: %g with 4 classes, %g with 5",
                          all_names[c], i, k, (double)a, (double)b);
            }
        }
        free(P4);
        free(P5);
    }
}

Test(baselines, a_single_training_class_gets_probability_one)
{
    int32_t y1[G_NTR];
    for (size_t i = 0; i < G_NTR; i++) y1[i] = 2;
    for (size_t c = 0; c < NELEM(all_names); c++) {
        float *P = fit_predict(all_names[c], NULL, g_xtr, y1, G_NTR, G_D, 3, g_xte, 4, 0);
        for (size_t i = 0; i < 4; i++)
            cr_assert(P[i * 3 + 2] == 1.0f && P[i * 3] == 0 && P[i * 3 + 1] == 0, "%s: row %zu", all_names[c], i);
        free(P);
    }
}

static void rejects(const char *name, const char *params, const char *needle)
{
    struct base_model *m = (struct base_model *)1;
    int err = base_fit_text(&m, need(name), g_xtr, g_ytr, G_NTR, G_D, G_K, params, 0);
    cr_assert_eq(err, MB_EINVAL, "%s accepted '%s'", name, params);
    cr_assert_null(m, "%s: model left set after a failed fit", name);
    cr_assert(strstr(mb_last_error(), needle), "%s '%s': message '%s' lacks '%s'", name, params, mb_last_error(),
              needle);
}

Test(baselines, bad_params_are_rejected_naming_the_key)
{
    mb_log_set_level(MB_LOG_QUIET);
    for (size_t c = 0; c < NELEM(all_names); c++) rejects(all_names[c], "bogus=1", "'bogus'");
    rejects("lda", "shrinkage=1.5", "'shrinkage'");
    rejects("lda", "shrinkage=fast", "'shrinkage'");
    rejects("lda", "shrinkage", "'shrinkage'");
    rejects("lda", "shrinkage=0.1,shrinkage=0.2", "twice");
    rejects("lda", "shrinkage=0.1,", "empty item");
    rejects("qda", "reg=-0.1", "'reg'");
    rejects("knn", "k=0", "'k'");
    rejects("knn", "k=2.5", "'k'");
    rejects("logreg", "C=0", "'C'");
    rejects("logreg", "max_iter=ten", "'max_iter'");
    rejects("svm-rbf", "gamma=auto", "'gamma'");
    rejects("svm-linear", "gamma=0.1", "'gamma'");
    rejects("svm-linear", "C=-1", "'C'");
}

Test(baselines, bad_labels_and_non_finite_features_are_rejected_naming_the_row)
{
    mb_log_set_level(MB_LOG_QUIET);
    int32_t y[G_NTR];
    memcpy(y, g_ytr, sizeof y);
    y[17] = G_K;
    float X[G_NTR * G_D];
    memcpy(X, g_xtr, sizeof X);
    X[33 * G_D + 2] = NAN;
    for (size_t c = 0; c < NELEM(all_names); c++) {
        const struct base_classifier *k = need(all_names[c]);
        struct base_model *m = NULL;
        cr_assert_eq(base_fit_text(&m, k, g_xtr, y, G_NTR, G_D, G_K, NULL, 0), MB_EINVAL, "%s", k->name);
        /* rows and features are 1-based in messages: row index 17 is row 18 */
        cr_assert(strstr(mb_last_error(), "training row 18 "), "%s: '%s'", k->name, mb_last_error());
        cr_assert_eq(base_fit_text(&m, k, X, g_ytr, G_NTR, G_D, G_K, NULL, 0), MB_ENUM, "%s", k->name);
        cr_assert(strstr(mb_last_error(), "row 34, feature 3 "), "%s: '%s'", k->name, mb_last_error());
        cr_assert_eq(base_fit_text(&m, k, g_xtr, g_ytr, G_NTR, G_D, G_K, NULL, 0), MB_OK);
        float P[G_K * 40];
        cr_assert_eq(k->predict_proba(P, m, X + 10 * G_D, 40), MB_ENUM, "%s predict", k->name);
        cr_assert(strstr(mb_last_error(), "row 24, feature 3 "), "%s: '%s'", k->name, mb_last_error());
        k->free(m);
    }
}

/* ---- determinism ----------------------------------------------------------------- */

Test(baselines, same_seed_gives_identical_probabilities, .timeout = 60)
{
    for (size_t c = 0; c < NELEM(all_names); c++) {
        float *a = fit_predict(all_names[c], NULL, g_xtr, g_ytr, G_NTR, G_D, G_K, g_xte, G_NTE, 42);
        float *b = fit_predict(all_names[c], NULL, g_xtr, g_ytr, G_NTR, G_D, G_K, g_xte, G_NTE, 42);
        cr_assert(!memcmp(a, b, G_NTE * G_K * sizeof *a), "%s: two fits with seed 42 differ", all_names[c]);
        free(a);
        free(b);
    }
}

Test(baselines, fits_in_two_openmp_threads_equal_the_serial_fit, .timeout = 120)
{
    for (size_t c = 0; c < NELEM(all_names); c++) {
        omp_set_num_threads(1);
        float *ref = fit_predict(all_names[c], NULL, g_xtr, g_ytr, G_NTR, G_D, G_K, g_xte, G_NTE, 7);
        float *P[2] = { NULL, NULL };
        int errs[2] = { -99, -99 };
        /* Two jobs at once, as the harness runs them: each thread fits and
         * predicts its own model of the same data and seed. */
#pragma omp parallel num_threads(2)
        {
            int t = omp_get_thread_num();
            const struct base_classifier *k = base_classifier_find(all_names[c]);
            struct base_model *m = NULL;
            float *p = malloc(G_NTE * G_K * sizeof *p);
            int err = base_fit_text(&m, k, g_xtr, g_ytr, G_NTR, G_D, G_K, NULL, 7);
            if (!err) err = k->predict_proba(p, m, g_xte, G_NTE);
            if (m) k->free(m);
            P[t] = p;
            errs[t] = err;
        }
        for (int t = 0; t < 2; t++) {
            cr_assert_eq(errs[t], MB_OK, "%s: thread %d failed", all_names[c], t);
            cr_assert(!memcmp(ref, P[t], G_NTE * G_K * sizeof *ref), "%s: thread %d differs from serial",
                      all_names[c], t);
            free(P[t]);
        }
        free(ref);
    }
}

/* ---- scaler ----------------------------------------------------------------------- */

Test(baselines, scaler_gives_zero_mean_unit_std_and_leaves_constant_columns_unscaled)
{
    enum { N = 50, D = 3 };
    float X[N * D], Y[N * D];
    struct mb_rng r;
    mb_rng_seed(&r, 5, 0);
    for (size_t i = 0; i < N; i++) {
        X[i * D] = (float)(100 + 3 * mb_rng_normal(&r));
        X[i * D + 1] = 7.0f;
        X[i * D + 2] = (float)(0.01 * mb_rng_normal(&r));
    }
    struct base_scaler s;
    cr_assert_eq(base_scaler_fit(&s, X, N, D), MB_OK);
    cr_assert_eq(s.inv_std[1], 1.0);
    base_scaler_apply(Y, &s, X, N);
    for (size_t j = 0; j < D; j++) {
        double m = 0, v = 0;
        for (size_t i = 0; i < N; i++) m += Y[i * D + j];
        m /= N;
        for (size_t i = 0; i < N; i++) v += (Y[i * D + j] - m) * (Y[i * D + j] - m);
        v /= N;
        cr_assert(fabs(m) < 1e-5, "column %zu mean %g", j, m);
        cr_assert(j == 1 ? v == 0 : fabs(v - 1) < 1e-5, "column %zu variance %g", j, v);
    }
    base_scaler_apply(X, &s, X, N);   /* in place */
    cr_assert(!memcmp(X, Y, sizeof X));
    base_scaler_free(&s);
    base_scaler_free(&s);
}

/* ---- ridge and pose prototypes ------------------------------------------------------ */

Test(baselines, ridge_matches_numpy_lstsq_on_the_augmented_system)
{
    struct base_ridge r;
    cr_assert_eq(base_ridge_fit(&r, g_rx, g_ry, G_RN, G_RD, G_RJ, G_RLAMBDA), MB_OK, "%s", mb_last_error());
    float Yt[G_RNT * G_RJ];
    base_ridge_predict(Yt, &r, g_rxt, G_RNT);
    for (size_t t = 0; t < G_RNT * G_RJ; t++)
        cr_assert(fabs(Yt[t] - g_ryt[t]) <= 1e-5 * (1 + fabs(g_ryt[t])), "Yhat[%zu] = %.9g, numpy %.9g", t,
                  (double)Yt[t], g_ryt[t]);
    base_ridge_free(&r);
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(base_ridge_fit(&r, g_rx, g_ry, G_RN, G_RD, G_RJ, -1), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "lambda"));
    /* Two identical columns and no penalty: singular, said so. */
    float X2[G_RN * 2];
    for (size_t i = 0; i < G_RN; i++) X2[i * 2] = X2[i * 2 + 1] = g_rx[i * G_RD];
    cr_assert_eq(base_ridge_fit(&r, X2, g_ry, G_RN, 2, G_RJ, 0), MB_ENUM);
    cr_assert(strstr(mb_last_error(), "singular"));
    cr_assert_eq(base_ridge_fit(&r, X2, g_ry, G_RN, 2, G_RJ, 1.0), MB_OK);
    base_ridge_free(&r);
}

Test(baselines, pose_nearest_names_the_id_of_the_nearest_mean_reference_pose)
{
    /* id 7: poses (0,0) and (2,0) -> mean (1,0); id 3: (0,4); id 9: (10,10).
     * The single ref (1.9,0) of a naive nearest-ref rule would be id 7's
     * member (2,0); with means, (1.9,0.1) is still id 7 but (0,2.4) is id 3. */
    const float refs[] = { 0, 0, 0, 4, 2, 0, 10, 10 };
    const int32_t ids[] = { 7, 3, 7, 9 };
    const float P[] = { 1.9f, 0.1f, 0, 2.4f, 9, 8, 0.5f, 2.0f };
    int32_t pred[4];
    cr_assert_eq(base_pose_nearest(pred, P, 4, 2, refs, ids, 4), MB_OK);
    cr_assert_eq(pred[0], 7);
    cr_assert_eq(pred[1], 3);
    cr_assert_eq(pred[2], 9);
    /* (0.5, 2.0): distance^2 to (1,0) is 4.25, to (0,4) is 4.25: tie -> first id in refs (7). */
    cr_assert_eq(pred[3], 7);
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(base_pose_nearest(pred, P, 4, 2, refs, ids, 0), MB_EINVAL);
}

