/* core/params.h - typed parameter tables.
 *
 * A method, a classifier or a protocol declares its parameters once, as a
 * static table (key, type, default, range, one line of documentation) over
 * a struct of its own; "key=value,key=value" text from a plan or the
 * command line is parsed into that struct once, when the plan is loaded,
 * and every error names the owner and the key. The canonical text of the
 * parsed values (every key in table order, numbers in their shortest exact
 * form) is what job keys hold, so "k=5" and "" (k defaults to 5) are one
 * job.
 *
 *     struct knn_hp { long k; };
 *     static const struct mb_param knn_params[] = {
 *         { "k", MB_PT_INT, offsetof(struct knn_hp, k), 5, 1, 1000, NULL, "neighbours" },
 *         MB_PARAM_END
 *     };
 *     struct knn_hp hp;
 *     if (mb_params_parse(&hp, knn_params, "k=7", "knn")) ...   // MB_EINVAL, key named
 *
 * It is not a configuration language: plans and specs are YAML (libyaml).
 */
#ifndef MB_CORE_PARAMS_H
#define MB_CORE_PARAMS_H

#include <stddef.h>
#include <stdio.h>

#include "core/err.h"

enum mb_ptype {
    MB_PT_INT,    /* long; a whole number in [lo, hi] */
    MB_PT_REAL,   /* double; a finite number in [lo, hi], or the keyword (stored as NAN) */
    MB_PT_BOOL,   /* int; 0 or 1 */
};

struct mb_param {
    const char *key;
    enum mb_ptype type;
    size_t off;          /* offsetof the value in the owner's struct */
    double def;          /* default; NAN = the keyword (MB_PT_REAL with word) */
    double lo, hi;       /* closed range of numbers (INT, REAL) */
    const char *word;    /* keyword accepted instead of a number (REAL only), or NULL */
    const char *doc;     /* one line, for 'myobench methods NAME' */
};

#define MB_PARAM_END { NULL, MB_PT_INT, 0, 0, 0, 0, NULL, NULL }

/* Number of entries before the terminator (0 for a NULL table). */
size_t mb_params_count(const struct mb_param *t);

/* Writes every default of t into vals. */
void mb_params_defaults(void *vals, const struct mb_param *t);

/* Parses 'text' (NULL or blank: all defaults) into vals, which first gets
 * the defaults. Spaces around keys and values are ignored. Unknown keys
 * (the known ones are listed), repeated keys, empty items, a missing '=',
 * non-numbers, numbers out of range and non-integers for integer keys are
 * MB_EINVAL, reported once naming 'owner' and the key. On error vals holds
 * the defaults. */
int mb_params_parse(void *vals, const struct mb_param *t, const char *text, const char *owner) MB_MUST_CHECK;

/* Canonical text of vals: "key=value" for every key of t in table order,
 * joined by ','. Integers in decimal, booleans 0/1, reals in the shortest
 * form that reads back to the same double, the keyword for NAN. Returns
 * the length the whole text needs (like snprintf), so a NULL/0 buffer
 * sizes it. */
size_t mb_params_text(char *buf, size_t cap, const struct mb_param *t, const void *vals);

/* The same text, malloc'ed (NULL after reporting when out of memory). */
char *mb_params_text_dup(const struct mb_param *t, const void *vals);

/* The table as aligned text lines: key, type and range, default, doc. */
void mb_params_print(FILE *f, const struct mb_param *t);

#endif
