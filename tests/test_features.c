/* tests/test_features.c - kernels/features: every feature against golden
 * values from tests/ref/gen_features.py, optimised against reference on odd
 * shapes, thread-count invariance, registry, thresholds, error paths. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "kernels/features.h"
#include "kernels/window.h"
#include "tests/ref/features_golden.h"

static void golden_params(struct kern_feat_params *p)
{
    kern_feat_params_default(p);
    p->fs = FX_FS;
    p->thr_unit = KERN_THR_SIGNAL;
    p->zc_thr = FX_ZC_THR;
    p->ssc_thr = FX_SSC_THR;
    p->wamp_thr = FX_WAMP_THR;
    p->ar_order = FX_AR_ORDER;
    p->cc_order = FX_CC_ORDER;
    p->mavslp_segments = FX_MAVSLP_SEG;
    p->tm_order = FX_TM_ORDER;
}

static void golden_windows(struct kern_windows *w)
{
    struct kern_window_spec sp = { .win_ms = FX_W * 1000.0 / FX_FS, .stride_ms = FX_S * 1000.0 / FX_FS };
    cr_assert_eq(kern_windows_make(w, &sp, FX_FS, NULL, NULL, FX_T), MB_OK);
    cr_assert_eq(w->n, FX_NWIN);
    cr_assert_eq(w->W, FX_W);
}

static int close_rel(double got, double want, double rel)
{
    return fabs(got - want) <= rel * fabs(want) + 1e-12;
}

static void check_golden(int ref)
{
    struct kern_feat_params p;
    golden_params(&p);
    struct kern_windows w;
    golden_windows(&w);
    size_t checked = 0;
    for (const struct fx_golden *g = fx_golden; g->name; g++) {
        struct kern_feature_set fs;
        cr_assert_eq(kern_feature_set_parse(&fs, g->name, &p), MB_OK, "%s", mb_last_error());
        size_t F = kern_feature_set_width(&fs, FX_C);
        cr_assert_eq(F * FX_NWIN, g->n, "%s: width %zu", g->name, F);
        float *out = malloc(g->n * sizeof *out);
        int rc = ref ? kern_features_extract_ref(out, fx_x, FX_T, FX_C, &w, &fs)
                     : kern_features_extract(out, fx_x, FX_T, FX_C, &w, &fs);
        cr_assert_eq(rc, MB_OK, "%s: %s", g->name, mb_last_error());
        for (size_t i = 0; i < g->n; i++) {
            char col[64];
            cr_assert_eq(kern_feature_column_name(col, sizeof col, &fs, FX_C, i % F), MB_OK);
            cr_assert(close_rel(out[i], g->v[i], 1e-5), "%s (%s) window %zu: got %.9g want %.9g",
                      g->name, col, i / F, out[i], g->v[i]);
        }
        checked++;
        free(out);
        kern_feature_set_free(&fs);
    }
    cr_assert_geq(checked, 50);
    kern_windows_free(&w);
}

Test(features, every_feature_equals_golden_values, .timeout = 60)
{
    check_golden(0);
}

Test(features, reference_equals_golden_values, .timeout = 60)
{
    check_golden(1);
}

Test(features, whole_set_concatenates_the_single_features)
{
    struct kern_feat_params p;
    golden_params(&p);
    struct kern_windows w;
    golden_windows(&w);
    struct kern_feature_set fs;
    cr_assert_eq(kern_feature_set_parse(&fs, "ALL", &p), MB_OK);
    size_t F = kern_feature_set_width(&fs, FX_C);
    float *out = malloc(FX_NWIN * F * sizeof *out);
    cr_assert_eq(kern_features_extract(out, fx_x, FX_T, FX_C, &w, &fs), MB_OK, "%s", mb_last_error());
    size_t col = 0;
    for (size_t f = 0; f < fs.n; f++) {
        const struct fx_golden *g = fx_golden;
        while (g->name && strcmp(g->name, fs.feat[f]->name)) g++;
        cr_assert_not_null(g->name, "no golden values for %s", fs.feat[f]->name);
        size_t k = g->n / FX_NWIN;
        for (size_t i = 0; i < FX_NWIN; i++)
            for (size_t j = 0; j < k; j++)
                cr_assert(close_rel(out[i * F + col + j], g->v[i * k + j], 1e-5), "%s", g->name);
        col += k;
    }
    cr_assert_eq(col, F);
    free(out);
    kern_feature_set_free(&fs);
    kern_windows_free(&w);
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

/* The featurizer shares a recording's features across folds when the
 * thresholds its group reads are equal (methods/featurizer.c): that a set's
 * features depend on no other threshold row, and which rows each group
 * reads, is checked here for every group, with both extractors. */
Test(features, a_set_reads_only_the_threshold_rows_it_declares, .timeout = 60)
{
    static const struct { const char *set; unsigned rows; } cases[] = {
        { "TD4", 3u }, { "TDPSD", 0u }, { "LS9", 5u }, { "ZC", 1u }, { "SSC", 2u }, { "WAMP", 4u },
        { "HJORTH,AR,MNF", 0u }, { "ALL", 7u },
    };
    size_t C = 3, W = 64, T = 4 * W;
    float *x = signal(T, C, 7);
    struct kern_window_spec sp = { .win_ms = 32, .stride_ms = 16 };
    struct kern_windows w;
    cr_assert_eq(kern_windows_make(&w, &sp, 2000, NULL, NULL, T), MB_OK);
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        struct kern_feat_params p;
        kern_feat_params_default(&p);
        p.fs = 2000;
        p.thr_unit = KERN_THR_SIGNAL;
        p.zc_thr = 0.05; p.ssc_thr = 0.1; p.wamp_thr = 0.3;
        struct kern_feature_set fs;
        cr_assert_eq(kern_feature_set_parse(&fs, cases[t].set, &p), MB_OK, "%s", mb_last_error());
        unsigned rows = kern_feature_set_thr_rows(&fs);
        cr_expect_eq(rows, cases[t].rows, "%s reads rows %#x, expected %#x", cases[t].set, rows, cases[t].rows);
        cr_assert_eq(kern_feature_set_thresholds(&fs, C, 0, NULL), MB_OK);
        size_t F = kern_feature_set_width(&fs, C);
        float *a = malloc(w.n * F * sizeof *a), *b = malloc(w.n * F * sizeof *b);
        for (int ref = 0; ref < 2; ref++) {
            int (*ex)(float *, const float *, size_t, size_t, const struct kern_windows *,
                      const struct kern_feature_set *) = ref ? kern_features_extract_ref : kern_features_extract;
            cr_assert_eq(ex(a, x, T, C, &w, &fs), MB_OK, "%s", mb_last_error());
            /* every row the set does not read, changed */
            for (unsigned q = 0; q < 3; q++)
                if (!(rows >> q & 1u))
                    for (size_t c = 0; c < C; c++)
                        fs.thr[q * C + c] = 0.9 + 0.1 * (double)c;
            cr_assert_eq(ex(b, x, T, C, &w, &fs), MB_OK, "%s", mb_last_error());
            cr_expect_eq(memcmp(a, b, w.n * F * sizeof *a), 0, "%s (%s): features changed with a threshold row "
                         "the set does not read", cases[t].set, ref ? "reference" : "optimised");
            cr_assert_eq(kern_feature_set_thresholds(&fs, C, 0, NULL), MB_OK);
        }
        /* and a row it reads does change them (where the signal crosses it) */
        if (rows) {
            cr_assert_eq(kern_features_extract(a, x, T, C, &w, &fs), MB_OK);
            for (size_t c = 0; c < 3 * C; c++)
                fs.thr[c] *= 4;
            cr_assert_eq(kern_features_extract(b, x, T, C, &w, &fs), MB_OK);
            cr_expect_neq(memcmp(a, b, w.n * F * sizeof *a), 0, "%s: thresholds it reads changed nothing",
                          cases[t].set);
        }
        free(a);
        free(b);
        kern_feature_set_free(&fs);
    }
    kern_windows_free(&w);
    free(x);
}

Test(features, optimised_equals_reference_on_odd_shapes, .timeout = 60)
{
    struct { size_t C, W, S; const char *set; } cases[] = {
        { 1, 3, 1, "TD4,RMS,IAV,ISD,VAR,MEAN,DASDV,MAVFD,MAVSD,WAMP,LOG,LD,MSR,TM,MPK,SKEW,KURT,HJORTH,LS,MFL,PAP,ITD,MNF,MDF,MNP,TTP,PKF,SM0,SM1,SM2" },
        { 1, 200, 50, "ALL" },
        { 3, 37, 11, "ALL" },
        { 5, 13, 5, "TD4,LS9,TDPSD,ITD,HJORTH,SPECTRAL,AR,CC,MAVSLP,RMSPHASOR,WLPHASOR,SAMPEN,FUZZYEN" },
        { 67, 21, 21, "TD4,LS9,HJORTH,AR,RMSPHASOR,WLPHASOR,MNF" },
        { 8, 64, 32, "ALL" },
    };
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        size_t C = cases[t].C, W = cases[t].W, T = W * 3 + cases[t].S + 1;
        float *x = signal(T, C, 100 + t);
        struct kern_feat_params p;
        kern_feat_params_default(&p);
        p.fs = 2000;
        p.thr_unit = KERN_THR_SIGNAL;
        p.zc_thr = 0.01; p.ssc_thr = 0.02; p.wamp_thr = 0.3;
        struct kern_feature_set fs;
        cr_assert_eq(kern_feature_set_parse(&fs, cases[t].set, &p), MB_OK, "%s", mb_last_error());
        struct kern_window_spec sp = { .win_ms = (double)W / 2, .stride_ms = (double)cases[t].S / 2 };
        struct kern_windows w;
        cr_assert_eq(kern_windows_make(&w, &sp, 2000, NULL, NULL, T), MB_OK);
        cr_assert_eq(w.W, W);
        size_t F = kern_feature_set_width(&fs, C);
        float *a = malloc(w.n * F * sizeof *a), *b = malloc(w.n * F * sizeof *b);
        cr_assert_eq(kern_features_extract(a, x, T, C, &w, &fs), MB_OK, "case %zu: %s", t, mb_last_error());
        cr_assert_eq(kern_features_extract_ref(b, x, T, C, &w, &fs), MB_OK, "case %zu: %s", t, mb_last_error());
        for (size_t i = 0; i < w.n * F; i++) {
            char col[64];
            cr_assert_eq(kern_feature_column_name(col, sizeof col, &fs, C, i % F), MB_OK);
            cr_assert(close_rel(a[i], b[i], 1e-5), "case %zu %s window %zu: optimised %.9g reference %.9g",
                      t, col, i / F, a[i], b[i]);
        }
        free(a); free(b); free(x);
        kern_windows_free(&w);
        kern_feature_set_free(&fs);
    }
}

Test(features, one_and_two_threads_give_identical_bytes, .timeout = 60)
{
    const size_t T = 3000, C = 8;
    float *x = signal(T, C, 5);
    struct kern_feat_params p;
    kern_feat_params_default(&p);
    p.thr_unit = KERN_THR_SIGNAL;
    struct kern_feature_set fs;
    cr_assert_eq(kern_feature_set_parse(&fs, "ALL", &p), MB_OK);
    struct kern_window_spec sp = { .win_ms = 100, .stride_ms = 37 };
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

Test(features, registry_has_unique_complete_entries_and_resolvable_groups)
{
    size_t n = 0;
    for (const struct kern_feature *f = kern_features; f->name; f++, n++) {
        cr_assert(f->summary && f->n_per_channel && f->ref && f->opt, "%s incomplete", f->name);
        for (const struct kern_feature *g = kern_features; g != f; g++)
            cr_assert_str_neq(f->name, g->name);
        cr_assert_eq(kern_feature_find(f->name), f);
    }
    cr_assert_geq(n, 50);
    for (const struct kern_feature_group *g = kern_feature_groups; g->name; g++) {
        struct kern_feature_set fs;
        cr_assert_eq(kern_feature_set_parse(&fs, g->name, NULL), MB_OK, "group %s: %s", g->name, mb_last_error());
        cr_assert_null(kern_feature_find(g->name), "group %s shadows a feature", g->name);
        kern_feature_set_free(&fs);
    }
    struct kern_feature_set fs;
    cr_assert_eq(kern_feature_set_parse(&fs, " td4 , AR,mav,TDAR", NULL), MB_OK);
    cr_assert_eq(fs.n, 5, "duplicates kept once");
    cr_assert_str_eq(fs.feat[0]->name, "MAV");
    cr_assert_str_eq(fs.feat[4]->name, "AR");
    char col[64];
    cr_assert_eq(kern_feature_set_width(&fs, 2), 2 * (4 + 4));
    cr_assert_eq(kern_feature_column_name(col, sizeof col, &fs, 2, 1), MB_OK);
    cr_assert_str_eq(col, "MAV_ch1");
    cr_assert_eq(kern_feature_column_name(col, sizeof col, &fs, 2, 8 + 5), MB_OK);
    cr_assert_str_eq(col, "AR2_ch1");
    kern_feature_set_free(&fs);
    cr_assert_eq(kern_feature_set_parse(&fs, "RMSPHASOR", NULL), MB_OK);
    cr_assert_eq(kern_feature_set_width(&fs, 4), 12);
    cr_assert_eq(kern_feature_column_name(col, sizeof col, &fs, 4, 4), MB_OK);
    cr_assert_str_eq(col, "RMSPHASOR_d_1_3");
    cr_assert_eq(kern_feature_column_name(col, sizeof col, &fs, 4, 11), MB_OK);
    cr_assert_str_eq(col, "RMSPHASOR_r_2_3");
    kern_feature_set_free(&fs);
}

Test(features, unknown_names_and_bad_parameters_are_errors)
{
    mb_log_set_level(MB_LOG_QUIET);
    struct kern_feature_set fs;
    cr_assert_eq(kern_feature_set_parse(&fs, "MAV,AR9,WL", NULL), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "'AR9'"), "%s", mb_last_error());
    cr_assert_eq(kern_feature_set_parse(&fs, "MAV,,WL", NULL), MB_EINVAL);
    cr_assert_eq(kern_feature_set_parse(&fs, "", NULL), MB_EINVAL);
    struct kern_feat_params p;
    kern_feat_params_default(&p);
    p.ar_order = 0;
    cr_assert_eq(kern_feature_set_parse(&fs, "AR", &p), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "ar_order"), "%s", mb_last_error());
}

Test(features, extraction_refuses_windows_a_feature_is_not_defined_on)
{
    mb_log_set_level(MB_LOG_QUIET);
    float x[64 * 2] = { 0 };
    for (int i = 0; i < 128; i++) x[i] = (float)((i * 7919) % 13) - 6.0f;
    struct kern_window_spec sp = { .win_ms = 4, .stride_ms = 4 };
    struct kern_windows w;
    cr_assert_eq(kern_windows_make(&w, &sp, 1000, NULL, NULL, 64), MB_OK);
    float out[64 * 64];
    struct kern_feature_set fs;
    cr_assert_eq(kern_feature_set_parse(&fs, "MAV,SAMPEN", NULL), MB_OK);
    cr_assert_eq(kern_features_extract(out, x, 64, 2, &w, &fs), MB_OK, "N = 4 = m + 2 is enough");
    kern_feature_set_free(&fs);
    cr_assert_eq(kern_feature_set_parse(&fs, "AR", NULL), MB_OK);
    cr_assert_eq(kern_features_extract(out, x, 64, 2, &w, &fs), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "'AR' needs windows of at least 5"), "%s", mb_last_error());
    kern_feature_set_free(&fs);
    cr_assert_eq(kern_feature_set_parse(&fs, "DFTR", NULL), MB_OK);
    cr_assert_eq(kern_features_extract(out, x, 64, 2, &w, &fs), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "DFTR"), "%s", mb_last_error());
    kern_feature_set_free(&fs);
    kern_windows_free(&w);
}

Test(features, thresholds_scale_with_training_rms_or_device_volts)
{
    mb_log_set_level(MB_LOG_QUIET);
    const size_t T = 400, C = 2;
    float *x = signal(T, C, 9);
    struct kern_window_spec sp = { .win_ms = 100, .stride_ms = 100 };
    struct kern_windows w;
    cr_assert_eq(kern_windows_make(&w, &sp, 1000, NULL, NULL, T), MB_OK);
    struct kern_feature_set fs;
    cr_assert_eq(kern_feature_set_parse(&fs, "WAMP,ZC", NULL), MB_OK);
    float a[16], b[16];  /* 4 windows x 4 columns */
    cr_assert_eq(kern_features_extract(a, x, T, C, &w, &fs), MB_EINVAL, "rms thresholds need calibration");
    cr_assert(strstr(mb_last_error(), "kern_feature_set_thresholds"), "%s", mb_last_error());
    double rms[2];
    kern_channel_rms(rms, x, T, C, &w);
    cr_assert_eq(kern_feature_set_thresholds(&fs, C, 0, rms), MB_OK);
    cr_assert_eq(kern_features_extract(a, x, T, C, &w, &fs), MB_OK);
    /* the same thresholds written in signal units give the same counts */
    struct kern_feat_params p = fs.p;
    p.thr_unit = KERN_THR_SIGNAL;
    p.wamp_thr = 0.1 * rms[0];
    struct kern_feature_set f2;
    cr_assert_eq(kern_feature_set_parse(&f2, "WAMP", &p), MB_OK);
    cr_assert_eq(kern_features_extract(b, x, T, C, &w, &f2), MB_OK);
    for (size_t i = 0; i < w.n; i++)
        cr_assert_eq(a[i * 4 + 0], b[i * 2 + 0], "channel 0 of window %zu: %g vs %g (thr %g %g)", i,
                     a[i * 4], b[i * 2], fs.thr[2 * C], p.wamp_thr);
    kern_feature_set_free(&f2);
    /* gain invariance: scaling the signal and its training rms changes nothing */
    float *y = malloc(T * C * sizeof *y);
    for (size_t i = 0; i < T * C; i++) y[i] = x[i] * 1000.0f;
    double rms2[2];
    kern_channel_rms(rms2, y, T, C, &w);
    cr_assert_eq(kern_feature_set_thresholds(&fs, C, 0, rms2), MB_OK);
    cr_assert_eq(kern_features_extract(b, y, T, C, &w, &fs), MB_OK);
    cr_assert_eq(memcmp(a, b, w.n * 4 * sizeof *a), 0);
    /* volts: 0.1 V with 0.001 V per unit = 100 units */
    p = fs.p;
    p.thr_unit = KERN_THR_VOLTS;
    cr_assert_eq(kern_feature_set_parse(&f2, "WAMP", &p), MB_OK);
    cr_assert_eq(kern_feature_set_thresholds(&f2, C, 0, NULL), MB_EINVAL);
    cr_assert_eq(kern_feature_set_thresholds(&f2, C, 0.001, NULL), MB_OK);
    cr_assert_float_eq(f2.thr[2 * C + 1], 100.0, 1e-9);
    kern_feature_set_free(&f2);
    kern_feature_set_free(&fs);
    kern_windows_free(&w);
    free(x);
    free(y);
}

Test(features, non_finite_values_are_reported_with_feature_channel_and_window)
{
    mb_log_set_level(MB_LOG_QUIET);
    const size_t T = 100, C = 3;
    float *x = signal(T, C, 3);
    for (size_t t = 50; t < T; t++) x[t * C + 1] = 0;   /* channel 1 dies half way */
    struct kern_window_spec sp = { .win_ms = 25, .stride_ms = 25 };
    struct kern_windows w;
    cr_assert_eq(kern_windows_make(&w, &sp, 1000, NULL, NULL, T), MB_OK);
    struct kern_feature_set fs;
    cr_assert_eq(kern_feature_set_parse(&fs, "MAV,SKEW", NULL), MB_OK);
    float out[4 * 6];
    cr_assert_eq(kern_features_extract(out, x, T, C, &w, &fs), MB_ENUM);
    cr_assert(strstr(mb_last_error(), "SKEW_ch1 of window 2"), "%s", mb_last_error());
    cr_assert_eq(out[2 * 6 + 1], 0.0f, "the other values are written");
    cr_assert_eq(kern_features_extract_ref(out, x, T, C, &w, &fs), MB_ENUM);
    kern_feature_set_free(&fs);
    kern_windows_free(&w);
    free(x);
}

Test(features, avx2_sse_and_scalar_lanes_give_identical_bytes)
{
    /* 13 channels: 0..7 take the 8-wide path where the CPU has AVX2,
     * 8..11 the 4-wide one, 12 the scalar one. Channels 8..11 and 12
     * repeat channels 0..3 and 0, so their features must be equal bytes. */
    const size_t T = 1000, C = 13;
    float *base = signal(T, 4, 77);
    float *x = malloc(T * C * sizeof *x);
    struct mb_rng r;
    mb_rng_seed(&r, 78, 0);
    for (size_t t = 0; t < T; t++)
        for (size_t c = 0; c < C; c++)
            x[t * C + c] = c < 4 ? base[t * 4 + c] : c < 8 ? (float)mb_rng_normal(&r)
                         : c < 12 ? base[t * 4 + c - 8] : base[t * 4];
    struct kern_feat_params p;
    kern_feat_params_default(&p);
    p.thr_unit = KERN_THR_SIGNAL;
    p.zc_thr = 0.05; p.ssc_thr = 0.05; p.wamp_thr = 0.2;
    struct kern_feature_set fs;
    cr_assert_eq(kern_feature_set_parse(&fs, "MAV,ZC,SSC,WL,RMS,WAMP,MPK,DASDV", &p), MB_OK);
    struct kern_window_spec sp = { .win_ms = 150, .stride_ms = 100 };
    struct kern_windows w;
    cr_assert_eq(kern_windows_make(&w, &sp, 1000, NULL, NULL, T), MB_OK);
    size_t F = kern_feature_set_width(&fs, C);
    float *out = malloc(w.n * F * sizeof *out);
    cr_assert_eq(kern_features_extract(out, x, T, C, &w, &fs), MB_OK);
    for (size_t i = 0; i < w.n; i++)
        for (size_t f = 0; f < fs.n; f++) {
            const float *o = out + i * F + f * C;
            for (size_t c = 0; c < 4; c++)
                cr_assert_eq(memcmp(&o[c], &o[8 + c], sizeof *o), 0, "%s ch%zu vs ch%zu", fs.feat[f]->name, c, 8 + c);
            cr_assert_eq(memcmp(&o[0], &o[12], sizeof *o), 0, "%s ch0 vs ch12", fs.feat[f]->name);
        }
    free(out); free(x); free(base);
    kern_windows_free(&w);
    kern_feature_set_free(&fs);
}
