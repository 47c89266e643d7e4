/* tests/test_reports.c - results cube, analysis and report writers.
 *
 * Golden files: every writer's output for one fixed cube is compared byte
 * for byte with tests/golden/reports/<name>. On a mismatch the actual file
 * is kept and its path printed; MB_REGOLDEN=1 rewrites the golden files
 * instead (review the change with git diff). Run from the repository root,
 * as make test does.
 *
 * Only the tests that do real work carry .timeout: with Criterion 2.4 and
 * --jobs 2, the runner process itself leaks a few bytes (LeakSanitizer
 * points into libcriterion) once enough .timeout tests run side by side,
 * which fails make asan although no test code leaks.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "core/err.h"
#include "core/rng.h"
#include "reports/analysis.h"
#include "reports/cube.h"
#include "reports/metrics.h"
#include "reports/stats.h"
#include "reports/svg.h"
#include "reports/table.h"
#include "tests/testutil.h"

#define GOLDEN_DIR "tests/golden/reports"

/* ---- fixture ------------------------------------------------------------------ */

static const struct rep_metric fx_metrics[] = {
    { "bacc", "BAcc (%)", 1, 100.0, 1 },
    { "ece", "ECE", 0, 1.0, 3 },
};
static const char *const fx_methods[] = { "LDA", "SVM", "CNN", "TCN_zero-shot", "Within-subject" };
static const char *const fx_groups[] = { "classical", "classical", "neural", "neural", "oracle" };
/* per-method effects on bacc and ece; the oracle is far ahead */
static const double fx_eff_bacc[] = { -0.06, 0.01, 0.03, 0.0, 0.15 };
static const double fx_eff_ece[] = { 0.03, 0.01, -0.01, 0.0, -0.03 };

static const struct { const char *dataset, *protocol; size_t n; } fx_blocks[] = {
    { "ninapro-db2", "loso", 10 },
    { "ninapro-db5", "loso", 8 },
    { "emg2pose", "unseen-users", 6 },
};

static double round4(double v) { return round(v * 10000.0) / 10000.0; }

/* Three blocks, five methods (one oracle), TCN_zero-shot n/a on DB5. */
static struct rep_cube *fixture(void)
{
    struct rep_cube *c = rep_cube_new(fx_methods, 5, fx_metrics, 2);
    cr_assert_not_null(c, "%s", mb_last_error());
    for (size_t m = 0; m < 5; m++)
        cr_assert_eq(rep_cube_set_method(c, m, fx_groups[m], m == 4 ? REP_ORACLE : 0), MB_OK);
    struct mb_rng r;
    mb_rng_seed(&r, 7, 0);
    for (size_t i = 0; i < 3; i++) {
        char names[10][24];
        const char *subj[10];
        for (size_t s = 0; s < fx_blocks[i].n; s++) {
            snprintf(names[s], sizeof names[s], "s%02zu", s + 1);
            subj[s] = names[s];
        }
        size_t b;
        cr_assert_eq(rep_cube_add_block(c, &b, fx_blocks[i].dataset, fx_blocks[i].protocol, subj,
                                        fx_blocks[i].n), MB_OK);
        double subj_eff[10];
        for (size_t s = 0; s < fx_blocks[i].n; s++)
            subj_eff[s] = 0.08 * mb_rng_normal(&r);
        for (size_t m = 0; m < 5; m++) {
            if (i == 1 && m == 3) {
                cr_assert_eq(rep_cube_set_na(c, b, m), MB_OK);
                continue;
            }
            double v[10], e[10];
            for (size_t s = 0; s < fx_blocks[i].n; s++) {
                v[s] = round4(0.62 + subj_eff[s] + fx_eff_bacc[m] + 0.025 * mb_rng_normal(&r));
                e[s] = round4(fmax(0.005, 0.06 - 0.2 * subj_eff[s] + fx_eff_ece[m] + 0.01 * mb_rng_normal(&r)));
            }
            cr_assert_eq(rep_cube_set(c, b, m, 0, v), MB_OK);
            cr_assert_eq(rep_cube_set(c, b, m, 1, e), MB_OK);
        }
    }
    return c;
}

static struct rep_analysis *analyse(const struct rep_cube *c)
{
    struct rep_opts o;
    rep_opts_default(&o);
    o.caption = "Cross-user gesture recognition on the fixture cube.";
    o.label = "tab:fixture";
    struct rep_analysis *a;
    cr_assert_eq(rep_analyse(&a, c, &o), MB_OK, "%s", mb_last_error());
    return a;
}

/* ---- golden files ----------------------------------------------------------------- */

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    cr_assert_not_null(buf);
    *n = fread(buf, 1, (size_t)len, f);
    buf[*n] = '\0';
    fclose(f);
    return buf;
}

/* Compares 'actual' with the golden file 'name'; removes 'actual' when they
 * agree, keeps it (and says where) when not; MB_REGOLDEN=1 copies it over. */
static void golden(const char *actual, const char *name)
{
    char want_path[512];
    snprintf(want_path, sizeof want_path, GOLDEN_DIR "/%s", name);
    size_t na, nw = 0;
    char *got = slurp(actual, &na);
    cr_assert_not_null(got, "writer left no file at '%s'", actual);
    const char *re = getenv("MB_REGOLDEN");
    if (re && strcmp(re, "1") == 0) {
        FILE *f = fopen(want_path, "wb");
        cr_assert_not_null(f, "cannot write golden '%s' (run from the repository root)", want_path);
        cr_assert_eq(fwrite(got, 1, na, f), na);
        fclose(f);
        cr_log_warn("rewrote golden file %s", want_path);
        free(got);
        remove(actual);
        return;
    }
    char *want = slurp(want_path, &nw);
    cr_assert_not_null(want, "golden file '%s' missing (run from the repository root, or "
                       "MB_REGOLDEN=1 to create it); actual output kept at '%s'", want_path, actual);
    size_t at = 0;
    while (at < na && at < nw && got[at] == want[at])
        at++;
    int same = na == nw && at == na;
    free(got);
    free(want);
    cr_assert(same, "'%s' differs from golden '%s' at byte %zu; actual output kept at '%s' "
              "(MB_REGOLDEN=1 rewrites the golden files)", actual, want_path, at, actual);
    remove(actual);
}

struct writer_case {
    const char *name;
    int (*write)(const char *, const struct rep_analysis *);
};

Test(reports, every_writer_matches_its_golden_file, .timeout = 60)
{
    static const struct writer_case w[] = {
        { "table.md", rep_write_md },
        { "table.tex", rep_write_tex },
        { "long.csv", rep_write_csv_long },
        { "wide.csv", rep_write_csv_wide },
        { "report.json", rep_write_json },
    };
    struct rep_cube *c = fixture();
    struct rep_analysis *a = analyse(c);
    char dir[64], path[256];
    tu_tmpdir(dir, sizeof dir);
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, w[i].name);
        cr_assert_eq(w[i].write(path, a), MB_OK, "%s: %s", w[i].name, mb_last_error());
        golden(path, w[i].name);
    }
    snprintf(path, sizeof path, "%s/cd_db2.svg", dir);
    cr_assert_eq(rep_write_cd_svg(path, a, 0, 0), MB_OK, "%s", mb_last_error());
    golden(path, "cd_db2.svg");
    snprintf(path, sizeof path, "%s/cd_pooled.svg", dir);
    cr_assert_eq(rep_write_cd_svg(path, a, REP_NONE, 0), MB_OK, "%s", mb_last_error());
    golden(path, "cd_pooled.svg");
    snprintf(path, sizeof path, "%s/strip_db5_ece.svg", dir);
    cr_assert_eq(rep_write_strip_svg(path, a, 1, 1), MB_OK, "%s", mb_last_error());
    golden(path, "strip_db5_ece.svg");

    static const size_t cm[16] = { 50, 3, 2, 0, 4, 31, 5, 0, 1, 7, 22, 3, 0, 0, 6, 12 };
    static const char *const cls[4] = { "rest", "fist", "open & spread", "pinch" };
    snprintf(path, sizeof path, "%s/confusion.svg", dir);
    cr_assert_eq(rep_write_confusion_svg(path, cm, 4, cls, "CNN, ninapro-db2 / loso, subject s01"), MB_OK);
    golden(path, "confusion.svg");
    rmdir(dir);
    rep_analysis_free(a);
    rep_cube_free(c);
}

/* The fixture with SVM's cells of ninapro-db2 / loso missing (its jobs
 * failed): the reason holds a comma and quotes, so CSV quoting is covered. */
#define FX_MISSING_REASON "8 of 10 jobs ok, 2 failed, 0 not finished; first failure: \"out of memory\", fold s03"

static struct rep_cube *fixture_missing(void)
{
    struct rep_cube *c = fixture();
    cr_assert_eq(rep_cube_set_missing(c, 0, 1, FX_MISSING_REASON), MB_OK);
    return c;
}

Test(reports, missing_cells_match_their_golden_files, .timeout = 60)
{
    static const struct writer_case w[] = {
        { "missing_table.md", rep_write_md },
        { "missing_table.tex", rep_write_tex },
        { "missing_long.csv", rep_write_csv_long },
        { "missing_wide.csv", rep_write_csv_wide },
        { "missing_report.json", rep_write_json },
    };
    struct rep_cube *c = fixture_missing();
    struct rep_analysis *a = analyse(c);
    char dir[64], path[256];
    tu_tmpdir(dir, sizeof dir);
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, w[i].name);
        cr_assert_eq(w[i].write(path, a), MB_OK, "%s: %s", w[i].name, mb_last_error());
        golden(path, w[i].name);
    }
    snprintf(path, sizeof path, "%s/missing_strip_db2_bacc.svg", dir);
    cr_assert_eq(rep_write_strip_svg(path, a, 0, 0), MB_OK, "%s", mb_last_error());
    golden(path, "missing_strip_db2_bacc.svg");
    rmdir(dir);
    rep_analysis_free(a);
    rep_cube_free(c);
}

static char *write_and_read(const struct rep_analysis *a, int (*write)(const char *, const struct rep_analysis *))
{
    char dir[64], path[256];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out", dir);
    cr_assert_eq(write(path, a), MB_OK, "%s", mb_last_error());
    size_t n;
    char *s = slurp(path, &n);
    cr_assert_not_null(s);
    remove(path);
    rmdir(dir);
    return s;
}

/* Every writer says "missing" (never "n/a") for the missing cell, and gives
 * the reason where it has a field for it. */
Test(reports, writers_show_missing_not_na, .timeout = 60)
{
    struct rep_cube *c = fixture_missing();
    struct rep_analysis *a = analyse(c);
    cr_assert_eq(rep_cell_at(a, 0, 0, 1)->state, REP_MISSING);
    char *md = write_and_read(a, rep_write_md);
    /* SVM's row: two missing cells of db2, then values */
    cr_assert_not_null(strstr(md, "\n| SVM | missing | missing | "), "%s", md);
    cr_assert_null(strstr(md, "| SVM | n/a"), "%s", md);
    cr_assert_not_null(strstr(md, "n/a: the method cannot run the protocol, or no plan paired them. missing: no result"), "%s", md);
    free(md);
    char *tex = write_and_read(a, rep_write_tex);
    cr_assert_not_null(strstr(tex, "\nSVM & missing & missing & "), "%s", tex);
    free(tex);
    char *wide = write_and_read(a, rep_write_csv_wide);
    cr_assert_not_null(strstr(wide, "\nSVM,classical,0,missing,missing,"), "%s", wide);
    free(wide);
    char *lng = write_and_read(a, rep_write_csv_long);
    cr_assert_not_null(strstr(lng, "\nninapro-db2,loso,SVM,bacc,s01,missing,missing,\"8 of 10 jobs ok, 2 failed, "
                              "0 not finished; first failure: \"\"out of memory\"\", fold s03\"\n"), "%s", lng);
    free(lng);

    char *js = write_and_read(a, rep_write_json);
    json_error_t err;
    json_t *root = json_loads(js, 0, &err);
    cr_assert_not_null(root, "%s", err.text);
    json_t *cell = json_array_get(json_object_get(json_array_get(json_object_get(json_array_get(
                                      json_object_get(root, "blocks"), 0), "columns"), 0), "cells"), 1);
    cr_assert_str_eq(json_string_value(json_object_get(cell, "method")), "SVM");
    cr_assert_str_eq(json_string_value(json_object_get(cell, "status")), "missing");
    cr_assert_str_eq(json_string_value(json_object_get(cell, "reason")), FX_MISSING_REASON);
    cr_assert_null(json_object_get(cell, "mean"), "a missing cell is never a number");
    json_decref(root);
    free(js);
    rep_analysis_free(a);
    rep_cube_free(c);

    /* without a missing cell, no legend line and no reason field */
    c = fixture();
    a = analyse(c);
    md = write_and_read(a, rep_write_md);
    cr_assert_null(strstr(md, "missing"), "%s", md);
    free(md);
    rep_analysis_free(a);
    rep_cube_free(c);
}

static int same_num(double x, double y) { return (isnan(x) && isnan(y)) || x == y; }

/* A missing cell is left out of marks, tests, Friedman designs and the
 * pooled ranks exactly like an n/a cell: the analyses agree number for
 * number and differ only in the state. */
Test(reports, missing_is_analysed_like_na, .timeout = 60)
{
    struct rep_cube *cm = fixture_missing(), *cn = fixture();
    cr_assert_eq(rep_cube_set_na(cn, 0, 1), MB_OK);
    struct rep_analysis *am = analyse(cm), *an = analyse(cn);
    for (size_t b = 0; b < 3; b++)
        for (size_t k = 0; k < 2; k++) {
            const struct rep_column *x = rep_column_at(am, b, k), *y = rep_column_at(an, b, k);
            cr_assert_eq(x->best, y->best);
            cr_assert_eq(x->second, y->second);
            cr_assert_eq(x->d.k, y->d.k);
            cr_assert_eq(x->d.valid, y->d.valid);
            for (size_t i = 0; i < x->d.k; i++) {
                cr_assert_eq(x->d.methods[i], y->d.methods[i]);
                cr_assert(x->d.methods[i] != 1 || b != 0, "the missing method is in a block design");
                if (x->d.valid)
                    cr_assert(same_num(x->d.avg_rank[i], y->d.avg_rank[i]));
            }
            for (size_t m = 0; m < 5; m++) {
                const struct rep_cell *p = rep_cell_at(am, b, k, m), *q = rep_cell_at(an, b, k, m);
                cr_assert_eq(p->state == REP_MISSING, b == 0 && m == 1);
                cr_assert_eq(p->mark, q->mark);
                cr_assert(same_num(p->p, q->p) && same_num(p->p_holm, q->p_holm) && same_num(p->rank, q->rank),
                          "block %zu metric %zu method %zu", b, k, m);
            }
        }
    for (size_t k = 0; k < 2; k++) {
        const struct rep_pooled *x = &am->pooled[k], *y = &an->pooled[k];
        cr_assert_eq(x->n_blocks_used, 1, "db2 (missing) and db5 (n/a) are not complete");
        cr_assert_eq(x->n_blocks_used, y->n_blocks_used);
        cr_assert_eq(x->blocks_used[0], y->blocks_used[0]);
        cr_assert_eq(x->reference, y->reference);
        for (size_t i = 0; i < x->d.k; i++)
            cr_assert(same_num(x->d.avg_rank[i], y->d.avg_rank[i]));
        for (size_t m = 0; m < 5; m++)
            cr_assert_eq(x->meta[m].n_blocks, y->meta[m].n_blocks);
    }
    rep_analysis_free(am);
    rep_analysis_free(an);
    rep_cube_free(cm);
    rep_cube_free(cn);
}

Test(reports, cube_missing_state_and_reason)
{
    static const char *const meth[] = { "A", "B" };
    static const struct rep_metric met[] = { { "acc", "Accuracy", 1, 1.0, 3 }, { "f1", "F1", 1, 1.0, 3 } };
    static const char *const subj[] = { "s1", "s2" };
    struct rep_cube *c = rep_cube_new(meth, 2, met, 2);
    size_t b;
    cr_assert_eq(rep_cube_add_block(c, &b, "db", "loso", subj, 2), MB_OK);
    cr_assert_not(rep_cube_has_missing(c));
    cr_assert_eq(rep_cube_set_missing(c, b, 1, NULL), MB_OK);
    cr_assert(rep_cube_has_missing(c));
    cr_assert_eq(rep_cube_state(c, b, 1, 0), REP_MISSING);
    cr_assert_eq(rep_cube_state(c, b, 1, 1), REP_MISSING);
    cr_assert_str_eq(rep_cube_reason(c, b, 1), "no result");
    cr_assert_null(rep_cube_reason(c, b, 0));
    cr_assert_str_eq(rep_state_word(REP_MISSING), "missing");
    cr_assert_str_eq(rep_state_word(REP_NA), "n/a");
    double v[] = { 0.5, 0.6 };
    /* the reason stays while one metric is still missing, and goes with the last */
    cr_assert_eq(rep_cube_set(c, b, 1, 0, v), MB_OK);
    cr_assert_str_eq(rep_cube_reason(c, b, 1), "no result");
    cr_assert_eq(rep_cube_set(c, b, 1, 1, v), MB_OK);
    cr_assert_null(rep_cube_reason(c, b, 1));
    cr_assert_not(rep_cube_has_missing(c));
    cr_assert_eq(rep_cube_set_missing(c, b, 0, "2 failed"), MB_OK);
    cr_assert_eq(rep_cube_set_na(c, b, 0), MB_OK);
    cr_assert_null(rep_cube_reason(c, b, 0), "n/a replaces missing and its reason");
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(rep_cube_set_missing(c, b, 2, "x"), MB_EINVAL);
    rep_cube_free(c);
}

/* ---- the same numbers everywhere ---------------------------------------------------- */

Test(reports, long_csv_and_json_agree_with_the_analysis, .timeout = 60)
{
    struct rep_cube *c = fixture();
    struct rep_analysis *a = analyse(c);
    char dir[64], csv[256], js[256];
    tu_tmpdir(dir, sizeof dir);
    snprintf(csv, sizeof csv, "%s/long.csv", dir);
    snprintf(js, sizeof js, "%s/r.json", dir);
    cr_assert_eq(rep_write_csv_long(csv, a), MB_OK);
    cr_assert_eq(rep_write_json(js, a), MB_OK);

    /* re-aggregate the long CSV: sum per (block, method, metric) */
    double sum[3][5][2] = { { { 0 } } };
    size_t cnt[3][5][2] = { { { 0 } } }, na_rows = 0;
    FILE *f = fopen(csv, "r");
    cr_assert_not_null(f);
    char line[512];
    cr_assert_not_null(fgets(line, sizeof line, f));
    cr_assert_str_eq(line, "dataset,protocol,method,metric,subject,value,status,reason\n");
    while (fgets(line, sizeof line, f)) {
        char *fld[7], *save = NULL, *p = line;
        line[strcspn(line, "\n")] = '\0';
        for (int i = 0; i < 7; i++, p = NULL)
            fld[i] = strtok_r(p, ",", &save);
        size_t b = rep_cube_block(c, fld[0], fld[1]), m = rep_cube_method(c, fld[2]);
        size_t k = rep_cube_metric(c, fld[3]);
        cr_assert(b != REP_NONE && m != REP_NONE && k != REP_NONE, "row '%s'", line);
        cr_assert_not_null(fld[6], "row '%s' has no status", line);
        if (strcmp(fld[5], "n/a") == 0) {
            cr_assert_str_eq(fld[6], "n/a");
            na_rows++;
            continue;
        }
        cr_assert_str_eq(fld[6], "ok", "row '%s'", line);
        sum[b][m][k] += strtod(fld[5], NULL);
        cnt[b][m][k]++;
    }
    fclose(f);
    cr_assert_eq(na_rows, 2 * 8, "one n/a row per subject and metric of the n/a cell");

    json_error_t err;
    json_t *root = json_load_file(js, 0, &err);
    cr_assert_not_null(root, "%s", err.text);
    json_t *blocks = json_object_get(root, "blocks");
    for (size_t b = 0; b < 3; b++)
        for (size_t k = 0; k < 2; k++) {
            json_t *cells = json_object_get(json_array_get(json_object_get(json_array_get(blocks, b), "columns"), k),
                                            "cells");
            for (size_t m = 0; m < 5; m++) {
                json_t *cell = json_array_get(cells, m);
                const struct rep_cell *ce = rep_cell_at(a, b, k, m);
                if (ce->state == REP_NA) {
                    cr_assert_str_eq(json_string_value(json_object_get(cell, "status")), "n/a");
                    cr_assert_null(json_object_get(cell, "mean"), "n/a is never a number");
                    continue;
                }
                double jm = json_real_value(json_object_get(cell, "mean"));
                double cm = sum[b][m][k] / (double)cnt[b][m][k];
                cr_assert(fabs(jm - ce->s.mean) < 1e-13, "json mean %g vs %g", jm, ce->s.mean);
                cr_assert(fabs(cm - ce->s.mean) < 1e-12, "csv mean %g vs %g", cm, ce->s.mean);
                cr_assert_eq(cnt[b][m][k], c->block[b].n_subjects);
            }
        }
    json_decref(root);
    remove(csv);
    remove(js);
    rmdir(dir);
    rep_analysis_free(a);
    rep_cube_free(c);
}

/* ---- analysis rules --------------------------------------------------------------------- */

Test(reports, daggers_are_holm_adjusted_wilcoxon_against_the_best, .timeout = 60)
{
    struct rep_cube *c = fixture();
    struct rep_analysis *a = analyse(c);
    for (size_t b = 0; b < c->n_blocks; b++)
        for (size_t k = 0; k < c->n_metrics; k++) {
            const struct rep_column *col = rep_column_at(a, b, k);
            cr_assert_neq(col->best, REP_NONE);
            cr_assert_neq(col->best, (size_t)4, "the oracle is never the best");
            size_t who[5], nt = 0;
            double p[5];
            const double *xb = rep_cube_values(c, b, col->best, k);
            for (size_t m = 0; m < 4; m++) {
                if (m == col->best || rep_cube_state(c, b, m, k) != REP_VALUE)
                    continue;
                struct stat_wilcoxon w;
                cr_assert_eq(stat_wilcoxon(&w, rep_cube_values(c, b, m, k), xb, c->block[b].n_subjects,
                                           STAT_TWO_SIDED), MB_OK);
                p[nt] = w.p;
                who[nt++] = m;
            }
            cr_assert_eq(stat_holm(p, p, nt), MB_OK);
            for (size_t i = 0; i < nt; i++) {
                const struct rep_cell *ce = rep_cell_at(a, b, k, who[i]);
                cr_assert_eq(ce->p_holm, p[i]);
                cr_assert_eq(!!(ce->mark & REP_WORSE), p[i] < 0.05, "block %zu metric %zu method %zu", b, k, who[i]);
            }
            const struct rep_cell *oracle = rep_cell_at(a, b, k, 4);
            cr_assert_eq(oracle->mark, 0u);
            cr_assert(isnan(oracle->p) && isnan(oracle->rank));
        }
    /* the fixture is built so LDA is clearly worse on DB2 */
    cr_assert(rep_cell_at(a, 0, 0, 0)->mark & REP_WORSE);
    rep_analysis_free(a);
    rep_cube_free(c);
}

Test(reports, pooled_ranks_use_only_blocks_where_every_method_ran, .timeout = 60)
{
    struct rep_cube *c = fixture();
    struct rep_analysis *a = analyse(c);
    const struct rep_pooled *po = &a->pooled[0];
    cr_assert_eq(po->n_blocks_used, 2);
    cr_assert_eq(po->blocks_used[0], 0);
    cr_assert_eq(po->blocks_used[1], 2);
    cr_assert_eq(po->d.n_units, 16);
    cr_assert_eq(po->d.k, 4, "the oracle is not ranked");
    double s = 0.0;
    for (size_t i = 0; i < po->d.k; i++)
        s += po->d.avg_rank[i];
    cr_assert(fabs(s - 10.0) < 1e-12, "mean ranks of 4 methods sum to 10, got %g", s);
    cr_assert_neq(po->reference, REP_NONE);
    /* the meta-analysis of TCN covers the two blocks where it ran */
    cr_assert_eq(po->meta[3].n_blocks, 2);
    cr_assert_eq(po->meta[1].n_blocks, 3);
    rep_analysis_free(a);
    rep_cube_free(c);
}

Test(reports, analysis_is_deterministic, .timeout = 60)
{
    struct rep_cube *c = fixture();
    struct rep_analysis *a1 = analyse(c), *a2 = analyse(c);
    size_t n = c->n_blocks * c->n_metrics * c->n_methods;
    for (size_t i = 0; i < n; i++) {
        const struct rep_cell *x = &a1->cell[i], *y = &a2->cell[i];
        cr_assert(x->state == y->state);
        if (x->state == REP_VALUE)
            cr_assert(x->ci_lo == y->ci_lo && x->ci_hi == y->ci_hi && x->s.mean == y->s.mean);
    }
    rep_analysis_free(a1);
    rep_analysis_free(a2);
    rep_cube_free(c);
}

/* One block where a method is n/a (a probe table with a zero-shot-only row): the
 * others are ranked; the n/a method does not void the block. */
Test(reports, a_method_na_everywhere_is_left_out_of_the_ranks, .timeout = 60)
{
    struct rep_cube *full = fixture();
    struct rep_cube *c = rep_cube_new(fx_methods, 5, fx_metrics, 2);
    cr_assert_not_null(c);
    const struct rep_block *bl = &full->block[1];   /* DB5: TCN_zero-shot is n/a */
    size_t nb;
    cr_assert_eq(rep_cube_add_block(c, &nb, bl->dataset, bl->protocol, (const char *const *)bl->subject,
                                    bl->n_subjects), MB_OK);
    for (size_t m = 0; m < 5; m++) {
        cr_assert_eq(rep_cube_set_method(c, m, fx_groups[m], m == 4 ? REP_ORACLE : 0), MB_OK);
        if (m == 3) {
            cr_assert_eq(rep_cube_set_na(c, nb, m), MB_OK);
            continue;
        }
        for (size_t k = 0; k < 2; k++)
            cr_assert_eq(rep_cube_set(c, nb, m, k, rep_cube_values(full, 1, m, k)), MB_OK);
    }
    struct rep_analysis *a = analyse(c);
    const struct rep_pooled *po = &a->pooled[0];
    cr_assert(po->d.valid, "ranks exist");
    cr_assert_eq(po->d.k, 3, "LDA, SVM, CNN; not the n/a method, not the oracle");
    cr_assert_eq(po->n_blocks_used, 1);
    cr_assert(isnan(rep_design_rank(&po->d, 3)));
    cr_assert(!isnan(rep_design_rank(&po->d, 0)));
    rep_analysis_free(a);
    rep_cube_free(c);
    rep_cube_free(full);
}

/* A cell's CI is the same whichever table shows it: the last block alone (a
 * per-block table) gives the bits the three-block analysis gave, and its
 * Markdown has plain metric columns under the block title. */
Test(reports, a_cells_ci_does_not_depend_on_the_other_blocks, .timeout = 60)
{
    struct rep_cube *c = fixture();
    struct rep_cube *one = rep_cube_new(fx_methods, 5, fx_metrics, 2);
    cr_assert_not_null(one);
    const struct rep_block *bl = &c->block[2];
    size_t nb;
    cr_assert_eq(rep_cube_add_block(one, &nb, bl->dataset, bl->protocol, (const char *const *)bl->subject,
                                    bl->n_subjects), MB_OK);
    for (size_t m = 0; m < 5; m++) {
        cr_assert_eq(rep_cube_set_method(one, m, fx_groups[m], m == 4 ? REP_ORACLE : 0), MB_OK);
        for (size_t k = 0; k < 2; k++)
            cr_assert_eq(rep_cube_set(one, nb, m, k, rep_cube_values(c, 2, m, k)), MB_OK);
    }
    struct rep_analysis *a = analyse(c), *b = analyse(one);
    for (size_t k = 0; k < 2; k++)
        for (size_t m = 0; m < 5; m++) {
            const struct rep_cell *x = rep_cell_at(a, 2, k, m), *y = rep_cell_at(b, 0, k, m);
            cr_assert(x->ci_lo == y->ci_lo && x->ci_hi == y->ci_hi, "metric %zu method %zu: [%g, %g] vs [%g, %g]",
                      k, m, x->ci_lo, x->ci_hi, y->ci_lo, y->ci_hi);
        }
    char dir[256], path[300];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/one.md", dir);
    cr_assert_eq(rep_write_md(path, b), MB_OK, "%s", mb_last_error());
    FILE *f = fopen(path, "r");
    char line[512];
    cr_assert_not_null(fgets(line, sizeof line, f));
    cr_assert_str_eq(line, "emg2pose / unseen-users (N = 6)\n");
    cr_assert_not_null(fgets(line, sizeof line, f));
    cr_assert_not_null(fgets(line, sizeof line, f));
    cr_assert_str_eq(line, "| Method | BAcc (%) | ECE | Avg. rank |\n");
    fclose(f);
    remove(path);
    rmdir(dir);
    rep_analysis_free(a);
    rep_analysis_free(b);
    rep_cube_free(one);
    rep_cube_free(c);
}

/* Three methods over 14 subjects: A and B indistinguishable, C far behind.
 * The CD diagram must draw exactly one bar (A-B). */
Test(reports, cd_diagram_joins_only_methods_not_significantly_different, .timeout = 60)
{
    static const char *const meth[] = { "A", "B", "C" };
    static const struct rep_metric met[] = { { "acc", "Accuracy", 1, 1.0, 3 } };
    struct rep_cube *c = rep_cube_new(meth, 3, met, 1);
    cr_assert_not_null(c);
    char nm[14][16];
    const char *subj[14];
    for (int s = 0; s < 14; s++) {
        snprintf(nm[s], sizeof nm[s], "u%d", s);
        subj[s] = nm[s];
    }
    size_t b;
    cr_assert_eq(rep_cube_add_block(c, &b, "d", "p", subj, 14), MB_OK);
    double x[3][14];
    for (int s = 0; s < 14; s++) {
        x[0][s] = 0.8 + 0.01 * s;
        x[1][s] = 0.8 + 0.01 * s + ((s % 2) ? 0.003 : -0.002) * (s % 5);
        x[2][s] = 0.6 + 0.01 * s;
    }
    for (size_t m = 0; m < 3; m++)
        cr_assert_eq(rep_cube_set(c, b, m, 0, x[m]), MB_OK);
    struct rep_analysis *a;
    cr_assert_eq(rep_analyse(&a, c, NULL), MB_OK, "%s", mb_last_error());
    const struct rep_design *d = &rep_column_at(a, 0, 0)->d;
    cr_assert(d->valid);
    cr_assert(d->p_pair_holm[0 * 3 + 1] >= 0.05, "A vs B %g", d->p_pair_holm[1]);
    cr_assert(d->p_pair_holm[0 * 3 + 2] < 0.05 && d->p_pair_holm[1 * 3 + 2] < 0.05);
    char dir[64], path[256];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/cd.svg", dir);
    cr_assert_eq(rep_write_cd_svg(path, a, 0, 0), MB_OK);
    size_t n;
    char *svg = slurp(path, &n);
    size_t bars = 0;
    for (const char *p = svg; (p = strstr(p, "stroke-width=\"4\"")); p++)
        bars++;
    cr_assert_eq(bars, 1, "%zu bars", bars);
    free(svg);
    remove(path);
    rmdir(dir);
    rep_analysis_free(a);
    rep_cube_free(c);
}

/* ---- errors ------------------------------------------------------------------------------- */

Test(reports, analysis_refuses_a_cell_with_neither_values_nor_na)
{
    mb_log_set_level(MB_LOG_QUIET);
    static const char *const meth[] = { "A", "B" };
    static const struct rep_metric met[] = { { "acc", "Accuracy", 1, 1.0, 3 } };
    static const char *const subj[] = { "s1", "s2" };
    struct rep_cube *c = rep_cube_new(meth, 2, met, 1);
    size_t b;
    cr_assert_eq(rep_cube_add_block(c, &b, "db", "loso", subj, 2), MB_OK);
    double v[] = { 0.5, 0.6 };
    cr_assert_eq(rep_cube_set(c, b, 0, 0, v), MB_OK);
    struct rep_analysis *a;
    cr_assert_eq(rep_analyse(&a, c, NULL), MB_EINVAL);
    cr_assert_null(a);
    cr_assert(strstr(mb_last_error(), "'db' / 'loso', method 'B', metric 'acc'"), "%s", mb_last_error());
    rep_cube_free(c);
}

Test(reports, cube_rejects_duplicates_and_non_finite_values)
{
    mb_log_set_level(MB_LOG_QUIET);
    static const char *const dup[] = { "A", "A" };
    static const struct rep_metric met[] = { { "acc", "Accuracy", 1, 1.0, 3 } };
    cr_assert_null(rep_cube_new(dup, 2, met, 1));
    cr_assert(strstr(mb_last_error(), "method 'A' given twice"), "%s", mb_last_error());
    static const struct rep_metric bad[] = { { "a c", "x", 1, 1.0, 3 } };
    cr_assert_null(rep_cube_new(dup, 1, bad, 1));
    static const char *const subj[] = { "s1", "s2" };
    struct rep_cube *c = rep_cube_new(dup, 1, met, 1);
    size_t b;
    cr_assert_eq(rep_cube_add_block(c, &b, "db", "loso", subj, 2), MB_OK);
    cr_assert_eq(rep_cube_add_block(c, &b, "db", "loso", subj, 2), MB_EINVAL);
    double v[] = { 0.5, NAN };
    cr_assert_eq(rep_cube_set(c, 0, 0, 0, v), MB_ENUM);
    cr_assert(strstr(mb_last_error(), "subject 's2'"), "%s", mb_last_error());
    rep_cube_free(c);
}

Test(reports, writer_to_a_missing_folder_fails_and_leaves_nothing)
{
    mb_log_set_level(MB_LOG_QUIET);
    struct rep_cube *c = fixture();
    struct rep_analysis *a = analyse(c);
    const char *path = "/nonexistent-mb-dir/table.md";
    cr_assert_eq(rep_write_md(path, a), MB_EIO);
    cr_assert(strstr(mb_last_error(), "/nonexistent-mb-dir/"), "%s", mb_last_error());
    cr_assert_eq(rep_write_json(path, a), MB_EIO);
    cr_assert_eq(rep_write_cd_svg(path, a, 0, 0), MB_EIO);
    struct stat st;
    cr_assert_neq(stat(path, &st), 0);
    rep_analysis_free(a);
    rep_cube_free(c);
}

/* Was: a JSON report that failed half-way on a full disk said "cannot write
 * 'all.json'" and not why. A file-size limit of 512 bytes stands for the
 * full disk (EFBIG where a disk gives ENOSPC); each test runs in its own
 * process, and the limit is lifted before any assertion. */
Test(reports, a_write_error_names_the_reason_in_every_writer)
{
    mb_log_set_level(MB_LOG_QUIET);
    struct rep_cube *c = fixture();
    struct rep_analysis *a = analyse(c);
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &lim), 0);
    const struct rlimit small = { 512, lim.rlim_max };
    static const char *const names[] = { "all.json", "all.md", "all.tex", "all.csv", "all-wide.csv", "cd.svg" };
    for (int k = 0; k < 6; k++) {
        char path[300], msg[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
        int rc = k == 0 ? rep_write_json(path, a) : k == 1 ? rep_write_md(path, a) : k == 2 ? rep_write_tex(path, a)
               : k == 3 ? rep_write_csv_long(path, a) : k == 4 ? rep_write_csv_wide(path, a)
               : rep_write_cd_svg(path, a, 0, 0);
        snprintf(msg, sizeof msg, "%s", mb_last_error());
        cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
        cr_assert_eq(rc, MB_EIO, "%s: %d %s", names[k], rc, msg);
        cr_assert(strstr(msg, "': File too large"), "%s: the reason is given: %s", names[k], msg);
        struct stat st;
        cr_assert_neq(stat(path, &st), 0, "%s: nothing under the name", names[k]);
    }
    rep_analysis_free(a);
    rep_cube_free(c);
}

Test(reports, cd_diagram_needs_two_ranked_methods)
{
    mb_log_set_level(MB_LOG_QUIET);
    static const char *const meth[] = { "A", "Oracle" };
    static const struct rep_metric met[] = { { "acc", "Accuracy", 1, 1.0, 3 } };
    static const char *const subj[] = { "s1", "s2", "s3" };
    struct rep_cube *c = rep_cube_new(meth, 2, met, 1);
    cr_assert_eq(rep_cube_set_method(c, 1, NULL, REP_ORACLE), MB_OK);
    size_t b;
    cr_assert_eq(rep_cube_add_block(c, &b, "db", "loso", subj, 3), MB_OK);
    double v[] = { 0.5, 0.6, 0.7 };
    cr_assert_eq(rep_cube_set(c, b, 0, 0, v), MB_OK);
    cr_assert_eq(rep_cube_set(c, b, 1, 0, v), MB_OK);
    struct rep_analysis *a;
    cr_assert_eq(rep_analyse(&a, c, NULL), MB_OK);
    char dir[64], path[256];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/cd.svg", dir);
    cr_assert_eq(rep_write_cd_svg(path, a, 0, 0), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), path), "%s", mb_last_error());
    /* the tables still work and show the lone method as best */
    snprintf(path, sizeof path, "%s/t.md", dir);
    cr_assert_eq(rep_write_md(path, a), MB_OK);
    cr_assert(rep_cell_at(a, 0, 0, 0)->mark & REP_BEST);
    remove(path);
    rmdir(dir);
    rep_analysis_free(a);
    rep_cube_free(c);
}

Test(reports, options_change_the_cells_and_the_test, .timeout = 60)
{
    struct rep_cube *c = fixture();
    struct rep_opts o;
    rep_opts_default(&o);
    o.show = REP_SHOW_STD;
    o.test = REP_TEST_SIGNFLIP;
    o.tex_float = 0;
    struct rep_analysis *a;
    cr_assert_eq(rep_analyse(&a, c, &o), MB_OK, "%s", mb_last_error());
    /* 10 subjects: the exact sign-flip p is a multiple of 2^-10 */
    const struct rep_cell *ce = rep_cell_at(a, 0, 0, 0);
    cr_assert_eq(ce->p * 1024.0, floor(ce->p * 1024.0), "p = %g", ce->p);
    char dir[64], path[256];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/t.md", dir);
    cr_assert_eq(rep_write_md(path, a), MB_OK);
    size_t n;
    char *md = slurp(path, &n);
    cr_assert_null(strchr(md, '['), "no CI anywhere when only std is shown");
    cr_assert_not_null(strstr(md, " ± "));
    cr_assert_not_null(strstr(md, "sign-flip permutation test"));
    free(md);
    remove(path);
    snprintf(path, sizeof path, "%s/t.tex", dir);
    cr_assert_eq(rep_write_tex(path, a), MB_OK);
    char *tex = slurp(path, &n);
    cr_assert_null(strstr(tex, "table*"), "bare tabular");
    cr_assert_not_null(strstr(tex, "\\begin{tabular}"));
    free(tex);
    remove(path);
    static const size_t cm[1] = { 7 };
    snprintf(path, sizeof path, "%s/cm.svg", dir);
    cr_assert_eq(rep_write_confusion_svg(path, cm, 1, NULL, NULL), MB_OK);
    char *svg = slurp(path, &n);
    cr_assert_not_null(strstr(svg, ">7</text>"));
    free(svg);
    remove(path);
    rmdir(dir);
    rep_analysis_free(a);
    rep_cube_free(c);
}

/* ---- Stouffer across blocks ------------------------------------------------------ */

/* Three blocks of three subjects: A beats B on every subject of blocks 1 and 2, B beats
 * A on every subject of block 3. */
static struct rep_cube *stouffer_cube(const char *const ds[3], const char *const pr[3])
{
    static const char *const meth[] = { "A", "B" };
    static const char *const subj[] = { "s1", "s2", "s3" };
    struct rep_cube *c = rep_cube_new(meth, 2, fx_metrics, 1);
    cr_assert_not_null(c, "%s", mb_last_error());
    for (size_t i = 0; i < 3; i++) {
        size_t b;
        cr_assert_eq(rep_cube_add_block(c, &b, ds[i], pr[i], subj, 3), MB_OK, "%s", mb_last_error());
        const double hi[] = { 0.61, 0.72, 0.53 }, lo[] = { 0.50, 0.60, 0.40 };
        cr_assert_eq(rep_cube_set(c, b, 0, 0, i < 2 ? hi : lo), MB_OK);
        cr_assert_eq(rep_cube_set(c, b, 1, 0, i < 2 ? lo : hi), MB_OK);
    }
    return c;
}

/* With three subjects the exact one-sided p of block 3 is 1 (the reference loses on
 * every subject); Phi^-1(0) = -inf would make Z = -inf and p = 1 whatever blocks 1
 * and 2 say. The mid-p values are 1/16, 1/16 and 15/16, so Z = Phi^-1(15/16) / sqrt(3). */
Test(reports, stouffer_survives_a_block_the_reference_loses_on_every_subject)
{
    const char *const ds[] = { "d1", "d2", "d3" }, *const pr[] = { "loso", "loso", "loso" };
    struct rep_cube *c = stouffer_cube(ds, pr);
    struct rep_analysis *a = analyse(c);
    const struct rep_pooled *po = &a->pooled[0];
    cr_assert_eq(po->reference, 0);
    cr_assert_not(po->shared_subjects);
    const struct rep_meta *me = &po->meta[1];
    cr_assert_eq(me->n_blocks, 3);
    double want = stat_norm_isf(1.0 / 16.0) / sqrt(3.0);
    cr_assert(fabs(me->z - want) < 1e-9, "Z = %g, want %g", me->z, want);
    cr_assert(me->p > 0.0 && me->p < 0.5, "p = %g", me->p);
    rep_analysis_free(a);
    rep_cube_free(c);
}

/* Two protocols of one dataset are the same subjects twice: not independent, so the
 * blocks are not combined and the legend says why. */
Test(reports, stouffer_is_not_run_over_blocks_that_share_subjects)
{
    const char *const ds[] = { "d1", "d1", "d2" }, *const pr[] = { "loso", "within", "loso" };
    struct rep_cube *c = stouffer_cube(ds, pr);
    struct rep_analysis *a = analyse(c);
    const struct rep_pooled *po = &a->pooled[0];
    cr_assert(po->shared_subjects);
    cr_assert(isnan(po->meta[1].z) && isnan(po->meta[1].p));
    char dir[256], path[300];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/table.md", dir);
    cr_assert_eq(rep_write_md(path, a), MB_OK, "%s", mb_last_error());
    size_t n;
    char *s = slurp(path, &n);
    cr_assert_not_null(s);
    cr_assert_not_null(strstr(s, "Across blocks: not combined"), "%s", s);
    cr_assert_null(strstr(s, "Z = "), "%s", s);
    /* three subjects per block: no two-sided p below 2/8, so no dagger is possible */
    cr_assert_not_null(strstr(s, "† needs at least 6 subjects at α = 0.05"), "%s", s);
    cr_assert_not_null(strstr(s, "more than any block here has."), "%s", s);
    free(s);
    rep_analysis_free(a);
    rep_cube_free(c);
}
