/* protocols/registry.c - the static tables of methods and protocols; the
 * only file to edit (besides the method's or protocol's own file) when one
 * is added. `myobench methods` lists mb_methods in this order. */
#include <string.h>

#include "protocols/protocol.h"

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

extern const struct mb_protocol proto_within, proto_loso, proto_zeroshot_users, proto_zeroshot_gestures,
    proto_fewshot, proto_adapt, proto_probe, proto_probe_unseen;

const struct mb_protocol *const mb_protocols[] = {
    &proto_within,
    &proto_loso,
    &proto_zeroshot_users,
    &proto_zeroshot_gestures,
    &proto_fewshot,
    &proto_probe,
    &proto_probe_unseen,
    &proto_adapt,
    NULL
};

const struct mb_method *mb_method_find(const char *name)
{
    for (const struct mb_method *const *m = mb_methods; *m; m++)
        if (!strcmp((*m)->name, name))
            return *m;
    return NULL;
}

const struct mb_protocol *mb_protocol_find(const char *name)
{
    for (const struct mb_protocol *const *p = mb_protocols; *p; p++)
        if (!strcmp((*p)->name, name))
            return *p;
    return NULL;
}
