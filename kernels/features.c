/* kernels/features.c - the EMG feature registry, the reference extractor
 * and the optimised one (see features.h; formulas in docs/FEATURES.md).
 *
 * Notation in comments: x[0..N-1] one channel of one window, d[i] =
 * x[i+1] - x[i] (N-1 values), d2[i] = d[i+1] - d[i] (N-2 values). */
#include "kernels/features.h"
#include "kernels/wavelet.h"

#include <ctype.h>
#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define EPS_SPACING 2.220446049250313e-16  /* numpy.spacing(1), LibEMG's eps */
#define WAV_EPS 1e-10                      /* LibEMG's offset inside the wavelet features' logs */

struct kern_fctx {
    const struct kern_feat_params *p;
    size_t C, N;
    const double *thr;        /* [3 x C]: zc, ssc, wamp in stored units */
    size_t nfft, K;           /* FFT length (next power of two >= N), one-sided bins K = nfft/2 */
    int wlev;                 /* sym8 DWT level of the wavelet features */
};

/* Per-channel sums of the optimised path. */
struct chstat {
    /* fused pass over the float window */
    double sabs, ssq, sdabs, sdsq, mx, zc, ssc, wamp;
    /* from the double copy */
    double mean, c2, c3, c4;          /* centred power sums */
    double sd2sq, sd2abs, s2abs;      /* sum d2^2, sum |d2|, sum |x[i+2] - x[i]| */
    double slog, sld, msra, msrb, stm;
    double td_b[5], td_e[5];         /* TD-PSD sums of x and of ln(x^2 + eps) */
    int haszero;
};

struct kern_fwin {
    const struct kern_fctx *k;
    size_t N, C;
    const double *xd;         /* [C x N] the window, channel-major, double */
    const double *P;          /* [C x K] one-sided power spectrum */
    const struct chstat *st;  /* [C] */
    double *scratch;          /* [4 N] */
    const double *wst;        /* [C x 4 x (wlev + 1)] WENG, WV, WWL, WENT per band */
};

enum {
    NEED_FUSED = 1, NEED_XD = 2, NEED_MOM = 4 | NEED_XD, NEED_D2 = 8 | NEED_XD,
    NEED_LOG = 16 | NEED_XD, NEED_SPEC = 32, NEED_ROOT = 64 | NEED_XD, NEED_TDPSD = 128 | NEED_XD,
    NEED_WAV = 256 | NEED_XD,
};

/* ---- parameters ---------------------------------------------------------- */

void kern_feat_params_default(struct kern_feat_params *p)
{
    memset(p, 0, sizeof *p);
    p->fs = 1000;
    p->ar_order = 4;
    p->cc_order = 4;
    p->mavslp_segments = 2;
    p->tm_order = 3;
    p->sampen_dim = 2;
    p->sampen_tol = 0.3;
    p->fuzzyen_dim = 2;
    p->fuzzyen_tol = 0.3;
    p->fuzzyen_n = 2;
    p->thr_unit = KERN_THR_RMS;
    p->zc_thr = 0;
    p->ssc_thr = 0;
    p->wamp_thr = 0.1;
    p->wavelet_level = 0;
}

int kern_feat_wavelet_level(const struct kern_feat_params *p)
{
    return p->wavelet_level ? p->wavelet_level : kern_wav_level(p->fs);
}

static const double dftr_lo[6] = { 20, 92, 163, 235, 305, 378 };
static const double dftr_hi[6] = { 92, 163, 235, 305, 378, 450 };

static size_t one(const struct kern_feat_params *p) { (void)p; return 1; }
static size_t n_ar(const struct kern_feat_params *p) { return (size_t)p->ar_order; }
static size_t n_cc(const struct kern_feat_params *p) { return (size_t)p->cc_order; }
static size_t n_mavslp(const struct kern_feat_params *p) { return (size_t)p->mavslp_segments - 1; }
/* one output per band; parsing refuses a set whose level is out of range */
static size_t n_wav(const struct kern_feat_params *p)
{
    int L = kern_feat_wavelet_level(p);
    return L >= 1 && L <= KERN_WAV_MAXLEV ? (size_t)L + 1 : 1;
}
static size_t n_dftr(const struct kern_feat_params *p)
{
    size_t n = 0;
    for (int b = 0; b < 6; b++)
        n += dftr_hi[b] < p->fs / 2;
    return n;
}

/* ---- reference helpers (double, one channel, obviously correct) ---------- */

static double r_sum(const double *x, size_t N, double (*f)(double))
{
    double s = 0;
    for (size_t i = 0; i < N; i++) s += f(x[i]);
    return s;
}
static double f_id(double v) { return v; }
static double f_abs(double v) { return fabs(v); }
static double f_sq(double v) { return v * v; }

static double r_dsum(const double *x, size_t N, double (*f)(double))
{
    double s = 0;
    for (size_t i = 0; i + 1 < N; i++) s += f(x[i + 1] - x[i]);
    return s;
}

static double r_d2sum(const double *x, size_t N, double (*f)(double))
{
    double s = 0;
    for (size_t i = 0; i + 2 < N; i++) s += f(x[i + 2] - 2 * x[i + 1] + x[i]);
    return s;
}

static double r_mean(const double *x, size_t N) { return r_sum(x, N, f_id) / N; }

static double r_cmom(const double *x, size_t N, int q)
{
    double m = r_mean(x, N), s = 0;
    for (size_t i = 0; i < N; i++) s += pow(x[i] - m, q);
    return s / N;
}

#define REF(name) static void name(double *o, const double *x, size_t N, const struct kern_fctx *k, size_t ch)

REF(r_mav)   { o[0] = r_sum(x, N, f_abs) / N; }
REF(r_meanf) { o[0] = r_mean(x, N); }
REF(r_rms)   { o[0] = sqrt(r_sum(x, N, f_sq) / N); }
REF(r_iav)   { o[0] = r_sum(x, N, f_abs); }
REF(r_isd)   { o[0] = r_sum(x, N, f_sq); }
REF(r_act)   { o[0] = r_sum(x, N, f_sq) / N; }
REF(r_var)   { o[0] = r_cmom(x, N, 2); }
REF(r_wl)    { o[0] = r_dsum(x, N, f_abs); }
REF(r_dasdv) { o[0] = sqrt(r_dsum(x, N, f_sq) / (N - 1)); }
REF(r_mavfd) { o[0] = r_dsum(x, N, f_abs) / (N - 1); }
REF(r_mdiff) { o[0] = r_dsum(x, N, f_sq) / N; }
REF(r_mfl)   { o[0] = log10(sqrt(r_dsum(x, N, f_sq))); }
REF(r_mpk)
{
    double m = x[0];
    for (size_t i = 1; i < N; i++) m = x[i] > m ? x[i] : m;
    o[0] = m;
}
REF(r_mavsd)
{
    double s = 0;
    for (size_t i = 0; i + 2 < N; i++) s += fabs(x[i + 2] - x[i]);
    o[0] = s / (N - 2);
}
REF(r_zc)
{
    double thr = k->thr[0 * k->C + ch], n = 0;
    for (size_t i = 0; i + 1 < N; i++)
        if (((x[i] > 0 && x[i + 1] < 0) || (x[i] < 0 && x[i + 1] > 0)) && fabs(x[i] - x[i + 1]) >= thr)
            n++;
    o[0] = n;
}
REF(r_ssc)
{
    double thr = k->thr[1 * k->C + ch], n = 0;
    for (size_t i = 1; i + 1 < N; i++)
        if ((x[i] - x[i - 1]) * (x[i] - x[i + 1]) > thr * thr)
            n++;
    o[0] = n;
}
REF(r_wamp)
{
    double thr = k->thr[2 * k->C + ch], n = 0;
    for (size_t i = 0; i + 1 < N; i++)
        if (fabs(x[i + 1] - x[i]) > thr)
            n++;
    o[0] = n;
}
REF(r_log)
{
    double s = 0;
    for (size_t i = 0; i < N; i++) s += log(fabs(x[i]));
    o[0] = exp(s / N);   /* a zero sample gives log 0 = -inf and exp(-inf) = 0 */
}
REF(r_ld)
{
    double s = 0;
    for (size_t i = 0; i < N; i++) s += log(fabs(x[i]) + 1);
    o[0] = exp(s / N);
}
REF(r_msr)
{
    double a = 0, b = 0;
    for (size_t i = 0; i < N; i++) {
        if (x[i] >= 0) a += sqrt(x[i]);
        else b += sqrt(-x[i]);
    }
    o[0] = sqrt(a * a + b * b) / N;
}
REF(r_tm)
{
    double s = 0;
    for (size_t i = 0; i < N; i++) s += pow(x[i], k->p->tm_order);
    o[0] = fabs(s / N);
}
REF(r_skew) { o[0] = r_cmom(x, N, 3) / pow(r_cmom(x, N, 2), 1.5); }
REF(r_kurt) { double m2 = r_cmom(x, N, 2); o[0] = r_cmom(x, N, 4) / (m2 * m2) - 3.0; }
REF(r_mob)  { o[0] = sqrt((r_dsum(x, N, f_sq) / N) / (r_sum(x, N, f_sq) / N)); }
REF(r_comp)
{
    double m0 = r_sum(x, N, f_sq) / N, m2 = r_dsum(x, N, f_sq) / N, m4 = r_d2sum(x, N, f_sq) / N;
    o[0] = sqrt(m4 / m2) / sqrt(m2 / m0);
}
REF(r_pap)
{
    double m0 = sqrt(r_sum(x, N, f_sq)), m2 = sqrt(r_dsum(x, N, f_sq)), m4 = sqrt(r_d2sum(x, N, f_sq));
    o[0] = m0 / (m4 / m2);
}
REF(r_cor)
{
    double n1 = r_dsum(x, N, f_sq) / N, n2 = r_d2sum(x, N, f_sq) / N;
    o[0] = n1 / (n2 * r_sum(x, N, f_sq));
}
REF(r_mlk) { o[0] = log(r_sum(x, N, f_abs) + EPS_SPACING) / N; }

/* Burg's method: prediction-error filter A(z) = 1 + a1 z^-1 + ... + ap z^-p
 * (librosa.lpc's convention; the features are a1..ap). f and b are the
 * forward and backward prediction errors ([N] each, b not shifted: the
 * valid pairs at stage k are f[n+k+1], b[n]); den is the usual recursive
 * update of sum f^2 + sum b^2. a is [p + 1]. */
static void burg(double *a, const double *x, size_t N, int p, double *f, double *b)
{
    memcpy(f, x, N * sizeof *f);
    memcpy(b, x, N * sizeof *b);
    for (int i = 0; i <= p; i++) a[i] = i == 0;
    double den = 0;
    for (size_t n = 0; n < N; n++) den += 2 * x[n] * x[n];
    den -= x[0] * x[0] + x[N - 1] * x[N - 1];
    for (size_t k = 0; k < (size_t)p; k++) {
        size_t L = N - k - 1;  /* pairs at this stage */
        double num = 0;
        for (size_t n = 0; n < L; n++) num += f[n + k + 1] * b[n];
        double mu = -2 * num / den;
        for (size_t n = 0; n <= (k + 1) / 2; n++) {
            double t1 = a[n] + mu * a[k + 1 - n], t2 = a[k + 1 - n] + mu * a[n];
            a[n] = t1;
            a[k + 1 - n] = t2;
        }
        for (size_t n = 0; n < L; n++) {
            double t1 = f[n + k + 1] + mu * b[n], t2 = b[n] + mu * f[n + k + 1];
            f[n + k + 1] = t1;
            b[n] = t2;
        }
        den = (1 - mu * mu) * den - f[k + 1] * f[k + 1] - b[L - 1] * b[L - 1];
    }
}

/* Cepstrum of 1/A(z) from the AR coefficients: c1 = -a1,
 * cn = -an - sum_{k=1}^{n-1} (1 - k/n) a_k c_{n-k}. */
static void ar_to_cc(double *cc, const double *a, int p)
{
    for (int n = 1; n <= p; n++) {
        double s = -a[n];
        for (int j = 1; j < n; j++)
            s -= (1.0 - (double)j / n) * a[j] * cc[n - j - 1];
        cc[n - 1] = s;
    }
}

REF(r_ar)
{
    int p = k->p->ar_order;
    double *f = malloc(2 * N * sizeof *f), a[65];
    burg(a, x, N, p, f, f + N);
    for (int i = 0; i < p; i++) o[i] = a[i + 1];
    free(f);
}
REF(r_cc)
{
    int p = k->p->cc_order;
    double *f = malloc(2 * N * sizeof *f), a[65];
    burg(a, x, N, p, f, f + N);
    ar_to_cc(o, a, p);
    free(f);
}

static int cmp_dbl(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

/* Second L-moment: l2 = 2 b1 - b0, b1 = (1/N) sum_i (i/(N-1)) x_(i). */
static double lscale(const double *x, size_t N, double *tmp)
{
    memcpy(tmp, x, N * sizeof *tmp);
    qsort(tmp, N, sizeof *tmp, cmp_dbl);
    double b0 = 0, b1 = 0;
    for (size_t i = 0; i < N; i++) {
        b0 += tmp[i];
        b1 += (double)i / (double)(N - 1) * tmp[i];
    }
    return 2 * b1 / N - b0 / N;
}
REF(r_ls)
{
    double *t = malloc(N * sizeof *t);
    o[0] = lscale(x, N, t);
    free(t);
}

static void mavslp(double *o, const double *x, size_t N, int K)
{
    double prev = 0;
    for (int j = 0; j < K; j++) {
        size_t a = (size_t)j * N / K, b = (size_t)(j + 1) * N / K;
        double s = 0;
        for (size_t i = a; i < b; i++) s += fabs(x[i]);
        double mav = s / (double)(b - a);
        if (j > 0) o[j - 1] = mav - prev;
        prev = mav;
    }
}
REF(r_mavslp) { mavslp(o, x, N, k->p->mavslp_segments); }

/* TD-PSD (Al-Timemy, Khushaba) as LibEMG's code computes it: on y = x
 * ("ebp") and y = ln(x^2 + eps) ("efp"), f(y) is one of six log-moment
 * quantities; the feature is -2 f_efp f_ebp / (f_efp^2 + f_ebp^2). */
enum { TD_M0, TD_M2, TD_M4, TD_SPARSI, TD_IRF, TD_WLF };

static double tdpsd_f(int which, double s0, double s2, double s4, double a1, double a2, size_t N)
{
    double m0 = sqrt(s0) / (double)(N - 1);
    m0 = pow(m0, 0.1) / 0.1;
    double m2 = pow(sqrt(s2 / (double)(N - 1)), 0.1) / 0.1;
    double m4 = pow(sqrt(s4 / (double)(N - 1)), 0.1) / 0.1;
    switch (which) {
    case TD_M0: return log(fabs(m0));
    case TD_M2: return log(fabs(m0 - m2));
    case TD_M4: return log(fabs(m0 - m4));
    case TD_SPARSI: return log(fabs(sqrt(fabs((m0 - m2) * (m0 - m4))) / m0));
    case TD_IRF: return log(fabs(m2 / sqrt(m0 * m4)));
    default: return log(fabs(sqrt(a1 / a2)));
    }
}

static double tdpsd_combine(double efp, double ebp) { return -2 * efp * ebp / (efp * efp + ebp * ebp); }

static void r_tdpsd(double *o, const double *x, size_t N, int which)
{
    double *y = malloc(N * sizeof *y);
    for (size_t i = 0; i < N; i++) y[i] = log(x[i] * x[i] + EPS_SPACING);
    double ebp = tdpsd_f(which, r_sum(x, N, f_sq), r_dsum(x, N, f_sq), r_d2sum(x, N, f_sq),
                         r_dsum(x, N, f_abs), r_d2sum(x, N, f_abs), N);
    double efp = tdpsd_f(which, r_sum(y, N, f_sq), r_dsum(y, N, f_sq), r_d2sum(y, N, f_sq),
                         r_dsum(y, N, f_abs), r_d2sum(y, N, f_abs), N);
    free(y);
    o[0] = tdpsd_combine(efp, ebp);
}
REF(r_m0)     { r_tdpsd(o, x, N, TD_M0); }
REF(r_m2)     { r_tdpsd(o, x, N, TD_M2); }
REF(r_m4)     { r_tdpsd(o, x, N, TD_M4); }
REF(r_sparsi) { r_tdpsd(o, x, N, TD_SPARSI); }
REF(r_irf)    { r_tdpsd(o, x, N, TD_IRF); }
REF(r_wlf)    { r_tdpsd(o, x, N, TD_WLF); }

/* Sample entropy (Richman & Moorman): the same N-m templates for lengths m
 * and m+1, Chebyshev distance, tolerance r = tol * SD (ddof 0). Reference
 * counts ordered pairs i != j. */
REF(r_sampen)
{
    size_t m = (size_t)k->p->sampen_dim, M = N - m;
    double r = k->p->sampen_tol * sqrt(r_cmom(x, N, 2));
    double B = 0, A = 0;
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < M; j++) {
            if (i == j) continue;
            double dm = 0;
            for (size_t q = 0; q < m; q++) dm = fmax(dm, fabs(x[i + q] - x[j + q]));
            double dm1 = fmax(dm, fabs(x[i + m] - x[j + m]));
            B += dm <= r;
            A += dm1 <= r;
        }
    double P = (double)M * (double)(M - 1);
    o[0] = log(B / P + EPS_SPACING) - log(A / P + EPS_SPACING);
}

/* Fuzzy entropy (Chen et al. 2007) with scale-free membership
 * exp(-(d / r)^n): templates minus their own mean, N-m templates for both
 * lengths, r = tol * SD. */
static double fuzzy_phi(const double *x, size_t M, size_t L, double r, double n)
{
    double s = 0;
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < M; j++) {
            if (i == j) continue;
            double mi = 0, mj = 0;
            for (size_t q = 0; q < L; q++) { mi += x[i + q]; mj += x[j + q]; }
            mi /= L;
            mj /= L;
            double d = 0;
            for (size_t q = 0; q < L; q++) d = fmax(d, fabs((x[i + q] - mi) - (x[j + q] - mj)));
            s += exp(-pow(d / r, n));
        }
    return s / ((double)M * (double)(M - 1));
}
REF(r_fuzzyen)
{
    size_t m = (size_t)k->p->fuzzyen_dim, M = N - m;
    double r = k->p->fuzzyen_tol * sqrt(r_cmom(x, N, 2));
    o[0] = log(fuzzy_phi(x, M, m, r, k->p->fuzzyen_n)) - log(fuzzy_phi(x, M, m + 1, r, k->p->fuzzyen_n));
}

/* One-sided power spectrum as LibEMG: zero-padded to nfft, divided by N,
 * bins 0..nfft/2-1 (Nyquist excluded), P = |X/N|^2. Direct DFT. */
static void r_power(double *P, const double *x, size_t N, const struct kern_fctx *k)
{
    for (size_t b = 0; b < k->K; b++) {
        double re = 0, im = 0;
        for (size_t n = 0; n < N; n++) {
            double ang = -2.0 * M_PI * (double)((b * n) % k->nfft) / (double)k->nfft;
            re += x[n] * cos(ang);
            im += x[n] * sin(ang);
        }
        re /= N;
        im /= N;
        P[b] = re * re + im * im;
    }
}

static double binf(size_t b, const struct kern_fctx *k) { return (double)b * k->p->fs / (double)k->nfft; }

/* The spectral features from P [K]; shared by both paths (only the
 * spectrum differs: direct DFT in double vs FFTW in float). */
enum { SP_MNF, SP_MDF, SP_MNP, SP_TTP, SP_PKF, SP_SM0, SP_SM1, SP_SM2, SP_DFTR };

static void spectral(double *o, int which, const double *P, const struct kern_fctx *k)
{
    size_t K = k->K;
    double tot = 0, s1 = 0, s2 = 0;
    for (size_t b = 0; b < K; b++) {
        double f = binf(b, k);
        tot += P[b];
        s1 += P[b] * f;
        s2 += P[b] * f * f;
    }
    switch (which) {
    case SP_MNF: o[0] = s1 / tot; return;
    case SP_MDF: {
        double cum = 0;
        o[0] = NAN;
        for (size_t b = 0; b < K; b++) {
            cum += P[b];
            if (cum > tot / 2) { o[0] = binf(b, k); break; }
        }
        return;
    }
    case SP_MNP: o[0] = tot / (double)K; return;
    case SP_TTP: case SP_SM0: o[0] = tot; return;
    case SP_SM1: o[0] = s1; return;
    case SP_SM2: o[0] = s2; return;
    case SP_PKF: {
        size_t best = 0;
        for (size_t b = 1; b < K; b++) if (P[b] > P[best]) best = b;
        o[0] = binf(best, k);
        return;
    }
    default: {
        size_t nb = n_dftr(k->p);
        for (size_t band = 0; band < nb; band++) {
            double s = 0;
            size_t cnt = 0;
            for (size_t b = 0; b < K; b++) {
                double f = binf(b, k);
                if (f > dftr_lo[band] && f < dftr_hi[band]) { s += sqrt(P[b]); cnt++; }
            }
            o[band] = pow(s / (double)cnt, 2.0 / 3.0);
        }
    }
    }
}

static void r_spec(double *o, const double *x, size_t N, const struct kern_fctx *k, int which)
{
    double *P = malloc(k->K * sizeof *P);
    r_power(P, x, N, k);
    spectral(o, which, P, k);
    free(P);
}
REF(r_mnf)  { r_spec(o, x, N, k, SP_MNF); }
REF(r_mdf)  { r_spec(o, x, N, k, SP_MDF); }
REF(r_mnp)  { r_spec(o, x, N, k, SP_MNP); }
REF(r_ttp)  { r_spec(o, x, N, k, SP_TTP); }
REF(r_pkf)  { r_spec(o, x, N, k, SP_PKF); }
REF(r_sm0)  { r_spec(o, x, N, k, SP_SM0); }
REF(r_sm1)  { r_spec(o, x, N, k, SP_SM1); }
REF(r_sm2)  { r_spec(o, x, N, k, SP_SM2); }
REF(r_dftr) { r_spec(o, x, N, k, SP_DFTR); }

/* Phasor features (Khushaba): channel c sits at angle 2 pi c / C; the
 * distance between the phasors a e^{j t_i} and b e^{j t_j} is
 * sqrt(a^2 + b^2 - 2 a b cos(t_i - t_j)). Outputs: log D over the pairs,
 * then log(D / D_del). */
static void phasor(double *o, const double *amp, const double *del, size_t C)
{
    size_t np = C * (C - 1) / 2, q = 0;
    for (size_t i = 0; i < C; i++)
        for (size_t j = i + 1; j < C; j++, q++) {
            double c = cos(2.0 * M_PI * (double)(j - i) / (double)C);
            double D = sqrt(fmax(0, amp[i] * amp[i] + amp[j] * amp[j] - 2 * amp[i] * amp[j] * c));
            double Dd = sqrt(fmax(0, del[i] * del[i] + del[j] * del[j] - 2 * del[i] * del[j] * c));
            o[q] = log(D);
            o[np + q] = log(D / Dd);
        }
}
static void r_phasor(double *o, const double *x, size_t N, const struct kern_fctx *k, int wl)
{
    size_t C = k->C;
    double *amp = malloc(2 * C * sizeof *amp), *del = amp + C;
    for (size_t c = 0; c < C; c++) {
        const double *xc = x + c * N;
        amp[c] = wl ? r_dsum(xc, N, f_abs) : sqrt(r_sum(xc, N, f_sq) / N);
        del[c] = wl ? r_d2sum(xc, N, f_abs) : sqrt(r_dsum(xc, N, f_sq) / (N - 1));
    }
    phasor(o, amp, del, C);
    free(amp);
}
REF(r_rmsphasor) { r_phasor(o, x, N, k, 0); }
REF(r_wlphasor)  { r_phasor(o, x, N, k, 1); }

/* Wavelet features (LibEMG's MSWT): pywt.wavedec(x, 'sym8', level=L) by the
 * reference transform, then one statistic of e = c^2 per band c. */
enum { WF_ENG, WF_V, WF_WL, WF_ENT, WF_N };

static double r_wav_band(int which, const double *c, size_t m)
{
    double s = 0;
    switch (which) {
    case WF_ENG:
        for (size_t i = 0; i < m; i++) s += c[i] * c[i];
        return log(s + WAV_EPS);
    case WF_V: {
        double mean = 0;
        for (size_t i = 0; i < m; i++) mean += c[i] * c[i];
        mean /= (double)m;
        for (size_t i = 0; i < m; i++) s += (c[i] * c[i] - mean) * (c[i] * c[i] - mean);
        return log(s / (double)m + WAV_EPS);
    }
    case WF_WL:
        for (size_t i = 0; i + 1 < m; i++) s += fabs(c[i + 1] * c[i + 1] - c[i] * c[i]);
        return log(s + WAV_EPS);
    default: {
        double tot = 0;
        for (size_t i = 0; i < m; i++) tot += c[i] * c[i];
        if (!(tot > 0)) return NAN;  /* an all-zero band has no distribution */
        for (size_t i = 0; i < m; i++) {
            double q = c[i] * c[i] / tot;
            if (q > 0) s -= q * log(q);  /* 0 ln 0 = 0, the limit */
        }
        return s;
    }
    }
}

static void r_wav(double *o, const double *x, size_t N, const struct kern_fctx *k, int which)
{
    size_t lens[KERN_WAV_MAXLEV + 1];
    size_t tot = kern_wav_wavedec_lens(lens, N, k->wlev);
    double *c = malloc((tot + kern_wav_work_len(N)) * sizeof *c);
    kern_wav_wavedec_ref(c, c + tot, x, N, k->wlev);
    const double *band = c;
    for (int b = 0; b <= k->wlev; b++) {
        o[b] = r_wav_band(which, band, lens[b]);
        band += lens[b];
    }
    free(c);
}
REF(r_weng) { (void)ch; r_wav(o, x, N, k, WF_ENG); }
REF(r_wv)   { (void)ch; r_wav(o, x, N, k, WF_V); }
REF(r_wwl)  { (void)ch; r_wav(o, x, N, k, WF_WL); }
REF(r_went) { (void)ch; r_wav(o, x, N, k, WF_ENT); }

/* ---- optimised per-feature functions ------------------------------------- */

#define OPT(name) static void name(double *o, const struct kern_fwin *w, size_t c)
#define ST (&w->st[c])
#define XC (w->xd + c * w->N)
#define NN ((double)w->N)

OPT(o_mav)   { o[0] = ST->sabs / NN; }
OPT(o_meanf) { o[0] = ST->mean; }
OPT(o_rms)   { o[0] = sqrt(ST->ssq / NN); }
OPT(o_iav)   { o[0] = ST->sabs; }
OPT(o_isd)   { o[0] = ST->ssq; }
OPT(o_act)   { o[0] = ST->ssq / NN; }
OPT(o_var)   { o[0] = ST->c2 / NN; }
OPT(o_wl)    { o[0] = ST->sdabs; }
OPT(o_dasdv) { o[0] = sqrt(ST->sdsq / (NN - 1)); }
OPT(o_mavfd) { o[0] = ST->sdabs / (NN - 1); }
OPT(o_mdiff) { o[0] = ST->sdsq / NN; }
OPT(o_mfl)   { o[0] = log10(sqrt(ST->sdsq)); }
OPT(o_mpk)   { o[0] = ST->mx; }
OPT(o_mavsd) { o[0] = ST->s2abs / (NN - 2); }
OPT(o_zc)    { o[0] = ST->zc; }
OPT(o_ssc)   { o[0] = ST->ssc; }
OPT(o_wamp)  { o[0] = ST->wamp; }
OPT(o_log)   { o[0] = ST->haszero ? 0.0 : exp(ST->slog / NN); }
OPT(o_ld)    { o[0] = exp(ST->sld / NN); }
OPT(o_msr)   { o[0] = sqrt(ST->msra * ST->msra + ST->msrb * ST->msrb) / NN; }
OPT(o_tm)    { o[0] = fabs(ST->stm / NN); }
OPT(o_skew)  { double m2 = ST->c2 / NN; o[0] = (ST->c3 / NN) / (m2 * sqrt(m2)); }
OPT(o_kurt)  { double m2 = ST->c2 / NN; o[0] = (ST->c4 / NN) / (m2 * m2) - 3.0; }
OPT(o_mob)   { o[0] = sqrt(ST->sdsq / ST->ssq); }
OPT(o_comp)  { o[0] = sqrt(ST->sd2sq * ST->ssq) / ST->sdsq; }
OPT(o_pap)   { o[0] = sqrt(ST->ssq) * sqrt(ST->sdsq) / sqrt(ST->sd2sq); }
OPT(o_cor)   { o[0] = (ST->sdsq / NN) / ((ST->sd2sq / NN) * ST->ssq); }
OPT(o_mlk)   { o[0] = log(ST->sabs + EPS_SPACING) / NN; }
OPT(o_ar)
{
    double a[65];
    burg(a, XC, w->N, w->k->p->ar_order, w->scratch, w->scratch + w->N);
    for (int i = 0; i < w->k->p->ar_order; i++) o[i] = a[i + 1];
}
OPT(o_cc)
{
    double a[65];
    burg(a, XC, w->N, w->k->p->cc_order, w->scratch, w->scratch + w->N);
    ar_to_cc(o, a, w->k->p->cc_order);
}
/* Bottom-up merge sort (inline comparisons, unlike qsort's callback),
 * then the same L-scale sum as the reference. */
static void msort(double *a, double *tmp, size_t n)
{
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                /* branch-free: the comparison is data-dependent noise */
                int tj = a[j] < a[i];
                tmp[k++] = tj ? a[j] : a[i];
                j += (size_t)tj;
                i += (size_t)!tj;
            }
            while (i < mid) tmp[k++] = a[i++];
            while (j < hi) tmp[k++] = a[j++];
        }
        memcpy(a, tmp, n * sizeof *a);
    }
}
OPT(o_ls)
{
    size_t N = w->N;
    double *a = w->scratch, *tmp = w->scratch + N;
    memcpy(a, XC, N * sizeof *a);
    msort(a, tmp, N);
    double b0 = 0, b1 = 0;
    for (size_t i = 0; i < N; i++) {
        b0 += a[i];
        b1 += (double)i / (double)(N - 1) * a[i];
    }
    o[0] = 2 * b1 / N - b0 / N;
}
OPT(o_mavslp) { mavslp(o, XC, w->N, w->k->p->mavslp_segments); }

/* Sums for TD-PSD of one sequence in one pass. */
static void td_sums(double s[5], const double *y, size_t N)
{
    double s0 = 0, s2 = 0, s4 = 0, a1 = 0, a2 = 0;
    for (size_t i = 0; i < N; i++) {
        s0 += y[i] * y[i];
        if (i + 1 < N) { double d = y[i + 1] - y[i]; s2 += d * d; a1 += fabs(d); }
        if (i + 2 < N) { double e = y[i + 2] - 2 * y[i + 1] + y[i]; s4 += e * e; a2 += fabs(e); }
    }
    s[0] = s0; s[1] = s2; s[2] = s4; s[3] = a1; s[4] = a2;
}
/* The six TD-PSD features share their sums, computed once per channel in
 * deep_stats. */
static void o_tdpsd(double *o, const struct kern_fwin *w, size_t c, int which)
{
    const double *b = ST->td_b, *e = ST->td_e;
    double ebp = tdpsd_f(which, b[0], b[1], b[2], b[3], b[4], w->N);
    double efp = tdpsd_f(which, e[0], e[1], e[2], e[3], e[4], w->N);
    o[0] = tdpsd_combine(efp, ebp);
}
OPT(o_m0)     { o_tdpsd(o, w, c, TD_M0); }
OPT(o_m2)     { o_tdpsd(o, w, c, TD_M2); }
OPT(o_m4)     { o_tdpsd(o, w, c, TD_M4); }
OPT(o_sparsi) { o_tdpsd(o, w, c, TD_SPARSI); }
OPT(o_irf)    { o_tdpsd(o, w, c, TD_IRF); }
OPT(o_wlf)    { o_tdpsd(o, w, c, TD_WLF); }

/* Unordered pairs with early exit: the first coordinate over the
 * tolerance ends the comparison. */
OPT(o_sampen)
{
    const double *x = XC;
    size_t N = w->N, m = (size_t)w->k->p->sampen_dim, M = N - m;
    double r = w->k->p->sampen_tol * sqrt(ST->c2 / NN);
    size_t B = 0, A = 0;
    for (size_t i = 0; i + 1 < M; i++) {
        for (size_t j = i + 1; j < M; j++) {
            size_t q = 0;
            while (q < m && fabs(x[i + q] - x[j + q]) <= r) q++;
            if (q < m) continue;
            B++;
            A += fabs(x[i + m] - x[j + m]) <= r;
        }
    }
    double P = (double)M * (double)(M - 1) / 2;
    o[0] = log((double)B / P + EPS_SPACING) - log((double)A / P + EPS_SPACING);
}

/* Symmetric: each unordered pair once; template means precomputed. A pair
 * whose distance passes zcut * r (membership < e^-36, about 2e-16, while
 * phi is a mean of memberships of which the nearest are near 1) is skipped
 * as soon as one coordinate shows it, which skips most exp() calls; the
 * reference computes every term. */
static double o_fuzzy_phi(const double *x, size_t M, size_t L, double r, int n, double *mean)
{
    for (size_t i = 0; i < M; i++) {
        double s = 0;
        for (size_t q = 0; q < L; q++) s += x[i + q];
        mean[i] = s / L;
    }
    double inv_r = 1.0 / r, s = 0, dcut = pow(36.0, 1.0 / n) * r;
    for (size_t i = 0; i + 1 < M; i++)
        for (size_t j = i + 1; j < M; j++) {
            double d = 0, dm = mean[i] - mean[j];
            size_t q = 0;
            for (; q < L && d <= dcut; q++) d = fmax(d, fabs(x[i + q] - x[j + q] - dm));
            if (d > dcut) continue;
            double z = d * inv_r;
            s += n == 2 ? (double)expf((float)-(z * z)) : exp(-pow(z, n));
        }
    return 2 * s / ((double)M * (double)(M - 1));
}
OPT(o_fuzzyen)
{
    const struct kern_feat_params *p = w->k->p;
    size_t m = (size_t)p->fuzzyen_dim, M = w->N - m;
    double r = p->fuzzyen_tol * sqrt(ST->c2 / NN);
    o[0] = log(o_fuzzy_phi(XC, M, m, r, p->fuzzyen_n, w->scratch)) -
           log(o_fuzzy_phi(XC, M, m + 1, r, p->fuzzyen_n, w->scratch));
}

#define PC (w->P + c * w->k->K)
OPT(o_mnf)  { spectral(o, SP_MNF, PC, w->k); }
OPT(o_mdf)  { spectral(o, SP_MDF, PC, w->k); }
OPT(o_mnp)  { spectral(o, SP_MNP, PC, w->k); }
OPT(o_ttp)  { spectral(o, SP_TTP, PC, w->k); }
OPT(o_pkf)  { spectral(o, SP_PKF, PC, w->k); }
OPT(o_sm0)  { spectral(o, SP_SM0, PC, w->k); }
OPT(o_sm1)  { spectral(o, SP_SM1, PC, w->k); }
OPT(o_sm2)  { spectral(o, SP_SM2, PC, w->k); }
OPT(o_dftr) { spectral(o, SP_DFTR, PC, w->k); }

/* Amplitudes from the double copy: the log ratios are small differences
 * of logs, so float partial sums would cost digits. */
static void o_phasor(double *o, const struct kern_fwin *w, int wl)
{
    size_t C = w->C, N = w->N;
    double *amp = w->scratch, *del = amp + C;  /* scratch is >= 2C */
    for (size_t c = 0; c < C; c++) {
        const double *x = w->xd + c * N;
        double s0 = 0, s1 = 0;
        for (size_t i = 0; i + 1 < N; i++) {
            double d = x[i + 1] - x[i];
            if (wl) {
                s0 += fabs(d);
                if (i + 2 < N) s1 += fabs(x[i + 2] - 2 * x[i + 1] + x[i]);
            } else {
                s0 += x[i] * x[i];
                s1 += d * d;
            }
        }
        if (!wl) s0 += x[N - 1] * x[N - 1];
        amp[c] = wl ? s0 : sqrt(s0 / NN);
        del[c] = wl ? s1 : sqrt(s1 / (NN - 1));
    }
    phasor(o, amp, del, C);
}
/* The four wavelet features of every band of channel c's one transform
 * (computed per window in wav_stats). */
static void o_wav(double *o, const struct kern_fwin *w, size_t c, int which)
{
    size_t nb = (size_t)w->k->wlev + 1;
    memcpy(o, w->wst + (c * WF_N + (size_t)which) * nb, nb * sizeof *o);
}
OPT(o_weng) { o_wav(o, w, c, WF_ENG); }
OPT(o_wv)   { o_wav(o, w, c, WF_V); }
OPT(o_wwl)  { o_wav(o, w, c, WF_WL); }
OPT(o_went) { o_wav(o, w, c, WF_ENT); }

OPT(o_rmsphasor) { (void)c; o_phasor(o, w, 0); }
OPT(o_wlphasor)  { (void)c; o_phasor(o, w, 1); }

/* ---- registry ------------------------------------------------------------ */

#define F(nm, sum, fl, n, mn, r, op, nd) { nm, sum, fl, n, mn, r, op, nd }
const struct kern_feature kern_features[] = {
    F("MAV", "mean absolute value", 0, one, 1, r_mav, o_mav, NEED_FUSED),
    F("MEAN", "mean", 0, one, 1, r_meanf, o_meanf, NEED_MOM),
    F("RMS", "root mean square", 0, one, 1, r_rms, o_rms, NEED_FUSED),
    F("IAV", "integral of absolute value", 0, one, 1, r_iav, o_iav, NEED_FUSED),
    F("ISD", "integral square descriptor (sum of squares)", 0, one, 1, r_isd, o_isd, NEED_FUSED),
    F("VAR", "variance about the window mean (ddof 0)", 0, one, 1, r_var, o_var, NEED_MOM),
    F("WL", "waveform length", 0, one, 2, r_wl, o_wl, NEED_FUSED),
    F("DASDV", "difference absolute standard deviation value", 0, one, 2, r_dasdv, o_dasdv, NEED_FUSED),
    F("MAVFD", "mean absolute value of the first difference", 0, one, 2, r_mavfd, o_mavfd, NEED_FUSED),
    F("MAVSD", "mean absolute value of the second difference x[i+2]-x[i]", 0, one, 3, r_mavsd, o_mavsd, NEED_D2),
    F("ZC", "zero crossings with amplitude threshold", KERN_FEAT_THRESH, one, 2, r_zc, o_zc, NEED_FUSED),
    F("SSC", "slope sign changes with threshold", KERN_FEAT_THRESH, one, 3, r_ssc, o_ssc, NEED_FUSED),
    F("WAMP", "Willison amplitude", KERN_FEAT_THRESH, one, 2, r_wamp, o_wamp, NEED_FUSED),
    F("LOG", "log detector exp(mean ln|x|)", 0, one, 1, r_log, o_log, NEED_LOG),
    F("LD", "LibEMG's log detector exp(mean ln(|x|+1))", 0, one, 1, r_ld, o_ld, NEED_LOG),
    F("MSR", "mean square root (complex, as LibEMG)", 0, one, 1, r_msr, o_msr, NEED_ROOT),
    F("TM", "absolute temporal moment |mean(x^order)|", 0, one, 1, r_tm, o_tm, NEED_ROOT),
    F("MPK", "maximum (signed peak)", 0, one, 1, r_mpk, o_mpk, NEED_FUSED),
    F("SKEW", "skewness (biased)", 0, one, 1, r_skew, o_skew, NEED_MOM),
    F("KURT", "excess kurtosis (biased, normal = 0)", 0, one, 1, r_kurt, o_kurt, NEED_MOM),
    F("ACT", "Hjorth activity mean(x^2)", 0, one, 1, r_act, o_act, NEED_FUSED),
    F("MOB", "Hjorth mobility", 0, one, 2, r_mob, o_mob, NEED_FUSED),
    F("COMP", "Hjorth complexity", 0, one, 3, r_comp, o_comp, NEED_FUSED | NEED_D2),
    F("AR", "autoregressive coefficients a1..ap (Burg)", 0, n_ar, 0, r_ar, o_ar, NEED_XD),
    F("CC", "cepstral coefficients of the AR model", 0, n_cc, 0, r_cc, o_cc, NEED_XD),
    F("MAVSLP", "mean absolute value slope between segments", 0, n_mavslp, 0, r_mavslp, o_mavslp, NEED_XD),
    F("LS", "L-scale (second L-moment)", 0, one, 2, r_ls, o_ls, NEED_XD),
    F("MFL", "maximum fractal length log10(sqrt(sum d^2))", 0, one, 2, r_mfl, o_mfl, NEED_FUSED),
    F("PAP", "peak average power m0 m2 / m4 (root sums)", 0, one, 3, r_pap, o_pap, NEED_FUSED | NEED_D2),
    F("M0", "TD-PSD zero-order moment", 0, one, 3, r_m0, o_m0, NEED_TDPSD),
    F("M2", "TD-PSD second-order moment", 0, one, 3, r_m2, o_m2, NEED_TDPSD),
    F("M4", "TD-PSD fourth-order moment", 0, one, 3, r_m4, o_m4, NEED_TDPSD),
    F("SPARSI", "TD-PSD sparseness", 0, one, 3, r_sparsi, o_sparsi, NEED_TDPSD),
    F("IRF", "TD-PSD irregularity factor", 0, one, 3, r_irf, o_irf, NEED_TDPSD),
    F("WLF", "TD-PSD waveform length factor", 0, one, 3, r_wlf, o_wlf, NEED_TDPSD),
    F("SAMPEN", "sample entropy", KERN_FEAT_QUAD, one, 0, r_sampen, o_sampen, NEED_MOM),
    F("FUZZYEN", "fuzzy entropy", KERN_FEAT_QUAD, one, 0, r_fuzzyen, o_fuzzyen, NEED_MOM),
    F("COR", "coefficient of regularization", 0, one, 3, r_cor, o_cor, NEED_FUSED | NEED_D2),
    F("MDIFF", "mean squared first difference sum(d^2)/N", 0, one, 2, r_mdiff, o_mdiff, NEED_FUSED),
    F("MLK", "mean logarithm kernel ln(sum|x| + eps)/N", 0, one, 1, r_mlk, o_mlk, NEED_FUSED),
    F("MNF", "mean frequency", KERN_FEAT_SPECTRAL, one, 2, r_mnf, o_mnf, NEED_SPEC),
    F("MDF", "median frequency", KERN_FEAT_SPECTRAL, one, 2, r_mdf, o_mdf, NEED_SPEC),
    F("MNP", "mean power", KERN_FEAT_SPECTRAL, one, 2, r_mnp, o_mnp, NEED_SPEC),
    F("TTP", "total power", KERN_FEAT_SPECTRAL, one, 2, r_ttp, o_ttp, NEED_SPEC),
    F("PKF", "peak frequency", KERN_FEAT_SPECTRAL, one, 2, r_pkf, o_pkf, NEED_SPEC),
    F("SM0", "spectral moment of order 0", KERN_FEAT_SPECTRAL, one, 2, r_sm0, o_sm0, NEED_SPEC),
    F("SM1", "spectral moment of order 1", KERN_FEAT_SPECTRAL, one, 2, r_sm1, o_sm1, NEED_SPEC),
    F("SM2", "spectral moment of order 2", KERN_FEAT_SPECTRAL, one, 2, r_sm2, o_sm2, NEED_SPEC),
    F("DFTR", "DFT band amplitudes^(2/3), 20-450 Hz in 6 bands", KERN_FEAT_SPECTRAL, n_dftr, 2, r_dftr, o_dftr, NEED_SPEC),
    F("RMSPHASOR", "RMS phasor distances between channels", KERN_FEAT_PAIRS, one, 2, r_rmsphasor, o_rmsphasor, NEED_XD),
    F("WLPHASOR", "WL phasor distances between channels", KERN_FEAT_PAIRS, one, 3, r_wlphasor, o_wlphasor, NEED_XD),
    F("WENG", "sym8 wavelet band log energy ln(sum c^2 + 1e-10)", KERN_FEAT_WAVELET, n_wav, 1, r_weng, o_weng, NEED_WAV),
    F("WV", "sym8 wavelet band log variance of c^2", KERN_FEAT_WAVELET, n_wav, 1, r_wv, o_wv, NEED_WAV),
    F("WWL", "sym8 wavelet band log waveform length of c^2", KERN_FEAT_WAVELET, n_wav, 1, r_wwl, o_wwl, NEED_WAV),
    F("WENT", "sym8 wavelet band entropy of c^2 / sum c^2", KERN_FEAT_WAVELET, n_wav, 1, r_went, o_went, NEED_WAV),
    { NULL, NULL, 0, NULL, 0, NULL, NULL, 0 },
};

const struct kern_feature_group kern_feature_groups[] = {
    { "HTD", "Hudgins time domain", "MAV,ZC,SSC,WL" },
    { "TD4", "alias of HTD", "MAV,ZC,SSC,WL" },
    { "TDAR", "Hudgins + AR", "MAV,ZC,SSC,WL,AR" },
    { "LS4", "Phinyomark 2018 low-sampling set of 4", "LS,MFL,MSR,WAMP" },
    { "LS9", "Phinyomark 2018 low-sampling set of 9", "LS,MFL,MSR,WAMP,ZC,RMS,IAV,DASDV,VAR" },
    { "TDPSD", "Khushaba time-domain power spectral descriptors", "M0,M2,M4,SPARSI,IRF,WLF" },
    { "TSTD", "temporal-spatial descriptors (per channel part)",
      "MAVFD,DASDV,WAMP,ZC,MFL,SAMPEN,M0,M2,M4,SPARSI,IRF,WLF" },
    { "ITD", "invariant time domain", "ISD,COR,MDIFF,MLK" },
    { "HJORTH", "Hjorth parameters", "ACT,MOB,COMP" },
    { "COMB", "LibEMG's COMB with AR (its AR9 is not a feature name)", "WL,SSC,LD,AR" },
    { "SPECTRAL", "frequency-domain features", "MNF,MDF,MNP,TTP,PKF,SM0,SM1,SM2" },
    { "MSWT", "multiscale wavelet transform features (sym8)", "WENG,WV,WWL,WENT" },
    { NULL, NULL, NULL },
};

const struct kern_feature *kern_feature_find(const char *name)
{
    for (const struct kern_feature *f = kern_features; f->name; f++)
        if (!strcasecmp(f->name, name))
            return f;
    return NULL;
}

/* ---- sets ---------------------------------------------------------------- */

static int check_params(const struct kern_feat_params *p)
{
#define BAD(cond, ...) do { if (cond) return mb_error(MB_EINVAL, __VA_ARGS__); } while (0)
    BAD(!(p->fs > 0) || !isfinite(p->fs), "feature parameter fs %g Hz must be positive", p->fs);
    BAD(p->ar_order < 1 || p->ar_order > 64, "feature parameter ar_order %d outside 1..64", p->ar_order);
    BAD(p->cc_order < 1 || p->cc_order > 64, "feature parameter cc_order %d outside 1..64", p->cc_order);
    BAD(p->mavslp_segments < 2 || p->mavslp_segments > 64, "feature parameter mavslp_segments %d outside 2..64", p->mavslp_segments);
    BAD(p->tm_order < 1 || p->tm_order > 16, "feature parameter tm_order %d outside 1..16", p->tm_order);
    BAD(p->sampen_dim < 1 || p->sampen_dim > 16, "feature parameter sampen_dim %d outside 1..16", p->sampen_dim);
    BAD(p->fuzzyen_dim < 1 || p->fuzzyen_dim > 16, "feature parameter fuzzyen_dim %d outside 1..16", p->fuzzyen_dim);
    BAD(!(p->sampen_tol > 0), "feature parameter sampen_tol %g must be positive", p->sampen_tol);
    BAD(!(p->fuzzyen_tol > 0), "feature parameter fuzzyen_tol %g must be positive", p->fuzzyen_tol);
    BAD(p->fuzzyen_n < 1 || p->fuzzyen_n > 8, "feature parameter fuzzyen_n %d outside 1..8", p->fuzzyen_n);
    BAD(p->thr_unit != KERN_THR_RMS && p->thr_unit != KERN_THR_SIGNAL && p->thr_unit != KERN_THR_VOLTS,
        "feature parameter thr_unit %d unknown", (int)p->thr_unit);
    BAD(!(p->zc_thr >= 0) || !(p->ssc_thr >= 0) || !(p->wamp_thr >= 0),
        "thresholds zc %g, ssc %g, wamp %g must be >= 0", p->zc_thr, p->ssc_thr, p->wamp_thr);
    BAD(p->wavelet_level < 0 || p->wavelet_level > KERN_WAV_MAXLEV,
        "feature parameter wavelet_level %d outside 0..%d (0: from fs)", p->wavelet_level, KERN_WAV_MAXLEV);
#undef BAD
    return MB_OK;
}

static int add_feature(struct kern_feature_set *fs, const struct kern_feature *f)
{
    for (size_t i = 0; i < fs->n; i++)
        if (fs->feat[i] == f)
            return MB_OK;
    if (fs->n == KERN_FEAT_MAX)
        return mb_error(MB_EINVAL, "more than %d features in one set", KERN_FEAT_MAX);
    fs->feat[fs->n++] = f;
    return MB_OK;
}

static int add_name(struct kern_feature_set *fs, const char *name, int depth)
{
    const struct kern_feature *f = kern_feature_find(name);
    if (f)
        return add_feature(fs, f);
    if (!strcasecmp(name, "ALL")) {
        for (f = kern_features; f->name; f++) {
            int rc = add_feature(fs, f);
            if (rc) return rc;
        }
        return MB_OK;
    }
    for (const struct kern_feature_group *g = kern_feature_groups; g->name && depth == 0; g++) {
        if (strcasecmp(g->name, name)) continue;
        char buf[256];
        snprintf(buf, sizeof buf, "%s", g->members);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            int rc = add_name(fs, t, depth + 1);
            if (rc) return rc;
        }
        return MB_OK;
    }
    return mb_error(MB_EINVAL, "unknown feature or group '%s'", name);
}

int kern_feature_set_parse(struct kern_feature_set *fs, const char *list, const struct kern_feat_params *p)
{
    memset(fs, 0, sizeof *fs);
    if (p) fs->p = *p;
    else kern_feat_params_default(&fs->p);
    int rc = check_params(&fs->p);
    if (rc) return rc;
    if (!list)
        return mb_error(MB_EINVAL, "empty feature list");
    size_t len = strlen(list);
    char *buf = malloc(len + 1);
    if (!buf) return mb_error(MB_ENOMEM, "feature list");
    memcpy(buf, list, len + 1);
    /* split by hand: strtok would skip the empty name in "MAV,,WL" */
    for (char *t = buf; t && !rc;) {
        char *comma = strchr(t, ',');
        if (comma) *comma = '\0';
        while (isspace((unsigned char)*t)) t++;
        char *e = t + strlen(t);
        while (e > t && isspace((unsigned char)e[-1])) *--e = '\0';
        if (!*t) { rc = mb_error(MB_EINVAL, "empty name in feature list '%s'", list); break; }
        rc = add_name(fs, t, 0);
        t = comma ? comma + 1 : NULL;
    }
    free(buf);
    if (!rc && fs->n == 0)
        rc = mb_error(MB_EINVAL, "feature list '%s' names no feature", list);
    for (size_t i = 0; i < fs->n && !rc; i++) {
        int L = kern_feat_wavelet_level(&fs->p);
        if ((fs->feat[i]->flags & KERN_FEAT_WAVELET) && (L < 1 || L > KERN_WAV_MAXLEV))
            rc = mb_error(MB_EINVAL, "feature '%s': wavelet level %d (from fs %g Hz) outside 1..%d; set wavelet_level",
                          fs->feat[i]->name, L, fs->p.fs, KERN_WAV_MAXLEV);
    }
    return rc;
}

unsigned kern_feature_set_thr_rows(const struct kern_feature_set *fs)
{
    /* the rows r_zc, r_ssc and r_wamp (and their fused forms) read */
    static const char *const by_row[3] = { "ZC", "SSC", "WAMP" };
    unsigned rows = 0;
    for (size_t i = 0; i < fs->n; i++)
        for (unsigned q = 0; q < 3; q++)
            if (!strcmp(fs->feat[i]->name, by_row[q]))
                rows |= 1u << q;
    return rows;
}

void kern_feature_set_free(struct kern_feature_set *fs)
{
    if (!fs) return;
    free(fs->thr);
    fs->thr = NULL;
    fs->thr_C = 0;
}

static int uses_thresholds(const struct kern_feature_set *fs)
{
    const struct kern_feat_params *p = &fs->p;
    for (size_t i = 0; i < fs->n; i++) {
        const char *n = fs->feat[i]->name;
        if ((!strcmp(n, "ZC") && p->zc_thr > 0) || (!strcmp(n, "SSC") && p->ssc_thr > 0) ||
            (!strcmp(n, "WAMP") && p->wamp_thr > 0))
            return 1;
    }
    return 0;
}

int kern_feature_set_thresholds(struct kern_feature_set *fs, size_t C, double volts_per_unit, const double *rms)
{
    const struct kern_feat_params *p = &fs->p;
    if (C == 0)
        return mb_error(MB_EINVAL, "thresholds for 0 channels");
    double *thr = malloc(3 * C * sizeof *thr);
    if (!thr) return mb_error(MB_ENOMEM, "thresholds for %zu channels", C);
    const double v[3] = { p->zc_thr, p->ssc_thr, p->wamp_thr };
    for (size_t c = 0; c < C; c++) {
        double scale = 1;
        if (p->thr_unit == KERN_THR_VOLTS) {
            if (!(volts_per_unit > 0) && (v[0] > 0 || v[1] > 0 || v[2] > 0)) {
                free(thr);
                return mb_error(MB_EINVAL, "thresholds in volts need the device scale (volts per unit), got %g",
                                volts_per_unit);
            }
            scale = volts_per_unit > 0 ? 1.0 / volts_per_unit : 0;
        } else if (p->thr_unit == KERN_THR_RMS) {
            if (!rms && (v[0] > 0 || v[1] > 0 || v[2] > 0)) {
                free(thr);
                return mb_error(MB_EINVAL, "thresholds relative to the rms need the training rms of each channel");
            }
            scale = rms ? rms[c] : 0;
            if (rms && !(scale >= 0 && isfinite(scale))) {
                free(thr);
                return mb_error(MB_EINVAL, "training rms of channel %zu is %g", c + 1, scale);
            }
        }
        for (int q = 0; q < 3; q++)
            thr[q * C + c] = v[q] * scale;
    }
    free(fs->thr);
    fs->thr = thr;
    fs->thr_C = C;
    return MB_OK;
}

static size_t feat_width(const struct kern_feature *f, const struct kern_feat_params *p, size_t C)
{
    if (f->flags & KERN_FEAT_PAIRS)
        return C * (C - 1);
    return C * f->n_per_channel(p);
}

size_t kern_feature_set_width(const struct kern_feature_set *fs, size_t C)
{
    size_t w = 0;
    for (size_t i = 0; i < fs->n; i++)
        w += feat_width(fs->feat[i], &fs->p, C);
    return w;
}

int kern_feature_column_name(char *buf, size_t cap, const struct kern_feature_set *fs, size_t C, size_t j)
{
    for (size_t i = 0; i < fs->n; i++) {
        const struct kern_feature *f = fs->feat[i];
        size_t w = feat_width(f, &fs->p, C);
        if (j >= w) { j -= w; continue; }
        if (f->flags & KERN_FEAT_PAIRS) {
            size_t np = C * (C - 1) / 2, q = j % np, a = 0, b;
            for (;;) {
                size_t row = C - 1 - a;
                if (q < row) break;
                q -= row;
                a++;
            }
            b = a + 1 + q;
            snprintf(buf, cap, "%s_%s_%zu_%zu", f->name, j < np ? "d" : "r", a, b);
            return MB_OK;
        }
        size_t k = f->n_per_channel(&fs->p);
        if (f->flags & KERN_FEAT_WAVELET) {
            /* band b of L + 1: A_L, then D_L .. D_1 */
            size_t b = j % k, L = k - 1;
            snprintf(buf, cap, "%s_%c%zu_ch%zu", f->name, b ? 'D' : 'A', b ? L + 1 - b : L, j / k);
            return MB_OK;
        }
        if (k == 1) snprintf(buf, cap, "%s_ch%zu", f->name, j);
        else snprintf(buf, cap, "%s%zu_ch%zu", f->name, j % k + 1, j / k);
        return MB_OK;
    }
    return mb_error(MB_EINVAL, "feature column %zu beyond the set's width", j);
}

/* ---- extraction: shared checks ------------------------------------------- */

static size_t next_pow2(size_t n)
{
    size_t p = 1;
    while (p < n) p <<= 1;
    return p;
}

static size_t min_len(const struct kern_feature *f, const struct kern_feat_params *p)
{
    if (f->min_n) return f->min_n;
    if (!strcmp(f->name, "AR")) return (size_t)p->ar_order + 1;
    if (!strcmp(f->name, "CC")) return (size_t)p->cc_order + 1;
    if (!strcmp(f->name, "MAVSLP")) return (size_t)p->mavslp_segments;
    if (!strcmp(f->name, "SAMPEN")) return (size_t)p->sampen_dim + 2;
    if (!strcmp(f->name, "FUZZYEN")) return (size_t)p->fuzzyen_dim + 2;
    return 1;
}

static int prepare(struct kern_fctx *k, double **thr_own, const float *x, size_t T, size_t C,
                   const struct kern_windows *w, const struct kern_feature_set *fs)
{
    memset(k, 0, sizeof *k);
    *thr_own = NULL;
    if (C == 0)
        return mb_error(MB_EINVAL, "feature extraction on 0 channels");
    if (!x && w->n)
        return mb_error(MB_EINVAL, "feature extraction without a signal");
    size_t N = w->W;
    for (size_t i = 0; i < w->n; i++)
        if (w->start[i] + N > T)
            return mb_error(MB_EINVAL, "window %zu [%zu, %zu) runs past the recording's %zu samples",
                            i, w->start[i], w->start[i] + N, T);
    k->p = &fs->p;
    k->C = C;
    k->N = N;
    k->nfft = next_pow2(N);
    k->K = k->nfft / 2;
    k->wlev = kern_feat_wavelet_level(&fs->p);
    for (size_t i = 0; i < fs->n; i++) {
        const struct kern_feature *f = fs->feat[i];
        size_t mn = min_len(f, &fs->p);
        if (N < mn)
            return mb_error(MB_EINVAL, "feature '%s' needs windows of at least %zu samples, got %zu", f->name, mn, N);
        if (!strcmp(f->name, "DFTR")) {
            for (size_t b = 0; b < n_dftr(&fs->p); b++) {
                size_t cnt = 0;
                for (size_t q = 0; q < k->K; q++) {
                    double fq = binf(q, k);
                    cnt += fq > dftr_lo[b] && fq < dftr_hi[b];
                }
                if (!cnt)
                    return mb_error(MB_EINVAL, "feature 'DFTR': band %g-%g Hz has no FFT bin for windows of %zu samples at %g Hz",
                                    dftr_lo[b], dftr_hi[b], N, fs->p.fs);
            }
        }
    }
    if (fs->thr && fs->thr_C == C) {
        k->thr = fs->thr;
    } else if (fs->p.thr_unit == KERN_THR_SIGNAL || !uses_thresholds(fs)) {
        double *t = malloc(3 * C * sizeof *t);
        if (!t) return mb_error(MB_ENOMEM, "thresholds");
        for (size_t c = 0; c < C; c++) {
            t[c] = fs->p.thr_unit == KERN_THR_SIGNAL ? fs->p.zc_thr : 0;
            t[C + c] = fs->p.thr_unit == KERN_THR_SIGNAL ? fs->p.ssc_thr : 0;
            t[2 * C + c] = fs->p.thr_unit == KERN_THR_SIGNAL ? fs->p.wamp_thr : 0;
        }
        *thr_own = t;
        k->thr = t;
    } else {
        return mb_error(MB_EINVAL, "thresholds in %s units need kern_feature_set_thresholds for %zu channels%s",
                        fs->p.thr_unit == KERN_THR_RMS ? "training-rms" : "volt", C,
                        fs->thr_C ? " (resolved for another channel count)" : "");
    }
    return MB_OK;
}

/* First non-finite value, in window order, reported with its column. */
static int check_finite(const float *out, size_t n, size_t F, const struct kern_feature_set *fs, size_t C,
                        const struct kern_windows *w)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < F; j++)
            if (!isfinite(out[i * F + j])) {
                char name[96];
                if (kern_feature_column_name(name, sizeof name, fs, C, j)) name[0] = '\0';
                return mb_error(MB_ENUM, "feature %s of window %zu (samples %zu..%zu) is %s", name, i,
                                w->start[i] + 1, w->start[i] + w->W,
                                isnan(out[i * F + j]) ? "not a number (constant window or dead channel?)" : "infinite");
            }
    return MB_OK;
}

void kern_channel_rms(double *rms, const float *x, size_t T, size_t C, const struct kern_windows *w)
{
    (void)T;
    for (size_t c = 0; c < C; c++) rms[c] = 0;
    for (size_t i = 0; i < w->n; i++)
        for (size_t t = 0; t < w->W; t++)
            for (size_t c = 0; c < C; c++) {
                double v = x[(w->start[i] + t) * C + c];
                rms[c] += v * v;
            }
    double n = (double)w->n * (double)w->W;
    for (size_t c = 0; c < C; c++) rms[c] = n > 0 ? sqrt(rms[c] / n) : 0;
}

/* ---- reference extraction ------------------------------------------------ */

int kern_features_extract_ref(float *out, const float *x, size_t T, size_t C, const struct kern_windows *w,
                              const struct kern_feature_set *fs)
{
    struct kern_fctx k;
    double *thr_own;
    int rc = prepare(&k, &thr_own, x, T, C, w, fs);
    if (rc) return rc;
    size_t N = w->W, F = kern_feature_set_width(fs, C);
    double *xd = malloc(C * N * sizeof *xd), *o = malloc((F + 1) * sizeof *o);
    if (!xd || !o) {
        free(xd); free(o); free(thr_own);
        return mb_error(MB_ENOMEM, "reference feature scratch");
    }
    for (size_t i = 0; i < w->n; i++) {
        const float *X = kern_window_ptr(x, C, w, i);
        for (size_t c = 0; c < C; c++)
            for (size_t t = 0; t < N; t++)
                xd[c * N + t] = X[t * C + c];
        size_t col = 0;
        for (size_t f = 0; f < fs->n; f++) {
            const struct kern_feature *ft = fs->feat[f];
            if (ft->flags & KERN_FEAT_PAIRS) {
                if (C > 1) ft->ref(o + col, xd, N, &k, 0);
                col += feat_width(ft, &fs->p, C);
                continue;
            }
            size_t kk = ft->n_per_channel(&fs->p);
            for (size_t c = 0; c < C; c++, col += kk)
                ft->ref(o + col, xd + c * N, N, &k, c);
        }
        for (size_t j = 0; j < F; j++)
            out[i * F + j] = (float)o[j];
    }
    free(xd);
    free(o);
    free(thr_own);
    return check_finite(out, w->n, F, fs, C, w);
}

/* ---- optimised extraction ------------------------------------------------ */

/* The cheap time-domain sums of every channel in one pass over the strided
 * float window. Four channels at a time in SSE registers (GCC vector
 * extensions), rows inner, so all twelve accumulators stay in registers;
 * leftover channels take the scalar twin, which performs the same float
 * operations in the same order as one lane. Float partial sums over
 * blocks of BLK rows keep the vector width; flushing them into double
 * every block keeps a sum's error near the float rounding of one block. */
enum { BLK = 32 };

/* One body for every vector width: L lanes = L channels. */
#define DEFINE_FUSED(NAME, VF, VI, L, ATTR)                                                        \
    typedef float VF __attribute__((vector_size(4 * (L))));                                        \
    typedef int32_t VI __attribute__((vector_size(4 * (L))));                                      \
    ATTR static void NAME(struct chstat *s, const float *X, size_t N, size_t ld, const double *thr, \
                          size_t C)                                                                \
    {                                                                                              \
        VF tz, ts2, tw, xp, zero;                                                                  \
        for (int l = 0; l < (L); l++) {                                                            \
            tz[l] = (float)thr[l];                                                                 \
            ts2[l] = (float)(thr[C + l] * thr[C + l]);                                             \
            tw[l] = (float)thr[2 * C + l];                                                         \
            zero[l] = 0;                                                                           \
        }                                                                                          \
        memcpy(&xp, X, sizeof xp);                                                                 \
        VF xpp = xp, mx = xp;                                                                      \
        VI zc = (VI)(zero * 0), ssc = zc, wamp = zc;                                              \
        double dabs[L], dsq[L], ddabs[L], ddsq[L];                                                 \
        for (int l = 0; l < (L); l++) {                                                            \
            dabs[l] = fabsf(xp[l]);                                                                \
            dsq[l] = (double)xp[l] * xp[l];                                                        \
            ddabs[l] = ddsq[l] = 0;                                                                \
        }                                                                                          \
        for (size_t n0 = 1; n0 < N; n0 += BLK) {                                                   \
            size_t n1 = n0 + BLK < N ? n0 + BLK : N;                                               \
            VF aabs = zero, asq = zero, adabs = zero, adsq = zero;                                 \
            for (size_t n = n0; n < n1; n++) {                                                     \
                VF v, p = xp;                                                                      \
                memcpy(&v, X + n * ld, sizeof v);                                                  \
                VF d = v - p, ad = (VF)((VI)d & 0x7fffffff);                                       \
                aabs += (VF)((VI)v & 0x7fffffff);                                                  \
                asq += v * v;                                                                      \
                adabs += ad;                                                                       \
                adsq += d * d;                                                                     \
                VI gt = v > mx;                                                                    \
                mx = (VF)(((VI)v & gt) | ((VI)mx & ~gt));                                          \
                /* comparisons give -1 for true, so subtracting counts */                          \
                zc -= (((v > zero) & (p < zero)) | ((v < zero) & (p > zero))) & (ad >= tz);        \
                wamp -= ad > tw;                                                                   \
                ssc -= (p - xpp) * (p - v) > ts2; /* row 1: xpp == p, product 0 */                 \
                xpp = p;                                                                           \
                xp = v;                                                                            \
            }                                                                                      \
            for (int l = 0; l < (L); l++) {                                                        \
                dabs[l] += aabs[l];                                                                \
                dsq[l] += asq[l];                                                                  \
                ddabs[l] += adabs[l];                                                              \
                ddsq[l] += adsq[l];                                                                \
            }                                                                                      \
        }                                                                                          \
        for (int l = 0; l < (L); l++) {                                                            \
            s[l].sabs = dabs[l]; s[l].ssq = dsq[l]; s[l].sdabs = ddabs[l]; s[l].sdsq = ddsq[l];    \
            s[l].mx = mx[l]; s[l].zc = zc[l]; s[l].ssc = ssc[l]; s[l].wamp = wamp[l];              \
        }                                                                                          \
    }

DEFINE_FUSED(fused4, v4f, v4i, 4, )
/* AVX2 twin, 8 channels per register, chosen at run time. Same IEEE float
 * operations per lane and no FMA (ISO C mode keeps -ffp-contract=off), so
 * it gives the same bytes as the SSE path on any machine. */
DEFINE_FUSED(fused8_avx2, v8f, v8i, 8, __attribute__((target("avx2"))))

static void fused1(struct chstat *s, const float *X, size_t N, size_t ld, const double *thr, size_t C)
{
    float tz = (float)thr[0], ts2 = (float)(thr[C] * thr[C]), tw = (float)thr[2 * C];
    float xp = X[0], xpp = xp, mx = xp;
    int32_t zc = 0, ssc = 0, wamp = 0;
    double dabs = fabsf(xp), dsq = (double)xp * xp, ddabs = 0, ddsq = 0;
    for (size_t n0 = 1; n0 < N; n0 += BLK) {
        size_t n1 = n0 + BLK < N ? n0 + BLK : N;
        float aabs = 0, asq = 0, adabs = 0, adsq = 0;
        for (size_t n = n0; n < n1; n++) {
            float v = X[n * ld], p = xp;
            float d = v - p, ad = fabsf(d);
            aabs += fabsf(v);
            asq += v * v;
            adabs += ad;
            adsq += d * d;
            mx = v > mx ? v : mx;
            zc += ((v > 0 && p < 0) || (v < 0 && p > 0)) && ad >= tz;
            wamp += ad > tw;
            ssc += (p - xpp) * (p - v) > ts2;
            xpp = p;
            xp = v;
        }
        dabs += aabs; dsq += asq; ddabs += adabs; ddsq += adsq;
    }
    s->sabs = dabs; s->ssq = dsq; s->sdabs = ddabs; s->sdsq = ddsq;
    s->mx = mx; s->zc = zc; s->ssc = ssc; s->wamp = wamp;
}

static void fused_pass(struct chstat *st, const float *X, size_t N, size_t C, const double *thr)
{
    size_t c = 0;
    if (C >= 8 && __builtin_cpu_supports("avx2"))
        for (; c + 8 <= C; c += 8)
            fused8_avx2(st + c, X + c, N, C, thr + c, C);
    for (; c + 4 <= C; c += 4)
        fused4(st + c, X + c, N, C, thr + c, C);
    for (; c < C; c++)
        fused1(st + c, X + c, N, C, thr + c, C);
}

static void deep_stats(struct chstat *s, const double *x, size_t N, unsigned need, int tm_order)
{
    if ((need & NEED_MOM) == NEED_MOM) {
        double m = 0;
        for (size_t i = 0; i < N; i++) m += x[i];
        m /= N;
        double c2 = 0, c3 = 0, c4 = 0;
        for (size_t i = 0; i < N; i++) {
            double d = x[i] - m, d2 = d * d;
            c2 += d2;
            c3 += d2 * d;
            c4 += d2 * d2;
        }
        s->mean = m; s->c2 = c2; s->c3 = c3; s->c4 = c4;
    }
    if ((need & NEED_D2) == NEED_D2) {
        double a = 0, b = 0, e = 0;
        for (size_t i = 0; i + 2 < N; i++) {
            double d2 = x[i + 2] - 2 * x[i + 1] + x[i];
            a += d2 * d2;
            b += fabs(d2);
            e += fabs(x[i + 2] - x[i]);
        }
        s->sd2sq = a; s->sd2abs = b; s->s2abs = e;
    }
    if ((need & NEED_LOG) == NEED_LOG) {
        /* sum ln|x| and sum ln(1+|x|) as logs of running products, the
         * mantissa renormalised by frexp every 4 factors (4 float-range
         * factors cannot leave the double range): two log() per channel
         * instead of two per sample */
        double pl = 1, pd = 1;
        long el = 0, ed = 0;
        int z = 0;
        for (size_t i = 0; i < N; i++) {
            double av = fabs(x[i]);
            if (av == 0) z = 1; else pl *= av;
            pd *= 1 + av;
            if ((i & 3) == 3 || i + 1 == N) {
                int e1, e2;
                pl = frexp(pl, &e1);
                pd = frexp(pd, &e2);
                el += e1;
                ed += e2;
            }
        }
        s->slog = log(pl) + (double)el * M_LN2;
        s->haszero = z;
        s->sld = log(pd) + (double)ed * M_LN2;
    }
    if ((need & NEED_TDPSD) == NEED_TDPSD) {
        td_sums(s->td_b, x, N);
        /* the same sums over ln(x^2 + eps), with a rolling window of three */
        double y0 = 0, y1 = 0, s0 = 0, s2 = 0, s4 = 0, a1 = 0, a2 = 0;
        for (size_t i = 0; i < N; i++) {
            double y = log(x[i] * x[i] + EPS_SPACING);
            s0 += y * y;
            if (i >= 1) { double d = y - y1; s2 += d * d; a1 += fabs(d); }
            if (i >= 2) { double e = y - 2 * y1 + y0; s4 += e * e; a2 += fabs(e); }
            y0 = y1;
            y1 = y;
        }
        s->td_e[0] = s0; s->td_e[1] = s2; s->td_e[2] = s4; s->td_e[3] = a1; s->td_e[4] = a2;
    }
    if ((need & NEED_ROOT) == NEED_ROOT) {
        double ma = 0, mb = 0, tm = 0;
        for (size_t i = 0; i < N; i++) {
            double v = x[i];
            if (v >= 0) ma += sqrt(v); else mb += sqrt(-v);
            double pw = v;
            for (int q = 1; q < tm_order; q++) pw *= v;
            tm += pw;
        }
        s->msra = ma; s->msrb = mb; s->stm = tm;
    }
}

/* The four wavelet features of every band from one transform: st [WF_N x
 * (L + 1)], coef the bands of lens [L + 1] back to back. Two passes per
 * band: energy and waveform length, then variance and entropy. */
static void wav_stats(double *st, const double *coef, const size_t *lens, int L)
{
    size_t nb = (size_t)L + 1;
    for (size_t b = 0; b < nb; b++) {
        const double *c = coef;
        size_t m = lens[b];
        coef += m;
        double se = 0, swl = 0, prev = c[0] * c[0];
        for (size_t i = 0; i < m; i++) {
            double e = c[i] * c[i];
            se += e;
            if (i) swl += fabs(e - prev);
            prev = e;
        }
        double mean = se / (double)m, sv = 0, ent = 0;
        for (size_t i = 0; i < m; i++) {
            double e = c[i] * c[i], q = e / se;
            sv += (e - mean) * (e - mean);
            if (q > 0) ent -= q * log(q);
        }
        st[WF_ENG * nb + b] = log(se + WAV_EPS);
        st[WF_V * nb + b] = log(sv / (double)m + WAV_EPS);
        st[WF_WL * nb + b] = log(swl + WAV_EPS);
        st[WF_ENT * nb + b] = se > 0 ? ent : NAN;
    }
}

struct tbuf {
    double *wc, *ww, *wst;    /* wavelet coefficients, transform work, band statistics */
    double *xd, *P, *scratch, *o;
    struct chstat *st;
    float *fin;
    fftwf_complex *fout;
};

static void tbuf_free(struct tbuf *b)
{
    free(b->xd); free(b->P); free(b->scratch); free(b->o); free(b->st);
    free(b->wc); free(b->ww); free(b->wst);
    if (b->fin) fftwf_free(b->fin);
    if (b->fout) fftwf_free(b->fout);
}

static int tbuf_alloc(struct tbuf *b, size_t C, size_t N, size_t F, const struct kern_fctx *k, int spec,
                      const size_t *wlens, size_t wtot)
{
    memset(b, 0, sizeof *b);
    if (wlens) {
        b->wc = malloc(wtot * sizeof *b->wc);
        b->ww = malloc(kern_wav_work_len(N) * sizeof *b->ww);
        b->wst = malloc(C * WF_N * ((size_t)k->wlev + 1) * sizeof *b->wst);
        if (!b->wc || !b->ww || !b->wst) return 0;
    }
    size_t ns = 4 * N > 2 * C ? 4 * N : 2 * C;
    b->xd = malloc(C * N * sizeof *b->xd);
    b->P = malloc((spec ? C * k->K : 1) * sizeof *b->P);
    b->scratch = malloc(ns * sizeof *b->scratch);
    b->o = malloc((F + 1) * sizeof *b->o);
    b->st = calloc(C, sizeof *b->st);
    if (spec) {
        b->fin = fftwf_malloc(k->nfft * sizeof *b->fin);
        b->fout = fftwf_malloc((k->K + 1) * sizeof *b->fout);
    }
    return b->xd && b->P && b->scratch && b->o && b->st && (!spec || (b->fin && b->fout));
}

int kern_features_extract(float *out, const float *x, size_t T, size_t C, const struct kern_windows *w,
                          const struct kern_feature_set *fs)
{
    struct kern_fctx k;
    double *thr_own;
    int rc = prepare(&k, &thr_own, x, T, C, w, fs);
    if (rc) return rc;
    size_t N = w->W, F = kern_feature_set_width(fs, C);
    unsigned need = 0;
    for (size_t f = 0; f < fs->n; f++)
        need |= fs->feat[f]->need;
    int spec = (need & NEED_SPEC) != 0;
    int wav = (need & NEED_WAV) == NEED_WAV;
    size_t wlens[KERN_WAV_MAXLEV + 1], wtot = wav ? kern_wav_wavedec_lens(wlens, N, k.wlev) : 0;
    fftwf_plan plan = NULL;
    if (spec && w->n) {
        /* FFTW's planner is not thread-safe: plan under a named critical
         * section (shared with any other caller of this kernel), then only
         * fftwf_execute_dft_r2c on per-thread buffers, which is. */
        float *pin = fftwf_malloc(k.nfft * sizeof *pin);
        fftwf_complex *pout = fftwf_malloc((k.K + 1) * sizeof *pout);
        if (pin && pout) {
#pragma omp critical(kern_fftw_planner)
            plan = fftwf_plan_dft_r2c_1d((int)k.nfft, pin, pout, FFTW_ESTIMATE);
        }
        if (pin) fftwf_free(pin);
        if (pout) fftwf_free(pout);
        if (!plan) {
            free(thr_own);
            return mb_error(MB_ENOMEM, "fftw plan of length %zu", k.nfft);
        }
    }
    int failed = 0;
#pragma omp parallel
    {
        struct tbuf b;
        int ok = tbuf_alloc(&b, C, N, F, &k, spec, wav ? wlens : NULL, wtot);
        if (!ok) {
#pragma omp atomic write
            failed = 1;
        }
        struct kern_fwin wd = { &k, N, C, b.xd, b.P, b.st, b.scratch, b.wst };
#pragma omp for schedule(dynamic, 4)
        for (size_t i = 0; i < w->n; i++) {
            if (!ok) continue;
            const float *X = kern_window_ptr(x, C, w, i);
            if (need & NEED_FUSED)
                fused_pass(b.st, X, N, C, k.thr);
            if (need & NEED_XD) {
                for (size_t t = 0; t < N; t++)
                    for (size_t c = 0; c < C; c++)
                        b.xd[c * N + t] = X[t * C + c];
                for (size_t c = 0; c < C; c++)
                    deep_stats(&b.st[c], b.xd + c * N, N, need, fs->p.tm_order);
            }
            if (wav) {
                /* one transform per channel serves all four features */
                for (size_t c = 0; c < C; c++) {
                    kern_wav_wavedec(b.wc, b.ww, b.xd + c * N, N, k.wlev);
                    wav_stats(b.wst + c * WF_N * ((size_t)k.wlev + 1), b.wc, wlens, k.wlev);
                }
            }
            if (spec) {
                double inv = 1.0 / ((double)N * (double)N);
                for (size_t c = 0; c < C; c++) {
                    for (size_t t = 0; t < N; t++) b.fin[t] = X[t * C + c];
                    for (size_t t = N; t < k.nfft; t++) b.fin[t] = 0;
                    fftwf_execute_dft_r2c(plan, b.fin, b.fout);
                    double *P = b.P + c * k.K;
                    for (size_t q = 0; q < k.K; q++) {
                        double re = b.fout[q][0], im = b.fout[q][1];
                        P[q] = (re * re + im * im) * inv;
                    }
                }
            }
            size_t col = 0;
            for (size_t f = 0; f < fs->n; f++) {
                const struct kern_feature *ft = fs->feat[f];
                if (ft->flags & KERN_FEAT_PAIRS) {
                    if (C > 1) ft->opt(b.o + col, &wd, 0);
                    col += feat_width(ft, &fs->p, C);
                    continue;
                }
                size_t kk = ft->n_per_channel(&fs->p);
                for (size_t c = 0; c < C; c++, col += kk)
                    ft->opt(b.o + col, &wd, c);
            }
            float *row = out + i * F;
            for (size_t j = 0; j < F; j++)
                row[j] = (float)b.o[j];
        }
        tbuf_free(&b);
    }
    if (plan) {
#pragma omp critical(kern_fftw_planner)
        fftwf_destroy_plan(plan);
    }
    free(thr_own);
    if (failed)
        return mb_error(MB_ENOMEM, "per-thread feature scratch for %zu channels x %zu samples", C, N);
    return check_finite(out, w->n, F, fs, C, w);
}
