/* format/mbh5_read.h - private to format/: the reader's HDF5 state behind
 * mbh5_file.impl, shared by the raw reads and the validator. */
#ifndef MB_FORMAT_MBH5_READ_H
#define MB_FORMAT_MBH5_READ_H

#include <hdf5.h>
#include <stddef.h>

#include "format/mbh5.h"

struct mbh5_impl {
    hid_t fid;
    /* Every string and array handed out through mbh5_file; freed at close. */
    void **owned;
    size_t n_owned, cap_owned;
    /* Datasets of the recording last read ('cur', (size_t)-1 if none). */
    size_t cur;
    hid_t d_emg, d_lab, d_rep, d_time;
    hid_t *d_sdata, *d_svalid;      /* [n_sd] per stream, -1 if absent */
    /* EMG chunks this reader can decode itself (mbh5_codec_decode), in
     * parallel, for long reads: chunked by whole rows, shuffle/deflate only. */
    int emg_fast;
    size_t emg_chunk_rows;
    int emg_shuffle, emg_deflate;   /* filter index + 1 in the pipeline, 0 if absent */
    size_t n_sd;
};

/* Makes 'rec' the current recording (opens its datasets). */
int  mbh5_impl_use_rec(struct mbh5_file *f, size_t rec) MB_MUST_CHECK;
void mbh5_impl_drop_rec(struct mbh5_impl *m);

#endif
