/* bench/bench_resample.c - throughput of the resampler: reference vs
 * optimised, one thread vs all threads, on float32 input (16 channels unless
 * -c says otherwise).
 * Throughput is megabytes of input consumed per second. Every variant is
 * checked against the reference before it is timed. */
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/rng.h"
#include "kernels/resample.h"

int bench_resample(int argc, char **argv);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs one variant on the whole signal until 'min_s' seconds have passed;
 * returns MB of input per second. */
static double rate_mbs(float *out, const float *in, size_t n_in, size_t C,
                       const struct kern_resampler *r, int ref, double min_s)
{
    size_t len = kern_resample_length(r, n_in);
    int reps = 0;
    double t0 = now(), t;
    do {
        if (ref)
            kern_resample_f32_ref(out, in, 0, n_in, n_in, 0, len, C, r);
        else
            kern_resample_f32(out, in, 0, n_in, n_in, 0, len, C, r);
        reps++;
        t = now() - t0;
    } while (t < min_s);
    return (double)reps * (double)(n_in * C * sizeof(float)) / t / 1e6;
}

int bench_resample(int argc, char **argv)
{
    double min_s = 0.5, secs = 20;
    long nch = 16;
    int opt;
    optind = 1;
    while ((opt = getopt(argc, argv, "t:s:c:h")) != -1) {
        switch (opt) {
        case 't': min_s = atof(optarg); break;
        case 's': secs = atof(optarg); break;
        case 'c': nch = atol(optarg); break;
        default:
            fprintf(opt == 'h' ? stdout : stderr,
                    "usage: resample [-t MIN_SECONDS_PER_TIMING] [-s SIGNAL_SECONDS] [-c CHANNELS]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (nch < 1 || min_s < 0 || !(secs > 0)) {
        fprintf(stderr, "bench resample: need -c >= 1, -t >= 0 and -s > 0\n");
        return 2;
    }
    static const double pairs[][2] = { { 2000, 200 }, { 200, 2000 }, { 2048, 2000 } };
    const size_t C = (size_t)nch;
    int nthr = omp_get_max_threads();
    printf("resample: float32, %zu channels, %g s of signal, MB of input per second\n", C, secs);
    printf("%-16s %5s %10s %10s %10s %9s %9s %9s\n", "rates (Hz)", "taps", "ref", "opt 1 thr",
           "opt all", "opt/ref", "all/1 thr", "max diff");
    for (size_t pi = 0; pi < sizeof pairs / sizeof pairs[0]; pi++) {
        struct kern_resampler r;
        if (kern_resampler_init(&r, pairs[pi][0], pairs[pi][1]) != MB_OK)
            return 1;
        size_t n_in = (size_t)(secs * pairs[pi][0]);
        size_t len = kern_resample_length(&r, n_in);
        float *x = malloc(n_in * C * sizeof *x);   /* [n_in x C] */
        float *y = malloc(len * C * sizeof *y);    /* [len x C] */
        float *z = malloc(len * C * sizeof *z);    /* [len x C] */
        if (!x || !y || !z) {
            fprintf(stderr, "bench resample: out of memory\n");
            return 1;
        }
        struct mb_rng g;
        mb_rng_seed(&g, 1, 0);
        for (size_t i = 0; i < n_in * C; i++)
            x[i] = (float)mb_rng_normal(&g);

        kern_resample_f32_ref(z, x, 0, n_in, n_in, 0, len, C, &r);
        kern_resample_f32(y, x, 0, n_in, n_in, 0, len, C, &r);
        double maxd = 0, peak = 0;
        for (size_t i = 0; i < len * C; i++) {
            maxd = fmax(maxd, fabs((double)y[i] - z[i]));
            peak = fmax(peak, fabs((double)z[i]));
        }
        maxd /= peak;
        if (maxd > 1e-5) {
            fprintf(stderr, "bench resample: optimised differs from reference by %g of the peak\n", maxd);
            return 1;
        }

        double ref = rate_mbs(z, x, n_in, C, &r, 1, min_s);
        omp_set_num_threads(1);
        double o1 = rate_mbs(y, x, n_in, C, &r, 0, min_s);
        omp_set_num_threads(nthr);
        double on = rate_mbs(y, x, n_in, C, &r, 0, min_s);
        char name[32];
        snprintf(name, sizeof name, "%g -> %g", pairs[pi][0], pairs[pi][1]);
        printf("%-16s %5zu %10.1f %10.1f %10.1f %8.2fx %8.2fx %9.1e\n", name, r.taps_per_phase, ref,
               o1, on, o1 / ref, on / o1, maxd);
        free(x);
        free(y);
        free(z);
        kern_resampler_free(&r);
    }
    printf("(%d threads for 'all'; ref is single-threaded; max diff: |opt - ref| / peak)\n", nthr);
    return 0;
}
