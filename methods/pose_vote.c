/* methods/pose_vote.c - zero-shot naming by pose references (pose_vote.h). */
#include "methods/pose_vote.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void l2_rows(float *x, size_t n, size_t d)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t k = 0; k < d; k++)
            s += (double)x[i * d + k] * x[i * d + k];
        float inv = (float)(1 / fmax(sqrt(s), 1e-12));
        for (size_t k = 0; k < d; k++)
            x[i * d + k] *= inv;
    }
}

int mth_zero_shot_vote(int32_t *pred, float *U, size_t n, const struct menc *pose, size_t knn,
                       const float *ref_pose, const int32_t *ref_ids, size_t n_refs, const char *who)
{
    size_t Dp = pose->cfg.D, row = pose->cfg.T * pose->cfg.C;  /* a reference pose row: [T x C] */
    size_t k = knn < n_refs ? knn : n_refs, CH = 256;
    float *Vr = malloc((n_refs * Dp + 1) * sizeof *Vr);   /* [n_refs x Dp] */
    float *S = malloc(CH * n_refs * sizeof *S);           /* [CH x n_refs] similarities */
    const float **rr = malloc(n_refs * sizeof *rr);
    size_t *top = malloc(k * sizeof *top);
    int rc = MB_OK;
    if (!Vr || !S || !rr || !top) {
        rc = mb_error(MB_ENOMEM, "%s: out of memory for %zu x %zu similarities", who, n, n_refs);
        goto out;
    }
    for (size_t i = 0; i < n_refs; i++)
        rr[i] = ref_pose + i * row;
    if ((rc = menc_embed(Vr, pose, rr, n_refs)))
        goto out;
    l2_rows(U, n, Dp);
    l2_rows(Vr, n_refs, Dp);
    int prev = nn_set_blas_threads(1);
    for (size_t i0 = 0; i0 < n; i0 += CH) {
        size_t b = n - i0 < CH ? n - i0 : CH;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)n_refs, (int)Dp, 1.0f, U + i0 * Dp,
                    (int)Dp, Vr, (int)Dp, 0.0f, S, (int)n_refs);
        for (size_t i = 0; i < b; i++) {
            const float *s = S + i * n_refs;
            /* the k most similar references, ties to the lower index */
            size_t nt = 0;
            for (size_t j = 0; j < n_refs; j++) {
                size_t p = nt;
                while (p > 0 && s[top[p - 1]] < s[j])
                    p--;
                if (p >= k)
                    continue;
                size_t end = nt < k ? nt : k - 1;
                memmove(top + p + 1, top + p, (end - p) * sizeof *top);
                top[p] = j;
                if (nt < k)
                    nt++;
            }
            /* majority vote; a tie goes to the larger summed similarity */
            int32_t best = ref_ids[top[0]];
            size_t bc = 0;
            double bs = -INFINITY;
            for (size_t a = 0; a < nt; a++) {
                int32_t id = ref_ids[top[a]];
                size_t cnt = 0;
                double sum = 0;
                for (size_t q = 0; q < nt; q++)
                    if (ref_ids[top[q]] == id) {
                        cnt++;
                        sum += s[top[q]];
                    }
                if (cnt > bc || (cnt == bc && sum > bs)) {
                    best = id;
                    bc = cnt;
                    bs = sum;
                }
            }
            pred[i0 + i] = best;
        }
    }
    nn_set_blas_threads(prev);
out:
    free(Vr);
    free(S);
    free(rr);
    free(top);
    return rc;
}
