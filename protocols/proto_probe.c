/* protocols/proto_probe.c - linear probe of a frozen representation
 * (docs/PROTOCOLS.md "probe"): the method is fitted on the training
 * subjects, its embedding frozen, and a multinomial logistic regression
 * (baselines 'logreg') fitted on the embeddings with C chosen from a fixed
 * grid by subject-grouped cross-validation over the training subjects.
 * The method's param_hash is taken before and after; a change fails the
 * job. 'probe' probes the seen gestures on LOSO folds; 'probe-unseen'
 * fits the method on seen gestures only and probes the unseen ones. */
#include <stdlib.h>
#include <string.h>

#include "baselines/classifier.h"
#include "protocols/internal.h"
#include "reports/metrics.h"

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

static int probe_run_common(struct pr_result *res, const struct mb_method *m, const void *hp,
                            const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s,
                            struct mb_shared *sh, int unseen)
{
    memset(res, 0, sizeof *res);
    /* invariants first: a leaky fold fails whatever the method can do */
    unsigned inv = PR_INV_SUBJECT | PR_INV_REP | PR_INV_OVERLAP | PR_INV_DISJOINT;
    if (unseen)
        inv |= PR_INV_UNSEEN | PR_INV_REF_SUBJ;
    int rc = pr_check_invariants(c, f, inv);
    if (rc)
        return pr_result_set(res, PR_FAILED, rc, "%s", mb_last_error());
    if (!(m->caps & MB_CAP_EMBED) || !m->embed || !m->embed_dim || !m->param_hash || !m->fit)
        return pr_result_set(res, PR_NA, MB_OK, "method '%s' has no frozen representation to probe", m->name);
    if ((m->caps & MB_CAP_NEEDS_POSE) && !c->J)
        return pr_result_set(res, PR_NA, MB_OK, "method '%s' needs a pose stream; corpus '%s' has none",
                             m->name, c->name);
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
    return pr_plan_subjects(folds, n_folds, c, s, "probe");
}

static int probe_run(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m, const void *hp,
                     const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s, struct mb_shared *sh)
{
    return probe_run_common(res, m, hp, c, f, s, sh, 0);
}

static int probe_unseen_plan(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c,
                             const struct pr_settings *s)
{
    return pr_plan_unseen(folds, n_folds, c, s, "probe-unseen", 0);
}

static int probe_unseen_run(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m, const void *hp,
                            const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s, struct mb_shared *sh)
{
    return probe_run_common(res, m, hp, c, f, s, sh, 1);
}

const struct mb_protocol proto_probe = {
    .name = "probe",
    .summary = "linear probe (logistic regression, C by grouped CV) on the frozen representation, LOSO folds",
    .needs = MB_CAP_EMBED,
    .settings = pr_subject_settings,
    .check = pr_check_subject_settings,
    .plan = probe_plan,
    .run = probe_run,
};

const struct mb_protocol proto_probe_unseen = {
    .name = "probe-unseen",
    .summary = "linear probe of unseen gestures on a representation fitted on seen gestures only",
    .needs = MB_CAP_EMBED,
    .settings = pr_unseen_settings,
    .check = pr_check_subject_settings,
    .plan = probe_unseen_plan,
    .run = probe_unseen_run,
};
