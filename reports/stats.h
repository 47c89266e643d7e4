/* reports/stats.h - statistics over subjects: summaries, bootstrap CIs,
 * paired tests, multiple-comparison corrections, rank tests, meta-analysis
 * and effect sizes. docs/REPORTS.md gives every definition; the golden
 * values in tests/ref/stats_golden.h come from scipy (tests/ref/gen_stats.py).
 *
 * The unit of analysis is the subject (protocols.md §2.1): every input array
 * here holds one value per subject (or per (dataset, subject) unit), never
 * one per window.
 *
 * Conventions:
 *   - double precision throughout; arrays are borrowed, never kept;
 *   - paired functions take x and y of length n and work on d = x - y;
 *     y may be NULL, and then x already holds the differences;
 *   - randomness only through core/rng.h from an explicit seed, so a call
 *     with the same arguments gives the same bits on any machine thread count;
 *   - non-finite inputs are MB_ENUM, bad sizes or options MB_EINVAL, both
 *     reported once through mb_error naming the function's argument.
 *
 * p-values of the chi-square, F and normal distributions come from GSL
 * (GPL-3; see docs/REPORTS.md). GSL's abort-on-error handler is switched off
 * the first time any function here needs it, and arguments are checked
 * beforehand so GSL never sees a domain error.
 */
#ifndef MB_REPORTS_STATS_H
#define MB_REPORTS_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* ---- descriptive statistics --------------------------------------------- */

/* Arithmetic mean (plain left-to-right sum); NaN when n == 0. */
double stat_mean(const double *x, size_t n);

/* Sample standard deviation with ddof = 1 (divides by n - 1), the estimate
 * papers mean by "± std" over subjects; NaN when n < 2. Two-pass. */
double stat_std(const double *x, size_t n);

/* Quantile q in [0, 1] of an ascending array: linear interpolation between
 * order statistics at h = (n - 1) q (Hyndman-Fan type 7, numpy's default).
 * NaN when n == 0. */
double stat_quantile_sorted(const double *sorted, size_t n, double q);

struct stat_summary {
    size_t n;
    double mean, std;        /* std: ddof 1, NaN when n < 2 */
    double median, q1, q3;   /* type-7 quantiles 0.5, 0.25, 0.75 */
    double iqr;              /* q3 - q1 */
    double min, max;
};

/* Every summary above for x[n]; n >= 1, all values finite. */
int stat_describe(struct stat_summary *out, const double *x, size_t n) MB_MUST_CHECK;

/* ---- subject-level bootstrap -------------------------------------------- */

#define STAT_BOOT_DEFAULT 10000   /* resamples */

/* Percentile bootstrap CI of the mean of x[n] at confidence 'level' (e.g.
 * 0.95): n_boot resamples of n subjects drawn with replacement
 * (mb_rng_below(rng, n) for each draw, in order, from a generator seeded
 * with (seed, stream)); each resample's mean is its left-to-right sum / n;
 * lo and hi are the type-7 quantiles (1 - level)/2 and (1 + level)/2 of the
 * sorted means. 'stream' lets many CIs share one seed independently (the
 * report uses one stream per table cell). n == 1 gives [x0, x0].
 * n_boot >= 1000, 0 < level < 1. */
int stat_bootstrap_mean_ci(double *lo, double *hi, const double *x, size_t n,
                           size_t n_boot, double level, uint64_t seed, uint64_t stream) MB_MUST_CHECK;

/* ---- ranks --------------------------------------------------------------- */

/* Ranks 1..n of x[n] with ties given the average of the ranks they span
 * (scipy's rankdata 'average'). descending = 0: smallest value gets rank 1;
 * descending = 1: largest gets rank 1. Ties are exact equality. */
int stat_rank_average(double *rank /* [n] */, const double *x, size_t n, int descending) MB_MUST_CHECK;

/* ---- paired two-sample tests --------------------------------------------- */

/* Alternative hypotheses for paired tests on d = x - y. */
enum stat_alt {
    STAT_TWO_SIDED = 0,
    STAT_GREATER,            /* x tends to be larger than y */
    STAT_LESS,               /* x tends to be smaller than y */
};

#define STAT_WILCOXON_EXACT_MAX 25   /* nonzero differences, without ties */

struct stat_wilcoxon {
    size_t n;                /* pairs given */
    size_t n_used;           /* nonzero differences (zeros are dropped) */
    double w_plus, w_minus;  /* rank sums of positive / negative differences */
    /* scipy's statistic: min(W+, W-) for two-sided, W+ for one-sided */
    double statistic;
    double z;                /* normal-approximation z; NaN when exact */
    double p;
    int exact;               /* 1: exact null distribution; 0: normal approximation */
    int ties;                /* 1 if some nonzero |d| are equal */
    /* matched-pairs rank-biserial correlation (W+ - W-) / (W+ + W-) in
     * [-1, 1]; 0 when every difference is zero */
    double rank_biserial;
};

/* Wilcoxon signed-rank test on d = x - y (scipy.stats.wilcoxon with
 * zero_method='wilcox', correction=True). Zero differences are dropped
 * before ranking (Wilcoxon's original treatment), so n_used counts the rest.
 * With n_used <= STAT_WILCOXON_EXACT_MAX and no ties among |d|, p is exact:
 * the null distribution of W+ is counted by dynamic programming over the
 * 2^n_used sign patterns. Otherwise p uses the normal approximation with
 * the tie correction of the variance and a continuity correction of 0.5.
 * Two-sided p = min(1, 2 min(P(W+ <= w), P(W+ >= w))) exactly as scipy.
 * If every difference is zero (n_used == 0) there is no evidence of a
 * difference: p = 1, statistic 0. n >= 1, values finite. */
int stat_wilcoxon(struct stat_wilcoxon *out, const double *x, const double *y, size_t n,
                  enum stat_alt alt) MB_MUST_CHECK;

#define STAT_PERM_EXACT_MAX 16      /* subjects enumerated exactly (2^16 patterns) */
#define STAT_PERM_DEFAULT   10000   /* Monte-Carlo sign flips beyond that */

struct stat_perm {
    size_t n;
    double mean_diff;        /* observed mean of d */
    double p;
    int exact;               /* 1: all 2^n sign patterns; 0: Monte-Carlo */
    size_t n_perm;           /* patterns evaluated: 2^n, or the Monte-Carlo count */
    size_t count;            /* patterns at least as extreme as the observed one */
};

/* Paired sign-flip permutation test on the mean difference. Each pattern s
 * in {-1, +1}^n gives T(s) = sum_i s_i d_i (in index order); the observed T
 * has all s_i = +1. "At least as extreme" is |T(s)| >= |T| - g (two-sided),
 * T(s) >= T - g (greater) or T(s) <= T + g (less), with the tolerance
 * g = 1e-12 sum_i |d_i| so equal sums that round differently still count.
 * n <= STAT_PERM_EXACT_MAX: every pattern, p = count / 2^n (the observed one
 * included). Larger n: n_perm random patterns (bit i mod 64 of the
 * (i / 64)-th mb_rng_u64 of each pattern flips subject i; generator seeded
 * with (seed, 0)), p = (count + 1) / (n_perm + 1). n_perm 0 means
 * STAT_PERM_DEFAULT. n >= 1, values finite. */
int stat_signflip(struct stat_perm *out, const double *x, const double *y, size_t n,
                  enum stat_alt alt, size_t n_perm, uint64_t seed) MB_MUST_CHECK;

/* ---- effect sizes --------------------------------------------------------- */

/* Cohen's d_z = mean(d) / std(d) (ddof 1). NaN when n < 2 or when std(d)
 * is zero up to rounding (std(d) <= 1e-12 max|d|). */
double stat_cohen_dz(const double *x, const double *y, size_t n);

/* Probability of improvement: (#{d > 0} + #{d == 0} / 2) / n; NaN if n == 0. */
double stat_prob_improve(const double *x, const double *y, size_t n);

/* ---- multiple comparisons ------------------------------------------------- */

/* Holm's step-down adjusted p-values (statsmodels 'holm'): sort p ascending
 * (ties in input order), adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)),
 * written back in input order. adj may equal p. Values in [0, 1]. */
int stat_holm(double *adj /* [m] */, const double *p, size_t m) MB_MUST_CHECK;

/* Benjamini-Hochberg adjusted p-values (FDR): adj_(i) = min_{j >= i}
 * min(1, m p_(j) / j). adj may equal p. */
int stat_bh(double *adj /* [m] */, const double *p, size_t m) MB_MUST_CHECK;

/* ---- k methods over N blocks ------------------------------------------------ */

struct stat_friedman {
    size_t n_blocks, k;
    double chi2;             /* tie-corrected Friedman statistic (scipy's) */
    double p_chi2;           /* chi-square sf with k - 1 degrees of freedom */
    double F;                /* Iman-Davenport (N-1) chi2 / (N (k-1) - chi2); +inf at perfect agreement */
    double df1, df2;         /* k - 1, (k - 1)(N - 1) */
    double p_F;              /* F sf(df1, df2); NaN when N < 2 */
    double tie_factor;       /* 1 - sum(t^3 - t) / (N k (k^2 - 1)) */
};

/* Friedman test on x[N x k] (rows blocks, e.g. subjects; columns methods).
 * Within each block values are ranked with average ties; rank 1 is the best
 * (the largest value when higher_is_better, else the smallest).
 * avg_rank[k] (may be NULL) receives the mean rank of each method.
 * When every block is entirely tied, chi2 = F = 0 and both p = 1.
 * N >= 1, k >= 2, values finite. */
int stat_friedman(struct stat_friedman *out, double *avg_rank /* [k] */, const double *x,
                  size_t N, size_t k, int higher_is_better) MB_MUST_CHECK;

#define STAT_NEMENYI_KMAX 20

/* q_alpha of the two-tailed Nemenyi test at alpha = 0.05 for k methods:
 * the 0.95 quantile of the studentized range with k groups and infinite
 * degrees of freedom, divided by sqrt(2) (Demšar 2006, Table 5a, whose
 * 3-decimal values for k <= 10 it matches to 1e-3). NaN outside 2..20. */
double stat_nemenyi_q05(size_t k);

/* Nemenyi critical difference CD = q_alpha sqrt(k (k + 1) / (6 N)) for k
 * methods over N blocks. Only alpha = 0.05 is tabulated. */
int stat_nemenyi_cd(double *cd, size_t k, size_t N, double alpha) MB_MUST_CHECK;

/* ---- combining evidence across datasets ------------------------------------- */

/* Stouffer's weighted Z (scipy combine_pvalues(method='stouffer')):
 * Z = sum_i w_i Phi^-1(1 - p_i) / sqrt(sum_i w_i^2), p = 1 - Phi(Z).
 * The p_i must be one-sided p-values of the same direction (a two-sided p
 * has lost the sign); protocols.md §5.1 uses w_i = sqrt(n_subjects_i).
 * p_i in (0, 1], w_i > 0, m >= 1. */
int stat_stouffer(double *z, double *p, const double *p_one_sided, const double *w,
                  size_t m) MB_MUST_CHECK;

/* ---- distribution functions -------------------------------------------------- */

double stat_norm_sf(double z);                 /* 1 - Phi(z), from erfc */
double stat_norm_isf(double p);                /* z with 1 - Phi(z) = p, p in (0, 1) */
double stat_chi2_sf(double x, double df);      /* P(X >= x), x >= 0, df > 0 */
double stat_f_sf(double x, double df1, double df2); /* P(F >= x), x >= 0, df > 0 */

#endif
