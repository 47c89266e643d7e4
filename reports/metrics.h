/* reports/metrics.h - classification metrics of one test subject (or one
 * (subject, session)) from a confusion matrix or from label vectors
 * (protocols.md §3.1). Definitions and conventions for empty classes are in
 * docs/REPORTS.md; golden values in tests/ref/stats_golden.h.
 *
 * Confusion matrices are [K x K] row-major counts, rows the true class,
 * columns the predicted class (LibEMG's CONF_MAT and sklearn's layout).
 *
 * Which classes count:
 *   - per-class recall is defined for classes present in y_true (row sum
 *     > 0) and NaN for the others;
 *   - balanced accuracy is the mean recall over the classes present in
 *     y_true (sklearn balanced_accuracy_score);
 *   - macro-F1 averages F1_c = 2 TP / (2 TP + FP + FN) over the classes that
 *     occur in y_true or in y_pred: a class only predicted (a false alarm)
 *     or only true (never found) scores F1 = 0 and pulls the mean down; a
 *     class absent from both has no F1 and is left out (sklearn
 *     f1_score(average='macro') with labels=None);
 *   - Cohen's kappa = (p_o - p_e) / (1 - p_e), NaN when p_e = 1 (one class
 *     only, in truth and prediction alike).
 * Every metric is NaN for an empty matrix.
 */
#ifndef MB_REPORTS_METRICS_H
#define MB_REPORTS_METRICS_H

#include <stddef.h>

#include "core/err.h"

struct metric_set {
    size_t n;                  /* samples (windows) counted */
    size_t n_true_classes;     /* classes present in y_true: balanced accuracy's denominator */
    size_t n_f1_classes;       /* classes in y_true or y_pred: macro-F1's denominator */
    double accuracy;
    double balanced_accuracy;
    double macro_f1;
    double kappa;
};

/* Counts cm[K x K] from labels in [0, K). A label outside is MB_EINVAL
 * naming the vector and position. */
int metric_confusion(size_t *cm /* [K x K] */, const int *y_true, const int *y_pred, size_t n,
                     size_t K) MB_MUST_CHECK;

/* Every metric of cm; recall[K] (may be NULL) receives per-class recall. */
void metric_from_confusion(struct metric_set *out, double *recall /* [K] */, const size_t *cm,
                           size_t K);

/* metric_confusion then metric_from_confusion; K <= 4096. */
int metric_from_labels(struct metric_set *out, double *recall /* [K] */, const int *y_true,
                       const int *y_pred, size_t n, size_t K) MB_MUST_CHECK;

double metric_accuracy(const size_t *cm, size_t K);
double metric_balanced_accuracy(const size_t *cm, size_t K);
double metric_macro_f1(const size_t *cm, size_t K);
double metric_kappa(const size_t *cm, size_t K);
void   metric_recall(double *recall /* [K] */, const size_t *cm, size_t K);

#endif
