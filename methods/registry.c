/* methods/registry.c - the static table of methods; the only file to edit
 * (besides the method's own file) when one is added. `myobench methods`
 * lists mb_methods in this order. */
#include <stdlib.h>
#include <string.h>

#include "methods/method.h"

extern const struct mb_method meth_lda_td4, meth_qda_td4, meth_knn_td4, meth_logreg_td4, meth_svm_linear_td4,
    meth_svm_rbf_td4, meth_lda_ls9, meth_lda_tdpsd, meth_pose_ridge_td4;
/* the neural methods (methods/) */
extern const struct mb_method mb_method_emg_mae, mb_method_pose_mae, mb_method_cpep,
    mb_method_pose_upper_bound, mb_method_emg2pose_tds;

const struct mb_method *const mb_methods[] = {
    &meth_lda_td4,
    &meth_qda_td4,
    &meth_knn_td4,
    &meth_logreg_td4,
    &meth_svm_linear_td4,
    &meth_svm_rbf_td4,
    &meth_lda_ls9,
    &meth_lda_tdpsd,
    &meth_pose_ridge_td4,
    &mb_method_emg_mae,
    &mb_method_pose_mae,
    &mb_method_cpep,
    &mb_method_pose_upper_bound,
    &mb_method_emg2pose_tds,
    NULL
};

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
