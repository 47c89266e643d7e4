/* cli/cmd_convert.c - 'myobench convert': dispatch to a registered converter.
 *
 * This file names no converter. Options every converter takes are parsed
 * here into struct mb_convert_opts; the options of one converter come from
 * its own table (mb_converter.options, converters/converter.h), which this
 * file turns into getopt entries, parses into the converter's own struct,
 * and lists under the converter in --help. An option the chosen converter
 * does not declare is a usage error naming both. */
#include <getopt.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "converters/converter.h"
#include "core/fs.h"
#include "format/mbh5.h"

static const char *const convert_usage[] = {
    "usage: myobench convert <converter> [ARG] SRC_DIR -o OUT.h5 [options]",
    "",
    "Converts a corpus folder, exactly as distributed, into one unified HDF5 file.",
    "The output is written under a temporary name and renamed only when complete.",
    "ARG is the argument a converter may take before SRC_DIR (listed with its options).",
    "",
    "converters:",
    "  auto        probe the folder with each converter, then ask those that take an ARG",
    "              which one fits; says which it chose",
    NULL
};

static const char *const common_options[] = {
    "",
    "options of every converter:",
    "  -o, --out FILE          output unified file (required)",
    "  -j, --jobs N            threads across source files (output identical for any N)",
    "      --keep-going        skip bad files, list them, exit 1 at the end",
    "      --limit-subjects N  convert only the first N subjects (sorted), for quick looks",
    "      --allow-nonfinite   keep NaN/Inf samples instead of failing (always reported)",
    "      --compression C     deflate (default: shuffle + deflate, about 0.8 of raw size) or none",
    "                          (chunked but uncompressed: several times faster to write, larger)",
    "      --no-progress       no progress on stderr (default: files done and ETA, in place on a",
    "                          terminal, else one line every few seconds)",
    "  -h, --help              this text",
    "",
    "options of one converter (the others refuse them):",
    NULL
};

static const char *const convert_status[] = {
    "",
    "exit status: 0 converted, 1 failure (nothing written; or, with --keep-going, written",
    "without the bad files listed), 2 usage error",
    NULL
};

/* Column where help texts start, as in common_options. */
#define HELP_COL 26

/* Prints "<left>  <help>" with the help at HELP_COL, each '\n' of help
 * starting a continuation line at the same column. */
static void help_line(FILE *fp, const char *left, const char *help)
{
    int w = fprintf(fp, "%s", left);
    fprintf(fp, "%*s", w < HELP_COL ? HELP_COL - w : 1, "");
    for (const char *p = help; *p; p++) {
        fputc(*p, fp);
        if (*p == '\n' && p[1])
            fprintf(fp, "%*s", HELP_COL, "");
    }
    fputc('\n', fp);
}

static void converter_help(FILE *fp, const struct mb_converter *c)
{
    char left[128];
    if (c->arg)
        fprintf(fp, "\n%s: myobench convert %s %s SRC_DIR -o OUT.h5 [options]\n", c->name, c->name, c->arg->name);
    else
        fprintf(fp, "\n%s:\n", c->name);
    if (c->arg) {
        snprintf(left, sizeof left, "  %s", c->arg->name);
        help_line(fp, left, c->arg->help);
    }
    if (!c->options || !c->options->name)
        fprintf(fp, "  (no options of its own)\n");
    for (const struct mb_conv_opt *o = c->options; o && o->name; o++) {
        snprintf(left, sizeof left, "      --%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
        help_line(fp, left, o->help);
    }
    if (c->help)
        c->help(fp);
}

static int usage(FILE *fp, int status)
{
    cli_usage(fp, convert_usage, status);
    for (const struct mb_converter *const *c = mb_converters; *c; c++)
        fprintf(fp, "  %-11s %s\n", (*c)->name, (*c)->summary);
    cli_usage(fp, common_options, status);
    for (const struct mb_converter *const *c = mb_converters; *c; c++)
        converter_help(fp, *c);
    return cli_usage(fp, convert_status, status);
}

/* ---- converter options -------------------------------------------------- */

/* getopt's val of the i-th distinct converter option name (above any char). */
#define CONV_OPT_VAL0 256

/* Common options first, then every distinct name the converters declare
 * (a name declared by several converters once: they agree on its type, a
 * test checks it). *n_names receives how many were added. */
static struct option *option_table(const char ***names, size_t *n_names)
{
    static const struct option common[] = {
        { "out",             required_argument, NULL, 'o' },
        { "jobs",            required_argument, NULL, 'j' },
        { "keep-going",      no_argument,       NULL, 'k' },
        { "limit-subjects",  required_argument, NULL, 'L' },
        { "allow-nonfinite", no_argument,       NULL, 'n' },
        { "no-progress",     no_argument,       NULL, 'P' },
        { "compression",     required_argument, NULL, 'c' },
        { "help",            no_argument,       NULL, 'h' },
    };
    size_t n_common = sizeof common / sizeof *common, cap = 0;
    for (const struct mb_converter *const *c = mb_converters; *c; c++)
        for (const struct mb_conv_opt *o = (*c)->options; o && o->name; o++)
            cap++;
    struct option *t = calloc(n_common + cap + 1, sizeof *t);
    *names = calloc(cap + 1, sizeof **names);
    if (!t || !*names) {
        free(t);
        free(*names);
        return NULL;
    }
    memcpy(t, common, sizeof common);
    size_t n = n_common;
    *n_names = 0;
    for (const struct mb_converter *const *c = mb_converters; *c; c++)
        for (const struct mb_conv_opt *o = (*c)->options; o && o->name; o++) {
            size_t k = 0;
            while (k < n && strcmp(t[k].name, o->name))
                k++;
            if (k < n)
                continue;
            (*names)[*n_names] = o->name;
            t[n++] = (struct option){ o->name, o->type == MB_CONV_OPT_FLAG ? no_argument : required_argument, NULL,
                                      CONV_OPT_VAL0 + (int)(*n_names)++ };
        }
    return t;
}

/* One converter option as given on the command line. */
struct given {
    const char *name;
    const char *value;             /* NULL for a flag */
};

/* Stores one given option into the converter's struct 'own'. MB_EXIT_OK
 * or MB_EXIT_USAGE after saying why. 'how' names the converter as the
 * user chose it ("convert NAME", or the choice of auto). */
static int apply_option(void *own, const struct mb_converter *conv, const char *how, const struct given *g)
{
    const struct mb_conv_opt *o = mb_converter_option(conv, g->name);
    if (!o) {
        fprintf(stderr, "myobench: %s: --%s is not an option of the '%s' converter ('myobench convert --help' "
                        "lists the options of each converter)\n", how, g->name, conv->name);
        return MB_EXIT_USAGE;
    }
    char *field = (char *)own + o->offset;
    long v;
    switch (o->type) {
    case MB_CONV_OPT_FLAG:
        *(int *)field = 1;
        break;
    case MB_CONV_OPT_INT: {
        char opt[128];
        snprintf(opt, sizeof opt, "--%s", o->name);
        if (cli_parse_long(&v, opt, g->value) || v < o->min || v > o->max) {
            fprintf(stderr, "myobench: --%s takes %ld to %ld\n", o->name, o->min, o->max);
            return MB_EXIT_USAGE;
        }
        *(int *)field = (int)v;
        break;
    }
    case MB_CONV_OPT_CHOICE: {
        size_t n = 0;
        while (o->choices[n] && strcmp(o->choices[n], g->value))
            n++;
        if (!o->choices[n]) {
            fprintf(stderr, "myobench: --%s takes ", o->name);
            for (size_t k = 0; o->choices[k]; k++)
                fprintf(stderr, "%s'%s'", !k ? "" : o->choices[k + 1] ? ", " : " or ", o->choices[k]);
            fprintf(stderr, ", got '%s'\n", g->value);
            return MB_EXIT_USAGE;
        }
        *(const char **)field = g->value;
        break;
    }
    case MB_CONV_OPT_STRING:
        *(const char **)field = g->value;
        break;
    }
    return MB_EXIT_OK;
}

/* ---- convert auto --------------------------------------------------------- */

/* A folder a probing converter recognises, else the ARG that a converter
 * taking one finds to fit it. Sets *conv and *arg (NULL when the
 * converter takes none); MB_EXIT_OK or the exit status of a refusal, after
 * saying why. */
static int choose_auto(const struct mb_converter **conv, const char **arg, const char *src, const char *out)
{
    *arg = NULL;
    *conv = mb_converter_detect(src);
    if (*conv) {
        fprintf(stderr, "myobench: convert auto: '%s' looks like %s; using the '%s' converter\n", src,
                (*conv)->summary, (*conv)->name);
        return MB_EXIT_OK;
    }
    struct mb_conv_auto a;
    char tried[8192] = "";
    size_t len = 0;
    for (const struct mb_converter *const *c = mb_converters; *c; c++) {
        if (!(*c)->auto_arg)
            continue;
        int r = (*c)->auto_arg(&a, src, out);
        if (r == 1) {
            fprintf(stderr, "myobench: convert auto: %s\n", a.say);
            *conv = *c;
            *arg = a.arg;
            return MB_EXIT_OK;
        }
        if (r < 0) {
            if (a.say[0])
                fprintf(stderr, "myobench: convert auto: %s\n", a.say);
            return MB_EXIT_FAIL;
        }
        if (a.say[0] && len < sizeof tried)
            len += (size_t)snprintf(tried + len, sizeof tried - len, ", and %s", a.say);
    }
    /* "is neither A nor B" (or "is not A", "is none of A, B or C"), then
     * what the converters with an ARG tried. */
    size_t n_probe = 0, k = 0;
    for (const struct mb_converter *const *c = mb_converters; *c; c++)
        n_probe += (*c)->probe && (*c)->recognises;
    fprintf(stderr, "myobench: convert auto: '%s' is %s", src,
            n_probe == 1 ? "not " : n_probe == 2 ? "neither " : "none of ");
    for (const struct mb_converter *const *c = mb_converters; *c; c++)
        if ((*c)->probe && (*c)->recognises) {
            k++;
            fprintf(stderr, "%s%s", k == 1 ? "" : k < n_probe ? ", " : n_probe == 2 ? " nor " : " or ",
                    (*c)->recognises);
        }
    fprintf(stderr, "%s\n", tried);
    return MB_EXIT_FAIL;
}

/* ---- the command ---------------------------------------------------------- */

/* Runs the chosen converter; the exit status. */
static int run(const struct mb_converter *conv, const struct mb_convert_opts *o)
{
    /* A folder, a missing or read-only folder: said before any
     * source file is read, not after the work. */
    if (mb_fs_check_output(o->out) != MB_OK || mb_fs_cleanup_on_signals() != MB_OK)
        return MB_EXIT_FAIL;
    omp_set_num_threads(o->threads);
    struct mb_convert_result res = {0};
    int rc = conv->convert(o, &res);
    if (rc != MB_OK) {
        fprintf(stderr, "myobench: convert %s: failed (%s); no output written to '%s'\n",
                conv->name, mb_strerror(rc), o->out);
        if (mbh5_unclean_close()) {   /* libhdf5's exit-time teardown would crash (format/mbh5.h) */
            fflush(NULL);
            _exit(MB_EXIT_FAIL);
        }
        return MB_EXIT_FAIL;
    }
    fprintf(stderr, "myobench: convert %s: %zu files, %zu recordings, %zu warnings -> '%s'\n",
            conv->name, res.n_files, res.n_recordings, res.n_warnings, o->out);
    if (res.n_skipped) {
        fprintf(stderr, "myobench: convert %s: %zu bad files skipped (listed above)\n", conv->name, res.n_skipped);
        return MB_EXIT_FAIL;
    }
    return MB_EXIT_OK;
}

int cmd_convert(int argc, char **argv)
{
    const char **names = NULL;     /* [n_names] distinct converter option names */
    size_t n_names = 0, n_given = 0;
    struct option *options = option_table(&names, &n_names);
    struct given *given = calloc((size_t)argc + 1, sizeof *given);   /* converter options, in order */
    struct mb_convert_opts o = { .threads = 1, .progress = 1 };
    const struct mb_converter *conv = NULL;
    const char *arg = NULL;
    void *own = NULL;              /* the converter's own options struct */
    int status = MB_EXIT_USAGE, c;
    long v;
    if (!options || !given) {
        fprintf(stderr, "myobench: convert: out of memory\n");
        status = MB_EXIT_FAIL;
        goto out;
    }
    optind = 1;
    /* GNU getopt permutes argv, so options may also follow the positionals. */
    while ((c = getopt_long(argc, argv, "o:j:h", options, NULL)) != -1) {
        switch (c) {
        case 'o': o.out = optarg; break;
        case 'j': if (cli_parse_long(&v, "-j", optarg) || v < 1) {
                      status = usage(stderr, MB_EXIT_USAGE);
                      goto out;
                  }
                  o.threads = (int)v; break;
        case 'k': o.keep_going = 1; break;
        case 'L': if (cli_parse_long(&v, "--limit-subjects", optarg)) {
                      status = usage(stderr, MB_EXIT_USAGE);
                      goto out;
                  }
                  o.limit_subjects = (int)v; break;
        case 'n': o.allow_nonfinite = 1; break;
        case 'P': o.progress = 0; break;
        case 'c': if (strcmp(optarg, "deflate") && strcmp(optarg, "none")) {
                      fprintf(stderr, "myobench: --compression takes 'deflate' or 'none', got '%s'\n", optarg);
                      goto out;
                  }
                  o.uncompressed = !strcmp(optarg, "none"); break;
        case 'h': status = usage(stdout, MB_EXIT_OK); goto out;
        default:
            /* A converter's option: applied once the converter is known. */
            if (c < CONV_OPT_VAL0 || (size_t)(c - CONV_OPT_VAL0) >= n_names) {
                status = usage(stderr, MB_EXIT_USAGE);
                goto out;
            }
            given[n_given++] = (struct given){ names[c - CONV_OPT_VAL0], optarg };
        }
    }
    int npos = argc - optind;
    if (npos < 1) {
        fprintf(stderr, "myobench: convert: which converter?\n");
        status = usage(stderr, MB_EXIT_USAGE);
        goto out;
    }
    const char *name = argv[optind];
    int is_auto = !strcmp(name, "auto");
    if (!is_auto && !(conv = mb_converter_find(name))) {
        fprintf(stderr, "myobench: unknown converter '%s'\n", name);
        status = usage(stderr, MB_EXIT_USAGE);
        goto out;
    }
    if (npos != (conv && conv->arg ? 3 : 2)) {
        fprintf(stderr, "myobench: convert %s: expected %s%sSRC_DIR\n", name,
                conv && conv->arg ? conv->arg->name : "", conv && conv->arg ? " " : "");
        status = usage(stderr, MB_EXIT_USAGE);
        goto out;
    }
    o.src = argv[argc - 1];
    if (conv && conv->arg)
        arg = argv[optind + 1];
    if (!o.out) {
        fprintf(stderr, "myobench: convert: -o OUT.h5 is required\n");
        status = usage(stderr, MB_EXIT_USAGE);
        goto out;
    }
    if (is_auto && (status = choose_auto(&conv, &arg, o.src, o.out)) != MB_EXIT_OK)
        goto out;
    /* The converter's own options, into its own struct. */
    char how[300];
    if (is_auto)
        snprintf(how, sizeof how, "convert auto (which chose '%s')", conv->name);
    else
        snprintf(how, sizeof how, "convert %s", conv->name);
    if (!(own = calloc(1, conv->opts_size ? conv->opts_size : 1))) {
        fprintf(stderr, "myobench: convert: out of memory\n");
        status = MB_EXIT_FAIL;
        goto out;
    }
    status = MB_EXIT_USAGE;
    for (size_t i = 0; i < n_given; i++)
        if (apply_option(own, conv, how, &given[i]) != MB_EXIT_OK)
            goto out;
    if (conv->arg)
        *(const char **)((char *)own + conv->arg->offset) = arg;
    o.conv_opts = own;
    status = run(conv, &o);
out:
    free(own);
    free(options);
    free(names);
    free(given);
    return status;
}
