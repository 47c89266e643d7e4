/* methods/common.c - the encoder set-up from a corpus view (common.h). */
#include <cblas.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "methods/common.h"

#include "core/fs.h"
#include "core/shared.h"

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
    /* batches visit the windows in any order: every recording stays read */
    if (src == MTH_EMG && cp_set_pin(s)) {
        free(r);
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++)
        r[i] = src == MTH_EMG ? cp_window(c, s->idx[i]) : cp_pose_row(c, s->idx[i]);
    return r;
}

void mth_rows_free(const float **rows, const struct cp_set *s, enum mth_src src)
{
    if (!rows)
        return;
    if (src == MTH_EMG)
        cp_set_unpin(s);
    free(rows);
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
    mth_rows_free(rows, train, src);
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
    mth_rows_free(rows, x, src);
    return rc;
}

/* ---- pre-trained encoders shared by the jobs of a plan ---------------------------- */

/* What a pre-training produced: the parameter blocks, the scaler, the loss
 * curve. Immutable once made; every job that needs it copies it. */
struct enc_result {
    struct menc e;
    struct mth_curve curve;
};

static void enc_result_free(void *v)
{
    struct enc_result *r = v;
    if (!r)
        return;
    menc_release(&r->e);
    mth_curve_release(&r->curve);
    free(r);
}

struct enc_job {
    const struct menc_cfg *g;
    const struct mth_train *t;
    const struct cp_set *train;
    enum mth_src src;
    uint64_t seed;
    const char *path;            /* checkpoint of this encoder (NULL: memory only) */
};

static uint64_t stream_seed(uint64_t seed, enum mth_src src)
{
    return seed ^ (src == MTH_EMG ? 0x9e3779b97f4a7c15ull : 0xc2b2ae3d27d4eb4full);
}

/* The result from the checkpoint when one was written for this key, else
 * trained (and written, when there is a place for it). */
static int enc_make(void **out, size_t *bytes, void *ctx)
{
    const struct enc_job *j = ctx;
    struct enc_result *r = calloc(1, sizeof *r);
    if (!r)
        return mb_error(MB_ENOMEM, "out of memory for a shared encoder");
    int rc = MB_ENOMEM, loaded = 0;
    if (j->path && mb_fs_is_file(j->path)) {
        /* laid out as the training would, then every float read back */
        if (!(rc = menc_init(&r->e, j->g, stream_seed(j->seed, j->src))) &&
            !(rc = mth_curve_alloc(&r->curve, j->t->steps))) {
            struct nn_extra x[3] = { { "mean", r->e.mean, j->g->C }, { "istd", r->e.istd, j->g->C },
                                     { "curve", r->curve.v, r->curve.n } };
            mb_error_quiet_begin();
            rc = nn_params_load_x(&r->e.p, j->path, NULL, 1, x, r->curve.n ? 3 : 2);
            mb_error_quiet_end();
            if (rc)   /* a damaged or foreign file is not trusted: trained again below */
                mb_warn("shared encoder '%s' not used (%s); training it again", j->path, mb_last_error());
            loaded = !rc;
        }
        if (!loaded) {
            menc_release(&r->e);
            mth_curve_release(&r->curve);
        }
    }
    if (!loaded && !(rc = mth_encoder_fit(&r->e, &r->curve, j->g, j->t, j->train, j->src, j->seed)) && j->path) {
        struct nn_extra x[3] = { { "mean", r->e.mean, j->g->C }, { "istd", r->e.istd, j->g->C },
                                 { "curve", r->curve.v, r->curve.n } };
        /* a failed write costs a later run the training, nothing else */
        mb_error_quiet_begin();
        if (nn_params_save_x(&r->e.p, j->path, j->t->steps, 1, x, r->curve.n ? 3 : 2))
            mb_warn("shared encoder not written (%s)", mb_last_error());
        mb_error_quiet_end();
    }
    if (rc) {
        enc_result_free(r);
        return rc;
    }
    *out = r;
    *bytes = sizeof *r + 4 * r->e.p.total * sizeof(float) + r->curve.n * sizeof(float);
    return MB_OK;
}

/* Copies a result into a fresh encoder of the same layout. */
static int enc_copy(struct menc *e, struct mth_curve *curve, const struct enc_result *r, const struct enc_job *j)
{
    int rc = menc_init(e, j->g, stream_seed(j->seed, j->src));
    if (!rc && r->curve.n)
        rc = mth_curve_alloc(curve, (long)r->curve.n);
    if (rc) {
        menc_release(e);
        return rc;
    }
    const struct nn_params *s = &r->e.p;
    struct nn_params *d = &e->p;
    memcpy(d->data, s->data, s->total * sizeof *d->data);
    memcpy(d->m, s->m, s->total * sizeof *d->m);
    memcpy(d->v, s->v, s->total * sizeof *d->v);
    memcpy(e->mean, r->e.mean, j->g->C * sizeof *e->mean);
    memcpy(e->istd, r->e.istd, j->g->C * sizeof *e->istd);
    if (r->curve.n)
        memcpy(curve->v, r->curve.v, r->curve.n * sizeof *curve->v);
    return MB_OK;
}

int mth_encoder_fit_shared(struct menc *e, struct mth_curve *curve, const struct menc_cfg *g,
                           const struct mth_train *t, const struct cp_set *train, enum mth_src src, uint64_t seed,
                           struct mb_shared *sh)
{
    const struct cp_corpus *c = train->c;
    if (!sh || !c->sha256[0])   /* no hash, no key that tells this corpus from another: share nothing */
        return mth_encoder_fit(e, curve, g, t, train, src, seed);
    /* every argument of the pre-training, and the corpus it reads */
    char win[65], key[65], path[4096];
    mb_sha256_hex(win, train->idx, train->n * sizeof *train->idx);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return mb_error(MB_ENOMEM, "out of memory for an encoder key");
    /* The checkpoint outlives the process (<db>.cache/): the same key must
     * mean the same bytes, and sgemm's summation order (OpenBLAS kernel)
     * and libm's FMA variants differ between CPUs (docs/DETERMINISM.md). */
    fprintf(f, "blas %s | %s\ncpu fma %d avx2 %d avx512f %d\n", openblas_get_corename(), openblas_get_config(),
            __builtin_cpu_supports("fma"), __builtin_cpu_supports("avx2"), __builtin_cpu_supports("avx512f"));
    fprintf(f, "myobench-encoder/1\ncorpus %s\nview %.17g %.17g %.17g %d W %zu C %zu J %zu Wp %zu\nsrc %d\n",
            c->sha256, c->view.rate_hz, c->view.window_ms, c->view.stride_ms, c->view.majority_label, c->W, c->C,
            c->J, c->Wp, (int)src);
    fprintf(f, "cfg T %zu C %zu P %zu D %zu L %zu H %zu F %zu cls %d Dd %zu mask %.17g rectify %d\n", g->T, g->C, g->P,
            g->D, g->L, g->H, g->F, g->cls, g->Dd, g->mask_ratio, g->rectify);
    fprintf(f, "train steps %ld warmup %ld batch %zu lr %.9g lr_min %.9g wd %.9g clip %.9g\nseed %llu\nwindows %zu %s\n",
            t->steps, t->warmup, t->batch, (double)t->lr, (double)t->lr_min, (double)t->wd, (double)t->clip,
            (unsigned long long)seed, train->n, win);
    fclose(f);
    if (!text)
        return mb_error(MB_ENOMEM, "out of memory for an encoder key");
    mb_sha256_hex(key, text, len);
    free(text);
    const char *dir = mb_shared_dir(sh);
    if (dir)
        snprintf(path, sizeof path, "%s/enc-%s.h5", dir, key);
    struct enc_job j = { g, t, train, src, seed, dir ? path : NULL };
    struct mb_shared_ref ref;
    int rc = mb_shared_get(&ref, sh, key, enc_make, &j, enc_result_free);
    if (rc)
        return rc;
    rc = enc_copy(e, curve, ref.val, &j);
    mb_shared_unref(sh, &ref);
    return rc;
}
