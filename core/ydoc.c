/* core/ydoc.c - see core/ydoc.h. */
#include "core/ydoc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


yaml_node_t *mb_ynode(struct mb_ydoc *d, int i)
{
    return yaml_document_get_node(&d->doc, i);
}

size_t mb_yline(const yaml_node_t *n)
{
    return n->start_mark.line + 1;
}

const char *mb_ytype(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:   return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE:  return "a mapping";
    default:                 return "empty";
    }
}

/* Plain ~, null and the empty scalar mean "no value", as YAML says. */
int mb_yis_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *v = (const char *)n->data.scalar.value;
    return !v[0] || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* One key of a mapping as the schema sees it. */
/* Checks that 'map' is a mapping whose keys are all in keys[] (each at most
 * once) and fills keys[i].val. 'where' names the section in messages. */
int mb_ymap(struct mb_ydoc *d, yaml_node_t *map, const char *where, struct mb_ykey *keys, size_t nk)
{
    if (map->type != YAML_MAPPING_NODE)
        return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' must be a mapping, got %s",
                        d->path, mb_yline(map), where, mb_ytype(map));
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = mb_ynode(d, p->key);
        yaml_node_t *v = mb_ynode(d, p->value);
        if (!k || !v || k->type != YAML_SCALAR_NODE)
            return mb_error(MB_EFORMAT, "'%s' line %zu: keys of '%s' must be plain names",
                            d->path, k ? mb_yline(k) : mb_yline(map), where);
        const char *name = (const char *)k->data.scalar.value;
        size_t i = 0;
        while (i < nk && strcmp(keys[i].name, name))
            i++;
        if (i == nk) {
            char list[512] = "";
            for (size_t j = 0; j < nk; j++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s", j ? ", " : "", keys[j].name);
            }
            return mb_error(MB_EFORMAT, "'%s' line %zu: unknown key '%s' in '%s' (known: %s)",
                            d->path, mb_yline(k), name, where, list);
        }
        if (keys[i].val)
            return mb_error(MB_EFORMAT, "'%s' line %zu: key '%s' appears twice in '%s' (first on line %zu)",
                            d->path, mb_yline(k), name, where, keys[i].line);
        keys[i].val = v;
        keys[i].line = mb_yline(k);
    }
    /* A key given as "key:" with no value is the same as leaving it out. */
    for (size_t i = 0; i < nk; i++)
        if (keys[i].val && mb_yis_null(keys[i].val))
            keys[i].val = NULL;
    return MB_OK;
}

yaml_node_t *mb_yget(struct mb_ykey *keys, size_t nk, const char *name)
{
    for (size_t i = 0; i < nk; i++)
        if (!strcmp(keys[i].name, name))
            return keys[i].val;
    return NULL;
}

int mb_yrequire(struct mb_ydoc *d, yaml_node_t *map, const char *where, struct mb_ykey *keys, size_t nk,
                    const char *name)
{
    if (mb_yget(keys, nk, name))
        return MB_OK;
    if (!where[0])
        return mb_error(MB_EFORMAT, "'%s' line %zu: missing required key '%s'", d->path, mb_yline(map), name);
    return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' has no '%s' (required)", d->path, mb_yline(map), where, name);
}

int mb_yscalar(struct mb_ydoc *d, yaml_node_t *n, const char *what, const char **out)
{
    if (n->type != YAML_SCALAR_NODE)
        return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' must be a scalar, got %s", d->path, mb_yline(n), what, mb_ytype(n));
    if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
        return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' contains a NUL byte", d->path, mb_yline(n), what);
    *out = (const char *)n->data.scalar.value;
    return MB_OK;
}

int mb_ystrdup(struct mb_ydoc *d, yaml_node_t *n, const char *what, char **out)
{
    const char *v;
    int rc = mb_yscalar(d, n, what, &v);
    if (rc != MB_OK)
        return rc;
    free(*out);
    *out = strdup(v);
    return *out ? MB_OK : mb_error(MB_ENOMEM, "out of memory reading '%s'", d->path);
}

/* Optional string: keeps *out (a default, malloc'ed) when absent. */
int mb_yopt_str(struct mb_ydoc *d, struct mb_ykey *keys, size_t nk, const char *name, const char *what, char **out)
{
    yaml_node_t *n = mb_yget(keys, nk, name);
    return n ? mb_ystrdup(d, n, what, out) : MB_OK;
}

int mb_parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

int mb_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int mb_yint(struct mb_ydoc *d, yaml_node_t *n, const char *what, long lo, long hi, long *out)
{
    const char *v;
    int rc = mb_yscalar(d, n, what, &v);
    if (rc != MB_OK)
        return rc;
    long x;
    if (mb_parse_long(v, &x) || x < lo || x > hi)
        return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' must be an integer from %ld to %ld, got '%s'",
                        d->path, mb_yline(n), what, lo, hi, v);
    *out = x;
    return MB_OK;
}

int mb_ynum(struct mb_ydoc *d, yaml_node_t *n, const char *what, double lo, double hi, double *out)
{
    const char *v;
    int rc = mb_yscalar(d, n, what, &v);
    if (rc != MB_OK)
        return rc;
    double x;
    if (mb_parse_double(v, &x) || x < lo || x > hi) {
        if (isinf(hi))
            return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' must be a number >= %g, got '%s'",
                            d->path, mb_yline(n), what, lo, v);
        return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' must be a number from %g to %g, got '%s'", d->path,
                        mb_yline(n), what, lo, hi, v);
    }
    *out = x;
    return MB_OK;
}

/* One of a fixed set of words; *out is its index. */
int mb_yenum(struct mb_ydoc *d, yaml_node_t *n, const char *what, const char *const *words, int *out)
{
    const char *v;
    int rc = mb_yscalar(d, n, what, &v);
    if (rc != MB_OK)
        return rc;
    char list[256] = "";
    for (int i = 0; words[i]; i++) {
        if (!strcmp(v, words[i])) {
            *out = i;
            return MB_OK;
        }
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", words[i]);
    }
    return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' must be one of %s, got '%s'", d->path, mb_yline(n), what, list, v);
}

/* A single character; "\t" (as YAML escape or literally) and "tab" are a tab. */
int mb_ychar(struct mb_ydoc *d, yaml_node_t *n, const char *what, char *out)
{
    const char *v;
    int rc = mb_yscalar(d, n, what, &v);
    if (rc != MB_OK)
        return rc;
    if (!strcmp(v, "tab") || !strcmp(v, "\\t"))
        v = "\t";
    if (strlen(v) != 1 || v[0] == '\n' || v[0] == '\r' || v[0] == '"')
        return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' must be one character (not a quote or newline), got '%s'",
                        d->path, mb_yline(n), what, v);
    *out = v[0];
    return MB_OK;
}

/* A list node, or a single scalar read as a one-element list. */
int mb_ylist(struct mb_ydoc *d, yaml_node_t *n, const char *what, yaml_node_t ***items, size_t *count)
{
    *items = NULL;
    *count = 0;
    if (n->type == YAML_SCALAR_NODE) {
        *items = malloc(sizeof **items);
        if (!*items)
            return mb_error(MB_ENOMEM, "out of memory reading '%s'", d->path);
        (*items)[0] = n;
        *count = 1;
        return MB_OK;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' must be a list, got %s", d->path, mb_yline(n), what, mb_ytype(n));
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    *items = malloc((len + 1) * sizeof **items);
    if (!*items)
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", d->path);
    for (size_t i = 0; i < len; i++) {
        (*items)[i] = mb_ynode(d, n->data.sequence.items.start[i]);
        if (!(*items)[i]) {
            free(*items);
            return mb_error(MB_EFORMAT, "'%s' line %zu: broken list '%s'", d->path, mb_yline(n), what);
        }
    }
    *count = len;
    return MB_OK;
}

int mb_yint_list(struct mb_ydoc *d, yaml_node_t *n, const char *what, long lo, long hi, long **out, size_t *count)
{
    yaml_node_t **it;
    int rc = mb_ylist(d, n, what, &it, count);
    if (rc)
        return rc;
    *out = calloc(*count + 1, sizeof **out);
    if (!*out) {
        free(it);
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", d->path);
    }
    for (size_t i = 0; i < *count && !rc; i++)
        rc = mb_yint(d, it[i], what, lo, hi, &(*out)[i]);
    free(it);
    return rc;
}

