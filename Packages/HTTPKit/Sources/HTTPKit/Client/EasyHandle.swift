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
        guard let raw = ccurl_easy_init() else { return nil }
        self.raw = raw
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        ccurl_easy_cleanup(raw)
        errorBuffer.deallocate()
    }

    /// The error buffer's text, if libcurl wrote one.
    var errorText: String {
        let text = String(cString: errorBuffer)
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }
}

/// Collects the response of one transfer; libcurl calls back into it through a C function pointer.
/// For a stream, the body of a 2xx response goes to `sink` instead of `body`.
final class ResponseAccumulator {
    var body: [UInt8] = []
    var headers = HTTPHeaders()
    /// From the latest status line (after "100 Continue" the final one).
    var status = 0
    /// Receives the body of a 2xx response chunk by chunk; false stops the transfer.
    let sink: (([UInt8]) -> Bool)?
    let cancellation: CancellationFlag?
    /// The sink asked to stop (or the caller cancelled): the transfer's abort is not an error.
    var stopped = false
    /// Some body bytes reached the sink (a stream is then never retried).
    var delivered = false

    init(sink: (([UInt8]) -> Bool)? = nil, cancellation: CancellationFlag? = nil) {
        self.sink = sink
        self.cancellation = cancellation
    }

    /// Each status line starts a new header block (after "100 Continue" or a redirect), so headers restart.
    func headerLine(_ bytes: UnsafeRawBufferPointer) {
        var line = Substring(String(decoding: bytes, as: UTF8.self))
        while let last = line.last, last.isNewline { line.removeLast() }  // "\r\n" is one Character
        if line.hasPrefix("HTTP/") {
            headers = HTTPHeaders()
            let parts = line.split(separator: " ", maxSplits: 2)
            status = parts.count >= 2 ? Int(parts[1]) ?? 0 : 0
        } else if let colon = line.firstIndex(of: ":") {
            headers.add(String(trimmed(line[..<colon])), String(trimmed(line[line.index(after: colon)...])))
        }
    }

    /// Body bytes from libcurl; false aborts the transfer.
    func bodyBytes(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let sink, (200..<300).contains(status) else {
            body.append(contentsOf: bytes)
            return true
        }
        delivered = true
        if cancellation?.isCancelled == true || !sink(Array(bytes)) {
            stopped = true
            return false
        }
        return true
    }

    /// Polled by libcurl's progress callback about once a second: true aborts a cancelled stream.
    var shouldAbort: Bool {
        guard cancellation?.isCancelled == true else { return false }
        stopped = true
        return true
    }
}

@available(*, unavailable)
extension ResponseAccumulator: Sendable {}
