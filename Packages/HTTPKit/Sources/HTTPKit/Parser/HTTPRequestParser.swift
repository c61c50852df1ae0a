/// An incremental HTTP/1.x request parser: a pure value with no I/O. Feed it bytes as they arrive; it hands
/// back complete requests one at a time, keeping any pipelined bytes for the next call to `next()`.
///
/// Strict RFC 9112: Content-Length and chunked bodies; the framing rules against request smuggling are in
/// `HTTPRequestParser+Framing.swift`, chunk decoding in `ChunkedBodyDecoder`. A bare LF ends a head line
/// (RFC 9112 section 2.2 allows it), but never a chunked framing line. After an error the parser stays failed:
/// the server answers and closes.
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
        case chunked(ParsedHTTPRequest, ChunkedBodyDecoder)
        case failed(HTTPParseError)
    }

    public let maxHeaderBytes: Int
    public let maxBodyBytes: Int
    /// The request line alone; beyond it the answer is 414.
    public let maxRequestLineBytes: Int
    /// Header fields in one head (and trailer fields in one chunked body); beyond it the answer is 431.
    public let maxHeaderCount: Int

    private var buffer: [UInt8] = []
    /// Index of the first byte not yet consumed by a returned request.
    private var start = 0
    /// Head scanning progress (absolute indices into `buffer`), so each byte is scanned once.
    private var scan = 0
    private var lineStart = 0
    private var state = State.head
    private var continueRequested = false

    public init(
        maxHeaderBytes: Int = 16 * 1024,
        maxBodyBytes: Int = 8 * 1024 * 1024,
        maxRequestLineBytes: Int = 8 * 1024,
        maxHeaderCount: Int = 100
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxRequestLineBytes = min(maxRequestLineBytes, maxHeaderBytes)
        self.maxHeaderCount = maxHeaderCount
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
        case .chunked(let request, let decoder):
            return continueChunked(request, decoder)
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
        switch state {
        case .body, .chunked: true
        case .head, .failed: false
        }
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
            while start < buffer.count {
                if buffer[start] == .lf {
                    start += 1
                } else if buffer[start] == .cr, start + 1 < buffer.count, buffer[start + 1] == .lf {
                    start += 2
                } else {
                    break
                }
            }
            scan = start
            lineStart = start
        }
        while scan < buffer.count {
            if scan - start >= maxHeaderBytes {
                return fail(.headersTooLarge, "request head exceeds \(maxHeaderBytes) bytes")
            }
            let byte = buffer[scan]
            scan += 1
            guard byte == .lf else {
                if lineStart == start && scan - start > maxRequestLineBytes {
                    return fail(.requestLineTooLong, "request line exceeds \(maxRequestLineBytes) bytes")
                }
                continue
            }
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
        guard lines.count - 1 <= maxHeaderCount else {
            return fail(.headersTooLarge, "more than \(maxHeaderCount) header fields")
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
        let framing: BodyFraming
        switch Self.framing(headers, minorVersion: minor, maxBodyBytes: maxBodyBytes) {
        case .success(let value): framing = value
        case .failure(let error): return fail(error.kind, error.detail)
        }
        let expectsContinue = minor == 1 && headers.hasToken("100-continue", in: "Expect")
        switch framing {
        case .length(let length):
            if length > 0 && expectsContinue && buffer.count - start < length { continueRequested = true }
            return finishBody(request, length: length)
        case .chunked:
            if expectsContinue && buffer.count == start { continueRequested = true }
            let decoder = ChunkedBodyDecoder(maxBodyBytes: maxBodyBytes, maxTrailerBytes: maxHeaderBytes)
            return continueChunked(request, decoder)
        }
    }

    private mutating func continueChunked(_ request: ParsedHTTPRequest, _ decoder: ChunkedBodyDecoder) -> Result {
        var decoder = decoder
        var consumed = 0
        let step = decoder.decode(buffer[start...], consumed: &consumed)
        start += consumed
        switch step {
        case .needMore:
            state = .chunked(request, decoder)
            return .needMore
        case .error(let error):
            return fail(error.kind, error.detail)
        case .complete:
            guard decoder.trailers.count <= maxHeaderCount else {
                return fail(.headersTooLarge, "more than \(maxHeaderCount) trailer fields")
            }
            var request = request
            request.body = decoder.body
            request.trailers = decoder.trailers
            scan = start
            lineStart = start
            state = .head
            continueRequested = false
            return .request(request)
        }
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
}
