/* format/mbh5_view.c - views: a recording seen at a target rate, with a
 * channel selection, one window at a time.
 *
 * Output sample j of a view sits at time j / rate (kernels/resample.h
 * keeps that true through resampling), so the window [t0, t0 + len) ms is
 * the samples j with t0 <= 1000 j / rate < t0 + len, clipped to the
 * recording. Resampled windows read the input span the filter needs around
 * them, so they equal the same rows of the whole resampled recording. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "format/mbh5.h"
#include "format/mbh5_h5.h"
#include "format/mbh5_read.h"
#include "kernels/resample.h"

static double view_rate(const struct mbh5_recording *r, const struct mbh5_view *v)
{
    return v && v->rate_hz > 0 ? v->rate_hz : r->info.rate_hz;
}

static int is_native(const struct mbh5_recording *r, const struct mbh5_view *v)
{
    return !v || !(v->rate_hz > 0) || v->rate_hz == r->info.rate_hz;
}

size_t mbh5_view_length(const struct mbh5_file *f, size_t rec, const struct mbh5_view *v)
{
    if (rec >= f->n_recordings)
        return 0;
    const struct mbh5_recording *r = &f->recordings[rec];
    if (is_native(r, v))
        return r->n_samples;
    long up, down;
    if (kern_resample_ratio(&up, &down, r->info.rate_hz, v->rate_hz) != MB_OK)
        return 0;
    /* ceil(n * up / down) without overflow for any realistic n. */
    unsigned __int128 num = (unsigned __int128)r->n_samples * (unsigned long)up;
    return (size_t)((num + (unsigned long)down - 1) / (unsigned long)down);
}

/* The resampler for (rate_in, rate_out), designed once per file and pair. */
static int get_resampler(struct kern_resampler **out, struct mbh5_file *f, double rin, double rout)
{
    struct mbh5_impl *m = f->impl;
    for (size_t i = 0; i < m->n_rs; i++)
        if (m->rs_in[i] == rin && m->rs_out[i] == rout) {
            *out = &m->rs[i];
            return MB_OK;
        }
    size_t n = m->n_rs + 1;
    struct kern_resampler *rs = realloc(m->rs, n * sizeof *rs);
    if (rs)
        m->rs = rs;
    double *ri = rs ? realloc(m->rs_in, n * sizeof *ri) : NULL;
    if (ri)
        m->rs_in = ri;
    double *ro = ri ? realloc(m->rs_out, n * sizeof *ro) : NULL;
    if (ro)
        m->rs_out = ro;
    if (!ro)
        return mb_error(MB_ENOMEM, "'%s': out of memory", f->path);
    int rc = kern_resampler_init(&m->rs[m->n_rs], rin, rout);
    if (rc)
        return rc;
    m->rs_in[m->n_rs] = rin;
    m->rs_out[m->n_rs] = rout;
    *out = &m->rs[m->n_rs++];
    return MB_OK;
}

void mbh5_impl_free_views(struct mbh5_impl *m)
{
    for (size_t i = 0; i < m->n_rs; i++)
        kern_resampler_free(&m->rs[i]);
    free(m->rs);
    free(m->rs_in);
    free(m->rs_out);
    m->rs = NULL;
    m->rs_in = m->rs_out = NULL;
    m->n_rs = 0;
}

/* Keeps the selected channels of rows [n x C] in place: [n x K]. A row
 * is copied out first because a selection may reorder channels. */
static int select_channels(float *x, size_t n, size_t C, const int *ch, size_t K)
{
    float *row = malloc(C * sizeof *row); /* [C] */
    if (!row)
        return -1;
    for (size_t i = 0; i < n; i++) {
        memcpy(row, x + i * C, C * sizeof *row);
        for (size_t k = 0; k < K; k++)
            x[i * K + k] = row[ch[k]];
    }
    free(row);
    return 0;
}

int mbh5_read_window(struct mbh5_file *f, size_t rec, const struct mbh5_view *v,
                     double t0_ms, double len_ms, float *out, size_t *n_out)
{
    *n_out = 0;
    if (rec >= f->n_recordings)
        return mb_error(MB_EINVAL, "'%s': no recording %zu (%zu recordings)", f->path, rec, f->n_recordings);
    const struct mbh5_recording *r = &f->recordings[rec];
    if (!isfinite(t0_ms) || !isfinite(len_ms) || len_ms < 0)
        return mb_error(MB_EINVAL, "'%s': /recordings/%s: bad window (t0 %g ms, length %g ms)", f->path, r->id,
                        t0_ms, len_ms);
    size_t C = (size_t)r->info.n_channels;
    const int *ch = v ? v->channels : NULL;
    size_t K = ch ? v->n_channels : C;
    if (ch) {
        if (K == 0)
            return mb_error(MB_EINVAL, "'%s': /recordings/%s: empty channel selection", f->path, r->id);
        for (size_t k = 0; k < K; k++)
            if (ch[k] < 0 || (size_t)ch[k] >= C)
                return mb_error(MB_EINVAL, "'%s': /recordings/%s: channel %d does not exist (%zu channels)",
                                f->path, r->id, ch[k], C);
    }
    double rate = view_rate(r, v);
    size_t L = mbh5_view_length(f, rec, v);
    if (L == 0 && r->n_samples > 0)
        return mb_error(MB_EINVAL, "'%s': /recordings/%s: cannot view %g Hz at %g Hz", f->path, r->id,
                        r->info.rate_hz, rate);
    /* The small tolerance keeps t0 = k * 1000 / rate on sample k despite rounding. */
    double a = ceil(t0_ms * rate / 1000.0 - 1e-9), b = ceil((t0_ms + len_ms) * rate / 1000.0 - 1e-9);
    size_t j0 = a <= 0 ? 0 : a >= (double)L ? L : (size_t)a;
    size_t j1 = b <= 0 ? 0 : b >= (double)L ? L : (size_t)b;
    if (j1 <= j0)
        return MB_OK;
    size_t n = j1 - j0;
    int rc;
    if (is_native(r, v)) {
        if (!ch)
            rc = mbh5_read_emg(f, rec, j0, n, out);
        else {
            float *tmp = malloc(n * C * sizeof *tmp); /* [n x C] */
            if (!tmp)
                return mb_error(MB_ENOMEM, "'%s': out of memory", f->path);
            rc = mbh5_read_emg(f, rec, j0, n, tmp);
            if (!rc && select_channels(tmp, n, C, ch, K))
                rc = mb_error(MB_ENOMEM, "'%s': out of memory", f->path);
            if (!rc)
                memcpy(out, tmp, n * K * sizeof *out);
            free(tmp);
        }
        if (!rc)
            *n_out = n;
        return rc;
    }
    struct kern_resampler *rs = NULL;
    if ((rc = get_resampler(&rs, f, r->info.rate_hz, rate)))
        return rc;
    size_t i0, i1;
    kern_resample_span(rs, j0, n, r->n_samples, &i0, &i1);
    float *in = malloc((i1 > i0 ? i1 - i0 : 1) * C * sizeof *in); /* [(i1 - i0) x C] */
    if (!in)
        return mb_error(MB_ENOMEM, "'%s': out of memory", f->path);
    rc = mbh5_read_emg(f, rec, i0, i1 - i0, in);
    if (!rc && ch && select_channels(in, i1 - i0, C, ch, K))
        rc = mb_error(MB_ENOMEM, "'%s': out of memory", f->path);
    if (!rc) {
        kern_resample_f32(out, in, i0, i1, r->n_samples, j0, n, K, rs);
        *n_out = n;
    }
    free(in);
    return rc;
}
