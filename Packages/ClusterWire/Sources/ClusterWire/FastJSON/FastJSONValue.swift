/// The fast path of `WireJSON.decode` (issue 16: Foundation's JSONDecoder was half of the controller's time
/// under 10,000 heartbeating nodes). A parse into values, then a `Decoder` over them. It decodes what our
/// clients send (snake_case keys, plain numbers, UTF-8 text) and gives up on anything else by throwing
/// `FastJSON.Unsupported`, never by guessing: the caller then decodes with Foundation, which has the last word
/// on every error and on every unusual input. So a value it returns must be the value Foundation returns
/// (FastJSONTests checks that on every wire type and on hostile inputs).
enum FastJSON {
    struct Unsupported: Error {}

    indirect enum Value {
        case null
        case bool(Bool)
        /// The number's text, checked against JSON's grammar.
        case number(String)
        case string(String)
        case array([Value])
        /// Members in order, keys as sent.
        case object([(key: String, value: Value)])
    }

    static let maxDepth = 128

    static func parse(_ bytes: [UInt8]) throws(Unsupported) -> Value {
        try bytes.withUnsafeBufferPointer { (buffer) throws(Unsupported) -> Value in
            var parser = Parser(bytes: buffer)
            let value = try parser.value(depth: 0)
            parser.skipWhitespace()
            guard parser.index == buffer.count else { throw Unsupported() }
            return value
        }
    }

    struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws(Unsupported) -> Value {
            guard depth < FastJSON.maxDepth else { throw Unsupported() }
            skipWhitespace()
            guard index < bytes.count else { throw Unsupported() }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default: return .number(try number())
            }
        }

        mutating func literal(_ text: StaticString, _ value: Value) throws(Unsupported) -> Value {
            let count = text.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw Unsupported() }
            for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { throw Unsupported() }
            index += count
            return value
        }

        mutating func object(depth: Int) throws(Unsupported) -> Value {
            index += 1
            var members: [(key: String, value: Value)] = []
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Unsupported() }
                let key = try string()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw Unsupported() }
                index += 1
                members.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                guard index < bytes.count else { throw Unsupported() }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(members)
                } else {
                    throw Unsupported()
                }
            }
        }

        mutating func array(depth: Int) throws(Unsupported) -> Value {
            index += 1
            var items: [Value] = []
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            while true {
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard index < bytes.count else { throw Unsupported() }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(items)
                } else {
                    throw Unsupported()
                }
            }
        }

        /// A string in valid UTF-8 without control characters, with the one-letter escapes at most (`\u` is
        /// Foundation's).
        mutating func string() throws(Unsupported) -> String {
            index += 1
            var text: [UInt8] = []
            var start = index
            var ascii = true
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let tail = UnsafeBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    if text.isEmpty && ascii { return String(decoding: tail, as: UTF8.self) }
                    text += tail
                    guard let valid = String(validating: text, as: UTF8.self) else { throw Unsupported() }
                    return valid
                }
                if byte < 0x20 { throw Unsupported() }
                if byte >= 0x80 { ascii = false }
                if byte == UInt8(ascii: "\\") {
                    text += UnsafeBufferPointer(rebasing: bytes[start..<index])
                    guard index + 1 < bytes.count else { throw Unsupported() }
                    switch bytes[index + 1] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(bytes[index + 1])
                    case UInt8(ascii: "n"): text.append(0x0A)
                    case UInt8(ascii: "t"): text.append(0x09)
                    case UInt8(ascii: "r"): text.append(0x0D)
                    case UInt8(ascii: "b"): text.append(0x08)
                    case UInt8(ascii: "f"): text.append(0x0C)
                    default: throw Unsupported()
                    }
                    index += 2
                    start = index
                    continue
                }
                index += 1
            }
            throw Unsupported()
        }

        /// JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
        mutating func number() throws(Unsupported) -> String {
            let start = index
            func digits(_ parser: inout Parser) -> Int {
                let from = parser.index
                while parser.index < parser.bytes.count, (0x30...0x39).contains(parser.bytes[parser.index]) {
                    parser.index += 1
                }
                return parser.index - from
            }
            if index < bytes.count && bytes[index] == UInt8(ascii: "-") { index += 1 }
            let integer = digits(&self)
            guard integer > 0, integer == 1 || bytes[index - integer] != UInt8(ascii: "0") else { throw Unsupported() }
            if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits(&self) > 0 else { throw Unsupported() }
            }
            if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
                index += 1
                if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                    index += 1
                }
                guard digits(&self) > 0 else { throw Unsupported() }
            }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        }
    }

    /// The key a JSON key names under `.convertFromSnakeCase`, for the keys it is sure of (ASCII letters,
    /// digits and underscores): underscores at either end stay, the rest is split at underscores, and, when
    /// there are several words, the first is lowercased and each other one capitalized, a letter after a
    /// digit starting a new word ("gpu_2x" is "gpu2X"), as Foundation does.
    static func camelCase(_ key: String) throws(Unsupported) -> String {
        let utf8 = key.utf8
        guard utf8.contains(UInt8(ascii: "_")) else { return key }
        var bytes = Array(utf8)
        for byte in bytes {
            let isLetter = (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            guard isLetter || (0x30...0x39).contains(byte) || byte == UInt8(ascii: "_") else { throw Unsupported() }
        }
        guard let first = bytes.firstIndex(where: { $0 != UInt8(ascii: "_") }) else { return key }
        let last = bytes.lastIndex(where: { $0 != UInt8(ascii: "_") })!
        let words = bytes[first...last].split(separator: UInt8(ascii: "_"))
        guard words.count > 1 else { return key }
        var out = Array(bytes[..<first])
        for (number, word) in words.enumerated() {
            var previousIsLetter = false
            for byte in word {
                let isUpper = (0x41...0x5A).contains(byte)
                let isLetter = isUpper || (0x61...0x7A).contains(byte)
                if !isLetter {
                    out.append(byte)
                } else if number == 0 || previousIsLetter {
                    out.append(isUpper ? byte + 32 : byte)
                } else {
                    out.append(isUpper ? byte : byte - 32)
                }
                previousIsLetter = isLetter
            }
        }
        out += bytes[(last + 1)...]
        bytes = out
        return String(decoding: bytes, as: UTF8.self)
    }
}
