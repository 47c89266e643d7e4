/* converters/spec_read.c - the readers a spec drives: delimited text
 * (libcsv), whitespace-separated text (a small tokenizer over strtod), MAT
 * variables (libmatio) and HDF5 datasets; and the time-column handling that
 * puts irregularly sampled files onto a uniform grid. */
#include "converters/spec.h"

#include <csv.h>
#include <errno.h>
#include <float.h>
#include <hdf5.h>
#include <math.h>
#include <matio.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "converters/common.h"
#include "format/mbh5.h"

/* ---- table -------------------------------------------------------------- */

void spec_table_release(struct spec_table *t)
{
    free(t->emg);
    free(t->labels);
    free(t->time);
    for (size_t i = 0; i < t->n_warn; i++)
        free(t->warn[i]);
    free(t->warn);
    memset(t, 0, sizeof *t);
}

int spec_table_warn(struct spec_table *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    char **w = n >= 0 ? realloc(t->warn, (t->n_warn + 1) * sizeof *w) : NULL;
    if (!w) {
        free(msg);
        return mb_error(MB_ENOMEM, "out of memory recording a warning");
    }
    t->warn = w;
    w[t->n_warn++] = msg;
    return MB_OK;
}

/* Room for one more row; 'cap' rows are allocated. */
static int table_grow(struct spec_table *t, size_t *cap, int labels, int time)
{
    if (t->n < *cap)
        return MB_OK;
    size_t nc = *cap ? 2 * *cap : 4096;
    float *e = realloc(t->emg, nc * (t->C ? t->C : 1) * sizeof *e);
    if (!e)
        return MB_ENOMEM;
    t->emg = e;
    if (labels) {
        int32_t *l = realloc(t->labels, nc * sizeof *l);
        if (!l)
            return MB_ENOMEM;
        t->labels = l;
    }
    if (time) {
        double *d = realloc(t->time, nc * sizeof *d);
        if (!d)
            return MB_ENOMEM;
        t->time = d;
    }
    *cap = nc;
    return MB_OK;
}

/* Labels are read from the file only when the spec takes them from there. */
static int want_labels(const struct spec *s)
{
    return s->has_label_col && s->label_source == SPEC_LABELS_COLUMN;
}

/* ---- values ------------------------------------------------------------- */

/* 0: a number (possibly NaN/Inf), -1: not a number. Spaces around are fine. */
static int parse_value(const char *f, double *v)
{
    while (*f == ' ' || *f == '\t')
        f++;
    if (!*f)
        return -1;
    char *end;
    *v = strtod(f, &end);
    if (end == f)
        return -1;
    while (*end == ' ' || *end == '\t' || *end == '\r')
        end++;
    return *end ? -1 : 0;
}

/* Checks and counts what happens to every sample value, whatever the
 * container, so all readers report the same way. */
struct sample_check {
    const struct spec *s;
    const char *path;
    const struct spec_read_opts *o;
    int rows;                               /* 1: locations are samples and channels (matrices),
                                               0: lines and columns (text) */
    size_t n_nonfinite, nf_line, nf_col;   /* first non-finite sample kept */
    size_t n_mismatch, mm_line;
    char mm_raw[64];
};

/* Locations print as "line 12 column 3" (text) or "sample 12 channel 3". */
static int check_value(struct sample_check *c, double v, float *out, const char *raw, size_t line, size_t col)
{
    const char *lw = c->rows ? "sample" : "line";
    const char *cw = c->rows ? "channel" : "column";
    if (!isfinite(v)) {
        if (!c->o->allow_nonfinite)
            return mb_error(MB_ENUM, "'%s' %s %zu %s %zu: non-finite sample '%s' (use --allow-nonfinite to keep it)",
                            c->path, lw, line, cw, col, raw);
        if (c->n_nonfinite++ == 0) {
            c->nf_line = line;
            c->nf_col = col;
        }
        *out = (float)v;
        return MB_OK;
    }
    if (fabs(v) > FLT_MAX)
        return mb_error(MB_EFORMAT, "'%s' %s %zu %s %zu: value '%s' is outside the float32 range",
                        c->path, lw, line, cw, col, raw);
    if (c->s->value_int && v != floor(v))
        return mb_error(MB_EFORMAT, "'%s' %s %zu %s %zu: value '%s' is not an integer (values.type is int)",
                        c->path, lw, line, cw, col, raw);
    *out = (float)v;
    return MB_OK;
}

static int check_label(struct sample_check *c, const char *raw, size_t len, int32_t *id, size_t line, size_t col)
{
    const char *lw = c->rows ? "sample" : "line";
    if (spec_label_lookup(c->s, raw, len, id) != MB_OK) {
        char shown[64];
        spec_canon_label(shown, sizeof shown, raw, len);
        if (c->rows)
            return mb_error(MB_EFORMAT, "'%s' sample %zu: label '%s' in '%s' is not in the label map of '%s'",
                            c->path, line, shown, c->s->var_label, c->s->path);
        return mb_error(MB_EFORMAT, "'%s' line %zu column %zu: label '%s' is not in the label map of '%s'",
                        c->path, line, col, shown, c->s->path);
    }
    if (!c->o->has_file_gesture || *id == c->o->file_gesture || *id == MBH5_UNLABELLED)
        return MB_OK;
    for (size_t i = 0; i < c->s->n_allowed; i++)
        if (c->s->allowed[i] == *id)
            return MB_OK;
    if (c->s->mismatch == SPEC_MISMATCH_ERROR) {
        char shown[64];
        spec_canon_label(shown, sizeof shown, raw, len);
        return mb_error(MB_EFORMAT, "'%s' %s %zu: label '%s' disagrees with the file name's gesture "
                        "(labels.mismatch is error)", c->path, lw, line, shown);
    }
    if (c->n_mismatch++ == 0) {
        c->mm_line = line;
        spec_canon_label(c->mm_raw, sizeof c->mm_raw, raw, len);
    }
    return MB_OK;
}

static int finish_checks(struct spec_table *t, struct sample_check *c)
{
    int rc = MB_OK;
    if (c->n_nonfinite)
        rc = spec_table_warn(t, "'%s': %zu non-finite samples kept (--allow-nonfinite), first at %s %zu %s %zu",
                             c->path, c->n_nonfinite, c->rows ? "sample" : "line", c->nf_line,
                             c->rows ? "channel" : "column", c->nf_col);
    if (rc == MB_OK && c->n_mismatch && c->s->mismatch == SPEC_MISMATCH_WARN)
        rc = spec_table_warn(t, "'%s': %zu samples carry a label other than the file name's gesture (first at %s "
                             "%zu: '%s'); kept the label column's values", c->path, c->n_mismatch,
                             c->rows ? "sample" : "line", c->mm_line, c->mm_raw);
    return rc;
}

/* ---- text readers ------------------------------------------------------- */

struct text_rd {
    struct sample_check chk;
    struct spec_table *t;
    size_t cap;                    /* rows allocated in t */
    size_t line;                   /* 1-based line being read */
    size_t rows_seen;              /* rows, header included */
    char **hdr;                    /* [n_hdr] fields of the last header row */
    size_t n_hdr;
    /* the current row's fields, NUL-terminated, packed into fbuf */
    char *fbuf;
    size_t flen, fcap;
    size_t *foff;
    size_t nf, fcapn;
    /* resolved on the first data row */
    int resolved;
    size_t width, width_line;
    size_t *emg_idx;               /* [t->C] */
    long label_idx, time_idx;      /* -1: none */
    int err;
};

static int push_field(struct text_rd *r, const char *s, size_t len)
{
    if (r->nf == r->fcapn) {
        size_t nc = r->fcapn ? 2 * r->fcapn : 32;
        size_t *o = realloc(r->foff, nc * sizeof *o);
        if (!o)
            return MB_ENOMEM;
        r->foff = o;
        r->fcapn = nc;
    }
    if (r->flen + len + 1 > r->fcap) {
        size_t nc = r->fcap ? 2 * r->fcap : 256;
        while (nc < r->flen + len + 1)
            nc *= 2;
        char *b = realloc(r->fbuf, nc);
        if (!b)
            return MB_ENOMEM;
        r->fbuf = b;
        r->fcap = nc;
    }
    memcpy(r->fbuf + r->flen, s, len);
    r->fbuf[r->flen + len] = '\0';
    r->foff[r->nf++] = r->flen;
    r->flen += len + 1;
    return MB_OK;
}

static const char *field(const struct text_rd *r, size_t i)
{
    return r->fbuf + r->foff[i];
}

static int resolve_col(struct text_rd *r, const struct spec_col *c, const char *what, size_t *out)
{
    const char *path = r->chk.path;
    if (c->by_name) {
        if (!r->hdr)
            return mb_error(MB_EFORMAT, "'%s': %s names column '%s' but the spec skips no header line "
                            "(format.header_lines)", path, what, c->name);
        for (size_t i = 0; i < r->n_hdr; i++)
            if (!strcmp(r->hdr[i], c->name)) {
                if (i >= r->width)
                    return mb_error(MB_ECSV, "'%s' line %zu: column '%s' is field %zu of the header but the "
                                    "row has %zu fields", path, r->line, c->name, i + 1, r->width);
                *out = i;
                return MB_OK;
            }
        return mb_error(MB_EFORMAT, "'%s': no column named '%s' in the header (%s of '%s')",
                        path, c->name, what, r->chk.s->path);
    }
    long i = c->index < 0 ? (long)r->width + c->index : c->index;
    if (i < 0 || (size_t)i >= r->width)
        return mb_error(MB_ECSV, "'%s' line %zu: %s is column %ld but the row has %zu fields",
                        path, r->line, what, c->index, r->width);
    *out = (size_t)i;
    return MB_OK;
}

static int resolve(struct text_rd *r)
{
    const struct spec *s = r->chk.s;
    int rc;
    size_t C;
    long from = 0, to = -1;
    if (s->emg.is_range) {
        from = s->emg.from < 0 ? (long)r->width + s->emg.from : s->emg.from;
        to = s->emg.to < 0 ? (long)r->width + s->emg.to : s->emg.to;
        if (from < 0 || to < from || (size_t)to >= r->width)
            return mb_error(MB_ECSV, "'%s' line %zu: columns.emg %ld..%ld selects nothing in a row of %zu fields",
                            r->chk.path, r->line, s->emg.from, s->emg.to, r->width);
        C = (size_t)(to - from + 1);
    } else {
        C = s->emg.n;
    }
    if (s->dev_channels && (size_t)s->dev_channels != C)
        return mb_error(MB_EFORMAT, "'%s': columns.emg selects %zu columns but device.channels is %d",
                        r->chk.path, C, s->dev_channels);
    if (s->n_channel_names && s->n_channel_names != C)
        return mb_error(MB_EFORMAT, "'%s': columns.emg selects %zu columns but device.channel_names has %zu",
                        r->chk.path, C, s->n_channel_names);
    r->emg_idx = malloc(C * sizeof *r->emg_idx);
    if (!r->emg_idx)
        return MB_ENOMEM;
    for (size_t j = 0; j < C; j++) {
        if (s->emg.is_range)
            r->emg_idx[j] = (size_t)from + j;
        else if ((rc = resolve_col(r, &s->emg.cols[j], "columns.emg", &r->emg_idx[j])) != MB_OK)
            return rc;
    }
    r->t->C = C;
    r->label_idx = r->time_idx = -1;
    size_t k;
    if (want_labels(s)) {
        if ((rc = resolve_col(r, &s->label_col, "columns.label", &k)) != MB_OK)
            return rc;
        r->label_idx = (long)k;
    }
    if (s->has_time_col) {
        if ((rc = resolve_col(r, &s->time_col, "columns.time", &k)) != MB_OK)
            return rc;
        r->time_idx = (long)k;
    }
    r->resolved = 1;
    return MB_OK;
}

/* One complete row of fields. */
static int text_row(struct text_rd *r)
{
    const struct spec *s = r->chk.s;
    struct spec_table *t = r->t;
    int rc;
    if (r->rows_seen++ < s->header_lines) {
        /* The last header row names the columns. */
        for (size_t i = 0; i < r->n_hdr; i++)
            free(r->hdr[i]);
        free(r->hdr);
        r->n_hdr = 0;
        r->hdr = calloc(r->nf ? r->nf : 1, sizeof *r->hdr);
        if (!r->hdr)
            return MB_ENOMEM;
        for (size_t i = 0; i < r->nf; i++) {
            const char *f = field(r, i);
            while (*f == ' ' || *f == '\t')
                f++;
            size_t l = strlen(f);
            while (l && (f[l - 1] == ' ' || f[l - 1] == '\t' || f[l - 1] == '\r'))
                l--;
            if (!(r->hdr[i] = strndup(f, l)))
                return MB_ENOMEM;
            r->n_hdr = i + 1;
        }
        return MB_OK;
    }
    if (!r->resolved) {
        r->width = r->nf;
        r->width_line = r->line;
        if ((rc = resolve(r)) != MB_OK)
            return rc;
    } else if (r->nf != r->width) {
        return mb_error(MB_ECSV, "'%s' line %zu: %zu fields where the first data row (line %zu) has %zu",
                        r->chk.path, r->line, r->nf, r->width_line, r->width);
    }
    if ((rc = table_grow(t, &r->cap, want_labels(s), s->has_time_col)) != MB_OK)
        return rc;
    float *row = t->emg + t->n * t->C;
    for (size_t j = 0; j < t->C; j++) {
        const char *f = field(r, r->emg_idx[j]);
        double v;
        if (parse_value(f, &v))
            return mb_error(MB_EFORMAT, "'%s' line %zu column %zu: '%s' is not a number",
                            r->chk.path, r->line, r->emg_idx[j] + 1, f);
        if ((rc = check_value(&r->chk, v, &row[j], f, r->line, r->emg_idx[j] + 1)) != MB_OK)
            return rc;
    }
    if (r->label_idx >= 0) {
        const char *f = field(r, (size_t)r->label_idx);
        if ((rc = check_label(&r->chk, f, strlen(f), &t->labels[t->n], r->line, (size_t)r->label_idx + 1)) != MB_OK)
            return rc;
    }
    if (r->time_idx >= 0) {
        const char *f = field(r, (size_t)r->time_idx);
        double v;
        if (parse_value(f, &v) || !isfinite(v))
            return mb_error(parse_value(f, &v) ? MB_EFORMAT : MB_ENUM,
                            "'%s' line %zu column %zu: time '%s' is not a finite number",
                            r->chk.path, r->line, (size_t)r->time_idx + 1, f);
        t->time[t->n] = v * s->time_to_s;
    }
    t->n++;
    return MB_OK;
}

static void on_field(void *s, size_t len, void *data)
{
    struct text_rd *r = data;
    if (!r->err && push_field(r, s ? s : "", s ? len : 0) != MB_OK)
        r->err = mb_error(MB_ENOMEM, "out of memory reading '%s'", r->chk.path);
}

static void on_row(int term, void *data)
{
    (void)term;
    struct text_rd *r = data;
    if (!r->err) {
        int rc = text_row(r);
        if (rc == MB_ENOMEM)
            rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", r->chk.path);
        r->err = rc;
    }
    r->nf = 0;
    r->flen = 0;
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

/* With the delimiter a tab, only spaces are padding (libcsv's default
 * treats tabs as padding too). */
static int space_only(unsigned char c)
{
    return c == ' ';
}

static int read_csv(struct text_rd *r, const char *buf, size_t len)
{
    const struct spec *s = r->chk.s;
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return mb_error(MB_ENOMEM, "cannot start the CSV parser for '%s'", r->chk.path);
    csv_set_delim(&p, (unsigned char)s->delimiter);
    if (s->delimiter == '\t' || s->delimiter == ' ')
        csv_set_space_func(&p, space_only);
    /* Fed line by line, so a comment is recognised at the start of a
     * record and every row knows its line; a quoted field spanning lines
     * keeps the later lines from being taken for comments. */
    int at_start = 1;
    size_t pos = 0;
    while (pos < len && !r->err) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) + 1 : len;
        const char *line = buf + pos;
        size_t n = end - pos;
        r->line++;
        pos = end;
        if (at_start && s->comment && line[0] == s->comment)
            continue;
        size_t before = r->rows_seen;
        if (csv_parse(&p, line, n, on_field, on_row, r) != n && !r->err)
            r->err = mb_error(MB_ECSV, "'%s' line %zu: %s", r->chk.path, r->line, csv_strerror(csv_error(&p)));
        if (r->rows_seen != before)
            at_start = 1;
        else if (!is_blank(line, n))
            at_start = 0;   /* a quoted field goes on over the next line */
    }
    if (!r->err && csv_fini(&p, on_field, on_row, r) != 0 && !r->err)
        r->err = mb_error(MB_ECSV, "'%s' line %zu: %s", r->chk.path, r->line, csv_strerror(csv_error(&p)));
    csv_free(&p);
    return r->err;
}

static int read_whitespace(struct text_rd *r, const char *buf, size_t len)
{
    const struct spec *s = r->chk.s;
    size_t pos = 0;
    while (pos < len && !r->err) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        const char *line = buf + pos;
        size_t n = end - pos;
        r->line++;
        pos = nl ? end + 1 : len;
        if (s->comment && n && line[0] == s->comment)
            continue;
        if (is_blank(line, n))
            continue;
        r->nf = 0;
        r->flen = 0;
        size_t i = 0;
        while (i < n && !r->err) {
            while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
                i++;
            size_t b = i;
            while (i < n && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
                i++;
            if (i > b && push_field(r, line + b, i - b) != MB_OK)
                r->err = mb_error(MB_ENOMEM, "out of memory reading '%s'", r->chk.path);
        }
        if (!r->err) {
            int rc = text_row(r);
            r->err = rc == MB_ENOMEM ? mb_error(MB_ENOMEM, "out of memory reading '%s'", r->chk.path) : rc;
        }
    }
    return r->err;
}

int spec_read_text(struct spec_table *t, const struct spec *s, const char *path,
                   const char *buf, size_t len, const struct spec_read_opts *o)
{
    memset(t, 0, sizeof *t);
    struct text_rd r = { .chk = { .s = s, .path = path, .o = o }, .t = t, .label_idx = -1, .time_idx = -1 };
    if (memchr(buf, '\0', len)) {
        size_t at = 1;
        for (const char *c = buf; *c; c++)
            at += *c == '\n';
        r.err = mb_error(MB_EFORMAT, "'%s' line %zu: NUL byte in a text file", path, at);
    } else if (s->container == SPEC_CSV) {
        read_csv(&r, buf, len);
    } else if (s->container == SPEC_WHITESPACE) {
        read_whitespace(&r, buf, len);
    } else {
        r.err = mb_error(MB_EINVAL, "'%s': spec '%s' does not describe a text format", path, s->path);
    }
    if (!r.err && t->n == 0)
        r.err = mb_error(MB_EFORMAT, "'%s': no data rows%s", path,
                         s->header_lines ? " after the header lines" : " (empty file)");
    if (!r.err)
        r.err = finish_checks(t, &r.chk);
    for (size_t i = 0; i < r.n_hdr; i++)
        free(r.hdr[i]);
    free(r.hdr);
    free(r.fbuf);
    free(r.foff);
    free(r.emg_idx);
    if (r.err) {
        spec_table_release(t);
        return r.err;
    }
    return MB_OK;
}

/* ---- matrices (mat, hdf5) ----------------------------------------------- */

/* A numeric variable read whole, as doubles, with its two dimensions in the
 * order of the container's own index: for MAT column-major (d0 fastest),
 * for HDF5 row-major (d1 fastest). */
struct matrix {
    double *x;
    size_t d0, d1;
    int col_major;
};

static double mat_at(const struct matrix *m, size_t i0, size_t i1)
{
    return m->col_major ? m->x[i0 + i1 * m->d0] : m->x[i0 * m->d1 + i1];
}

/* Fills the table from the EMG / label / time matrices. */
static int table_from_matrices(struct spec_table *t, const struct spec *s, const char *path,
                               const struct spec_read_opts *o, const struct matrix *emg,
                               const struct matrix *lab, const struct matrix *tim)
{
    struct sample_check chk = { .s = s, .path = path, .o = o, .rows = 1 };
    int by_ch = s->orientation == SPEC_CHANNELS_BY_SAMPLES;
    size_t n = by_ch ? emg->d1 : emg->d0;
    size_t call = by_ch ? emg->d0 : emg->d1;
    if (n == 0 || call == 0)
        return mb_error(MB_EFORMAT, "'%s': '%s' is empty (%zu x %zu)", path, s->var_emg, emg->d0, emg->d1);
    /* Channel selection inside the matrix. */
    size_t C;
    long from = 0, to = (long)call - 1;
    if (s->emg.is_range) {
        from = s->emg.from < 0 ? (long)call + s->emg.from : s->emg.from;
        to = s->emg.to < 0 ? (long)call + s->emg.to : s->emg.to;
        if (from < 0 || to < from || (size_t)to >= call)
            return mb_error(MB_EFORMAT, "'%s': columns.emg %ld..%ld selects nothing among %zu channels of '%s'",
                            path, s->emg.from, s->emg.to, call, s->var_emg);
    }
    C = s->emg.n && !s->emg.is_range ? s->emg.n : (size_t)(to - from + 1);
    size_t *idx = malloc(C * sizeof *idx);
    if (!idx)
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", path);
    for (size_t j = 0; j < C; j++) {
        if (s->emg.n && !s->emg.is_range) {
            long i = s->emg.cols[j].index < 0 ? (long)call + s->emg.cols[j].index : s->emg.cols[j].index;
            if (i < 0 || (size_t)i >= call) {
                free(idx);
                return mb_error(MB_EFORMAT, "'%s': columns.emg selects channel %ld but '%s' has %zu",
                                path, s->emg.cols[j].index, s->var_emg, call);
            }
            idx[j] = (size_t)i;
        } else {
            idx[j] = (size_t)from + j;
        }
    }
    if ((s->dev_channels && (size_t)s->dev_channels != C) || (s->n_channel_names && s->n_channel_names != C)) {
        free(idx);
        return mb_error(MB_EFORMAT, "'%s': %zu EMG channels selected from '%s' but the device declares %zu",
                        path, C, s->var_emg, s->dev_channels ? (size_t)s->dev_channels : s->n_channel_names);
    }
    /* Emg and labels of different lengths: NinaPro-style files need
     * truncation to the shortest, said in a warning; losing more than a
     * few samples is an error unless allowed (converters/common.h). */
    size_t nl = lab ? lab->d0 * lab->d1 : n, nt = tim ? tim->d0 * tim->d1 : n;
    size_t m = n < nl ? n : nl;
    m = m < nt ? m : nt;
    size_t longest = n > nl ? n : nl;
    longest = longest > nt ? longest : nt;
    int big = longest - m > conv_trunc_allowed(longest);
    char lens[512], pl[200] = "", pt[200] = "";
    if (lab)
        snprintf(pl, sizeof pl, ", '%s' %zu", s->var_label, nl);
    if (tim)
        snprintf(pt, sizeof pt, ", '%s' %zu", s->var_time, nt);
    snprintf(lens, sizeof lens, "'%s' has %zu samples%s%s", s->var_emg, n, pl, pt);
    int rc = MB_OK;
    if (big && !o->allow_truncation)
        rc = mb_error(MB_EFORMAT, "'%s': %s: cutting to the shortest (%zu) would drop %zu samples (%.1f %% of the "
                      "recording); use --allow-truncation to convert it anyway", path, lens, m, longest - m,
                      100.0 * (double)(longest - m) / (double)longest);
    else if (m != n || m != nl || m != nt)
        rc = spec_table_warn(t, "'%s': %s; truncated to the shortest, %zu%s", path, lens, m,
                             big ? " (--allow-truncation)" : "");
    if (rc == MB_OK && m == 0)
        rc = mb_error(MB_EFORMAT, "'%s': no samples after truncation", path);
    t->n = m;
    t->C = C;
    if (rc == MB_OK) {
        t->emg = malloc(m * C * sizeof *t->emg);
        t->labels = lab ? malloc(m * sizeof *t->labels) : NULL;
        t->time = tim ? malloc(m * sizeof *t->time) : NULL;
        if (!t->emg || (lab && !t->labels) || (tim && !t->time))
            rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", path);
    }
    for (size_t i = 0; rc == MB_OK && i < m; i++) {
        for (size_t j = 0; rc == MB_OK && j < C; j++) {
            double v = by_ch ? mat_at(emg, idx[j], i) : mat_at(emg, i, idx[j]);
            char raw[40];
            snprintf(raw, sizeof raw, "%.17g", v);
            rc = check_value(&chk, v, &t->emg[i * C + j], raw, i + 1, idx[j] + 1);
        }
        if (rc == MB_OK && lab) {
            double v = lab->x[i];
            char raw[40];
            snprintf(raw, sizeof raw, "%.17g", v);
            rc = check_label(&chk, raw, strlen(raw), &t->labels[i], i + 1, 0);
        }
        if (rc == MB_OK && tim) {
            if (!isfinite(tim->x[i]))
                rc = mb_error(MB_ENUM, "'%s' sample %zu: time in '%s' is not finite", path, i + 1, s->var_time);
            else
                t->time[i] = tim->x[i] * s->time_to_s;
        }
    }
    free(idx);
    if (rc == MB_OK)
        rc = finish_checks(t, &chk);
    return rc;
}

/* matio prints its own complaints; the reader reports instead. matio's
 * logger is process-wide, so it is set once, whichever thread gets here. */
static void mat_quiet(int level, char *msg)
{
    (void)level;
    (void)msg;
}

static pthread_once_t mat_log_once = PTHREAD_ONCE_INIT;

static void mat_log_init(void)
{
    Mat_LogInitFunc("myobench", mat_quiet);
}

static int mat_read_var(struct matrix *m, mat_t *mat, const char *path, const char *name)
{
    memset(m, 0, sizeof *m);
    m->col_major = 1;
    matvar_t *info = Mat_VarReadInfo(mat, name);
    if (!info) {
        char list[256] = "";
        Mat_Rewind(mat);
        matvar_t *v;
        while ((v = Mat_VarReadNextInfo(mat))) {
            size_t l = strlen(list);
            if (v->name && l < sizeof list - 40)
                snprintf(list + l, sizeof list - l, "%s'%s'", l ? ", " : "", v->name);
            Mat_VarFree(v);
        }
        return mb_error(MB_EMAT, "'%s': no variable '%s' (variables found: %s)", path, name, list[0] ? list : "none");
    }
    Mat_VarFree(info);
    matvar_t *v = Mat_VarRead(mat, name);
    if (!v)
        return mb_error(MB_EMAT, "'%s': variable '%s' cannot be read (truncated or corrupt file)", path, name);
    int rc = MB_OK;
    if (v->isComplex || v->rank != 2 || v->class_type < MAT_C_DOUBLE || v->class_type > MAT_C_UINT64 || !v->data)
        rc = mb_error(MB_EMAT, "'%s': variable '%s' is not a real numeric matrix", path, name);
    size_t n = 0;
    if (rc == MB_OK) {
        m->d0 = v->dims[0];
        m->d1 = v->dims[1];
        if (m->d1 && m->d0 > SIZE_MAX / sizeof(double) / m->d1)
            rc = mb_error(MB_EMAT, "'%s': variable '%s' is too large", path, name);
        n = m->d0 * m->d1;
    }
    if (rc == MB_OK && !(m->x = malloc((n ? n : 1) * sizeof *m->x)))
        rc = mb_error(MB_ENOMEM, "out of memory reading '%s' from '%s'", name, path);
    for (size_t i = 0; rc == MB_OK && i < n; i++) {
        switch (v->class_type) {
        case MAT_C_DOUBLE: m->x[i] = ((const double *)v->data)[i]; break;
        case MAT_C_SINGLE: m->x[i] = ((const float *)v->data)[i]; break;
        case MAT_C_INT8:   m->x[i] = ((const int8_t *)v->data)[i]; break;
        case MAT_C_UINT8:  m->x[i] = ((const uint8_t *)v->data)[i]; break;
        case MAT_C_INT16:  m->x[i] = ((const int16_t *)v->data)[i]; break;
        case MAT_C_UINT16: m->x[i] = ((const uint16_t *)v->data)[i]; break;
        case MAT_C_INT32:  m->x[i] = ((const int32_t *)v->data)[i]; break;
        case MAT_C_UINT32: m->x[i] = ((const uint32_t *)v->data)[i]; break;
        case MAT_C_INT64:  m->x[i] = (double)((const int64_t *)v->data)[i]; break;
        case MAT_C_UINT64: m->x[i] = (double)((const uint64_t *)v->data)[i]; break;
        default: rc = mb_error(MB_EMAT, "'%s': variable '%s' has an unsupported class", path, name); break;
        }
    }
    Mat_VarFree(v);
    if (rc != MB_OK) {
        free(m->x);
        m->x = NULL;
    }
    return rc;
}

static int read_mat(struct spec_table *t, const struct spec *s, const char *path, const struct spec_read_opts *o)
{
    pthread_once(&mat_log_once, mat_log_init);
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return mb_error(MB_EIO, "cannot open '%s': %s", path, strerror(errno));
    fclose(probe);
    mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
    if (!mat)
        return mb_error(MB_EMAT, "'%s' is not a readable MAT file (truncated, corrupt or another format)", path);
    struct matrix emg = {0}, lab = {0}, tim = {0};
    int rc = mat_read_var(&emg, mat, path, s->var_emg);
    if (rc == MB_OK && want_labels(s))
        rc = mat_read_var(&lab, mat, path, s->var_label);
    if (rc == MB_OK && s->var_time)
        rc = mat_read_var(&tim, mat, path, s->var_time);
    Mat_Close(mat);
    if (rc == MB_OK && want_labels(s) && lab.d0 != 1 && lab.d1 != 1)
        rc = mb_error(MB_EMAT, "'%s': label variable '%s' is %zu x %zu, not a vector", path, s->var_label, lab.d0, lab.d1);
    if (rc == MB_OK && s->var_time && tim.d0 != 1 && tim.d1 != 1)
        rc = mb_error(MB_EMAT, "'%s': time variable '%s' is %zu x %zu, not a vector", path, s->var_time, tim.d0, tim.d1);
    if (rc == MB_OK)
        rc = table_from_matrices(t, s, path, o, &emg, want_labels(s) ? &lab : NULL, s->var_time ? &tim : NULL);
    free(emg.x);
    free(lab.x);
    free(tim.x);
    return rc;
}

static int h5_read_var(struct matrix *m, hid_t f, const char *path, const char *name)
{
    memset(m, 0, sizeof *m);
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0)
        return mb_error(MB_EH5, "'%s': no dataset '%s'", path, name);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return mb_error(MB_EH5, "'%s': '%s' cannot be opened as a dataset", path, name);
    int rc = MB_OK;
    hid_t sp = H5Dget_space(d), ty = H5Dget_type(d);
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    H5T_class_t cls = ty >= 0 ? H5Tget_class(ty) : H5T_NO_CLASS;
    hsize_t dims[2] = { 1, 1 };
    if (rank < 1 || rank > 2 || (cls != H5T_INTEGER && cls != H5T_FLOAT))
        rc = mb_error(MB_EH5, "'%s': dataset '%s' is not a numeric vector or matrix", path, name);
    else if (H5Sget_simple_extent_dims(sp, dims, NULL) < 0)
        rc = mb_error(MB_EH5, "'%s': cannot read the shape of '%s'", path, name);
    if (rc == MB_OK) {
        m->d0 = (size_t)dims[0];
        m->d1 = rank == 2 ? (size_t)dims[1] : 1;
        if (m->d1 && m->d0 > SIZE_MAX / sizeof(double) / m->d1)
            rc = mb_error(MB_EH5, "'%s': dataset '%s' is too large", path, name);
    }
    size_t total = m->d0 * m->d1;
    if (rc == MB_OK && !(m->x = malloc((total ? total : 1) * sizeof *m->x)))
        rc = mb_error(MB_ENOMEM, "out of memory reading '%s' from '%s'", name, path);
    if (rc == MB_OK && total > 0 && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, m->x) < 0)
        rc = mb_error(MB_EH5, "'%s': cannot read dataset '%s' (truncated or corrupt file)", path, name);
    if (ty >= 0)
        H5Tclose(ty);
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(d);
    if (rc != MB_OK) {
        free(m->x);
        m->x = NULL;
    }
    return rc;
}

static int read_hdf5(struct spec_table *t, const struct spec *s, const char *path, const struct spec_read_opts *o)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return mb_error(MB_EIO, "cannot open '%s': %s", path, strerror(errno));
    fclose(probe);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return mb_error(MB_EH5, "'%s' is not a readable HDF5 file (truncated, corrupt or another format)", path);
    struct matrix emg = {0}, lab = {0}, tim = {0};
    int rc = h5_read_var(&emg, f, path, s->var_emg);
    if (rc == MB_OK && want_labels(s))
        rc = h5_read_var(&lab, f, path, s->var_label);
    if (rc == MB_OK && s->var_time)
        rc = h5_read_var(&tim, f, path, s->var_time);
    H5Fclose(f);
    if (rc == MB_OK && want_labels(s) && lab.d0 != 1 && lab.d1 != 1)
        rc = mb_error(MB_EH5, "'%s': label dataset '%s' is %zu x %zu, not a vector", path, s->var_label, lab.d0, lab.d1);
    if (rc == MB_OK && s->var_time && tim.d0 != 1 && tim.d1 != 1)
        rc = mb_error(MB_EH5, "'%s': time dataset '%s' is %zu x %zu, not a vector", path, s->var_time, tim.d0, tim.d1);
    if (rc == MB_OK)
        rc = table_from_matrices(t, s, path, o, &emg, want_labels(s) ? &lab : NULL, s->var_time ? &tim : NULL);
    free(emg.x);
    free(lab.x);
    free(tim.x);
    return rc;
}

/* ---- files -------------------------------------------------------------- */

static int slurp(char **out, size_t *n, const char *path)
{
    *out = NULL;
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return mb_error(MB_EIO, "cannot open '%s': %s", path, strerror(errno));
    size_t cap = 0, len = 0;
    char *buf = NULL;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 1 << 16;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return mb_error(MB_ENOMEM, "out of memory reading '%s'", path);
            }
            buf = b;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return mb_error(MB_EIO, "cannot read '%s'", path);
    }
    *out = buf;
    *n = len;
    return MB_OK;
}

int spec_read_file(struct spec_table *t, const struct spec *s, const char *path, const struct spec_read_opts *o)
{
    memset(t, 0, sizeof *t);
    if (s->container == SPEC_MAT || s->container == SPEC_HDF5) {
        int rc = s->container == SPEC_MAT ? read_mat(t, s, path, o) : read_hdf5(t, s, path, o);
        if (rc != MB_OK)
            spec_table_release(t);
        return rc;
    }
    char *buf;
    size_t n;
    int rc = slurp(&buf, &n, path);
    if (rc != MB_OK)
        return rc;
    rc = spec_read_text(t, s, path, buf ? buf : "", n, o);
    free(buf);
    return rc;
}

/* ---- time column -------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int spec_regularise(struct spec_table *t, const struct spec *s, const char *path)
{
    if (!t->time) {
        t->rate_hz = s->rate_hz;
        return MB_OK;
    }
    size_t n = t->n;
    if (n < 2) {
        if (s->rate_hz == 0)
            return mb_error(MB_EFORMAT, "'%s': one sample is not enough to estimate a rate from the time column", path);
        t->rate_hz = s->rate_hz;
        return MB_OK;
    }
    double *d = malloc((n - 1) * sizeof *d);   /* [n-1] steps, seconds */
    if (!d)
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", path);
    double gap = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        d[i] = t->time[i + 1] - t->time[i];
        if (d[i] < 0) {
            free(d);
            return mb_error(MB_EFORMAT, "'%s' sample %zu: time goes backwards (%.9g s after %.9g s)",
                            path, i + 2, t->time[i + 1], t->time[i]);
        }
        if (d[i] > gap)
            gap = d[i];
    }
    qsort(d, n - 1, sizeof *d, cmp_double);
    double med = (n - 1) % 2 ? d[(n - 1) / 2] : 0.5 * (d[(n - 1) / 2 - 1] + d[(n - 1) / 2]);
    free(d);
    if (!(med > 0))
        return mb_error(MB_EFORMAT, "'%s': the median time step is 0; the time column does not advance", path);
    /* Estimates are kept to 1 mHz, the precision the resampler works at. */
    double est = round(1000.0 / med) / 1000.0;
    if (est <= 0)
        return mb_error(MB_EFORMAT, "'%s': the median time step (%.9g s) gives no usable rate", path, med);
    double rate = s->rate_hz > 0 ? s->rate_hz : est;
    double step = 1.0 / rate;
    size_t irregular = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (fabs((t->time[i + 1] - t->time[i]) - step) > s->tolerance * step)
            irregular++;
    t->rate_hz = rate;
    if (irregular == 0)
        return MB_OK;

    double t0 = t->time[0], span = t->time[n - 1] - t0;
    double kmax = floor(span * rate + 1e-9);
    if (kmax >= (double)(SIZE_MAX / 4 / (t->C ? t->C : 1)) || kmax > 1e10)
        return mb_error(MB_EFORMAT, "'%s': time span %.9g s at %.6g Hz is too long to resample", path, span, rate);
    size_t m = (size_t)kmax + 1;
    /* A grid far denser than the rows means a clock jump, not sampling:
     * resampling it would invent millions of samples. */
    if (m / 64 > n)
        return mb_error(MB_EFORMAT, "'%s': the time column spans %.9g s, %zu samples at %.6g Hz for %zu rows "
                        "(largest gap %.6g s); a jump this large is not resampled", path, span, m, rate, n, gap);
    float *emg = malloc(m * t->C * sizeof *emg);                     /* [m x C] */
    int32_t *lab = t->labels ? malloc(m * sizeof *lab) : NULL;       /* [m] */
    double *tm = malloc(m * sizeof *tm);                             /* [m] */
    if (!emg || !tm || (t->labels && !lab)) {
        free(emg);
        free(lab);
        free(tm);
        return mb_error(MB_ENOMEM, "out of memory resampling '%s'", path);
    }
    /* Positions in grid steps: u = (t - t0) * rate. A source sample that
     * sits on a grid point (up to rounding of the unit conversion) counts
     * as at, not after, it. */
    const double eps = 1e-6;
    size_t j = 0;
    for (size_t k = 0; k < m; k++) {
        /* j: the last source sample at or before grid point k. */
        while (j + 1 < n && (t->time[j + 1] - t0) * rate <= (double)k + eps)
            j++;
        tm[k] = t0 + (double)k / rate;
        if (lab)
            lab[k] = t->labels[j];
        const float *a = t->emg + j * t->C;
        double uj = (t->time[j] - t0) * rate;
        double uj1 = j + 1 < n ? (t->time[j + 1] - t0) * rate : uj;
        if (uj1 > uj && (double)k - uj > eps) {
            const float *b = a + t->C;
            double w = ((double)k - uj) / (uj1 - uj);
            w = w > 1 ? 1 : w;
            for (size_t c = 0; c < t->C; c++)
                emg[k * t->C + c] = (float)((double)a[c] + w * ((double)b[c] - (double)a[c]));
        } else {
            memcpy(emg + k * t->C, a, t->C * sizeof *emg);
        }
    }
    int rc = spec_table_warn(t, "'%s': irregular time column: estimated rate %.6g Hz (median step %.6g ms), "
                             "%zu of %zu steps off the %.6g Hz grid by more than %.3g%%, largest gap %.6g ms; "
                             "resampled %zu -> %zu samples onto a uniform %.6g Hz grid (EMG linear, labels "
                             "nearest-previous)", path, est, med * 1e3, irregular, n - 1, rate,
                             s->tolerance * 100, gap * 1e3, n, m, rate);
    free(t->emg);
    free(t->labels);
    free(t->time);
    t->emg = emg;
    t->labels = lab;
    t->time = tm;
    t->n = m;
    return rc;
}
