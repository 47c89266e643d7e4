/* kernels/wavelet.c - pywt.wavedec(x, 'sym8', mode='symmetric') in double
 * (see wavelet.h for the definition both transforms implement). */
#include "kernels/wavelet.h"

#include <math.h>
#include <string.h>

/* sym8 decomposition low-pass filter: PyWavelets 1.1.1,
 * pywt.Wavelet('sym8').dec_lo (Debian python3-pywt), printed with repr(),
 * i.e. the shortest decimal strings that give back the same doubles. The
 * high-pass filter is its quadrature mirror, dec_hi[k] = (-1)^(k+1)
 * dec_lo[15 - k], which equals pywt's dec_hi exactly (checked when the
 * golden values were made, tests/ref/gen_features.py). */
#define L0  -0.0033824159510061256
#define L1  -0.0005421323317911481
#define L2   0.03169508781149298
#define L3   0.007607487324917605
#define L4  -0.1432942383508097
#define L5  -0.061273359067658524
#define L6   0.4813596512583722
#define L7   0.7771857517005235
#define L8   0.3644418948353314
#define L9  -0.05194583810770904
#define L10 -0.027219029917056003
#define L11  0.049137179673607506
#define L12  0.003808752013890615
#define L13 -0.01495225833704823
#define L14 -0.0003029205147213668
#define L15  0.0018899503327594609

const double kern_wav_sym8_lo[KERN_WAV_LEN] = { L0, L1, L2, L3, L4, L5, L6, L7,
                                                L8, L9, L10, L11, L12, L13, L14, L15 };
const double kern_wav_sym8_hi[KERN_WAV_LEN] = { -(L15), L14, -(L13), L12, -(L11), L10, -(L9), L8,
                                                -(L7), L6, -(L5), L4, -(L3), L2, -(L1), L0 };

enum { F = KERN_WAV_LEN, PAD = KERN_WAV_LEN - 2 };  /* xe(i) is read for i in [-PAD, n + PAD] */

int kern_wav_level(double fs)
{
    /* the same expression as LibEMG's math.floor(np.log(fs/2)/np.log(2) - 1),
     * not log2(): the two can round differently at powers of two */
    return (int)floor(log(fs / 2) / log(2) - 1);
}

size_t kern_wav_dwt_len(size_t n) { return (n + F - 1) / 2; }

size_t kern_wav_wavedec_lens(size_t *lens, size_t n, int level)
{
    size_t tot = 0;
    for (int j = 1; j <= level; j++) {
        n = kern_wav_dwt_len(n);
        lens[level - j + 1] = n;   /* cD_j */
        tot += n;
    }
    lens[0] = n;                   /* cA_L */
    return tot + n;
}

/* Inputs after the first level are at most max(n, 15) long (the transform
 * of a short signal converges to 15 coefficients). */
static size_t nmax_of(size_t n) { return n > F ? n : F; }

size_t kern_wav_work_len(size_t n) { return 2 * nmax_of(n) + 2 * PAD + 2; }

/* Index into x [n] of the symmetric extension at i. */
static size_t sym_index(long i, size_t n)
{
    long p = 2 * (long)n, m = i % p;
    if (m < 0) m += p;
    return m < (long)n ? (size_t)m : (size_t)(p - 1 - m);
}

/* Offsets of the bands in the output; off [level + 1]. */
static void band_offsets(size_t *off, const size_t *lens, int level)
{
    off[0] = 0;
    for (int b = 1; b <= level; b++) off[b] = off[b - 1] + lens[b - 1];
}

void kern_wav_wavedec_ref(double *coef, double *work, const double *x, size_t n, int level)
{
    size_t lens[KERN_WAV_MAXLEV + 1], off[KERN_WAV_MAXLEV + 1];
    kern_wav_wavedec_lens(lens, n, level);
    band_offsets(off, lens, level);
    size_t nm = nmax_of(n);
    double *buf[2] = { work, work + nm };  /* ping-pong approximations */
    const double *u = x;
    for (int j = 1; j <= level; j++) {
        size_t M = kern_wav_dwt_len(n);
        double *a = j == level ? coef : buf[j & 1], *d = coef + off[level - j + 1];
        for (size_t o = 0; o < M; o++) {
            double sa = 0, sd = 0;
            for (size_t q = 0; q < F; q++) {
                double v = u[sym_index((long)(2 * o + 1) - (long)q, n)];
                sa += kern_wav_sym8_lo[q] * v;
                sd += kern_wav_sym8_hi[q] * v;
            }
            a[o] = sa;
            d[o] = sd;
        }
        u = a;
        n = M;
    }
}

void kern_wav_wavedec(double *coef, double *work, const double *x, size_t n, int level)
{
    size_t lens[KERN_WAV_MAXLEV + 1], off[KERN_WAV_MAXLEV + 1];
    kern_wav_wavedec_lens(lens, n, level);
    band_offsets(off, lens, level);
    double *e = work, *abuf = work + nmax_of(n) + 2 * PAD + 2;  /* e [n + 2 PAD + 1] */
    const double *u = x;
    for (int j = 1; j <= level; j++) {
        /* extend once: e[PAD + i] = xe(i), i in [-PAD, n + PAD]; only the
         * borders need the modulo */
        for (long i = -PAD; i < 0; i++) e[PAD + i] = u[sym_index(i, n)];
        memmove(e + PAD, u, n * sizeof *e);
        for (long i = (long)n; i <= (long)n + PAD; i++) e[PAD + i] = u[sym_index(i, n)];
        size_t M = kern_wav_dwt_len(n);
        double *a = j == level ? coef : abuf, *d = coef + off[level - j + 1];
        for (size_t o = 0; o < M; o++) {
            /* e + PAD + 2o + 1 - q for q = 0..15, read backwards from t */
            const double *t = e + PAD + 2 * o + 1;
            double sa = 0, sd = 0;
            for (size_t q = 0; q < F; q++) {
                sa += kern_wav_sym8_lo[q] * t[-(long)q];
                sd += kern_wav_sym8_hi[q] * t[-(long)q];
            }
            a[o] = sa;
            d[o] = sd;
        }
        u = a;
        n = M;
    }
}
