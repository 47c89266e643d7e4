/* cli/cmd_validate.c - 'myobench validate': deep check of unified files.
 *
 * Problems go to stdout, one per line ("<file>: <object>: <problem>"), so
 * they can be piped and counted; the verdict per file goes to stderr. */
#include <getopt.h>
#include <omp.h>
#include <stdio.h>

#include "cli/cmd.h"
#include "format/mbh5.h"

static const char *const validate_usage[] = {
    "usage: myobench validate FILE... [-j N]",
    "",
    "Checks unified HDF5 files in depth: schema and structure, shapes against",
    "attributes, label ranges against the gesture vocabulary, segment bounds and",
    "order, NaN/Inf in EMG and streams, monotonic time, dangling references,",
    "the sources table.",
    "",
    "Each problem is one line on stdout: <file>: <object>: <problem>.",
    "A one-line verdict per file goes to stderr.",
    "",
    "options:",
    "  -j, --jobs N  threads decoding compressed chunks (default: OpenMP's default)",
    "  -h, --help    this text",
    "",
    "exit status: 0 all files valid, 1 a problem was found or a file cannot be",
    "opened, 2 usage error",
    NULL
};

int cmd_validate(int argc, char **argv)
{
    static const struct option options[] = {
        { "jobs", required_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int c;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "j:h", options, NULL)) != -1) {
        switch (c) {
        case 'j': if (cli_parse_long(&v, "--jobs", optarg) || v < 1 || v > 1024) {
                      fprintf(stderr, "myobench: validate: -j/--jobs needs 1..1024\n");
                      return MB_EXIT_USAGE;
                  }
                  omp_set_num_threads((int)v);
                  break;
        case 'h': return cli_usage(stdout, validate_usage, MB_EXIT_OK);
        default:  return cli_usage(stderr, validate_usage, MB_EXIT_USAGE);
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "myobench: validate: expected at least one FILE\n");
        return cli_usage(stderr, validate_usage, MB_EXIT_USAGE);
    }
    int status = MB_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        long np = mbh5_validate(argv[i], stdout);
        fflush(stdout);
        if (np < 0) {
            fprintf(stderr, "myobench: validate: '%s': cannot be read as a unified file (%s)\n", argv[i], mb_strerror((int)np));
            status = MB_EXIT_FAIL;
        } else if (np > 0) {
            fprintf(stderr, "myobench: validate: '%s': %ld problem%s\n", argv[i], np, np == 1 ? "" : "s");
            status = MB_EXIT_FAIL;
        } else
            fprintf(stderr, "myobench: validate: '%s': valid\n", argv[i]);
    }
    return status;
}
