/* kernels/kmeans.h - spherical k-means (cosine similarity), for fixed
 * cluster centroids of embeddings (EMBridge's CASCLe clusters the frozen
 * pose embeddings once per run). docs/KERNELS.md "Spherical k-means".
 *
 * x [N x E] rows are l2-normalised in a copy (norm in double; a zero row,
 * norm below 1e-12, takes no part and is assigned to cluster 0). Similarity
 * is the cosine, a point's cluster the centroid of largest cosine (ties: the
 * lower index).
 *
 * Initialisation, k-means++ on the sphere: the first centroid is a valid
 * point drawn uniformly, each next one a point drawn with probability
 * proportional to D(x) = 1 - max cos(x, chosen centroids) (for unit vectors
 * ||x - c||^2 = 2 (1 - cos), so this is k-means++'s squared-distance
 * weighting). The draws come from core/rng.h seeded with (seed, 0). When
 * every D is zero (fewer distinct points than k), the lowest-index valid
 * point not yet chosen is taken.
 *
 * Then up to 'iters' Lloyd steps, stopping early when no assignment changes:
 * each centroid becomes the normalised mean of its members (summed in
 * double in point order); an empty cluster is re-seeded with the point
 * farthest from its own centroid (lowest cosine, lowest index on ties,
 * never the only member of its cluster), and a cluster whose mean is zero
 * keeps its centroid. iters = 0 returns the k-means++ centroids, which are
 * data points.
 *
 * Deterministic for a seed and any OpenMP thread count: the assignment step
 * is parallel over points (each point's cluster is computed alone), every
 * sum is serial in a fixed order. No BLAS: dot products are in double per
 * point, so the result does not depend on OpenBLAS's thread count either.
 */
#ifndef MB_KERNELS_KMEANS_H
#define MB_KERNELS_KMEANS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* centroids [K x E] out (unit rows), assign [N] out or NULL. Returns MB_OK,
 * MB_EINVAL (n == 0, k == 0, k > n, e == 0, iters < 0, or every row zero;
 * the message gives the sizes) or MB_ENOMEM. */
int kern_kmeans_spherical(float *centroids, int *assign, const float *x, size_t n, size_t e, size_t k,
                          int iters, uint64_t seed) MB_MUST_CHECK;

#endif
