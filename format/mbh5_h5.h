/* format/mbh5_h5.h - private to format/: the HDF5 plumbing shared by the
 * unified-format writer, reader and validator (property lists that keep
 * files byte-reproducible, plain attributes and string columns), and the
 * layout names both sides must agree on. docs/FORMAT.md is the normative
 * description; keep the two in step.
 *
 * Every helper that fails reports once with mb_error, naming the file and
 * the object ('obj' is the HDF5 path of the object, for messages only). */
#ifndef MB_FORMAT_MBH5_H5_H
#define MB_FORMAT_MBH5_H5_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* ---- layout ------------------------------------------------------------ */

#define MBH5_G_SOURCES    "sources"
#define MBH5_G_DEVICES    "devices"
#define MBH5_G_GESTURES   "gestures"
#define MBH5_G_SUBJECTS   "subjects"
#define MBH5_G_RECORDINGS "recordings"
#define MBH5_D_NOTES      "notes"
#define MBH5_G_TAGS       "tags"
#define MBH5_G_STREAMS    "streams"

/* Chunk sizing: about this many bytes per chunk, whatever the row width,
 * so a window read decompresses little and the per-chunk overhead stays
 * small (docs/FORMAT.md, "Chunking and compression"). */
#define MBH5_CHUNK_BYTES  (32u * 1024u)
#define MBH5_CHUNK_MIN_ROWS 256u
#define MBH5_DEFLATE_LEVEL 1

/* Rows per chunk for rows of 'row_bytes' bytes. */
size_t mbh5_h5_chunk_rows(size_t row_bytes);

/* ---- chunk codec: HDF5's shuffle + deflate filters, done by us ---------
 *
 * The writer compresses whole chunks itself (in parallel, outside HDF5)
 * and stores them with H5Dwrite_chunk; the reader may decode them the same
 * way. The bytes are exactly what HDF5's filter pipeline declared on the
 * dataset (shuffle when the element is wider than a byte, then deflate)
 * decodes, so any HDF5 reader reads the file unchanged. Deflate is tuned per
 * byte plane of the shuffled chunk: on float samples the redundancy is in
 * the exponent and high mantissa bytes, which Huffman coding captures;
 * string matching finds almost nothing more and costs most of the time,
 * and the low mantissa bytes are stored as they are (docs/FORMAT.md,
 * "Chunking and compression"). */

/* Largest encoded size of 'nbytes' input bytes. */
size_t mbh5_codec_bound(size_t nbytes);
/* Encodes one chunk of 'nbytes' bytes of 'es'-byte elements; 'scratch'
 * holds nbytes. Thread-safe. Returns 0, or -1 if zlib fails. */
int mbh5_codec_encode(unsigned char *out, size_t *out_len, unsigned char *scratch,
                      const unsigned char *in, size_t nbytes, size_t es);
/* Decodes one chunk into out [nbytes] given which filters were applied
 * to it (the dataset's pipeline less those H5Dread_chunk's filter mask
 * says were skipped); 'scratch' holds nbytes. Thread-safe. Returns 0, or
 * -1 if the data is corrupt. */
int mbh5_codec_decode(unsigned char *out, unsigned char *scratch, const unsigned char *in, size_t in_len,
                      size_t nbytes, size_t es, int shuffled, int deflated);

/* ---- property lists and types (caller closes the returned ids) -------- */

/* Silences HDF5's own error printing on this thread; failures are turned
 * into mb_error messages at the call site. */
void  mbh5_h5_quiet(void);
hid_t mbh5_h5_str_type(void);          /* variable-length UTF-8 string */
hid_t mbh5_h5_gcpl(int track_order);   /* no times; optional creation-order index */
hid_t mbh5_h5_dcpl_plain(void);        /* contiguous, no times */
/* Chunked [rows x width] (width 0: 1-D), fill 0, no times; with
 * 'compress', shuffle (elements wider than a byte) + deflate. */
hid_t mbh5_h5_dcpl_chunked(size_t rows, size_t width, size_t elem_size, int compress);
/* Compound {start i64, end i64, gesture i32, repetition i32}: file layout
 * (standard little-endian, packed) and memory layout (struct mbh5_segment). */
hid_t mbh5_h5_seg_ftype(void);
hid_t mbh5_h5_seg_mtype(void);

/* ---- writing ----------------------------------------------------------- */

int mbh5_h5_put_str(hid_t loc, const char *name, const char *val, const char *file, const char *obj) MB_MUST_CHECK;
int mbh5_h5_put_i32(hid_t loc, const char *name, int32_t val, const char *file, const char *obj) MB_MUST_CHECK;
int mbh5_h5_put_i64(hid_t loc, const char *name, int64_t val, const char *file, const char *obj) MB_MUST_CHECK;
int mbh5_h5_put_f64(hid_t loc, const char *name, double val, const char *file, const char *obj) MB_MUST_CHECK;
/* Contiguous 1-D datasets of n values (n may be 0). */
int mbh5_h5_write_strs(hid_t loc, const char *name, const char *const *v, size_t n,
                       const char *file, const char *obj) MB_MUST_CHECK;
int mbh5_h5_write_1d(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v, size_t n,
                     const char *file, const char *obj) MB_MUST_CHECK;

/* ---- reading ------------------------------------------------------------ */

/* 1 if the link exists (and resolves), 0 if not. */
int mbh5_h5_exists(hid_t loc, const char *name);
/* Attribute readers: MB_EFORMAT if missing or of the wrong class. Strings
 * may be variable or fixed length; *out is malloc'ed. */
int mbh5_h5_get_str(char **out, hid_t loc, const char *name, const char *file, const char *obj) MB_MUST_CHECK;
int mbh5_h5_get_i64(int64_t *out, hid_t loc, const char *name, const char *file, const char *obj) MB_MUST_CHECK;
int mbh5_h5_get_f64(double *out, hid_t loc, const char *name, const char *file, const char *obj) MB_MUST_CHECK;
int mbh5_h5_get_int(int *out, hid_t loc, const char *name, const char *file, const char *obj) MB_MUST_CHECK;
/* Shape of dataset 'name': rank written to *rank (<= 2), dims to dims[2]
 * (dims[1] = 0 for 1-D). MB_EFORMAT if missing. */
int mbh5_h5_shape(int *rank, uint64_t dims[2], hid_t loc, const char *name,
                  const char *file, const char *obj) MB_MUST_CHECK;
/* Whole 1-D string dataset; *out is a malloc'ed array of malloc'ed strings
 * of exactly 'n' entries (the length must match: MB_EFORMAT otherwise). */
int mbh5_h5_read_strs(char ***out, hid_t loc, const char *name, size_t n,
                      const char *file, const char *obj) MB_MUST_CHECK;
/* Whole 1-D numeric dataset of exactly n entries converted to mtype. */
int mbh5_h5_read_1d(void *out, hid_t loc, const char *name, hid_t mtype, size_t n,
                    const char *file, const char *obj) MB_MUST_CHECK;
void mbh5_h5_free_strs(char **v, size_t n);

/* Rows [start, start+n) of a rank-1 or rank-2 dataset into out (mtype),
 * columns all. */
int mbh5_h5_read_rows(void *out, hid_t dset, hid_t mtype, uint64_t start, uint64_t n,
                      const char *file, const char *obj) MB_MUST_CHECK;

#endif
