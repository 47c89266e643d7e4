/* kernels/kmeans.c - spherical k-means with k-means++ initialisation
 * (kmeans.h has the contract). */
#include "kernels/kmeans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

#define KM_NORM_EPS 1e-12   /* a row with a smaller norm is a zero row */

static double dot_fd(const float *a, const float *b, size_t e)
{
    double s = 0.0;
    for (size_t j = 0; j < e; j++)
        s += (double)a[j] * b[j];
    return s;
}

/* Assigns every valid point to its nearest centroid (largest cosine, ties
 * to the lower index); best[p] = that cosine. Returns how many assignments
 * changed. Each point is independent: any thread count gives the same. */
static size_t assign_step(int *asg, double *best, const float *xn, const unsigned char *valid,
                          const float *cent, size_t n, size_t e, size_t k)
{
    size_t changed = 0;
#pragma omp parallel for reduction(+ : changed) schedule(static)
    for (size_t p = 0; p < n; p++) {
        if (!valid[p]) {
            asg[p] = 0;
            continue;
        }
        size_t bc = 0;
        double bs = -INFINITY;
        for (size_t c = 0; c < k; c++) {
            double s = dot_fd(xn + p * e, cent + c * e, e);
            if (s > bs) {
                bs = s;
                bc = c;
            }
        }
        best[p] = bs;
        changed += asg[p] != (int)bc;
        asg[p] = (int)bc;
    }
    return changed;
}

/* k-means++ on the sphere: D(x) = 1 - max cos to the chosen centroids. */
static void init_pp(float *cent, double *dist, unsigned char *taken, const float *xn,
                    const unsigned char *valid, size_t nvalid, size_t n, size_t e, size_t k, uint64_t seed)
{
    struct mb_rng r;
    mb_rng_seed(&r, seed, 0);
    uint64_t first = mb_rng_below(&r, nvalid);
    size_t pick = 0;
    for (size_t p = 0, seen = 0; p < n; p++)
        if (valid[p] && seen++ == first) {
            pick = p;
            break;
        }
    for (size_t p = 0; p < n; p++)
        dist[p] = INFINITY;
    for (size_t c = 0;; c++) {
        memcpy(cent + c * e, xn + pick * e, e * sizeof(float));
        taken[pick] = 1;
        if (c + 1 == k)
            break;
        const float *cc = cent + c * e;
#pragma omp parallel for schedule(static)
        for (size_t p = 0; p < n; p++) {
            if (!valid[p])
                continue;
            double d = 1.0 - dot_fd(xn + p * e, cc, e);
            if (d < 0.0)
                d = 0.0;
            if (d < dist[p])
                dist[p] = d;
        }
        double total = 0.0;
        for (size_t p = 0; p < n; p++)
            if (valid[p])
                total += dist[p];
        size_t next = n;
        if (total > 0.0) {
            double u = mb_rng_uniform(&r) * total, cum = 0.0;
            for (size_t p = 0; p < n; p++) {
                if (!valid[p] || dist[p] <= 0.0)
                    continue;
                cum += dist[p];
                next = p;   // the last candidate, should rounding leave cum <= u
                if (cum > u)
                    break;
            }
        }
        if (next == n) {   // every point sits on a centroid: the first not yet taken
            for (size_t p = 0; p < n && next == n; p++)
                if (valid[p] && !taken[p])
                    next = p;
            if (next == n)
                next = pick;
        }
        pick = next;
    }
}

int kern_kmeans_spherical(float *centroids, int *assign, const float *x, size_t n, size_t e, size_t k,
                          int iters, uint64_t seed)
{
    if (n == 0 || k == 0 || k > n || e == 0)
        return mb_error(MB_EINVAL, "spherical k-means: %zu clusters for %zu points of width %zu "
                                   "(need 1 <= clusters <= points, width >= 1)", k, n, e);
    if (iters < 0)
        return mb_error(MB_EINVAL, "spherical k-means: %d iterations", iters);
    int err = MB_OK;
    float *xn = malloc(n * e * sizeof *xn);
    double *best = malloc(n * sizeof *best), *acc = malloc(k * e * sizeof *acc);
    size_t *cnt = malloc(k * sizeof *cnt);
    unsigned char *valid = malloc(n), *taken = calloc(n, 1);
    int *asg = assign ? assign : malloc(n * sizeof *asg);
    if (!xn || !best || !acc || !cnt || !valid || !taken || !asg) {
        err = mb_error(MB_ENOMEM, "spherical k-means of %zu points of width %zu", n, e);
        goto out;
    }
    size_t nvalid = 0;
    for (size_t p = 0; p < n; p++) {
        double nr = sqrt(dot_fd(x + p * e, x + p * e, e));
        valid[p] = nr >= KM_NORM_EPS;
        nvalid += valid[p];
        for (size_t j = 0; j < e; j++)
            xn[p * e + j] = valid[p] ? (float)(x[p * e + j] / nr) : 0.0f;
        asg[p] = -1;
    }
    if (nvalid == 0) {
        err = mb_error(MB_EINVAL, "spherical k-means: all %zu points of width %zu are zero", n, e);
        goto out;
    }
    init_pp(centroids, best, taken, xn, valid, nvalid, n, e, k, seed);
    assign_step(asg, best, xn, valid, centroids, n, e, k);
    for (int it = 0; it < iters; it++) {
        memset(cnt, 0, k * sizeof *cnt);
        for (size_t p = 0; p < n; p++)
            if (valid[p])
                cnt[asg[p]]++;
        /* empty clusters take the point farthest from its centroid, never
         * the only member of a cluster (that would empty another one);
         * 'taken' marks the points moved in this step */
        memset(taken, 0, n);
        for (size_t c = 0; c < k; c++) {
            if (cnt[c])
                continue;
            size_t far = n;
            for (size_t p = 0; p < n; p++)
                if (valid[p] && !taken[p] && cnt[asg[p]] > 1 && (far == n || best[p] < best[far]))
                    far = p;
            if (far == n)
                continue;   // fewer distinct points than clusters: keep the centroid
            cnt[asg[far]]--;
            asg[far] = (int)c;
            cnt[c] = 1;
            taken[far] = 1;
        }
        /* centroid = normalised mean of the members, summed in point order */
        memset(acc, 0, k * e * sizeof *acc);
        for (size_t p = 0; p < n; p++)
            if (valid[p])
                for (size_t j = 0; j < e; j++)
                    acc[(size_t)asg[p] * e + j] += xn[p * e + j];
        for (size_t c = 0; c < k; c++) {
            double s = 0.0;
            for (size_t j = 0; j < e; j++)
                s += acc[c * e + j] * acc[c * e + j];
            if (cnt[c] == 0 || s <= 0.0)
                continue;   // no members, or they cancel: keep the centroid
            double nr = sqrt(s);
            for (size_t j = 0; j < e; j++)
                centroids[c * e + j] = (float)(acc[c * e + j] / nr);
        }
        if (assign_step(asg, best, xn, valid, centroids, n, e, k) == 0)
            break;
    }
out:
    free(xn);
    free(best);
    free(acc);
    free(cnt);
    free(valid);
    free(taken);
    if (asg != assign)
        free(asg);
    return err;
}
