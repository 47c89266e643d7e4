/* methods/embridge.c - 'embridge' (Cui et al., ICLR 2026) and 'qformer' (its
 * Q-Former row) at small scale; ../shared/docs/methods-next.md 1.1 and
 * docs/METHODS.md give every choice, and which are reconstructions:
 *   stage 1  the EMG MAE and the pose MAE, as cpep's (shared with it through
 *            the plan's shared work when the encoder keys agree);
 *   stage 2  the pose encoder FROZEN. A Q-Former of M learnable queries,
 *            whose blocks are copies of the pose MAE's blocks (so its depth
 *            is the pose encoder's: `layers`), with a cross-attention
 *            sub-layer to every EMG output token in blocks 0, 2, ... (BLIP-2's
 *            every other layer), and the pose encoder's final layer norm.
 *            Trained with the EMG encoder:
 *              InfoNCE of the best query (the query closest to the window's
 *                pose embedding, EMG -> pose direction);
 *              + alpha CASCLe: the same logits against soft targets from the
 *                pose embeddings' top-k_c affinities to N_c fixed spherical
 *                k-means centroids (diagonal removed);
 *              + lambda MPRL: a second pass through the same blocks without
 *                cross-attention, [Q'; masked pose tokens] with queries
 *                barred from the pose tokens, reconstructing the masked pose
 *                patches through a light decoder (layer norm + linear).
 *   embed    the mean of the M query outputs (linear probe);
 *   zero-shot the mean query against the pose references (10-NN vote).
 * qformer: the same bridge with InfoNCE only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fs.h"
#include "kernels/kmeans.h"
#include "methods/common.h"
#include "methods/head.h"
#include "methods/hooks.h"
#include "methods/hp_keys.h"
#include "methods/method.h"
#include "methods/pose_vote.h"

struct emb_hp {
    long mae_steps, align_steps;
    struct mth_opt_hp opt;
    struct mth_enc_hp enc;       /* both encoders'; the Q-Former copies the pose encoder's */
    double temp;
    int learn_temp;
    long knn;
    long queries;                /* M */
    int mprl, cascle;            /* the two extra objectives (qformer: both off) */
    double alpha, lambda;        /* their weights */
    double tau_s;                /* CASCLe's target temperature */
    long n_c, k_c;               /* centroids (0: 4 per training class, at least 16), kept per row */
    double pose_mask;            /* MPRL's share of masked pose tokens */
};

#define S struct emb_hp
#define EMB_P_QUERIES MTH_KEY("queries", MB_PT_INT, S, queries, 16, 1, 256, "learnable queries M of the Q-Former")
#define EMB_P_MPRL MTH_KEY("mprl", MB_PT_BOOL, S, mprl, 1, 0, 1, "masked pose reconstruction (MPRL) objective")
#define EMB_P_CASCLE MTH_KEY("cascle", MB_PT_BOOL, S, cascle, 1, 0, 1, "community-aware soft contrastive objective")
#define EMB_P_ALPHA MTH_KEY("alpha", MB_PT_REAL, S, alpha, 1, 0, 100, "weight of CASCLe")
#define EMB_P_LAMBDA MTH_KEY("lambda", MB_PT_REAL, S, lambda, 1, 0, 100, "weight of MPRL")
#define EMB_P_TAU_S MTH_KEY("tau_s", MB_PT_REAL, S, tau_s, 0.1, 1e-3, 10, "temperature of CASCLe's soft targets")
#define EMB_P_N_C MTH_KEY("n_c", MB_PT_INT, S, n_c, 0, 0, 4096, \
                          "CASCLe centroids (0: 4 per training class, at least 16)")
#define EMB_P_K_C MTH_KEY("k_c", MB_PT_INT, S, k_c, 3, 1, 4096, "centroids kept per pose in CASCLe's affinities")
#define EMB_P_POSE_MASK MTH_KEY("pose_mask", MB_PT_REAL, S, pose_mask, 0.5, 0.05, 0.95, \
                                "share of pose tokens MPRL masks")
#define EMB_COMMON_PARAMS                                                                                      \
    MTH_P_MAE_STEPS(S, mae_steps), MTH_P_ALIGN_STEPS(S, align_steps), MTH_P_BATCH(S, opt.batch),                \
        MTH_P_WIDTH(S, enc.width), MTH_P_LAYERS(S, enc.layers), MTH_P_HEADS(S, enc.heads),                      \
        MTH_P_DEC_WIDTH(S, enc.dec_width), MTH_P_CLS(S, enc.cls), MTH_P_RECTIFY(S, enc.rectify),                \
        MTH_P_PATCH_MS(S, enc.patch_ms), MTH_P_POSE_PATCH(S, enc.pose_patch), MTH_P_MASK(S, enc.mask),          \
        MTH_P_LR(S, opt.lr), MTH_P_WD(S, opt.wd), MTH_P_WARMUP(S, opt.warmup), MTH_P_CLIP(S, opt.clip),        \
        MTH_P_TEMP(S, temp), MTH_P_LEARN_TEMP(S, learn_temp), MTH_P_KNN(S, knn), EMB_P_QUERIES
static const struct mb_param embridge_params[] = {
    EMB_COMMON_PARAMS, EMB_P_MPRL, EMB_P_CASCLE, EMB_P_ALPHA, EMB_P_LAMBDA, EMB_P_TAU_S, EMB_P_N_C, EMB_P_K_C,
    EMB_P_POSE_MASK, MB_PARAM_END
};
static const struct mb_param qformer_params[] = { EMB_COMMON_PARAMS, MB_PARAM_END };
#undef S

/* The stage-2 model: one nn_params block, stepped by one AdamW. */
struct emb_qf {
    struct nn_params p;
    size_t L, M, D, F, H, De, Pc;          /* Pc = floats per pose patch (P x C of the pose encoder) */
    float *q, *gq;                         /* [M x D] queries */
    struct nn_block_w blk[MENC_MAX_LAYERS], gblk[MENC_MAX_LAYERS];
    struct nn_block_cross_w ca[MENC_MAX_LAYERS], gca[MENC_MAX_LAYERS];   /* used where l % 2 == 0 */
    float *lnf_w, *lnf_b, *glnf_w, *glnf_b;                              /* [D] */
    float *ls, *gls;                       /* [1] InfoNCE logit scale */
    /* MPRL (laid out only with mprl) */
    float *mtok, *gmtok;                   /* [D] */
    float *gln_w, *gln_b, *ggln_w, *ggln_b;   /* [D] decoder layer norm */
    float *gw, *gb, *ggw, *ggb;            /* [Pc x D], [Pc] */
};

struct emb {
    struct emb_hp hp;
    uint64_t seed;
    int qformer_only;
    struct menc emg, pose;
    struct emb_qf qf;
    struct mth_head head;
    struct mth_curve loss_emg, loss_pose, loss_align, loss_mprl;   /* loss_mprl: MPRL's own term, before lambda */
};

static int has_ca(size_t l) { return l % 2 == 0; }

static int emb_check(const void *hp, const char *name)
{
    return mth_check_enc(&((const struct emb_hp *)hp)->enc, name);
}

static int qf_layout(struct emb_qf *qf, const struct menc *ex, const struct menc *ep, size_t M, int mprl)
{
    qf->L = ep->cfg.L;
    qf->M = M;
    qf->D = ep->cfg.D;
    qf->F = ep->cfg.F;
    qf->H = ep->cfg.H;
    qf->De = ex->cfg.D;
    qf->Pc = ep->cfg.P * ep->cfg.C;
    size_t D = qf->D;
    int rc;
    /* the queries take weight decay, as LAVIS's BLIP-2 optimiser gives it
     * to every parameter of two or more dimensions (query_tokens is 1 x M x D) */
    if ((rc = nn_params_add(&qf->p, "qf.queries", 1, 2, (size_t[]){ M, D }, &qf->q, &qf->gq)) < 0)
        return rc;
    for (size_t l = 0; l < qf->L; l++) {
        char pre[32];
        snprintf(pre, sizeof pre, "qf.%zu.", l);
        if ((rc = nn_block_add_params(&qf->p, pre, D, qf->F, &qf->blk[l], &qf->gblk[l])))
            return rc;
        if (has_ca(l) && (rc = nn_block_add_cross_params(&qf->p, pre, D, qf->De, &qf->ca[l], &qf->gca[l])))
            return rc;
    }
    if ((rc = nn_params_add(&qf->p, "qf.lnf.w", 0, 1, (size_t[]){ D }, &qf->lnf_w, &qf->glnf_w)) < 0 ||
        (rc = nn_params_add(&qf->p, "qf.lnf.b", 0, 1, (size_t[]){ D }, &qf->lnf_b, &qf->glnf_b)) < 0 ||
        (rc = nn_params_add(&qf->p, "logit_scale", 0, 1, (size_t[]){ 1 }, &qf->ls, &qf->gls)) < 0)
        return rc;
    if (mprl &&
        ((rc = nn_params_add(&qf->p, "mprl.mask_token", 0, 1, (size_t[]){ D }, &qf->mtok, &qf->gmtok)) < 0 ||
         (rc = nn_params_add(&qf->p, "mprl.ln.w", 0, 1, (size_t[]){ D }, &qf->gln_w, &qf->ggln_w)) < 0 ||
         (rc = nn_params_add(&qf->p, "mprl.ln.b", 0, 1, (size_t[]){ D }, &qf->gln_b, &qf->ggln_b)) < 0 ||
         (rc = nn_params_add(&qf->p, "mprl.out.w", 1, 2, (size_t[]){ qf->Pc, D }, &qf->gw, &qf->ggw)) < 0 ||
         (rc = nn_params_add(&qf->p, "mprl.out.b", 0, 1, (size_t[]){ qf->Pc }, &qf->gb, &qf->ggb)) < 0))
        return rc;
    return nn_params_alloc(&qf->p);
}

static void copy_block(const struct nn_block_w *dst, const struct nn_block_w *src, size_t D, size_t F)
{
    const struct { float *d; const float *s; size_t n; } t[] = {
        { dst->ln1_w, src->ln1_w, D },         { dst->ln1_b, src->ln1_b, D },
        { dst->attn.wq, src->attn.wq, D * D }, { dst->attn.bq, src->attn.bq, D },
        { dst->attn.wk, src->attn.wk, D * D }, { dst->attn.bk, src->attn.bk, D },
        { dst->attn.wv, src->attn.wv, D * D }, { dst->attn.bv, src->attn.bv, D },
        { dst->attn.wo, src->attn.wo, D * D }, { dst->attn.bo, src->attn.bo, D },
        { dst->ln2_w, src->ln2_w, D },         { dst->ln2_b, src->ln2_b, D },
        { dst->w1, src->w1, F * D },           { dst->b1, src->b1, F },
        { dst->w2, src->w2, D * F },           { dst->b2, src->b2, D },
    };
    for (size_t k = 0; k < sizeof t / sizeof *t; k++)
        memcpy(t[k].d, t[k].s, t[k].n * sizeof *t[k].d);
}

/* Initialisation: the self-attention blocks and the final norm copied from
 * the pose MAE's encoder (the paper's "initialised by the pre-trained
 * Pose-MAE"; the norms and feed-forwards too, a block only works with its
 * own), cross-attention random as every engine linear layer (U(+-1/sqrt(fan_in)),
 * biases 0; methods-next.md's xavier / truncated normal is a reconstruction
 * too), queries N(0, 0.02^2) as BLIP-2's, the MPRL decoder's weight
 * U(+-1/sqrt(D)) with a zero bias. */
static void qf_init(struct emb_qf *qf, const struct menc *ep, double temp, uint64_t seed)
{
    struct mb_rng r;
    mb_rng_seed(&r, seed, 0x71666f72);   /* "qfor": the bridge's init stream */
    nn_init_normal(qf->q, qf->M * qf->D, 0.02f, &r);
    for (size_t l = 0; l < qf->L; l++) {
        copy_block(&qf->blk[l], &ep->blk[l], qf->D, qf->F);
        if (has_ca(l))
            nn_block_cross_init(&qf->ca[l], qf->D, qf->De, &r);
    }
    memcpy(qf->lnf_w, ep->lnf_w, qf->D * sizeof *qf->lnf_w);
    memcpy(qf->lnf_b, ep->lnf_b, qf->D * sizeof *qf->lnf_b);
    *qf->ls = logf(1.0f / (float)temp);
    if (qf->mtok) {
        nn_init_normal(qf->mtok, qf->D, 0.02f, &r);
        nn_init_const(qf->gln_w, qf->D, 1.0f);
        nn_init_uniform(qf->gw, qf->Pc * qf->D, 1.0f / sqrtf((float)qf->D), &r);
    }
}

/* Activations of one batch of up to B windows. */
struct emb_ws {
    size_t B, Tm, Np, Nm;                  /* EMG tokens (the memory), pose tokens, masked pose tokens */
    struct menc_ws wx, wp;                 /* EMG encoder (trained), pose encoder (only its input) */
    float **h, **dh;                       /* pass 1: L+1 buffers [B x M x D] each */
    struct nn_block_act *a1, *a2, da;      /* [L] pass 1, [L] pass 2, scratch (pass 2's size) */
    struct nn_block_cross_act *c1, dc;     /* [L] pass 1 cross-attention, scratch */
    float *u, *umean, *urstd, *du;         /* [B x M x D], [B*M], [B*M], [B x M x D] after the final norm */
    float *ub, *dub;                       /* [B x D] best query */
    int *idx, *labels;                     /* [B] */
    float *vb;                             /* [B x D] pose embeddings of the batch */
    float *logits, *dlogits, *probs, *probs2, *target, *lwork, *cwork;   /* [B x B] ... */
    /* pass 2 */
    float **h2;                            /* L+1 buffers [B x (M+Np) x D] */
    float *dcur, *doth;                    /* [B x (M+Np) x D] */
    float *amask;                          /* [(M+Np) x (M+Np)] */
    float *ptok;                           /* [B x Np x D] embedded pose tokens */
    unsigned char *pmask;                  /* [B*Np] 1 = masked */
    float *gz, *gmean, *grstd, *dgz;       /* [B*Np x D], [B*Np] x2, [B*Np x D] decoder norm */
    float *pred, *dpred;                   /* [B*Np x Pc] */
    float *mem;                            /* one allocation for the float buffers */
};

static void ws_release(struct emb_ws *w, size_t L)
{
    menc_ws_release(&w->wx);
    menc_ws_release(&w->wp);
    for (size_t l = 0; l < L; l++) {
        if (w->a1)
            nn_block_act_release(&w->a1[l]);
        if (w->a2)
            nn_block_act_release(&w->a2[l]);
        if (w->c1 && has_ca(l))
            nn_block_cross_act_release(&w->c1[l]);
    }
    nn_block_act_release(&w->da);
    nn_block_cross_act_release(&w->dc);
    free(w->a1);
    free(w->a2);
    free(w->c1);
    free(w->h);
    free(w->idx);
    free(w->labels);
    free(w->pmask);
    free(w->mem);
    memset(w, 0, sizeof *w);
}

/* train: also the loss buffers and, with mprl, pass 2 */
static int ws_alloc(struct emb_ws *w, const struct emb *m, size_t B, int train)
{
    const struct emb_qf *qf = &m->qf;
    memset(w, 0, sizeof *w);
    size_t L = qf->L, M = qf->M, D = qf->D, F = qf->F, H = qf->H;
    int mprl = train && qf->mtok;
    w->B = B;
    w->Tm = m->emg.Np + (m->emg.cfg.cls ? 1 : 0);
    w->Np = m->pose.Np;
    w->Nm = (size_t)lround(m->hp.pose_mask * (double)w->Np);
    if (w->Nm < 1)
        w->Nm = 1;
    if (w->Nm > w->Np)
        w->Nm = w->Np;
    size_t T2 = M + w->Np, Tm = w->Tm;
    int rc;
    if ((rc = menc_ws_alloc(&w->wx, &m->emg, B)) || (mprl && (rc = menc_ws_alloc(&w->wp, &m->pose, B))))
        goto fail;
    w->a1 = calloc(L, sizeof *w->a1);
    w->a2 = calloc(L, sizeof *w->a2);
    w->c1 = calloc(L, sizeof *w->c1);
    w->h = calloc(3 * (L + 1), sizeof *w->h);   /* h, dh, h2 */
    w->idx = malloc(B * sizeof *w->idx);
    w->labels = malloc(B * sizeof *w->labels);
    w->pmask = malloc(B * w->Np + 1);
    if (!w->a1 || !w->a2 || !w->c1 || !w->h || !w->idx || !w->labels || !w->pmask)
        goto oom;
    w->dh = w->h + (L + 1);
    w->h2 = w->h + 2 * (L + 1);
    for (size_t l = 0; l < L; l++) {
        if ((rc = nn_block_act_alloc(&w->a1[l], B, M, D, F, H)) ||
            (has_ca(l) && (rc = nn_block_cross_act_alloc(&w->c1[l], B, M, Tm, D, H))) ||
            (mprl && (rc = nn_block_act_alloc(&w->a2[l], B, T2, D, F, H))))
            goto fail;
    }
    if ((rc = nn_block_act_alloc(&w->da, B, mprl ? T2 : M, D, F, H)) ||
        (rc = nn_block_cross_act_alloc(&w->dc, B, M, Tm, D, H)))
        goto fail;
    size_t BMD = B * M * D, BT2D = B * T2 * D, BNp = B * w->Np;
    size_t lw = nn_cos_logits_work(B, B, D), cw = nn_cascle_work(B, m->hp.n_c > 0 ? (size_t)m->hp.n_c : 1, D);
    size_t n = 2 * (L + 1) * BMD + 2 * BMD + 2 * B * M + 3 * B * D + 5 * B * B + lw + cw;
    if (mprl)
        n += (L + 1) * BT2D + 2 * BT2D + T2 * T2 + BNp * D + 2 * BNp * D + 2 * BNp + 2 * BNp * qf->Pc;
    w->mem = malloc(n * sizeof *w->mem);
    if (!w->mem)
        goto oom;
    float *p = w->mem;
#define TAKE(ptr, cnt) (ptr = p, p += (cnt))
    for (size_t l = 0; l <= L; l++) {
        TAKE(w->h[l], BMD);
        TAKE(w->dh[l], BMD);
    }
    TAKE(w->u, BMD);
    TAKE(w->du, BMD);
    TAKE(w->umean, B * M);
    TAKE(w->urstd, B * M);
    TAKE(w->ub, B * D);
    TAKE(w->dub, B * D);
    TAKE(w->vb, B * D);
    TAKE(w->logits, B * B);
    TAKE(w->dlogits, B * B);
    TAKE(w->probs, B * B);
    TAKE(w->probs2, B * B);
    TAKE(w->target, B * B);
    TAKE(w->cwork, cw);
    TAKE(w->lwork, lw);
    if (mprl) {
        for (size_t l = 0; l <= L; l++)
            TAKE(w->h2[l], BT2D);
        TAKE(w->dcur, BT2D);
        TAKE(w->doth, BT2D);
        TAKE(w->amask, T2 * T2);
        TAKE(w->ptok, BNp * D);
        TAKE(w->gz, BNp * D);
        TAKE(w->dgz, BNp * D);
        TAKE(w->gmean, BNp);
        TAKE(w->grstd, BNp);
        TAKE(w->pred, BNp * qf->Pc);
        TAKE(w->dpred, BNp * qf->Pc);
        /* queries never see the pose tokens (the only route from the EMG to
         * a masked pose slot is through Q'); everything else is visible */
        for (size_t i = 0; i < T2; i++)
            for (size_t j = 0; j < T2; j++)
                w->amask[i * T2 + j] = i < M && j >= M ? -INFINITY : 0.0f;
    }
#undef TAKE
    for (size_t b = 0; b < B; b++)
        w->labels[b] = (int)b;
    return MB_OK;
oom:
    rc = mb_error(MB_ENOMEM, "%s: out of memory for a batch of %zu windows", m->qformer_only ? "qformer" : "embridge", B);
fail:
    ws_release(w, L);
    return rc;
}

/* Pass 1 on the EMG batch already in w->wx.xin: EMG encoder, Q-Former with
 * cross-attention, final norm: w->u [B x M x D]. */
static void pass1_forward(struct emb_ws *w, const struct emb *m, size_t B)
{
    const struct emb_qf *qf = &m->qf;
    size_t L = qf->L, M = qf->M, D = qf->D;
    size_t Tm = menc_forward(&w->wx, &m->emg, B, 0, NULL);
    MB_ASSERT(Tm == w->Tm);
    nn_query_expand_forward(w->h[0], qf->q, B, M, D);
    for (size_t l = 0; l < L; l++)
        nn_block_xforward(w->h[l + 1], &w->a1[l], has_ca(l) ? &w->c1[l] : NULL, &qf->blk[l],
                          has_ca(l) ? &qf->ca[l] : NULL, w->h[l], has_ca(l) ? w->wx.z : NULL, NULL, NULL, NULL, B, M,
                          Tm, D, qf->De, qf->F, qf->H);
    nn_layernorm_forward(w->u, w->umean, w->urstd, w->h[L], qf->lnf_w, qf->lnf_b, B * M, D);
}

/* Backward of pass 1 from w->du (after the norm) plus w->dh[L] (already
 * holding pass 2's gradient of Q'), into the Q-Former's and the EMG
 * encoder's gradients. */
static void pass1_backward(struct emb_ws *w, const struct emb *m, size_t B)
{
    const struct emb_qf *qf = &m->qf;
    size_t L = qf->L, M = qf->M, D = qf->D;
    nn_layernorm_backward(w->dh[L], qf->glnf_w, qf->glnf_b, w->du, w->h[L], w->umean, w->urstd, qf->lnf_w, B * M, D);
    memset(w->wx.dz, 0, B * w->Tm * qf->De * sizeof *w->wx.dz);
    for (size_t l = L; l-- > 0;) {
        memset(w->dh[l], 0, B * M * D * sizeof *w->dh[l]);
        nn_block_xbackward(w->dh[l], has_ca(l) ? w->wx.dz : NULL, &qf->gblk[l], has_ca(l) ? &qf->gca[l] : NULL, &w->da,
                           has_ca(l) ? &w->dc : NULL, w->dh[l + 1], &w->a1[l], has_ca(l) ? &w->c1[l] : NULL,
                           &qf->blk[l], has_ca(l) ? &qf->ca[l] : NULL, w->h[l], has_ca(l) ? w->wx.z : NULL, B, M,
                           w->Tm, D, qf->De, qf->F, qf->H);
    }
    nn_query_expand_backward(qf->gq, w->dh[0], B, M, D);
    memset(w->wx.dpool, 0, B * qf->De * sizeof *w->wx.dpool);
    menc_backward(&w->wx, &m->emg, B, 0);
}

/* MPRL: pass 2 over [Q'; masked pose tokens] (pose rows of the batch in
 * prows), no cross-attention, queries barred from the pose tokens; adds
 * lambda times its gradient of Q' to w->dh[L]. Returns the loss. */
static float mprl_step(struct emb_ws *w, const struct emb *m, const float *const *prows, size_t B, struct mb_rng *r)
{
    const struct emb_qf *qf = &m->qf;
    const struct menc *ep = &m->pose;
    size_t L = qf->L, M = qf->M, D = qf->D, Np = w->Np, T2 = M + Np, Pc = qf->Pc;
    menc_fill(&w->wp, ep, prows, B);
    /* frozen patch embedding + position of the pose encoder; masked tokens
     * become the learned mask token + position (MAE's decoder style) */
    nn_patch_embed_forward(w->ptok, w->wp.xin, ep->pe_w, ep->pe_b, B, ep->Tp, ep->cfg.C, ep->cfg.P, D);
    int *perm = w->wp.vis;    /* [B x Np] scratch of the pose workspace */
    memset(w->pmask, 0, B * Np);
    for (size_t b = 0; b < B; b++) {
        int *v = perm + b * Np;
        for (size_t i = 0; i < Np; i++)
            v[i] = (int)i;
        mb_rng_shuffle_int(r, v, Np);
        for (size_t j = 0; j < w->Nm; j++)
            w->pmask[b * Np + (size_t)v[j]] = 1;
        for (size_t i = 0; i < Np; i++) {
            float *t = w->ptok + (b * Np + i) * D;
            if (w->pmask[b * Np + i])
                memcpy(t, qf->mtok, D * sizeof *t);
        }
    }
    nn_pos_embed_forward(w->ptok, w->ptok, ep->pos, B, Np, D);
    float *s0 = w->h2[0];
    for (size_t b = 0; b < B; b++) {
        memcpy(s0 + b * T2 * D, w->h[L] + b * M * D, M * D * sizeof *s0);
        memcpy(s0 + (b * T2 + M) * D, w->ptok + b * Np * D, Np * D * sizeof *s0);
    }
    for (size_t l = 0; l < L; l++)
        nn_block_xforward(w->h2[l + 1], &w->a2[l], NULL, &qf->blk[l], NULL, w->h2[l], NULL, NULL, w->amask, NULL, B,
                          T2, 0, D, qf->De, qf->F, qf->H);
    /* decoder on the pose positions: rows b*Np + i of gz */
    for (size_t b = 0; b < B; b++)
        memcpy(w->dcur + b * Np * D, w->h2[L] + (b * T2 + M) * D, Np * D * sizeof *w->dcur);
    nn_layernorm_forward(w->gz, w->gmean, w->grstd, w->dcur, qf->gln_w, qf->gln_b, B * Np, D);
    nn_linear_forward(w->pred, w->gz, qf->gw, qf->gb, B * Np, D, Pc);
    /* target: the standardised pose patch, exactly the pose MAE's target */
    const float *target = w->wp.xin;   /* [B x Tp x C] = [B*Np x Pc] */
    float loss = nn_mse_forward(w->pred, target, w->pmask, B * Np, Pc);
    memset(w->dpred, 0, B * Np * Pc * sizeof *w->dpred);
    nn_mse_backward(w->dpred, w->pred, target, w->pmask, (float)m->hp.lambda, B * Np, Pc);
    memset(w->dgz, 0, B * Np * D * sizeof *w->dgz);
    nn_linear_backward(w->dgz, qf->ggw, qf->ggb, w->dpred, w->gz, qf->gw, B * Np, D, Pc);
    float *dseq = w->doth;   /* [B x T2 x D]: gradient of the last pass-2 output */
    memset(dseq, 0, B * T2 * D * sizeof *dseq);
    memset(w->dcur, 0, B * Np * D * sizeof *w->dcur);
    /* dcur held h2[L]'s pose rows; recompute them for the norm's backward */
    for (size_t b = 0; b < B; b++)
        memcpy(w->ptok + b * Np * D, w->h2[L] + (b * T2 + M) * D, Np * D * sizeof *w->ptok);
    nn_layernorm_backward(w->dcur, qf->ggln_w, qf->ggln_b, w->dgz, w->ptok, w->gmean, w->grstd, qf->gln_w, B * Np, D);
    for (size_t b = 0; b < B; b++)
        memcpy(dseq + (b * T2 + M) * D, w->dcur + b * Np * D, Np * D * sizeof *dseq);
    float *cur = dseq, *oth = w->dcur;
    for (size_t l = L; l-- > 0;) {
        memset(oth, 0, B * T2 * D * sizeof *oth);
        nn_block_xbackward(oth, NULL, &qf->gblk[l], NULL, &w->da, NULL, cur, &w->a2[l], NULL, &qf->blk[l], NULL,
                           w->h2[l], NULL, B, T2, 0, D, qf->De, qf->F, qf->H);
        float *t = cur;
        cur = oth;
        oth = t;
    }
    /* cur: gradient of [Q'; pose tokens]: Q' part into pass 1, masked
     * tokens into the mask token (the position is frozen) */
    for (size_t b = 0; b < B; b++) {
        float *dq = w->dh[L] + b * M * D;
        const float *s = cur + b * T2 * D;
        for (size_t k = 0; k < M * D; k++)
            dq[k] += s[k];
        for (size_t i = 0; i < Np; i++)
            if (w->pmask[b * Np + i]) {
                const float *g = cur + (b * T2 + M + i) * D;
                for (size_t k = 0; k < D; k++)
                    qf->gmtok[k] += g[k];
            }
    }
    return loss;
}

/* One batch's stage-2 loss (InfoNCE + alpha CASCLe + lambda MPRL) into
 * *loss_out (MPRL's own term into *lm_out) and its gradients into the EMG
 * encoder's and the bridge's gradient blocks (zeroed first): what every
 * alignment step does before its optimiser steps. MB_ENUM when the loss is
 * not finite (the gradients are then partial). */
static int loss_grad(float *loss_out, float *lm_out, struct emb *m, struct emb_ws *w, const float *const *be,
                     const float *const *bp, const float *C, size_t Nc, size_t kc, size_t B, struct mb_rng *rm)
{
    const struct emb_hp *hp = &m->hp;
    struct menc *ex = &m->emg;
    struct emb_qf *qf = &m->qf;
    size_t D = qf->D, M = qf->M;
    *lm_out = 0.0f;
    nn_params_zero_grad(&ex->p);
    nn_params_zero_grad(&qf->p);
    menc_fill(&w->wx, ex, be, B);
    pass1_forward(w, m, B);
    nn_best_query_forward(w->ub, w->idx, w->u, w->vb, B, M, D);
    nn_cos_logits_forward(w->logits, w->lwork, w->ub, w->vb, *qf->ls, B, B, D);
    float loss = nn_ce_forward(w->probs, w->logits, w->labels, 0.0f, B, B);
    memset(w->dlogits, 0, B * B * sizeof *w->dlogits);
    nn_ce_backward(w->dlogits, w->probs, w->labels, 0.0f, 1.0f, B, B);
    if (hp->cascle && hp->alpha > 0) {
        nn_cascle_targets(w->target, w->cwork, w->vb, C, kc, (float)hp->tau_s, B, Nc, D);
        float lc = nn_soft_ce_forward(w->probs2, w->logits, w->target, B, B);
        nn_soft_ce_backward(w->dlogits, w->probs2, w->target, (float)hp->alpha, B, B);
        loss += (float)hp->alpha * lc;
    }
    memset(w->dub, 0, B * D * sizeof *w->dub);
    nn_cos_logits_backward(w->dub, NULL, hp->learn_temp ? qf->gls : NULL, w->dlogits, w->lwork, *qf->ls, B, B, D);
    memset(w->du, 0, B * M * D * sizeof *w->du);
    nn_best_query_backward(w->du, w->dub, w->idx, B, M, D);
    memset(w->dh[qf->L], 0, B * M * D * sizeof *w->dh[qf->L]);
    if (hp->mprl && hp->lambda > 0) {
        float lm = mprl_step(w, m, bp, B, rm);
        *lm_out = lm;
        loss += (float)hp->lambda * lm;
    }
    *loss_out = loss;
    if (!isfinite(loss))
        return MB_ENUM;
    pass1_backward(w, m, B);
    return MB_OK;
}

/* One stage-2 training step on the batch whose EMG rows are be, pose rows
 * bp and pose embeddings already in w->vb: pass 1, best query, cosine
 * logits, CE + alpha CASCLe, MPRL's pass 2, both backwards, clipping, the
 * two AdamW steps and the temperature's clamp. align() and the benchmark
 * hook run this same function, so the benchmark times exactly the training.
 * *loss: the total loss; *lm: MPRL's term before lambda (0 without it).
 * MB_ENUM, reported, when the loss is not finite (nothing is stepped). */
static int align_step(float *loss_out, float *lm_out, struct emb *m, struct emb_ws *w, const float *const *be,
                      const float *const *bp, const float *C, size_t Nc, size_t kc, const struct nn_adamw *opt,
                      const struct mth_train *t, long s, float ls0, size_t B, struct mb_rng *rm)
{
    int rc = loss_grad(loss_out, lm_out, m, w, be, bp, C, Nc, kc, B, rm);
    if (rc)
        return mb_error(rc, "%s: loss is %g at alignment step %ld", m->qformer_only ? "qformer" : "embridge",
                        (double)*loss_out, s);
    const struct emb_hp *hp = &m->hp;
    struct menc *ex = &m->emg;
    struct emb_qf *qf = &m->qf;
    float lr = nn_lr_cosine(s, t->warmup, t->steps, t->lr, t->lr_min);
    nn_clip_grad_norm(ex->p.grad, ex->p.total, t->clip);
    nn_adamw_step(&ex->p, opt, lr, s + 1);
    nn_clip_grad_norm(qf->p.grad, qf->p.total, t->clip);
    nn_adamw_step(&qf->p, opt, lr, s + 1);
    if (hp->learn_temp)
        nn_infonce_clamp(qf->ls);
    else
        *qf->ls = ls0;
    return MB_OK;
}

static int align(struct emb *m, const struct cp_set *train, size_t K)
{
    const struct emb_hp *hp = &m->hp;
    struct menc *ex = &m->emg, *ep = &m->pose;
    struct emb_qf *qf = &m->qf;
    size_t n = train->n, D = ep->cfg.D;
    long steps = hp->align_steps;
    size_t B = (size_t)hp->opt.batch < n ? (size_t)hp->opt.batch : n;
    int rc;
    if ((rc = qf_layout(qf, ex, ep, (size_t)hp->queries, hp->mprl)))
        return rc;
    qf_init(qf, ep, hp->temp, m->seed);
    if (steps <= 0 || n < 2)
        return MB_OK;
    /* CASCLe's centroids: spherical k-means of the frozen pose embeddings
     * of every training window, once */
    size_t Nc = hp->n_c > 0 ? (size_t)hp->n_c : (4 * K > 16 ? 4 * K : 16);
    if (Nc > n)
        Nc = n;
    size_t kc = (size_t)hp->k_c < Nc ? (size_t)hp->k_c : Nc;
    int no_curve = mth_curve_alloc(&m->loss_align, steps) != MB_OK ||
                   (hp->mprl && hp->lambda > 0 && mth_curve_alloc(&m->loss_mprl, steps) != MB_OK);
    const float **erows = mth_rows(train, MTH_EMG), **prows = mth_rows(train, MTH_POSE);
    const float **be = malloc(B * sizeof *be), **bp = malloc(B * sizeof *bp);
    float *V = malloc((n * D + 1) * sizeof *V);   /* [n x D] frozen pose embeddings */
    float *C = malloc((Nc * D + 1) * sizeof *C);  /* [Nc x D] centroids */
    int *perm = malloc(n * sizeof *perm);
    struct emb_ws w = { 0 };
    struct emb_hp hp_ws = *hp;
    if (no_curve || !erows || !prows || !be || !bp || !V || !C || !perm) {
        rc = mb_error(MB_ENOMEM, "%s: out of memory for the alignment of %zu windows",
                      m->qformer_only ? "qformer" : "embridge", n);
        goto out;
    }
    m->hp.n_c = (long)Nc;   /* the workspace sizes CASCLe's work by it */
    rc = ws_alloc(&w, m, B, 1);
    m->hp = hp_ws;
    if (rc || (rc = menc_embed(V, ep, prows, n)))
        goto out;
    if (hp->cascle && (rc = kern_kmeans_spherical(C, NULL, V, n, D, Nc, 50, m->seed ^ 0x6b6d65616e73ULL)))
        goto out;
    int prev = nn_set_blas_threads(1);
    struct mb_rng rb, rm;
    mb_rng_seed(&rb, m->seed, 3);
    mb_rng_seed(&rm, m->seed, 4);
    for (size_t i = 0; i < n; i++)
        perm[i] = (int)i;
    size_t at = n;
    struct nn_adamw opt = NN_ADAMW_DEFAULT;
    opt.weight_decay = (float)hp->opt.wd;
    memset(ex->p.m, 0, ex->p.total * sizeof *ex->p.m);
    memset(ex->p.v, 0, ex->p.total * sizeof *ex->p.v);
    struct mth_train t = mth_train_cfg(&hp->opt, steps);
    float ls0 = *qf->ls;
    for (long s = 0; s < steps; s++) {
        if (at + B > n) {
            mb_rng_shuffle_int(&rb, perm, n);
            at = 0;
        }
        for (size_t b = 0; b < B; b++) {
            be[b] = erows[perm[at + b]];
            bp[b] = prows[perm[at + b]];
            memcpy(w.vb + b * D, V + (size_t)perm[at + b] * D, D * sizeof *w.vb);
        }
        at += B;
        float loss, lm = 0.0f;
        rc = align_step(&loss, &lm, m, &w, be, bp, C, Nc, kc, &opt, &t, s, ls0, B, &rm);
        if (hp->mprl && hp->lambda > 0)
            m->loss_mprl.v[s] = lm;
        if (rc)
            break;
        m->loss_align.v[s] = loss;
    }
    nn_set_blas_threads(prev);
out:
    ws_release(&w, qf->L);
    mth_rows_free(erows, train, MTH_EMG);
    mth_rows_free(prows, train, MTH_POSE);
    free(be);
    free(bp);
    free(V);
    free(C);
    free(perm);
    return rc;
}

/* The mean of the M query outputs, U [x->n x D], in batches. */
static int embed_queries(float *U, const void *ctx, const struct cp_set *x)
{
    const struct emb *m = ctx;
    const struct emb_qf *qf = &m->qf;
    size_t n = x->n, M = qf->M, D = qf->D, B = 64 < n ? 64 : (n ? n : 1);
    const float **rows = mth_rows(x, MTH_EMG);
    if (!rows)
        return mb_error(MB_ENOMEM, "%s: out of memory for the rows of %zu windows",
                        m->qformer_only ? "qformer" : "embridge", n);
    struct emb_ws w;
    int rc = ws_alloc(&w, m, B, 0);
    if (rc) {
        mth_rows_free(rows, x, MTH_EMG);
        return rc;
    }
    int prev = nn_set_blas_threads(1);
    for (size_t i0 = 0; i0 < n; i0 += B) {
        size_t nb = n - i0 < B ? n - i0 : B;
        menc_fill(&w.wx, &m->emg, rows + i0, nb);
        pass1_forward(&w, m, nb);
        for (size_t b = 0; b < nb; b++) {
            float *o = U + (i0 + b) * D;
            memset(o, 0, D * sizeof *o);
            for (size_t q = 0; q < M; q++) {
                const float *uq = w.u + (b * M + q) * D;
                for (size_t k = 0; k < D; k++)
                    o[k] += uq[k];
            }
            for (size_t k = 0; k < D; k++)
                o[k] /= (float)M;
        }
    }
    nn_set_blas_threads(prev);
    ws_release(&w, qf->L);
    mth_rows_free(rows, x, MTH_EMG);
    return MB_OK;
}

static void emb_free(struct mb_method_model *mm)
{
    struct emb *m = (struct emb *)mm;
    if (!m)
        return;
    menc_release(&m->emg);
    menc_release(&m->pose);
    nn_params_release(&m->qf.p);
    mth_head_release(&m->head);
    mth_curve_release(&m->loss_emg);
    mth_curve_release(&m->loss_pose);
    mth_curve_release(&m->loss_align);
    mth_curve_release(&m->loss_mprl);
    free(m);
}

static int fit(struct mb_method_model **out, const struct cp_set *train, const int32_t *classes, size_t K,
               const struct emb_hp *hpv, int qformer_only, uint64_t seed, struct mb_shared *sh)
{
    *out = NULL;
    const char *who = qformer_only ? "qformer" : "embridge";
    if (!train->c->J)
        return mb_error(MB_EINVAL, "%s: corpus '%s' has no pose stream", who, train->c->name ? train->c->name : "?");
    struct emb *m = calloc(1, sizeof *m);
    if (!m)
        return mb_error(MB_ENOMEM, "%s: out of memory", who);
    m->hp = *hpv;
    m->qformer_only = qformer_only;
    if (qformer_only) {
        m->hp.mprl = 0;
        m->hp.cascle = 0;
    }
    m->seed = seed;
    const struct emb_hp *hp = &m->hp;
    struct menc_cfg ge = mth_cfg(&hp->enc, train->c, MTH_EMG), gp = mth_cfg(&hp->enc, train->c, MTH_POSE);
    struct mth_train te = mth_train_cfg(&hp->opt, hp->mae_steps), tp = mth_train_cfg(&hp->opt, hp->mae_steps);
    struct cp_set vp;
    size_t *vbuf = NULL;
    int rc;
    if (!(rc = mth_valid_pose(&vp, &vbuf, train)) &&
        !(rc = mth_encoder_fit_shared(&m->pose, &m->loss_pose, &gp, &tp, &vp, MTH_POSE, seed, sh)) &&
        !(rc = mth_encoder_fit_shared(&m->emg, &m->loss_emg, &ge, &te, train, MTH_EMG, seed, sh)) &&
        !(rc = align(m, &vp, K)))
        rc = mth_head_fit(&m->head, embed_queries, m, m->qf.D, train, classes, K, seed, who);
    free(vbuf);
    if (rc) {
        emb_free((struct mb_method_model *)m);
        return rc;
    }
    *out = (struct mb_method_model *)m;
    return MB_OK;
}

static int embridge_fit(struct mb_method_model **out, const struct cp_set *train, const int32_t *classes, size_t K,
                        const void *hp, uint64_t seed, struct mb_shared *sh)
{
    return fit(out, train, classes, K, hp, 0, seed, sh);
}

static int qformer_fit(struct mb_method_model **out, const struct cp_set *train, const int32_t *classes, size_t K,
                       const void *hp, uint64_t seed, struct mb_shared *sh)
{
    return fit(out, train, classes, K, hp, 1, seed, sh);
}

static int emb_predict(float *P, const struct mb_method_model *mm, const struct cp_set *test)
{
    const struct emb *m = (const struct emb *)mm;
    return mth_head_predict(P, &m->head, embed_queries, m, m->qf.D, test);
}

static int emb_embed(float *Z, size_t *E, const struct mb_method_model *mm, const struct cp_set *x)
{
    const struct emb *m = (const struct emb *)mm;
    if (E)
        *E = m->qf.D;
    return embed_queries(Z, m, x);
}

static size_t emb_dim(const struct mb_method_model *mm)
{
    return ((const struct emb *)mm)->qf.D;
}

/* The representation: both encoders and the bridge; not the probe's head. */
static void emb_hash(char hex[65], const struct mb_method_model *mm)
{
    const struct emb *m = (const struct emb *)mm;
    char h[3][65], cat[3 * 64 + 1];
    menc_hash(h[0], &m->emg);
    menc_hash(h[1], &m->pose);
    mb_sha256_hex(h[2], m->qf.p.data, m->qf.p.total * sizeof *m->qf.p.data);
    int n = snprintf(cat, sizeof cat, "%s%s%s", h[0], h[1], h[2]);
    mb_sha256_hex(hex, cat, (size_t)n);
}

/* Zero-shot: the mean query (it needs no pose at test time; the best-query
 * rule needs the paired pose, which zero-shot must not use) against the
 * pose references' embeddings, the same 10-NN vote as cpep. */
static int emb_zero_shot(int32_t *pred, const struct mb_method_model *mm, const struct cp_set *test,
                         const float *ref_pose, const int32_t *ref_ids, size_t n_refs)
{
    const struct emb *m = (const struct emb *)mm;
    const char *who = m->qformer_only ? "qformer" : "embridge";
    if (!n_refs)
        return mb_error(MB_EINVAL, "%s: zero-shot needs pose references, got none", who);
    float *U = malloc((test->n * m->qf.D + 1) * sizeof *U);   /* [n x D] */
    if (!U)
        return mb_error(MB_ENOMEM, "%s: out of memory for %zu embeddings", who, test->n);
    int rc = embed_queries(U, m, test);
    if (!rc)
        rc = mth_zero_shot_vote(pred, U, test->n, &m->pose, (size_t)m->hp.knn, ref_pose, ref_ids, n_refs, who);
    free(U);
    return rc;
}

const struct mb_method mb_method_embridge = {
    .name = "embridge",
    .summary = "EMBridge: EMG and pose MAEs, then a Q-Former (copied pose blocks, cross-attention to the EMG "
               "tokens) aligned to the frozen pose space by best-query InfoNCE + CASCLe + MPRL; zero-shot by "
               "10-NN over pose references",
    .caps = MB_CAP_CLASSIFY | MB_CAP_EMBED | MB_CAP_ZERO_SHOT | MB_CAP_NEEDS_POSE,
    .params = embridge_params,
    .hp_size = sizeof(struct emb_hp),
    .check = emb_check,
    .fit = embridge_fit,
    .predict_proba = emb_predict,
    .embed = emb_embed,
    .zero_shot = emb_zero_shot,
    .param_hash = emb_hash,
    .free = emb_free,
    .embed_dim = emb_dim,
};

const struct mb_method mb_method_qformer = {
    .name = "qformer",
    .summary = "EMBridge's Q-Former row: the same bridge aligned by best-query InfoNCE only",
    .caps = MB_CAP_CLASSIFY | MB_CAP_EMBED | MB_CAP_ZERO_SHOT | MB_CAP_NEEDS_POSE,
    .params = qformer_params,
    .hp_size = sizeof(struct emb_hp),
    .check = emb_check,
    .fit = qformer_fit,
    .predict_proba = emb_predict,
    .embed = emb_embed,
    .zero_shot = emb_zero_shot,
    .param_hash = emb_hash,
    .free = emb_free,
    .embed_dim = emb_dim,
};

/* ---- test hooks (methods/hooks.h) ---------------------------------------------- */

void embridge_curves(const struct mth_curve **emg, const struct mth_curve **pose, const struct mth_curve **align,
                     const struct mb_method_model *mm)
{
    const struct emb *m = (const struct emb *)mm;
    *emg = &m->loss_emg;
    *pose = &m->loss_pose;
    *align = &m->loss_align;
}

const struct mth_curve *embridge_mprl_curve(const struct mb_method_model *mm)
{
    return &((const struct emb *)mm)->loss_mprl;
}

/* ---- benchmark hook (methods/hooks.h) ------------------------------------------ */

/* Trainable parameters of the stage-2 step as PyTorch counts them: the EMG
 * encoder without its MAE decoder (laid out in the same block, so AdamW
 * also passes over it, with zero gradients) and the whole bridge. */
static size_t stage2_params(const struct emb *m)
{
    size_t n = 0;
    const struct nn_params *e = &m->emg.p;
    for (size_t i = 0; i < e->n; i++)
        if (e->t[i].offset < (size_t)(m->emg.de_w - e->data))
            n += e->t[i].size;
    for (size_t i = 0; i < m->qf.p.n; i++)
        n += m->qf.p.t[i].size;
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int embridge_bench_steps(struct embridge_bench_out *out, const struct embridge_bench_cfg *g, long warmup,
                         long steps, uint64_t seed)
{
    memset(out, 0, sizeof *out);
    if (!g->B || !g->M || g->n_c < 1 || g->k_c < 1 || warmup < 0 || steps < 1)
        return mb_error(MB_EINVAL, "embridge bench: batch %zu, queries %zu, n_c %zu, k_c %zu, steps %ld must be "
                        "positive", g->B, g->M, g->n_c, g->k_c, steps);
    size_t B = g->B, D = g->D, Nc = g->n_c, kc = g->k_c < Nc ? g->k_c : Nc;
    struct emb *m = calloc(1, sizeof *m);
    float *xe = malloc((B * g->T * g->C + 1) * sizeof *xe), *xp = malloc((B * g->Tp * g->J + 1) * sizeof *xp);
    float *C = malloc((Nc * D + 1) * sizeof *C);
    const float **be = malloc(B * sizeof *be), **bp = malloc(B * sizeof *bp);
    struct emb_ws w = { 0 };
    int rc = MB_OK;
    if (!m || !xe || !xp || !C || !be || !bp) {
        rc = mb_error(MB_ENOMEM, "embridge bench: out of memory for a batch of %zu windows", B);
        goto out;
    }
    /* the method's defaults (embridge_params), both objectives on */
    struct emb_hp *hp = &m->hp;
    *hp = (struct emb_hp){
        .align_steps = warmup + steps, .opt = { .batch = (long)B, .lr = 1e-3, .wd = 0.05, .warmup = 15, .clip = 1.0 },
        .temp = 0.07, .learn_temp = 1, .queries = (long)g->M, .mprl = 1, .cascle = 1, .alpha = 1, .lambda = 1,
        .tau_s = 0.1, .n_c = (long)Nc, .k_c = (long)kc, .pose_mask = g->pose_mask,
    };
    m->seed = seed;
    struct menc_cfg ge = { .T = g->T, .C = g->C, .P = g->P, .D = D, .L = g->L, .H = g->H, .F = g->F, .cls = 1,
                           .Dd = 32, .mask_ratio = 0.5, .rectify = 1 };
    struct menc_cfg gp = ge;
    gp.T = g->Tp, gp.C = g->J, gp.P = g->Pp, gp.rectify = 0;
    if ((rc = menc_init(&m->emg, &ge, seed)) || (rc = menc_init(&m->pose, &gp, seed + 1)))
        goto out;
    struct mb_rng r;
    mb_rng_seed(&r, seed, 5);
    for (size_t i = 0; i < B * g->T * g->C; i++)
        xe[i] = (float)mb_rng_normal(&r);
    for (size_t i = 0; i < B * g->Tp * g->J; i++)
        xp[i] = (float)mb_rng_normal(&r);
    for (size_t b = 0; b < B; b++) {
        be[b] = xe + b * g->T * g->C;
        bp[b] = xp + b * g->Tp * g->J;
    }
    /* random centroids on the sphere, as spherical k-means leaves them */
    for (size_t c = 0; c < Nc; c++) {
        double s2 = 0;
        for (size_t k = 0; k < D; k++) {
            C[c * D + k] = (float)mb_rng_normal(&r);
            s2 += (double)C[c * D + k] * C[c * D + k];
        }
        for (size_t k = 0; k < D; k++)
            C[c * D + k] = (float)(C[c * D + k] / sqrt(s2));
    }
    if ((rc = menc_fit_scaler(&m->emg, be, B)) || (rc = menc_fit_scaler(&m->pose, bp, B)) ||
        (rc = qf_layout(&m->qf, &m->emg, &m->pose, g->M, 1)))
        goto out;
    qf_init(&m->qf, &m->pose, hp->temp, seed);
    if ((rc = ws_alloc(&w, m, B, 1)) || (rc = menc_embed(w.vb, &m->pose, bp, B)))
        goto out;
    out->params = stage2_params(m);
    /* what align() sets up around its loop */
    int prev = nn_set_blas_threads(1);
    struct mb_rng rm;
    mb_rng_seed(&rm, seed, 4);
    struct nn_adamw opt = NN_ADAMW_DEFAULT;
    opt.weight_decay = (float)hp->opt.wd;
    struct mth_train t = mth_train_cfg(&hp->opt, warmup + steps);
    float ls0 = *m->qf.ls, loss = 0.0f, lm = 0.0f;
    double t0 = 0;
    for (long s = 0; s < warmup + steps && !rc; s++) {
        if (s == warmup)
            t0 = now_s();
        rc = align_step(&loss, &lm, m, &w, be, bp, C, Nc, kc, &opt, &t, s, ls0, B, &rm);
        if (s == 0)
            out->first_loss = loss;
    }
    out->sec_per_step = (now_s() - t0) / (double)steps;
    out->last_loss = loss;
    nn_set_blas_threads(prev);
out:
    if (m)
        ws_release(&w, m->qf.L);
    emb_free((struct mb_method_model *)m);
    free(xe);
    free(xp);
    free(C);
    free(be);
    free(bp);
    return rc;
}

int embridge_loss_grad(float *loss, struct nn_params **qf_params, struct nn_params **emg_params,
                       struct mb_method_model *mm, const struct cp_set *train, size_t K, uint64_t mask_seed)
{
    struct emb *m = (struct emb *)mm;
    const struct emb_hp hp = m->hp;
    size_t n = train->n, D = m->pose.cfg.D, B = (size_t)hp.opt.batch < n ? (size_t)hp.opt.batch : n;
    size_t Nc = hp.n_c > 0 ? (size_t)hp.n_c : (4 * K > 16 ? 4 * K : 16);
    if (Nc > n)
        Nc = n;
    size_t kc = (size_t)hp.k_c < Nc ? (size_t)hp.k_c : Nc;
    *qf_params = &m->qf.p;
    *emg_params = &m->emg.p;
    const float **erows = mth_rows(train, MTH_EMG), **prows = mth_rows(train, MTH_POSE);
    float *V = malloc((n * D + 1) * sizeof *V), *C = malloc((Nc * D + 1) * sizeof *C);
    struct emb_ws w = { 0 };
    int rc = erows && prows && V && C ? MB_OK : mb_error(MB_ENOMEM, "embridge_loss_grad: out of memory");
    if (!rc) {
        m->hp.n_c = (long)Nc;
        rc = ws_alloc(&w, m, B, 1);
        m->hp = hp;
    }
    if (!rc)
        rc = menc_embed(V, &m->pose, prows, n);
    if (!rc && hp.cascle)
        rc = kern_kmeans_spherical(C, NULL, V, n, D, Nc, 50, m->seed ^ 0x6b6d65616e73ULL);
    if (!rc) {
        memcpy(w.vb, V, B * D * sizeof *V);
        int prev = nn_set_blas_threads(1);
        struct mb_rng rm;
        mb_rng_seed(&rm, mask_seed, 4);
        float lm;
        rc = loss_grad(loss, &lm, m, &w, erows, prows, C, Nc, kc, B, &rm);
        nn_set_blas_threads(prev);
    }
    if (w.mem)
        ws_release(&w, m->qf.L);
    mth_rows_free(erows, train, MTH_EMG);
    mth_rows_free(prows, train, MTH_POSE);
    free(V);
    free(C);
    return rc;
}
