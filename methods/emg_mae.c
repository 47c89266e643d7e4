/* methods/emg_mae.c - 'emg-mae': the EMG masked autoencoder of CPEP's
 * stage 1 (methods.md §6.1) as a method of its own. The encoder is trained
 * by MAE on the training windows only (labels unused); embed() is its
 * pooled output; predict_proba() a logistic regression on that frozen
 * embedding (methods/enc_probe.h). docs/METHODS.md. */
#include <stdlib.h>

#include "methods/enc_probe.h"
#include "methods/hp_keys.h"
#include "methods/method.h"

struct emg_mae_hp {
    long mae_steps;
    struct mth_opt_hp opt;
    struct mth_enc_hp enc;       /* pose_patch unused: not a key */
};

#define S struct emg_mae_hp
static const struct mb_param emg_mae_params[] = {
    MTH_P_MAE_STEPS(S, mae_steps),
    MTH_P_BATCH(S, opt.batch),
    MTH_P_WIDTH(S, enc.width),
    MTH_P_LAYERS(S, enc.layers),
    MTH_P_HEADS(S, enc.heads),
    MTH_P_DEC_WIDTH(S, enc.dec_width),
    MTH_P_CLS(S, enc.cls),
    MTH_P_RECTIFY(S, enc.rectify),
    MTH_P_PATCH_MS(S, enc.patch_ms),
    MTH_P_MASK(S, enc.mask),
    MTH_P_LR(S, opt.lr),
    MTH_P_WD(S, opt.wd),
    MTH_P_WARMUP(S, opt.warmup),
    MTH_P_CLIP(S, opt.clip),
    MB_PARAM_END
};
#undef S

struct emg_mae {
    struct mth_probe p;          /* the EMG encoder and its head */
};

static int emg_mae_check(const void *hp, const char *name)
{
    return mth_check_enc(&((const struct emg_mae_hp *)hp)->enc, name);
}

static void emg_mae_free(struct mb_method_model *mm)
{
    struct emg_mae *m = (struct emg_mae *)mm;
    if (!m)
        return;
    mth_probe_release(&m->p);
    free(m);
}

static int emg_mae_fit(struct mb_method_model **out, const struct cp_set *train, const int32_t *classes,
                       size_t K, const void *hpv, uint64_t seed, struct mb_shared *sh)
{
    const struct emg_mae_hp *hp = hpv;
    *out = NULL;
    struct emg_mae *m = calloc(1, sizeof *m);
    if (!m)
        return mb_error(MB_ENOMEM, "emg-mae: out of memory");
    int rc = mth_probe_fit(&m->p, "emg-mae", MTH_EMG, &hp->enc, &hp->opt, hp->mae_steps, train, classes, K, seed, sh);
    if (rc) {
        emg_mae_free((struct mb_method_model *)m);
        return rc;
    }
    *out = (struct mb_method_model *)m;
    return MB_OK;
}

static int emg_mae_predict(float *P, const struct mb_method_model *mm, const struct cp_set *test)
{
    return mth_probe_predict(P, &((const struct emg_mae *)mm)->p, test);
}

static int emg_mae_embed(float *Z, size_t *E, const struct mb_method_model *mm, const struct cp_set *x)
{
    const struct emg_mae *m = (const struct emg_mae *)mm;
    if (E)
        *E = mth_probe_dim(&m->p);
    return mth_probe_embed(Z, &m->p, x);
}

static size_t emg_mae_dim(const struct mb_method_model *mm)
{
    return mth_probe_dim(&((const struct emg_mae *)mm)->p);
}

static void emg_mae_hash(char hex[65], const struct mb_method_model *mm)
{
    mth_probe_hash(hex, &((const struct emg_mae *)mm)->p);
}

const struct mb_method mb_method_emg_mae = {
    .name = "emg-mae",
    .summary = "transformer over 100 ms EMG patches pre-trained by masked autoencoding (50 %), frozen; logistic head",
    .caps = MB_CAP_CLASSIFY | MB_CAP_EMBED,
    .params = emg_mae_params,
    .hp_size = sizeof(struct emg_mae_hp),
    .check = emg_mae_check,
    .fit = emg_mae_fit,
    .predict_proba = emg_mae_predict,
    .embed = emg_mae_embed,
    .param_hash = emg_mae_hash,
    .free = emg_mae_free,
    .embed_dim = emg_mae_dim,
};
