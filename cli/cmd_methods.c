/* cli/cmd_methods.c - 'myobench methods': the method and protocol
 * registries with their capabilities. */
#include <getopt.h>
#include <string.h>

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

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

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
    /* Columns as wide as their longest entry: capability lists and
     * parameter strings grow with the methods (cpep's did not fit a fixed
     * width and pushed its row out of line). */
    char caps[256];
    int wn = (int)strlen("protocol"), wc = (int)strlen("capabilities"), wp = (int)strlen("default params");
    for (const struct mb_method *const *m = mb_methods; *m; m++) {
        hn_caps_text(caps, sizeof caps, (*m)->caps);
        wn = max_int(wn, (int)strlen((*m)->name));
        wc = max_int(wc, (int)strlen(caps));
        wp = max_int(wp, (*m)->params && (*m)->params[0] ? (int)strlen((*m)->params) : 1);
    }
    for (const struct mb_protocol *const *p = mb_protocols; *p; p++) {
        hn_caps_text(caps, sizeof caps, (*p)->needs);
        wn = max_int(wn, (int)strlen((*p)->name));
        wc = max_int(wc, (int)strlen(caps));
    }
    printf("%-*s  %-*s  %-*s  %s\n", wn, "method", wc, "capabilities", wp, "default params", "summary");
    for (const struct mb_method *const *m = mb_methods; *m; m++) {
        hn_caps_text(caps, sizeof caps, (*m)->caps);
        printf("%-*s  %-*s  %-*s  %s\n", wn, (*m)->name, wc, caps, wp,
               (*m)->params && (*m)->params[0] ? (*m)->params : "-", (*m)->summary ? (*m)->summary : "");
    }
    printf("\n%-*s  %-*s  %s\n", wn, "protocol", wc, "needs", "summary");
    for (const struct mb_protocol *const *p = mb_protocols; *p; p++) {
        hn_caps_text(caps, sizeof caps, (*p)->needs);
        printf("%-*s  %-*s  %s\n", wn, (*p)->name, wc, caps, (*p)->summary ? (*p)->summary : "");
    }
    return MB_EXIT_OK;
}
