/* methods/pose_ridge.c - 'pose-ridge-td4': the pose-regression baseline.
 * Ridge regression from standardised TD4 features (methods/featurizer.h)
 * to the window's end pose; a gesture is named by the nearest mean
 * training pose of a class, and in zero-shot by the nearest reference
 * pose, so unseen gestures can be named too. docs/METHODS.md. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "baselines/ridge.h"
#include "core/fs.h"
#include "methods/featurizer.h"
#include "methods/method.h"

struct ridge_hp { double lambda; };

static const struct mb_param ridge_params[] = {
    { "lambda", MB_PT_REAL, offsetof(struct ridge_hp, lambda), 1, 0, 1e12, NULL, "L2 penalty of the ridge" },
    MB_PARAM_END
};

struct pose_ridge {
    struct mth_feat f;
    struct base_ridge ridge;
    size_t J, K;
    float *proto;        /* [n_proto x J] mean training pose of each class with a pose */
    int32_t *proto_ids;  /* [n_proto] class indices */
    size_t n_proto;
};

static void pr_free(struct mb_method_model *mm)
{
    struct pose_ridge *m = (struct pose_ridge *)mm;
    if (!m)
        return;
    mth_feat_release(&m->f);
    base_ridge_free(&m->ridge);
    free(m->proto);
    free(m->proto_ids);
    free(m);
}

static int pr_fit(struct mb_method_model **out, const struct cp_set *train, const int32_t *classes, size_t K,
                  const void *hpv, uint64_t seed, struct mb_shared *sh)
{
    (void)seed;
    *out = NULL;
    const struct cp_corpus *c = train->c;
    double lambda = ((const struct ridge_hp *)hpv)->lambda;
    if (!c->J)
        return mb_error(MB_EINVAL, "pose-ridge: corpus '%s' has no pose stream", c->name);
    struct pose_ridge *m = calloc(1, sizeof *m);
    if (!m)
        return mb_error(MB_ENOMEM, "out of memory");
    struct mth_feat_rows F;
    int rc = mth_feat_fit(&m->f, &F, train, "TD4", sh);
    if (rc) {
        free(m);
        return rc;
    }
    size_t J = c->J, D = m->f.D, nv = 0;
    float *X = malloc((train->n * D + 1) * sizeof *X), *Y = malloc((train->n * J + 1) * sizeof *Y);
    double *sum = calloc(K * J + 1, sizeof *sum);
    size_t *cnt = calloc(K + 1, sizeof *cnt);
    int32_t *y = malloc((train->n + 1) * sizeof *y);
    m->proto = malloc((K * J + 1) * sizeof *m->proto);
    m->proto_ids = malloc((K + 1) * sizeof *m->proto_ids);
    if (!X || !Y || !sum || !cnt || !y || !m->proto || !m->proto_ids)
        rc = mb_error(MB_ENOMEM, "out of memory");
    if (!rc)
        rc = mth_class_of(y, train, classes, K);
    for (size_t k = 0; !rc && k < train->n; k++) {
        size_t i = train->idx[k];
        if (c->pose_valid && !c->pose_valid[i])
            continue;   /* IK failures carry no pose */
        memcpy(X + nv * D, F.F + k * D, D * sizeof *X);
        memcpy(Y + nv * J, c->pose + i * J, J * sizeof *Y);
        for (size_t j = 0; j < J; j++)
            sum[(size_t)y[k] * J + j] += c->pose[i * J + j];
        cnt[y[k]]++;
        nv++;
    }
    if (!rc && nv < 2)
        rc = mb_error(MB_EINVAL, "pose-ridge: %zu training windows with a valid pose", nv);
    if (!rc)
        rc = base_ridge_fit(&m->ridge, X, Y, nv, D, J, lambda);
    if (!rc) {
        m->J = J;
        m->K = K;
        for (size_t k = 0; k < K; k++) {
            if (!cnt[k])
                continue;   /* a class without pose has no prototype and is never predicted */
            for (size_t j = 0; j < J; j++)
                m->proto[m->n_proto * J + j] = (float)(sum[k * J + j] / (double)cnt[k]);
            m->proto_ids[m->n_proto++] = (int32_t)k;
        }
    }
    mth_feat_rows_release(&F);
    free(X); free(Y); free(sum); free(cnt); free(y);
    if (rc) {
        pr_free((struct mb_method_model *)m);
        return rc;
    }
    *out = (struct mb_method_model *)m;
    return MB_OK;
}

static int pr_pose(float **Yhat, const struct pose_ridge *m, const struct cp_set *s)
{
    float *F;
    int rc = mth_feat_apply(&F, &m->f, s);
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

static int pr_predict(float *P, const struct mb_method_model *mm, const struct cp_set *test)
{
    const struct pose_ridge *m = (const struct pose_ridge *)mm;
    float *Yh;
    int32_t *pred = malloc((test->n + 1) * sizeof *pred);
    if (!pred)
        return mb_error(MB_ENOMEM, "out of memory");
    int rc = pr_pose(&Yh, m, test);
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

static int pr_zero_shot(int32_t *pred, const struct mb_method_model *mm, const struct cp_set *test,
                        const float *ref_pose, const int32_t *ref_ids, size_t n_refs)
{
    const struct pose_ridge *m = (const struct pose_ridge *)mm;
    /* ridge predicts the pose at the window's end: compare with each reference's end frame */
    size_t Fr = cp_pose_frames(test->c), J = m->J;
    float *end = malloc((n_refs * J + 1) * sizeof *end);
    if (!end)
        return mb_error(MB_ENOMEM, "out of memory for %zu reference poses", n_refs);
    for (size_t k = 0; k < n_refs; k++)
        memcpy(end + k * J, ref_pose + (k * Fr + Fr - 1) * J, J * sizeof *end);
    float *Yh;
    int rc = pr_pose(&Yh, m, test);
    if (!rc) {
        rc = base_pose_nearest(pred, Yh, test->n, J, end, ref_ids, n_refs);
        free(Yh);
    }
    free(end);
    return rc;
}

/* Thresholds, scaler and ridge coefficients: their bytes, hashed. */
static void pr_hash(char hex[65], const struct mb_method_model *mm)
{
    const struct pose_ridge *m = (const struct pose_ridge *)mm;
    size_t nr = m->ridge.W ? m->ridge.D * m->ridge.J + m->ridge.D + m->ridge.J : 0;
    double *b = calloc(mth_feat_hash_len(&m->f) + nr + 1, sizeof *b);
    if (!b) {
        memset(hex, '0', 64);
        hex[64] = 0;
        return;
    }
    size_t o = 0;
    mth_feat_hash_put(b, &o, &m->f);
    if (nr) {
        for (size_t i = 0; i < m->ridge.D * m->ridge.J; i++) b[o++] = m->ridge.W[i];
        for (size_t i = 0; i < m->ridge.D; i++) b[o++] = m->ridge.x_mean[i];
        for (size_t i = 0; i < m->ridge.J; i++) b[o++] = m->ridge.y_mean[i];
    }
    mb_sha256_hex(hex, b, o * sizeof *b);
    free(b);
}

const struct mb_method meth_pose_ridge_td4 = {
    .name = "pose-ridge-td4",
    .summary = "ridge regression TD4 -> pose; names gestures by the nearest (reference) pose, unseen ones too",
    .caps = MB_CAP_CLASSIFY | MB_CAP_ZERO_SHOT | MB_CAP_NEEDS_POSE,
    .params = ridge_params,
    .hp_size = sizeof(struct ridge_hp),
    .fit = pr_fit,
    .predict_proba = pr_predict,
    .zero_shot = pr_zero_shot,
    .param_hash = pr_hash,
    .free = pr_free,
};
