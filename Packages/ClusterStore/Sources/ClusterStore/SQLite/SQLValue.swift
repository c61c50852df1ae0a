/// A value stored in or read from an SQLite column, with SQLite's five storage classes.
///
/// Values always reach SQLite as bound parameters, never spliced into SQL text. Note that SQLite stores a NaN
/// `.real` as NULL.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLValue {
    public init(_ value: Int) {
        self = .integer(Int64(value))
    }

    public init(_ value: Int64?) {
        self = value.map(SQLValue.integer) ?? .null
    }

    public init(_ value: String?) {
        self = value.map(SQLValue.text) ?? .null
    }

    /// Booleans are stored as the integers 0 and 1, as SQLite itself does.
    public init(_ value: Bool) {
        self = .integer(value ? 1 : 0)
    }

    public init(_ value: Double?) {
        self = value.map(SQLValue.real) ?? .null
    }

    public init(_ value: [UInt8]?) {
        self = value.map(SQLValue.blob) ?? .null
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The integer value; a `.real` converts only when it is integral and in range.
    public var int64: Int64? {
        switch self {
        case .integer(let value): value
        case .real(let value): Int64(exactly: value)
        case .null, .text, .blob: nil
        }
    }

    /// The integer value if it fits in `Int`.
    public var int: Int? {
        int64.flatMap { Int(exactly: $0) }
    }

    /// The floating-point value; an `.integer` converts (possibly rounding beyond 2^53).
    public var double: Double? {
        switch self {
        case .real(let value): value
        case .integer(let value): Double(value)
        case .null, .text, .blob: nil
        }
    }

    /// `false` for 0, `true` for any other integer.
    public var bool: Bool? {
        int64.map { $0 != 0 }
    }

    public var string: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    public var blob: [UInt8]? {
        if case .blob(let value) = self { return value }
        return nil
    }
}

extension SQLValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) {
        self = .null
    }
}

extension SQLValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) {
        self = .integer(value)
    }
}

extension SQLValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) {
        self = .real(value)
    }
}

extension SQLValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) {
        self = .text(value)
    }
}

extension SQLValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) {
        self.init(value)
    }
}

extension SQLValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .null: "NULL"
        case .integer(let value): String(value)
        case .real(let value): String(value)
        case .text(let value): String(reflecting: value)
        case .blob(let value): "<blob \(value.count) bytes>"
        }
    }
}
