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
#include <stdlib.h>
#include <string.h>

#include "methods/internal.h"

static int align(struct mb_method_model *m, const struct cp_set *train)
{
    const struct mth_hp *hp = &m->hp;
    struct menc *ex = &m->emg, *ep = &m->pose;
    size_t n = train->n, De = ex->cfg.D, Dp = ep->cfg.D;
    long steps = (long)hp->align_steps;
    size_t B = (size_t)hp->batch < n ? (size_t)hp->batch : n;
    struct nn_params *hd = &m->head;
    int rc;
    if ((rc = nn_params_add(hd, "proj.w", 1, 2, (size_t[]){ Dp, De }, &m->pw, &m->gpw)) < 0 ||
        (rc = nn_params_add(hd, "proj.b", 0, 1, (size_t[]){ Dp }, &m->pb, &m->gpb)) < 0 ||
        (rc = nn_params_add(hd, "logit_scale", 0, 1, (size_t[]){ 1 }, &m->ls, &m->gls)) < 0 ||
        (rc = nn_params_alloc(hd)))
        return rc;
    m->has_head = 1;
    float *pw = m->pw, *pb = m->pb, *gpw = m->gpw, *gpb = m->gpb, *ls = m->ls, *gls = m->gls;
    struct mb_rng r;
    mb_rng_seed(&r, m->seed, 0x70726f6a);   /* "proj": the head's init stream */
    nn_init_uniform(pw, Dp * De, 1.0f / sqrtf((float)De), &r);
    *ls = logf(1.0f / (float)hp->temp);
    if (steps <= 0 || n < 2)
        return MB_OK;
    m->loss_align = malloc((size_t)steps * sizeof *m->loss_align);
    const float **erows = mth_rows(train, MTH_EMG), **prows = mth_rows(train, MTH_POSE);
    const float **brows = malloc(B * sizeof *brows);
    float *V = malloc((n * Dp + 1) * sizeof *V);               /* [n x Dp] frozen pose embeddings */
    float *u = malloc(B * Dp * sizeof *u), *du = malloc(B * Dp * sizeof *du);
    float *vb = malloc(B * Dp * sizeof *vb);
    float *work = malloc(nn_infonce_work(B, Dp) * sizeof *work);
    int *perm = malloc(n * sizeof *perm);
    struct menc_ws w = { 0 };
    if (!m->loss_align || !erows || !prows || !brows || !V || !u || !du || !vb || !work || !perm) {
        rc = mb_error(MB_ENOMEM, "cpep: out of memory for the alignment of %zu windows", n);
        goto out;
    }
    m->n_loss_align = (size_t)steps;
    if ((rc = menc_embed(V, ep, prows, n)) || (rc = menc_ws_alloc(&w, ex, B)))
        goto out;
    int prev = nn_set_blas_threads(1);
    struct mb_rng rb;
    mb_rng_seed(&rb, m->seed, 3);
    for (size_t i = 0; i < n; i++)
        perm[i] = (int)i;
    size_t at = n;
    struct nn_adamw opt = NN_ADAMW_DEFAULT;
    opt.weight_decay = (float)hp->wd;
    memset(ex->p.m, 0, ex->p.total * sizeof *ex->p.m);
    memset(ex->p.v, 0, ex->p.total * sizeof *ex->p.v);
    struct menc_train t = mth_train_cfg(hp, steps);
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
        nn_params_zero_grad(hd);
        menc_forward(&w, ex, B, 0, NULL);
        nn_linear_forward(u, w.pool, pw, pb, B, De, Dp);
        float loss = nn_infonce_forward(work, u, vb, *ls, 1, B, Dp);
        if (!isfinite(loss)) {
            rc = mb_error(MB_ENUM, "cpep: InfoNCE loss is %g at alignment step %ld", (double)loss, s);
            break;
        }
        m->loss_align[s] = loss;
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
        nn_clip_grad_norm(hd->grad, hd->total, t.clip);
        nn_adamw_step(hd, &opt, lr, s + 1);
        if (hp->learn_temp)
            nn_infonce_clamp(ls);
        else
            *ls = ls0;
    }
    nn_set_blas_threads(prev);
out:
    menc_ws_release(&w);
    free(erows);
    free(prows);
    free(brows);
    free(V);
    free(u);
    free(du);
    free(vb);
    free(work);
    free(perm);
    return rc;
}

static int cpep_fit(struct mb_method_model **out, const struct cp_set *train, const int32_t *classes,
                    size_t K, const void *hpv, uint64_t seed, struct mb_shared *sh)
{
    int rc;
    *out = NULL;
    if (!train->c->J)
        return mb_error(MB_EINVAL, "cpep: corpus '%s' has no pose stream", train->c->name ? train->c->name : "?");
    struct mb_method_model *m = mth_model_new("cpep", hpv, seed, &rc);
    if (!m)
        return rc;
    m->src = MTH_EMG;
    m->has_emg = m->has_pose = 1;
    const struct mth_hp *hp = &m->hp;
    long se = hp->no_emg_pretrain ? 0 : (long)hp->mae_steps, sp = hp->no_pose_pretrain ? 0 : (long)hp->mae_steps;
    /* the pose side and the alignment see only windows with a valid pose */
    struct cp_set vp;
    size_t *vbuf = NULL;
    if (!(rc = mth_valid_pose(&vp, &vbuf, train)) &&
        !(rc = mth_encoder_fit(&m->pose, &m->loss_pose, &m->n_loss_pose, hp, &vp, MTH_POSE, seed, sp)) &&
        !(rc = mth_encoder_fit(&m->emg, &m->loss_emg, &m->n_loss_emg, hp, train, MTH_EMG, seed, se)) &&
        !(rc = align(m, &vp)))
        rc = mth_fit_head(m, train, classes, K);
    free(vbuf);
    if (rc) {
        mth_free(m);
        return rc;
    }
    *out = m;
    return MB_OK;
}

/* Projected EMG embeddings U [n x Dp] (the space aligned to the poses). */
static int project(float *U, const struct mb_method_model *m, const struct cp_set *x)
{
    size_t De = m->emg.cfg.D, Dp = m->pose.cfg.D;
    float *Z = malloc((x->n * De + 1) * sizeof *Z);
    if (!Z)
        return mb_error(MB_ENOMEM, "out of memory");
    int rc = mth_embed(Z, NULL, m, x);
    if (!rc) {
        int prev = nn_set_blas_threads(1);
        nn_linear_forward(U, Z, m->pw, m->pb, x->n, De, Dp);
        nn_set_blas_threads(prev);
    }
    free(Z);
    return rc;
}

static int cpep_zero_shot(int32_t *pred, const struct mb_method_model *m, const struct cp_set *test,
                          const float *ref_pose, const int32_t *ref_ids, size_t n_refs)
{
    if (!n_refs)
        return mb_error(MB_EINVAL, "cpep: zero-shot needs pose references, got none");
    float *U = malloc((test->n * m->pose.cfg.D + 1) * sizeof *U);   /* [n x Dp] */
    if (!U)
        return mb_error(MB_ENOMEM, "cpep: out of memory for %zu embeddings", test->n);
    int rc = project(U, m, test);
    if (!rc)
        rc = mth_zero_shot_vote(pred, U, test->n, m, ref_pose, ref_ids, n_refs);
    free(U);
    return rc;
}

const struct mb_method mb_method_cpep = {
    .name = "cpep",
    .summary = "CPEP: EMG and pose MAEs, then EMG encoder + head aligned to the frozen pose encoder (InfoNCE); "
               "zero-shot by 10-NN over pose references",
    .caps = MB_CAP_CLASSIFY | MB_CAP_EMBED | MB_CAP_ZERO_SHOT | MB_CAP_NEEDS_POSE,
    .params = mth_params,
    .hp_size = sizeof(struct mth_hp),
    .check = mth_check,
    .fit = cpep_fit,
    .predict_proba = mth_predict_proba,
    .embed = mth_embed,
    .zero_shot = cpep_zero_shot,
    .param_hash = mth_param_hash,
    .free = mth_free,
    .embed_dim = mth_embed_dim,
};
