/* tests/test_wavelet.c - kernels/wavelet (pywt's sym8 wavedec) against
 * golden coefficients from tests/ref/gen_wavelet.py, and the wavelet
 * features of kernels/features on the shapes the general feature suite
 * does not reach: windows shorter than the filter, one channel, explicit
 * levels, level errors, band column names. The features' golden values
 * are in tests/test_features.c (every_feature_equals_golden_values). */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "kernels/features.h"
#include "kernels/wavelet.h"
#include "kernels/window.h"
#include "tests/ref/features_golden.h"
#include "tests/ref/wavelet_golden.h"

Test(wavelet, sym8_filters_are_pywt_dec_lo_and_dec_hi)
{
    for (int k = 0; k < KERN_WAV_LEN; k++) {
        cr_assert_eq(kern_wav_sym8_lo[k], fx_sym8_lo[k], "dec_lo[%d] %.17g vs pywt %.17g", k, kern_wav_sym8_lo[k], fx_sym8_lo[k]);
        cr_assert_eq(kern_wav_sym8_hi[k], fx_sym8_hi[k], "dec_hi[%d] %.17g vs pywt %.17g", k, kern_wav_sym8_hi[k], fx_sym8_hi[k]);
    }
    /* orthonormal low-pass: sum h = sqrt 2, sum h^2 = 1 */
    double s = 0, q = 0;
    for (int k = 0; k < KERN_WAV_LEN; k++) { s += kern_wav_sym8_lo[k]; q += kern_wav_sym8_lo[k] * kern_wav_sym8_lo[k]; }
    cr_assert_float_eq(s, sqrt(2.0), 1e-12);
    cr_assert_float_eq(q, 1.0, 1e-12);
}

Test(wavelet, level_rule_is_libemg_s)
{
    struct { double fs; int level; } c[] = {
        { 100, 4 }, { 200, 5 }, { 1000, 7 }, { 1024, 8 }, { 2000, 8 }, { 2048, 9 }, { 4000, 9 }, { 8, 1 }, { 7.9, 0 },
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++)
        cr_assert_eq(kern_wav_level(c[i].fs), c[i].level, "fs %g: %d", c[i].fs, kern_wav_level(c[i].fs));
    cr_assert_eq(kern_wav_level(FX_FS), FX_WAV_LEVEL);
}

Test(wavelet, band_lengths_follow_pywt)
{
    size_t lens[KERN_WAV_MAXLEV + 1];
    /* pywt: [len(c) for c in wavedec(zeros(200), 'sym8', level=7)] */
    const size_t want[8] = { 16, 16, 17, 20, 26, 38, 61, 107 };
    cr_assert_eq(kern_wav_wavedec_lens(lens, 200, 7), 301);
    for (int b = 0; b < 8; b++) cr_assert_eq(lens[b], want[b], "band %d: %zu", b, lens[b]);
    cr_assert_eq(kern_wav_dwt_len(1), 8, "shorter than the filter: the output grows");
}

Test(wavelet, wavedec_equals_pywt_on_short_and_long_signals)
{
    size_t ncase = 0;
    for (const struct wv_case *c = wv_cases; c->x; c++, ncase++) {
        size_t lens[KERN_WAV_MAXLEV + 1];
        size_t tot = kern_wav_wavedec_lens(lens, c->n, c->level);
        cr_assert_eq(tot, c->ncoef, "n %zu level %d: %zu coefficients, pywt %zu", c->n, c->level, tot, c->ncoef);
        double *a = malloc(tot * sizeof *a), *b = malloc(tot * sizeof *b);
        double *work = malloc(kern_wav_work_len(c->n) * sizeof *work);
        kern_wav_wavedec(a, work, c->x, c->n, c->level);
        kern_wav_wavedec_ref(b, work, c->x, c->n, c->level);
        double scale = 0;
        for (size_t i = 0; i < tot; i++) scale = fmax(scale, fabs(c->coef[i]));
        for (size_t i = 0; i < tot; i++) {
            cr_assert(fabs(a[i] - c->coef[i]) <= 1e-12 * scale, "n %zu level %d coef %zu: %.17g pywt %.17g",
                      c->n, c->level, i, a[i], c->coef[i]);
            /* the same taps in the same order: the same bytes */
            cr_assert_eq(memcmp(&a[i], &b[i], sizeof *a), 0, "n %zu level %d coef %zu: optimised %.17g reference %.17g",
                         c->n, c->level, i, a[i], b[i]);
        }
        free(a); free(b); free(work);
    }
    cr_assert_geq(ncase, 10);
}

static float *signal(size_t T, size_t C, uint64_t seed)
{
    struct mb_rng r;
    mb_rng_seed(&r, seed, 0);
    float *x = malloc(T * C * sizeof *x);
    for (size_t i = 0; i < T * C; i++)
        x[i] = (float)(mb_rng_normal(&r) * (1 + (i % C)) + 0.1 * (double)(i % 3));
    return x;
}

/* Optimised against reference for windows of W samples on C channels. */
static void opt_vs_ref(size_t C, size_t W, int level, double fs)
{
    size_t T = 4 * W + 3;
    float *x = signal(T, C, 7 + W);
    struct kern_feat_params p;
    kern_feat_params_default(&p);
    p.fs = fs;
    p.wavelet_level = level;
    struct kern_feature_set fs_;
    cr_assert_eq(kern_feature_set_parse(&fs_, "MSWT", &p), MB_OK, "%s", mb_last_error());
    int L = kern_feat_wavelet_level(&p);
    size_t F = kern_feature_set_width(&fs_, C);
    cr_assert_eq(F, 4 * C * (size_t)(L + 1));
    struct kern_window_spec sp = { .win_ms = (double)W * 1000.0 / fs, .stride_ms = (double)(W + 1) * 1000.0 / fs };
    struct kern_windows w;
    cr_assert_eq(kern_windows_make(&w, &sp, fs, NULL, NULL, T), MB_OK);
    cr_assert_eq(w.W, W);
    float *a = malloc(w.n * F * sizeof *a), *b = malloc(w.n * F * sizeof *b);
    cr_assert_eq(kern_features_extract(a, x, T, C, &w, &fs_), MB_OK, "W %zu: %s", W, mb_last_error());
    cr_assert_eq(kern_features_extract_ref(b, x, T, C, &w, &fs_), MB_OK, "W %zu: %s", W, mb_last_error());
    for (size_t i = 0; i < w.n * F; i++) {
        char col[64];
        cr_assert_eq(kern_feature_column_name(col, sizeof col, &fs_, C, i % F), MB_OK);
        cr_assert(fabs(a[i] - b[i]) <= 1e-5 * fabs(b[i]) + 1e-12, "C %zu W %zu level %d %s window %zu: optimised %.9g reference %.9g",
                  C, W, L, col, i / F, a[i], b[i]);
    }
    free(a); free(b); free(x);
    kern_windows_free(&w);
    kern_feature_set_free(&fs_);
}

Test(wavelet, optimised_features_equal_reference_on_odd_shapes, .timeout = 60)
{
    /* windows from 2 samples (one sample is a constant window: WENT of its
     * detail bands is the entropy of rounding residues, see FEATURES.md)
     * to longer than the deepest band needs; LibEMG's level 7 at 1 kHz,
     * level 1, and level 4 at DB1's 100 Hz */
    const size_t Ws[] = { 2, 3, 5, 15, 16, 17, 37, 200 };
    for (size_t i = 0; i < sizeof Ws / sizeof *Ws; i++) {
        opt_vs_ref(1, Ws[i], 0, 1000);
        opt_vs_ref(1, Ws[i], 1, 1000);
    }
    opt_vs_ref(3, 20, 0, 100);
    opt_vs_ref(9, 51, 0, 2000);
}

Test(wavelet, one_and_two_threads_give_identical_bytes, .timeout = 60)
{
    const size_t T = 2000, C = 5;
    float *x = signal(T, C, 11);
    struct kern_feat_params p;
    kern_feat_params_default(&p);
    struct kern_feature_set fs;
    cr_assert_eq(kern_feature_set_parse(&fs, "MSWT,MAV", &p), MB_OK);
    struct kern_window_spec sp = { .win_ms = 200, .stride_ms = 23 };
    struct kern_windows w;
    cr_assert_eq(kern_windows_make(&w, &sp, 1000, NULL, NULL, T), MB_OK);
    size_t F = kern_feature_set_width(&fs, C);
    float *a = malloc(w.n * F * sizeof *a), *b = malloc(w.n * F * sizeof *b);
    omp_set_num_threads(1);
    cr_assert_eq(kern_features_extract(a, x, T, C, &w, &fs), MB_OK);
    omp_set_num_threads(2);
    cr_assert_eq(kern_features_extract(b, x, T, C, &w, &fs), MB_OK);
    cr_assert_eq(memcmp(a, b, w.n * F * sizeof *a), 0);
    free(a); free(b); free(x);
    kern_windows_free(&w);
    kern_feature_set_free(&fs);
}

Test(wavelet, columns_name_the_bands_channel_by_channel)
{
    struct kern_feature_set fs;
    cr_assert_eq(kern_feature_set_parse(&fs, "mswt", NULL), MB_OK);  /* fs 1000: level 7, 8 bands */
    cr_assert_eq(fs.n, 4);
    cr_assert_str_eq(fs.feat[0]->name, "WENG");
    cr_assert_str_eq(fs.feat[3]->name, "WENT");
    cr_assert_eq(kern_feature_set_width(&fs, 2), 4 * 2 * 8);
    const struct { size_t j; const char *name; } c[] = {
        { 0, "WENG_A7_ch0" }, { 1, "WENG_D7_ch0" }, { 7, "WENG_D1_ch0" }, { 8, "WENG_A7_ch1" },
        { 15, "WENG_D1_ch1" }, { 16, "WV_A7_ch0" }, { 33, "WWL_D7_ch0" }, { 63, "WENT_D1_ch1" },
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char col[64];
        cr_assert_eq(kern_feature_column_name(col, sizeof col, &fs, 2, c[i].j), MB_OK);
        cr_assert_str_eq(col, c[i].name, "column %zu", c[i].j);
    }
    kern_feature_set_free(&fs);
    struct kern_feat_params p;
    kern_feat_params_default(&p);
    p.wavelet_level = 2;
    cr_assert_eq(kern_feature_set_parse(&fs, "WV", &p), MB_OK);
    char col[64];
    cr_assert_eq(kern_feature_set_width(&fs, 1), 3);
    cr_assert_eq(kern_feature_column_name(col, sizeof col, &fs, 1, 2), MB_OK);
    cr_assert_str_eq(col, "WV_D1_ch0");
    kern_feature_set_free(&fs);
}

Test(wavelet, levels_out_of_range_are_refused_only_for_wavelet_sets)
{
    mb_log_set_level(MB_LOG_QUIET);
    struct kern_feat_params p;
    kern_feat_params_default(&p);
    p.fs = 4;  /* LibEMG's rule: level 0 */
    struct kern_feature_set fs;
    cr_assert_eq(kern_feature_set_parse(&fs, "MAV,SPECTRAL", &p), MB_OK, "no wavelet feature, no level");
    kern_feature_set_free(&fs);
    cr_assert_eq(kern_feature_set_parse(&fs, "MAV,WENG", &p), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "'WENG'") && strstr(mb_last_error(), "wavelet_level"), "%s", mb_last_error());
    p.wavelet_level = 3;
    cr_assert_eq(kern_feature_set_parse(&fs, "MAV,WENG", &p), MB_OK, "an explicit level overrides the rule");
    kern_feature_set_free(&fs);
    p.wavelet_level = KERN_WAV_MAXLEV + 1;
    cr_assert_eq(kern_feature_set_parse(&fs, "MAV", &p), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "wavelet_level"), "%s", mb_last_error());
    p.wavelet_level = -1;
    cr_assert_eq(kern_feature_set_parse(&fs, "MAV", &p), MB_EINVAL);
}

Test(wavelet, an_all_zero_band_makes_went_undefined_and_reported)
{
    mb_log_set_level(MB_LOG_QUIET);
    const size_t T = 64, C = 2;
    float *x = signal(T, C, 5);
    for (size_t t = 0; t < T; t++) x[t * C + 1] = 0;   /* dead channel 1 */
    struct kern_window_spec sp = { .win_ms = 32, .stride_ms = 32 };
    struct kern_windows w;
    cr_assert_eq(kern_windows_make(&w, &sp, 1000, NULL, NULL, T), MB_OK);
    struct kern_feature_set fs;
    cr_assert_eq(kern_feature_set_parse(&fs, "WENG,WV,WWL", NULL), MB_OK);
    size_t F = kern_feature_set_width(&fs, C);
    float *out = malloc(w.n * F * sizeof *out);
    /* WENG, WV, WWL keep LibEMG's + 1e-10 inside the log: ln 1e-10 */
    cr_assert_eq(kern_features_extract(out, x, T, C, &w, &fs), MB_OK, "%s", mb_last_error());
    cr_assert_float_eq(out[8], (float)log(1e-10), 1e-5, "WENG_A7_ch1 %g", out[8]);
    kern_feature_set_free(&fs);
    cr_assert_eq(kern_feature_set_parse(&fs, "WENT", NULL), MB_OK);
    cr_assert_eq(kern_features_extract(out, x, T, C, &w, &fs), MB_ENUM);
    cr_assert(strstr(mb_last_error(), "WENT_A7_ch1 of window 0"), "%s", mb_last_error());
    cr_assert_eq(kern_features_extract_ref(out, x, T, C, &w, &fs), MB_ENUM);
    kern_feature_set_free(&fs);
    kern_windows_free(&w);
    free(out);
    free(x);
}
