/* rng.c: xoshiro256** (Blackman & Vigna) seeded by splitmix64. */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void bertc_rng_seed(bertc_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

float bertc_rng_normal(bertc_rng *r) {
    /* u1 in (0, 1] so the log is finite. */
    double u1 = ((double)(bertc_rng_next(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(bertc_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

uint64_t bertc_rng_below(bertc_rng *r, uint64_t n) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = bertc_rng_next(r); while (x >= limit);
    return x % n;
}

void bertc_rng_shuffle(bertc_rng *r, int *idx, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)bertc_rng_below(r, (uint64_t)i + 1);
        int t = idx[i]; idx[i] = idx[j]; idx[j] = t;
    }
}
