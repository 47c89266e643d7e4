/* protocols/internal.h - helpers shared by the protocol files (folder-private).
 *
 * A plan builds each fold as four growable window-index lists (roles),
 * then pr_fold_finish() freezes them and writes the canonical manifest
 * (docs/PROTOCOLS.md "Manifest"). A run checks the fold's invariants
 * (pr_check_invariants) before any method sees data, then fits and scores
 * through pr_run_classify / pr_score. */
#ifndef MB_PROTOCOLS_INTERNAL_H
#define MB_PROTOCOLS_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/protocol.h"

enum { PR_TRAIN = 0, PR_TEST, PR_REF, PR_ADAPT, PR_PROBE, PR_N_ROLES };

struct pr_idxv {
    size_t n, cap;
    size_t *v;               /* [n] window indices */
};

int  pr_idxv_push(struct pr_idxv *v, size_t i) MB_MUST_CHECK;
void pr_idxv_release(struct pr_idxv *v);

/* A growing array of folds (what plan() returns). */
struct pr_folds {
    size_t n, cap;
    struct pr_fold *v;
};

/* Resampler reach of window i in view samples (0 without c->reach). */
static inline int64_t pr_reach(const struct cp_corpus *c, size_t i)
{
    return c->reach ? (int64_t)c->reach[i] : 0;
}

/* Freezes roles into a new fold of fs (the lists are moved, role[] left
 * empty) and writes its manifest. First it drops every training,
 * reference or adaptation window whose resampled samples reach a test
 * window of the same recording (starts closer than W + reach, see
 * cp_corpus.reach); at the native rate no window is dropped. Then: protocol, fold id, seed, the corpus
 * identity and view, 'extra' (settings of this protocol, a JSON object
 * stolen by the call, may be NULL) and per role the subjects, gestures,
 * window count and the (gesture, trial) units of every recording. */
int pr_fold_finish(struct pr_folds *fs, const struct cp_corpus *c, const char *protocol, const char *id,
                   uint64_t seed, json_t *extra, struct pr_idxv role[PR_N_ROLES]) MB_MUST_CHECK;

/* Hands the folds to plan()'s caller, or frees them on error. */
int pr_folds_return(struct pr_fold **out, size_t *n_out, struct pr_folds *fs, int rc);

/* Subject groups of a subject-level split (LOSO, zero-shot, probe):
 * test group g of n_groups; subjects without windows are left out.
 * settings: folds == 0 one group per subject; k > 0 grouped k-fold over
 * the subjects shuffled with the seed; official: one group, the subjects
 * the source marks held out. is_test [n_subjects] receives 1 for the
 * test subjects of group g and 0 for the others; name receives the fold
 * name suffix ("s03", "k5-f0", "official"). */
int pr_subject_groups(size_t *n_groups, const struct cp_corpus *c, const struct pr_settings *s) MB_MUST_CHECK;
int pr_subject_group(uint8_t *is_test, char *name, size_t cap, const struct cp_corpus *c,
                     const struct pr_settings *s, size_t g) MB_MUST_CHECK;
/* Recordings of the official held-out stages: excl [n_recordings] gets 1
 * for each (0 everywhere unless s->official). Subject-level splits leave
 * them out; the unseen-gesture splits use them as their unseen side.
 * Returns a malloc'ed array, NULL (after reporting) when out of memory. */
uint8_t *pr_rec_exclusions(const struct cp_corpus *c, const struct pr_settings *s);

/* Folds whose training side is every window of the other subjects and
 * whose test side is every window of the group's subjects (LOSO,
 * zero-shot users, probe); fold ids "<protocol>/<group name>". */
int pr_plan_subjects(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c,
                     const struct pr_settings *s, const char *protocol) MB_MUST_CHECK;

/* Seen/unseen split of the vocabulary: unseen [n_gestures] (1 unseen);
 * the source's held-out marks when any, else a seeded draw (rest never
 * unseen). Folds of pr_plan_unseen: per subject group, train = seen
 * gestures of training subjects, test = unseen gestures of test subjects,
 * ref = unseen-gesture windows of training subjects (only those with a
 * valid pose when pose_refs). */
int pr_unseen_gestures(uint8_t *unseen, const char **rule, const struct cp_corpus *c,
                       const struct pr_settings *s) MB_MUST_CHECK;
int pr_plan_unseen(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c,
                   const struct pr_settings *s, const char *protocol, int pose_refs) MB_MUST_CHECK;
/* The same folds with the SEEN gestures on the test side (EMBridge's "ZS
 * seen"): train = seen gestures of training subjects, test = seen gestures
 * of test subjects, ref = the training subjects' seen-gesture windows with a
 * valid pose (their poses only reach the method). */
int pr_plan_seen(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c, const struct pr_settings *s,
                 const char *protocol) MB_MUST_CHECK;
/* A zero-shot job of a fold with train, test and ref: checks the invariants
 * 'inv' (PR_INV_*), then n/a without the zero-shot capability or a pose
 * stream, FAILED on an empty set; fits on train, names the test windows
 * from the references' poses, scores. */
int pr_run_zero_shot(struct pr_result *res, const struct mb_method *m, const void *hp, const struct cp_corpus *c,
                     const struct pr_fold *f, const struct pr_settings *s, struct mb_shared *sh, unsigned inv);

/* Within-subject rule for subject subj: test[i] for every window of the
 * subject (1 test, 0 train, -1 unused); rule receives its name. */
int pr_within_split(int8_t *test, const char **rule, const struct cp_corpus *c, int32_t subj) MB_MUST_CHECK;

/* ---- settings ------------------------------------------------------------ */
/* Keys of the subject-level splits (folds, official) and of the
 * unseen-gesture splits (the same and unseen_fraction); their check
 * refuses 1 fold and an unseen_fraction of 1. */
extern const struct mb_param pr_subject_settings[], pr_unseen_settings[];
/* Their entries, for a protocol whose table adds keys of its own (probe). */
#define PR_KEY_FOLDS { "folds", MB_PT_INT, offsetof(struct pr_settings, folds), 0, 0, 100000, NULL, \
                       "0 = one fold per subject; k >= 2 = grouped k-fold over the subjects (seeded)" }
#define PR_KEY_OFFICIAL { "official", MB_PT_BOOL, offsetof(struct pr_settings, official), 0, 0, 1, NULL, \
                          "one fold: the subjects the source marks held out (emg2pose's split tags)" }
#define PR_KEY_UNSEEN_FRACTION { "unseen_fraction", MB_PT_REAL, offsetof(struct pr_settings, unseen_fraction), \
                                 0.25, 0, 1, NULL, \
                                 "share of the vocabulary held out as unseen gestures (seeded; rest is never unseen)" }
int pr_check_subject_settings(const struct pr_settings *s);

/* ---- invariants --------------------------------------------------------- */
enum {
    PR_INV_SUBJECT   = 1u << 0,  /* no test (or adaptation) subject in training */
    PR_INV_REP       = 1u << 1,  /* no test unit (subject, session, gesture, trial) in training or adaptation */
    PR_INV_OVERLAP   = 1u << 2,  /* no training/adaptation/reference window shares samples with a test window */
    PR_INV_UNSEEN    = 1u << 3,  /* no test gesture among the training labels (unseen gestures) */
    PR_INV_DISJOINT  = 1u << 4,  /* no window both in training and test */
    PR_INV_REF_SUBJ  = 1u << 5,  /* pose references come from training subjects only */
    /* a few-shot probe's draw (fold->probe) lies inside the full probe's
     * training set: the training windows (probe) or the references
     * (probe-unseen) */
    PR_INV_DRAW_TRAIN = 1u << 6,
    PR_INV_DRAW_REF   = 1u << 7,
};
/* MB_EINVAL naming the invariant, the fold, the window and its subject. */
int pr_check_invariants(const struct cp_corpus *c, const struct pr_fold *f, unsigned which) MB_MUST_CHECK;

/* ---- running ------------------------------------------------------------ */
double pr_now(void);   /* monotonic seconds */

/* Sorted distinct labels of the given windows, merged with *classes
 * (realloc'ed). */
int pr_classes_add(int32_t **classes, size_t *K, const struct cp_corpus *c, const size_t *idx, size_t n) MB_MUST_CHECK;

/* Per-test-subject metrics from predicted global gesture ids pred [n]
 * of test windows idx [n], over the K classes. */
int pr_score(struct pr_result *res, const struct cp_corpus *c, const size_t *idx, size_t n,
             const int32_t *pred, const int32_t *classes, size_t K) MB_MUST_CHECK;

/* Sets res->status and message; returns rc. */
int pr_result_set(struct pr_result *res, enum pr_status st, int rc, const char *fmt, ...) MB_PRINTF(4, 5);

/* The classify job shared by within, LOSO, zero-shot users, few-shot and
 * adapt: capability check (PR_NA), invariants, fit on train, optional
 * adapt() on fold->adapt, predict test, argmax, per-subject metrics. */
int pr_run_classify(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m, const void *hp,
                    const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s, struct mb_shared *sh,
                    unsigned invariants, int use_adapt) MB_MUST_CHECK;

#endif
