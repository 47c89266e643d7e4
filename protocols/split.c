/* protocols/split.c - folds, canonical manifests and the split rules the
 * protocols share (docs/PROTOCOLS.md "Manifest", "Subject groups",
 * "Within-subject rule"). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/fs.h"
#include "core/rng.h"
#include "protocols/internal.h"

int pr_idxv_push(struct pr_idxv *v, size_t i)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 256;
        size_t *p = realloc(v->v, cap * sizeof *p);
        if (!p)
            return mb_error(MB_ENOMEM, "out of memory for %zu window indices", cap);
        v->v = p;
        v->cap = cap;
    }
    v->v[v->n++] = i;
    return MB_OK;
}

void pr_idxv_release(struct pr_idxv *v)
{
    free(v->v);
    memset(v, 0, sizeof *v);
}

void pr_fold_release(struct pr_fold *f)
{
    if (!f)
        return;
    free(f->id);
    free(f->manifest);
    free(f->train);
    free(f->test);
    free(f->ref);
    free(f->adapt);
    free(f->probe);
    memset(f, 0, sizeof *f);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Units of one role: (recording, gesture, trial), sorted, distinct. */
struct unit { int32_t rec, gesture, trial; };

static int cmp_unit(const void *a, const void *b)
{
    const struct unit *x = a, *y = b;
    if (x->rec != y->rec) return (x->rec > y->rec) - (x->rec < y->rec);
    if (x->gesture != y->gesture) return (x->gesture > y->gesture) - (x->gesture < y->gesture);
    return (x->trial > y->trial) - (x->trial < y->trial);
}

static json_t *role_json(const struct cp_corpus *c, const struct pr_idxv *r)
{
    json_t *o = json_object();
    json_t *subj = json_array(), *gest = json_array(), *recs = json_object();
    uint8_t *seen_s = calloc(c->n_subjects + 1, 1);
    int32_t *labels = malloc((r->n + 1) * sizeof *labels);
    struct unit *u = malloc((r->n + 1) * sizeof *u);
    if (!o || !subj || !gest || !recs || !seen_s || !labels || !u)
        goto fail;
    for (size_t k = 0; k < r->n; k++) {
        size_t i = r->v[k];
        seen_s[c->subject[i]] = 1;
        labels[k] = c->label[i];
        u[k] = (struct unit){ c->rec[i], c->label[i], c->trial[i] };
    }
    for (size_t s = 0; s < c->n_subjects; s++)
        if (seen_s[s])
            json_array_append_new(subj, json_string(c->subject_names[s]));
    qsort(labels, r->n, sizeof *labels, cmp_i32);
    for (size_t k = 0; k < r->n; k++)
        if (k == 0 || labels[k] != labels[k - 1])
            json_array_append_new(gest, json_integer(labels[k]));
    qsort(u, r->n, sizeof *u, cmp_unit);
    json_t *cur = NULL;
    for (size_t k = 0; k < r->n; k++) {
        if (k && !cmp_unit(&u[k], &u[k - 1]))
            continue;
        if (k == 0 || u[k].rec != u[k - 1].rec) {
            cur = json_array();
            json_object_set_new(recs, c->rec_ids[u[k].rec], cur);
        }
        json_t *pair = json_array();
        json_array_append_new(pair, json_integer(u[k].gesture));
        json_array_append_new(pair, json_integer(u[k].trial));
        json_array_append_new(cur, pair);
    }
    json_object_set_new(o, "n_windows", json_integer((json_int_t)r->n));
    json_object_set_new(o, "subjects", subj);
    json_object_set_new(o, "gestures", gest);
    json_object_set_new(o, "units", recs);
    free(seen_s); free(labels); free(u);
    return o;
fail:
    json_decref(o); json_decref(subj); json_decref(gest); json_decref(recs);
    free(seen_s); free(labels); free(u);
    return NULL;
}

/* Test windows of a fold by (recording, start), to find neighbours. */
struct tpos { int32_t rec; int64_t start; };

static int cmp_tpos(const void *a, const void *b)
{
    const struct tpos *x = a, *y = b;
    if (x->rec != y->rec) return (x->rec > y->rec) - (x->rec < y->rec);
    return (x->start > y->start) - (x->start < y->start);
}

/* Drops the non-test windows whose filter support reaches a test window
 * (docs/PROTOCOLS.md "Resampling and the split"): |start - t| < W + reach
 * for a test window t of the same recording. The resampler is a
 * symmetric FIR, so the leak goes both ways; one side must go, and the
 * test side is what the protocol defines. */
static int drop_near_test(const struct cp_corpus *c, struct pr_idxv role[PR_N_ROLES])
{
    int any = 0;
    for (size_t k = 0; k < role[PR_TEST].n && !any; k++)
        any = pr_reach(c, role[PR_TEST].v[k]) > 0;
    if (!any)
        return MB_OK;
    size_t nt = role[PR_TEST].n;
    struct tpos *t = malloc((nt + 1) * sizeof *t);
    if (!t)
        return mb_error(MB_ENOMEM, "out of memory for %zu test windows", nt);
    for (size_t k = 0; k < nt; k++)
        t[k] = (struct tpos){ c->rec[role[PR_TEST].v[k]], c->start[role[PR_TEST].v[k]] };
    qsort(t, nt, sizeof *t, cmp_tpos);
    for (int r = 0; r < PR_N_ROLES; r++) {
        if (r == PR_TEST)
            continue;
        size_t keep = 0;
        for (size_t k = 0; k < role[r].n; k++) {
            size_t i = role[r].v[k];
            int64_t gap = (int64_t)c->W + pr_reach(c, i);
            /* first test window of the recording starting after start - gap */
            struct tpos q = { c->rec[i], c->start[i] - gap + 1 };
            size_t lo = 0, hi = nt;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (cmp_tpos(&t[mid], &q) < 0) lo = mid + 1;
                else hi = mid;
            }
            int near = lo < nt && t[lo].rec == c->rec[i] && t[lo].start < c->start[i] + gap;
            if (!near)
                role[r].v[keep++] = i;
        }
        role[r].n = keep;
    }
    free(t);
    return MB_OK;
}

int pr_fold_finish(struct pr_folds *fs, const struct cp_corpus *c, const char *protocol, const char *id,
                   uint64_t seed, json_t *extra, struct pr_idxv role[PR_N_ROLES])
{
    static const char *const role_names[PR_N_ROLES] = { "train", "test", "ref", "adapt", "probe" };
    if (fs->n == fs->cap) {
        size_t cap = fs->cap ? 2 * fs->cap : 16;
        struct pr_fold *p = realloc(fs->v, cap * sizeof *p);
        if (!p) {
            json_decref(extra);
            return mb_error(MB_ENOMEM, "out of memory for %zu folds", cap);
        }
        fs->v = p;
        fs->cap = cap;
    }
    int rc = drop_near_test(c, role);
    if (rc) {
        json_decref(extra);
        return rc;
    }
    /* window lists in increasing order: the manifest and the methods see
     * the same order whatever order the plan pushed them in */
    for (int r = 0; r < PR_N_ROLES; r++)
        if (role[r].n)
            qsort(role[r].v, role[r].n, sizeof *role[r].v, cmp_size);
    json_t *m = json_object();
    json_t *corpus = json_object(), *view = json_object(), *roles = json_object();
    if (!m || !corpus || !view || !roles) {
        json_decref(m); json_decref(corpus); json_decref(view); json_decref(roles); json_decref(extra);
        return mb_error(MB_ENOMEM, "out of memory for the manifest of '%s'", id);
    }
    json_object_set_new(view, "rate_hz", json_real(c->view.rate_hz));
    json_object_set_new(view, "window_ms", json_real(c->view.window_ms));
    json_object_set_new(view, "stride_ms", json_real(c->view.stride_ms));
    json_object_set_new(view, "label", json_string(c->view.majority_label ? "majority" : "end"));
    json_object_set_new(corpus, "name", json_string(c->name ? c->name : ""));
    json_object_set_new(corpus, "sha256", json_string(c->sha256));
    json_object_set_new(corpus, "view", view);
    json_object_set_new(m, "schema", json_string("myobench-split/1"));
    json_object_set_new(m, "protocol", json_string(protocol));
    json_object_set_new(m, "fold", json_string(id));
    json_object_set_new(m, "seed", json_integer((json_int_t)seed));
    json_object_set_new(m, "corpus", corpus);
    json_object_set_new(m, "settings", extra ? extra : json_object());
    int bad = 0;
    for (int r = 0; r < PR_N_ROLES; r++) {
        if (!role[r].n && (r == PR_REF || r == PR_ADAPT || r == PR_PROBE))
            continue;
        json_t *rj = role_json(c, &role[r]);
        if (!rj) bad = 1;
        else json_object_set_new(roles, role_names[r], rj);
    }
    json_object_set_new(m, "roles", roles);
    char *text = bad ? NULL : json_dumps(m, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(m);
    char *fid = strdup(id);
    if (!text || !fid) {
        free(text); free(fid);
        return mb_error(MB_ENOMEM, "out of memory for the manifest of '%s'", id);
    }
    struct pr_fold *f = &fs->v[fs->n++];
    memset(f, 0, sizeof *f);
    f->id = fid;
    f->manifest = text;
    mb_sha256_hex(f->sha256, text, strlen(text));
    f->n_train = role[PR_TRAIN].n; f->train = role[PR_TRAIN].v;
    f->n_test = role[PR_TEST].n;   f->test = role[PR_TEST].v;
    f->n_ref = role[PR_REF].n;     f->ref = role[PR_REF].v;
    f->n_adapt = role[PR_ADAPT].n; f->adapt = role[PR_ADAPT].v;
    f->n_probe = role[PR_PROBE].n; f->probe = role[PR_PROBE].v;
    for (int r = 0; r < PR_N_ROLES; r++)
        memset(&role[r], 0, sizeof role[r]);
    return MB_OK;
}

int pr_folds_return(struct pr_fold **out, size_t *n_out, struct pr_folds *fs, int rc)
{
    if (rc) {
        for (size_t i = 0; i < fs->n; i++)
            pr_fold_release(&fs->v[i]);
        free(fs->v);
        *out = NULL;
        *n_out = 0;
    } else {
        *out = fs->v;
        *n_out = fs->n;
    }
    memset(fs, 0, sizeof *fs);
    return rc;
}

/* ---- subject groups ------------------------------------------------------ */

static int tag_true(const char *json, const char *key)
{
    json_error_t e;
    json_t *o = json_loads(json, 0, &e);
    const char *v = o ? json_string_value(json_object_get(o, key)) : NULL;
    int t = v && (!strcasecmp(v, "true") || !strcmp(v, "1"));
    json_decref(o);
    return t;
}

uint8_t *pr_rec_exclusions(const struct cp_corpus *c, const struct pr_settings *s)
{
    uint8_t *x = calloc(c->n_recordings + 1, 1);
    if (!x) {
        mb_error(MB_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t r = 0; s->official && r < c->n_recordings; r++)
        x[r] = (uint8_t)tag_true(c->rec_tags_json[r], "held_out_stage");
    return x;
}

/* Subjects that have windows, in index order. */
static size_t present_subjects(int32_t *out, const struct cp_corpus *c)
{
    uint8_t *has = calloc(c->n_subjects + 1, 1);
    size_t n = 0;
    if (!has)
        return 0;
    for (size_t i = 0; i < c->n; i++)
        has[c->subject[i]] = 1;
    for (size_t s = 0; s < c->n_subjects; s++)
        if (has[s])
            out[n++] = (int32_t)s;
    free(has);
    return n;
}

static int official_test(uint8_t *is_test, const struct cp_corpus *c)
{
    size_t n = 0;
    memset(is_test, 0, c->n_subjects);
    for (size_t s = 0; s < c->n_subjects; s++)
        if (c->subject_held_out[s] == 1)
            is_test[s] = 1;
    for (size_t r = 0; r < c->n_recordings; r++)
        if (tag_true(c->rec_tags_json[r], "held_out_user"))
            is_test[c->rec_subject[r]] = 1;
    for (size_t s = 0; s < c->n_subjects; s++)
        n += is_test[s];
    if (!n)
        return mb_error(MB_EINVAL, "'%s': the official split needs held-out users (subject table or "
                        "'held_out_user' tags); none found", c->path);
    return MB_OK;
}

int pr_subject_groups(size_t *n_groups, const struct cp_corpus *c, const struct pr_settings *s)
{
    int32_t *subj = malloc((c->n_subjects + 1) * sizeof *subj);
    if (!subj)
        return mb_error(MB_ENOMEM, "out of memory");
    size_t n = present_subjects(subj, c);
    free(subj);
    if (s->official) {
        *n_groups = 1;
        return MB_OK;
    }
    if (n < 2)
        return mb_error(MB_EINVAL, "'%s': subject-level splits need 2 subjects with windows, found %zu",
                        c->path, n);
    if (s->folds < 0 || (s->folds > 0 && (size_t)s->folds > n))
        return mb_error(MB_EINVAL, "'%s': --folds %ld for %zu subjects", c->path, s->folds, n);
    if (s->folds == 1)
        return mb_error(MB_EINVAL, "'%s': --folds 1 leaves no training subject", c->path);
    *n_groups = s->folds > 0 ? (size_t)s->folds : n;
    return MB_OK;
}

int pr_subject_group(uint8_t *is_test, char *name, size_t cap, const struct cp_corpus *c,
                     const struct pr_settings *s, size_t g)
{
    if (s->official) {
        snprintf(name, cap, "official");
        return official_test(is_test, c);
    }
    int32_t *subj = malloc((c->n_subjects + 1) * sizeof *subj);
    if (!subj)
        return mb_error(MB_ENOMEM, "out of memory");
    size_t n = present_subjects(subj, c);
    memset(is_test, 0, c->n_subjects);
    if (s->folds > 0) {
        /* grouped k-fold: Fisher-Yates over the present subjects with
         * stream 1 of the seed, subject at position p goes to fold p % k */
        int *perm = malloc((n + 1) * sizeof *perm);
        if (!perm) {
            free(subj);
            return mb_error(MB_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++)
            perm[i] = (int)i;
        struct mb_rng r;
        mb_rng_seed(&r, s->seed, 1);
        mb_rng_shuffle_int(&r, perm, n);
        for (size_t p = 0; p < n; p++)
            if (p % (size_t)s->folds == g)
                is_test[subj[perm[p]]] = 1;
        free(perm);
        snprintf(name, cap, "k%ld-f%zu", s->folds, g);
    } else {
        is_test[subj[g]] = 1;
        snprintf(name, cap, "%s", c->subject_names[subj[g]]);
    }
    free(subj);
    return MB_OK;
}

/* ---- within-subject rule -------------------------------------------------- */

int pr_within_split(int8_t *test, const char **rule, const struct cp_corpus *c, int32_t subj)
{
    /* NinaPro: every repetition of the subject in 1..10 */
    int ninapro = c->has_reps, any = 0;
    int32_t last_session = -1;
    size_t n_sessions = 0;
    uint8_t *sess = calloc(c->n_sessions + 1, 1);
    if (!sess)
        return mb_error(MB_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->n; i++) {
        if (c->subject[i] != subj)
            continue;
        any = 1;
        if (c->trial[i] >= 0 && (c->trial[i] < 1 || c->trial[i] > 10))
            ninapro = 0;
        if (!sess[c->session[i]]) {
            sess[c->session[i]] = 1;
            n_sessions++;
            /* last session in name order */
            if (last_session < 0 || strcmp(c->session_names[c->session[i]], c->session_names[last_session]) > 0)
                last_session = c->session[i];
        }
    }
    free(sess);
    if (!any) {
        *rule = "none";
        return MB_OK;
    }
    int by_session = !ninapro && !c->has_reps && n_sessions >= 2;
    int blocks = 0;
    for (size_t i = 0; c->block && i < c->n && !blocks; i++)
        blocks = c->subject[i] == subj && c->block[i] >= 0;
    *rule = ninapro ? "ninapro-reps" : by_session ? "last-session" : blocks ? "time-blocks" : "trial-mod-3";
    for (size_t i = 0; i < c->n; i++) {
        if (c->subject[i] != subj)
            continue;
        int32_t t = c->trial[i];
        if (ninapro)
            test[i] = t < 0 ? -1 : (t == 2 || t == 5 || t == 7);
        else if (by_session)
            test[i] = c->session[i] == last_session;
        else if (c->block && c->block[i] >= 0)
            /* the last third of a single-occurrence segment: train on earlier data, test on later */
            test[i] = c->block[i] == 2;
        else
            test[i] = t < 0 ? -1 : (t % 3 == 2);
    }
    return MB_OK;
}
