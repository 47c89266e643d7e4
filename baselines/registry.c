/* baselines/registry.c - the table of classical classifiers (classifier.h).
 * Adding one: write baselines/<name>.c ending in a
 * 'const struct base_classifier base_<name>', add one X(<name>) to
 * BASE_CLASSIFIERS in classifier.h and a row to docs/BASELINES.md;
 * tests/test_baselines.c walks this table. */
#include <string.h>

#include "baselines/classifier.h"

#define BASE_X_PTR(n) &base_##n,
const struct base_classifier *const base_classifiers[] = { BASE_CLASSIFIERS(BASE_X_PTR) NULL };
#undef BASE_X_PTR

const struct base_classifier *base_classifier_find(const char *name)
{
    for (const struct base_classifier *const *c = base_classifiers; name && *c; c++)
        if (!strcmp((*c)->name, name)) return *c;
    return NULL;
}
