/* tests/test_resample.c - kernels/resample: exact ratios, filter quality,
 * optimised vs reference, thread-count and slice invariance, golden values
 * from tests/ref/gen_resample.py. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "kernels/resample.h"
#include "tests/ref/resample_golden.h"

/* Resamples a whole recording [n_in x C] into a malloc'ed [len x C]. */
static float *resample_all(size_t *len, const float *in, size_t n_in, size_t C,
                           const struct kern_resampler *r, int ref)
{
    *len = kern_resample_length(r, n_in);
    float *out = malloc((*len ? *len : 1) * C * sizeof *out);
    cr_assert_not_null(out);
    if (ref)
        kern_resample_f32_ref(out, in, 0, n_in, n_in, 0, *len, C, r);
    else
        kern_resample_f32(out, in, 0, n_in, n_in, 0, *len, C, r);
    return out;
}

static float *random_signal(size_t n, size_t C, uint64_t seed)
{
    float *x = malloc((n ? n : 1) * C * sizeof *x); /* [n x C] */
    cr_assert_not_null(x);
    struct mb_rng g;
    mb_rng_seed(&g, seed, 0);
    for (size_t i = 0; i < n * C; i++)
        x[i] = (float)mb_rng_normal(&g);
    return x;
}

static void init_ok(struct kern_resampler *r, double rin, double rout)
{
    int rc = kern_resampler_init(r, rin, rout);
    cr_assert_eq(rc, MB_OK, "init %g -> %g: %s", rin, rout, mb_last_error());
}

/* Outputs whose whole filter span lies inside the recording: [*a, *b). */
static void interior(size_t *a, size_t *b, const struct kern_resampler *r, size_t n_in)
{
    size_t len = kern_resample_length(r, n_in);
    *a = 0;
    *b = 0;
    for (size_t j = 0; j < len; j++) {
        /* first input read: floor(j * down / up) + 1 - half */
        long long k0 = (long long)((unsigned long long)j * (unsigned long long)r->down
                                   / (unsigned long long)r->up) + 1 - (long long)r->half;
        int inside = k0 >= 0 && k0 + (long long)r->taps_per_phase <= (long long)n_in;
        if (inside && *b == 0)
            *a = j;
        if (inside)
            *b = j + 1;
    }
    cr_assert_lt(*a, *b, "no interior outputs for n_in %zu", n_in);
}

static const double pairs[][2] = {
    { 2000, 200 }, { 200, 2000 }, { 2048, 2000 }, { 2000, 2048 }, { 1111, 2000 },
    { 2000, 1111 }, { 100, 2000 }, { 200, 2048 }, { 1000, 200 }, { 44100, 48000 },
};
#define NPAIRS (sizeof pairs / sizeof pairs[0])

/* ------------------------------------------------------------------------ */

Test(resample, ratio_is_exact_and_reduced)
{
    static const struct { double in, out; long up, down; } t[] = {
        { 100, 2000, 20, 1 }, { 2048, 2000, 125, 128 }, { 1111, 2000, 2000, 1111 },
        { 200, 2048, 256, 25 }, { 2000, 200, 1, 10 }, { 1000, 1000, 1, 1 },
        { 44100, 48000, 160, 147 }, { 2000, 1111.5, 2223, 4000 }, { 0.5, 1000, 2000, 1 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        long up = 0, down = 0;
        int rc = kern_resample_ratio(&up, &down, t[i].in, t[i].out);
        cr_assert_eq(rc, MB_OK, "%g -> %g", t[i].in, t[i].out);
        cr_assert_eq(up, t[i].up, "%g -> %g: up %ld", t[i].in, t[i].out, up);
        cr_assert_eq(down, t[i].down, "%g -> %g: down %ld", t[i].in, t[i].out, down);
    }
}

Test(resample, absurd_or_invalid_rates_are_rejected_with_the_rates_named)
{
    mb_log_set_level(MB_LOG_QUIET);
    static const double bad[][2] = {
        { 0, 2000 }, { 2000, -1 }, { NAN, 200 }, { 200, INFINITY }, { 0.0001, 200 },
        { 1, 100001 }, { 100001, 1 }, { 99999.999, 100000 }, { 2e9, 200 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long up = 0, down = 0;
        cr_assert_eq(kern_resample_ratio(&up, &down, bad[i][0], bad[i][1]), MB_EINVAL,
                     "%g -> %g accepted", bad[i][0], bad[i][1]);
        char want[64];
        snprintf(want, sizeof want, "from %g Hz to %g Hz", bad[i][0], bad[i][1]);
        cr_assert_not_null(strstr(mb_last_error(), want), "message '%s'", mb_last_error());
        struct kern_resampler r;
        cr_assert_eq(kern_resampler_init(&r, bad[i][0], bad[i][1]), MB_EINVAL);
        cr_assert_null(r.h);
        kern_resampler_free(&r);
    }
}

Test(resample, length_is_ceiling_of_n_times_ratio)
{
    struct kern_resampler r;
    init_ok(&r, 2048, 2000);
    cr_assert_eq(kern_resample_length(&r, 0), 0);
    cr_assert_eq(kern_resample_length(&r, 1), 1);
    cr_assert_eq(kern_resample_length(&r, 128), 125);
    cr_assert_eq(kern_resample_length(&r, 129), 126);
    cr_assert_eq(kern_resample_length(&r, 1000000007), (size_t)((1000000007ull * 125 + 127) / 128));
    kern_resampler_free(&r);
    init_ok(&r, 2000, 200);
    cr_assert_eq(kern_resample_length(&r, 9), 1);
    cr_assert_eq(kern_resample_length(&r, 10), 1);
    cr_assert_eq(kern_resample_length(&r, 11), 2);
    kern_resampler_free(&r);
}

Test(resample, same_rate_is_an_exact_copy)
{
    struct kern_resampler r;
    init_ok(&r, 1234.5, 1234.5);
    cr_assert_eq(r.up, 1);
    cr_assert_eq(r.down, 1);
    const size_t n = 50, C = 3;
    float *x = random_signal(n, C, 5);
    x[4] = -0.0f;
    x[7] = 1e-40f; /* subnormal */
    for (int ref = 0; ref < 2; ref++) {
        size_t len;
        float *y = resample_all(&len, x, n, C, &r, ref);
        cr_assert_eq(len, n);
        cr_assert_eq(memcmp(x, y, n * C * sizeof *x), 0, "ref=%d", ref);
        free(y);
    }
    free(x);
    kern_resampler_free(&r);
}

Test(resample, every_phase_sums_to_one)
{
    for (size_t pi = 0; pi < NPAIRS; pi++) {
        struct kern_resampler r;
        init_ok(&r, pairs[pi][0], pairs[pi][1]);
        for (long p = 0; p < r.up; p++) {
            double s = 0;
            for (size_t i = 0; i < r.taps_per_phase; i++)
                s += r.h[(size_t)p * r.taps_per_phase + i];
            cr_assert_float_eq(s, 1.0, 1e-6, "%g -> %g phase %ld sums to %.9g",
                               pairs[pi][0], pairs[pi][1], p, s);
        }
        kern_resampler_free(&r);
    }
}

Test(resample, constant_passes_with_gain_one_away_from_the_ends)
{
    for (size_t pi = 0; pi < NPAIRS; pi++) {
        struct kern_resampler r;
        init_ok(&r, pairs[pi][0], pairs[pi][1]);
        const size_t n = 4 * r.taps_per_phase + 40, C = 2;
        float *x = malloc(n * C * sizeof *x); /* [n x C] */
        for (size_t i = 0; i < n; i++) {
            x[i * C] = 1.0f;
            x[i * C + 1] = -2048.0f; /* ADC-like offset */
        }
        size_t len, a, b;
        float *y = resample_all(&len, x, n, C, &r, 0);
        interior(&a, &b, &r, n);
        for (size_t j = a; j < b; j++) {
            cr_assert_float_eq(y[j * C], 1.0f, 2e-6, "%g -> %g out %zu: %.9g",
                               pairs[pi][0], pairs[pi][1], j, y[j * C]);
            cr_assert_float_eq(y[j * C + 1], -2048.0f, 2048 * 2e-6, "%g -> %g out %zu: %.9g",
                               pairs[pi][0], pairs[pi][1], j, y[j * C + 1]);
        }
        free(x);
        free(y);
        kern_resampler_free(&r);
    }
}

/* Peak error of a resampled tone at 'f' Hz against the tone at the output
 * instants, over interior outputs (amplitude 1). */
static double tone_error(const struct kern_resampler *r, double rin, double rout, double f,
                         size_t n, double *rms_out)
{
    float *x = malloc(n * sizeof *x); /* [n x 1] */
    for (size_t i = 0; i < n; i++)
        x[i] = (float)sin(2 * M_PI * f * (double)i / rin + 0.3);
    size_t len, a, b;
    float *y = resample_all(&len, x, n, 1, r, 0);
    interior(&a, &b, r, n);
    double err = 0, ss = 0;
    for (size_t j = a; j < b; j++) {
        double want = sin(2 * M_PI * f * (double)j / rout + 0.3);
        err = fmax(err, fabs(y[j] - want));
        ss += (double)y[j] * y[j];
    }
    if (rms_out)
        *rms_out = sqrt(ss / (double)(b - a));
    free(x);
    free(y);
    return err;
}

Test(resample, low_frequency_sine_passes_at_the_right_instants)
{
    for (size_t pi = 0; pi < NPAIRS; pi++) {
        double rin = pairs[pi][0], rout = pairs[pi][1];
        struct kern_resampler r;
        init_ok(&r, rin, rout);
        /* a tenth and a third of the lower rate: well inside the passband */
        double lo = fmin(rin, rout);
        double e1 = tone_error(&r, rin, rout, 0.1 * lo, 6 * r.taps_per_phase + 200, NULL);
        double e2 = tone_error(&r, rin, rout, 0.33 * lo, 6 * r.taps_per_phase + 200, NULL);
        /* measured: 3e-5 and 1.5e-5 (passband ripple), see docs/KERNELS.md */
        cr_assert_lt(e1, 1e-4, "%g -> %g: 0.1 x rate tone off by %g", rin, rout, e1);
        cr_assert_lt(e2, 1e-4, "%g -> %g: 0.33 x rate tone off by %g", rin, rout, e2);
        kern_resampler_free(&r);
    }
}

Test(resample, tones_above_the_new_nyquist_are_attenuated_by_more_than_80_db)
{
    static const double t[][3] = { /* rate_in, rate_out, tone (Hz) */
        { 2000, 200, 101 }, { 2000, 200, 130 }, { 2000, 200, 480 }, { 2000, 200, 999 },
        { 2048, 2000, 1005 }, { 2048, 2000, 1020 }, { 2000, 1111, 560 }, { 2000, 1111, 900 },
        { 1000, 200, 102 }, { 2000, 200, 100.5 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct kern_resampler r;
        init_ok(&r, t[i][0], t[i][1]);
        double rms;
        (void)tone_error(&r, t[i][0], t[i][1], t[i][2], 8 * r.taps_per_phase + 2000, &rms);
        double db = 20 * log10(rms / sqrt(0.5));
        /* the spec asks for 60 dB; the design gives 85 at the band edge */
        cr_assert_lt(db, -80, "%g -> %g: tone at %g Hz only %.1f dB down",
                     t[i][0], t[i][1], t[i][2], db);
        kern_resampler_free(&r);
    }
}

/* ------------------------------------------------------------------------ */

struct shape { size_t n_in, C; };
static const struct shape shapes[] = {
    { 1, 1 }, { 3, 1 }, { 3, 7 }, { 37, 7 }, { 101, 3 }, { 250, 16 }, { 13, 17 },
    { 77, 9 }, { 333, 1 }, { 61, 33 }, { 1500, 2 },
};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

static void compare_to_ref(double rin, double rout, size_t n_in, size_t C)
{
    struct kern_resampler r;
    init_ok(&r, rin, rout);
    float *x = random_signal(n_in, C, 100 + n_in * 31 + C);
    size_t len, len2;
    float *y = resample_all(&len, x, n_in, C, &r, 0);
    float *z = resample_all(&len2, x, n_in, C, &r, 1);
    cr_assert_eq(len, len2);
    double peak = 1;
    for (size_t i = 0; i < len * C; i++)
        peak = fmax(peak, fabs(z[i]));
    for (size_t i = 0; i < len * C; i++)
        cr_assert_leq(fabs(y[i] - z[i]), 1e-5 * peak, "%g -> %g [%zu x %zu] out %zu ch %zu: %.9g vs %.9g",
                      rin, rout, n_in, C, i / C, i % C, y[i], z[i]);
    free(x);
    free(y);
    free(z);
    kern_resampler_free(&r);
}

Test(resample, optimised_matches_reference_on_odd_shapes, .timeout = 60)
{
    for (size_t pi = 0; pi < NPAIRS; pi++)
        for (size_t si = 0; si < NSHAPES; si++)
            compare_to_ref(pairs[pi][0], pairs[pi][1], shapes[si].n_in, shapes[si].C);
    compare_to_ref(1, 1, 37, 7);
}

Test(resample, one_and_two_threads_give_identical_bytes, .timeout = 60)
{
    static const double t[][2] = { { 200, 2000 }, { 2000, 200 }, { 2048, 2000 }, { 1111, 2000 } };
    static const size_t Cs[] = { 16, 3 };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        for (size_t ci = 0; ci < 2; ci++) {
            struct kern_resampler r;
            init_ok(&r, t[i][0], t[i][1]);
            size_t n = 3000, C = Cs[ci], l1, l2;
            float *x = random_signal(n, C, 9);
            omp_set_num_threads(1);
            float *y1 = resample_all(&l1, x, n, C, &r, 0);
            omp_set_num_threads(2);
            float *y2 = resample_all(&l2, x, n, C, &r, 0);
            cr_assert_gt(l1 * C * r.taps_per_phase, 1 << 16, "too small to run in parallel");
            cr_assert_eq(memcmp(y1, y2, l1 * C * sizeof *y1), 0, "%g -> %g C=%zu", t[i][0], t[i][1], C);
            free(x);
            free(y1);
            free(y2);
            kern_resampler_free(&r);
        }
}

Test(resample, window_from_a_slice_equals_the_whole_signal_bit_for_bit)
{
    struct mb_rng g;
    mb_rng_seed(&g, 77, 0);
    for (size_t pi = 0; pi < NPAIRS; pi++) {
        struct kern_resampler r;
        init_ok(&r, pairs[pi][0], pairs[pi][1]);
        const size_t n_in = 3 * r.taps_per_phase + 97, C = 5;
        float *x = random_signal(n_in, C, 3 + pi);
        for (int ref = 0; ref < 2; ref++) {
            size_t len;
            float *whole = resample_all(&len, x, n_in, C, &r, ref);
            for (int trial = 0; trial < 12; trial++) {
                /* edges first, then random windows */
                size_t j0 = trial == 0 ? 0 : trial == 1 ? len - 1 : (size_t)mb_rng_below(&g, len);
                size_t n = trial == 0 ? 1 + len / 7 : 1 + (size_t)mb_rng_below(&g, len - j0);
                size_t i0, i1;
                kern_resample_span(&r, j0, n, n_in, &i0, &i1);
                cr_assert_leq(i0, i1);
                cr_assert_leq(i1, n_in);
                /* a fresh copy, so nothing outside [i0, i1) can be read */
                float *slice = malloc(((i1 - i0) ? i1 - i0 : 1) * C * sizeof *slice);
                memcpy(slice, x + i0 * C, (i1 - i0) * C * sizeof *slice);
                float *w = malloc(n * C * sizeof *w);
                if (ref)
                    kern_resample_f32_ref(w, slice, i0, i1, n_in, j0, n, C, &r);
                else
                    kern_resample_f32(w, slice, i0, i1, n_in, j0, n, C, &r);
                cr_assert_eq(memcmp(w, whole + j0 * C, n * C * sizeof *w), 0,
                             "%g -> %g ref=%d window [%zu, %zu) from inputs [%zu, %zu)",
                             pairs[pi][0], pairs[pi][1], ref, j0, j0 + n, i0, i1);
                free(slice);
                free(w);
            }
            free(whole);
        }
        free(x);
        kern_resampler_free(&r);
    }
}

Test(resample, span_is_clipped_and_covers_the_filter)
{
    struct kern_resampler r;
    init_ok(&r, 200, 2000);  /* up 10, half 24, 48 taps */
    size_t i0, i1;
    kern_resample_span(&r, 0, 1, 1000, &i0, &i1);
    cr_assert_eq(i0, 0);
    cr_assert_eq(i1, 25);     /* inputs up to q + half = 24 */
    kern_resample_span(&r, 5000, 10, 1000, &i0, &i1);
    cr_assert_eq(i0, 477);    /* q = 500: 500 + 1 - 24 */
    cr_assert_eq(i1, 525);    /* last q = 500: 500 + 24 + 1 */
    kern_resample_span(&r, 9990, 10, 1000, &i0, &i1);
    cr_assert_eq(i1, 1000);
    kern_resample_span(&r, 5000, 0, 1000, &i0, &i1);
    cr_assert_eq(i0, i1);
    kern_resampler_free(&r);
}

Test(resample, matches_golden_values_from_numpy)
{
    for (size_t ci = 0; ci < sizeof rg_cases / sizeof rg_cases[0]; ci++) {
        const struct rg_case *k = &rg_cases[ci];
        struct kern_resampler r;
        init_ok(&r, k->rate_in, k->rate_out);
        cr_assert_eq(r.up, k->up);
        cr_assert_eq(r.down, k->down);
        cr_assert_eq(r.half, k->half);
        cr_assert_eq(r.taps_per_phase, k->taps);
        for (int ref = 0; ref < 2; ref++) {
            size_t len;
            float *y = resample_all(&len, rg_input, k->n_in, RG_C, &r, ref);
            cr_assert_eq(len, k->n_out);
            for (size_t i = 0; i < len * RG_C; i++)
                cr_assert_float_eq(y[i], k->want[i], ref ? 1e-6 : 1e-5,
                                   "%g -> %g ref=%d out %zu ch %zu: %.9g, numpy %.9g",
                                   k->rate_in, k->rate_out, ref, i / RG_C, i % RG_C, y[i], k->want[i]);
            free(y);
        }
        kern_resampler_free(&r);
    }
}

Test(resample, outputs_past_the_end_read_nothing_and_are_zero)
{
    struct kern_resampler r;
    init_ok(&r, 2000, 1111);
    const size_t n_in = 10, C = 3, n = 9;
    size_t len = kern_resample_length(&r, n_in), i0, i1;
    kern_resample_span(&r, len + 100, n, n_in, &i0, &i1);
    cr_assert_eq(i0, n_in);
    cr_assert_eq(i1, n_in);
    float dummy = 0, y[9 * 3];
    for (int ref = 0; ref < 2; ref++) {
        memset(y, 0x7f, sizeof y);
        if (ref)
            kern_resample_f32_ref(y, &dummy, i0, i1, n_in, len + 100, n, C, &r);
        else
            kern_resample_f32(y, &dummy, i0, i1, n_in, len + 100, n, C, &r);
        for (size_t i = 0; i < n * C; i++)
            cr_assert_eq(y[i], 0.0f, "ref=%d value %zu", ref, i);
    }
    kern_resampler_free(&r);
}
