/// Incremental parser of one HTTP/1.1 response (RFC 9112), for the plain-HTTP path of `HTTPClient`: a pure
/// value, fed bytes as they arrive. Interim 1xx responses are skipped; the body is framed by chunked
/// transfer coding, Content-Length, or the end of the connection (in that order of precedence, as RFC 9112
/// section 6.3 says). Strict where a lax reading would desynchronise a kept-alive connection: a malformed
/// status line, header line, Content-Length or chunk is an error, never a guess.
struct ResponseParser {
    enum Step: Equatable {
        case needMore
        /// The response is whole; `reusable`: the connection may carry another request.
        case complete(reusable: Bool)
        case error(String)
    }

    private enum Framing {
        case head
        case chunked(ChunkedBodyDecoder)
        case length(Int)
        case untilClose
        case done(reusable: Bool)
    }

    /// The longest status line plus headers accepted.
    static let maxHeadBytes = 64 * 1024
    /// The largest body accepted (a page of jobs, a log tail): far above any response of the API.
    static let maxBodyBytes = 1 << 30

    let isHead: Bool
    private(set) var status = 0
    private(set) var headers = HTTPHeaders()
    private(set) var body: [UInt8] = []
    private var buffer: [UInt8] = []
    private var framing = Framing.head
    private var keepAlive = true
    private var fedAny = false
    /// Where the search for the end of the head resumes.
    private var scanned = 0

    init(isHead: Bool) { self.isHead = isHead }

    /// The body that arrived since the last call, handed over and forgotten (a streamed response).
    mutating func takeBody() -> [UInt8] {
        if case .chunked(var decoder) = framing {
            let bytes = decoder.takeBody()
            framing = .chunked(decoder)
            return bytes
        }
        defer { body.removeAll(keepingCapacity: true) }
        return body
    }

    /// Whether any byte of a response arrived (a kept-alive connection closed before that may be retried).
    var sawBytes: Bool { fedAny }

    mutating func feed(_ bytes: some Collection<UInt8>) -> Step {
        if !bytes.isEmpty { fedAny = true }
        buffer.append(contentsOf: bytes)
        return advance()
    }

    /// The connection ended: complete when the body runs until the close, an error otherwise.
    mutating func end() -> Step {
        if case .untilClose = framing {
            framing = .done(reusable: false)
            return .complete(reusable: false)
        }
        if case .done(let reusable) = framing { return .complete(reusable: reusable) }
        return .error(sawBytes ? "the connection closed before the response was complete" : "empty reply from server")
    }

    private mutating func advance() -> Step {
        while true {
            switch framing {
            case .head:
                guard let end = Self.headEnd(buffer, from: scanned) else {
                    // The next search starts where this one could not have found the end: no rescan from the
                    // front for every piece of a head that comes a few bytes at a time.
                    scanned = max(0, buffer.count - 3)
                    return buffer.count > Self.maxHeadBytes ? .error("response headers over 64 KiB") : .needMore
                }
                scanned = 0
                let head = buffer[..<end]
                buffer.removeFirst(end + 4)
                if let failure = parseHead(head) { return .error(failure) }
                if (100..<200).contains(status) {
                    // An interim response (100 Continue, 103 Early Hints): the real one follows.
                    status = 0
                    headers = HTTPHeaders()
                    continue
                }
                if let failure = chooseFraming() { return .error(failure) }
            case .chunked(var decoder):
                var consumed = 0
                let step = decoder.decode(buffer[...], consumed: &consumed)
                buffer.removeFirst(consumed)
                framing = .chunked(decoder)
                switch step {
                case .needMore: return .needMore
                case .error(let error): return .error("bad chunked body: \(error)")
                case .complete:
                    body = decoder.body
                    framing = .done(reusable: keepAlive && buffer.isEmpty)
                }
            case .length(let remaining):
                let take = min(remaining, buffer.count)
                body.append(contentsOf: buffer.prefix(take))
                buffer.removeFirst(take)
                if remaining - take > 0 {
                    framing = .length(remaining - take)
                    return .needMore
                }
                framing = .done(reusable: keepAlive && buffer.isEmpty)
            case .untilClose:
                if body.count + buffer.count > Self.maxBodyBytes { return .error("response body over 1 GiB") }
                body.append(contentsOf: buffer)
                buffer.removeAll()
                return .needMore
            case .done(let reusable):
                return .complete(reusable: reusable)
            }
        }
    }

    private static func headEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= 4, start <= bytes.count - 4 else { return nil }
        for index in start...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }

    /// The status line and header fields; nil when they are well formed.
    private mutating func parseHead(_ head: ArraySlice<UInt8>) -> String? {
        let lines = head.split(separator: 10, omittingEmptySubsequences: false).map { line in
            line.last == 13 ? line.dropLast() : line
        }
        guard let first = lines.first else { return "empty response head" }
        let statusLine = String(decoding: first, as: UTF8.self)
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0", parts[1].count == 3,
            let code = Int(parts[1]), (100...599).contains(code)
        else { return "bad status line \"\(statusLine.prefix(80))\"" }
        status = code
        keepAlive = parts[0] == "HTTP/1.1"
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: 58), colon > line.startIndex,
                !line[..<colon].contains(where: { $0 == 32 || $0 == 9 })
            else { return "bad header line \"\(String(decoding: line.prefix(80), as: UTF8.self))\"" }
            let name = String(decoding: line[..<colon], as: UTF8.self)
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self)
            headers.add(name, String(value[...].trimmingSpaces))
        }
        for (name, value) in headers where name.lowercased() == "connection" {
            let tokens = value.lowercased().split(separator: ",").map { $0.trimmingSpaces }
            if tokens.contains("close") { keepAlive = false }
            if tokens.contains("keep-alive") && parts[0] == "HTTP/1.0" { keepAlive = true }
        }
        return nil
    }

    private mutating func chooseFraming() -> String? {
        if isHead || status == 204 || status == 304 {
            framing = .done(reusable: keepAlive && buffer.isEmpty)
            return nil
        }
        if let coding = headers["Transfer-Encoding"] {
            guard coding.lowercased().split(separator: ",").last?.trimmingSpaces == "chunked" else {
                framing = .untilClose
                keepAlive = false
                return nil
            }
            framing = .chunked(ChunkedBodyDecoder(maxBodyBytes: Self.maxBodyBytes, maxTrailerBytes: Self.maxHeadBytes))
            return nil
        }
        let lengths = Set(headers.filter { $0.name.lowercased() == "content-length" }.map(\.value))
        if let text = lengths.first {
            guard lengths.count == 1, !text.isEmpty, text.utf8.allSatisfy({ (48...57).contains($0) }), text.count <= 12,
                let length = Int(text), length <= Self.maxBodyBytes
            else { return "bad Content-Length \"\(lengths.sorted().joined(separator: ", ").prefix(40))\"" }
            framing = .length(length)
            return nil
        }
        framing = .untilClose
        keepAlive = false
        return nil
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return text
    }
}
