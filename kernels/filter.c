/* kernels/filter.c - Butterworth/notch designs as SOS and their causal and
 * zero-phase application (see filter.h). The design follows scipy's steps
 * one by one (buttap, lp2xx_zpk, bilinear_zpk, zpk2sos 'nearest') so the
 * coefficients, not only the responses, agree with scipy's. */
#include "kernels/filter.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAXR (4 * KERN_SOS_MAX + 2)  /* roots: band-pass order 32 has 64 poles (+1 pad) */

/* ---- zpk helpers --------------------------------------------------------- */

struct zpk {
    size_t nz, np;
    double complex z[MAXR], p[MAXR];
    double k;
};

static double complex cprod_neg(const double complex *r, size_t n, double complex s)
{
    /* prod(s - r) */
    double complex acc = 1;
    for (size_t i = 0; i < n; i++)
        acc *= s - r[i];
    return acc;
}

/* scipy buttap: poles -exp(j pi m / 2N), m = -N+1, -N+3, ..., N-1; gain 1. */
static void buttap(struct zpk *f, int N)
{
    f->nz = 0;
    f->np = 0;
    for (int m = -N + 1; m < N; m += 2)
        f->p[f->np++] = -cexp(I * M_PI * m / (2.0 * N));
    f->k = 1;
}

static void lp2lp(struct zpk *f, double wo)
{
    for (size_t i = 0; i < f->nz; i++) f->z[i] *= wo;
    for (size_t i = 0; i < f->np; i++) f->p[i] *= wo;
    f->k *= pow(wo, (double)(f->np - f->nz));
}

static void lp2hp(struct zpk *f, double wo)
{
    size_t degree = f->np - f->nz;
    double complex num = 1, den = 1;
    for (size_t i = 0; i < f->nz; i++) num *= -f->z[i];
    for (size_t i = 0; i < f->np; i++) den *= -f->p[i];
    f->k *= creal(num / den);
    for (size_t i = 0; i < f->nz; i++) f->z[i] = wo / f->z[i];
    for (size_t i = 0; i < f->np; i++) f->p[i] = wo / f->p[i];
    for (size_t i = 0; i < degree; i++) f->z[f->nz++] = 0;
}

/* r -> the two roots r*bw/2 +- sqrt((r*bw/2)^2 - wo^2), first all '+' then all '-'. */
static void split_roots(double complex *r, size_t n, double scale_mul, int invert, double wo)
{
    double complex tmp[MAXR];
    for (size_t i = 0; i < n; i++) {
        double complex s = invert ? scale_mul / r[i] : r[i] * scale_mul;
        tmp[i] = s;
    }
    for (size_t i = 0; i < n; i++) {
        double complex q = csqrt(tmp[i] * tmp[i] - wo * wo);
        r[i] = tmp[i] + q;
        r[n + i] = tmp[i] - q;
    }
}

static void lp2bp(struct zpk *f, double wo, double bw)
{
    size_t degree = f->np - f->nz;
    split_roots(f->z, f->nz, bw / 2, 0, wo);
    split_roots(f->p, f->np, bw / 2, 0, wo);
    f->nz *= 2;
    f->np *= 2;
    for (size_t i = 0; i < degree; i++) f->z[f->nz++] = 0;
    f->k *= pow(bw, (double)degree);
}

static void lp2bs(struct zpk *f, double wo, double bw)
{
    size_t degree = f->np - f->nz;
    double complex num = 1, den = 1;
    for (size_t i = 0; i < f->nz; i++) num *= -f->z[i];
    for (size_t i = 0; i < f->np; i++) den *= -f->p[i];
    double kmul = creal(num / den);
    split_roots(f->z, f->nz, bw / 2, 1, wo);
    split_roots(f->p, f->np, bw / 2, 1, wo);
    f->nz *= 2;
    f->np *= 2;
    for (size_t i = 0; i < degree; i++) f->z[f->nz++] = I * wo;
    for (size_t i = 0; i < degree; i++) f->z[f->nz++] = -I * wo;
    f->k *= kmul;
}

/* Bilinear transform with fs = 2 (scipy normalises the design to fs = 2). */
static void bilinear(struct zpk *f)
{
    const double fs2 = 4.0;
    size_t degree = f->np - f->nz;
    f->k *= creal(cprod_neg(f->z, f->nz, fs2) / cprod_neg(f->p, f->np, fs2));
    for (size_t i = 0; i < f->nz; i++) f->z[i] = (fs2 + f->z[i]) / (fs2 - f->z[i]);
    for (size_t i = 0; i < f->np; i++) f->p[i] = (fs2 + f->p[i]) / (fs2 - f->p[i]);
    for (size_t i = 0; i < degree; i++) f->z[f->nz++] = -1;
}

/* ---- zpk2sos, pairing 'nearest' (scipy 1.10 algorithm) ------------------- */

static int cmp_real_absimag(const void *pa, const void *pb)
{
    double complex a = *(const double complex *)pa, b = *(const double complex *)pb;
    if (creal(a) != creal(b)) return creal(a) < creal(b) ? -1 : 1;
    double ia = fabs(cimag(a)), ib = fabs(cimag(b));
    return ia < ib ? -1 : ia > ib;
}

/* scipy _cplxreal: keeps one root of each conjugate pair (positive
 * imaginary part, sorted by real part then imaginary part), followed by
 * the real roots (imaginary part set to exactly 0) in ascending order.
 * Returns the new count. */
static size_t cplxreal(double complex *r, size_t n)
{
    const double tol = 100 * 2.220446049250313e-16;
    double complex s[MAXR], zc[MAXR], zr[MAXR];
    size_t nc = 0, nr = 0;
    memcpy(s, r, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_real_absimag);
    for (size_t i = 0; i < n; i++) {
        if (fabs(cimag(s[i])) <= tol * cabs(s[i]))
            zr[nr++] = creal(s[i]);
        else if (cimag(s[i]) > 0)
            zc[nc++] = s[i];
    }
    /* Within runs of equal real part scipy sorts by |imag|; the lexsort
     * above already did so. */
    memcpy(r, zc, nc * sizeof *r);
    memcpy(r + nc, zr, nr * sizeof *r);
    return nc + nr;
}

static int is_real(double complex x) { return cimag(x) == 0; }

static void del(double complex *r, size_t *n, size_t i)
{
    for (size_t j = i + 1; j < *n; j++)
        r[j - 1] = r[j];
    (*n)--;
}

static size_t idx_worst(const double complex *p, size_t n)
{
    size_t best = 0;
    double bd = INFINITY;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(1 - cabs(p[i]));
        if (d < bd) { bd = d; best = i; }
    }
    return best;
}

/* which: 0 any, 1 real, 2 complex. Returns n if none qualifies. */
static size_t nearest_idx(const double complex *fro, size_t n, double complex to, int which)
{
    size_t best = n;
    double bd = INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (which == 1 && !is_real(fro[i])) continue;
        if (which == 2 && is_real(fro[i])) continue;
        double d = cabs(fro[i] - to);
        if (d < bd) { bd = d; best = i; }
    }
    return best;
}

/* Section with b = poly(zs), a = poly(ps), right-aligned as scipy's
 * _single_zpksos (one zero and two poles gives b = [0, 1, -z]). */
static void single_sos(double *row, const double complex *zs, size_t nz, const double complex *ps, size_t np)
{
    double b[3] = {1, 0, 0}, a[3] = {1, 0, 0};
    if (nz == 1) { b[1] = creal(-zs[0]); }
    if (nz == 2) { b[1] = creal(-(zs[0] + zs[1])); b[2] = creal(zs[0] * zs[1]); }
    if (np == 1) { a[1] = creal(-ps[0]); }
    if (np == 2) { a[1] = creal(-(ps[0] + ps[1])); a[2] = creal(ps[0] * ps[1]); }
    memset(row, 0, 6 * sizeof *row);
    for (size_t i = 0; i <= nz; i++) row[3 - (nz + 1) + i] = b[i];
    for (size_t i = 0; i <= np; i++) row[6 - (np + 1) + i] = a[i];
}

static int zpk2sos(struct kern_sos *sos, struct zpk *f)
{
    double complex *z = f->z, *p = f->p;
    size_t nz = f->nz, np = f->np;
    while (np < nz) p[np++] = 0;
    while (nz < np) z[nz++] = 0;
    size_t n_sections = (np + 1) / 2;
    if (np % 2 == 1) { p[np++] = 0; z[nz++] = 0; }
    if (n_sections > KERN_SOS_MAX)
        return mb_error(MB_EINVAL, "filter needs %zu sections, at most %d supported", n_sections, KERN_SOS_MAX);
    nz = cplxreal(z, nz);
    np = cplxreal(p, np);
    sos->n = n_sections;
    for (size_t si = n_sections; si-- > 0;) {
        double *row = sos->c[si];
        size_t i1 = idx_worst(p, np);
        double complex p1 = p[i1];
        del(p, &np, i1);
        size_t n_real_p = 0, n_real_z = 0;
        for (size_t i = 0; i < np; i++) n_real_p += is_real(p[i]);
        for (size_t i = 0; i < nz; i++) n_real_z += is_real(z[i]);
        if (is_real(p1) && n_real_p == 0) {
            /* last remaining real pole */
            size_t zi = nearest_idx(z, nz, p1, 1);
            double complex zs[1] = { z[zi] }, ps[1] = { p1 };
            del(z, &nz, zi);
            /* scipy pads to [z1, 0], [p1, 0]: b = [1, -z1, 0] */
            double complex zz[2] = { zs[0], 0 }, pp[2] = { ps[0], 0 };
            single_sos(row, zz, 2, pp, 2);
        } else if (np + 1 == nz && !is_real(p1) && n_real_p == 1 && n_real_z == 1) {
            /* one real pole and one real zero left: pair with a complex zero */
            size_t zi = nearest_idx(z, nz, p1, 2);
            double complex zz[2] = { z[zi], conj(z[zi]) }, pp[2] = { p1, conj(p1) };
            del(z, &nz, zi);
            single_sos(row, zz, 2, pp, 2);
        } else {
            double complex p2;
            if (is_real(p1)) {
                /* worst remaining real pole */
                size_t best = np;
                double bd = INFINITY;
                for (size_t i = 0; i < np; i++) {
                    if (!is_real(p[i])) continue;
                    double d = fabs(1 - cabs(p[i]));
                    if (d < bd) { bd = d; best = i; }
                }
                p2 = p[best];
                del(p, &np, best);
            } else {
                p2 = conj(p1);
            }
            double complex pp[2] = { p1, p2 };
            if (nz > 0) {
                size_t zi = nearest_idx(z, nz, p1, 0);
                double complex z1 = z[zi];
                del(z, &nz, zi);
                if (!is_real(z1)) {
                    double complex zz[2] = { z1, conj(z1) };
                    single_sos(row, zz, 2, pp, 2);
                } else if (nz > 0) {
                    size_t zj = nearest_idx(z, nz, p1, 1);
                    double complex zz[2] = { z1, z[zj] };
                    del(z, &nz, zj);
                    single_sos(row, zz, 2, pp, 2);
                } else {
                    single_sos(row, &z1, 1, pp, 2);
                }
            } else {
                single_sos(row, NULL, 0, pp, 2);
            }
        }
    }
    for (int i = 0; i < 3; i++)
        sos->c[0][i] *= f->k;
    return MB_OK;
}

/* ---- designs ------------------------------------------------------------- */

int kern_butter(struct kern_sos *sos, int order, enum kern_band type, double f1, double f2, double fs)
{
    int band = type == KERN_BANDPASS || type == KERN_BANDSTOP;
    int maxo = band ? KERN_SOS_MAX : 2 * KERN_SOS_MAX;
    if (order < 1 || order > maxo)
        return mb_error(MB_EINVAL, "butterworth order %d outside 1..%d", order, maxo);
    if (!(fs > 0) || !(f1 > 0 && f1 < fs / 2) || (band && !(f2 > f1 && f2 < fs / 2)))
        return mb_error(MB_EINVAL, "butterworth edges %g%s%g Hz must lie strictly inside (0, %g) Hz%s",
                        f1, band ? ", " : "", band ? f2 : 0.0, fs / 2, band ? " in increasing order" : "");
    struct zpk f;
    buttap(&f, order);
    /* scipy: Wn normalised to fs = 2, then pre-warped: 2 * fs * tan(pi * Wn / fs) */
    double w1 = 4.0 * tan(M_PI * (2.0 * f1 / fs) / 2.0);
    double w2 = band ? 4.0 * tan(M_PI * (2.0 * f2 / fs) / 2.0) : 0;
    switch (type) {
    case KERN_LOWPASS:  lp2lp(&f, w1); break;
    case KERN_HIGHPASS: lp2hp(&f, w1); break;
    case KERN_BANDPASS: lp2bp(&f, sqrt(w1 * w2), w2 - w1); break;
    case KERN_BANDSTOP: lp2bs(&f, sqrt(w1 * w2), w2 - w1); break;
    default: return mb_error(MB_EINVAL, "unknown filter type %d", (int)type);
    }
    bilinear(&f);
    return zpk2sos(sos, &f);
}

int kern_notch(struct kern_sos *sos, double f0, double q, double fs)
{
    if (!(fs > 0) || !(f0 > 0 && f0 < fs / 2) || !(q > 0))
        return mb_error(MB_EINVAL, "notch at %g Hz with q %g invalid for rate %g Hz", f0, q, fs);
    double w0 = 2.0 * f0 / fs;
    double bw = w0 / q * M_PI;
    w0 *= M_PI;
    double gb = 1.0 / sqrt(2.0);
    double beta = (sqrt(1.0 - gb * gb) / gb) * tan(bw / 2.0);
    double gain = 1.0 / (1.0 + beta);
    double *c = sos->c[0];
    c[0] = gain;
    c[1] = gain * (-2.0 * cos(w0));
    c[2] = gain;
    c[3] = 1.0;
    c[4] = -2.0 * gain * cos(w0);
    c[5] = 2.0 * gain - 1.0;
    sos->n = 1;
    return MB_OK;
}

int kern_sos_cascade(struct kern_sos *a, const struct kern_sos *b)
{
    if (a->n + b->n > KERN_SOS_MAX)
        return mb_error(MB_EINVAL, "cascade of %zu + %zu sections exceeds %d", a->n, b->n, KERN_SOS_MAX);
    memcpy(a->c[a->n], b->c[0], b->n * sizeof a->c[0]);
    a->n += b->n;
    return MB_OK;
}

double kern_sos_gain(const struct kern_sos *sos, double f, double fs)
{
    double complex zi = cexp(-I * 2.0 * M_PI * f / fs); /* z^-1 */
    double complex h = 1;
    for (size_t s = 0; s < sos->n; s++) {
        const double *c = sos->c[s];
        h *= (c[0] + c[1] * zi + c[2] * zi * zi) / (c[3] + c[4] * zi + c[5] * zi * zi);
    }
    return cabs(h);
}

/* ---- causal filtering ---------------------------------------------------- */

int kern_filter_init(struct kern_filter *f, const struct kern_sos *sos, size_t C)
{
    memset(f, 0, sizeof *f);
    if (C == 0 || sos->n == 0 || sos->n > KERN_SOS_MAX)
        return mb_error(MB_EINVAL, "filter with %zu sections on %zu channels", sos->n, C);
    f->sos = *sos;
    f->C = C;
    f->z = calloc(sos->n * 2 * C, sizeof *f->z);
    if (!f->z)
        return mb_error(MB_ENOMEM, "filter state of %zu sections x %zu channels", sos->n, C);
    return MB_OK;
}

void kern_filter_free(struct kern_filter *f)
{
    if (!f) return;
    free(f->z);
    f->z = NULL;
}

/* Steady state per section for a unit input (scipy sosfilt_zi): section s
 * sees the DC gain of the sections before it. zi is [n x 2]. */
static void sos_zi(double (*zi)[2], const struct kern_sos *sos)
{
    double scale = 1.0;
    for (size_t s = 0; s < sos->n; s++) {
        const double *c = sos->c[s];
        double b0 = c[0] / c[3], b1 = c[1] / c[3], b2 = c[2] / c[3];
        double a1 = c[4] / c[3], a2 = c[5] / c[3];
        double h = (b0 + b1 + b2) / (1.0 + a1 + a2);
        zi[s][0] = scale * (h - b0);
        zi[s][1] = scale * (b2 - a2 * h);
        scale *= h;
    }
}

void kern_filter_reset(struct kern_filter *f, const float *x0)
{
    size_t C = f->C, n = f->sos.n;
    if (!x0) {
        memset(f->z, 0, n * 2 * C * sizeof *f->z);
        return;
    }
    double zi[KERN_SOS_MAX][2];
    sos_zi(zi, &f->sos);
    for (size_t s = 0; s < n; s++)
        for (size_t c = 0; c < C; c++) {
            f->z[(s * 2 + 0) * C + c] = zi[s][0] * x0[c];
            f->z[(s * 2 + 1) * C + c] = zi[s][1] * x0[c];
        }
}

void kern_filter_run_ref(struct kern_filter *f, float *y, const float *x, size_t n)
{
    size_t C = f->C;
    for (size_t c = 0; c < C; c++) {
        for (size_t t = 0; t < n; t++) {
            double v = x[t * C + c];
            for (size_t s = 0; s < f->sos.n; s++) {
                const double *k = f->sos.c[s];
                double *z0 = &f->z[(s * 2 + 0) * C + c], *z1 = &f->z[(s * 2 + 1) * C + c];
                double out = k[0] * v + *z0;
                *z0 = k[1] * v - k[4] * out + *z1;
                *z1 = k[2] * v - k[5] * out;
                v = out;
            }
            y[t * C + c] = (float)v;
        }
    }
}

/* Rows of C channels at a time, channel-inner so the section update
 * vectorises; each channel sees exactly the operations of the reference. */
void kern_filter_run(struct kern_filter *f, float *y, const float *x, size_t n)
{
    size_t C = f->C, ns = f->sos.n;
    enum { CB = 64 };
    double v[CB];
    for (size_t c0 = 0; c0 < C; c0 += CB) {
        size_t cn = C - c0 < CB ? C - c0 : CB;
        for (size_t t = 0; t < n; t++) {
            const float *xr = x + t * C + c0;
            float *yr = y + t * C + c0;
            for (size_t c = 0; c < cn; c++)
                v[c] = xr[c];
            for (size_t s = 0; s < ns; s++) {
                const double *k = f->sos.c[s];
                double b0 = k[0], b1 = k[1], b2 = k[2], a1 = k[4], a2 = k[5];
                double *restrict z0 = f->z + (s * 2 + 0) * C + c0;
                double *restrict z1 = f->z + (s * 2 + 1) * C + c0;
#pragma omp simd
                for (size_t c = 0; c < cn; c++) {
                    double in = v[c];
                    double out = b0 * in + z0[c];
                    z0[c] = b1 * in - a1 * out + z1[c];
                    z1[c] = b2 * in - a2 * out;
                    v[c] = out;
                }
            }
            for (size_t c = 0; c < cn; c++)
                yr[c] = (float)v[c];
        }
    }
}

/* ---- zero phase ---------------------------------------------------------- */

/* One pass of the cascade over a double column (stride 1) from state zi*x0. */
static void sos_pass(double *v, size_t n, const struct kern_sos *sos, double (*zi)[2], double x0)
{
    double z[KERN_SOS_MAX][2];
    for (size_t s = 0; s < sos->n; s++) {
        z[s][0] = zi[s][0] * x0;
        z[s][1] = zi[s][1] * x0;
    }
    for (size_t t = 0; t < n; t++) {
        double in = v[t];
        for (size_t s = 0; s < sos->n; s++) {
            const double *k = sos->c[s];
            double out = k[0] * in + z[s][0];
            z[s][0] = k[1] * in - k[4] * out + z[s][1];
            z[s][1] = k[2] * in - k[5] * out;
            in = out;
        }
        v[t] = in;
    }
}

int kern_filtfilt(float *y, const float *x, size_t n, size_t C, const struct kern_sos *sos)
{
    if (n == 0 || C == 0)
        return MB_OK;
    if (sos->n == 0 || sos->n > KERN_SOS_MAX)
        return mb_error(MB_EINVAL, "zero-phase filter with %zu sections", sos->n);
    size_t zb2 = 0, za2 = 0;
    for (size_t s = 0; s < sos->n; s++) {
        zb2 += sos->c[s][2] == 0;
        za2 += sos->c[s][5] == 0;
    }
    size_t ntaps = 2 * sos->n + 1 - (zb2 < za2 ? zb2 : za2);
    size_t pad = 3 * ntaps;
    if (pad > n - 1)
        pad = n - 1;
    size_t L = n + 2 * pad;
    double *v = malloc(L * sizeof *v);
    if (!v)
        return mb_error(MB_ENOMEM, "zero-phase filter scratch of %zu samples", L);
    double zi[KERN_SOS_MAX][2];
    sos_zi(zi, sos);
    for (size_t c = 0; c < C; c++) {
        double first = x[c], last = x[(n - 1) * C + c];
        /* odd extension: 2*x[0] - x[pad..1], x, 2*x[n-1] - x[n-2..n-1-pad] */
        for (size_t i = 0; i < pad; i++)
            v[i] = 2.0 * first - (double)x[(pad - i) * C + c];
        for (size_t t = 0; t < n; t++)
            v[pad + t] = x[t * C + c];
        for (size_t i = 0; i < pad; i++)
            v[pad + n + i] = 2.0 * last - (double)x[(n - 2 - i) * C + c];
        sos_pass(v, L, sos, zi, v[0]);
        for (size_t i = 0, j = L - 1; i < j; i++, j--) {
            double tmp = v[i]; v[i] = v[j]; v[j] = tmp;
        }
        sos_pass(v, L, sos, zi, v[0]);
        for (size_t t = 0; t < n; t++)
            y[t * C + c] = (float)v[L - 1 - pad - t];
    }
    free(v);
    return MB_OK;
}
