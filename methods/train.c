/* methods/train.c - the shared training configuration (train.h). */
#include "methods/train.h"

#include <stdlib.h>

struct mth_train mth_train_cfg(const struct mth_opt_hp *o, long steps)
{
    struct mth_train t = {
        .steps = steps, .warmup = (long)o->warmup, .batch = (size_t)o->batch,
        .lr = (float)o->lr, .lr_min = (float)o->lr * 0.05f, .wd = (float)o->wd, .clip = (float)o->clip,
    };
    if (t.warmup >= t.steps)
        t.warmup = t.steps > 1 ? t.steps / 2 : 0;
    return t;
}

int mth_curve_alloc(struct mth_curve *c, long steps)
{
    c->v = NULL;
    c->n = 0;
    if (steps <= 0)
        return MB_OK;
    if (!(c->v = malloc((size_t)steps * sizeof *c->v)))
        return mb_error(MB_ENOMEM, "out of memory for a loss curve of %ld steps", steps);
    c->n = (size_t)steps;
    return MB_OK;
}

void mth_curve_release(struct mth_curve *c)
{
    free(c->v);
    c->v = NULL;
    c->n = 0;
}
