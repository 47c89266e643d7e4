/* converters/ninapro_mat.c - one NinaPro MAT file: database facts, file
 * names, and the load with its quirks (formats.md §3). The converter
 * (conv_ninapro.c) plans the corpus and writes; everything that can be
 * said about one file alone happens here, in the parallel load step. */
#include "converters/ninapro_mat.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <matio.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zlib.h>

#include "converters/common.h"

/* ---- database table (formats.md §3.2-§3.4) ------------------------------ */

#define DELSYS_HW "Delsys Trigno: on-sensor amplification and band-pass filtering (about 20-450 Hz per the manufacturer; not given in formats.md)"

static const struct conv_np_db dbs[CONV_NP_MAX_DB] = {
    { 1, 100.0, 3, { 12, 17, 23 }, CONV_NP_LOCAL, "1,3,4,6,8,9,10", "2,5,7",
      "otto-bock-13e200", "Otto Bock", "MyoBock 13E200-50", "V", 1.0,
      "Otto Bock 13E200-50 electrodes: amplification, band-pass filtering and RMS rectification in the "
      "electrode; the stored signal is an RMS envelope (0-5 V in 5/2048 V steps) sampled at 100 Hz", "", 0,
      "NinaPro DB1 (Atzori et al., Scientific Data 2014)" },
    { 2, 2000.0, 3, { 17, 23, 9 }, CONV_NP_GLOBAL, "1,3,4,6", "2,5",
      "delsys-trigno", "Delsys", "Trigno Wireless", "V", 1.0, DELSYS_HW, "", 0, "NinaPro DB2" },
    { 3, 2000.0, 3, { 17, 23, 9 }, CONV_NP_AUTO, "1,3,4,6", "2,5",
      "delsys-trigno", "Delsys", "Trigno Wireless", "V", 1.0, DELSYS_HW, "", 0, "NinaPro DB3 (amputees)" },
    { 4, 2000.0, 3, { 12, 17, 23 }, CONV_NP_AUTO, "1,3,4,6", "2,5",
      "cometa-wave", "Cometa", "Wave + Dormo", "V", 1.0, "", "", 0, "NinaPro DB4" },
    { 5, 200.0, 3, { 12, 17, 23 }, CONV_NP_AUTO, "1,3,4,6", "2,5",
      "thalmic-myo-x2", "Thalmic Labs", "Myo armband x 2 (columns 1-8 proximal, 9-16 distal rotated 22.5 deg)",
      "counts", 0.0, "Myo on-board processing (undocumented); 8-bit values", "", 0, "NinaPro DB5 (Pizzolato et al., PLoS ONE 2017)" },
    { 6, 2000.0, 1, { 0 }, CONV_NP_OBSERVED, "", "",
      "delsys-trigno", "Delsys", "Trigno Wireless", "V", 1.0, DELSYS_HW, "", 0, "NinaPro DB6 (repeatability)" },
    { 7, 2000.0, 2, { 17, 23 }, CONV_NP_AUTO, "1,3,4,6", "2,5",
      "delsys-trigno-im", "Delsys", "Trigno IM", "V", 1.0, DELSYS_HW, "", 0, "NinaPro DB7" },
    { 8, 1111.0, 1, { 9 }, CONV_NP_GLOBAL, "", "",
      "delsys-trigno-im", "Delsys", "Trigno IM", "V", 1.0, DELSYS_HW, "", 0, "NinaPro DB8 (finger positions)" },
};

const struct conv_np_db *conv_np_db(int db)
{
    return db >= 1 && db <= CONV_NP_MAX_DB ? &dbs[db - 1] : NULL;
}

int conv_np_ex_offset(const struct conv_np_db *d, int ex)
{
    int off = 0;
    for (int e = 1; e < ex && e <= d->n_exercises; e++)
        off += d->ex_size[e - 1];
    return off;
}

int conv_np_n_movements(const struct conv_np_db *d)
{
    return conv_np_ex_offset(d, d->n_exercises + 1);
}

/* ---- file names ----------------------------------------------------------- */

/* Reads '<letter><digits>' at *p (letter case-insensitive). */
static int take_num(const char **p, char letter, int *out)
{
    const char *s = *p;
    if (toupper((unsigned char)*s) != letter || !isdigit((unsigned char)s[1]))
        return 0;
    long v = 0;
    for (s++; isdigit((unsigned char)*s); s++)
        if ((v = v * 10 + (*s - '0')) > 1000000)
            return 0;
    *out = (int)v;
    *p = s;
    return 1;
}

static int take_char(const char **p, char c)
{
    if (**p != c)
        return 0;
    (*p)++;
    return 1;
}

/* "DB<k>_s<N>" (case-insensitive), the whole of [c, c+len). */
static int db_folder(const char *c, size_t len, int *k)
{
    char buf[64];
    if (len < 5 || len >= sizeof buf)
        return 0;
    memcpy(buf, c, len);
    buf[len] = '\0';
    const char *q = buf + 1;
    int s;
    return toupper((unsigned char)buf[0]) == 'D' && take_num(&q, 'B', k) && take_char(&q, '_') &&
           take_num(&q, 'S', &s) && !*q;
}

int conv_np_parse_name(struct conv_np_name *out, const char *rel)
{
    *out = (struct conv_np_name){ -1, -1, -1, -1, -1, -1, 0 };
    /* A "DB<k>_s<N>" folder anywhere on the path names the database. */
    for (const char *c = rel, *end; (end = strchr(c, '/')); c = end + 1) {
        int k;
        if (db_folder(c, (size_t)(end - c), &k))
            out->db_hint = k;
    }
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    const char *p = base;
    int a, b;
    if (!take_num(&p, 'S', &out->subject) || !take_char(&p, '_'))
        return 0;
    char l1 = (char)toupper((unsigned char)*p);
    if (!take_num(&p, l1, &a) || !take_char(&p, '_'))
        return 0;
    char l2 = (char)toupper((unsigned char)*p);
    if (!take_num(&p, l2, &b) || strcasecmp(p, ".mat"))
        return 0;
    if (l1 == 'A' && l2 == 'E') {
        out->style = CONV_NP_NAME_S_A_E;
        out->acquisition = a;
        out->exercise = b;
    } else if (l1 == 'E' && l2 == 'A') {
        out->style = CONV_NP_NAME_S_E_A;
        out->exercise = a;
        out->acquisition = b;
    } else if (l1 == 'D' && l2 == 'T') {
        out->style = CONV_NP_NAME_S_D_T;
        out->day = a;
        out->time = b;
    } else {
        return 0;
    }
    return 1;
}

/* ---- MAT container checks ----------------------------------------------- */

/* matio prints its own complaints; the reader reports instead. The logger
 * is process-wide, so it is set once, whichever thread gets here. */
static void mat_quiet(int level, char *msg)
{
    (void)level;
    (void)msg;
}

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static void log_init(void)
{
    Mat_LogInitFunc("myobench", mat_quiet);
}

/* HDF5-backed (v7.3) files are read one at a time: libhdf5 calls from
 * several threads are only safe in a thread-safe build. */
static pthread_mutex_t h5_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t rd32(const unsigned char *b, int swap)
{
    uint32_t v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return swap ? __builtin_bswap32(v) : v;
}

/* Checks the array header at the start of a miMATRIX element's content
 * (flags and dimensions sub-elements) against 'budget', the most elements
 * the element's bytes can hold. matio allocates and loops by the claimed
 * dimensions, so a corrupt header would otherwise cost gigabytes and
 * minutes (fuzzing found both). Returns 0 when plausible. */
static int implausible_dims(const unsigned char *m, size_t avail, uint64_t budget, int swap)
{
    if (avail < 16)
        return avail != 0;  /* an empty matrix element is legal */
    /* The MAT v5 layout fixes the sub-element types: flags miUINT32 x 2,
     * dimensions miINT32, name miINT8. Anything else is corrupt (matio reads
     * such tags its own way and can allocate gigabytes). */
    uint32_t t = rd32(m, swap), n = rd32(m + 4, swap);
    if (t != 6 || n != 8)
        return 1;
    const size_t o = 16;
    unsigned cls = swap ? m[8 + 3] : m[8];
    if (o + 8 > avail)
        return 1;
    t = rd32(m + o, swap);
    n = rd32(m + o + 4, swap);
    if ((t & 0xffff) != 5)
        return 1;
    const unsigned char *d = m + o + 8;
    if (t >> 16) {              /* small element: dims in the tag's second word */
        n = t >> 16;
        d = m + o + 4;
    }
    if (n % 4 || n > 4 * 32 || (size_t)(d - m) + n > avail)
        return 1;
    /* The name follows: matio allocates its claimed length. */
    size_t o2 = (size_t)(d - m) + (t >> 16 ? 4 : (((size_t)n + 7) & ~(size_t)7));
    if (o2 + 8 <= avail) {
        uint32_t nt = rd32(m + o2, swap), nn = rd32(m + o2 + 4, swap);
        if ((nt & 0xffff) != 1 || (!(nt >> 16) && (uint64_t)nn > budget))
            return 1;
    }
    uint64_t prod = 1;
    for (uint32_t k = 0; k < n / 4; k++) {
        int32_t v = (int32_t)rd32(d + 4 * k, swap);
        if (v < 0)
            return 1;
        if (v && prod > UINT64_MAX / (uint64_t)v)
            return 1;
        prod *= (uint64_t)v;
    }
    /* A cell, struct or object element is at least an 8-byte tag; a numeric
     * or character element at least a byte. Sparse (5) stores only nonzeros. */
    uint64_t per = cls >= 1 && cls <= 3 ? 8 : 1;
    return cls != 5 && prod > budget / per;
}

/* Reads the first bytes of the element at 'off' (inflating them when it
 * is compressed) and applies implausible_dims. */
static int dims_implausible(FILE *fp, long long off, uint32_t type, uint32_t nbytes, int swap)
{
    unsigned char head[256], in[1024];
    size_t got;
    uint64_t budget;
    const unsigned char *m;
    size_t avail;
    if (type == 14) {
        size_t want = nbytes < sizeof head ? nbytes : sizeof head;
        if (fseeko(fp, off + 8, SEEK_SET) != 0 || fread(head, 1, want, fp) != want)
            return 1;
        m = head;
        avail = want;
        budget = nbytes;
    } else {
        size_t want = nbytes < sizeof in ? nbytes : sizeof in;
        if (fseeko(fp, off + 8, SEEK_SET) != 0 || (got = fread(in, 1, want, fp)) != want)
            return 1;
        z_stream z;
        memset(&z, 0, sizeof z);
        if (inflateInit(&z) != Z_OK)
            return 0;   /* cannot tell; matio will report */
        z.next_in = in;
        z.avail_in = (uInt)want;
        z.next_out = head;
        z.avail_out = sizeof head;
        int zr = inflate(&z, Z_SYNC_FLUSH);
        avail = sizeof head - z.avail_out;
        inflateEnd(&z);
        /* A deflate error within the first KB: matio would inflate what
         * it can and trust the header it finds there (fuzzing: 2.7-4 GB
         * requests), so the element is corrupt for us. */
        if ((zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) || avail < 8)
            return 1;
        /* Inside: one miMATRIX element. zlib expands at most 1032:1. */
        if (rd32(head, swap) != 14 || (uint64_t)rd32(head + 4, swap) > (uint64_t)nbytes * 1032)
            return 1;
        m = head + 8;
        avail -= 8;
        budget = (uint64_t)nbytes * 1032;
    }
    return implausible_dims(m, avail, budget, swap);
}

/* Checks the 128-byte header and, for v5, walks the top-level element
 * tags: a truncated file is named as such before matio sees it (matio
 * stops at the first short element as if the file had ended). */
static int check_container(const char *path, const char *shown, int *v73, int quiet)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return quiet ? MB_EIO : mb_error(MB_EIO, "cannot open '%s': %s", shown, strerror(errno));
    struct stat st;
    unsigned char h[128];
    int rc = MB_OK;
    if (fstat(fileno(fp), &st) != 0 || fread(h, 1, sizeof h, fp) != sizeof h)
        rc = quiet ? MB_EMAT : mb_error(MB_EMAT, "'%s' is not a MAT file (shorter than the 128-byte header)", shown);
    int swap = 0;
    if (rc == MB_OK) {
        if (h[126] == 'I' && h[127] == 'M')
            swap = 0;
        else if (h[126] == 'M' && h[127] == 'I')
            swap = 1;
        else
            rc = quiet ? MB_EMAT : mb_error(MB_EMAT, "'%s' is not a MAT v5/v7.3 file (no endian mark in the header)", shown);
    }
    if (rc == MB_OK) {
        unsigned ver = swap ? (unsigned)h[124] << 8 | h[125] : (unsigned)h[125] << 8 | h[124];
        *v73 = ver == 0x0200;
        if (ver != 0x0100 && ver != 0x0200)
            rc = quiet ? MB_EMAT : mb_error(MB_EMAT, "'%s': unknown MAT version 0x%04x in the header", shown, ver);
    }
    if (rc == MB_OK && !*v73) {
        long long off = 128, size = (long long)st.st_size;
        unsigned char tag[8];
        while (rc == MB_OK && off < size) {
            if (size - off < 8 || fseeko(fp, off, SEEK_SET) != 0 || fread(tag, 1, 8, fp) != 8) {
                rc = quiet ? MB_EMAT : mb_error(MB_EMAT, "'%s': truncated MAT file (%lld stray bytes at byte %lld)",
                                                shown, size - off, off);
                break;
            }
            uint32_t type = rd32(tag, swap), nbytes = rd32(tag + 4, swap);
            long long len;
            if (type >> 16)                      /* small data element: 8 bytes in all */
                len = 8;
            else if (type == 15)                 /* miCOMPRESSED: not padded */
                len = 8 + (long long)nbytes;
            else
                len = 8 + (((long long)nbytes + 7) & ~7LL);
            if (off + len > size) {
                rc = quiet ? MB_EMAT : mb_error(MB_EMAT, "'%s': truncated MAT file: the variable at byte %lld needs "
                                                "%lld bytes, %lld remain", shown, off, len, size - off);
                break;
            }
            /* A v5 file holds variables only: matrices, plain or compressed. */
            if (type != 14 && type != 15) {
                rc = quiet ? MB_EMAT : mb_error(MB_EMAT, "'%s': corrupt MAT file: element type %u at byte %lld is "
                                                "not a variable", shown, (unsigned)(type & 0xffff), off);
                break;
            }
            if (dims_implausible(fp, off, type, nbytes, swap)) {
                rc = quiet ? MB_EMAT : mb_error(MB_EMAT, "'%s': corrupt MAT file: the variable at byte %lld claims "
                                                "more elements than its %u bytes can hold", shown, off, nbytes);
                break;
            }
            off += len;
        }
    }
    fclose(fp);
    return rc;
}

/* ---- variable access ---------------------------------------------------- */

static int is_numeric(const matvar_t *v)
{
    return v && !v->isComplex && !v->isLogical && v->class_type >= MAT_C_DOUBLE &&
           v->class_type <= MAT_C_UINT64 && v->rank == 2;
}

/* Element i (column-major) of a numeric variable read by Mat_VarRead,
 * whose data is in its class type. */
static double at(const matvar_t *v, size_t i)
{
    switch (v->class_type) {
    case MAT_C_DOUBLE: return ((const double *)v->data)[i];
    case MAT_C_SINGLE: return ((const float *)v->data)[i];
    case MAT_C_INT8:   return ((const int8_t *)v->data)[i];
    case MAT_C_UINT8:  return ((const uint8_t *)v->data)[i];
    case MAT_C_INT16:  return ((const int16_t *)v->data)[i];
    case MAT_C_UINT16: return ((const uint16_t *)v->data)[i];
    case MAT_C_INT32:  return ((const int32_t *)v->data)[i];
    case MAT_C_UINT32: return ((const uint32_t *)v->data)[i];
    case MAT_C_INT64:  return (double)((const int64_t *)v->data)[i];
    case MAT_C_UINT64: return (double)((const uint64_t *)v->data)[i];
    default:           return NAN;
    }
}

static size_t elem_size(const matvar_t *v)
{
    switch (v->class_type) {
    case MAT_C_DOUBLE: case MAT_C_INT64: case MAT_C_UINT64: return 8;
    case MAT_C_SINGLE: case MAT_C_INT32: case MAT_C_UINT32: return 4;
    case MAT_C_INT16:  case MAT_C_UINT16: return 2;
    default: return 1;
    }
}

/* matio trusts the dimensions: refuse a variable whose data is shorter
 * than rows x cols elements (a corrupt header, seen while fuzzing). */
static int sane(const matvar_t *v)
{
    if (!is_numeric(v) || !v->data)
        return 0;
    size_t r = v->dims[0], c = v->dims[1];
    if (c && r > SIZE_MAX / c / 8)
        return 0;
    return v->nbytes >= r * c * elem_size(v);
}

void conv_np_emg_rows(const struct conv_np_file *f, size_t start, size_t n, float *out)
{
    const matvar_t *v = f->emg;
    const size_t R = v->dims[0], C = (size_t)f->n_channels;
    for (size_t c = 0; c < C; c++) {
        const size_t base = c * R + start;
        if (v->class_type == MAT_C_DOUBLE) {
            const double *x = (const double *)v->data + base;
            for (size_t i = 0; i < n; i++)
                out[i * C + c] = (float)x[i];
        } else if (v->class_type == MAT_C_SINGLE) {
            const float *x = (const float *)v->data + base;
            for (size_t i = 0; i < n; i++)
                out[i * C + c] = x[i];
        } else {
            for (size_t i = 0; i < n; i++)
                out[i * C + c] = (float)at(v, base + i);
        }
    }
}

void conv_np_stream_rows(const struct conv_np_file *f, size_t k, size_t start, size_t n, double *out)
{
    const matvar_t *v = f->streams[k].var;
    const size_t R = v->dims[0], S = f->streams[k].cols;
    for (size_t c = 0; c < S; c++)
        for (size_t i = 0; i < n; i++)
            out[i * S + c] = at(v, c * R + start + i);
}

/* ---- load ----------------------------------------------------------------- */

static void fwarn(struct conv_np_file *f, int *oom, const char *fmt, ...) MB_PRINTF(3, 4);
static void fwarn(struct conv_np_file *f, int *oom, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    char **v = s ? realloc(f->warn, (f->n_warn + 1) * sizeof *v) : NULL;
    if (!v) {
        free(s);
        *oom = 1;
        return;
    }
    f->warn = v;
    f->warn[f->n_warn++] = s;
}

/* Variables that are not streams or tags because the reader uses them. */
static const char *const used_vars[] = { "emg", "subject", "exercise", "frequency", NULL };

static int in_list(const char *name, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(name, list[i]))
            return 1;
    return 0;
}

struct names {
    size_t n;
    char **v;
};

static void names_free(struct names *nm)
{
    for (size_t i = 0; i < nm->n; i++)
        free(nm->v[i]);
    free(nm->v);
    nm->n = 0;
    nm->v = NULL;
}

static int names_has(const struct names *nm, const char *name)
{
    for (size_t i = 0; i < nm->n; i++)
        if (!strcmp(nm->v[i], name))
            return 1;
    return 0;
}

/* Every variable name, in file order. */
static int list_vars(struct names *nm, mat_t *mat, const char *shown)
{
    nm->n = 0;
    nm->v = NULL;
    Mat_Rewind(mat);
    matvar_t *v;
    int rc = MB_OK;
    while (rc == MB_OK && (v = Mat_VarReadNextInfo(mat))) {
        if (v->name) {
            char **g = realloc(nm->v, (nm->n + 1) * sizeof *g);
            if (g)
                nm->v = g;
            if (!g || !(nm->v[nm->n] = strdup(v->name)))
                rc = mb_error(MB_ENOMEM, "out of memory listing the variables of '%s'", shown);
            else
                nm->n++;
        }
        Mat_VarFree(v);
    }
    if (rc != MB_OK)
        names_free(nm);
    return rc;
}

static void list_text(char *buf, size_t cap, const struct names *nm)
{
    buf[0] = '\0';
    for (size_t i = 0; i < nm->n; i++) {
        size_t l = strlen(buf);
        if (l + strlen(nm->v[i]) + 8 >= cap) {
            snprintf(buf + l, cap - l, ", ...");
            break;
        }
        snprintf(buf + l, cap - l, "%s'%s'", l ? ", " : "", nm->v[i]);
    }
    if (!buf[0])
        snprintf(buf, cap, "none");
}

/* Reads a whole numeric variable; NULL with an error reported. */
static matvar_t *read_numeric(mat_t *mat, const char *shown, const char *name)
{
    matvar_t *v = Mat_VarRead(mat, name);
    if (!v) {
        mb_error(MB_EMAT, "'%s': variable '%s' cannot be read (truncated or corrupt file)", shown, name);
        return NULL;
    }
    if (!is_numeric(v)) {
        mb_error(MB_EMAT, "'%s': variable '%s' is not a real numeric matrix", shown, name);
        Mat_VarFree(v);
        return NULL;
    }
    if (!sane(v)) {
        mb_error(MB_EMAT, "'%s': variable '%s' holds fewer values than its %zu x %zu shape (corrupt file)",
                 shown, name, v->dims[0], v->dims[1]);
        Mat_VarFree(v);
        return NULL;
    }
    return v;
}

static size_t vec_len(const matvar_t *v)
{
    return v->dims[0] == 1 ? v->dims[1] : v->dims[0];
}

/* A 1 x 1 numeric variable as an integer; -1 if absent or not one. */
static int scalar_int(mat_t *mat, const struct names *nm, const char *name, double *val)
{
    *val = NAN;
    if (!names_has(nm, name))
        return -1;
    matvar_t *v = Mat_VarRead(mat, name);
    int r = -1;
    if (v && sane(v) && v->dims[0] * v->dims[1] == 1) {
        *val = at(v, 0);
        if (isfinite(*val) && *val == floor(*val) && fabs(*val) < 1e9)
            r = (int)*val;
    }
    Mat_VarFree(v);
    return r;
}

/* The old DB2 exercise-3 coding (formats.md §3.3): stimulus values of the
 * force patterns, in the order of movements 41..49. */
static const int db2_e3_codes[9] = { 1, 2, 4, 6, 8, 9, 16, 32, 40 };

static int code_index(int v)
{
    for (int k = 0; k < 9; k++)
        if (db2_e3_codes[k] == v)
            return k;
    return -1;
}

/* Turns the stored label values (in f->labels) into global ids. */
static int map_labels(struct conv_np_file *f, const struct conv_np_load_opts *o, int *oom)
{
    const struct conv_np_db *d = o->db;
    const size_t n = f->n;
    int32_t *L = f->labels;
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    for (size_t i = 0; i < n; i++)
        if (L[i]) {
            lo = L[i] < lo ? L[i] : lo;
            hi = L[i] > hi ? L[i] : hi;
        }
    for (size_t i = 0; i < n; i++)
        if (L[i] < 0)
            return mb_error(MB_EFORMAT, "'%s' sample %zu: %s value %d is negative", f->path, i + 1, f->label_var, L[i]);
    if (d->numbering == CONV_NP_OBSERVED || lo == INT32_MAX)
        return MB_OK;   /* rest only, or no table to check against */
    const int ex = o->exercise;
    if (ex < 1 || ex > d->n_exercises)
        return mb_error(MB_EFORMAT, "'%s': exercise %d, but DB%d has exercises 1..%d", f->path, ex, d->db, d->n_exercises);
    const int off = conv_np_ex_offset(d, ex), size = d->ex_size[ex - 1];
    int local = d->numbering == CONV_NP_LOCAL;
    if (!local && (lo <= off || hi > off + size) && (d->db == 2 || d->db == 3) && ex == 3) {
        int all_codes = 1;
        for (size_t i = 0; i < n && all_codes; i++)
            all_codes = !L[i] || code_index(L[i]) >= 0;
        if (all_codes) {
            for (size_t i = 0; i < n; i++)
                if (L[i])
                    L[i] = off + 1 + code_index(L[i]);
            fwarn(f, oom, "'%s': %s uses the old exercise-3 coding {1,2,4,6,8,9,16,32,40}; remapped in order "
                  "to %d..%d", f->path, f->label_var, off + 1, off + 9);
            return MB_OK;
        }
    }
    if (d->numbering == CONV_NP_AUTO && off > 0 && !(lo > off && hi <= off + size) && hi <= size) {
        local = 1;
        fwarn(f, oom, "'%s': %s values %d..%d are numbered within exercise %d; added the exercise offset %d",
              f->path, f->label_var, lo, hi, ex, off);
    }
    const int32_t first = local ? 1 : off + 1, last = local ? size : off + size;
    for (size_t i = 0; i < n; i++) {
        if (L[i] && (L[i] < first || L[i] > last))
            return mb_error(MB_EFORMAT, "'%s' sample %zu: %s value %d is outside exercise %d's movements %d..%d "
                            "(DB%d numbers them %s; use --db if this is another database)", f->path, i + 1,
                            f->label_var, L[i], ex, first, last, d->db, local ? "within each exercise" : "globally");
        if (L[i] && local)
            L[i] += off;
    }
    return MB_OK;
}

/* Reads a label-like vector into int32 (integers only). */
static int read_ints(int32_t *out, const matvar_t *v, size_t n, const char *shown, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        double x = at(v, i);
        if (!(x == floor(x)) || fabs(x) > 1e9)
            return mb_error(MB_EFORMAT, "'%s' sample %zu: %s value %g is not an integer", shown, i + 1, name, x);
        out[i] = (int32_t)x;
    }
    return MB_OK;
}

static int add_tag(struct conv_np_file *f, const char *key, const char *value)
{
    struct conv_np_tag *t = realloc(f->tags, (f->n_tags + 1) * sizeof *t);
    if (!t)
        return MB_ENOMEM;
    f->tags = t;
    t[f->n_tags].key = strdup(key);
    t[f->n_tags].value = strdup(value);
    f->n_tags++;
    return t[f->n_tags - 1].key && t[f->n_tags - 1].value ? MB_OK : MB_ENOMEM;
}

/* A character variable as text (ASCII; UTF-16 code units above 127 become '?'). */
static int char_text(char *buf, size_t cap, const matvar_t *v)
{
    if (v->class_type != MAT_C_CHAR || !v->data || v->rank != 2 || v->dims[0] > 1)
        return 0;
    size_t n = v->dims[1], es = v->data_type == MAT_T_UINT16 || v->data_type == MAT_T_UTF16 ? 2 : 1;
    if (v->data_type == MAT_T_UTF32 || v->data_type == MAT_T_UINT32)
        es = 4;
    if (n * es > v->nbytes)
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        unsigned c = es == 1 ? ((const unsigned char *)v->data)[i]
                   : es == 2 ? ((const uint16_t *)v->data)[i] : ((const uint32_t *)v->data)[i];
        buf[k++] = c >= 32 && c < 127 ? (char)c : '?';
    }
    buf[k] = '\0';
    return 1;
}

/* Everything besides emg and the label vectors: streams, tags, or a note. */
static int read_others(struct conv_np_file *f, mat_t *mat, const struct names *nm,
                       const struct conv_np_load_opts *o, int *oom)
{
    for (size_t k = 0; k < nm->n; k++) {
        const char *name = nm->v[k];
        if (in_list(name, used_vars) || !strcmp(name, f->label_var) || (f->rep_var && !strcmp(name, f->rep_var)))
            continue;
        matvar_t *v = Mat_VarRead(mat, name);
        if (!v)
            return mb_error(MB_EMAT, "'%s': variable '%s' cannot be read (truncated or corrupt file)", f->path, name);
        char text[128];
        if (is_numeric(v) && sane(v) && v->dims[0] * v->dims[1] == 1) {
            snprintf(text, sizeof text, "%.17g", at(v, 0));
            if (add_tag(f, name, text) != MB_OK)
                *oom = 1;
            Mat_VarFree(v);
        } else if (char_text(text, sizeof text, v)) {
            if (add_tag(f, name, text) != MB_OK)
                *oom = 1;
            Mat_VarFree(v);
        } else if (is_numeric(v) && sane(v) && v->dims[0] >= f->n && v->dims[0] > 1 && v->dims[1] >= 1) {
            struct conv_np_stream *s = realloc(f->streams, (f->n_streams + 1) * sizeof *s);
            if (!s) {
                Mat_VarFree(v);
                return mb_error(MB_ENOMEM, "out of memory reading '%s' from '%s'", name, f->path);
            }
            f->streams = s;
            s = &f->streams[f->n_streams++];
            s->name = strdup(name);
            s->cols = v->dims[1];
            s->f64 = v->class_type == MAT_C_DOUBLE;
            s->var = v;
            if (!s->name)
                *oom = 1;
            if (v->dims[0] != f->n) {
                int big = v->dims[0] - f->n > conv_trunc_allowed(v->dims[0]);
                if (big && !o->allow_truncation)
                    return mb_error(MB_EFORMAT, "'%s': '%s' has %zu rows but the recording %zu: cutting it would drop "
                                    "%zu rows (%.1f %%); use --allow-truncation to convert it anyway", f->path,
                                    name, v->dims[0], f->n, v->dims[0] - f->n,
                                    100.0 * (double)(v->dims[0] - f->n) / (double)v->dims[0]);
                fwarn(f, oom, "'%s': '%s' has %zu rows, more than the %zu samples kept; truncated%s", f->path,
                      name, v->dims[0], f->n, big ? " (--allow-truncation)" : "");
            }
        } else {
            fwarn(f, oom, "'%s': variable '%s' (%zu x %zu) is not a per-sample signal, a scalar or a string; "
                  "not converted", f->path, name, v->rank >= 2 ? v->dims[0] : 0, v->rank >= 2 ? v->dims[1] : 0);
            Mat_VarFree(v);
        }
    }
    return MB_OK;
}

/* NaN/Inf in emg and streams: an error, or a count under allow_nonfinite. */
static int check_finite(struct conv_np_file *f, const struct conv_np_load_opts *o, int *oom)
{
    for (size_t s = 0; s <= f->n_streams; s++) {
        const matvar_t *v = s == 0 ? f->emg : f->streams[s - 1].var;
        const char *name = s == 0 ? "emg" : f->streams[s - 1].name;
        if (v->class_type != MAT_C_DOUBLE && v->class_type != MAT_C_SINGLE)
            continue;   /* integers are always finite */
        const size_t R = v->dims[0], C = v->dims[1];
        size_t count = 0, first_r = 0, first_c = 0;
        for (size_t c = 0; c < C; c++)
            for (size_t i = 0; i < f->n; i++)
                if (!isfinite(at(v, c * R + i))) {
                    if (!count++ || i < first_r) {
                        first_r = i;
                        first_c = c;
                    }
                }
        if (!count)
            continue;
        if (!o->allow_nonfinite)
            return mb_error(MB_ENUM, "'%s' sample %zu: non-finite '%s' value in channel %zu (%zu in all; use "
                            "--allow-nonfinite to keep them)", f->path, first_r + 1, name, first_c + 1, count);
        f->n_nonfinite += count;
        fwarn(f, oom, "'%s': %zu non-finite '%s' values (first at sample %zu, channel %zu); kept (--allow-nonfinite)",
              f->path, count, name, first_r + 1, first_c + 1);
    }
    return MB_OK;
}

static int load_open(struct conv_np_file *f, mat_t *mat, const struct conv_np_load_opts *o, int *oom)
{
    struct names nm;
    int rc = list_vars(&nm, mat, f->path);
    if (rc != MB_OK)
        return rc;
    char list[512];
    list_text(list, sizeof list, &nm);
    matvar_t *lab = NULL, *rep = NULL;
    if (!names_has(&nm, "emg")) {
        rc = mb_error(MB_EMAT, "'%s': no variable 'emg' (variables found: %s)", f->path, list);
        goto out;
    }
    if (!(f->emg = read_numeric(mat, f->path, "emg"))) {
        rc = MB_EMAT;
        goto out;
    }
    const matvar_t *emg = f->emg;
    if (emg->dims[0] == 0 || emg->dims[1] == 0 || emg->dims[1] > 4096) {
        rc = mb_error(MB_EMAT, "'%s': 'emg' is %zu x %zu; expected samples x channels", f->path, emg->dims[0], emg->dims[1]);
        goto out;
    }
    f->n_channels = (int)emg->dims[1];

    /* Label and repetition vectors, with the fallbacks of formats.md §3.3. */
    const char *want = o->use_stimulus ? "stimulus" : "restimulus";
    const char *other = o->use_stimulus ? "restimulus" : "stimulus";
    f->label_var = names_has(&nm, want) ? want : names_has(&nm, other) ? other : NULL;
    if (!f->label_var) {
        rc = mb_error(MB_EMAT, "'%s': no variable '%s' or '%s' (variables found: %s)", f->path, want, other, list);
        goto out;
    }
    if (f->label_var != want)
        fwarn(f, oom, "'%s': no '%s'; labels taken from '%s'", f->path, want, other);
    const char *want_rep = !strcmp(f->label_var, "stimulus") ? "repetition" : "rerepetition";
    const char *other_rep = !strcmp(want_rep, "repetition") ? "rerepetition" : "repetition";
    f->rep_var = names_has(&nm, want_rep) ? want_rep : names_has(&nm, other_rep) ? other_rep : NULL;
    if (f->rep_var != want_rep)
        fwarn(f, oom, "'%s': no '%s'; repetitions %s", f->path, want_rep,
              f->rep_var ? "taken from 'repetition'/'rerepetition', whichever exists" : "unknown (-1)");
    if (!(lab = read_numeric(mat, f->path, f->label_var)) || (f->rep_var && !(rep = read_numeric(mat, f->path, f->rep_var)))) {
        rc = MB_EMAT;
        goto out;
    }
    if ((lab->dims[0] != 1 && lab->dims[1] != 1) || (rep && rep->dims[0] != 1 && rep->dims[1] != 1)) {
        const matvar_t *bad = lab->dims[0] != 1 && lab->dims[1] != 1 ? lab : rep;
        rc = mb_error(MB_EMAT, "'%s': '%s' is %zu x %zu, not a vector", f->path, bad->name ? bad->name : "?",
                      bad->dims[0], bad->dims[1]);
        goto out;
    }
    size_t ne = emg->dims[0], nl = vec_len(lab), nr = rep ? vec_len(rep) : ne;
    f->n = ne < nl ? ne : nl;
    f->n = f->n < nr ? f->n : nr;
    if (f->n == 0) {
        rc = mb_error(MB_EMAT, "'%s': no samples ('emg' %zu rows, '%s' %zu)", f->path, ne, f->label_var, nl);
        goto out;
    }
    if (ne != nl || ne != nr) {
        char lens[256];
        if (rep)
            snprintf(lens, sizeof lens, "'emg' has %zu rows, '%s' %zu and '%s' %zu", ne, f->label_var, nl,
                     f->rep_var, nr);
        else
            snprintf(lens, sizeof lens, "'emg' has %zu rows and '%s' %zu", ne, f->label_var, nl);
        size_t longest = ne > nl ? ne : nl;
        longest = longest > nr ? longest : nr;
        int big = longest - f->n > conv_trunc_allowed(longest);
        if (big && !o->allow_truncation) {
            rc = mb_error(MB_EFORMAT, "'%s': %s: cutting to the shortest (%zu) would drop %zu samples (%.1f %% of "
                          "the recording); use --allow-truncation to convert it anyway", f->path, lens, f->n,
                          longest - f->n, 100.0 * (double)(longest - f->n) / (double)longest);
            goto out;
        }
        fwarn(f, oom, "'%s': %s; truncated to the shortest, %zu%s", f->path, lens, f->n,
              big ? " (--allow-truncation)" : "");
    }
    f->labels = malloc(f->n * sizeof *f->labels);
    f->reps = malloc(f->n * sizeof *f->reps);
    if (!f->labels || !f->reps) {
        rc = mb_error(MB_ENOMEM, "out of memory for %zu samples of '%s'", f->n, f->path);
        goto out;
    }
    if ((rc = read_ints(f->labels, lab, f->n, f->path, f->label_var)) != MB_OK)
        goto out;
    if (rep) {
        if ((rc = read_ints(f->reps, rep, f->n, f->path, f->rep_var)) != MB_OK)
            goto out;
        for (size_t i = 0; i < f->n; i++)
            if (f->reps[i] < 0) {
                rc = mb_error(MB_EFORMAT, "'%s' sample %zu: %s value %d is negative", f->path, i + 1, f->rep_var,
                              f->reps[i]);
                goto out;
            }
    } else {
        for (size_t i = 0; i < f->n; i++)
            f->reps[i] = -1;
    }
    if ((rc = map_labels(f, o, oom)) != MB_OK)
        goto out;

    double val;
    f->subject_var = scalar_int(mat, &nm, "subject", &val);
    f->exercise_var = scalar_int(mat, &nm, "exercise", &val);
    f->rate_hz = o->db->rate_hz;
    if (names_has(&nm, "frequency")) {
        scalar_int(mat, &nm, "frequency", &val);
        if (isfinite(val) && val > 0) {
            f->rate_hz = val;
            f->has_frequency = 1;
        } else {
            fwarn(f, oom, "'%s': 'frequency' is not a positive scalar; used DB%d's %g Hz", f->path, o->db->db,
                  o->db->rate_hz);
        }
    }
    if ((rc = read_others(f, mat, &nm, o, oom)) != MB_OK)
        goto out;
    rc = check_finite(f, o, oom);
out:
    Mat_VarFree(lab);
    Mat_VarFree(rep);
    names_free(&nm);
    return rc;
}

int conv_np_load(struct conv_np_file *f, const char *path, const char *shown, const struct conv_np_load_opts *o)
{
    memset(f, 0, sizeof *f);
    f->subject_var = f->exercise_var = -1;
    pthread_once(&log_once, log_init);
    if (!(f->path = strdup(shown)))
        return mb_error(MB_ENOMEM, "out of memory");
    int rc = check_container(path, shown, &f->v73, 0);
    if (rc != MB_OK) {
        conv_np_release(f);
        return rc;
    }
    if (f->v73)
        pthread_mutex_lock(&h5_lock);
    mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
    int oom = 0;
    if (!mat)
        rc = mb_error(MB_EMAT, "'%s' is not a readable MAT file (truncated, corrupt or another format)", shown);
    else
        rc = load_open(f, mat, o, &oom);
    if (mat)
        Mat_Close(mat);
    if (f->v73)
        pthread_mutex_unlock(&h5_lock);
    if (rc == MB_OK && oom)
        rc = mb_error(MB_ENOMEM, "out of memory loading '%s'", shown);
    if (rc != MB_OK)
        conv_np_release(f);
    return rc;
}

void conv_np_release(struct conv_np_file *f)
{
    if (!f)
        return;
    free(f->path);
    free(f->labels);
    free(f->reps);
    for (size_t k = 0; k < f->n_streams; k++) {
        free(f->streams[k].name);
        Mat_VarFree(f->streams[k].var);
    }
    free(f->streams);
    for (size_t k = 0; k < f->n_tags; k++) {
        free(f->tags[k].key);
        free(f->tags[k].value);
    }
    free(f->tags);
    for (size_t k = 0; k < f->n_warn; k++)
        free(f->warn[k]);
    free(f->warn);
    Mat_VarFree(f->emg);
    memset(f, 0, sizeof *f);
}

int conv_np_peek(struct conv_np_peek *out, const char *path, int quiet)
{
    memset(out, 0, sizeof *out);
    pthread_once(&log_once, log_init);
    int rc = check_container(path, path, &out->v73, quiet);
    if (rc != MB_OK)
        return rc;
    if (out->v73)
        pthread_mutex_lock(&h5_lock);
    mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
    if (!mat) {
        rc = quiet ? MB_EMAT : mb_error(MB_EMAT, "'%s' is not a readable MAT file (truncated, corrupt or another format)", path);
    } else {
        matvar_t *v;
        while ((v = Mat_VarReadNextInfo(mat))) {
            if (v->name && v->rank == 2) {
                if (!strcmp(v->name, "emg")) {
                    out->emg_rows = v->dims[0];
                    out->emg_cols = v->dims[1];
                } else if (!strcmp(v->name, "glove")) {
                    out->n_glove = (int)v->dims[1];
                } else if (!strcmp(v->name, "restimulus")) {
                    out->has_restimulus = 1;
                } else if (!strcmp(v->name, "stimulus")) {
                    out->has_stimulus = 1;
                }
            }
            Mat_VarFree(v);
        }
        matvar_t *fr = Mat_VarRead(mat, "frequency");
        if (fr && sane(fr) && fr->dims[0] * fr->dims[1] == 1)
            out->frequency = at(fr, 0);
        Mat_VarFree(fr);
        Mat_Close(mat);
    }
    if (out->v73)
        pthread_mutex_unlock(&h5_lock);
    return rc;
}
