/* converters/registry.c - the table of converters; the only file to edit
 * (besides conv_<name>.c) when adding a dataset. */
#include <string.h>

#include "converters/converter.h"

extern const struct mb_converter conv_emg2pose, conv_ninapro, conv_spec, conv_sh2024;

const struct mb_converter *const mb_converters[] = {
    &conv_emg2pose,   /* metadata.csv + HDF5 group 'emg2pose': strongest signature */
    &conv_ninapro,    /* MAT files with 'emg' and 'restimulus' */
    &conv_spec,       /* never probed: needs a spec */
    &conv_sh2024,     /* never probed: runs the sh2024 template spec */
    NULL
};

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
