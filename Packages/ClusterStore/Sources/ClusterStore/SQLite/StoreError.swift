/// An error from SQLite or from misuse of this layer: the result code, SQLite's message, and the SQL that failed.
///
/// The bound values are deliberately not included: they may hold secrets and end up in logs.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// Extended where SQLite provides one; match families with `~=` (`case .constraint`).
    public let code: ResultCode
    public let message: String
    public let sql: String?

    public init(code: ResultCode, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    public var description: String {
        var text = "SQLite error \(code): \(message)"
        if let sql {
            text += " [SQL: \(sql)]"
        }
        return text
    }
}
