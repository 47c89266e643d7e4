/* tests/test_stats.c - reports/metrics and reports/stats against the scipy /
 * sklearn golden values of tests/ref/gen_stats.py, plus properties the
 * golden values cannot show (determinism, argument errors). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "reports/metrics.h"
#include "reports/stats.h"
#include "tests/ref/stats_golden.h"

#define NELEM(a) (sizeof (a) / sizeof (a)[0])

/* Relative closeness; NaN matches NaN and infinities match themselves. */
static void near(double got, double want, double rel, const char *what)
{
    if (isnan(want)) {
        cr_assert(isnan(got), "%s: got %.17g, want NaN", what, got);
        return;
    }
    if (isinf(want)) {
        cr_assert(got == want, "%s: got %.17g, want %g", what, got, want);
        return;
    }
    double tol = rel * fmax(fabs(want), 1e-300);
    cr_assert(fabs(got - want) <= tol, "%s: got %.17g, want %.17g (rel %.2g)", what, got, want,
              fabs(got - want) / fmax(fabs(want), 1e-300));
}

/* ---- metrics ------------------------------------------------------------------ */

Test(metrics, match_sklearn_on_fixed_label_vectors)
{
    for (size_t c = 0; c < NELEM(g_metrics); c++) {
        const struct g_metric *g = &g_metrics[c];
        struct metric_set m;
        double recall[8];
        cr_assert_eq(metric_from_labels(&m, recall, g->y_true, g->y_pred, g->n, g->K), MB_OK);
        char what[96];
        snprintf(what, sizeof what, "%s accuracy", g->name);
        near(m.accuracy, g->accuracy, 1e-14, what);
        snprintf(what, sizeof what, "%s balanced accuracy", g->name);
        near(m.balanced_accuracy, g->balanced_accuracy, 1e-14, what);
        snprintf(what, sizeof what, "%s macro-F1", g->name);
        near(m.macro_f1, g->macro_f1, 1e-14, what);
        snprintf(what, sizeof what, "%s kappa", g->name);
        near(m.kappa, g->kappa, 1e-13, what);
        for (size_t k = 0; k < g->K; k++) {
            snprintf(what, sizeof what, "%s recall[%zu]", g->name, k);
            near(recall[k], g->recall[k], 1e-14, what);
        }
        cr_assert_eq(m.n, g->n);
    }
}

Test(metrics, count_classes_behind_each_average)
{
    /* empty_classes: K = 5, y_true has {0, 1, 2}, y_pred adds 3, 4 nowhere */
    const struct g_metric *g = &g_metrics[1];
    struct metric_set m;
    cr_assert_eq(metric_from_labels(&m, NULL, g->y_true, g->y_pred, g->n, g->K), MB_OK);
    cr_assert_eq(m.n_true_classes, 3);
    cr_assert_eq(m.n_f1_classes, 4);
}

Test(metrics, empty_matrix_is_nan_everywhere)
{
    size_t cm[9] = { 0 };
    struct metric_set m;
    double rec[3];
    metric_from_confusion(&m, rec, cm, 3);
    cr_assert(isnan(m.accuracy) && isnan(m.balanced_accuracy) && isnan(m.macro_f1) && isnan(m.kappa));
    cr_assert(isnan(rec[0]) && isnan(rec[2]));
}

Test(metrics, reject_labels_outside_the_classes)
{
    mb_log_set_level(MB_LOG_QUIET);
    int yt[] = { 0, 1, 2 }, yp[] = { 0, 3, 1 };
    struct metric_set m;
    cr_assert_eq(metric_from_labels(&m, NULL, yt, yp, 3, 3), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "y_pred[1] = 3"), "%s", mb_last_error());
    int yn[] = { 0, -1, 2 };
    cr_assert_eq(metric_from_labels(&m, NULL, yn, yt, 3, 3), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "y_true[1] = -1"), "%s", mb_last_error());
}

/* ---- descriptive ---------------------------------------------------------------- */

Test(stats, summaries_match_numpy)
{
    struct stat_summary s;
    cr_assert_eq(stat_describe(&s, g_desc_x, NELEM(g_desc_x)), MB_OK);
    near(s.mean, g_desc_expect[0], 1e-14, "mean");
    near(s.std, g_desc_expect[1], 1e-13, "std");
    near(s.median, g_desc_expect[2], 1e-14, "median");
    near(s.q1, g_desc_expect[3], 1e-14, "q1");
    near(s.q3, g_desc_expect[4], 1e-14, "q3");
    near(s.iqr, g_desc_expect[5], 1e-13, "iqr");
    cr_assert(isnan(stat_std(g_desc_x, 1)), "std of one value is undefined with ddof 1");
    cr_assert(isnan(stat_mean(g_desc_x, 0)));
}

Test(stats, describe_rejects_non_finite_values)
{
    mb_log_set_level(MB_LOG_QUIET);
    double x[] = { 1.0, NAN, 2.0 };
    struct stat_summary s;
    cr_assert_eq(stat_describe(&s, x, 3), MB_ENUM);
    cr_assert(strstr(mb_last_error(), "value 1 of 3"), "%s", mb_last_error());
}

/* ---- bootstrap -------------------------------------------------------------------- */

Test(stats, bootstrap_ci_matches_the_python_port_of_the_generator)
{
    double lo, hi;
    cr_assert_eq(stat_bootstrap_mean_ci(&lo, &hi, g_boot_x, NELEM(g_boot_x), G_BOOT_N, 0.95,
                                        G_BOOT_SEED, G_BOOT_STREAM), MB_OK);
    near(lo, g_boot_ci[0], 1e-14, "ci lo");
    near(hi, g_boot_ci[1], 1e-14, "ci hi");
}

Test(stats, bootstrap_ci_is_seeded_and_brackets_the_mean)
{
    double lo1, hi1, lo2, hi2, lo3, hi3;
    const double *x = g_boot_x;
    size_t n = NELEM(g_boot_x);
    cr_assert_eq(stat_bootstrap_mean_ci(&lo1, &hi1, x, n, 10000, 0.95, 1, 0), MB_OK);
    cr_assert_eq(stat_bootstrap_mean_ci(&lo2, &hi2, x, n, 10000, 0.95, 1, 0), MB_OK);
    cr_assert_eq(stat_bootstrap_mean_ci(&lo3, &hi3, x, n, 10000, 0.95, 2, 0), MB_OK);
    cr_assert(lo1 == lo2 && hi1 == hi2, "same seed, same interval");
    cr_assert(lo1 != lo3 || hi1 != hi3, "another seed, another interval");
    double m = stat_mean(x, n), se = stat_std(x, n) / sqrt((double)n);
    cr_assert(lo1 < m && m < hi1);
    /* percentile CI of a mean is close to mean +- 1.96 se sqrt((n-1)/n) */
    double half = 1.959964 * se * sqrt((double)(n - 1) / (double)n);
    cr_assert(fabs((hi1 - lo1) - 2 * half) < 0.15 * 2 * half, "width %g vs %g", hi1 - lo1, 2 * half);
}

Test(stats, bootstrap_rejects_too_few_resamples)
{
    mb_log_set_level(MB_LOG_QUIET);
    double lo, hi;
    cr_assert_eq(stat_bootstrap_mean_ci(&lo, &hi, g_boot_x, 3, 100, 0.95, 1, 0), MB_EINVAL);
    cr_assert_eq(stat_bootstrap_mean_ci(&lo, &hi, g_boot_x, 3, 10000, 1.0, 1, 0), MB_EINVAL);
    cr_assert_eq(stat_bootstrap_mean_ci(&lo, &hi, g_boot_x, 1, 10000, 0.95, 1, 0), MB_OK);
    cr_assert(lo == g_boot_x[0] && hi == g_boot_x[0]);
}

/* ---- ranks ------------------------------------------------------------------------ */

Test(stats, ties_share_the_average_rank)
{
    double x[] = { 0.5, 0.7, 0.5, 0.9, 0.7, 0.7 }, r[6];
    cr_assert_eq(stat_rank_average(r, x, 6, 0), MB_OK);
    double want[] = { 1.5, 4.0, 1.5, 6.0, 4.0, 4.0 };
    for (int i = 0; i < 6; i++)
        cr_assert_eq(r[i], want[i], "ascending rank %d: %g", i, r[i]);
    cr_assert_eq(stat_rank_average(r, x, 6, 1), MB_OK);
    double wantd[] = { 5.5, 3.0, 5.5, 1.0, 3.0, 3.0 };
    for (int i = 0; i < 6; i++)
        cr_assert_eq(r[i], wantd[i], "descending rank %d: %g", i, r[i]);
}

/* ---- Wilcoxon ---------------------------------------------------------------------- */

Test(stats, wilcoxon_matches_scipy_exact_and_approximate)
{
    for (size_t c = 0; c < NELEM(g_wilcoxons); c++) {
        const struct g_wilcoxon *g = &g_wilcoxons[c];
        struct stat_wilcoxon w;
        cr_assert_eq(stat_wilcoxon(&w, g->x, g->y, g->n, (enum stat_alt)g->alt), MB_OK, "%s", g->name);
        char what[96];
        cr_assert_eq(w.exact, g->exact, "%s: exact %d", g->name, w.exact);
        cr_assert_eq(w.n_used, g->n_used, "%s: n_used %zu", g->name, w.n_used);
        cr_assert_eq(w.w_plus, g->w_plus, "%s: W+ %g", g->name, w.w_plus);
        cr_assert_eq(w.w_minus, g->w_minus, "%s: W- %g", g->name, w.w_minus);
        cr_assert_eq(w.statistic, g->statistic, "%s: statistic %g", g->name, w.statistic);
        snprintf(what, sizeof what, "%s p", g->name);
        near(w.p, g->p, 1e-12, what);
        snprintf(what, sizeof what, "%s z", g->name);
        near(w.z, g->z, 1e-12, what);
        snprintf(what, sizeof what, "%s rank-biserial", g->name);
        near(w.rank_biserial, g->rank_biserial, 1e-14, what);
    }
}

Test(stats, wilcoxon_of_identical_methods_is_not_significant)
{
    double x[] = { 0.5, 0.6, 0.7 };
    struct stat_wilcoxon w;
    cr_assert_eq(stat_wilcoxon(&w, x, x, 3, STAT_TWO_SIDED), MB_OK);
    cr_assert_eq(w.n_used, 0);
    cr_assert_eq(w.p, 1.0);
    cr_assert_eq(w.rank_biserial, 0.0);
}

Test(stats, wilcoxon_exact_p_is_two_to_the_minus_n_at_the_extreme)
{
    double d[20];
    for (int i = 0; i < 20; i++)
        d[i] = 0.01 * (i + 1);
    struct stat_wilcoxon w;
    cr_assert_eq(stat_wilcoxon(&w, d, NULL, 20, STAT_GREATER), MB_OK);
    cr_assert(w.exact);
    cr_assert_eq(w.p, ldexp(1.0, -20));
    cr_assert_eq(stat_wilcoxon(&w, d, NULL, 20, STAT_TWO_SIDED), MB_OK);
    cr_assert_eq(w.p, ldexp(1.0, -19));
}

/* ---- sign flip ---------------------------------------------------------------------- */

Test(stats, signflip_matches_itertools_and_the_monte_carlo_port)
{
    for (size_t c = 0; c < NELEM(g_perms); c++) {
        const struct g_perm *g = &g_perms[c];
        struct stat_perm p;
        cr_assert_eq(stat_signflip(&p, g->x, g->y, g->n, (enum stat_alt)g->alt, g->n_perm, g->seed),
                     MB_OK, "%s", g->name);
        cr_assert_eq(p.exact, g->exact, "%s", g->name);
        cr_assert_eq(p.count, g->count, "%s: count %zu, want %zu", g->name, p.count, g->count);
        char what[96];
        snprintf(what, sizeof what, "%s p", g->name);
        near(p.p, g->p, 1e-15, what);
        snprintf(what, sizeof what, "%s mean", g->name);
        near(p.mean_diff, g->mean_diff, 1e-14, what);
    }
}

Test(stats, signflip_monte_carlo_p_is_never_zero)
{
    double d[30];
    for (int i = 0; i < 30; i++)
        d[i] = 1.0 + 0.01 * i;
    struct stat_perm p;
    cr_assert_eq(stat_signflip(&p, d, NULL, 30, STAT_TWO_SIDED, 0, 7), MB_OK);
    cr_assert_eq(p.n_perm, STAT_PERM_DEFAULT);
    cr_assert_eq(p.p, 1.0 / (STAT_PERM_DEFAULT + 1.0));
}

/* ---- effect sizes ---------------------------------------------------------------------- */

Test(stats, effect_sizes_match_numpy)
{
    const struct g_wilcoxon *g = &g_wilcoxons[G_EFFECT_CASE];
    near(stat_cohen_dz(g->x, g->y, g->n), g_effect[0], 1e-13, "d_z");
    near(stat_prob_improve(g->x, g->y, g->n), g_effect[1], 1e-15, "P(improve)");
    double c[] = { 0.1, 0.1, 0.1 };
    cr_assert(isnan(stat_cohen_dz(c, NULL, 3)), "constant differences have no d_z");
}

/* ---- corrections ------------------------------------------------------------------------ */

Test(stats, holm_and_bh_match_the_step_procedures)
{
    size_t m = NELEM(g_holm_p);
    double adj[NELEM(g_holm_p)];
    cr_assert_eq(stat_holm(adj, g_holm_p, m), MB_OK);
    for (size_t i = 0; i < m; i++)
        cr_assert_eq(adj[i], g_holm_adj[i], "holm[%zu]: %.17g vs %.17g", i, adj[i], g_holm_adj[i]);
    cr_assert_eq(stat_bh(adj, g_holm_p, m), MB_OK);
    for (size_t i = 0; i < m; i++)
        cr_assert_eq(adj[i], g_bh_adj[i], "bh[%zu]: %.17g vs %.17g", i, adj[i], g_bh_adj[i]);
    /* in place */
    memcpy(adj, g_holm_p, sizeof adj);
    cr_assert_eq(stat_holm(adj, adj, m), MB_OK);
    cr_assert_eq(adj[3], g_holm_adj[3]);
}

Test(stats, corrections_reject_values_outside_unit_interval)
{
    mb_log_set_level(MB_LOG_QUIET);
    double p[] = { 0.1, 1.5 }, adj[2];
    cr_assert_eq(stat_holm(adj, p, 2), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "p-value 1 of 2"), "%s", mb_last_error());
}

/* ---- Friedman, Nemenyi ----------------------------------------------------------------------- */

Test(stats, friedman_matches_scipy_with_iman_davenport)
{
    for (size_t c = 0; c < NELEM(g_friedmans); c++) {
        const struct g_friedman *g = &g_friedmans[c];
        struct stat_friedman f;
        double rank[8];
        cr_assert_eq(stat_friedman(&f, rank, g->x, g->N, g->k, g->higher), MB_OK);
        char what[96];
        snprintf(what, sizeof what, "%s chi2", g->name);
        near(f.chi2, g->chi2, 1e-12, what);
        snprintf(what, sizeof what, "%s p", g->name);
        near(f.p_chi2, g->p_chi2, 1e-10, what);
        snprintf(what, sizeof what, "%s F", g->name);
        near(f.F, g->F, 1e-12, what);
        snprintf(what, sizeof what, "%s p_F", g->name);
        near(f.p_F, g->p_F, 1e-10, what);
        for (size_t j = 0; j < g->k; j++) {
            snprintf(what, sizeof what, "%s rank[%zu]", g->name, j);
            near(rank[j], g->avg_rank[j], 1e-14, what);
        }
    }
}

Test(stats, friedman_of_all_ties_is_not_significant)
{
    double x[6] = { 1, 1, 1, 2, 2, 2 };
    struct stat_friedman f;
    double r[3];
    cr_assert_eq(stat_friedman(&f, r, x, 2, 3, 1), MB_OK);
    cr_assert_eq(f.chi2, 0.0);
    cr_assert_eq(f.p_chi2, 1.0);
    cr_assert_eq(r[0], 2.0);
}

Test(stats, nemenyi_table_matches_the_studentized_range)
{
    for (size_t k = 2; k <= STAT_NEMENYI_KMAX; k++)
        cr_assert(fabs(stat_nemenyi_q05(k) - g_nemenyi_q05[k - 2]) < 5e-7, "k = %zu: %.6f vs %.9f", k,
                  stat_nemenyi_q05(k), g_nemenyi_q05[k - 2]);
    cr_assert(isnan(stat_nemenyi_q05(1)) && isnan(stat_nemenyi_q05(21)));
    double cd;
    cr_assert_eq(stat_nemenyi_cd(&cd, 4, 12, 0.05), MB_OK);
    near(cd, 2.569032 * sqrt(4.0 * 5.0 / 72.0), 1e-15, "cd");
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(stat_nemenyi_cd(&cd, 4, 12, 0.10), MB_EINVAL);
    cr_assert_eq(stat_nemenyi_cd(&cd, 21, 12, 0.05), MB_EINVAL);
}

/* ---- Stouffer, distributions ---------------------------------------------------------------- */

Test(stats, stouffer_matches_scipy_combine_pvalues)
{
    for (size_t c = 0; c < NELEM(g_stouffers); c++) {
        const struct g_stouffer *g = &g_stouffers[c];
        double z, p;
        cr_assert_eq(stat_stouffer(&z, &p, g->p, g->w, g->m), MB_OK, "%s", g->name);
        char what[96];
        snprintf(what, sizeof what, "%s z", g->name);
        near(z, g->z, 1e-12, what);
        snprintf(what, sizeof what, "%s p", g->name);
        near(p, g->pc, 1e-12, what);
    }
    mb_log_set_level(MB_LOG_QUIET);
    double z, p, pz[] = { 0.0 }, w[] = { 1.0 };
    cr_assert_eq(stat_stouffer(&z, &p, pz, w, 1), MB_EINVAL);
}

Test(stats, distribution_functions_match_scipy)
{
    for (size_t c = 0; c < NELEM(g_dists); c++) {
        const struct g_dist *g = &g_dists[c];
        double v = g->kind == 0 ? stat_norm_sf(g->x)
                 : g->kind == 1 ? stat_norm_isf(g->x)
                 : g->kind == 2 ? stat_chi2_sf(g->x, g->a)
                 : stat_f_sf(g->x, g->a, g->b);
        char what[96];
        snprintf(what, sizeof what, "kind %d at x = %g (%g, %g)", g->kind, g->x, g->a, g->b);
        near(v, g->value, 1e-10, what);
    }
}
