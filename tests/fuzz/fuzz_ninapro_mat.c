/* tests/fuzz/fuzz_ninapro_mat.c - libFuzzer target for the NinaPro MAT
 * reader (converters/ninapro_mat.c): the container check (header, element
 * walk), conv_np_peek, and conv_np_load with its label mapping, streams,
 * tags and non-finite checks, then every row of EMG and of each stream.
 * The input is the whole file; its last byte also picks the database and
 * exercise (so local, global, auto and observed numberings, the DB2 E3
 * remap and --labels stimulus are all reached). libmatio needs a path, so
 * each input is written to a private temporary file first.
 * Not part of 'make test'; see tests/fuzz/README.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "converters/ninapro_mat.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mb_log_set_level(MB_LOG_QUIET);
    snprintf(path, sizeof path, "/tmp/fuzz_ninapro_%ld.mat", (long)getpid());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    unsigned k = size ? data[size - 1] : 0;
    struct conv_np_peek pk;
    if (conv_np_peek(&pk, path, 1) == MB_OK && pk.emg_rows > ((size_t)1 << 40))
        abort();   /* dims come from a checked header */
    const struct conv_np_db *db = conv_np_db(1 + (int)(k % 8));
    struct conv_np_load_opts o = {
        .db = db,
        .exercise = 1 + (int)((k >> 3) % 3),
        .use_stimulus = (k >> 5) & 1,
        .allow_nonfinite = (k >> 6) & 1,
    };
    struct conv_np_file nf;
    if (conv_np_load(&nf, path, "fuzz.mat", &o) == MB_OK) {
        if (nf.n == 0 || nf.n_channels <= 0)
            abort();   /* a loaded file has samples and channels */
        float *emg = malloc(nf.n * (size_t)nf.n_channels * sizeof *emg);
        if (emg)
            conv_np_emg_rows(&nf, 0, nf.n, emg);
        free(emg);
        for (size_t s = 0; s < nf.n_streams; s++) {
            double *x = malloc(nf.n * nf.streams[s].cols * sizeof *x);
            if (x)
                conv_np_stream_rows(&nf, s, 0, nf.n, x);
            free(x);
        }
        for (size_t i = 0; i < nf.n; i++)
            if (nf.labels[i] < 0 || nf.reps[i] < -1)
                abort();   /* the reader promises ids >= 0 and reps >= -1 */
        conv_np_release(&nf);
    }
    return 0;
}
