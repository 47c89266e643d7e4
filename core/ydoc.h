/* core/ydoc.h - reading a YAML document (libyaml's loader) against a fixed
 * schema, with every error naming the file, the line and the key. Used by
 * the spec converter (converters/spec.c) and the run plans (harness/plan.c).
 *
 *     struct mb_ydoc d = { .path = path };          // d.doc loaded by the caller
 *     struct mb_ykey k[] = { { "name" }, { "rate_hz" } };
 *     if ((rc = mb_ymap(&d, root, "plan", k, 2))) ...   // unknown or repeated keys are errors
 *     if (k[1].val && (rc = mb_ynum(&d, k[1].val, "rate_hz", 0, 1e6, &rate))) ...
 *
 * A key written with no value ("key:") counts as absent. Messages:
 * "'<path>' line <n>: '<what>' must be ..., got '<text>'".
 */
#ifndef MB_CORE_YDOC_H
#define MB_CORE_YDOC_H

#include <stddef.h>
#include <yaml.h>

#include "core/err.h"

struct mb_ydoc {
    yaml_document_t doc;
    const char *path;
};

struct mb_ykey {
    const char *name;
    yaml_node_t *val;              /* NULL if absent */
    size_t line;                   /* line of the key */
};

yaml_node_t *mb_ynode(struct mb_ydoc *d, int i);
size_t mb_yline(const yaml_node_t *n);                 /* 1-based */
const char *mb_ytype(const yaml_node_t *n);            /* "a scalar", "a list", ... */
int mb_yis_null(const yaml_node_t *n);
/* Fills keys[i].val (and .line) from a mapping node; an unknown key, a
 * repeated key or a non-mapping is MB_EFORMAT. 'where' names the section. */
int mb_ymap(struct mb_ydoc *d, yaml_node_t *map, const char *where, struct mb_ykey *keys, size_t nk) MB_MUST_CHECK;
yaml_node_t *mb_yget(struct mb_ykey *keys, size_t nk, const char *name);   /* NULL if absent */
int mb_yrequire(struct mb_ydoc *d, yaml_node_t *map, const char *where, struct mb_ykey *keys, size_t nk,
                const char *name) MB_MUST_CHECK;
int mb_yscalar(struct mb_ydoc *d, yaml_node_t *n, const char *what, const char **out) MB_MUST_CHECK;
int mb_ystrdup(struct mb_ydoc *d, yaml_node_t *n, const char *what, char **out) MB_MUST_CHECK;
/* Optional string: keeps *out (a default, malloc'ed) when absent. */
int mb_yopt_str(struct mb_ydoc *d, struct mb_ykey *keys, size_t nk, const char *name, const char *what,
                char **out) MB_MUST_CHECK;
int mb_yint(struct mb_ydoc *d, yaml_node_t *n, const char *what, long lo, long hi, long *out) MB_MUST_CHECK;
/* A finite number in [lo, hi]; hi = INFINITY for "no upper bound". */
int mb_ynum(struct mb_ydoc *d, yaml_node_t *n, const char *what, double lo, double hi, double *out) MB_MUST_CHECK;
/* One of a NULL-terminated set of words; *out is its index. */
int mb_yenum(struct mb_ydoc *d, yaml_node_t *n, const char *what, const char *const *words, int *out) MB_MUST_CHECK;
/* A single character; "\t" (as YAML escape or literally) and "tab" are a tab. */
int mb_ychar(struct mb_ydoc *d, yaml_node_t *n, const char *what, char *out) MB_MUST_CHECK;
/* A list node, or a single scalar read as a one-element list; *items malloc'ed. */
int mb_ylist(struct mb_ydoc *d, yaml_node_t *n, const char *what, yaml_node_t ***items, size_t *count) MB_MUST_CHECK;
int mb_yint_list(struct mb_ydoc *d, yaml_node_t *n, const char *what, long lo, long hi, long **out,
                 size_t *count) MB_MUST_CHECK;

/* Whole-string decimal integer / finite number (the syntax of YAML scalars
 * and of command-line values); 0 on success, -1 otherwise. */
int mb_parse_long(const char *s, long *out);
int mb_parse_double(const char *s, double *out);

#endif
