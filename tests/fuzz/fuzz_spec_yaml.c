/* tests/fuzz/fuzz_spec_yaml.c - libFuzzer target for the spec parser (the
 * libyaml document walk against the schema) and for matching paths against
 * whatever pattern a spec that parses brings.
 * Not part of 'make test'; see tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "converters/spec.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mb_log_set_level(MB_LOG_QUIET);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct spec *s = NULL;
    if (spec_parse(&s, "fuzz.yaml", (const char *)data, size) != MB_OK) {
        if (s)
            abort();   /* failure leaves no spec behind */
        return 0;
    }
    static const char *const paths[] = { "s1/1.csv", "a/b/S01_D3_C10.txt", "_readings_left_hand/12345-1/3.txt", "" };
    void *md = spec_match_data_new(s);
    for (size_t i = 0; md && i < sizeof paths / sizeof *paths; i++) {
        struct spec_match m;
        if (spec_match_path(s, md, paths[i], &m) == 1) {
            if (!m.subject || !m.session || !m.side)
                abort();
            spec_match_release(&m);
        }
    }
    spec_match_data_free(md);
    char buf[64];
    int32_t id;
    if (spec_label_lookup(s, "1", 1, &id) == MB_OK)
        (void)spec_label_name(s, id, buf, sizeof buf);
    spec_free(s);
    return 0;
}
