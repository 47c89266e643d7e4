/* reports/fmt.c - number formats and output files for the writers (see fmt.h). */
#include "reports/fmt.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"

const char *rep_fmt_real(char buf[REP_NUM_CAP], double v)
{
    if (isnan(v))
        return strcpy(buf, "nan");
    if (isinf(v))
        return strcpy(buf, v > 0 ? "inf" : "-inf");
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, REP_NUM_CAP, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

const char *rep_fmt_fixed(char buf[REP_NUM_CAP], double v, int decimals)
{
    if (!isfinite(v))
        return rep_fmt_real(buf, v);
    snprintf(buf, REP_NUM_CAP, "%.*f", decimals, v);
    if (buf[0] == '-') {  /* a value that rounds to zero prints without a sign */
        int zero = 1;
        for (const char *p = buf + 1; *p; p++)
            if (*p != '0' && *p != '.')
                zero = 0;
        if (zero)
            memmove(buf, buf + 1, strlen(buf));
    }
    return buf;
}

int rep_out_open(struct rep_out *o, const char *path)
{
    memset(o, 0, sizeof *o);
    o->path = path;
    int rc = mb_fs_tmpname(o->tmp, sizeof o->tmp, path);
    if (rc)
        return rc;
    o->f = fopen(o->tmp, "wb");
    if (!o->f)
        return mb_error(MB_EIO, "cannot create '%s': %s", o->tmp, strerror(errno));
    return MB_OK;
}

int rep_out_close(struct rep_out *o)
{
    if (!o->f)
        return mb_error(MB_EIO, "'%s' was not opened", o->path);
    int bad = ferror(o->f);
    errno = 0;   /* so a stale errno is never given as the reason */
    int rc = fclose(o->f);
    o->f = NULL;
    if (bad || rc != 0) {
        int e = errno ? errno : EIO;
        remove(o->tmp);
        return mb_error(MB_EIO, "cannot write '%s': %s", o->path, strerror(e));
    }
    rc = mb_fs_commit(o->tmp, o->path);
    if (rc)
        remove(o->tmp);
    return rc;
}

void rep_out_discard(struct rep_out *o)
{
    if (o->f) {
        fclose(o->f);
        o->f = NULL;
    }
    remove(o->tmp);
}
