/* protocols/proto_fewshot.c - few-shot calibration on the target user
 * (docs/PROTOCOLS.md "fewshot"): k repetitions per gesture, or p% of each
 * gesture's repetitions, drawn in seeded episodes; training = every other
 * subject plus the target's shots; test = the target's other repetitions. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "protocols/internal.h"

struct variant { char kind; int value; };   /* 'k' shots or 'p' percent */

/* fewshot's own keys (pr_settings.own) */
struct fewshot_settings {
    long shots;              /* k repetitions per gesture, or 0 */
    long percent;            /* p % of the target's data, or 0 */
    long episodes;           /* seeded draws per target (0 = 10) */
};
PR_OWN_FITS(struct fewshot_settings);

static const struct variant all_variants[] = {
    { 'k', 1 }, { 'k', 5 }, { 'k', 10 }, { 'p', 5 }, { 'p', 20 }, { 'p', 40 }, { 'p', 80 },
};

static int cmp_unit(const void *a, const void *b, void *ctx)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const struct cp_corpus *c = ctx;
    const int32_t x[4] = { c->label[i], c->session[i], c->trial[i], 0 };
    const int32_t y[4] = { c->label[j], c->session[j], c->trial[j], 0 };
    for (int k = 0; k < 3; k++)
        if (x[k] != y[k])
            return (x[k] > y[k]) - (x[k] < y[k]);
    return (i > j) - (i < j);
}

static int same_unit(const struct cp_corpus *c, size_t i, size_t j)
{
    return c->label[i] == c->label[j] && c->session[i] == c->session[j] && c->trial[i] == c->trial[j];
}

/* One episode: marks target windows drawn (1) or test (0). tw [nt]
 * sorted by (gesture, session, trial). */
static int draw(uint8_t *shot, const struct cp_corpus *c, const size_t *tw, size_t nt, struct variant v,
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

/* Fewest units of any gesture of the target (tw [nt] sorted by gesture,
 * session, trial): *nu receives the count, *gesture the gesture. */
static void fewest_units(size_t *nu, int32_t *gesture, const struct cp_corpus *c, const size_t *tw, size_t nt)
{
    *nu = SIZE_MAX;
    *gesture = -1;
    for (size_t a = 0, b; a < nt; a = b) {
        size_t n = 0;
        for (b = a; b < nt && c->label[tw[b]] == c->label[tw[a]]; b++)
            if (b == a || !same_unit(c, tw[b], tw[b - 1]))
                n++;
        if (n < *nu) {
            *nu = n;
            *gesture = c->label[tw[a]];
        }
    }
}

static const char *gesture_name(const struct cp_corpus *c, int32_t id)
{
    for (size_t g = 0; g < c->n_gestures; g++)
        if (c->gesture_ids[g] == id)
            return c->gesture_names[g] ? c->gesture_names[g] : "";
    return "";
}

/* Why k-shot variant v cannot be run on corpus c ("" when it can; tw has
 * room for c->n indices): every
 * gesture of every target needs k + 1 units (k shots, one left to test).
 * A variant capped below its k on some target would be reported under a
 * budget it did not have, and averaging capped and uncapped targets would
 * mix budgets in one cell; it is refused whole (docs/PROTOCOLS.md). */
static void refusal(char *why, size_t cap, const struct cp_corpus *c, struct variant v, size_t *tw)
{
    why[0] = '\0';
    if (v.kind != 'k')
        return;
    size_t short_subjects = 0, with_trials = 0;
    for (size_t subj = 0; subj < c->n_subjects; subj++) {
        size_t nt = 0;
        for (size_t i = 0; i < c->n; i++)
            if (c->subject[i] == (int32_t)subj && c->trial[i] >= 0)
                tw[nt++] = i;
        if (!nt)
            continue;
        with_trials++;
        qsort_r(tw, nt, sizeof *tw, cmp_unit, (void *)c);
        size_t nu;
        int32_t g;
        fewest_units(&nu, &g, c, tw, nt);
        if (nu >= (size_t)v.value + 1)
            continue;
        if (!short_subjects++)
            snprintf(why, cap, "fewshot-k%d refused: %d shots of every gesture and one repetition left to test need "
                     "%d repetitions (or time blocks) per gesture; subject '%s' has %zu of gesture %d '%s'", v.value,
                     v.value, v.value + 1, c->subject_names[subj], nu, (int)g, gesture_name(c, g));
    }
    if (short_subjects) {
        size_t l = strlen(why);
        snprintf(why + l, cap - l, " (%zu of %zu subjects fall short); run a smaller k", short_subjects, with_trials);
    }
}

static int fewshot_plan(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c,
                        const struct pr_settings *s)
{
    struct pr_folds fs = { 0 };
    struct pr_idxv role[PR_N_ROLES] = { { 0 } };
    struct variant one;
    const struct variant *vars = all_variants;
    size_t nv = sizeof all_variants / sizeof all_variants[0];
    const struct fewshot_settings *own = PR_OWN(s, struct fewshot_settings);
    if (own->shots < 0 || own->percent < 0 || own->percent > 100 || own->episodes < 0)
        return mb_error(MB_EINVAL, "fewshot: bad settings (shots %ld, percent %ld, episodes %ld)", own->shots,
                        own->percent, own->episodes);
    if (own->shots > 0 || own->percent > 0) {
        one = own->shots > 0 ? (struct variant){ 'k', own->shots } : (struct variant){ 'p', own->percent };
        vars = &one;
        nv = 1;
    }
    int episodes = own->episodes > 0 ? own->episodes : 10;
    size_t *tw = malloc((c->n + 1) * sizeof *tw);
    uint8_t *shot = malloc(c->n + 1);
    int rc = tw && shot ? MB_OK : mb_error(MB_ENOMEM, "out of memory");
    /* [nv] why each variant is refused, "" when it runs */
    char (*why)[512] = rc ? NULL : calloc(nv, sizeof *why);
    if (!rc && !why)
        rc = mb_error(MB_ENOMEM, "out of memory");
    for (size_t v = 0; !rc && v < nv; v++)
        refusal(why[v], sizeof why[v], c, vars[v], tw);
    for (size_t subj = 0; !rc && subj < c->n_subjects; subj++) {
        size_t nt = 0;
        for (size_t i = 0; i < c->n; i++)
            if (c->subject[i] == (int32_t)subj && c->trial[i] >= 0)
                tw[nt++] = i;
        if (!nt)
            continue;
        qsort_r(tw, nt, sizeof *tw, cmp_unit, (void *)c);
        for (size_t v = 0; !rc && v < nv; v++)
            /* a refused variant: one fold per target, whose jobs say why (n/a) */
            for (int e = 0; !rc && e < (why[v][0] ? 1 : episodes); e++) {
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
                if (extra && why[v][0])
                    json_object_set_new(extra, "refused", json_string(why[v]));
                rc = pr_fold_finish(&fs, c, "fewshot", id, s->seed, extra, role);
            }
    }
    for (int r = 0; r < PR_N_ROLES; r++)
        pr_idxv_release(&role[r]);
    free(why);
    free(tw);
    free(shot);
    return pr_folds_return(folds, n_folds, &fs, rc);
}

static int fewshot_run(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m, const void *hp,
                       const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s, struct mb_shared *sh)
{
    /* the target is in training (its shots): no subject invariant */
    const unsigned inv = PR_INV_REP | PR_INV_OVERLAP | PR_INV_DISJOINT;
    json_t *man = json_loads(f->manifest, 0, NULL);
    const char *why = json_string_value(json_object_get(json_object_get(man, "settings"), "refused"));
    if (!why) {
        json_decref(man);
        return pr_run_classify(res, p, m, hp, c, f, s, sh, inv, 0);
    }
    /* invariants first, as for every fold, then the refusal */
    memset(res, 0, sizeof *res);
    int rc = pr_check_invariants(c, f, inv);
    if (rc)
        rc = pr_result_set(res, PR_FAILED, rc, "%s", mb_last_error());
    else
        rc = pr_result_set(res, PR_NA, MB_OK, "%s", why);
    json_decref(man);
    return rc;
}

/* shots and percent are budgets (one report block per value); a plain
 * fewshot entry plans every default budget, one block each. */
static const struct mb_param fewshot_settings[] = {
    { "shots", MB_PT_INT, PR_OWN_KEY(struct fewshot_settings, shots), 0, 0, 100000, NULL,
      "k repetitions (or time blocks) per gesture of the target in training" },
    { "percent", MB_PT_INT, PR_OWN_KEY(struct fewshot_settings, percent), 0, 0, 100, NULL,
      "p % of the target's repetitions (or blocks) of each gesture in training" },
    { "episodes", MB_PT_INT, PR_OWN_KEY(struct fewshot_settings, episodes), 10, 1, 100000, NULL,
      "seeded draws of the target's training share" },
    MB_PARAM_END
};
static const long default_shots[] = { 1, 5, 10 }, default_percents[] = { 5, 20, 40, 80 };
static const struct pr_budget fewshot_budgets[] = {
    { "shots", "shots", "k", 1, 100000, default_shots, 3 },
    { "percents", "percent", "p", 1, 100, default_percents, 4 },
    { NULL, NULL, NULL, 0, 0, NULL, 0 },
};

const struct mb_protocol proto_fewshot = {
    .name = "fewshot",
    .summary = "few-shot calibration: k in 1,5,10 repetitions per gesture or p in 5,20,40,80 % of the target",
    .needs = MB_CAP_CLASSIFY,
    .settings = fewshot_settings,
    .budgets = fewshot_budgets,
    .plan = fewshot_plan,
    .run = fewshot_run,
};
