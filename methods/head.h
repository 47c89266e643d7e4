/* methods/head.h - the logistic head on a frozen embedding: a multinomial
 * logistic regression (baselines' logreg, default parameters) fitted on the
 * training windows' embeddings, whose probabilities are a neural method's
 * predict_proba. So the classification protocols measure the frozen
 * representation, like a linear probe (docs/METHODS.md). A component a
 * method embeds; the method lends it its embedding function. */
#ifndef MB_METHODS_HEAD_H
#define MB_METHODS_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include "baselines/classifier.h"
#include "corpus/corpus.h"

struct mth_head {
    size_t K;
    int32_t *classes;            /* [K] the global gesture ids of the classes */
    struct base_model *clf;      /* the fitted logistic regression */
};

/* embed(Z, ctx, x) gives the method's embeddings Z [x->n x E] of a set's
 * windows from its fitted state ctx (E fixed per model).
 *
 * Maps each training window's gesture to its class in 'classes' [K]
 * (MB_EINVAL naming 'who' and the window when one is not among them), embeds
 * the training windows through embed(ctx) and fits the regression with
 * 'seed'. h is zeroed first; on error it holds what mth_head_release frees. */
int mth_head_fit(struct mth_head *h, int (*embed)(float *Z, const void *ctx, const struct cp_set *x),
                 const void *ctx, size_t E, const struct cp_set *train, const int32_t *classes, size_t K,
                 uint64_t seed, const char *who) MB_MUST_CHECK;

/* P [test->n x K]: the probabilities of the K classes of the fit. */
int mth_head_predict(float *P, const struct mth_head *h,
                     int (*embed)(float *Z, const void *ctx, const struct cp_set *x), const void *ctx, size_t E,
                     const struct cp_set *test) MB_MUST_CHECK;

void mth_head_release(struct mth_head *h);

#endif
