/* cli/cmd_describe.c - 'myobench describe': a summary of one unified
 * corpus (describe/describe.h, docs/DESCRIBE.md), as text tables or as one
 * JSON object. Reads the file only; prints to stdout only. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "describe/describe.h"

static const char *const describe_usage[] = {
    "usage: myobench describe FILE [--json] [--no-models] [--seed N] [--vote-params TEXT] [--vote-windows N]",
    "                         [--no-progress]",
    "",
    "Summarises a unified HDF5 corpus, subject by subject, so that a corpus (a",
    "synthetic one) can be held against another (real recordings):",
    "  - per channel: RMS, kurtosis; Welch mean and median frequency (n/a, with the",
    "    reason, below 200 Hz or when a device stores an envelope);",
    "  - mean correlation of channel pairs by electrode distance (ring distance on a",
    "    Myo armband; channel index distance otherwise: the format stores no positions);",
    "  - balanced accuracy of lda-td4 under the 'within' and 'loso' protocols;",
    "  - with a pose stream: R^2 of ridge regression TD4 -> pose within a subject,",
    "    across subjects (LOSO) and from seen to unseen gestures, and the zero-shot",
    "    balanced accuracy of the pose reference vote on the true pose",
    "    ('pose-upper-bound' under 'zeroshot-gestures');",
    "  - a summary: median, min and max over subjects of each statistic.",
    "A statistic that cannot be computed is n/a (null in JSON), with the reason.",
    "",
    "options:",
    "  --json              one JSON object on stdout instead of the tables",
    "  --no-models         signal statistics only (no LDA, ridge or vote: fast)",
    "  --seed N            protocol seed: unseen gestures, encoder init (default 0)",
    "  --vote-params TEXT  parameters of pose-upper-bound (default: its defaults)",
    "  --vote-windows N    training and reference windows of the vote, evenly spaced (default 4000;",
    "                      the test windows all): its encoder embeds each of them",
    "  --no-progress       no progress on stderr (default: folds done and ETA of the models)",
    "  -h, --help          this text",
    "",
    "exit status: 0 printed, 1 the file cannot be read as a unified corpus, 2 usage error",
    NULL
};

int cmd_describe(int argc, char **argv)
{
    static const struct option options[] = {
        { "json", no_argument, NULL, 'J' },
        { "no-models", no_argument, NULL, 'N' },
        { "seed", required_argument, NULL, 'S' },
        { "vote-params", required_argument, NULL, 'V' },
        { "no-progress", no_argument, NULL, 'P' },
        { "vote-windows", required_argument, NULL, 'W' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct dsc_opts o = { .progress = stderr };
    int c, json = 0;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'J': json = 1; break;
        case 'N': o.no_models = 1; break;
        case 'S': if (cli_parse_long(&v, "--seed", optarg))
                      return MB_EXIT_USAGE;
                  o.seed = (unsigned long long)v;
                  break;
        case 'V': o.vote_params = optarg; break;
        case 'P': o.progress = NULL; break;
        case 'W': if (cli_parse_long(&v, "--vote-windows", optarg) || v < 10) {
                      fprintf(stderr, "myobench: describe: --vote-windows needs at least 10\n");
                      return MB_EXIT_USAGE;
                  }
                  o.vote_windows = v;
                  break;
        case 'h': return cli_usage(stdout, describe_usage, MB_EXIT_OK);
        default:  return cli_usage(stderr, describe_usage, MB_EXIT_USAGE);
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "myobench: describe: expected one FILE\n");
        return cli_usage(stderr, describe_usage, MB_EXIT_USAGE);
    }
    struct dsc_report r;
    if (dsc_describe(&r, argv[optind], &o))
        return MB_EXIT_FAIL;   /* the library has printed the error, naming the file */
    int status = MB_EXIT_OK;
    if (json) {
        json_t *j = dsc_to_json(&r);
        if (!j || json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) < 0) {
            fprintf(stderr, "myobench: describe: '%s': cannot write the JSON report\n", argv[optind]);
            status = MB_EXIT_FAIL;
        } else
            fputc('\n', stdout);
        json_decref(j);
    } else
        dsc_print_text(stdout, &r);
    dsc_report_release(&r);
    if (fflush(stdout)) {
        fprintf(stderr, "myobench: describe: cannot write to stdout\n");
        status = MB_EXIT_FAIL;
    }
    return status;
}
