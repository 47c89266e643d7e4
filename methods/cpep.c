/* methods/cpep.c - 'cpep', Contrastive Pose-EMG Pre-training (Cui et al.
 * 2025; methods.md §2) at small scale:
 *   stage 1  the EMG MAE and the pose MAE, each on the training windows;
 *   stage 2  the pose encoder FROZEN; the EMG encoder (initialised from its
 *            MAE) plus a linear projection head h trained so that
 *            u = h(E_x(x)) matches v = E_p(p) of the same window, by the
 *            symmetric InfoNCE with a learnable temperature (CLIP's logit
 *            scale, init 1/temp, clamped to [1, 100]);
 *   embed    the frozen EMG encoder's pooled output (linear probe);
 *   zero-shot each test window's u against the pose references' v (cosine),
 *            majority vote over the knn (10) nearest references.
 * Ablation switches (params): no_emg_pretrain, no_pose_pretrain, freeze_emg
 * (only h trained, the paper's "EMG encoder frozen" row), learn_temp=0
 * (fixed temperature), cls=0 (mean pooling, the "AvgPool" row).
 * docs/METHODS.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "methods/common.h"
#include "methods/head.h"
#include "methods/hooks.h"
#include "methods/hp_keys.h"
#include "methods/method.h"
#include "methods/pose_vote.h"

struct cpep_hp {
    long mae_steps, align_steps;
    struct mth_opt_hp opt;
    struct mth_enc_hp enc;       /* both encoders' */
    double temp;
    int learn_temp;
    long knn;
    int no_emg_pretrain, no_pose_pretrain, freeze_emg;
};

#define S struct cpep_hp
static const struct mb_param cpep_params[] = {
    MTH_P_MAE_STEPS(S, mae_steps),
    MTH_P_ALIGN_STEPS(S, align_steps),
    MTH_P_BATCH(S, opt.batch),
    MTH_P_WIDTH(S, enc.width),
    MTH_P_LAYERS(S, enc.layers),
    MTH_P_HEADS(S, enc.heads),
    MTH_P_DEC_WIDTH(S, enc.dec_width),
    MTH_P_CLS(S, enc.cls),
    MTH_P_RECTIFY(S, enc.rectify),
    MTH_P_PATCH_MS(S, enc.patch_ms),
    MTH_P_POSE_PATCH(S, enc.pose_patch),
    MTH_P_MASK(S, enc.mask),
    MTH_P_LR(S, opt.lr),
    MTH_P_WD(S, opt.wd),
    MTH_P_WARMUP(S, opt.warmup),
    MTH_P_CLIP(S, opt.clip),
    MTH_P_TEMP(S, temp),
    MTH_P_LEARN_TEMP(S, learn_temp),
    MTH_P_KNN(S, knn),
    MTH_P_NO_EMG_PRETRAIN(S, no_emg_pretrain),
    MTH_P_NO_POSE_PRETRAIN(S, no_pose_pretrain),
    MTH_P_FREEZE_EMG(S, freeze_emg),
    MB_PARAM_END
};
#undef S

/* The projection head h (EMG embedding -> pose space) and the InfoNCE logit
 * scale: one nn_params block, stepped by its own AdamW. */
struct cpep_proj {
    struct nn_params p;
    float *w, *b, *ls;           /* [Dp x De], [Dp], [1] ("proj.w", "proj.b", "logit_scale") */
    float *gw, *gb, *gls;        /* their gradients */
};

struct cpep {
    struct cpep_hp hp;
    uint64_t seed;
    struct menc emg, pose;       /* the encoders (each with its MAE decoder) */
    struct cpep_proj proj;
    struct mth_head head;        /* logistic regression on the EMG embedding (predict_proba) */
    struct mth_curve loss_emg, loss_pose, loss_align;
};

static int cpep_check(const void *hp, const char *name)
{
    return mth_check_enc(&((const struct cpep_hp *)hp)->enc, name);
}

static int align(struct cpep *m, const struct cp_set *train)
{
    const struct cpep_hp *hp = &m->hp;
    struct menc *ex = &m->emg, *ep = &m->pose;
    size_t n = train->n, De = ex->cfg.D, Dp = ep->cfg.D;
    long steps = (long)hp->align_steps;
    size_t B = (size_t)hp->opt.batch < n ? (size_t)hp->opt.batch : n;
    struct cpep_proj *hd = &m->proj;
    int rc;
    if ((rc = nn_params_add(&hd->p, "proj.w", 1, 2, (size_t[]){ Dp, De }, &hd->w, &hd->gw)) < 0 ||
        (rc = nn_params_add(&hd->p, "proj.b", 0, 1, (size_t[]){ Dp }, &hd->b, &hd->gb)) < 0 ||
        (rc = nn_params_add(&hd->p, "logit_scale", 0, 1, (size_t[]){ 1 }, &hd->ls, &hd->gls)) < 0 ||
        (rc = nn_params_alloc(&hd->p)))
        return rc;
    float *pw = hd->w, *pb = hd->b, *gpw = hd->gw, *gpb = hd->gb, *ls = hd->ls, *gls = hd->gls;
    struct mb_rng r;
    mb_rng_seed(&r, m->seed, 0x70726f6a);   /* "proj": the head's init stream */
    nn_init_uniform(pw, Dp * De, 1.0f / sqrtf((float)De), &r);
    *ls = logf(1.0f / (float)hp->temp);
    if (steps <= 0 || n < 2)
        return MB_OK;
    int no_curve = mth_curve_alloc(&m->loss_align, steps) != MB_OK;
    const float **erows = mth_rows(train, MTH_EMG), **prows = mth_rows(train, MTH_POSE);
    const float **brows = malloc(B * sizeof *brows);
    float *V = malloc((n * Dp + 1) * sizeof *V);               /* [n x Dp] frozen pose embeddings */
    float *u = malloc(B * Dp * sizeof *u), *du = malloc(B * Dp * sizeof *du);
    float *vb = malloc(B * Dp * sizeof *vb);
    float *work = malloc(nn_infonce_work(B, Dp) * sizeof *work);
    int *perm = malloc(n * sizeof *perm);
    struct menc_ws w = { 0 };
    if (no_curve || !erows || !prows || !brows || !V || !u || !du || !vb || !work || !perm) {
        rc = mb_error(MB_ENOMEM, "cpep: out of memory for the alignment of %zu windows", n);
        goto out;
    }
    if ((rc = menc_embed(V, ep, prows, n)) || (rc = menc_ws_alloc(&w, ex, B)))
        goto out;
    int prev = nn_set_blas_threads(1);
    struct mb_rng rb;
    mb_rng_seed(&rb, m->seed, 3);
    for (size_t i = 0; i < n; i++)
        perm[i] = (int)i;
    size_t at = n;
    struct nn_adamw opt = NN_ADAMW_DEFAULT;
    opt.weight_decay = (float)hp->opt.wd;
    memset(ex->p.m, 0, ex->p.total * sizeof *ex->p.m);
    memset(ex->p.v, 0, ex->p.total * sizeof *ex->p.v);
    struct mth_train t = mth_train_cfg(&hp->opt, steps);
    float ls0 = *ls;
    for (long s = 0; s < steps; s++) {
        if (at + B > n) {
            mb_rng_shuffle_int(&rb, perm, n);
            at = 0;
        }
        for (size_t b = 0; b < B; b++) {
            brows[b] = erows[perm[at + b]];
            memcpy(vb + b * Dp, V + (size_t)perm[at + b] * Dp, Dp * sizeof *vb);
        }
        at += B;
        menc_fill(&w, ex, brows, B);
        nn_params_zero_grad(&ex->p);
        nn_params_zero_grad(&hd->p);
        menc_forward(&w, ex, B, 0, NULL);
        nn_linear_forward(u, w.pool, pw, pb, B, De, Dp);
        float loss = nn_infonce_forward(work, u, vb, *ls, 1, B, Dp);
        if (!isfinite(loss)) {
            rc = mb_error(MB_ENUM, "cpep: InfoNCE loss is %g at alignment step %ld", (double)loss, s);
            break;
        }
        m->loss_align.v[s] = loss;
        memset(du, 0, B * Dp * sizeof *du);
        nn_infonce_backward(du, NULL, hp->learn_temp ? gls : NULL, work, *ls, 1, 1.0f, B, Dp);
        memset(w.dpool, 0, B * De * sizeof *w.dpool);
        nn_linear_backward(w.dpool, gpw, gpb, du, w.pool, pw, B, De, Dp);
        float lr = nn_lr_cosine(s, t.warmup, t.steps, t.lr, t.lr_min);
        if (!hp->freeze_emg) {
            memset(w.dz, 0, B * w.Tt * De * sizeof *w.dz);
            menc_backward(&w, ex, B, 0);
            nn_clip_grad_norm(ex->p.grad, ex->p.total, t.clip);
            nn_adamw_step(&ex->p, &opt, lr, s + 1);
        }
        nn_clip_grad_norm(hd->p.grad, hd->p.total, t.clip);
        nn_adamw_step(&hd->p, &opt, lr, s + 1);
        if (hp->learn_temp)
            nn_infonce_clamp(ls);
        else
            *ls = ls0;
    }
    nn_set_blas_threads(prev);
out:
    menc_ws_release(&w);
    mth_rows_free(erows, train, MTH_EMG);
    mth_rows_free(prows, train, MTH_POSE);
    free(brows);
    free(V);
    free(u);
    free(du);
    free(vb);
    free(work);
    free(perm);
    return rc;
}

static void cpep_free(struct mb_method_model *mm)
{
    struct cpep *m = (struct cpep *)mm;
    if (!m)
        return;
    menc_release(&m->emg);
    menc_release(&m->pose);
    nn_params_release(&m->proj.p);
    mth_head_release(&m->head);
    mth_curve_release(&m->loss_emg);
    mth_curve_release(&m->loss_pose);
    mth_curve_release(&m->loss_align);
    free(m);
}

/* The frozen EMG encoder's pooled output Z [x->n x De] (the probe's input). */
static int embed_emg(float *Z, const void *ctx, const struct cp_set *x)
{
    return mth_encoder_embed(Z, &((const struct cpep *)ctx)->emg, x, MTH_EMG, "cpep");
}

static int cpep_fit(struct mb_method_model **out, const struct cp_set *train, const int32_t *classes,
                    size_t K, const void *hpv, uint64_t seed, struct mb_shared *sh)
{
    *out = NULL;
    if (!train->c->J)
        return mb_error(MB_EINVAL, "cpep: corpus '%s' has no pose stream", train->c->name ? train->c->name : "?");
    struct cpep *m = calloc(1, sizeof *m);
    if (!m)
        return mb_error(MB_ENOMEM, "cpep: out of memory");
    m->hp = *(const struct cpep_hp *)hpv;
    m->seed = seed;
    const struct cpep_hp *hp = &m->hp;
    long se = hp->no_emg_pretrain ? 0 : (long)hp->mae_steps, sp = hp->no_pose_pretrain ? 0 : (long)hp->mae_steps;
    struct menc_cfg ge = mth_cfg(&hp->enc, train->c, MTH_EMG), gp = mth_cfg(&hp->enc, train->c, MTH_POSE);
    struct mth_train te = mth_train_cfg(&hp->opt, se), tp = mth_train_cfg(&hp->opt, sp);
    /* the pose side and the alignment see only windows with a valid pose */
    struct cp_set vp;
    size_t *vbuf = NULL;
    int rc;
    if (!(rc = mth_valid_pose(&vp, &vbuf, train)) &&
        !(rc = mth_encoder_fit_shared(&m->pose, &m->loss_pose, &gp, &tp, &vp, MTH_POSE, seed, sh)) &&
        !(rc = mth_encoder_fit_shared(&m->emg, &m->loss_emg, &ge, &te, train, MTH_EMG, seed, sh)) &&
        !(rc = align(m, &vp)))
        rc = mth_head_fit(&m->head, embed_emg, m, m->emg.cfg.D, train, classes, K, seed, "cpep");
    free(vbuf);
    if (rc) {
        cpep_free((struct mb_method_model *)m);
        return rc;
    }
    *out = (struct mb_method_model *)m;
    return MB_OK;
}

static int cpep_predict(float *P, const struct mb_method_model *mm, const struct cp_set *test)
{
    const struct cpep *m = (const struct cpep *)mm;
    return mth_head_predict(P, &m->head, embed_emg, m, m->emg.cfg.D, test);
}

static int cpep_embed(float *Z, size_t *E, const struct mb_method_model *mm, const struct cp_set *x)
{
    const struct cpep *m = (const struct cpep *)mm;
    if (E)
        *E = m->emg.cfg.D;
    return embed_emg(Z, m, x);
}

static size_t cpep_dim(const struct mb_method_model *mm)
{
    return ((const struct cpep *)mm)->emg.cfg.D;
}

/* The representation: both encoders (with their decoders) and the projection
 * head; not the logistic head on top (the probe refits one). */
static void cpep_hash(char hex[65], const struct mb_method_model *mm)
{
    const struct cpep *m = (const struct cpep *)mm;
    char h[3][65], cat[3 * 64 + 1];
    menc_hash(h[0], &m->emg);
    menc_hash(h[1], &m->pose);
    mb_sha256_hex(h[2], m->proj.p.data, m->proj.p.total * sizeof *m->proj.p.data);
    int n = snprintf(cat, sizeof cat, "%s%s%s", h[0], h[1], h[2]);
    mb_sha256_hex(hex, cat, (size_t)n);
}

/* Projected EMG embeddings U [n x Dp] (the space aligned to the poses). */
static int project(float *U, const struct cpep *m, const struct cp_set *x)
{
    size_t De = m->emg.cfg.D, Dp = m->pose.cfg.D;
    float *Z = malloc((x->n * De + 1) * sizeof *Z);
    if (!Z)
        return mb_error(MB_ENOMEM, "out of memory");
    int rc = embed_emg(Z, m, x);
    if (!rc) {
        int prev = nn_set_blas_threads(1);
        nn_linear_forward(U, Z, m->proj.w, m->proj.b, x->n, De, Dp);
        nn_set_blas_threads(prev);
    }
    free(Z);
    return rc;
}

static int cpep_zero_shot(int32_t *pred, const struct mb_method_model *mm, const struct cp_set *test,
                          const float *ref_pose, const int32_t *ref_ids, size_t n_refs)
{
    const struct cpep *m = (const struct cpep *)mm;
    if (!n_refs)
        return mb_error(MB_EINVAL, "cpep: zero-shot needs pose references, got none");
    float *U = malloc((test->n * m->pose.cfg.D + 1) * sizeof *U);   /* [n x Dp] */
    if (!U)
        return mb_error(MB_ENOMEM, "cpep: out of memory for %zu embeddings", test->n);
    int rc = project(U, m, test);
    if (!rc)
        rc = mth_zero_shot_vote(pred, U, test->n, &m->pose, (size_t)m->hp.knn, ref_pose, ref_ids, n_refs, "cpep");
    free(U);
    return rc;
}

const struct mb_method mb_method_cpep = {
    .name = "cpep",
    .summary = "CPEP: EMG and pose MAEs, then EMG encoder + head aligned to the frozen pose encoder (InfoNCE); "
               "zero-shot by 10-NN over pose references",
    .caps = MB_CAP_CLASSIFY | MB_CAP_EMBED | MB_CAP_ZERO_SHOT | MB_CAP_NEEDS_POSE,
    .params = cpep_params,
    .hp_size = sizeof(struct cpep_hp),
    .check = cpep_check,
    .fit = cpep_fit,
    .predict_proba = cpep_predict,
    .embed = cpep_embed,
    .zero_shot = cpep_zero_shot,
    .param_hash = cpep_hash,
    .free = cpep_free,
    .embed_dim = cpep_dim,
};

/* ---- test hooks (methods/hooks.h) ---------------------------------------------- */

void cpep_curves(const struct mth_curve **emg, const struct mth_curve **pose, const struct mth_curve **align,
                 const struct mb_method_model *mm)
{
    const struct cpep *m = (const struct cpep *)mm;
    *emg = &m->loss_emg;
    *pose = &m->loss_pose;
    *align = &m->loss_align;
}
