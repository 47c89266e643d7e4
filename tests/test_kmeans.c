/* tests/test_kmeans.c - kernels/kmeans.c: spherical k-means recovers well
 * separated clusters, k-means++ seeding, re-seeding of an empty cluster, zero rows,
 * determinism for a seed and for 1 vs 2 OpenMP threads, refused sizes. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "kernels/kmeans.h"

/* n points around each of 'nd' orthogonal directions (axis d of E), plus a
 * uniform jitter of +-noise on every coordinate; truth[p] = its direction */
static float *clusters(int *truth, size_t nper, size_t nd, size_t e, float noise, uint64_t seed)
{
    struct mb_rng r;
    mb_rng_seed(&r, seed, 0);
    float *x = malloc(nper * nd * e * sizeof *x);
    cr_assert(x);
    for (size_t p = 0; p < nper * nd; p++) {
        size_t d = p % nd;   // interleaved, so clusters are not index ranges
        truth[p] = (int)d;
        for (size_t j = 0; j < e; j++)
            x[p * e + j] = (j == d ? 3.0f : 0.0f) + noise * (float)(2.0 * mb_rng_uniform(&r) - 1.0);
    }
    return x;
}

/* the assignment equals truth up to a permutation of the labels */
static void assert_recovered(const int *assign, const int *truth, size_t n, size_t k)
{
    int map[16];
    for (size_t c = 0; c < k; c++)
        map[c] = -1;
    for (size_t p = 0; p < n; p++) {
        cr_assert(assign[p] >= 0 && (size_t)assign[p] < k);
        if (map[truth[p]] < 0)
            map[truth[p]] = assign[p];
        cr_assert_eq(map[truth[p]], assign[p], "point %zu of cluster %d got %d, its cluster mates %d", p,
                     truth[p], assign[p], map[truth[p]]);
    }
    for (size_t a = 0; a < k; a++)
        for (size_t b = a + 1; b < k; b++)
            cr_assert_neq(map[a], map[b], "clusters %zu and %zu merged", a, b);
}

Test(kmeans, three_separated_clusters_are_recovered)
{
    enum { NPER = 30, K = 3, E = 5 };
    int truth[NPER * K], assign[NPER * K];
    float *x = clusters(truth, NPER, K, E, 0.5f, 1);
    float cent[K * E];
    for (uint64_t seed = 0; seed < 5; seed++) {
        cr_assert_eq(kern_kmeans_spherical(cent, assign, x, NPER * K, E, K, 50, seed), MB_OK);
        assert_recovered(assign, truth, NPER * K, K);
        for (size_t c = 0; c < K; c++) {
            double s = 0;
            for (size_t j = 0; j < E; j++)
                s += (double)cent[c * E + j] * cent[c * E + j];
            cr_assert(fabs(s - 1.0) < 1e-6, "centroid %zu has norm^2 %.9g", c, s);
            /* the centroid points along its cluster's axis */
            size_t axis = 0;
            for (size_t j = 1; j < E; j++)
                if (cent[c * E + j] > cent[c * E + axis])
                    axis = j;
            cr_assert(axis < K && cent[c * E + axis] > 0.95f, "centroid %zu: axis %zu, %.4f", c, axis,
                      cent[c * E + axis]);
        }
    }
    free(x);
}

Test(kmeans, initialisation_is_kmeans_plus_plus_over_data_points)
{
    /* iters = 0 returns the seeding: every centroid is a (normalised) data
     * point, and D-weighted draws put the three seeds in three different
     * clusters. A uniform draw would do that with probability 2/9 per seed,
     * so ten seeds in a row all hitting three clusters rules it out. */
    enum { NPER = 20, K = 3, E = 4 };
    int truth[NPER * K], assign[NPER * K];
    float *x = clusters(truth, NPER, K, E, 0.1f, 2);
    float cent[K * E];
    for (uint64_t seed = 0; seed < 10; seed++) {
        cr_assert_eq(kern_kmeans_spherical(cent, assign, x, NPER * K, E, K, 0, seed), MB_OK);
        int hit[K] = { 0 };
        for (size_t c = 0; c < K; c++) {
            size_t found = NPER * K;
            for (size_t p = 0; p < NPER * K && found == NPER * K; p++) {
                double nr = 0;
                for (size_t j = 0; j < E; j++)
                    nr += (double)x[p * E + j] * x[p * E + j];
                nr = sqrt(nr);
                size_t j = 0;
                while (j < E && cent[c * E + j] == (float)(x[p * E + j] / nr))
                    j++;
                if (j == E)
                    found = p;
            }
            cr_assert(found < NPER * K, "seed %llu: centroid %zu is not a data point", (unsigned long long)seed, c);
            hit[truth[found]]++;
        }
        for (size_t d = 0; d < K; d++)
            cr_assert_eq(hit[d], 1, "seed %llu: %d seeds in cluster %zu", (unsigned long long)seed, hit[d], d);
    }
    free(x);
}

Test(kmeans, same_seed_same_bytes_and_thread_count_does_not_matter)
{
    enum { N = 3000, K = 12, E = 16 };
    struct mb_rng r;
    mb_rng_seed(&r, 3, 0);
    float *x = malloc(N * E * sizeof *x);
    float *c1 = malloc(K * E * sizeof *c1), *c2 = malloc(K * E * sizeof *c2), *c3 = malloc(K * E * sizeof *c3);
    int *a1 = malloc(N * sizeof *a1), *a2 = malloc(N * sizeof *a2), *a3 = malloc(N * sizeof *a3);
    cr_assert(x && c1 && c2 && c3 && a1 && a2 && a3);
    for (size_t i = 0; i < N * E; i++)
        x[i] = (float)mb_rng_normal(&r);
    omp_set_num_threads(1);
    cr_assert_eq(kern_kmeans_spherical(c1, a1, x, N, E, K, 30, 7), MB_OK);
    omp_set_num_threads(2);
    cr_assert_eq(kern_kmeans_spherical(c2, a2, x, N, E, K, 30, 7), MB_OK);
    cr_assert_eq(kern_kmeans_spherical(c3, a3, x, N, E, K, 30, 7), MB_OK);
    cr_assert(!memcmp(c1, c2, K * E * sizeof *c1), "centroids differ between 1 and 2 threads");
    cr_assert(!memcmp(a1, a2, N * sizeof *a1), "assignments differ between 1 and 2 threads");
    cr_assert(!memcmp(c2, c3, K * E * sizeof *c2) && !memcmp(a2, a3, N * sizeof *a2), "same seed, other bytes");
    cr_assert_eq(kern_kmeans_spherical(c3, NULL, x, N, E, K, 30, 8), MB_OK);
    cr_assert(memcmp(c2, c3, K * E * sizeof *c2), "another seed gives the same centroids");
    free(x), free(c1), free(c2), free(c3), free(a1), free(a2), free(a3);
}

Test(kmeans, empty_cluster_is_reseeded_with_the_farthest_point)
{
    /* seven points on the unit circle (angles in radians), four clusters,
     * seed 3: found by search so that the first Lloyd step empties a
     * cluster (k-means++ seeds keep their own point, so an empty cluster
     * needs an update first). Cluster 0 then holds 1.60, 1.85, 1.90, 1.15
     * around 1.535; the farthest from it is 1.15 (0.385 away; 1.90 is 0.365
     * away), which re-seeds the empty cluster and stays alone there. */
    enum { N = 7, K = 4, E = 2 };
    const double th[N] = { 1.60, 2.65, 2.85, 0.25, 1.85, 1.90, 1.15 };
    float x[N * E], cent[K * E];
    int assign[N];
    for (size_t p = 0; p < N; p++)
        x[p * E] = (float)cos(th[p]), x[p * E + 1] = (float)sin(th[p]);
    /* the premise: after one step a cluster is empty (if the seeding
     * changes, this case must be searched for again) */
    cr_assert_eq(kern_kmeans_spherical(cent, assign, x, N, E, K, 1, 3), MB_OK);
    int cnt[K] = { 0 };
    for (size_t p = 0; p < N; p++)
        cnt[assign[p]]++;
    cr_assert(!cnt[0] || !cnt[1] || !cnt[2] || !cnt[3], "the first step left no cluster empty");
    cr_assert_eq(kern_kmeans_spherical(cent, assign, x, N, E, K, 10, 3), MB_OK);
    memset(cnt, 0, sizeof cnt);
    for (size_t p = 0; p < N; p++)
        cnt[assign[p]]++;
    for (size_t c = 0; c < K; c++)
        cr_assert_gt(cnt[c], 0, "cluster %zu is empty", c);
    int c6 = assign[6];
    cr_assert_eq(cnt[c6], 1, "the point at 1.15 is not alone in its cluster");
    double cs = cent[c6 * E] * cos(th[6]) + cent[c6 * E + 1] * sin(th[6]);
    cr_assert(cs > 1.0 - 1e-6, "its centroid is not the point (cos %.9g)", cs);
}

Test(kmeans, zero_rows_go_to_cluster_0_and_take_no_part)
{
    enum { N = 40, K = 20, E = 3 };
    struct mb_rng r;
    mb_rng_seed(&r, 4, 0);
    float x[N * E], cent[K * E];
    int assign[N];
    for (size_t i = 0; i < N * E; i++)
        x[i] = (float)mb_rng_normal(&r);
    for (size_t j = 0; j < E; j++)
        x[5 * E + j] = 0.0f;   // a zero row
    for (uint64_t seed = 0; seed < 20; seed++) {
        cr_assert_eq(kern_kmeans_spherical(cent, assign, x, N, E, K, 100, seed), MB_OK);
        cr_assert_eq(assign[5], 0, "the zero row went to %d", assign[5]);
        for (size_t c = 0; c < K; c++) {
            double s = 0;
            for (size_t j = 0; j < E; j++)
                s += (double)cent[c * E + j] * cent[c * E + j];
            cr_assert(fabs(s - 1.0) < 1e-6, "seed %llu: centroid %zu has norm^2 %.9g", (unsigned long long)seed, c, s);
        }
    }
}

Test(kmeans, impossible_sizes_are_refused_with_the_sizes)
{
    float x[6] = { 1, 0, 0, 1, 1, 1 }, cent[8];
    int assign[3];
    cr_assert_eq(kern_kmeans_spherical(cent, assign, x, 3, 2, 4, 10, 1), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "4 clusters for 3 points"), "message: %s", mb_last_error());
    cr_assert_eq(kern_kmeans_spherical(cent, assign, x, 0, 2, 1, 10, 1), MB_EINVAL);
    cr_assert_eq(kern_kmeans_spherical(cent, assign, x, 3, 2, 0, 10, 1), MB_EINVAL);
    float z[6] = { 0 };
    cr_assert_eq(kern_kmeans_spherical(cent, assign, z, 3, 2, 2, 10, 1), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "all 3 points"), "message: %s", mb_last_error());
    /* k == n is allowed: every point its own cluster */
    cr_assert_eq(kern_kmeans_spherical(cent, assign, x, 3, 2, 3, 10, 1), MB_OK);
    cr_assert(assign[0] != assign[1] && assign[1] != assign[2] && assign[0] != assign[2]);
}
