/* tests/test_corpus.c - cp_corpus_load on a hand-made unified file
 * (tests/corpus_fixture.h): windows, labels, trials, pose, identity, views. */
#include <jansson.h>

#include "core/fs.h"
#include "kernels/resample.h"
#include "protocols/protocol.h"
#include "corpus_fixture.h"
#include "testutil.h"

static char dir[64], path[128];

static void make(const struct cpf_opts *o)
{
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/c.h5", dir);
    cr_assert_eq(cpf_write(path, o), MB_OK, "%s", mb_last_error());
}

static void cleanup(void)
{
    remove(path);
    rmdir(dir);
}

Test(corpus, windows_labels_trials, .fini = cleanup, .timeout = 60)
{
    make(NULL);
    struct cp_corpus c;
    struct cp_view v = { 0, 200, 50, 0 };
    cr_assert_eq(cp_corpus_load(&c, path, &v), MB_OK, "%s", mb_last_error());
    cr_expect_eq(c.C, CPF_C);
    cr_expect_eq(c.W, 40);
    cr_expect_eq(c.view.rate_hz, CPF_RATE);
    /* movement 200 samples -> 17 windows, rest 100 -> 7, 60 trials, 4 subjects */
    cr_expect_eq(c.n, 4u * 60u * 24u);
    cr_expect_eq(c.n_subjects, 4);
    cr_expect_eq(c.n_gestures, CPF_G + 1);
    cr_expect_eq(c.has_reps, 1);
    cr_expect_eq(c.J, CPF_J);
    char sha[65];
    cr_assert_eq(mb_fs_sha256(sha, NULL, path), MB_OK);
    cr_expect_str_eq(c.sha256, sha);
    size_t n_rest = 0;
    for (size_t i = 0; i < c.n; i++) {
        cr_assert(c.label[i] >= 0 && c.label[i] <= CPF_G);
        cr_assert(c.trial[i] >= 1 && c.trial[i] <= 10, "window %zu trial %d", i, c.trial[i]);
        if (c.label[i]) {
            cr_assert_eq(c.trial[i], c.rep[i]);
            cr_assert(c.pose_valid[i]);
            for (size_t j = 0; j < c.J; j++)   /* pose of the window's gesture (times its intensity 0.6..1.4) */
                cr_assert_eq(c.pose[i * c.J + j] > 0.3f, cpf_pose[c.label[i]][j] > 0, "pose at the window end");
        } else {
            n_rest++;
        }
        /* windows never cross a segment: the window's samples are its segment's */
        if (i && c.rec[i] == c.rec[i - 1] && c.seg[i] == c.seg[i - 1])
            cr_assert_eq(c.label[i], c.label[i - 1]);
    }
    cr_expect_eq(n_rest, 4u * 60u * 7u);
    /* rest after gesture 1 repetition 1 belongs to the next movement (gesture 2, repetition 1);
     * the rest after the very last movement takes the previous repetition */
    size_t first_rest = 17;   /* windows 0..16: gesture 1 rep 1 */
    cr_expect_eq(c.label[first_rest], 0);
    cr_expect_eq(c.trial[first_rest], 1);
    size_t last = 1440 - 1;
    cr_expect_eq(c.label[last], 0);
    cr_expect_eq(c.trial[last], 10);
    /* rest after gesture 6 repetition 1 is the prelude of repetition 2 */
    size_t after_g6 = 5 * 24 + 17;
    cr_expect_eq(c.label[after_g6], 0);
    cr_expect_eq(c.trial[after_g6], 2);
    /* split tags as JSON */
    json_error_t e;
    json_t *t = json_loads(c.rec_tags_json[3], 0, &e);
    cr_assert_not_null(t);
    cr_expect_str_eq(json_string_value(json_object_get(t, "held_out_user")), "true");
    json_decref(t);
    cr_expect_str_eq(c.rec_ids[0], "r000000");
    cp_corpus_release(&c);
}

Test(corpus, resampled_view, .fini = cleanup, .timeout = 60)
{
    make(&(struct cpf_opts){ .subjects = 2 });
    struct cp_corpus c;
    struct cp_view v = { 100, 200, 50, 0 };
    cr_assert_eq(cp_corpus_load(&c, path, &v), MB_OK, "%s", mb_last_error());
    cr_expect_eq(c.W, 20);
    cr_expect_eq(c.view.rate_hz, 100);
    /* at 100 Hz: movement 100 samples -> 17 windows, rest 50 -> 7 */
    cr_expect_eq(c.n, 2u * 60u * 24u);
    /* the movement windows are louder than rest after resampling too */
    double e_move = 0, e_rest = 0;
    size_t n_move = 0, n_rest = 0;
    for (size_t i = 0; i < c.n; i++) {
        double s = 0;
        for (size_t k = 0; k < c.W * c.C; k++)
            s += (double)cp_window(&c, i)[k] * cp_window(&c, i)[k];
        if (c.label[i]) e_move += s, n_move++;
        else e_rest += s, n_rest++;
    }
    cr_expect_gt(e_move / (double)n_move, 10 * e_rest / (double)n_rest);
    /* 200 -> 100 Hz: up 1, down 2, filter half-length ceil(24 * 2 / 1) = 48
     * native samples = 24 view samples on either side of each window */
    for (size_t i = 0; i < c.n; i++)
        cr_assert_eq(c.reach[i], 24, "window %zu reach %d", i, c.reach[i]);
    cp_corpus_release(&c);
    /* at the native rate nothing is filtered: no reach */
    v.rate_hz = 0;
    cr_assert_eq(cp_corpus_load(&c, path, &v), MB_OK, "%s", mb_last_error());
    for (size_t i = 0; i < c.n; i++)
        cr_assert_eq(c.reach[i], 0);
    cp_corpus_release(&c);
}

Test(corpus, no_reps_numbers_occurrences, .fini = cleanup, .timeout = 60)
{
    make(&(struct cpf_opts){ .subjects = 2, .with_reps = -1, .no_pose = 1 });
    struct cp_corpus c;
    cr_assert_eq(cp_corpus_load(&c, path, NULL), MB_OK, "%s", mb_last_error());
    cr_expect_eq(c.has_reps, 0);
    cr_expect_eq(c.J, 0);
    cr_expect_null(c.pose);
    /* the k-th occurrence of gesture 3 of a subject has trial k */
    int32_t seen = 0;
    for (size_t i = 0; i < c.n; i++)
        if (c.subject[i] == 1 && c.label[i] == 3 && (i == 0 || c.seg[i] != c.seg[i - 1]))
            cr_expect_eq(c.trial[i], ++seen);
    cr_expect_eq(seen, 10);
    cp_corpus_release(&c);
}

Test(corpus, errors_name_the_file, .timeout = 30)
{
    struct cp_corpus c;
    cr_expect_neq(cp_corpus_load(&c, "/nonexistent/x.h5", NULL), MB_OK);
    cr_expect(strstr(mb_last_error(), "/nonexistent/x.h5"), "%s", mb_last_error());
}

/* A label outside the vocabulary (99 in a NinaPro-like file whose gestures
 * are 0..6) would become a class of its own and change every metric
 * silently. The loader refuses it with the check mbh5_validate makes, and
 * names the file, the recording and the sample (1-based); cp_corpus_check,
 * which 'myobench run' calls before it opens the store, refuses it too. */
Test(corpus, labels_outside_the_vocabulary_are_refused, .fini = cleanup, .timeout = 60)
{
    make(&(struct cpf_opts){ .subjects = 3, .reps = 2 });
    struct cp_view v = { 0, 200, 50, 0 };
    cr_assert_eq(cp_corpus_check(path, &v), MB_OK, "%s", mb_last_error());
    cr_assert_eq(cpf_poke_label(path, "r000001", 1233, 99), MB_OK);
    char want[256];
    snprintf(want, sizeof want, "'%s' recording 'r000001' sample 1234: label 99 is neither -1 nor a gesture id", path);
    mb_log_set_level(MB_LOG_QUIET);
    struct cp_corpus c;
    cr_expect_eq(cp_corpus_load(&c, path, &v), MB_EFORMAT);
    cr_expect(strstr(mb_last_error(), want), "%s", mb_last_error());
    cr_expect_eq(cp_corpus_check(path, &v), MB_EFORMAT);
    cr_expect(strstr(mb_last_error(), want), "%s", mb_last_error());
    /* at another view too: the check is on the native labels */
    struct cp_view v100 = { 100, 200, 50, 0 };
    cr_expect_eq(cp_corpus_load(&c, path, &v100), MB_EFORMAT);
    mb_log_set_level(MB_LOG_WARN);
    /* validate finds the same label at the same place */
    char *rep = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&rep, &len);
    long np = mbh5_validate(path, m);
    fclose(m);
    cr_expect_gt(np, 0);
    cr_expect(strstr(rep, "/recordings/r000001/labels: 1 labels neither -1 nor a gesture id, first 99 at sample 1234"), "%s",
              rep);
    free(rep);
    /* -1 (unlabelled) stays fine */
    cr_assert_eq(cpf_poke_label(path, "r000001", 1233, -1), MB_OK);
    cr_expect_eq(cp_corpus_check(path, &v), MB_OK, "%s", mb_last_error());
    cr_expect_eq(cp_corpus_load(&c, path, &v), MB_OK, "%s", mb_last_error());
    cp_corpus_release(&c);
}

/* kern_resample_reach bounds what the filter reads: output j depends only on
 * inputs at instants (in output samples) within (j - reach, j + reach]. */
Test(corpus, resample_reach_bounds_the_support, .timeout = 30)
{
    static const double rates[][2] = { { 200, 100 }, { 2000, 200 }, { 100, 200 }, { 2048, 1111 } };
    for (size_t q = 0; q < sizeof rates / sizeof rates[0]; q++) {
        struct kern_resampler r;
        cr_assert_eq(kern_resampler_init(&r, rates[q][0], rates[q][1]), MB_OK, "%s", mb_last_error());
        double reach = (double)kern_resample_reach(&r), ratio = (double)r.up / (double)r.down;
        size_t n_in = 100000;
        for (size_t j = 2000; j < 2600; j++) {
            size_t i0, i1;
            kern_resample_span(&r, j, 1, n_in, &i0, &i1);
            cr_assert_gt((double)i0 * ratio, (double)j - reach, "%g->%g Hz j %zu", rates[q][0], rates[q][1], j);
            cr_assert_leq((double)(i1 - 1) * ratio, (double)j + reach, "%g->%g Hz j %zu", rates[q][0], rates[q][1], j);
        }
        if (q == 1)
            cr_expect_eq(kern_resample_reach(&r), 24, "2 kHz -> 200 Hz: 240 native samples = 24 view samples");
        kern_resampler_free(&r);
    }
}

/* ---- windows are views ---------------------------------------------------- */

#include <hdf5.h>
#include <malloc.h>

/* Recording 'id' of the file as [T x C], read with plain HDF5 (not through
 * the corpus or the format's reader); *T receives its length. */
static float *raw_emg(const char *file, const char *id, size_t C, size_t *T)
{
    char obj[96];
    snprintf(obj, sizeof obj, "/recordings/%s/emg", id);
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, obj, H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    hsize_t dims[2] = { 0, 0 };
    cr_assert(f >= 0 && d >= 0 && H5Sget_simple_extent_dims(sp, dims, NULL) == 2 && dims[1] == C, "%s", obj);
    float *x = malloc((dims[0] + 1) * C * sizeof *x);   /* [T x C] */
    cr_assert(x && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0, "%s", obj);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
    *T = dims[0];
    return x;
}

/* Window i's samples are rows [start, start + W) of its recording at the view
 * rate: at the native rate the file's own samples, at another rate the whole
 * recording resampled at once (what the corpus copied out before windows
 * became views), bit for bit. */
Test(corpus, window_is_its_recordings_samples_at_the_view_rate, .fini = cleanup, .timeout = 60)
{
    make(&(struct cpf_opts){ .subjects = 2, .sessions = 2 });
    static const double rates[] = { 0, 100, 300 };
    for (size_t k = 0; k < sizeof rates / sizeof *rates; k++) {
        struct cp_corpus c;
        struct cp_view v = { rates[k], 200, 30, 0 };
        cr_assert_eq(cp_corpus_load(&c, path, &v), MB_OK, "%s", mb_last_error());
        cr_assert_eq(c.n_recordings, 4);
        size_t checked = 0;
        for (size_t r = 0; r < c.n_recordings; r++) {
            size_t Tn, T;
            float *x = raw_emg(path, c.rec_ids[r], c.C, &Tn), *y = x;
            struct kern_resampler rs;
            if (rates[k] > 0) {
                cr_assert_eq(kern_resampler_init(&rs, CPF_RATE, rates[k]), MB_OK);
                T = kern_resample_length(&rs, Tn);
                y = malloc(T * c.C * sizeof *y);   /* [T x C] */
                cr_assert_not_null(y);
                kern_resample_f32(y, x, 0, Tn, Tn, 0, T, c.C, &rs);
                kern_resampler_free(&rs);
            } else {
                T = Tn;
            }
            cr_assert_eq(c.rec_off[r + 1] - c.rec_off[r], T, "rate %g recording %zu: %zu samples, expected %zu",
                         rates[k], r, c.rec_off[r + 1] - c.rec_off[r], T);
            for (size_t i = 0; i < c.n; i++) {
                if ((size_t)c.rec[i] != r)
                    continue;
                cr_assert_leq((size_t)c.start[i] + c.W, T);
                cr_assert_eq(memcmp(cp_window(&c, i), y + (size_t)c.start[i] * c.C, c.W * c.C * sizeof *y), 0,
                             "rate %g window %zu (recording %zu, start %lld) differs from its recording's samples",
                             rates[k], i, r, (long long)c.start[i]);
                checked++;
            }
            if (y != x)
                free(y);
            free(x);
        }
        cr_assert_eq(checked, c.n);
        cp_corpus_release(&c);
    }
}

/* Heap in use (malloc'ed and not freed), main arena and mmapped blocks. */
static long heap_bytes(void)
{
    struct mallinfo2 m = mallinfo2();
    return (long)(m.uordblks + m.hblkhd);
}

/* The corpus holds each recording's samples once: its EMG block is the
 * recordings' bytes at the view rate whatever the stride, and what it holds
 * beyond them grows with the windows by their metadata only, far less than a
 * copy of each window (W x C floats; the corpus held those until windows
 * became views). */
Test(corpus, holds_each_sample_once_whatever_the_stride, .fini = cleanup, .timeout = 60)
{
#ifdef __SANITIZE_ADDRESS__
    cr_skip_test("mallinfo2 does not see ASan's allocator");
#endif
    make(NULL);
    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, path), MB_OK, "%s", mb_last_error());
    size_t samples = 0;
    for (size_t r = 0; r < f->n_recordings; r++)
        samples += f->recordings[r].n_samples;
    mbh5_close(f);
    struct cp_corpus c;
    struct cp_view v = { 0, 200, 50, 0 };
    cr_assert_eq(cp_corpus_load(&c, path, &v), MB_OK, "%s", mb_last_error());   /* libraries' first-use state */
    cp_corpus_release(&c);
    static const double strides[] = { 50, 10, 5 };
    for (size_t k = 0; k < sizeof strides / sizeof *strides; k++) {
        v.stride_ms = strides[k];
        long h0 = heap_bytes();
        cr_assert_eq(cp_corpus_load(&c, path, &v), MB_OK, "%s", mb_last_error());
        long held = heap_bytes() - h0;
        size_t emg = c.rec_off[c.n_recordings] * c.C * sizeof *c.emg, win = c.W * c.C * sizeof *c.emg;
        cr_assert_eq(c.rec_off[c.n_recordings], samples, "stride %g ms: %zu samples in the corpus, %zu in the file",
                     strides[k], c.rec_off[c.n_recordings], samples);
        double per_window = (double)(held - (long)emg) / (double)c.n;
        cr_expect_lt(per_window, 0.5 * (double)win,
                     "stride %g ms: %zu windows of %zu bytes; the corpus holds %ld bytes, %zu of samples, so "
                     "%.0f bytes per window besides them", strides[k], c.n, win, held, emg, per_window);
        cp_corpus_release(&c);
    }
}

/* ---- lazy corpora ------------------------------------------------------------------ */

/* Opened lazily, a corpus has the eager load's windows, tables and pose, and
 * each window's samples once its recording is pinned: at the native rate and
 * resampled (the lazy path builds its own resamplers). */
Test(corpus, lazy_corpus_has_the_eager_windows_and_samples, .fini = cleanup, .timeout = 60)
{
    make(&(struct cpf_opts){ .subjects = 2, .reps = 3, .sessions = 2 });
    double rates[2] = { 0, 150 };
    for (int k = 0; k < 2; k++) {
        struct cp_view v = { rates[k], 200, 50, 0 };
        struct cp_corpus e, l;
        cr_assert_eq(cp_corpus_load(&e, path, &v), MB_OK, "%s", mb_last_error());
        cr_assert_eq(cp_corpus_open(&l, path, &v, 0), MB_OK, "%s", mb_last_error());
        cr_assert(e.n == l.n && e.W == l.W && e.C == l.C && e.J == l.J && e.Wp == l.Wp &&
                  e.n_recordings == l.n_recordings && e.n_subjects == l.n_subjects);
        cr_assert_str_eq(e.sha256, l.sha256);
        cr_assert_null(l.emg);
        cr_assert_eq(memcmp(e.rec_off, l.rec_off, (e.n_recordings + 1) * sizeof *e.rec_off), 0);
#define SAME(a) cr_assert_eq(memcmp(e.a, l.a, e.n * sizeof *e.a), 0, "rate %g: " #a " differs", rates[k])
        SAME(label); SAME(rep); SAME(subject); SAME(rec); SAME(session); SAME(start); SAME(seg); SAME(trial);
        SAME(block); SAME(reach); SAME(pose_valid);
#undef SAME
        cr_assert_eq(memcmp(e.pose_seq, l.pose_seq, e.n * e.Wp * e.J * sizeof *e.pose_seq), 0);
        struct cp_cursor cur = CP_CURSOR(&l);
        for (size_t i = 0; i < l.n; i++) {
            const float *x;
            cr_assert_eq(cp_cursor_at(&cur, &x, i), MB_OK, "%s", mb_last_error());
            cr_assert_eq(memcmp(x, cp_window(&e, i), e.W * e.C * sizeof *x), 0, "rate %g: window %zu's samples",
                         rates[k], i);
        }
        cp_cursor_end(&cur);
        struct cp_lazy_stats st;
        cp_lazy_stats(&st, &l);
        cr_expect_eq(st.reads, l.n_recordings, "windows in order read each recording once (%zu reads)", st.reads);
        for (size_t r = 0; r < l.n_recordings; r++)
            cr_expect_null(l.rec_emg[r], "budget 0: recording %zu still held after the cursor ended", r);
        cp_corpus_release(&e);
        cp_corpus_release(&l);
    }
}

/* Pins count; an unpinned recording stays while the budget holds it (least
 * recently pinned goes first) and is read again when it did not. */
Test(corpus, lazy_recordings_stay_within_the_budget, .fini = cleanup, .timeout = 60)
{
    make(&(struct cpf_opts){ .subjects = 2, .reps = 2 });
    struct cp_view v = { 0, 200, 50, 0 };
    struct cp_corpus l;
    cr_assert_eq(cp_corpus_open(&l, path, &v, 0), MB_OK, "%s", mb_last_error());
    cr_assert_eq(l.n_recordings, 2);
    size_t one = (l.rec_off[1] - l.rec_off[0]) * l.C * sizeof(float);
    struct cp_lazy_stats st;
    cr_assert_eq(cp_pin(&l, 0), MB_OK);
    cr_assert_eq(cp_pin(&l, 0), MB_OK);
    cp_unpin(&l, 0);
    cr_assert_not_null(l.rec_emg[0], "still pinned once");
    cp_unpin(&l, 0);
    cr_assert_null(l.rec_emg[0], "budget 0: gone when unpinned");
    cr_assert_eq(cp_pin(&l, 0), MB_OK);
    cp_unpin(&l, 0);
    cp_lazy_stats(&st, &l);
    cr_expect_eq(st.reads, 2);
    cp_corpus_release(&l);
    /* room for one recording: the least recently pinned goes */
    cr_assert_eq(cp_corpus_open(&l, path, &v, one), MB_OK, "%s", mb_last_error());
    cr_assert_eq(cp_pin(&l, 0), MB_OK);
    cp_unpin(&l, 0);
    cr_assert_not_null(l.rec_emg[0], "within the budget: kept");
    cr_assert_eq(cp_pin(&l, 1), MB_OK);
    cr_assert_not_null(l.rec_emg[0], "recording 1 is pinned, so 0 still fits");
    cp_unpin(&l, 1);
    cr_assert(!!l.rec_emg[0] + !!l.rec_emg[1] == 1, "two unpinned recordings, room for one");
    cr_assert_null(l.rec_emg[0], "the least recently pinned (0) goes");
    cr_assert_eq(cp_pin(&l, 1), MB_OK);
    cp_unpin(&l, 1);
    cp_lazy_stats(&st, &l);
    cr_expect(st.reads == 2 && st.dropped == 1, "reads %zu dropped %zu", st.reads, st.dropped);
    cp_corpus_release(&l);
}

/* A recording that can no longer be read when a job pins it (the file
 * replaced under a running plan) is an error naming the file and the
 * recording, not a crash; the corpus stays usable for what it read. */
Test(corpus, lazy_read_errors_name_the_file_and_recording, .fini = cleanup, .timeout = 60)
{
    make(&(struct cpf_opts){ .subjects = 2, .reps = 2 });
    struct cp_view v = { 0, 200, 50, 0 };
    struct cp_corpus l;
    cr_assert_eq(cp_corpus_open(&l, path, &v, 0), MB_OK, "%s", mb_last_error());
    /* the file stays open: truncate it behind HDF5's back */
    cr_assert_eq(truncate(path, 4096), 0);
    mb_log_set_level(MB_LOG_QUIET);
    int rc = cp_pin(&l, 1);
    mb_log_set_level(MB_LOG_WARN);
    cr_expect_neq(rc, MB_OK);
    cr_expect(strstr(mb_last_error(), path) && strstr(mb_last_error(), l.rec_ids[1]), "%s", mb_last_error());
    cr_expect_null(l.rec_emg[1]);
    cp_corpus_release(&l);
}
