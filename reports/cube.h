/* reports/cube.h - the in-memory results cube every report is made from.
 *
 * Rows are methods, columns metrics, and the cube holds one block per
 * (dataset, protocol) pair. A block lists its test subjects; each (method,
 * metric) cell of a block holds either one value per subject, or "n/a" (the
 * method cannot run this protocol: a distinct state, never a number), or
 * "missing" (the method could run it but has no result: its jobs failed or
 * did not finish; the cube keeps the reason), or nothing yet. n/a and
 * missing are never confused: n/a is a property of the method, missing a
 * property of the run, and every writer shows them differently. Every summary in every writer is computed from the
 * per-subject values, so the Markdown, LaTeX, CSV, JSON and SVG outputs show
 * the same numbers (protocols.md §8, §11).
 *
 * Build one with rep_cube_new, rep_cube_add_block and rep_cube_set /
 * rep_cube_set_na / rep_cube_set_missing; analyse it with rep_analyse (reports/analysis.h); write
 * it with reports/table.h and reports/svg.h.
 *
 * Method flags: REP_ORACLE marks an upper bound (e.g. a within-subject
 * model shown beside cross-user methods); oracle rows are shown and
 * summarised but never ranked, tested or marked best.
 */
#ifndef MB_REPORTS_CUBE_H
#define MB_REPORTS_CUBE_H

#include <stddef.h>

#include "core/err.h"

#define REP_NONE ((size_t)-1)

enum rep_state {
    REP_EMPTY = 0,           /* not filled: rep_analyse refuses the cube */
    REP_VALUE,               /* one finite value per subject */
    REP_NA,                  /* the method cannot run this protocol */
    REP_MISSING,             /* no result: jobs failed or did not finish (analysed like REP_NA) */
};

#define REP_ORACLE 1u

struct rep_metric {
    const char *name;        /* key in CSV/JSON, e.g. "bacc" ([A-Za-z0-9_.-]) */
    const char *label;       /* table header, e.g. "BAcc (%)" (plain text; writers escape it) */
    int higher_is_better;
    double scale;            /* tables show value * scale (100 for percent); CSV/JSON keep raw values */
    int decimals;            /* digits after the point in tables and figures (0..6) */
};

struct rep_method {
    char *name;
    char *group;             /* rows of one group are adjacent; LaTeX rules off groups; NULL: none */
    unsigned flags;          /* REP_ORACLE */
};

struct rep_block {
    char *dataset, *protocol;
    size_t n_subjects;
    char **subject;          /* [n_subjects] subject ids, in the order of the values */
    unsigned char *state;    /* [n_methods x n_metrics] enum rep_state */
    double *value;           /* [n_methods x n_metrics x n_subjects] */
    char **reason;           /* [n_methods] why method m's cells are missing; NULL otherwise */
};

struct rep_cube {
    size_t n_methods, n_metrics, n_blocks;
    struct rep_method *method;   /* [n_methods] */
    struct rep_metric *metric;   /* [n_metrics], strings owned by the cube */
    struct rep_block *block;     /* [n_blocks] */
    size_t cap_blocks;
};

/* A cube with the given method names (unique, non-empty) and metric
 * definitions (unique names, scale > 0), no blocks. Copies every string.
 * NULL on error (reported). Free with rep_cube_free (NULL allowed). */
struct rep_cube *rep_cube_new(const char *const *methods, size_t n_methods,
                              const struct rep_metric *metrics, size_t n_metrics);
void rep_cube_free(struct rep_cube *c);

/* Sets method m's group name (NULL for none) and flags. */
int rep_cube_set_method(struct rep_cube *c, size_t m, const char *group, unsigned flags) MB_MUST_CHECK;

/* Appends a (dataset, protocol) block with its subject ids (unique,
 * n_subjects >= 1); *b receives its index. The pair must be new. */
int rep_cube_add_block(struct rep_cube *c, size_t *b, const char *dataset, const char *protocol,
                       const char *const *subjects, size_t n_subjects) MB_MUST_CHECK;

/* Stores the per-subject values of (block b, method m, metric k), in the
 * block's subject order. Values must be finite. */
int rep_cube_set(struct rep_cube *c, size_t b, size_t m, size_t k,
                 const double *values /* [n_subjects] */) MB_MUST_CHECK;

/* Marks every metric of method m in block b as n/a. */
int rep_cube_set_na(struct rep_cube *c, size_t b, size_t m) MB_MUST_CHECK;

/* Marks every metric of method m in block b as missing (no result although
 * the method can run the protocol), with the reason shown in CSV and JSON
 * (copied; NULL or "" reads "no result"). */
int rep_cube_set_missing(struct rep_cube *c, size_t b, size_t m, const char *reason) MB_MUST_CHECK;

/* The word every writer shows for a cell without values: "n/a" for REP_NA,
 * "missing" for REP_MISSING (also the JSON status and the CSV value). */
const char *rep_state_word(enum rep_state s);

/* 1 if some cell of the cube is missing (writers then add a legend line). */
int rep_cube_has_missing(const struct rep_cube *c);

/* Index of a method / metric / block by name, REP_NONE if absent. */
size_t rep_cube_method(const struct rep_cube *c, const char *name);
size_t rep_cube_metric(const struct rep_cube *c, const char *name);
size_t rep_cube_block(const struct rep_cube *c, const char *dataset, const char *protocol);

static inline enum rep_state rep_cube_state(const struct rep_cube *c, size_t b, size_t m, size_t k)
{
    return (enum rep_state)c->block[b].state[m * c->n_metrics + k];
}

/* The n_subjects values of (b, m, k); meaningful when the state is REP_VALUE. */
static inline const double *rep_cube_values(const struct rep_cube *c, size_t b, size_t m, size_t k)
{
    const struct rep_block *bl = &c->block[b];
    return bl->value + (m * c->n_metrics + k) * bl->n_subjects;
}

/* The reason given for method m's missing cells in block b ("no result"
 * when none was given); NULL when the cells are not missing. */
static inline const char *rep_cube_reason(const struct rep_cube *c, size_t b, size_t m)
{
    return c->block[b].reason[m];
}

#endif
