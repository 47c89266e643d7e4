/* protocols/registry.c - the static table of protocols; the only file to
 * edit (besides the protocol's own file) when one is added. `myobench
 * methods` lists mb_protocols in this order. */
#include <string.h>

#include "protocols/protocol.h"

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

const struct mb_protocol *mb_protocol_find(const char *name)
{
    for (const struct mb_protocol *const *p = mb_protocols; *p; p++)
        if (!strcmp((*p)->name, name))
            return *p;
    return NULL;
}
