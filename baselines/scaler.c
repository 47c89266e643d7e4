/* baselines/scaler.c - per-column standardisation fitted on training rows
 * (classifier.h). */
#include "baselines/base_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int base_scaler_fit(struct base_scaler *s, const float *X, size_t n, size_t D)
{
    memset(s, 0, sizeof *s);
    if (!X || n == 0 || D == 0)
        return mb_error(MB_EINVAL, "scaler: fit needs rows and features (n=%zu, D=%zu)", n, D);
    s->mean = calloc(D, sizeof *s->mean);
    s->inv_std = calloc(D, sizeof *s->inv_std);
    if (!s->mean || !s->inv_std) {
        base_scaler_free(s);
        return mb_error(MB_ENOMEM, "scaler: %zu features", D);
    }
    s->D = D;
    int err = base_predict_check(X, n, D, "scaler");
    if (err) { base_scaler_free(s); return err; }
    /* Two passes in double (mean, then centred squares): the population
     * standard deviation as sklearn's StandardScaler, without the
     * cancellation of the one-pass sum of squares. */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < D; j++) s->mean[j] += X[i * D + j];
    for (size_t j = 0; j < D; j++) s->mean[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < D; j++) {
            double d = X[i * D + j] - s->mean[j];
            s->inv_std[j] += d * d;
        }
    for (size_t j = 0; j < D; j++) {
        double sd = sqrt(s->inv_std[j] / (double)n);
        /* A column constant up to float rounding has no scale to remove:
         * dividing by its rounding noise would blow it up. */
        s->inv_std[j] = sd > 1e-12 * (1.0 + fabs(s->mean[j])) ? 1.0 / sd : 1.0;
    }
    return MB_OK;
}

void base_scaler_apply(float *Y, const struct base_scaler *s, const float *X, size_t n)
{
    size_t D = s->D;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < D; j++)
            Y[i * D + j] = (float)((X[i * D + j] - s->mean[j]) * s->inv_std[j]);
}

void base_scaler_free(struct base_scaler *s)
{
    if (!s) return;
    free(s->mean);
    free(s->inv_std);
    s->mean = s->inv_std = NULL;
    s->D = 0;
}
