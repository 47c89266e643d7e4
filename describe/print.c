/* describe/print.c - the describe report as text tables and as JSON
 * (describe.h). A statistic that could not be computed (NAN) prints as
 * "n/a" and as JSON null, never as 0. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "describe/describe.h"

static void num(FILE *fp, int width, const char *fmt, double v)
{
    if (isfinite(v))
        fprintf(fp, fmt, width, v);
    else
        fprintf(fp, "%*s", width, "n/a");
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of the finite values of v [n] (sorted in place); NAN if none. */
static double median(double *v, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            v[m++] = v[i];
    if (!m)
        return NAN;
    qsort(v, m, sizeof *v, cmp_dbl);
    return m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
}

/* The statistics the summary reports, one value per subject. */
enum { ST_RMS, ST_KURT, ST_MNF, ST_MDF, ST_CORR1, ST_WITHIN, ST_LOSO, ST_GAP, ST_R2W, ST_R2L, ST_R2U, ST_ZS, ST_N };
static const char *const st_name[ST_N] = { "rms", "kurtosis", "mnf_hz", "mdf_hz", "corr_d1", "lda_within",
                                           "lda_loso", "lda_gap", "r2_within", "r2_loso", "r2_unseen", "vote_zs" };

static double subject_stat(const struct dsc_report *r, const struct dsc_subject *s, int k, double *tmp)
{
    size_t C = r->C;
    switch (k) {
    case ST_RMS: case ST_KURT: case ST_MNF: case ST_MDF:
        for (size_t c = 0; c < C; c++)
            tmp[c] = k == ST_RMS ? s->ch[c].rms : k == ST_KURT ? s->ch[c].kurtosis
                   : k == ST_MNF ? s->ch[c].mnf : s->ch[c].mdf;
        return median(tmp, C);
    case ST_CORR1: return r->n_dist ? s->corr[0] : NAN;
    case ST_WITHIN: return s->within_bacc;
    case ST_LOSO: return s->loso_bacc;
    case ST_GAP: return s->within_bacc - s->loso_bacc;
    case ST_R2W: return s->r2_within;
    case ST_R2L: return s->r2_loso;
    case ST_R2U: return s->r2_unseen;
    default: return s->zs_bacc;
    }
}

/* Median, min and max over subjects of statistic k (each subject's value
 * the median over its channels for the channel statistics). */
static void summary(double out[3], const struct dsc_report *r, int k)
{
    double *v = calloc(r->n_subjects + 1, sizeof *v), *tmp = calloc(r->C + 1, sizeof *tmp);
    out[0] = out[1] = out[2] = NAN;
    if (!v || !tmp)
        goto out;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t s = 0; s < r->n_subjects; s++) {
        v[s] = subject_stat(r, &r->subjects[s], k, tmp);
        if (isfinite(v[s])) {
            lo = fmin(lo, v[s]);
            hi = fmax(hi, v[s]);
        }
    }
    out[0] = median(v, r->n_subjects);
    if (isfinite(out[0])) {
        out[1] = lo;
        out[2] = hi;
    }
out:
    free(v);
    free(tmp);
}

void dsc_print_text(FILE *fp, const struct dsc_report *r)
{
    fprintf(fp, "file        %s\n", r->path);
    fprintf(fp, "corpus      %s: %zu subjects; device %s, %zu channels at %g Hz; %zu pose channels; %zu windows "
            "(200 ms, stride 50 ms)\n", r->name, r->n_subjects, r->device, r->C, r->rate_hz, r->J, r->n_windows);
    if (r->spectrum_note[0])
        fprintf(fp, "spectrum    %s\n", r->spectrum_note);
    else
        fprintf(fp, "spectrum    Welch PSD: Hann, %d samples, half overlap, mean removed per segment\n", DSC_NPERSEG);
    fprintf(fp, "distance    %s\n", r->geometry);

    fprintf(fp, "\namplitude and spectrum, per subject and channel\n");
    fprintf(fp, "%-12s %7s %12s %9s %8s %8s\n", "subject", "channel", "rms", "kurtosis", "mnf_hz", "mdf_hz");
    for (size_t s = 0; s < r->n_subjects; s++)
        for (size_t c = 0; c < r->C; c++) {
            const struct dsc_channel *ch = &r->subjects[s].ch[c];
            fprintf(fp, "%-12s %7zu ", r->subjects[s].name, c + 1);
            num(fp, 12, "%*.5g", ch->rms);
            num(fp, 10, "%*.3f", ch->kurtosis);
            num(fp, 9, "%*.1f", ch->mnf);
            num(fp, 9, "%*.1f", ch->mdf);
            fputc('\n', fp);
        }

    fprintf(fp, "\ncorrelation by electrode distance d (mean Pearson r of the channel pairs at d)\n");
    fprintf(fp, "%-12s", "subject");
    for (size_t d = 1; d <= r->n_dist; d++) {
        char h[32];
        snprintf(h, sizeof h, "d=%zu", d);
        fprintf(fp, " %8s", h);
    }
    fprintf(fp, "\n%-12s", "(pairs)");
    for (size_t d = 0; d < r->n_dist; d++)
        fprintf(fp, " %8zu", r->n_pairs[d]);
    fputc('\n', fp);
    for (size_t s = 0; s < r->n_subjects; s++) {
        fprintf(fp, "%-12s", r->subjects[s].name);
        for (size_t d = 0; d < r->n_dist; d++) {
            fputc(' ', fp);
            num(fp, 8, "%*.3f", r->subjects[s].corr[d]);
        }
        fputc('\n', fp);
    }

    fprintf(fp, "\nLDA on TD4 (balanced accuracy) and pose from TD4 (ridge R^2), per subject\n");
    fprintf(fp, "%-12s %10s %11s %9s %10s %9s %10s %8s %8s\n", "subject", "samples", "lda_within", "lda_loso",
            "r2_within", "r2_loso", "r2_unseen", "vote_zs", "classes");
    for (size_t s = 0; s < r->n_subjects; s++) {
        const struct dsc_subject *sb = &r->subjects[s];
        fprintf(fp, "%-12s %10zu ", sb->name, sb->n_samples);
        num(fp, 11, "%*.3f", sb->within_bacc);
        num(fp, 10, "%*.3f", sb->loso_bacc);
        num(fp, 11, "%*.3f", sb->r2_within);
        num(fp, 10, "%*.3f", sb->r2_loso);
        num(fp, 11, "%*.3f", sb->r2_unseen);
        num(fp, 9, "%*.3f", sb->zs_bacc);
        if (isfinite(sb->zs_bacc))
            fprintf(fp, " %8zu\n", sb->zs_classes);
        else
            fprintf(fp, " %8s\n", "n/a");
    }
    if (r->lda_note[0])
        fprintf(fp, "lda         %s\n", r->lda_note);
    if (r->pose_note[0])
        fprintf(fp, "pose        %s\n", r->pose_note);
    if (r->zs_note[0])
        fprintf(fp, "zero-shot   %s\n", r->zs_note);
    if (r->vote_train)
        fprintf(fp, "vote        pose-upper-bound trained on at most %zu windows and voting among at most %zu "
                "references per fold (evenly spaced; --vote-windows)\n", r->vote_train, r->vote_refs);

    fprintf(fp, "\nsummary over subjects (channel statistics: each subject's median over channels)\n");
    fprintf(fp, "%-12s %10s %10s %10s\n", "statistic", "median", "min", "max");
    for (int k = 0; k < ST_N; k++) {
        double v[3];
        summary(v, r, k);
        fprintf(fp, "%-12s", st_name[k]);
        for (int q = 0; q < 3; q++) {
            fputc(' ', fp);
            num(fp, 10, "%*.4g", v[q]);
        }
        fputc('\n', fp);
    }
}

json_t *dsc_to_json(const struct dsc_report *r)
{
    json_t *o = json_object(), *subs = json_array(), *pairs = json_array(), *sum = json_object();
    if (!o || !subs || !pairs || !sum) {
        json_decref(o); json_decref(subs); json_decref(pairs); json_decref(sum);
        return NULL;
    }
    json_object_set_new(o, "file", json_string(r->path));
    json_object_set_new(o, "corpus", json_string(r->name));
    json_object_set_new(o, "device", json_string(r->device));
    json_object_set_new(o, "rate_hz", json_real(r->rate_hz));
    json_object_set_new(o, "channels", json_integer((json_int_t)r->C));
    json_object_set_new(o, "pose_channels", json_integer((json_int_t)r->J));
    json_object_set_new(o, "windows", json_integer((json_int_t)r->n_windows));
    json_object_set_new(o, "spectrum", json_pack("{s:b,s:s,s:i,s:f,s:s}", "computed", !r->spectrum_note[0], "method",
                                                 "welch-hann", "nperseg", DSC_NPERSEG, "overlap", 0.5, "note",
                                                 r->spectrum_note));
    json_object_set_new(o, "distance", json_string(r->geometry));
    for (size_t d = 0; d < r->n_dist; d++)
        json_array_append_new(pairs, json_integer((json_int_t)r->n_pairs[d]));
    json_object_set_new(o, "pairs_by_distance", pairs);
    for (size_t s = 0; s < r->n_subjects; s++) {
        const struct dsc_subject *sb = &r->subjects[s];
        json_t *js = json_object(), *chs = json_array(), *corr = json_array();
        json_object_set_new(js, "subject", json_string(sb->name));
        json_object_set_new(js, "samples", json_integer((json_int_t)sb->n_samples));
        for (size_t c = 0; c < r->C; c++)
            json_array_append_new(chs, json_pack("{s:o,s:o,s:o,s:o}", "rms", jnum(sb->ch[c].rms), "kurtosis",
                                                 jnum(sb->ch[c].kurtosis), "mnf_hz", jnum(sb->ch[c].mnf),
                                                 "mdf_hz", jnum(sb->ch[c].mdf)));
        for (size_t d = 0; d < r->n_dist; d++)
            json_array_append_new(corr, jnum(sb->corr[d]));
        json_object_set_new(js, "channels", chs);
        json_object_set_new(js, "corr_by_distance", corr);
        json_object_set_new(js, "lda_within", jnum(sb->within_bacc));
        json_object_set_new(js, "lda_loso", jnum(sb->loso_bacc));
        json_object_set_new(js, "r2_within", jnum(sb->r2_within));
        json_object_set_new(js, "r2_loso", jnum(sb->r2_loso));
        json_object_set_new(js, "r2_unseen", jnum(sb->r2_unseen));
        json_object_set_new(js, "vote_zs", jnum(sb->zs_bacc));
        json_object_set_new(js, "vote_classes", isfinite(sb->zs_bacc) ? json_integer((json_int_t)sb->zs_classes)
                                                                        : json_null());
        json_array_append_new(subs, js);
    }
    json_object_set_new(o, "subjects", subs);
    json_object_set_new(o, "lda_note", json_string(r->lda_note));
    json_object_set_new(o, "pose_note", json_string(r->pose_note));
    json_object_set_new(o, "zero_shot_note", json_string(r->zs_note));
    json_object_set_new(o, "vote_training_windows", r->vote_train ? json_integer((json_int_t)r->vote_train) : json_null());
    json_object_set_new(o, "vote_reference_windows", r->vote_refs ? json_integer((json_int_t)r->vote_refs) : json_null());
    for (int k = 0; k < ST_N; k++) {
        double v[3];
        summary(v, r, k);
        json_object_set_new(sum, st_name[k], json_pack("{s:o,s:o,s:o}", "median", jnum(v[0]), "min", jnum(v[1]),
                                                       "max", jnum(v[2])));
    }
    json_object_set_new(o, "summary", sum);
    return o;
}
