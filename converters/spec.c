/* converters/spec.c - loading and checking a spec (libyaml's document
 * loader, then a walk over the node tree against a fixed schema), label
 * lookup, and matching file paths against the spec's pattern (PCRE2). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "converters/spec.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/fs.h"
#include "core/ydoc.h"
#include "format/mbh5.h"

/* ---- labels ------------------------------------------------------------- */

void spec_canon_label(char *out, size_t cap, const char *raw, size_t len)
{
    while (len && isspace((unsigned char)raw[0])) { raw++; len--; }
    while (len && isspace((unsigned char)raw[len - 1])) len--;
    char tmp[64];
    if (len > 0 && len < sizeof tmp) {
        memcpy(tmp, raw, len);
        tmp[len] = '\0';
        char *end;
        double v = strtod(tmp, &end);
        /* Only decimal numbers: "0x1", "inf" and "nan" stay text. */
        int plain = 1;
        for (size_t i = 0; i < len; i++)
            if (!strchr("0123456789+-.eE", tmp[i]))
                plain = 0;
        if (plain && *end == '\0' && isfinite(v) && v == floor(v) && fabs(v) < 9e15) {
            snprintf(out, cap, "%lld", (long long)v);
            return;
        }
    }
    size_t n = len < cap - 1 ? len : cap - 1;
    memcpy(out, raw, n);
    out[n] = '\0';
}

int spec_label_lookup(const struct spec *s, const char *raw, size_t len, int32_t *id)
{
    char c[128];
    spec_canon_label(c, sizeof c, raw, len);
    for (size_t i = 0; i < s->n_labels; i++)
        if (!strcmp(s->labels[i].raw, c)) {
            *id = s->labels[i].id;
            return MB_OK;
        }
    if (s->identity) {
        long v;
        if (!mb_parse_long(c, &v) && v >= 0 && v <= INT32_MAX) {
            *id = (int32_t)v;
            return MB_OK;
        }
    }
    return MB_EFORMAT;
}

const char *spec_label_name(const struct spec *s, int32_t id, char *buf, size_t cap)
{
    for (size_t i = 0; i < s->n_labels; i++)
        if (s->labels[i].id == id && s->labels[i].name)
            return s->labels[i].name;
    snprintf(buf, cap, "label %ld", (long)id);
    return buf;
}

static int add_label(struct mb_ydoc *d, struct spec *s, yaml_node_t *at, const char *raw, int32_t id, const char *name)
{
    char c[128];
    spec_canon_label(c, sizeof c, raw, strlen(raw));
    if (!c[0])
        return mb_error(MB_EFORMAT, "'%s' line %zu: empty raw label value", d->path, mb_yline(at));
    for (size_t i = 0; i < s->n_labels; i++) {
        if (!strcmp(s->labels[i].raw, c))
            return mb_error(MB_EFORMAT, "'%s' line %zu: raw label '%s' is given twice (map or unlabelled)",
                            d->path, mb_yline(at), raw);
        if (name && s->labels[i].id == id && s->labels[i].name && strcmp(s->labels[i].name, name))
            return mb_error(MB_EFORMAT, "'%s' line %zu: gesture id %ld is named both '%s' and '%s'",
                            d->path, mb_yline(at), (long)id, s->labels[i].name, name);
    }
    struct spec_label *l = realloc(s->labels, (s->n_labels + 1) * sizeof *l);
    if (!l)
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", d->path);
    s->labels = l;
    l[s->n_labels].raw = strdup(c);
    l[s->n_labels].id = id;
    l[s->n_labels].name = name ? strdup(name) : NULL;
    s->n_labels++;
    if (!l[s->n_labels - 1].raw || (name && !l[s->n_labels - 1].name))
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", d->path);
    return MB_OK;
}

/* Calls fn for a scalar or for each scalar of a list. */
static int yeach_scalar(struct mb_ydoc *d, yaml_node_t *n, const char *what,
                        int (*fn)(struct mb_ydoc *, struct spec *, yaml_node_t *, const char *), struct spec *s)
{
    if (n->type == YAML_SCALAR_NODE) {
        const char *v;
        int rc = mb_yscalar(d, n, what, &v);
        return rc != MB_OK ? rc : fn(d, s, n, v);
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' must be a value or a list of values, got %s",
                        d->path, mb_yline(n), what, mb_ytype(n));
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *e = mb_ynode(d, *it);
        const char *v;
        int rc = e ? mb_yscalar(d, e, what, &v) : MB_EFORMAT;
        if (rc == MB_OK)
            rc = fn(d, s, e, v);
        if (rc != MB_OK)
            return rc;
    }
    return MB_OK;
}

static int add_unlabelled(struct mb_ydoc *d, struct spec *s, yaml_node_t *at, const char *raw)
{
    return add_label(d, s, at, raw, MBH5_UNLABELLED, NULL);
}

static int add_allowed(struct mb_ydoc *d, struct spec *s, yaml_node_t *at, const char *raw)
{
    int32_t id;
    if (spec_label_lookup(s, raw, strlen(raw), &id) != MB_OK)
        return mb_error(MB_EFORMAT, "'%s' line %zu: 'labels.mismatch_allowed' value '%s' is not in the label map",
                        d->path, mb_yline(at), raw);
    int32_t *a = realloc(s->allowed, (s->n_allowed + 1) * sizeof *a);
    if (!a)
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", d->path);
    s->allowed = a;
    a[s->n_allowed++] = id;
    return MB_OK;
}

static int parse_map_entry(struct mb_ydoc *d, struct spec *s, yaml_node_t *k, yaml_node_t *v)
{
    const char *raw;
    int rc = mb_yscalar(d, k, "labels.map key", &raw);
    if (rc != MB_OK)
        return rc;
    if (v->type == YAML_SCALAR_NODE) {
        /* "3: fist" - the raw value is the id. */
        const char *name;
        long id;
        char c[128];
        spec_canon_label(c, sizeof c, raw, strlen(raw));
        if ((rc = mb_yscalar(d, v, "labels.map name", &name)) != MB_OK)
            return rc;
        if (mb_parse_long(c, &id) || id < 0 || id > INT32_MAX)
            return mb_error(MB_EFORMAT, "'%s' line %zu: label '%s' is not a non-negative integer, so its "
                            "entry needs '{id: N, name: ...}'", d->path, mb_yline(k), raw);
        if (!name[0] || mb_yis_null(v))
            return mb_error(MB_EFORMAT, "'%s' line %zu: label '%s' has an empty name", d->path, mb_yline(v), raw);
        return add_label(d, s, k, raw, (int32_t)id, name);
    }
    struct mb_ykey keys[] = { { "id", NULL, 0 }, { "name", NULL, 0 } };
    const size_t nk = sizeof keys / sizeof *keys;
    char where[160];
    snprintf(where, sizeof where, "labels.map.%s", raw);
    if ((rc = mb_ymap(d, v, where, keys, nk)) != MB_OK)
        return rc;
    if ((rc = mb_yrequire(d, v, where, keys, nk, "id")) != MB_OK ||
        (rc = mb_yrequire(d, v, where, keys, nk, "name")) != MB_OK)
        return rc;
    long id;
    const char *name;
    if ((rc = mb_yint(d, keys[0].val, "id", 0, INT32_MAX, &id)) != MB_OK ||
        (rc = mb_yscalar(d, keys[1].val, "name", &name)) != MB_OK)
        return rc;
    return add_label(d, s, k, raw, (int32_t)id, name);
}

/* ---- columns ------------------------------------------------------------ */

/* "a..b" with integer ends; 1 if it is a range. */
static int parse_range(const char *v, long *from, long *to)
{
    const char *dots = strstr(v, "..");
    if (!dots)
        return 0;
    char a[32], b[32];
    size_t la = (size_t)(dots - v), lb = strlen(dots + 2);
    if (la == 0 || la >= sizeof a || lb == 0 || lb >= sizeof b)
        return 0;
    memcpy(a, v, la);
    a[la] = '\0';
    memcpy(b, dots + 2, lb + 1);
    return !mb_parse_long(a, from) && !mb_parse_long(b, to);
}

static int is_int_text(const char *v)
{
    long x;
    return !mb_parse_long(v, &x);
}

static int ycol(struct mb_ydoc *d, yaml_node_t *n, const char *what, int names_ok, struct spec_col *c)
{
    const char *v;
    int rc = mb_yscalar(d, n, what, &v);
    if (rc != MB_OK)
        return rc;
    if (is_int_text(v)) {
        mb_parse_long(v, &c->index);
        c->by_name = 0;
        return MB_OK;
    }
    /* A quoted "3" is still a number; only non-numeric text is a name. */
    if (!names_ok)
        return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' must be a column index here, got '%s'",
                        d->path, mb_yline(n), what, v);
    if (!v[0])
        return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' is an empty column name", d->path, mb_yline(n), what);
    c->by_name = 1;
    c->name = strdup(v);
    return c->name ? MB_OK : mb_error(MB_ENOMEM, "out of memory reading '%s'", d->path);
}

static int ycols(struct mb_ydoc *d, yaml_node_t *n, const char *what, int names_ok, struct spec_cols *c)
{
    if (n->type == YAML_SCALAR_NODE) {
        const char *v;
        int rc = mb_yscalar(d, n, what, &v);
        if (rc != MB_OK)
            return rc;
        if (parse_range(v, &c->from, &c->to)) {
            if ((c->from >= 0) == (c->to >= 0) && c->from > c->to)
                return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' range '%s' is empty", d->path, mb_yline(n), what, v);
            c->is_range = 1;
            return MB_OK;
        }
        if (strstr(v, ".."))
            return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' range '%s' must be 'first..last' with integer ends",
                            d->path, mb_yline(n), what, v);
        c->cols = calloc(1, sizeof *c->cols);
        if (!c->cols)
            return mb_error(MB_ENOMEM, "out of memory reading '%s'", d->path);
        c->n = 1;
        return ycol(d, n, what, names_ok, &c->cols[0]);
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' must be a column, a 'first..last' range or a list, got %s",
                        d->path, mb_yline(n), what, mb_ytype(n));
    size_t m = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (m == 0)
        return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' is an empty list", d->path, mb_yline(n), what);
    c->cols = calloc(m, sizeof *c->cols);
    if (!c->cols)
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", d->path);
    for (size_t i = 0; i < m; i++) {
        yaml_node_t *e = mb_ynode(d, n->data.sequence.items.start[i]);
        c->n = i + 1;
        int rc = e ? ycol(d, e, what, names_ok, &c->cols[i]) : MB_EFORMAT;
        if (rc != MB_OK)
            return rc;
    }
    return MB_OK;
}

/* ---- the spec ----------------------------------------------------------- */

static void cols_release(struct spec_cols *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->cols[i].name);
    free(c->cols);
}

void spec_free(struct spec *s)
{
    if (!s)
        return;
    free(s->path);
    free(s->text);
    free(s->name);
    free(s->dataset);
    free(s->version);
    free(s->pattern);
    pcre2_code_free(s->re);
    for (size_t i = 0; i < s->n_defaults; i++) {
        free(s->defaults[i].key);
        free(s->defaults[i].value);
    }
    free(s->defaults);
    free(s->var_emg);
    free(s->var_label);
    free(s->var_time);
    cols_release(&s->emg);
    free(s->label_col.name);
    free(s->time_col.name);
    free(s->units);
    for (size_t i = 0; i < s->n_labels; i++) {
        free(s->labels[i].raw);
        free(s->labels[i].name);
    }
    free(s->labels);
    free(s->allowed);
    free(s->dev_name);
    free(s->dev_manufacturer);
    free(s->dev_model);
    free(s->dev_hw_filters);
    free(s->dev_sw_filters);
    for (size_t i = 0; i < s->n_channel_names; i++)
        free(s->channel_names[i]);
    free(s->channel_names);
    for (size_t i = 0; i < s->n_notes; i++)
        free(s->notes[i]);
    free(s->notes);
    free(s);
}

static int group_number(const struct spec *s, const char *name)
{
    int n = pcre2_substring_number_from_name(s->re, (PCRE2_SPTR)name);
    return n > 0 ? n : 0;
}

static int has_default(const struct spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_defaults; i++)
        if (!strcmp(s->defaults[i].key, name))
            return 1;
    return 0;
}

static int parse_files(struct mb_ydoc *d, struct spec *s, yaml_node_t *n)
{
    struct mb_ykey k[] = { { "pattern", NULL, 0 }, { "defaults", NULL, 0 } };
    const size_t nk = sizeof k / sizeof *k;
    int rc = mb_ymap(d, n, "files", k, nk);
    if (rc == MB_OK)
        rc = mb_yrequire(d, n, "files", k, nk, "pattern");
    if (rc == MB_OK)
        rc = mb_ystrdup(d, k[0].val, "files.pattern", &s->pattern);
    if (rc != MB_OK)
        return rc;
    int ec;
    PCRE2_SIZE eo;
    s->re = pcre2_compile((PCRE2_SPTR)s->pattern, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
    if (!s->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return mb_error(MB_ERX, "'%s' line %zu: 'files.pattern' does not compile at offset %zu: %s",
                        d->path, mb_yline(k[0].val), (size_t)eo, (const char *)msg);
    }
    /* JIT is an optimisation only; the interpreter gives the same matches. */
    (void)pcre2_jit_compile(s->re, PCRE2_JIT_COMPLETE);
    yaml_node_t *def = k[1].val;
    if (def) {
        if (def->type != YAML_MAPPING_NODE)
            return mb_error(MB_EFORMAT, "'%s' line %zu: 'files.defaults' must be a mapping group: value, got %s",
                            d->path, mb_yline(def), mb_ytype(def));
        size_t m = (size_t)(def->data.mapping.pairs.top - def->data.mapping.pairs.start);
        s->defaults = calloc(m ? m : 1, sizeof *s->defaults);
        if (!s->defaults)
            return mb_error(MB_ENOMEM, "out of memory reading '%s'", d->path);
        for (size_t i = 0; i < m; i++) {
            yaml_node_t *kn = mb_ynode(d, def->data.mapping.pairs.start[i].key);
            yaml_node_t *vn = mb_ynode(d, def->data.mapping.pairs.start[i].value);
            if (!kn || !vn)
                return mb_error(MB_EFORMAT, "'%s' line %zu: bad 'files.defaults' entry", d->path, mb_yline(def));
            char *key = NULL, *val = NULL;
            rc = mb_ystrdup(d, kn, "files.defaults key", &key);
            if (rc == MB_OK && has_default(s, key))
                rc = mb_error(MB_EFORMAT, "'%s' line %zu: group '%s' appears twice in 'files.defaults'",
                              d->path, mb_yline(kn), key);
            if (rc == MB_OK)
                rc = mb_ystrdup(d, vn, "files.defaults value", &val);
            if (rc != MB_OK) {
                free(key);
                free(val);
                return rc;
            }
            s->defaults[s->n_defaults].key = key;
            s->defaults[s->n_defaults].value = val;
            s->n_defaults++;
        }
    }
    if (!group_number(s, "subject") && !has_default(s, "subject"))
        return mb_error(MB_EFORMAT, "'%s' line %zu: 'files.pattern' has no named group 'subject' "
                        "(write (?<subject>...) or give 'files.defaults.subject')", d->path, mb_yline(k[0].val));
    if (group_number(s, "rep") && group_number(s, "repetition"))
        return mb_error(MB_EFORMAT, "'%s' line %zu: 'files.pattern' has both groups 'rep' and 'repetition'",
                        d->path, mb_yline(k[0].val));
    return MB_OK;
}

static int parse_format(struct mb_ydoc *d, struct spec *s, yaml_node_t *n)
{
    enum { K_TYPE, K_DELIM, K_HEADER, K_COMMENT, K_EMG, K_LABEL, K_TIME, K_ORIENT };
    struct mb_ykey k[] = { { "type", NULL, 0 }, { "delimiter", NULL, 0 }, { "header_lines", NULL, 0 },
                        { "comment", NULL, 0 }, { "emg", NULL, 0 }, { "label", NULL, 0 },
                        { "time", NULL, 0 }, { "orientation", NULL, 0 } };
    const size_t nk = sizeof k / sizeof *k;
    int rc = mb_ymap(d, n, "format", k, nk);
    if (rc == MB_OK)
        rc = mb_yrequire(d, n, "format", k, nk, "type");
    if (rc != MB_OK)
        return rc;
    static const char *const types[] = { "csv", "whitespace", "mat", "hdf5", NULL };
    int t;
    if ((rc = mb_yenum(d, k[K_TYPE].val, "format.type", types, &t)) != MB_OK)
        return rc;
    s->container = (enum spec_container)t;
    int text = s->container == SPEC_CSV || s->container == SPEC_WHITESPACE;
    /* Keys of the other containers are mistakes, not options to ignore. */
    static const int text_only[] = { K_HEADER, K_COMMENT };
    static const int bin_only[] = { K_EMG, K_LABEL, K_TIME, K_ORIENT };
    for (size_t i = 0; i < sizeof text_only / sizeof *text_only; i++)
        if (!text && k[text_only[i]].val)
            return mb_error(MB_EFORMAT, "'%s' line %zu: 'format.%s' applies to text formats (csv, whitespace), "
                            "not '%s'", d->path, k[text_only[i]].line, k[text_only[i]].name, types[t]);
    for (size_t i = 0; i < sizeof bin_only / sizeof *bin_only; i++)
        if (text && k[bin_only[i]].val)
            return mb_error(MB_EFORMAT, "'%s' line %zu: 'format.%s' applies to mat and hdf5; text formats name "
                            "their columns under 'columns'", d->path, k[bin_only[i]].line, k[bin_only[i]].name);
    if (k[K_DELIM].val && s->container != SPEC_CSV)
        return mb_error(MB_EFORMAT, "'%s' line %zu: 'format.delimiter' applies to csv only ('whitespace' splits "
                        "on runs of spaces and tabs)", d->path, k[K_DELIM].line);
    s->delimiter = ',';
    if (k[K_DELIM].val && (rc = mb_ychar(d, k[K_DELIM].val, "format.delimiter", &s->delimiter)) != MB_OK)
        return rc;
    long v;
    if (k[K_HEADER].val) {
        if ((rc = mb_yint(d, k[K_HEADER].val, "format.header_lines", 0, 1000000, &v)) != MB_OK)
            return rc;
        s->header_lines = (size_t)v;
    }
    if (k[K_COMMENT].val && (rc = mb_ychar(d, k[K_COMMENT].val, "format.comment", &s->comment)) != MB_OK)
        return rc;
    if (s->comment && s->container == SPEC_CSV && s->comment == s->delimiter)
        return mb_error(MB_EFORMAT, "'%s' line %zu: 'format.comment' equals the delimiter", d->path, k[K_COMMENT].line);
    if (!text) {
        if ((rc = mb_yrequire(d, n, "format", k, nk, "emg")) != MB_OK ||
            (rc = mb_ystrdup(d, k[K_EMG].val, "format.emg", &s->var_emg)) != MB_OK ||
            (rc = mb_yopt_str(d, k, nk, "label", "format.label", &s->var_label)) != MB_OK ||
            (rc = mb_yopt_str(d, k, nk, "time", "format.time", &s->var_time)) != MB_OK)
            return rc;
        if (k[K_ORIENT].val) {
            static const char *const o[] = { "samples_by_channels", "channels_by_samples", NULL };
            int oi;
            if ((rc = mb_yenum(d, k[K_ORIENT].val, "format.orientation", o, &oi)) != MB_OK)
                return rc;
            s->orientation = (enum spec_orientation)oi;
        }
        s->has_label_col = s->var_label != NULL;
        s->has_time_col = s->var_time != NULL;
    }
    return MB_OK;
}

static int parse_columns(struct mb_ydoc *d, struct spec *s, yaml_node_t *n)
{
    struct mb_ykey k[] = { { "emg", NULL, 0 }, { "label", NULL, 0 }, { "time", NULL, 0 } };
    const size_t nk = sizeof k / sizeof *k;
    int text = s->container == SPEC_CSV || s->container == SPEC_WHITESPACE;
    int rc = mb_ymap(d, n, "columns", k, nk);
    if (rc != MB_OK)
        return rc;
    if (!text) {
        for (size_t i = 1; i < nk; i++)
            if (k[i].val)
                return mb_error(MB_EFORMAT, "'%s' line %zu: 'columns.%s' applies to text formats; mat and hdf5 "
                                "name the variable in 'format.%s'", d->path, k[i].line, k[i].name, k[i].name);
        /* Channel selection inside the EMG matrix, by index only. */
        return k[0].val ? ycols(d, k[0].val, "columns.emg", 0, &s->emg) : MB_OK;
    }
    if ((rc = mb_yrequire(d, n, "columns", k, nk, "emg")) != MB_OK ||
        (rc = ycols(d, k[0].val, "columns.emg", 1, &s->emg)) != MB_OK)
        return rc;
    if (k[1].val) {
        s->has_label_col = 1;
        if ((rc = ycol(d, k[1].val, "columns.label", 1, &s->label_col)) != MB_OK)
            return rc;
    }
    if (k[2].val) {
        s->has_time_col = 1;
        if ((rc = ycol(d, k[2].val, "columns.time", 1, &s->time_col)) != MB_OK)
            return rc;
    }
    return MB_OK;
}

static int parse_sampling(struct mb_ydoc *d, struct spec *s, yaml_node_t *n, size_t *unit_line, int *has_unit)
{
    struct mb_ykey k[] = { { "rate_hz", NULL, 0 }, { "time_unit", NULL, 0 }, { "tolerance", NULL, 0 } };
    const size_t nk = sizeof k / sizeof *k;
    int rc = mb_ymap(d, n, "sampling", k, nk);
    if (rc != MB_OK)
        return rc;
    if (k[0].val) {
        if ((rc = mb_ynum(d, k[0].val, "sampling.rate_hz", 0, INFINITY, &s->rate_hz)) != MB_OK)
            return rc;
        if (s->rate_hz <= 0 || s->rate_hz > 1e7)
            return mb_error(MB_EFORMAT, "'%s' line %zu: 'sampling.rate_hz' must be in (0, 1e7]", d->path, k[0].line);
    }
    if (k[1].val) {
        static const char *const units[] = { "s", "ms", "us", NULL };
        static const double f[] = { 1.0, 1e-3, 1e-6 };
        int u;
        if ((rc = mb_yenum(d, k[1].val, "sampling.time_unit", units, &u)) != MB_OK)
            return rc;
        s->time_to_s = f[u];
        *has_unit = 1;
        *unit_line = k[1].line;
    }
    if (k[2].val) {
        if ((rc = mb_ynum(d, k[2].val, "sampling.tolerance", 0, INFINITY, &s->tolerance)) != MB_OK)
            return rc;
        if (s->tolerance <= 0 || s->tolerance >= 0.5)
            return mb_error(MB_EFORMAT, "'%s' line %zu: 'sampling.tolerance' must be in (0, 0.5)", d->path, k[2].line);
    }
    return MB_OK;
}

static int parse_values(struct mb_ydoc *d, struct spec *s, yaml_node_t *n)
{
    struct mb_ykey k[] = { { "type", NULL, 0 }, { "units", NULL, 0 }, { "scale", NULL, 0 } };
    const size_t nk = sizeof k / sizeof *k;
    int rc = mb_ymap(d, n, "values", k, nk);
    if (rc == MB_OK)
        rc = mb_yrequire(d, n, "values", k, nk, "type");
    if (rc == MB_OK)
        rc = mb_yrequire(d, n, "values", k, nk, "units");
    if (rc != MB_OK)
        return rc;
    static const char *const types[] = { "float", "int", NULL };
    int t;
    if ((rc = mb_yenum(d, k[0].val, "values.type", types, &t)) != MB_OK ||
        (rc = mb_ystrdup(d, k[1].val, "values.units", &s->units)) != MB_OK)
        return rc;
    s->value_int = t == 1;
    if (k[2].val && (rc = mb_ynum(d, k[2].val, "values.scale", 0, INFINITY, &s->scale)) != MB_OK)
        return rc;
    return MB_OK;
}

static int parse_labels(struct mb_ydoc *d, struct spec *s, yaml_node_t *n)
{
    enum { K_SOURCE, K_UNLAB, K_MAP, K_MISMATCH, K_ALLOWED };
    struct mb_ykey k[] = { { "source", NULL, 0 }, { "unlabelled", NULL, 0 }, { "map", NULL, 0 },
                        { "mismatch", NULL, 0 }, { "mismatch_allowed", NULL, 0 } };
    const size_t nk = sizeof k / sizeof *k;
    int rc = n ? mb_ymap(d, n, "labels", k, nk) : MB_OK;
    if (rc != MB_OK)
        return rc;
    int has_gesture = group_number(s, "gesture") || has_default(s, "gesture");
    size_t line = n ? mb_yline(n) : 1;
    if (k[K_SOURCE].val) {
        static const char *const src[] = { "none", "column", "filename", NULL };
        int v;
        if ((rc = mb_yenum(d, k[K_SOURCE].val, "labels.source", src, &v)) != MB_OK)
            return rc;
        s->label_source = (enum spec_label_source)v;
        line = k[K_SOURCE].line;
    } else {
        s->label_source = s->has_label_col ? SPEC_LABELS_COLUMN
                        : has_gesture      ? SPEC_LABELS_FILENAME : SPEC_LABELS_NONE;
    }
    if (s->label_source == SPEC_LABELS_COLUMN && !s->has_label_col)
        return mb_error(MB_EFORMAT, "'%s' line %zu: 'labels.source' is column but no label column is given "
                        "('columns.label' or 'format.label')", d->path, line);
    if (s->label_source == SPEC_LABELS_FILENAME && !has_gesture)
        return mb_error(MB_EFORMAT, "'%s' line %zu: 'labels.source' is filename but 'files.pattern' has no "
                        "group 'gesture'", d->path, line);
    if (s->label_source == SPEC_LABELS_NONE && k[K_MAP].val)
        return mb_error(MB_EFORMAT, "'%s' line %zu: 'labels.map' is given but there is no label source "
                        "(no label column, no group 'gesture')", d->path, k[K_MAP].line);
    if (s->label_source == SPEC_LABELS_NONE)
        return MB_OK;
    if (!k[K_MAP].val)
        return mb_error(MB_EFORMAT, "'%s' line %zu: 'labels' has no 'map' (required: raw value -> gesture)",
                        d->path, n ? mb_yline(n) : 1);
    if (k[K_UNLAB].val && (rc = yeach_scalar(d, k[K_UNLAB].val, "labels.unlabelled", add_unlabelled, s)) != MB_OK)
        return rc;
    yaml_node_t *map = k[K_MAP].val;
    if (map->type == YAML_SCALAR_NODE) {
        const char *v;
        if ((rc = mb_yscalar(d, map, "labels.map", &v)) != MB_OK)
            return rc;
        if (strcmp(v, "identity"))
            return mb_error(MB_EFORMAT, "'%s' line %zu: 'labels.map' must be a mapping or 'identity', got '%s'",
                            d->path, mb_yline(map), v);
        s->identity = 1;
    } else if (map->type == YAML_MAPPING_NODE) {
        if (map->data.mapping.pairs.top == map->data.mapping.pairs.start)
            return mb_error(MB_EFORMAT, "'%s' line %zu: 'labels.map' is empty", d->path, mb_yline(map));
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
            yaml_node_t *kn = mb_ynode(d, p->key), *vn = mb_ynode(d, p->value);
            if (!kn || !vn)
                return mb_error(MB_EFORMAT, "'%s' line %zu: bad 'labels.map' entry", d->path, mb_yline(map));
            if ((rc = parse_map_entry(d, s, kn, vn)) != MB_OK)
                return rc;
        }
    } else {
        return mb_error(MB_EFORMAT, "'%s' line %zu: 'labels.map' must be a mapping or 'identity', got %s",
                        d->path, mb_yline(map), mb_ytype(map));
    }
    if (k[K_MISMATCH].val || k[K_ALLOWED].val) {
        if (s->label_source != SPEC_LABELS_COLUMN || !has_gesture) {
            size_t l = k[K_MISMATCH].val ? k[K_MISMATCH].line : k[K_ALLOWED].line;
            return mb_error(MB_EFORMAT, "'%s' line %zu: 'labels.mismatch' needs both a label column and a "
                            "group 'gesture' in the pattern", d->path, l);
        }
    }
    if (k[K_MISMATCH].val) {
        static const char *const m[] = { "warn", "error", "ignore", NULL };
        int v;
        if ((rc = mb_yenum(d, k[K_MISMATCH].val, "labels.mismatch", m, &v)) != MB_OK)
            return rc;
        s->mismatch = (enum spec_mismatch)v;
    }
    if (k[K_ALLOWED].val && (rc = yeach_scalar(d, k[K_ALLOWED].val, "labels.mismatch_allowed", add_allowed, s)) != MB_OK)
        return rc;
    return MB_OK;
}

static int parse_device(struct mb_ydoc *d, struct spec *s, yaml_node_t *n)
{
    enum { K_NAME, K_MANUF, K_MODEL, K_CH, K_CHNAMES, K_RATE, K_ADC, K_HW, K_SW, K_PL };
    struct mb_ykey k[] = { { "name", NULL, 0 }, { "manufacturer", NULL, 0 }, { "model", NULL, 0 },
                        { "channels", NULL, 0 }, { "channel_names", NULL, 0 }, { "rate_hz", NULL, 0 },
                        { "adc_bits", NULL, 0 }, { "hw_filters", NULL, 0 }, { "sw_filters", NULL, 0 },
                        { "power_line_hz", NULL, 0 } };
    const size_t nk = sizeof k / sizeof *k;
    int rc = mb_ymap(d, n, "device", k, nk);
    if (rc == MB_OK)
        rc = mb_yrequire(d, n, "device", k, nk, "name");
    if (rc == MB_OK)
        rc = mb_ystrdup(d, k[K_NAME].val, "device.name", &s->dev_name);
    if (rc == MB_OK && !s->dev_name[0])
        rc = mb_error(MB_EFORMAT, "'%s' line %zu: 'device.name' is empty", d->path, k[K_NAME].line);
    if (rc == MB_OK)
        rc = mb_yopt_str(d, k, nk, "manufacturer", "device.manufacturer", &s->dev_manufacturer);
    if (rc == MB_OK)
        rc = mb_yopt_str(d, k, nk, "model", "device.model", &s->dev_model);
    if (rc == MB_OK)
        rc = mb_yopt_str(d, k, nk, "hw_filters", "device.hw_filters", &s->dev_hw_filters);
    if (rc == MB_OK)
        rc = mb_yopt_str(d, k, nk, "sw_filters", "device.sw_filters", &s->dev_sw_filters);
    if (rc != MB_OK)
        return rc;
    long v;
    if (k[K_CH].val) {
        if ((rc = mb_yint(d, k[K_CH].val, "device.channels", 1, 65536, &v)) != MB_OK)
            return rc;
        s->dev_channels = (int)v;
    }
    if (k[K_ADC].val) {
        if ((rc = mb_yint(d, k[K_ADC].val, "device.adc_bits", 0, 64, &v)) != MB_OK)
            return rc;
        s->dev_adc_bits = (int)v;
    }
    if (k[K_RATE].val) {
        if ((rc = mb_ynum(d, k[K_RATE].val, "device.rate_hz", 0, INFINITY, &s->dev_rate_hz)) != MB_OK)
            return rc;
        if (s->dev_rate_hz <= 0)
            return mb_error(MB_EFORMAT, "'%s' line %zu: 'device.rate_hz' must be positive", d->path, k[K_RATE].line);
    }
    if (k[K_PL].val && (rc = mb_ynum(d, k[K_PL].val, "device.power_line_hz", 0, INFINITY, &s->dev_power_line_hz)) != MB_OK)
        return rc;
    yaml_node_t *cn = k[K_CHNAMES].val;
    if (cn) {
        if (cn->type != YAML_SEQUENCE_NODE)
            return mb_error(MB_EFORMAT, "'%s' line %zu: 'device.channel_names' must be a list, got %s",
                            d->path, mb_yline(cn), mb_ytype(cn));
        size_t m = (size_t)(cn->data.sequence.items.top - cn->data.sequence.items.start);
        s->channel_names = calloc(m ? m : 1, sizeof *s->channel_names);
        if (!s->channel_names)
            return mb_error(MB_ENOMEM, "out of memory reading '%s'", d->path);
        for (size_t i = 0; i < m; i++) {
            yaml_node_t *e = mb_ynode(d, cn->data.sequence.items.start[i]);
            if (!e)
                return mb_error(MB_EFORMAT, "'%s' line %zu: bad 'device.channel_names' entry", d->path, mb_yline(cn));
            s->n_channel_names = i + 1;
            if ((rc = mb_ystrdup(d, e, "device.channel_names", &s->channel_names[i])) != MB_OK)
                return rc;
        }
        if (s->dev_channels && (size_t)s->dev_channels != m)
            return mb_error(MB_EFORMAT, "'%s' line %zu: 'device.channel_names' has %zu names for %d channels",
                            d->path, mb_yline(cn), m, s->dev_channels);
    }
    return MB_OK;
}

static int add_note(struct mb_ydoc *d, struct spec *s, yaml_node_t *at, const char *v)
{
    (void)at;
    char **n = realloc(s->notes, (s->n_notes + 1) * sizeof *n);
    if (!n)
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", d->path);
    s->notes = n;
    n[s->n_notes] = strdup(v);
    if (!n[s->n_notes])
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", d->path);
    s->n_notes++;
    return MB_OK;
}

/* Number of EMG columns the spec fixes before seeing a file; 0 if it
 * depends on the file (negative range ends, or every matrix column). */
static size_t fixed_emg_count(const struct spec *s)
{
    if (s->emg.is_range)
        return (s->emg.from >= 0 && s->emg.to >= 0) || (s->emg.from < 0 && s->emg.to < 0)
             ? (size_t)(s->emg.to - s->emg.from + 1) : 0;
    return s->emg.n;
}

static int parse_root(struct mb_ydoc *d, struct spec *s, yaml_node_t *root)
{
    enum { K_NAME, K_DATASET, K_VERSION, K_NOTES, K_FILES, K_FORMAT, K_COLUMNS, K_SAMPLING, K_VALUES,
           K_LABELS, K_DEVICE };
    struct mb_ykey k[] = { { "name", NULL, 0 }, { "dataset", NULL, 0 }, { "version", NULL, 0 },
                        { "notes", NULL, 0 }, { "files", NULL, 0 }, { "format", NULL, 0 },
                        { "columns", NULL, 0 }, { "sampling", NULL, 0 }, { "values", NULL, 0 },
                        { "labels", NULL, 0 }, { "device", NULL, 0 } };
    const size_t nk = sizeof k / sizeof *k;
    int rc = mb_ymap(d, root, "the spec", k, nk);
    /* Sections are checked in file order, each required one when its turn
     * comes, so the first problem reported is the first one in the file. */
    if (rc == MB_OK)
        rc = mb_yrequire(d, root, "", k, nk, "name");
    if (rc == MB_OK)
        rc = mb_ystrdup(d, k[K_NAME].val, "name", &s->name);
    if (rc == MB_OK && !s->name[0])
        rc = mb_error(MB_EFORMAT, "'%s' line %zu: 'name' is empty", d->path, k[K_NAME].line);
    if (rc == MB_OK && !(s->dataset = strdup(s->name)))
        rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", d->path);
    if (rc == MB_OK && !(s->version = strdup("")))
        rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", d->path);
    if (rc == MB_OK)
        rc = mb_yopt_str(d, k, nk, "dataset", "dataset", &s->dataset);
    if (rc == MB_OK)
        rc = mb_yopt_str(d, k, nk, "version", "version", &s->version);
    if (rc == MB_OK && k[K_NOTES].val)
        rc = yeach_scalar(d, k[K_NOTES].val, "notes", add_note, s);
    if (rc == MB_OK)
        rc = mb_yrequire(d, root, "", k, nk, "files");
    if (rc == MB_OK)
        rc = parse_files(d, s, k[K_FILES].val);
    if (rc == MB_OK)
        rc = mb_yrequire(d, root, "", k, nk, "format");
    if (rc == MB_OK)
        rc = parse_format(d, s, k[K_FORMAT].val);
    int text = s->container == SPEC_CSV || s->container == SPEC_WHITESPACE;
    if (rc == MB_OK && text && !k[K_COLUMNS].val)
        rc = mb_error(MB_EFORMAT, "'%s' line %zu: missing required key 'columns' (text formats name their "
                      "EMG columns)", d->path, mb_yline(root));
    if (rc == MB_OK && k[K_COLUMNS].val)
        rc = parse_columns(d, s, k[K_COLUMNS].val);
    size_t unit_line = 0;
    int has_unit = 0;
    if (rc == MB_OK && k[K_SAMPLING].val)
        rc = parse_sampling(d, s, k[K_SAMPLING].val, &unit_line, &has_unit);
    if (rc == MB_OK) {
        size_t at = k[K_SAMPLING].val ? mb_yline(k[K_SAMPLING].val) : mb_yline(root);
        if (!s->has_time_col && s->rate_hz == 0)
            rc = mb_error(MB_EFORMAT, "'%s' line %zu: no sampling rate: give 'sampling.rate_hz' or a time column",
                          d->path, at);
        else if (s->has_time_col && !has_unit)
            rc = mb_error(MB_EFORMAT, "'%s' line %zu: a time column needs 'sampling.time_unit' (s, ms or us)",
                          d->path, at);
        else if (!s->has_time_col && has_unit)
            rc = mb_error(MB_EFORMAT, "'%s' line %zu: 'sampling.time_unit' is given but there is no time column",
                          d->path, unit_line);
        if (s->tolerance == 0)
            s->tolerance = 0.01;
    }
    if (rc == MB_OK)
        rc = mb_yrequire(d, root, "", k, nk, "values");
    if (rc == MB_OK)
        rc = parse_values(d, s, k[K_VALUES].val);
    if (rc == MB_OK)
        rc = parse_labels(d, s, k[K_LABELS].val);
    if (rc == MB_OK)
        rc = mb_yrequire(d, root, "", k, nk, "device");
    if (rc == MB_OK)
        rc = parse_device(d, s, k[K_DEVICE].val);
    if (rc == MB_OK) {
        size_t ne = fixed_emg_count(s);
        if (ne && s->dev_channels && (size_t)s->dev_channels != ne)
            rc = mb_error(MB_EFORMAT, "'%s' line %zu: 'device.channels' is %d but 'columns.emg' selects %zu columns",
                          d->path, mb_yline(k[K_DEVICE].val), s->dev_channels, ne);
        else if (ne && s->n_channel_names && s->n_channel_names != ne)
            rc = mb_error(MB_EFORMAT, "'%s' line %zu: 'device.channel_names' has %zu names but 'columns.emg' "
                          "selects %zu columns", d->path, mb_yline(k[K_DEVICE].val), s->n_channel_names, ne);
    }
    return rc;
}

int spec_parse(struct spec **out, const char *name, const char *text, size_t len)
{
    *out = NULL;
    struct spec *s = calloc(1, sizeof *s);
    if (!s)
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", name);
    s->path = strdup(name);
    s->text = malloc(len + 1);
    if (!s->path || !s->text) {
        spec_free(s);
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", name);
    }
    memcpy(s->text, text, len);
    s->text[len] = '\0';
    mb_sha256_hex(s->sha256, text, len);

    yaml_parser_t parser;
    struct mb_ydoc d = { .path = name };
    if (!yaml_parser_initialize(&parser)) {
        spec_free(s);
        return mb_error(MB_ENOMEM, "cannot start the YAML parser for '%s'", name);
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc;
    if (!yaml_parser_load(&parser, &d.doc)) {
        rc = mb_error(MB_EFORMAT, "'%s' line %zu: %s%s%s", name, parser.problem_mark.line + 1,
                      parser.problem ? parser.problem : "invalid YAML",
                      parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        spec_free(s);
        return rc;
    }
    yaml_node_t *root = yaml_document_get_root_node(&d.doc);
    if (!root) {
        rc = mb_error(MB_EFORMAT, "'%s': empty spec", name);
    } else {
        rc = parse_root(&d, s, root);
        /* A second document would silently be ignored; say so instead. */
        yaml_document_t extra;
        if (rc == MB_OK && yaml_parser_load(&parser, &extra)) {
            if (yaml_document_get_root_node(&extra))
                rc = mb_error(MB_EFORMAT, "'%s' line %zu: a spec is one YAML document; found a second one",
                              name, yaml_document_get_root_node(&extra)->start_mark.line + 1);
            yaml_document_delete(&extra);
        }
    }
    yaml_document_delete(&d.doc);
    yaml_parser_delete(&parser);
    if (rc != MB_OK) {
        spec_free(s);
        return rc;
    }
    *out = s;
    return MB_OK;
}

int spec_load(struct spec **out, const char *path)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return mb_error(MB_EIO, "cannot open spec '%s': %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 8192;
            if (cap > (1u << 24)) {
                free(buf);
                fclose(f);
                return mb_error(MB_EFORMAT, "spec '%s' is larger than 16 MB", path);
            }
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return mb_error(MB_ENOMEM, "out of memory reading '%s'", path);
            }
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return mb_error(MB_EIO, "cannot read spec '%s'", path);
    }
    int rc = spec_parse(out, path, buf ? buf : "", n);
    free(buf);
    return rc;
}

/* ---- file names --------------------------------------------------------- */

void *spec_match_data_new(const struct spec *s)
{
    return pcre2_match_data_create_from_pattern(s->re, NULL);
}

void spec_match_data_free(void *md)
{
    pcre2_match_data_free(md);
}

void spec_match_release(struct spec_match *m)
{
    free(m->subject);
    free(m->session);
    free(m->side);
    free(m->gesture);
    for (size_t i = 0; i < m->n_tags; i++) {
        free(m->tags[i].key);
        free(m->tags[i].value);
    }
    free(m->tags);
    memset(m, 0, sizeof *m);
}

/* Value of a named group in this match (malloc'ed), else its default, else NULL. */
static char *group_value(const struct spec *s, pcre2_match_data *md, const char *name, int *oom)
{
    int num = group_number(s, name);
    if (num) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        uint32_t npairs = pcre2_get_ovector_count(md);
        if ((uint32_t)num < npairs && ov[2 * num] != PCRE2_UNSET) {
            PCRE2_UCHAR *buf;
            PCRE2_SIZE len;
            if (pcre2_substring_get_bynumber(md, (uint32_t)num, &buf, &len) != 0) {
                *oom = 1;
                return NULL;
            }
            char *v = strdup((const char *)buf);
            pcre2_substring_free(buf);
            if (!v)
                *oom = 1;
            return v;
        }
    }
    for (size_t i = 0; i < s->n_defaults; i++)
        if (!strcmp(s->defaults[i].key, name)) {
            char *v = strdup(s->defaults[i].value);
            if (!v)
                *oom = 1;
            return v;
        }
    return NULL;
}

static int is_known_group(const char *name)
{
    static const char *const known[] = { "subject", "session", "day", "gesture", "repetition", "rep", "side", NULL };
    for (int i = 0; known[i]; i++)
        if (!strcmp(known[i], name))
            return 1;
    return 0;
}

int spec_match_path(const struct spec *s, void *mdv, const char *rel, struct spec_match *m)
{
    pcre2_match_data *md = mdv;
    memset(m, 0, sizeof *m);
    m->day = -1;
    m->repetition = -1;
    int r = pcre2_match(s->re, (PCRE2_SPTR)rel, PCRE2_ZERO_TERMINATED, 0, 0, md, NULL);
    if (r == PCRE2_ERROR_NOMATCH)
        return 0;
    if (r < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(r, msg, sizeof msg);
        return mb_error(MB_ERX, "matching '%s' against the pattern of '%s': %s", rel, s->path, (const char *)msg);
    }
    int oom = 0, rc = MB_OK;
    m->subject = group_value(s, md, "subject", &oom);
    m->session = group_value(s, md, "session", &oom);
    m->gesture = group_value(s, md, "gesture", &oom);
    char *side = group_value(s, md, "side", &oom);
    char *day = group_value(s, md, "day", &oom);
    char *rep = group_value(s, md, "repetition", &oom);
    if (!rep)
        rep = group_value(s, md, "rep", &oom);
    if (!oom && !m->session)
        oom = !(m->session = strdup(""));
    if (oom) {
        rc = mb_error(MB_ENOMEM, "out of memory matching '%s'", rel);
        goto done;
    }
    if (!m->subject || !m->subject[0]) {
        rc = mb_error(MB_EFORMAT, "'%s': the pattern of '%s' matched but gave an empty subject", rel, s->path);
        goto done;
    }
    long v;
    if (day && (mb_parse_long(day, &v) || v < 0 || v > 1000000)) {
        rc = mb_error(MB_EFORMAT, "'%s': group 'day' is '%s', not a non-negative integer", rel, day);
        goto done;
    }
    if (day)
        m->day = (int)v;
    if (rep && (mb_parse_long(rep, &v) || v < 0 || v > INT32_MAX)) {
        rc = mb_error(MB_EFORMAT, "'%s': group 'repetition' is '%s', not a non-negative integer", rel, rep);
        goto done;
    }
    if (rep)
        m->repetition = (int)v;
    const char *norm = "";
    if (side) {
        if (!strcasecmp(side, "left") || !strcasecmp(side, "l"))
            norm = "left";
        else if (!strcasecmp(side, "right") || !strcasecmp(side, "r"))
            norm = "right";
        else if (side[0]) {
            rc = mb_error(MB_EFORMAT, "'%s': group 'side' is '%s'; expected left, right, l or r", rel, side);
            goto done;
        }
    }
    if (!(m->side = strdup(norm))) {
        rc = mb_error(MB_ENOMEM, "out of memory matching '%s'", rel);
        goto done;
    }
    /* Any other named group (or default) becomes a recording tag: split,
     * position... PCRE2's name table is sorted, so tags come in name order. */
    uint32_t count = 0, esize = 0;
    PCRE2_SPTR table = NULL;
    pcre2_pattern_info(s->re, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(s->re, PCRE2_INFO_NAMEENTRYSIZE, &esize);
    pcre2_pattern_info(s->re, PCRE2_INFO_NAMETABLE, &table);
    size_t ntag = count + s->n_defaults;
    for (size_t i = 0; i < ntag && rc == MB_OK; i++) {
        const char *gname = i < count ? (const char *)(table + i * esize + 2) : s->defaults[i - count].key;
        if (is_known_group(gname) || (i >= count && group_number(s, gname)))
            continue;
        char *val = group_value(s, md, gname, &oom);
        if (!val) {
            if (oom)
                rc = mb_error(MB_ENOMEM, "out of memory matching '%s'", rel);
            continue;
        }
        struct spec_kv *t = realloc(m->tags, (m->n_tags + 1) * sizeof *t);
        if (t)
            m->tags = t;
        char *key = t ? strdup(gname) : NULL;
        if (!key) {
            free(val);
            rc = mb_error(MB_ENOMEM, "out of memory matching '%s'", rel);
            break;
        }
        t[m->n_tags].key = key;
        t[m->n_tags].value = val;
        m->n_tags++;
    }
done:
    free(side);
    free(day);
    free(rep);
    if (rc != MB_OK) {
        spec_match_release(m);
        return rc;
    }
    return 1;
}
