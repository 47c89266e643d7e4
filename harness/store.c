/* harness/store.c - the SQLite results store (schema in docs/RESULTS.md).
 *
 * WAL journal with synchronous=NORMAL: a committed transaction survives a
 * kill -9 of the process (the WAL is replayed on the next open); only an
 * operating-system crash can lose the last commits, never corrupt the file.
 *
 * Several runs may share one store (docs/RESULTS.md section 3, "Leases"):
 * each job is claimed in one BEGIN IMMEDIATE transaction that writes a lease
 * row (owner, host, pid, heartbeat), so a job runs in one process only; a
 * lease whose heartbeat is older than the expiry, or whose process on this
 * host is gone, may be taken over.
 */
#include "harness/store.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/version.h"
#include "harness/run.h"

struct hn_store {
    sqlite3 *db;
    char *path;
    char *manifest_dir;
    pthread_mutex_t lock;
    /* who this handle's leases belong to */
    char owner[HN_OWNER_MAX];    /* "<host>:<pid>:<16 random hex digits>" */
    char host[256];
    long long pid;
    double lease_expiry;         /* seconds */
    int64_t claims_before_run;   /* claims.id up to which claims predate the current run */
};

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS runs(\n"
    "  id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT, version TEXT NOT NULL,\n"
    "  machine TEXT NOT NULL, threads INTEGER NOT NULL, plan TEXT NOT NULL,\n"
    "  n_ok INTEGER, n_na INTEGER, n_failed INTEGER, n_skipped INTEGER);\n"
    "CREATE TABLE IF NOT EXISTS corpora(sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, path TEXT NOT NULL,\n"
    "  n_subjects INTEGER NOT NULL, n_windows INTEGER NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS gestures(corpus_sha TEXT NOT NULL, id INTEGER NOT NULL, name TEXT NOT NULL,\n"
    "  PRIMARY KEY(corpus_sha, id));\n"
    "CREATE TABLE IF NOT EXISTS jobs(\n"
    "  key TEXT PRIMARY KEY, run_id INTEGER, dataset TEXT NOT NULL, corpus_sha TEXT NOT NULL,\n"
    "  protocol TEXT NOT NULL, protocol_name TEXT NOT NULL, settings TEXT NOT NULL,\n"
    "  method TEXT NOT NULL, method_name TEXT NOT NULL, method_caps INTEGER NOT NULL, params TEXT NOT NULL,\n"
    "  seed INTEGER NOT NULL,\n"
    "  fold_id TEXT NOT NULL, manifest_sha TEXT NOT NULL, manifest TEXT NOT NULL, view TEXT NOT NULL,\n"
    "  version TEXT NOT NULL,\n"
    "  dataset_pos INTEGER NOT NULL, protocol_pos INTEGER NOT NULL, method_pos INTEGER NOT NULL,\n"
    "  fold_pos INTEGER NOT NULL,\n"
    "  status TEXT NOT NULL CHECK(status IN ('pending', 'ok', 'na', 'failed')), message TEXT,\n"
    "  seconds_fit REAL, seconds_predict REAL, seconds_total REAL, threads INTEGER, finished TEXT);\n"
    "CREATE INDEX IF NOT EXISTS jobs_block ON jobs(dataset, protocol, method);\n"
    "CREATE TABLE IF NOT EXISTS subject_metrics(job TEXT NOT NULL REFERENCES jobs(key), subject INTEGER NOT NULL,\n"
    "  subject_name TEXT NOT NULL, n_test INTEGER NOT NULL, accuracy REAL, balanced_accuracy REAL,\n"
    "  macro_f1 REAL, PRIMARY KEY(job, subject));\n"
    "CREATE TABLE IF NOT EXISTS confusion(job TEXT NOT NULL REFERENCES jobs(key), subject INTEGER NOT NULL,\n"
    "  true_id INTEGER NOT NULL, pred_id INTEGER NOT NULL, count INTEGER NOT NULL,\n"
    "  PRIMARY KEY(job, subject, true_id, pred_id));\n"
    /* Job claiming (docs/RESULTS.md section 3): the lease of each running job,
     * and one row per claim (an execution attempt). Stores made before these
     * tables get them on their next open. */
    "CREATE TABLE IF NOT EXISTS leases(job TEXT PRIMARY KEY REFERENCES jobs(key), owner TEXT NOT NULL,\n"
    "  host TEXT NOT NULL, pid INTEGER NOT NULL, run_id INTEGER, claimed TEXT NOT NULL, heartbeat INTEGER NOT NULL,\n"
    "  expiry REAL NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS claims(id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL REFERENCES jobs(key),\n"
    "  run_id INTEGER, owner TEXT NOT NULL, claimed TEXT NOT NULL, took_over TEXT);\n"
    "CREATE INDEX IF NOT EXISTS claims_job ON claims(job);\n"
    "CREATE VIEW IF NOT EXISTS class_metrics AS\n"
    "  SELECT job, subject, true_id AS class, SUM(count) AS n_true,\n"
    "         SUM(CASE WHEN true_id = pred_id THEN count ELSE 0 END) AS n_correct,\n"
    "         CAST(SUM(CASE WHEN true_id = pred_id THEN count ELSE 0 END) AS REAL) / SUM(count) AS recall\n"
    "  FROM confusion GROUP BY job, subject, true_id;\n";

static int drop_leases(struct hn_store *s, const char *key);

static int db_fail(struct hn_store *s, const char *what)
{
    return mb_error(MB_EIO, "results store '%s': %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static int exec(struct hn_store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = mb_error(MB_EIO, "results store '%s': %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return rc;
    }
    return MB_OK;
}

static void utc_now(char buf[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void machine(char *buf, size_t cap)
{
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(buf, cap, "%s %s %s %s", u.sysname, u.nodename, u.release, u.machine);
    else
        snprintf(buf, cap, "unknown");
}

#define BUSY_TIMEOUT_MS 60000

/* Switching a fresh database to WAL needs an exclusive lock, and SQLite
 * answers SQLITE_BUSY at once there instead of calling the busy handler:
 * two runs started together on a new store failed with "database is
 * locked". Retry for as long as the busy timeout. */
static int set_wal(struct hn_store *s)
{
    for (int waited = 0;; waited += 10) {
        int rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return MB_OK;
        if ((rc & 0xff) != SQLITE_BUSY || waited >= BUSY_TIMEOUT_MS)
            return db_fail(s, "setting WAL mode");
        sqlite3_sleep(10);
    }
}

/* The identity this handle's leases carry: host and pid, to tell a dead
 * owner on this host, and random digits, so two handles of one process (or
 * a reused pid) never pass for each other. */
static void owner_init(struct hn_store *s)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 32) ^
            (uint64_t)(uintptr_t)s;
    }
    if (gethostname(s->host, sizeof s->host) != 0)
        snprintf(s->host, sizeof s->host, "unknown");
    s->host[sizeof s->host - 1] = 0;
    s->pid = (long long)getpid();
    snprintf(s->owner, sizeof s->owner, "%.200s:%lld:%016llx", s->host, s->pid, (unsigned long long)r);
    s->lease_expiry = HN_LEASE_EXPIRY;
}

/* Reads meta.schema; a fresh database gets the meta rows. */
static int check_meta(struct hn_store *s)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'schema'", -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, "reading meta");
    int step = sqlite3_step(st), rc = MB_OK;
    if (step == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (!v || strcmp(v, HN_STORE_SCHEMA))
            rc = mb_error(MB_ESCHEMA, "results store '%s' has schema '%s', expected '%s'", s->path, v ? v : "",
                          HN_STORE_SCHEMA);
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return db_fail(s, "reading meta");
    char now[32], mach[512];
    utc_now(now);
    machine(mach, sizeof mach);
    if (sqlite3_prepare_v2(s->db, "INSERT INTO meta(key, value) VALUES (?, ?)", -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, "writing meta");
    const char *kv[][2] = { { "schema", HN_STORE_SCHEMA }, { "version", hn_version() }, { "machine", mach },
                            { "created", now } };
    for (size_t i = 0; i < 4 && !rc; i++) {
        sqlite3_bind_text(st, 1, kv[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, kv[i][1], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(s, "writing meta");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

int hn_store_open(struct hn_store **out, const char *path)
{
    *out = NULL;
    struct hn_store *s = calloc(1, sizeof *s);
    if (!s)
        return mb_error(MB_ENOMEM, "out of memory opening '%s'", path);
    pthread_mutex_init(&s->lock, NULL);
    s->path = strdup(path);
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) : 1;
    s->manifest_dir = malloc(dl + 16);
    if (!s->path || !s->manifest_dir) {
        hn_store_close(s);
        return mb_error(MB_ENOMEM, "out of memory opening '%s'", path);
    }
    snprintf(s->manifest_dir, dl + 16, "%.*s/manifests", (int)dl, slash ? path : ".");
    owner_init(s);
    int rc = MB_OK;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK)
        rc = db_fail(s, "cannot open");
    if (!rc) {
        /* Other runs and readers (a report while a run goes on) wait instead of failing. */
        sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
        rc = set_wal(s);
    }
    if (!rc)
        rc = exec(s, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
    if (!rc)
        rc = exec(s, "BEGIN IMMEDIATE");
    if (!rc) {
        rc = exec(s, schema_sql);
        if (!rc)
            rc = check_meta(s);
        rc = rc ? (exec(s, "ROLLBACK"), rc) : exec(s, "COMMIT");
    }
    if (!rc)
        rc = mb_fs_mkdirs(s->manifest_dir);
    if (rc) {
        hn_store_close(s);
        return rc;
    }
    *out = s;
    return MB_OK;
}

void hn_store_close(struct hn_store *s)
{
    if (!s)
        return;
    if (s->db)
        sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    free(s->path);
    free(s->manifest_dir);
    free(s);
}

const char *hn_store_path(const struct hn_store *s)
{
    return s->path;
}

int hn_store_begin_run(struct hn_store *s, int64_t *run_id, const char *plan_text, int threads)
{
    char now[32], mach[512];
    utc_now(now);
    machine(mach, sizeof mach);
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = NULL;
    int rc = exec(s, "BEGIN IMMEDIATE");
    if (rc)
        goto out;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO runs(started, version, machine, threads, plan) VALUES (?, ?, ?, ?, ?)", -1,
                           &st, NULL) != SQLITE_OK) {
        rc = db_fail(s, "recording the run");
        goto out;
    }
    sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hn_version(), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, mach, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, threads);
    sqlite3_bind_text(st, 5, plan_text, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(s, "recording the run");
    *run_id = sqlite3_last_insert_rowid(s->db);
    sqlite3_finalize(st);
    st = NULL;
    /* Claims after this one were made while this run went on (hn_store_claim). */
    if (!rc && sqlite3_prepare_v2(s->db, "SELECT COALESCE(MAX(id), 0) FROM claims", -1, &st, NULL) != SQLITE_OK)
        rc = db_fail(s, "recording the run");
    if (!rc) {
        if (sqlite3_step(st) == SQLITE_ROW)
            s->claims_before_run = sqlite3_column_int64(st, 0);
        else
            rc = db_fail(s, "recording the run");
    }
out:
    sqlite3_finalize(st);
    if (rc)
        (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    else
        rc = exec(s, "COMMIT");
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int hn_store_end_run(struct hn_store *s, int64_t run_id, size_t n_ok, size_t n_na, size_t n_failed, size_t n_skipped)
{
    char now[32];
    utc_now(now);
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    int rc = MB_OK;
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE runs SET finished = ?, n_ok = ?, n_na = ?, n_failed = ?, n_skipped = ? "
                           "WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        rc = db_fail(s, "closing the run");
    else {
        sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)n_ok);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)n_na);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)n_failed);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)n_skipped);
        sqlite3_bind_int64(st, 6, run_id);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(s, "closing the run");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int hn_store_add_corpus(struct hn_store *s, const struct cp_corpus *c)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *a = NULL, *g = NULL;
    int rc = exec(s, "BEGIN IMMEDIATE");
    if (rc)
        goto out;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO corpora(sha256, name, path, n_subjects, n_windows) "
                           "VALUES (?, ?, ?, ?, ?)",
                           -1, &a, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO gestures(corpus_sha, id, name) VALUES (?, ?, ?)", -1, &g,
                           NULL) != SQLITE_OK) {
        rc = db_fail(s, "recording a corpus");
        goto out;
    }
    sqlite3_bind_text(a, 1, c->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(a, 2, c->name ? c->name : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(a, 3, c->path ? c->path : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(a, 4, (sqlite3_int64)c->n_subjects);
    sqlite3_bind_int64(a, 5, (sqlite3_int64)c->n);
    if (sqlite3_step(a) != SQLITE_DONE) {
        rc = db_fail(s, "recording a corpus");
        goto out;
    }
    for (size_t i = 0; i < c->n_gestures; i++) {
        sqlite3_bind_text(g, 1, c->sha256, -1, SQLITE_STATIC);
        sqlite3_bind_int(g, 2, c->gesture_ids[i]);
        sqlite3_bind_text(g, 3, c->gesture_names && c->gesture_names[i] ? c->gesture_names[i] : "", -1,
                          SQLITE_STATIC);
        if (sqlite3_step(g) != SQLITE_DONE) {
            rc = db_fail(s, "recording gesture names");
            goto out;
        }
        sqlite3_reset(g);
    }
out:
    sqlite3_finalize(a);
    sqlite3_finalize(g);
    if (rc)
        (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    else
        rc = exec(s, "COMMIT");
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* DB_DIR/manifests/<sha>.json, built under a temporary name. */
static int write_manifest(struct hn_store *s, const char *sha, const char *text)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s.json", s->manifest_dir, sha);
    if (mb_fs_is_file(path))
        return MB_OK;
    int rc = mb_fs_tmpname(tmp, sizeof tmp, path);
    if (rc)
        return rc;
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return mb_error(MB_EIO, "cannot create '%s': %s", tmp, strerror(errno));
    size_t n = strlen(text);
    int bad = fwrite(text, 1, n, f) != n;
    bad |= fclose(f) != 0;
    if (bad) {
        remove(tmp);
        return mb_error(MB_EIO, "cannot write manifest '%s'", path);
    }
    return mb_fs_commit(tmp, path);
}

static void bind_job(sqlite3_stmt *st, const struct hn_job_rec *j)
{
    int i = 1;
    sqlite3_bind_text(st, i++, j->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, j->dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, j->corpus_sha, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, j->protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, j->protocol_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, j->settings, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, j->method, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, j->method_name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, i++, (int)j->method_caps);
    sqlite3_bind_text(st, i++, j->params, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)j->seed);
    sqlite3_bind_text(st, i++, j->fold_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, j->manifest_sha, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, j->manifest, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, j->view, -1, SQLITE_STATIC);
    /* the job's own build (version+source hash), so report can tell builds apart */
    char ver[96];
    snprintf(ver, sizeof ver, "%s+%.16s", MB_VERSION, j->source ? j->source : "");
    sqlite3_bind_text(st, i++, ver, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)j->dataset_pos);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)j->protocol_pos);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)j->method_pos);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)j->fold_pos);
}

#define JOB_COLS \
    "key, dataset, corpus_sha, protocol, protocol_name, settings, method, method_name, method_caps, params, seed, " \
    "fold_id, manifest_sha, manifest, view, version, dataset_pos, protocol_pos, method_pos, fold_pos"
#define JOB_VALS "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
#define JOB_NCOLS 20

int hn_store_plan_jobs(struct hn_store *s, const struct hn_job_rec *jobs, size_t n)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = NULL;
    int rc = exec(s, "BEGIN IMMEDIATE");
    if (rc)
        goto out;
    /* A known key keeps its status and results; only the plan order moves,
     * so a re-ordered plan re-orders the report. */
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO jobs(" JOB_COLS ", status) VALUES (" JOB_VALS ", 'pending') "
                           "ON CONFLICT(key) DO UPDATE SET dataset_pos = excluded.dataset_pos, "
                           "protocol_pos = excluded.protocol_pos, method_pos = excluded.method_pos, "
                           "fold_pos = excluded.fold_pos",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(s, "planning jobs");
        goto out;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        bind_job(st, &jobs[i]);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(s, "planning jobs");
        sqlite3_reset(st);
        if (!rc)
            rc = write_manifest(s, jobs[i].manifest_sha, jobs[i].manifest);
    }
out:
    sqlite3_finalize(st);
    if (rc)
        (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    else
        rc = exec(s, "COMMIT");
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static const char *const status_name[] = { "pending", "ok", "na", "failed" };

int hn_store_job_status(struct hn_store *s, enum hn_job_status *out, const char *key)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    int rc = MB_OK;
    *out = HN_ABSENT;
    if (sqlite3_prepare_v2(s->db, "SELECT status FROM jobs WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
        rc = db_fail(s, "reading a job");
    else {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            const char *v = (const char *)sqlite3_column_text(st, 0);
            for (int i = 0; i < 4; i++)
                if (v && !strcmp(v, status_name[i]))
                    *out = (enum hn_job_status)i;
        } else if (step != SQLITE_DONE)
            rc = db_fail(s, "reading a job");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int commit_results(struct hn_store *s, const char *key, const struct pr_result *res,
                          const char *const *subject_names)
{
    sqlite3_stmt *d = NULL, *m = NULL, *c = NULL;
    int rc = MB_OK;
    /* A retried job replaces the rows of its failed attempt. */
    if (sqlite3_prepare_v2(s->db, "DELETE FROM subject_metrics WHERE job = ?1", -1, &d, NULL) != SQLITE_OK)
        return db_fail(s, "replacing a job");
    sqlite3_bind_text(d, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(d) != SQLITE_DONE)
        rc = db_fail(s, "replacing a job");
    sqlite3_finalize(d);
    if (!rc && sqlite3_prepare_v2(s->db, "DELETE FROM confusion WHERE job = ?1", -1, &d, NULL) == SQLITE_OK) {
        sqlite3_bind_text(d, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(d) != SQLITE_DONE)
            rc = db_fail(s, "replacing a job");
        sqlite3_finalize(d);
    }
    if (rc || !res || res->status != PR_OK)
        return rc;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO subject_metrics(job, subject, subject_name, n_test, accuracy, "
                           "balanced_accuracy, macro_f1) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           -1, &m, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "INSERT INTO confusion(job, subject, true_id, pred_id, count) VALUES (?, ?, ?, ?, ?)",
                           -1, &c, NULL) != SQLITE_OK) {
        rc = db_fail(s, "writing metrics");
        goto out;
    }
    for (size_t i = 0; i < res->n_subjects && !rc; i++) {
        const struct pr_subject_result *r = &res->subjects[i];
        sqlite3_bind_text(m, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int(m, 2, r->subject);
        sqlite3_bind_text(m, 3, subject_names ? subject_names[r->subject] : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(m, 4, (sqlite3_int64)r->n_test);
        sqlite3_bind_double(m, 5, r->accuracy);
        sqlite3_bind_double(m, 6, r->balanced_accuracy);
        sqlite3_bind_double(m, 7, r->macro_f1);
        if (sqlite3_step(m) != SQLITE_DONE)
            rc = db_fail(s, "writing subject metrics");
        sqlite3_reset(m);
        for (size_t t = 0; t < r->K && !rc; t++)
            for (size_t p = 0; p < r->K && !rc; p++) {
                int64_t n = r->confusion[t * r->K + p];
                if (!n)
                    continue;
                sqlite3_bind_text(c, 1, key, -1, SQLITE_STATIC);
                sqlite3_bind_int(c, 2, r->subject);
                sqlite3_bind_int(c, 3, r->classes[t]);
                sqlite3_bind_int(c, 4, r->classes[p]);
                sqlite3_bind_int64(c, 5, n);
                if (sqlite3_step(c) != SQLITE_DONE)
                    rc = db_fail(s, "writing a confusion matrix");
                sqlite3_reset(c);
            }
    }
out:
    sqlite3_finalize(m);
    sqlite3_finalize(c);
    return rc;
}

int hn_store_commit_job(struct hn_store *s, const struct hn_job_rec *job, int64_t run_id, int threads,
                        enum hn_job_status status, const char *message, const struct pr_result *res,
                        const char *const *subject_names, double seconds_total)
{
    char now[32];
    utc_now(now);
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = NULL;
    int rc = exec(s, "BEGIN IMMEDIATE");
    if (rc)
        goto out;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO jobs(" JOB_COLS ", status, message, run_id, seconds_fit, seconds_predict, "
                           "seconds_total, threads, finished) VALUES (" JOB_VALS ", ?, ?, ?, ?, ?, ?, ?, ?) "
                           "ON CONFLICT(key) DO UPDATE SET status = excluded.status, message = excluded.message, "
                           "run_id = excluded.run_id, seconds_fit = excluded.seconds_fit, "
                           "seconds_predict = excluded.seconds_predict, seconds_total = excluded.seconds_total, "
                           "threads = excluded.threads, finished = excluded.finished",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(s, "committing a job");
        goto out;
    }
    bind_job(st, job);
    int i = JOB_NCOLS + 1;
    sqlite3_bind_text(st, i++, status_name[status], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, message ? message : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, i++, run_id);
    if (res) {
        sqlite3_bind_double(st, i++, res->seconds_fit);
        sqlite3_bind_double(st, i++, res->seconds_predict);
    } else {
        sqlite3_bind_null(st, i++);
        sqlite3_bind_null(st, i++);
    }
    sqlite3_bind_double(st, i++, seconds_total);
    sqlite3_bind_int(st, i++, threads);
    sqlite3_bind_text(st, i++, now, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(s, "committing a job");
    if (!rc)
        rc = commit_results(s, job->key, status == HN_OK ? res : NULL, subject_names);
    /* the job is finished: its lease goes with the same commit */
    if (!rc)
        rc = drop_leases(s, job->key);
out:
    sqlite3_finalize(st);
    if (rc)
        (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    else
        rc = exec(s, "COMMIT");
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- job claiming ---------------------------------------------------------------- */

/* Deletes this handle's lease of 'key' (all of them when key is NULL);
 * called with the lock held, inside or outside a transaction. */
static int drop_leases(struct hn_store *s, const char *key)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM leases WHERE owner = ?1 AND (?2 IS NULL OR job = ?2)", -1, &st,
                           NULL) != SQLITE_OK)
        return db_fail(s, "releasing a lease");
    sqlite3_bind_text(st, 1, s->owner, -1, SQLITE_STATIC);
    if (key)
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    int rc = sqlite3_step(st) == SQLITE_DONE ? MB_OK : db_fail(s, "releasing a lease");
    sqlite3_finalize(st);
    return rc;
}

/* 1 if process 'pid' of this host still runs. A zombie (killed, not yet
 * reaped by its parent) answers kill(pid, 0) but runs nothing. */
static int pid_running(long long pid)
{
    if (pid <= 0 || pid > INT_MAX)
        return 0;
    if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
        return 0;
    char p[64], buf[512];
    snprintf(p, sizeof p, "/proc/%lld/stat", pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return 1;   /* no procfs: trust kill() */
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *e = strrchr(buf, ')');   /* "pid (comm) S ...": comm may hold spaces */
    return !(e && e[1] == ' ' && (e[2] == 'Z' || e[2] == 'X'));
}

void hn_store_set_lease_expiry(struct hn_store *s, double seconds)
{
    s->lease_expiry = seconds > 0 ? seconds : HN_LEASE_EXPIRY;
}

double hn_store_lease_expiry(const struct hn_store *s)
{
    return s->lease_expiry;
}

const char *hn_store_owner(const struct hn_store *s)
{
    return s->owner;
}

/* The claim's reading step, one statement: the job's status, its lease (NULLs
 * without one) and whether a claim was made since this run began. */
static int read_claim(struct hn_store *s, char status[16], struct hn_lease *l, int *tried, const char *key,
                      time_t now)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT j.status, l.owner, l.host, l.pid, l.heartbeat, l.expiry, "
                           "EXISTS(SELECT 1 FROM claims c WHERE c.job = j.key AND c.id > ?2) "
                           "FROM jobs j LEFT JOIN leases l ON l.job = j.key WHERE j.key = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, "claiming a job");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, s->claims_before_run);
    int step = sqlite3_step(st), rc = MB_OK;
    memset(l, 0, sizeof *l);
    if (step == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        snprintf(status, 16, "%s", v ? v : "");
        if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
            snprintf(l->owner, sizeof l->owner, "%s", (const char *)sqlite3_column_text(st, 1));
            v = (const char *)sqlite3_column_text(st, 2);
            snprintf(l->host, sizeof l->host, "%s", v ? v : "");
            l->pid = sqlite3_column_int64(st, 3);
            l->age = difftime(now, (time_t)sqlite3_column_int64(st, 4));
            l->expiry = sqlite3_column_double(st, 5);
        }
        *tried = sqlite3_column_int(st, 6);
    } else if (step == SQLITE_DONE)
        rc = mb_error(MB_EINVAL, "results store '%s': job %.16s is not planned", s->path, key);
    else
        rc = db_fail(s, "claiming a job");
    sqlite3_finalize(st);
    return rc;
}

int hn_store_claim(struct hn_store *s, enum hn_claim *out, struct hn_lease *holder, const char *key, int64_t run_id)
{
    struct hn_lease prev;
    char status[16] = "";
    int tried = 0;
    *out = HN_CLAIM_BUSY;
    time_t now = time(NULL);
    pthread_mutex_lock(&s->lock);
    /* IMMEDIATE: the read and the lease write are one step, so two runs
     * can never both see the job free */
    int rc = exec(s, "BEGIN IMMEDIATE");
    if (rc)
        memset(&prev, 0, sizeof prev);
    else
        rc = read_claim(s, status, &prev, &tried, key, now);
    if (!rc && !strcmp(prev.owner, s->owner))
        memset(&prev, 0, sizeof prev);   /* our own lease: ours to (re)claim */
    if (!rc) {
        if (!strcmp(status, "ok") || !strcmp(status, "na")) {
            *out = HN_CLAIM_DONE;
        } else if (prev.owner[0]) {
            /* held by another run: ours only when its owner is gone. The
             * expiry is the owner's, which knows how often it beats. A
             * heartbeat further than that in the future expires too: no clock
             * of this machine as it is now wrote it (a store copied from a
             * machine whose clock is ahead, a clock stepped back, a damaged
             * row), and it would otherwise be waited for until the clocks
             * agree - for ever with a year-2100 heartbeat. */
            prev.expired = prev.age > prev.expiry || -prev.age > prev.expiry;
            prev.dead = !strcmp(prev.host, s->host) && !pid_running(prev.pid);
            *out = prev.expired || prev.dead ? HN_CLAIMED : HN_CLAIM_BUSY;
        } else if (!strcmp(status, "failed") && tried) {
            /* another run tried it since this one began, and it failed: running
             * it again here would only repeat that failure */
            *out = HN_CLAIM_FAILED;
        } else
            *out = HN_CLAIMED;
    }
    if (!rc && *out == HN_CLAIMED) {
        char when[32], took[400] = "";
        utc_now(when);
        if (prev.owner[0])
            snprintf(took, sizeof took, "%s (%s)", prev.owner,
                     prev.dead ? "process not running" : "heartbeat expired");
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(s->db,
                               "INSERT INTO leases(job, owner, host, pid, run_id, claimed, heartbeat, expiry) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(job) DO UPDATE SET "
                               "owner = excluded.owner, host = excluded.host, pid = excluded.pid, "
                               "run_id = excluded.run_id, claimed = excluded.claimed, "
                               "heartbeat = excluded.heartbeat, expiry = excluded.expiry",
                               -1, &st, NULL) != SQLITE_OK) {
            rc = db_fail(s, "claiming a job");
            goto out;
        }
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, s->owner, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, s->host, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, s->pid);
        sqlite3_bind_int64(st, 5, run_id);
        sqlite3_bind_text(st, 6, when, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)now);
        sqlite3_bind_double(st, 8, s->lease_expiry);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(s, "claiming a job");
        sqlite3_finalize(st);
        if (!rc && sqlite3_prepare_v2(s->db,
                                      "INSERT INTO claims(job, run_id, owner, claimed, took_over) "
                                      "VALUES (?1, ?2, ?3, ?4, NULLIF(?5, ''))",
                                      -1, &st, NULL) != SQLITE_OK) {
            rc = db_fail(s, "claiming a job");
            goto out;
        }
        if (!rc) {
            sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, run_id);
            sqlite3_bind_text(st, 3, s->owner, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, when, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 5, took, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = db_fail(s, "claiming a job");
            sqlite3_finalize(st);
        }
    }
out:
    if (rc)
        (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    else
        rc = exec(s, "COMMIT");
    pthread_mutex_unlock(&s->lock);
    if (rc)
        *out = HN_CLAIM_BUSY;
    if (holder)
        *holder = prev;
    return rc;
}

int hn_store_heartbeat(struct hn_store *s)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    int rc = MB_OK;
    if (sqlite3_prepare_v2(s->db, "UPDATE leases SET heartbeat = ?1 WHERE owner = ?2", -1, &st, NULL) != SQLITE_OK)
        rc = db_fail(s, "renewing leases");
    else {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
        sqlite3_bind_text(st, 2, s->owner, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(s, "renewing leases");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int hn_store_release(struct hn_store *s, const char *key)
{
    pthread_mutex_lock(&s->lock);
    int rc = drop_leases(s, key);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- pruning -------------------------------------------------------------------- */

#define PRUNE_WHERE                                                                   \
    "(?1 IS NULL OR dataset = ?1) AND (?2 IS NULL OR protocol = ?2) AND "               \
    "(?3 IS NULL OR method = ?3) AND (?4 IS NULL OR version <> ?4)"

static void bind_prune(sqlite3_stmt *st, const struct hn_prune *sel)
{
    const char *v[4] = { sel->dataset, sel->protocol, sel->method, sel->other_than_version };
    for (int i = 0; i < 4; i++)
        if (v[i])
            sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, i + 1);
}

int hn_store_prune(struct hn_store *s, size_t *n_jobs, const struct hn_prune *sel, int dry_run)
{
    *n_jobs = 0;
    if (!sel->dataset && !sel->protocol && !sel->method && !sel->other_than_version)
        return mb_error(MB_EINVAL, "results store '%s': prune needs a dataset, protocol, method or version to "
                        "select jobs", s->path);
    static const char *const sql[] = {
        "SELECT COUNT(*) FROM jobs WHERE " PRUNE_WHERE,
        "DELETE FROM subject_metrics WHERE job IN (SELECT key FROM jobs WHERE " PRUNE_WHERE ")",
        "DELETE FROM confusion WHERE job IN (SELECT key FROM jobs WHERE " PRUNE_WHERE ")",
        "DELETE FROM leases WHERE job IN (SELECT key FROM jobs WHERE " PRUNE_WHERE ")",
        "DELETE FROM claims WHERE job IN (SELECT key FROM jobs WHERE " PRUNE_WHERE ")",
        "DELETE FROM jobs WHERE " PRUNE_WHERE,
    };
    pthread_mutex_lock(&s->lock);
    int rc = exec(s, "BEGIN IMMEDIATE");
    for (size_t q = 0; q < (dry_run ? 1u : sizeof sql / sizeof *sql) && !rc; q++) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(s->db, sql[q], -1, &st, NULL) != SQLITE_OK) {
            rc = db_fail(s, "pruning jobs");
            break;
        }
        bind_prune(st, sel);
        int step = sqlite3_step(st);
        if (q == 0 && step == SQLITE_ROW)
            *n_jobs = (size_t)sqlite3_column_int64(st, 0);
        else if (step != SQLITE_DONE)
            rc = db_fail(s, "pruning jobs");
        sqlite3_finalize(st);
    }
    if (rc || dry_run)
        (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    else
        rc = exec(s, "COMMIT");
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- reading, for the reports ---------------------------------------------- */

/* Messages as the reports have always given them: "results store '<path>':
 * <what>: <SQLite's reason>", "query" for a statement SQLite refuses to
 * prepare (a damaged store, or a database that is not a store). */
static int rd_prep(struct hn_store *s, sqlite3_stmt **st, const char *sql)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return db_fail(s, "query");
    return MB_OK;
}

static const char *rd_text(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return v ? v : "";
}

int hn_store_open_read(struct hn_store **out, const char *path)
{
    *out = NULL;
    if (!mb_fs_is_file(path))
        return mb_error(MB_EIO, "results store '%s' does not exist", path);
    struct hn_store *s = calloc(1, sizeof *s);
    if (!s)
        return mb_error(MB_ENOMEM, "out of memory opening '%s'", path);
    pthread_mutex_init(&s->lock, NULL);
    int rc = MB_OK;
    if (!(s->path = strdup(path)))
        rc = mb_error(MB_ENOMEM, "out of memory opening '%s'", path);
    else if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        rc = db_fail(s, "cannot open");
    sqlite3_stmt *st = NULL;
    if (!rc) {
        sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
        rc = rd_prep(s, &st, "SELECT value FROM meta WHERE key = 'schema'");
    }
    if (!rc && (sqlite3_step(st) != SQLITE_ROW || strcmp(rd_text(st, 0), HN_STORE_SCHEMA)))
        rc = mb_error(MB_ESCHEMA, "'%s' is not a myobench results store of schema '%s'", path, HN_STORE_SCHEMA);
    sqlite3_finalize(st);
    if (rc) {
        hn_store_close(s);
        return rc;
    }
    *out = s;
    return MB_OK;
}

/* What must be the same across the jobs of one report block. A block is
 * found by labels only (dataset, protocol variant, method), and the store
 * keeps every job ever planned, so a re-plan with other settings, another
 * build or another corpus of the same name would otherwise be averaged
 * into the same cells. per_method: the column may differ between methods of
 * a block (each row has its own parameters) but not within one row. */
static const struct {
    const char *col, *what;
    int per_method;
} same_cols[] = {
    { "corpus_sha", "corpora (SHA-256)", 0 }, { "settings", "protocol settings", 0 },
    { "view", "views", 0 },                   { "version", "software versions (version+source hash)", 0 },
    { "params", "method parameters", 1 },
};

int hn_store_check_labels(struct hn_store *s)
{
    static const char *const cols[] = { "dataset", "protocol", "method" };
    for (size_t i = 0; i < sizeof cols / sizeof *cols; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM jobs WHERE %s IS NULL OR %s = ''", cols[i], cols[i]);
        sqlite3_stmt *st;
        int rc = rd_prep(s, &st, sql);
        if (rc)
            return rc;
        int step = sqlite3_step(st);
        long long n = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_finalize(st);
        if (step != SQLITE_ROW)
            return db_fail(s, "checking labels");
        if (n)
            return mb_error(MB_EFORMAT,
                            "results store '%s': %lld %s an empty %s label, so no table can name %s; "
                            "remove %s (myobench prune --%s '') and run the plan again with a label",
                            s->path, n, n == 1 ? "job has" : "jobs have", cols[i], n == 1 ? "it" : "them",
                            n == 1 ? "it" : "them", cols[i]);
    }
    return MB_OK;
}

int hn_store_check_uniform(struct hn_store *s)
{
    for (size_t i = 0; i < sizeof same_cols / sizeof *same_cols; i++) {
        const char *c = same_cols[i].col;
        const char *grp = same_cols[i].per_method ? "dataset, protocol, method" : "dataset, protocol";
        char sql[512];
        snprintf(sql, sizeof sql,
                 "SELECT dataset, protocol, %s, MIN(%s), MAX(%s) FROM jobs GROUP BY %s "
                 "HAVING COUNT(DISTINCT %s) > 1 ORDER BY MIN(dataset_pos), 1, MIN(protocol_pos), 2, 3 LIMIT 1",
                 same_cols[i].per_method ? "method" : "''", c, c, grp, c);
        sqlite3_stmt *st;
        int rc = rd_prep(s, &st, sql);
        if (rc)
            return rc;
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            const char *m = rd_text(st, 2);
            rc = mb_error(MB_EINVAL,
                          "results store '%s': block %s / %s%s%s mixes jobs of different %s ('%.100s' and "
                          "'%.100s'), e.g. from runs of other plans, builds or corpora into the same store; "
                          "run each into its own --db, or delete the old jobs",
                          s->path, rd_text(st, 0), rd_text(st, 1), m[0] ? " / " : "", m, same_cols[i].what,
                          rd_text(st, 3), rd_text(st, 4));
        } else if (step != SQLITE_DONE)
            rc = db_fail(s, "checking blocks");
        sqlite3_finalize(st);
        if (rc)
            return rc;
    }
    return MB_OK;
}

int hn_store_each_method(struct hn_store *s, int (*fn)(void *ctx, const char *method, unsigned caps), void *ctx)
{
    sqlite3_stmt *st;
    int rc = rd_prep(s, &st, "SELECT method, MIN(method_pos), MAX(method_caps) FROM jobs GROUP BY method "
                             "ORDER BY 2, 1");
    if (rc)
        return rc;
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = fn(ctx, rd_text(st, 0), (unsigned)sqlite3_column_int(st, 2));
    if (!rc && step != SQLITE_DONE)
        rc = db_fail(s, "reading methods");
    sqlite3_finalize(st);
    return rc;
}

int hn_store_each_block(struct hn_store *s, int (*fn)(void *ctx, const char *dataset, const char *protocol),
                        void *ctx)
{
    sqlite3_stmt *st;
    int rc = rd_prep(s, &st, "SELECT dataset, protocol, MIN(dataset_pos), MIN(protocol_pos) FROM jobs "
                             "GROUP BY dataset, protocol ORDER BY 3, 1, 4, 2");
    if (rc)
        return rc;
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = fn(ctx, rd_text(st, 0), rd_text(st, 1));
    if (!rc && step != SQLITE_DONE)
        rc = db_fail(s, "reading blocks");
    sqlite3_finalize(st);
    return rc;
}

static void bind_block(sqlite3_stmt *st, const char *dataset, const char *protocol, const char *method)
{
    sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, protocol, -1, SQLITE_STATIC);
    if (method)
        sqlite3_bind_text(st, 3, method, -1, SQLITE_STATIC);
}

int hn_store_block_counts(struct hn_store *s, struct hn_status_counts *c, const char *dataset,
                          const char *protocol, const char *method)
{
    sqlite3_stmt *st;
    memset(c, 0, sizeof *c);
    int rc = rd_prep(s, &st,
                     "SELECT status, COUNT(*) FROM jobs WHERE dataset = ? AND protocol = ? AND method = ? "
                     "GROUP BY status ORDER BY status");
    if (rc)
        return rc;
    bind_block(st, dataset, protocol, method);
    int step = SQLITE_DONE;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *v = rd_text(st, 0);
        size_t n = (size_t)sqlite3_column_int64(st, 1);
        c->total += n;
        if (!strcmp(v, "ok"))
            c->ok += n;
        else if (!strcmp(v, "na"))
            c->na += n;
        else if (!strcmp(v, "failed"))
            c->failed += n;
        else
            c->pending += n;
    }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? MB_OK : db_fail(s, "counting jobs");
}

int hn_store_block_message(struct hn_store *s, char *buf, size_t cap, const char *dataset, const char *protocol,
                           const char *method, const char *status)
{
    sqlite3_stmt *st;
    int rc = rd_prep(s, &st,
                     "SELECT message FROM jobs WHERE dataset = ? AND protocol = ? AND method = ? AND status = ? "
                     "ORDER BY key LIMIT 1");
    if (rc)
        return rc;
    bind_block(st, dataset, protocol, method);
    sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
    buf[0] = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(buf, cap, "%s", rd_text(st, 0));
    sqlite3_finalize(st);
    return MB_OK;
}

int hn_store_each_subject(struct hn_store *s, const char *dataset, const char *protocol,
                          int (*fn)(void *ctx, int32_t subject, const char *name), void *ctx)
{
    sqlite3_stmt *st;
    int rc = rd_prep(s, &st,
                     "SELECT sm.subject, MIN(sm.subject_name) FROM subject_metrics sm JOIN jobs j ON sm.job = j.key "
                     "WHERE j.dataset = ? AND j.protocol = ? AND j.status = 'ok' GROUP BY sm.subject "
                     "ORDER BY sm.subject");
    if (rc)
        return rc;
    bind_block(st, dataset, protocol, NULL);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = fn(ctx, sqlite3_column_int(st, 0), rd_text(st, 1));
    sqlite3_finalize(st);
    return !rc && step != SQLITE_DONE ? db_fail(s, "reading subjects") : rc;
}

int hn_store_each_subject_metrics(struct hn_store *s, const char *dataset, const char *protocol,
                                  const char *method, int (*fn)(void *ctx, const struct hn_subject_metrics *m),
                                  void *ctx)
{
    sqlite3_stmt *st;
    int rc = rd_prep(s, &st,
                     "SELECT sm.subject, sm.balanced_accuracy, sm.macro_f1, sm.accuracy FROM subject_metrics sm "
                     "JOIN jobs j ON sm.job = j.key WHERE j.dataset = ? AND j.protocol = ? AND j.method = ? "
                     "AND j.status = 'ok' ORDER BY sm.subject, j.seed, j.fold_pos, j.key");
    if (rc)
        return rc;
    bind_block(st, dataset, protocol, method);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct hn_subject_metrics m = {
            .subject = sqlite3_column_int(st, 0),
            .balanced_accuracy = sqlite3_column_double(st, 1),
            .macro_f1 = sqlite3_column_double(st, 2),
            .accuracy = sqlite3_column_double(st, 3),
        };
        /* Every metric is a rate in [0, 1]. SQLite stores a NaN as NULL, which
         * reads as 0.0, and a damaged store can hold anything: the reader says
         * so rather than hand on a number. */
        for (int k = 0; k < 3; k++) {
            int col = 1 + k, type = sqlite3_column_type(st, col);
            double x = sqlite3_column_double(st, col);
            if (type == SQLITE_NULL)
                snprintf(m.invalid[k], sizeof m.invalid[k], "NULL");
            else if (type != SQLITE_FLOAT && type != SQLITE_INTEGER)
                snprintf(m.invalid[k], sizeof m.invalid[k], "%.40s", rd_text(st, col));
            else if (!(x >= 0.0 && x <= 1.0))
                snprintf(m.invalid[k], sizeof m.invalid[k], "%g", x);
        }
        rc = fn(ctx, &m);
    }
    if (!rc && step != SQLITE_DONE)
        rc = db_fail(s, "reading subject metrics");
    sqlite3_finalize(st);
    return rc;
}

int hn_store_each_confusion(struct hn_store *s, const char *dataset, const char *protocol, const char *method,
                            int (*fn)(void *ctx, int64_t true_id, int64_t pred_id, int64_t count,
                                      const char *corpus_sha),
                            void *ctx)
{
    sqlite3_stmt *st;
    int rc = rd_prep(s, &st,
                     "SELECT c.true_id, c.pred_id, SUM(c.count), MIN(j.corpus_sha) FROM confusion c "
                     "JOIN jobs j ON c.job = j.key WHERE j.dataset = ? AND j.protocol = ? AND j.method = ? "
                     "AND j.status = 'ok' GROUP BY c.true_id, c.pred_id ORDER BY c.true_id, c.pred_id");
    if (rc)
        return rc;
    bind_block(st, dataset, protocol, method);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
                rd_text(st, 3));
    if (!rc && step != SQLITE_DONE)
        rc = db_fail(s, "reading confusion counts");
    sqlite3_finalize(st);
    return rc;
}

int hn_store_gesture_name(struct hn_store *s, char *buf, size_t cap, const char *corpus_sha, int64_t id)
{
    sqlite3_stmt *st;
    int rc = rd_prep(s, &st, "SELECT name FROM gestures WHERE corpus_sha = ? AND id = ?");
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, corpus_sha, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    buf[0] = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(buf, cap, "%s", rd_text(st, 0));
    sqlite3_finalize(st);
    return MB_OK;
}

int hn_store_each_info(struct hn_store *s, enum hn_store_info what,
                       int (*fn)(void *ctx, const char *const *cols, int n_cols), void *ctx)
{
    /* Versions, machines and threads only of runs that computed a stored
     * result: a resumed plan and an uninterrupted one list the same. */
    static const char *const sql[HN_INFO_COUNT] = {
        [HN_INFO_VERSIONS] = "SELECT DISTINCT version FROM jobs WHERE status IN ('ok', 'na') ORDER BY 1",
        [HN_INFO_MACHINES] = "SELECT DISTINCT machine FROM runs WHERE id IN (SELECT run_id FROM jobs WHERE status IN "
                             "('ok', 'na')) ORDER BY 1",
        [HN_INFO_THREADS] = "SELECT DISTINCT threads FROM jobs WHERE status IN ('ok', 'na') ORDER BY 1",
        [HN_INFO_STATUS] = "SELECT status, COUNT(*) FROM jobs GROUP BY status ORDER BY status",
        [HN_INFO_CORPORA] = "SELECT sha256, name, path, n_subjects || ' subjects', n_windows || ' windows' FROM corpora "
                            "WHERE sha256 IN (SELECT corpus_sha FROM jobs) ORDER BY name, sha256",
        [HN_INFO_VIEWS] = "SELECT DISTINCT view FROM jobs ORDER BY 1",
        [HN_INFO_METHODS] = "SELECT DISTINCT method, method_name, params FROM jobs ORDER BY method_pos, method",
        [HN_INFO_PROTOCOLS] = "SELECT DISTINCT protocol, protocol_name, settings FROM jobs "
                              "ORDER BY protocol_pos, protocol",
        [HN_INFO_MANIFESTS] = "SELECT DISTINCT dataset, protocol, 'seed ' || seed, fold_id, manifest_sha FROM jobs "
                              "ORDER BY dataset_pos, protocol_pos, seed, fold_pos, fold_id",
    };
    if ((unsigned)what >= HN_INFO_COUNT)
        return mb_error(MB_EINVAL, "results store '%s': no such listing %d", s->path, (int)what);
    sqlite3_stmt *st;
    int rc = rd_prep(s, &st, sql[what]);
    if (rc)
        return rc;
    int step = SQLITE_DONE, nc = sqlite3_column_count(st);
    const char *cols[8];
    if (nc > 8)
        nc = 8;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < nc; i++)
            cols[i] = rd_text(st, i);
        rc = fn(ctx, cols, nc);
    }
    sqlite3_finalize(st);
    return !rc && step != SQLITE_DONE ? db_fail(s, "writing info.txt") : rc;
}
