/* baselines/params.h - the "key=value,key=value" parameter strings of the
 * classical baselines (classifier.h). Deliberately tiny: a flat list of
 * numeric keys, each with a closed range and optionally one keyword
 * accepted instead of a number ("shrinkage=auto", "gamma=scale"). It is not
 * a configuration language; plans and specs use libyaml/libcyaml.
 *
 *     double shrink = NAN, reg = 0.1;              // defaults preset by the caller
 *     const struct base_param spec[] = {
 *         { "shrinkage", 0, 1, "auto", 0, &shrink },   // NAN after "auto"
 *         { "reg",       0, 1, NULL,   0, &reg },
 *         { NULL }
 *     };
 *     if (base_params_parse("shrinkage=0.2", spec, "lda")) ...   // MB_EINVAL, key named
 */
#ifndef MB_BASELINES_PARAMS_H
#define MB_BASELINES_PARAMS_H

#include "core/err.h"

struct base_param {
    const char *key;
    double lo, hi;            /* accepted closed range of numbers */
    const char *word;         /* keyword accepted instead of a number (stored as NAN), or NULL */
    int integer;              /* 1: the number must be a whole number */
    double *val;              /* in: default (left alone when the key is absent); out: value */
};

/* Parses 'params' (NULL or "" = all defaults) against the NULL-key-terminated
 * 'spec'. Spaces around keys and values are ignored. Unknown keys, repeated
 * keys, empty items, missing '=', non-numbers, numbers out of range and
 * non-integers for integer keys are MB_EINVAL, reported once with 'model'
 * and the key (and the known keys, for an unknown one). On error no value
 * has been changed. */
int base_params_parse(const char *params, const struct base_param *spec, const char *model) MB_MUST_CHECK;

#endif
