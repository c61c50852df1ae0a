internal import COpenSSL

/// Signature checks (OpenSSL's EVP interface).
public enum Signatures {
    public enum Verdict: Equatable, Sendable {
        case valid
        case invalid
        /// The key is not a PEM public key, or not an Ed25519 one: why.
        case unusableKey(String)
        /// OpenSSL cannot be loaded here: why.
        case cannotCheck(String)
    }

    /// Whether `signature` is the Ed25519 signature of `message` by the key in `publicKeyPEM` (as `openssl pkey
    /// -pubout` writes it; the signature as `openssl pkeyutl -sign -rawin` makes it, 64 bytes).
    public static func verifyEd25519(publicKeyPEM: String, signature: [UInt8], message: [UInt8]) -> Verdict {
        if let why = OpenSSLErrors.unavailable() { return .cannotCheck(why) }
        let pem = Array(publicKeyPEM.utf8)
        let result = pem.withUnsafeBufferPointer { key in
            signature.withUnsafeBufferPointer { signed in
                message.withUnsafeBufferPointer { bytes in
                    key.withMemoryRebound(to: CChar.self) { text in
                        copenssl_verify_ed25519(
                            text.baseAddress,
                            text.count,
                            signed.baseAddress,
                            signed.count,
                            bytes.baseAddress,
                            bytes.count
                        )
                    }
                }
            }
        }
        switch result {
        case 1: return .valid
        case -1: return .unusableKey("not a PEM public key")
        case -2: return .unusableKey("not an Ed25519 key")
        default: return .invalid
        }
    }
}
