/// A response produced by a handler. The server adds Content-Length (or Transfer-Encoding) and Connection.
public struct HTTPResponse: Sendable {
    /// Produces a streamed body; see `stream(status:headers:_:)`.
    public typealias BodyProducer = @Sendable (ResponseBodyWriter) async throws -> Void

    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Set for streamed responses; `body` is then ignored.
    public private(set) var producer: BodyProducer?

    public init(status: HTTPStatus, headers: HTTPHeaders = .init(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
        self.producer = nil
    }

    /// A response whose body `producer` writes after the head is sent, with chunked transfer encoding (to an
    /// HTTP/1.0 client: raw bytes, then close). `write` applies back-pressure and throws
    /// `ResponseStreamClosedError` once the client is gone, when the producer's task is also cancelled. If the
    /// producer throws, the body is cut short (no final chunk) and the connection closed, so the client sees
    /// an incomplete response rather than a truncated one that looks whole. HEAD requests get the head only.
    public static func stream(
        status: HTTPStatus = .ok,
        headers: HTTPHeaders = .init(),
        _ producer: @escaping BodyProducer
    ) -> HTTPResponse {
        var response = HTTPResponse(status: status, headers: headers)
        response.producer = producer
        return response
    }

    /// Server-sent events: `Content-Type: text/event-stream`, `Cache-Control: no-cache`, streamed.
    public static func eventStream(
        headers: HTTPHeaders = .init(),
        _ producer: @escaping @Sendable (ServerSentEventWriter) async throws -> Void
    ) -> HTTPResponse {
        var headers = headers
        headers.set("Content-Type", "text/event-stream")
        headers.set("Cache-Control", "no-cache")
        return stream(status: .ok, headers: headers) { body in try await producer(ServerSentEventWriter(body: body)) }
    }

    /// `body` as-is with "Content-Type: application/json".
    public static func json(_ body: [UInt8], status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "application/json")]), body: body)
    }

    /// UTF-8 text with "Content-Type: text/plain; charset=utf-8".
    public static func text(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(
            status: status,
            headers: HTTPHeaders([("Content-Type", "text/plain; charset=utf-8")]),
            body: Array(text.utf8)
        )
    }

    /// The project's error envelope: `{"error":{"code":"...","message":"..."}}`, JSON-escaped.
    public static func error(_ status: HTTPStatus, code: String, message: String) -> HTTPResponse {
        let body = #"{"error":{"code":"# + JSONString.quoted(code) + #","message":"# + JSONString.quoted(message) + "}}"
        return .json(Array(body.utf8), status: status)
    }
}

/// Minimal JSON string escaping (RFC 8259), so the error envelope needs no encoder.
enum JSONString {
    static func quoted(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
