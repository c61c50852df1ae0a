/// An incremental HTTP/1.x request parser: a pure value with no I/O. Feed it bytes as they arrive; it hands
/// back complete requests one at a time, keeping any pipelined bytes for the next call to `next()`.
///
/// Supports the request line, header fields and Content-Length bodies. Transfer-Encoding request bodies are
/// rejected (501) for now. After an error the parser stays failed: the server answers and closes.
public struct HTTPRequestParser: Sendable {
    public enum Result: Sendable {
        /// No complete request yet.
        case needMore
        case request(ParsedHTTPRequest)
        case error(HTTPParseError)
    }

    private enum State: Sendable {
        case head
        case body(ParsedHTTPRequest, length: Int)
        case failed(HTTPParseError)
    }

    public let maxHeaderBytes: Int
    public let maxBodyBytes: Int

    private var buffer: [UInt8] = []
    /// Index of the first byte not yet consumed by a returned request.
    private var start = 0
    /// Head scanning progress (absolute indices into `buffer`), so each byte is scanned once.
    private var scan = 0
    private var lineStart = 0
    private var state = State.head
    private var continueRequested = false

    public init(maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int = 8 * 1024 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// Appends `bytes` and returns the next complete request, if any (same as `next()` afterwards).
    public mutating func feed(_ bytes: some Collection<UInt8>) -> Result {
        if case .failed(let error) = state { return .error(error) }
        compact()
        buffer.append(contentsOf: bytes)
        return next()
    }

    /// The next complete request from bytes already fed (pipelining), or `.needMore`.
    public mutating func next() -> Result {
        switch state {
        case .failed(let error):
            return .error(error)
        case .body(let request, let length):
            return finishBody(request, length: length)
        case .head:
            return parseHead()
        }
    }

    /// True when no byte of a next request has arrived (between requests).
    public var isIdle: Bool {
        if case .head = state { return start == buffer.count }
        return false
    }

    /// True once a request's head is complete and its body is still arriving.
    public var isReadingBody: Bool {
        if case .body = state { return true }
        return false
    }

    /// True once, after a head with "Expect: 100-continue" whose body has not arrived yet.
    public mutating func takeContinueRequest() -> Bool {
        defer { continueRequested = false }
        return continueRequested
    }

    // MARK: - Internals

    private mutating func compact() {
        guard start > 0 else { return }
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
        } else {
            buffer.removeSubrange(0..<start)
        }
        scan -= start
        lineStart -= start
        start = 0
    }

    private mutating func fail(_ kind: HTTPParseError.Kind, _ detail: String) -> Result {
        let error = HTTPParseError(kind, detail)
        state = .failed(error)
        return .error(error)
    }

    private mutating func parseHead() -> Result {
        // RFC 9112 section 2.2: ignore empty lines before the request line.
        if scan == start {
            while start < buffer.count, buffer[start] == .cr || buffer[start] == .lf { start += 1 }
            scan = start
            lineStart = start
        }
        while scan < buffer.count {
            if scan - start >= maxHeaderBytes {
                return fail(.headersTooLarge, "request head exceeds \(maxHeaderBytes) bytes")
            }
            let byte = buffer[scan]
            scan += 1
            guard byte == .lf else { continue }
            let length = scan - 1 - lineStart
            let isEmpty = length == 0 || (length == 1 && buffer[lineStart] == .cr)
            if isEmpty && lineStart > start {
                let head = buffer[start..<lineStart]
                start = scan
                lineStart = scan
                return headComplete(head)
            }
            lineStart = scan
        }
        if buffer.count - start > maxHeaderBytes {
            return fail(.headersTooLarge, "request head exceeds \(maxHeaderBytes) bytes")
        }
        return .needMore
    }

    private mutating func headComplete(_ head: ArraySlice<UInt8>) -> Result {
        var lines = head.split(separator: .lf, omittingEmptySubsequences: false).map { line in
            line.last == .cr ? line.dropLast() : line
        }
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let requestLine = lines.first else { return fail(.malformedRequestLine, "empty request line") }
        let parsedLine: (HTTPMethod, String, Int)
        switch Self.parseRequestLine(requestLine) {
        case .success(let line): parsedLine = line
        case .failure(let error): return fail(error.kind, error.detail)
        }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            switch Self.parseHeaderLine(line) {
            case .success(let field): headers.add(field.name, field.value)
            case .failure(let error): return fail(error.kind, error.detail)
            }
        }
        let (method, target, minor) = parsedLine
        let keepAlive =
            minor == 1 ? !headers.hasToken("close", in: "Connection") : headers.hasToken("keep-alive", in: "Connection")
        let request = ParsedHTTPRequest(
            method: method,
            target: target,
            minorVersion: minor,
            headers: headers,
            body: [],
            keepAlive: keepAlive
        )
        let length: Int
        switch framing(headers) {
        case .success(let value): length = value
        case .failure(let error): return fail(error.kind, error.detail)
        }
        if length > 0 && minor == 1 && headers.hasToken("100-continue", in: "Expect") && buffer.count - start < length {
            continueRequested = true
        }
        return finishBody(request, length: length)
    }

    private mutating func finishBody(_ request: ParsedHTTPRequest, length: Int) -> Result {
        guard buffer.count - start >= length else {
            state = .body(request, length: length)
            return .needMore
        }
        var request = request
        request.body = Array(buffer[start..<(start + length)])
        start += length
        scan = start
        lineStart = start
        state = .head
        continueRequested = false
        return .request(request)
    }

    /// The body length from Content-Length / Transfer-Encoding, or why the framing is unacceptable.
    private func framing(_ headers: HTTPHeaders) -> Swift.Result<Int, HTTPParseError> {
        let lengths = headers.values("Content-Length")
        if headers.contains("Transfer-Encoding") {
            if !lengths.isEmpty {
                return .failure(HTTPParseError(.conflictingFraming, "both Transfer-Encoding and Content-Length"))
            }
            return .failure(
                HTTPParseError(.unsupportedTransferEncoding, "Transfer-Encoding request bodies are not supported")
            )
        }
        var length: Int?
        for value in lengths {
            for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                let digits = trimmed(item).utf8
                guard !digits.isEmpty, digits.allSatisfy({ $0 >= .zero && $0 <= .nine }) else {
                    return .failure(HTTPParseError(.invalidContentLength, "Content-Length is not a number"))
                }
                let significant = digits.drop { $0 == .zero }
                guard significant.count <= 18 else {
                    return .failure(HTTPParseError(.bodyTooLarge, "body exceeds \(maxBodyBytes) bytes"))
                }
                let number = significant.reduce(0) { $0 * 10 + Int($1 - .zero) }
                if let existing = length, existing != number {
                    return .failure(HTTPParseError(.invalidContentLength, "conflicting Content-Length values"))
                }
                length = number
            }
        }
        let result = length ?? 0
        if result > maxBodyBytes {
            return .failure(HTTPParseError(.bodyTooLarge, "body of \(result) bytes exceeds \(maxBodyBytes)"))
        }
        return .success(result)
    }
}
