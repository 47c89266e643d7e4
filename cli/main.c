/* cli/main.c - myobench entry point: a table of subcommands (git's
 * commands[] pattern). See cli/cmd.h for how to add one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "core/err.h"
#include "core/version.h"
#include "harness/run.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    { "synth",    cmd_synth,    "generate a synthetic population in every native format" },
    { "convert",  cmd_convert,  "convert a source corpus into the unified HDF5 format" },
    { "info",     cmd_info,     "summarise a unified file (subjects, hours, devices, gestures, splits)" },
    { "describe", cmd_describe, "per-subject statistics of a unified file, to hold one corpus against another" },
    { "validate", cmd_validate, "check a unified file in depth; one line per problem" },
    { "methods",  cmd_methods,  "list the methods and protocols; with a NAME, its parameters" },
    { "protocols", cmd_protocols, "list the protocols; with a NAME, its settings" },
    { "run",      cmd_run,      "run a plan of datasets x protocols x methods into a results store" },
    { "report",   cmd_report,   "tables, figures and info.txt from a results store" },
    { "prune",    cmd_prune,    "remove jobs (of other builds, or of a dataset, protocol or method) from a results store" },
    { NULL, NULL, NULL }
};

static int main_usage(FILE *fp, int status)
{
    fprintf(fp, "usage: myobench [-v|-q] <command> [<args>]\n\n"
                "Benchmark and dataset conversion for cross-user EMG gesture recognition.\n\n"
                "commands:\n");
    for (const struct command *c = commands; c->name; c++)
        fprintf(fp, "  %-10s %s\n", c->name, c->summary);
    fprintf(fp, "\n'myobench <command> --help' describes a command; 'myobench --version' prints the version.\n"
                "Exit status: 0 success, 1 failure, 2 usage error (each command's --help says what they mean).\n");
    return status;
}

int cli_usage(FILE *fp, const char *const *usage, int status)
{
    for (; *usage; usage++)
        fprintf(fp, "%s\n", *usage);
    return status;
}

int cli_parse_long(long *out, const char *opt, const char *val)
{
    char *end;
    errno = 0;
    long v = strtol(val, &end, 10);
    if (errno || end == val || *end || v < 0) {
        fprintf(stderr, "myobench: option '%s' needs a non-negative integer, got '%s'\n", opt, val);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
            mb_log_set_level(mb_log_get_level() < MB_LOG_DEBUG ? mb_log_get_level() + 1 : MB_LOG_DEBUG);
        else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
            mb_log_set_level(MB_LOG_ERROR);
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return main_usage(stdout, MB_EXIT_OK);
        else if (!strcmp(argv[i], "--version")) {
            printf("myobench %s (library source SHA-256 %s)\n", MB_VERSION, hn_source_hash());
            return MB_EXIT_OK;
        } else {
            fprintf(stderr, "myobench: unknown option '%s'\n", argv[i]);
            return main_usage(stderr, MB_EXIT_USAGE);
        }
    }
    if (i >= argc)
        return main_usage(stderr, MB_EXIT_USAGE);
    const char *name = argv[i];
    if (!strcmp(name, "help")) {
        if (i + 1 >= argc)
            return main_usage(stdout, MB_EXIT_OK);
        /* 'myobench help CMD' is 'myobench CMD --help' (samtools). */
        char *hargv[] = { argv[i + 1], "--help", NULL };
        for (const struct command *c = commands; c->name; c++)
            if (!strcmp(c->name, argv[i + 1]))
                return c->fn(2, hargv);
        fprintf(stderr, "myobench: unknown command '%s'\n", argv[i + 1]);
        return MB_EXIT_USAGE;
    }
    for (const struct command *c = commands; c->name; c++)
        if (!strcmp(c->name, name))
            return c->fn(argc - i, argv + i);
    fprintf(stderr, "myobench: unknown command '%s'\n", name);
    return main_usage(stderr, MB_EXIT_USAGE);
}
