/* reports/metrics.c - classification metrics (see metrics.h). */
#include "reports/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define METRIC_KMAX 4096

int metric_confusion(size_t *cm, const int *y_true, const int *y_pred, size_t n, size_t K)
{
    if (K == 0 || K > METRIC_KMAX)
        return mb_error(MB_EINVAL, "metric_confusion: %zu classes (need 1..%d)", K, METRIC_KMAX);
    memset(cm, 0, K * K * sizeof *cm);
    for (size_t i = 0; i < n; i++) {
        if (y_true[i] < 0 || (size_t)y_true[i] >= K)
            return mb_error(MB_EINVAL, "metric_confusion: y_true[%zu] = %d is not a class in [0, %zu)",
                            i, y_true[i], K);
        if (y_pred[i] < 0 || (size_t)y_pred[i] >= K)
            return mb_error(MB_EINVAL, "metric_confusion: y_pred[%zu] = %d is not a class in [0, %zu)",
                            i, y_pred[i], K);
        cm[(size_t)y_true[i] * K + (size_t)y_pred[i]]++;
    }
    return MB_OK;
}

static double total(const size_t *cm, size_t K)
{
    double t = 0.0;
    for (size_t i = 0; i < K * K; i++)
        t += (double)cm[i];
    return t;
}

static double row_sum(const size_t *cm, size_t K, size_t r)
{
    double s = 0.0;
    for (size_t j = 0; j < K; j++)
        s += (double)cm[r * K + j];
    return s;
}

static double col_sum(const size_t *cm, size_t K, size_t c)
{
    double s = 0.0;
    for (size_t i = 0; i < K; i++)
        s += (double)cm[i * K + c];
    return s;
}

double metric_accuracy(const size_t *cm, size_t K)
{
    double t = total(cm, K), d = 0.0;
    for (size_t i = 0; i < K; i++)
        d += (double)cm[i * K + i];
    return t > 0.0 ? d / t : NAN;
}

void metric_recall(double *recall, const size_t *cm, size_t K)
{
    for (size_t c = 0; c < K; c++) {
        double r = row_sum(cm, K, c);
        recall[c] = r > 0.0 ? (double)cm[c * K + c] / r : NAN;
    }
}

double metric_balanced_accuracy(const size_t *cm, size_t K)
{
    double s = 0.0;
    size_t m = 0;
    for (size_t c = 0; c < K; c++) {
        double r = row_sum(cm, K, c);
        if (r > 0.0) {
            s += (double)cm[c * K + c] / r;
            m++;
        }
    }
    return m ? s / (double)m : NAN;
}

/* Mean F1 over classes in y_true or y_pred; *m receives how many. */
static double macro_f1(const size_t *cm, size_t K, size_t *m)
{
    double s = 0.0;
    *m = 0;
    for (size_t c = 0; c < K; c++) {
        double tp = (double)cm[c * K + c];
        double fn = row_sum(cm, K, c) - tp, fp = col_sum(cm, K, c) - tp;
        if (tp + fn + fp > 0.0) {
            s += 2.0 * tp / (2.0 * tp + fp + fn);
            (*m)++;
        }
    }
    return *m ? s / (double)*m : NAN;
}

double metric_macro_f1(const size_t *cm, size_t K)
{
    size_t m;
    return macro_f1(cm, K, &m);
}

double metric_kappa(const size_t *cm, size_t K)
{
    double t = total(cm, K);
    if (t <= 0.0)
        return NAN;
    double po = 0.0, pe = 0.0;
    for (size_t c = 0; c < K; c++) {
        po += (double)cm[c * K + c];
        pe += row_sum(cm, K, c) * col_sum(cm, K, c);
    }
    po /= t;
    pe /= t * t;
    return pe < 1.0 ? (po - pe) / (1.0 - pe) : NAN;
}

void metric_from_confusion(struct metric_set *out, double *recall, const size_t *cm, size_t K)
{
    memset(out, 0, sizeof *out);
    out->n = (size_t)total(cm, K);
    for (size_t c = 0; c < K; c++)
        out->n_true_classes += row_sum(cm, K, c) > 0.0;
    out->accuracy = metric_accuracy(cm, K);
    out->balanced_accuracy = metric_balanced_accuracy(cm, K);
    out->macro_f1 = macro_f1(cm, K, &out->n_f1_classes);
    out->kappa = metric_kappa(cm, K);
    if (recall)
        metric_recall(recall, cm, K);
}

int metric_from_labels(struct metric_set *out, double *recall, const int *y_true,
                       const int *y_pred, size_t n, size_t K)
{
    if (K == 0 || K > METRIC_KMAX)
        return mb_error(MB_EINVAL, "metric_from_labels: %zu classes (need 1..%d)", K, METRIC_KMAX);
    size_t *cm = malloc(K * K * sizeof *cm); /* [K x K] */
    if (!cm)
        return mb_error(MB_ENOMEM, "metric_from_labels: %zu x %zu confusion matrix", K, K);
    int rc = metric_confusion(cm, y_true, y_pred, n, K);
    if (rc == MB_OK)
        metric_from_confusion(out, recall, cm, K);
    free(cm);
    return rc;
}
