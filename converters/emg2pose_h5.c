/* converters/emg2pose_h5.c - one emg2pose session file (see emg2pose_h5.h). */
#include "converters/emg2pose_h5.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const conv_e2p_joint_names[CONV_E2P_JOINTS] = {
    "THUMB_CMC_FE", "THUMB_CMC_AA", "THUMB_MCP_FE", "THUMB_IP_FE",
    "INDEX_MCP_AA", "INDEX_MCP_FE", "INDEX_PIP_FE", "INDEX_DIP_FE",
    "MIDDLE_MCP_AA", "MIDDLE_MCP_FE", "MIDDLE_PIP_FE", "MIDDLE_DIP_FE",
    "RING_MCP_AA", "RING_MCP_FE", "RING_PIP_FE", "RING_DIP_FE",
    "PINKY_MCP_AA", "PINKY_MCP_FE", "PINKY_PIP_FE", "PINKY_DIP_FE",
};

#define MAX_EMG_CHANNELS 4096

/* Native record the file rows are converted into by H5Dread. */
#define OFF_TIME   0
#define OFF_JOINTS 8
#define OFF_EMG    (8 + 8 * CONV_E2P_JOINTS)

struct impl {
    hid_t file, group, dset, mtype;
    size_t rec_size;                 /* bytes of one native record */
    unsigned char *buf;              /* [cap x rec_size] */
    size_t cap;                      /* rows buf holds */
    char *strs[5];                   /* owned attribute strings */
};

static void impl_free(struct impl *m)
{
    if (m->mtype > 0) H5Tclose(m->mtype);
    if (m->dset > 0)  H5Dclose(m->dset);
    if (m->group > 0) H5Gclose(m->group);
    if (m->file > 0)  H5Fclose(m->file);
    for (int i = 0; i < 5; i++)
        free(m->strs[i]);
    free(m->buf);
    free(m);
}

void conv_e2p_close(struct conv_e2p_file *f)
{
    if (!f)
        return;
    if (f->impl)
        impl_free(f->impl);
    free((char *)f->path);
    free(f);
}

/* ---- attributes ---------------------------------------------------------- */

/* Opens attribute 'name' of the group if present: 1 found, 0 absent, <0 error. */
static int attr_open(hid_t *aid, const struct conv_e2p_file *f, hid_t g, const char *name)
{
    htri_t ex = H5Aexists(g, name);
    if (ex < 0)
        return mb_error(MB_EFORMAT, "'%s': cannot look up attribute 'emg2pose/%s'", f->path, name);
    if (!ex)
        return 0;
    *aid = H5Aopen(g, name, H5P_DEFAULT);
    if (*aid < 0)
        return mb_error(MB_EFORMAT, "'%s': cannot open attribute 'emg2pose/%s'", f->path, name);
    hid_t sp = H5Aget_space(*aid);
    hssize_t np = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    if (sp >= 0)
        H5Sclose(sp);
    if (np != 1) {
        H5Aclose(*aid);
        return mb_error(MB_EFORMAT, "'%s': attribute 'emg2pose/%s' holds %lld values, expected one",
                        f->path, name, (long long)np);
    }
    return 1;
}

static int attr_string(char **out, const struct conv_e2p_file *f, hid_t g, const char *name)
{
    hid_t aid;
    *out = NULL;
    int rc = attr_open(&aid, f, g, name);
    if (rc <= 0)
        return rc;
    hid_t ft = H5Aget_type(aid);
    if (ft < 0 || H5Tget_class(ft) != H5T_STRING) {
        if (ft >= 0)
            H5Tclose(ft);
        H5Aclose(aid);
        return mb_error(MB_EFORMAT, "'%s': attribute 'emg2pose/%s' is not a string", f->path, name);
    }
    hid_t mt = H5Tcopy(H5T_C_S1);
    rc = MB_OK;
    if (H5Tis_variable_str(ft) > 0) {
        char *s = NULL;
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(ft));
        if (H5Aread(aid, mt, &s) < 0)
            rc = mb_error(MB_EFORMAT, "'%s': cannot read attribute 'emg2pose/%s'", f->path, name);
        else if (!(*out = strdup(s ? s : "")))
            rc = mb_error(MB_ENOMEM, "out of memory reading '%s'", f->path);
        if (s)
            H5free_memory(s);
    } else {
        size_t n = H5Tget_size(ft);
        char *s = n < (1u << 20) ? calloc(n + 1, 1) : NULL;
        H5Tset_size(mt, n ? n : 1);
        H5Tset_strpad(mt, H5T_STR_NULLPAD);
        if (!s)
            rc = mb_error(MB_EFORMAT, "'%s': attribute 'emg2pose/%s' is a string of %zu bytes", f->path, name, n);
        else if (n && H5Aread(aid, mt, s) < 0)
            rc = mb_error(MB_EFORMAT, "'%s': cannot read attribute 'emg2pose/%s'", f->path, name);
        if (rc == MB_OK)
            *out = s;
        else
            free(s);
    }
    H5Tclose(mt);
    H5Tclose(ft);
    H5Aclose(aid);
    return rc;
}

static int attr_number(double *out, const struct conv_e2p_file *f, hid_t g, const char *name)
{
    hid_t aid;
    *out = NAN;
    int rc = attr_open(&aid, f, g, name);
    if (rc <= 0)
        return rc;
    hid_t ft = H5Aget_type(aid);
    H5T_class_t cl = ft < 0 ? H5T_NO_CLASS : H5Tget_class(ft);
    if (ft >= 0)
        H5Tclose(ft);
    rc = MB_OK;
    if (cl != H5T_INTEGER && cl != H5T_FLOAT)
        rc = mb_error(MB_EFORMAT, "'%s': attribute 'emg2pose/%s' is not a number", f->path, name);
    else if (H5Aread(aid, H5T_NATIVE_DOUBLE, out) < 0)
        rc = mb_error(MB_EFORMAT, "'%s': cannot read attribute 'emg2pose/%s'", f->path, name);
    H5Aclose(aid);
    return rc;
}

static int read_attrs(struct conv_e2p_file *f, struct impl *m)
{
    static const char *const names[5] = { "filename", "session", "side", "stage", "user" };
    const char **dst[5] = { &f->attrs.filename, &f->attrs.session, &f->attrs.side,
                            &f->attrs.stage, &f->attrs.user };
    for (int i = 0; i < 5; i++) {
        int rc = attr_string(&m->strs[i], f, m->group, names[i]);
        if (rc < 0)
            return rc;
        *dst[i] = m->strs[i];
    }
    double nc;
    int rc;
    if ((rc = attr_number(&f->attrs.start, f, m->group, "start")) < 0 ||
        (rc = attr_number(&f->attrs.end, f, m->group, "end")) < 0 ||
        (rc = attr_number(&f->attrs.sample_rate, f, m->group, "sample_rate")) < 0 ||
        (rc = attr_number(&nc, f, m->group, "num_channels")) < 0)
        return rc;
    f->attrs.num_channels = -1;
    if (!isnan(nc)) {
        if (!(nc >= 0 && nc <= 1e9 && nc == floor(nc)))
            return mb_error(MB_EFORMAT, "'%s': attribute 'emg2pose/num_channels' is %g, not a channel count",
                            f->path, nc);
        f->attrs.num_channels = (long long)nc;
    }
    return MB_OK;
}

/* ---- the compound type -------------------------------------------------- */

/* "time, joint_angles, emg" for messages; writes into buf. */
static void member_list(char *buf, size_t cap, hid_t t)
{
    int n = H5Tget_nmembers(t);
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len + 1 < cap; i++) {
        char *name = H5Tget_member_name(t, (unsigned)i);
        int w = snprintf(buf + len, cap - len, "%s'%s'", i ? ", " : "", name ? name : "?");
        if (name)
            H5free_memory(name);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    if (n <= 0)
        snprintf(buf, cap, "none");
}

/* Checks member 'name' of compound t: a scalar float (want_dim 0) or a
 * rank-1 array of numbers (want_dim > 0: exactly that length, -1: any).
 * Returns the array length (1 for scalars) and the element byte size and
 * class of the base type. */
static int check_member(int *len, size_t *esize, H5T_class_t *ecls,
                        const struct conv_e2p_file *f, hid_t t, const char *name, int want_dim)
{
    int idx = H5Tget_member_index(t, name);
    if (idx < 0) {
        char have[1024];
        member_list(have, sizeof have, t);
        return mb_error(MB_EFORMAT, "'%s': dataset 'emg2pose/timeseries' has no member '%s' (members: %s)",
                        f->path, name, have);
    }
    hid_t mt = H5Tget_member_type(t, (unsigned)idx);
    if (mt < 0)
        return mb_error(MB_EFORMAT, "'%s': cannot read the type of member '%s'", f->path, name);
    int rc = MB_OK;
    hid_t base = -1;
    H5T_class_t cl = H5Tget_class(mt);
    if (want_dim == 0) {
        if (cl != H5T_FLOAT && cl != H5T_INTEGER)
            rc = mb_error(MB_EFORMAT, "'%s': member '%s' of 'emg2pose/timeseries' is not a number",
                          f->path, name);
        base = H5Tcopy(mt);
        *len = 1;
    } else if (cl != H5T_ARRAY || H5Tget_array_ndims(mt) != 1) {
        rc = mb_error(MB_EFORMAT, "'%s': member '%s' of 'emg2pose/timeseries' is not a one-dimensional array",
                      f->path, name);
    } else {
        hsize_t d = 0;
        H5Tget_array_dims2(mt, &d);
        base = H5Tget_super(mt);
        H5T_class_t bc = base < 0 ? H5T_NO_CLASS : H5Tget_class(base);
        if (bc != H5T_FLOAT && bc != H5T_INTEGER)
            rc = mb_error(MB_EFORMAT, "'%s': member '%s' of 'emg2pose/timeseries' is an array of non-numbers",
                          f->path, name);
        else if (want_dim > 0 && d != (hsize_t)want_dim)
            rc = mb_error(MB_EFORMAT, "'%s': member '%s' of 'emg2pose/timeseries' has %llu values per row, "
                          "expected %d", f->path, name, (unsigned long long)d, want_dim);
        else if (d < 1 || d > MAX_EMG_CHANNELS)
            rc = mb_error(MB_EFORMAT, "'%s': member '%s' of 'emg2pose/timeseries' has %llu values per row",
                          f->path, name, (unsigned long long)d);
        else
            *len = (int)d;
    }
    if (rc == MB_OK) {
        *esize = H5Tget_size(base);
        *ecls = H5Tget_class(base);
    }
    if (base >= 0)
        H5Tclose(base);
    H5Tclose(mt);
    return rc;
}

static int build_memtype(struct impl *m, int n_emg)
{
    hsize_t dj = CONV_E2P_JOINTS, de = (hsize_t)n_emg;
    m->rec_size = OFF_EMG + sizeof(float) * (size_t)n_emg;
    hid_t aj = H5Tarray_create2(H5T_NATIVE_DOUBLE, 1, &dj);
    hid_t ae = H5Tarray_create2(H5T_NATIVE_FLOAT, 1, &de);
    m->mtype = H5Tcreate(H5T_COMPOUND, m->rec_size);
    int ok = aj >= 0 && ae >= 0 && m->mtype >= 0 &&
             H5Tinsert(m->mtype, "time", OFF_TIME, H5T_NATIVE_DOUBLE) >= 0 &&
             H5Tinsert(m->mtype, "joint_angles", OFF_JOINTS, aj) >= 0 &&
             H5Tinsert(m->mtype, "emg", OFF_EMG, ae) >= 0;
    if (aj >= 0) H5Tclose(aj);
    if (ae >= 0) H5Tclose(ae);
    return ok ? MB_OK : MB_EH5;
}

/* libhdf5 1.10.8 trusts the stored sizes when it copies raw data: a
 * compact or contiguous dataset whose storage is shorter than its rows, or
 * an unfiltered chunk shorter than the chunk, makes H5Dread read past its
 * own buffer (found by fuzzing). Checking the sizes first turns that into
 * an error at open. Filtered chunks are checked by the filter itself. */
static int check_storage(const struct conv_e2p_file *f, const struct impl *m, hid_t ft)
{
    const size_t tsize = H5Tget_size(ft);
    if (tsize == 0 || f->n_rows > SIZE_MAX / tsize)
        return mb_error(MB_EFORMAT, "'%s': 'emg2pose/timeseries' has %zu rows of %zu bytes", f->path,
                        f->n_rows, tsize);
    hid_t dcpl = H5Dget_create_plist(m->dset);
    if (dcpl < 0)
        return mb_error(MB_EFORMAT, "'%s': cannot read the storage layout of 'emg2pose/timeseries'", f->path);
    H5D_layout_t lay = H5Pget_layout(dcpl);
    int nfilters = H5Pget_nfilters(dcpl);
    hsize_t cdim = 0;
    if (lay == H5D_CHUNKED && H5Pget_chunk(dcpl, 1, &cdim) != 1)
        cdim = 0;
    H5Pclose(dcpl);
    int rc = MB_OK;
    if (nfilters > 0 && lay != H5D_CHUNKED)   /* H5Dread crashed on such a file (issue 12 fuzzing) */
        return mb_error(MB_EFORMAT, "'%s': 'emg2pose/timeseries' has a filter but %s storage (filters need chunks)",
                        f->path, lay == H5D_COMPACT ? "compact" : "contiguous");
    if (lay == H5D_COMPACT || lay == H5D_CONTIGUOUS) {
        hsize_t have = H5Dget_storage_size(m->dset);
        /* 0 is an unwritten contiguous dataset: HDF5 returns fill values.
         * Compact data is always stored, in the object header. */
        if ((have != 0 || lay == H5D_COMPACT) && have < (hsize_t)(f->n_rows * tsize))
            rc = mb_error(MB_EFORMAT, "'%s': 'emg2pose/timeseries' stores %llu bytes but %zu rows need %zu",
                          f->path, (unsigned long long)have, f->n_rows, f->n_rows * tsize);
    } else if (lay == H5D_CHUNKED && nfilters == 0) {
        if (cdim == 0 || cdim > SIZE_MAX / tsize)
            return mb_error(MB_EFORMAT, "'%s': 'emg2pose/timeseries' has a chunk of %llu rows", f->path,
                            (unsigned long long)cdim);
        /* Unfiltered chunks hold the rows as they are: rows that need more
         * bytes than the file has are a corrupt count, and the walk below
         * (one chunk-index walk per chunk) would take days on it. */
        struct stat sb;
        if (stat(f->path, &sb) != 0)
            return mb_error(MB_EIO, "cannot stat '%s': %s", f->path, strerror(errno));
        const hsize_t fsize = (hsize_t)sb.st_size;
        if ((hsize_t)f->n_rows * tsize > fsize)
            return mb_error(MB_EFORMAT, "'%s': 'emg2pose/timeseries' has %zu rows of %zu bytes unfiltered, more "
                            "than the file's %llu bytes", f->path, f->n_rows, tsize, (unsigned long long)fsize);
        for (hsize_t row = 0; rc == MB_OK && row < (hsize_t)f->n_rows; row += cdim) {
            hsize_t off = row, size = 0;
            haddr_t addr = HADDR_UNDEF;
            unsigned mask = 0;
            if (H5Dget_chunk_info_by_coord(m->dset, &off, &mask, &addr, &size) < 0)
                rc = mb_error(MB_EFORMAT, "'%s': cannot locate the chunk of sample %llu of 'emg2pose/timeseries'",
                              f->path, (unsigned long long)row + 1);
            else if (addr != HADDR_UNDEF && size != cdim * tsize)
                rc = mb_error(MB_EFORMAT, "'%s': the unfiltered chunk at sample %llu of 'emg2pose/timeseries' holds "
                              "%llu bytes, expected %llu", f->path, (unsigned long long)row + 1,
                              (unsigned long long)size, (unsigned long long)(cdim * tsize));
            /* byte 0 is the superblock: H5Dread overflowed a heap buffer on a chunk there */
            else if (addr != HADDR_UNDEF && (addr == 0 || addr > fsize || size > fsize - addr))
                rc = mb_error(MB_EFORMAT, "'%s': the unfiltered chunk at row %llu of 'emg2pose/timeseries' lies at "
                              "byte %llu, outside the file's data (%llu bytes)", f->path, (unsigned long long)row,
                              (unsigned long long)addr, (unsigned long long)fsize);
        }
    }
    return rc;
}

static int open_structure(struct conv_e2p_file *f, struct impl *m)
{
    const char *p = f->path;
    if (access(p, R_OK) != 0)
        return mb_error(MB_EIO, "cannot open '%s': %s", p, strerror(errno));
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    /* Closing the file then closes everything opened from it. */
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    m->file = H5Fopen(p, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (m->file < 0)
        return mb_error(MB_EIO, "cannot open '%s' as HDF5: not an HDF5 file, or truncated or corrupt", p);
    htri_t ex = H5Lexists(m->file, "emg2pose", H5P_DEFAULT);
    if (ex <= 0 || (m->group = H5Gopen2(m->file, "emg2pose", H5P_DEFAULT)) < 0)
        return mb_error(MB_EFORMAT, "'%s': no group 'emg2pose' (not an emg2pose file)", p);
    ex = H5Lexists(m->group, "timeseries", H5P_DEFAULT);
    if (ex <= 0 || (m->dset = H5Dopen2(m->group, "timeseries", H5P_DEFAULT)) < 0)
        return mb_error(MB_EFORMAT, "'%s': no dataset 'emg2pose/timeseries'", p);

    hid_t sp = H5Dget_space(m->dset);
    int rank = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    hsize_t dims[1] = {0};
    if (rank == 1)
        H5Sget_simple_extent_dims(sp, dims, NULL);
    if (sp >= 0)
        H5Sclose(sp);
    if (rank != 1)
        return mb_error(MB_EFORMAT, "'%s': dataset 'emg2pose/timeseries' has rank %d, expected 1", p, rank);
    f->n_rows = (size_t)dims[0];

    hid_t ft = H5Dget_type(m->dset);
    if (ft < 0)
        return mb_error(MB_EFORMAT, "'%s': cannot read the type of 'emg2pose/timeseries'", p);
    int rc = MB_OK, len;
    size_t es;
    H5T_class_t ec;
    if (H5Tget_class(ft) != H5T_COMPOUND)
        rc = mb_error(MB_EFORMAT, "'%s': dataset 'emg2pose/timeseries' is not a compound type", p);
    if (rc == MB_OK)
        rc = check_member(&len, &es, &ec, f, ft, "emg", -1);
    if (rc == MB_OK) {
        f->n_emg = len;
        f->emg_f64 = ec == H5T_FLOAT && es == 8;
        rc = check_member(&len, &es, &ec, f, ft, "time", 0);
    }
    if (rc == MB_OK)
        rc = check_member(&len, &es, &ec, f, ft, "joint_angles", CONV_E2P_JOINTS);
    if (rc == MB_OK)
        f->joints_f64 = ec == H5T_FLOAT && es == 8;
    if (rc == MB_OK)
        rc = check_storage(f, m, ft);
    H5Tclose(ft);
    if (rc == MB_OK && build_memtype(m, f->n_emg) != MB_OK)
        rc = mb_error(MB_EH5, "'%s': cannot build the memory type for 'emg2pose/timeseries'", p);
    return rc;
}

int conv_e2p_open(struct conv_e2p_file **out, const char *path)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    *out = NULL;
    struct conv_e2p_file *f = calloc(1, sizeof *f);
    struct impl *m = calloc(1, sizeof *m);
    char *p = strdup(path);
    if (!f || !m || !p) {
        free(f);
        free(m);
        free(p);
        return mb_error(MB_ENOMEM, "out of memory opening '%s'", path);
    }
    m->file = m->group = m->dset = m->mtype = -1;
    f->path = p;
    f->impl = m;
    int rc = open_structure(f, m);
    if (rc == MB_OK)
        rc = read_attrs(f, m);
    if (rc != MB_OK) {
        conv_e2p_close(f);
        return rc;
    }
    *out = f;
    return MB_OK;
}

/* ---- rows ---------------------------------------------------------------- */

int conv_e2p_read(struct conv_e2p_file *f, size_t start, size_t n,
                  double *time, double *joints, float *emg)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    struct impl *m = f->impl;
    if (start > f->n_rows || n > f->n_rows - start)
        return mb_error(MB_EINVAL, "'%s': rows %zu..%zu are outside the %zu rows of 'emg2pose/timeseries'",
                        f->path, start, start + n, f->n_rows);
    if (n == 0)
        return MB_OK;
    if (n > m->cap) {
        if (n > SIZE_MAX / m->rec_size)
            return mb_error(MB_ENOMEM, "'%s': %zu rows do not fit in memory", f->path, n);
        unsigned char *b = realloc(m->buf, n * m->rec_size);
        if (!b)
            return mb_error(MB_ENOMEM, "out of memory reading '%s'", f->path);
        m->buf = b;
        m->cap = n;
    }
    hsize_t off = start, cnt = n;
    hid_t fs = H5Dget_space(m->dset);
    hid_t ms = H5Screate_simple(1, &cnt, NULL);
    herr_t st = (fs < 0 || ms < 0) ? -1 : H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &cnt, NULL);
    if (st >= 0)
        st = H5Dread(m->dset, m->mtype, ms, fs, H5P_DEFAULT, m->buf);
    if (fs >= 0) H5Sclose(fs);
    if (ms >= 0) H5Sclose(ms);
    if (st < 0)
        return mb_error(MB_EH5, "'%s': cannot read samples %zu..%zu of 'emg2pose/timeseries' (corrupt or truncated "
                        "data)", f->path, start + 1, start + n);
    const size_t C = (size_t)f->n_emg;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *r = m->buf + i * m->rec_size;
        if (time)
            memcpy(&time[i], r + OFF_TIME, sizeof(double));
        if (joints)
            memcpy(&joints[i * CONV_E2P_JOINTS], r + OFF_JOINTS, CONV_E2P_JOINTS * sizeof(double));
        if (emg)
            memcpy(&emg[i * C], r + OFF_EMG, C * sizeof(float));
    }
    return MB_OK;
}

int conv_e2p_is_emg2pose(const char *path)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (access(path, R_OK) != 0 || H5Fis_hdf5(path) <= 0)
        return 0;
    hid_t fid = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (fid < 0)
        return 0;
    int yes = 0;
    if (H5Lexists(fid, "emg2pose", H5P_DEFAULT) > 0) {
        hid_t g = H5Gopen2(fid, "emg2pose", H5P_DEFAULT);
        yes = g >= 0;
        if (g >= 0)
            H5Gclose(g);
    }
    H5Fclose(fid);
    return yes;
}

/* ---- writer of the source layout ---------------------------------------- */

static herr_t put_str_attr(hid_t g, const char *name, const char *v)
{
    if (!v)
        return 0;
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = a < 0 ? -1 : H5Awrite(a, t, &v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return st;
}

static herr_t put_num_attr(hid_t g, const char *name, hid_t ftype, hid_t mtype, const void *v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(g, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = a < 0 ? -1 : H5Awrite(a, mtype, v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return st;
}

static herr_t put_attrs(hid_t g, const struct conv_e2p_attrs *a)
{
    herr_t st = 0;
    /* Alphabetical, as h5dump shows the official file. */
    if (!isnan(a->end))
        st |= put_num_attr(g, "end", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &a->end);
    st |= put_str_attr(g, "filename", a->filename);
    if (a->num_channels >= 0)
        st |= put_num_attr(g, "num_channels", H5T_STD_I64LE, H5T_NATIVE_LLONG, &a->num_channels);
    if (!isnan(a->sample_rate))
        st |= put_num_attr(g, "sample_rate", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &a->sample_rate);
    st |= put_str_attr(g, "session", a->session);
    st |= put_str_attr(g, "side", a->side);
    st |= put_str_attr(g, "stage", a->stage);
    if (!isnan(a->start))
        st |= put_num_attr(g, "start", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &a->start);
    st |= put_str_attr(g, "user", a->user);
    return st < 0 ? -1 : 0;
}

/* File compound: packed, in the official member order. */
static hid_t file_type(const struct conv_e2p_spec *s)
{
    hsize_t dj = CONV_E2P_JOINTS, de = (hsize_t)s->n_emg;
    hid_t jt = s->joints_f32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
    size_t js = s->joints_f32 ? 4 : 8;
    size_t size = 8 + CONV_E2P_JOINTS * js + (s->omit_emg ? 0 : 4 * (size_t)s->n_emg);
    hid_t aj = H5Tarray_create2(jt, 1, &dj);
    hid_t ae = H5Tarray_create2(H5T_IEEE_F32LE, 1, &de);
    hid_t t = H5Tcreate(H5T_COMPOUND, size);
    H5Tinsert(t, "time", 0, H5T_IEEE_F64LE);
    H5Tinsert(t, "joint_angles", 8, aj);
    if (!s->omit_emg)
        H5Tinsert(t, "emg", 8 + CONV_E2P_JOINTS * js, ae);
    H5Tclose(aj);
    H5Tclose(ae);
    return t;
}

int conv_e2p_write(const char *path, const struct conv_e2p_spec *s)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (s->n_emg < 1 || s->n_emg > MAX_EMG_CHANNELS)
        return mb_error(MB_EINVAL, "'%s': %d EMG channels", path, s->n_emg);
    struct impl m = { .file = -1, .group = -1, .dset = -1, .mtype = -1 };
    if (build_memtype(&m, s->n_emg) != MB_OK)
        return mb_error(MB_EH5, "'%s': cannot build the record type", path);
    /* The native record without 'emg' when the file has none: H5Dwrite
     * matches members by name, so write through a type that lacks it. */
    hid_t wtype = m.mtype;
    if (s->omit_emg) {
        hsize_t dj = CONV_E2P_JOINTS;
        hid_t aj = H5Tarray_create2(H5T_NATIVE_DOUBLE, 1, &dj);
        wtype = H5Tcreate(H5T_COMPOUND, m.rec_size);
        H5Tinsert(wtype, "time", OFF_TIME, H5T_NATIVE_DOUBLE);
        H5Tinsert(wtype, "joint_angles", OFF_JOINTS, aj);
        H5Tclose(aj);
    }
    const size_t C = (size_t)s->n_emg;
    unsigned char *buf = malloc(s->n_rows ? s->n_rows * m.rec_size : 1);
    if (!buf) {
        if (wtype != m.mtype) H5Tclose(wtype);
        H5Tclose(m.mtype);
        return mb_error(MB_ENOMEM, "out of memory writing '%s'", path);
    }
    for (size_t i = 0; i < s->n_rows; i++) {
        unsigned char *r = buf + i * m.rec_size;
        memcpy(r + OFF_TIME, &s->time[i], sizeof(double));
        memcpy(r + OFF_JOINTS, &s->joints[i * CONV_E2P_JOINTS], CONV_E2P_JOINTS * sizeof(double));
        memcpy(r + OFF_EMG, &s->emg[i * C], C * sizeof(float));
    }
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(gcpl, 0);
    H5Pset_obj_track_times(dcpl, 0);
    hsize_t n = s->n_rows, maxn = s->chunk_rows ? H5S_UNLIMITED : n, ch = s->chunk_rows;
    if (s->chunk_rows) {
        H5Pset_chunk(dcpl, 1, &ch);
        if (s->gzip)
            H5Pset_deflate(dcpl, (unsigned)s->gzip);
    }
    hid_t ft = file_type(s);
    hid_t sp = H5Screate_simple(1, &n, &maxn);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    hid_t g = f < 0 ? -1 : H5Gcreate2(f, "emg2pose", H5P_DEFAULT, gcpl, H5P_DEFAULT);
    hid_t d = g < 0 ? -1 : H5Dcreate2(g, "timeseries", ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    herr_t st = d < 0 ? -1 : 0;
    if (st >= 0 && n)
        st = H5Dwrite(d, wtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (st >= 0)
        st = put_attrs(g, &s->attrs);
    if (d >= 0) H5Dclose(d);
    if (g >= 0) H5Gclose(g);
    if (f >= 0 && H5Fclose(f) < 0)
        st = -1;
    H5Sclose(sp);
    H5Tclose(ft);
    H5Pclose(fcpl);
    H5Pclose(gcpl);
    H5Pclose(dcpl);
    if (wtype != m.mtype)
        H5Tclose(wtype);
    H5Tclose(m.mtype);
    free(buf);
    if (f < 0 || st < 0)
        return mb_error(MB_EH5, "cannot write the emg2pose file '%s'", path);
    return MB_OK;
}
