/* kernels/resample.h - rational polyphase resampling (anti-aliased), so a
 * protocol can view every corpus at one rate: DB1's 100 Hz, Myo's 200 Hz,
 * emg2pose's 2 kHz, Kaufmann's 2048 Hz, DB8's 1111 Hz.
 *
 * The ratio up/down is computed exactly from the two rates (as integers in
 * milli-hertz reduced by their gcd). The filter is a linear-phase
 * Kaiser-windowed sinc whose delay is compensated, so output sample j sits
 * at time j / rate_out, the same instant as input sample j*down/up. Samples
 * outside the recording count as zero. Because the output at j depends only
 * on a fixed span of inputs, a window resampled from a slice (with the
 * margins kern_resample_span asks for) equals the same span of the whole
 * resampled recording, bit for bit.
 *
 * kern_resample_f32_ref is the plain reference; kern_resample_f32 is the
 * optimised variant, tested against it.
 */
#ifndef MB_KERNELS_RESAMPLE_H
#define MB_KERNELS_RESAMPLE_H

#include <stddef.h>

#include "core/err.h"

struct kern_resampler {
    long up, down;          /* rate_out / rate_in = up / down, reduced */
    size_t taps_per_phase;  /* filter length / up */
    size_t half;            /* filter half-length in input samples (delay) */
    float *h;               /* [up x taps_per_phase] polyphase coefficients */
};
/* Output j is intermediate sample j * down = q * up + p: it reads inputs
 * k = q + 1 - half + i, i < taps_per_phase, with weights h[p * taps + i].
 * Each phase sums to 1, so a constant passes unchanged away from the ends.
 * Filter design and constants: kernels/resample.c and docs/KERNELS.md. */

/* up/down with rate_out / rate_in = up / down exactly (rates to 1 mHz). */
int kern_resample_ratio(long *up, long *down, double rate_in, double rate_out) MB_MUST_CHECK;

/* Designs the filter for the ratio of the two rates. Free with kern_resampler_free. */
int kern_resampler_init(struct kern_resampler *r, double rate_in, double rate_out) MB_MUST_CHECK;
void kern_resampler_free(struct kern_resampler *r);

/* Output length for n_in input samples: ceil(n_in * up / down). */
size_t kern_resample_length(const struct kern_resampler *r, size_t n_in);

/* Reach of the filter in output samples: output j depends only on input
 * samples at instants (in output samples) within (j - reach, j + reach],
 * reach = ceil(half * up / down) (e.g. 2 kHz -> 200 Hz: 24, 120 ms). So
 * output windows [a, a + W) and [b, b + W) of one recording depend on
 * disjoint inputs only if they are at least W + reach apart. */
size_t kern_resample_reach(const struct kern_resampler *r);

/* Input samples [*i0, *i1) that output samples [j0, j0 + n) depend on,
 * clipped to [0, n_in). */
void kern_resample_span(const struct kern_resampler *r, size_t j0, size_t n, size_t n_in,
                        size_t *i0, size_t *i1);

/* Computes output samples [j0, j0 + n). 'in' holds input samples [i0, i1)
 * of a recording of n_in samples, as returned by kern_resample_span (or a
 * wider span), row-major [(i1 - i0) x C]; out is [n x C]. */
void kern_resample_f32(float *out, const float *in, size_t i0, size_t i1, size_t n_in,
                       size_t j0, size_t n, size_t C, const struct kern_resampler *r);
void kern_resample_f32_ref(float *out, const float *in, size_t i0, size_t i1, size_t n_in,
                           size_t j0, size_t n, size_t C, const struct kern_resampler *r);

#endif
