/* converters/conv_ninapro.c - NinaPro DB1-DB8 folders -> unified file.
 *
 * The file names say who and which exercise (formats.md §3.2); the
 * database says the rate, the device and how movements are numbered. The
 * database comes from --db, else from a "DB<k>_s<N>" folder, else from the
 * name pattern and the first file's shape. Files are loaded in parallel
 * (ninapro_mat.c: every per-file quirk is settled there and its warnings
 * travel with the file) and written in a fixed order (subject, exercise,
 * acquisition, day, time), so -j never changes the bytes.
 */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "converters/common.h"
#include "converters/conv_ninapro.h"
#include "converters/ninapro_mat.h"
#include "core/version.h"
#include "format/mbh5.h"

#define BLOCK_ROWS 65536

struct pfile {
    char *rel;                      /* borrowed from the folder listing */
    struct conv_np_name nm;
};

struct ctx {
    const struct mb_convert_opts *o;
    const struct conv_ninapro_opts *no;   /* this converter's own options */
    struct mb_convert_result *res;
    const struct conv_np_db *db;
    const char *db_from;            /* how the database was chosen, for params_json */
    struct conv_files fl;
    struct pfile *files;            /* [n] selected, in writing order */
    size_t n;
    size_t n_ignored;               /* .mat files whose names fit no pattern */
    const char *first_ignored;
    struct mbh5_writer *w;
    int dev_channels[16];
    size_t n_dev;
    /* exercise-variable quirk (DB5), warned once */
    size_t n_ex_mismatch;
    /* DB6: gesture ids met, the vocabulary is what the files hold */
    uint8_t *seen;                  /* [seen_cap] */
    size_t seen_cap;
    /* write-step buffers */
    float *emg;                     /* [BLOCK_ROWS x emg_cap] */
    int emg_cap;
    double *sbuf;                   /* [BLOCK_ROWS x sbuf_cap] */
    size_t sbuf_cap;
};

struct item {
    struct conv_np_file f;
    struct mbh5_source src;
};

/* A warning goes to stderr and into the file's notes, and is counted. */
static int emit_warning(struct ctx *c, const char *text)
{
    mb_warn("%s", text);
    c->res->n_warnings++;
    return mbh5_add_note(c->w, text);
}

static int emit_fmt(struct ctx *c, const char *fmt, ...) MB_PRINTF(2, 3);
static int emit_fmt(struct ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    if (!s)
        return mb_error(MB_ENOMEM, "out of memory");
    int rc = emit_warning(c, s);
    free(s);
    return rc;
}

static int key(int v)
{
    return v < 0 ? -1 : v;
}

static int cmp_pfile(const void *a, const void *b)
{
    const struct pfile *x = a, *y = b;
    const int kx[5] = { x->nm.subject, key(x->nm.exercise), key(x->nm.acquisition), key(x->nm.day), key(x->nm.time) };
    const int ky[5] = { y->nm.subject, key(y->nm.exercise), key(y->nm.acquisition), key(y->nm.day), key(y->nm.time) };
    for (int k = 0; k < 5; k++)
        if (kx[k] != ky[k])
            return kx[k] < ky[k] ? -1 : 1;
    return strcmp(x->rel, y->rel);
}

/* ---- planning ----------------------------------------------------------- */

static int detect_db(struct ctx *c)
{
    const struct mb_convert_opts *o = c->o;
    const struct conv_ninapro_opts *no = c->no;
    int hint = -1, style = c->files[0].nm.style, acq23 = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct conv_np_name *nm = &c->files[i].nm;
        if (nm->db_hint > 0) {
            if (hint > 0 && hint != nm->db_hint && !no->db)
                return mb_error(MB_EFORMAT, "'%s': folders name both DB%d and DB%d; pass --db", o->src, hint, nm->db_hint);
            hint = nm->db_hint;
        }
        acq23 |= nm->style == CONV_NP_NAME_S_E_A && nm->acquisition >= 2;
    }
    if (no->db) {
        c->db = conv_np_db(no->db);
        c->db_from = "--db";
        return MB_OK;
    }
    if (hint >= 1 && hint <= CONV_NP_MAX_DB) {
        c->db = conv_np_db(hint);
        c->db_from = "folder name";
        return MB_OK;
    }
    c->db_from = "file names and the first file's shape";
    if (style == CONV_NP_NAME_S_D_T) {
        c->db = conv_np_db(6);
        return MB_OK;
    }
    if (acq23) {
        c->db = conv_np_db(8);
        return MB_OK;
    }
    char *p = conv_join(o->src, c->files[0].rel);
    if (!p)
        return mb_error(MB_ENOMEM, "out of memory");
    struct conv_np_peek pk;
    int rc = conv_np_peek(&pk, p, 0);
    free(p);
    if (rc != MB_OK)
        return rc;
    int db = 0;
    if (style == CONV_NP_NAME_S_A_E)
        db = pk.emg_cols == 10 && pk.frequency == 0 ? 1 : 3;
    else if (pk.emg_cols == 16)
        db = pk.frequency > 0 && fabs(pk.frequency - 1111) < 2 ? 8 : 5;
    else if (pk.n_glove == 18)
        db = 7;
    if (!db)
        return mb_error(MB_EFORMAT, "'%s': cannot tell the NinaPro database from '%s' (%zu EMG channels, %s); the "
                        "layout fits DB2 and DB4; pass --db N", o->src, c->files[0].rel, pk.emg_cols,
                        pk.frequency > 0 ? "a 'frequency' variable" : "no 'frequency' variable");
    c->db = conv_np_db(db);
    return MB_OK;
}

static int plan(struct ctx *c)
{
    const struct mb_convert_opts *o = c->o;
    int rc = conv_list_files(&c->fl, o->src, ".mat");
    if (rc != MB_OK)
        return rc;
    if (c->fl.n == 0)
        return mb_error(MB_EFORMAT, "'%s': no .mat files in the folder", o->src);
    c->files = calloc(c->fl.n, sizeof *c->files);
    if (!c->files)
        return mb_error(MB_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->fl.n; i++) {
        struct pfile *f = &c->files[c->n];
        if (conv_np_parse_name(&f->nm, c->fl.rel[i])) {
            f->rel = c->fl.rel[i];
            c->n++;
        } else if (!c->n_ignored++) {
            c->first_ignored = c->fl.rel[i];
        }
    }
    if (c->n == 0)
        return mb_error(MB_EFORMAT, "'%s': no .mat file is named like a NinaPro file (S<N>_A1_E<e>.mat, "
                        "S<N>_E<e>_A<a>.mat or S<N>_D<d>_T<t>.mat; first seen: '%s')", o->src, c->first_ignored);
    if ((rc = detect_db(c)) != MB_OK)
        return rc;
    qsort(c->files, c->n, sizeof *c->files, cmp_pfile);
    if (o->limit_subjects > 0) {
        size_t subjects = 0, keep = 0;
        for (; keep < c->n; keep++)
            if (!keep || c->files[keep].nm.subject != c->files[keep - 1].nm.subject)
                if (++subjects > (size_t)o->limit_subjects)
                    break;
        c->n = keep;
    }
    return MB_OK;
}

/* ---- load step (parallel) ----------------------------------------------- */

static int load(void *vctx, size_t i, void **out)
{
    struct ctx *c = vctx;
    const struct pfile *pf = &c->files[i];
    struct item *it = calloc(1, sizeof *it);
    char *full = conv_join(c->o->src, pf->rel);
    if (!it || !full) {
        free(it);
        free(full);
        return mb_error(MB_ENOMEM, "out of memory");
    }
    struct conv_np_load_opts lo = {
        .db = c->db,
        .exercise = c->db->db == 6 ? 1 : pf->nm.exercise,
        .use_stimulus = c->no->labels && !strcmp(c->no->labels, "stimulus"),
        .allow_nonfinite = c->o->allow_nonfinite,
        .allow_truncation = c->no->allow_truncation,
    };
    int rc = conv_np_load(&it->f, full, pf->rel, &lo);
    free(full);
    if (rc == MB_OK)
        rc = conv_hash_source(&it->src, c->o->src, pf->rel);
    if (rc != MB_OK) {
        conv_np_release(&it->f);
        free(it);
        return rc;
    }
    *out = it;
    return MB_OK;
}

static void drop(void *vctx, void *vitem)
{
    (void)vctx;
    struct item *it = vitem;
    if (it)
        conv_np_release(&it->f);
    free(it);
}

static const char *item_name(void *vctx, size_t i)
{
    const struct ctx *c = vctx;
    return c->files[i].rel;
}

/* ---- write step (serial, in order) -------------------------------------- */

static int ensure_device(struct ctx *c, char *name, size_t cap, int channels)
{
    const struct conv_np_db *d = c->db;
    size_t k = 0;
    while (k < c->n_dev && c->dev_channels[k] != channels)
        k++;
    /* The first channel count met keeps the plain name; DB3 has subjects
     * with 10 electrodes among the 12-electrode ones. */
    if (k == 0)
        snprintf(name, cap, "%s", d->device);
    else
        snprintf(name, cap, "%s-%dch", d->device, channels);
    if (k < c->n_dev)
        return MB_OK;
    if (c->n_dev == sizeof c->dev_channels / sizeof *c->dev_channels)
        return mb_error(MB_EFORMAT, "'%s': more than %zu EMG channel counts in one corpus", c->o->src, c->n_dev);
    struct mbh5_channel *ch = NULL;
    char (*names)[16] = NULL;
    if (d->db == 5 && channels == 16) {
        /* Two Myo armbands: columns 1-8 proximal, 9-16 distal, rotated 22.5 deg (formats.md §3.2). */
        ch = calloc(16, sizeof *ch);
        names = calloc(16, sizeof *names);
        if (!ch || !names) {
            free(ch);
            free(names);
            return mb_error(MB_ENOMEM, "out of memory");
        }
        for (int q = 0; q < 16; q++) {
            snprintf(names[q], sizeof names[q], "emg%d", q + 1);
            ch[q] = (struct mbh5_channel){ names[q], q < 8 ? "proximal Myo armband" :
                                           "distal Myo armband, rotated 22.5 deg", d->units, 1.0 };
        }
    }
    struct mbh5_device dev = {
        .name = name,
        .manufacturer = d->manufacturer,
        .model = d->model,
        .n_channels = channels,
        .rate_hz = d->rate_hz,
        .units = d->units,
        .scale = d->scale,
        .adc_bits = 0,
        .hw_filters = d->hw_filters,
        .sw_filters = d->sw_filters,
        .power_line_hz = d->power_line_hz,
        .channels = ch,
    };
    int rc = mbh5_add_device(c->w, &dev);
    free(ch);
    free(names);
    if (rc == MB_OK)
        c->dev_channels[c->n_dev++] = channels;
    return rc;
}

static int ensure_buffers(struct ctx *c, int channels, size_t scols)
{
    if (channels > c->emg_cap) {
        free(c->emg);
        c->emg = malloc((size_t)BLOCK_ROWS * (size_t)channels * sizeof *c->emg);
        c->emg_cap = c->emg ? channels : 0;
    }
    if (scols > c->sbuf_cap) {
        free(c->sbuf);
        c->sbuf = malloc((size_t)BLOCK_ROWS * scols * sizeof *c->sbuf);
        c->sbuf_cap = c->sbuf ? scols : 0;
    }
    if (!c->emg || (scols && !c->sbuf))
        return mb_error(MB_ENOMEM, "out of memory for %d-row blocks", BLOCK_ROWS);
    return MB_OK;
}

/* Stream kind and units by variable name (formats.md §3.2). */
static void stream_kind(const char *name, const char **kind, const char **units)
{
    static const struct { const char *name, *kind, *units; } kinds[] = {
        /* The glove is the pose signal of NinaPro: raw CyberGlove sensor
         * values (uncalibrated 8-bit counts in DB1). */
        { "glove", "pose", "raw" },
        { "acc", "acc", "a.u." },
        { "gyro", "gyro", "a.u." },
        { "mag", "mag", "a.u." },
        { "inclin", "inclin", "a.u." },
        { "force", "force", "a.u." },
        { "stimulus", "labels", "" },
        { "restimulus", "labels", "" },
        { "repetition", "labels", "" },
        { "rerepetition", "labels", "" },
    };
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        if (!strcmp(name, kinds[k].name)) {
            *kind = kinds[k].kind;
            *units = kinds[k].units;
            return;
        }
    *kind = "aux";
    *units = "a.u.";
}

static int add_tags(struct ctx *c, struct mbh5_rec *rec, const struct pfile *pf, const struct conv_np_file *f)
{
    const struct conv_np_db *d = c->db;
    char db[8], ex[8], acq[8];
    snprintf(db, sizeof db, "%d", d->db);
    snprintf(ex, sizeof ex, "%d", pf->nm.exercise);
    snprintf(acq, sizeof acq, "%d", pf->nm.acquisition);
    const char *split = NULL;
    if (d->db == 8 && pf->nm.acquisition >= 1)   /* A1 + A2 train, A3 test (formats.md §3.4) */
        split = pf->nm.acquisition <= 2 ? "train" : "test";
    const char *kv[][2] = {
        { "db", db },
        { "exercise", pf->nm.exercise > 0 ? ex : NULL },
        { "acquisition", pf->nm.acquisition > 0 ? acq : NULL },
        { "labels", f->label_var },
        { "repetitions", f->rep_var },
        { "train_reps", d->train_reps[0] ? d->train_reps : NULL },
        { "test_reps", d->test_reps[0] ? d->test_reps : NULL },
        { "split", split },
    };
    const size_t nkv = sizeof kv / sizeof *kv;
    int rc = MB_OK;
    for (size_t k = 0; k < nkv && rc == MB_OK; k++)
        if (kv[k][1])
            rc = mbh5_rec_add_tag(rec, kv[k][0], kv[k][1]);
    /* Scalars and strings of the file (DB5: age, gender, sensor, ...). */
    for (size_t t = 0; t < f->n_tags && rc == MB_OK; t++) {
        int clash = 0;
        for (size_t k = 0; k < nkv; k++)
            clash |= kv[k][1] && !strcmp(kv[k][0], f->tags[t].key);
        if (clash)
            rc = emit_fmt(c, "'%s': variable '%s' = '%s' has the name of a converter tag; not kept as a tag",
                          f->path, f->tags[t].key, f->tags[t].value);
        else
            rc = mbh5_rec_add_tag(rec, f->tags[t].key, f->tags[t].value);
    }
    return rc;
}

static int note_seen(struct ctx *c, const int32_t *labels, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t v = (size_t)labels[i];
        if (v >= c->seen_cap) {
            size_t cap = v + 64;
            uint8_t *s = realloc(c->seen, cap);
            if (!s)
                return mb_error(MB_ENOMEM, "out of memory");
            memset(s + c->seen_cap, 0, cap - c->seen_cap);
            c->seen = s;
            c->seen_cap = cap;
        }
        c->seen[v] = 1;
    }
    return MB_OK;
}

static int write_item(void *vctx, size_t i, void *vitem)
{
    struct ctx *c = vctx;
    struct item *it = vitem;
    const struct pfile *pf = &c->files[i];
    const struct conv_np_file *f = &it->f;
    int rc = MB_OK;
    for (size_t k = 0; k < f->n_warn && rc == MB_OK; k++)
        rc = emit_warning(c, f->warn[k]);
    if (rc == MB_OK && f->exercise_var >= 0 && pf->nm.exercise > 0 && f->exercise_var != pf->nm.exercise &&
        !c->n_ex_mismatch++)
        rc = emit_fmt(c, "'%s': the 'exercise' variable says %d but the file name says E%d; kept the file name "
                      "(said once; the count of such files is noted at the end)", f->path, f->exercise_var,
                      pf->nm.exercise);
    if (rc == MB_OK && f->subject_var >= 0 && f->subject_var != pf->nm.subject)
        rc = emit_fmt(c, "'%s': the 'subject' variable says %d but the file name says S%d; kept the file name",
                      f->path, f->subject_var, pf->nm.subject);
    if (rc == MB_OK)
        rc = mbh5_add_source(c->w, pf->rel, it->src.sha256, it->src.bytes);
    char dev[96];
    if (rc == MB_OK)
        rc = ensure_device(c, dev, sizeof dev, f->n_channels);
    size_t scols = 0;
    for (size_t k = 0; k < f->n_streams; k++)
        scols = f->streams[k].cols > scols ? f->streams[k].cols : scols;
    if (rc == MB_OK)
        rc = ensure_buffers(c, f->n_channels, scols);
    if (rc == MB_OK && c->db->numbering == CONV_NP_OBSERVED)
        rc = note_seen(c, f->labels, f->n);
    if (rc != MB_OK)
        return rc;

    char subject[16], session[32] = "";
    snprintf(subject, sizeof subject, "%d", pf->nm.subject);
    if (pf->nm.style == CONV_NP_NAME_S_D_T)
        snprintf(session, sizeof session, "D%d T%d", pf->nm.day, pf->nm.time);
    else if (c->db->db == 8)
        snprintf(session, sizeof session, "A%d", pf->nm.acquisition);
    struct mbh5_rec_info info = {
        .subject = subject,
        .session = session,
        .side = "",
        .day = pf->nm.day,
        .device = dev,
        .rate_hz = f->rate_hz,
        .n_channels = f->n_channels,
        .source = pf->rel,
        .start_time = NAN,
        .has_time = 0,
        .has_repetition = 1,
    };
    struct mbh5_rec *rec;
    if ((rc = mbh5_rec_begin(c->w, &rec, &info)) != MB_OK || (rc = add_tags(c, rec, pf, f)) != MB_OK)
        return rc;
    int sid[64];
    if (f->n_streams > sizeof sid / sizeof *sid)
        return mb_error(MB_EFORMAT, "'%s': more than %zu signal variables", f->path, sizeof sid / sizeof *sid);
    for (size_t k = 0; k < f->n_streams && rc == MB_OK; k++) {
        struct mbh5_stream_info si = {
            .name = f->streams[k].name,
            .n_channels = (int)f->streams[k].cols,
            .rate_hz = f->rate_hz,
            .channel_names = NULL,
            .has_valid = 0,
            .f64 = f->streams[k].f64,
        };
        stream_kind(si.name, &si.kind, &si.units);
        /* Label vectors are small integers: float32 holds them exactly. */
        if (!strcmp(si.kind, "labels"))
            si.f64 = 0;
        rc = mbh5_rec_add_stream(rec, &sid[k], &si);
    }
    for (size_t s = 0; s < f->n && rc == MB_OK; s += BLOCK_ROWS) {
        size_t n = f->n - s < BLOCK_ROWS ? f->n - s : BLOCK_ROWS;
        conv_np_emg_rows(f, s, n, c->emg);
        rc = mbh5_rec_append(rec, c->emg, f->labels + s, f->reps + s, NULL, n);
        for (size_t k = 0; k < f->n_streams && rc == MB_OK; k++) {
            conv_np_stream_rows(f, k, s, n, c->sbuf);
            rc = mbh5_rec_append_stream_f64(rec, sid[k], c->sbuf, NULL, n);
        }
    }
    if (rc == MB_OK)
        rc = mbh5_rec_end(rec);
    if (rc == MB_OK)
        c->res->n_recordings++;
    return rc;
}

/* ---- the converter ------------------------------------------------------ */

static char *params_json(const struct ctx *c)
{
    const struct mb_convert_opts *o = c->o;
    json_t *j = json_pack("{s:s, s:i, s:s, s:s, s:i, s:b, s:b}",
                          "converter", "ninapro",
                          "db", c->db->db,
                          "db_from", c->db_from,
                          "labels", c->no->labels ? c->no->labels : "restimulus",
                          "limit_subjects", o->limit_subjects,
                          "keep_going", o->keep_going,
                          "allow_nonfinite", o->allow_nonfinite);
    /* Only when given: a default conversion keeps the bytes (and the
     * corpus hash) of earlier versions. */
    if (j && c->no->allow_truncation)
        json_object_set_new(j, "allow_truncation", json_true());
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    return s;
}

static int add_vocabulary(struct ctx *c)
{
    const struct conv_np_db *d = c->db;
    struct mbh5_gesture rest = { 0, "rest", "0", 0 };
    int rc = mbh5_add_gesture(c->w, &rest);
    if (d->numbering == CONV_NP_OBSERVED)
        return rc;   /* the rest is added at the end, from the labels met */
    /* Every exercise of the database, whichever files are present, so ids
     * and the vocabulary do not depend on --limit-subjects or skipped files. */
    for (int e = 1; e <= d->n_exercises && rc == MB_OK; e++) {
        int off = conv_np_ex_offset(d, e);
        for (int g = 1; g <= d->ex_size[e - 1] && rc == MB_OK; g++) {
            char name[32], src[32];
            snprintf(name, sizeof name, "E%d G%d", e, g);
            if (d->numbering == CONV_NP_LOCAL)
                snprintf(src, sizeof src, "E%d %d", e, g);
            else
                snprintf(src, sizeof src, "%d", off + g);
            struct mbh5_gesture ge = { off + g, name, src, 0 };
            rc = mbh5_add_gesture(c->w, &ge);
        }
    }
    return rc;
}

static int begin_output(struct ctx *c)
{
    char *params = params_json(c);
    if (!params)
        return mb_error(MB_ENOMEM, "out of memory");
    char name[32];
    snprintf(name, sizeof name, "ninapro-db%d", c->db->db);
    struct mbh5_corpus corpus = {
        .name = name,
        .source_dataset = c->db->dataset,
        .source_version = "",
        .converter = "ninapro",
        .converter_version = MB_VERSION,
        .params_json = params,
    };
    int rc = conv_create_output(&c->w, c->o, &corpus);
    free(params);
    if (rc != MB_OK)
        return rc;
    rc = add_vocabulary(c);
    if (rc == MB_OK && c->no->db) {
        for (size_t i = 0; i < c->n && rc == MB_OK; i++)
            if (c->files[i].nm.db_hint > 0 && c->files[i].nm.db_hint != c->no->db) {
                rc = emit_fmt(c, "'%s': the folder says DB%d; kept --db %d", c->files[i].rel,
                              c->files[i].nm.db_hint, c->no->db);
                break;
            }
    }
    if (rc == MB_OK && c->n_ignored)
        rc = emit_fmt(c, "'%s': %zu .mat file%s not named like a NinaPro file, not converted (first: '%s')",
                      c->o->src, c->n_ignored, c->n_ignored == 1 ? "" : "s", c->first_ignored);
    return rc;
}

static int finish(struct ctx *c)
{
    int rc = MB_OK;
    if (c->n_ex_mismatch > 1)
        rc = emit_fmt(c, "'%s': %zu files have an 'exercise' variable that disagrees with the file name; the file "
                      "name was kept", c->o->src, c->n_ex_mismatch);
    if (c->db->numbering == CONV_NP_OBSERVED)
        for (size_t v = 1; v < c->seen_cap && rc == MB_OK; v++)
            if (c->seen[v]) {
                char name[32], src[32];
                snprintf(name, sizeof name, "G%zu", v);
                snprintf(src, sizeof src, "%zu", v);
                struct mbh5_gesture ge = { (int32_t)v, name, src, 0 };
                rc = mbh5_add_gesture(c->w, &ge);
            }
    return rc;
}

static int convert(const struct mb_convert_opts *o, struct mb_convert_result *res)
{
    static const struct conv_ninapro_opts defaults;
    struct ctx c = { .o = o, .no = o->conv_opts ? o->conv_opts : &defaults, .res = res };
    int rc = plan(&c);
    if (rc == MB_OK)
        rc = begin_output(&c);
    if (rc == MB_OK) {
        struct conv_pipeline p = {
            .n = c.n, .load = load, .write = write_item, .drop = drop, .name = item_name,
            .ctx = &c, .threads = o->threads, .keep_going = o->keep_going, .progress = o->progress,
            .what = "ninapro", .notes = c.w,
        };
        rc = conv_run_pipeline(&p, res);
    }
    if (rc == MB_OK && res->n_files == 0)
        rc = mb_error(MB_EFORMAT, "'%s': no NinaPro file could be converted", o->src);
    if (rc == MB_OK)
        rc = finish(&c);
    if (rc == MB_OK)
        rc = mbh5_commit(c.w);
    else
        mbh5_abort(c.w);
    free(c.files);
    conv_files_release(&c.fl);
    free(c.seen);
    free(c.emg);
    free(c.sbuf);
    return rc;
}

static int probe(const char *src)
{
    struct conv_files fl;
    int saved = mb_log_get_level();
    mb_log_set_level(MB_LOG_QUIET);
    int rc = conv_list_files(&fl, src, ".mat");
    if (rc != MB_OK) {
        mb_log_set_level(saved);
        return 0;
    }
    int yes = 0;
    /* A few files are enough: a NinaPro folder is homogeneous. */
    for (size_t i = 0; i < fl.n && i < 8 && !yes; i++) {
        char *p = conv_join(src, fl.rel[i]);
        struct conv_np_peek pk;
        yes = p && conv_np_peek(&pk, p, 1) == MB_OK && pk.emg_rows > 0 && pk.has_restimulus;
        free(p);
    }
    mb_log_set_level(saved);
    conv_files_release(&fl);
    return yes;
}

static const char *const label_vectors[] = { "restimulus", "stimulus", NULL };

static const struct mb_conv_opt options[] = {
    { .name = "db", .type = MB_CONV_OPT_INT, .metavar = "N", .min = 1, .max = CONV_NP_MAX_DB,
      .help = "NinaPro database number (default: detect)",
      .offset = offsetof(struct conv_ninapro_opts, db) },
    { .name = "labels", .type = MB_CONV_OPT_CHOICE, .metavar = "L", .choices = label_vectors,
      .help = "NinaPro label vector: restimulus (default) or stimulus",
      .offset = offsetof(struct conv_ninapro_opts, labels) },
    { .name = "allow-truncation", .type = MB_CONV_OPT_FLAG,
      .help = "convert a file whose per-sample variables differ in length by more\n"
              "than 0.1 % (at least 10 samples) by cutting all to the shortest;\n"
              "without it that is an error (smaller cuts are warnings)",
      .offset = offsetof(struct conv_ninapro_opts, allow_truncation) },
    { 0 }
};

const struct mb_converter conv_ninapro = {
    .name = "ninapro",
    .summary = "NinaPro DB1-DB8 (MAT files with 'emg' and 'restimulus'; --db N, --labels stimulus)",
    .probe = probe,
    .recognises = "a NinaPro folder (MAT files with 'emg' and 'restimulus')",
    .convert = convert,
    .options = options,
    .opts_size = sizeof(struct conv_ninapro_opts),
};
