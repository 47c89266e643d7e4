/* tests/test_core.c - core/: errors, the random generator, file helpers. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "core/fs.h"
#include "core/progress.h"
#include "core/rng.h"
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
