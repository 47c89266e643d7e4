/* harness/run.c - job expansion, keys, the parallel loop and progress. */
#include "harness/run.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/version.h"

/* ---- capabilities ------------------------------------------------------------ */

static const struct {
    unsigned bit;
    const char *name;
} cap_names[] = {
    { MB_CAP_CLASSIFY, "classify" },   { MB_CAP_EMBED, "embed" },           { MB_CAP_ZERO_SHOT, "zero-shot" },
    { MB_CAP_ADAPT, "adapt" },         { MB_CAP_NEEDS_POSE, "needs-pose" }, { MB_CAP_ORACLE, "oracle" },
};

void hn_caps_text(char *buf, size_t cap, unsigned caps)
{
    buf[0] = 0;
    for (size_t i = 0; i < sizeof cap_names / sizeof *cap_names; i++)
        if (caps & cap_names[i].bit) {
            size_t l = strlen(buf);
            snprintf(buf + l, cap - l, "%s%s", l ? ", " : "", cap_names[i].name);
        }
    if (!buf[0])
        snprintf(buf, cap, "-");
}

/* ---- keys ----------------------------------------------------------------------- */

/* snprintf's answer: the length the whole text needs, whatever cap is. */
static int key_text(char *buf, size_t cap, const struct hn_job_rec *j)
{
    return snprintf(buf, cap,
                    "myobench-job/1\ncorpus %s\nprotocol %s\nsettings %s\nfold %s\nmanifest %s\n"
                    "method %s\nparams %s\nseed %llu\nview %s\nversion %s\n",
                    j->corpus_sha, j->protocol_name, j->settings, j->fold_id, j->manifest_sha, j->method_name,
                    j->params, (unsigned long long)j->seed, j->view, MB_VERSION);
}

int hn_job_key_text(char *buf, size_t cap, const struct hn_job_rec *j)
{
    int n = key_text(buf, cap, j);
    if (n < 0 || (size_t)n >= cap)
        return mb_error(MB_EINVAL, "job key text of fold '%s' is too long", j->fold_id);
    return MB_OK;
}

/* The text is sized to fit: a fixed buffer would give every overlong text
 * (long parameter strings) one and the same key. */
int hn_job_key(char key[65], const struct hn_job_rec *j)
{
    int n = key_text(NULL, 0, j);
    if (n < 0)
        return mb_error(MB_EINVAL, "job key text of fold '%s' cannot be formatted", j->fold_id);
    char *text = malloc((size_t)n + 1);
    if (!text)
        return mb_error(MB_ENOMEM, "out of memory for the key text of fold '%s' (%d bytes)", j->fold_id, n);
    key_text(text, (size_t)n + 1, j);
    mb_sha256_hex(key, text, (size_t)n);
    free(text);
    return MB_OK;
}

/* ---- progress ------------------------------------------------------------------ */

struct progress {
    enum hn_progress mode;
    size_t total, done;
    double t0;
};

static void clock_text(char *buf, size_t cap, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, cap, "%02ld:%02ld", t / 60, t % 60);
}

/* Called with the store's results known, inside the harness's critical section. */
static void progress_step(struct progress *p, const struct hn_job_rec *j, const char *status, double seconds)
{
    p->done++;
    if (p->mode == HN_PROGRESS_NONE)
        return;
    double el = omp_get_wtime() - p->t0;
    if (p->mode == HN_PROGRESS_LINES) {
        fprintf(stderr, "[%zu/%zu] %-6s %s / %s / %s / %s seed %llu (%.2f s)\n", p->done, p->total, status,
                j->dataset, j->protocol, j->method, j->fold_id, (unsigned long long)j->seed, seconds);
        return;
    }
    char e[32], eta[32] = "--:--";
    clock_text(e, sizeof e, el);
    if (p->done)
        clock_text(eta, sizeof eta, el / (double)p->done * (double)(p->total - p->done));
    int width = 30, fill = p->total ? (int)((double)width * (double)p->done / (double)p->total) : width;
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu jobs, %s elapsed, ETA %s ", fill,
            "##############################", width - fill, "", p->done, p->total, e, eta);
    if (p->done == p->total)
        fprintf(stderr, "\n");
    fflush(stderr);
}

/* ---- jobs ------------------------------------------------------------------------- */

struct job {
    struct hn_job_rec r;
    char settings[256];
    const struct hn_protocol_spec *ps;
    const struct hn_method_spec *ms;
    const struct pr_fold *fold;
    struct pr_settings s;        /* with the job's seed */
    enum hn_job_status status;   /* in the store before this run */
};

/* The folds of one (protocol variant, seed). */
struct foldset {
    struct pr_fold *folds;
    size_t n;
};

static void run_one(struct job *jb, const struct pr_corpus *c, struct hn_store *s, int64_t run_id, int threads,
                    struct progress *prog, struct hn_run_stats *st, int *store_err)
{
    const struct mb_protocol *p = jb->ps->p;
    const struct mb_method *m = jb->ms->m;
    double t0 = omp_get_wtime();
    struct pr_result res;
    memset(&res, 0, sizeof res);
    enum hn_job_status status;
    char msg[600] = "";
    int have_res = 0;
    if ((m->caps & p->needs) != p->needs) {
        char need[128], has[128];
        hn_caps_text(need, sizeof need, p->needs & ~m->caps);
        hn_caps_text(has, sizeof has, m->caps);
        snprintf(msg, sizeof msg, "method '%s' lacks %s, needed by protocol '%s' (it has: %s)", m->name, need,
                 p->name, has);
        status = HN_NA;
    } else {
        /* The protocol fits with m->params (the contract has no other way
         * in), so the job's own parameters travel in a copy of the method. */
        struct mb_method mj = *m;
        mj.params = jb->ms->params;
        int rc = p->run(&res, p, &mj, c, jb->fold, &jb->s);
        have_res = 1;
        if (rc != MB_OK) {
            snprintf(msg, sizeof msg, "%s", mb_last_error()[0] ? mb_last_error() : mb_strerror(rc));
            status = HN_FAILED;
        } else if (res.status == PR_NA) {
            snprintf(msg, sizeof msg, "%s", res.message);
            status = HN_NA;
        } else if (res.status == PR_FAILED) {
            snprintf(msg, sizeof msg, "%s", res.message);
            status = HN_FAILED;
        } else
            status = HN_OK;
    }
    double secs = omp_get_wtime() - t0;
    int rc = hn_store_commit_job(s, &jb->r, run_id, threads, status, msg, have_res ? &res : NULL,
                                 (const char *const *)c->subject_names, secs);
    if (have_res)
        pr_result_release(&res);
    static const char *const word[] = { "pending", "ok", "n/a", "FAILED" };
#pragma omp critical(hn_progress)
    {
        if (rc)
            *store_err = rc;
        else {
            st->n_ok += status == HN_OK;
            st->n_na += status == HN_NA;
            st->n_failed += status == HN_FAILED;
            if (status == HN_FAILED)
                mb_warn("job %s / %s / %s / %s seed %llu failed: %s", jb->r.dataset, jb->r.protocol, jb->r.method,
                        jb->r.fold_id, (unsigned long long)jb->r.seed, msg);
        }
        progress_step(prog, &jb->r, word[status], secs);
    }
}

int hn_run_corpus(struct hn_run_stats *st, const struct hn_plan *plan, size_t d, const struct pr_corpus *c,
                  struct hn_store *s, int64_t run_id, const struct hn_run_opts *o)
{
    size_t n_sets = plan->n_protocols * plan->n_seeds;
    struct foldset *sets = calloc(n_sets + 1, sizeof *sets);
    struct job *jobs = NULL;
    struct hn_job_rec *recs = NULL;
    size_t *todo = NULL;
    char view[256];
    hn_view_text(view, sizeof view, &plan->view);
    int rc = sets ? MB_OK : mb_error(MB_ENOMEM, "out of memory planning '%s'", c->path);
    if (!rc)
        rc = hn_store_add_corpus(s, c);
    /* Folds, serially: a protocol's plan is cheap next to the jobs, and the
     * manifests must not depend on the thread count. */
    size_t n_jobs = 0;
    for (size_t pi = 0; pi < plan->n_protocols && !rc; pi++)
        for (size_t si = 0; si < plan->n_seeds && !rc; si++) {
            struct pr_settings ps = plan->protocol[pi].s;
            ps.seed = plan->seed[si];
            struct foldset *fs = &sets[pi * plan->n_seeds + si];
            rc = plan->protocol[pi].p->plan(&fs->folds, &fs->n, c, &ps);
            if (rc)
                rc = mb_error(rc, "protocol '%s' could not plan folds on '%s' (seed %llu)", plan->protocol[pi].label,
                              c->path, (unsigned long long)plan->seed[si]);
            n_jobs += fs->n * plan->n_methods;
        }
    if (!rc) {
        jobs = calloc(n_jobs + 1, sizeof *jobs);
        recs = calloc(n_jobs + 1, sizeof *recs);
        todo = calloc(n_jobs + 1, sizeof *todo);
        if (!jobs || !recs || !todo)
            rc = mb_error(MB_ENOMEM, "out of memory planning %zu jobs on '%s'", n_jobs, c->path);
    }
    size_t k = 0;
    for (size_t pi = 0; pi < plan->n_protocols && !rc; pi++)
        for (size_t si = 0; si < plan->n_seeds && !rc; si++) {
            const struct foldset *fs = &sets[pi * plan->n_seeds + si];
            for (size_t fi = 0; fi < fs->n && !rc; fi++)
                for (size_t mi = 0; mi < plan->n_methods && !rc; mi++, k++) {
                    struct job *jb = &jobs[k];
                    jb->ps = &plan->protocol[pi];
                    jb->ms = &plan->method[mi];
                    jb->fold = &fs->folds[fi];
                    jb->s = jb->ps->s;
                    jb->s.seed = plan->seed[si];
                    hn_settings_text(jb->settings, sizeof jb->settings, &jb->ps->s);
                    struct hn_job_rec *r = &jb->r;
                    r->dataset = c->name;
                    r->corpus_sha = c->sha256;
                    r->corpus_path = c->path;
                    r->protocol = jb->ps->label;
                    r->protocol_name = jb->ps->p->name;
                    r->settings = jb->settings;
                    r->method = jb->ms->label;
                    r->method_name = jb->ms->m->name;
                    r->method_caps = jb->ms->m->caps;
                    r->params = jb->ms->params;
                    r->seed = plan->seed[si];
                    r->fold_id = jb->fold->id;
                    r->manifest_sha = jb->fold->sha256;
                    r->manifest = jb->fold->manifest;
                    r->view = view;
                    r->dataset_pos = d;
                    r->protocol_pos = pi;
                    r->method_pos = mi;
                    r->fold_pos = fi;
                    rc = hn_job_key(r->key, r);
                    recs[k] = *r;
                }
        }
    if (!rc)
        rc = hn_store_plan_jobs(s, recs, n_jobs);
    size_t n_todo = 0;
    for (size_t j = 0; j < n_jobs && !rc; j++) {
        rc = hn_store_job_status(s, &jobs[j].status, jobs[j].r.key);
        if (jobs[j].status == HN_OK || jobs[j].status == HN_NA)
            st->n_skipped++;
        else
            todo[n_todo++] = j;
    }
    st->n_jobs += n_jobs;
    if (!rc && n_todo) {
        struct progress prog = { o->progress, n_todo, 0, omp_get_wtime() };
        if (prog.mode == HN_PROGRESS_AUTO)
            prog.mode = isatty(STDERR_FILENO) ? HN_PROGRESS_BAR : HN_PROGRESS_LINES;
        int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
        /* One BLAS thread per job: OpenBLAS's own pool inside each of our
         * threads would oversubscribe the cores. */
        int blas_prev = openblas_get_num_threads();
        openblas_set_num_threads(1);
        int store_err = MB_OK;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (size_t t = 0; t < n_todo; t++) {
            int stop;
#pragma omp atomic read
            stop = store_err;
            if (!stop)
                run_one(&jobs[todo[t]], c, s, run_id, threads, &prog, st, &store_err);
        }
        openblas_set_num_threads(blas_prev);
        rc = store_err;
    }
    for (size_t i = 0; i < n_sets && sets; i++) {
        for (size_t f = 0; f < sets[i].n; f++)
            pr_fold_release(&sets[i].folds[f]);
        free(sets[i].folds);
    }
    free(sets);
    free(jobs);
    free(recs);
    free(todo);
    return rc;
}

int hn_run(struct hn_run_stats *st, const struct hn_plan *plan, struct hn_store *s, const struct hn_run_opts *o)
{
    memset(st, 0, sizeof *st);
    int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    int64_t run_id;
    int rc = hn_store_begin_run(s, &run_id, plan->text, threads);
    for (size_t d = 0; d < plan->n_data && !rc; d++) {
        struct pr_corpus c;
        memset(&c, 0, sizeof c);
        rc = o->load ? o->load(&c, plan->data[d], &plan->view) : pr_corpus_load(&c, plan->data[d], &plan->view);
        if (rc)
            break;
        rc = hn_run_corpus(st, plan, d, &c, s, run_id, o);
        if (o->release)
            o->release(&c);
        else
            pr_corpus_release(&c);
    }
    int rc_end = hn_store_end_run(s, run_id, st->n_ok, st->n_na, st->n_failed, st->n_skipped);
    if (!rc)
        rc = rc_end;
    if (!rc && st->n_failed)
        rc = mb_error(MB_EINVAL, "%zu of %zu jobs failed (their messages are in the store's jobs.message)",
                      st->n_failed, st->n_jobs);
    return rc;
}
