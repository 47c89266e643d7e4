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
 *
 * bench_nn_torch (row "nn-torch") trains the "method" model end to end -
 * forward, backward, global-norm clipping, the warm-up + cosine schedule,
 * AdamW - at 1 and 2 threads (OpenMP and OpenBLAS both set to n; and 2
 * OpenMP threads beside single-threaded OpenBLAS), and runs
 * bench/nn_torch.py (PyTorch on the CPU, torch.set_num_threads(n)) on the
 * same model and optimiser in the same run, through popen; the script
 * prints one line of JSON, parsed with jansson. Each side does 'warmup'
 * untimed steps, then 'steps' timed ones; the best of 'rounds' interleaved
 * rounds is kept, which is what survives other jobs on a shared machine.
 * The two sides must report the same parameter count (padding excluded),
 * or the benchmark fails. Without python3 or torch the PyTorch side is
 * skipped with a message and the C side still printed.
 * The row then times EMBridge's stage-2 step (methods/embridge.c, through
 * embridge_bench_steps of methods/hooks.h: the very step function align()
 * runs) at the demo's emg2pose sizes, and bench/nn_torch.py --model embridge
 * on the same network, at 1 and 2 threads (OpenBLAS at 1 on the C side, as
 * align() pins it), with the same warm-up, steps and rounds; the parameter
 * counts must agree here too.
 * Options (after `--`): --steps N (default 50), --warmup N (5), --rounds N
 * (2), --threads N (only that count, 1 or 2), --python PATH (/usr/bin/python3), --torch-script PATH
 * (bench/nn_torch.py, relative to the repository root as `make bench` runs).
 */
#include <cblas.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/err.h"
#include "core/rng.h"
#include "kernels/nn/nn.h"
#include "kernels/nn/nn_block.h"
#include "kernels/nn/nn_param.h"
#include "methods/hooks.h"

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
    float *ew, *eb, *pos, *lnw, *lnb, *hw, *hb;          /* views: embed, pos, ln_f, head */
    float *gew, *geb, *gpos, *glnw, *glnb, *ghw, *ghb;   /* their gradients */
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
    err |= nn_params_add(p, "embed.w", 1, 2, (size_t[]){ c->d, c->p * c->c }, &m->ew, &m->gew) < 0;
    err |= nn_params_add(p, "embed.b", 0, 1, (size_t[]){ c->d }, &m->eb, &m->geb) < 0;
    err |= nn_params_add(p, "pos", 0, 2, (size_t[]){ m->np, c->d }, &m->pos, &m->gpos) < 0;
    char pre[MAXL][32];
    for (size_t l = 0; l < c->l; l++) {
        snprintf(pre[l], sizeof pre[l], "enc.%zu.", l);
        err |= nn_block_add_params(p, pre[l], c->d, c->f, &m->w[l], &m->g[l]) != MB_OK;
    }
    err |= nn_params_add(p, "ln_f.w", 0, 1, (size_t[]){ c->d }, &m->lnw, &m->glnw) < 0;
    err |= nn_params_add(p, "ln_f.b", 0, 1, (size_t[]){ c->d }, &m->lnb, &m->glnb) < 0;
    err |= nn_params_add(p, "head.w", 1, 2, (size_t[]){ c->k, c->d }, &m->hw, &m->ghw) < 0;
    err |= nn_params_add(p, "head.b", 0, 1, (size_t[]){ c->k }, &m->hb, &m->ghb) < 0;
    if (err || nn_params_alloc(p))
        return 1;
    struct mb_rng r;
    mb_rng_seed(&r, 7, 0);
    nn_init_uniform(p->data, p->total, 0.1f, &r);
    nn_init_const(m->lnw, c->d, 1.0f);
    size_t n = c->b * m->np;
    for (size_t l = 0; l < c->l; l++) {
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
    nn_patch_embed_forward(m->emb, m->x, m->ew, m->eb,
                           c->b, c->t, c->c, c->p, d);
    nn_pos_embed_forward(m->h[0], m->emb, m->pos, c->b, m->np, d);
    for (size_t l = 0; l < c->l; l++)
        nn_block_forward(m->h[l + 1], &m->a[l], &m->w[l], m->h[l], NULL, NULL, c->b, m->np, d, c->f, c->h);
    nn_layernorm_forward(m->lnf, m->mu, m->rs, m->h[c->l], m->lnw,
                         m->lnb, n, d);
    nn_mean_pool_forward(m->pool, m->lnf, NULL, c->b, m->np, d);
    nn_linear_forward(m->logit, m->pool, m->hw, m->hb, c->b, d, c->k);
    float loss = nn_ce_forward(m->prob, m->logit, m->y, 0.0f, c->b, c->k);
    memset(m->dlogit, 0, c->b * c->k * sizeof(float));
    memset(m->dpool, 0, c->b * d * sizeof(float));
    memset(m->dlnf, 0, n * d * sizeof(float));
    for (size_t l = 0; l <= c->l; l++)
        memset(m->dh[l], 0, n * d * sizeof(float));
    nn_ce_backward(m->dlogit, m->prob, m->y, 0.0f, 1.0f, c->b, c->k);
    nn_linear_backward(m->dpool, m->ghw, m->ghb, m->dlogit,
                       m->pool, m->hw, c->b, d, c->k);
    nn_mean_pool_backward(m->dlnf, m->dpool, NULL, c->b, m->np, d);
    nn_layernorm_backward(m->dh[c->l], m->glnw, m->glnb, m->dlnf,
                          m->h[c->l], m->mu, m->rs, m->lnw, n, d);
    for (size_t l = c->l; l-- > 0;)
        nn_block_backward(m->dh[l], &m->g[l], &m->da, m->dh[l + 1], &m->a[l], &m->w[l], m->h[l], c->b,
                          m->np, d, c->f, c->h);
    memset(m->dlnf, 0, n * d * sizeof(float));
    nn_pos_embed_backward(m->dlnf, m->gpos, m->dh[0], c->b, m->np, d);
    nn_patch_embed_backward(NULL, m->gew, m->geb, m->dlnf,
                            m->x, m->ew, c->b, c->t, c->c, c->p, d);
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

/* ---- nn-torch: the same training in myobench and in PyTorch ------------------ */

/* The optimiser both sides use (nn_torch.py receives every value). */
static const struct { float lr_max, lr_min, wd, clip; } torch_opt = { 1e-3f, 1e-4f, 0.05f, 1.0f };
static const struct nn_adamw torch_adamw = { 0.9f, 0.999f, 1e-8f, 0.05f };

/* Parameters without the 64-byte alignment padding: what PyTorch counts. */
static size_t param_count(const struct nn_params *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += p->t[i].size;
    return n;
}

/* One full training step at 0-based 'step' of 'total'. */
static float train_step(struct model *m, long step, long total)
{
    float loss = model_step(m);
    nn_clip_grad_norm(m->p.grad, m->p.total, torch_opt.clip);
    float lr = nn_lr_cosine(step, 5, total, torch_opt.lr_max, torch_opt.lr_min);
    nn_adamw_step(&m->p, &torch_adamw, lr, step + 1);
    return loss;
}

/* Steps per second of 'steps' timed steps after 'warmup' untimed ones, on a
 * fresh model; *np gets the parameter count. Negative on failure. */
static double c_steps_per_s(const struct cfg *c, int warmup, int steps, size_t *np)
{
    struct model m;
    if (model_init(&m, c)) {
        fprintf(stderr, "bench nn-torch: cannot build model '%s'\n", c->name);
        model_free(&m);
        return -1;
    }
    *np = param_count(&m.p);
    long total = warmup + steps;
    volatile float sink = 0;
    for (int s = 0; s < warmup; s++)
        sink += train_step(&m, s, total);
    double t0 = bench_now();
    for (int s = 0; s < steps; s++)
        sink += train_step(&m, warmup + s, total);
    double dt = bench_now() - t0;
    (void)sink;
    model_free(&m);
    return steps / dt;
}

struct torch_run {
    int skipped;          /* 1: python3 or torch missing (message printed) */
    double steps_per_s;
    long long params;
    double loss_last;
    char version[32];
};

static int torch_exec(struct torch_run *r, const char *python, const char *script, const char *cmd);

/* Runs the PyTorch script and parses its one JSON line. 0 on success or
 * skip (r->skipped), 1 on a failure (reported). */
static int torch_run(struct torch_run *r, const char *python, const char *script, const struct cfg *c,
                     int threads, int warmup, int steps)
{
    char cmd[1024];
    /* OMP_NUM_THREADS too: torch's OpenMP pool and its BLAS read it at start. */
    int len = snprintf(cmd, sizeof cmd,
                       "OMP_NUM_THREADS=%d OPENBLAS_NUM_THREADS=%d '%s' '%s' --threads %d --steps %d --warmup %d "
                       "--batch %zu --time %zu --channels %zu --patch %zu --width %zu --heads %zu --ff %zu "
                       "--layers %zu --classes %zu --lr-max %.9g --lr-min %.9g --beta1 %.9g --beta2 %.9g "
                       "--eps %.9g --wd %.9g --clip %.9g",
                       threads, threads, python, script, threads, steps, warmup, c->b, c->t, c->c, c->p, c->d,
                       c->h, c->f, c->l, c->k, torch_opt.lr_max, torch_opt.lr_min, torch_adamw.beta1,
                       torch_adamw.beta2, torch_adamw.eps, torch_adamw.weight_decay, torch_opt.clip);
    if (len < 0 || (size_t)len >= sizeof cmd || strchr(python, '\'') || strchr(script, '\'')) {
        fprintf(stderr, "bench nn-torch: python or script path unusable in a command line\n");
        return 1;
    }
    return torch_exec(r, python, script, cmd);
}

/* Runs cmd (python running script, built by the caller) and parses the
 * script's last line, as torch_run. */
static int torch_exec(struct torch_run *r, const char *python, const char *script, const char *cmd)
{
    memset(r, 0, sizeof *r);
    if (access(python, X_OK) != 0 || access(script, R_OK) != 0) {
        printf("PyTorch side skipped: %s not found (%s)\n", access(python, X_OK) ? python : script,
               strerror(errno));
        r->skipped = 1;
        return 0;
    }
    fflush(stdout);
    FILE *f = popen(cmd, "r");
    if (!f) {
        fprintf(stderr, "bench nn-torch: cannot run %s: %s\n", python, strerror(errno));
        return 1;
    }
    char line[4096], last[4096] = "";
    while (fgets(line, sizeof line, f))
        if (line[0] != '\n')
            memcpy(last, line, sizeof last);
    int st = pclose(f);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench nn-torch: '%s %s' failed (status %d)\n", python, script,
                st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return 1;
    }
    json_error_t je;
    json_t *j = json_loads(last, 0, &je);
    if (!j || !json_is_object(j)) {
        fprintf(stderr, "bench nn-torch: %s printed no JSON object on its last line: %s\n", script, je.text);
        json_decref(j);
        return 1;
    }
    const char *skip = json_string_value(json_object_get(j, "skipped"));
    if (skip) {
        printf("PyTorch side skipped: %s\n", skip);
        r->skipped = 1;
        json_decref(j);
        return 0;
    }
    json_t *sps = json_object_get(j, "steps_per_s"), *np = json_object_get(j, "params");
    const char *ver = json_string_value(json_object_get(j, "torch"));
    if (!json_is_number(sps) || !json_is_integer(np)) {
        fprintf(stderr, "bench nn-torch: %s output lacks 'steps_per_s' or 'params': %s", script, last);
        json_decref(j);
        return 1;
    }
    r->steps_per_s = json_number_value(sps);
    r->params = json_integer_value(np);
    r->loss_last = json_number_value(json_object_get(j, "loss_last"));
    snprintf(r->version, sizeof r->version, "%s", ver ? ver : "?");
    json_decref(j);
    return 0;
}

/* ---- nn-torch, second part: EMBridge's stage-2 step ------------------------- */

/* The demo's representation-plan sizes on emg2pose: EMG 16 channels x 400
 * samples at 1 kHz in 100-sample patches + CLS (5 tokens), pose 20 joints x
 * 20 frames in 5-frame patches (4 tokens), D 64, 2 blocks (cross-attention
 * in block 0), 4 heads, F 128, 16 queries, batch 64, MPRL masking half the
 * pose tokens, CASCLe with 16 centroids, 3 kept. */
static const struct embridge_bench_cfg emb_cfg = {
    .B = 64, .M = 16, .T = 400, .C = 16, .P = 100, .Tp = 20, .J = 20, .Pp = 5,
    .D = 64, .L = 2, .H = 4, .F = 128, .pose_mask = 0.5, .n_c = 16, .k_c = 3,
};

/* The C side is the method's own step (embridge_bench_steps runs align()'s
 * step function), which pins OpenBLAS to one thread as align() does; so
 * only the OpenMP count varies here. */
static int embridge_vs_torch(const char *python, const char *script, int only, int warmup, int steps,
                             int rounds, int skipped)
{
    const struct embridge_bench_cfg *g = &emb_cfg;
    printf("\nembridge stage 2: B %zu, M %zu queries, D %zu, %zu blocks (cross-attention in block 0), %zu heads, "
           "F %zu; EMG %zu x %zu in %zu-sample patches + CLS, pose %zu joints x %zu frames in %zu-frame patches; "
           "MPRL mask %g, CASCLe N_c %zu k_c %zu; AdamW lr 1e-3 (15 warm-up, cosine), wd 0.05, clip 1 per "
           "encoder\n",
           g->B, g->M, g->D, g->L, g->H, g->F, g->C, g->T, g->P, g->J, g->Tp, g->Pp, g->pose_mask, g->n_c, g->k_c);
    printf("%4s %4s %16s %15s %8s %12s %12s\n", "OMP", "BLAS", "myobench ms/st", "PyTorch ms/st", "ratio",
           "C loss", "torch loss");
    char cmd[1024];
    size_t np_c = 0;
    long long np_t = -1;
    char version[32] = "";
    int status = 0;
    for (int thr = 1; thr <= 2 && !status; thr++) {
        if (only > 0 && thr != only)
            continue;
        omp_set_num_threads(thr);
        double best_c = 0, best_t = 0;
        struct embridge_bench_out o = { 0 };
        struct torch_run tr = { 0 };
        for (int r = 0; r < rounds && !status; r++) {
            if (embridge_bench_steps(&o, g, warmup, steps, 7)) {
                fprintf(stderr, "bench nn-torch: embridge: %s\n", mb_last_error());
                status = 1;
                break;
            }
            np_c = o.params;
            if (best_c == 0 || o.sec_per_step < best_c) best_c = o.sec_per_step;
            if (skipped)
                continue;
            int len = snprintf(cmd, sizeof cmd,
                               "OMP_NUM_THREADS=%d OPENBLAS_NUM_THREADS=%d '%s' '%s' --model embridge --threads %d "
                               "--steps %d --warmup %d --batch %zu --time %zu --channels %zu --patch %zu "
                               "--width %zu --heads %zu --ff %zu --layers %zu --queries %zu --pose-frames %zu "
                               "--joints %zu --pose-patch %zu --pose-mask %.9g --n-c %zu --k-c %zu "
                               "--lr-warmup 15 --lr-max 1e-3 --lr-min 5e-5 --wd 0.05 --clip 1",
                               thr, thr, python, script, thr, steps, warmup, g->B, g->T, g->C, g->P, g->D, g->H,
                               g->F, g->L, g->M, g->Tp, g->J, g->Pp, g->pose_mask, g->n_c, g->k_c);
            if (len < 0 || (size_t)len >= sizeof cmd || strchr(python, '\'') || strchr(script, '\'')) {
                fprintf(stderr, "bench nn-torch: python or script path unusable in a command line\n");
                status = 1;
                break;
            }
            if (torch_exec(&tr, python, script, cmd)) { status = 1; break; }
            if ((skipped = tr.skipped))
                continue;
            if ((size_t)tr.params != o.params) {
                fprintf(stderr, "bench nn-torch: the two embridge models differ: myobench has %zu parameters, "
                        "PyTorch %lld\n", o.params, tr.params);
                status = 1;
                break;
            }
            np_t = tr.params;
            memcpy(version, tr.version, sizeof version);
            double t = 1.0 / tr.steps_per_s;
            if (best_t == 0 || t < best_t) best_t = t;
        }
        if (status)
            break;
        if (skipped || best_t == 0)
            printf("%4d %4d %16.1f %15s %8s %12.4f %12s\n", thr, 1, 1e3 * best_c, "-", "-", (double)o.last_loss,
                   "-");
        else
            printf("%4d %4d %16.1f %15.1f %8.2f %12.4f %12.4f\n", thr, 1, 1e3 * best_c, 1e3 * best_t,
                   best_t / best_c, (double)o.last_loss, tr.loss_last);
        fflush(stdout);
    }
    if (!status && np_t >= 0)
        printf("parameters: myobench %zu, PyTorch %s %lld (same model; the C EMG encoder also carries its "
               "unused MAE decoder, which AdamW passes over)\n", np_c, version, np_t);
    printf("ratio = PyTorch ms/step over myobench's (above 1: the engine is faster); loss: the last timed "
           "step's total stage-2 loss (random data, so only a sanity check)\n");
    return status;
}

int bench_nn_torch(int argc, char **argv)
{
    int steps = 50, warmup = 5, rounds = 2, only = 0;
    const char *python = "/usr/bin/python3", *script = "bench/nn_torch.py";
    for (int i = 1; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--steps")) steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup")) warmup = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds")) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads")) only = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--python")) python = argv[++i];
        else if (!strcmp(argv[i], "--torch-script")) script = argv[++i];
    }
    if (steps < 1) steps = 1;
    if (warmup < 0) warmup = 0;
    if (rounds < 1) rounds = 1;
    const struct cfg *c = &cfgs[1];   // the "method" size
    printf("model: B %zu, %zu patches of %zu x %zu, D %zu, %zu heads, F %zu, %zu layers, %zu classes; "
           "AdamW lr %g -> %g (5 warm-up, cosine), betas %g %g, wd %g, clip %g\n",
           c->b, c->t / c->p, c->p, c->c, c->d, c->h, c->f, c->l, c->k, torch_opt.lr_max, torch_opt.lr_min,
           torch_adamw.beta1, torch_adamw.beta2, torch_adamw.weight_decay, torch_opt.clip);
    printf("%d warm-up + %d timed steps per side, best of %d interleaved rounds\n", warmup, steps, rounds);
    printf("%4s %4s %11s %15s %14s %8s %12s %8s\n", "OMP", "BLAS", "sgemm GF/s", "myobench st/s",
           "PyTorch st/s", "ratio", "engine GF/s", "of peak");
    /* n threads means OpenMP and OpenBLAS both at n, PyTorch at n; the last
     * row keeps OpenBLAS on one thread beside two OpenMP threads, since
     * OpenBLAS's idle pthreads spin (sched_yield) while OpenMP loops run
     * (docs/NN.md), and is compared with the PyTorch figure at 2 threads. */
    static const struct { int omp, blas; } runs[] = { { 1, 1 }, { 2, 2 }, { 2, 1 } };
    int omp0 = omp_get_max_threads(), blas0 = openblas_get_num_threads(), status = 0, skipped = 0;
    double fl = step_flops(c), torch_best[3] = { 0 };
    size_t np_c = 0;
    long long np_t = -1;
    char version[32] = "";
    for (size_t ri = 0; ri < sizeof runs / sizeof runs[0] && !status; ri++) {
        int thr = runs[ri].omp;
        if (only > 0 && thr != only)
            continue;
        int with_torch = !skipped && torch_best[thr] == 0;   // once per thread count
        omp_set_num_threads(thr);
        nn_set_blas_threads(runs[ri].blas);
        double peak = sgemm_peak(5), best_c = 0;
        struct torch_run tr = { 0 };
        for (int r = 0; r < rounds && !status; r++) {
            size_t np = 0;
            double sc = c_steps_per_s(c, warmup, steps, &np);
            if (sc < 0) { status = 1; break; }
            if (sc > best_c) best_c = sc;
            if (!with_torch || skipped)
                continue;
            if (torch_run(&tr, python, script, c, thr, warmup, steps)) { status = 1; break; }
            if ((skipped = tr.skipped))
                continue;
            if ((size_t)tr.params != np) {
                fprintf(stderr, "bench nn-torch: the two models differ: myobench has %zu parameters, "
                        "PyTorch %lld\n", np, tr.params);
                status = 1;
                break;
            }
            np_c = np, np_t = tr.params;
            memcpy(version, tr.version, sizeof version);
            if (tr.steps_per_s > torch_best[thr]) torch_best[thr] = tr.steps_per_s;
        }
        if (status)
            break;
        if (skipped)
            printf("%4d %4d %11.1f %15.1f %14s %8s %12.2f %7.1f%%\n", thr, runs[ri].blas, peak, best_c, "-",
                   "-", fl * best_c / 1e9, 100.0 * fl * best_c / 1e9 / peak);
        else
            printf("%4d %4d %11.1f %15.1f %14.1f %8.2f %12.2f %7.1f%%\n", thr, runs[ri].blas, peak, best_c,
                   torch_best[thr], best_c / torch_best[thr], fl * best_c / 1e9,
                   100.0 * fl * best_c / 1e9 / peak);
        fflush(stdout);
    }
    if (!status && np_t >= 0)
        printf("parameters: myobench %zu, PyTorch %s %lld (same model)\n", np_c, version, np_t);
    printf("ratio = myobench steps/s over PyTorch's (above 1: the engine is faster); engine GF/s counts "
           "the matmul flops of forward + backward over the whole step, optimiser included\n");
    if (!status)
        status = embridge_vs_torch(python, script, only, warmup, steps, rounds, skipped);
    omp_set_num_threads(omp0);
    nn_set_blas_threads(blas0);
    return status;
}
