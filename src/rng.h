/* rng.h: the one seeded random generator bertc uses everywhere (new classifier
 * heads, dropout masks, data shuffling), so that `--seed` makes a run repeat bit
 * for bit. xoshiro256** seeded through splitmix64; normals by Box-Muller.
 *
 * The state is a plain struct: copy it to checkpoint it, assign it to restore.
 *
 *     bertc_rng r; bertc_rng_seed(&r, 42);
 *     float u = bertc_rng_uniform(&r);        // [0, 1)
 *     float z = bertc_rng_normal(&r);         // N(0, 1)
 */
#ifndef BERTC_RNG_H
#define BERTC_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct bertc_rng {
    uint64_t s[4];
} bertc_rng;

void bertc_rng_seed(bertc_rng *r, uint64_t seed);

/* The next 64 random bits. Inline: dropout masks draw one per element. */
static inline uint64_t bertc_rng_next(bertc_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = ((s[1] * 5) << 7 | (s[1] * 5) >> 57) * 9; /* rotl(s1 * 5, 7) * 9 */
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3] << 45 | s[3] >> 19; /* rotl(s3, 45) */
    return result;
}

/* Uniform in [0, 1) with 24 random bits. */
static inline float bertc_rng_uniform(bertc_rng *r) {
    return (float)(bertc_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}
/* Dropout keep masks, drawn in blocks that threads can draw apart with the
 * same bits: a mask of n elements takes ONE 64-bit draw `base` from r; its
 * element i lies in block j = i / BERTC_MASK_BLOCK, which has its own
 * xoshiro256** seeded (splitmix64) with base + j; each 64-bit output of it
 * gives two elements, bits 63..40 then 39..16, as 24-bit uniforms u, and an
 * element is kept iff u >= p (keep = 1). bertc_mask_block draws block j's cnt
 * elements into keep (keep[0] is element j * BERTC_MASK_BLOCK). */
#define BERTC_MASK_BLOCK 65536
static inline void bertc_mask_block(uint8_t *keep, uint64_t base, uint64_t j, float p, size_t cnt);
/* Standard normal (Box-Muller, uses two uniforms per call, no cached spare). */
float bertc_rng_normal(bertc_rng *r);
/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint64_t bertc_rng_below(bertc_rng *r, uint64_t n);
/* Fisher-Yates shuffle of idx[0..n). */
void bertc_rng_shuffle(bertc_rng *r, int *idx, int n);

static inline void bertc_mask_block(uint8_t *keep, uint64_t base, uint64_t j, float p, size_t cnt) {
    bertc_rng s;
    bertc_rng_seed(&s, base + j);
    /* u >= p with u = k / 2^24 exactly: k >= p 2^24 (a power-of-2 scaling, exact) */
    double t = (double)p * 16777216.0;
    uint64_t thr = t <= 0.0 ? 0 : (uint64_t)t + ((double)(uint64_t)t < t);
    size_t i = 0;
    for (; i + 1 < cnt; i += 2) {
        uint64_t x = bertc_rng_next(&s);
        keep[i] = (x >> 40) >= thr;
        keep[i + 1] = ((x >> 16) & 0xFFFFFF) >= thr;
    }
    if (i < cnt) keep[i] = (bertc_rng_next(&s) >> 40) >= thr;
}

#endif
