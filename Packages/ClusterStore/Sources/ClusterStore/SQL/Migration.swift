/// One schema step: a stable identifier (never renamed once shipped) and the SQL that performs it.
public struct Migration: Sendable, Hashable {
    public let id: String
    /// One or more statements, run with `Connection.execute(_:)`.
    public let sql: String

    public init(id: String, sql: String) {
        self.id = id
        self.sql = sql
    }
}
