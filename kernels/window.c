/* kernels/window.c - sliding windows and their labels (see window.h). */
#include "kernels/window.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int kern_window_samples(size_t *out, double ms, double fs)
{
    if (!(ms > 0) || !(fs > 0) || !isfinite(ms) || !isfinite(fs))
        return mb_error(MB_EINVAL, "window of %g ms at %g Hz: both must be positive", ms, fs);
    double v = round(ms * fs / 1000.0);
    if (v < 1)
        return mb_error(MB_EINVAL, "window of %g ms at %g Hz is shorter than one sample", ms, fs);
    *out = (size_t)v;
    return MB_OK;
}

void kern_windows_free(struct kern_windows *w)
{
    if (!w) return;
    free(w->start);
    free(w->label);
    free(w->rep);
    memset(w, 0, sizeof *w);
}

static int alloc_windows(struct kern_windows *w, const struct kern_window_spec *spec, double fs, size_t T,
                         size_t *cand)
{
    memset(w, 0, sizeof *w);
    int rc = kern_window_samples(&w->W, spec->win_ms, fs);
    if (rc) return rc;
    rc = kern_window_samples(&w->S, spec->stride_ms, fs);
    if (rc) return rc;
    *cand = T >= w->W ? (T - w->W) / w->S + 1 : 0;
    size_t m = *cand ? *cand : 1;
    w->start = malloc(m * sizeof *w->start);
    w->label = malloc(m * sizeof *w->label);
    w->rep = malloc(m * sizeof *w->rep);
    if (!w->start || !w->label || !w->rep) {
        kern_windows_free(w);
        return mb_error(MB_ENOMEM, "%zu windows", m);
    }
    return MB_OK;
}

/* Most frequent label of l[a..b), ties to the smaller label. O(W * runs). */
static int32_t majority(const int32_t *l, size_t a, size_t b)
{
    int32_t best = l[a];
    size_t bestn = 0;
    for (size_t i = a; i < b; i++) {
        /* count each distinct label once, at its first occurrence */
        int seen = 0;
        for (size_t j = a; j < i && !seen; j++)
            seen = l[j] == l[i];
        if (seen) continue;
        size_t n = 0;
        for (size_t j = i; j < b; j++)
            n += l[j] == l[i];
        if (n > bestn || (n == bestn && l[i] < best)) { best = l[i]; bestn = n; }
    }
    return best;
}

/* Majority for the optimised path: walks runs, so a window inside one run
 * costs O(1) once the run is known, and a straddling one O(runs^2). */
static int32_t majority_runs(const int32_t *l, size_t a, size_t b)
{
    enum { MAXK = 32 };
    int32_t lab[MAXK] = {0};
    size_t cnt[MAXK], k = 0;
    for (size_t i = a; i < b;) {
        size_t j = i + 1;
        while (j < b && l[j] == l[i]) j++;
        size_t q = 0;
        while (q < k && lab[q] != l[i]) q++;
        if (q == k) {
            if (k == MAXK) return majority(l, a, b);
            lab[k] = l[i]; cnt[k] = 0; k++;
        }
        cnt[q] += j - i;
        i = j;
    }
    int32_t best = lab[0];
    size_t bestn = 0;
    for (size_t q = 0; q < k; q++)
        if (cnt[q] > bestn || (cnt[q] == bestn && lab[q] < best)) { best = lab[q]; bestn = cnt[q]; }
    return best;
}

static int keep(const struct kern_window_spec *spec, const int32_t *labels, int straddles, int32_t lab)
{
    if (straddles && !spec->keep_straddling) return 0;
    if (labels && lab < 0 && !spec->keep_unlabelled) return 0;
    return 1;
}

int kern_windows_make_ref(struct kern_windows *w, const struct kern_window_spec *spec, double fs,
                          const int32_t *labels, const int32_t *reps, size_t T)
{
    size_t cand;
    int rc = alloc_windows(w, spec, fs, T, &cand);
    if (rc) return rc;
    for (size_t i = 0; i < cand; i++) {
        size_t s = i * w->S, e = s + w->W; /* [s, e) */
        int straddles = 0;
        for (size_t t = s + 1; t < e; t++) {
            if (labels && labels[t] != labels[t - 1]) straddles = 1;
            if (reps && reps[t] != reps[t - 1]) straddles = 1;
        }
        int32_t lab = -1;
        if (labels)
            lab = spec->label == KERN_LABEL_MAJORITY ? majority(labels, s, e) : labels[e - 1];
        if (!keep(spec, labels, straddles, lab)) continue;
        w->start[w->n] = s;
        w->label[w->n] = lab;
        w->rep[w->n] = reps ? reps[e - 1] : -1;
        w->n++;
    }
    return MB_OK;
}

int kern_windows_make(struct kern_windows *w, const struct kern_window_spec *spec, double fs,
                      const int32_t *labels, const int32_t *reps, size_t T)
{
    size_t cand;
    int rc = alloc_windows(w, spec, fs, T, &cand);
    if (rc) return rc;
    /* last_change = largest t <= window end with (label, rep)[t] differing
     * from t - 1; a window [s, e) straddles iff last_change > s. Window
     * ends increase, so one forward scan serves every window. */
    size_t last_change = 0, t = 1;
    for (size_t i = 0; i < cand; i++) {
        size_t s = i * w->S, e = s + w->W;
        for (; t < e; t++)
            if ((labels && labels[t] != labels[t - 1]) || (reps && reps[t] != reps[t - 1]))
                last_change = t;
        int straddles = last_change > s;
        int32_t lab = -1;
        if (labels)
            lab = (spec->label == KERN_LABEL_MAJORITY && straddles) ? majority_runs(labels, s, e) : labels[e - 1];
        if (!keep(spec, labels, straddles, lab)) continue;
        w->start[w->n] = s;
        w->label[w->n] = lab;
        w->rep[w->n] = reps ? reps[e - 1] : -1;
        w->n++;
    }
    return MB_OK;
}
