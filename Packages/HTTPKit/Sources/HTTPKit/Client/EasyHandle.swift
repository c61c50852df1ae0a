internal import CCurl
internal import Glibc

/// One libcurl easy handle and its error buffer. The handle keeps its connection alive between transfers.
///
/// `@unchecked Sendable`: libcurl allows an easy handle to be used from any thread provided that only one
/// thread uses it at a time. `HTTPClient` guarantees that: a handle is either in the Mutex-guarded idle
/// pool or checked out by exactly one `send` call, never both.
final class EasyHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
    let errorBuffer: UnsafeMutablePointer<CChar>

    init?() {
        guard let raw = curl_easy_init() else { return nil }
        self.raw = raw
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(raw)
        errorBuffer.deallocate()
    }

    /// The error buffer's text, if libcurl wrote one.
    var errorText: String {
        let text = String(cString: errorBuffer)
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }
}

/// Collects the response of one transfer; libcurl calls back into it through a C function pointer.
final class ResponseAccumulator {
    var body: [UInt8] = []
    var headers = HTTPHeaders()

    /// Each status line starts a new header block (after "100 Continue" or a redirect), so headers restart.
    func headerLine(_ bytes: UnsafeRawBufferPointer) {
        var line = Substring(String(decoding: bytes, as: UTF8.self))
        while let last = line.last, last.isNewline { line.removeLast() }  // "\r\n" is one Character
        if line.hasPrefix("HTTP/") {
            headers = HTTPHeaders()
        } else if let colon = line.firstIndex(of: ":") {
            headers.add(String(trimmed(line[..<colon])), String(trimmed(line[line.index(after: colon)...])))
        }
    }
}

@available(*, unavailable)
extension ResponseAccumulator: Sendable {}
