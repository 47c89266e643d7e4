/* format/mbh5_codec.c - HDF5's shuffle + deflate chunk encoding, done
 * outside HDF5 so chunks can be (de)compressed in parallel (mbh5_h5.h). */
#include <math.h>
#include <string.h>
#include <zlib.h>

#include "format/mbh5_h5.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the unified format's chunks are written from memory as little-endian; port the codec first"
#endif

/* HDF5's H5Z shuffle: byte b of element i goes to b * n + i. The loops
 * run over elements with all planes at once, so the element side is
 * touched sequentially (a pass per plane with strided access was a fifth
 * of the read time). */
static void shuffle(unsigned char *restrict dst, const unsigned char *restrict src, size_t nbytes, size_t es)
{
    size_t n = nbytes / es;
    if (es == 4) {
        unsigned char *d0 = dst, *d1 = dst + n, *d2 = dst + 2 * n, *d3 = dst + 3 * n;
        for (size_t i = 0; i < n; i++) {
            d0[i] = src[4 * i];
            d1[i] = src[4 * i + 1];
            d2[i] = src[4 * i + 2];
            d3[i] = src[4 * i + 3];
        }
    } else {
        for (size_t i = 0; i < n; i++)
            for (size_t b = 0; b < es; b++)
                dst[b * n + i] = src[i * es + b];
    }
    memcpy(dst + n * es, src + n * es, nbytes - n * es);
}

static void unshuffle(unsigned char *restrict dst, const unsigned char *restrict src, size_t nbytes, size_t es)
{
    size_t n = nbytes / es;
    if (es == 4) {
        const unsigned char *s0 = src, *s1 = src + n, *s2 = src + 2 * n, *s3 = src + 3 * n;
        for (size_t i = 0; i < n; i++) {
            dst[4 * i] = s0[i];
            dst[4 * i + 1] = s1[i];
            dst[4 * i + 2] = s2[i];
            dst[4 * i + 3] = s3[i];
        }
    } else {
        for (size_t i = 0; i < n; i++)
            for (size_t b = 0; b < es; b++)
                dst[i * es + b] = src[b * n + i];
    }
    memcpy(dst + n * es, src + n * es, nbytes - n * es);
}

size_t mbh5_codec_bound(size_t nbytes)
{
    /* compressBound plus a few bytes per byte plane for the block
     * boundaries the per-plane strategy switches add. */
    return compressBound((uLong)nbytes) + 64 * 16;
}

/* Shannon entropy of a byte plane, in bits per byte. */
static double plane_entropy(const unsigned char *p, size_t n)
{
    size_t h[256] = {0};
    for (size_t i = 0; i < n; i++)
        h[p[i]]++;
    double e = 0;
    for (int i = 0; i < 256; i++)
        if (h[i]) {
            double q = (double)h[i] / (double)n;
            e -= q * log2(q);
        }
    return e;
}

/* Deflate settings per byte plane: near-random planes (low mantissa bytes
 * of samples) are stored, almost-constant ones (labels, high bytes of
 * small integers) run-length coded, the rest Huffman coded. Each choice
 * is the cheap one that gets nearly all the gain on that kind of plane. */
static void plane_mode(int *level, int *strategy, const unsigned char *p, size_t n)
{
    double e = plane_entropy(p, n);
    *level = e > 7.5 ? 0 : MBH5_DEFLATE_LEVEL;
    *strategy = e > 7.5 ? Z_DEFAULT_STRATEGY : e < 1.0 ? Z_RLE : Z_HUFFMAN_ONLY;
}

int mbh5_codec_encode(unsigned char *out, size_t *out_len, unsigned char *scratch,
                      const unsigned char *in, size_t nbytes, size_t es)
{
    const unsigned char *src = in;
    size_t planes = 1, plane = nbytes;
    if (es > 1 && nbytes % es == 0) {
        shuffle(scratch, in, nbytes, es);
        src = scratch;
        planes = es;
        plane = nbytes / es;
    }
    int level, strategy;
    plane_mode(&level, &strategy, src, plane);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, 15, 8, strategy) != Z_OK)
        return -1;
    z.next_out = out;
    z.avail_out = (uInt)mbh5_codec_bound(nbytes);
    int st = Z_OK;
    for (size_t b = 0; b < planes && st == Z_OK; b++) {
        if (b) {
            int lv, sg;
            plane_mode(&lv, &sg, src + b * plane, plane);
            /* Flushes what came before with the old settings (a block boundary). */
            if ((lv != level || sg != strategy) && deflateParams(&z, lv, sg) != Z_OK)
                st = Z_STREAM_ERROR;
            level = lv;
            strategy = sg;
        }
        z.next_in = (unsigned char *)src + b * plane;
        z.avail_in = (uInt)plane;
        if (st == Z_OK)
            st = deflate(&z, b + 1 == planes ? Z_FINISH : Z_NO_FLUSH);
    }
    *out_len = z.total_out;
    deflateEnd(&z);
    return st == Z_STREAM_END ? 0 : -1;
}

int mbh5_codec_decode(unsigned char *out, unsigned char *scratch, const unsigned char *in, size_t in_len,
                      size_t nbytes, size_t es, int shuffled, int deflated)
{
    shuffled = shuffled && es > 1;
    unsigned char *dst = shuffled ? scratch : out;
    if (deflated) {
        uLongf len = (uLongf)nbytes;
        if (uncompress(dst, &len, in, (uLong)in_len) != Z_OK || len != nbytes)
            return -1;
    } else {
        if (in_len != nbytes)
            return -1;
        memcpy(dst, in, nbytes);
    }
    if (shuffled)
        unshuffle(out, scratch, nbytes, es);
    return 0;
}
