/* baselines/ridge.h - ridge regression from features to pose (joint angles
 * or glove sensors), the pose-regression baseline. With a pose prototype per
 * gesture it recognises gestures never seen in training: predict the pose of
 * a window, name the gesture whose reference poses are nearest.
 *
 *     struct base_ridge r;
 *     base_ridge_fit(&r, X, Y, n, D, J, lambda);   // X [n x D], Y [n x J]; intercept not penalised
 *     base_ridge_predict(Yhat, &r, Xt, nt);        // Yhat [nt x J]
 *     base_ridge_free(&r);
 *
 * Solved through LAPACK, never by a hand-written solver: normal equations
 * by Cholesky (potrf/potrs) with a pocon condition check, because posv alone
 * "solves" an exactly singular system (duplicated columns) without
 * complaint. Deterministic for given inputs.
 */
#ifndef MB_BASELINES_RIDGE_H
#define MB_BASELINES_RIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct base_ridge {
    size_t D, J;
    double *W;                /* [D x J] coefficients on centred features */
    double *x_mean;           /* [D] */
    double *y_mean;           /* [J] */
};

int  base_ridge_fit(struct base_ridge *r, const float *X, const float *Y, size_t n, size_t D, size_t J,
                    double lambda) MB_MUST_CHECK;
void base_ridge_predict(float *Yhat, const struct base_ridge *r, const float *X, size_t n);
void base_ridge_free(struct base_ridge *r);

/* Nearest-prototype naming: for each of n predicted poses P [n x J], the id
 * of the reference class whose mean reference pose is nearest (Euclidean).
 * refs [n_refs x J] with ids [n_refs]; pred [n]. */
int base_pose_nearest(int32_t *pred, const float *P, size_t n, size_t J, const float *refs,
                      const int32_t *ref_ids, size_t n_refs) MB_MUST_CHECK;

#endif
