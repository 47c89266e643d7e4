/* protocols/proto_fewshot.c - few-shot calibration on the target user
 * (docs/PROTOCOLS.md "fewshot"): k repetitions per gesture, or p% of each
 * gesture's repetitions, drawn in seeded episodes; training = every other
 * subject plus the target's shots; test = the target's other repetitions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "protocols/internal.h"

struct variant { char kind; int value; };   /* 'k' shots or 'p' percent */

static const struct variant all_variants[] = {
    { 'k', 1 }, { 'k', 5 }, { 'k', 10 }, { 'p', 5 }, { 'p', 20 }, { 'p', 40 }, { 'p', 80 },
};

static int cmp_unit(const void *a, const void *b, void *ctx)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const struct pr_corpus *c = ctx;
    const int32_t x[4] = { c->label[i], c->session[i], c->trial[i], 0 };
    const int32_t y[4] = { c->label[j], c->session[j], c->trial[j], 0 };
    for (int k = 0; k < 3; k++)
        if (x[k] != y[k])
            return (x[k] > y[k]) - (x[k] < y[k]);
    return (i > j) - (i < j);
}

static int same_unit(const struct pr_corpus *c, size_t i, size_t j)
{
    return c->label[i] == c->label[j] && c->session[i] == c->session[j] && c->trial[i] == c->trial[j];
}

/* One episode: marks target windows drawn (1) or test (0). tw [nt]
 * sorted by (gesture, session, trial). */
static int draw(uint8_t *shot, const struct pr_corpus *c, const size_t *tw, size_t nt, struct variant v,
                struct mb_rng *r)
{
    size_t a = 0;
    int *perm = NULL;
    while (a < nt) {
        size_t b = a;
        while (b < nt && c->label[tw[b]] == c->label[tw[a]])
            b++;
        /* units of this gesture: runs of equal (session, trial) in [a, b) */
        size_t nu = 0;
        for (size_t k = a; k < b; k++)
            if (k == a || !same_unit(c, tw[k], tw[k - 1]))
                nu++;
        size_t m = 0;
        if (nu >= 2) {
            m = v.kind == 'k' ? (size_t)v.value : (size_t)ceil((double)v.value * (double)nu / 100.0);
            if (m < 1) m = 1;
            if (m > nu - 1) m = nu - 1;   /* always leave one repetition to test */
        }
        int *p = realloc(perm, (nu + 1) * sizeof *p);
        if (!p) {
            free(perm);
            return mb_error(MB_ENOMEM, "out of memory");
        }
        perm = p;
        for (size_t u = 0; u < nu; u++)
            perm[u] = (int)u;
        if (nu >= 2)
            mb_rng_shuffle_int(r, perm, nu);
        /* unit u is drawn iff it is among perm[0..m) */
        uint8_t *drawn = calloc(nu + 1, 1);
        if (!drawn) {
            free(perm);
            return mb_error(MB_ENOMEM, "out of memory");
        }
        for (size_t q = 0; q < m; q++)
            drawn[perm[q]] = 1;
        size_t u = 0;
        for (size_t k = a; k < b; k++) {
            if (k > a && !same_unit(c, tw[k], tw[k - 1]))
                u++;
            shot[k] = drawn[u];
        }
        free(drawn);
        a = b;
    }
    free(perm);
    return MB_OK;
}

static int fewshot_plan(struct pr_fold **folds, size_t *n_folds, const struct pr_corpus *c,
                        const struct pr_settings *s)
{
    struct pr_folds fs = { 0 };
    struct pr_idxv role[PR_N_ROLES] = { { 0 } };
    struct variant one;
    const struct variant *vars = all_variants;
    size_t nv = sizeof all_variants / sizeof all_variants[0];
    if (s->shots < 0 || s->percent < 0 || s->percent > 100 || s->episodes < 0)
        return mb_error(MB_EINVAL, "fewshot: bad settings (shots %d, percent %d, episodes %d)", s->shots,
                        s->percent, s->episodes);
    if (s->shots > 0 || s->percent > 0) {
        one = s->shots > 0 ? (struct variant){ 'k', s->shots } : (struct variant){ 'p', s->percent };
        vars = &one;
        nv = 1;
    }
    int episodes = s->episodes > 0 ? s->episodes : 10;
    size_t *tw = malloc((c->n + 1) * sizeof *tw);
    uint8_t *shot = malloc(c->n + 1);
    int rc = tw && shot ? MB_OK : mb_error(MB_ENOMEM, "out of memory");
    for (size_t subj = 0; !rc && subj < c->n_subjects; subj++) {
        size_t nt = 0;
        for (size_t i = 0; i < c->n; i++)
            if (c->subject[i] == (int32_t)subj && c->trial[i] >= 0)
                tw[nt++] = i;
        if (!nt)
            continue;
        qsort_r(tw, nt, sizeof *tw, cmp_unit, (void *)c);
        for (size_t v = 0; !rc && v < nv; v++)
            for (int e = 0; !rc && e < episodes; e++) {
                struct mb_rng r;
                uint64_t code = (uint64_t)(vars[v].kind == 'k' ? vars[v].value : 1000 + vars[v].value);
                mb_rng_seed(&r, s->seed, (code << 40) | ((uint64_t)subj << 16) | (uint64_t)e);
                if ((rc = draw(shot, c, tw, nt, vars[v], &r)))
                    break;
                for (size_t i = 0; !rc && i < c->n; i++)
                    if (c->subject[i] != (int32_t)subj)
                        rc = pr_idxv_push(&role[PR_TRAIN], i);
                for (size_t k = 0; !rc && k < nt; k++)
                    rc = pr_idxv_push(&role[shot[k] ? PR_TRAIN : PR_TEST], tw[k]);
                if (rc)
                    break;
                char id[300], proto[32];
                snprintf(proto, sizeof proto, "fewshot-%c%d", vars[v].kind, vars[v].value);
                snprintf(id, sizeof id, "%s/%s/e%d", proto, c->subject_names[subj], e);
                json_t *extra = json_pack("{s:s,s:i,s:i,s:i}", "draw", vars[v].kind == 'k' ? "shots" : "percent",
                                          "value", vars[v].value, "episode", e, "episodes", episodes);
                rc = pr_fold_finish(&fs, c, "fewshot", id, s->seed, extra, role);
            }
    }
    for (int r = 0; r < PR_N_ROLES; r++)
        pr_idxv_release(&role[r]);
    free(tw);
    free(shot);
    return pr_folds_return(folds, n_folds, &fs, rc);
}

static int fewshot_run(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m,
                       const struct pr_corpus *c, const struct pr_fold *f, const struct pr_settings *s)
{
    /* the target is in training (its shots): no subject invariant */
    return pr_run_classify(res, p, m, c, f, s, PR_INV_REP | PR_INV_OVERLAP | PR_INV_DISJOINT, 0);
}

const struct mb_protocol proto_fewshot = {
    .name = "fewshot",
    .summary = "few-shot calibration: k in 1,5,10 repetitions per gesture or p in 5,20,40,80 % of the target",
    .needs = MB_CAP_CLASSIFY,
    .plan = fewshot_plan,
    .run = fewshot_run,
};
