/* describe/describe.c - the corpus summary of 'myobench describe'
 * (describe.h, docs/DESCRIBE.md). The signal statistics read the
 * recordings the corpus loader holds; the model statistics run the
 * protocols' own folds, so a number here is the number 'myobench run' gives
 * for the same split. */
#include "describe/describe.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "baselines/ridge.h"
#include "core/progress.h"
#include "corpus/corpus.h"
#include "format/mbh5.h"
#include "methods/featurizer.h"
#include "methods/method.h"
#include "protocols/protocol.h"

#define DSC_RIDGE_LAMBDA 1.0   /* pose-ridge-td4's default */

/* ---- spectrum --------------------------------------------------------------- */

size_t dsc_welch_add(double *acc, const float *x, size_t T, size_t stride, double rate_hz)
{
    enum { N = DSC_NPERSEG, K = DSC_NPERSEG / 2 + 1 };
    if (T < N)
        return 0;
    float *in = fftwf_malloc(N * sizeof *in);
    fftwf_complex *out = fftwf_malloc(K * sizeof *out);
    double w[N], wss = 0;
    /* scipy's 'hann' for spectral analysis is the periodic one (sym=False) */
    for (size_t k = 0; k < N; k++) {
        w[k] = 0.5 - 0.5 * cos(2 * M_PI * (double)k / N);
        wss += w[k] * w[k];
    }
    size_t nseg = 0;
    if (!in || !out)
        goto out;
    fftwf_plan plan = fftwf_plan_dft_r2c_1d(N, in, out, FFTW_ESTIMATE);
    if (!plan)
        goto out;
    for (size_t s0 = 0; s0 + N <= T; s0 += N / 2, nseg++) {
        double mean = 0;
        for (size_t k = 0; k < N; k++)
            mean += x[(s0 + k) * stride];
        mean /= N;
        for (size_t k = 0; k < N; k++)
            in[k] = (float)((x[(s0 + k) * stride] - mean) * w[k]);
        fftwf_execute(plan);
        for (size_t k = 0; k < K; k++) {
            double p = ((double)out[k][0] * out[k][0] + (double)out[k][1] * out[k][1]) / (rate_hz * wss);
            /* one-sided: every bin but DC and Nyquist carries its negative twin */
            acc[k] += (k == 0 || k == K - 1) ? p : 2 * p;
        }
    }
    fftwf_destroy_plan(plan);
out:
    fftwf_free(in);
    fftwf_free(out);
    return nseg;
}

void dsc_spectral_moments(double *mnf, double *mdf, const double *psd, double rate_hz)
{
    enum { K = DSC_NPERSEG / 2 + 1 };
    double df = rate_hz / DSC_NPERSEG, tot = 0, m1 = 0;
    for (size_t k = 0; k < K; k++) {
        tot += psd[k];
        m1 += psd[k] * (double)k * df;
    }
    if (!(tot > 0)) {
        *mnf = *mdf = NAN;
        return;
    }
    *mnf = m1 / tot;
    /* the first frequency at which the cumulated power reaches half */
    double cum = 0;
    *mdf = (K - 1) * df;
    for (size_t k = 0; k < K; k++) {
        cum += psd[k];
        if (cum >= 0.5 * tot) {
            *mdf = (double)k * df;
            break;
        }
    }
}

/* ---- report ------------------------------------------------------------------ */

void dsc_report_release(struct dsc_report *r)
{
    if (!r)
        return;
    for (size_t s = 0; r->subjects && s < r->n_subjects; s++) {
        free(r->subjects[s].name);
        free(r->subjects[s].ch);
        free(r->subjects[s].corr);
    }
    free(r->subjects);
    free(r->n_pairs);
    free(r->path);
    free(r->name);
    free(r->device);
    memset(r, 0, sizeof *r);
}

/* Appends 'text' to the note 'buf' ("; " between notes), cut at cap. */
static void note(char *buf, size_t cap, const char *text)
{
    size_t l = strlen(buf);
    if (l + 3 >= cap)
        return;
    if (l) {
        memcpy(buf + l, "; ", 2);
        l += 2;
    }
    size_t n = strlen(text);
    if (n > cap - l - 1)
        n = cap - l - 1;
    memcpy(buf + l, text, n);
    buf[l + n] = '\0';
}

/* Electrode distance of channels i < j: the Myo is a ring of 8 electrodes
 * (DB5 wears two: 16 channels, two rings), the format stores no positions
 * (docs/FORMAT.md: channel_placement is free text), so every other device's
 * distance is the channel index distance. 0 = not comparable (two rings). */
static size_t distance(int ring, size_t i, size_t j)
{
    if (!ring)
        return j - i;
    if (i / DSC_MYO_RING != j / DSC_MYO_RING)
        return 0;
    size_t d = j - i;
    return d < DSC_MYO_RING - d ? d : DSC_MYO_RING - d;
}

/* Signal statistics of every subject from the corpus's recordings. */
static int signal_stats(struct dsc_report *r, const struct cp_corpus *c, int ring, int spectrum)
{
    size_t C = c->C, K = DSC_NPERSEG / 2 + 1;
    double *sum = calloc(C, sizeof *sum), *m2 = calloc(C, sizeof *m2), *m4 = calloc(C, sizeof *m4);
    double *sq = calloc(C, sizeof *sq), *cov = calloc(C * C, sizeof *cov), *psd = calloc(C * K, sizeof *psd);
    size_t *nseg = calloc(C, sizeof *nseg);
    int rc = MB_OK;
    if (!sum || !m2 || !m4 || !sq || !cov || !psd || !nseg) {
        rc = mb_error(MB_ENOMEM, "'%s': out of memory", r->path);
        goto out;
    }
    for (size_t s = 0; s < r->n_subjects; s++) {
        struct dsc_subject *sb = &r->subjects[s];
        memset(sum, 0, C * sizeof *sum);
        memset(sq, 0, C * sizeof *sq);
        memset(m2, 0, C * sizeof *m2);
        memset(m4, 0, C * sizeof *m4);
        memset(cov, 0, C * C * sizeof *cov);
        memset(psd, 0, C * K * sizeof *psd);
        memset(nseg, 0, C * sizeof *nseg);
        size_t n = 0;
        /* pass 1: means, mean squares, spectra */
        for (size_t q = 0; q < c->n_recordings; q++) {
            if (c->rec_subject[q] != (int32_t)s)
                continue;
            const float *x = c->emg + c->rec_off[q] * C;
            size_t T = c->rec_off[q + 1] - c->rec_off[q];
            for (size_t t = 0; t < T; t++)
                for (size_t ch = 0; ch < C; ch++) {
                    double v = x[t * C + ch];
                    sum[ch] += v;
                    sq[ch] += v * v;
                }
            n += T;
            for (size_t ch = 0; spectrum && ch < C; ch++)
                nseg[ch] += dsc_welch_add(psd + ch * K, x + ch, T, C, c->view.rate_hz);
        }
        sb->n_samples = n;
        for (size_t ch = 0; ch < C; ch++)
            sum[ch] = n ? sum[ch] / (double)n : 0;   /* now the mean */
        /* pass 2: central moments and covariances about the means */
        for (size_t q = 0; q < c->n_recordings; q++) {
            if (c->rec_subject[q] != (int32_t)s)
                continue;
            const float *x = c->emg + c->rec_off[q] * C;
            size_t T = c->rec_off[q + 1] - c->rec_off[q];
            for (size_t t = 0; t < T; t++) {
                const float *row = x + t * C;
                for (size_t i = 0; i < C; i++) {
                    double di = row[i] - sum[i], d2 = di * di;
                    m2[i] += d2;
                    m4[i] += d2 * d2;
                    for (size_t j = i + 1; j < C; j++)
                        cov[i * C + j] += di * (row[j] - sum[j]);
                }
            }
        }
        for (size_t ch = 0; ch < C; ch++) {
            struct dsc_channel *o = &sb->ch[ch];
            o->rms = n ? sqrt(sq[ch] / (double)n) : NAN;
            o->kurtosis = n && m2[ch] > 0 ? (m4[ch] / (double)n) / ((m2[ch] / n) * (m2[ch] / n)) : NAN;
            o->mnf = o->mdf = NAN;
            if (spectrum && nseg[ch]) {
                for (size_t k = 0; k < K; k++)
                    psd[ch * K + k] /= (double)nseg[ch];
                dsc_spectral_moments(&o->mnf, &o->mdf, psd + ch * K, c->view.rate_hz);
            }
        }
        for (size_t d = 1; d <= r->n_dist; d++) {
            double acc = 0;
            size_t np = 0;
            for (size_t i = 0; i < C; i++)
                for (size_t j = i + 1; j < C; j++) {
                    if (distance(ring, i, j) != d || !(m2[i] > 0) || !(m2[j] > 0))
                        continue;
                    acc += cov[i * C + j] / sqrt(m2[i] * m2[j]);
                    np++;
                }
            sb->corr[d - 1] = np ? acc / (double)np : NAN;
        }
    }
out:
    free(sum); free(m2); free(m4); free(sq); free(cov); free(psd); free(nseg);
    return rc;
}

/* ---- models ---------------------------------------------------------------- */

/* R^2 of the pose over a window set, variance-weighted over joints
 * (sklearn's r2_score(multioutput='variance_weighted')): 1 - SS_res / SS_tot
 * with the test set's own joint means. NAN when the pose does not vary. */
static double r2_score(const float *Yhat, const struct cp_corpus *c, const size_t *idx, size_t n)
{
    size_t J = c->J;
    double res = 0, tot = 0;
    for (size_t j = 0; j < J; j++) {
        double m = 0;
        for (size_t k = 0; k < n; k++)
            m += c->pose[idx[k] * J + j];
        m /= (double)n;
        for (size_t k = 0; k < n; k++) {
            double y = c->pose[idx[k] * J + j], e = y - Yhat[k * J + j];
            res += e * e;
            tot += (y - m) * (y - m);
        }
    }
    return tot > 0 ? 1 - res / tot : NAN;
}

/* Ridge TD4 -> pose fitted on 'train', R^2 on 'test' (windows with a valid
 * pose only, like pose-ridge-td4). */
static int ridge_r2(double *r2, const struct cp_corpus *c, const size_t *train, size_t ntr, const size_t *test,
                    size_t nte)
{
    *r2 = NAN;
    size_t *a = malloc((ntr + 1) * sizeof *a), *b = malloc((nte + 1) * sizeof *b), na = 0, nb = 0;
    float *G = NULL, *Y = NULL, *Yhat = NULL;
    struct mth_feat_rows F = { 0 };
    struct mth_feat f = { 0 };
    struct base_ridge rg = { 0 };
    int rc = a && b ? MB_OK : mb_error(MB_ENOMEM, "'%s': out of memory", c->path), fitted = 0;
    for (size_t k = 0; !rc && k < ntr; k++)
        if (!c->pose_valid || c->pose_valid[train[k]])
            a[na++] = train[k];
    for (size_t k = 0; !rc && k < nte; k++)
        if (!c->pose_valid || c->pose_valid[test[k]])
            b[nb++] = test[k];
    if (rc || na < 2 || nb < 2)
        goto out;
    struct cp_set tr = { c, na, a }, te = { c, nb, b };
    if ((rc = mth_feat_fit(&f, &F, &tr, "TD4", NULL)))
        goto out;
    fitted = 1;
    if ((rc = mth_feat_apply(&G, &f, &te)))
        goto out;
    Y = malloc((na * c->J + 1) * sizeof *Y);
    Yhat = malloc((nb * c->J + 1) * sizeof *Yhat);
    if (!Y || !Yhat) {
        rc = mb_error(MB_ENOMEM, "'%s': out of memory", c->path);
        goto out;
    }
    for (size_t k = 0; k < na; k++)
        memcpy(Y + k * c->J, c->pose + a[k] * c->J, c->J * sizeof *Y);
    if ((rc = base_ridge_fit(&rg, F.F, Y, na, f.D, c->J, DSC_RIDGE_LAMBDA)))
        goto out;
    base_ridge_predict(Yhat, &rg, G, nb);
    *r2 = r2_score(Yhat, c, b, nb);
out:
    if (fitted)
        mth_feat_release(&f);
    base_ridge_free(&rg);
    mth_feat_rows_release(&F);
    free(a); free(b); free(G); free(Y); free(Yhat);
    return rc;
}

/* The folds of protocol 'name' with default settings and the seed. On a
 * plan that cannot be made (one subject for LOSO), MB_OK with no folds and
 * the reason in 'why'. */
static int plan_folds(struct pr_fold **folds, size_t *nf, struct pr_settings *s, const struct mb_protocol **p,
                      const struct cp_corpus *c, const char *name, unsigned long long seed, char *why, size_t cap)
{
    *folds = NULL;
    *nf = 0;
    *p = mb_protocol_find(name);
    if (!*p)
        return mb_error(MB_EINVAL, "describe: protocol '%s' is not registered", name);
    int rc = pr_settings_parse(s, *p, NULL);
    if (rc)
        return rc;
    s->seed = seed;
    mb_error_quiet_begin();
    rc = (*p)->plan(folds, nf, c, s);
    mb_error_quiet_end();
    if (rc == MB_ENOMEM)
        return rc;
    if (rc) {
        char what[600];
        snprintf(what, sizeof what, "%s: %s", name, mb_last_error());
        note(why, cap, what);
        *folds = NULL;
        *nf = 0;
    }
    return MB_OK;
}

static void folds_free(struct pr_fold *f, size_t n)
{
    for (size_t k = 0; f && k < n; k++)
        pr_fold_release(&f[k]);
    free(f);
}

/* Evenly spaced indices: at most 'max' of idx [n] (all when max is 0 or
 * n <= max), into out; returns how many. */
static size_t thin(size_t *out, const size_t *idx, size_t n, size_t max)
{
    if (!max || n <= max) {
        memcpy(out, idx, n * sizeof *out);
        return n;
    }
    for (size_t k = 0; k < max; k++)
        out[k] = idx[(size_t)((double)k * (double)n / (double)max)];
    return max;
}

/* Runs method 'mname' on every fold and stores each test subject's balanced
 * accuracy at 'field'. thin_max > 0 keeps at most that many training and
 * reference windows, evenly spaced (the test windows all): the vote's
 * encoder and head otherwise embed every training window, minutes per fold
 * on a large corpus. A fold the protocol reports as n/a or failed adds its
 * message to 'why'. */
static int run_folds(struct dsc_report *r, const struct cp_corpus *c, const struct mb_protocol *p,
                     const struct pr_settings *s, const struct pr_fold *folds, size_t nf, const char *mname,
                     const char *params, size_t field, int want_classes, size_t thin_max, char *why,
                     size_t cap, struct mb_progress *pg)
{
    const struct mb_method *m = mb_method_find(mname);
    if (!m)
        return mb_error(MB_EINVAL, "describe: method '%s' is not registered", mname);
    void *hp = NULL;
    int rc = mb_method_parse(&hp, m, params);
    if (rc)
        return rc;
    for (size_t k = 0; !rc && k < nf; k++) {
        struct pr_result res;
        struct pr_fold f = folds[k];   /* a shallow copy: only train and ref may be replaced */
        size_t *tr = NULL, *rf = NULL;
        if (thin_max) {
            tr = malloc((f.n_train + 1) * sizeof *tr);
            rf = malloc((f.n_ref + 1) * sizeof *rf);
            if (!tr || !rf) {
                free(tr);
                free(rf);
                rc = mb_error(MB_ENOMEM, "'%s': out of memory", c->path);
                break;
            }
            f.n_train = thin(tr, f.train, f.n_train, thin_max);
            f.n_ref = thin(rf, f.ref, f.n_ref, thin_max);
            f.train = tr;
            f.ref = rf;
            if (f.n_train > r->vote_train)
                r->vote_train = f.n_train;
            if (f.n_ref > r->vote_refs)
                r->vote_refs = f.n_ref;
        }
        mb_error_quiet_begin();
        rc = p->run(&res, p, m, hp, c, &f, s, NULL);
        mb_error_quiet_end();
        free(tr);
        free(rf);
        if (rc == MB_ENOMEM) {
            pr_result_release(&res);
            break;
        }
        rc = MB_OK;
        if (res.status != PR_OK) {
            char what[600];
            snprintf(what, sizeof what, "%s: %s", folds[k].id, res.message);
            note(why, cap, what);
        }
        for (size_t q = 0; res.status == PR_OK && q < res.n_subjects; q++) {
            struct dsc_subject *sb = &r->subjects[res.subjects[q].subject];
            *(double *)((char *)sb + field) = res.subjects[q].balanced_accuracy;
            if (want_classes)
                sb->zs_classes = res.subjects[q].K;
        }
        pr_result_release(&res);
        if (pg)
            mb_progress_update(pg, pg->done + 1, mb_progress_now());
    }
    free(hp);
    return rc;
}

/* Ridge R^2 of every fold's test subjects (each on its own test windows). */
static int ridge_folds(struct dsc_report *r, const struct cp_corpus *c, const struct pr_fold *folds, size_t nf,
                       size_t field, int seen_to_unseen, struct mb_progress *pg)
{
    size_t *te = malloc((c->n + 1) * sizeof *te), *tr = malloc((c->n + 1) * sizeof *tr);
    uint8_t *unseen = malloc(c->n_gestures + 1);
    int rc = te && tr && unseen ? MB_OK : mb_error(MB_ENOMEM, "'%s': out of memory", c->path);
    for (size_t k = 0; !rc && k < nf; k++) {
        const struct pr_fold *f = &folds[k];
        memset(unseen, 0, c->n_gestures);
        for (size_t q = 0; seen_to_unseen && q < f->n_test; q++)
            for (size_t g = 0; g < c->n_gestures; g++)
                if (c->gesture_ids[g] == c->label[f->test[q]])
                    unseen[g] = 1;
        for (size_t s = 0; !rc && s < r->n_subjects; s++) {
            size_t nte = 0, ntr = 0;
            for (size_t q = 0; q < f->n_test; q++)
                if (c->subject[f->test[q]] == (int32_t)s)
                    te[nte++] = f->test[q];
            if (!nte)
                continue;
            if (seen_to_unseen) {
                /* the same subject's windows of the gestures the fold keeps seen */
                for (size_t i = 0; i < c->n; i++) {
                    if (c->subject[i] != (int32_t)s)
                        continue;
                    int u = 0;
                    for (size_t g = 0; g < c->n_gestures; g++)
                        if (c->gesture_ids[g] == c->label[i])
                            u = unseen[g];
                    if (!u)
                        tr[ntr++] = i;
                }
            } else {
                memcpy(tr, f->train, f->n_train * sizeof *tr);
                ntr = f->n_train;
            }
            double v;
            if ((rc = ridge_r2(&v, c, tr, ntr, te, nte)))
                break;
            *(double *)((char *)&r->subjects[s] + field) = v;
        }
        if (pg)
            mb_progress_update(pg, pg->done + 1, mb_progress_now());
    }
    free(te); free(tr); free(unseen);
    return rc;
}

static int models(struct dsc_report *r, const struct cp_corpus *c, const struct dsc_opts *o)
{
    struct pr_fold *fw = NULL, *fl = NULL, *fz = NULL;
    size_t nw = 0, nl = 0, nz = 0;
    struct pr_settings sw, sl, sz;
    const struct mb_protocol *pw, *pl, *pz;
    struct mb_progress meter, *pg = NULL;
    int rc = plan_folds(&fw, &nw, &sw, &pw, c, "within", o->seed, r->lda_note, sizeof r->lda_note);
    if (!rc)
        rc = plan_folds(&fl, &nl, &sl, &pl, c, "loso", o->seed, r->lda_note, sizeof r->lda_note);
    if (!rc && c->J)
        rc = plan_folds(&fz, &nz, &sz, &pz, c, "zeroshot-gestures", o->seed, r->zs_note, sizeof r->zs_note);
    if (!rc && o->progress) {
        /* LDA on within and LOSO folds; with pose, ridge on every fold and the vote */
        size_t total = nw + nl + (c->J ? nw + nl + 2 * nz : 0);
        mb_progress_start(&meter, o->progress, "myobench: describe", "folds", total, mb_progress_now());
        pg = &meter;
    }
    if (!rc)
        rc = run_folds(r, c, pw, &sw, fw, nw, "lda-td4", NULL, offsetof(struct dsc_subject, within_bacc), 0, 0,
                       r->lda_note, sizeof r->lda_note, pg);
    if (!rc)
        rc = run_folds(r, c, pl, &sl, fl, nl, "lda-td4", NULL, offsetof(struct dsc_subject, loso_bacc), 0, 0,
                       r->lda_note, sizeof r->lda_note, pg);
    if (!rc && !c->J) {
        note(r->pose_note, sizeof r->pose_note, "the corpus has no pose stream");
        note(r->zs_note, sizeof r->zs_note, "the corpus has no pose stream");
        goto out;
    }
    if (!rc)
        rc = ridge_folds(r, c, fw, nw, offsetof(struct dsc_subject, r2_within), 0, pg);
    if (!rc)
        rc = ridge_folds(r, c, fl, nl, offsetof(struct dsc_subject, r2_loso), 0, pg);
    if (!rc && !nz)
        note(r->pose_note, sizeof r->pose_note, "seen -> unseen: no unseen-gesture split (see zero-shot)");
    if (!rc)
        rc = ridge_folds(r, c, fz, nz, offsetof(struct dsc_subject, r2_unseen), 1, pg);
    if (!rc)
        rc = run_folds(r, c, pz, &sz, fz, nz, "pose-upper-bound", o->vote_params,
                       offsetof(struct dsc_subject, zs_bacc), 1,
                       o->vote_windows ? (size_t)o->vote_windows : DSC_VOTE_WINDOWS, r->zs_note, sizeof r->zs_note, pg);
out:
    if (pg)
        mb_progress_end(pg, mb_progress_now());
    folds_free(fw, nw);
    folds_free(fl, nl);
    folds_free(fz, nz);
    return rc;
}

/* ---- entry ------------------------------------------------------------------- */

int dsc_describe(struct dsc_report *r, const char *path, const struct dsc_opts *opts)
{
    static const struct dsc_opts defaults = { 0 };
    const struct dsc_opts *o = opts ? opts : &defaults;
    memset(r, 0, sizeof *r);
    struct mbh5_file *f = NULL;
    struct cp_corpus c;
    memset(&c, 0, sizeof c);
    int rc = mbh5_open(&f, path), loaded = 0;
    if (rc)
        return rc;
    /* one device's geometry and filters; the loader refuses mixed channel counts */
    const struct mbh5_device *dev = f->n_recordings ? &f->devices[f->recordings[0].device] : NULL;
    int envelope = 0, ring = 0;
    for (size_t d = 0; d < f->n_devices; d++)
        envelope |= strcasestr(f->devices[d].hw_filters, "envelope") || strcasestr(f->devices[d].sw_filters, "envelope");
    r->path = strdup(path);
    r->device = strdup(dev ? dev->name : "");
    if (dev && (strcasestr(dev->name, "myo") || strcasestr(dev->model, "myo")) && dev->n_channels % DSC_MYO_RING == 0)
        ring = 1;
    mbh5_close(f);
    if (!r->path || !r->device) {
        rc = mb_error(MB_ENOMEM, "'%s': out of memory", path);
        goto out;
    }
    struct cp_view v = { .rate_hz = 0, .window_ms = 200, .stride_ms = 50, .majority_label = 0 };
    if ((rc = cp_corpus_load(&c, path, &v)))
        goto out;
    loaded = 1;
    r->name = strdup(c.name);
    r->rate_hz = c.view.rate_hz;
    r->C = c.C;
    r->J = c.J;
    r->n_windows = c.n;
    r->n_subjects = c.n_subjects;
    if (ring) {
        r->n_dist = DSC_MYO_RING / 2;
        snprintf(r->geometry, sizeof r->geometry,
                 "ring: device '%s' is a Myo armband (%d electrodes around the forearm%s); distance = steps "
                 "around the ring, pairs of two armbands left out", r->device, DSC_MYO_RING,
                 c.C > DSC_MYO_RING ? ", one ring per 8 channels" : "");
    } else {
        r->n_dist = c.C > 1 ? c.C - 1 : 0;
        snprintf(r->geometry, sizeof r->geometry,
                 "channel index: the file stores no electrode positions (channel_placement is free text); "
                 "distance = |i - j|");
    }
    int spectrum = 1;
    if (envelope) {
        spectrum = 0;
        snprintf(r->spectrum_note, sizeof r->spectrum_note,
                 "n/a: a device's filters say the stored signal is an envelope, not EMG");
    } else if (c.view.rate_hz < DSC_MIN_SPECTRUM_HZ) {
        spectrum = 0;
        snprintf(r->spectrum_note, sizeof r->spectrum_note, "n/a: rate %g Hz is below %g Hz", c.view.rate_hz,
                 DSC_MIN_SPECTRUM_HZ);
    }
    r->subjects = calloc(c.n_subjects + 1, sizeof *r->subjects);
    r->n_pairs = calloc(r->n_dist + 1, sizeof *r->n_pairs);
    if (!r->name || !r->subjects || !r->n_pairs) {
        rc = mb_error(MB_ENOMEM, "'%s': out of memory", path);
        goto out;
    }
    for (size_t i = 0; i < c.C; i++)
        for (size_t j = i + 1; j < c.C; j++) {
            size_t d = distance(ring, i, j);
            if (d && d <= r->n_dist)
                r->n_pairs[d - 1]++;
        }
    for (size_t s = 0; s < c.n_subjects; s++) {
        struct dsc_subject *sb = &r->subjects[s];
        sb->name = strdup(c.subject_names[s]);
        sb->ch = calloc(c.C + 1, sizeof *sb->ch);
        sb->corr = calloc(r->n_dist + 1, sizeof *sb->corr);
        if (!sb->name || !sb->ch || !sb->corr) {
            rc = mb_error(MB_ENOMEM, "'%s': out of memory", path);
            goto out;
        }
        sb->within_bacc = sb->loso_bacc = sb->r2_within = sb->r2_loso = sb->r2_unseen = sb->zs_bacc = NAN;
    }
    if ((rc = signal_stats(r, &c, ring, spectrum)))
        goto out;
    if (o->no_models) {
        snprintf(r->lda_note, sizeof r->lda_note, "not computed (--no-models)");
        snprintf(r->pose_note, sizeof r->pose_note, "not computed (--no-models)");
        snprintf(r->zs_note, sizeof r->zs_note, "not computed (--no-models)");
    } else if ((rc = models(r, &c, o))) {
        char why[512];
        snprintf(why, sizeof why, "%s", mb_last_error());
        rc = mb_error(rc, "'%s': %s", path, why);
    }
out:
    if (loaded)
        cp_corpus_release(&c);
    if (rc)
        dsc_report_release(r);
    return rc;
}
