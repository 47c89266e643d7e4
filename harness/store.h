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
 *
 * Several processes may run into one store at once: a run claims each job
 * (hn_store_claim) before running it, which writes a lease row naming the
 * handle's owner (host, pid, random digits) with a heartbeat time; the run
 * renews its leases (hn_store_heartbeat) while jobs run, and committing a
 * job drops its lease. A lease whose heartbeat is older than the expiry,
 * or whose process on this host no longer runs, is taken over by the next
 * claim, so a killed run's jobs are run again. docs/RESULTS.md section 3.
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
    const char *settings;         /* the protocol variant's canonical settings text */
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
 * machine); *run_id identifies it in jobs.run_id and the claims it makes. */
int hn_store_begin_run(struct hn_store *s, int64_t *run_id, const char *plan_text, int threads) MB_MUST_CHECK;
int hn_store_end_run(struct hn_store *s, int64_t run_id, size_t n_ok, size_t n_na, size_t n_failed,
                     size_t n_skipped) MB_MUST_CHECK;

/* Records a corpus and its gesture names (idempotent). */
int hn_store_add_corpus(struct hn_store *s, const struct cp_corpus *c) MB_MUST_CHECK;

/* Declares the n planned jobs in one transaction: new keys become
 * 'pending', known keys keep their status and take the plan positions;
 * each manifest is written to DB_DIR/manifests/<sha>.json if missing. */
int hn_store_plan_jobs(struct hn_store *s, const struct hn_job_rec *jobs, size_t n) MB_MUST_CHECK;

/* Status of a key (HN_ABSENT if unknown). */
int hn_store_job_status(struct hn_store *s, enum hn_job_status *st, const char *key) MB_MUST_CHECK;

/* Commits one finished job in one transaction: status from res (or
 * HN_NA/HN_FAILED with 'message' when res is NULL), per-subject metrics
 * (subject names from subject_names[res->subjects[i].subject]), non-zero
 * confusion counts, timings and the thread count of the run; drops this
 * handle's lease of the job. */
int hn_store_commit_job(struct hn_store *s, const struct hn_job_rec *job, int64_t run_id, int threads,
                        enum hn_job_status status, const char *message, const struct pr_result *res,
                        const char *const *subject_names, double seconds_total) MB_MUST_CHECK;

/* ---- job claiming --------------------------------------------------------- */

#define HN_LEASE_EXPIRY 300.0     /* default seconds without a heartbeat before a lease may be taken over */
#define HN_OWNER_MAX 256

/* A lease held by another run (store table 'leases'). */
struct hn_lease {
    char owner[HN_OWNER_MAX];    /* "<host>:<pid>:<random>"; "" when there is none */
    char host[256];
    long long pid;
    double age;                  /* seconds since its last heartbeat */
    double expiry;               /* its owner's expiry, seconds */
    int expired;                 /* age above the expiry */
    int dead;                    /* on this host, and the process no longer runs */
};

enum hn_claim {
    HN_CLAIMED = 0,              /* this handle now holds the job's lease: run it, then commit it */
    HN_CLAIM_DONE,               /* ok or n/a in the store (another run finished it) */
    HN_CLAIM_BUSY,               /* a live lease of another run holds it: ask again later */
    HN_CLAIM_FAILED,             /* failed in another run that claimed it after this run began */
};

/* Claims planned job 'key' for run run_id in one BEGIN IMMEDIATE
 * transaction: reads its status and lease, and when the job is free (or its
 * lease expired, or its owner on this host is dead) writes this handle's
 * lease and a row of 'claims'. *holder (may be NULL) receives the other
 * run's lease: the live one for HN_CLAIM_BUSY, the one taken over for
 * HN_CLAIMED (owner "" when the job was free). A job that failed before
 * this run began (hn_store_begin_run) is claimed again: re-running retries
 * failures. */
int hn_store_claim(struct hn_store *s, enum hn_claim *out, struct hn_lease *holder, const char *key,
                   int64_t run_id) MB_MUST_CHECK;

/* Sets the heartbeat of every lease of this handle to now. The runner calls
 * it every expiry / 4 seconds while jobs run. */
int hn_store_heartbeat(struct hn_store *s) MB_MUST_CHECK;

/* Drops this handle's lease of 'key', or all of its leases when key is NULL
 * (hn_store_commit_job drops the committed job's own). */
int hn_store_release(struct hn_store *s, const char *key) MB_MUST_CHECK;

/* Expiry of this handle's leases in seconds (<= 0: HN_LEASE_EXPIRY, the
 * default): each lease row records its owner's expiry, which is what other
 * runs judge it by, since the owner renews its leases every expiry / 4. */
void hn_store_set_lease_expiry(struct hn_store *s, double seconds);
double hn_store_lease_expiry(const struct hn_store *s);

/* This handle's owner text, as in leases.owner and claims.owner. */
const char *hn_store_owner(const struct hn_store *s);

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

/* ---- reading, for the reports (harness/report.c) --------------------------
 *
 * Every query of the reports is here, so that this file alone knows the
 * schema. Each read has an ORDER BY, so what a report makes of it depends on
 * the stored results only, never on commit order. Errors name the store.
 * The readers do not take the handle's mutex: use a read handle from one
 * thread. Rows are passed to a callback as they are read, their strings
 * borrowed for the call; the callback must not call the store, and a
 * non-zero return stops the read and is returned. */

/* Opens an existing store read-only: nothing is created or written, and
 * runs may write it meanwhile. Refuses a missing file and a database that is
 * not a store of schema HN_STORE_SCHEMA. Free with hn_store_close. */
int hn_store_open_read(struct hn_store **out, const char *path) MB_MUST_CHECK;

/* Refuses (MB_EINVAL) a store where one report block mixes jobs of
 * different corpora, protocol settings, views or software versions, or one
 * method row of a block jobs of different parameters (re-plans, other
 * builds or corpora run into the same store), naming the first such block
 * and two of its values. */
int hn_store_check_uniform(struct hn_store *s) MB_MUST_CHECK;

/* Refuses a store with a job whose dataset, protocol or method label is
 * empty (no table could name it), with the count and the remedy. */
int hn_store_check_labels(struct hn_store *s) MB_MUST_CHECK;

/* Methods (row labels) in plan order, with the capabilities (MB_CAP_*)
 * their jobs recorded. */
int hn_store_each_method(struct hn_store *s, int (*fn)(void *ctx, const char *method, unsigned caps),
                         void *ctx) MB_MUST_CHECK;

/* Blocks (dataset, protocol variant) in plan order. */
int hn_store_each_block(struct hn_store *s, int (*fn)(void *ctx, const char *dataset, const char *protocol),
                        void *ctx) MB_MUST_CHECK;

/* Job counts of one (dataset, protocol, method) by status. */
struct hn_status_counts {
    size_t total, ok, na, failed;
    size_t pending;                /* neither ok, n/a nor failed: planned, or running */
};
int hn_store_block_counts(struct hn_store *s, struct hn_status_counts *c, const char *dataset,
                          const char *protocol, const char *method) MB_MUST_CHECK;

/* The message of the first job (in key order) of (dataset, protocol,
 * method) with 'status' ("na", "failed"), cut to cap bytes; "" if none. */
int hn_store_block_message(struct hn_store *s, char *buf, size_t cap, const char *dataset, const char *protocol,
                           const char *method, const char *status) MB_MUST_CHECK;

/* The subjects some ok job of (dataset, protocol) tested, by corpus index,
 * with their names ("" when the store has none). */
int hn_store_each_subject(struct hn_store *s, const char *dataset, const char *protocol,
                          int (*fn)(void *ctx, int32_t subject, const char *name), void *ctx) MB_MUST_CHECK;

/* One subject's metrics in one ok job. */
struct hn_subject_metrics {
    int32_t subject;               /* corpus index */
    double balanced_accuracy, macro_f1, accuracy;   /* rates in [0, 1] as stored */
    char invalid[3][48];           /* per metric in that order: "" for a rate in [0, 1], else the
                                      stored value as text ("NULL", "1e+308", "high") */
};

/* The per-subject metrics of every ok job of (dataset, protocol, method),
 * by subject, then seed, fold and key. */
int hn_store_each_subject_metrics(struct hn_store *s, const char *dataset, const char *protocol,
                                  const char *method, int (*fn)(void *ctx, const struct hn_subject_metrics *m),
                                  void *ctx) MB_MUST_CHECK;

/* Confusion counts of (dataset, protocol, method) summed over every ok job
 * and subject, one call per non-zero (true, predicted) pair in id order,
 * with the SHA-256 of a corpus they came from (for the gesture names). */
int hn_store_each_confusion(struct hn_store *s, const char *dataset, const char *protocol, const char *method,
                            int (*fn)(void *ctx, int64_t true_id, int64_t pred_id, int64_t count,
                                      const char *corpus_sha),
                            void *ctx) MB_MUST_CHECK;

/* The name of gesture 'id' of the corpus with SHA-256 'corpus_sha', cut to
 * cap bytes; "" when the store does not have it. */
int hn_store_gesture_name(struct hn_store *s, char *buf, size_t cap, const char *corpus_sha,
                          int64_t id) MB_MUST_CHECK;

/* What info.txt lists; each row is given as text columns (NULL as ""). */
enum hn_store_info {
    HN_INFO_VERSIONS,              /* version, of jobs that computed a result (ok or n/a) */
    HN_INFO_MACHINES,              /* machine, of the runs that computed one */
    HN_INFO_THREADS,               /* threads per run, likewise */
    HN_INFO_STATUS,                /* status, number of jobs */
    HN_INFO_CORPORA,               /* sha256, name, path, "<n> subjects", "<n> windows" */
    HN_INFO_VIEWS,                 /* view */
    HN_INFO_METHODS,               /* label, registry name, parameters, in plan order */
    HN_INFO_PROTOCOLS,             /* label, registry name, settings, in plan order */
    HN_INFO_MANIFESTS,             /* dataset, protocol, "seed <s>", fold id, manifest SHA-256 */
    HN_INFO_COUNT
};
int hn_store_each_info(struct hn_store *s, enum hn_store_info what,
                       int (*fn)(void *ctx, const char *const *cols, int n_cols), void *ctx) MB_MUST_CHECK;

#endif
