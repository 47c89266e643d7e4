/* tests/test_corpus.c - pr_corpus_load on a hand-made unified file
 * (tests/pr_fixture.h): windows, labels, trials, pose, identity, views. */
#include <jansson.h>

#include "core/fs.h"
#include "kernels/resample.h"
#include "protocols/protocol.h"
#include "pr_fixture.h"
#include "testutil.h"

static char dir[64], path[128];

static void make(const struct prf_opts *o)
{
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/c.h5", dir);
    cr_assert_eq(prf_write(path, o), MB_OK, "%s", mb_last_error());
}

static void cleanup(void)
{
    remove(path);
    rmdir(dir);
}

Test(corpus, windows_labels_trials, .fini = cleanup, .timeout = 60)
{
    make(NULL);
    struct pr_corpus c;
    struct pr_view_settings v = { 0, 200, 50, 0 };
    cr_assert_eq(pr_corpus_load(&c, path, &v), MB_OK, "%s", mb_last_error());
    cr_expect_eq(c.C, PRF_C);
    cr_expect_eq(c.W, 40);
    cr_expect_eq(c.view.rate_hz, PRF_RATE);
    /* movement 200 samples -> 17 windows, rest 100 -> 7, 60 trials, 4 subjects */
    cr_expect_eq(c.n, 4u * 60u * 24u);
    cr_expect_eq(c.n_subjects, 4);
    cr_expect_eq(c.n_gestures, PRF_G + 1);
    cr_expect_eq(c.has_reps, 1);
    cr_expect_eq(c.J, PRF_J);
    char sha[65];
    cr_assert_eq(mb_fs_sha256(sha, NULL, path), MB_OK);
    cr_expect_str_eq(c.sha256, sha);
    size_t n_rest = 0;
    for (size_t i = 0; i < c.n; i++) {
        cr_assert(c.label[i] >= 0 && c.label[i] <= PRF_G);
        cr_assert(c.trial[i] >= 1 && c.trial[i] <= 10, "window %zu trial %d", i, c.trial[i]);
        if (c.label[i]) {
            cr_assert_eq(c.trial[i], c.rep[i]);
            cr_assert(c.pose_valid[i]);
            for (size_t j = 0; j < c.J; j++)   /* pose of the window's gesture (times its intensity 0.6..1.4) */
                cr_assert_eq(c.pose[i * c.J + j] > 0.3f, prf_pose[c.label[i]][j] > 0, "pose at the window end");
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
    pr_corpus_release(&c);
}

Test(corpus, resampled_view, .fini = cleanup, .timeout = 60)
{
    make(&(struct prf_opts){ .subjects = 2 });
    struct pr_corpus c;
    struct pr_view_settings v = { 100, 200, 50, 0 };
    cr_assert_eq(pr_corpus_load(&c, path, &v), MB_OK, "%s", mb_last_error());
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
            s += (double)c.x[i * c.W * c.C + k] * c.x[i * c.W * c.C + k];
        if (c.label[i]) e_move += s, n_move++;
        else e_rest += s, n_rest++;
    }
    cr_expect_gt(e_move / (double)n_move, 10 * e_rest / (double)n_rest);
    /* 200 -> 100 Hz: up 1, down 2, filter half-length ceil(24 * 2 / 1) = 48
     * native samples = 24 view samples on either side of each window */
    for (size_t i = 0; i < c.n; i++)
        cr_assert_eq(c.reach[i], 24, "window %zu reach %d", i, c.reach[i]);
    pr_corpus_release(&c);
    /* at the native rate nothing is filtered: no reach */
    v.rate_hz = 0;
    cr_assert_eq(pr_corpus_load(&c, path, &v), MB_OK, "%s", mb_last_error());
    for (size_t i = 0; i < c.n; i++)
        cr_assert_eq(c.reach[i], 0);
    pr_corpus_release(&c);
}

Test(corpus, no_reps_numbers_occurrences, .fini = cleanup, .timeout = 60)
{
    make(&(struct prf_opts){ .subjects = 2, .with_reps = -1, .no_pose = 1 });
    struct pr_corpus c;
    cr_assert_eq(pr_corpus_load(&c, path, NULL), MB_OK, "%s", mb_last_error());
    cr_expect_eq(c.has_reps, 0);
    cr_expect_eq(c.J, 0);
    cr_expect_null(c.pose);
    /* the k-th occurrence of gesture 3 of a subject has trial k */
    int32_t seen = 0;
    for (size_t i = 0; i < c.n; i++)
        if (c.subject[i] == 1 && c.label[i] == 3 && (i == 0 || c.seg[i] != c.seg[i - 1]))
            cr_expect_eq(c.trial[i], ++seen);
    cr_expect_eq(seen, 10);
    pr_corpus_release(&c);
}

Test(corpus, errors_name_the_file, .timeout = 30)
{
    struct pr_corpus c;
    cr_expect_neq(pr_corpus_load(&c, "/nonexistent/x.h5", NULL), MB_OK);
    cr_expect(strstr(mb_last_error(), "/nonexistent/x.h5"), "%s", mb_last_error());
}

/* A label outside the vocabulary (99 in a NinaPro-like file whose gestures
 * are 0..6) would become a class of its own and change every metric
 * silently. The loader refuses it with the check mbh5_validate makes, and
 * names the file, the recording and the sample (1-based); pr_corpus_check,
 * which 'myobench run' calls before it opens the store, refuses it too. */
Test(corpus, labels_outside_the_vocabulary_are_refused, .fini = cleanup, .timeout = 60)
{
    make(&(struct prf_opts){ .subjects = 3, .reps = 2 });
    struct pr_view_settings v = { 0, 200, 50, 0 };
    cr_assert_eq(pr_corpus_check(path, &v), MB_OK, "%s", mb_last_error());
    cr_assert_eq(prf_poke_label(path, "r000001", 1233, 99), MB_OK);
    char want[256];
    snprintf(want, sizeof want, "'%s' recording 'r000001' sample 1234: label 99 is neither -1 nor a gesture id", path);
    mb_log_set_level(MB_LOG_QUIET);
    struct pr_corpus c;
    cr_expect_eq(pr_corpus_load(&c, path, &v), MB_EFORMAT);
    cr_expect(strstr(mb_last_error(), want), "%s", mb_last_error());
    cr_expect_eq(pr_corpus_check(path, &v), MB_EFORMAT);
    cr_expect(strstr(mb_last_error(), want), "%s", mb_last_error());
    /* at another view too: the check is on the native labels */
    struct pr_view_settings v100 = { 100, 200, 50, 0 };
    cr_expect_eq(pr_corpus_load(&c, path, &v100), MB_EFORMAT);
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
    cr_assert_eq(prf_poke_label(path, "r000001", 1233, -1), MB_OK);
    cr_expect_eq(pr_corpus_check(path, &v), MB_OK, "%s", mb_last_error());
    cr_expect_eq(pr_corpus_load(&c, path, &v), MB_OK, "%s", mb_last_error());
    pr_corpus_release(&c);
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
