/* cli/cmd_run.c - 'myobench run': a plan (PLAN.yaml or flags) run into the
 * results store, optionally followed by the report. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "core/shared.h"
#include "harness/report.h"
#include "harness/run.h"

static const char *const run_usage[] = {
    "usage: myobench run PLAN.yaml [options]",
    "   or: myobench run --data A.h5[,B.h5] --protocol P[,Q] --methods M[,N] [options]",
    "",
    "Runs every job of the plan (dataset x protocol x method x fold x seed) with",
    "OpenMP across jobs, and commits each finished job into the results store.",
    "Jobs already ok or n/a in the store are skipped, so an interrupted run is",
    "resumed by running the same command again. PLAN.yaml is described in",
    "docs/RESULTS.md; 'myobench methods' lists the methods and protocols.",
    "",
    "plan flags (instead of PLAN.yaml):",
    "  --data LIST        unified files, comma-separated",
    "  --protocol LIST    protocols, comma-separated",
    "  --methods LIST     methods, comma-separated",
    "  --seeds LIST       seeds (default 1)",
    "  --rate HZ          view rate (default: native, one rate per corpus)",
    "  --window-ms MS     window length (default 200)",
    "  --stride-ms MS     window stride (default 50)",
    "  --folds K          grouped k-fold over subjects instead of one fold per subject",
    "",
    "options:",
    "  -j, --jobs N       jobs run in parallel (default: OpenMP's default)",
    "  --db FILE          results store (default results.db)",
    "  --out DIR          also write the report (all formats) into DIR",
    "  --progress MODE    bar, lines or none (default: bar on a terminal, else lines)",
    "  --lease-expiry S   seconds without a heartbeat after which another run may take",
    "                     over this run's jobs (default 300; runs may share one --db)",
    "  --cache-mb N       keep up to N MB of shared work nobody holds (features and",
    "                     pre-trained encoders other jobs of the plan reuse; default 64)",
    "  --no-cache         every job computes its own; no <db>.cache/ folder (the numbers",
    "                     are the same either way: only the time differs)",
    "  --corpus-mb N      read a recording's samples only when a job needs them and keep",
    "                     at most N MB of recordings no job holds (a corpus larger than",
    "                     memory; default: each corpus is read whole; same numbers)",
    "  -h, --help         this text",
    "",
    "exit status: 0 every job ok or n/a, 1 a job failed or the store cannot be",
    "written, 2 usage error",
    NULL
};

static int parse_real(double *out, const char *opt, const char *val)
{
    char *end;
    double v = strtod(val, &end);
    if (end == val || *end || !(v >= 0)) {
        fprintf(stderr, "myobench: option '%s' needs a non-negative number, got '%s'\n", opt, val);
        return -1;
    }
    *out = v;
    return 0;
}

int cmd_run(int argc, char **argv)
{
    enum { O_DATA = 256, O_PROTO, O_METHODS, O_SEEDS, O_RATE, O_WIN, O_STRIDE, O_FOLDS, O_DB, O_OUT, O_PROGRESS,
           O_LEASE, O_CACHE_MB, O_NO_CACHE, O_CORPUS_MB };
    static const struct option options[] = {
        { "data", required_argument, NULL, O_DATA },
        { "protocol", required_argument, NULL, O_PROTO },
        { "protocols", required_argument, NULL, O_PROTO },
        { "methods", required_argument, NULL, O_METHODS },
        { "seeds", required_argument, NULL, O_SEEDS },
        { "rate", required_argument, NULL, O_RATE },
        { "window-ms", required_argument, NULL, O_WIN },
        { "stride-ms", required_argument, NULL, O_STRIDE },
        { "folds", required_argument, NULL, O_FOLDS },
        { "jobs", required_argument, NULL, 'j' },
        /* --threads was this flag's documented name before -j/--jobs became
         * the one spelling of every command; kept working, no longer listed */
        { "threads", required_argument, NULL, 'j' },
        { "db", required_argument, NULL, O_DB },
        { "out", required_argument, NULL, O_OUT },
        { "progress", required_argument, NULL, O_PROGRESS },
        { "lease-expiry", required_argument, NULL, O_LEASE },
        { "cache-mb", required_argument, NULL, O_CACHE_MB },
        { "no-cache", no_argument, NULL, O_NO_CACHE },
        { "corpus-mb", required_argument, NULL, O_CORPUS_MB },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct hn_flags fl = { .rate_hz = -1, .window_ms = -1, .stride_ms = -1, .folds = -1 };
    struct hn_run_opts ro = { 0 };
    const char *db = "results.db", *out = NULL;
    double lease_expiry = 0;
    long cache_mb = 64;   /* the jobs of a fold run together, so little needs keeping (docs/RESULTS.md) */
    int no_cache = 0;
    int c, flags_used = 0;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hj:", options, NULL)) != -1) {
        switch (c) {
        case O_DATA:    fl.data = optarg; flags_used = 1; break;
        case O_PROTO:   fl.protocols = optarg; flags_used = 1; break;
        case O_METHODS: fl.methods = optarg; flags_used = 1; break;
        case O_SEEDS:   fl.seeds = optarg; flags_used = 1; break;
        case O_RATE:
            if (parse_real(&fl.rate_hz, "--rate", optarg)) return MB_EXIT_USAGE;
            flags_used = 1;
            break;
        case O_WIN:
            if (parse_real(&fl.window_ms, "--window-ms", optarg)) return MB_EXIT_USAGE;
            flags_used = 1;
            break;
        case O_STRIDE:
            if (parse_real(&fl.stride_ms, "--stride-ms", optarg)) return MB_EXIT_USAGE;
            flags_used = 1;
            break;
        case O_FOLDS:
            if (cli_parse_long(&v, "--folds", optarg) || v > 100000) return MB_EXIT_USAGE;
            fl.folds = (int)v;
            flags_used = 1;
            break;
        case 'j':
            if (cli_parse_long(&v, "--jobs", optarg) || v < 1 || v > 1024) {
                fprintf(stderr, "myobench: run: -j/--jobs needs 1..1024\n");
                return MB_EXIT_USAGE;
            }
            ro.threads = (int)v;
            break;
        case O_DB:  db = optarg; break;
        case O_OUT: out = optarg; break;
        case O_PROGRESS:
            if (!strcmp(optarg, "bar")) ro.progress = HN_PROGRESS_BAR;
            else if (!strcmp(optarg, "lines")) ro.progress = HN_PROGRESS_LINES;
            else if (!strcmp(optarg, "none")) ro.progress = HN_PROGRESS_NONE;
            else {
                fprintf(stderr, "myobench: run: --progress must be bar, lines or none, got '%s'\n", optarg);
                return MB_EXIT_USAGE;
            }
            break;
        case O_LEASE:
            if (parse_real(&lease_expiry, "--lease-expiry", optarg)) return MB_EXIT_USAGE;
            /* leases are renewed every expiry / 4; an infinite one could not be told
             * from a damaged row, and would never be taken over */
            if (!(lease_expiry >= 1) || !isfinite(lease_expiry)) {
                fprintf(stderr, "myobench: run: --lease-expiry needs at least 1 second (a finite number), got '%s'\n", optarg);
                return MB_EXIT_USAGE;
            }
            break;
        case O_CACHE_MB:
            if (cli_parse_long(&cache_mb, "--cache-mb", optarg) || cache_mb < 0) return MB_EXIT_USAGE;
            break;
        case O_NO_CACHE: no_cache = 1; break;
        case O_CORPUS_MB: {
            long mb;
            if (cli_parse_long(&mb, "--corpus-mb", optarg) || mb < 0) return MB_EXIT_USAGE;
            if ((unsigned long)mb > (SIZE_MAX >> 21)) {   /* mb << 20 must stay below CP_EAGER */
                fprintf(stderr, "myobench: run: --corpus-mb %ld is larger than this machine can address\n", mb);
                return MB_EXIT_USAGE;
            }
            ro.lazy = 1;
            ro.corpus_budget = (size_t)mb << 20;
            break;
        }
        case 'h': return cli_usage(stdout, run_usage, MB_EXIT_OK);
        default:  return cli_usage(stderr, run_usage, MB_EXIT_USAGE);
        }
    }
    int n_pos = argc - optind;
    if ((flags_used && n_pos) || (!flags_used && n_pos != 1)) {
        fprintf(stderr, "myobench: run: give either one PLAN.yaml or the plan flags\n");
        return cli_usage(stderr, run_usage, MB_EXIT_USAGE);
    }
    struct hn_plan plan;
    int rc = flags_used ? hn_plan_from_flags(&plan, &fl, NULL) : hn_plan_load(&plan, argv[optind], NULL);
    if (rc)
        return flags_used && rc == MB_EINVAL ? MB_EXIT_USAGE : MB_EXIT_FAIL;
    /* every dataset is checked before any job runs: a typo in the last path would
     * otherwise surface only after the other datasets' jobs, and no store is created */
    if (hn_plan_check_data(&plan, flags_used ? "--data" : argv[optind])) {
        hn_plan_release(&plan);
        return MB_EXIT_FAIL;
    }
    struct hn_store *st;
    if (hn_store_open(&st, db)) {
        hn_plan_release(&plan);
        return MB_EXIT_FAIL;
    }
    hn_store_set_lease_expiry(st, lease_expiry);
    if (!no_cache && hn_shared_open(&ro.shared, db, (size_t)cache_mb << 20)) {
        hn_store_close(st);
        hn_plan_release(&plan);
        return MB_EXIT_FAIL;
    }
    struct hn_run_stats stats;
    rc = hn_run(&stats, &plan, st, &ro);
    hn_store_close(st);
    struct mb_shared_stats sw = { 0 };
    if (ro.shared)
        mb_shared_stats(&sw, ro.shared);
    mb_shared_free(ro.shared);
    hn_plan_release(&plan);
    fprintf(stderr, "myobench: run: %zu jobs: %zu ok, %zu n/a, %zu failed, %zu already done, %zu by another run; "
            "results in '%s'\n", stats.n_jobs, stats.n_ok, stats.n_na, stats.n_failed, stats.n_skipped,
            stats.n_other, db);
    /* whether sharing paid: what was computed once and found again (features,
     * encoders, in memory or as checkpoints) */
    if (sw.hits + sw.misses)
        fprintf(stderr, "myobench: run: shared work: %zu computed, %zu reused, %zu released after their last job, "
                "%zu dropped for --cache-mb, %zu held to the end (%.1f MB)\n", sw.misses, sw.hits, sw.released,
                sw.evicted, sw.entries, (double)sw.bytes / 1e6);
    int status = rc ? MB_EXIT_FAIL : MB_EXIT_OK;
    if (out && stats.n_jobs) {
        if (hn_report_write(db, out, HN_FMT_ALL))
            status = MB_EXIT_FAIL;
        else
            fprintf(stderr, "myobench: run: report in '%s'\n", out);
    }
    return status;
}
