/* bench/bench_convert.c - emg2pose conversion throughput.
 *
 *   run_bench convert [--size-mb N] [--dir DIR] [-j N] [--keep]
 *
 * Builds (or, given a --dir that already holds metadata.csv, reuses) an
 * emg2pose corpus of about N MB of session files in the official layout
 * (f8 time and joint angles, 16 x f4 EMG, contiguous; 60 s files at 2 kHz,
 * left and right per recording), then in the same run measures:
 *   - a plain HDF5 read: H5Dread of each whole compound into memory;
 *   - the converter's read path alone (conv_e2p_read in 64k-row blocks);
 *   - the conversion (conv_emg2pose, as 'myobench convert emg2pose -j N'),
 *     in a child process so its peak RSS (ru_maxrss) is its own, once with
 *     the default compression and once with --compression none;
 * and prints MB/s of source for both, their ratio (goal > 0.7) and the
 * conversion's peak RSS. Both passes read files the generator has just
 * written, so both see a warm page cache; the plain read runs twice and the
 * faster pass counts, which favours the baseline.
 */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "converters/common.h"
#include "converters/conv_emg2pose.h"
#include "converters/emg2pose_h5.h"
#include "core/fs.h"
#include "core/rng.h"

#define ROWS_PER_FILE 120000    /* 60 s at 2 kHz, about one stage */
#define EMG_CH 16
#define RECORD_BYTES (8 + 8 * CONV_E2P_JOINTS + 4 * EMG_CH)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *const stages[] = {
    "FingerFreeform", "WristFlexionAbduction", "PokePinchCloseFar", "ShakaVulcanPeace",
    "CountingUpDownFaceSideAway", "HandClawGraspFlicks",
};

/* File k: user k/8, recording (k/2)%4, side k%2. */
static void file_stem(char *buf, size_t cap, size_t k, char *session, size_t scap)
{
    size_t user = k / 8;
    snprintf(session, scap, "2023-01-%02zu-%010zu-%05zx-cv-emg-pose-train@2", 1 + user % 28,
             (size_t)1672531200 + 86400 * user, 0xa0000 + user);
    snprintf(buf, cap, "%s-recording-%zu_%s", session, 1 + (k / 2) % 4, k % 2 ? "right" : "left");
}

static int generate(const char *dir, size_t n_files)
{
    const size_t T = ROWS_PER_FILE;
    double *time = malloc(T * sizeof *time);
    double *joints = malloc(T * CONV_E2P_JOINTS * sizeof *joints);
    float *emg = malloc(T * EMG_CH * sizeof *emg);
    char *csvp = conv_join(dir, "metadata.csv");
    FILE *csv = csvp ? fopen(csvp, "w") : NULL;
    if (!time || !joints || !emg || !csv) {
        fprintf(stderr, "bench convert: cannot prepare '%s'\n", dir);
        return 1;
    }
    fprintf(csv, "session,user,stage,start,end,side,filename,moving_hand,held_out_user,held_out_stage,"
                 "split,generalization\n");
    int rc = 0;
    for (size_t k = 0; k < n_files && !rc; k++) {
        struct mb_rng r;
        mb_rng_seed(&r, 20240601, k);
        double t0 = 1672531200.0 + 3600.0 * (double)k;
        for (size_t i = 0; i < T; i++) {
            time[i] = t0 + (double)i / 2000.0;
            /* Slow joint motion; one IK failure run per second. */
            int ik_fail = i % 2000 < 20;
            for (int j = 0; j < CONV_E2P_JOINTS; j++)
                joints[i * CONV_E2P_JOINTS + j] = ik_fail ? 0.0 : 0.6 * sin(0.002 * (double)i + 0.3 * j);
            double env = 20.0 + 15.0 * sin(0.0007 * (double)i);
            for (int c = 0; c < EMG_CH; c++)
                emg[i * EMG_CH + c] = (float)(env * mb_rng_normal(&r));
        }
        char stem[160], session[96], user[32], path[1400];
        file_stem(stem, sizeof stem, k, session, sizeof session);
        snprintf(user, sizeof user, "u%09zu", k / 8);
        const char *stage = stages[(k / 2) % (sizeof stages / sizeof stages[0])];
        struct conv_e2p_spec s = {
            .n_rows = T, .n_emg = EMG_CH, .time = time, .joints = joints, .emg = emg,
            .attrs = { .filename = stem, .session = session, .side = k % 2 ? "right" : "left",
                       .stage = stage, .user = user, .start = t0, .end = time[T - 1],
                       .sample_rate = 2000.0, .num_channels = EMG_CH },
        };
        snprintf(path, sizeof path, "%s/%s.hdf5", dir, stem);
        rc = conv_e2p_write(path, &s) != MB_OK;
        int held_user = (k / 8) % 5 == 4;
        int held_stage = !strcmp(stage, "ShakaVulcanPeace");
        fprintf(csv, "%s,%s,%s,%.17g,%.17g,%s,%s,both,%s,%s,%s,%s\n", session, user, stage, t0, time[T - 1],
                k % 2 ? "right" : "left", stem, held_user ? "True" : "False", held_stage ? "True" : "False",
                held_user || held_stage ? "test" : "train",
                held_user && held_stage ? "user_stage" : held_user ? "user" : held_stage ? "stage" : "");
    }
    if (fclose(csv) != 0)
        rc = 1;
    free(csvp);
    free(time);
    free(joints);
    free(emg);
    return rc;
}

/* Plain read of every listed file: the whole compound, native types. */
static int plain_read(const struct conv_files *fl, const char *dir, double *checksum)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    unsigned char *buf = NULL;
    size_t cap = 0;
    double sum = 0;
    for (size_t i = 0; i < fl->n; i++) {
        char *p = conv_join(dir, fl->rel[i]);
        hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
        free(p);
        hid_t d = f < 0 ? -1 : H5Dopen2(f, "/emg2pose/timeseries", H5P_DEFAULT);
        if (d < 0) {
            fprintf(stderr, "bench convert: cannot open '%s'\n", fl->rel[i]);
            return 1;
        }
        hid_t ft = H5Dget_type(d), mt = H5Tget_native_type(ft, H5T_DIR_ASCEND);
        hid_t sp = H5Dget_space(d);
        size_t n = (size_t)H5Sget_simple_extent_npoints(sp), sz = H5Tget_size(mt);
        if (n * sz > cap) {
            free(buf);
            cap = n * sz;
            buf = malloc(cap);
        }
        if (!buf || H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
            fprintf(stderr, "bench convert: cannot read '%s'\n", fl->rel[i]);
            return 1;
        }
        for (size_t k = 0; k < n; k += 997)
            sum += ((const double *)(buf + k * sz))[0];
        H5Sclose(sp);
        H5Tclose(mt);
        H5Tclose(ft);
        H5Dclose(d);
        H5Fclose(f);
    }
    free(buf);
    *checksum = sum;
    return 0;
}

/* The converter's own read path alone: conv_e2p_read in 64k-row blocks
 * (native memory compound, split into time / joints / EMG arrays). */
static int reader_pass(const struct conv_files *fl, const char *dir)
{
    const size_t B = 65536;
    double *t = malloc(B * sizeof *t), *j = malloc(B * CONV_E2P_JOINTS * sizeof *j);
    float *e = malloc(B * EMG_CH * sizeof *e);
    int rc = !t || !j || !e;
    for (size_t i = 0; i < fl->n && !rc; i++) {
        char *p = conv_join(dir, fl->rel[i]);
        struct conv_e2p_file *f = NULL;
        rc = !p || conv_e2p_open(&f, p) != MB_OK || f->n_emg > EMG_CH;
        for (size_t s = 0; !rc && s < f->n_rows; s += B)
            rc = conv_e2p_read(f, s, f->n_rows - s < B ? f->n_rows - s : B, t, j, e) != MB_OK;
        conv_e2p_close(f);
        free(p);
    }
    free(t);
    free(j);
    free(e);
    return rc;
}

static void remove_tree(const char *dir)
{
    struct conv_files fl;
    if (conv_list_files(&fl, dir, NULL) == MB_OK) {
        for (size_t i = 0; i < fl.n; i++) {
            char *p = conv_join(dir, fl.rel[i]);
            if (p)
                unlink(p);
            free(p);
        }
        conv_files_release(&fl);
    }
    rmdir(dir);
}

int bench_convert(int argc, char **argv)
{
    double size_mb = 1000;
    const char *dir_arg = NULL;
    int threads = 2, keep = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--size-mb") && i + 1 < argc) size_mb = atof(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir_arg = argv[++i];
        else if (!strcmp(argv[i], "-j") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--keep")) keep = 1;
        else {
            fprintf(stderr, "usage: run_bench convert [--size-mb N] [--dir DIR] [-j N] [--keep]\n");
            return 2;
        }
    }
    if (threads < 1 || !(size_mb > 0)) {
        fprintf(stderr, "bench convert: -j and --size-mb must be positive\n");
        return 2;
    }
    mb_log_set_level(MB_LOG_ERROR);
    char tmpl[] = "/tmp/mb-bench-e2p-XXXXXX";
    char src[1024];
    int made_dir = 0;
    if (dir_arg) {
        snprintf(src, sizeof src, "%s", dir_arg);
        if (mb_fs_mkdirs(src) != MB_OK)
            return 1;
        keep = 1;
    } else {
        if (!mkdtemp(tmpl)) {
            fprintf(stderr, "bench convert: mkdtemp: %s\n", strerror(errno));
            return 1;
        }
        snprintf(src, sizeof src, "%s", tmpl);
        made_dir = 1;
    }
    char *csvp = conv_join(src, "metadata.csv");
    int reuse = csvp && mb_fs_is_file(csvp);
    free(csvp);
    if (!reuse) {
        size_t per_file = (size_t)ROWS_PER_FILE * RECORD_BYTES;
        size_t n_files = (size_t)ceil(size_mb * 1e6 / (double)per_file);
        if (n_files < 2)
            n_files = 2;
        printf("generating %zu emg2pose files of %.1f MB in '%s'\n", n_files, per_file / 1e6, src);
        fflush(stdout);
        double t = now_s();
        if (generate(src, n_files))
            return 1;
        printf("  generated in %.1f s\n", now_s() - t);
    } else {
        printf("reusing the emg2pose corpus in '%s'\n", src);
    }

    struct conv_files fl;
    if (conv_list_files(&fl, src, ".hdf5") != MB_OK)
        return 1;
    double bytes = 0;
    for (size_t i = 0; i < fl.n; i++) {
        char *p = conv_join(src, fl.rel[i]);
        struct stat st;
        if (p && stat(p, &st) == 0)
            bytes += (double)st.st_size;
        free(p);
    }

    double best_plain = INFINITY, sum = 0;
    for (int pass = 0; pass < 2; pass++) {
        double t = now_s();
        if (plain_read(&fl, src, &sum))
            return 1;
        double dt = now_s() - t;
        if (dt < best_plain)
            best_plain = dt;
    }

    double best_reader = INFINITY;
    for (int pass = 0; pass < 2; pass++) {
        double t = now_s();
        if (reader_pass(&fl, src))
            return 1;
        double dt = now_s() - t;
        if (dt < best_reader)
            best_reader = dt;
    }

    double mb = bytes / 1e6;
    printf("  corpus          %zu files, %.1f MB of source (%.0f rows, checksum %.6g)\n", fl.n, mb,
           bytes / RECORD_BYTES, sum);
    printf("  plain H5Dread   %8.1f MB/s  (%.2f s)\n", mb / best_plain, best_plain);
    printf("  emg2pose reader %8.1f MB/s  (%.2f s; ratio %.2f to the plain read)\n", mb / best_reader,
           best_reader, best_plain / best_reader);
    /* The default output (shuffle + deflate) and --compression none: the
     * second shows what the conversion costs without the compressor. */
    for (int uncompressed = 0; uncompressed < 2; uncompressed++) {
        char outdir[] = "/tmp/mb-bench-out-XXXXXX", out[1100];
        if (!mkdtemp(outdir))
            return 1;
        snprintf(out, sizeof out, "%s/emg2pose.h5", outdir);
        fflush(stdout);
        double t = now_s();
        pid_t pid = fork();
        if (pid == 0) {
            /* The child does the whole conversion, so ru_maxrss is its own. */
            omp_set_num_threads(threads);
            struct mb_convert_opts o = { .src = src, .out = out, .threads = threads, .uncompressed = uncompressed };
            struct mb_convert_result res = {0};
            int rc = conv_emg2pose.convert(&o, &res);
            _exit(rc == MB_OK && res.n_files == fl.n ? 0 : 1);
        }
        int status = 0;
        struct rusage ru;
        if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
            fprintf(stderr, "bench convert: the conversion failed\n");
            return 1;
        }
        double conv_s = now_s() - t;
        struct stat ost;
        double out_bytes = stat(out, &ost) == 0 ? (double)ost.st_size : 0;
        const char *what = uncompressed ? "--compression none" : "deflate (default)";
        printf("  convert -j %-3d  %8.1f MB/s  (%.2f s; %s; output %.1f MB)\n", threads, mb / conv_s, conv_s,
               what, out_bytes / 1e6);
        printf("  ratio           %8.2f      (convert / plain read, %s; goal > 0.7)\n", best_plain / conv_s, what);
        printf("  peak RSS        %8.1f MB    (conversion process, ru_maxrss)\n", (double)ru.ru_maxrss / 1024.0);
        fflush(stdout);
        unlink(out);
        rmdir(outdir);
    }

    conv_files_release(&fl);
    if (made_dir && !keep)
        remove_tree(src);
    else if (made_dir)
        printf("  corpus kept in '%s'\n", src);
    return 0;
}
