/* converters/converter.h - the converter interface and registry.
 *
 * A converter reads a source corpus folder exactly as it is distributed and
 * writes one unified file (format/mbh5.h).
 *
 * Adding a dataset:
 *   1. write converters/conv_<name>.c ending in
 *        const struct mb_converter conv_<name> = { .name = ..., ... };
 *      everything else in the file static;
 *   2. add the extern and &conv_<name> to converters/registry.c, strongest
 *      probe first;
 *   3. add tests/test_conv_<name>.c (real files from $MB_REAL_DATA where
 *      they exist, synthetic ones from synth/ otherwise, and error paths).
 * The Makefile picks up new files by itself.
 */
#ifndef MB_CONVERTERS_CONVERTER_H
#define MB_CONVERTERS_CONVERTER_H

#include <stddef.h>

#include "core/err.h"

struct mb_convert_opts {
    const char *src;               /* source folder */
    const char *out;               /* output unified file */
    const char *spec;              /* spec YAML (spec converter), NULL otherwise */
    int threads;                   /* -j N: OpenMP threads across source files; output identical for any N */
    int keep_going;                /* skip bad files, list them, fail at the end */
    int limit_subjects;            /* 0 = all; else the first N subjects in sorted order */
    int db;                        /* NinaPro database number, 0 = detect */
    const char *labels;            /* NinaPro label vector: "restimulus" (default) or "stimulus" */
    int allow_nonfinite;           /* keep NaN/Inf samples (reported either way) */
    int allow_truncation;          /* cut per-sample vectors of very different lengths to the shortest */
    int progress;                  /* progress with an ETA on stderr (a line every few seconds when not a terminal) */
    int uncompressed;              /* --compression none: chunked but not deflated (faster, larger) */
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
    /* Converts; MB_OK, or a negative code after reporting with mb_error().
     * Under keep_going, bad files are counted in res->n_skipped and the call
     * still returns MB_OK when at least the rest was written. */
    int (*convert)(const struct mb_convert_opts *opts, struct mb_convert_result *res);
};

/* NULL-terminated table, strongest probe first. */
extern const struct mb_converter *const mb_converters[];

const struct mb_converter *mb_converter_find(const char *name);
/* First converter whose probe accepts 'src', NULL if none does. */
const struct mb_converter *mb_converter_detect(const char *src);

#endif
