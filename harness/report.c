/* harness/report.c - results store -> results cube -> the writers of
 * reports/ (tables, figures) and info.txt. The store is read through the
 * readers of harness/store.h, which alone know its schema; each returns
 * rows in a fixed order, so the bytes depend on the stored results only,
 * never on commit order. */
#include "harness/report.h"

#include <errno.h>
#include <math.h>
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
    struct hn_store *s;            /* opened read-only */
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
    hn_store_close(r->s);
    memset(r, 0, sizeof *r);
}

/* The block's subjects: every subject some ok job tested, by corpus index. */
struct subjects {
    struct rdb *r;
    int32_t *ids;
    char **names;                  /* the store's, or the index when it has none */
    size_t n;
};

static int add_subject(void *ctx, int32_t id, const char *name)
{
    struct subjects *sj = ctx;
    int32_t *ni = realloc(sj->ids, (sj->n + 1) * sizeof *ni);
    if (ni)
        sj->ids = ni;
    char **nn = realloc(sj->names, (sj->n + 1) * sizeof *nn);
    if (nn)
        sj->names = nn;
    char buf[64];
    if (!name[0]) {
        snprintf(buf, sizeof buf, "%d", id);
        name = buf;
    }
    if (!ni || !nn || !(sj->names[sj->n] = strdup(name)))
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", sj->r->path);
    sj->ids[sj->n++] = id;
    return MB_OK;
}

static int block_subjects(struct rdb *r, const struct blk *b, int32_t **ids, char ***names, size_t *n)
{
    struct subjects sj = { .r = r };
    int rc = hn_store_each_subject(r->s, b->dataset, b->protocol, add_subject, &sj);
    *ids = sj.ids;
    *names = sj.names;
    *n = sj.n;
    return rc;
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
/* Sums of one cell's per-subject metrics, subject by subject. */
struct cell_sums {
    const int32_t *ids;            /* [ns] the block's subjects, ascending */
    size_t ns, s;                  /* s: where the last row's subject was found */
    double *sum;                   /* [ns x N_METRICS] */
    size_t *cnt;                   /* [ns] rows summed */
    int bad_metric;                /* metrics[] index of the first value that is not a rate, or -1 */
    int32_t bad_subject;
    char bad_value[48];            /* as the store read it */
};

static int add_metrics(void *ctx, const struct hn_subject_metrics *m)
{
    struct cell_sums *cs = ctx;
    while (cs->s < cs->ns && cs->ids[cs->s] < m->subject)
        cs->s++;
    if (cs->s == cs->ns || cs->ids[cs->s] != m->subject)
        return MB_OK;   /* cannot happen: the subjects come from the same rows */
    const double v[N_METRICS] = { m->balanced_accuracy, m->macro_f1, m->accuracy };   /* metrics[] order */
    for (size_t k = 0; k < N_METRICS && cs->bad_metric < 0; k++)
        if (m->invalid[k][0]) {   /* the cell is missing with the reason, never a number */
            cs->bad_metric = (int)k;
            cs->bad_subject = m->subject;
            snprintf(cs->bad_value, sizeof cs->bad_value, "%s", m->invalid[k]);
        }
    if (cs->bad_metric >= 0)
        return MB_OK;
    for (size_t k = 0; k < N_METRICS; k++)
        cs->sum[cs->s * N_METRICS + k] += v[k];
    cs->cnt[cs->s]++;
    return MB_OK;
}

static int fill_cell(struct rdb *r, const struct blk *b, size_t cb, size_t m, const int32_t *ids, size_t ns)
{
    struct hn_status_counts c;
    char msg[600];
    const char *meth = r->method[m];
    int rc = hn_store_block_counts(r->s, &c, b->dataset, b->protocol, meth);
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
        if ((rc = hn_store_block_message(r->s, msg, sizeof msg, b->dataset, b->protocol, meth, "na")))
            return rc;
        if ((rc = note(r, "n/a  %s / %s / %s: %s", b->dataset, b->protocol, meth, msg)))
            return rc;
        return rep_cube_set_na(r->cube, cb, m);
    }
    if (!c.total || c.failed || c.pending) {
        msg[0] = 0;
        if (c.failed && (rc = hn_store_block_message(r->s, msg, sizeof msg, b->dataset, b->protocol, meth, "failed")))
            return rc;
        char why[800];
        snprintf(why, sizeof why, "%zu of %zu jobs ok, %zu failed, %zu not finished%s%s", c.ok, c.total, c.failed,
                 c.pending, msg[0] ? "; first failure: " : "", msg);
        return missing(r, b, cb, m, "%s", why);
    }
    double *sum = calloc(ns * N_METRICS + 1, sizeof *sum);
    size_t *cnt = calloc(ns + 1, sizeof *cnt);
    if (!sum || !cnt) {
        rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", r->path);
        goto out;
    }
    struct cell_sums cs = { .ids = ids, .ns = ns, .sum = sum, .cnt = cnt, .bad_metric = -1 };
    if ((rc = hn_store_each_subject_metrics(r->s, b->dataset, b->protocol, meth, add_metrics, &cs)))
        goto out;
    if (cs.bad_metric >= 0) {
        rc = missing(r, b, cb, m, "metric %s of subject %d is %s, not a rate in [0, 1]", metrics[cs.bad_metric].name,
                     cs.bad_subject, cs.bad_value);
        goto out;
    }
    size_t s;
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
    free(sum);
    free(cnt);
    return rc;
}

/* Methods in plan order, and whether each is an oracle. */
struct methods {
    struct rdb *r;
    unsigned *caps;                /* [r->n_methods] */
};

static int add_method(void *ctx, const char *method, unsigned caps)
{
    struct methods *ms = ctx;
    struct rdb *r = ms->r;
    char **nm = realloc(r->method, (r->n_methods + 1) * sizeof *nm);
    if (nm)
        r->method = nm;
    unsigned *nc = realloc(ms->caps, (r->n_methods + 1) * sizeof *nc);
    if (nc)
        ms->caps = nc;
    if (!nm || !nc || !(r->method[r->n_methods] = strdup(method)))
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", r->path);
    ms->caps[r->n_methods++] = caps;
    return MB_OK;
}

/* Blocks in plan order. */
static int add_block(void *ctx, const char *dataset, const char *protocol)
{
    struct rdb *r = ctx;
    struct blk *nb = realloc(r->blk, (r->n_blocks + 1) * sizeof *nb);
    if (!nb)
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", r->path);
    r->blk = nb;
    struct blk *b = &r->blk[r->n_blocks++];
    b->dataset = strdup(dataset);
    b->protocol = strdup(protocol);
    b->cube_block = REP_NONE;
    if (!b->dataset || !b->protocol)
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", r->path);
    return MB_OK;
}

static int rdb_open(struct rdb *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    int rc = hn_store_open_read(&r->s, path);
    if (rc)
        return rc;
    if ((rc = hn_store_check_labels(r->s)) || (rc = hn_store_check_uniform(r->s)))
        return rc;
    struct methods ms = { .r = r };
    rc = hn_store_each_method(r->s, add_method, &ms);
    if (!rc && !r->n_methods)
        rc = mb_error(MB_EINVAL, "results store '%s' holds no job", path);
    if (!rc && !(r->cube = rep_cube_new((const char *const *)r->method, r->n_methods, metrics, N_METRICS)))
        rc = MB_ENOMEM;
    for (size_t m = 0; m < r->n_methods && !rc; m++)
        if (ms.caps[m] & MB_CAP_ORACLE)
            rc = rep_cube_set_method(r->cube, m, "oracle", REP_ORACLE);
    free(ms.caps);
    if (rc)
        return rc;
    rc = hn_store_each_block(r->s, add_block, r);
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
                rc = hn_store_block_message(r->s, why, sizeof why, b->dataset, b->protocol, r->method[m], "na");
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
struct confusion {
    struct rdb *r;
    size_t n, cap;
    int64_t *rows;                 /* [n x 3] true, pred, count */
    char sha[65];                  /* a corpus they came from, for the gesture names */
};

static int add_confusion(void *ctx, int64_t true_id, int64_t pred_id, int64_t count, const char *corpus_sha)
{
    struct confusion *cf = ctx;
    if (cf->n == cf->cap) {
        size_t cap = cf->cap ? 2 * cf->cap : 64;
        int64_t *nr = realloc(cf->rows, cap * 3 * sizeof *nr);
        if (!nr)
            return mb_error(MB_ENOMEM, "out of memory reading '%s'", cf->r->path);
        cf->rows = nr;
        cf->cap = cap;
    }
    cf->rows[3 * cf->n] = true_id;
    cf->rows[3 * cf->n + 1] = pred_id;
    cf->rows[3 * cf->n + 2] = count;
    snprintf(cf->sha, sizeof cf->sha, "%s", corpus_sha);
    cf->n++;
    return MB_OK;
}

static int write_confusion(struct rdb *r, const struct blk *b, const char *method, const char *path)
{
    struct confusion cf = { .r = r };
    int rc = hn_store_each_confusion(r->s, b->dataset, b->protocol, method, add_confusion, &cf);
    size_t n = cf.n;
    int64_t *rows = cf.rows;
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
        if (!cm || !names)
            rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", r->path);
        for (size_t i = 0; i < n && !rc; i++) {
            size_t t = 0, p = 0;
            while (cls[t] != rows[3 * i])
                t++;
            while (cls[p] != rows[3 * i + 1])
                p++;
            cm[t * K + p] = (size_t)rows[3 * i + 2];
        }
        for (size_t k = 0; k < K && !rc; k++) {
            char buf[256];
            if ((rc = hn_store_gesture_name(r->s, buf, sizeof buf, cf.sha, cls[k])))
                break;
            if (!buf[0])
                snprintf(buf, sizeof buf, "%lld", (long long)cls[k]);
            if (!(names[k] = strdup(buf)))
                rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", r->path);
        }
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

/* One line of info.txt: the prefix, then the columns two spaces apart. */
struct info_out {
    FILE *f;
    const char *prefix;
};

static int info_line(void *ctx, const char *const *cols, int n_cols)
{
    struct info_out *io = ctx;
    fputs(io->prefix, io->f);
    for (int i = 0; i < n_cols; i++)
        fprintf(io->f, "%s%s", i ? "  " : "", cols[i]);
    fputc('\n', io->f);
    return MB_OK;
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
    /* Only runs that computed a stored result (harness/store.h): a resumed
     * plan and an uninterrupted one list the same versions, machines and
     * threads. A blank line after the job status and the protocols. */
    static const struct {
        enum hn_store_info what;
        const char *prefix;
    } q[] = {
        { HN_INFO_VERSIONS, "software version  " }, { HN_INFO_MACHINES, "machine  " },
        { HN_INFO_THREADS, "threads per run  " },    { HN_INFO_STATUS, "job status  " },
        { HN_INFO_CORPORA, "corpus  " },             { HN_INFO_VIEWS, "view  " },
        { HN_INFO_METHODS, "method  " },             { HN_INFO_PROTOCOLS, "protocol  " },
        { HN_INFO_MANIFESTS, "manifest  " },
    };
    for (size_t i = 0; i < sizeof q / sizeof *q && !rc; i++) {
        struct info_out io = { f, q[i].prefix };
        rc = hn_store_each_info(r->s, q[i].what, info_line, &io);
        if (q[i].what == HN_INFO_STATUS || q[i].what == HN_INFO_PROTOCOLS)
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
