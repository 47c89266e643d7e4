/* reports/analysis.h - every number the report writers print, computed once
 * from a results cube (reports/cube.h). docs/REPORTS.md states each rule;
 * in short:
 *
 *   cell      (block, metric, method): summary over subjects (mean, std ddof 1,
 *             median, IQR), percentile bootstrap CI of the mean (one rng
 *             stream per cell, so cells do not depend on each other);
 *   column    (block, metric): the ranked methods are the non-oracle methods
 *             with values; n/a and missing cells are left out alike (no mark,
 *             no test, not in the block's Holm family or Friedman design). Best = best mean, second = next distinct mean.
 *             Each other ranked method is compared with the best by a
 *             two-sided paired test over subjects (Wilcoxon signed-rank by
 *             default), Holm over that family of k - 1 comparisons; a method
 *             is "significantly worse" when its adjusted p < alpha and its
 *             mean is worse. A Friedman design over subjects gives mean ranks,
 *             Friedman / Iman-Davenport, the Nemenyi CD, and every pair's
 *             Wilcoxon p with Holm over the k (k - 1) / 2 pairs (the cliques
 *             of the CD diagram);
 *   pooled    per metric: the same design over all (dataset, subject) units
 *             of the complete blocks (every non-oracle method has values);
 *             its mean ranks are the tables' average-rank column. Stouffer's
 *             weighted Z (weights sqrt(n_subjects)) combines, for every
 *             method, the one-sided per-block Wilcoxon p-values of "the
 *             pooled best beats it", with the weighted mean d_z.
 */
#ifndef MB_REPORTS_ANALYSIS_H
#define MB_REPORTS_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "reports/cube.h"
#include "reports/stats.h"

enum rep_test {
    REP_TEST_WILCOXON = 0,   /* stat_wilcoxon, two-sided */
    REP_TEST_SIGNFLIP,       /* stat_signflip on the mean difference, two-sided */
};

/* What a table cell shows besides the mean. */
#define REP_SHOW_STD 1u      /* "mean ± std" */
#define REP_SHOW_CI  2u      /* "[lo, hi]" bootstrap CI */

struct rep_opts {
    double alpha;            /* significance level of every test (0.05) */
    double ci_level;         /* bootstrap confidence (0.95) */
    size_t n_boot;           /* bootstrap resamples (STAT_BOOT_DEFAULT) */
    uint64_t seed;           /* bootstrap and Monte-Carlo seed (20240501) */
    enum rep_test test;      /* test against the best (REP_TEST_WILCOXON) */
    size_t rank_metric;      /* metric of the average-rank column (0) */
    unsigned show;           /* REP_SHOW_STD | REP_SHOW_CI */
    const char *caption;     /* LaTeX caption text put before the generated legend; NULL: none */
    const char *label;       /* LaTeX \label; NULL: none */
    int tex_float;           /* 1: LaTeX inside table*, 0: bare tabular (1) */
};

void rep_opts_default(struct rep_opts *o);

/* Marks of a cell within its column. */
#define REP_BEST   1u
#define REP_SECOND 2u
#define REP_WORSE  4u        /* significantly worse than the best after Holm */

struct rep_cell {
    enum rep_state state;
    struct stat_summary s;   /* over subjects (REP_VALUE only) */
    double ci_lo, ci_hi;     /* bootstrap CI of the mean */
    double rank;             /* mean rank in the column's design (1 = best); NaN if not ranked */
    /* against the column's best method; NaN for the best itself, oracles, n/a, missing */
    double p, p_holm;        /* two-sided test, Holm-adjusted over the column */
    double d_z;              /* Cohen's d_z of (this - best), sign so > 0 means better than best */
    double rank_biserial;    /* of (this - best), same sign convention */
    unsigned mark;           /* REP_BEST | REP_SECOND | REP_WORSE */
};

/* A Friedman design: k ranked methods over n_units blocks. */
struct rep_design {
    size_t k;
    size_t *methods;         /* [k] cube method indices, in cube order */
    size_t n_units;          /* subjects, or (dataset, subject) pairs */
    int valid;               /* k >= 2 and n_units >= 1; else nothing below is set */
    struct stat_friedman fr;
    double *avg_rank;        /* [k] */
    double cd;               /* Nemenyi CD at alpha 0.05; NaN if k > 20 */
    double *p_pair;          /* [k x k] two-sided Wilcoxon p of methods i, j; NaN diagonal */
    double *p_pair_holm;     /* [k x k] Holm over the k (k - 1) / 2 pairs */
};

struct rep_column {
    size_t best, second;     /* cube method indices; REP_NONE when absent */
    struct rep_design d;
};

struct rep_meta {            /* one method against the pooled best, across blocks */
    size_t n_blocks;         /* blocks where both have values */
    double z, p;             /* Stouffer over one-sided Wilcoxon mid-p values; NaN if n_blocks == 0
                              * or the blocks are not independent (rep_pooled.shared_subjects) */
    double effect;           /* sqrt(n)-weighted mean d_z (> 0: the reference is better) */
};

struct rep_pooled {
    size_t n_blocks_used;
    size_t *blocks_used;     /* [n_blocks_used] complete blocks */
    struct rep_design d;
    size_t reference;        /* lowest mean rank; REP_NONE if the design is not valid */
    struct rep_meta *meta;   /* [n_methods]; n_blocks 0 for the reference, oracles */
    /* 1 when two blocks come from one dataset (one protocol table per dataset: the same
     * subjects twice); Stouffer needs independent blocks, so meta[].z and .p stay NaN */
    int shared_subjects;
};

struct rep_analysis {
    const struct rep_cube *cube;  /* borrowed: must outlive the analysis */
    struct rep_opts opts;
    struct rep_cell *cell;        /* [n_blocks x n_metrics x n_methods] */
    struct rep_column *col;       /* [n_blocks x n_metrics] */
    struct rep_pooled *pooled;    /* [n_metrics] */
};

/* Analyses the cube. Every cell must be filled (values, n/a or missing): an empty
 * cell is MB_EINVAL naming block, method and metric. Single-threaded and
 * deterministic: the same cube and options give the same bits.
 * Free with rep_analysis_free (NULL allowed). */
int rep_analyse(struct rep_analysis **out, const struct rep_cube *c,
                const struct rep_opts *o) MB_MUST_CHECK;
void rep_analysis_free(struct rep_analysis *a);

static inline const struct rep_cell *rep_cell_at(const struct rep_analysis *a, size_t b, size_t k,
                                                 size_t m)
{
    const struct rep_cube *c = a->cube;
    return &a->cell[(b * c->n_metrics + k) * c->n_methods + m];
}

static inline const struct rep_column *rep_column_at(const struct rep_analysis *a, size_t b, size_t k)
{
    return &a->col[b * a->cube->n_metrics + k];
}

/* Mean rank of method m in a design; NaN when m is not part of it. */
double rep_design_rank(const struct rep_design *d, size_t m);

#endif
