/* cli/cmd_convert.c - 'myobench convert': dispatch to a registered converter. */
#include <getopt.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "converters/converter.h"
#include "converters/spec.h"
#include "core/fs.h"
#include "format/mbh5.h"

static const char *const convert_usage[] = {
    "usage: myobench convert <converter> [SPEC] SRC_DIR -o OUT.h5 [options]",
    "",
    "Converts a corpus folder, exactly as distributed, into one unified HDF5 file.",
    "The output is written under a temporary name and renamed only when complete.",
    "",
    "converters:",
    "  auto        probe the folder, then try the shipped specs; says which it chose",
    NULL
};

static const char *const convert_specs_head[] = {
    "",
    "shipped specs (built in; 'convert spec NAME' runs one, 'convert auto' tries them):",
    NULL
};

static const char *const convert_options[] = {
    "",
    "options:",
    "  -o, --out FILE          output unified file (required)",
    "  -j, --jobs N            threads across source files (output identical for any N)",
    "      --keep-going        skip bad files, list them, exit 1 at the end",
    "      --limit-subjects N  convert only the first N subjects (sorted), for quick looks",
    "      --db N              NinaPro database number (default: detect)",
    "      --labels L          NinaPro label vector: restimulus (default) or stimulus",
    "      --allow-nonfinite   keep NaN/Inf samples instead of failing (always reported)",
    "      --allow-truncation  convert a file whose per-sample variables differ in length by more",
    "                          than 0.1 % (at least 10 samples) by cutting all to the shortest;",
    "                          without it that is an error (smaller cuts are warnings)",
    "      --compression C     deflate (default: shuffle + deflate, about 0.8 of raw size) or none",
    "                          (chunked but uncompressed: several times faster to write, larger)",
    "      --no-progress       no progress on stderr (default: files done and ETA, in place on a",
    "                          terminal, else one line every few seconds)",
    "  -h, --help              this text",
    "",
    "SPEC is a spec file, or the name of a spec in $MYOBENCH_SPECS or shipped.",
    "",
    "exit status: 0 converted, 1 failure (nothing written; or, with --keep-going, written",
    "without the bad files listed), 2 usage error",
    NULL
};

static int usage(FILE *fp, int status)
{
    cli_usage(fp, convert_usage, status);
    for (const struct mb_converter *const *c = mb_converters; *c; c++)
        fprintf(fp, "  %-11s %s\n", (*c)->name, (*c)->summary);
    cli_usage(fp, convert_specs_head, status);
    for (size_t i = 0; conv_spec_shipped(i); i++) {
        const struct spec_shipped *sh = conv_spec_shipped(i);
        struct spec *s = NULL;
        /* The dataset each describes, from the spec itself (they are tested to parse). */
        mb_error_quiet_begin();
        int rc = spec_parse(&s, sh->name, sh->text, sh->len);
        mb_error_quiet_end();
        fprintf(fp, "  %-19s %s%s\n", sh->name, rc == MB_OK ? s->dataset : "(does not parse)",
                conv_spec_auto_tries(sh->name) ? "" : "; a template, never chosen by auto");
        spec_free(s);
    }
    return cli_usage(fp, convert_options, status);
}

/* 'convert auto': a folder a probing converter recognises, else one the
 * shipped specs fit. Sets *conv (and o->spec for a spec); MB_EXIT_OK or
 * the exit status of a refusal, after saying why. */
static int choose_auto(const struct mb_converter **conv, struct mb_convert_opts *o)
{
    *conv = mb_converter_detect(o->src);
    if (*conv) {
        fprintf(stderr, "myobench: convert auto: '%s' looks like %s; using the '%s' converter\n",
                o->src, (*conv)->summary, (*conv)->name);
        return MB_EXIT_OK;
    }
    size_t n_shipped = 0, n_fit = 0;
    while (conv_spec_shipped(n_shipped))
        n_shipped++;
    struct conv_spec_fit *fit = calloc(n_shipped + 1, sizeof *fit);
    if (!fit || conv_spec_detect(fit, &n_fit, o->src) != MB_OK) {
        if (!fit)
            fprintf(stderr, "myobench: convert auto: out of memory\n");
        free(fit);
        return MB_EXIT_FAIL;
    }
    int status = MB_EXIT_OK;
    if (n_fit == 1) {
        fprintf(stderr, "myobench: convert auto: '%s' fits the shipped spec '%s' (its pattern matches %zu of "
                        "%zu files); using 'convert spec %s'\n",
                o->src, fit[0].name, fit[0].n_matched, fit[0].n_files, fit[0].name);
        o->spec = fit[0].name;   /* the shipped table's string: static */
        *conv = mb_converter_find("spec");
    } else if (n_fit > 1) {
        fprintf(stderr, "myobench: convert auto: '%s' fits %zu shipped specs:", o->src, n_fit);
        for (size_t i = 0; i < n_fit; i++)
            fprintf(stderr, "%s '%s' (%zu of %zu files)", i ? "," : "", fit[i].name, fit[i].n_matched,
                    fit[i].n_files);
        fprintf(stderr, "; choose one: myobench convert spec NAME '%s' -o '%s'\n", o->src, o->out);
        status = MB_EXIT_FAIL;
    } else {
        fprintf(stderr, "myobench: convert auto: '%s' is neither an emg2pose folder (metadata.csv and "
                        "HDF5 files with group 'emg2pose') nor a NinaPro folder (MAT files with 'emg' and "
                        "'restimulus'), and the pattern of no shipped spec (", o->src);
        for (size_t i = 0, k = 0; conv_spec_shipped(i); i++)
            if (conv_spec_auto_tries(conv_spec_shipped(i)->name))
                fprintf(stderr, "%s%s", k++ ? ", " : "", conv_spec_shipped(i)->name);
        fprintf(stderr, ") matches its files; write a spec (docs/SPEC.md) and use 'myobench convert spec'\n");
        status = MB_EXIT_FAIL;
    }
    free(fit);
    return status;
}

int cmd_convert(int argc, char **argv)
{
    static const struct option options[] = {
        { "out",             required_argument, NULL, 'o' },
        { "jobs",            required_argument, NULL, 'j' },
        { "keep-going",      no_argument,       NULL, 'k' },
        { "limit-subjects",  required_argument, NULL, 'L' },
        { "db",              required_argument, NULL, 'd' },
        { "labels",          required_argument, NULL, 'l' },
        { "allow-nonfinite", no_argument,       NULL, 'n' },
        { "allow-truncation", no_argument,      NULL, 'T' },
        { "no-progress",     no_argument,       NULL, 'P' },
        { "compression",     required_argument, NULL, 'c' },
        { "help",            no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct mb_convert_opts o = { .threads = 1, .labels = "restimulus", .progress = 1 };
    long v;
    int c;
    optind = 1;
    /* GNU getopt permutes argv, so options may also follow the positionals. */
    while ((c = getopt_long(argc, argv, "o:j:h", options, NULL)) != -1) {
        switch (c) {
        case 'o': o.out = optarg; break;
        case 'j': if (cli_parse_long(&v, "-j", optarg) || v < 1) return usage(stderr, MB_EXIT_USAGE);
                  o.threads = (int)v; break;
        case 'k': o.keep_going = 1; break;
        case 'L': if (cli_parse_long(&v, "--limit-subjects", optarg)) return usage(stderr, MB_EXIT_USAGE);
                  o.limit_subjects = (int)v; break;
        case 'd': if (cli_parse_long(&v, "--db", optarg) || v < 1 || v > 8) {
                      fprintf(stderr, "myobench: --db takes 1 to 8\n");
                      return MB_EXIT_USAGE;
                  }
                  o.db = (int)v; break;
        case 'l': if (strcmp(optarg, "restimulus") && strcmp(optarg, "stimulus")) {
                      fprintf(stderr, "myobench: --labels takes 'restimulus' or 'stimulus', got '%s'\n", optarg);
                      return MB_EXIT_USAGE;
                  }
                  o.labels = optarg; break;
        case 'n': o.allow_nonfinite = 1; break;
        case 'T': o.allow_truncation = 1; break;
        case 'P': o.progress = 0; break;
        case 'c': if (strcmp(optarg, "deflate") && strcmp(optarg, "none")) {
                      fprintf(stderr, "myobench: --compression takes 'deflate' or 'none', got '%s'\n", optarg);
                      return MB_EXIT_USAGE;
                  }
                  o.uncompressed = !strcmp(optarg, "none"); break;
        case 'h': return usage(stdout, MB_EXIT_OK);
        default:  return usage(stderr, MB_EXIT_USAGE);
        }
    }
    int npos = argc - optind;
    if (npos < 1) {
        fprintf(stderr, "myobench: convert: which converter?\n");
        return usage(stderr, MB_EXIT_USAGE);
    }
    const char *name = argv[optind];
    const struct mb_converter *conv = NULL;
    int need = 2;
    if (!strcmp(name, "spec"))
        need = 3;
    if (npos != need) {
        fprintf(stderr, "myobench: convert %s: expected %s\n", name,
                need == 3 ? "SPEC.yaml SRC_DIR" : "SRC_DIR");
        return usage(stderr, MB_EXIT_USAGE);
    }
    if (need == 3)
        o.spec = argv[optind + 1];
    o.src = argv[argc - 1];
    if (!o.out) {
        fprintf(stderr, "myobench: convert: -o OUT.h5 is required\n");
        return usage(stderr, MB_EXIT_USAGE);
    }
    if (!strcmp(name, "auto")) {
        int st = choose_auto(&conv, &o);
        if (st != MB_EXIT_OK)
            return st;
    } else {
        conv = mb_converter_find(name);
        if (!conv) {
            fprintf(stderr, "myobench: unknown converter '%s'\n", name);
            return usage(stderr, MB_EXIT_USAGE);
        }
    }
    /* A folder, a missing or read-only folder: said before any
     * source file is read, not after the work. */
    if (mb_fs_check_output(o.out) != MB_OK || mb_fs_cleanup_on_signals() != MB_OK)
        return MB_EXIT_FAIL;
    omp_set_num_threads(o.threads);
    struct mb_convert_result res = {0};
    int rc = conv->convert(&o, &res);
    if (rc != MB_OK) {
        fprintf(stderr, "myobench: convert %s: failed (%s); no output written to '%s'\n",
                conv->name, mb_strerror(rc), o.out);
        if (mbh5_unclean_close()) {   /* libhdf5's exit-time teardown would crash (format/mbh5.h) */
            fflush(NULL);
            _exit(MB_EXIT_FAIL);
        }
        return MB_EXIT_FAIL;
    }
    fprintf(stderr, "myobench: convert %s: %zu files, %zu recordings, %zu warnings -> '%s'\n",
            conv->name, res.n_files, res.n_recordings, res.n_warnings, o.out);
    if (res.n_skipped) {
        fprintf(stderr, "myobench: convert %s: %zu bad files skipped (listed above)\n", conv->name, res.n_skipped);
        return MB_EXIT_FAIL;
    }
    return MB_EXIT_OK;
}
