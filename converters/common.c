/* converters/common.c - folder walk, ordered pipeline, CSV tables. */
#include "converters/common.h"

#include <csv.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fs.h"
#include "core/progress.h"

/* ---- folder walk -------------------------------------------------------- */

struct strvec { size_t n, cap; char **v; };

static int strvec_push(struct strvec *s, char *str)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return MB_ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = str;
    return MB_OK;
}

static int has_suffix(const char *name, const char *suffix)
{
    if (!suffix)
        return 1;
    size_t a = strlen(name), b = strlen(suffix);
    return a >= b && !strcasecmp(name + a - b, suffix);
}

static int walk(struct strvec *out, const char *root, const char *rel, const char *suffix)
{
    char *dir = rel[0] ? conv_join(root, rel) : strdup(root);
    if (!dir)
        return mb_error(MB_ENOMEM, "out of memory listing '%s'", root);
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        free(dir);
        return mb_error(MB_EIO, "cannot open folder '%s': %s", rel[0] ? rel : root, strerror(e));
    }
    int rc = MB_OK;
    struct dirent *de;
    while (rc == MB_OK && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        size_t n = strlen(rel) + strlen(de->d_name) + 2;
        char *child = malloc(n);
        if (!child) { rc = mb_error(MB_ENOMEM, "out of memory listing '%s'", root); break; }
        snprintf(child, n, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
        char *full = conv_join(root, child);
        struct stat st;
        if (!full || stat(full, &st) != 0) {
            free(full);
            free(child);
            continue;   /* dangling link or vanished file: not a source */
        }
        free(full);
        if (S_ISDIR(st.st_mode)) {
            rc = walk(out, root, child, suffix);
            free(child);
        } else if (S_ISREG(st.st_mode) && has_suffix(de->d_name, suffix)) {
            if (strvec_push(out, child) != MB_OK) {
                free(child);
                rc = mb_error(MB_ENOMEM, "out of memory listing '%s'", root);
            }
        } else {
            free(child);
        }
    }
    closedir(d);
    free(dir);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int conv_list_files(struct conv_files *out, const char *root, const char *suffix)
{
    struct strvec v = {0};
    out->n = 0;
    out->rel = NULL;
    if (!mb_fs_is_dir(root))
        return mb_error(MB_EIO, "'%s' is not a folder", root);
    int rc = walk(&v, root, "", suffix);
    if (rc != MB_OK) {
        for (size_t i = 0; i < v.n; i++)
            free(v.v[i]);
        free(v.v);
        return rc;
    }
    /* readdir order depends on the file system; sorting makes output order
     * (and so the bytes of the unified file) independent of it. */
    if (v.n)   /* qsort(NULL, 0, ...) is undefined (UBSan says so) */
        qsort(v.v, v.n, sizeof *v.v, cmp_str);
    out->n = v.n;
    out->rel = v.v;
    return MB_OK;
}

void conv_files_release(struct conv_files *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->rel[i]);
    free(f->rel);
    f->rel = NULL;
    f->n = 0;
}

char *conv_join(const char *root, const char *rel)
{
    size_t n = strlen(root) + strlen(rel) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", root, rel);
    return p;
}

int conv_hash_source(struct mbh5_source *src, const char *root, const char *rel)
{
    char *full = conv_join(root, rel);
    if (!full)
        return mb_error(MB_ENOMEM, "out of memory hashing '%s'", rel);
    src->path = rel;
    int rc = mb_fs_sha256(src->sha256, &src->bytes, full);
    free(full);
    return rc;
}

/* ---- ordered parallel pipeline ----------------------------------------- */

int conv_run_pipeline(const struct conv_pipeline *p, struct mb_convert_result *res)
{
    size_t batch = p->threads > 0 ? (size_t)p->threads : 1;
    void **items = calloc(batch, sizeof *items);
    int *st = calloc(batch, sizeof *st);
    char **why = calloc(batch, sizeof *why);   /* a failed load's message, from its thread */
    if (!items || !st || !why) {
        free(items);
        free(st);
        free(why);
        return mb_error(MB_ENOMEM, "out of memory starting the %s conversion", p->what);
    }
    int rc = MB_OK;
    struct mb_progress pr;
    if (p->progress) {
        char what[96];
        snprintf(what, sizeof what, "myobench: convert %s", p->what);
        mb_progress_start(&pr, stderr, what, "files", p->n, mb_progress_now());
    }
    for (size_t b = 0; b < p->n && rc == MB_OK; b += batch) {
        size_t m = p->n - b < batch ? p->n - b : batch;
        /* Items of a batch load concurrently; each thread writes only its
         * own slot, and nothing is written to the output until all are in. */
        #pragma omp parallel for schedule(dynamic, 1) num_threads((int)batch) if (batch > 1)
        for (size_t k = 0; k < m; k++) {
            items[k] = NULL;
            mb_last_error_clear();
            st[k] = p->load(p->ctx, b + k, &items[k]);
            /* mb_last_error() is per thread: read it on the loading one. */
            why[k] = st[k] != MB_OK && p->keep_going
                   ? strdup(*mb_last_error() ? mb_last_error() : mb_strerror(st[k])) : NULL;
        }
        for (size_t k = 0; k < m; k++) {
            size_t i = b + k;
            if (rc == MB_OK && st[k] != MB_OK) {
                if (p->keep_going) {
                    const char *name = p->name ? p->name(p->ctx, i) : "?";
                    res->n_skipped++;
                    fprintf(stderr, "myobench: skipped '%s'\n", name);
                    if (p->notes) {
                        size_t len = strlen(name) + (why[k] ? strlen(why[k]) : 16) + 64;
                        char *note = malloc(len);
                        if (!note)
                            rc = mb_error(MB_ENOMEM, "out of memory noting a skipped file");
                        else {
                            snprintf(note, len, "--keep-going: skipped '%s': %s", name,
                                     why[k] ? why[k] : mb_strerror(st[k]));
                            rc = mbh5_add_note(p->notes, note);
                            free(note);
                        }
                    }
                } else {
                    rc = st[k];
                }
            } else if (rc == MB_OK) {
                rc = p->write(p->ctx, i, items[k]);
                if (rc == MB_OK)
                    res->n_files++;
            }
            if (p->drop && items[k])
                p->drop(p->ctx, items[k]);
            items[k] = NULL;
            free(why[k]);
            why[k] = NULL;
        }
        if (p->progress)
            mb_progress_update(&pr, b + m, mb_progress_now());
    }
    if (p->progress)
        mb_progress_end(&pr, mb_progress_now());
    free(items);
    free(st);
    free(why);
    return rc;
}

/* ---- CSV tables --------------------------------------------------------- */

struct csv_state {
    struct strvec cells;
    size_t row_fields;     /* fields in the current row */
    size_t n_cols;         /* from the header; 0 until the header ends */
    size_t n_rows;         /* data rows completed */
    size_t line;           /* 1-based line of the current row */
    int err;
    const char *path;
};

static void on_field(void *s, size_t len, void *data)
{
    struct csv_state *c = data;
    if (c->err)
        return;
    char *f = malloc(len + 1);
    if (!f) { c->err = MB_ENOMEM; return; }
    if (len)
        memcpy(f, s, len);
    f[len] = '\0';
    if (strvec_push(&c->cells, f) != MB_OK) { free(f); c->err = MB_ENOMEM; return; }
    c->row_fields++;
}

static void on_row(int term, void *data)
{
    (void)term;
    struct csv_state *c = data;
    if (c->err)
        return;
    c->line++;
    if (c->n_cols == 0) {
        c->n_cols = c->row_fields;
    } else if (c->row_fields != c->n_cols) {
        c->err = mb_error(MB_ECSV, "'%s' line %zu: %zu fields where the header has %zu",
                          c->path, c->line, c->row_fields, c->n_cols);
        return;
    } else {
        c->n_rows++;
    }
    c->row_fields = 0;
}

int conv_csv_read(struct conv_csv *t, const char *path)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f)
        return mb_error(MB_EIO, "cannot open '%s': %s", path, strerror(errno));
    struct csv_parser parser;
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        fclose(f);
        return mb_error(MB_ENOMEM, "cannot start the CSV parser for '%s'", path);
    }
    struct csv_state c = { .path = path };
    char buf[1 << 16];
    size_t n;
    while (!c.err && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (csv_parse(&parser, buf, n, on_field, on_row, &c) != n && !c.err)
            c.err = mb_error(MB_ECSV, "'%s' near line %zu: %s", path, c.line + 1,
                             csv_strerror(csv_error(&parser)));
    }
    if (!c.err && csv_fini(&parser, on_field, on_row, &c) != 0)
        c.err = mb_error(MB_ECSV, "'%s' line %zu: %s", path, c.line + 1, csv_strerror(csv_error(&parser)));
    csv_free(&parser);
    fclose(f);
    if (!c.err && c.n_cols == 0)
        c.err = mb_error(MB_ECSV, "'%s': empty file, expected a header row", path);
    if (c.err) {
        if (c.err == MB_ENOMEM)
            mb_error(MB_ENOMEM, "out of memory reading '%s'", path);
        for (size_t i = 0; i < c.cells.n; i++)
            free(c.cells.v[i]);
        free(c.cells.v);
        return c.err;
    }
    t->path = strdup(path);
    t->n_cols = c.n_cols;
    t->n_rows = c.n_rows;
    t->header = c.cells.v;
    t->cells = c.cells.v + c.n_cols;
    return MB_OK;
}

void conv_csv_release(struct conv_csv *t)
{
    if (!t->header)
        return;
    size_t total = t->n_cols * (t->n_rows + 1);
    for (size_t i = 0; i < total; i++)
        free(t->header[i]);
    free(t->header);
    free(t->path);
    memset(t, 0, sizeof *t);
}

int conv_csv_col(const struct conv_csv *t, const char *name)
{
    for (size_t i = 0; i < t->n_cols; i++)
        if (!strcmp(t->header[i], name))
            return (int)i;
    return -1;
}

int conv_create_output(struct mbh5_writer **w, const struct mb_convert_opts *o, const struct mbh5_corpus *corpus)
{
    int rc = mbh5_create(w, o->out, corpus);
    if (rc == MB_OK && o->uncompressed && (rc = mbh5_set_compression(*w, MBH5_COMPRESS_NONE)) != MB_OK) {
        mbh5_abort(*w);
        *w = NULL;
    }
    return rc;
}
