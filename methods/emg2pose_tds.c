/* methods/emg2pose_tds.c - 'emg2pose-tds': the emg2pose supervised baseline
 * (methods.md §6.2) at small scale: a time-depth-separable convolution
 * featuriser trained to regress the joint-angle trajectory over the window
 * (L1 loss, emg2pose's objective without the fingertip term); embed = its
 * time-averaged features, linear-probed like the other encoders.
 *
 *   x [T x C] (rectified and standardised like the transformer's input)
 *   -> Conv1d(C -> Ch, k 11, s 5) ReLU LayerNorm          ("Conv1dBlock")
 *   -> Conv1d(Ch -> Ch, k 5, s 2) ReLU LayerNorm
 *   -> TDS conv block: Ch viewed as (Ch/4 channels x 4 width); a Conv over
 *      time (k 5) at each width position, ReLU, + the input cropped to the
 *      last T3 steps, LayerNorm                           ("TDSConv2dBlock")
 *   -> TDS fully connected block: Linear ReLU Linear, + input, LayerNorm
 *   -> features [T3 x Ch], each step ending at a known input sample
 *   -> interpolated to the pose frames (one per 20 ms, emg2pose's 50 Hz
 *      rollout) that some step's receptive field reaches, Linear(Ch -> J)
 *      per frame = the pose trajectory                    (the training path)
 *   -> mean over time = the embedding [Ch]                (the probe's input)
 * The emg2pose network has two TDS stages of two blocks each at 256
 * channels and an LSTM/MLP decoder that also sees the previous pose; here one
 * block of each kind at Ch = width (64) and a linear per-frame decoder. A
 * corpus without pose sequences has one frame, the window's end pose.
 * docs/METHODS.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "methods/common.h"
#include "methods/head.h"
#include "methods/hooks.h"
#include "methods/hp_keys.h"
#include "methods/method.h"
#include "methods/train.h"

#define K1 11      /* conv1 kernel and stride (emg2pose's, at 2 kHz) */
#define S1 5
#define K1_SHORT 3 /* for windows too short for them (low view rates) */
#define K2 5
#define S2 2
#define K3 5
#define TW 4   /* width of the (channels x width) view of the TDS conv block */
#define TDS_WD 0.05   /* AdamW weight decay: fixed, not the key 'wd' (it never read one) */

struct tds_hp {
    long mae_steps;              /* regression steps */
    struct mth_opt_hp opt;       /* wd unused (TDS_WD): not a key */
    long width;                  /* Ch */
    int rectify;
};

#define S struct tds_hp
static const struct mb_param tds_params_table[] = {
    MTH_P_MAE_STEPS(S, mae_steps),
    MTH_P_BATCH(S, opt.batch),
    /* the shared key's default and range; here it counts channels */
    MTH_KEY("width", MB_PT_INT, S, width, 64, 4, 1024,
            "convolution channels Ch = the embedding width (a multiple of 4)"),
    MTH_P_RECTIFY(S, rectify),
    MTH_P_LR(S, opt.lr),
    MTH_P_WARMUP(S, opt.warmup),
    MTH_P_CLIP(S, opt.clip),
    MB_PARAM_END
};
#undef S

static int tds_check(const void *hpv, const char *name)
{
    const struct tds_hp *hp = hpv;
    if (hp->width % TW)
        return mb_error(MB_EINVAL, "%s: width %ld is not a multiple of %d", name, hp->width, TW);
    return MB_OK;
}

/* Views of the tensors (bound when they are laid out, tds_init). */
struct tds_w {
    float *c1_w, *c1_b, *ln1_w, *ln1_b;   /* [Ch x k1 x C], [Ch], [Ch], [Ch] */
    float *c2_w, *c2_b, *ln2_w, *ln2_b;   /* [Ch x K2 x Ch], [Ch] x3 */
    float *t_w, *t_b, *ln3_w, *ln3_b;     /* [g x K3 x g], [g], [Ch], [Ch] */
    float *f1_w, *f1_b, *f2_w, *f2_b;     /* [Ch x Ch], [Ch], [Ch x Ch], [Ch] */
    float *ln4_w, *ln4_b, *out_w, *out_b; /* [Ch], [Ch], [J x Ch], [J] */
};

/* The method's fitted state (the contract's struct mb_method_model). */
struct tds {
    size_t T, C, J, Ch, g;     /* g = Ch / TW channels per width position */
    size_t k1, s1;             /* conv1 kernel and stride */
    size_t T1, T2, T3;         /* lengths after conv1, conv2, the TDS conv */
    size_t F, f0, Fu;          /* pose frames per window, the first regressed, how many (F - f0) */
    size_t *lo;                /* [Fu] feature step at or before each regressed frame's end */
    float *wt;                 /* [Fu] weight of step lo + 1 in the frame's feature (linear) */
    int rectify;
    float *mean, *istd;        /* [C] input standardisation */
    float *pmean, *pistd;      /* [J] pose standardisation of the targets */
    struct nn_params p;
    struct tds_w w, gw;        /* views of the parameters and of their gradients */
    struct mth_curve loss;     /* L1 per training step */
    struct mth_head head;      /* logistic regression on the embedding (predict_proba) */
};

/* Activations of a batch; names follow the forward. */
struct tds_act {
    float *x;                                  /* [B x T x C] */
    float *col1, *a1, *l1, *mu1, *rs1;         /* conv1: col, ReLU output, LN output, LN stats */
    float *col2, *a2, *l2, *mu2, *rs2;         /* conv2 */
    float *tr, *col3, *a3, *res, *l3, *mu3, *rs3; /* TDS conv: transposed input, conv+ReLU, residual, LN */
    float *h1, *res2, *l4, *mu4, *rs4;         /* TDS FC */
    float *z, *hf, *y;                         /* [B x Ch], [B x Fu x Ch], [B x Fu x J] */
    float *dy, *dhf, *dl4, *dres2, *dh1, *dl3, *dres, *da3, *dtr, *dcol, *dl2, *da2, *dl1, *da1;
};

static void relu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0 ? x[i] : 0;
}

/* d *= (y > 0), y the ReLU output. */
static void relu_back(float *d, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(y[i] > 0))
            d[i] = 0;
}

static void tds_free(struct tds *t)
{
    if (!t)
        return;
    mth_curve_release(&t->loss);
    mth_head_release(&t->head);
    free(t->mean);
    free(t->istd);
    free(t->pmean);
    free(t->pistd);
    free(t->lo);
    free(t->wt);
    nn_params_release(&t->p);
    free(t);
}

#define NBUF (sizeof(struct tds_act) / sizeof(float *))

static void act_free(struct tds_act *a)
{
    float **f = (float **)a;
    for (size_t i = 0; i < NBUF; i++)
        free(f[i]);
    memset(a, 0, sizeof *a);
}

static int act_alloc(struct tds_act *a, const struct tds *t, size_t B)
{
    memset(a, 0, sizeof *a);
    size_t Ch = t->Ch, n1 = B * t->T1 * Ch, n2 = B * t->T2 * Ch, n3 = B * t->T3 * Ch, nf = B * t->Fu;
    size_t c1 = B * t->T1 * t->k1 * t->C, c2 = B * t->T2 * K2 * Ch, c3 = B * TW * t->T3 * K3 * t->g;
    size_t cmax = c1 > c2 ? c1 : c2;
    cmax = cmax > c3 ? cmax : c3;
    const size_t sz[NBUF] = {
        B * t->T * t->C,
        c1, n1, n1, B * t->T1, B * t->T1,
        c2, n2, n2, B * t->T2, B * t->T2,
        n2, c3, n3, n3, n3, B * t->T3, B * t->T3,
        n3, n3, n3, B * t->T3, B * t->T3,
        B * Ch, nf * Ch, nf * t->J,
        nf * t->J, nf * Ch, n3, n3, n3, n3, n3, n3, n2, cmax, n2, n2, n1, n1,
    };
    float **f = (float **)a;
    for (size_t i = 0; i < NBUF; i++)
        if (!(f[i] = malloc((sz[i] + 1) * sizeof *f[i]))) {
            act_free(a);
            return mb_error(MB_ENOMEM, "emg2pose-tds: out of memory for a batch of %zu", B);
        }
    return MB_OK;
}

/* [B x T x (g*TW)] feature f = c*TW + j  <->  [(B*TW) x T x g] row (b*TW + j), channel c. */
static void to_groups(float *dst, const float *src, size_t B, size_t T, size_t g)
{
    for (size_t b = 0; b < B; b++)
        for (size_t j = 0; j < TW; j++)
            for (size_t s = 0; s < T; s++)
                for (size_t c = 0; c < g; c++)
                    dst[((b * TW + j) * T + s) * g + c] = src[(b * T + s) * g * TW + c * TW + j];
}

static void from_groups(float *dst, const float *src, size_t B, size_t T, size_t g)
{
    for (size_t b = 0; b < B; b++)
        for (size_t j = 0; j < TW; j++)
            for (size_t s = 0; s < T; s++)
                for (size_t c = 0; c < g; c++)
                    dst[(b * T + s) * g * TW + c * TW + j] = src[((b * TW + j) * T + s) * g + c];
}

static void forward(struct tds_act *a, const struct tds *t, size_t B)
{
    size_t Ch = t->Ch, g = t->g, T1 = t->T1, T2 = t->T2, T3 = t->T3;
    nn_conv1d_forward(a->a1, a->col1, a->x, t->w.c1_w, t->w.c1_b, B, t->T, t->C, Ch, t->k1, t->s1, 0);
    relu(a->a1, B * T1 * Ch);
    nn_layernorm_forward(a->l1, a->mu1, a->rs1, a->a1, t->w.ln1_w, t->w.ln1_b, B * T1, Ch);
    nn_conv1d_forward(a->a2, a->col2, a->l1, t->w.c2_w, t->w.c2_b, B, T1, Ch, Ch, K2, S2, 0);
    relu(a->a2, B * T2 * Ch);
    nn_layernorm_forward(a->l2, a->mu2, a->rs2, a->a2, t->w.ln2_w, t->w.ln2_b, B * T2, Ch);
    /* TDS conv: per width position, over time, mixing the g channels */
    to_groups(a->tr, a->l2, B, T2, g);
    float *tmp = a->dtr;   /* free during the forward: [B*TW x T3 x g] */
    nn_conv1d_forward(tmp, a->col3, a->tr, t->w.t_w, t->w.t_b, B * TW, T2, g, g, K3, 1, 0);
    relu(tmp, B * T3 * Ch);
    from_groups(a->a3, tmp, B, T3, g);
    for (size_t b = 0; b < B; b++)   /* residual: the input's last T3 steps */
        for (size_t s = 0; s < T3; s++)
            for (size_t f = 0; f < Ch; f++)
                a->res[(b * T3 + s) * Ch + f] = a->a3[(b * T3 + s) * Ch + f] + a->l2[(b * T2 + (T2 - T3) + s) * Ch + f];
    nn_layernorm_forward(a->l3, a->mu3, a->rs3, a->res, t->w.ln3_w, t->w.ln3_b, B * T3, Ch);
    /* TDS fully connected */
    nn_linear_forward(a->h1, a->l3, t->w.f1_w, t->w.f1_b, B * T3, Ch, Ch);
    relu(a->h1, B * T3 * Ch);
    nn_linear_forward(a->res2, a->h1, t->w.f2_w, t->w.f2_b, B * T3, Ch, Ch);
    for (size_t i = 0; i < B * T3 * Ch; i++)
        a->res2[i] += a->l3[i];
    nn_layernorm_forward(a->l4, a->mu4, a->rs4, a->res2, t->w.ln4_w, t->w.ln4_b, B * T3, Ch);
    nn_mean_pool_forward(a->z, a->l4, NULL, B, T3, Ch);
    /* the trajectory: each regressed frame's features, then the per-frame readout */
    for (size_t b = 0; b < B; b++)
        for (size_t f = 0; f < t->Fu; f++) {
            const float *p = a->l4 + (b * T3 + t->lo[f]) * Ch, *q = t->wt[f] > 0 ? p + Ch : p;
            float w = t->wt[f], *h = a->hf + (b * t->Fu + f) * Ch;
            for (size_t k = 0; k < Ch; k++)
                h[k] = (1 - w) * p[k] + w * q[k];
        }
    nn_linear_forward(a->y, a->hf, t->w.out_w, t->w.out_b, B * t->Fu, Ch, t->J);
}

/* Backward from a->dy [B x Fu x J] into the parameter gradients. */
static void backward(struct tds_act *a, const struct tds *t, size_t B)
{
    size_t Ch = t->Ch, g = t->g, T1 = t->T1, T2 = t->T2, T3 = t->T3, n3 = B * T3 * Ch;
    memset(a->dhf, 0, B * t->Fu * Ch * sizeof *a->dhf);
    nn_linear_backward(a->dhf, t->gw.out_w, t->gw.out_b, a->dy, a->hf, t->w.out_w, B * t->Fu, Ch, t->J);
    memset(a->dl4, 0, n3 * sizeof *a->dl4);
    for (size_t b = 0; b < B; b++)
        for (size_t f = 0; f < t->Fu; f++) {
            float *p = a->dl4 + (b * T3 + t->lo[f]) * Ch, *q = t->wt[f] > 0 ? p + Ch : p;
            const float w = t->wt[f], *d = a->dhf + (b * t->Fu + f) * Ch;
            for (size_t k = 0; k < Ch; k++) {
                p[k] += (1 - w) * d[k];
                q[k] += w * d[k];
            }
        }
    memset(a->dres2, 0, n3 * sizeof *a->dres2);
    nn_layernorm_backward(a->dres2, t->gw.ln4_w, t->gw.ln4_b, a->dl4, a->res2, a->mu4, a->rs4, t->w.ln4_w, B * T3, Ch);
    memset(a->dh1, 0, n3 * sizeof *a->dh1);
    nn_linear_backward(a->dh1, t->gw.f2_w, t->gw.f2_b, a->dres2, a->h1, t->w.f2_w, B * T3, Ch, Ch);
    relu_back(a->dh1, a->h1, n3);
    memcpy(a->dl3, a->dres2, n3 * sizeof *a->dl3);   /* the residual path */
    nn_linear_backward(a->dl3, t->gw.f1_w, t->gw.f1_b, a->dh1, a->l3, t->w.f1_w, B * T3, Ch, Ch);
    memset(a->dres, 0, n3 * sizeof *a->dres);
    nn_layernorm_backward(a->dres, t->gw.ln3_w, t->gw.ln3_b, a->dl3, a->res, a->mu3, a->rs3, t->w.ln3_w, B * T3, Ch);
    /* residual into the cropped input, conv branch through ReLU */
    memset(a->dl2, 0, B * T2 * Ch * sizeof *a->dl2);
    for (size_t b = 0; b < B; b++)
        for (size_t s = 0; s < T3; s++)
            for (size_t f = 0; f < Ch; f++)
                a->dl2[(b * T2 + (T2 - T3) + s) * Ch + f] += a->dres[(b * T3 + s) * Ch + f];
    memcpy(a->da3, a->dres, n3 * sizeof *a->da3);
    relu_back(a->da3, a->a3, n3);
    float *dgr = a->dres2;   /* free now: the grouped conv-output gradient [B*TW x T3 x g] */
    to_groups(dgr, a->da3, B, T3, g);
    memset(a->dtr, 0, B * T2 * Ch * sizeof *a->dtr);
    nn_conv1d_backward(a->dtr, t->gw.t_w, t->gw.t_b, a->dcol, dgr, a->col3, t->w.t_w, B * TW, T2, g, g, K3, 1, 0);
    float *dl2g = a->da2;    /* free now: [B x T2 x Ch] */
    from_groups(dl2g, a->dtr, B, T2, g);
    for (size_t i = 0; i < B * T2 * Ch; i++)
        a->dl2[i] += dl2g[i];
    memset(a->da2, 0, B * T2 * Ch * sizeof *a->da2);
    nn_layernorm_backward(a->da2, t->gw.ln2_w, t->gw.ln2_b, a->dl2, a->a2, a->mu2, a->rs2, t->w.ln2_w, B * T2, Ch);
    relu_back(a->da2, a->a2, B * T2 * Ch);
    memset(a->dl1, 0, B * T1 * Ch * sizeof *a->dl1);
    nn_conv1d_backward(a->dl1, t->gw.c2_w, t->gw.c2_b, a->dcol, a->da2, a->col2, t->w.c2_w, B, T1, Ch, Ch, K2, S2, 0);
    memset(a->da1, 0, B * T1 * Ch * sizeof *a->da1);
    nn_layernorm_backward(a->da1, t->gw.ln1_w, t->gw.ln1_b, a->dl1, a->a1, a->mu1, a->rs1, t->w.ln1_w, B * T1, Ch);
    relu_back(a->da1, a->a1, B * T1 * Ch);
    nn_conv1d_backward(NULL, t->gw.c1_w, t->gw.c1_b, a->dcol, a->da1, a->col1, t->w.c1_w, B, t->T, t->C, Ch, t->k1,
                       t->s1, 0);
}

static void fill(struct tds_act *a, const struct tds *t, const float *const *rows, size_t B)
{
    size_t n = t->T * t->C;
    for (size_t b = 0; b < B; b++)
        for (size_t k = 0; k < n; k++) {
            size_t c = k % t->C;
            float v = rows[b][k];
            v = ((t->rectify ? fabsf(v) : v) - t->mean[c]) * t->istd[c];
            a->x[b * n + k] = isfinite(v) ? v : 0.0f;
        }
}

static void stats(float *mean, float *istd, const float *const *rows, size_t n, size_t T, size_t C, int rect)
{
    for (size_t c = 0; c < C; c++) {
        double s = 0, s2 = 0;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t u = 0; u < T; u++) {
                double v = rows[i][u * C + c];
                v = rect ? fabs(v) : v;
                if (isfinite(v)) {
                    s += v;
                    s2 += v * v;
                    k++;
                }
            }
        double m = k ? s / (double)k : 0, var = k ? s2 / (double)k - m * m : 0;
        mean[c] = (float)m;
        istd[c] = var > 1e-20 ? (float)(1 / sqrt(var)) : 1.0f;
    }
}

static int tds_init(struct tds **out, const struct tds_hp *hp, const struct cp_corpus *c, uint64_t seed)
{
    struct tds *t = calloc(1, sizeof *t);
    if (!t)
        return mb_error(MB_ENOMEM, "out of memory");
    t->T = c->W;
    t->C = c->C;
    t->J = c->J;
    t->Ch = (size_t)hp->width;
    t->rectify = (int)hp->rectify;
    if (t->Ch % TW) {
        size_t ch = t->Ch;
        tds_free(t);
        return mb_error(MB_EINVAL, "emg2pose-tds: width %zu is not a multiple of %d", ch, TW);
    }
    t->g = t->Ch / TW;
    /* emg2pose's first convolution needs (K3-1)*S1*S2 + (K2-1)*S1 + K1 = 71
     * samples; shorter windows (low view rates) get kernel 3, stride 1 */
    t->k1 = K1;
    t->s1 = S1;
    if (t->T < (size_t)((K3 - 1) * S1 * S2 + (K2 - 1) * S1 + K1)) {
        t->k1 = K1_SHORT;
        t->s1 = 1;
    }
    size_t need = (K3 - 1) * t->s1 * S2 + (K2 - 1) * t->s1 + t->k1;
    if (t->T < need) {
        tds_free(t);
        return mb_error(MB_EINVAL, "emg2pose-tds: a window of %zu samples is too short for the convolutions "
                        "(needs at least %zu)", (size_t)c->W, need);
    }
    t->T1 = nn_conv1d_len(t->T, t->k1, t->s1, 0);
    t->T2 = nn_conv1d_len(t->T1, K2, S2, 0);
    t->T3 = nn_conv1d_len(t->T2, K3, 1, 0);
    size_t Ch = t->Ch, g = t->g;
    /* Step s of the features has seen input up to sample end(s) (exclusive); frame f
     * of F ends at (f + 1) T / F (the corpus's pose_seq). A frame is regressed from
     * the features interpolated at its end, as emg2pose interpolates its features to
     * the 50 Hz rollout; frames ending before the first step's receptive field is
     * complete have no features yet (emg2pose pads a left context instead) and are
     * left out. */
    t->F = cp_pose_frames(c);
    size_t e0 = ((K3 - 1) * S2 + K2 - 1) * t->s1 + t->k1, de = S2 * t->s1;  /* end(s) = e0 + s de */
    t->f0 = 0;
    while (t->f0 < t->F && (t->f0 + 1) * t->T / t->F < e0)
        t->f0++;
    t->Fu = t->F - t->f0;   /* >= 1: the last frame ends at T >= e0 */
    t->lo = malloc(t->Fu * sizeof *t->lo);
    t->wt = malloc(t->Fu * sizeof *t->wt);
    for (size_t f = 0; t->lo && t->wt && f < t->Fu; f++) {
        size_t end = (t->f0 + f + 1) * t->T / t->F, s = (end - e0) / de;
        if (s >= t->T3 - 1) {
            t->lo[f] = t->T3 - 1;
            t->wt[f] = 0;
        } else {
            t->lo[f] = s;
            t->wt[f] = (float)(end - e0 - s * de) / (float)de;
        }
    }
    t->mean = malloc(t->C * sizeof *t->mean);
    t->istd = malloc(t->C * sizeof *t->istd);
    t->pmean = malloc(t->J * sizeof *t->pmean);
    t->pistd = malloc(t->J * sizeof *t->pistd);
    /* the layout; init: weights U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's default),
     * norms' weights 1, biases 0 */
    enum { ZERO, ONE, FAN_IN };
#define T(name, field, decay, nd, init, ...) { name, offsetof(struct tds_w, field), decay, nd, init, { __VA_ARGS__ } }
    const struct { const char *n; size_t off; int decay, nd, init; size_t s[3]; } L[] = {
        T("c1.w", c1_w, 1, 3, FAN_IN, Ch, t->k1, t->C), T("c1.b", c1_b, 0, 1, ZERO, Ch),
        T("ln1.w", ln1_w, 0, 1, ONE, Ch),               T("ln1.b", ln1_b, 0, 1, ZERO, Ch),
        T("c2.w", c2_w, 1, 3, FAN_IN, Ch, K2, Ch),      T("c2.b", c2_b, 0, 1, ZERO, Ch),
        T("ln2.w", ln2_w, 0, 1, ONE, Ch),               T("ln2.b", ln2_b, 0, 1, ZERO, Ch),
        T("t.w", t_w, 1, 3, FAN_IN, g, K3, g),          T("t.b", t_b, 0, 1, ZERO, g),
        T("ln3.w", ln3_w, 0, 1, ONE, Ch),               T("ln3.b", ln3_b, 0, 1, ZERO, Ch),
        T("f1.w", f1_w, 1, 2, FAN_IN, Ch, Ch),          T("f1.b", f1_b, 0, 1, ZERO, Ch),
        T("f2.w", f2_w, 1, 2, FAN_IN, Ch, Ch),          T("f2.b", f2_b, 0, 1, ZERO, Ch),
        T("ln4.w", ln4_w, 0, 1, ONE, Ch),               T("ln4.b", ln4_b, 0, 1, ZERO, Ch),
        T("out.w", out_w, 1, 2, FAN_IN, t->J, Ch),      T("out.b", out_b, 0, 1, ZERO, t->J),
    };
#undef T
    int rc = (t->mean && t->istd && t->pmean && t->pistd && t->lo && t->wt) ? MB_OK
             : mb_error(MB_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < sizeof L / sizeof L[0]; i++) {
        int r = nn_params_add(&t->p, L[i].n, L[i].decay, L[i].nd, L[i].s, (float **)((char *)&t->w + L[i].off),
                              (float **)((char *)&t->gw + L[i].off));
        rc = r < 0 ? r : MB_OK;
    }
    if (!rc)
        rc = nn_params_alloc(&t->p);
    if (rc) {
        tds_free(t);
        return rc;
    }
    struct mb_rng r;
    mb_rng_seed(&r, seed, 0x746473);   /* "tds": the init stream */
    for (size_t i = 0; i < sizeof L / sizeof L[0]; i++) {
        float *w = *(float **)((char *)&t->w + L[i].off);
        size_t n = t->p.t[i].size;
        if (L[i].init == ONE)
            nn_init_const(w, n, 1);
        else if (L[i].init == FAN_IN)
            nn_init_uniform(w, n, 1.0f / sqrtf((float)(n / L[i].s[0])), &r);
    }
    *out = t;
    return MB_OK;
}

static int tds_embed_rows(float *Z, const struct tds *t, const float *const *rows, size_t n)
{
    if (!n)
        return MB_OK;
    size_t B = n < 128 ? n : 128;
    struct tds_act a;
    int rc = act_alloc(&a, t, B);
    if (rc)
        return rc;
    int prev = nn_set_blas_threads(1);
    for (size_t i = 0; i < n; i += B) {
        size_t b = n - i < B ? n - i : B;
        fill(&a, t, rows + i, b);
        forward(&a, t, b);
        memcpy(Z + i * t->Ch, a.z, b * t->Ch * sizeof *Z);
    }
    nn_set_blas_threads(prev);
    act_free(&a);
    for (size_t i = 0; i < n * t->Ch; i++)
        if (!isfinite(Z[i]))
            return mb_error(MB_ENUM, "emg2pose-tds: non-finite embedding of window %zu", i / t->Ch);
    return MB_OK;
}

/* Z [x->n x Ch]: the embedding of a set's EMG windows (the head's input). */
static int tds_embed_set(float *Z, const void *ctx, const struct cp_set *x)
{
    const float **r = mth_rows(x, MTH_EMG);
    if (!r)
        return MB_ENOMEM;
    int rc = tds_embed_rows(Z, ctx, r, x->n);
    mth_rows_free(r, x, MTH_EMG);
    return rc;
}

/* Trains on the training windows with a valid pose: L1 between the
 * predicted and the true (standardised) pose of the regressed frames. */
static int tds_train_pinned(struct tds *t, const struct tds_hp *hp, const struct cp_set *train, uint64_t seed);

/* tds_train_pinned with the training set's recordings read (lazy corpora). */
static int tds_train(struct tds *t, const struct tds_hp *hp, const struct cp_set *train, uint64_t seed)
{
    int rc = cp_set_pin(train);
    if (rc)
        return rc;
    rc = tds_train_pinned(t, hp, train, seed);
    cp_set_unpin(train);
    return rc;
}

static int tds_train_pinned(struct tds *t, const struct tds_hp *hp, const struct cp_set *train, uint64_t seed)
{
    const struct cp_corpus *c = train->c;
    size_t n = 0, J = t->J;
    const float **rows = calloc(train->n + 1, sizeof *rows), **prow = calloc(train->n + 1, sizeof *prow);
    int *perm = malloc((train->n + 1) * sizeof *perm);
    long steps = (long)hp->mae_steps;
    if (!rows || !prow || !perm) {
        free(rows); free(prow); free(perm);
        return mb_error(MB_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < train->n; k++) {
        size_t i = train->idx[k];
        if (c->pose_valid && !c->pose_valid[i])
            continue;   /* IK failures carry no pose */
        rows[n] = cp_window(c, i);
        prow[n] = cp_pose_row(c, i) + t->f0 * J;   /* [Fu x J]: the regressed frames */
        n++;
    }
    int rc = MB_OK;
    stats(t->mean, t->istd, rows, n, t->T, t->C, t->rectify);
    stats(t->pmean, t->pistd, prow, n, t->Fu, J, 0);
    if (n < 2 || steps <= 0) {
        if (n < 2 && steps > 0)
            rc = mb_error(MB_EINVAL, "emg2pose-tds: %zu training windows with a valid pose", n);
        free(rows); free(prow); free(perm);
        return rc;
    }
    size_t B = (size_t)hp->opt.batch < n ? (size_t)hp->opt.batch : n;
    struct tds_act a;
    if ((rc = mth_curve_alloc(&t->loss, steps)) || (rc = act_alloc(&a, t, B))) {
        free(rows); free(prow); free(perm);
        return rc;
    }
    const float **br = malloc(B * sizeof *br);
    size_t FJ = t->Fu * J;
    float *target = malloc(B * FJ * sizeof *target);   /* [B x Fu x J] */
    if (!br || !target) {
        rc = mb_error(MB_ENOMEM, "out of memory");
        goto out;
    }
    int prev = nn_set_blas_threads(1);
    struct mb_rng rb;
    mb_rng_seed(&rb, seed, 1);
    for (size_t i = 0; i < n; i++)
        perm[i] = (int)i;
    size_t at = n;
    struct mth_opt_hp o = hp->opt;
    o.wd = TDS_WD;
    struct mth_train tr = mth_train_cfg(&o, steps);
    struct nn_adamw opt = NN_ADAMW_DEFAULT;
    opt.weight_decay = tr.wd;
    for (long s = 0; s < steps; s++) {
        if (at + B > n) {
            mb_rng_shuffle_int(&rb, perm, n);
            at = 0;
        }
        for (size_t b = 0; b < B; b++) {
            size_t k = (size_t)perm[at + b];
            br[b] = rows[k];
            for (size_t f = 0; f < FJ; f++)
                target[b * FJ + f] = (prow[k][f] - t->pmean[f % J]) * t->pistd[f % J];
        }
        at += B;
        fill(&a, t, br, B);
        nn_params_zero_grad(&t->p);
        forward(&a, t, B);
        double loss = 0;
        float sc = 1.0f / (float)(B * FJ);
        for (size_t i = 0; i < B * FJ; i++) {
            float d = a.y[i] - target[i];
            loss += fabsf(d);
            a.dy[i] = d > 0 ? sc : d < 0 ? -sc : 0;   /* the L1 subgradient, mean over B x Fu x J */
        }
        loss /= (double)(B * FJ);
        if (!isfinite(loss)) {
            rc = mb_error(MB_ENUM, "emg2pose-tds: loss is %g at step %ld", loss, s);
            break;
        }
        t->loss.v[s] = (float)loss;
        backward(&a, t, B);
        nn_clip_grad_norm(t->p.grad, t->p.total, tr.clip);
        nn_adamw_step(&t->p, &opt, nn_lr_cosine(s, tr.warmup, tr.steps, tr.lr, tr.lr_min), s + 1);
    }
    nn_set_blas_threads(prev);
out:
    act_free(&a);
    free(br);
    free(target);
    free(rows);
    free(prow);
    free(perm);
    return rc;
}

static int tds_fit(struct mb_method_model **out, const struct cp_set *train, const int32_t *classes, size_t K,
                   const void *hpv, uint64_t seed, struct mb_shared *sh)
{
    (void)sh;
    const struct tds_hp *hp = hpv;
    *out = NULL;
    if (!train->c->J)
        return mb_error(MB_EINVAL, "emg2pose-tds: corpus '%s' has no pose stream to regress",
                        train->c->name ? train->c->name : "?");
    struct tds *t = NULL;
    int rc;
    if (!(rc = tds_init(&t, hp, train->c, seed)) && !(rc = tds_train(t, hp, train, seed)))
        rc = mth_head_fit(&t->head, tds_embed_set, t, t->Ch, train, classes, K, seed, "emg2pose-tds");
    if (rc) {
        tds_free(t);
        return rc;
    }
    *out = (struct mb_method_model *)t;
    return MB_OK;
}

static int tds_predict(float *P, const struct mb_method_model *mm, const struct cp_set *test)
{
    const struct tds *t = (const struct tds *)mm;
    return mth_head_predict(P, &t->head, tds_embed_set, t, t->Ch, test);
}

static int tds_embed(float *Z, size_t *E, const struct mb_method_model *mm, const struct cp_set *x)
{
    const struct tds *t = (const struct tds *)mm;
    if (E)
        *E = t->Ch;
    return tds_embed_set(Z, t, x);
}

static size_t tds_dim(const struct mb_method_model *mm) { return ((const struct tds *)mm)->Ch; }

/* The representation: the weights and the input standardisation (not the
 * pose standardisation of the targets, nor the logistic head). */
static void tds_hash(char hex[65], const struct mb_method_model *mm)
{
    const struct tds *t = (const struct tds *)mm;
    char h[2][65], cat[129], net[65];
    mb_sha256_hex(h[0], t->p.data, t->p.total * sizeof *t->p.data);
    mb_sha256_hex(h[1], t->mean, t->C * sizeof *t->mean);
    snprintf(cat, sizeof cat, "%s%s", h[0], h[1]);
    mb_sha256_hex(net, cat, 128);
    mb_sha256_hex(hex, net, 64);   /* hashed again, as every method's representation */
}

static void tds_release(struct mb_method_model *mm) { tds_free((struct tds *)mm); }

const struct mb_method mb_method_emg2pose_tds = {
    .name = "emg2pose-tds",
    .summary = "emg2pose baseline: TDS convolution featuriser trained to regress the pose (L1), frozen; logistic head",
    .caps = MB_CAP_CLASSIFY | MB_CAP_EMBED | MB_CAP_NEEDS_POSE,
    .params = tds_params_table,
    .hp_size = sizeof(struct tds_hp),
    .check = tds_check,
    .fit = tds_fit,
    .predict_proba = tds_predict,
    .embed = tds_embed,
    .param_hash = tds_hash,
    .free = tds_release,
    .embed_dim = tds_dim,
};

/* ---- test hooks (methods/hooks.h) ---------------------------------------------- */

const struct mth_curve *tds_curve(const struct mb_method_model *m) { return &((const struct tds *)m)->loss; }
struct nn_params *tds_params(struct mb_method_model *m) { return &((struct tds *)m)->p; }
size_t tds_frames(const struct mb_method_model *m) { return ((const struct tds *)m)->Fu; }

/* FNV-1a over the on/off bits of n ReLU outputs. */
static uint64_t relu_pattern(uint64_t h, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint64_t)(y[i] > 0)) * 0x100000001b3ull;
    return h;
}

double tds_sq_loss(struct mb_method_model *m, const float *const *rows, const float *target, size_t B, int grad,
                   uint64_t *relu_sig)
{
    struct tds *t = (struct tds *)m;
    struct tds_act a;
    if (act_alloc(&a, t, B))
        return NAN;
    fill(&a, t, rows, B);
    forward(&a, t, B);
    double loss = 0;
    for (size_t i = 0; i < B * t->Fu * t->J; i++) {
        double d = (double)a.y[i] - target[i];
        loss += 0.5 * d * d;
        a.dy[i] = (float)d;
    }
    if (relu_sig) {
        uint64_t h = 0xcbf29ce484222325ull;
        h = relu_pattern(h, a.a1, B * t->T1 * t->Ch);
        h = relu_pattern(h, a.a2, B * t->T2 * t->Ch);
        h = relu_pattern(h, a.a3, B * t->T3 * t->Ch);
        *relu_sig = relu_pattern(h, a.h1, B * t->T3 * t->Ch);
    }
    if (grad)
        backward(&a, t, B);
    act_free(&a);
    return loss;
}
