/* kernels/nn/nn_param.h - a model's parameters in one contiguous block, with
 * a table of named views (llm.c's ParameterTensors made data), and what acts
 * on the whole block: initialisers, AdamW, the learning-rate schedule,
 * global-norm clipping, and the HDF5 checkpoint.
 *
 * Life cycle:
 *     struct nn_params p = NN_PARAMS_INIT;
 *     struct { float *ew, *gew; } v;                            // the model's views
 *     nn_params_add(&p, "embed.w", 1, 2, (size_t[]){D, P*C}, &v.ew, &v.gew);   // layout...
 *     nn_params_alloc(&p);                     // ...then 4 blocks; v.ew, v.gew point into them
 *     ... nn_params_zero_grad(&p); forward; backward; nn_clip_grad_norm(...);
 *     nn_adamw_step(&p, &opt, nn_lr_cosine(step, ...), step + 1);
 *     nn_params_release(&p);
 * A model names its tensors once, where it lays them out, and then reaches
 * them through its own struct of float * views (llm.c's ParameterTensors):
 * no tensor is looked up by name while a model runs, so a misspelt view does
 * not compile. The names label the checkpoint (and nn_params_find, for tests
 * and tools).
 * Parameters, gradients and the two Adam moments are four blocks of
 * p.total floats with the same layout, so zeroing gradients is one memset,
 * the optimiser one pass, and a checkpoint one dataset per block. Each
 * tensor starts on a 16-float (64-byte) boundary; the gaps stay zero.
 */
#ifndef MB_KERNELS_NN_PARAM_H
#define MB_KERNELS_NN_PARAM_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/rng.h"

#define NN_NAME_MAX 64
#define NN_NDIM_MAX 4

struct nn_param {
    char   name[NN_NAME_MAX];
    int    ndim;                   /* 1..NN_NDIM_MAX */
    size_t shape[NN_NDIM_MAX];     /* unused dimensions are 1 */
    size_t offset;                 /* first float in each block */
    size_t size;                   /* product of the shape */
    int    decay;                  /* 1: AdamW weight decay applies (matrices), 0: not (biases, norms) */
    float **view, **gview;         /* where nn_params_alloc points the caller's views; NULL after it */
};

struct nn_params {
    struct nn_param *t;            /* [n] the table */
    size_t n, cap;
    size_t total;                  /* floats in each block, padding included */
    float *data;                   /* [total] parameters */
    float *grad;                   /* [total] gradients */
    float *m, *v;                  /* [total] AdamW first and second moments */
};
#define NN_PARAMS_INIT { 0 }

/* Appends a tensor to the layout (before nn_params_alloc). nn_params_alloc
 * then points *view at the tensor's parameters and *gview at its gradients
 * (either may be NULL: not wanted); both must stay where they are until then,
 * and are forgotten after. Names are unique, shorter than NN_NAME_MAX.
 * Returns its index (>= 0), or MB_EINVAL / MB_ENOMEM. */
int nn_params_add(struct nn_params *p, const char *name, int decay, int ndim, const size_t *shape, float **view,
                  float **gview);
/* Allocates the four blocks, zeroed, and points every view given to
 * nn_params_add into them. MB_ENOMEM on failure. */
int nn_params_alloc(struct nn_params *p) MB_MUST_CHECK;
/* Index of 'name', or -1 (for tests and tools: models hold views). */
int nn_params_find(const struct nn_params *p, const char *name);
void nn_params_zero_grad(struct nn_params *p);
/* Frees the blocks and the table; p is NN_PARAMS_INIT again. */
void nn_params_release(struct nn_params *p);

/* ---- initialisers (each draws from 'r' in index order) --------------------- */
void nn_init_uniform(float *w, size_t n, float a, struct mb_rng *r);   /* U(-a, a) */
void nn_init_normal(float *w, size_t n, float std, struct mb_rng *r);  /* N(0, std^2) */
void nn_init_const(float *w, size_t n, float c);

/* ---- optimiser ------------------------------------------------------------- */

struct nn_adamw {
    float beta1, beta2;            /* 0.9, 0.999 */
    float eps;                     /* 1e-8 */
    float weight_decay;            /* decoupled; applied to tensors with decay = 1 */
};
#define NN_ADAMW_DEFAULT { 0.9f, 0.999f, 1e-8f, 0.01f }

/* One AdamW step at learning rate lr, t = 1, 2, ... the step count (bias
 * correction), in PyTorch's order of operations (torch.optim.AdamW, single
 * tensor):  p *= 1 - lr wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *           p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). */
void nn_adamw_step(struct nn_params *p, const struct nn_adamw *o, float lr, long t);

/* Learning rate at 0-based 'step': linear warm-up lr_max (step+1)/warmup for
 * step < warmup, then cosine from lr_max down to lr_min reached at
 * step = total - 1 and held after. */
float nn_lr_cosine(long step, long warmup, long total, float lr_max, float lr_min);

/* Global-norm clipping (torch.nn.utils.clip_grad_norm_): the l2 norm of g [n]
 * is computed in double over fixed chunks summed in order (thread-count
 * independent); when it exceeds max_norm, g is scaled by
 * max_norm / (norm + 1e-6). Returns the norm before clipping. */
float nn_clip_grad_norm(float *g, size_t n, float max_norm);

/* ---- checkpoint -------------------------------------------------------------- */

/* Writes 'path' (HDF5; built under a temporary name, then renamed):
 * dataset /params [total] float32, and with 'moments' /adam_m and /adam_v;
 * the table as attributes of /params: names (strings), ndims, shapes [n x 4],
 * offsets, decay; the root attribute 'step' and 'format' =
 * "myobench-nn-checkpoint 1". */
int nn_params_save(const struct nn_params *p, const char *path, long step, int moments) MB_MUST_CHECK;
/* Reads a checkpoint into an allocated p whose layout must match the file's
 * table exactly (names, ranks, shapes, offsets): MB_EFORMAT naming the first
 * mismatch otherwise. Moments are read when the file has them and 'moments'
 * is set (MB_EFORMAT if asked for and absent). step may be NULL. */
int nn_params_load(struct nn_params *p, const char *path, long *step, int moments) MB_MUST_CHECK;

/* The same with named float vectors beside the blocks (a model's scaler, a
 * loss curve), datasets "extra.<name>": saved from x[i].v, loaded into it
 * (MB_EFORMAT when absent or of another length than x[i].n). */
struct nn_extra {
    const char *name;
    float *v;
    size_t n;
};
int nn_params_save_x(const struct nn_params *p, const char *path, long step, int moments, const struct nn_extra *x,
                     size_t nx) MB_MUST_CHECK;
int nn_params_load_x(struct nn_params *p, const char *path, long *step, int moments, const struct nn_extra *x,
                     size_t nx) MB_MUST_CHECK;

#endif
