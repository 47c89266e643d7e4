/* methods/encoder.h - the small transformer encoder the neural methods
 * share (docs/METHODS.md): a window [T x C] (EMG at the view rate, or a pose
 * vector read as J tokens of one value) is standardised per channel, cropped
 * to a whole number of patches (EMG optionally full-wave rectified first) of P samples (the oldest samples are
 * dropped: labels are taken at the window's end), patch-embedded, given a
 * learned positional embedding, optionally a CLS token, and run through L
 * pre-norm nn_block layers and a final layer norm; the pooled output (CLS or
 * the mean over tokens) is the embedding [D].
 *
 * MAE (He et al. 2022, as CPEP's stage 1): a random subset of patches
 * (mask_ratio, the same count in every window) is removed before the
 * encoder; a light decoder (linear to width Dd, mask tokens, its own
 * positional embedding, one nn_block, layer norm, linear to P*C) predicts
 * the removed patches of the standardised input; the loss is the MSE on the
 * masked patches only.
 *
 * Encoder, decoder and the standardisation live in one struct menc; all
 * weights are one nn_params block (so one AdamW step, one hash). Every
 * random draw (init, masks, minibatches) comes from core/rng.h streams of
 * an explicit seed; training pins OpenBLAS to one thread and restores it,
 * so results depend on the seed only (not on OpenMP/BLAS thread counts).
 */
#ifndef MB_METHODS_ENCODER_H
#define MB_METHODS_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/rng.h"
#include "kernels/nn/nn.h"
#include "kernels/nn/nn_block.h"
#include "kernels/nn/nn_param.h"
#include "methods/train.h"

#define MENC_MAX_LAYERS 8

struct menc_cfg {
    size_t T;            /* samples per input window */
    size_t C;            /* channels per sample */
    size_t P;            /* samples per patch (clamped to T) */
    size_t D, L, H, F;   /* width, layers, heads, feed-forward width */
    int cls;             /* 1: CLS readout, 0: mean over tokens */
    size_t Dd;           /* decoder width */
    double mask_ratio;   /* share of patches hidden from the encoder in MAE training */
    int rectify;         /* 1: the input is |x| (full-wave rectified EMG), before standardising */
};

struct menc {
    struct menc_cfg cfg;
    size_t Np;           /* patches per window = T / P (floor) */
    size_t Tp;           /* samples used = Np * P (the last Tp of the window) */
    float *mean, *istd;  /* [C] per-channel standardisation (training windows only) */
    struct nn_params p;  /* encoder + decoder weights, gradients, Adam moments */
    /* encoder views (parameters; g* gradients), bound when menc_init lays them out */
    float *pe_w, *pe_b, *pos, *cls, *lnf_w, *lnf_b;
    float *gpe_w, *gpe_b, *gpos, *gcls, *glnf_w, *glnf_b;
    struct nn_block_w blk[MENC_MAX_LAYERS], gblk[MENC_MAX_LAYERS];
    /* decoder views */
    float *de_w, *de_b, *mtok, *dpos, *dln_w, *dln_b, *do_w, *do_b;
    float *gde_w, *gde_b, *gmtok, *gdpos, *gdln_w, *gdln_b, *gdo_w, *gdo_b;
    struct nn_block_w dblk, gdblk;
};

/* Activations of one batch (forward + backward), for up to B windows. */
struct menc_ws {
    size_t B;
    size_t Nv, Tt;       /* visible patches and sequence length of the last forward */
    float *xin;          /* [B x Tp x C] standardised input */
    float *tok;          /* [B x Np x D] patch tokens + position */
    float *dtok;         /* [B x Np x D] */
    float **h;           /* L+1 buffers [B x Tt x D], Tt = Np + cls */
    float *dh0, *dh1;    /* [B x Tt x D] */
    struct nn_block_act *act, da;  /* [L] saved, one scratch */
    float *z;            /* [B x Tt x D] final layer norm output */
    float *lmean, *lrstd;/* [B*Tt] */
    float *dz;           /* [B x Tt x D] */
    float *pool, *dpool; /* [B x D] */
    int *vis;            /* [B x Np] visible patch indices (first Nv used) */
    unsigned char *mask; /* [B*Np] 1 = masked */
    /* decoder */
    float *dein;         /* [B x Tt x Dd] */
    float *ddein;        /* [B x Tt x Dd] */
    float *dseq, *ddseq; /* [B x Np x Dd] */
    float *dy, *ddy;     /* [B x Np x Dd] */
    struct nn_block_act dact, dda;
    float *dln, *dlnm, *dlnr, *ddln;  /* [B*Np x Dd], [B*Np] x2, [B*Np x Dd] */
    float *pred, *dpred; /* [B*Np x P*C] */
};

/* Lays out and initialises (seeded) an encoder + decoder. MB_EINVAL on a
 * bad configuration (zero sizes, D % H, too many layers). */
int menc_init(struct menc *e, const struct menc_cfg *cfg, uint64_t seed) MB_MUST_CHECK;
void menc_release(struct menc *e);

/* Fits the per-channel mean and 1/std over rows[i] [T x C], i < n. */
int menc_fit_scaler(struct menc *e, const float *const *rows, size_t n) MB_MUST_CHECK;

int menc_ws_alloc(struct menc_ws *w, const struct menc *e, size_t B) MB_MUST_CHECK;
void menc_ws_release(struct menc_ws *w);

/* Copies B windows (rows[b] points at [T x C]) into w->xin, cropped and
 * standardised. */
void menc_fill(struct menc_ws *w, const struct menc *e, const float *const *rows, size_t B);

/* Encoder forward of w->xin; masked = 1 draws an MAE mask per window from r
 * (only the visible patches enter). Leaves w->z and the pooled w->pool
 * [B x D]. Returns the sequence length Tt used. */
size_t menc_forward(struct menc_ws *w, const struct menc *e, size_t B, int masked, struct mb_rng *r);
/* Backward from w->dpool [B x D] (pooled gradient) plus w->dz [B x Tt x D]
 * (already accumulated, e.g. by the decoder) into the encoder's parameter
 * gradients. */
void menc_backward(struct menc_ws *w, const struct menc *e, size_t B, int masked);

/* One MAE loss forward + backward on the batch in w->xin (gradients
 * accumulate; the caller zeroes and steps). Returns the loss. */
float menc_mae_loss(struct menc_ws *w, const struct menc *e, size_t B, struct mb_rng *r);

/* MAE pre-training on n windows: minibatches drawn from (seed, stream 1),
 * masks from (seed, stream 2). loss_curve [steps] may be NULL. */
int menc_train_mae(struct menc *e, const float *const *rows, size_t n, const struct mth_train *t,
                   uint64_t seed, float *loss_curve) MB_MUST_CHECK;

/* Pooled embeddings Z [n x D] of n windows (no masking), in batches. */
int menc_embed(float *Z, const struct menc *e, const float *const *rows, size_t n) MB_MUST_CHECK;

/* Hash input: SHA-256 hex of the weights and the standardisation. */
void menc_hash(char hex[65], const struct menc *e);

#endif
