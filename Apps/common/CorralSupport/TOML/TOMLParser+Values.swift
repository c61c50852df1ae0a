/// Values after `=`: arrays, inline tables, booleans, integers and floats (strings are in +Strings).
extension TOMLParser {
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
}
