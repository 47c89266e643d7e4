/* synth/write_mat.c - NinaPro MAT v5 files through libmatio, with the
 * variable order, classes and storage types of the real files
 * (formats.md §3.1; checked against ../shared/data/real in
 * tests/test_synth.c): class double with uint8 storage for DB1 label
 * vectors and scalars, int8 label vectors and single signals for DB5. */
#include <matio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/fs.h"
#include "core/rng.h"
#include "synth/internal.h"
#include "synth/write.h"

struct matw {
    mat_t *mat;
    const char *path;
    int rc;
};

/* Writes one variable; 'data' is column-major in storage type 'type'. */
static void put(struct matw *w, const char *name, enum matio_classes cls, enum matio_types type,
                size_t rows, size_t cols, void *data)
{
    if (w->rc != MB_OK)
        return;
    size_t dims[2] = { rows, cols };
    matvar_t *v = Mat_VarCreate(name, cls, type, 2, dims, data, MAT_F_DONT_COPY_DATA);
    if (!v || Mat_VarWrite(w->mat, v, MAT_COMPRESSION_ZLIB) != 0)
        w->rc = mb_error(MB_EMAT, "'%s': cannot write variable '%s'", w->path, name);
    if (v)
        Mat_VarFree(v);
}

/* [n x C] row-major doubles -> column-major in the storage type. */
static void *colmajor(const double *x, size_t n, int C, enum matio_types type)
{
    size_t es = type == MAT_T_DOUBLE ? 8 : type == MAT_T_SINGLE ? 4 : 1;
    unsigned char *out = malloc((n ? n : 1) * (size_t)C * es);
    if (!out)
        return NULL;
    for (int c = 0; c < C; c++)
        for (size_t i = 0; i < n; i++) {
            double v = x[i * (size_t)C + (size_t)c];
            size_t k = (size_t)c * n + i;
            if (type == MAT_T_DOUBLE)
                ((double *)out)[k] = v;
            else if (type == MAT_T_SINGLE)
                ((float *)out)[k] = (float)v;
            else if (type == MAT_T_INT8)
                ((int8_t *)out)[k] = (int8_t)v;
            else
                ((uint8_t *)out)[k] = (uint8_t)v;
        }
    return out;
}

static void *labels(const int32_t *x, size_t n, enum matio_types type)
{
    unsigned char *out = malloc(n ? n : 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (type == MAT_T_INT8)
            ((int8_t *)out)[i] = (int8_t)x[i];
        else
            out[i] = (uint8_t)x[i];
    }
    return out;
}

static void put_signal(struct matw *w, const char *name, enum matio_classes cls, enum matio_types type,
                       const double *x, size_t n, int C)
{
    if (w->rc != MB_OK)
        return;
    void *d = colmajor(x, n, C, type);
    if (!d) {
        w->rc = mb_error(MB_ENOMEM, "'%s': out of memory for '%s'", w->path, name);
        return;
    }
    put(w, name, cls, type, n, (size_t)C, d);
    free(d);
}

static void put_labels(struct matw *w, const char *name, enum matio_classes cls, enum matio_types type,
                       const int32_t *x, size_t n)
{
    if (w->rc != MB_OK)
        return;
    void *d = labels(x, n, type);
    if (!d) {
        w->rc = mb_error(MB_ENOMEM, "'%s': out of memory for '%s'", w->path, name);
        return;
    }
    put(w, name, cls, type, n, 1, d);
    free(d);
}

/* A scalar of class double stored in the smallest integer type, as MATLAB
 * does for integer-valued doubles. */
static void put_scalar(struct matw *w, const char *name, unsigned v)
{
    if (v <= 255) {
        uint8_t u = (uint8_t)v;
        put(w, name, MAT_C_DOUBLE, MAT_T_UINT8, 1, 1, &u);
    } else {
        uint16_t u = (uint16_t)v;
        put(w, name, MAT_C_DOUBLE, MAT_T_UINT16, 1, 1, &u);
    }
}

static void put_char(struct matw *w, const char *name, const char *s)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    put(w, name, MAT_C_CHAR, MAT_T_UTF8, 1, strlen(buf), buf);
}

int synth_write_mat(const char *path, const struct synth_recording *r, uint64_t seed)
{
    char tmp[4096];
    int rc = mb_fs_tmpname(tmp, sizeof tmp, path);
    if (rc != MB_OK)
        return rc;
    enum synth_device dev = r->file.dev;
    /* A fixed header (no wall clock), 116 characters padded with spaces
     * like the real files; DB5's were written on Linux, DB1's on a Mac. */
    char hdr[117];
    memset(hdr, ' ', 116);
    hdr[116] = '\0';
    const char *text = dev == SYNTH_DB5 ? "MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: Thu Jul 23 16:04:46 2015"
                                        : "MATLAB 5.0 MAT-file, Platform: MACI64, Created on: Mon Jul 28 11:54:15 2014";
    memcpy(hdr, text, strlen(text));
    struct matw w = { Mat_CreateVer(tmp, hdr, MAT_FT_MAT5), path, MB_OK };
    if (!w.mat)
        return mb_error(MB_EMAT, "cannot create MAT file '%s'", tmp);
    size_t n = r->n;
    unsigned subject = (unsigned)r->file.subject + 1, ex = (unsigned)r->file.group;
    if (dev == SYNTH_DB1) {
        put_signal(&w, "emg", MAT_C_DOUBLE, MAT_T_DOUBLE, r->emg, n, r->n_channels);
        put_labels(&w, "stimulus", MAT_C_DOUBLE, MAT_T_UINT8, r->stimulus, n);
        put_signal(&w, "glove", MAT_C_DOUBLE, MAT_T_DOUBLE, r->glove, n, r->n_glove);
        put_scalar(&w, "subject", subject);
        put_scalar(&w, "exercise", ex);
        put_labels(&w, "repetition", MAT_C_DOUBLE, MAT_T_UINT8, r->repetition, n);
        put_labels(&w, "restimulus", MAT_C_DOUBLE, MAT_T_UINT8, r->label, n);
        put_labels(&w, "rerepetition", MAT_C_DOUBLE, MAT_T_UINT8, r->rep, n);
    } else if (dev == SYNTH_DB2) {
        put_scalar(&w, "subject", subject);
        put_scalar(&w, "exercise", ex);
        put_signal(&w, "acc", MAT_C_DOUBLE, MAT_T_DOUBLE, r->acc, n, r->n_acc);
        put_signal(&w, "emg", MAT_C_DOUBLE, MAT_T_DOUBLE, r->emg, n, r->n_channels);
        put_signal(&w, "glove", MAT_C_DOUBLE, MAT_T_DOUBLE, r->glove, n, r->n_glove);
        put_labels(&w, "stimulus", MAT_C_DOUBLE, MAT_T_UINT8, r->stimulus, n);
        put_labels(&w, "repetition", MAT_C_DOUBLE, MAT_T_UINT8, r->repetition, n);
        put_labels(&w, "restimulus", MAT_C_DOUBLE, MAT_T_UINT8, r->label, n);
        put_labels(&w, "rerepetition", MAT_C_DOUBLE, MAT_T_UINT8, r->rep, n);
        put_scalar(&w, "frequency", 2000);
    } else {
        /* DB5: the 'exercise' variable disagrees with the file name, as in
         * the real files (S1_E1_A1.mat holds exercise = 3): E1 -> 3,
         * E2 -> 1, E3 -> 2. */
        unsigned ex_var = (ex + 1) % 3 + 1;
        struct mb_rng d;
        mb_rng_seed(&d, seed, synth_stream(ST_IDS, SYNTH_DB5, r->file.subject, 0, 0, 0));
        int male = mb_rng_uniform(&d) < 0.6;
        put_signal(&w, "emg", MAT_C_SINGLE, MAT_T_SINGLE, r->emg, n, r->n_channels);
        put_signal(&w, "acc", MAT_C_SINGLE, MAT_T_SINGLE, r->acc, n, r->n_acc);
        put_labels(&w, "stimulus", MAT_C_INT8, MAT_T_INT8, r->stimulus, n);
        put_signal(&w, "glove", MAT_C_SINGLE, MAT_T_SINGLE, r->glove, n, r->n_glove);
        put_scalar(&w, "subject", subject);
        put_scalar(&w, "exercise", ex_var);
        put_labels(&w, "repetition", MAT_C_INT8, MAT_T_INT8, r->repetition, n);
        put_labels(&w, "restimulus", MAT_C_INT8, MAT_T_INT8, r->label, n);
        put_labels(&w, "rerepetition", MAT_C_INT8, MAT_T_INT8, r->rep, n);
        put_scalar(&w, "age", 20 + (unsigned)mb_rng_below(&d, 16));
        put_scalar(&w, "circumference", 22 + (unsigned)mb_rng_below(&d, 8));
        put_scalar(&w, "frequency", 200);
        put_char(&w, "gender", male ? "m" : "f");
        put_scalar(&w, "height", (male ? 170 : 158) + (unsigned)mb_rng_below(&d, 20));
        put_scalar(&w, "weight", (male ? 65 : 52) + (unsigned)mb_rng_below(&d, 25));
        put_char(&w, "laterality", mb_rng_uniform(&d) < 0.9 ? "r" : "l");
        put_char(&w, "sensor", "Double Myo");
    }
    /* Model 2 records itself in one extra char variable at the end (the
     * converters read variables by name); model 1 writes none (v1 implied). */
    if (r->model == 2)
        put_char(&w, "synth_model", "v2");
    Mat_Close(w.mat);
    if (w.rc != MB_OK) {
        remove(tmp);
        return w.rc;
    }
    return mb_fs_commit(tmp, path);
}
