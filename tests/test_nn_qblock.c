/* tests/test_nn_qblock.c - the transformer block with cross-attention
 * (BLIP-2's Q-Former block, EMBridge's bridge; kernels/nn/nn_block.h):
 * gradients by finite differences for the input, the memory and every
 * tensor, the block without a memory equal to the plain block bit for bit,
 * thread-count invariance, and the two passes sharing weights that
 * EMBridge's step makes. Suite `nn`, so make test reruns it under the other
 * OpenBLAS kernels. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "kernels/nn/nn.h"
#include "kernels/nn/nn_block.h"
#include "kernels/nn/nn_param.h"

/* The brief's small sizes: odd enough that a transposed index shows. */
enum { QB = 2, QT = 3, QTM = 4, QD = 8, QDM = 6, QF = 12, QH = 2 };
/* The two-pass case: pass 2 runs [pass 1's T queries ; QP pose tokens]. */
enum { QP = 2, QT2 = QT + QP };

/* ---- helpers ----------------------------------------------------------------- */

static void *tracked[64];
static size_t ntracked;
static void *track(void *p)
{
    cr_assert(p && ntracked < sizeof tracked / sizeof tracked[0]);
    tracked[ntracked++] = p;
    return p;
}
static float *rnd(size_t n, struct mb_rng *r, float a)
{
    float *v = track(malloc(n * sizeof *v));
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((2.0 * mb_rng_uniform(r) - 1.0) * a);
    return v;
}
static float *zeros(size_t n) { return track(calloc(n, sizeof(float))); }
static double dotd(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* Central differences of f() against the analytic g, as tests/test_nn.c's
 * gradcheck (same eps and tolerances; at most ~60 elements per tensor). */
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

/* ---- one block with cross-attention, its inputs and masks ------------------------ */

struct qb {
    struct nn_params p;
    struct nn_block_w w, g;
    struct nn_block_cross_w cw, cg;
    struct nn_block_act a, da;          /* pass 1 (and the backward's scratch, sized for QT2) */
    struct nn_block_cross_act ca, dca;
    struct nn_block_act a2;             /* pass 2 of the two-pass case */
    float *x;                           /* [QB x QT x QD] */
    float *mem;                         /* [QB x QTM x QDM] */
    float *pose;                        /* [QB x QP x QD] pass 2's other tokens */
    float *out, *r;                     /* [QB x QT x QD] output, loss weights */
    float *x2, *out2, *r2;              /* [QB x QT2 x QD] pass 2 */
    float *dx, *dmem, *dx2, *dpose;     /* gradients */
    float amask[QT * QT];               /* self-attention, additive */
    float amask2[QT2 * QT2];            /* pass 2: queries do not see pose tokens */
    unsigned char kpad[QB * QT];
    unsigned char mkpad[QB * QTM];
    int use_amask, use_kpad;
};

static void qb_init(struct qb *m, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    cr_assert_geq(nn_block_add_params(&m->p, "q.0.", QD, QF, &m->w, &m->g), 0);
    cr_assert_geq(nn_block_add_cross_params(&m->p, "q.0.", QD, QDM, &m->cw, &m->cg), 0);
    cr_assert_eq(nn_params_alloc(&m->p), MB_OK);
    struct mb_rng r;
    mb_rng_seed(&r, 15, seed);
    nn_block_init(&m->w, QD, QF, &r);
    nn_block_cross_init(&m->cw, QD, QDM, &r);
    /* away from the initial values' symmetries (zero biases, unit norms),
     * where a gradient bug could hide behind a zero */
    for (size_t i = 0; i < m->p.total; i++)
        m->p.data[i] += (float)((2.0 * mb_rng_uniform(&r) - 1.0) * 0.2);
    cr_assert_eq(nn_block_act_alloc(&m->a, QB, QT, QD, QF, QH), MB_OK);
    cr_assert_eq(nn_block_act_alloc(&m->da, QB, QT2, QD, QF, QH), MB_OK);
    cr_assert_eq(nn_block_act_alloc(&m->a2, QB, QT2, QD, QF, QH), MB_OK);
    cr_assert_eq(nn_block_cross_act_alloc(&m->ca, QB, QT, QTM, QD, QH), MB_OK);
    cr_assert_eq(nn_block_cross_act_alloc(&m->dca, QB, QT, QTM, QD, QH), MB_OK);
    m->x = rnd(QB * QT * QD, &r, 1);
    m->mem = rnd(QB * QTM * QDM, &r, 1);
    m->pose = rnd(QB * QP * QD, &r, 1);
    m->out = zeros(QB * QT * QD), m->r = rnd(QB * QT * QD, &r, 1);
    m->x2 = zeros(QB * QT2 * QD), m->out2 = zeros(QB * QT2 * QD), m->r2 = rnd(QB * QT2 * QD, &r, 1);
    m->dx = zeros(QB * QT * QD), m->dmem = zeros(QB * QTM * QDM);
    m->dx2 = zeros(QB * QT2 * QD), m->dpose = zeros(QB * QP * QD);
    /* finite additive values, and one forbidden pair */
    for (size_t i = 0; i < QT * QT; i++)
        m->amask[i] = (float)(2.0 * mb_rng_uniform(&r) - 1.0);
    m->amask[0 * QT + 2] = -INFINITY;
    /* sequence 1's last token and one memory token of each sequence are padding */
    m->kpad[1 * QT + 2] = 1;
    m->mkpad[0 * QTM + 3] = 1;
    m->mkpad[1 * QTM + 0] = 1;
    /* EMBridge's MPRL mask: query -> query and pose -> anything allowed,
     * query -> pose blocked */
    for (size_t i = 0; i < QT2; i++)
        for (size_t j = 0; j < QT2; j++)
            m->amask2[i * QT2 + j] = i < QT && j >= QT ? -INFINITY : 0.0f;
    m->use_amask = m->use_kpad = 1;
}

static void qb_free(struct qb *m)
{
    nn_block_act_release(&m->a);
    nn_block_act_release(&m->da);
    nn_block_act_release(&m->a2);
    nn_block_cross_act_release(&m->ca);
    nn_block_cross_act_release(&m->dca);
    nn_params_release(&m->p);
    while (ntracked)
        free(tracked[--ntracked]);
}

static void qb_forward(struct qb *m)
{
    nn_block_xforward(m->out, &m->a, &m->ca, &m->w, &m->cw, m->x, m->mem, m->use_kpad ? m->kpad : NULL,
                      m->use_amask ? m->amask : NULL, m->mkpad, QB, QT, QTM, QD, QDM, QF, QH);
}

/* loss = <out, r>: every output element reaches the loss with its own weight */
static double qb_loss(void *ctx)
{
    struct qb *m = ctx;
    qb_forward(m);
    return dotd(m->out, m->r, QB * QT * QD);
}

static void qb_backward(struct qb *m)
{
    nn_params_zero_grad(&m->p);
    memset(m->dx, 0, QB * QT * QD * sizeof(float));
    memset(m->dmem, 0, QB * QTM * QDM * sizeof(float));
    qb_forward(m);
    nn_block_xbackward(m->dx, m->dmem, &m->g, &m->cg, &m->da, &m->dca, m->r, &m->a, &m->ca, &m->w, &m->cw, m->x,
                       m->mem, QB, QT, QTM, QD, QDM, QF, QH);
}

/* every tensor of the block, the input and the memory */
static void qb_check_all(struct qb *m, double (*f)(void *), int with_pose)
{
    float *g = track(malloc(m->p.total * sizeof(float)));
    memcpy(g, m->p.grad, m->p.total * sizeof(float));
    cr_assert_eq(m->p.n, 26, "16 block tensors + 10 cross-attention tensors");
    for (size_t i = 0; i < m->p.n; i++) {
        const struct nn_param *t = &m->p.t[i];
        gradcheck(t->name, f, m, m->p.data + t->offset, g + t->offset, t->size);
    }
    gradcheck("x", f, m, m->x, m->dx, QB * QT * QD);
    gradcheck("mem", f, m, m->mem, m->dmem, QB * QTM * QDM);
    if (with_pose)
        gradcheck("pose", f, m, m->pose, m->dpose, QB * QP * QD);
}

Test(nn, qblock_cross_params_are_named_and_shaped_as_documented)
{
    struct qb m;
    qb_init(&m, 1);
    static const char *const names[] = { "q.0.lnc.w", "q.0.lnc.b", "q.0.cross.wq", "q.0.cross.bq", "q.0.cross.wk",
                                         "q.0.cross.bk", "q.0.cross.wv", "q.0.cross.bv", "q.0.cross.wo", "q.0.cross.bo" };
    static const size_t rows[] = { QD, QD, QD, QD, QD, QD, QD, QD, QD, QD };
    static const size_t cols[] = { 0, 0, QD, 0, QDM, 0, QDM, 0, QD, 0 };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int e = nn_params_find(&m.p, names[i]);
        cr_assert_geq(e, 16, "%s registered after the block's 16 tensors", names[i]);
        const struct nn_param *t = &m.p.t[e];
        cr_assert_eq(t->ndim, cols[i] ? 2 : 1, "%s", names[i]);
        cr_assert_eq(t->shape[0], rows[i], "%s", names[i]);
        if (cols[i])
            cr_assert_eq(t->shape[1], cols[i], "%s", names[i]);
        cr_assert_eq(t->decay, cols[i] ? 1 : 0, "%s: matrices decay, vectors do not", names[i]);
    }
    /* the initialiser's rule, before qb_init's noise: check it on a fresh draw */
    struct mb_rng r;
    mb_rng_seed(&r, 3, 0);
    nn_block_cross_init(&m.cw, QD, QDM, &r);
    for (size_t i = 0; i < QD; i++) {
        cr_assert_eq(m.cw.lnc_w[i], 1.0f);
        cr_assert_eq(m.cw.lnc_b[i], 0.0f);
        cr_assert_eq(m.cw.attn.bk[i], 0.0f);
    }
    float bk = 1.0f / sqrtf((float)QDM), bq = 1.0f / sqrtf((float)QD);
    for (size_t i = 0; i < QD * QDM; i++)
        cr_assert(fabsf(m.cw.attn.wk[i]) <= bk && fabsf(m.cw.attn.wv[i]) <= bk, "wk, wv: U(+-1/sqrt(Dm))");
    for (size_t i = 0; i < QD * QD; i++)
        cr_assert(fabsf(m.cw.attn.wq[i]) <= bq, "wq: U(+-1/sqrt(D))");
    qb_free(&m);
}

Test(nn, qblock_backward_matches_finite_differences_with_masks)
{
    struct qb m;
    qb_init(&m, 2);
    qb_backward(&m);
    /* a padded memory token gets no gradient */
    for (size_t c = 0; c < QDM; c++)
        cr_assert_eq(m.dmem[(0 * QTM + 3) * QDM + c], 0.0f);
    qb_check_all(&m, qb_loss, 0);
    qb_free(&m);
}

/* The plain block written out from its layers, in nn_block_forward's order
 * of operations before cross-attention existed; with cw and mem it inserts
 * the cross-attention sub-layer. a, ca: activations to use as buffers. */
static void ref_forward(float *out, struct nn_block_act *a, struct nn_block_cross_act *ca, const struct nn_block_w *w,
                        const struct nn_block_cross_w *cw, const float *x, const float *mem,
                        const unsigned char *kpad, const float *amask, const unsigned char *mkpad)
{
    size_t n = QB * QT;
    nn_layernorm_forward(a->ln1, a->ln1_mean, a->ln1_rstd, x, w->ln1_w, w->ln1_b, n, QD);
    nn_mha_forward(a->attn_out, &a->attn, &w->attn, a->ln1, a->ln1, kpad, amask, QB, QT, QT, QD, QD, QH);
    for (size_t i = 0; i < n * QD; i++)
        a->res1[i] = x[i] + a->attn_out[i];
    const float *r = a->res1;
    if (cw && mem) {
        nn_layernorm_forward(ca->lnc, ca->lnc_mean, ca->lnc_rstd, a->res1, cw->lnc_w, cw->lnc_b, n, QD);
        nn_mha_forward(ca->attn_out, &ca->attn, &cw->attn, ca->lnc, mem, mkpad, NULL, QB, QT, QTM, QD, QDM, QH);
        for (size_t i = 0; i < n * QD; i++)
            ca->res2[i] = a->res1[i] + ca->attn_out[i];
        r = ca->res2;
    }
    nn_layernorm_forward(a->ln2, a->ln2_mean, a->ln2_rstd, r, w->ln2_w, w->ln2_b, n, QD);
    nn_linear_forward(a->h1, a->ln2, w->w1, w->b1, n, QD, QF);
    nn_gelu_forward(a->g1, a->h1, n * QF);
    nn_linear_forward(out, a->g1, w->w2, w->b2, n, QF, QD);
    for (size_t i = 0; i < n * QD; i++)
        out[i] += r[i];
}

Test(nn, qblock_without_memory_is_the_plain_block_bit_for_bit)
{
    struct qb m;
    qb_init(&m, 3);
    size_t no = QB * QT * QD, ng = m.p.total;
    float *o_plain = zeros(no), *o_x = zeros(no), *o_ref = zeros(no), *o_nocw = zeros(no);
    nn_block_forward(o_plain, &m.a, &m.w, m.x, m.kpad, m.amask, QB, QT, QD, QF, QH);
    /* cross-attention weights present but no memory: the second pass of EMBridge */
    nn_block_xforward(o_x, &m.a, &m.ca, &m.w, &m.cw, m.x, NULL, m.kpad, m.amask, m.mkpad, QB, QT, QTM, QD, QDM,
                      QF, QH);
    nn_block_xforward(o_nocw, &m.a, NULL, &m.w, NULL, m.x, m.mem, m.kpad, m.amask, m.mkpad, QB, QT, QTM, QD, QDM,
                      QF, QH);
    struct nn_block_act ra;
    cr_assert_eq(nn_block_act_alloc(&ra, QB, QT, QD, QF, QH), MB_OK);
    ref_forward(o_ref, &ra, NULL, &m.w, NULL, m.x, NULL, m.kpad, m.amask, NULL);
    cr_assert(!memcmp(o_plain, o_ref, no * sizeof(float)), "nn_block_forward is not its layers' composition");
    cr_assert(!memcmp(o_x, o_plain, no * sizeof(float)), "mem == NULL differs from nn_block_forward");
    cr_assert(!memcmp(o_nocw, o_plain, no * sizeof(float)), "cw == NULL differs from nn_block_forward");

    /* backward: nn_block_backward against xbackward given cw but no memory */
    float *g_plain = zeros(ng), *dx_plain = zeros(no), *dmem = zeros(QB * QTM * QDM);
    nn_params_zero_grad(&m.p);
    nn_block_forward(o_plain, &m.a, &m.w, m.x, m.kpad, m.amask, QB, QT, QD, QF, QH);
    nn_block_backward(dx_plain, &m.g, &m.da, m.r, &m.a, &m.w, m.x, QB, QT, QD, QF, QH);
    memcpy(g_plain, m.p.grad, ng * sizeof(float));
    nn_params_zero_grad(&m.p);
    memset(m.dx, 0, no * sizeof(float));
    nn_block_xforward(o_x, &m.a, &m.ca, &m.w, &m.cw, m.x, NULL, m.kpad, m.amask, m.mkpad, QB, QT, QTM, QD, QDM,
                      QF, QH);
    nn_block_xbackward(m.dx, dmem, &m.g, &m.cg, &m.da, &m.dca, m.r, &m.a, &m.ca, &m.w, &m.cw, m.x, NULL, QB, QT,
                       QTM, QD, QDM, QF, QH);
    cr_assert(!memcmp(m.dx, dx_plain, no * sizeof(float)), "dx differs without a memory");
    cr_assert(!memcmp(m.p.grad, g_plain, ng * sizeof(float)), "parameter gradients differ without a memory");
    for (size_t i = 0; i < QB * QTM * QDM; i++)
        cr_assert_eq(dmem[i], 0.0f, "no memory, no memory gradient");
    for (size_t i = 16; i < m.p.n; i++) {
        const struct nn_param *t = &m.p.t[i];
        for (size_t k = 0; k < t->size; k++)
            cr_assert_eq(m.p.grad[t->offset + k], 0.0f, "%s: gradient without cross-attention", t->name);
    }

    /* with a memory, the block is its layers with the sub-layer inserted */
    struct nn_block_cross_act rca;
    cr_assert_eq(nn_block_cross_act_alloc(&rca, QB, QT, QTM, QD, QH), MB_OK);
    ref_forward(o_ref, &ra, &rca, &m.w, &m.cw, m.x, m.mem, m.kpad, m.amask, m.mkpad);
    nn_block_xforward(o_x, &m.a, &m.ca, &m.w, &m.cw, m.x, m.mem, m.kpad, m.amask, m.mkpad, QB, QT, QTM, QD, QDM,
                      QF, QH);
    cr_assert(!memcmp(o_x, o_ref, no * sizeof(float)), "xforward with a memory is not its layers' composition");
    cr_assert(memcmp(o_x, o_plain, no * sizeof(float)), "the memory changed nothing");
    nn_block_cross_act_release(&rca);
    nn_block_act_release(&ra);
    qb_free(&m);
}

Test(nn, qblock_forward_backward_bit_identical_for_1_and_2_threads)
{
    struct qb m1, m2;
    qb_init(&m1, 4);
    qb_init(&m2, 4);
    omp_set_num_threads(1);
    qb_backward(&m1);
    omp_set_num_threads(2);
    qb_backward(&m2);
    cr_assert(!memcmp(m1.out, m2.out, QB * QT * QD * sizeof(float)), "outputs differ");
    cr_assert(!memcmp(m1.dx, m2.dx, QB * QT * QD * sizeof(float)), "dx differs");
    cr_assert(!memcmp(m1.dmem, m2.dmem, QB * QTM * QDM * sizeof(float)), "dmem differs");
    cr_assert(!memcmp(m1.p.grad, m2.p.grad, m1.p.total * sizeof(float)), "parameter gradients differ");
    /* qb_free frees every tracked buffer: both models' go with the first */
    nn_block_act_release(&m2.a), nn_block_act_release(&m2.da), nn_block_act_release(&m2.a2);
    nn_block_cross_act_release(&m2.ca), nn_block_cross_act_release(&m2.dca);
    nn_params_release(&m2.p);
    qb_free(&m1);
}

/* ---- two passes sharing the weights (EMBridge's step) ------------------------- */

/* Pass 1: queries x attend to the memory -> out. Pass 2, same weights, no
 * memory: [out ; pose] under amask2 -> out2. loss = <out, r> + <out2, r2>. */
static void two_pass_forward(struct qb *m)
{
    qb_forward(m);
    for (size_t b = 0; b < QB; b++) {
        memcpy(m->x2 + b * QT2 * QD, m->out + b * QT * QD, QT * QD * sizeof(float));
        memcpy(m->x2 + (b * QT2 + QT) * QD, m->pose + b * QP * QD, QP * QD * sizeof(float));
    }
    nn_block_xforward(m->out2, &m->a2, NULL, &m->w, &m->cw, m->x2, NULL, NULL, m->amask2, NULL, QB, QT2, 0, QD, QDM,
                      QF, QH);
}

static double two_pass_loss(void *ctx)
{
    struct qb *m = ctx;
    two_pass_forward(m);
    return dotd(m->out, m->r, QB * QT * QD) + dotd(m->out2, m->r2, QB * QT2 * QD);
}

Test(nn, qblock_two_passes_sharing_weights_match_finite_differences)
{
    struct qb m;
    qb_init(&m, 5);
    nn_params_zero_grad(&m.p);
    two_pass_forward(&m);
    /* pass 2 first: its input gradient splits into pass 1's output and the pose tokens */
    nn_block_xbackward(m.dx2, NULL, &m.g, &m.cg, &m.da, NULL, m.r2, &m.a2, NULL, &m.w, &m.cw, m.x2, NULL, QB, QT2, 0,
                       QD, QDM, QF, QH);
    float *dout1 = zeros(QB * QT * QD);
    for (size_t b = 0; b < QB; b++)
        for (size_t i = 0; i < QT * QD; i++)
            dout1[b * QT * QD + i] = m.r[b * QT * QD + i] + m.dx2[b * QT2 * QD + i];
    for (size_t b = 0; b < QB; b++)
        memcpy(m.dpose + b * QP * QD, m.dx2 + (b * QT2 + QT) * QD, QP * QD * sizeof(float));
    /* then pass 1, accumulating into the same parameter gradients */
    nn_block_xbackward(m.dx, m.dmem, &m.g, &m.cg, &m.da, &m.dca, dout1, &m.a, &m.ca, &m.w, &m.cw, m.x, m.mem, QB, QT,
                       QTM, QD, QDM, QF, QH);
    qb_check_all(&m, two_pass_loss, 1);
    /* the MPRL mask's point: pass 2's query rows do not depend on the pose
     * tokens (only pose rows see them), so the route from the memory to a
     * pose slot goes through the queries */
    float *q2 = zeros(QB * QT2 * QD);
    two_pass_forward(&m);
    memcpy(q2, m.out2, QB * QT2 * QD * sizeof(float));
    for (size_t i = 0; i < QB * QP * QD; i++)
        m.pose[i] += 0.5f;
    two_pass_forward(&m);
    for (size_t b = 0; b < QB; b++)
        cr_assert(!memcmp(q2 + b * QT2 * QD, m.out2 + b * QT2 * QD, QT * QD * sizeof(float)),
                  "a query row of pass 2 depends on the pose tokens");
    qb_free(&m);
}
