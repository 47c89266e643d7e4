/* methods/head.c - the logistic head on a frozen embedding (head.h). */
#include "methods/head.h"

#include <stdlib.h>
#include <string.h>

#include "core/params.h"

/* The classifier and its parameters: logreg at its defaults. */
static const struct base_classifier *logreg(void) { return &base_logreg; }

int mth_head_fit(struct mth_head *h, int (*embed)(float *Z, const void *ctx, const struct cp_set *x),
                 const void *ctx, size_t E, const struct cp_set *train, const int32_t *classes, size_t K,
                 uint64_t seed, const char *who)
{
    memset(h, 0, sizeof *h);
    size_t n = train->n;
    float *Z = malloc((n * E + 1) * sizeof *Z);   /* [n x E] */
    int32_t *y = malloc((n + 1) * sizeof *y);     /* [n] class of each window */
    h->classes = malloc((K + 1) * sizeof *h->classes);
    int rc = MB_OK;
    if (!Z || !y || !h->classes) {
        rc = mb_error(MB_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(h->classes, classes, K * sizeof *classes);
    h->K = K;
    for (size_t i = 0; i < n; i++) {
        int32_t g = train->c->label[train->idx[i]];
        y[i] = -1;
        for (size_t k = 0; k < K; k++)
            if (classes[k] == g)
                y[i] = (int32_t)k;
        if (y[i] < 0) {
            rc = mb_error(MB_EINVAL, "%s: training window %zu has gesture %d, not among the %zu classes", who,
                          train->idx[i], (int)g, K);
            goto out;
        }
    }
    if ((rc = embed(Z, ctx, train)))
        goto out;
    struct base_logreg_hp hp;
    mb_params_defaults(&hp, base_logreg_params);
    rc = logreg()->fit(&h->clf, Z, y, n, E, K, &hp, seed);
out:
    free(Z);
    free(y);
    return rc;
}

int mth_head_predict(float *P, const struct mth_head *h,
                     int (*embed)(float *Z, const void *ctx, const struct cp_set *x), const void *ctx, size_t E,
                     const struct cp_set *test)
{
    float *Z = malloc((test->n * E + 1) * sizeof *Z);   /* [n x E] */
    if (!Z)
        return mb_error(MB_ENOMEM, "out of memory");
    int rc = embed(Z, ctx, test);
    if (!rc)
        rc = logreg()->predict_proba(P, h->clf, Z, test->n);
    free(Z);
    return rc;
}

void mth_head_release(struct mth_head *h)
{
    if (h->clf)
        logreg()->free(h->clf);
    free(h->classes);
    memset(h, 0, sizeof *h);
}
