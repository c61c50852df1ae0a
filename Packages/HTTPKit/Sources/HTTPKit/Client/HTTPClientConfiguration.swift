/// Where and how an `HTTPClient` talks.
public struct HTTPClientConfiguration: Sendable {
    /// Scheme, host and port, e.g. "http://127.0.0.1:8700" or "https://controller:8700". Paths are appended.
    public var baseURL: String
    /// Sent as "Authorization: Bearer <token>" on every request.
    public var bearerToken: String?
    public var connectTimeout: Duration = .seconds(5)
    /// The whole request, connect included; `send(timeout:)` overrides it per call. Streams (`stream`,
    /// `sendStreaming`) have no total timeout unless given one.
    public var requestTimeout: Duration = .seconds(30)
    /// CA certificates (PEM) that the https server's certificate must chain to (CURLOPT_CAINFO); nil uses
    /// the system's trust store. TLS 1.2 is the minimum either way, and the host name is always verified.
    public var caFile: String?
    /// A client certificate (PEM) for servers that verify clients (mTLS, CURLOPT_SSLCERT).
    public var clientCertificateFile: String?
    /// The client certificate's private key (PEM, CURLOPT_SSLKEY); nil if it is in `clientCertificateFile`.
    public var clientKeyFile: String?
    /// Sent as "User-Agent"; applications name themselves here (servers log it).
    public var userAgent: String = "HTTPKit"
    /// How many idle easy handles (each keeping its connection alive) are kept for reuse.
    public var maxIdleHandles: Int = 8
    /// Extra attempts after a connection failure (refused, unreachable, or closed or reset before a complete
    /// response) for idempotent methods (`HTTPMethod.isIdempotent`). POST and PATCH are never retried; neither
    /// is a request that got a complete response (any status), timed out, or failed TLS. 0 turns retries off.
    public var maxRetries: Int = 0
    /// The wait before the first retry; it doubles for each further one (with jitter: 50-100 % of it),
    /// capped by `maxRetryDelay`.
    public var retryBaseDelay: Duration = .milliseconds(250)
    public var maxRetryDelay: Duration = .seconds(5)
    /// Requests to an http:// URL (`send`, `execute`, `stream`, `sendStreaming`) use HTTPKit's own HTTP/1.1
    /// client instead of libcurl, so a program talking plain HTTP never loads libcurl (issue 16: half of a
    /// `corral submit`, and a fifth of an idle agent's memory). https always uses libcurl.
    public var plainHTTPWithoutCurl = true

    public init(baseURL: String, bearerToken: String? = nil) {
        self.baseURL = baseURL
        self.bearerToken = bearerToken
    }
}
