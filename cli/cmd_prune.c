/* cli/cmd_prune.c - 'myobench prune': remove jobs from a results store, so a
 * re-planned block (other settings, parameters or build) can be run again
 * into the same store. */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "core/err.h"
#include "harness/run.h"
#include "harness/store.h"

static const char *const prune_usage[] = {
    "usage: myobench prune RESULTS.db [--other-builds] [--dataset D] [--protocol P] [--method M] [--dry-run]",
    "",
    "Removes jobs, with their per-subject metrics and confusion counts, from a",
    "results store: those matching every selector given. 'myobench report'",
    "refuses a block whose jobs mix builds, settings or parameters",
    "(docs/RESULTS.md); prune the old ones and run the plan again. Other jobs",
    "and the manifests are kept.",
    "",
    "options:",
    "  --other-builds  jobs of builds other than this binary's (myobench --version)",
    "  --dataset D     jobs of dataset label D",
    "  --protocol P    jobs of protocol variant label P (e.g. fewshot-k5)",
    "  --method M      jobs of method row label M",
    "  --dry-run       count, remove nothing",
    "  -h, --help      this text",
    "",
    "exit status: 0 done, 1 the store cannot be read or written, 2 usage error",
    NULL
};

int cmd_prune(int argc, char **argv)
{
    static const struct option options[] = {
        { "other-builds", no_argument, NULL, 'b' },
        { "dataset", required_argument, NULL, 'd' },
        { "protocol", required_argument, NULL, 'p' },
        { "method", required_argument, NULL, 'm' },
        { "dry-run", no_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct hn_prune sel = { 0 };
    int dry = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'b': sel.other_than_version = hn_version(); break;
        case 'd': sel.dataset = optarg; break;
        case 'p': sel.protocol = optarg; break;
        case 'm': sel.method = optarg; break;
        case 'n': dry = 1; break;
        case 'h': return cli_usage(stdout, prune_usage, MB_EXIT_OK);
        default: return cli_usage(stderr, prune_usage, MB_EXIT_USAGE);
        }
    }
    if (optind != argc - 1)
        return cli_usage(stderr, prune_usage, MB_EXIT_USAGE);
    if (!sel.dataset && !sel.protocol && !sel.method && !sel.other_than_version) {
        fprintf(stderr, "myobench: prune: give --other-builds, --dataset, --protocol or --method\n");
        return MB_EXIT_USAGE;
    }
    const char *path = argv[optind];
    /* opening would create an empty store: a misspelt path must be an error */
    if (access(path, R_OK | W_OK) != 0) {
        fprintf(stderr, "myobench: prune: results store '%s' does not exist or is not writable\n", path);
        return MB_EXIT_FAIL;
    }
    struct hn_store *s;
    size_t n = 0;
    int rc = hn_store_open(&s, path);
    if (!rc) {
        rc = hn_store_prune(s, &n, &sel, dry);
        hn_store_close(s);
    }
    if (rc) {
        fprintf(stderr, "myobench: %s\n", mb_last_error());
        return MB_EXIT_FAIL;
    }
    printf("%s %zu job%s from '%s'\n", dry ? "would remove" : "removed", n, n == 1 ? "" : "s", path);
    return MB_EXIT_OK;
}
