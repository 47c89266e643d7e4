/* protocols/proto_zeroshot.c - zero-shot on unseen gestures (docs/PROTOCOLS.md
 * "zeroshot-gestures"): the vocabulary is split into seen and unseen
 * gestures; the method learns from seen gestures of the training subjects
 * only and names unseen gestures of the test subjects from pose references
 * taken from the TRAINING subjects' pose stream. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/rng.h"
#include "protocols/internal.h"

int pr_unseen_gestures(uint8_t *unseen, const char **rule, const struct cp_corpus *c, const struct pr_settings *s)
{
    memset(unseen, 0, c->n_gestures);
    uint8_t *present = calloc(c->n_gestures + 1, 1);
    int *cand = malloc((c->n_gestures + 1) * sizeof *cand);
    if (!present || !cand) {
        free(present); free(cand);
        return mb_error(MB_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < c->n; i++)
        for (size_t g = 0; g < c->n_gestures; g++)
            if (c->gesture_ids[g] == c->label[i]) { present[g] = 1; break; }
    size_t n_src = 0, n_cand = 0, n_present = 0;
    for (size_t g = 0; g < c->n_gestures; g++) {
        n_present += present[g];
        if (present[g] && c->gesture_held_out[g] == 1)
            n_src++;
        /* rest is never a gesture to discover */
        if (present[g] && strcasecmp(c->gesture_names[g], "rest"))
            cand[n_cand++] = (int)g;
    }
    int rc = MB_OK;
    if (n_src) {
        *rule = "source-held-out";
        for (size_t g = 0; g < c->n_gestures; g++)
            unseen[g] = present[g] && c->gesture_held_out[g] == 1;
        if (n_src == n_present)
            rc = mb_error(MB_EINVAL, "'%s': every gesture is marked held out; nothing left to train on", c->path);
    } else {
        *rule = "seeded";
        double frac = s->unseen_fraction > 0 ? s->unseen_fraction : 0.25;
        if (frac >= 1 || n_cand < 3) {
            rc = mb_error(MB_EINVAL, "'%s': unseen fraction %g of %zu candidate gestures leaves too few seen",
                          c->path, frac, n_cand);
        } else {
            size_t m = (size_t)floor(frac * (double)n_cand + 0.5);
            if (m < 1) m = 1;
            if (m > n_cand - 2) m = n_cand - 2;
            struct mb_rng r;
            mb_rng_seed(&r, s->seed, 2);
            mb_rng_shuffle_int(&r, cand, n_cand);
            for (size_t q = 0; q < m; q++)
                unseen[cand[q]] = 1;
        }
    }
    free(present);
    free(cand);
    return rc;
}

static int is_unseen(const struct cp_corpus *c, const uint8_t *unseen, int32_t label)
{
    for (size_t g = 0; g < c->n_gestures; g++)
        if (c->gesture_ids[g] == label)
            return unseen[g];
    return 0;
}

/* test_seen 0: train seen, test and ref unseen; 1: all three seen */
static int plan_gestures(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c,
                         const struct pr_settings *s, const char *protocol, int pose_refs, int test_seen)
{
    struct pr_folds fs = { 0 };
    struct pr_idxv role[PR_N_ROLES] = { { 0 } };
    size_t G = 0;
    const char *rule = "";
    uint8_t *is_test = malloc(c->n_subjects + 1), *unseen = malloc(c->n_gestures + 1);
    /* The official held-out-stage recordings are NOT left out here: they
     * are exactly where the unseen gestures (held-out stages) live
     * (emg2pose held-out user x held-out stage). They only never feed
     * training, even with a label the vocabulary does not flag. */
    uint8_t *stage = pr_rec_exclusions(c, s);
    int rc = !stage ? MB_ENOMEM : is_test && unseen ? MB_OK : mb_error(MB_ENOMEM, "out of memory");
    if (!rc)
        rc = pr_unseen_gestures(unseen, &rule, c, s);
    if (!rc)
        rc = pr_subject_groups(&G, c, s);
    for (size_t g = 0; !rc && g < G; g++) {
        char name[200], id[256];
        if ((rc = pr_subject_group(is_test, name, sizeof name, c, s, g)))
            break;
        for (size_t i = 0; !rc && i < c->n; i++) {
            int u = is_unseen(c, unseen, c->label[i]);
            if (is_test[c->subject[i]]) {
                if (u != test_seen)
                    rc = pr_idxv_push(&role[PR_TEST], i);
            } else if (!u) {
                if (!stage[c->rec[i]]) {
                    rc = pr_idxv_push(&role[PR_TRAIN], i);
                    if (!rc && test_seen && (!pose_refs || (c->J && c->pose_valid[i])))
                        rc = pr_idxv_push(&role[PR_REF], i);
                }
            } else if (!test_seen && (!pose_refs || (c->J && c->pose_valid[i]))) {
                rc = pr_idxv_push(&role[PR_REF], i);
            }
        }
        if (rc)
            break;
        snprintf(id, sizeof id, "%s/%s", protocol, name);
        json_t *ids = json_array();
        for (size_t k = 0; k < c->n_gestures; k++)
            if (unseen[k])
                json_array_append_new(ids, json_integer(c->gesture_ids[k]));
        json_t *extra = json_pack("{s:s,s:o,s:f,s:i,s:b}", "rule", rule, "unseen", ids, "unseen_fraction",
                                  s->unseen_fraction > 0 ? s->unseen_fraction : 0.25, "folds", (int)s->folds,
                                  "official", s->official != 0);
        rc = pr_fold_finish(&fs, c, protocol, id, s->seed, extra, role);
    }
    for (int r = 0; r < PR_N_ROLES; r++)
        pr_idxv_release(&role[r]);
    free(is_test);
    free(unseen);
    free(stage);
    return pr_folds_return(folds, n_folds, &fs, rc);
}

int pr_plan_unseen(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c, const struct pr_settings *s,
                   const char *protocol, int pose_refs)
{
    return plan_gestures(folds, n_folds, c, s, protocol, pose_refs, 0);
}

int pr_plan_seen(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c, const struct pr_settings *s,
                 const char *protocol)
{
    return plan_gestures(folds, n_folds, c, s, protocol, 1, 1);
}

static int zsg_plan(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c, const struct pr_settings *s)
{
    return pr_plan_unseen(folds, n_folds, c, s, "zeroshot-gestures", 1);
}

static int zsg_run(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m, const void *hp,
                   const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s, struct mb_shared *sh)
{
    (void)p;
    return pr_run_zero_shot(res, m, hp, c, f, s, sh,
                            PR_INV_SUBJECT | PR_INV_REF_SUBJ | PR_INV_UNSEEN | PR_INV_OVERLAP | PR_INV_DISJOINT);
}

int pr_run_zero_shot(struct pr_result *res, const struct mb_method *m, const void *hp, const struct cp_corpus *c,
                     const struct pr_fold *f, const struct pr_settings *s, struct mb_shared *sh, unsigned inv)
{
    memset(res, 0, sizeof *res);
    /* invariants first: a leaky fold fails whatever the method can do */
    int rc = pr_check_invariants(c, f, inv);
    if (rc)
        return pr_result_set(res, PR_FAILED, rc, "%s", mb_last_error());
    if (!(m->caps & MB_CAP_ZERO_SHOT) || !m->zero_shot)
        return pr_result_set(res, PR_NA, MB_OK, "method '%s' cannot name %s (no zero-shot capability)", m->name,
                             inv & PR_INV_UNSEEN ? "unseen gestures" : "gestures from pose references");
    /* a corpus without any pose stream cannot meet the method's need for
     * pose references (like MB_CAP_NEEDS_POSE): n/a. A corpus with poses
     * but an empty reference or test set is a broken split: FAILED. */
    if (!c->J)
        return pr_result_set(res, PR_NA, MB_OK, "method '%s' needs pose references; corpus '%s' has no pose stream",
                             m->name, c->name);
    if (!f->n_train || !f->n_test || !f->n_ref)
        return pr_result_set(res, PR_FAILED,
                             mb_error(MB_EINVAL, "fold '%s': empty %s set (%zu training, %zu test, %zu reference "
                                      "windows with a valid pose)", f->id,
                                      !f->n_train ? "training" : !f->n_test ? "test" : "reference",
                                      f->n_train, f->n_test, f->n_ref),
                             "%s", mb_last_error());
    int32_t *classes = NULL, *tclasses = NULL, *pred = malloc((f->n_test + 1) * sizeof *pred);
    int32_t *ref_ids = malloc((f->n_ref + 1) * sizeof *ref_ids);
    size_t row = cp_pose_frames(c) * c->J;   /* a reference's pose sequence */
    float *ref_pose = malloc((f->n_ref * row + 1) * sizeof *ref_pose);
    size_t K = 0, KT = 0;
    struct mb_method_model *model = NULL;
    if (!pred || !ref_ids || !ref_pose) {
        rc = mb_error(MB_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = pr_classes_add(&classes, &K, c, f->train, f->n_train)) ||
        (rc = pr_classes_add(&tclasses, &KT, c, f->test, f->n_test)) ||
        (rc = pr_classes_add(&tclasses, &KT, c, f->ref, f->n_ref)))
        goto out;
    for (size_t k = 0; k < f->n_ref; k++) {
        ref_ids[k] = c->label[f->ref[k]];
        memcpy(ref_pose + k * row, cp_pose_row(c, f->ref[k]), row * sizeof *ref_pose);
    }
    struct cp_set train = { c, f->n_train, f->train }, test = { c, f->n_test, f->test };
    double t0 = pr_now();
    rc = m->fit(&model, &train, classes, K, hp, s->seed, sh);
    double t1 = pr_now();
    res->seconds_fit = t1 - t0;
    if (rc)
        goto out;
    rc = m->zero_shot(pred, model, &test, ref_pose, ref_ids, f->n_ref);
    res->seconds_predict = pr_now() - t1;
    if (!rc)
        rc = pr_score(res, c, f->test, f->n_test, pred, tclasses, KT);
out:
    if (model && m->free)
        m->free(model);
    free(classes); free(tclasses); free(pred); free(ref_ids); free(ref_pose);
    if (rc)
        return pr_result_set(res, PR_FAILED, rc, "%s", mb_last_error());
    return pr_result_set(res, PR_OK, MB_OK, "%s", "");
}

const struct mb_protocol proto_zeroshot_gestures = {
    .name = "zeroshot-gestures",
    .summary = "zero-shot to unseen gestures named from training subjects' pose references",
    .needs = MB_CAP_ZERO_SHOT,
    .settings = pr_unseen_settings,
    .check = pr_check_subject_settings,
    .plan = zsg_plan,
    .run = zsg_run,
};
