/* methods/common.h - the encoder set-up from a corpus view, which every
 * neural method that trains a transformer encoder shares: the rows a set
 * gives an encoder (EMG windows or pose rows), the windows with a valid
 * pose, the encoder's configuration from its parameter keys and the view,
 * and the pre-training of one encoder. A component (methods/common.c), not
 * a method: the methods are reached through mb_methods (method.h). */
#ifndef MB_METHODS_COMMON_H
#define MB_METHODS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "corpus/corpus.h"
#include "methods/encoder.h"
#include "methods/train.h"

/* The transformer encoder's keys (methods/hp_keys.h); its feed-forward
 * width is 2 x width. */
struct mth_enc_hp {
    long width, layers, heads, dec_width;
    int cls;
    int rectify;         /* EMG encoders only */
    double patch_ms;
    long pose_patch;     /* pose encoders on end poses only */
    double mask;
};

/* mb_method.check of an encoder's keys: width a multiple of heads
 * (MB_EINVAL naming the method 'name'). */
int mth_check_enc(const struct mth_enc_hp *hp, const char *name) MB_MUST_CHECK;

/* The stream an encoder reads. */
enum mth_src { MTH_EMG = 0, MTH_POSE = 1 };

/* Rows of a set for an encoder, malloc'ed [s->n] (NULL after reporting when
 * out of memory): EMG windows [W x C], or pose rows (cp_pose_row: the
 * window's pose sequence [Wp x J], or its end pose [J]). */
const float **mth_rows(const struct cp_set *s, enum mth_src src);
/* Frees what mth_rows returned (NULL allowed) and unpins its recordings. */
void mth_rows_free(const float **rows, const struct cp_set *s, enum mth_src src);

/* The windows of 'in' with a valid pose (all when the corpus has no
 * pose_valid array): out->idx points into *buf (caller frees). */
int mth_valid_pose(struct cp_set *out, size_t **buf, const struct cp_set *in) MB_MUST_CHECK;

/* Encoder configuration of a stream for the corpus's view. */
struct menc_cfg mth_cfg(const struct mth_enc_hp *hp, const struct cp_corpus *c, enum mth_src src);

/* Pre-trains one encoder, from explicit inputs only: initialised from
 * 'seed' (the stream's own draw of it), standardised on the training
 * windows' rows of stream 'src', then MAE-trained for t->steps steps (none
 * when 0), its loss per step into *curve. Everything that shapes the result
 * is an argument (g, t, the windows of train, src, seed), so equal
 * arguments give a bit-identical encoder. MB_EINVAL for the pose stream of
 * a corpus without pose. */
int mth_encoder_fit(struct menc *e, struct mth_curve *curve, const struct menc_cfg *g, const struct mth_train *t,
                    const struct cp_set *train, enum mth_src src, uint64_t seed) MB_MUST_CHECK;

/* mth_encoder_fit through the plan's shared work (core/shared.h): an
 * encoder pre-trained from the same corpus, view, windows, configuration,
 * training settings and seed is computed once and copied to every job that
 * asks (cpep's and emg-mae's EMG encoders, cpep's and the pose oracle's pose
 * encoders); with a cache folder (mb_shared_dir) also kept as a checkpoint
 * there, for later runs. Bit-identical to mth_encoder_fit; sh NULL is
 * mth_encoder_fit. */
struct mb_shared;
int mth_encoder_fit_shared(struct menc *e, struct mth_curve *curve, const struct menc_cfg *g,
                           const struct mth_train *t, const struct cp_set *train, enum mth_src src, uint64_t seed,
                           struct mb_shared *sh) MB_MUST_CHECK;

/* Pooled embeddings Z [x->n x D] of a set's rows of stream 'src' ('who'
 * names the method in errors: the pose stream of a corpus without pose). */
int mth_encoder_embed(float *Z, const struct menc *e, const struct cp_set *x, enum mth_src src, const char *who)
    MB_MUST_CHECK;

#endif
