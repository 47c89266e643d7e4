/* format/mbh5.h - the myobench unified HDF5 format: streaming writer,
 * reader, deep validation. docs/FORMAT.md is the normative description of
 * the layout; this header is the C contract.
 *
 * One file per converted corpus. Every recording keeps its native rate,
 * channel count and units; the reader gives them as stored (raw reads at
 * the native rate). Views at a common rate, in windows, are corpus/'s.
 *
 * Writing (streams: one recording's chunk at a time, never the corpus):
 *
 *     struct mbh5_writer *w;
 *     mbh5_create(&w, "out.h5", &corpus);          // writes "out/.out.h5.part-<pid>"
 *     mbh5_add_source(w, "s1/S1_A1_E1.mat", sha, bytes);
 *     mbh5_add_device(w, &dev);
 *     mbh5_add_gesture(w, &g);                      // corpus-wide vocabulary
 *     struct mbh5_rec *r;
 *     mbh5_rec_begin(w, &r, &info);
 *     mbh5_rec_add_tag(r, "split", "train");
 *     mbh5_rec_add_stream(r, &sid, &glove_info);
 *     while (...) { mbh5_rec_append(r, emg, labels, reps, NULL, n);
 *                   mbh5_rec_append_stream(r, sid, glove, NULL, n); }
 *     mbh5_rec_end(r);                              // segment table, counts
 *     mbh5_commit(w);                               // closes, renames to out.h5
 *
 * On any error call mbh5_abort(w): it removes the temporary file, so a
 * failed conversion never leaves a file under the output name.
 *
 * Strings in the input structs are borrowed (copied before return).
 * Strings in structs returned by the reader belong to the mbh5_file and
 * live until mbh5_close(). No function here is safe to call from two
 * threads on the same handle; HDF5 calls are kept out of parallel regions.
 */
#ifndef MB_FORMAT_MBH5_H
#define MB_FORMAT_MBH5_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

#define MBH5_SCHEMA_NAME    "myobench-unified"
#define MBH5_SCHEMA_VERSION 1

/* Label value for samples that carry no gesture (outside any trial,
 * "unmarked" in UCI, IK-failure is NOT this: that is a pose mask). */
#define MBH5_UNLABELLED (-1)

/* ---- metadata records --------------------------------------------------- */

struct mbh5_corpus {
    const char *name;              /* corpus name, e.g. "ninapro-db1" */
    const char *source_dataset;    /* e.g. "NinaPro DB1" */
    const char *source_version;    /* "" if unknown */
    const char *converter;         /* converter name, e.g. "ninapro" */
    const char *converter_version; /* e.g. MB_VERSION */
    const char *params_json;       /* creation parameters as a JSON object text; "{}" if none */
};

struct mbh5_source {
    const char *path;              /* relative to the source root */
    char sha256[65];               /* lower-case hex */
    uint64_t bytes;
};

struct mbh5_channel {
    const char *name;              /* e.g. "emg1", "F3" */
    const char *placement;         /* free text: "proximal armband, 22.5 deg", "" if unknown */
    const char *units;             /* "V", "mV", "a.u.", "counts" */
    double gain;                   /* physical = stored * gain (1.0 when stored physical) */
};

struct mbh5_device {
    const char *name;              /* unique key within the file, e.g. "otto-bock-13e200" */
    const char *manufacturer;      /* "" if unknown */
    const char *model;             /* "" if unknown */
    int n_channels;
    double rate_hz;                /* nominal EMG rate */
    const char *units;             /* units of the stored EMG values */
    double scale;                  /* stored value * scale = volts; 0 if not convertible */
    int adc_bits;                  /* 0 if unknown */
    const char *hw_filters;        /* filters applied before digitisation, "" if none known */
    const char *sw_filters;        /* filters applied after, by the source, "" if none known */
    double power_line_hz;          /* 50, 60, 0 if unknown */
    const struct mbh5_channel *channels; /* [n_channels]; NULL = "ch1".."chC", device units, gain 1 */
};

struct mbh5_gesture {
    int32_t id;                    /* global id used in label streams, >= 0 */
    const char *name;              /* human name, e.g. "index flexion" */
    const char *source_label;      /* the source's own label text or number */
    int held_out;                  /* 1 if the source marks it held out (emg2pose held_out_stage) */
};

struct mbh5_subject {
    const char *name;              /* the source's subject id as text */
    int held_out;                  /* 1/0 from source split tags, -1 unknown */
};

struct mbh5_segment {
    int64_t start, end;            /* samples, end exclusive */
    int32_t gesture;               /* global gesture id */
    int32_t repetition;            /* source repetition number, -1 if none */
};

struct mbh5_tag {
    const char *key, *value;       /* split tags carried from the source */
};

struct mbh5_rec_info {
    const char *subject;           /* subject name; added to the subject table on first use */
    const char *session;           /* "" if none */
    const char *side;              /* "left", "right" or "" */
    int day;                       /* recording day, -1 if unknown */
    const char *device;            /* name of a device added with mbh5_add_device */
    double rate_hz;                /* native rate of this recording's EMG */
    int n_channels;                /* must equal the device's */
    const char *source;            /* source file(s) this recording came from */
    double start_time;             /* absolute start, Unix seconds; NAN if unknown */
    int has_time;                  /* 1: a per-sample f64 time stream is written */
    int has_repetition;            /* 1: a per-sample repetition stream is written */
};

struct mbh5_stream_info {
    const char *name;              /* unique within the recording: "joint_angles", "glove", "acc" */
    const char *kind;              /* "pose" (joint angles, usable as pose), "glove", "acc", ... */
    int n_channels;
    double rate_hz;
    const char *units;             /* "rad", "deg", "raw", "g" */
    const char *const *channel_names; /* [n_channels]; NULL = "<name>1".."<name>C" */
    int has_valid;                 /* 1: a u8 validity mask is written (IK failures) */
    int f64;                       /* 1: stored as float64 (keeps f64 sources lossless), 0: float32 */
};

/* ---- writer ------------------------------------------------------------- */

struct mbh5_writer;
struct mbh5_rec;

int  mbh5_create(struct mbh5_writer **out, const char *path, const struct mbh5_corpus *corpus) MB_MUST_CHECK;
int  mbh5_add_source(struct mbh5_writer *w, const char *relpath, const char *sha256, uint64_t bytes) MB_MUST_CHECK;
int  mbh5_add_device(struct mbh5_writer *w, const struct mbh5_device *dev) MB_MUST_CHECK;
int  mbh5_add_gesture(struct mbh5_writer *w, const struct mbh5_gesture *g) MB_MUST_CHECK;
/* Optional: declares a subject's split status before its recordings. */
int  mbh5_add_subject(struct mbh5_writer *w, const struct mbh5_subject *s) MB_MUST_CHECK;
/* Per-sample datasets are chunked and, by default, shuffle + deflate
 * compressed (MBH5_COMPRESS_FAST, about 0.75-0.85 of the raw size on
 * float EMG). MBH5_COMPRESS_NONE keeps them chunked but uncompressed, for
 * writes at plain-HDF5 speed at the cost of space. Applies to recordings
 * begun after the call. Any HDF5 reader reads either without plugins. */
enum mbh5_compression { MBH5_COMPRESS_FAST = 0, MBH5_COMPRESS_NONE = 1 };
int  mbh5_set_compression(struct mbh5_writer *w, enum mbh5_compression c) MB_MUST_CHECK;
/* Adds a note to the corpus-wide conversion log (warnings kept in the file). */
int  mbh5_add_note(struct mbh5_writer *w, const char *text) MB_MUST_CHECK;

/* Recordings are written one at a time, in call order; ids are "r000000"... */
int  mbh5_rec_begin(struct mbh5_writer *w, struct mbh5_rec **out, const struct mbh5_rec_info *info) MB_MUST_CHECK;
int  mbh5_rec_add_tag(struct mbh5_rec *r, const char *key, const char *value) MB_MUST_CHECK;
int  mbh5_rec_add_stream(struct mbh5_rec *r, int *stream_id, const struct mbh5_stream_info *si) MB_MUST_CHECK;
/* Appends n samples. emg is [n x C] row-major; labels [n] (NULL: all
 * MBH5_UNLABELLED); reps [n] (required iff has_repetition); time [n]
 * (required iff has_time). */
int  mbh5_rec_append(struct mbh5_rec *r, const float *emg, const int32_t *labels,
                     const int32_t *reps, const double *time, size_t n) MB_MUST_CHECK;
/* x is [n x S] row-major; valid [n] (required iff has_valid). */
int  mbh5_rec_append_stream(struct mbh5_rec *r, int stream_id, const float *x,
                            const uint8_t *valid, size_t n) MB_MUST_CHECK;
/* Same from doubles; stored exactly when the stream is f64 (else rounded
 * to float32). Appends of both kinds may be mixed on one stream. */
int  mbh5_rec_append_stream_f64(struct mbh5_rec *r, int stream_id, const double *x,
                                const uint8_t *valid, size_t n) MB_MUST_CHECK;
/* Finishes the recording: writes the segment table (runs of equal
 * (label, repetition), unlabelled runs omitted) and the sample counts. */
int  mbh5_rec_end(struct mbh5_rec *r) MB_MUST_CHECK;

/* Writes the tables, closes the file and renames it onto the output path.
 * Frees w whatever the result. */
int  mbh5_commit(struct mbh5_writer *w) MB_MUST_CHECK;
/* Closes and deletes the temporary file; frees w. NULL is fine. */
void mbh5_abort(struct mbh5_writer *w);
/* 1 if a writer's file could not be closed in this process (a write
 * error that even discarding the file's data did not clear, e.g. a
 * file-size limit). libhdf5 1.10 is then left with a freed file in its
 * tables and crashes in its exit-time teardown: a program about to exit
 * should leave with _exit() (after flushing its streams). */
int  mbh5_unclean_close(void);

/* ---- reader ------------------------------------------------------------- */

struct mbh5_stream {
    struct mbh5_stream_info info;
    size_t n_samples;
};

struct mbh5_recording {
    const char *id;                /* group name under /recordings */
    struct mbh5_rec_info info;     /* as written; strings owned by the file */
    int subject;                   /* index into mbh5_file.subjects */
    int device;                    /* index into mbh5_file.devices */
    size_t n_samples;
    size_t n_segments;
    struct mbh5_segment *segments;
    size_t n_tags;
    struct mbh5_tag *tags;
    size_t n_streams;
    struct mbh5_stream *streams;
};

struct mbh5_file {
    const char *path;
    int schema_version;
    struct mbh5_corpus corpus;
    size_t n_sources;     struct mbh5_source *sources;
    size_t n_devices;     struct mbh5_device *devices;
    size_t n_gestures;    struct mbh5_gesture *gestures;
    size_t n_subjects;    struct mbh5_subject *subjects;
    size_t n_recordings;  struct mbh5_recording *recordings;
    size_t n_notes;       const char **notes;
    void *impl;                    /* HDF5 handles; private */
};

/* Opens and checks schema name, version and structure (required groups,
 * datasets, shapes consistent with attributes). Errors name the file and
 * the object that is wrong. */
int  mbh5_open(struct mbh5_file **out, const char *path) MB_MUST_CHECK;
void mbh5_close(struct mbh5_file *f);

/* Value of a recording's split tag, NULL if absent. */
const char *mbh5_tag(const struct mbh5_recording *r, const char *key);
/* Index of a gesture id in f->gestures, -1 if absent. */
int  mbh5_gesture_index(const struct mbh5_file *f, int32_t id);
/* The label check: index of the first of labels[0..n) that is neither
 * MBH5_UNLABELLED nor a gesture id of f's vocabulary, n when every label is
 * known. Shared by mbh5_validate and the readers of labels (protocols/
 * corpus.c), so 'validate' and 'run' refuse the same files. */
size_t mbh5_find_unknown_label(const struct mbh5_file *f, const int32_t *labels, size_t n);

/* Raw reads at native rate; only the chunks covering [start, start+n) are read. */
int  mbh5_read_emg(struct mbh5_file *f, size_t rec, size_t start, size_t n, float *out /* [n x C] */) MB_MUST_CHECK;
int  mbh5_read_labels(struct mbh5_file *f, size_t rec, size_t start, size_t n,
                      int32_t *labels /* [n] or NULL */, int32_t *reps /* [n] or NULL */) MB_MUST_CHECK;
int  mbh5_read_time(struct mbh5_file *f, size_t rec, size_t start, size_t n, double *out /* [n] */) MB_MUST_CHECK;
int  mbh5_read_stream(struct mbh5_file *f, size_t rec, int stream, size_t start, size_t n,
                      float *out /* [n x S] */, uint8_t *valid /* [n] or NULL */) MB_MUST_CHECK;
/* Same as doubles: exact for f64 streams, widened for float32 ones. */
int  mbh5_read_stream_f64(struct mbh5_file *f, size_t rec, int stream, size_t start, size_t n,
                          double *out /* [n x S] */, uint8_t *valid /* [n] or NULL */) MB_MUST_CHECK;

/* ---- validation --------------------------------------------------------- */

/* Deep check of a unified file: shapes, label ranges, segment bounds,
 * NaN/Inf in EMG and streams, monotonic time, dangling references.
 * Prints one line per problem to 'report' (if not NULL) and returns the
 * number of problems (0 = valid), or a negative code if the file cannot be
 * opened at all. */
long mbh5_validate(const char *path, FILE *report);

#endif
