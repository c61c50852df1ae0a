/// The ASCII bytes the grammar names (the parser works on UTF-8 bytes, never on Characters).
enum Byte {
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22  // "
    static let hash: UInt8 = 0x23  // #
    static let apostrophe: UInt8 = 0x27  // '
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let colon: UInt8 = 0x3A
    static let equals: UInt8 = 0x3D
    static let openBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D
    static let underscore: UInt8 = 0x5F
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
    static let delete: UInt8 = 0x7F

    static func isDigit(_ byte: UInt8) -> Bool { byte >= zero && byte <= nine }

    static func isBareKey(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == minus
            || byte == underscore
    }
}

/// Blanks, comments, newlines, and errors that name the line and what was found there.
extension TOMLParser {
    // MARK: Blanks, comments, newlines

    func peek(_ offset: Int = 0) -> UInt8? {
        let index = position + offset
        return index < bytes.count ? bytes[index] : nil
    }

    mutating func skipWhitespace() {
        while let byte = peek(), byte == Byte.space || byte == Byte.tab { position += 1 }
    }

    mutating func skipComment() {
        while let byte = peek(), byte != Byte.newline, byte != Byte.carriageReturn { position += 1 }
    }

    mutating func consumeNewline() throws(TOMLError) {
        if peek() == Byte.carriageReturn {
            guard peek(1) == Byte.newline else { throw error("carriage return not followed by a newline") }
            position += 1
        }
        position += 1
        line += 1
    }

    /// Whitespace, comments and newlines (inside arrays and inline tables); throws `unterminated` at the end
    /// of the input (it names the line the array or table was opened on).
    mutating func skipBlank(unterminated: TOMLError) throws(TOMLError) {
        while true {
            skipWhitespace()
            guard let byte = peek() else { throw unterminated }
            switch byte {
            case Byte.hash: skipComment()
            case Byte.newline, Byte.carriageReturn: try consumeNewline()
            default: return
            }
        }
    }

    /// After a value or header: optional whitespace and comment, then a newline or the end.
    mutating func expectLineEnd(after what: String) throws(TOMLError) {
        skipWhitespace()
        if peek() == Byte.hash { skipComment() }
        guard let byte = peek() else { return }
        guard byte == Byte.newline || byte == Byte.carriageReturn else {
            throw error("garbage after \(what): \(describeCurrent()); expected a newline or a # comment")
        }
        try consumeNewline()
    }

    // MARK: Errors

    func error(_ message: String) -> TOMLError {
        TOMLError(line: line, message: message)
    }

    func describeCurrent() -> String {
        guard position < bytes.count else { return "end of input" }
        if bytes[position] == Byte.newline || bytes[position] == Byte.carriageReturn { return "end of line" }
        return "'\(describeByte(at: position))'"
    }

    func describeByte(at index: Int) -> String {
        guard index < bytes.count else { return "end of input" }
        let byte = bytes[index]
        if byte >= Byte.space && byte < Byte.delete { return String(Character(Unicode.Scalar(byte))) }
        if byte >= 0x80,
            let character = String(decoding: bytes[index..<min(index + 4, bytes.count)], as: UTF8.self).first
        {
            return String(character)
        }
        let code = String(byte, radix: 16, uppercase: true)
        return "U+\(String(repeating: "0", count: 4 - code.count))\(code)"
    }

    static func article(_ value: TOMLValue) -> String {
        switch value {
        case .integer: "an integer"
        case .array: "an array"
        case .table: "an inline table"
        default: "a \(value.typeName)"
        }
    }

    static func display<C: Collection<String>>(_ keys: C) -> String {
        keys.map(TOMLWriter.key).joined(separator: ".")
    }
}
