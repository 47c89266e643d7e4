/* tests/testutil.h - small helpers shared by the Criterion suites. */
#ifndef MB_TESTS_TESTUTIL_H
#define MB_TESTS_TESTUTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Directory of the real recordings (../shared/data/real); the Makefile
 * exports MB_REAL_DATA. Returns a path into a static buffer. */
static inline const char *tu_real(const char *rel)
{
    static _Thread_local char buf[4096], abs_root[2048];
    const char *root = getenv("MB_REAL_DATA");
    /* Absolute, because tests link and copy these files into temporary folders. */
    if (!root)
        root = realpath("../shared/data/real", abs_root) ? abs_root : "../shared/data/real";
    snprintf(buf, sizeof buf, "%s/%s", root, rel);
    return buf;
}

/* Skips the current test when the real data are not beside the repository. */
#define TU_NEED_REAL(rel) \
    do { if (access(tu_real(rel), R_OK) != 0) cr_skip_test("real data '%s' not found", tu_real(rel)); } while (0)

/* Fresh temporary directory (mkdtemp) under $MB_TEST_TMP, else /tmp; the path
 * is written into 'dir'. `make test` points MB_TEST_TMP at one short folder
 * (/tmp/mbt.XXXXXX: test buffers are sized for short paths) and removes it
 * when every test passed (kept for a look when one failed), so repeated runs
 * do not fill /tmp with corpora. */
static inline void tu_tmpdir(char *dir, size_t cap)
{
    const char *root = getenv("MB_TEST_TMP");
    if (root && *root)
        snprintf(dir, cap, "%s/XXXXXX", root);
    else
        snprintf(dir, cap, "/tmp/mbtest-XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp in '%s' failed", root && *root ? root : "/tmp");
}

/* Runs "$MB_BIN <args>" through the shell, with stdout and stderr captured
 * into 'out' and 'err' (each malloc'ed, caller frees; may be NULL to drop).
 * Returns the exit status, or -1 if the command could not run. */
static inline int tu_run(char **out, char **err, const char *args)
{
    char dir[4096];
    tu_tmpdir(dir, sizeof dir);
    const char *bin = getenv("MB_BIN");
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "%s %s >%s/o 2>%s/e </dev/null", bin ? bin : "build/myobench", args, dir, dir);
    int st = system(cmd);
    int code = (st == -1 || !WIFEXITED(st)) ? -1 : WEXITSTATUS(st);
    const char *names[2] = { "o", "e" };
    char **dst[2] = { out, err };
    for (int i = 0; i < 2; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        if (dst[i]) {
            FILE *f = fopen(p, "rb");
            fseek(f, 0, SEEK_END);
            long n = ftell(f);
            fseek(f, 0, SEEK_SET);
            *dst[i] = malloc((size_t)n + 1);
            size_t got = fread(*dst[i], 1, (size_t)n, f);
            (*dst[i])[got] = '\0';
            fclose(f);
        }
        remove(p);
    }
    rmdir(dir);
    return code;
}

#endif
