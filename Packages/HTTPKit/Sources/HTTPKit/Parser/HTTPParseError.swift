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
        /// Transfer-Encoding bodies (chunked) are not supported yet.
        public static let unsupportedTransferEncoding = Kind("unsupportedTransferEncoding")
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
        case .unsupportedTransferEncoding: "not_implemented"
        case .unsupportedVersion: "http_version_not_supported"
        default: "bad_request"
        }
    }
}
