/* tests/test_describe.c - 'myobench describe' (describe/describe.h,
 * docs/DESCRIBE.md): known signals give known statistics, the whole report
 * agrees with numpy/scipy/sklearn on a small corpus (tests/ref/
 * gen_describe.py -> tests/ref/describe_golden.h), the text and JSON match
 * golden files, n/a is never 0, errors name the file, and the file is never
 * changed by being described. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fs.h"
#include "corpus_fixture.h"
#include "describe/describe.h"
#include "format/mbh5.h"
#include "ref/describe_golden.h"
#include "testutil.h"

#define GOLDEN_DIR "tests/golden/describe"

/* ---- corpora ---------------------------------------------------------------- */

/* One subject, one recording of T samples at 'rate' on C channels, filled
 * by fill(x, T, C) with labels 1 (gesture "g") throughout. */
static void write_signal(const char *path, const char *dev_name, const char *hw_filters, double rate, size_t C,
                         size_t T, void (*fill)(float *, size_t, size_t, double))
{
    struct mbh5_corpus corpus = { "signal", "hand-made", "", "test", "0", "{}" };
    struct mbh5_writer *w;
    cr_assert_eq(mbh5_create(&w, path, &corpus), MB_OK, "%s", mb_last_error());
    struct mbh5_device dev = { .name = dev_name, .model = "", .manufacturer = "", .n_channels = (int)C,
                               .rate_hz = rate, .units = "V", .scale = 1, .hw_filters = hw_filters,
                               .sw_filters = "" };
    cr_assert_eq(mbh5_add_device(w, &dev), MB_OK, "%s", mb_last_error());
    cr_assert_eq(mbh5_add_gesture(w, &(struct mbh5_gesture){ 1, "g", "g", 0 }), MB_OK);
    float *x = malloc(T * C * sizeof *x);
    int32_t *lab = malloc(T * sizeof *lab);
    fill(x, T, C, rate);
    for (size_t t = 0; t < T; t++)
        lab[t] = 1;
    struct mbh5_rec_info info = { .subject = "s1", .session = "", .side = "", .day = -1, .device = dev_name,
                                  .rate_hz = rate, .n_channels = (int)C, .source = "test", .start_time = NAN };
    struct mbh5_rec *rr;
    cr_assert_eq(mbh5_rec_begin(w, &rr, &info), MB_OK, "%s", mb_last_error());
    cr_assert_eq(mbh5_rec_append(rr, x, lab, NULL, NULL, T), MB_OK, "%s", mb_last_error());
    cr_assert_eq(mbh5_rec_end(rr), MB_OK, "%s", mb_last_error());
    cr_assert_eq(mbh5_commit(w), MB_OK, "%s", mb_last_error());
    free(x);
    free(lab);
}

/* channel 1: a sine at 156.25 Hz = bin 40 of a 256-point segment at 1 kHz
 * (not fs/4, whose samples are only 0 and +-1);
 * channel 2: Gaussian noise; channel 3 = channel 2 */
static void fill_sine_noise(float *x, size_t T, size_t C, double rate)
{
    struct mb_rng r;
    mb_rng_seed(&r, 5, 0);
    for (size_t t = 0; t < T; t++) {
        x[t * C] = (float)sin(2 * M_PI * 156.25 * (double)t / rate);
        x[t * C + 1] = x[t * C + 2] = (float)mb_rng_normal(&r);
    }
}

/* every channel: its own noise plus a common one */
static void fill_mixed(float *x, size_t T, size_t C, double rate)
{
    (void)rate;
    struct mb_rng r;
    mb_rng_seed(&r, 6, 0);
    for (size_t t = 0; t < T; t++) {
        double common = mb_rng_normal(&r);
        for (size_t c = 0; c < C; c++)
            x[t * C + c] = (float)(common + mb_rng_normal(&r));
    }
}

/* The corpus of tests/ref/gen_describe.py, operation for operation. */
static const double dg_pose[7][2] = { { 0, 0 }, { 1, 0 }, { 0, 1 }, { 1, 1 }, { 0.5, 0 }, { 0, 0.5 }, { 1, 0.5 } };
static const double dg_mix[4][2] = { { 1.0, 0.2 }, { 0.1, 1.0 }, { 0.6, 0.6 }, { 0.3, 0.9 } };
static const double dg_freq[4] = { 60.0, 100.0, 140.0, 180.0 };

static uint32_t dg_state;
static double dg_u(void)
{
    dg_state = dg_state * 1664525u + 1013904223u;
    return (double)(dg_state >> 8) / 16777216.0;
}

static void dg_write(const char *path)
{
    struct mbh5_corpus corpus = { "describe-ref", "hand-made", "", "test", "0", "{}" };
    struct mbh5_writer *w;
    cr_assert_eq(mbh5_create(&w, path, &corpus), MB_OK, "%s", mb_last_error());
    struct mbh5_device dev = { .name = "band", .n_channels = DG_C, .rate_hz = 1000, .units = "V", .scale = 1 };
    cr_assert_eq(mbh5_add_device(w, &dev), MB_OK, "%s", mb_last_error());
    static const char *const names[] = { "", "g1", "g2", "g3", "g4", "g5", "g6" };
    for (int g = 1; g <= DG_G; g++)
        cr_assert_eq(mbh5_add_gesture(w, &(struct mbh5_gesture){ g, names[g], names[g], g >= 5 }), MB_OK);
    size_t T = (size_t)DG_REPS * DG_G * DG_SEG;
    float *x = malloc(T * DG_C * sizeof *x), *p = malloc(T * DG_J * sizeof *p);
    int32_t *lab = malloc(T * sizeof *lab), *rep = malloc(T * sizeof *rep);
    for (int s = 0; s < DG_S; s++) {
        dg_state = (uint32_t)(12345 + 1000 * s);
        size_t n = 0;
        for (int k = 1; k <= DG_REPS; k++)
            for (int g = 1; g <= DG_G; g++) {
                double inten = 0.6 + 0.8 * dg_u();
                for (int t = 0; t < DG_SEG; t++, n++) {
                    double common = dg_u() + dg_u() + dg_u() + dg_u() - 2.0;
                    for (int ch = 0; ch < DG_C; ch++) {
                        double amp = 0.2 + inten * (0.5 + dg_mix[ch][0] * dg_pose[g][0] + dg_mix[ch][1] * dg_pose[g][1]);
                        amp = amp * (1.0 + 0.25 * s * ((ch + g) % 3));
                        double noise = dg_u() + dg_u() + dg_u() + dg_u() - 2.0;
                        double tone = sin(2.0 * M_PI * dg_freq[ch] * (double)n / 1000.0);
                        x[n * DG_C + ch] = (float)(amp * (noise + 0.5 * common + 0.5 * tone));
                    }
                    for (int j = 0; j < DG_J; j++) {
                        double e = dg_u() + dg_u() + dg_u() + dg_u() - 2.0;
                        p[n * DG_J + j] = (float)(inten * dg_pose[g][j] + 0.05 * e);
                    }
                    lab[n] = g;
                    rep[n] = k;
                }
            }
        char subj[16];
        snprintf(subj, sizeof subj, "s%d", s + 1);
        struct mbh5_rec_info info = { .subject = subj, .session = "", .side = "", .day = -1, .device = "band",
                                      .rate_hz = 1000, .n_channels = DG_C, .source = "test", .start_time = NAN,
                                      .has_repetition = 1 };
        struct mbh5_rec *rr;
        int sid = -1;
        cr_assert_eq(mbh5_rec_begin(w, &rr, &info), MB_OK, "%s", mb_last_error());
        cr_assert_eq(mbh5_rec_add_stream(rr, &sid, &(struct mbh5_stream_info){ "joint_angles", "pose", DG_J, 1000,
                                                                               "rad", NULL, 0, 0 }), MB_OK);
        cr_assert_eq(mbh5_rec_append(rr, x, lab, rep, NULL, T), MB_OK, "%s", mb_last_error());
        cr_assert_eq(mbh5_rec_append_stream(rr, sid, p, NULL, T), MB_OK, "%s", mb_last_error());
        cr_assert_eq(mbh5_rec_end(rr), MB_OK, "%s", mb_last_error());
    }
    cr_assert_eq(mbh5_commit(w), MB_OK, "%s", mb_last_error());
    free(x); free(p); free(lab); free(rep);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    b[got] = '\0';
    fclose(f);
    return b;
}

/* ---- known signals ---------------------------------------------------------- */

Test(describe, known_signals_give_known_statistics, .timeout = 60)
{
    char dir[512], path[600];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/sig.h5", dir);
    write_signal(path, "band", "", 1000, 3, 40000, fill_sine_noise);
    struct dsc_report r;
    cr_assert_eq(dsc_describe(&r, path, &(struct dsc_opts){ .no_models = 1 }), MB_OK, "%s", mb_last_error());
    cr_assert_eq(r.n_subjects, 1);
    cr_assert_str_empty(r.spectrum_note);
    const struct dsc_channel *sine = &r.subjects[0].ch[0], *noise = &r.subjects[0].ch[1];
    /* a sine on bin 40: the Hann window spreads it symmetrically over bins
     * 39..41, so the median is that bin and the mean that frequency */
    cr_assert_float_eq(sine->mdf, 156.25, 1e-9, "median frequency %g", sine->mdf);
    cr_assert_float_eq(sine->mnf, 156.25, 0.05, "mean frequency %g", sine->mnf);
    cr_assert_float_eq(sine->rms, sqrt(0.5), 1e-4, "rms %g", sine->rms);
    cr_assert_float_eq(sine->kurtosis, 1.5, 1e-3, "kurtosis of a sine %g", sine->kurtosis);
    /* 40000 Gaussian samples: the kurtosis estimate has sd sqrt(24 / n) = 0.025 */
    cr_assert_float_eq(noise->kurtosis, 3.0, 0.1, "kurtosis of Gaussian noise %g", noise->kurtosis);
    cr_assert_float_eq(noise->rms, 1.0, 0.03, "rms %g", noise->rms);
    /* white noise: flat spectrum, mean and median near half the Nyquist band */
    cr_assert_float_eq(noise->mnf, 250.0, 10.0, "white-noise mean frequency %g", noise->mnf);
    cr_assert_float_eq(noise->mdf, 250.0, 12.0, "white-noise median frequency %g", noise->mdf);
    /* d = 1: pairs (1, 2) sine-noise r ~ 0 and (2, 3) identical r = 1 */
    cr_assert_eq(r.n_dist, 2);
    cr_assert_eq(r.n_pairs[0], 2);
    cr_assert_float_eq(r.subjects[0].corr[0], 0.5, 0.02, "mean r at d = 1: %g", r.subjects[0].corr[0]);
    cr_assert(fabs(r.subjects[0].corr[1]) < 0.02, "sine vs noise at d = 2: %g", r.subjects[0].corr[1]);
    cr_assert(strstr(r.geometry, "channel index"), "%s", r.geometry);
    dsc_report_release(&r);
}

/* two channels holding the same samples */
static void fill_identical(float *x, size_t T, size_t C, double rate)
{
    (void)rate;
    struct mb_rng r;
    mb_rng_seed(&r, 7, 0);
    for (size_t t = 0; t < T; t++)
        x[t * C] = x[t * C + 1] = (float)mb_rng_normal(&r);
}

Test(describe, identical_channels_correlate_one)
{
    char dir[512], path[600];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/two.h5", dir);
    write_signal(path, "band", "", 1000, 2, 4000, fill_identical);
    struct dsc_report r;
    cr_assert_eq(dsc_describe(&r, path, &(struct dsc_opts){ .no_models = 1 }), MB_OK, "%s", mb_last_error());
    cr_assert_eq(r.n_dist, 1);
    cr_assert_float_eq(r.subjects[0].corr[0], 1.0, 1e-12, "r = %.15g", r.subjects[0].corr[0]);
    cr_assert_float_eq(r.subjects[0].ch[0].rms, r.subjects[0].ch[1].rms, 0, "same samples, same rms");
    dsc_report_release(&r);
}

Test(describe, myo_armband_distance_is_around_the_ring)
{
    char dir[512], path[600];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/myo.h5", dir);
    write_signal(path, "thalmic-myo-x2", "", 200, 16, 4000, fill_mixed);
    struct dsc_report r;
    cr_assert_eq(dsc_describe(&r, path, &(struct dsc_opts){ .no_models = 1 }), MB_OK, "%s", mb_last_error());
    cr_assert(strstr(r.geometry, "ring"), "%s", r.geometry);
    /* two rings of 8: 8 pairs at d = 1..3 and 4 at d = 4 in each */
    cr_assert_eq(r.n_dist, 4);
    size_t want[4] = { 16, 16, 16, 8 };
    for (size_t d = 0; d < 4; d++)
        cr_assert_eq(r.n_pairs[d], want[d], "pairs at d = %zu: %zu", d + 1, r.n_pairs[d]);
    /* a common source and equal own noise: r = 0.5 at every distance */
    for (size_t d = 0; d < 4; d++)
        cr_assert_float_eq(r.subjects[0].corr[d], 0.5, 0.05, "d = %zu: %g", d + 1, r.subjects[0].corr[d]);
    /* 200 Hz is raw Myo EMG: the spectrum is computed */
    cr_assert_str_empty(r.spectrum_note);
    cr_assert(isfinite(r.subjects[0].ch[0].mnf));
    dsc_report_release(&r);
}

Test(describe, envelopes_and_low_rates_have_no_spectrum_and_say_why)
{
    char dir[512], a[600], b[600];
    tu_tmpdir(dir, sizeof dir);
    snprintf(a, sizeof a, "%s/env.h5", dir);
    snprintf(b, sizeof b, "%s/low.h5", dir);
    write_signal(a, "otto", "band-pass and RMS rectification: the stored signal is an RMS envelope", 2000, 2, 4000,
                 fill_mixed);
    write_signal(b, "otto", "", 100, 2, 4000, fill_mixed);
    struct dsc_report r;
    cr_assert_eq(dsc_describe(&r, a, &(struct dsc_opts){ .no_models = 1 }), MB_OK, "%s", mb_last_error());
    cr_assert(strstr(r.spectrum_note, "envelope"), "%s", r.spectrum_note);
    cr_assert(isnan(r.subjects[0].ch[0].mnf) && isnan(r.subjects[0].ch[0].mdf));
    cr_assert(isfinite(r.subjects[0].ch[0].rms), "amplitude is still described");
    dsc_report_release(&r);
    cr_assert_eq(dsc_describe(&r, b, &(struct dsc_opts){ .no_models = 1 }), MB_OK, "%s", mb_last_error());
    cr_assert(strstr(r.spectrum_note, "100 Hz"), "%s", r.spectrum_note);
    cr_assert(isnan(r.subjects[0].ch[1].mnf));
    dsc_report_release(&r);
}

/* ---- against numpy / scipy / sklearn ----------------------------------------- */

/* Tolerances: rms, kurtosis and correlation are double sums over the same
 * float32 samples on both sides (1e-9 relative). The Welch PSD goes through
 * fftwf here and double there: 1e-6 relative in the PSD, 1e-3 Hz in the mean
 * frequency; the median is a bin (3.9 Hz apart), equal. LDA: TD4 of float32
 * windows against numpy's double; the generator printed the smallest gap
 * between the two best decision values (4e-3), far above what float32
 * features move them by, so every prediction and the balanced accuracies
 * are the same. Ridge R^2: float32 features and pose, 1e-4. */
Test(describe, matches_numpy_scipy_sklearn, .timeout = 300)
{
    char dir[512], path[600];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/ref.h5", dir);
    dg_write(path);
    struct dsc_report r;
    cr_assert_eq(dsc_describe(&r, path, &(struct dsc_opts){ .vote_params = "mae_steps=5" }), MB_OK, "%s",
                 mb_last_error());
    cr_assert_eq(r.n_subjects, DG_S);
    cr_assert_eq(r.C, DG_C);
    for (size_t s = 0; s < DG_S; s++) {
        const struct dsc_subject *sb = &r.subjects[s];
        for (size_t c = 0; c < DG_C; c++) {
            cr_assert_float_eq(sb->ch[c].rms, dg_rms[s][c], 1e-9 * dg_rms[s][c], "s%zu ch%zu rms", s + 1, c + 1);
            cr_assert_float_eq(sb->ch[c].kurtosis, dg_kurt[s][c], 1e-9 * dg_kurt[s][c], "s%zu ch%zu kurtosis %g vs %g",
                               s + 1, c + 1, sb->ch[c].kurtosis, dg_kurt[s][c]);
            cr_assert_float_eq(sb->ch[c].mnf, dg_mnf[s][c], 1e-3, "s%zu ch%zu mnf %.6f vs %.6f", s + 1, c + 1,
                               sb->ch[c].mnf, dg_mnf[s][c]);
            cr_assert_float_eq(sb->ch[c].mdf, dg_mdf[s][c], 1e-9, "s%zu ch%zu mdf %g vs %g", s + 1, c + 1,
                               sb->ch[c].mdf, dg_mdf[s][c]);
        }
        for (size_t d = 0; d + 1 < DG_C; d++)
            cr_assert_float_eq(sb->corr[d], dg_corr[s][d], 1e-9, "s%zu corr d=%zu %.12g vs %.12g", s + 1, d + 1,
                               sb->corr[d], dg_corr[s][d]);
        cr_assert_float_eq(sb->within_bacc, dg_within[s], 1e-9, "s%zu within %g vs %g", s + 1, sb->within_bacc,
                           dg_within[s]);
        cr_assert_float_eq(sb->loso_bacc, dg_loso[s], 1e-9, "s%zu loso %g vs %g", s + 1, sb->loso_bacc, dg_loso[s]);
        cr_assert_float_eq(sb->r2_within, dg_r2w[s], 1e-4, "s%zu r2 within %g vs %g", s + 1, sb->r2_within, dg_r2w[s]);
        cr_assert_float_eq(sb->r2_loso, dg_r2l[s], 1e-4, "s%zu r2 loso %g vs %g", s + 1, sb->r2_loso, dg_r2l[s]);
        cr_assert_float_eq(sb->r2_unseen, dg_r2u[s], 1e-4, "s%zu r2 unseen %g vs %g", s + 1, sb->r2_unseen,
                           dg_r2u[s]);
        /* the vote has no sklearn twin: a balanced accuracy over the 2 unseen gestures */
        cr_assert(sb->zs_bacc >= 0 && sb->zs_bacc <= 1, "s%zu vote %g", s + 1, sb->zs_bacc);
        cr_assert_eq(sb->zs_classes, 2, "s%zu: the held-out gestures 5 and 6", s + 1);
    }
    dsc_report_release(&r);
}

Test(describe, the_vote_runs_on_thinned_training_and_reference_windows, .timeout = 120)
{
    char dir[512], path[600];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/fx.h5", dir);
    cr_assert_eq(cpf_write(path, &(struct cpf_opts){ .subjects = 3 }), MB_OK, "%s", mb_last_error());
    struct dsc_report r;
    /* 40 of about 2900 training and 700 reference windows per fold */
    cr_assert_eq(dsc_describe(&r, path, &(struct dsc_opts){ .vote_params = "mae_steps=5", .vote_windows = 40 }),
                 MB_OK, "%s", mb_last_error());
    for (size_t s = 0; s < r.n_subjects; s++) {
        cr_assert(r.subjects[s].zs_bacc >= 0 && r.subjects[s].zs_bacc <= 1, "s%zu: %g", s + 1, r.subjects[s].zs_bacc);
        cr_assert(r.subjects[s].zs_classes >= 1, "s%zu", s + 1);
    }
    cr_assert_str_empty(r.zs_note, "%s", r.zs_note);
    cr_assert_eq(r.vote_train, 40, "training windows of the vote: %zu", r.vote_train);
    cr_assert_eq(r.vote_refs, 40, "reference windows of the vote: %zu", r.vote_refs);
    dsc_report_release(&r);
    char *out = NULL, *err = NULL, cmd[1024];
    snprintf(cmd, sizeof cmd, "describe '%s' --vote-windows 3", path);
    cr_assert_eq(tu_run(&out, &err, cmd), 2, "fewer than 10 windows is a usage error");
    cr_assert(strstr(err, "--vote-windows"), "%s", err);
    free(out);
    free(err);
}

Test(describe, one_subject_has_no_loso_and_says_why, .timeout = 120)
{
    char dir[512], path[600];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/one.h5", dir);
    cr_assert_eq(cpf_write(path, &(struct cpf_opts){ .subjects = 1 }), MB_OK, "%s", mb_last_error());
    struct dsc_report r;
    cr_assert_eq(dsc_describe(&r, path, &(struct dsc_opts){ .vote_params = "mae_steps=2" }), MB_OK, "%s",
                 mb_last_error());
    cr_assert_eq(r.n_subjects, 1);
    cr_assert(isfinite(r.subjects[0].within_bacc), "within-subject needs one subject only");
    cr_assert(isfinite(r.subjects[0].r2_within));
    cr_assert(isnan(r.subjects[0].loso_bacc) && isnan(r.subjects[0].r2_loso), "no LOSO with one subject");
    cr_assert(strstr(r.lda_note, "loso"), "the reason: '%s'", r.lda_note);
    /* zero-shot needs reference poses from other subjects */
    cr_assert(isnan(r.subjects[0].zs_bacc));
    cr_assert(r.zs_note[0], "the reason is given");
    dsc_report_release(&r);
}

/* ---- golden output ------------------------------------------------------------- */

/* stdout of 'describe ARGS' with the file's path replaced by CORPUS.h5 */
static char *describe_out(const char *path, const char *args, int *code)
{
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, "describe '%s' %s", path, args);
    *code = tu_run(&out, NULL, cmd);
    cr_assert_not_null(out);
    size_t lp = strlen(path);
    for (char *at; (at = strstr(out, path));) {
        memcpy(at, "CORPUS.h5", 9);
        memmove(at + 9, at + lp, strlen(at + lp) + 1);
    }
    return out;
}

static void golden_text(const char *got, const char *name)
{
    char want_path[512];
    snprintf(want_path, sizeof want_path, GOLDEN_DIR "/%s", name);
    const char *re = getenv("MB_REGOLDEN");
    if (re && !strcmp(re, "1")) {
        FILE *f = fopen(want_path, "wb");
        cr_assert_not_null(f, "cannot write '%s' (run from the repository root)", want_path);
        fputs(got, f);
        fclose(f);
        cr_log_info("rewrote golden file %s", want_path);
        return;
    }
    char *want = slurp(want_path);
    cr_assert_not_null(want, "golden file '%s' missing (MB_REGOLDEN=1 writes it)", want_path);
    size_t at = 0;
    while (got[at] && got[at] == want[at])
        at++;
    cr_assert(!got[at] && !want[at], "describe output differs from '%s' at byte %zu:\n%s", want_path, at, got);
    free(want);
}

/* JSON equal to the golden one: the same keys in the same order, strings,
 * nulls and integers equal, reals within 1e-6 relative (printed with 10
 * digits; FFTW's codelets differ by CPU). */
static void json_close(const json_t *a, const json_t *b, const char *where)
{
    if (json_is_number(a) && json_is_number(b) && (json_is_real(a) || json_is_real(b))) {
        double x = json_number_value(a), y = json_number_value(b);
        cr_assert(fabs(x - y) <= 1e-6 * fmax(1, fabs(y)), "%s: %.12g vs golden %.12g", where, x, y);
        return;
    }
    cr_assert_eq(json_typeof(a), json_typeof(b), "%s: type differs from the golden file", where);
    char sub[1024];
    if (json_is_object(a)) {
        cr_assert_eq(json_object_size(a), json_object_size(b), "%s: keys differ", where);
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)a, k, v) {
            json_t *w = json_object_get(b, k);
            cr_assert_not_null(w, "%s: key '%s' not in the golden file", where, k);
            snprintf(sub, sizeof sub, "%s.%s", where, k);
            json_close(v, w, sub);
        }
    } else if (json_is_array(a)) {
        cr_assert_eq(json_array_size(a), json_array_size(b), "%s: lengths differ", where);
        for (size_t i = 0; i < json_array_size(a); i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", where, i);
            json_close(json_array_get(a, i), json_array_get(b, i), sub);
        }
    } else {
        cr_assert(json_equal((json_t *)a, (json_t *)b), "%s differs from the golden file", where);
    }
}

Test(describe, text_matches_its_golden_file, .timeout = 120)
{
    char dir[512], path[600];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/ref.h5", dir);
    dg_write(path);
    int code;
    char *out = describe_out(path, "--no-models", &code);
    cr_assert_eq(code, 0, "%s", out);
    golden_text(out, "ref_signal.txt");
    free(out);
}

Test(describe, json_matches_its_golden_file_and_no_pose_is_null, .timeout = 120)
{
    char dir[512], path[600];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/nopose.h5", dir);
    cr_assert_eq(cpf_write(path, &(struct cpf_opts){ .subjects = 3, .no_pose = 1 }), MB_OK, "%s", mb_last_error());
    int code;
    char *out = describe_out(path, "--json", &code);
    cr_assert_eq(code, 0, "%s", out);
    json_error_t e;
    json_t *got = json_loads(out, 0, &e);
    cr_assert_not_null(got, "not JSON: %s\n%s", e.text, out);
    /* a corpus without pose: every pose statistic is null with the reason, never 0 */
    json_t *subs = json_object_get(got, "subjects");
    cr_assert_eq(json_array_size(subs), 3);
    static const char *const pose_keys[] = { "r2_within", "r2_loso", "r2_unseen", "vote_zs", "vote_classes" };
    for (size_t s = 0; s < 3; s++) {
        json_t *js = json_array_get(subs, s);
        for (size_t k = 0; k < 5; k++)
            cr_assert(json_is_null(json_object_get(js, pose_keys[k])), "subject %zu: %s is not null", s, pose_keys[k]);
        cr_assert(json_is_real(json_object_get(js, "lda_within")), "LDA is computed without pose");
    }
    cr_assert(strstr(json_string_value(json_object_get(got, "pose_note")), "no pose"));
    cr_assert(json_is_null(json_object_get(json_object_get(json_object_get(got, "summary"), "r2_within"), "median")));
    const char *re = getenv("MB_REGOLDEN");
    if (re && !strcmp(re, "1")) {
        golden_text(out, "fixture_nopose.json");
    } else {
        char want_path[512];
        snprintf(want_path, sizeof want_path, GOLDEN_DIR "/fixture_nopose.json");
        json_t *want = json_load_file(want_path, 0, &e);
        cr_assert_not_null(want, "golden file '%s': %s (MB_REGOLDEN=1 writes it)", want_path, e.text);
        json_close(got, want, "$");
        json_decref(want);
    }
    json_decref(got);
    free(out);
    /* and the text says n/a, not 0 */
    out = describe_out(path, "", &code);
    cr_assert_eq(code, 0);
    cr_assert(strstr(out, "pose        the corpus has no pose stream"), "%s", out);
    const char *line = strstr(out, "\nr2_within ");
    cr_assert_not_null(line, "%s", out);
    char buf[128];
    sscanf(line + 1, "%127[^\n]", buf);
    cr_assert(!strpbrk(buf + strlen("r2_within"), "0123456789") && strstr(buf, "n/a"), "summary line '%s'", buf);
    free(out);
}

/* ---- errors and the file left alone ------------------------------------------- */

Test(describe, missing_file_is_an_error_naming_it)
{
    char *out = NULL, *err = NULL;
    int code = tu_run(&out, &err, "describe /nonexistent/nothing.h5");
    cr_assert_eq(code, 1, "exit %d", code);
    cr_assert(strstr(err, "/nonexistent/nothing.h5"), "stderr: %s", err);
    cr_assert_str_empty(out);
    free(out);
    free(err);
    code = tu_run(&out, &err, "describe");
    cr_assert_eq(code, 2, "no FILE is a usage error");
    free(out);
    free(err);
}

Test(describe, not_a_unified_file_is_an_error_naming_it)
{
    char dir[512], a[600], b[600], cmd[1400];
    tu_tmpdir(dir, sizeof dir);
    snprintf(a, sizeof a, "%s/text.h5", dir);
    FILE *f = fopen(a, "w");
    fputs("not hdf5\n", f);
    fclose(f);
    /* an HDF5 file of another schema */
    snprintf(b, sizeof b, "%s/other.h5", dir);
    hid_t h = H5Fcreate(b, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert(h >= 0);
    H5Fclose(h);
    const char *paths[2] = { a, b };
    for (int i = 0; i < 2; i++) {
        char *out = NULL, *err = NULL;
        snprintf(cmd, sizeof cmd, "describe '%s'", paths[i]);
        int code = tu_run(&out, &err, cmd);
        cr_assert_eq(code, 1, "'%s': exit %d", paths[i], code);
        cr_assert(strstr(err, paths[i]), "stderr does not name '%s': %s", paths[i], err);
        cr_assert_str_empty(out);
        free(out);
        free(err);
    }
}

Test(describe, reading_leaves_the_file_unchanged, .timeout = 120)
{
    char dir[512], path[600];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/fx.h5", dir);
    cr_assert_eq(cpf_write(path, &(struct cpf_opts){ .subjects = 2 }), MB_OK, "%s", mb_last_error());
    chmod(path, 0444);   /* a read-only file is described too */
    char before[65], after[65];
    uint64_t nb, na;
    struct stat s0, s1;
    cr_assert_eq(mb_fs_sha256(before, &nb, path), MB_OK);
    cr_assert_eq(stat(path, &s0), 0);
    int code;
    char *out = describe_out(path, "--vote-params mae_steps=2", &code);
    cr_assert_eq(code, 0, "%s", out);
    free(out);
    cr_assert_eq(mb_fs_sha256(after, &na, path), MB_OK);
    cr_assert_eq(stat(path, &s1), 0);
    cr_assert_str_eq(before, after, "describe changed the file's bytes");
    cr_assert_eq(s0.st_mtim.tv_sec, s1.st_mtim.tv_sec);
    cr_assert_eq(s0.st_mtim.tv_nsec, s1.st_mtim.tv_nsec, "describe wrote to the file");
}
