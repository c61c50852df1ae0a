internal import CSQLite

/// One SQLite connection: the only type (with `Statement`) that calls into libsqlite3.
///
/// Not `Sendable`: it is opened with `SQLITE_OPEN_NOMUTEX`, so its owner must confine it to one thread or actor,
/// typically an actor whose executor is a `DispatchSerialExecutor`, which keeps disk I/O off the cooperative pool.
///
/// Values are always bound as parameters (`?`); never build SQL text from values.
public final class Connection: SQLConnection {
    public var engine: SQLEngine { .sqlite }
    public let path: String
    /// Internal (not private) only for the `Connection+*.swift` extensions; nothing outside this type uses it.
    let handle: OpaquePointer
    /// Prepared statements keyed by SQL text; see `acquire(_:)`.
    private var statementCache: [String: Statement] = [:]
    /// Statements prepared into the cache since opening: tests check that repeated SQL is not re-prepared.
    private(set) var cachePrepareCount = 0
    /// Open savepoints, for unique savepoint names (`SQLConnection+Transaction.swift`).
    public var savepointLevel = 0
    /// Retains the closure given to `setTrace(_:)` while SQLite holds a pointer to it.
    var traceHandler: TraceHandler?

    /// Statements kept at most; beyond that the idle ones are dropped. Well above the distinct SQL a program issues.
    private static let statementCacheLimit = 512

    /// Opens (creating if needed) the database at `path`; `":memory:"` opens a private in-memory database.
    ///
    /// File databases switch to WAL. Every connection gets `foreign_keys=ON`, the requested `synchronous` level and
    /// busy timeout, defensive mode, and double-quoted string literals disabled (`"x"` is always an identifier).
    public init(path: String, options: Options = .init()) throws(StoreError) {
        var connection: OpaquePointer?
        let access = options.readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        // NOMUTEX: the owner confines the connection to one executor (see the type's documentation).
        let flags = access | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        if !options.readOnly { Self.restrictFileMode(path) }
        let code = sqlite3_open_v2(path, &connection, flags, nil)
        guard code == SQLITE_OK, let connection else {
            // sqlite3_open_v2 may hand back a handle even when it fails; it must still be closed.
            let message = connection.map(Statement.message) ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(connection)
            throw StoreError(code: ResultCode(rawValue: code), message: "cannot open '\(path)': \(message)")
        }
        self.path = path
        self.handle = connection
        // From here on a throw releases self, and deinit closes the handle.
        try configure(options)
    }

    deinit {
        // Finalize first so that close_v2 can close right away instead of leaving a zombie handle.
        for statement in statementCache.values {
            statement.finalize()
        }
        statementCache.removeAll()
        sqlite3_close_v2(handle)
    }

    private func configure(_ options: Options) throws(StoreError) {
        sqlite3_busy_timeout(handle, options.busyTimeoutMilliseconds)
        for (option, value) in [
            (SQLITE_DBCONFIG_DEFENSIVE, Int32(1)), (SQLITE_DBCONFIG_DQS_DML, 0), (SQLITE_DBCONFIG_DQS_DDL, 0),
        ] {
            let code = csqlite_db_config_int(handle, option, value, nil)
            guard code == SQLITE_OK else {
                throw StoreError(code: ResultCode(rawValue: code), message: "sqlite3_db_config(\(option)) failed")
            }
        }
        if !options.readOnly && !isInMemory {
            let mode = try queryOne("PRAGMA journal_mode = WAL")?[0].string
            guard mode?.lowercased() == "wal" else {
                throw StoreError(
                    code: .error,
                    message: "cannot switch '\(path)' to WAL: journal_mode is \(mode ?? "unknown")",
                    sql: "PRAGMA journal_mode = WAL"
                )
            }
        }
        try execute("PRAGMA synchronous = \(options.synchronous.pragmaValue)")
        try execute("PRAGMA foreign_keys = ON")
    }

    private var isInMemory: Bool {
        path == ":memory:" || path.isEmpty
    }

    /// Runs one or more `;`-separated statements that take no parameters (schema, pragmas). Result rows are ignored.
    public func execute(_ sql: String) throws(StoreError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        defer { sqlite3_free(errorMessage) }
        guard code == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? Statement.message(handle)
            throw StoreError(code: ResultCode(rawValue: code), message: message, sql: sql)
        }
    }

    /// Runs one statement with bound parameters to completion, ignoring any rows. The statement is cached.
    public func run(_ sql: String, _ bindings: [SQLValue] = []) throws(StoreError) {
        let statement = try acquire(sql)
        defer { release(statement) }
        try statement.begin(bindings: bindings)
        while try statement.step() {}
    }

    /// Runs one statement and collects every row.
    public func query(_ sql: String, _ bindings: [SQLValue] = []) throws(StoreError) -> [Row] {
        let statement = try acquire(sql)
        defer { release(statement) }
        try statement.begin(bindings: bindings)
        let names = statement.columnNames
        let index = Row.index(names)
        var rows: [Row] = []
        while try statement.step() {
            rows.append(statement.row(columnNames: names, indexByName: index))
        }
        return rows
    }

    /// Runs one statement and returns its first row, if any, without stepping through the rest.
    public func queryOne(_ sql: String, _ bindings: [SQLValue] = []) throws(StoreError) -> Row? {
        let statement = try acquire(sql)
        defer { release(statement) }
        try statement.begin(bindings: bindings)
        guard try statement.step() else { return nil }
        let names = statement.columnNames
        return statement.row(columnNames: names, indexByName: Row.index(names))
    }

    /// Streams the rows of one statement to `body` without building an array, stopping (and reading no further
    /// row) once `body` returns false. `body` may use this connection, including the same SQL (which then gets a
    /// separate statement); an error from `body` stops the iteration.
    public func streamRows(_ sql: String, _ bindings: [SQLValue] = [], _ body: (Row) throws -> Bool) throws {
        let statement = try acquire(sql)
        defer { release(statement) }
        try statement.begin(bindings: bindings)
        let names = statement.columnNames
        let index = Row.index(names)
        while try statement.step() {
            guard try body(statement.row(columnNames: names, indexByName: index)) else { return }
        }
    }

    public func begin(_ kind: TransactionKind) throws(StoreError) { try run(kind.beginSQL) }

    /// The rowid of the most recent successful INSERT on this connection.
    public var lastInsertRowID: Int64 {
        sqlite3_last_insert_rowid(handle)
    }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE.
    public var changes: Int {
        Int(sqlite3_changes64(handle))
    }

    /// Whether a transaction is open (SQLite is not in autocommit mode).
    public var isInTransaction: Bool {
        sqlite3_get_autocommit(handle) == 0
    }

    public var statementCacheCount: Int {
        statementCache.count
    }

    /// Finalizes the cached statements that are not being stepped through.
    public func clearStatementCache() {
        statementCache = statementCache.filter { $0.value.isInUse }
    }

    /// The cached statement for `sql`, or a private one while the cached one is being stepped (re-entrant use).
    private func acquire(_ sql: String) throws(StoreError) -> Statement {
        if let cached = statementCache[sql] {
            if cached.isInUse {
                let statement = try Statement(connection: handle, sql: sql)
                statement.isInUse = true
                return statement
            }
            cached.isInUse = true
            return cached
        }
        let statement = try Statement(connection: handle, sql: sql)
        if statementCache.count >= Connection.statementCacheLimit {
            clearStatementCache()
        }
        statementCache[sql] = statement
        cachePrepareCount += 1
        statement.isInUse = true
        return statement
    }

    /// Resets right away so a finished read does not keep its snapshot (and block WAL checkpoints) while cached.
    private func release(_ statement: Statement) {
        statement.end()
        statement.isInUse = false
    }
}

@available(*, unavailable)
extension Connection: Sendable {}
