/* bench/bench_harness.c - harness throughput: jobs per minute at 1 and 2
 * threads across jobs, and the parallel efficiency rate(2) / (2 rate(1)),
 * measured in one run on the same plan, each into a fresh results store.
 *
 * The jobs are a bench-only protocol (one fold per subject) and method
 * (nearest class mean of per-channel mean absolute values over every
 * window sample) on a synthetic in-memory corpus, so the figure is the
 * harness's own overhead (planning, keys, SQLite commits, scheduling)
 * around a few milliseconds of work per job, not a classifier's speed.
 *
 * Options (after `--` when run through run_bench):
 *   --subjects N   subjects, i.e. folds per (protocol, seed) (default 12)
 *   --seeds N      seeds (default 40: 480 jobs, about 1.5 s a side; with 48 jobs the
 *                  0.1 s run was noise-bound, reading 0.47 to 1.09)
 */
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/fs.h"
#include "core/rng.h"
#include "harness/run.h"

enum { B_G = 6, B_REPS = 4, B_WPR = 10, B_W = 200, B_C = 8 };
static size_t b_subjects = 12;

static int bench_load(struct cp_corpus *c, const char *path, const struct cp_view *v)
{
    memset(c, 0, sizeof *c);
    c->path = strdup(path);
    c->name = strdup("bench");
    mb_sha256_hex(c->sha256, "bench corpus", 12);
    c->view = *v;
    c->C = B_C;
    c->W = B_W;
    c->n = b_subjects * B_G * B_REPS * B_WPR;
    /* one recording holding the windows back to back (corpus/corpus.h) */
    c->n_recordings = 1;
    c->emg = malloc(c->n * B_W * B_C * sizeof *c->emg);
    c->rec_off = malloc(2 * sizeof *c->rec_off);
    c->rec = calloc(c->n, sizeof *c->rec);
    c->start = malloc(c->n * sizeof *c->start);
    c->label = malloc(c->n * sizeof *c->label);
    c->subject = malloc(c->n * sizeof *c->subject);
    c->subject_names = calloc(b_subjects, sizeof *c->subject_names);
    c->gesture_ids = malloc(B_G * sizeof *c->gesture_ids);
    if (!c->path || !c->name || !c->emg || !c->rec_off || !c->rec || !c->start || !c->label || !c->subject ||
        !c->subject_names || !c->gesture_ids)
        return mb_error(MB_ENOMEM, "bench corpus");
    c->rec_off[0] = 0;
    c->rec_off[1] = c->n * B_W;
    for (size_t i = 0; i < c->n; i++)
        c->start[i] = (int64_t)(i * B_W);
    struct mb_rng rng;
    mb_rng_seed(&rng, 7, 0);
    size_t i = 0;
    for (size_t s = 0; s < b_subjects; s++)
        for (int g = 0; g < B_G; g++)
            for (int r = 0; r < B_REPS * B_WPR; r++, i++) {
                c->label[i] = g;
                c->subject[i] = (int32_t)s;
                for (size_t k = 0; k < B_W * B_C; k++)
                    c->emg[i * B_W * B_C + k] =
                        (float)((mb_rng_uniform(&rng) - 0.5) * (1.0 + 0.3 * (double)((k % B_C + (size_t)g) % B_C)));
            }
    c->n_subjects = b_subjects;
    for (size_t s = 0; s < b_subjects; s++) {
        char b[32];
        snprintf(b, sizeof b, "s%02zu", s + 1);
        c->subject_names[s] = strdup(b);
    }
    c->n_gestures = B_G;
    for (int g = 0; g < B_G; g++)
        c->gesture_ids[g] = g;
    return MB_OK;
}

static void bench_release(struct cp_corpus *c)
{
    for (size_t s = 0; s < c->n_subjects; s++)
        free(c->subject_names[s]);
    free(c->subject_names);
    free(c->path);
    free(c->name);
    free(c->emg);
    free(c->rec_off);
    free(c->rec);
    free(c->start);
    free(c->label);
    free(c->subject);
    free(c->gesture_ids);
}

struct mb_method_model {
    double mu[B_G * B_C];
};

static void mav(double f[B_C], const struct cp_corpus *c, size_t i)
{
    const float *x = cp_window(c, i);   /* once: cp_window is a lookup, not free */
    for (int k = 0; k < B_C; k++)
        f[k] = 0;
    for (int t = 0; t < B_W; t++)
        for (int k = 0; k < B_C; k++)
            f[k] += fabsf(x[(size_t)t * B_C + (size_t)k]);
}

static int nm_fit(struct mb_method_model **out, const struct cp_set *tr, const int32_t *classes, size_t K,
                  const void *hp, uint64_t seed, struct mb_shared *sh)
{
    struct mb_method_model *m = calloc(1, sizeof *m);
    size_t cnt[B_G] = { 0 };
    if (!m)
        return mb_error(MB_ENOMEM, "bench model");
    for (size_t j = 0; j < tr->n; j++) {
        double f[B_C];
        int32_t g = tr->c->label[tr->idx[j]];
        mav(f, tr->c, tr->idx[j]);
        for (int k = 0; k < B_C; k++)
            m->mu[g * B_C + k] += f[k];
        cnt[g]++;
    }
    for (size_t g = 0; g < K; g++)
        for (int k = 0; k < B_C; k++)
            m->mu[g * B_C + (size_t)k] /= cnt[g] ? (double)cnt[g] : 1.0;
    *out = m;
    return MB_OK;
}

static int nm_predict(float *P, const struct mb_method_model *m, const struct cp_set *te)
{
    for (size_t j = 0; j < te->n; j++) {
        double f[B_C], best = INFINITY;
        int arg = 0;
        mav(f, te->c, te->idx[j]);
        for (int g = 0; g < B_G; g++) {
            double d = 0;
            for (int k = 0; k < B_C; k++)
                d += (f[k] - m->mu[g * B_C + k]) * (f[k] - m->mu[g * B_C + k]);
            if (d < best) {
                best = d;
                arg = g;
            }
        }
        for (int g = 0; g < B_G; g++)
            P[j * B_G + (size_t)g] = g == arg;
    }
    return MB_OK;
}

static void nm_free(struct mb_method_model *m)
{
    free(m);
}

static const struct mb_method bench_method = {
    .name = "bench-nm", .summary = "nearest mean of MAV", .caps = MB_CAP_CLASSIFY,
    .fit = nm_fit, .predict_proba = nm_predict, .free = nm_free,
};

static int fold_plan(struct pr_fold **folds, size_t *nf, const struct cp_corpus *c, const struct pr_settings *s)
{
    *nf = c->n_subjects;
    *folds = calloc(c->n_subjects, sizeof **folds);
    if (!*folds)
        return mb_error(MB_ENOMEM, "bench folds");
    for (size_t t = 0; t < c->n_subjects; t++) {
        struct pr_fold *f = &(*folds)[t];
        char b[128];
        snprintf(b, sizeof b, "bench/%s", c->subject_names[t]);
        f->id = strdup(b);
        snprintf(b, sizeof b, "{\"test\":\"%s\",\"seed\":%llu}", c->subject_names[t], (unsigned long long)s->seed);
        f->manifest = strdup(b);
        mb_sha256_hex(f->sha256, b, strlen(b));
        f->train = malloc(c->n * sizeof *f->train);
        f->test = malloc(c->n * sizeof *f->test);
        if (!f->id || !f->manifest || !f->train || !f->test)
            return mb_error(MB_ENOMEM, "bench folds");
        for (size_t i = 0; i < c->n; i++) {
            if ((size_t)c->subject[i] == t)
                f->test[f->n_test++] = i;
            else
                f->train[f->n_train++] = i;
        }
    }
    return MB_OK;
}

static int fold_run(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m, const void *hp,
                    const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s,
                    struct mb_shared *sh)
{
    struct cp_set tr = { c, f->n_train, f->train }, te = { c, f->n_test, f->test };
    struct mb_method_model *model;
    int rc = m->fit(&model, &tr, c->gesture_ids, B_G, hp, s->seed, sh);
    if (rc)
        return rc;
    float *P = malloc(f->n_test * B_G * sizeof *P);
    res->subjects = calloc(1, sizeof *res->subjects);
    struct pr_subject_result *r = res->subjects;
    if (!P || !r) {
        free(P);
        m->free(model);
        return mb_error(MB_ENOMEM, "bench run");
    }
    res->n_subjects = 1;
    r->K = B_G;
    r->classes = malloc(B_G * sizeof *r->classes);
    r->confusion = calloc(B_G * B_G, sizeof *r->confusion);
    rc = m->predict_proba(P, model, &te);
    m->free(model);
    for (size_t j = 0; j < f->n_test && !rc; j++) {
        int arg = 0;
        for (int g = 1; g < B_G; g++)
            if (P[j * B_G + (size_t)g] > P[j * B_G + (size_t)arg])
                arg = g;
        r->confusion[c->label[f->test[j]] * B_G + arg]++;
    }
    int64_t diag = 0;
    for (int g = 0; g < B_G; g++) {
        r->classes[g] = g;
        diag += r->confusion[g * B_G + g];
    }
    r->subject = c->subject[f->test[0]];
    r->n_test = f->n_test;
    r->accuracy = r->balanced_accuracy = r->macro_f1 = (double)diag / (double)f->n_test;
    free(P);
    return rc;
}

static const struct mb_protocol bench_protocol = {
    .name = "bench-loso", .summary = "one fold per subject", .needs = MB_CAP_CLASSIFY, .plan = fold_plan,
    .run = fold_run,
};

static const struct mb_method *const b_methods[] = { &bench_method, NULL };
static const struct mb_protocol *const b_protocols[] = { &bench_protocol, NULL };

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Jobs per minute of the plan into a fresh store, at 'threads'. */
static int time_run(double *jpm, size_t *n_jobs, const struct hn_plan *pl, const char *dir, int threads)
{
    char db[256];
    snprintf(db, sizeof db, "%s/t%d.db", dir, threads);
    struct hn_store *s;
    int rc = hn_store_open(&s, db);
    if (rc)
        return rc;
    struct hn_run_opts o = { .threads = threads, .progress = HN_PROGRESS_NONE, .load = bench_load,
                             .release = bench_release };
    struct hn_run_stats st;
    double t0 = bench_now();
    rc = hn_run(&st, pl, s, &o);
    double dt = bench_now() - t0;
    hn_store_close(s);
    *n_jobs = st.n_ok;
    *jpm = (double)st.n_ok / dt * 60.0;
    return rc;
}

int bench_harness(int argc, char **argv)
{
    long seeds = 40;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--subjects"))
            b_subjects = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--seeds"))
            seeds = atol(argv[i + 1]);
    }
    if (b_subjects < 2 || seeds < 1) {
        fprintf(stderr, "bench_harness: --subjects >= 2 and --seeds >= 1\n");
        return 1;
    }
    char seedlist[256] = "";
    for (long s = 1; s <= seeds; s++)
        snprintf(seedlist + strlen(seedlist), sizeof seedlist - strlen(seedlist), "%s%ld", s > 1 ? "," : "", s);
    struct hn_registry reg = { b_methods, b_protocols };
    struct hn_flags f = { .data = "bench.h5", .protocols = "bench-loso", .methods = "bench-nm", .seeds = seedlist,
                          .rate_hz = -1, .window_ms = -1, .stride_ms = -1, .folds = -1 };
    struct hn_plan pl;
    if (hn_plan_from_flags(&pl, &f, &reg))
        return 1;
    char dir[] = "/tmp/mb-bench-harness-XXXXXX";
    if (!mkdtemp(dir)) {
        hn_plan_release(&pl);
        return 1;
    }
    double r1 = 0, r2 = 0;
    size_t n1 = 0, n2 = 0;
    int rc = time_run(&r1, &n1, &pl, dir, 1);
    if (!rc)
        rc = time_run(&r2, &n2, &pl, dir, 2);
    if (!rc) {
        printf("%-34s %10s %12s\n", "plan", "jobs", "jobs/min");
        printf("%-34s %10zu %12.0f\n", "1 thread", n1, r1);
        printf("%-34s %10zu %12.0f\n", "2 threads", n2, r2);
        printf("parallel efficiency rate(2) / (2 rate(1)) = %.2f  (%zu subjects x %ld seeds, %d windows each)\n",
               r2 / (2 * r1), b_subjects, seeds, B_G * B_REPS * B_WPR);
    }
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "bench_harness: could not remove '%s'\n", dir);
    hn_plan_release(&pl);
    return rc ? 1 : 0;
}
