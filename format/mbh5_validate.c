/* format/mbh5_validate.c - deep check of a unified file.
 *
 * mbh5_open already refuses files whose structure is broken (missing
 * objects, shapes that disagree with attributes, dangling subject/device
 * indices). This goes through the content: every sample of every
 * per-sample dataset, read one block at a time so memory stays bounded,
 * plus the tables. Each problem is one line "<file>: <object>: <problem>";
 * repeated sample-level problems are summarised per dataset (count and
 * first position) so a corrupt recording gives one line, not millions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "format/mbh5.h"
#include "format/mbh5_h5.h"
#include "format/mbh5_read.h"

#define BLOCK_ROWS 65536u

struct vctx {
    const struct mbh5_file *f;
    FILE *out;
    long problems;
};

static void problem(struct vctx *v, const char *obj, const char *fmt, ...) MB_PRINTF(3, 4);

static void problem(struct vctx *v, const char *obj, const char *fmt, ...)
{
    v->problems++;
    if (!v->out)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(v->out, "%s: %s: ", v->f->path, obj);
    vfprintf(v->out, fmt, ap);
    fputc('\n', v->out);
    va_end(ap);
}

static int is_hex64(const char *s)
{
    return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static void check_tables(struct vctx *v)
{
    const struct mbh5_file *f = v->f;
    char obj[64];
    for (size_t i = 0; i < f->n_sources; i++) {
        const struct mbh5_source *s = &f->sources[i];
        snprintf(obj, sizeof obj, "/sources[%zu]", i);
        if (!*s->path)
            problem(v, obj, "empty path");
        if (!is_hex64(s->sha256))
            problem(v, obj, "sha256 '%s' is not 64 lower-case hex digits", s->sha256);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(f->sources[j].path, s->path)) {
                problem(v, obj, "path '%s' repeats /sources[%zu]", s->path, j);
                break;
            }
    }
    for (size_t i = 0; i < f->n_devices; i++) {
        const struct mbh5_device *d = &f->devices[i];
        snprintf(obj, sizeof obj, "/devices/d%03zu", i);
        if (!*d->name)
            problem(v, obj, "empty name");
        if (!(d->rate_hz > 0) || !isfinite(d->rate_hz))
            problem(v, obj, "rate_hz %g is not positive", d->rate_hz);
        if (!isfinite(d->scale) || d->scale < 0)
            problem(v, obj, "scale %g is not finite and >= 0", d->scale);
        if (!isfinite(d->power_line_hz) || d->power_line_hz < 0)
            problem(v, obj, "power_line_hz %g is not finite and >= 0", d->power_line_hz);
        for (int c = 0; c < d->n_channels; c++)
            if (!isfinite(d->channels[c].gain) || d->channels[c].gain == 0) {
                problem(v, obj, "channel %d gain %g is not finite and non-zero", c + 1, d->channels[c].gain);
                break;
            }
    }
    for (size_t i = 0; i < f->n_gestures; i++) {
        const struct mbh5_gesture *g = &f->gestures[i];
        snprintf(obj, sizeof obj, "/gestures[%zu]", i);
        if (g->id < 0)
            problem(v, obj, "id %d is negative", (int)g->id);
        if (!*g->name)
            problem(v, obj, "empty name");
        if (g->held_out != 0 && g->held_out != 1)
            problem(v, obj, "held_out %d is not 0 or 1", g->held_out);
        for (size_t j = 0; j < i; j++)
            if (f->gestures[j].id == g->id) {
                problem(v, obj, "id %d repeats /gestures[%zu]", (int)g->id, j);
                break;
            }
    }
    for (size_t i = 0; i < f->n_subjects; i++) {
        const struct mbh5_subject *s = &f->subjects[i];
        snprintf(obj, sizeof obj, "/subjects[%zu]", i);
        if (!*s->name)
            problem(v, obj, "empty name");
        if (s->held_out < -1 || s->held_out > 1)
            problem(v, obj, "held_out %d is not -1, 0 or 1", s->held_out);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(f->subjects[j].name, s->name)) {
                problem(v, obj, "name '%s' repeats /subjects[%zu]", s->name, j);
                break;
            }
    }
}

/* Sample-level findings of one dataset, reported once at the end. */
struct tally { size_t count, first_row, first_col; };

static void tally(struct tally *t, size_t row, size_t col)
{
    if (!t->count++) {
        t->first_row = row;
        t->first_col = col;
    }
}

/* Segment recomputation, streaming, to compare with the stored table. */
struct segcheck {
    int32_t lab, rep;
    size_t start;
    size_t next;           /* index of the next stored segment expected */
    size_t mismatches, first_mismatch;
};

static void seg_emit(struct segcheck *s, const struct mbh5_recording *r, size_t end)
{
    if (s->lab == MBH5_UNLABELLED || end <= s->start)
        return;
    size_t k = s->next++;
    const struct mbh5_segment *g = k < r->n_segments ? &r->segments[k] : NULL;
    if (!g || g->start != (int64_t)s->start || g->end != (int64_t)end || g->gesture != s->lab ||
        g->repetition != s->rep) {
        if (!s->mismatches++)
            s->first_mismatch = k;
    }
}

static void check_recording(struct vctx *v, struct mbh5_file *f, size_t ri)
{
    const struct mbh5_recording *r = &f->recordings[ri];
    char obj[96], dobj[256];
    snprintf(obj, sizeof obj, "/recordings/%s", r->id);
    const struct mbh5_rec_info *in = &r->info;
    size_t n = r->n_samples, C = (size_t)in->n_channels;

    if (strcmp(in->side, "left") && strcmp(in->side, "right") && *in->side)
        problem(v, obj, "side '%s' is not 'left', 'right' or ''", in->side);
    if (isinf(in->start_time))
        problem(v, obj, "start_time is infinite");
    if (in->day < -1)
        problem(v, obj, "day %d is below -1", in->day);
    for (size_t i = 0; i < r->n_tags; i++)
        if (!*r->tags[i].key)
            problem(v, obj, "tag with an empty key");

    /* Segment table on its own: bounds, order, vocabulary. */
    for (size_t i = 0; i < r->n_segments; i++) {
        const struct mbh5_segment *s = &r->segments[i];
        snprintf(dobj, sizeof dobj, "%s/segments[%zu]", obj, i);
        if (s->start < 0 || s->end <= s->start || (uint64_t)s->end > n)
            problem(v, dobj, "[%lld, %lld) is not a non-empty span of [0, %zu)", (long long)s->start,
                    (long long)s->end, n);
        else if (i && s->start < r->segments[i - 1].end)
            problem(v, dobj, "starts at %lld, before the previous segment ends (%lld)", (long long)s->start,
                    (long long)r->segments[i - 1].end);
        if (mbh5_gesture_index(f, s->gesture) < 0)
            problem(v, dobj, "gesture %d is not in /gestures", (int)s->gesture);
    }

    float *emg = malloc((size_t)BLOCK_ROWS * C * sizeof *emg);   /* [BLOCK_ROWS x C] */
    int32_t *lab = malloc(BLOCK_ROWS * sizeof *lab);              /* [BLOCK_ROWS] */
    int32_t *rep = malloc(BLOCK_ROWS * sizeof *rep);              /* [BLOCK_ROWS] */
    double *tm = malloc(BLOCK_ROWS * sizeof *tm);                 /* [BLOCK_ROWS] */
    if (!emg || !lab || !rep || !tm) {
        problem(v, obj, "out of memory while checking");
        goto out;
    }
    struct tally nonfinite = {0}, badlab = {0}, badrep = {0}, badtime = {0};
    struct segcheck sc = { MBH5_UNLABELLED, -1, 0, 0, 0, 0 };
    double prev_t = -INFINITY;
    int32_t first_bad_label = 0;
    for (size_t t0 = 0; t0 < n; t0 += BLOCK_ROWS) {
        size_t k = n - t0 < BLOCK_ROWS ? n - t0 : BLOCK_ROWS;
        if (mbh5_read_emg(f, ri, t0, k, emg) || mbh5_read_labels(f, ri, t0, k, lab, rep) ||
            (in->has_time && mbh5_read_time(f, ri, t0, k, tm))) {
            problem(v, obj, "unreadable data near sample %zu: %s", t0 + 1, mb_last_error());
            goto out;
        }
        for (size_t i = 0; i < k; i++)
            for (size_t c = 0; c < C; c++)
                if (!isfinite(emg[i * C + c]))
                    tally(&nonfinite, t0 + i, c);
        size_t unknown = mbh5_find_unknown_label(f, lab, k);   /* next label outside the vocabulary */
        for (size_t i = 0; i < k; i++) {
            int32_t l = lab[i], p = rep[i];
            if (i == unknown) {
                if (!badlab.count)
                    first_bad_label = l;
                tally(&badlab, t0 + i, 0);
                unknown = i + 1 + mbh5_find_unknown_label(f, lab + i + 1, k - i - 1);
            }
            if (p < -1)
                tally(&badrep, t0 + i, 0);
            if (l != sc.lab || p != sc.rep) {
                seg_emit(&sc, r, t0 + i);
                sc.lab = l;
                sc.rep = p;
                sc.start = t0 + i;
            }
            if (in->has_time) {
                if (!isfinite(tm[i]) || tm[i] <= prev_t)
                    tally(&badtime, t0 + i, 0);
                prev_t = tm[i];
            }
        }
    }
    seg_emit(&sc, r, n);
    if (nonfinite.count) {
        snprintf(dobj, sizeof dobj, "%s/emg", obj);
        problem(v, dobj, "%zu NaN/Inf values, first at sample %zu channel %zu", nonfinite.count,
                nonfinite.first_row + 1, nonfinite.first_col + 1);
    }
    if (badlab.count) {
        snprintf(dobj, sizeof dobj, "%s/labels", obj);
        problem(v, dobj, "%zu labels neither -1 nor a gesture id, first %d at sample %zu", badlab.count,
                (int)first_bad_label, badlab.first_row + 1);
    }
    if (badrep.count) {
        snprintf(dobj, sizeof dobj, "%s/repetition", obj);
        problem(v, dobj, "%zu repetitions below -1, first at sample %zu", badrep.count, badrep.first_row + 1);
    }
    if (badtime.count) {
        snprintf(dobj, sizeof dobj, "%s/time", obj);
        problem(v, dobj, "%zu times not finite and increasing, first at sample %zu", badtime.count,
                badtime.first_row + 1);
    }
    if (sc.mismatches || sc.next != r->n_segments) {
        snprintf(dobj, sizeof dobj, "%s/segments", obj);
        if (sc.mismatches)
            problem(v, dobj, "disagrees with the labels (%zu segments differ, first [%zu])", sc.mismatches,
                    sc.first_mismatch);
        else
            problem(v, dobj, "%zu segments but the labels give %zu", r->n_segments, sc.next);
    }

    /* Streams: non-finite values where the mask says valid; mask in {0, 1}. */
    for (size_t si = 0; si < r->n_streams; si++) {
        const struct mbh5_stream *s = &r->streams[si];
        size_t S = (size_t)s->info.n_channels;
        snprintf(dobj, sizeof dobj, "%s/streams/%.60s", obj, s->info.name);
        if (!(s->info.rate_hz > 0) || !isfinite(s->info.rate_hz))
            problem(v, dobj, "rate_hz %g is not positive", s->info.rate_hz);
        double *x = malloc((size_t)BLOCK_ROWS * S * sizeof *x); /* [BLOCK_ROWS x S] */
        uint8_t *ok = malloc(BLOCK_ROWS);
        struct tally bad = {0}, badmask = {0};
        for (size_t t0 = 0; x && ok && t0 < s->n_samples; t0 += BLOCK_ROWS) {
            size_t k = s->n_samples - t0 < BLOCK_ROWS ? s->n_samples - t0 : BLOCK_ROWS;
            if (mbh5_read_stream_f64(f, ri, (int)si, t0, k, x, ok)) {
                problem(v, dobj, "unreadable data near sample %zu: %s", t0 + 1, mb_last_error());
                break;
            }
            for (size_t i = 0; i < k; i++) {
                if (ok[i] > 1)
                    tally(&badmask, t0 + i, 0);
                if (!ok[i])
                    continue;
                for (size_t c = 0; c < S; c++)
                    if (!isfinite(x[i * S + c]))
                        tally(&bad, t0 + i, c);
            }
        }
        if (!x || !ok)
            problem(v, dobj, "out of memory while checking");
        if (bad.count)
            problem(v, dobj, "%zu NaN/Inf values in valid samples, first at sample %zu channel %zu", bad.count,
                    bad.first_row + 1, bad.first_col + 1);
        if (badmask.count)
            problem(v, dobj, "%zu validity values other than 0/1, first at sample %zu", badmask.count,
                    badmask.first_row + 1);
        free(x);
        free(ok);
    }
out:
    free(emg);
    free(lab);
    free(rep);
    free(tm);
}

long mbh5_validate(const char *path, FILE *report)
{
    struct mbh5_file *f;
    enum mb_log_level lvl = mb_log_get_level();
    /* The open error becomes the report line; do not print it twice. */
    if (report)
        mb_log_set_level(MB_LOG_QUIET);
    int rc = mbh5_open(&f, path);
    mb_log_set_level(lvl);
    if (rc) {
        if (report) {
            /* The message names the file first; say it once, in the line's format. */
            const char *msg = mb_last_error();
            size_t lp = strlen(path);
            if (msg[0] == '\'' && !strncmp(msg + 1, path, lp) && !strncmp(msg + 1 + lp, "': ", 3))
                msg += lp + 4;
            fprintf(report, "%s: %s%s\n", path, msg[0] == '/' ? "" : "/: ", msg);
        }
        return rc;
    }
    struct vctx v = { f, report, 0 };
    check_tables(&v);
    for (size_t i = 0; i < f->n_recordings; i++)
        check_recording(&v, f, i);
    mbh5_close(f);
    return v.problems;
}
