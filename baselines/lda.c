/* baselines/lda.c - linear discriminant analysis with shrinkage
 * (docs/BASELINES.md "lda").
 *
 * sklearn's LinearDiscriminantAnalysis(solver="lsqr", shrinkage=...) to the
 * letter, so its outputs serve as golden values: the covariance is the
 * prior-weighted sum of the per-class (biased) covariances, each shrunk
 * toward tr/D * I, with the Ledoit-Wolf coefficient computed per class on
 * standardised rows for shrinkage=auto. Discriminants
 *     delta_k(x) = x' S^-1 mu_k - mu_k' S^-1 mu_k / 2 + log pi_k
 * with pi_k the training frequencies; probabilities are their softmax. */
#include <lapacke.h>
#include <cblas.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "baselines/base_internal.h"

struct lda_model {
    size_t D, K;
    double *coef;             /* [D x K] S^-1 mu_k, zero columns for absent classes */
    double *icpt;             /* [K] */
    unsigned char *present;   /* [K] */
};

/* Ledoit-Wolf shrinkage of the covariance of Z [m x D] (already centred):
 * sklearn.covariance.ledoit_wolf_shrinkage's formula. S = Z'Z/m given. */
static double ledoit_wolf(const double *Z, const double *S, size_t m, size_t D)
{
    double tr = 0, fro = 0, beta_ = 0;
    for (size_t j = 0; j < D; j++) tr += S[j * D + j];
    for (size_t j = 0; j < D * D; j++) fro += S[j] * S[j];
    for (size_t r = 0; r < m; r++) {
        double q = 0;
        for (size_t j = 0; j < D; j++) q += Z[r * D + j] * Z[r * D + j];
        beta_ += q * q;               /* sum of (Z^2)'(Z^2) over all entries */
    }
    double mu = tr / (double)D;
    double beta = (beta_ / (double)m - fro) / ((double)D * (double)m);
    double delta = (fro - 2 * mu * tr + (double)D * mu * mu) / (double)D;
    if (beta > delta) beta = delta;
    return beta <= 0 || delta <= 0 ? 0.0 : beta / delta;
}

/* Adds w * (shrunk covariance of class rows Xg [m x D]) to C [D x D];
 * Z [m x D] and S [D x D] are scratch; mean [D] is the class mean.
 * shrink < 0 means Ledoit-Wolf. */
static void add_class_cov(double *C, double *Z, double *S, const float *X, const int32_t *y, size_t n,
                          size_t D, int32_t k, const double *mean, size_t m, double w, double shrink)
{
    size_t r = 0;
    for (size_t i = 0; i < n; i++)
        if (y[i] == k) {
            for (size_t j = 0; j < D; j++) Z[r * D + j] = X[i * D + j] - mean[j];
            r++;
        }
    double *sc = S + D * D;   /* [D] per-column scale for Ledoit-Wolf */
    for (size_t j = 0; j < D; j++) sc[j] = 1.0;
    if (shrink < 0) {
        /* sklearn standardises before Ledoit-Wolf (population std, 1 for a
         * constant column) and scales the shrunk matrix back. */
        for (size_t j = 0; j < D; j++) {
            double v = 0;
            for (size_t q = 0; q < m; q++) v += Z[q * D + j] * Z[q * D + j];
            v = sqrt(v / (double)m);
            if (v > 0) sc[j] = v;
        }
        for (size_t q = 0; q < m; q++)
            for (size_t j = 0; j < D; j++) Z[q * D + j] /= sc[j];
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)D, (int)m, 1.0 / (double)m, Z, (int)D, 0.0,
                S, (int)D);
    for (size_t a = 0; a < D; a++)
        for (size_t b = 0; b < a; b++) S[a * D + b] = S[b * D + a];
    double a = shrink < 0 ? ledoit_wolf(Z, S, m, D) : shrink;
    double tr = 0;
    for (size_t j = 0; j < D; j++) tr += S[j * D + j];
    for (size_t p = 0; p < D; p++)
        for (size_t q = 0; q < D; q++) {
            double v = (1 - a) * S[p * D + q] + (p == q ? a * tr / (double)D : 0.0);
            C[p * D + q] += w * sc[p] * v * sc[q];
        }
}

/* Solves C W = B for symmetric C [D x D] (destroyed), B [D x R] -> W in B.
 * Cholesky first; a singular C (no shrinkage, D > n) falls back to the
 * minimum-norm solution through the eigendecomposition, which is what
 * sklearn's lstsq gives. */
static int sym_solve(double *C, double *B, size_t D, size_t R, const char *model)
{
    double *Cc = malloc(D * D * sizeof *Cc);
    if (!Cc) return mb_error(MB_ENOMEM, "%s: covariance copy (%zu features)", model, D);
    memcpy(Cc, C, D * D * sizeof *Cc);
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)D, C, (lapack_int)D) == 0 &&
        LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'U', (lapack_int)D, (lapack_int)R, C, (lapack_int)D, B,
                       (lapack_int)R) == 0) {
        free(Cc);
        return MB_OK;
    }
    double *ev = malloc(D * sizeof *ev), *T = malloc(D * R * sizeof *T);
    int err = MB_OK;
    if (!ev || !T) { err = mb_error(MB_ENOMEM, "%s: eigen solve (%zu features)", model, D); goto out; }
    if (LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)D, Cc, (lapack_int)D, ev) != 0) {
        err = mb_error(MB_ENUM, "%s: eigendecomposition of the covariance failed", model);
        goto out;
    }
    /* W = V diag(1/ev, ev > tol) V' B; tol as numpy's lstsq (eps * D * max). */
    double tol = ev[D - 1] * (double)D * 2.220446049250313e-16;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)D, (int)R, (int)D, 1.0, Cc, (int)D, B,
                (int)R, 0.0, T, (int)R);
    for (size_t j = 0; j < D; j++)
        for (size_t r = 0; r < R; r++) T[j * R + r] = ev[j] > tol ? T[j * R + r] / ev[j] : 0.0;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)D, (int)R, (int)D, 1.0, Cc, (int)D, T,
                (int)R, 0.0, B, (int)R);
out:
    free(Cc); free(ev); free(T);
    return err;
}

static void lda_free(struct base_model *bm)
{
    struct lda_model *m = (struct lda_model *)bm;
    if (!m) return;
    free(m->coef); free(m->icpt); free(m->present);
    free(m);
}

const struct mb_param base_lda_params[] = {
    { "shrinkage", MB_PT_REAL, offsetof(struct base_lda_hp, shrinkage), NAN, 0, 1, "auto",
      "covariance shrinkage towards the scaled identity; auto = Ledoit-Wolf" },
    MB_PARAM_END
};

static int lda_fit(struct base_model **out, const float *X, const int32_t *y, size_t n, size_t D, size_t K,
                   const void *hp, uint64_t seed)
{
    *out = NULL;
    double shrink = ((const struct base_lda_hp *)hp)->shrinkage;
    int err;
    size_t *count = malloc(K * sizeof *count);
    if (!count) return mb_error(MB_ENOMEM, "lda: %zu classes", K);
    if ((err = base_fit_check(count, X, y, n, D, K, "lda"))) { free(count); return err; }
    size_t mmax = 0;
    for (size_t k = 0; k < K; k++) if (count[k] > mmax) mmax = count[k];
    struct lda_model *m = calloc(1, sizeof *m);
    double *mean = calloc(K * D, sizeof *mean);    /* [K x D] */
    double *C = calloc(D * D, sizeof *C);          /* [D x D] */
    double *S = malloc((D * D + D) * sizeof *S);   /* [D x D] + [D] scratch */
    double *Z = malloc(mmax * D * sizeof *Z);      /* [mmax x D] */
    double *B = calloc(D * K, sizeof *B);          /* [D x K] */
    if (!m || !mean || !C || !S || !Z || !B) { err = mb_error(MB_ENOMEM, "lda: %zu x %zu", n, D); goto out; }
    m->D = D; m->K = K;
    m->icpt = calloc(K, sizeof *m->icpt);
    m->present = calloc(K, 1);
    if (!m->icpt || !m->present) { err = mb_error(MB_ENOMEM, "lda: %zu classes", K); goto out; }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < D; j++) mean[(size_t)y[i] * D + j] += X[i * D + j];
    for (size_t k = 0; k < K; k++) {
        m->present[k] = count[k] > 0;
        if (!count[k]) continue;
        for (size_t j = 0; j < D; j++) mean[k * D + j] /= (double)count[k];
        add_class_cov(C, Z, S, X, y, n, D, (int32_t)k, mean + k * D, count[k],
                      (double)count[k] / (double)n, isnan(shrink) ? -1.0 : shrink);
        for (size_t j = 0; j < D; j++) B[j * K + k] = mean[k * D + j];
    }
    if ((err = sym_solve(C, B, D, K, "lda"))) goto out;
    for (size_t k = 0; k < K; k++) {
        if (!count[k]) continue;
        double q = 0;
        for (size_t j = 0; j < D; j++) q += mean[k * D + j] * B[j * K + k];
        m->icpt[k] = -0.5 * q + log((double)count[k] / (double)n);
    }
    m->coef = B;
    B = NULL;
    *out = (struct base_model *)m;
    m = NULL;
out:
    lda_free((struct base_model *)m);
    free(count); free(mean); free(C); free(S); free(Z); free(B);
    return err;
}

#define ROWS 512   /* rows per block in predict: bounded scratch */

static int lda_predict(float *P, const struct base_model *bm, const float *X, size_t n)
{
    const struct lda_model *m = (const struct lda_model *)bm;
    size_t D = m->D, K = m->K;
    int err = base_predict_check(X, n, D, "lda");
    if (err) return err;
    double *Xd = malloc(ROWS * D * sizeof *Xd), *Sc = malloc(ROWS * K * sizeof *Sc);
    if (!Xd || !Sc) { free(Xd); free(Sc); return mb_error(MB_ENOMEM, "lda: predict scratch"); }
    for (size_t i0 = 0; i0 < n; i0 += ROWS) {
        size_t b = n - i0 < ROWS ? n - i0 : ROWS;
        for (size_t t = 0; t < b * D; t++) Xd[t] = X[i0 * D + t];
        for (size_t r = 0; r < b; r++) memcpy(Sc + r * K, m->icpt, K * sizeof *Sc);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)K, (int)D, 1.0, Xd, (int)D,
                    m->coef, (int)K, 1.0, Sc, (int)K);
        base_softmax_rows(P + i0 * K, Sc, b, K, m->present);
    }
    free(Xd); free(Sc);
    return MB_OK;
}

const struct base_classifier base_lda = {
    .name = "lda",
    .summary = "linear discriminant analysis, pooled covariance with shrinkage (Ledoit-Wolf by default)",
    .params = base_lda_params,
    .hp_size = sizeof(struct base_lda_hp),
    .fit = lda_fit,
    .predict_proba = lda_predict,
    .free = lda_free,
};
