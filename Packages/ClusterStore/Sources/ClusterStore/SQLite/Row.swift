/// One result row: the values in column order plus the column names, shared by every row of a query.
public struct Row: Sendable, Equatable {
    public let columnNames: [String]
    public let values: [SQLValue]
    /// Column name to index; the leftmost column wins when names repeat. Shared (copy-on-write) by a query's rows.
    private let indexByName: [String: Int]

    public init(columnNames: [String], values: [SQLValue]) {
        precondition(columnNames.count == values.count, "Row needs one name per value")
        self.init(columnNames: columnNames, indexByName: Row.index(columnNames), values: values)
    }

    init(columnNames: [String], indexByName: [String: Int], values: [SQLValue]) {
        self.columnNames = columnNames
        self.indexByName = indexByName
        self.values = values
    }

    static func index(_ columnNames: [String]) -> [String: Int] {
        var index: [String: Int] = [:]
        for (position, name) in columnNames.enumerated() where index[name] == nil {
            index[name] = position
        }
        return index
    }

    public var count: Int {
        values.count
    }

    /// The value at `index`; traps when out of range, like an array.
    public subscript(_ index: Int) -> SQLValue {
        values[index]
    }

    /// The value of the named column (case-sensitive); `.null` when there is no such column, see `hasColumn(_:)`.
    public subscript(_ column: String) -> SQLValue {
        indexByName[column].map { values[$0] } ?? .null
    }

    public func hasColumn(_ column: String) -> Bool {
        indexByName[column] != nil
    }

    public func int(_ column: String) -> Int? {
        self[column].int
    }

    public func int64(_ column: String) -> Int64? {
        self[column].int64
    }

    public func string(_ column: String) -> String? {
        self[column].string
    }

    public func double(_ column: String) -> Double? {
        self[column].double
    }

    public func bool(_ column: String) -> Bool? {
        self[column].bool
    }

    public func blob(_ column: String) -> [UInt8]? {
        self[column].blob
    }

    public static func == (lhs: Row, rhs: Row) -> Bool {
        lhs.columnNames == rhs.columnNames && lhs.values == rhs.values
    }
}

extension Row: CustomStringConvertible {
    public var description: String {
        let pairs = zip(columnNames, values).map { "\($0): \($1)" }
        return "[" + pairs.joined(separator: ", ") + "]"
    }
}
