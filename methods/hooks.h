/* methods/hooks.h - test hooks into the private state of neural methods,
 * for what tests/test_methods.c checks beyond the contract (training
 * curves, the emg2pose-tds network's gradient). Each takes a model fitted by
 * the method it names; nothing but tests calls them. */
#ifndef MB_METHODS_HOOKS_H
#define MB_METHODS_HOOKS_H

#include <stddef.h>
#include <stdint.h>

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
/* embridge: MPRL's reconstruction loss per alignment step (empty without mprl). */
const struct mth_curve *embridge_mprl_curve(const struct mb_method_model *mm);

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
