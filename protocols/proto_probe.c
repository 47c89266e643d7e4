/* protocols/proto_probe.c - linear probe of a frozen representation
 * (docs/PROTOCOLS.md "probe"): the method is fitted on the training
 * subjects, its embedding frozen, and a multinomial logistic regression
 * (baselines 'logreg') fitted on the embeddings with C chosen from a fixed
 * grid by subject-grouped cross-validation over the training subjects.
 * The method's param_hash is taken before and after; a change fails the
 * job. 'probe' probes the seen gestures on LOSO folds; 'probe-unseen'
 * fits the method on seen gestures only and probes the unseen ones.
 *
 * With shots = k > 0 (the few-shot probe) each fold becomes 'episodes'
 * seeded draws of k units per gesture of the probe-training windows; the
 * method is fitted once per fold, through the plan's shared work, and every
 * draw (and every k) reuses its embeddings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baselines/classifier.h"
#include "core/fs.h"
#include "core/rng.h"
#include "core/shared.h"
#include "protocols/internal.h"
#include "reports/metrics.h"

/* probe's own keys (pr_settings.own): the few-shot budget */
struct probe_settings {
    long shots;              /* k units per gesture in the probe's training; 0 = every probe-training window */
    long episodes;           /* seeded draws per fold and k (0 = PROBE_EPISODES) */
};
PR_OWN_FITS(struct probe_settings);
#define PROBE_EPISODES 5     /* EMBridge's few-shot figure: 5 repeats */
/* C of a few-shot draw's probe: fixed, see probe_run_draw */
#define PROBE_SHOT_C 1.0
/* draw streams: (code << 40) | (fold << 16) | episode, code = 3000 + k,
 * apart from the subject and gesture splits' streams 1 and 2 and from
 * fewshot's codes (k, 1000 + p) */
#define PROBE_STREAM_CODE 3000

/* The tuning budget: the same for every method. */
static const double probe_grid[] = { 0.01, 0.1, 1, 10, 100 };
#define PROBE_INNER_FOLDS 3

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int logreg_fit(struct base_model **bm, const float *Z, const int32_t *y, size_t n, size_t E, size_t K,
                      double C, uint64_t seed)
{
    struct base_logreg_hp hp;
    mb_params_defaults(&hp, base_logreg_params);
    hp.C = C;
    return base_logreg.fit(bm, Z, y, n, E, K, &hp, seed);
}

/* Balanced accuracy of logreg(C) over the inner subject folds. */
static int inner_cv(double *score, const float *Z, const int32_t *y, const int *fold, size_t n, size_t E, size_t K,
                    int n_inner, double C, uint64_t seed)
{
    float *Ztr = malloc((n * E + 1) * sizeof *Ztr), *P = malloc((n * K + 1) * sizeof *P);
    int32_t *ytr = malloc((n + 1) * sizeof *ytr);
    int *yt = malloc((n + 1) * sizeof *yt), *yp = malloc((n + 1) * sizeof *yp);
    float *Zte = malloc((n * E + 1) * sizeof *Zte);
    int rc = Ztr && P && ytr && yt && yp && Zte ? MB_OK : mb_error(MB_ENOMEM, "out of memory");
    double sum = 0;
    for (int q = 0; !rc && q < n_inner; q++) {
        size_t ntr = 0, nte = 0;
        for (size_t i = 0; i < n; i++) {
            if (fold[i] == q) {
                memcpy(Zte + nte * E, Z + i * E, E * sizeof *Z);
                yt[nte++] = y[i];
            } else {
                memcpy(Ztr + ntr * E, Z + i * E, E * sizeof *Z);
                ytr[ntr++] = y[i];
            }
        }
        struct base_model *bm = NULL;
        if ((rc = logreg_fit(&bm, Ztr, ytr, ntr, E, K, C, seed)))
            break;
        rc = base_logreg.predict_proba(P, bm, Zte, nte);
        base_logreg.free(bm);
        if (rc)
            break;
        for (size_t i = 0; i < nte; i++) {
            size_t b = 0;
            for (size_t k = 1; k < K; k++)
                if (P[i * K + k] > P[i * K + b])
                    b = k;
            yp[i] = (int)b;
        }
        struct metric_set ms;
        if ((rc = metric_from_labels(&ms, NULL, yt, yp, nte, K)))
            break;
        sum += ms.balanced_accuracy;
    }
    *score = sum / n_inner;
    free(Ztr); free(P); free(ytr); free(yt); free(yp); free(Zte);
    return rc;
}

/* ---- few-shot probe (shots = k > 0) ---------------------------------------- */

/* A unit of the probe-training set: (gesture, subject, session, trial), as
 * fewshot's units are (a repetition, or a time block); by_window: the set has
 * no window with a trial, and every window is a unit of its own. */
static int cmp_punit(const void *a, const void *b, void *ctx)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const struct cp_corpus *c = ctx;
    const int32_t x[4] = { c->label[i], c->subject[i], c->session[i], c->trial[i] };
    const int32_t y[4] = { c->label[j], c->subject[j], c->session[j], c->trial[j] };
    for (int k = 0; k < 4; k++)
        if (x[k] != y[k])
            return (x[k] > y[k]) - (x[k] < y[k]);
    return (i > j) - (i < j);
}

static int same_punit(const struct cp_corpus *c, int by_window, size_t i, size_t j)
{
    if (by_window)
        return i == j;
    return c->label[i] == c->label[j] && c->subject[i] == c->subject[j] && c->session[i] == c->session[j] &&
           c->trial[i] == c->trial[j];
}

/* The drawable windows of the probe-training set idx [n] into tw (room for
 * n), sorted by unit: those with a trial (a window across time blocks, trial
 * -1, is never drawn, as in fewshot), or every window when none has one. */
static void punits(size_t *tw, size_t *nt, int *by_window, const struct cp_corpus *c, const size_t *idx, size_t n)
{
    *nt = 0;
    for (size_t k = 0; k < n; k++)
        if (c->trial[idx[k]] >= 0)
            tw[(*nt)++] = idx[k];
    *by_window = !*nt;
    if (*by_window) {
        memcpy(tw, idx, n * sizeof *tw);
        *nt = n;
    }
    qsort_r(tw, *nt, sizeof *tw, cmp_punit, (void *)c);
}

/* Units of gesture g among tw [nt] (sorted by punits). */
static size_t units_of_gesture(const struct cp_corpus *c, int by_window, const size_t *tw, size_t nt, int32_t g)
{
    size_t n = 0;
    for (size_t k = 0; k < nt; k++)
        if (c->label[tw[k]] == g && (!n || !same_punit(c, by_window, tw[k], tw[k - 1])))
            n++;
    return n;
}

static const char *gesture_name(const struct cp_corpus *c, int32_t id)
{
    for (size_t g = 0; g < c->n_gestures; g++)
        if (c->gesture_ids[g] == id)
            return c->gesture_names[g] ? c->gesture_names[g] : "";
    return "";
}

/* One draw: shot[k] = 1 for the windows of tw [nt] (sorted by punits) in the
 * k drawn units of each gesture. The units of a gesture are shuffled
 * (Fisher-Yates, section 3 of docs/PROTOCOLS.md), gesture by gesture in
 * ascending id, and the first k are drawn; every gesture has at least k
 * (the plan refused the budget otherwise). */
static int draw_units(uint8_t *shot, const struct cp_corpus *c, int by_window, const size_t *tw, size_t nt, long k,
                      struct mb_rng *r)
{
    int *perm = NULL;
    uint8_t *drawn = NULL;
    for (size_t a = 0, b; a < nt; a = b) {
        size_t nu = 0;
        for (b = a; b < nt && c->label[tw[b]] == c->label[tw[a]]; b++)
            if (b == a || !same_punit(c, by_window, tw[b], tw[b - 1]))
                nu++;
        int *p = realloc(perm, (nu + 1) * sizeof *p);
        uint8_t *d = p ? realloc(drawn, nu + 1) : NULL;
        if (p)
            perm = p;
        if (d)
            drawn = d;
        if (!p || !d) {
            free(perm);
            free(drawn);
            return mb_error(MB_ENOMEM, "out of memory drawing %zu units", nu);
        }
        for (size_t u = 0; u < nu; u++)
            perm[u] = (int)u;
        if (nu >= 2)
            mb_rng_shuffle_int(r, perm, nu);
        memset(drawn, 0, nu);
        for (size_t q = 0; q < (size_t)k && q < nu; q++)
            drawn[perm[q]] = 1;
        size_t u = 0;
        for (size_t j = a; j < b; j++) {
            if (j > a && !same_punit(c, by_window, tw[j], tw[j - 1]))
                u++;
            shot[j] = drawn[u];
        }
    }
    free(perm);
    free(drawn);
    return MB_OK;
}

static int push_all(struct pr_idxv *v, const size_t *idx, size_t n)
{
    int rc = MB_OK;
    for (size_t k = 0; k < n && !rc; k++)
        rc = pr_idxv_push(v, idx[k]);
    return rc;
}

/* The few-shot folds of the full probe's folds base [nb] (consumed): per
 * fold, 'episodes' draws of k units per gesture of its probe-training
 * windows (train, or ref for probe-unseen); train, test and ref stay the
 * fold's, the draw is the role 'probe'. A k some gesture of some fold has
 * fewer units than is refused as a whole: one fold per base fold (episode
 * 0, no draw) whose settings say why, every job n/a (as fewshot). */
static int plan_draws(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c, const struct pr_settings *s,
                      struct pr_fold *base, size_t nb, const char *protocol, int unseen)
{
    const struct probe_settings *own = PR_OWN(s, struct probe_settings);
    const long k = own->shots;
    const long episodes = own->episodes > 0 ? own->episodes : PROBE_EPISODES;
    struct pr_folds fs = { 0 };
    struct pr_idxv role[PR_N_ROLES] = { { 0 } };
    size_t *tw = malloc((c->n + 1) * sizeof *tw);
    uint8_t *shot = malloc(c->n + 1);
    int32_t *cls = NULL;
    size_t K = 0, short_folds = 0;
    char why[512] = "";
    int rc = tw && shot ? MB_OK : mb_error(MB_ENOMEM, "out of memory");
    /* every gesture of every fold's probe-training set needs k units */
    for (size_t b = 0; !rc && b < nb; b++) {
        const size_t *full = unseen ? base[b].ref : base[b].train;
        size_t nf = unseen ? base[b].n_ref : base[b].n_train, nt;
        int by_window;
        punits(tw, &nt, &by_window, c, full, nf);
        free(cls);
        cls = NULL;
        K = 0;
        if ((rc = pr_classes_add(&cls, &K, c, full, nf)))
            break;
        for (size_t g = 0; g < K; g++) {
            size_t nu = units_of_gesture(c, by_window, tw, nt, cls[g]);
            if (nu >= (size_t)k)
                continue;
            if (!short_folds++)
                snprintf(why, sizeof why, "%s-k%ld refused: %ld shots of every gesture need %ld %s per gesture in "
                         "the probe-training set; fold '%s' has %zu of gesture %d '%s'", protocol, k, k, k,
                         by_window ? "windows" : "repetitions (or time blocks)", base[b].id, nu, (int)cls[g],
                         gesture_name(c, cls[g]));
            break;
        }
    }
    if (short_folds) {
        size_t l = strlen(why);
        snprintf(why + l, sizeof why - l, " (%zu of %zu folds fall short); run a smaller k", short_folds, nb);
    }
    const size_t plen = strlen(protocol);
    for (size_t b = 0; !rc && b < nb; b++) {
        const size_t *full = unseen ? base[b].ref : base[b].train;
        size_t nf = unseen ? base[b].n_ref : base[b].n_train, nt;
        int by_window;
        punits(tw, &nt, &by_window, c, full, nf);
        /* the fold name after "<protocol>/" */
        const char *name = strncmp(base[b].id, protocol, plen) || base[b].id[plen] != '/' ? base[b].id
                                                                                          : base[b].id + plen + 1;
        json_t *man = json_loads(base[b].manifest, 0, NULL);
        json_t *bset = json_object_get(man, "settings");
        if (!man || !json_is_object(bset)) {
            json_decref(man);
            rc = mb_error(MB_EINVAL, "fold '%s': its manifest has no settings object", base[b].id);
            break;
        }
        for (long e = 0; !rc && e < (why[0] ? 1 : episodes); e++) {
            if ((rc = push_all(&role[PR_TRAIN], base[b].train, base[b].n_train)) ||
                (rc = push_all(&role[PR_TEST], base[b].test, base[b].n_test)) ||
                (rc = push_all(&role[PR_REF], base[b].ref, base[b].n_ref)))
                break;
            if (!why[0]) {
                struct mb_rng r;
                mb_rng_seed(&r, s->seed,
                            ((uint64_t)(PROBE_STREAM_CODE + k) << 40) | ((uint64_t)b << 16) | (uint64_t)e);
                if ((rc = draw_units(shot, c, by_window, tw, nt, k, &r)))
                    break;
                for (size_t j = 0; !rc && j < nt; j++)
                    if (shot[j])
                        rc = pr_idxv_push(&role[PR_PROBE], tw[j]);
                if (rc)
                    break;
            }
            char id[300], variant[64];
            snprintf(variant, sizeof variant, "%s-k%ld", protocol, k);
            snprintf(id, sizeof id, "%s/%s/e%ld", variant, name, e);
            /* the full probe's settings, and the draw's */
            json_t *extra = json_deep_copy(bset);
            if (extra) {
                json_object_set_new(extra, "draw", json_string("shots"));
                json_object_set_new(extra, "value", json_integer(k));
                json_object_set_new(extra, "episode", json_integer(e));
                json_object_set_new(extra, "episodes", json_integer(episodes));
                if (why[0])
                    json_object_set_new(extra, "refused", json_string(why));
            }
            rc = pr_fold_finish(&fs, c, protocol, id, s->seed, extra, role);
        }
        json_decref(man);
    }
    for (int r = 0; r < PR_N_ROLES; r++)
        pr_idxv_release(&role[r]);
    for (size_t b = 0; b < nb; b++)
        pr_fold_release(&base[b]);
    free(base);
    free(cls);
    free(tw);
    free(shot);
    return pr_folds_return(folds, n_folds, &fs, rc);
}

/* The method fitted on a fold's training windows, frozen: the embeddings of
 * the fold's full probe-training set and of its test windows. One per fold
 * and method, shared by every draw and every k (core/shared.h). */
struct probe_fit {
    size_t E, n_full, n_test;
    float *Z;                /* [n_full x E] in the order of the full set */
    float *Zt;               /* [n_test x E] */
};

static void probe_fit_free(void *v)
{
    struct probe_fit *pf = v;
    if (!pf)
        return;
    free(pf->Z);
    free(pf->Zt);
    free(pf);
}

struct fit_ctx {
    const struct mb_method *m;
    const void *hp;
    const struct cp_corpus *c;
    const struct pr_fold *f;
    const size_t *pidx;
    size_t pn;
    const int32_t *mcls;
    size_t mK;
    uint64_t seed;
    struct mb_shared *sh;    /* the job's, for the method's own shared work */
};

static int make_probe_fit(void **val, size_t *bytes, void *ctx)
{
    const struct fit_ctx *x = ctx;
    const struct mb_method *m = x->m;
    const struct pr_fold *f = x->f;
    struct cp_set train = { x->c, f->n_train, f->train }, pset = { x->c, x->pn, x->pidx },
                  test = { x->c, f->n_test, f->test };
    struct mb_method_model *model = NULL;
    struct probe_fit *pf = calloc(1, sizeof *pf);
    char h0[65], h1[65];
    int rc = pf ? MB_OK : mb_error(MB_ENOMEM, "out of memory");
    if (!rc)
        rc = m->fit(&model, &train, x->mcls, x->mK, x->hp, x->seed, x->sh);
    if (!rc) {
        m->param_hash(h0, model);
        pf->E = m->embed_dim(model);
        pf->n_full = x->pn;
        pf->n_test = f->n_test;
        pf->Z = malloc((x->pn * pf->E + 1) * sizeof *pf->Z);
        pf->Zt = malloc((f->n_test * pf->E + 1) * sizeof *pf->Zt);
        if (!pf->Z || !pf->Zt)
            rc = mb_error(MB_ENOMEM, "out of memory for %zu x %zu embeddings", x->pn + f->n_test, pf->E);
    }
    size_t E2 = 0, E3 = 0;
    if (!rc && !(rc = m->embed(pf->Z, &E2, model, &pset)) && !(rc = m->embed(pf->Zt, &E3, model, &test)) &&
        (E2 != pf->E || E3 != pf->E))
        rc = mb_error(MB_EINVAL, "method '%s': embed gave %zu dimensions, embed_dim %zu", m->name,
                      E2 != pf->E ? E2 : E3, pf->E);
    if (!rc) {
        m->param_hash(h1, model);
        if (strcmp(h0, h1))
            rc = mb_error(MB_EINVAL, "fold '%s': method '%s' changed its representation during the probe "
                          "(param hash %.12s before, %.12s after)", f->id, m->name, h0, h1);
    }
    if (model && m->free)
        m->free(model);
    if (rc) {
        probe_fit_free(pf);
        return rc;
    }
    *val = pf;
    *bytes = sizeof *pf + (pf->n_full + pf->n_test) * pf->E * sizeof(float);
    return MB_OK;
}

/* Key of a fold's fitted method in the shared work: everything the
 * embeddings depend on (corpus, view, method and parameters, seed, the
 * training, probe-training and test windows), not the draw or k. */
static int probe_fit_key(char key[65], const struct mb_method *m, const void *hp, const struct cp_corpus *c,
                         const struct pr_fold *f, const size_t *pidx, size_t pn, uint64_t seed)
{
    char *par = mb_method_params_text(m, hp);
    if (!par)
        return MB_ENOMEM;
    char ht[65], hpr[65], hte[65];
    mb_sha256_hex(ht, f->train, f->n_train * sizeof *f->train);
    mb_sha256_hex(hpr, pidx, pn * sizeof *pidx);
    mb_sha256_hex(hte, f->test, f->n_test * sizeof *f->test);
    size_t n = strlen(par) + 1024;
    char *text = malloc(n);
    if (!text) {
        free(par);
        return mb_error(MB_ENOMEM, "out of memory");
    }
    snprintf(text, n, "myobench-probe-fit/1\ncorpus %s\nview %.17g %.17g %.17g %d\nmethod %s\nparams %s\nseed %llu\n"
             "train %s\nprobe %s\ntest %s\n", c->sha256, c->view.rate_hz, c->view.window_ms, c->view.stride_ms,
             c->view.majority_label, m->name, par, (unsigned long long)seed, ht, hpr, hte);
    mb_sha256_hex(key, text, strlen(text));
    free(text);
    free(par);
    return MB_OK;
}

/* One draw of the few-shot probe. The method's fit does not depend on k or
 * the draw: it is fitted once per fold through the shared work (the cache
 * itself, not the job's scope: each draw is a fold of its own, and the
 * draws of a fold, for every k, ask for the same fit), and every draw
 * fits only the logistic probe on its rows of the frozen embeddings.
 * C is fixed (PROBE_SHOT_C = 1, logreg's default): the full probe picks C
 * by subject-grouped CV, but a draw holds k units per gesture, often from
 * fewer subjects than inner folds, so inner folds would lack whole
 * gestures, and a C picked per draw would add its own noise to the spread
 * the draws are meant to measure. */
static int probe_run_draw(struct pr_result *res, const struct mb_method *m, const void *hp, const struct cp_corpus *c,
                          const struct pr_fold *f, const struct pr_settings *s, struct mb_shared *sh, int unseen)
{
    const size_t *pidx = unseen ? f->ref : f->train;
    size_t pn = unseen ? f->n_ref : f->n_train;
    if (!f->n_train || !f->n_test || !pn || !f->n_probe)
        return pr_result_set(res, PR_FAILED,
                             mb_error(MB_EINVAL, "fold '%s': empty training, probe, draw or test set", f->id), "%s",
                             mb_last_error());
    int32_t *mcls = NULL, *classes = NULL, *scored = NULL, *y = NULL, *pred = NULL;
    size_t mK = 0, K = 0, KS = 0;
    float *Zd = NULL, *P = NULL;
    struct base_model *bm = NULL;
    struct mb_shared_ref ref;
    memset(&ref, 0, sizeof ref);
    char key[65];
    int rc;
    if ((rc = pr_classes_add(&mcls, &mK, c, f->train, f->n_train)) ||
        (rc = pr_classes_add(&classes, &K, c, f->probe, f->n_probe)) ||
        (rc = pr_classes_add(&scored, &KS, c, f->probe, f->n_probe)) ||
        (rc = pr_classes_add(&scored, &KS, c, f->test, f->n_test)) ||
        (rc = probe_fit_key(key, m, hp, c, f, pidx, pn, s->seed)))
        goto out;
    struct fit_ctx ctx = { m, hp, c, f, pidx, pn, mcls, mK, s->seed, sh };
    double t0 = pr_now();
    if ((rc = mb_shared_get(&ref, mb_shared_root(sh), key, make_probe_fit, &ctx, probe_fit_free)))
        goto out;
    const struct probe_fit *pf = ref.val;
    const size_t E = pf->E, np = f->n_probe;
    Zd = malloc((np * E + 1) * sizeof *Zd);
    y = malloc((np + 1) * sizeof *y);
    P = malloc((f->n_test * K + 1) * sizeof *P);
    pred = malloc((f->n_test + 1) * sizeof *pred);
    if (!Zd || !y || !P || !pred) {
        rc = mb_error(MB_ENOMEM, "out of memory for %zu x %zu embeddings", np, E);
        goto out;
    }
    /* the draw's rows of the full set's embeddings: both lists ascending,
     * the draw inside the full set (invariant draw-within-probe-training) */
    for (size_t q = 0, j = 0; q < np; q++) {
        while (j < pn && pidx[j] < f->probe[q])
            j++;
        if (j == pn || pidx[j] != f->probe[q]) {
            rc = mb_error(MB_EINVAL, "fold '%s': probe window %zu is not in the probe-training set", f->id,
                          f->probe[q]);
            goto out;
        }
        memcpy(Zd + q * E, pf->Z + j * E, E * sizeof *Zd);
        y[q] = (int32_t)((const int32_t *)bsearch(&c->label[f->probe[q]], classes, K, sizeof *classes, cmp_i32) -
                         classes);
    }
    if ((rc = logreg_fit(&bm, Zd, y, np, E, K, PROBE_SHOT_C, s->seed)))
        goto out;
    double t1 = pr_now();
    res->seconds_fit = t1 - t0;
    if ((rc = base_logreg.predict_proba(P, bm, pf->Zt, f->n_test)))
        goto out;
    res->seconds_predict = pr_now() - t1;
    for (size_t i = 0; i < f->n_test; i++) {
        size_t b = 0;
        for (size_t k = 1; k < K; k++)
            if (P[i * K + k] > P[i * K + b])
                b = k;
        pred[i] = classes[b];
    }
    rc = pr_score(res, c, f->test, f->n_test, pred, scored, KS);
    if (!rc)
        snprintf(res->message, sizeof res->message, "probe C=%g (fixed for a few-shot draw), %ld shots per gesture, "
                 "%zu of %zu probe-training windows", PROBE_SHOT_C, PR_OWN(s, struct probe_settings)->shots, np, pn);
out:
    if (bm)
        base_logreg.free(bm);
    mb_shared_unref(mb_shared_root(sh), &ref);
    free(mcls); free(classes); free(scored); free(y); free(pred); free(Zd); free(P);
    if (rc)
        return pr_result_set(res, PR_FAILED, rc, "%s", mb_last_error());
    res->status = PR_OK;
    return MB_OK;
}

static int probe_run_common(struct pr_result *res, const struct mb_method *m, const void *hp,
                            const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s,
                            struct mb_shared *sh, int unseen)
{
    memset(res, 0, sizeof *res);
    /* invariants first: a leaky fold fails whatever the method can do */
    unsigned inv = PR_INV_SUBJECT | PR_INV_REP | PR_INV_OVERLAP | PR_INV_DISJOINT;
    if (unseen)
        inv |= PR_INV_UNSEEN | PR_INV_REF_SUBJ;
    const int draw = PR_OWN(s, struct probe_settings)->shots > 0;
    if (draw)
        inv |= unseen ? PR_INV_DRAW_REF : PR_INV_DRAW_TRAIN;
    int rc = pr_check_invariants(c, f, inv);
    if (rc)
        return pr_result_set(res, PR_FAILED, rc, "%s", mb_last_error());
    if (draw) {
        /* a refused budget (plan_draws): n/a with the reason */
        json_t *man = json_loads(f->manifest, 0, NULL);
        const char *why = json_string_value(json_object_get(json_object_get(man, "settings"), "refused"));
        if (why) {
            rc = pr_result_set(res, PR_NA, MB_OK, "%s", why);
            json_decref(man);
            return rc;
        }
        json_decref(man);
    }
    if (!(m->caps & MB_CAP_EMBED) || !m->embed || !m->embed_dim || !m->param_hash || !m->fit)
        return pr_result_set(res, PR_NA, MB_OK, "method '%s' has no frozen representation to probe", m->name);
    if ((m->caps & MB_CAP_NEEDS_POSE) && !c->J)
        return pr_result_set(res, PR_NA, MB_OK, "method '%s' needs a pose stream; corpus '%s' has none",
                             m->name, c->name);
    if (draw)
        return probe_run_draw(res, m, hp, c, f, s, sh, unseen);
    /* the probe's training windows: the method's own (seen) or the
     * training subjects' unseen-gesture windows */
    const size_t *pidx = unseen ? f->ref : f->train;
    size_t pn = unseen ? f->n_ref : f->n_train;
    if (!f->n_train || !f->n_test || !pn)
        return pr_result_set(res, PR_FAILED, mb_error(MB_EINVAL, "fold '%s': empty training, probe or test set", f->id),
                             "%s", mb_last_error());
    int32_t *mcls = NULL, *classes = NULL, *scored = NULL, *y = NULL, *pred = NULL;
    size_t mK = 0, K = 0, KS = 0, E = 0;
    float *Z = NULL, *Zt = NULL, *P = NULL;
    int *fold = NULL;
    struct mb_method_model *model = NULL;
    struct base_model *bm = NULL;
    char h0[65], h1[65];
    /* the probe learns its training gestures; the score counts over the union
     * with the test gestures (one absent from the probe's training is a row of
     * errors), as in pr_run_classify */
    if ((rc = pr_classes_add(&mcls, &mK, c, f->train, f->n_train)) ||
        (rc = pr_classes_add(&classes, &K, c, pidx, pn)) || (rc = pr_classes_add(&scored, &KS, c, pidx, pn)) ||
        (rc = pr_classes_add(&scored, &KS, c, f->test, f->n_test)))
        goto out;
    struct cp_set train = { c, f->n_train, f->train }, pset = { c, pn, pidx }, test = { c, f->n_test, f->test };
    double t0 = pr_now();
    if ((rc = m->fit(&model, &train, mcls, mK, hp, s->seed, sh)))
        goto out;
    m->param_hash(h0, model);
    E = m->embed_dim(model);
    Z = malloc((pn * E + 1) * sizeof *Z);
    Zt = malloc((f->n_test * E + 1) * sizeof *Zt);
    P = malloc((f->n_test * K + 1) * sizeof *P);
    y = malloc((pn + 1) * sizeof *y);
    pred = malloc((f->n_test + 1) * sizeof *pred);
    fold = malloc((pn + 1) * sizeof *fold);
    if (!Z || !Zt || !P || !y || !pred || !fold) {
        rc = mb_error(MB_ENOMEM, "out of memory for %zu x %zu embeddings", pn, E);
        goto out;
    }
    size_t E2 = 0;
    if ((rc = m->embed(Z, &E2, model, &pset)))
        goto out;
    if (E2 != E) {
        rc = mb_error(MB_EINVAL, "method '%s': embed gave %zu dimensions, embed_dim %zu", m->name, E2, E);
        goto out;
    }
    for (size_t k = 0; k < pn; k++)
        y[k] = (int32_t)((const int32_t *)bsearch(&c->label[pidx[k]], classes, K, sizeof *classes, cmp_i32) - classes);
    /* inner folds: the probe's training subjects in index order, the
     * subject at rank r in fold r % 3 */
    int32_t *rank = calloc(c->n_subjects + 1, sizeof *rank);
    if (!rank) {
        rc = mb_error(MB_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < pn; k++)
        rank[c->subject[pidx[k]]] = 1;
    int ns = 0;
    for (size_t sj = 0; sj < c->n_subjects; sj++)
        rank[sj] = rank[sj] ? ns++ : -1;
    int n_inner = ns < PROBE_INNER_FOLDS ? ns : PROBE_INNER_FOLDS;
    for (size_t k = 0; k < pn; k++)
        fold[k] = rank[c->subject[pidx[k]]] % (n_inner > 0 ? n_inner : 1);
    free(rank);
    double bestC = 1, best = -1;
    if (n_inner >= 2)
        for (size_t g = 0; g < sizeof probe_grid / sizeof probe_grid[0]; g++) {
            double sc;
            if ((rc = inner_cv(&sc, Z, y, fold, pn, E, K, n_inner, probe_grid[g], s->seed)))
                goto out;
            if (sc > best) {   /* ties keep the smaller C */
                best = sc;
                bestC = probe_grid[g];
            }
        }
    if ((rc = logreg_fit(&bm, Z, y, pn, E, K, bestC, s->seed)))
        goto out;
    double t1 = pr_now();
    res->seconds_fit = t1 - t0;
    if ((rc = m->embed(Zt, &E2, model, &test)))
        goto out;
    if ((rc = base_logreg.predict_proba(P, bm, Zt, f->n_test)))
        goto out;
    res->seconds_predict = pr_now() - t1;
    m->param_hash(h1, model);
    if (strcmp(h0, h1)) {
        rc = mb_error(MB_EINVAL, "fold '%s': method '%s' changed its representation during the probe "
                      "(param hash %.12s before, %.12s after)", f->id, m->name, h0, h1);
        goto out;
    }
    for (size_t i = 0; i < f->n_test; i++) {
        size_t b = 0;
        for (size_t k = 1; k < K; k++)
            if (P[i * K + k] > P[i * K + b])
                b = k;
        pred[i] = classes[b];
    }
    rc = pr_score(res, c, f->test, f->n_test, pred, scored, KS);
    if (!rc)
        snprintf(res->message, sizeof res->message, "probe C=%g (grid 0.01..100, %d inner subject folds)", bestC,
                 n_inner);
out:
    if (bm)
        base_logreg.free(bm);
    if (model && m->free)
        m->free(model);
    free(mcls); free(classes); free(scored); free(y); free(pred); free(Z); free(Zt); free(P); free(fold);
    if (rc)
        return pr_result_set(res, PR_FAILED, rc, "%s", mb_last_error());
    res->status = PR_OK;
    return MB_OK;
}

static int probe_plan(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c, const struct pr_settings *s)
{
    int rc = pr_plan_subjects(folds, n_folds, c, s, "probe");
    if (rc || PR_OWN(s, struct probe_settings)->shots <= 0)
        return rc;
    return plan_draws(folds, n_folds, c, s, *folds, *n_folds, "probe", 0);
}

static int probe_run(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m, const void *hp,
                     const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s, struct mb_shared *sh)
{
    return probe_run_common(res, m, hp, c, f, s, sh, 0);
}

static int probe_unseen_plan(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c,
                             const struct pr_settings *s)
{
    int rc = pr_plan_unseen(folds, n_folds, c, s, "probe-unseen", 0);
    if (rc || PR_OWN(s, struct probe_settings)->shots <= 0)
        return rc;
    return plan_draws(folds, n_folds, c, s, *folds, *n_folds, "probe-unseen", 1);
}

static int probe_unseen_run(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m, const void *hp,
                            const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s, struct mb_shared *sh)
{
    return probe_run_common(res, m, hp, c, f, s, sh, 1);
}

/* shots is a budget (one report block per value, probe-k5); a plain probe
 * entry is the full probe alone (no default budgets), as before shots. */
#define SHOTS_MAX 10000
#define PROBE_KEY_SHOTS { "shots", MB_PT_INT, PR_OWN_KEY(struct probe_settings, shots), 0, 0, SHOTS_MAX, NULL, \
                          "k repetitions (or time blocks) per gesture in the probe's training, drawn; 0 = all" }
#define PROBE_KEY_EPISODES { "episodes", MB_PT_INT, PR_OWN_KEY(struct probe_settings, episodes), PROBE_EPISODES, 1, \
                             SHOTS_MAX, NULL, "seeded draws per fold and k (with shots > 0)" }
static const struct mb_param probe_settings_tab[] = {
    PR_KEY_FOLDS, PR_KEY_OFFICIAL, PROBE_KEY_SHOTS, PROBE_KEY_EPISODES, MB_PARAM_END
};
static const struct mb_param probe_unseen_settings_tab[] = {
    PR_KEY_FOLDS, PR_KEY_OFFICIAL, PR_KEY_UNSEEN_FRACTION, PROBE_KEY_SHOTS, PROBE_KEY_EPISODES, MB_PARAM_END
};
static const struct pr_budget probe_budgets[] = {
    { "shots", "shots", "k", 1, SHOTS_MAX, NULL, 0 },
    { NULL, NULL, NULL, 0, 0, NULL, 0 },
};

const struct mb_protocol proto_probe = {
    .name = "probe",
    .summary = "linear probe (logistic regression, C by grouped CV) on the frozen representation, LOSO folds",
    .needs = MB_CAP_EMBED,
    .settings = probe_settings_tab,
    .budgets = probe_budgets,
    .check = pr_check_subject_settings,
    .plan = probe_plan,
    .run = probe_run,
};

const struct mb_protocol proto_probe_unseen = {
    .name = "probe-unseen",
    .summary = "linear probe of unseen gestures on a representation fitted on seen gestures only",
    .needs = MB_CAP_EMBED,
    .settings = probe_unseen_settings_tab,
    .budgets = probe_budgets,
    .check = pr_check_subject_settings,
    .plan = probe_unseen_plan,
    .run = probe_unseen_run,
};
