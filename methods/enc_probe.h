/* methods/enc_probe.h - one transformer encoder pre-trained by MAE on one
 * stream of the training windows, then frozen, with the logistic head on
 * its embedding: all of emg-mae (the EMG stream) and of pose-mae and
 * pose-upper-bound (the pose stream, on the windows with a valid pose). A
 * component those methods embed, built from the encoder set-up
 * (common.h) and the head (head.h). */
#ifndef MB_METHODS_ENC_PROBE_H
#define MB_METHODS_ENC_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "methods/common.h"
#include "methods/head.h"
#include "methods/train.h"

struct mth_probe {
    const char *who;           /* the method's name, for messages */
    enum mth_src src;          /* the stream the encoder reads */
    struct menc enc;
    struct mth_curve loss;     /* MAE loss per step */
    struct mth_head head;
};

/* Fits on the training windows (the pose stream: those with a valid pose,
 * and MB_EINVAL on a corpus without pose): the encoder of configuration
 * mth_cfg(enc, corpus, src), pre-trained for 'steps' steps with the
 * optimiser's keys 'opt' (through the plan's shared work 'sh', may be
 * NULL), then the head with 'seed'. p is zeroed first; on
 * error mth_probe_release frees what was made. */
int mth_probe_fit(struct mth_probe *p, const char *who, enum mth_src src, const struct mth_enc_hp *enc,
                  const struct mth_opt_hp *opt, long steps, const struct cp_set *train, const int32_t *classes,
                  size_t K, uint64_t seed, struct mb_shared *sh) MB_MUST_CHECK;

/* The embedding width (the encoder's D). */
size_t mth_probe_dim(const struct mth_probe *p);
/* Z [x->n x D]: the frozen encoder's pooled output (the true pose of each
 * window for the pose stream). */
int mth_probe_embed(float *Z, const struct mth_probe *p, const struct cp_set *x) MB_MUST_CHECK;
/* P [x->n x K] of the head. */
int mth_probe_predict(float *P, const struct mth_probe *p, const struct cp_set *x) MB_MUST_CHECK;
/* SHA-256 hex of the representation: the hash of the encoder (weights and
 * standardisation), hashed again; not the head (the probe refits one). */
void mth_probe_hash(char hex[65], const struct mth_probe *p);
void mth_probe_release(struct mth_probe *p);

#endif
