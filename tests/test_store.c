/* tests/test_store.c - the results store's readers (harness/store.h, the
 * API the reports read through) and the rule that harness/store.c alone
 * knows the schema. Rows are written here with SQL, as a run would leave
 * them, so each reader is checked against known contents; the reports
 * built from whole runs are checked in tests/test_harness.c. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "harness/store.h"
#include "tests/testutil.h"

/* ---- the schema has one owner ------------------------------------------------ */

/* Counts the lines of 'path' that use SQLite or hold a SQL statement. */
static size_t sql_lines(const char *path, char *first, size_t cap)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    static const char *const marks[] = { "sqlite3", "SELECT ", "INSERT ", "UPDATE ", "DELETE FROM", "CREATE TABLE" };
    char line[4096];
    size_t n = 0;
    for (size_t no = 1; fgets(line, sizeof line, f); no++)
        for (size_t k = 0; k < sizeof marks / sizeof *marks; k++)
            if (strstr(line, marks[k])) {
                if (!n++)
                    snprintf(first, cap, "%s line %zu: %s", path, no, line);
                break;
            }
    fclose(f);
    return n;
}

/* Every query of the store is in harness/store.c: a change of the schema
 * touches one file (the reports used to hold their own queries). */
Test(store, only_store_c_holds_sql)
{
    static const char *const dirs[] = { "core", "format", "synth", "converters", "kernels", "kernels/nn", "baselines",
                                        "protocols", "reports", "harness", "methods", "corpus", "cli" };
    size_t files = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof *dirs; d++) {
        DIR *dir = opendir(dirs[d]);
        if (!dir)
            continue;   /* a folder another layout does not have */
        struct dirent *e;
        while ((e = readdir(dir))) {
            size_t l = strlen(e->d_name);
            if (l < 3 || (strcmp(e->d_name + l - 2, ".c") && strcmp(e->d_name + l - 2, ".h")))
                continue;
            char path[512], first[4700] = "";
            snprintf(path, sizeof path, "%s/%s", dirs[d], e->d_name);
            files++;
            if (!strcmp(path, "harness/store.c"))
                continue;
            size_t n = sql_lines(path, first, sizeof first);
            cr_expect_eq(n, 0, "%zu lines of SQL outside harness/store.c, first %s", n, first);
        }
        closedir(dir);
    }
    cr_assert_gt(files, 50, "run from the repository root");
    char first[4700];
    cr_assert_gt(sql_lines("harness/store.c", first, sizeof first), 0);
}

/* ---- a store with known contents ------------------------------------------- */

static void sql(sqlite3 *h, const char *q)
{
    char *msg = NULL;
    cr_assert_eq(sqlite3_exec(h, q, NULL, NULL, &msg), SQLITE_OK, "%s: %s", q, msg ? msg : "");
}

/* One job row: key, dataset, protocol, method, status, plan positions. */
static void job(sqlite3 *h, const char *key, const char *ds, const char *pr, const char *me, unsigned caps,
                const char *status, const char *message, int dpos, int ppos, int mpos, int seed, int fpos)
{
    char q[2048];
    snprintf(q, sizeof q,
             "INSERT INTO jobs(key, run_id, dataset, corpus_sha, protocol, protocol_name, settings, method, "
             "method_name, method_caps, params, seed, fold_id, manifest_sha, manifest, view, version, dataset_pos, "
             "protocol_pos, method_pos, fold_pos, status, message) VALUES ('%s', 1, '%s', 'sha-%s', '%s', 'p', "
             "'set', '%s', 'm', %u, '', %d, 'f%d', 'msha', '{}', 'v', 'ver', %d, %d, %d, %d, '%s', %s)",
             key, ds, ds, pr, me, caps, seed, fpos, dpos, ppos, mpos, fpos, status, message ? message : "NULL");
    sql(h, q);
}

/* A store (made by hn_store_open, so of the current schema) with two
 * datasets, two protocols and two methods, listed out of plan order. */
static void make_store(char *db, size_t cap)
{
    char dir[64];
    tu_tmpdir(dir, sizeof dir);
    snprintf(db, cap, "%s/r.db", dir);
    struct hn_store *s;
    cr_assert_eq(hn_store_open(&s, db), MB_OK, "%s", mb_last_error());
    hn_store_close(s);
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    sql(h, "BEGIN");
    sql(h, "INSERT INTO runs(id, started, version, machine, threads, plan) VALUES (1, 'now', 'ver', 'box', 2, '')");
    /* plan order: datasets B (0) then A (1); protocols loso (0), within (1); methods knn (0), lda (1) */
    job(h, "k1", "A", "loso", "lda", 0, "ok", NULL, 1, 0, 1, 1, 0);
    job(h, "k2", "A", "loso", "lda", 0, "ok", NULL, 1, 0, 1, 1, 1);
    job(h, "k3", "A", "loso", "knn", 4, "failed", "'boom'", 1, 0, 0, 1, 0);
    job(h, "k4", "A", "loso", "knn", 4, "pending", NULL, 1, 0, 0, 1, 1);
    job(h, "k5", "B", "within", "lda", 0, "na", "'cannot'", 0, 1, 1, 1, 0);
    job(h, "k6", "B", "loso", "lda", 0, "ok", NULL, 0, 0, 1, 1, 0);
    /* subject 7 in both folds of A/loso/lda, subject 3 in one */
    sql(h, "INSERT INTO subject_metrics VALUES ('k2', 7, 'seven', 10, 0.5, 0.25, 0.125)");
    sql(h, "INSERT INTO subject_metrics VALUES ('k1', 7, 'seven', 10, 0.75, 0.5, 0.25)");
    sql(h, "INSERT INTO subject_metrics VALUES ('k1', 3, '', 10, 1, 1, 1)");
    sql(h, "INSERT INTO confusion VALUES ('k1', 7, 1, 1, 4)");
    sql(h, "INSERT INTO confusion VALUES ('k2', 7, 1, 1, 5)");
    sql(h, "INSERT INTO confusion VALUES ('k1', 7, 2, 1, 1)");
    sql(h, "INSERT INTO gestures VALUES ('sha-A', 1, 'fist')");
    sql(h, "COMMIT");
    sqlite3_close(h);
}

static char got[4096];

static int cat_method(void *ctx, const char *method, unsigned caps)
{
    (void)ctx;
    snprintf(got + strlen(got), sizeof got - strlen(got), "%s:%u ", method, caps);
    return MB_OK;
}

static int cat_block(void *ctx, const char *dataset, const char *protocol)
{
    (void)ctx;
    snprintf(got + strlen(got), sizeof got - strlen(got), "%s/%s ", dataset, protocol);
    return MB_OK;
}

static int cat_subject(void *ctx, int32_t subject, const char *name)
{
    (void)ctx;
    snprintf(got + strlen(got), sizeof got - strlen(got), "%d=%s ", subject, name);
    return MB_OK;
}

static int cat_metrics(void *ctx, const struct hn_subject_metrics *m)
{
    (void)ctx;
    snprintf(got + strlen(got), sizeof got - strlen(got), "%d:%g,%g,%g ", m->subject, m->balanced_accuracy,
             m->macro_f1, m->accuracy);
    return MB_OK;
}

static int cat_confusion(void *ctx, int64_t t, int64_t p, int64_t n, const char *sha)
{
    (void)ctx;
    snprintf(got + strlen(got), sizeof got - strlen(got), "%lld>%lld:%lld@%s ", (long long)t, (long long)p,
             (long long)n, sha);
    return MB_OK;
}

static int cat_info(void *ctx, const char *const *cols, int n)
{
    (void)ctx;
    for (int i = 0; i < n; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? "|" : "", cols[i]);
    snprintf(got + strlen(got), sizeof got - strlen(got), " ");
    return MB_OK;
}

static int stop_after_one(void *ctx, const char *dataset, const char *protocol)
{
    (*(int *)ctx)++;
    return MB_EINVAL;
}

Test(store, readers_return_the_rows_in_plan_order)
{
    char db[128];
    make_store(db, sizeof db);
    struct hn_store *s;
    cr_assert_eq(hn_store_open_read(&s, db), MB_OK, "%s", mb_last_error());
    cr_assert_eq(hn_store_check_uniform(s), MB_OK, "%s", mb_last_error());
    got[0] = 0;
    cr_assert_eq(hn_store_each_method(s, cat_method, NULL), MB_OK);
    cr_assert_str_eq(got, "knn:4 lda:0 ");
    got[0] = 0;
    cr_assert_eq(hn_store_each_block(s, cat_block, NULL), MB_OK);
    cr_assert_str_eq(got, "B/loso B/within A/loso ");
    struct hn_status_counts c;
    cr_assert_eq(hn_store_block_counts(s, &c, "A", "loso", "knn"), MB_OK);
    cr_assert(c.total == 2 && c.ok == 0 && c.failed == 1 && c.pending == 1 && c.na == 0);
    cr_assert_eq(hn_store_block_counts(s, &c, "A", "loso", "lda"), MB_OK);
    cr_assert(c.total == 2 && c.ok == 2);
    char msg[8];
    cr_assert_eq(hn_store_block_message(s, msg, sizeof msg, "B", "within", "lda", "na"), MB_OK);
    cr_assert_str_eq(msg, "cannot");
    cr_assert_eq(hn_store_block_message(s, msg, 4, "A", "loso", "knn", "failed"), MB_OK);
    cr_assert_str_eq(msg, "boo", "cut to the buffer");
    cr_assert_eq(hn_store_block_message(s, msg, sizeof msg, "A", "loso", "lda", "failed"), MB_OK);
    cr_assert_str_eq(msg, "");
    got[0] = 0;
    cr_assert_eq(hn_store_each_subject(s, "A", "loso", cat_subject, NULL), MB_OK);
    cr_assert_str_eq(got, "3= 7=seven ");
    got[0] = 0;
    cr_assert_eq(hn_store_each_subject_metrics(s, "A", "loso", "lda", cat_metrics, NULL), MB_OK);
    cr_assert_str_eq(got, "3:1,1,1 7:0.5,0.25,0.75 7:0.25,0.125,0.5 ", "by subject, then fold: %s", got);
    got[0] = 0;
    cr_assert_eq(hn_store_each_confusion(s, "A", "loso", "lda", cat_confusion, NULL), MB_OK);
    cr_assert_str_eq(got, "1>1:9@sha-A 2>1:1@sha-A ");
    char name[16];
    cr_assert_eq(hn_store_gesture_name(s, name, sizeof name, "sha-A", 1), MB_OK);
    cr_assert_str_eq(name, "fist");
    cr_assert_eq(hn_store_gesture_name(s, name, sizeof name, "sha-A", 2), MB_OK);
    cr_assert_str_eq(name, "");
    got[0] = 0;
    cr_assert_eq(hn_store_each_info(s, HN_INFO_STATUS, cat_info, NULL), MB_OK);
    cr_assert_str_eq(got, "failed|1 na|1 ok|3 pending|1 ");
    got[0] = 0;
    cr_assert_eq(hn_store_each_info(s, HN_INFO_MACHINES, cat_info, NULL), MB_OK);
    cr_assert_str_eq(got, "box ");
    /* a callback's error stops the read and is returned */
    int calls = 0;
    cr_assert_eq(hn_store_each_block(s, stop_after_one, &calls), MB_EINVAL);
    cr_assert_eq(calls, 1);
    hn_store_close(s);
}

/* A block mixing two corpora of one name is refused, naming the store,
 * the block and both values. */
Test(store, a_block_of_two_corpora_is_refused)
{
    char db[128];
    make_store(db, sizeof db);
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    sql(h, "UPDATE jobs SET corpus_sha = 'other' WHERE key = 'k2'");
    sqlite3_close(h);
    struct hn_store *s;
    cr_assert_eq(hn_store_open_read(&s, db), MB_OK, "%s", mb_last_error());
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(hn_store_check_uniform(s), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), db) && strstr(mb_last_error(), "block A / loso mixes jobs of different corpora "
                                                                      "(SHA-256) ('other' and 'sha-A')"),
              "%s", mb_last_error());
    hn_store_close(s);
}

/* Opening for reading creates nothing, and every refusal names the store. */
Test(store, open_read_creates_nothing_and_names_the_store)
{
    char dir[64], p[128];
    tu_tmpdir(dir, sizeof dir);
    mb_log_set_level(MB_LOG_QUIET);
    struct hn_store *s = (struct hn_store *)1;
    snprintf(p, sizeof p, "%s/none.db", dir);
    cr_assert_eq(hn_store_open_read(&s, p), MB_EIO);
    cr_assert_null(s);
    cr_assert(strstr(mb_last_error(), "results store '") && strstr(mb_last_error(), "none.db' does not exist"),
              "%s", mb_last_error());
    cr_assert_eq(access(p, F_OK), -1, "not created");
    snprintf(p, sizeof p, "%s/text.db", dir);
    FILE *f = fopen(p, "w");
    fputs("not a database, but long enough to be looked at by SQLite as a header of one page\n", f);
    fclose(f);
    cr_assert_neq(hn_store_open_read(&s, p), MB_OK);
    cr_assert(strstr(mb_last_error(), p), "%s", mb_last_error());
    snprintf(p, sizeof p, "%s/other.db", dir);
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(p, &h), SQLITE_OK);
    sql(h, "CREATE TABLE meta(key TEXT, value TEXT); INSERT INTO meta VALUES ('schema', 'something/9')");
    sqlite3_close(h);
    cr_assert_eq(hn_store_open_read(&s, p), MB_ESCHEMA);
    cr_assert(strstr(mb_last_error(), "is not a myobench results store of schema 'myobench-results/1'"), "%s",
              mb_last_error());
    /* an empty store of the schema opens, with nothing in it */
    snprintf(p, sizeof p, "%s/empty.db", dir);
    cr_assert_eq(hn_store_open(&s, p), MB_OK, "%s", mb_last_error());
    hn_store_close(s);
    cr_assert_eq(hn_store_open_read(&s, p), MB_OK, "%s", mb_last_error());
    got[0] = 0;
    cr_assert_eq(hn_store_each_method(s, cat_method, NULL), MB_OK);
    cr_assert_str_eq(got, "");
    hn_store_close(s);
}
