/* baselines/registry.c - the table of classical classifiers (classifier.h).
 * Adding one: write baselines/<name>.c ending in a
 * 'const struct base_classifier base_<name>', add it here and to
 * docs/BASELINES.md; tests/test_baselines.c walks this table. */
#include <string.h>

#include "baselines/classifier.h"

extern const struct base_classifier base_lda, base_qda, base_knn, base_logreg, base_svm_linear, base_svm_rbf;

const struct base_classifier *const base_classifiers[] = {
    &base_lda, &base_qda, &base_knn, &base_logreg, &base_svm_linear, &base_svm_rbf, NULL,
};

const struct base_classifier *base_classifier_find(const char *name)
{
    for (const struct base_classifier *const *c = base_classifiers; name && *c; c++)
        if (!strcmp((*c)->name, name)) return *c;
    return NULL;
}
