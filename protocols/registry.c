/* protocols/registry.c - the static table of protocols: adding one is one
 * line of PROTOCOLS below (besides the protocol's own file, its test and its
 * doc paragraph; docs/CONTRIBUTING.md). `myobench protocols` lists them in
 * this order. */
#include <string.h>

#include "protocols/protocol.h"

/* One line per protocol, in listing order. */
#define PROTOCOLS(X)              \
    X(proto_within)               \
    X(proto_loso)                 \
    X(proto_zeroshot_users)       \
    X(proto_zeroshot_gestures)    \
    X(proto_zeroshot_seen)        \
    X(proto_fewshot)              \
    X(proto_probe)                \
    X(proto_probe_unseen)         \
    X(proto_adapt)

#define DECLARE(p) extern const struct mb_protocol p;
#define ENTRY(p) &p,
PROTOCOLS(DECLARE)
const struct mb_protocol *const mb_protocols[] = { PROTOCOLS(ENTRY) NULL };

const struct mb_protocol *mb_protocol_find(const char *name)
{
    for (const struct mb_protocol *const *p = mb_protocols; *p; p++)
        if (!strcmp((*p)->name, name))
            return *p;
    return NULL;
}
