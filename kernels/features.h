/* kernels/features.h - the classical EMG feature set: about fifty time- and
 * frequency-domain features per channel and the usual groups (Hudgins TD4,
 * TDAR, LS4, LS9, TDPSD, TSTD, HJORTH, ...), extracted from windows of a
 * [T x C] float recording.
 *
 * docs/FEATURES.md is the normative definition of every feature: formula,
 * thresholds and their units, degrees of freedom (N or N-1), and where and
 * why a definition departs from LibEMG's code. This header is the C
 * contract.
 *
 * Usage:
 *
 *     struct kern_feat_params p;
 *     kern_feat_params_default(&p);
 *     p.fs = 2000;
 *     struct kern_feature_set fs;
 *     kern_feature_set_parse(&fs, "TD4,AR,MNF", &p);      // unknown names are errors
 *     kern_feature_set_thresholds(&fs, C, 0, rms_train);   // per-channel thresholds
 *     size_t F = kern_feature_set_width(&fs, C);
 *     kern_features_extract(out, x, T, C, &windows, &fs);  // out: [n_windows x F]
 *     kern_feature_set_free(&fs);
 *
 * Output row layout: features in set order; within a feature, channel by
 * channel, each channel's k outputs together (AR: a1..ap of channel 0, then
 * channel 1, ...; the wavelet features WENG, WV, WWL, WENT: L+1 bands of
 * channel 0 in pywt's order A_L, D_L, ..., D_1, then channel 1, ...).
 * Cross-channel features (RMSPHASOR, WLPHASOR) give
 * C(C-1)/2 log distances followed by C(C-1)/2 log distance ratios over the
 * pairs (i < j) in lexicographic order. kern_feature_column_name names
 * every column.
 *
 * Amplitude thresholds (ZC, SSC, WAMP) are given in one of three units and
 * turned into per-channel thresholds in stored signal units:
 *   KERN_THR_SIGNAL  stored units, the same on every channel (LibEMG's way);
 *   KERN_THR_VOLTS   volts, divided by the device scale (stored * scale = V);
 *   KERN_THR_RMS     a fraction of each channel's RMS measured on TRAINING
 *                    data (the default: device- and gain-independent).
 * A zero threshold needs no calibration in any unit.
 *
 * kern_features_extract is the optimised path: OpenMP over windows, each
 * window computed whole by one thread (so results are identical for any
 * thread count), one fused channel-inner pass for the cheap time-domain
 * features, FFTW (fftw3f) for the spectrum with one plan per window length
 * made outside the parallel region. kern_features_extract_ref is the plain
 * reference (double, one feature and channel at a time, a direct DFT); the
 * tests hold the two within 1e-5 relative.
 */
#ifndef MB_KERNELS_FEATURES_H
#define MB_KERNELS_FEATURES_H

#include <stddef.h>

#include "core/err.h"
#include "kernels/window.h"

#define KERN_FEAT_MAX 64      /* features in one set */

enum kern_thr_unit { KERN_THR_RMS = 0, KERN_THR_SIGNAL = 1, KERN_THR_VOLTS = 2 };

struct kern_feat_params {
    double fs;                /* sampling rate in Hz (spectral features; default 1000) */
    int ar_order;             /* AR coefficients per channel (4) */
    int cc_order;             /* cepstral coefficients per channel (4) */
    int mavslp_segments;      /* MAVSLP segments, gives segments - 1 outputs (2) */
    int tm_order;             /* TM moment order (3) */
    int sampen_dim;           /* SAMPEN template length m (2) */
    double sampen_tol;        /* SAMPEN tolerance as a fraction of the window SD (0.3) */
    int fuzzyen_dim;          /* FUZZYEN template length (2) */
    double fuzzyen_tol;       /* FUZZYEN width as a fraction of the window SD (0.3) */
    int fuzzyen_n;            /* FUZZYEN exponent of the membership function (2) */
    enum kern_thr_unit thr_unit; /* unit of the three thresholds below (KERN_THR_RMS) */
    double zc_thr;            /* ZC: |x_i - x_i+1| >= thr (0) */
    double ssc_thr;           /* SSC: (x_i - x_i-1)(x_i - x_i+1) > thr^2 (0) */
    double wamp_thr;          /* WAMP: |x_i+1 - x_i| > thr (0.1, i.e. 0.1 x training RMS) */
    int wavelet_level;        /* WENG/WV/WWL/WENT sym8 DWT level; 0: LibEMG's rule from fs (0) */
};

void kern_feat_params_default(struct kern_feat_params *p);

struct kern_fctx;             /* parameters and thresholds of one extraction, private */
struct kern_fwin;             /* per-window statistics of the optimised path, private */

struct kern_feature {
    const char *name;         /* upper case, as LibEMG where LibEMG has it */
    const char *summary;      /* one line for listings */
    unsigned flags;           /* KERN_FEAT_* */
    /* outputs per channel (or per pair list for KERN_FEAT_PAIRS, see above) */
    size_t (*n_per_channel)(const struct kern_feat_params *p);
    size_t min_n;             /* shortest window it is defined on (0: see parameters) */
    /* reference: outputs of channel ch for a window already converted to
     * double, x [N]; a KERN_FEAT_PAIRS feature gets every channel, x [C x N],
     * and writes all its outputs */
    void (*ref)(double *out, const double *x, size_t N, const struct kern_fctx *ctx, size_t ch);
    /* optimised: outputs of channel ch from the per-window state */
    void (*opt)(double *out, const struct kern_fwin *wd, size_t ch);
    unsigned need;            /* per-window statistics opt reads (features.c) */
};

#define KERN_FEAT_SPECTRAL 1u  /* needs the spectrum (fs matters) */
#define KERN_FEAT_PAIRS    2u  /* cross-channel: C(C-1) outputs in all */
#define KERN_FEAT_THRESH   4u  /* uses an amplitude threshold */
#define KERN_FEAT_QUAD     8u  /* O(N^2) per channel (entropies) */
#define KERN_FEAT_WAVELET 16u  /* per-band outputs of the sym8 DWT (kernels/wavelet.h) */

struct kern_feature_group {
    const char *name;
    const char *summary;
    const char *members;      /* comma-separated feature names */
};

/* The static registries, NULL-name terminated. */
extern const struct kern_feature kern_features[];
extern const struct kern_feature_group kern_feature_groups[];

/* Feature by name (case-insensitive); NULL if unknown. */
const struct kern_feature *kern_feature_find(const char *name);

struct kern_feature_set {
    size_t n;                                 /* features */
    const struct kern_feature *feat[KERN_FEAT_MAX];
    struct kern_feat_params p;
    size_t thr_C;                             /* channels thr was resolved for (0: none) */
    double *thr;                              /* [3 x thr_C]: zc, ssc, wamp in stored units */
};

/* Builds a set from comma-separated feature and group names (case-
 * insensitive; "ALL" is every feature; a name listed twice is kept once,
 * at its first place). Unknown names, bad parameters and more than
 * KERN_FEAT_MAX features are MB_EINVAL errors naming the culprit. */
int kern_feature_set_parse(struct kern_feature_set *fs, const char *list,
                           const struct kern_feat_params *p) MB_MUST_CHECK;
void kern_feature_set_free(struct kern_feature_set *fs);

/* Resolves the thresholds for C channels: volts_per_unit is the device
 * scale (stored * scale = volts; needed for KERN_THR_VOLTS), rms [C] the
 * channels' RMS on training data in stored units (needed for KERN_THR_RMS).
 * Either may be 0/NULL when the unit does not need it. */
int kern_feature_set_thresholds(struct kern_feature_set *fs, size_t C, double volts_per_unit,
                                const double *rms) MB_MUST_CHECK;

/* Which rows of fs->thr its features read: bit 0 ZC's, bit 1 SSC's, bit 2
 * WAMP's. Features of a set that reads none, or only zero thresholds, do
 * not depend on the training windows' RMS (methods/featurizer.c shares them
 * across folds on that ground). */
unsigned kern_feature_set_thr_rows(const struct kern_feature_set *fs);

/* Columns of the output row for C channels. */
size_t kern_feature_set_width(const struct kern_feature_set *fs, size_t C);

/* Name of column j, e.g. "MAV_ch3", "AR2_ch0", "RMSPHASOR_d_0_1",
 * "WENG_A7_ch0" (wavelet band: A7 the approximation at level 7, D7..D1 the
 * details); channel numbers from 0. Returns 0, or MB_EINVAL if j is out of
 * range. */
int kern_feature_column_name(char *buf, size_t cap, const struct kern_feature_set *fs, size_t C,
                             size_t j) MB_MUST_CHECK;

/* Per-channel RMS of x [T x C] over the given windows (training windows:
 * the statistic KERN_THR_RMS thresholds are fractions of). rms is [C]. */
void kern_channel_rms(double *rms, const float *x, size_t T, size_t C, const struct kern_windows *w);

/* The sym8 DWT level of the wavelet features for these parameters:
 * p->wavelet_level, or LibEMG's rule from p->fs when it is 0. Sets holding
 * a wavelet feature are refused unless it lies in 1..KERN_WAV_MAXLEV. */
int kern_feat_wavelet_level(const struct kern_feat_params *p);

/* Features of every window: out [w->n x width]. MB_EINVAL if a feature is
 * not defined on windows of w->W samples (e.g. DFTR band without an FFT
 * bin) or thresholds need kern_feature_set_thresholds for C channels;
 * MB_ENUM if a value is not finite (constant window, dead channel...): the
 * message names the first such feature, channel and window, and the other
 * values are still written. Allocates per-thread scratch. */
int kern_features_extract(float *out, const float *x, size_t T, size_t C, const struct kern_windows *w,
                          const struct kern_feature_set *fs) MB_MUST_CHECK;
int kern_features_extract_ref(float *out, const float *x, size_t T, size_t C, const struct kern_windows *w,
                              const struct kern_feature_set *fs) MB_MUST_CHECK;

#endif
