/* tests/fuzz/make_seeds_emg2pose.c - writes the seed inputs of
 * fuzz_emg2pose into a folder: small emg2pose files in the official layout
 * and in the variants the reader must accept or reject. Built and run by
 * hand (see README.md); the seeds are committed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "converters/emg2pose_h5.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    enum { T = 40, C = 16 };
    static double time[T], joints[T * CONV_E2P_JOINTS];
    static float emg[T * C];
    for (int i = 0; i < T; i++) {
        time[i] = 1670000000.0 + i / 2000.0;
        for (int k = 0; k < CONV_E2P_JOINTS; k++)
            joints[i * CONV_E2P_JOINTS + k] = i % 7 == 3 ? 0.0 : sin(0.1 * i + k);
        for (int k = 0; k < C; k++)
            emg[i * C + k] = (float)cos(0.3 * i * (k + 1));
    }
    struct conv_e2p_attrs full = {
        .filename = "2022-12-06-1670313600-e3096-cv-emg-pose-train@2-recording-1_left",
        .session = "2022-12-06-1670313600-e3096-cv-emg-pose-train@2",
        .side = "left", .stage = "FingerFreeform", .user = "d000000001",
        .start = 1670000000.0, .end = 1670000000.0 + T / 2000.0, .sample_rate = 2000.0, .num_channels = C,
    };
    struct conv_e2p_attrs none = { .start = NAN, .end = NAN, .sample_rate = NAN, .num_channels = -1 };
    struct { const char *name; struct conv_e2p_spec s; } seeds[] = {
        { "official.hdf5", { .attrs = full } },
        { "f32_chunked_gzip.hdf5", { .joints_f32 = 1, .chunk_rows = 8, .gzip = 4, .attrs = full } },
        { "chunked_plain.hdf5", { .chunk_rows = 16, .attrs = none } },
        { "no_emg.hdf5", { .omit_emg = 1, .attrs = full } },
        { "few_channels.hdf5", { .attrs = none } },
    };
    char p[1024];
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        struct conv_e2p_spec s = seeds[i].s;
        s.n_rows = T;
        s.n_emg = i == 4 ? 3 : C;
        s.time = time;
        s.joints = joints;
        s.emg = emg;
        snprintf(p, sizeof p, "%s/%s", argv[1], seeds[i].name);
        if (conv_e2p_write(p, &s) != MB_OK)
            return 1;
    }
    return 0;
}
