/// Incremental decoder of a chunked request body (RFC 9112 section 7.1): a pure value with no I/O.
///
/// Strict where laxness enables request smuggling: chunk sizes are 1*HEXDIG (no sign, no "0x", no leading
/// whitespace), every framing line ends in CRLF (a bare LF or CR is an error), chunk extensions must be
/// well-formed `;name[=token|quoted-string]` lists and are ignored, trailer fields are parsed like header
/// fields and kept apart from the headers. The decoded body is capped at `maxBodyBytes` (413) and the trailer
/// section at `maxTrailerBytes` (431).
struct ChunkedBodyDecoder: Sendable {
    enum Step: Sendable {
        case needMore
        case complete
        case error(HTTPParseError)
    }

    private enum State: Sendable {
        case sizeLine
        case data(remaining: Int)
        case dataEnd
        case trailers
        case done
    }

    /// Longest chunk-size line (size plus extensions) accepted.
    static let maxSizeLineBytes = 4096

    let maxBodyBytes: Int
    let maxTrailerBytes: Int
    private(set) var body: [UInt8] = []
    private(set) var trailers = HTTPHeaders()
    private var state = State.sizeLine
    private var trailerBytes = 0

    init(maxBodyBytes: Int, maxTrailerBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
        self.maxTrailerBytes = maxTrailerBytes
    }

    /// True before the first byte of the first chunk-size line has been consumed.
    var isAtStart: Bool {
        if case .sizeLine = state { return body.isEmpty }
        return false
    }

    /// The body decoded so far, handed over and forgotten (a client streaming a response); the size cap then
    /// counts what is held, not what was handed over.
    mutating func takeBody() -> [UInt8] {
        defer { body.removeAll(keepingCapacity: true) }
        return body
    }

    /// Decodes from the front of `bytes`; `consumed` is advanced past every byte used (the rest, after
    /// `.complete`, belongs to the next pipelined request).
    mutating func decode(_ bytes: ArraySlice<UInt8>, consumed: inout Int) -> Step {
        while true {
            let available = bytes.dropFirst(consumed)
            switch state {
            case .done:
                return .complete
            case .sizeLine:
                switch Self.line(in: available, limit: Self.maxSizeLineBytes) {
                case .needMore: return .needMore
                case .error(let error): return .error(error)
                case .line(let line, let length):
                    consumed += length
                    switch parseSizeLine(line) {
                    case .failure(let error): return .error(error)
                    case .success(0): state = .trailers
                    case .success(let size): state = .data(remaining: size)
                    }
                }
            case .data(let remaining):
                guard !available.isEmpty else { return .needMore }
                let take = min(remaining, available.count)
                body.append(contentsOf: available.prefix(take))
                consumed += take
                state = take == remaining ? .dataEnd : .data(remaining: remaining - take)
            case .dataEnd:
                guard available.count >= 2 else {
                    if available.first.map({ $0 != .cr }) == true { return .error(Self.badChunk("chunk data")) }
                    return .needMore
                }
                guard available.first == .cr, available.dropFirst().first == .lf else {
                    return .error(Self.badChunk("chunk data is not followed by CRLF"))
                }
                consumed += 2
                state = .sizeLine
            case .trailers:
                switch Self.line(in: available, limit: maxTrailerBytes - trailerBytes + 2) {
                case .needMore:
                    return .needMore
                case .error(let error):
                    let tooLong = error.kind == .headersTooLarge
                    return .error(tooLong ? HTTPParseError(.headersTooLarge, "trailer section too large") : error)
                case .line(let line, let length):
                    consumed += length
                    trailerBytes += length
                    if line.isEmpty {
                        state = .done
                        continue
                    }
                    switch HTTPRequestParser.parseHeaderLine(line) {
                    case .failure(let error): return .error(error)
                    case .success(let field): trailers.add(field.name, field.value)
                    }
                }
            }
        }
    }

    private enum LineScan {
        case needMore
        case line(ArraySlice<UInt8>, length: Int)
        case error(HTTPParseError)
    }

    /// One CRLF-terminated line from the front of `bytes` (without the CRLF). Bare CR or LF is an error.
    private static func line(in bytes: ArraySlice<UInt8>, limit: Int) -> LineScan {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if index - bytes.startIndex >= limit {
                return .error(HTTPParseError(.headersTooLarge, "chunk line exceeds \(limit) bytes"))
            }
            switch bytes[index] {
            case .lf:
                return .error(badChunk("bare LF in chunked framing"))
            case .cr:
                let next = bytes.index(after: index)
                guard next < bytes.endIndex else { return .needMore }
                guard bytes[next] == .lf else { return .error(badChunk("bare CR in chunked framing")) }
                return .line(bytes[bytes.startIndex..<index], length: next + 1 - bytes.startIndex)
            default:
                index += 1
            }
        }
        return .needMore
    }

    /// `chunk-size [ chunk-ext ]`; the size is checked against the body limit before any data is read.
    private func parseSizeLine(_ line: ArraySlice<UInt8>) -> Swift.Result<Int, HTTPParseError> {
        let digits = line.prefix { Self.hexValue($0) != nil }
        guard !digits.isEmpty else { return .failure(Self.badChunk("chunk size is not hexadecimal")) }
        let significant = digits.drop { $0 == .zero }
        guard significant.count <= 15 else {
            return .failure(HTTPParseError(.bodyTooLarge, "chunk size exceeds \(maxBodyBytes) bytes"))
        }
        let size = significant.reduce(0) { $0 * 16 + Int(Self.hexValue($1)!) }
        guard Self.validExtensions(line[digits.endIndex...]) else {
            return .failure(Self.badChunk("malformed chunk extension"))
        }
        if size > maxBodyBytes - body.count {
            return .failure(HTTPParseError(.bodyTooLarge, "chunked body exceeds \(maxBodyBytes) bytes"))
        }
        return .success(size)
    }

    /// `*( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )`.
    static func validExtensions(_ text: ArraySlice<UInt8>) -> Bool {
        var rest = text
        func skipWhitespace() { while let first = rest.first, first == .space || first == .tab { rest.removeFirst() } }
        func token() -> Bool {
            let count = rest.prefix(while: HTTPRequestParser.isTokenByte).count
            rest.removeFirst(count)
            return count > 0
        }
        func quotedString() -> Bool {
            rest.removeFirst()
            while let byte = rest.popFirst() {
                switch byte {
                case UInt8(ascii: "\""): return true
                case UInt8(ascii: "\\"):
                    guard let escaped = rest.popFirst(), escaped == .tab || (escaped >= 0x20 && escaped != 0x7F) else {
                        return false
                    }
                case .tab, 0x20...0x7E, 0x80...0xFF: continue
                default: return false
                }
            }
            return false
        }
        while true {
            skipWhitespace()
            guard let first = rest.first else { return true }
            guard first == UInt8(ascii: ";") else { return false }
            rest.removeFirst()
            skipWhitespace()
            guard token() else { return false }
            skipWhitespace()
            guard rest.first == UInt8(ascii: "=") else { continue }
            rest.removeFirst()
            skipWhitespace()
            if rest.first == UInt8(ascii: "\"") {
                guard quotedString() else { return false }
            } else if !token() {
                return false
            }
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case .zero ... .nine: byte - .zero
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func badChunk(_ detail: String) -> HTTPParseError {
        HTTPParseError(.invalidChunkedEncoding, detail)
    }
}
