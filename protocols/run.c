/* protocols/run.c - the classify job shared by most protocols, scoring per
 * test subject through reports/metrics, and result bookkeeping. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocols/internal.h"
#include "reports/metrics.h"

double pr_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void pr_result_release(struct pr_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_subjects; i++) {
        free(r->subjects[i].classes);
        free(r->subjects[i].confusion);
    }
    free(r->subjects);
    memset(r, 0, sizeof *r);
}

int pr_result_set(struct pr_result *res, enum pr_status st, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
    res->status = st;
    return rc;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int pr_classes_add(int32_t **classes, size_t *K, const struct cp_corpus *c, const size_t *idx, size_t n)
{
    int32_t *v = realloc(*classes, (*K + n + 1) * sizeof *v);
    if (!v)
        return mb_error(MB_ENOMEM, "out of memory for %zu labels", *K + n);
    for (size_t k = 0; k < n; k++)
        v[*K + k] = c->label[idx[k]];
    size_t m = *K + n, u = 0;
    qsort(v, m, sizeof *v, cmp_i32);
    for (size_t k = 0; k < m; k++)
        if (k == 0 || v[k] != v[u - 1])
            v[u++] = v[k];
    *classes = v;
    *K = u;
    return MB_OK;
}

static long class_index(const int32_t *classes, size_t K, int32_t g)
{
    const int32_t *p = bsearch(&g, classes, K, sizeof *classes, cmp_i32);
    return p ? (long)(p - classes) : -1;
}

int pr_score(struct pr_result *res, const struct cp_corpus *c, const size_t *idx, size_t n,
             const int32_t *pred, const int32_t *classes, size_t K)
{
    uint8_t *has = calloc(c->n_subjects + 1, 1);
    size_t *cm = malloc((K * K + 1) * sizeof *cm);
    if (!has || !cm) {
        free(has); free(cm);
        return mb_error(MB_ENOMEM, "out of memory for %zu x %zu confusion matrices", K, K);
    }
    size_t ns = 0;
    /* a flag, not a count: a uint8_t count wrapped to 0 at 256 windows and lost the subject */
    for (size_t k = 0; k < n; k++)
        if (!has[c->subject[idx[k]]]) {
            has[c->subject[idx[k]]] = 1;
            ns++;
        }
    res->subjects = calloc(ns + 1, sizeof *res->subjects);
    if (!res->subjects) {
        free(has); free(cm);
        return mb_error(MB_ENOMEM, "out of memory");
    }
    int rc = MB_OK;
    for (size_t s = 0; s < c->n_subjects && !rc; s++) {
        if (!has[s])
            continue;
        memset(cm, 0, K * K * sizeof *cm);
        size_t cnt = 0;
        for (size_t k = 0; k < n; k++) {
            if (c->subject[idx[k]] != (int32_t)s)
                continue;
            long t = class_index(classes, K, c->label[idx[k]]);
            long p = class_index(classes, K, pred[k]);
            if (t < 0 || p < 0) {
                rc = mb_error(MB_EINVAL, "test window %zu: gesture %d or prediction %d outside the %zu classes",
                              idx[k], c->label[idx[k]], pred[k], K);
                break;
            }
            cm[(size_t)t * K + (size_t)p]++;
            cnt++;
        }
        struct pr_subject_result *sr = &res->subjects[res->n_subjects++];
        struct metric_set ms;
        metric_from_confusion(&ms, NULL, cm, K);
        sr->subject = (int32_t)s;
        sr->n_test = cnt;
        sr->accuracy = ms.accuracy;
        sr->balanced_accuracy = ms.balanced_accuracy;
        sr->macro_f1 = ms.macro_f1;
        sr->K = K;
        sr->classes = malloc((K + 1) * sizeof *sr->classes);
        sr->confusion = malloc((K * K + 1) * sizeof *sr->confusion);
        if (!sr->classes || !sr->confusion) {
            rc = mb_error(MB_ENOMEM, "out of memory");
            break;
        }
        memcpy(sr->classes, classes, K * sizeof *classes);
        for (size_t j = 0; j < K * K; j++)
            sr->confusion[j] = (int64_t)cm[j];
    }
    free(has);
    free(cm);
    return rc;
}

int pr_run_classify(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m, const void *hp,
                    const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s, struct mb_shared *sh,
                    unsigned invariants, int use_adapt)
{
    memset(res, 0, sizeof *res);
    /* invariants first: a leaky fold fails whatever the method can do */
    int rc = pr_check_invariants(c, f, invariants);
    if (rc)
        return pr_result_set(res, PR_FAILED, rc, "%s", mb_last_error());
    if (!(m->caps & MB_CAP_CLASSIFY) || !m->fit || !m->predict_proba)
        return pr_result_set(res, PR_NA, MB_OK, "method '%s' cannot classify", m->name);
    if (use_adapt && (!(m->caps & MB_CAP_ADAPT) || !m->adapt))
        return pr_result_set(res, PR_NA, MB_OK, "method '%s' has no unsupervised adaptation", m->name);
    if ((m->caps & MB_CAP_NEEDS_POSE) && !c->J)
        return pr_result_set(res, PR_NA, MB_OK, "method '%s' needs a pose stream; corpus '%s' has none",
                             m->name, c->name);
    if (!f->n_train || !f->n_test)
        return pr_result_set(res, PR_FAILED, mb_error(MB_EINVAL, "fold '%s': empty training or test set", f->id),
                             "%s", mb_last_error());
    /* The method learns the training gestures only (an empty class would be a
     * column it could never justify); the score counts over the union, so a
     * test gesture absent from training is a row of errors, not a dropped one. */
    int32_t *classes = NULL, *scored = NULL;
    size_t K = 0, KS = 0;
    if ((rc = pr_classes_add(&classes, &K, c, f->train, f->n_train)) ||
        (rc = pr_classes_add(&scored, &KS, c, f->train, f->n_train)) ||
        (rc = pr_classes_add(&scored, &KS, c, f->test, f->n_test))) {
        free(classes);
        free(scored);
        return pr_result_set(res, PR_FAILED, rc, "%s", mb_last_error());
    }
    float *P = malloc((f->n_test * K + 1) * sizeof *P);
    int32_t *pred = malloc((f->n_test + 1) * sizeof *pred);
    struct mb_method_model *model = NULL;
    if (!P || !pred) {
        rc = mb_error(MB_ENOMEM, "out of memory for %zu x %zu probabilities", f->n_test, K);
        goto out;
    }
    struct cp_set train = { c, f->n_train, f->train }, test = { c, f->n_test, f->test };
    double t0 = pr_now();
    rc = m->fit(&model, &train, classes, K, hp, s->seed, sh);
    if (!rc && use_adapt) {
        struct cp_set ad = { c, f->n_adapt, f->adapt };
        rc = m->adapt(model, &ad, s->seed);
    }
    double t1 = pr_now();
    res->seconds_fit = t1 - t0;
    if (rc)
        goto out;
    rc = m->predict_proba(P, model, &test);
    res->seconds_predict = pr_now() - t1;
    if (rc)
        goto out;
    for (size_t i = 0; i < f->n_test; i++) {
        size_t best = 0;   /* ties go to the lower class index */
        for (size_t k = 1; k < K; k++)
            if (P[i * K + k] > P[i * K + best])
                best = k;
        pred[i] = classes[best];
    }
    rc = pr_score(res, c, f->test, f->n_test, pred, scored, KS);
out:
    if (model && m->free)
        m->free(model);
    free(P);
    free(pred);
    free(classes);
    free(scored);
    if (rc)
        return pr_result_set(res, PR_FAILED, rc, "%s", mb_last_error());
    (void)p;
    return pr_result_set(res, PR_OK, MB_OK, "%s", "");
}
