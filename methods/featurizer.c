/* methods/featurizer.c - see featurizer.h. */
#include "methods/featurizer.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/fs.h"
#include "core/shared.h"

/* Features F [s->n x f->D] of a window set, not standardised. */
static int extract(float *F, const struct mth_feat *f, const struct cp_set *s)
{
    const struct cp_corpus *c = s->c;
    struct kern_windows w = { .n = s->n, .W = c->W, .S = c->W };
    w.start = malloc((s->n + 1) * sizeof *w.start);
    if (!w.start)
        return mb_error(MB_ENOMEM, "out of memory for %zu windows", s->n);
    int rc = MB_OK;
    if (!c->lazy) {
        /* the windows are views into the corpus's one block of samples, every
         * recording back to back: one long "recording" for the kernel */
        for (size_t k = 0; k < s->n; k++)
            w.start[k] = cp_window_row(c, s->idx[k]);
        rc = kern_features_extract(F, c->emg, c->rec_off[c->n_recordings], c->C, &w, &f->fs);
    } else {
        /* a lazy corpus: each run of windows of one recording with that
         * recording read; a window's features depend on its samples only */
        for (size_t k0 = 0, k1; k0 < s->n && (rc == MB_OK || rc == MB_ENUM); k0 = k1) {
            size_t r = (size_t)c->rec[s->idx[k0]];
            for (k1 = k0; k1 < s->n && (size_t)c->rec[s->idx[k1]] == r; k1++)
                w.start[k1 - k0] = (size_t)c->start[s->idx[k1]];
            struct kern_windows run = w;
            run.n = k1 - k0;
            int prc = cp_pin(c, r);
            if (prc) {
                rc = prc;
                break;
            }
            int e = kern_features_extract(F + k0 * f->D, c->rec_emg[r], c->rec_off[r + 1] - c->rec_off[r], c->C,
                                          &run, &f->fs);
            cp_unpin(c, r);
            if (e != MB_OK)
                rc = e;
        }
    }
    free(w.start);
    return rc;
}

/* extract(), a constant window's undefined ratio features counted and zeroed. */
static int features(float *F, const struct mth_feat *f, const struct cp_set *s)
{
    mb_error_quiet_begin();    /* MB_ENUM is handled below, as a warning */
    int rc = extract(F, f, s);
    mb_error_quiet_end();
    if (rc == MB_ENUM) {
        /* a constant window (quantised rest, dead channel) has undefined
         * ratio features: counted, reported once, set to 0 */
        size_t bad = 0;
        for (size_t i = 0; i < s->n * f->D; i++)
            if (!isfinite(F[i])) {
                F[i] = 0;
                bad++;
            }
        mb_warn("%zu non-finite feature values set to 0 (%s)", bad, mb_last_error());
        rc = MB_OK;
    } else if (rc != MB_OK) {
        char msg[1024];              /* a copy: mb_error writes the buffer it would read */
        snprintf(msg, sizeof msg, "%s", mb_last_error());
        rc = mb_error(rc, "%s", msg);   /* printed now: it was silenced above */
    }
    return rc;
}

/* ---- raw features of a recording, shared across folds --------------------------- */

/* The unstandardised features of a run of windows of one recording: what
 * they are depends on the recording's samples, the group and the thresholds
 * the group reads, not on the fold. With the thresholds the group reads
 * fixed (TD4's ZC and SSC thresholds are 0 by default; TD-PSD and LS9 read
 * none), every fold, episode and method of a plan on a corpus asks for the
 * same blocks, so each recording's features are computed once per plan
 * instead of once per job. A window's features depend on its samples only
 * (kernels/features.h), so a set's rows gathered from blocks are the bytes
 * features() gives for the set. */
struct raw_block {
    size_t w0, n, D;             /* windows [w0, w0 + n) of the corpus */
    float *F;                    /* [n x D] */
};

static void raw_block_free(void *v)
{
    struct raw_block *b = v;
    if (b)
        free(b->F);
    free(b);
}

struct raw_job {
    const struct mth_feat *f;
    const struct cp_corpus *c;
    size_t w0, n;
};

static int raw_make(void **out, size_t *bytes, void *ctx)
{
    const struct raw_job *j = ctx;
    struct raw_block *b = calloc(1, sizeof *b);
    size_t *idx = malloc((j->n + 1) * sizeof *idx);
    if (b)
        b->F = malloc((j->n * j->f->D + 1) * sizeof *b->F);
    if (!b || !idx || !b->F) {
        raw_block_free(b);
        free(idx);
        return mb_error(MB_ENOMEM, "out of memory for the features of %zu windows", j->n);
    }
    for (size_t k = 0; k < j->n; k++)
        idx[k] = j->w0 + k;
    struct cp_set s = { j->c, j->n, idx };
    int rc = features(b->F, j->f, &s);
    free(idx);
    if (rc) {
        raw_block_free(b);
        return rc;
    }
    b->w0 = j->w0;
    b->n = j->n;
    b->D = j->f->D;
    *out = b;
    *bytes = sizeof *b + b->n * b->D * sizeof(float);
    return MB_OK;
}

/* Key of the block of windows [w0, w0 + n). */
static int raw_key(char key[65], const struct mth_feat *f, const struct cp_corpus *c, size_t w0, size_t n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *k = open_memstream(&text, &len);
    if (!k)
        return mb_error(MB_ENOMEM, "out of memory for a feature key");
    fprintf(k, "myobench-features-raw/1\ngroup %s D %zu\n", f->group, f->D);
    fprintf(k, "corpus %s\nview %.17g %.17g %.17g %d W %zu C %zu\n", c->sha256, c->view.rate_hz, c->view.window_ms,
            c->view.stride_ms, c->view.majority_label, c->W, c->C);
    unsigned rows = kern_feature_set_thr_rows(&f->fs);
    for (unsigned q = 0; q < 3; q++)
        if (rows >> q & 1u) {
            char h[65];
            mb_sha256_hex(h, f->fs.thr + q * f->fs.thr_C, f->fs.thr_C * sizeof *f->fs.thr);
            fprintf(k, "threshold %u %zu %s\n", q, f->fs.thr_C, h);
        }
    fprintf(k, "windows %zu %zu\n", w0, n);
    fclose(k);
    if (!text)
        return mb_error(MB_ENOMEM, "out of memory for a feature key");
    mb_sha256_hex(key, text, len);
    free(text);
    return MB_OK;
}

/* features() of a set, its rows copied from the shared blocks of its windows'
 * recordings (a block: the run of windows of one recording around a window). */
static int features_shared(float *F, const struct mth_feat *f, const struct cp_set *s, struct mb_shared *sh)
{
    if (!f->group[0])
        return mb_error(MB_EINVAL, "features of an unnamed group cannot be shared");   /* a key must name it */
    const struct cp_corpus *c = s->c;
    struct mb_shared_ref ref;
    const struct raw_block *b = NULL;
    int rc = MB_OK;
    for (size_t k = 0; k < s->n && !rc; k++) {
        size_t i = s->idx[k];
        if (!b || i < b->w0 || i >= b->w0 + b->n) {
            if (b)
                mb_shared_unref(sh, &ref);
            b = NULL;
            size_t w0 = i, w1 = i + 1;
            while (w0 > 0 && c->rec[w0 - 1] == c->rec[i])
                w0--;
            while (w1 < c->n && c->rec[w1] == c->rec[i])
                w1++;
            char key[65];
            struct raw_job j = { f, c, w0, w1 - w0 };
            if ((rc = raw_key(key, f, c, w0, w1 - w0)) || (rc = mb_shared_get(&ref, sh, key, raw_make, &j,
                                                                                raw_block_free)))
                break;
            b = ref.val;
        }
        memcpy(F + k * f->D, b->F + (i - b->w0) * f->D, f->D * sizeof *F);
    }
    if (b)
        mb_shared_unref(sh, &ref);
    return rc;
}

/* features() of a set, through the plan's shared blocks when there is a cache
 * and the corpus has a hash to key them by. */
static int features_via(float *F, const struct mth_feat *f, const struct cp_set *s, struct mb_shared *sh)
{
    if (!sh || !s->c->sha256[0])
        return features(F, f, s);
    /* A group that reads a threshold taken from the fold's training RMS (LS9's
     * WAMP) has features of that fold only: the fold's fit and applied
     * features (shared by its methods) already cover them, and blocks would
     * only hold the same numbers twice. The others serve every fold. */
    int per_fold = 0;
    unsigned rows = kern_feature_set_thr_rows(&f->fs);
    for (unsigned q = 0; q < 3 && f->fs.p.thr_unit == KERN_THR_RMS; q++)
        for (size_t c = 0; (rows >> q & 1u) && c < f->fs.thr_C; c++)
            per_fold |= f->fs.thr[q * f->fs.thr_C + c] != 0;
    return per_fold ? features(F, f, s) : features_shared(F, f, s, mb_shared_root(sh));
}

/* Feature set for the training windows: RMS thresholds from them. */
static int setup(struct mth_feat *f, const struct cp_set *train, const char *group)
{
    const struct cp_corpus *c = train->c;
    struct kern_feat_params p;
    kern_feat_params_default(&p);
    p.fs = c->view.rate_hz;
    int rc = kern_feature_set_parse(&f->fs, group, &p);
    if (rc)
        return rc;
    snprintf(f->group, sizeof f->group, "%s", group);   /* names the shared blocks (raw_key) */
    double *rms = calloc(c->C + 1, sizeof *rms);
    if (!rms)
        return mb_error(MB_ENOMEM, "out of memory");
    struct cp_cursor cur = CP_CURSOR(c);
    for (size_t k = 0; k < train->n && !rc; k++) {
        const float *x;
        if ((rc = cp_cursor_at(&cur, &x, train->idx[k])))
            break;
        for (size_t t = 0; t < c->W; t++)
            for (size_t ch = 0; ch < c->C; ch++)
                rms[ch] += (double)x[t * c->C + ch] * x[t * c->C + ch];
    }
    cp_cursor_end(&cur);
    if (rc) {
        free(rms);
        return rc;
    }
    for (size_t ch = 0; ch < c->C; ch++)
        rms[ch] = sqrt(rms[ch] / (double)(train->n * c->W));   /* n >= 1: checked by the caller */
    rc = kern_feature_set_thresholds(&f->fs, c->C, 0, rms);
    free(rms);
    f->C = c->C;
    f->D = kern_feature_set_width(&f->fs, c->C);
    return rc;
}

/* Computes thresholds, scaler and the standardised training features. */
static int feat_fit_compute(struct mth_feat *f, float **Fout, const struct cp_set *train, const char *group,
                            struct mb_shared *sh)
{
    float *F = NULL;
    int rc = train->n ? MB_OK : mb_error(MB_EINVAL, "empty training set");
    if (!rc)
        rc = setup(f, train, group);
    if (!rc && !(F = malloc((train->n * f->D + 1) * sizeof *F)))
        rc = mb_error(MB_ENOMEM, "out of memory for %zu x %zu features", train->n, f->D);
    if (!rc)
        rc = features_via(F, f, train, sh);
    if (!rc)
        rc = base_scaler_fit(&f->sc, F, train->n, f->D);
    if (!rc)
        base_scaler_apply(F, &f->sc, F, train->n);
    if (rc) {
        free(F);
        return rc;
    }
    *Fout = F;
    return MB_OK;
}

static int feat_apply_compute(float **F, const struct mth_feat *f, const struct cp_set *s, struct mb_shared *sh)
{
    *F = malloc((s->n * f->D + 1) * sizeof **F);
    if (!*F)
        return mb_error(MB_ENOMEM, "out of memory for %zu x %zu features", s->n, f->D);
    int rc = features_via(*F, f, s, sh);
    if (rc) {
        free(*F);
        *F = NULL;
        return rc;
    }
    base_scaler_apply(*F, &f->sc, *F, s->n);
    return MB_OK;
}

/* ---- through the plan's shared work ------------------------------------------- */

/* A fit's result: thresholds [3 x C], scaler [D] x 2, features [n x D]. */
struct feat_fitted {
    size_t C, D, n, nthr;
    double *thr, *mean, *inv_std;
    float *F;
};

static void feat_fitted_free(void *v)
{
    struct feat_fitted *r = v;
    if (!r)
        return;
    free(r->thr);
    free(r->mean);
    free(r->inv_std);
    free(r->F);
    free(r);
}

struct fit_job {
    const struct cp_set *train;
    const char *group;
    struct mb_shared *sh;
};

static int fit_make(void **out, size_t *bytes, void *ctx)
{
    const struct fit_job *j = ctx;
    struct mth_feat f;
    memset(&f, 0, sizeof f);
    float *F = NULL;
    int rc = feat_fit_compute(&f, &F, j->train, j->group, j->sh);
    struct feat_fitted *r = rc ? NULL : calloc(1, sizeof *r);
    if (!rc && !r)
        rc = mb_error(MB_ENOMEM, "out of memory for shared features");
    if (!rc) {
        r->C = f.C;
        r->D = f.D;
        r->n = j->train->n;
        r->nthr = f.fs.thr ? 3 * f.fs.thr_C : 0;
        r->thr = malloc((r->nthr + 1) * sizeof *r->thr);
        r->mean = malloc((f.D + 1) * sizeof *r->mean);
        r->inv_std = malloc((f.D + 1) * sizeof *r->inv_std);
        r->F = F;
        F = NULL;
        if (!r->thr || !r->mean || !r->inv_std)
            rc = mb_error(MB_ENOMEM, "out of memory for shared features");
        else {
            if (r->nthr)
                memcpy(r->thr, f.fs.thr, r->nthr * sizeof *r->thr);
            memcpy(r->mean, f.sc.mean, f.D * sizeof *r->mean);
            memcpy(r->inv_std, f.sc.inv_std, f.D * sizeof *r->inv_std);
        }
    }
    free(F);
    mth_feat_release(&f);
    if (rc) {
        feat_fitted_free(r);
        return rc;
    }
    *out = r;
    *bytes = sizeof *r + (r->nthr + 2 * r->D) * sizeof(double) + r->n * r->D * sizeof(float);
    return MB_OK;
}

/* The corpus and view part of a key. */
static void key_corpus(FILE *k, const struct cp_corpus *c)
{
    fprintf(k, "corpus %s\nview %.17g %.17g %.17g %d W %zu C %zu\n", c->sha256, c->view.rate_hz, c->view.window_ms,
            c->view.stride_ms, c->view.majority_label, c->W, c->C);
}

static void key_windows(FILE *k, const struct cp_set *s)
{
    char h[65];
    mb_sha256_hex(h, s->idx, s->n * sizeof *s->idx);
    fprintf(k, "windows %zu %s\n", s->n, h);
}

/* SHA-256 of what open_memstream collected. */
static int key_finish(char key[65], FILE *k, char **text, size_t *len)
{
    fclose(k);
    if (!*text)
        return mb_error(MB_ENOMEM, "out of memory for a feature key");
    mb_sha256_hex(key, *text, *len);
    free(*text);
    return MB_OK;
}

int mth_feat_fit(struct mth_feat *f, struct mth_feat_rows *Fout, const struct cp_set *train, const char *group,
                 struct mb_shared *sh)
{
    memset(f, 0, sizeof *f);
    memset(Fout, 0, sizeof *Fout);
    /* the key names the corpus by its hash: a corpus without one (built in
     * memory) cannot be told from another, so it shares nothing */
    if (!sh || !train->c->sha256[0]) {
        int rc = feat_fit_compute(f, &Fout->own, train, group, NULL);
        Fout->F = Fout->own;
        if (rc)
            mth_feat_release(f);
        snprintf(f->group, sizeof f->group, "%s", group);
        return rc;
    }
    char *text = NULL, key[65];
    size_t len = 0;
    FILE *k = open_memstream(&text, &len);
    if (!k)
        return mb_error(MB_ENOMEM, "out of memory for a feature key");
    fprintf(k, "myobench-features-fit/1\ngroup %s\n", group);
    key_corpus(k, train->c);
    key_windows(k, train);
    int rc = key_finish(key, k, &text, &len);
    struct fit_job j = { train, group, sh };
    struct mb_shared_ref ref;
    if (!rc)
        rc = mb_shared_get(&ref, sh, key, fit_make, &j, feat_fitted_free);
    if (rc)
        return rc;
    const struct feat_fitted *r = ref.val;
    /* the set as setup() builds it, with the fitted thresholds; the scaler and features copied */
    struct kern_feat_params p;
    kern_feat_params_default(&p);
    p.fs = train->c->view.rate_hz;
    rc = kern_feature_set_parse(&f->fs, group, &p);
    if (!rc && r->nthr) {
        if (!(f->fs.thr = malloc(r->nthr * sizeof *f->fs.thr)))
            rc = mb_error(MB_ENOMEM, "out of memory");
        else {
            memcpy(f->fs.thr, r->thr, r->nthr * sizeof *f->fs.thr);
            f->fs.thr_C = r->nthr / 3;
        }
    }
    f->C = r->C;
    f->D = r->D;
    f->sc.D = r->D;
    if (!rc && (!(f->sc.mean = malloc((r->D + 1) * sizeof *f->sc.mean)) ||
                !(f->sc.inv_std = malloc((r->D + 1) * sizeof *f->sc.inv_std))))
        rc = mb_error(MB_ENOMEM, "out of memory for a scaler of %zu columns", r->D);
    if (!rc) {
        memcpy(f->sc.mean, r->mean, r->D * sizeof *f->sc.mean);
        memcpy(f->sc.inv_std, r->inv_std, r->D * sizeof *f->sc.inv_std);
        /* the training features are read where they are, held until mth_feat_rows_release:
         * a copy per job was the largest buffer of a classical fit */
        Fout->F = r->F;
        Fout->sh = sh;
        Fout->ref = ref;
    }
    if (rc) {
        mb_shared_unref(sh, &ref);
        memset(Fout, 0, sizeof *Fout);
        mth_feat_release(f);
        return rc;
    }
    snprintf(f->group, sizeof f->group, "%s", group);
    f->sh = sh;
    return MB_OK;
}

void mth_feat_rows_release(struct mth_feat_rows *F)
{
    if (F->ref.e || F->ref.own)
        mb_shared_unref(F->sh, &F->ref);
    free(F->own);
    memset(F, 0, sizeof *F);
}

struct apply_job {
    const struct mth_feat *f;
    const struct cp_set *s;
};

struct feat_applied {
    size_t n, D;
    float *F;
};

static void feat_applied_free(void *v)
{
    struct feat_applied *r = v;
    if (r)
        free(r->F);
    free(r);
}

static int apply_make(void **out, size_t *bytes, void *ctx)
{
    const struct apply_job *j = ctx;
    struct feat_applied *r = calloc(1, sizeof *r);
    if (!r)
        return mb_error(MB_ENOMEM, "out of memory for shared features");
    int rc = feat_apply_compute(&r->F, j->f, j->s, j->f->sh);
    if (rc) {
        free(r);
        return rc;
    }
    r->n = j->s->n;
    r->D = j->f->D;
    *out = r;
    *bytes = sizeof *r + r->n * r->D * sizeof(float);
    return MB_OK;
}

int mth_feat_apply(float **F, const struct mth_feat *f, const struct cp_set *s)
{
    if (!f->sh)
        return feat_apply_compute(F, f, s, NULL);
    *F = NULL;
    char *text = NULL, key[65], h[65];
    size_t len = 0;
    FILE *k = open_memstream(&text, &len);
    if (!k)
        return mb_error(MB_ENOMEM, "out of memory for a feature key");
    fprintf(k, "myobench-features/1\ngroup %s\n", f->group);
    key_corpus(k, s->c);
    key_windows(k, s);
    /* the fitted state the features depend on: thresholds and scaler */
    size_t nthr = f->fs.thr ? 3 * f->fs.thr_C : 0;
    mb_sha256_hex(h, f->fs.thr ? (const void *)f->fs.thr : (const void *)"", nthr * sizeof(double));
    fprintf(k, "thresholds %zu %s\n", nthr, h);
    mb_sha256_hex(h, f->sc.mean, f->D * sizeof *f->sc.mean);
    fprintf(k, "mean %zu %s\n", f->D, h);
    mb_sha256_hex(h, f->sc.inv_std, f->D * sizeof *f->sc.inv_std);
    fprintf(k, "inv_std %s\n", h);
    int rc = key_finish(key, k, &text, &len);
    struct apply_job j = { f, s };
    struct mb_shared_ref ref;
    if (!rc)
        rc = mb_shared_get(&ref, f->sh, key, apply_make, &j, feat_applied_free);
    if (rc)
        return rc;
    const struct feat_applied *r = ref.val;
    if (!(*F = malloc((r->n * r->D + 1) * sizeof **F)))
        rc = mb_error(MB_ENOMEM, "out of memory for %zu x %zu features", r->n, r->D);
    else
        memcpy(*F, r->F, r->n * r->D * sizeof **F);
    mb_shared_unref(f->sh, &ref);
    return rc;
}

size_t mth_feat_hash_len(const struct mth_feat *f)
{
    return (f->fs.thr ? 3 * f->fs.thr_C : 0) + 2 * f->D;
}

void mth_feat_hash_put(double *b, size_t *o, const struct mth_feat *f)
{
    size_t nthr = f->fs.thr ? 3 * f->fs.thr_C : 0;
    for (size_t i = 0; i < nthr; i++) b[(*o)++] = f->fs.thr[i];
    for (size_t i = 0; i < f->D; i++) b[(*o)++] = f->sc.mean[i];
    for (size_t i = 0; i < f->D; i++) b[(*o)++] = f->sc.inv_std[i];
}

void mth_feat_release(struct mth_feat *f)
{
    kern_feature_set_free(&f->fs);
    base_scaler_free(&f->sc);
    memset(f, 0, sizeof *f);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int mth_class_of(int32_t *y, const struct cp_set *s, const int32_t *classes, size_t K)
{
    for (size_t k = 0; k < s->n; k++) {
        int32_t g = s->c->label[s->idx[k]];
        const int32_t *p = bsearch(&g, classes, K, sizeof *classes, cmp_i32);
        if (!p)
            return mb_error(MB_EINVAL, "training window %zu has gesture %d, not among the %zu classes", s->idx[k], g, K);
        y[k] = (int32_t)(p - classes);
    }
    return MB_OK;
}
