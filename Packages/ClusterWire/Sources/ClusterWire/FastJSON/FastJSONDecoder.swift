internal import FoundationEssentials

/// Decodes a `FastJSON.Value` as Foundation's JSONDecoder with `.convertFromSnakeCase` would, or throws
/// (`FastJSON.Unsupported`, or whatever a type's own `init(from:)` throws) so that the caller asks Foundation.
/// Coding paths are not kept: an error is always Foundation's to report.
extension FastJSON {
    /// One decoding: whether it gave up anywhere (threw `Unsupported`, where Foundation might have read the
    /// value). A type's `init(from:)` may catch that (`try?`) and carry on with a value of its own, which
    /// Foundation, that would not have thrown, might not choose: a decoding that gave up anywhere is not used,
    /// even when it returned.
    /// A failure Foundation has too (a string where a number goes, a missing key, a list that ended): a type
    /// that catches it and carries on does what it would do under Foundation, so it does not stop the fast path.
    struct Mismatch: Error {}

    final class Session {
        var gaveUp = false
        /// Encoding: the scalars' text (`FastJSONEncoderContainers`).
        var text: [UInt8] = []

        func giveUp() -> Unsupported {
            gaveUp = true
            return Unsupported()
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        let session = Session()
        let value = try decode(type, parse(bytes), session)
        guard !session.gaveUp else { throw Unsupported() }
        return value
    }

    static func decode<T: Decodable>(_ type: T.Type, _ value: Value, _ session: Session) throws -> T {
        // Foundation has strategies of its own for these; they are not on the wire.
        if type == Date.self || type == Data.self || type == URL.self || type == Decimal.self {
            throw session.giveUp()
        }
        // [String: V] keeps its keys as sent (Foundation does not convert a dictionary's keys either).
        if let dictionary = type as? any StringKeyedDictionary.Type {
            guard case .object(let members) = value else { throw Mismatch() }
            return try dictionary.fastDecode(members, session) as! T
        }
        return try T(from: ValueDecoder(value: value, session: session))
    }

    struct ValueDecoder: Decoder {
        let value: Value
        let session: Session
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            guard case .object(let members) = value else { throw Mismatch() }
            return KeyedDecodingContainer(try Keyed<Key>(members, session))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            guard case .array(let items) = value else { throw Mismatch() }
            return Unkeyed(items: items, session: session)
        }

        func singleValueContainer() throws -> any SingleValueDecodingContainer {
            Single(value: value, session: session)
        }
    }

    /// A scalar the way JSONDecoder reads it, for what it reads the same way every time: integers from plain
    /// integer text, Doubles from any JSON number, Strings and Bools as they are.
    static func scalar<T: Decodable>(_ type: T.Type, _ value: Value, _ session: Session) throws -> T {
        switch value {
        case .string(let text) where type == String.self: return text as! T
        case .bool(let flag) where type == Bool.self: return flag as! T
        case .number(let text):
            if type == Double.self, let number = Double(text), number.isFinite { return number as! T }
            if let integer = type as? any FixedWidthInteger.Type {
                if let number = integer.init(text, radix: 10) { return number as! T }
                // Plain integer text that does not fit fails in Foundation too; "1.0" or "1e2" it reads its way.
                if text.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) }) { throw Mismatch() }
            }
            throw session.giveUp()
        case .string, .bool, .null, .array, .object:
            // A JSON kind the type cannot be read from: Foundation fails as well.
            guard type == Double.self || type == String.self || type == Bool.self || type is any FixedWidthInteger.Type
            else { throw session.giveUp() }
            throw Mismatch()
        }
    }

    struct Single: SingleValueDecodingContainer {
        let value: Value
        let session: Session
        var codingPath: [any CodingKey] { [] }

        func decodeNil() -> Bool {
            if case .null = value { return true }
            return false
        }

        func decode(_ type: Bool.Type) throws -> Bool { try scalar(type, value, session) }
        func decode(_ type: String.Type) throws -> String { try scalar(type, value, session) }
        func decode(_ type: Double.Type) throws -> Double { try scalar(type, value, session) }
        func decode(_ type: Float.Type) throws -> Float { throw session.giveUp() }
        func decode(_ type: Int.Type) throws -> Int { try scalar(type, value, session) }
        func decode(_ type: Int8.Type) throws -> Int8 { try scalar(type, value, session) }
        func decode(_ type: Int16.Type) throws -> Int16 { try scalar(type, value, session) }
        func decode(_ type: Int32.Type) throws -> Int32 { try scalar(type, value, session) }
        func decode(_ type: Int64.Type) throws -> Int64 { try scalar(type, value, session) }
        func decode(_ type: UInt.Type) throws -> UInt { try scalar(type, value, session) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try scalar(type, value, session) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try scalar(type, value, session) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try scalar(type, value, session) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try scalar(type, value, session) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try FastJSON.decode(type, value, session) }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        /// Keys as JSONDecoder converts them from snake_case; a small object is searched, a large one indexed.
        let members: [(key: String, value: Value)]
        let index: [String: Int]?
        let session: Session
        var codingPath: [any CodingKey] { [] }

        init(_ raw: [(key: String, value: Value)], _ session: Session) throws {
            self.session = session
            var converted: [(key: String, value: Value)] = []
            converted.reserveCapacity(raw.count)
            for member in raw {
                guard let key = try? camelCase(member.key) else { throw session.giveUp() }
                converted.append((key, member.value))
            }
            members = converted
            if converted.count > 16 {
                var index: [String: Int] = [:]
                for (position, member) in converted.enumerated() {
                    // Two keys that convert alike: Foundation's pick is its own business.
                    guard index.updateValue(position, forKey: member.key) == nil else { throw session.giveUp() }
                }
                self.index = index
            } else {
                for (position, member) in converted.enumerated()
                where converted[..<position].contains(where: { $0.key == member.key }) {
                    throw session.giveUp()
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
            guard let value = find(key) else { throw Mismatch() }
            return value
        }

        var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }
        func contains(_ key: Key) -> Bool { find(key) != nil }

        func decodeNil(forKey key: Key) throws -> Bool {
            if case .null = try value(key) { return true }
            return false
        }

        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try scalar(type, value(key), session) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try scalar(type, value(key), session) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try scalar(type, value(key), session) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw session.giveUp() }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try scalar(type, value(key), session) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try scalar(type, value(key), session) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try scalar(type, value(key), session) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try scalar(type, value(key), session) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try scalar(type, value(key), session) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try scalar(type, value(key), session) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try scalar(type, value(key), session) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try scalar(type, value(key), session) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try scalar(type, value(key), session) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try scalar(type, value(key), session) }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try FastJSON.decode(type, value(key), session)
        }

        func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type,
            forKey key: Key
        ) throws -> KeyedDecodingContainer<NestedKey> {
            try ValueDecoder(value: value(key), session: session).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try ValueDecoder(value: value(key), session: session).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder { throw session.giveUp() }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw session.giveUp() }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let items: [Value]
        let session: Session
        var currentIndex = 0
        var codingPath: [any CodingKey] { [] }
        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }

        mutating func next() throws -> Value {
            guard currentIndex < items.count else { throw Mismatch() }
            defer { currentIndex += 1 }
            return items[currentIndex]
        }

        mutating func decodeNil() throws -> Bool {
            guard currentIndex < items.count else { throw Mismatch() }
            guard case .null = items[currentIndex] else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode(_ type: Bool.Type) throws -> Bool { try scalar(type, next(), session) }
        mutating func decode(_ type: String.Type) throws -> String { try scalar(type, next(), session) }
        mutating func decode(_ type: Double.Type) throws -> Double { try scalar(type, next(), session) }
        mutating func decode(_ type: Float.Type) throws -> Float { throw session.giveUp() }
        mutating func decode(_ type: Int.Type) throws -> Int { try scalar(type, next(), session) }
        mutating func decode(_ type: Int8.Type) throws -> Int8 { try scalar(type, next(), session) }
        mutating func decode(_ type: Int16.Type) throws -> Int16 { try scalar(type, next(), session) }
        mutating func decode(_ type: Int32.Type) throws -> Int32 { try scalar(type, next(), session) }
        mutating func decode(_ type: Int64.Type) throws -> Int64 { try scalar(type, next(), session) }
        mutating func decode(_ type: UInt.Type) throws -> UInt { try scalar(type, next(), session) }
        mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try scalar(type, next(), session) }
        mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try scalar(type, next(), session) }
        mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try scalar(type, next(), session) }
        mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try scalar(type, next(), session) }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try FastJSON.decode(type, next(), session) }

        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type
        ) throws -> KeyedDecodingContainer<NestedKey> {
            try ValueDecoder(value: next(), session: session).container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            try ValueDecoder(value: next(), session: session).unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Decoder { throw session.giveUp() }
    }
}

/// `[String: V]`, which JSONDecoder decodes with its keys as sent.
protocol StringKeyedDictionary {
    static func fastDecode(
        _ members: [(key: String, value: FastJSON.Value)],
        _ session: FastJSON.Session
    ) throws -> Self
}

extension Dictionary: StringKeyedDictionary where Key == String, Value: Decodable {
    static func fastDecode(
        _ members: [(key: String, value: FastJSON.Value)],
        _ session: FastJSON.Session
    ) throws -> Self {
        var result: [String: Value] = [:]
        result.reserveCapacity(members.count)
        for member in members {
            // A repeated key was refused before decoding (DuplicateKeys); one here is not ours to resolve.
            guard result.updateValue(try FastJSON.decode(Value.self, member.value, session), forKey: member.key) == nil
            else { throw session.giveUp() }
        }
        return result
    }
}
