/* methods/hp_keys.h - the parameter keys of the neural methods, each defined
 * once: key, type, default, range and one line of doc. A method's table
 * (core/params.h) lists the keys it reads, and only those, in the order
 * below (the order of the canonical text in job keys), each as
 * MTH_P_<KEY>(S, field) over its own parameter struct S:
 *
 *     static const struct mb_param emg_mae_params[] = {
 *         MTH_P_MAE_STEPS(struct emg_mae_hp, mae_steps),
 *         MTH_P_BATCH(struct emg_mae_hp, opt.batch), ...
 *         MB_PARAM_END
 *     };
 *
 * A key that two methods share therefore means the same in both. The
 * encoder's keys fill a struct mth_enc_hp (methods/common.h), the
 * optimiser's a struct mth_opt_hp (methods/train.h). docs/METHODS.md lists
 * each method's keys. */
#ifndef MB_METHODS_HP_KEYS_H
#define MB_METHODS_HP_KEYS_H

#include <stddef.h>

#include "core/params.h"
#include "methods/encoder.h"

#define MTH_KEY(key, type, S, f, def, lo, hi, doc) { key, type, offsetof(S, f), def, lo, hi, NULL, doc }

/* Small defaults: a fit trains in seconds on 2 cores (docs/METHODS.md). */
#define MTH_P_MAE_STEPS(S, f) MTH_KEY("mae_steps", MB_PT_INT, S, f, 150, 0, 1e6, \
                                      "masked-autoencoder (or regression) training steps")
#define MTH_P_ALIGN_STEPS(S, f) MTH_KEY("align_steps", MB_PT_INT, S, f, 150, 0, 1e6, "CPEP alignment steps")
#define MTH_P_BATCH(S, f) MTH_KEY("batch", MB_PT_INT, S, f, 64, 2, 4096, "minibatch size")
#define MTH_P_WIDTH(S, f) MTH_KEY("width", MB_PT_INT, S, f, 64, 4, 1024, "model width D (feed-forward 2 D)")
#define MTH_P_LAYERS(S, f) MTH_KEY("layers", MB_PT_INT, S, f, 2, 1, MENC_MAX_LAYERS, "transformer blocks")
#define MTH_P_HEADS(S, f) MTH_KEY("heads", MB_PT_INT, S, f, 4, 1, 64, "attention heads (width must be a multiple)")
#define MTH_P_DEC_WIDTH(S, f) MTH_KEY("dec_width", MB_PT_INT, S, f, 32, 4, 1024, "MAE decoder width")
#define MTH_P_CLS(S, f) MTH_KEY("cls", MB_PT_BOOL, S, f, 1, 0, 1, "embed by a CLS token (0: mean of the tokens)")
#define MTH_P_RECTIFY(S, f) MTH_KEY("rectify", MB_PT_BOOL, S, f, 1, 0, 1, "rectify the EMG before standardising")
#define MTH_P_PATCH_MS(S, f) MTH_KEY("patch_ms", MB_PT_REAL, S, f, 100, 1e-3, 1e5, \
                                     "token length in ms (EMG and pose sequences)")
#define MTH_P_POSE_PATCH(S, f) MTH_KEY("pose_patch", MB_PT_INT, S, f, 1, 1, 1024, "joints per token for end poses")
#define MTH_P_MASK(S, f) MTH_KEY("mask", MB_PT_REAL, S, f, 0.5, 0, 0.95, "share of tokens the MAE masks")
#define MTH_P_LR(S, f) MTH_KEY("lr", MB_PT_REAL, S, f, 1e-3, 1e-7, 1, "AdamW peak learning rate (cosine to 5 %)")
#define MTH_P_WD(S, f) MTH_KEY("wd", MB_PT_REAL, S, f, 0.05, 0, 1, "AdamW weight decay (matrices only)")
#define MTH_P_WARMUP(S, f) MTH_KEY("warmup", MB_PT_INT, S, f, 15, 0, 1e6, "linear warm-up steps")
#define MTH_P_CLIP(S, f) MTH_KEY("clip", MB_PT_REAL, S, f, 1.0, 1e-6, 1e6, "global gradient-norm clipping")
#define MTH_P_TEMP(S, f) MTH_KEY("temp", MB_PT_REAL, S, f, 0.07, 0.01, 1, "InfoNCE temperature (initial when learnt)")
#define MTH_P_LEARN_TEMP(S, f) MTH_KEY("learn_temp", MB_PT_BOOL, S, f, 1, 0, 1, "learn the temperature")
#define MTH_P_KNN(S, f) MTH_KEY("knn", MB_PT_INT, S, f, 10, 1, 1000, "references that vote in zero-shot")
#define MTH_P_NO_EMG_PRETRAIN(S, f) MTH_KEY("no_emg_pretrain", MB_PT_BOOL, S, f, 0, 0, 1, "CPEP ablation: no EMG MAE")
#define MTH_P_NO_POSE_PRETRAIN(S, f) MTH_KEY("no_pose_pretrain", MB_PT_BOOL, S, f, 0, 0, 1, \
                                             "CPEP ablation: no pose MAE")
#define MTH_P_FREEZE_EMG(S, f) MTH_KEY("freeze_emg", MB_PT_BOOL, S, f, 0, 0, 1, \
                                       "CPEP ablation: EMG encoder frozen in alignment")

#endif
