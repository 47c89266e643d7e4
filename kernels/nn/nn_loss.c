/* kernels/nn/nn_loss.c - masked MSE, cross-entropy, InfoNCE (nn.h has the
 * contracts). Losses are sums over rows taken serially, in double, in row
 * order: one number per batch, and the same number for any thread count. */
#include "kernels/nn/nn.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "core/err.h"

/* ---- masked mean squared error -------------------------------------------------- */

static size_t count_rows(const unsigned char *mask, size_t n)
{
    if (!mask)
        return n;
    size_t c = 0;
    for (size_t r = 0; r < n; r++)
        c += mask[r] != 0;
    return c;
}

float nn_mse_forward(const float *pred, const float *target, const unsigned char *mask, size_t n,
                     size_t p)
{
    size_t nm = count_rows(mask, n);
    if (nm == 0 || p == 0)
        return 0.0f;
    double s = 0.0;
    for (size_t r = 0; r < n; r++) {
        if (mask && !mask[r])
            continue;
        for (size_t j = 0; j < p; j++) {
            double e = (double)pred[r * p + j] - target[r * p + j];
            s += e * e;
        }
    }
    return (float)(s / ((double)nm * (double)p));
}

void nn_mse_backward(float *dpred, const float *pred, const float *target, const unsigned char *mask,
                     float dloss, size_t n, size_t p)
{
    size_t nm = count_rows(mask, n);
    if (nm == 0 || p == 0)
        return;
    float c = 2.0f * dloss / ((float)nm * (float)p);
#pragma omp parallel for
    for (size_t r = 0; r < n; r++) {
        if (mask && !mask[r])
            continue;
        for (size_t j = 0; j < p; j++)
            dpred[r * p + j] += c * (pred[r * p + j] - target[r * p + j]);
    }
}

/* ---- cross-entropy ---------------------------------------------------------------- */

float nn_ce_forward(float *probs, const float *logits, const int *labels, float eps, size_t n, size_t k)
{
    // logits, probs are (N, K); labels are (N)
    nn_softmax_forward(probs, logits, n, k);
    double loss = 0.0;
    for (size_t r = 0; r < n; r++) {
        MB_ASSERT(labels[r] >= 0 && (size_t)labels[r] < k);
        const float *x = logits + r * k;
        /* log-softmax from the logits (log of a rounded probability would
         * lose the tail the smoothing term reads) */
        double mx = x[0];
        for (size_t j = 1; j < k; j++)
            mx = x[j] > mx ? x[j] : mx;
        double se = 0.0;
        for (size_t j = 0; j < k; j++)
            se += exp(x[j] - mx);
        double lse = mx + log(se);
        double nll = lse - x[labels[r]];
        if (eps != 0.0f) {
            double mean_nll = 0.0;
            for (size_t j = 0; j < k; j++)
                mean_nll += lse - x[j];
            mean_nll /= (double)k;
            nll = (1.0 - eps) * nll + eps * mean_nll;
        }
        loss += nll;
    }
    return n ? (float)(loss / (double)n) : 0.0f;
}

void nn_ce_backward(float *dlogits, const float *probs, const int *labels, float eps, float dloss,
                    size_t n, size_t k)
{
    if (n == 0)
        return;
    float c = dloss / (float)n;
    float off = eps / (float)k;
#pragma omp parallel for
    for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < k; j++) {
            float t = off + ((int)j == labels[r] ? 1.0f - eps : 0.0f);
            dlogits[r * k + j] += c * (probs[r * k + j] - t);
        }
}

/* ---- InfoNCE ------------------------------------------------------------------------- */

/* work layout: un, vn [N x E] normalised; nu, nv [N] norms; G [N x N] cosines;
 * pr [N x N] row softmax; pc [N x N] column softmax (pc[i*N+j] = softmax
 * over i of s_ij); dU, dV [N x E] scratch of the backward. */
size_t nn_infonce_work(size_t n, size_t e) { return 4 * n * e + 2 * n + 3 * n * n; }

#define NORM_EPS 1e-12   /* F.normalize's default */

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

float nn_infonce_forward(float *work, const float *u, const float *v, float log_scale, int symmetric,
                         size_t n, size_t e)
{
    float *un = work, *vn = un + n * e, *nu = vn + n * e, *nv = nu + n;
    float *g = nv + n, *pr = g + n * n, *pc = pr + n * n;
    if (n == 0)
        return 0.0f;
    normalise_rows(un, nu, u, n, e);
    normalise_rows(vn, nv, v, n, e);
    // G (N, N) = un @ vn^T
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, (int)e, 1.0f, un, (int)e,
                vn, (int)e, 0.0f, g, (int)n);
    double scale = exp((double)log_scale);
    double loss_r = 0.0, loss_c = 0.0;
    /* rows: softmax over j of s_ij */
    for (size_t i = 0; i < n; i++) {
        double mx = -INFINITY, se = 0.0;
        for (size_t j = 0; j < n; j++)
            mx = fmax(mx, scale * g[i * n + j]);
        for (size_t j = 0; j < n; j++)
            se += exp(scale * g[i * n + j] - mx);
        double lse = mx + log(se);
        for (size_t j = 0; j < n; j++)
            pr[i * n + j] = (float)exp(scale * g[i * n + j] - lse);
        loss_r += lse - scale * g[i * n + i];
    }
    if (!symmetric)
        return (float)(loss_r / (double)n);
    /* columns: softmax over i of s_ij */
    for (size_t j = 0; j < n; j++) {
        double mx = -INFINITY, se = 0.0;
        for (size_t i = 0; i < n; i++)
            mx = fmax(mx, scale * g[i * n + j]);
        for (size_t i = 0; i < n; i++)
            se += exp(scale * g[i * n + j] - mx);
        double lse = mx + log(se);
        for (size_t i = 0; i < n; i++)
            pc[i * n + j] = (float)exp(scale * g[i * n + j] - lse);
        loss_c += lse - scale * g[j * n + j];
    }
    return (float)((loss_r + loss_c) / (2.0 * (double)n));
}

void nn_infonce_backward(float *du, float *dv, float *dlog_scale, float *work, float log_scale,
                         int symmetric, float dloss, size_t n, size_t e)
{
    float *un = work, *vn = un + n * e, *nu = vn + n * e, *nv = nu + n;
    float *g = nv + n, *pr = g + n * n, *pc = pr + n * n;
    float *dun = pc + n * n, *dvn = dun + n * e;
    if (n == 0)
        return;
    float scale = expf(log_scale);
    float c = dloss / (float)(symmetric ? 2 * n : n);
    /* dS (into pr, no longer needed after this) */
    double dscale = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            float ds = pr[i * n + j] - (i == j);
            if (symmetric)
                ds += pc[i * n + j] - (i == j);
            ds *= c;
            pr[i * n + j] = ds;
            dscale += (double)ds * g[i * n + j];
        }
    if (dlog_scale)
        *dlog_scale += (float)(dscale * scale);   // d/d(log s) = s d/ds
    // dUn (N, E) = scale dS @ Vn; dVn (N, E) = scale dS^T @ Un
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)e, (int)n, scale, pr, (int)n,
                vn, (int)e, 0.0f, dun, (int)e);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)e, (int)n, scale, pr, (int)n,
                un, (int)e, 0.0f, dvn, (int)e);
    /* through x / ||x||: dx = (dxn - xn (xn . dxn)) / ||x|| */
    for (int side = 0; side < 2; side++) {
        float *dx = side ? dv : du;
        const float *xn = side ? vn : un, *dxn = side ? dvn : dun, *nr = side ? nv : nu;
        if (!dx)
            continue;
#pragma omp parallel for
        for (size_t r = 0; r < n; r++) {
            double dot = 0.0;
            for (size_t j = 0; j < e; j++)
                dot += (double)xn[r * e + j] * dxn[r * e + j];
            for (size_t j = 0; j < e; j++)
                dx[r * e + j] += (dxn[r * e + j] - xn[r * e + j] * (float)dot) / nr[r];
        }
    }
}

void nn_infonce_clamp(float *log_scale)
{
    const float hi = 4.605170186f;   // ln 100
    if (*log_scale < 0.0f) *log_scale = 0.0f;
    if (*log_scale > hi) *log_scale = hi;
}
