/* tests/test_filter.c - kernels/filter: designs and outputs against scipy
 * (tests/ref/gen_filter.py), optimised against reference, chunked against
 * whole, error paths. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "kernels/filter.h"
#include "tests/ref/filter_golden.h"

static int design(struct kern_sos *sos, const struct fg_design *d)
{
    if (d->kind == 1)
        return kern_notch(sos, d->f1, d->q, d->fs);
    return kern_butter(sos, d->order, (enum kern_band)d->type, d->f1, d->f2, d->fs);
}

/* |got - want| within rel * max(|want|, rms(want)): filtered values cross
 * zero, so the tolerance is relative to the output's level. */
static void check_signal(const float *got, const float *want, size_t n, double rel, const char *what, int idx)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (double)want[i] * want[i];
    double rms = sqrt(ss / n);
    for (size_t i = 0; i < n; i++) {
        double tol = rel * fmax(fabs(want[i]), rms) + 1e-30;
        cr_assert(fabs((double)got[i] - want[i]) <= tol, "%s of design %d: sample %zu got %.9g want %.9g",
                  what, idx, i, got[i], want[i]);
    }
}

Test(filter, butterworth_and_notch_coefficients_equal_scipy)
{
    for (int i = 0; i < FG_N; i++) {
        const struct fg_design *d = &fg_designs[i];
        struct kern_sos sos;
        cr_assert_eq(design(&sos, d), MB_OK, "design %d: %s", i, mb_last_error());
        cr_assert_eq((int)sos.n, d->n_sos, "design %d: %zu sections, scipy has %d", i, sos.n, d->n_sos);
        for (int s = 0; s < d->n_sos; s++)
            for (int k = 0; k < 6; k++) {
                double want = d->sos[s * 6 + k], got = sos.c[s][k];
                cr_assert(fabs(got - want) <= 1e-9 * fmax(1.0, fabs(want)),
                          "design %d section %d coef %d: got %.17g want %.17g", i, s, k, got, want);
            }
    }
}

Test(filter, causal_outputs_equal_scipy_sosfilt)
{
    float y[FG_T * FG_C];
    for (int i = 0; i < FG_N; i++) {
        struct kern_sos sos;
        cr_assert_eq(design(&sos, &fg_designs[i]), MB_OK);
        struct kern_filter f;
        cr_assert_eq(kern_filter_init(&f, &sos, FG_C), MB_OK);
        kern_filter_run(&f, y, fg_x, FG_T);
        check_signal(y, fg_designs[i].y, FG_T * FG_C, 1e-5, "sosfilt", i);
        kern_filter_reset(&f, fg_x);
        kern_filter_run(&f, y, fg_x, FG_T);
        check_signal(y, fg_designs[i].yss, FG_T * FG_C, 1e-5, "sosfilt from sosfilt_zi", i);
        kern_filter_free(&f);
    }
}

Test(filter, zero_phase_equals_scipy_sosfiltfilt)
{
    float y[FG_T * FG_C];
    for (int i = 0; i < FG_N; i++) {
        struct kern_sos sos;
        cr_assert_eq(design(&sos, &fg_designs[i]), MB_OK);
        cr_assert_eq(kern_filtfilt(y, fg_x, FG_T, FG_C, &sos), MB_OK);
        check_signal(y, fg_designs[i].yff, FG_T * FG_C, 1e-5, "sosfiltfilt", i);
    }
    /* in place */
    struct kern_sos sos;
    cr_assert_eq(design(&sos, &fg_designs[2]), MB_OK);
    memcpy(y, fg_x, sizeof y);
    cr_assert_eq(kern_filtfilt(y, y, FG_T, FG_C, &sos), MB_OK);
    check_signal(y, fg_designs[2].yff, FG_T * FG_C, 1e-5, "in-place sosfiltfilt", 2);
}

Test(filter, responses_have_the_textbook_gains)
{
    struct kern_sos sos;
    cr_assert_eq(kern_butter(&sos, 4, KERN_LOWPASS, 100, 0, 1000), MB_OK);
    cr_assert_float_eq(kern_sos_gain(&sos, 100, 1000), M_SQRT1_2, 1e-9, "-3 dB at the cutoff");
    cr_assert_float_eq(kern_sos_gain(&sos, 0, 1000), 1.0, 1e-9);
    cr_assert_eq(kern_butter(&sos, 4, KERN_BANDPASS, 20, 450, 2000), MB_OK);
    cr_assert_float_eq(kern_sos_gain(&sos, 20, 2000), M_SQRT1_2, 1e-9);
    cr_assert_float_eq(kern_sos_gain(&sos, 450, 2000), M_SQRT1_2, 1e-9);
    cr_assert_eq(kern_notch(&sos, 60, 20, 1000), MB_OK);
    cr_assert_lt(kern_sos_gain(&sos, 60, 1000), 1e-9);
    cr_assert_float_eq(kern_sos_gain(&sos, 61.5, 1000), M_SQRT1_2, 1e-2, "q = f0 / bandwidth");
    struct kern_sos bp, n60;
    cr_assert_eq(kern_butter(&bp, 4, KERN_BANDPASS, 20, 450, 1000), MB_OK);
    cr_assert_eq(kern_notch(&n60, 60, 20, 1000), MB_OK);
    cr_assert_eq(kern_sos_cascade(&bp, &n60), MB_OK);
    cr_assert_eq(bp.n, 5);
    cr_assert_lt(kern_sos_gain(&bp, 60, 1000), 1e-9);
}

static float *noise(size_t n, uint64_t seed)
{
    struct mb_rng r;
    mb_rng_seed(&r, seed, 0);
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(mb_rng_normal(&r) + 0.25);
    return x;
}

Test(filter, optimised_equals_reference_on_odd_shapes)
{
    const size_t Cs[] = { 1, 3, 5, 64, 67 };
    const size_t Ts[] = { 1, 3, 17, 257 };
    struct kern_sos sos;
    cr_assert_eq(kern_butter(&sos, 5, KERN_BANDPASS, 20, 450, 2000), MB_OK);
    for (size_t a = 0; a < sizeof Cs / sizeof *Cs; a++)
        for (size_t b = 0; b < sizeof Ts / sizeof *Ts; b++) {
            size_t C = Cs[a], T = Ts[b];
            float *x = noise(T * C, 7 + a * 10 + b);
            float *y1 = malloc(T * C * sizeof *y1), *y2 = malloc(T * C * sizeof *y2);
            struct kern_filter f1, f2;
            cr_assert_eq(kern_filter_init(&f1, &sos, C), MB_OK);
            cr_assert_eq(kern_filter_init(&f2, &sos, C), MB_OK);
            kern_filter_reset(&f1, x);
            kern_filter_reset(&f2, x);
            kern_filter_run(&f1, y1, x, T);
            kern_filter_run_ref(&f2, y2, x, T);
            cr_assert_eq(memcmp(y1, y2, T * C * sizeof *y1), 0, "C=%zu T=%zu", C, T);
            cr_assert_eq(memcmp(f1.z, f2.z, sos.n * 2 * C * sizeof *f1.z), 0, "final state C=%zu T=%zu", C, T);
            kern_filter_free(&f1);
            kern_filter_free(&f2);
            free(x); free(y1); free(y2);
        }
}

Test(filter, chunked_stream_equals_whole_recording_bit_for_bit)
{
    const size_t T = 1000, C = 7;
    float *x = noise(T * C, 99);
    float *whole = malloc(T * C * sizeof *whole), *part = malloc(T * C * sizeof *part);
    struct kern_sos sos, n50;
    cr_assert_eq(kern_butter(&sos, 4, KERN_BANDPASS, 20, 450, 2000), MB_OK);
    cr_assert_eq(kern_notch(&n50, 50, 30, 2000), MB_OK);
    cr_assert_eq(kern_sos_cascade(&sos, &n50), MB_OK);
    struct kern_filter f;
    cr_assert_eq(kern_filter_init(&f, &sos, C), MB_OK);
    kern_filter_run(&f, whole, x, T);
    kern_filter_reset(&f, NULL);
    const size_t chunks[] = { 1, 2, 3, 250, 7, 0, 64, 173 };
    size_t t = 0, k = 0;
    while (t < T) {
        size_t n = chunks[k++ % (sizeof chunks / sizeof *chunks)];
        if (n > T - t) n = T - t;
        if (k % 2)
            kern_filter_run(&f, part + t * C, x + t * C, n);
        else
            kern_filter_run_ref(&f, part + t * C, x + t * C, n);
        t += n;
    }
    cr_assert_eq(memcmp(whole, part, T * C * sizeof *whole), 0);
    /* in place gives the same bytes too */
    kern_filter_reset(&f, NULL);
    kern_filter_run(&f, x, x, T);
    cr_assert_eq(memcmp(whole, x, T * C * sizeof *whole), 0);
    kern_filter_free(&f);
    free(x); free(whole); free(part);
}

Test(filter, zero_phase_stays_inside_the_segment_it_is_given)
{
    /* Filtering segment A alone must not depend on what follows it. */
    const size_t T = 400, C = 2, cut = 250;
    float *x = noise(T * C, 5), *x2 = noise(T * C, 6);
    memcpy(x2, x, cut * C * sizeof *x);  /* same first segment, different second */
    float *a = malloc(cut * C * sizeof *a), *b = malloc(cut * C * sizeof *b);
    struct kern_sos sos;
    cr_assert_eq(kern_butter(&sos, 4, KERN_LOWPASS, 50, 0, 1000), MB_OK);
    cr_assert_eq(kern_filtfilt(a, x, cut, C, &sos), MB_OK);
    cr_assert_eq(kern_filtfilt(b, x2, cut, C, &sos), MB_OK);
    cr_assert_eq(memcmp(a, b, cut * C * sizeof *a), 0);
    /* segments shorter than scipy's pad are still filtered (pad cut to n - 1) */
    cr_assert_eq(kern_filtfilt(a, x, 5, C, &sos), MB_OK);
    cr_assert_eq(kern_filtfilt(a, x, 1, C, &sos), MB_OK);
    for (size_t i = 0; i < 5 * C; i++)
        cr_assert(isfinite(a[i]));
    free(x); free(x2); free(a); free(b);
}

Test(filter, bad_designs_are_rejected_with_a_message)
{
    mb_log_set_level(MB_LOG_QUIET);
    struct kern_sos sos;
    cr_assert_eq(kern_butter(&sos, 0, KERN_LOWPASS, 10, 0, 100), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "order 0"), "%s", mb_last_error());
    cr_assert_eq(kern_butter(&sos, 4, KERN_LOWPASS, 60, 0, 100), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "60"), "%s", mb_last_error());
    cr_assert_eq(kern_butter(&sos, 4, KERN_BANDPASS, 40, 20, 100), MB_EINVAL);
    cr_assert_eq(kern_butter(&sos, 33, KERN_BANDPASS, 10, 20, 100), MB_EINVAL);
    cr_assert_eq(kern_notch(&sos, 60, 0, 1000), MB_EINVAL);
    cr_assert_eq(kern_notch(&sos, 600, 30, 1000), MB_EINVAL);
    struct kern_sos big;
    cr_assert_eq(kern_butter(&big, 32, KERN_BANDPASS, 10, 20, 100), MB_OK);
    cr_assert_eq(kern_butter(&sos, 2, KERN_LOWPASS, 10, 0, 100), MB_OK);
    cr_assert_eq(kern_sos_cascade(&big, &sos), MB_EINVAL);
}
