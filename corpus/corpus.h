/* corpus/corpus.h - a unified file seen as windows at one view: what
 * protocols split and methods read.
 *
 *   cp_corpus_load()   unified file -> windows at one view (rate, W ms,
 *                      stride S ms), labels, subjects, repetitions, trials,
 *                      pose; the corpus owns every array
 *   cp_window()        the samples of window i: a view into its recording,
 *                      never a copy, so memory is the recordings' samples
 *                      whatever the window overlap
 *   struct cp_set      a subset of the windows by index: what methods get
 *   cp_corpus_open()   the same corpus, lazy: every table and window is
 *                      there, the samples of a recording are read when a
 *                      reader pins it (cp_pin, cp_set_pin, struct cp_cursor)
 *                      and kept within a byte budget afterwards, so a corpus
 *                      larger than memory runs recording by recording
 *
 * Methods see windows by index: a method's fit gets the training window set,
 * and must read only those windows (struct cp_set also reaches the rest of the
 * corpus), so statistics it fits (feature thresholds, scalers) come from
 * training data; tests/test_methods.c checks every registered method for it
 * (fit_reads_only_its_training_windows). docs/PROTOCOLS.md "Corpus" defines
 * trials, blocks and segments.
 */
#ifndef MB_CORPUS_CORPUS_H
#define MB_CORPUS_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct cp_view {
    double rate_hz;          /* common rate every recording is viewed at; 0 = native (needs one rate) */
    double window_ms;        /* W, default 200 */
    double stride_ms;        /* S, default 50 */
    int majority_label;      /* 0: label at the window's end (causal, default); 1: majority */
};

/* All windows of one corpus at one view. Windows never cross a segment
 * (label or repetition change) or a recording boundary; unlabelled
 * windows are dropped. The corpus owns every array.
 *
 * The samples: every recording at the view rate, back to back in one block
 * (emg), recording r at rows [rec_off[r], rec_off[r + 1]). Window i is the
 * [W x C] block at row rec_off[rec[i]] + start[i] (cp_window). A hand-built
 * corpus (tests, benchmarks) is simplest as one recording holding its
 * windows back to back: n_recordings 1, rec_off {0, n W}, rec[i] 0,
 * start[i] i W. */
struct cp_corpus {
    char *path;              /* unified file */
    char sha256[65];         /* of the unified file: part of every job key */
    char *name;              /* corpus name */
    struct cp_view view;
    size_t C;                /* channels (recordings with another count are refused) */
    size_t W;                /* samples per window at the view rate */
    size_t n;                /* windows */
    float *emg;              /* [rec_off[n_recordings] x C] the recordings at the view rate, back to back */
    size_t *rec_off;         /* [n_recordings + 1] first row of each recording in emg, then the total */
    int32_t *label;          /* [n] global gesture id */
    int32_t *rep;            /* [n] repetition, -1 if none */
    int32_t *subject;        /* [n] index into subject_names */
    int32_t *rec;            /* [n] recording index in the unified file (and in rec_off) */
    int32_t *session;        /* [n] index into session_names */
    int64_t *start;          /* [n] first sample of the window in its recording, at the view rate */
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
    /* A lazy corpus (cp_corpus_open with a budget): emg is NULL and recording
     * r's samples are rec_emg[r] [rec_off[r + 1] - rec_off[r] x C] while it is
     * pinned (NULL when not resident). Both NULL in an eager corpus. */
    float **rec_emg;
    struct cp_lazy *lazy;
};

int  cp_corpus_load(struct cp_corpus *c, const char *path, const struct cp_view *v) MB_MUST_CHECK;

/* cp_corpus_load, or with budget != CP_EAGER a lazy corpus: the file stays
 * open and a recording's samples are read when first pinned; unpinned
 * recordings stay resident while they fit 'budget' bytes (0: none stays).
 * Windows, labels, pose and every table are the same as the eager load's,
 * and so is every sample read (test corpus/lazy_*). */
#define CP_EAGER SIZE_MAX
int  cp_corpus_open(struct cp_corpus *c, const char *path, const struct cp_view *v, size_t budget) MB_MUST_CHECK;

/* What cp_corpus_load would refuse, without loading: the file opens as a
 * unified file, its recordings fit one view (channel count, native rate
 * without a view rate, window length, pose width) and every label is -1
 * or a gesture id of its vocabulary (the check of mbh5_validate). Reads the
 * tables and the labels only, so 'myobench run' checks every dataset before
 * it opens the results store. */
int  cp_corpus_check(const char *path, const struct cp_view *v) MB_MUST_CHECK;

/* Row of emg where window i begins: a kernel that takes one recording and
 * window starts (kern_features_extract) sees emg as one long recording
 * (eager corpora only). */
static inline size_t cp_window_row(const struct cp_corpus *c, size_t i)
{
    return c->rec_off[c->rec[i]] + (size_t)c->start[i];
}

/* Window i: W rows of C floats (row stride C) inside its recording's
 * samples, never a copy; valid while the corpus is (a lazy corpus: while its
 * recording is pinned). */
static inline const float *cp_window(const struct cp_corpus *c, size_t i)
{
    if (c->rec_emg)
        return c->rec_emg[c->rec[i]] + (size_t)c->start[i] * c->C;
    return c->emg + cp_window_row(c, i) * c->C;
}

/* Pose rows as methods and the zero-shot contract see them: the window's pose
 * sequence [Wp x J] when the corpus has one, else the end pose [1 x J]. */
static inline size_t cp_pose_frames(const struct cp_corpus *c)
{
    return c->pose_seq ? c->Wp : 1;
}

static inline const float *cp_pose_row(const struct cp_corpus *c, size_t i)
{
    return c->pose_seq ? c->pose_seq + i * c->Wp * c->J : c->pose + i * c->J;
}
void cp_corpus_release(struct cp_corpus *c);

/* A subset of a corpus's windows, by index; what methods receive. */
struct cp_set {
    const struct cp_corpus *c;
    size_t n;
    const size_t *idx;       /* [n] indices into the corpus windows */
};

/* Pinning (no-ops on an eager corpus): a reader of a lazy corpus's samples
 * pins what it reads and unpins it when done; pins count, so readers on
 * several threads may pin the same recording. The corpus is const to its
 * readers; its cache of samples is not part of what they see. */
int  cp_pin(const struct cp_corpus *c, size_t rec) MB_MUST_CHECK;
void cp_unpin(const struct cp_corpus *c, size_t rec);
/* Every recording a set's windows lie in (a method that visits its windows
 * in any order: a neural method's batches). */
int  cp_set_pin(const struct cp_set *s) MB_MUST_CHECK;
void cp_set_unpin(const struct cp_set *s);

/* Windows visited in a given order with one recording pinned at a time:
 *
 *     struct cp_cursor k = CP_CURSOR(c);
 *     for (...) { rc = cp_cursor_at(&k, &x, i); ... }
 *     cp_cursor_end(&k);
 *
 * A set in window order (every protocol's) reads each recording once. */
struct cp_cursor {
    const struct cp_corpus *c;
    int32_t rec;             /* pinned recording, -1 none */
};
#define CP_CURSOR(corpus) ((struct cp_cursor){ (corpus), -1 })
int  cp_cursor_at(struct cp_cursor *k, const float **x, size_t i) MB_MUST_CHECK;
void cp_cursor_end(struct cp_cursor *k);

struct cp_lazy_stats {
    size_t reads;            /* recordings read from the file */
    size_t dropped;          /* unpinned recordings freed for the budget */
    double bytes_read;
};
void cp_lazy_stats(struct cp_lazy_stats *st, const struct cp_corpus *c);

#endif
