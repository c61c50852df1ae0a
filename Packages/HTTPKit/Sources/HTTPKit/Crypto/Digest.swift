internal import COpenSSL

/// Message digests (OpenSSL's EVP interface).
public enum Digest {
    /// SHA-256 as 64 lowercase hex digits.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        hex(sha256(bytes))
    }

    public static func sha256Hex(_ s: String) -> String {
        sha256Hex(Array(s.utf8))
    }

    /// The raw 32-byte SHA-256 digest.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        if let why = OpenSSLErrors.unavailable() { fatalError("SHA-256 needs OpenSSL: \(why)") }
        var digest = [UInt8](repeating: 0, count: 32)
        let ok = bytes.withUnsafeBytes { input in
            digest.withUnsafeMutableBufferPointer { output in
                copenssl_sha256(input.baseAddress, input.count, output.baseAddress)
            }
        }
        precondition(ok != 0, "OpenSSL SHA-256 failed")
        return digest
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
