/* spw_sha256.h -- a small, dependency-free SHA-256 (FIPS 180-4).
 *
 * Part of spwire's conformance peers; backend-neutral and reusable.
 */
#ifndef SPW_SHA256_H
#define SPW_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SPW_SHA256_DIGEST_LEN 32
#define SPW_SHA256_HEX_LEN 64 /* without the terminating NUL */

typedef struct spw_sha256_ctx {
    uint32_t h[8];
    uint64_t total;        /* bytes hashed so far */
    unsigned char buf[64]; /* pending partial block */
    size_t fill;           /* bytes in buf */
} spw_sha256_ctx;

void spw_sha256_init(spw_sha256_ctx *ctx);
void spw_sha256_update(spw_sha256_ctx *ctx, const void *data, size_t len);
/* Writes the 32-byte digest; ctx must be re-initialised before reuse. */
void spw_sha256_final(spw_sha256_ctx *ctx, unsigned char out[SPW_SHA256_DIGEST_LEN]);

/* One-shot helpers. hex must have room for SPW_SHA256_HEX_LEN + 1 bytes. */
void spw_sha256(const void *data, size_t len, unsigned char out[SPW_SHA256_DIGEST_LEN]);
void spw_sha256_hex(const void *data, size_t len, char hex[SPW_SHA256_HEX_LEN + 1]);
/* Finalises ctx and writes lower-case hex. */
void spw_sha256_final_hex(spw_sha256_ctx *ctx, char hex[SPW_SHA256_HEX_LEN + 1]);

/* Lower-case hex of len bytes into out (room for 2*len+1). */
void spw_hex_encode(const void *data, size_t len, char *out);

#endif /* SPW_SHA256_H */
