/* format/mbh5_h5.c - HDF5 plumbing of the unified format (see mbh5_h5.h). */
#include <stdlib.h>
#include <string.h>

#include "format/mbh5.h"
#include "format/mbh5_h5.h"

size_t mbh5_h5_chunk_rows(size_t row_bytes)
{
    size_t rows = MBH5_CHUNK_BYTES / (row_bytes ? row_bytes : 1);
    return rows < MBH5_CHUNK_MIN_ROWS ? MBH5_CHUNK_MIN_ROWS : rows;
}

void mbh5_h5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

hid_t mbh5_h5_str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return t;
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

hid_t mbh5_h5_gcpl(int track_order)
{
    hid_t p = H5Pcreate(H5P_GROUP_CREATE);
    if (p < 0)
        return p;
    H5Pset_obj_track_times(p, 0);
    if (track_order)
        H5Pset_link_creation_order(p, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    return p;
}

hid_t mbh5_h5_dcpl_plain(void)
{
    hid_t p = H5Pcreate(H5P_DATASET_CREATE);
    if (p < 0)
        return p;
    H5Pset_obj_track_times(p, 0);
    return p;
}

hid_t mbh5_h5_dcpl_chunked(size_t rows, size_t width, size_t elem_size, int compress)
{
    hid_t p = H5Pcreate(H5P_DATASET_CREATE);
    if (p < 0)
        return p;
    hsize_t chunk[2] = { rows, width };
    if (H5Pset_obj_track_times(p, 0) < 0 || H5Pset_chunk(p, width ? 2 : 1, chunk) < 0 ||
        (compress && elem_size > 1 && H5Pset_shuffle(p) < 0) ||
        (compress && H5Pset_deflate(p, MBH5_DEFLATE_LEVEL) < 0)) {
        H5Pclose(p);
        return -1;
    }
    /* Fill at allocation makes the unused tail of the last chunk zeros
     * instead of whatever a chunk buffer held: same input, same bytes. */
    H5Pset_fill_time(p, H5D_FILL_TIME_ALLOC);
    return p;
}

hid_t mbh5_h5_seg_ftype(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, 24);
    if (t < 0)
        return t;
    H5Tinsert(t, "start", 0, H5T_STD_I64LE);
    H5Tinsert(t, "end", 8, H5T_STD_I64LE);
    H5Tinsert(t, "gesture", 16, H5T_STD_I32LE);
    H5Tinsert(t, "repetition", 20, H5T_STD_I32LE);
    return t;
}

hid_t mbh5_h5_seg_mtype(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(struct mbh5_segment));
    if (t < 0)
        return t;
    H5Tinsert(t, "start", offsetof(struct mbh5_segment, start), H5T_NATIVE_INT64);
    H5Tinsert(t, "end", offsetof(struct mbh5_segment, end), H5T_NATIVE_INT64);
    H5Tinsert(t, "gesture", offsetof(struct mbh5_segment, gesture), H5T_NATIVE_INT32);
    H5Tinsert(t, "repetition", offsetof(struct mbh5_segment, repetition), H5T_NATIVE_INT32);
    return t;
}

/* ---- writing ----------------------------------------------------------- */

static int put_attr(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *val,
                    const char *file, const char *obj)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = sp < 0 ? -1 : H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = a < 0 ? -1 : H5Awrite(a, mtype, val);
    if (a >= 0)
        H5Aclose(a);
    if (sp >= 0)
        H5Sclose(sp);
    if (st < 0)
        return mb_error(MB_EH5, "'%s': %s: cannot write attribute '%s'", file, obj, name);
    return MB_OK;
}

int mbh5_h5_put_str(hid_t loc, const char *name, const char *val, const char *file, const char *obj)
{
    hid_t t = mbh5_h5_str_type();
    if (t < 0)
        return mb_error(MB_EH5, "'%s': cannot make a string type", file);
    const char *v = val ? val : "";
    int rc = put_attr(loc, name, t, t, &v, file, obj);
    H5Tclose(t);
    return rc;
}

int mbh5_h5_put_i32(hid_t loc, const char *name, int32_t val, const char *file, const char *obj)
{
    return put_attr(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &val, file, obj);
}

int mbh5_h5_put_i64(hid_t loc, const char *name, int64_t val, const char *file, const char *obj)
{
    return put_attr(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &val, file, obj);
}

int mbh5_h5_put_f64(hid_t loc, const char *name, double val, const char *file, const char *obj)
{
    return put_attr(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &val, file, obj);
}

int mbh5_h5_write_1d(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v, size_t n,
                     const char *file, const char *obj)
{
    hsize_t dims[1] = { n };
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t pl = mbh5_h5_dcpl_plain();
    hid_t d = (sp < 0 || pl < 0) ? -1 : H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    herr_t st = d < 0 ? -1 : (n ? H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) : 0);
    if (d >= 0)
        H5Dclose(d);
    if (pl >= 0)
        H5Pclose(pl);
    if (sp >= 0)
        H5Sclose(sp);
    if (st < 0)
        return mb_error(MB_EH5, "'%s': cannot write dataset '%s/%s'", file, obj, name);
    return MB_OK;
}

int mbh5_h5_write_strs(hid_t loc, const char *name, const char *const *v, size_t n,
                       const char *file, const char *obj)
{
    hid_t t = mbh5_h5_str_type();
    if (t < 0)
        return mb_error(MB_EH5, "'%s': cannot make a string type", file);
    int rc = mbh5_h5_write_1d(loc, name, t, t, v, n, file, obj);
    H5Tclose(t);
    return rc;
}

/* ---- reading ------------------------------------------------------------ */

int mbh5_h5_exists(hid_t loc, const char *name)
{
    return H5Lexists(loc, name, H5P_DEFAULT) > 0 && H5Oexists_by_name(loc, name, H5P_DEFAULT) > 0;
}

static int open_attr(hid_t *out, hid_t loc, const char *name, H5T_class_t want,
                     const char *file, const char *obj)
{
    *out = -1;
    if (H5Aexists(loc, name) <= 0)
        return mb_error(MB_EFORMAT, "'%s': %s: attribute '%s' is missing", file, obj, name);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0)
        return mb_error(MB_EH5, "'%s': %s: cannot open attribute '%s'", file, obj, name);
    hid_t t = H5Aget_type(a);
    hid_t sp = H5Aget_space(a);
    H5T_class_t cls = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
    hssize_t np = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    /* Integers are accepted where a number is expected (h5py writes 50 for 50.0). */
    if (np != 1 || !(cls == want || (want == H5T_FLOAT && cls == H5T_INTEGER))) {
        H5Aclose(a);
        return mb_error(MB_EFORMAT, "'%s': %s: attribute '%s' is not a single %s", file, obj, name,
                        want == H5T_STRING ? "string" : want == H5T_FLOAT ? "number" : "integer");
    }
    *out = a;
    return MB_OK;
}

int mbh5_h5_get_str(char **out, hid_t loc, const char *name, const char *file, const char *obj)
{
    *out = NULL;
    hid_t a;
    int rc = open_attr(&a, loc, name, H5T_STRING, file, obj);
    if (rc)
        return rc;
    hid_t ft = H5Aget_type(a);
    if (H5Tis_variable_str(ft) > 0) {
        hid_t mt = mbh5_h5_str_type();
        char *s = NULL;
        if (H5Aread(a, mt, &s) < 0) {
            rc = mb_error(MB_EH5, "'%s': %s: cannot read attribute '%s'", file, obj, name);
        } else {
            *out = strdup(s ? s : "");
            hid_t sp = H5Screate(H5S_SCALAR);
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, &s);
            H5Sclose(sp);
        }
        H5Tclose(mt);
    } else {
        size_t len = H5Tget_size(ft);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, len + 1);
        char *s = calloc(len + 2, 1);
        if (!s)
            rc = mb_error(MB_ENOMEM, "'%s': %s: out of memory", file, obj);
        else if (H5Aread(a, mt, s) < 0) {
            free(s);
            rc = mb_error(MB_EH5, "'%s': %s: cannot read attribute '%s'", file, obj, name);
        } else
            *out = s;
        H5Tclose(mt);
    }
    H5Tclose(ft);
    H5Aclose(a);
    if (rc == MB_OK && !*out)
        rc = mb_error(MB_ENOMEM, "'%s': %s: out of memory", file, obj);
    return rc;
}

static int get_num(void *out, hid_t mtype, H5T_class_t want, hid_t loc, const char *name,
                   const char *file, const char *obj)
{
    hid_t a;
    int rc = open_attr(&a, loc, name, want, file, obj);
    if (rc)
        return rc;
    herr_t st = H5Aread(a, mtype, out);
    H5Aclose(a);
    if (st < 0)
        return mb_error(MB_EH5, "'%s': %s: cannot read attribute '%s'", file, obj, name);
    return MB_OK;
}

int mbh5_h5_get_i64(int64_t *out, hid_t loc, const char *name, const char *file, const char *obj)
{
    return get_num(out, H5T_NATIVE_INT64, H5T_INTEGER, loc, name, file, obj);
}

int mbh5_h5_get_f64(double *out, hid_t loc, const char *name, const char *file, const char *obj)
{
    return get_num(out, H5T_NATIVE_DOUBLE, H5T_FLOAT, loc, name, file, obj);
}

int mbh5_h5_get_int(int *out, hid_t loc, const char *name, const char *file, const char *obj)
{
    int64_t v;
    int rc = mbh5_h5_get_i64(&v, loc, name, file, obj);
    if (rc)
        return rc;
    if (v < INT32_MIN || v > INT32_MAX)
        return mb_error(MB_EFORMAT, "'%s': %s: attribute '%s' out of range (%lld)", file, obj, name,
                        (long long)v);
    *out = (int)v;
    return MB_OK;
}

int mbh5_h5_shape(int *rank, uint64_t dims[2], hid_t loc, const char *name,
                  const char *file, const char *obj)
{
    if (!mbh5_h5_exists(loc, name))
        return mb_error(MB_EFORMAT, "'%s': %s: dataset '%s' is missing", file, obj, name);
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0)
        return mb_error(MB_EH5, "'%s': %s: cannot open dataset '%s'", file, obj, name);
    hid_t sp = H5Dget_space(d);
    hsize_t hd[H5S_MAX_RANK];
    int r = sp < 0 ? -1 : H5Sget_simple_extent_dims(sp, hd, NULL);
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(d);
    if (r < 0)
        return mb_error(MB_EH5, "'%s': %s: cannot read the shape of '%s'", file, obj, name);
    if (r < 1 || r > 2)
        return mb_error(MB_EFORMAT, "'%s': %s: dataset '%s' has rank %d, expected 1 or 2", file, obj, name, r);
    *rank = r;
    dims[0] = hd[0];
    dims[1] = r == 2 ? hd[1] : 0;
    return MB_OK;
}

int mbh5_h5_read_rows(void *out, hid_t dset, hid_t mtype, uint64_t start, uint64_t n,
                      const char *file, const char *obj)
{
    if (n == 0)
        return MB_OK;
    hid_t fs = H5Dget_space(dset);
    hsize_t dims[2] = { 0, 0 };
    int r = fs < 0 ? -1 : H5Sget_simple_extent_dims(fs, dims, NULL);
    herr_t st = -1;
    if (r >= 1 && r <= 2 && start + n <= dims[0]) {
        hsize_t off[2] = { start, 0 }, cnt[2] = { n, r == 2 ? dims[1] : 1 };
        hid_t ms = H5Screate_simple(r, cnt, NULL);
        if (ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL) >= 0)
            st = H5Dread(dset, mtype, ms, fs, H5P_DEFAULT, out);
        if (ms >= 0)
            H5Sclose(ms);
    } else if (r >= 1) {
        if (fs >= 0)
            H5Sclose(fs);
        return mb_error(MB_EINVAL, "'%s': %s: rows [%llu, %llu) outside [0, %llu)", file, obj,
                        (unsigned long long)start, (unsigned long long)(start + n),
                        (unsigned long long)dims[0]);
    }
    if (fs >= 0)
        H5Sclose(fs);
    if (st < 0)
        return mb_error(MB_EH5, "'%s': %s: cannot read rows [%llu, %llu)", file, obj,
                        (unsigned long long)start, (unsigned long long)(start + n));
    return MB_OK;
}

int mbh5_h5_read_1d(void *out, hid_t loc, const char *name, hid_t mtype, size_t n,
                    const char *file, const char *obj)
{
    int rank;
    uint64_t dims[2];
    int rc = mbh5_h5_shape(&rank, dims, loc, name, file, obj);
    if (rc)
        return rc;
    if (rank != 1 || dims[0] != n)
        return mb_error(MB_EFORMAT, "'%s': %s/%s: expected %zu entries, found %s%llu", file, obj, name, n,
                        rank != 1 ? "a matrix of " : "", (unsigned long long)dims[0]);
    if (n == 0)
        return MB_OK;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    herr_t st = d < 0 ? -1 : H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
    if (d >= 0)
        H5Dclose(d);
    if (st < 0)
        return mb_error(MB_EH5, "'%s': cannot read dataset '%s/%s'", file, obj, name);
    return MB_OK;
}

void mbh5_h5_free_strs(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int mbh5_h5_read_strs(char ***out, hid_t loc, const char *name, size_t n,
                      const char *file, const char *obj)
{
    *out = NULL;
    int rank;
    uint64_t dims[2];
    int rc = mbh5_h5_shape(&rank, dims, loc, name, file, obj);
    if (rc)
        return rc;
    if (rank != 1 || dims[0] != n)
        return mb_error(MB_EFORMAT, "'%s': %s/%s: expected %zu strings, found %llu", file, obj, name, n,
                        (unsigned long long)dims[0]);
    char **v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return mb_error(MB_ENOMEM, "'%s': %s/%s: out of memory", file, obj, name);
    if (n == 0) {
        *out = v;
        return MB_OK;
    }
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    hid_t ft = d < 0 ? -1 : H5Dget_type(d);
    if (ft < 0 || H5Tget_class(ft) != H5T_STRING) {
        if (ft >= 0)
            H5Tclose(ft);
        if (d >= 0)
            H5Dclose(d);
        free(v);
        return mb_error(MB_EFORMAT, "'%s': %s/%s: not a string dataset", file, obj, name);
    }
    rc = MB_OK;
    if (H5Tis_variable_str(ft) > 0) {
        hid_t mt = mbh5_h5_str_type();
        char **raw = calloc(n, sizeof *raw);
        if (!raw)
            rc = mb_error(MB_ENOMEM, "'%s': %s/%s: out of memory", file, obj, name);
        else if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0)
            rc = mb_error(MB_EH5, "'%s': cannot read dataset '%s/%s'", file, obj, name);
        else {
            for (size_t i = 0; i < n && rc == MB_OK; i++)
                if (!(v[i] = strdup(raw[i] ? raw[i] : "")))
                    rc = mb_error(MB_ENOMEM, "'%s': %s/%s: out of memory", file, obj, name);
            hid_t sp = H5Dget_space(d);
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, raw);
            H5Sclose(sp);
        }
        free(raw);
        H5Tclose(mt);
    } else {
        size_t len = H5Tget_size(ft);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, len + 1);
        char *buf = calloc(n, len + 1);
        if (!buf)
            rc = mb_error(MB_ENOMEM, "'%s': %s/%s: out of memory", file, obj, name);
        else if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
            rc = mb_error(MB_EH5, "'%s': cannot read dataset '%s/%s'", file, obj, name);
        else
            for (size_t i = 0; i < n && rc == MB_OK; i++)
                if (!(v[i] = strndup(buf + i * (len + 1), len)))
                    rc = mb_error(MB_ENOMEM, "'%s': %s/%s: out of memory", file, obj, name);
        free(buf);
        H5Tclose(mt);
    }
    H5Tclose(ft);
    H5Dclose(d);
    if (rc) {
        mbh5_h5_free_strs(v, n);
        return rc;
    }
    *out = v;
    return MB_OK;
}
