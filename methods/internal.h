/* methods/internal.h - what the neural methods (emg_mae.c, pose_mae.c,
 * cpep.c, emg2pose_tds.c) share: their hyperparameters, the fitted
 * model, and the plumbing from a pr_set to encoder rows. Not a public
 * interface: the methods are reached through mb_methods (protocol.h). */
#ifndef MB_METHODS_INTERNAL_H
#define MB_METHODS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "baselines/classifier.h"
#include "methods/encoder.h"
#include "protocols/protocol.h"

/* Hyperparameters (docs/METHODS.md lists keys and defaults). Numbers are
 * doubles because baselines/params.h parses them. */
struct mth_hp {
    double mae_steps, align_steps, batch;
    double width, layers, heads, ffn, dec_width, cls, rectify;
    double patch_ms, pose_patch, mask;
    double lr, wd, warmup, clip;
    double temp, learn_temp, knn;
    double no_emg_pretrain, no_pose_pretrain, freeze_emg;
};

/* Parses 'params' over the defaults; MB_EINVAL naming the key. */
int mth_hp_parse(struct mth_hp *hp, const char *params, const char *method) MB_MUST_CHECK;
/* mb_method.check_params of the neural methods (they share one parameter table). */
int mth_check_params(const char *params);

enum mth_src { MTH_EMG = 0, MTH_POSE = 1, MTH_TDS = 2 };

/* emg2pose-tds's convolutional featuriser (emg2pose_tds.c). */
struct tds;
int tds_embed(float *Z, const struct tds *t, const float *const *rows, size_t n) MB_MUST_CHECK;
size_t tds_dim(const struct tds *t);
void tds_hash(char hex[65], const struct tds *t);
void tds_free(struct tds *t);
/* Test hooks: the parameters, the pose frames regressed per window (Fu), and
 * 0.5 sum (y - target)^2 over B windows, target [B x Fu x J] (grad: its
 * backward accumulated into the parameter gradients). 'relu_sig' (may be
 * NULL) receives a hash of every ReLU's on/off pattern: a finite difference
 * is only a derivative when both points share the centre's pattern (the loss
 * is smooth between kinks, not across them). */
struct nn_params *tds_params(struct tds *t);
size_t tds_frames(const struct tds *t);
double tds_sq_loss(struct tds *t, const float *const *rows, const float *target, size_t B, int grad,
                   uint64_t *relu_sig);

struct mb_method_model {
    const char *method;
    struct mth_hp hp;
    uint64_t seed;
    int has_emg, has_pose, has_head;
    struct menc emg, pose;       /* encoders (each with its MAE decoder) */
    struct tds *tds;             /* emg2pose-tds */
    struct nn_params head;       /* CPEP: "proj.w" [Dp x De], "proj.b" [Dp], "logit_scale" [1] */
    enum mth_src src;            /* what embed() encodes */
    size_t K;
    int32_t *classes;            /* [K] */
    struct base_model *clf;      /* logistic regression on the embedding (predict_proba) */
    float *loss_emg, *loss_pose, *loss_align;   /* training curves [steps] */
    size_t n_loss_emg, n_loss_pose, n_loss_align;
};

/* Rows of a set for an encoder: EMG windows [W x C] or end poses [J x 1]. */
const float **mth_rows(const struct pr_set *s, enum mth_src src);

/* The windows of 'in' with a valid pose (all when the corpus has no
 * pose_valid array): out->idx points into *buf (caller frees). */
int mth_valid_pose(struct pr_set *out, size_t **buf, const struct pr_set *in) MB_MUST_CHECK;

/* Zero-shot naming shared by cpep and the pose oracle: U [n x Dp] are the test
 * windows in the pose encoder's space (L2-normalised here, in place); each takes the
 * majority label of its hp.knn most cosine-similar references, the pose rows
 * ref_pose [n_refs x T x J] embedded by m->pose (a tie goes to the larger summed
 * similarity, equal similarities to the lower reference index). */
int mth_zero_shot_vote(int32_t *pred, float *U, size_t n, const struct mb_method_model *m, const float *ref_pose,
                       const int32_t *ref_ids, size_t n_refs) MB_MUST_CHECK;

/* Encoder configuration of a source for the corpus's view. */
struct menc_cfg mth_cfg(const struct mth_hp *hp, const struct pr_corpus *c, enum mth_src src);
struct menc_train mth_train_cfg(const struct mth_hp *hp, long steps);

/* Builds, standardises and (steps > 0) MAE-trains one encoder on the
 * training set. */
int mth_encoder_fit(struct menc *e, float **curve, size_t *n_curve, const struct mth_hp *hp,
                    const struct pr_set *train, enum mth_src src, uint64_t seed, long steps) MB_MUST_CHECK;

/* Fits the logistic-regression head on the training embeddings. */
int mth_fit_head(struct mb_method_model *m, const struct pr_set *train, const int32_t *classes, size_t K) MB_MUST_CHECK;

struct mb_method_model *mth_model_new(const char *method, const char *params, uint64_t seed, int *rc);

/* The generic method functions (embed of m->src, its width, logreg
 * probabilities, hash of every encoder and head, free). */
int mth_embed(float *Z, size_t *E, const struct mb_method_model *m, const struct pr_set *x);
size_t mth_embed_dim(const struct mb_method_model *m);
int mth_predict_proba(float *P, const struct mb_method_model *m, const struct pr_set *test);
void mth_param_hash(char hex[65], const struct mb_method_model *m);
void mth_free(struct mb_method_model *m);

extern const struct mb_method mb_method_emg_mae, mb_method_pose_mae, mb_method_cpep,
    mb_method_pose_upper_bound, mb_method_emg2pose_tds;

#endif
