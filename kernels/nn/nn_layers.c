/* kernels/nn/nn_layers.c - linear, convolution, patch embedding, layer norm,
 * GELU, softmax, embeddings, dropout and pooling (nn.h has the contracts).
 *
 * Parallel loops write disjoint outputs; a sum over rows (bias and
 * layer-norm parameter gradients, positional gradients) is parallelised
 * over the columns it writes, each summing its rows in index order, so no
 * result depends on the thread count. */
#include "kernels/nn/nn.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"

int nn_set_blas_threads(int n)
{
    int prev = openblas_get_num_threads();
    openblas_set_num_threads(n);
    return prev;
}

/* ---- linear ---------------------------------------------------------------- */

void nn_linear_forward(float *out, const float *in, const float *w, const float *b,
                       size_t n, size_t ni, size_t no)
{
    // in is (N, I), w is (O, I), b is (O), out is (N, O)
    if (n == 0 || no == 0)
        return;
    if (ni == 0) {
        memset(out, 0, n * no * sizeof *out);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)no, (int)ni, 1.0f, in,
                    (int)ni, w, (int)ni, 0.0f, out, (int)no);
    }
    if (b) {
#pragma omp parallel for
        for (size_t r = 0; r < n; r++)
            for (size_t j = 0; j < no; j++)
                out[r * no + j] += b[j];
    }
}

void nn_linear_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                        const float *w, size_t n, size_t ni, size_t no)
{
    if (n == 0 || no == 0 || ni == 0)
        return;
    if (din)   // (N, I) += (N, O) @ (O, I)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)ni, (int)no, 1.0f, dout,
                    (int)no, w, (int)ni, 1.0f, din, (int)ni);
    if (dw)    // (O, I) += (N, O)^T @ (N, I)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)no, (int)ni, (int)n, 1.0f, dout,
                    (int)no, in, (int)ni, 1.0f, dw, (int)ni);
    if (db) {
#pragma omp parallel for
        for (size_t j = 0; j < no; j++) {
            float s = 0.0f;
            for (size_t r = 0; r < n; r++)
                s += dout[r * no + j];
            db[j] += s;
        }
    }
}

/* ---- 1-D convolution ---------------------------------------------------------- */

size_t nn_conv1d_len(size_t t, size_t k, size_t stride, size_t pad)
{
    MB_ASSERT(stride > 0 && t + 2 * pad >= k);
    return (t + 2 * pad - k) / stride + 1;
}

void nn_conv1d_forward(float *out, float *col, const float *in, const float *w, const float *b,
                       size_t nb, size_t t, size_t ci, size_t co, size_t k, size_t stride, size_t pad)
{
    // in is (B, T, Ci), col is (B*To, K*Ci), w is (Co, K*Ci), out is (B*To, Co)
    size_t to = nn_conv1d_len(t, k, stride, pad);
    /* With time-major input the K*Ci window of an output step is contiguous
     * except where it hangs over the zero padding, so im2col is one copy per
     * kernel tap. */
#pragma omp parallel for
    for (size_t r = 0; r < nb * to; r++) {
        size_t bb = r / to, ot = r % to;
        for (size_t kk = 0; kk < k; kk++) {
            float *dst = col + r * k * ci + kk * ci;
            size_t ts = ot * stride + kk;   // position in the padded input
            if (ts < pad || ts - pad >= t)
                memset(dst, 0, ci * sizeof *dst);
            else
                memcpy(dst, in + (bb * t + ts - pad) * ci, ci * sizeof *dst);
        }
    }
    nn_linear_forward(out, col, w, b, nb * to, k * ci, co);
}

void nn_conv1d_backward(float *din, float *dw, float *db, float *dcol, const float *dout,
                        const float *col, const float *w, size_t nb, size_t t, size_t ci, size_t co,
                        size_t k, size_t stride, size_t pad)
{
    size_t to = nn_conv1d_len(t, k, stride, pad);
    nn_linear_backward(NULL, dw, db, dout, col, w, nb * to, k * ci, co);
    if (!din)
        return;
    memset(dcol, 0, nb * to * k * ci * sizeof *dcol);
    nn_linear_backward(dcol, NULL, NULL, dout, col, w, nb * to, k * ci, co);
    /* col2im: overlapping windows of one sequence add into the same input
     * rows, so the parallel loop is over sequences and each sums its
     * windows in order. */
#pragma omp parallel for
    for (size_t bb = 0; bb < nb; bb++)
        for (size_t ot = 0; ot < to; ot++)
            for (size_t kk = 0; kk < k; kk++) {
                size_t ts = ot * stride + kk;
                if (ts < pad || ts - pad >= t)
                    continue;
                const float *src = dcol + ((bb * to + ot) * k + kk) * ci;
                float *dst = din + (bb * t + ts - pad) * ci;
                for (size_t c = 0; c < ci; c++)
                    dst[c] += src[c];
            }
}

/* ---- patch embedding ------------------------------------------------------------ */

void nn_patch_embed_forward(float *out, const float *x, const float *w, const float *b,
                            size_t nb, size_t t, size_t c, size_t p, size_t d)
{
    // x is (B, T, C) = (B*T/P, P*C) patches, w is (D, P*C), out is (B*T/P, D)
    MB_ASSERT(p > 0 && t % p == 0);
    nn_linear_forward(out, x, w, b, nb * (t / p), p * c, d);
}

void nn_patch_embed_backward(float *dx, float *dw, float *db, const float *dout, const float *x,
                             const float *w, size_t nb, size_t t, size_t c, size_t p, size_t d)
{
    MB_ASSERT(p > 0 && t % p == 0);
    nn_linear_backward(dx, dw, db, dout, x, w, nb * (t / p), p * c, d);
}

/* ---- layer norm ------------------------------------------------------------------- */

void nn_layernorm_forward(float *out, float *mean, float *rstd, const float *in, const float *w,
                          const float *b, size_t n, size_t c)
{
    // in, out are (N, C); w, b are (C); mean, rstd are (N)
#pragma omp parallel for
    for (size_t r = 0; r < n; r++) {
        const float *x = in + r * c;
        /* Two passes in double: the variance of a row with a large mean
         * loses nothing to cancellation. */
        double m = 0.0, v = 0.0;
        for (size_t j = 0; j < c; j++)
            m += x[j];
        m /= (double)c;
        for (size_t j = 0; j < c; j++)
            v += (x[j] - m) * (x[j] - m);
        v /= (double)c;   // biased variance, as PyTorch
        float s = (float)(1.0 / sqrt(v + NN_LN_EPS));
        float mf = (float)m;
        for (size_t j = 0; j < c; j++)
            out[r * c + j] = (x[j] - mf) * s * w[j] + b[j];
        mean[r] = mf;
        rstd[r] = s;
    }
}

void nn_layernorm_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                           const float *mean, const float *rstd, const float *w, size_t n, size_t c)
{
    if (din) {
#pragma omp parallel for
        for (size_t r = 0; r < n; r++) {
            const float *x = in + r * c, *dy = dout + r * c;
            float m = mean[r], s = rstd[r];
            double sg = 0.0, sgx = 0.0;
            for (size_t j = 0; j < c; j++) {
                float g = dy[j] * w[j];
                sg += g;
                sgx += (double)g * ((x[j] - m) * s);
            }
            float mg = (float)(sg / (double)c), mgx = (float)(sgx / (double)c);
            for (size_t j = 0; j < c; j++) {
                float xh = (x[j] - m) * s;
                din[r * c + j] += (dy[j] * w[j] - mg - xh * mgx) * s;
            }
        }
    }
    if (dw || db) {
#pragma omp parallel for
        for (size_t j = 0; j < c; j++) {
            float sw = 0.0f, sb = 0.0f;
            for (size_t r = 0; r < n; r++) {
                float dy = dout[r * c + j];
                sw += dy * ((in[r * c + j] - mean[r]) * rstd[r]);
                sb += dy;
            }
            if (dw) dw[j] += sw;
            if (db) db[j] += sb;
        }
    }
}

/* ---- GELU (tanh approximation) and softmax ------------------------------------------ */

#define GELU_S 0.7978845608028654f   /* sqrt(2 / pi) */
#define GELU_A 0.044715f

/* tanh through one expf: glibc's tanhf (via expm1f) was a sixth of a
 * training step in bench nn. The cancellation near 0 costs ~1e-7 absolute,
 * invisible once added to 1 in GELU; exp overflow gives exactly +-1. */
static inline float tanh_fast(float u)
{
    return 1.0f - 2.0f / (expf(2.0f * u) + 1.0f);
}

void nn_gelu_forward(float *out, const float *in, size_t n)
{
#pragma omp parallel for
    for (size_t i = 0; i < n; i++) {
        float x = in[i];
        out[i] = 0.5f * x * (1.0f + tanh_fast(GELU_S * (x + GELU_A * x * x * x)));
    }
}

void nn_gelu_backward(float *din, const float *dout, const float *in, size_t n)
{
#pragma omp parallel for
    for (size_t i = 0; i < n; i++) {
        float x = in[i];
        float th = tanh_fast(GELU_S * (x + GELU_A * x * x * x));
        float dth = (1.0f - th * th) * GELU_S * (1.0f + 3.0f * GELU_A * x * x);
        din[i] += dout[i] * (0.5f * (1.0f + th) + 0.5f * x * dth);
    }
}

void nn_softmax_forward(float *out, const float *in, size_t n, size_t k)
{
#pragma omp parallel for
    for (size_t r = 0; r < n; r++) {
        const float *x = in + r * k;
        float *y = out + r * k;
        float mx = -INFINITY;
        for (size_t j = 0; j < k; j++)
            mx = fmaxf(mx, x[j]);
        double s = 0.0;
        for (size_t j = 0; j < k; j++) {
            y[j] = expf(x[j] - mx);
            s += y[j];
        }
        float inv = (float)(1.0 / s);
        for (size_t j = 0; j < k; j++)
            y[j] *= inv;
    }
}

void nn_softmax_backward(float *din, const float *dout, const float *out, size_t n, size_t k)
{
#pragma omp parallel for
    for (size_t r = 0; r < n; r++) {
        const float *y = out + r * k, *dy = dout + r * k;
        double s = 0.0;
        for (size_t j = 0; j < k; j++)
            s += (double)y[j] * dy[j];
        for (size_t j = 0; j < k; j++)
            din[r * k + j] += y[j] * (dy[j] - (float)s);
    }
}

/* ---- embeddings ------------------------------------------------------------------------- */

void nn_pos_embed_forward(float *out, const float *x, const float *pos, size_t nb, size_t t, size_t d)
{
#pragma omp parallel for
    for (size_t r = 0; r < nb * t; r++)
        for (size_t j = 0; j < d; j++)
            out[r * d + j] = x[r * d + j] + pos[(r % t) * d + j];
}

void nn_pos_embed_backward(float *dx, float *dpos, const float *dout, size_t nb, size_t t, size_t d)
{
    if (dx) {
#pragma omp parallel for
        for (size_t i = 0; i < nb * t * d; i++)
            dx[i] += dout[i];
    }
    if (dpos) {
#pragma omp parallel for
        for (size_t tt = 0; tt < t; tt++)
            for (size_t bb = 0; bb < nb; bb++)
                for (size_t j = 0; j < d; j++)
                    dpos[tt * d + j] += dout[(bb * t + tt) * d + j];
    }
}

void nn_embed_forward(float *out, const int *idx, const float *table, size_t n, size_t d)
{
#pragma omp parallel for
    for (size_t r = 0; r < n; r++) {
        MB_ASSERT(idx[r] >= 0);
        memcpy(out + r * d, table + (size_t)idx[r] * d, d * sizeof *out);
    }
}

void nn_embed_backward(float *dtable, const float *dout, const int *idx, size_t n, size_t d)
{
    /* Rows may share a token: serial over rows keeps the order fixed. */
    for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < d; j++)
            dtable[(size_t)idx[r] * d + j] += dout[r * d + j];
}

/* ---- dropout -------------------------------------------------------------------------------- */

uint64_t nn_dropout_mix(uint64_t stream)
{
    /* splitmix64's finaliser: neighbouring streams give unrelated seeds. */
    uint64_t z = stream + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void nn_dropout_forward(float *out, unsigned char *keep, const float *in, float p, uint64_t seed,
                        uint64_t stream, size_t n, size_t d)
{
    MB_ASSERT(p >= 0.0f && p < 1.0f);
    if (p == 0.0f) {
        memmove(out, in, n * d * sizeof *out);
        memset(keep, 1, n * d);
        return;
    }
    float scale = 1.0f / (1.0f - p);
    uint64_t s = seed ^ nn_dropout_mix(stream);
#pragma omp parallel for
    for (size_t r = 0; r < n; r++) {
        struct mb_rng g;
        mb_rng_seed(&g, s, r);
        for (size_t j = 0; j < d; j++) {
            unsigned char k = mb_rng_uniform(&g) >= (double)p;
            keep[r * d + j] = k;
            out[r * d + j] = k ? in[r * d + j] * scale : 0.0f;
        }
    }
}

void nn_dropout_backward(float *din, const float *dout, const unsigned char *keep, float p,
                         size_t n, size_t d)
{
    float scale = 1.0f / (1.0f - p);
#pragma omp parallel for
    for (size_t i = 0; i < n * d; i++)
        if (keep[i])
            din[i] += dout[i] * scale;
}

/* ---- pooling and the CLS token ------------------------------------------------------------- */

void nn_mean_pool_forward(float *out, const float *x, const unsigned char *kpad, size_t nb,
                          size_t t, size_t d)
{
#pragma omp parallel for
    for (size_t bb = 0; bb < nb; bb++) {
        float *o = out + bb * d;
        memset(o, 0, d * sizeof *o);
        size_t cnt = 0;
        for (size_t tt = 0; tt < t; tt++) {
            if (kpad && kpad[bb * t + tt])
                continue;
            cnt++;
            for (size_t j = 0; j < d; j++)
                o[j] += x[(bb * t + tt) * d + j];
        }
        if (cnt) {
            float inv = 1.0f / (float)cnt;
            for (size_t j = 0; j < d; j++)
                o[j] *= inv;
        }
    }
}

void nn_mean_pool_backward(float *dx, const float *dout, const unsigned char *kpad, size_t nb,
                           size_t t, size_t d)
{
#pragma omp parallel for
    for (size_t bb = 0; bb < nb; bb++) {
        size_t cnt = 0;
        for (size_t tt = 0; tt < t; tt++)
            cnt += !(kpad && kpad[bb * t + tt]);
        if (!cnt)
            continue;
        float inv = 1.0f / (float)cnt;
        for (size_t tt = 0; tt < t; tt++) {
            if (kpad && kpad[bb * t + tt])
                continue;
            for (size_t j = 0; j < d; j++)
                dx[(bb * t + tt) * d + j] += dout[bb * d + j] * inv;
        }
    }
}

void nn_cls_prepend_forward(float *out, const float *x, const float *cls, size_t nb, size_t t, size_t d)
{
    // x is (B, T, D), out is (B, T+1, D)
#pragma omp parallel for
    for (size_t bb = 0; bb < nb; bb++) {
        memcpy(out + bb * (t + 1) * d, cls, d * sizeof *out);
        memcpy(out + (bb * (t + 1) + 1) * d, x + bb * t * d, t * d * sizeof *out);
    }
}

void nn_cls_prepend_backward(float *dx, float *dcls, const float *dout, size_t nb, size_t t, size_t d)
{
    if (dx) {
#pragma omp parallel for
        for (size_t bb = 0; bb < nb; bb++)
            for (size_t i = 0; i < t * d; i++)
                dx[bb * t * d + i] += dout[(bb * (t + 1) + 1) * d + i];
    }
    if (dcls)
        for (size_t bb = 0; bb < nb; bb++)
            for (size_t j = 0; j < d; j++)
                dcls[j] += dout[bb * (t + 1) * d + j];
}

void nn_take_forward(float *out, const float *x, size_t pos, size_t nb, size_t t, size_t d)
{
    MB_ASSERT(pos < t);
    for (size_t bb = 0; bb < nb; bb++)
        memcpy(out + bb * d, x + (bb * t + pos) * d, d * sizeof *out);
}

void nn_take_backward(float *dx, const float *dout, size_t pos, size_t nb, size_t t, size_t d)
{
    for (size_t bb = 0; bb < nb; bb++)
        for (size_t j = 0; j < d; j++)
            dx[(bb * t + pos) * d + j] += dout[bb * d + j];
}
