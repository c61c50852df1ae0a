/// Where and how an `HTTPClient` talks.
public struct HTTPClientConfiguration: Sendable {
    /// Scheme, host and port, e.g. "http://127.0.0.1:8700" (https once TLS lands). Paths are appended.
    public var baseURL: String
    /// Sent as "Authorization: Bearer <token>" on every request.
    public var bearerToken: String?
    public var connectTimeout: Duration = .seconds(5)
    /// The whole request, connect included; `send(timeout:)` overrides it per call.
    public var requestTimeout: Duration = .seconds(30)
    /// CA bundle used to verify the server (CURLOPT_CAINFO).
    public var caFile: String?
    public var userAgent: String = "corral"
    /// How many idle easy handles (each keeping its connection alive) are kept for reuse.
    public var maxIdleHandles: Int = 8

    public init(baseURL: String, bearerToken: String? = nil) {
        self.baseURL = baseURL
        self.bearerToken = bearerToken
    }
}
