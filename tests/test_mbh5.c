/* tests/test_mbh5.c - the unified HDF5 format: writer, reader, validation. */
#include <hdf5.h>
#include <malloc.h>
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/fs.h"
#include "format/mbh5.h"
#include "testutil.h"

#define C_EMG 4

static const struct mbh5_corpus corpus = {
    .name = "test-corpus", .source_dataset = "Test DB", .source_version = "1.2",
    .converter = "unit", .converter_version = "0.0.1", .params_json = "{\"seed\": 7}",
};

static float emg_at(size_t rec, size_t t, size_t c)
{
    return (float)sin(0.01 * (double)t * (double)(c + 1) + (double)rec) + 0.001f * (float)c;
}

/* Label pattern: rest, gesture 3 rep 1, rest, gesture 5 rep 1, gesture 5 rep 2. */
static int32_t label_at(size_t t)
{
    size_t p = t % 1000;
    return p < 100 ? -1 : p < 400 ? 3 : p < 500 ? -1 : 5;
}

static int32_t rep_at(size_t t)
{
    size_t p = t % 1000;
    return p < 100 || (p >= 400 && p < 500) ? -1 : p < 700 ? 1 : 2;
}

/* Writes a small two-recording file exercising every field, in pieces of
 * 'piece' samples. Returns the writer's result. */
static int write_small(const char *path, size_t n0, size_t piece)
{
    struct mbh5_writer *w;
    int rc = mbh5_create(&w, path, &corpus);
    if (rc)
        return rc;
    static const struct mbh5_channel ch[C_EMG] = {
        { "e1", "proximal, 0 deg", "mV", 0.5 }, { "e2", "proximal, 90 deg", "mV", 0.5 },
        { "e3", "", "mV", 1.0 }, { "e4", "distal", "mV", 2.0 },
    };
    struct mbh5_device dev = {
        .name = "armband", .manufacturer = "Acme", .model = "A1", .n_channels = C_EMG, .rate_hz = 1000,
        .units = "mV", .scale = 1e-3, .adc_bits = 16, .hw_filters = "20-450 Hz band-pass",
        .sw_filters = "", .power_line_hz = 50, .channels = ch,
    };
    struct mbh5_device dev2 = { .name = "glove-box", .n_channels = 2, .rate_hz = 200, .units = "a.u." };
    char sha[65];
    memset(sha, 'a', 64);
    sha[64] = 0;
    if ((rc = mbh5_add_source(w, "s1/a.mat", sha, 1234)) || (rc = mbh5_add_source(w, "s2/b.mat", sha, 99)) ||
        (rc = mbh5_add_device(w, &dev)) || (rc = mbh5_add_device(w, &dev2)) ||
        (rc = mbh5_add_gesture(w, &(struct mbh5_gesture){ 3, "fist", "3", 0 })) ||
        (rc = mbh5_add_gesture(w, &(struct mbh5_gesture){ 5, "pinch", "pinch_label", 1 })) ||
        (rc = mbh5_add_subject(w, &(struct mbh5_subject){ "s2", 1 })) ||
        (rc = mbh5_add_note(w, "first note")) || (rc = mbh5_add_note(w, "second note")))
        goto bad;
    for (size_t rec = 0; rec < 2; rec++) {
        struct mbh5_rec_info info = {
            .subject = rec ? "s2" : "s1", .session = rec ? "" : "morning", .side = "right", .day = (int)rec + 1,
            .device = rec ? "glove-box" : "armband", .rate_hz = rec ? 200 : 1000, .n_channels = rec ? 2 : C_EMG,
            .source = rec ? "s2/b.mat" : "s1/a.mat", .start_time = rec ? NAN : 1.5e9,
            .has_time = rec == 0, .has_repetition = rec == 0,
        };
        struct mbh5_rec *r;
        if ((rc = mbh5_rec_begin(w, &r, &info)))
            goto bad;
        if ((rc = mbh5_rec_add_tag(r, "split", rec ? "test" : "train")) ||
            (rc = mbh5_rec_add_tag(r, "held_out_user", rec ? "1" : "0")))
            goto bad;
        int sid = -1, sid2 = -1;
        static const char *const jn[3] = { "j1", "j2", "j3" };
        if (rec == 0 &&
            ((rc = mbh5_rec_add_stream(r, &sid, &(struct mbh5_stream_info){ "joint_angles", "pose", 3, 500.0, "rad",
                                                                           jn, 1, 1 })) ||
             (rc = mbh5_rec_add_stream(r, &sid2, &(struct mbh5_stream_info){ "glove", "glove", 2, 1000.0, "raw",
                                                                            NULL, 0, 0 }))))
            goto bad;
        size_t n = rec ? 333 : n0, C = (size_t)info.n_channels;
        float *e = malloc(piece * C * sizeof *e);
        int32_t *lab = malloc(piece * sizeof *lab), *rp = malloc(piece * sizeof *rp);
        double *tm = malloc(piece * sizeof *tm), *ja = malloc(piece * 3 * sizeof *ja);
        float *gl = malloc(piece * 2 * sizeof *gl);
        uint8_t *va = malloc(piece);
        for (size_t t0 = 0; t0 < n && !rc; t0 += piece) {
            size_t k = n - t0 < piece ? n - t0 : piece;
            for (size_t i = 0; i < k; i++) {
                size_t t = t0 + i;
                for (size_t c = 0; c < C; c++)
                    e[i * C + c] = emg_at(rec, t, c);
                lab[i] = label_at(t);
                rp[i] = rep_at(t);
                tm[i] = 1.5e9 + (double)t / 1000.0;
                for (size_t c = 0; c < 3; c++)
                    ja[i * 3 + c] = 0.1 * (double)t + 1e-12 * (double)c; /* needs f64 to survive */
                gl[i * 2] = (float)t;
                gl[i * 2 + 1] = -(float)t;
                va[i] = t % 7 != 0;
            }
            rc = mbh5_rec_append(r, e, rec ? NULL : lab, rec ? NULL : rp, rec ? NULL : tm, k);
            if (!rc && rec == 0 && t0 < n / 2) /* streams shorter than EMG: own rate */
                rc = mbh5_rec_append_stream_f64(r, sid, ja, va, k / 2);
            if (!rc && rec == 0)
                rc = mbh5_rec_append_stream(r, sid2, gl, NULL, k);
        }
        free(e); free(lab); free(rp); free(tm); free(ja); free(gl); free(va);
        if (rc || (rc = mbh5_rec_end(r)))
            goto bad;
    }
    return mbh5_commit(w);
bad:
    mbh5_abort(w);
    return rc;
}

static void path_in(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* ---- helpers for damaged copies ---------------------------------------- */

static void copy_file(const char *dst, const char *src, long keep /* bytes, -1 = all */)
{
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    cr_assert(in && out);
    char buf[65536];
    size_t k;
    long done = 0;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0) {
        if (keep >= 0 && done + (long)k > keep)
            k = (size_t)(keep - done);
        fwrite(buf, 1, k, out);
        done += (long)k;
        if (keep >= 0 && done >= keep)
            break;
    }
    fclose(in);
    fclose(out);
}

static long file_size(const char *p)
{
    struct stat sb;
    return stat(p, &sb) ? -1 : (long)sb.st_size;
}

static int same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb)
            same = 0;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static void rm_dir(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* Number of entries in dir (besides . and ..). */
static int count_entries(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 0", dir);
    return system(cmd) == 0 ? 0 : 1;
}

Test(mbh5, round_trip_keeps_every_field, .timeout = 30)
{
    char dir[64], p[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(p, sizeof p, dir, "rt.h5");
    size_t n0 = 5000;
    cr_assert_eq(write_small(p, n0, 777), MB_OK, "%s", mb_last_error());
    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, p), MB_OK, "%s", mb_last_error());
    cr_expect_eq(f->schema_version, 1);
    cr_expect_str_eq(f->corpus.name, "test-corpus");
    cr_expect_str_eq(f->corpus.source_dataset, "Test DB");
    cr_expect_str_eq(f->corpus.source_version, "1.2");
    cr_expect_str_eq(f->corpus.converter, "unit");
    cr_expect_str_eq(f->corpus.converter_version, "0.0.1");
    cr_expect_str_eq(f->corpus.params_json, "{\"seed\": 7}");
    cr_assert_eq(f->n_sources, 2);
    cr_expect_str_eq(f->sources[1].path, "s2/b.mat");
    cr_expect_eq(f->sources[0].bytes, 1234);
    cr_expect_eq(strlen(f->sources[0].sha256), 64);
    cr_assert_eq(f->n_notes, 2);
    cr_expect_str_eq(f->notes[1], "second note");
    cr_assert_eq(f->n_devices, 2);
    const struct mbh5_device *d = &f->devices[0];
    cr_expect_str_eq(d->name, "armband");
    cr_expect_str_eq(d->manufacturer, "Acme");
    cr_expect_str_eq(d->model, "A1");
    cr_expect_eq(d->n_channels, C_EMG);
    cr_expect_eq(d->rate_hz, 1000);
    cr_expect_str_eq(d->units, "mV");
    cr_expect_eq(d->scale, 1e-3);
    cr_expect_eq(d->adc_bits, 16);
    cr_expect_str_eq(d->hw_filters, "20-450 Hz band-pass");
    cr_expect_str_eq(d->sw_filters, "");
    cr_expect_eq(d->power_line_hz, 50);
    cr_expect_str_eq(d->channels[1].name, "e2");
    cr_expect_str_eq(d->channels[1].placement, "proximal, 90 deg");
    cr_expect_str_eq(d->channels[3].units, "mV");
    cr_expect_eq(d->channels[3].gain, 2.0);
    cr_expect_str_eq(f->devices[1].channels[1].name, "ch2");
    cr_expect_str_eq(f->devices[1].channels[1].units, "a.u.");
    cr_expect_eq(f->devices[1].channels[1].gain, 1.0);
    cr_assert_eq(f->n_gestures, 2);
    cr_expect_eq(f->gestures[1].id, 5);
    cr_expect_str_eq(f->gestures[1].name, "pinch");
    cr_expect_str_eq(f->gestures[1].source_label, "pinch_label");
    cr_expect_eq(f->gestures[1].held_out, 1);
    cr_expect_eq(mbh5_gesture_index(f, 5), 1);
    cr_expect_eq(mbh5_gesture_index(f, 4), -1);
    /* s2 was declared first (held out), s1 added by its recording (unknown). */
    cr_assert_eq(f->n_subjects, 2);
    cr_expect_str_eq(f->subjects[0].name, "s2");
    cr_expect_eq(f->subjects[0].held_out, 1);
    cr_expect_str_eq(f->subjects[1].name, "s1");
    cr_expect_eq(f->subjects[1].held_out, -1);

    cr_assert_eq(f->n_recordings, 2);
    const struct mbh5_recording *r = &f->recordings[0];
    cr_expect_str_eq(r->id, "r000000");
    cr_expect_str_eq(r->info.subject, "s1");
    cr_expect_eq(r->subject, 1);
    cr_expect_str_eq(r->info.session, "morning");
    cr_expect_str_eq(r->info.side, "right");
    cr_expect_eq(r->info.day, 1);
    cr_expect_str_eq(r->info.device, "armband");
    cr_expect_eq(r->device, 0);
    cr_expect_eq(r->info.rate_hz, 1000);
    cr_expect_eq(r->info.n_channels, C_EMG);
    cr_expect_str_eq(r->info.source, "s1/a.mat");
    cr_expect_eq(r->info.start_time, 1.5e9);
    cr_expect_eq(r->info.has_time, 1);
    cr_expect_eq(r->info.has_repetition, 1);
    cr_expect_eq(r->n_samples, n0);
    cr_assert_eq(r->n_tags, 2);
    cr_expect_str_eq(r->tags[0].key, "split");
    cr_expect_str_eq(mbh5_tag(r, "held_out_user"), "0");
    cr_expect_null(mbh5_tag(r, "nope"));
    /* 5 periods x 3 segments (g3 r1, g5 r1, g5 r2). */
    cr_assert_eq(r->n_segments, 15);
    cr_expect_eq(r->segments[0].start, 100);
    cr_expect_eq(r->segments[0].end, 400);
    cr_expect_eq(r->segments[0].gesture, 3);
    cr_expect_eq(r->segments[0].repetition, 1);
    cr_expect_eq(r->segments[1].start, 500);
    cr_expect_eq(r->segments[1].end, 700);
    cr_expect_eq(r->segments[2].start, 700);
    cr_expect_eq(r->segments[2].end, 1000);
    cr_expect_eq(r->segments[2].repetition, 2);
    cr_expect_eq(r->segments[14].end, 5000);
    cr_assert_eq(r->n_streams, 2);
    const struct mbh5_stream *s = &r->streams[0];
    cr_expect_str_eq(s->info.name, "joint_angles");
    cr_expect_str_eq(s->info.kind, "pose");
    cr_expect_eq(s->info.n_channels, 3);
    cr_expect_eq(s->info.rate_hz, 500);
    cr_expect_str_eq(s->info.units, "rad");
    cr_expect_str_eq(s->info.channel_names[2], "j3");
    cr_expect_eq(s->info.has_valid, 1);
    cr_expect_eq(s->info.f64, 1);
    cr_expect_eq(r->streams[1].info.f64, 0);
    cr_expect_str_eq(r->streams[1].info.channel_names[0], "glove1");
    cr_expect_eq(r->streams[1].n_samples, n0);

    const struct mbh5_recording *r1 = &f->recordings[1];
    cr_expect_str_eq(r1->info.session, "");
    cr_expect(isnan(r1->info.start_time));
    cr_expect_eq(r1->n_samples, 333);
    cr_expect_eq(r1->n_segments, 0);
    cr_expect_eq(r1->n_streams, 0);
    cr_expect_eq(r1->info.has_time, 0);

    /* Sample data, read across chunk boundaries. */
    size_t st = 1000, n = 3000;
    float *e = malloc(n * C_EMG * sizeof *e);
    int32_t *lab = malloc(n * sizeof *lab), *rp = malloc(n * sizeof *rp);
    double *tm = malloc(n * sizeof *tm);
    cr_assert_eq(mbh5_read_emg(f, 0, st, n, e), MB_OK, "%s", mb_last_error());
    cr_assert_eq(mbh5_read_labels(f, 0, st, n, lab, rp), MB_OK);
    cr_assert_eq(mbh5_read_time(f, 0, st, n, tm), MB_OK);
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < C_EMG; c++)
            cr_assert_eq(e[i * C_EMG + c], emg_at(0, st + i, c), "emg[%zu,%zu]", st + i, c);
        cr_assert_eq(lab[i], label_at(st + i));
        cr_assert_eq(rp[i], rep_at(st + i));
        cr_assert_eq(tm[i], 1.5e9 + (double)(st + i) / 1000.0);
    }
    /* Unlabelled recording: labels -1, no repetition stream reads as -1, no time. */
    cr_assert_eq(mbh5_read_labels(f, 1, 0, 10, lab, rp), MB_OK);
    cr_expect_eq(lab[9], -1);
    cr_expect_eq(rp[9], -1);
    mb_log_set_level(MB_LOG_QUIET);
    cr_expect_eq(mbh5_read_time(f, 1, 0, 10, tm), MB_EINVAL);
    cr_expect_eq(mbh5_read_emg(f, 0, n0 - 5, 10, e), MB_EINVAL);
    cr_expect_eq(mbh5_read_emg(f, 2, 0, 1, e), MB_EINVAL);
    /* f64 stream: exact doubles; float read widened; validity mask. */
    size_t ns = s->n_samples;
    double *ja = malloc(ns * 3 * sizeof *ja);
    float *jf = malloc(ns * 3 * sizeof *jf);
    uint8_t *va = malloc(ns);
    cr_assert_eq(mbh5_read_stream_f64(f, 0, 0, 0, ns, ja, va), MB_OK, "%s", mb_last_error());
    cr_assert_eq(mbh5_read_stream(f, 0, 0, 0, ns, jf, NULL), MB_OK);
    size_t t = 0;
    for (size_t t0 = 0; t0 < n0 / 2; t0 += 777)
        for (size_t i = 0; i < (n0 - t0 < 777 ? n0 - t0 : 777) / 2; i++, t++) {
            cr_assert_eq(ja[t * 3 + 2], 0.1 * (double)(t0 + i) + 2e-12);
            cr_assert_eq(jf[t * 3 + 2], (float)ja[t * 3 + 2]);
            cr_assert_eq(va[t], (t0 + i) % 7 != 0);
        }
    cr_assert_eq(t, ns);
    float gl[4];
    uint8_t gv[2] = { 0, 0 };
    cr_assert_eq(mbh5_read_stream(f, 0, 1, 4998, 2, gl, gv), MB_OK);
    cr_expect_eq(gl[2], 4999.0f);
    cr_expect_eq(gl[3], -4999.0f);
    cr_expect_eq(gv[1], 1);
    free(e); free(lab); free(rp); free(tm); free(ja); free(jf); free(va);
    mbh5_close(f);
    rm_dir(dir);
}

Test(mbh5, valid_file_has_no_problems, .timeout = 30)
{
    char dir[64], p[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(p, sizeof p, dir, "ok.h5");
    cr_assert_eq(write_small(p, 3000, 1000), MB_OK, "%s", mb_last_error());
    char *rep = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&rep, &len);
    long np = mbh5_validate(p, m);
    fclose(m);
    cr_expect_eq(np, 0, "problems: %s", rep);
    free(rep);
    rm_dir(dir);
}

Test(mbh5, same_input_twice_gives_identical_bytes, .timeout = 30)
{
    char dir[64], a[128], b[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(a, sizeof a, dir, "a.h5");
    path_in(b, sizeof b, dir, "b.h5");
    cr_assert_eq(write_small(a, 9000, 1234), MB_OK);
    cr_assert_eq(write_small(b, 9000, 1234), MB_OK);
    cr_expect(same_bytes(a, b), "'%s' and '%s' differ", a, b);
    rm_dir(dir);
}

Test(mbh5, aborted_write_leaves_no_file, .timeout = 30)
{
    char dir[64], p[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(p, sizeof p, dir, "out.h5");
    struct mbh5_writer *w;
    cr_assert_eq(mbh5_create(&w, p, &corpus), MB_OK);
    cr_assert_eq(count_entries(dir), 1, "the temporary file exists while writing");
    cr_expect_eq(access(p, F_OK), -1, "nothing under the output name before commit");
    mbh5_abort(w);
    cr_expect_eq(count_entries(dir), 0, "abort removed the temporary file");
    rm_dir(dir);
}

Test(mbh5, failed_write_is_not_committed, .timeout = 30)
{
    mb_log_set_level(MB_LOG_QUIET);
    char dir[64], p[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(p, sizeof p, dir, "out.h5");
    struct mbh5_writer *w;
    cr_assert_eq(mbh5_create(&w, p, &corpus), MB_OK);
    struct mbh5_rec *r;
    struct mbh5_rec_info info = { .subject = "s", .device = "nope", .rate_hz = 100, .n_channels = 2 };
    cr_expect_eq(mbh5_rec_begin(w, &r, &info), MB_EINVAL);
    cr_expect(strstr(mb_last_error(), "unknown device 'nope'"), "%s", mb_last_error());
    cr_expect(strstr(mb_last_error(), p), "message names the file: %s", mb_last_error());
    /* The writer remembers the failure: commit refuses and removes the file. */
    cr_expect_eq(mbh5_commit(w), MB_EINVAL);
    cr_expect_eq(count_entries(dir), 0);
    rm_dir(dir);
}

Test(mbh5, commit_refuses_an_open_recording, .timeout = 30)
{
    mb_log_set_level(MB_LOG_QUIET);
    char dir[64], p[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(p, sizeof p, dir, "out.h5");
    struct mbh5_writer *w;
    cr_assert_eq(mbh5_create(&w, p, &corpus), MB_OK);
    struct mbh5_device dev = { .name = "d", .n_channels = 2, .rate_hz = 100, .units = "V" };
    cr_assert_eq(mbh5_add_device(w, &dev), MB_OK);
    cr_expect_eq(mbh5_add_device(w, &dev), MB_EINVAL, "a device name is a key");
    mbh5_abort(w);
    cr_assert_eq(mbh5_create(&w, p, &corpus), MB_OK);
    cr_assert_eq(mbh5_add_device(w, &dev), MB_OK);
    struct mbh5_rec *r;
    struct mbh5_rec_info info = { .subject = "s", .device = "d", .rate_hz = 100, .n_channels = 2 };
    cr_assert_eq(mbh5_rec_begin(w, &r, &info), MB_OK);
    float x[4] = { 1, 2, 3, 4 };
    cr_assert_eq(mbh5_rec_append(r, x, NULL, NULL, NULL, 2), MB_OK);
    cr_expect_eq(mbh5_commit(w), MB_EINVAL);
    cr_expect(strstr(mb_last_error(), "still open"), "%s", mb_last_error());
    cr_expect_eq(access(p, F_OK), -1);
    rm_dir(dir);
}

Test(mbh5, writer_rejects_bad_arguments, .timeout = 30)
{
    mb_log_set_level(MB_LOG_QUIET);
    char dir[64], p[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(p, sizeof p, dir, "out.h5");
    struct mbh5_writer *w;
    cr_assert_eq(mbh5_create(&w, p, &corpus), MB_OK);
    cr_expect_eq(mbh5_add_source(w, "a", "ABC", 1), MB_EINVAL);
    struct mbh5_device dev = { .name = "d", .n_channels = 2, .rate_hz = 100, .units = "V" };
    cr_expect_eq(mbh5_add_device(w, &dev), MB_OK);
    cr_expect_eq(mbh5_add_gesture(w, &(struct mbh5_gesture){ 1, "a", "a", 0 }), MB_OK);
    cr_expect_eq(mbh5_add_gesture(w, &(struct mbh5_gesture){ 1, "b", "b", 0 }), MB_EINVAL);
    cr_expect_eq(mbh5_add_gesture(w, &(struct mbh5_gesture){ -2, "c", "c", 0 }), MB_EINVAL);
    struct mbh5_rec *r;
    struct mbh5_rec_info info = { .subject = "s", .device = "d", .rate_hz = 100, .n_channels = 3 };
    cr_expect_eq(mbh5_rec_begin(w, &r, &info), MB_EINVAL, "channel count differs from the device");
    info.n_channels = 2;
    cr_assert_eq(mbh5_rec_begin(w, &r, &info), MB_OK);
    int32_t reps[1] = { 1 };
    float x[2] = { 0, 0 };
    cr_expect_eq(mbh5_rec_append(r, x, NULL, reps, NULL, 1), MB_EINVAL, "undeclared repetitions");
    int sid;
    cr_expect_eq(mbh5_rec_add_stream(r, &sid, &(struct mbh5_stream_info){ "a/b", "pose", 1, 10, "rad", NULL, 0, 0 }),
                 MB_EINVAL);
    cr_expect_eq(mbh5_rec_add_tag(r, "k", "v"), MB_OK);
    cr_expect_eq(mbh5_rec_add_tag(r, "k", "w"), MB_EINVAL);
    cr_expect_eq(mbh5_rec_end(r), MB_OK);
    mbh5_abort(w);
    cr_expect_eq(count_entries(dir), 0);
    rm_dir(dir);
}

Test(mbh5, truncated_file_is_refused, .timeout = 30)
{
    mb_log_set_level(MB_LOG_QUIET);
    char dir[64], p[128], q[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(p, sizeof p, dir, "ok.h5");
    path_in(q, sizeof q, dir, "cut.h5");
    cr_assert_eq(write_small(p, 3000, 1000), MB_OK);
    long keeps[] = { file_size(p) / 2, file_size(p) - 100, 100, 0 };
    for (size_t i = 0; i < sizeof keeps / sizeof *keeps; i++) {
        copy_file(q, p, keeps[i]);
        struct mbh5_file *f = NULL;
        int rc = mbh5_open(&f, q);
        cr_expect_eq(rc, MB_EH5, "cut at %ld: %d (%s)", keeps[i], rc, mb_last_error());
        cr_expect(strstr(mb_last_error(), q), "names the file: %s", mb_last_error());
        cr_expect_null(f);
        cr_expect_lt(mbh5_validate(q, NULL), 0);
    }
    struct mbh5_file *f;
    cr_expect_eq(mbh5_open(&f, "/nonexistent/x.h5"), MB_EIO);
    rm_dir(dir);
}

/* Opens a copy for writing with HDF5 directly, to damage it. */
static hid_t open_rw(const char *p)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    return f;
}

/* Attribute of object 'obj' for writing. H5Aopen_by_name then H5Awrite
 * fails in HDF5 1.10.8 ("can't locate open attribute"), so the object is
 * opened first; its handle is closed with the attribute's. */
static hid_t obj_of_attr;
static hid_t open_attr_rw(hid_t f, const char *obj, const char *name)
{
    obj_of_attr = H5Oopen(f, obj, H5P_DEFAULT);
    cr_assert_geq(obj_of_attr, 0);
    hid_t a = H5Aopen(obj_of_attr, name, H5P_DEFAULT);
    cr_assert_geq(a, 0);
    return a;
}

static void close_attr_rw(hid_t a)
{
    H5Aclose(a);
    H5Oclose(obj_of_attr);
}

Test(mbh5, wrong_schema_or_version_is_refused, .timeout = 30)
{
    mb_log_set_level(MB_LOG_QUIET);
    char dir[64], p[128], q[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(p, sizeof p, dir, "ok.h5");
    path_in(q, sizeof q, dir, "v2.h5");
    cr_assert_eq(write_small(p, 1000, 1000), MB_OK);
    copy_file(q, p, -1);
    hid_t f = open_rw(q);
    int32_t v = 2;
    hid_t a = H5Aopen(f, "schema_version", H5P_DEFAULT);
    cr_assert_geq(H5Awrite(a, H5T_NATIVE_INT32, &v), 0);
    H5Aclose(a);
    H5Fclose(f);
    struct mbh5_file *mf;
    cr_expect_eq(mbh5_open(&mf, q), MB_ESCHEMA);
    cr_expect(strstr(mb_last_error(), "schema version 2"), "%s", mb_last_error());
    cr_expect(strstr(mb_last_error(), q), "%s", mb_last_error());

    copy_file(q, p, -1);
    f = open_rw(q);
    cr_assert_geq(H5Adelete(f, "schema"), 0);
    H5Fclose(f);
    cr_expect_eq(mbh5_open(&mf, q), MB_ESCHEMA);
    cr_expect(strstr(mb_last_error(), "not a myobench-unified file"), "%s", mb_last_error());
    rm_dir(dir);
}

Test(mbh5, missing_or_inconsistent_objects_are_refused, .timeout = 30)
{
    mb_log_set_level(MB_LOG_QUIET);
    char dir[64], p[128], q[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(p, sizeof p, dir, "ok.h5");
    path_in(q, sizeof q, dir, "bad.h5");
    cr_assert_eq(write_small(p, 1000, 1000), MB_OK);
    static const struct { const char *obj, *attr, *expect; } cases[] = {
        { "/recordings/r000000/labels", NULL, "dataset 'labels' is missing" },
        { "/recordings/r000000/emg", NULL, "dataset 'emg' is missing" },
        { "/gestures", NULL, "group 'gestures' is missing" },
        { "/devices/d001", NULL, "/recordings/r000001: device 1 does not exist (1 devices)" },
        { "/recordings/r000001", NULL, "n_recordings is 2" },
        { "/recordings/r000000/streams/joint_angles/valid", NULL, "dataset 'valid' is missing" },
        { "/recordings/r000000", "n_samples", "attribute 'n_samples' is missing" },
        { "/devices/d000", "rate_hz", "attribute 'rate_hz' is missing" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        copy_file(q, p, -1);
        hid_t f = open_rw(q);
        if (cases[i].attr)
            cr_assert_geq(H5Adelete_by_name(f, cases[i].obj, cases[i].attr, H5P_DEFAULT), 0);
        else
            cr_assert_geq(H5Ldelete(f, cases[i].obj, H5P_DEFAULT), 0);
        H5Fclose(f);
        struct mbh5_file *mf = NULL;
        cr_expect_eq(mbh5_open(&mf, q), MB_EFORMAT, "%s: %s", cases[i].obj, mb_last_error());
        cr_expect(strstr(mb_last_error(), cases[i].expect), "%s: %s", cases[i].obj, mb_last_error());
        cr_expect(strstr(mb_last_error(), q), "%s", mb_last_error());
    }
    /* A shape that disagrees with its attribute. */
    copy_file(q, p, -1);
    hid_t f = open_rw(q);
    hid_t a = open_attr_rw(f, "/recordings/r000000", "n_samples");
    int64_t n = 999;
    cr_assert_geq(H5Awrite(a, H5T_NATIVE_INT64, &n), 0);
    close_attr_rw(a);
    /* ... and a subject index that dangles. */
    a = open_attr_rw(f, "/recordings/r000001", "subject");
    int32_t s = 7;
    cr_assert_geq(H5Awrite(a, H5T_NATIVE_INT32, &s), 0);
    close_attr_rw(a);
    H5Fclose(f);
    struct mbh5_file *mf;
    cr_expect_eq(mbh5_open(&mf, q), MB_EFORMAT);
    cr_expect(strstr(mb_last_error(), "/recordings/r000000/emg: shape [1000 x 4], attributes say [999 x 4]"), "%s",
              mb_last_error());
    f = open_rw(q);
    a = open_attr_rw(f, "/recordings/r000000", "n_samples");
    n = 1000;
    cr_assert_geq(H5Awrite(a, H5T_NATIVE_INT64, &n), 0);
    close_attr_rw(a);
    H5Fclose(f);
    cr_expect_eq(mbh5_open(&mf, q), MB_EFORMAT);
    cr_expect(strstr(mb_last_error(), "subject 7 does not exist"), "%s", mb_last_error());
    rm_dir(dir);
}

/* Writes one recording with the given EMG and labels (C = 2, 100 Hz). */
static int write_custom(const char *p, const float *emg, const int32_t *lab, size_t n)
{
    struct mbh5_writer *w;
    int rc = mbh5_create(&w, p, &corpus);
    if (rc)
        return rc;
    struct mbh5_device dev = { .name = "d", .n_channels = 2, .rate_hz = 100, .units = "V" };
    struct mbh5_rec_info info = { .subject = "s", .device = "d", .rate_hz = 100, .n_channels = 2, .day = -1 };
    struct mbh5_rec *r;
    if ((rc = mbh5_add_device(w, &dev)) || (rc = mbh5_add_gesture(w, &(struct mbh5_gesture){ 1, "g", "1", 0 })) ||
        (rc = mbh5_rec_begin(w, &r, &info)) || (rc = mbh5_rec_append(r, emg, lab, NULL, NULL, n)) ||
        (rc = mbh5_rec_end(r))) {
        mbh5_abort(w);
        return rc;
    }
    return mbh5_commit(w);
}

static char *validate_text(const char *p, long *np)
{
    char *rep = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&rep, &len);
    *np = mbh5_validate(p, m);
    fclose(m);
    return rep;
}

Test(mbh5, validate_catches_nan_and_labels_outside_the_vocabulary, .timeout = 30)
{
    char dir[64], p[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(p, sizeof p, dir, "nan.h5");
    float emg[2 * 300];
    int32_t lab[300];
    for (size_t i = 0; i < 300; i++) {
        emg[2 * i] = emg[2 * i + 1] = (float)i;
        lab[i] = i < 100 ? -1 : 1;
    }
    emg[2 * 250 + 1] = NAN;
    emg[2 * 260] = INFINITY;
    cr_assert_eq(write_custom(p, emg, lab, 300), MB_OK);
    long np;
    char *rep = validate_text(p, &np);
    cr_expect_eq(np, 1, "%s", rep);
    char want[256];
    snprintf(want, sizeof want, "%s: /recordings/r000000/emg: 2 NaN/Inf values, first at sample 251 channel 2\n", p);
    cr_expect_str_eq(rep, want);
    free(rep);

    emg[2 * 250 + 1] = emg[2 * 260] = 0;
    lab[120] = 9;
    cr_assert_eq(write_custom(p, emg, lab, 300), MB_OK);
    rep = validate_text(p, &np);
    cr_expect_eq(np, 2, "%s", rep);
    cr_expect(strstr(rep, "/recordings/r000000/segments[1]: gesture 9 is not in /gestures"), "%s", rep);
    cr_expect(strstr(rep, "/recordings/r000000/labels: 1 labels neither -1 nor a gesture id, first 9 at sample 121"),
              "%s", rep);
    free(rep);
    rm_dir(dir);
}

Test(mbh5, validate_catches_bad_segments_and_time, .timeout = 30)
{
    char dir[64], p[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(p, sizeof p, dir, "seg.h5");
    cr_assert_eq(write_small(p, 2000, 1000), MB_OK);
    hid_t f = open_rw(p);
    hid_t d = H5Dopen2(f, "/recordings/r000000/segments", H5P_DEFAULT);
    int64_t end = 5000; /* beyond n_samples, in segment 0's 'end' */
    hid_t mt = H5Tcreate(H5T_COMPOUND, 8);
    H5Tinsert(mt, "end", 0, H5T_NATIVE_INT64);
    hid_t fs = H5Dget_space(d);
    hsize_t one = 1, at = 0;
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &at, NULL, &one, NULL);
    hid_t ms = H5Screate_simple(1, &one, NULL);
    cr_assert_geq(H5Dwrite(d, mt, ms, fs, H5P_DEFAULT, &end), 0);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Tclose(mt);
    H5Dclose(d);
    d = H5Dopen2(f, "/recordings/r000000/time", H5P_DEFAULT);
    double t = 0;
    fs = H5Dget_space(d);
    at = 10;
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &at, NULL, &one, NULL);
    ms = H5Screate_simple(1, &one, NULL);
    cr_assert_geq(H5Dwrite(d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, &t), 0);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    H5Fclose(f);
    long np;
    char *rep = validate_text(p, &np);
    cr_expect_eq(np, 4, "%s", rep);
    cr_expect(strstr(rep, "/recordings/r000000/segments[1]: starts at 500, before the previous segment ends (5000)"),
              "%s", rep);
    cr_expect(strstr(rep, "/recordings/r000000/segments[0]: [100, 5000) is not a non-empty span of [0, 2000)"),
              "%s", rep);
    cr_expect(strstr(rep, "/recordings/r000000/segments: disagrees with the labels"), "%s", rep);
    cr_expect(strstr(rep, "/recordings/r000000/time: 1 times not finite and increasing, first at sample 11"), "%s", rep);
    free(rep);
    rm_dir(dir);
}

#include <sys/resource.h>

/* ---- streaming ----------------------------------------------------------- */

static float big_at(size_t t, size_t c)
{
    /* Quantised like a 16-bit ADC, so it compresses like real EMG does. */
    uint32_t h = (uint32_t)(t * 2654435761u) ^ (uint32_t)(c * 40503u);
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    h ^= h >> 15;
    return (float)((int)(h & 0x3ff) - 512) * 1e-3f;
}

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

Test(mbh5, streaming_a_recording_larger_than_the_chunk_cache_keeps_memory_bounded, .timeout = 120)
{
    char dir[64], p[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(p, sizeof p, dir, "big.h5");
#ifdef __SANITIZE_ADDRESS__
    /* ASan keeps freed memory in quarantine, so the resident set says
     * nothing there; a smaller run still exercises many chunk batches. */
    const size_t N = 800000, C = 16, piece = 10000;
    const int check_rss = 0;
#else
    const size_t N = 3000000, C = 16, piece = 10000; /* 192 MB of samples */
    const int check_rss = 1;
#endif
    struct mbh5_writer *w;
    cr_assert_eq(mbh5_create(&w, p, &corpus), MB_OK);
    struct mbh5_device dev = { .name = "hd", .n_channels = (int)C, .rate_hz = 2000, .units = "V" };
    cr_assert_eq(mbh5_add_device(w, &dev), MB_OK);
    cr_assert_eq(mbh5_add_gesture(w, &(struct mbh5_gesture){ 0, "g0", "0", 0 }), MB_OK);
    struct mbh5_rec_info info = { .subject = "s", .device = "hd", .rate_hz = 2000, .n_channels = (int)C,
                                  .day = -1, .start_time = NAN };
    struct mbh5_rec *r;
    cr_assert_eq(mbh5_rec_begin(w, &r, &info), MB_OK);
    float *x = malloc(piece * C * sizeof *x);
    int32_t *lab = malloc(piece * sizeof *lab);
    long rss0 = maxrss_kb();
    for (size_t t0 = 0; t0 < N; t0 += piece) {
        for (size_t i = 0; i < piece; i++) {
            for (size_t c = 0; c < C; c++)
                x[i * C + c] = big_at(t0 + i, c);
            lab[i] = ((t0 + i) / 4000) % 2 ? 0 : -1;
        }
        cr_assert_eq(mbh5_rec_append(r, x, lab, NULL, NULL, piece), MB_OK, "%s", mb_last_error());
    }
    cr_assert_eq(mbh5_rec_end(r), MB_OK);
    cr_assert_eq(mbh5_commit(w), MB_OK);
    long grew = maxrss_kb() - rss0;
    if (check_rss)
        cr_expect_lt(grew, 48 * 1024, "writing 192 MB grew the resident set by %ld kB", grew);

    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, p), MB_OK);
    cr_assert_eq(f->recordings[0].n_samples, N);
    cr_expect_eq(f->recordings[0].n_segments, N / 8000);
    cr_expect_eq(f->recordings[0].segments[1].start, 12000);
    cr_expect_eq(f->recordings[0].segments[1].end, 16000);
    const size_t at[] = { 0, 123457, N / 2 + 1, N - 500 };
    float *y = malloc(500 * C * sizeof *y);
    for (size_t k = 0; k < sizeof at / sizeof *at; k++) {
        cr_assert_eq(mbh5_read_emg(f, 0, at[k], 500, y), MB_OK);
        for (size_t i = 0; i < 500; i++)
            for (size_t c = 0; c < C; c++)
                cr_assert_eq(y[i * C + c], big_at(at[k] + i, c));
    }
    mbh5_close(f);
    free(x);
    free(lab);
    free(y);
    rm_dir(dir);
}

/* HDF5 sizes its metadata cache by the entries' bytes on disk, and a chunk
 * index node takes about ten times that in memory: with HDF5's default (2 MB,
 * adaptive up to 32 MB) a reader that went through the 128 recordings of the
 * default synthetic emg2pose corpus held 31 MB of heap for the open file,
 * beside the samples a corpus keeps (here: 21 MB with the default, 3 MB with
 * the reader's bound). Reading many small recordings one after another must
 * leave a few MB. */
Test(mbh5, reading_many_recordings_keeps_the_metadata_heap_small, .timeout = 120)
{
#ifdef __SANITIZE_ADDRESS__
    cr_skip_test("mallinfo2 does not see ASan's allocator");
#endif
    char dir[64], p[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(p, sizeof p, dir, "many.h5");
    enum { NREC = 400, T = 2000 };
    struct mbh5_writer *w;
    cr_assert_eq(mbh5_create(&w, p, &corpus), MB_OK);
    struct mbh5_device dev = { .name = "d", .n_channels = C_EMG, .rate_hz = 1000, .units = "V" };
    cr_assert_eq(mbh5_add_device(w, &dev), MB_OK);
    cr_assert_eq(mbh5_add_gesture(w, &(struct mbh5_gesture){ 3, "fist", "3", 0 }), MB_OK);
    cr_assert_eq(mbh5_add_gesture(w, &(struct mbh5_gesture){ 5, "pinch", "5", 0 }), MB_OK);
    float *x = malloc(T * C_EMG * sizeof *x), *pose = malloc(T * 3 * sizeof *pose);   /* [T x C], [T x 3] */
    int32_t *lab = malloc(T * sizeof *lab), *rep = malloc(T * sizeof *rep);
    cr_assert(x && pose && lab && rep);
    for (size_t t = 0; t < T; t++) {
        for (size_t c = 0; c < C_EMG; c++)
            x[t * C_EMG + c] = emg_at(0, t, c);
        for (size_t j = 0; j < 3; j++)
            pose[t * 3 + j] = (float)j;
        lab[t] = label_at(t);
        rep[t] = rep_at(t);
    }
    for (size_t k = 0; k < NREC; k++) {
        char subj[16];
        snprintf(subj, sizeof subj, "s%zu", k % 20);
        struct mbh5_rec_info info = { .subject = subj, .device = "d", .rate_hz = 1000, .n_channels = C_EMG,
                                      .day = -1, .start_time = NAN, .has_repetition = 1 };
        struct mbh5_rec *r;
        int sid;
        cr_assert_eq(mbh5_rec_begin(w, &r, &info), MB_OK);
        cr_assert_eq(mbh5_rec_add_stream(r, &sid, &(struct mbh5_stream_info){ "pose", "pose", 3, 1000, "rad", NULL,
                                                                             0, 0 }), MB_OK);
        cr_assert_eq(mbh5_rec_append(r, x, lab, rep, NULL, T), MB_OK, "%s", mb_last_error());
        cr_assert_eq(mbh5_rec_append_stream(r, sid, pose, NULL, T), MB_OK, "%s", mb_last_error());
        cr_assert_eq(mbh5_rec_end(r), MB_OK);
    }
    cr_assert_eq(mbh5_commit(w), MB_OK, "%s", mb_last_error());
    struct mallinfo2 m0 = mallinfo2();
    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, p), MB_OK, "%s", mb_last_error());
    for (size_t k = 0; k < NREC; k++) {
        cr_assert_eq(mbh5_read_emg(f, k, 0, T, x), MB_OK, "%s", mb_last_error());
        cr_assert_eq(mbh5_read_labels(f, k, 0, T, lab, rep), MB_OK, "%s", mb_last_error());
        cr_assert_eq(mbh5_read_stream(f, k, 0, 0, T, pose, NULL), MB_OK, "%s", mb_last_error());
    }
    struct mallinfo2 m1 = mallinfo2();
    long held = (long)(m1.uordblks + m1.hblkhd) - (long)(m0.uordblks + m0.hblkhd);
    cr_expect_lt(held, 6L << 20, "an open file of %d recordings, each read once, holds %ld kB of heap", NREC,
                 held >> 10);
    mbh5_close(f);
    free(x);
    free(pose);
    free(lab);
    free(rep);
    rm_dir(dir);
}

Test(mbh5, uncompressed_files_read_back_the_same, .timeout = 30)
{
    char dir[64], p[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(p, sizeof p, dir, "raw.h5");
    struct mbh5_writer *w;
    cr_assert_eq(mbh5_create(&w, p, &corpus), MB_OK);
    cr_assert_eq(mbh5_set_compression(w, MBH5_COMPRESS_NONE), MB_OK);
    struct mbh5_device dev = { .name = "d", .n_channels = 3, .rate_hz = 100, .units = "V" };
    struct mbh5_rec_info info = { .subject = "s", .device = "d", .rate_hz = 100, .n_channels = 3, .day = -1 };
    struct mbh5_rec *r;
    cr_assert_eq(mbh5_add_device(w, &dev), MB_OK);
    cr_assert_eq(mbh5_rec_begin(w, &r, &info), MB_OK);
    static float x[50000 * 3];
    for (size_t i = 0; i < 50000 * 3; i++)
        x[i] = (float)i * 0.25f;
    cr_assert_eq(mbh5_rec_append(r, x, NULL, NULL, NULL, 50000), MB_OK);
    cr_assert_eq(mbh5_rec_end(r), MB_OK);
    cr_assert_eq(mbh5_commit(w), MB_OK);
    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, p), MB_OK);
    static float y[50000 * 3];
    cr_assert_eq(mbh5_read_emg(f, 0, 0, 50000, y), MB_OK);
    cr_expect_eq(memcmp(x, y, sizeof x), 0);
    mbh5_close(f);
    cr_expect_eq(mbh5_validate(p, NULL), 0);
    rm_dir(dir);
}

#include <omp.h>

Test(mbh5, bytes_do_not_depend_on_the_thread_count, .timeout = 60)
{
    char dir[64], a[128], b[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(a, sizeof a, dir, "t1.h5");
    path_in(b, sizeof b, dir, "t2.h5");
    omp_set_num_threads(1);
    cr_assert_eq(write_small(a, 60000, 5000), MB_OK);
    omp_set_num_threads(2);
    cr_assert_eq(write_small(b, 60000, 5000), MB_OK);
    cr_expect(same_bytes(a, b), "1 and 2 threads wrote different bytes");
    rm_dir(dir);
}

Test(mbh5, empty_recordings_and_streams_round_trip, .timeout = 30)
{
    char dir[64], p[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(p, sizeof p, dir, "empty.h5");
    struct mbh5_writer *w;
    cr_assert_eq(mbh5_create(&w, p, &corpus), MB_OK);
    struct mbh5_device dev = { .name = "d", .n_channels = 2, .rate_hz = 100, .units = "V" };
    struct mbh5_rec_info info = { .subject = "s", .device = "d", .rate_hz = 100, .n_channels = 2, .day = -1,
                                  .has_time = 1, .has_repetition = 1 };
    struct mbh5_rec *r;
    int sid;
    cr_assert_eq(mbh5_add_device(w, &dev), MB_OK);
    cr_assert_eq(mbh5_rec_begin(w, &r, &info), MB_OK);
    cr_assert_eq(mbh5_rec_add_stream(r, &sid, &(struct mbh5_stream_info){ "pose", "pose", 3, 50, "rad", NULL, 1, 1 }),
                 MB_OK);
    cr_assert_eq(mbh5_rec_end(r), MB_OK);
    cr_assert_eq(mbh5_commit(w), MB_OK);
    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, p), MB_OK, "%s", mb_last_error());
    cr_expect_eq(f->recordings[0].n_samples, 0);
    cr_expect_eq(f->recordings[0].n_segments, 0);
    cr_expect_eq(f->recordings[0].streams[0].n_samples, 0);
    cr_expect_eq(f->n_sources, 0);
    cr_expect_eq(f->n_gestures, 0);
    mbh5_close(f);
    cr_expect_eq(mbh5_validate(p, NULL), 0);
    rm_dir(dir);
}

/* Files from other writers (h5py: deflate without shuffle, other chunk
 * shapes, chunks never written) read through the same calls. */
Test(mbh5, emg_written_by_another_tool_reads_the_same, .timeout = 30)
{
    char dir[64], p[128];
    tu_tmpdir(dir, sizeof dir);
    path_in(p, sizeof p, dir, "foreign.h5");
    const size_t n = 5000;
    cr_assert_eq(write_small(p, n, 1000), MB_OK);
    hid_t f = open_rw(p);
    hid_t g = H5Gopen2(f, "/recordings/r000000", H5P_DEFAULT);
    cr_assert_geq(H5Ldelete(g, "emg", H5P_DEFAULT), 0);
    hsize_t dims[2] = { n, C_EMG }, chunk[2] = { 300, C_EMG };
    hid_t sp = H5Screate_simple(2, dims, NULL), pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 2, chunk);
    H5Pset_deflate(pl, 4);
    hid_t d = H5Dcreate2(g, "emg", H5T_IEEE_F32LE, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    cr_assert_geq(d, 0);
    /* Rows [0, 3000) written; the chunks past them are never allocated. */
    float *x = malloc(3000 * C_EMG * sizeof *x);
    for (size_t t = 0; t < 3000; t++)
        for (size_t c = 0; c < C_EMG; c++)
            x[t * C_EMG + c] = emg_at(0, t, c);
    hsize_t off[2] = { 0, 0 }, cnt[2] = { 3000, C_EMG };
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(2, cnt, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
    cr_assert_geq(H5Dwrite(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, x), 0);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    H5Pclose(pl);
    H5Sclose(sp);
    H5Gclose(g);
    H5Fclose(f);
    struct mbh5_file *mf;
    cr_assert_eq(mbh5_open(&mf, p), MB_OK, "%s", mb_last_error());
    float *y = malloc(n * C_EMG * sizeof *y);
    cr_assert_eq(mbh5_read_emg(mf, 0, 0, n, y), MB_OK, "%s", mb_last_error());
    cr_expect_eq(memcmp(x, y, 3000 * C_EMG * sizeof *x), 0);
    for (size_t i = 3000 * C_EMG; i < n * C_EMG; i++)
        cr_assert_eq(y[i], 0.0f);
    cr_assert_eq(mbh5_read_emg(mf, 0, 17, 2900, y), MB_OK);
    cr_expect_eq(memcmp(x + 17 * C_EMG, y, 2900 * C_EMG * sizeof *x), 0);
    mbh5_close(mf);
    free(x);
    free(y);
    rm_dir(dir);
}
