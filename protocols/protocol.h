/* protocols/protocol.h - the protocol contract: how a corpus is split
 * into folds and how one fold is run with one method. docs/PROTOCOLS.md is
 * the normative description of each protocol's splits; this header is the
 * C contract.
 *
 * Flow of one job (dataset x protocol x method x fold x seed):
 *
 *   cp_corpus_load()       corpus/corpus.h: the windows at one view
 *   protocol->plan()       corpus + settings -> folds, each a manifest (JSON
 *                          text: who and what goes to train / test / refs,
 *                          seeds) with its SHA-256; same input, same bytes
 *   protocol->run()        fold + method -> per-test-subject metrics and
 *                          confusion matrices; asserts its invariants first
 */
#ifndef MB_PROTOCOLS_PROTOCOL_H
#define MB_PROTOCOLS_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "corpus/corpus.h"
#include "methods/method.h"

/* ---- protocols ------------------------------------------------------------ */

/* Settings of a protocol variant. Every protocol declares, in its own
 * typed table (mb_protocol.settings, core/params.h), the keys it reads and
 * their defaults; the plan parses those keys only, and their canonical
 * text is part of the job key. Zero in a key a protocol does not declare.
 *
 * The fields here are the keys several protocols share. A key only one
 * protocol reads lives in that protocol's own struct, in its own file,
 * held in 'own': its table's offsets are PR_OWN_KEY(type, field), it reads
 * them with PR_OWN(s, type), and PR_OWN_FITS(type) checks the size at
 * compile time. So a new protocol with new keys edits no shared header,
 * and settings still copy by value (a plan's variants, a job's settings). */
#define PR_OWN_BYTES 256
struct pr_settings {
    long folds;              /* 0 = one fold per subject; k = grouped k-fold over subjects */
    int official;            /* emg2pose: use the official held-out split tags */
    double unseen_fraction;  /* zero-shot gestures: share of the vocabulary held out, seeded (0 = 0.25) */
    uint64_t seed;           /* set per job from the plan's seeds, not a key */
    _Alignas(max_align_t) unsigned char own[PR_OWN_BYTES];   /* the protocol's own struct */
};
#define PR_OWN_KEY(type, field) (offsetof(struct pr_settings, own) + offsetof(type, field))
#define PR_OWN(s, type) ((const type *)(const void *)(s)->own)
#define PR_OWN_FITS(type) \
    _Static_assert(sizeof(type) <= PR_OWN_BYTES, #type " does not fit in pr_settings.own (PR_OWN_BYTES)")

/* A budget key: a plan may give a list of values (fewshot's shots: [1, 5]),
 * and each value is a variant of its own, a block of the report labelled
 * "<label>-<prefix><value>". An entry that gives no budget gets one variant
 * per default value of every budget key. */
struct pr_budget {
    const char *plan_key;    /* the list's key in a plan: "shots", "percents" */
    const char *key;         /* the settings key each variant sets: "shots", "percent" */
    const char *prefix;      /* label suffix: "k", "p" */
    long lo, hi;             /* accepted values */
    const long *defaults;    /* [n_defaults] values of a plain entry */
    size_t n_defaults;
};

/* One fold: the manifest is the normative record of the split. */
struct pr_fold {
    char *id;                /* e.g. "loso/s03", "within/s01", "fewshot-k5/s02/e3" */
    char *manifest;          /* canonical JSON text */
    char sha256[65];         /* of manifest */
    size_t n_train, n_test, n_ref, n_adapt;
    size_t *train, *test;    /* window indices */
    size_t *ref;             /* pose references (zero-shot), may be empty */
    size_t *adapt;           /* unlabelled target windows (adaptation), may be empty */
    size_t n_probe;
    size_t *probe;           /* a few-shot probe's draw: the probe-training windows of one
                                episode, a subset of train (probe) or ref (probe-unseen); may be empty */
};

void pr_fold_release(struct pr_fold *f);

/* Metrics of one test subject in one job. */
struct pr_subject_result {
    int32_t subject;         /* corpus subject index */
    size_t n_test;           /* windows */
    double accuracy, balanced_accuracy, macro_f1;
    size_t K;                /* classes of the confusion matrix */
    int32_t *classes;        /* [K] global gesture ids */
    int64_t *confusion;      /* [K x K] rows true, columns predicted */
};

enum pr_status { PR_OK = 0, PR_NA = 1, PR_FAILED = 2 };

struct pr_result {
    enum pr_status status;   /* PR_NA: the method cannot run this protocol (message says why) */
    char message[512];
    size_t n_subjects;
    struct pr_subject_result *subjects;
    double seconds_fit, seconds_predict;
};

void pr_result_release(struct pr_result *r);

struct mb_protocol {
    const char *name;        /* "within", "loso", "zeroshot-users", "zeroshot-gestures", "probe", "fewshot", "adapt" */
    const char *summary;
    unsigned needs;          /* MB_CAP_* a method must have; otherwise the job is "n/a" */
    /* The keys of struct pr_settings this protocol reads: typed, with their
     * defaults and ranges (NULL = none), and its budget keys (NULL = none). */
    const struct mb_param *settings;
    const struct pr_budget *budgets;
    /* Checks across keys or values a range cannot state (1 fold leaves no
     * training subject), without data; MB_EINVAL with the reason. NULL = none. */
    int (*check)(const struct pr_settings *s);
    int (*plan)(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c, const struct pr_settings *s);
    /* Runs one fold with method m and its parsed parameters hp (see
     * mb_method_parse); asserts the protocol's invariants on the fold first
     * and fails (MB_EINVAL, message naming the violated invariant) if one is
     * broken. 'sh' is passed on to the method's fit (may be NULL). */
    int (*run)(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m, const void *hp,
               const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s,
               struct mb_shared *sh);
};

extern const struct mb_protocol *const mb_protocols[];      /* NULL-terminated registry */
const struct mb_protocol *mb_protocol_find(const char *name);

/* Settings of a protocol from 'text' ("key=value,...", NULL = defaults):
 * only the protocol's own keys, then its check. MB_EINVAL naming the
 * protocol and the key. */
int pr_settings_parse(struct pr_settings *s, const struct mb_protocol *p, const char *text) MB_MUST_CHECK;

/* Canonical text of the protocol's own keys (part of every job key). */
size_t pr_settings_text(char *buf, size_t cap, const struct mb_protocol *p, const struct pr_settings *s);

#endif
