/// Reads and writes the TOML subset Corral's config and job spec files use: TOML 1.0 without dates and
/// times. Inline tables may also span lines and end with a comma, as TOML 1.1 allows.
public enum TOML {
    /// Larger input is refused before parsing.
    public static let maxInputBytes = 1 << 20
    /// Deepest nesting of tables, arrays and inline tables (counting every key of a dotted key or header).
    public static let maxDepth = 64

    /// Parses a whole document. Errors carry the line they were found on.
    public static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        let size = text.utf8.count
        guard size <= maxInputBytes else {
            throw TOMLError(line: 1, message: "input is \(size) bytes; the limit is \(maxInputBytes) (1 MiB)")
        }
        var parser = TOMLParser(Array(text.utf8))
        return try parser.parseDocument()
    }
}

// MARK: - The document tree while parsing

/// Tables under construction are reference types so headers and dotted keys can reach into them; they
/// become `TOMLTable` values at the end.
private final class TableNode {
    enum Kind {
        /// Created as the parent of a header (`[a.b]` creates `a`): a later `[a]` may still define it.
        case implicit
        /// Defined by a `[header]` or `[[header]]` (or the root).
        case header
        /// Created by a dotted key (`a.b = 1` creates `a`): only more dotted keys in the same table may add to it.
        case dotted
    }

    enum Entry {
        /// A value written after `=`, including inline tables and arrays: sealed.
        case value(TOMLValue)
        case table(TableNode)
        case arrayOfTables(ArrayOfTables)
    }

    var kind: Kind
    var keys: [String] = []
    var entries: [String: Entry] = [:]

    init(kind: Kind) { self.kind = kind }

    func add(_ key: String, _ entry: Entry) {
        if entries.updateValue(entry, forKey: key) == nil { keys.append(key) }
    }

    func toTable() -> TOMLTable {
        var table = TOMLTable()
        for key in keys {
            switch entries[key] {
            case .value(let value):
                table.set(key, value)
            case .table(let node):
                table.set(key, .table(node.toTable()))
            case .arrayOfTables(let array):
                table.set(key, .array(array.elements.map { .table($0.toTable()) }))
            case nil:
                break
            }
        }
        return table
    }
}

private final class ArrayOfTables {
    var elements: [TableNode] = []
}

// MARK: - The parser

private enum Byte {
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

private struct TOMLParser {
    let bytes: [UInt8]
    var position = 0
    var line = 1
    let root = TableNode(kind: .header)
    var current: TableNode
    var currentPath: [String] = []

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        current = root
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }  // a UTF-8 byte order mark
    }

    // MARK: Document

    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        while position < bytes.count {
            skipWhitespace()
            guard let byte = peek() else { break }
            switch byte {
            case Byte.hash:
                skipComment()
            case Byte.newline, Byte.carriageReturn:
                try consumeNewline()
            case Byte.openBracket:
                try parseHeader()
            default:
                try parseKeyValue(into: current, basePath: currentPath)
                try expectLineEnd(after: "value")
            }
        }
        return root.toTable()
    }

    mutating func parseHeader() throws(TOMLError) {
        let headerLine = line
        position += 1
        let isArray = peek() == Byte.openBracket
        if isArray { position += 1 }
        skipWhitespace()
        let path = try parseKey()
        skipWhitespace()
        guard peek() == Byte.closeBracket, !isArray || peek(1) == Byte.closeBracket else {
            throw error("expected '\(isArray ? "]]" : "]")' to close the table header, found \(describeCurrent())")
        }
        position += isArray ? 2 : 1
        guard path.count <= TOML.maxDepth else {
            throw TOMLError(line: headerLine, message: "table header nests deeper than \(TOML.maxDepth) levels")
        }

        var node = root
        for (offset, key) in path.dropLast().enumerated() {
            let shown = Self.display(Array(path[...offset]))
            switch node.entries[key] {
            case nil:
                let child = TableNode(kind: .implicit)
                node.add(key, .table(child))
                node = child
            case .table(let child):
                node = child
            case .arrayOfTables(let array):
                guard let last = array.elements.last else { throw error("\(shown) is an empty array") }
                node = last
            case .value(let value):
                throw error("cannot define table [\(Self.display(path))]: \(shown) is already \(Self.article(value))")
            }
        }
        let key = path[path.count - 1]
        let shown = Self.display(path)
        if isArray {
            switch node.entries[key] {
            case nil:
                let array = ArrayOfTables()
                node.add(key, .arrayOfTables(array))
                let element = TableNode(kind: .header)
                array.elements.append(element)
                node = element
            case .arrayOfTables(let array):
                let element = TableNode(kind: .header)
                array.elements.append(element)
                node = element
            case .table:
                throw error("cannot define array of tables [[\(shown)]]: \(shown) is already a table")
            case .value(let value):
                throw error("cannot define array of tables [[\(shown)]]: \(shown) is already \(Self.article(value))")
            }
        } else {
            switch node.entries[key] {
            case nil:
                let child = TableNode(kind: .header)
                node.add(key, .table(child))
                node = child
            case .table(let child) where child.kind == .implicit:
                child.kind = .header
                node = child
            case .table:
                throw error("table [\(shown)] is defined more than once")
            case .arrayOfTables:
                throw error("cannot define table [\(shown)]: \(shown) is already an array of tables")
            case .value(let value):
                throw error("cannot define table [\(shown)]: \(shown) is already \(Self.article(value))")
            }
        }
        current = node
        currentPath = path
        try expectLineEnd(after: "table header")
    }

    /// `key = value` (the key may be dotted), inserted into `table`.
    mutating func parseKeyValue(into table: TableNode, basePath: [String]) throws(TOMLError) {
        let keyLine = line
        let keys = try parseKey()
        skipWhitespace()
        guard peek() == Byte.equals else {
            throw error("expected '=' after key \(Self.display(keys)), found \(describeCurrent())")
        }
        position += 1
        skipWhitespace()
        let value = try parseValue(depth: basePath.count + keys.count)
        try insert(keys, value, into: table, basePath: basePath, line: keyLine)
    }

    func insert(
        _ keys: [String],
        _ value: TOMLValue,
        into table: TableNode,
        basePath: [String],
        line keyLine: Int
    ) throws(TOMLError) {
        var node = table
        for (offset, key) in keys.dropLast().enumerated() {
            let shown = Self.display(basePath + keys[...offset])
            switch node.entries[key] {
            case nil:
                let child = TableNode(kind: .dotted)
                node.add(key, .table(child))
                node = child
            case .table(let child) where child.kind == .dotted:
                node = child
            case .table:
                throw TOMLError(
                    line: keyLine,
                    message: "cannot add \(Self.display(basePath + keys)) with a dotted key: table \(shown) is "
                        + "defined by a [header]; write the key under that header"
                )
            case .arrayOfTables:
                throw TOMLError(line: keyLine, message: "\(shown) is an array of tables, not a table")
            case .value(let existing):
                throw TOMLError(line: keyLine, message: "\(shown) is already \(Self.article(existing))")
            }
        }
        let key = keys[keys.count - 1]
        guard node.entries[key] == nil else {
            throw TOMLError(line: keyLine, message: "duplicate key \(Self.display(basePath + keys))")
        }
        node.add(key, .value(value))
    }

    // MARK: Keys

    /// A possibly dotted key: `a`, `a.b`, `"a b".'c'`, with spaces allowed around the dots.
    mutating func parseKey() throws(TOMLError) -> [String] {
        var parts: [String] = []
        while true {
            skipWhitespace()
            guard let byte = peek() else { throw error("expected a key, found end of input") }
            switch byte {
            case Byte.quote:
                if peek(1) == Byte.quote && peek(2) == Byte.quote {
                    throw error("a key cannot be a multi-line string")
                }
                parts.append(try parseBasicString())
            case Byte.apostrophe:
                if peek(1) == Byte.apostrophe && peek(2) == Byte.apostrophe {
                    throw error("a key cannot be a multi-line string")
                }
                parts.append(try parseLiteralString())
            default:
                let start = position
                while let next = peek(), Byte.isBareKey(next) { position += 1 }
                guard position > start else { throw error("expected a key, found \(describeCurrent())") }
                parts.append(String(decoding: bytes[start..<position], as: UTF8.self))
            }
            if parts.count > TOML.maxDepth {
                throw error("key has more than \(TOML.maxDepth) parts")
            }
            skipWhitespace()
            guard peek() == Byte.dot else { return parts }
            position += 1
        }
    }

    // MARK: Values

    mutating func parseValue(depth: Int) throws(TOMLError) -> TOMLValue {
        guard depth <= TOML.maxDepth else { throw error("nesting deeper than \(TOML.maxDepth) levels") }
        guard let byte = peek() else { throw error("expected a value, found end of input") }
        switch byte {
        case Byte.quote:
            if peek(1) == Byte.quote && peek(2) == Byte.quote { return .string(try parseMultilineBasicString()) }
            return .string(try parseBasicString())
        case Byte.apostrophe:
            if peek(1) == Byte.apostrophe && peek(2) == Byte.apostrophe {
                return .string(try parseMultilineLiteralString())
            }
            return .string(try parseLiteralString())
        case Byte.openBracket:
            return try parseArray(depth: depth + 1)
        case Byte.openBrace:
            return try parseInlineTable(depth: depth + 1)
        case Byte.newline, Byte.carriageReturn, Byte.hash:
            throw error("expected a value after '='")
        default:
            return try parseScalarWord()
        }
    }

    mutating func parseArray(depth: Int) throws(TOMLError) -> TOMLValue {
        let unterminated = TOMLError(line: line, message: "unterminated array: no ']' before the end of the input")
        position += 1
        var items: [TOMLValue] = []
        while true {
            try skipBlank(unterminated: unterminated)
            if peek() == Byte.closeBracket {
                position += 1
                return .array(items)
            }
            items.append(try parseValue(depth: depth))
            try skipBlank(unterminated: unterminated)
            switch peek() {
            case Byte.comma:
                position += 1
            case Byte.closeBracket:
                position += 1
                return .array(items)
            default:
                throw error("expected ',' or ']' in array, found \(describeCurrent())")
            }
        }
    }

    mutating func parseInlineTable(depth: Int) throws(TOMLError) -> TOMLValue {
        let unterminated = TOMLError(
            line: line,
            message: "unterminated inline table: no '}' before the end of the input"
        )
        position += 1
        let node = TableNode(kind: .header)
        try skipBlank(unterminated: unterminated)
        if peek() == Byte.closeBrace {
            position += 1
            return .table(node.toTable())
        }
        while true {
            let keyLine = line
            let keys = try parseKey()
            skipWhitespace()
            guard peek() == Byte.equals else {
                throw error("expected '=' after key \(Self.display(keys)), found \(describeCurrent())")
            }
            position += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + keys.count - 1)
            try insert(keys, value, into: node, basePath: [], line: keyLine)
            try skipBlank(unterminated: unterminated)
            switch peek() {
            case Byte.comma:
                position += 1
                try skipBlank(unterminated: unterminated)
                if peek() == Byte.closeBrace {
                    position += 1
                    return .table(node.toTable())
                }
            case Byte.closeBrace:
                position += 1
                return .table(node.toTable())
            default:
                throw error("expected ',' or '}' in inline table, found \(describeCurrent())")
            }
        }
    }

    /// Booleans, integers and floats: one word of `[A-Za-z0-9_+.:-]`.
    mutating func parseScalarWord() throws(TOMLError) -> TOMLValue {
        let start = position
        while let byte = peek(),
            Byte.isBareKey(byte) || byte == Byte.plus || byte == Byte.dot || byte == Byte.colon
        {
            position += 1
        }
        let word = String(decoding: bytes[start..<position], as: UTF8.self)
        guard !word.isEmpty else { throw error("expected a value, found \(describeCurrent())") }
        switch word {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        if Self.looksLikeDateOrTime(word) {
            throw error("dates and times are not supported (\(word)); use a string")
        }
        if let first = word.utf8.first, first == Byte.dot {
            throw error("invalid number '\(word)': a float needs a digit before the '.'")
        }
        if let first = word.utf8.first, !(Byte.isDigit(first) || first == Byte.plus || first == Byte.minus) {
            throw error("invalid value '\(word)' (strings must be quoted)")
        }
        if word.hasPrefix("0x") || word.hasPrefix("0o") || word.hasPrefix("0b") {
            return .integer(try parseRadixInteger(word))
        }
        if word.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            return .float(try parseFloat(word))
        }
        return .integer(try parseDecimalInteger(word))
    }

    func parseDecimalInteger(_ word: String) throws(TOMLError) -> Int64 {
        var digits = Substring(word)
        if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
        guard Self.validDigits(digits, radix: 10) else { throw error("invalid number '\(word)'") }
        if digits.count > 1 && digits.first == "0" { throw error("invalid number '\(word)': leading zero") }
        let cleaned = word.filter { $0 != "_" }
        guard let value = Int64(cleaned) else {
            throw error("integer \(word) does not fit in 64 bits (integer overflow)")
        }
        return value
    }

    func parseRadixInteger(_ word: String) throws(TOMLError) -> Int64 {
        let radix: Int
        switch word.prefix(2) {
        case "0x": radix = 16
        case "0o": radix = 8
        default: radix = 2
        }
        let digits = word.dropFirst(2)
        guard Self.validDigits(digits, radix: radix) else { throw error("invalid number '\(word)'") }
        guard let value = Int64(digits.filter { $0 != "_" }, radix: radix) else {
            throw error("integer \(word) does not fit in 64 bits (integer overflow)")
        }
        return value
    }

    func parseFloat(_ word: String) throws(TOMLError) -> Double {
        var rest = Substring(word)
        if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
        let exponentIndex = rest.firstIndex { $0 == "e" || $0 == "E" }
        let mantissa = rest[..<(exponentIndex ?? rest.endIndex)]
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, Self.validDigits(parts[0], radix: 10),
            parts.count == 1 || Self.validDigits(parts[1], radix: 10)
        else { throw error("invalid number '\(word)'") }
        if parts[0].count > 1 && parts[0].first == "0" { throw error("invalid number '\(word)': leading zero") }
        if let exponentIndex {
            var exponent = rest[rest.index(after: exponentIndex)...]
            if exponent.first == "+" || exponent.first == "-" { exponent = exponent.dropFirst() }
            guard Self.validDigits(exponent, radix: 10) else { throw error("invalid number '\(word)'") }
        }
        guard let value = Double(word.filter { $0 != "_" }) else { throw error("invalid number '\(word)'") }
        guard value.isFinite else { throw error("float \(word) is out of range") }
        return value
    }

    /// Non-empty digits of `radix`, with single underscores only between digits.
    static func validDigits(_ text: Substring, radix: Int) -> Bool {
        guard let first = text.first, let last = text.last, first != "_", last != "_" else { return false }
        var previousUnderscore = false
        for character in text {
            if character == "_" {
                if previousUnderscore { return false }
                previousUnderscore = true
            } else {
                guard character.isASCII, character.hexDigitValue.map({ $0 < radix }) == true else { return false }
                previousUnderscore = false
            }
        }
        return true
    }

    /// `1979-05-27`, `07:32:00`, `1979-05-27T07:32:00Z`.
    static func looksLikeDateOrTime(_ word: String) -> Bool {
        let utf8 = Array(word.utf8)
        if utf8.count >= 5, utf8[0..<4].allSatisfy(Byte.isDigit), utf8[4] == Byte.minus { return true }
        if utf8.count >= 3, utf8[0..<2].allSatisfy(Byte.isDigit), utf8[2] == Byte.colon { return true }
        return false
    }

    // MARK: Strings

    mutating func parseBasicString() throws(TOMLError) -> String {
        let openLine = line
        position += 1
        var out: [UInt8] = []
        while true {
            guard let byte = peek(), byte != Byte.newline, byte != Byte.carriageReturn else {
                throw TOMLError(line: openLine, message: "unterminated string")
            }
            switch byte {
            case Byte.quote:
                position += 1
                return String(decoding: out, as: UTF8.self)
            case Byte.backslash:
                try parseEscape(into: &out)
            default:
                try checkControl(byte, in: "string")
                out.append(byte)
                position += 1
            }
        }
    }

    mutating func parseMultilineBasicString() throws(TOMLError) -> String {
        let openLine = line
        position += 3
        try skipNewlineAfterOpeningDelimiter()
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else {
                throw TOMLError(line: openLine, message: "unterminated multi-line string")
            }
            switch byte {
            case Byte.quote:
                if try closesMultiline(Byte.quote, into: &out) { return String(decoding: out, as: UTF8.self) }
            case Byte.backslash:
                if lineEndingBackslash() {
                    try skipBlankAfterLineEndingBackslash()
                } else {
                    try parseEscape(into: &out)
                }
            case Byte.newline, Byte.carriageReturn:
                try consumeNewline()
                out.append(Byte.newline)
            default:
                try checkControl(byte, in: "string")
                out.append(byte)
                position += 1
            }
        }
    }

    mutating func parseLiteralString() throws(TOMLError) -> String {
        let openLine = line
        position += 1
        let start = position
        while true {
            guard let byte = peek(), byte != Byte.newline, byte != Byte.carriageReturn else {
                throw TOMLError(line: openLine, message: "unterminated string")
            }
            if byte == Byte.apostrophe {
                let text = String(decoding: bytes[start..<position], as: UTF8.self)
                position += 1
                return text
            }
            try checkControl(byte, in: "string")
            position += 1
        }
    }

    mutating func parseMultilineLiteralString() throws(TOMLError) -> String {
        let openLine = line
        position += 3
        try skipNewlineAfterOpeningDelimiter()
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else {
                throw TOMLError(line: openLine, message: "unterminated multi-line string")
            }
            switch byte {
            case Byte.apostrophe:
                if try closesMultiline(Byte.apostrophe, into: &out) { return String(decoding: out, as: UTF8.self) }
            case Byte.newline, Byte.carriageReturn:
                try consumeNewline()
                out.append(Byte.newline)
            default:
                try checkControl(byte, in: "string")
                out.append(byte)
                position += 1
            }
        }
    }

    /// At a run of `delimiter`s inside a multi-line string: three or more close it (up to two more belong
    /// to the content); fewer are content.
    mutating func closesMultiline(_ delimiter: UInt8, into out: inout [UInt8]) throws(TOMLError) -> Bool {
        var run = 0
        while peek() == delimiter {
            run += 1
            position += 1
        }
        if run < 3 {
            out.append(contentsOf: repeatElement(delimiter, count: run))
            return false
        }
        guard run <= 5 else { throw error("too many quotes closing a multi-line string") }
        out.append(contentsOf: repeatElement(delimiter, count: run - 3))
        return true
    }

    mutating func skipNewlineAfterOpeningDelimiter() throws(TOMLError) {
        if peek() == Byte.newline || (peek() == Byte.carriageReturn && peek(1) == Byte.newline) {
            try consumeNewline()
        }
    }

    /// A backslash followed only by spaces up to the end of the line.
    func lineEndingBackslash() -> Bool {
        var index = position + 1
        while index < bytes.count, bytes[index] == Byte.space || bytes[index] == Byte.tab { index += 1 }
        guard index < bytes.count else { return false }
        return bytes[index] == Byte.newline || bytes[index] == Byte.carriageReturn
    }

    mutating func skipBlankAfterLineEndingBackslash() throws(TOMLError) {
        position += 1
        while let byte = peek() {
            if byte == Byte.space || byte == Byte.tab {
                position += 1
            } else if byte == Byte.newline || byte == Byte.carriageReturn {
                try consumeNewline()
            } else {
                return
            }
        }
    }

    mutating func parseEscape(into out: inout [UInt8]) throws(TOMLError) {
        position += 1  // the backslash
        guard let byte = peek() else { throw error("unterminated string") }
        position += 1
        switch byte {
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "t"): out.append(Byte.tab)
        case UInt8(ascii: "n"): out.append(Byte.newline)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "r"): out.append(Byte.carriageReturn)
        case UInt8(ascii: "e"): out.append(0x1B)  // TOML 1.1
        case Byte.quote: out.append(Byte.quote)
        case Byte.backslash: out.append(Byte.backslash)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let length = byte == UInt8(ascii: "u") ? 4 : 8
            guard position + length <= bytes.count else { throw error("incomplete unicode escape") }
            let hex = String(decoding: bytes[position..<position + length], as: UTF8.self)
            guard hex.allSatisfy(\.isHexDigit), let code = UInt32(hex, radix: 16) else {
                throw error("invalid unicode escape \\\(Character(Unicode.Scalar(byte)))\(hex)")
            }
            guard let scalar = Unicode.Scalar(code) else {
                throw error("invalid unicode escape \\\(Character(Unicode.Scalar(byte)))\(hex): not a Unicode scalar")
            }
            position += length
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            position -= 1
            throw error("invalid escape \\\(describeByte(at: position))")
        }
    }

    func checkControl(_ byte: UInt8, in context: String) throws(TOMLError) {
        if (byte < Byte.space && byte != Byte.tab) || byte == Byte.delete {
            let code = String(byte, radix: 16, uppercase: true)
            throw error("control character U+\(String(repeating: "0", count: 4 - code.count))\(code) in \(context)")
        }
    }

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
