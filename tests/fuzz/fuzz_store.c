/* tests/fuzz/fuzz_store.c - libFuzzer target for the readers of a results
 * store (harness/store.c, harness/report.c, and the store calls of
 * harness/run.c): the input is a damaged RESULTS.db, and it goes through
 * what the commands do with an existing store -
 *   1. 'myobench report DB' and 'report DB --out DIR': hn_report_print_md,
 *      then (if that could read it) hn_report_write with every format;
 *   2. 'myobench run ... --db DB' resuming into it: hn_store_open (schema,
 *      meta check), then hn_run of a small fixed plan - store the corpus,
 *      plan the jobs (known keys keep their status), read each job's
 *      status, commit the results of the rest, close the run row - and
 *      'myobench prune --dry-run' (hn_store_prune);
 *   3. the report of the store after that run ('run --out').
 * The plan's protocol, methods and corpus are fakes defined here (like
 * tests/test_harness.c's), so a job costs nothing and needs no data file:
 * the store code is what runs. Its jobs are one ok, one n/a and one failed
 * job per fold, so every commit path is taken.
 *
 * SQLite needs a path: each input is written to a private folder
 * (/dev/shm when there is one), which is emptied before every input.
 * MB_FUZZ_STORE_SAVE=FILE copies the store left after step 2 to FILE: that
 * is how tests/fuzz/make_seeds_store.sh makes a seed whose keys this
 * target's plan knows (so the resume path skips finished jobs).
 * Not part of 'make test'; see tests/fuzz/README.md. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "harness/plan.h"
#include "harness/report.h"
#include "harness/run.h"
#include "harness/store.h"
#include "reports/analysis.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- a fake corpus, protocol and methods ------------------------------------ */

#define F_SUBJECTS 2
#define F_GESTURES 2
static const int32_t f_gesture_ids[F_GESTURES] = { 0, 7 };

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

static int fake_load(struct cp_corpus *c, const char *path, const struct cp_view *v)
{
    memset(c, 0, sizeof *c);
    c->path = xstrdup(path);
    c->name = xstrdup("fuzz");
    mb_sha256_hex(c->sha256, "fuzz corpus", 11);
    c->view = *v;
    c->n_subjects = F_SUBJECTS;
    c->subject_names = calloc(F_SUBJECTS, sizeof *c->subject_names);
    c->n_gestures = F_GESTURES;
    c->gesture_ids = malloc(sizeof f_gesture_ids);
    c->gesture_names = calloc(F_GESTURES, sizeof *c->gesture_names);
    if (!c->subject_names || !c->gesture_ids || !c->gesture_names)
        abort();
    c->subject_names[0] = xstrdup("s1");
    c->subject_names[1] = xstrdup("s2");
    memcpy(c->gesture_ids, f_gesture_ids, sizeof f_gesture_ids);
    c->gesture_names[0] = xstrdup("rest");
    c->gesture_names[1] = xstrdup("fist");
    return MB_OK;
}

static void fake_release(struct cp_corpus *c)
{
    free(c->path);
    free(c->name);
    for (size_t s = 0; s < c->n_subjects; s++)
        free(c->subject_names[s]);
    free(c->subject_names);
    free(c->gesture_ids);
    for (size_t g = 0; g < c->n_gestures; g++)
        free(c->gesture_names[g]);
    free(c->gesture_names);
    memset(c, 0, sizeof *c);
}

/* One fold per subject; no windows (the fake run does not look at data). */
static int fake_plan(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c, const struct pr_settings *s)
{
    *folds = calloc(c->n_subjects, sizeof **folds);
    if (!*folds)
        abort();
    *n_folds = c->n_subjects;
    for (size_t t = 0; t < c->n_subjects; t++) {
        struct pr_fold *f = &(*folds)[t];
        char buf[256];
        snprintf(buf, sizeof buf, "fz/%s", c->subject_names[t]);
        f->id = xstrdup(buf);
        snprintf(buf, sizeof buf, "{\"protocol\":\"fz\",\"seed\":%llu,\"test_subject\":\"%s\"}",
                 (unsigned long long)s->seed, c->subject_names[t]);
        f->manifest = xstrdup(buf);
        mb_sha256_hex(f->sha256, f->manifest, strlen(f->manifest));
    }
    return MB_OK;
}

/* fz-ok gets a result with a 2 x 2 confusion matrix; fz-bad fails. The
 * runner records fz-na as n/a without calling this (it cannot classify). */
static int fake_run(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m, const void *hp,
                    const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s,
                    struct mb_shared *sh)
{
    (void)p;
    (void)hp;
    (void)s;
    (void)sh;
    if (!strcmp(m->name, "fz-bad"))
        return mb_error(MB_EINVAL, "fz: this method always fails");
    int32_t subj = f->id[strlen(f->id) - 1] == '1' ? 0 : 1;
    res->status = PR_OK;
    res->n_subjects = 1;
    res->subjects = calloc(1, sizeof *res->subjects);
    if (!res->subjects)
        abort();
    struct pr_subject_result *r = &res->subjects[0];
    r->subject = subj;
    r->n_test = 10;
    r->accuracy = 0.7;
    r->balanced_accuracy = 0.65;
    r->macro_f1 = 0.6;
    r->K = F_GESTURES;
    r->classes = malloc(sizeof f_gesture_ids);
    r->confusion = malloc(4 * sizeof *r->confusion);
    if (!r->classes || !r->confusion)
        abort();
    memcpy(r->classes, c->gesture_ids, sizeof f_gesture_ids);
    static const int64_t cm[4] = { 4, 1, 2, 3 };
    memcpy(r->confusion, cm, sizeof cm);
    return MB_OK;
}

/* No parameters and no settings (NULL tables): their canonical texts are
 * "", as in the job keys of the fuzz_plan_done.db seed. */
static const struct mb_method fz_ok = { .name = "fz-ok", .summary = "result", .caps = MB_CAP_CLASSIFY };
static const struct mb_method fz_bad = { .name = "fz-bad", .summary = "fails", .caps = MB_CAP_CLASSIFY };
static const struct mb_method fz_na = { .name = "fz-na", .summary = "n/a", .caps = MB_CAP_EMBED };
static const struct mb_protocol fz_proto = {
    .name = "fz", .summary = "one fold per subject", .needs = MB_CAP_CLASSIFY, .plan = fake_plan, .run = fake_run,
};
static const struct mb_method *const f_methods[] = { &fz_ok, &fz_bad, &fz_na, NULL };
static const struct mb_protocol *const f_protocols[] = { &fz_proto, NULL };
static const struct hn_registry f_reg = { f_methods, f_protocols };

/* ---- fewer bootstrap resamples --------------------------------------------------
 * The reports' statistics (10,000 bootstrap resamples per cell) took 95 % of
 * an input's time, and they read numbers, not the store. build.sh links this
 * target with -Wl,--wrap=rep_opts_default, so the report code gets the
 * smallest count the statistics accept. */
void __real_rep_opts_default(struct rep_opts *o);
void __wrap_rep_opts_default(struct rep_opts *o);
void __wrap_rep_opts_default(struct rep_opts *o)
{
    __real_rep_opts_default(o);
    o->n_boot = 1000;
}

/* ---- the target ------------------------------------------------------------------ */

static char dir[64], db[96], out[96];
static struct hn_plan plan;
static FILE *devnull;

static int rm_one(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    remove(p);
    return 0;
}

/* Empties the folder: the store, its -wal/-shm/-journal, manifests, reports. */
static void clean(void)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    if (mkdir(dir, 0700) != 0)
        abort();
}

/* The folder goes when the process ends: in -fork mode every job is a new
 * process with a folder of its own, which stayed behind in /dev/shm. */
static void remove_dir(void)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mb_log_set_level(MB_LOG_QUIET);
    struct stat sb;
    const char *base = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/fuzz_store_%ld", base, (long)getpid());
    snprintf(db, sizeof db, "%s/results.db", dir);
    snprintf(out, sizeof out, "%s/report", dir);
    atexit(remove_dir);
    devnull = fopen("/dev/null", "w");
    struct hn_flags fl = { .data = "fuzz.h5", .protocols = "fz", .methods = "fz-ok,fz-bad,fz-na", .seeds = "1",
                           .rate_hz = -1, .window_ms = -1, .stride_ms = -1, .folds = -1 };
    if (!devnull || hn_plan_from_flags(&plan, &fl, &f_reg) != MB_OK)
        abort();
    return 0;
}

static void save(const char *to)
{
    FILE *in = fopen(db, "rb"), *o = fopen(to, "wb");
    if (!in || !o)
        abort();
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, o) != n)
            abort();
    fclose(in);
    if (fclose(o) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clean();
    FILE *f = fopen(db, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);

    /* 1. report of the store as it is */
    if (hn_report_print_md(devnull, db) == MB_OK)
        (void)hn_report_write(db, out, HN_FMT_ALL);

    /* 2. a run resuming into it, then prune's count */
    struct hn_store *s;
    if (hn_store_open(&s, db) == MB_OK) {
        struct hn_run_opts o = { .threads = 1, .progress = HN_PROGRESS_NONE, .load = fake_load,
                                 .release = fake_release };
        struct hn_run_stats st;
        int rc = hn_run(&st, &plan, s, &o);
        if (st.n_ok + st.n_na + st.n_failed + st.n_skipped > st.n_jobs)
            abort();   /* a job counted twice */
        struct hn_prune sel = { .dataset = "fuzz" };
        size_t n;
        if (hn_store_prune(s, &n, &sel, 1) == MB_OK && rc == MB_EINVAL && n < st.n_jobs)
            abort();   /* the run ended (only a job failed) but its jobs are not all in the store */
        hn_store_close(s);
        const char *to = getenv("MB_FUZZ_STORE_SAVE");
        if (to)
            save(to);

        /* 3. report after the run */
        (void)hn_report_print_md(devnull, db);
    }
    return 0;
}
