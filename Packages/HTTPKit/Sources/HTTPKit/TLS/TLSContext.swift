internal import COpenSSL
internal import Glibc

/// The server's one `SSL_CTX`, configured at `HTTPServer.start()` and read-only afterwards.
///
/// `@unchecked Sendable`: OpenSSL documents an `SSL_CTX` as safe to share between threads once configured
/// (`SSL_new` only reads it and bumps its reference count atomically). Nothing mutates it after `init`;
/// `deinit` frees it when the last owner (the server and its reactor thread) lets go.
final class TLSContext: @unchecked Sendable {
    let raw: OpaquePointer
    let verifiesClients: Bool

    /// Loads and checks the files; every failure names the file and OpenSSL's reason.
    init(_ configuration: TLSConfiguration) throws(HTTPServerError) {
        if let why = OpenSSLErrors.unavailable() { throw HTTPServerError(message: "TLS: \(why)") }
        OpenSSLErrors.clear()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw HTTPServerError(message: "TLS: SSL_CTX_new failed: \(OpenSSLErrors.drain())")
        }
        raw = context
        verifiesClients = configuration.clientCAFile != nil
        try configure(configuration)
    }

    deinit {
        SSL_CTX_free(raw)
    }

    private func configure(_ configuration: TLSConfiguration) throws(HTTPServerError) {
        guard copenssl_ctx_set_min_tls12(raw) == 1,
            SSL_CTX_set_cipher_list(raw, TLSConfiguration.tls12CipherList) == 1,
            copenssl_ctx_set_groups(raw, "X25519:P-256:P-384") == 1
        else {
            throw HTTPServerError(message: "TLS: cannot set protocol versions or ciphers: \(OpenSSLErrors.drain())")
        }
        copenssl_ctx_set_server_options(raw)
        copenssl_ctx_set_nonblocking_modes(raw)

        let chain = configuration.certificateChainFile
        let key = configuration.privateKeyFile
        try Self.checkReadable(chain, what: "certificate chain")
        try Self.checkReadable(key, what: "private key")
        guard SSL_CTX_use_certificate_chain_file(raw, chain) == 1 else {
            throw HTTPServerError(message: "TLS: cannot load certificate chain \(chain): \(OpenSSLErrors.drain())")
        }
        guard SSL_CTX_use_PrivateKey_file(raw, key, SSL_FILETYPE_PEM) == 1 else {
            throw HTTPServerError(
                message: "TLS: cannot load private key \(key) (for certificate \(chain)): \(OpenSSLErrors.drain())"
            )
        }
        guard SSL_CTX_check_private_key(raw) == 1 else {
            throw HTTPServerError(
                message: "TLS: private key \(key) does not match certificate \(chain): \(OpenSSLErrors.drain())"
            )
        }

        if let caFile = configuration.clientCAFile {
            try Self.checkReadable(caFile, what: "client CA")
            guard SSL_CTX_load_verify_locations(raw, caFile, nil) == 1, let names = SSL_load_client_CA_file(caFile)
            else {
                throw HTTPServerError(message: "TLS: cannot load client CA file \(caFile): \(OpenSSLErrors.drain())")
            }
            SSL_CTX_set_client_CA_list(raw, names)
            var mode = SSL_VERIFY_PEER
            if configuration.requireClientCertificate { mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT }
            SSL_CTX_set_verify(raw, mode, nil)
            SSL_CTX_set_verify_depth(raw, 4)
        } else if configuration.requireClientCertificate {
            throw HTTPServerError(message: "TLS: requireClientCertificate needs a clientCAFile")
        }
        // Session resumption with client verification needs a session id context (else resumption fails).
        let contextID: [UInt8] = Array("httpkit".utf8)
        _ = SSL_CTX_set_session_id_context(raw, contextID, UInt32(contextID.count))
        OpenSSLErrors.clear()
    }

    /// A clear message for a missing or unreadable file, before OpenSSL's terser one.
    private static func checkReadable(_ path: String, what: String) throws(HTTPServerError) {
        guard access(path, R_OK) == 0 else {
            let reason = String(cString: strerror(errno))
            throw HTTPServerError(message: "TLS: cannot read \(what) file \(path): \(reason)")
        }
    }
}
