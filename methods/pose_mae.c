/* methods/pose_mae.c - 'pose-mae' and 'pose-upper-bound': the pose masked
 * autoencoder of CPEP's stage 1, trained on the training windows' poses.
 * Both read the TRUE pose of the windows they embed or classify, so both
 * are oracles (a pose sensor at test time): pose-upper-bound is the row the
 * papers report as the "Pose-MAE upper bound" of the linear probe
 * (methods.md §6.3); pose-mae is the same encoder, registered so the anchor
 * CPEP aligns to can be inspected on its own. docs/METHODS.md. */
#include <stdlib.h>

#include "methods/internal.h"

static int pose_fit(struct mb_method_model **out, const char *name, const struct cp_set *train,
                    const int32_t *classes, size_t K, const void *hp, uint64_t seed, struct mb_shared *sh)
{
    int rc;
    *out = NULL;
    if (!train->c->J)
        return mb_error(MB_EINVAL, "%s: corpus '%s' has no pose stream", name,
                        train->c->name ? train->c->name : "?");
    struct mb_method_model *m = mth_model_new(name, hp, seed, &rc);
    if (!m)
        return rc;
    m->src = MTH_POSE;
    m->has_pose = 1;
    struct cp_set vp;
    size_t *vbuf = NULL;
    if (!(rc = mth_valid_pose(&vp, &vbuf, train)) &&
        !(rc = mth_encoder_fit(&m->pose, &m->loss_pose, &m->n_loss_pose, &m->hp, &vp, MTH_POSE, seed,
                               (long)m->hp.mae_steps)))
        rc = mth_fit_head(m, &vp, classes, K);
    free(vbuf);
    if (rc) {
        mth_free(m);
        return rc;
    }
    *out = m;
    return MB_OK;
}

static int pose_mae_fit(struct mb_method_model **out, const struct cp_set *train, const int32_t *classes,
                        size_t K, const void *hp, uint64_t seed, struct mb_shared *sh)
{
    return pose_fit(out, "pose-mae", train, classes, K, hp, seed, sh);
}

static int pub_fit(struct mb_method_model **out, const struct cp_set *train, const int32_t *classes,
                   size_t K, const void *hp, uint64_t seed, struct mb_shared *sh)
{
    return pose_fit(out, "pose-upper-bound", train, classes, K, hp, seed, sh);
}

/* The zero-shot ceiling: the test windows' TRUE poses through the same pose encoder
 * and the same k-NN vote as cpep, i.e. cpep with an EMG encoder that had learnt the
 * pose encoder's map exactly. Where this is near chance the protocol cannot be won
 * from the pose references, whatever the EMG side does. */
static int pub_zero_shot(int32_t *pred, const struct mb_method_model *m, const struct cp_set *test,
                         const float *ref_pose, const int32_t *ref_ids, size_t n_refs)
{
    if (!n_refs)
        return mb_error(MB_EINVAL, "pose-upper-bound: zero-shot needs pose references, got none");
    float *U = malloc((test->n * m->pose.cfg.D + 1) * sizeof *U);   /* [n x Dp] */
    if (!U)
        return mb_error(MB_ENOMEM, "pose-upper-bound: out of memory for %zu embeddings", test->n);
    int rc = mth_embed(U, NULL, m, test);
    if (!rc)
        rc = mth_zero_shot_vote(pred, U, test->n, m, ref_pose, ref_ids, n_refs);
    free(U);
    return rc;
}

const struct mb_method mb_method_pose_mae = {
    .name = "pose-mae",
    .summary = "pose masked autoencoder (joints as tokens), frozen, on the TRUE pose; logistic head (oracle)",
    .caps = MB_CAP_CLASSIFY | MB_CAP_EMBED | MB_CAP_NEEDS_POSE | MB_CAP_ORACLE,
    .params = mth_params,
    .hp_size = sizeof(struct mth_hp),
    .check = mth_check,
    .fit = pose_mae_fit,
    .predict_proba = mth_predict_proba,
    .embed = mth_embed,
    .param_hash = mth_param_hash,
    .free = mth_free,
    .embed_dim = mth_embed_dim,
};

const struct mb_method mb_method_pose_upper_bound = {
    .name = "pose-upper-bound",
    .summary = "ORACLE: linear probe on the pose-MAE encoder fed the true pose of test windows; zero-shot: "
               "cpep's 10-NN vote on the true pose (the protocol's ceiling)",
    .caps = MB_CAP_CLASSIFY | MB_CAP_EMBED | MB_CAP_ZERO_SHOT | MB_CAP_NEEDS_POSE | MB_CAP_ORACLE,
    .params = mth_params,
    .hp_size = sizeof(struct mth_hp),
    .check = mth_check,
    .fit = pub_fit,
    .predict_proba = mth_predict_proba,
    .embed = mth_embed,
    .zero_shot = pub_zero_shot,
    .param_hash = mth_param_hash,
    .free = mth_free,
    .embed_dim = mth_embed_dim,
};
