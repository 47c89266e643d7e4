/* kernels/nn/nn_bridge.c - the query bridge's ops (EMBridge, stage 2): query
 * broadcast, best-query selection, cosine logits, soft-target cross-entropy
 * and CASCLe's soft targets (nn.h has the contracts, docs/NN.md the
 * formulas). Scalar sums run in double in a fixed order; OpenMP loops write
 * disjoint rows, so results do not depend on the thread count. */
#include "kernels/nn/nn.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "core/err.h"

#define NORM_EPS 1e-12   /* F.normalize's default, as nn_loss.c */

/* The same normalisation as nn_loss.c's InfoNCE (norm in double, clamped
 * at eps), so that cosine logits reproduce its scores bit for bit. */
static void normalise_rows(float *xn, float *norm, const float *x, size_t n, size_t e)
{
#pragma omp parallel for
    for (size_t r = 0; r < n; r++) {
        double s = 0.0;
        for (size_t j = 0; j < e; j++)
            s += (double)x[r * e + j] * x[r * e + j];
        double nr = sqrt(s);
        if (nr < NORM_EPS)
            nr = NORM_EPS;
        norm[r] = (float)nr;
        for (size_t j = 0; j < e; j++)
            xn[r * e + j] = (float)(x[r * e + j] / nr);
    }
}

/* ---- learnable query block ------------------------------------------------------- */

void nn_query_expand_forward(float *out, const float *q, size_t nb, size_t m, size_t d)
{
    // q is (M, D); out is (B, M, D)
#pragma omp parallel for
    for (size_t b = 0; b < nb; b++)
        memcpy(out + b * m * d, q, m * d * sizeof(float));
}

void nn_query_expand_backward(float *dq, const float *dout, size_t nb, size_t m, size_t d)
{
    // dout is (B, M, D); dq is (M, D)
    size_t md = m * d;
#pragma omp parallel for
    for (size_t i = 0; i < md; i++) {
        float s = dq[i];
        for (size_t b = 0; b < nb; b++)
            s += dout[b * md + i];
        dq[i] = s;
    }
}

/* ---- best query ---------------------------------------------------------------------- */

void nn_best_query_forward(float *out, int *idx, const float *u, const float *v, size_t nb, size_t m,
                           size_t e)
{
    // u is (B, M, E); v, out are (B, E); idx is (B)
    MB_ASSERT(m >= 1);
#pragma omp parallel for
    for (size_t i = 0; i < nb; i++) {
        const float *vi = v + i * e;
        double vv = 0.0;
        for (size_t j = 0; j < e; j++)
            vv += (double)vi[j] * vi[j];
        double nvi = fmax(sqrt(vv), NORM_EPS);
        size_t best = 0;
        double best_cos = -INFINITY;
        for (size_t q = 0; q < m; q++) {
            const float *uq = u + (i * m + q) * e;
            double dot = 0.0, uu = 0.0;
            for (size_t j = 0; j < e; j++) {
                dot += (double)uq[j] * vi[j];
                uu += (double)uq[j] * uq[j];
            }
            double c = dot / (fmax(sqrt(uu), NORM_EPS) * nvi);
            if (c > best_cos) {   // strict: ties keep the lower m
                best_cos = c;
                best = q;
            }
        }
        idx[i] = (int)best;
        memcpy(out + i * e, u + (i * m + best) * e, e * sizeof(float));
    }
}

void nn_best_query_backward(float *du, const float *dout, const int *idx, size_t nb, size_t m, size_t e)
{
    // dout is (B, E); du is (B, M, E)
#pragma omp parallel for
    for (size_t i = 0; i < nb; i++) {
        MB_ASSERT(idx[i] >= 0 && (size_t)idx[i] < m);
        float *d = du + (i * m + (size_t)idx[i]) * e;
        for (size_t j = 0; j < e; j++)
            d[j] += dout[i * e + j];
    }
}

/* ---- cosine logits --------------------------------------------------------------------- */

/* work layout: un [N x E], vn [Nv x E] normalised; nu [N], nvn [Nv] norms;
 * G [N x Nv] cosines un vn^T. */
size_t nn_cos_logits_work(size_t n, size_t nv, size_t e) { return (n + nv) * e + n + nv + n * nv; }

void nn_cos_logits_forward(float *logits, float *work, const float *u, const float *v, float log_scale,
                           size_t n, size_t nv, size_t e)
{
    float *un = work, *vn = un + n * e, *nu = vn + nv * e, *nvn = nu + n, *g = nvn + nv;
    if (n == 0 || nv == 0)
        return;
    normalise_rows(un, nu, u, n, e);
    normalise_rows(vn, nvn, v, nv, e);
    // G (N, Nv) = un @ vn^T
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)nv, (int)e, 1.0f, un, (int)e, vn,
                (int)e, 0.0f, g, (int)nv);
    /* scaled as nn_infonce_forward scales its scores (double scale, one
     * rounding), so both losses see the same logits */
    double scale = exp((double)log_scale);
#pragma omp parallel for
    for (size_t i = 0; i < n * nv; i++)
        logits[i] = (float)(scale * g[i]);
}

void nn_cos_logits_backward(float *du, float *dv, float *dlog_scale, const float *dlogits,
                            const float *work, float log_scale, size_t n, size_t nv, size_t e)
{
    const float *un = work, *vn = un + n * e, *nu = vn + nv * e, *nvn = nu + n, *g = nvn + nv;
    if (n == 0 || nv == 0)
        return;
    float scale = expf(log_scale);
    if (dlog_scale) {
        double s = 0.0;   // d/d(log s) = s d/ds = s sum dL .* G
        for (size_t i = 0; i < n * nv; i++)
            s += (double)dlogits[i] * g[i];
        *dlog_scale += (float)(s * scale);
    }
    /* Through x / ||x||: dx = (dxn - xn (xn . dxn)) / ||x||, with dun_i =
     * scale sum_j dL_ij vn_j, so un_i . dun_i = scale sum_j dL_ij G_ij. The
     * product goes straight into du with beta = 1 (one sgemv per row, alpha
     * = scale / ||u_i||): the work stays read-only and no scratch is needed.
     * BLAS is never called inside a parallel region. */
    if (du) {
        for (size_t i = 0; i < n; i++) {
            double a = 0.0;
            for (size_t j = 0; j < nv; j++)
                a += (double)dlogits[i * nv + j] * g[i * nv + j];
            cblas_sgemv(CblasRowMajor, CblasTrans, (int)nv, (int)e, scale / nu[i], vn, (int)e,
                        dlogits + i * nv, 1, 1.0f, du + i * e, 1);
            float c = (float)(a * scale / nu[i]);
            for (size_t k = 0; k < e; k++)
                du[i * e + k] -= c * un[i * e + k];
        }
    }
    if (dv) {
        for (size_t j = 0; j < nv; j++) {
            double b = 0.0;
            for (size_t i = 0; i < n; i++)
                b += (double)dlogits[i * nv + j] * g[i * nv + j];
            // column j of dL (stride Nv) against un: dvn_j = scale sum_i dL_ij un_i
            cblas_sgemv(CblasRowMajor, CblasTrans, (int)n, (int)e, scale / nvn[j], un, (int)e,
                        dlogits + j, (int)nv, 1.0f, dv + j * e, 1);
            float c = (float)(b * scale / nvn[j]);
            for (size_t k = 0; k < e; k++)
                dv[j * e + k] -= c * vn[j * e + k];
        }
    }
}

/* ---- soft-target cross-entropy ------------------------------------------------------------ */

float nn_soft_ce_forward(float *probs, const float *logits, const float *target, size_t n, size_t k)
{
    // logits, target, probs are (N, K)
    nn_softmax_forward(probs, logits, n, k);
    double loss = 0.0;
    for (size_t r = 0; r < n; r++) {
        const float *x = logits + r * k, *t = target + r * k;
        /* log-softmax from the logits in double, as nn_ce_forward */
        double mx = x[0];
        for (size_t j = 1; j < k; j++)
            mx = x[j] > mx ? x[j] : mx;
        double se = 0.0;
        for (size_t j = 0; j < k; j++)
            se += exp(x[j] - mx);
        double lse = mx + log(se);
        for (size_t j = 0; j < k; j++)
            if (t[j] != 0.0f)
                loss += (double)t[j] * (lse - x[j]);
    }
    return n ? (float)(loss / (double)n) : 0.0f;
}

void nn_soft_ce_backward(float *dlogits, const float *probs, const float *target, float dloss, size_t n,
                         size_t k)
{
    if (n == 0)
        return;
    float c = dloss / (float)n;
#pragma omp parallel for
    for (size_t r = 0; r < n; r++) {
        const float *t = target + r * k, *p = probs + r * k;
        double ts = 0.0;
        for (size_t j = 0; j < k; j++)
            ts += t[j];
        float tsum = (float)ts;
        for (size_t j = 0; j < k; j++)
            dlogits[r * k + j] += c * (p[j] * tsum - t[j]);
    }
}

/* ---- CASCLe soft targets -------------------------------------------------------------------- */

/* work layout: vn [N x E], cn [Nc x E] normalised; their norms [N], [Nc];
 * A [N x Nc] affinities; As [N x Nc] sparsified, row-normalised; S [N x N]. */
size_t nn_cascle_work(size_t n, size_t nc, size_t e) { return (n + nc) * e + n + nc + 2 * n * nc + n * n; }

void nn_cascle_targets(float *target, float *work, const float *v, const float *c, size_t topk,
                       float tau_s, size_t n, size_t nc, size_t e)
{
    float *vn = work, *cn = vn + n * e, *normv = cn + nc * e, *normc = normv + n;
    float *a = normc + nc, *as = a + n * nc, *s = as + n * nc;
    MB_ASSERT(tau_s > 0.0f);
    if (n == 0)
        return;
    normalise_rows(vn, normv, v, n, e);
    normalise_rows(cn, normc, c, nc, e);
    // A (N, Nc) = vn @ cn^T
    if (nc > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)nc, (int)e, 1.0f, vn, (int)e, cn,
                    (int)e, 0.0f, a, (int)nc);
    /* keep entry j of a row iff fewer than topk entries beat it (larger, or
     * equal with a lower index): the topk largest, ties to the lower index */
#pragma omp parallel for
    for (size_t i = 0; i < n; i++) {
        const float *ai = a + i * nc;
        float *o = as + i * nc;
        double ss = 0.0;
        for (size_t j = 0; j < nc; j++) {
            size_t better = 0;
            for (size_t l = 0; l < nc && better < topk; l++)
                better += ai[l] > ai[j] || (ai[l] == ai[j] && l < j);
            o[j] = better < topk ? ai[j] : 0.0f;
            ss += (double)o[j] * o[j];
        }
        if (ss > 0.0) {
            double nr = sqrt(ss);
            for (size_t j = 0; j < nc; j++)
                o[j] = (float)(o[j] / nr);
        }
    }
    // S (N, N) = As @ As^T
    if (nc > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, (int)nc, 1.0f, as, (int)nc, as,
                    (int)nc, 0.0f, s, (int)n);
    else   // no centroids: S = 0, the targets are uniform off the diagonal
        memset(s, 0, n * n * sizeof(float));
#pragma omp parallel for
    for (size_t i = 0; i < n; i++) {
        const float *si = s + i * n;
        float *t = target + i * n;
        double mx = -INFINITY, se = 0.0;
        for (size_t j = 0; j < n; j++)
            if (j != i)
                mx = fmax(mx, si[j] / (double)tau_s);
        for (size_t j = 0; j < n; j++)
            if (j != i)
                se += exp(si[j] / (double)tau_s - mx);
        for (size_t j = 0; j < n; j++)
            t[j] = j == i ? 0.0f : (float)(exp(si[j] / (double)tau_s - mx) / se);
    }
}
