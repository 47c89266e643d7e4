/* kernels/resample.c - rational polyphase resampling (see resample.h).
 *
 * Model: the input is upsampled by 'up' (zeros inserted), filtered at the
 * intermediate rate F = up * rate_in by a centred prototype h(m), and every
 * down-th sample kept. Output j is intermediate sample t = j * down; writing
 * t = q * up + p (phase p), it reads inputs k = q + 1 - half + i for taps
 * i = 0 .. taps_per_phase - 1, weighted by h(p + (q - k) * up). Both the
 * reference and the optimised kernel use the same [up x taps] table, so they
 * differ only in summation precision.
 *
 * Filter (docs/KERNELS.md): Kaiser-windowed sinc, support |m| < M with
 * M = RS_ZEROS * max(up, down) intermediate samples (RS_ZEROS samples of the
 * lower rate per side), cutoff RS_ROLLOFF * min(rate_in, rate_out) / 2,
 * Kaiser beta RS_BETA. Each phase is scaled to sum to exactly 1 (in double)
 * so a constant passes unchanged at every output, not only on average.
 */
#include "kernels/resample.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 24 lower-rate samples per side with a 0.88 roll-off put the whole band
 * above the new Nyquist frequency more than 80 dB down (the -80 dB edge is
 * at 0.496 * the lower rate) and keep the passband flat to 0.01 dB up to
 * 0.389 * the lower rate; beta 8.6 gives about -90 dB side lobes. With 16
 * samples per side the -60 dB edge sat above Nyquist (0.528). */
#define RS_ZEROS   24
#define RS_ROLLOFF 0.88
#define RS_BETA    8.6
#define RS_MAX_FACTOR 100000L

/* Outputs below this many multiply-adds run on one thread: the OpenMP
 * fork/join costs more than it saves. */
#define RS_PAR_WORK (1L << 16)

static long long gcd_ll(long long a, long long b)
{
    while (b) {
        long long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

int kern_resample_ratio(long *up, long *down, double rate_in, double rate_out)
{
    /* 1e12 mHz (1 GHz) bounds the rates so the milli-hertz integers and
     * their products stay far inside 64 bits. */
    if (!(rate_in > 0) || !(rate_out > 0) || !isfinite(rate_in) || !isfinite(rate_out) ||
        rate_in > 1e9 || rate_out > 1e9)
        return mb_error(MB_EINVAL, "cannot resample from %g Hz to %g Hz: rates must be positive "
                        "and finite (at most 1 GHz)", rate_in, rate_out);
    long long a = llround(rate_in * 1000.0), b = llround(rate_out * 1000.0);
    if (a <= 0 || b <= 0)
        return mb_error(MB_EINVAL, "cannot resample from %g Hz to %g Hz: rates are below 1 mHz",
                        rate_in, rate_out);
    long long g = gcd_ll(a, b);
    a /= g;
    b /= g;
    if (a > RS_MAX_FACTOR || b > RS_MAX_FACTOR)
        return mb_error(MB_EINVAL, "cannot resample from %g Hz to %g Hz: ratio %lld/%lld has a "
                        "factor above %ld", rate_in, rate_out, b, a, RS_MAX_FACTOR);
    *up = (long)b;
    *down = (long)a;
    return MB_OK;
}

/* Modified Bessel function of the first kind, order 0, by its power series
 * sum ((x/2)^k / k!)^2; for |x| <= 20 the terms fall below 1e-17 of the sum
 * long before k = 100. */
static double bessel_i0(double x)
{
    double term = 1.0, sum = 1.0, y = 0.25 * x * x;
    for (int k = 1; k < 200; k++) {
        term *= y / ((double)k * (double)k);
        sum += term;
        if (term < 1e-17 * sum)
            break;
    }
    return sum;
}

int kern_resampler_init(struct kern_resampler *r, double rate_in, double rate_out)
{
    memset(r, 0, sizeof *r);
    long up, down;
    int rc = kern_resample_ratio(&up, &down, rate_in, rate_out);
    if (rc != MB_OK)
        return rc;
    r->up = up;
    r->down = down;
    if (up == 1 && down == 1) {
        /* Identity: one tap of 1 reading input q (half = 1, see the model). */
        r->taps_per_phase = 1;
        r->half = 1;
        r->h = malloc(sizeof *r->h);
        if (!r->h)
            return mb_error(MB_ENOMEM, "resampler from %g Hz to %g Hz: no memory for 1 tap",
                            rate_in, rate_out);
        r->h[0] = 1.0f;
        return MB_OK;
    }
    long long maxf = up > down ? up : down;
    long long M = RS_ZEROS * maxf;               /* support |m| < M */
    size_t half = (size_t)((M + up - 1) / up);   /* ceil(M / up) */
    size_t T = 2 * half;
    r->half = half;
    r->taps_per_phase = T;
    r->h = malloc((size_t)up * T * sizeof *r->h); /* [up x T] */
    double *row = malloc(T * sizeof *row);       /* [T] one phase, in double */
    if (!r->h || !row) {
        free(row);
        kern_resampler_free(r);
        return mb_error(MB_ENOMEM, "resampler from %g Hz to %g Hz: no memory for %ld x %zu taps",
                        rate_in, rate_out, up, T);
    }
    /* Cutoff in cycles per intermediate sample: RS_ROLLOFF * min(rate_in,
     * rate_out) / 2 / (up * rate_in) = RS_ROLLOFF / (2 * max(up, down)). */
    double fc2 = RS_ROLLOFF / (double)maxf;      /* 2 * cutoff */
    double i0b = bessel_i0(RS_BETA);
    for (long p = 0; p < up; p++) {
        double sum = 0;
        for (size_t i = 0; i < T; i++) {
            long long m = p + ((long long)half - 1 - (long long)i) * up;
            double v = 0;
            if (llabs(m) < M) {
                double x = fc2 * (double)m, u = (double)m / (double)M;
                double sinc = m == 0 ? 1.0 : sin(M_PI * x) / (M_PI * x);
                v = sinc * bessel_i0(RS_BETA * sqrt(1.0 - u * u)) / i0b;
            }
            row[i] = v;
            sum += v;
        }
        /* The gain (2 * cutoff * up) cancels in the per-phase scaling. */
        for (size_t i = 0; i < T; i++)
            r->h[(size_t)p * T + i] = (float)(row[i] / sum);
    }
    free(row);
    return MB_OK;
}

void kern_resampler_free(struct kern_resampler *r)
{
    if (!r)
        return;
    free(r->h);
    memset(r, 0, sizeof *r);
}

size_t kern_resample_length(const struct kern_resampler *r, size_t n_in)
{
    /* ceil(n_in * up / down) without forming n_in * up. */
    size_t up = (size_t)r->up, down = (size_t)r->down;
    size_t q = n_in / down, rem = n_in % down;
    return q * up + (rem * up + down - 1) / down;
}

/* First input read by output j (may be negative): q + 1 - half. */
static long long first_input(const struct kern_resampler *r, size_t j, size_t *phase)
{
    uint64_t t = (uint64_t)j * (uint64_t)r->down;
    uint64_t q = t / (uint64_t)r->up;
    if (phase)
        *phase = (size_t)(t % (uint64_t)r->up);
    return (long long)q + 1 - (long long)r->half;
}

static size_t clip(long long k, size_t n_in)
{
    return k < 0 ? 0 : (size_t)k > n_in ? n_in : (size_t)k;
}

void kern_resample_span(const struct kern_resampler *r, size_t j0, size_t n, size_t n_in,
                        size_t *i0, size_t *i1)
{
    if (n == 0) {
        *i0 = *i1 = clip(first_input(r, j0, NULL), n_in);
        return;
    }
    *i0 = clip(first_input(r, j0, NULL), n_in);
    *i1 = clip(first_input(r, j0 + n - 1, NULL) + (long long)r->taps_per_phase, n_in);
}

/* The slice must cover what the outputs read (programmer error otherwise). */
static void check_slice(const struct kern_resampler *r, size_t i0, size_t i1, size_t n_in,
                        size_t j0, size_t n)
{
    MB_ASSERT(r->h && r->up > 0 && r->down > 0);
    MB_ASSERT(i0 <= i1 && i1 <= n_in);
    if (n == 0)
        return;
    size_t s0, s1;
    kern_resample_span(r, j0, n, n_in, &s0, &s1);
    MB_ASSERT(s0 == s1 || (i0 <= s0 && s1 <= i1));
}

/* The identity, byte for byte (a filter sum would turn -0.0 into +0.0). */
static void copy_rows(float *out, const float *in, size_t i0, size_t n_in, size_t j0, size_t n,
                      size_t C)
{
    /* in is [(i1 - i0) x C], out is [n x C] */
    for (size_t jj = 0; jj < n; jj++) {
        size_t k = j0 + jj;
        if (k < n_in)
            memcpy(out + jj * C, in + (k - i0) * C, C * sizeof *out);
        else
            memset(out + jj * C, 0, C * sizeof *out);
    }
}

/* ------------------------------------------------------------------------ */

void kern_resample_f32_ref(float *out, const float *in, size_t i0, size_t i1, size_t n_in,
                           size_t j0, size_t n, size_t C, const struct kern_resampler *r)
{
    /* in is [(i1 - i0) x C], out is [n x C] */
    check_slice(r, i0, i1, n_in, j0, n);
    if (r->up == 1 && r->down == 1) {
        copy_rows(out, in, i0, n_in, j0, n, C);
        return;
    }
    size_t T = r->taps_per_phase;
    for (size_t jj = 0; jj < n; jj++) {
        size_t p;
        long long k0 = first_input(r, j0 + jj, &p);
        const float *hp = r->h + p * T;          /* [T] */
        for (size_t c = 0; c < C; c++) {
            double acc = 0;
            for (size_t i = 0; i < T; i++) {
                long long k = k0 + (long long)i;
                if (k < 0 || (size_t)k >= n_in)
                    continue;                    /* zero outside the recording */
                acc += (double)hp[i] * (double)in[((size_t)k - i0) * C + c];
            }
            out[jj * C + c] = (float)acc;
        }
    }
}

/* Accumulates taps [lo, hi) of one output into W channels starting at x
 * (row stride C). The fixed-size accumulator stays in registers and the
 * channel loop vectorises; every channel sums its taps in tap order, so the
 * result does not depend on W, the slice or the thread. */
#define RS_BLOCK(W)                                                            \
    static void block_##W(float *o, const float *hp, const float *x,          \
                          size_t lo, size_t hi, size_t C)                     \
    {                                                                          \
        float acc[W] = {0};                                                    \
        for (size_t i = lo; i < hi; i++) {                                     \
            float w = hp[i];                                                   \
            const float *xi = x + (i - lo) * C;                                \
            _Pragma("GCC unroll 16")                                           \
            for (size_t c = 0; c < (W); c++)                                   \
                acc[c] += w * xi[c];                                           \
        }                                                                      \
        for (size_t c = 0; c < (W); c++)                                       \
            o[c] = acc[c];                                                     \
    }
RS_BLOCK(16)
RS_BLOCK(8)
RS_BLOCK(4)
RS_BLOCK(1)

/* Two outputs that read all T taps, W channels each: twice the independent
 * sums of block_W, so the adds no longer wait on each other; per output the
 * arithmetic is block_W's. */
#define RS_PAIR(W)                                                             \
    static void pair_##W(float *o0, float *o1, const float *h0, const float *h1, \
                         const float *x0, const float *x1, size_t T, size_t C) \
    {                                                                          \
        float a[W] = {0}, b[W] = {0};                                          \
        for (size_t i = 0; i < T; i++) {                                       \
            float w0 = h0[i], w1 = h1[i];                                      \
            const float *y0 = x0 + i * C, *y1 = x1 + i * C;                    \
            _Pragma("GCC unroll 16")                                           \
            for (size_t c = 0; c < (W); c++) {                                 \
                a[c] += w0 * y0[c];                                            \
                b[c] += w1 * y1[c];                                            \
            }                                                                  \
        }                                                                      \
        for (size_t c = 0; c < (W); c++) {                                     \
            o0[c] = a[c];                                                      \
            o1[c] = b[c];                                                      \
        }                                                                      \
    }
RS_PAIR(16)
RS_PAIR(8)
RS_PAIR(4)

/* Four outputs, one channel each: four independent sums hide the add
 * latency a single scalar chain is bound by (the channel tail when C is not a
 * multiple of 4, and C = 1..3). Same per-output arithmetic as block_1. */
static void quad_1(float *const o[4], const float *const hp[4], const float *const x[4],
                   size_t T, size_t C)
{
    float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (size_t i = 0; i < T; i++) {
        a0 += hp[0][i] * x[0][i * C];
        a1 += hp[1][i] * x[1][i * C];
        a2 += hp[2][i] * x[2][i * C];
        a3 += hp[3][i] * x[3][i * C];
    }
    *o[0] = a0;
    *o[1] = a1;
    *o[2] = a2;
    *o[3] = a3;
}

/* All C channels of one output from taps [lo, hi): blocks of 16, 8, 4, then
 * the rest one by one. */
static void channels(float *o, const float *hp, const float *x, size_t lo, size_t hi, size_t C)
{
    size_t c = 0;
    for (; c + 16 <= C; c += 16)
        block_16(o + c, hp, x + c, lo, hi, C);
    for (; c + 8 <= C; c += 8)
        block_8(o + c, hp, x + c, lo, hi, C);
    for (; c + 4 <= C; c += 4)
        block_4(o + c, hp, x + c, lo, hi, C);
    for (; c < C; c++)
        block_1(o + c, hp, x + c, lo, hi, C);
}

/* Outputs per work item: enough for quad_1. */
#define RS_GROUP 4

/* Outputs [jj, jj + RS_GROUP) (clipped to n) of kern_resample_f32. */
static void group(float *out, const float *in, size_t i0, size_t n_in, size_t j0, size_t jj,
                  size_t n, size_t C, const struct kern_resampler *r)
{
    size_t T = r->taps_per_phase, m = n - jj < RS_GROUP ? n - jj : RS_GROUP;
    float *o[RS_GROUP];
    const float *hp[RS_GROUP], *x[RS_GROUP];
    size_t lo[RS_GROUP], hi[RS_GROUP];
    int full = m == RS_GROUP; /* every output reads all its taps */
    for (size_t g = 0; g < m; g++) {
        size_t p;
        long long k0 = first_input(r, j0 + jj + g, &p);
        /* taps [lo, hi) read inputs inside [0, n_in); the others read zeros */
        long long a = k0 < 0 ? -k0 : 0, b = (long long)n_in - k0;
        if (b > (long long)T)
            b = (long long)T;
        if (b < a)
            b = a;
        lo[g] = (size_t)a;
        hi[g] = (size_t)b;
        full &= a == 0 && b == (long long)T;
        o[g] = out + (jj + g) * C;
        hp[g] = r->h + p * T;
        x[g] = b > a ? in + ((size_t)(k0 + a) - i0) * C : in; /* first input read */
    }
    if (full) {
        for (size_t g = 0; g < RS_GROUP; g += 2) {
            size_t c = 0;
            for (; c + 16 <= C; c += 16)
                pair_16(o[g] + c, o[g + 1] + c, hp[g], hp[g + 1], x[g] + c, x[g + 1] + c, T, C);
            for (; c + 8 <= C; c += 8)
                pair_8(o[g] + c, o[g + 1] + c, hp[g], hp[g + 1], x[g] + c, x[g + 1] + c, T, C);
            for (; c + 4 <= C; c += 4)
                pair_4(o[g] + c, o[g + 1] + c, hp[g], hp[g + 1], x[g] + c, x[g + 1] + c, T, C);
        }
    } else {
        for (size_t g = 0; g < m; g++) {
            if (hi[g] == lo[g])
                memset(o[g], 0, C * sizeof *o[g]);
            else
                channels(o[g], hp[g], x[g], lo[g], hi[g], C);
        }
    }
    for (size_t c = C - C % 4; full && c < C; c++) {
        float *oc[RS_GROUP];
        const float *xc[RS_GROUP];
        for (size_t g = 0; g < RS_GROUP; g++) {
            oc[g] = o[g] + c;
            xc[g] = x[g] + c;
        }
        quad_1(oc, hp, xc, T, C);
    }
}

void kern_resample_f32(float *out, const float *in, size_t i0, size_t i1, size_t n_in,
                       size_t j0, size_t n, size_t C, const struct kern_resampler *r)
{
    /* in is [(i1 - i0) x C], out is [n x C] */
    check_slice(r, i0, i1, n_in, j0, n);
    if (r->up == 1 && r->down == 1) {
        copy_rows(out, in, i0, n_in, j0, n, C);
        return;
    }
    long work = (long)(n * C * r->taps_per_phase);
    /* Each output is computed whole by one thread with arithmetic that
     * depends only on the output index, so the bytes do not depend on the
     * thread count, the schedule or where the window starts. Dynamic chunks
     * keep both cores busy when another process holds one of them (a static
     * split then waited for the descheduled half, at 0.25x one thread). */
#pragma omp parallel for schedule(dynamic, 8) if (work > RS_PAR_WORK)
    for (size_t jj = 0; jj < n; jj += RS_GROUP)
        group(out, in, i0, n_in, j0, jj, n, C, r);
}

size_t kern_resample_reach(const struct kern_resampler *r)
{
    unsigned long long num = (unsigned long long)r->half * (unsigned long long)r->up;
    return (size_t)((num + (unsigned long long)r->down - 1) / (unsigned long long)r->down);
}
