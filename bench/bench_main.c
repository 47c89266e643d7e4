/* bench/bench_main.c - 'make bench': runs the benchmarks of the table below
 * (all, or those named by the first argument) and prints what each measures.
 * Adding one: write bench/bench_<name>.c with int bench_<name>(argc, argv),
 * declare it here and add a row. Extra arguments go to the benchmark. */
#include <stdio.h>
#include <string.h>

#include "core/err.h"

int bench_convert(int argc, char **argv);

static const struct bench {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} benches[] = {
    { "convert", bench_convert, "emg2pose conversion vs a plain HDF5 read of the same files" },
    { NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    int ran = 0, rc = 0;
    for (const struct bench *b = benches; b->name; b++) {
        if (only && strcmp(only, b->name))
            continue;
        printf("== %s: %s\n", b->name, b->summary);
        fflush(stdout);
        char *none[] = { (char *)b->name, NULL };
        int r = only ? b->fn(argc - 1, argv + 1) : b->fn(1, none);
        rc |= r != 0;
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "run_bench: no benchmark named '%s'; have:", only);
        for (const struct bench *b = benches; b->name; b++)
            fprintf(stderr, " %s", b->name);
        fputc('\n', stderr);
        return 2;
    }
    return rc;
}
