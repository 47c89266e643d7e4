/* methods/feat_clf.c - the classical methods: a feature group standardised
 * on the training windows (methods/featurizer.h), then a classifier of
 * baselines/ with its own typed parameters. One file for the family: each
 * member is one FEAT_METHOD line (feature group x classifier). Methods only
 * ever see the window set they are given, so every statistic they fit
 * comes from training data (tests/test_methods.c checks it). */
#include <stdlib.h>
#include <string.h>

#include "baselines/classifier.h"
#include "core/fs.h"
#include "methods/featurizer.h"
#include "methods/method.h"

struct feat_clf {
    struct mth_feat f;
    const struct base_classifier *k;
    struct base_model *bm;
    size_t K;
};

static void fc_free(struct mb_method_model *mm)
{
    struct feat_clf *m = (struct feat_clf *)mm;
    if (!m)
        return;
    if (m->k && m->bm)
        m->k->free(m->bm);
    mth_feat_release(&m->f);
    free(m);
}

static int fc_fit(struct mb_method_model **out, const struct cp_set *train, const int32_t *classes, size_t K,
                  const void *hp, uint64_t seed, struct mb_shared *sh, const struct base_classifier *clf,
                  const char *group)
{
    *out = NULL;
    struct feat_clf *m = calloc(1, sizeof *m);
    int32_t *y = malloc((train->n + 1) * sizeof *y);
    struct mth_feat_rows F = { 0 };
    int rc = m && y ? MB_OK : mb_error(MB_ENOMEM, "out of memory");
    if (m)
        m->k = clf;
    if (!rc)
        rc = mth_feat_fit(&m->f, &F, train, group, sh);
    if (!rc)
        rc = mth_class_of(y, train, classes, K);
    if (!rc)
        rc = m->k->fit(&m->bm, F.F, y, train->n, m->f.D, K, hp, seed);
    if (m)
        m->K = K;
    mth_feat_rows_release(&F);
    free(y);
    if (rc) {
        fc_free((struct mb_method_model *)m);
        return rc;
    }
    *out = (struct mb_method_model *)m;
    return MB_OK;
}

static int fc_predict(float *P, const struct mb_method_model *mm, const struct cp_set *test)
{
    const struct feat_clf *m = (const struct feat_clf *)mm;
    float *F;
    int rc = mth_feat_apply(&F, &m->f, test);
    if (rc)
        return rc;
    rc = m->k->predict_proba(P, m->bm, F, test->n);
    free(F);
    return rc;
}

static int fc_embed(float *Z, size_t *E, const struct mb_method_model *mm, const struct cp_set *x)
{
    const struct feat_clf *m = (const struct feat_clf *)mm;
    float *F;
    int rc = mth_feat_apply(&F, &m->f, x);
    if (rc)
        return rc;
    memcpy(Z, F, x->n * m->f.D * sizeof *Z);
    *E = m->f.D;
    free(F);
    return MB_OK;
}

static size_t fc_dim(const struct mb_method_model *mm)
{
    return ((const struct feat_clf *)mm)->f.D;
}

/* The representation is the thresholds and the scaler: their bytes, hashed. */
static void fc_hash(char hex[65], const struct mb_method_model *mm)
{
    const struct feat_clf *m = (const struct feat_clf *)mm;
    double *b = calloc(mth_feat_hash_len(&m->f) + 1, sizeof *b);
    if (!b) {
        memset(hex, '0', 64);
        hex[64] = 0;
        return;
    }
    size_t o = 0;
    mth_feat_hash_put(b, &o, &m->f);
    mb_sha256_hex(hex, b, o * sizeof *b);
    free(b);
}

#define FEAT_METHOD(ident, mname, clf, group, table, hpsize, text)                                               \
    static int fit_##ident(struct mb_method_model **out, const struct cp_set *train, const int32_t *classes,   \
                           size_t K, const void *hp, uint64_t seed, struct mb_shared *sh)                      \
    {                                                                                                          \
        return fc_fit(out, train, classes, K, hp, seed, sh, clf, group);                                       \
    }                                                                                                          \
    const struct mb_method meth_##ident = {                                                                    \
        .name = mname, .summary = text, .caps = MB_CAP_CLASSIFY | MB_CAP_EMBED,                                \
        .params = table, .hp_size = hpsize, .fit = fit_##ident, .predict_proba = fc_predict,                   \
        .embed = fc_embed, .param_hash = fc_hash, .embed_dim = fc_dim, .free = fc_free,                        \
    };

FEAT_METHOD(lda_td4, "lda-td4", &base_lda, "TD4", base_lda_params, sizeof(struct base_lda_hp),
            "TD4 features (Hudgins), standardised, shrinkage LDA")
FEAT_METHOD(qda_td4, "qda-td4", &base_qda, "TD4", base_qda_params, sizeof(struct base_qda_hp),
            "TD4 features, standardised, regularised QDA")
FEAT_METHOD(knn_td4, "knn-td4", &base_knn, "TD4", base_knn_params, sizeof(struct base_knn_hp),
            "TD4 features, standardised, k-nearest neighbours")
FEAT_METHOD(logreg_td4, "logreg-td4", &base_logreg, "TD4", base_logreg_params, sizeof(struct base_logreg_hp),
            "TD4 features, standardised, multinomial logistic regression")
FEAT_METHOD(svm_linear_td4, "svm-linear-td4", &base_svm_linear, "TD4", base_svm_linear_params,
            sizeof(struct base_svm_hp), "TD4 features, standardised, linear SVM (libsvm)")
FEAT_METHOD(svm_rbf_td4, "svm-rbf-td4", &base_svm_rbf, "TD4", base_svm_rbf_params, sizeof(struct base_svm_hp),
            "TD4 features, standardised, RBF SVM (libsvm)")
FEAT_METHOD(lda_ls9, "lda-ls9", &base_lda, "LS9", base_lda_params, sizeof(struct base_lda_hp),
            "LS9 features (Phinyomark), standardised, shrinkage LDA")
FEAT_METHOD(lda_tdpsd, "lda-tdpsd", &base_lda, "TDPSD", base_lda_params, sizeof(struct base_lda_hp),
            "TD-PSD features (Khushaba), standardised, shrinkage LDA")
