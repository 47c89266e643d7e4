/* protocols/methods.c - the classical methods as mb_method entries: a
 * feature group from kernels/features (thresholds relative to the channel
 * RMS of the TRAINING windows), standardised by a base_scaler fitted on the
 * training windows, then a baselines classifier; and the pose-regression
 * baseline (ridge from features to pose; zero-shot by the nearest reference
 * pose). Methods only ever see the window set they are given, so every
 * statistic they fit comes from training data by construction. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "baselines/classifier.h"
#include "baselines/ridge.h"
#include "core/fs.h"
#include "kernels/features.h"
#include "protocols/protocol.h"

struct mb_method_model {
    const struct base_classifier *k;   /* NULL for pose-ridge */
    struct base_model *bm;
    struct kern_feature_set fs;
    struct base_scaler sc;
    size_t C, D, K;
    int32_t *classes;                  /* [K] */
    /* pose-ridge */
    struct base_ridge ridge;
    size_t J;
    float *proto;                      /* [K x J] mean training pose per class (NaN rows: class without pose) */
    int32_t *proto_ids;                /* [K] class indices */
    size_t n_proto;
};

/* Features of a window set: F [n x D], standardised when the scaler is fitted. */
static int features(float *F, const struct mb_method_model *m, const struct pr_set *s)
{
    const struct pr_corpus *c = s->c;
    struct kern_windows w = { .n = s->n, .W = c->W, .S = c->W };
    w.start = malloc((s->n + 1) * sizeof *w.start);
    if (!w.start)
        return mb_error(MB_ENOMEM, "out of memory for %zu windows", s->n);
    /* the corpus windows are contiguous [n x W x C] blocks: one long
     * "recording" whose window i starts at sample i * W */
    for (size_t k = 0; k < s->n; k++)
        w.start[k] = s->idx[k] * c->W;
    mb_error_quiet_begin();    /* MB_ENUM is handled below, as a warning */
    int rc = kern_features_extract(F, c->x, c->n * c->W, c->C, &w, &m->fs);
    mb_error_quiet_end();
    free(w.start);
    if (rc == MB_ENUM) {
        /* a constant window (quantised rest, dead channel) has undefined
         * ratio features: counted, reported once, set to 0 */
        size_t bad = 0;
        for (size_t i = 0; i < s->n * m->D; i++)
            if (!isfinite(F[i])) {
                F[i] = 0;
                bad++;
            }
        mb_warn("%zu non-finite feature values set to 0 (%s)", bad, mb_last_error());
        rc = MB_OK;
    } else if (rc != MB_OK) {
        char msg[1024];              /* a copy: mb_error writes the buffer it would read */
        snprintf(msg, sizeof msg, "%s", mb_last_error());
        rc = mb_error(rc, "%s", msg);   /* printed now: it was silenced above */
    }
    return rc;
}

static void model_free(struct mb_method_model *m)
{
    if (!m)
        return;
    if (m->k && m->bm)
        m->k->free(m->bm);
    kern_feature_set_free(&m->fs);
    base_scaler_free(&m->sc);
    base_ridge_free(&m->ridge);
    free(m->classes);
    free(m->proto);
    free(m->proto_ids);
    free(m);
}

/* Feature set for the training windows: RMS thresholds from them. */
static int setup_features(struct mb_method_model *m, const struct pr_set *train, const char *group)
{
    const struct pr_corpus *c = train->c;
    struct kern_feat_params p;
    kern_feat_params_default(&p);
    p.fs = c->view.rate_hz;
    int rc = kern_feature_set_parse(&m->fs, group, &p);
    if (rc)
        return rc;
    double *rms = calloc(c->C + 1, sizeof *rms);
    if (!rms)
        return mb_error(MB_ENOMEM, "out of memory");
    for (size_t k = 0; k < train->n; k++) {
        const float *x = c->x + train->idx[k] * c->W * c->C;
        for (size_t t = 0; t < c->W; t++)
            for (size_t ch = 0; ch < c->C; ch++)
                rms[ch] += (double)x[t * c->C + ch] * x[t * c->C + ch];
    }
    for (size_t ch = 0; ch < c->C; ch++)
        rms[ch] = sqrt(rms[ch] / (double)(train->n * c->W));   /* n >= 1: checked by fit_front */
    rc = kern_feature_set_thresholds(&m->fs, c->C, 0, rms);
    free(rms);
    m->C = c->C;
    m->D = kern_feature_set_width(&m->fs, c->C);
    return rc;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Class index of each window of a set: y [n]. */
static int class_of(int32_t *y, const struct pr_set *s, const int32_t *classes, size_t K)
{
    for (size_t k = 0; k < s->n; k++) {
        int32_t g = s->c->label[s->idx[k]];
        const int32_t *p = bsearch(&g, classes, K, sizeof *classes, cmp_i32);
        if (!p)
            return mb_error(MB_EINVAL, "training window %zu has gesture %d, not among the %zu classes", s->idx[k], g, K);
        y[k] = (int32_t)(p - classes);
    }
    return MB_OK;
}

/* Common start of fit: features of the training set, scaler fitted on
 * them and applied; F [n x D] returned. */
static int fit_front(struct mb_method_model **out, float **Fout, const struct pr_set *train, const int32_t *classes,
                     size_t K, const char *group)
{
    struct mb_method_model *m = calloc(1, sizeof *m);
    float *F = NULL;
    int rc = m ? MB_OK : mb_error(MB_ENOMEM, "out of memory");
    if (!rc && !train->n)
        rc = mb_error(MB_EINVAL, "empty training set");
    if (!rc)
        rc = setup_features(m, train, group);
    if (!rc) {
        m->K = K;
        m->classes = malloc((K + 1) * sizeof *m->classes);
        F = malloc((train->n * m->D + 1) * sizeof *F);
        if (!m->classes || !F)
            rc = mb_error(MB_ENOMEM, "out of memory for %zu x %zu features", train->n, m->D);
        else
            memcpy(m->classes, classes, K * sizeof *classes);
    }
    if (!rc)
        rc = features(F, m, train);
    if (!rc)
        rc = base_scaler_fit(&m->sc, F, train->n, m->D);
    if (!rc)
        base_scaler_apply(F, &m->sc, F, train->n);
    if (rc) {
        free(F);
        model_free(m);
        return rc;
    }
    *out = m;
    *Fout = F;
    return MB_OK;
}

static int feat_fit(struct mb_method_model **out, const struct pr_set *train, const int32_t *classes, size_t K,
                    const char *params, uint64_t seed, const char *clf, const char *group)
{
    float *F;
    int32_t *y = malloc((train->n + 1) * sizeof *y);
    if (!y)
        return mb_error(MB_ENOMEM, "out of memory");
    int rc = fit_front(out, &F, train, classes, K, group);
    if (rc) {
        free(y);
        return rc;
    }
    struct mb_method_model *m = *out;
    m->k = base_classifier_find(clf);
    if (!m->k)
        rc = mb_error(MB_EINVAL, "classifier '%s' is not in the baselines registry", clf);
    if (!rc)
        rc = class_of(y, train, classes, K);
    if (!rc)
        rc = m->k->fit(&m->bm, F, y, train->n, m->D, K, params, seed);
    free(F);
    free(y);
    if (rc) {
        model_free(m);
        *out = NULL;
    }
    return rc;
}

static int scaled_features(float **F, const struct mb_method_model *m, const struct pr_set *s)
{
    *F = malloc((s->n * m->D + 1) * sizeof **F);
    if (!*F)
        return mb_error(MB_ENOMEM, "out of memory for %zu x %zu features", s->n, m->D);
    int rc = features(*F, m, s);
    if (rc) {
        free(*F);
        *F = NULL;
        return rc;
    }
    base_scaler_apply(*F, &m->sc, *F, s->n);
    return MB_OK;
}

static int feat_predict(float *P, const struct mb_method_model *m, const struct pr_set *test)
{
    float *F;
    int rc = scaled_features(&F, m, test);
    if (rc)
        return rc;
    rc = m->k->predict_proba(P, m->bm, F, test->n);
    free(F);
    return rc;
}

static int feat_embed(float *Z, size_t *E, const struct mb_method_model *m, const struct pr_set *x)
{
    float *F;
    int rc = scaled_features(&F, m, x);
    if (rc)
        return rc;
    memcpy(Z, F, x->n * m->D * sizeof *Z);
    *E = m->D;
    free(F);
    return MB_OK;
}

static size_t feat_dim(const struct mb_method_model *m)
{
    return m->D;
}

/* The representation is the thresholds and the scaler (and, for the pose
 * baseline, the ridge coefficients): their bytes, hashed. */
static void feat_hash(char hex[65], const struct mb_method_model *m)
{
    size_t nthr = m->fs.thr ? 3 * m->fs.thr_C : 0;
    size_t nr = m->ridge.W ? m->ridge.D * m->ridge.J + m->ridge.D + m->ridge.J : 0;
    size_t n = nthr + 2 * m->D + nr;
    double *b = calloc(n + 1, sizeof *b);
    if (!b) {
        memset(hex, '0', 64);
        hex[64] = 0;
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < nthr; i++) b[o++] = m->fs.thr[i];
    for (size_t i = 0; i < m->D; i++) b[o++] = m->sc.mean[i];
    for (size_t i = 0; i < m->D; i++) b[o++] = m->sc.inv_std[i];
    if (nr) {
        for (size_t i = 0; i < m->ridge.D * m->ridge.J; i++) b[o++] = m->ridge.W[i];
        for (size_t i = 0; i < m->ridge.D; i++) b[o++] = m->ridge.x_mean[i];
        for (size_t i = 0; i < m->ridge.J; i++) b[o++] = m->ridge.y_mean[i];
    }
    mb_sha256_hex(hex, b, o * sizeof *b);
    free(b);
}

/* ---- pose-ridge ---------------------------------------------------------- */

/* "lambda=<x>" (the only parameter); NULL/"" = 1. */
static int ridge_lambda(double *lambda, const char *params)
{
    *lambda = 1.0;
    if (!params || !*params)
        return MB_OK;
    char *end;
    if (strncmp(params, "lambda=", 7) || (*lambda = strtod(params + 7, &end), *end) || !(*lambda >= 0))
        return mb_error(MB_EINVAL, "pose-ridge: bad parameters '%s' (expected lambda=<number >= 0>)", params);
    return MB_OK;
}

static int ridge_check(const char *params)
{
    double lambda;
    return ridge_lambda(&lambda, params);
}

static int ridge_fit(struct mb_method_model **out, const struct pr_set *train, const int32_t *classes, size_t K,
                     const char *params, uint64_t seed)
{
    const struct pr_corpus *c = train->c;
    double lambda;
    int rc = ridge_lambda(&lambda, params);
    if (rc)
        return rc;
    if (!c->J)
        return mb_error(MB_EINVAL, "pose-ridge: corpus '%s' has no pose stream", c->name);
    float *F;
    if ((rc = fit_front(out, &F, train, classes, K, "TD4")))
        return rc;
    struct mb_method_model *m = *out;
    size_t J = c->J, nv = 0;
    float *X = malloc((train->n * m->D + 1) * sizeof *X), *Y = malloc((train->n * J + 1) * sizeof *Y);
    double *sum = calloc(K * J + 1, sizeof *sum);
    size_t *cnt = calloc(K + 1, sizeof *cnt);
    int32_t *y = malloc((train->n + 1) * sizeof *y);
    m->proto = malloc((K * J + 1) * sizeof *m->proto);
    m->proto_ids = malloc((K + 1) * sizeof *m->proto_ids);
    if (!X || !Y || !sum || !cnt || !y || !m->proto || !m->proto_ids)
        rc = mb_error(MB_ENOMEM, "out of memory");
    if (!rc)
        rc = class_of(y, train, classes, K);
    for (size_t k = 0; !rc && k < train->n; k++) {
        size_t i = train->idx[k];
        if (c->pose_valid && !c->pose_valid[i])
            continue;   /* IK failures carry no pose */
        memcpy(X + nv * m->D, F + k * m->D, m->D * sizeof *X);
        memcpy(Y + nv * J, c->pose + i * J, J * sizeof *Y);
        for (size_t j = 0; j < J; j++)
            sum[(size_t)y[k] * J + j] += c->pose[i * J + j];
        cnt[y[k]]++;
        nv++;
    }
    if (!rc && nv < 2)
        rc = mb_error(MB_EINVAL, "pose-ridge: %zu training windows with a valid pose", nv);
    if (!rc)
        rc = base_ridge_fit(&m->ridge, X, Y, nv, m->D, J, lambda);
    if (!rc) {
        m->J = J;
        for (size_t k = 0; k < K; k++) {
            if (!cnt[k])
                continue;   /* a class without pose has no prototype and is never predicted */
            for (size_t j = 0; j < J; j++)
                m->proto[m->n_proto * J + j] = (float)(sum[k * J + j] / (double)cnt[k]);
            m->proto_ids[m->n_proto++] = (int32_t)k;
        }
    }
    free(F); free(X); free(Y); free(sum); free(cnt); free(y);
    if (rc) {
        model_free(m);
        *out = NULL;
    }
    (void)seed;
    return rc;
}

static int ridge_pose(float **Yhat, const struct mb_method_model *m, const struct pr_set *s)
{
    float *F;
    int rc = scaled_features(&F, m, s);
    if (rc)
        return rc;
    *Yhat = malloc((s->n * m->J + 1) * sizeof **Yhat);
    if (!*Yhat) {
        free(F);
        return mb_error(MB_ENOMEM, "out of memory");
    }
    base_ridge_predict(*Yhat, &m->ridge, F, s->n);
    free(F);
    return MB_OK;
}

static int ridge_predict(float *P, const struct mb_method_model *m, const struct pr_set *test)
{
    float *Yh;
    int32_t *pred = malloc((test->n + 1) * sizeof *pred);
    if (!pred)
        return mb_error(MB_ENOMEM, "out of memory");
    int rc = ridge_pose(&Yh, m, test);
    if (!rc) {
        rc = base_pose_nearest(pred, Yh, test->n, m->J, m->proto, m->proto_ids, m->n_proto);
        free(Yh);
    }
    if (!rc) {
        /* nearest prototype: a one-hot distribution over the K classes */
        memset(P, 0, test->n * m->K * sizeof *P);
        for (size_t i = 0; i < test->n; i++)
            P[i * m->K + (size_t)pred[i]] = 1;
    }
    free(pred);
    return rc;
}

static int ridge_zero_shot(int32_t *pred, const struct mb_method_model *m, const struct pr_set *test,
                           const float *ref_pose, const int32_t *ref_ids, size_t n_refs)
{
    /* ridge predicts the pose at the window's end: compare with each reference's end frame */
    size_t Fr = pr_pose_frames(test->c), J = m->J;
    float *end = malloc((n_refs * J + 1) * sizeof *end);
    if (!end)
        return mb_error(MB_ENOMEM, "out of memory for %zu reference poses", n_refs);
    for (size_t k = 0; k < n_refs; k++)
        memcpy(end + k * J, ref_pose + (k * Fr + Fr - 1) * J, J * sizeof *end);
    float *Yh;
    int rc = ridge_pose(&Yh, m, test);
    if (!rc) {
        rc = base_pose_nearest(pred, Yh, test->n, J, end, ref_ids, n_refs);
        free(Yh);
    }
    free(end);
    return rc;
}

/* ---- the table entries ------------------------------------------------------ */

#define FEAT_METHOD(ident, mname, clf, group, defaults, text)                                                  \
    static int fit_##ident(struct mb_method_model **out, const struct pr_set *train, const int32_t *classes, \
                           size_t K, const char *params, uint64_t seed)                                     \
    {                                                                                                        \
        return feat_fit(out, train, classes, K, params, seed, clf, group);                                  \
    }                                                                                                        \
    static int check_##ident(const char *params)                                                             \
    {                                                                                                        \
        const struct base_classifier *k = base_classifier_find(clf);                                         \
        return k ? k->check_params(params)                                                                   \
                 : mb_error(MB_EINVAL, "classifier '%s' is not in the baselines registry", clf);            \
    }                                                                                                        \
    const struct mb_method meth_##ident = {                                                                  \
        .name = mname, .summary = text, .caps = MB_CAP_CLASSIFY | MB_CAP_EMBED, .params = defaults,         \
        .check_params = check_##ident, .fit = fit_##ident, .predict_proba = feat_predict, .embed = feat_embed, .param_hash = feat_hash,     \
        .embed_dim = feat_dim,                                                                               \
        .free = model_free,                                                                                  \
    };

FEAT_METHOD(lda_td4, "lda-td4", "lda", "TD4", "shrinkage=auto", "TD4 features (Hudgins), standardised, shrinkage LDA")
FEAT_METHOD(qda_td4, "qda-td4", "qda", "TD4", "reg=0.1", "TD4 features, standardised, regularised QDA")
FEAT_METHOD(knn_td4, "knn-td4", "knn", "TD4", "k=5", "TD4 features, standardised, k-nearest neighbours")
FEAT_METHOD(logreg_td4, "logreg-td4", "logreg", "TD4", "C=1,max_iter=1000,tol=1e-5",
            "TD4 features, standardised, multinomial logistic regression")
FEAT_METHOD(svm_linear_td4, "svm-linear-td4", "svm-linear", "TD4", "C=1,tol=1e-3,cache_mb=100",
            "TD4 features, standardised, linear SVM (libsvm)")
FEAT_METHOD(svm_rbf_td4, "svm-rbf-td4", "svm-rbf", "TD4", "C=1,gamma=scale,tol=1e-3,cache_mb=100",
            "TD4 features, standardised, RBF SVM (libsvm)")
FEAT_METHOD(lda_ls9, "lda-ls9", "lda", "LS9", "shrinkage=auto", "LS9 features (Phinyomark), standardised, shrinkage LDA")
FEAT_METHOD(lda_tdpsd, "lda-tdpsd", "lda", "TDPSD", "shrinkage=auto",
            "TD-PSD features (Khushaba), standardised, shrinkage LDA")

const struct mb_method meth_pose_ridge_td4 = {
    .name = "pose-ridge-td4",
    .summary = "ridge regression TD4 -> pose; names gestures by the nearest (reference) pose, unseen ones too",
    .caps = MB_CAP_CLASSIFY | MB_CAP_ZERO_SHOT | MB_CAP_NEEDS_POSE,
    .params = "lambda=1",
    .check_params = ridge_check,
    .fit = ridge_fit,
    .predict_proba = ridge_predict,
    .zero_shot = ridge_zero_shot,
    .param_hash = feat_hash,
    .free = model_free,
};
