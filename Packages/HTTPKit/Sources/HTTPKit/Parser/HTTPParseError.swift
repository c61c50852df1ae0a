/// Why a request could not be parsed, and the status the server answers with before closing.
public struct HTTPParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The request line is not `METHOD SP origin-form SP HTTP/1.x`.
        public static let malformedRequestLine = Kind("malformedRequestLine")
        /// A header line is not `token ":" OWS value OWS`, uses obsolete line folding or control bytes.
        public static let malformedHeader = Kind("malformedHeader")
        /// Content-Length is not a decimal number, or several values disagree.
        public static let invalidContentLength = Kind("invalidContentLength")
        /// Both Transfer-Encoding and Content-Length are present (a request-smuggling vector).
        public static let conflictingFraming = Kind("conflictingFraming")
        /// The request line and headers exceed `maxHeaderBytes`.
        public static let headersTooLarge = Kind("headersTooLarge")
        /// The declared body exceeds `maxBodyBytes`.
        public static let bodyTooLarge = Kind("bodyTooLarge")
        /// A transfer coding other than chunked (gzip, deflate, unknown ones) precedes the final chunked (501).
        public static let unsupportedTransferEncoding = Kind("unsupportedTransferEncoding")
        /// Transfer-Encoding whose final coding is not chunked, chunked applied twice, an empty value, or
        /// Transfer-Encoding in an HTTP/1.0 request: the body length cannot be determined (400).
        public static let invalidTransferEncoding = Kind("invalidTransferEncoding")
        /// A chunked body with a bad chunk size, extension or line ending.
        public static let invalidChunkedEncoding = Kind("invalidChunkedEncoding")
        /// An HTTP/1.1 request without exactly one Host field, or with a malformed one.
        public static let invalidHost = Kind("invalidHost")
        /// The request line exceeds `maxRequestLineBytes` (414).
        public static let requestLineTooLong = Kind("requestLineTooLong")
        /// An HTTP version other than 1.0 or 1.1.
        public static let unsupportedVersion = Kind("unsupportedVersion")

        public var description: String { name }
    }

    public let kind: Kind
    public let detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(kind): \(detail)" }

    /// The status the server answers with (then it closes the connection).
    public var status: HTTPStatus {
        switch kind {
        case .headersTooLarge: .requestHeaderFieldsTooLarge
        case .bodyTooLarge: .payloadTooLarge
        case .requestLineTooLong: .uriTooLong
        case .unsupportedTransferEncoding: .notImplemented
        case .unsupportedVersion: .httpVersionNotSupported
        default: .badRequest
        }
    }

    /// The error envelope's code.
    var envelopeCode: String {
        switch kind {
        case .headersTooLarge: "headers_too_large"
        case .bodyTooLarge: "payload_too_large"
        case .requestLineTooLong: "uri_too_long"
        case .unsupportedTransferEncoding: "not_implemented"
        case .unsupportedVersion: "http_version_not_supported"
        default: "bad_request"
        }
    }
}
