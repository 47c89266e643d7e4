/* tests/test_conv_common.c - converters/common.c: walk, pipeline, CSV tables; the
 * registry's option tables and how 'myobench convert' uses them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "converters/common.h"
#include "converters/converter.h"
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

/* ---- options each converter declares -------------------------------------- */

/* The options of every converter, parsed by cli/cmd_convert.c itself. */
static const char *const common_names[] = { "out", "jobs", "keep-going", "limit-subjects", "allow-nonfinite",
                                            "no-progress", "compression", "help", NULL };

/* Each table entry is complete and points inside its converter's struct;
 * a name is declared once per converter, never shadows a common option,
 * and means the same kind of value in every converter that declares it
 * (the CLI builds one getopt entry per name). */
Test(conv_common, converter_option_tables_are_well_formed)
{
    for (const struct mb_converter *const *c = mb_converters; *c; c++) {
        cr_assert((*c)->name && (*c)->summary && (*c)->convert, "converter %s", (*c)->name);
        cr_assert(!(*c)->probe || (*c)->recognises, "%s: a probe says what it recognises", (*c)->name);
        cr_assert(!(*c)->auto_arg || (*c)->arg, "%s: auto_arg only with an ARG", (*c)->name);
        if ((*c)->arg) {
            cr_assert((*c)->arg->name && (*c)->arg->help, "%s", (*c)->name);
            cr_assert_leq((*c)->arg->offset + sizeof(const char *), (*c)->opts_size, "%s: ARG inside", (*c)->name);
        }
        for (const struct mb_conv_opt *o = (*c)->options; o && o->name; o++) {
            cr_assert(o->help && o->help[0], "%s --%s: help", (*c)->name, o->name);
            cr_assert_eq(o->metavar == NULL, o->type == MB_CONV_OPT_FLAG, "%s --%s: a value name iff a value",
                         (*c)->name, o->name);
            size_t size = o->type == MB_CONV_OPT_FLAG || o->type == MB_CONV_OPT_INT ? sizeof(int) : sizeof(char *);
            cr_assert_leq(o->offset + size, (*c)->opts_size, "%s --%s: inside the struct", (*c)->name, o->name);
            if (o->type == MB_CONV_OPT_INT)
                cr_assert_leq(o->min, o->max, "%s --%s", (*c)->name, o->name);
            if (o->type == MB_CONV_OPT_CHOICE)
                cr_assert(o->choices && o->choices[0], "%s --%s: choices", (*c)->name, o->name);
            for (size_t k = 0; common_names[k]; k++)
                cr_assert_str_neq(o->name, common_names[k], "%s: --%s is an option of every converter", (*c)->name,
                                  o->name);
            cr_assert_eq(mb_converter_option(*c, o->name), o, "%s: --%s declared twice", (*c)->name, o->name);
            for (const struct mb_converter *const *d = mb_converters; *d; d++) {
                const struct mb_conv_opt *same = mb_converter_option(*d, o->name);
                cr_assert(!same || same->type == o->type, "--%s: one kind of value in %s and %s", o->name,
                          (*c)->name, (*d)->name);
            }
        }
    }
    cr_assert_null(mb_converter_option(mb_converter_find("emg2pose"), "db"));
    cr_assert_not_null(mb_converter_option(mb_converter_find("ninapro"), "db"));
}

/* The CLI knows converters only through the registry. */
Test(conv_common, cmd_convert_names_no_converter)
{
    FILE *f = fopen("cli/cmd_convert.c", "r");
    cr_assert_not_null(f, "run from the repository root");
    char line[1024];
    for (size_t n = 1; fgets(line, sizeof line, f); n++)
        for (const struct mb_converter *const *c = mb_converters; *c; c++)
            cr_expect(!strcasestr(line, (*c)->name), "cli/cmd_convert.c line %zu names '%s': %s", n, (*c)->name,
                      line);
    fclose(f);
}

/* 'convert --help' lists each converter's options (and its ARG) under its name. */
Test(conv_common, convert_help_lists_the_options_of_each_converter, .timeout = 30)
{
    char *out, *err;
    cr_assert_eq(tu_run(&out, &err, "convert --help"), 0);
    for (const struct mb_converter *const *c = mb_converters; *c; c++) {
        char head[128];
        snprintf(head, sizeof head, "\n\n%s:", (*c)->name);
        const char *sec = strstr(out, head);
        cr_assert_not_null(sec, "a section for %s: %s", (*c)->name, out);
        sec += 2;
        const char *end = strstr(sec, "\n\n");
        size_t len = end ? (size_t)(end - sec) : strlen(sec);
        char *s = strndup(sec, len);
        if ((*c)->arg) {
            char want[128];
            snprintf(want, sizeof want, "\n  %s ", (*c)->arg->name);
            cr_expect(strstr(s, want), "%s: its ARG %s: %s", (*c)->name, (*c)->arg->name, s);
        }
        for (const struct mb_conv_opt *o = (*c)->options; o && o->name; o++) {
            char want[128];
            snprintf(want, sizeof want, "      --%s%s%s ", o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
            cr_expect(strstr(s, want), "%s lists --%s: %s", (*c)->name, o->name, s);
        }
        free(s);
    }
    cr_expect(strstr(out, "\nninapro:\n      --db N ") && strstr(out, "      --labels L "), "%s", out);
    free(out);
    free(err);
}

/* An option the chosen converter does not declare is a usage error naming
 * both, before any work (it used to be ignored: 'convert spec ... --db 2'
 * converted, and 'convert auto' took NinaPro flags for any folder). */
Test(conv_common, an_option_of_another_converter_is_a_usage_error, .timeout = 60)
{
    TU_NEED_REAL("kaufmann_multiday");
    TU_NEED_REAL("ninapro_db1");
    char dir[64], args[8192], p[160], *out, *err;
    tu_tmpdir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/x.h5", dir);
    snprintf(args, sizeof args, "convert spec kaufmann_multiday %s -o %s --db 2 --no-progress",
             tu_real("kaufmann_multiday"), p);
    cr_assert_eq(tu_run(&out, &err, args), 2, "%s", err);
    cr_assert(strstr(err, "convert spec: --db is not an option of the 'spec' converter"), "%s", err);
    cr_assert_eq(access(p, F_OK), -1, "nothing written");
    free(out); free(err);
    snprintf(args, sizeof args, "convert auto %s -o %s --labels stimulus --no-progress",
             tu_real("kaufmann_multiday"), p);
    cr_assert_eq(tu_run(&out, &err, args), 2, "%s", err);
    cr_assert(strstr(err, "convert auto (which chose 'spec'): --labels is not an option of the 'spec' converter"),
              "%s", err);
    cr_assert_eq(access(p, F_OK), -1, "nothing written");
    free(out); free(err);
    /* Declared ones keep their spellings and checks, by name or through auto. */
    snprintf(args, sizeof args, "convert auto %s -o %s --labels stimulus --db 1 --allow-truncation "
             "--limit-subjects 1 --no-progress", tu_real("ninapro_db1"), p);
    cr_assert_eq(tu_run(&out, &err, args), 0, "%s", err);
    free(out); free(err);
    snprintf(args, sizeof args, "convert ninapro %s -o %s --db 9", tu_real("ninapro_db1"), p);
    cr_assert_eq(tu_run(&out, &err, args), 2, "%s", err);
    cr_assert(strstr(err, "--db takes 1 to 8"), "%s", err);
    free(out); free(err);
    snprintf(args, sizeof args, "convert ninapro %s -o %s --labels raw", tu_real("ninapro_db1"), p);
    cr_assert_eq(tu_run(&out, &err, args), 2, "%s", err);
    cr_assert(strstr(err, "--labels takes 'restimulus' or 'stimulus', got 'raw'"), "%s", err);
    free(out); free(err);
    snprintf(args, sizeof args, "convert spec %s -o %s", tu_real("kaufmann_multiday"), p);
    cr_assert_eq(tu_run(&out, &err, args), 2, "%s", err);
    cr_assert(strstr(err, "convert spec: expected SPEC SRC_DIR"), "%s", err);
    free(out); free(err);
}
