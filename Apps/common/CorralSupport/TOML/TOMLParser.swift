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

/// A single pass over the bytes of a document (`TOML.parse`): headers, key/value lines and keys here; values,
/// strings, and the scanning of blanks, comments and errors in the `TOMLParser+*.swift` extensions.
struct TOMLParser {
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
}
