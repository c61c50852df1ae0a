/// An error from the database or from misuse of this layer: the result code, the engine's message, and the SQL
/// that failed. PostgreSQL's errors carry their SQLSTATE too, mapped to the nearest SQLite family
/// (`StoreError+Postgres.swift`), so callers match one set of codes whatever the engine.
///
/// The bound values are deliberately not included: they may hold secrets and end up in logs.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// Extended where SQLite provides one; match families with `~=` (`case .constraint`).
    public let code: ResultCode
    public let message: String
    public let sql: String?
    /// PostgreSQL's SQLSTATE (`23505`); nil for SQLite.
    public var sqlState: String?
    /// The connection to the server was lost (PostgreSQL): the next statement outside a transaction reconnects.
    public var connectionLost = false
    /// The connection was lost while the server had a COMMIT: whether the transaction was stored is unknown.
    public var outcomeUnknown = false

    public init(code: ResultCode, message: String, sql: String? = nil, connectionLost: Bool = false) {
        self.code = code
        self.message = message
        self.sql = sql
        self.connectionLost = connectionLost
    }

    public var description: String {
        var text =
            if let sqlState { "PostgreSQL error \(sqlState): \(message)" } else if connectionLost { message } else {
                "SQLite error \(code): \(message)"
            }
        if let sql {
            text += " [SQL: \(sql)]"
        }
        return text
    }
}
