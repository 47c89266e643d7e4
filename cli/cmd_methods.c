/* cli/cmd_methods.c - 'myobench methods': the method and protocol
 * registries with their capabilities. */
#include <getopt.h>

#include "cli/cmd.h"
#include "harness/run.h"

static const char *const methods_usage[] = {
    "usage: myobench methods",
    "",
    "Lists the registered methods (name, capabilities, default parameters,",
    "summary) and protocols (name, capabilities a method needs, summary).",
    "A method lacking what a protocol needs is reported as n/a in its tables.",
    "",
    "options:",
    "  -h, --help  this text",
    "",
    "exit status: 0 listed, 2 usage error",
    NULL
};

int cmd_methods(int argc, char **argv)
{
    static const struct option options[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'h': return cli_usage(stdout, methods_usage, MB_EXIT_OK);
        default:  return cli_usage(stderr, methods_usage, MB_EXIT_USAGE);
        }
    }
    if (optind != argc)
        return cli_usage(stderr, methods_usage, MB_EXIT_USAGE);
    char caps[256];
    printf("%-22s %-36s %-40s %s\n", "method", "capabilities", "default params", "summary");
    for (const struct mb_method *const *m = mb_methods; *m; m++) {
        hn_caps_text(caps, sizeof caps, (*m)->caps);
        printf("%-22s %-36s %-40s %s\n", (*m)->name, caps, (*m)->params && (*m)->params[0] ? (*m)->params : "-",
               (*m)->summary ? (*m)->summary : "");
    }
    printf("\n%-22s %-36s %s\n", "protocol", "needs", "summary");
    for (const struct mb_protocol *const *p = mb_protocols; *p; p++) {
        hn_caps_text(caps, sizeof caps, (*p)->needs);
        printf("%-22s %-36s %s\n", (*p)->name, caps, (*p)->summary ? (*p)->summary : "");
    }
    return MB_EXIT_OK;
}
