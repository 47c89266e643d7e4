/* bench/bench_corpus.c - memory of a run against the corpus's EMG bytes.
 *
 *   run_bench corpus [--preset tiny|default|large] [--subjects N] [--dir DIR]
 *                    [--bin PATH] [--strides A,B] [-j N] [--keep]
 *
 * Generates a synthetic emg2pose population with the CLI (myobench synth
 * --only emg2pose, then convert; a --dir that already holds e2p.h5 is
 * reused), then runs the CLI's LOSO of lda-td4 at 200 ms windows at two
 * strides (default 50 and 200 ms), each in a child process into a fresh
 * store, and prints each run's peak resident set (ru_maxrss of the child),
 * its ratio to the corpus's EMG bytes (float32 samples at the native rate,
 * the view of the run) and the ratio of the two peaks. Windows are views
 * into the recordings (corpus/corpus.h), so the peak should stay under 1.5x
 * the EMG bytes and not grow with the window overlap; when windows were
 * copies it was the EMG times the overlap (725 MB for the default preset's
 * 164 MB at a 50 ms stride). A third run repeats the first stride with
 * --corpus-mb 0, where a recording is read only while a job needs it: its
 * peak is what a corpus larger than memory costs.
 *
 * The binary is --bin, else $MB_BIN (make bench sets it), else
 * build/myobench: --bin of another build measures it on the same corpus.
 */
#include <errno.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/fs.h"
#include "format/mbh5.h"

/* Runs argv (argv[0] a path) with stdout and stderr to 'log'; *maxrss_kb
 * receives its peak resident set. 0 if it exited with status 0. */
static int run_child(long *maxrss_kb, double *seconds, char *const argv[], const char *log)
{
    double t = bench_now();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "bench corpus: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        FILE *f = freopen(log, "w", stdout);
        if (f && dup2(fileno(stdout), 2) >= 0)
            execv(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid) {
        fprintf(stderr, "bench corpus: wait: %s\n", strerror(errno));
        return 1;
    }
    *seconds = bench_now() - t;
    *maxrss_kb = ru.ru_maxrss;
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "bench corpus: '%s %s' failed (status %d); see '%s'\n", argv[0], argv[1],
                WIFEXITED(status) ? WEXITSTATUS(status) : -1, log);
        return 1;
    }
    return 0;
}

/* Float32 EMG bytes of the unified file at its native rate, and its channels. */
static int emg_bytes(double *bytes, const char *path)
{
    struct mbh5_file *f;
    if (mbh5_open(&f, path) != MB_OK)
        return 1;
    double b = 0;
    for (size_t r = 0; r < f->n_recordings; r++)
        b += (double)f->recordings[r].n_samples * (double)f->recordings[r].info.n_channels * sizeof(float);
    mbh5_close(f);
    *bytes = b;
    return 0;
}

/* Test windows of every LOSO fold = the corpus's windows. */
static long windows_in(const char *db)
{
    sqlite3 *s;
    long n = -1;
    if (sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(s, "select sum(n_test) from subject_metrics", -1, &q, NULL) == SQLITE_OK) {
            if (sqlite3_step(q) == SQLITE_ROW)
                n = (long)sqlite3_column_int64(q, 0);
            sqlite3_finalize(q);
        }
    }
    sqlite3_close(s);
    return n;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void usage(void)
{
    fprintf(stderr, "usage: run_bench corpus [--preset tiny|default|large] [--subjects N] [--dir DIR] [--bin PATH]\n"
                    "                        [--strides A,B] [-j N] [--keep]\n");
}

int bench_corpus(int argc, char **argv)
{
    const char *preset = "default", *subjects = NULL, *dir_arg = NULL, *bin = getenv("MB_BIN"), *jobs = "2";
    double strides[2] = { 50, 200 };
    int keep = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--preset") && i + 1 < argc) preset = argv[++i];
        else if (!strcmp(argv[i], "--subjects") && i + 1 < argc) subjects = argv[++i];
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir_arg = argv[++i];
        else if (!strcmp(argv[i], "--bin") && i + 1 < argc) bin = argv[++i];
        else if (!strcmp(argv[i], "-j") && i + 1 < argc) jobs = argv[++i];
        else if (!strcmp(argv[i], "--strides") && i + 1 < argc) {
            if (sscanf(argv[++i], "%lf,%lf", &strides[0], &strides[1]) != 2 || !(strides[0] > 0) ||
                !(strides[1] > 0)) {
                usage();
                return 2;
            }
        } else if (!strcmp(argv[i], "--keep")) keep = 1;
        else {
            usage();
            return 2;
        }
    }
    if (!bin || !*bin)
        bin = "build/myobench";
    char binabs[4096];
    if (!realpath(bin, binabs)) {
        fprintf(stderr, "bench corpus: no binary '%s': %s (make bench builds it)\n", bin, strerror(errno));
        return 1;
    }
    char tmpl[] = "/tmp/mb-bench-corpus-XXXXXX", dir[2048];
    if (dir_arg) {
        snprintf(dir, sizeof dir, "%s", dir_arg);
        if (mb_fs_mkdirs(dir) != MB_OK)
            return 1;
        keep = 1;
    } else {
        if (!mkdtemp(tmpl)) {
            fprintf(stderr, "bench corpus: mkdtemp: %s\n", strerror(errno));
            return 1;
        }
        snprintf(dir, sizeof dir, "%s", tmpl);
    }
    char h5[2200], native[2200], log[2200];
    snprintf(h5, sizeof h5, "%s/e2p.h5", dir);
    snprintf(native, sizeof native, "%s/native", dir);
    snprintf(log, sizeof log, "%s/make.log", dir);
    int rc = 0;
    long rss;
    double secs;
    if (mb_fs_is_file(h5)) {
        printf("reusing '%s'\n", h5);
    } else {
        printf("generating the '%s' emg2pose population%s%s in '%s'\n", preset, subjects ? ", subjects " : "",
               subjects ? subjects : "", dir);
        fflush(stdout);
        char *synth[] = { binabs, "synth", "--out", native, "--preset", (char *)preset, "--only", "emg2pose",
                          "-j", (char *)jobs, subjects ? "--subjects" : NULL, (char *)subjects, NULL };
        char src[2300];
        snprintf(src, sizeof src, "%s/emg2pose", native);
        char *conv[] = { binabs, "convert", "emg2pose", src, "-o", h5, "--no-progress", NULL };
        rc = run_child(&rss, &secs, synth, log) || run_child(&rss, &secs, conv, log);
        if (!rc && !keep)
            nftw(native, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    double emg = 0;
    if (!rc)
        rc = emg_bytes(&emg, h5);
    long peak[3] = { 0, 0, 0 };
    if (!rc) {
        printf("binary %s\ncorpus %.1f MB of float32 EMG at the native rate\n", binabs, emg / 1e6);
        printf("LOSO of lda-td4, 200 ms windows, -j %s:\n", jobs);
        printf("  %9s %9s %12s %14s %9s\n", "stride_ms", "windows", "peak_rss_MB", "peak/EMG_bytes", "seconds");
    }
    /* the third run: the first stride on a lazy corpus (--corpus-mb 0: a
     * recording is read when a job needs it and dropped after) */
    for (int k = 0; k < 3 && !rc; k++) {
        char db[2300], st[32];
        double stride = strides[k < 2 ? k : 0];
        snprintf(db, sizeof db, "%s/loso-s%g%s.db", dir, stride, k == 2 ? "-lazy" : "");
        snprintf(st, sizeof st, "%g", stride);
        snprintf(log, sizeof log, "%s/loso-s%g%s.log", dir, stride, k == 2 ? "-lazy" : "");
        remove(db);
        char *run[] = { binabs, "run", "--data", h5, "--protocol", "loso", "--methods", "lda-td4", "--window-ms",
                        "200", "--stride-ms", st, "--db", db, "--progress", "none", "-j", (char *)jobs,
                        k == 2 ? "--corpus-mb" : NULL, "0", NULL };
        fflush(stdout);
        if ((rc = run_child(&peak[k], &secs, run, log)))
            break;
        double mb = (double)peak[k] * 1024.0 / 1e6;
        printf("  %9g %9ld %12.1f %14.2f %9.1f%s\n", stride, windows_in(db), mb, mb * 1e6 / emg, secs,
               k == 2 ? "   --corpus-mb 0 (lazy corpus)" : "");
        if (!keep) {
            remove(db);
            remove(log);
        }
    }
    if (!rc)
        printf("peak at stride %g / peak at stride %g: %.2f (goal: about 1, and each peak at most 1.5x the EMG "
               "bytes)\n", strides[0], strides[1], (double)peak[0] / (double)peak[1]);
    if (!keep && !rc) {
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    } else {
        printf("files kept in '%s'\n", dir);
    }
    return rc;
}
