/* protocols/invariants.c - the leakage checks every run makes on its fold
 * before a method sees any data (docs/PROTOCOLS.md "Invariants"). They
 * look at the window lists themselves, not at the manifest, so a fold
 * edited after planning is caught too. */
#include <stdlib.h>
#include <string.h>

#include "protocols/internal.h"

struct key { int32_t subject, session, gesture, trial; size_t win; };

static int cmp_key(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    const int32_t xa[4] = { x->subject, x->session, x->gesture, x->trial };
    const int32_t ya[4] = { y->subject, y->session, y->gesture, y->trial };
    for (int i = 0; i < 4; i++)
        if (xa[i] != ya[i])
            return (xa[i] > ya[i]) - (xa[i] < ya[i]);
    return 0;
}

static struct key key_of(const struct cp_corpus *c, size_t i)
{
    return (struct key){ c->subject[i], c->session[i], c->label[i], c->trial[i], i };
}

/* Test units present among 'other' windows: fails naming the first. */
static int check_units(const struct cp_corpus *c, const struct pr_fold *f, const size_t *other, size_t n_other,
                       const char *role)
{
    struct key *k = malloc((f->n_test + 1) * sizeof *k);
    if (!k)
        return mb_error(MB_ENOMEM, "out of memory");
    for (size_t t = 0; t < f->n_test; t++)
        k[t] = key_of(c, f->test[t]);
    qsort(k, f->n_test, sizeof *k, cmp_key);
    int rc = MB_OK;
    for (size_t j = 0; j < n_other && !rc; j++) {
        struct key q = key_of(c, other[j]);
        if (q.trial < 0)
            continue;
        if (bsearch(&q, k, f->n_test, sizeof *k, cmp_key))
            rc = mb_error(MB_EINVAL, "fold '%s': invariant 'no-test-repetition-in-%s' violated: %s window %zu "
                          "(subject '%s', gesture %d, repetition %d) is a test repetition", f->id, role, role,
                          other[j], c->subject_names[q.subject], q.gesture, q.trial);
    }
    free(k);
    return rc;
}

struct span { int32_t rec; int64_t start; int role; size_t win; };

static int cmp_span(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    if (x->rec != y->rec) return (x->rec > y->rec) - (x->rec < y->rec);
    if (x->start != y->start) return (x->start > y->start) - (x->start < y->start);
    return (x->role > y->role) - (x->role < y->role);
}

/* No window of another role shares a sample with a test window, counting
 * the resampler's reach: intervals [start - reach, start + W + reach). */
static int check_overlap(const struct cp_corpus *c, const struct pr_fold *f)
{
    static const char *const names[PR_N_ROLES] = { "train", "test", "ref", "adapt", "probe" };
    const size_t *lists[PR_N_ROLES] = { f->train, f->test, f->ref, f->adapt, f->probe };
    const size_t counts[PR_N_ROLES] = { f->n_train, f->n_test, f->n_ref, f->n_adapt, f->n_probe };
    size_t n = 0;
    for (int r = 0; r < PR_N_ROLES; r++)
        n += counts[r];
    struct span *s = malloc((n + 1) * sizeof *s);
    if (!s)
        return mb_error(MB_ENOMEM, "out of memory");
    n = 0;
    for (int r = 0; r < PR_N_ROLES; r++)
        for (size_t k = 0; k < counts[r]; k++)
            s[n++] = (struct span){ c->rec[lists[r][k]], c->start[lists[r][k]], r, lists[r][k] };
    qsort(s, n, sizeof *s, cmp_span);
    /* sweep: end of the last window of each role in the current recording */
    int64_t end[PR_N_ROLES];
    size_t who[PR_N_ROLES];
    int rc = MB_OK;
    for (size_t k = 0; k < n && !rc; k++) {
        if (k == 0 || s[k].rec != s[k - 1].rec)
            for (int r = 0; r < PR_N_ROLES; r++)
                end[r] = INT64_MIN, who[r] = 0;
        int r = s[k].role;
        /* a test window against earlier non-test windows, or the reverse */
        for (int o = 0; o < PR_N_ROLES && !rc; o++) {
            if (o == r || (r != PR_TEST && o != PR_TEST))
                continue;
            if (end[o] > s[k].start)
                rc = mb_error(MB_EINVAL, "fold '%s': invariant 'no-window-across-split' violated: %s window %zu "
                              "and %s window %zu of subject '%s' share samples of recording '%s'", f->id,
                              names[o], who[o], names[r], s[k].win, c->subject_names[c->subject[s[k].win]],
                              c->rec_ids[s[k].rec]);
        }
        /* what the window depends on ends reach samples after it (the
         * resampler's filter; reach is the same for every window of a
         * recording, so checking the earlier window's widened end against
         * the later start covers both directions) */
        int64_t e = s[k].start + (int64_t)c->W + pr_reach(c, s[k].win);
        if (e > end[r])
            end[r] = e, who[r] = s[k].win;
    }
    free(s);
    return rc;
}

int pr_check_invariants(const struct cp_corpus *c, const struct pr_fold *f, unsigned which)
{
    int rc = MB_OK;
    uint8_t *mark = calloc(c->n_subjects + 1 > c->n ? c->n_subjects + 1 : c->n + 1, 1);
    if (!mark)
        return mb_error(MB_ENOMEM, "out of memory");
    if (which & (PR_INV_SUBJECT | PR_INV_REF_SUBJ)) {
        /* test and adaptation subjects are the target side */
        for (size_t k = 0; k < f->n_test; k++)
            mark[c->subject[f->test[k]]] = 1;
        for (size_t k = 0; k < f->n_adapt; k++)
            mark[c->subject[f->adapt[k]]] = 1;
        for (size_t k = 0; (which & PR_INV_SUBJECT) && k < f->n_train && !rc; k++)
            if (mark[c->subject[f->train[k]]])
                rc = mb_error(MB_EINVAL, "fold '%s': invariant 'no-test-subject-in-training' violated: train "
                              "window %zu is from test subject '%s'", f->id, f->train[k],
                              c->subject_names[c->subject[f->train[k]]]);
        for (size_t k = 0; (which & PR_INV_REF_SUBJ) && k < f->n_ref && !rc; k++)
            if (mark[c->subject[f->ref[k]]])
                rc = mb_error(MB_EINVAL, "fold '%s': invariant 'references-from-training-subjects' violated: "
                              "reference window %zu is from test subject '%s'", f->id, f->ref[k],
                              c->subject_names[c->subject[f->ref[k]]]);
        memset(mark, 0, c->n_subjects + 1);
    }
    if (!rc && (which & PR_INV_DISJOINT)) {
        for (size_t k = 0; k < f->n_test; k++)
            mark[f->test[k]] = 1;
        for (size_t k = 0; k < f->n_train && !rc; k++)
            if (mark[f->train[k]])
                rc = mb_error(MB_EINVAL, "fold '%s': invariant 'train-test-disjoint' violated: window %zu "
                              "(subject '%s') is in both", f->id, f->train[k],
                              c->subject_names[c->subject[f->train[k]]]);
    }
    if (!rc && (which & PR_INV_UNSEEN)) {
        int32_t *cls = NULL;
        size_t K = 0;
        rc = pr_classes_add(&cls, &K, c, f->test, f->n_test);
        for (size_t k = 0; !rc && k < f->n_train; k++) {
            int32_t g = c->label[f->train[k]];
            for (size_t j = 0; j < K; j++)
                if (cls[j] == g) {
                    rc = mb_error(MB_EINVAL, "fold '%s': invariant 'unseen-gestures-absent-from-training' "
                                  "violated: train window %zu (subject '%s') has unseen gesture %d", f->id,
                                  f->train[k], c->subject_names[c->subject[f->train[k]]], g);
                    break;
                }
        }
        free(cls);
    }
    if (!rc && (which & PR_INV_REP)) {
        rc = check_units(c, f, f->train, f->n_train, "training");
        if (!rc)
            rc = check_units(c, f, f->adapt, f->n_adapt, "adaptation");
    }
    if (!rc && (which & (PR_INV_DRAW_TRAIN | PR_INV_DRAW_REF))) {
        /* mark is c->n + 1 bytes, cleared after the subject checks */
        memset(mark, 0, c->n + 1);
        const int ref = !!(which & PR_INV_DRAW_REF);
        const size_t *full = ref ? f->ref : f->train;
        size_t n_full = ref ? f->n_ref : f->n_train;
        for (size_t k = 0; k < n_full; k++)
            mark[full[k]] = 1;
        for (size_t k = 0; k < f->n_probe && !rc; k++)
            if (f->probe[k] >= c->n || !mark[f->probe[k]])
                rc = mb_error(MB_EINVAL, "fold '%s': invariant 'draw-within-probe-training' violated: probe window "
                              "%zu (subject '%s') is not among the fold's %s windows", f->id, f->probe[k],
                              f->probe[k] < c->n ? c->subject_names[c->subject[f->probe[k]]] : "?",
                              ref ? "reference" : "training");
    }
    if (!rc && (which & PR_INV_OVERLAP))
        rc = check_overlap(c, f);
    free(mark);
    return rc;
}
