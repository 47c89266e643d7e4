/* protocols/proto_basic.c - within-subject, LOSO, zero-shot on unseen users
 * and unsupervised adaptation (docs/PROTOCOLS.md). */
#include <stdlib.h>
#include <string.h>

#include "protocols/internal.h"

static void roles_release(struct pr_idxv role[PR_N_ROLES])
{
    for (int r = 0; r < PR_N_ROLES; r++)
        pr_idxv_release(&role[r]);
}

/* ---- within ------------------------------------------------------------- */

static int within_plan(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c,
                       const struct pr_settings *s)
{
    struct pr_folds fs = { 0 };
    struct pr_idxv role[PR_N_ROLES] = { { 0 } };
    int8_t *test = malloc(c->n + 1);
    int rc = test ? MB_OK : mb_error(MB_ENOMEM, "out of memory");
    for (size_t subj = 0; !rc && subj < c->n_subjects; subj++) {
        const char *rule;
        memset(test, -1, c->n);
        if ((rc = pr_within_split(test, &rule, c, (int32_t)subj)))
            break;
        for (size_t i = 0; !rc && i < c->n; i++)
            if (c->subject[i] == (int32_t)subj && test[i] >= 0)
                rc = pr_idxv_push(&role[test[i] ? PR_TEST : PR_TRAIN], i);
        if (rc)
            break;
        if (!role[PR_TRAIN].n || !role[PR_TEST].n) {
            /* a subject whose trials all fall on one side has no fold */
            roles_release(role);
            continue;
        }
        char id[256];
        snprintf(id, sizeof id, "within/%s", c->subject_names[subj]);
        json_t *extra = json_pack("{s:s}", "rule", rule);
        rc = pr_fold_finish(&fs, c, "within", id, s->seed, extra, role);
    }
    roles_release(role);
    free(test);
    if (!rc && !fs.n)
        rc = mb_error(MB_EINVAL, "'%s': no subject has both training and test repetitions", c->path);
    return pr_folds_return(folds, n_folds, &fs, rc);
}

static int within_run(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m, const void *hp,
                      const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s, struct mb_shared *sh)
{
    return pr_run_classify(res, p, m, hp, c, f, s, sh, PR_INV_REP | PR_INV_OVERLAP | PR_INV_DISJOINT, 0);
}

const struct mb_protocol proto_within = {
    .name = "within",
    .summary = "within-subject: NinaPro reps 1,3,4,6,8,9,10 train / 2,5,7 test, else by repetition or session",
    .needs = MB_CAP_CLASSIFY,
    .plan = within_plan,
    .run = within_run,
};

/* ---- subject-level splits: LOSO and zero-shot users ------------------------ */

int pr_plan_subjects(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c,
                     const struct pr_settings *s, const char *protocol)
{
    struct pr_folds fs = { 0 };
    struct pr_idxv role[PR_N_ROLES] = { { 0 } };
    size_t G = 0;
    uint8_t *is_test = malloc(c->n_subjects + 1), *excl = pr_rec_exclusions(c, s);
    int rc = !excl ? MB_ENOMEM : is_test ? pr_subject_groups(&G, c, s) : mb_error(MB_ENOMEM, "out of memory");
    for (size_t g = 0; !rc && g < G; g++) {
        char name[200], id[256];
        if ((rc = pr_subject_group(is_test, name, sizeof name, c, s, g)))
            break;
        for (size_t i = 0; !rc && i < c->n; i++)
            if (!excl[c->rec[i]])
                rc = pr_idxv_push(&role[is_test[c->subject[i]] ? PR_TEST : PR_TRAIN], i);
        if (rc)
            break;
        snprintf(id, sizeof id, "%s/%s", protocol, name);
        json_t *extra = json_pack("{s:i,s:b}", "folds", (int)s->folds, "official", s->official != 0);
        rc = pr_fold_finish(&fs, c, protocol, id, s->seed, extra, role);
    }
    roles_release(role);
    free(is_test);
    free(excl);
    return pr_folds_return(folds, n_folds, &fs, rc);
}

static int loso_plan(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c, const struct pr_settings *s)
{
    return pr_plan_subjects(folds, n_folds, c, s, "loso");
}

static int zsu_plan(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c, const struct pr_settings *s)
{
    return pr_plan_subjects(folds, n_folds, c, s, "zeroshot-users");
}

static int subjects_run(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m, const void *hp,
                        const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s, struct mb_shared *sh)
{
    return pr_run_classify(res, p, m, hp, c, f, s, sh,
                           PR_INV_SUBJECT | PR_INV_REP | PR_INV_OVERLAP | PR_INV_DISJOINT, 0);
}

const struct mb_protocol proto_loso = {
    .name = "loso",
    .summary = "leave-one-subject-out (or grouped k-fold, or the official held-out users)",
    .needs = MB_CAP_CLASSIFY,
    .settings = pr_subject_settings,
    .check = pr_check_subject_settings,
    .plan = loso_plan,
    .run = subjects_run,
};

const struct mb_protocol proto_zeroshot_users = {
    .name = "zeroshot-users",
    .summary = "zero-shot to unseen users: trained on other subjects, no target data at all",
    .needs = MB_CAP_CLASSIFY,
    .settings = pr_subject_settings,
    .check = pr_check_subject_settings,
    .plan = zsu_plan,
    .run = subjects_run,
};

/* ---- unsupervised adaptation ------------------------------------------------ */

static int adapt_plan(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c, const struct pr_settings *s)
{
    struct pr_folds fs = { 0 };
    struct pr_idxv role[PR_N_ROLES] = { { 0 } };
    int8_t *test = malloc(c->n + 1);
    int rc = test ? MB_OK : mb_error(MB_ENOMEM, "out of memory");
    for (size_t subj = 0; !rc && subj < c->n_subjects; subj++) {
        const char *rule;
        memset(test, -1, c->n);
        if ((rc = pr_within_split(test, &rule, c, (int32_t)subj)))
            break;
        for (size_t i = 0; !rc && i < c->n; i++) {
            if (c->subject[i] != (int32_t)subj)
                rc = pr_idxv_push(&role[PR_TRAIN], i);
            else if (test[i] >= 0)
                rc = pr_idxv_push(&role[test[i] ? PR_TEST : PR_ADAPT], i);
        }
        if (rc)
            break;
        if (!role[PR_TRAIN].n || !role[PR_TEST].n || !role[PR_ADAPT].n) {
            roles_release(role);
            continue;
        }
        char id[256];
        snprintf(id, sizeof id, "adapt/%s", c->subject_names[subj]);
        rc = pr_fold_finish(&fs, c, "adapt", id, s->seed, json_pack("{s:s}", "rule", rule), role);
    }
    roles_release(role);
    free(test);
    if (!rc && !fs.n)
        rc = mb_error(MB_EINVAL, "'%s': no subject has adaptation and test repetitions", c->path);
    return pr_folds_return(folds, n_folds, &fs, rc);
}

static int adapt_run(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m, const void *hp,
                     const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s, struct mb_shared *sh)
{
    return pr_run_classify(res, p, m, hp, c, f, s, sh,
                           PR_INV_SUBJECT | PR_INV_REP | PR_INV_OVERLAP | PR_INV_DISJOINT, 1);
}

const struct mb_protocol proto_adapt = {
    .name = "adapt",
    .summary = "source-free unsupervised adaptation on the target's unlabelled repetitions",
    .needs = MB_CAP_CLASSIFY | MB_CAP_ADAPT,
    .plan = adapt_plan,
    .run = adapt_run,
};
