/// A request that got no HTTP response. (A response with an error status is not an error here.)
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// Refused, unreachable, or the name did not resolve.
        public static let couldNotConnect = Code("couldNotConnect")
        /// The connect or request timeout elapsed.
        public static let timedOut = Code("timedOut")
        /// TLS handshake or certificate verification failed.
        public static let tls = Code("tls")
        /// The base URL or path does not form a usable http(s) URL.
        public static let invalidURL = Code("invalidURL")
        /// Anything else on the way (reset, bad response, ...).
        public static let transfer = Code("transfer")

        public var description: String { name }
    }

    public let code: Code
    /// The cause alone, e.g. "Connection refused".
    public let message: String
    /// The full URL of the request.
    public let url: String
    /// The connection failed (refused, unreachable, or closed or reset before a complete response): an
    /// idempotent request may be retried.
    var isConnectionFailure = false

    public init(code: Code, message: String, url: String) {
        self.code = code
        self.message = message
        self.url = url
    }

    /// A sentence for humans, e.g. "cannot connect to http://127.0.0.1:8700/v1/jobs: Connection refused".
    public var description: String {
        switch code {
        case .couldNotConnect: "cannot connect to \(url): \(message)"
        case .timedOut: "request to \(url) timed out: \(message)"
        case .tls: "TLS error talking to \(url): \(message)"
        case .invalidURL: "invalid URL \(url): \(message)"
        default: "request to \(url) failed: \(message)"
        }
    }
}
