/* reports/json.c - the JSON report (see table.h, docs/REPORTS.md). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "reports/fmt.h"
#include "reports/table.h"

#define JSON_SCHEMA "myobench-report/1"

/* Builders that turn allocation failures into one flag instead of a check
 * per call: 'ok' is cleared and the value dropped. */
struct jb { int ok; };

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static void put(struct jb *j, json_t *obj, const char *key, json_t *v)
{
    if (!v || json_object_set_new(obj, key, v) != 0)
        j->ok = 0;
}

static void push(struct jb *j, json_t *arr, json_t *v)
{
    if (!v || json_array_append_new(arr, v) != 0)
        j->ok = 0;
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *method_name(const struct rep_cube *c, size_t m)
{
    return m == REP_NONE ? json_null() : json_string(c->method[m].name);
}

static json_t *design_json(struct jb *j, const struct rep_cube *c, const struct rep_design *d)
{
    json_t *o = json_object();
    if (!o) {
        j->ok = 0;
        return NULL;
    }
    put(j, o, "valid", json_boolean(d->valid));
    json_t *ms = json_array();
    for (size_t i = 0; ms && i < d->k; i++)
        push(j, ms, json_string(c->method[d->methods[i]].name));
    put(j, o, "methods", ms);
    put(j, o, "n_units", json_integer((json_int_t)d->n_units));
    if (!d->valid)
        return o;
    json_t *r = json_array();
    for (size_t i = 0; r && i < d->k; i++)
        push(j, r, num(d->avg_rank[i]));
    put(j, o, "avg_ranks", r);
    json_t *fr = json_object();
    if (fr) {
        put(j, fr, "chi2", num(d->fr.chi2));
        put(j, fr, "p", num(d->fr.p_chi2));
        put(j, fr, "F", num(d->fr.F));
        put(j, fr, "p_F", num(d->fr.p_F));
        put(j, fr, "df1", num(d->fr.df1));
        put(j, fr, "df2", num(d->fr.df2));
        put(j, fr, "tie_factor", num(d->fr.tie_factor));
    }
    put(j, o, "friedman", fr);
    put(j, o, "nemenyi_cd", num(d->cd));
    json_t *pairs = json_array();
    for (size_t a = 0; pairs && a < d->k; a++)
        for (size_t b = a + 1; b < d->k; b++) {
            json_t *p = json_object();
            if (p) {
                put(j, p, "a", json_string(c->method[d->methods[a]].name));
                put(j, p, "b", json_string(c->method[d->methods[b]].name));
                put(j, p, "p", num(d->p_pair[a * d->k + b]));
                put(j, p, "p_holm", num(d->p_pair_holm[a * d->k + b]));
            }
            push(j, pairs, p);
        }
    put(j, o, "pairs", pairs);
    return o;
}

static json_t *cell_json(struct jb *j, const struct rep_analysis *a, size_t b, size_t k, size_t m)
{
    const struct rep_cube *c = a->cube;
    const struct rep_cell *ce = rep_cell_at(a, b, k, m);
    json_t *o = json_object();
    if (!o) {
        j->ok = 0;
        return NULL;
    }
    put(j, o, "method", json_string(c->method[m].name));
    put(j, o, "status", json_string(ce->state == REP_VALUE ? "ok" : rep_state_word(ce->state)));
    if (ce->state == REP_MISSING)
        put(j, o, "reason", json_string(rep_cube_reason(c, b, m)));
    if (ce->state != REP_VALUE)
        return o;
    const double *v = rep_cube_values(c, b, m, k);
    json_t *vals = json_array();
    for (size_t s = 0; vals && s < c->block[b].n_subjects; s++)
        push(j, vals, num(v[s]));
    put(j, o, "values", vals);
    put(j, o, "n", json_integer((json_int_t)ce->s.n));
    put(j, o, "mean", num(ce->s.mean));
    put(j, o, "std", num(ce->s.std));
    put(j, o, "median", num(ce->s.median));
    put(j, o, "q1", num(ce->s.q1));
    put(j, o, "q3", num(ce->s.q3));
    put(j, o, "iqr", num(ce->s.iqr));
    put(j, o, "min", num(ce->s.min));
    put(j, o, "max", num(ce->s.max));
    json_t *ci = json_array();
    if (ci) {
        push(j, ci, num(ce->ci_lo));
        push(j, ci, num(ce->ci_hi));
    }
    put(j, o, "ci", ci);
    put(j, o, "rank", num(ce->rank));
    put(j, o, "best", json_boolean(ce->mark & REP_BEST));
    put(j, o, "second", json_boolean(ce->mark & REP_SECOND));
    put(j, o, "worse", json_boolean(ce->mark & REP_WORSE));
    json_t *vb = json_object();
    if (vb) {
        put(j, vb, "p", num(ce->p));
        put(j, vb, "p_holm", num(ce->p_holm));
        put(j, vb, "d_z", num(ce->d_z));
        put(j, vb, "rank_biserial", num(ce->rank_biserial));
    }
    put(j, o, "vs_best", vb);
    return o;
}

static json_t *report_json(struct jb *j, const struct rep_analysis *a)
{
    const struct rep_cube *c = a->cube;
    const struct rep_opts *op = &a->opts;
    json_t *root = json_object();
    if (!root) {
        j->ok = 0;
        return NULL;
    }
    put(j, root, "schema", json_string(JSON_SCHEMA));

    json_t *o = json_object();
    if (o) {
        put(j, o, "alpha", num(op->alpha));
        put(j, o, "ci_level", num(op->ci_level));
        put(j, o, "n_boot", json_integer((json_int_t)op->n_boot));
        /* JSON integers are signed 64-bit in jansson: larger seeds go as decimal strings */
        char seed[24];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)op->seed);
        put(j, o, "seed", op->seed <= (uint64_t)INT64_MAX ? json_integer((json_int_t)op->seed)
                                                          : json_string(seed));
        put(j, o, "test_vs_best", json_string(op->test == REP_TEST_SIGNFLIP ? "signflip" : "wilcoxon"));
        put(j, o, "correction", json_string("holm"));
        put(j, o, "cliques", json_string("wilcoxon-holm"));
        put(j, o, "std_ddof", json_integer(1));
        put(j, o, "quantiles", json_string("linear"));
        put(j, o, "rank_metric", json_string(c->metric[op->rank_metric].name));
    }
    put(j, root, "options", o);

    json_t *ms = json_array();
    for (size_t k = 0; ms && k < c->n_metrics; k++) {
        const struct rep_metric *mt = &c->metric[k];
        json_t *m = json_object();
        if (m) {
            put(j, m, "name", json_string(mt->name));
            put(j, m, "label", json_string(mt->label));
            put(j, m, "higher_is_better", json_boolean(mt->higher_is_better));
            put(j, m, "scale", num(mt->scale));
            put(j, m, "decimals", json_integer(mt->decimals));
        }
        push(j, ms, m);
    }
    put(j, root, "metrics", ms);

    json_t *me = json_array();
    for (size_t i = 0; me && i < c->n_methods; i++) {
        json_t *m = json_object();
        if (m) {
            put(j, m, "name", json_string(c->method[i].name));
            put(j, m, "group", str_or_null(c->method[i].group));
            put(j, m, "oracle", json_boolean(c->method[i].flags & REP_ORACLE));
        }
        push(j, me, m);
    }
    put(j, root, "methods", me);

    json_t *bs = json_array();
    for (size_t b = 0; bs && b < c->n_blocks; b++) {
        const struct rep_block *bl = &c->block[b];
        json_t *bo = json_object();
        if (!bo) {
            j->ok = 0;
            break;
        }
        put(j, bo, "dataset", json_string(bl->dataset));
        put(j, bo, "protocol", json_string(bl->protocol));
        put(j, bo, "n_subjects", json_integer((json_int_t)bl->n_subjects));
        json_t *subj = json_array();
        for (size_t s = 0; subj && s < bl->n_subjects; s++)
            push(j, subj, json_string(bl->subject[s]));
        put(j, bo, "subjects", subj);
        json_t *cols = json_array();
        for (size_t k = 0; cols && k < c->n_metrics; k++) {
            const struct rep_column *col = rep_column_at(a, b, k);
            json_t *co = json_object();
            if (co) {
                put(j, co, "metric", json_string(c->metric[k].name));
                put(j, co, "best", method_name(c, col->best));
                put(j, co, "second", method_name(c, col->second));
                json_t *cells = json_array();
                for (size_t m = 0; cells && m < c->n_methods; m++)
                    push(j, cells, cell_json(j, a, b, k, m));
                put(j, co, "cells", cells);
                put(j, co, "design", design_json(j, c, &col->d));
            }
            push(j, cols, co);
        }
        put(j, bo, "columns", cols);
        push(j, bs, bo);
    }
    put(j, root, "blocks", bs);

    json_t *pl = json_array();
    for (size_t k = 0; pl && k < c->n_metrics; k++) {
        const struct rep_pooled *po = &a->pooled[k];
        json_t *p = json_object();
        if (!p) {
            j->ok = 0;
            break;
        }
        put(j, p, "metric", json_string(c->metric[k].name));
        json_t *used = json_array();
        for (size_t i = 0; used && i < po->n_blocks_used; i++) {
            const struct rep_block *bl = &c->block[po->blocks_used[i]];
            json_t *u = json_object();
            if (u) {
                put(j, u, "dataset", json_string(bl->dataset));
                put(j, u, "protocol", json_string(bl->protocol));
            }
            push(j, used, u);
        }
        put(j, p, "blocks", used);
        put(j, p, "design", design_json(j, c, &po->d));
        put(j, p, "reference", method_name(c, po->reference));
        put(j, p, "independent_blocks", json_boolean(!po->shared_subjects));
        json_t *meta = json_array();
        for (size_t m = 0; meta && m < c->n_methods; m++) {
            if (po->meta[m].n_blocks == 0)
                continue;
            json_t *r = json_object();
            if (r) {
                put(j, r, "method", json_string(c->method[m].name));
                put(j, r, "n_blocks", json_integer((json_int_t)po->meta[m].n_blocks));
                put(j, r, "stouffer_z", num(po->meta[m].z));
                put(j, r, "p", num(po->meta[m].p));
                put(j, r, "effect_d_z", num(po->meta[m].effect));
            }
            push(j, meta, r);
        }
        put(j, p, "meta", meta);
        push(j, pl, p);
    }
    put(j, root, "pooled", pl);
    return root;
}

int rep_write_json(const char *path, const struct rep_analysis *a)
{
    struct jb j = { 1 };
    json_t *root = report_json(&j, a);
    if (!root || !j.ok) {
        json_decref(root);
        return mb_error(MB_ENOMEM, "'%s': cannot build the JSON report", path);
    }
    struct rep_out o;
    int rc = rep_out_open(&o, path);
    if (rc) {
        json_decref(root);
        return rc;
    }
    size_t flags = JSON_INDENT(1) | JSON_REAL_PRECISION(15);
    errno = 0;
    int bad = json_dumpf(root, o.f, flags) != 0 || fputc('\n', o.f) == EOF;
    int e = errno;   /* the failed write's reason (a full disk), before cleaning up */
    json_decref(root);
    if (bad) {
        rep_out_discard(&o);
        return mb_error(MB_EIO, "cannot write '%s': %s", path, strerror(e ? e : EIO));
    }
    return rep_out_close(&o);
}
