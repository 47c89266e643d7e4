/* kernels/nn/nn_block.c - pre-norm transformer encoder layer (nn_block.h). */
#include "kernels/nn/nn_block.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A block's tensors: suffix, decays, rows, cols (0 = 1-D), as multiples
 * of D, F or Dm - kept as data so add, bind and init cannot drift apart. */
enum { DIM_D = 1, DIM_F = 2, DIM_M = 3 };
struct tensor_spec { const char *suffix; int decay, rows, cols; size_t off; };
static const struct tensor_spec block_tensors[] = {
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
static const struct tensor_spec cross_tensors[] = {
    { "lnc.w",    0, DIM_D, 0,     offsetof(struct nn_block_cross_w, lnc_w) },
    { "lnc.b",    0, DIM_D, 0,     offsetof(struct nn_block_cross_w, lnc_b) },
    { "cross.wq", 1, DIM_D, DIM_D, offsetof(struct nn_block_cross_w, attn.wq) },
    { "cross.bq", 0, DIM_D, 0,     offsetof(struct nn_block_cross_w, attn.bq) },
    { "cross.wk", 1, DIM_D, DIM_M, offsetof(struct nn_block_cross_w, attn.wk) },
    { "cross.bk", 0, DIM_D, 0,     offsetof(struct nn_block_cross_w, attn.bk) },
    { "cross.wv", 1, DIM_D, DIM_M, offsetof(struct nn_block_cross_w, attn.wv) },
    { "cross.bv", 0, DIM_D, 0,     offsetof(struct nn_block_cross_w, attn.bv) },
    { "cross.wo", 1, DIM_D, DIM_D, offsetof(struct nn_block_cross_w, attn.wo) },
    { "cross.bo", 0, DIM_D, 0,     offsetof(struct nn_block_cross_w, attn.bo) },
};
#define N_TENSORS(tab) (sizeof tab / sizeof tab[0])

/* The view of tensor i in a weight struct (nn_block_w or nn_block_cross_w). */
static float **slot(const void *w, const struct tensor_spec *spec)
{
    return (float **)((char *)w + spec->off);
}

static size_t dim(int which, size_t d, size_t f, size_t dm)
{
    return which == DIM_D ? d : which == DIM_F ? f : dm;
}

static int add_tensors(struct nn_params *p, const char *prefix, const struct tensor_spec *tab, size_t n,
                       size_t d, size_t f, size_t dm, void *w, void *g)
{
    for (size_t i = 0; i < n; i++) {
        char name[NN_NAME_MAX];
        if ((size_t)snprintf(name, sizeof name, "%s%s", prefix, tab[i].suffix) >= sizeof name)
            return mb_error(MB_EINVAL, "parameter prefix '%s' too long", prefix);
        size_t dims[2], nd = 0;
        dims[nd++] = dim(tab[i].rows, d, f, dm);
        if (tab[i].cols)
            dims[nd++] = dim(tab[i].cols, d, f, dm);
        int r = nn_params_add(p, name, tab[i].decay, (int)nd, dims, slot(w, &tab[i]), g ? slot(g, &tab[i]) : NULL);
        if (r < 0)
            return r;
    }
    return MB_OK;
}

static void init_tensors(const struct tensor_spec *tab, size_t n, const void *w, size_t d, size_t f, size_t dm,
                         struct mb_rng *r)
{
    for (size_t i = 0; i < n; i++) {
        size_t rows = dim(tab[i].rows, d, f, dm);
        float *v = *slot(w, &tab[i]);
        if (tab[i].cols) {
            size_t cols = dim(tab[i].cols, d, f, dm);
            nn_init_uniform(v, rows * cols, 1.0f / sqrtf((float)cols), r);
        } else {
            /* norms' weights are the ones among the vectors ('.w') */
            const char *s = tab[i].suffix;
            nn_init_const(v, rows, s[strlen(s) - 1] == 'w' ? 1.0f : 0.0f);
        }
    }
}

int nn_block_add_params(struct nn_params *p, const char *prefix, size_t d, size_t f, struct nn_block_w *w,
                        struct nn_block_w *g)
{
    return add_tensors(p, prefix, block_tensors, N_TENSORS(block_tensors), d, f, 0, w, g);
}

void nn_block_init(const struct nn_block_w *w, size_t d, size_t f, struct mb_rng *r)
{
    init_tensors(block_tensors, N_TENSORS(block_tensors), w, d, f, 0, r);
}

int nn_block_add_cross_params(struct nn_params *p, const char *prefix, size_t d, size_t dm,
                              struct nn_block_cross_w *w, struct nn_block_cross_w *g)
{
    return add_tensors(p, prefix, cross_tensors, N_TENSORS(cross_tensors), d, 0, dm, w, g);
}

void nn_block_cross_init(const struct nn_block_cross_w *w, size_t d, size_t dm, struct mb_rng *r)
{
    init_tensors(cross_tensors, N_TENSORS(cross_tensors), w, d, 0, dm, r);
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

int nn_block_cross_act_alloc(struct nn_block_cross_act *a, size_t nb, size_t t, size_t tm, size_t d, size_t h)
{
    size_t n = nb * t, nm = nb * tm;
    /* lnc, q, ctx, attn_out, res2: 5 of [n x D]; k, v [nm x D]; 2 of [n]; att */
    size_t total = 5 * n * d + 2 * nm * d + 2 * n + nb * h * t * tm;
    memset(a, 0, sizeof *a);
    a->mem = calloc(total ? total : 1, sizeof(float));
    if (!a->mem)
        return mb_error(MB_ENOMEM, "cross-attention activations (%zu floats)", total);
    float *p = a->mem;
    float **nd[] = { &a->lnc, &a->attn.q, &a->attn.ctx, &a->attn_out, &a->res2 };
    for (size_t i = 0; i < sizeof nd / sizeof nd[0]; i++, p += n * d)
        *nd[i] = p;
    a->attn.k = p, p += nm * d;
    a->attn.v = p, p += nm * d;
    a->lnc_mean = p, p += n;
    a->lnc_rstd = p, p += n;
    a->attn.att = p;
    return MB_OK;
}

void nn_block_cross_act_release(struct nn_block_cross_act *a)
{
    free(a->mem);
    memset(a, 0, sizeof *a);
}

void nn_block_xforward(float *out, struct nn_block_act *a, struct nn_block_cross_act *ca,
                       const struct nn_block_w *w, const struct nn_block_cross_w *cw, const float *x,
                       const float *mem, const unsigned char *kpad, const float *amask,
                       const unsigned char *mem_kpad, size_t nb, size_t t, size_t tm, size_t d, size_t dm,
                       size_t f, size_t h)
{
    // x, out are (B, T, D); mem is (B, Tm, Dm); kpad (B, T); amask (T, T); mem_kpad (B, Tm)
    size_t n = nb * t;
    nn_layernorm_forward(a->ln1, a->ln1_mean, a->ln1_rstd, x, w->ln1_w, w->ln1_b, n, d);
    nn_mha_forward(a->attn_out, &a->attn, &w->attn, a->ln1, a->ln1, kpad, amask, nb, t, t, d, d, h);
#pragma omp parallel for
    for (size_t i = 0; i < n * d; i++)
        a->res1[i] = x[i] + a->attn_out[i];
    /* r is what the feed-forward sub-layer adds to: res1, or res2 after the
     * cross-attention; without it the ops and their order are the plain block's */
    const float *r = a->res1;
    if (cw && mem) {
        MB_ASSERT(ca);
        nn_layernorm_forward(ca->lnc, ca->lnc_mean, ca->lnc_rstd, a->res1, cw->lnc_w, cw->lnc_b, n, d);
        nn_mha_forward(ca->attn_out, &ca->attn, &cw->attn, ca->lnc, mem, mem_kpad, NULL, nb, t, tm, d, dm, h);
#pragma omp parallel for
        for (size_t i = 0; i < n * d; i++)
            ca->res2[i] = a->res1[i] + ca->attn_out[i];
        r = ca->res2;
    }
    nn_layernorm_forward(a->ln2, a->ln2_mean, a->ln2_rstd, r, w->ln2_w, w->ln2_b, n, d);
    nn_linear_forward(a->h1, a->ln2, w->w1, w->b1, n, d, f);
    nn_gelu_forward(a->g1, a->h1, n * f);
    nn_linear_forward(out, a->g1, w->w2, w->b2, n, f, d);
#pragma omp parallel for
    for (size_t i = 0; i < n * d; i++)
        out[i] += r[i];
}

void nn_block_xbackward(float *dx, float *dmem, const struct nn_block_w *g, const struct nn_block_cross_w *cg,
                        struct nn_block_act *da, struct nn_block_cross_act *dca, const float *dout,
                        const struct nn_block_act *a, const struct nn_block_cross_act *ca,
                        const struct nn_block_w *w, const struct nn_block_cross_w *cw, const float *x,
                        const float *mem, size_t nb, size_t t, size_t tm, size_t d, size_t dm, size_t f,
                        size_t h)
{
    // dout, dx are (B, T, D); dmem is (B, Tm, Dm)
    size_t n = nb * t;
    int cross = cw && mem;
    MB_ASSERT(!cross || (ca && dca && cg));
    /* r, dr: the feed-forward sub-layer's input and its gradient (res2 with
     * cross-attention, res1 without) */
    const float *r = cross ? ca->res2 : a->res1;
    float *dr = cross ? dca->res2 : da->res1;
    /* the residual passes dout straight to r; the FFN branch adds to it */
    memcpy(dr, dout, n * d * sizeof(float));
    memset(da->g1, 0, n * f * sizeof(float));
    memset(da->h1, 0, n * f * sizeof(float));
    memset(da->ln2, 0, n * d * sizeof(float));
    memset(da->ln1, 0, n * d * sizeof(float));
    nn_linear_backward(da->g1, g->w2, g->b2, dout, a->g1, w->w2, n, f, d);
    nn_gelu_backward(da->h1, da->g1, a->h1, n * f);
    nn_linear_backward(da->ln2, g->w1, g->b1, da->h1, a->ln2, w->w1, n, d, f);
    nn_layernorm_backward(dr, g->ln2_w, g->ln2_b, da->ln2, r, a->ln2_mean, a->ln2_rstd, w->ln2_w, n, d);
    if (cross) {
        /* res2 = res1 + CA(LNc res1, mem): res1 gets dres2 directly and
         * through LNc; the memory's gradient comes from K and V */
        memcpy(da->res1, dca->res2, n * d * sizeof(float));
        memset(dca->lnc, 0, n * d * sizeof(float));
        nn_mha_backward(dca->lnc, dmem, &cg->attn, &dca->attn, dca->res2, &ca->attn, &cw->attn, ca->lnc, mem,
                        nb, t, tm, d, dm, h);
        nn_layernorm_backward(da->res1, cg->lnc_w, cg->lnc_b, dca->lnc, a->res1, ca->lnc_mean, ca->lnc_rstd,
                              cw->lnc_w, n, d);
    }
    /* res1 = x + attention: dx gets dres1 directly and through LN1 */
    if (dx) {
#pragma omp parallel for
        for (size_t i = 0; i < n * d; i++)
            dx[i] += da->res1[i];
    }
    nn_mha_backward(da->ln1, da->ln1, &g->attn, &da->attn, da->res1, &a->attn, &w->attn, a->ln1,
                    a->ln1, nb, t, t, d, d, h);
    nn_layernorm_backward(dx, g->ln1_w, g->ln1_b, da->ln1, x, a->ln1_mean, a->ln1_rstd, w->ln1_w, n, d);
}

/* The plain block is the block without a memory: one copy of its code. */
void nn_block_forward(float *out, struct nn_block_act *a, const struct nn_block_w *w, const float *x,
                      const unsigned char *kpad, const float *amask, size_t nb, size_t t, size_t d,
                      size_t f, size_t h)
{
    nn_block_xforward(out, a, NULL, w, NULL, x, NULL, kpad, amask, NULL, nb, t, 0, d, 0, f, h);
}

void nn_block_backward(float *dx, const struct nn_block_w *g, struct nn_block_act *da,
                       const float *dout, const struct nn_block_act *a, const struct nn_block_w *w,
                       const float *x, size_t nb, size_t t, size_t d, size_t f, size_t h)
{
    nn_block_xbackward(dx, NULL, g, NULL, da, NULL, dout, a, NULL, w, NULL, x, NULL, nb, t, 0, d, 0, f, h);
}
