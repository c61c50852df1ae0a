internal import COpenSSL

/// Cryptographically secure random bytes (OpenSSL `RAND_bytes`) and tokens built from them.
public enum SecureRandom {
    /// `count` random bytes. Traps if the CSPRNG fails: continuing with weak randomness would be worse.
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0, "negative byte count")
        var result = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return result }
        let status = result.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32($0.count)) }
        precondition(status == 1, "RAND_bytes failed")
        return result
    }

    /// `prefix` followed by `bytes` random bytes in lowercase, unpadded base32 (RFC 4648 alphabet),
    /// e.g. `token(prefix: "crl_", bytes: 20)` -> "crl_" + 32 characters.
    public static func token(prefix: String, bytes count: Int) -> String {
        prefix + base32(bytes(count))
    }

    static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((buffer >> UInt32(bits)) & 0x1F)])
            }
        }
        if bits > 0 {
            out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 0x1F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
