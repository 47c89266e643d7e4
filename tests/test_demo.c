/* tests/test_demo.c - `scripts/demo.sh --quick` (what `make demo QUICK=1`
 * runs) end to end in a temporary folder: synthesis, conversion, the
 * benchmark plans into one results store, the report files, and the
 * Markdown tables on stdout; the last line names the output folder. */
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>

#include "core/fs.h"
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

Test(demo, quick_demo_runs_the_protocols_and_prints_the_tables, .timeout = 600)
{
    char script[PATH_MAX], bin[PATH_MAX], dir[64], cmd[3 * PATH_MAX], p[256];
    cr_assert_not_null(realpath("scripts/demo.sh", script), "run the tests from the repository root");
    const char *b = getenv("MB_BIN");
    cr_assert_not_null(realpath(b ? b : "build/myobench", bin));
    tu_tmpdir(dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "cd %s && OMP_NUM_THREADS=2 %s %s --quick >out.txt 2>err.txt", dir, script, bin);
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
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
