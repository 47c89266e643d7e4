/* methods/pose_upper_bound.c - 'pose-upper-bound': the "Pose-MAE upper
 * bound" the papers report for the linear probe (methods.md §6.3): the pose
 * encoder of CPEP's stage 1, frozen, with a logistic head
 * (methods/enc_probe.h), fed the TRUE pose of the windows it embeds or
 * classifies, so an oracle. In zero-shot, the test windows' true poses go
 * through the same pose encoder and the same k-NN vote over the pose
 * references as cpep (methods/pose_vote.h): cpep with an EMG encoder that had
 * learnt the pose encoder's map exactly, the protocol's ceiling.
 * docs/METHODS.md. */
#include <stdlib.h>

#include "methods/enc_probe.h"
#include "methods/hp_keys.h"
#include "methods/method.h"
#include "methods/pose_vote.h"

struct pub_hp {
    long mae_steps;
    struct mth_opt_hp opt;
    struct mth_enc_hp enc;       /* rectify unused (EMG only): not a key */
    long knn;
};

#define S struct pub_hp
static const struct mb_param pub_params[] = {
    MTH_P_MAE_STEPS(S, mae_steps),
    MTH_P_BATCH(S, opt.batch),
    MTH_P_WIDTH(S, enc.width),
    MTH_P_LAYERS(S, enc.layers),
    MTH_P_HEADS(S, enc.heads),
    MTH_P_DEC_WIDTH(S, enc.dec_width),
    MTH_P_CLS(S, enc.cls),
    MTH_P_PATCH_MS(S, enc.patch_ms),
    MTH_P_POSE_PATCH(S, enc.pose_patch),
    MTH_P_MASK(S, enc.mask),
    MTH_P_LR(S, opt.lr),
    MTH_P_WD(S, opt.wd),
    MTH_P_WARMUP(S, opt.warmup),
    MTH_P_CLIP(S, opt.clip),
    MTH_P_KNN(S, knn),
    MB_PARAM_END
};
#undef S

struct pub {
    struct mth_probe p;          /* the pose encoder and its head */
    size_t knn;                  /* references that vote in zero-shot */
};

static int pub_check(const void *hp, const char *name)
{
    return mth_check_enc(&((const struct pub_hp *)hp)->enc, name);
}

static void pub_free(struct mb_method_model *mm)
{
    struct pub *m = (struct pub *)mm;
    if (!m)
        return;
    mth_probe_release(&m->p);
    free(m);
}

static int pub_fit(struct mb_method_model **out, const struct cp_set *train, const int32_t *classes, size_t K,
                   const void *hpv, uint64_t seed, struct mb_shared *sh)
{
    const struct pub_hp *hp = hpv;
    *out = NULL;
    struct pub *m = calloc(1, sizeof *m);
    if (!m)
        return mb_error(MB_ENOMEM, "pose-upper-bound: out of memory");
    m->knn = (size_t)hp->knn;
    int rc = mth_probe_fit(&m->p, "pose-upper-bound", MTH_POSE, &hp->enc, &hp->opt, hp->mae_steps, train, classes,
                           K, seed, sh);
    if (rc) {
        pub_free((struct mb_method_model *)m);
        return rc;
    }
    *out = (struct mb_method_model *)m;
    return MB_OK;
}

static int pub_predict(float *P, const struct mb_method_model *mm, const struct cp_set *test)
{
    return mth_probe_predict(P, &((const struct pub *)mm)->p, test);
}

static int pub_embed(float *Z, size_t *E, const struct mb_method_model *mm, const struct cp_set *x)
{
    const struct pub *m = (const struct pub *)mm;
    if (E)
        *E = mth_probe_dim(&m->p);
    return mth_probe_embed(Z, &m->p, x);
}

static size_t pub_dim(const struct mb_method_model *mm)
{
    return mth_probe_dim(&((const struct pub *)mm)->p);
}

static void pub_hash(char hex[65], const struct mb_method_model *mm)
{
    mth_probe_hash(hex, &((const struct pub *)mm)->p);
}

/* Where this is near chance the protocol cannot be won from the pose
 * references, whatever the EMG side does. */
static int pub_zero_shot(int32_t *pred, const struct mb_method_model *mm, const struct cp_set *test,
                         const float *ref_pose, const int32_t *ref_ids, size_t n_refs)
{
    const struct pub *m = (const struct pub *)mm;
    if (!n_refs)
        return mb_error(MB_EINVAL, "pose-upper-bound: zero-shot needs pose references, got none");
    float *U = malloc((test->n * mth_probe_dim(&m->p) + 1) * sizeof *U);   /* [n x Dp] */
    if (!U)
        return mb_error(MB_ENOMEM, "pose-upper-bound: out of memory for %zu embeddings", test->n);
    int rc = mth_probe_embed(U, &m->p, test);
    if (!rc)
        rc = mth_zero_shot_vote(pred, U, test->n, &m->p.enc, m->knn, ref_pose, ref_ids, n_refs, "pose-upper-bound");
    free(U);
    return rc;
}

const struct mb_method mb_method_pose_upper_bound = {
    .name = "pose-upper-bound",
    .summary = "ORACLE: linear probe on the pose-MAE encoder fed the true pose of test windows; zero-shot: "
               "cpep's 10-NN vote on the true pose (the protocol's ceiling)",
    .caps = MB_CAP_CLASSIFY | MB_CAP_EMBED | MB_CAP_ZERO_SHOT | MB_CAP_NEEDS_POSE | MB_CAP_ORACLE,
    .params = pub_params,
    .hp_size = sizeof(struct pub_hp),
    .check = pub_check,
    .fit = pub_fit,
    .predict_proba = pub_predict,
    .embed = pub_embed,
    .zero_shot = pub_zero_shot,
    .param_hash = pub_hash,
    .free = pub_free,
    .embed_dim = pub_dim,
};
