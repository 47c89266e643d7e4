/* kernels/nn/nn_block.c - pre-norm transformer encoder layer (nn_block.h). */
#include "kernels/nn/nn_block.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The block's tensors: suffix, decays, rows, cols (0 = 1-D), as multiples
 * of D (1) or F (2) - kept as data so add, bind and init cannot drift apart. */
enum { DIM_D = 1, DIM_F = 2 };
static const struct { const char *suffix; int decay, rows, cols; size_t off; } block_tensors[] = {
    { "ln1.w",   0, DIM_D, 0,     offsetof(struct nn_block_w, ln1_w) },
    { "ln1.b",   0, DIM_D, 0,     offsetof(struct nn_block_w, ln1_b) },
    { "attn.wq", 1, DIM_D, DIM_D, offsetof(struct nn_block_w, attn.wq) },
    { "attn.bq", 0, DIM_D, 0,     offsetof(struct nn_block_w, attn.bq) },
    { "attn.wk", 1, DIM_D, DIM_D, offsetof(struct nn_block_w, attn.wk) },
    { "attn.bk", 0, DIM_D, 0,     offsetof(struct nn_block_w, attn.bk) },
    { "attn.wv", 1, DIM_D, DIM_D, offsetof(struct nn_block_w, attn.wv) },
    { "attn.bv", 0, DIM_D, 0,     offsetof(struct nn_block_w, attn.bv) },
    { "attn.wo", 1, DIM_D, DIM_D, offsetof(struct nn_block_w, attn.wo) },
    { "attn.bo", 0, DIM_D, 0,     offsetof(struct nn_block_w, attn.bo) },
    { "ln2.w",   0, DIM_D, 0,     offsetof(struct nn_block_w, ln2_w) },
    { "ln2.b",   0, DIM_D, 0,     offsetof(struct nn_block_w, ln2_b) },
    { "ffn.w1",  1, DIM_F, DIM_D, offsetof(struct nn_block_w, w1) },
    { "ffn.b1",  0, DIM_F, 0,     offsetof(struct nn_block_w, b1) },
    { "ffn.w2",  1, DIM_D, DIM_F, offsetof(struct nn_block_w, w2) },
    { "ffn.b2",  0, DIM_D, 0,     offsetof(struct nn_block_w, b2) },
};
#define N_TENSORS (sizeof block_tensors / sizeof block_tensors[0])

static float **slot(const struct nn_block_w *w, size_t i)
{
    return (float **)((char *)w + block_tensors[i].off);
}

int nn_block_add_params(struct nn_params *p, const char *prefix, size_t d, size_t f, struct nn_block_w *w,
                        struct nn_block_w *g)
{
    for (size_t i = 0; i < N_TENSORS; i++) {
        char name[NN_NAME_MAX];
        if ((size_t)snprintf(name, sizeof name, "%s%s", prefix, block_tensors[i].suffix) >= sizeof name)
            return mb_error(MB_EINVAL, "parameter prefix '%s' too long", prefix);
        size_t dims[2], nd = 0;
        dims[nd++] = block_tensors[i].rows == DIM_D ? d : f;
        if (block_tensors[i].cols)
            dims[nd++] = block_tensors[i].cols == DIM_D ? d : f;
        int r = nn_params_add(p, name, block_tensors[i].decay, (int)nd, dims, slot(w, i), g ? slot(g, i) : NULL);
        if (r < 0)
            return r;
    }
    return MB_OK;
}

void nn_block_init(const struct nn_block_w *w, size_t d, size_t f, struct mb_rng *r)
{
    for (size_t i = 0; i < N_TENSORS; i++) {
        size_t rows = block_tensors[i].rows == DIM_D ? d : f;
        float *v = *slot(w, i);
        if (block_tensors[i].cols) {
            size_t cols = block_tensors[i].cols == DIM_D ? d : f;
            nn_init_uniform(v, rows * cols, 1.0f / sqrtf((float)cols), r);
        } else {
            /* norms' weights are the ones among the vectors ('.w') */
            const char *s = block_tensors[i].suffix;
            nn_init_const(v, rows, s[strlen(s) - 1] == 'w' ? 1.0f : 0.0f);
        }
    }
}

int nn_block_act_alloc(struct nn_block_act *a, size_t nb, size_t t, size_t d, size_t f, size_t h)
{
    size_t n = nb * t;
    /* ln1, q, k, v, ctx, attn_out, res1, ln2: 8 of [n x D]; 4 of [n]; 2 of [n x F]; att */
    size_t total = 8 * n * d + 4 * n + 2 * n * f + nb * h * t * t;
    memset(a, 0, sizeof *a);
    a->mem = calloc(total ? total : 1, sizeof(float));
    if (!a->mem)
        return mb_error(MB_ENOMEM, "transformer block activations (%zu floats)", total);
    float *p = a->mem;
    float **nd[] = { &a->ln1, &a->attn.q, &a->attn.k, &a->attn.v, &a->attn.ctx, &a->attn_out, &a->res1, &a->ln2 };
    for (size_t i = 0; i < sizeof nd / sizeof nd[0]; i++, p += n * d)
        *nd[i] = p;
    float **rows[] = { &a->ln1_mean, &a->ln1_rstd, &a->ln2_mean, &a->ln2_rstd };
    for (size_t i = 0; i < 4; i++, p += n)
        *rows[i] = p;
    a->h1 = p, p += n * f;
    a->g1 = p, p += n * f;
    a->attn.att = p;
    return MB_OK;
}

void nn_block_act_release(struct nn_block_act *a)
{
    free(a->mem);
    memset(a, 0, sizeof *a);
}

void nn_block_forward(float *out, struct nn_block_act *a, const struct nn_block_w *w, const float *x,
                      const unsigned char *kpad, const float *amask, size_t nb, size_t t, size_t d,
                      size_t f, size_t h)
{
    size_t n = nb * t;
    nn_layernorm_forward(a->ln1, a->ln1_mean, a->ln1_rstd, x, w->ln1_w, w->ln1_b, n, d);
    nn_mha_forward(a->attn_out, &a->attn, &w->attn, a->ln1, a->ln1, kpad, amask, nb, t, t, d, d, h);
#pragma omp parallel for
    for (size_t i = 0; i < n * d; i++)
        a->res1[i] = x[i] + a->attn_out[i];
    nn_layernorm_forward(a->ln2, a->ln2_mean, a->ln2_rstd, a->res1, w->ln2_w, w->ln2_b, n, d);
    nn_linear_forward(a->h1, a->ln2, w->w1, w->b1, n, d, f);
    nn_gelu_forward(a->g1, a->h1, n * f);
    nn_linear_forward(out, a->g1, w->w2, w->b2, n, f, d);
#pragma omp parallel for
    for (size_t i = 0; i < n * d; i++)
        out[i] += a->res1[i];
}

void nn_block_backward(float *dx, const struct nn_block_w *g, struct nn_block_act *da,
                       const float *dout, const struct nn_block_act *a, const struct nn_block_w *w,
                       const float *x, size_t nb, size_t t, size_t d, size_t f, size_t h)
{
    size_t n = nb * t;
    /* the residual passes dout straight to res1; the FFN branch adds to it */
    memcpy(da->res1, dout, n * d * sizeof(float));
    memset(da->g1, 0, n * f * sizeof(float));
    memset(da->h1, 0, n * f * sizeof(float));
    memset(da->ln2, 0, n * d * sizeof(float));
    memset(da->ln1, 0, n * d * sizeof(float));
    nn_linear_backward(da->g1, g->w2, g->b2, dout, a->g1, w->w2, n, f, d);
    nn_gelu_backward(da->h1, da->g1, a->h1, n * f);
    nn_linear_backward(da->ln2, g->w1, g->b1, da->h1, a->ln2, w->w1, n, d, f);
    nn_layernorm_backward(da->res1, g->ln2_w, g->ln2_b, da->ln2, a->res1, a->ln2_mean, a->ln2_rstd,
                          w->ln2_w, n, d);
    /* res1 = x + attention: dx gets dres1 directly and through LN1 */
#pragma omp parallel for
    for (size_t i = 0; i < n * d; i++)
        dx[i] += da->res1[i];
    nn_mha_backward(da->ln1, da->ln1, &g->attn, &da->attn, da->res1, &a->attn, &w->attn, a->ln1,
                    a->ln1, nb, t, t, d, d, h);
    nn_layernorm_backward(dx, g->ln1_w, g->ln1_b, da->ln1, x, a->ln1_mean, a->ln1_rstd, w->ln1_w, n, d);
}
