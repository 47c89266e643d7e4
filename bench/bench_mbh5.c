/* bench/bench_mbh5.c - the unified writer and reader against a plain
 * contiguous HDF5 float32 array of the same samples, in the same run.
 *
 * Throughput is megabytes of EMG samples (float32) per second. The signal
 * is EMG-like: band-limited noise quantised to a 16-bit ADC step, so it
 * compresses as recorded EMG does (white noise would not, a constant would
 * too well). Files go to -d DIR (default /tmp), so the page cache, not the
 * disk, is what both sides write to; both include opening and closing. */
#include <getopt.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/rng.h"
#include "format/mbh5.h"

int bench_mbh5(int argc, char **argv);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds of the whole process (all threads): on a shared machine the
 * wall clock also measures the neighbours; MB per CPU second does not. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static long fsize(const char *p)
{
    struct stat sb;
    return stat(p, &sb) ? -1 : (long)sb.st_size;
}

static void make_signal(float *x, size_t n, size_t C)
{
    struct mb_rng r;
    mb_rng_seed(&r, 42, 0);
    const double step = 0.5e-6 * 1e3; /* 0.5 uV per count, in mV */
    for (size_t c = 0; c < C; c++) {
        double y = 0, y2 = 0;
        for (size_t i = 0; i < n; i++) {
            /* Two poles: roughly the 20-450 Hz shape of surface EMG at 2 kHz. */
            y = 0.6 * y + mb_rng_normal(&r);
            y2 = 0.5 * y2 + y - 0.9 * y2 * 0.1;
            x[i * C + c] = (float)(round(y2 * 0.05 / step) * step);
        }
    }
}

static int plain_write(const char *path, const float *x, size_t n, size_t C)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[2] = { n, C };
    hid_t sp = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(f, "emg", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    H5Dclose(d);
    H5Sclose(sp);
    return H5Fclose(f) < 0 || st < 0 || f < 0 ? -1 : 0;
}

static int plain_read(const char *path, float *x)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "emg", H5P_DEFAULT);
    herr_t st = H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    H5Dclose(d);
    return H5Fclose(f) < 0 || st < 0 ? -1 : 0;
}

/* Reads 'nw' windows of 'len' rows at pseudo-random starts. */
static int plain_windows(const char *path, float *buf, size_t n, size_t C, size_t len, size_t nw)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "emg", H5P_DEFAULT);
    hid_t fs = H5Dget_space(d);
    hsize_t cnt[2] = { len, C };
    hid_t ms = H5Screate_simple(2, cnt, NULL);
    struct mb_rng r;
    mb_rng_seed(&r, 7, 0);
    herr_t st = 0;
    for (size_t w = 0; w < nw && st >= 0; w++) {
        hsize_t off[2] = { mb_rng_below(&r, n - len), 0 };
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
        st = H5Dread(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, buf);
    }
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    return H5Fclose(f) < 0 || st < 0 ? -1 : 0;
}

static int unified_write(const char *path, const float *x, size_t n, size_t C, double rate, size_t piece,
                         enum mbh5_compression comp)
{
    struct mbh5_corpus corpus = { .name = "bench", .converter = "bench" };
    struct mbh5_device dev = { .name = "dev", .n_channels = (int)C, .rate_hz = rate, .units = "mV" };
    struct mbh5_rec_info info = { .subject = "s", .device = "dev", .rate_hz = rate, .n_channels = (int)C,
                                  .day = -1, .start_time = NAN };
    struct mbh5_writer *w;
    struct mbh5_rec *r;
    int rc = mbh5_create(&w, path, &corpus);
    if (rc)
        return rc;
    if ((rc = mbh5_set_compression(w, comp)) || (rc = mbh5_add_device(w, &dev)) || (rc = mbh5_rec_begin(w, &r, &info)))
        goto bad;
    for (size_t t = 0; t < n; t += piece)
        if ((rc = mbh5_rec_append(r, x + t * C, NULL, NULL, NULL, n - t < piece ? n - t : piece)))
            goto bad;
    if ((rc = mbh5_rec_end(r)))
        goto bad;
    return mbh5_commit(w);
bad:
    mbh5_abort(w);
    return rc;
}

static int unified_read(const char *path, float *x, size_t n)
{
    struct mbh5_file *f;
    int rc = mbh5_open(&f, path);
    if (rc)
        return rc;
    rc = mbh5_read_emg(f, 0, 0, n, x);
    mbh5_close(f);
    return rc;
}

static int unified_windows(const char *path, float *buf, size_t n, size_t len, size_t nw)
{
    struct mbh5_file *f;
    int rc = mbh5_open(&f, path);
    if (rc)
        return rc;
    struct mb_rng r;
    mb_rng_seed(&r, 7, 0);
    for (size_t w = 0; w < nw && !rc; w++)
        rc = mbh5_read_emg(f, 0, mb_rng_below(&r, n - len), len, buf);
    mbh5_close(f);
    return rc;
}

int bench_mbh5(int argc, char **argv)
{
    double secs = 600, rate = 2000;
    long nch = 16;
    const char *dir = "/tmp";
    int opt;
    optind = 1;
    while ((opt = getopt(argc, argv, "t:s:c:d:h")) != -1) {
        switch (opt) {
        case 't': break; /* shared with other benchmarks; each step here runs once */
        case 's': secs = atof(optarg); break;
        case 'c': nch = atol(optarg); break;
        case 'd': dir = optarg; break;
        default:
            fprintf(opt == 'h' ? stdout : stderr,
                    "usage: mbh5 [-s SIGNAL_SECONDS at 2 kHz] [-c CHANNELS] [-d DIR]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    size_t n = (size_t)(secs * rate), C = (size_t)(nch > 0 ? nch : 16);
    double mb = (double)(n * C * sizeof(float)) / 1e6;
    float *x = malloc(n * C * sizeof *x), *y = malloc(n * C * sizeof *y);
    if (!x || !y) {
        fprintf(stderr, "mbh5: out of memory for %.0f MB\n", mb);
        return 1;
    }
    make_signal(x, n, C);
    char plain[512], uni[512];
    snprintf(plain, sizeof plain, "%s/bench-mbh5-plain-%d.h5", dir, (int)getpid());
    snprintf(uni, sizeof uni, "%s/bench-mbh5-unified-%d.h5", dir, (int)getpid());
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    printf("mbh5: %zu samples x %zu channels float32 (%.0f MB), 2 kHz EMG-like, files in %s\n", n, C, mb, dir);
    double t0 = now(), c0 = cpu_now();
    int bad = plain_write(plain, x, n, C);
    double t_pw = now() - t0, c_pw = cpu_now() - c0;
    t0 = now(), c0 = cpu_now();
    bad |= unified_write(uni, x, n, C, rate, (size_t)rate, MBH5_COMPRESS_FAST) != MB_OK;
    double t_uw = now() - t0, c_uw = cpu_now() - c0;
    t0 = now(), c0 = cpu_now();
    bad |= plain_read(plain, y);
    double t_pr = now() - t0, c_pr = cpu_now() - c0;
    t0 = now(), c0 = cpu_now();
    bad |= unified_read(uni, y, n) != MB_OK;
    double t_ur = now() - t0, c_ur = cpu_now() - c0;
    if (!bad && memcmp(x, y, n * C * sizeof *x)) {
        fprintf(stderr, "mbh5: unified read differs from what was written\n");
        bad = 1;
    }
    /* 200 ms windows (400 rows), as a protocol reads them. */
    size_t len = 400, nw = 5000;
    t0 = now();
    bad |= plain_windows(plain, y, n, C, len, nw);
    double t_pwin = now() - t0;
    t0 = now();
    bad |= unified_windows(uni, y, n, len, nw) != MB_OK;
    double t_uwin = now() - t0;
    /* The same, chunked but uncompressed (MBH5_COMPRESS_NONE). */
    char raw[512];
    snprintf(raw, sizeof raw, "%s/bench-mbh5-raw-%d.h5", dir, (int)getpid());
    t0 = now();
    bad |= unified_write(raw, x, n, C, rate, (size_t)rate, MBH5_COMPRESS_NONE) != MB_OK;
    double t_nw = now() - t0;
    t0 = now();
    bad |= unified_read(raw, y, n) != MB_OK;
    double t_nr = now() - t0;
    t0 = now();
    bad |= unified_windows(raw, y, n, len, nw) != MB_OK;
    double t_nwin = now() - t0;
    long raw_size = fsize(raw);
    unlink(raw);
    if (bad) {
        fprintf(stderr, "mbh5: a step failed: %s\n", mb_last_error());
    } else {
        printf("  %-26s %10s %10s %10s\n", "", "plain", "unified", "ratio");
        printf("  %-26s %10.0f %10.0f %10.2f\n", "write MB/s", mb / t_pw, mb / t_uw, t_pw / t_uw);
        printf("  %-26s %10.0f %10.0f %10.2f\n", "write MB per CPU s", mb / c_pw, mb / c_uw, c_pw / c_uw);
        printf("  %-26s %10.0f %10.0f %10.2f\n", "read whole MB/s", mb / t_pr, mb / t_ur, t_pr / t_ur);
        printf("  %-26s %10.0f %10.0f %10.2f\n", "read whole MB per CPU s", mb / c_pr, mb / c_ur, c_pr / c_ur);
        printf("  %-26s %10.0f %10.0f %10.2f\n", "200 ms windows/s", (double)nw / t_pwin, (double)nw / t_uwin,
               t_pwin / t_uwin);
        printf("  %-26s %10.1f %10.1f %10.2f\n", "file MB", (double)fsize(plain) / 1e6, (double)fsize(uni) / 1e6,
               (double)fsize(uni) / (double)fsize(plain));
        printf("  (ratio = unified speed / plain speed; file ratio = unified size / plain size)\n");
        printf("  uncompressed unified (MBH5_COMPRESS_NONE): write %.0f MB/s (%.2f), read %.0f MB/s (%.2f), "
               "%.0f windows/s (%.2f), file %.1f MB\n", mb / t_nw, t_pw / t_nw, mb / t_nr, t_pr / t_nr,
               (double)nw / t_nwin, t_pwin / t_nwin, (double)raw_size / 1e6);
    }
    unlink(plain);
    if (!getenv("MBH5_BENCH_KEEP")) unlink(uni);
    free(x);
    free(y);
    return bad ? 1 : 0;
}
