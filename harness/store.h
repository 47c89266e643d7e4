/* harness/store.h - the crash-safe results store: one SQLite database
 * (WAL mode) whose schema docs/RESULTS.md documents, plus the fold
 * manifests as files beside it (DB_DIR/manifests/<sha256>.json).
 *
 * Every finished job is committed in ONE transaction (its row, its
 * per-subject metrics and confusion counts), so a kill -9 at any moment
 * loses at most the jobs in flight. A job is identified by its key (a
 * SHA-256 of everything that defines it, harness/run.h); a re-run of the
 * same plan skips keys whose status is ok or na and retries the others.
 *
 * One connection per store; every call takes the store's mutex, so the
 * harness's worker threads may commit concurrently.
 */
#ifndef MB_HARNESS_STORE_H
#define MB_HARNESS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "protocols/protocol.h"

#define HN_STORE_SCHEMA "myobench-results/1"

/* What defines one job; the strings are borrowed. */
struct hn_job_rec {
    char key[65];
    const char *dataset;          /* corpus name */
    const char *corpus_sha;
    const char *corpus_path;
    const char *protocol;         /* variant label (report block) */
    const char *protocol_name;    /* registry name */
    const char *settings;         /* hn_settings_text */
    const char *method;           /* row label */
    const char *method_name;      /* registry name */
    unsigned method_caps;         /* MB_CAP_* (the report marks MB_CAP_ORACLE rows) */
    const char *params;
    uint64_t seed;
    const char *fold_id;
    const char *manifest_sha;
    const char *manifest;
    const char *view;             /* hn_view_text */
    const char *source;           /* hn_source_hash() of the build that planned the job */
    size_t dataset_pos, protocol_pos, method_pos, fold_pos;   /* plan order, for the reports */
};

enum hn_job_status { HN_ABSENT = -1, HN_PENDING = 0, HN_OK, HN_NA, HN_FAILED };

struct hn_store;

/* Opens (creating if needed) the database at 'path' and its manifests
 * folder; refuses a database of another schema. Free with hn_store_close. */
int hn_store_open(struct hn_store **out, const char *path) MB_MUST_CHECK;
void hn_store_close(struct hn_store *s);   /* NULL allowed */

/* Records the start of a run (plan text, thread count, software version,
 * machine); *run_id identifies it in jobs.run_id. */
int hn_store_begin_run(struct hn_store *s, int64_t *run_id, const char *plan_text, int threads) MB_MUST_CHECK;
int hn_store_end_run(struct hn_store *s, int64_t run_id, size_t n_ok, size_t n_na, size_t n_failed,
                     size_t n_skipped) MB_MUST_CHECK;

/* Records a corpus and its gesture names (idempotent). */
int hn_store_add_corpus(struct hn_store *s, const struct pr_corpus *c) MB_MUST_CHECK;

/* Declares the n planned jobs in one transaction: new keys become
 * 'pending', known keys keep their status and take the plan positions;
 * each manifest is written to DB_DIR/manifests/<sha>.json if missing. */
int hn_store_plan_jobs(struct hn_store *s, const struct hn_job_rec *jobs, size_t n) MB_MUST_CHECK;

/* Status of a key (HN_ABSENT if unknown). */
int hn_store_job_status(struct hn_store *s, enum hn_job_status *st, const char *key) MB_MUST_CHECK;

/* Commits one finished job in one transaction: status from res (or
 * HN_NA/HN_FAILED with 'message' when res is NULL), per-subject metrics
 * (subject names from subject_names[res->subjects[i].subject]), non-zero
 * confusion counts, timings and the thread count of the run. */
int hn_store_commit_job(struct hn_store *s, const struct hn_job_rec *job, int64_t run_id, int threads,
                        enum hn_job_status status, const char *message, const struct pr_result *res,
                        const char *const *subject_names, double seconds_total) MB_MUST_CHECK;

/* Which jobs hn_store_prune removes: those matching every non-NULL field. */
struct hn_prune {
    const char *dataset, *protocol, *method;   /* labels as in the jobs table */
    const char *other_than_version;            /* jobs whose version differs from this one */
};

/* Removes the matching jobs with their per-subject metrics and confusion
 * counts in one transaction (*n_jobs: how many; with dry_run, only counted).
 * At least one selector must be set. Manifests stay (they are content-named
 * and may be shared). */
int hn_store_prune(struct hn_store *s, size_t *n_jobs, const struct hn_prune *sel, int dry_run) MB_MUST_CHECK;

/* The database path and its folder (for the manifests). */
const char *hn_store_path(const struct hn_store *s);

/* The underlying connection, for readers in this folder (harness/report.c). */
struct sqlite3 *hn_store_db(struct hn_store *s);

#endif
