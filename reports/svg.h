/* reports/svg.h - figures as hand-written SVG: critical-difference diagram,
 * per-subject strip plot, confusion-matrix heatmap. Coordinates are printed
 * with "%.2f" and numbers with fixed formats, so a figure is byte-stable.
 * Files are built under a temporary name and renamed when complete.
 */
#ifndef MB_REPORTS_SVG_H
#define MB_REPORTS_SVG_H

#include <stddef.h>

#include "reports/analysis.h"

/* Critical-difference diagram of metric k in block b, or of the pooled
 * design over complete blocks when b == REP_NONE: the ranked methods' mean
 * ranks on an axis (1 = best, on the left) and thick bars joining methods
 * that are not significantly different. Following Benavoli, Corani and
 * Mangili (2016), the bars come from pairwise two-sided Wilcoxon
 * signed-rank tests with Holm over all pairs, not from the Nemenyi CD
 * (whose verdict on A vs B depends on the other methods): a bar spans each
 * maximal run of methods, consecutive in rank order, in which no pair
 * differs at alpha. The footer names the test and gives the Friedman
 * result. MB_EINVAL when the design has fewer than two ranked methods. */
int rep_write_cd_svg(const char *path, const struct rep_analysis *a, size_t b, size_t k) MB_MUST_CHECK;

/* Per-subject strip plot of metric k in block b: one column per method
 * (cube order), a dot per subject (deterministic horizontal jitter), the
 * mean as a bar and the bootstrap CI as a whisker; n/a methods say "n/a";
 * oracle methods in grey. Values are scaled like the tables. */
int rep_write_strip_svg(const char *path, const struct rep_analysis *a, size_t b, size_t k) MB_MUST_CHECK;

/* Heatmap of a confusion matrix cm[K x K] (rows true, columns predicted):
 * each cell coloured by its share of the row (recall along the diagonal)
 * and labelled with its count. class_names[K] may be NULL (then 0..K-1);
 * title may be NULL. K in 1..200. */
int rep_write_confusion_svg(const char *path, const size_t *cm, size_t K,
                            const char *const *class_names, const char *title) MB_MUST_CHECK;

#endif
