/* harness/run.h - expands a resolved plan into jobs and runs them.
 *
 * A job is (dataset, protocol variant, method, fold, seed); the folds come
 * from protocol->plan on the loaded corpus with the job's seed. Its key is
 * the SHA-256 of a canonical text (hn_job_key_text) holding the corpus
 * file's SHA-256, the fold id and manifest SHA-256, the protocol name and
 * settings, the method name and parameters, the seed, the view, the
 * software version and the hash of the library sources (hn_source_hash):
 * anything that could change a number changes the key.
 *
 * Jobs run with OpenMP across jobs (schedule dynamic, one job per
 * iteration) with OpenBLAS pinned to one thread inside the region, so no
 * nested oversubscription; each job's numbers depend only on its inputs and
 * seed, and each is committed on its own, so the store holds the same
 * results for any thread count and any completion order. A method lacking
 * the protocol's 'needs' capabilities is recorded as n/a, with the reason,
 * without running. The protocol's run receives the method, its parameters
 * as parsed once at plan load (hn_method_spec.hp), the variant's settings
 * with the job's seed, and the plan's shared work.
 *
 * Progress goes to stderr: a bar (jobs done/total, the dataset being run,
 * elapsed, ETA) when stderr is a terminal, otherwise one line per finished
 * job. The count runs over the whole plan; while datasets remain to be
 * planned (each is planned when it is loaded) the total is a lower bound,
 * printed with a '+'.
 */
#ifndef MB_HARNESS_RUN_H
#define MB_HARNESS_RUN_H

#include <stdio.h>

#include "harness/plan.h"
#include "harness/store.h"

enum hn_progress { HN_PROGRESS_AUTO = 0, HN_PROGRESS_BAR, HN_PROGRESS_LINES, HN_PROGRESS_NONE };

struct hn_run_opts {
    int threads;                 /* OpenMP threads across jobs; 0 = OpenMP's default */
    enum hn_progress progress;
    /* Corpus loader and its release; NULL = cp_corpus_load / cp_corpus_release.
     * Tests plug in hand-made corpora here. */
    int  (*load)(struct cp_corpus *c, const char *path, const struct cp_view *v);
    void (*release)(struct cp_corpus *c);
    /* Work shared by the jobs (core/shared.h: features, pre-trained
     * encoders), owned by the caller; NULL = every job computes its own. */
    struct mb_shared *shared;
    /* 1: corpora are opened lazily (cp_corpus_open): a recording's samples
     * are read when a job needs them and at most corpus_budget bytes of
     * recordings no job holds stay in memory. */
    int lazy;
    size_t corpus_budget;
};

struct hn_run_stats {
    size_t n_jobs;               /* planned */
    size_t n_ok, n_na, n_failed; /* run now */
    size_t n_skipped;            /* already ok or na in the store */
    double t_start;              /* omp_get_wtime() when hn_run began (progress over the whole run) */
    size_t n_other;              /* finished by another run of the same store while this one went on */
    size_t n_other_failed;       /* of those, failed */
};

/* SHA-256 (hex) of the library sources this binary was built from (every
 * .c and .h under the Makefile's LIBDIRS, computed by the Makefile into
 * $(BUILD)/gen/source_hash.h): part of every job key, so a code change
 * re-runs every job. hn_version() is MB_VERSION "+" its first 16 digits,
 * the version recorded in the store and info.txt. */
const char *hn_source_hash(void);
const char *hn_version(void);

/* The canonical text hashed into a job's key (MB_EINVAL when it does not
 * fit in cap), and the key itself (the text sized to fit, any length;
 * fails only when out of memory). */
int hn_job_key_text(char *buf, size_t cap, const struct hn_job_rec *j) MB_MUST_CHECK;
int hn_job_key(char key[65], const struct hn_job_rec *j) MB_MUST_CHECK;

/* Runs the whole plan into the store: one run row, then dataset by dataset
 * (load, plan folds, skip finished jobs, run the rest in parallel, release).
 * MB_OK when every job ended ok or n/a; a failed job is stored as failed
 * (with its message) and makes the call return MB_EINVAL after the others
 * ran; an error of the store stops the run. */
int hn_run(struct hn_run_stats *st, const struct hn_plan *plan, struct hn_store *s,
           const struct hn_run_opts *o) MB_MUST_CHECK;

/* The jobs of dataset d of the plan on its loaded corpus c, as part of run
 * run_id (hn_store_begin_run). Adds to *st. */
int hn_run_corpus(struct hn_run_stats *st, const struct hn_plan *plan, size_t d, const struct cp_corpus *c,
                  struct hn_store *s, int64_t run_id, const struct hn_run_opts *o) MB_MUST_CHECK;

/* The shared work of a run on store 'db' (core/shared.h): results nobody
 * holds are kept up to 'budget' bytes, and pre-trained encoders are also
 * kept as checkpoints in "<db>.cache/<first 16 hex of the source hash>/",
 * so a resumed or concurrent run on the same store reuses them and a build
 * of other code never reads them. Free with mb_shared_free. */
struct mb_shared;
int hn_shared_open(struct mb_shared **out, const char *db, size_t budget) MB_MUST_CHECK;

/* "classify, embed" for a capability mask (for messages and listings). */
void hn_caps_text(char *buf, size_t cap, unsigned caps);

#endif
