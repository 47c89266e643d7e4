/* reports/fmt.h - number formats and the output-file discipline shared by
 * the report writers. Fixed printf formats keep every output byte-stable,
 * so the golden-file tests can compare bytes. */
#ifndef MB_REPORTS_FMT_H
#define MB_REPORTS_FMT_H

#include <stddef.h>
#include <stdio.h>

#include "core/err.h"

#define REP_NUM_CAP 40

/* Shortest of %.15g, %.16g, %.17g that reads back as exactly v (so CSV
 * values round-trip); "nan", "inf", "-inf" for non-finite values. */
const char *rep_fmt_real(char buf[REP_NUM_CAP], double v);

/* v with 'decimals' digits after the point ("%.*f"), never "-0.0". */
const char *rep_fmt_fixed(char buf[REP_NUM_CAP], double v, int decimals);

/* An output file written under a temporary name and renamed into place by
 * rep_out_close; rep_out_discard removes it instead (after an error). */
struct rep_out {
    FILE *f;
    const char *path;        /* borrowed */
    char tmp[4096];
};

int rep_out_open(struct rep_out *o, const char *path) MB_MUST_CHECK;
int rep_out_close(struct rep_out *o) MB_MUST_CHECK;
void rep_out_discard(struct rep_out *o);

#endif
