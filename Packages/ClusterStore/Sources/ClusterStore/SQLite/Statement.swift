internal import CSQLite

/// A prepared `sqlite3_stmt`, owned by one `Connection` and used only on its thread.
///
/// Life cycle: `prepare` once, then per use `begin(bindings:)` (reset + clear + bind), `step` until done, `end()`
/// (reset, so no read transaction stays open while the statement sits in the cache). `deinit` finalizes.
final class Statement {
    let sql: String
    private var handle: OpaquePointer?
    private let connection: OpaquePointer
    /// Set while a caller is stepping through it, so a re-entrant use of the same SQL gets its own statement.
    var isInUse = false

    /// Prepares exactly one statement; `sql` holding more than one (other than trailing `;` and spaces) is an error.
    init(connection: OpaquePointer, sql: String) throws(StoreError) {
        self.connection = connection
        self.sql = sql
        var statement: OpaquePointer?
        // `tail` points into the C string, so it is only read inside withCString: a String passed directly is
        // bridged to a temporary buffer that is gone when the call returns (and reading it there is a
        // use-after-free that failed under load).
        let (code, hasMore) = sql.withCString { text -> (Int32, Bool) in
            var tail: UnsafePointer<CChar>?
            let code = sqlite3_prepare_v3(connection, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
            return (code, tail.map { !Statement.isBlank($0) } ?? false)
        }
        guard code == SQLITE_OK else {
            sqlite3_finalize(statement)
            throw StoreError(code: ResultCode(rawValue: code), message: Statement.message(connection), sql: sql)
        }
        guard let statement else {
            throw StoreError(code: .misuse, message: "the SQL holds no statement", sql: sql)
        }
        handle = statement
        if hasMore {
            finalize()
            throw StoreError(
                code: .misuse,
                message: "run/query take exactly one statement; use execute(_:) for several",
                sql: sql
            )
        }
    }

    deinit {
        finalize()
    }

    /// Idempotent; the connection calls it for every cached statement before closing.
    func finalize() {
        sqlite3_finalize(handle)
        handle = nil
    }

    private var statement: OpaquePointer {
        guard let handle else { preconditionFailure("statement used after finalize: \(sql)") }
        return handle
    }

    var columnNames: [String] {
        (0..<sqlite3_column_count(statement)).map { column in
            sqlite3_column_name(statement, column).map { String(cString: $0) } ?? ""
        }
    }

    func begin(bindings: [SQLValue]) throws(StoreError) {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard expected == bindings.count else {
            throw StoreError(
                code: .range,
                message: "the statement has \(expected) parameter(s) but \(bindings.count) value(s) were bound",
                sql: sql
            )
        }
        for (offset, value) in bindings.enumerated() {
            let code = bind(value, at: Int32(offset + 1))
            guard code == SQLITE_OK else {
                throw error(code)
            }
        }
    }

    private func bind(_ value: SQLValue, at index: Int32) -> Int32 {
        switch value {
        case .null:
            return sqlite3_bind_null(statement, index)
        case .integer(let integer):
            return sqlite3_bind_int64(statement, index, integer)
        case .real(let real):
            return sqlite3_bind_double(statement, index, real)
        case .text(let text):
            // Bound by byte count, not as a C string, so text with NUL characters survives. An empty string is
            // bound from a static "" because a nil pointer would bind NULL.
            var text = text
            return text.withUTF8 { bytes in
                guard let base = bytes.baseAddress, !bytes.isEmpty else {
                    return sqlite3_bind_text(statement, index, "", 0, csqlite_transient())
                }
                return sqlite3_bind_text64(
                    statement,
                    index,
                    UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self),
                    UInt64(bytes.count),
                    csqlite_transient(),
                    UInt8(SQLITE_UTF8)
                )
            }
        case .blob(let bytes):
            // An empty blob must be bound as a zero-length blob: a nil pointer would bind NULL.
            return bytes.withUnsafeBytes { raw in
                guard let base = raw.baseAddress, !raw.isEmpty else {
                    return sqlite3_bind_zeroblob(statement, index, 0)
                }
                return sqlite3_bind_blob64(statement, index, base, UInt64(raw.count), csqlite_transient())
            }
        }
    }

    /// `true` when a row is available, `false` when done.
    func step() throws(StoreError) -> Bool {
        let code = sqlite3_step(statement)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw error(code)
        }
    }

    func row(columnNames: [String], indexByName: [String: Int]) -> Row {
        let values = (0..<Int32(columnNames.count)).map(value)
        return Row(columnNames: columnNames, indexByName: indexByName, values: values)
    }

    private func value(at column: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            // column_text before column_bytes, as the SQLite docs require; decoding by length keeps NUL characters.
            guard let text = sqlite3_column_text(statement, column) else { return .text("") }
            let count = Int(sqlite3_column_bytes(statement, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            guard let blob = sqlite3_column_blob(statement, column) else { return .blob([]) }
            let count = Int(sqlite3_column_bytes(statement, column))
            return .blob(Array(UnsafeRawBufferPointer(start: blob, count: count)))
        default:
            return .null
        }
    }

    /// Resets without clearing bindings; the next `begin` clears them.
    func end() {
        if let handle {
            sqlite3_reset(handle)
        }
    }

    private func error(_ code: Int32) -> StoreError {
        StoreError(code: ResultCode(rawValue: code), message: Statement.message(connection), sql: sql)
    }

    static func message(_ connection: OpaquePointer?) -> String {
        sqlite3_errmsg(connection).map { String(cString: $0) } ?? "unknown error"
    }

    private static func isBlank(_ tail: UnsafePointer<CChar>) -> Bool {
        var cursor = tail
        while cursor.pointee != 0 {
            switch UInt8(bitPattern: cursor.pointee) {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: ";"):
                cursor += 1
            default:
                return false
            }
        }
        return true
    }
}

@available(*, unavailable)
extension Statement: Sendable {}
