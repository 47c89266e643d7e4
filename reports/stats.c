/* reports/stats.c - statistics over subjects (see stats.h, docs/REPORTS.md). */
#include "reports/stats.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>

#include "core/rng.h"

/* ---- helpers --------------------------------------------------------------- */

static pthread_once_t gsl_once = PTHREAD_ONCE_INIT;

/* GSL's default handler aborts the process; library code must not. */
static void gsl_quiet(void) { gsl_set_error_handler_off(); }
static void gsl_ready(void) { pthread_once(&gsl_once, gsl_quiet); }

static int check_finite(const double *x, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return mb_error(MB_ENUM, "%s: value %zu of %zu is not finite (%g)", what, i, n, x[i]);
    return MB_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* d = x - y into a new array (or a copy of x when y is NULL). */
static int paired_diff(double **d, const double *x, const double *y, size_t n, const char *what)
{
    if (n == 0)
        return mb_error(MB_EINVAL, "%s: no pairs", what);
    *d = malloc(n * sizeof **d); /* [n] */
    if (!*d)
        return mb_error(MB_ENOMEM, "%s: %zu differences", what, n);
    for (size_t i = 0; i < n; i++)
        (*d)[i] = y ? x[i] - y[i] : x[i];
    int rc = check_finite(*d, n, what);
    if (rc) {
        free(*d);
        *d = NULL;
    }
    return rc;
}

/* ---- distribution functions ------------------------------------------------- */

double stat_norm_sf(double z) { return 0.5 * erfc(z * M_SQRT1_2); }

double stat_norm_isf(double p)
{
    if (!(p > 0.0 && p < 1.0))
        return p == 0.0 ? INFINITY : p == 1.0 ? -INFINITY : NAN;
    gsl_ready();
    return gsl_cdf_ugaussian_Qinv(p);
}

double stat_chi2_sf(double x, double df)
{
    if (isnan(x) || !(df > 0.0))
        return NAN;
    if (x <= 0.0)
        return 1.0;
    if (isinf(x))
        return 0.0;
    gsl_ready();
    return gsl_cdf_chisq_Q(x, df);
}

double stat_f_sf(double x, double df1, double df2)
{
    if (isnan(x) || !(df1 > 0.0) || !(df2 > 0.0))
        return NAN;
    if (x <= 0.0)
        return 1.0;
    if (isinf(x))
        return 0.0;
    gsl_ready();
    return gsl_cdf_fdist_Q(x, df1, df2);
}

/* ---- descriptive statistics --------------------------------------------------- */

double stat_mean(const double *x, size_t n)
{
    if (n == 0)
        return NAN;
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s / (double)n;
}

double stat_std(const double *x, size_t n)
{
    if (n < 2)
        return NAN;
    double m = stat_mean(x, n), ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - m) * (x[i] - m);
    return sqrt(ss / (double)(n - 1));
}

double stat_quantile_sorted(const double *s, size_t n, double q)
{
    if (n == 0 || !(q >= 0.0 && q <= 1.0))
        return NAN;
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1)
        return s[n - 1];
    double g = h - (double)lo, a = s[lo], b = s[lo + 1];
    /* numpy's lerp: from whichever end is nearer, so q = 1 returns b exactly */
    return g < 0.5 ? a + (b - a) * g : b - (b - a) * (1.0 - g);
}

int stat_describe(struct stat_summary *out, const double *x, size_t n)
{
    if (n == 0)
        return mb_error(MB_EINVAL, "stat_describe: no values");
    int rc = check_finite(x, n, "stat_describe");
    if (rc)
        return rc;
    double *s = malloc(n * sizeof *s); /* [n] sorted copy */
    if (!s)
        return mb_error(MB_ENOMEM, "stat_describe: %zu values", n);
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    out->n = n;
    out->mean = stat_mean(x, n);
    out->std = stat_std(x, n);
    out->median = stat_quantile_sorted(s, n, 0.5);
    out->q1 = stat_quantile_sorted(s, n, 0.25);
    out->q3 = stat_quantile_sorted(s, n, 0.75);
    out->iqr = out->q3 - out->q1;
    out->min = s[0];
    out->max = s[n - 1];
    free(s);
    return MB_OK;
}

/* ---- bootstrap -------------------------------------------------------------------- */

int stat_bootstrap_mean_ci(double *lo, double *hi, const double *x, size_t n,
                           size_t n_boot, double level, uint64_t seed, uint64_t stream)
{
    if (n == 0)
        return mb_error(MB_EINVAL, "stat_bootstrap_mean_ci: no values");
    if (n_boot < 1000)
        return mb_error(MB_EINVAL, "stat_bootstrap_mean_ci: %zu resamples, need at least 1000", n_boot);
    if (!(level > 0.0 && level < 1.0))
        return mb_error(MB_EINVAL, "stat_bootstrap_mean_ci: confidence level %g not in (0, 1)", level);
    int rc = check_finite(x, n, "stat_bootstrap_mean_ci");
    if (rc)
        return rc;
    if (n == 1) {
        *lo = *hi = x[0];
        return MB_OK;
    }
    double *means = malloc(n_boot * sizeof *means); /* [n_boot] */
    if (!means)
        return mb_error(MB_ENOMEM, "stat_bootstrap_mean_ci: %zu resamples", n_boot);
    struct mb_rng r;
    mb_rng_seed(&r, seed, stream);
    for (size_t b = 0; b < n_boot; b++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += x[mb_rng_below(&r, n)];
        means[b] = s / (double)n;
    }
    qsort(means, n_boot, sizeof *means, cmp_double);
    *lo = stat_quantile_sorted(means, n_boot, 0.5 * (1.0 - level));
    *hi = stat_quantile_sorted(means, n_boot, 0.5 * (1.0 + level));
    free(means);
    return MB_OK;
}

/* ---- ranks ------------------------------------------------------------------------ */

struct vi { double v; size_t i; };

static int cmp_vi_asc(const void *a, const void *b)
{
    const struct vi *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static int cmp_vi_desc(const void *a, const void *b)
{
    const struct vi *x = a, *y = b;
    if (x->v != y->v)
        return x->v > y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Average ranks into rank[n] using scratch[n]; adds sum(t^3 - t) over tie
 * groups to *ties when ties is not NULL. */
static void rank_into(double *rank, struct vi *scratch, const double *x, size_t n, int desc,
                      double *ties)
{
    for (size_t i = 0; i < n; i++)
        scratch[i] = (struct vi){ x[i], i };
    qsort(scratch, n, sizeof *scratch, desc ? cmp_vi_desc : cmp_vi_asc);
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && scratch[b].v == scratch[a].v)
            b++;
        double r = 0.5 * (double)(a + 1 + b); /* mean of ranks a+1 .. b */
        for (size_t j = a; j < b; j++)
            rank[scratch[j].i] = r;
        if (ties) {
            double t = (double)(b - a);
            *ties += t * t * t - t;
        }
        a = b;
    }
}

int stat_rank_average(double *rank, const double *x, size_t n, int descending)
{
    if (n == 0)
        return MB_OK;
    int rc = check_finite(x, n, "stat_rank_average");
    if (rc)
        return rc;
    struct vi *s = malloc(n * sizeof *s); /* [n] */
    if (!s)
        return mb_error(MB_ENOMEM, "stat_rank_average: %zu values", n);
    rank_into(rank, s, x, n, descending, NULL);
    free(s);
    return MB_OK;
}

/* ---- Wilcoxon signed-rank ------------------------------------------------------------- */

/* Exact null distribution of W+ for n untied ranks 1..n: counts[w] of the
 * 2^n sign patterns, w = 0 .. n(n+1)/2. Counts stay below 2^25, exact in double. */
static double *wilcoxon_counts(size_t n)
{
    size_t S = n * (n + 1) / 2;
    double *c = calloc(S + 1, sizeof *c); /* [S + 1] */
    if (!c)
        return NULL;
    c[0] = 1.0;
    for (size_t r = 1; r <= n; r++)
        for (size_t w = r * (r + 1) / 2; w >= r; w--)
            c[w] += c[w - r];
    return c;
}

int stat_wilcoxon(struct stat_wilcoxon *out, const double *x, const double *y, size_t n,
                  enum stat_alt alt)
{
    double *d = NULL;
    int rc = paired_diff(&d, x, y, n, "stat_wilcoxon");
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    out->n = n;
    out->z = NAN;
    size_t m = 0; /* zeros dropped in place */
    for (size_t i = 0; i < n; i++)
        if (d[i] != 0.0)
            d[m++] = d[i];
    out->n_used = m;
    if (m == 0) {
        out->p = 1.0;
        out->exact = 1;
        free(d);
        return MB_OK;
    }
    double *a = malloc(m * sizeof *a);      /* [m] |d| */
    double *r = malloc(m * sizeof *r);      /* [m] ranks of |d| */
    struct vi *s = malloc(m * sizeof *s);   /* [m] sort scratch */
    if (!a || !r || !s) {
        rc = mb_error(MB_ENOMEM, "stat_wilcoxon: %zu differences", m);
        goto done;
    }
    for (size_t i = 0; i < m; i++)
        a[i] = fabs(d[i]);
    double ties = 0.0;
    rank_into(r, s, a, m, 0, &ties);
    for (size_t i = 0; i < m; i++) {
        if (d[i] > 0)
            out->w_plus += r[i];
        else
            out->w_minus += r[i];
    }
    out->ties = ties > 0.0;
    double total = out->w_plus + out->w_minus;
    out->rank_biserial = (out->w_plus - out->w_minus) / total;
    double T = alt == STAT_TWO_SIDED ? fmin(out->w_plus, out->w_minus) : out->w_plus;
    out->statistic = T;
    double dm = (double)m;

    if (m <= STAT_WILCOXON_EXACT_MAX && !out->ties) {
        double *c = wilcoxon_counts(m);
        if (!c) {
            rc = mb_error(MB_ENOMEM, "stat_wilcoxon: exact distribution for n = %zu", m);
            goto done;
        }
        size_t S = m * (m + 1) / 2, w = (size_t)out->w_plus; /* untied ranks: W+ is an integer */
        double all = ldexp(1.0, (int)m), le = 0.0, ge = 0.0;
        for (size_t v = 0; v <= S; v++) {
            if (v <= w)
                le += c[v];
            if (v >= w)
                ge += c[v];
        }
        free(c);
        le /= all;
        ge /= all;
        out->exact = 1;
        if (alt == STAT_GREATER)
            out->p = ge;
        else if (alt == STAT_LESS)
            out->p = le;
        else
            out->p = 2.0 * fmin(le, ge);
    } else {
        double mn = dm * (dm + 1.0) * 0.25;
        double se = dm * (dm + 1.0) * (2.0 * dm + 1.0) - 0.5 * ties;
        se = sqrt(se / 24.0);
        double cc = alt == STAT_TWO_SIDED ? 0.5 * (double)((T > mn) - (T < mn))
                  : alt == STAT_LESS ? -0.5 : 0.5;
        out->z = (T - mn - cc) / se;
        if (alt == STAT_TWO_SIDED)
            out->p = 2.0 * stat_norm_sf(fabs(out->z));
        else if (alt == STAT_GREATER)
            out->p = stat_norm_sf(out->z);
        else
            out->p = stat_norm_sf(-out->z);
    }
    out->p = fmin(1.0, fmax(0.0, out->p));
done:
    free(a);
    free(r);
    free(s);
    free(d);
    return rc;
}

/* ---- sign-flip permutation test ---------------------------------------------------------- */

static int extreme(double t, double obs, double g, enum stat_alt alt)
{
    if (alt == STAT_GREATER)
        return t >= obs - g;
    if (alt == STAT_LESS)
        return t <= obs + g;
    return fabs(t) >= fabs(obs) - g;
}

int stat_signflip(struct stat_perm *out, const double *x, const double *y, size_t n,
                  enum stat_alt alt, size_t n_perm, uint64_t seed)
{
    double *d = NULL;
    int rc = paired_diff(&d, x, y, n, "stat_signflip");
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    out->n = n;
    double obs = 0.0, l1 = 0.0;
    for (size_t i = 0; i < n; i++) {
        obs += d[i];
        l1 += fabs(d[i]);
    }
    out->mean_diff = obs / (double)n;
    double g = 1e-12 * l1;
    size_t count = 0;
    if (n <= STAT_PERM_EXACT_MAX) {
        size_t all = (size_t)1 << n;
        for (size_t mask = 0; mask < all; mask++) {
            double t = 0.0;
            for (size_t i = 0; i < n; i++)
                t += (mask >> i & 1) ? -d[i] : d[i];
            count += (size_t)extreme(t, obs, g, alt);
        }
        out->exact = 1;
        out->n_perm = all;
        out->count = count;
        out->p = (double)count / (double)all;
    } else {
        if (n_perm == 0)
            n_perm = STAT_PERM_DEFAULT;
        struct mb_rng r;
        mb_rng_seed(&r, seed, 0);
        for (size_t b = 0; b < n_perm; b++) {
            double t = 0.0;
            uint64_t w = 0;
            for (size_t i = 0; i < n; i++) {
                if (i % 64 == 0)
                    w = mb_rng_u64(&r);
                t += (w >> (i % 64) & 1) ? -d[i] : d[i];
            }
            count += (size_t)extreme(t, obs, g, alt);
        }
        out->exact = 0;
        out->n_perm = n_perm;
        out->count = count;
        out->p = (double)(count + 1) / (double)(n_perm + 1);
    }
    free(d);
    return MB_OK;
}

/* ---- effect sizes ------------------------------------------------------------------------- */

double stat_cohen_dz(const double *x, const double *y, size_t n)
{
    if (n < 2)
        return NAN;
    double m = 0.0, big = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = y ? x[i] - y[i] : x[i];
        m += d;
        big = fmax(big, fabs(d));
    }
    m /= (double)n;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = (y ? x[i] - y[i] : x[i]) - m;
        ss += e * e;
    }
    double sd = sqrt(ss / (double)(n - 1));
    /* equal differences leave only rounding in sd: no finite effect size */
    return sd > 1e-12 * big ? m / sd : NAN;
}

double stat_prob_improve(const double *x, const double *y, size_t n)
{
    if (n == 0)
        return NAN;
    double c = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = y ? x[i] - y[i] : x[i];
        c += d > 0.0 ? 1.0 : d == 0.0 ? 0.5 : 0.0;
    }
    return c / (double)n;
}

/* ---- multiple comparisons -------------------------------------------------------------------- */

static int sorted_order(struct vi **s, const double *p, size_t m, const char *what)
{
    for (size_t i = 0; i < m; i++)
        if (!(p[i] >= 0.0 && p[i] <= 1.0))
            return mb_error(MB_EINVAL, "%s: p-value %zu of %zu is %g, not in [0, 1]", what, i, m, p[i]);
    *s = malloc((m ? m : 1) * sizeof **s); /* [m] */
    if (!*s)
        return mb_error(MB_ENOMEM, "%s: %zu p-values", what, m);
    for (size_t i = 0; i < m; i++)
        (*s)[i] = (struct vi){ p[i], i };
    qsort(*s, m, sizeof **s, cmp_vi_asc);
    return MB_OK;
}

int stat_holm(double *adj, const double *p, size_t m)
{
    struct vi *s;
    int rc = sorted_order(&s, p, m, "stat_holm");
    if (rc)
        return rc;
    double run = 0.0;
    for (size_t j = 0; j < m; j++) {
        double v = fmin(1.0, (double)(m - j) * s[j].v);
        run = fmax(run, v);
        adj[s[j].i] = run;
    }
    free(s);
    return MB_OK;
}

int stat_bh(double *adj, const double *p, size_t m)
{
    struct vi *s;
    int rc = sorted_order(&s, p, m, "stat_bh");
    if (rc)
        return rc;
    double run = 1.0;
    for (size_t j = m; j-- > 0;) {
        double v = fmin(1.0, (double)m * s[j].v / (double)(j + 1));
        run = fmin(run, v);
        adj[s[j].i] = run;
    }
    free(s);
    return MB_OK;
}

/* ---- Friedman and Nemenyi ---------------------------------------------------------------------- */

int stat_friedman(struct stat_friedman *out, double *avg_rank, const double *x, size_t N,
                  size_t k, int higher_is_better)
{
    if (N == 0 || k < 2)
        return mb_error(MB_EINVAL, "stat_friedman: need at least 1 block and 2 methods, got %zu x %zu", N, k);
    int rc = check_finite(x, N * k, "stat_friedman");
    if (rc)
        return rc;
    double *R = calloc(k, sizeof *R);      /* [k] rank sums */
    double *r = malloc(k * sizeof *r);     /* [k] ranks of one block */
    struct vi *s = malloc(k * sizeof *s);  /* [k] */
    if (!R || !r || !s) {
        free(R), free(r), free(s);
        return mb_error(MB_ENOMEM, "stat_friedman: %zu methods", k);
    }
    double ties = 0.0;
    for (size_t b = 0; b < N; b++) {
        rank_into(r, s, x + b * k, k, higher_is_better, &ties);
        for (size_t j = 0; j < k; j++)
            R[j] += r[j];
    }
    double dn = (double)N, dk = (double)k, ss = 0.0;
    for (size_t j = 0; j < k; j++) {
        ss += R[j] * R[j];
        if (avg_rank)
            avg_rank[j] = R[j] / dn;
    }
    memset(out, 0, sizeof *out);
    out->n_blocks = N;
    out->k = k;
    out->df1 = dk - 1.0;
    out->df2 = (dk - 1.0) * (dn - 1.0);
    out->tie_factor = 1.0 - ties / (dk * (dk * dk - 1.0) * dn);
    if (out->tie_factor <= 0.0) {  /* every block entirely tied */
        out->chi2 = 0.0;
        out->p_chi2 = 1.0;
        out->F = 0.0;
        out->p_F = 1.0;
    } else {
        /* 12 ss / (k N (k+1)) is exact for integer and half-integer ranks,
         * so perfect agreement gives exactly N (k - 1) */
        out->chi2 = fmax(0.0, (12.0 * ss / (dk * dn * (dk + 1.0)) - 3.0 * dn * (dk + 1.0))
                                  / out->tie_factor);
        out->p_chi2 = stat_chi2_sf(out->chi2, dk - 1.0);
        if (N < 2) {
            out->F = NAN;
            out->p_F = NAN;
        } else {
            /* chi2 reaches N (k - 1) when every block ranks the methods alike */
            double den = dn * (dk - 1.0) - out->chi2;
            int agree = den <= 1e-12 * dn * (dk - 1.0);
            out->F = agree ? INFINITY : (dn - 1.0) * out->chi2 / den;
            out->p_F = agree ? 0.0 : stat_f_sf(out->F, out->df1, out->df2);
        }
    }
    free(R), free(r), free(s);
    return MB_OK;
}

/* q_0.05 = studentized range 0.95 quantile (k groups, df = inf) / sqrt(2),
 * to 6 decimals; checked against scipy.stats.studentized_range and against
 * Demšar's Table 5a by tests/ref/gen_stats.py. Demšar prints 2.343 for k = 3
 * and 2.949 for k = 7, one unit off in the last place (2.3437, 2.9483). */
static const double nemenyi_q05[STAT_NEMENYI_KMAX + 1] = {
    [2] = 1.959964, [3] = 2.343701, [4] = 2.569032, [5] = 2.727774, [6] = 2.849705,
    [7] = 2.948320, [8] = 3.030878, [9] = 3.101730, [10] = 3.163684, [11] = 3.218654,
    [12] = 3.268004, [13] = 3.312739, [14] = 3.353618, [15] = 3.391230, [16] = 3.426041,
    [17] = 3.458425, [18] = 3.488685, [19] = 3.517073, [20] = 3.543799,
};

double stat_nemenyi_q05(size_t k)
{
    return k >= 2 && k <= STAT_NEMENYI_KMAX ? nemenyi_q05[k] : NAN;
}

int stat_nemenyi_cd(double *cd, size_t k, size_t N, double alpha)
{
    if (alpha != 0.05)
        return mb_error(MB_EINVAL, "stat_nemenyi_cd: only alpha 0.05 is tabulated, got %g", alpha);
    if (k < 2 || k > STAT_NEMENYI_KMAX || N == 0)
        return mb_error(MB_EINVAL, "stat_nemenyi_cd: k = %zu methods (need 2..%d), N = %zu blocks",
                        k, STAT_NEMENYI_KMAX, N);
    *cd = nemenyi_q05[k] * sqrt((double)k * (double)(k + 1) / (6.0 * (double)N));
    return MB_OK;
}

/* ---- Stouffer ------------------------------------------------------------------------------------ */

int stat_stouffer(double *z, double *p, const double *pv, const double *w, size_t m)
{
    if (m == 0)
        return mb_error(MB_EINVAL, "stat_stouffer: no p-values");
    double num = 0.0, ww = 0.0;
    for (size_t i = 0; i < m; i++) {
        if (!(pv[i] > 0.0 && pv[i] <= 1.0))
            return mb_error(MB_EINVAL, "stat_stouffer: p-value %zu is %g, not in (0, 1]", i, pv[i]);
        if (!(w[i] > 0.0) || !isfinite(w[i]))
            return mb_error(MB_EINVAL, "stat_stouffer: weight %zu is %g, not positive", i, w[i]);
        num += w[i] * stat_norm_isf(pv[i]);
        ww += w[i] * w[i];
    }
    *z = num / sqrt(ww);
    *p = stat_norm_sf(*z);
    return MB_OK;
}
