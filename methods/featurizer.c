/* methods/featurizer.c - see featurizer.h. */
#include "methods/featurizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Features F [s->n x f->D] of a window set, not standardised. */
static int features(float *F, const struct mth_feat *f, const struct cp_set *s)
{
    const struct cp_corpus *c = s->c;
    struct kern_windows w = { .n = s->n, .W = c->W, .S = c->W };
    w.start = malloc((s->n + 1) * sizeof *w.start);
    if (!w.start)
        return mb_error(MB_ENOMEM, "out of memory for %zu windows", s->n);
    /* the windows are views into the corpus's one block of samples, every
     * recording back to back: one long "recording" for the kernel */
    for (size_t k = 0; k < s->n; k++)
        w.start[k] = cp_window_row(c, s->idx[k]);
    mb_error_quiet_begin();    /* MB_ENUM is handled below, as a warning */
    int rc = kern_features_extract(F, c->emg, c->rec_off[c->n_recordings], c->C, &w, &f->fs);
    mb_error_quiet_end();
    free(w.start);
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
    double *rms = calloc(c->C + 1, sizeof *rms);
    if (!rms)
        return mb_error(MB_ENOMEM, "out of memory");
    for (size_t k = 0; k < train->n; k++) {
        const float *x = cp_window(c, train->idx[k]);
        for (size_t t = 0; t < c->W; t++)
            for (size_t ch = 0; ch < c->C; ch++)
                rms[ch] += (double)x[t * c->C + ch] * x[t * c->C + ch];
    }
    for (size_t ch = 0; ch < c->C; ch++)
        rms[ch] = sqrt(rms[ch] / (double)(train->n * c->W));   /* n >= 1: checked by the caller */
    rc = kern_feature_set_thresholds(&f->fs, c->C, 0, rms);
    free(rms);
    f->C = c->C;
    f->D = kern_feature_set_width(&f->fs, c->C);
    return rc;
}

int mth_feat_fit(struct mth_feat *f, float **Fout, const struct cp_set *train, const char *group)
{
    memset(f, 0, sizeof *f);
    *Fout = NULL;
    float *F = NULL;
    int rc = train->n ? MB_OK : mb_error(MB_EINVAL, "empty training set");
    if (!rc)
        rc = setup(f, train, group);
    if (!rc && !(F = malloc((train->n * f->D + 1) * sizeof *F)))
        rc = mb_error(MB_ENOMEM, "out of memory for %zu x %zu features", train->n, f->D);
    if (!rc)
        rc = features(F, f, train);
    if (!rc)
        rc = base_scaler_fit(&f->sc, F, train->n, f->D);
    if (!rc)
        base_scaler_apply(F, &f->sc, F, train->n);
    if (rc) {
        free(F);
        mth_feat_release(f);
        return rc;
    }
    *Fout = F;
    return MB_OK;
}

int mth_feat_apply(float **F, const struct mth_feat *f, const struct cp_set *s)
{
    *F = malloc((s->n * f->D + 1) * sizeof **F);
    if (!*F)
        return mb_error(MB_ENOMEM, "out of memory for %zu x %zu features", s->n, f->D);
    int rc = features(*F, f, s);
    if (rc) {
        free(*F);
        *F = NULL;
        return rc;
    }
    base_scaler_apply(*F, &f->sc, *F, s->n);
    return MB_OK;
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
