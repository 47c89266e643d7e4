/* synth/corpus.c - writing a whole population: every file of synth_list(),
 * rendered in parallel, HDF5 written outside parallel regions, then
 * emg2pose/metadata.csv. Each file depends only on (params, its key), so
 * the bytes do not depend on the thread count or on the order of work. */
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/fs.h"
#include "synth/synth.h"
#include "synth/write.h"

static int join(char *out, size_t cap, const char *dir, const char *rel)
{
    int k = snprintf(out, cap, "%s/%s", dir, rel);
    if (k < 0 || (size_t)k >= cap)
        return mb_error(MB_EINVAL, "output path '%s/%s' too long", dir, rel);
    return MB_OK;
}

static int write_rendered(const char *dir, const struct synth_params *p, const struct synth_recording *r)
{
    char path[4096];
    int rc = join(path, sizeof path, dir, r->file.relpath);
    if (rc != MB_OK)
        return rc;
    switch (r->file.dev) {
    case SYNTH_EMG2POSE:
        return synth_write_e2p(path, r, p->e2p_f32);
    case SYNTH_DB1: case SYNTH_DB2: case SYNTH_DB5:
        return synth_write_mat(path, r, p->seed);
    default:
        return synth_write_text(path, r);
    }
}

static int make_parent(const char *dir, const char *rel)
{
    char path[4096];
    int rc = join(path, sizeof path, dir, rel);
    if (rc != MB_OK)
        return rc;
    char *slash = strrchr(path, '/');
    if (slash)
        *slash = '\0';
    return mb_fs_mkdirs(path);
}

static int write_model_file(const char *dir, int model)
{
    char path[4096], tmp[4096];
    int rc = join(path, sizeof path, dir, SYNTH_MODEL_FILE);
    if (rc == MB_OK)
        rc = mb_fs_tmpname(tmp, sizeof tmp, path);
    if (rc != MB_OK)
        return rc;
    FILE *fp = fopen(tmp, "wb");
    if (!fp)
        return mb_error(MB_EIO, "cannot create '%s': %s", tmp, strerror(errno));
    fprintf(fp, "v%d\n", model);
    if (ferror(fp) | fclose(fp)) {
        remove(tmp);
        return mb_error(MB_EIO, "cannot write '%s'", path);
    }
    return mb_fs_commit(tmp, path);
}

/* A directory holds one model's corpus: dir/SYNTH_MODEL speaks for every
 * text-dialect file under it, so rendering another model there would leave
 * it wrong for the files this run does not overwrite (model 1 writes no
 * marker, so a v2 marker would stay and call v1 files v2). */
static int check_model_file(const char *dir, int model)
{
    char path[4096];
    int rc = join(path, sizeof path, dir, SYNTH_MODEL_FILE);
    if (rc != MB_OK || !mb_fs_is_file(path))
        return rc;
    int was;
    rc = synth_read_model(&was, dir);
    if (rc == MB_OK && was != model)
        rc = mb_error(MB_EINVAL, "'%s' records model v%d: rendering model v%d into '%s' would mix two models "
                      "(use another output directory, or remove the old corpus)", path, was, model, dir);
    return rc;
}

int synth_read_model(int *model, const char *dir)
{
    char path[4096], line[64];
    *model = 1;
    int rc = join(path, sizeof path, dir, SYNTH_MODEL_FILE);
    if (rc != MB_OK)
        return rc;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (errno == ENOENT)
            return MB_OK;           /* nothing recorded: model 1 */
        return mb_error(MB_EIO, "cannot open '%s': %s", path, strerror(errno));
    }
    size_t n = fread(line, 1, sizeof line - 1, fp);
    int bad = ferror(fp);
    fclose(fp);
    if (bad)
        return mb_error(MB_EIO, "cannot read '%s'", path);
    line[n] = '\0';
    if (!strcmp(line, "v1\n") || !strcmp(line, "v2\n")) {
        *model = line[1] - '0';
        return MB_OK;
    }
    return mb_error(MB_EFORMAT, "'%s' line 1: expected 'v1' or 'v2'", path);
}

int synth_write_file(const char *dir, const struct synth_params *p, const struct synth_file *f)
{
    struct synth_recording r;
    int rc = synth_render(&r, p, f);
    if (rc != MB_OK)
        return rc;
    rc = make_parent(dir, r.file.relpath);
    if (rc == MB_OK)
        rc = write_rendered(dir, p, &r);
    synth_recording_free(&r);
    return rc;
}

int synth_write(const char *dir, const struct synth_params *p, size_t *n_files)
{
    struct synth_file *files;
    size_t nf;
    int rc = synth_list(&files, &nf, p);
    if (rc != MB_OK)
        return rc;
    rc = check_model_file(dir, p->model);
    /* Model 2 records itself at the root for the text dialects, which have
     * no place for it (docs/SYNTH.md), before any file: a run that fails
     * half-way leaves v2 files that still say so. Model 1 writes nothing
     * (v1 implied). */
    if (rc == MB_OK && p->model == 2)
        rc = make_parent(dir, SYNTH_MODEL_FILE);
    if (rc == MB_OK && p->model == 2)
        rc = write_model_file(dir, p->model);
    /* Directories first, serially: workers then only create files. */
    for (size_t i = 0; i < nf && rc == MB_OK; i++) {
        const char *a = files[i].relpath, *sa = strrchr(a, '/');
        const char *b = i ? files[i - 1].relpath : NULL, *sb = b ? strrchr(b, '/') : NULL;
        if (!b || sa - a != sb - b || strncmp(a, b, (size_t)(sa - a)) != 0)
            rc = make_parent(dir, a);
    }
    /* emg2pose files come first in the list; the rest need no HDF5. */
    size_t ne = 0;
    while (ne < nf && files[ne].dev == SYNTH_EMG2POSE)
        ne++;
    char why[1024] = "";   /* first worker's message, for mb_last_error() here */
    int nt = omp_get_max_threads();
    if (nt < 1)
        nt = 1;

    /* HDF5 (serial library): render a batch in parallel, write it serially. */
    struct synth_recording *batch = calloc((size_t)nt, sizeof *batch);
    int *brc = calloc((size_t)nt, sizeof *brc);
    if (rc == MB_OK && (!batch || !brc))
        rc = mb_error(MB_ENOMEM, "synth: out of memory");
    for (size_t b = 0; b < ne && rc == MB_OK; b += (size_t)nt) {
        size_t nb = ne - b < (size_t)nt ? ne - b : (size_t)nt;
        #pragma omp parallel for schedule(dynamic, 1)
        for (size_t k = 0; k < nb; k++) {
            brc[k] = synth_render(&batch[k], p, &files[b + k]);
            if (brc[k] != MB_OK) {
                #pragma omp critical(synth_rc)
                snprintf(why, sizeof why, "%s", mb_last_error());
            }
        }
        for (size_t k = 0; k < nb; k++) {
            if (rc == MB_OK && brc[k] != MB_OK) {
                enum mb_log_level lv = mb_log_get_level();
                mb_log_set_level(MB_LOG_QUIET);
                rc = mb_error(brc[k], "%s", why);
                mb_log_set_level(lv);
            }
            if (rc == MB_OK)
                rc = write_rendered(dir, p, &batch[k]);
            if (brc[k] == MB_OK)
                synth_recording_free(&batch[k]);
        }
    }
    free(batch);
    free(brc);

    if (rc == MB_OK && ne > 0) {
        struct synth_recording *rows = calloc(ne, sizeof *rows);
        if (!rows)
            rc = mb_error(MB_ENOMEM, "synth: out of memory");
        for (size_t i = 0; i < ne && rc == MB_OK; i++)
            rc = synth_describe(&rows[i], p, &files[i]);
        char path[4096];
        if (rc == MB_OK)
            rc = join(path, sizeof path, dir, "emg2pose/metadata.csv");
        if (rc == MB_OK)
            rc = synth_write_e2p_metadata(path, rows, ne);
        free(rows);
    }

    /* MAT (libmatio, zlib) and text files: independent, in parallel. */
    int prc = MB_OK;
    if (rc == MB_OK) {
        #pragma omp parallel for schedule(dynamic, 1)
        for (size_t i = ne; i < nf; i++) {
            int r;
            #pragma omp atomic read
            r = prc;
            if (r != MB_OK)
                continue;
            r = synth_write_file(dir, p, &files[i]);
            if (r != MB_OK) {
                #pragma omp critical(synth_rc)
                if (prc == MB_OK) {
                    prc = r;
                    snprintf(why, sizeof why, "%s", mb_last_error());
                }
            }
        }
        rc = prc;
        if (rc != MB_OK) {
            /* The worker printed the message; keep it for this thread too. */
            enum mb_log_level lv = mb_log_get_level();
            mb_log_set_level(MB_LOG_QUIET);
            mb_error(rc, "%s", why);
            mb_log_set_level(lv);
        }
    }
    if (n_files && rc == MB_OK)
        *n_files = nf + (ne > 0) + (p->model == 2);
    free(files);
    return rc;
}
