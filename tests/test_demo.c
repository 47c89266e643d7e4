/* tests/test_demo.c - `scripts/demo.sh --quick --model v1` (what `make
 * demo QUICK=1 MODEL=v1` runs) end to end in a temporary folder: synthesis,
 * conversion, the benchmark plans into one results store, the report files,
 * and the Markdown tables on stdout; the last line names the output folder.
 * The report files are pinned: the classical blocks to the bytes the build
 * before issue 13's restructuring wrote (tag pre-arch), the whole report to
 * this build's (below). The run uses generator model v1, the default of the
 * pre-arch build; everything after synthesis is the same code
 * for either model (model v2's corpora go through convert and run in
 * synth/v2_cli_corpus_converts_and_bad_model_is_a_usage_error). */
#include <cblas.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>

#include "core/fs.h"
#include "pin_util.h"
#include "testutil.h"

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* demo-out/REL under dir into buf [cap], NUL-terminated. */
static void read_report(char *buf, size_t cap, const char *dir, const char *rel)
{
    char p[256];
    snprintf(p, sizeof p, "%s/demo-out/%s", dir, rel);
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f, "no '%s'", p);
    size_t m = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[m] = 0;
}

/* ---- the report pinned to the pre-arch build (issue 13) ------------------------ */

/* Digests (tests/pin_util.h) of the quick demo's report folder: every file but
 * info.txt byte for byte, and info.txt without the lines that name the build
 * and the machine (myobench report, software version, machine, threads per run)
 * or the method parameters and protocol settings as text: since issue 13 these
 * print every typed value canonically (cpep's "mae_steps=20,align_steps=20"
 * reads "mae_steps=20,align_steps=20,batch=64,...", loso's
 * "folds=0,official=0,shots=0,..." reads "folds=0,official=0"), a change of
 * text, not of number; the job keys hold the same text. Computed with the
 * pre-arch binary (library source ed914a06ebdc3bf1) running this branch's
 * scripts/demo.sh (the arch build refuses align_steps for methods other than
 * cpep, so the quick demo passes it to cpep only; the other neural methods
 * never read it):
 *   MB_PIN_PRINT=1 MB_BIN=<pre-arch>/myobench build/tests/run_unit --filter 'demo/quick*'
 * and the arch build (1f08247d9b4fd530) gives the same bytes. The neural
 * methods' probabilities differ in their last bits between OpenBLAS kernels
 * (docs/METHODS.md), but the report holds metrics of predictions, and these
 * were the same under every kernel the pins were checked with (KERNELS_SEEN).
 * Under another kernel only the blocks of classical methods (CLASSICAL_BLOCKS,
 * decided by predictions of double-precision fits) are compared. */
/* Re-pinned on 2026-12-08 when qformer and embridge joined the representation
 * plan (their rows and n/a cells join every table; same digest under Haswell,
 * SkylakeX, Prescott and Cooperlake); the classical pin below is still the
 * pre-arch build's, unchanged by it. */
static const char DEMO_REPORT_PIN[] = "f5e5b3184520b3411f1b6b76c960a4316f7e562f453c4eb6109fd036e6d8ecba";
static const char DEMO_CLASSICAL_PIN[] = "7f2d6d2e3cfd3f803464879f0768339e1f36c5dea8721ba4591d9317926cd512";
static const char *const KERNELS_SEEN[] = { "Haswell", "SkylakeX", "Prescott", "Cooperlake" };
static const char *const CLASSICAL_BLOCKS[] = { "/loso/", "/within/", "/fewshot-k1/" };

static char pin_root[PATH_MAX];
static struct pu_lines pin_all, pin_classical;

/* info.txt's lines but those naming the build, the machine, the parameter and
 * settings texts (see above), into one buffer; *n its length. */
static char *info_pinned_text(const char *path, size_t *n)
{
    static const char *const drop[] = { "myobench report ", "software version ", "machine ", "threads per run ",
                                        "method ", "protocol " };
    char *text = pu_slurp(path, NULL), *out = malloc(strlen(text) + 1);
    cr_assert_not_null(out);
    size_t len = 0;
    for (char *line = text; *line;) {
        char *end = strchr(line, '\n');
        size_t l = end ? (size_t)(end - line) + 1 : strlen(line);
        int keep = 1;
        for (size_t k = 0; k < sizeof drop / sizeof *drop; k++)
            keep &= strncmp(line, drop[k], strlen(drop[k])) != 0;
        if (keep) {
            memcpy(out + len, line, l);
            len += l;
        }
        line += l;
    }
    free(text);
    *n = len;
    return out;
}

static int pin_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag != FTW_F)
        return 0;
    const char *rel = path + strlen(pin_root) + 1;
    char hex[65];
    if (!strcmp(rel, "info.txt")) {
        size_t n;
        char *t = info_pinned_text(path, &n);
        mb_sha256_hex(hex, t, n);
        free(t);
    } else {
        cr_assert_eq(mb_fs_sha256(hex, NULL, path), MB_OK, "%s", mb_last_error());
    }
    pu_add(&pin_all, rel, hex);
    for (size_t k = 0; k < sizeof CLASSICAL_BLOCKS / sizeof *CLASSICAL_BLOCKS; k++)
        if (strstr(path + strlen(pin_root), CLASSICAL_BLOCKS[k])) {
            pu_add(&pin_classical, rel, hex);
            break;
        }
    return 0;
}

/* 1 when the report matched its pins */
static int check_report_pins(const char *dir)
{
    snprintf(pin_root, sizeof pin_root, "%s/demo-out/report", dir);
    cr_assert_eq(nftw(pin_root, pin_entry, 16, FTW_PHYS), 0, "cannot walk '%s'", pin_root);
    char all[65], classical[65], *all_text, *classical_text;
    pu_digest(all, &all_text, &pin_all);
    pu_digest(classical, &classical_text, &pin_classical);
    const char *core = openblas_get_corename();
    int seen = 0;
    for (size_t k = 0; k < sizeof KERNELS_SEEN / sizeof *KERNELS_SEEN; k++)
        seen |= core && !strcmp(core, KERNELS_SEEN[k]);
    if (getenv("MB_PIN_PRINT"))
        fprintf(stderr, "kernel %s\nall %s (%zu files)\nclassical %s (%zu files)\n%s", core ? core : "?", all,
                pin_all.n, classical, pin_classical.n, all_text);
    cr_expect_str_eq(classical, DEMO_CLASSICAL_PIN, "the classical blocks of '%s' differ from the pinned ones:\n%s",
                     pin_root, classical_text);
    int ok = !strcmp(classical, DEMO_CLASSICAL_PIN) && (!seen || !strcmp(all, DEMO_REPORT_PIN));
    if (seen)
        cr_expect_str_eq(all, DEMO_REPORT_PIN, "the report '%s' differs from the pinned one:\n%s", pin_root,
                         all_text);
    else
        cr_log_info("OpenBLAS kernel %s: the pins were checked under other kernels; only the classical blocks "
                    "are compared", core ? core : "?");
    free(all_text);
    free(classical_text);
    pu_release(&pin_all);
    pu_release(&pin_classical);
    return ok;
}

Test(demo, quick_demo_runs_the_protocols_and_prints_the_tables, .timeout = 600)
{
    char script[PATH_MAX], bin[PATH_MAX], dir[64], cmd[3 * PATH_MAX], p[256];
    cr_assert_not_null(realpath("scripts/demo.sh", script), "run the tests from the repository root");
    const char *b = getenv("MB_BIN");
    cr_assert_not_null(realpath(b ? b : "build/myobench", bin));
    tu_tmpdir(dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "cd %s && OMP_NUM_THREADS=2 %s %s --quick --model v1 >out.txt 2>err.txt", dir, script, bin);
    int st = system(cmd);
    snprintf(p, sizeof p, "%s/err.txt", dir);
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "demo failed; see '%s'", p);
    snprintf(p, sizeof p, "%s/out.txt", dir);
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f);
    static char out[1 << 20];
    size_t n = fread(out, 1, sizeof out - 1, f);
    fclose(f);
    out[n] = 0;
    /* Markdown tables of every protocol, baselines as rows */
    static const char *const want[] = { "## ninapro-db1 / within", "## emg2pose / loso", "## ninapro-db1 / fewshot-k1",
                                        "## emg2pose / within", "## emg2pose / fewshot-k1",
                                        "## emg2pose / zeroshot-gestures", "## emg2pose / probe",
                                        "## ninapro-db1 / zeroshot-gestures", "| cpep |",
                                        "| emg-mae |", "| emg2pose-tds |", "| pose-upper-bound (oracle) |",
                                        "| lda-td4 |", "| pose-ridge-td4 |", "| Method |" };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        cr_assert_not_null(strstr(out, want[i]), "'%s' not in the demo's output", want[i]);
    cr_assert_null(strstr(out, "svm"), "the demo runs no SVM");
    /* the last line names the folder, and the report is in it */
    cr_assert(n > 0 && out[n - 1] == '\n');
    out[n - 1] = 0;
    const char *last = strrchr(out, '\n');
    cr_assert_str_eq(last ? last + 1 : out, "demo: all outputs are in demo-out/");
    static const char *const files[] = { "results.db", "report/info.txt", "report/all.tex",
                                         "report/emg2pose/loso/table.md", "report/emg2pose/loso/cd-bacc.svg",
                                         "report/protocols/loso/table.md", "report/protocols/loso/cd-bacc.svg" };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s/demo-out/%s", dir, files[i]);
        cr_assert(mb_fs_is_file(p), "no '%s'", p);
    }
    /* a block's table lists the methods its plan paired with it, no others */
    static const struct { const char *file, *absent; } only[] = {
        { "report/emg2pose/probe/table.md", "qda-td4" },
        { "report/emg2pose/loso/table.md", "cpep" },
        { "report/protocols/loso/table.md", "emg-mae" },
    };
    static char tb[1 << 16];
    for (size_t i = 0; i < sizeof only / sizeof *only; i++) {
        read_report(tb, sizeof tb, dir, only[i].file);
        cr_expect_null(strstr(tb, only[i].absent), "'%s' lists %s", only[i].file, only[i].absent);
    }
    /* the neural methods run on NinaPro's glove too: cpep names DB1's unseen gestures */
    const char *zt = "report/ninapro-db1/zeroshot-gestures/table.md";
    read_report(tb, sizeof tb, dir, zt);
    cr_expect_not_null(strstr(tb, "| cpep | "), "'%s' has no cpep row", zt);
    cr_expect_null(strstr(tb, "| cpep | n/a"), "cpep is n/a on DB1's glove");
    cr_expect_not_null(strstr(tb, "| pose-upper-bound (oracle) | "), "'%s' has no oracle row", zt);
    /* ~100 MB of corpora: removed when the test passed (kept on failure) */
    if (check_report_pins(dir))
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
