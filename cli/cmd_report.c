/* cli/cmd_report.c - 'myobench report': tables, figures and info.txt from
 * a results store. */
#include <getopt.h>
#include <string.h>

#include "cli/cmd.h"
#include "harness/report.h"

static const char *const report_usage[] = {
    "usage: myobench report RESULTS.db [--format md|latex|csv|json|all] [--out DIR]",
    "",
    "Turns a results store into one table per dataset x protocol (methods as",
    "rows; balanced accuracy, macro-F1 and accuracy as mean +- std over",
    "subjects with a bootstrap 95% CI; Wilcoxon + Holm against the best;",
    "average ranks) and one table of everything, plus critical-difference,",
    "per-subject and confusion-matrix SVGs and info.txt (docs/RESULTS.md).",
    "",
    "Without --out, '--format md' (the default then) prints the Markdown",
    "tables on stdout; with --out every file goes under DIR.",
    "",
    "options:",
    "  --format F  md, latex, csv, json or all (default: all with --out, md without)",
    "  --out DIR   write the files under DIR",
    "  -h, --help  this text",
    "",
    "exit status: 0 written, 1 the store cannot be read or a file written, 2 usage error",
    NULL
};

static const struct {
    const char *name;
    unsigned bits;
} formats[] = {
    { "md", HN_FMT_MD }, { "latex", HN_FMT_LATEX }, { "csv", HN_FMT_CSV }, { "json", HN_FMT_JSON },
    { "all", HN_FMT_ALL },
};

int cmd_report(int argc, char **argv)
{
    static const struct option options[] = {
        { "format", required_argument, NULL, 'f' },
        { "out", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    unsigned fmt = 0;
    const char *out = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
        switch (c) {
        case 'f': {
            size_t i = 0, n = sizeof formats / sizeof *formats;
            while (i < n && strcmp(formats[i].name, optarg))
                i++;
            if (i == n) {
                fprintf(stderr, "myobench: report: --format must be md, latex, csv, json or all, got '%s'\n", optarg);
                return MB_EXIT_USAGE;
            }
            fmt |= formats[i].bits;
            break;
        }
        case 'o': out = optarg; break;
        case 'h': return cli_usage(stdout, report_usage, MB_EXIT_OK);
        default:  return cli_usage(stderr, report_usage, MB_EXIT_USAGE);
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "myobench: report: expected one RESULTS.db\n");
        return cli_usage(stderr, report_usage, MB_EXIT_USAGE);
    }
    const char *db = argv[optind];
    if (!out) {
        if (fmt && fmt != HN_FMT_MD) {
            fprintf(stderr, "myobench: report: only --format md can go to stdout; give --out DIR\n");
            return MB_EXIT_USAGE;
        }
        return hn_report_print_md(stdout, db) ? MB_EXIT_FAIL : MB_EXIT_OK;
    }
    if (hn_report_write(db, out, fmt ? fmt : HN_FMT_ALL))
        return MB_EXIT_FAIL;
    fprintf(stderr, "myobench: report: written under '%s'\n", out);
    return MB_EXIT_OK;
}
