/* harness/plan.c - PLAN.yaml (libyaml's document loader, then a walk over
 * the node tree against a fixed schema) and the flags form, both resolved
 * against a method/protocol registry. */
#include "harness/plan.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "core/ydoc.h"

/* ---- registry lookups ----------------------------------------------------- */

static const struct mb_method *const *reg_methods(const struct hn_registry *reg)
{
    return reg && reg->methods ? reg->methods : mb_methods;
}

static const struct mb_protocol *const *reg_protocols(const struct hn_registry *reg)
{
    return reg && reg->protocols ? reg->protocols : mb_protocols;
}

/* Looks a name up without reporting; 'list' receives the known names. */
static const struct mb_method *lookup_method(const struct hn_registry *reg, const char *name, char *list, size_t cap)
{
    list[0] = 0;
    for (const struct mb_method *const *m = reg_methods(reg); *m; m++) {
        if (!strcmp((*m)->name, name))
            return *m;
        size_t l = strlen(list);
        snprintf(list + l, cap - l, "%s%s", l ? ", " : "", (*m)->name);
    }
    if (!list[0])
        snprintf(list, cap, "none");
    return NULL;
}

static const struct mb_protocol *lookup_protocol(const struct hn_registry *reg, const char *name, char *list,
                                                 size_t cap)
{
    list[0] = 0;
    for (const struct mb_protocol *const *p = reg_protocols(reg); *p; p++) {
        if (!strcmp((*p)->name, name))
            return *p;
        size_t l = strlen(list);
        snprintf(list + l, cap - l, "%s%s", l ? ", " : "", (*p)->name);
    }
    if (!list[0])
        snprintf(list, cap, "none");
    return NULL;
}

int hn_find_method(const struct mb_method **out, const struct hn_registry *reg, const char *name)
{
    char list[1024];
    if ((*out = lookup_method(reg, name, list, sizeof list)))
        return MB_OK;
    return mb_error(MB_EINVAL, "unknown method '%s' (known: %s)", name, list);
}

int hn_find_protocol(const struct mb_protocol **out, const struct hn_registry *reg, const char *name)
{
    char list[1024];
    if ((*out = lookup_protocol(reg, name, list, sizeof list)))
        return MB_OK;
    return mb_error(MB_EINVAL, "unknown protocol '%s' (known: %s)", name, list);
}

void hn_view_text(char *buf, size_t cap, const struct cp_view *v)
{
    snprintf(buf, cap, "rate_hz=%.17g,window_ms=%.17g,stride_ms=%.17g,majority=%d", v->rate_hz, v->window_ms,
             v->stride_ms, v->majority_label);
}

/* ---- growing the plan ------------------------------------------------------ */

static void view_default(struct cp_view *v)
{
    memset(v, 0, sizeof *v);
    v->rate_hz = 0;
    v->window_ms = 200;
    v->stride_ms = 50;
}

static int grow(void **arr, size_t n, size_t size)
{
    void *p = realloc(*arr, (n + 1) * size);
    if (!p)
        return mb_error(MB_ENOMEM, "out of memory building the plan");
    *arr = p;
    memset((char *)p + n * size, 0, size);
    return MB_OK;
}

static int add_data(struct hn_plan *pl, const char *path)
{
    if (grow((void **)&pl->data, pl->n_data, sizeof *pl->data))
        return MB_ENOMEM;
    if (!(pl->data[pl->n_data] = strdup(path)))
        return mb_error(MB_ENOMEM, "out of memory building the plan");
    pl->n_data++;
    return MB_OK;
}

/* 'where' prefixes messages: "'PLAN.yaml' line 7" or "command line". */
static int add_protocol(struct hn_plan *pl, const char *where, const struct mb_protocol *p, const char *label,
                        const struct pr_settings *s)
{
    char *text = mb_params_text_dup(p->settings, s);
    if (!text)
        return mb_error(MB_ENOMEM, "out of memory building the plan");
    for (size_t i = 0; i < pl->n_protocols; i++) {
        int rc = MB_OK;
        if (!strcmp(pl->protocol[i].label, label))
            rc = mb_error(MB_EINVAL, "%s: protocol variant '%s' appears twice in the plan", where, label);
        else if (pl->protocol[i].p == p && !strcmp(pl->protocol[i].settings, text))
            rc = mb_error(MB_EINVAL, "%s: protocol '%s' with the same settings as variant '%s'", where, p->name,
                          pl->protocol[i].label);
        if (rc) {
            free(text);
            return rc;
        }
    }
    if (grow((void **)&pl->protocol, pl->n_protocols, sizeof *pl->protocol)) {
        free(text);
        return MB_ENOMEM;
    }
    struct hn_protocol_spec *ps = &pl->protocol[pl->n_protocols];
    ps->p = p;
    ps->s = *s;
    ps->settings = text;
    if (!(ps->label = strdup(label))) {
        free(text);
        return mb_error(MB_ENOMEM, "out of memory building the plan");
    }
    pl->n_protocols++;
    return MB_OK;
}

/* Budget lists of one protocol entry (protocol.h, struct pr_budget). */
struct budget_lists {
    long *v[8];
    size_t n[8];
};

static size_t n_budgets(const struct mb_protocol *p)
{
    size_t n = 0;
    while (p->budgets && p->budgets[n].plan_key)
        n++;
    return n < 8 ? n : 8;
}

/* Expands one protocol entry into its variants: one per value of each
 * budget list; with no list given, one per default value of every budget;
 * a protocol without budgets is a single variant. */
static int add_protocol_variants(struct hn_plan *pl, const char *where, const struct mb_protocol *p, const char *label,
                                 const struct pr_settings *base, const struct budget_lists *bl)
{
    size_t nb = n_budgets(p), given = 0, dflt = 0;
    for (size_t b = 0; b < nb; b++) {
        given += bl ? bl->n[b] : 0;
        dflt += p->budgets[b].n_defaults;
    }
    if (!given && !dflt)
        return add_protocol(pl, where, p, label ? label : p->name, base);
    char name[256];
    for (size_t b = 0; b < nb; b++) {
        const struct pr_budget *bu = &p->budgets[b];
        const long *vals = given ? bl->v[b] : bu->defaults;
        size_t nv = given ? bl->n[b] : bu->n_defaults;
        const struct mb_param *key = NULL;
        for (size_t k = 0; p->settings && p->settings[k].key; k++)
            if (!strcmp(p->settings[k].key, bu->key))
                key = &p->settings[k];
        if (!key || key->type != MB_PT_INT)
            return mb_error(MB_EINVAL, "protocol '%s': budget '%s' is not an integer key of its settings", p->name,
                            bu->key);
        for (size_t i = 0; i < nv; i++) {
            struct pr_settings s = *base;
            *(long *)(void *)((char *)&s + key->off) = vals[i];
            snprintf(name, sizeof name, "%s-%s%ld", label ? label : p->name, bu->prefix, vals[i]);
            int rc = add_protocol(pl, where, p, name, &s);
            if (rc)
                return rc;
        }
    }
    return MB_OK;
}

static int add_method(struct hn_plan *pl, const char *where, const struct mb_method *m, const char *params,
                      const char *label)
{
    const char *lab = label ? label : m->name;
    /* Parsed once, here: a bad parameter would otherwise fail every job of
     * the row, one by one, with no pointer back to the plan. */
    void *hp = NULL;
    mb_error_quiet_begin();
    int rc = mb_method_parse(&hp, m, params);
    mb_error_quiet_end();
    if (rc) {
        char msg[1024];          /* a copy: mb_error writes the buffer it would read */
        snprintf(msg, sizeof msg, "%s", mb_last_error());
        return mb_error(MB_EINVAL, "%s: method '%s': %s", where, m->name, msg);
    }
    char *par = mb_method_params_text(m, hp);
    if (!par) {
        free(hp);
        return MB_ENOMEM;
    }
    for (size_t i = 0; i < pl->n_methods; i++) {
        if (!strcmp(pl->method[i].label, lab))
            rc = mb_error(MB_EINVAL, "%s: method row '%s' appears twice in the plan (give one a 'label')", where,
                          lab);
        /* Same method and parameter values: the same jobs (keys) under two rows. */
        else if (pl->method[i].m == m && !strcmp(pl->method[i].params, par))
            rc = mb_error(MB_EINVAL, "%s: method '%s' with parameters '%s' is already row '%s'", where, m->name,
                          params ? params : "(defaults)", pl->method[i].label);
        if (rc)
            break;
    }
    if (!rc && grow((void **)&pl->method, pl->n_methods, sizeof *pl->method))
        rc = MB_ENOMEM;
    if (rc) {
        free(hp);
        free(par);
        return rc;
    }
    struct hn_method_spec *ms = &pl->method[pl->n_methods++];
    ms->m = m;
    ms->hp = hp;
    ms->params = par;
    if (!(ms->label = strdup(lab)))
        return mb_error(MB_ENOMEM, "out of memory building the plan");
    return MB_OK;
}

static int add_seed(struct hn_plan *pl, uint64_t seed)
{
    for (size_t i = 0; i < pl->n_seeds; i++)
        if (pl->seed[i] == seed)
            return mb_error(MB_EINVAL, "seed %llu appears twice in the plan", (unsigned long long)seed);
    if (grow((void **)&pl->seed, pl->n_seeds, sizeof *pl->seed))
        return MB_ENOMEM;
    pl->seed[pl->n_seeds++] = seed;
    return MB_OK;
}

/* The canonical description stored with each run: everything that defines
 * the jobs, one item per line. */
static int plan_finish(struct hn_plan *pl, const char *origin)
{
    if (!pl->n_data)
        return mb_error(MB_EINVAL, "%s: no dataset", origin);
    if (!pl->n_protocols)
        return mb_error(MB_EINVAL, "%s: no protocol", origin);
    if (!pl->n_methods)
        return mb_error(MB_EINVAL, "%s: no method", origin);
    if (!pl->n_seeds && add_seed(pl, 1))
        return MB_ENOMEM;
    if (!(pl->view.window_ms > 0) || !(pl->view.stride_ms > 0) || pl->view.rate_hz < 0)
        return mb_error(MB_EINVAL, "%s: the view needs window_ms > 0, stride_ms > 0, rate_hz >= 0", origin);
    /* one line per item, any length (paths and parameter texts are unbounded) */
    char *t = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&t, &len);
    if (!f)
        return mb_error(MB_ENOMEM, "out of memory building the plan");
    for (size_t i = 0; i < pl->n_data; i++)
        fprintf(f, "data %s\n", pl->data[i]);
    for (size_t i = 0; i < pl->n_protocols; i++)
        fprintf(f, "protocol %s %s%s%s\n", pl->protocol[i].label, pl->protocol[i].p->name,
                pl->protocol[i].settings[0] ? " " : "", pl->protocol[i].settings);
    for (size_t i = 0; i < pl->n_methods; i++)
        fprintf(f, "method %s %s%s%s\n", pl->method[i].label, pl->method[i].m->name,
                pl->method[i].params[0] ? " " : "", pl->method[i].params);
    for (size_t i = 0; i < pl->n_seeds; i++)
        fprintf(f, "seed %llu\n", (unsigned long long)pl->seed[i]);
    char v[256];
    hn_view_text(v, sizeof v, &pl->view);
    fprintf(f, "view %s\n", v);
    if (fclose(f) || !t) {
        free(t);
        return mb_error(MB_ENOMEM, "out of memory building the plan");
    }
    pl->text = t;
    return MB_OK;
}

int hn_plan_check_data(const struct hn_plan *pl, const char *origin)
{
    for (size_t i = 0; i < pl->n_data; i++) {
        /* access() first: its errno says why ("Permission denied"), which
         * the HDF5 library would not */
        if (access(pl->data[i], R_OK) != 0)
            return mb_error(MB_EIO, "%s: cannot read dataset '%s': %s", origin, pl->data[i], strerror(errno));
        int rc = cp_corpus_check(pl->data[i], &pl->view);
        if (rc)
            return mb_error(rc, "%s: dataset '%s' refused (above); nothing was run or written", origin,
                            pl->data[i]);
    }
    return MB_OK;
}

void hn_plan_release(struct hn_plan *pl)
{
    if (!pl)
        return;
    for (size_t i = 0; i < pl->n_data; i++)
        free(pl->data[i]);
    free(pl->data);
    for (size_t i = 0; i < pl->n_protocols; i++) {
        free(pl->protocol[i].label);
        free(pl->protocol[i].settings);
    }
    free(pl->protocol);
    for (size_t i = 0; i < pl->n_methods; i++) {
        free(pl->method[i].hp);
        free(pl->method[i].params);
        free(pl->method[i].label);
    }
    free(pl->method);
    free(pl->seed);
    free(pl->text);
    memset(pl, 0, sizeof *pl);
}

/* ---- numbers --------------------------------------------------------------- */

/* Digits only: strtoull also skips blanks and takes a sign, and would
 * read " -1" as 2^64 - 1. */
static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

/* A data path relative to the plan's folder. */
static int add_data_rel(struct hn_plan *pl, struct mb_ydoc *d, const char *v)
{
    const char *slash = strrchr(d->path, '/');
    if (v[0] == '/' || !slash)
        return add_data(pl, v);
    char buf[4096];
    int n = snprintf(buf, sizeof buf, "%.*s/%s", (int)(slash - d->path), d->path, v);
    if (n < 0 || (size_t)n >= sizeof buf)
        return mb_error(MB_EINVAL, "'%s': data path '%s' is too long", d->path, v);
    return add_data(pl, buf);
}

/* 1 if 'key' is the settings key of one of p's budgets (given as a list under the budget's plan_key). */
static int is_budget_key(const struct mb_protocol *p, const char *key)
{
    for (size_t b = 0; p->budgets && p->budgets[b].plan_key; b++)
        if (!strcmp(p->budgets[b].key, key))
            return 1;
    return 0;
}

/* One settings key of a protocol entry, typed by the protocol's table. */
static int parse_setting(struct pr_settings *s, struct mb_ydoc *d, yaml_node_t *v, const struct mb_param *k)
{
    char *at = (char *)s + k->off;
    int rc;
    if (k->type == MB_PT_INT) {
        long x;
        if ((rc = mb_yint(d, v, k->key, (long)k->lo, (long)k->hi, &x)))
            return rc;
        *(long *)(void *)at = x;
    } else if (k->type == MB_PT_REAL) {
        if ((rc = mb_ynum(d, v, k->key, k->lo, k->hi, (double *)(void *)at)))
            return rc;
    } else {
        const char *b;
        if ((rc = mb_yscalar(d, v, k->key, &b)))
            return rc;
        if (!strcmp(b, "true") || !strcmp(b, "1"))
            *(int *)(void *)at = 1;
        else if (!strcmp(b, "false") || !strcmp(b, "0"))
            *(int *)(void *)at = 0;
        else
            return mb_error(MB_EFORMAT, "'%s' line %zu: '%s' must be true or false, got '%s'", d->path, mb_yline(v),
                            k->key, b);
    }
    return MB_OK;
}

/* A protocol entry: a name alone, or a map of name, label, the keys the
 * protocol declares (protocol.h) and its budget lists. The plan knows no
 * protocol's keys: each protocol's table says what it accepts. */
static int parse_protocol(struct hn_plan *pl, struct mb_ydoc *d, yaml_node_t *n, const struct hn_registry *reg)
{
    struct pr_settings s;
    const struct mb_protocol *p;
    const char *name;
    char list[1024], where[4200];
    int rc;
    if (n->type == YAML_SCALAR_NODE) {
        name = (const char *)n->data.scalar.value;
        if (!(p = lookup_protocol(reg, name, list, sizeof list)))
            return mb_error(MB_EINVAL, "'%s' line %zu: key 'protocols': unknown protocol '%s' (known: %s)", d->path,
                            mb_yline(n), name, list);
        snprintf(where, sizeof where, "'%s' line %zu: key 'protocols'", d->path, mb_yline(n));
        if ((rc = pr_settings_parse(&s, p, NULL)))
            return rc;
        return add_protocol_variants(pl, where, p, name, &s, NULL);
    }
    /* the name first, to know which keys the entry may have */
    yaml_node_t *nv = NULL;
    if (n->type == YAML_MAPPING_NODE)
        for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
            yaml_node_t *kn = yaml_document_get_node(&d->doc, pr->key);
            if (kn && kn->type == YAML_SCALAR_NODE && !strcmp((const char *)kn->data.scalar.value, "name"))
                nv = yaml_document_get_node(&d->doc, pr->value);
        }
    if (!nv)
        return mb_error(MB_EFORMAT, "'%s' line %zu: a protocol entry has no 'name' (required)", d->path, mb_yline(n));
    if ((rc = mb_yscalar(d, nv, "name", &name)))
        return rc;
    if (!(p = lookup_protocol(reg, name, list, sizeof list)))
        return mb_error(MB_EINVAL, "'%s' line %zu: key 'name': unknown protocol '%s' (known: %s)", d->path,
                        mb_yline(nv), name, list);
    size_t ns = mb_params_count(p->settings), nb = n_budgets(p), nk = 0;
    struct mb_ykey *k = calloc(2 + ns + nb, sizeof *k);
    if (!k)
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", d->path);
    k[nk++].name = "name";
    k[nk++].name = "label";
    for (size_t i = 0; i < ns; i++)
        if (!is_budget_key(p, p->settings[i].key))
            k[nk++].name = p->settings[i].key;
    for (size_t b = 0; b < nb; b++)
        k[nk++].name = p->budgets[b].plan_key;
    struct budget_lists bl;
    memset(&bl, 0, sizeof bl);
    const char *label = NULL;
    yaml_node_t *v;
    if ((rc = mb_ymap(d, n, "protocols", k, nk)))
        goto out;
    if ((v = mb_yget(k, nk, "label")) && (rc = mb_yscalar(d, v, "label", &label)))
        goto out;
    if (label && !label[0]) {   /* no report could name the block: it would fail after every job ran */
        rc = mb_error(MB_EFORMAT, "'%s' line %zu: key 'label' is empty (it names the protocol's report block)",
                      d->path, mb_yline(v));
        goto out;
    }
    if ((rc = pr_settings_parse(&s, p, NULL)))
        goto out;
    for (size_t i = 0; !rc && i < ns; i++)
        if (!is_budget_key(p, p->settings[i].key) && (v = mb_yget(k, nk, p->settings[i].key)))
            rc = parse_setting(&s, d, v, &p->settings[i]);
    for (size_t b = 0; !rc && b < nb; b++)
        if ((v = mb_yget(k, nk, p->budgets[b].plan_key)))
            rc = mb_yint_list(d, v, p->budgets[b].plan_key, p->budgets[b].lo, p->budgets[b].hi, &bl.v[b], &bl.n[b]);
    snprintf(where, sizeof where, "'%s' line %zu: key 'protocols'", d->path, mb_yline(n));
    if (!rc && p->check) {
        mb_error_quiet_begin();
        rc = p->check(&s);
        mb_error_quiet_end();
        if (rc) {
            char msg[1024];          /* a copy: mb_error writes the buffer it would read */
            snprintf(msg, sizeof msg, "%s", mb_last_error());
            rc = mb_error(MB_EINVAL, "%s: protocol '%s': %s", where, p->name, msg);
        }
    }
    if (!rc)
        rc = add_protocol_variants(pl, where, p, label, &s, &bl);
out:
    for (size_t b = 0; b < nb; b++)
        free(bl.v[b]);
    free(k);
    return rc;
}

static int parse_method(struct hn_plan *pl, struct mb_ydoc *d, yaml_node_t *n, const struct hn_registry *reg)
{
    const struct mb_method *m;
    const char *name, *params = NULL, *label = NULL;
    char list[1024];
    int rc;
    if (n->type == YAML_SCALAR_NODE) {
        name = (const char *)n->data.scalar.value;
        if (!(m = lookup_method(reg, name, list, sizeof list)))
            return mb_error(MB_EINVAL, "'%s' line %zu: key 'methods': unknown method '%s' (known: %s)", d->path,
                            mb_yline(n), name, list);
        char where[4200];
        snprintf(where, sizeof where, "'%s' line %zu: key 'methods'", d->path, mb_yline(n));
        return add_method(pl, where, m, NULL, NULL);
    }
    struct mb_ykey k[] = { { "name", NULL, 0 }, { "params", NULL, 0 }, { "label", NULL, 0 } };
    if ((rc = mb_ymap(d, n, "methods", k, 3)))
        return rc;
    yaml_node_t *v;
    if (!(v = mb_yget(k, 3, "name")))
        return mb_error(MB_EFORMAT, "'%s' line %zu: a method entry has no 'name' (required)", d->path, mb_yline(n));
    if ((rc = mb_yscalar(d, v, "name", &name)))
        return rc;
    if (!(m = lookup_method(reg, name, list, sizeof list)))
        return mb_error(MB_EINVAL, "'%s' line %zu: key 'name': unknown method '%s' (known: %s)", d->path, mb_yline(v),
                        name, list);
    if ((v = mb_yget(k, 3, "params")) && (rc = mb_yscalar(d, v, "params", &params)))
        return rc;
    if ((v = mb_yget(k, 3, "label")) && (rc = mb_yscalar(d, v, "label", &label)))
        return rc;
    if (label && !label[0])   /* no report could name the row: it would fail after every job ran */
        return mb_error(MB_EFORMAT, "'%s' line %zu: key 'label' is empty (it names the method's report row)",
                        d->path, mb_yline(v));
    char where[4200];
    snprintf(where, sizeof where, "'%s' line %zu: key 'methods'", d->path, mb_yline(n));
    return add_method(pl, where, m, params, label);
}

static int parse_root(struct hn_plan *pl, struct mb_ydoc *d, yaml_node_t *root, const struct hn_registry *reg)
{
    struct mb_ykey k[] = { { "data", NULL, 0 }, { "view", NULL, 0 }, { "protocols", NULL, 0 }, { "methods", NULL, 0 },
                        { "seeds", NULL, 0 } };
    size_t nk = sizeof k / sizeof *k;
    int rc = mb_ymap(d, root, "plan", k, nk);
    if (rc)
        return rc;
    static const char *const required[] = { "data", "protocols", "methods" };
    for (size_t i = 0; i < 3; i++)
        if (!mb_yget(k, nk, required[i]))
            return mb_error(MB_EFORMAT, "'%s' line %zu: missing required key '%s'", d->path, mb_yline(root),
                            required[i]);
    yaml_node_t **it = NULL, *v;
    size_t cnt = 0;
    if ((rc = mb_ylist(d, mb_yget(k, nk, "data"), "data", &it, &cnt)))
        return rc;
    for (size_t i = 0; i < cnt && !rc; i++) {
        const char *s;
        if (!(rc = mb_yscalar(d, it[i], "data", &s)))
            rc = s[0] ? add_data_rel(pl, d, s)
                      : mb_error(MB_EFORMAT, "'%s' line %zu: key 'data' is empty (a unified file is needed)", d->path,
                                 mb_yline(it[i]));
    }
    free(it);
    if (rc || (rc = mb_ylist(d, mb_yget(k, nk, "protocols"), "protocols", &it, &cnt)))
        return rc;
    for (size_t i = 0; i < cnt && !rc; i++)
        rc = parse_protocol(pl, d, it[i], reg);
    free(it);
    if (rc || (rc = mb_ylist(d, mb_yget(k, nk, "methods"), "methods", &it, &cnt)))
        return rc;
    for (size_t i = 0; i < cnt && !rc; i++)
        rc = parse_method(pl, d, it[i], reg);
    free(it);
    if (rc)
        return rc;
    if ((v = mb_yget(k, nk, "seeds"))) {
        if ((rc = mb_ylist(d, v, "seeds", &it, &cnt)))
            return rc;
        for (size_t i = 0; i < cnt && !rc; i++) {
            const char *s;
            uint64_t seed;
            if (!(rc = mb_yscalar(d, it[i], "seeds", &s))) {
                if (parse_u64(s, &seed))
                    rc = mb_error(MB_EFORMAT, "'%s' line %zu: 'seeds' must hold non-negative integers, got '%s'",
                                  d->path, mb_yline(it[i]), s);
                else
                    for (size_t j = 0; j < pl->n_seeds && !rc; j++)
                        if (pl->seed[j] == seed)
                            rc = mb_error(MB_EFORMAT, "'%s' line %zu: key 'seeds': seed %s appears twice", d->path,
                                          mb_yline(it[i]), s);
                if (!rc)
                    rc = add_seed(pl, seed);
            }
        }
        free(it);
        if (rc)
            return rc;
    }
    if ((v = mb_yget(k, nk, "view"))) {
        struct mb_ykey vk[] = { { "rate_hz", NULL, 0 }, { "window_ms", NULL, 0 }, { "stride_ms", NULL, 0 },
                             { "majority_label", NULL, 0 } };
        if ((rc = mb_ymap(d, v, "view", vk, 4)))
            return rc;
        yaml_node_t *x;
        if ((x = mb_yget(vk, 4, "rate_hz")) && (rc = mb_ynum(d, x, "rate_hz", 0, 1e6, &pl->view.rate_hz)))
            return rc;
        if ((x = mb_yget(vk, 4, "window_ms")) && (rc = mb_ynum(d, x, "window_ms", 1e-3, 1e6, &pl->view.window_ms)))
            return rc;
        if ((x = mb_yget(vk, 4, "stride_ms")) && (rc = mb_ynum(d, x, "stride_ms", 1e-3, 1e6, &pl->view.stride_ms)))
            return rc;
        long mj;
        if ((x = mb_yget(vk, 4, "majority_label"))) {
            if ((rc = mb_yint(d, x, "majority_label", 0, 1, &mj)))
                return rc;
            pl->view.majority_label = (int)mj;
        }
    }
    return MB_OK;
}

int hn_plan_load(struct hn_plan *pl, const char *path, const struct hn_registry *reg)
{
    memset(pl, 0, sizeof *pl);
    view_default(&pl->view);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return mb_error(MB_EIO, "cannot open plan '%s': %s", path, strerror(errno));
    yaml_parser_t parser;
    struct mb_ydoc d = { .path = path };
    int rc = MB_OK;
    if (!yaml_parser_initialize(&parser)) {
        fclose(fp);
        return mb_error(MB_ENOMEM, "cannot initialise the YAML parser for '%s'", path);
    }
    yaml_parser_set_input_file(&parser, fp);
    if (!yaml_parser_load(&parser, &d.doc)) {
        rc = mb_error(MB_EFORMAT, "'%s' line %zu: %s", path, parser.problem_mark.line + 1,
                      parser.problem ? parser.problem : "YAML syntax error");
        yaml_parser_delete(&parser);
        fclose(fp);
        return rc;
    }
    yaml_parser_delete(&parser);
    fclose(fp);
    yaml_node_t *root = yaml_document_get_root_node(&d.doc);
    if (!root)
        rc = mb_error(MB_EFORMAT, "'%s': the plan is empty", path);
    else
        rc = parse_root(pl, &d, root, reg);
    yaml_document_delete(&d.doc);
    if (!rc)
        rc = plan_finish(pl, path);
    if (rc)
        hn_plan_release(pl);
    return rc;
}

/* ---- flags ------------------------------------------------------------------- */

/* Calls fn on each comma-separated item of list. */
static int each_item(const char *list, const char *flag, int (*fn)(struct hn_plan *, const char *, const void *),
                     struct hn_plan *pl, const void *ctx)
{
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        return mb_error(MB_ENOMEM, "out of memory building the plan");
    int rc = MB_OK, any = 0;
    for (char *t = strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
        rc = fn(pl, t, ctx);
        any = 1;
    }
    free(copy);
    if (!rc && !any)
        rc = mb_error(MB_EINVAL, "option '%s' has an empty list", flag);
    return rc;
}

struct flag_ctx {
    const struct hn_registry *reg;
    const struct hn_flags *f;
};

static int flag_data(struct hn_plan *pl, const char *t, const void *ctx)
{
    (void)ctx;
    return add_data(pl, t);
}

static int flag_protocol(struct hn_plan *pl, const char *t, const void *ctx)
{
    const struct flag_ctx *c = ctx;
    const struct mb_protocol *p;
    int rc = hn_find_protocol(&p, c->reg, t);
    if (rc)
        return rc;
    struct pr_settings s;
    if ((rc = pr_settings_parse(&s, p, NULL)))
        return rc;
    /* --folds is for the protocols that have folds; the others ignore it */
    for (size_t k = 0; c->f->folds >= 0 && p->settings && p->settings[k].key; k++)
        if (!strcmp(p->settings[k].key, "folds")) {
            s.folds = c->f->folds;
            if (p->check && (rc = p->check(&s)))
                return rc;
        }
    return add_protocol_variants(pl, "command line", p, t, &s, NULL);
}

static int flag_method(struct hn_plan *pl, const char *t, const void *ctx)
{
    const struct flag_ctx *c = ctx;
    const struct mb_method *m;
    int rc = hn_find_method(&m, c->reg, t);
    return rc ? rc : add_method(pl, "command line", m, NULL, NULL);
}

static int flag_seed(struct hn_plan *pl, const char *t, const void *ctx)
{
    (void)ctx;
    uint64_t s;
    if (parse_u64(t, &s))
        return mb_error(MB_EINVAL, "option '--seeds' needs non-negative integers, got '%s'", t);
    return add_seed(pl, s);
}

int hn_plan_from_flags(struct hn_plan *pl, const struct hn_flags *f, const struct hn_registry *reg)
{
    memset(pl, 0, sizeof *pl);
    view_default(&pl->view);
    struct flag_ctx c = { reg, f };
    int rc = MB_OK;
    if (!f->data || !f->protocols || !f->methods)
        rc = mb_error(MB_EINVAL, "the flags form needs --data, --protocol and --methods");
    if (!rc)
        rc = each_item(f->data, "--data", flag_data, pl, &c);
    if (!rc)
        rc = each_item(f->protocols, "--protocol", flag_protocol, pl, &c);
    if (!rc)
        rc = each_item(f->methods, "--methods", flag_method, pl, &c);
    if (!rc && f->seeds)
        rc = each_item(f->seeds, "--seeds", flag_seed, pl, &c);
    if (!rc) {
        if (f->rate_hz >= 0)
            pl->view.rate_hz = f->rate_hz;
        if (f->window_ms >= 0)
            pl->view.window_ms = f->window_ms;
        if (f->stride_ms >= 0)
            pl->view.stride_ms = f->stride_ms;
        rc = plan_finish(pl, "command line");
    }
    if (rc)
        hn_plan_release(pl);
    return rc;
}
