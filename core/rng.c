/* core/rng.c - xoshiro256** (Blackman and Vigna), seeded by splitmix64. */
#include "core/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void mb_rng_seed(struct mb_rng *r, uint64_t seed, uint64_t stream)
{
    /* Mix the stream id through splitmix first so streams 0,1,2... of one
     * seed do not start from neighbouring states. */
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL + 0x632be59bd9b4e019ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t mb_rng_u64(struct mb_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double mb_rng_uniform(struct mb_rng *r)
{
    return (double)(mb_rng_u64(r) >> 11) * 0x1.0p-53;
}

double mb_rng_normal(struct mb_rng *r)
{
    double u1 = mb_rng_uniform(r), u2 = mb_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint64_t mb_rng_below(struct mb_rng *r, uint64_t n)
{
    /* Rejection sampling: drop the top partial range so every value in
     * [0, n) is equally likely. */
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = mb_rng_u64(r); while (x >= lim);
    return x % n;
}

void mb_rng_shuffle_int(struct mb_rng *r, int *a, uint64_t n)
{
    for (uint64_t i = n; i > 1; i--) {
        uint64_t j = mb_rng_below(r, i);
        int t = a[i - 1]; a[i - 1] = a[j]; a[j] = t;
    }
}
