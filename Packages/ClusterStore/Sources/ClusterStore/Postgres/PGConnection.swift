internal import CPostgres
import Glibc

/// One PostgreSQL connection through libpq: the only type (with `PGResult`) that calls into it.
///
/// Statements are written with `?` placeholders, as for SQLite, and prepared once per connection as `$1`, `$2`...
/// (`PGPlaceholders`); values always travel as bound parameters. Every call blocks its thread until the server
/// answers: the owner confines the connection to one thread or actor, as with SQLite's `Connection`.
///
/// A lost connection is reopened before the next statement that is not inside a transaction; a statement the
/// server may have received is never sent again (its outcome is unknown: the caller decides, see
/// `StoreError.outcomeUnknown`). With a `fence` set, every top-level transaction first proves that this
/// connection's owner is still the leader (`PGFence`): a deposed leader's transaction is refused by the database.
public final class PGConnection: SQLConnection {
    public var engine: SQLEngine { .postgres }
    public let settings: PGSettings
    private var handle: OpaquePointer?
    /// Prepared statements of the current session, by SQL text.
    private var prepared: [String: String] = [:]
    private var preparedCount = 0
    public var savepointLevel = 0
    /// Between this connection's BEGIN and its COMMIT or ROLLBACK: a connection lost meanwhile is not reopened
    /// for the rest of that transaction's statements (they would run outside it).
    private var transactionOpen = false
    public private(set) var changes = 0
    /// The leader epoch every top-level transaction must still hold (nil: no check, a single controller).
    public var fence: PGFence?
    /// How many times the connection was reopened after it was lost.
    public private(set) var reconnects = 0

    public init(_ settings: PGSettings) throws(StoreError) {
        self.settings = settings
        try connect()
    }

    deinit { PQfinish(handle) }

    private func connect() throws(StoreError) {
        PQfinish(handle)
        handle = nil
        prepared = [:]
        let parameters = settings.parameters
        let connection = Self.withCStrings(parameters.map(\.0)) { keywords in
            Self.withCStrings(parameters.map(\.1)) { values in PQconnectdbParams(keywords, values, 1) }
        }
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { Self.message(PQerrorMessage($0)) } ?? "out of memory"
            PQfinish(connection)
            throw StoreError(
                code: .cantOpen,
                message: "cannot connect to PostgreSQL at \(settings.redacted): \(message)",
                connectionLost: true
            )
        }
        // Notices ("relation already exists, skipping") would go to stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        handle = connection
        for sql in settings.sessionSQL { try execute(sql) }
    }

    /// The live session, reopened first when it was lost outside a transaction.
    private func session() throws(StoreError) -> OpaquePointer {
        if let handle, PQstatus(handle) == CONNECTION_OK { return handle }
        guard !transactionOpen else {
            throw StoreError(
                code: .ioError,
                message: "the connection to PostgreSQL was lost in a transaction (the server rolled it back)",
                connectionLost: true
            )
        }
        try connect()
        reconnects += 1
        guard let handle else { preconditionFailure("connect() sets the handle") }
        return handle
    }

    public var isInTransaction: Bool { transactionOpen }

    /// READ COMMITTED: the controller is the only writer of its rows (the fence makes sure), and the fence's
    /// row lock orders its transactions against a takeover (docs/architecture.md, "Several controllers").
    public func begin(_ kind: TransactionKind) throws(StoreError) {
        guard kind != .snapshot else {
            // A read of one state (a standby's copy of the cluster): nothing to fence, as it writes nothing.
            try run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            transactionOpen = true
            return
        }
        try run("BEGIN ISOLATION LEVEL READ COMMITTED")
        transactionOpen = true
        guard let fence else { return }
        do throws(StoreError) {
            try fence.check(self)
        } catch {
            try? run("ROLLBACK")  // the transaction never began for the caller, who rolls nothing back
            throw error
        }
    }

    public func execute(_ sql: String) throws(StoreError) {
        let result = PGResult(PQexec(try session(), sql))
        try check(result, sql: sql)
    }

    public func run(_ sql: String, _ bindings: [SQLValue]) throws(StoreError) {
        // Outside a transaction a fenced connection writes in one of its own, so that the fence covers it too.
        if fence != nil && !isInTransaction && !Self.isTransactionControl(sql) {
            return try inTransaction(
                .immediate,
                wrap: { $0 },
                body: { () throws(StoreError) in try run(sql, bindings) }
            )
        }
        let ends = sql == "COMMIT" || sql == "ROLLBACK"
        if sql == "ROLLBACK" && handle.map({ PQstatus($0) != CONNECTION_OK }) ?? true {
            transactionOpen = false  // the server rolled back when it lost the session
            return
        }
        defer { if ends { transactionOpen = false } }
        let result = try exec(sql, bindings)
        changes = Int(Self.message(PQcmdTuples(result.handle))) ?? 0
        if sql == "COMMIT" && Self.message(PQcmdStatus(result.handle)) != "COMMIT" {
            throw StoreError(code: .abort, message: "the transaction had failed and was rolled back", sql: sql)
        }
    }

    public func query(_ sql: String, _ bindings: [SQLValue]) throws(StoreError) -> [Row] {
        try exec(sql, bindings).rows()
    }

    public func queryOne(_ sql: String, _ bindings: [SQLValue]) throws(StoreError) -> Row? {
        try exec(sql, bindings).rows(limit: 1).first
    }

    /// The rows are all read before `body` sees the first, so `body` may use this connection.
    public func streamRows(_ sql: String, _ bindings: [SQLValue], _ body: (Row) throws -> Bool) throws {
        for row in try query(sql, bindings) {
            guard try body(row) else { return }
        }
    }

    private static func isTransactionControl(_ sql: String) -> Bool {
        ["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"].contains { sql.hasPrefix($0) }
    }

    private func exec(_ sql: String, _ bindings: [SQLValue]) throws(StoreError) -> PGResult {
        do {
            return try execPrepared(sql, bindings)
        } catch let error where error.sqlState == "0A000" || error.sqlState == "26000" {
            // A migration changed a table a cached plan reads ("cached plan must not change result type"), or
            // the server lost the statement: the statement did nothing; prepare it again.
            prepared[sql] = nil
            return try execPrepared(sql, bindings)
        }
    }

    private func execPrepared(_ sql: String, _ bindings: [SQLValue]) throws(StoreError) -> PGResult {
        let connection = try session()
        let name = try statementName(sql, connection)
        let parameters = try PGParameters(bindings, sql: sql)
        let result = parameters.withPointers { values, lengths, formats in
            PGResult(PQexecPrepared(connection, name, Int32(bindings.count), values, lengths, formats, 0))
        }
        try check(result, sql: sql)
        return result
    }

    private func statementName(_ sql: String, _ connection: OpaquePointer) throws(StoreError) -> String {
        if let name = prepared[sql] { return name }
        preparedCount += 1
        let name = "corral_\(preparedCount)"
        let result = PGResult(PQprepare(connection, name, PGPlaceholders.numbered(sql), 0, nil))
        try check(result, sql: sql)
        prepared[sql] = name
        return name
    }

    private func check(_ result: PGResult, sql: String) throws(StoreError) {
        switch result.status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY: return
        default:
            let lost = handle.map { PQstatus($0) != CONNECTION_OK } ?? true
            let message = result.handle.map { Self.message(PQresultErrorMessage($0)) } ?? ""
            let fallback = handle.map { Self.message(PQerrorMessage($0)) } ?? "no connection"
            throw StoreError(
                postgres: result.sqlState,
                message: message.isEmpty ? fallback : message,
                sql: sql,
                connectionLost: lost,
                duringCommit: sql == "COMMIT"
            )
        }
    }

    static func message(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "" }
        var message = String(cString: text)
        while message.last?.isNewline == true { message.removeLast() }
        return message
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { body($0) }
        }
    }
}

@available(*, unavailable)
extension PGConnection: Sendable {}
