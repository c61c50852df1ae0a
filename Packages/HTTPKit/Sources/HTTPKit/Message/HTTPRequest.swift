/// A complete request as handlers see it: decoded path and query, headers and the whole body.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The percent-decoded path, without the query.
    public var path: String
    /// Percent-decoded query parameters ('+' is a space); for repeated names the last one wins.
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Filled by `Router` from `{name}` segments of the matched pattern.
    public var pathParameters: [String: String]
    /// The peer as "ip:port" ("[v6]:port" for IPv6); empty for in-process requests.
    public var remoteAddress: String
    /// The subject common name of the client's TLS certificate, verified against the server's client CA
    /// (mTLS); nil over plain HTTP or when the client sent no certificate.
    public var clientCertificateSubject: String?

    public init(
        method: HTTPMethod,
        path: String,
        query: [String: String] = [:],
        headers: HTTPHeaders = .init(),
        body: [UInt8] = [],
        remoteAddress: String = ""
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.pathParameters = [:]
        self.remoteAddress = remoteAddress
    }

    /// The token of an "Authorization: Bearer <token>" header (scheme case-insensitive), or nil.
    public var bearerToken: String? {
        guard let value = headers["Authorization"] else { return nil }
        let parts = trimmed(Substring(value)).split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, HTTPHeaders.sameName(parts[0], "Bearer") else { return nil }
        let token = trimmed(parts[1])
        return token.isEmpty ? nil : String(token)
    }
}
