internal import CSQLite

/// An SQLite result code, primary (`SQLITE_CONSTRAINT`) or extended (`SQLITE_CONSTRAINT_UNIQUE`).
///
/// Match with `~=` as in GRDB: a primary pattern matches every extended code of its family, an extended pattern
/// matches only itself. So `case .constraint:` catches a unique violation, `case .constraintUnique:` only that.
/// Connections open with extended result codes on, so `StoreError.code` is extended where SQLite has one.
public struct ResultCode: RawRepresentable, Sendable, Hashable {
    public let rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The primary code: the low 8 bits.
    public var primary: ResultCode {
        ResultCode(rawValue: rawValue & 0xFF)
    }

    public var isPrimary: Bool {
        rawValue == rawValue & 0xFF
    }

    public static func ~= (pattern: ResultCode, code: ResultCode) -> Bool {
        pattern.isPrimary ? pattern == code.primary : pattern == code
    }

    /// Lets `catch ResultCode.constraint` work with typed `throws(StoreError)`.
    public static func ~= (pattern: ResultCode, error: StoreError) -> Bool {
        pattern ~= error.code
    }

    /// Lets `catch ResultCode.busy` work for untyped errors; false for anything but a `StoreError`.
    public static func ~= (pattern: ResultCode, error: any Error) -> Bool {
        guard let error = error as? StoreError else { return false }
        return pattern ~= error.code
    }
}

// Primary result codes.
extension ResultCode {
    public static let ok = ResultCode(rawValue: SQLITE_OK)
    public static let error = ResultCode(rawValue: SQLITE_ERROR)
    public static let `internal` = ResultCode(rawValue: SQLITE_INTERNAL)
    public static let permission = ResultCode(rawValue: SQLITE_PERM)
    public static let abort = ResultCode(rawValue: SQLITE_ABORT)
    public static let busy = ResultCode(rawValue: SQLITE_BUSY)
    public static let locked = ResultCode(rawValue: SQLITE_LOCKED)
    public static let noMemory = ResultCode(rawValue: SQLITE_NOMEM)
    public static let readOnly = ResultCode(rawValue: SQLITE_READONLY)
    public static let interrupt = ResultCode(rawValue: SQLITE_INTERRUPT)
    public static let ioError = ResultCode(rawValue: SQLITE_IOERR)
    public static let corrupt = ResultCode(rawValue: SQLITE_CORRUPT)
    public static let notFound = ResultCode(rawValue: SQLITE_NOTFOUND)
    public static let full = ResultCode(rawValue: SQLITE_FULL)
    public static let cantOpen = ResultCode(rawValue: SQLITE_CANTOPEN)
    public static let `protocol` = ResultCode(rawValue: SQLITE_PROTOCOL)
    public static let schema = ResultCode(rawValue: SQLITE_SCHEMA)
    public static let tooBig = ResultCode(rawValue: SQLITE_TOOBIG)
    public static let constraint = ResultCode(rawValue: SQLITE_CONSTRAINT)
    public static let mismatch = ResultCode(rawValue: SQLITE_MISMATCH)
    public static let misuse = ResultCode(rawValue: SQLITE_MISUSE)
    public static let range = ResultCode(rawValue: SQLITE_RANGE)
    public static let notADatabase = ResultCode(rawValue: SQLITE_NOTADB)
    public static let row = ResultCode(rawValue: SQLITE_ROW)
    public static let done = ResultCode(rawValue: SQLITE_DONE)
}

// Extended result codes this project matches on. Swift does not import sqlite3.h's `(SQLITE_X | (n<<8))` macros,
// so they are spelled as primary code plus number, exactly as the header defines them.
extension ResultCode {
    public static let constraintCheck = ResultCode(.constraint, 1)
    public static let constraintForeignKey = ResultCode(.constraint, 3)
    public static let constraintNotNull = ResultCode(.constraint, 5)
    public static let constraintPrimaryKey = ResultCode(.constraint, 6)
    public static let constraintUnique = ResultCode(.constraint, 8)
    public static let busyRecovery = ResultCode(.busy, 1)
    public static let busySnapshot = ResultCode(.busy, 2)
    public static let busyTimeout = ResultCode(.busy, 3)
    public static let readOnlyDatabaseMoved = ResultCode(.readOnly, 4)

    private init(_ primary: ResultCode, _ extended: Int32) {
        self.init(rawValue: primary.rawValue | extended << 8)
    }
}

extension ResultCode: CustomStringConvertible {
    /// For example `19/2067 (UNIQUE constraint failed)`: primary/extended and SQLite's English text.
    public var description: String {
        let text = String(cString: sqlite3_errstr(rawValue))
        return isPrimary ? "\(rawValue) (\(text))" : "\(primary.rawValue)/\(rawValue) (\(text))"
    }
}
