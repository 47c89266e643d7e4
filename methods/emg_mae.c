/* methods/emg_mae.c - 'emg-mae': the EMG masked autoencoder of CPEP's
 * stage 1 (methods.md §6.1) as a method of its own. The encoder is trained
 * by MAE on the training windows only (labels unused); embed() is its
 * pooled output; predict_proba() a logistic regression on that frozen
 * embedding. docs/METHODS.md. */
#include "methods/internal.h"

static int emg_mae_fit(struct mb_method_model **out, const struct cp_set *train, const int32_t *classes,
                       size_t K, const void *hp, uint64_t seed, struct mb_shared *sh)
{
    int rc;
    struct mb_method_model *m = mth_model_new("emg-mae", hp, seed, &rc);
    *out = NULL;
    if (!m)
        return rc;
    m->src = MTH_EMG;
    m->has_emg = 1;
    if (!(rc = mth_encoder_fit(&m->emg, &m->loss_emg, &m->n_loss_emg, &m->hp, train, MTH_EMG, seed,
                               (long)m->hp.mae_steps)))
        rc = mth_fit_head(m, train, classes, K);
    if (rc) {
        mth_free(m);
        return rc;
    }
    *out = m;
    return MB_OK;
}

const struct mb_method mb_method_emg_mae = {
    .name = "emg-mae",
    .summary = "transformer over 100 ms EMG patches pre-trained by masked autoencoding (50 %), frozen; logistic head",
    .caps = MB_CAP_CLASSIFY | MB_CAP_EMBED,
    .params = mth_params,
    .hp_size = sizeof(struct mth_hp),
    .check = mth_check,
    .fit = emg_mae_fit,
    .predict_proba = mth_predict_proba,
    .embed = mth_embed,
    .param_hash = mth_param_hash,
    .free = mth_free,
    .embed_dim = mth_embed_dim,
};
