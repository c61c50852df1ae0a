/// An HTTP request method. Methods are case-sensitive tokens; the common ones are static members.
public struct HTTPMethod: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public static let get = HTTPMethod("GET")
    public static let post = HTTPMethod("POST")
    public static let put = HTTPMethod("PUT")
    public static let delete = HTTPMethod("DELETE")
    public static let head = HTTPMethod("HEAD")
    public static let patch = HTTPMethod("PATCH")
    public static let options = HTTPMethod("OPTIONS")

    public var description: String { rawValue }

    /// GET, HEAD, PUT, DELETE and OPTIONS: repeating the request has the same effect as sending it once
    /// (RFC 9110 9.2.2), so `HTTPClient` may retry them after a connection failure.
    public var isIdempotent: Bool {
        self == .get || self == .head || self == .put || self == .delete || self == .options
    }
}
