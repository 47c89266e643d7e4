/* methods/train.h - the training configuration the neural methods share:
 * the optimiser's parameter keys (methods/hp_keys.h) turned into the
 * settings of one training loop (AdamW with a linear warm-up then a cosine
 * to 5 % of the peak rate, global-norm clipping, minibatches), and the loss
 * curve a loop records. A component, not a method. */
#ifndef MB_METHODS_TRAIN_H
#define MB_METHODS_TRAIN_H

#include <stddef.h>

#include "core/err.h"

/* The optimiser's keys: batch, lr, wd, warmup, clip. */
struct mth_opt_hp {
    long batch;          /* windows per minibatch */
    double lr, wd;       /* peak learning rate, decoupled weight decay (matrices) */
    long warmup;         /* linear warm-up steps */
    double clip;         /* global gradient-norm limit */
};

/* One training loop's settings. */
struct mth_train {
    long steps, warmup;
    size_t batch;
    float lr, lr_min, wd, clip;
};

/* The settings of a loop of 'steps' steps: lr_min = 5 % of lr; a warm-up as
 * long as the loop or longer becomes half of it (none below 2 steps). */
struct mth_train mth_train_cfg(const struct mth_opt_hp *o, long steps);

/* A loop's loss per step, malloc'ed: v [n]. */
struct mth_curve {
    float *v;
    size_t n;
};

/* Allocates v for 'steps' losses (none for steps <= 0): MB_ENOMEM. */
int mth_curve_alloc(struct mth_curve *c, long steps) MB_MUST_CHECK;
void mth_curve_release(struct mth_curve *c);

#endif
