/// How a request's body is delimited.
enum BodyFraming: Equatable, Sendable {
    case length(Int)
    case chunked
}

/// The framing rules of RFC 9112 section 6 that close the request-smuggling shapes, and the Host rule of
/// section 3.2.
extension HTTPRequestParser {
    static func framing(
        _ headers: HTTPHeaders,
        minorVersion: Int,
        maxBodyBytes: Int
    ) -> Swift.Result<BodyFraming, HTTPParseError> {
        if let error = hostError(headers, minorVersion: minorVersion) { return .failure(error) }
        let lengths = headers.values("Content-Length")
        let encodings = headers.values("Transfer-Encoding")
        if !encodings.isEmpty {
            if !lengths.isEmpty {
                return .failure(HTTPParseError(.conflictingFraming, "both Transfer-Encoding and Content-Length"))
            }
            return transferCoding(encodings, minorVersion: minorVersion)
        }
        return contentLength(lengths, maxBodyBytes: maxBodyBytes).map(BodyFraming.length)
    }

    /// HTTP/1.1 needs exactly one Host field (section 3.2); HTTP/1.0 at most one. Its value must be an
    /// authority: no whitespace, commas, slashes or other delimiters that could be read two ways.
    private static func hostError(_ headers: HTTPHeaders, minorVersion: Int) -> HTTPParseError? {
        let hosts = headers.values("Host")
        if hosts.count > 1 { return HTTPParseError(.invalidHost, "more than one Host field") }
        guard let host = hosts.first else {
            return minorVersion == 1 ? HTTPParseError(.invalidHost, "HTTP/1.1 request without Host") : nil
        }
        let allowed = host.utf8.allSatisfy { byte in
            isTokenByte(byte) || byte == .colon || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
        }
        return allowed ? nil : HTTPParseError(.invalidHost, "malformed Host field")
    }

    /// Section 6.3: a request whose final coding is not chunked cannot be delimited (400, close); chunked
    /// may be applied once; codings we do not implement (gzip, deflate, unknown) before it get 501 (section
    /// 6.1); Transfer-Encoding in an HTTP/1.0 request is faulty framing (400).
    private static func transferCoding(
        _ values: [String],
        minorVersion: Int
    ) -> Swift.Result<BodyFraming, HTTPParseError> {
        if minorVersion == 0 {
            return .failure(HTTPParseError(.invalidTransferEncoding, "Transfer-Encoding in an HTTP/1.0 request"))
        }
        let codings = values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .map { trimmed($0).lowercased() }
        guard !codings.contains(where: \.isEmpty) else {
            return .failure(HTTPParseError(.invalidTransferEncoding, "empty transfer coding"))
        }
        guard codings.last == "chunked" else {
            return .failure(HTTPParseError(.invalidTransferEncoding, "the final transfer coding is not chunked"))
        }
        guard codings.count == 1 else {
            if codings.dropLast().contains("chunked") {
                return .failure(HTTPParseError(.invalidTransferEncoding, "chunked applied more than once"))
            }
            return .failure(
                HTTPParseError(.unsupportedTransferEncoding, "transfer codings other than chunked are not supported")
            )
        }
        return .success(.chunked)
    }

    /// Exactly one Content-Length field holding 1*DIGIT. Duplicates are refused even when equal (RFC 9110
    /// section 8.6 allows refusing them, and a proxy may have read another copy), as are lists and signs (400).
    /// A length over the limit is 413, decided before any body byte is read.
    private static func contentLength(_ values: [String], maxBodyBytes: Int) -> Swift.Result<Int, HTTPParseError> {
        guard let value = values.first else { return .success(0) }
        guard values.count == 1 else {
            return .failure(HTTPParseError(.invalidContentLength, "more than one Content-Length field"))
        }
        let digits = trimmed(Substring(value)).utf8
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= .zero && $0 <= .nine }) else {
            return .failure(HTTPParseError(.invalidContentLength, "Content-Length is not a single number"))
        }
        let significant = digits.drop { $0 == .zero }
        guard significant.count <= 18 else {
            return .failure(HTTPParseError(.bodyTooLarge, "body exceeds \(maxBodyBytes) bytes"))
        }
        let length = significant.reduce(0) { $0 * 10 + Int($1 - .zero) }
        if length > maxBodyBytes {
            return .failure(HTTPParseError(.bodyTooLarge, "body of \(length) bytes exceeds \(maxBodyBytes)"))
        }
        return .success(length)
    }
}
