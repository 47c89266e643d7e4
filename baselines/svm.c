/* baselines/svm.c - support vector machines through libsvm (Debian's
 * libsvm-dev): C-SVC, linear or RBF kernel, one-vs-one, probabilities by
 * libsvm's Platt scaling with pairwise coupling (docs/BASELINES.md "svm-*").
 *
 * Determinism: libsvm draws the folds of its internal 5-fold Platt
 * cross-validation with the C library's rand(), a process-wide generator.
 * Every svm_train here runs under one mutex right after srand(seed), so a
 * fit depends on (data, params, seed) only, whatever the threads; the price
 * is that SVM fits of parallel jobs run one at a time. That mutex is the
 * only mutable static state in baselines/. Prediction needs no lock.
 * libsvm's progress printing is silenced once (svm_set_print_string_function). */
#include <math.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libsvm/svm.h>

#include "baselines/base_internal.h"

struct svmc_model {
    size_t D, K;
    int32_t only;             /* the single class present in training, or -1 */
    struct svm_model *sv;     /* libsvm's model; its SVs point into 'nodes' */
    struct svm_node *nodes;   /* [n x (D + 1)] training rows, kept alive for the SVs */
    struct svm_node **rows;   /* [n] */
    double *ylab;             /* [n] */
    int *labels;              /* [nr_class] class of each libsvm probability column */
};

static pthread_mutex_t rand_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;
static void svmc_silent(const char *s) { (void)s; }
static void svmc_quiet(void) { svm_set_print_string_function(svmc_silent); }

static void svmc_free(struct base_model *bm)
{
    struct svmc_model *m = (struct svmc_model *)bm;
    if (!m) return;
    if (m->sv) svm_free_and_destroy_model(&m->sv);
    free(m->nodes); free(m->rows); free(m->ylab); free(m->labels);
    free(m);
}

const struct mb_param base_svm_linear_params[] = {
    { "C", MB_PT_REAL, offsetof(struct base_svm_hp, C), 1.0, 1e-12, 1e12, NULL, "soft-margin penalty" },
    { "tol", MB_PT_REAL, offsetof(struct base_svm_hp, tol), 1e-3, 1e-12, 1, NULL, "libsvm stopping tolerance" },
    { "cache_mb", MB_PT_REAL, offsetof(struct base_svm_hp, cache), 100, 1, 1e5, NULL, "libsvm kernel cache (MB)" },
    MB_PARAM_END
};

const struct mb_param base_svm_rbf_params[] = {
    { "C", MB_PT_REAL, offsetof(struct base_svm_hp, C), 1.0, 1e-12, 1e12, NULL, "soft-margin penalty" },
    { "gamma", MB_PT_REAL, offsetof(struct base_svm_hp, gamma), NAN, 1e-300, 1e300, "scale",
      "RBF width; scale = 1 / (features x variance of the training rows)" },
    { "tol", MB_PT_REAL, offsetof(struct base_svm_hp, tol), 1e-3, 1e-12, 1, NULL, "libsvm stopping tolerance" },
    { "cache_mb", MB_PT_REAL, offsetof(struct base_svm_hp, cache), 100, 1, 1e5, NULL, "libsvm kernel cache (MB)" },
    MB_PARAM_END
};

static int svmc_fit_kernel(struct base_model **out, const float *X, const int32_t *y, size_t n, size_t D,
                          size_t K, const void *hpv, uint64_t seed, int kernel, const char *name)
{
    *out = NULL;
    const struct base_svm_hp hp = *(const struct base_svm_hp *)hpv;
    int err;
    double C = hp.C, gamma = kernel == RBF ? hp.gamma : NAN, tol = hp.tol, cache = hp.cache;
    if ((size_t)(int)n != n || (size_t)(int)D != D || D >= (size_t)INT32_MAX)
        return mb_error(MB_EINVAL, "%s: %zu x %zu rows exceed libsvm's int sizes", name, n, D);
    size_t *count = malloc(K * sizeof *count);
    if (!count) return mb_error(MB_ENOMEM, "%s: %zu classes", name, K);
    if ((err = base_fit_check(count, X, y, n, D, K, name))) { free(count); return err; }
    size_t npresent = 0;
    int32_t last = -1;
    for (size_t k = 0; k < K; k++) if (count[k]) { npresent++; last = (int32_t)k; }
    free(count);
    pthread_once(&quiet_once, svmc_quiet);

    struct svmc_model *m = calloc(1, sizeof *m);
    if (!m) return mb_error(MB_ENOMEM, "%s: model", name);
    m->D = D; m->K = K;
    m->only = npresent == 1 ? last : -1;
    if (npresent == 1) { *out = (struct base_model *)m; return MB_OK; }   /* probability 1, no SVM */

    m->nodes = malloc(n * (D + 1) * sizeof *m->nodes);
    m->rows = malloc(n * sizeof *m->rows);
    m->ylab = malloc(n * sizeof *m->ylab);
    if (!m->nodes || !m->rows || !m->ylab) {
        svmc_free((struct base_model *)m);
        return mb_error(MB_ENOMEM, "%s: copy of %zu x %zu training rows", name, n, D);
    }
    double s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        struct svm_node *r = m->nodes + i * (D + 1);
        for (size_t j = 0; j < D; j++) {
            r[j].index = (int)j + 1;
            r[j].value = X[i * D + j];
            s1 += X[i * D + j];
        }
        r[D].index = -1;
        r[D].value = 0;
        m->rows[i] = r;
        m->ylab[i] = y[i];
    }
    if (isnan(gamma)) {
        /* gamma=scale: 1 / (D var(X)) over every entry, as sklearn's SVC. */
        double mu = s1 / (double)(n * D);
        for (size_t t = 0; t < n * D; t++) s2 += (X[t] - mu) * (X[t] - mu);
        double var = s2 / (double)(n * D);
        gamma = var > 0 ? 1.0 / ((double)D * var) : 1.0;
    }
    struct svm_problem prob = { (int)n, m->ylab, m->rows };
    struct svm_parameter par = {
        .svm_type = C_SVC, .kernel_type = kernel, .degree = 3, .gamma = gamma, .coef0 = 0,
        .cache_size = cache, .eps = tol, .C = C, .nr_weight = 0, .weight_label = NULL, .weight = NULL,
        .nu = 0.5, .p = 0.1, .shrinking = 1, .probability = 1,
    };
    const char *why = svm_check_parameter(&prob, &par);
    if (why) {
        svmc_free((struct base_model *)m);
        return mb_error(MB_EINVAL, "%s: libsvm rejects the parameters: %s", name, why);
    }
    pthread_mutex_lock(&rand_lock);
    srand((unsigned)(seed ^ (seed >> 32)));
    m->sv = svm_train(&prob, &par);
    pthread_mutex_unlock(&rand_lock);
    int nc = m->sv ? svm_get_nr_class(m->sv) : 0;
    m->labels = nc > 0 ? malloc((size_t)nc * sizeof *m->labels) : NULL;
    if (!m->sv || !m->labels || !svm_check_probability_model(m->sv)) {
        svmc_free((struct base_model *)m);
        return mb_error(MB_ENOMEM, "%s: libsvm training failed (%zu x %zu rows)", name, n, D);
    }
    svm_get_labels(m->sv, m->labels);
    *out = (struct base_model *)m;
    return MB_OK;
}

static int svmc_linear_fit(struct base_model **out, const float *X, const int32_t *y, size_t n, size_t D,
                          size_t K, const void *hp, uint64_t seed)
{
    return svmc_fit_kernel(out, X, y, n, D, K, hp, seed, LINEAR, "svm-linear");
}

static int svmc_rbf_fit(struct base_model **out, const float *X, const int32_t *y, size_t n, size_t D, size_t K,
                       const void *hp, uint64_t seed)
{
    return svmc_fit_kernel(out, X, y, n, D, K, hp, seed, RBF, "svm-rbf");
}

static int svmc_predict(float *P, const struct base_model *bm, const float *X, size_t n)
{
    const struct svmc_model *m = (const struct svmc_model *)bm;
    size_t D = m->D, K = m->K;
    int err = base_predict_check(X, n, D, "svm");
    if (err) return err;
    memset(P, 0, n * K * sizeof *P);
    if (m->only >= 0) {
        for (size_t i = 0; i < n; i++) P[i * K + (size_t)m->only] = 1.0f;
        return MB_OK;
    }
    int nc = svm_get_nr_class(m->sv);
    struct svm_node *row = malloc((D + 1) * sizeof *row);
    double *pe = malloc((size_t)nc * sizeof *pe);
    if (!row || !pe) { free(row); free(pe); return mb_error(MB_ENOMEM, "svm: predict scratch"); }
    for (size_t j = 0; j < D; j++) row[j].index = (int)j + 1;
    row[D].index = -1;
    row[D].value = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < D; j++) row[j].value = X[i * D + j];
        (void)svm_predict_probability(m->sv, row, pe);
        for (int c = 0; c < nc; c++) P[i * K + (size_t)m->labels[c]] = (float)pe[c];
    }
    free(row); free(pe);
    return MB_OK;
}

const struct base_classifier base_svm_linear = {
    .name = "svm-linear",
    .summary = "support vector machine, linear kernel (libsvm C-SVC, Platt probabilities)",
    .params = base_svm_linear_params,
    .hp_size = sizeof(struct base_svm_hp),
    .fit = svmc_linear_fit,
    .predict_proba = svmc_predict,
    .free = svmc_free,
};

const struct base_classifier base_svm_rbf = {
    .name = "svm-rbf",
    .summary = "support vector machine, RBF kernel with gamma=scale (libsvm C-SVC, Platt probabilities)",
    .params = base_svm_rbf_params,
    .hp_size = sizeof(struct base_svm_hp),
    .fit = svmc_rbf_fit,
    .predict_proba = svmc_predict,
    .free = svmc_free,
};
