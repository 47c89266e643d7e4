/* methods/common.c - the encoder set-up from a corpus view (common.h). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "methods/common.h"

int mth_check_enc(const struct mth_enc_hp *hp, const char *name)
{
    if (hp->width % hp->heads)
        return mb_error(MB_EINVAL, "%s: width %ld is not a multiple of heads %ld", name, hp->width, hp->heads);
    return MB_OK;
}

const float **mth_rows(const struct cp_set *s, enum mth_src src)
{
    const struct cp_corpus *c = s->c;
    const float **r = malloc((s->n + 1) * sizeof *r);
    if (!r) {
        mb_error(MB_ENOMEM, "out of memory for %zu rows", s->n);
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++)
        r[i] = src == MTH_EMG ? c->x + s->idx[i] * c->W * c->C : cp_pose_row(c, s->idx[i]);
    return r;
}

int mth_valid_pose(struct cp_set *out, size_t **buf, const struct cp_set *in)
{
    const struct cp_corpus *c = in->c;
    *buf = malloc((in->n + 1) * sizeof **buf);
    if (!*buf)
        return mb_error(MB_ENOMEM, "out of memory");
    size_t n = 0;
    for (size_t k = 0; k < in->n; k++)
        if (!c->pose_valid || c->pose_valid[in->idx[k]])
            (*buf)[n++] = in->idx[k];   /* IK failures carry no pose */
    *out = (struct cp_set){ c, n, *buf };
    if (n < 2)
        return mb_error(MB_EINVAL, "corpus '%s': %zu training windows with a valid pose", c->name ? c->name : "?", n);
    return MB_OK;
}

struct menc_cfg mth_cfg(const struct mth_enc_hp *hp, const struct cp_corpus *c, enum mth_src src)
{
    struct menc_cfg g = {
        .D = (size_t)hp->width, .L = (size_t)hp->layers, .H = (size_t)hp->heads, .F = 2 * (size_t)hp->width,
        .cls = (int)hp->cls, .Dd = (size_t)hp->dec_width, .mask_ratio = hp->mask,
    };
    if (src == MTH_EMG) {
        /* the view's rate; a native view (rate 0) implies it from W */
        double rate = c->view.rate_hz > 0 ? c->view.rate_hz
                      : c->view.window_ms > 0 ? (double)c->W * 1000.0 / c->view.window_ms : 1000.0;
        size_t P = (size_t)floor(hp->patch_ms * rate / 1000.0 + 0.5);
        g.T = c->W;
        g.C = c->C;
        g.rectify = (int)hp->rectify;
        g.P = P ? P : 1;
    } else if (c->pose_seq) {
        /* the pose sequence over the window, patched over time like the EMG
         * (CPEP): Wp frames of J joints, patch_ms worth of frames per token */
        double frame_ms = c->view.window_ms > 0 ? c->view.window_ms / (double)c->Wp : 20.0;
        size_t P = (size_t)floor(hp->patch_ms / frame_ms + 0.5);
        g.T = c->Wp;
        g.C = c->J;
        g.P = P < 1 ? 1 : P > c->Wp ? c->Wp : P;
    } else {
        /* a corpus with end poses only (hand-built): one token per pose_patch joints */
        g.T = c->J;
        g.C = 1;
        g.P = (size_t)hp->pose_patch;
    }
    return g;
}

int mth_encoder_fit(struct menc *e, struct mth_curve *curve, const struct menc_cfg *g, const struct mth_train *t,
                    const struct cp_set *train, enum mth_src src, uint64_t seed)
{
    const struct cp_corpus *c = train->c;
    if (src == MTH_POSE && !c->J)
        return mb_error(MB_EINVAL, "corpus '%s' has no pose stream", c->name ? c->name : "?");
    /* the two encoders of a model draw from distinct streams of the seed */
    uint64_t s = seed ^ (src == MTH_EMG ? 0x9e3779b97f4a7c15ull : 0xc2b2ae3d27d4eb4full);
    int rc = menc_init(e, g, s);
    if (rc)
        return rc;
    const float **rows = mth_rows(train, src);
    if (!rows)
        return MB_ENOMEM;
    rc = menc_fit_scaler(e, rows, train->n);
    if (!rc && t->steps > 0 && !(rc = mth_curve_alloc(curve, t->steps)))
        rc = menc_train_mae(e, rows, train->n, t, s, curve->v);
    free(rows);
    return rc;
}

int mth_encoder_embed(float *Z, const struct menc *e, const struct cp_set *x, enum mth_src src, const char *who)
{
    if (src == MTH_POSE && !x->c->J)
        return mb_error(MB_EINVAL, "%s: corpus '%s' has no pose stream", who, x->c->name ? x->c->name : "?");
    const float **rows = mth_rows(x, src);
    if (!rows)
        return MB_ENOMEM;
    int rc = menc_embed(Z, e, rows, x->n);
    free(rows);
    return rc;
}
