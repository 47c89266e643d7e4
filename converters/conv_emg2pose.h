/* converters/conv_emg2pose.h - the emg2pose converter (docs/CONVERTERS.md).
 *
 * Reads SRC/metadata.csv and every session file it lists
 * (SRC/<filename>.hdf5), one unified recording per file. Everything else
 * is reached through the registry (converters/converter.h). */
#ifndef MB_CONVERTERS_CONV_EMG2POSE_H
#define MB_CONVERTERS_CONV_EMG2POSE_H

#include <stddef.h>

#include "converters/converter.h"

extern const struct mb_converter conv_emg2pose;

/* Rows read from a session file per block (default 65536): bounds memory
 * whatever the file size. Tests lower it to cross block boundaries on small
 * files; 0 restores the default. Not thread-safe; set before converting. */
void conv_emg2pose_set_block_rows(size_t rows);

#endif
