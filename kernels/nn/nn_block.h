/* kernels/nn/nn_block.h - the pre-norm transformer encoder layer the methods
 * stack (ViT/MAE/BERT-style, PyTorch's TransformerEncoderLayer with
 * norm_first=True, activation GELU-tanh, no dropout):
 *
 *     r = x + MHA(LN1(x))            self-attention, H heads
 *     y = r + W2 GELU(W1 LN2(r) + b1) + b2
 *
 * x, y [B x T x D]; W1 [F x D]; W2 [D x F]. Parameters are registered in a
 * struct nn_params under "<prefix>ln1.w", "<prefix>ln1.b", "<prefix>attn.wq",
 * "...bq", "...wk", "...bk", "...wv", "...bv", "...wo", "...bo", "<prefix>ln2.w",
 * "<prefix>ln2.b", "<prefix>ffn.w1", "...b1", "...w2", "...b2" (weights decay,
 * biases and norms do not).
 *
 * Optionally (BLIP-2's Q-Former, EMBridge; docs/NN.md) a block also has a
 * cross-attention sub-layer between the two, queries from the block's
 * sequence, keys and values from a memory m [B x Tm x Dm]:
 *
 *     r1 = x + MHA(LN1(x))                 self-attention, kpad, amask
 *     r2 = r1 + MHA(LNc(r1), m)            cross-attention, mem_kpad
 *     y  = r2 + W2 GELU(W1 LN2(r2) + b1) + b2
 *
 * Its tensors live in their own struct and are registered separately
 * ("<prefix>lnc.w", "<prefix>lnc.b", "<prefix>cross.wq" ... "<prefix>cross.bo"),
 * so a block without them keeps its 16 tensors and its checkpoints. Given
 * no memory (mem == NULL) a block with cross-attention computes exactly
 * nn_block_forward: the same weights serve a pass with and one without. */
#ifndef MB_KERNELS_NN_BLOCK_H
#define MB_KERNELS_NN_BLOCK_H

#include <stddef.h>

#include "core/err.h"
#include "core/rng.h"
#include "kernels/nn/nn.h"
#include "kernels/nn/nn_param.h"

struct nn_block_w {
    float *ln1_w, *ln1_b;          /* [D] */
    struct nn_mha_w attn;          /* [D x D] and [D] */
    float *ln2_w, *ln2_b;          /* [D] */
    float *w1, *b1;                /* [F x D], [F] */
    float *w2, *b2;                /* [D x F], [D] */
};

/* Activations of one forward at (B, T), kept for the backward; the same
 * struct serves as the backward's scratch for their gradients. */
struct nn_block_act {
    float *ln1, *ln1_mean, *ln1_rstd;   /* [B*T x D], [B*T], [B*T] */
    struct nn_mha_act attn;             /* q, k, v, ctx [B*T x D]; att [B x H x T x T] */
    float *attn_out;                    /* [B*T x D] */
    float *res1;                        /* [B*T x D] x + attention */
    float *ln2, *ln2_mean, *ln2_rstd;   /* [B*T x D], [B*T], [B*T] */
    float *h1;                          /* [B*T x F] before GELU */
    float *g1;                          /* [B*T x F] after GELU */
    float *mem;                         /* the one allocation everything above points into */
};

/* Registers the block's 16 tensors under 'prefix' (e.g. "enc.0."); after
 * nn_params_alloc, w points at their parameters and g (may be NULL) at their
 * gradients (nn_params_add's views: w and g must not move until then). */
int nn_block_add_params(struct nn_params *p, const char *prefix, size_t d, size_t f, struct nn_block_w *w,
                        struct nn_block_w *g) MB_MUST_CHECK;
/* Initialisation (docs/NN.md): linear weights U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 * as PyTorch's nn.Linear default, biases 0, norms w = 1, b = 0. */
void nn_block_init(const struct nn_block_w *w, size_t d, size_t f, struct mb_rng *r);

/* Allocates the activations for batches up to (B, T). MB_ENOMEM. */
int nn_block_act_alloc(struct nn_block_act *a, size_t nb, size_t t, size_t d, size_t f, size_t h) MB_MUST_CHECK;
void nn_block_act_release(struct nn_block_act *a);

/* out [B x T x D] (distinct from x). kpad [B x T] and amask [T x T] as in
 * nn_attention_forward, may be NULL. */
void nn_block_forward(float *out, struct nn_block_act *a, const struct nn_block_w *w, const float *x,
                      const unsigned char *kpad, const float *amask, size_t nb, size_t t, size_t d,
                      size_t f, size_t h);
/* dx [B x T x D] accumulates; g accumulates the parameter gradients; da is
 * scratch (an nn_block_act of the same sizes, overwritten). */
void nn_block_backward(float *dx, const struct nn_block_w *g, struct nn_block_act *da,
                       const float *dout, const struct nn_block_act *a, const struct nn_block_w *w,
                       const float *x, size_t nb, size_t t, size_t d, size_t f, size_t h);

/* ---- cross-attention (Q-Former blocks) ------------------------------------------ */

struct nn_block_cross_w {
    float *lnc_w, *lnc_b;          /* [D] */
    struct nn_mha_w attn;          /* wq, wo [D x D]; wk, wv [D x Dm]; biases [D] */
};

/* Activations of the cross-attention sub-layer of one forward at (B, T, Tm);
 * the same struct serves as the backward's scratch for their gradients. */
struct nn_block_cross_act {
    float *lnc, *lnc_mean, *lnc_rstd;   /* [B*T x D], [B*T], [B*T] */
    struct nn_mha_act attn;             /* q, ctx [B*T x D]; k, v [B*Tm x D]; att [B x H x T x Tm] */
    float *attn_out;                    /* [B*T x D] */
    float *res2;                        /* [B*T x D] res1 + cross-attention */
    float *mem;                         /* the one allocation everything above points into */
};

/* Registers the 10 cross-attention tensors "<prefix>lnc.w", "<prefix>lnc.b",
 * "<prefix>cross.wq", "...bq", "...wk", "...bk", "...wv", "...bv", "...wo",
 * "...bo" (matrices decay; wk, wv are [D x Dm]); views as nn_block_add_params. */
int nn_block_add_cross_params(struct nn_params *p, const char *prefix, size_t d, size_t dm,
                              struct nn_block_cross_w *w, struct nn_block_cross_w *g) MB_MUST_CHECK;
/* nn_block_init's rule: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights (fan_in
 * Dm for wk, wv), biases 0, LNc w = 1, b = 0; draws in registration order. */
void nn_block_cross_init(const struct nn_block_cross_w *w, size_t d, size_t dm, struct mb_rng *r);

/* Allocates the cross-attention activations for batches up to (B, T, Tm).
 * MB_ENOMEM. Release with nn_block_cross_act_release (accepts a zeroed or
 * released struct). */
int nn_block_cross_act_alloc(struct nn_block_cross_act *a, size_t nb, size_t t, size_t tm, size_t d,
                             size_t h) MB_MUST_CHECK;
void nn_block_cross_act_release(struct nn_block_cross_act *a);

/* The block with optional cross-attention. out [B x T x D] (distinct from x);
 * x [B x T x D]; mem [B x Tm x Dm]; kpad [B x T] and amask [T x T] for the
 * self-attention, mem_kpad [B x Tm] for the cross-attention (nonzero =
 * padding memory token), each may be NULL. With cw == NULL or mem == NULL
 * there is no cross-attention: ca is not touched (may be NULL), tm, dm and
 * mem_kpad are ignored, and the result is nn_block_forward's, bit for bit. */
void nn_block_xforward(float *out, struct nn_block_act *a, struct nn_block_cross_act *ca,
                       const struct nn_block_w *w, const struct nn_block_cross_w *cw, const float *x,
                       const float *mem, const unsigned char *kpad, const float *amask,
                       const unsigned char *mem_kpad, size_t nb, size_t t, size_t tm, size_t d, size_t dm,
                       size_t f, size_t h);
/* Backward of the nn_block_xforward call that filled a and ca (same cw, mem
 * and sizes: cross-attention ran iff cw and mem are both non-NULL). dx
 * [B x T x D] and dmem [B x Tm x Dm] accumulate (either may be NULL); g and,
 * with cross-attention, cg accumulate the parameter gradients; da and dca are
 * scratch allocated for these sizes or larger ones (overwritten; dca unused
 * without cross-attention). Two passes sharing weights (one with a memory, one
 * without) each keep their own a (and ca); their backwards, in reverse order,
 * accumulate into the same g (and cg) and may share the scratch. */
void nn_block_xbackward(float *dx, float *dmem, const struct nn_block_w *g, const struct nn_block_cross_w *cg,
                        struct nn_block_act *da, struct nn_block_cross_act *dca, const float *dout,
                        const struct nn_block_act *a, const struct nn_block_cross_act *ca,
                        const struct nn_block_w *w, const struct nn_block_cross_w *cw, const float *x,
                        const float *mem, size_t nb, size_t t, size_t tm, size_t d, size_t dm, size_t f,
                        size_t h);

#endif
