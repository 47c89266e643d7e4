/* kernels/nn/nn.h - the layers of myobench's neural engine, llm.c style:
 * one function per layer, forward and backward side by side, plain float
 * buffers, outputs first, then inputs, then sizes. docs/NN.md gives every
 * formula, the initialisations and what matches PyTorch.
 *
 * Conventions (all layers):
 * - Tensors are row-major float32. Shape letters: B batch, T (Tq, Tk)
 *   sequence, C channels, D model width, H heads, F feed-forward width,
 *   N rows (any flattening of leading dimensions), K classes, P patch length,
 *   E embedding width. Sequences are time-major: x [B x T x C].
 * - Backward passes ACCUMULATE (+=) into every gradient they are given
 *   (llm.c's rule): zero gradient buffers before a backward pass (for the
 *   parameters, nn_params_zero_grad is one memset). A NULL gradient pointer
 *   means "not needed" and skips that work. A gradient buffer must not alias
 *   the upstream gradient it is computed from.
 * - Layers never allocate: scratch buffers are arguments with their shapes.
 * - Determinism: every OpenMP loop writes disjoint outputs and each output
 *   is a sum taken in a fixed order, so results do not depend on the OpenMP
 *   thread count. Matrix products go through OpenBLAS (cblas_sgemm), never
 *   called inside a parallel region. OpenBLAS's own thread count is the
 *   caller's business, and its results change in the last bits with it for
 *   larger products: fix it (nn_set_blas_threads, or OPENBLAS_NUM_THREADS)
 *   wherever results must not depend on what else runs. Results are then
 *   bit-identical for a seed and any OpenMP thread count.
 * - Shapes are checked with MB_ASSERT (programmer errors, not input errors).
 */
#ifndef MB_KERNELS_NN_NN_H
#define MB_KERNELS_NN_NN_H

#include <stddef.h>
#include <stdint.h>

/* Sets OpenBLAS's thread count (process-wide; openblas_set_num_threads).
 * Returns the previous count. */
int nn_set_blas_threads(int n);

/* ---- linear and convolution -------------------------------------------- */

/* out = in W^T + b. in [N x I], w [O x I] (PyTorch's nn.Linear layout),
 * b [O] or NULL, out [N x O]. */
void nn_linear_forward(float *out, const float *in, const float *w, const float *b,
                       size_t n, size_t ni, size_t no);
/* din [N x I] += dout W; dw [O x I] += dout^T in; db [O] += column sums. */
void nn_linear_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                        const float *w, size_t n, size_t ni, size_t no);

/* 1-D convolution over time by im2col + sgemm, zero padding 'pad' on both
 * sides, stride 'stride', no dilation. in [B x T x Ci], w [Co x K x Ci]
 * (PyTorch's Conv1d weight [Co x Ci x K] transposed to (K, Ci) so that an
 * im2col row, which is K*Ci contiguous input floats, is a linear input),
 * b [Co] or NULL, out [B x To x Co] with To = nn_conv1d_len(T, K, stride, pad).
 * col [B*To x K*Ci] is scratch the forward fills and the backward reads. */
size_t nn_conv1d_len(size_t t, size_t k, size_t stride, size_t pad);
void nn_conv1d_forward(float *out, float *col, const float *in, const float *w, const float *b,
                       size_t nb, size_t t, size_t ci, size_t co, size_t k, size_t stride, size_t pad);
/* dcol [B*To x K*Ci] is scratch (overwritten). */
void nn_conv1d_backward(float *din, float *dw, float *db, float *dcol, const float *dout,
                        const float *col, const float *w, size_t nb, size_t t, size_t ci, size_t co,
                        size_t k, size_t stride, size_t pad);

/* Patch embedding: the T samples of x [B x T x C] are cut into T/P patches of
 * P consecutive samples (T % P == 0), each flattened time-major to P*C
 * values (exactly x.reshape(B, T/P, P*C) in PyTorch: no copy), then
 * linearly embedded: out [B*(T/P) x D] = patches W^T + b, w [D x P*C]. */
void nn_patch_embed_forward(float *out, const float *x, const float *w, const float *b,
                            size_t nb, size_t t, size_t c, size_t p, size_t d);
void nn_patch_embed_backward(float *dx, float *dw, float *db, const float *dout, const float *x,
                             const float *w, size_t nb, size_t t, size_t c, size_t p, size_t d);

/* ---- normalisation and activations -------------------------------------- */

#define NN_LN_EPS 1e-5f  /* PyTorch's LayerNorm default */

/* Layer norm over the last dimension: out = (x - mean) * rstd * w + b.
 * in, out [N x C]; w, b [C]; mean, rstd [N] saved for the backward. */
void nn_layernorm_forward(float *out, float *mean, float *rstd, const float *in, const float *w,
                          const float *b, size_t n, size_t c);
void nn_layernorm_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                           const float *mean, const float *rstd, const float *w, size_t n, size_t c);

/* GELU, tanh approximation (PyTorch's GELU(approximate='tanh')):
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). [n] elementwise; out may
 * equal in. */
void nn_gelu_forward(float *out, const float *in, size_t n);
void nn_gelu_backward(float *din, const float *dout, const float *in, size_t n);

/* Row-wise softmax, max-subtracted. in, out [N x K]. */
void nn_softmax_forward(float *out, const float *in, size_t n, size_t k);
/* din += out * (dout - sum(out * dout)), from the saved output. */
void nn_softmax_backward(float *din, const float *dout, const float *out, size_t n, size_t k);

/* ---- attention ----------------------------------------------------------- */

/* Scaled dot-product attention over H heads of width D/H (the core of
 * multi-head attention, after the projections):
 *   s_ij = q_i . k_j / sqrt(D/H) + amask[i,j]   (-inf where kpad[b,j])
 *   att_i = softmax_j(s_ij),  out_i = sum_j att_ij v_j        per head.
 * q [B x Tq x D], k, v [B x Tk x D] (head h is columns h*D/H ...), out
 * [B x Tq x D], att [B x H x Tq x Tk] saved probabilities. kpad [B x Tk]
 * (nonzero = padding key, ignored; PyTorch's key_padding_mask True) and
 * amask [Tq x Tk] (added to the scores; -INFINITY forbids) may be NULL.
 * A query whose keys are all excluded gets att = 0 and out = 0 (PyTorch
 * would give NaN). */
void nn_attention_forward(float *out, float *att, const float *q, const float *k, const float *v,
                          const unsigned char *kpad, const float *amask, size_t nb, size_t tq,
                          size_t tk, size_t d, size_t h);
/* datt [B x H x Tq x Tk] is scratch (overwritten with d scores). */
void nn_attention_backward(float *dq, float *dk, float *dv, float *datt, const float *dout,
                           const float *att, const float *q, const float *k, const float *v,
                           size_t nb, size_t tq, size_t tk, size_t d, size_t h);

/* Multi-head attention with its projections: q = x Wq^T + bq, k = m Wk^T + bk,
 * v = m Wv^T + bv, out = attention(q, k, v) Wo^T + bo, for queries x
 * [B x Tq x D] and memory m [B x Tk x Dm]: self-attention passes m == x (and,
 * backward, dm == dx: both contributions accumulate), cross-attention
 * another sequence. wq, wo [D x D]; wk, wv [D x Dm]; biases [D]. */
struct nn_mha_w {
    float *wq, *bq, *wk, *bk, *wv, *bv, *wo, *bo;
};
/* Saved activations of one call (and, for the backward, their gradients). */
struct nn_mha_act {
    float *q;    /* [B x Tq x D] */
    float *k;    /* [B x Tk x D] */
    float *v;    /* [B x Tk x D] */
    float *att;  /* [B x H x Tq x Tk] */
    float *ctx;  /* [B x Tq x D] attention output before Wo */
};
void nn_mha_forward(float *out, struct nn_mha_act *a, const struct nn_mha_w *w, const float *x,
                    const float *m, const unsigned char *kpad, const float *amask, size_t nb,
                    size_t tq, size_t tk, size_t d, size_t dm, size_t h);
/* g: parameter gradients (accumulated); da: scratch of the same shapes as
 * a (overwritten). dx [B x Tq x D] and dm [B x Tk x Dm] may be NULL. */
void nn_mha_backward(float *dx, float *dm, const struct nn_mha_w *g, struct nn_mha_act *da,
                     const float *dout, const struct nn_mha_act *a, const struct nn_mha_w *w,
                     const float *x, const float *m, size_t nb, size_t tq, size_t tk, size_t d,
                     size_t dm_width, size_t h);

/* ---- embeddings, dropout, pooling ----------------------------------------- */

/* Learned positional embedding: out[b,t] = x[b,t] + pos[t]. x, out
 * [B x T x D] (out may equal x), pos [Tmax x D] with T <= Tmax. */
void nn_pos_embed_forward(float *out, const float *x, const float *pos, size_t nb, size_t t, size_t d);
/* dx += dout (if dx); dpos[t] += sum_b dout[b,t]. */
void nn_pos_embed_backward(float *dx, float *dpos, const float *dout, size_t nb, size_t t, size_t d);

/* Token embedding: out[n] = table[idx[n]], table [V x D], idx [N] in [0, V). */
void nn_embed_forward(float *out, const int *idx, const float *table, size_t n, size_t d);
void nn_embed_backward(float *dtable, const float *dout, const int *idx, size_t n, size_t d);

/* Inverted dropout: out = in * keep / (1 - p), keep[i] = 1 with probability
 * 1 - p. Row r of [N x D] draws its D decisions from core/rng.h's stream
 * mb_rng_seed(seed ^ nn_dropout_mix(stream), r), so the mask is a function
 * of (seed, stream, r) only, whatever the thread count: pass a different
 * 'stream' per call site and step. keep [N x D] is saved for the backward.
 * p = 0 copies. */
uint64_t nn_dropout_mix(uint64_t stream);
void nn_dropout_forward(float *out, unsigned char *keep, const float *in, float p, uint64_t seed,
                        uint64_t stream, size_t n, size_t d);
void nn_dropout_backward(float *din, const float *dout, const unsigned char *keep, float p,
                         size_t n, size_t d);

/* Mean over time: out[b] = mean of x[b,t] over t with kpad[b,t] == 0 (all t
 * when kpad is NULL; zeros when every t is padding). x [B x T x D], out
 * [B x D]. */
void nn_mean_pool_forward(float *out, const float *x, const unsigned char *kpad, size_t nb,
                          size_t t, size_t d);
void nn_mean_pool_backward(float *dx, const float *dout, const unsigned char *kpad, size_t nb,
                           size_t t, size_t d);

/* CLS token: out [B x (T+1) x D] = [cls; x[b]] with cls [D] learned. */
void nn_cls_prepend_forward(float *out, const float *x, const float *cls, size_t nb, size_t t, size_t d);
void nn_cls_prepend_backward(float *dx, float *dcls, const float *dout, size_t nb, size_t t, size_t d);
/* Readout of one position (the CLS output is position 0): out [B x D] = x[b,pos]. */
void nn_take_forward(float *out, const float *x, size_t pos, size_t nb, size_t t, size_t d);
void nn_take_backward(float *dx, const float *dout, size_t pos, size_t nb, size_t t, size_t d);

/* ---- losses (each returns the loss; the backward takes dloss, the
 * gradient of the final objective with respect to this loss, usually 1) --- */

/* Masked mean squared error (MAE's loss): the mean over the rows with
 * mask[r] != 0 (all rows if mask is NULL) of the mean over P of
 * (pred - target)^2. pred, target [N x P]; 0 when no row is selected. */
float nn_mse_forward(const float *pred, const float *target, const unsigned char *mask, size_t n,
                     size_t p);
void nn_mse_backward(float *dpred, const float *pred, const float *target, const unsigned char *mask,
                     float dloss, size_t n, size_t p);

/* Cross-entropy with optional label smoothing eps (PyTorch's
 * cross_entropy(label_smoothing=eps)): the target is (1 - eps) one_hot(y) +
 * eps / K; mean over the N rows. logits [N x K], labels [N] in [0, K),
 * probs [N x K] saved softmax. */
float nn_ce_forward(float *probs, const float *logits, const int *labels, float eps, size_t n, size_t k);
void nn_ce_backward(float *dlogits, const float *probs, const int *labels, float eps, float dloss,
                    size_t n, size_t k);

/* InfoNCE over a batch of N pairs (u_i, v_i), u, v [N x E]: both are
 * l2-normalised (F.normalize, eps 1e-12), s_ij = exp(log_scale) u~_i . v~_j,
 * loss = mean_i -log softmax_j(s_ij)[i]; 'symmetric' averages it with the
 * column direction (mean_j -log softmax_i(s_ij)[j]), CLIP's loss.
 * log_scale = log(1/temperature) is the learnable parameter; clamp it after
 * each optimiser step with nn_infonce_clamp (CLIP). work holds
 * nn_infonce_work(N, E) floats, filled by the forward and consumed by the
 * backward (which overwrites it: one backward per forward). The temperature
 * is the only learned input; attention masks and targets get no gradient. */
size_t nn_infonce_work(size_t n, size_t e);
float nn_infonce_forward(float *work, const float *u, const float *v, float log_scale, int symmetric,
                         size_t n, size_t e);
/* du, dv [N x E] and dlog_scale [1] accumulate; any may be NULL. */
void nn_infonce_backward(float *du, float *dv, float *dlog_scale, float *work, float log_scale,
                         int symmetric, float dloss, size_t n, size_t e);
/* CLIP's clamp of the logit scale, after the step: log_scale in [0, ln 100]
 * (temperature between 0.01 and 1). */
void nn_infonce_clamp(float *log_scale);

/* ---- query bridge (EMBridge) ----------------------------------------------
 * The small ops of EMBridge's stage 2 (docs/NN.md "Query bridge"): M learned
 * queries broadcast to the batch, the best query of each row, cosine logits
 * shared by several losses, the soft-target cross-entropy and CASCLe's soft
 * targets. M queries, E embedding width, Nv rows of the second batch, Nc
 * centroids. */

/* out [B x M x D] = q [M x D] for every b. */
void nn_query_expand_forward(float *out, const float *q, size_t nb, size_t m, size_t d);
/* dq [M x D] += sum over b = 0..B-1 (in that order) of dout [B x M x D]. */
void nn_query_expand_backward(float *dq, const float *dout, size_t nb, size_t m, size_t d);

/* Best query of each row: idx[i] = argmax_m cos(u[i,m], v[i]) (norms
 * clamped at 1e-12; ties to the lowest m), out[i] = u[i, idx[i]], a copy of
 * the raw row. u [B x M x E] raw query outputs, v [B x E] (need not be
 * normalised), out [B x E], idx [B]. The choice is piecewise constant: no
 * gradient flows through it, nor to v. */
void nn_best_query_forward(float *out, int *idx, const float *u, const float *v, size_t nb, size_t m,
                           size_t e);
/* du [B x M x E]: du[i, idx[i]] += dout[i] (dout [B x E]); other queries get nothing. */
void nn_best_query_backward(float *du, const float *dout, const int *idx, size_t nb, size_t m, size_t e);

/* Cosine logits, InfoNCE's scores before its cross-entropy: u [N x E] and
 * v [Nv x E] are l2-normalised (F.normalize, eps 1e-12, as
 * nn_infonce_forward), logits [N x Nv] = exp(log_scale) un vn^T. work holds
 * nn_cos_logits_work(N, Nv, E) floats: the forward fills what the backward
 * reads (normalised rows, norms, cosines); the backward does not write it,
 * so it may run more than once per forward. Losses that share the logits
 * add their dlogits before one backward. */
size_t nn_cos_logits_work(size_t n, size_t nv, size_t e);
void nn_cos_logits_forward(float *logits, float *work, const float *u, const float *v, float log_scale,
                           size_t n, size_t nv, size_t e);
/* du [N x E], dv [Nv x E], dlog_scale [1] accumulate; any may be NULL (in
 * EMBridge v is the frozen pose side: dv NULL). dlogits [N x Nv]. */
void nn_cos_logits_backward(float *du, float *dv, float *dlog_scale, const float *dlogits,
                            const float *work, float log_scale, size_t n, size_t nv, size_t e);

/* Soft-target cross-entropy (PyTorch's cross_entropy with probability
 * targets): loss = -(1/N) sum_i sum_j target_ij log softmax_j(logits_i),
 * the softmax over the whole row. logits, target, probs [N x K]; probs is the
 * saved softmax. Terms with target_ij == 0 are skipped (so a -inf logit with
 * a zero target adds nothing; PyTorch would give NaN). */
float nn_soft_ce_forward(float *probs, const float *logits, const float *target, size_t n, size_t k);
/* dlogits [N x K] += dloss / N * (probs_ij * sum_j' target_ij' - target_ij). */
void nn_soft_ce_backward(float *dlogits, const float *probs, const float *target, float dloss, size_t n,
                         size_t k);

/* CASCLe's soft targets (no gradient): v [N x E] pose embeddings and c
 * [Nc x E] centroids are l2-normalised (eps 1e-12); A = vn cn^T [N x Nc];
 * each row keeps its topk largest entries (ties: the lower centroid index)
 * and zeroes the rest; rows are l2-normalised (a zero row stays zero);
 * S = A A^T [N x N]; target [N x N]: target_ij = exp(S_ij / tau_s) /
 * sum_{k != i} exp(S_ik / tau_s) for j != i (max-subtracted), target_ii = 0
 * (a single row, N = 1, is all zero). work holds nn_cascle_work(N, Nc, E)
 * floats. */
size_t nn_cascle_work(size_t n, size_t nc, size_t e);
void nn_cascle_targets(float *target, float *work, const float *v, const float *c, size_t topk,
                       float tau_s, size_t n, size_t nc, size_t e);

#endif
