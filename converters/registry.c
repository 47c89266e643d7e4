/* converters/registry.c - the table of converters: adding one is one line
 * of CONVERTERS below (besides conv_<name>.c, its test and its doc section;
 * docs/CONTRIBUTING.md). */
#include <string.h>

#include "converters/converter.h"

/* One line per converter, in probing order (convert auto asks each in turn). */
#define CONVERTERS(X)                                                          \
    X(conv_emg2pose)  /* metadata.csv + HDF5 group 'emg2pose': strongest */   \
    X(conv_ninapro)   /* MAT files with 'emg' and 'restimulus' */             \
    X(conv_spec)      /* never probed: needs a spec */                        \
    X(conv_sh2024)    /* never probed: runs the sh2024 template spec */

#define DECLARE(c) extern const struct mb_converter c;
#define ENTRY(c) &c,
CONVERTERS(DECLARE)
const struct mb_converter *const mb_converters[] = { CONVERTERS(ENTRY) NULL };

const struct mb_converter *mb_converter_find(const char *name)
{
    for (const struct mb_converter *const *c = mb_converters; *c; c++)
        if (!strcmp((*c)->name, name))
            return *c;
    return NULL;
}

const struct mb_converter *mb_converter_detect(const char *src)
{
    for (const struct mb_converter *const *c = mb_converters; *c; c++)
        if ((*c)->probe && (*c)->probe(src) == 1)
            return *c;
    return NULL;
}

const struct mb_conv_opt *mb_converter_option(const struct mb_converter *c, const char *name)
{
    for (const struct mb_conv_opt *o = c->options; o && o->name; o++)
        if (!strcmp(o->name, name))
            return o;
    return NULL;
}
