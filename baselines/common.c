/* baselines/common.c - argument checks and softmax shared by the classifiers
 * (base_internal.h). */
#include "baselines/base_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int base_fit_check(size_t *count, const float *X, const int32_t *y, size_t n, size_t D, size_t K,
                   const char *model)
{
    if (!X || !y || n == 0 || D == 0 || K == 0)
        return mb_error(MB_EINVAL, "%s: fit needs rows, features and classes (n=%zu, D=%zu, K=%zu)",
                        model, n, D, K);
    memset(count, 0, K * sizeof *count);
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0 || (size_t)y[i] >= K)
            return mb_error(MB_EINVAL, "%s: training row %zu has label %d outside [0, %zu)", model, i + 1,
                            (int)y[i], K);
        count[y[i]]++;
    }
    return base_predict_check(X, n, D, model);
}

int base_predict_check(const float *X, size_t n, size_t D, const char *model)
{
    if (n && !X)
        return mb_error(MB_EINVAL, "%s: no feature rows given", model);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < D; j++)
            if (!isfinite(X[i * D + j]))
                return mb_error(MB_ENUM, "%s: row %zu, feature %zu is not finite (%g)", model, i + 1, j + 1,
                                (double)X[i * D + j]);
    return MB_OK;
}

void base_softmax_rows(float *P, const double *S, size_t n, size_t K, const unsigned char *present)
{
    for (size_t i = 0; i < n; i++) {
        const double *s = S + i * K;
        double mx = -INFINITY, sum = 0;
        for (size_t k = 0; k < K; k++)
            if (present[k] && s[k] > mx) mx = s[k];
        for (size_t k = 0; k < K; k++)
            sum += present[k] ? exp(s[k] - mx) : 0.0;
        for (size_t k = 0; k < K; k++)
            P[i * K + k] = present[k] ? (float)(exp(s[k] - mx) / sum) : 0.0f;
    }
}

int base_fit_text(struct base_model **out, const struct base_classifier *k, const float *X, const int32_t *y,
                  size_t n, size_t D, size_t K, const char *params, uint64_t seed)
{
    *out = NULL;
    void *hp = calloc(1, k->hp_size ? k->hp_size : 1);
    if (!hp)
        return mb_error(MB_ENOMEM, "%s: out of memory for its parameters", k->name);
    int rc = mb_params_parse(hp, k->params, params, k->name);
    if (!rc)
        rc = k->fit(out, X, y, n, D, K, hp, seed);
    free(hp);
    return rc;
}
