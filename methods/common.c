/* methods/common.c - plumbing the neural methods share (internal.h):
 * hyperparameters, encoder set-up from a corpus view, the logistic head,
 * embedding, hashing, the zero-shot k-NN vote. */
#include <cblas.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "methods/internal.h"

/* Small defaults: a fit trains in seconds on 2 cores (docs/METHODS.md). */
#define K(f) offsetof(struct mth_hp, f)
const struct mb_param mth_params[] = {
    { "mae_steps", MB_PT_INT, K(mae_steps), 150, 0, 1e6, NULL, "masked-autoencoder (or regression) training steps" },
    { "align_steps", MB_PT_INT, K(align_steps), 150, 0, 1e6, NULL, "CPEP alignment steps" },
    { "batch", MB_PT_INT, K(batch), 64, 2, 4096, NULL, "minibatch size" },
    { "width", MB_PT_INT, K(width), 64, 4, 1024, NULL, "model width D (feed-forward 2 D)" },
    { "layers", MB_PT_INT, K(layers), 2, 1, MENC_MAX_LAYERS, NULL, "transformer blocks" },
    { "heads", MB_PT_INT, K(heads), 4, 1, 64, NULL, "attention heads (width must be a multiple)" },
    { "dec_width", MB_PT_INT, K(dec_width), 32, 4, 1024, NULL, "MAE decoder width" },
    { "cls", MB_PT_BOOL, K(cls), 1, 0, 1, NULL, "embed by a CLS token (0: mean of the tokens)" },
    { "rectify", MB_PT_BOOL, K(rectify), 1, 0, 1, NULL, "rectify the EMG before standardising" },
    { "patch_ms", MB_PT_REAL, K(patch_ms), 100, 1e-3, 1e5, NULL, "token length in ms (EMG and pose sequences)" },
    { "pose_patch", MB_PT_INT, K(pose_patch), 1, 1, 1024, NULL, "joints per token for end poses" },
    { "mask", MB_PT_REAL, K(mask), 0.5, 0, 0.95, NULL, "share of tokens the MAE masks" },
    { "lr", MB_PT_REAL, K(lr), 1e-3, 1e-7, 1, NULL, "AdamW peak learning rate (cosine to 5 %)" },
    { "wd", MB_PT_REAL, K(wd), 0.05, 0, 1, NULL, "AdamW weight decay (matrices only)" },
    { "warmup", MB_PT_INT, K(warmup), 15, 0, 1e6, NULL, "linear warm-up steps" },
    { "clip", MB_PT_REAL, K(clip), 1.0, 1e-6, 1e6, NULL, "global gradient-norm clipping" },
    { "temp", MB_PT_REAL, K(temp), 0.07, 0.01, 1, NULL, "InfoNCE temperature (initial when learnt)" },
    { "learn_temp", MB_PT_BOOL, K(learn_temp), 1, 0, 1, NULL, "learn the temperature" },
    { "knn", MB_PT_INT, K(knn), 10, 1, 1000, NULL, "references that vote in zero-shot" },
    { "no_emg_pretrain", MB_PT_BOOL, K(no_emg_pretrain), 0, 0, 1, NULL, "CPEP ablation: no EMG MAE" },
    { "no_pose_pretrain", MB_PT_BOOL, K(no_pose_pretrain), 0, 0, 1, NULL, "CPEP ablation: no pose MAE" },
    { "freeze_emg", MB_PT_BOOL, K(freeze_emg), 0, 0, 1, NULL, "CPEP ablation: EMG encoder frozen in alignment" },
    MB_PARAM_END
};
#undef K

int mth_check(const void *hpv, const char *name)
{
    const struct mth_hp *hp = hpv;
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
        r[i] = src == MTH_EMG ? cp_window(c, s->idx[i]) : cp_pose_row(c, s->idx[i]);
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

struct menc_cfg mth_cfg(const struct mth_hp *hp, const struct cp_corpus *c, enum mth_src src)
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
                    const struct cp_set *train, enum mth_src src, uint64_t seed, long steps)
{
    const struct cp_corpus *c = train->c;
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

struct mb_method_model *mth_model_new(const char *method, const void *hp, uint64_t seed, int *rc)
{
    struct mb_method_model *m = calloc(1, sizeof *m);
    if (!m) {
        *rc = mb_error(MB_ENOMEM, "out of memory");
        return NULL;
    }
    m->method = method;
    m->seed = seed;
    m->hp = *(const struct mth_hp *)hp;
    *rc = MB_OK;
    return m;
}

int mth_embed(float *Z, size_t *E, const struct mb_method_model *m, const struct cp_set *x)
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

int mth_fit_head(struct mb_method_model *m, const struct cp_set *train, const int32_t *classes, size_t K)
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
    rc = base_fit_text(&m->clf, lr, Z, y, n, E, K, NULL, m->seed);
out:
    free(Z);
    free(y);
    return rc;
}

int mth_predict_proba(float *P, const struct mb_method_model *m, const struct cp_set *test)
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
