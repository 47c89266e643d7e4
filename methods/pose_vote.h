/* methods/pose_vote.h - zero-shot naming by pose references, the step cpep
 * and the pose oracle share: test windows placed in a pose encoder's space
 * take the majority label of their k most cosine-similar reference poses.
 * A component, not a method. */
#ifndef MB_METHODS_POSE_VOTE_H
#define MB_METHODS_POSE_VOTE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "methods/encoder.h"

/* U [n x Dp] are the test windows in the space of the pose encoder 'pose'
 * (Dp its width; L2-normalised here, in place). The references, pose rows
 * ref_pose [n_refs x T x C] of the encoder's input shape with gesture ids
 * ref_ids [n_refs], are embedded by 'pose'; each test window takes the
 * majority id of its min(knn, n_refs) most cosine-similar references (a tie
 * goes to the larger summed similarity, equal similarities to the lower
 * reference index): pred [n]. 'who' names the method in errors. */
int mth_zero_shot_vote(int32_t *pred, float *U, size_t n, const struct menc *pose, size_t knn,
                       const float *ref_pose, const int32_t *ref_ids, size_t n_refs, const char *who) MB_MUST_CHECK;

#endif
