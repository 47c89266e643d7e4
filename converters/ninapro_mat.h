/* converters/ninapro_mat.h - reader of one NinaPro MAT file (formats.md §3),
 * kept apart from the converter so tests and the fuzz target can use it
 * without the unified writer.
 *
 * What it knows:
 *   - the per-database facts (rate, device, exercises and their sizes,
 *     label numbering, repetition split) as a static table, conv_np_db();
 *   - the file-name patterns of DB1-DB8, conv_np_parse_name();
 *   - how to load one file through libmatio (MAT v5, compressed or not, and
 *     v7.3 when matio was built with HDF5): emg, the label and repetition
 *     vectors, every other per-sample matrix (glove, acc, ...) as a stream,
 *     and small scalars / strings as tags; with the quirks of §3.1-§3.3
 *     handled (length mismatch, global label numbering, the old DB2
 *     exercise-3 coding, missing restimulus) and each one reported as a
 *     warning carried with the file.
 *
 * Signals stay in matio's buffers (column-major, the file's class) until
 * the caller asks for a block of rows, so a file costs about its own
 * uncompressed size in memory, not a second copy in doubles.
 *
 * Thread safety: v5 files are read with zlib only and may be loaded from
 * several threads; v7.3 files go through HDF5 and are serialised by a lock
 * inside the reader.
 */
#ifndef MB_CONVERTERS_NINAPRO_MAT_H
#define MB_CONVERTERS_NINAPRO_MAT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define CONV_NP_MAX_DB 8
#define CONV_NP_MAX_EX 3

/* How a database numbers its movements inside exercise files. */
enum conv_np_numbering {
    CONV_NP_LOCAL,     /* restarts at 1 in every exercise (DB1): add the exercise offset */
    CONV_NP_GLOBAL,    /* already global (DB2) */
    CONV_NP_AUTO,      /* reported global, unverified (DB3-DB5, DB7): decided per file from the range */
    CONV_NP_OBSERVED,  /* no known table (DB6): the stored values are the ids */
};

struct conv_np_db {
    int db;                        /* 1..8 */
    double rate_hz;                /* EMG rate when the file has no 'frequency' */
    int n_exercises;
    int ex_size[CONV_NP_MAX_EX];   /* movements per exercise (rest excluded); 0 = unknown */
    enum conv_np_numbering numbering;
    const char *train_reps;        /* standard repetition split (formats.md §3.4), "" if none */
    const char *test_reps;
    /* device (formats.md §3.2) */
    const char *device;            /* unique key, e.g. "otto-bock-13e200" */
    const char *manufacturer, *model;
    const char *units;             /* of the stored EMG */
    double scale;                  /* stored * scale = volts, 0 unknown */
    const char *hw_filters, *sw_filters;
    double power_line_hz;
    const char *dataset;           /* e.g. "NinaPro DB1 (Atzori et al., Scientific Data 2014)" */
};

/* Facts of database 'db' (1..8); NULL otherwise. */
const struct conv_np_db *conv_np_db(int db);
/* Offset added to a movement of exercise 'ex' (1-based) to make it global. */
int conv_np_ex_offset(const struct conv_np_db *d, int ex);
/* Movements of all exercises together (the vocabulary size without rest). */
int conv_np_n_movements(const struct conv_np_db *d);

/* What a file name says. Fields the pattern lacks are -1. */
struct conv_np_name {
    int db_hint;       /* from a "DB<k>_s<N>" folder, -1 if none */
    int subject;       /* S<N> */
    int exercise;      /* E<e> */
    int acquisition;   /* A<a> */
    int day, time;     /* DB6 D<day>_T<t> */
    int style;         /* CONV_NP_NAME_* below */
};
enum {
    CONV_NP_NAME_S_A_E = 1,  /* S<N>_A<a>_E<e>.mat: DB1, DB3 */
    CONV_NP_NAME_S_E_A,      /* S<N>_E<e>_A<a>.mat: DB2, DB4, DB5, DB7, DB8 */
    CONV_NP_NAME_S_D_T,      /* S<N>_D<day>_T<t>.mat: DB6 */
};
/* Parses the base name of 'rel' (and a DB<k>_s<N> folder on the way).
 * Returns 1 if it matches a NinaPro pattern, 0 if not. Case-insensitive. */
int conv_np_parse_name(struct conv_np_name *out, const char *rel);

/* Cheap look at a file without reading its samples: shape of 'emg' (0 x 0
 * if absent), the 'frequency' scalar (0 if absent), whether 'restimulus'
 * and 'stimulus' exist. MB_OK or MB_EMAT/MB_EIO (reported). */
struct conv_np_peek {
    size_t emg_rows, emg_cols;
    double frequency;
    int has_restimulus, has_stimulus;
    int n_glove;       /* columns of 'glove', 0 if absent */
    int v73;           /* 1: MAT 7.3 (HDF5) */
};
int conv_np_peek(struct conv_np_peek *out, const char *path, int quiet) MB_MUST_CHECK;

/* One auxiliary per-sample matrix: glove, acc, inclin, force, gyro, ... */
struct conv_np_stream {
    char *name;
    size_t cols;
    int f64;           /* 1: class double (stored exactly), 0: single or integers */
    void *var;         /* matvar_t, private */
};

struct conv_np_tag { char *key, *value; };

struct conv_np_load_opts {
    const struct conv_np_db *db;
    int exercise;              /* from the file name; -1 unknown (DB6) */
    int use_stimulus;          /* 1: 'stimulus' + 'repetition'; 0: 'restimulus' + 'rerepetition' */
    int allow_nonfinite;       /* keep NaN/Inf (a warning) instead of failing */
    int allow_truncation;      /* cut vectors of very different lengths (a warning) instead of failing */
};

struct conv_np_file {
    char *path;                /* name used in messages, owned */
    int v73;
    size_t n;                  /* samples kept (shortest of emg and label vectors) */
    int n_channels;            /* C */
    double rate_hz;            /* from 'frequency' if present, else the database table */
    int has_frequency;
    int subject_var, exercise_var;  /* the 'subject' / 'exercise' scalars, -1 if absent */
    int32_t *labels;           /* [n] global gesture ids, 0 = rest */
    int32_t *reps;             /* [n] source repetition numbers (0 = rest), -1 when the file has none */
    const char *label_var;     /* variable the labels came from ("restimulus", "stimulus") */
    const char *rep_var;       /* "rerepetition", "repetition" or NULL */
    size_t n_streams;
    struct conv_np_stream *streams;
    size_t n_tags;             /* scalar and string variables: age, gender, sensor, ... */
    struct conv_np_tag *tags;
    char **warn;               /* [n_warn] warnings in the order met, each naming the file */
    size_t n_warn;
    size_t n_nonfinite;        /* NaN/Inf kept under allow_nonfinite */
    void *emg;                 /* matvar_t, private */
};

/* Loads 'path' (named 'shown' in messages). Errors name the file and the
 * variable: MB_EIO (cannot open), MB_EMAT (not a MAT file, truncated or
 * corrupt, missing 'emg' or both label vectors, wrong shape or class),
 * MB_EFORMAT (a label outside its exercise's range), MB_ENUM (NaN/Inf
 * without allow_nonfinite), MB_ENOMEM. On error *f is released. */
int  conv_np_load(struct conv_np_file *f, const char *path, const char *shown,
                  const struct conv_np_load_opts *o) MB_MUST_CHECK;
void conv_np_release(struct conv_np_file *f);

/* Rows [start, start+n) of the EMG as float32, out [n x C] row-major. */
void conv_np_emg_rows(const struct conv_np_file *f, size_t start, size_t n, float *out);
/* Rows [start, start+n) of stream k as doubles, out [n x cols] row-major. */
void conv_np_stream_rows(const struct conv_np_file *f, size_t k, size_t start, size_t n, double *out);

#endif
