/* methods/featurizer.h - the front of every classical method: a feature
 * group of kernels/features (TD4, LS9, TD-PSD) over windows of a corpus,
 * thresholds relative to the channel RMS of the TRAINING windows, then a
 * per-column standardisation fitted on the training windows. A component
 * that methods embed (methods/feat_clf.c, methods/pose_ridge.c), not a
 * method. */
#ifndef MB_METHODS_FEATURIZER_H
#define MB_METHODS_FEATURIZER_H

#include <stddef.h>

#include "baselines/classifier.h"
#include "corpus/corpus.h"
#include "kernels/features.h"
#include "core/shared.h"

struct mb_shared;

struct mth_feat {
    struct kern_feature_set fs;   /* with the training thresholds */
    struct base_scaler sc;        /* fitted on the training features */
    size_t C, D;                  /* channels, feature columns */
    char group[32];               /* the feature group */
    struct mb_shared *sh;         /* the plan's shared work (core/shared.h), or NULL */
};

/* The standardised training features a fit hands out: F [n x D], read
 * only, valid until mth_feat_rows_release (with sharing they are the
 * shared result itself, held). */
struct mth_feat_rows {
    const float *F;
    float *own;                   /* computed without sharing */
    struct mb_shared *sh;
    struct mb_shared_ref ref;
};
void mth_feat_rows_release(struct mth_feat_rows *F);

/* Fits thresholds and scaler on the training windows; *F receives their
 * standardised features [train->n x f->D] (release with mth_feat_rows_release).
 * Through the plan's shared work 'sh' (may be NULL): methods of a fold
 * that use the same group on the same training windows (lda-td4, qda-td4,
 * knn-td4, pose-ridge-td4, ...) compute them once; the bytes are the same
 * either way. */
int mth_feat_fit(struct mth_feat *f, struct mth_feat_rows *F, const struct cp_set *train, const char *group,
                 struct mb_shared *sh) MB_MUST_CHECK;

/* Standardised features of any window set: *F [s->n x f->D], malloc'ed
 * (shared like the fit's, with the featurizer's thresholds and scaler in
 * the key). */
int mth_feat_apply(float **F, const struct mth_feat *f, const struct cp_set *s) MB_MUST_CHECK;

/* Bytes that define the representation (thresholds, scaler), appended to
 * b from index *o (b sized by mth_feat_hash_len). */
size_t mth_feat_hash_len(const struct mth_feat *f);
void mth_feat_hash_put(double *b, size_t *o, const struct mth_feat *f);

void mth_feat_release(struct mth_feat *f);

/* Class index of each window of a set: y [s->n] (classes sorted). */
int mth_class_of(int32_t *y, const struct cp_set *s, const int32_t *classes, size_t K) MB_MUST_CHECK;

#endif
