/* kernels/window.h - sliding windows over one recording, with labels.
 *
 * A recording is [T x C] row-major float at rate fs. Windows are W samples
 * long and start every S samples, from sample 0:
 *
 *     W = round(win_ms * fs / 1000),  S = round(stride_ms * fs / 1000)
 *
 * (the products in double, round half away from zero; both must be >= 1).
 * Window i covers samples [i*S, i*S + W); there are floor((T - W) / S) + 1
 * candidate windows when T >= W (none otherwise): the trailing partial
 * window is dropped, as LibEMG's get_windows does.
 *
 * Labels: per-sample label and repetition streams (the unified format's
 * labels and reps). A window's label is, by default, the label of its LAST
 * sample (causal: an online system knows the label at the instant it
 * decides), or on request the most frequent label in the window (ties to
 * the smaller label, as scipy.stats.mode and LibEMG). By default a window
 * in which the label or the repetition changes straddles two segments and
 * is dropped, and so is a window labelled unlabelled (-1, MBH5_UNLABELLED).
 *
 * No samples are copied: window i is the view x + start[i] * C, W rows of
 * C floats with a row stride of C (kern_window_ptr).
 *
 * kern_windows_make_ref is the brute-force reference (scans every window);
 * kern_windows_make does one pass over the label stream.
 */
#ifndef MB_KERNELS_WINDOW_H
#define MB_KERNELS_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum kern_label_mode {
    KERN_LABEL_END = 0,       /* label of the window's last sample (default) */
    KERN_LABEL_MAJORITY = 1,  /* most frequent label, ties to the smaller */
};

struct kern_window_spec {
    double win_ms;            /* window length in milliseconds */
    double stride_ms;         /* hop in milliseconds */
    enum kern_label_mode label;
    int keep_straddling;      /* 1: keep windows whose label/repetition changes inside */
    int keep_unlabelled;      /* 1: keep windows labelled -1 */
};

struct kern_windows {
    size_t n;                 /* windows kept */
    size_t W, S;              /* window length and stride in samples */
    size_t *start;            /* [n] first sample of each window, increasing */
    int32_t *label;           /* [n] window label (-1 when no labels were given) */
    int32_t *rep;             /* [n] repetition at the window's last sample, -1 if none */
};

/* round(ms * fs / 1000) samples, half away from zero; MB_EINVAL if < 1 or
 * the inputs are not finite and positive. */
int kern_window_samples(size_t *out, double ms, double fs) MB_MUST_CHECK;

/* Windows of one recording of T samples at rate fs. labels [T] and reps [T]
 * may be NULL (no labels: every window is kept with label -1; no reps:
 * only label changes split segments). Allocates; free with kern_windows_free. */
int kern_windows_make(struct kern_windows *w, const struct kern_window_spec *spec, double fs,
                      const int32_t *labels, const int32_t *reps, size_t T) MB_MUST_CHECK;
int kern_windows_make_ref(struct kern_windows *w, const struct kern_window_spec *spec, double fs,
                          const int32_t *labels, const int32_t *reps, size_t T) MB_MUST_CHECK;
void kern_windows_free(struct kern_windows *w);

/* Window i of x ([T x C] row-major): W rows, row stride C. */
static inline const float *kern_window_ptr(const float *x, size_t C, const struct kern_windows *w, size_t i)
{
    return x + w->start[i] * C;
}

#endif
