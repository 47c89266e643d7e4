/* format/mbh5_write.c - the streaming writer of the unified format.
 *
 * Per-sample data goes straight into extendible chunked datasets through a
 * one-chunk buffer per dataset ("columns" below), so a recording of any
 * length costs a few chunks of memory. Small tables (sources, gestures,
 * subjects, notes) are kept in memory and written at commit. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "format/mbh5.h"
#include "format/mbh5_h5.h"

/* One extendible per-sample dataset and its buffer of a few chunks. The
 * chunks of a full buffer are encoded in parallel (mbh5_codec_encode) and
 * stored with H5Dwrite_chunk, so HDF5 never compresses on one core. */
#define COL_BATCH 8        /* chunks per buffer: enough work for the threads of a small machine */

struct col {
    hid_t dset;
    size_t width;          /* columns for rank 2, 0 for rank 1 */
    size_t row_bytes;      /* bytes per row, in file element layout */
    size_t es;             /* element size, the shuffle's unit */
    size_t chunk;          /* rows per chunk */
    size_t cap;            /* rows the buffer holds: COL_BATCH chunks */
    size_t nbuf;           /* rows buffered */
    uint64_t nrows;        /* rows already in the file */
    hid_t mtype;           /* memory type of the buffer (not owned unless owns_mtype) */
    int owns_mtype;
    unsigned char *buf;    /* [cap x row_bytes] */
    unsigned char *zbuf;   /* [COL_BATCH x zcap] encoded chunks */
    unsigned char *scratch;/* [COL_BATCH x chunk_bytes] shuffle space, one per chunk */
    size_t zcap;           /* bytes per encoded chunk slot */
    size_t zlen[COL_BATCH];
    int compress;          /* 0: chunks stored raw */
};

struct wstream {
    char *name;
    int n_channels, has_valid, f64;
    double rate_hz;
    struct col data, valid;
    char obj[96];
};

struct mbh5_rec {
    struct mbh5_writer *w;
    hid_t g, g_tags, g_streams;
    char id[32];
    char obj[64];          /* "/recordings/r000000", for messages */
    int n_channels, has_time, has_rep;
    struct col emg, lab, rep, time, seg;
    /* The current run of equal (label, repetition), for the segment table. */
    int32_t run_lab, run_rep;
    uint64_t run_start, n;
    size_t n_segments;
    size_t n_streams;
    struct wstream *streams;
    size_t n_tags;
    char **tag_keys;
};

struct strvec { size_t n, cap; char **v; };

struct wdevice { char *name; int n_channels; };

struct mbh5_writer {
    char *path;
    char tmp[PATH_MAX];
    hid_t fid, g_devices, g_recordings;
    struct strvec src_path, src_sha, notes, gest_name, gest_label, subj_name;
    uint64_t *src_bytes;
    int32_t *gest_id, *gest_held;
    int32_t *subj_held;
    size_t cap_src, cap_gest, cap_subj;
    size_t n_devices;
    struct wdevice *devices;
    size_t n_recordings;
    struct mbh5_rec *open_rec;
    int compress;          /* for recordings begun from now on */
    int failed;            /* an error happened; commit refuses */
};

/* ---- small helpers ------------------------------------------------------ */

static int grow(void *pp, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *p = realloc(*(void **)pp, nc * elem);
    if (!p)
        return -1;
    *(void **)pp = p;
    *cap = nc;
    return 0;
}

static int strvec_push(struct strvec *s, const char *v)
{
    if (grow(&s->v, &s->cap, s->n + 1, sizeof *s->v))
        return -1;
    char *d = strdup(v ? v : "");
    if (!d)
        return -1;
    s->v[s->n++] = d;
    return 0;
}

static void strvec_free(struct strvec *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int fail(struct mbh5_writer *w, int rc)
{
    if (w && rc < 0)
        w->failed = 1;
    return rc;
}

static int nomem(struct mbh5_writer *w)
{
    return fail(w, mb_error(MB_ENOMEM, "'%s': out of memory", w->path));
}

/* A name usable as an HDF5 link name and stable in paths. */
static int bad_link_name(const char *s)
{
    return !s || !*s || strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, "..");
}

/* ---- columns ------------------------------------------------------------ */

static int col_create(struct col *c, hid_t loc, const char *name, hid_t ftype, hid_t mtype, int owns_mtype,
                      size_t width, int compress, const char *file, const char *obj)
{
    memset(c, 0, sizeof *c);
    c->compress = compress;
    c->dset = -1;
    c->width = width;
    c->mtype = mtype;
    c->owns_mtype = owns_mtype;
    c->es = H5Tget_size(ftype);
    c->row_bytes = c->es * (width ? width : 1);
    c->chunk = mbh5_h5_chunk_rows(c->row_bytes);
    c->cap = c->chunk * COL_BATCH;
    size_t cb = c->chunk * c->row_bytes;
    c->zcap = mbh5_codec_bound(cb);
    c->buf = malloc(c->cap * c->row_bytes);
    c->zbuf = malloc(COL_BATCH * c->zcap);
    c->scratch = malloc(COL_BATCH * cb);
    if (!c->buf || !c->zbuf || !c->scratch)
        return mb_error(MB_ENOMEM, "'%s': %s/%s: out of memory", file, obj, name);
    if (H5Tget_size(mtype) != c->es)
        return mb_error(MB_EINVAL, "'%s': %s/%s: memory and file element sizes differ", file, obj, name);
    hsize_t dims[2] = { 0, width }, maxd[2] = { H5S_UNLIMITED, width };
    hid_t sp = H5Screate_simple(width ? 2 : 1, dims, maxd);
    hid_t pl = mbh5_h5_dcpl_chunked(c->chunk, width, c->es, compress);
    c->dset = (sp < 0 || pl < 0) ? -1 : H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    if (pl >= 0)
        H5Pclose(pl);
    if (sp >= 0)
        H5Sclose(sp);
    if (c->dset < 0)
        return mb_error(MB_EH5, "'%s': cannot create dataset '%s/%s'", file, obj, name);
    return MB_OK;
}

/* Writes the buffered rows: whole chunks, the last one zero-padded (the
 * dataset's extent hides the padding; zeros keep the bytes reproducible). */
static int col_flush(struct col *c, const char *file, const char *obj)
{
    if (!c->nbuf)
        return MB_OK;
    size_t cb = c->chunk * c->row_bytes;
    size_t k = (c->nbuf + c->chunk - 1) / c->chunk;
    memset(c->buf + c->nbuf * c->row_bytes, 0, k * cb - c->nbuf * c->row_bytes);
    int bad = 0;
    /* zlib only in here: no HDF5 calls inside the parallel region. */
#pragma omp parallel for schedule(dynamic, 1) reduction(| : bad) if (k > 1 && c->compress)
    for (size_t j = 0; j < k; j++) {
        if (!c->compress)
            c->zlen[j] = cb;
        else
            bad |= mbh5_codec_encode(c->zbuf + j * c->zcap, &c->zlen[j], c->scratch + j * cb, c->buf + j * cb, cb,
                                     c->es) != 0;
    }
    if (bad)
        return mb_error(MB_EIO, "'%s': %s: compressing rows from %llu failed", file, obj,
                        (unsigned long long)c->nrows + 1);
    hsize_t size[2] = { c->nrows + c->nbuf, c->width };
    errno = 0;
    herr_t st = H5Dset_extent(c->dset, size);
    for (size_t j = 0; j < k && st >= 0; j++) {
        hsize_t off[2] = { c->nrows + j * c->chunk, 0 };
        st = H5Dwrite_chunk(c->dset, H5P_DEFAULT, 0, off, c->zlen[j],
                            c->compress ? c->zbuf + j * c->zcap : c->buf + j * cb);
    }
    if (st < 0) {
        int e = errno;   /* HDF5's file driver keeps the failed write's errno */
        char name[256] = "?";
        H5Iget_name(c->dset, name, sizeof name);
        return mb_error(MB_EH5, "'%s': %s: cannot write rows %llu..%llu of '%s': %s", file, obj,
                        (unsigned long long)c->nrows + 1, (unsigned long long)(c->nrows + c->nbuf), name,
                        e ? strerror(e) : "HDF5 error");
    }
    c->nrows += c->nbuf;
    c->nbuf = 0;
    return MB_OK;
}

/* Appends n rows. 'cvt' converts 'k' rows from src into the buffer (NULL:
 * plain copy); 'fillv' (when src is NULL) is the row value to repeat. */
typedef void (*col_cvt)(void *dst, const void *src, size_t k, size_t width);

static int col_append(struct col *c, const void *src, size_t src_row_bytes, col_cvt cvt, const void *fillv,
                      size_t n, const char *file, const char *obj)
{
    const unsigned char *s = src;
    while (n) {
        size_t k = c->cap - c->nbuf;
        if (k > n)
            k = n;
        unsigned char *d = c->buf + c->nbuf * c->row_bytes;
        if (!s) {
            for (size_t i = 0; i < k; i++)
                memcpy(d + i * c->row_bytes, fillv, c->row_bytes);
        } else if (cvt) {
            cvt(d, s, k, c->width ? c->width : 1);
            s += k * src_row_bytes;
        } else {
            memcpy(d, s, k * c->row_bytes);
            s += k * c->row_bytes;
        }
        c->nbuf += k;
        n -= k;
        if (c->nbuf == c->cap) {
            int rc = col_flush(c, file, obj);
            if (rc)
                return rc;
        }
    }
    return MB_OK;
}

static void col_close(struct col *c)
{
    if (c->dset > 0)
        H5Dclose(c->dset);
    if (c->owns_mtype && c->mtype > 0)
        H5Tclose(c->mtype);
    free(c->buf);
    free(c->zbuf);
    free(c->scratch);
    memset(c, 0, sizeof *c);
}

static void cvt_f32_f64(void *dst, const void *src, size_t k, size_t width)
{
    double *d = dst;
    const float *s = src;
    for (size_t i = 0; i < k * width; i++)
        d[i] = s[i];
}

static void cvt_f64_f32(void *dst, const void *src, size_t k, size_t width)
{
    float *d = dst;
    const double *s = src;
    for (size_t i = 0; i < k * width; i++)
        d[i] = (float)s[i];
}

/* ---- writer ------------------------------------------------------------- */

int mbh5_create(struct mbh5_writer **out, const char *path, const struct mbh5_corpus *corpus)
{
    *out = NULL;
    if (!path || !corpus || !corpus->name || !*corpus->name)
        return mb_error(MB_EINVAL, "mbh5_create: output path and corpus name are required");
    mbh5_h5_quiet();
    struct mbh5_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        free(w);
        return mb_error(MB_ENOMEM, "'%s': out of memory", path);
    }
    w->fid = w->g_devices = w->g_recordings = -1;
    w->compress = 1;
    int rc = mb_fs_check_output(path);
    if (!rc)
        rc = mb_fs_tmpname(w->tmp, sizeof w->tmp, path);
    if (rc) {
        free(w->path);
        free(w);
        return rc;
    }
    mb_fs_remove_stale_tmp(path);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fcpl >= 0)
        H5Pset_obj_track_times(fcpl, 0); /* the root group's header */
    /* sec2 (the default, said explicitly): close_file() reaches its file
     * descriptor to discard a failed file's data. */
    if (fapl >= 0 && (H5Pset_fapl_sec2(fapl) < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0)) {
        H5Pclose(fapl);
        fapl = -1;
    }
    /* Tracked before it exists, so a signal never finds it untracked. */
    mb_fs_track_tmp(w->tmp);
    errno = 0;
    w->fid = (fcpl < 0 || fapl < 0) ? -1 : H5Fcreate(w->tmp, H5F_ACC_TRUNC, fcpl, fapl);
    int e = errno;
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (w->fid < 0) {
        rc = mb_error(MB_EIO, "'%s': cannot create the temporary file '%s': %s", path, w->tmp,
                      e ? strerror(e) : "HDF5 error");
        mb_fs_untrack_tmp(w->tmp);
        free(w->path);
        free(w);
        return rc;
    }
    const char *P = path;
    hid_t gcpl = mbh5_h5_gcpl(1);
    w->g_devices = H5Gcreate2(w->fid, MBH5_G_DEVICES, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    w->g_recordings = H5Gcreate2(w->fid, MBH5_G_RECORDINGS, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    if (w->g_devices < 0 || w->g_recordings < 0) {
        rc = mb_error(MB_EH5, "'%s': cannot create the top-level groups", path);
        mbh5_abort(w);
        return rc;
    }
    if ((rc = mbh5_h5_put_str(w->fid, "schema", MBH5_SCHEMA_NAME, P, "/")) ||
        (rc = mbh5_h5_put_i32(w->fid, "schema_version", MBH5_SCHEMA_VERSION, P, "/")) ||
        (rc = mbh5_h5_put_str(w->fid, "name", corpus->name, P, "/")) ||
        (rc = mbh5_h5_put_str(w->fid, "source_dataset", corpus->source_dataset, P, "/")) ||
        (rc = mbh5_h5_put_str(w->fid, "source_version", corpus->source_version, P, "/")) ||
        (rc = mbh5_h5_put_str(w->fid, "converter", corpus->converter, P, "/")) ||
        (rc = mbh5_h5_put_str(w->fid, "converter_version", corpus->converter_version, P, "/")) ||
        (rc = mbh5_h5_put_str(w->fid, "params_json",
                              corpus->params_json && *corpus->params_json ? corpus->params_json : "{}", P, "/"))) {
        mbh5_abort(w);
        return rc;
    }
    *out = w;
    return MB_OK;
}

int mbh5_add_source(struct mbh5_writer *w, const char *relpath, const char *sha256, uint64_t bytes)
{
    if (!relpath || !*relpath)
        return fail(w, mb_error(MB_EINVAL, "'%s': source with an empty path", w->path));
    if (!sha256 || strlen(sha256) != 64 || strspn(sha256, "0123456789abcdef") != 64)
        return fail(w, mb_error(MB_EINVAL, "'%s': source '%s': sha256 must be 64 lower-case hex digits",
                                w->path, relpath));
    size_t n = w->src_path.n;
    if (grow(&w->src_bytes, &w->cap_src, n + 1, sizeof *w->src_bytes) ||
        strvec_push(&w->src_path, relpath) || strvec_push(&w->src_sha, sha256))
        return nomem(w);
    w->src_bytes[n] = bytes;
    return MB_OK;
}

int mbh5_set_compression(struct mbh5_writer *w, enum mbh5_compression c)
{
    if (c != MBH5_COMPRESS_FAST && c != MBH5_COMPRESS_NONE)
        return fail(w, mb_error(MB_EINVAL, "'%s': unknown compression %d", w->path, (int)c));
    w->compress = c == MBH5_COMPRESS_FAST;
    return MB_OK;
}

int mbh5_add_note(struct mbh5_writer *w, const char *text)
{
    if (strvec_push(&w->notes, text))
        return nomem(w);
    return MB_OK;
}

static int find_device(const struct mbh5_writer *w, const char *name)
{
    for (size_t i = 0; i < w->n_devices; i++)
        if (!strcmp(w->devices[i].name, name))
            return (int)i;
    return -1;
}

static int find_subject(const struct mbh5_writer *w, const char *name)
{
    for (size_t i = 0; i < w->subj_name.n; i++)
        if (!strcmp(w->subj_name.v[i], name))
            return (int)i;
    return -1;
}

int mbh5_add_device(struct mbh5_writer *w, const struct mbh5_device *dev)
{
    const char *P = w->path;
    if (!dev->name || !*dev->name)
        return fail(w, mb_error(MB_EINVAL, "'%s': device without a name", P));
    if (find_device(w, dev->name) >= 0)
        return fail(w, mb_error(MB_EINVAL, "'%s': device '%s' added twice", P, dev->name));
    if (dev->n_channels < 1 || !(dev->rate_hz > 0) || !isfinite(dev->rate_hz))
        return fail(w, mb_error(MB_EINVAL, "'%s': device '%s': needs channels >= 1 and a positive rate "
                                "(got %d channels, %g Hz)", P, dev->name, dev->n_channels, dev->rate_hz));
    size_t C = (size_t)dev->n_channels;
    char gname[32], obj[48];
    snprintf(gname, sizeof gname, "d%03zu", w->n_devices);
    snprintf(obj, sizeof obj, "/devices/%s", gname);
    struct wdevice *nd = realloc(w->devices, (w->n_devices + 1) * sizeof *nd);
    if (!nd)
        return nomem(w);
    w->devices = nd;
    hid_t gcpl = mbh5_h5_gcpl(0);
    hid_t g = H5Gcreate2(w->g_devices, gname, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    if (g < 0)
        return fail(w, mb_error(MB_EH5, "'%s': cannot create group '%s'", P, obj));
    int rc;
    const char **cn = calloc(C, sizeof *cn), **cp = calloc(C, sizeof *cp), **cu = calloc(C, sizeof *cu);
    double *gain = calloc(C, sizeof *gain);
    char *names = calloc(C, 24);  /* "ch" + up to 20 digits */
    if (!cn || !cp || !cu || !gain || !names) {
        rc = mb_error(MB_ENOMEM, "'%s': out of memory", P);
        goto out;
    }
    for (size_t c = 0; c < C; c++) {
        const struct mbh5_channel *ch = dev->channels ? &dev->channels[c] : NULL;
        snprintf(names + 24 * c, 24, "ch%zu", c + 1);
        cn[c] = ch && ch->name && *ch->name ? ch->name : names + 24 * c;
        cp[c] = ch && ch->placement ? ch->placement : "";
        cu[c] = ch && ch->units && *ch->units ? ch->units : (dev->units ? dev->units : "");
        gain[c] = ch ? ch->gain : 1.0;
    }
    if ((rc = mbh5_h5_put_str(g, "name", dev->name, P, obj)) ||
        (rc = mbh5_h5_put_str(g, "manufacturer", dev->manufacturer, P, obj)) ||
        (rc = mbh5_h5_put_str(g, "model", dev->model, P, obj)) ||
        (rc = mbh5_h5_put_i32(g, "n_channels", dev->n_channels, P, obj)) ||
        (rc = mbh5_h5_put_f64(g, "rate_hz", dev->rate_hz, P, obj)) ||
        (rc = mbh5_h5_put_str(g, "units", dev->units, P, obj)) ||
        (rc = mbh5_h5_put_f64(g, "scale", dev->scale, P, obj)) ||
        (rc = mbh5_h5_put_i32(g, "adc_bits", dev->adc_bits, P, obj)) ||
        (rc = mbh5_h5_put_str(g, "hw_filters", dev->hw_filters, P, obj)) ||
        (rc = mbh5_h5_put_str(g, "sw_filters", dev->sw_filters, P, obj)) ||
        (rc = mbh5_h5_put_f64(g, "power_line_hz", dev->power_line_hz, P, obj)) ||
        (rc = mbh5_h5_write_strs(g, "channel_name", cn, C, P, obj)) ||
        (rc = mbh5_h5_write_strs(g, "channel_placement", cp, C, P, obj)) ||
        (rc = mbh5_h5_write_strs(g, "channel_units", cu, C, P, obj)) ||
        (rc = mbh5_h5_write_1d(g, "channel_gain", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, gain, C, P, obj)))
        goto out;
    if (!(w->devices[w->n_devices].name = strdup(dev->name))) {
        rc = mb_error(MB_ENOMEM, "'%s': out of memory", P);
        goto out;
    }
    w->devices[w->n_devices++].n_channels = dev->n_channels;
out:
    H5Gclose(g);
    free(cn);
    free(cp);
    free(cu);
    free(gain);
    free(names);
    return fail(w, rc);
}

int mbh5_add_gesture(struct mbh5_writer *w, const struct mbh5_gesture *g)
{
    if (g->id < 0)
        return fail(w, mb_error(MB_EINVAL, "'%s': gesture '%s': id %d is negative", w->path,
                                g->name ? g->name : "", (int)g->id));
    size_t n = w->gest_name.n;
    for (size_t i = 0; i < n; i++)
        if (w->gest_id[i] == g->id)
            return fail(w, mb_error(MB_EINVAL, "'%s': gesture id %d added twice ('%s' and '%s')", w->path,
                                    (int)g->id, w->gest_name.v[i], g->name ? g->name : ""));
    size_t cap = w->cap_gest;
    if (grow(&w->gest_id, &cap, n + 1, sizeof *w->gest_id))
        return nomem(w);
    cap = w->cap_gest;
    if (grow(&w->gest_held, &cap, n + 1, sizeof *w->gest_held))
        return nomem(w);
    w->cap_gest = cap;
    if (strvec_push(&w->gest_name, g->name) || strvec_push(&w->gest_label, g->source_label))
        return nomem(w);
    w->gest_id[n] = g->id;
    w->gest_held[n] = g->held_out ? 1 : 0;
    return MB_OK;
}

static int push_subject(struct mbh5_writer *w, const char *name, int held_out)
{
    size_t n = w->subj_name.n;
    if (grow(&w->subj_held, &w->cap_subj, n + 1, sizeof *w->subj_held) || strvec_push(&w->subj_name, name))
        return nomem(w);
    w->subj_held[n] = held_out < 0 ? -1 : held_out ? 1 : 0;
    return MB_OK;
}

int mbh5_add_subject(struct mbh5_writer *w, const struct mbh5_subject *s)
{
    if (!s->name || !*s->name)
        return fail(w, mb_error(MB_EINVAL, "'%s': subject without a name", w->path));
    int i = find_subject(w, s->name);
    if (i >= 0) {
        /* Declared again (or first seen in a recording): the explicit flag wins. */
        w->subj_held[i] = s->held_out < 0 ? w->subj_held[i] : s->held_out ? 1 : 0;
        return MB_OK;
    }
    return push_subject(w, s->name, s->held_out);
}

/* ---- recordings --------------------------------------------------------- */

static void rec_free(struct mbh5_rec *r)
{
    if (!r)
        return;
    col_close(&r->emg);
    col_close(&r->lab);
    col_close(&r->rep);
    col_close(&r->time);
    col_close(&r->seg);
    for (size_t i = 0; i < r->n_streams; i++) {
        col_close(&r->streams[i].data);
        col_close(&r->streams[i].valid);
        free(r->streams[i].name);
    }
    free(r->streams);
    for (size_t i = 0; i < r->n_tags; i++)
        free(r->tag_keys[i]);
    free(r->tag_keys);
    if (r->g_tags > 0)
        H5Gclose(r->g_tags);
    if (r->g_streams > 0)
        H5Gclose(r->g_streams);
    if (r->g > 0)
        H5Gclose(r->g);
    free(r);
}

int mbh5_rec_begin(struct mbh5_writer *w, struct mbh5_rec **out, const struct mbh5_rec_info *info)
{
    *out = NULL;
    const char *P = w->path;
    if (w->open_rec)
        return fail(w, mb_error(MB_EINVAL, "'%s': recording %s is still open (call mbh5_rec_end)", P,
                                w->open_rec->id));
    if (!info->subject || !*info->subject)
        return fail(w, mb_error(MB_EINVAL, "'%s': recording %zu has no subject", P, w->n_recordings));
    int dev = info->device ? find_device(w, info->device) : -1;
    if (dev < 0)
        return fail(w, mb_error(MB_EINVAL, "'%s': recording %zu: unknown device '%s' (add it first)", P,
                                w->n_recordings, info->device ? info->device : "(null)"));
    if (info->n_channels != w->devices[dev].n_channels)
        return fail(w, mb_error(MB_EINVAL, "'%s': recording %zu: %d channels but device '%s' has %d", P,
                                w->n_recordings, info->n_channels, info->device, w->devices[dev].n_channels));
    if (!(info->rate_hz > 0) || !isfinite(info->rate_hz))
        return fail(w, mb_error(MB_EINVAL, "'%s': recording %zu: rate %g Hz is not positive", P,
                                w->n_recordings, info->rate_hz));
    int subj = find_subject(w, info->subject);
    if (subj < 0) {
        int rc = push_subject(w, info->subject, -1);
        if (rc)
            return rc;
        subj = (int)w->subj_name.n - 1;
    }
    struct mbh5_rec *r = calloc(1, sizeof *r);
    if (!r)
        return nomem(w);
    r->w = w;
    r->g = r->g_tags = r->g_streams = -1;
    r->n_channels = info->n_channels;
    r->has_time = info->has_time != 0;
    r->has_rep = info->has_repetition != 0;
    r->run_lab = MBH5_UNLABELLED;
    r->run_rep = -1;
    snprintf(r->id, sizeof r->id, "r%06zu", w->n_recordings);
    snprintf(r->obj, sizeof r->obj, "/recordings/%s", r->id);
    const char *O = r->obj;
    int rc;
    hid_t gcpl = mbh5_h5_gcpl(0);
    r->g = H5Gcreate2(w->g_recordings, r->id, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    if (r->g >= 0) {
        /* Tags come back in the order they were added. */
        gcpl = mbh5_h5_gcpl(0);
        H5Pset_attr_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
        r->g_tags = H5Gcreate2(r->g, MBH5_G_TAGS, H5P_DEFAULT, gcpl, H5P_DEFAULT);
        H5Pclose(gcpl);
    }
    if (r->g < 0 || r->g_tags < 0) {
        rc = mb_error(MB_EH5, "'%s': cannot create group '%s'", P, O);
        goto bad;
    }
    if ((rc = mbh5_h5_put_i32(r->g, "subject", subj, P, O)) ||
        (rc = mbh5_h5_put_str(r->g, "subject_name", info->subject, P, O)) ||
        (rc = mbh5_h5_put_str(r->g, "session", info->session, P, O)) ||
        (rc = mbh5_h5_put_str(r->g, "side", info->side, P, O)) ||
        (rc = mbh5_h5_put_i32(r->g, "day", info->day, P, O)) ||
        (rc = mbh5_h5_put_i32(r->g, "device", dev, P, O)) ||
        (rc = mbh5_h5_put_str(r->g, "device_name", info->device, P, O)) ||
        (rc = mbh5_h5_put_f64(r->g, "rate_hz", info->rate_hz, P, O)) ||
        (rc = mbh5_h5_put_i32(r->g, "n_channels", info->n_channels, P, O)) ||
        (rc = mbh5_h5_put_str(r->g, "source", info->source, P, O)) ||
        (rc = mbh5_h5_put_f64(r->g, "start_time", info->start_time, P, O)) ||
        (rc = mbh5_h5_put_i32(r->g, "has_time", r->has_time, P, O)) ||
        (rc = mbh5_h5_put_i32(r->g, "has_repetition", r->has_rep, P, O)))
        goto bad;
    if ((rc = col_create(&r->emg, r->g, "emg", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 0, (size_t)r->n_channels, w->compress, P, O)) ||
        (rc = col_create(&r->lab, r->g, "labels", H5T_STD_I32LE, H5T_NATIVE_INT32, 0, 0, w->compress, P, O)) ||
        (r->has_rep && (rc = col_create(&r->rep, r->g, "repetition", H5T_STD_I32LE, H5T_NATIVE_INT32, 0, 0, w->compress, P, O))) ||
        (r->has_time && (rc = col_create(&r->time, r->g, "time", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, 0, w->compress, P, O))))
        goto bad;
    hid_t sft = mbh5_h5_seg_ftype(), smt = mbh5_h5_seg_mtype();
    rc = col_create(&r->seg, r->g, "segments", sft, smt, 1, 0, w->compress, P, O);
    H5Tclose(sft);
    if (rc)
        goto bad;
    w->n_recordings++;
    w->open_rec = r;
    *out = r;
    return MB_OK;
bad:
    rec_free(r);
    return fail(w, rc);
}

int mbh5_rec_add_tag(struct mbh5_rec *r, const char *key, const char *value)
{
    struct mbh5_writer *w = r->w;
    if (!key || !*key || strchr(key, '/'))
        return fail(w, mb_error(MB_EINVAL, "'%s': %s: bad tag key '%s'", w->path, r->obj, key ? key : ""));
    for (size_t i = 0; i < r->n_tags; i++)
        if (!strcmp(r->tag_keys[i], key))
            return fail(w, mb_error(MB_EINVAL, "'%s': %s: tag '%s' set twice", w->path, r->obj, key));
    char **nk = realloc(r->tag_keys, (r->n_tags + 1) * sizeof *nk);
    if (!nk)
        return nomem(w);
    r->tag_keys = nk;
    if (!(nk[r->n_tags] = strdup(key)))
        return nomem(w);
    r->n_tags++;
    char obj[96];
    snprintf(obj, sizeof obj, "%s/tags", r->obj);
    return fail(w, mbh5_h5_put_str(r->g_tags, key, value ? value : "", w->path, obj));
}

int mbh5_rec_add_stream(struct mbh5_rec *r, int *stream_id, const struct mbh5_stream_info *si)
{
    struct mbh5_writer *w = r->w;
    const char *P = w->path;
    if (bad_link_name(si->name))
        return fail(w, mb_error(MB_EINVAL, "'%s': %s: bad stream name '%s'", P, r->obj, si->name ? si->name : ""));
    for (size_t i = 0; i < r->n_streams; i++)
        if (!strcmp(r->streams[i].name, si->name))
            return fail(w, mb_error(MB_EINVAL, "'%s': %s: stream '%s' added twice", P, r->obj, si->name));
    if (si->n_channels < 1 || !(si->rate_hz > 0) || !isfinite(si->rate_hz))
        return fail(w, mb_error(MB_EINVAL, "'%s': %s: stream '%s' needs channels >= 1 and a positive rate", P,
                                r->obj, si->name));
    if (r->g_streams < 0) {
        hid_t gcpl = mbh5_h5_gcpl(1);
        r->g_streams = H5Gcreate2(r->g, MBH5_G_STREAMS, H5P_DEFAULT, gcpl, H5P_DEFAULT);
        H5Pclose(gcpl);
        if (r->g_streams < 0)
            return fail(w, mb_error(MB_EH5, "'%s': cannot create group '%s/streams'", P, r->obj));
    }
    struct wstream *ns = realloc(r->streams, (r->n_streams + 1) * sizeof *ns);
    if (!ns)
        return nomem(w);
    r->streams = ns;
    struct wstream *s = &ns[r->n_streams];
    memset(s, 0, sizeof *s);
    s->data.dset = s->valid.dset = -1;
    if (!(s->name = strdup(si->name)))
        return nomem(w);
    r->n_streams++; /* from here rec_free owns it */
    s->n_channels = si->n_channels;
    s->has_valid = si->has_valid != 0;
    s->f64 = si->f64 != 0;
    s->rate_hz = si->rate_hz;
    snprintf(s->obj, sizeof s->obj, "%s/streams/%s", r->obj, si->name);
    const char *O = s->obj;
    size_t S = (size_t)si->n_channels;
    hid_t gcpl = mbh5_h5_gcpl(0);
    hid_t g = H5Gcreate2(r->g_streams, si->name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    if (g < 0)
        return fail(w, mb_error(MB_EH5, "'%s': cannot create group '%s'", P, O));
    int rc;
    const char **cn = calloc(S, sizeof *cn);
    char *names = calloc(S, 88);  /* 60 name bytes + up to 20 digits */
    if (!cn || !names) {
        rc = mb_error(MB_ENOMEM, "'%s': out of memory", P);
        goto out;
    }
    for (size_t c = 0; c < S; c++) {
        snprintf(names + 88 * c, 88, "%.60s%zu", si->name, c + 1);
        cn[c] = si->channel_names && si->channel_names[c] ? si->channel_names[c] : names + 88 * c;
    }
    if ((rc = mbh5_h5_put_str(g, "kind", si->kind, P, O)) ||
        (rc = mbh5_h5_put_i32(g, "n_channels", si->n_channels, P, O)) ||
        (rc = mbh5_h5_put_f64(g, "rate_hz", si->rate_hz, P, O)) ||
        (rc = mbh5_h5_put_str(g, "units", si->units, P, O)) ||
        (rc = mbh5_h5_put_i32(g, "has_valid", s->has_valid, P, O)) ||
        (rc = mbh5_h5_write_strs(g, "channel_names", cn, S, P, O)))
        goto out;
    if ((rc = col_create(&s->data, g, "data", s->f64 ? H5T_IEEE_F64LE : H5T_IEEE_F32LE,
                         s->f64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT, 0, S, w->compress, P, O)) ||
        (s->has_valid &&
         (rc = col_create(&s->valid, g, "valid", H5T_STD_U8LE, H5T_NATIVE_UINT8, 0, 0, w->compress, P, O))))
        goto out;
    *stream_id = (int)r->n_streams - 1;
out:
    /* The datasets stay open; the group is reached again through them. */
    H5Gclose(g);
    free(cn);
    free(names);
    return fail(w, rc);
}

/* Closes the current run if (lab, rep) changes at sample r->n + i. */
static int seg_feed(struct mbh5_rec *r, const int32_t *labels, const int32_t *reps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int32_t l = labels ? labels[i] : MBH5_UNLABELLED;
        int32_t p = reps ? reps[i] : -1;
        if (l == r->run_lab && p == r->run_rep)
            continue;
        if (r->run_lab != MBH5_UNLABELLED && r->n + i > r->run_start) {
            struct mbh5_segment s = { (int64_t)r->run_start, (int64_t)(r->n + i), r->run_lab, r->run_rep };
            int rc = col_append(&r->seg, &s, 0, NULL, NULL, 1, r->w->path, r->obj);
            if (rc)
                return rc;
            r->n_segments++;
        }
        r->run_lab = l;
        r->run_rep = p;
        r->run_start = r->n + i;
    }
    return MB_OK;
}

int mbh5_rec_append(struct mbh5_rec *r, const float *emg, const int32_t *labels,
                    const int32_t *reps, const double *time, size_t n)
{
    struct mbh5_writer *w = r->w;
    const char *P = w->path;
    if (n == 0)
        return MB_OK;
    if (!emg)
        return fail(w, mb_error(MB_EINVAL, "'%s': %s: append without EMG", P, r->obj));
    if (r->has_rep != (reps != NULL) || r->has_time != (time != NULL))
        return fail(w, mb_error(MB_EINVAL, "'%s': %s: repetitions/time given %s/%s but declared %d/%d", P, r->obj,
                                reps ? "yes" : "no", time ? "yes" : "no", r->has_rep, r->has_time));
    static const int32_t unl = MBH5_UNLABELLED;
    int rc;
    if ((rc = col_append(&r->emg, emg, 0, NULL, NULL, n, P, r->obj)) ||
        (rc = col_append(&r->lab, labels, 0, NULL, &unl, n, P, r->obj)) ||
        (reps && (rc = col_append(&r->rep, reps, 0, NULL, NULL, n, P, r->obj))) ||
        (time && (rc = col_append(&r->time, time, 0, NULL, NULL, n, P, r->obj))) ||
        (rc = seg_feed(r, labels, reps, n)))
        return fail(w, rc);
    r->n += n;
    return MB_OK;
}

static int append_stream(struct mbh5_rec *r, int id, const void *x, int x_f64, const uint8_t *valid, size_t n)
{
    struct mbh5_writer *w = r->w;
    if (id < 0 || (size_t)id >= r->n_streams)
        return fail(w, mb_error(MB_EINVAL, "'%s': %s: no stream %d", w->path, r->obj, id));
    struct wstream *s = &r->streams[id];
    if (n == 0)
        return MB_OK;
    if (!x || s->has_valid != (valid != NULL))
        return fail(w, mb_error(MB_EINVAL, "'%s': %s: append %s data or %s validity mask", w->path, s->obj,
                                x ? "with" : "without", valid ? "an undeclared" : "without the declared"));
    col_cvt cvt = x_f64 == s->f64 ? NULL : x_f64 ? cvt_f64_f32 : cvt_f32_f64;
    size_t src_row = (size_t)s->n_channels * (x_f64 ? sizeof(double) : sizeof(float));
    int rc = col_append(&s->data, x, src_row, cvt, NULL, n, w->path, s->obj);
    if (!rc && valid)
        rc = col_append(&s->valid, valid, 0, NULL, NULL, n, w->path, s->obj);
    return fail(w, rc);
}

int mbh5_rec_append_stream(struct mbh5_rec *r, int stream_id, const float *x, const uint8_t *valid, size_t n)
{
    return append_stream(r, stream_id, x, 0, valid, n);
}

int mbh5_rec_append_stream_f64(struct mbh5_rec *r, int stream_id, const double *x, const uint8_t *valid, size_t n)
{
    return append_stream(r, stream_id, x, 1, valid, n);
}

int mbh5_rec_end(struct mbh5_rec *r)
{
    struct mbh5_writer *w = r->w;
    const char *P = w->path;
    int rc = seg_feed(r, (const int32_t[]){ INT32_MIN }, (const int32_t[]){ INT32_MIN }, 1);
    if (!rc)
        rc = col_flush(&r->seg, P, r->obj);
    if (!rc && ((rc = col_flush(&r->emg, P, r->obj)) || (rc = col_flush(&r->lab, P, r->obj)) ||
                (r->has_rep && (rc = col_flush(&r->rep, P, r->obj))) ||
                (r->has_time && (rc = col_flush(&r->time, P, r->obj))) ||
                (rc = mbh5_h5_put_i64(r->g, "n_samples", (int64_t)r->n, P, r->obj)) ||
                (rc = mbh5_h5_put_i64(r->g, "n_segments", (int64_t)r->n_segments, P, r->obj)))) {
        /* rc holds the first failure, already reported */
    }
    for (size_t i = 0; i < r->n_streams && !rc; i++) {
        struct wstream *s = &r->streams[i];
        if ((rc = col_flush(&s->data, P, s->obj)) || (s->has_valid && (rc = col_flush(&s->valid, P, s->obj))))
            break;
        hid_t g = H5Gopen2(r->g_streams, s->name, H5P_DEFAULT);
        rc = g < 0 ? mb_error(MB_EH5, "'%s': cannot open '%s'", P, s->obj)
                   : mbh5_h5_put_i64(g, "n_samples", (int64_t)s->data.nrows, P, s->obj);
        if (g >= 0)
            H5Gclose(g);
    }
    w->open_rec = NULL;
    rec_free(r);
    return fail(w, rc);
}

/* ---- commit / abort ----------------------------------------------------- */

static int write_tables(struct mbh5_writer *w)
{
    const char *P = w->path;
    hid_t gcpl = mbh5_h5_gcpl(0);
    hid_t gs = H5Gcreate2(w->fid, MBH5_G_SOURCES, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    hid_t gg = H5Gcreate2(w->fid, MBH5_G_GESTURES, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    hid_t gu = H5Gcreate2(w->fid, MBH5_G_SUBJECTS, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    int rc = MB_OK;
    if (gs < 0 || gg < 0 || gu < 0)
        rc = mb_error(MB_EH5, "'%s': cannot create the table groups", P);
    if (!rc && ((rc = mbh5_h5_write_strs(gs, "path", (const char *const *)w->src_path.v, w->src_path.n, P, "/sources")) ||
                (rc = mbh5_h5_write_strs(gs, "sha256", (const char *const *)w->src_sha.v, w->src_sha.n, P, "/sources")) ||
                (rc = mbh5_h5_write_1d(gs, "bytes", H5T_STD_U64LE, H5T_NATIVE_UINT64, w->src_bytes, w->src_path.n,
                                       P, "/sources")) ||
                (rc = mbh5_h5_write_1d(gg, "id", H5T_STD_I32LE, H5T_NATIVE_INT32, w->gest_id, w->gest_name.n,
                                       P, "/gestures")) ||
                (rc = mbh5_h5_write_strs(gg, "name", (const char *const *)w->gest_name.v, w->gest_name.n, P, "/gestures")) ||
                (rc = mbh5_h5_write_strs(gg, "source_label", (const char *const *)w->gest_label.v, w->gest_label.n,
                                         P, "/gestures")) ||
                (rc = mbh5_h5_write_1d(gg, "held_out", H5T_STD_I32LE, H5T_NATIVE_INT32, w->gest_held, w->gest_name.n,
                                       P, "/gestures")) ||
                (rc = mbh5_h5_write_strs(gu, "name", (const char *const *)w->subj_name.v, w->subj_name.n, P, "/subjects")) ||
                (rc = mbh5_h5_write_1d(gu, "held_out", H5T_STD_I32LE, H5T_NATIVE_INT32, w->subj_held, w->subj_name.n,
                                       P, "/subjects")) ||
                (rc = mbh5_h5_write_strs(w->fid, MBH5_D_NOTES, (const char *const *)w->notes.v, w->notes.n, P, "/")) ||
                (rc = mbh5_h5_put_i64(w->fid, "n_recordings", (int64_t)w->n_recordings, P, "/")))) {
        /* rc holds the first failure, already reported */
    }
    if (gs >= 0)
        H5Gclose(gs);
    if (gg >= 0)
        H5Gclose(gg);
    if (gu >= 0)
        H5Gclose(gu);
    return rc;
}

static void writer_free(struct mbh5_writer *w)
{
    strvec_free(&w->src_path);
    strvec_free(&w->src_sha);
    strvec_free(&w->notes);
    strvec_free(&w->gest_name);
    strvec_free(&w->gest_label);
    strvec_free(&w->subj_name);
    free(w->src_bytes);
    free(w->gest_id);
    free(w->gest_held);
    free(w->subj_held);
    for (size_t i = 0; i < w->n_devices; i++)
        free(w->devices[i].name);
    free(w->devices);
    free(w->path);
    free(w);
}

static int close_failed;

int mbh5_unclean_close(void)
{
    return __atomic_load_n(&close_failed, __ATOMIC_RELAXED);
}

/* Closes every handle and the file. With 'discard' (the file is about to
 * be deleted), its contents are dropped first: closing flushes HDF5's
 * metadata, which fails on the full disk that usually brought us here,
 * and a failed H5Fclose is worse than a lost file. HDF5 1.10 frees the
 * file but keeps its id, and its exit-time teardown then closes that id
 * again and crashes (HDFGroup/hdf5#2257; fixed upstream by #2291, after
 * the 1.10.8 that Debian 12 ships). Truncating to 0
 * gives the space back, so the flush has room and the close succeeds.
 * When it still fails (a file-size limit, another process filling the
 * disk), mbh5_unclean_close() says so. */
static int close_file(struct mbh5_writer *w, int discard)
{
    if (w->open_rec) {
        w->open_rec->w = w;
        rec_free(w->open_rec);
        w->open_rec = NULL;
    }
    if (w->g_devices > 0)
        H5Gclose(w->g_devices);
    if (w->g_recordings > 0)
        H5Gclose(w->g_recordings);
    w->g_devices = w->g_recordings = -1;
    if (w->fid <= 0)
        return 0;
    void *fd = NULL;
    if (discard && H5Fget_vfd_handle(w->fid, H5P_DEFAULT, &fd) >= 0 && fd && ftruncate(*(int *)fd, 0) != 0) {
        /* nothing else to try: the close below says whether it mattered */
    }
    herr_t st = H5Fclose(w->fid);
    w->fid = -1;
    if (st < 0) {
        int e = errno;   /* for the caller's message */
        __atomic_store_n(&close_failed, 1, __ATOMIC_RELAXED);
        mb_info("'%s': libhdf5 could not close '%s'%s", w->path, w->tmp, discard ? " after discarding it" : "");
        errno = e;
    }
    return st < 0 ? -1 : 0;
}

int mbh5_commit(struct mbh5_writer *w)
{
    int rc = MB_OK;
    if (w->failed)
        rc = mb_error(MB_EINVAL, "'%s': not committed: an earlier write failed", w->path);
    else if (w->open_rec)
        rc = mb_error(MB_EINVAL, "'%s': not committed: recording %s is still open", w->path, w->open_rec->id);
    if (!rc)
        rc = write_tables(w);
    errno = 0;
    if (!rc && H5Fflush(w->fid, H5F_SCOPE_GLOBAL) < 0)
        rc = mb_error(MB_EIO, "'%s': cannot write '%s': %s", w->path, w->tmp, errno ? strerror(errno) : "HDF5 error");
    errno = 0;
    if (close_file(w, rc != MB_OK) < 0 && !rc)
        rc = mb_error(MB_EIO, "'%s': cannot close '%s': %s", w->path, w->tmp, errno ? strerror(errno) : "HDF5 error");
    if (!rc)
        rc = mb_fs_commit(w->tmp, w->path);
    if (rc)
        unlink(w->tmp);
    mb_fs_untrack_tmp(w->tmp);
    writer_free(w);
    return rc;
}

void mbh5_abort(struct mbh5_writer *w)
{
    if (!w)
        return;
    close_file(w, 1);
    unlink(w->tmp);
    mb_fs_untrack_tmp(w->tmp);
    writer_free(w);
}
