/* bench/bench_main.c - entry of build/bench/run_bench: runs every benchmark
 * in its table, or those named on the command line. */
#include <stdio.h>
#include <string.h>

int bench_resample(int argc, char **argv);
int bench_mbh5(int argc, char **argv);
int bench_convert(int argc, char **argv);

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} benches[] = {
    { "resample", bench_resample },
    { "mbh5",     bench_mbh5 },
    { "convert",  bench_convert },
};

int main(int argc, char **argv)
{
    /* 'run_bench NAME [options]' runs one benchmark with its options;
     * 'run_bench [options]' runs them all, each given the options. */
    const char *only = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    int rc = 0, ran = 0;
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++) {
        if (only && strcmp(only, benches[i].name))
            continue;
        argv[only ? 1 : 0] = (char *)benches[i].name;
        rc |= only ? benches[i].fn(argc - 1, argv + 1) : benches[i].fn(argc, argv);
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "run_bench: no benchmark named '%s'\n", argv[1]);
        return 2;
    }
    return rc ? 1 : 0;
}
