/* cli/cmd_convert.c - 'myobench convert': dispatch to a registered converter. */
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
    "usage: myobench convert <converter> [SPEC.yaml] SRC_DIR -o OUT.h5 [options]",
    "",
    "Converts a corpus folder, exactly as distributed, into one unified HDF5 file.",
    "The output is written under a temporary name and renamed only when complete.",
    "",
    "converters:",
    "  auto        probe the folder and choose (says which it chose)",
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
    "      --no-progress       no progress line on stderr",
    "  -h, --help              this text",
    NULL
};

static int usage(FILE *fp, int status)
{
    cli_usage(fp, convert_usage, status);
    for (const struct mb_converter *const *c = mb_converters; *c; c++)
        fprintf(fp, "  %-11s %s\n", (*c)->name, (*c)->summary);
    return cli_usage(fp, convert_options, status);
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
    struct mb_convert_opts o = { .threads = 1, .labels = "restimulus", .progress = isatty(2) };
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
    /* A folder, a missing or read-only folder: said now, not after the work. */
    if (mb_fs_check_output(o.out) != MB_OK || mb_fs_cleanup_on_signals() != MB_OK)
        return MB_EXIT_FAIL;
    if (!strcmp(name, "auto")) {
        conv = mb_converter_detect(o.src);
        if (!conv) {
            fprintf(stderr, "myobench: convert auto: '%s' is neither an emg2pose folder (metadata.csv and "
                            "HDF5 files with group 'emg2pose') nor a NinaPro folder (MAT files with 'emg' and "
                            "'restimulus'); write a spec and use 'myobench convert spec'\n", o.src);
            return MB_EXIT_FAIL;
        }
        fprintf(stderr, "myobench: convert auto: '%s' looks like %s; using the '%s' converter\n",
                o.src, conv->summary, conv->name);
    } else {
        conv = mb_converter_find(name);
        if (!conv) {
            fprintf(stderr, "myobench: unknown converter '%s'\n", name);
            return usage(stderr, MB_EXIT_USAGE);
        }
    }
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
