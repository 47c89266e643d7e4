/* tests/test_nn_bridge.c - kernels/nn/nn_bridge.c, the query bridge's ops
 * (EMBridge): finite-difference checks of every backward, the cosine
 * logits against InfoNCE, the soft cross-entropy against the hard one,
 * CASCLe's targets by hand, and 1 vs 2 threads bit-identical. Suite 'nn',
 * so that make test reruns it under every OpenBLAS kernel. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "kernels/nn/nn.h"

/* ---- helpers (as tests/test_nn.c) -------------------------------------------------- */

static void *tracked[256];
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

static float *copyf(const float *x, size_t n)
{
    float *v = track(malloc((n ? n : 1) * sizeof *v));
    memcpy(v, x, n * sizeof *v);
    return v;
}

static double dotd(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* Central differences in float with eps 1e-2, relative tolerance with an
 * absolute floor: exactly tests/test_nn.c's gradcheck. */
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

/* ---- query expand ---------------------------------------------------------------------- */

struct qx_ctx { float *q, *out, *r; size_t nb, m, d; };
static double qx_f(void *p)
{
    struct qx_ctx *c = p;
    nn_query_expand_forward(c->out, c->q, c->nb, c->m, c->d);
    return dotd(c->out, c->r, c->nb * c->m * c->d);
}

Test(nn, query_expand_broadcasts_and_backward_sums_the_batch, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 101, 0);
    struct qx_ctx c = { .nb = 3, .m = 4, .d = 5 };
    size_t md = c.m * c.d;
    c.q = rnd(md, &r, 1), c.out = zeros(c.nb * md), c.r = rnd(c.nb * md, &r, 1);
    qx_f(&c);
    for (size_t b = 0; b < c.nb; b++)
        cr_assert(!memcmp(c.out + b * md, c.q, md * sizeof(float)), "batch row %zu is not the query block", b);
    /* accumulates: start from a nonzero gradient */
    float *dq = rnd(md, &r, 1), *dq0 = copyf(dq, md);
    nn_query_expand_backward(dq, c.r, c.nb, c.m, c.d);
    for (size_t i = 0; i < md; i++) {
        float want = dq0[i];
        for (size_t b = 0; b < c.nb; b++)
            want += c.r[b * md + i];
        cr_assert_eq(dq[i], want, "dq[%zu] %.9g, want %.9g", i, dq[i], want);
        dq[i] -= dq0[i];
    }
    gradcheck("query_expand dq", qx_f, &c, c.q, dq, md);
}

/* ---- best query ------------------------------------------------------------------------ */

Test(nn, best_query_compares_cosines_and_ties_go_to_the_lowest_query, .fini = free_tracked)
{
    /* B 2, M 3, E 2. Row 0: query 2 has the largest dot product with v
     * (long) but query 1 the largest cosine. Row 1: queries 0 and 2 point
     * the same way as v (a tie), query 1 away. v is not normalised. */
    float u[2 * 3 * 2] = { 1, 0, 0.6f, 0.8f, 10, 2, /* row 1 */ 0, 3, -1, 0, 0, 5 };
    float v[2 * 2] = { 3, 4, 0, 0.5f };
    float out[2 * 2];
    int idx[2] = { -1, -1 };
    nn_best_query_forward(out, idx, u, v, 2, 3, 2);
    cr_assert_eq(idx[0], 1, "row 0 picked query %d (the largest dot, not the largest cosine?)", idx[0]);
    cr_assert_eq(idx[1], 0, "row 1 picked query %d on a tie", idx[1]);
    cr_assert(out[0] == 0.6f && out[1] == 0.8f, "row 0 is not a copy of the raw query row");
    cr_assert(out[2] == 0.0f && out[3] == 3.0f, "row 1 is not a copy of the raw query row");
}

struct bq_ctx { float *u, *v, *out, *r; int *idx; size_t nb, m, e; };
static double bq_f(void *p)
{
    struct bq_ctx *c = p;
    nn_best_query_forward(c->out, c->idx, c->u, c->v, c->nb, c->m, c->e);
    return dotd(c->out, c->r, c->nb * c->e);
}

Test(nn, best_query_backward_reaches_only_the_chosen_query, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 102, 0);
    struct bq_ctx c = { .nb = 4, .m = 5, .e = 3 };
    c.u = rnd(c.nb * c.m * c.e, &r, 1), c.v = rnd(c.nb * c.e, &r, 1);
    c.out = zeros(c.nb * c.e), c.r = rnd(c.nb * c.e, &r, 1);
    c.idx = track(malloc(c.nb * sizeof(int)));
    /* make query (i + 1) % M of row i point nearly along v_i, so that the
     * finite differences never change the choice */
    for (size_t i = 0; i < c.nb; i++)
        for (size_t j = 0; j < c.e; j++)
            c.u[(i * c.m + (i + 1) % c.m) * c.e + j] = 2.0f * c.v[i * c.e + j] + 0.01f * (float)j;
    bq_f(&c);
    for (size_t i = 0; i < c.nb; i++)
        cr_assert_eq(c.idx[i], (int)((i + 1) % c.m));
    float *du = zeros(c.nb * c.m * c.e);
    nn_best_query_backward(du, c.r, c.idx, c.nb, c.m, c.e);
    for (size_t i = 0; i < c.nb; i++)
        for (size_t q = 0; q < c.m; q++)
            for (size_t j = 0; j < c.e; j++)
                if ((int)q != c.idx[i])
                    cr_assert_eq(du[(i * c.m + q) * c.e + j], 0.0f, "query %zu of row %zu got a gradient", q, i);
    gradcheck("best_query du", bq_f, &c, c.u, du, c.nb * c.m * c.e);
}

/* ---- cosine logits ---------------------------------------------------------------------- */

struct cl_ctx { float *u, *v, *logits, *work, *r, *probs, ls; int *labels; size_t n, nv, e; int ce; };
static double cl_f(void *p)
{
    struct cl_ctx *c = p;
    nn_cos_logits_forward(c->logits, c->work, c->u, c->v, c->ls, c->n, c->nv, c->e);
    if (c->ce)
        return nn_ce_forward(c->probs, c->logits, c->labels, 0.0f, c->n, c->nv);
    return dotd(c->logits, c->r, c->n * c->nv);
}

static void cl_init(struct cl_ctx *c, struct mb_rng *r, size_t n, size_t nv, size_t e, int ce)
{
    *c = (struct cl_ctx){ .n = n, .nv = nv, .e = e, .ce = ce, .ls = logf(1.0f / 0.2f) };
    c->u = rnd(n * e, r, 1), c->v = rnd(nv * e, r, 1), c->r = rnd(n * nv, r, 1);
    c->logits = zeros(n * nv), c->probs = zeros(n * nv);
    c->work = zeros(nn_cos_logits_work(n, nv, e));
    c->labels = track(malloc(n * sizeof(int)));
    for (size_t i = 0; i < n; i++)
        c->labels[i] = (int)(i % nv);
}

Test(nn, cos_logits_then_cross_entropy_is_infonce, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 103, 0);
    struct cl_ctx c;
    cl_init(&c, &r, 6, 6, 5, 1);
    float *w = zeros(nn_infonce_work(6, 5));
    float want = nn_infonce_forward(w, c.u, c.v, c.ls, 0, 6, 5);
    float got = (float)cl_f(&c);
    cr_assert(fabsf(got - want) <= 2e-7f * fabsf(want), "ce(cos logits) %.9g, InfoNCE %.9g", got, want);
    /* and the gradients: ce's dlogits through the logits' backward equal InfoNCE's */
    float *du = zeros(30), *dv = zeros(30), dls = 0.0f, *dl = zeros(36);
    float *du2 = zeros(30), *dv2 = zeros(30), dls2 = 0.0f;
    nn_ce_backward(dl, c.probs, c.labels, 0.0f, 1.0f, 6, 6);
    nn_cos_logits_backward(du, dv, &dls, dl, c.work, c.ls, 6, 6, 5);
    nn_infonce_backward(du2, dv2, &dls2, w, c.ls, 0, 1.0f, 6, 5);
    for (size_t i = 0; i < 30; i++) {
        cr_assert(fabsf(du[i] - du2[i]) <= 1e-5f + 1e-4f * fabsf(du2[i]), "du[%zu] %.9g vs %.9g", i, du[i], du2[i]);
        cr_assert(fabsf(dv[i] - dv2[i]) <= 1e-5f + 1e-4f * fabsf(dv2[i]), "dv[%zu] %.9g vs %.9g", i, dv[i], dv2[i]);
    }
    cr_assert(fabsf(dls - dls2) <= 1e-5f + 1e-4f * fabsf(dls2), "dlog_scale %.9g vs %.9g", dls, dls2);
    gradcheck("cos_logits+ce du", cl_f, &c, c.u, du, 30);
    gradcheck("cos_logits+ce dv", cl_f, &c, c.v, dv, 30);
    gradcheck("cos_logits+ce dlog_scale", cl_f, &c, &c.ls, &dls, 1);
}

Test(nn, cos_logits_backward_matches_finite_differences_rectangular, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 104, 0);
    struct cl_ctx c;
    cl_init(&c, &r, 5, 7, 4, 0);
    cl_f(&c);
    float *du = rnd(20, &r, 1), *dv = rnd(28, &r, 1), dls = 0.5f;
    float *du0 = copyf(du, 20), *dv0 = copyf(dv, 28);
    nn_cos_logits_backward(du, dv, &dls, c.r, c.work, c.ls, c.n, c.nv, c.e);
    /* accumulated onto what was there: compare the increments */
    for (size_t i = 0; i < 20; i++)
        du[i] -= du0[i];
    for (size_t i = 0; i < 28; i++)
        dv[i] -= dv0[i];
    dls -= 0.5f;
    gradcheck("cos_logits du", cl_f, &c, c.u, du, 20);
    gradcheck("cos_logits dv", cl_f, &c, c.v, dv, 28);
    gradcheck("cos_logits dlog_scale", cl_f, &c, &c.ls, &dls, 1);
    /* NULL gradients are skipped and do not change the others; the work is
     * read-only, so a second backward gives the same numbers */
    cl_f(&c);
    float *du2 = zeros(20);
    nn_cos_logits_backward(du2, NULL, NULL, c.r, c.work, c.ls, c.n, c.nv, c.e);
    float *du3 = zeros(20);
    nn_cos_logits_backward(du3, NULL, NULL, c.r, c.work, c.ls, c.n, c.nv, c.e);
    cr_assert(!memcmp(du2, du3, 20 * sizeof(float)), "a second backward differs");
    for (size_t i = 0; i < 20; i++)
        cr_assert(fabsf(du2[i] - du[i]) <= 1e-6f + 1e-5f * fabsf(du[i]), "du[%zu] with dv NULL", i);
}

/* ---- soft-target cross-entropy ----------------------------------------------------------- */

struct sce_ctx { float *logits, *target, *probs; size_t n, k; };
static double sce_f(void *p)
{
    struct sce_ctx *c = p;
    return nn_soft_ce_forward(c->probs, c->logits, c->target, c->n, c->k);
}

Test(nn, soft_ce_matches_formula_and_finite_differences, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 105, 0);
    struct sce_ctx c = { .n = 5, .k = 5 };
    c.logits = rnd(25, &r, 2), c.probs = zeros(25), c.target = zeros(25);
    /* CASCLe-like rows: positive off the diagonal, zero on it, summing to 1,
     * except row 3 which sums to 0.6 (the backward's sum_j target term) */
    for (size_t i = 0; i < 5; i++) {
        double s = 0;
        for (size_t j = 0; j < 5; j++)
            if (j != i)
                s += c.target[i * 5 + j] = (float)(0.1 + mb_rng_uniform(&r));
        for (size_t j = 0; j < 5; j++)
            c.target[i * 5 + j] = (float)(c.target[i * 5 + j] / s * (i == 3 ? 0.6 : 1.0));
    }
    double want = 0;
    for (size_t i = 0; i < 5; i++) {
        double se = 0;
        for (size_t j = 0; j < 5; j++)
            se += exp(c.logits[i * 5 + j]);
        for (size_t j = 0; j < 5; j++)
            want -= c.target[i * 5 + j] * (c.logits[i * 5 + j] - log(se));
    }
    want /= 5;
    cr_assert(fabs(sce_f(&c) - want) < 1e-6, "soft ce %.9g want %.9g", sce_f(&c), want);
    float *dl = zeros(25);
    nn_soft_ce_backward(dl, c.probs, c.target, 1.0f, c.n, c.k);
    gradcheck("soft_ce dlogits", sce_f, &c, c.logits, dl, 25);
}

Test(nn, soft_ce_with_one_hot_targets_is_cross_entropy, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 106, 0);
    int labels[4] = { 2, 0, 4, 2 };
    float *logits = rnd(20, &r, 3), *onehot = zeros(20), *p1 = zeros(20), *p2 = zeros(20);
    for (size_t i = 0; i < 4; i++)
        onehot[i * 5 + (size_t)labels[i]] = 1.0f;
    float a = nn_soft_ce_forward(p1, logits, onehot, 4, 5);
    float b = nn_ce_forward(p2, logits, labels, 0.0f, 4, 5);
    cr_assert_eq(a, b, "soft ce %.9g, ce %.9g", a, b);
    float *d1 = zeros(20), *d2 = zeros(20);
    nn_soft_ce_backward(d1, p1, onehot, 0.7f, 4, 5);
    nn_ce_backward(d2, p2, labels, 0.0f, 0.7f, 4, 5);
    cr_assert(!memcmp(d1, d2, 20 * sizeof(float)), "gradients differ from nn_ce_backward's");
}

/* ---- CASCLe targets ------------------------------------------------------------------------- */

Test(nn, cascle_targets_hand_computed_3x3, .fini = free_tracked)
{
    /* v = (1,0), (0.8,0.6), (0,1); centroids (1,0), (0,1) scaled (normalised
     * inside). A = [1 0; .8 .6; 0 1]; top-1: [1 0; .8 0; 0 1] -> rows
     * normalised [1 0; 1 0; 0 1]; S = [1 1 0; 1 1 0; 0 0 1]; tau_s 0.5. */
    float v[6] = { 2, 0, 0.8f, 0.6f, 0, 3 }, c[4] = { 5, 0, 0, 0.5f };
    float t[9], work[64];
    cr_assert(nn_cascle_work(3, 2, 2) <= 64);
    nn_cascle_targets(t, work, v, c, 1, 0.5f, 3, 2, 2);
    double e2 = exp(2.0);
    double want[9] = { 0, e2 / (e2 + 1), 1 / (e2 + 1), e2 / (e2 + 1), 0, 1 / (e2 + 1), 0.5, 0.5, 0 };
    for (size_t i = 0; i < 9; i++)
        cr_assert(fabs(t[i] - want[i]) < 1e-6, "target[%zu] %.9g want %.9g", i, t[i], want[i]);
    /* top-2 keeps both affinities of pose 1: Abar_1 = (.8, .6), S_01 = .8,
     * S_12 = .6, S_02 = 0 */
    nn_cascle_targets(t, work, v, c, 2, 0.5f, 3, 2, 2);
    double w0 = exp(1.6) / (exp(1.6) + 1), w1 = exp(1.6) / (exp(1.6) + exp(1.2));
    cr_assert(fabs(t[1] - w0) < 1e-6 && fabs(t[3] - w1) < 1e-6, "top-2: %.9g %.9g want %.9g %.9g", t[1],
              t[3], w0, w1);
    /* a tie between two centroids keeps the lower index: pose (1,1) with
     * top-1 keeps centroid 0 only, so it is pose 0's neighbour, not pose 2's */
    float v2[6] = { 1, 0, 1, 1, 0, 1 };
    nn_cascle_targets(t, work, v2, c, 1, 0.5f, 3, 2, 2);
    cr_assert(fabs(t[3] - e2 / (e2 + 1)) < 1e-6, "tie: target[1][0] %.9g", t[3]);
}

Test(nn, cascle_targets_rows_sum_to_one_and_favour_the_same_cluster, .fini = free_tracked)
{
    struct mb_rng r;
    mb_rng_seed(&r, 107, 0);
    enum { N = 12, NC = 4, E = 6 };
    /* four orthogonal centroid directions; pose i lies near centroid i % 4 */
    float c[NC * E] = { 0 }, v[N * E];
    for (size_t k = 0; k < NC; k++)
        c[k * E + k] = 1.0f;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < E; j++)
            v[i * E + j] = (j == i % NC ? 1.0f : 0.0f) + 0.2f * (float)(2.0 * mb_rng_uniform(&r) - 1.0);
    float *t = zeros(N * N), *work = zeros(nn_cascle_work(N, NC, E));
    nn_cascle_targets(t, work, v, c, 2, 0.1f, N, NC, E);
    for (size_t i = 0; i < N; i++) {
        double s = 0;
        for (size_t j = 0; j < N; j++) {
            cr_assert(t[i * N + j] >= 0.0f);
            s += t[i * N + j];
        }
        cr_assert_eq(t[i * N + i], 0.0f, "target[%zu][%zu] is not zero", i, i);
        cr_assert(fabs(s - 1.0) < 1e-5, "row %zu sums to %.9g", i, s);
        for (size_t j = 0; j < N; j++)
            for (size_t l = 0; l < N; l++)
                if (j != i && l != i && j % NC == i % NC && l % NC != i % NC)
                    cr_assert(t[i * N + j] > t[i * N + l], "row %zu: same cluster %zu %.6g <= other %zu %.6g",
                              i, j, t[i * N + j], l, t[i * N + l]);
    }
}

/* ---- thread-count invariance ------------------------------------------------------------------ */

struct bridge_out { float *x[12]; size_t len[12]; int idx[64]; float loss; };

static void bridge_run(struct bridge_out *o, int threads)
{
    enum { B = 64, M = 7, E = 24, NC = 9 };
    omp_set_num_threads(threads);
    struct mb_rng r;
    mb_rng_seed(&r, 108, 0);
    float *q = rnd(M * E, &r, 1), *v = rnd(B * E, &r, 1), *c = rnd(NC * E, &r, 1);
    float *dlog = rnd(B * B, &r, 1), *dqo = rnd(B * M * E, &r, 1);
    size_t k = 0;
#define OUT(n) (o->len[k] = (n), o->x[k++] = zeros(n))
    float *qe = OUT(B * M * E), *dq = OUT(M * E);
    nn_query_expand_forward(qe, q, B, M, E);
    nn_query_expand_backward(dq, dqo, B, M, E);
    for (size_t i = 0; i < B * M * E; i++)   // perturb so the queries differ per row
        qe[i] += dqo[i];
    float *best = OUT(B * E), *du = OUT(B * M * E);
    nn_best_query_forward(best, o->idx, qe, v, B, M, E);
    float *logits = OUT(B * B), *work = zeros(nn_cos_logits_work(B, B, E));
    nn_cos_logits_forward(logits, work, best, v, logf(1.0f / 0.07f), B, B, E);
    float *tg = OUT(B * B), *cw = zeros(nn_cascle_work(B, NC, E));
    nn_cascle_targets(tg, cw, v, c, 3, 0.1f, B, NC, E);
    float *probs = OUT(B * B), *dl = OUT(B * B);
    o->loss = nn_soft_ce_forward(probs, logits, tg, B, B);
    nn_soft_ce_backward(dl, probs, tg, 1.0f, B, B);
    for (size_t i = 0; i < B * B; i++)
        dl[i] += dlog[i];
    float *db = OUT(B * E), *dv = OUT(B * E), *dls = OUT(1);
    nn_cos_logits_backward(db, dv, dls, dl, work, logf(1.0f / 0.07f), B, B, E);
    nn_best_query_backward(du, db, o->idx, B, M, E);
#undef OUT
    o->len[k] = 0;
}

Test(nn, bridge_ops_bit_identical_for_1_and_2_threads, .fini = free_tracked)
{
    struct bridge_out a, b;
    bridge_run(&a, 1);
    bridge_run(&b, 2);
    cr_assert_eq(a.loss, b.loss);
    cr_assert(!memcmp(a.idx, b.idx, sizeof a.idx), "best queries differ");
    for (size_t k = 0; a.len[k]; k++)
        cr_assert(!memcmp(a.x[k], b.x[k], a.len[k] * sizeof(float)), "output %zu differs", k);
}
