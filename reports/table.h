/* reports/table.h - tabular report writers: Markdown, LaTeX booktabs, CSV
 * (long and wide) and JSON, all printing the numbers of one analysis
 * (reports/analysis.h), so every format agrees. docs/REPORTS.md shows each
 * layout. Every writer builds 'path' under a temporary name and renames it
 * when complete; on error nothing is left at 'path'.
 *
 * Number formats are fixed (tables: "%.*f" with the metric's decimals after
 * scaling; average ranks "%.2f"; CSV: the shortest decimal that reads back
 * as the same double; JSON: 15 significant digits, null for NaN and
 * infinities), so the same analysis always gives the same bytes.
 */
#ifndef MB_REPORTS_TABLE_H
#define MB_REPORTS_TABLE_H

#include <stdio.h>
#include "reports/analysis.h"

/* One wide table: a row per method, a column per (block, metric), and the
 * average-rank column. Cells "mean ± std [lo, hi]" (per opts.show), best
 * bold, second <ins>underlined</ins>, † significantly worse than the best;
 * a legend paragraph follows the table. */
int rep_write_md(const char *path, const struct rep_analysis *a) MB_MUST_CHECK;
/* The same Markdown onto an open stream (stdout in `myobench report`). */
void rep_print_md(FILE *f, const struct rep_analysis *a);

/* The same table for LaTeX (booktabs): \multicolumn block headers with
 * "N = subjects", \cmidrule(lr) under each block, \midrule between method
 * groups, \textbf best, \underline second, $^\dagger$ significantly worse,
 * {\scriptsize [lo, hi]} CIs, oracle rows in italics. Inside table* with
 * caption and label when opts.tex_float, else a bare tabular (the legend is
 * then a comment). Needs \usepackage{booktabs}. */
int rep_write_tex(const char *path, const struct rep_analysis *a) MB_MUST_CHECK;

/* Long form, the source of truth: header "dataset,protocol,method,metric,
 * subject,value", one row per subject value (raw, unscaled) in cube order;
 * an n/a cell gives one row per subject with value "n/a". */
int rep_write_csv_long(const char *path, const struct rep_analysis *a) MB_MUST_CHECK;

/* Wide form: one row per method; columns method, group, oracle, then for
 * every block and metric "<dataset>:<protocol>:<metric>:<stat>" with stat in
 * n, mean, std, median, q1, q3, ci_lo, ci_hi, rank, p, p_holm, mark, and
 * last avg_rank (the pooled mean rank of the rank metric). Raw values; NaN
 * is an empty field; every stat of an n/a cell is "n/a". */
int rep_write_csv_wide(const char *path, const struct rep_analysis *a) MB_MUST_CHECK;

/* Everything: options, metrics, methods, per block and metric the cells
 * (per-subject values, summaries, CI, rank, marks, test against the best)
 * and the Friedman design (mean ranks, Friedman, Nemenyi CD, pairwise
 * Wilcoxon p and Holm p), and per metric the pooled design and the Stouffer
 * meta-analysis. Layout in docs/REPORTS.md. */
int rep_write_json(const char *path, const struct rep_analysis *a) MB_MUST_CHECK;

#endif
