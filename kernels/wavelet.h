/* kernels/wavelet.h - the multilevel discrete wavelet transform as
 * pywt.wavedec(x, 'sym8', mode='symmetric', level=L) computes it, for
 * LibEMG's wavelet features (WENG, WV, WWL, WENT in kernels/features.h;
 * docs/FEATURES.md section 6.6).
 *
 * One level (pywt.dwt) of a signal x [n] with a decomposition filter
 * h [KERN_WAV_LEN]:
 *
 *     out[o] = sum_{j=0}^{15} h[j] * xe(2 o + 1 - j),  o = 0 .. floor((n + 15) / 2) - 1
 *
 * where xe is pywt's 'symmetric' (half-sample) extension, repeated as often
 * as needed, i.e. periodic with period 2n: xe(i) = x[m] if m < n, else
 * x[2n - 1 - m], with m = i mod 2n. This holds for any n >= 1, also when n is
 * shorter than the filter (then the output is longer than the input, as in
 * pywt). The taps are accumulated in the order j = 0..15 in both the
 * reference and the optimised transform, so the two give the same bytes.
 *
 * wavedec applies the low-pass and high-pass filters to x, then again to
 * each approximation, L times; the output is pywt's list concatenated:
 * [cA_L, cD_L, cD_{L-1}, ..., cD_1] ("bands" 0..L). pywt warns when L
 * exceeds dwt_max_level(n, 16) = floor(log2(n / 15)) (for LibEMG's level 7
 * that is any window shorter than 1920 samples) and computes anyway; so do
 * these functions, silently, as LibEMG (which silences the warning).
 *
 * Kernels never allocate: callers pass the coefficient buffer (of
 * kern_wav_wavedec_lens' total) and the work buffer (kern_wav_work_len). */
#ifndef MB_KERNELS_WAVELET_H
#define MB_KERNELS_WAVELET_H

#include <stddef.h>

#define KERN_WAV_LEN 16       /* taps of sym8 */
#define KERN_WAV_MAXLEV 24    /* deepest level accepted (LibEMG's rule reaches it at fs = 2^26 Hz) */

/* sym8 decomposition filters, pywt's dec_lo and dec_hi ([KERN_WAV_LEN]). */
extern const double kern_wav_sym8_lo[KERN_WAV_LEN];
extern const double kern_wav_sym8_hi[KERN_WAV_LEN];

/* LibEMG's level rule floor(ln(fs/2) / ln 2 - 1), evaluated as LibEMG does
 * (natural logs in double): 4 at 100 Hz, 5 at 200 Hz, 7 at 1000 Hz, 8 at
 * 1024 and 2000 Hz. Below 1 for fs < 8 Hz (the caller refuses that). */
int kern_wav_level(double fs);

/* Coefficients of one level for an input of n samples: floor((n + 15) / 2). */
size_t kern_wav_dwt_len(size_t n);

/* Band lengths of a level-L decomposition of n samples, lens [L + 1] in
 * wavedec order (cA_L, cD_L, ..., cD_1); returns their sum. */
size_t kern_wav_wavedec_lens(size_t *lens, size_t n, int level);

/* Doubles of work space the two transforms need for n samples. */
size_t kern_wav_work_len(size_t n);

/* coef [sum of lens] = [cA_L, cD_L, ..., cD_1] of x [n], n >= 1, 1 <= level
 * <= KERN_WAV_MAXLEV; work [kern_wav_work_len(n)]. The optimised transform
 * extends each level's input once into work and runs branch-free inner
 * loops; the reference evaluates xe(i) with the modulo for every tap. */
void kern_wav_wavedec(double *coef, double *work, const double *x, size_t n, int level);
void kern_wav_wavedec_ref(double *coef, double *work, const double *x, size_t n, int level);

#endif
