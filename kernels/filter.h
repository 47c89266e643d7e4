/* kernels/filter.h - IIR filtering of [T x C] float recordings: Butterworth
 * low/high/band-pass and band-stop designs and a notch, as second-order
 * sections, applied causally with state carried across chunks, or with zero
 * phase inside one segment.
 *
 * Designs are computed in double and match scipy.signal exactly in form:
 * kern_butter() = butter(order, Wn, btype, fs=fs, output='sos') (analogue
 * prototype, bilinear transform with pre-warping, scipy's 'nearest' pole-zero
 * pairing and section order, gain in the first section); kern_notch() =
 * iirnotch(f0, Q, fs) as one section. tests/ref/gen_filter.py holds scipy's
 * coefficients and filtered outputs the tests compare with.
 *
 * Causal filtering (the default everywhere) runs each section in transposed
 * direct form II, in double, with one state pair per section and channel
 * held in struct kern_filter. Feeding a recording in chunks gives the same
 * bytes as feeding it whole, so a streamed recording and a loaded one agree.
 *
 * Zero-phase filtering (kern_filtfilt) looks at the future, so it is only
 * offered on one segment the caller passes - never across a split boundary:
 * filtering a whole session forward-backward and then splitting it lets test
 * samples shape training samples (protocols.md section 6).
 */
#ifndef MB_KERNELS_FILTER_H
#define MB_KERNELS_FILTER_H

#include <stddef.h>

#include "core/err.h"

#define KERN_SOS_MAX 32  /* sections: band-pass/-stop order <= 32, low/high-pass order <= 64 */

enum kern_band { KERN_LOWPASS, KERN_HIGHPASS, KERN_BANDPASS, KERN_BANDSTOP };

/* A cascade of biquads, in scipy's sos layout: row s is
 * [b0 b1 b2 a0 a1 a2] with a0 = 1, H_s(z) = (b0 + b1 z^-1 + b2 z^-2) /
 * (1 + a1 z^-1 + a2 z^-2), and H = prod H_s. */
struct kern_sos {
    size_t n;                       /* sections in use */
    double c[KERN_SOS_MAX][6];      /* [n x 6] */
};

/* Butterworth design of 'order' at edge frequencies in Hz (f2 is used only
 * for band-pass/-stop, f1 < f2), sampling rate fs; edges strictly between 0
 * and fs/2. MB_EINVAL on a bad order or edge. */
int kern_butter(struct kern_sos *sos, int order, enum kern_band type, double f1, double f2,
                double fs) MB_MUST_CHECK;

/* Second-order IIR notch at f0 Hz with quality q = f0 / (-3 dB bandwidth)
 * (LibEMG's "bandwidth 3" at 60 Hz is q = 20), as scipy.signal.iirnotch. */
int kern_notch(struct kern_sos *sos, double f0, double q, double fs) MB_MUST_CHECK;

/* Appends b's sections to a (filters in series). MB_EINVAL if too many. */
int kern_sos_cascade(struct kern_sos *a, const struct kern_sos *b) MB_MUST_CHECK;

/* Gain |H(e^{j 2 pi f / fs})| of the cascade (double; for tests and reports). */
double kern_sos_gain(const struct kern_sos *sos, double f, double fs);

/* Causal filter state for C channels. */
struct kern_filter {
    struct kern_sos sos;
    size_t C;
    double *z;                      /* [n_sections x 2 x C] transposed-DF-II state */
};

/* Copies the design and allocates zeroed state. Free with kern_filter_free. */
int kern_filter_init(struct kern_filter *f, const struct kern_sos *sos, size_t C) MB_MUST_CHECK;
void kern_filter_free(struct kern_filter *f);

/* Sets the state: x0 == NULL gives zero state (the filter starts from
 * rest); otherwise the steady state the filter would be in after a constant
 * input x0[c] forever (scipy.signal.sosfilt_zi(sos) * x0), which removes
 * the start-up transient of an offset signal without looking ahead. */
void kern_filter_reset(struct kern_filter *f, const float *x0 /* [C] or NULL */);

/* Filters n samples causally, continuing from the state; y may equal x.
 * y, x: [n x C] row-major. Any split of a recording into consecutive calls
 * gives bit-identical output to one call. */
void kern_filter_run(struct kern_filter *f, float *y, const float *x, size_t n);
/* Reference: channel by channel, sample by sample; same numbers. */
void kern_filter_run_ref(struct kern_filter *f, float *y, const float *x, size_t n);

/* Zero-phase filtering of ONE segment, as scipy.signal.sosfiltfilt with its
 * defaults: odd extension of padlen = 3 * (2 * n_sections + 1 - m) samples at
 * both ends (m = min(sections with b2 == 0, sections with a2 == 0)),
 * steady-state initial conditions, forward pass, then backward pass.
 * Where scipy refuses a segment not longer than padlen, the pad is cut to
 * n - 1 samples. y may equal x; y, x: [n x C]. Allocates scratch. */
int kern_filtfilt(float *y, const float *x, size_t n, size_t C, const struct kern_sos *sos) MB_MUST_CHECK;

#endif
