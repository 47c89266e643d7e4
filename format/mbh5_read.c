/* format/mbh5_read.c - opening a unified file: schema and structure checks,
 * metadata into memory, and raw reads of per-sample data at native rate.
 *
 * All metadata (tables, recording attributes, segments, tags, stream
 * descriptions) is read at open; sample data only on request, through the
 * datasets of one recording kept open between calls so consecutive
 * windows of a recording reuse HDF5's chunk cache. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "format/mbh5.h"
#include "format/mbh5_h5.h"
#include "format/mbh5_read.h"

/* ---- ownership: everything the file hands out is freed at close -------- */

static void *keep(struct mbh5_impl *m, void *p)
{
    if (!p)
        return NULL;
    if (m->n_owned == m->cap_owned) {
        size_t nc = m->cap_owned ? 2 * m->cap_owned : 256;
        void **no = realloc(m->owned, nc * sizeof *no);
        if (!no) {
            free(p);
            return NULL;
        }
        m->owned = no;
        m->cap_owned = nc;
    }
    m->owned[m->n_owned++] = p;
    return p;
}

static void *kalloc(struct mbh5_impl *m, size_t n, size_t size)
{
    return keep(m, calloc(n ? n : 1, size));
}

/* Reads string attribute 'name' into *out (owned by the file). */
static int kstr(struct mbh5_impl *m, const char **out, hid_t loc, const char *name, const char *file,
                const char *obj)
{
    char *s;
    int rc = mbh5_h5_get_str(&s, loc, name, file, obj);
    if (rc)
        return rc;
    if (!keep(m, s))
        return mb_error(MB_ENOMEM, "'%s': out of memory", file);
    *out = s;
    return MB_OK;
}

/* Whole string column of n entries, entries owned by the file. */
static int kstrs(struct mbh5_impl *m, char ***out, hid_t loc, const char *name, size_t n, const char *file,
                 const char *obj)
{
    char **v;
    int rc = mbh5_h5_read_strs(&v, loc, name, n, file, obj);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (!keep(m, v[i])) {
            for (size_t j = i + 1; j < n; j++)
                free(v[j]);
            free(v);
            return mb_error(MB_ENOMEM, "'%s': out of memory", file);
        }
    if (!keep(m, v))
        return mb_error(MB_ENOMEM, "'%s': out of memory", file);
    *out = v;
    return MB_OK;
}

static hid_t open_group(hid_t loc, const char *name, const char *file, const char *parent, int *rc)
{
    if (!mbh5_h5_exists(loc, name)) {
        *rc = mb_error(MB_EFORMAT, "'%s': %s: group '%s' is missing", file, parent, name);
        return -1;
    }
    hid_t g = H5Gopen2(loc, name, H5P_DEFAULT);
    if (g < 0)
        *rc = mb_error(MB_EH5, "'%s': %s: cannot open group '%s'", file, parent, name);
    return g;
}

/* ---- tables ------------------------------------------------------------- */

static int read_sources(struct mbh5_file *f, struct mbh5_impl *m)
{
    const char *P = f->path, *O = "/sources";
    int rc = MB_OK, rank;
    uint64_t dims[2];
    hid_t g = open_group(m->fid, MBH5_G_SOURCES, P, "/", &rc);
    if (g < 0)
        return rc;
    char **path, **sha;
    if ((rc = mbh5_h5_shape(&rank, dims, g, "path", P, O)))
        goto out;
    size_t n = (size_t)dims[0];
    uint64_t *bytes = kalloc(m, n, sizeof *bytes);
    f->sources = kalloc(m, n, sizeof *f->sources);
    if (!bytes || !f->sources) {
        rc = mb_error(MB_ENOMEM, "'%s': out of memory", P);
        goto out;
    }
    if ((rc = kstrs(m, &path, g, "path", n, P, O)) || (rc = kstrs(m, &sha, g, "sha256", n, P, O)) ||
        (rc = mbh5_h5_read_1d(bytes, g, "bytes", H5T_NATIVE_UINT64, n, P, O)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        f->sources[i].path = path[i];
        snprintf(f->sources[i].sha256, sizeof f->sources[i].sha256, "%s", sha[i]);
        f->sources[i].bytes = bytes[i];
    }
    f->n_sources = n;
out:
    H5Gclose(g);
    return rc;
}

static int read_devices(struct mbh5_file *f, struct mbh5_impl *m)
{
    const char *P = f->path;
    int rc = MB_OK;
    hid_t g = open_group(m->fid, MBH5_G_DEVICES, P, "/", &rc);
    if (g < 0)
        return rc;
    H5G_info_t gi;
    if (H5Gget_info(g, &gi) < 0) {
        H5Gclose(g);
        return mb_error(MB_EH5, "'%s': cannot list '/devices'", P);
    }
    size_t n = (size_t)gi.nlinks;
    f->devices = kalloc(m, n, sizeof *f->devices);
    if (!f->devices) {
        H5Gclose(g);
        return mb_error(MB_ENOMEM, "'%s': out of memory", P);
    }
    for (size_t i = 0; i < n && !rc; i++) {
        char name[32], obj[48];
        snprintf(name, sizeof name, "d%03zu", i);
        snprintf(obj, sizeof obj, "/devices/%s", name);
        hid_t d = open_group(g, name, P, "/devices", &rc);
        if (d < 0)
            break;
        struct mbh5_device *dv = &f->devices[i];
        int64_t C = 0;
        char **cn, **cp, **cu;
        double *gain;
        if ((rc = kstr(m, &dv->name, d, "name", P, obj)) || (rc = kstr(m, &dv->manufacturer, d, "manufacturer", P, obj)) ||
            (rc = kstr(m, &dv->model, d, "model", P, obj)) || (rc = mbh5_h5_get_i64(&C, d, "n_channels", P, obj)) ||
            (rc = mbh5_h5_get_f64(&dv->rate_hz, d, "rate_hz", P, obj)) || (rc = kstr(m, &dv->units, d, "units", P, obj)) ||
            (rc = mbh5_h5_get_f64(&dv->scale, d, "scale", P, obj)) ||
            (rc = mbh5_h5_get_int(&dv->adc_bits, d, "adc_bits", P, obj)) ||
            (rc = kstr(m, &dv->hw_filters, d, "hw_filters", P, obj)) ||
            (rc = kstr(m, &dv->sw_filters, d, "sw_filters", P, obj)) ||
            (rc = mbh5_h5_get_f64(&dv->power_line_hz, d, "power_line_hz", P, obj)))
            goto next;
        if (C < 1 || C > 100000) {
            rc = mb_error(MB_EFORMAT, "'%s': %s: n_channels %lld is not in [1, 100000]", P, obj, (long long)C);
            goto next;
        }
        dv->n_channels = (int)C;
        struct mbh5_channel *ch = kalloc(m, (size_t)C, sizeof *ch);
        gain = kalloc(m, (size_t)C, sizeof *gain);
        if (!ch || !gain) {
            rc = mb_error(MB_ENOMEM, "'%s': out of memory", P);
            goto next;
        }
        if ((rc = kstrs(m, &cn, d, "channel_name", (size_t)C, P, obj)) ||
            (rc = kstrs(m, &cp, d, "channel_placement", (size_t)C, P, obj)) ||
            (rc = kstrs(m, &cu, d, "channel_units", (size_t)C, P, obj)) ||
            (rc = mbh5_h5_read_1d(gain, d, "channel_gain", H5T_NATIVE_DOUBLE, (size_t)C, P, obj)))
            goto next;
        for (int64_t c = 0; c < C; c++)
            ch[c] = (struct mbh5_channel){ cn[c], cp[c], cu[c], gain[c] };
        dv->channels = ch;
        for (size_t j = 0; j < i && !rc; j++)
            if (!strcmp(f->devices[j].name, dv->name))
                rc = mb_error(MB_EFORMAT, "'%s': %s: device name '%s' already used by /devices/d%03zu", P, obj,
                              dv->name, j);
    next:
        H5Gclose(d);
    }
    H5Gclose(g);
    if (!rc)
        f->n_devices = n;
    return rc;
}

static int read_gestures(struct mbh5_file *f, struct mbh5_impl *m)
{
    const char *P = f->path, *O = "/gestures";
    int rc = MB_OK, rank;
    uint64_t dims[2];
    hid_t g = open_group(m->fid, MBH5_G_GESTURES, P, "/", &rc);
    if (g < 0)
        return rc;
    char **name, **label;
    if ((rc = mbh5_h5_shape(&rank, dims, g, "id", P, O)))
        goto out;
    size_t n = (size_t)dims[0];
    int32_t *id = kalloc(m, n, sizeof *id), *held = kalloc(m, n, sizeof *held);
    f->gestures = kalloc(m, n, sizeof *f->gestures);
    if (!id || !held || !f->gestures) {
        rc = mb_error(MB_ENOMEM, "'%s': out of memory", P);
        goto out;
    }
    if ((rc = mbh5_h5_read_1d(id, g, "id", H5T_NATIVE_INT32, n, P, O)) ||
        (rc = kstrs(m, &name, g, "name", n, P, O)) || (rc = kstrs(m, &label, g, "source_label", n, P, O)) ||
        (rc = mbh5_h5_read_1d(held, g, "held_out", H5T_NATIVE_INT32, n, P, O)))
        goto out;
    for (size_t i = 0; i < n; i++)
        f->gestures[i] = (struct mbh5_gesture){ id[i], name[i], label[i], held[i] };
    f->n_gestures = n;
out:
    H5Gclose(g);
    return rc;
}

static int read_subjects(struct mbh5_file *f, struct mbh5_impl *m)
{
    const char *P = f->path, *O = "/subjects";
    int rc = MB_OK, rank;
    uint64_t dims[2];
    hid_t g = open_group(m->fid, MBH5_G_SUBJECTS, P, "/", &rc);
    if (g < 0)
        return rc;
    char **name;
    if ((rc = mbh5_h5_shape(&rank, dims, g, "name", P, O)))
        goto out;
    size_t n = (size_t)dims[0];
    int32_t *held = kalloc(m, n, sizeof *held);
    f->subjects = kalloc(m, n, sizeof *f->subjects);
    if (!held || !f->subjects) {
        rc = mb_error(MB_ENOMEM, "'%s': out of memory", P);
        goto out;
    }
    if ((rc = kstrs(m, &name, g, "name", n, P, O)) ||
        (rc = mbh5_h5_read_1d(held, g, "held_out", H5T_NATIVE_INT32, n, P, O)))
        goto out;
    for (size_t i = 0; i < n; i++)
        f->subjects[i] = (struct mbh5_subject){ name[i], held[i] };
    f->n_subjects = n;
out:
    H5Gclose(g);
    return rc;
}

static int read_notes(struct mbh5_file *f, struct mbh5_impl *m)
{
    int rank;
    uint64_t dims[2];
    int rc = mbh5_h5_shape(&rank, dims, m->fid, MBH5_D_NOTES, f->path, "/");
    char **v;
    if (!rc && !(rc = kstrs(m, &v, m->fid, MBH5_D_NOTES, (size_t)dims[0], f->path, "/"))) {
        f->notes = (const char **)v;
        f->n_notes = (size_t)dims[0];
    }
    return rc;
}

/* ---- recordings --------------------------------------------------------- */

struct tag_ctx { struct mbh5_impl *m; struct mbh5_recording *r; const char *file, *obj; hid_t g; int rc; };

static herr_t tag_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
    struct tag_ctx *t = data;
    struct mbh5_tag *tag = &t->r->tags[t->r->n_tags];
    tag->key = keep(t->m, strdup(name));
    if (!tag->key) {
        t->rc = mb_error(MB_ENOMEM, "'%s': out of memory", t->file);
        return -1;
    }
    t->rc = kstr(t->m, &tag->value, loc, name, t->file, t->obj);
    if (t->rc)
        return -1;
    t->r->n_tags++;
    return 0;
}

static int read_tags(struct mbh5_file *f, struct mbh5_impl *m, struct mbh5_recording *r, hid_t g, const char *obj)
{
    int rc = MB_OK;
    char tobj[96];
    snprintf(tobj, sizeof tobj, "%s/tags", obj);
    hid_t t = open_group(g, MBH5_G_TAGS, f->path, obj, &rc);
    if (t < 0)
        return rc;
    H5O_info_t oi;
    if (H5Oget_info2(t, &oi, H5O_INFO_NUM_ATTRS) < 0) {
        H5Gclose(t);
        return mb_error(MB_EH5, "'%s': cannot list the attributes of '%s'", f->path, tobj);
    }
    r->tags = kalloc(m, (size_t)oi.num_attrs, sizeof *r->tags);
    if (!r->tags) {
        H5Gclose(t);
        return mb_error(MB_ENOMEM, "'%s': out of memory", f->path);
    }
    struct tag_ctx ctx = { m, r, f->path, tobj, t, MB_OK };
    hsize_t idx = 0;
    /* Creation order when the file tracks it (ours does), names otherwise. */
    herr_t st = H5Aiterate2(t, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, tag_cb, &ctx);
    if (st < 0 && !ctx.rc && r->n_tags == 0) {
        idx = 0;
        st = H5Aiterate2(t, H5_INDEX_NAME, H5_ITER_INC, &idx, tag_cb, &ctx);
    }
    H5Gclose(t);
    if (ctx.rc)
        return ctx.rc;
    if (st < 0)
        return mb_error(MB_EH5, "'%s': cannot read the tags in '%s'", f->path, tobj);
    return MB_OK;
}

struct link_list { size_t n, cap; char **names; struct mbh5_impl *m; int oom; };

static herr_t link_cb(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    struct link_list *l = data;
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 8;
        char **nn = realloc(l->names, nc * sizeof *nn);
        if (!nn) {
            l->oom = 1;
            return -1;
        }
        l->names = nn;
        l->cap = nc;
    }
    if (!(l->names[l->n] = keep(l->m, strdup(name)))) {
        l->oom = 1;
        return -1;
    }
    l->n++;
    return 0;
}

static int read_streams(struct mbh5_file *f, struct mbh5_impl *m, struct mbh5_recording *r, hid_t g, const char *obj)
{
    const char *P = f->path;
    if (!mbh5_h5_exists(g, MBH5_G_STREAMS))
        return MB_OK;
    int rc = MB_OK;
    hid_t gs = open_group(g, MBH5_G_STREAMS, P, obj, &rc);
    if (gs < 0)
        return rc;
    struct link_list l = { .m = m };
    hsize_t idx = 0;
    herr_t st = H5Literate(gs, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, link_cb, &l);
    if (st < 0 && !l.oom && l.n == 0) {
        idx = 0;
        st = H5Literate(gs, H5_INDEX_NAME, H5_ITER_INC, &idx, link_cb, &l);
    }
    if (st < 0) {
        free(l.names);
        H5Gclose(gs);
        return l.oom ? mb_error(MB_ENOMEM, "'%s': out of memory", P)
                     : mb_error(MB_EH5, "'%s': cannot list '%s/streams'", P, obj);
    }
    r->streams = kalloc(m, l.n, sizeof *r->streams);
    if (!r->streams)
        rc = mb_error(MB_ENOMEM, "'%s': out of memory", P);
    for (size_t i = 0; i < l.n && !rc; i++) {
        char sobj[160];
        snprintf(sobj, sizeof sobj, "%s/streams/%s", obj, l.names[i]);
        hid_t s = open_group(gs, l.names[i], P, obj, &rc);
        if (s < 0)
            break;
        struct mbh5_stream *st_ = &r->streams[i];
        struct mbh5_stream_info *si = &st_->info;
        int64_t ns = 0;
        int rank;
        uint64_t dims[2];
        char **cn;
        si->name = l.names[i];
        if ((rc = kstr(m, &si->kind, s, "kind", P, sobj)) ||
            (rc = mbh5_h5_get_int(&si->n_channels, s, "n_channels", P, sobj)) ||
            (rc = mbh5_h5_get_f64(&si->rate_hz, s, "rate_hz", P, sobj)) ||
            (rc = kstr(m, &si->units, s, "units", P, sobj)) ||
            (rc = mbh5_h5_get_int(&si->has_valid, s, "has_valid", P, sobj)) ||
            (rc = mbh5_h5_get_i64(&ns, s, "n_samples", P, sobj)))
            goto next;
        if (si->n_channels < 1 || ns < 0) {
            rc = mb_error(MB_EFORMAT, "'%s': %s: n_channels %d / n_samples %lld out of range", P, sobj,
                          si->n_channels, (long long)ns);
            goto next;
        }
        if ((rc = kstrs(m, &cn, s, "channel_names", (size_t)si->n_channels, P, sobj)))
            goto next;
        si->channel_names = (const char *const *)cn;
        if ((rc = mbh5_h5_shape(&rank, dims, s, "data", P, sobj)))
            goto next;
        if (rank != 2 || dims[0] != (uint64_t)ns || dims[1] != (uint64_t)si->n_channels) {
            rc = mb_error(MB_EFORMAT, "'%s': %s/data: shape [%llu x %llu], attributes say [%lld x %d]", P, sobj,
                          (unsigned long long)dims[0], (unsigned long long)dims[1], (long long)ns, si->n_channels);
            goto next;
        }
        hid_t d = H5Dopen2(s, "data", H5P_DEFAULT);
        hid_t t = d < 0 ? -1 : H5Dget_type(d);
        if (t < 0 || H5Tget_class(t) != H5T_FLOAT)
            rc = mb_error(MB_EFORMAT, "'%s': %s/data: not a floating-point dataset", P, sobj);
        else
            si->f64 = H5Tget_size(t) >= 8;
        if (t >= 0)
            H5Tclose(t);
        if (d >= 0)
            H5Dclose(d);
        if (rc)
            goto next;
        if (si->has_valid) {
            if ((rc = mbh5_h5_shape(&rank, dims, s, "valid", P, sobj)))
                goto next;
            if (rank != 1 || dims[0] != (uint64_t)ns) {
                rc = mb_error(MB_EFORMAT, "'%s': %s/valid: %llu entries, expected %lld", P, sobj,
                              (unsigned long long)dims[0], (long long)ns);
                goto next;
            }
        }
        st_->n_samples = (size_t)ns;
        r->n_streams++;
    next:
        H5Gclose(s);
    }
    free(l.names);
    H5Gclose(gs);
    return rc;
}

static int read_recording(struct mbh5_file *f, struct mbh5_impl *m, size_t i, hid_t grecs)
{
    const char *P = f->path;
    struct mbh5_recording *r = &f->recordings[i];
    char id[32], obj[64];
    snprintf(id, sizeof id, "r%06zu", i);
    snprintf(obj, sizeof obj, "/recordings/%s", id);
    int rc = MB_OK;
    hid_t g = open_group(grecs, id, P, "/recordings", &rc);
    if (g < 0)
        return rc;
    struct mbh5_rec_info *in = &r->info;
    int64_t ns = 0, nseg = 0;
    int rank;
    uint64_t dims[2];
    if (!(r->id = keep(m, strdup(id)))) {
        rc = mb_error(MB_ENOMEM, "'%s': out of memory", P);
        goto out;
    }
    const char *devname;
    if ((rc = mbh5_h5_get_int(&r->subject, g, "subject", P, obj)) ||
        (rc = kstr(m, &in->subject, g, "subject_name", P, obj)) ||
        (rc = kstr(m, &in->session, g, "session", P, obj)) || (rc = kstr(m, &in->side, g, "side", P, obj)) ||
        (rc = mbh5_h5_get_int(&in->day, g, "day", P, obj)) || (rc = mbh5_h5_get_int(&r->device, g, "device", P, obj)) ||
        (rc = kstr(m, &devname, g, "device_name", P, obj)) ||
        (rc = mbh5_h5_get_f64(&in->rate_hz, g, "rate_hz", P, obj)) ||
        (rc = mbh5_h5_get_int(&in->n_channels, g, "n_channels", P, obj)) ||
        (rc = kstr(m, &in->source, g, "source", P, obj)) ||
        (rc = mbh5_h5_get_f64(&in->start_time, g, "start_time", P, obj)) ||
        (rc = mbh5_h5_get_int(&in->has_time, g, "has_time", P, obj)) ||
        (rc = mbh5_h5_get_int(&in->has_repetition, g, "has_repetition", P, obj)) ||
        (rc = mbh5_h5_get_i64(&ns, g, "n_samples", P, obj)) || (rc = mbh5_h5_get_i64(&nseg, g, "n_segments", P, obj)))
        goto out;
    in->device = devname;
    /* References: the file is unusable if they dangle, so open refuses. */
    if (r->subject < 0 || (size_t)r->subject >= f->n_subjects) {
        rc = mb_error(MB_EFORMAT, "'%s': %s: subject %d does not exist (%zu subjects)", P, obj, r->subject, f->n_subjects);
        goto out;
    }
    if (strcmp(f->subjects[r->subject].name, in->subject)) {
        rc = mb_error(MB_EFORMAT, "'%s': %s: subject %d is '%s' but subject_name says '%s'", P, obj, r->subject,
                      f->subjects[r->subject].name, in->subject);
        goto out;
    }
    if (r->device < 0 || (size_t)r->device >= f->n_devices) {
        rc = mb_error(MB_EFORMAT, "'%s': %s: device %d does not exist (%zu devices)", P, obj, r->device, f->n_devices);
        goto out;
    }
    if (strcmp(f->devices[r->device].name, devname)) {
        rc = mb_error(MB_EFORMAT, "'%s': %s: device %d is '%s' but device_name says '%s'", P, obj, r->device,
                      f->devices[r->device].name, devname);
        goto out;
    }
    if (in->n_channels != f->devices[r->device].n_channels) {
        rc = mb_error(MB_EFORMAT, "'%s': %s: %d channels but device '%s' has %d", P, obj, in->n_channels, devname,
                      f->devices[r->device].n_channels);
        goto out;
    }
    if (!(in->rate_hz > 0) || !isfinite(in->rate_hz) || ns < 0 || nseg < 0) {
        rc = mb_error(MB_EFORMAT, "'%s': %s: rate_hz %g, n_samples %lld, n_segments %lld: out of range", P, obj,
                      in->rate_hz, (long long)ns, (long long)nseg);
        goto out;
    }
    r->n_samples = (size_t)ns;
    if ((rc = mbh5_h5_shape(&rank, dims, g, "emg", P, obj)))
        goto out;
    if (rank != 2 || dims[0] != (uint64_t)ns || dims[1] != (uint64_t)in->n_channels) {
        rc = mb_error(MB_EFORMAT, "'%s': %s/emg: shape [%llu x %llu], attributes say [%lld x %d]", P, obj,
                      (unsigned long long)dims[0], (unsigned long long)dims[1], (long long)ns, in->n_channels);
        goto out;
    }
    static const char *const per_sample[] = { "labels", "repetition", "time" };
    for (int k = 0; k < 3; k++) {
        if ((k == 1 && !in->has_repetition) || (k == 2 && !in->has_time))
            continue;
        if ((rc = mbh5_h5_shape(&rank, dims, g, per_sample[k], P, obj)))
            goto out;
        if (rank != 1 || dims[0] != (uint64_t)ns) {
            rc = mb_error(MB_EFORMAT, "'%s': %s/%s: %llu entries, expected n_samples = %lld", P, obj, per_sample[k],
                          (unsigned long long)dims[0], (long long)ns);
            goto out;
        }
    }
    r->segments = kalloc(m, (size_t)nseg, sizeof *r->segments);
    if (!r->segments) {
        rc = mb_error(MB_ENOMEM, "'%s': out of memory", P);
        goto out;
    }
    hid_t smt = mbh5_h5_seg_mtype();
    rc = mbh5_h5_read_1d(r->segments, g, "segments", smt, (size_t)nseg, P, obj);
    H5Tclose(smt);
    if (rc)
        goto out;
    r->n_segments = (size_t)nseg;
    if ((rc = read_tags(f, m, r, g, obj)) || (rc = read_streams(f, m, r, g, obj)))
        goto out;
out:
    H5Gclose(g);
    return rc;
}

static int read_recordings(struct mbh5_file *f, struct mbh5_impl *m)
{
    const char *P = f->path;
    int64_t n = 0;
    int rc = mbh5_h5_get_i64(&n, m->fid, "n_recordings", P, "/");
    if (rc)
        return rc;
    hid_t g = open_group(m->fid, MBH5_G_RECORDINGS, P, "/", &rc);
    if (g < 0)
        return rc;
    H5G_info_t gi;
    if (H5Gget_info(g, &gi) < 0)
        rc = mb_error(MB_EH5, "'%s': cannot list '/recordings'", P);
    else if (n < 0 || gi.nlinks != (hsize_t)n)
        rc = mb_error(MB_EFORMAT, "'%s': /recordings holds %llu groups but n_recordings is %lld", P,
                      (unsigned long long)gi.nlinks, (long long)n);
    else if (!(f->recordings = kalloc(m, (size_t)n, sizeof *f->recordings)))
        rc = mb_error(MB_ENOMEM, "'%s': out of memory", P);
    for (size_t i = 0; !rc && i < (size_t)n; i++)
        if (!(rc = read_recording(f, m, i, g)))
            f->n_recordings = i + 1;
    H5Gclose(g);
    return rc;
}

/* ---- open / close ------------------------------------------------------- */

static int read_corpus(struct mbh5_file *f, struct mbh5_impl *m)
{
    const char *P = f->path;
    hid_t root = m->fid;
    if (H5Aexists(root, "schema") <= 0)
        return mb_error(MB_ESCHEMA, "'%s': not a %s file (no 'schema' attribute on '/')", P, MBH5_SCHEMA_NAME);
    const char *schema;
    int rc = kstr(m, &schema, root, "schema", P, "/");
    if (rc)
        return rc == MB_EFORMAT ? MB_ESCHEMA : rc;
    if (strcmp(schema, MBH5_SCHEMA_NAME))
        return mb_error(MB_ESCHEMA, "'%s': schema is '%s', expected '%s'", P, schema, MBH5_SCHEMA_NAME);
    int64_t v;
    if ((rc = mbh5_h5_get_i64(&v, root, "schema_version", P, "/")))
        return rc == MB_EFORMAT ? MB_ESCHEMA : rc;
    if (v != MBH5_SCHEMA_VERSION)
        return mb_error(MB_ESCHEMA, "'%s': schema version %lld; this build reads version %d", P, (long long)v,
                        MBH5_SCHEMA_VERSION);
    f->schema_version = (int)v;
    struct mbh5_corpus *c = &f->corpus;
    if ((rc = kstr(m, &c->name, root, "name", P, "/")) ||
        (rc = kstr(m, &c->source_dataset, root, "source_dataset", P, "/")) ||
        (rc = kstr(m, &c->source_version, root, "source_version", P, "/")) ||
        (rc = kstr(m, &c->converter, root, "converter", P, "/")) ||
        (rc = kstr(m, &c->converter_version, root, "converter_version", P, "/")) ||
        (rc = kstr(m, &c->params_json, root, "params_json", P, "/")))
        return rc;
    return MB_OK;
}

int mbh5_open(struct mbh5_file **out, const char *path)
{
    *out = NULL;
    mbh5_h5_quiet();
    struct stat sb;
    if (stat(path, &sb) != 0)
        return mb_error(MB_EIO, "'%s': %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return mb_error(MB_EIO, "'%s': not a regular file", path);
    htri_t is = H5Fis_hdf5(path);
    if (is <= 0)
        return mb_error(MB_EH5, "'%s': not an HDF5 file%s", path, is < 0 ? " (cannot read it)" : "");
    struct mbh5_file *f = calloc(1, sizeof *f);
    struct mbh5_impl *m = calloc(1, sizeof *m);
    if (!f || !m || !(f->path = keep(m, strdup(path)))) {
        free(f);
        free(m);
        return mb_error(MB_ENOMEM, "'%s': out of memory", path);
    }
    f->impl = m;
    m->cur = (size_t)-1;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    /* A small metadata cache: recordings are read one after another, so the
     * chunk indexes of those already read are not needed again, and HDF5
     * sizes the cache by the entries' bytes on disk while a chunk-index node
     * takes about ten times that in memory: with the default (2 MB, growing
     * to 32 MB) the reader of the default synthetic emg2pose corpus (128
     * recordings) held 31 MB of heap once every recording was read, at 256 KB
     * 8 MB, for the same CPU time (tests/test_mbh5.c
     * reading_many_recordings_keeps_the_metadata_heap_small). */
    H5AC_cache_config_t mdc = { .version = H5AC__CURR_CACHE_CONFIG_VERSION };
    if (H5Pget_mdc_config(fapl, &mdc) >= 0) {
        mdc.max_size = 256u << 10;
        if (mdc.initial_size > mdc.max_size)
            mdc.initial_size = mdc.max_size;
        if (mdc.min_size > mdc.max_size)
            mdc.min_size = mdc.max_size;
        if (H5Pset_mdc_config(fapl, &mdc) < 0)
            mb_debug("'%s': HDF5 refused the metadata cache size; using its default", path);
    }
    m->fid = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    int rc;
    if (m->fid < 0) {
        /* The usual cause: the file was cut short (eof below the end the superblock records). */
        rc = mb_error(MB_EH5, "'%s': cannot open as HDF5 (truncated or damaged file)", path);
        mbh5_close(f);
        return rc;
    }
    if ((rc = read_corpus(f, m)) || (rc = read_sources(f, m)) || (rc = read_devices(f, m)) ||
        (rc = read_gestures(f, m)) || (rc = read_subjects(f, m)) || (rc = read_notes(f, m)) ||
        (rc = read_recordings(f, m))) {
        mbh5_close(f);
        return rc;
    }
    *out = f;
    return MB_OK;
}

void mbh5_impl_drop_rec(struct mbh5_impl *m)
{
    hid_t *ids[] = { &m->d_emg, &m->d_lab, &m->d_rep, &m->d_time };
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        if (*ids[i] > 0)
            H5Dclose(*ids[i]);
        *ids[i] = -1;
    }
    for (size_t i = 0; i < m->n_sd; i++) {
        if (m->d_sdata[i] > 0)
            H5Dclose(m->d_sdata[i]);
        if (m->d_svalid[i] > 0)
            H5Dclose(m->d_svalid[i]);
    }
    free(m->d_sdata);
    free(m->d_svalid);
    m->d_sdata = m->d_svalid = NULL;
    m->n_sd = 0;
    m->cur = (size_t)-1;
}

void mbh5_close(struct mbh5_file *f)
{
    if (!f)
        return;
    struct mbh5_impl *m = f->impl;
    if (m) {
        if (m->cur != (size_t)-1)
            mbh5_impl_drop_rec(m);
        if (m->fid > 0)
            H5Fclose(m->fid);
        for (size_t i = 0; i < m->n_owned; i++)
            free(m->owned[i]);
        free(m->owned);
        free(m);
    }
    free(f);
}

/* ---- lookups ------------------------------------------------------------ */

const char *mbh5_tag(const struct mbh5_recording *r, const char *key)
{
    for (size_t i = 0; i < r->n_tags; i++)
        if (!strcmp(r->tags[i].key, key))
            return r->tags[i].value;
    return NULL;
}

int mbh5_gesture_index(const struct mbh5_file *f, int32_t id)
{
    for (size_t i = 0; i < f->n_gestures; i++)
        if (f->gestures[i].id == id)
            return (int)i;
    return -1;
}

size_t mbh5_find_unknown_label(const struct mbh5_file *f, const int32_t *labels, size_t n)
{
    /* Labels come in long runs: remember the last known value so a recording
     * costs one comparison per sample, not a vocabulary scan. */
    int32_t known = MBH5_UNLABELLED;
    for (size_t i = 0; i < n; i++) {
        int32_t l = labels[i];
        if (l == known || l == MBH5_UNLABELLED)
            continue;
        if (mbh5_gesture_index(f, l) < 0)
            return i;
        known = l;
    }
    return n;
}

/* ---- raw reads ---------------------------------------------------------- */

/* 1 if EMG chunks are whole rows [R x C] of float32 with no filters but
 * shuffle and deflate (what our writer makes; h5py files may differ). */
static int emg_decodable(hid_t d, size_t C, size_t *rows, int *shuffle, int *deflate)
{
    *shuffle = *deflate = 0;
    hid_t pl = H5Dget_create_plist(d), t = H5Dget_type(d);
    hsize_t cd[2] = { 0, 0 };
    int ok = pl >= 0 && t >= 0 && H5Tequal(t, H5T_IEEE_F32LE) > 0 && H5Pget_layout(pl) == H5D_CHUNKED &&
             H5Pget_chunk(pl, 2, cd) == 2 && cd[1] == C && cd[0] > 0;
    int nf = ok ? H5Pget_nfilters(pl) : -1;
    for (int i = 0; ok && i < nf; i++) {
        unsigned flags;
        size_t nelmts = 0;
        H5Z_filter_t id = H5Pget_filter2(pl, (unsigned)i, &flags, &nelmts, NULL, 0, NULL, NULL);
        ok = (id == H5Z_FILTER_SHUFFLE && i == 0) || (id == H5Z_FILTER_DEFLATE && i == nf - 1);
        if (id == H5Z_FILTER_SHUFFLE)
            *shuffle = i + 1;
        if (id == H5Z_FILTER_DEFLATE)
            *deflate = i + 1;
    }
    if (pl >= 0)
        H5Pclose(pl);
    if (t >= 0)
        H5Tclose(t);
    *rows = ok ? (size_t)cd[0] : 0;
    return ok;
}

/* Opens recording 'rec''s datasets (kept until another recording is asked for). */
int mbh5_impl_use_rec(struct mbh5_file *f, size_t rec)
{
    struct mbh5_impl *m = f->impl;
    if (rec >= f->n_recordings)
        return mb_error(MB_EINVAL, "'%s': no recording %zu (%zu recordings)", f->path, rec, f->n_recordings);
    if (m->cur == rec)
        return MB_OK;
    if (m->cur != (size_t)-1)
        mbh5_impl_drop_rec(m);
    const struct mbh5_recording *r = &f->recordings[rec];
    char p[192];
    m->d_emg = m->d_lab = m->d_rep = m->d_time = -1;
    const char *names[] = { "emg", "labels", "repetition", "time" };
    hid_t *ids[] = { &m->d_emg, &m->d_lab, &m->d_rep, &m->d_time };
    int want[] = { 1, 1, r->info.has_repetition, r->info.has_time };
    m->cur = rec;
    m->d_sdata = calloc(r->n_streams ? r->n_streams : 1, sizeof *m->d_sdata);
    m->d_svalid = calloc(r->n_streams ? r->n_streams : 1, sizeof *m->d_svalid);
    if (!m->d_sdata || !m->d_svalid) {
        mbh5_impl_drop_rec(m);
        return mb_error(MB_ENOMEM, "'%s': out of memory", f->path);
    }
    m->n_sd = r->n_streams;
    for (size_t i = 0; i < r->n_streams; i++)
        m->d_sdata[i] = m->d_svalid[i] = -1;
    for (int k = 0; k < 4; k++) {
        if (!want[k])
            continue;
        snprintf(p, sizeof p, "/recordings/%s/%s", r->id, names[k]);
        /* A larger chunk cache for EMG: consecutive windows of a protocol
         * land in chunks already decoded (HDF5's default is 1 MB). */
        hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
        if (k == 0)
            H5Pset_chunk_cache(dapl, 4099, 8u << 20, H5D_CHUNK_CACHE_W0_DEFAULT);
        *ids[k] = H5Dopen2(m->fid, p, dapl);
        H5Pclose(dapl);
        if (*ids[k] < 0) {
            mbh5_impl_drop_rec(m);
            return mb_error(MB_EH5, "'%s': cannot open dataset '%s'", f->path, p);
        }
    }
    m->emg_fast = emg_decodable(m->d_emg, (size_t)r->info.n_channels, &m->emg_chunk_rows, &m->emg_shuffle,
                                &m->emg_deflate);
    for (size_t i = 0; i < r->n_streams; i++) {
        snprintf(p, sizeof p, "/recordings/%s/streams/%s/data", r->id, r->streams[i].info.name);
        if ((m->d_sdata[i] = H5Dopen2(m->fid, p, H5P_DEFAULT)) < 0) {
            mbh5_impl_drop_rec(m);
            return mb_error(MB_EH5, "'%s': cannot open dataset '%s'", f->path, p);
        }
        if (!r->streams[i].info.has_valid)
            continue;
        snprintf(p, sizeof p, "/recordings/%s/streams/%s/valid", r->id, r->streams[i].info.name);
        if ((m->d_svalid[i] = H5Dopen2(m->fid, p, H5P_DEFAULT)) < 0) {
            mbh5_impl_drop_rec(m);
            return mb_error(MB_EH5, "'%s': cannot open dataset '%s'", f->path, p);
        }
    }
    return MB_OK;
}

static int check_span(const struct mbh5_file *f, size_t rec, const char *what, size_t start, size_t n, size_t len)
{
    if (start > len || n > len - start)
        return mb_error(MB_EINVAL, "'%s': /recordings/%s/%s: samples %zu..%zu outside 1..%zu", f->path,
                        f->recordings[rec].id, what, start + 1, start + n, len);
    return MB_OK;
}

#define FAST_BATCH 16 /* chunks read, then decoded in parallel, at a time */

/* Whole chunks [c0, c1) of EMG decoded straight into out (rows from
 * 'start'): raw chunks are read serially, decoded in parallel. Returns 1
 * (nothing reported) when a chunk cannot be fetched raw. */
static int read_emg_chunks(struct mbh5_file *f, size_t rec, size_t c0, size_t c1, size_t start, float *out)
{
    struct mbh5_impl *m = f->impl;
    size_t R = m->emg_chunk_rows, C = (size_t)f->recordings[rec].info.n_channels;
    size_t cb = R * C * sizeof(float), cap = mbh5_codec_bound(cb);
    unsigned char *raw = malloc(FAST_BATCH * cap);   /* [FAST_BATCH x cap] stored chunks */
    unsigned char *scr = malloc(FAST_BATCH * cb);    /* [FAST_BATCH x cb] unshuffle space */
    size_t len[FAST_BATCH];
    uint32_t mask[FAST_BATCH];
    int rc = MB_OK;
    if (!raw || !scr)
        rc = mb_error(MB_ENOMEM, "'%s': out of memory", f->path);
    for (size_t b0 = c0; b0 < c1 && !rc; b0 += FAST_BATCH) {
        size_t k = c1 - b0 < FAST_BATCH ? c1 - b0 : FAST_BATCH;
        for (size_t j = 0; j < k && !rc; j++) {
            hsize_t off[2] = { (b0 + j) * R, 0 }, sz = 0;
            /* A chunk never written (fill values, in files from other
             * writers) or larger than expected: let HDF5 read the span. */
            if (H5Dget_chunk_storage_size(m->d_emg, off, &sz) < 0 || sz == 0 || sz > cap ||
                H5Dread_chunk(m->d_emg, H5P_DEFAULT, off, &mask[j], raw + j * cap) < 0)
                rc = 1;
            len[j] = (size_t)sz;
        }
        int bad = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(| : bad) if (!rc && k > 1)
        for (size_t j = 0; j < k; j++)
            if (!rc)
                bad |= mbh5_codec_decode((unsigned char *)(out + ((b0 + j) * R - start) * C), scr + j * cb,
                                         raw + j * cap, len[j], cb, sizeof(float),
                                         m->emg_shuffle && !(mask[j] & (1u << (m->emg_shuffle - 1))),
                                         m->emg_deflate && !(mask[j] & (1u << (m->emg_deflate - 1)))) != 0;
        if (!rc && bad)
            rc = mb_error(MB_EFORMAT, "'%s': /recordings/%s/emg: a chunk near sample %zu does not decode (corrupt)",
                          f->path, f->recordings[rec].id, b0 * R + 1);
    }
    free(raw);
    free(scr);
    return rc;
}

int mbh5_read_emg(struct mbh5_file *f, size_t rec, size_t start, size_t n, float *out)
{
    int rc = mbh5_impl_use_rec(f, rec);
    if (rc || (rc = check_span(f, rec, "emg", start, n, f->recordings[rec].n_samples)))
        return rc;
    struct mbh5_impl *m = f->impl;
    const char *id = f->recordings[rec].id;
    size_t R = m->emg_chunk_rows, C = (size_t)f->recordings[rec].info.n_channels;
    /* Long reads: the chunks wholly inside are decoded in parallel by us;
     * the partial ones at the ends go through HDF5 (and its cache). */
    size_t c0 = R ? (start + R - 1) / R : 0, c1 = R ? (start + n) / R : 0;
    if (!m->emg_fast || c1 < c0 + 4)
        return mbh5_h5_read_rows(out, m->d_emg, H5T_NATIVE_FLOAT, start, n, f->path, id);
    size_t a = c0 * R, b = c1 * R;
    if ((rc = read_emg_chunks(f, rec, c0, c1, start, out)) == 1)
        return mbh5_h5_read_rows(out, m->d_emg, H5T_NATIVE_FLOAT, start, n, f->path, id);
    if (rc ||
        (a > start && (rc = mbh5_h5_read_rows(out, m->d_emg, H5T_NATIVE_FLOAT, start, a - start, f->path, id))) ||
        (start + n > b &&
         (rc = mbh5_h5_read_rows(out + (b - start) * C, m->d_emg, H5T_NATIVE_FLOAT, b, start + n - b, f->path, id))))
        return rc;
    return MB_OK;
}

int mbh5_read_labels(struct mbh5_file *f, size_t rec, size_t start, size_t n, int32_t *labels, int32_t *reps)
{
    int rc = mbh5_impl_use_rec(f, rec);
    if (rc || (rc = check_span(f, rec, "labels", start, n, f->recordings[rec].n_samples)))
        return rc;
    struct mbh5_impl *m = f->impl;
    const char *id = f->recordings[rec].id;
    if (labels && (rc = mbh5_h5_read_rows(labels, m->d_lab, H5T_NATIVE_INT32, start, n, f->path, id)))
        return rc;
    if (reps) {
        if (m->d_rep > 0)
            return mbh5_h5_read_rows(reps, m->d_rep, H5T_NATIVE_INT32, start, n, f->path, id);
        for (size_t i = 0; i < n; i++)
            reps[i] = -1;
    }
    return MB_OK;
}

int mbh5_read_time(struct mbh5_file *f, size_t rec, size_t start, size_t n, double *out)
{
    int rc = mbh5_impl_use_rec(f, rec);
    if (rc || (rc = check_span(f, rec, "time", start, n, f->recordings[rec].n_samples)))
        return rc;
    struct mbh5_impl *m = f->impl;
    if (m->d_time < 0)
        return mb_error(MB_EINVAL, "'%s': /recordings/%s has no time stream", f->path, f->recordings[rec].id);
    return mbh5_h5_read_rows(out, m->d_time, H5T_NATIVE_DOUBLE, start, n, f->path, f->recordings[rec].id);
}

static int read_stream(struct mbh5_file *f, size_t rec, int stream, size_t start, size_t n, void *out,
                       hid_t mtype, uint8_t *valid)
{
    int rc = mbh5_impl_use_rec(f, rec);
    if (rc)
        return rc;
    const struct mbh5_recording *r = &f->recordings[rec];
    if (stream < 0 || (size_t)stream >= r->n_streams)
        return mb_error(MB_EINVAL, "'%s': /recordings/%s: no stream %d (%zu streams)", f->path, r->id, stream,
                        r->n_streams);
    const struct mbh5_stream *s = &r->streams[stream];
    if ((rc = check_span(f, rec, s->info.name, start, n, s->n_samples)))
        return rc;
    struct mbh5_impl *m = f->impl;
    if ((rc = mbh5_h5_read_rows(out, m->d_sdata[stream], mtype, start, n, f->path, r->id)))
        return rc;
    if (valid) {
        if (m->d_svalid[stream] > 0)
            return mbh5_h5_read_rows(valid, m->d_svalid[stream], H5T_NATIVE_UINT8, start, n, f->path, r->id);
        memset(valid, 1, n);
    }
    return MB_OK;
}

int mbh5_read_stream(struct mbh5_file *f, size_t rec, int stream, size_t start, size_t n, float *out, uint8_t *valid)
{
    return read_stream(f, rec, stream, start, n, out, H5T_NATIVE_FLOAT, valid);
}

int mbh5_read_stream_f64(struct mbh5_file *f, size_t rec, int stream, size_t start, size_t n, double *out,
                         uint8_t *valid)
{
    return read_stream(f, rec, stream, start, n, out, H5T_NATIVE_DOUBLE, valid);
}
