/* kernels/nn/nn_param.c - the parameter table and blocks, initialisers,
 * AdamW, schedule, clipping, checkpoint (nn_param.h has the contracts). */
#include "kernels/nn/nn_param.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"

#define ALIGN_FLOATS 16   /* 64 bytes: every tensor starts on a cache line */

/* ---- table and blocks --------------------------------------------------------- */

int nn_params_add(struct nn_params *p, const char *name, int decay, int ndim, const size_t *shape, float **view,
                  float **gview)
{
    if (p->data)
        return mb_error(MB_EINVAL, "parameter '%s' added after the blocks were allocated", name);
    if (!name || strlen(name) >= NN_NAME_MAX || !*name)
        return mb_error(MB_EINVAL, "parameter name '%s' empty or longer than %d", name ? name : "",
                        NN_NAME_MAX - 1);
    if (ndim < 1 || ndim > NN_NDIM_MAX)
        return mb_error(MB_EINVAL, "parameter '%s': %d dimensions (1..%d)", name, ndim, NN_NDIM_MAX);
    if (nn_params_find(p, name) >= 0)
        return mb_error(MB_EINVAL, "parameter '%s' added twice", name);
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 32;
        struct nn_param *t = realloc(p->t, cap * sizeof *t);
        if (!t)
            return mb_error(MB_ENOMEM, "parameter table of %zu entries", cap);
        p->t = t;
        p->cap = cap;
    }
    struct nn_param *e = &p->t[p->n];
    memset(e, 0, sizeof *e);
    strcpy(e->name, name);
    e->ndim = ndim;
    e->size = 1;
    for (int i = 0; i < NN_NDIM_MAX; i++) {
        e->shape[i] = i < ndim ? shape[i] : 1;
        e->size *= e->shape[i];
    }
    e->decay = decay;
    e->view = view;
    e->gview = gview;
    e->offset = (p->total + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
    p->total = e->offset + e->size;
    return (int)p->n++;
}

int nn_params_alloc(struct nn_params *p)
{
    size_t bytes = (p->total + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS * sizeof(float);
    if (bytes == 0)
        bytes = 64;
    float **blocks[4] = { &p->data, &p->grad, &p->m, &p->v };
    for (int i = 0; i < 4; i++) {
        *blocks[i] = aligned_alloc(64, bytes);
        if (!*blocks[i])
            return mb_error(MB_ENOMEM, "parameter block of %zu floats", p->total);
        memset(*blocks[i], 0, bytes);
    }
    for (size_t i = 0; i < p->n; i++) {
        struct nn_param *e = &p->t[i];
        if (e->view)
            *e->view = p->data + e->offset;
        if (e->gview)
            *e->gview = p->grad + e->offset;
        e->view = e->gview = NULL;   /* the caller's struct may move from now on */
    }
    return MB_OK;
}

int nn_params_find(const struct nn_params *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->t[i].name, name))
            return (int)i;
    return -1;
}

void nn_params_zero_grad(struct nn_params *p) { memset(p->grad, 0, p->total * sizeof *p->grad); }

void nn_params_release(struct nn_params *p)
{
    free(p->t);
    free(p->data);
    free(p->grad);
    free(p->m);
    free(p->v);
    memset(p, 0, sizeof *p);
}

/* ---- initialisers ---------------------------------------------------------------- */

void nn_init_uniform(float *w, size_t n, float a, struct mb_rng *r)
{
    for (size_t i = 0; i < n; i++)
        w[i] = (float)((2.0 * mb_rng_uniform(r) - 1.0) * a);
}

void nn_init_normal(float *w, size_t n, float std, struct mb_rng *r)
{
    for (size_t i = 0; i < n; i++)
        w[i] = (float)(mb_rng_normal(r) * std);
}

void nn_init_const(float *w, size_t n, float c)
{
    for (size_t i = 0; i < n; i++)
        w[i] = c;
}

/* ---- AdamW, schedule, clipping ------------------------------------------------------- */

void nn_adamw_step(struct nn_params *p, const struct nn_adamw *o, float lr, long t)
{
    MB_ASSERT(t >= 1);
    /* Scalars as torch computes them: bias corrections in double, then
     * used as float factors. */
    double bc1 = 1.0 - pow(o->beta1, (double)t), bc2 = 1.0 - pow(o->beta2, (double)t);
    float step_size = (float)(lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    float b1 = o->beta1, b2 = o->beta2, eps = o->eps;
    for (size_t e = 0; e < p->n; e++) {
        const struct nn_param *q = &p->t[e];
        float *w = p->data + q->offset, *g = p->grad + q->offset;
        float *m = p->m + q->offset, *v = p->v + q->offset;
        float keep = q->decay ? 1.0f - lr * o->weight_decay : 1.0f;
#pragma omp parallel for
        for (size_t i = 0; i < q->size; i++) {
            w[i] *= keep;
            m[i] = m[i] * b1 + g[i] * (1.0f - b1);
            v[i] = v[i] * b2 + g[i] * g[i] * (1.0f - b2);
            float denom = sqrtf(v[i]) / bc2_sqrt + eps;
            w[i] -= step_size * (m[i] / denom);
        }
    }
}

float nn_lr_cosine(long step, long warmup, long total, float lr_max, float lr_min)
{
    if (step < warmup)
        return lr_max * (float)(step + 1) / (float)warmup;
    long span = total - 1 - warmup;
    double prog = span > 0 ? (double)(step - warmup) / (double)span : 1.0;
    if (prog > 1.0)
        prog = 1.0;
    return (float)(lr_min + 0.5 * (lr_max - lr_min) * (1.0 + cos(M_PI * prog)));
}

#define CLIP_CHUNKS 64   /* fixed, so the summation order never depends on threads */

float nn_clip_grad_norm(float *g, size_t n, float max_norm)
{
    double part[CLIP_CHUNKS];
    size_t per = (n + CLIP_CHUNKS - 1) / CLIP_CHUNKS;
#pragma omp parallel for
    for (size_t c = 0; c < CLIP_CHUNKS; c++) {
        double s = 0.0;
        size_t lo = c * per, hi = lo + per < n ? lo + per : n;
        for (size_t i = lo; i < hi; i++)
            s += (double)g[i] * g[i];
        part[c] = s;
    }
    double s = 0.0;
    for (size_t c = 0; c < CLIP_CHUNKS; c++)
        s += part[c];
    float norm = (float)sqrt(s);
    float coef = max_norm / (norm + 1e-6f);
    if (coef < 1.0f) {
#pragma omp parallel for
        for (size_t i = 0; i < n; i++)
            g[i] *= coef;
    }
    return norm;
}

/* ---- checkpoint ------------------------------------------------------------------------ */

#define CKPT_FORMAT "myobench-nn-checkpoint 1"

/* Writes attribute 'name' of rank 1 or 2 (dims[1] = 0 for rank 1). */
static int put_attr(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v,
                    hsize_t d0, hsize_t d1)
{
    hsize_t dims[2] = { d0, d1 };
    hid_t sp = H5Screate_simple(d1 ? 2 : 1, dims, NULL);
    hid_t a = sp < 0 ? -1 : H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = a < 0 ? -1 : H5Awrite(a, mtype, v);
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    return st < 0 ? -1 : 0;
}

static int get_attr(hid_t loc, const char *name, hid_t mtype, void *v, hsize_t n)
{
    if (H5Aexists(loc, name) <= 0)
        return -1;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t sp = a < 0 ? -1 : H5Aget_space(a);
    hssize_t np = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    herr_t st = (np < 0 || (hsize_t)np != n) ? -1 : H5Aread(a, mtype, v);
    if (sp >= 0) H5Sclose(sp);
    if (a >= 0) H5Aclose(a);
    return st < 0 ? -1 : 0;
}

static int write_block(hid_t f, const char *name, const float *v, size_t n)
{
    hsize_t dims[1] = { n };
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t d = sp < 0 ? -1 : H5Dcreate2(f, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = d < 0 ? -1 : H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    if (d >= 0) H5Dclose(d);
    if (sp >= 0) H5Sclose(sp);
    return st < 0 ? -1 : 0;
}

int nn_params_save(const struct nn_params *p, const char *path, long step, int moments)
{
    return nn_params_save_x(p, path, step, moments, NULL, 0);
}

int nn_params_save_x(const struct nn_params *p, const char *path, long step, int moments, const struct nn_extra *x,
                     size_t nx)
{
    char tmp[4096];
    int err = mb_fs_tmpname(tmp, sizeof tmp, path);
    if (err)
        return err;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    size_t n = p->n;
    char *names = calloc(n ? n : 1, NN_NAME_MAX);
    uint64_t *shapes = calloc(n ? n : 1, NN_NDIM_MAX * sizeof *shapes);
    uint64_t *offsets = calloc(n ? n : 1, sizeof *offsets);
    int32_t *ndims = calloc(n ? n : 1, sizeof *ndims), *decay = calloc(n ? n : 1, sizeof *decay);
    hid_t f = -1, d = -1, st = -1;
    err = MB_EH5;
    if (!names || !shapes || !offsets || !ndims || !decay) {
        err = mb_error(MB_ENOMEM, "'%s': checkpoint table of %zu entries", path, n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        strcpy(names + i * NN_NAME_MAX, p->t[i].name);
        for (int j = 0; j < NN_NDIM_MAX; j++)
            shapes[i * NN_NDIM_MAX + j] = p->t[i].shape[j];
        offsets[i] = p->t[i].offset;
        ndims[i] = p->t[i].ndim;
        decay[i] = p->t[i].decay;
    }
    f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        err = mb_error(MB_EH5, "'%s': cannot create checkpoint", tmp);
        goto out;
    }
    if (write_block(f, "params", p->data, p->total) ||
        (moments && (write_block(f, "adam_m", p->m, p->total) || write_block(f, "adam_v", p->v, p->total)))) {
        err = mb_error(MB_EH5, "'%s': cannot write the parameter blocks", tmp);
        goto out;
    }
    for (size_t i = 0; i < nx; i++) {
        char name[NN_NAME_MAX + 8];
        snprintf(name, sizeof name, "extra.%s", x[i].name);
        if (write_block(f, name, x[i].v, x[i].n)) {
            err = mb_error(MB_EH5, "'%s': cannot write '%s'", tmp, name);
            goto out;
        }
    }
    st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, NN_NAME_MAX);
    int64_t step64 = step;
    d = H5Dopen2(f, "params", H5P_DEFAULT);
    if (st < 0 || d < 0 || (n && put_attr(d, "names", st, st, names, n, 0)) ||
        (n && put_attr(d, "ndims", H5T_STD_I32LE, H5T_NATIVE_INT32, ndims, n, 0)) ||
        (n && put_attr(d, "shapes", H5T_STD_U64LE, H5T_NATIVE_UINT64, shapes, n, NN_NDIM_MAX)) ||
        (n && put_attr(d, "offsets", H5T_STD_U64LE, H5T_NATIVE_UINT64, offsets, n, 0)) ||
        (n && put_attr(d, "decay", H5T_STD_I32LE, H5T_NATIVE_INT32, decay, n, 0)) ||
        put_attr(f, "step", H5T_STD_I64LE, H5T_NATIVE_INT64, &step64, 1, 0)) {
        err = mb_error(MB_EH5, "'%s': cannot write the parameter table", tmp);
        goto out;
    }
    H5Tset_size(st, sizeof CKPT_FORMAT);
    if (put_attr(f, "format", st, st, CKPT_FORMAT, 1, 0)) {
        err = mb_error(MB_EH5, "'%s': cannot write the format attribute", tmp);
        goto out;
    }
    H5Dclose(d);
    d = -1;
    herr_t c = H5Fclose(f);
    f = -1;
    if (c < 0) {
        err = mb_error(MB_EH5, "'%s': cannot close checkpoint", tmp);
        goto out;
    }
    err = mb_fs_commit(tmp, path);
out:
    if (st >= 0) H5Tclose(st);
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    if (err)
        remove(tmp);
    free(names);
    free(shapes);
    free(offsets);
    free(ndims);
    free(decay);
    return err;
}

static int read_block(hid_t f, const char *name, float *v, size_t n, const char *path)
{
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0)
        return mb_error(MB_EFORMAT, "'%s': no dataset '%s'", path, name);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t sp = d < 0 ? -1 : H5Dget_space(d);
    hssize_t np = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    int err = MB_OK;
    if (np < 0)
        err = mb_error(MB_EH5, "'%s': cannot open dataset '%s'", path, name);
    else if ((size_t)np != n)
        err = mb_error(MB_EFORMAT, "'%s': dataset '%s' has %lld floats, the model %zu", path, name,
                       (long long)np, n);
    else if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
        err = mb_error(MB_EH5, "'%s': cannot read dataset '%s'", path, name);
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
    return err;
}

int nn_params_load(struct nn_params *p, const char *path, long *step, int moments)
{
    return nn_params_load_x(p, path, step, moments, NULL, 0);
}

int nn_params_load_x(struct nn_params *p, const char *path, long *step, int moments, const struct nn_extra *x,
                     size_t nx)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return mb_error(MB_EIO, "'%s': cannot open checkpoint", path);
    size_t n = p->n;
    char *names = calloc(n ? n : 1, NN_NAME_MAX);
    uint64_t *shapes = calloc(n ? n : 1, NN_NDIM_MAX * sizeof *shapes);
    uint64_t *offsets = calloc(n ? n : 1, sizeof *offsets);
    int32_t *ndims = calloc(n ? n : 1, sizeof *ndims);
    hid_t d = -1, st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, NN_NAME_MAX);
    int err = MB_OK;
    if (!names || !shapes || !offsets || !ndims) {
        err = mb_error(MB_ENOMEM, "'%s': checkpoint table of %zu entries", path, n);
        goto out;
    }
    char fmt[sizeof CKPT_FORMAT] = "";
    H5Tset_size(st, sizeof CKPT_FORMAT);
    int fmt_ok = !get_attr(f, "format", st, fmt, 1) && !memcmp(fmt, CKPT_FORMAT, sizeof CKPT_FORMAT);
    H5Tset_size(st, NN_NAME_MAX);
    d = H5Lexists(f, "params", H5P_DEFAULT) > 0 ? H5Dopen2(f, "params", H5P_DEFAULT) : -1;
    if (d < 0 || !fmt_ok) {
        err = mb_error(MB_EFORMAT, "'%s': not a myobench checkpoint (no 'params' or format '%s')", path,
                       CKPT_FORMAT);
        goto out;
    }
    hid_t a = H5Aexists(d, "names") > 0 ? H5Aopen(d, "names", H5P_DEFAULT) : -1;
    hid_t sp = a < 0 ? -1 : H5Aget_space(a);
    hssize_t nfile = sp < 0 ? 0 : H5Sget_simple_extent_npoints(sp);
    if (sp >= 0) H5Sclose(sp);
    if (a >= 0) H5Aclose(a);
    if ((size_t)nfile != n) {
        err = mb_error(MB_EFORMAT, "'%s': checkpoint has %lld tensors, the model %zu", path,
                       (long long)nfile, n);
        goto out;
    }
    if (n && (get_attr(d, "names", st, names, n) ||
              get_attr(d, "shapes", H5T_NATIVE_UINT64, shapes, (hsize_t)n * NN_NDIM_MAX) ||
              get_attr(d, "offsets", H5T_NATIVE_UINT64, offsets, n) ||
              get_attr(d, "ndims", H5T_NATIVE_INT32, ndims, n))) {
        err = mb_error(MB_EFORMAT, "'%s': unreadable parameter table on 'params'", path);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const struct nn_param *e = &p->t[i];
        const char *fname = names + i * NN_NAME_MAX;
        if (strncmp(fname, e->name, NN_NAME_MAX)) {
            err = mb_error(MB_EFORMAT, "'%s': tensor %zu is '%.*s' in the file, '%s' in the model",
                           path, i, NN_NAME_MAX, fname, e->name);
            goto out;
        }
        if (ndims[i] != e->ndim) {
            err = mb_error(MB_EFORMAT, "'%s': tensor '%s' has %d dimensions in the file, %d in the model",
                           path, e->name, (int)ndims[i], e->ndim);
            goto out;
        }
        for (int j = 0; j < NN_NDIM_MAX; j++)
            if (shapes[i * NN_NDIM_MAX + j] != e->shape[j]) {
                err = mb_error(MB_EFORMAT,
                               "'%s': tensor '%s' dimension %d is %llu in the file, %zu in the model",
                               path, e->name, j, (unsigned long long)shapes[i * NN_NDIM_MAX + j],
                               e->shape[j]);
                goto out;
            }
        if (offsets[i] != e->offset) {
            err = mb_error(MB_EFORMAT, "'%s': tensor '%s' at offset %llu in the file, %zu in the model",
                           path, e->name, (unsigned long long)offsets[i], e->offset);
            goto out;
        }
    }
    if ((err = read_block(f, "params", p->data, p->total, path)))
        goto out;
    if (moments && ((err = read_block(f, "adam_m", p->m, p->total, path)) ||
                    (err = read_block(f, "adam_v", p->v, p->total, path))))
        goto out;
    for (size_t i = 0; i < nx; i++) {
        char name[NN_NAME_MAX + 8];
        snprintf(name, sizeof name, "extra.%s", x[i].name);
        if ((err = read_block(f, name, x[i].v, x[i].n, path)))
            goto out;
    }
    if (step) {
        int64_t s = 0;
        if (get_attr(f, "step", H5T_NATIVE_INT64, &s, 1)) {
            err = mb_error(MB_EFORMAT, "'%s': no 'step' attribute", path);
            goto out;
        }
        *step = (long)s;
    }
out:
    if (st >= 0) H5Tclose(st);
    if (d >= 0) H5Dclose(d);
    H5Fclose(f);
    free(names);
    free(shapes);
    free(offsets);
    free(ndims);
    return err;
}
