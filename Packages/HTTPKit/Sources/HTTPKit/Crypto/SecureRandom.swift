internal import CLinuxShims
internal import Glibc

/// Cryptographically secure random bytes (the kernel's CSPRNG, `getrandom(2)`) and tokens built from them.
/// Not OpenSSL's `RAND_bytes`: its first call loads OpenSSL's configuration, a tenth of a `corral submit`
/// (issue 16), for bytes it draws from the same kernel source.
public enum SecureRandom {
    /// `count` random bytes. Traps if the CSPRNG fails: continuing with weak randomness would be worse.
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0, "negative byte count")
        var result = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return result }
        var filled = 0
        while filled < count {
            let got = result.withUnsafeMutableBytes { raw in
                clinux_getrandom(raw.baseAddress! + filled, UInt(count - filled))
            }
            if got < 0 && errno == EINTR { continue }
            precondition(got > 0, "getrandom failed: errno \(errno)")
            filled += Int(got)
        }
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
