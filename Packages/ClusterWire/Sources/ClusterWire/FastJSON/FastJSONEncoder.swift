internal import FoundationEssentials

/// The fast path of `WireJSON.encode` (issue 16: Foundation's JSONEncoder was 11 % of the controller's time
/// under durable submissions, encoding each 201's job view; a fifth of that converted the same keys to
/// snake_case again for every value). It writes what Foundation writes with `.convertToSnakeCase`,
/// `.sortedKeys` and `.withoutEscapingSlashes`, byte for byte, for what our types hold: objects with ASCII
/// keys, strings without control characters, integers and booleans. Anything else (a float, a date, a
/// control character, a key twice) throws `Unsupported` and the caller asks Foundation; a type whose
/// `encode(to:)` swallows that error is given to Foundation too. FastJSONEncoderTests compares the two on the
/// wire types.
extension FastJSON {
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let session = Session()
        let node = try node(for: value, session)
        guard !session.gaveUp else { throw Unsupported() }
        var out: [UInt8] = []
        out.reserveCapacity(session.text.count + 64)
        try node.write(to: &out, session.text)
        return out
    }

    static func node<T: Encodable>(for value: T, _ session: Session) throws -> Node {
        // Foundation has strategies of its own for these; they are not on the wire.
        if T.self == Date.self || T.self == Data.self || T.self == URL.self || T.self == Decimal.self {
            throw session.giveUp()
        }
        // [String: V] keeps its keys as they are (Foundation does not convert a dictionary's keys).
        if let dictionary = value as? any StringKeyedEncodable { return try dictionary.fastNode(session) }
        let encoder = NodeEncoder(session: session)
        try value.encode(to: encoder)
        return encoder.node
    }

    /// A JSON value being built: a scalar, an object's keys (converted) and values, or an array. Scalars'
    /// text goes into the session's one buffer, and nodes name their ranges: one allocation per object or
    /// array rather than one per value.
    final class Node {
        enum Kind { case unset, scalar, object, array }
        enum Child {
            case text(Range<Int>)
            case node(Node)
        }
        var kind: Kind
        var text: Range<Int> = 0..<0
        var keys: [String] = []
        var children: [Child] = []
        /// Keys all ASCII (a struct's, converted): ordered by `<`, which is their bytes' order and faster.
        var asciiKeys = true

        init(_ kind: Kind = .unset) { self.kind = kind }

        init(text: Range<Int>) {
            kind = .scalar
            self.text = text
        }

        var asChild: Child { kind == .scalar ? .text(text) : .node(self) }

        func take(_ other: Node) {
            (kind, text, keys, children, asciiKeys) = (
                other.kind, other.text, other.keys, other.children, other.asciiKeys
            )
        }

        func write(to out: inout [UInt8], _ text: [UInt8]) throws {
            switch kind {
            case .unset:
                // A value that encoded nothing: Foundation's rules for it differ by place.
                throw Unsupported()
            case .scalar:
                out += text[self.text]
            case .array:
                out.append(UInt8(ascii: "["))
                for (index, child) in children.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    try Self.write(child, to: &out, text)
                }
                out.append(UInt8(ascii: "]"))
            case .object:
                let order =
                    asciiKeys
                    ? keys.indices.sorted { keys[$0] < keys[$1] }
                    : keys.indices.sorted { keys[$0].utf8.lexicographicallyPrecedes(keys[$1].utf8) }
                out.append(UInt8(ascii: "{"))
                for (position, index) in order.enumerated() {
                    if position > 0 {
                        guard keys[index] != keys[order[position - 1]] else { throw Unsupported() }
                        out.append(UInt8(ascii: ","))
                    }
                    try FastJSON.appendString(keys[index], to: &out, nil)
                    out.append(UInt8(ascii: ":"))
                    try Self.write(children[index], to: &out, text)
                }
                out.append(UInt8(ascii: "}"))
            }
        }

        static func write(_ child: Child, to out: inout [UInt8], _ text: [UInt8]) throws {
            switch child {
            case .text(let range): out += text[range]
            case .node(let node): try node.write(to: &out, text)
            }
        }
    }

    /// A JSON string: `"`, `\`, tab and line ends escaped, `/` not (`.withoutEscapingSlashes`), other text as UTF-8.
    static func appendString(_ string: String, to out: inout [UInt8], _ session: Session?) throws {
        out.append(UInt8(ascii: "\""))
        // Most text needs no escape: copied whole.
        if !string.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += string.utf8
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case 0x0A:
                out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D:
                out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09:
                out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                // Other control characters: Foundation's escapes are its own business.
                throw session?.giveUp() ?? Unsupported()
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A key as `.convertToSnakeCase` writes it. Converted again each time, on the stack: a cache shared by the
    /// encoding threads cost more in its lock than the conversion does.
    static func snakeCased(_ key: String, _ session: Session) throws -> String {
        guard let converted = convertToSnakeCase(key) else { throw session.giveUp() }
        return converted
    }

    /// Foundation's conversion for ASCII keys: words start at a capital, a run of capitals is a word (its last
    /// capital starting the next word when a lowercase letter follows), words are lowercased and joined by "_".
    /// The search for a capital starts at the second character, as Foundation's does. Nil for other keys.
    static func convertToSnakeCase(_ key: String) -> String? {
        var text = key
        return text.withUTF8 { bytes -> String? in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            guard bytes.contains(where: isUpper) else { return key }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count * 2) { out -> String in
                var written = 0
                func emit(_ range: Range<Int>) {
                    if written > 0 || range.lowerBound > 0 {
                        out[written] = UInt8(ascii: "_")
                        written += 1
                    }
                    for index in range {
                        out[written] = isUpper(bytes[index]) ? bytes[index] + 32 : bytes[index]
                        written += 1
                    }
                }
                var wordStart = 0
                var searchStart = 1
                while let upper = bytes[min(searchStart, bytes.count)...].firstIndex(where: isUpper) {
                    emit(wordStart..<upper)
                    guard let lower = bytes[upper...].firstIndex(where: isLower) else {
                        wordStart = upper
                        break
                    }
                    if lower == upper + 1 {
                        wordStart = upper
                    } else {
                        emit(upper..<(lower - 1))
                        wordStart = lower - 1
                    }
                    searchStart = lower + 1
                }
                emit(wordStart..<bytes.count)
                return String(decoding: UnsafeBufferPointer(rebasing: out[..<written]), as: UTF8.self)
            }
        }
    }

    static func isUpper(_ byte: UInt8) -> Bool { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) }
    static func isLower(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) }
}

/// `[String: V]` for `FastJSON.node`: its keys as they are.
protocol StringKeyedEncodable {
    func fastNode(_ session: FastJSON.Session) throws -> FastJSON.Node
}

extension Dictionary: StringKeyedEncodable where Key == String, Value: Encodable {
    func fastNode(_ session: FastJSON.Session) throws -> FastJSON.Node {
        let node = FastJSON.Node(.object)
        node.keys.reserveCapacity(count)
        node.children.reserveCapacity(count)
        for (key, value) in self {
            if node.asciiKeys && !key.utf8.allSatisfy({ $0 < 0x80 }) { node.asciiKeys = false }
            node.keys.append(key)
            node.children.append(try FastJSON.node(for: value, session).asChild)
        }
        return node
    }
}
