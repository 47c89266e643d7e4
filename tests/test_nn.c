/* tests/test_nn.c - kernels/nn: a finite-difference check of every layer's
 * backward, AdamW against hand-computed steps, the schedule, clipping, the
 * checkpoint round trip, thread-count invariance, and a tiny transformer's
 * 10-step loss curve against PyTorch (tests/ref/gen_nn_ref.py). */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/rng.h"
#include "kernels/nn/nn.h"
#include "kernels/nn/nn_block.h"
#include "kernels/nn/nn_param.h"
#include "tests/ref/nn_golden.h"
#include "tests/testutil.h"

/* ---- helpers ------------------------------------------------------------------ */

/* Buffers a test allocates are freed by the test's .fini (LeakSanitizer in
 * make asan), so the bodies stay short. */
static void *tracked[512];
static size_t ntracked;
static void *track(void *p)
{
    cr_assert(p && ntracked < sizeof tracked / sizeof tracked[0]);
    tracked[ntracked++] = p;
    return p;
}
static void free_tracked(void)
{
    while (ntracked)
        free(tracked[--ntracked]);
}

static float *rnd(size_t n, struct mb_rng *r, float a)
{
    float *v = track(malloc((n ? n : 1) * sizeof *v));
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((2.0 * mb_rng_uniform(r) - 1.0) * a);
    return v;
}

static float *zeros(size_t n) { return track(calloc(n ? n : 1, sizeof(float))); }

static double dotd(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* Central differences of the scalar f() with respect to x[0..n) (at most
 * ~60 elements, spread over the array) against the analytic g. The forward
 * runs in float, so eps is large (1e-2) and the test is relative with an
 * absolute floor for gradients near zero. */
#define GC_EPS 1e-2f
#define GC_RTOL 1e-2
#define GC_ATOL 2e-3
static void gradcheck(const char *what, double (*f)(void *), void *ctx, float *x, const float *g, size_t n)
{
    size_t stride = n > 60 ? n / 60 : 1;
    for (size_t i = 0; i < n; i += stride) {
        cr_assert(isfinite(g[i]), "%s: gradient %zu is not finite", what, i);
        float save = x[i];
        x[i] = save + GC_EPS;
        double lp = f(ctx);
        x[i] = save - GC_EPS;
        double lm = f(ctx);
        x[i] = save;
        double num = (lp - lm) / (2.0 * GC_EPS);
        double tol = GC_RTOL * fmax(fabs(num), fabs(g[i])) + GC_ATOL;
        cr_assert(fabs(num - g[i]) <= tol, "%s[%zu]: analytic %.6g, numeric %.6g", what, i, g[i], num);
    }
}

/* ---- linear, conv, patch embedding ------------------------------------------------ */

struct lin_ctx { float *in, *w, *b, *out, *r; size_t n, i, o; };
static double lin_f(void *p)
{
    struct lin_ctx *c = p;
    nn_linear_forward(c->out, c->in, c->w, c->b, c->n, c->i, c->o);
    return dotd(c->out, c->r, c->n * c->o);
}

Test(nn, linear_backward_matches_finite_differences, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 1, 0);
    struct lin_ctx c = { .n = 5, .i = 7, .o = 3 };
    c.in = rnd(c.n * c.i, &r, 1), c.w = rnd(c.o * c.i, &r, 1), c.b = rnd(c.o, &r, 1);
    c.out = zeros(c.n * c.o), c.r = rnd(c.n * c.o, &r, 1);
    float *din = zeros(c.n * c.i), *dw = zeros(c.o * c.i), *db = zeros(c.o);
    lin_f(&c);
    nn_linear_backward(din, dw, db, c.r, c.in, c.w, c.n, c.i, c.o);
    gradcheck("linear din", lin_f, &c, c.in, din, c.n * c.i);
    gradcheck("linear dw", lin_f, &c, c.w, dw, c.o * c.i);
    gradcheck("linear db", lin_f, &c, c.b, db, c.o);
}

struct conv_ctx { float *in, *w, *b, *out, *col, *r; size_t nb, t, ci, co, k, s, pad, to; };
static double conv_f(void *p)
{
    struct conv_ctx *c = p;
    nn_conv1d_forward(c->out, c->col, c->in, c->w, c->b, c->nb, c->t, c->ci, c->co, c->k, c->s, c->pad);
    return dotd(c->out, c->r, c->nb * c->to * c->co);
}

Test(nn, conv1d_backward_matches_finite_differences, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 2, 0);
    /* odd sizes, stride 2 and padding so windows overlap and hang over the edges */
    struct conv_ctx c = { .nb = 2, .t = 9, .ci = 3, .co = 4, .k = 3, .s = 2, .pad = 1 };
    c.to = nn_conv1d_len(c.t, c.k, c.s, c.pad);
    cr_assert_eq(c.to, 5);
    c.in = rnd(c.nb * c.t * c.ci, &r, 1), c.w = rnd(c.co * c.k * c.ci, &r, 1), c.b = rnd(c.co, &r, 1);
    c.out = zeros(c.nb * c.to * c.co), c.col = zeros(c.nb * c.to * c.k * c.ci);
    c.r = rnd(c.nb * c.to * c.co, &r, 1);
    float *din = zeros(c.nb * c.t * c.ci), *dw = zeros(c.co * c.k * c.ci), *db = zeros(c.co);
    float *dcol = zeros(c.nb * c.to * c.k * c.ci);
    conv_f(&c);
    nn_conv1d_backward(din, dw, db, dcol, c.r, c.col, c.w, c.nb, c.t, c.ci, c.co, c.k, c.s, c.pad);
    gradcheck("conv din", conv_f, &c, c.in, din, c.nb * c.t * c.ci);
    gradcheck("conv dw", conv_f, &c, c.w, dw, c.co * c.k * c.ci);
    gradcheck("conv db", conv_f, &c, c.b, db, c.co);
}

Test(nn, conv1d_forward_equals_direct_sum, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 3, 0);
    size_t nb = 2, t = 7, ci = 2, co = 3, k = 4, s = 3, pad = 2;
    size_t to = nn_conv1d_len(t, k, s, pad);
    float *in = rnd(nb * t * ci, &r, 1), *w = rnd(co * k * ci, &r, 1), *b = rnd(co, &r, 1);
    float *out = zeros(nb * to * co), *col = zeros(nb * to * k * ci);
    nn_conv1d_forward(out, col, in, w, b, nb, t, ci, co, k, s, pad);
    for (size_t bb = 0; bb < nb; bb++)
        for (size_t ot = 0; ot < to; ot++)
            for (size_t o = 0; o < co; o++) {
                double want = b[o];
                for (size_t kk = 0; kk < k; kk++) {
                    long ts = (long)(ot * s + kk) - (long)pad;
                    if (ts < 0 || ts >= (long)t)
                        continue;
                    for (size_t c = 0; c < ci; c++)
                        want += (double)w[(o * k + kk) * ci + c] * in[(bb * t + (size_t)ts) * ci + c];
                }
                cr_assert(fabs(out[(bb * to + ot) * co + o] - want) < 1e-5, "conv out (%zu,%zu,%zu)", bb, ot, o);
            }
}

struct pe_ctx { float *x, *w, *b, *out, *r; size_t nb, t, c, p, d; };
static double pe_f(void *p)
{
    struct pe_ctx *c = p;
    nn_patch_embed_forward(c->out, c->x, c->w, c->b, c->nb, c->t, c->c, c->p, c->d);
    return dotd(c->out, c->r, c->nb * (c->t / c->p) * c->d);
}

Test(nn, patch_embed_backward_matches_finite_differences, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 4, 0);
    struct pe_ctx c = { .nb = 2, .t = 12, .c = 3, .p = 4, .d = 5 };
    size_t np = c.t / c.p;
    c.x = rnd(c.nb * c.t * c.c, &r, 1), c.w = rnd(c.d * c.p * c.c, &r, 1), c.b = rnd(c.d, &r, 1);
    c.out = zeros(c.nb * np * c.d), c.r = rnd(c.nb * np * c.d, &r, 1);
    float *dx = zeros(c.nb * c.t * c.c), *dw = zeros(c.d * c.p * c.c), *db = zeros(c.d);
    pe_f(&c);
    /* patch 1 of sequence 1, embedding 2: the flattening is time-major */
    double want = c.b[2];
    for (size_t tt = 0; tt < c.p; tt++)
        for (size_t ch = 0; ch < c.c; ch++)
            want += (double)c.w[2 * c.p * c.c + tt * c.c + ch] * c.x[((1 * c.t) + 1 * c.p + tt) * c.c + ch];
    cr_assert(fabs(c.out[(1 * np + 1) * c.d + 2] - want) < 1e-5);
    nn_patch_embed_backward(dx, dw, db, c.r, c.x, c.w, c.nb, c.t, c.c, c.p, c.d);
    gradcheck("patch dx", pe_f, &c, c.x, dx, c.nb * c.t * c.c);
    gradcheck("patch dw", pe_f, &c, c.w, dw, c.d * c.p * c.c);
    gradcheck("patch db", pe_f, &c, c.b, db, c.d);
}

/* ---- layer norm, GELU, softmax --------------------------------------------------------- */

struct ln_ctx { float *in, *w, *b, *out, *mean, *rstd, *r; size_t n, c; };
static double ln_f(void *p)
{
    struct ln_ctx *c = p;
    nn_layernorm_forward(c->out, c->mean, c->rstd, c->in, c->w, c->b, c->n, c->c);
    return dotd(c->out, c->r, c->n * c->c);
}

Test(nn, layernorm_backward_matches_finite_differences, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 5, 0);
    struct ln_ctx c = { .n = 4, .c = 7 };
    c.in = rnd(c.n * c.c, &r, 2), c.w = rnd(c.c, &r, 1), c.b = rnd(c.c, &r, 1);
    c.out = zeros(c.n * c.c), c.mean = zeros(c.n), c.rstd = zeros(c.n), c.r = rnd(c.n * c.c, &r, 1);
    float *din = zeros(c.n * c.c), *dw = zeros(c.c), *db = zeros(c.c);
    ln_f(&c);
    nn_layernorm_backward(din, dw, db, c.r, c.in, c.mean, c.rstd, c.w, c.n, c.c);
    gradcheck("ln din", ln_f, &c, c.in, din, c.n * c.c);
    gradcheck("ln dw", ln_f, &c, c.w, dw, c.c);
    gradcheck("ln db", ln_f, &c, c.b, db, c.c);
}

struct act_ctx { float *in, *out, *r; size_t n, k; };
static double gelu_f(void *p)
{
    struct act_ctx *c = p;
    nn_gelu_forward(c->out, c->in, c->n);
    return dotd(c->out, c->r, c->n);
}
static double softmax_f(void *p)
{
    struct act_ctx *c = p;
    nn_softmax_forward(c->out, c->in, c->n, c->k);
    return dotd(c->out, c->r, c->n * c->k);
}

Test(nn, gelu_is_the_tanh_approximation_and_its_backward_matches, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 6, 0);
    struct act_ctx c = { .n = 11 };
    c.in = rnd(c.n, &r, 3), c.out = zeros(c.n), c.r = rnd(c.n, &r, 1);
    gelu_f(&c);
    /* torch.nn.functional.gelu(torch.tensor([1.0, -0.5]), approximate='tanh') */
    float x2[2] = { 1.0f, -0.5f }, y2[2];
    nn_gelu_forward(y2, x2, 2);
    cr_assert(fabs(y2[0] - 0.841191990) < 1e-6 && fabs(y2[1] + 0.154285937) < 1e-6,
              "gelu(1) = %.9g, gelu(-0.5) = %.9g", y2[0], y2[1]);
    float *din = zeros(c.n);
    nn_gelu_backward(din, c.r, c.in, c.n);
    gradcheck("gelu din", gelu_f, &c, c.in, din, c.n);
}

Test(nn, softmax_backward_matches_finite_differences, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 7, 0);
    struct act_ctx c = { .n = 3, .k = 5 };
    c.in = rnd(c.n * c.k, &r, 3), c.out = zeros(c.n * c.k), c.r = rnd(c.n * c.k, &r, 1);
    softmax_f(&c);
    for (size_t i = 0; i < c.n; i++) {
        double s = 0;
        for (size_t j = 0; j < c.k; j++)
            s += c.out[i * c.k + j];
        cr_assert(fabs(s - 1.0) < 1e-6);
    }
    float *din = zeros(c.n * c.k);
    nn_softmax_backward(din, c.r, c.out, c.n, c.k);
    gradcheck("softmax din", softmax_f, &c, c.in, din, c.n * c.k);
}

/* ---- attention ------------------------------------------------------------------------------ */

struct att_ctx {
    float *q, *k, *v, *out, *att, *r, *amask;
    unsigned char *kpad;
    size_t nb, tq, tk, d, h;
};
static double att_f(void *p)
{
    struct att_ctx *c = p;
    nn_attention_forward(c->out, c->att, c->q, c->k, c->v, c->kpad, c->amask, c->nb, c->tq, c->tk, c->d, c->h);
    return dotd(c->out, c->r, c->nb * c->tq * c->d);
}

Test(nn, attention_with_masks_backward_matches_finite_differences, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 8, 0);
    struct att_ctx c = { .nb = 2, .tq = 3, .tk = 5, .d = 6, .h = 2 };
    size_t nq = c.nb * c.tq * c.d, nk = c.nb * c.tk * c.d;
    c.q = rnd(nq, &r, 1), c.k = rnd(nk, &r, 1), c.v = rnd(nk, &r, 1);
    c.out = zeros(nq), c.att = zeros(c.nb * c.h * c.tq * c.tk), c.r = rnd(nq, &r, 1);
    c.amask = rnd(c.tq * c.tk, &r, 1);
    c.amask[0 * c.tk + 1] = -INFINITY;            // query 0 may not see key 1
    unsigned char kpad[2 * 5] = { 0, 0, 0, 0, 0, 0, 0, 1, 0, 1 };   // sequence 1 pads keys 2, 4
    c.kpad = kpad;
    att_f(&c);
    /* excluded keys get exactly zero weight */
    for (size_t hh = 0; hh < c.h; hh++) {
        cr_assert_eq(c.att[((0 * c.h + hh) * c.tq + 0) * c.tk + 1], 0.0f);
        for (size_t i = 0; i < c.tq; i++) {
            cr_assert_eq(c.att[((1 * c.h + hh) * c.tq + i) * c.tk + 2], 0.0f);
            cr_assert_eq(c.att[((1 * c.h + hh) * c.tq + i) * c.tk + 4], 0.0f);
        }
    }
    float *dq = zeros(nq), *dk = zeros(nk), *dv = zeros(nk), *datt = zeros(c.nb * c.h * c.tq * c.tk);
    nn_attention_backward(dq, dk, dv, datt, c.r, c.att, c.q, c.k, c.v, c.nb, c.tq, c.tk, c.d, c.h);
    gradcheck("attention dq", att_f, &c, c.q, dq, nq);
    gradcheck("attention dk", att_f, &c, c.k, dk, nk);
    gradcheck("attention dv", att_f, &c, c.v, dv, nk);
    /* a padded key's value has no influence */
    for (size_t j = 0; j < c.d; j++)
        cr_assert_eq(dv[(1 * c.tk + 2) * c.d + j], 0.0f);
}

Test(nn, attention_of_a_query_with_no_visible_key_is_zero, .fini = free_tracked)
{
    float q[4] = { 1, 2, 3, 4 }, k[4] = { 1, 0, 0, 1 }, v[4] = { 5, 6, 7, 8 }, out[4], att[2];
    unsigned char kpad[2] = { 1, 1 };
    nn_attention_forward(out, att, q, k, v, kpad, NULL, 1, 1, 2, 4, 1);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(out[i], 0.0f);
    cr_assert(att[0] == 0.0f && att[1] == 0.0f);
}

struct mha_ctx {
    struct nn_mha_w w;
    struct nn_mha_act a;
    float *x, *m, *out, *r;
    int self;
    size_t nb, tq, tk, d, dm, h;
};
static double mha_f(void *p)
{
    struct mha_ctx *c = p;
    nn_mha_forward(c->out, &c->a, &c->w, c->x, c->self ? c->x : c->m, NULL, NULL, c->nb, c->tq, c->tk,
                   c->d, c->dm, c->h);
    return dotd(c->out, c->r, c->nb * c->tq * c->d);
}

static void mha_case(int self, size_t tq, size_t tk, size_t dm)
{
    struct mb_rng r;
    mb_rng_seed(&r, 9, (uint64_t)self);
    struct mha_ctx c = { .self = self, .nb = 2, .tq = tq, .tk = tk, .d = 6, .dm = dm, .h = 3 };
    size_t d = c.d;
    float **wp[8] = { &c.w.wq, &c.w.bq, &c.w.wk, &c.w.bk, &c.w.wv, &c.w.bv, &c.w.wo, &c.w.bo };
    size_t wn[8] = { d * d, d, d * dm, d, d * dm, d, d * d, d };
    struct nn_mha_w g;
    float **gp[8] = { &g.wq, &g.bq, &g.wk, &g.bk, &g.wv, &g.bv, &g.wo, &g.bo };
    for (int i = 0; i < 8; i++) {
        *wp[i] = rnd(wn[i], &r, 0.5f);
        *gp[i] = zeros(wn[i]);
    }
    struct nn_mha_act da;
    float **ap[5] = { &c.a.q, &c.a.k, &c.a.v, &c.a.att, &c.a.ctx };
    float **dp[5] = { &da.q, &da.k, &da.v, &da.att, &da.ctx };
    size_t an[5] = { c.nb * tq * d, c.nb * tk * d, c.nb * tk * d, c.nb * c.h * tq * tk, c.nb * tq * d };
    for (int i = 0; i < 5; i++) {
        *ap[i] = zeros(an[i]);
        *dp[i] = zeros(an[i]);
    }
    c.x = rnd(c.nb * tq * d, &r, 1);
    c.m = self ? c.x : rnd(c.nb * tk * dm, &r, 1);
    c.out = zeros(c.nb * tq * d), c.r = rnd(c.nb * tq * d, &r, 1);
    float *dx = zeros(c.nb * tq * d), *dm_ = self ? dx : zeros(c.nb * tk * dm);
    mha_f(&c);
    nn_mha_backward(dx, dm_, &g, &da, c.r, &c.a, &c.w, c.x, c.m, c.nb, tq, tk, d, dm, c.h);
    const char *names[8] = { "wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo" };
    for (int i = 0; i < 8; i++)
        gradcheck(names[i], mha_f, &c, *wp[i], *gp[i], wn[i]);
    gradcheck(self ? "self-attention dx" : "cross-attention dx", mha_f, &c, c.x, dx, c.nb * tq * d);
    if (!self)
        gradcheck("cross-attention dmemory", mha_f, &c, c.m, dm_, c.nb * tk * dm);
}

Test(nn, self_attention_backward_matches_finite_differences, .fini = free_tracked) { mha_case(1, 4, 4, 6); }
Test(nn, cross_attention_backward_matches_finite_differences, .fini = free_tracked) { mha_case(0, 3, 5, 4); }

/* ---- embeddings, dropout, pooling ----------------------------------------------------------- */

struct emb_ctx { float *x, *pos, *table, *cls, *out, *r; int *idx; unsigned char *kpad, *keep; size_t nb, t, d, n; };
static double pos_f(void *p)
{
    struct emb_ctx *c = p;
    nn_pos_embed_forward(c->out, c->x, c->pos, c->nb, c->t, c->d);
    return dotd(c->out, c->r, c->nb * c->t * c->d);
}
static double tok_f(void *p)
{
    struct emb_ctx *c = p;
    nn_embed_forward(c->out, c->idx, c->table, c->n, c->d);
    return dotd(c->out, c->r, c->n * c->d);
}
static double drop_f(void *p)
{
    struct emb_ctx *c = p;
    nn_dropout_forward(c->out, c->keep, c->x, 0.3f, 42, 7, c->nb * c->t, c->d);
    return dotd(c->out, c->r, c->nb * c->t * c->d);
}
static double pool_f(void *p)
{
    struct emb_ctx *c = p;
    nn_mean_pool_forward(c->out, c->x, c->kpad, c->nb, c->t, c->d);
    return dotd(c->out, c->r, c->nb * c->d);
}
static double cls_f(void *p)
{
    struct emb_ctx *c = p;
    nn_cls_prepend_forward(c->out, c->x, c->cls, c->nb, c->t, c->d);
    return dotd(c->out, c->r, c->nb * (c->t + 1) * c->d);
}
static double take_f(void *p)
{
    struct emb_ctx *c = p;
    nn_take_forward(c->out, c->x, 2, c->nb, c->t, c->d);
    return dotd(c->out, c->r, c->nb * c->d);
}

Test(nn, embeddings_dropout_pooling_cls_backward_match_finite_differences, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 10, 0);
    struct emb_ctx c = { .nb = 3, .t = 4, .d = 5, .n = 6 };
    size_t nx = c.nb * c.t * c.d;
    c.x = rnd(nx, &r, 1), c.pos = rnd(c.t * c.d, &r, 1), c.table = rnd(4 * c.d, &r, 1);
    c.cls = rnd(c.d, &r, 1);
    c.out = zeros(c.nb * (c.t + 1) * c.d), c.r = rnd(c.nb * (c.t + 1) * c.d, &r, 1);
    int idx[6] = { 3, 0, 3, 1, 3, 2 };   // token 3 three times: its gradient sums
    c.idx = idx;
    unsigned char kpad[12] = { 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1, 1 };  // sequence 2 all padding
    c.keep = track(malloc(nx));

    float *dx = zeros(nx), *dpos = zeros(c.t * c.d);
    pos_f(&c);
    nn_pos_embed_backward(dx, dpos, c.r, c.nb, c.t, c.d);
    gradcheck("pos dx", pos_f, &c, c.x, dx, nx);
    gradcheck("pos dpos", pos_f, &c, c.pos, dpos, c.t * c.d);

    float *dtab = zeros(4 * c.d);
    tok_f(&c);
    nn_embed_backward(dtab, c.r, c.idx, c.n, c.d);
    gradcheck("token dtable", tok_f, &c, c.table, dtab, 4 * c.d);

    memset(dx, 0, nx * sizeof *dx);
    drop_f(&c);
    nn_dropout_backward(dx, c.r, c.keep, 0.3f, c.nb * c.t, c.d);
    gradcheck("dropout dx", drop_f, &c, c.x, dx, nx);

    memset(dx, 0, nx * sizeof *dx);
    c.kpad = kpad;
    pool_f(&c);
    for (size_t j = 0; j < c.d; j++)
        cr_assert_eq(c.out[2 * c.d + j], 0.0f, "an all-padding sequence pools to zero");
    nn_mean_pool_backward(dx, c.r, c.kpad, c.nb, c.t, c.d);
    gradcheck("mean pool dx", pool_f, &c, c.x, dx, nx);

    memset(dx, 0, nx * sizeof *dx);
    float *dcls = zeros(c.d);
    cls_f(&c);
    nn_cls_prepend_backward(dx, dcls, c.r, c.nb, c.t, c.d);
    gradcheck("cls dx", cls_f, &c, c.x, dx, nx);
    gradcheck("cls dcls", cls_f, &c, c.cls, dcls, c.d);

    memset(dx, 0, nx * sizeof *dx);
    take_f(&c);
    nn_take_backward(dx, c.r, 2, c.nb, c.t, c.d);
    gradcheck("take dx", take_f, &c, c.x, dx, nx);
}

Test(nn, dropout_mask_depends_on_seed_and_stream_not_on_threads, .fini = free_tracked)
{
    size_t n = 257, d = 64;
    float *x = zeros(n * d), *y1 = zeros(n * d), *y2 = zeros(n * d);
    for (size_t i = 0; i < n * d; i++)
        x[i] = 1.0f;
    unsigned char *k1 = track(malloc(n * d)), *k2 = track(malloc(n * d)), *k3 = track(malloc(n * d));
    omp_set_num_threads(1);
    nn_dropout_forward(y1, k1, x, 0.25f, 99, 3, n, d);
    omp_set_num_threads(2);
    nn_dropout_forward(y2, k2, x, 0.25f, 99, 3, n, d);
    cr_assert(!memcmp(k1, k2, n * d) && !memcmp(y1, y2, n * d * sizeof *y1));
    nn_dropout_forward(y2, k3, x, 0.25f, 99, 4, n, d);
    cr_assert(memcmp(k1, k3, n * d), "another stream gives another mask");
    size_t kept = 0;
    for (size_t i = 0; i < n * d; i++) {
        kept += k1[i];
        cr_assert(k1[i] ? y1[i] == 1.0f / 0.75f : y1[i] == 0.0f);
    }
    double frac = (double)kept / (double)(n * d);
    cr_assert(fabs(frac - 0.75) < 0.02, "kept %.4f of the units for p = 0.25", frac);
}

/* ---- losses ------------------------------------------------------------------------------------- */

struct loss_ctx { float *pred, *target, *probs, *work, ls; int *labels; unsigned char *mask; int sym; size_t n, p; };
static double mse_f(void *p)
{
    struct loss_ctx *c = p;
    return nn_mse_forward(c->pred, c->target, c->mask, c->n, c->p);
}
static double ce_f(void *p)
{
    struct loss_ctx *c = p;
    return nn_ce_forward(c->probs, c->pred, c->labels, 0.1f, c->n, c->p);
}
static double nce_f(void *p)
{
    struct loss_ctx *c = p;
    return nn_infonce_forward(c->work, c->pred, c->target, c->ls, c->sym, c->n, c->p);
}

Test(nn, masked_mse_counts_only_masked_rows, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 11, 0);
    unsigned char mask[5] = { 1, 0, 1, 0, 1 };
    struct loss_ctx c = { .n = 5, .p = 3, .mask = mask };
    c.pred = rnd(15, &r, 1), c.target = rnd(15, &r, 1);
    double want = 0;
    for (size_t i = 0; i < 5; i++)
        if (mask[i])
            for (size_t j = 0; j < 3; j++)
                want += pow(c.pred[i * 3 + j] - c.target[i * 3 + j], 2);
    want /= 9.0;
    cr_assert(fabs(mse_f(&c) - want) < 1e-6);
    float *dp = zeros(15);
    nn_mse_backward(dp, c.pred, c.target, c.mask, 1.0f, c.n, c.p);
    for (size_t j = 0; j < 3; j++)
        cr_assert_eq(dp[1 * 3 + j], 0.0f, "an unmasked patch gets no gradient");
    gradcheck("mse dpred", mse_f, &c, c.pred, dp, 15);
    unsigned char none[5] = { 0 };
    cr_assert_eq(nn_mse_forward(c.pred, c.target, none, 5, 3), 0.0f);
}

Test(nn, cross_entropy_with_label_smoothing_matches_formula_and_finite_differences, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 12, 0);
    int labels[4] = { 2, 0, 4, 2 };
    struct loss_ctx c = { .n = 4, .p = 5, .labels = labels };
    c.pred = rnd(20, &r, 2), c.probs = zeros(20);
    double want = 0;
    for (size_t i = 0; i < 4; i++) {
        double se = 0;
        for (size_t j = 0; j < 5; j++)
            se += exp(c.pred[i * 5 + j]);
        for (size_t j = 0; j < 5; j++) {
            double t = 0.1 / 5 + ((int)j == labels[i] ? 0.9 : 0.0);
            want -= t * (c.pred[i * 5 + j] - log(se));
        }
    }
    want /= 4;
    cr_assert(fabs(ce_f(&c) - want) < 1e-6, "ce %.9g want %.9g", ce_f(&c), want);
    float *dl = zeros(20);
    nn_ce_backward(dl, c.probs, c.labels, 0.1f, 1.0f, c.n, c.p);
    gradcheck("ce dlogits", ce_f, &c, c.pred, dl, 20);
}

static void infonce_case(int sym)
{
    struct mb_rng r;
    mb_rng_seed(&r, 13, (uint64_t)sym);
    struct loss_ctx c = { .n = 5, .p = 4, .sym = sym, .ls = logf(1.0f / 0.2f) };
    c.pred = rnd(20, &r, 1), c.target = rnd(20, &r, 1);
    c.work = zeros(nn_infonce_work(c.n, c.p));
    float *du = zeros(20), *dv = zeros(20), dls = 0.0f;
    nce_f(&c);
    nn_infonce_backward(du, dv, &dls, c.work, c.ls, c.sym, 1.0f, c.n, c.p);
    gradcheck("infonce du", nce_f, &c, c.pred, du, 20);
    gradcheck("infonce dv", nce_f, &c, c.target, dv, 20);
    gradcheck("infonce dlog_scale", nce_f, &c, &c.ls, &dls, 1);
}

Test(nn, infonce_backward_matches_finite_differences, .fini = free_tracked) { infonce_case(0); infonce_case(1); }

Test(nn, infonce_of_matched_pairs_is_below_chance_and_temperature_clamps_as_clip, .fini = free_tracked)
{
    float u[3 * 2] = { 1, 0, 0, 1, -1, 0.1f }, work[64];
    cr_assert(nn_infonce_work(3, 2) <= 64);
    float l = nn_infonce_forward(work, u, u, logf(10.0f), 1, 3, 2);
    cr_assert(l < logf(3.0f), "aligned pairs %.4f vs chance %.4f", l, logf(3.0f));
    float s = 7.0f;
    nn_infonce_clamp(&s);
    cr_assert(fabs(s - logf(100.0f)) < 1e-6);
    s = -1.0f;
    nn_infonce_clamp(&s);
    cr_assert_eq(s, 0.0f);
}

/* ---- optimiser, schedule, clipping ---------------------------------------------------------------- */

Test(nn, adamw_steps_match_hand_computation, .fini = free_tracked)
{
    struct nn_params p = NN_PARAMS_INIT;
    float *w, *b, *gw, *gb;
    cr_assert_geq(nn_params_add(&p, "w", 1, 1, (size_t[]){ 2 }, &w, &gw), 0);
    cr_assert_geq(nn_params_add(&p, "b", 0, 1, (size_t[]){ 1 }, &b, &gb), 0);
    cr_assert_eq(nn_params_alloc(&p), MB_OK);
    cr_assert_eq(b - w, 16, "tensors start on 64-byte boundaries");
    w[0] = 1.0f, w[1] = -2.0f, b[0] = 1.0f;
    gw[0] = 0.5f, gw[1] = 0.1f, gb[0] = -0.25f;
    struct nn_adamw o = { 0.9f, 0.999f, 1e-8f, 0.01f };
    nn_adamw_step(&p, &o, 0.1f, 1);
    /* step 1: m^ = g, v^ = g^2, so the update is lr * g / (|g| + eps) after decay 1 - lr wd */
    cr_assert(fabs(w[0] - (1.0 * 0.999 - 0.1 * 0.5 / (0.5 + 1e-8))) < 1e-6, "w0 %.9g", w[0]);
    cr_assert(fabs(w[1] - (-2.0 * 0.999 - 0.1 * 0.1 / (0.1 + 1e-8))) < 1e-6, "w1 %.9g", w[1]);
    cr_assert(fabs(b[0] - 1.1) < 1e-6, "no decay on b: %.9g", b[0]);
    /* step 2 with another gradient, by the formulas in double */
    double m = 0.1 * 0.5, v = 0.001 * 0.25, g2 = -0.3, wd0 = w[0];
    gw[0] = (float)g2;
    nn_adamw_step(&p, &o, 0.05f, 2);
    m = 0.9 * m + 0.1 * g2;
    v = 0.999 * v + 0.001 * g2 * g2;
    double want = wd0 * (1 - 0.05 * 0.01) - 0.05 * (m / (1 - 0.81)) / (sqrt(v / (1 - 0.998001)) + 1e-8);
    cr_assert(fabs(w[0] - want) < 1e-6, "step 2: %.9g want %.9g", w[0], want);
    nn_params_release(&p);
}

Test(nn, cosine_schedule_with_warmup_values, .fini = free_tracked)
{
    cr_assert(fabsf(nn_lr_cosine(0, 10, 110, 1e-3f, 1e-5f) - 1e-4f) < 1e-9f);
    cr_assert(fabsf(nn_lr_cosine(9, 10, 110, 1e-3f, 1e-5f) - 1e-3f) < 1e-9f);
    cr_assert(fabsf(nn_lr_cosine(10, 10, 110, 1e-3f, 1e-5f) - 1e-3f) < 1e-9f);
    /* half-way through the cosine (step 10 + 99/2) the rate is the mean */
    float mid = 0.5f * (nn_lr_cosine(59, 10, 110, 1e-3f, 1e-5f) + nn_lr_cosine(60, 10, 110, 1e-3f, 1e-5f));
    cr_assert(fabsf(mid - 0.505e-3f) < 2e-7f, "mid %.9g", mid);
    cr_assert(fabsf(nn_lr_cosine(109, 10, 110, 1e-3f, 1e-5f) - 1e-5f) < 1e-9f);
    cr_assert(fabsf(nn_lr_cosine(500, 10, 110, 1e-3f, 1e-5f) - 1e-5f) < 1e-9f);
    for (long s = 10; s < 109; s++)
        cr_assert(nn_lr_cosine(s + 1, 10, 110, 1e-3f, 1e-5f) <= nn_lr_cosine(s, 10, 110, 1e-3f, 1e-5f));
}

Test(nn, global_norm_clipping, .fini = free_tracked)
{
    float g[3] = { 3.0f, 0.0f, 4.0f };
    cr_assert(fabsf(nn_clip_grad_norm(g, 3, 10.0f) - 5.0f) < 1e-6f);
    cr_assert(g[0] == 3.0f && g[2] == 4.0f, "under the limit nothing changes");
    cr_assert(fabsf(nn_clip_grad_norm(g, 3, 1.0f) - 5.0f) < 1e-6f);
    cr_assert(fabsf(g[0] - 0.6f) < 1e-6f && fabsf(g[2] - 0.8f) < 1e-6f, "%g %g", g[0], g[2]);
    size_t n = 1000;
    float *big = zeros(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (float)((int)(i % 7) - 3);
    double want = 0;
    for (size_t i = 0; i < n; i++)
        want += (double)big[i] * big[i];
    cr_assert(fabs(nn_clip_grad_norm(big, n, 1e9f) - sqrt(want)) < 1e-3);
}

/* ---- parameter table and checkpoint --------------------------------------------------------------- */

/* A model names each tensor once, where it lays it out, with the views it
 * wants pointed at it: after allocation they are the tensor's slices of the
 * parameter and gradient blocks, and the table no longer holds the caller's
 * addresses (the struct that owns the views may move). */
Test(nn, params_alloc_points_the_views_given_at_add, .fini = free_tracked)
{
    struct nn_params p = NN_PARAMS_INIT;
    float *a = NULL, *ga = NULL, *c = NULL;
    cr_assert_eq(nn_params_add(&p, "a", 1, 2, (size_t[]){ 3, 5 }, &a, &ga), 0);
    cr_assert_eq(nn_params_add(&p, "b", 0, 1, (size_t[]){ 7 }, NULL, NULL), 1);
    cr_assert_eq(nn_params_add(&p, "c", 0, 1, (size_t[]){ 2 }, &c, NULL), 2);
    cr_assert_null(a, "no view before the blocks exist");
    cr_assert_eq(nn_params_alloc(&p), MB_OK);
    cr_assert_eq(a, p.data + p.t[0].offset);
    cr_assert_eq(ga, p.grad + p.t[0].offset);
    cr_assert_eq(c, p.data + p.t[2].offset);
    cr_assert_eq(p.t[2].offset, 32u, "a [15] then b [7], each from a 16-float boundary");
    for (size_t i = 0; i < p.n; i++)
        cr_assert(!p.t[i].view && !p.t[i].gview, "tensor %zu still holds the caller's address", i);
    cr_assert_eq(nn_params_find(&p, "c"), 2);
    cr_assert_eq(nn_params_find(&p, "d"), -1);
    nn_params_release(&p);
}

static void ckpt_layout(struct nn_params *p, size_t last)
{
    cr_assert_geq(nn_params_add(p, "a.w", 1, 2, (size_t[]){ 3, 5 }, NULL, NULL), 0);
    cr_assert_geq(nn_params_add(p, "a.b", 0, 1, (size_t[]){ 3 }, NULL, NULL), 0);
    cr_assert_geq(nn_params_add(p, "c", 1, 3, (size_t[]){ 2, 2, last }, NULL, NULL), 0);
    cr_assert_eq(nn_params_alloc(p), MB_OK);
}

Test(nn, checkpoint_round_trip_and_layout_check, .fini = free_tracked)
{
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/model.h5", dir);
    struct nn_params p = NN_PARAMS_INIT, q = NN_PARAMS_INIT, bad = NN_PARAMS_INIT;
    ckpt_layout(&p, 7);
    cr_assert_lt(nn_params_add(&p, "late", 0, 1, (size_t[]){ 1 }, NULL, NULL), 0, "no tensor after allocation");
    struct mb_rng r;
    mb_rng_seed(&r, 14, 0);
    nn_init_normal(p.data, p.total, 1.0f, &r);
    nn_init_normal(p.m, p.total, 1.0f, &r);
    nn_init_normal(p.v, p.total, 1.0f, &r);
    cr_assert_eq(nn_params_save(&p, path, 123, 1), MB_OK);
    ckpt_layout(&q, 7);
    long step = 0;
    cr_assert_eq(nn_params_load(&q, path, &step, 1), MB_OK, "%s", mb_last_error());
    cr_assert_eq(step, 123);
    cr_assert(!memcmp(p.data, q.data, p.total * sizeof(float)));
    cr_assert(!memcmp(p.m, q.m, p.total * sizeof(float)));
    cr_assert(!memcmp(p.v, q.v, p.total * sizeof(float)));
    ckpt_layout(&bad, 6);
    cr_assert_eq(nn_params_load(&bad, path, NULL, 0), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "'c'") && strstr(mb_last_error(), "model.h5"), "%s", mb_last_error());
    /* same sizes, another rank: [2 x 2 x 7] saved, [2 x 2 x 7 x 1] expected */
    struct nn_params rank = NN_PARAMS_INIT;
    cr_assert_geq(nn_params_add(&rank, "a.w", 1, 2, (size_t[]){ 3, 5 }, NULL, NULL), 0);
    cr_assert_geq(nn_params_add(&rank, "a.b", 0, 1, (size_t[]){ 3 }, NULL, NULL), 0);
    cr_assert_geq(nn_params_add(&rank, "c", 1, 4, (size_t[]){ 2, 2, 7, 1 }, NULL, NULL), 0);
    cr_assert_eq(nn_params_alloc(&rank), MB_OK);
    cr_assert_eq(nn_params_load(&rank, path, NULL, 0), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "dimensions"), "%s", mb_last_error());
    nn_params_release(&rank);
    /* an HDF5 file that is not a checkpoint */
    char other[160];
    snprintf(other, sizeof other, "%s/other.h5", dir);
    hid_t f = H5Fcreate(other, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    H5Fclose(f);
    cr_assert_eq(nn_params_load(&q, other, NULL, 0), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "not a myobench checkpoint"), "%s", mb_last_error());
    remove(other);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none.h5", dir);
    cr_assert_eq(nn_params_load(&q, missing, NULL, 0), MB_EIO);
    /* without moments the file has none to load */
    cr_assert_eq(nn_params_save(&p, path, 5, 0), MB_OK);
    cr_assert_eq(nn_params_load(&q, path, NULL, 1), MB_EFORMAT);
    remove(path);
    rmdir(dir);
    nn_params_release(&p);
    nn_params_release(&q);
    nn_params_release(&bad);
}

/* ---- the tiny model (mirrors tests/ref/gen_nn_ref.py) ---------------------------------------------- */

enum { TB = 8, TT = 20, TC = 3, TP = 5, TNP = TT / TP, TD = 32, TH = 4, TF = 64, TL = 2, TK = 5 };

/* gen_nn_ref.py's uhash(): a multiple of 2^-23 in [-1, 1), exact in float */
static float tiny_u(uint32_t e, uint32_t i)
{
    uint32_t h = e * 0x9E3779B1u + i * 0x85EBCA77u + 0x1234567u;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    h *= 0x297A2D39u;
    h ^= h >> 15;
    return (float)((double)(h >> 8) * 0x1p-23 - 1.0);
}

struct tiny {
    struct nn_params p;
    float *ew, *eb, *pos, *lnw, *lnb, *hw, *hb;          /* views: embed, pos, ln_f, head */
    float *gew, *geb, *gpos, *glnw, *glnb, *ghw, *ghb;   /* their gradients */
    struct nn_block_w blk[TL], gblk[TL];
    struct nn_block_act act[TL], dact;
    float *x, *emb, *h[TL + 1], *lnf, *lnf_mean, *lnf_rstd, *pooled, *logits, *probs;
    float *dh[TL + 1], *dlnf, *dpooled, *dlogits;
    int labels[TB];
};

static void tiny_init(struct tiny *m)
{
    memset(m, 0, sizeof *m);
    struct nn_params *p = &m->p;
    cr_assert_geq(nn_params_add(p, "embed.w", 1, 2, (size_t[]){ TD, TP * TC }, &m->ew, &m->gew), 0);
    cr_assert_geq(nn_params_add(p, "embed.b", 0, 1, (size_t[]){ TD }, &m->eb, &m->geb), 0);
    cr_assert_geq(nn_params_add(p, "pos", 0, 2, (size_t[]){ TNP, TD }, &m->pos, &m->gpos), 0);
    for (int l = 0; l < TL; l++) {
        char pre[32];
        snprintf(pre, sizeof pre, "enc.%d.", l);
        cr_assert_eq(nn_block_add_params(p, pre, TD, TF, &m->blk[l], &m->gblk[l]), MB_OK);
    }
    cr_assert_geq(nn_params_add(p, "ln_f.w", 0, 1, (size_t[]){ TD }, &m->lnw, &m->glnw), 0);
    cr_assert_geq(nn_params_add(p, "ln_f.b", 0, 1, (size_t[]){ TD }, &m->lnb, &m->glnb), 0);
    cr_assert_geq(nn_params_add(p, "head.w", 1, 2, (size_t[]){ TK, TD }, &m->hw, &m->ghw), 0);
    cr_assert_geq(nn_params_add(p, "head.b", 0, 1, (size_t[]){ TK }, &m->hb, &m->ghb), 0);
    cr_assert_eq(nn_params_alloc(p), MB_OK);
    for (size_t e = 0; e < p->n; e++) {
        const struct nn_param *t = &p->t[e];
        float *v = p->data + t->offset;
        size_t len = strlen(t->name);
        int ln_w = len >= 5 && (!strcmp(t->name + len - 5, "ln1.w") || !strcmp(t->name + len - 5, "ln2.w") ||
                                !strcmp(t->name, "ln_f.w"));
        float scale = t->ndim == 2 ? 1.0f / sqrtf((float)t->shape[1]) : 0.1f;
        for (size_t i = 0; i < t->size; i++) {
            float u = tiny_u((uint32_t)e, (uint32_t)i);
            v[i] = ln_w ? 1.0f + 0.1f * u : u * scale;
        }
    }
    for (int l = 0; l < TL; l++)
        cr_assert_eq(nn_block_act_alloc(&m->act[l], TB, TNP, TD, TF, TH), MB_OK);
    cr_assert_eq(nn_block_act_alloc(&m->dact, TB, TNP, TD, TF, TH), MB_OK);
    size_t n = TB * TNP;
    m->x = zeros(TB * TT * TC);
    for (size_t i = 0; i < TB * TT * TC; i++)
        m->x[i] = tiny_u(1000, (uint32_t)i);
    for (int i = 0; i < TB; i++)
        m->labels[i] = (3 * i + 1) % TK;
    m->emb = zeros(n * TD);
    for (int l = 0; l <= TL; l++) {
        m->h[l] = zeros(n * TD);
        m->dh[l] = zeros(n * TD);
    }
    m->lnf = zeros(n * TD), m->lnf_mean = zeros(n), m->lnf_rstd = zeros(n), m->dlnf = zeros(n * TD);
    m->pooled = zeros(TB * TD), m->dpooled = zeros(TB * TD);
    m->logits = zeros(TB * TK), m->probs = zeros(TB * TK), m->dlogits = zeros(TB * TK);
}

static void tiny_free(struct tiny *m)
{
    /* the activation buffers came from zeros(): free_tracked takes them */
    for (int l = 0; l < TL; l++)
        nn_block_act_release(&m->act[l]);
    nn_block_act_release(&m->dact);
    nn_params_release(&m->p);
}

/* forward + backward of one batch; returns the loss, leaves gradients in p.grad */
static float tiny_step(struct tiny *m)
{
    struct nn_params *p = &m->p;
    size_t n = TB * TNP;
    nn_params_zero_grad(p);
    nn_patch_embed_forward(m->emb, m->x, m->ew, m->eb,
                           TB, TT, TC, TP, TD);
    nn_pos_embed_forward(m->h[0], m->emb, m->pos, TB, TNP, TD);
    for (int l = 0; l < TL; l++)
        nn_block_forward(m->h[l + 1], &m->act[l], &m->blk[l], m->h[l], NULL, NULL, TB, TNP, TD, TF, TH);
    nn_layernorm_forward(m->lnf, m->lnf_mean, m->lnf_rstd, m->h[TL], m->lnw,
                         m->lnb, n, TD);
    nn_mean_pool_forward(m->pooled, m->lnf, NULL, TB, TNP, TD);
    nn_linear_forward(m->logits, m->pooled, m->hw, m->hb, TB, TD, TK);
    float loss = nn_ce_forward(m->probs, m->logits, m->labels, 0.0f, TB, TK);

    memset(m->dlogits, 0, TB * TK * sizeof(float));
    memset(m->dpooled, 0, TB * TD * sizeof(float));
    memset(m->dlnf, 0, n * TD * sizeof(float));
    for (int l = 0; l <= TL; l++)
        memset(m->dh[l], 0, n * TD * sizeof(float));
    nn_ce_backward(m->dlogits, m->probs, m->labels, 0.0f, 1.0f, TB, TK);
    nn_linear_backward(m->dpooled, m->ghw, m->ghb, m->dlogits,
                       m->pooled, m->hw, TB, TD, TK);
    nn_mean_pool_backward(m->dlnf, m->dpooled, NULL, TB, TNP, TD);
    nn_layernorm_backward(m->dh[TL], m->glnw, m->glnb, m->dlnf,
                          m->h[TL], m->lnf_mean, m->lnf_rstd, m->lnw, n, TD);
    for (int l = TL - 1; l >= 0; l--)
        nn_block_backward(m->dh[l], &m->gblk[l], &m->dact, m->dh[l + 1], &m->act[l], &m->blk[l], m->h[l],
                          TB, TNP, TD, TF, TH);
    float *demb = m->dlnf;   // reused: same size, no longer needed
    memset(demb, 0, n * TD * sizeof(float));
    nn_pos_embed_backward(demb, m->gpos, m->dh[0], TB, TNP, TD);
    nn_patch_embed_backward(NULL, m->gew, m->geb, demb, m->x,
                            m->ew, TB, TT, TC, TP, TD);
    return loss;
}

static double tiny_loss(void *ctx)
{
    struct tiny *m = ctx;
    return tiny_step(m);
}

Test(nn, transformer_block_backward_matches_finite_differences, .fini = free_tracked)
{
    struct tiny m;
    tiny_init(&m);
    tiny_step(&m);
    float *g = malloc(m.p.total * sizeof(float));
    memcpy(g, m.p.grad, m.p.total * sizeof(float));
    /* one tensor of each kind in the block, plus the ends of the model */
    const char *names[] = { "enc.0.ln1.w", "enc.0.attn.wq", "enc.0.attn.bk", "enc.0.attn.wv", "enc.1.attn.wo",
                            "enc.1.ln2.b", "enc.1.ffn.w1", "enc.0.ffn.b2", "embed.w", "pos", "ln_f.w", "head.w" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int e = nn_params_find(&m.p, names[i]);
        cr_assert_geq(e, 0);
        const struct nn_param *t = &m.p.t[e];
        gradcheck(names[i], tiny_loss, &m, m.p.data + t->offset, g + t->offset, t->size);
    }
    free(g);
    tiny_free(&m);
}

Test(nn, forward_backward_bit_identical_for_1_and_2_threads, .fini = free_tracked)
{
    struct tiny a, b;
    tiny_init(&a);
    tiny_init(&b);
    omp_set_num_threads(1);
    float la = tiny_step(&a);
    omp_set_num_threads(2);
    float lb = tiny_step(&b);
    cr_assert_eq(la, lb);
    cr_assert(!memcmp(a.p.grad, b.p.grad, a.p.total * sizeof(float)), "gradients differ");
    cr_assert(!memcmp(a.h[TL], b.h[TL], TB * TNP * TD * sizeof(float)), "block outputs differ");
    cr_assert(!memcmp(a.dh[0], b.dh[0], TB * TNP * TD * sizeof(float)), "input gradients differ");
    tiny_free(&a);
    tiny_free(&b);
}

Test(nn, tiny_model_loss_curve_matches_pytorch, .fini = free_tracked)
{
    struct tiny m;
    tiny_init(&m);
    struct nn_adamw o = { 0.9f, 0.999f, 1e-8f, 0.05f };
    for (long s = 0; s < NN_REF_STEPS; s++) {
        float loss = tiny_step(&m);
        float norm = nn_clip_grad_norm(m.p.grad, m.p.total, 1.0f);
        nn_adamw_step(&m.p, &o, nn_lr_cosine(s, 3, NN_REF_STEPS, 1e-2f, 1e-3f), s + 1);
        /* float32 on both sides with different summation orders: measured
         * agreement is 1e-6 relative or better over the 10 steps; 2e-5
         * leaves room for other BLAS kernels and still catches any wrong
         * gradient, schedule or optimiser term */
        cr_assert(fabs(loss - nn_ref_loss[s]) <= 2e-5 * nn_ref_loss[s],
                  "step %ld: loss %.9g, PyTorch %.9g", s, loss, nn_ref_loss[s]);
        cr_assert(fabs(norm - nn_ref_gnorm[s]) <= 2e-5 * nn_ref_gnorm[s],
                  "step %ld: gradient norm %.9g, PyTorch %.9g", s, norm, nn_ref_gnorm[s]);
    }
    tiny_free(&m);
}
