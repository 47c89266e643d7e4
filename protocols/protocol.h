/* protocols/protocol.h - the contract between corpora, methods, protocols
 * and the harness. docs/PROTOCOLS.md is the normative description of each
 * protocol's splits; this header is the C contract.
 *
 * Flow of one job (dataset x protocol x method x fold x seed):
 *
 *   pr_corpus_load()       unified file -> windows at one view (rate, W ms,
 *                          stride S ms), labels, subjects, repetitions, pose
 *   protocol->plan()       corpus + settings -> folds, each a manifest (JSON
 *                          text: who and what goes to train / test / refs,
 *                          seeds) with its SHA-256; same input, same bytes
 *   protocol->run()        fold + method -> per-test-subject metrics and
 *                          confusion matrices; asserts its invariants first
 *
 * Methods see windows by index: a method's fit gets the training window set,
 * and must read only those windows (struct pr_set also reaches the rest of the
 * corpus), so statistics it fits (feature thresholds, scalers) come from
 * training data; tests/test_methods.c checks every registered method for it
 * (fit_reads_only_its_training_windows).
 */
#ifndef MB_PROTOCOLS_PROTOCOL_H
#define MB_PROTOCOLS_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* ---- windows of a corpus --------------------------------------------- */

struct pr_view_settings {
    double rate_hz;          /* common rate every recording is viewed at; 0 = native (needs one rate) */
    double window_ms;        /* W, default 200 */
    double stride_ms;        /* S, default 50 */
    int majority_label;      /* 0: label at the window's end (causal, default); 1: majority */
};

/* All windows of one corpus at one view. Windows never cross a segment
 * (label or repetition change) or a recording boundary; unlabelled
 * windows are dropped. The corpus owns every array. */
struct pr_corpus {
    char *path;              /* unified file */
    char sha256[65];         /* of the unified file: part of every job key */
    char *name;              /* corpus name */
    struct pr_view_settings view;
    size_t C;                /* channels (recordings with another count are refused) */
    size_t W;                /* samples per window at the view rate */
    size_t n;                /* windows */
    float *x;                /* [n x W x C] EMG windows (copied out of the recordings) */
    int32_t *label;          /* [n] global gesture id */
    int32_t *rep;            /* [n] repetition, -1 if none */
    int32_t *subject;        /* [n] index into subject_names */
    int32_t *rec;            /* [n] recording index in the unified file */
    int32_t *session;        /* [n] index into session_names */
    int64_t *start;          /* [n] first sample of the window, at the view rate */
    size_t J;                /* pose channels, 0 if the corpus has no pose stream */
    float *pose;             /* [n x J] pose at the window's end (NULL if J == 0) */
    size_t Wp;               /* pose frames per window (0 in hand-built corpora without pose_seq) */
    float *pose_seq;         /* [n x Wp x J] the pose over the window, oldest frame first, the last
                              * frame = pose (NULL if J == 0 or not built) */
    size_t n_subjects;   char **subject_names;
    size_t n_sessions;   char **session_names;
    size_t n_gestures;   int32_t *gesture_ids; char **gesture_names; int *gesture_held_out;
    size_t n_recordings; char **rec_tags_json;   /* [n_recordings] split tags as JSON objects */
    /* Added for the protocols (docs/PROTOCOLS.md "Corpus"): */
    int32_t *seg;            /* [n] segment id: run of equal (label, rep) in one recording, unique corpus-wide */
    int32_t *trial;          /* [n] repetition the splits use: the source repetition (rest takes the
                              * next movement's), else the 1-based occurrence of the segment among the
                              * segments of that (subject, side, gesture), or, when the subject made
                              * the gesture once per side, the time block 1..3 of the segment;
                              * -1 if none (also a window across two blocks) */
    int32_t *block;          /* [n] 0..2: the trial is that time block of a single-occurrence
                              * segment; -1 otherwise (may be NULL in hand-built corpora) */
    uint8_t *pose_valid;     /* [n] 1 if every frame of the window's pose is valid (NULL if J == 0) */
    int32_t *reach;          /* [n] view samples the resampler's filter reaches on either side of the
                              * window (kern_resample_reach; 0 at the native rate): window i depends
                              * on the recording's samples in [start - reach, start + W + reach) */
    int has_reps;            /* 1 if every recording has a repetition stream */
    int *subject_held_out;   /* [n_subjects] 1/0 from the source split, -1 unknown */
    char **rec_ids;          /* [n_recordings] "r000000"... */
    int32_t *rec_subject;    /* [n_recordings] subject index */
    int32_t *rec_session;    /* [n_recordings] session index */
};

int  pr_corpus_load(struct pr_corpus *c, const char *path, const struct pr_view_settings *v) MB_MUST_CHECK;

/* What pr_corpus_load would refuse, without loading: the file opens as a
 * unified file, its recordings fit one view (channel count, native rate
 * without a view rate, window length, pose width) and every label is -1
 * or a gesture id of its vocabulary (the check of mbh5_validate). Reads the
 * tables and the labels only, so 'myobench run' checks every dataset before
 * it opens the results store. */
int  pr_corpus_check(const char *path, const struct pr_view_settings *v) MB_MUST_CHECK;

/* Pose rows as methods and the zero-shot contract see them: the window's pose
 * sequence [Wp x J] when the corpus has one, else the end pose [1 x J]. */
static inline size_t pr_pose_frames(const struct pr_corpus *c)
{
    return c->pose_seq ? c->Wp : 1;
}

static inline const float *pr_pose_row(const struct pr_corpus *c, size_t i)
{
    return c->pose_seq ? c->pose_seq + i * c->Wp * c->J : c->pose + i * c->J;
}
void pr_corpus_release(struct pr_corpus *c);

/* A subset of a corpus's windows, by index; what methods receive. */
struct pr_set {
    const struct pr_corpus *c;
    size_t n;
    const size_t *idx;       /* [n] indices into the corpus windows */
};

/* ---- methods ------------------------------------------------------------ */

enum {
    MB_CAP_CLASSIFY   = 1u << 0,  /* fit on labelled windows, predict probabilities */
    MB_CAP_EMBED      = 1u << 1,  /* frozen representation: linear probe */
    MB_CAP_ZERO_SHOT  = 1u << 2,  /* names unseen gestures from pose references */
    MB_CAP_ADAPT      = 1u << 3,  /* unsupervised adaptation on unlabelled target windows */
    MB_CAP_NEEDS_POSE = 1u << 4,  /* needs a pose stream in training */
    MB_CAP_ORACLE     = 1u << 5,  /* uses test-time information: reported as an oracle row */
};

struct mb_method_model;          /* a method's fitted state */

struct mb_method {
    const char *name;            /* "lda-td4", "svm-linear-td4", "pose-ridge-td4", ... */
    const char *summary;
    unsigned caps;               /* MB_CAP_* */
    const char *params;          /* default parameter string, part of the job key */
    /* Parses a parameter string as fit would, without data (MB_EINVAL naming the key),
     * so a plan with a bad parameter fails when it is loaded, not in every job. */
    int  (*check_params)(const char *params);
    /* Fits on labelled training windows. n_classes: labels are mapped by
     * the protocol to [0, K) through 'classes' (global gesture ids). */
    int  (*fit)(struct mb_method_model **out, const struct pr_set *train, const int32_t *classes,
                size_t K, const char *params, uint64_t seed);
    /* P [n x K] for the K classes of fit. */
    int  (*predict_proba)(float *P, const struct mb_method_model *m, const struct pr_set *test);
    /* Representation Z [n x *E] (E fixed per model); NULL if not MB_CAP_EMBED. */
    int  (*embed)(float *Z, size_t *E, const struct mb_method_model *m, const struct pr_set *x);
    /* Zero-shot: predicts, for each test window, one of the n_ref_classes
     * gesture ids using only labelled pose references (refs: pose rows
     * [n_refs x pr_pose_frames(c) x J], i.e. each reference window's pose
     * sequence, with ids [n_refs]), which may include gestures never seen
     * in training. NULL if not MB_CAP_ZERO_SHOT. */
    int  (*zero_shot)(int32_t *pred, const struct mb_method_model *m, const struct pr_set *test,
                      const float *ref_pose, const int32_t *ref_ids, size_t n_refs);
    /* Adapts to unlabelled target windows (no source data). NULL if not MB_CAP_ADAPT. */
    int  (*adapt)(struct mb_method_model *m, const struct pr_set *target, uint64_t seed);
    /* SHA-256 of the parameters that define the representation (linear-probe check). */
    void (*param_hash)(char hex[65], const struct mb_method_model *m);
    void (*free)(struct mb_method_model *m);
    /* E of embed(), so callers can size Z before the call; required with MB_CAP_EMBED. */
    size_t (*embed_dim)(const struct mb_method_model *m);
};

extern const struct mb_method *const mb_methods[];          /* NULL-terminated registry */
const struct mb_method *mb_method_find(const char *name);    /* NULL if unknown */

/* ---- protocols ------------------------------------------------------------ */

struct pr_settings {
    int folds;               /* LOSO: 0 = one fold per subject; k = grouped k-fold over subjects */
    int official;            /* emg2pose: use the official held-out split tags */
    int shots;               /* few-shot k (repetitions per gesture) or 0 */
    int percent;             /* few-shot p% of the target's data, or 0 */
    int episodes;            /* few-shot episodes per target */
    double unseen_fraction;  /* zero-shot gestures: share of the vocabulary held out (seeded) */
    uint64_t seed;
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
    int (*plan)(struct pr_fold **folds, size_t *n_folds, const struct pr_corpus *c, const struct pr_settings *s);
    /* Runs one fold; asserts the protocol's invariants on the fold first and
     * fails (MB_EINVAL, message naming the violated invariant) if one is broken. */
    int (*run)(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m,
               const struct pr_corpus *c, const struct pr_fold *f, const struct pr_settings *s);
};

extern const struct mb_protocol *const mb_protocols[];      /* NULL-terminated registry */
const struct mb_protocol *mb_protocol_find(const char *name);

#endif
