/// A TOML value. Dates and times are not supported (the parser rejects them with a clear error).
public enum TOMLValue: Sendable, Hashable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    case array([TOMLValue])
    case table(TOMLTable)

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The integer as `Int` (64-bit on every platform Corral runs on).
    public var intValue: Int? {
        if case .integer(let value) = self { return Int(exactly: value) }
        return nil
    }

    public var int64Value: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// A float, or an integer read as a float (`timeout = 10` where `10.0` was meant).
    public var doubleValue: Double? {
        switch self {
        case .float(let value): return value
        case .integer(let value): return Double(value)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .boolean(let value) = self { return value }
        return nil
    }

    public var arrayValue: [TOMLValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var tableValue: TOMLTable? {
        if case .table(let value) = self { return value }
        return nil
    }

    /// `string`, `integer`, `float`, `boolean`, `array` or `table`: for error messages such as
    /// "gpus must be an integer, not a string".
    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .array: "array"
        case .table: "table"
        }
    }
}

extension TOMLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    public init(arrayLiteral elements: TOMLValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, TOMLValue)...) {
        var table = TOMLTable()
        for (key, value) in elements { table.set(key, value) }
        self = .table(table)
    }
}

/// A TOML table: keys in the order they were first set (parse order, or `set` order).
///
/// Equality ignores the order, as TOML does: two tables are equal when they have the same keys with equal
/// values. `TOML.render` writes plain values before sub-tables, so `parse(render(x)) == x` holds even
/// though the order of keys may differ.
public struct TOMLTable: Sendable, Hashable {
    public private(set) var keys: [String] = []
    private var storage: [String: TOMLValue] = [:]

    public init() {}

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Reading gives the value or nil; writing replaces in place, adds at the end, or (nil) removes.
    public subscript(_ key: String) -> TOMLValue? {
        get { storage[key] }
        set {
            if let newValue {
                set(key, newValue)
            } else {
                remove(key)
            }
        }
    }

    /// Sets `key`, keeping its position when it already exists.
    public mutating func set(_ key: String, _ value: TOMLValue) {
        if storage.updateValue(value, forKey: key) == nil {
            keys.append(key)
        }
    }

    public mutating func remove(_ key: String) {
        if storage.removeValue(forKey: key) != nil {
            keys.removeAll { $0 == key }
        }
    }

    /// The value at a path of keys through nested tables: `table.value(at: ["agent", "gpus"])`.
    public func value(at path: [String]) -> TOMLValue? {
        guard let first = path.first, let value = storage[first] else { return nil }
        if path.count == 1 { return value }
        return value.tableValue?.value(at: Array(path.dropFirst()))
    }

    /// Key and value pairs in key order.
    public var entries: [(key: String, value: TOMLValue)] {
        keys.compactMap { key in storage[key].map { (key, $0) } }
    }

    public static func == (lhs: TOMLTable, rhs: TOMLTable) -> Bool {
        lhs.storage == rhs.storage
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage)
    }
}

extension TOMLTable: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, TOMLValue)...) {
        for (key, value) in elements { set(key, value) }
    }
}

/// A parse error with the 1-based line it was found on: `line 3: unterminated string`.
public struct TOMLError: Error, Sendable, Hashable, CustomStringConvertible {
    public let line: Int
    public let message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}
