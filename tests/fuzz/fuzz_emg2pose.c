/* tests/fuzz/fuzz_emg2pose.c - libFuzzer target for the emg2pose session
 * reader (converters/emg2pose_h5.c): open, attributes, type checks and
 * block reads on arbitrary bytes. Not part of 'make test'; see README.md.
 *
 * The reader takes a path, so each input is written to a private file in
 * /dev/shm (or $TMPDIR) first. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "converters/emg2pose_h5.h"

static char path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    snprintf(path, sizeof path, "%s/fuzz_emg2pose-%d.hdf5", dir, (int)getpid());
    mb_log_set_level(MB_LOG_QUIET);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    (void)conv_e2p_is_emg2pose(path);
    struct conv_e2p_file *e;
    if (conv_e2p_open(&e, path) == MB_OK) {
        /* Bounded work per input: at most 4096 rows, in uneven blocks. */
        size_t rows = e->n_rows < 4096 ? e->n_rows : 4096;
        double *t = malloc(64 * sizeof *t), *j = malloc(64 * CONV_E2P_JOINTS * sizeof *j);
        float *x = malloc(64 * (size_t)e->n_emg * sizeof *x);
        for (size_t s = 0; t && j && x && s < rows; s += 61) {
            size_t n = rows - s < 61 ? rows - s : 61;
            if (conv_e2p_read(e, s, n, t, j, x) != MB_OK)
                break;
        }
        free(t);
        free(j);
        free(x);
        conv_e2p_close(e);
    }
    unlink(path);
    return 0;
}
