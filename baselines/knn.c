/* baselines/knn.c - k-nearest neighbours (docs/BASELINES.md "knn").
 *
 * Euclidean distance, uniform votes: P[i][c] = (neighbours of class c) / k,
 * as sklearn's KNeighborsClassifier(weights="uniform"). Neighbours are the
 * k smallest (distance, training index) pairs, so equal distances go to the
 * lower training index and the result never depends on a sort's stability.
 * k larger than the training set is clipped to it.
 *
 * Squared distances |x|^2 + |t|^2 - 2 x.t come from sgemm on blocks of
 * query and training rows. Rows are centred on the training mean first:
 * that leaves distances unchanged and keeps the float32 cancellation in
 * the expansion small when features sit far from the origin. */
#include <cblas.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "baselines/base_internal.h"

struct knn_model {
    size_t n, D, K, k;
    float *T;                 /* [n x D] centred training rows */
    float *tn;                /* [n] squared norms of T */
    double *mean;             /* [D] training mean */
    int32_t *y;               /* [n] */
};

static void knn_free(struct base_model *bm)
{
    struct knn_model *m = (struct knn_model *)bm;
    if (!m) return;
    free(m->T); free(m->tn); free(m->mean); free(m->y);
    free(m);
}

const struct mb_param base_knn_params[] = {
    { "k", MB_PT_INT, offsetof(struct base_knn_hp, k), 5, 1, 1e6, NULL, "neighbours that vote (capped at the training rows)" },
    MB_PARAM_END
};

static int knn_fit(struct base_model **out, const float *X, const int32_t *y, size_t n, size_t D, size_t K,
                   const void *hp, uint64_t seed)
{
    *out = NULL;
    long kk = ((const struct base_knn_hp *)hp)->k;
    int err;
    size_t *count = malloc(K * sizeof *count);
    if (!count) return mb_error(MB_ENOMEM, "knn: %zu classes", K);
    err = base_fit_check(count, X, y, n, D, K, "knn");
    free(count);
    if (err) return err;
    struct knn_model *m = calloc(1, sizeof *m);
    if (!m) return mb_error(MB_ENOMEM, "knn: model");
    m->n = n; m->D = D; m->K = K;
    m->k = (size_t)kk < n ? (size_t)kk : n;
    m->T = malloc(n * D * sizeof *m->T);
    m->tn = malloc(n * sizeof *m->tn);
    m->mean = calloc(D, sizeof *m->mean);
    m->y = malloc(n * sizeof *m->y);
    if (!m->T || !m->tn || !m->mean || !m->y) {
        knn_free((struct base_model *)m);
        return mb_error(MB_ENOMEM, "knn: copy of %zu x %zu training rows", n, D);
    }
    memcpy(m->y, y, n * sizeof *y);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < D; j++) m->mean[j] += X[i * D + j];
    for (size_t j = 0; j < D; j++) m->mean[j] /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double q = 0;
        for (size_t j = 0; j < D; j++) {
            float v = (float)(X[i * D + j] - m->mean[j]);
            m->T[i * D + j] = v;
            q += (double)v * v;
        }
        m->tn[i] = (float)q;
    }
    *out = (struct base_model *)m;
    return MB_OK;
}

#define QB 128    /* query rows per block */
#define TB 2048   /* training rows per block: QB x TB floats = 1 MiB of distances */

static int knn_predict(float *P, const struct base_model *bm, const float *X, size_t n)
{
    const struct knn_model *m = (const struct knn_model *)bm;
    size_t D = m->D, K = m->K, k = m->k;
    int err = base_predict_check(X, n, D, "knn");
    if (err) return err;
    float *Q = malloc(QB * D * sizeof *Q), *G = malloc(QB * TB * sizeof *G), *qn = malloc(QB * sizeof *qn);
    float *bd = malloc(QB * k * sizeof *bd);     /* [QB x k] best distances, ascending */
    size_t *bi = malloc(QB * k * sizeof *bi);    /* [QB x k] their training indices */
    if (!Q || !G || !qn || !bd || !bi) { err = mb_error(MB_ENOMEM, "knn: predict scratch"); goto out; }
    for (size_t i0 = 0; i0 < n; i0 += QB) {
        size_t b = n - i0 < QB ? n - i0 : QB;
        for (size_t r = 0; r < b; r++) {
            double q = 0;
            for (size_t j = 0; j < D; j++) {
                float v = (float)(X[(i0 + r) * D + j] - m->mean[j]);
                Q[r * D + j] = v;
                q += (double)v * v;
            }
            qn[r] = (float)q;
        }
        for (size_t t = 0; t < b * k; t++) { bd[t] = INFINITY; bi[t] = SIZE_MAX; }
        for (size_t t0 = 0; t0 < m->n; t0 += TB) {
            size_t tb = m->n - t0 < TB ? m->n - t0 : TB;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)tb, (int)D, -2.0f, Q, (int)D,
                        m->T + t0 * D, (int)D, 0.0f, G, (int)tb);
            for (size_t r = 0; r < b; r++) {
                float *d = bd + r * k;
                size_t *ix = bi + r * k;
                for (size_t t = 0; t < tb; t++) {
                    float dist = G[r * tb + t] + qn[r] + m->tn[t0 + t];
                    /* Training indices arrive in increasing order, so a
                     * strict '<' keeps the lower index on equal distances. */
                    if (!(dist < d[k - 1])) continue;
                    size_t p = k - 1;
                    while (p > 0 && dist < d[p - 1]) { d[p] = d[p - 1]; ix[p] = ix[p - 1]; p--; }
                    d[p] = dist;
                    ix[p] = t0 + t;
                }
            }
        }
        for (size_t r = 0; r < b; r++) {
            float *p = P + (i0 + r) * K;
            memset(p, 0, K * sizeof *p);
            for (size_t q = 0; q < k; q++) p[m->y[bi[r * k + q]]] += 1.0f;
            for (size_t c = 0; c < K; c++) p[c] /= (float)k;
        }
    }
out:
    free(Q); free(G); free(qn); free(bd); free(bi);
    return err;
}

const struct base_classifier base_knn = {
    .name = "knn",
    .summary = "k-nearest neighbours, Euclidean, uniform votes (ties to the lower training index)",
    .params = base_knn_params,
    .hp_size = sizeof(struct base_knn_hp),
    .fit = knn_fit,
    .predict_proba = knn_predict,
    .free = knn_free,
};
