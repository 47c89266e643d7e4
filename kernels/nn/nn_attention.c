/* kernels/nn/nn_attention.c - scaled dot-product attention over heads, and
 * multi-head attention with its projections (nn.h has the contracts).
 *
 * Sequences here are short (tens of patches) and heads narrow, so the core
 * is plain loops parallel over (batch, head, query); the projections, where
 * the flops are, go through sgemm (nn_linear_*). */
#include "kernels/nn/nn.h"

#include <math.h>
#include <string.h>

#include "core/err.h"

void nn_attention_forward(float *out, float *att, const float *q, const float *k, const float *v,
                          const unsigned char *kpad, const float *amask, size_t nb, size_t tq,
                          size_t tk, size_t d, size_t h)
{
    // q, out are (B, Tq, D); k, v are (B, Tk, D); att is (B, H, Tq, Tk)
    MB_ASSERT(h > 0 && d % h == 0);
    size_t dh = d / h;
    float scale = 1.0f / sqrtf((float)dh);
#pragma omp parallel for collapse(3)
    for (size_t bb = 0; bb < nb; bb++)
        for (size_t hh = 0; hh < h; hh++)
            for (size_t i = 0; i < tq; i++) {
                const float *qi = q + (bb * tq + i) * d + hh * dh;
                float *a = att + ((bb * h + hh) * tq + i) * tk;
                float *o = out + (bb * tq + i) * d + hh * dh;
                float mx = -INFINITY;
                for (size_t j = 0; j < tk; j++) {
                    if (kpad && kpad[bb * tk + j]) {
                        a[j] = -INFINITY;
                        continue;
                    }
                    const float *kj = k + (bb * tk + j) * d + hh * dh;
                    float s = 0.0f;
                    for (size_t c = 0; c < dh; c++)
                        s += qi[c] * kj[c];
                    s *= scale;
                    if (amask)
                        s += amask[i * tk + j];
                    a[j] = s;
                    mx = fmaxf(mx, s);
                }
                memset(o, 0, dh * sizeof *o);
                if (mx == -INFINITY) {   // every key excluded: no attention at all
                    memset(a, 0, tk * sizeof *a);
                    continue;
                }
                double sum = 0.0;
                for (size_t j = 0; j < tk; j++) {
                    a[j] = expf(a[j] - mx);   // exp(-inf) = 0 for excluded keys
                    sum += a[j];
                }
                float inv = (float)(1.0 / sum);
                for (size_t j = 0; j < tk; j++) {
                    a[j] *= inv;
                    if (a[j] == 0.0f)
                        continue;
                    const float *vj = v + (bb * tk + j) * d + hh * dh;
                    for (size_t c = 0; c < dh; c++)
                        o[c] += a[j] * vj[c];
                }
            }
}

void nn_attention_backward(float *dq, float *dk, float *dv, float *datt, const float *dout,
                           const float *att, const float *q, const float *k, const float *v,
                           size_t nb, size_t tq, size_t tk, size_t d, size_t h)
{
    MB_ASSERT(h > 0 && d % h == 0);
    size_t dh = d / h;
    float scale = 1.0f / sqrtf((float)dh);
    /* Pass 1, over queries: score gradients (into datt) and dq. */
#pragma omp parallel for collapse(3)
    for (size_t bb = 0; bb < nb; bb++)
        for (size_t hh = 0; hh < h; hh++)
            for (size_t i = 0; i < tq; i++) {
                const float *a = att + ((bb * h + hh) * tq + i) * tk;
                float *ds = datt + ((bb * h + hh) * tq + i) * tk;
                const float *doi = dout + (bb * tq + i) * d + hh * dh;
                double s = 0.0;
                for (size_t j = 0; j < tk; j++) {
                    const float *vj = v + (bb * tk + j) * d + hh * dh;
                    float dp = 0.0f;
                    for (size_t c = 0; c < dh; c++)
                        dp += doi[c] * vj[c];
                    ds[j] = dp;                // d att_ij for now
                    s += (double)a[j] * dp;
                }
                for (size_t j = 0; j < tk; j++)
                    ds[j] = a[j] * (ds[j] - (float)s);   // through the softmax
                if (dq) {
                    float *dqi = dq + (bb * tq + i) * d + hh * dh;
                    for (size_t j = 0; j < tk; j++) {
                        if (ds[j] == 0.0f)
                            continue;
                        const float *kj = k + (bb * tk + j) * d + hh * dh;
                        for (size_t c = 0; c < dh; c++)
                            dqi[c] += scale * ds[j] * kj[c];
                    }
                }
            }
    if (!dk && !dv)
        return;
    /* Pass 2, over keys: each key's gradient sums its queries in order. */
#pragma omp parallel for collapse(3)
    for (size_t bb = 0; bb < nb; bb++)
        for (size_t hh = 0; hh < h; hh++)
            for (size_t j = 0; j < tk; j++) {
                float *dkj = dk ? dk + (bb * tk + j) * d + hh * dh : NULL;
                float *dvj = dv ? dv + (bb * tk + j) * d + hh * dh : NULL;
                for (size_t i = 0; i < tq; i++) {
                    size_t ai = ((bb * h + hh) * tq + i) * tk + j;
                    const float *qi = q + (bb * tq + i) * d + hh * dh;
                    const float *doi = dout + (bb * tq + i) * d + hh * dh;
                    if (dkj && datt[ai] != 0.0f)
                        for (size_t c = 0; c < dh; c++)
                            dkj[c] += scale * datt[ai] * qi[c];
                    if (dvj && att[ai] != 0.0f)
                        for (size_t c = 0; c < dh; c++)
                            dvj[c] += att[ai] * doi[c];
                }
            }
}

void nn_mha_forward(float *out, struct nn_mha_act *a, const struct nn_mha_w *w, const float *x,
                    const float *m, const unsigned char *kpad, const float *amask, size_t nb,
                    size_t tq, size_t tk, size_t d, size_t dm, size_t h)
{
    // x is (B, Tq, D), m is (B, Tk, Dm), out is (B, Tq, D)
    nn_linear_forward(a->q, x, w->wq, w->bq, nb * tq, d, d);
    nn_linear_forward(a->k, m, w->wk, w->bk, nb * tk, dm, d);
    nn_linear_forward(a->v, m, w->wv, w->bv, nb * tk, dm, d);
    nn_attention_forward(a->ctx, a->att, a->q, a->k, a->v, kpad, amask, nb, tq, tk, d, h);
    nn_linear_forward(out, a->ctx, w->wo, w->bo, nb * tq, d, d);
}

void nn_mha_backward(float *dx, float *dm, const struct nn_mha_w *g, struct nn_mha_act *da,
                     const float *dout, const struct nn_mha_act *a, const struct nn_mha_w *w,
                     const float *x, const float *m, size_t nb, size_t tq, size_t tk, size_t d,
                     size_t dm_width, size_t h)
{
    memset(da->ctx, 0, nb * tq * d * sizeof(float));
    memset(da->q, 0, nb * tq * d * sizeof(float));
    memset(da->k, 0, nb * tk * d * sizeof(float));
    memset(da->v, 0, nb * tk * d * sizeof(float));
    nn_linear_backward(da->ctx, g->wo, g->bo, dout, a->ctx, w->wo, nb * tq, d, d);
    nn_attention_backward(da->q, da->k, da->v, da->att, da->ctx, a->att, a->q, a->k, a->v, nb, tq,
                          tk, d, h);
    nn_linear_backward(dx, g->wq, g->bq, da->q, x, w->wq, nb * tq, d, d);
    nn_linear_backward(dm, g->wk, g->bk, da->k, m, w->wk, nb * tk, dm_width, d);
    nn_linear_backward(dm, g->wv, g->bv, da->v, m, w->wv, nb * tk, dm_width, d);
}
