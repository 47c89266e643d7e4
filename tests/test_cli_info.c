/* tests/test_cli_info.c - 'myobench info' and 'myobench validate' as a user runs them. */
#include <jansson.h>
#include <math.h>

#include "format/mbh5.h"
#include "testutil.h"

/* Two recordings of two subjects, one held-out gesture, split tags; a NaN
 * at row index 7, channel index 1 (sample 8, channel 2) of the second
 * recording when 'nan' is set. */
static void write_named_fixture(const char *p, const char *name, int nan)
{
    struct mbh5_corpus corpus = { .name = name, .source_dataset = "CLI DB", .source_version = "2",
                                  .converter = "unit", .converter_version = "0.1", .params_json = "{}" };
    struct mbh5_writer *w;
    cr_assert_eq(mbh5_create(&w, p, &corpus), MB_OK);
    struct mbh5_device dev = { .name = "myo", .n_channels = 8, .rate_hz = 200, .units = "a.u." };
    cr_assert_eq(mbh5_add_device(w, &dev), MB_OK);
    cr_assert_eq(mbh5_add_source(w, "a.csv", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 10),
                 MB_OK);
    cr_assert_eq(mbh5_add_gesture(w, &(struct mbh5_gesture){ 0, "rest", "0", 0 }), MB_OK);
    cr_assert_eq(mbh5_add_gesture(w, &(struct mbh5_gesture){ 1, "fist", "1", 1 }), MB_OK);
    cr_assert_eq(mbh5_add_note(w, "a note"), MB_OK);
    float x[720 * 8];
    int32_t lab[720];
    for (size_t rec = 0; rec < 2; rec++) {
        struct mbh5_rec_info info = { .subject = rec ? "u2" : "u1", .session = "1", .device = "myo", .rate_hz = 200,
                                      .n_channels = 8, .day = 1, .start_time = NAN };
        struct mbh5_rec *r;
        cr_assert_eq(mbh5_rec_begin(w, &r, &info), MB_OK);
        cr_assert_eq(mbh5_rec_add_tag(r, "split", rec ? "test" : "train"), MB_OK);
        for (size_t i = 0; i < 720; i++) {
            for (size_t c = 0; c < 8; c++)
                x[i * 8 + c] = (float)(i + c);
            lab[i] = i < 200 ? 0 : i < 400 ? 1 : -1;
        }
        if (nan && rec == 1)
            x[7 * 8 + 1] = NAN;
        cr_assert_eq(mbh5_rec_append(r, x, lab, NULL, NULL, 720), MB_OK);
        cr_assert_eq(mbh5_rec_end(r), MB_OK);
    }
    cr_assert_eq(mbh5_commit(w), MB_OK);
}

static void write_fixture(const char *p, int nan)
{
    write_named_fixture(p, "cli-corpus", nan);
}

static void fixture_path(char *p, size_t cap, char *dir, size_t dcap, const char *name, int nan)
{
    tu_tmpdir(dir, dcap);
    snprintf(p, cap, "%s/%s", dir, name);
    write_fixture(p, nan);
}

static void cleanup(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(cli_info, prints_the_summary_table, .timeout = 30)
{
    char dir[64], p[128], args[256], *out, *err;
    fixture_path(p, sizeof p, dir, sizeof dir, "c.h5", 0);
    snprintf(args, sizeof args, "info '%s'", p);
    cr_assert_eq(tu_run(&out, &err, args), 0, "stderr: %s", err);
    cr_expect(strstr(out, "corpus      cli-corpus (CLI DB 2)"), "%s", out);
    cr_expect(strstr(out, "subjects    2 (0 held out)"), "%s", out);
    cr_expect(strstr(out, "recordings  2, 0.00 hours, 1440 samples"), "%s", out);
    cr_expect(strstr(out, "myo                             8        200          2"), "%s", out);
    cr_expect(strstr(out, "1* fist"), "held-out gestures are marked: %s", out);
    cr_expect(strstr(out, "split: train 1, test 1"), "%s", out);
    cr_expect(strstr(out, "sources     1 files"), "%s", out);
    cr_expect(strstr(out, "\nnotes       1\n  1. a note\n"), "the notes themselves, not only their count: %s", out);
    free(out);
    free(err);
    cleanup(dir);
}

Test(cli_info, json_has_the_same_content, .timeout = 30)
{
    char dir[64], p[128], args[256], *out, *err;
    fixture_path(p, sizeof p, dir, sizeof dir, "c.h5", 0);
    snprintf(args, sizeof args, "info --json '%s'", p);
    cr_assert_eq(tu_run(&out, &err, args), 0, "stderr: %s", err);
    json_error_t je;
    json_t *o = json_loads(out, 0, &je);
    cr_assert_not_null(o, "not JSON (%s): %s", je.text, out);
    cr_expect_str_eq(json_string_value(json_object_get(o, "name")), "cli-corpus");
    cr_expect_eq(json_integer_value(json_object_get(o, "n_recordings")), 2);
    cr_expect_eq(json_integer_value(json_object_get(o, "n_sources")), 1);
    cr_expect_eq(json_integer_value(json_object_get(o, "samples")), 1440);
    cr_expect(fabs(json_real_value(json_object_get(o, "hours")) - 1440.0 / 200 / 3600) < 1e-12);
    json_t *d = json_array_get(json_object_get(o, "devices"), 0);
    cr_expect_eq(json_integer_value(json_object_get(d, "n_channels")), 8);
    cr_expect_eq(json_real_value(json_object_get(d, "rate_hz")), 200.0);
    json_t *g = json_array_get(json_object_get(o, "gestures"), 1);
    cr_expect(json_is_true(json_object_get(g, "held_out")));
    cr_expect_eq(json_integer_value(json_object_get(g, "segments")), 2);
    json_t *split = json_object_get(json_object_get(o, "split_tags"), "split");
    cr_expect_eq(json_integer_value(json_object_get(split, "test")), 1);
    json_t *notes = json_object_get(o, "notes");
    cr_expect_eq(json_array_size(notes), 1);
    cr_expect_str_eq(json_string_value(json_array_get(notes, 0)), "a note");
    json_decref(o);
    free(out);
    free(err);
    cleanup(dir);
}

Test(cli_info, usage_and_failures_have_their_exit_codes, .timeout = 30)
{
    char *out, *err;
    cr_expect_eq(tu_run(&out, &err, "info --help"), 0);
    cr_expect(strstr(out, "usage: myobench info FILE [--json]"), "%s", out);
    free(out);
    free(err);
    cr_expect_eq(tu_run(&out, &err, "info"), 2);
    cr_expect(strstr(err, "usage:"), "%s", err);
    free(out);
    free(err);
    cr_expect_eq(tu_run(&out, &err, "info --bogus x.h5"), 2);
    free(out);
    free(err);
    cr_expect_eq(tu_run(&out, &err, "info /nonexistent/none.h5"), 1);
    cr_expect(strstr(err, "'/nonexistent/none.h5'"), "errors name the file: %s", err);
    cr_expect_str_eq(out, "");
    free(out);
    free(err);
}

Test(cli_validate, valid_file_exits_0_with_nothing_on_stdout, .timeout = 30)
{
    char dir[64], p[128], args[256], *out, *err;
    fixture_path(p, sizeof p, dir, sizeof dir, "ok.h5", 0);
    snprintf(args, sizeof args, "validate '%s'", p);
    cr_expect_eq(tu_run(&out, &err, args), 0, "%s %s", out, err);
    cr_expect_str_eq(out, "");
    cr_expect(strstr(err, "valid"), "%s", err);
    free(out);
    free(err);
    cleanup(dir);
}

Test(cli_validate, problems_are_lines_on_stdout_and_exit_1, .timeout = 30)
{
    char dir[64], p[128], args[512], want[256], *out, *err;
    fixture_path(p, sizeof p, dir, sizeof dir, "nan.h5", 1);
    snprintf(args, sizeof args, "validate '%s'", p);
    cr_expect_eq(tu_run(&out, &err, args), 1);
    snprintf(want, sizeof want, "%s: /recordings/r000001/emg: 1 NaN/Inf values, first at sample 8 channel 2\n", p);
    cr_expect_str_eq(out, want);
    cr_expect(strstr(err, "1 problem"), "%s", err);
    free(out);
    free(err);
    /* A truncated copy: one line naming the file, exit 1. */
    char cut[160];
    snprintf(cut, sizeof cut, "%s/cut.h5", dir);
    snprintf(args, sizeof args, "head -c 3000 '%s' > '%s'", p, cut);
    cr_assert_eq(system(args), 0);
    snprintf(args, sizeof args, "validate '%s'", cut);
    cr_expect_eq(tu_run(&out, &err, args), 1);
    snprintf(want, sizeof want, "%s: /: ", cut);
    cr_expect(!strncmp(out, want, strlen(want)), "%s", out);
    cr_expect(strstr(err, cut), "%s", err);
    free(out);
    free(err);
    cleanup(dir);
}

Test(cli_validate, usage_has_its_exit_codes, .timeout = 30)
{
    char *out, *err;
    cr_expect_eq(tu_run(&out, &err, "validate --help"), 0);
    cr_expect(strstr(out, "usage: myobench validate FILE..."), "%s", out);
    free(out);
    free(err);
    cr_expect_eq(tu_run(&out, &err, "validate"), 2);
    cr_expect(strstr(err, "expected at least one FILE"), "%s", err);
    free(out);
    free(err);
    cr_expect_eq(tu_run(&out, &err, "help validate"), 0);
    cr_expect(strstr(out, "usage: myobench validate"), "%s", out);
    free(out);
    free(err);
}

/* ---- run ----------------------------------------------------------------- */

/* Two datasets: the job count runs over both (it restarted per dataset,
 * printing two "2/2" for 4 jobs), the dataset is named, and while the
 * second is not planned yet the total is marked as a lower bound. */
Test(cli_run, progress_counts_jobs_over_every_dataset, .timeout = 60)
{
    char dir[64], a[128], b[128], args[1024], *out, *err;
    tu_tmpdir(dir, sizeof dir);
    snprintf(a, sizeof a, "%s/a.h5", dir);
    snprintf(b, sizeof b, "%s/b.h5", dir);
    write_named_fixture(a, "alpha", 0);
    write_named_fixture(b, "beta", 0);
    snprintf(args, sizeof args, "run --data %s,%s --protocol loso --methods lda-td4 --db %s/r.db --progress lines -j 1",
             a, b, dir);
    cr_assert_eq(tu_run(&out, &err, args), 0, "%s", err);
    cr_expect(strstr(err, "[1/2+] ok     alpha / loso / lda-td4 / loso/u1") &&
              strstr(err, "[2/2+] ok     alpha / loso / lda-td4 / loso/u2") &&
              strstr(err, "[3/4] ok     beta / loso / lda-td4 / loso/u1") &&
              strstr(err, "[4/4] ok     beta / loso / lda-td4 / loso/u2"), "%s", err);
    free(out);
    free(err);
    cleanup(dir);
}

/* The fixture's gestures have one segment each, cut into three time blocks:
 * 5 shots cannot leave one to test, so fewshot-k5 is refused (n/a, with
 * the reason in the report) instead of running 2 shots under the name k5. */
Test(cli_run, a_fewshot_budget_above_the_repetitions_is_refused_and_the_report_says_why, .timeout = 60)
{
    char dir[64], a[128], plan[160], args[1024], *out, *err;
    tu_tmpdir(dir, sizeof dir);
    snprintf(a, sizeof a, "%s/a.h5", dir);
    write_named_fixture(a, "alpha", 0);
    snprintf(plan, sizeof plan, "%s/plan.yaml", dir);
    FILE *f = fopen(plan, "w");
    cr_assert_not_null(f);
    fprintf(f, "data: [%s]\nprotocols: [{ name: fewshot, shots: [1, 5], episodes: 1 }]\nmethods: [lda-td4]\n", a);
    fclose(f);
    snprintf(args, sizeof args, "run %s --db %s/r.db --progress none", plan, dir);
    cr_assert_eq(tu_run(&out, &err, args), 0, "n/a is not a failure: %s", err);
    cr_expect(strstr(err, "4 jobs: 2 ok, 2 n/a, 0 failed"), "%s", err);
    free(out);
    free(err);
    snprintf(args, sizeof args, "report %s/r.db", dir);
    cr_assert_eq(tu_run(&out, &err, args), 0, "%s", err);
    cr_expect(strstr(out, "## alpha / fewshot-k1 (N = 2)"), "%s", out);
    cr_expect(strstr(out, "## alpha / fewshot-k5\n\nno results"), "%s", out);
    cr_expect(strstr(out, "n/a: fewshot-k5 refused: 5 shots of every gesture and one repetition left to test need 6 "
                          "repetitions (or time blocks) per gesture; subject 'u1' has 3 of gesture"), "%s", out);
    free(out);
    free(err);
    cleanup(dir);
}

/* ---- every command's --help -------------------------------------------------- */

/* The commands 'myobench --help' lists, each malloc'ed into names[]. */
static size_t list_commands(char *names[], size_t cap)
{
    char *out, *err;
    cr_assert_eq(tu_run(&out, &err, "--help"), 0);
    size_t n = 0;
    const char *p = strstr(out, "commands:\n");
    cr_assert_not_null(p, "%s", out);
    for (p = strchr(p, '\n') + 1; n < cap && !strncmp(p, "  ", 2) && p[2] != ' '; p = strchr(p, '\n') + 1) {
        size_t l = strcspn(p + 2, " ");
        names[n++] = strndup(p + 2, l);
    }
    free(out);
    free(err);
    cr_assert_geq(n, 8, "synth, convert, info, validate, methods, run, report, prune at least");
    return n;
}

Test(cli_help, every_command_states_its_exit_statuses, .timeout = 60)
{
    char *names[32], args[64], *out, *err;
    size_t n = list_commands(names, 32);
    for (size_t i = 0; i < n; i++) {
        snprintf(args, sizeof args, "%s --help", names[i]);
        cr_assert_eq(tu_run(&out, &err, args), 0, "%s", args);
        const char *st = strstr(out, "exit status: 0 ");
        cr_expect(st && strstr(st, ", 2 usage error"), "'%s' gives the meaning of 0 and 2 (and 1 where it can "
                  "fail): %s", args, out);
        if (strcmp(names[i], "methods"))
            cr_expect(st && strstr(st, ", 1 "), "'%s' gives the meaning of 1: %s", args, out);
        free(out);
        free(err);
        free(names[i]);
    }
}

/* One spelling: every command that takes a thread count takes -j/--jobs
 * and no help text says --threads. */
Test(cli_help, the_thread_flag_is_j_jobs_everywhere, .timeout = 60)
{
    char *names[32], args[64], *out, *err;
    size_t n = list_commands(names, 32);
    const char *threaded[] = { "synth", "convert", "validate", "run" };
    for (size_t i = 0; i < n; i++) {
        snprintf(args, sizeof args, "%s --help", names[i]);
        cr_assert_eq(tu_run(&out, &err, args), 0, "%s", args);
        cr_expect(!strstr(out, "--threads"), "'%s' says --threads: %s", args, out);
        int want = 0;
        for (size_t k = 0; k < sizeof threaded / sizeof *threaded; k++)
            want |= !strcmp(threaded[k], names[i]);
        cr_expect(!want || strstr(out, "-j, --jobs N"), "'%s' lists -j, --jobs N: %s", args, out);
        free(out);
        free(err);
        free(names[i]);
    }
}

Test(cli_help, run_takes_jobs_and_still_the_old_threads_spelling, .timeout = 60)
{
    char dir[64], a[128], args[1024], *out, *err;
    tu_tmpdir(dir, sizeof dir);
    snprintf(a, sizeof a, "%s/a.h5", dir);
    write_named_fixture(a, "alpha", 0);
    const char *flags[] = { "--jobs 2", "-j 2", "--threads 2" };
    for (size_t i = 0; i < 3; i++) {
        snprintf(args, sizeof args, "run --data %s --protocol loso --methods lda-td4 --db %s/r%zu.db --progress none %s",
                 a, dir, i, flags[i]);
        cr_expect_eq(tu_run(&out, &err, args), 0, "%s: %s", flags[i], err);
        free(out);
        free(err);
    }
    snprintf(args, sizeof args, "run --data %s --protocol loso --methods lda-td4 --db %s/x.db --jobs 0", a, dir);
    cr_expect_eq(tu_run(&out, &err, args), 2);
    cr_expect(strstr(err, "-j/--jobs needs 1..1024"), "%s", err);
    free(out);
    free(err);
    snprintf(args, sizeof args, "validate --jobs 2 %s", a);
    cr_expect_eq(tu_run(&out, &err, args), 0, "%s", err);
    free(out);
    free(err);
    cleanup(dir);
}

/* ---- methods ------------------------------------------------------------- */

/* Every row's columns start where the header's do, however long a
 * capability list is (cpep's pushed its row out). */
Test(cli_methods, table_columns_line_up_for_long_capability_lists, .timeout = 30)
{
    char *out, *err;
    cr_assert_eq(tu_run(&out, &err, "methods"), 0);
    const char *cols[] = { "capabilities", "summary" };
    size_t at[2];
    const char *line = out, *end = strchr(line, '\n');
    for (size_t k = 0; k < 2; k++) {
        const char *h = strstr(line, cols[k]);
        cr_assert(h && h < end, "header has '%s': %s", cols[k], out);
        at[k] = (size_t)(h - line);
    }
    size_t rows = 0;
    int long_caps = 0;
    for (line = end + 1; *line && *line != '\n'; line = strchr(line, '\n') + 1, rows++) {
        size_t len = (size_t)(strchr(line, '\n') - line);
        for (size_t k = 0; k < 2; k++)
            cr_expect(len > at[k] && line[at[k] - 1] == ' ' && line[at[k]] != ' ',
                      "column '%s' of row %zu starts at %zu: %.*s", cols[k], rows + 1, at[k], (int)len, line);
        long_caps |= !strncmp(line + at[0], "classify, embed, zero-shot, needs-pose, oracle", 46);
    }
    cr_expect_geq(rows, 10);
    cr_expect(long_caps, "the longest capability list is among the rows: %s", out);
    /* the protocol table below lines up with its own header */
    line = strstr(out, "\nprotocol ");
    cr_assert_not_null(line);
    line++;
    size_t needs = (size_t)(strstr(line, "needs") - line), summ = (size_t)(strstr(line, "summary") - line);
    for (line = strchr(line, '\n') + 1; *line && *line != '\n'; line = strchr(line, '\n') + 1)
        cr_expect(line[needs - 1] == ' ' && line[needs] != ' ' && line[summ - 1] == ' ' && line[summ] != ' ',
                  "%.*s", (int)(strchr(line, '\n') - line), line);
    free(out);
    free(err);
}

/* 'methods NAME' and 'protocols NAME' print the typed tables a plan is
 * checked against; an unknown name is exit 1 naming it. */
Test(cli_methods, a_method_and_a_protocol_print_their_parameter_tables, .timeout = 30)
{
    char *out, *err;
    cr_assert_eq(tu_run(&out, &err, "methods knn-td4"), 0, "%s", err);
    cr_expect(strstr(out, "knn-td4: ") && strstr(out, "capabilities: classify, embed"), "%s", out);
    cr_expect(strstr(out, "  k    int 1..1000000  5        neighbours"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(tu_run(&out, &err, "methods cpep"), 0, "%s", err);
    cr_expect(strstr(out, "\n  mae_steps ") && strstr(out, "\n  freeze_emg ") && strstr(out, "bool"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(tu_run(&out, &err, "protocols zeroshot-gestures"), 0, "%s", err);
    cr_expect(strstr(out, "\n  folds ") && strstr(out, "\n  unseen_fraction ") && strstr(out, "0.25"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(tu_run(&out, &err, "protocols fewshot"), 0, "%s", err);
    cr_expect(strstr(out, "shots: sets shots, prefix 'k', 1..100000, default [1, 5, 10]"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(tu_run(&out, &err, "methods nope"), 1);
    cr_expect(strstr(err, "no method 'nope'"), "%s", err);
    free(out);
    free(err);
    cr_assert_eq(tu_run(&out, &err, "protocols a b"), 2);
    free(out);
    free(err);
}
