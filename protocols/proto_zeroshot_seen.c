/* protocols/proto_zeroshot_seen.c - zero-shot on seen gestures (docs/PROTOCOLS.md
 * "zeroshot-seen"; EMBridge's "ZS seen" column): the folds of
 * zeroshot-gestures, but the test subjects' windows of the SEEN gestures are
 * named by the 10-NN vote over pose references of those gestures taken from
 * the training subjects. The method is trained on the same seen gestures, so
 * this measures how well its EMG lands on the pose space for new users,
 * without the step to new gestures; beside zeroshot-gestures it separates
 * the two. */
#include "protocols/internal.h"

static int zss_plan(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c, const struct pr_settings *s)
{
    return pr_plan_seen(folds, n_folds, c, s, "zeroshot-seen");
}

/* No PR_INV_UNSEEN: the test gestures are trained on, by design. */
static int zss_run(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m, const void *hp,
                   const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s, struct mb_shared *sh)
{
    (void)p;
    return pr_run_zero_shot(res, m, hp, c, f, s, sh, PR_INV_SUBJECT | PR_INV_REF_SUBJ | PR_INV_OVERLAP | PR_INV_DISJOINT);
}

const struct mb_protocol proto_zeroshot_seen = {
    .name = "zeroshot-seen",
    .summary = "zero-shot on the seen gestures of new subjects, named from training subjects' pose references",
    .needs = MB_CAP_ZERO_SHOT,
    .settings = pr_unseen_settings,
    .check = pr_check_subject_settings,
    .plan = zss_plan,
    .run = zss_run,
};
