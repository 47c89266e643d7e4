/* bench/bench_features.c - feature extraction throughput (GB/s of float32
 * input read) for TD4 and for the full set, on one thread and on all, next
 * to the memory read bandwidth measured in the same run by a streaming sum
 * over the same buffer, as a ratio. Non-overlapping windows (stride =
 * window), so the bytes the extractor reads are the buffer's bytes.
 *
 * Options (after `--` when run through run_bench):
 *   --mib N        buffer for TD4, in MiB (default 64: beyond the caches)
 *   --noquad-mib N buffer for every feature but SAMPEN and FUZZYEN (default 8)
 *   --full-mib N   buffer for the full set (default 1: SAMPEN and FUZZYEN
 *                  are O(N^2) per window, so the full set is compute-bound)
 *   --reps N       timed repetitions, best kept (default 3)
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "core/err.h"
#include "core/rng.h"
#include "kernels/features.h"
#include "kernels/window.h"

enum { C_CH = 8, W_SAMPLES = 200 };
static const double FS = 1000.0;

/* Streaming read of the buffer: per-thread float lanes, so the loop is as
 * wide as the extractor's, and the sum is used so nothing is elided. */
static double stream_sum(const float *x, size_t n)
{
    double total = 0;
#pragma omp parallel reduction(+ : total)
    {
        float lanes[16] = { 0 };
#pragma omp for schedule(static)
        for (size_t i = 0; i < n / 16; i++) {
#pragma omp simd
            for (int l = 0; l < 16; l++)
                lanes[l] += x[i * 16 + l];
        }
        for (int l = 0; l < 16; l++)
            total += lanes[l];
    }
    return total;
}

/* Best of reps timings, each repeating the sum until 50 ms have passed so
 * a buffer that fits in cache is still timed well. */
static double best_bw(const float *x, size_t n, int threads, int reps, double *sink)
{
    omp_set_num_threads(threads);
    double best = 0;
    for (int r = 0; r < reps; r++) {
        size_t k = 0;
        double t0 = bench_now(), dt;
        do {
            *sink += stream_sum(x, n);
            k++;
            dt = bench_now() - t0;
        } while (dt < 0.05);
        double gbs = (double)k * (double)n * sizeof(float) / dt / 1e9;
        if (gbs > best) best = gbs;
    }
    return best;
}

static int run_set(const char *label, const char *set, size_t mib, int reps, int maxthr)
{
    size_t T = mib * 1024 * 1024 / sizeof(float) / C_CH;
    T -= T % W_SAMPLES;
    float *x = malloc(T * C_CH * sizeof *x);
    if (!x) { fprintf(stderr, "bench features: cannot allocate %zu MiB\n", mib); return 1; }
    struct mb_rng r;
    mb_rng_seed(&r, 1, 0);
    for (size_t i = 0; i < T * C_CH; i++)
        x[i] = (float)mb_rng_normal(&r);
    struct kern_feat_params p;
    kern_feat_params_default(&p);
    p.fs = FS;
    p.thr_unit = KERN_THR_SIGNAL;
    p.zc_thr = 0.01; p.ssc_thr = 0.01; p.wamp_thr = 0.1;
    struct kern_feature_set fs;
    struct kern_windows w;
    struct kern_window_spec sp = { .win_ms = W_SAMPLES * 1000.0 / FS, .stride_ms = W_SAMPLES * 1000.0 / FS };
    if (kern_feature_set_parse(&fs, set, &p) || kern_windows_make(&w, &sp, FS, NULL, NULL, T)) {
        free(x);
        return 1;
    }
    size_t F = kern_feature_set_width(&fs, C_CH);
    float *out = malloc(w.n * F * sizeof *out);
    double sink = 0;
    int rc = 0;
    for (int thr = 1; thr <= maxthr && !rc; thr = thr == maxthr ? maxthr + 1 : (thr * 2 > maxthr ? maxthr : thr * 2)) {
        double bw = best_bw(x, T * C_CH, thr, reps, &sink);
        omp_set_num_threads(thr);
        double best = INFINITY;
        for (int k = 0; k < reps && !rc; k++) {
            double t0 = bench_now();
            rc = kern_features_extract(out, x, T, C_CH, &w, &fs);
            double dt = bench_now() - t0;
            if (dt < best) best = dt;
        }
        double gbs = (double)T * C_CH * sizeof(float) / best / 1e9;
        printf("%-6s %5zu %3zu %7d %10.4f %10.3f %7.4f %12.1f\n", label, mib, F, thr, gbs, bw, gbs / bw,
               1e6 * best / (double)w.n);
    }
    if (sink == 12345.678) printf("#\n");   /* keeps the streaming sums alive */
    free(out);
    free(x);
    kern_windows_free(&w);
    kern_feature_set_free(&fs);
    return rc ? 1 : 0;
}

int bench_features(int argc, char **argv)
{
    size_t mib = 64, full_mib = 1, noquad_mib = 8;
    int reps = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mib") && i + 1 < argc) mib = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--full-mib") && i + 1 < argc) full_mib = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--noquad-mib") && i + 1 < argc) noquad_mib = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    }
    if (mib < 1) mib = 1;
    if (full_mib < 1) full_mib = 1;
    if (noquad_mib < 1) noquad_mib = 1;
    if (reps < 1) reps = 1;
    int maxthr = omp_get_num_procs();
    printf("%d channels, windows of %d samples, stride = window; GB/s of float32 input;\n"
           "read-bw = streaming sum over the same buffer with the same threads; ratio = GB/s / read-bw;\n"
           "NOQUAD = every feature but SAMPEN and FUZZYEN (O(N^2) per window)\n",
           C_CH, W_SAMPLES);
    printf("%-6s %5s %3s %7s %10s %10s %7s %12s\n", "set", "MiB", "F", "threads", "GB/s", "read-bw", "ratio",
           "us/window");
    /* the full set, and the full set without the two O(N^2) entropies */
    char noquad[1024] = "";
    for (const struct kern_feature *f = kern_features; f->name; f++)
        if (!(f->flags & KERN_FEAT_QUAD))
            snprintf(noquad + strlen(noquad), sizeof noquad - strlen(noquad), "%s%s", *noquad ? "," : "", f->name);
    int rc = run_set("TD4", "TD4", mib, reps, maxthr);
    rc |= run_set("NOQUAD", noquad, noquad_mib, reps, maxthr);
    rc |= run_set("ALL", "ALL", full_mib, reps, maxthr);
    return rc;
}
