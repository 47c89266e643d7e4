/* methods/hooks.h - test hooks into the private state of neural methods,
 * for what tests/test_methods.c checks beyond the contract (training
 * curves, the emg2pose-tds network's gradient) and for the benchmark that
 * times embridge's training step. Each takes a model fitted by the method it
 * names (the benchmark hook builds its own); nothing but tests and bench/
 * calls them. */
#ifndef MB_METHODS_HOOKS_H
#define MB_METHODS_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "kernels/nn/nn_param.h"
#include "methods/method.h"
#include "methods/train.h"

/* cpep: the loss per step of the EMG MAE, the pose MAE and the alignment's
 * InfoNCE. */
void cpep_curves(const struct mth_curve **emg, const struct mth_curve **pose, const struct mth_curve **align,
                 const struct mb_method_model *m);
/* embridge and qformer: the same three curves (the alignment's is the total
 * stage-2 loss: InfoNCE + alpha CASCLe + lambda MPRL). */
void embridge_curves(const struct mth_curve **emg, const struct mth_curve **pose, const struct mth_curve **align,
                     const struct mb_method_model *mm);
/* embridge/qformer: one stage-2 loss of a fitted model on the first
 * min(batch, n) windows of 'train' (all with a valid pose; K classes as the
 * fit had), MPRL's masks drawn from mask_seed, and its gradients, left in
 * the bridge's and the EMG encoder's parameter blocks (*qf_params,
 * *emg_params: data and grad), without an optimiser step. For the test that
 * checks the assembled gradient of a whole step by finite differences. */
int embridge_loss_grad(float *loss, struct nn_params **qf_params, struct nn_params **emg_params,
                       struct mb_method_model *mm, const struct cp_set *train, size_t K, uint64_t mask_seed);
/* embridge: MPRL's reconstruction loss per alignment step (empty without mprl). */
const struct mth_curve *embridge_mprl_curve(const struct mb_method_model *mm);

/* embridge benchmark (bench/bench_nn.c, row nn-torch): builds an embridge
 * model of the given sizes with random weights (both encoders through
 * menc_init, the bridge as align() lays it out), random EMG [T x C] and
 * pose [Tp x J] windows, the pose embeddings of the frozen pose encoder and
 * Nc random unit centroids, then runs 'warmup' untimed and 'steps' timed
 * stage-2 steps of the method's own step function (the one align() runs,
 * with the method's defaults: lr 1e-3, wd 0.05, clip 1, temperature 0.07
 * learnt, alpha = lambda = 1, tau_s 0.1) on that one batch. CLS readout
 * and rectified EMG as the defaults; the EMG encoder's MAE decoder width 32
 * (laid out, never used by stage 2). */
struct embridge_bench_cfg {
    size_t B, M;           /* batch, queries */
    size_t T, C, P;        /* EMG window: samples, channels, samples per patch */
    size_t Tp, J, Pp;      /* pose window: frames, joints, frames per patch */
    size_t D, L, H, F;     /* both encoders' (and so the bridge's) width, blocks, heads, feed-forward */
    double pose_mask;      /* MPRL's share of masked pose tokens */
    size_t n_c, k_c;       /* CASCLe centroids, kept per pose */
};
struct embridge_bench_out {
    double sec_per_step;   /* wall time per timed step */
    float first_loss, last_loss;   /* total stage-2 loss of the first and the last step */
    size_t params;         /* trainable parameters (EMG encoder without its MAE decoder + bridge) */
};
int embridge_bench_steps(struct embridge_bench_out *out, const struct embridge_bench_cfg *cfg, long warmup,
                         long steps, uint64_t seed) MB_MUST_CHECK;

/* emg2pose-tds: the L1 per step, the parameters, the pose frames regressed per
 * window (Fu), and 0.5 sum (y - target)^2 over B windows, target
 * [B x Fu x J] (grad: its backward accumulated into the parameter
 * gradients). 'relu_sig' (may be NULL) receives a hash of every ReLU's
 * on/off pattern: a finite difference is only a derivative when both points
 * share the centre's pattern (the loss is smooth between kinks, not across
 * them). */
const struct mth_curve *tds_curve(const struct mb_method_model *m);
struct nn_params *tds_params(struct mb_method_model *m);
size_t tds_frames(const struct mb_method_model *m);
double tds_sq_loss(struct mb_method_model *m, const float *const *rows, const float *target, size_t B, int grad,
                   uint64_t *relu_sig);

#endif
