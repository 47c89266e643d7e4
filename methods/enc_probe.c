/* methods/enc_probe.c - a frozen pre-trained encoder with a logistic head
 * (enc_probe.h). */
#include "methods/enc_probe.h"

#include <stdlib.h>
#include <string.h>

#include "core/fs.h"

static int embed_ctx(float *Z, const void *ctx, const struct cp_set *x)
{
    return mth_probe_embed(Z, ctx, x);
}

int mth_probe_fit(struct mth_probe *p, const char *who, enum mth_src src, const struct mth_enc_hp *enc,
                  const struct mth_opt_hp *opt, long steps, const struct cp_set *train, const int32_t *classes,
                  size_t K, uint64_t seed, struct mb_shared *sh)
{
    memset(p, 0, sizeof *p);
    p->who = who;
    p->src = src;
    const struct cp_corpus *c = train->c;
    if (src == MTH_POSE && !c->J)
        return mb_error(MB_EINVAL, "%s: corpus '%s' has no pose stream", who, c->name ? c->name : "?");
    struct cp_set vp = *train;
    size_t *vbuf = NULL;
    int rc = MB_OK;
    if (src == MTH_POSE)   /* IK failures carry no pose to learn from */
        rc = mth_valid_pose(&vp, &vbuf, train);
    struct menc_cfg g = mth_cfg(enc, c, src);
    struct mth_train t = mth_train_cfg(opt, steps);
    if (!rc && !(rc = mth_encoder_fit_shared(&p->enc, &p->loss, &g, &t, &vp, src, seed, sh)))
        rc = mth_head_fit(&p->head, embed_ctx, p, mth_probe_dim(p), &vp, classes, K, seed, who);
    free(vbuf);
    return rc;
}

size_t mth_probe_dim(const struct mth_probe *p) { return p->enc.cfg.D; }

int mth_probe_embed(float *Z, const struct mth_probe *p, const struct cp_set *x)
{
    return mth_encoder_embed(Z, &p->enc, x, p->src, p->who);
}

int mth_probe_predict(float *P, const struct mth_probe *p, const struct cp_set *x)
{
    return mth_head_predict(P, &p->head, embed_ctx, p, mth_probe_dim(p), x);
}

void mth_probe_hash(char hex[65], const struct mth_probe *p)
{
    char h[65];
    menc_hash(h, &p->enc);
    mb_sha256_hex(hex, h, 64);
}

void mth_probe_release(struct mth_probe *p)
{
    menc_release(&p->enc);
    mth_curve_release(&p->loss);
    mth_head_release(&p->head);
}
