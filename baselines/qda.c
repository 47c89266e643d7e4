/* baselines/qda.c - quadratic discriminant analysis with regularisation
 * (docs/BASELINES.md "qda").
 *
 * Per class k: mean mu_k, unbiased covariance S_k (divisor n_k - 1; 0 for a
 * single row), regularised as sklearn's reg_param does,
 *     Sigma_k = (1 - r) S_k + r I,
 * and the score
 *     q_k(x) = -((x - mu_k)' Sigma_k^-1 (x - mu_k) + log det Sigma_k) / 2 + log pi_k,
 * computed through the Cholesky factor L_k (Mahalanobis term |L_k^-1 (x - mu_k)|^2,
 * log det = 2 sum log diag L_k). Probabilities are the softmax of q_k.
 * sklearn drops the null directions of S_k when n_k <= D; here r I keeps
 * them, so the two agree exactly when every class has more rows than
 * features. r I is in feature units: standardise features first. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "baselines/base_internal.h"

struct qda_model {
    size_t D, K;
    double *mean;             /* [K x D] */
    double *L;                /* [K x D x D] lower Cholesky factors, row-major */
    double *score0;           /* [K] log pi_k - log det Sigma_k / 2 */
    unsigned char *present;   /* [K] */
};

static void qda_free(struct base_model *bm)
{
    struct qda_model *m = (struct qda_model *)bm;
    if (!m) return;
    free(m->mean); free(m->L); free(m->score0); free(m->present);
    free(m);
}

const struct mb_param base_qda_params[] = {
    { "reg", MB_PT_REAL, offsetof(struct base_qda_hp, reg), 0.1, 0, 1, NULL,
      "each class covariance shrunk towards its scaled identity by this share" },
    MB_PARAM_END
};

static int qda_fit(struct base_model **out, const float *X, const int32_t *y, size_t n, size_t D, size_t K,
                   const void *hp, uint64_t seed)
{
    *out = NULL;
    double reg = ((const struct base_qda_hp *)hp)->reg;
    int err;
    size_t *count = malloc(K * sizeof *count);
    if (!count) return mb_error(MB_ENOMEM, "qda: %zu classes", K);
    if ((err = base_fit_check(count, X, y, n, D, K, "qda"))) { free(count); return err; }
    size_t mmax = 0;
    for (size_t k = 0; k < K; k++) if (count[k] > mmax) mmax = count[k];
    struct qda_model *m = calloc(1, sizeof *m);
    double *Z = malloc(mmax * D * sizeof *Z);   /* [mmax x D] centred class rows */
    if (!m || !Z) { err = mb_error(MB_ENOMEM, "qda: %zu x %zu", n, D); goto out; }
    m->D = D; m->K = K;
    m->mean = calloc(K * D, sizeof *m->mean);
    m->L = calloc(K * D * D, sizeof *m->L);
    m->score0 = calloc(K, sizeof *m->score0);
    m->present = calloc(K, 1);
    if (!m->mean || !m->L || !m->score0 || !m->present) {
        err = mb_error(MB_ENOMEM, "qda: %zu classes of %zu x %zu covariances", K, D, D);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < D; j++) m->mean[(size_t)y[i] * D + j] += X[i * D + j];
    for (size_t k = 0; k < K; k++) {
        m->present[k] = count[k] > 0;
        if (!count[k]) continue;
        double *mu = m->mean + k * D, *L = m->L + k * D * D;
        for (size_t j = 0; j < D; j++) mu[j] /= (double)count[k];
        size_t r = 0;
        for (size_t i = 0; i < n; i++)
            if ((size_t)y[i] == k) {
                for (size_t j = 0; j < D; j++) Z[r * D + j] = X[i * D + j] - mu[j];
                r++;
            }
        double w = count[k] > 1 ? (1 - reg) / (double)(count[k] - 1) : 0.0;
        cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)D, (int)r, w, Z, (int)D, 0.0, L, (int)D);
        for (size_t j = 0; j < D; j++) L[j * D + j] += reg;
        if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)D, L, (lapack_int)D) != 0) {
            err = mb_error(MB_ENUM, "qda: covariance of class %zu (%zu rows) is singular; raise 'reg' (now %g)",
                           k, count[k], reg);
            goto out;
        }
        double logdet = 0;
        for (size_t j = 0; j < D; j++) {
            logdet += 2 * log(L[j * D + j]);
            for (size_t q = j + 1; q < D; q++) L[j * D + q] = 0;   /* clear potrf's untouched upper part */
        }
        m->score0[k] = log((double)count[k] / (double)n) - 0.5 * logdet;
    }
    *out = (struct base_model *)m;
    m = NULL;
out:
    qda_free((struct base_model *)m);
    free(count); free(Z);
    return err;
}

#define ROWS 512   /* rows per block in predict: bounded scratch */

static int qda_predict(float *P, const struct base_model *bm, const float *X, size_t n)
{
    const struct qda_model *m = (const struct qda_model *)bm;
    size_t D = m->D, K = m->K;
    int err = base_predict_check(X, n, D, "qda");
    if (err) return err;
    double *Z = malloc(ROWS * D * sizeof *Z), *Sc = malloc(ROWS * K * sizeof *Sc);
    if (!Z || !Sc) { free(Z); free(Sc); return mb_error(MB_ENOMEM, "qda: predict scratch"); }
    for (size_t i0 = 0; i0 < n; i0 += ROWS) {
        size_t b = n - i0 < ROWS ? n - i0 : ROWS;
        for (size_t k = 0; k < K; k++) {
            if (!m->present[k]) continue;
            const double *mu = m->mean + k * D;
            for (size_t r = 0; r < b; r++)
                for (size_t j = 0; j < D; j++) Z[r * D + j] = X[(i0 + r) * D + j] - mu[j];
            /* Z := Z L^-T, i.e. each row becomes L^-1 (x - mu). */
            cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int)b, (int)D, 1.0,
                        m->L + k * D * D, (int)D, Z, (int)D);
            for (size_t r = 0; r < b; r++) {
                double q = 0;
                for (size_t j = 0; j < D; j++) q += Z[r * D + j] * Z[r * D + j];
                Sc[r * K + k] = m->score0[k] - 0.5 * q;
            }
        }
        base_softmax_rows(P + i0 * K, Sc, b, K, m->present);
    }
    free(Z); free(Sc);
    return MB_OK;
}

const struct base_classifier base_qda = {
    .name = "qda",
    .summary = "quadratic discriminant analysis, per-class covariance regularised toward the identity",
    .params = base_qda_params,
    .hp_size = sizeof(struct base_qda_hp),
    .fit = qda_fit,
    .predict_proba = qda_predict,
    .free = qda_free,
};
