/// The error envelope of every failed request: `{"error": {"code": "...", "message": "..."}}`.
public struct ErrorEnvelope: Codable, Hashable, Sendable {
    public struct Body: Codable, Hashable, Sendable {
        public var code: String
        public var message: String
    }
    public var error: Body
    public init(code: String, message: String) { error = Body(code: code, message: message) }

    /// The code of an error body; nil when it is not an envelope.
    public static func code(in body: [UInt8]) -> String? {
        (try? WireJSON.decode(ErrorEnvelope.self, from: body))?.error.code
    }

    /// The message of an error body, or its first bytes when it is not an envelope.
    public static func message(in body: [UInt8]) -> String {
        (try? WireJSON.decode(ErrorEnvelope.self, from: body))?.error.message
            ?? String(decoding: body.prefix(300), as: UTF8.self)
    }
}
