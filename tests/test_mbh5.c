/* tests/test_mbh5.c - the unified HDF5 format: writer, reader, views, validation. */
#include <hdf5.h>
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
}
