/* converters/conv_ninapro.h - the NinaPro converter's own options
 * (docs/CONVERTERS.md). Everything else is reached through the registry
 * (converters/converter.h); the CLI fills this struct from the option
 * table in conv_ninapro.c, tests set it directly. */
#ifndef MB_CONVERTERS_CONV_NINAPRO_H
#define MB_CONVERTERS_CONV_NINAPRO_H

#include "converters/converter.h"

extern const struct mb_converter conv_ninapro;

/* mb_convert_opts.conv_opts of 'convert ninapro'; zero is every default. */
struct conv_ninapro_opts {
    int db;                        /* --db N: database number 1-8; 0 = detect */
    const char *labels;            /* --labels: "restimulus" (NULL, the default) or "stimulus" */
    int allow_truncation;          /* --allow-truncation: cut per-sample vectors of very different
                                    * lengths to the shortest instead of failing */
};

#endif
