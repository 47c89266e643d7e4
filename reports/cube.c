/* reports/cube.c - the results cube (see cube.h). */
#include "reports/cube.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s, int *fail)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *fail = 1;
    return d;
}

static int valid_key(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
              || *s == '_' || *s == '.' || *s == '-'))
            return 0;
    return 1;
}

struct rep_cube *rep_cube_new(const char *const *methods, size_t n_methods,
                              const struct rep_metric *metrics, size_t n_metrics)
{
    if (n_methods == 0 || n_metrics == 0) {
        mb_error(MB_EINVAL, "rep_cube_new: %zu methods and %zu metrics; need at least one of each",
                 n_methods, n_metrics);
        return NULL;
    }
    for (size_t i = 0; i < n_methods; i++) {
        if (!methods[i] || !*methods[i]) {
            mb_error(MB_EINVAL, "rep_cube_new: method %zu has no name", i);
            return NULL;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(methods[i], methods[j]) == 0) {
                mb_error(MB_EINVAL, "rep_cube_new: method '%s' given twice", methods[i]);
                return NULL;
            }
    }
    for (size_t k = 0; k < n_metrics; k++) {
        const struct rep_metric *m = &metrics[k];
        if (!valid_key(m->name)) {
            mb_error(MB_EINVAL, "rep_cube_new: metric %zu name '%s' is not [A-Za-z0-9_.-]+", k,
                     m->name ? m->name : "(null)");
            return NULL;
        }
        if (!(m->scale > 0.0) || !isfinite(m->scale) || m->decimals < 0 || m->decimals > 6) {
            mb_error(MB_EINVAL, "rep_cube_new: metric '%s' has scale %g and %d decimals "
                     "(need scale > 0, 0..6 decimals)", m->name, m->scale, m->decimals);
            return NULL;
        }
        for (size_t j = 0; j < k; j++)
            if (strcmp(m->name, metrics[j].name) == 0) {
                mb_error(MB_EINVAL, "rep_cube_new: metric '%s' given twice", m->name);
                return NULL;
            }
    }
    struct rep_cube *c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    c->n_methods = n_methods;
    c->n_metrics = n_metrics;
    c->method = calloc(n_methods, sizeof *c->method);
    c->metric = calloc(n_metrics, sizeof *c->metric);
    if (!c->method || !c->metric)
        goto oom;
    int fail = 0;
    for (size_t i = 0; i < n_methods; i++)
        c->method[i].name = dup_or_null(methods[i], &fail);
    for (size_t k = 0; k < n_metrics; k++) {
        c->metric[k] = metrics[k];
        c->metric[k].name = dup_or_null(metrics[k].name, &fail);
        c->metric[k].label = dup_or_null(metrics[k].label ? metrics[k].label : metrics[k].name, &fail);
    }
    if (fail)
        goto oom;
    return c;
oom:
    rep_cube_free(c);
    mb_error(MB_ENOMEM, "rep_cube_new: %zu methods, %zu metrics", n_methods, n_metrics);
    return NULL;
}

static void block_release(struct rep_block *b, size_t n_methods)
{
    free(b->dataset);
    free(b->protocol);
    if (b->subject)
        for (size_t i = 0; i < b->n_subjects; i++)
            free(b->subject[i]);
    free(b->subject);
    free(b->state);
    free(b->value);
    if (b->reason)
        for (size_t m = 0; m < n_methods; m++)
            free(b->reason[m]);
    free(b->reason);
}

void rep_cube_free(struct rep_cube *c)
{
    if (!c)
        return;
    if (c->method)
        for (size_t i = 0; i < c->n_methods; i++) {
            free(c->method[i].name);
            free(c->method[i].group);
        }
    if (c->metric)
        for (size_t k = 0; k < c->n_metrics; k++) {
            free((char *)c->metric[k].name);
            free((char *)c->metric[k].label);
        }
    for (size_t b = 0; b < c->n_blocks; b++)
        block_release(&c->block[b], c->n_methods);
    free(c->method);
    free(c->metric);
    free(c->block);
    free(c);
}

int rep_cube_set_method(struct rep_cube *c, size_t m, const char *group, unsigned flags)
{
    if (m >= c->n_methods)
        return mb_error(MB_EINVAL, "rep_cube_set_method: method %zu of %zu", m, c->n_methods);
    if (flags & ~REP_ORACLE)
        return mb_error(MB_EINVAL, "rep_cube_set_method: method '%s': unknown flags 0x%x",
                        c->method[m].name, flags);
    int fail = 0;
    char *g = dup_or_null(group, &fail);
    if (fail)
        return mb_error(MB_ENOMEM, "rep_cube_set_method: group of '%s'", c->method[m].name);
    free(c->method[m].group);
    c->method[m].group = g;
    c->method[m].flags = flags;
    return MB_OK;
}

int rep_cube_add_block(struct rep_cube *c, size_t *b, const char *dataset, const char *protocol,
                       const char *const *subjects, size_t n_subjects)
{
    if (!dataset || !*dataset || !protocol || !*protocol)
        return mb_error(MB_EINVAL, "rep_cube_add_block: a block needs a dataset and a protocol name");
    if (rep_cube_block(c, dataset, protocol) != REP_NONE)
        return mb_error(MB_EINVAL, "rep_cube_add_block: block '%s' / '%s' added twice", dataset, protocol);
    if (n_subjects == 0)
        return mb_error(MB_EINVAL, "rep_cube_add_block: block '%s' / '%s' has no subjects", dataset, protocol);
    for (size_t i = 0; i < n_subjects; i++) {
        if (!subjects[i] || !*subjects[i])
            return mb_error(MB_EINVAL, "rep_cube_add_block: block '%s' / '%s': subject %zu has no id",
                            dataset, protocol, i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(subjects[i], subjects[j]) == 0)
                return mb_error(MB_EINVAL, "rep_cube_add_block: block '%s' / '%s': subject '%s' twice",
                                dataset, protocol, subjects[i]);
    }
    if (c->n_blocks == c->cap_blocks) {
        size_t cap = c->cap_blocks ? 2 * c->cap_blocks : 8;
        struct rep_block *nb = realloc(c->block, cap * sizeof *nb);
        if (!nb)
            return mb_error(MB_ENOMEM, "rep_cube_add_block: %zu blocks", cap);
        c->block = nb;
        c->cap_blocks = cap;
    }
    struct rep_block *bl = &c->block[c->n_blocks];
    memset(bl, 0, sizeof *bl);
    int fail = 0;
    bl->dataset = dup_or_null(dataset, &fail);
    bl->protocol = dup_or_null(protocol, &fail);
    bl->n_subjects = n_subjects;
    bl->subject = calloc(n_subjects, sizeof *bl->subject);
    bl->state = calloc(c->n_methods * c->n_metrics, 1);
    bl->value = calloc(c->n_methods * c->n_metrics * n_subjects, sizeof *bl->value);
    bl->reason = calloc(c->n_methods, sizeof *bl->reason);
    if (bl->subject)
        for (size_t i = 0; i < n_subjects; i++)
            bl->subject[i] = dup_or_null(subjects[i], &fail);
    if (fail || !bl->subject || !bl->state || !bl->value || !bl->reason) {
        block_release(bl, c->n_methods);
        return mb_error(MB_ENOMEM, "rep_cube_add_block: block '%s' / '%s' with %zu subjects",
                        dataset, protocol, n_subjects);
    }
    *b = c->n_blocks++;
    return MB_OK;
}

/* Frees the reason of (b, m) once none of its cells is missing any more. */
static void drop_reason(struct rep_cube *c, size_t b, size_t m)
{
    struct rep_block *bl = &c->block[b];
    for (size_t k = 0; k < c->n_metrics; k++)
        if (bl->state[m * c->n_metrics + k] == REP_MISSING)
            return;
    free(bl->reason[m]);
    bl->reason[m] = NULL;
}

static int check_index(const struct rep_cube *c, size_t b, size_t m, const char *what)
{
    if (b >= c->n_blocks)
        return mb_error(MB_EINVAL, "%s: block %zu of %zu", what, b, c->n_blocks);
    if (m >= c->n_methods)
        return mb_error(MB_EINVAL, "%s: method %zu of %zu", what, m, c->n_methods);
    return MB_OK;
}

int rep_cube_set(struct rep_cube *c, size_t b, size_t m, size_t k, const double *values)
{
    int rc = check_index(c, b, m, "rep_cube_set");
    if (rc)
        return rc;
    if (k >= c->n_metrics)
        return mb_error(MB_EINVAL, "rep_cube_set: metric %zu of %zu", k, c->n_metrics);
    struct rep_block *bl = &c->block[b];
    for (size_t i = 0; i < bl->n_subjects; i++)
        if (!isfinite(values[i]))
            return mb_error(MB_ENUM, "rep_cube_set: '%s' / '%s', method '%s', metric '%s', subject '%s': "
                            "value %g is not finite", bl->dataset, bl->protocol, c->method[m].name,
                            c->metric[k].name, bl->subject[i], values[i]);
    memcpy(bl->value + (m * c->n_metrics + k) * bl->n_subjects, values,
           bl->n_subjects * sizeof *values);
    bl->state[m * c->n_metrics + k] = REP_VALUE;
    drop_reason(c, b, m);
    return MB_OK;
}

int rep_cube_set_na(struct rep_cube *c, size_t b, size_t m)
{
    int rc = check_index(c, b, m, "rep_cube_set_na");
    if (rc)
        return rc;
    for (size_t k = 0; k < c->n_metrics; k++)
        c->block[b].state[m * c->n_metrics + k] = REP_NA;
    drop_reason(c, b, m);
    return MB_OK;
}

int rep_cube_set_missing(struct rep_cube *c, size_t b, size_t m, const char *reason)
{
    int rc = check_index(c, b, m, "rep_cube_set_missing");
    if (rc)
        return rc;
    struct rep_block *bl = &c->block[b];
    char *r = strdup(reason && *reason ? reason : "no result");
    if (!r)
        return mb_error(MB_ENOMEM, "rep_cube_set_missing: reason of '%s' in '%s' / '%s'", c->method[m].name,
                        bl->dataset, bl->protocol);
    free(bl->reason[m]);
    bl->reason[m] = r;
    for (size_t k = 0; k < c->n_metrics; k++)
        bl->state[m * c->n_metrics + k] = REP_MISSING;
    return MB_OK;
}

const char *rep_state_word(enum rep_state s)
{
    static const char *const word[] = {
        [REP_EMPTY] = "empty", [REP_VALUE] = "value", [REP_NA] = "n/a", [REP_MISSING] = "missing",
    };
    return (size_t)s < sizeof word / sizeof *word ? word[s] : "?";
}

int rep_cube_has_missing(const struct rep_cube *c)
{
    for (size_t b = 0; b < c->n_blocks; b++)
        for (size_t i = 0; i < c->n_methods * c->n_metrics; i++)
            if (c->block[b].state[i] == REP_MISSING)
                return 1;
    return 0;
}

size_t rep_cube_method(const struct rep_cube *c, const char *name)
{
    for (size_t i = 0; i < c->n_methods; i++)
        if (strcmp(c->method[i].name, name) == 0)
            return i;
    return REP_NONE;
}

size_t rep_cube_metric(const struct rep_cube *c, const char *name)
{
    for (size_t k = 0; k < c->n_metrics; k++)
        if (strcmp(c->metric[k].name, name) == 0)
            return k;
    return REP_NONE;
}

size_t rep_cube_block(const struct rep_cube *c, const char *dataset, const char *protocol)
{
    for (size_t b = 0; b < c->n_blocks; b++)
        if (strcmp(c->block[b].dataset, dataset) == 0 && strcmp(c->block[b].protocol, protocol) == 0)
            return b;
    return REP_NONE;
}
