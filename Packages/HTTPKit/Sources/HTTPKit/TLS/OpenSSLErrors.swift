internal import COpenSSL

/// OpenSSL's per-thread error queue, drained into text (after swift-nio-ssl's `BoringSSLError`).
enum OpenSSLErrors {
    /// Every queued error as "reason (lib routine)" strings joined by "; ", oldest first; empties the queue.
    /// Returns `fallback` when the queue was empty.
    static func drain(fallback: String = "unknown OpenSSL error") -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let full = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // "error:0480006C:PEM routines::no start line" -> "no start line"
            let reason = full.split(separator: ":", omittingEmptySubsequences: false).last.map(String.init) ?? full
            if !messages.contains(reason) { messages.append(reason.isEmpty ? full : reason) }
        }
        return messages.isEmpty ? fallback : messages.joined(separator: "; ")
    }

    static func clear() {
        ERR_clear_error()
    }

    /// Why OpenSSL cannot be used (libssl.so.3 missing or too old), or nil once it is loaded: the library is
    /// opened on first use (copenssl.c), and this is that first use.
    static func unavailable() -> String? {
        copenssl_load_error().map { String(cString: $0) }
    }
}
