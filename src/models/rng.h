/* The seeded random numbers every model uses: xoshiro256** (Blackman and Vigna), its
 * state filled by splitmix64 from a 64-bit seed and a stream number, so one seed gives
 * independent streams (e.g. one for the physics, one per attempt). Never rand(): the
 * same seed gives the same numbers on every machine and libc. Not for cryptography. */
#ifndef SWEEP_MODELS_RNG_H
#define SWEEP_MODELS_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s[4];
};

/* Seeds the generator for (seed, stream). */
void rng_init(struct rng *r, uint64_t seed, uint64_t stream);
/* The next 64 random bits. */
uint64_t rng_next(struct rng *r);
/* A double uniform in [0, 1), from the top 53 bits. */
double rng_uniform(struct rng *r);
/* A standard normal deviate (Box-Muller; uses two uniforms per call). */
double rng_normal(struct rng *r);

#endif
