/* tests/test_harness.c - the plan parser, job keys, the parallel runner,
 * the results store and the report, with FAKE protocols and methods
 * defined here over a tiny hand-made corpus (the real registries are not
 * needed), plus the kill -9 / resume test. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <cblas.h>
#include <stdio.h>
#include <strings.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/version.h"
#include "harness/plan.h"
#include "harness/report.h"
#include "harness/run.h"
#include "harness/store.h"
#include "reports/metrics.h"
#include "corpus_util.h"
#include "testutil.h"

/* ---- a tiny corpus: 4 subjects x 3 gestures x 2 repetitions x 3 windows ---- */

#define T_SUBJECTS 4
#define T_GESTURES 3
#define T_REPS 2
#define T_WPR 3
#define T_W 4
#define T_C 2

static const int32_t t_gesture_ids[T_GESTURES] = { 10, 20, 30 };

static int fake_load(struct cp_corpus *c, const char *path, const struct cp_view *v)
{
    memset(c, 0, sizeof *c);
    c->path = strdup(path);
    c->name = strdup("tiny");
    mb_sha256_hex(c->sha256, "tiny corpus v1", 14);
    c->view = *v;
    c->C = T_C;
    c->W = T_W;
    c->n = T_SUBJECTS * T_GESTURES * T_REPS * T_WPR;
    if (tu_corpus_pack(c) != MB_OK)
        return MB_ENOMEM;
    c->label = malloc(c->n * sizeof *c->label);
    c->rep = malloc(c->n * sizeof *c->rep);
    c->subject = malloc(c->n * sizeof *c->subject);
    c->session = calloc(c->n, sizeof *c->session);
    uint32_t lcg = 12345;
    size_t i = 0;
    for (int s = 0; s < T_SUBJECTS; s++)
        for (int g = 0; g < T_GESTURES; g++)
            for (int r = 0; r < T_REPS; r++)
                for (int w = 0; w < T_WPR; w++, i++) {
                    c->label[i] = t_gesture_ids[g];
                    c->rep[i] = r;
                    c->subject[i] = s;
                    for (int k = 0; k < T_W * T_C; k++) {
                        lcg = lcg * 1664525u + 1013904223u;
                        double noise = ((double)(lcg >> 8) / 16777216.0 - 0.5) * 1.6;
                        /* class means 1.0 apart, subject shifts, noise: errors happen */
                        tu_window(c, i)[k] =
                            (float)((k % T_C == 0 ? g : 2 - g) + 0.3 * s + noise);
                    }
                }
    c->n_subjects = T_SUBJECTS;
    c->subject_names = malloc(T_SUBJECTS * sizeof *c->subject_names);
    for (int s = 0; s < T_SUBJECTS; s++) {
        char b[16];
        snprintf(b, sizeof b, "s%02d", s + 1);
        c->subject_names[s] = strdup(b);
    }
    c->n_gestures = T_GESTURES;
    c->gesture_ids = malloc(sizeof t_gesture_ids);
    memcpy(c->gesture_ids, t_gesture_ids, sizeof t_gesture_ids);
    c->gesture_names = malloc(T_GESTURES * sizeof *c->gesture_names);
    c->gesture_names[0] = strdup("fist");
    c->gesture_names[1] = strdup("open");
    c->gesture_names[2] = strdup("point");
    return MB_OK;
}

static void fake_release(struct cp_corpus *c)
{
    free(c->path);
    free(c->name);
    tu_corpus_unpack(c);
    free(c->label);
    free(c->rep);
    free(c->subject);
    free(c->session);
    for (size_t s = 0; s < c->n_subjects; s++)
        free(c->subject_names[s]);
    free(c->subject_names);
    free(c->gesture_ids);
    for (size_t g = 0; g < c->n_gestures; g++)
        free(c->gesture_names[g]);
    free(c->gesture_names);
    memset(c, 0, sizeof *c);
}

/* ---- fake methods ---------------------------------------------------------- */

struct mb_method_model {
    size_t K;
    double centroid[T_GESTURES * T_C];
};

static int g_fits;                 /* fits in this process (n/a and skip checks) */
static int g_fail_subject = -1;    /* fake-loso fails fake-centroid's fold of this subject */

static void features(double f[T_C], const struct cp_corpus *c, size_t i)
{
    for (int k = 0; k < T_C; k++) {
        f[k] = 0;
        for (int t = 0; t < T_W; t++)
            f[k] += cp_window(c, i)[(size_t)t * T_C + (size_t)k];
        f[k] /= T_W;
    }
}

struct centroid_hp { long sleep_ms; };
static const struct mb_param centroid_params[] = {
    { "sleep_ms", MB_PT_INT, offsetof(struct centroid_hp, sleep_ms), 0, 0, 100000, NULL, "sleep in every fit" },
    MB_PARAM_END
};

static int centroid_fit(struct mb_method_model **out, const struct cp_set *train, const int32_t *classes, size_t K,
                        const void *hp, uint64_t seed, struct mb_shared *sh)
{
    (void)sh;
    long ms = hp ? ((const struct centroid_hp *)hp)->sleep_ms : 0;
    __atomic_add_fetch(&g_fits, 1, __ATOMIC_RELAXED);
    if (ms > 0) {
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    struct mb_method_model *m = calloc(1, sizeof *m);
    m->K = K;
    size_t cnt[T_GESTURES] = { 0 };
    for (size_t j = 0; j < train->n; j++) {
        size_t i = train->idx[j], k = 0;
        while (classes[k] != train->c->label[i])
            k++;
        double f[T_C];
        features(f, train->c, i);
        for (int d = 0; d < T_C; d++)
            m->centroid[k * T_C + (size_t)d] += f[d];
        cnt[k]++;
    }
    for (size_t k = 0; k < K; k++)
        for (int d = 0; d < T_C; d++)
            m->centroid[k * T_C + (size_t)d] /= cnt[k] ? (double)cnt[k] : 1.0;
    (void)seed;
    *out = m;
    return MB_OK;
}

static int centroid_predict(float *P, const struct mb_method_model *m, const struct cp_set *test)
{
    for (size_t j = 0; j < test->n; j++) {
        double f[T_C], best = INFINITY;
        size_t arg = 0;
        features(f, test->c, test->idx[j]);
        for (size_t k = 0; k < m->K; k++) {
            double d = 0;
            for (int t = 0; t < T_C; t++)
                d += (f[t] - m->centroid[k * T_C + (size_t)t]) * (f[t] - m->centroid[k * T_C + (size_t)t]);
            if (d < best) {
                best = d;
                arg = k;
            }
        }
        for (size_t k = 0; k < m->K; k++)
            P[j * m->K + k] = k == arg;
    }
    return MB_OK;
}

static void centroid_free(struct mb_method_model *m)
{
    free(m);
}

static const struct mb_method fake_centroid = {
    .name = "fake-centroid", .summary = "nearest class mean of channel means", .caps = MB_CAP_CLASSIFY,
    .params = centroid_params, .hp_size = sizeof(struct centroid_hp), .fit = centroid_fit, .predict_proba = centroid_predict, .free = centroid_free,
};

/* Same model, shifted features: a second, different row. */
static int shifted_predict(float *P, const struct mb_method_model *m, const struct cp_set *test)
{
    struct mb_method_model s = *m;
    for (size_t k = 0; k < m->K * T_C; k++)
        s.centroid[k] += 0.35 * (double)(k % 3);
    return centroid_predict(P, &s, test);
}

static const struct mb_method fake_shifted = {
    .name = "fake-shifted", .summary = "nearest shifted class mean", .caps = MB_CAP_CLASSIFY,
    .params = centroid_params, .hp_size = sizeof(struct centroid_hp), .fit = centroid_fit, .predict_proba = shifted_predict, .free = centroid_free,
};

/* Embeds only: cannot classify, so classifying protocols record n/a. */
static const struct mb_method fake_embed = {
    .name = "fake-embed", .summary = "representation only", .caps = MB_CAP_EMBED,
    .params = centroid_params, .hp_size = sizeof(struct centroid_hp), .fit = centroid_fit, .free = centroid_free,
};

/* ---- a fake LOSO protocol ----------------------------------------------------- */

static int loso_plan(struct pr_fold **folds, size_t *n_folds, const struct cp_corpus *c, const struct pr_settings *s)
{
    *n_folds = c->n_subjects;
    *folds = calloc(c->n_subjects, sizeof **folds);
    for (size_t t = 0; t < c->n_subjects; t++) {
        struct pr_fold *f = &(*folds)[t];
        char buf[256];
        snprintf(buf, sizeof buf, "fake-loso/%s", c->subject_names[t]);
        f->id = strdup(buf);
        snprintf(buf, sizeof buf, "{\"protocol\":\"fake-loso\",\"seed\":%llu,\"test_subject\":\"%s\"}",
                 (unsigned long long)s->seed, c->subject_names[t]);
        f->manifest = strdup(buf);
        mb_sha256_hex(f->sha256, f->manifest, strlen(f->manifest));
        f->train = malloc(c->n * sizeof *f->train);
        f->test = malloc(c->n * sizeof *f->test);
        for (size_t i = 0; i < c->n; i++) {
            if ((size_t)c->subject[i] == t)
                f->test[f->n_test++] = i;
            else
                f->train[f->n_train++] = i;
        }
    }
    return MB_OK;
}

static int loso_run(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m, const void *hp,
                    const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s,
                    struct mb_shared *sh)
{
    int32_t subj = c->subject[f->test[0]];
    if (subj == g_fail_subject && !strcmp(m->name, "fake-centroid"))
        return mb_error(MB_EINVAL, "fake-loso: injected failure on subject %d", subj);
    struct cp_set train = { c, f->n_train, f->train }, test = { c, f->n_test, f->test };
    struct mb_method_model *model;
    int rc = m->fit(&model, &train, c->gesture_ids, c->n_gestures, hp, s->seed, sh);
    if (rc)
        return rc;
    size_t K = c->n_gestures;
    float *P = malloc(f->n_test * K * sizeof *P);
    int *yt = malloc(f->n_test * sizeof *yt), *yp = malloc(f->n_test * sizeof *yp);
    rc = m->predict_proba(P, model, &test);
    for (size_t j = 0; j < f->n_test && !rc; j++) {
        size_t arg = 0;
        for (size_t k = 1; k < K; k++)
            if (P[j * K + k] > P[j * K + arg])
                arg = k;
        yp[j] = (int)arg;
        yt[j] = 0;
        while (c->gesture_ids[yt[j]] != c->label[f->test[j]])
            yt[j]++;
    }
    m->free(model);
    size_t cm[T_GESTURES * T_GESTURES];
    if (!rc)
        rc = metric_confusion(cm, yt, yp, f->n_test, K);
    if (!rc) {
        struct metric_set ms;
        metric_from_confusion(&ms, NULL, cm, K);
        res->status = PR_OK;
        res->n_subjects = 1;
        res->subjects = calloc(1, sizeof *res->subjects);
        struct pr_subject_result *r = &res->subjects[0];
        r->subject = subj;
        r->n_test = f->n_test;
        r->accuracy = ms.accuracy;
        r->balanced_accuracy = ms.balanced_accuracy;
        r->macro_f1 = ms.macro_f1;
        r->K = K;
        r->classes = malloc(K * sizeof *r->classes);
        memcpy(r->classes, c->gesture_ids, K * sizeof *r->classes);
        r->confusion = malloc(K * K * sizeof *r->confusion);
        for (size_t k = 0; k < K * K; k++)
            r->confusion[k] = (int64_t)cm[k];
    }
    free(P);
    free(yt);
    free(yp);
    return rc;
}

static const struct mb_param fake_loso_settings[] = {
    { "folds", MB_PT_INT, offsetof(struct pr_settings, folds), 0, 0, 1000, NULL, "folds" },
    MB_PARAM_END
};

static const struct mb_protocol fake_loso = {
    .name = "fake-loso", .summary = "one fold per subject", .needs = MB_CAP_CLASSIFY, .settings = fake_loso_settings,
    .plan = loso_plan, .run = loso_run,
};

/* Budgets without defaults: a plain entry is one variant. Its keys are its
 * own (pr_settings.own), as a protocol outside protocols/ would have them. */
struct fake_probe_keys {
    long shots, percent, episodes;
};
PR_OWN_FITS(struct fake_probe_keys);
static const struct mb_param fake_probe_settings[] = {
    { "shots", MB_PT_INT, PR_OWN_KEY(struct fake_probe_keys, shots), 0, 0, 1000, NULL, "shots" },
    { "percent", MB_PT_INT, PR_OWN_KEY(struct fake_probe_keys, percent), 0, 0, 100, NULL, "percent" },
    { "episodes", MB_PT_INT, PR_OWN_KEY(struct fake_probe_keys, episodes), 0, 0, 1000, NULL, "episodes" },
    MB_PARAM_END
};
static const struct pr_budget fake_probe_budgets[] = {
    { "shots", "shots", "k", 1, 1000, NULL, 0 },
    { "percents", "percent", "p", 1, 100, NULL, 0 },
    { NULL, NULL, NULL, 0, 0, NULL, 0 },
};

static const struct mb_protocol fake_probe = {
    .name = "fake-probe", .summary = "needs a representation", .needs = MB_CAP_EMBED | MB_CAP_CLASSIFY,
    .settings = fake_probe_settings, .budgets = fake_probe_budgets, .plan = loso_plan, .run = loso_run,
};

static const struct mb_method *const t_methods[] = { &fake_centroid, &fake_shifted, &fake_embed, NULL };
static const struct mb_protocol *const t_protocols[] = { &fake_loso, &fake_probe, NULL };
static const struct hn_registry t_reg = { t_methods, t_protocols };

/* ---- helpers -------------------------------------------------------------------- */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write '%s'", path);
    fputs(text, f);
    fclose(f);
}

static const char *const plan_yaml =
    "data: [tiny.h5]\n"
    "view: { rate_hz: 200, window_ms: 20, stride_ms: 10 }\n"
    "protocols:\n"
    "  - fake-loso\n"
    "  - fake-probe\n"
    "methods:\n"
    "  - { name: fake-centroid, params: \"sleep_ms=%d\" }\n"
    "  - fake-shifted\n"
    "  - fake-embed\n"
    "seeds: [1, 2]\n";

static void make_plan(struct hn_plan *pl, const char *dir, int sleep_ms)
{
    char path[256], text[1024];
    snprintf(path, sizeof path, "%s/plan.yaml", dir);
    snprintf(text, sizeof text, plan_yaml, sleep_ms);
    write_text(path, text);
    cr_assert_eq(hn_plan_load(pl, path, &t_reg), MB_OK, "plan: %s", mb_last_error());
}

static int run_plan(struct hn_run_stats *st, const struct hn_plan *pl, const char *db, int threads)
{
    struct hn_store *s;
    int rc = hn_store_open(&s, db);
    if (rc)
        return rc;
    struct hn_run_opts o = { .threads = threads, .progress = HN_PROGRESS_NONE, .load = fake_load,
                             .release = fake_release };
    rc = hn_run(st, pl, s, &o);
    hn_store_close(s);
    return rc;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    b[*len] = 0;
    fclose(f);
    return b;
}

/* Every file under a/rel equals the one under b/rel and vice versa
 * (names sorted); 'skip' (may be NULL) is a file name left out. */
static size_t compare_trees(const char *a, const char *b, const char *rel, const char *skip)
{
    char da[1024], db[1024];
    snprintf(da, sizeof da, "%s%s", a, rel);
    snprintf(db, sizeof db, "%s%s", b, rel);
    struct dirent **ea, **eb;
    int na = scandir(da, &ea, NULL, alphasort), nb = scandir(db, &eb, NULL, alphasort);
    cr_assert(na >= 0 && nb >= 0, "cannot list '%s' or '%s'", da, db);
    cr_assert_eq(na, nb, "'%s' has %d entries, '%s' %d", da, na, db, nb);
    size_t files = 0;
    for (int i = 0; i < na; i++) {
        cr_assert_str_eq(ea[i]->d_name, eb[i]->d_name, "entry %d of '%s'", i, da);
        const char *nm = ea[i]->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, "..") || (skip && !strcmp(nm, skip)))
            continue;
        char r2[1024], pa[2048];
        snprintf(r2, sizeof r2, "%s/%s", rel, nm);
        snprintf(pa, sizeof pa, "%s%s", a, r2);
        if (mb_fs_is_dir(pa)) {
            files += compare_trees(a, b, r2, skip);
            continue;
        }
        char pb[2048];
        snprintf(pb, sizeof pb, "%s%s", b, r2);
        size_t la, lb;
        char *ba = slurp(pa, &la), *bb = slurp(pb, &lb);
        cr_assert(ba && bb, "cannot read '%s' or '%s'", pa, pb);
        cr_assert(la == lb && !memcmp(ba, bb, la), "'%s' and '%s' differ", pa, pb);
        free(ba);
        free(bb);
        files++;
    }
    for (int i = 0; i < na; i++) {
        free(ea[i]);
        free(eb[i]);
    }
    free(ea);
    free(eb);
    return files;
}

static long db_count(const char *db, const char *sql)
{
    sqlite3 *h;
    long n = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(h, 5000);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW)
                n = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(h);
    return n;
}

/* ---- plan ------------------------------------------------------------------------ */

Test(harness, plan_yaml_expands_variants_and_resolves_names)
{
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/plan.yaml", dir);
    write_text(path, "data: [a.h5, /abs/b.h5]\n"
                     "view: { rate_hz: 200, window_ms: 150, stride_ms: 25 }\n"
                     "protocols:\n"
                     "  - fake-loso\n"
                     "  - { name: fake-loso, label: loso5, folds: 5 }\n"
                     "  - { name: fake-probe, shots: [1, 5], percents: [20], episodes: 3 }\n"
                     "methods:\n"
                     "  - fake-centroid\n"
                     "  - { name: fake-centroid, params: \"sleep_ms=3\", label: slow }\n"
                     "seeds: [7, 8, 9]\n");
    struct hn_plan pl;
    cr_assert_eq(hn_plan_load(&pl, path, &t_reg), MB_OK, "%s", mb_last_error());
    cr_assert_eq(pl.n_data, 2);
    char want[160];
    snprintf(want, sizeof want, "%s/a.h5", dir);
    cr_assert_str_eq(pl.data[0], want);
    cr_assert_str_eq(pl.data[1], "/abs/b.h5");
    cr_assert_eq(pl.n_protocols, 5);
    cr_assert_str_eq(pl.protocol[0].label, "fake-loso");
    cr_assert_str_eq(pl.protocol[1].label, "loso5");
    cr_assert_eq(pl.protocol[1].s.folds, 5);
    cr_assert_str_eq(pl.protocol[2].label, "fake-probe-k1");
    cr_assert_str_eq(pl.protocol[3].label, "fake-probe-k5");
    cr_assert_eq(PR_OWN(&pl.protocol[3].s, struct fake_probe_keys)->shots, 5);
    cr_assert_eq(PR_OWN(&pl.protocol[3].s, struct fake_probe_keys)->episodes, 3);
    cr_assert_str_eq(pl.protocol[4].label, "fake-probe-p20");
    cr_assert_eq(PR_OWN(&pl.protocol[4].s, struct fake_probe_keys)->percent, 20);
    cr_assert_eq(PR_OWN(&pl.protocol[4].s, struct fake_probe_keys)->shots, 0);
    cr_assert_eq(pl.protocol[2].p, &fake_probe);
    cr_assert_eq(pl.n_methods, 2);
    cr_assert_str_eq(pl.method[0].params, "sleep_ms=0", "the method's defaults when none are given");
    cr_assert_str_eq(pl.method[1].label, "slow");
    cr_assert_str_eq(pl.method[1].params, "sleep_ms=3");
    cr_assert_eq(pl.n_seeds, 3);
    cr_assert_eq(pl.seed[2], 9);
    cr_assert_float_eq(pl.view.rate_hz, 200, 0);
    cr_assert_float_eq(pl.view.window_ms, 150, 0);
    cr_assert_float_eq(pl.view.stride_ms, 25, 0);
    cr_assert_not_null(strstr(pl.text, "protocol loso5 fake-loso folds=5\n"), "%s", pl.text);
    hn_plan_release(&pl);
}

/* Each bad plan gives an error naming the file, the line and the key. */
Test(harness, plan_yaml_errors_name_file_line_and_key)
{
    static const struct {
        const char *yaml, *want[3];
    } cases[] = {
        { "data: [a.h5]\nprotocols: [fake-loso]\nmethods: [fake-centroid]\nfoo: 1\n",
          { "line 4", "unknown key 'foo'", "known: data, view" } },
        { "data: [a.h5]\nprotocols:\n  - fake-loso\n  - lost\nmethods: [fake-centroid]\n",
          { "line 4", "unknown protocol 'lost'", "known: fake-loso, fake-probe" } },
        { "data: [a.h5]\nprotocols: [fake-loso]\nmethods:\n  - { name: svm, params: x }\n",
          { "line 4", "key 'name'", "unknown method 'svm' (known: fake-centroid, fake-shifted, fake-embed)" } },
        { "data: [a.h5]\nprotocols:\n  - { name: fake-loso, folds: many }\nmethods: [fake-centroid]\n",
          { "line 3", "'folds' must be an integer", "'many'" } },
        { "data: [a.h5]\nprotocols: [fake-loso]\n", { "line 1", "missing required key 'methods'", "plan.yaml" } },
        { "data: [a.h5]\nprotocols: [fake-loso]\nmethods: [fake-centroid]\nseeds: [1, 1]\n",
          { "line 4", "key 'seeds'", "appears twice" } },
        { "data: [a.h5\nprotocols: x\n", { "plan.yaml' line", "", "" } },
        { "data: [a.h5]\nprotocols: [fake-loso]\nmethods:\n  - fake-centroid\n  - { name: fake-centroid, label: b }\n",
          { "line 5", "key 'methods'", "already row 'fake-centroid'" } },
        { "data: [a.h5]\nprotocols:\n  - fake-loso\n  - { name: fake-loso, folds: 0 }\nmethods: [fake-centroid]\n",
          { "line 4", "key 'protocols'", "appears twice" } },
        { "data: [a.h5]\nprotocols: [fake-loso]\nmethods: [fake-centroid]\nview: { window_ms: -3 }\n",
          { "line 4", "'window_ms' must be a number", "'-3'" } },
        /* parameters are parsed at load, not in every job */
        { "data: [a.h5]\nprotocols: [fake-loso]\nmethods:\n  - { name: fake-centroid, params: \"sleep=3\" }\n",
          { "line 4", "method 'fake-centroid'", "unknown parameter 'sleep' (known: sleep_ms)" } },
        /* a protocol accepts only the keys it declares */
        { "data: [a.h5]\nprotocols:\n  - { name: fake-loso, unseen_fraction: 0.5 }\nmethods: [fake-centroid]\n",
          { "line 3", "unknown key 'unseen_fraction'", "known: name, label, folds" } },
    };
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/plan.yaml", dir);
    mb_log_set_level(MB_LOG_QUIET);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_text(path, cases[i].yaml);
        struct hn_plan pl;
        cr_assert_neq(hn_plan_load(&pl, path, &t_reg), MB_OK, "case %zu accepted", i);
        const char *msg = mb_last_error();
        cr_assert_not_null(strstr(msg, path), "case %zu: no file in '%s'", i, msg);
        for (int k = 0; k < 3; k++)
            cr_assert_not_null(strstr(msg, cases[i].want[k]), "case %zu: '%s' not in '%s'", i, cases[i].want[k], msg);
    }
}

/* The registered protocols' own checks, reported with the plan's file and
 * line: 1 fold leaves no training subject, an unseen share of 1 holds out
 * every gesture, and loso has no unseen share to give. */
Test(harness, plan_yaml_protocol_settings_are_checked_by_their_protocol)
{
    static const struct {
        const char *yaml, *want[3];
    } cases[] = {
        { "data: [a.h5]\nprotocols:\n  - { name: loso, folds: 1 }\nmethods: [lda-td4]\n",
          { "line 3", "protocol 'loso'", "no training subject" } },
        { "data: [a.h5]\nprotocols:\n  - { name: zeroshot-gestures, unseen_fraction: 1 }\nmethods: [lda-td4]\n",
          { "line 3", "protocol 'zeroshot-gestures'", "every gesture" } },
        { "data: [a.h5]\nprotocols:\n  - { name: loso, unseen_fraction: 0.5 }\nmethods: [lda-td4]\n",
          { "line 3", "unknown key 'unseen_fraction'", "known: name, label, folds, official" } },
        { "data: [a.h5]\nprotocols:\n  - { name: fewshot, shots: [0] }\nmethods: [lda-td4]\n",
          { "line 3", "shots", "0" } },
    };
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/plan.yaml", dir);
    mb_log_set_level(MB_LOG_QUIET);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_text(path, cases[i].yaml);
        struct hn_plan pl;
        cr_assert_neq(hn_plan_load(&pl, path, NULL), MB_OK, "case %zu accepted", i);
        const char *msg = mb_last_error();
        cr_assert_not_null(strstr(msg, path), "case %zu: no file in '%s'", i, msg);
        for (int k = 0; k < 3; k++)
            cr_assert_not_null(strstr(msg, cases[i].want[k]), "case %zu: '%s' not in '%s'", i, cases[i].want[k], msg);
    }
    mb_log_set_level(MB_LOG_WARN);
}

/* strtoull skips blanks and takes a sign, so " -1" used to become seed
 * 18446744073709551615 without a word; a seed is digits only. */
Test(harness, plan_seeds_are_digits_only)
{
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/plan.yaml", dir);
    mb_log_set_level(MB_LOG_QUIET);
    static const char *const bad[] = { " -1", "-1", " 7", "+7", "\t3", "" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml, "data: [a.h5]\nprotocols: [fake-loso]\nmethods: [fake-centroid]\nseeds: [\"%s\"]\n",
                 bad[i]);
        write_text(path, yaml);
        struct hn_plan pl;
        cr_assert_neq(hn_plan_load(&pl, path, &t_reg), MB_OK, "seed '%s' accepted", bad[i]);
        cr_assert(strstr(mb_last_error(), "line 4"), "%s", mb_last_error());
        cr_assert(strstr(mb_last_error(), "non-negative integers"), "%s", mb_last_error());
        if (!bad[i][0])
            continue;   /* an empty item is not a list item on the command line */
        struct hn_flags f = { .data = "a.h5", .protocols = "fake-loso", .methods = "fake-centroid", .seeds = bad[i],
                              .rate_hz = -1, .window_ms = -1, .stride_ms = -1, .folds = -1 };
        cr_assert_eq(hn_plan_from_flags(&pl, &f, &t_reg), MB_EINVAL, "--seeds '%s' accepted", bad[i]);
    }
    write_text(path, "data: [a.h5]\nprotocols: [fake-loso]\nmethods: [fake-centroid]\nseeds: [0, 18446744073709551615]\n");
    struct hn_plan pl;
    cr_assert_eq(hn_plan_load(&pl, path, &t_reg), MB_OK, "%s", mb_last_error());
    cr_assert_eq(pl.seed[1], UINT64_MAX);
    hn_plan_release(&pl);
    write_text(path, "data: [a.h5]\nprotocols: [fake-loso]\nmethods: [fake-centroid]\nseeds: [18446744073709551616]\n");
    cr_assert_neq(hn_plan_load(&pl, path, &t_reg), MB_OK, "2^64 accepted");
}

/* An empty label used to load, run every job, and leave a store no report
 * could read ("rep_cube_new: method 0 has no name"); an empty data path
 * named the plan's folder. Each is refused at load, naming line and key. */
Test(harness, plan_refuses_empty_labels_and_data_paths)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        { "data: [a.h5]\nprotocols: [fake-loso]\nmethods:\n  - { name: fake-centroid, label: \"\" }\n",
          "line 4: key 'label' is empty" },
        { "data: [a.h5]\nprotocols:\n  - { name: fake-loso, label: '' }\nmethods: [fake-centroid]\n",
          "line 3: key 'label' is empty" },
        { "data: [a.h5, \"\"]\nprotocols: [fake-loso]\nmethods: [fake-centroid]\n", "line 1: key 'data' is empty" },
    };
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/plan.yaml", dir);
    mb_log_set_level(MB_LOG_QUIET);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_text(path, cases[i].yaml);
        struct hn_plan pl;
        cr_assert_eq(hn_plan_load(&pl, path, &t_reg), MB_EFORMAT, "case %zu accepted", i);
        cr_assert(strstr(mb_last_error(), path), "%s", mb_last_error());
        cr_assert(strstr(mb_last_error(), cases[i].want), "case %zu: '%s' not in '%s'", i, cases[i].want,
                  mb_last_error());
    }
}

Test(harness, plan_from_flags)
{
    struct hn_flags f = { .data = "a.h5,b.h5", .protocols = "fake-loso,fake-probe", .methods = "fake-shifted",
                          .seeds = "1,2", .rate_hz = 200, .window_ms = 200, .stride_ms = 50, .folds = 3 };
    struct hn_plan pl;
    cr_assert_eq(hn_plan_from_flags(&pl, &f, &t_reg), MB_OK, "%s", mb_last_error());
    cr_assert_eq(pl.n_data, 2);
    cr_assert_eq(pl.n_protocols, 2);
    cr_assert_eq(pl.protocol[0].s.folds, 3);
    cr_assert_eq(pl.n_seeds, 2);
    cr_assert_float_eq(pl.view.rate_hz, 200, 0);
    hn_plan_release(&pl);
    mb_log_set_level(MB_LOG_QUIET);
    f.methods = "fake-shifted,nope";
    cr_assert_eq(hn_plan_from_flags(&pl, &f, &t_reg), MB_EINVAL);
    cr_assert_not_null(strstr(mb_last_error(), "unknown method 'nope' (known: fake-centroid, fake-shifted"));
}

/* A plain fewshot (flags, YAML name alone, YAML entry without shots or
 * percents) is the seven default budgets as seven blocks, never one block
 * averaging them. */
Test(harness, plain_fewshot_expands_to_seven_variants)
{
    static const char *const want[] = { "fewshot-k1", "fewshot-k5", "fewshot-k10", "fewshot-p5",
                                        "fewshot-p20", "fewshot-p40", "fewshot-p80" };
    static const int shots[] = { 1, 5, 10, 0, 0, 0, 0 }, percent[] = { 0, 0, 0, 5, 20, 40, 80 };
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/plan.yaml", dir);
    for (int form = 0; form < 3; form++) {
        struct hn_plan pl;
        if (!form) {
            struct hn_flags f = { .data = "a.h5", .protocols = "fewshot", .methods = "lda-td4", .seeds = "1",
                                  .rate_hz = -1, .window_ms = -1, .stride_ms = -1, .folds = -1 };
            cr_assert_eq(hn_plan_from_flags(&pl, &f, NULL), MB_OK, "%s", mb_last_error());
        } else {
            write_text(path, form == 1 ? "data: [a.h5]\nprotocols: [fewshot]\nmethods: [lda-td4]\n"
                                       : "data: [a.h5]\nprotocols: [{ name: fewshot, episodes: 2 }]\n"
                                         "methods: [lda-td4]\n");
            cr_assert_eq(hn_plan_load(&pl, path, NULL), MB_OK, "%s", mb_last_error());
        }
        cr_assert_eq(pl.n_protocols, 7, "form %d: %zu variants", form, pl.n_protocols);
        for (size_t i = 0; i < 7; i++) {
            cr_assert_str_eq(pl.protocol[i].label, want[i]);
            /* fewshot's keys are its own: read them as the job key does */
            char text[128], keys[128];
            pr_settings_text(text, sizeof text, pl.protocol[i].p, &pl.protocol[i].s);
            snprintf(keys, sizeof keys, "shots=%d,percent=%d,episodes=%d", shots[i], percent[i],
                     form == 2 ? 2 : 10);   /* fewshot's default episodes */
            cr_assert_str_eq(text, keys);
        }
        hn_plan_release(&pl);
    }
}

/* ---- keys ------------------------------------------------------------------------- */

static const struct hn_job_rec key_rec = {
    .dataset = "tiny", .corpus_sha = "c0ffee", .protocol = "fake-loso", .protocol_name = "fake-loso",
    .settings = "folds=0,official=0,shots=0,percent=0,episodes=0,unseen_fraction=0", .method = "row",
    .method_name = "fake-centroid", .params = "sleep_ms=0", .seed = 1, .fold_id = "fake-loso/s01",
    .manifest_sha = "abc123", .view = "rate_hz=200,window_ms=20,stride_ms=10,majority=0", .source = "5ca1ab1e",
};

Test(harness, job_key_is_stable_and_covers_every_field)
{
    char key[65], text[2048];
    cr_assert_eq(hn_job_key(key, &key_rec), MB_OK);
    cr_assert_eq(hn_job_key_text(text, sizeof text, &key_rec), MB_OK);
    cr_assert_str_eq(text, "myobench-job/1\ncorpus c0ffee\nprotocol fake-loso\n"
                           "settings folds=0,official=0,shots=0,percent=0,episodes=0,unseen_fraction=0\n"
                           "fold fake-loso/s01\nmanifest abc123\nmethod fake-centroid\nparams sleep_ms=0\n"
                           "seed 1\nview rate_hz=200,window_ms=20,stride_ms=10,majority=0\nversion " MB_VERSION "\n"
                           "source 5ca1ab1e\n");
    /* sha256 of that text by Python's hashlib (tests/ref/gen_harness_key.py), at version 0.1.0, source 5ca1ab1e */
    if (!strcmp(MB_VERSION, "0.1.0"))
        cr_assert_str_eq(key, "c03443a6d1d97bccf3f1001297baf9cbe91fea0529afa934bf243f136dde0b32");
    char again[65];
    cr_assert_eq(hn_job_key(again, &key_rec), MB_OK);
    cr_assert_str_eq(key, again);
    /* Display names are not part of the key; everything that defines numbers is. */
    struct hn_job_rec r = key_rec;
    r.method = "another label";
    r.dataset = "renamed";
    cr_assert_eq(hn_job_key(again, &r), MB_OK);
    cr_assert_str_eq(key, again);
    const char **fields[] = { &r.corpus_sha, &r.protocol_name, &r.settings, &r.method_name, &r.params,
                              &r.fold_id, &r.manifest_sha, &r.view, &r.source };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        r = key_rec;
        const char **fp = (const char **)((char *)&r + ((char *)fields[i] - (char *)&r));
        *fp = "changed";
        cr_assert_eq(hn_job_key(again, &r), MB_OK);
        cr_assert_str_neq(key, again, "field %zu does not change the key", i);
    }
    r = key_rec;
    r.seed = 2;
    cr_assert_eq(hn_job_key(again, &r), MB_OK);
    cr_assert_str_neq(key, again);
}

/* Key texts longer than any fixed buffer still get keys of their own
 * (a key text that overflowed once made every such job share one key). */
Test(harness, overlong_key_texts_keep_distinct_keys)
{
    size_t n = 20000;
    char *pa = malloc(n + 1), *pb = malloc(n + 1);
    cr_assert(pa && pb);
    memset(pa, 'x', n);
    memcpy(pb, pa, n);
    pa[n] = pb[n] = 0;
    pb[n - 1] = 'y';   /* differs only at the end */
    struct hn_job_rec a = key_rec, b = key_rec, e = key_rec;
    a.params = pa;
    b.params = pb;
    e.params = "";
    char ka[65], kb[65], ke[65];
    cr_assert_eq(hn_job_key(ka, &a), MB_OK, "%s", mb_last_error());
    cr_assert_eq(hn_job_key(kb, &b), MB_OK, "%s", mb_last_error());
    cr_assert_eq(hn_job_key(ke, &e), MB_OK);
    cr_assert_str_neq(ka, kb);
    cr_assert_str_neq(ka, ke);
    /* the key is the SHA-256 of the whole text, however long */
    size_t cap = n + 4096;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    cr_assert_eq(hn_job_key_text(text, cap, &a), MB_OK);
    char want[65];
    mb_sha256_hex(want, text, strlen(text));
    cr_assert_str_eq(ka, want);
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(hn_job_key_text(text, 100, &a), MB_EINVAL, "a text that does not fit the caller's buffer is refused");
    free(text);
    free(pa);
    free(pb);
}

/* Another build (another hash of the library sources) gives other keys,
 * so a re-run after a code change runs every job again; the runs record
 * this build's hash. */
Test(harness, job_key_changes_with_the_source_hash)
{
    struct hn_job_rec a = key_rec, b = key_rec;
    a.source = "1111111111111111111111111111111111111111111111111111111111111111";
    b.source = "2222222222222222222222222222222222222222222222222222222222222222";
    char ka[65], kb[65], kb2[65];
    cr_assert_eq(hn_job_key(ka, &a), MB_OK);
    cr_assert_eq(hn_job_key(kb, &b), MB_OK);
    cr_assert_eq(hn_job_key(kb2, &b), MB_OK);
    cr_assert_str_neq(ka, kb);
    cr_assert_str_eq(kb, kb2);
    /* the build's own hash: 64 hex digits, and the version carries its prefix */
    const char *h = hn_source_hash();
    cr_assert_eq(strlen(h), 64);
    cr_assert_eq(strspn(h, "0123456789abcdef"), 64);
    char want[96];
    snprintf(want, sizeof want, "%s+%.16s", MB_VERSION, h);
    cr_assert_str_eq(hn_version(), want);
}

/* ---- runs --------------------------------------------------------------------------- */

Test(harness, missing_caps_are_na_without_running)
{
    char dir[64], db[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/r.db", dir);
    struct hn_plan pl;
    make_plan(&pl, dir, 0);
    struct hn_run_stats st;
    g_fits = 0;
    cr_assert_eq(run_plan(&st, &pl, db, 1), MB_OK, "%s", mb_last_error());
    /* 2 protocols x 2 seeds x 4 folds x 3 methods */
    cr_assert_eq(st.n_jobs, 48);
    /* fake-embed lacks classify (both protocols); the others lack embed (fake-probe) */
    cr_assert_eq(st.n_na, 8 + 8 + 16);
    cr_assert_eq(st.n_ok, 16);
    cr_assert_eq(g_fits, 16, "an n/a job must not fit");
    cr_assert_eq(db_count(db, "SELECT COUNT(*) FROM jobs WHERE method = 'fake-embed' AND protocol = 'fake-loso' "
                              "AND status = 'na' AND message LIKE '%lacks classify, needed by protocol ''fake-loso''%'"),
                 8);
    cr_assert_eq(db_count(db, "SELECT COUNT(*) FROM subject_metrics"), 16);
    cr_assert_eq(db_count(db, "SELECT COUNT(*) FROM jobs WHERE status = 'na' AND key IN "
                              "(SELECT job FROM subject_metrics)"), 0);
    /* a manifest file per distinct manifest (4 folds x 2 seeds; both protocols share the text) */
    char mdir[160];
    snprintf(mdir, sizeof mdir, "%s/manifests", dir);
    struct dirent **e;
    int n = scandir(mdir, &e, NULL, alphasort);
    cr_assert_eq(n, 2 + 8);
    for (int i = 0; i < n; i++)
        free(e[i]);
    free(e);
    hn_plan_release(&pl);
}

Test(harness, one_and_two_threads_give_the_same_results_and_reports, .timeout = 60)
{
    char d1[64], d2[64], db1[128], db2[128], o1[128], o2[128];
    tu_tmpdir(d1, sizeof d1);
    tu_tmpdir(d2, sizeof d2);
    snprintf(db1, sizeof db1, "%s/r.db", d1);
    snprintf(db2, sizeof db2, "%s/r.db", d2);
    snprintf(o1, sizeof o1, "%s/report", d1);
    snprintf(o2, sizeof o2, "%s/report", d2);
    struct hn_plan pl;
    make_plan(&pl, d1, 2);
    struct hn_run_stats st;
    cr_assert_eq(run_plan(&st, &pl, db1, 1), MB_OK);
    cr_assert_eq(run_plan(&st, &pl, db2, 2), MB_OK);
    cr_assert_eq(db_count(db2, "SELECT COUNT(DISTINCT threads) FROM jobs"), 1);
    cr_assert_eq(db_count(db2, "SELECT MIN(threads) FROM jobs"), 2);
    cr_assert_eq(hn_report_write(db1, o1, HN_FMT_ALL), MB_OK, "%s", mb_last_error());
    cr_assert_eq(hn_report_write(db2, o2, HN_FMT_ALL), MB_OK, "%s", mb_last_error());
    /* info.txt names the thread counts, which differ by design */
    size_t files = compare_trees(o1, o2, "", "info.txt");
    cr_assert_eq(files, 14, "%zu files compared", files);
    /* The stored numbers themselves, in key order. */
    const char *q = "SELECT group_concat(job || subject || accuracy || balanced_accuracy || macro_f1, ';') FROM "
                    "(SELECT * FROM subject_metrics ORDER BY job, subject)";
    sqlite3 *h1, *h2;
    sqlite3_open(db1, &h1);
    sqlite3_open(db2, &h2);
    sqlite3_stmt *s1, *s2;
    sqlite3_prepare_v2(h1, q, -1, &s1, NULL);
    sqlite3_prepare_v2(h2, q, -1, &s2, NULL);
    cr_assert_eq(sqlite3_step(s1), SQLITE_ROW);
    cr_assert_eq(sqlite3_step(s2), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(s1, 0), (const char *)sqlite3_column_text(s2, 0));
    sqlite3_finalize(s1);
    sqlite3_finalize(s2);
    sqlite3_close(h1);
    sqlite3_close(h2);
    hn_plan_release(&pl);
}

Test(harness, rerun_skips_finished_jobs_and_retries_failed_ones)
{
    char dir[64], db[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/r.db", dir);
    struct hn_plan pl;
    make_plan(&pl, dir, 0);
    struct hn_run_stats st;
    mb_log_set_level(MB_LOG_QUIET);
    g_fail_subject = 1;
    cr_assert_eq(run_plan(&st, &pl, db, 2), MB_EINVAL, "a failed job makes the run fail");
    /* fake-centroid's fold s02 of fake-loso, 2 seeds */
    cr_assert_eq(st.n_failed, 2);
    cr_assert_eq(db_count(db, "SELECT COUNT(*) FROM jobs WHERE status = 'failed' AND message LIKE "
                              "'%injected failure on subject 1%'"), 2);
    g_fail_subject = -1;
    g_fits = 0;
    cr_assert_eq(run_plan(&st, &pl, db, 2), MB_OK);
    cr_assert_eq(st.n_skipped, 46);
    cr_assert_eq(st.n_ok, 2);
    cr_assert_eq(g_fits, 2);
    cr_assert_eq(run_plan(&st, &pl, db, 2), MB_OK);
    cr_assert_eq(st.n_skipped, 48);
    cr_assert_eq(st.n_ok + st.n_na + st.n_failed, 0);
    cr_assert_eq(db_count(db, "SELECT COUNT(*) FROM runs"), 3);
    cr_assert_eq(db_count(db, "SELECT COUNT(*) FROM subject_metrics"), 16);
    hn_plan_release(&pl);
}

/* A report names n/a reasons and refuses nothing: a cell whose jobs failed
 * is "missing" (never "n/a", which means the method cannot run the
 * protocol) in every table, with the reason in CSV and JSON, and listed as
 * incomplete in info.txt. */
Test(harness, report_marks_na_and_incomplete_cells)
{
    char dir[64], db[128], out[128], p[256];
    tu_tmpdir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/r.db", dir);
    snprintf(out, sizeof out, "%s/rep", dir);
    struct hn_plan pl;
    make_plan(&pl, dir, 0);
    struct hn_run_stats st;
    mb_log_set_level(MB_LOG_QUIET);
    g_fail_subject = 2;
    cr_assert_eq(run_plan(&st, &pl, db, 1), MB_EINVAL);
    cr_assert_eq(hn_report_write(db, out, HN_FMT_ALL), MB_OK, "%s", mb_last_error());
    size_t len;
    snprintf(p, sizeof p, "%s/info.txt", out);
    char *info = slurp(p, &len);
    cr_assert_not_null(info);
    cr_assert_not_null(strstr(info, "n/a  tiny / fake-loso / fake-embed: method 'fake-embed' lacks classify"), "%s", info);
    cr_assert_not_null(strstr(info, "incomplete  tiny / fake-loso / fake-centroid: 6 of 8 jobs ok, 2 failed"), "%s", info);
    cr_assert_not_null(strstr(info, "empty  tiny / fake-probe"), "%s", info);
    cr_assert_not_null(strstr(info, "threads per run  1\n"), "%s", info);
    cr_assert_not_null(strstr(info, "corpus  " ), "%s", info);
    free(info);
    snprintf(p, sizeof p, "%s/tiny/fake-loso/table.md", out);
    char *md = slurp(p, &len);
    cr_assert_not_null(md);
    cr_assert_not_null(strstr(md, "| fake-embed | n/a |"), "%s", md);
    cr_assert_not_null(strstr(md, "| fake-centroid | missing |"), "%s", md);
    cr_assert_null(strstr(md, "| fake-centroid | n/a"), "%s", md);
    cr_assert_not_null(strstr(md, "missing: no result although the method can run the protocol"), "%s", md);
    cr_assert_not_null(strstr(md, "N = 4"), "%s", md);
    free(md);
    snprintf(p, sizeof p, "%s/all.tex", out);
    char *tex = slurp(p, &len);
    cr_assert_not_null(tex);
    cr_assert_not_null(strstr(tex, "fake-centroid & missing & missing & missing"), "%s", tex);
    free(tex);
    snprintf(p, sizeof p, "%s/tiny/fake-loso/table.csv", out);
    char *csv = slurp(p, &len);
    cr_assert_not_null(csv);
    cr_assert_not_null(strstr(csv, ",fake-centroid,bacc,"), "%s", csv);
    const char *row = strstr(csv, ",fake-centroid,bacc,");
    cr_assert_not_null(strstr(row, ",missing,missing,\"6 of 8 jobs ok, 2 failed, 0 not finished; first failure: "),
                       "%s", csv);
    cr_assert_not_null(strstr(csv, ",fake-embed,bacc,"), "%s", csv);
    cr_assert_not_null(strstr(strstr(csv, ",fake-embed,bacc,"), ",n/a,n/a,\n"), "%s", csv);
    free(csv);
    snprintf(p, sizeof p, "%s/tiny/fake-loso/table.json", out);
    json_error_t jerr;
    json_t *root = json_load_file(p, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    json_t *cells = json_object_get(json_array_get(json_object_get(json_array_get(json_object_get(root, "blocks"), 0),
                                                                   "columns"), 0), "cells");
    int seen = 0;
    for (size_t i = 0; i < json_array_size(cells); i++) {
        json_t *cell = json_array_get(cells, i);
        const char *mname = json_string_value(json_object_get(cell, "method"));
        const char *status = json_string_value(json_object_get(cell, "status"));
        if (!strcmp(mname, "fake-centroid")) {
            cr_assert_str_eq(status, "missing");
            cr_assert_not_null(strstr(json_string_value(json_object_get(cell, "reason")), "injected failure"));
            seen++;
        } else if (!strcmp(mname, "fake-embed")) {
            cr_assert_str_eq(status, "n/a");
            cr_assert_null(json_object_get(cell, "reason"));
            seen++;
        }
    }
    cr_assert_eq(seen, 2);
    json_decref(root);
    snprintf(p, sizeof p, "%s/tiny/fake-loso/confusion-fake-shifted.svg", out);
    char *svg = slurp(p, &len);
    cr_assert_not_null(svg, "no confusion SVG");
    cr_assert_not_null(strstr(svg, "fist"), "gesture names label the confusion matrix");
    free(svg);
    hn_plan_release(&pl);
}

static void db_exec(const char *db, const char *sql)
{
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 10000);
    char *msg = NULL;
    cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, &msg), SQLITE_OK, "%s: %s", sql, msg ? msg : "");
    sqlite3_close(h);
}

/* A stored metric is a rate in [0, 1]. SQLite stores a NaN as NULL, which
 * reads back as 0.0, so a NaN result used to show as a 0 % subject; and a
 * damaged value such as 1e308 went on into the statistics and figures
 * (undefined float-to-int conversions in the strip plot's axis). Either is a
 * missing cell with the reason, never a number. Found by review while
 * writing tests/fuzz/fuzz_store.c. */
Test(harness, report_takes_only_rates_in_0_1_from_the_store)
{
    static const struct {
        const char *value, *why;
    } cases[] = {
        { "NULL", "metric bacc of subject 1 is NULL, not a rate in [0, 1]" },
        { "1e308", "metric bacc of subject 1 is 1e+308, not a rate in [0, 1]" },
        { "-0.25", "metric bacc of subject 1 is -0.25, not a rate in [0, 1]" },
        { "'high'", "metric bacc of subject 1 is high, not a rate in [0, 1]" },
    };
    mb_log_set_level(MB_LOG_QUIET);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char dir[64], db[128], out[128], p[256], sql[512];
        tu_tmpdir(dir, sizeof dir);
        snprintf(db, sizeof db, "%s/r.db", dir);
        snprintf(out, sizeof out, "%s/rep", dir);
        struct hn_plan pl;
        make_plan(&pl, dir, 0);
        struct hn_run_stats st;
        cr_assert_eq(run_plan(&st, &pl, db, 1), MB_OK, "%s", mb_last_error());
        snprintf(sql, sizeof sql,
                 "UPDATE subject_metrics SET balanced_accuracy = %s WHERE subject = 1 AND job IN "
                 "(SELECT key FROM jobs WHERE protocol = 'fake-loso' AND method = 'fake-centroid' AND seed = 2)",
                 cases[i].value);
        db_exec(db, sql);
        cr_assert_eq(hn_report_write(db, out, HN_FMT_ALL), MB_OK, "%s: %s", cases[i].value, mb_last_error());
        size_t len;
        snprintf(p, sizeof p, "%s/info.txt", out);
        char *info = slurp(p, &len);
        cr_assert_not_null(info);
        char want[256];
        snprintf(want, sizeof want, "incomplete  tiny / fake-loso / fake-centroid: %s", cases[i].why);
        cr_assert_not_null(strstr(info, want), "%s: '%s' not in\n%s", cases[i].value, want, info);
        free(info);
        snprintf(p, sizeof p, "%s/tiny/fake-loso/table.md", out);
        char *md = slurp(p, &len);
        cr_assert_not_null(md);
        cr_assert_not_null(strstr(md, "| fake-centroid | missing |"), "%s: %s", cases[i].value, md);
        cr_assert_null(strstr(md, "| fake-shifted | missing"), "%s: the other row keeps its values: %s",
                       cases[i].value, md);
        free(md);
        hn_plan_release(&pl);
    }
}

/* Stores that plans with an empty label left (before the plan refused them),
 * or damaged ones: the report said "rep_cube_new: method 0 has no name",
 * naming neither the store nor what to do. */
Test(harness, report_names_the_store_and_the_jobs_with_an_empty_label)
{
    static const char *const sql[] = {
        "UPDATE jobs SET method = '' WHERE method = 'fake-shifted'",
        "UPDATE jobs SET protocol = '' WHERE protocol = 'fake-probe'",
        "UPDATE jobs SET dataset = NULL",
    };
    static const char *const want[] = { "16 jobs have an empty method label", "24 jobs have an empty protocol label",
                                        "48 jobs have an empty dataset label" };
    mb_log_set_level(MB_LOG_QUIET);
    for (size_t i = 0; i < sizeof sql / sizeof *sql; i++) {
        char dir[64], db[128], out[128];
        tu_tmpdir(dir, sizeof dir);
        snprintf(db, sizeof db, "%s/r.db", dir);
        snprintf(out, sizeof out, "%s/rep", dir);
        struct hn_plan pl;
        make_plan(&pl, dir, 0);
        struct hn_run_stats st;
        cr_assert_eq(run_plan(&st, &pl, db, 1), MB_OK, "%s", mb_last_error());
        hn_plan_release(&pl);
        if (i == 2)   /* a damaged store: its NOT NULL constraint is gone too */
            db_exec(db, "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = replace(sql, "
                        "'dataset TEXT NOT NULL', 'dataset TEXT') WHERE name = 'jobs'");
        db_exec(db, sql[i]);
        FILE *devnull = fopen("/dev/null", "w");
        cr_assert_eq(hn_report_print_md(devnull, db), MB_EFORMAT, "case %zu", i);
        fclose(devnull);
        cr_assert(strstr(mb_last_error(), db), "%s", mb_last_error());
        cr_assert(strstr(mb_last_error(), want[i]), "case %zu: '%s' not in '%s'", i, want[i], mb_last_error());
        cr_assert_eq(hn_report_write(db, out, HN_FMT_ALL), MB_EFORMAT);
    }
}

/* A block mixing jobs of two plans (other settings, other parameters) is
 * refused with a message naming the block, never averaged into one cell;
 * different protocols in one store stay fine (the other tests). */
Test(harness, report_refuses_blocks_mixing_settings_or_params)
{
    char dir[64], db[128], out[128], path[256];
    tu_tmpdir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/r.db", dir);
    snprintf(out, sizeof out, "%s/rep", dir);
    snprintf(path, sizeof path, "%s/plan.yaml", dir);
    static const char *const plans[][2] = {
        { "  - fake-loso\n", "sleep_ms=0" },
        { "  - { name: fake-loso, folds: 2 }\n", "sleep_ms=0" },   /* other settings, same labels */
        { "  - fake-loso\n", "sleep_ms=1" },                      /* other parameters, same labels */
    };
    static const char *const want[] = { NULL, "block tiny / fake-loso mixes jobs of different protocol settings",
                                        "block tiny / fake-loso / fake-centroid mixes jobs of different method "
                                        "parameters ('sleep_ms=0' and 'sleep_ms=1')" };
    for (size_t i = 0; i < 3; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "data: [tiny.h5]\nview: { rate_hz: 200, window_ms: 20, stride_ms: 10 }\nprotocols:\n%s"
                 "methods:\n  - { name: fake-centroid, params: \"%s\" }\n",
                 plans[i][0], plans[i][1]);
        write_text(path, text);
        char db_i[160];
        /* each mixed store starts from a copy of the first plan's results */
        snprintf(db_i, sizeof db_i, "%s/r%zu.db", dir, i);
        struct hn_plan pl;
        cr_assert_eq(hn_plan_load(&pl, path, &t_reg), MB_OK, "%s", mb_last_error());
        struct hn_run_stats st;
        cr_assert_eq(run_plan(&st, &pl, i ? db_i : db, 1), MB_OK, "%s", mb_last_error());
        hn_plan_release(&pl);
        if (!i) {
            cr_assert_eq(hn_report_write(db, out, HN_FMT_CSV), MB_OK, "%s", mb_last_error());
            /* one job as if from another build */
            sqlite3 *h;
            cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
            cr_assert_eq(sqlite3_exec(h, "UPDATE jobs SET version = 'other-build' WHERE rowid = "
                                         "(SELECT MIN(rowid) FROM jobs)", NULL, NULL, NULL), SQLITE_OK);
            sqlite3_close(h);
            mb_log_set_level(MB_LOG_QUIET);
            cr_assert_eq(hn_report_write(db, out, HN_FMT_CSV), MB_EINVAL);
            cr_assert_not_null(strstr(mb_last_error(), "block tiny / fake-loso mixes jobs of different software "
                                                       "versions"), "%s", mb_last_error());
            mb_log_set_level(MB_LOG_WARN);
            continue;
        }
        /* the first plan into the same store, then the report */
        write_text(path, "data: [tiny.h5]\nview: { rate_hz: 200, window_ms: 20, stride_ms: 10 }\nprotocols:\n"
                         "  - fake-loso\nmethods:\n  - { name: fake-centroid, params: \"sleep_ms=0\" }\n");
        cr_assert_eq(hn_plan_load(&pl, path, &t_reg), MB_OK, "%s", mb_last_error());
        cr_assert_eq(run_plan(&st, &pl, db_i, 1), MB_OK, "%s", mb_last_error());
        hn_plan_release(&pl);
        mb_log_set_level(MB_LOG_QUIET);
        cr_assert_eq(hn_report_write(db_i, out, HN_FMT_CSV), MB_EINVAL);
        cr_assert_not_null(strstr(mb_last_error(), want[i]), "%s", mb_last_error());
        cr_assert_not_null(strstr(mb_last_error(), "own --db"), "%s", mb_last_error());
    }
}

/* Per-subject values are means over the seeds' folds, and the report's
 * numbers equal the stored ones. */
Test(harness, report_values_are_means_over_seeds)
{
    char dir[64], db[128], out[128], p[256];
    tu_tmpdir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/r.db", dir);
    snprintf(out, sizeof out, "%s/rep", dir);
    struct hn_plan pl;
    make_plan(&pl, dir, 0);
    struct hn_run_stats st;
    cr_assert_eq(run_plan(&st, &pl, db, 2), MB_OK);
    cr_assert_eq(hn_report_write(db, out, HN_FMT_CSV), MB_OK);
    snprintf(p, sizeof p, "%s/tiny/fake-loso/table.csv", out);
    size_t len;
    char *csv = slurp(p, &len);
    cr_assert_not_null(csv);
    sqlite3 *h;
    sqlite3_open(db, &h);
    sqlite3_stmt *q;
    sqlite3_prepare_v2(h, "SELECT j.method, sm.subject_name, AVG(sm.balanced_accuracy) FROM subject_metrics sm "
                          "JOIN jobs j ON sm.job = j.key WHERE j.protocol = 'fake-loso' GROUP BY 1, 2 ORDER BY 1, 2",
                       -1, &q, NULL);
    int rows = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        char line[256];
        double v = sqlite3_column_double(q, 2);
        /* the CSV value reads back as the stored mean (two values: exact to rounding) */
        snprintf(line, sizeof line, "tiny,fake-loso,%s,bacc,%s,", sqlite3_column_text(q, 0), sqlite3_column_text(q, 1));
        const char *at = strstr(csv, line);
        cr_assert_not_null(at, "no row '%s'", line);
        double got = strtod(at + strlen(line), NULL);
        cr_assert_float_eq(got, v, 1e-12, "%s: %g vs %g", line, got, v);
        rows++;
    }
    cr_assert_eq(rows, 8);
    sqlite3_finalize(q);
    sqlite3_close(h);
    free(csv);
    hn_plan_release(&pl);
}

/* THE KILL TEST: a child runs the plan with a slow method; once the store
 * holds some committed jobs it is killed with SIGKILL; the parent resumes
 * the same plan and its report equals, byte for byte, the report of an
 * uninterrupted run in another folder (info.txt included). */
Test(harness, kill_9_then_resume_gives_the_uninterrupted_report, .timeout = 120)
{
    char d1[64], d2[64], db1[128], db2[128], o1[128], o2[128];
    tu_tmpdir(d1, sizeof d1);
    tu_tmpdir(d2, sizeof d2);
    snprintf(db1, sizeof db1, "%s/r.db", d1);
    snprintf(db2, sizeof db2, "%s/r.db", d2);
    snprintf(o1, sizeof o1, "%s/report", d1);
    snprintf(o2, sizeof o2, "%s/report", d2);
    struct hn_plan pl;
    make_plan(&pl, d1, 60);
    struct hn_run_stats st;
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int rc = run_plan(&st, &pl, db1, 2);
        _exit(rc ? 3 : 0);
    }
    long done = 0;
    for (int i = 0; i < 20000 && done < 3; i++) {
        struct timespec ts = { 0, 2000000 };
        nanosleep(&ts, NULL);
        done = db_count(db1, "SELECT COUNT(*) FROM jobs WHERE status = 'ok'");
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the child ended before the kill");
    long ok_at_kill = db_count(db1, "SELECT COUNT(*) FROM jobs WHERE status = 'ok'");
    cr_assert(ok_at_kill >= 3 && ok_at_kill < 16, "%ld jobs ok at the kill", ok_at_kill);
    cr_assert_eq(run_plan(&st, &pl, db1, 2), MB_OK, "resume: %s", mb_last_error());
    cr_assert_geq(st.n_skipped, (size_t)ok_at_kill, "the resume must skip what was committed");
    cr_assert_lt(st.n_skipped, 48);
    cr_assert_eq(st.n_skipped + st.n_ok + st.n_na, 48);
    cr_assert_eq(run_plan(&st, &pl, db2, 2), MB_OK);
    cr_assert_eq(hn_report_write(db1, o1, HN_FMT_ALL), MB_OK);
    cr_assert_eq(hn_report_write(db2, o2, HN_FMT_ALL), MB_OK);
    size_t files = compare_trees(o1, o2, "", NULL);
    cr_assert_eq(files, 15);
    hn_plan_release(&pl);
}

/* ---- the command line (empty registries on this branch) ---------------------------- */

Test(harness_cli, methods_run_and_report_usage, .timeout = 30)
{
    char *out, *err;
    cr_assert_eq(tu_run(&out, &err, "methods"), 0);
    cr_assert_not_null(strstr(out, "capabilities"));
    cr_assert_not_null(strstr(out, "needs"));
    free(out);
    free(err);
    cr_assert_eq(tu_run(NULL, &err, "run --data x.h5 --protocol nope --methods lda-td4"), 2);
    cr_assert_not_null(strstr(err, "unknown protocol 'nope'"), "%s", err);
    free(err);
    cr_assert_eq(tu_run(NULL, &err, "run"), 2);
    free(err);
    /* a missing dataset stops the run before any job, and no store is written */
    char dir[64], cmd[256], db[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/r.db", dir);
    snprintf(cmd, sizeof cmd, "run --data %s/missing.h5 --protocol loso --methods lda-td4 --db %s", dir, db);
    cr_assert_eq(tu_run(NULL, &err, cmd), 1);
    cr_assert_not_null(strstr(err, "cannot read dataset"), "%s", err);
    cr_assert_not_null(strstr(err, "missing.h5"), "%s", err);
    cr_assert_neq(access(db, F_OK), 0, "a store was created");
    free(err);
    cr_assert_eq(tu_run(NULL, &err, "report"), 2);
    free(err);
    cr_assert_eq(tu_run(NULL, &err, "report /nonexistent/r.db"), 1);
    cr_assert_not_null(strstr(err, "does not exist"), "%s", err);
    free(err);
    cr_assert_eq(tu_run(NULL, &err, "report x.db --format latex"), 2);
    free(err);
}

/* 'myobench report' reads a store written by the library (fake methods). */
Test(harness_cli, report_prints_markdown_and_writes_files, .timeout = 60)
{
    char dir[64], db[128], args[512];
    tu_tmpdir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/r.db", dir);
    struct hn_plan pl;
    make_plan(&pl, dir, 0);
    struct hn_run_stats st;
    cr_assert_eq(run_plan(&st, &pl, db, 1), MB_OK);
    char *out, *err;
    snprintf(args, sizeof args, "report %s", db);
    cr_assert_eq(tu_run(&out, &err, args), 0, "%s", err);
    cr_assert_not_null(strstr(out, "## tiny / fake-loso"), "%s", out);
    cr_assert_not_null(strstr(out, "| Method |"), "%s", out);
    cr_assert_not_null(strstr(out, "| fake-embed | n/a |"), "%s", out);
    free(out);
    free(err);
    snprintf(args, sizeof args, "report %s --out %s/rep --format latex", db, dir);
    cr_assert_eq(tu_run(NULL, &err, args), 0, "%s", err);
    free(err);
    char p[256];
    snprintf(p, sizeof p, "%s/rep/tiny/fake-loso/table.tex", dir);
    cr_assert(mb_fs_is_file(p));
    snprintf(p, sizeof p, "%s/rep/tiny/fake-loso/table.md", dir);
    cr_assert(!mb_fs_is_file(p), "--format latex writes LaTeX only");
    hn_plan_release(&pl);
}

static long count_jobs(const char *db, const char *where)
{
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM jobs WHERE %s", where);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    long n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

/* 'myobench prune' removes exactly the selected jobs with their rows, so a block
 * can be re-planned into the same store; the report then no longer shows it. */
Test(harness_cli, prune_removes_the_selected_jobs, .timeout = 60)
{
    char dir[64], db[128], args[512];
    tu_tmpdir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/r.db", dir);
    struct hn_plan pl;
    make_plan(&pl, dir, 0);
    struct hn_run_stats st;
    cr_assert_eq(run_plan(&st, &pl, db, 1), MB_OK);
    long all = count_jobs(db, "1"), loso = count_jobs(db, "protocol = 'fake-loso'");
    cr_assert_gt(loso, 0);
    cr_assert_lt(loso, all);
    char *out, *err;
    snprintf(args, sizeof args, "prune %s --protocol fake-loso --dry-run", db);
    cr_assert_eq(tu_run(&out, &err, args), 0, "%s", err);
    char want[256];
    snprintf(want, sizeof want, "would remove %ld jobs", loso);
    cr_assert_not_null(strstr(out, want), "%s", out);
    free(out), free(err);
    cr_assert_eq(count_jobs(db, "1"), all, "a dry run removes nothing");
    snprintf(args, sizeof args, "prune %s --protocol fake-loso", db);
    cr_assert_eq(tu_run(&out, &err, args), 0, "%s", err);
    free(out), free(err);
    cr_assert_eq(count_jobs(db, "1"), all - loso);
    cr_assert_eq(count_jobs(db, "key IN (SELECT job FROM subject_metrics) AND protocol = 'fake-loso'"), 0);
    snprintf(args, sizeof args, "report %s", db);
    cr_assert_eq(tu_run(&out, &err, args), 0, "%s", err);
    cr_assert_null(strstr(out, "fake-loso"), "%s", out);
    cr_assert_not_null(strstr(out, "fake-probe"), "%s", out);
    free(out), free(err);
    /* jobs of another build go with --other-builds; this build's stay */
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, "UPDATE jobs SET version = 'old' WHERE method = 'fake-shifted'", NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(h);
    long old = count_jobs(db, "version = 'old'");
    cr_assert_gt(old, 0);
    snprintf(args, sizeof args, "prune %s --other-builds", db);
    cr_assert_eq(tu_run(&out, &err, args), 0, "%s", err);
    free(out), free(err);
    cr_assert_eq(count_jobs(db, "version = 'old'"), 0);
    cr_assert_eq(count_jobs(db, "1"), all - loso - old);
    /* no selector, or no store: refused, and no store is created */
    snprintf(args, sizeof args, "prune %s", db);
    cr_assert_eq(tu_run(NULL, &err, args), 2);
    free(err);
    snprintf(args, sizeof args, "prune %s/none.db --method x", dir);
    cr_assert_eq(tu_run(NULL, &err, args), 1);
    cr_assert_not_null(strstr(err, "none.db"), "%s", err);
    free(err);
    snprintf(want, sizeof want, "%s/none.db", dir);
    cr_assert(!mb_fs_is_file(want));
    hn_plan_release(&pl);
}

/* ---- datasets refused before the store is opened ------------------------------------ */

#include "corpus_fixture.h"

/* A NinaPro-like unified file (rest 0, gestures 1..6, 'reps' repetitions)
 * of 4 subjects at dir/name. */
static void fixture(char *path, size_t cap, const char *dir, const char *name, int reps)
{
    snprintf(path, cap, "%s/%s", dir, name);
    cr_assert_eq(cpf_write(path, &(struct cpf_opts){ .subjects = 4, .reps = reps }), MB_OK, "%s", mb_last_error());
}

static void assert_nothing_written(const char *dir, const char *db, const char *what)
{
    char m[256];
    snprintf(m, sizeof m, "%s/manifests", dir);
    cr_expect_neq(access(db, F_OK), 0, "%s: a store was created", what);
    cr_expect_neq(access(m, F_OK), 0, "%s: a manifests folder was created", what);
}

/* A label outside the recording's vocabulary (99 where the gestures are
 * 0..6) used to run "ok" with a class of its own; run refuses it as
 * validate does, naming the file, the recording and the sample (1-based),
 * before any store exists. */
Test(harness_cli, run_refuses_labels_outside_the_vocabulary, .timeout = 60)
{
    char dir[64], h5[128], db[128], args[512], want[256], *err;
    tu_tmpdir(dir, sizeof dir);
    fixture(h5, sizeof h5, dir, "db1.h5", 2);
    cr_assert_eq(cpf_poke_label(h5, "r000002", 1233, 99), MB_OK);
    snprintf(db, sizeof db, "%s/r.db", dir);
    snprintf(args, sizeof args, "run --data %s --protocol loso --methods lda-td4 --db %s --progress none", h5, db);
    cr_assert_eq(tu_run(NULL, &err, args), 1, "%s", err);
    snprintf(want, sizeof want, "'%s' recording 'r000002' sample 1234: label 99 is neither -1 nor a gesture id", h5);
    cr_expect(strstr(err, want), "%s", err);
    assert_nothing_written(dir, db, "label 99");
    free(err);
}

/* An unreadable, truncated or random-bytes .h5 is refused before the store
 * is created: no database, no manifests folder, exit 1, the file named; and
 * so is a plan whose second dataset is bad (its first would otherwise have
 * run into the store). */
Test(harness_cli, bad_datasets_are_refused_before_the_store_is_created, .timeout = 60)
{
    char dir[64], good[128], db[128], args[1024], bad[4][128], *err;
    tu_tmpdir(dir, sizeof dir);
    fixture(good, sizeof good, dir, "good.h5", 2);
    snprintf(db, sizeof db, "%s/r.db", dir);
    size_t n_bad = 0;
    /* truncated: the first half of a valid file */
    snprintf(bad[n_bad], sizeof bad[n_bad], "%s/truncated.h5", dir);
    struct stat sb;
    cr_assert_eq(stat(good, &sb), 0);
    snprintf(args, sizeof args, "head -c %lld '%s' > '%s'", (long long)sb.st_size / 2, good, bad[n_bad]);
    cr_assert_eq(system(args), 0);
    n_bad++;
    /* random bytes */
    snprintf(bad[n_bad], sizeof bad[n_bad], "%s/random.h5", dir);
    FILE *f = fopen(bad[n_bad], "wb");
    cr_assert_not_null(f);
    uint32_t lcg = 7;
    for (int i = 0; i < 100000; i++) {
        lcg = lcg * 1664525u + 1013904223u;
        fputc((int)(lcg >> 24), f);
    }
    fclose(f);
    n_bad++;
    /* unreadable: a folder, whatever the user (root reads any file) */
    snprintf(bad[n_bad], sizeof bad[n_bad], "%s/folder.h5", dir);
    cr_assert_eq(mkdir(bad[n_bad], 0755), 0);
    n_bad++;
    /* unreadable: no read permission, where permissions apply */
    if (geteuid() != 0) {
        snprintf(bad[n_bad], sizeof bad[n_bad], "%s/noperm.h5", dir);
        snprintf(args, sizeof args, "cp '%s' '%s' && chmod 000 '%s'", good, bad[n_bad], bad[n_bad]);
        cr_assert_eq(system(args), 0);
        n_bad++;
    }
    for (size_t i = 0; i < n_bad; i++) {
        snprintf(args, sizeof args, "run --data %s --protocol loso --methods lda-td4 --db %s --progress none", bad[i],
                 db);
        cr_assert_eq(tu_run(NULL, &err, args), 1, "%s: %s", bad[i], err);
        cr_expect(strstr(err, bad[i]), "the message names '%s': %s", bad[i], err);
        assert_nothing_written(dir, db, bad[i]);
        free(err);
        /* in a plan, after a good dataset */
        char plan[160];
        snprintf(plan, sizeof plan, "%s/plan.yaml", dir);
        snprintf(args, sizeof args, "data: [%s, %s]\nprotocols: [loso]\nmethods: [lda-td4]\n", good, bad[i]);
        write_text(plan, args);
        snprintf(args, sizeof args, "run %s --db %s --progress none", plan, db);
        cr_assert_eq(tu_run(NULL, &err, args), 1, "%s: %s", bad[i], err);
        cr_expect(strstr(err, bad[i]), "the message names '%s': %s", bad[i], err);
        assert_nothing_written(dir, db, bad[i]);
        free(err);
    }
}

/* ---- several runs on one store ---------------------------------------------------- */

/* First column of the first row as text (malloc'ed; "" without a row). */
static char *db_text(const char *db, const char *sql)
{
    sqlite3 *h;
    cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(h, 10000);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(h));
    const char *v = sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    char *out = strdup(v ? v : "");
    sqlite3_finalize(st);
    sqlite3_close(h);
    return out;
}

/* A lease as another run would leave it: on host 'host' (NULL: this one), by
 * process 'pid', last heartbeat 'age' seconds ago. */
static void fake_lease(const char *db, const char *key, const char *host, long long pid, long long age)
{
    char here[256], sql[1024];
    gethostname(here, sizeof here);
    here[sizeof here - 1] = 0;
    snprintf(sql, sizeof sql,
             "INSERT INTO leases(job, owner, host, pid, run_id, claimed, heartbeat, expiry) VALUES ('%s', "
             "'%s:%lld:fake', '%s', %lld, NULL, 'then', CAST(strftime('%%s', 'now') AS INTEGER) - %lld, 300)",
             key, host ? host : here, pid, host ? host : here, pid, age);
    db_exec(db, sql);
}

/* A process id that no process has (one that ran and was reaped). */
static pid_t dead_pid(void)
{
    pid_t p = fork();
    cr_assert_neq(p, -1);
    if (!p)
        _exit(0);
    waitpid(p, NULL, 0);
    return p;
}

static struct hn_job_rec claim_recs[5];
static char claim_folds[5][16];

static void plan_claim_jobs(struct hn_store *s)
{
    for (size_t i = 0; i < 5; i++) {
        claim_recs[i] = key_rec;
        snprintf(claim_folds[i], sizeof claim_folds[i], "f%zu", i);
        claim_recs[i].fold_id = claim_folds[i];
        claim_recs[i].manifest = "{}";
        cr_assert_eq(hn_job_key(claim_recs[i].key, &claim_recs[i]), MB_OK);
    }
    cr_assert_eq(hn_store_plan_jobs(s, claim_recs, 5), MB_OK, "%s", mb_last_error());
}

/* The claim rules, on two handles of one store (two owners): a live lease
 * (this host, a running process, a fresh heartbeat) is not taken over, also
 * once its heartbeat was renewed; an expired heartbeat or a dead process on
 * this host is; another host's dead-looking pid is not (only its heartbeat
 * counts); a committed job is done; a job another run failed since this run
 * began is not tried again, one that failed before is. */
Test(harness, claims_take_over_only_dead_or_expired_leases, .timeout = 30)
{
    char dir[64], db[128], sql[512];
    tu_tmpdir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/r.db", dir);
    struct hn_store *a, *b, *c;
    cr_assert_eq(hn_store_open(&a, db), MB_OK, "%s", mb_last_error());
    cr_assert_eq(hn_store_open(&b, db), MB_OK, "%s", mb_last_error());
    cr_assert_str_neq(hn_store_owner(a), hn_store_owner(b));
    cr_assert_eq(hn_store_lease_expiry(a), HN_LEASE_EXPIRY);
    plan_claim_jobs(a);
    int64_t ra, rb;
    cr_assert_eq(hn_store_begin_run(a, &ra, "plan", 1), MB_OK);
    cr_assert_eq(hn_store_begin_run(b, &rb, "plan", 1), MB_OK);
    const char *k[5];
    for (int i = 0; i < 5; i++)
        k[i] = claim_recs[i].key;
    enum hn_claim cl;
    struct hn_lease h;

    cr_assert_eq(hn_store_claim(a, &cl, &h, k[0], ra), MB_OK);
    cr_expect_eq(cl, HN_CLAIMED);
    cr_expect_str_eq(h.owner, "", "a free job has no previous owner");
    cr_assert_eq(hn_store_claim(b, &cl, &h, k[0], rb), MB_OK);
    cr_expect_eq(cl, HN_CLAIM_BUSY, "a live lease is taken over");
    cr_expect_str_eq(h.owner, hn_store_owner(a));
    cr_expect_eq(h.pid, (long long)getpid());
    cr_expect(!h.expired && !h.dead);
    /* the heartbeat renews an old lease */
    snprintf(sql, sizeof sql, "UPDATE leases SET heartbeat = heartbeat - 3600 WHERE job = '%s'", k[0]);
    db_exec(db, sql);
    cr_assert_eq(hn_store_heartbeat(a), MB_OK);
    cr_assert_eq(hn_store_claim(b, &cl, &h, k[0], rb), MB_OK);
    cr_expect_eq(cl, HN_CLAIM_BUSY, "a renewed lease is taken over");
    /* an expired heartbeat */
    db_exec(db, sql);
    cr_assert_eq(hn_store_claim(b, &cl, &h, k[0], rb), MB_OK);
    cr_expect_eq(cl, HN_CLAIMED, "an expired lease is not taken over");
    cr_expect(h.expired && !h.dead);
    snprintf(sql, sizeof sql, "SELECT owner FROM leases WHERE job = '%s'", k[0]);
    char *t = db_text(db, sql);
    cr_expect_str_eq(t, hn_store_owner(b));
    free(t);
    snprintf(sql, sizeof sql, "SELECT took_over FROM claims WHERE job = '%s' ORDER BY id DESC", k[0]);
    t = db_text(db, sql);
    cr_expect(strstr(t, hn_store_owner(a)) && strstr(t, "heartbeat expired"), "%s", t);
    free(t);
    /* the expiry is the owner's, recorded in its lease */
    cr_assert_eq(hn_store_claim(a, &cl, &h, k[1], ra), MB_OK);
    snprintf(sql, sizeof sql, "UPDATE leases SET heartbeat = heartbeat - 100 WHERE job = '%s'", k[1]);
    db_exec(db, sql);
    hn_store_set_lease_expiry(b, 50);
    cr_assert_eq(hn_store_claim(b, &cl, &h, k[1], rb), MB_OK);
    cr_expect_eq(cl, HN_CLAIM_BUSY, "100 s is within its owner's (default) expiry");
    cr_expect_eq(h.expiry, HN_LEASE_EXPIRY);
    hn_store_set_lease_expiry(b, 0);
    cr_expect_eq(hn_store_lease_expiry(b), HN_LEASE_EXPIRY);
    cr_assert_eq(hn_store_release(a, k[1]), MB_OK);
    hn_store_set_lease_expiry(a, 50);
    cr_assert_eq(hn_store_claim(a, &cl, &h, k[1], ra), MB_OK);
    cr_expect_eq(cl, HN_CLAIMED);
    db_exec(db, sql);
    cr_assert_eq(hn_store_claim(b, &cl, &h, k[1], rb), MB_OK);
    cr_expect_eq(cl, HN_CLAIMED, "100 s is beyond its owner's expiry of 50 s");
    cr_expect(h.expired);
    hn_store_set_lease_expiry(a, 0);
    /* a dead process on this host, with a fresh heartbeat */
    pid_t dead = dead_pid();
    cr_assert_eq(hn_store_claim(a, &cl, &h, k[2], ra), MB_OK);
    snprintf(sql, sizeof sql, "UPDATE leases SET pid = %lld WHERE job = '%s'", (long long)dead, k[2]);
    db_exec(db, sql);
    cr_assert_eq(hn_store_claim(b, &cl, &h, k[2], rb), MB_OK);
    cr_expect_eq(cl, HN_CLAIMED, "a dead owner's lease is not taken over");
    cr_expect(h.dead && !h.expired);
    /* on another host the pid says nothing */
    cr_assert_eq(hn_store_claim(a, &cl, &h, k[3], ra), MB_OK);
    snprintf(sql, sizeof sql, "UPDATE leases SET pid = %lld, host = 'elsewhere.invalid' WHERE job = '%s'",
             (long long)dead, k[3]);
    db_exec(db, sql);
    cr_assert_eq(hn_store_claim(b, &cl, &h, k[3], rb), MB_OK);
    cr_expect_eq(cl, HN_CLAIM_BUSY, "another host's lease is judged by its pid");
    /* committing drops the lease; the job is then done for everyone */
    cr_assert_eq(hn_store_commit_job(b, &claim_recs[0], rb, 1, HN_NA, "n/a here", NULL, NULL, 0), MB_OK);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM leases WHERE job = '%s'", k[0]);
    cr_expect_eq(db_count(db, sql), 0);
    cr_assert_eq(hn_store_claim(a, &cl, &h, k[0], ra), MB_OK);
    cr_expect_eq(cl, HN_CLAIM_DONE);
    /* failed by another run since this one began: not retried here ... */
    cr_assert_eq(hn_store_commit_job(b, &claim_recs[2], rb, 1, HN_FAILED, "boom", NULL, NULL, 0), MB_OK);
    cr_assert_eq(hn_store_claim(a, &cl, &h, k[2], ra), MB_OK);
    cr_expect_eq(cl, HN_CLAIM_FAILED);
    /* ... but by a run that begins after the failure (re-running retries failures) */
    cr_assert_eq(hn_store_open(&c, db), MB_OK);
    int64_t rc_;
    cr_assert_eq(hn_store_begin_run(c, &rc_, "plan", 1), MB_OK);
    cr_assert_eq(hn_store_claim(c, &cl, &h, k[2], rc_), MB_OK);
    cr_expect_eq(cl, HN_CLAIMED);
    /* release drops a handle's leases, and only its own */
    cr_assert_eq(hn_store_claim(a, &cl, &h, k[4], ra), MB_OK);
    cr_expect_eq(cl, HN_CLAIMED);
    cr_assert_eq(hn_store_release(c, NULL), MB_OK);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM leases WHERE owner = '%s'", hn_store_owner(a));
    cr_expect_eq(db_count(db, sql), 2, "a holds k3 (moved to another host) and k4");
    cr_assert_eq(hn_store_release(a, NULL), MB_OK);
    cr_expect_eq(db_count(db, sql), 0);
    cr_expect_eq(db_count(db, "SELECT COUNT(*) FROM claims"), 10);
    hn_store_close(a);
    hn_store_close(b);
    hn_store_close(c);
}

/* A heartbeat more than the expiry in the future was not written by this
 * machine's clock as it is now (a store copied from a machine whose clock is
 * ahead, a clock stepped back, a damaged row): it expires like an old one,
 * since its age would otherwise stay negative for as long as the clocks
 * disagree, and a run resuming into the store waited for it (for ever with
 * a heartbeat in year 2100: fuzz_store, tests/fuzz/regress_store/). A
 * heartbeat a little ahead, within the expiry, is still a live lease. */
Test(harness, a_lease_whose_heartbeat_is_far_in_the_future_expires, .timeout = 60)
{
    char dir[64], db[128], sql[512];
    tu_tmpdir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/r.db", dir);
    struct hn_store *a;
    cr_assert_eq(hn_store_open(&a, db), MB_OK, "%s", mb_last_error());
    plan_claim_jobs(a);
    int64_t ra;
    cr_assert_eq(hn_store_begin_run(a, &ra, "plan", 1), MB_OK);
    enum hn_claim cl;
    struct hn_lease h;
    /* another host, an hour ahead */
    fake_lease(db, claim_recs[0].key, "elsewhere.invalid", 4242, -3600);
    cr_assert_eq(hn_store_claim(a, &cl, &h, claim_recs[0].key, ra), MB_OK);
    cr_expect_eq(cl, HN_CLAIMED, "a heartbeat an hour in the future is waited for");
    cr_expect(h.expired && !h.dead);
    snprintf(sql, sizeof sql, "SELECT took_over FROM claims WHERE job = '%s'", claim_recs[0].key);
    char *t = db_text(db, sql);
    cr_expect(strstr(t, "elsewhere.invalid:4242:fake") && strstr(t, "heartbeat expired"), "%s", t);
    free(t);
    /* this host, a live process (this one, under another owner), an hour ahead */
    fake_lease(db, claim_recs[1].key, NULL, (long long)getpid(), -3600);
    cr_assert_eq(hn_store_claim(a, &cl, &h, claim_recs[1].key, ra), MB_OK);
    cr_expect_eq(cl, HN_CLAIMED, "a live pid's heartbeat an hour in the future is waited for");
    cr_expect(h.expired);
    /* 100 s ahead is within the default expiry of 300 s: still live */
    fake_lease(db, claim_recs[2].key, "elsewhere.invalid", 4242, -100);
    cr_assert_eq(hn_store_claim(a, &cl, &h, claim_recs[2].key, ra), MB_OK);
    cr_expect_eq(cl, HN_CLAIM_BUSY, "a heartbeat 100 s ahead is taken over");
    cr_expect(!h.expired);
    hn_store_close(a);

    /* a whole run resuming into a store with such a lease ends, having run
     * the job (it waited for ever before) */
    struct hn_plan pl;
    make_plan(&pl, dir, 0);
    snprintf(db, sizeof db, "%s/resume.db", dir);
    struct hn_run_stats st;
    cr_assert_eq(run_plan(&st, &pl, db, 1), MB_OK, "%s", mb_last_error());
    char *key = db_text(db, "SELECT key FROM jobs WHERE status = 'ok' ORDER BY key");
    snprintf(sql, sizeof sql, "UPDATE jobs SET status = 'pending' WHERE key = '%s'", key);
    db_exec(db, sql);
    /* heartbeat 2100-01-01: what fuzz_store's input holds */
    snprintf(sql, sizeof sql,
             "INSERT INTO leases(job, owner, host, pid, run_id, claimed, heartbeat, expiry) VALUES "
             "('%s', 'seed-killed:4242:0123456789abcdef', 'seed-killed', 4242, 1, 'then', 4102444800, 300)", key);
    db_exec(db, sql);
    cr_assert_eq(run_plan(&st, &pl, db, 1), MB_OK, "%s", mb_last_error());
    cr_expect_eq(st.n_ok, 1);
    cr_expect_eq(st.n_skipped, 47);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM claims WHERE job = '%s' AND took_over LIKE 'seed-killed%%'", key);
    cr_expect_eq(db_count(db, sql), 1);
    free(key);
    hn_plan_release(&pl);
}

/* Forks a child that waits until the pipe 'gate' is closed, then runs
 * "$MB_BIN <args>" with stderr into errfile: several children released by
 * one close start at the same instant. */
static pid_t spawn_cli(const int gate[2], const char *args, const char *errfile)
{
    fflush(NULL);
    pid_t p = fork();
    cr_assert_neq(p, -1);
    if (!p) {
        char c;
        close(gate[1]);   /* else this child's own copy keeps the gate open */
        while (read(gate[0], &c, 1) > 0) {}
        close(gate[0]);
        const char *bin = getenv("MB_BIN");
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "exec %s %s >/dev/null 2>%s </dev/null", bin ? bin : "build/myobench", args,
                 errfile);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return p;
}

static int exit_code(pid_t p)
{
    int st;
    cr_assert_eq(waitpid(p, &st, 0), p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Two 'myobench run's started at the same instant on one new store (40
 * quick lda-td4 / knn-td4 jobs) share the work: both exit 0, every job is
 * claimed and run exactly once (the claims, and the runs' own counts of what
 * they ran, sum to 40), no lease is left, and the numbers and the report
 * equal those of a single run. Before job claiming, most jobs ran twice, and
 * one run sometimes failed at once with "database is locked". */
Test(harness_cli, two_runs_on_one_store_run_each_job_once, .timeout = 240)
{
    char dir[64], h5[128], db[128], single[128], args[512], e1[160], e2[160];
    tu_tmpdir(dir, sizeof dir);
    /* 10 repetitions: jobs of some milliseconds, so the two runs overlap */
    fixture(h5, sizeof h5, dir, "db1.h5", 10);
    snprintf(db, sizeof db, "%s/shared.db", dir);
    snprintf(single, sizeof single, "%s/single/r.db", dir);
    snprintf(e1, sizeof e1, "%s/e1", dir);
    snprintf(e2, sizeof e2, "%s/e2", dir);
    const char *plan = "--protocol loso --methods lda-td4,knn-td4 --seeds 1,2,3,4,5 -j 1 --progress lines";
    snprintf(args, sizeof args, "run --data %s %s --db %s", h5, plan, db);
    int gate[2];
    cr_assert_eq(pipe(gate), 0);
    pid_t p1 = spawn_cli(gate, args, e1), p2 = spawn_cli(gate, args, e2);
    close(gate[0]);
    close(gate[1]);   /* both start now */
    int c1 = exit_code(p1), c2 = exit_code(p2);
    size_t len;
    char *t1 = slurp(e1, &len), *t2 = slurp(e2, &len);
    cr_assert_eq(c1, 0, "%s", t1);
    cr_assert_eq(c2, 0, "%s", t2);
    cr_expect_eq(db_count(db, "SELECT COUNT(*) FROM jobs WHERE status = 'ok'"), 40);
    cr_expect_eq(db_count(db, "SELECT COUNT(*) FROM claims"), 40, "%s\n%s", t1, t2);
    cr_expect_eq(db_count(db, "SELECT COUNT(DISTINCT job) FROM claims"), 40);
    cr_expect_eq(db_count(db, "SELECT SUM(n_ok + n_na + n_failed) FROM runs"), 40, "%s\n%s", t1, t2);
    cr_expect_eq(db_count(db, "SELECT COUNT(*) FROM runs WHERE finished IS NOT NULL"), 2);
    cr_expect_eq(db_count(db, "SELECT COUNT(*) FROM leases"), 0);
    free(t1);
    free(t2);
    /* the same numbers as one run alone */
    char sdir[128];
    snprintf(sdir, sizeof sdir, "%s/single", dir);
    cr_assert_eq(mkdir(sdir, 0755), 0);
    char *err;
    snprintf(args, sizeof args, "run --data %s %s --db %s", h5, plan, single);
    cr_assert_eq(tu_run(NULL, &err, args), 0, "%s", err);
    free(err);
    const char *q = "SELECT group_concat(job || ' ' || subject || ' ' || accuracy || ' ' || balanced_accuracy || ' ' || "
                    "macro_f1, ';') FROM (SELECT * FROM subject_metrics ORDER BY job, subject)";
    char *m1 = db_text(db, q), *m2 = db_text(single, q);
    cr_expect_gt(strlen(m1), 0);
    cr_expect_str_eq(m1, m2);
    free(m1);
    free(m2);
    char *r1, *r2;
    snprintf(args, sizeof args, "report %s", db);
    cr_assert_eq(tu_run(&r1, &err, args), 0, "%s", err);
    free(err);
    snprintf(args, sizeof args, "report %s", single);
    cr_assert_eq(tu_run(&r2, &err, args), 0, "%s", err);
    free(err);
    cr_expect_str_eq(r1, r2);
    free(r1);
    free(r2);
    snprintf(args, sizeof args, "run --data %s %s --db %s --lease-expiry 0.5", h5, plan, db);
    cr_expect_eq(tu_run(NULL, &err, args), 2, "%s", err);
    cr_expect(strstr(err, "--lease-expiry needs at least 1 second (a finite number), got '0.5'"), "%s", err);
    free(err);
    /* an infinite lease would never be taken over, like a damaged one */
    snprintf(args, sizeof args, "run --data %s %s --db %s --lease-expiry inf", h5, plan, db);
    cr_expect_eq(tu_run(NULL, &err, args), 2, "%s", err);
    cr_expect(strstr(err, "got 'inf'"), "%s", err);
    free(err);
}

/* A run killed with SIGKILL while it holds a job: the next run finds the
 * lease of a process that no longer runs, takes the job over and runs it
 * (its second claim names the dead owner); every other job ran once. The
 * kill is made while the child is stopped with SIGSTOP, so the lease it
 * holds at that moment is known. */
Test(harness, a_killed_runs_claimed_job_is_taken_over, .timeout = 120)
{
    char dir[64], db[128], sql[256];
    tu_tmpdir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/r.db", dir);
    struct hn_plan pl;
    make_plan(&pl, dir, 40);
    struct hn_run_stats st;
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0)
        _exit(run_plan(&st, &pl, db, 1) ? 3 : 0);
    char *key = NULL;
    for (int i = 0; i < 50000 && !key; i++) {
        struct timespec ts = { 0, 2000000 };
        nanosleep(&ts, NULL);
        if (db_count(db, "SELECT COUNT(*) FROM jobs WHERE status = 'ok'") < 2)
            continue;
        kill(pid, SIGSTOP);
        snprintf(sql, sizeof sql, "SELECT job FROM leases WHERE pid = %lld", (long long)pid);
        char *k = db_text(db, sql);
        if (*k)
            key = k;
        else {   /* stopped between a commit and the next claim */
            free(k);
            kill(pid, SIGCONT);
        }
    }
    cr_assert_not_null(key, "the child never held a lease");
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    cr_assert_eq(run_plan(&st, &pl, db, 2), MB_OK, "resume: %s", mb_last_error());
    cr_expect_eq(db_count(db, "SELECT COUNT(*) FROM jobs WHERE status IN ('ok', 'na')"), 48);
    cr_expect_eq(db_count(db, "SELECT COUNT(*) FROM leases"), 0);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM claims WHERE job = '%s'", key);
    cr_expect_eq(db_count(db, sql), 2, "the killed run's job is claimed again");
    snprintf(sql, sizeof sql, "SELECT took_over FROM claims WHERE job = '%s' ORDER BY id DESC", key);
    char *t = db_text(db, sql);
    char want[64];
    snprintf(want, sizeof want, ":%lld:", (long long)pid);
    cr_expect(strstr(t, want) && strstr(t, "process not running"), "%s", t);
    free(t);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM claims WHERE job <> '%s' GROUP BY job HAVING COUNT(*) > 1", key);
    cr_expect_eq(db_count(db, sql), -1, "every other job is claimed once");
    cr_expect_eq(db_count(db, "SELECT COUNT(DISTINCT job) FROM claims"), 48);
    free(key);
    hn_plan_release(&pl);
}

/* A job whose lease is live (a running process of this host, a fresh
 * heartbeat) is left to its owner: the run does every other job, then waits
 * for it, and runs it only once the lease is gone. A lease of the same live
 * process whose heartbeat is older than the expiry is taken over at once. */
Test(harness, a_live_lease_is_waited_for_and_an_expired_one_taken_over, .timeout = 120)
{
    char dir[64], ref[128], db[128], db2[128], sql[256];
    tu_tmpdir(dir, sizeof dir);
    snprintf(ref, sizeof ref, "%s/ref.db", dir);
    snprintf(db, sizeof db, "%s/live.db", dir);
    snprintf(db2, sizeof db2, "%s/expired.db", dir);
    struct hn_plan pl;
    make_plan(&pl, dir, 0);
    struct hn_run_stats st;
    /* the job keys, from a run in a child (this process forks again below,
     * so it starts no OpenMP threads of its own before) */
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0)
        _exit(run_plan(&st, &pl, ref, 1) ? 3 : 0);
    cr_assert_eq(exit_code(pid), 0);
    char *key = db_text(ref, "SELECT key FROM jobs WHERE status = 'ok' ORDER BY key");
    cr_assert_eq(strlen(key), 64);
    for (int e = 0; e < 2; e++) {
        struct hn_store *s;
        cr_assert_eq(hn_store_open(&s, e ? db2 : db), MB_OK);
        hn_store_close(s);
        fake_lease(e ? db2 : db, key, NULL, (long long)getpid(), e ? 3600 : 0);
    }
    fflush(NULL);
    pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0)
        _exit(run_plan(&st, &pl, db, 2) ? 3 : 0);
    long done = 0;
    for (int i = 0; i < 50000 && done < 47; i++) {
        struct timespec ts = { 0, 2000000 };
        nanosleep(&ts, NULL);
        done = db_count(db, "SELECT COUNT(*) FROM jobs WHERE status IN ('ok', 'na')");
    }
    cr_assert_eq(done, 47, "every job but the leased one is done");
    cr_expect_eq(waitpid(pid, NULL, WNOHANG), 0, "the run waits for the leased job");
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM claims WHERE job = '%s'", key);
    cr_expect_eq(db_count(db, sql), 0, "a live lease was taken over");
    snprintf(sql, sizeof sql, "SELECT status FROM jobs WHERE key = '%s'", key);
    char *t = db_text(db, sql);
    cr_expect_str_eq(t, "pending");
    free(t);
    /* the other run lets the job go: this one runs it and ends */
    snprintf(sql, sizeof sql, "DELETE FROM leases WHERE job = '%s'", key);
    db_exec(db, sql);
    cr_assert_eq(exit_code(pid), 0);
    cr_expect_eq(db_count(db, "SELECT COUNT(*) FROM jobs WHERE status IN ('ok', 'na')"), 48);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM claims WHERE job = '%s' AND took_over IS NULL", key);
    cr_expect_eq(db_count(db, sql), 1);
    /* expired: taken over without waiting */
    cr_assert_eq(run_plan(&st, &pl, db2, 2), MB_OK, "%s", mb_last_error());
    cr_expect_eq(st.n_ok + st.n_na, 48);
    snprintf(sql, sizeof sql, "SELECT took_over FROM claims WHERE job = '%s'", key);
    t = db_text(db2, sql);
    cr_expect(strstr(t, "heartbeat expired"), "%s", t);
    free(t);
    free(key);
    hn_plan_release(&pl);
}

/* What a fold's jobs compute is released when the fold's last job ends
 * (core/shared.h scopes): the methods of a fold still share (knn-td4 reuses
 * lda-td4's features), and nothing is held for folds that are over, so a
 * LOSO run's memory does not grow with the budget of --cache-mb. */
static void released_counts(size_t *computed, size_t *reused, size_t *released, size_t *dropped, size_t *held,
                            const char *err)
{
    const char *l = strstr(err, "myobench: run: shared work: ");
    cr_assert_not_null(l, "%s", err);
    cr_assert_eq(sscanf(l, "myobench: run: shared work: %zu computed, %zu reused, %zu released after their last job, "
                           "%zu dropped for --cache-mb, %zu held to the end", computed, reused, released, dropped,
                        held), 5, "%s", l);
}

/* 4 subjects, one recording each: per LOSO fold, TD4's fit and the test
 * set's features are the fold's (released with it); each recording's raw
 * features serve every fold (held to the end, within the budget). */
Test(harness_cli, shared_work_of_a_fold_is_released_after_its_last_job, .timeout = 120)
{
    char dir[64], h5[128], cmd[1024], *err;
    tu_tmpdir(dir, sizeof dir);
    fixture(h5, sizeof h5, dir, "db1.h5", 4);
    size_t comp, reu, rel, drop, held;
    for (int j = 1; j <= 2; j++) {
        snprintf(cmd, sizeof cmd, "run --data %s --protocol loso --methods lda-td4,knn-td4 --db %s/r%d.db -j %d",
                 h5, dir, j, j);
        cr_assert_eq(tu_run(NULL, &err, cmd), 0, "%s", err);
        released_counts(&comp, &reu, &rel, &drop, &held, err);
        free(err);
        cr_expect(comp == 12 && rel == 8 && held == 4 && drop == 0,
                  "-j %d: %zu computed, %zu released, %zu held, %zu dropped; expected 12 = 4 folds x 2 released + 4 "
                  "recordings held", j, comp, rel, held, drop);
        cr_expect_gt(reu, 0, "-j %d: knn-td4 computed the features lda-td4 had", j);
    }
}

/* --corpus-mb reads each recording when a job needs it and keeps at most
 * N MB of recordings no job holds (corpus/corpus.h, lazy corpora): the
 * store holds the same numbers as a run on the corpus read whole. */
Test(harness_cli, a_lazy_corpus_stores_the_same_numbers, .timeout = 120)
{
    char dir[64], h5[128], cmd[1024], db[2][160], *err;
    tu_tmpdir(dir, sizeof dir);
    fixture(h5, sizeof h5, dir, "db1.h5", 4);
    const char *extra[2] = { "", "--corpus-mb 0" };
    for (int k = 0; k < 2; k++) {
        snprintf(db[k], sizeof db[k], "%s/r%d.db", dir, k);
        snprintf(cmd, sizeof cmd, "run --data %s --protocol loso --methods lda-td4,knn-td4,pose-ridge-td4 --db %s -j 2 %s",
                 h5, db[k], extra[k]);
        cr_assert_eq(tu_run(NULL, &err, cmd), 0, "%s", err);
        free(err);
    }
    const char *q = "select group_concat(r, ';') from (select j.method || ' ' || j.fold_id || ' ' || m.subject || ' ' || "
                    "m.n_test || ' ' || quote(m.accuracy) || ' ' || quote(m.balanced_accuracy) || ' ' || "
                    "quote(m.macro_f1) as r from subject_metrics m join jobs j on j.key = m.job order by 1)";
    char *a = db_text(db[0], q), *b = db_text(db[1], q);
    cr_assert(strlen(a) > 100, "%s", a);
    cr_expect_str_eq(a, b);
    free(a);
    free(b);
    snprintf(cmd, sizeof cmd, "run --data %s --protocol loso --methods lda-td4 --db %s/x.db --corpus-mb -1", h5, dir);
    cr_expect_eq(tu_run(NULL, &err, cmd), 2, "%s", err);
    free(err);
    /* a budget whose bytes overflow would wrap to a small one, or to the eager marker */
    snprintf(cmd, sizeof cmd, "run --data %s --protocol loso --methods lda-td4 --db %s/x.db --corpus-mb "
             "99999999999999999", h5, dir);
    cr_expect_eq(tu_run(NULL, &err, cmd), 2, "%s", err);
    cr_expect(strstr(err, "--corpus-mb"), "%s", err);
    free(err);
}

/* Encoder checkpoints outlive the process (<db>.cache/), and a store with
 * its cache may be copied to another machine. sgemm sums in the order of
 * the OpenBLAS kernel the CPU selects, so a checkpoint trained under one
 * kernel must not stand in for training under another: the key names the
 * kernel. Here the second run, under another kernel and with the first
 * run's checkpoints in its folder, must train (write) its own. */
Test(harness_cli, encoder_checkpoints_are_keyed_by_the_blas_kernel, .timeout = 240)
{
    char dir[64], h5[128], plan[160], cmd[1024], *err;
    tu_tmpdir(dir, sizeof dir);
    fixture(h5, sizeof h5, dir, "db1.h5", 4);
    snprintf(plan, sizeof plan, "%s/plan.yaml", dir);
    FILE *f = fopen(plan, "w");
    cr_assert_not_null(f);
    fprintf(f, "data: [%s]\nprotocols: [{ name: loso, folds: 2 }]\n"
               "methods: [{ name: emg-mae, params: \"mae_steps=2,batch=8,width=8,heads=2,layers=1,dec_width=8\" }]\n",
            h5);
    fclose(f);
    snprintf(cmd, sizeof cmd, "run %s --db %s/a.db -j 1", plan, dir);
    cr_assert_eq(tu_run(NULL, &err, cmd), 0, "%s", err);
    /* the summary says what was shared: one encoder per fold, computed */
    cr_expect(strstr(err, "myobench: run: shared work: 2 computed, 0 reused, 2 released after their last job, 0 dropped"), "%s", err);
    free(err);
    snprintf(cmd, sizeof cmd, "ls %s/a.db.cache/*/enc-*.h5 | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n1 = 0, n2 = 0;
    cr_assert_eq(fscanf(p, "%d", &n1), 1);
    pclose(p);
    cr_assert_gt(n1, 0, "the first run wrote no encoder checkpoint");
    /* the store's cache copied beside a new store, run under another kernel */
    snprintf(cmd, sizeof cmd, "cp -r %s/a.db.cache %s/b.db.cache", dir, dir);
    cr_assert_eq(system(cmd), 0);
    const char *core = openblas_get_corename();
    setenv("OPENBLAS_CORETYPE", core && !strcasecmp(core, "prescott") ? "Core2" : "Prescott", 1);
    snprintf(cmd, sizeof cmd, "run %s --db %s/b.db -j 1", plan, dir);
    cr_assert_eq(tu_run(NULL, &err, cmd), 0, "%s", err);
    free(err);
    unsetenv("OPENBLAS_CORETYPE");
    snprintf(cmd, sizeof cmd, "ls %s/b.db.cache/*/enc-*.h5 | wc -l", dir);
    p = popen(cmd, "r");
    cr_assert_eq(fscanf(p, "%d", &n2), 1);
    pclose(p);
    cr_expect_eq(n2, 2 * n1, "under another OpenBLAS kernel the run took the other kernel's %d checkpoints (%d files)",
                 n1, n2);
}

/* The plan's text (stored with each run) has one line per item whatever
 * its length: a 3000-byte data path used to be cut at 2048 bytes, its
 * newline with it, gluing the next line on. */
Test(harness, plan_text_keeps_long_lines_whole)
{
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/plan.yaml", dir);
    enum { LONG = 3000 };
    char *data = malloc(LONG + 16), *yaml = malloc(LONG + 256), *want = malloc(LONG + 128);
    char *d = data + sprintf(data, "/");
    for (int i = 0; i < LONG / 2; i++)
        d += sprintf(d, "a/");
    sprintf(d, "x.h5");
    sprintf(yaml, "data: [\"%s\"]\nprotocols: [fake-loso]\nmethods: [fake-centroid]\n", data);
    sprintf(want, "data %s\nprotocol fake-loso fake-loso folds=0\n", data);
    write_text(path, yaml);
    struct hn_plan pl;
    cr_assert_eq(hn_plan_load(&pl, path, &t_reg), MB_OK, "%s", mb_last_error());
    cr_expect_not_null(strstr(pl.text, want), "%.200s ...", pl.text);
    hn_plan_release(&pl);
    free(data);
    free(yaml);
    free(want);
}
