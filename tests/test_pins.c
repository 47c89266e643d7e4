/* tests/test_pins.c - the numbers of this build pinned to those of the build
 * before the restructuring of issue 13 (tag pre-arch): on the real NinaPro DB1
 * sample, every split manifest that `myobench run` writes for every protocol of
 * the registry, and the metrics rows of the report. Issue 13's acceptance: the
 * manifests and the reports are byte-identical before and after (the demo's
 * reports are pinned in tests/test_demo.c).
 *
 * The test drives the command line only (convert, run, report), so the pinned
 * values were computed by the same test run against the pre-arch binary:
 *   MB_PIN_PRINT=1 MB_BIN=<pre-arch build>/myobench build/tests/run_unit --filter 'pins/real_db1*'
 * prints the table for whatever binary MB_BIN names. A change meant to change a
 * split or a number re-pins with the current binary and says so.
 *
 * Cost: lda-td4 (and pose-ridge-td4 where a protocol needs zero-shot) at 200 ms
 * windows every 200 ms, two few-shot episodes: a few seconds. Both are decided
 * by their predictions (accuracy, balanced accuracy, macro-F1), which do not
 * change with the OpenBLAS kernel's last bits. The probe is pinned by its
 * manifests only: its logistic regression with C chosen by grouped CV takes
 * minutes per fold on this sample (no pose-ridge-td4 probe: it lacks embed). No
 * method has the adapt capability yet, so adapt's jobs are n/a, pinned with
 * their reason. */
#include <dirent.h>
#include <jansson.h>
#include <limits.h>

#include "core/fs.h"
#include "protocols/protocol.h"
#include "pin_util.h"
#include "testutil.h"

/* SHA-256 of the unified file `convert ninapro` writes from the sample: every
 * manifest names it, so a converter change shows here first, by name. */
#define DB1_SHA "606873ebdf9eb6902f5ab3b0acc9717899e8c853ed98d7a3e6479afd526b9683"

/* Classifiers on every protocol that classifies; pose-ridge-td4 for the
 * protocols that need zero-shot or embed (n/a for the probes: the manifests
 * are written all the same). loso-k2 is the grouped k-fold (stream 1). */
static const char PLAN_CLASSIFY[] =
    "data: [%s]\n"
    "view: { window_ms: 200, stride_ms: 200 }\n"
    "protocols:\n"
    "  - within\n"
    "  - loso\n"
    "  - { name: loso, label: loso-k2, folds: 2 }\n"
    "  - zeroshot-users\n"
    "  - { name: fewshot, shots: [1, 5, 10], percents: [5, 20, 40, 80], episodes: 2 }\n"
    "  - adapt\n"
    "methods: [lda-td4]\n";
static const char PLAN_ZERO_SHOT[] =
    "data: [%s]\n"
    "view: { window_ms: 200, stride_ms: 200 }\n"
    "protocols: [zeroshot-gestures, zeroshot-seen, probe, probe-unseen]\n"
    "methods: [pose-ridge-td4]\n";

/* Per fold-id prefix: folds, and the digest of their sorted lines
 * "<fold id> <manifest SHA-256>" (tests/pin_util.h). */
struct group_pin {
    const char *group;
    size_t n;
    const char *digest;
};
static const struct group_pin MANIFEST_PINS[] = {
#include "tests/golden/db1_manifest_pins.h"
};
#define N_GROUPS (sizeof MANIFEST_PINS / sizeof MANIFEST_PINS[0])

/* SHA-256 of the report's all.csv: every per-subject metric of every
 * (protocol variant, method), round-trip precision, with n/a reasons.
 * Re-pinned when zeroshot-seen joined the plan (2026-12-08): its 24 rows were
 * added and, without them, the file hashed to the pre-arch pin f3696105. */
static const char REPORT_CSV_PIN[] = "20e361847d7a9dae81b4671a1253d265d9cf28c24151baccc2b26a739168c8d0";

static void write_plan(const char *path, const char *fmt, const char *data)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "'%s'", path);
    fprintf(f, fmt, data);
    cr_assert_eq(fclose(f), 0);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* One manifest file: its name must be its hash. Writes its fold id, hash and
 * protocol into the caller's buffers. */
static void read_manifest(char fold[256], char hex[65], char proto[64], const char *mdir, const char *name)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", mdir, name);
    size_t n;
    char *text = pu_slurp(p, &n);
    mb_sha256_hex(hex, text, n);
    cr_assert(strlen(name) == 69 && !strncmp(name, hex, 64) && !strcmp(name + 64, ".json"),
              "manifest '%s' hashes to %s", p, hex);
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    cr_assert_not_null(o, "'%s': %s", p, je.text);
    const char *f = json_string_value(json_object_get(o, "fold"));
    const char *pr = json_string_value(json_object_get(o, "protocol"));
    cr_assert(f && pr && strlen(f) < 256 && strlen(pr) < 64, "'%s': no fold or protocol", p);
    strcpy(fold, f);
    strcpy(proto, pr);
    json_decref(o);
    free(text);
}

/* cr_expect that also counts, so the files stay for a look after a failure */
#define PIN_EXPECT(cond, ...)          \
    do {                               \
        int ok_ = !!(cond);            \
        bad += !ok_;                   \
        cr_expect(ok_, __VA_ARGS__);   \
    } while (0)

Test(pins, real_db1_manifests_and_metrics_of_every_protocol_match_pre_arch, .timeout = 600)
{
    TU_NEED_REAL("ninapro_db1/s1/S1_A1_E1.mat");
    int print = getenv("MB_PIN_PRINT") != NULL, bad = 0;
    char dir[64], db1[128], plan[160], args[8192], sha[65];
    tu_tmpdir(dir, sizeof dir);
    snprintf(db1, sizeof db1, "%s/db1.h5", dir);
    char *err = NULL;
    snprintf(args, sizeof args, "convert ninapro '%s' -o '%s' --no-progress", tu_real("ninapro_db1"), db1);
    cr_assert_eq(tu_run(NULL, &err, args), 0, "%s", err);
    free(err);
    cr_assert_eq(mb_fs_sha256(sha, NULL, db1), MB_OK, "%s", mb_last_error());
    cr_assert_str_eq(sha, DB1_SHA, "the converted DB1 sample changed; every manifest below names its hash");

    const char *plans[] = { PLAN_CLASSIFY, PLAN_ZERO_SHOT };
    for (size_t k = 0; k < 2; k++) {
        snprintf(plan, sizeof plan, "%s/plan%zu.yaml", dir, k);
        write_plan(plan, plans[k], db1);
        snprintf(args, sizeof args, "run '%s' --db '%s/r.db' -j 2 --progress none", plan, dir);
        cr_assert_eq(tu_run(NULL, &err, args), 0, "%s: %s", plan, err);
        free(err);
    }

    /* manifests, grouped by the fold id's first part (the protocol variant) */
    char mdir[128];
    snprintf(mdir, sizeof mdir, "%s/manifests", dir);
    struct pu_lines lines[N_GROUPS + 16] = { 0 };
    char groups[N_GROUPS + 16][64], protos[64][64];
    size_t n_groups = 0, n_protos = 0, n_files = 0;
    DIR *d = opendir(mdir);
    cr_assert_not_null(d, "no '%s'", mdir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char fold[256], hex[65], proto[64];
        read_manifest(fold, hex, proto, mdir, e->d_name);
        size_t g = strcspn(fold, "/"), i = 0;
        cr_assert_lt(g, (size_t)64, "fold id '%s'", fold);
        while (i < n_groups && (strlen(groups[i]) != g || strncmp(groups[i], fold, g)))
            i++;
        cr_assert_lt(i, sizeof groups / sizeof *groups, "too many fold groups");
        if (i == n_groups) {
            memcpy(groups[i], fold, g);
            groups[n_groups++][g] = '\0';
        }
        pu_add(&lines[i], fold, hex);
        size_t j = 0;
        while (j < n_protos && strcmp(protos[j], proto))
            j++;
        cr_assert_lt(j, sizeof protos / sizeof *protos);
        if (j == n_protos)
            strcpy(protos[n_protos++], proto);
        n_files++;
    }
    closedir(d);
    cr_log_info("%zu manifests in %zu fold groups, %zu protocols", n_files, n_groups, n_protos);

    /* every registered protocol wrote manifests here, so a new one must join the plans */
    for (const struct mb_protocol *const *p = mb_protocols; *p; p++) {
        size_t j = 0;
        while (j < n_protos && strcmp(protos[j], (*p)->name))
            j++;
        PIN_EXPECT(j < n_protos, "protocol '%s' wrote no manifest: add it to this test's plans and pin it",
                     (*p)->name);
    }

    if (print)
        fprintf(stderr, "/* MB_BIN=%s */\n", getenv("MB_BIN") ? getenv("MB_BIN") : "build/myobench");
    size_t order[N_GROUPS + 16];   /* groups by name: a printed table to paste */
    for (size_t i = 0; i < n_groups; i++) {
        size_t j = i;
        for (; j > 0 && strcmp(groups[order[j - 1]], groups[i]) > 0; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    for (size_t o = 0; o < n_groups; o++) {
        size_t i = order[o];
        char dg[65], *text;
        pu_digest(dg, &text, &lines[i]);
        if (print)
            fprintf(stderr, "{ \"%s\", %zu, \"%s\" },\n", groups[i], lines[i].n, dg);
        size_t k = 0;
        while (k < N_GROUPS && strcmp(MANIFEST_PINS[k].group, groups[i]))
            k++;
        if (k == N_GROUPS) {
            PIN_EXPECT(print, "fold group '%s' is not pinned:\n%s", groups[i], text);
        } else {
            PIN_EXPECT(lines[i].n == MANIFEST_PINS[k].n, "'%s': %zu folds, pinned %zu:\n%s", groups[i],
                         lines[i].n, MANIFEST_PINS[k].n, text);
            PIN_EXPECT(!strcmp(dg, MANIFEST_PINS[k].digest), "'%s': manifests differ from the pinned ones (%s):\n%s",
                             groups[i], mdir, text);
        }
        free(text);
        pu_release(&lines[i]);
    }
    for (size_t k = 0; k < N_GROUPS; k++) {
        size_t i = 0;
        while (i < n_groups && strcmp(groups[i], MANIFEST_PINS[k].group))
            i++;
        PIN_EXPECT(i < n_groups, "pinned fold group '%s' wrote no manifest", MANIFEST_PINS[k].group);
    }

    /* the metrics rows, as the report writes them */
    snprintf(args, sizeof args, "report '%s/r.db' --format csv --out '%s/report'", dir, dir);
    cr_assert_eq(tu_run(NULL, &err, args), 0, "%s", err);
    free(err);
    char csv[160];
    snprintf(csv, sizeof csv, "%s/report/all.csv", dir);
    cr_assert_eq(mb_fs_sha256(sha, NULL, csv), MB_OK, "%s", mb_last_error());
    if (print)
        fprintf(stderr, "all.csv %s\n", sha);
    PIN_EXPECT(!strcmp(sha, REPORT_CSV_PIN), "the metrics rows '%s' differ from the pinned ones", csv);

    if (!print && !bad)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
