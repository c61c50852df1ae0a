/// The server's TLS settings (`HTTPServerConfiguration.tls`): PEM files, read once at `HTTPServer.start()`.
///
/// TLS 1.2 is the minimum; TLS 1.2 offers only ECDHE key exchange with AES-GCM or ChaCha20-Poly1305, and
/// TLS 1.3 its default suites. With `clientCAFile` set, clients are asked for a certificate signed by that CA
/// (mTLS); `requireClientCertificate` refuses the handshake of a client that has none. A verified client
/// certificate's subject common name reaches handlers as `HTTPRequest.clientCertificateSubject`.
public struct TLSConfiguration: Sendable, Equatable {
    /// The server certificate, followed by any intermediate certificates (PEM).
    public var certificateChainFile: String
    /// The private key of the first certificate in the chain (PEM, unencrypted).
    public var privateKeyFile: String
    /// CA certificates (PEM) that client certificates must chain to; nil: no client certificates are asked for.
    public var clientCAFile: String?
    /// Refuse clients without a valid certificate (needs `clientCAFile`). When false, a client certificate is
    /// optional but still verified when presented.
    public var requireClientCertificate: Bool

    public init(
        certificateChainFile: String,
        privateKeyFile: String,
        clientCAFile: String? = nil,
        requireClientCertificate: Bool = false
    ) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.clientCAFile = clientCAFile
        self.requireClientCertificate = requireClientCertificate
    }

    /// ECDHE with AEAD ciphers only, for TLS 1.2 (OpenSSL names; TLS 1.3 suites are OpenSSL's defaults).
    public static let tls12CipherList =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
}
