/* tests/fuzz/fuzz_spec_text.c - libFuzzer target for the spec converter's
 * text readers (delimited via libcsv, whitespace-separated) and the
 * time-column regularisation. The first input byte picks one of a few
 * fixed specs covering header names, negative ranges, comments, label maps,
 * file-name gesture checks and time columns; the rest is the file.
 * Not part of 'make test'; see tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "converters/spec.h"

#define HEAD "name: f\nfiles: {pattern: '(?<subject>x)(?<gesture>y)?'}\n"

static const char *const specs[] = {
    /* csv, header names, ms time, label map with unlabelled */
    HEAD "format: {type: csv, delimiter: ',', header_lines: 1, comment: '#'}\n"
    "columns: {time: t, emg: [a, b], label: c}\nsampling: {time_unit: ms}\n"
    "values: {type: float, units: V}\nlabels: {unlabelled: 0, map: {1: one, 2: {id: 7, name: seven}}}\n"
    "device: {name: d}\n",
    /* tab-separated, negative range, identity labels, file gesture check */
    HEAD "format: {type: csv, delimiter: tab}\ncolumns: {emg: 0..-2, label: -1}\nsampling: {rate_hz: 200}\n"
    "values: {type: int, units: counts}\nlabels: {source: column, map: identity, mismatch_allowed: 0}\n"
    "device: {name: d}\n",
    /* whitespace, comment, seconds time with a nominal rate */
    HEAD "format: {type: whitespace, comment: '%', header_lines: 2}\ncolumns: {time: 0, emg: 1..3}\n"
    "sampling: {rate_hz: 1000, time_unit: s, tolerance: 0.2}\nvalues: {type: float, units: a.u.}\n"
    "labels: {source: none}\ndevice: {name: d}\n",
    /* semicolon csv, label as text map, mismatch is an error */
    HEAD "format: {type: csv, delimiter: ';'}\ncolumns: {emg: [2, 0], label: 1}\nsampling: {rate_hz: 10}\n"
    "values: {type: float, units: V}\nlabels: {map: {rest: {id: 0, name: rest}, fist: {id: 1, name: fist}}, "
    "mismatch: error}\ndevice: {name: d}\n",
};
#define N_SPECS (sizeof specs / sizeof *specs)

static struct spec *loaded[N_SPECS];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mb_log_set_level(MB_LOG_QUIET);
    for (size_t i = 0; i < N_SPECS; i++)
        if (spec_parse(&loaded[i], "fuzz.yaml", specs[i], strlen(specs[i])) != MB_OK)
            abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct spec *s = loaded[data[0] % N_SPECS];
    struct spec_read_opts o = { .allow_nonfinite = data[0] & 0x10, .has_file_gesture = data[0] & 0x20,
                                .file_gesture = 1 };
    struct spec_table t;
    if (spec_read_text(&t, s, "fuzz.txt", (const char *)data + 1, size - 1, &o) == MB_OK) {
        if (spec_regularise(&t, s, "fuzz.txt") == MB_OK && t.n == 0)
            abort();   /* a table that read must have rows */
        spec_table_release(&t);
    }
    return 0;
}
