/* methods/registry.c - the static table of methods: adding one is one line
 * of METHODS below (besides the method's own file, its test and its doc
 * paragraph; docs/CONTRIBUTING.md). `myobench methods` lists them in this
 * order. */
#include <stdlib.h>
#include <string.h>

#include "methods/method.h"

/* One line per method, in listing order. */
#define METHODS(X)                  \
    X(meth_lda_td4)                 \
    X(meth_qda_td4)                 \
    X(meth_knn_td4)                 \
    X(meth_logreg_td4)              \
    X(meth_svm_linear_td4)          \
    X(meth_svm_rbf_td4)             \
    X(meth_lda_ls9)                 \
    X(meth_lda_tdpsd)               \
    X(meth_pose_ridge_td4)          \
    X(mb_method_emg_mae)            \
    X(mb_method_pose_mae)           \
    X(mb_method_cpep)               \
    X(mb_method_qformer)            \
    X(mb_method_embridge)           \
    X(mb_method_pose_upper_bound)   \
    X(mb_method_emg2pose_tds)

#define DECLARE(m) extern const struct mb_method m;
#define ENTRY(m) &m,
METHODS(DECLARE)
const struct mb_method *const mb_methods[] = { METHODS(ENTRY) NULL };

const struct mb_method *mb_method_find(const char *name)
{
    for (const struct mb_method *const *m = mb_methods; *m; m++)
        if (!strcmp((*m)->name, name))
            return *m;
    return NULL;
}


int mb_method_parse(void **hp, const struct mb_method *m, const char *text)
{
    *hp = calloc(1, m->hp_size ? m->hp_size : 1);
    if (!*hp)
        return mb_error(MB_ENOMEM, "%s: out of memory for its parameters", m->name);
    int rc = mb_params_parse(*hp, m->params, text, m->name);
    if (!rc && m->check)
        rc = m->check(*hp, m->name);
    if (rc) {
        free(*hp);
        *hp = NULL;
    }
    return rc;
}

char *mb_method_params_text(const struct mb_method *m, const void *hp)
{
    return mb_params_text_dup(m->params, hp);
}
