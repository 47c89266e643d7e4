/* bench/bench.h - benchmarks run by `make bench` (build/bench/run_bench).
 * Each benchmark is int bench_<name>(int argc, char **argv), returns 0 on
 * success, prints its own table on stdout, and is one row of benches[] in
 * bench/bench_main.c. */
#ifndef MB_BENCH_BENCH_H
#define MB_BENCH_BENCH_H

#include <time.h>

int bench_resample(int argc, char **argv);
int bench_features(int argc, char **argv);
int bench_mbh5(int argc, char **argv);
int bench_convert(int argc, char **argv);
int bench_baselines(int argc, char **argv);
int bench_nn(int argc, char **argv);
int bench_harness(int argc, char **argv);
int bench_corpus(int argc, char **argv);
int bench_nn_torch(int argc, char **argv);

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
