/* tests/test_layout.c - the folder layout is the architecture: no folder
 * includes or links a symbol of a folder above it (scripts/layers.sh has the
 * order and prints the graph). */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/testutil.h"

Test(layout, no_folder_uses_a_folder_above_it, .timeout = 120)
{
    /* the objects beside the binary the tests run: build/ or build-asan/ */
    const char *bin = getenv("MB_BIN");
    char dir[4096] = "build", path[4096];
    if (bin) {
        /* dirname() writes into its argument: copy MB_BIN first, and never
         * snprintf a buffer into itself (that emptied dir) */
        snprintf(path, sizeof path, "%s", bin);
        snprintf(dir, sizeof dir, "%s", dirname(path));
    }
    char cmd[4200], out[8192] = "";
    snprintf(cmd, sizeof cmd, "scripts/layers.sh '%s' 2>&1", dir);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    cr_assert_eq(st, 0, "%s", out);
    cr_assert(strstr(out, "folder graph (symbols, nm):"), "the symbol graph was not checked: %s", out);
    cr_assert(strstr(out, "harness -> protocols"), "%s", out);
}

/* Criterion exits 1 when a test logs a warning, even if every test passed, so
 * a cr_log_warn on a path that depends on the machine (an OpenBLAS kernel
 * without pinned numbers) turns make test red on another CPU while this one
 * stays green. Such notes are cr_log_info; the only warning left is the
 * deliberate rewrite of a golden file (MB_REGOLDEN=1, tests/test_reports.c). */
Test(layout, no_test_warns_on_a_machine_dependent_path)
{
    FILE *p = popen("grep -n 'cr_log_warn' tests/*.c | grep -v '^tests/test_reports.c:' | grep -v '^tests/test_layout.c:'", "r");
    cr_assert_not_null(p);
    char out[4096] = "";
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    cr_expect_str_empty(out, "cr_log_warn makes Criterion exit 1 although the tests pass:\n%s", out);
}
