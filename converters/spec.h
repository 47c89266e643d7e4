/* converters/spec.h - the declarative converter's spec (a YAML file naming
 * the file pattern, container, columns, rate, scaling, labels and device of
 * a corpus) and the readers it drives. docs/SPEC.md describes every field;
 * converters/specs/ holds the shipped specs.
 *
 *     struct spec *s;
 *     spec_load(&s, "converters/specs/myo_readings.yaml");   // parse + check
 *     struct spec_match m;
 *     if (spec_match_path(s, md, "_readings_right_hand/10000-1/1.txt", &m) == 1) ...
 *     struct spec_table t;
 *     spec_read_file(&t, s, "/data/.../1.txt", &ropts);       // samples, mapped labels
 *     spec_regularise(&t, s, "/data/.../1.txt");               // time column -> uniform grid
 *     ...
 *     spec_table_release(&t);
 *     spec_free(s);
 *
 * Everything in a loaded spec is read-only, so one spec serves all threads;
 * matching needs one match-data block per thread (spec_match_data_new).
 * Errors name the spec file and the line of the offending key, or the data
 * file with its line and column.
 */
#ifndef MB_CONVERTERS_SPEC_H
#define MB_CONVERTERS_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "converters/converter.h"
#include "core/err.h"

enum spec_container { SPEC_CSV, SPEC_WHITESPACE, SPEC_MAT, SPEC_HDF5 };
enum spec_label_source { SPEC_LABELS_NONE, SPEC_LABELS_COLUMN, SPEC_LABELS_FILENAME };
enum spec_mismatch { SPEC_MISMATCH_WARN, SPEC_MISMATCH_ERROR, SPEC_MISMATCH_IGNORE };
enum spec_orientation { SPEC_SAMPLES_BY_CHANNELS, SPEC_CHANNELS_BY_SAMPLES };

/* A column: by 0-based index (negative counts from the end: -1 is the last
 * field of the row) or by the name it has in the last header line. */
struct spec_col {
    int by_name;
    long index;
    char *name;
};

/* The EMG columns: a list, or an inclusive range whose ends may be
 * negative (resolved per file once the row width is known). */
struct spec_cols {
    int is_range;
    long from, to;                 /* range ends */
    size_t n;                      /* list */
    struct spec_col *cols;         /* [n] */
};

struct spec_label {
    char *raw;                     /* canonical raw value (see spec_canon_label) */
    int32_t id;                    /* global gesture id, >= 0; MBH5_UNLABELLED for unlabelled values */
    char *name;
};

struct spec_kv { char *key, *value; };

struct spec {
    char *path;                    /* spec file, for messages */
    char sha256[65];               /* of the spec text */
    char *text;                    /* the whole spec text (recorded in the output) */

    char *name;                    /* corpus name */
    char *dataset;                 /* source dataset; default = name */
    char *version;                 /* source version; "" if unknown */

    /* files */
    char *pattern;                 /* PCRE2 over the path relative to SRC_DIR */
    void *re;                      /* compiled pattern (pcre2_code *) */
    size_t n_defaults;
    struct spec_kv *defaults;      /* group -> value when the pattern does not set it */

    /* format (the container) */
    enum spec_container container;
    char delimiter;                /* csv */
    size_t header_lines;           /* csv, whitespace: rows skipped before the data */
    char comment;                  /* csv, whitespace: 0 = none */
    char *var_emg, *var_label, *var_time;   /* mat, hdf5: variable / dataset path */
    enum spec_orientation orientation;      /* mat, hdf5 */

    /* columns (text) or channel selection inside the EMG matrix (mat, hdf5) */
    struct spec_cols emg;          /* n == 0 and !is_range: every column of the matrix */
    int has_label_col, has_time_col;
    struct spec_col label_col, time_col;

    /* sampling */
    double rate_hz;                /* nominal rate, 0 = estimate from the time column */
    double time_to_s;              /* factor from the time column's unit to seconds */
    double tolerance;              /* a step is irregular when |step - 1/rate| > tolerance / rate */

    /* values */
    int value_int;                 /* 1: every EMG value must be an integer */
    char *units;                   /* units of the stored values */
    double scale;                  /* stored * scale = volts; 0 = unknown */

    /* labels */
    enum spec_label_source label_source;
    int identity;                  /* map: identity - raw integer v >= 0 is gesture v */
    size_t n_labels;
    struct spec_label *labels;     /* [n_labels], map and unlabelled values */
    enum spec_mismatch mismatch;
    size_t n_allowed;
    int32_t *allowed;              /* [n_allowed] ids a column may hold besides the file's gesture */

    /* device */
    char *dev_name, *dev_manufacturer, *dev_model;
    int dev_channels;              /* 0 = the number of EMG columns */
    double dev_rate_hz;            /* 0 = sampling.rate_hz (or the first file's estimate) */
    int dev_adc_bits;
    char *dev_hw_filters, *dev_sw_filters;
    double dev_power_line_hz;
    size_t n_channel_names;
    char **channel_names;          /* [n_channel_names]; 0 = default names */

    char **notes;                  /* spec-level notes copied into the output */
    size_t n_notes;
};

/* Parses and checks a spec. Unknown keys, wrong types, missing required keys
 * and inconsistent combinations are errors naming the spec file and line. */
int  spec_load(struct spec **out, const char *path) MB_MUST_CHECK;
/* Same from memory; 'name' is used in messages. */
int  spec_parse(struct spec **out, const char *name, const char *text, size_t len) MB_MUST_CHECK;
void spec_free(struct spec *s);

/* Canonical text of a raw label: numbers with an integral value print as
 * "%lld" (so "1", "1.0" and "01" agree), anything else is kept trimmed.
 * Writes at most cap bytes (NUL included). */
void spec_canon_label(char *out, size_t cap, const char *raw, size_t len);

/* Global id of a raw label: MB_OK and *id (MBH5_UNLABELLED for the
 * unlabelled values), or MB_EFORMAT (no message) when it is outside the map. */
int  spec_label_lookup(const struct spec *s, const char *raw, size_t len, int32_t *id);
/* Name of gesture 'id' ("label <id>" under the identity map; caller's buffer). */
const char *spec_label_name(const struct spec *s, int32_t id, char *buf, size_t cap);

/* ---- file names --------------------------------------------------------- */

/* What a file's path says about it. Strings are malloc'ed. */
struct spec_match {
    char *subject;                 /* never NULL */
    char *session;                 /* "" if none */
    char *side;                    /* "left", "right" or "" */
    int day;                       /* -1 if none */
    int repetition;                /* -1 if none */
    char *gesture;                 /* raw text of group 'gesture', NULL if none */
    size_t n_tags;
    struct spec_kv *tags;          /* other named groups and defaults, by name */
};

void *spec_match_data_new(const struct spec *s);   /* one per thread; NULL on allocation failure */
void  spec_match_data_free(void *md);
/* 1 and *m filled when 'rel' matches, 0 when not, <0 on error (a group
 * value that does not parse: day, repetition, side; message names 'rel'). */
int   spec_match_path(const struct spec *s, void *md, const char *rel, struct spec_match *m) MB_MUST_CHECK;
void  spec_match_release(struct spec_match *m);

/* ---- readers ------------------------------------------------------------ */

struct spec_read_opts {
    int allow_nonfinite;           /* keep NaN/Inf (warned) instead of failing */
    int allow_truncation;          /* cut vectors of very different lengths (warned) instead of failing */
    int has_file_gesture;          /* 1: the file name gives a gesture ... */
    int32_t file_gesture;          /* ... with this global id */
};

/* One file's samples, labels mapped to global ids. */
struct spec_table {
    size_t n, C;
    float *emg;                    /* [n x C] */
    int32_t *labels;               /* [n], NULL when the spec has no label column */
    double *time;                  /* [n] seconds, NULL without a time column */
    double rate_hz;                /* after spec_regularise */
    size_t n_warn;
    char **warn;                   /* [n_warn] quirks met, for mb_warn + a note */
};

/* Reads a source file in the spec's container. 'path' is used for opening
 * and in messages. */
int  spec_read_file(struct spec_table *t, const struct spec *s, const char *path,
                    const struct spec_read_opts *o) MB_MUST_CHECK;
/* Reads delimited or whitespace-separated text from memory. */
int  spec_read_text(struct spec_table *t, const struct spec *s, const char *path,
                    const char *buf, size_t len, const struct spec_read_opts *o) MB_MUST_CHECK;
/* Sets t->rate_hz. With a time column: estimates the rate (median step),
 * and when steps are irregular (or off the nominal rate) resamples EMG
 * linearly and labels nearest-previous onto a uniform grid, adding a
 * warning with the estimated rate, the irregular steps and the largest gap.
 * Time going backwards is an error naming the file and the sample. */
int  spec_regularise(struct spec_table *t, const struct spec *s, const char *path) MB_MUST_CHECK;
void spec_table_release(struct spec_table *t);

/* Adds a formatted warning to t (for quirks met while reading). */
int  spec_table_warn(struct spec_table *t, const char *fmt, ...) MB_PRINTF(2, 3);

/* ---- the converters (converters/conv_spec.c) ------------------------------ */

extern const struct mb_converter conv_spec, conv_sh2024;

/* mb_convert_opts.conv_opts of 'convert spec' and 'convert sh2024'; zero
 * is every default. */
struct conv_spec_opts {
    const char *spec;              /* SPEC (spec converter only): a spec file or a spec's name */
    int allow_truncation;          /* --allow-truncation: cut vectors of very different lengths to
                                    * the shortest instead of failing */
};

/* ---- finding specs (converters/conv_spec.c) ----------------------------- */

/* A spec shipped in converters/specs/, compiled into the library by the
 * Makefile, so a copy of the binary needs no spec folder beside it. */
struct spec_shipped {
    const char *name;              /* file name without ".yaml", e.g. "myo_readings" */
    const char *text;              /* the YAML, NUL-terminated */
    size_t len;                    /* bytes of text */
};

/* The i-th shipped spec in name order; NULL past the last. */
const struct spec_shipped *conv_spec_shipped(size_t i);

/* Loads the spec an argument names: an existing file, or any path with a
 * '/', is read as is; a bare name ("myo_readings", "sh2024.yaml") is
 * looked up in the folders of $MYOBENCH_SPECS (':'-separated), then among
 * the shipped specs. When nothing is found the error lists every place
 * tried. Free *out with spec_free(). */
int conv_spec_load(struct spec **out, const char *arg) MB_MUST_CHECK;

/* 1 if 'convert auto' tries the shipped spec 'name', 0 for a template of
 * assumptions (sh2024: its assumed layout, <folder>/<file>.csv, fits many
 * corpora; it runs only when asked for by name). */
int conv_spec_auto_tries(const char *name);

/* A shipped spec that fits a folder: its pattern matches n_matched of the
 * folder's n_files files. */
struct conv_spec_fit {
    const char *name;              /* borrowed from the shipped table */
    size_t n_matched, n_files;
};

/* The shipped specs 'convert auto' tries (conv_spec_auto_tries) that fit
 * folder src (each loaded
 * as conv_spec_load would for its name): those whose pattern matches at
 * least one file under it. fit has room for every shipped spec; *n_fit
 * receives how many fit, in name order. MB_OK (also when none fits), or an
 * error listing the folder or loading a spec. */
int conv_spec_detect(struct conv_spec_fit *fit, size_t *n_fit, const char *src) MB_MUST_CHECK;

#endif
