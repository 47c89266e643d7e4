/* converters/conv_emg2pose.c - emg2pose corpus -> unified file.
 *
 * metadata.csv is the authority for who, what and which split (it is what
 * the official code loads splits from); the session files give the samples
 * and, through their attributes, a second opinion that is checked and
 * reported, never silently preferred. Files are loaded (opened, checked,
 * hashed) in parallel and streamed into the unified file in blocks, in a
 * fixed order (user, then file name), so -j never changes the bytes.
 */
#include "converters/conv_emg2pose.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "converters/common.h"
#include "converters/emg2pose_h5.h"
#include "core/fs.h"
#include "core/version.h"
#include "format/mbh5.h"

#define BLOCK_ROWS_DEFAULT 65536
static size_t block_rows = BLOCK_ROWS_DEFAULT;

void conv_emg2pose_set_block_rows(size_t rows)
{
    block_rows = rows ? rows : BLOCK_ROWS_DEFAULT;
}

/* Columns of metadata.csv (formats.md §2.5); start/end are optional. */
enum { C_FILENAME, C_USER, C_SESSION, C_STAGE, C_SIDE, C_MOVING_HAND, C_HELD_OUT_USER,
       C_HELD_OUT_STAGE, C_SPLIT, C_GENERALIZATION, N_REQ_COLS };
static const char *const col_names[N_REQ_COLS] = {
    "filename", "user", "session", "stage", "side", "moving_hand",
    "held_out_user", "held_out_stage", "split", "generalization",
};
/* Columns whose cells may be empty: pandas writes NaN (training rows have
 * no generalization tag) as an empty field. */
static const int may_be_empty[N_REQ_COLS] = { [C_MOVING_HAND] = 1, [C_GENERALIZATION] = 1 };

/* One metadata.csv row that will be converted. Strings point into the CSV. */
struct row {
    size_t line;                    /* 1-based line in metadata.csv */
    const char *cell[N_REQ_COLS];
    int held_out_user, held_out_stage;  /* 0/1 */
    double csv_start;               /* 'start' column, NAN if absent/empty */
    int32_t gesture;                /* index of the stage in the vocabulary */
    const char *stem_side;          /* "left"/"right" from the file name, NULL if none */
    long rec_k;                     /* <k> of "-recording-<k>", -1 if the stem has none */
    char *pair_key;                 /* session + "-recording-<k>", NULL without k */
    char *partner;                  /* other side's stem, NULL without a side suffix */
    int partner_listed;             /* the partner stem is in metadata.csv */
};

struct ctx {
    const struct mb_convert_opts *o;
    struct mb_convert_result *res;
    struct conv_csv csv;
    char *csv_path;
    struct row *rows;               /* [n_rows] selected, sorted by (user, filename) */
    size_t n_rows;
    const char **stages;            /* [n_stages] sorted; gesture id = index */
    size_t n_stages;
    struct mbh5_writer *w;
    int dev_channels[16];           /* channel counts that already have a device */
    size_t n_dev;
    /* write-step buffers, [block rows x ...] */
    size_t block;
    int buf_ch;                     /* EMG channels the buffers are sized for */
    double *time;                   /* [block] */
    double *joints;                 /* [block x 20] */
    float *emg;                     /* [block x buf_ch] */
    int32_t *labels;                /* [block] */
    uint8_t *valid;                 /* [block] */
};

/* What the parallel load step hands to the serial write step. */
struct item {
    char *rel;                      /* "<filename>.hdf5" */
    struct conv_e2p_file *f;
    struct mbh5_source src;
    double rate_hz, start_time;
    char **warn;                    /* [n_warn] in the order found */
    size_t n_warn;
    int oom;
};

/* ---- small helpers ------------------------------------------------------ */

static char *xstrfmt(const char *fmt, ...) MB_PRINTF(1, 2);
static char *xstrfmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static void item_warn(struct item *it, const char *fmt, ...) MB_PRINTF(2, 3);
static void item_warn(struct item *it, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    char **v = s ? realloc(it->warn, (it->n_warn + 1) * sizeof *v) : NULL;
    if (!v) {
        free(s);
        it->oom = 1;
        return;
    }
    it->warn = v;
    it->warn[it->n_warn++] = s;
}

/* A warning goes to stderr and into the file's notes, and is counted. */
static int emit_warning(struct ctx *c, const char *text)
{
    mb_warn("%s", text);
    c->res->n_warnings++;
    int rc = mbh5_add_note(c->w, text);
    return rc;
}

static int parse_bool(int *out, const char *s)
{
    static const char *const yes[] = { "True", "true", "TRUE", "1", "yes", NULL };
    static const char *const no[] = { "False", "false", "FALSE", "0", "no", NULL };
    for (int i = 0; yes[i]; i++)
        if (!strcmp(s, yes[i])) { *out = 1; return 0; }
    for (int i = 0; no[i]; i++)
        if (!strcmp(s, no[i])) { *out = 0; return 0; }
    return -1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_row(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    int d = strcmp(x->cell[C_USER], y->cell[C_USER]);
    return d ? d : strcmp(x->cell[C_FILENAME], y->cell[C_FILENAME]);
}

/* Splits a stem "<base>_<side>" and "<...>-recording-<k>" out of it. */
static void parse_stem(struct row *r)
{
    const char *stem = r->cell[C_FILENAME];
    size_t n = strlen(stem), base = 0;
    r->stem_side = NULL;
    r->rec_k = -1;
    if (ends_with(stem, "_left")) { r->stem_side = "left"; base = n - 5; }
    else if (ends_with(stem, "_right")) { r->stem_side = "right"; base = n - 6; }
    else return;
    /* k: the digits after the last "-recording-" before the side suffix. */
    const char *key = "-recording-";
    const char *hit = NULL;
    for (const char *p = stem; (p = strstr(p, key)) && (size_t)(p - stem) < base; p++)
        hit = p;
    if (!hit)
        return;
    const char *d = hit + strlen(key);
    size_t nd = (size_t)(stem + base - d);
    if (nd == 0 || nd > 9)
        return;
    for (size_t i = 0; i < nd; i++)
        if (!isdigit((unsigned char)d[i]))
            return;
    r->rec_k = strtol(d, NULL, 10);
}

/* ---- metadata.csv ------------------------------------------------------- */

static int read_metadata(struct ctx *c)
{
    c->csv_path = conv_join(c->o->src, "metadata.csv");
    if (!c->csv_path)
        return mb_error(MB_ENOMEM, "out of memory");
    if (!mb_fs_is_file(c->csv_path))
        return mb_error(MB_EIO, "'%s': no metadata.csv in the emg2pose folder", c->csv_path);
    int rc = conv_csv_read(&c->csv, c->csv_path);
    if (rc != MB_OK)
        return rc;
    const struct conv_csv *t = &c->csv;
    int col[N_REQ_COLS];
    for (int k = 0; k < N_REQ_COLS; k++)
        if ((col[k] = conv_csv_col(t, col_names[k])) < 0)
            return mb_error(MB_EFORMAT, "'%s': the header has no column '%s' (required: filename, user, "
                            "session, stage, side, moving_hand, held_out_user, held_out_stage, split, "
                            "generalization)", c->csv_path, col_names[k]);
    int col_start = conv_csv_col(t, "start");
    if (t->n_rows == 0)
        return mb_error(MB_EFORMAT, "'%s': no rows after the header", c->csv_path);

    struct row *all = calloc(t->n_rows, sizeof *all);
    if (!all)
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", c->csv_path);
    c->rows = all;
    c->n_rows = t->n_rows;
    for (size_t i = 0; i < t->n_rows; i++) {
        struct row *r = &all[i];
        r->line = i + 2;
        for (int k = 0; k < N_REQ_COLS; k++) {
            r->cell[k] = conv_csv_cell(t, i, col[k]);
            if (!may_be_empty[k] && !r->cell[k][0])
                return mb_error(MB_EFORMAT, "'%s' line %zu: empty '%s'", c->csv_path, r->line, col_names[k]);
        }
        if (strcmp(r->cell[C_SIDE], "left") && strcmp(r->cell[C_SIDE], "right"))
            return mb_error(MB_EFORMAT, "'%s' line %zu: side '%s', expected 'left' or 'right'",
                            c->csv_path, r->line, r->cell[C_SIDE]);
        if (parse_bool(&r->held_out_user, r->cell[C_HELD_OUT_USER]) ||
            parse_bool(&r->held_out_stage, r->cell[C_HELD_OUT_STAGE]))
            return mb_error(MB_EFORMAT, "'%s' line %zu: held_out_user '%s' / held_out_stage '%s': expected "
                            "True or False", c->csv_path, r->line, r->cell[C_HELD_OUT_USER],
                            r->cell[C_HELD_OUT_STAGE]);
        r->csv_start = NAN;
        if (col_start >= 0 && conv_csv_cell(t, i, col_start)[0]) {
            char *end;
            const char *s = conv_csv_cell(t, i, col_start);
            double v = strtod(s, &end);
            if (*end || !isfinite(v))
                return mb_error(MB_EFORMAT, "'%s' line %zu: start '%s' is not a number", c->csv_path, r->line, s);
            r->csv_start = v;
        }
        parse_stem(r);
    }
    return MB_OK;
}

/* Vocabulary, duplicates, pairing, subject selection. Emits corpus-wide
 * warnings into 'notes' (written once the output exists). */
static int plan(struct ctx *c, char ***notes, size_t *n_notes)
{
    const size_t n = c->n_rows;
    const char **names = malloc((n ? n : 1) * sizeof *names);
    if (!names)
        return mb_error(MB_ENOMEM, "out of memory");
    /* Duplicate file names would make two recordings of one file. */
    for (size_t i = 0; i < n; i++)
        names[i] = c->rows[i].cell[C_FILENAME];
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(names[i], names[i - 1])) {
            const char *dup = names[i];
            size_t a = 0, b = 0;
            for (size_t k = 0; k < n; k++)
                if (!strcmp(c->rows[k].cell[C_FILENAME], dup))
                    *(a ? &b : &a) = c->rows[k].line;
            free(names);
            return mb_error(MB_EFORMAT, "'%s' lines %zu and %zu: file '%s' listed twice", c->csv_path, a, b, dup);
        }
    for (size_t i = 0; i < n; i++) {
        struct row *r = &c->rows[i];
        if (!r->stem_side)
            continue;
        const char *other = !strcmp(r->stem_side, "left") ? "right" : "left";
        size_t base = strlen(r->cell[C_FILENAME]) - strlen(r->stem_side) - 1;
        r->partner = xstrfmt("%.*s_%s", (int)base, r->cell[C_FILENAME], other);
        if (!r->partner) { free(names); return mb_error(MB_ENOMEM, "out of memory"); }
        r->partner_listed = bsearch(&r->partner, names, n, sizeof *names, cmp_str) != NULL;
        if (r->rec_k >= 0) {
            char suffix[32];
            snprintf(suffix, sizeof suffix, "-recording-%ld", r->rec_k);
            /* The official asset's 'session' already ends in -recording-<k>. */
            r->pair_key = ends_with(r->cell[C_SESSION], suffix) ? strdup(r->cell[C_SESSION])
                                                              : xstrfmt("%s%s", r->cell[C_SESSION], suffix);
            if (!r->pair_key) { free(names); return mb_error(MB_ENOMEM, "out of memory"); }
        }
    }

    /* The vocabulary comes from every row, so gesture ids do not depend on
     * --limit-subjects or on files skipped under --keep-going. */
    for (size_t i = 0; i < n; i++)
        names[i] = c->rows[i].cell[C_STAGE];
    qsort(names, n, sizeof *names, cmp_str);
    size_t ns = 0;
    for (size_t i = 0; i < n; i++)
        if (!ns || strcmp(names[i], names[ns - 1]))
            names[ns++] = names[i];
    c->stages = names;
    c->n_stages = ns;
    for (size_t i = 0; i < n; i++) {
        const char *s = c->rows[i].cell[C_STAGE];
        c->rows[i].gesture = (int32_t)((const char **)bsearch(&s, names, ns, sizeof *names, cmp_str) - names);
    }

    qsort(c->rows, n, sizeof *c->rows, cmp_row);
    if (c->o->limit_subjects > 0) {
        size_t users = 0, keep = 0;
        for (; keep < n; keep++) {
            if (!keep || strcmp(c->rows[keep].cell[C_USER], c->rows[keep - 1].cell[C_USER]))
                if (++users > (size_t)c->o->limit_subjects)
                    break;
        }
        for (size_t i = keep; i < n; i++) {
            free(c->rows[i].pair_key);
            free(c->rows[i].partner);
        }
        c->n_rows = keep;
    }

    /* Partners missing from metadata.csv: the recording stays, one-sided. */
    for (size_t i = 0; i < c->n_rows; i++) {
        const struct row *r = &c->rows[i];
        char *msg = NULL;
        if (!r->stem_side)
            msg = xstrfmt("'%s' line %zu: file name '%s' does not end in _left or _right; no pair tags",
                          c->csv_path, r->line, r->cell[C_FILENAME]);
        else if (!r->partner_listed)
            msg = xstrfmt("'%s.hdf5': the other side '%s' is not in metadata.csv; kept this side alone",
                          r->cell[C_FILENAME], r->partner);
        if (!r->stem_side || !r->partner_listed) {
            char **v = msg ? realloc(*notes, (*n_notes + 1) * sizeof *v) : NULL;
            if (!v) { free(msg); return mb_error(MB_ENOMEM, "out of memory"); }
            *notes = v;
            (*notes)[(*n_notes)++] = msg;
        }
    }
    return MB_OK;
}

/* Split status per stage and per user, with a note when rows disagree. */
static int held_out_of(const struct ctx *c, int by_stage, const char *key, char **note)
{
    int seen[2] = { 0, 0 };
    const size_t n = c->csv.n_rows;
    /* Rows are partly dropped by --limit-subjects; read the CSV itself. */
    int cu = conv_csv_col(&c->csv, "user"), cs = conv_csv_col(&c->csv, "stage");
    int ch = conv_csv_col(&c->csv, by_stage ? "held_out_stage" : "held_out_user");
    for (size_t i = 0; i < n; i++) {
        if (strcmp(conv_csv_cell(&c->csv, i, by_stage ? cs : cu), key))
            continue;
        int v;
        if (parse_bool(&v, conv_csv_cell(&c->csv, i, ch)) == 0)
            seen[v] = 1;
    }
    *note = NULL;
    if (seen[0] && seen[1]) {
        *note = xstrfmt("'%s': %s '%s' is held out in some rows and not in others; kept %s",
                        c->csv_path, by_stage ? "stage" : "user", key,
                        by_stage ? "held_out = 1" : "held_out = unknown");
        return by_stage ? 1 : -1;
    }
    return seen[1];
}

/* ---- load step (parallel) ----------------------------------------------- */

static void item_free(struct item *it)
{
    if (!it)
        return;
    conv_e2p_close(it->f);
    for (size_t i = 0; i < it->n_warn; i++)
        free(it->warn[i]);
    free(it->warn);
    free(it->rel);
    free(it);
}

static void compare_attr(struct item *it, const char *attr, const char *have, const char *kept,
                         const char *why, char *missing, size_t cap)
{
    if (!have) {
        size_t l = strlen(missing);
        snprintf(missing + l, cap - l, "%s%s", l ? ", " : "", attr);
    } else if (strcmp(have, kept)) {
        item_warn(it, "'%s': attribute '%s' is '%s' but %s '%s'; kept '%s'",
                  it->rel, attr, have, why, kept, kept);
    }
}

static int load(void *vctx, size_t i, void **out)
{
    struct ctx *c = vctx;
    const struct row *r = &c->rows[i];
    struct item *it = calloc(1, sizeof *it);
    if (!it || !(it->rel = xstrfmt("%s.hdf5", r->cell[C_FILENAME]))) {
        free(it);
        return mb_error(MB_ENOMEM, "out of memory loading '%s'", r->cell[C_FILENAME]);
    }
    char *full = conv_join(c->o->src, it->rel);
    int rc = full ? MB_OK : mb_error(MB_ENOMEM, "out of memory");
    if (rc == MB_OK && !mb_fs_is_file(full))
        rc = mb_error(MB_EIO, "'%s': listed in '%s' line %zu but not on disk", full, c->csv_path, r->line);
    if (rc == MB_OK)
        rc = conv_e2p_open(&it->f, full);
    if (rc == MB_OK && it->f->n_rows == 0)
        rc = mb_error(MB_EFORMAT, "'%s': 'emg2pose/timeseries' has no rows", full);
    if (rc != MB_OK) {
        free(full);
        item_free(it);
        return rc;
    }
    const struct conv_e2p_file *f = it->f;
    const struct conv_e2p_attrs *a = &f->attrs;

    /* metadata.csv and the file name win over the attributes (the official
     * asset's side attribute contradicts its own _left file name). */
    char missing[128] = "";
    const char *side = r->cell[C_SIDE];
    if (r->stem_side && strcmp(r->stem_side, side))
        item_warn(it, "'%s': metadata.csv line %zu says side '%s' but the file name ends in _%s; kept '%s'",
                  it->rel, r->line, side, r->stem_side, side);
    compare_attr(it, "filename", a->filename, r->cell[C_FILENAME], "the file is named", missing, sizeof missing);
    compare_attr(it, "side", a->side, side,
                 r->stem_side && !strcmp(r->stem_side, side) ? "the file name and metadata.csv say"
                                                              : "metadata.csv says", missing, sizeof missing);
    compare_attr(it, "user", a->user, r->cell[C_USER], "metadata.csv says", missing, sizeof missing);
    compare_attr(it, "session", a->session, r->cell[C_SESSION], "metadata.csv says", missing, sizeof missing);
    compare_attr(it, "stage", a->stage, r->cell[C_STAGE], "metadata.csv says", missing, sizeof missing);
    if (missing[0])
        item_warn(it, "'%s': attributes missing: %s; kept the metadata.csv values", it->rel, missing);

    if (a->num_channels >= 0 && a->num_channels != f->n_emg)
        item_warn(it, "'%s': attribute 'num_channels' is %lld but 'emg' has %d values per row; kept %d",
                  it->rel, a->num_channels, f->n_emg, f->n_emg);
    it->rate_hz = a->sample_rate;
    if (!(isfinite(it->rate_hz) && it->rate_hz > 0)) {
        if (isnan(a->sample_rate))
            item_warn(it, "'%s': attribute 'sample_rate' missing; used %g Hz", it->rel, CONV_E2P_RATE_HZ);
        else
            item_warn(it, "'%s': attribute 'sample_rate' is %g; used %g Hz", it->rel, a->sample_rate,
                      CONV_E2P_RATE_HZ);
        it->rate_hz = CONV_E2P_RATE_HZ;
    }

    double t0 = 0, tl = 0;
    rc = conv_e2p_read(it->f, 0, 1, &t0, NULL, NULL);
    if (rc == MB_OK)
        rc = conv_e2p_read(it->f, f->n_rows - 1, 1, &tl, NULL, NULL);
    if (rc == MB_OK && !(isfinite(t0) && isfinite(tl)))
        rc = mb_error(MB_EFORMAT, "'%s': time of the first or last row is not finite", full);
    if (rc != MB_OK) {
        free(full);
        item_free(it);
        return rc;
    }
    it->start_time = a->start;
    if (isnan(a->start)) {
        it->start_time = isfinite(r->csv_start) ? r->csv_start : t0;
        item_warn(it, "'%s': attribute 'start' missing; took %s (%.17g)", it->rel,
                  isfinite(r->csv_start) ? "the metadata.csv start" : "the first time value", it->start_time);
    } else if (fabs(t0 - a->start) > 1.0) {
        item_warn(it, "'%s': time starts at %.17g but attribute 'start' is %.17g; kept the time column as "
                  "stored and start_time from the attribute", it->rel, t0, a->start);
    }
    if (f->n_rows > 1) {
        double step = (tl - t0) / (double)(f->n_rows - 1);
        if (fabs(step * it->rate_hz - 1.0) > 0.01)
            item_warn(it, "'%s': time advances %.6g s per row but the rate is %g Hz (%.6g s); kept the time "
                      "column as stored and the rate %g Hz", it->rel, step, it->rate_hz, 1.0 / it->rate_hz,
                      it->rate_hz);
    }
    free(full);
    rc = conv_hash_source(&it->src, c->o->src, it->rel);
    if (rc == MB_OK && it->oom)
        rc = mb_error(MB_ENOMEM, "out of memory loading '%s'", it->rel);
    if (rc != MB_OK) {
        item_free(it);
        return rc;
    }
    *out = it;
    return MB_OK;
}

static void drop(void *vctx, void *item)
{
    (void)vctx;
    item_free(item);
}

static const char *item_name(void *vctx, size_t i)
{
    struct ctx *c = vctx;
    return c->rows[i].cell[C_FILENAME];
}

/* ---- write step (serial, in order) -------------------------------------- */

static int ensure_device(struct ctx *c, const char **name, int channels)
{
    static _Thread_local char buf[64];
    if (channels == 16)
        snprintf(buf, sizeof buf, "ctrl-labs-armband");
    else
        snprintf(buf, sizeof buf, "ctrl-labs-armband-%dch", channels);
    *name = buf;
    for (size_t k = 0; k < c->n_dev; k++)
        if (c->dev_channels[k] == channels)
            return MB_OK;
    if (c->n_dev == sizeof c->dev_channels / sizeof c->dev_channels[0])
        return mb_error(MB_EFORMAT, "'%s': more than %zu different EMG channel counts in one corpus",
                        c->o->src, c->n_dev);
    struct mbh5_device d = {
        .name = buf,
        .manufacturer = "Ctrl-labs (Meta Reality Labs)",
        .model = "sEMG research wristband",
        .n_channels = channels,
        .rate_hz = CONV_E2P_RATE_HZ,
        .units = "a.u.",
        .scale = 0,
        .adc_bits = 0,
        .hw_filters = "",
        .sw_filters = "high-pass filtered by the source before release (cutoff not documented)",
        .power_line_hz = 0,
        .channels = NULL,
    };
    int rc = mbh5_add_device(c->w, &d);
    if (rc == MB_OK)
        c->dev_channels[c->n_dev++] = channels;
    return rc;
}

static int ensure_buffers(struct ctx *c, int channels)
{
    if (c->time && c->buf_ch >= channels)
        return MB_OK;
    const size_t b = c->block;
    free(c->emg);
    c->emg = malloc(b * (size_t)channels * sizeof *c->emg);
    c->buf_ch = channels;
    if (!c->time) {
        c->time = malloc(b * sizeof *c->time);
        c->joints = malloc(b * CONV_E2P_JOINTS * sizeof *c->joints);
        c->labels = malloc(b * sizeof *c->labels);
        c->valid = malloc(b * sizeof *c->valid);
    }
    if (!c->emg || !c->time || !c->joints || !c->labels || !c->valid)
        return mb_error(MB_ENOMEM, "out of memory for %zu-row blocks", b);
    return MB_OK;
}

static int add_tags(struct mbh5_rec *rec, const struct row *r)
{
    char k[32];
    const char *kv[][2] = {
        { "held_out_user", r->held_out_user ? "true" : "false" },
        { "held_out_stage", r->held_out_stage ? "true" : "false" },
        { "split", r->cell[C_SPLIT] },
        { "generalization", r->cell[C_GENERALIZATION] },
        { "moving_hand", r->cell[C_MOVING_HAND] },
        { "stage", r->cell[C_STAGE] },
        { "recording", NULL },
        { "pair", r->pair_key },
        { "partner", r->partner },
    };
    if (r->rec_k >= 0) {
        snprintf(k, sizeof k, "%ld", r->rec_k);
        kv[6][1] = k;
    }
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        if (!kv[i][1] || !kv[i][1][0])
            continue;   /* empty pandas cells carry no tag */
        int rc = mbh5_rec_add_tag(rec, kv[i][0], kv[i][1]);
        if (rc != MB_OK)
            return rc;
    }
    return MB_OK;
}

/* First non-finite value of a block: its row, or SIZE_MAX. */
static size_t first_nonfinite_d(const double *x, size_t rows, size_t width, size_t *count)
{
    size_t first = SIZE_MAX;
    for (size_t i = 0; i < rows * width; i++)
        if (!isfinite(x[i])) {
            if (first == SIZE_MAX)
                first = i / width;
            (*count)++;
        }
    return first;
}

static size_t first_nonfinite_f(const float *x, size_t rows, size_t width, size_t *count)
{
    size_t first = SIZE_MAX;
    for (size_t i = 0; i < rows * width; i++)
        if (!isfinite(x[i])) {
            if (first == SIZE_MAX)
                first = i / width;
            (*count)++;
        }
    return first;
}

static int write_item(void *vctx, size_t i, void *vitem)
{
    struct ctx *c = vctx;
    struct item *it = vitem;
    const struct row *r = &c->rows[i];
    struct conv_e2p_file *f = it->f;
    int rc = MB_OK;
    for (size_t k = 0; k < it->n_warn && rc == MB_OK; k++)
        rc = emit_warning(c, it->warn[k]);
    if (rc == MB_OK)
        rc = mbh5_add_source(c->w, it->rel, it->src.sha256, it->src.bytes);
    const char *dev = NULL;
    if (rc == MB_OK)
        rc = ensure_device(c, &dev, f->n_emg);
    if (rc == MB_OK)
        rc = ensure_buffers(c, f->n_emg);
    if (rc != MB_OK)
        return rc;

    struct mbh5_rec_info info = {
        .subject = r->cell[C_USER],
        .session = r->cell[C_SESSION],
        .side = r->cell[C_SIDE],
        .day = -1,
        .device = dev,
        .rate_hz = it->rate_hz,
        .n_channels = f->n_emg,
        .source = it->rel,
        .start_time = it->start_time,
        .has_time = 1,
        .has_repetition = 0,
    };
    struct mbh5_stream_info si = {
        .name = "joint_angles",
        .kind = "pose",
        .n_channels = CONV_E2P_JOINTS,
        .rate_hz = it->rate_hz,
        .units = "rad",
        .channel_names = conv_e2p_joint_names,
        .has_valid = 1,
        .f64 = f->joints_f64,
    };
    struct mbh5_rec *rec;
    int sid;
    rc = mbh5_rec_begin(c->w, &rec, &info);
    if (rc != MB_OK)
        return rc;
    if ((rc = add_tags(rec, r)) != MB_OK || (rc = mbh5_rec_add_stream(rec, &sid, &si)) != MB_OK)
        return rc;

    const size_t C = (size_t)f->n_emg;
    size_t bad_emg = 0, bad_pose = 0, bad_time = 0, not_increasing = 0, first_not_inc = 0;
    double prev = -INFINITY;
    for (size_t s = 0; s < f->n_rows; s += c->block) {
        size_t n = f->n_rows - s < c->block ? f->n_rows - s : c->block;
        rc = conv_e2p_read(f, s, n, c->time, c->joints, c->emg);
        if (rc != MB_OK)
            return rc;
        size_t be = first_nonfinite_f(c->emg, n, C, &bad_emg);
        size_t bp = first_nonfinite_d(c->joints, n, CONV_E2P_JOINTS, &bad_pose);
        size_t bt = first_nonfinite_d(c->time, n, 1, &bad_time);
        if (!c->o->allow_nonfinite && (be != SIZE_MAX || bp != SIZE_MAX || bt != SIZE_MAX)) {
            size_t row = be < bp ? be : bp;
            row = row < bt ? row : bt;
            const char *what = row == be ? "emg" : row == bp ? "joint_angles" : "time";
            return mb_error(MB_ENUM, "'%s' sample %zu: non-finite '%s' value (use --allow-nonfinite to keep it)",
                            it->rel, s + row + 1, what);
        }
        for (size_t k = 0; k < n; k++) {
            c->labels[k] = r->gesture;
            if (!(c->time[k] > prev)) {
                if (!not_increasing++)
                    first_not_inc = s + k;
            }
            prev = c->time[k];
            /* An all-zero joint-angle row is an inverse-kinematics failure
             * (get_ik_failures_mask in the official code). */
            const double *j = c->joints + k * CONV_E2P_JOINTS;
            int any = 0;
            for (int q = 0; q < CONV_E2P_JOINTS; q++)
                any |= j[q] != 0.0;
            c->valid[k] = (uint8_t)any;
        }
        rc = mbh5_rec_append(rec, c->emg, c->labels, NULL, c->time, n);
        /* A float32 stream rounds the doubles back to the source's floats:
         * nothing is lost either way. */
        if (rc == MB_OK)
            rc = mbh5_rec_append_stream_f64(rec, sid, c->joints, c->valid, n);
        if (rc != MB_OK)
            return rc;
    }
    if ((rc = mbh5_rec_end(rec)) != MB_OK)
        return rc;
    c->res->n_recordings++;
    char *msg = NULL;
    if (bad_emg || bad_pose || bad_time) {
        msg = xstrfmt("'%s': %zu non-finite emg, %zu joint_angles and %zu time values; kept "
                      "(--allow-nonfinite)", it->rel, bad_emg, bad_pose, bad_time);
        if (!msg || (rc = emit_warning(c, msg)) != MB_OK) {
            free(msg);
            return msg ? rc : mb_error(MB_ENOMEM, "out of memory");
        }
        free(msg);
    }
    if (not_increasing) {
        msg = xstrfmt("'%s': time does not increase at %zu samples (first at sample %zu); kept as stored",
                      it->rel, not_increasing, first_not_inc + 1);
        if (!msg || (rc = emit_warning(c, msg)) != MB_OK) {
            free(msg);
            return msg ? rc : mb_error(MB_ENOMEM, "out of memory");
        }
        free(msg);
    }
    return MB_OK;
}

/* ---- the converter ------------------------------------------------------ */

static char *params_json(const struct mb_convert_opts *o)
{
    json_t *j = json_pack("{s:s, s:s, s:i, s:b, s:b, s:I}",
                          "converter", "emg2pose",
                          "metadata", "metadata.csv",
                          "limit_subjects", o->limit_subjects,
                          "keep_going", o->keep_going,
                          "allow_nonfinite", o->allow_nonfinite,
                          "block_rows", (json_int_t)block_rows);
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    return s;
}

/* Files on disk that metadata.csv does not list: worth a note, never converted. */
static int unlisted_files(const struct ctx *c, char **note)
{
    struct conv_files fl;
    *note = NULL;
    int rc = conv_list_files(&fl, c->o->src, ".hdf5");
    if (rc != MB_OK)
        return rc;
    /* Compare against every CSV row, not only the selected ones. */
    const size_t n = c->csv.n_rows;
    char **listed = malloc((n ? n : 1) * sizeof *listed);
    if (!listed) {
        conv_files_release(&fl);
        return mb_error(MB_ENOMEM, "out of memory");
    }
    int cf = conv_csv_col(&c->csv, "filename");
    size_t nl = 0;
    for (size_t i = 0; i < n; i++) {
        listed[nl] = xstrfmt("%s.hdf5", conv_csv_cell(&c->csv, i, cf));
        if (listed[nl])
            nl++;
    }
    qsort(listed, nl, sizeof *listed, cmp_str);
    size_t extra = 0;
    const char *first = NULL;
    for (size_t i = 0; i < fl.n; i++)
        if (!bsearch(&fl.rel[i], listed, nl, sizeof *listed, cmp_str))
            if (!extra++)
                first = fl.rel[i];
    if (extra)
        *note = xstrfmt("'%s': %zu HDF5 file%s not listed in metadata.csv, not converted (first: '%s')",
                        c->o->src, extra, extra == 1 ? "" : "s", first);
    for (size_t i = 0; i < nl; i++)
        free(listed[i]);
    free(listed);
    conv_files_release(&fl);
    return MB_OK;
}

static void ctx_release(struct ctx *c)
{
    for (size_t i = 0; i < c->n_rows; i++) {
        free(c->rows[i].pair_key);
        free(c->rows[i].partner);
    }
    free(c->rows);
    free(c->stages);
    conv_csv_release(&c->csv);
    free(c->csv_path);
    free(c->time);
    free(c->joints);
    free(c->emg);
    free(c->labels);
    free(c->valid);
}

static int begin_output(struct ctx *c, char **notes, size_t n_notes)
{
    char *params = params_json(c->o);
    if (!params)
        return mb_error(MB_ENOMEM, "out of memory");
    struct mbh5_corpus corpus = {
        .name = "emg2pose",
        .source_dataset = "emg2pose (Meta, NeurIPS 2024 Datasets and Benchmarks)",
        .source_version = "",
        .converter = "emg2pose",
        .converter_version = MB_VERSION,
        .params_json = params,
    };
    int rc = conv_create_output(&c->w, c->o, &corpus);
    free(params);
    if (rc != MB_OK)
        return rc;
    struct mbh5_source src;
    rc = conv_hash_source(&src, c->o->src, "metadata.csv");
    if (rc == MB_OK)
        rc = mbh5_add_source(c->w, "metadata.csv", src.sha256, src.bytes);
    for (size_t g = 0; g < c->n_stages && rc == MB_OK; g++) {
        char *note;
        int held = held_out_of(c, 1, c->stages[g], &note);
        if (note) {
            rc = emit_warning(c, note);
            free(note);
            if (rc != MB_OK)
                break;
        }
        struct mbh5_gesture ge = { .id = (int32_t)g, .name = c->stages[g], .source_label = c->stages[g],
                                   .held_out = held };
        rc = mbh5_add_gesture(c->w, &ge);
    }
    for (size_t i = 0; i < c->n_rows && rc == MB_OK; i++) {
        const char *u = c->rows[i].cell[C_USER];
        if (i && !strcmp(u, c->rows[i - 1].cell[C_USER]))
            continue;
        char *note;
        struct mbh5_subject s = { .name = u, .held_out = held_out_of(c, 0, u, &note) };
        if (note) {
            rc = emit_warning(c, note);
            free(note);
        }
        if (rc == MB_OK)
            rc = mbh5_add_subject(c->w, &s);
    }
    for (size_t i = 0; i < n_notes && rc == MB_OK; i++)
        rc = emit_warning(c, notes[i]);
    if (rc == MB_OK) {
        char *note;
        rc = unlisted_files(c, &note);
        if (rc == MB_OK && note)
            rc = emit_warning(c, note);
        free(note);
    }
    return rc;
}

static int convert(const struct mb_convert_opts *o, struct mb_convert_result *res)
{
    struct ctx c = { .o = o, .res = res, .block = block_rows };
    char **notes = NULL;
    size_t n_notes = 0;
    int rc = read_metadata(&c);
    if (rc == MB_OK)
        rc = plan(&c, &notes, &n_notes);
    if (rc == MB_OK)
        rc = begin_output(&c, notes, n_notes);
    for (size_t i = 0; i < n_notes; i++)
        free(notes[i]);
    free(notes);
    if (rc == MB_OK) {
        struct conv_pipeline p = {
            .n = c.n_rows, .load = load, .write = write_item, .drop = drop, .name = item_name,
            .ctx = &c, .threads = o->threads, .keep_going = o->keep_going, .progress = o->progress,
            .what = "emg2pose", .notes = c.w,
        };
        rc = conv_run_pipeline(&p, res);
    }
    if (rc == MB_OK && res->n_files == 0)
        rc = mb_error(MB_EFORMAT, "'%s': no session file could be converted", o->src);
    if (rc == MB_OK) {
        rc = mbh5_commit(c.w);
    } else {
        mbh5_abort(c.w);
    }
    c.w = NULL;
    ctx_release(&c);
    return rc;
}

static int probe(const char *src)
{
    char *csv = conv_join(src, "metadata.csv");
    int ok = csv && mb_fs_is_file(csv);
    free(csv);
    if (!ok)
        return 0;
    struct conv_files fl;
    int saved = mb_log_get_level();
    mb_log_set_level(MB_LOG_QUIET);
    int rc = conv_list_files(&fl, src, ".hdf5");
    mb_log_set_level(saved);
    if (rc != MB_OK)
        return 0;
    int yes = 0;
    /* A few files are enough: a folder of emg2pose files is homogeneous. */
    for (size_t i = 0; i < fl.n && i < 8 && !yes; i++) {
        char *p = conv_join(src, fl.rel[i]);
        yes = p && conv_e2p_is_emg2pose(p);
        free(p);
    }
    conv_files_release(&fl);
    return yes;
}

const struct mb_converter conv_emg2pose = {
    .name = "emg2pose",
    .summary = "emg2pose (metadata.csv + one HDF5 file per hand and stage)",
    .probe = probe,
    .recognises = "an emg2pose folder (metadata.csv and HDF5 files with group 'emg2pose')",
    .convert = convert,
    /* no options of its own: every one it reads is common (converter.h) */
};
