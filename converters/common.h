/* converters/common.h - what every converter needs: a sorted walk of the
 * source folder, an ordered parallel pipeline (load files in parallel,
 * write them serially in a fixed order, so the output is identical for any
 * -j), keep-going bookkeeping, a progress line, and small header-keyed CSV
 * tables (emg2pose's metadata.csv and the like).
 */
#ifndef MB_CONVERTERS_COMMON_H
#define MB_CONVERTERS_COMMON_H

#include <stddef.h>

#include "converters/converter.h"
#include "format/mbh5.h"

/* ---- per-sample vectors of different lengths --------------------------- */

/* A file whose per-sample vectors (EMG, labels, repetitions, time, other
 * signals) differ in length is cut to the shortest. Cutting at most
 * CONV_TRUNC_MAX_ROWS samples, or CONV_TRUNC_MAX_FRAC of the longest vector
 * when that is more, is a warning (the off-by-a-few ends that loaders such
 * as LibEMG cut silently; about 1 s of a NinaPro recording); cutting more
 * loses real data and is an error unless the user passes --allow-truncation
 * (docs/CONVERTERS.md). */
#define CONV_TRUNC_MAX_ROWS 10
#define CONV_TRUNC_MAX_FRAC 0.001

/* Samples that may be cut from a longest vector of 'longest' samples. */
static inline size_t conv_trunc_allowed(size_t longest)
{
    size_t frac = (size_t)((double)longest * CONV_TRUNC_MAX_FRAC);
    return frac > CONV_TRUNC_MAX_ROWS ? frac : CONV_TRUNC_MAX_ROWS;
}

/* ---- folder walk -------------------------------------------------------- */

struct conv_files {
    size_t n;
    char **rel;            /* [n] paths relative to the root, sorted bytewise (strcmp) */
};

/* mbh5_create with the options' compression applied, so every converter
 * honours --compression the same way. */
int conv_create_output(struct mbh5_writer **w, const struct mb_convert_opts *o,
                       const struct mbh5_corpus *corpus) MB_MUST_CHECK;

/* Lists the regular files under 'root' (recursively; hidden files and
 * folders skipped) whose names end in 'suffix' (case-insensitive; NULL for
 * all). An empty result is not an error. */
int  conv_list_files(struct conv_files *out, const char *root, const char *suffix) MB_MUST_CHECK;
void conv_files_release(struct conv_files *f);

/* Joins root and rel into a malloc'ed path; NULL on allocation failure. */
char *conv_join(const char *root, const char *rel);

/* Fills src->path (borrowed 'rel'), sha256 and bytes for root/rel.
 * Thread-safe: may be called from a pipeline's load step. */
int  conv_hash_source(struct mbh5_source *src, const char *root, const char *rel) MB_MUST_CHECK;

/* ---- ordered parallel pipeline ----------------------------------------- */

struct conv_pipeline {
    size_t n;              /* work items, e.g. source files */
    /* Parallel step: reads item i into a private *item. Must not call HDF5
     * unless the HDF5 build is thread-safe (Debian's is; calls serialise).
     * Reports its own errors with mb_error and returns <0. */
    int  (*load)(void *ctx, size_t i, void **item);
    /* Serial step, called in index order: writes the item. An error here
     * aborts the whole conversion whatever keep_going says. */
    int  (*write)(void *ctx, size_t i, void *item);
    void (*drop)(void *ctx, void *item);   /* frees an item (NULL allowed) */
    /* Optional: names item i for the skipped-file list and progress line. */
    const char *(*name)(void *ctx, size_t i);
    void *ctx;
    int threads;           /* items loaded at once (memory bound: threads items) */
    int keep_going;        /* a failed load is listed and skipped instead of fatal */
    int progress;          /* progress on stderr with an ETA (core/progress.h: in place on a terminal, else a line every few seconds) */
    const char *what;      /* e.g. "emg2pose" */
    /* Optional: under keep_going, each skipped item is noted here with the
     * reason its load gave ("--keep-going: skipped 'x.mat': <error>"), so
     * the output says what it lacks and why. */
    struct mbh5_writer *notes;
};

/* Runs the pipeline. Counts files and skips into res. Returns MB_OK, or the
 * first error (a load error without keep_going, or any write error). */
int conv_run_pipeline(const struct conv_pipeline *p, struct mb_convert_result *res) MB_MUST_CHECK;

/* ---- small CSV tables with a header row ------------------------------- */

struct conv_csv {
    char *path;            /* for messages */
    size_t n_cols, n_rows;
    char **header;         /* [n_cols] */
    char **cells;          /* [n_rows x n_cols] row-major; never NULL ("" for empty) */
};

/* Reads a whole comma-separated file with a header row (libcsv, strict
 * quoting). A row with a different number of fields than the header is an
 * error naming the file and the 1-based line. */
int  conv_csv_read(struct conv_csv *t, const char *path) MB_MUST_CHECK;
void conv_csv_release(struct conv_csv *t);
/* Column index of 'name', -1 if absent. */
int  conv_csv_col(const struct conv_csv *t, const char *name);
static inline const char *conv_csv_cell(const struct conv_csv *t, size_t row, int col)
{
    return t->cells[row * t->n_cols + (size_t)col];
}

#endif
