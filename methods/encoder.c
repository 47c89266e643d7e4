/* methods/encoder.c - the shared patch transformer encoder and its MAE
 * decoder (contract in encoder.h, architecture in docs/METHODS.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "methods/encoder.h"

/* Decoder block shape: ViT-MAE's decoder is narrower than the encoder;
 * one block of width Dd with a 2x feed-forward is the light version. */
static size_t dec_ffn(const struct menc *e) { return 2 * e->cfg.Dd; }
static size_t dec_heads(const struct menc *e) { return e->cfg.Dd % e->cfg.H ? 1 : e->cfg.H; }
static size_t n_visible(const struct menc *e)
{
    /* at least one visible and, when there are two patches or more, at
     * least one masked: otherwise there is nothing to reconstruct */
    size_t nm = (size_t)floor(e->Np * e->cfg.mask_ratio + 0.5);
    if (nm >= e->Np)
        nm = e->Np - 1;
    if (nm == 0 && e->Np > 1)
        nm = 1;
    return e->Np - nm;
}

/* One tensor of the layout, its views in the struct menc (*rc: the first error). */
static void add(struct nn_params *p, int *rc, const char *name, int decay, int nd, size_t a, size_t b, float **view,
                float **gview)
{
    if (*rc < 0)
        return;
    size_t sh[2] = { a, b };
    int r = nn_params_add(p, name, decay, nd, sh, view, gview);
    if (r < 0)
        *rc = r;
}

int menc_init(struct menc *e, const struct menc_cfg *cfg, uint64_t seed)
{
    memset(e, 0, sizeof *e);
    e->cfg = *cfg;
    struct menc_cfg *c = &e->cfg;
    if (!c->T || !c->C || !c->P || !c->D || !c->L || !c->H || !c->F || !c->Dd)
        return mb_error(MB_EINVAL, "encoder: every size must be positive (T %zu C %zu P %zu D %zu L %zu H %zu F %zu Dd %zu)",
                        c->T, c->C, c->P, c->D, c->L, c->H, c->F, c->Dd);
    if (c->D % c->H)
        return mb_error(MB_EINVAL, "encoder: width %zu is not a multiple of the %zu heads", c->D, c->H);
    if (c->L > MENC_MAX_LAYERS)
        return mb_error(MB_EINVAL, "encoder: %zu layers, at most %d", c->L, MENC_MAX_LAYERS);
    if (!(c->mask_ratio >= 0 && c->mask_ratio < 1))
        return mb_error(MB_EINVAL, "encoder: mask ratio %g outside [0, 1)", c->mask_ratio);
    if (c->P > c->T)
        c->P = c->T;   /* a window shorter than a patch is one patch */
    e->Np = c->T / c->P;
    e->Tp = e->Np * c->P;
    size_t D = c->D, PC = c->P * c->C, Dd = c->Dd;
    e->mean = calloc(c->C, sizeof *e->mean);
    e->istd = malloc(c->C * sizeof *e->istd);
    if (!e->mean || !e->istd) {
        menc_release(e);
        return mb_error(MB_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < c->C; k++)
        e->istd[k] = 1;
    struct nn_params *p = &e->p;
    int rc = 0;
    char pre[32];
#define ADD(name, decay, nd, a, b, field) add(p, &rc, name, decay, nd, a, b, &e->field, &e->g##field)
    ADD("pe.w", 1, 2, D, PC, pe_w);
    ADD("pe.b", 0, 1, D, 1, pe_b);
    ADD("pos", 0, 2, e->Np, D, pos);
    if (c->cls)
        ADD("cls", 0, 1, D, 1, cls);
    for (size_t l = 0; l < c->L && rc >= 0; l++) {
        snprintf(pre, sizeof pre, "enc.%zu.", l);
        rc = nn_block_add_params(p, pre, D, c->F, &e->blk[l], &e->gblk[l]);
    }
    ADD("lnf.w", 0, 1, D, 1, lnf_w);
    ADD("lnf.b", 0, 1, D, 1, lnf_b);
    ADD("de.w", 1, 2, Dd, D, de_w);
    ADD("de.b", 0, 1, Dd, 1, de_b);
    ADD("mtok", 0, 1, Dd, 1, mtok);
    ADD("dpos", 0, 2, e->Np, Dd, dpos);
    if (rc >= 0)
        rc = nn_block_add_params(p, "dec.", Dd, dec_ffn(e), &e->dblk, &e->gdblk);
    ADD("dln.w", 0, 1, Dd, 1, dln_w);
    ADD("dln.b", 0, 1, Dd, 1, dln_b);
    ADD("do.w", 1, 2, PC, Dd, do_w);
    ADD("do.b", 0, 1, PC, 1, do_b);
#undef ADD
    if (rc < 0 || (rc = nn_params_alloc(p))) {
        menc_release(e);
        return rc;
    }
    struct mb_rng r;
    mb_rng_seed(&r, seed, 0x656e63);   /* "enc": the init stream */
    /* PyTorch's nn.Linear default for linear maps, N(0, 0.02^2) for the
     * learned embeddings and tokens (ViT/MAE) */
    nn_init_uniform(e->pe_w, D * PC, 1.0f / sqrtf((float)PC), &r);
    nn_init_normal(e->pos, e->Np * D, 0.02f, &r);
    if (c->cls)
        nn_init_normal(e->cls, D, 0.02f, &r);
    for (size_t l = 0; l < c->L; l++)
        nn_block_init(&e->blk[l], D, c->F, &r);
    nn_init_const(e->lnf_w, D, 1);
    nn_init_uniform(e->de_w, Dd * D, 1.0f / sqrtf((float)D), &r);
    nn_init_normal(e->mtok, Dd, 0.02f, &r);
    nn_init_normal(e->dpos, e->Np * Dd, 0.02f, &r);
    nn_block_init(&e->dblk, Dd, dec_ffn(e), &r);
    nn_init_const(e->dln_w, Dd, 1);
    nn_init_uniform(e->do_w, PC * Dd, 1.0f / sqrtf((float)Dd), &r);
    return MB_OK;
}

void menc_release(struct menc *e)
{
    free(e->mean);
    free(e->istd);
    nn_params_release(&e->p);
    memset(e, 0, sizeof *e);
}

int menc_fit_scaler(struct menc *e, const float *const *rows, size_t n)
{
    size_t T = e->cfg.T, C = e->cfg.C;
    for (size_t c = 0; c < C; c++) {
        double s = 0, s2 = 0;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t t = 0; t < T; t++) {
                double v = rows[i][t * C + c];
                if (e->cfg.rectify)
                    v = fabs(v);
                if (isfinite(v)) {
                    s += v;
                    s2 += v * v;
                    k++;
                }
            }
        double m = k ? s / (double)k : 0, var = k ? s2 / (double)k - m * m : 0;
        e->mean[c] = (float)m;
        /* a constant channel (dead electrode, fixed joint) keeps scale 1 */
        e->istd[c] = var > 1e-20 ? (float)(1 / sqrt(var)) : 1.0f;
    }
    return MB_OK;
}

void menc_ws_release(struct menc_ws *w)
{
    if (w->act)
        for (size_t l = 0; l < MENC_MAX_LAYERS; l++)
            nn_block_act_release(&w->act[l]);
    nn_block_act_release(&w->da);
    nn_block_act_release(&w->dact);
    nn_block_act_release(&w->dda);
    if (w->h)
        for (size_t l = 0; l <= MENC_MAX_LAYERS; l++)
            free(w->h[l]);
    float *bufs[] = { w->xin, w->tok, w->dtok, w->dh0, w->dh1, w->z, w->lmean, w->lrstd, w->dz, w->pool,
                      w->dpool, w->dein, w->ddein, w->dseq, w->ddseq, w->dy, w->ddy, w->dln, w->dlnm,
                      w->dlnr, w->ddln, w->pred, w->dpred };
    for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++)
        free(bufs[k]);
    free(w->h);
    free(w->act);
    free(w->vis);
    free(w->mask);
    memset(w, 0, sizeof *w);
}

int menc_ws_alloc(struct menc_ws *w, const struct menc *e, size_t B)
{
    memset(w, 0, sizeof *w);
    const struct menc_cfg *c = &e->cfg;
    size_t D = c->D, Np = e->Np, Tt = Np + (c->cls ? 1 : 0), Dd = c->Dd, PC = c->P * c->C;
    w->B = B;
    int ok = 1;
#define A(ptr, n) (ok = ok && ((ptr) = malloc(((n) + 1) * sizeof *(ptr))) != NULL)
    A(w->xin, B * e->Tp * c->C);
    A(w->tok, B * Np * D);
    A(w->dtok, B * Np * D);
    A(w->dh0, B * Tt * D);
    A(w->dh1, B * Tt * D);
    A(w->z, B * Tt * D);
    A(w->lmean, B * Tt);
    A(w->lrstd, B * Tt);
    A(w->dz, B * Tt * D);
    A(w->pool, B * D);
    A(w->dpool, B * D);
    A(w->vis, B * Np);
    A(w->mask, B * Np);
    A(w->dein, B * Tt * Dd);
    A(w->ddein, B * Tt * Dd);
    A(w->dseq, B * Np * Dd);
    A(w->ddseq, B * Np * Dd);
    A(w->dy, B * Np * Dd);
    A(w->ddy, B * Np * Dd);
    A(w->dln, B * Np * Dd);
    A(w->dlnm, B * Np);
    A(w->dlnr, B * Np);
    A(w->ddln, B * Np * Dd);
    A(w->pred, B * Np * PC);
    A(w->dpred, B * Np * PC);
#undef A
    w->h = calloc(MENC_MAX_LAYERS + 1, sizeof *w->h);
    w->act = calloc(MENC_MAX_LAYERS, sizeof *w->act);
    if (!ok || !w->h || !w->act) {
        menc_ws_release(w);
        return mb_error(MB_ENOMEM, "out of memory for an encoder batch of %zu", B);
    }
    for (size_t l = 0; l <= c->L; l++)
        if (!(w->h[l] = malloc(B * Tt * D * sizeof *w->h[l]))) {
            menc_ws_release(w);
            return mb_error(MB_ENOMEM, "out of memory for an encoder batch of %zu", B);
        }
    int rc = MB_OK;
    for (size_t l = 0; l < c->L && !rc; l++)
        rc = nn_block_act_alloc(&w->act[l], B, Tt, D, c->F, c->H);
    if (!rc)
        rc = nn_block_act_alloc(&w->da, B, Tt, D, c->F, c->H);
    if (!rc)
        rc = nn_block_act_alloc(&w->dact, B, Np, Dd, dec_ffn(e), dec_heads(e));
    if (!rc)
        rc = nn_block_act_alloc(&w->dda, B, Np, Dd, dec_ffn(e), dec_heads(e));
    if (rc) {
        menc_ws_release(w);
        return rc;
    }
    return MB_OK;
}

void menc_fill(struct menc_ws *w, const struct menc *e, const float *const *rows, size_t B)
{
    size_t C = e->cfg.C, skip = (e->cfg.T - e->Tp) * C, n = e->Tp * C;
    for (size_t b = 0; b < B; b++) {
        const float *src = rows[b] + skip;
        float *dst = w->xin + b * n;
        for (size_t k = 0; k < n; k++) {
            size_t c = k % C;
            float v = ((e->cfg.rectify ? fabsf(src[k]) : src[k]) - e->mean[c]) * e->istd[c];
            dst[k] = isfinite(v) ? v : 0.0f;   /* a missing sample (invalid pose) reads as the mean */
        }
    }
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

size_t menc_forward(struct menc_ws *w, const struct menc *e, size_t B, int masked, struct mb_rng *r)
{
    const struct menc_cfg *c = &e->cfg;
    size_t D = c->D, Np = e->Np, cls = c->cls ? 1 : 0;
    size_t Nv = masked ? n_visible(e) : Np, Tt = Nv + cls;
    MB_ASSERT(B <= w->B);
    w->Nv = Nv;
    w->Tt = Tt;
    nn_patch_embed_forward(w->tok, w->xin, e->pe_w, e->pe_b, B, e->Tp, c->C, c->P, D);
    nn_pos_embed_forward(w->tok, w->tok, e->pos, B, Np, D);
    const float *seq = w->tok;
    if (masked) {
        /* per window: a seeded permutation, its first Nv entries visible
         * (kept in time order) */
        float *g = cls ? w->dh0 : w->h[0];
        for (size_t b = 0; b < B; b++) {
            int *v = w->vis + b * Np;
            for (size_t i = 0; i < Np; i++)
                v[i] = (int)i;
            mb_rng_shuffle_int(r, v, Np);
            qsort(v, Nv, sizeof *v, cmp_int);
            memset(w->mask + b * Np, 1, Np);
            for (size_t j = 0; j < Nv; j++) {
                w->mask[b * Np + (size_t)v[j]] = 0;
                memcpy(g + (b * Nv + j) * D, w->tok + (b * Np + (size_t)v[j]) * D, D * sizeof *g);
            }
        }
        seq = g;
    }
    if (cls)
        nn_cls_prepend_forward(w->h[0], seq, e->cls, B, Nv, D);
    else if (seq != w->h[0])
        memcpy(w->h[0], seq, B * Nv * D * sizeof *seq);
    for (size_t l = 0; l < c->L; l++)
        nn_block_forward(w->h[l + 1], &w->act[l], &e->blk[l], w->h[l], NULL, NULL, B, Tt, D, c->F, c->H);
    nn_layernorm_forward(w->z, w->lmean, w->lrstd, w->h[c->L], e->lnf_w, e->lnf_b, B * Tt, D);
    if (cls)
        nn_take_forward(w->pool, w->z, 0, B, Tt, D);
    else
        nn_mean_pool_forward(w->pool, w->z, NULL, B, Tt, D);
    return Tt;
}

void menc_backward(struct menc_ws *w, const struct menc *e, size_t B, int masked)
{
    const struct menc_cfg *c = &e->cfg;
    size_t D = c->D, Np = e->Np, cls = c->cls ? 1 : 0, Nv = w->Nv, Tt = w->Tt;
    if (cls)
        nn_take_backward(w->dz, w->dpool, 0, B, Tt, D);
    else
        nn_mean_pool_backward(w->dz, w->dpool, NULL, B, Tt, D);
    float *cur = w->dh1, *oth = w->dh0;
    memset(cur, 0, B * Tt * D * sizeof *cur);
    nn_layernorm_backward(cur, e->glnf_w, e->glnf_b, w->dz, w->h[c->L], w->lmean, w->lrstd, e->lnf_w, B * Tt, D);
    for (size_t l = c->L; l-- > 0;) {
        memset(oth, 0, B * Tt * D * sizeof *oth);
        nn_block_backward(oth, &e->gblk[l], &w->da, cur, &w->act[l], &e->blk[l], w->h[l], B, Tt, D, c->F, c->H);
        float *t = cur;
        cur = oth;
        oth = t;
    }
    const float *dseq = cur;   /* [B x Nv x D] gradient of the patch tokens that entered */
    if (cls) {
        memset(oth, 0, B * Nv * D * sizeof *oth);
        nn_cls_prepend_backward(oth, e->gcls, cur, B, Nv, D);
        dseq = oth;
    }
    if (masked) {
        memset(w->dtok, 0, B * Np * D * sizeof *w->dtok);
        for (size_t b = 0; b < B; b++)
            for (size_t j = 0; j < Nv; j++) {
                float *d = w->dtok + (b * Np + (size_t)w->vis[b * Np + j]) * D;
                const float *s = dseq + (b * Nv + j) * D;
                for (size_t k = 0; k < D; k++)
                    d[k] += s[k];
            }
    } else {
        memcpy(w->dtok, dseq, B * Np * D * sizeof *w->dtok);
    }
    nn_pos_embed_backward(NULL, e->gpos, w->dtok, B, Np, D);
    nn_patch_embed_backward(NULL, e->gpe_w, e->gpe_b, w->dtok, w->xin, e->pe_w, B, e->Tp, c->C, c->P, D);
}

float menc_mae_loss(struct menc_ws *w, const struct menc *e, size_t B, struct mb_rng *r)
{
    const struct menc_cfg *c = &e->cfg;
    size_t D = c->D, Np = e->Np, cls = c->cls ? 1 : 0, Dd = c->Dd, PC = c->P * c->C;
    size_t Fd = dec_ffn(e), Hd = dec_heads(e);
    size_t Tt = menc_forward(w, e, B, 1, r), Nv = w->Nv;
    nn_linear_forward(w->dein, w->z, e->de_w, e->de_b, B * Tt, D, Dd);
    for (size_t b = 0; b < B; b++) {
        for (size_t i = 0; i < Np; i++)
            if (w->mask[b * Np + i])
                memcpy(w->dseq + (b * Np + i) * Dd, e->mtok, Dd * sizeof *e->mtok);
        for (size_t j = 0; j < Nv; j++)
            memcpy(w->dseq + (b * Np + (size_t)w->vis[b * Np + j]) * Dd, w->dein + (b * Tt + cls + j) * Dd,
                   Dd * sizeof *w->dein);
    }
    nn_pos_embed_forward(w->dseq, w->dseq, e->dpos, B, Np, Dd);
    nn_block_forward(w->dy, &w->dact, &e->dblk, w->dseq, NULL, NULL, B, Np, Dd, Fd, Hd);
    nn_layernorm_forward(w->dln, w->dlnm, w->dlnr, w->dy, e->dln_w, e->dln_b, B * Np, Dd);
    nn_linear_forward(w->pred, w->dln, e->do_w, e->do_b, B * Np, Dd, PC);
    /* target: the standardised input patch, which is exactly xin viewed
     * as [B*Np x P*C] (patches are time-major flattened) */
    float loss = nn_mse_forward(w->pred, w->xin, w->mask, B * Np, PC);

    memset(w->dpred, 0, B * Np * PC * sizeof *w->dpred);
    nn_mse_backward(w->dpred, w->pred, w->xin, w->mask, 1.0f, B * Np, PC);
    memset(w->ddln, 0, B * Np * Dd * sizeof *w->ddln);
    nn_linear_backward(w->ddln, e->gdo_w, e->gdo_b, w->dpred, w->dln, e->do_w, B * Np, Dd, PC);
    memset(w->ddy, 0, B * Np * Dd * sizeof *w->ddy);
    nn_layernorm_backward(w->ddy, e->gdln_w, e->gdln_b, w->ddln, w->dy, w->dlnm, w->dlnr, e->dln_w, B * Np, Dd);
    memset(w->ddseq, 0, B * Np * Dd * sizeof *w->ddseq);
    nn_block_backward(w->ddseq, &e->gdblk, &w->dda, w->ddy, &w->dact, &e->dblk, w->dseq, B, Np, Dd, Fd, Hd);
    nn_pos_embed_backward(NULL, e->gdpos, w->ddseq, B, Np, Dd);
    memset(w->ddein, 0, B * Tt * Dd * sizeof *w->ddein);
    for (size_t b = 0; b < B; b++) {
        for (size_t i = 0; i < Np; i++)
            if (w->mask[b * Np + i])
                for (size_t k = 0; k < Dd; k++)
                    e->gmtok[k] += w->ddseq[(b * Np + i) * Dd + k];
        for (size_t j = 0; j < Nv; j++)
            memcpy(w->ddein + (b * Tt + cls + j) * Dd, w->ddseq + (b * Np + (size_t)w->vis[b * Np + j]) * Dd,
                   Dd * sizeof *w->ddein);
    }
    memset(w->dz, 0, B * Tt * D * sizeof *w->dz);
    memset(w->dpool, 0, B * D * sizeof *w->dpool);
    nn_linear_backward(w->dz, e->gde_w, e->gde_b, w->ddein, w->z, e->de_w, B * Tt, D, Dd);
    menc_backward(w, e, B, 1);
    return loss;
}

int menc_train_mae(struct menc *e, const float *const *rows, size_t n, const struct mth_train *t,
                   uint64_t seed, float *loss_curve)
{
    if (!n)
        return mb_error(MB_EINVAL, "MAE: no training windows");
    size_t B = t->batch < n ? t->batch : n;
    struct menc_ws w;
    int rc = menc_ws_alloc(&w, e, B);
    if (rc)
        return rc;
    int *perm = malloc(n * sizeof *perm);
    const float **brows = malloc(B * sizeof *brows);
    if (!perm || !brows) {
        free(perm);
        free(brows);
        menc_ws_release(&w);
        return mb_error(MB_ENOMEM, "out of memory");
    }
    int prev = nn_set_blas_threads(1);
    struct mb_rng rb, rm;
    mb_rng_seed(&rb, seed, 1);
    mb_rng_seed(&rm, seed, 2);
    for (size_t i = 0; i < n; i++)
        perm[i] = (int)i;
    size_t at = n;
    struct nn_adamw opt = NN_ADAMW_DEFAULT;
    opt.weight_decay = t->wd;
    /* a fresh optimiser: moments from an earlier loop do not carry over */
    memset(e->p.m, 0, e->p.total * sizeof *e->p.m);
    memset(e->p.v, 0, e->p.total * sizeof *e->p.v);
    for (long s = 0; s < t->steps; s++) {
        /* epochs of a seeded permutation, the remainder dropped */
        if (at + B > n) {
            mb_rng_shuffle_int(&rb, perm, n);
            at = 0;
        }
        for (size_t b = 0; b < B; b++)
            brows[b] = rows[perm[at + b]];
        at += B;
        menc_fill(&w, e, brows, B);
        nn_params_zero_grad(&e->p);
        float loss = menc_mae_loss(&w, e, B, &rm);
        if (!isfinite(loss)) {
            rc = mb_error(MB_ENUM, "MAE: loss is %g at step %ld", (double)loss, s);
            break;
        }
        if (loss_curve)
            loss_curve[s] = loss;
        nn_clip_grad_norm(e->p.grad, e->p.total, t->clip);
        nn_adamw_step(&e->p, &opt, nn_lr_cosine(s, t->warmup, t->steps, t->lr, t->lr_min), s + 1);
    }
    nn_set_blas_threads(prev);
    free(perm);
    free(brows);
    menc_ws_release(&w);
    return rc;
}

int menc_embed(float *Z, const struct menc *e, const float *const *rows, size_t n)
{
    if (!n)
        return MB_OK;
    size_t B = n < 256 ? n : 256, D = e->cfg.D;
    struct menc_ws w;
    int rc = menc_ws_alloc(&w, e, B);
    if (rc)
        return rc;
    int prev = nn_set_blas_threads(1);
    for (size_t i = 0; i < n; i += B) {
        size_t b = n - i < B ? n - i : B;
        menc_fill(&w, e, rows + i, b);
        menc_forward(&w, e, b, 0, NULL);
        memcpy(Z + i * D, w.pool, b * D * sizeof *Z);
    }
    nn_set_blas_threads(prev);
    menc_ws_release(&w);
    for (size_t i = 0; i < n * D; i++)
        if (!isfinite(Z[i]))
            return mb_error(MB_ENUM, "encoder: non-finite embedding of window %zu", i / D);
    return MB_OK;
}

void menc_hash(char hex[65], const struct menc *e)
{
    char h[3][65], cat[3 * 64 + 1];
    mb_sha256_hex(h[0], e->p.data, e->p.total * sizeof *e->p.data);
    mb_sha256_hex(h[1], e->mean, e->cfg.C * sizeof *e->mean);
    mb_sha256_hex(h[2], e->istd, e->cfg.C * sizeof *e->istd);
    snprintf(cat, sizeof cat, "%s%s%s", h[0], h[1], h[2]);
    mb_sha256_hex(hex, cat, 3 * 64);
}
