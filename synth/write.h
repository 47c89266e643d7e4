/* synth/write.h - the native writers behind synth_write_file(); internal.
 * Each writes 'path' under a temporary name and renames it when complete. */
#ifndef MB_SYNTH_WRITE_H
#define MB_SYNTH_WRITE_H

#include <stddef.h>

#include "synth/synth.h"

/* emg2pose HDF5: f8 joint angles and contiguous storage, or (f32) f4 joint
 * angles with chunked gzip storage. */
int synth_write_e2p(const char *path, const struct synth_recording *r, int f32) MB_MUST_CHECK;
/* metadata.csv rows (from synth_describe) in the given order. */
int synth_write_e2p_metadata(const char *path, const struct synth_recording *rows, size_t n) MB_MUST_CHECK;
/* NinaPro DB1/DB2/DB5 MAT v5, compressed (libmatio). */
int synth_write_mat(const char *path, const struct synth_recording *r, uint64_t seed) MB_MUST_CHECK;
/* Myo, Kaufmann and UCI text dialects. */
int synth_write_text(const char *path, const struct synth_recording *r) MB_MUST_CHECK;

#endif
