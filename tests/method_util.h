/* tests/method_util.h - calling methods and protocols from tests with
 * parameter text, as a plan would: parsed (mb_method_parse), used, freed. */
#ifndef MB_TESTS_METHOD_UTIL_H
#define MB_TESTS_METHOD_UTIL_H

#include <stdlib.h>

#include "methods/method.h"
#include "protocols/protocol.h"

/* m->fit with parameters from text (NULL = defaults) and shared work sh (may be NULL). */
static inline int tu_fit_sh(const struct mb_method *m, struct mb_method_model **out, const struct cp_set *train,
                            const int32_t *classes, size_t K, const char *params, uint64_t seed,
                            struct mb_shared *sh)
{
    void *hp = NULL;
    int rc = mb_method_parse(&hp, m, params);
    if (!rc)
        rc = m->fit(out, train, classes, K, hp, seed, sh);
    free(hp);
    return rc;
}

/* m->fit with parameters from text (NULL = defaults). */
static inline int tu_fit(const struct mb_method *m, struct mb_method_model **out, const struct cp_set *train,
                         const int32_t *classes, size_t K, const char *params, uint64_t seed)
{
    return tu_fit_sh(m, out, train, classes, K, params, seed, NULL);
}

/* p->run of method m with parameters from text (NULL = defaults). */
static inline int tu_prun_params(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m,
                                 const char *params, const struct cp_corpus *c, const struct pr_fold *f,
                                 const struct pr_settings *s)
{
    void *hp = NULL;
    int rc = mb_method_parse(&hp, m, params);
    if (!rc)
        rc = p->run(res, p, m, hp, c, f, s, NULL);
    free(hp);
    return rc;
}

/* p->run with the method's default parameters. */
static inline int tu_prun(struct pr_result *res, const struct mb_protocol *p, const struct mb_method *m,
                          const struct cp_corpus *c, const struct pr_fold *f, const struct pr_settings *s)
{
    return tu_prun_params(res, p, m, NULL, c, f, s);
}

#endif
