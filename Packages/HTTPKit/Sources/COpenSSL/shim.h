// OpenSSL for HTTPKit: SHA-256 and random bytes today; TLS (and shims for its function-like macros) later.
#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/err.h>

// One-shot SHA-256 through the EVP interface (the SHA256_* low-level calls are deprecated in OpenSSL 3).
static inline int copenssl_sha256(const void *data, size_t count, unsigned char out[32]) {
    unsigned int length = 0;
    return EVP_Digest(data, count, out, &length, EVP_sha256(), NULL) == 1 && length == 32;
}

#endif
