/* baselines/ridge.c - ridge regression from features to pose, and naming
 * gestures by the nearest mean reference pose (ridge.h, docs/BASELINES.md).
 *
 * Features and targets are centred on their training means, so the
 * intercept is y_mean - x_mean' W and is not penalised; W solves
 *     (Xc' Xc + lambda I) W = Xc' Yc
 * by Cholesky (LAPACKE dpotrf/dpotrs, with a dpocon condition check), in
 * double. */
#include "baselines/ridge.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "baselines/base_internal.h"

void base_ridge_free(struct base_ridge *r)
{
    if (!r) return;
    free(r->W); free(r->x_mean); free(r->y_mean);
    memset(r, 0, sizeof *r);
}

int base_ridge_fit(struct base_ridge *r, const float *X, const float *Y, size_t n, size_t D, size_t J,
                   double lambda)
{
    memset(r, 0, sizeof *r);
    if (!X || !Y || n == 0 || D == 0 || J == 0)
        return mb_error(MB_EINVAL, "ridge: fit needs rows, features and targets (n=%zu, D=%zu, J=%zu)", n, D, J);
    if (!(lambda >= 0) || !isfinite(lambda))
        return mb_error(MB_EINVAL, "ridge: lambda must be a finite number >= 0 (got %g)", lambda);
    int err = base_predict_check(X, n, D, "ridge (features)");
    if (!err) err = base_predict_check(Y, n, J, "ridge (targets)");
    if (err) return err;
    double *Xc = malloc(n * D * sizeof *Xc), *Yc = malloc(n * J * sizeof *Yc), *A = malloc(D * D * sizeof *A);
    r->W = malloc(D * J * sizeof *r->W);
    r->x_mean = calloc(D, sizeof *r->x_mean);
    r->y_mean = calloc(J, sizeof *r->y_mean);
    if (!Xc || !Yc || !A || !r->W || !r->x_mean || !r->y_mean) {
        err = mb_error(MB_ENOMEM, "ridge: %zu x %zu features, %zu targets", n, D, J);
        goto out;
    }
    r->D = D; r->J = J;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < D; j++) r->x_mean[j] += X[i * D + j];
        for (size_t j = 0; j < J; j++) r->y_mean[j] += Y[i * J + j];
    }
    for (size_t j = 0; j < D; j++) r->x_mean[j] /= (double)n;
    for (size_t j = 0; j < J; j++) r->y_mean[j] /= (double)n;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < D; j++) Xc[i * D + j] = X[i * D + j] - r->x_mean[j];
        for (size_t j = 0; j < J; j++) Yc[i * J + j] = Y[i * J + j] - r->y_mean[j];
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)D, (int)n, 1.0, Xc, (int)D, 0.0, A, (int)D);
    for (size_t j = 0; j < D; j++) A[j * D + j] += lambda;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)D, (int)J, (int)n, 1.0, Xc, (int)D, Yc, (int)J,
                0.0, r->W, (int)J);
    /* Cholesky, then the condition number: rounding lets potrf "succeed" on
     * an exactly singular system (duplicate columns, lambda = 0), whose
     * solution would be noise. */
    double anorm = LAPACKE_dlansy(LAPACK_ROW_MAJOR, '1', 'U', (lapack_int)D, A, (lapack_int)D), rcond = 0;
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)D, A, (lapack_int)D) != 0 ||
        LAPACKE_dpocon(LAPACK_ROW_MAJOR, 'U', (lapack_int)D, A, (lapack_int)D, anorm, &rcond) != 0 ||
        !(rcond > 1e-13)) {
        err = mb_error(MB_ENUM, "ridge: normal equations are singular (%zu rows, %zu features, lambda %g, "
                       "rcond %.2g); use lambda > 0", n, D, lambda, rcond);
        goto out;
    }
    if (LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'U', (lapack_int)D, (lapack_int)J, A, (lapack_int)D, r->W,
                       (lapack_int)J) != 0)
        err = mb_error(MB_ENUM, "ridge: Cholesky solve failed (%zu features)", D);
out:
    free(Xc); free(Yc); free(A);
    if (err) base_ridge_free(r);
    return err;
}

#define ROWS 512   /* rows per block in predict: bounded scratch */

void base_ridge_predict(float *Yhat, const struct base_ridge *r, const float *X, size_t n)
{
    size_t D = r->D, J = r->J;
    size_t rows = ROWS;
    /* ridge.h gives predict no error path; the scratch is a few hundred KiB
     * at most, so failing to get it is treated like a broken invariant. */
    double *Xd = malloc(rows * D * sizeof *Xd), *Yd = malloc(rows * J * sizeof *Yd);
    MB_ASSERT(Xd && Yd);
    for (size_t i0 = 0; i0 < n; i0 += rows) {
        size_t b = n - i0 < rows ? n - i0 : rows;
        for (size_t q = 0; q < b; q++)
            for (size_t j = 0; j < D; j++) Xd[q * D + j] = X[(i0 + q) * D + j] - r->x_mean[j];
        for (size_t q = 0; q < b; q++) memcpy(Yd + q * J, r->y_mean, J * sizeof *Yd);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)J, (int)D, 1.0, Xd, (int)D, r->W,
                    (int)J, 1.0, Yd, (int)J);
        for (size_t t = 0; t < b * J; t++) Yhat[i0 * J + t] = (float)Yd[t];
    }
    free(Xd);
    free(Yd);
}

int base_pose_nearest(int32_t *pred, const float *P, size_t n, size_t J, const float *refs,
                      const int32_t *ref_ids, size_t n_refs)
{
    if (J == 0 || n_refs == 0 || !refs || !ref_ids)
        return mb_error(MB_EINVAL, "pose_nearest: needs reference poses (n_refs=%zu, J=%zu)", n_refs, J);
    int err = base_predict_check(refs, n_refs, J, "pose_nearest (references)");
    if (!err) err = base_predict_check(P, n, J, "pose_nearest (predicted poses)");
    if (err) return err;
    /* Prototypes: one mean pose per distinct id, in order of first appearance
     * (an equal distance goes to the id that appears first in refs). */
    int32_t *ids = malloc(n_refs * sizeof *ids);
    size_t *cnt = calloc(n_refs, sizeof *cnt);
    double *proto = calloc(n_refs * J, sizeof *proto);   /* [n_ids x J] */
    size_t *which = malloc(n_refs * sizeof *which);
    if (!ids || !cnt || !proto || !which) {
        err = mb_error(MB_ENOMEM, "pose_nearest: %zu references", n_refs);
        goto out;
    }
    size_t n_ids = 0;
    for (size_t r = 0; r < n_refs; r++) {
        size_t u = 0;
        while (u < n_ids && ids[u] != ref_ids[r]) u++;
        if (u == n_ids) ids[n_ids++] = ref_ids[r];
        which[r] = u;
    }
    for (size_t r = 0; r < n_refs; r++) {
        cnt[which[r]]++;
        for (size_t j = 0; j < J; j++) proto[which[r] * J + j] += refs[r * J + j];
    }
    for (size_t u = 0; u < n_ids; u++)
        for (size_t j = 0; j < J; j++) proto[u * J + j] /= (double)cnt[u];
    for (size_t i = 0; i < n; i++) {
        double best = INFINITY;
        size_t arg = 0;
        for (size_t u = 0; u < n_ids; u++) {
            double d = 0;
            for (size_t j = 0; j < J; j++) {
                double e = P[i * J + j] - proto[u * J + j];
                d += e * e;
            }
            if (d < best) { best = d; arg = u; }
        }
        pred[i] = ids[arg];
    }
out:
    free(ids); free(cnt); free(proto); free(which);
    return err;
}
