/* tests/test_core.c - core/: errors, the random generator, file helpers. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "core/fs.h"
#include "core/params.h"
#include "core/progress.h"
#include "core/rng.h"
#include "core/shared.h"
#include "tests/testutil.h"

Test(err, error_returns_code_and_keeps_message)
{
    mb_log_set_level(MB_LOG_QUIET);
    int rc = mb_error(MB_EFORMAT, "'%s' line %d: bad", "x.csv", 7);
    cr_assert_eq(rc, MB_EFORMAT);
    cr_assert_str_eq(mb_last_error(), "'x.csv' line 7: bad");
    cr_assert_str_neq(mb_strerror(MB_EH5), "unknown error");
}

Test(rng, same_seed_same_stream_same_numbers)
{
    struct mb_rng a, b, c;
    mb_rng_seed(&a, 42, 0);
    mb_rng_seed(&b, 42, 0);
    mb_rng_seed(&c, 42, 1);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = mb_rng_u64(&a);
        cr_assert_eq(x, mb_rng_u64(&b));
        differ += x != mb_rng_u64(&c);
    }
    cr_assert_gt(differ, 95, "streams 0 and 1 of one seed must differ");
}

Test(rng, uniform_and_normal_have_the_right_moments)
{
    struct mb_rng r;
    mb_rng_seed(&r, 7, 0);
    double su = 0, sn = 0, sn2 = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = mb_rng_uniform(&r);
        cr_assert(u >= 0 && u < 1);
        su += u;
        double z = mb_rng_normal(&r);
        sn += z;
        sn2 += z * z;
    }
    cr_assert_float_eq(su / n, 0.5, 0.01);
    cr_assert_float_eq(sn / n, 0.0, 0.01);
    cr_assert_float_eq(sn2 / n, 1.0, 0.02);
}

Test(rng, below_stays_in_range_and_shuffle_is_a_permutation)
{
    struct mb_rng r;
    mb_rng_seed(&r, 1, 0);
    int a[50], seen[50] = {0};
    for (int i = 0; i < 50; i++)
        a[i] = i;
    mb_rng_shuffle_int(&r, a, 50);
    for (int i = 0; i < 50; i++)
        seen[a[i]]++;
    for (int i = 0; i < 50; i++)
        cr_assert_eq(seen[i], 1);
    for (int i = 0; i < 1000; i++)
        cr_assert_lt(mb_rng_below(&r, 3), 3);
}

Test(fs, sha256_of_known_text)
{
    char hex[65];
    mb_sha256_hex(hex, "abc", 3);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(fs, tmpname_is_hidden_in_the_same_directory)
{
    char tmp[256];
    cr_assert_eq(mb_fs_tmpname(tmp, sizeof tmp, "out/dir/corpus.h5"), MB_OK);
    char want[256];
    snprintf(want, sizeof want, "out/dir/.corpus.h5.part-%ld", (long)getpid());
    cr_assert_str_eq(tmp, want);
}

/* Was: ".<base>.part-<pid>" whatever the base's length, so a 250-byte
 * output name gave a temporary name over NAME_MAX that could not be
 * created. */
Test(fs, tmpname_of_a_long_name_fits_name_max_and_stays_recognisable)
{
    char path[600], tmp[700], tmp2[700], want[80];
    char base[256];
    memset(base, 'a', 255);
    base[255] = '\0';
    snprintf(path, sizeof path, "out/%s", base);
    cr_assert_eq(mb_fs_tmpname(tmp, sizeof tmp, path), MB_OK);
    const char *name = strrchr(tmp, '/') + 1;
    cr_assert(strlen(name) <= NAME_MAX, "%zu bytes", strlen(name));
    cr_assert(!strncmp(tmp, "out/.aaaa", 9), "hidden, in the same folder: %s", tmp);
    snprintf(want, sizeof want, ".part-%ld", (long)getpid());
    cr_assert_str_eq(name + strlen(name) - strlen(want), want, "ends in the PID: %s", name);
    cr_assert(strchr(name, '~'), "a hash of the full name tells long names apart: %s", name);
    /* Same name, same temporary name; another long name, another one. */
    cr_assert_eq(mb_fs_tmpname(tmp2, sizeof tmp2, path), MB_OK);
    cr_assert_str_eq(tmp, tmp2);
    path[strlen(path) - 1] = 'b';
    cr_assert_eq(mb_fs_tmpname(tmp2, sizeof tmp2, path), MB_OK);
    cr_assert_str_neq(tmp, tmp2);
    /* A cut never splits a UTF-8 character: 100 two-byte 'e-acute'. */
    char utf[256] = "";
    for (int i = 0; i < 100; i++)
        strcat(utf, "\xc3\xa9");
    strcat(utf, ".h5");
    cr_assert_eq(mb_fs_tmpname(tmp, sizeof tmp, utf), MB_OK);
    const char *tilde = strchr(tmp, '~');
    cr_assert(tilde && (unsigned char)tilde[-1] == 0xa9, "cut after a whole character: %s", tmp);
    /* Names up to 200 bytes keep the plain form. */
    memset(base, 'c', 200);
    base[200] = '\0';
    cr_assert_eq(mb_fs_tmpname(tmp, sizeof tmp, base), MB_OK);
    snprintf(want, sizeof want, ".part-%ld", (long)getpid());
    cr_assert_eq(strlen(tmp), 1 + 200 + strlen(want));
}

Test(fs, check_output_refuses_folders_missing_folders_and_long_names)
{
    char dir[256], p[700];
    tu_tmpdir(dir, sizeof dir);
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(mb_fs_check_output(dir), MB_EIO);
    cr_assert(strstr(mb_last_error(), "it is a folder"), "%s", mb_last_error());
    snprintf(p, sizeof p, "%s/none/x.h5", dir);
    cr_assert_eq(mb_fs_check_output(p), MB_EIO);
    cr_assert(strstr(mb_last_error(), "No such file or directory"), "%s", mb_last_error());
    char base[300];
    memset(base, 'x', 256);
    base[256] = '\0';
    snprintf(p, sizeof p, "%s/%s", dir, base);
    cr_assert_eq(mb_fs_check_output(p), MB_EIO);
    cr_assert(strstr(mb_last_error(), "File name too long"), "%s", mb_last_error());
    snprintf(p, sizeof p, "%s/x.h5", dir);
    cr_assert_eq(mb_fs_check_output(p), MB_OK, "%s", mb_last_error());
    cr_assert_eq(mb_fs_check_output("relative-name.h5"), MB_OK, "a bare name is in '.'");
}

/* A PID that is certainly not running: a child that has been reaped. */
static long dead_pid(void)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0)
        _exit(0);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return (long)pid;
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fclose(f);
}

Test(fs, stale_temporary_files_of_dead_processes_are_removed_and_others_kept)
{
    char dir[256], out[300], dead[400], live[400], mine[400], other[400], tmp[400];
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/x.h5", dir);
    snprintf(dead, sizeof dead, "%s/.x.h5.part-%ld", dir, dead_pid());
    snprintf(live, sizeof live, "%s/.x.h5.part-1", dir);             /* init: always alive */
    snprintf(other, sizeof other, "%s/.y.h5.part-%ld", dir, dead_pid());   /* another output's */
    cr_assert_eq(mb_fs_tmpname(mine, sizeof mine, out), MB_OK);      /* this process's */
    snprintf(tmp, sizeof tmp, "%s/.x.h5.part-12ab", dir);            /* not ours */
    touch(dead);
    touch(live);
    touch(other);
    touch(mine);
    touch(tmp);
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(mb_fs_remove_stale_tmp(out), 1);
    cr_assert_neq(access(dead, F_OK), 0);
    cr_assert_eq(access(live, F_OK), 0);
    cr_assert_eq(access(other, F_OK), 0);
    cr_assert_eq(access(mine, F_OK), 0);
    cr_assert_eq(access(tmp, F_OK), 0);
}

/* In a child: a tracked file, the handlers, then SIGTERM from itself. */
Test(fs, a_signal_removes_tracked_files_and_still_kills)
{
    char dir[256], a[300], b[300], c[300];
    tu_tmpdir(dir, sizeof dir);
    snprintf(a, sizeof a, "%s/.a.part-1", dir);
    snprintf(b, sizeof b, "%s/.b.part-1", dir);
    snprintf(c, sizeof c, "%s/.c.part-1", dir);
    touch(a);
    touch(b);
    touch(c);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        mb_fs_track_tmp(a);
        mb_fs_track_tmp(b);
        mb_fs_track_tmp(c);
        mb_fs_untrack_tmp(b);   /* committed: not ours to remove any more */
        if (mb_fs_cleanup_on_signals() != MB_OK)
            _exit(3);
        kill(getpid(), SIGTERM);
        _exit(4);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status 0x%x", st);
    cr_assert_neq(access(a, F_OK), 0);
    cr_assert_eq(access(b, F_OK), 0);
    cr_assert_neq(access(c, F_OK), 0);
}

Test(fs, commit_renames_and_sha256_reads_the_file)
{
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    char sub[300], path[400], tmp[512];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    cr_assert_eq(mb_fs_mkdirs(sub), MB_OK);
    cr_assert_eq(mb_fs_mkdirs(sub), MB_OK, "mkdirs is idempotent");
    snprintf(path, sizeof path, "%s/x.txt", sub);
    cr_assert_eq(mb_fs_tmpname(tmp, sizeof tmp, path), MB_OK);
    FILE *f = fopen(tmp, "w");
    fputs("abc", f);
    fclose(f);
    cr_assert_eq(mb_fs_is_file(path), 0);
    cr_assert_eq(mb_fs_commit(tmp, path), MB_OK);
    cr_assert_eq(mb_fs_is_file(path), 1);
    char hex[65];
    uint64_t n = 0;
    cr_assert_eq(mb_fs_sha256(hex, &n, path), MB_OK);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(mb_fs_sha256(hex, &n, "/nonexistent/file"), MB_EIO);
    cr_assert(strstr(mb_last_error(), "/nonexistent/file"));
}

Test(cli, version_help_and_usage_errors)
{
    char *out, *err;
    cr_assert_eq(tu_run(&out, &err, "--version"), 0);
    cr_assert(strstr(out, "myobench "), "version on stdout: %s", out);
    free(out); free(err);
    cr_assert_eq(tu_run(&out, &err, "--help"), 0);
    cr_assert(strstr(out, "convert"));
    free(out); free(err);
    cr_assert_eq(tu_run(&out, &err, "no-such-command"), 2);
    cr_assert(strstr(err, "unknown command 'no-such-command'"), "stderr: %s", err);
    free(out); free(err);
    cr_assert_eq(tu_run(&out, &err, "convert"), 2);
    free(out); free(err);
    cr_assert_eq(tu_run(&out, &err, "convert --help"), 0);
    cr_assert(strstr(out, "usage: myobench convert"));
    free(out); free(err);
}

/* A silenced error is still recorded; nesting is counted per thread. */
Test(core, quiet_errors_are_recorded_but_not_printed, .init = cr_redirect_stderr)
{
    mb_error_quiet_begin();
    mb_error_quiet_begin();
    cr_assert_eq(mb_error(MB_EINVAL, "silenced %d", 1), MB_EINVAL);
    mb_error_quiet_end();
    cr_assert_str_eq(mb_last_error(), "silenced 1");
    mb_error_quiet_end();
    mb_error_quiet_end();      /* unbalanced end: harmless */
    cr_assert_eq(mb_error(MB_EIO, "loud"), MB_EIO);
    cr_assert_str_eq(mb_last_error(), "loud");
    fflush(stderr);
    cr_assert_stderr_eq_str("myobench: error: loud\n");
}

/* Not on a terminal: a line after the first step, then at most one per
 * MB_PROGRESS_INTERVAL seconds, then the last one; each with done/total,
 * elapsed time and ETA. Times are given, so nothing waits. */
Test(progress, off_a_terminal_prints_a_line_every_few_seconds_with_an_eta)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    cr_assert_not_null(fp);
    struct mb_progress p;
    mb_progress_start(&p, fp, "myobench: convert x", "files", 100, 1000.0);
    cr_assert_eq(p.tty, 0, "a memory stream is not a terminal");
    mb_progress_update(&p, 1, 1000.5);                 /* first step: a line with an early ETA */
    for (size_t i = 2; i <= 40; i++)                  /* 0.1 s apart: one line per interval */
        mb_progress_update(&p, i, 1000.5 + 0.1 * (double)i);
    mb_progress_update(&p, 60, 1000.5 + MB_PROGRESS_INTERVAL + 0.1);
    mb_progress_end(&p, 1100.0);
    fclose(fp);
    const char *want =
        "myobench: convert x: 1/100 files, 00:01 elapsed, ETA 00:50\n"
        "myobench: convert x: 60/100 files, 00:06 elapsed, ETA 00:04\n"
        "myobench: convert x: 60/100 files in 01:40\n";
    cr_assert_str_eq(buf, want);
    free(buf);
}

Test(progress, clock_is_minutes_then_hours)
{
    char b[32];
    mb_progress_clock(b, sizeof b, 59.6);
    cr_assert_str_eq(b, "01:00");
    mb_progress_clock(b, sizeof b, 3600 * 2 + 61);
    cr_assert_str_eq(b, "2:01:01");
}

/* ---- typed parameter tables ------------------------------------------------ */

struct tp { double alpha; long beta; double gamma; int flag; };
static const struct mb_param tp_table[] = {
    { "alpha", MB_PT_REAL, offsetof(struct tp, alpha), 1, 0, 10, NULL, "a real" },
    { "beta", MB_PT_INT, offsetof(struct tp, beta), 2, 1, 100, NULL, "an integer" },
    { "gamma", MB_PT_REAL, offsetof(struct tp, gamma), NAN, 0, 1, "auto", "a real or auto" },
    { "flag", MB_PT_BOOL, offsetof(struct tp, flag), 0, 0, 1, NULL, "a switch" },
    MB_PARAM_END
};

Test(params, parse_sets_given_keys_over_the_defaults_and_refuses_bad_text)
{
    struct tp v;
    cr_assert_eq(mb_params_parse(&v, tp_table, NULL, "t"), MB_OK);
    cr_assert(v.alpha == 1 && v.beta == 2 && isnan(v.gamma) && v.flag == 0);
    cr_assert_eq(mb_params_parse(&v, tp_table, "  ", "t"), MB_OK);
    cr_assert_eq(mb_params_parse(&v, tp_table, " beta = 40 , gamma=0.5,flag=1", "t"), MB_OK);
    cr_assert(v.alpha == 1 && v.beta == 40 && v.gamma == 0.5 && v.flag == 1);
    mb_log_set_level(MB_LOG_QUIET);
    static const char *const bad[] = { "alpha=5,beta=0", "delta=1", "alpha=", "alpha=1x", "alpha=nan", ",alpha=1",
                                       "beta=2.5", "flag=2", "alpha=1,alpha=2", "alpha", "alpha=11", "gamma=scale" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(mb_params_parse(&v, tp_table, bad[i], "t"), MB_EINVAL, "'%s' accepted", bad[i]);
        cr_assert(v.alpha == 1 && v.beta == 2 && v.flag == 0, "'%s': a failed parse left non-defaults", bad[i]);
        cr_assert(!strncmp(mb_last_error(), "t: ", 3), "'%s': %s", bad[i], mb_last_error());
    }
    cr_assert_eq(mb_params_parse(&v, tp_table, "delta=1", "t"), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "known: alpha, beta, gamma, flag"), "%s", mb_last_error());
    cr_assert_eq(mb_params_parse(&v, tp_table, "beta=0", "t"), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "'beta'"), "%s", mb_last_error());
    mb_log_set_level(MB_LOG_WARN);
}

/* The canonical text lists every key in table order, reads back to the same
 * values, and is the same for every spelling of the same values. */
Test(params, canonical_text_is_complete_exact_and_spelling_free)
{
    struct tp a, b;
    char ta[256], tb[256];
    cr_assert_eq(mb_params_parse(&a, tp_table, NULL, "t"), MB_OK);
    mb_params_text(ta, sizeof ta, tp_table, &a);
    cr_assert_str_eq(ta, "alpha=1,beta=2,gamma=auto,flag=0");
    cr_assert_eq(mb_params_parse(&a, tp_table, "flag=1,alpha=0.1", "t"), MB_OK);
    cr_assert_eq(mb_params_parse(&b, tp_table, " alpha = 1e-1 , beta=2, flag=1", "t"), MB_OK);
    mb_params_text(ta, sizeof ta, tp_table, &a);
    mb_params_text(tb, sizeof tb, tp_table, &b);
    cr_assert_str_eq(ta, tb);
    cr_assert_str_eq(ta, "alpha=0.1,beta=2,gamma=auto,flag=1");
    cr_assert_eq(mb_params_parse(&a, tp_table, "alpha=0.30000000000000004", "t"), MB_OK);
    mb_params_text(ta, sizeof ta, tp_table, &a);
    cr_assert_eq(mb_params_parse(&b, tp_table, ta, "t"), MB_OK);
    cr_assert(a.alpha == b.alpha && a.alpha != 0.3, "%s", ta);
    /* plain decimals where people write them, an exponent only outside; each reads back */
    static const struct { const char *in, *out; } forms[] = {
        { "alpha=1e1", "alpha=10," }, { "alpha=0.0001", "alpha=0.0001," }, { "alpha=1e-7", "alpha=1e-07," },
        { "alpha=0", "alpha=0," }, { "alpha=2.5", "alpha=2.5," }, { "alpha=1e-5", "alpha=1e-05," },
    };
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        cr_assert_eq(mb_params_parse(&a, tp_table, forms[i].in, "t"), MB_OK, "%s", forms[i].in);
        mb_params_text(ta, sizeof ta, tp_table, &a);
        cr_expect(!strncmp(ta, forms[i].out, strlen(forms[i].out)), "%s -> %s", forms[i].in, ta);
        cr_assert_eq(mb_params_parse(&b, tp_table, ta, "t"), MB_OK);
        cr_expect(a.alpha == b.alpha, "%s does not read back", ta);
    }
    cr_assert_eq(mb_params_parse(&a, tp_table, "alpha=0.30000000000000004", "t"), MB_OK);
    mb_params_text(ta, sizeof ta, tp_table, &a);
    /* the length needed, as snprintf: a short buffer is cut, never overrun */
    char small[8];
    size_t need = mb_params_text(small, sizeof small, tp_table, &a);
    cr_assert_eq(need, strlen(ta));
    cr_assert_eq(strlen(small), sizeof small - 1);
}

/* ---- shared work ---------------------------------------------------------------- */


static int n_made, n_destroyed;
struct make_ctx { int value; size_t bytes; int fail; long sleep_ms; };

static int make_int(void **val, size_t *bytes, void *ctx)
{
    struct make_ctx *c = ctx;
    __atomic_add_fetch(&n_made, 1, __ATOMIC_SEQ_CST);
    if (c->sleep_ms) {
        struct timespec ts = { 0, c->sleep_ms * 1000000L };
        nanosleep(&ts, NULL);
    }
    if (c->fail)
        return mb_error(MB_EINVAL, "make failed on purpose");
    int *v = malloc(sizeof *v);
    *v = c->value;
    *val = v;
    *bytes = c->bytes;
    return MB_OK;
}

static void destroy_int(void *v)
{
    __atomic_add_fetch(&n_destroyed, 1, __ATOMIC_SEQ_CST);
    free(v);
}

Test(shared, a_result_is_computed_once_and_reused)
{
    n_made = n_destroyed = 0;
    struct mb_shared *sh = mb_shared_new(1 << 20);
    struct make_ctx c = { 7, 100, 0, 0 };
    struct mb_shared_ref a, b, x;
    cr_assert_eq(mb_shared_get(&a, sh, "k1", make_int, &c, destroy_int), MB_OK);
    c.value = 8;   /* a second get of the same key must not compute */
    cr_assert_eq(mb_shared_get(&b, sh, "k1", make_int, &c, destroy_int), MB_OK);
    cr_assert_eq(*(const int *)a.val, 7);
    cr_assert_eq(a.val, b.val);
    cr_assert_eq(mb_shared_get(&x, sh, "k2", make_int, &c, destroy_int), MB_OK);
    cr_assert_eq(*(const int *)x.val, 8);
    struct mb_shared_stats st;
    mb_shared_stats(&st, sh);
    cr_assert(st.hits == 1 && st.misses == 2 && st.entries == 2 && st.bytes == 200, "%zu %zu %zu %zu", st.hits,
              st.misses, st.entries, st.bytes);
    mb_shared_unref(sh, &a);
    mb_shared_unref(sh, &b);
    mb_shared_unref(sh, &x);
    cr_assert_eq(n_made, 2);
    cr_assert_eq(n_destroyed, 0, "kept while within the budget");
    mb_shared_free(sh);
    cr_assert_eq(n_destroyed, 2);
    /* without a cache: computed every time, destroyed on unref */
    cr_assert_eq(mb_shared_get(&a, NULL, "k1", make_int, &c, destroy_int), MB_OK);
    cr_assert_eq(*(const int *)a.val, 8);
    mb_shared_unref(NULL, &a);
    cr_assert_eq(n_made, 3);
    cr_assert_eq(n_destroyed, 3);
}

Test(shared, unheld_results_beyond_the_budget_go_least_recently_used_first)
{
    n_made = n_destroyed = 0;
    struct mb_shared *sh = mb_shared_new(130);
    struct make_ctx c = { 1, 60, 0, 0 };
    struct mb_shared_ref r[3];
    const char *keys[3] = { "a", "b", "c" };
    for (int i = 0; i < 3; i++)
        cr_assert_eq(mb_shared_get(&r[i], sh, keys[i], make_int, &c, destroy_int), MB_OK);
    cr_assert_eq(n_destroyed, 0, "held entries are never dropped, whatever the budget");
    mb_shared_unref(sh, &r[1]);   /* b: 60 unheld bytes */
    mb_shared_unref(sh, &r[0]);   /* a: 120 */
    cr_assert_eq(n_destroyed, 0);
    mb_shared_unref(sh, &r[2]);   /* c: 180 > 130: the least recently used (a) goes */
    cr_assert_eq(n_destroyed, 1);
    cr_assert_eq(mb_shared_get(&r[0], sh, "b", make_int, &c, destroy_int), MB_OK);
    cr_assert_eq(n_made, 3, "b is still there");
    mb_shared_unref(sh, &r[0]);
    cr_assert_eq(mb_shared_get(&r[0], sh, "a", make_int, &c, destroy_int), MB_OK);
    cr_assert_eq(n_made, 4, "a was dropped and is computed again");
    mb_shared_unref(sh, &r[0]);
    struct mb_shared_stats st;
    mb_shared_stats(&st, sh);
    cr_assert_leq(st.bytes, 130);
    cr_assert_geq(st.evicted, 2);
    mb_shared_free(sh);
}

/* The plan-aware rule: what a fold's jobs computed goes when the fold's
 * last job ends, not when the budget pushes it out, unless a fold still to
 * end asked for it too. */
Test(shared, an_entry_goes_when_the_last_scope_that_asked_for_it_ends)
{
    n_made = n_destroyed = 0;
    struct mb_shared *sh = mb_shared_new(1 << 20);
    struct make_ctx c = { 1, 100, 0, 0 };
    struct mb_shared *a = mb_shared_scoped(sh, 1), *b = mb_shared_scoped(sh, 2);
    cr_assert(a && b && a != sh && b != sh);
    struct mb_shared_ref r;
    cr_assert_eq(mb_shared_get(&r, a, "only-a", make_int, &c, destroy_int), MB_OK);
    mb_shared_unref(a, &r);
    cr_assert_eq(mb_shared_get(&r, a, "both", make_int, &c, destroy_int), MB_OK);
    mb_shared_unref(a, &r);
    cr_assert_eq(mb_shared_get(&r, b, "both", make_int, &c, destroy_int), MB_OK);
    mb_shared_unref(b, &r);
    cr_assert_eq(n_made, 2, "scope b reuses what scope a computed");
    cr_assert_eq(mb_shared_dir(a), mb_shared_dir(sh));
    mb_shared_free(a);   /* a handle, not the cache */
    cr_assert_eq(n_destroyed, 0, "within the budget and the scopes open: nothing goes");
    mb_shared_end_scope(sh, 1);
    cr_assert_eq(n_destroyed, 1, "only-a goes with its scope; both stays for scope 2");
    /* an entry held when its last scope ends goes when it is let go */
    cr_assert_eq(mb_shared_get(&r, b, "both", make_int, &c, destroy_int), MB_OK);
    mb_shared_end_scope(sh, 2);
    cr_assert_eq(n_destroyed, 1, "held: never dropped");
    mb_shared_unref(b, &r);
    cr_assert_eq(n_destroyed, 2);
    struct mb_shared_stats st;
    mb_shared_stats(&st, b);
    cr_assert(st.released == 2 && st.evicted == 0 && st.entries == 0 && st.bytes == 0 && st.hits == 2,
              "released %zu evicted %zu entries %zu bytes %zu hits %zu", st.released, st.evicted, st.entries,
              st.bytes, st.hits);
    /* entries asked for through the cache itself follow the budget alone */
    cr_assert_eq(mb_shared_get(&r, sh, "plain", make_int, &c, destroy_int), MB_OK);
    mb_shared_unref(sh, &r);
    mb_shared_end_scope(sh, 2);
    cr_assert_eq(n_destroyed, 2);
    mb_shared_free(b);
    mb_shared_free(sh);
    cr_assert_eq(n_destroyed, 3);
    cr_assert_null(mb_shared_scoped(NULL, 1));
}

Test(shared, a_failed_computation_holds_nothing_and_is_retried)
{
    n_made = n_destroyed = 0;
    struct mb_shared *sh = mb_shared_new(1000);
    struct make_ctx c = { 5, 10, 1, 0 };
    struct mb_shared_ref r;
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(mb_shared_get(&r, sh, "k", make_int, &c, destroy_int), MB_EINVAL);
    mb_log_set_level(MB_LOG_WARN);
    cr_assert_null(r.val);
    c.fail = 0;
    cr_assert_eq(mb_shared_get(&r, sh, "k", make_int, &c, destroy_int), MB_OK);
    cr_assert_eq(*(const int *)r.val, 5);
    cr_assert_eq(n_made, 2);
    mb_shared_unref(sh, &r);
    mb_shared_free(sh);
}

struct racer { struct mb_shared *sh; struct make_ctx *c; const void *val; int rc; };

static void *race(void *p)
{
    struct racer *r = p;
    struct mb_shared_ref ref;
    r->rc = mb_shared_get(&ref, r->sh, "same", make_int, r->c, destroy_int);
    r->val = ref.val;
    mb_shared_unref(r->sh, &ref);
    return NULL;
}

/* Eight threads ask for one key while it is being computed (20 ms): one
 * computes, the others wait for its result. */
Test(shared, threads_asking_for_the_same_key_share_one_computation)
{
    n_made = n_destroyed = 0;
    struct mb_shared *sh = mb_shared_new(1000);
    struct make_ctx c = { 3, 10, 0, 20 };
    pthread_t t[8];
    struct racer r[8];
    for (int i = 0; i < 8; i++) {
        r[i] = (struct racer){ sh, &c, NULL, -1 };
        pthread_create(&t[i], NULL, race, &r[i]);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(r[i].rc, MB_OK);
        cr_assert_eq(r[i].val, r[0].val);
    }
    cr_assert_eq(n_made, 1);
    mb_shared_free(sh);
    cr_assert_eq(n_destroyed, 1);
}
