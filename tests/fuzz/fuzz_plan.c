/* tests/fuzz/fuzz_plan.c - libFuzzer target for the plan reader
 * (harness/plan.c): the input is a PLAN.yaml, loaded exactly as 'myobench
 * run PLAN.yaml' loads it - hn_plan_load against the real registries, so
 * every method's parameter check (check_params) is reached through
 * "params:" - and a plan that loads is checked against what the runner
 * relies on. hn_plan_load takes a path, so each input is written to a
 * private temporary file first; its folder is a subfolder, so relative
 * data paths are joined to it.
 * Not part of 'make test'; see tests/fuzz/README.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/plan.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[96];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mb_log_set_level(MB_LOG_QUIET);
    snprintf(dir, sizeof dir, "/tmp/fuzz_plan_%ld", (long)getpid());
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/plan.yaml", dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    struct hn_plan pl;
    if (hn_plan_load(&pl, path, NULL) != MB_OK) {
        /* a failed load leaves nothing behind (hn_plan_release is not called) */
        if (pl.data || pl.protocol || pl.method || pl.seed || pl.text)
            abort();
        return 0;
    }
    /* what hn_run and the job keys rely on */
    if (!pl.n_data || !pl.n_protocols || !pl.n_methods || !pl.n_seeds || !pl.text)
        abort();
    if (!(pl.view.window_ms > 0) || !(pl.view.stride_ms > 0) || !(pl.view.rate_hz >= 0))
        abort();
    for (size_t i = 0; i < pl.n_data; i++)
        if (!pl.data[i] || !pl.data[i][0])
            abort();
    for (size_t i = 0; i < pl.n_protocols; i++) {
        if (!pl.protocol[i].p || !pl.protocol[i].label)
            abort();
        for (size_t j = 0; j < i; j++)
            if (!strcmp(pl.protocol[i].label, pl.protocol[j].label))
                abort();   /* two report blocks of one name */
    }
    for (size_t i = 0; i < pl.n_methods; i++) {
        if (!pl.method[i].m || !pl.method[i].label || !pl.method[i].params)
            abort();
        for (size_t j = 0; j < i; j++)
            if (!strcmp(pl.method[i].label, pl.method[j].label))
                abort();   /* two report rows of one name */
    }
    for (size_t i = 0; i < pl.n_seeds; i++)
        for (size_t j = 0; j < i; j++)
            if (pl.seed[i] == pl.seed[j])
                abort();
    hn_plan_release(&pl);
    return 0;
}
