/* harness/plan.h - what a benchmark run covers: datasets x protocol
 * variants x methods x seeds, at one view of the windows.
 *
 * A plan comes from PLAN.yaml (hn_plan_load) or from command-line flags
 * (hn_plan_from_flags); both resolve every protocol and method name against
 * a registry (by default the static tables of methods/registry.c and
 * protocols/registry.c; tests
 * pass their own), so an unknown name is an error that lists what exists.
 *
 * PLAN.yaml (docs/RESULTS.md §1):
 *
 *     data: [ninapro_db1.h5, emg2pose.h5]     # relative to the plan's folder
 *     view: { rate_hz: 200, window_ms: 200, stride_ms: 50 }
 *     protocols:
 *       - loso                                 # a name alone: default settings
 *       - { name: loso, folds: 5 }
 *       - { name: fewshot, shots: [1, 5], percents: [20], episodes: 3 }
 *       - { name: zeroshot-gestures, unseen_fraction: 0.25 }
 *     methods:
 *       - lda-td4
 *       - { name: knn-td4, params: "k=5", label: knn5 }
 *     seeds: [1, 2]
 *
 * A protocol entry with several shots / percents expands into one variant
 * per value ("fewshot-k1", "fewshot-k5", "fewshot-p20"); each variant is a
 * block of the report.
 */
#ifndef MB_HARNESS_PLAN_H
#define MB_HARNESS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "protocols/protocol.h"

/* Where names are looked up; NULL members mean the global registries. */
struct hn_registry {
    const struct mb_method *const *methods;      /* NULL-terminated */
    const struct mb_protocol *const *protocols;  /* NULL-terminated */
};

struct hn_protocol_spec {
    const struct mb_protocol *p;
    char *label;                 /* report block name: "loso", "fewshot-k5", ... */
    struct pr_settings s;        /* s.seed is set per job from the plan's seeds */
    char *settings;              /* canonical text of s (the job key's settings), any length */
};

struct hn_method_spec {
    const struct mb_method *m;
    void *hp;                    /* the parameters, parsed once (mb_method_parse) */
    char *params;                /* their canonical text: every key, defaults included */
    char *label;                 /* report row name; the method name by default */
};

struct hn_plan {
    size_t n_data;
    char **data;                 /* [n_data] unified file paths */
    size_t n_protocols;
    struct hn_protocol_spec *protocol;   /* [n_protocols] variants */
    size_t n_methods;
    struct hn_method_spec *method;       /* [n_methods] */
    size_t n_seeds;
    uint64_t *seed;              /* [n_seeds]; {1} by default */
    struct cp_view view;
    char *text;                  /* canonical description (stored with each run) */
};

/* Flags of 'myobench run' (comma-separated lists; NULL = not given). */
struct hn_flags {
    const char *data, *protocols, *methods, *seeds;
    double rate_hz, window_ms, stride_ms;   /* < 0: default */
    int folds;                               /* < 0: default */
};

/* Parses PLAN.yaml; errors name the file, the line and the key. */
int hn_plan_load(struct hn_plan *plan, const char *path, const struct hn_registry *reg) MB_MUST_CHECK;

/* Same plan from flags; protocols take default settings (plus --folds). */
int hn_plan_from_flags(struct hn_plan *plan, const struct hn_flags *f, const struct hn_registry *reg) MB_MUST_CHECK;

/* Checks every dataset of the plan before anything is written (myobench
 * run calls it before it opens the results store): each file is readable
 * and passes cp_corpus_check at the plan's view (a unified file whose
 * recordings fit the view and whose labels are all in its vocabulary).
 * 'origin' names the plan in messages: its file, or "--data". */
int hn_plan_check_data(const struct hn_plan *plan, const char *origin) MB_MUST_CHECK;

/* Frees what a plan owns; a zeroed plan is fine. */
void hn_plan_release(struct hn_plan *plan);

/* Registry lookups (NULL reg or member = global tables). On failure they
 * report MB_EINVAL listing the known names. */
int hn_find_method(const struct mb_method **out, const struct hn_registry *reg, const char *name) MB_MUST_CHECK;
int hn_find_protocol(const struct mb_protocol **out, const struct hn_registry *reg, const char *name) MB_MUST_CHECK;


/* Canonical text of a view: "rate_hz=200,window_ms=200,stride_ms=50,majority=0". */
void hn_view_text(char *buf, size_t cap, const struct cp_view *v);

#endif
