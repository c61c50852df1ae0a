// OpenSSL for HTTPKit: SHA-256, signatures, the server's TLS and development certificates, loaded on first use
// (copenssl.c). Swift does not import function-like macros (SSL_CTX_set_min_proto_version, SSL_OP_* bits,
// EVP_EC_gen, ...) nor variadic functions, so each one used gets a copenssl_* wrapper here.
#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

// NULL once libssl.so.3 is loaded (the first call loads it), else why it cannot be: call before the first use of
// OpenSSL and report it, as the functions below stop the process when called without the library.
const char *copenssl_load_error(void);

// One-shot SHA-256 through the EVP interface (the SHA256_* low-level calls are deprecated in OpenSSL 3).
static inline int copenssl_sha256(const void *data, size_t count, unsigned char out[32]) {
    unsigned int length = 0;
    return EVP_Digest(data, count, out, &length, EVP_sha256(), NULL) == 1 && length == 32;
}

// An Ed25519 signature of `message` checked against a PEM public key (SubjectPublicKeyInfo, as `openssl pkey
// -pubout` writes it). 1: valid; 0: not; -1: the key cannot be read; -2: the key is not an Ed25519 key.
static inline int copenssl_verify_ed25519(const char *pem, size_t pem_length, const unsigned char *signature,
                                          size_t signature_length, const unsigned char *message,
                                          size_t message_length) {
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_length);
    if (bio == NULL) return -1;
    EVP_PKEY *key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (key == NULL) {
        ERR_clear_error();
        return -1;
    }
    if (EVP_PKEY_base_id(key) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(key);
        return -2;
    }
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    int valid = context != NULL && EVP_DigestVerifyInit(context, NULL, NULL, NULL, key) == 1
                && EVP_DigestVerify(context, signature, signature_length, message, message_length) == 1;
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(key);
    ERR_clear_error();
    return valid ? 1 : 0;
}

// MARK: - Server TLS context

static inline int copenssl_ctx_set_min_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

// No compression (CRIME), no renegotiation, a fresh ECDHE key per handshake, the server's cipher order.
static inline void copenssl_ctx_set_server_options(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE
                                 | SSL_OP_SINGLE_ECDH_USE);
}

// Partial writes, and a write buffer that may move between retries (the connection's output array grows).
static inline void copenssl_ctx_set_nonblocking_modes(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

static inline int copenssl_ctx_set_groups(SSL_CTX *ctx, const char *groups) {
    return (int)SSL_CTX_set1_groups_list(ctx, groups);
}

// The peer certificate's subject common name (UTF-8) into `out`; 1 on success, 0 when there is none.
static inline int copenssl_peer_common_name(const SSL *ssl, char *out, size_t capacity) {
    X509 *peer = SSL_get1_peer_certificate(ssl);
    if (peer == NULL) return 0;
    int found = 0;
    X509_NAME *subject = X509_get_subject_name(peer);
    int index = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
    if (index >= 0) {
        ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
        unsigned char *utf8 = NULL;
        int length = ASN1_STRING_to_UTF8(&utf8, data);
        if (length >= 0 && (size_t)length < capacity) {
            memcpy(out, utf8, (size_t)length);
            out[length] = 0;
            found = 1;
        }
        OPENSSL_free(utf8);
    }
    X509_free(peer);
    return found;
}

// MARK: - Development certificates

// A new P-256 key (EVP_PKEY_Q_keygen is variadic: copenssl.c calls it).
EVP_PKEY *copenssl_generate_p256(void);

static inline int copenssl_name_add_text(X509_NAME *name, const char *field, const char *value) {
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, (const unsigned char *)value, -1, -1, 0);
}

// Adds one X509v3 extension in OpenSSL's config syntax ("critical,CA:TRUE", "DNS:a,IP:127.0.0.1", ...).
static inline int copenssl_add_extension(X509 *cert, X509 *issuer, int nid, const char *value) {
    X509V3_CTX ctx;
    memset(&ctx, 0, sizeof ctx);
    X509V3_set_ctx_nodb(&ctx)
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *extension = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (extension == NULL) return 0;
    int ok = X509_add_ext(cert, extension, -1);
    X509_EXTENSION_free(extension);
    return ok;
}

// The bytes a memory BIO holds (BIO_get_mem_data is a macro).
static inline long copenssl_bio_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

#endif
