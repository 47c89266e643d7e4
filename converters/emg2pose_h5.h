/* converters/emg2pose_h5.h - reader of one emg2pose session file
 * (formats.md §2.2-§2.3), kept apart from the converter so tests, the
 * fuzz target and the benchmark can use it without the unified writer.
 *
 * A file is a group '/emg2pose' whose attributes carry the metadata, and a
 * rank-1 compound dataset '/emg2pose/timeseries' with the members
 *   time          float (f8 in every known file)
 *   joint_angles  array [20] of float (f8 official, f4 in third-party writers)
 *   emg           array [C] of float (f4; C = 16)
 * The reader locates the members by name in the file type and reads rows
 * through a native memory compound (time f64, joint_angles 20 x f64,
 * emg C x f32), so the storage layout (contiguous, chunked, gzip), member
 * order, offsets and float width of the file do not matter. Extra members
 * and attributes are ignored.
 *
 * Every error names the file and the object (member, attribute) at fault.
 * Functions silence HDF5's own error printing on the calling thread.
 * A handle is used by one thread at a time; HDF5 serialises calls anyway.
 */
#ifndef MB_CONVERTERS_EMG2POSE_H5_H
#define MB_CONVERTERS_EMG2POSE_H5_H

#include <stddef.h>

#include "core/err.h"

#define CONV_E2P_JOINTS 20
#define CONV_E2P_RATE_HZ 2000.0   /* EMG_SAMPLE_RATE in emg2pose/constants.py */

/* Joint names in the order of the joint_angles member (formats.md §2.4). */
extern const char *const conv_e2p_joint_names[CONV_E2P_JOINTS];

/* Attributes of '/emg2pose'; absent ones are NULL / NAN / -1. Strings are
 * owned by the file handle. */
struct conv_e2p_attrs {
    const char *filename, *session, *side, *stage, *user;
    double start, end, sample_rate;  /* Unix s, Unix s, Hz */
    long long num_channels;
};

struct conv_e2p_file {
    const char *path;                /* as given to conv_e2p_open, owned */
    struct conv_e2p_attrs attrs;
    size_t n_rows;                   /* T */
    int n_emg;                       /* C, from the compound type */
    int joints_f64;                  /* 1: joint_angles are stored as float64 */
    int emg_f64;                     /* 1: emg is stored as float64 (read as f32) */
    void *impl;                      /* HDF5 handles; private */
};

/* Opens 'path' read-only and checks the group, the dataset (rank 1,
 * compound) and the three members (kinds and sizes); reads the attributes.
 * Errors: MB_EIO (cannot open: missing, truncated, not HDF5), MB_EFORMAT
 * (missing group/dataset/member or a member of the wrong kind; a missing
 * member is reported with the list of members the file has; an attribute
 * of the wrong type), MB_ENOMEM. On error *out is NULL. */
int  conv_e2p_open(struct conv_e2p_file **out, const char *path) MB_MUST_CHECK;

/* Reads rows [start, start+n). Any of the outputs may be NULL.
 * time [n]; joints [n x 20] row-major; emg [n x C] row-major.
 * MB_EINVAL if the range is outside the dataset, MB_EH5 if HDF5 cannot
 * read it (corrupt chunk), naming the file and the rows. */
int  conv_e2p_read(struct conv_e2p_file *f, size_t start, size_t n,
                   double *time, double *joints, float *emg) MB_MUST_CHECK;

void conv_e2p_close(struct conv_e2p_file *f);

/* Cheap check used by the 'auto' probe: 1 if 'path' is an HDF5 file with
 * a group 'emg2pose', else 0. Never reports an error. */
int  conv_e2p_is_emg2pose(const char *path);

/* ---- writer of the source layout (fixtures, fuzz seeds, benchmarks) ---- */

/* What conv_e2p_write puts in a file. The real corpus is behind a
 * registration, so tests and the benchmark build emg2pose files with this;
 * the layout is the official one (formats.md §2.2-§2.3) unless a field
 * below asks for a variant. */
struct conv_e2p_spec {
    size_t n_rows;                   /* T */
    int n_emg;                       /* C */
    const double *time;              /* [T] */
    const double *joints;            /* [T x 20] */
    const float *emg;                /* [T x C] */
    int joints_f32;                  /* store joint_angles as float32 (third-party writers) */
    size_t chunk_rows;               /* 0: contiguous storage; else chunked with this many rows */
    int gzip;                        /* deflate level 1-9 when chunked, 0: none */
    int omit_emg;                    /* leave the 'emg' member out (error-path fixtures) */
    /* Attributes written as in the official file (VL UTF-8 strings, i64
     * num_channels, f64 numbers); NULL / NAN / -1 leaves one out. */
    struct conv_e2p_attrs attrs;
};

/* Writes 'path' (replacing it) with HDF5 object time tracking off, so the
 * same spec gives the same bytes. MB_EH5 names the file on failure. */
int conv_e2p_write(const char *path, const struct conv_e2p_spec *s) MB_MUST_CHECK;

#endif
