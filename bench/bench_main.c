/* bench/bench_main.c - runs every benchmark, or those named on the command
 * line: run_bench [name...] [-- args for the benchmarks]. */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"

struct bench {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct bench benches[] = {
    { "resample", bench_resample, "polyphase resampler throughput, reference vs optimised" },
    { "mbh5",     bench_mbh5,     "unified writer/reader throughput vs plain HDF5 of the same array" },
    { "convert",  bench_convert,  "emg2pose conversion throughput vs plain HDF5 read, peak RSS" },
    { "features", bench_features, "feature extraction throughput vs memory read bandwidth" },
    { "baselines", bench_baselines, "fit and predict time of each classical classifier, 40 features, 10 classes" },
    { "nn",       bench_nn,       "neural engine: matmul GFLOP/s in a transformer training step vs sgemm peak" },
    { "harness",  bench_harness,  "harness jobs per minute at 1 and 2 threads, parallel efficiency" },
    { "corpus",   bench_corpus,   "peak RSS of the CLI's LOSO vs the corpus's EMG bytes, at two window strides" },
    { "nn-torch", bench_nn_torch,
      "the same transformer, then EMBridge's stage-2 step, trained in myobench and in PyTorch, 1 and 2 threads" },
    { NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
    int split = argc;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--")) { split = i; break; }
    int bargc = argc - split;        /* argv[split] ("--" or end) plays argv[0] */
    char **bargv = argv + split;
    char *none[] = { "run_bench", NULL };
    if (bargc <= 0) { bargc = 1; bargv = none; }
    int status = 0, ran = 0;
    for (const struct bench *b = benches; b->name; b++) {
        int selected = split == 1;
        for (int i = 1; i < split; i++)
            selected |= !strcmp(argv[i], b->name);
        if (!selected) continue;
        printf("== %s: %s\n", b->name, b->summary);
        fflush(stdout);
        if (b->fn(bargc, bargv)) status = 1;
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "run_bench: no benchmark matches; known:");
        for (const struct bench *b = benches; b->name; b++) fprintf(stderr, " %s", b->name);
        fprintf(stderr, "\n");
        return 2;
    }
    return status;
}
