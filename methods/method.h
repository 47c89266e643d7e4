/* methods/method.h - the method contract and its registry: what a
 * protocol may ask of a method (fit, predict, embed, zero-shot, adapt), and
 * nothing else. Protocols reach methods only through this header; each
 * method lives in its own file of methods/ and is one line of
 * methods/registry.c. docs/METHODS.md describes each one.
 */
#ifndef MB_METHODS_METHOD_H
#define MB_METHODS_METHOD_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/params.h"
#include "corpus/corpus.h"

enum {
    MB_CAP_CLASSIFY   = 1u << 0,  /* fit on labelled windows, predict probabilities */
    MB_CAP_EMBED      = 1u << 1,  /* frozen representation: linear probe */
    MB_CAP_ZERO_SHOT  = 1u << 2,  /* names unseen gestures from pose references */
    MB_CAP_ADAPT      = 1u << 3,  /* unsupervised adaptation on unlabelled target windows */
    MB_CAP_NEEDS_POSE = 1u << 4,  /* needs a pose stream in training */
    MB_CAP_ORACLE     = 1u << 5,  /* uses test-time information: reported as an oracle row */
};

struct mb_method_model;          /* a method's fitted state, private to its file */
struct mb_shared;                /* work shared by the jobs of a plan (core/shared.h); may be NULL */

struct mb_method {
    const char *name;            /* "lda-td4", "svm-linear-td4", "pose-ridge-td4", ... */
    const char *summary;
    unsigned caps;               /* MB_CAP_* */
    /* Parameters: a typed table over the method's own struct (core/params.h),
     * parsed once when the plan is loaded (mb_method_parse); the canonical
     * text of the parsed values is part of the job key. */
    const struct mb_param *params;
    size_t hp_size;              /* sizeof the method's parameter struct */
    /* Checks across keys that a table cannot state (a width that is a
     * multiple of the heads), without data; MB_EINVAL naming the keys. NULL = none. */
    int  (*check)(const void *hp, const char *name);
    /* Fits on labelled training windows with the parsed parameters hp.
     * Labels are mapped by the protocol to [0, K) through 'classes' (global
     * gesture ids). 'sh' offers results other jobs of the plan computed from
     * the same inputs (features, pre-trained encoders); NULL = compute all. */
    int  (*fit)(struct mb_method_model **out, const struct cp_set *train, const int32_t *classes,
                size_t K, const void *hp, uint64_t seed, struct mb_shared *sh);
    /* P [n x K] for the K classes of fit. */
    int  (*predict_proba)(float *P, const struct mb_method_model *m, const struct cp_set *test);
    /* Representation Z [n x *E] (E fixed per model); NULL if not MB_CAP_EMBED. */
    int  (*embed)(float *Z, size_t *E, const struct mb_method_model *m, const struct cp_set *x);
    /* Zero-shot: predicts, for each test window, one of the n_ref_classes
     * gesture ids using only labelled pose references (refs: pose rows
     * [n_refs x cp_pose_frames(c) x J], i.e. each reference window's pose
     * sequence, with ids [n_refs]), which may include gestures never seen
     * in training. NULL if not MB_CAP_ZERO_SHOT. */
    int  (*zero_shot)(int32_t *pred, const struct mb_method_model *m, const struct cp_set *test,
                      const float *ref_pose, const int32_t *ref_ids, size_t n_refs);
    /* Adapts to unlabelled target windows (no source data). NULL if not MB_CAP_ADAPT. */
    int  (*adapt)(struct mb_method_model *m, const struct cp_set *target, uint64_t seed);
    /* SHA-256 of the parameters that define the representation (linear-probe check). */
    void (*param_hash)(char hex[65], const struct mb_method_model *m);
    void (*free)(struct mb_method_model *m);
    /* E of embed(), so callers can size Z before the call; required with MB_CAP_EMBED. */
    size_t (*embed_dim)(const struct mb_method_model *m);
};

extern const struct mb_method *const mb_methods[];          /* NULL-terminated registry */
const struct mb_method *mb_method_find(const char *name);    /* NULL if unknown */

/* Parses 'text' (NULL or "" = the defaults) into a new struct of
 * m->hp_size bytes and runs m->check: *hp is malloc'ed (free() it) on
 * success, NULL on error (MB_EINVAL naming the method and the key). */
int mb_method_parse(void **hp, const struct mb_method *m, const char *text) MB_MUST_CHECK;

/* Canonical text of parsed parameters (core/params.h), malloc'ed. */
char *mb_method_params_text(const struct mb_method *m, const void *hp);

#endif
