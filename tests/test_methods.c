/* tests/test_methods.c - the neural methods (methods/): each fits on a tiny
 * in-memory corpus and gives finite embeddings and probabilities; same seed
 * gives the same parameters and predictions, for 1 or 2 OpenMP threads;
 * the MAE losses fall; embed / predict / zero-shot leave the parameters
 * alone; CPEP names gestures it never saw in training from their pose
 * references alone, above chance, on an easy corpus.
 *
 * The corpus: gesture g has a pose prototype q_g [J] (N(0, 4) entries); a
 * window's pose is q_g plus N(0, 0.7^2) noise (wide clusters, so the seen
 * gestures cover pose space and the EMG-to-pose alignment can generalise), and its EMG is an envelope-like signal whose channel
 * levels are a fixed linear map of the pose (the same for every subject)
 * plus noise. So EMG determines pose, and an EMG encoder aligned to the
 * pose encoder can place unseen gestures' windows near their poses. */
#include <cblas.h>
#include <criterion/criterion.h>
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/fs.h"
#include "core/shared.h"
#include "core/rng.h"
#include "methods/hooks.h"
#include "protocols/protocol.h"
#include "tests/corpus_fixture.h"
#include "tests/corpus_util.h"
#include "tests/method_util.h"
#include "tests/testutil.h"

#define TC 8      /* channels */
#define TJ 6      /* pose joints */
#define TW 200    /* samples per window: 400 ms at 500 Hz, 4 patches of 100 ms */
#define TG 16     /* gestures: 0..11 seen in training, 12..15 unseen */
#define TSEEN 12

struct tcorpus {
    struct cp_corpus c;
    size_t *idx;          /* [n] 0..n-1 */
};

static const float MIX[TC][TJ] = {   /* EMG level = MIX q: full column rank */
    { 1.0f, 0.2f, 0, 0, 0.3f, 0 }, { 0, 1.0f, 0.4f, 0, 0, 0.1f }, { 0.2f, 0, 1.0f, 0.3f, 0, 0 },
    { 0, 0.1f, 0, 1.0f, 0.5f, 0 }, { 0.4f, 0, 0, 0, 1.0f, 0.2f }, { 0, 0.3f, 0.2f, 0, 0, 1.0f },
    { 0.5f, 0.5f, 0, 0, 0, 0 },    { 0, 0, 0, 0.5f, 0, 0.5f },
};

/* n_per windows of each gesture in [g0, g1), subjects cycling over 3. */
static void make_corpus(struct tcorpus *t, int g0, int g1, size_t n_per, uint64_t seed)
{
    struct mb_rng r, rq;
    mb_rng_seed(&rq, 42, 0);   /* prototypes do not depend on the split's seed */
    float q[TG][TJ];
    for (int g = 0; g < TG; g++)
        for (int j = 0; j < TJ; j++)
            q[g][j] = 2.0f * (float)mb_rng_normal(&rq);
    mb_rng_seed(&r, seed, 1);
    struct cp_corpus *c = &t->c;
    memset(t, 0, sizeof *t);
    c->name = "tiny";
    c->view.rate_hz = 500;
    c->view.window_ms = 400;
    c->view.stride_ms = 400;
    c->C = TC;
    c->W = TW;
    c->J = TJ;
    c->n = (size_t)(g1 - g0) * n_per;
    cr_assert_eq(tu_corpus_pack(c), MB_OK);
    c->pose = malloc(c->n * TJ * sizeof *c->pose);
    c->label = malloc(c->n * sizeof *c->label);
    c->subject = malloc(c->n * sizeof *c->subject);
    t->idx = malloc(c->n * sizeof *t->idx);
    cr_assert(c->pose && c->label && c->subject && t->idx);
    size_t i = 0;
    for (int g = g0; g < g1; g++)
        for (size_t k = 0; k < n_per; k++, i++) {
            float p[TJ];
            for (int j = 0; j < TJ; j++)
                p[j] = c->pose[i * TJ + j] = q[g][j] + 0.7f * (float)mb_rng_normal(&r);
            for (int ch = 0; ch < TC; ch++) {
                float lvl = 0;
                for (int j = 0; j < TJ; j++)
                    lvl += MIX[ch][j] * p[j];
                float amp = expf(0.5f * lvl);   /* EMG-like: zero-mean, the amplitude carries the pose */
                for (int s = 0; s < TW; s++)
                    tu_window(c, i)[(size_t)s * TC + (size_t)ch] = amp * (float)mb_rng_normal(&r);
            }
            c->label[i] = g;
            c->subject[i] = (int32_t)(k % 3);
            t->idx[i] = i;
        }
    /* a corpus's identity for shared work (a file's hash in real runs): what made it */
    char id[128];
    int l = snprintf(id, sizeof id, "test corpus g %d-%d n %zu seed %llu", g0, g1, n_per, (unsigned long long)seed);
    mb_sha256_hex(c->sha256, id, (size_t)l);
}

/* Gives each window a pose sequence of Wp frames ramping from 0 to its end pose
 * (the corpus's pose_seq layout: the last frame is the end pose). */
static void add_pose_seq(struct tcorpus *t, size_t Wp)
{
    struct cp_corpus *c = &t->c;
    c->Wp = Wp;
    c->pose_seq = malloc(c->n * Wp * c->J * sizeof *c->pose_seq);   /* [n x Wp x J] */
    cr_assert_not_null(c->pose_seq);
    for (size_t i = 0; i < c->n; i++)
        for (size_t f = 0; f < Wp; f++)
            for (size_t j = 0; j < c->J; j++)
                c->pose_seq[(i * Wp + f) * c->J + j] = c->pose[i * c->J + j] * (float)(f + 1) / (float)Wp;
}

static void free_corpus(struct tcorpus *t)
{
    tu_corpus_unpack(&t->c);
    free(t->c.pose_seq);
    free(t->c.pose);
    free(t->c.label);
    free(t->c.subject);
    free(t->idx);
}

static struct cp_set all(const struct tcorpus *t)
{
    return (struct cp_set){ &t->c, t->c.n, t->idx };
}

static const int32_t SEEN[TSEEN] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
#define FAST "mae_steps=30,align_steps=30,batch=32"
#define FAST_MAE "mae_steps=30,batch=32"   /* FAST for a method without alignment */

static int has_key(const struct mb_method *m, const char *key)
{
    for (size_t i = 0; m->params && m->params[i].key; i++)
        if (!strcmp(m->params[i].key, key))
            return 1;
    return 0;
}

/* A method's defaults, with the neural methods cut to 20 training steps. */
static const char *quick_params(const struct mb_method *m)
{
    if (!has_key(m, "mae_steps"))
        return NULL;
    return has_key(m, "align_steps") ? "mae_steps=20,align_steps=20,batch=32" : "mae_steps=20,batch=32";
}

static int all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

Test(methods, registered_with_their_capabilities)
{
    const struct mb_method *m = mb_method_find("cpep");
    cr_assert_not_null(m);
    cr_assert(m->caps & MB_CAP_ZERO_SHOT && m->caps & MB_CAP_NEEDS_POSE && m->caps & MB_CAP_EMBED);
    cr_assert_not_null(mb_method_find("emg-mae"));
    cr_assert_not_null(mb_method_find("pose-mae"));
    const struct mb_method *u = mb_method_find("pose-upper-bound");
    cr_assert(u && (u->caps & MB_CAP_ORACLE) && (u->caps & MB_CAP_NEEDS_POSE));
    cr_assert_eq(mb_method_find("emg-mae")->caps & MB_CAP_NEEDS_POSE, 0u);
}

Test(methods, fit_embed_predict_finite_and_hash_unchanged)
{
    struct tcorpus t;
    make_corpus(&t, 0, TSEEN, 12, 7);
    struct cp_set s = all(&t);
    const char *names[] = { "emg-mae", "pose-mae", "cpep", "pose-upper-bound", "qformer", "embridge" };
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        const struct mb_method *m = mb_method_find(names[k]);
        struct mb_method_model *mm = NULL;
        const char *fast = has_key(m, "align_steps") ? FAST : FAST_MAE;
        cr_assert_eq(tu_fit(m, &mm, &s, SEEN, TSEEN, fast, 1), MB_OK, "%s: %s", names[k], mb_last_error());
        char h0[65], h1[65];
        m->param_hash(h0, mm);
        size_t E = m->embed_dim(mm);
        cr_assert(E > 0);
        float *Z = malloc(s.n * E * sizeof *Z), *P = malloc(s.n * TSEEN * sizeof *P);
        size_t E2 = 0;
        cr_assert_eq(m->embed(Z, &E2, mm, &s), MB_OK, "%s", mb_last_error());
        cr_assert_eq(E2, E);
        cr_assert(all_finite(Z, s.n * E), "%s: non-finite embedding", names[k]);
        cr_assert_eq(m->predict_proba(P, mm, &s), MB_OK, "%s", mb_last_error());
        cr_assert(all_finite(P, s.n * TSEEN));
        for (size_t i = 0; i < s.n; i++) {
            double sum = 0;
            for (size_t c = 0; c < TSEEN; c++)
                sum += P[i * TSEEN + c];
            cr_assert_float_eq(sum, 1.0, 1e-4, "%s: row %zu sums to %g", names[k], i, sum);
        }
        if (m->zero_shot) {
            int32_t *pred = malloc(s.n * sizeof *pred);
            int32_t ids[TSEEN];
            memcpy(ids, SEEN, sizeof ids);
            float refs[TSEEN * TJ];
            for (size_t g = 0; g < TSEEN; g++)   /* one reference per gesture: its first window's pose */
                memcpy(refs + g * TJ, t.c.pose + g * 12 * TJ, TJ * sizeof *refs);
            cr_assert_eq(m->zero_shot(pred, mm, &s, refs, ids, TSEEN), MB_OK, "%s", mb_last_error());
            for (size_t i = 0; i < s.n; i++)
                cr_assert(pred[i] >= 0 && pred[i] < TSEEN);
            free(pred);
        }
        m->param_hash(h1, mm);
        cr_assert_str_eq(h0, h1, "%s: embed/predict changed the parameters", names[k]);
        free(Z);
        free(P);
        m->free(mm);
    }
    free_corpus(&t);
}

/* Fits cpep and returns its hash and the probabilities on the set. */
static void fit_cpep(char hex[65], float *P, const struct cp_set *s, uint64_t seed)
{
    const struct mb_method *m = mb_method_find("cpep");
    struct mb_method_model *mm = NULL;
    cr_assert_eq(tu_fit(m, &mm, s, SEEN, TSEEN, FAST, seed), MB_OK, "%s", mb_last_error());
    m->param_hash(hex, mm);
    cr_assert_eq(m->predict_proba(P, mm, s), MB_OK, "%s", mb_last_error());
    m->free(mm);
}

Test(methods, same_seed_same_parameters_and_predictions)
{
    struct tcorpus t;
    make_corpus(&t, 0, TSEEN, 8, 3);
    struct cp_set s = all(&t);
    float *P1 = malloc(s.n * TSEEN * sizeof *P1), *P2 = malloc(s.n * TSEEN * sizeof *P2);
    char a[65], b[65], c[65];
    fit_cpep(a, P1, &s, 11);
    fit_cpep(b, P2, &s, 11);
    cr_assert_str_eq(a, b);
    cr_assert_eq(memcmp(P1, P2, s.n * TSEEN * sizeof *P1), 0, "same seed, different probabilities");
    fit_cpep(c, P2, &s, 12);
    cr_assert_str_neq(a, c, "another seed gave the same parameters");
    free(P1);
    free(P2);
    free_corpus(&t);
}

/* Every registered method (classical and neural), fitted at 1 and at 2 OpenMP
 * threads on a corpus with pose sequences: the same parameters and the same
 * probabilities, bit for bit. */
Test(methods, one_and_two_threads_identical, .timeout = 300)
{
    struct tcorpus t;
    make_corpus(&t, 0, TSEEN, 8, 5);
    add_pose_seq(&t, 20);
    struct cp_set s = all(&t);
    float *P1 = malloc(s.n * TSEEN * sizeof *P1), *P2 = malloc(s.n * TSEEN * sizeof *P2);   /* [n x K] */
    cr_assert(P1 && P2);
    int prev = omp_get_max_threads();
    size_t checked = 0;
    for (size_t k = 0; mb_methods[k]; k++) {
        const struct mb_method *m = mb_methods[k];
        if (!(m->caps & MB_CAP_CLASSIFY))
            continue;
        const char *params = quick_params(m);
        char a[65] = "", b[65] = "";
        struct mb_method_model *ma = NULL, *mb = NULL;
        omp_set_num_threads(1);
        cr_assert_eq(tu_fit(m, &ma, &s, SEEN, TSEEN, params, 21), MB_OK, "%s: %s", m->name, mb_last_error());
        cr_assert_eq(m->predict_proba(P1, ma, &s), MB_OK, "%s: %s", m->name, mb_last_error());
        omp_set_num_threads(2);
        cr_assert_eq(tu_fit(m, &mb, &s, SEEN, TSEEN, params, 21), MB_OK, "%s: %s", m->name, mb_last_error());
        cr_assert_eq(m->predict_proba(P2, mb, &s), MB_OK, "%s: %s", m->name, mb_last_error());
        if (m->param_hash) {
            m->param_hash(a, ma);
            m->param_hash(b, mb);
        }
        cr_expect_str_eq(a, b, "%s: parameters differ between 1 and 2 OpenMP threads", m->name);
        cr_expect_eq(memcmp(P1, P2, s.n * TSEEN * sizeof *P1), 0, "%s: probabilities differ between 1 and 2 "
                     "OpenMP threads", m->name);
        m->free(ma);
        m->free(mb);
        checked++;
    }
    omp_set_num_threads(prev);
    cr_assert_geq(checked, 10, "only %zu methods checked", checked);
    free(P1);
    free(P2);
    free_corpus(&t);
}

static double mean(const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s / (double)n;
}

Test(methods, mae_losses_fall_and_alignment_loss_falls)
{
    struct tcorpus t;
    make_corpus(&t, 0, TSEEN, 12, 9);
    struct cp_set s = all(&t);
    const struct mb_method *m = mb_method_find("cpep");
    struct mb_method_model *mm = NULL;
    cr_assert_eq(tu_fit(m, &mm, &s, SEEN, TSEEN, "mae_steps=120,align_steps=120,batch=32", 2), MB_OK, "%s",
                 mb_last_error());
    const struct mth_curve *le, *lp, *la;
    cpep_curves(&le, &lp, &la, mm);
    cr_assert_eq(le->n, 120u);
    cr_assert_eq(lp->n, 120u);
    cr_assert_eq(la->n, 120u);
    double e0 = mean(le->v, 15), e1 = mean(le->v + 105, 15);
    double p0 = mean(lp->v, 15), p1 = mean(lp->v + 105, 15);
    double a0 = mean(la->v, 15), a1 = mean(la->v + 105, 15);
    cr_log_info("EMG MAE %.4f -> %.4f, pose MAE %.4f -> %.4f, InfoNCE %.4f -> %.4f", e0, e1, p0, p1, a0, a1);
    cr_assert_lt(e1, 0.8 * e0, "EMG MAE loss %g -> %g", e0, e1);
    cr_assert_lt(p1, 0.8 * p0, "pose MAE loss %g -> %g", p0, p1);
    cr_assert_lt(a1, 0.9 * a0, "InfoNCE %g -> %g", a0, a1);
    m->free(mm);
    free_corpus(&t);
}

Test(methods, cpep_zero_shot_names_unseen_gestures_above_chance)
{
    struct tcorpus tr, te, rf;
    make_corpus(&tr, 0, TSEEN, 24, 100);       /* training: seen gestures only */
    make_corpus(&te, TSEEN, TG, 30, 200);      /* test: unseen gestures' EMG */
    make_corpus(&rf, TSEEN, TG, 20, 300);      /* references: unseen gestures' poses */
    struct cp_set s = all(&tr), st = all(&te);
    const struct mb_method *m = mb_method_find("cpep");
    struct mb_method_model *mm = NULL;
    cr_assert_eq(tu_fit(m, &mm, &s, SEEN, TSEEN, "mae_steps=100,align_steps=300,batch=64,lr=2e-3", 4), MB_OK, "%s",
                 mb_last_error());
    int32_t *pred = malloc(st.n * sizeof *pred);
    cr_assert_eq(m->zero_shot(pred, mm, &st, rf.c.pose, rf.c.label, rf.c.n), MB_OK, "%s", mb_last_error());
    size_t ok = 0;
    for (size_t i = 0; i < st.n; i++)
        ok += pred[i] == te.c.label[i];
    double acc = (double)ok / (double)st.n;
    cr_log_info("cpep zero-shot accuracy on 4 unseen gestures: %.3f (chance 0.25)", acc);
    cr_assert_gt(acc, 0.35, "zero-shot accuracy %.3f on 4 unseen gestures (chance 0.25)", acc);
    free(pred);
    m->free(mm);
    free_corpus(&tr);
    free_corpus(&te);
    free_corpus(&rf);
}

/* EMBridge's stage 2 learns: its total loss (InfoNCE + CASCLe + MPRL) and
 * MPRL's reconstruction loss both fall, on pose sequences (4 pose tokens) and
 * on end poses (6 one-joint tokens). MPRL can only fall through the queries
 * Q' (the pose tokens it must fill are masked, and the queries are barred
 * from the pose tokens in pass 2, so it falls only if the gradient reaches
 * the queries and the EMG side that makes them). */
static void embridge_learns(int pose_seq)
{
    struct tcorpus t;
    make_corpus(&t, 0, TSEEN, 12, 9);
    if (pose_seq)
        add_pose_seq(&t, 20);
    struct cp_set s = all(&t);
    const struct mb_method *m = mb_method_find("embridge");
    struct mb_method_model *mm = NULL;
    cr_assert_eq(tu_fit(m, &mm, &s, SEEN, TSEEN, "mae_steps=30,align_steps=60,batch=32,queries=4", 2), MB_OK,
                 "%s", mb_last_error());
    const struct mth_curve *le, *lp, *la, *lm = embridge_mprl_curve(mm);
    embridge_curves(&le, &lp, &la, mm);
    cr_assert_eq(la->n, 60u);
    cr_assert_eq(lm->n, 60u);
    double a0 = mean(la->v, 10), a1 = mean(la->v + 50, 10), m0 = mean(lm->v, 10), m1 = mean(lm->v + 50, 10);
    cr_log_info("embridge (%s): stage-2 loss %.4f -> %.4f, MPRL %.4f -> %.4f", pose_seq ? "pose sequences" : "end poses",
                a0, a1, m0, m1);
    cr_assert_lt(a1, 0.9 * a0, "stage-2 loss %g -> %g", a0, a1);
    cr_assert_lt(m1, 0.9 * m0, "MPRL loss %g -> %g", m0, m1);
    m->free(mm);
    free_corpus(&t);
}

Test(methods, embridge_losses_fall_with_pose_sequences, .timeout = 120) { embridge_learns(1); }
Test(methods, embridge_losses_fall_with_end_poses, .timeout = 120) { embridge_learns(0); }

/* The assembled gradient of one whole stage-2 step (best-query InfoNCE +
 * CASCLe + a heavily weighted MPRL, two passes sharing the Q-Former) against
 * central differences of the loss along random directions: the queries, the
 * mask token, a cross-attention weight, the whole bridge and the whole EMG
 * encoder. The EMG encoder's direction is what catches a second pass whose
 * gradient never reaches Q' (MPRL would then still fall, through the mask
 * token and the visible pose tokens, but the encoder would miss its share);
 * checked by dropping that gradient, which fails the EMG row. */
static double dir_fd(struct nn_params *p, const float *d, float eps, struct mb_method_model *mm,
                     const struct cp_set *s, uint64_t ms)
{
    struct nn_params *q, *e;
    float lp, lm;
    for (size_t i = 0; i < p->total; i++)
        p->data[i] += eps * d[i];
    cr_assert_eq(embridge_loss_grad(&lp, &q, &e, mm, s, TSEEN, ms), MB_OK, "%s", mb_last_error());
    for (size_t i = 0; i < p->total; i++)
        p->data[i] -= 2 * eps * d[i];
    cr_assert_eq(embridge_loss_grad(&lm, &q, &e, mm, s, TSEEN, ms), MB_OK, "%s", mb_last_error());
    for (size_t i = 0; i < p->total; i++)
        p->data[i] += eps * d[i];
    return ((double)lp - (double)lm) / (2.0 * eps);
}

Test(methods, embridge_stage2_gradient_matches_finite_differences, .timeout = 120)
{
    struct tcorpus t;
    make_corpus(&t, 0, TSEEN, 4, 17);
    add_pose_seq(&t, 20);
    struct cp_set s = all(&t);
    const struct mb_method *m = mb_method_find("embridge");
    struct mb_method_model *mm = NULL;
    cr_assert_eq(tu_fit(m, &mm, &s, SEEN, TSEEN, "mae_steps=10,align_steps=3,batch=8,queries=4,lambda=5", 2), MB_OK,
                 "%s", mb_last_error());
    struct nn_params *qp, *ep;
    float loss;
    cr_assert_eq(embridge_loss_grad(&loss, &qp, &ep, mm, &s, TSEEN, 9), MB_OK, "%s", mb_last_error());
    float *gq = malloc(qp->total * sizeof *gq), *ge = malloc(ep->total * sizeof *ge);
    float *d = malloc((qp->total > ep->total ? qp->total : ep->total) * sizeof *d);
    cr_assert(gq && ge && d);
    memcpy(gq, qp->grad, qp->total * sizeof *gq);
    memcpy(ge, ep->grad, ep->total * sizeof *ge);
    static const char *const groups[] = { "qf.queries", "mprl.mask_token", "qf.0.cross.wv", "", "emg" };
    struct mb_rng r;
    mb_rng_seed(&r, 5, 6);
    for (size_t k = 0; k < sizeof groups / sizeof *groups; k++) {
        int emg = !strcmp(groups[k], "emg");
        struct nn_params *p = emg ? ep : qp;
        const float *g = emg ? ge : gq;
        memset(d, 0, p->total * sizeof *d);
        size_t lo = 0, hi = p->total;
        if (groups[k][0] && !emg) {
            int i = nn_params_find(p, groups[k]);
            cr_assert_geq(i, 0, "%s", groups[k]);
            lo = p->t[i].offset;
            hi = lo + p->t[i].size;
        }
        double an = 0, nd = 0;
        for (size_t i = lo; i < hi; i++) {
            d[i] = (float)mb_rng_normal(&r);
            nd += (double)d[i] * d[i];
        }
        for (size_t i = lo; i < hi; i++) {
            d[i] = (float)(d[i] / sqrt(nd));
            an += (double)g[i] * d[i];
        }
        double fd = dir_fd(p, d, 1e-2f, mm, &s, 9);
        cr_log_info("embridge stage 2, direction %s: analytic %.6g, finite differences %.6g", groups[k][0] ? groups[k] : "bridge",
                    an, fd);
        cr_expect(fabs(an - fd) <= 0.03 * fabs(fd) + 1e-4, "%s: analytic %g, finite differences %g", groups[k][0] ? groups[k] : "bridge",
                  an, fd);
    }
    free(gq);
    free(ge);
    free(d);
    m->free(mm);
    free_corpus(&t);
}

/* qformer is embridge without its two objectives: same parameter layout but
 * no MPRL tensors, and the ablation switches change the result. */
Test(methods, qformer_is_embridge_without_mprl_and_cascle, .timeout = 120)
{
    struct tcorpus t;
    make_corpus(&t, 0, TSEEN, 8, 13);
    struct cp_set s = all(&t);
    const char *cases[][2] = {
        { "qformer", "mae_steps=20,align_steps=20,batch=32" },
        { "embridge", "mae_steps=20,align_steps=20,batch=32,mprl=0,cascle=0" },
        { "embridge", "mae_steps=20,align_steps=20,batch=32,mprl=0" },
        { "embridge", "mae_steps=20,align_steps=20,batch=32,cascle=0" },
        { "embridge", "mae_steps=20,align_steps=20,batch=32" },
    };
    char h[5][65];
    for (size_t k = 0; k < 5; k++) {
        const struct mb_method *m = mb_method_find(cases[k][0]);
        struct mb_method_model *mm = NULL;
        cr_assert_eq(tu_fit(m, &mm, &s, SEEN, TSEEN, cases[k][1], 3), MB_OK, "%s %s: %s", cases[k][0], cases[k][1],
                     mb_last_error());
        m->param_hash(h[k], mm);
        m->free(mm);
    }
    cr_assert_str_eq(h[0], h[1], "qformer differs from embridge with mprl=0,cascle=0");
    for (size_t a = 1; a < 5; a++)
        for (size_t b = a + 1; b < 5; b++)
            cr_assert_str_neq(h[a], h[b], "'%s' and '%s' trained the same bridge", cases[a][1], cases[b][1]);
    free_corpus(&t);
}

/* The benchmark hook (bench nn-torch) builds the model it says: its trainable
 * parameter count is the one PyTorch counts for the same network (the count
 * bench/nn_torch.py must match), its steps train (the loss on its one batch
 * falls), and bad sizes are refused. */
Test(methods, embridge_bench_hook_builds_and_trains_the_stated_model, .timeout = 60)
{
    struct embridge_bench_cfg g = { .B = 8, .M = 3, .T = 40, .C = 4, .P = 10, .Tp = 6, .J = 5, .Pp = 2,
                                    .D = 16, .L = 2, .H = 2, .F = 32, .pose_mask = 0.5, .n_c = 4, .k_c = 2 };
    struct embridge_bench_out o;
    cr_assert_eq(embridge_bench_steps(&o, &g, 0, 40, 1), MB_OK, "%s", mb_last_error());
    size_t D = g.D, F = g.F, Np = g.T / g.P, Pc = g.Pp * g.J;
    size_t block = 4 * (D * D + D) + 4 * D + (F * D + F) + (D * F + D);
    size_t cross = 2 * D + 4 * (D * D + D);   /* EMG width = D here */
    size_t emg = D * g.P * g.C + D + Np * D + D + g.L * block + 2 * D;
    size_t bridge = g.M * D + g.L * block + cross + 2 * D + 1 + D + 2 * D + Pc * D + Pc;
    cr_assert_eq(o.params, emg + bridge, "%zu parameters, expected %zu", o.params, emg + bridge);
    cr_assert(isfinite(o.first_loss) && isfinite(o.last_loss));
    cr_log_info("embridge bench hook: loss %.4f -> %.4f over 40 steps", (double)o.first_loss, (double)o.last_loss);
    cr_assert_lt(o.last_loss, 0.9f * o.first_loss);
    g.n_c = 0;
    cr_assert_eq(embridge_bench_steps(&o, &g, 0, 5, 1), MB_EINVAL);
}

Test(methods, embridge_zero_shot_names_unseen_gestures_above_chance, .timeout = 300)
{
    struct tcorpus tr, te, rf;
    make_corpus(&tr, 0, TSEEN, 24, 100);
    make_corpus(&te, TSEEN, TG, 30, 200);
    make_corpus(&rf, TSEEN, TG, 20, 300);
    struct cp_set s = all(&tr), st = all(&te);
    const struct mb_method *m = mb_method_find("embridge");
    struct mb_method_model *mm = NULL;
    cr_assert_eq(tu_fit(m, &mm, &s, SEEN, TSEEN, "mae_steps=100,align_steps=150,batch=32,lr=2e-3,queries=4", 4), MB_OK,
                 "%s", mb_last_error());
    int32_t *pred = malloc(st.n * sizeof *pred);
    cr_assert_eq(m->zero_shot(pred, mm, &st, rf.c.pose, rf.c.label, rf.c.n), MB_OK, "%s", mb_last_error());
    size_t ok = 0;
    for (size_t i = 0; i < st.n; i++)
        ok += pred[i] == te.c.label[i];
    double acc = (double)ok / (double)st.n;
    cr_log_info("embridge zero-shot accuracy on 4 unseen gestures: %.3f (chance 0.25)", acc);
    cr_assert_gt(acc, 0.35, "zero-shot accuracy %.3f on 4 unseen gestures (chance 0.25)", acc);
    free(pred);
    m->free(mm);
    free_corpus(&tr);
    free_corpus(&te);
    free_corpus(&rf);
}

/* The pose oracle's zero-shot (the protocol's ceiling: cpep's vote on the true pose)
 * names unseen gestures from the same references far better than chance, and at
 * least as well as cpep does through the EMG (test above: > 0.35). */
Test(methods, pose_upper_bound_zero_shot_is_the_ceiling)
{
    struct tcorpus tr, te, rf;
    make_corpus(&tr, 0, TSEEN, 24, 100);
    make_corpus(&te, TSEEN, TG, 30, 200);
    make_corpus(&rf, TSEEN, TG, 20, 300);
    struct cp_set s = all(&tr), st = all(&te);
    const struct mb_method *m = mb_method_find("pose-upper-bound");
    cr_assert(m->caps & MB_CAP_ZERO_SHOT && m->caps & MB_CAP_ORACLE);
    struct mb_method_model *mm = NULL;
    cr_assert_eq(tu_fit(m, &mm, &s, SEEN, TSEEN, "mae_steps=100,batch=64,lr=2e-3", 4), MB_OK, "%s", mb_last_error());
    int32_t *pred = malloc(st.n * sizeof *pred);
    cr_assert_eq(m->zero_shot(pred, mm, &st, rf.c.pose, rf.c.label, rf.c.n), MB_OK, "%s", mb_last_error());
    size_t ok = 0;
    for (size_t i = 0; i < st.n; i++)
        ok += pred[i] == te.c.label[i];
    double acc = (double)ok / (double)st.n;
    cr_log_info("pose oracle zero-shot accuracy on 4 unseen gestures: %.3f (chance 0.25)", acc);
    cr_assert_gt(acc, 0.6, "oracle zero-shot accuracy %.3f on 4 unseen gestures (chance 0.25)", acc);
    free(pred);
    m->free(mm);
    free_corpus(&tr);
    free_corpus(&te);
    free_corpus(&rf);
}

Test(methods, bad_parameters_and_missing_pose_are_refused)
{
    struct tcorpus t;
    make_corpus(&t, 0, TSEEN, 4, 1);
    struct cp_set s = all(&t);
    struct mb_method_model *mm = NULL;
    const struct mb_method *m = mb_method_find("emg-mae");
    cr_assert_eq(tu_fit(m, &mm, &s, SEEN, TSEEN, "widht=64", 1), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "widht"), "%s", mb_last_error());
    cr_assert_eq(tu_fit(m, &mm, &s, SEEN, TSEEN, "width=30,heads=4", 1), MB_EINVAL);
    cr_assert_null(mm);
    t.c.J = 0;
    cr_assert_eq(tu_fit(mb_method_find("cpep"), &mm, &s, SEEN, TSEEN, FAST, 1), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "pose"), "%s", mb_last_error());
    t.c.J = TJ;
    free_corpus(&t);
}

/* With the end pose only (one frame, the last feature step) and with a pose
 * sequence of 5 frames of 80 ms: the first ends before the first feature step
 * (71 samples) and is not regressed, the next three interpolate between steps,
 * the last takes the last step. */
Test(methods, emg2pose_tds_backward_matches_finite_differences)
{
    for (size_t Wp = 0; Wp <= 5; Wp += 5) {
        struct tcorpus t;
        make_corpus(&t, 0, TSEEN, 2, 13);
        if (Wp)
            add_pose_seq(&t, Wp);
        struct cp_set s = all(&t);
        const struct mb_method *m = mb_method_find("emg2pose-tds");
        cr_assert_not_null(m);
        struct mb_method_model *mm = NULL;
        /* no training: random weights, fitted standardisation */
        cr_assert_eq(tu_fit(m, &mm, &s, SEEN, TSEEN, "mae_steps=0,width=8", 1), MB_OK, "%s", mb_last_error());
        size_t Fu = tds_frames(mm);
        cr_assert_eq(Fu, Wp ? 4u : 1u, "Wp %zu: %zu frames regressed", Wp, Fu);
        enum { B = 3 };
        const float *rows[B] = { cp_window(&t.c, 0), cp_window(&t.c, 5), cp_window(&t.c, 11) };
        float target[B * 4 * TJ];
        for (size_t i = 0; i < B * Fu * TJ; i++)
            target[i] = 0.1f * (float)i - 0.5f;
        struct nn_params *p = tds_params(mm);
        nn_params_zero_grad(p);
        uint64_t sig0;
        tds_sq_loss(mm, rows, target, B, 1, &sig0);
        /* A few entries of every tensor, by central differences. The forward
         * runs in float32: the loss (about 30 here) carries rounding of about
         * 1e-6 that depends on the BLAS kernel's summation order, so the step
         * must be large (1e-2 gives a noise of about 1e-4 in the derivative;
         * 1e-4 gave 3e-2 and failed on some OpenBLAS kernels). A large step
         * may cross a ReLU kink, where the difference is no derivative: each
         * entry takes the largest step whose two points keep every ReLU's
         * on/off pattern of the centre, and an entry with a unit on a kink
         * for every step is not checked (counted, and bounded below). */
        static const float steps[] = { 1e-2f, 3e-3f, 1e-3f, 3e-4f };
        size_t checked = 0, kinked = 0;
        for (size_t k = 0; k < p->n; k++)
            for (size_t e = 0; e < p->t[k].size; e += p->t[k].size / 3 + 1) {
                float *w = p->data + p->t[k].offset + e, w0 = *w;
                double num = NAN, ana = p->grad[p->t[k].offset + e];
                for (size_t si = 0; si < sizeof steps / sizeof steps[0] && isnan(num); si++) {
                    uint64_t sp, sm;
                    float h = steps[si];
                    *w = w0 + h;
                    double lp = tds_sq_loss(mm, rows, target, B, 0, &sp);
                    *w = w0 - h;
                    double lm = tds_sq_loss(mm, rows, target, B, 0, &sm);
                    *w = w0;
                    if (sp == sig0 && sm == sig0)   /* (w0 + h) - (w0 - h) is not 2h in float */
                        num = (lp - lm) / ((double)(w0 + h) - (double)(w0 - h));
                }
                if (isnan(num)) {
                    kinked++;
                    continue;
                }
                cr_expect_leq(fabs(num - ana), 1e-2 * fmax(fabs(num), fabs(ana)) + 1e-3,
                              "Wp %zu: %s[%zu]: analytic %g, numeric %g", Wp, p->t[k].name, e, ana, num);
                checked++;
            }
        cr_log_info("Wp %zu: %zu entries checked, %zu on a kink for every step", Wp, checked, kinked);
        cr_assert_leq(kinked, checked / 8, "Wp %zu: %zu of %zu entries on a kink", Wp, kinked, checked + kinked);
        cr_assert_gt(checked, 40u);
        m->free(mm);
        free_corpus(&t);
    }
}

/* On a corpus with pose sequences (20 frames, the trajectory regressed). */
Test(methods, emg2pose_tds_fits_and_its_pose_loss_falls)
{
    struct tcorpus t;
    make_corpus(&t, 0, TSEEN, 12, 17);
    add_pose_seq(&t, 20);
    struct cp_set s = all(&t);
    const struct mb_method *m = mb_method_find("emg2pose-tds");
    struct mb_method_model *mm = NULL;
    cr_assert_eq(tu_fit(m, &mm, &s, SEEN, TSEEN, "mae_steps=120,batch=32", 3), MB_OK, "%s", mb_last_error());
    const struct mth_curve *l = tds_curve(mm);
    cr_assert_eq(l->n, 120u);
    double l0 = mean(l->v, 15), l1 = mean(l->v + 105, 15);
    cr_log_info("emg2pose-tds L1 %.4f -> %.4f", l0, l1);
    cr_assert_lt(l1, 0.8 * l0, "L1 %g -> %g", l0, l1);
    size_t E = m->embed_dim(mm);
    float *Z = malloc(s.n * E * sizeof *Z);
    char h0[65], h1[65];
    m->param_hash(h0, mm);
    cr_assert_eq(m->embed(Z, NULL, mm, &s), MB_OK, "%s", mb_last_error());
    cr_assert(all_finite(Z, s.n * E));
    m->param_hash(h1, mm);
    cr_assert_str_eq(h0, h1);
    free(Z);
    m->free(mm);
    free_corpus(&t);
}

/* "Statistics fitted on training data only" is a property of every registered method,
 * checked here rather than assumed: a method's fit gets the whole corpus through
 * cp_set.c, and nothing but discipline keeps it to the indices of its set. Each
 * method is fitted twice on the same training windows, once with the other windows'
 * EMG and pose replaced by large garbage; the two models must predict the held-out
 * windows bit for bit alike. A scaler, threshold or normaliser fitted over the whole
 * corpus would see the garbage and differ. */
Test(methods, fit_reads_only_its_training_windows, .timeout = 300)
{
    struct tcorpus t;
    make_corpus(&t, 0, TSEEN, 6, 5);
    const struct cp_corpus *c = &t.c;
    size_t n_tr = 0, n_te = 0;
    size_t *tr = malloc(c->n * sizeof *tr), *te = malloc(c->n * sizeof *te);   /* [n] */
    for (size_t i = 0; i < c->n; i++) {
        if (i % 3 == 2)
            te[n_te++] = i;
        else
            tr[n_tr++] = i;
    }
    struct cp_corpus g = *c;   /* shallow: only the samples and pose are replaced */
    size_t T = c->rec_off[c->n_recordings];
    g.emg = malloc(T * c->C * sizeof *g.emg);            /* [T x C] */
    g.pose = malloc(c->n * c->J * sizeof *g.pose);       /* [n x J] */
    cr_assert(tr && te && g.emg && g.pose);
    memcpy(g.emg, c->emg, T * c->C * sizeof *g.emg);
    memcpy(g.pose, c->pose, c->n * c->J * sizeof *g.pose);
    struct mb_rng r;
    mb_rng_seed(&r, 99, 0);
    for (size_t k = 0; k < n_te; k++) {
        size_t i = te[k];
        for (size_t s = 0; s < c->W * c->C; s++)
            tu_window(&g, i)[s] = 500.0f + 300.0f * (float)mb_rng_normal(&r);
        for (size_t j = 0; j < c->J; j++)
            g.pose[i * c->J + j] = -40.0f;
    }
    struct cp_set train = { c, n_tr, tr }, train_g = { &g, n_tr, tr }, test = { c, n_te, te };
    float *P1 = malloc(n_te * TSEEN * sizeof *P1), *P2 = malloc(n_te * TSEEN * sizeof *P2); /* [n_te x K] */
    cr_assert(P1 && P2);
    size_t checked = 0;
    for (size_t k = 0; mb_methods[k]; k++) {
        const struct mb_method *m = mb_methods[k];
        if (!(m->caps & MB_CAP_CLASSIFY))
            continue;
        const char *params = quick_params(m);
        struct mb_method_model *a = NULL, *b = NULL;
        cr_assert_eq(tu_fit(m, &a, &train, SEEN, TSEEN, params, 3), MB_OK, "%s: %s", m->name, mb_last_error());
        cr_assert_eq(tu_fit(m, &b, &train_g, SEEN, TSEEN, params, 3), MB_OK, "%s: %s", m->name, mb_last_error());
        cr_assert_eq(m->predict_proba(P1, a, &test), MB_OK, "%s: %s", m->name, mb_last_error());
        cr_assert_eq(m->predict_proba(P2, b, &test), MB_OK, "%s: %s", m->name, mb_last_error());
        cr_assert_eq(memcmp(P1, P2, n_te * TSEEN * sizeof *P1), 0,
                     "%s: the fit depends on windows outside its training set", m->name);
        m->free(a);
        m->free(b);
        checked++;
    }
    cr_assert_geq(checked, 10, "only %zu methods checked", checked);
    free(P1);
    free(P2);
    free(g.emg);
    free(g.pose);
    free(tr);
    free(te);
    free_corpus(&t);
}

/* Every registered method parses its parameters without data, so a plan is checked
 * when it is loaded: its defaults pass and their canonical text reads back to the
 * same text, an unknown key does not pass, and every key is documented. */
Test(methods, every_method_checks_its_parameters_without_data)
{
    for (size_t k = 0; mb_methods[k]; k++) {
        const struct mb_method *m = mb_methods[k];
        cr_assert_not_null(m->params, "%s has no parameter table", m->name);
        for (size_t i = 0; m->params[i].key; i++)
            cr_expect(m->params[i].doc && m->params[i].doc[0], "%s: key '%s' has no doc", m->name, m->params[i].key);
        void *hp = NULL, *hp2 = NULL;
        cr_assert_eq(mb_method_parse(&hp, m, NULL), MB_OK, "%s: its defaults: %s", m->name, mb_last_error());
        char *text = mb_method_params_text(m, hp);
        cr_assert_eq(mb_method_parse(&hp2, m, text), MB_OK, "%s: '%s': %s", m->name, text, mb_last_error());
        char *text2 = mb_method_params_text(m, hp2);
        cr_expect_str_eq(text, text2, "%s", m->name);
        free(text);
        free(text2);
        free(hp);
        free(hp2);
        mb_error_quiet_begin();
        int rc = mb_method_parse(&hp, m, "no_such_key=1");
        mb_error_quiet_end();
        cr_assert_eq(rc, MB_EINVAL, "%s accepted an unknown key", m->name);
        cr_assert_null(hp);
        cr_assert_not_null(strstr(mb_last_error(), "no_such_key"), "%s: '%s'", m->name, mb_last_error());
    }
}

/* Each neural method's table lists the keys its code reads and no other, so a key
 * it would ignore (align_steps for emg-mae, heads for emg2pose-tds) is refused when
 * the plan loads instead of silently changing nothing but the job key; a key two
 * methods share has one type, default and range (methods/hp_keys.h). */
Test(methods, each_neural_method_takes_the_keys_it_reads_and_no_other)
{
#define ENC "batch,width,layers,heads,dec_width,cls"
#define OPT "mask,lr,wd,warmup,clip"
    static const struct { const char *method, *keys; } want[] = {
        { "emg-mae", "mae_steps," ENC ",rectify,patch_ms," OPT },
        { "pose-mae", "mae_steps," ENC ",patch_ms,pose_patch," OPT },
        { "pose-upper-bound", "mae_steps," ENC ",patch_ms,pose_patch," OPT ",knn" },
        { "cpep", "mae_steps,align_steps," ENC ",rectify,patch_ms,pose_patch," OPT
                  ",temp,learn_temp,knn,no_emg_pretrain,no_pose_pretrain,freeze_emg" },
        { "emg2pose-tds", "mae_steps,batch,width,rectify,lr,warmup,clip" },
        { "qformer", "mae_steps,align_steps," ENC ",rectify,patch_ms,pose_patch," OPT ",temp,learn_temp,knn,queries" },
        { "embridge", "mae_steps,align_steps," ENC ",rectify,patch_ms,pose_patch," OPT
                      ",temp,learn_temp,knn,queries,mprl,cascle,alpha,lambda,tau_s,n_c,k_c,pose_mask" },
    };
#undef ENC
#undef OPT
    const struct mb_param *seen[64] = { 0 };
    size_t n_seen = 0;
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        const struct mb_method *m = mb_method_find(want[k].method);
        cr_assert_not_null(m);
        char keys[512] = "";
        for (const struct mb_param *p = m->params; p->key; p++) {
            if (keys[0])
                strcat(keys, ",");
            strcat(keys, p->key);
            for (size_t j = 0; j < n_seen; j++)
                if (!strcmp(seen[j]->key, p->key))
                    cr_expect(seen[j]->type == p->type && seen[j]->def == p->def && seen[j]->lo == p->lo &&
                              seen[j]->hi == p->hi, "%s: key '%s' differs from another method's", m->name, p->key);
            if (n_seen < 64)
                seen[n_seen++] = p;
        }
        cr_expect_str_eq(keys, want[k].keys, "%s", m->name);
    }
    void *hp = NULL;
    mb_error_quiet_begin();
    int rc = mb_method_parse(&hp, mb_method_find("emg-mae"), "mae_steps=5,align_steps=5");
    mb_error_quiet_end();
    cr_assert_eq(rc, MB_EINVAL);
    cr_expect(strstr(mb_last_error(), "align_steps"), "%s", mb_last_error());
    /* emg2pose-tds's width is checked when the plan loads, not by its first fit */
    mb_error_quiet_begin();
    rc = mb_method_parse(&hp, mb_method_find("emg2pose-tds"), "width=6");
    mb_error_quiet_end();
    cr_assert_eq(rc, MB_EINVAL);
    cr_expect(strstr(mb_last_error(), "width 6 is not a multiple of 4"), "%s", mb_last_error());
    cr_assert_null(hp);
}

/* ---- pinned numbers ------------------------------------------------------------ */

/* Every neural method, fitted briefly on the in-memory corpus, must give these
 * exact numbers: the parameter hash, the SHA-256 of its probabilities on the
 * training windows (and of its zero-shot predictions where it has them), and
 * three probabilities bit for bit. They were computed by the code of branch
 * 'arch' before the neural methods were split into one file each (issue 13),
 * so a restructuring that changes one bit of one method fails here. The cases
 * cover the end-pose and the pose-sequence corpus (the encoder set-up's two
 * pose branches, emg2pose-tds's end pose and trajectory) and cpep's ablation
 * switches.
 *
 * Float results depend on the OpenBLAS kernel's summation order, so the values
 * are pinned per kernel (openblas_get_corename(): this machine's default and
 * the two `make test` forces, scripts/blas-kernels.sh); under a kernel with no
 * pinned values the test only checks that a second fit gives the same numbers.
 * MB_PIN_PRINT=1 prints the table for the running kernel, to re-pin
 * deliberately when a change is meant to change the numbers. */
struct pin_case {
    const char *method, *params;
    int pose_seq;          /* 1: 20 pose frames per window, 0: end poses only */
};
static const struct pin_case PIN_CASES[] = {
    { "emg-mae", "mae_steps=20,batch=32", 0 },
    { "pose-mae", "mae_steps=20,batch=32", 0 },
    { "pose-upper-bound", "mae_steps=20,batch=32", 1 },
    { "cpep", "mae_steps=20,align_steps=20,batch=32", 1 },
    { "cpep", "mae_steps=20,align_steps=20,batch=32,no_emg_pretrain=1,freeze_emg=1,learn_temp=0,cls=0", 0 },
    { "cpep", "mae_steps=20,align_steps=20,batch=32,no_pose_pretrain=1,knn=3,temp=0.2", 0 },
    { "emg2pose-tds", "mae_steps=20,batch=32", 1 },
    { "emg2pose-tds", "mae_steps=20,batch=32,width=16,rectify=0", 0 },
};
#define N_PIN (sizeof PIN_CASES / sizeof PIN_CASES[0])

struct pin_value {
    char hash[65], proba[65], zs[65];   /* zs "" without zero-shot */
    uint32_t p[3];                      /* bits of P[0][0], P[17][3], P[95][11] */
};
struct pin_table {
    const char *core;                   /* openblas_get_corename() */
    struct pin_value v[N_PIN];
};
static const struct pin_table PINS[] = {
#include "tests/golden/methods_pins.h"
};

static double bits_float(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static void pin_compute(struct pin_value *out, const struct pin_case *pc)
{
    struct tcorpus t;
    make_corpus(&t, 0, TSEEN, 8, 31);
    if (pc->pose_seq)
        add_pose_seq(&t, 20);
    struct cp_set s = all(&t);
    const struct mb_method *m = mb_method_find(pc->method);
    cr_assert_not_null(m, "%s", pc->method);
    struct mb_method_model *mm = NULL;
    cr_assert_eq(tu_fit(m, &mm, &s, SEEN, TSEEN, pc->params, 5), MB_OK, "%s: %s", pc->method, mb_last_error());
    memset(out, 0, sizeof *out);
    m->param_hash(out->hash, mm);
    float *P = malloc(s.n * TSEEN * sizeof *P);   /* [n x K] */
    cr_assert_not_null(P);
    cr_assert_eq(m->predict_proba(P, mm, &s), MB_OK, "%s: %s", pc->method, mb_last_error());
    mb_sha256_hex(out->proba, P, s.n * TSEEN * sizeof *P);
    const size_t at[3] = { 0, 17 * TSEEN + 3, 95 * TSEEN + 11 };
    for (size_t k = 0; k < 3; k++)
        memcpy(&out->p[k], &P[at[k]], sizeof out->p[k]);
    if (m->zero_shot) {
        /* references: the poses of every 4th window (a pose row per window) */
        size_t F = pc->pose_seq ? 20 : 1, row = F * TJ, nr = s.n / 4;
        float *ref = malloc(nr * row * sizeof *ref);
        int32_t *ids = malloc(nr * sizeof *ids), *pred = malloc(s.n * sizeof *pred);
        cr_assert(ref && ids && pred);
        for (size_t r = 0; r < nr; r++) {
            memcpy(ref + r * row, cp_pose_row(&t.c, 4 * r), row * sizeof *ref);
            ids[r] = t.c.label[4 * r];
        }
        cr_assert_eq(m->zero_shot(pred, mm, &s, ref, ids, nr), MB_OK, "%s: %s", pc->method, mb_last_error());
        mb_sha256_hex(out->zs, pred, s.n * sizeof *pred);
        free(ref);
        free(ids);
        free(pred);
    }
    free(P);
    m->free(mm);
    free_corpus(&t);
}

Test(methods, pinned_numbers_of_every_neural_method, .timeout = 600)
{
    const char *core = openblas_get_corename();
    const struct pin_table *pin = NULL;
    for (size_t k = 0; k < sizeof PINS / sizeof PINS[0]; k++)
        if (core && !strcmp(PINS[k].core, core))
            pin = &PINS[k];
    int print = getenv("MB_PIN_PRINT") != NULL;
    if (print)
        fprintf(stderr, "{ \"%s\", {\n", core ? core : "?");
    for (size_t i = 0; i < N_PIN; i++) {
        const struct pin_case *pc = &PIN_CASES[i];
        struct pin_value v, w;
        pin_compute(&v, pc);
        if (print)
            fprintf(stderr, "    { \"%s\",\n      \"%s\",\n      \"%s\", { 0x%08" PRIx32 "u, 0x%08" PRIx32
                    "u, 0x%08" PRIx32 "u } },   /* %s %s */\n", v.hash, v.proba, v.zs, v.p[0], v.p[1], v.p[2],
                    pc->method, pc->params);
        if (!pin) {
            pin_compute(&w, pc);
            cr_expect_eq(memcmp(&v, &w, sizeof v), 0, "%s %s: a second fit gave other numbers", pc->method,
                         pc->params);
            continue;
        }
        const struct pin_value *e = &pin->v[i];
        cr_expect_str_eq(v.hash, e->hash, "%s %s (%s): parameter hash", pc->method, pc->params, core);
        cr_expect_str_eq(v.proba, e->proba, "%s %s (%s): probabilities", pc->method, pc->params, core);
        cr_expect_str_eq(v.zs, e->zs, "%s %s (%s): zero-shot predictions", pc->method, pc->params, core);
        for (size_t k = 0; k < 3; k++)
            cr_expect_eq(v.p[k], e->p[k], "%s %s (%s): probability %zu is %a, pinned %a", pc->method, pc->params,
                         core, k, bits_float(v.p[k]), bits_float(e->p[k]));
    }
    if (print)
        fprintf(stderr, "} },\n");
    if (!pin)
        cr_log_info("no pinned numbers for OpenBLAS kernel '%s': only run-to-run equality checked", core ? core : "?");
}

/* A recording's features are computed once per plan, not once per fold:
 * two LOSO folds of a two-subject corpus each fit on one subject and
 * predict the other, and the second fold finds both recordings' features
 * where the thresholds its group reads are those of the first (TD4: ZC and
 * SSC at 0; TD-PSD: none), but not where they come from the fold's RMS
 * (LS9 reads WAMP's, 0.1 x the training RMS). Numbers as without sharing. */
Test(methods, a_recordings_features_are_shared_across_folds, .timeout = 120)
{
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/c.h5", dir);
    cr_assert_eq(cpf_write(path, &(struct cpf_opts){ .subjects = 2, .reps = 3 }), MB_OK, "%s", mb_last_error());
    struct cp_view v = { 0, 200, 100, 0 };
    struct cp_corpus c;
    cr_assert_eq(cp_corpus_load(&c, path, &v), MB_OK, "%s", mb_last_error());
    cr_assert_eq(c.n_recordings, 2);
    size_t *idx = malloc(c.n * sizeof *idx), n0 = 0;
    for (size_t i = 0; i < c.n; i++)
        if (c.subject[i] == 0)
            idx[n0++] = i;
    size_t n1 = 0;
    for (size_t i = 0; i < c.n; i++)
        if (c.subject[i] == 1)
            idx[n0 + n1++] = i;
    cr_assert_eq(n0 + n1, c.n);
    struct cp_set s0 = { &c, n0, idx }, s1 = { &c, n1, idx + n0 };
    int32_t classes[CPF_G + 1];
    for (int g = 0; g <= CPF_G; g++)
        classes[g] = g;
    size_t K = CPF_G + 1;
    static const struct { const char *method; size_t computed; } cases[] = {
        /* blocks + fits and applies; LS9's features are the fold's own: no blocks */
        { "lda-td4", 2 + 4 }, { "lda-tdpsd", 2 + 4 }, { "lda-ls9", 0 + 4 },
    };
    float *P = malloc(c.n * K * sizeof *P), *Q = malloc(c.n * K * sizeof *Q);
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        const struct mb_method *m = mb_method_find(cases[t].method);
        cr_assert_not_null(m);
        struct mb_shared *sh = mb_shared_new((size_t)1 << 30);
        for (int fold = 0; fold < 2; fold++) {
            const struct cp_set *tr = fold ? &s1 : &s0, *te = fold ? &s0 : &s1;
            struct mb_method_model *mm = NULL;
            cr_assert_eq(tu_fit(m, &mm, tr, classes, K, NULL, 3), MB_OK, "%s", mb_last_error());
            cr_assert_eq(m->predict_proba(P, mm, te), MB_OK, "%s", mb_last_error());
            m->free(mm);
            struct mb_shared *h = mb_shared_scoped(sh, (uint64_t)fold);
            cr_assert_eq(tu_fit_sh(m, &mm, tr, classes, K, NULL, 3, h), MB_OK, "%s", mb_last_error());
            cr_assert_eq(m->predict_proba(Q, mm, te), MB_OK, "%s", mb_last_error());
            m->free(mm);
            mb_shared_free(h);
            mb_shared_end_scope(sh, (uint64_t)fold);
            cr_expect_eq(memcmp(P, Q, te->n * K * sizeof *P), 0, "%s fold %d: probabilities differ with sharing",
                         cases[t].method, fold);
        }
        struct mb_shared_stats st;
        mb_shared_stats(&st, sh);
        cr_expect_eq(st.misses, cases[t].computed, "%s: %zu computed (%zu reused), expected %zu", cases[t].method,
                     st.misses, st.hits, cases[t].computed);
        mb_shared_free(sh);
    }
    free(P);
    free(Q);
    free(idx);
    cp_corpus_release(&c);
}

/* A lazy corpus (corpus/corpus.h: samples read when pinned) with a budget
 * of 0, so nothing stays read once unpinned, gives every method the
 * parameters and probabilities of the eager corpus, bit for bit; and
 * afterwards no recording is still read, i.e. every method unpinned what it
 * pinned. A method that read a window without pinning it would crash here
 * (cp_window of a recording not read is NULL plus an offset). */
Test(methods, a_lazy_corpus_gives_the_same_numbers, .timeout = 300)
{
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/c.h5", dir);
    cr_assert_eq(cpf_write(path, &(struct cpf_opts){ .subjects = 2, .reps = 3, .sessions = 2 }), MB_OK, "%s",
                 mb_last_error());
    struct cp_view v = { 0, 200, 200, 0 };
    struct cp_corpus ce, cl;
    cr_assert_eq(cp_corpus_load(&ce, path, &v), MB_OK, "%s", mb_last_error());
    cr_assert_eq(cp_corpus_open(&cl, path, &v, 0), MB_OK, "%s", mb_last_error());
    cr_assert_eq(ce.n, cl.n);
    cr_assert_null(cl.emg, "a lazy corpus reads no samples when it opens");
    /* train on subject 0, test on subject 1 */
    size_t *idx = malloc(ce.n * sizeof *idx), ntr = 0;
    for (size_t i = 0; i < ce.n; i++)
        if (ce.subject[i] == 0)
            idx[ntr++] = i;
    size_t nte = 0;
    for (size_t i = 0; i < ce.n; i++)
        if (ce.subject[i] == 1)
            idx[ntr + nte++] = i;
    int32_t classes[CPF_G + 1];
    for (int g = 0; g <= CPF_G; g++)
        classes[g] = g;
    size_t K = CPF_G + 1;
    float *P = malloc(nte * K * sizeof *P), *Q = malloc(nte * K * sizeof *Q);
    size_t n_checked = 0;
    for (size_t k = 0; mb_methods[k]; k++) {
        const struct mb_method *m = mb_methods[k];
        if (!(m->caps & MB_CAP_CLASSIFY))
            continue;
        char want[65] = "", got[65] = "";
        struct cp_set tre = { &ce, ntr, idx }, tee = { &ce, nte, idx + ntr };
        struct cp_set trl = { &cl, ntr, idx }, tel = { &cl, nte, idx + ntr };
        struct mb_method_model *mm = NULL;
        cr_assert_eq(tu_fit(m, &mm, &tre, classes, K, quick_params(m), 5), MB_OK, "%s: %s", m->name,
                     mb_last_error());
        cr_assert_eq(m->predict_proba(P, mm, &tee), MB_OK, "%s: %s", m->name, mb_last_error());
        if (m->param_hash)
            m->param_hash(want, mm);
        m->free(mm);
        mm = NULL;
        cr_assert_eq(tu_fit(m, &mm, &trl, classes, K, quick_params(m), 5), MB_OK, "%s (lazy): %s", m->name,
                     mb_last_error());
        cr_assert_eq(m->predict_proba(Q, mm, &tel), MB_OK, "%s (lazy): %s", m->name, mb_last_error());
        if (m->param_hash)
            m->param_hash(got, mm);
        m->free(mm);
        cr_expect_str_eq(got, want, "%s: parameters differ on a lazy corpus", m->name);
        cr_expect_eq(memcmp(P, Q, nte * K * sizeof *P), 0, "%s: probabilities differ on a lazy corpus", m->name);
        for (size_t r = 0; r < cl.n_recordings; r++)
            cr_expect_null(cl.rec_emg[r], "%s: recording %zu still read after the method (a pin not undone)",
                           m->name, r);
        n_checked++;
    }
    struct cp_lazy_stats st;
    cp_lazy_stats(&st, &cl);
    cr_log_info("lazy corpus: %zu methods, %zu recording reads, %zu dropped", n_checked, st.reads, st.dropped);
    cr_expect_gt(n_checked, 5);
    cr_expect_gt(st.reads, cl.n_recordings, "budget 0: recordings are read again when needed again");
    free(P);
    free(Q);
    free(idx);
    cp_corpus_release(&ce);
    cp_corpus_release(&cl);
}

/* Shared work never changes a number: every method fitted through one cache
 * (where cpep takes emg-mae's EMG encoder and the pose-MAE's pose encoder,
 * and the pose oracle the pose-MAE's), and again through a new cache that
 * finds the encoders only as checkpoints in its folder, gives the parameters
 * and probabilities of a fit without any sharing, bit for bit. The cache
 * must really have been used: hits counted, checkpoints written. */
Test(methods, shared_work_gives_the_same_numbers, .timeout = 300)
{
    struct tcorpus t;
    make_corpus(&t, 0, TSEEN, 8, 5);
    add_pose_seq(&t, 20);
    struct cp_set s = all(&t);
    char dir[4096];
    tu_tmpdir(dir, sizeof dir);
    enum { NM = 32 };
    char want[NM][65];
    float *P[NM] = { 0 }, *Q = malloc(s.n * TSEEN * sizeof *Q);   /* [n x K] each */
    size_t nm = 0;
    for (size_t k = 0; mb_methods[k] && nm < NM; k++, nm++) {
        const struct mb_method *m = mb_methods[k];
        struct mb_method_model *mm = NULL;
        want[nm][0] = 0;
        if (!(m->caps & MB_CAP_CLASSIFY))
            continue;
        cr_assert_eq(tu_fit_sh(m, &mm, &s, SEEN, TSEEN, quick_params(m), 21, NULL), MB_OK, "%s: %s", m->name,
                     mb_last_error());
        P[nm] = malloc(s.n * TSEEN * sizeof *P[nm]);
        cr_assert_eq(m->predict_proba(P[nm], mm, &s), MB_OK, "%s", mb_last_error());
        if (m->param_hash)
            m->param_hash(want[nm], mm);
        m->free(mm);
    }
    for (int pass = 0; pass < 2; pass++) {
        struct mb_shared *sh = mb_shared_new((size_t)1 << 30);
        cr_assert_eq(mb_shared_set_dir(sh, dir), MB_OK);
        for (size_t k = 0; k < nm; k++) {
            const struct mb_method *m = mb_methods[k];
            if (!P[k])
                continue;
            struct mb_method_model *mm = NULL;
            char got[65] = "";
            cr_assert_eq(tu_fit_sh(m, &mm, &s, SEEN, TSEEN, quick_params(m), 21, sh), MB_OK, "%s: %s", m->name,
                         mb_last_error());
            cr_assert_eq(m->predict_proba(Q, mm, &s), MB_OK, "%s", mb_last_error());
            if (m->param_hash)
                m->param_hash(got, mm);
            cr_expect_str_eq(got, want[k], "pass %d %s: parameters differ with shared work", pass, m->name);
            cr_expect_eq(memcmp(Q, P[k], s.n * TSEEN * sizeof *Q), 0, "pass %d %s: probabilities differ with "
                         "shared work", pass, m->name);
            m->free(mm);
        }
        struct mb_shared_stats st;
        mb_shared_stats(&st, sh);
        cr_log_info("pass %d: %zu hits, %zu computed", pass, st.hits, st.misses);
        /* the EMG and pose encoders are each pre-trained once (in pass 1 read from
         * the folder), then found by the other methods */
        cr_expect_geq(st.hits, 3, "pass %d: %zu hits", pass, st.hits);
        mb_shared_free(sh);
    }
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ls %s/enc-*.h5 2>/dev/null | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int nfiles = 0;
    cr_assert_eq(fscanf(p, "%d", &nfiles), 1);
    pclose(p);
    cr_expect_geq(nfiles, 2, "encoder checkpoints written: %d", nfiles);
    for (size_t k = 0; k < nm; k++)
        free(P[k]);
    free(Q);
    free_corpus(&t);
}

/* Shared work is keyed by the corpus's hash: two corpora through one cache
 * never take each other's features, and corpora without a hash (built in
 * memory, sha256 "") share nothing rather than collide. */
Test(methods, shared_work_tells_corpora_apart, .timeout = 120)
{
    struct tcorpus a, b;
    make_corpus(&a, 0, TSEEN, 8, 5);
    make_corpus(&b, 0, TSEEN, 8, 6);
    struct cp_set sa = all(&a), sb = all(&b);
    const struct mb_method *m = mb_method_find("lda-td4");
    cr_assert_not_null(m);
    char want[65], got[65];
    struct mb_method_model *mm = NULL;
    cr_assert_eq(tu_fit_sh(m, &mm, &sb, SEEN, TSEEN, NULL, 1, NULL), MB_OK, "%s", mb_last_error());
    m->param_hash(want, mm);
    m->free(mm);
    for (int hashed = 1; hashed >= 0; hashed--) {
        if (!hashed)
            a.c.sha256[0] = b.c.sha256[0] = '\0';
        struct mb_shared *sh = mb_shared_new((size_t)1 << 28);
        cr_assert_eq(tu_fit_sh(m, &mm, &sa, SEEN, TSEEN, NULL, 1, sh), MB_OK, "%s", mb_last_error());
        m->free(mm);
        cr_assert_eq(tu_fit_sh(m, &mm, &sb, SEEN, TSEEN, NULL, 1, sh), MB_OK, "%s", mb_last_error());
        m->param_hash(got, mm);
        m->free(mm);
        cr_expect_str_eq(got, want, "%s corpora: the second took the first's features", hashed ? "hashed" : "unhashed");
        mb_shared_free(sh);
    }
    free_corpus(&a);
    free_corpus(&b);
}
