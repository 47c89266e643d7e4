/* protocols/registry.c - the static tables of methods and protocols; the
 * only file to edit (besides the method's or protocol's own file) when one
 * is added. `myobench methods` lists mb_methods in this order. */
#include <string.h>

#include "protocols/protocol.h"

/* the neural methods (methods/) */
extern const struct mb_method mb_method_emg_mae, mb_method_pose_mae, mb_method_cpep,
    mb_method_pose_upper_bound;

const struct mb_method *const mb_methods[] = {
    &mb_method_emg_mae,
    &mb_method_pose_mae,
    &mb_method_cpep,
    &mb_method_pose_upper_bound,
    NULL
};

const struct mb_protocol *const mb_protocols[] = {
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
