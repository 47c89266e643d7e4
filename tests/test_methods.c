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
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "methods/internal.h"
#include "protocols/protocol.h"
#include "tests/testutil.h"

#define TC 8      /* channels */
#define TJ 6      /* pose joints */
#define TW 200    /* samples per window: 400 ms at 500 Hz, 4 patches of 100 ms */
#define TG 16     /* gestures: 0..11 seen in training, 12..15 unseen */
#define TSEEN 12

struct tcorpus {
    struct pr_corpus c;
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
    struct pr_corpus *c = &t->c;
    memset(t, 0, sizeof *t);
    c->name = "tiny";
    c->view.rate_hz = 500;
    c->view.window_ms = 400;
    c->view.stride_ms = 400;
    c->C = TC;
    c->W = TW;
    c->J = TJ;
    c->n = (size_t)(g1 - g0) * n_per;
    c->x = malloc(c->n * TW * TC * sizeof *c->x);
    c->pose = malloc(c->n * TJ * sizeof *c->pose);
    c->label = malloc(c->n * sizeof *c->label);
    c->subject = malloc(c->n * sizeof *c->subject);
    t->idx = malloc(c->n * sizeof *t->idx);
    cr_assert(c->x && c->pose && c->label && c->subject && t->idx);
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
                    c->x[(i * TW + (size_t)s) * TC + (size_t)ch] = amp * (float)mb_rng_normal(&r);
            }
            c->label[i] = g;
            c->subject[i] = (int32_t)(k % 3);
            t->idx[i] = i;
        }
}

/* Gives each window a pose sequence of Wp frames ramping from 0 to its end pose
 * (the corpus's pose_seq layout: the last frame is the end pose). */
static void add_pose_seq(struct tcorpus *t, size_t Wp)
{
    struct pr_corpus *c = &t->c;
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
    free(t->c.x);
    free(t->c.pose_seq);
    free(t->c.pose);
    free(t->c.label);
    free(t->c.subject);
    free(t->idx);
}

static struct pr_set all(const struct tcorpus *t)
{
    return (struct pr_set){ &t->c, t->c.n, t->idx };
}

static const int32_t SEEN[TSEEN] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
#define FAST "mae_steps=30,align_steps=30,batch=32"

/* A method's defaults, with the neural methods cut to 20 training steps. */
static const char *quick_params(const struct mb_method *m)
{
    if (!strstr(m->params, "mae_steps"))
        return m->params;
    return strstr(m->params, "align_steps") ? "mae_steps=20,align_steps=20,batch=32" : "mae_steps=20,batch=32";
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
    struct pr_set s = all(&t);
    const char *names[] = { "emg-mae", "pose-mae", "cpep", "pose-upper-bound" };
    for (size_t k = 0; k < 4; k++) {
        const struct mb_method *m = mb_method_find(names[k]);
        struct mb_method_model *mm = NULL;
        cr_assert_eq(m->fit(&mm, &s, SEEN, TSEEN, FAST, 1), MB_OK, "%s: %s", names[k], mb_last_error());
        char h0[65], h1[65];
        m->param_hash(h0, mm);
        size_t E = mth_embed_dim(mm);
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
static void fit_cpep(char hex[65], float *P, const struct pr_set *s, uint64_t seed)
{
    const struct mb_method *m = mb_method_find("cpep");
    struct mb_method_model *mm = NULL;
    cr_assert_eq(m->fit(&mm, s, SEEN, TSEEN, FAST, seed), MB_OK, "%s", mb_last_error());
    m->param_hash(hex, mm);
    cr_assert_eq(m->predict_proba(P, mm, s), MB_OK, "%s", mb_last_error());
    m->free(mm);
}

Test(methods, same_seed_same_parameters_and_predictions)
{
    struct tcorpus t;
    make_corpus(&t, 0, TSEEN, 8, 3);
    struct pr_set s = all(&t);
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
    struct pr_set s = all(&t);
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
        cr_assert_eq(m->fit(&ma, &s, SEEN, TSEEN, params, 21), MB_OK, "%s: %s", m->name, mb_last_error());
        cr_assert_eq(m->predict_proba(P1, ma, &s), MB_OK, "%s: %s", m->name, mb_last_error());
        omp_set_num_threads(2);
        cr_assert_eq(m->fit(&mb, &s, SEEN, TSEEN, params, 21), MB_OK, "%s: %s", m->name, mb_last_error());
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
    struct pr_set s = all(&t);
    const struct mb_method *m = mb_method_find("cpep");
    struct mb_method_model *mm = NULL;
    cr_assert_eq(m->fit(&mm, &s, SEEN, TSEEN, "mae_steps=120,align_steps=120,batch=32", 2), MB_OK, "%s",
                 mb_last_error());
    cr_assert_eq(mm->n_loss_emg, 120u);
    cr_assert_eq(mm->n_loss_pose, 120u);
    cr_assert_eq(mm->n_loss_align, 120u);
    double e0 = mean(mm->loss_emg, 15), e1 = mean(mm->loss_emg + 105, 15);
    double p0 = mean(mm->loss_pose, 15), p1 = mean(mm->loss_pose + 105, 15);
    double a0 = mean(mm->loss_align, 15), a1 = mean(mm->loss_align + 105, 15);
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
    struct pr_set s = all(&tr), st = all(&te);
    const struct mb_method *m = mb_method_find("cpep");
    struct mb_method_model *mm = NULL;
    cr_assert_eq(m->fit(&mm, &s, SEEN, TSEEN, "mae_steps=100,align_steps=300,batch=64,lr=2e-3", 4), MB_OK, "%s",
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

/* The pose oracle's zero-shot (the protocol's ceiling: cpep's vote on the true pose)
 * names unseen gestures from the same references far better than chance, and at
 * least as well as cpep does through the EMG (test above: > 0.35). */
Test(methods, pose_upper_bound_zero_shot_is_the_ceiling)
{
    struct tcorpus tr, te, rf;
    make_corpus(&tr, 0, TSEEN, 24, 100);
    make_corpus(&te, TSEEN, TG, 30, 200);
    make_corpus(&rf, TSEEN, TG, 20, 300);
    struct pr_set s = all(&tr), st = all(&te);
    const struct mb_method *m = mb_method_find("pose-upper-bound");
    cr_assert(m->caps & MB_CAP_ZERO_SHOT && m->caps & MB_CAP_ORACLE);
    struct mb_method_model *mm = NULL;
    cr_assert_eq(m->fit(&mm, &s, SEEN, TSEEN, "mae_steps=100,batch=64,lr=2e-3", 4), MB_OK, "%s", mb_last_error());
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
    struct pr_set s = all(&t);
    struct mb_method_model *mm = NULL;
    const struct mb_method *m = mb_method_find("emg-mae");
    cr_assert_eq(m->fit(&mm, &s, SEEN, TSEEN, "widht=64", 1), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "widht"), "%s", mb_last_error());
    cr_assert_eq(m->fit(&mm, &s, SEEN, TSEEN, "width=30,heads=4", 1), MB_EINVAL);
    cr_assert_null(mm);
    t.c.J = 0;
    cr_assert_eq(mb_method_find("cpep")->fit(&mm, &s, SEEN, TSEEN, FAST, 1), MB_EINVAL);
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
        struct pr_set s = all(&t);
        const struct mb_method *m = mb_method_find("emg2pose-tds");
        cr_assert_not_null(m);
        struct mb_method_model *mm = NULL;
        /* no training: random weights, fitted standardisation */
        cr_assert_eq(m->fit(&mm, &s, SEEN, TSEEN, "mae_steps=0,width=8", 1), MB_OK, "%s", mb_last_error());
        size_t Fu = tds_frames(mm->tds);
        cr_assert_eq(Fu, Wp ? 4u : 1u, "Wp %zu: %zu frames regressed", Wp, Fu);
        enum { B = 3 };
        const float *rows[B] = { t.c.x, t.c.x + 5 * TW * TC, t.c.x + 11 * TW * TC };
        float target[B * 4 * TJ];
        for (size_t i = 0; i < B * Fu * TJ; i++)
            target[i] = 0.1f * (float)i - 0.5f;
        struct nn_params *p = tds_params(mm->tds);
        nn_params_zero_grad(p);
        uint64_t sig0;
        tds_sq_loss(mm->tds, rows, target, B, 1, &sig0);
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
                    double lp = tds_sq_loss(mm->tds, rows, target, B, 0, &sp);
                    *w = w0 - h;
                    double lm = tds_sq_loss(mm->tds, rows, target, B, 0, &sm);
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
    struct pr_set s = all(&t);
    const struct mb_method *m = mb_method_find("emg2pose-tds");
    struct mb_method_model *mm = NULL;
    cr_assert_eq(m->fit(&mm, &s, SEEN, TSEEN, "mae_steps=120,batch=32", 3), MB_OK, "%s", mb_last_error());
    cr_assert_eq(mm->n_loss_emg, 120u);
    double l0 = mean(mm->loss_emg, 15), l1 = mean(mm->loss_emg + 105, 15);
    cr_log_info("emg2pose-tds L1 %.4f -> %.4f", l0, l1);
    cr_assert_lt(l1, 0.8 * l0, "L1 %g -> %g", l0, l1);
    size_t E = mth_embed_dim(mm);
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
 * pr_set.c, and nothing but discipline keeps it to the indices of its set. Each
 * method is fitted twice on the same training windows, once with the other windows'
 * EMG and pose replaced by large garbage; the two models must predict the held-out
 * windows bit for bit alike. A scaler, threshold or normaliser fitted over the whole
 * corpus would see the garbage and differ. */
Test(methods, fit_reads_only_its_training_windows, .timeout = 300)
{
    struct tcorpus t;
    make_corpus(&t, 0, TSEEN, 6, 5);
    const struct pr_corpus *c = &t.c;
    size_t n_tr = 0, n_te = 0;
    size_t *tr = malloc(c->n * sizeof *tr), *te = malloc(c->n * sizeof *te);   /* [n] */
    for (size_t i = 0; i < c->n; i++) {
        if (i % 3 == 2)
            te[n_te++] = i;
        else
            tr[n_tr++] = i;
    }
    struct pr_corpus g = *c;   /* shallow: only x and pose are replaced */
    g.x = malloc(c->n * c->W * c->C * sizeof *g.x);      /* [n x W x C] */
    g.pose = malloc(c->n * c->J * sizeof *g.pose);       /* [n x J] */
    cr_assert(tr && te && g.x && g.pose);
    memcpy(g.x, c->x, c->n * c->W * c->C * sizeof *g.x);
    memcpy(g.pose, c->pose, c->n * c->J * sizeof *g.pose);
    struct mb_rng r;
    mb_rng_seed(&r, 99, 0);
    for (size_t k = 0; k < n_te; k++) {
        size_t i = te[k];
        for (size_t s = 0; s < c->W * c->C; s++)
            g.x[i * c->W * c->C + s] = 500.0f + 300.0f * (float)mb_rng_normal(&r);
        for (size_t j = 0; j < c->J; j++)
            g.pose[i * c->J + j] = -40.0f;
    }
    struct pr_set train = { c, n_tr, tr }, train_g = { &g, n_tr, tr }, test = { c, n_te, te };
    float *P1 = malloc(n_te * TSEEN * sizeof *P1), *P2 = malloc(n_te * TSEEN * sizeof *P2); /* [n_te x K] */
    cr_assert(P1 && P2);
    size_t checked = 0;
    for (size_t k = 0; mb_methods[k]; k++) {
        const struct mb_method *m = mb_methods[k];
        if (!(m->caps & MB_CAP_CLASSIFY))
            continue;
        const char *params = quick_params(m);
        struct mb_method_model *a = NULL, *b = NULL;
        cr_assert_eq(m->fit(&a, &train, SEEN, TSEEN, params, 3), MB_OK, "%s: %s", m->name, mb_last_error());
        cr_assert_eq(m->fit(&b, &train_g, SEEN, TSEEN, params, 3), MB_OK, "%s: %s", m->name, mb_last_error());
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
    free(g.x);
    free(g.pose);
    free(tr);
    free(te);
    free_corpus(&t);
}

/* Every registered method parses its parameters without data, so a plan is checked
 * when it is loaded: its defaults pass, an unknown key does not. */
Test(methods, every_method_checks_its_parameters_without_data)
{
    for (size_t k = 0; mb_methods[k]; k++) {
        const struct mb_method *m = mb_methods[k];
        cr_assert_not_null(m->check_params, "%s has no check_params", m->name);
        cr_assert_eq(m->check_params(m->params), MB_OK, "%s: its defaults '%s': %s", m->name, m->params,
                     mb_last_error());
        mb_error_quiet_begin();
        int rc = m->check_params("no_such_key=1");
        mb_error_quiet_end();
        cr_assert_eq(rc, MB_EINVAL, "%s accepted an unknown key", m->name);
        cr_assert_not_null(strstr(mb_last_error(), "no_such_key"), "%s: '%s'", m->name, mb_last_error());
    }
}
