/* bench/bench_nn.c - the neural engine's matmul throughput in a training
 * step (forward + backward) of a small transformer encoder, against
 * OpenBLAS's sgemm peak measured in the same run on a large square product.
 *
 * Model: patch embedding -> positional embedding -> L pre-norm transformer
 * layers -> final layer norm -> mean pool -> linear -> cross-entropy, as the
 * tiny model of tests/test_nn.c. Two sizes: "tiny" (the test's: B 8, 4
 * patches of 5 x 3, D 32, F 64) and "method" (the scale issue 6 expects:
 * B 64, 10 patches of 100 samples x 16 channels, D 64, F 256, 4 heads).
 * "matmul flops" counts every multiply-add of the linear layers (2 N I O
 * forward, twice that backward) and of attention's QK^T and AV; GFLOP/s is
 * those flops over the whole step's time, so the ratio to the sgemm peak
 * shows what the step loses to small shapes and to the non-matmul layers.
 *
 * Options (after `--`): --steps N timed steps per size (default 20).
 */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "core/err.h"
#include "core/rng.h"
#include "kernels/nn/nn.h"
#include "kernels/nn/nn_block.h"
#include "kernels/nn/nn_param.h"

struct cfg { const char *name; size_t b, t, c, p, d, h, f, l, k; };

static const struct cfg cfgs[] = {
    { "tiny",   8,  20,   3,   5, 32, 4,  64, 2, 5 },
    { "method", 64, 1000, 16, 100, 64, 4, 256, 2, 10 },
};

#define MAXL 4

struct model {
    struct cfg c;
    size_t np;
    struct nn_params p;
    struct nn_block_w w[MAXL], g[MAXL];
    struct nn_block_act a[MAXL], da;
    float *x, *emb, *h[MAXL + 1], *dh[MAXL + 1], *lnf, *mu, *rs, *dlnf, *pool, *dpool, *logit, *prob, *dlogit;
    int *y;
};

static float *fz(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

static int model_init(struct model *m, const struct cfg *c)
{
    memset(m, 0, sizeof *m);
    m->c = *c;
    m->np = c->t / c->p;
    struct nn_params *p = &m->p;
    int err = 0;
    err |= nn_params_add(p, "embed.w", 1, 2, (size_t[]){ c->d, c->p * c->c }) < 0;
    err |= nn_params_add(p, "embed.b", 0, 1, (size_t[]){ c->d }) < 0;
    err |= nn_params_add(p, "pos", 0, 2, (size_t[]){ m->np, c->d }) < 0;
    char pre[MAXL][32];
    for (size_t l = 0; l < c->l; l++) {
        snprintf(pre[l], sizeof pre[l], "enc.%zu.", l);
        err |= nn_block_add_params(p, pre[l], c->d, c->f) != MB_OK;
    }
    err |= nn_params_add(p, "ln_f.w", 0, 1, (size_t[]){ c->d }) < 0;
    err |= nn_params_add(p, "ln_f.b", 0, 1, (size_t[]){ c->d }) < 0;
    err |= nn_params_add(p, "head.w", 1, 2, (size_t[]){ c->k, c->d }) < 0;
    err |= nn_params_add(p, "head.b", 0, 1, (size_t[]){ c->k }) < 0;
    if (err || nn_params_alloc(p))
        return 1;
    struct mb_rng r;
    mb_rng_seed(&r, 7, 0);
    nn_init_uniform(p->data, p->total, 0.1f, &r);
    nn_init_const(nn_params_data(p, "ln_f.w"), c->d, 1.0f);
    size_t n = c->b * m->np;
    for (size_t l = 0; l < c->l; l++) {
        nn_block_bind(&m->w[l], &m->g[l], p, pre[l]);
        nn_block_init(&m->w[l], c->d, c->f, &r);
        if (nn_block_act_alloc(&m->a[l], c->b, m->np, c->d, c->f, c->h))
            return 1;
    }
    if (nn_block_act_alloc(&m->da, c->b, m->np, c->d, c->f, c->h))
        return 1;
    m->x = fz(c->b * c->t * c->c);
    for (size_t i = 0; i < c->b * c->t * c->c; i++)
        m->x[i] = (float)mb_rng_normal(&r);
    m->y = calloc(c->b, sizeof *m->y);
    for (size_t i = 0; i < c->b; i++)
        m->y[i] = (int)(i % c->k);
    m->emb = fz(n * c->d);
    for (size_t l = 0; l <= c->l; l++)
        m->h[l] = fz(n * c->d), m->dh[l] = fz(n * c->d);
    m->lnf = fz(n * c->d), m->mu = fz(n), m->rs = fz(n), m->dlnf = fz(n * c->d);
    m->pool = fz(c->b * c->d), m->dpool = fz(c->b * c->d);
    m->logit = fz(c->b * c->k), m->prob = fz(c->b * c->k), m->dlogit = fz(c->b * c->k);
    return 0;
}

static void model_free(struct model *m)
{
    for (size_t l = 0; l < m->c.l; l++)
        nn_block_act_release(&m->a[l]);
    nn_block_act_release(&m->da);
    for (size_t l = 0; l <= m->c.l; l++)
        free(m->h[l]), free(m->dh[l]);
    float *v[] = { m->x, m->emb, m->lnf, m->mu, m->rs, m->dlnf, m->pool, m->dpool, m->logit, m->prob, m->dlogit };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        free(v[i]);
    free(m->y);
    nn_params_release(&m->p);
}

static float model_step(struct model *m)
{
    const struct cfg *c = &m->c;
    struct nn_params *p = &m->p;
    size_t n = c->b * m->np, d = c->d;
    nn_params_zero_grad(p);
    nn_patch_embed_forward(m->emb, m->x, nn_params_data(p, "embed.w"), nn_params_data(p, "embed.b"),
                           c->b, c->t, c->c, c->p, d);
    nn_pos_embed_forward(m->h[0], m->emb, nn_params_data(p, "pos"), c->b, m->np, d);
    for (size_t l = 0; l < c->l; l++)
        nn_block_forward(m->h[l + 1], &m->a[l], &m->w[l], m->h[l], NULL, NULL, c->b, m->np, d, c->f, c->h);
    nn_layernorm_forward(m->lnf, m->mu, m->rs, m->h[c->l], nn_params_data(p, "ln_f.w"),
                         nn_params_data(p, "ln_f.b"), n, d);
    nn_mean_pool_forward(m->pool, m->lnf, NULL, c->b, m->np, d);
    nn_linear_forward(m->logit, m->pool, nn_params_data(p, "head.w"), nn_params_data(p, "head.b"), c->b, d, c->k);
    float loss = nn_ce_forward(m->prob, m->logit, m->y, 0.0f, c->b, c->k);
    memset(m->dlogit, 0, c->b * c->k * sizeof(float));
    memset(m->dpool, 0, c->b * d * sizeof(float));
    memset(m->dlnf, 0, n * d * sizeof(float));
    for (size_t l = 0; l <= c->l; l++)
        memset(m->dh[l], 0, n * d * sizeof(float));
    nn_ce_backward(m->dlogit, m->prob, m->y, 0.0f, 1.0f, c->b, c->k);
    nn_linear_backward(m->dpool, nn_params_grad(p, "head.w"), nn_params_grad(p, "head.b"), m->dlogit,
                       m->pool, nn_params_data(p, "head.w"), c->b, d, c->k);
    nn_mean_pool_backward(m->dlnf, m->dpool, NULL, c->b, m->np, d);
    nn_layernorm_backward(m->dh[c->l], nn_params_grad(p, "ln_f.w"), nn_params_grad(p, "ln_f.b"), m->dlnf,
                          m->h[c->l], m->mu, m->rs, nn_params_data(p, "ln_f.w"), n, d);
    for (size_t l = c->l; l-- > 0;)
        nn_block_backward(m->dh[l], &m->g[l], &m->da, m->dh[l + 1], &m->a[l], &m->w[l], m->h[l], c->b,
                          m->np, d, c->f, c->h);
    memset(m->dlnf, 0, n * d * sizeof(float));
    nn_pos_embed_backward(m->dlnf, nn_params_grad(p, "pos"), m->dh[0], c->b, m->np, d);
    nn_patch_embed_backward(NULL, nn_params_grad(p, "embed.w"), nn_params_grad(p, "embed.b"), m->dlnf,
                            m->x, nn_params_data(p, "embed.w"), c->b, c->t, c->c, c->p, d);
    return loss;
}

/* Multiply-adds x 2 of one training step (see the file comment). */
static double step_flops(const struct cfg *c)
{
    double n = (double)c->b * (double)(c->t / c->p), d = (double)c->d, np = (double)(c->t / c->p);
    double fwd = 2 * n * (double)(c->p * c->c) * d                 // patch embedding
               + (double)c->l * (2 * n * d * d * 4                 // q, k, v, o
                                 + 2 * n * d * (double)c->f * 2    // the two FFN layers
                                 + 2 * 2 * (double)c->b * np * np * d)   // QK^T and AV over heads
               + 2 * (double)c->b * d * (double)c->k;              // head
    return 3 * fwd;   // backward: two products per forward product
}

static double sgemm_peak(int reps)
{
    size_t n = 1024;
    float *a = fz(n * n), *b = fz(n * n), *c = fz(n * n);
    for (size_t i = 0; i < n * n; i++)
        a[i] = (float)(i % 13) * 0.01f, b[i] = (float)(i % 7) * 0.01f;
    double best = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1.0f, a, (int)n, b,
                    (int)n, 0.0f, c, (int)n);
        double g = 2.0 * n * n * n / (bench_now() - t0) / 1e9;
        if (g > best) best = g;
    }
    free(a), free(b), free(c);
    return best;
}

int bench_nn(int argc, char **argv)
{
    int steps = 20;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]);
    if (steps < 1) steps = 1;
    int thr = omp_get_max_threads();
    double peak = sgemm_peak(5);
    printf("OpenMP threads %d, OpenBLAS threads %d; sgemm 1024^3 peak %.1f GFLOP/s\n", thr,
           openblas_get_num_threads(), peak);
    printf("%-7s %5s %10s %10s %12s %12s %10s %12s\n", "model", "blas", "params", "steps/s", "ms/step",
           "MFLOP/step", "GFLOP/s", "of peak");
    int blas_thr = openblas_get_num_threads();
    /* OpenBLAS's threads and OpenMP's compete for the same cores; a small
     * model may run faster with single-threaded BLAS (the caller's choice,
     * nn.h), so both are shown. */
    for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
        nn_set_blas_threads(pass ? 1 : blas_thr);
        struct model m;
        if (model_init(&m, &cfgs[i])) {
            fprintf(stderr, "bench nn: cannot build model '%s'\n", cfgs[i].name);
            model_free(&m);
            return 1;
        }
        volatile float sink = model_step(&m);   // warm-up (first-touch, BLAS buffers)
        double t0 = bench_now();
        for (int s = 0; s < steps; s++)
            sink += model_step(&m);
        double dt = (bench_now() - t0) / steps;
        (void)sink;
        double fl = step_flops(&cfgs[i]);
        printf("%-7s %5d %10zu %10.1f %12.3f %12.2f %10.2f %11.1f%%\n", cfgs[i].name, openblas_get_num_threads(),
               m.p.total, 1.0 / dt,
               1e3 * dt, fl / 1e6, fl / dt / 1e9, 100.0 * fl / dt / 1e9 / peak);
        model_free(&m);
    }
    nn_set_blas_threads(blas_thr);
    return 0;
}
