/* describe/describe.h - 'myobench describe': a summary of one unified
 * corpus that any user can run on their own file, so a synthetic corpus can
 * be held against real recordings statistic by statistic (docs/DESCRIBE.md).
 *
 *     struct dsc_report r;
 *     if (dsc_describe(&r, "db1.h5", NULL)) ...       // reads the file, never writes it
 *     dsc_print_text(stdout, &r);                      // or dsc_to_json(&r)
 *     dsc_report_release(&r);
 *
 * Per subject and channel: RMS and kurtosis of the stored samples; mean and
 * median frequency of the Welch PSD (FFTW; skipped, with the reason, below
 * DSC_MIN_SPECTRUM_HZ or when a device says it stores an envelope); the
 * mean Pearson correlation of channel pairs by electrode distance. Per
 * subject: balanced accuracy of lda-td4 under the 'within' and 'loso'
 * protocols (the protocols' own splits and runs); where the corpus has pose,
 * R^2 of ridge regression from TD4 features to the pose (within, LOSO, and
 * within a subject from seen to unseen gestures) and the zero-shot balanced
 * accuracy of the pose reference vote fed the true pose ('pose-upper-bound'
 * under 'zeroshot-gestures'). A statistic that cannot be computed is NAN
 * ("n/a" in text, null in JSON) and its block says why: never 0.
 *
 * A folder ranked above protocols (it runs them) and below harness and cli
 * (docs/CONTRIBUTING.md "The layer rule").
 */
#ifndef MB_DESCRIBE_DESCRIBE_H
#define MB_DESCRIBE_DESCRIBE_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "core/err.h"

#define DSC_MIN_SPECTRUM_HZ 200.0   /* below: no EMG band to speak of (DB1's 100 Hz envelope) */
#define DSC_NPERSEG 256             /* Welch segment length (samples), half overlap, Hann */
#define DSC_MYO_RING 8              /* electrodes around one Myo armband */
#define DSC_VOTE_WINDOWS 4000       /* default: training and reference windows of the vote */

struct dsc_opts {
    int no_models;           /* 1: amplitude, spectrum and correlation only (no LDA, ridge, vote) */
    const char *vote_params; /* pose-upper-bound parameters (NULL = its defaults) */
    long vote_windows;       /* at most this many training and reference windows for the vote,
                              * evenly spaced (0 = DSC_VOTE_WINDOWS; the test windows all) */
    unsigned long long seed; /* protocol seed (unseen gestures, encoder init); default 0 */
    FILE *progress;          /* folds done and ETA of the models (core/progress.h); NULL = quiet */
};

struct dsc_channel {
    double rms;              /* sqrt(mean x^2), stored units */
    double kurtosis;         /* m4 / m2^2 about the mean (3 for a Gaussian) */
    double mnf, mdf;         /* Welch mean / median frequency, Hz; NAN when skipped */
};

struct dsc_subject {
    char *name;
    size_t n_samples;        /* EMG samples of the subject's recordings */
    struct dsc_channel *ch;  /* [C] */
    double *corr;            /* [n_dist] mean Pearson r of the pairs at distance d = 1..n_dist; NAN none */
    double within_bacc, loso_bacc;          /* LDA on TD4 */
    double r2_within, r2_loso, r2_unseen;   /* ridge TD4 -> pose */
    double zs_bacc;                         /* pose reference vote on the true pose */
    size_t zs_classes;                      /* unseen gestures it chose among (chance = 1 / this) */
};

struct dsc_report {
    char *path, *name, *device;
    double rate_hz;
    size_t C, J, n_windows;
    char spectrum_note[256];        /* "" when computed; else why not */
    char geometry[256];             /* how electrode distance was defined */
    size_t n_dist;                  /* distances reported: 1..n_dist */
    size_t *n_pairs;                /* [n_dist] channel pairs at each distance */
    char lda_note[512], pose_note[512], zs_note[512];   /* "" or why a block is n/a (or partly) */
    size_t vote_train, vote_refs;   /* most training / reference windows a vote fold used (0: no vote) */
    size_t n_subjects;
    struct dsc_subject *subjects;
};

/* Describes the unified file 'path' (opts NULL = defaults). Errors name the
 * file; the file is opened read-only. On error *r holds nothing to free. */
int  dsc_describe(struct dsc_report *r, const char *path, const struct dsc_opts *opts) MB_MUST_CHECK;
void dsc_report_release(struct dsc_report *r);

/* The report as text tables (n/a for NAN) and as one JSON object (null for
 * NAN; new reference, NULL on allocation failure). */
void    dsc_print_text(FILE *fp, const struct dsc_report *r);
json_t *dsc_to_json(const struct dsc_report *r);

/* The kernels, exposed for the tests: Welch PSD of x [T] with stride 'stride'
 * (one channel of a [T x C] block) averaged into acc [DSC_NPERSEG/2 + 1]
 * (one-sided density, scipy.signal.welch's defaults: Hann, half overlap,
 * mean removed per segment); returns the segments added (0 when T <
 * DSC_NPERSEG). Mean and median frequency of a PSD accumulated that way. */
size_t dsc_welch_add(double *acc, const float *x, size_t T, size_t stride, double rate_hz);
void   dsc_spectral_moments(double *mnf, double *mdf, const double *psd, double rate_hz);

#endif
