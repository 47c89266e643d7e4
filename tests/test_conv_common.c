/* tests/test_conv_common.c - converters/common.c: walk, pipeline, CSV tables. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "converters/common.h"
#include "tests/testutil.h"

static void write_file(const char *dir, const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f, "cannot write %s", p);
    fputs(text, f);
    fclose(f);
}

Test(conv_common, lists_files_recursively_sorted_and_filtered)
{
    char dir[64], sub[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/s2", dir);
    mkdir(sub, 0777);
    snprintf(sub, sizeof sub, "%s/s1", dir);
    mkdir(sub, 0777);
    write_file(dir, "s2/b.mat", "x");
    write_file(dir, "s1/a.MAT", "x");
    write_file(dir, "s1/notes.txt", "x");
    write_file(dir, ".hidden.mat", "x");
    struct conv_files f;
    cr_assert_eq(conv_list_files(&f, dir, ".mat"), MB_OK);
    cr_assert_eq(f.n, 2);
    cr_assert_str_eq(f.rel[0], "s1/a.MAT");
    cr_assert_str_eq(f.rel[1], "s2/b.mat");
    conv_files_release(&f);
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(conv_list_files(&f, "/nonexistent/dir", NULL), MB_EIO);
    cr_assert(strstr(mb_last_error(), "/nonexistent/dir"));
}

Test(conv_common, csv_table_reads_header_and_quoted_cells)
{
    char dir[64], p[128];
    tu_tmpdir(dir, sizeof dir);
    write_file(dir, "m.csv", "user,stage,split\nu1,\"Count, ing\",train\nu2,,test\n");
    snprintf(p, sizeof p, "%s/m.csv", dir);
    struct conv_csv t;
    cr_assert_eq(conv_csv_read(&t, p), MB_OK);
    cr_assert_eq(t.n_cols, 3);
    cr_assert_eq(t.n_rows, 2);
    int stage = conv_csv_col(&t, "stage");
    cr_assert_eq(stage, 1);
    cr_assert_str_eq(conv_csv_cell(&t, 0, stage), "Count, ing");
    cr_assert_str_eq(conv_csv_cell(&t, 1, stage), "");
    cr_assert_eq(conv_csv_col(&t, "nope"), -1);
    conv_csv_release(&t);
}

Test(conv_common, csv_table_rejects_ragged_rows_with_file_and_line)
{
    char dir[64], p[128];
    tu_tmpdir(dir, sizeof dir);
    write_file(dir, "m.csv", "a,b\n1,2\n3\n");
    snprintf(p, sizeof p, "%s/m.csv", dir);
    struct conv_csv t;
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(conv_csv_read(&t, p), MB_ECSV);
    cr_assert(strstr(mb_last_error(), "m.csv' line 3"), "%s", mb_last_error());
    write_file(dir, "e.csv", "");
    snprintf(p, sizeof p, "%s/e.csv", dir);
    cr_assert_eq(conv_csv_read(&t, p), MB_ECSV);
    cr_assert(strstr(mb_last_error(), "empty"), "%s", mb_last_error());
    write_file(dir, "q.csv", "a,b\n\"1,2\n");
    snprintf(p, sizeof p, "%s/q.csv", dir);
    cr_assert_eq(conv_csv_read(&t, p), MB_ECSV);
}

struct pctx { int order[64]; int n_written; };

static int p_load(void *ctx, size_t i, void **item)
{
    (void)ctx;
    if (i == 5)
        return MB_EFORMAT;
    int *v = malloc(sizeof *v);
    *v = (int)i * 10;
    *item = v;
    return MB_OK;
}

static int p_write(void *ctx, size_t i, void *item)
{
    struct pctx *c = ctx;
    cr_assert_eq(*(int *)item, (int)i * 10);
    c->order[c->n_written++] = (int)i;
    return MB_OK;
}

static void p_drop(void *ctx, void *item) { (void)ctx; free(item); }

Test(conv_common, pipeline_writes_in_order_and_skips_under_keep_going)
{
    mb_log_set_level(MB_LOG_QUIET);
    for (int threads = 1; threads <= 3; threads++) {
        struct pctx c = {0};
        struct conv_pipeline p = { .n = 12, .load = p_load, .write = p_write, .drop = p_drop,
                                   .ctx = &c, .threads = threads, .keep_going = 1, .what = "t" };
        struct mb_convert_result r = {0};
        cr_assert_eq(conv_run_pipeline(&p, &r), MB_OK);
        cr_assert_eq(r.n_skipped, 1);
        cr_assert_eq(r.n_files, 11);
        for (int k = 0, want = 0; k < c.n_written; k++, want++) {
            if (want == 5)
                want++;
            cr_assert_eq(c.order[k], want);
        }
        struct pctx c2 = {0};
        p.ctx = &c2;
        p.keep_going = 0;
        struct mb_convert_result r2 = {0};
        cr_assert_eq(conv_run_pipeline(&p, &r2), MB_EFORMAT);
        cr_assert_eq(c2.n_written, 5, "items before the bad one are written, none after");
    }
}
