/* cli/cmd_methods.c - 'myobench methods [NAME]' and 'myobench protocols
 * [NAME]': the registries with their capabilities, and one entry's typed
 * parameter (or settings) table. */
#include <getopt.h>
#include <string.h>

#include "cli/cmd.h"
#include "harness/run.h"

static const char *const methods_usage[] = {
    "usage: myobench methods [NAME]",
    "",
    "Without NAME, lists the registered methods (name, capabilities, summary)",
    "and protocols (name, capabilities a method needs, summary). A method",
    "lacking what a protocol needs is reported as n/a in its tables.",
    "With NAME, prints that method's parameters: key, type and range, default",
    "and meaning (a plan gives them as params: \"key=value,...\").",
    "",
    "options:",
    "  -h, --help  this text",
    "",
    "exit status: 0 listed, 1 no such method, 2 usage error",
    NULL
};

static const char *const protocols_usage[] = {
    "usage: myobench protocols [NAME]",
    "",
    "Without NAME, lists the registered protocols. With NAME, prints that",
    "protocol's settings (the keys a plan's protocol entry may give) and its",
    "budget keys (lists that make one report block per value).",
    "",
    "options:",
    "  -h, --help  this text",
    "",
    "exit status: 0 listed, 1 no such protocol, 2 usage error",
    NULL
};

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

static int parse_args(int argc, char **argv, const char *const *usage, const char **name)
{
    static const struct option options[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'h': return cli_usage(stdout, usage, MB_EXIT_OK);
        default:  return cli_usage(stderr, usage, MB_EXIT_USAGE);
        }
    }
    if (argc - optind > 1)
        return cli_usage(stderr, usage, MB_EXIT_USAGE);
    *name = optind < argc ? argv[optind] : NULL;
    return -1;
}

/* Columns as wide as their longest entry: capability lists grow with the
 * methods. */
static void list(int methods, int protocols)
{
    char caps[256];
    int wn = (int)strlen("protocol"), wc = (int)strlen("capabilities");
    for (const struct mb_method *const *m = mb_methods; *m; m++) {
        hn_caps_text(caps, sizeof caps, (*m)->caps);
        wn = max_int(wn, (int)strlen((*m)->name));
        wc = max_int(wc, (int)strlen(caps));
    }
    for (const struct mb_protocol *const *p = mb_protocols; *p; p++) {
        hn_caps_text(caps, sizeof caps, (*p)->needs);
        wn = max_int(wn, (int)strlen((*p)->name));
        wc = max_int(wc, (int)strlen(caps));
    }
    if (methods) {
        printf("%-*s  %-*s  %s\n", wn, "method", wc, "capabilities", "summary");
        for (const struct mb_method *const *m = mb_methods; *m; m++) {
            hn_caps_text(caps, sizeof caps, (*m)->caps);
            printf("%-*s  %-*s  %s\n", wn, (*m)->name, wc, caps, (*m)->summary ? (*m)->summary : "");
        }
    }
    if (protocols) {
        printf("%s%-*s  %-*s  %s\n", methods ? "\n" : "", wn, "protocol", wc, "needs", "summary");
        for (const struct mb_protocol *const *p = mb_protocols; *p; p++) {
            hn_caps_text(caps, sizeof caps, (*p)->needs);
            printf("%-*s  %-*s  %s\n", wn, (*p)->name, wc, caps, (*p)->summary ? (*p)->summary : "");
        }
    }
    if (methods)
        printf("\n'myobench methods NAME' and 'myobench protocols NAME' print their parameters.\n");
}

int cmd_methods(int argc, char **argv)
{
    const char *name;
    int st = parse_args(argc, argv, methods_usage, &name);
    if (st >= 0)
        return st;
    if (!name) {
        list(1, 1);
        return MB_EXIT_OK;
    }
    const struct mb_method *m = mb_method_find(name);
    if (!m) {
        fprintf(stderr, "myobench: methods: no method '%s' ('myobench methods' lists them)\n", name);
        return MB_EXIT_FAIL;
    }
    char caps[256];
    hn_caps_text(caps, sizeof caps, m->caps);
    printf("%s: %s\ncapabilities: %s\nparameters:\n", m->name, m->summary ? m->summary : "", caps);
    mb_params_print(stdout, m->params);
    return MB_EXIT_OK;
}

int cmd_protocols(int argc, char **argv)
{
    const char *name;
    int st = parse_args(argc, argv, protocols_usage, &name);
    if (st >= 0)
        return st;
    if (!name) {
        list(0, 1);
        return MB_EXIT_OK;
    }
    const struct mb_protocol *p = mb_protocol_find(name);
    if (!p) {
        fprintf(stderr, "myobench: protocols: no protocol '%s' ('myobench protocols' lists them)\n", name);
        return MB_EXIT_FAIL;
    }
    char caps[256];
    hn_caps_text(caps, sizeof caps, p->needs);
    printf("%s: %s\nneeds: %s\nsettings:\n", p->name, p->summary ? p->summary : "", caps);
    mb_params_print(stdout, p->settings);
    for (size_t b = 0; p->budgets && p->budgets[b].plan_key; b++) {
        const struct pr_budget *bu = &p->budgets[b];
        if (!b)
            printf("budgets (a list in a plan: one block per value, labelled NAME-<prefix><value>):\n");
        printf("  %s: sets %s, prefix '%s', %ld..%ld, default", bu->plan_key, bu->key, bu->prefix, bu->lo, bu->hi);
        for (size_t i = 0; i < bu->n_defaults; i++)
            printf("%s%ld", i ? ", " : " [", bu->defaults[i]);
        printf("%s\n", bu->n_defaults ? "]" : " none");
    }
    return MB_EXIT_OK;
}
