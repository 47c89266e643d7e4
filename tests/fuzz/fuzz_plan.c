/* tests/fuzz/fuzz_plan.c - libFuzzer target for the plan reader
 * (harness/plan.c): the input is a PLAN.yaml, loaded exactly as 'myobench
 * run PLAN.yaml' loads it - hn_plan_load against the real registries, so
 * every method's typed parameter table and check (mb_method_parse) is
 * reached through "params:", and every protocol's settings table through
 * its keys - and a plan that loads is checked against what the runner and
 * the job keys rely on: the canonical texts of the parsed parameters and
 * settings read back to the same texts (one job, one key). hn_plan_load
 * takes a path, so each input is written to a
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
#include "methods/method.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[96];

/* The folder goes when the process ends (in -fork mode every job is a new
 * process with a folder of its own). */
static void remove_dir(void)
{
    remove(path);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mb_log_set_level(MB_LOG_QUIET);
    snprintf(dir, sizeof dir, "/tmp/fuzz_plan_%ld", (long)getpid());
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/plan.yaml", dir);
    atexit(remove_dir);
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
    char a[4096], b[4096];
    for (size_t i = 0; i < pl.n_protocols; i++) {
        if (!pl.protocol[i].p || !pl.protocol[i].label)
            abort();
        /* the settings' canonical text is a fixed point of the parser */
        struct pr_settings s;
        if (pr_settings_text(a, sizeof a, pl.protocol[i].p, &pl.protocol[i].s) >= sizeof a ||
            pr_settings_parse(&s, pl.protocol[i].p, a) != MB_OK ||
            pr_settings_text(b, sizeof b, pl.protocol[i].p, &s) >= sizeof b || strcmp(a, b))
            abort();
        for (size_t j = 0; j < i; j++)
            if (!strcmp(pl.protocol[i].label, pl.protocol[j].label))
                abort();   /* two report blocks of one name */
    }
    for (size_t i = 0; i < pl.n_methods; i++) {
        if (!pl.method[i].m || !pl.method[i].label || !pl.method[i].params || !pl.method[i].hp)
            abort();
        /* the parameters' canonical text (in the job key) reads back to itself */
        void *hp;
        if (mb_method_parse(&hp, pl.method[i].m, pl.method[i].params) != MB_OK)
            abort();
        char *t = mb_method_params_text(pl.method[i].m, hp);
        char *t0 = mb_method_params_text(pl.method[i].m, pl.method[i].hp);
        if (!t || !t0 || strcmp(t, pl.method[i].params) || strcmp(t0, pl.method[i].params))
            abort();
        free(t);
        free(t0);
        free(hp);
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
