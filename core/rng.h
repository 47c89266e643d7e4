/* core/rng.h - the one deterministic random generator (xoshiro256**,
 * seeded through splitmix64). Everything random in myobench (synthetic
 * corpora, splits, episode draws, weight init) derives from an explicit
 * seed with this generator, so results never depend on libc's rand() or
 * on the thread that happens to run a job.
 *
 * Streams: mb_rng_seed(r, seed, stream) gives independent sequences for
 * (seed, stream) pairs, so parallel work items get their own generator
 * keyed by their index instead of sharing one. */
#ifndef MB_CORE_RNG_H
#define MB_CORE_RNG_H

#include <stdint.h>

struct mb_rng { uint64_t s[4]; };

void     mb_rng_seed(struct mb_rng *r, uint64_t seed, uint64_t stream);
uint64_t mb_rng_u64(struct mb_rng *r);
double   mb_rng_uniform(struct mb_rng *r);              /* [0, 1) with 53 bits */
double   mb_rng_normal(struct mb_rng *r);               /* N(0, 1), Box-Muller, no cached state */
uint64_t mb_rng_below(struct mb_rng *r, uint64_t n);    /* uniform in [0, n), unbiased; n > 0 */
void     mb_rng_shuffle_int(struct mb_rng *r, int *a, uint64_t n); /* Fisher-Yates */

#endif
