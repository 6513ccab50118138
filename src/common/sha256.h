/* SHA-256 (FIPS 180-4), written from the standard: task keys and derived seeds. */
#ifndef SWEEP_COMMON_SHA256_H
#define SWEEP_COMMON_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
    uint32_t h[8];
    uint64_t len;
    uint8_t block[64];
    size_t fill;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t n);
void sha256_final(struct sha256 *c, uint8_t out[32]);
/* One-shot digest as lowercase hex (65 bytes with the NUL). */
void sha256_hex(const void *data, size_t n, char out[65]);

#endif
