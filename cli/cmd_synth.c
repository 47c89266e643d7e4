/* cli/cmd_synth.c - 'myobench synth': write a generated population in
 * every native format (synth/synth.h, docs/SYNTH.md). */
#include <getopt.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "synth/synth.h"

static const char *const synth_usage[] = {
    "usage: myobench synth --out DIR [--preset tiny|default|large|sessions] [--model v1|v2] [--subjects N]",
    "                      [--seed S] [--emg2pose-f32] [--subject-spread F] [--only LIST] [-j N]",
    "",
    "Generates one synthetic population and writes it in the native layout of each corpus:",
    "  DIR/emg2pose/           HDF5 per hand and stage, plus metadata.csv",
    "  DIR/ninapro_db1/ _db2/ _db5/   MAT v5 files (compressed)",
    "  DIR/myo_readings/ kaufmann_multiday/ uci_gestures/   text dialects",
    "Same options and seed give the same bytes, for any number of threads.",
    "",
    "options:",
    "  -o, --out DIR           output directory (required; created if missing)",
    "  -p, --preset NAME       tiny (tests), default (the demo), large (benchmarks) or sessions",
    "                          (many sessions per subject: emg2pose and Myo readings)",
    "  -m, --model v1|v2       generator model (default v2: per-finger muscle compartments,",
    "                          motor units, volume conduction, re-donning, fatigue and sweat,",
    "                          tuned to real recordings, docs/SYNTH.md; its files record it,",
    "                          and DIR/SYNTH_MODEL says v2); v1: the model before 2026-12-08,",
    "                          the numbers of earlier runs byte for byte",
    "  -n, --subjects N        number of subjects (overrides the preset)",
    "  -s, --seed S            random seed (default 1)",
    "      --emg2pose-f32      emg2pose variant: float32 joint_angles, chunked + gzip",
    "      --subject-spread F  between-subject spread of anatomy and armband placement,",
    "                          0 to 2 (default 1: the preset's population; 0: every",
    "                          subject has the mean anatomy and band position)",
    "      --only LIST         comma-separated subset: emg2pose, ninapro_db1, ninapro_db2,",
    "                          ninapro_db5, myo_readings, kaufmann_multiday, uci_gestures",
    "  -j, --jobs N            threads (default: all cores)",
    "  -h, --help              this text",
    "",
    "exit status: 0 written, 1 failure (DIR may then hold a partial corpus, of complete",
    "files only), 2 usage error",
    NULL
};

static int parse_only(unsigned *mask, char *list)
{
    *mask = 0;
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        int found = 0;
        for (int d = 0; d < SYNTH_N_DEVICES; d++)
            if (!strcmp(tok, synth_device_name((enum synth_device)d))) {
                *mask |= 1u << d;
                found = 1;
            }
        if (!found) {
            fprintf(stderr, "myobench: synth: unknown corpus '%s' in --only\n", tok);
            return -1;
        }
    }
    return 0;
}

int cmd_synth(int argc, char **argv)
{
    static const struct option options[] = {
        { "out",          required_argument, NULL, 'o' },
        { "preset",       required_argument, NULL, 'p' },
        { "subjects",     required_argument, NULL, 'n' },
        { "seed",         required_argument, NULL, 's' },
        { "emg2pose-f32", no_argument,       NULL, 'f' },
        { "only",         required_argument, NULL, 'O' },
        { "subject-spread", required_argument, NULL, 'S' },
        { "model",        required_argument, NULL, 'm' },
        { "jobs",         required_argument, NULL, 'j' },
        { "help",         no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *out = NULL, *preset = "default";
    long subjects = 0, seed = 1, jobs = 0, v;
    int f32 = 0, model = SYNTH_MODEL_DEFAULT;
    double spread = 1.0;
    unsigned only = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:p:n:s:m:j:h", options, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'p': preset = optarg; break;
        case 'n': if (cli_parse_long(&v, "--subjects", optarg) || v < 1 || v > 9999) {
                      fprintf(stderr, "myobench: synth: --subjects takes 1 to 9999\n");
                      return MB_EXIT_USAGE;
                  }
                  subjects = v; break;
        case 's': if (cli_parse_long(&v, "--seed", optarg)) return cli_usage(stderr, synth_usage, MB_EXIT_USAGE);
                  seed = v; break;
        case 'f': f32 = 1; break;
        case 'm': if (!strcmp(optarg, "v1") || !strcmp(optarg, "1")) {
                      model = 1;
                  } else if (!strcmp(optarg, "v2") || !strcmp(optarg, "2")) {
                      model = 2;
                  } else {
                      fprintf(stderr, "myobench: synth: --model takes v1 or v2, got '%s'\n", optarg);
                      return MB_EXIT_USAGE;
                  }
                  break;
        case 'S': {
            char *end;
            spread = strtod(optarg, &end);
            if (end == optarg || *end || !(spread >= 0.0 && spread <= 2.0)) {
                fprintf(stderr, "myobench: synth: --subject-spread takes a number from 0 to 2, got '%s'\n", optarg);
                return MB_EXIT_USAGE;
            }
            break;
        }
        case 'O': if (parse_only(&only, optarg)) return MB_EXIT_USAGE;
                  break;
        case 'j': if (cli_parse_long(&v, "-j", optarg) || v < 1) return cli_usage(stderr, synth_usage, MB_EXIT_USAGE);
                  jobs = v; break;
        case 'h': return cli_usage(stdout, synth_usage, MB_EXIT_OK);
        default:  return cli_usage(stderr, synth_usage, MB_EXIT_USAGE);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "myobench: synth: unexpected argument '%s'\n", argv[optind]);
        return cli_usage(stderr, synth_usage, MB_EXIT_USAGE);
    }
    if (!out) {
        fprintf(stderr, "myobench: synth: --out DIR is required\n");
        return cli_usage(stderr, synth_usage, MB_EXIT_USAGE);
    }
    struct synth_params p;
    if (synth_params_preset_model(&p, preset, (uint64_t)seed, model) != MB_OK)
        return MB_EXIT_USAGE;
    if (subjects)
        p.n_subjects = (int)subjects;
    if (p.e2p_held_out_users >= p.n_subjects)
        p.e2p_held_out_users = p.n_subjects > 1 ? 1 : 0;
    p.e2p_f32 = f32;
    p.subject_spread = spread;
    if (only)
        p.devices = only;
    if (jobs)
        omp_set_num_threads((int)jobs);
    size_t nf = 0;
    if (synth_write(out, &p, &nf) != MB_OK) {
        fprintf(stderr, "myobench: synth: failed; '%s' may hold a partial corpus (complete files only)\n", out);
        return MB_EXIT_FAIL;
    }
    fprintf(stderr, "myobench: synth: %zu files, %d subject%s, preset %s, model v%d, seed %ld -> '%s'\n",
            nf, p.n_subjects, p.n_subjects == 1 ? "" : "s", preset, model, seed, out);
    return MB_EXIT_OK;
}
