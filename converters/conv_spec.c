/* converters/conv_spec.c - 'myobench convert spec SPEC.yaml SRC_DIR' (the
 * declarative converter, converters/spec.h) and 'myobench convert sh2024
 * SRC_DIR', which runs the shipped SH2024 template spec.
 *
 * One recording per matched source file, in sorted path order. Files are
 * parsed in parallel (conv_run_pipeline) and written serially, and every
 * quirk a file shows travels with it to the write step, so the output and
 * the warnings come out in the same order for any -j. */
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "converters/common.h"
#include "converters/converter.h"
#include "converters/spec.h"
#include "core/fs.h"
#include "core/version.h"

/* ---- finding a spec ----------------------------------------------------- */

/* Resolves a spec argument: an existing file, or a bare name ("sh2024",
 * "myo_readings.yaml") looked up in $MYOBENCH_SPECS (':'-separated folders)
 * and then <folder of the binary>/../converters/specs. */
static int find_spec(char *out, size_t cap, const char *arg)
{
    if (mb_fs_is_file(arg) || strchr(arg, '/')) {
        if ((size_t)snprintf(out, cap, "%s", arg) >= cap)
            return mb_error(MB_EINVAL, "spec path '%s' is too long", arg);
        return MB_OK;
    }
    char name[256];
    size_t l = strlen(arg);
    if ((size_t)snprintf(name, sizeof name, "%s%s", arg, l > 5 && !strcmp(arg + l - 5, ".yaml") ? "" : ".yaml")
        >= sizeof name)
        return mb_error(MB_EINVAL, "spec name '%s' is too long", arg);
    /* Every place looked at goes into the error message. */
    char *tried = NULL;
    size_t tried_len = 0;
    FILE *tf = open_memstream(&tried, &tried_len);
    if (!tf)
        return mb_error(MB_ENOMEM, "out of memory finding spec '%s'", arg);
    int found = 0;
    const char *env = getenv("MYOBENCH_SPECS");
    if (env && env[0]) {
        char *dirs = strdup(env);
        char *save = NULL;
        for (char *d = dirs ? strtok_r(dirs, ":", &save) : NULL; d && !found; d = strtok_r(NULL, ":", &save)) {
            int n = snprintf(out, cap, "%s/%s", d, name);
            found = n > 0 && (size_t)n < cap && mb_fs_is_file(out);
            fprintf(tf, "'%s/%s' ($MYOBENCH_SPECS), ", d, name);
        }
        free(dirs);
    } else {
        fprintf(tf, "$MYOBENCH_SPECS (unset), ");
    }
    char exe[PATH_MAX];
    ssize_t n = found ? -1 : readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        int m = snprintf(out, cap, "%s/../converters/specs/%s", exe, name);
        found = m > 0 && (size_t)m < cap && mb_fs_is_file(out);
        fprintf(tf, "'%s/../converters/specs/%s' (beside the binary)", exe, name);
    }
    fclose(tf);
    int rc = found ? MB_OK : mb_error(MB_EIO, "no spec '%s' found; tried %s", name, tried ? tried : "");
    free(tried);
    return rc;
}

/* ---- matching ----------------------------------------------------------- */

struct sp_file {
    char *rel;
    struct spec_match m;
};

/* Subject order: numerically when both are integers ("2" < "10"), else bytewise. */
static int subject_cmp(const char *a, const char *b)
{
    char *ea, *eb;
    long long x = strtoll(a, &ea, 10), y = strtoll(b, &eb, 10);
    if (a[0] && b[0] && !*ea && !*eb && x != y)
        return (x > y) - (x < y);
    return strcmp(a, b);
}

static int cmp_subject_ptr(const void *a, const void *b)
{
    return subject_cmp(*(char *const *)a, *(char *const *)b);
}

struct sp_ctx {
    const struct mb_convert_opts *o;
    struct spec *s;
    struct sp_file *files;
    size_t n_files;
    struct mbh5_writer *w;
    struct mb_convert_result *res;
    int device_added;
    int n_channels;                /* the device's, once added */
    int32_t *gest;                 /* ids already in the vocabulary */
    size_t n_gest;
};

static void files_release(struct sp_file *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(f[i].rel);
        spec_match_release(&f[i].m);
    }
    free(f);
}

/* Matches every file under src against the pattern, keeps the first
 * --limit-subjects subjects, and notes what was ignored. */
static int match_files(struct sp_ctx *c, size_t *n_ignored, char **ignored_example)
{
    const struct spec *s = c->s;
    struct conv_files all;
    int rc = conv_list_files(&all, c->o->src, NULL);
    if (rc != MB_OK)
        return rc;
    *n_ignored = 0;
    *ignored_example = NULL;
    c->files = calloc(all.n ? all.n : 1, sizeof *c->files);
    void *md = spec_match_data_new(s);
    if (!c->files || !md) {
        spec_match_data_free(md);
        conv_files_release(&all);
        return mb_error(MB_ENOMEM, "out of memory listing '%s'", c->o->src);
    }
    /* Serial: matching a path is cheap next to parsing its file, and one
     * match-data block then serves all. */
    for (size_t i = 0; i < all.n && rc == MB_OK; i++) {
        struct sp_file *f = &c->files[c->n_files];
        int r = spec_match_path(s, md, all.rel[i], &f->m);
        if (r < 0) {
            rc = r;
        } else if (r == 0) {
            if ((*n_ignored)++ == 0 && !(*ignored_example = strdup(all.rel[i])))
                rc = mb_error(MB_ENOMEM, "out of memory listing '%s'", c->o->src);
        } else {
            f->rel = all.rel[i];
            all.rel[i] = NULL;
            c->n_files++;
        }
    }
    spec_match_data_free(md);
    if (rc == MB_OK && c->n_files == 0) {
        char ex[512] = "";
        for (size_t i = 0; i < all.n && i < 3; i++) {
            size_t l = strlen(ex);
            snprintf(ex + l, sizeof ex - l, "%s'%s'", i ? ", " : " (e.g. ", all.rel[i]);
        }
        rc = mb_error(MB_EFORMAT, "pattern '%s' of '%s' matches none of the %zu files under '%s'%s%s",
                      s->pattern, s->path, all.n, c->o->src, ex, all.n ? ")" : "");
    }
    conv_files_release(&all);
    if (rc != MB_OK || c->o->limit_subjects <= 0)
        return rc;

    /* --limit-subjects: the first N distinct subjects in sorted order. */
    char **subj = malloc(c->n_files * sizeof *subj);
    if (!subj)
        return mb_error(MB_ENOMEM, "out of memory listing '%s'", c->o->src);
    for (size_t i = 0; i < c->n_files; i++)
        subj[i] = c->files[i].m.subject;
    qsort(subj, c->n_files, sizeof *subj, cmp_subject_ptr);
    size_t distinct = 0;
    const char *last = NULL;
    for (size_t i = 0; i < c->n_files; i++) {
        if (!last || strcmp(last, subj[i])) {
            if (distinct == (size_t)c->o->limit_subjects)
                break;
            distinct++;
            last = subj[i];
        }
    }
    size_t keep = 0;
    for (size_t i = 0; i < c->n_files; i++) {
        if (subject_cmp(c->files[i].m.subject, last) <= 0) {
            c->files[keep++] = c->files[i];
        } else {
            free(c->files[i].rel);
            spec_match_release(&c->files[i].m);
        }
    }
    c->n_files = keep;
    free(subj);
    return MB_OK;
}

/* ---- pipeline ----------------------------------------------------------- */

struct sp_item {
    struct spec_table t;
    struct mbh5_source src;
};

static const char *sp_name(void *ctx, size_t i)
{
    return ((struct sp_ctx *)ctx)->files[i].rel;
}

static void sp_drop(void *ctx, void *item)
{
    (void)ctx;
    struct sp_item *it = item;
    spec_table_release(&it->t);
    free(it);
}

static int sp_load(void *ctx, size_t i, void **out)
{
    struct sp_ctx *c = ctx;
    const struct spec *s = c->s;
    struct sp_file *f = &c->files[i];
    struct sp_item *it = calloc(1, sizeof *it);
    char *path = conv_join(c->o->src, f->rel);
    if (!it || !path) {
        free(it);
        free(path);
        return mb_error(MB_ENOMEM, "out of memory reading '%s'", f->rel);
    }
    struct spec_read_opts ro = { .allow_nonfinite = c->o->allow_nonfinite,
                                 .allow_truncation = c->o->allow_truncation };
    int rc = MB_OK;
    if (f->m.gesture && s->label_source != SPEC_LABELS_NONE) {
        if (spec_label_lookup(s, f->m.gesture, strlen(f->m.gesture), &ro.file_gesture) != MB_OK)
            rc = mb_error(MB_EFORMAT, "'%s': gesture '%s' from the file name is not in the label map of '%s'",
                          path, f->m.gesture, s->path);
        ro.has_file_gesture = ro.file_gesture != MBH5_UNLABELLED;
    }
    if (rc == MB_OK)
        rc = spec_read_file(&it->t, s, path, &ro);
    if (rc == MB_OK)
        rc = spec_regularise(&it->t, s, path);
    if (rc == MB_OK && s->label_source == SPEC_LABELS_FILENAME) {
        /* One gesture per file: every sample carries it. */
        free(it->t.labels);
        it->t.labels = malloc(it->t.n * sizeof *it->t.labels);
        if (!it->t.labels)
            rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", path);
        for (size_t k = 0; rc == MB_OK && k < it->t.n; k++)
            it->t.labels[k] = ro.file_gesture;
    } else if (rc == MB_OK && s->label_source == SPEC_LABELS_NONE) {
        free(it->t.labels);
        it->t.labels = NULL;
    }
    if (rc == MB_OK)
        rc = conv_hash_source(&it->src, c->o->src, f->rel);
    free(path);
    if (rc != MB_OK) {
        sp_drop(ctx, it);
        return rc;
    }
    *out = it;
    return MB_OK;
}

static int add_gesture_once(struct sp_ctx *c, int32_t id, const char *source_label)
{
    for (size_t i = 0; i < c->n_gest; i++)
        if (c->gest[i] == id)
            return MB_OK;
    int32_t *g = realloc(c->gest, (c->n_gest + 1) * sizeof *g);
    if (!g)
        return mb_error(MB_ENOMEM, "out of memory building the gesture vocabulary");
    c->gest = g;
    g[c->n_gest++] = id;
    char buf[48], raw[24];
    snprintf(raw, sizeof raw, "%ld", (long)id);
    struct mbh5_gesture ge = {
        .id = id,
        .name = spec_label_name(c->s, id, buf, sizeof buf),
        .source_label = source_label ? source_label : raw,
    };
    return mbh5_add_gesture(c->w, &ge);
}

static int add_device(struct sp_ctx *c, const struct spec_table *t, const char *rel)
{
    const struct spec *s = c->s;
    double rate = s->dev_rate_hz > 0 ? s->dev_rate_hz : s->rate_hz > 0 ? s->rate_hz : t->rate_hz;
    struct mbh5_channel *ch = NULL;
    if (s->n_channel_names) {
        ch = calloc(s->n_channel_names, sizeof *ch);
        if (!ch)
            return mb_error(MB_ENOMEM, "out of memory adding device '%s'", s->dev_name);
        for (size_t i = 0; i < s->n_channel_names; i++)
            ch[i] = (struct mbh5_channel){ .name = s->channel_names[i], .placement = "", .units = s->units, .gain = 1.0 };
    }
    struct mbh5_device d = {
        .name = s->dev_name,
        .manufacturer = s->dev_manufacturer ? s->dev_manufacturer : "",
        .model = s->dev_model ? s->dev_model : "",
        .n_channels = (int)t->C,
        .rate_hz = rate,
        .units = s->units,
        .scale = s->scale,
        .adc_bits = s->dev_adc_bits,
        .hw_filters = s->dev_hw_filters ? s->dev_hw_filters : "",
        .sw_filters = s->dev_sw_filters ? s->dev_sw_filters : "",
        .power_line_hz = s->dev_power_line_hz,
        .channels = ch,
    };
    int rc = mbh5_add_device(c->w, &d);
    free(ch);
    if (rc == MB_OK && s->dev_rate_hz == 0 && s->rate_hz == 0) {
        char note[512];
        snprintf(note, sizeof note, "device '%s': no nominal rate in the spec; recorded the first file's "
                 "estimate, %.6g Hz ('%s')", s->dev_name, rate, rel);
        rc = mbh5_add_note(c->w, note);
    }
    c->device_added = 1;
    c->n_channels = (int)t->C;
    return rc;
}

/* Notes name source files relative to the source folder, so the output
 * does not depend on where the corpus sits. */
static int add_file_note(struct sp_ctx *c, const char *msg)
{
    size_t l = strlen(c->o->src);
    if (msg[0] == '\'' && !strncmp(msg + 1, c->o->src, l) && msg[1 + l] == '/') {
        char *n = malloc(strlen(msg) + 1);
        if (!n)
            return mb_error(MB_ENOMEM, "out of memory adding a note");
        n[0] = '\'';
        strcpy(n + 1, msg + 2 + l);
        int rc = mbh5_add_note(c->w, n);
        free(n);
        return rc;
    }
    return mbh5_add_note(c->w, msg);
}

static int sp_write(void *ctx, size_t i, void *item)
{
    struct sp_ctx *c = ctx;
    const struct spec *s = c->s;
    struct sp_file *f = &c->files[i];
    struct sp_item *it = item;
    struct spec_table *t = &it->t;
    int rc = MB_OK;
    if (!c->device_added)
        rc = add_device(c, t, f->rel);
    else if ((int)t->C != c->n_channels)
        return mb_error(MB_EFORMAT, "'%s/%s': %zu EMG channels where earlier files have %d (device '%s')",
                        c->o->src, f->rel, t->C, c->n_channels, s->dev_name);
    /* Under the identity map the vocabulary is what the files contain,
     * added in file order so it does not depend on -j. */
    if (rc == MB_OK && s->identity && t->labels)
        for (size_t k = 0; rc == MB_OK && k < t->n; k++)
            if (t->labels[k] >= 0 && (k == 0 || t->labels[k] != t->labels[k - 1]))
                rc = add_gesture_once(c, t->labels[k], NULL);
    for (size_t k = 0; rc == MB_OK && k < t->n_warn; k++) {
        mb_warn("%s", t->warn[k]);
        c->res->n_warnings++;
        rc = add_file_note(c, t->warn[k]);
    }
    int32_t *reps = NULL;   /* [n] */
    if (rc == MB_OK && f->m.repetition >= 0) {
        reps = malloc((t->n ? t->n : 1) * sizeof *reps);
        if (!reps)
            rc = mb_error(MB_ENOMEM, "out of memory writing '%s'", f->rel);
        for (size_t k = 0; reps && k < t->n; k++)
            reps[k] = f->m.repetition;
    }
    struct mbh5_rec *r = NULL;
    if (rc == MB_OK) {
        struct mbh5_rec_info info = {
            .subject = f->m.subject,
            .session = f->m.session,
            .side = f->m.side,
            .day = f->m.day,
            .device = s->dev_name,
            .rate_hz = t->rate_hz,
            .n_channels = (int)t->C,
            .source = f->rel,
            .start_time = NAN,
            .has_time = t->time != NULL,
            .has_repetition = reps != NULL,
        };
        rc = mbh5_rec_begin(c->w, &r, &info);
    }
    for (size_t k = 0; rc == MB_OK && k < f->m.n_tags; k++)
        rc = mbh5_rec_add_tag(r, f->m.tags[k].key, f->m.tags[k].value);
    if (rc == MB_OK)
        rc = mbh5_rec_append(r, t->emg, t->labels, reps, t->time, t->n);
    if (rc == MB_OK)
        rc = mbh5_rec_end(r);
    if (rc == MB_OK)
        rc = mbh5_add_source(c->w, it->src.path, it->src.sha256, it->src.bytes);
    if (rc == MB_OK)
        c->res->n_recordings++;
    free(reps);
    return rc;
}

/* ---- conversion --------------------------------------------------------- */

/* MAT v7.3 files are HDF5 underneath, read by matio through libhdf5, and
 * HDF5 calls stay out of parallel regions: such a corpus loads serially. */
static int any_mat73(const struct sp_ctx *c)
{
    for (size_t i = 0; i < c->n_files; i++) {
        char *path = conv_join(c->o->src, c->files[i].rel);
        FILE *f = path ? fopen(path, "rb") : NULL;
        char head[128] = "";
        size_t got = f ? fread(head, 1, sizeof head - 1, f) : 0;
        head[got] = '\0';
        if (f)
            fclose(f);
        free(path);
        if (!strncmp(head, "MATLAB 7.3", 10))
            return 1;
    }
    return 0;
}

static char *params_json(const struct sp_ctx *c, size_t matched, size_t ignored)
{
    const struct spec *s = c->s;
    const char *base = strrchr(s->path, '/');
    json_t *j = json_object();
    if (!j)
        return NULL;
    /* No absolute paths: the same conversion elsewhere gives the same bytes.
     * libyaml only accepts UTF-8, so the text is valid JSON string content;
     * a file name need not be, and is then left out (null). */
    json_t *name = json_string(base ? base + 1 : s->path);
    json_object_set_new(j, "spec_file", name ? name : json_null());
    json_object_set_new(j, "spec_sha256", json_string(s->sha256));
    json_t *text = json_string(s->text);
    json_object_set_new(j, "spec_text", text ? text : json_null());
    json_object_set_new(j, "allow_nonfinite", json_boolean(c->o->allow_nonfinite));
    if (c->o->allow_truncation)   /* only when given, as in conv_ninapro.c */
        json_object_set_new(j, "allow_truncation", json_true());
    json_object_set_new(j, "limit_subjects", json_integer(c->o->limit_subjects));
    json_object_set_new(j, "files_matched", json_integer((json_int_t)matched));
    json_object_set_new(j, "files_ignored", json_integer((json_int_t)ignored));
    char *txt = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(j);
    return txt;
}

static int run_spec(const char *spec_arg, const char *conv_name, const struct mb_convert_opts *o,
                    struct mb_convert_result *res)
{
    char path[PATH_MAX];
    int rc = find_spec(path, sizeof path, spec_arg);
    if (rc != MB_OK)
        return rc;
    struct sp_ctx c = { .o = o, .res = res };
    if ((rc = spec_load(&c.s, path)) != MB_OK)
        return rc;
    size_t ignored = 0;
    char *ignored_example = NULL;
    rc = match_files(&c, &ignored, &ignored_example);
    char *params = rc == MB_OK ? params_json(&c, c.n_files, ignored) : NULL;
    if (rc == MB_OK && !params)
        rc = mb_error(MB_ENOMEM, "out of memory describing the conversion");
    if (rc == MB_OK) {
        struct mbh5_corpus corpus = {
            .name = c.s->name,
            .source_dataset = c.s->dataset,
            .source_version = c.s->version,
            .converter = conv_name,
            .converter_version = MB_VERSION,
            .params_json = params,
        };
        rc = conv_create_output(&c.w, o, &corpus);
    }
    for (size_t k = 0; rc == MB_OK && k < c.s->n_notes; k++)
        rc = mbh5_add_note(c.w, c.s->notes[k]);
    if (rc == MB_OK && ignored) {
        char note[1024];
        snprintf(note, sizeof note, "%zu files under the source folder do not match the spec's pattern and were "
                 "ignored (e.g. '%s')", ignored, ignored_example);
        mb_info("%s", note);
        rc = mbh5_add_note(c.w, note);
    }
    if (rc == MB_OK && o->limit_subjects > 0) {
        char note[256];
        snprintf(note, sizeof note, "--limit-subjects %d: only the first %d subjects in sorted order were converted",
                 o->limit_subjects, o->limit_subjects);
        rc = mbh5_add_note(c.w, note);
    }
    /* A declared vocabulary goes in whole, in spec order. */
    for (size_t k = 0; rc == MB_OK && !c.s->identity && k < c.s->n_labels; k++)
        if (c.s->labels[k].id != MBH5_UNLABELLED)
            rc = add_gesture_once(&c, c.s->labels[k].id, c.s->labels[k].raw);
    if (rc == MB_OK) {
        struct conv_pipeline p = {
            .n = c.n_files,
            .load = sp_load,
            .write = sp_write,
            .drop = sp_drop,
            .name = sp_name,
            .ctx = &c,
            /* HDF5 calls stay out of parallel regions (style rule). */
            .threads = c.s->container == SPEC_HDF5 ||
                       (c.s->container == SPEC_MAT && any_mat73(&c)) ? 1 : o->threads,
            .keep_going = o->keep_going,
            .progress = o->progress,
            .what = conv_name,
            .notes = c.w,
        };
        rc = conv_run_pipeline(&p, res);
        if (rc == MB_OK && res->n_files == 0)
            rc = mb_error(MB_EFORMAT, "no file under '%s' could be converted (%zu skipped)", o->src, res->n_skipped);
    }
    if (rc == MB_OK && res->n_skipped) {
        char note[128];
        snprintf(note, sizeof note, "--keep-going: %zu bad source files were skipped", res->n_skipped);
        rc = mbh5_add_note(c.w, note);
    }
    if (rc == MB_OK) {
        rc = mbh5_commit(c.w);
        c.w = NULL;
    }
    if (rc != MB_OK)
        mbh5_abort(c.w);
    free(params);
    free(ignored_example);
    free(c.gest);
    files_release(c.files, c.n_files);
    spec_free(c.s);
    return rc;
}

static int spec_convert(const struct mb_convert_opts *o, struct mb_convert_result *res)
{
    if (!o->spec)
        return mb_error(MB_EINVAL, "the spec converter needs a spec: myobench convert spec SPEC.yaml SRC_DIR");
    return run_spec(o->spec, "spec", o, res);
}

static int sh2024_convert(const struct mb_convert_opts *o, struct mb_convert_result *res)
{
    int rc = run_spec("sh2024", "sh2024", o, res);
    if (rc != MB_OK)
        mb_warn("sh2024: the SH2024 spec is a template of unconfirmed assumptions (its public format is "
                "undocumented); read converters/specs/sh2024.yaml, edit a copy to fit the files and run "
                "'myobench convert spec COPY.yaml SRC_DIR -o OUT.h5'");
    return rc;
}

const struct mb_converter conv_spec = {
    .name = "spec",
    .summary = "declarative converter: a YAML spec (docs/SPEC.md) describes a text/MAT/HDF5 corpus",
    .probe = NULL,
    .convert = spec_convert,
};

const struct mb_converter conv_sh2024 = {
    .name = "sh2024",
    .summary = "SH2024 through the template spec converters/specs/sh2024.yaml (layout unconfirmed)",
    .probe = NULL,
    .convert = sh2024_convert,
};
