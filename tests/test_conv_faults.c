/* tests/test_conv_faults.c - 'myobench convert' under faults: what is left
 * on disk, what is said and which exit status, when writing fails, when the
 * process is stopped, when the output path is bad or a source is skipped.
 *
 * The disk is "full" through a file-size limit in the child's shell
 * (ulimit -f: writes fail with EFBIG where a full disk gives ENOSPC, through
 * the same error paths), so no mount privilege is needed; one test also
 * uses a real 128 kB tmpfs and skips where mounting is not permitted.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "converters/converter.h"
#include "converters/emg2pose_h5.h"
#include "core/err.h"
#include "format/mbh5.h"
#include "synth/synth.h"
#include "tests/testutil.h"

/* ---- helpers --------------------------------------------------------------- */

static const char *bin(void)
{
    const char *b = getenv("MB_BIN");
    return b ? b : "build/myobench";
}

/* Runs a shell command line with stderr captured into *err (malloc'ed, may
 * be NULL to drop) and stdout dropped. Returns the exit status, or 128 +
 * the signal that killed it (139 for a segfault, as a shell says). */
static int sh(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(char **err, const char *fmt, ...)
{
    char dir[512], cmd[16384], line[12288], path[600];
    tu_tmpdir(dir, sizeof dir);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    snprintf(path, sizeof path, "%s/e", dir);
    snprintf(cmd, sizeof cmd, "( %s ) >/dev/null 2>%s </dev/null", line, path);
    int st = system(cmd);
    int code = st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
    if (err) {
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f);
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        *err = malloc((size_t)n + 1);
        size_t got = fread(*err, 1, (size_t)n, f);
        (*err)[got] = '\0';
        fclose(f);
    }
    remove(path);
    rmdir(dir);
    return code;
}

/* Number of entries (hidden ones included) in a folder. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot list '%s'", dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* A small synthetic population: NinaPro DB1, emg2pose and Myo readings
 * (for the ninapro, emg2pose and spec converters), two subjects. Model v1:
 * the size limits and the 128 KiB tmpfs below were set on its files; v2's
 * Myo readings have more sessions, and on the full tmpfs libhdf5 then
 * cannot flush the discarded file's metadata at close (see the issue-14
 * note: nothing is left behind, but -v reports the unclean close). */
static void make_corpus(char *dir, size_t cap)
{
    tu_tmpdir(dir, cap);
    struct synth_params p;
    cr_assert_eq(synth_params_preset_model(&p, "tiny", 5, 1), MB_OK);
    p.n_subjects = 2;
    p.devices = 1u << SYNTH_DB1 | 1u << SYNTH_EMG2POSE | 1u << SYNTH_MYO;
    p.e2p_n_stages = 2;
    p.myo_file_s = 10.0;
    cr_assert_eq(synth_write(dir, &p, NULL), MB_OK, "%s", mb_last_error());
}

/* The convert arguments of converter k (0 ninapro, 1 emg2pose, 2 spec) on
 * the corpus in 'corpus'. */
static const char *const conv_names[] = { "ninapro", "emg2pose", "spec" };
static void convert_args(char *args, size_t cap, int k, const char *corpus)
{
    if (k == 0)
        snprintf(args, cap, "convert ninapro %s/ninapro_db1", corpus);
    else if (k == 1)
        snprintf(args, cap, "convert emg2pose %s/emg2pose", corpus);
    else
        snprintf(args, cap, "convert spec myo_readings %s/myo_readings", corpus);
}

static int has_note(const struct mbh5_file *f, const char *needle)
{
    for (size_t i = 0; i < f->n_notes; i++)
        if (strstr(f->notes[i], needle))
            return 1;
    return 0;
}

/* ---- a full disk ----------------------------------------------------------- */

/* Was: the error message, then a segfault (exit 139) in libhdf5's
 * exit-time teardown, because the failed file's H5Fclose failed too. */
Test(conv_faults, a_full_disk_fails_with_exit_1_and_leaves_nothing_for_every_converter, .timeout = 300)
{
    char corpus[256], out[300], args[600];
    make_corpus(corpus, sizeof corpus);
    for (int k = 0; k < 3; k++)
        for (int j = 1; j <= 2; j++)
            for (int z = 0; z < 2; z++) {
                const char *comp = z ? "none" : "deflate";
                snprintf(out, sizeof out, "%s/out-%d%d%d", corpus, k, j, z);
                cr_assert_eq(mkdir(out, 0777), 0);
                convert_args(args, sizeof args, k, corpus);
                char *err;
                /* 100 KB per file (512-byte blocks): well inside the first recording's samples. */
                int rc = sh(&err, "trap '' XFSZ; ulimit -f 200; exec %s %s -o %s/x.h5 -j %d --compression %s "
                            "--no-progress", bin(), args, out, j, comp);
                cr_assert_eq(rc, 1, "%s -j %d --compression %s: exit %d (139 = segfault)\n%s", conv_names[k], j,
                             comp, rc, err);
                cr_assert(strstr(err, "File too large"), "the reason is given: %s", err);
                cr_assert(strstr(err, "no output written"), "%s", err);
                cr_assert_eq(count_entries(out), 0, "%s -j %d %s: nothing left in '%s' (no temporary file)",
                             conv_names[k], j, comp, out);
                free(err);
            }
}

/* The limit at every stage of a conversion: first chunk, middle, the
 * tables and the final flush at commit. Never a crash; a failure leaves
 * nothing, a success a valid file. */
Test(conv_faults, a_write_error_at_any_point_exits_1_or_writes_a_valid_file, .timeout = 300)
{
    char corpus[256], out[300], full[400], args[600];
    make_corpus(corpus, sizeof corpus);
    snprintf(out, sizeof out, "%s/out", corpus);
    cr_assert_eq(mkdir(out, 0777), 0);
    convert_args(args, sizeof args, 0, corpus);
    snprintf(full, sizeof full, "%s/full.h5", corpus);
    char *err;
    cr_assert_eq(sh(&err, "%s %s -o %s --no-progress", bin(), args, full), 0, "%s", err);
    free(err);
    long blocks = (file_size(full) + 511) / 512;
    int saw_data = 0, saw_commit = 0, saw_ok = 0;
    long limits[24];
    int nl = 0;
    for (int i = 1; i <= 6; i++)
        limits[nl++] = blocks * i / 7;
    for (int i = 1; i <= 16; i++)   /* the last blocks: tables, notes, the superblock at the flush */
        limits[nl++] = blocks - i;
    limits[nl++] = blocks + 8;
    for (int i = 0; i < nl; i++) {
        char x[400];
        snprintf(x, sizeof x, "%s/x.h5", out);
        int rc = sh(&err, "trap '' XFSZ; ulimit -f %ld; exec %s %s -o %s -j 2 --no-progress", limits[i], bin(), args, x);
        cr_assert(rc == 0 || rc == 1, "limit %ld blocks of %ld: exit %d\n%s", limits[i], blocks, rc, err);
        if (rc == 1) {
            cr_assert_eq(count_entries(out), 0, "limit %ld: nothing left behind", limits[i]);
            cr_assert(strstr(err, "File too large"), "limit %ld: %s", limits[i], err);
            saw_data |= strstr(err, "cannot write rows") != NULL;
            saw_commit |= strstr(err, "cannot write rows") == NULL;
        } else {
            saw_ok = 1;
            cr_assert_eq(mbh5_validate(x, stderr), 0, "limit %ld: the output is valid", limits[i]);
            remove(x);
        }
        free(err);
    }
    cr_assert(saw_data && saw_commit && saw_ok, "the limits hit the samples (%d), the commit (%d) and none (%d)",
              saw_data, saw_commit, saw_ok);
}

static char mnt[320];

static void unmount_tmpfs(void)
{
    if (mnt[0]) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "umount %s 2>/dev/null", mnt);
        if (system(cmd) != 0) { /* not mounted */ }
    }
}

/* A real full disk (ENOSPC). Closing the failed file must succeed here
 * (its space is given back first), so -v says nothing about libhdf5 not
 * closing it. Needs mount permission (root, no container restriction). */
Test(conv_faults, a_real_full_tmpfs_fails_cleanly, .timeout = 300, .fini = unmount_tmpfs)
{
    char corpus[256], args[600];
    make_corpus(corpus, sizeof corpus);
    snprintf(mnt, sizeof mnt, "%s/mnt", corpus);
    cr_assert_eq(mkdir(mnt, 0777), 0);
    char *err;
    if (sh(&err, "mount -t tmpfs -o size=128k tmpfs %s", mnt) != 0) {
        free(err);
        mnt[0] = '\0';
        cr_skip_test("cannot mount a tmpfs here (not root, or not permitted)");
    }
    free(err);
    for (int k = 0; k < 3; k++)
        for (int j = 1; j <= 2; j++) {
            convert_args(args, sizeof args, k, corpus);
            int rc = sh(&err, "%s -v %s -o %s/x.h5 -j %d --no-progress", bin(), args, mnt, j);
            cr_assert_eq(rc, 1, "%s -j %d: exit %d\n%s", conv_names[k], j, rc, err);
            cr_assert(strstr(err, "No space left on device"), "%s", err);
            cr_assert_null(strstr(err, "could not close"), "the discarded file closes cleanly: %s", err);
            cr_assert_eq(count_entries(mnt), 0, "nothing left on the full disk");
            free(err);
        }
}

/* ---- output paths ---------------------------------------------------------- */

/* Was: everything converted, then "cannot rename" at the very end. */
Test(conv_faults, an_unwritable_output_path_is_refused_before_any_work, .timeout = 60)
{
    char dir[256], sub[300];
    tu_tmpdir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/existing", dir);
    cr_assert_eq(mkdir(sub, 0777), 0);
    char *err;
    /* The source does not even exist: the output is checked first. */
    int rc = sh(&err, "%s convert ninapro %s/no-such-source -o %s", bin(), dir, sub);
    cr_assert_eq(rc, 1, "%s", err);
    cr_assert(strstr(err, "it is a folder"), "%s", err);
    cr_assert_null(strstr(err, "no-such-source"), "nothing read before: %s", err);
    cr_assert_eq(count_entries(sub), 0);
    free(err);
    rc = sh(&err, "%s convert ninapro %s/no-such-source -o %s/missing/x.h5", bin(), dir, dir);
    cr_assert_eq(rc, 1, "%s", err);
    cr_assert(strstr(err, "/missing': No such file or directory"), "%s", err);
    free(err);
    if (geteuid() != 0) {   /* root writes anywhere */
        cr_assert_eq(chmod(sub, 0555), 0);
        rc = sh(&err, "%s convert ninapro %s/no-such-source -o %s/x.h5", bin(), dir, sub);
        cr_assert_eq(rc, 1, "%s", err);
        cr_assert(strstr(err, "Permission denied"), "%s", err);
        free(err);
        chmod(sub, 0755);
    }
}

/* Was: ".<250 characters>.part-PID" is over 255 bytes, and "cannot create
 * the temporary file" said no more. */
Test(conv_faults, a_250_character_output_name_converts, .timeout = 120)
{
    char corpus[256], args[600], out[1024], name[260];
    make_corpus(corpus, sizeof corpus);
    memset(name, 'n', 247);
    memcpy(name + 247, ".h5", 4);
    snprintf(out, sizeof out, "%s/%s", corpus, name);
    convert_args(args, sizeof args, 0, corpus);
    char *err;
    int rc = sh(&err, "%s %s -o %s --no-progress", bin(), args, out);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(mbh5_validate(out, stderr), 0);
    free(err);
}

/* ---- signals and stale temporary files ----------------------------------- */

/* A corpus that takes seconds to convert (so a signal lands mid-write) at
 * no disk cost: one text file of 150,000 rows, hard-linked 80 times under
 * the names the shipped kaufmann_multiday spec expects. */
static void make_slow_corpus(char *src, size_t cap, const char *dir)
{
    snprintf(src, cap, "%s/slow", dir);
    cr_assert_eq(mkdir(src, 0777), 0);
    char first[512];
    snprintf(first, sizeof first, "%s/S1_D1_C0.csv", src);
    FILE *f = fopen(first, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 150000; i++)
        fprintf(f, "%.6e %.6e %.6e %.6e\n", 0.001 * (i % 97), -0.002 * (i % 89), 0.003 * (i % 83), 0.0005 * i);
    cr_assert_eq(fclose(f), 0);
    for (int d = 1; d <= 20; d++)
        for (int c = 0; c < 4; c++) {
            if (d == 1 && c == 0)
                continue;
            char p[512];
            snprintf(p, sizeof p, "%s/S1_D%d_C%d.csv", src, d, c);
            cr_assert_eq(link(first, p), 0, "link %s: %s", p, strerror(errno));
        }
}

/* Starts "myobench convert spec kaufmann_multiday SRC -o OUT -j 1" with
 * default signal dispositions; returns its PID. */
static pid_t start_convert(const char *src, const char *out)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int fd = open("/dev/null", O_RDWR);
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(bin(), bin(), "convert", "spec", "kaufmann_multiday", src, "-o", out, "-j", "1", "--no-progress",
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Polls (never a fixed sleep) until 'path' exists; fails after 120 s or if
 * the process ended first. */
static void wait_for_file(const char *path, pid_t pid)
{
    for (int i = 0; i < 120000; i++) {
        if (access(path, F_OK) == 0)
            return;
        int st;
        cr_assert_eq(waitpid(pid, &st, WNOHANG), 0, "the conversion ended before '%s' appeared", path);
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
    cr_assert_fail("'%s' did not appear in 120 s", path);
}

/* Was: SIGTERM or Ctrl-C left the .NAME.part-PID file behind (140 MB on a
 * real corpus). Now it is removed and the exit status still says which
 * signal ended the process. */
Test(conv_faults, sigterm_and_sigint_remove_the_temporary_file, .timeout = 300)
{
    char dir[256], src[300], out[400], part[512];
    tu_tmpdir(dir, sizeof dir);
    make_slow_corpus(src, sizeof src, dir);
    static const int sigs[] = { SIGTERM, SIGINT };
    for (int k = 0; k < 2; k++) {
        snprintf(out, sizeof out, "%s/out%d", dir, k);
        cr_assert_eq(mkdir(out, 0777), 0);
        snprintf(out, sizeof out, "%s/out%d/x.h5", dir, k);
        pid_t pid = start_convert(src, out);
        snprintf(part, sizeof part, "%s/out%d/.x.h5.part-%ld", dir, k, (long)pid);
        wait_for_file(part, pid);
        cr_assert_eq(kill(pid, sigs[k]), 0);
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == sigs[k], "killed by signal %d, status 0x%x", sigs[k], st);
        snprintf(out, sizeof out, "%s/out%d", dir, k);
        cr_assert_eq(count_entries(out), 0, "signal %d: no temporary file left", sigs[k]);
    }
}

/* kill -9 cannot be caught: the next conversion to the same output removes
 * the dead process's file and says so; a live process's file stays. */
Test(conv_faults, the_next_convert_removes_the_temporary_file_of_a_killed_process, .timeout = 300)
{
    char dir[256], src[300], outdir[300], out[400], part[512], live[512];
    tu_tmpdir(dir, sizeof dir);
    make_slow_corpus(src, sizeof src, dir);
    snprintf(outdir, sizeof outdir, "%s/out", dir);
    cr_assert_eq(mkdir(outdir, 0777), 0);
    snprintf(out, sizeof out, "%s/x.h5", outdir);
    pid_t pid = start_convert(src, out);
    snprintf(part, sizeof part, "%s/.x.h5.part-%ld", outdir, (long)pid);
    wait_for_file(part, pid);
    cr_assert_eq(kill(pid, SIGKILL), 0);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    cr_assert_eq(access(part, F_OK), 0, "kill -9 leaves the file");
    /* A file of a process that runs (this one) is not touched. */
    snprintf(live, sizeof live, "%s/.x.h5.part-%ld", outdir, (long)getpid());
    FILE *f = fopen(live, "w");
    cr_assert_not_null(f);
    fclose(f);
    /* The next conversion, of anything, to the same output. */
    char corpus[256], args[600], *err;
    make_corpus(corpus, sizeof corpus);
    convert_args(args, sizeof args, 0, corpus);
    cr_assert_eq(sh(&err, "%s %s -o %s --no-progress", bin(), args, out), 0, "%s", err);
    cr_assert_neq(access(part, F_OK), 0, "the dead process's file is removed");
    char said[640];
    snprintf(said, sizeof said, "removed '%s', left by process %ld, which no longer runs", part, (long)pid);
    cr_assert(strstr(err, said), "said on stderr: %s", err);
    cr_assert_eq(access(live, F_OK), 0, "a live process's file stays");
    cr_assert_eq(mbh5_validate(out, stderr), 0);
    remove(live);
    free(err);
}

/* ---- --keep-going records what it skipped ----------------------------------- */

static void truncate_file(const char *path, long bytes)
{
    cr_assert_eq(truncate(path, bytes), 0, "truncate %s: %s", path, strerror(errno));
}

/* Was: skipped files only on stderr (NinaPro, emg2pose) or as a count
 * (spec); the output did not say what it lacks. */
Test(conv_faults, keep_going_notes_each_skipped_file_and_why_in_every_converter, .timeout = 300)
{
    char corpus[256], args[600], out[400], p[600];
    make_corpus(corpus, sizeof corpus);
    /* One damaged source file per corpus. */
    snprintf(p, sizeof p, "%s/ninapro_db1/s2/S2_A1_E1.mat", corpus);
    truncate_file(p, 3000);
    struct synth_params sp;
    cr_assert_eq(synth_params_preset(&sp, "tiny", 5), MB_OK);
    struct synth_file *files;
    size_t nf;
    sp.n_subjects = 2;
    sp.devices = 1u << SYNTH_EMG2POSE | 1u << SYNTH_MYO;
    sp.e2p_n_stages = 2;
    sp.myo_file_s = 10.0;
    cr_assert_eq(synth_list(&files, &nf, &sp), MB_OK);
    const char *e2p = NULL, *myo = NULL;
    for (size_t i = 0; i < nf; i++) {
        if (files[i].dev == SYNTH_EMG2POSE && !e2p)
            e2p = files[i].relpath;
        if (files[i].dev == SYNTH_MYO && !myo)
            myo = files[i].relpath;
    }
    cr_assert(e2p && myo);
    snprintf(p, sizeof p, "%s/%s", corpus, e2p);
    truncate_file(p, 2000);
    snprintf(p, sizeof p, "%s/%s", corpus, myo);
    FILE *f = fopen(p, "a");
    fputs("1,2,3\n", f);   /* a ragged row */
    fclose(f);
    /* emg2pose names a file by its metadata.csv 'filename' (no .hdf5). */
    char stem[256];
    snprintf(stem, sizeof stem, "%s", strchr(e2p, '/') + 1);
    *strrchr(stem, '.') = '\0';
    const char *bad[3] = { "s2/S2_A1_E1.mat", stem, strchr(myo, '/') + 1 };
    const char *why[3] = { "truncated MAT file", "HDF5", "fields" };
    for (int k = 0; k < 3; k++) {
        convert_args(args, sizeof args, k, corpus);
        snprintf(out, sizeof out, "%s/kg%d.h5", corpus, k);
        char *err;
        int rc = sh(&err, "%s %s -o %s --keep-going --no-progress", bin(), args, out);
        cr_assert_eq(rc, 1, "%s: skipped files make the exit status 1: %s", conv_names[k], err);
        struct mbh5_file *h;
        cr_assert_eq(mbh5_open(&h, out), MB_OK, "%s: the rest is written: %s", conv_names[k], err);
        char want[700];
        snprintf(want, sizeof want, "--keep-going: skipped '%s': ", bad[k]);
        cr_assert(has_note(h, want), "%s: a note names '%s'", conv_names[k], bad[k]);
        int reason = 0;
        for (size_t i = 0; i < h->n_notes; i++)
            reason |= strstr(h->notes[i], want) && strstr(h->notes[i], why[k]);
        cr_assert(reason, "%s: the note says why (%s)", conv_names[k], why[k]);
        mbh5_close(h);
        free(err);
    }
    free(files);
}

/* ---- HDF5 handles on error paths --------------------------------------------- */

/* HDF5 identifiers still open on any file: files, groups, datasets,
 * attributes and the datatypes taken from them. (Dataspaces and property
 * lists are not counted: libhdf5 1.10 refuses H5Inmembers on its own
 * identifier types.) */
static long open_h5_ids(void)
{
    return (long)H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
}

static int convert_in_process(const char *conv, const char *src, const char *out, int keep_going, int threads)
{
    struct mb_convert_opts o = { .src = src, .out = out, .threads = threads, .keep_going = keep_going };
    struct mb_convert_result r = {0};
    int rc = mb_converter_find(conv)->convert(&o, &r);
    remove(out);
    return rc;
}

/* Every failure path of the emg2pose reader and of the writer (a session
 * file that is truncated, text, HDF5 without the group, a compound without
 * 'emg'; a NaN met while a recording is half written) closes what it
 * opened: no HDF5 identifier is left, under -j 1 and -j 2, with and
 * without --keep-going. (The audit found none left on today's code; this
 * keeps it so.) */
Test(conv_faults, failing_conversions_leave_no_hdf5_identifier_open, .timeout = 300)
{
    mb_log_set_level(MB_LOG_QUIET);
    char dir[256], src[300], out[300], p[600];
    tu_tmpdir(dir, sizeof dir);
    struct synth_params sp;
    cr_assert_eq(synth_params_preset(&sp, "tiny", 3), MB_OK);
    sp.n_subjects = 2;
    sp.e2p_n_stages = 2;
    sp.devices = 1u << SYNTH_EMG2POSE;
    cr_assert_eq(synth_write(dir, &sp, NULL), MB_OK, "%s", mb_last_error());
    snprintf(src, sizeof src, "%s/emg2pose", dir);
    snprintf(out, sizeof out, "%s/o.h5", dir);
    cr_assert_eq(convert_in_process("emg2pose", src, out, 0, 2), MB_OK, "%s", mb_last_error());
    cr_assert_eq(open_h5_ids(), 0, "a good conversion closes everything");
    struct synth_file *files;
    size_t nf;
    cr_assert_eq(synth_list(&files, &nf, &sp), MB_OK);
    enum { T = 3000 };
    static double tm[T], jn[T * 20];
    static float em[T * 16];
    for (int r = 0; r < T; r++) {
        tm[r] = r / 2000.0;
        for (int c = 0; c < 20; c++)
            jn[r * 20 + c] = 0.1;
        for (int c = 0; c < 16; c++)
            em[r * 16 + c] = 1;
    }
    struct conv_e2p_spec bad = { .n_rows = T, .n_emg = 16, .time = tm, .joints = jn, .emg = em,
                                 .attrs = { .sample_rate = 2000, .start = NAN, .end = NAN, .num_channels = -1 } };
    int k = 0;
    char nan_file[600] = "";
    for (size_t i = 0; i < nf && k < 5; i++) {
        if (files[i].dev != SYNTH_EMG2POSE)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, files[i].relpath);
        if (k == 0) {
            cr_assert_eq(truncate(p, 20000), 0);
        } else if (k == 1) {
            FILE *f = fopen(p, "w");
            fputs("not HDF5\n", f);
            fclose(f);
        } else if (k == 2) {
            hid_t fid = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
            hid_t g = H5Gcreate2(fid, "other", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            H5Gclose(g);
            H5Fclose(fid);
        } else if (k == 3) {
            bad.omit_emg = 1;
            cr_assert_eq(conv_e2p_write(p, &bad), MB_OK);
        } else {
            snprintf(nan_file, sizeof nan_file, "%s", p);
        }
        k++;
    }
    cr_assert_eq(k, 5);
    /* Files refused while opening: skipped or fatal. */
    for (int j = 1; j <= 2; j++)
        for (int kg = 0; kg <= 1; kg++) {
            int rc = convert_in_process("emg2pose", src, out, kg, j);
            cr_assert_eq(rc, kg ? MB_OK : MB_EIO, "-j %d keep-going %d: %d %s", j, kg, rc, mb_last_error());
            cr_assert_eq(open_h5_ids(), 0, "-j %d keep-going %d: HDF5 identifiers left open", j, kg);
        }
    /* A NaN met after the first blocks of a recording are written: the
     * writer aborts with the recording open. */
    bad.omit_emg = 0;
    bad.chunk_rows = 500;
    bad.gzip = 1;
    em[2500 * 16 + 3] = NAN;
    cr_assert_eq(conv_e2p_write(nan_file, &bad), MB_OK);
    for (int j = 1; j <= 2; j++) {
        cr_assert_eq(convert_in_process("emg2pose", src, out, 1, j), MB_ENUM, "%s", mb_last_error());
        cr_assert_eq(open_h5_ids(), 0, "-j %d, NaN: HDF5 identifiers left open", j);
    }
    free(files);
}
