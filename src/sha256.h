/* sha256.h: SHA-256 (FIPS 180-4), for checking Hub downloads against the
 * Hub's LFS object ids (hub.c).
 *
 * Written out here rather than linked from libcrypto so that libbertc gains
 * no link dependency for one hash; tests/test_hub.c checks it against
 * Python's hashlib. It does not do HMAC or anything else.
 *
 *     sha256_ctx s; sha256_init(&s);
 *     sha256_update(&s, buf, n);            // as many times as needed
 *     uint8_t d[32]; sha256_final(&s, d);
 */
#ifndef BERTC_SHA256_H
#define BERTC_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include "common.h"

typedef struct sha256_ctx {
    uint32_t h[8];     /* the running hash */
    uint64_t len;      /* bytes hashed so far */
    uint8_t buf[64];   /* a partial block */
    size_t nbuf;
} sha256_ctx;

void sha256_init(sha256_ctx *s);
void sha256_update(sha256_ctx *s, const void *data, size_t n);
void sha256_final(sha256_ctx *s, uint8_t digest[32]);

/* The SHA-256 of a whole file as 64 lowercase hex digits plus NUL into hex;
 * *size gets its length. BERTC_ERR_IO (naming path) when it cannot be read. */
int sha256_file(const char *path, char hex[65], uint64_t *size, bertc_err *err);

#endif /* BERTC_SHA256_H */
