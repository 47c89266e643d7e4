/* methods/common.c - plumbing the neural methods share (internal.h):
 * hyperparameters, encoder set-up from a corpus view, the logistic head,
 * embedding, hashing, the zero-shot k-NN vote. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baselines/params.h"
#include "core/fs.h"
#include "methods/internal.h"

/* Small defaults: a fit trains in seconds on 2 cores (docs/METHODS.md). */
static const struct mth_hp hp_default = {
    .mae_steps = 150, .align_steps = 150, .batch = 64,
    .width = 64, .layers = 2, .heads = 4, .ffn = 0, .dec_width = 32, .cls = 1, .rectify = 1,
    .patch_ms = 100, .pose_patch = 1, .mask = 0.5,
    .lr = 1e-3, .wd = 0.05, .warmup = 15, .clip = 1.0,
    .temp = 0.07, .learn_temp = 1, .knn = 10,
    .no_emg_pretrain = 0, .no_pose_pretrain = 0, .freeze_emg = 0,
};

int mth_hp_parse(struct mth_hp *hp, const char *params, const char *method)
{
    *hp = hp_default;
    const struct base_param spec[] = {
        { "mae_steps", 0, 1e6, NULL, 1, &hp->mae_steps },
        { "align_steps", 0, 1e6, NULL, 1, &hp->align_steps },
        { "batch", 2, 4096, NULL, 1, &hp->batch },
        { "width", 4, 1024, NULL, 1, &hp->width },
        { "layers", 1, MENC_MAX_LAYERS, NULL, 1, &hp->layers },
        { "heads", 1, 64, NULL, 1, &hp->heads },
        { "cls", 0, 1, NULL, 1, &hp->cls },
        { "rectify", 0, 1, NULL, 1, &hp->rectify },
        { "patch_ms", 1e-3, 1e5, NULL, 0, &hp->patch_ms },
        { "mask", 0, 0.95, NULL, 0, &hp->mask },
        { "lr", 1e-7, 1, NULL, 0, &hp->lr },
        { "temp", 0.01, 1, NULL, 0, &hp->temp },
        { "learn_temp", 0, 1, NULL, 1, &hp->learn_temp },
        { "no_emg_pretrain", 0, 1, NULL, 1, &hp->no_emg_pretrain },
        { "no_pose_pretrain", 0, 1, NULL, 1, &hp->no_pose_pretrain },
        { "freeze_emg", 0, 1, NULL, 1, &hp->freeze_emg },
        { NULL, 0, 0, NULL, 0, NULL },
    };
    /* baselines/params.h takes 16 keys: the decoder width, pose tokens,
     * weight decay, warm-up, clipping, the zero-shot k and the
     * feed-forward width (2 x width) are fixed
     * (docs/METHODS.md) */
    int rc = base_params_parse(params, spec, method);
    hp->ffn = 2 * hp->width;
    if (!rc && (size_t)hp->width % (size_t)hp->heads)
        rc = mb_error(MB_EINVAL, "%s: width %g is not a multiple of heads %g", method, hp->width, hp->heads);
    return rc;
}

int mth_check_params(const char *params)
{
    struct mth_hp hp;
    return mth_hp_parse(&hp, params, "neural method");
}

const float **mth_rows(const struct pr_set *s, enum mth_src src)
{
    const struct pr_corpus *c = s->c;
    const float **r = malloc((s->n + 1) * sizeof *r);
    if (!r) {
        mb_error(MB_ENOMEM, "out of memory for %zu rows", s->n);
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++)
        r[i] = src == MTH_EMG ? c->x + s->idx[i] * c->W * c->C : pr_pose_row(c, s->idx[i]);
    return r;
}

int mth_valid_pose(struct pr_set *out, size_t **buf, const struct pr_set *in)
{
    const struct pr_corpus *c = in->c;
    *buf = malloc((in->n + 1) * sizeof **buf);
    if (!*buf)
        return mb_error(MB_ENOMEM, "out of memory");
    size_t n = 0;
    for (size_t k = 0; k < in->n; k++)
        if (!c->pose_valid || c->pose_valid[in->idx[k]])
            (*buf)[n++] = in->idx[k];   /* IK failures carry no pose */
    *out = (struct pr_set){ c, n, *buf };
    if (n < 2)
        return mb_error(MB_EINVAL, "corpus '%s': %zu training windows with a valid pose", c->name ? c->name : "?", n);
    return MB_OK;
}

struct menc_cfg mth_cfg(const struct mth_hp *hp, const struct pr_corpus *c, enum mth_src src)
{
    struct menc_cfg g = {
        .D = (size_t)hp->width, .L = (size_t)hp->layers, .H = (size_t)hp->heads, .F = (size_t)hp->ffn,
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

struct menc_train mth_train_cfg(const struct mth_hp *hp, long steps)
{
    struct menc_train t = {
        .steps = steps, .warmup = (long)hp->warmup, .batch = (size_t)hp->batch,
        .lr = (float)hp->lr, .lr_min = (float)hp->lr * 0.05f, .wd = (float)hp->wd, .clip = (float)hp->clip,
    };
    if (t.warmup >= t.steps)
        t.warmup = t.steps > 1 ? t.steps / 2 : 0;
    return t;
}

int mth_encoder_fit(struct menc *e, float **curve, size_t *n_curve, const struct mth_hp *hp,
                    const struct pr_set *train, enum mth_src src, uint64_t seed, long steps)
{
    const struct pr_corpus *c = train->c;
    if (src == MTH_POSE && !c->J)
        return mb_error(MB_EINVAL, "corpus '%s' has no pose stream", c->name ? c->name : "?");
    struct menc_cfg g = mth_cfg(hp, c, src);
    /* the two encoders of a model draw from distinct streams of the seed */
    uint64_t s = seed ^ (src == MTH_EMG ? 0x9e3779b97f4a7c15ull : 0xc2b2ae3d27d4eb4full);
    int rc = menc_init(e, &g, s);
    if (rc)
        return rc;
    const float **rows = mth_rows(train, src);
    if (!rows)
        return MB_ENOMEM;
    rc = menc_fit_scaler(e, rows, train->n);
    if (!rc && steps > 0) {
        *curve = malloc((size_t)steps * sizeof **curve);
        if (!*curve)
            rc = mb_error(MB_ENOMEM, "out of memory");
        else {
            *n_curve = (size_t)steps;
            struct menc_train t = mth_train_cfg(hp, steps);
            rc = menc_train_mae(e, rows, train->n, &t, s, *curve);
        }
    }
    free(rows);
    return rc;
}

struct mb_method_model *mth_model_new(const char *method, const char *params, uint64_t seed, int *rc)
{
    struct mb_method_model *m = calloc(1, sizeof *m);
    if (!m) {
        *rc = mb_error(MB_ENOMEM, "out of memory");
        return NULL;
    }
    m->method = method;
    m->seed = seed;
    if ((*rc = mth_hp_parse(&m->hp, params, method))) {
        free(m);
        return NULL;
    }
    return m;
}

int mth_embed(float *Z, size_t *E, const struct mb_method_model *m, const struct pr_set *x)
{
    if (m->src == MTH_TDS) {
        if (E)
            *E = tds_dim(m->tds);
        const float **r = mth_rows(x, MTH_EMG);
        if (!r)
            return MB_ENOMEM;
        int rc = tds_embed(Z, m->tds, r, x->n);
        free(r);
        return rc;
    }
    const struct menc *e = m->src == MTH_EMG ? &m->emg : &m->pose;
    if (E)
        *E = e->cfg.D;
    if (m->src == MTH_POSE && !x->c->J)
        return mb_error(MB_EINVAL, "%s: corpus '%s' has no pose stream", m->method, x->c->name ? x->c->name : "?");
    const float **rows = mth_rows(x, m->src);
    if (!rows)
        return MB_ENOMEM;
    int rc = menc_embed(Z, e, rows, x->n);
    free(rows);
    return rc;
}

size_t mth_embed_dim(const struct mb_method_model *m)
{
    if (m->src == MTH_TDS)
        return tds_dim(m->tds);
    return (m->src == MTH_EMG ? &m->emg : &m->pose)->cfg.D;
}

int mth_fit_head(struct mb_method_model *m, const struct pr_set *train, const int32_t *classes, size_t K)
{
    size_t E = mth_embed_dim(m), n = train->n;
    float *Z = malloc((n * E + 1) * sizeof *Z);
    int32_t *y = malloc((n + 1) * sizeof *y);
    m->classes = malloc((K + 1) * sizeof *m->classes);
    int rc = MB_OK;
    if (!Z || !y || !m->classes) {
        rc = mb_error(MB_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(m->classes, classes, K * sizeof *classes);
    m->K = K;
    for (size_t i = 0; i < n; i++) {
        int32_t g = train->c->label[train->idx[i]];
        y[i] = -1;
        for (size_t k = 0; k < K; k++)
            if (classes[k] == g)
                y[i] = (int32_t)k;
        if (y[i] < 0) {
            rc = mb_error(MB_EINVAL, "%s: training window %zu has gesture %d, not among the %zu classes",
                          m->method, train->idx[i], (int)g, K);
            goto out;
        }
    }
    if ((rc = mth_embed(Z, NULL, m, train)))
        goto out;
    const struct base_classifier *lr = base_classifier_find("logreg");
    rc = lr->fit(&m->clf, Z, y, n, E, K, lr->defaults, m->seed);
out:
    free(Z);
    free(y);
    return rc;
}

int mth_predict_proba(float *P, const struct mb_method_model *m, const struct pr_set *test)
{
    size_t E = mth_embed_dim(m);
    float *Z = malloc((test->n * E + 1) * sizeof *Z);
    if (!Z)
        return mb_error(MB_ENOMEM, "out of memory");
    int rc = mth_embed(Z, NULL, m, test);
    if (!rc)
        rc = base_classifier_find("logreg")->predict_proba(P, m->clf, Z, test->n);
    free(Z);
    return rc;
}

void mth_param_hash(char hex[65], const struct mb_method_model *m)
{
    /* the representation: both encoders (with decoders) and the CPEP head;
     * the logistic head on top is not part of it (the probe refits one) */
    char h[3][65] = { "", "", "" }, cat[3 * 64 + 1];
    if (m->has_emg)
        menc_hash(h[0], &m->emg);
    if (m->has_pose)
        menc_hash(h[1], &m->pose);
    if (m->has_head)
        mb_sha256_hex(h[2], m->head.data, m->head.total * sizeof *m->head.data);
    if (m->tds)
        tds_hash(h[2], m->tds);
    int n = snprintf(cat, sizeof cat, "%s%s%s", h[0], h[1], h[2]);
    mb_sha256_hex(hex, cat, (size_t)n);
}

void mth_free(struct mb_method_model *m)
{
    if (!m)
        return;
    if (m->has_emg)
        menc_release(&m->emg);
    if (m->has_pose)
        menc_release(&m->pose);
    nn_params_release(&m->head);
    tds_free(m->tds);
    if (m->clf)
        base_classifier_find("logreg")->free(m->clf);
    free(m->classes);
    free(m->loss_emg);
    free(m->loss_pose);
    free(m->loss_align);
    free(m);
}

static void l2_rows(float *x, size_t n, size_t d)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t k = 0; k < d; k++)
            s += (double)x[i * d + k] * x[i * d + k];
        float inv = (float)(1 / fmax(sqrt(s), 1e-12));
        for (size_t k = 0; k < d; k++)
            x[i * d + k] *= inv;
    }
}

int mth_zero_shot_vote(int32_t *pred, float *U, size_t n, const struct mb_method_model *m, const float *ref_pose,
                       const int32_t *ref_ids, size_t n_refs)
{
    size_t Dp = m->pose.cfg.D, row = m->pose.cfg.T * m->pose.cfg.C;  /* a reference pose row: [T x C] */
    size_t k = (size_t)m->hp.knn < n_refs ? (size_t)m->hp.knn : n_refs, CH = 256;
    float *Vr = malloc((n_refs * Dp + 1) * sizeof *Vr);   /* [n_refs x Dp] */
    float *S = malloc(CH * n_refs * sizeof *S);           /* [CH x n_refs] similarities */
    const float **rr = malloc(n_refs * sizeof *rr);
    size_t *top = malloc(k * sizeof *top);
    int rc = MB_OK;
    if (!Vr || !S || !rr || !top) {
        rc = mb_error(MB_ENOMEM, "%s: out of memory for %zu x %zu similarities", m->method, n, n_refs);
        goto out;
    }
    for (size_t i = 0; i < n_refs; i++)
        rr[i] = ref_pose + i * row;
    if ((rc = menc_embed(Vr, &m->pose, rr, n_refs)))
        goto out;
    l2_rows(U, n, Dp);
    l2_rows(Vr, n_refs, Dp);
    int prev = nn_set_blas_threads(1);
    for (size_t i0 = 0; i0 < n; i0 += CH) {
        size_t b = n - i0 < CH ? n - i0 : CH;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)n_refs, (int)Dp, 1.0f, U + i0 * Dp,
                    (int)Dp, Vr, (int)Dp, 0.0f, S, (int)n_refs);
        for (size_t i = 0; i < b; i++) {
            const float *s = S + i * n_refs;
            /* the k most similar references, ties to the lower index */
            size_t nt = 0;
            for (size_t j = 0; j < n_refs; j++) {
                size_t p = nt;
                while (p > 0 && s[top[p - 1]] < s[j])
                    p--;
                if (p >= k)
                    continue;
                size_t end = nt < k ? nt : k - 1;
                memmove(top + p + 1, top + p, (end - p) * sizeof *top);
                top[p] = j;
                if (nt < k)
                    nt++;
            }
            /* majority vote; a tie goes to the larger summed similarity */
            int32_t best = ref_ids[top[0]];
            size_t bc = 0;
            double bs = -INFINITY;
            for (size_t a = 0; a < nt; a++) {
                int32_t id = ref_ids[top[a]];
                size_t cnt = 0;
                double sum = 0;
                for (size_t q = 0; q < nt; q++)
                    if (ref_ids[top[q]] == id) {
                        cnt++;
                        sum += s[top[q]];
                    }
                if (cnt > bc || (cnt == bc && sum > bs)) {
                    best = id;
                    bc = cnt;
                    bs = sum;
                }
            }
            pred[i0 + i] = best;
        }
    }
    nn_set_blas_threads(prev);
out:
    free(Vr);
    free(S);
    free(rr);
    free(top);
    return rc;
}
