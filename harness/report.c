/* harness/report.c - results database -> results cube -> the writers of
 * reports/ (tables, figures) and info.txt. Every query has an ORDER BY, so
 * the bytes depend on the stored results only, never on commit order. */
#include "harness/report.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/version.h"
#include "harness/run.h"
#include "harness/store.h"
#include "reports/analysis.h"
#include "reports/fmt.h"
#include "reports/svg.h"
#include "reports/table.h"

static const struct rep_metric metrics[] = {
    { "bacc", "BAcc (%)", 1, 100.0, 1 },
    { "macro_f1", "Macro-F1 (%)", 1, 100.0, 1 },
    { "acc", "Acc (%)", 1, 100.0, 1 },
};
#define N_METRICS (sizeof metrics / sizeof *metrics)

struct blk {
    char *dataset, *protocol;
    size_t cube_block;           /* REP_NONE: no subject results, not in the cube */
};

struct rdb {
    sqlite3 *db;
    const char *path;
    size_t n_blocks;
    struct blk *blk;
    size_t n_methods;
    char **method;
    struct rep_cube *cube;
    unsigned char *planned;      /* [n_blocks x n_methods] by cube block: 1 if the store has a job of
                                  * (block, method); a method no plan paired with a block is left out
                                  * of that block's own tables */
    char *notes;                 /* lines for info.txt */
    size_t notes_len;
};

static int q_fail(struct rdb *r, const char *what)
{
    return mb_error(MB_EIO, "results store '%s': %s: %s", r->path, what, sqlite3_errmsg(r->db));
}

static int prep(struct rdb *r, sqlite3_stmt **st, const char *sql)
{
    if (sqlite3_prepare_v2(r->db, sql, -1, st, NULL) != SQLITE_OK)
        return q_fail(r, "query");
    return MB_OK;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return v ? v : "";
}

static int note(struct rdb *r, const char *fmt, ...) MB_PRINTF(2, 3);
static int note(struct rdb *r, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t l = strlen(line);
    char *n = realloc(r->notes, r->notes_len + l + 2);
    if (!n)
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", r->path);
    memcpy(n + r->notes_len, line, l);
    n[r->notes_len + l] = '\n';
    n[r->notes_len + l + 1] = 0;
    r->notes = n;
    r->notes_len += l + 1;
    return MB_OK;
}

static void rdb_close(struct rdb *r)
{
    for (size_t i = 0; i < r->n_blocks; i++) {
        free(r->blk[i].dataset);
        free(r->blk[i].protocol);
    }
    free(r->blk);
    for (size_t i = 0; i < r->n_methods; i++)
        free(r->method[i]);
    free(r->method);
    rep_cube_free(r->cube);
    free(r->planned);
    free(r->notes);
    if (r->db)
        sqlite3_close(r->db);
    memset(r, 0, sizeof *r);
}

/* Status counts of the jobs of (block, method). */
struct counts {
    size_t total, ok, na, failed, pending;
};

static int block_counts(struct rdb *r, struct counts *c, const struct blk *b, const char *method)
{
    sqlite3_stmt *st;
    memset(c, 0, sizeof *c);
    int rc = prep(r, &st,
                  "SELECT status, COUNT(*) FROM jobs WHERE dataset = ? AND protocol = ? AND method = ? "
                  "GROUP BY status ORDER BY status");
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, b->dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b->protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, method, -1, SQLITE_STATIC);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *s = col_text(st, 0);
        size_t n = (size_t)sqlite3_column_int64(st, 1);
        c->total += n;
        if (!strcmp(s, "ok"))
            c->ok += n;
        else if (!strcmp(s, "na"))
            c->na += n;
        else if (!strcmp(s, "failed"))
            c->failed += n;
        else
            c->pending += n;
    }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? MB_OK : q_fail(r, "counting jobs");
}

/* First message (in key order) of the jobs of (block, method) with a status. */
static int block_message(struct rdb *r, char *buf, size_t cap, const struct blk *b, const char *method,
                         const char *status)
{
    sqlite3_stmt *st;
    int rc = prep(r, &st,
                  "SELECT message FROM jobs WHERE dataset = ? AND protocol = ? AND method = ? AND status = ? "
                  "ORDER BY key LIMIT 1");
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, b->dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b->protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, method, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
    buf[0] = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(buf, cap, "%s", col_text(st, 0));
    sqlite3_finalize(st);
    return MB_OK;
}

/* The block's subjects: every subject some ok job tested, by corpus index. */
static int block_subjects(struct rdb *r, const struct blk *b, int32_t **ids, char ***names, size_t *n)
{
    sqlite3_stmt *st;
    *ids = NULL;
    *names = NULL;
    *n = 0;
    int rc = prep(r, &st,
                  "SELECT sm.subject, MIN(sm.subject_name) FROM subject_metrics sm JOIN jobs j ON sm.job = j.key "
                  "WHERE j.dataset = ? AND j.protocol = ? AND j.status = 'ok' GROUP BY sm.subject ORDER BY sm.subject");
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, b->dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b->protocol, -1, SQLITE_STATIC);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int32_t *ni = realloc(*ids, (*n + 1) * sizeof **ids);
        if (ni)
            *ids = ni;
        char **nn = realloc(*names, (*n + 1) * sizeof **names);
        if (nn)
            *names = nn;
        char buf[64];
        const char *nm = col_text(st, 1);
        if (!nm[0]) {
            snprintf(buf, sizeof buf, "%d", sqlite3_column_int(st, 0));
            nm = buf;
        }
        if (!ni || !nn || !((*names)[*n] = strdup(nm))) {
            sqlite3_finalize(st);
            return mb_error(MB_ENOMEM, "out of memory reading '%s'", r->path);
        }
        (*ids)[*n] = sqlite3_column_int(st, 0);
        (*n)++;
    }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? MB_OK : q_fail(r, "reading subjects");
}

/* Marks (block cb, method m) missing: its jobs failed, did not finish or
 * gave no usable value although the method can run the protocol (n/a would
 * say it cannot). The reason goes into the cube (CSV, JSON) and, as an
 * "incomplete" line, into info.txt. */
static int missing(struct rdb *r, const struct blk *b, size_t cb, size_t m, const char *fmt, ...) MB_PRINTF(5, 6);
static int missing(struct rdb *r, const struct blk *b, size_t cb, size_t m, const char *fmt, ...)
{
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    int rc = note(r, "incomplete  %s / %s / %s: %s", b->dataset, b->protocol, r->method[m], why);
    return rc ? rc : rep_cube_set_missing(r->cube, cb, m, why);
}

/* Fills cell (block cb, method m): per-subject means, n/a with a note, or
 * missing with a note. */
static int fill_cell(struct rdb *r, const struct blk *b, size_t cb, size_t m, const int32_t *ids, size_t ns)
{
    struct counts c;
    char msg[600];
    const char *meth = r->method[m];
    int rc = block_counts(r, &c, b, meth);
    if (rc)
        return rc;
    r->planned[cb * r->n_methods + m] = c.total > 0;
    if (!c.total) {
        if ((rc = note(r, "n/a  %s / %s / %s: not in the plan (the store has no job of this pair)", b->dataset,
                       b->protocol, meth)))
            return rc;
        return rep_cube_set_na(r->cube, cb, m);
    }
    if (c.na) {
        if ((rc = block_message(r, msg, sizeof msg, b, meth, "na")))
            return rc;
        if ((rc = note(r, "n/a  %s / %s / %s: %s", b->dataset, b->protocol, meth, msg)))
            return rc;
        return rep_cube_set_na(r->cube, cb, m);
    }
    if (!c.total || c.failed || c.pending) {
        msg[0] = 0;
        if (c.failed && (rc = block_message(r, msg, sizeof msg, b, meth, "failed")))
            return rc;
        char why[800];
        snprintf(why, sizeof why, "%zu of %zu jobs ok, %zu failed, %zu not finished%s%s", c.ok, c.total, c.failed,
                 c.pending, msg[0] ? "; first failure: " : "", msg);
        return missing(r, b, cb, m, "%s", why);
    }
    double *sum = calloc(ns * N_METRICS + 1, sizeof *sum);
    size_t *cnt = calloc(ns + 1, sizeof *cnt);
    sqlite3_stmt *st = NULL;
    if (!sum || !cnt) {
        rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", r->path);
        goto out;
    }
    if ((rc = prep(r, &st,
                   "SELECT sm.subject, sm.balanced_accuracy, sm.macro_f1, sm.accuracy FROM subject_metrics sm "
                   "JOIN jobs j ON sm.job = j.key WHERE j.dataset = ? AND j.protocol = ? AND j.method = ? "
                   "AND j.status = 'ok' ORDER BY sm.subject, j.seed, j.fold_pos, j.key")))
        goto out;
    sqlite3_bind_text(st, 1, b->dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b->protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, meth, -1, SQLITE_STATIC);
    int step;
    size_t s = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int32_t id = sqlite3_column_int(st, 0);
        while (s < ns && ids[s] < id)
            s++;
        if (s == ns || ids[s] != id)
            continue;   /* cannot happen: the subjects come from the same rows */
        for (size_t k = 0; k < N_METRICS; k++) {
            /* Every metric is a rate in [0, 1]. SQLite stores a NaN as NULL, which
             * reads as 0.0, and a damaged store can hold anything: such a value
             * makes the cell missing, never a number in the tables. */
            int col = 1 + (int)k, type = sqlite3_column_type(st, col);
            double x = sqlite3_column_double(st, col);
            if ((type != SQLITE_FLOAT && type != SQLITE_INTEGER) || !(x >= 0.0 && x <= 1.0)) {
                char val[64];
                if (type == SQLITE_NULL)
                    snprintf(val, sizeof val, "NULL");
                else if (type == SQLITE_FLOAT || type == SQLITE_INTEGER)
                    snprintf(val, sizeof val, "%g", x);
                else
                    snprintf(val, sizeof val, "%.40s", col_text(st, col));
                rc = missing(r, b, cb, m, "metric %s of subject %d is %s, not a rate in [0, 1]", metrics[k].name,
                             id, val);
                goto out;
            }
            sum[s * N_METRICS + k] += x;
        }
        cnt[s]++;
    }
    if (step != SQLITE_DONE) {
        rc = q_fail(r, "reading subject metrics");
        goto out;
    }
    for (s = 0; s < ns; s++)
        if (!cnt[s]) {
            rc = missing(r, b, cb, m, "no result for subject %d", ids[s]);
            goto out;
        }
    for (size_t k = 0; k < N_METRICS && !rc; k++) {
        double v[ns + 1];
        for (s = 0; s < ns; s++)
            v[s] = sum[s * N_METRICS + k] / (double)cnt[s];   /* in [0, 1]: every term is */
        rc = rep_cube_set(r->cube, cb, m, k, v);
    }
out:
    sqlite3_finalize(st);
    free(sum);
    free(cnt);
    return rc;
}

/* What must be the same across the jobs of one report block. A block is
 * found by labels only (dataset, protocol variant, method), and the store
 * keeps every job ever planned, so a re-plan with other settings, another
 * build or another corpus of the same name would otherwise be averaged
 * into the same cells. per_method: the column may differ between methods of
 * a block (each row has its own parameters) but not within one row. */
static const struct {
    const char *col, *what;
    int per_method;
} same_cols[] = {
    { "corpus_sha", "corpora (SHA-256)", 0 }, { "settings", "protocol settings", 0 },
    { "view", "views", 0 },                   { "version", "software versions (version+source hash)", 0 },
    { "params", "method parameters", 1 },
};

/* Refuses the store when some block mixes jobs that differ in a column of
 * same_cols, naming the block and the two first differing values. */
static int check_blocks_uniform(struct rdb *r)
{
    for (size_t i = 0; i < sizeof same_cols / sizeof *same_cols; i++) {
        const char *c = same_cols[i].col;
        const char *grp = same_cols[i].per_method ? "dataset, protocol, method" : "dataset, protocol";
        char sql[512];
        snprintf(sql, sizeof sql,
                 "SELECT dataset, protocol, %s, MIN(%s), MAX(%s) FROM jobs GROUP BY %s "
                 "HAVING COUNT(DISTINCT %s) > 1 ORDER BY MIN(dataset_pos), 1, MIN(protocol_pos), 2, 3 LIMIT 1",
                 same_cols[i].per_method ? "method" : "''", c, c, grp, c);
        sqlite3_stmt *st;
        int rc = prep(r, &st, sql);
        if (rc)
            return rc;
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            const char *m = col_text(st, 2);
            rc = mb_error(MB_EINVAL,
                          "results store '%s': block %s / %s%s%s mixes jobs of different %s ('%.100s' and "
                          "'%.100s'), e.g. from runs of other plans, builds or corpora into the same store; "
                          "run each into its own --db, or delete the old jobs",
                          r->path, col_text(st, 0), col_text(st, 1), m[0] ? " / " : "", m, same_cols[i].what,
                          col_text(st, 3), col_text(st, 4));
        } else if (step != SQLITE_DONE)
            rc = q_fail(r, "checking blocks");
        sqlite3_finalize(st);
        if (rc)
            return rc;
    }
    return MB_OK;
}

/* Refuses jobs without a dataset, protocol or method label: tables name
 * blocks and rows by them. Plans refuse empty labels; older plans did not,
 * and a damaged store can hold anything. */
static int check_labels(struct rdb *r)
{
    static const char *const cols[] = { "dataset", "protocol", "method" };
    for (size_t i = 0; i < sizeof cols / sizeof *cols; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM jobs WHERE %s IS NULL OR %s = ''", cols[i], cols[i]);
        sqlite3_stmt *st;
        int rc = prep(r, &st, sql);
        if (rc)
            return rc;
        int step = sqlite3_step(st);
        long long n = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_finalize(st);
        if (step != SQLITE_ROW)
            return q_fail(r, "checking labels");
        if (n)
            return mb_error(MB_EFORMAT,
                            "results store '%s': %lld %s an empty %s label, so no table can name %s; "
                            "remove %s (myobench prune --%s '') and run the plan again with a label",
                            r->path, n, n == 1 ? "job has" : "jobs have", cols[i], n == 1 ? "it" : "them",
                            n == 1 ? "it" : "them", cols[i]);
    }
    return MB_OK;
}

static int rdb_open(struct rdb *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    if (!mb_fs_is_file(path))
        return mb_error(MB_EIO, "results store '%s' does not exist", path);
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return q_fail(r, "cannot open");
    sqlite3_busy_timeout(r->db, 60000);
    sqlite3_stmt *st;
    int rc = prep(r, &st, "SELECT value FROM meta WHERE key = 'schema'");
    if (rc)
        return rc;
    if (sqlite3_step(st) != SQLITE_ROW || strcmp(col_text(st, 0), HN_STORE_SCHEMA))
        rc = mb_error(MB_ESCHEMA, "'%s' is not a myobench results store of schema '%s'", path, HN_STORE_SCHEMA);
    sqlite3_finalize(st);
    if (rc)
        return rc;
    if ((rc = check_labels(r)))
        return rc;
    if ((rc = check_blocks_uniform(r)))
        return rc;
    /* Methods in plan order. */
    if ((rc = prep(r, &st, "SELECT method, MIN(method_pos), MAX(method_caps) FROM jobs GROUP BY method "
                           "ORDER BY 2, 1")))
        return rc;
    unsigned *caps = NULL;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char **nm = realloc(r->method, (r->n_methods + 1) * sizeof *nm);
        if (nm)
            r->method = nm;
        unsigned *nc = realloc(caps, (r->n_methods + 1) * sizeof *nc);
        if (nc)
            caps = nc;
        if (!nm || !nc || !(r->method[r->n_methods] = strdup(col_text(st, 0)))) {
            rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", path);
            break;
        }
        caps[r->n_methods++] = (unsigned)sqlite3_column_int(st, 2);
    }
    if (!rc && step != SQLITE_DONE)
        rc = q_fail(r, "reading methods");
    sqlite3_finalize(st);
    if (!rc && !r->n_methods)
        rc = mb_error(MB_EINVAL, "results store '%s' holds no job", path);
    if (!rc && !(r->cube = rep_cube_new((const char *const *)r->method, r->n_methods, metrics, N_METRICS)))
        rc = MB_ENOMEM;
    for (size_t m = 0; m < r->n_methods && !rc; m++)
        if (caps[m] & MB_CAP_ORACLE)
            rc = rep_cube_set_method(r->cube, m, "oracle", REP_ORACLE);
    free(caps);
    if (rc)
        return rc;
    /* Blocks in plan order. */
    if ((rc = prep(r, &st, "SELECT dataset, protocol, MIN(dataset_pos), MIN(protocol_pos) FROM jobs "
                           "GROUP BY dataset, protocol ORDER BY 3, 1, 4, 2")))
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct blk *nb = realloc(r->blk, (r->n_blocks + 1) * sizeof *nb);
        if (!nb) {
            rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", path);
            break;
        }
        r->blk = nb;
        struct blk *b = &r->blk[r->n_blocks++];
        b->dataset = strdup(col_text(st, 0));
        b->protocol = strdup(col_text(st, 1));
        b->cube_block = REP_NONE;
        if (!b->dataset || !b->protocol) {
            rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", path);
            break;
        }
    }
    if (!rc && step != SQLITE_DONE)
        rc = q_fail(r, "reading blocks");
    sqlite3_finalize(st);
    if (!rc && !(r->planned = calloc(r->n_blocks * r->n_methods + 1, 1)))
        rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", path);
    for (size_t i = 0; i < r->n_blocks && !rc; i++) {
        struct blk *b = &r->blk[i];
        int32_t *ids;
        char **names;
        size_t ns;
        rc = block_subjects(r, b, &ids, &names, &ns);
        if (!rc && !ns) {
            /* the reason of an n/a job, if any: an all-n/a block (a refused
             * few-shot budget) must say why it has no table */
            char why[600] = "";
            for (size_t m = 0; m < r->n_methods && !rc && !why[0]; m++)
                rc = block_message(r, why, sizeof why, b, r->method[m], "na");
            if (!rc)
                rc = note(r, "empty  %s / %s: no subject result (every job n/a, failed or unfinished)%s%s",
                          b->dataset, b->protocol, why[0] ? "; n/a: " : "", why);
        }
        else if (!rc)
            rc = rep_cube_add_block(r->cube, &b->cube_block, b->dataset, b->protocol, (const char *const *)names, ns);
        for (size_t m = 0; m < r->n_methods && !rc && ns; m++)
            rc = fill_cell(r, b, b->cube_block, m, ids, ns);
        for (size_t s = 0; s < ns; s++)
            free(names[s]);
        free(names);
        free(ids);
    }
    return rc;
}

/* A cube holding blocks sel[0..n_sel) of 'c', in that order, and the methods that
 * some plan paired with one of them (planned: [cube blocks x methods]). */
static struct rep_cube *cube_blocks(const struct rep_cube *c, const size_t *sel, size_t n_sel,
                                    const unsigned char *planned)
{
    const char *names[c->n_methods + 1];
    size_t keep[c->n_methods + 1], nk = 0;
    for (size_t m = 0; m < c->n_methods; m++) {
        int any = 0;
        for (size_t i = 0; i < n_sel; i++)
            any |= planned[sel[i] * c->n_methods + m];
        if (any) {
            names[nk] = c->method[m].name;
            keep[nk++] = m;
        }
    }
    struct rep_cube *o = nk ? rep_cube_new(names, nk, c->metric, c->n_metrics) : NULL;
    if (!o)
        return NULL;
    int rc = MB_OK;
    for (size_t j = 0; j < nk && !rc; j++)
        rc = rep_cube_set_method(o, j, c->method[keep[j]].group, c->method[keep[j]].flags);
    for (size_t i = 0; i < n_sel && !rc; i++) {
        const struct rep_block *bl = &c->block[sel[i]];
        size_t nb;
        rc = rep_cube_add_block(o, &nb, bl->dataset, bl->protocol, (const char *const *)bl->subject, bl->n_subjects);
        for (size_t j = 0; j < nk && !rc; j++) {
            size_t m = keep[j];
            for (size_t k = 0; k < c->n_metrics && !rc; k++) {
                enum rep_state st = rep_cube_state(c, sel[i], m, k);
                if (st == REP_NA) {
                    rc = rep_cube_set_na(o, nb, j);
                    break;
                }
                if (st == REP_MISSING) {
                    rc = rep_cube_set_missing(o, nb, j, rep_cube_reason(c, sel[i], m));
                    break;
                }
                if (st == REP_VALUE)
                    rc = rep_cube_set(o, nb, j, k, rep_cube_values(c, sel[i], m, k));
            }
        }
    }
    if (rc) {
        rep_cube_free(o);
        return NULL;
    }
    return o;
}

static struct rep_cube *cube_one_block(const struct rep_cube *c, size_t b, const unsigned char *planned)
{
    return cube_blocks(c, &b, 1, planned);
}

/* Characters safe in a file name; everything else becomes '_'. */
static void slug(char *out, size_t cap, const char *s)
{
    size_t i = 0;
    for (; *s && i + 1 < cap; s++)
        out[i++] = (char)((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                                  *s == '-' || *s == '.' || *s == '+'
                              ? *s
                              : '_');
    out[i] = 0;
    if (!strcmp(out, ".") || !strcmp(out, "..") || !out[0])
        snprintf(out, cap, "_");
}

static int write_tables(const struct rep_analysis *a, const char *dir, const char *base, unsigned formats)
{
    char p[4096];
    int rc = MB_OK;
    if (!rc && (formats & HN_FMT_MD)) {
        snprintf(p, sizeof p, "%s/%s.md", dir, base);
        rc = rep_write_md(p, a);
    }
    if (!rc && (formats & HN_FMT_LATEX)) {
        snprintf(p, sizeof p, "%s/%s.tex", dir, base);
        rc = rep_write_tex(p, a);
    }
    if (!rc && (formats & HN_FMT_CSV)) {
        snprintf(p, sizeof p, "%s/%s.csv", dir, base);
        rc = rep_write_csv_long(p, a);
        snprintf(p, sizeof p, "%s/%s-wide.csv", dir, base);
        if (!rc)
            rc = rep_write_csv_wide(p, a);
    }
    if (!rc && (formats & HN_FMT_JSON)) {
        snprintf(p, sizeof p, "%s/%s.json", dir, base);
        rc = rep_write_json(p, a);
    }
    return rc;
}

/* Summed confusion counts of (block, method) over every ok job and subject. */
static int write_confusion(struct rdb *r, const struct blk *b, const char *method, const char *path)
{
    sqlite3_stmt *st;
    int rc = prep(r, &st,
                  "SELECT c.true_id, c.pred_id, SUM(c.count), MIN(j.corpus_sha) FROM confusion c "
                  "JOIN jobs j ON c.job = j.key WHERE j.dataset = ? AND j.protocol = ? AND j.method = ? "
                  "AND j.status = 'ok' GROUP BY c.true_id, c.pred_id ORDER BY c.true_id, c.pred_id");
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, b->dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b->protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, method, -1, SQLITE_STATIC);
    size_t n = 0, cap = 0;
    int64_t *rows = NULL;        /* [n x 3] true, pred, count */
    char sha[65] = "";
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            int64_t *nr = realloc(rows, cap * 3 * sizeof *rows);
            if (!nr) {
                rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", r->path);
                break;
            }
            rows = nr;
        }
        rows[3 * n] = sqlite3_column_int64(st, 0);
        rows[3 * n + 1] = sqlite3_column_int64(st, 1);
        rows[3 * n + 2] = sqlite3_column_int64(st, 2);
        snprintf(sha, sizeof sha, "%s", col_text(st, 3));
        n++;
    }
    if (!rc && step != SQLITE_DONE)
        rc = q_fail(r, "reading confusion counts");
    sqlite3_finalize(st);
    /* Classes: the sorted union of true and predicted ids. */
    size_t K = 0;
    int64_t *cls = rc ? NULL : malloc((2 * n + 1) * sizeof *cls);
    if (!rc && !cls)
        rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", r->path);
    for (size_t i = 0; i < n && !rc; i++)
        for (int w = 0; w < 2; w++) {
            int64_t id = rows[3 * i + w];
            size_t j = 0;
            while (j < K && cls[j] < id)
                j++;
            if (j < K && cls[j] == id)
                continue;
            memmove(cls + j + 1, cls + j, (K - j) * sizeof *cls);
            cls[j] = id;
            K++;
        }
    if (!rc && K >= 1 && K <= 200) {
        size_t *cm = calloc(K * K, sizeof *cm);
        char **names = calloc(K, sizeof *names);
        sqlite3_stmt *g = NULL;
        if (!cm || !names)
            rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", r->path);
        if (!rc)
            rc = prep(r, &g, "SELECT name FROM gestures WHERE corpus_sha = ? AND id = ?");
        for (size_t i = 0; i < n && !rc; i++) {
            size_t t = 0, p = 0;
            while (cls[t] != rows[3 * i])
                t++;
            while (cls[p] != rows[3 * i + 1])
                p++;
            cm[t * K + p] = (size_t)rows[3 * i + 2];
        }
        for (size_t k = 0; k < K && !rc; k++) {
            sqlite3_bind_text(g, 1, sha, -1, SQLITE_STATIC);
            sqlite3_bind_int64(g, 2, cls[k]);
            char buf[256];
            if (sqlite3_step(g) == SQLITE_ROW && col_text(g, 0)[0])
                snprintf(buf, sizeof buf, "%s", col_text(g, 0));
            else
                snprintf(buf, sizeof buf, "%lld", (long long)cls[k]);
            sqlite3_reset(g);
            if (!(names[k] = strdup(buf)))
                rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", r->path);
        }
        sqlite3_finalize(g);
        char title[512];
        snprintf(title, sizeof title, "%s / %s / %s", b->dataset, b->protocol, method);
        if (!rc)
            rc = rep_write_confusion_svg(path, cm, K, (const char *const *)names, title);
        for (size_t k = 0; names && k < K; k++)
            free(names[k]);
        free(names);
        free(cm);
    }
    free(cls);
    free(rows);
    return rc;
}

/* Lines of one single-column query, each prefixed. */
static int info_lines(struct rdb *r, FILE *f, const char *prefix, const char *sql)
{
    sqlite3_stmt *st;
    int rc = prep(r, &st, sql);
    if (rc)
        return rc;
    int step, nc = sqlite3_column_count(st);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        fputs(prefix, f);
        for (int i = 0; i < nc; i++)
            fprintf(f, "%s%s", i ? "  " : "", col_text(st, i));
        fputc('\n', f);
    }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? MB_OK : q_fail(r, "writing info.txt");
}

static int write_info(struct rdb *r, const char *path)
{
    struct rep_out o;
    int rc = rep_out_open(&o, path);
    if (rc)
        return rc;
    FILE *f = o.f;
    fprintf(f, "myobench report %s\n", hn_version());
    fprintf(f, "store schema %s\n\n", HN_STORE_SCHEMA);
    /* Only runs that computed a stored result: a resumed plan and an
     * uninterrupted one list the same versions, machines and threads. */
    static const struct {
        const char *prefix, *sql;
    } q[] = {
        { "software version  ", "SELECT DISTINCT version FROM jobs WHERE status IN ('ok', 'na') ORDER BY 1" },
        { "machine  ", "SELECT DISTINCT machine FROM runs WHERE id IN (SELECT run_id FROM jobs WHERE status IN "
                       "('ok', 'na')) ORDER BY 1" },
        { "threads per run  ", "SELECT DISTINCT threads FROM jobs WHERE status IN ('ok', 'na') ORDER BY 1" },
        { "job status  ", "SELECT status, COUNT(*) FROM jobs GROUP BY status ORDER BY status" },
        { "corpus  ", "SELECT sha256, name, path, n_subjects || ' subjects', n_windows || ' windows' FROM corpora "
                      "WHERE sha256 IN (SELECT corpus_sha FROM jobs) ORDER BY name, sha256" },
        { "view  ", "SELECT DISTINCT view FROM jobs ORDER BY 1" },
        { "method  ", "SELECT DISTINCT method, method_name, params FROM jobs ORDER BY method_pos, method" },
        { "protocol  ", "SELECT DISTINCT protocol, protocol_name, settings FROM jobs ORDER BY protocol_pos, protocol" },
        { "manifest  ", "SELECT DISTINCT dataset, protocol, 'seed ' || seed, fold_id, manifest_sha FROM jobs "
                        "ORDER BY dataset_pos, protocol_pos, seed, fold_pos, fold_id" },
    };
    for (size_t i = 0; i < sizeof q / sizeof *q && !rc; i++) {
        rc = info_lines(r, f, q[i].prefix, q[i].sql);
        if (i == 3 || i == 7)
            fputc('\n', f);
    }
    if (!rc)
        fprintf(f, "\ncells (n/a with the reason, incomplete = missing, empty blocks)\n%s", r->notes ? r->notes : "none\n");
    if (rc) {
        rep_out_discard(&o);
        return rc;
    }
    return rep_out_close(&o);
}

static int analyse(struct rep_analysis **a, const struct rep_cube *c)
{
    struct rep_opts opts;
    rep_opts_default(&opts);
    return rep_analyse(a, c, &opts);
}

/* The table a paper prints per protocol: every dataset run under it as a column
 * group, average ranks and the critical-difference diagram over all (dataset,
 * subject) units, Stouffer across datasets. Written for protocols with two or
 * more datasets (one dataset is its <dataset>/<protocol>/ table). */
static int write_protocol_tables(const struct rep_cube *c, const unsigned char *planned, const char *out_dir,
                                 unsigned formats)
{
    size_t *sel = malloc((c->n_blocks ? c->n_blocks : 1) * sizeof *sel); /* [n_blocks] */
    if (!sel)
        return mb_error(MB_ENOMEM, "report: %zu blocks", c->n_blocks);
    int rc = MB_OK;
    for (size_t b = 0; b < c->n_blocks && !rc; b++) {
        const char *proto = c->block[b].protocol;
        int first = 1;
        for (size_t e = 0; e < b && first; e++)
            first = strcmp(c->block[e].protocol, proto) != 0;
        if (!first)
            continue;
        size_t n = 0;
        for (size_t e = b; e < c->n_blocks; e++)
            if (!strcmp(c->block[e].protocol, proto))
                sel[n++] = e;
        if (n < 2)
            continue;
        char pr[256], dir[4096], p[4200];
        slug(pr, sizeof pr, proto);
        snprintf(dir, sizeof dir, "%s/protocols/%s", out_dir, pr);
        if ((rc = mb_fs_mkdirs(dir)))
            break;
        struct rep_cube *sub = cube_blocks(c, sel, n, planned);
        if (!sub) {
            rc = mb_error(MB_ENOMEM, "cannot build the cube of protocol %s", proto);
            break;
        }
        struct rep_analysis *a = NULL;
        rc = analyse(&a, sub);
        if (!rc)
            rc = write_tables(a, dir, "table", formats);
        if (!rc && a->pooled[a->opts.rank_metric].d.valid) {
            snprintf(p, sizeof p, "%s/cd-%s.svg", dir, metrics[a->opts.rank_metric].name);
            rc = rep_write_cd_svg(p, a, REP_NONE, a->opts.rank_metric);
        }
        rep_analysis_free(a);
        rep_cube_free(sub);
    }
    free(sel);
    return rc;
}

int hn_report_write(const char *db_path, const char *out_dir, unsigned formats)
{
    struct rdb r;
    int rc = rdb_open(&r, db_path);
    if (!rc)
        rc = mb_fs_mkdirs(out_dir);
    struct rep_analysis *a = NULL;
    if (!rc && r.cube->n_blocks) {
        rc = analyse(&a, r.cube);
        if (!rc)
            rc = write_tables(a, out_dir, "all", formats);
        rep_analysis_free(a);
    }
    if (!rc)
        rc = write_protocol_tables(r.cube, r.planned, out_dir, formats);
    for (size_t i = 0; i < r.n_blocks && !rc; i++) {
        const struct blk *b = &r.blk[i];
        if (b->cube_block == REP_NONE)
            continue;
        char ds[256], pr[256], dir[4096], p[4600];
        slug(ds, sizeof ds, b->dataset);
        slug(pr, sizeof pr, b->protocol);
        snprintf(dir, sizeof dir, "%s/%s/%s", out_dir, ds, pr);
        if ((rc = mb_fs_mkdirs(dir)))
            break;
        struct rep_cube *one = cube_one_block(r.cube, b->cube_block, r.planned);
        if (!one) {
            rc = mb_error(MB_ENOMEM, "cannot build the cube of %s / %s", b->dataset, b->protocol);
            break;
        }
        rc = analyse(&a, one);
        if (!rc)
            rc = write_tables(a, dir, "table", formats);
        if (!rc && rep_column_at(a, 0, 0)->d.valid) {
            snprintf(p, sizeof p, "%s/cd-%s.svg", dir, metrics[0].name);
            rc = rep_write_cd_svg(p, a, 0, 0);
        }
        if (!rc) {
            snprintf(p, sizeof p, "%s/subjects-%s.svg", dir, metrics[0].name);
            rc = rep_write_strip_svg(p, a, 0, 0);
        }
        for (size_t m = 0; m < one->n_methods && !rc; m++) {
            if (rep_cube_state(one, 0, m, 0) != REP_VALUE)
                continue;
            char ms[256];
            slug(ms, sizeof ms, one->method[m].name);
            snprintf(p, sizeof p, "%s/confusion-%s.svg", dir, ms);
            rc = write_confusion(&r, b, one->method[m].name, p);
        }
        rep_analysis_free(a);
        a = NULL;
        rep_cube_free(one);
    }
    if (!rc) {
        char p[4200];
        snprintf(p, sizeof p, "%s/info.txt", out_dir);
        rc = write_info(&r, p);
    }
    rdb_close(&r);
    return rc;
}

int hn_report_print_md(FILE *fp, const char *db_path)
{
    struct rdb r;
    int rc = rdb_open(&r, db_path);
    for (size_t i = 0; !rc && i < r.n_blocks; i++) {
        const struct blk *b = &r.blk[i];
        if (b->cube_block == REP_NONE) {
            fprintf(fp, "## %s / %s\n\nno results\n\n", b->dataset, b->protocol);
            continue;
        }
        struct rep_cube *one = cube_one_block(r.cube, b->cube_block, r.planned);
        struct rep_analysis *a = NULL;
        rc = one ? analyse(&a, one) : mb_error(MB_ENOMEM, "cannot build the cube of %s / %s", b->dataset, b->protocol);
        if (!rc) {
            fputs("## ", fp);   /* a one-block table starts with its title line: "dataset / protocol (N = n)" */
            rep_print_md(fp, a);
            fputc('\n', fp);
        }
        rep_analysis_free(a);
        rep_cube_free(one);
    }
    if (!rc && r.notes)
        fprintf(fp, "notes:\n%s", r.notes);
    rdb_close(&r);
    return rc;
}
