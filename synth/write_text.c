/* synth/write_text.c - the text dialects, byte for byte like the real
 * samples in ../shared/data/real:
 *   Myo readings: "v1,...,v8,label", no header, no newline after the last
 *                 line; CRLF in subject 0's folders (like 10000-1), LF else;
 *   Kaufmann:     numpy.savetxt defaults: "%.18e" joined by spaces, "\n"
 *                 after every row;
 *   UCI:          tab-separated, header "time channel1..channel8 class",
 *                 values printed with %g ("1e-05", "-0.00012", "0"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/fs.h"
#include "synth/write.h"

int synth_write_text(const char *path, const struct synth_recording *r)
{
    char tmp[4096];
    int rc = mb_fs_tmpname(tmp, sizeof tmp, path);
    if (rc != MB_OK)
        return rc;
    FILE *fp = fopen(tmp, "wb");
    if (!fp)
        return mb_error(MB_EIO, "cannot create '%s'", tmp);
    static _Thread_local char iobuf[1 << 16];
    setvbuf(fp, iobuf, _IOFBF, sizeof iobuf);
    const int C = r->n_channels;
    switch (r->file.dev) {
    case SYNTH_MYO: {
        const char *eol = r->file.subject == 0 ? "\r\n" : "\n";
        for (size_t i = 0; i < r->n; i++) {
            for (int c = 0; c < C; c++)
                fprintf(fp, "%d,", (int)r->emg[i * (size_t)C + (size_t)c]);
            fprintf(fp, "%d%s", (int)r->label[i], i + 1 < r->n ? eol : "");
        }
        break;
    }
    case SYNTH_KAUFMANN:
        for (size_t i = 0; i < r->n; i++)
            for (int c = 0; c < C; c++)
                fprintf(fp, "%.18e%c", r->emg[i * (size_t)C + (size_t)c] + 0.0, c + 1 < C ? ' ' : '\n');
        break;
    case SYNTH_UCI:
        fputs("time", fp);
        for (int c = 0; c < C; c++)
            fprintf(fp, "\tchannel%d", c + 1);
        fputs("\tclass\n", fp);
        for (size_t i = 0; i < r->n; i++) {
            fprintf(fp, "%.0f", r->time[i]);
            for (int c = 0; c < C; c++)
                fprintf(fp, "\t%g", r->emg[i * (size_t)C + (size_t)c] + 0.0);
            fprintf(fp, "\t%d\n", (int)r->label[i]);
        }
        break;
    default:
        fclose(fp);
        remove(tmp);
        return mb_error(MB_EINVAL, "'%s': not a text dialect", path);
    }
    if (ferror(fp) | fclose(fp)) {
        remove(tmp);
        return mb_error(MB_EIO, "cannot write '%s'", path);
    }
    return mb_fs_commit(tmp, path);
}
