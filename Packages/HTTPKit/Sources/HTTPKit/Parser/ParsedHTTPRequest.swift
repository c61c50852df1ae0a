/// A parsed request before path and query decoding: what the wire carried.
public struct ParsedHTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The raw request target, e.g. "/v1/jobs?state=running".
    public var target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Trailer fields of a chunked body, kept apart from `headers` (RFC 9110 section 6.5.1).
    public var trailers: HTTPHeaders
    /// Whether the connection stays open after the response (HTTP/1.1 default, `Connection` honoured).
    public var keepAlive: Bool

    public init(
        method: HTTPMethod,
        target: String,
        minorVersion: Int = 1,
        headers: HTTPHeaders = .init(),
        body: [UInt8] = [],
        keepAlive: Bool = true,
        trailers: HTTPHeaders = .init()
    ) {
        self.trailers = trailers
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
    }
}
