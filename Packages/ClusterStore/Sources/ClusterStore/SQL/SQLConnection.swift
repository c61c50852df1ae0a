/// Which database engine a connection speaks to.
public enum SQLEngine: String, Sendable, CaseIterable {
    case sqlite
    case postgres
}

/// What the cluster's tables need of a database connection, met by SQLite's `Connection` and `PGConnection`:
/// statements with bound parameters (`?`, whatever the engine), rows as `Row`, and transactions that nest as
/// savepoints. Not Sendable: one owner confines a connection to one thread or actor.
public protocol SQLConnection: AnyObject {
    var engine: SQLEngine { get }
    /// Runs one or more `;`-separated statements that take no parameters (schema). Result rows are ignored.
    func execute(_ sql: String) throws(StoreError)
    /// Runs one statement with bound parameters to completion, ignoring any rows.
    func run(_ sql: String, _ bindings: [SQLValue]) throws(StoreError)
    /// Runs one statement and collects every row.
    func query(_ sql: String, _ bindings: [SQLValue]) throws(StoreError) -> [Row]
    /// Runs one statement and returns its first row, if any.
    func queryOne(_ sql: String, _ bindings: [SQLValue]) throws(StoreError) -> Row?
    /// Hands the rows of one statement to `body`, stopping once it returns false. `body` may use this connection.
    func streamRows(_ sql: String, _ bindings: [SQLValue], _ body: (Row) throws -> Bool) throws
    /// Rows changed by the most recent INSERT, UPDATE or DELETE.
    var changes: Int { get }
    /// Whether a transaction is open.
    var isInTransaction: Bool { get }
    /// Open savepoints, for unique savepoint names (`SQLConnection+Transaction.swift`).
    var savepointLevel: Int { get set }
    /// Opens a top-level transaction (`transaction` calls it; a savepoint inside one).
    func begin(_ kind: TransactionKind) throws(StoreError)
}

extension SQLConnection {
    public func run(_ sql: String) throws(StoreError) { try run(sql, []) }

    public func query(_ sql: String) throws(StoreError) -> [Row] { try query(sql, []) }

    public func queryOne(_ sql: String) throws(StoreError) -> Row? { try queryOne(sql, []) }

    /// Streams every row of one statement to `body`; an error from `body` stops the iteration.
    public func forEachRow(_ sql: String, _ bindings: [SQLValue] = [], _ body: (Row) throws -> Void) throws {
        try streamRows(sql, bindings) { row in
            try body(row)
            return true
        }
    }
}
