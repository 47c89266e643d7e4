/* synth/write_e2p.c - emg2pose HDF5 files and metadata.csv, laid out
 * exactly like the official test asset (formats.md §2.2-§2.5). */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/fs.h"
#include "synth/internal.h"
#include "synth/write.h"

static int set_attr_str(hid_t loc, const char *name, const char *value, const char *path)
{
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), a = -1;
    int rc = MB_OK;
    if (t < 0 || sp < 0 || H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0 ||
        H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
        (a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Awrite(a, t, &value) < 0)
        rc = mb_error(MB_EH5, "'%s': cannot write attribute 'emg2pose/%s'", path, name);
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    return rc;
}

static int set_attr_num(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v, const char *path)
{
    hid_t sp = H5Screate(H5S_SCALAR), a = -1;
    int rc = MB_OK;
    if (sp < 0 || (a = H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 || H5Awrite(a, mtype, v) < 0)
        rc = mb_error(MB_EH5, "'%s': cannot write attribute 'emg2pose/%s'", path, name);
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    return rc;
}

/* The stem: file name without directory and ".hdf5". */
static void stem_of(char *out, size_t cap, const char *relpath)
{
    const char *b = strrchr(relpath, '/');
    b = b ? b + 1 : relpath;
    snprintf(out, cap, "%s", b);
    char *dot = strstr(out, ".hdf5");
    if (dot)
        *dot = '\0';
}

int synth_write_e2p(const char *path, const struct synth_recording *r, int f32)
{
    char tmp[4096];
    int rc = mb_fs_tmpname(tmp, sizeof tmp, path);
    if (rc != MB_OK)
        return rc;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const size_t n = r->n;
    const size_t ja = f32 ? 4 : 8;
    const size_t rec = 8 + 20 * ja + 16 * 4;   /* 232 bytes (f8) or 152 (f4) */
    const size_t off_ja = 8, off_emg = 8 + 20 * ja;
    unsigned char *buf = malloc((n ? n : 1) * rec);   /* [n x rec] packed records, little-endian */
    if (!buf)
        return mb_error(MB_ENOMEM, "'%s': out of memory (%zu rows)", path, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char *row = buf + i * rec;
        memcpy(row, &r->time[i], 8);
        for (int j = 0; j < 20; j++) {
            if (f32) {
                float v = (float)r->pose[i * 20 + j];
                memcpy(row + off_ja + 4 * (size_t)j, &v, 4);
            } else {
                memcpy(row + off_ja + 8 * (size_t)j, &r->pose[i * 20 + j], 8);
            }
        }
        for (int c = 0; c < 16; c++) {
            float v = (float)r->emg[i * 16 + c];
            memcpy(row + off_emg + 4 * (size_t)c, &v, 4);
        }
    }
    hid_t f = -1, g = -1, d = -1, sp = -1, ct = -1, jt = -1, et = -1, gcpl = -1, dcpl = -1;
    hsize_t dims[1] = { n }, adims[1];
    f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        free(buf);
        return mb_error(MB_EH5, "'%s': cannot create HDF5 file", tmp);
    }
    /* No object time stamps: the same inputs give the same bytes. */
    gcpl = H5Pcreate(H5P_GROUP_CREATE);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (gcpl < 0 || dcpl < 0 || H5Pset_obj_track_times(gcpl, 0) < 0 || H5Pset_obj_track_times(dcpl, 0) < 0)
        rc = mb_error(MB_EH5, "'%s': cannot set up property lists", path);
    if (rc == MB_OK && f32) {
        hsize_t chunk[1] = { n < 4000 ? (n ? n : 1) : 4000 };
        if (H5Pset_chunk(dcpl, 1, chunk) < 0 || H5Pset_deflate(dcpl, 4) < 0)
            rc = mb_error(MB_EH5, "'%s': cannot set chunked gzip storage", path);
    }
    if (rc == MB_OK) {
        g = H5Gcreate2(f, "emg2pose", H5P_DEFAULT, gcpl, H5P_DEFAULT);
        if (g < 0)
            rc = mb_error(MB_EH5, "'%s': cannot create group 'emg2pose'", path);
    }
    if (rc == MB_OK) {
        adims[0] = 20;
        jt = H5Tarray_create2(f32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE, 1, adims);
        adims[0] = 16;
        et = H5Tarray_create2(H5T_IEEE_F32LE, 1, adims);
        ct = H5Tcreate(H5T_COMPOUND, rec);
        if (jt < 0 || et < 0 || ct < 0 || H5Tinsert(ct, "time", 0, H5T_IEEE_F64LE) < 0 ||
            H5Tinsert(ct, "joint_angles", off_ja, jt) < 0 || H5Tinsert(ct, "emg", off_emg, et) < 0)
            rc = mb_error(MB_EH5, "'%s': cannot build the compound type of 'emg2pose/timeseries'", path);
    }
    if (rc == MB_OK) {
        sp = H5Screate_simple(1, dims, NULL);
        d = sp < 0 ? -1 : H5Dcreate2(g, "timeseries", ct, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        if (d < 0 || (n && H5Dwrite(d, ct, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0))
            rc = mb_error(MB_EH5, "'%s': cannot write dataset 'emg2pose/timeseries'", path);
    }
    if (rc == MB_OK) {
        char stem[256];
        stem_of(stem, sizeof stem, r->file.relpath);
        int64_t nc = 16;
        double rate = 2000.0;
        /* h5dump lists attributes sorted by name; written in that order too. */
        rc = set_attr_num(g, "end", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &r->end, path);
        if (rc == MB_OK) rc = set_attr_str(g, "filename", stem, path);
        if (rc == MB_OK) rc = set_attr_num(g, "num_channels", H5T_STD_I64LE, H5T_NATIVE_INT64, &nc, path);
        if (rc == MB_OK) rc = set_attr_num(g, "sample_rate", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &rate, path);
        if (rc == MB_OK) rc = set_attr_str(g, "session", r->session_name, path);
        if (rc == MB_OK) rc = set_attr_str(g, "side", r->side, path);
        if (rc == MB_OK) rc = set_attr_str(g, "stage", r->stage, path);
        if (rc == MB_OK) rc = set_attr_num(g, "start", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &r->start, path);
        /* Model 2 records itself; model 1 writes the bytes it always wrote
         * (no attribute means v1). Readers look attributes up by name. */
        if (rc == MB_OK && r->model == 2) rc = set_attr_str(g, "synth_model", "v2", path);
        if (rc == MB_OK) rc = set_attr_str(g, "user", r->subject_name, path);
    }
    if (d >= 0) H5Dclose(d);
    if (sp >= 0) H5Sclose(sp);
    if (ct >= 0) H5Tclose(ct);
    if (jt >= 0) H5Tclose(jt);
    if (et >= 0) H5Tclose(et);
    if (g >= 0) H5Gclose(g);
    if (gcpl >= 0) H5Pclose(gcpl);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (H5Fclose(f) < 0 && rc == MB_OK)
        rc = mb_error(MB_EH5, "'%s': cannot close HDF5 file", tmp);
    free(buf);
    if (rc != MB_OK) {
        remove(tmp);
        return rc;
    }
    return mb_fs_commit(tmp, path);
}

/* Shortest text that reads back as the same double (what pandas prints). */
static void shortest(char *out, size_t cap, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    /* pandas writes floats with a decimal point ("1670313374.1", "2.0"). */
    if (!strpbrk(out, ".eEn"))
        strncat(out, ".0", cap - strlen(out) - 1);
}

int synth_write_e2p_metadata(const char *path, const struct synth_recording *rows, size_t n)
{
    char tmp[4096];
    int rc = mb_fs_tmpname(tmp, sizeof tmp, path);
    if (rc != MB_OK)
        return rc;
    FILE *fp = fopen(tmp, "wb");
    if (!fp)
        return mb_error(MB_EIO, "cannot create '%s'", tmp);
    fprintf(fp, "user,session,stage,side,moving_hand,held_out_user,held_out_stage,split,generalization,"
                "filename,start,end\n");
    for (size_t i = 0; i < n; i++) {
        const struct synth_recording *r = &rows[i];
        char stem[256], a[40], b[40];
        stem_of(stem, sizeof stem, r->file.relpath);
        shortest(a, sizeof a, r->start);
        shortest(b, sizeof b, r->end);
        fprintf(fp, "%s,%s,%s,%s,both,%s,%s,%s,%s,%s,%s,%s\n", r->subject_name, r->session_name, r->stage,
                r->side, r->held_out_user ? "True" : "False", r->held_out_stage ? "True" : "False", r->split,
                r->generalization, stem, a, b);
    }
    if (ferror(fp) | fclose(fp)) {
        remove(tmp);
        return mb_error(MB_EIO, "cannot write '%s'", path);
    }
    return mb_fs_commit(tmp, path);
}
