/* converters/converter.h - the converter interface and registry.
 *
 * A converter reads a source corpus folder exactly as it is distributed and
 * writes one unified file (format/mbh5.h).
 *
 * Adding a dataset (docs/CONVERTERS.md, "Adding a converter"):
 *   1. write converters/conv_<name>.c ending in
 *        const struct mb_converter conv_<name> = { .name = ..., ... };
 *      everything else in the file static. Options only this converter
 *      takes go in its own options struct, declared in a static
 *      mb_conv_opt table in the same file (.options, .opts_size); a
 *      positional argument before SRC_DIR in .arg. The CLI parses them from
 *      the table and lists them under the converter in 'convert --help';
 *   2. add the extern and &conv_<name> to converters/registry.c, strongest
 *      probe first;
 *   3. add tests/test_conv_<name>.c (real files from $MB_REAL_DATA where
 *      they exist, synthetic ones from synth/ otherwise, and error paths).
 * The Makefile picks up new files by itself; cli/cmd_convert.c needs no
 * change (it names no converter).
 */
#ifndef MB_CONVERTERS_CONVERTER_H
#define MB_CONVERTERS_CONVERTER_H

#include <stddef.h>
#include <stdio.h>

#include "core/err.h"

/* What every converter takes ('convert --help', "options of every converter"). */
struct mb_convert_opts {
    const char *src;               /* source folder */
    const char *out;               /* output unified file */
    int threads;                   /* -j N: OpenMP threads across source files; output identical for any N */
    int keep_going;                /* skip bad files, list them, fail at the end */
    int limit_subjects;            /* 0 = all; else the first N subjects in sorted order */
    int allow_nonfinite;           /* keep NaN/Inf samples (reported either way); every converter checks */
    int progress;                  /* progress with an ETA on stderr (a line every few seconds when not a terminal) */
    int uncompressed;              /* --compression none: chunked but not deflated (faster, larger) */
    /* The converter's own options struct (its .options table's offsets point
     * into it, .opts_size bytes), or NULL: every own option at its default,
     * which is the struct's zero value. */
    const void *conv_opts;
};

/* ---- options a converter declares --------------------------------------- */

/* How the CLI reads an option's value into the converter's struct. */
enum mb_conv_opt_type {
    MB_CONV_OPT_FLAG,              /* no value; sets an int to 1 */
    MB_CONV_OPT_INT,               /* a whole number in [min, max] into an int */
    MB_CONV_OPT_CHOICE,            /* one of choices[] into a const char * (the argv string) */
    MB_CONV_OPT_STRING,            /* any text into a const char * (the argv string) */
};

/* One "--name [VALUE]" option of one converter. Tables end with a zeroed
 * entry (name NULL). Two converters may declare the same name (each with
 * its own meaning and help), with the same type; no converter may declare
 * an option of every converter (out, jobs, keep-going, ...). A test walks
 * the registry for both rules (tests/test_conv_common.c). */
struct mb_conv_opt {
    const char *name;              /* long option without the dashes: "db" */
    enum mb_conv_opt_type type;
    const char *metavar;           /* the value in the help: "N"; NULL for a flag */
    const char *help;              /* one line; '\n' starts a continuation line */
    size_t offset;                 /* offsetof(<converter's options struct>, field) */
    long min, max;                 /* MB_CONV_OPT_INT: accepted range */
    const char *const *choices;    /* MB_CONV_OPT_CHOICE: accepted values, NULL-terminated */
};

/* A positional argument a converter takes before SRC_DIR (spec: SPEC). */
struct mb_conv_arg {
    const char *name;              /* in the usage: "SPEC" */
    const char *help;              /* one line */
    size_t offset;                 /* offsetof(<converter's options struct>, const char * field) */
};

/* A value of a converter's positional argument that 'convert auto' found to
 * fit a folder. */
struct mb_conv_auto {
    const char *arg;               /* static (e.g. a shipped spec's name) */
    char say[2048];                /* one sentence for the user: what was chosen and why, what was
                                    * tried, or why nothing could be chosen */
};

/* What a conversion did, for the CLI's summary and exit status. */
struct mb_convert_result {
    size_t n_files;                /* source files converted */
    size_t n_recordings;
    size_t n_skipped;              /* bad files skipped under --keep-going */
    size_t n_warnings;
};

struct mb_converter {
    const char *name;              /* CLI name: "emg2pose", "ninapro", "spec", ... */
    const char *summary;           /* one line for 'myobench convert --help' */
    /* 1 if this converter recognises the folder, 0 if not. Cheap. NULL: never auto-chosen. */
    int (*probe)(const char *src);
    /* With a probe: the folders it recognises, for the message of 'convert
     * auto' when none does ("a NinaPro folder (MAT files with ...)"). */
    const char *recognises;
    /* Converts; MB_OK, or a negative code after reporting with mb_error().
     * Under keep_going, bad files are counted in res->n_skipped and the call
     * still returns MB_OK when at least the rest was written. */
    int (*convert)(const struct mb_convert_opts *opts, struct mb_convert_result *res);
    /* Options only this converter takes, parsed into its own struct of
     * opts_size bytes (opts->conv_opts); NULL and 0 when it has none. */
    const struct mb_conv_opt *options;
    size_t opts_size;
    /* A positional argument before SRC_DIR, or NULL. */
    const struct mb_conv_arg *arg;
    /* Optional, with .arg: the second round of 'convert auto', when no
     * probe recognised src. 1: one value fits, in a->arg; 0: none does;
     * a negative code: several do, or an error. a->say is set in every case
     * (empty after an error already reported with mb_error()). */
    int (*auto_arg)(struct mb_conv_auto *a, const char *src, const char *out);
    /* Optional: more lines for 'convert --help' after its options (the
     * spec converter lists the shipped specs). */
    void (*help)(FILE *fp);
};

/* NULL-terminated table, strongest probe first. */
extern const struct mb_converter *const mb_converters[];

const struct mb_converter *mb_converter_find(const char *name);
/* First converter whose probe accepts 'src', NULL if none does. */
const struct mb_converter *mb_converter_detect(const char *src);

/* The entry of c's option table named 'name' (no dashes), NULL if c does
 * not declare it. */
const struct mb_conv_opt *mb_converter_option(const struct mb_converter *c, const char *name);

#endif
