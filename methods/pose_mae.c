/* methods/pose_mae.c - 'pose-mae': the pose masked autoencoder of CPEP's
 * stage 1, trained on the training windows' poses, frozen, with a logistic
 * head (methods/enc_probe.h). It reads the TRUE pose of the windows it
 * embeds or classifies, so it is an oracle (a pose sensor at test time);
 * registered so the anchor CPEP aligns to can be inspected on its own.
 * pose-upper-bound (pose_upper_bound.c) is the same encoder as the row the
 * papers report. docs/METHODS.md. */
#include <stdlib.h>

#include "methods/enc_probe.h"
#include "methods/hp_keys.h"
#include "methods/method.h"

struct pose_mae_hp {
    long mae_steps;
    struct mth_opt_hp opt;
    struct mth_enc_hp enc;       /* rectify unused (EMG only): not a key */
};

#define S struct pose_mae_hp
static const struct mb_param pose_mae_params[] = {
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
    MB_PARAM_END
};
#undef S

struct pose_mae {
    struct mth_probe p;          /* the pose encoder and its head */
};

static int pose_mae_check(const void *hp, const char *name)
{
    return mth_check_enc(&((const struct pose_mae_hp *)hp)->enc, name);
}

static void pose_mae_free(struct mb_method_model *mm)
{
    struct pose_mae *m = (struct pose_mae *)mm;
    if (!m)
        return;
    mth_probe_release(&m->p);
    free(m);
}

static int pose_mae_fit(struct mb_method_model **out, const struct cp_set *train, const int32_t *classes,
                        size_t K, const void *hpv, uint64_t seed, struct mb_shared *sh)
{
    const struct pose_mae_hp *hp = hpv;
    *out = NULL;
    struct pose_mae *m = calloc(1, sizeof *m);
    if (!m)
        return mb_error(MB_ENOMEM, "pose-mae: out of memory");
    int rc = mth_probe_fit(&m->p, "pose-mae", MTH_POSE, &hp->enc, &hp->opt, hp->mae_steps, train, classes, K, seed, sh);
    if (rc) {
        pose_mae_free((struct mb_method_model *)m);
        return rc;
    }
    *out = (struct mb_method_model *)m;
    return MB_OK;
}

static int pose_mae_predict(float *P, const struct mb_method_model *mm, const struct cp_set *test)
{
    return mth_probe_predict(P, &((const struct pose_mae *)mm)->p, test);
}

static int pose_mae_embed(float *Z, size_t *E, const struct mb_method_model *mm, const struct cp_set *x)
{
    const struct pose_mae *m = (const struct pose_mae *)mm;
    if (E)
        *E = mth_probe_dim(&m->p);
    return mth_probe_embed(Z, &m->p, x);
}

static size_t pose_mae_dim(const struct mb_method_model *mm)
{
    return mth_probe_dim(&((const struct pose_mae *)mm)->p);
}

static void pose_mae_hash(char hex[65], const struct mb_method_model *mm)
{
    mth_probe_hash(hex, &((const struct pose_mae *)mm)->p);
}

const struct mb_method mb_method_pose_mae = {
    .name = "pose-mae",
    .summary = "pose masked autoencoder (joints as tokens), frozen, on the TRUE pose; logistic head (oracle)",
    .caps = MB_CAP_CLASSIFY | MB_CAP_EMBED | MB_CAP_NEEDS_POSE | MB_CAP_ORACLE,
    .params = pose_mae_params,
    .hp_size = sizeof(struct pose_mae_hp),
    .check = pose_mae_check,
    .fit = pose_mae_fit,
    .predict_proba = pose_mae_predict,
    .embed = pose_mae_embed,
    .param_hash = pose_mae_hash,
    .free = pose_mae_free,
    .embed_dim = pose_mae_dim,
};
