internal import FoundationEssentials

/// Decodes a `FastJSON.Value` as Foundation's JSONDecoder with `.convertFromSnakeCase` would, or throws
/// (`FastJSON.Unsupported`, or whatever a type's own `init(from:)` throws) so that the caller asks Foundation.
/// Coding paths are not kept: an error is always Foundation's to report.
extension FastJSON {
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try decode(type, parse(bytes))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ value: Value) throws -> T {
        // Foundation has strategies of its own for these; they are not on the wire.
        if type == Date.self || type == Data.self || type == URL.self || type == Decimal.self {
            throw Unsupported()
        }
        // [String: V] keeps its keys as sent (Foundation does not convert a dictionary's keys either).
        if let dictionary = type as? any StringKeyedDictionary.Type {
            guard case .object(let members) = value else { throw Unsupported() }
            return try dictionary.fastDecode(members) as! T
        }
        return try T(from: ValueDecoder(value: value))
    }

    struct ValueDecoder: Decoder {
        let value: Value
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            guard case .object(let members) = value else { throw Unsupported() }
            return KeyedDecodingContainer(try Keyed<Key>(members))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            guard case .array(let items) = value else { throw Unsupported() }
            return Unkeyed(items: items)
        }

        func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(value: value) }
    }

    /// A scalar the way JSONDecoder reads it, for what it reads the same way every time: integers from plain
    /// integer text, Doubles from any JSON number, Strings and Bools as they are.
    static func scalar<T: Decodable>(_ type: T.Type, _ value: Value) throws -> T {
        switch value {
        case .string(let text) where type == String.self: return text as! T
        case .bool(let flag) where type == Bool.self: return flag as! T
        case .number(let text):
            if type == Double.self, let number = Double(text), number.isFinite { return number as! T }
            if let integer = type as? any FixedWidthInteger.Type, let number = integer.init(text, radix: 10) {
                return number as! T
            }
            throw Unsupported()
        default: throw Unsupported()
        }
    }

    struct Single: SingleValueDecodingContainer {
        let value: Value
        var codingPath: [any CodingKey] { [] }

        func decodeNil() -> Bool {
            if case .null = value { return true }
            return false
        }

        func decode(_ type: Bool.Type) throws -> Bool { try scalar(type, value) }
        func decode(_ type: String.Type) throws -> String { try scalar(type, value) }
        func decode(_ type: Double.Type) throws -> Double { try scalar(type, value) }
        func decode(_ type: Float.Type) throws -> Float { throw Unsupported() }
        func decode(_ type: Int.Type) throws -> Int { try scalar(type, value) }
        func decode(_ type: Int8.Type) throws -> Int8 { try scalar(type, value) }
        func decode(_ type: Int16.Type) throws -> Int16 { try scalar(type, value) }
        func decode(_ type: Int32.Type) throws -> Int32 { try scalar(type, value) }
        func decode(_ type: Int64.Type) throws -> Int64 { try scalar(type, value) }
        func decode(_ type: UInt.Type) throws -> UInt { try scalar(type, value) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try scalar(type, value) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try scalar(type, value) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try scalar(type, value) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try scalar(type, value) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try FastJSON.decode(type, value) }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        /// Keys as JSONDecoder converts them from snake_case; a small object is searched, a large one indexed.
        let members: [(key: String, value: Value)]
        let index: [String: Int]?
        var codingPath: [any CodingKey] { [] }

        init(_ raw: [(key: String, value: Value)]) throws {
            var converted: [(key: String, value: Value)] = []
            converted.reserveCapacity(raw.count)
            for member in raw { converted.append((try camelCase(member.key), member.value)) }
            members = converted
            if converted.count > 16 {
                var index: [String: Int] = [:]
                for (position, member) in converted.enumerated() {
                    // Two keys that convert alike: Foundation's pick is its own business.
                    guard index.updateValue(position, forKey: member.key) == nil else { throw Unsupported() }
                }
                self.index = index
            } else {
                for (position, member) in converted.enumerated()
                where converted[..<position].contains(where: { $0.key == member.key }) {
                    throw Unsupported()
                }
                index = nil
            }
        }

        func find(_ key: Key) -> Value? {
            let name = key.stringValue
            if let index { return index[name].map { members[$0].value } }
            return members.first { $0.key == name }?.value
        }

        func value(_ key: Key) throws -> Value {
            guard let value = find(key) else { throw Unsupported() }
            return value
        }

        var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }
        func contains(_ key: Key) -> Bool { find(key) != nil }

        func decodeNil(forKey key: Key) throws -> Bool {
            if case .null = try value(key) { return true }
            return false
        }

        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try scalar(type, value(key)) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try scalar(type, value(key)) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try scalar(type, value(key)) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw Unsupported() }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try scalar(type, value(key)) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try scalar(type, value(key)) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try scalar(type, value(key)) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try scalar(type, value(key)) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try scalar(type, value(key)) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try scalar(type, value(key)) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try scalar(type, value(key)) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try scalar(type, value(key)) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try scalar(type, value(key)) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try scalar(type, value(key)) }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try FastJSON.decode(type, value(key)) }

        func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type,
            forKey key: Key
        ) throws -> KeyedDecodingContainer<NestedKey> {
            try ValueDecoder(value: value(key)).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try ValueDecoder(value: value(key)).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder { throw Unsupported() }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw Unsupported() }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let items: [Value]
        var currentIndex = 0
        var codingPath: [any CodingKey] { [] }
        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }

        mutating func next() throws -> Value {
            guard currentIndex < items.count else { throw Unsupported() }
            defer { currentIndex += 1 }
            return items[currentIndex]
        }

        mutating func decodeNil() throws -> Bool {
            guard currentIndex < items.count else { throw Unsupported() }
            guard case .null = items[currentIndex] else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode(_ type: Bool.Type) throws -> Bool { try scalar(type, next()) }
        mutating func decode(_ type: String.Type) throws -> String { try scalar(type, next()) }
        mutating func decode(_ type: Double.Type) throws -> Double { try scalar(type, next()) }
        mutating func decode(_ type: Float.Type) throws -> Float { throw Unsupported() }
        mutating func decode(_ type: Int.Type) throws -> Int { try scalar(type, next()) }
        mutating func decode(_ type: Int8.Type) throws -> Int8 { try scalar(type, next()) }
        mutating func decode(_ type: Int16.Type) throws -> Int16 { try scalar(type, next()) }
        mutating func decode(_ type: Int32.Type) throws -> Int32 { try scalar(type, next()) }
        mutating func decode(_ type: Int64.Type) throws -> Int64 { try scalar(type, next()) }
        mutating func decode(_ type: UInt.Type) throws -> UInt { try scalar(type, next()) }
        mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try scalar(type, next()) }
        mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try scalar(type, next()) }
        mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try scalar(type, next()) }
        mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try scalar(type, next()) }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try FastJSON.decode(type, next()) }

        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type
        ) throws -> KeyedDecodingContainer<NestedKey> {
            try ValueDecoder(value: next()).container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            try ValueDecoder(value: next()).unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Decoder { throw Unsupported() }
    }
}

/// `[String: V]`, which JSONDecoder decodes with its keys as sent.
protocol StringKeyedDictionary {
    static func fastDecode(_ members: [(key: String, value: FastJSON.Value)]) throws -> Self
}

extension Dictionary: StringKeyedDictionary where Key == String, Value: Decodable {
    static func fastDecode(_ members: [(key: String, value: FastJSON.Value)]) throws -> Self {
        var result: [String: Value] = [:]
        result.reserveCapacity(members.count)
        for member in members {
            // A repeated key was refused before decoding (DuplicateKeys); one here is not ours to resolve.
            guard result.updateValue(try FastJSON.decode(Value.self, member.value), forKey: member.key) == nil else {
                throw FastJSON.Unsupported()
            }
        }
        return result
    }
}
