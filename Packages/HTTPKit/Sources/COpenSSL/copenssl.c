// OpenSSL, loaded on first use: libssl.so.3 (and with it libcrypto.so.3) is opened by dlopen the first time a
// function below is called, not by the dynamic loader at every start. A `corral` command or an idle agent that
// hashes, signs or serves no TLS never maps the two libraries: relocating them cost each process about 1.5 ms and
// 150 page faults at start, and an agent about 1.5 MB of resident memory (docs/PERFORMANCE.md, issue 16).
//
// Each OpenSSL function HTTPKit calls is defined here under its own name, hidden (not exported, so it never
// stands in for the real one in libraries that link OpenSSL themselves, such as libcurl), and calls the real
// function through a pointer looked up in the library. The definitions are checked against OpenSSL's own
// declarations by the compiler. `copenssl_load_error` says why the library cannot be used; callers check it
// before their first call, and a call made anyway with no library stops the process with that reason.
#include "copenssl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define COPENSSL_FUNCTIONS(X) \
    X(ASN1_INTEGER_set_uint64) \
    X(ASN1_STRING_to_UTF8) \
    X(BIO_ctrl) \
    X(BIO_free) \
    X(BIO_new) \
    X(BIO_new_mem_buf) \
    X(BIO_s_mem) \
    X(CRYPTO_free) \
    X(ERR_clear_error) \
    X(ERR_error_string_n) \
    X(ERR_get_error) \
    X(EVP_Digest) \
    X(EVP_DigestVerify) \
    X(EVP_DigestVerifyInit) \
    X(EVP_MD_CTX_free) \
    X(EVP_MD_CTX_new) \
    X(EVP_PKEY_free) \
    X(EVP_PKEY_get_base_id) \
    X(EVP_sha256) \
    X(PEM_read_bio_PUBKEY) \
    X(PEM_write_bio_PrivateKey) \
    X(PEM_write_bio_X509) \
    X(SSL_CTX_check_private_key) \
    X(SSL_CTX_ctrl) \
    X(SSL_CTX_free) \
    X(SSL_CTX_load_verify_locations) \
    X(SSL_CTX_new) \
    X(SSL_CTX_set_cipher_list) \
    X(SSL_CTX_set_client_CA_list) \
    X(SSL_CTX_set_options) \
    X(SSL_CTX_set_session_id_context) \
    X(SSL_CTX_set_verify) \
    X(SSL_CTX_set_verify_depth) \
    X(SSL_CTX_use_PrivateKey_file) \
    X(SSL_CTX_use_certificate_chain_file) \
    X(SSL_do_handshake) \
    X(SSL_free) \
    X(SSL_get1_peer_certificate) \
    X(SSL_get_error) \
    X(SSL_get_verify_result) \
    X(SSL_load_client_CA_file) \
    X(SSL_new) \
    X(SSL_pending) \
    X(SSL_read_ex) \
    X(SSL_set_accept_state) \
    X(SSL_set_fd) \
    X(SSL_shutdown) \
    X(SSL_write_ex) \
    X(TLS_server_method) \
    X(X509V3_EXT_conf_nid) \
    X(X509V3_set_ctx) \
    X(X509_EXTENSION_free) \
    X(X509_NAME_ENTRY_get_data) \
    X(X509_NAME_add_entry_by_txt) \
    X(X509_NAME_get_entry) \
    X(X509_NAME_get_index_by_NID) \
    X(X509_add_ext) \
    X(X509_free) \
    X(X509_get_serialNumber) \
    X(X509_get_subject_name) \
    X(X509_getm_notAfter) \
    X(X509_getm_notBefore) \
    X(X509_gmtime_adj) \
    X(X509_new) \
    X(X509_set_issuer_name) \
    X(X509_set_pubkey) \
    X(X509_set_version) \
    X(X509_sign) \
    X(EVP_PKEY_Q_keygen)

static struct {
#define COPENSSL_FIELD(name) __typeof__(name) *name;
    COPENSSL_FUNCTIONS(COPENSSL_FIELD)
#undef COPENSSL_FIELD
} api;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char error_text[512];
static const char *load_error = "OpenSSL was not loaded";

static void load(void) {
    void *library = dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        const char *why = dlerror();
        snprintf(error_text, sizeof error_text, "cannot load OpenSSL 3 (install libssl3): %s", why ? why : "not found");
        load_error = error_text;
        return;
    }
#define COPENSSL_RESOLVE(name)                                                                                     \
    api.name = (__typeof__(name) *)dlsym(library, #name);                                                         \
    if (api.name == NULL && error_text[0] == 0) {                                                                 \
        snprintf(error_text, sizeof error_text, "libssl.so.3 has no %s: install OpenSSL 3.0 or later", #name);   \
    }
    COPENSSL_FUNCTIONS(COPENSSL_RESOLVE)
#undef COPENSSL_RESOLVE
    load_error = error_text[0] == 0 ? NULL : error_text;
}

const char *copenssl_load_error(void) {
    pthread_once(&once, load);
    return load_error;
}

// A call with no library: the callers checked `copenssl_load_error` first, so this is a defect, and there is no
// value to return that would not be mistaken for OpenSSL's own answer.
static void need(void) {
    if (copenssl_load_error() == NULL) return;
    fprintf(stderr, "OpenSSL is needed and cannot be used: %s\n", load_error);
    abort();
}

EVP_PKEY *copenssl_generate_p256(void) {
    need();
    return api.EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

#pragma GCC visibility push(hidden)

int ASN1_INTEGER_set_uint64(ASN1_INTEGER *a0, uint64_t a1) { need(); return api.ASN1_INTEGER_set_uint64(a0, a1); }
int ASN1_STRING_to_UTF8(unsigned char **a0, const ASN1_STRING *a1) { need(); return api.ASN1_STRING_to_UTF8(a0, a1); }
long BIO_ctrl(BIO *a0, int a1, long a2, void *a3) { need(); return api.BIO_ctrl(a0, a1, a2, a3); }
int BIO_free(BIO *a0) { need(); return api.BIO_free(a0); }
BIO *BIO_new(const BIO_METHOD *a0) { need(); return api.BIO_new(a0); }
BIO *BIO_new_mem_buf(const void *a0, int a1) { need(); return api.BIO_new_mem_buf(a0, a1); }
const BIO_METHOD *BIO_s_mem(void) { need(); return api.BIO_s_mem(); }
void CRYPTO_free(void *a0, const char *a1, int a2) { need(); api.CRYPTO_free(a0, a1, a2); }
void ERR_clear_error(void) { need(); api.ERR_clear_error(); }
void ERR_error_string_n(unsigned long a0, char *a1, size_t a2) { need(); api.ERR_error_string_n(a0, a1, a2); }
unsigned long ERR_get_error(void) { need(); return api.ERR_get_error(); }
int EVP_Digest(const void *a0, size_t a1, unsigned char *a2, unsigned int *a3, const EVP_MD *a4, ENGINE *a5) {
    need();
    return api.EVP_Digest(a0, a1, a2, a3, a4, a5);
}
int EVP_DigestVerify(EVP_MD_CTX *a0, const unsigned char *a1, size_t a2, const unsigned char *a3, size_t a4) {
    need();
    return api.EVP_DigestVerify(a0, a1, a2, a3, a4);
}
int EVP_DigestVerifyInit(EVP_MD_CTX *a0, EVP_PKEY_CTX **a1, const EVP_MD *a2, ENGINE *a3, EVP_PKEY *a4) {
    need();
    return api.EVP_DigestVerifyInit(a0, a1, a2, a3, a4);
}
void EVP_MD_CTX_free(EVP_MD_CTX *a0) { need(); api.EVP_MD_CTX_free(a0); }
EVP_MD_CTX *EVP_MD_CTX_new(void) { need(); return api.EVP_MD_CTX_new(); }
void EVP_PKEY_free(EVP_PKEY *a0) { need(); api.EVP_PKEY_free(a0); }
int EVP_PKEY_get_base_id(const EVP_PKEY *a0) { need(); return api.EVP_PKEY_get_base_id(a0); }
const EVP_MD *EVP_sha256(void) { need(); return api.EVP_sha256(); }
EVP_PKEY *PEM_read_bio_PUBKEY(BIO *a0, EVP_PKEY **a1, pem_password_cb *a2, void *a3) {
    need();
    return api.PEM_read_bio_PUBKEY(a0, a1, a2, a3);
}
int PEM_write_bio_PrivateKey(BIO *a0, const EVP_PKEY *a1, const EVP_CIPHER *a2, const unsigned char *a3, int a4, pem_password_cb *a5, void *a6) {
    need();
    return api.PEM_write_bio_PrivateKey(a0, a1, a2, a3, a4, a5, a6);
}
int PEM_write_bio_X509(BIO *a0, const X509 *a1) { need(); return api.PEM_write_bio_X509(a0, a1); }
int SSL_CTX_check_private_key(const SSL_CTX *a0) { need(); return api.SSL_CTX_check_private_key(a0); }
long SSL_CTX_ctrl(SSL_CTX *a0, int a1, long a2, void *a3) { need(); return api.SSL_CTX_ctrl(a0, a1, a2, a3); }
void SSL_CTX_free(SSL_CTX *a0) { need(); api.SSL_CTX_free(a0); }
int SSL_CTX_load_verify_locations(SSL_CTX *a0, const char *a1, const char *a2) {
    need();
    return api.SSL_CTX_load_verify_locations(a0, a1, a2);
}
SSL_CTX *SSL_CTX_new(const SSL_METHOD *a0) { need(); return api.SSL_CTX_new(a0); }
int SSL_CTX_set_cipher_list(SSL_CTX *a0, const char *a1) { need(); return api.SSL_CTX_set_cipher_list(a0, a1); }
void SSL_CTX_set_client_CA_list(SSL_CTX *a0, struct stack_st_X509_NAME *a1) {
    need();
    api.SSL_CTX_set_client_CA_list(a0, a1);
}
uint64_t SSL_CTX_set_options(SSL_CTX *a0, uint64_t a1) { need(); return api.SSL_CTX_set_options(a0, a1); }
int SSL_CTX_set_session_id_context(SSL_CTX *a0, const unsigned char *a1, unsigned int a2) {
    need();
    return api.SSL_CTX_set_session_id_context(a0, a1, a2);
}
void SSL_CTX_set_verify(SSL_CTX *a0, int a1, SSL_verify_cb a2) { need(); api.SSL_CTX_set_verify(a0, a1, a2); }
void SSL_CTX_set_verify_depth(SSL_CTX *a0, int a1) { need(); api.SSL_CTX_set_verify_depth(a0, a1); }
int SSL_CTX_use_PrivateKey_file(SSL_CTX *a0, const char *a1, int a2) {
    need();
    return api.SSL_CTX_use_PrivateKey_file(a0, a1, a2);
}
int SSL_CTX_use_certificate_chain_file(SSL_CTX *a0, const char *a1) {
    need();
    return api.SSL_CTX_use_certificate_chain_file(a0, a1);
}
int SSL_do_handshake(SSL *a0) { need(); return api.SSL_do_handshake(a0); }
void SSL_free(SSL *a0) { need(); api.SSL_free(a0); }
X509 *SSL_get1_peer_certificate(const SSL *a0) { need(); return api.SSL_get1_peer_certificate(a0); }
int SSL_get_error(const SSL *a0, int a1) { need(); return api.SSL_get_error(a0, a1); }
long SSL_get_verify_result(const SSL *a0) { need(); return api.SSL_get_verify_result(a0); }
struct stack_st_X509_NAME *SSL_load_client_CA_file(const char *a0) { need(); return api.SSL_load_client_CA_file(a0); }
SSL *SSL_new(SSL_CTX *a0) { need(); return api.SSL_new(a0); }
int SSL_pending(const SSL *a0) { need(); return api.SSL_pending(a0); }
int SSL_read_ex(SSL *a0, void *a1, size_t a2, size_t *a3) { need(); return api.SSL_read_ex(a0, a1, a2, a3); }
void SSL_set_accept_state(SSL *a0) { need(); api.SSL_set_accept_state(a0); }
int SSL_set_fd(SSL *a0, int a1) { need(); return api.SSL_set_fd(a0, a1); }
int SSL_shutdown(SSL *a0) { need(); return api.SSL_shutdown(a0); }
int SSL_write_ex(SSL *a0, const void *a1, size_t a2, size_t *a3) { need(); return api.SSL_write_ex(a0, a1, a2, a3); }
const SSL_METHOD *TLS_server_method(void) { need(); return api.TLS_server_method(); }
X509_EXTENSION *X509V3_EXT_conf_nid(struct lhash_st_CONF_VALUE *a0, X509V3_CTX *a1, int a2, const char *a3) {
    need();
    return api.X509V3_EXT_conf_nid(a0, a1, a2, a3);
}
void X509V3_set_ctx(X509V3_CTX *a0, X509 *a1, X509 *a2, X509_REQ *a3, X509_CRL *a4, int a5) {
    need();
    api.X509V3_set_ctx(a0, a1, a2, a3, a4, a5);
}
void X509_EXTENSION_free(X509_EXTENSION *a0) { need(); api.X509_EXTENSION_free(a0); }
ASN1_STRING *X509_NAME_ENTRY_get_data(const X509_NAME_ENTRY *a0) { need(); return api.X509_NAME_ENTRY_get_data(a0); }
int X509_NAME_add_entry_by_txt(X509_NAME *a0, const char *a1, int a2, const unsigned char *a3, int a4, int a5, int a6) {
    need();
    return api.X509_NAME_add_entry_by_txt(a0, a1, a2, a3, a4, a5, a6);
}
X509_NAME_ENTRY *X509_NAME_get_entry(const X509_NAME *a0, int a1) { need(); return api.X509_NAME_get_entry(a0, a1); }
int X509_NAME_get_index_by_NID(const X509_NAME *a0, int a1, int a2) {
    need();
    return api.X509_NAME_get_index_by_NID(a0, a1, a2);
}
int X509_add_ext(X509 *a0, X509_EXTENSION *a1, int a2) { need(); return api.X509_add_ext(a0, a1, a2); }
void X509_free(X509 *a0) { need(); api.X509_free(a0); }
ASN1_INTEGER *X509_get_serialNumber(X509 *a0) { need(); return api.X509_get_serialNumber(a0); }
X509_NAME *X509_get_subject_name(const X509 *a0) { need(); return api.X509_get_subject_name(a0); }
ASN1_TIME *X509_getm_notAfter(const X509 *a0) { need(); return api.X509_getm_notAfter(a0); }
ASN1_TIME *X509_getm_notBefore(const X509 *a0) { need(); return api.X509_getm_notBefore(a0); }
ASN1_TIME *X509_gmtime_adj(ASN1_TIME *a0, long a1) { need(); return api.X509_gmtime_adj(a0, a1); }
X509 *X509_new(void) { need(); return api.X509_new(); }
int X509_set_issuer_name(X509 *a0, const X509_NAME *a1) { need(); return api.X509_set_issuer_name(a0, a1); }
int X509_set_pubkey(X509 *a0, EVP_PKEY *a1) { need(); return api.X509_set_pubkey(a0, a1); }
int X509_set_version(X509 *a0, long a1) { need(); return api.X509_set_version(a0, a1); }
int X509_sign(X509 *a0, EVP_PKEY *a1, const EVP_MD *a2) { need(); return api.X509_sign(a0, a1, a2); }
#pragma GCC visibility pop
