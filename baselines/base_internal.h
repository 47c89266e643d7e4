/* baselines/base_internal.h - helpers shared by the classifier files of
 * baselines/ (not part of the public contract in classifier.h).
 *
 * Each classifier file defines its own model struct and hands it out as a
 * pointer to the incomplete 'struct base_model' (a cast both ways; the
 * public type is never completed), so no two files disagree on a layout. */
#ifndef MB_BASELINES_BASE_INTERNAL_H
#define MB_BASELINES_BASE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "baselines/classifier.h"

/* Checks the arguments every fit gets (X non-NULL and finite, n, D, K >= 1,
 * labels in [0, K)) and counts rows per class: count [K]. Errors name the
 * model and the first bad row. */
int base_fit_check(size_t *count, const float *X, const int32_t *y, size_t n, size_t D, size_t K,
                   const char *model) MB_MUST_CHECK;

/* Checks the rows given to predict_proba are finite (naming the row). */
int base_predict_check(const float *X, size_t n, size_t D, const char *model) MB_MUST_CHECK;

/* P [n x K] = softmax over the classes with present[k] != 0 of the scores
 * S [n x K] (double); absent classes get exactly 0. Stable (max subtracted). */
void base_softmax_rows(float *P, const double *S, size_t n, size_t K, const unsigned char *present);

#endif
